/* handlers_search.c - GET /search and GET /search/suggest.
 *
 * /search: parse and check every parameter (422 naming the first bad one,
 * unknown ones included), turn q into a plan (typos, synonyms, prefix: see
 * domain.h) against the in-memory lexicon, run it on the backend (one round
 * trip: items, total, facets), and write the answer as text around the JSON
 * the backend produced. /search/suggest answers from memory alone. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit/handler.h"
#include "kit/json.h"
#include "kit/log.h"
#include "kit/money.h"
#include "kit/uuid.h"
#include "services/search/domain.h"
#include "services/search/internal.h"

#define DEFAULT_LIMIT 20
#define MAX_LIMIT 100
#define MAX_OFFSET 10000
#define MAX_VALUE 100 /* code points of brand, color, size */

static size_t code_points(const char *s) {
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if ((*p & 0xc0) != 0x80) n++;
  return n;
}

/* true when every parameter name of the query string is in names; else
 * *unknown is the first other one (arena copy, decoded when possible). */
static bool only_known(struct http_request *req, const char *const *names,
                       const char **unknown) {
  const char *s = req->query;
  while (s != NULL && *s != '\0') {
    const char *end = strchr(s, '&');
    size_t len = end ? (size_t)(end - s) : strlen(s);
    const char *eq = memchr(s, '=', len);
    size_t nlen = eq ? (size_t)(eq - s) : len;
    if (nlen > 0) {
      char *name = http_decode_component(req->arena, s, nlen, 1);
      bool known = false;
      for (size_t i = 0; name != NULL && names[i] != NULL && !known; i++)
        known = strcmp(names[i], name) == 0;
      if (!known) {
        *unknown = name ? name : "parameter";
        return false;
      }
    }
    s = end ? end + 1 : NULL;
  }
  return true;
}

/* A decimal integer in [min, max] (digits only). */
static bool parse_int(const char *s, long min, long max, int *out) {
  if (s == NULL || *s == '\0' || strlen(s) > 9) return false;
  long v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9') return false;
    v = v * 10 + (*p - '0');
  }
  if (v < min || v > max) return false;
  *out = (int)v;
  return true;
}

static bool bad(struct http_request *req, struct http_response *res,
                const char *field, const char *message) {
  http_reply_error(res, req, API_UNPROCESSABLE, message, field);
  return false;
}

/* A text parameter: valid UTF-8, 1..max code points; NULL when absent. */
static bool text_param(struct http_request *req, struct http_response *res,
                       const char *name, size_t max, const char **out) {
  const char *v = http_query(req, name);
  *out = NULL;
  if (v == NULL) return true;
  if (!json_utf8_valid(v, strlen(v)))
    return bad(req, res, name, "must be valid UTF-8 text");
  size_t n = code_points(v);
  if (n > max) {
    char msg[96];
    snprintf(msg, sizeof msg, "must be at most %zu characters", max);
    return bad(req, res, name, msg);
  }
  *out = n > 0 ? v : NULL;
  return true;
}

struct search_params {
  const char *q;
  struct search_request r;
};

static const char *const search_names[] = {
    "q",         "category_id", "brand",    "color", "size",
    "min_price", "max_price",   "in_stock", "sort",  "limit",
    "offset",    "currency",    NULL};

static bool read_params(struct http_request *req, struct http_response *res,
                        struct search_params *sp) {
  memset(sp, 0, sizeof *sp);
  struct search_request *r = &sp->r;
  r->in_stock = -1;
  r->limit = DEFAULT_LIMIT;
  const char *unknown = NULL;
  if (!only_known(req, search_names, &unknown))
    return bad(req, res, unknown, "unknown parameter");
  if (!text_param(req, res, "q", SEARCH_MAX_QUERY, &sp->q)) return false;
  const char *cat = http_query(req, "category_id");
  if (cat != NULL) {
    char *norm = arena_alloc(req->arena, UUID_STR_LEN);
    if (norm == NULL || !uuid_normalize(cat, norm))
      return bad(req, res, "category_id", "must be a UUID");
    r->category_id = norm;
  }
  if (!text_param(req, res, "brand", MAX_VALUE, &r->brand) ||
      !text_param(req, res, "color", MAX_VALUE, &r->color) ||
      !text_param(req, res, "size", MAX_VALUE, &r->size))
    return false;
  r->currency = http_query(req, "currency");
  if (r->currency != NULL && !money_currency_valid(r->currency))
    return bad(req, res, "currency", "must be an ISO 4217 currency code");
  const char *unit = r->currency ? r->currency : "USD";
  int64_t min = 0, max = 0;
  r->min_price = http_query(req, "min_price");
  if (r->min_price != NULL && money_parse(r->min_price, unit, &min) != KIT_OK)
    return bad(req, res, "min_price",
               "must be a non-negative decimal amount, e.g. 19.99");
  r->max_price = http_query(req, "max_price");
  if (r->max_price != NULL && money_parse(r->max_price, unit, &max) != KIT_OK)
    return bad(req, res, "max_price",
               "must be a non-negative decimal amount, e.g. 19.99");
  if (r->min_price != NULL && r->max_price != NULL && max < min)
    return bad(req, res, "max_price", "must not be below min_price");
  const char *in_stock = http_query(req, "in_stock");
  if (in_stock != NULL) {
    if (strcmp(in_stock, "true") == 0)
      r->in_stock = 1;
    else if (strcmp(in_stock, "false") == 0)
      r->in_stock = 0;
    else
      return bad(req, res, "in_stock", "must be true or false");
  }
  const char *sort = http_query(req, "sort");
  if (sort != NULL) {
    static const char *const sorts[] = {"relevance", "price_asc", "price_desc",
                                        "newest", "rating"};
    size_t i = 0;
    while (i < 5 && strcmp(sorts[i], sort) != 0)
      i++;
    if (i == 5)
      return bad(req, res, "sort",
                 "must be one of: relevance, price_asc, price_desc, newest, "
                 "rating");
    r->sort = (enum search_sort)i;
  }
  const char *limit = http_query(req, "limit");
  if (limit != NULL && !parse_int(limit, 1, MAX_LIMIT, &r->limit))
    return bad(req, res, "limit", "must be an integer from 1 to 100");
  const char *offset = http_query(req, "offset");
  if (offset != NULL && !parse_int(offset, 0, MAX_OFFSET, &r->offset))
    return bad(req, res, "offset", "must be an integer from 0 to 10000");
  return true;
}

/* JSON string literal of s (arena), or "null". */
static const char *json_text(struct arena *a, const char *s) {
  if (s == NULL) return "null";
  json_t *v = json_string(s);
  char *t = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
  json_decref(v);
  const char *out = t ? arena_strdup(a, t) : NULL;
  free(t);
  return out ? out : "null";
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t answer_slot_of(const char *key) {
  uint64_t h = 1469598103934665603ull;
  for (const char *p = key; *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ull;
  return (size_t)(h % ANSWER_SLOTS);
}

/* Answers from the cache when the same query string was answered since the
 * index last changed; counts it in the query log like a fresh search. An
 * answer past its TTL is still given while another request recomputes it
 * (the index has not changed: it is still right); the first request to find
 * it expired is the one that recomputes. */
static bool answer_cached(struct search_state *st, struct http_request *req,
                          const char *key, struct http_response *res) {
  struct answer_slot *a = &st->answers[answer_slot_of(key)];
  int64_t gen = atomic_load(&st->answer_generation);
  bool hit = false;
  char *normalized = NULL;
  bool zero = false;
  pthread_mutex_lock(&st->answer_lock);
  int64_t now = mono_ms();
  bool fresh = false;
  if (a->key != NULL && a->generation == gen && strcmp(a->key, key) == 0) {
    fresh =
        now - a->at_ms < ANSWER_TTL_MS ||
        (a->refreshing_ms != 0 && now - a->refreshing_ms < ANSWER_REFRESH_MS);
    if (!fresh) a->refreshing_ms = now; /* this request recomputes it */
  }
  if (fresh) {
    hit = http_reply(res, 200, "application/json", a->body, a->len) == KIT_OK;
    if (hit && a->normalized != NULL)
      normalized = arena_strdup(req->arena, a->normalized);
    zero = a->zero;
  }
  pthread_mutex_unlock(&st->answer_lock);
  if (normalized != NULL) search_log_query(st, normalized, zero);
  return hit;
}

static void answer_keep(struct search_state *st, const char *key, int64_t gen,
                        const char *body, const char *normalized, bool zero) {
  char *k = strdup(key), *b = strdup(body);
  char *n = normalized ? strdup(normalized) : NULL;
  if (k == NULL || b == NULL || (normalized != NULL && n == NULL)) {
    free(k);
    free(b);
    free(n);
    return;
  }
  struct answer_slot *a = &st->answers[answer_slot_of(key)];
  pthread_mutex_lock(&st->answer_lock);
  free(a->key);
  free(a->body);
  free(a->normalized);
  *a = (struct answer_slot){k, b, strlen(b), n, zero, gen, mono_ms(), 0};
  pthread_mutex_unlock(&st->answer_lock);
}

void search_handle_search(struct http_request *req, struct http_response *res) {
  struct search_state *st = search_state_of(req->svc);
  struct search_params sp;
  if (!read_params(req, res, &sp)) return;
  /* "S" search, "G" suggest: one cache, two key spaces */
  const char *key =
      arena_printf(req->arena, "S%s", req->query ? req->query : "");
  if (key != NULL && answer_cached(st, req, key, res)) return;
  /* read before the work: a change meanwhile makes this answer stale */
  int64_t gen = atomic_load(&st->answer_generation);

  struct search_plan plan;
  pthread_rwlock_rdlock(&st->lex_lock);
  struct search_vocab vocab = {0};
  struct search_synonyms syn = {0};
  if (st->lex != NULL) {
    lexicon_vocab(st->lex, &vocab);
    lexicon_synonyms(st->lex, &syn);
  }
  bool ok = search_plan_build(req->arena, sp.q, &vocab, &syn, &plan);
  pthread_rwlock_unlock(&st->lex_lock);
  if (!ok) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    return;
  }
  if (!plan.empty) {
    sp.r.head = plan.head;
    sp.r.last = plan.last;
  }

  struct search_result out;
  int rc = st->backend->query(req->svc->db, &sp.r, req->arena, &out);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  bool logged = !plan.empty && sp.r.offset == 0;
  if (logged) search_log_query(st, plan.normalized, out.total == 0);

  char price[512];
  size_t at = 0;
  price[at++] = '[';
  for (int i = 0; i < SEARCH_PRICE_BUCKETS; i++) {
    const char *to = search_price_bounds[i + 1];
    at += (size_t)snprintf(
        price + at, sizeof price - at,
        "%s{\"from\":\"%s.00\",\"to\":%s%s%s,\"count\":%lld}", i ? "," : "",
        search_price_bounds[i], to ? "\"" : "", to ? to : "null",
        to ? ".00\"" : "", (long long)out.price_counts[i]);
  }
  snprintf(price + at, sizeof price - at, "]");

  char *body = arena_printf(
      req->arena,
      "{\"items\":%s,\"total\":%lld,\"facets\":{\"brand\":%s,\"color\":%s,"
      "\"size\":%s,\"category\":%s,\"price\":%s},\"corrected_query\":%s}",
      out.items, (long long)out.total, out.brand, out.color, out.size,
      out.category, price, json_text(req->arena, plan.corrected));
  if (body == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    return;
  }
  http_reply(res, 200, "application/json", body, strlen(body));
  if (key != NULL)
    answer_keep(st, key, gen, body, logged ? plan.normalized : NULL,
                out.total == 0);
}

static const char *const suggest_names[] = {"q", "limit", NULL};

void search_handle_suggest(struct http_request *req,
                           struct http_response *res) {
  struct search_state *st = search_state_of(req->svc);
  const char *unknown = NULL;
  if (!only_known(req, suggest_names, &unknown)) {
    bad(req, res, unknown, "unknown parameter");
    return;
  }
  const char *q = NULL;
  if (!text_param(req, res, "q", 100, &q)) return;
  if (q == NULL) {
    bad(req, res, "q", "is required (1 to 100 characters)");
    return;
  }
  int limit = SUGGEST_MAX;
  const char *l = http_query(req, "limit");
  if (l != NULL && !parse_int(l, 1, SUGGEST_MAX, &limit)) {
    bad(req, res, "limit", "must be an integer from 1 to 10");
    return;
  }
  const char *key =
      arena_printf(req->arena, "G%s", req->query ? req->query : "");
  if (key != NULL && answer_cached(st, req, key, res)) return;
  int64_t gen = atomic_load(&st->answer_generation);
  struct suggestion found[SUGGEST_MAX];
  json_t *items = json_array();
  pthread_rwlock_rdlock(&st->lex_lock);
  size_t n = st->lex ? lexicon_suggest(st->lex, q, found) : 0;
  for (size_t i = 0; i < n && (int)i < limit; i++)
    json_array_append_new(items,
                          json_pack("{s:s, s:s, s:s}", "text", found[i].text,
                                    "type", found[i].type, "id", found[i].id));
  pthread_rwlock_unlock(&st->lex_lock);
  json_t *body = json_pack("{s:o}", "items", items);
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (text == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    return;
  }
  if (key != NULL) answer_keep(st, key, gen, text, NULL, false);
  size_t len = strlen(text);
  http_reply_take(res, 200, "application/json", text, len);
}
