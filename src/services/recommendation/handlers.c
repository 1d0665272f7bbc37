/* handlers.c - the recommendation service's HTTP API (docs/recommendations.md):
 * a product's bought-together and similar lists, the signed-in user's
 * personal list, trending, and the clickstream. Lists are read from the
 * precomputed tables (one indexed lookup) and kept rendered in memory for a
 * moment; items are catalog products plus `score` and `reason`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/auth.h"
#include "kit/handler.h"
#include "kit/log.h"
#include "kit/uuid.h"
#include "services/recommendation/recommendation.h"
#include "services/recommendation/store.h"

#define READ_TIMEOUT_MS 2000

static struct reco_state *state_of(const struct http_request *req) {
  return req->svc->state;
}

/* --- rendering ---------------------------------------------------------------
 */

struct item {
  const struct reco_row *row;
  const char *reason;
};

struct buf {
  char *s;
  size_t len, cap;
  bool failed;
};

static void put(struct buf *b, const char *s, size_t n) {
  if (b->failed) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 4096;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *p = realloc(b->s, cap);
    if (p == NULL) {
      b->failed = true;
      return;
    }
    b->s = p;
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

/* {"items":[product + score + reason, ...]}: each stored product document
 * (a JSON object) gets the two members appended before its closing brace. */
static char *render(const struct item *items, size_t n, size_t *len) {
  struct buf b = {0};
  put(&b, "{\"items\":[", 10);
  for (size_t i = 0; i < n; i++) {
    const char *doc = items[i].row->doc;
    size_t dl = strlen(doc);
    while (dl > 0 && doc[dl - 1] != '}')
      dl--;
    if (dl < 2) continue; /* not an object: never stored so */
    if (i) put(&b, ",", 1);
    put(&b, doc, dl - 1);
    char tail[96];
    int w = snprintf(tail, sizeof tail, "%s\"score\":%.4f,\"reason\":\"%s\"}",
                     dl > 2 ? "," : "", items[i].row->score, items[i].reason);
    put(&b, tail, (size_t)w);
  }
  put(&b, "]}", 2);
  if (b.failed) {
    free(b.s);
    return NULL;
  }
  *len = b.len;
  return b.s;
}

static void reply_items(struct http_request *req, struct http_response *res,
                        const struct item *items, size_t n,
                        const char *cache_key) {
  size_t len = 0;
  char *body = render(items, n, &len);
  if (body == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    return;
  }
  if (cache_key != NULL)
    reco_cache_put(state_of(req)->cache, cache_key, body, len);
  http_reply_take(res, 200, "application/json", body, len);
}

/* Adds rows to items (at most `limit` in all), skipping ids already there
 * and ids in `skip` (nskip entries). */
static size_t add_rows(struct item *items, size_t have, size_t limit,
                       const struct reco_row *rows, int nrows,
                       const char *reason, const char *const *skip, int nskip) {
  for (int r = 0; r < nrows && have < limit; r++) {
    bool dup = false;
    for (size_t i = 0; i < have && !dup; i++)
      dup = strcmp(items[i].row->id, rows[r].id) == 0;
    for (int i = 0; i < nskip && !dup; i++)
      dup = strcmp(skip[i], rows[r].id) == 0;
    if (dup) continue;
    items[have++] = (struct item){&rows[r], reason};
  }
  return have;
}

/* Lists other than /me are the same for everyone: shared caches (the
 * gateway's edge cache) may keep them as long as this service does. */
static void shared_cache_header(struct http_request *req,
                                struct http_response *res) {
  int ms = req->svc->cfg->reco_cache_ms;
  char v[48] = "no-cache";
  if (ms > 0) snprintf(v, sizeof v, "public, max-age=%d", (ms + 999) / 1000);
  http_response_header(res, "Cache-Control", v);
}

/* --- query parameters --------------------------------------------------------
 */

/* ?limit= (1..RECO_LIMIT_MAX); false after answering 422. */
static bool read_limit(struct http_request *req, struct http_response *res,
                       int *limit) {
  const char *s = http_query(req, "limit");
  *limit = RECO_LIMIT_DEFAULT;
  if (s == NULL) return true;
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v < 1 || v > RECO_LIMIT_MAX) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "limit must be an integer from 1 to 50", "limit");
    return false;
  }
  *limit = (int)v;
  return true;
}

static struct db_conn *acquire(struct http_request *req,
                               struct http_response *res) {
  struct db_conn *conn = db_acquire(req->svc->db, READ_TIMEOUT_MS);
  if (conn == NULL) http_reply_db_error(res, req, DB_UNAVAILABLE);
  return conn;
}

/* --- GET /api/v1/recommendations/products/{id} -----------------------------
 */

void reco_handle_product(struct http_request *req, struct http_response *res) {
  char id[UUID_STR_LEN];
  const char *raw = http_param(req, "id");
  if (raw == NULL || !uuid_normalize(raw, id)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such product", NULL);
    return;
  }
  const char *kind = http_query(req, "kind");
  if (kind == NULL) kind = "bought_together";
  if (strcmp(kind, "bought_together") != 0 && strcmp(kind, "similar") != 0) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "kind must be bought_together or similar", "kind");
    return;
  }
  int limit;
  if (!read_limit(req, res, &limit)) return;
  const char *key = arena_printf(req->arena, "p|%s|%s|%d", id, kind, limit);
  if (key != NULL && reco_cache_reply(state_of(req)->cache, key, res)) {
    shared_cache_header(req, res);
    return;
  }

  struct db_conn *conn = acquire(req, res);
  if (conn == NULL) return;
  const char *status = NULL;
  struct reco_row *rows = NULL, *more = NULL;
  int n = 0, m = 0;
  int rc = rstore_product_status(conn, req->arena, id, &status);
  if (rc > 0)
    rc = n = rstore_list_read(conn, req->arena, id, kind, limit, &rows);
  /* A product nobody bought with anything yet: similar products fill in. */
  if (rc >= 0 && status != NULL && n < limit &&
      strcmp(kind, "bought_together") == 0)
    rc = m =
        rstore_list_read(conn, req->arena, id, "similar", limit * 2, &more);
  db_release(req->svc->db, conn);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  if (status == NULL) {
    http_reply_error(res, req, API_NOT_FOUND, "no such product", NULL);
    return;
  }
  struct item *items = arena_alloc(req->arena, sizeof *items * (size_t)limit);
  if (items == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    return;
  }
  size_t have = add_rows(items, 0, (size_t)limit, rows, n, kind, NULL, 0);
  have = add_rows(items, have, (size_t)limit, more, m, "similar", NULL, 0);
  reply_items(req, res, items, have, key);
  shared_cache_header(req, res);
}

/* --- GET /api/v1/recommendations/trending ------------------------------------
 */

/* Trending, then the newest products when trending is short; skipping
 * skip[nskip]. Returns the count in items or a negative db_status. */
static int trending_items(struct db_conn *conn, struct arena *a,
                          struct item *items, size_t have, size_t limit,
                          const char *const *skip, int nskip) {
  struct reco_row *rows = NULL;
  int want = (int)limit + nskip;
  int n = rstore_trending(conn, a, want, &rows);
  if (n < 0) return n;
  have = add_rows(items, have, limit, rows, n, "trending", skip, nskip);
  if (have < limit) {
    n = rstore_newest(conn, a, want + (int)have, &rows);
    if (n < 0) return n;
    have = add_rows(items, have, limit, rows, n, "new", skip, nskip);
  }
  return (int)have;
}

void reco_handle_trending(struct http_request *req, struct http_response *res) {
  int limit;
  if (!read_limit(req, res, &limit)) return;
  const char *key = arena_printf(req->arena, "t|%d", limit);
  if (key != NULL && reco_cache_reply(state_of(req)->cache, key, res)) {
    shared_cache_header(req, res);
    return;
  }
  struct item *items = arena_alloc(req->arena, sizeof *items * (size_t)limit);
  struct db_conn *conn = items != NULL ? acquire(req, res) : NULL;
  if (conn == NULL) {
    if (items == NULL)
      http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    return;
  }
  int n = trending_items(conn, req->arena, items, 0, (size_t)limit, NULL, 0);
  db_release(req->svc->db, conn);
  if (n < 0) {
    http_reply_db_error(res, req, n);
    return;
  }
  reply_items(req, res, items, (size_t)n, key);
  shared_cache_header(req, res);
}

/* --- GET /api/v1/recommendations/me ------------------------------------------
 */

void reco_handle_me(struct http_request *req, struct http_response *res) {
  const struct principal *who = auth_principal(req);
  if (!who->authenticated) {
    http_reply_error(res, req, API_AUTHENTICATION_ERROR, "sign in first", NULL);
    return;
  }
  int limit;
  if (!read_limit(req, res, &limit)) return;
  struct item *items = arena_alloc(req->arena, sizeof *items * (size_t)limit);
  struct db_conn *conn = items != NULL ? acquire(req, res) : NULL;
  if (conn == NULL) {
    if (items == NULL)
      http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    return;
  }
  struct reco_row *rows = NULL;
  const char **bought = NULL;
  int nb = 0;
  int rc = rstore_personal(conn, req->arena, who->user_id, limit, &rows);
  size_t have = 0;
  if (rc >= 0) {
    have = add_rows(items, 0, (size_t)limit, rows, rc, "personal", NULL, 0);
    if (have < (size_t)limit)
      rc = nb = rstore_bought(conn, req->arena, who->user_id, &bought);
  }
  if (rc >= 0 && have < (size_t)limit) {
    rc = trending_items(conn, req->arena, items, have, (size_t)limit, bought,
                        nb);
    if (rc >= 0) have = (size_t)rc;
  }
  db_release(req->svc->db, conn);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  reply_items(req, res, items, have, NULL);
  http_response_header(res, "Cache-Control", "private, no-store");
}

/* --- POST /api/v1/recommendations/events -------------------------------------
 */

static const char *const event_types[] = {"view", "add_to_cart", NULL};

struct click {
  const char *actor, *product_id, *variant_id, *kind;
  double weight;
  struct arena *arena;
  bool unknown_variant, other_product;
};

/* A variant counts for its product: named alone, its product is the one
 * whose snapshot lists it (unknown: refused); named with a product, it must
 * not be another product's variant. */
static int click_body(struct db_conn *conn, void *arg) {
  struct click *c = arg;
  if (c->variant_id != NULL) {
    const char *owner = NULL;
    int rc = rstore_variant_owner(conn, c->arena, c->variant_id, &owner);
    if (rc < 0) return rc;
    if (c->product_id == NULL && rc == 0) {
      c->unknown_variant = true;
      return 0;
    }
    if (c->product_id != NULL && rc > 0 && strcmp(owner, c->product_id) != 0) {
      c->other_product = true;
      return 0;
    }
    if (c->product_id == NULL) c->product_id = owner;
  }
  return rstore_click_apply(conn, c->actor, c->product_id, c->variant_id,
                            c->kind, c->weight);
}

void reco_handle_event(struct http_request *req, struct http_response *res) {
  const char *type = NULL, *product_id = NULL, *variant_id = NULL,
             *session_id = NULL;
  const struct json_field fields[] = {
      {"type", JF_ENUM, true, 0, 0, &type, NULL, event_types, false},
      {"product_id", JF_UUID, false, 0, 0, &product_id, NULL, NULL, false},
      {"variant_id", JF_UUID, false, 0, 0, &variant_id, NULL, NULL, true},
      {"session_id", JF_STRING, false, 1, 128, &session_id, NULL, NULL, true},
  };
  struct json_doc *doc = NULL;
  bool ok = http_read_body(req, res, fields, sizeof fields / sizeof fields[0],
                           true, &doc);
  json_doc_free(doc);
  if (!ok) return;
  if (product_id == NULL && variant_id == NULL) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "product_id is required (or a variant_id)", "product_id");
    return;
  }
  const struct principal *who = auth_principal(req);
  struct click c = {.product_id = product_id,
                    .variant_id = variant_id,
                    .kind = type,
                    .arena = req->arena};
  if (who->authenticated)
    c.actor = arena_printf(req->arena, "u:%s", who->user_id);
  else if (session_id != NULL)
    c.actor = arena_printf(req->arena, "s:%s", session_id);
  c.weight =
      strcmp(type, "add_to_cart") == 0 ? RECO_WEIGHT_CART : RECO_WEIGHT_VIEW;
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, click_body, &c);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  if (c.unknown_variant || c.other_product) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     c.unknown_variant
                         ? "variant_id names no variant known yet: send its "
                           "product_id too"
                         : "variant_id is a variant of another product",
                     "variant_id");
    return;
  }
  static const char accepted[] = "{\"status\":\"accepted\"}";
  http_reply(res, 202, "application/json", accepted, sizeof accepted - 1);
}
