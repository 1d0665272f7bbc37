/* domain.c - words, typos, synonyms and tsquery text (see domain.h). */
#include "services/search/domain.h"

#include <stdio.h>
#include <string.h>

static bool word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c >= 0x80;
}

void search_tokenize(const char *q, struct search_tokens *out) {
  memset(out, 0, sizeof *out);
  const unsigned char *p = (const unsigned char *)(q ? q : "");
  while (*p != '\0' && out->count < SEARCH_MAX_TOKENS) {
    while (*p != '\0' && !word_byte(*p))
      p++;
    if (*p == '\0') break;
    char *w = out->words[out->count];
    size_t n = 0;
    while (*p != '\0' && word_byte(*p)) {
      unsigned char c = *p;
      /* a multi-byte character is kept whole or not at all */
      size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      if (c >= 0x80 && c < 0xc0) len = 1; /* continuation: cannot start */
      if (n + len <= SEARCH_MAX_TOKEN) {
        for (size_t i = 0; i < len && p[i] != '\0'; i++) {
          unsigned char b = p[i];
          w[n++] = (char)(b >= 'A' && b <= 'Z' ? b + 32 : b);
        }
      }
      for (size_t i = 0; i < len && *p != '\0'; i++)
        p++;
    }
    w[n] = '\0';
    if (n > 0) out->count++;
  }
}

char *search_normalize(struct arena *a, const struct search_tokens *t) {
  size_t len = 1;
  for (size_t i = 0; i < t->count; i++)
    len += strlen(t->words[i]) + 1;
  char *s = arena_alloc(a, len);
  if (s == NULL) return NULL;
  s[0] = '\0';
  size_t at = 0;
  for (size_t i = 0; i < t->count; i++) {
    size_t n = strlen(t->words[i]);
    if (i > 0) s[at++] = ' ';
    memcpy(s + at, t->words[i], n);
    at += n;
    s[at] = '\0';
  }
  return s;
}

int search_edit_distance(const char *a, size_t an, const char *b, size_t bn,
                         int max) {
  if (an > SEARCH_MAX_TOKEN * 2 || bn > SEARCH_MAX_TOKEN * 2) return max + 1;
  size_t diff = an > bn ? an - bn : bn - an;
  if (diff > (size_t)max) return max + 1;
  /* three rows of the classic table: i-2, i-1, i */
  int rows[3][SEARCH_MAX_TOKEN * 2 + 1];
  for (size_t j = 0; j <= bn; j++)
    rows[1][j] = (int)j;
  for (size_t i = 1; i <= an; i++) {
    int *cur = rows[(i + 1) % 3], *prev = rows[i % 3], *pp = rows[(i + 2) % 3];
    /* rows: (i+1)%3 = i's row, i%3 = (i-1)'s, (i+2)%3 = (i-2)'s */
    cur[0] = (int)i;
    int best = cur[0];
    int prev_best = prev[0];
    for (size_t j = 1; j <= bn; j++)
      if (prev[j] < prev_best) prev_best = prev[j];
    for (size_t j = 1; j <= bn; j++) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      int v = prev[j] + 1;
      if (cur[j - 1] + 1 < v) v = cur[j - 1] + 1;
      if (prev[j - 1] + cost < v) v = prev[j - 1] + cost;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          pp[j - 2] + 1 < v)
        v = pp[j - 2] + 1;
      cur[j] = v;
      if (v < best) best = v;
    }
    /* a swap reaches back two rows: stop only when both exceed max */
    if (best > max && prev_best > max) return max + 1;
  }
  int d = rows[(an + 1) % 3][bn];
  return d > max ? max + 1 : d;
}

int search_typo_budget(size_t n) { return n >= 9 ? 2 : n >= 5 ? 1 : 0; }

/* Index of the first word >= w. */
static size_t lower_bound(const struct search_vocab *v, const char *w) {
  size_t lo = 0, hi = v->count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(v->words[mid], w) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

bool search_vocab_has(const struct search_vocab *v, const char *w) {
  size_t i = lower_bound(v, w);
  return i < v->count && strcmp(v->words[i], w) == 0;
}

bool search_vocab_has_prefix(const struct search_vocab *v, const char *prefix) {
  size_t i = lower_bound(v, prefix);
  return i < v->count && strncmp(v->words[i], prefix, strlen(prefix)) == 0;
}

static bool plain_ascii_word(const char *w) {
  bool letter = false;
  for (const unsigned char *p = (const unsigned char *)w; *p; p++) {
    if (*p >= 0x80) return false;
    if (*p >= 'a' && *p <= 'z') letter = true;
  }
  return letter;
}

const char *search_vocab_correct(const struct search_vocab *v, const char *w) {
  size_t n = strlen(w);
  int budget = search_typo_budget(n);
  if (budget == 0 || !plain_ascii_word(w)) return NULL;
  const char *best = NULL;
  int best_d = budget + 1;
  int64_t best_count = -1;
  for (size_t i = 0; i < v->count; i++) {
    const char *c = v->words[i];
    size_t cn = strlen(c);
    if (cn + (size_t)budget < n || n + (size_t)budget < cn) continue;
    int d = search_edit_distance(w, n, c, cn, best_d);
    if (d > budget || d == 0) continue;
    if (d < best_d || (d == best_d && v->counts[i] > best_count)) {
      best = c;
      best_d = d;
      best_count = v->counts[i];
    }
  }
  return best;
}

/* --- tsquery text ------------------------------------------------------- */

struct sbuf {
  char *s;
  size_t len, cap;
  bool failed;
};

static void sb_put(struct sbuf *b, const char *s) {
  size_t n = strlen(s);
  if (b->failed || b->len + n + 1 > b->cap) {
    b->failed = true;
    return;
  }
  memcpy(b->s + b->len, s, n + 1);
  b->len += n;
}

/* 'w1' <-> 'w2' ... (one word: 'w1'), with :* on the last word if prefix */
static void put_term(struct sbuf *b, const struct search_tokens *t,
                     bool prefix) {
  if (t->count > 1) sb_put(b, "(");
  for (size_t i = 0; i < t->count; i++) {
    if (i > 0) sb_put(b, " <-> ");
    sb_put(b, "'");
    sb_put(b, t->words[i]);
    sb_put(b, prefix && i + 1 == t->count ? "':*" : "'");
  }
  if (t->count > 1) sb_put(b, ")");
}

/* Does group g hold a term equal to words[at..at+k)? */
static bool group_has(const struct search_syn_group *g,
                      const struct search_tokens *words, size_t at, size_t k) {
  for (size_t t = 0; t < g->term_count; t++) {
    const struct search_tokens *term = &g->terms[t];
    if (term->count != k) continue;
    size_t i = 0;
    while (i < k && strcmp(term->words[i], words->words[at + i]) == 0)
      i++;
    if (i == k) return true;
  }
  return false;
}

bool search_plan_build(struct arena *a, const char *q,
                       const struct search_vocab *vocab,
                       const struct search_synonyms *syn,
                       struct search_plan *out) {
  memset(out, 0, sizeof *out);
  struct search_tokens t;
  search_tokenize(q, &t);
  if (t.count == 0) {
    out->empty = true;
    out->head = "";
    out->normalized = "";
    return true;
  }
  out->normalized = search_normalize(a, &t);
  if (out->normalized == NULL) return false;

  /* typos: a word the catalog does not know (nor, for the word being
   * typed, starts) is replaced by its nearest known word */
  bool corrected = false;
  for (size_t i = 0; i < t.count && vocab->count > 0; i++) {
    const char *w = t.words[i];
    if (search_vocab_has(vocab, w)) continue;
    if (i + 1 == t.count && search_vocab_has_prefix(vocab, w)) continue;
    const char *fix = search_vocab_correct(vocab, w);
    if (fix == NULL || strlen(fix) > SEARCH_MAX_TOKEN) continue;
    snprintf(t.words[i], sizeof t.words[i], "%s", fix);
    corrected = true;
  }
  if (corrected) {
    out->corrected = search_normalize(a, &t);
    if (out->corrected == NULL) return false;
  }

  size_t cap = 256;
  for (size_t g = 0; g < syn->count; g++)
    cap += 64 * syn->groups[g].term_count * SEARCH_MAX_TERM_WORDS;
  cap += t.count * (SEARCH_MAX_TOKEN + 16);
  struct sbuf head = {arena_alloc(a, cap), 0, cap, false};
  struct sbuf last = {arena_alloc(a, cap), 0, cap, false};
  if (head.s == NULL || last.s == NULL) return false;
  head.s[0] = last.s[0] = '\0';

  size_t i = 0;
  while (i < t.count) {
    /* the longest phrase starting here that a synonym group knows */
    const struct search_syn_group *group = NULL;
    size_t k = SEARCH_MAX_TERM_WORDS;
    if (k > t.count - i) k = t.count - i;
    for (; k > 0; k--) {
      for (size_t g = 0; g < syn->count && group == NULL; g++)
        if (group_has(&syn->groups[g], &t, i, k)) group = &syn->groups[g];
      if (group != NULL) break;
    }
    if (group == NULL) k = 1;
    bool is_last = i + k == t.count;
    struct sbuf *b = is_last ? &last : &head;
    if (!is_last && head.len > 0) sb_put(&head, " & ");
    if (group == NULL) {
      struct search_tokens one = {.count = 1};
      memcpy(one.words[0], t.words[i], sizeof one.words[0]);
      put_term(b, &one, is_last);
    } else {
      sb_put(b, "(");
      for (size_t m = 0; m < group->term_count; m++) {
        if (m > 0) sb_put(b, " | ");
        put_term(b, &group->terms[m], false);
      }
      if (is_last) { /* what is typed may still be growing */
        struct search_tokens typed = {.count = k};
        for (size_t j = 0; j < k; j++)
          memcpy(typed.words[j], t.words[i + j], sizeof typed.words[j]);
        sb_put(b, " | ");
        put_term(b, &typed, true);
      }
      sb_put(b, ")");
    }
    i += k;
  }
  if (head.failed || last.failed) return false;
  out->head = head.s;
  out->last = last.s;
  return true;
}

bool search_syn_group_parse(const char *const *terms, size_t n,
                            struct search_syn_group *out, char *why,
                            size_t why_size) {
  memset(out, 0, sizeof *out);
  if (n < 2 || n > SEARCH_MAX_SYN_TERMS) {
    snprintf(why, why_size, "a group has 2 to %d terms", SEARCH_MAX_SYN_TERMS);
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    size_t cps = 0;
    for (const unsigned char *p = (const unsigned char *)terms[i]; *p; p++)
      if ((*p & 0xc0) != 0x80) cps++;
    if (cps == 0 || cps > SEARCH_MAX_SYN_TERM) {
      snprintf(why, why_size, "a term has 1 to %d characters",
               SEARCH_MAX_SYN_TERM);
      return false;
    }
    search_tokenize(terms[i], &out->terms[i]);
    if (out->terms[i].count == 0 ||
        out->terms[i].count > SEARCH_MAX_TERM_WORDS) {
      snprintf(why, why_size, "a term has 1 to %d words (letters or digits)",
               SEARCH_MAX_TERM_WORDS);
      return false;
    }
  }
  out->term_count = n;
  return true;
}
