/* lexicon.c - the in-memory vocabulary, synonyms and suggestion lists
 * (see lexicon.h). Suggestions are found through a sorted array of keys:
 * one per word start of each entry's lowercased text, so "wireless hea"
 * finds "Acme Wireless Headphones" with one binary search. */
#include "services/search/lexicon.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "kit/log.h"

/* Keys scanned per suggestion at most: a one-letter prefix matches a large
 * part of the catalog, and the answer must stay fast. */
#define SUGGEST_SCAN_MAX 4000

enum entry_kind { KIND_CATEGORY = 0, KIND_BRAND, KIND_PRODUCT, KIND_COUNT };
static const char *const kind_names[KIND_COUNT] = {"category", "brand",
                                                   "product"};
static const size_t kind_caps[KIND_COUNT] = {3, 3, SUGGEST_MAX};

struct entry {
  const char *text;
  const char *id;
  int64_t weight;
  enum entry_kind kind;
};

struct key {
  const char *s; /* into a lowercased copy of the entry's text */
  uint32_t entry;
};

struct lexicon {
  struct arena arena;
  const char **words;
  int64_t *counts;
  size_t word_count, word_cap;
  struct entry *entries;
  size_t entry_count, entry_cap;
  struct key *keys;
  size_t key_count, key_cap;
  struct search_syn_group *groups;
  size_t group_count, group_cap;
  size_t products;
  bool failed;
};

static bool grow(void **p, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return true;
  size_t n = *cap ? *cap * 2 : 1024;
  while (n < need)
    n *= 2;
  void *q = realloc(*p, n * size);
  if (q == NULL) return false;
  *p = q;
  *cap = n;
  return true;
}

static void on_word(void *arg, const char *word, int64_t count) {
  struct lexicon *lx = arg;
  if (lx->word_count == lx->word_cap) {
    size_t cap = lx->word_cap ? lx->word_cap * 2 : 1024;
    const char **w = realloc(lx->words, cap * sizeof *w);
    if (w != NULL) lx->words = w;
    int64_t *c = w != NULL ? realloc(lx->counts, cap * sizeof *c) : NULL;
    if (c != NULL) lx->counts = c;
    if (w == NULL || c == NULL) {
      lx->failed = true;
      return;
    }
    lx->word_cap = cap;
  }
  const char *w = arena_strdup(&lx->arena, word);
  if (w == NULL) {
    lx->failed = true;
    return;
  }
  lx->words[lx->word_count] = w;
  lx->counts[lx->word_count] = count;
  lx->word_count++;
}

static void on_entry(void *arg, const char *type, const char *text,
                     const char *id, int64_t weight) {
  struct lexicon *lx = arg;
  enum entry_kind kind = strcmp(type, "category") == 0 ? KIND_CATEGORY
                         : strcmp(type, "brand") == 0  ? KIND_BRAND
                                                       : KIND_PRODUCT;
  if (!grow((void **)&lx->entries, &lx->entry_cap, lx->entry_count + 1,
            sizeof *lx->entries)) {
    lx->failed = true;
    return;
  }
  struct entry *e = &lx->entries[lx->entry_count];
  e->text = arena_strdup(&lx->arena, text);
  e->id = arena_strdup(&lx->arena, id);
  char *lower = arena_strdup(&lx->arena, text);
  if (e->text == NULL || e->id == NULL || lower == NULL) {
    lx->failed = true;
    return;
  }
  e->weight = weight;
  e->kind = kind;
  if (kind == KIND_PRODUCT) lx->products++;
  for (char *p = lower; *p; p++)
    if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
  /* a key at each word start */
  for (char *p = lower; *p; p++) {
    bool start = p == lower || p[-1] == ' ' || p[-1] == '-' || p[-1] == '/';
    if (!start || *p == ' ') continue;
    if (!grow((void **)&lx->keys, &lx->key_cap, lx->key_count + 1,
              sizeof *lx->keys)) {
      lx->failed = true;
      return;
    }
    lx->keys[lx->key_count].s = p;
    lx->keys[lx->key_count].entry = (uint32_t)lx->entry_count;
    lx->key_count++;
  }
  lx->entry_count++;
}

static void on_synonyms(void *arg, const char *terms_json) {
  struct lexicon *lx = arg;
  json_t *arr = json_loads(terms_json, 0, NULL);
  const char *terms[SEARCH_MAX_SYN_TERMS];
  size_t n = 0;
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) {
    if (n < SEARCH_MAX_SYN_TERMS && json_is_string(v))
      terms[n++] = json_string_value(v);
  }
  char why[128];
  if (lx->group_count < SEARCH_MAX_SYN_GROUPS &&
      grow((void **)&lx->groups, &lx->group_cap, lx->group_count + 1,
           sizeof *lx->groups) &&
      search_syn_group_parse(terms, n, &lx->groups[lx->group_count], why,
                             sizeof why))
    lx->group_count++;
  json_decref(arr);
}

static int cmp_key(const void *a, const void *b) {
  const struct key *x = a, *y = b;
  return strcmp(x->s, y->s);
}

/* words with their counts, sorted together */
struct word_ref {
  const char *w;
  int64_t c;
};

static int cmp_word(const void *a, const void *b) {
  return strcmp(((const struct word_ref *)a)->w,
                ((const struct word_ref *)b)->w);
}

struct lexicon *lexicon_build(const struct search_backend *b,
                              struct db_pool *pool) {
  struct lexicon *lx = calloc(1, sizeof *lx);
  if (lx == NULL) return NULL;
  arena_init(&lx->arena, 1 << 16);
  struct search_lexicon_sink sink = {lx, on_word, on_entry, on_synonyms};
  int rc = b->lexicon(pool, &sink);
  if (rc < 0 || lx->failed) {
    log_warn("search: could not load the vocabulary and suggestions (%d)", rc);
    lexicon_free(lx);
    return NULL;
  }
  if (lx->word_count > 0) {
    struct word_ref *refs = malloc(lx->word_count * sizeof *refs);
    if (refs == NULL) {
      lexicon_free(lx);
      return NULL;
    }
    for (size_t i = 0; i < lx->word_count; i++)
      refs[i] = (struct word_ref){lx->words[i], lx->counts[i]};
    qsort(refs, lx->word_count, sizeof *refs, cmp_word);
    for (size_t i = 0; i < lx->word_count; i++) {
      lx->words[i] = refs[i].w;
      lx->counts[i] = refs[i].c;
    }
    free(refs);
  }
  if (lx->key_count > 0)
    qsort(lx->keys, lx->key_count, sizeof *lx->keys, cmp_key);
  return lx;
}

void lexicon_free(struct lexicon *lx) {
  if (lx == NULL) return;
  free(lx->words);
  free(lx->counts);
  free(lx->entries);
  free(lx->keys);
  free(lx->groups);
  arena_free(&lx->arena);
  free(lx);
}

void lexicon_vocab(const struct lexicon *lx, struct search_vocab *out) {
  out->words = lx->words;
  out->counts = lx->counts;
  out->count = lx->word_count;
}

void lexicon_synonyms(const struct lexicon *lx, struct search_synonyms *out) {
  out->groups = lx->groups;
  out->count = lx->group_count;
}

size_t lexicon_product_count(const struct lexicon *lx) { return lx->products; }

size_t lexicon_suggest(const struct lexicon *lx, const char *q,
                       struct suggestion out[SUGGEST_MAX]) {
  char needle[SEARCH_MAX_QUERY * 4 + 1];
  size_t n = 0;
  bool space = true; /* drop leading spaces, collapse the rest */
  for (const char *p = q; *p && n + 1 < sizeof needle; p++) {
    char c = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
    if (c == ' ' || c == '\t') {
      if (space) continue;
      space = true;
    } else {
      space = false;
    }
    needle[n++] = c;
  }
  needle[n] = '\0';
  if (n == 0 || lx->key_count == 0) return 0;

  /* first key >= needle */
  size_t lo = 0, hi = lx->key_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(lx->keys[mid].s, needle) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  /* the best few of each kind, by weight */
  uint32_t best[KIND_COUNT][SUGGEST_MAX];
  size_t have[KIND_COUNT] = {0, 0, 0};
  for (size_t i = lo, scanned = 0;
       i < lx->key_count && scanned < SUGGEST_SCAN_MAX; i++, scanned++) {
    if (strncmp(lx->keys[i].s, needle, n) != 0) break;
    uint32_t e = lx->keys[i].entry;
    const struct entry *en = &lx->entries[e];
    enum entry_kind k = en->kind;
    size_t cap = kind_caps[k];
    bool dup = false; /* the same entry, or another with the same text */
    for (size_t j = 0; j < have[k] && !dup; j++)
      dup = best[k][j] == e ||
            strcmp(lx->entries[best[k][j]].text, en->text) == 0;
    if (dup) continue;
    if (have[k] == cap && lx->entries[best[k][cap - 1]].weight >= en->weight)
      continue;
    size_t at = have[k] < cap ? have[k]++ : cap - 1;
    best[k][at] = e;
    while (at > 0 && lx->entries[best[k][at - 1]].weight <
                         lx->entries[best[k][at]].weight) {
      uint32_t t = best[k][at - 1];
      best[k][at - 1] = best[k][at];
      best[k][at] = t;
      at--;
    }
  }
  size_t count = 0;
  for (int k = 0; k < KIND_COUNT; k++)
    for (size_t j = 0; j < have[k] && count < SUGGEST_MAX; j++) {
      const struct entry *en = &lx->entries[best[k][j]];
      out[count++] = (struct suggestion){en->text, kind_names[k], en->id};
    }
  return count;
}
