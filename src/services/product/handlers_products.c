/* handlers_products.c - the catalog over HTTP: list, detail, admin create,
 * update and archive, and the placeholder image of a product.
 *
 * Reads for the storefront are served from the rendered-JSON cache; every
 * write invalidates it before answering, so this process never serves a
 * stale page after its own write. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/audit.h"
#include "kit/auth.h"
#include "kit/log.h"
#include "kit/money.h"
#include "kit/uuid.h"
#include "services/product/domain.h"
#include "services/product/input.h"
#include "services/product/product.h"
#include "services/product/variant_input.h"

#define READ_TIMEOUT_MS 3000

/* --- list ---------------------------------------------------------------- */

struct list_query {
  enum product_sort sort;
  int limit;
  struct list_filter filter;
  struct list_cursor cursor;
  const char *cursor_text, *min_text, *max_text;
};

static bool parse_limit(const char *s, int *out) {
  if (s == NULL) return true;
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v < 1 || v > PRODUCT_LIST_MAX) return false;
  *out = (int)v;
  return true;
}

/* Reads the query string; false after answering 4xx. */
static bool read_list_query(struct http_request *req, struct http_response *res,
                            struct list_query *q) {
  memset(q, 0, sizeof *q);
  q->limit = PRODUCT_LIST_DEFAULT;
  q->sort = SORT_NEWEST;
  q->filter.status = "active";

  if (!parse_limit(http_query(req, "limit"), &q->limit)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "limit must be an integer from 1 to 100", "limit");
    return false;
  }
  const char *sort = http_query(req, "sort");
  if (sort != NULL && !product_sort_parse(sort, &q->sort)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "sort must be one of: newest, price_asc, price_desc, name",
                     "sort");
    return false;
  }
  const char *status = http_query(req, "status");
  if (status != NULL) {
    if (!product_status_valid(status)) {
      http_reply_error(res, req, API_UNPROCESSABLE,
                       "status must be one of: draft, active, archived",
                       "status");
      return false;
    }
    if (strcmp(status, "active") != 0 && !auth_is_admin(req)) {
      http_reply_error(
          res, req,
          auth_principal(req)->authenticated ? API_AUTHORIZATION_ERROR
                                             : API_AUTHENTICATION_ERROR,
          "only admins may list draft or archived products", "status");
      return false;
    }
    q->filter.status = status;
  }
  const char *category = http_query(req, "category_id");
  if (category != NULL) {
    char *norm = arena_alloc(req->arena, UUID_STR_LEN);
    if (norm == NULL || !uuid_normalize(category, norm)) {
      http_reply_error(res, req, API_UNPROCESSABLE,
                       "category_id must be a UUID", "category_id");
      return false;
    }
    q->filter.category_id = norm;
  }
  q->min_text = http_query(req, "min_price");
  q->max_text = http_query(req, "max_price");
  /* The price list to answer in: the request's; none chosen, every product
   * shows its own price (no store default here: a listing without a
   * currency keeps every product). */
  const char *asked = http_query(req, "currency");
  const char *currency = product_currency_choose(asked, NULL, NULL);
  if (asked != NULL && currency == NULL) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     product_price_message(PRICE_BAD_CURRENCY), "currency");
    return false;
  }
  if (q->min_text != NULL || q->max_text != NULL || currency != NULL)
    q->filter.currency = currency != NULL ? currency : "USD";
  const char *names[] = {"min_price", "max_price"};
  const char *texts[] = {q->min_text, q->max_text};
  int64_t *outs[] = {&q->filter.min_price, &q->filter.max_price};
  bool *has[] = {&q->filter.has_min, &q->filter.has_max};
  for (int i = 0; i < 2; i++) {
    if (texts[i] == NULL) continue;
    enum price_check c =
        product_price_parse(texts[i], q->filter.currency, outs[i]);
    if (c != PRICE_OK) {
      const char *msg = arena_printf(req->arena, "%s: %s", names[i],
                                     product_price_message(c));
      http_reply_error(res, req, API_UNPROCESSABLE, msg, names[i]);
      return false;
    }
    *has[i] = true;
  }
  if (q->filter.has_min && q->filter.has_max &&
      q->filter.min_price > q->filter.max_price) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "min_price must not exceed max_price", "min_price");
    return false;
  }
  q->cursor_text = http_query(req, "cursor");
  if (q->cursor_text != NULL && q->cursor_text[0] != '\0') {
    if (!product_cursor_decode(q->cursor_text, &q->cursor) ||
        q->cursor.sort != q->sort) {
      http_reply_error(res, req, API_UNPROCESSABLE,
                       "cursor is not valid for this listing", "cursor");
      return false;
    }
    q->filter.after = &q->cursor;
  } else {
    q->cursor_text = NULL;
  }
  q->filter.limit = q->limit + 1; /* one extra tells whether a page follows */
  return true;
}

static char *cursor_after(struct arena *a, enum product_sort sort,
                          const struct product_row *last) {
  struct list_cursor c = {.sort = sort};
  snprintf(c.id, sizeof c.id, "%s", last->id);
  if (sort == SORT_PRICE_ASC || sort == SORT_PRICE_DESC)
    snprintf(c.key, sizeof c.key, "%lld", (long long)last->price_minor);
  else if (sort == SORT_NAME)
    snprintf(c.key, sizeof c.key, "%s", last->name);
  char *out = arena_alloc(a, CURSOR_TEXT_MAX + 1);
  if (out == NULL || !product_cursor_encode(&c, out, CURSOR_TEXT_MAX + 1))
    return NULL;
  return out;
}

/* The live variants of rows[0..n) priced in currency (NULL: their own). */
static int page_variants(struct http_request *req,
                         const struct product_row *rows, int n,
                         const char *currency, struct variant_row **out) {
  *out = NULL;
  bool any = false;
  size_t len = 3;
  for (int i = 0; i < n; i++) {
    any = any || rows[i].has_options;
    len += 37;
  }
  if (!any) return 0;
  char *array = arena_alloc(req->arena, len);
  if (array == NULL) return DB_HARD_ERROR;
  size_t o = 0;
  array[o++] = '{';
  for (int i = 0; i < n; i++) {
    if (!rows[i].has_options) continue;
    if (o > 1) array[o++] = ',';
    memcpy(array + o, rows[i].id, 36);
    o += 36;
  }
  array[o++] = '}';
  array[o] = '\0';
  struct db_conn *conn = db_acquire(req->svc->db, READ_TIMEOUT_MS);
  if (conn == NULL) return DB_UNAVAILABLE;
  int rc = pstore_variants_of(conn, req->arena, array, currency, NULL, out);
  db_release(req->svc->db, conn);
  return rc;
}

void handle_product_list(struct http_request *req, struct http_response *res) {
  struct product_state *st = product_state(req);
  struct list_query q;
  if (!read_list_query(req, res, &q)) return;

  /* Everyone's view of active products is the same: cacheable by query. */
  const char *key = arena_printf(
      req->arena, "L|%s|%s|%s|%s|%s|%s|%d|%s", product_sort_name(q.sort),
      q.filter.status, q.filter.category_id ? q.filter.category_id : "",
      q.filter.currency ? q.filter.currency : "",
      q.filter.has_min ? q.min_text : "", q.filter.has_max ? q.max_text : "",
      q.limit, q.cursor_text ? q.cursor_text : "");
  /* Admins read fresh: their tools must see a write from another process
   * (an import, another replica) at once. */
  bool cacheable = key != NULL && strcmp(q.filter.status, "active") == 0 &&
                   !auth_is_admin(req);
  if (cacheable && pcache_reply(st->cache, key, res)) {
    product_cache_headers(res, req, false);
    return;
  }
  unsigned long generation = pcache_generation(st->cache);

  struct db_conn *conn = db_acquire(req->svc->db, READ_TIMEOUT_MS);
  if (conn == NULL) {
    product_reply_db_failure(res, req, DB_UNAVAILABLE);
    return;
  }
  struct product_row *rows = NULL;
  int n = pstore_product_list(conn, req->arena, q.sort, &q.filter, &rows);
  db_release(req->svc->db, conn);
  if (n < 0) {
    product_reply_db_failure(res, req, n);
    return;
  }
  int shown = n > q.limit ? q.limit : n;
  struct variant_row *vs = NULL;
  int nv = page_variants(req, rows, shown, q.filter.currency, &vs);
  if (nv < 0) {
    product_reply_db_failure(res, req, nv);
    return;
  }
  json_t *items = json_array();
  for (int i = 0; i < shown; i++) {
    json_t *item = product_render(&rows[i]);
    product_attach_variants(item, vs, nv);
    json_array_append_new(items, item);
  }
  const char *next =
      n > q.limit ? cursor_after(req->arena, q.sort, &rows[shown - 1]) : NULL;
  json_t *body = json_pack("{s:o, s:o}", "items", items, "next_cursor",
                           next ? json_string(next) : json_null());
  if (body == NULL) {
    product_reply_json(res, 500, NULL);
    return;
  }
  char *text = json_dumps(body, KIT_JSON_DUMP_FLAGS);
  json_decref(body);
  if (text == NULL) {
    product_reply_json(res, 500, NULL);
    return;
  }
  size_t len = strlen(text);
  if (cacheable) pcache_put(st->cache, key, text, len, generation);
  http_reply_take(res, 200, "application/json", text, len);
  product_cache_headers(res, req, true);
}

/* --- detail ----------------------------------------------------------------
 */

/* The product id of the path, normalized; NULL after answering 404. */
static const char *path_id(struct http_request *req,
                           struct http_response *res) {
  char *id = arena_alloc(req->arena, UUID_STR_LEN);
  const char *raw = http_param(req, "id");
  if (id == NULL || raw == NULL || !uuid_normalize(raw, id)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such product", NULL);
    return NULL;
  }
  return id;
}

void handle_product_get(struct http_request *req, struct http_response *res) {
  struct product_state *st = product_state(req);
  const char *id = path_id(req, res);
  if (id == NULL) return;
  bool admin = auth_is_admin(req);
  const char *asked = http_query(req, "currency");
  const char *currency = product_currency_choose(asked, NULL, NULL);
  if (asked != NULL && currency == NULL) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     product_price_message(PRICE_BAD_CURRENCY), "currency");
    return;
  }
  const char *key =
      arena_printf(req->arena, "D|%s|%s", id, currency ? currency : "");
  if (!admin && key != NULL && pcache_reply(st->cache, key, res)) {
    product_cache_headers(res, req, false);
    return;
  }
  unsigned long generation = pcache_generation(st->cache);

  struct db_conn *conn = db_acquire(req->svc->db, READ_TIMEOUT_MS);
  if (conn == NULL) {
    product_reply_db_failure(res, req, DB_UNAVAILABLE);
    return;
  }
  struct product_row p;
  struct variant_row *vs = NULL;
  int nv = 0, priced = 1;
  int rc = pstore_product_get(conn, req->arena, id, false, &p);
  /* In another currency than its own: the product's price-list entry. */
  if (rc > 0 && currency != NULL && strcmp(currency, p.currency) != 0) {
    priced = pstore_product_price_in(conn, id, currency, &p.price_minor);
    if (priced > 0) snprintf(p.currency, sizeof p.currency, "%s", currency);
  }
  if (rc > 0 && priced > 0 && p.has_options)
    nv = pstore_variants_of(conn, req->arena,
                            arena_printf(req->arena, "{%s}", id), currency,
                            NULL, &vs);
  db_release(req->svc->db, conn);
  if (rc < 0 || priced < 0 || nv < 0) {
    product_reply_db_failure(res, req, rc < 0 ? rc : priced < 0 ? priced : nv);
    return;
  }
  /* Drafts are the admins' business; archived products stay readable
   * (orders link to them) but leave the listing. */
  if (rc == 0 || (!admin && strcmp(p.status, "draft") == 0)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such product", NULL);
    return;
  }
  if (priced == 0) {
    http_reply_error(
        res, req, API_UNPROCESSABLE,
        arena_printf(req->arena, "the product has no price in %s", currency),
        "currency");
    return;
  }
  json_t *body = product_render(&p);
  if (body != NULL) product_attach_variants(body, vs, nv);
  char *text = body ? json_dumps(body, KIT_JSON_DUMP_FLAGS) : NULL;
  json_decref(body);
  if (text == NULL) {
    product_reply_json(res, 500, NULL);
    return;
  }
  size_t len = strlen(text);
  if (!admin && key != NULL && strcmp(p.status, "draft") != 0)
    pcache_put(st->cache, key, text, len, generation);
  http_reply_take(res, 200, "application/json", text, len);
  product_cache_headers(res, req, true);
}

/* --- create ------------------------------------------------------------------
 */

struct create_tx {
  struct http_request *req;
  struct arena *arena;
  const char *options_json;
  struct product_new p;
  struct product_row out;
};

static int create_body(struct db_conn *c, void *arg) {
  struct create_tx *t = arg;
  struct category_row cat;
  int rc = pstore_category_get(c, t->arena, t->p.category_id, &cat);
  if (rc < 0) return rc;
  if (rc == 0) return OUT_INVALID;
  rc = pstore_sku_taken(c, t->p.sku, NULL);
  if (rc < 0) return rc;
  if (rc > 0) return OUT_CONFLICT;
  rc = pstore_product_insert(c, t->arena, &t->p, &t->out);
  if (rc < 0) return rc;
  if (rc == 0) return OUT_CONFLICT;
  if (t->options_json != NULL && strcmp(t->options_json, "[]") != 0) {
    rc = pstore_product_set_options(c, t->p.id, t->options_json);
    if (rc < 0) return rc;
    rc = pstore_product_get(c, t->arena, t->p.id, false, &t->out);
    if (rc <= 0) return rc < 0 ? rc : DB_HARD_ERROR;
  }
  rc = product_emit(c, "product.created", &t->out);
  if (rc < 0) return rc;
  json_t *after = product_render(&t->out);
  rc = audit_record(c, t->req, "product.create", "product", t->out.id, NULL,
                    after);
  json_decref(after);
  return rc;
}

void handle_product_create(struct http_request *req,
                           struct http_response *res) {
  struct json_doc *doc = NULL;
  struct json_error err;
  struct product_draft d;
  if (json_doc_parse(req->body, req->body_len, &doc, &err) != KIT_OK ||
      product_draft_read(json_doc_root(doc), false, false, req->arena, &d,
                         &err) != KIT_OK) {
    http_reply_json_error(res, req, &err);
    goto cleanup;
  }
  char id[UUID_STR_LEN];
  uuid_v7(id);
  struct create_tx t = {
      .req = req,
      .arena = req->arena,
      .options_json = d.options_json,
      .p = {.id = id,
            .sku = d.sku,
            .name = d.name,
            .description = d.description ? d.description : "",
            .category_id = d.category_id,
            .price_minor = d.price_minor,
            .currency = d.currency,
            .status = d.status,
            .stock = d.stock,
            .images_json = d.images_json,
            .attributes_json = d.attributes_json},
  };
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, create_body, &t);
  if (rc == OUT_INVALID) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "category_id is not a known category", "category_id");
  } else if (rc == OUT_CONFLICT) {
    http_reply_error(res, req, API_CONFLICT,
                     "a product with this sku already exists", "sku");
  } else if (rc < 0) {
    product_reply_db_failure(res, req, rc);
  } else {
    pcache_invalidate(product_state(req)->cache);
    http_response_header(res, "Location",
                         arena_printf(req->arena, "/api/v1/products/%s", id));
    product_reply_json(res, 201, product_render(&t.out));
  }
cleanup:
  json_doc_free(doc);
}

/* --- update
 * ------------------------------------------------------------------- */

struct update_tx {
  struct http_request *req;
  struct arena *arena;
  const char *id;
  const char *actor;
  struct product_draft d;
  struct product_row before, out;
  struct json_error err; /* OUT_INVALID */
  const char *conflict;  /* OUT_CONFLICT */
};

static int update_invalid(struct update_tx *t, const char *field,
                          const char *msg) {
  t->err.code = API_UNPROCESSABLE;
  snprintf(t->err.field, sizeof t->err.field, "%s", field);
  snprintf(t->err.message, sizeof t->err.message, "%s", msg);
  return OUT_INVALID;
}

/* New options must keep every live variant valid (a value may be added, a
 * used one not taken away); none at all only once no variant is left. */
static int check_live_variants(struct db_conn *c, struct update_tx *t) {
  const char **live = NULL;
  int n = pstore_variant_live_options(c, t->arena, t->id, &live);
  if (n <= 0) return n;
  struct product_option *opts = NULL;
  size_t no = 0;
  if (!variant_options_parse(t->d.options_json, t->arena, &opts, &no))
    return DB_HARD_ERROR;
  for (int i = 0; i < n; i++) {
    struct variant_choice *ch = NULL;
    size_t m = 0;
    const char *bad = NULL;
    if (!variant_choice_parse(live[i], t->arena, &ch, &m)) return DB_HARD_ERROR;
    if (product_variant_check(opts, no, ch, m, &bad) != VARIANT_OK) {
      t->conflict = "the new options leave out values or options that live "
                    "variants use: delete or change those variants first";
      return OUT_CONFLICT;
    }
  }
  return 0;
}

static int update_body(struct db_conn *c, void *arg) {
  struct update_tx *t = arg;
  struct product_draft *d = &t->d;
  int rc = pstore_product_get(c, t->arena, t->id, true, &t->before);
  if (rc <= 0) return rc < 0 ? rc : OUT_NOT_FOUND;

  /* A new currency changes what the stored minor units mean. */
  bool new_currency =
      d->currency != NULL && strcmp(d->currency, t->before.currency) != 0;
  if (new_currency && d->price == NULL)
    return update_invalid(t, "price",
                          "price is required when the currency changes");
  if (d->price != NULL && !d->has_price_minor &&
      product_draft_price(d, t->before.currency, &t->err) != KIT_OK)
    return OUT_INVALID;
  if (d->category_id != NULL) {
    struct category_row cat;
    rc = pstore_category_get(c, t->arena, d->category_id, &cat);
    if (rc < 0) return rc;
    if (rc == 0)
      return update_invalid(t, "category_id",
                            "category_id is not a known category");
  }
  if (d->sku != NULL && strcmp(d->sku, t->before.sku) != 0) {
    rc = pstore_sku_taken(c, d->sku, t->id);
    if (rc < 0) return rc;
    if (rc > 0) {
      t->conflict = "a product with this sku already exists";
      return OUT_CONFLICT;
    }
  }
  bool with_options = d->options_json != NULL
                          ? strcmp(d->options_json, "[]") != 0
                          : t->before.has_options;
  if (d->has_stock && with_options)
    return update_invalid(t, "stock",
                          "a product with options keeps its stock per variant");
  if (d->has_stock && d->stock < t->before.reserved) {
    t->conflict = "stock cannot go below the units reserved by orders";
    return OUT_CONFLICT;
  }
  if (d->options_json != NULL) {
    rc = check_live_variants(c, t);
    if (rc < 0) return rc;
    rc = pstore_product_set_options(c, t->id, d->options_json);
    if (rc < 0) return rc;
  }

  struct product_change ch = {
      .sku = d->sku,
      .name = d->name,
      .description = d->description,
      .category_id = d->category_id,
      .currency = d->currency,
      .status = d->status,
      .images_json = d->images_json,
      .attributes_json = d->attributes_json,
      .price_minor = d->price_minor,
      .has_price = d->has_price_minor,
      .stock = d->stock,
      .has_stock = d->has_stock,
  };
  rc = pstore_product_update(c, t->arena, t->id, &ch, &t->out);
  if (rc <= 0) return rc < 0 ? rc : OUT_NOT_FOUND;

  int64_t delta = t->out.stock - t->before.stock;
  if (delta != 0) {
    /* A stock figure set by PATCH is an adjustment too: audited. */
    char adj_id[UUID_STR_LEN];
    uuid_v7(adj_id);
    rc = pstore_adjustment_insert(c, adj_id, t->id, delta,
                                  "set by product update", t->out.stock,
                                  t->actor, NULL, t->arena);
    if (rc < 0) return rc;
    struct stock_change sc = {
        .sku = t->out.sku, .stock = t->out.stock, .reserved = t->out.reserved};
    snprintf(sc.product_id, sizeof sc.product_id, "%s", t->id);
    rc = product_emit_inventory(c, &sc, "adjustment", delta, 0, NULL);
    if (rc < 0) return rc;
  }
  bool archived = strcmp(t->out.status, "archived") == 0 &&
                  strcmp(t->before.status, "archived") != 0;
  rc = product_emit(c, archived ? "product.archived" : "product.updated",
                    &t->out);
  if (rc < 0) return rc;
  static const char *const unaudited[] = {"updated_at", NULL};
  json_t *before = product_render(&t->before), *after = product_render(&t->out);
  rc = audit_record_changes(c, t->req, "product.update", "product", t->id,
                            before, after, unaudited);
  json_decref(before);
  json_decref(after);
  return rc;
}

static const char *actor_of(struct http_request *req) {
  const struct principal *p = auth_principal(req);
  return p->authenticated ? p->user_id : NULL;
}

void handle_product_update(struct http_request *req,
                           struct http_response *res) {
  struct json_doc *doc = NULL;
  struct update_tx t = {
      .req = req, .arena = req->arena, .actor = actor_of(req)};
  t.id = path_id(req, res);
  if (t.id == NULL) return;
  if (json_doc_parse(req->body, req->body_len, &doc, &t.err) != KIT_OK ||
      product_draft_read(json_doc_root(doc), true, false, req->arena, &t.d,
                         &t.err) != KIT_OK) {
    http_reply_json_error(res, req, &t.err);
    goto cleanup;
  }
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, update_body, &t);
  if (rc == OUT_NOT_FOUND)
    http_reply_error(res, req, API_NOT_FOUND, "no such product", NULL);
  else if (rc == OUT_INVALID)
    http_reply_json_error(res, req, &t.err);
  else if (rc == OUT_CONFLICT)
    http_reply_error(res, req, API_CONFLICT, t.conflict, NULL);
  else if (rc < 0)
    product_reply_db_failure(res, req, rc);
  else {
    pcache_invalidate(product_state(req)->cache);
    product_reply_json(res, 200, product_render(&t.out));
  }
cleanup:
  json_doc_free(doc);
}

/* --- archive (DELETE)
 * ------------------------------------------------------------ */

struct archive_tx {
  struct http_request *req;
  struct arena *arena;
  const char *id;
  struct product_row out;
};

static int archive_body(struct db_conn *c, void *arg) {
  struct archive_tx *t = arg;
  int rc = pstore_product_get(c, t->arena, t->id, true, &t->out);
  if (rc <= 0) return rc < 0 ? rc : OUT_NOT_FOUND;
  if (strcmp(t->out.status, "archived") == 0) return 0; /* already: no-op */
  json_t *before = json_pack("{s:s}", "status", t->out.status);
  struct product_change ch = {.status = "archived"};
  rc = pstore_product_update(c, t->arena, t->id, &ch, &t->out);
  if (rc <= 0) {
    json_decref(before);
    return rc < 0 ? rc : OUT_NOT_FOUND;
  }
  rc = product_emit(c, "product.archived", &t->out);
  json_t *after = json_pack("{s:s}", "status", t->out.status);
  if (rc >= 0)
    rc = audit_record(c, t->req, "product.archive", "product", t->id, before,
                      after);
  json_decref(before);
  json_decref(after);
  return rc;
}

void handle_product_archive(struct http_request *req,
                            struct http_response *res) {
  struct archive_tx t = {.req = req, .arena = req->arena};
  t.id = path_id(req, res);
  if (t.id == NULL) return;
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, archive_body, &t);
  if (rc == OUT_NOT_FOUND)
    http_reply_error(res, req, API_NOT_FOUND, "no such product", NULL);
  else if (rc < 0)
    product_reply_db_failure(res, req, rc);
  else {
    pcache_invalidate(product_state(req)->cache);
    product_reply_json(res, 200, product_render(&t.out));
  }
}

/* --- placeholder image
 * ------------------------------------------------------------- */

/* A fill for a color name the seed uses; anything else hashes to a hue. */
static void color_fill(const char *color, char out[8]) {
  static const struct {
    const char *name, *hex;
  } known[] = {
      {"black", "#2b2b2b"},  {"white", "#f2f2f2"},  {"navy", "#1f3a5f"},
      {"red", "#c0392b"},    {"blue", "#2e6fd8"},   {"green", "#2e8b57"},
      {"grey", "#8a8f98"},   {"gray", "#8a8f98"},   {"beige", "#d8c8a8"},
      {"olive", "#6b7b3a"},  {"pink", "#e58fb0"},   {"yellow", "#e8c547"},
      {"orange", "#e67e22"}, {"purple", "#7d4fa8"}, {"brown", "#7b5136"},
      {"silver", "#b8bcc4"}, {"teal", "#2a9d8f"},   {"burgundy", "#7a1f35"},
  };
  char lower[32] = "";
  for (size_t i = 0; color != NULL && color[i] && i + 1 < sizeof lower; i++)
    lower[i] =
        (char)(color[i] >= 'A' && color[i] <= 'Z' ? color[i] + 32 : color[i]);
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
    if (strstr(lower, known[i].name) != NULL) {
      snprintf(out, 8, "%s", known[i].hex);
      return;
    }
  }
  unsigned h = 5381;
  for (const char *p = lower; *p; p++)
    h = h * 33 + (unsigned char)*p;
  snprintf(out, 8, "#%02x%02x%02x", 64 + h % 128, 64 + (h >> 8) % 128,
           64 + (h >> 16) % 128);
}

/* Escapes text for SVG character data into the arena. */
static const char *xml_text(struct arena *a, const char *s, size_t max) {
  size_t n = strlen(s) > max ? max : strlen(s);
  char *out = arena_alloc(a, n * 6 + 1);
  if (out == NULL) return "";
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    const char *rep = NULL;
    switch (s[i]) {
    case '<':
      rep = "&lt;";
      break;
    case '>':
      rep = "&gt;";
      break;
    case '&':
      rep = "&amp;";
      break;
    case '"':
      rep = "&quot;";
      break;
    default:
      break;
    }
    if (rep != NULL) {
      memcpy(out + o, rep, strlen(rep));
      o += strlen(rep);
    } else {
      out[o++] = s[i];
    }
  }
  /* Do not end inside a UTF-8 sequence after the cut. */
  while (o > 0 && n < strlen(s) && ((unsigned char)out[o - 1] & 0xC0) == 0x80)
    o--;
  if (o > 0 && n < strlen(s) && ((unsigned char)out[o - 1] & 0xC0) == 0xC0) o--;
  out[o] = '\0';
  return out;
}

void handle_product_image(struct http_request *req, struct http_response *res) {
  const char *id = path_id(req, res);
  if (id == NULL) return;
  struct db_conn *conn = db_acquire(req->svc->db, READ_TIMEOUT_MS);
  if (conn == NULL) {
    product_reply_db_failure(res, req, DB_UNAVAILABLE);
    return;
  }
  struct product_row p;
  int rc = pstore_product_get(conn, req->arena, id, false, &p);
  db_release(req->svc->db, conn);
  if (rc < 0) {
    product_reply_db_failure(res, req, rc);
    return;
  }
  if (rc == 0 || (strcmp(p.status, "draft") == 0 && !auth_is_admin(req))) {
    http_reply_error(res, req, API_NOT_FOUND, "no such product", NULL);
    return;
  }
  json_t *attrs = json_loads(p.attributes_json, 0, NULL);
  const char *color = json_string_value(json_object_get(attrs, "color"));
  const char *brand = json_string_value(json_object_get(attrs, "brand"));
  char fill[8];
  color_fill(color != NULL ? color : p.sku, fill);
  const char *svg = arena_printf(
      req->arena,
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"600\" height=\"600\" "
      "viewBox=\"0 0 600 600\"><rect width=\"600\" height=\"600\" "
      "fill=\"%s\"/><rect x=\"40\" y=\"420\" width=\"520\" height=\"140\" "
      "rx=\"12\" fill=\"#ffffff\" fill-opacity=\"0.85\"/><text x=\"300\" "
      "y=\"478\" font-family=\"sans-serif\" font-size=\"28\" "
      "text-anchor=\"middle\" fill=\"#222\">%s</text><text x=\"300\" "
      "y=\"522\" font-family=\"sans-serif\" font-size=\"20\" "
      "text-anchor=\"middle\" fill=\"#555\">%s</text></svg>",
      fill, xml_text(req->arena, p.name, 36),
      xml_text(req->arena, brand != NULL ? brand : p.sku, 40));
  json_decref(attrs);
  if (svg == NULL) {
    product_reply_json(res, 500, NULL);
    return;
  }
  http_reply(res, 200, "image/svg+xml", svg, strlen(svg));
  http_response_header(res, "Cache-Control", "public, max-age=3600");
}
