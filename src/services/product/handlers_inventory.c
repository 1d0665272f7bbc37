/* handlers_inventory.c - stock: admin adjustments with an audit row, and the
 * internal API other services call (docs/internal-api.md, Product): products
 * by id in one call, and reservations (create, commit, release, get) with the
 * sweeper that returns expired ones.
 *
 * Units move only in single conditional UPDATEs whose CHECKs keep
 * 0 <= reserved <= stock, so available stock cannot go negative whatever
 * the concurrency; rows are locked in product-id order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/audit.h"
#include "kit/auth.h"
#include "kit/log.h"
#include "kit/money.h"
#include "kit/uuid.h"
#include "services/product/domain.h"
#include "services/product/product.h"

/* --- adjustments -----------------------------------------------------------
 */

struct adjust_tx {
  struct http_request *req;
  struct arena *arena;
  const char *product_id, *variant_id, *reason, *actor;
  struct stock_change variant; /* the variant after a variant adjustment */
  int64_t delta;
  char adjustment_id[UUID_STR_LEN];
  struct product_row out;
  const char *created_at;
};

/* A variant's stock: the same single conditional UPDATE on its row. */
static int adjust_variant(struct db_conn *c, struct adjust_tx *t) {
  int rc = pstore_variant_stock_adjust(c, t->arena, t->variant_id,
                                       t->product_id, t->delta, &t->variant);
  if (rc < 0) return rc;
  if (rc == 0) {
    rc = pstore_variant_exists(c, t->variant_id, t->product_id);
    if (rc < 0) return rc;
    return rc == 0 ? OUT_INVALID : OUT_CONFLICT;
  }
  uuid_v7(t->adjustment_id);
  rc = pstore_adjustment_insert_variant(
      c, t->adjustment_id, t->product_id, t->variant_id, t->delta, t->reason,
      t->variant.stock, t->actor, &t->created_at, t->arena);
  if (rc < 0) return rc;
  t->out.stock = t->variant.stock;
  t->out.reserved = t->variant.reserved;
  return product_emit_inventory(c, &t->variant, "adjustment", t->delta, 0,
                                NULL);
}

static int adjust_body(struct db_conn *c, void *arg) {
  struct adjust_tx *t = arg;
  bool has_options = false;
  int rc = pstore_product_kind(c, t->product_id, &has_options);
  if (rc <= 0) return rc < 0 ? rc : OUT_NOT_FOUND;
  if (t->variant_id != NULL) return adjust_variant(c, t);
  /* A product with options keeps its stock per variant. */
  if (has_options) return OUT_INVALID;
  rc = pstore_stock_adjust(c, t->arena, t->product_id, t->delta, &t->out);
  if (rc < 0) return rc;
  if (rc == 0) {
    rc = pstore_product_exists(c, t->product_id);
    if (rc < 0) return rc;
    return rc == 0 ? OUT_NOT_FOUND : OUT_CONFLICT;
  }
  uuid_v7(t->adjustment_id);
  rc = pstore_adjustment_insert(c, t->adjustment_id, t->product_id, t->delta,
                                t->reason, t->out.stock, t->actor,
                                &t->created_at, t->arena);
  if (rc < 0) return rc;
  struct stock_change sc = {
      .sku = t->out.sku, .stock = t->out.stock, .reserved = t->out.reserved};
  snprintf(sc.product_id, sizeof sc.product_id, "%s", t->product_id);
  rc = product_emit_inventory(c, &sc, "adjustment", t->delta, 0, NULL);
  if (rc < 0) return rc;
  json_t *before = json_pack(
      "{s:I, s:I}", "stock", (json_int_t)(t->out.stock - t->delta), "available",
      (json_int_t)(t->out.stock - t->delta - t->out.reserved));
  json_t *after =
      json_pack("{s:I, s:I, s:I, s:s, s:s}", "stock", (json_int_t)t->out.stock,
                "available", (json_int_t)(t->out.stock - t->out.reserved),
                "delta", (json_int_t)t->delta, "reason", t->reason,
                "adjustment_id", t->adjustment_id);
  rc = audit_record(c, t->req, "inventory.adjust", "product", t->product_id,
                    before, after);
  json_decref(before);
  json_decref(after);
  return rc;
}

void handle_product_inventory_adjust(struct http_request *req,
                                     struct http_response *res) {
  struct adjust_tx t = {.req = req, .arena = req->arena};
  char id[UUID_STR_LEN];
  const char *raw = http_param(req, "id");
  if (raw == NULL || !uuid_normalize(raw, id)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such product", NULL);
    return;
  }
  t.product_id = id;
  const struct principal *who = auth_principal(req);
  t.actor = who->authenticated ? who->user_id : NULL;

  const struct json_field fields[] = {
      {"delta", JF_INT, true, -PRODUCT_STOCK_MAX, PRODUCT_STOCK_MAX, &t.delta},
      {"reason", JF_STRING, true, 1, 200, &t.reason},
      {"variant_id", JF_UUID, false, 0, 0, &t.variant_id, .nullable = true},
  };
  struct json_doc *doc = NULL;
  struct json_error err;
  if (json_parse_body(req->body, req->body_len, fields,
                      sizeof fields / sizeof fields[0], true, req->arena, &doc,
                      &err) != KIT_OK) {
    http_reply_json_error(res, req, &err);
    goto cleanup;
  }
  if (t.delta == 0) {
    http_reply_error(res, req, API_UNPROCESSABLE, "delta must not be zero",
                     "delta");
    goto cleanup;
  }
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, adjust_body, &t);
  if (rc == OUT_NOT_FOUND)
    http_reply_error(res, req, API_NOT_FOUND, "no such product", NULL);
  else if (rc == OUT_INVALID)
    http_reply_error(res, req, API_UNPROCESSABLE,
                     t.variant_id != NULL
                         ? "variant_id is not a variant of this product"
                         : "variant_id is required: the product has options",
                     "variant_id");
  else if (rc == OUT_CONFLICT)
    http_reply_error(res, req, API_CONFLICT,
                     "the adjustment would take stock below zero or below the "
                     "units reserved by orders",
                     "delta");
  else if (rc < 0)
    product_reply_db_failure(res, req, rc);
  else {
    pcache_invalidate(product_state(req)->cache);
    product_reply_json(
        res, 201,
        json_pack("{s:s, s:s, s:o, s:I, s:s, s:I, s:I, s:s}", "id",
                  t.adjustment_id, "product_id", t.product_id, "variant_id",
                  t.variant_id ? json_string(t.variant_id) : json_null(),
                  "delta", (json_int_t)t.delta, "reason", t.reason, "stock",
                  (json_int_t)t.out.stock, "available",
                  (json_int_t)(t.out.stock - t.out.reserved), "created_at",
                  t.created_at ? t.created_at : ""));
  }
cleanup:
  json_doc_free(doc);
}

/* --- internal: products by id ----------------------------------------------
 */

/* A PostgreSQL array literal of the UUIDs in the json array (validated:
 * nothing to escape) into *out; false after answering 422 naming field. */
static bool uuid_array(struct http_request *req, struct http_response *res,
                       const void *ids, const char *field, char **out) {
  size_t n = json_array_size(ids);
  char *array = arena_alloc(req->arena, n * 37 + 3);
  if (array == NULL) {
    product_reply_json(res, 500, NULL);
    return false;
  }
  size_t o = 0;
  array[o++] = '{';
  for (size_t i = 0; i < n; i++) {
    const char *s = json_string_value(json_array_get(ids, i));
    char norm[UUID_STR_LEN];
    if (s == NULL || !uuid_normalize(s, norm)) {
      http_reply_error(
          res, req, API_UNPROCESSABLE,
          arena_printf(req->arena, "%s[%zu] must be a UUID", field, i), field);
      return false;
    }
    if (i > 0) array[o++] = ',';
    memcpy(array + o, norm, 36);
    o += 36;
  }
  array[o++] = '}';
  array[o] = '\0';
  *out = array;
  return true;
}

static json_t *batch_variant(const struct variant_row *v) {
  char price[MONEY_BUF];
  if (v->has_price) money_format(v->price_minor, v->currency, price);
  return json_pack(
      "{s:s, s:s, s:o, s:o, s:s, s:s, s:I, s:I, s:o}", "id", v->id, "sku",
      v->sku, "options", json_loads(v->options_json, 0, NULL), "price",
      v->has_price ? json_string(price) : json_null(), "currency", v->currency,
      "status", v->status, "stock", (json_int_t)v->stock, "available",
      (json_int_t)(v->stock - v->reserved), "weight_grams",
      v->weight_grams >= 0 ? json_integer(v->weight_grams) : json_null());
}

void handle_product_batch(struct http_request *req, struct http_response *res) {
  const void *ids = NULL, *variant_ids = NULL;
  const char *currency = NULL;
  bool with_prices = false;
  const struct json_field fields[] = {
      {"ids", JF_ARRAY, true, 0, 100, &ids},
      {"variant_ids", JF_ARRAY, false, 0, 100, &variant_ids},
      {"currency", JF_STRING, false, 3, 3, &currency, .nullable = true},
      {"with_prices", JF_BOOL, false, 0, 0, &with_prices},
  };
  struct json_doc *doc = NULL;
  struct json_error err;
  if (json_parse_body(req->body, req->body_len, fields, 4, true, req->arena,
                      &doc, &err) != KIT_OK) {
    http_reply_json_error(res, req, &err);
    goto cleanup;
  }
  if (currency != NULL && !money_currency_valid(currency)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     product_price_message(PRICE_BAD_CURRENCY), "currency");
    goto cleanup;
  }
  char *array = NULL, *varray = NULL;
  if (!uuid_array(req, res, ids, "ids", &array) ||
      (variant_ids != NULL &&
       !uuid_array(req, res, variant_ids, "variant_ids", &varray)))
    goto cleanup;

  struct db_conn *conn = db_acquire(req->svc->db, 3000);
  if (conn == NULL) {
    product_reply_db_failure(res, req, DB_UNAVAILABLE);
    goto cleanup;
  }
  struct product_row *rows = NULL;
  struct variant_row *vs = NULL;
  int nv = 0;
  int count = pstore_products_batch(conn, req->arena, array, &rows);
  /* In a currency: each product's price in it, or none (price null). */
  for (int i = 0; count > 0 && currency != NULL && i < count; i++) {
    if (strcmp(rows[i].currency, currency) == 0) continue;
    int rc = pstore_product_price_in(conn, rows[i].id, currency,
                                     &rows[i].price_minor);
    if (rc < 0) count = rc;
    rows[i].has_price = rc > 0;
    snprintf(rows[i].currency, sizeof rows[i].currency, "%s", currency);
  }
  if (count >= 0 && varray != NULL)
    nv = pstore_variants_of(conn, req->arena, "{}", currency, varray, &vs);
  /* with_prices (the search reindex): each product's whole price list. */
  struct price_entry **lists = NULL;
  int *list_n = NULL;
  if (count > 0 && with_prices) {
    lists = arena_alloc(req->arena, sizeof *lists * (size_t)count);
    list_n = arena_alloc(req->arena, sizeof *list_n * (size_t)count);
    if (lists == NULL || list_n == NULL) count = DB_HARD_ERROR;
    for (int i = 0; count > 0 && i < count; i++) {
      list_n[i] =
          pstore_product_prices(conn, req->arena, rows[i].id, &lists[i]);
      if (list_n[i] < 0) count = list_n[i];
    }
  }
  db_release(req->svc->db, conn);
  if (count < 0 || nv < 0) {
    product_reply_db_failure(res, req, count < 0 ? count : nv);
    goto cleanup;
  }
  json_t *items = json_array();
  for (int i = 0; i < count; i++) {
    const struct product_row *p = &rows[i];
    char price[MONEY_BUF];
    money_format(p->price_minor, p->currency, price);
    json_t *variants = json_array();
    for (int j = 0; j < nv; j++)
      if (strcmp(vs[j].product_id, p->id) == 0)
        json_array_append_new(variants, batch_variant(&vs[j]));
    json_array_append_new(
        items,
        json_pack(
            "{s:s, s:s, s:s, s:o, s:s, s:s, s:I, s:I, s:o, s:b, s:o}", "id",
            p->id, "sku", p->sku, "name", p->name, "price",
            p->has_price ? json_string(price) : json_null(), "currency",
            p->currency, "status", p->status, "stock", (json_int_t)p->stock,
            "available", (json_int_t)(p->stock - p->reserved), "weight_grams",
            p->weight_grams >= 0 ? json_integer(p->weight_grams) : json_null(),
            "has_options", p->has_options, "variants", variants));
    json_t *item = json_array_get(items, json_array_size(items) - 1);
    json_object_set_new(item, "category_id",
                        p->category_id[0] ? json_string(p->category_id)
                                          : json_null());
    if (lists != NULL)
      json_object_set_new(item, "prices",
                          product_render_prices(lists[i], list_n[i]));
  }
  product_reply_json(res, 200, json_pack("{s:o}", "items", items));
cleanup:
  json_doc_free(doc);
}

/* --- reservations ------------------------------------------------------------
 */

static json_t *render_lines(const struct reservation_line *lines, int n) {
  json_t *arr = json_array();
  for (int i = 0; i < n; i++)
    json_array_append_new(
        arr, json_pack("{s:s, s:o, s:I}", "product_id", lines[i].product_id,
                       "variant_id",
                       lines[i].variant_id[0] ? json_string(lines[i].variant_id)
                                              : json_null(),
                       "quantity", (json_int_t)lines[i].quantity));
  return arr;
}

static json_t *render_reservation(const struct reservation_row *r,
                                  const struct reservation_line *lines, int n) {
  return json_pack("{s:s, s:s, s:s, s:o}", "order_id", r->order_id, "status",
                   product_reservation_status(r->status, r->past_expiry),
                   "expires_at", r->expires_at, "lines",
                   render_lines(lines, n));
}

/* Emits inventory.changed for each moved product. */
static int emit_changes(struct db_conn *c, const struct stock_change *ch, int n,
                        const char *reason, int stock_sign, int reserved_sign,
                        const char *order_id) {
  for (int i = 0; i < n; i++) {
    int rc =
        product_emit_inventory(c, &ch[i], reason, stock_sign * ch[i].quantity,
                               reserved_sign * ch[i].quantity, order_id);
    if (rc < 0) return rc;
  }
  return 0;
}

struct reserve_tx {
  struct arena *arena;
  const char *order_id;
  int64_t ttl;
  struct reservation_line *lines;
  size_t count;
  bool existing;                   /* the order had a reservation already */
  const char *unknown, *short_ids; /* comma lists for the answer */
  struct reservation_row row;
  struct reservation_line *stored;
  int stored_count;
};

static const char *append_id(struct arena *a, const char *list,
                             const char *id) {
  return list == NULL ? arena_strdup(a, id)
                      : arena_printf(a, "%s,%s", list, id);
}

static int load_reservation(struct db_conn *c, struct reserve_tx *t) {
  int rc = pstore_reservation_get(c, t->arena, t->order_id, false, &t->row);
  if (rc <= 0) return rc < 0 ? rc : DB_HARD_ERROR;
  rc = pstore_reservation_lines(c, t->arena, t->order_id, &t->stored);
  if (rc < 0) return rc;
  t->stored_count = rc;
  return 0;
}

static int reserve_body(struct db_conn *c, void *arg) {
  struct reserve_tx *t = arg;
  t->unknown = t->short_ids = NULL;
  t->existing = false;
  int rc = pstore_reservation_insert(c, t->order_id, t->ttl);
  if (rc < 0) return rc;
  if (rc == 0) {
    t->existing = true; /* idempotent on order_id */
    return load_reservation(c, t);
  }
  struct stock_change *changes =
      arena_alloc(t->arena, sizeof *changes * t->count);
  if (changes == NULL) return DB_HARD_ERROR;
  for (size_t i = 0; i < t->count; i++) {
    const struct reservation_line *l = &t->lines[i];
    rc = pstore_reserve_line(c, t->arena, t->order_id, l->product_id,
                             l->variant_id, l->quantity, &changes[i]);
    if (rc < 0) return rc;
    if (rc > 0) continue;
    /* Keep going: the answer names every line that cannot be served. An
     * unknown product or variant, or a product with options asked without
     * a variant, is not a shortage but a bad line. */
    bool has_options = false;
    rc = pstore_product_kind(c, l->product_id, &has_options);
    if (rc > 0 && l->variant_id[0] != '\0')
      rc = pstore_variant_exists(c, l->variant_id, l->product_id);
    else if (rc > 0 && has_options)
      rc = 0;
    if (rc < 0) return rc;
    const char *what = l->variant_id[0] ? l->variant_id : l->product_id;
    if (rc == 0)
      t->unknown = append_id(t->arena, t->unknown, what);
    else
      t->short_ids = append_id(t->arena, t->short_ids, what);
  }
  if (t->unknown != NULL) return OUT_INVALID;
  if (t->short_ids != NULL) return OUT_CONFLICT;
  rc = emit_changes(c, changes, (int)t->count, "reserved", 0, 1, t->order_id);
  if (rc < 0) return rc;
  return load_reservation(c, t);
}

void handle_product_reservation_create(struct http_request *req,
                                       struct http_response *res) {
  const char *order_id = NULL;
  const void *lines = NULL;
  int64_t ttl = RESERVATION_TTL_DEFAULT;
  const struct json_field fields[] = {
      {"order_id", JF_UUID, true, 0, 0, &order_id},
      {"lines", JF_ARRAY, true, 1, RESERVATION_MAX_LINES, &lines},
      {"ttl_seconds", JF_INT, false, 1, RESERVATION_TTL_MAX, &ttl},
  };
  struct json_doc *doc = NULL;
  struct json_error err;
  if (json_parse_body(req->body, req->body_len, fields,
                      sizeof fields / sizeof fields[0], true, req->arena, &doc,
                      &err) != KIT_OK) {
    http_reply_json_error(res, req, &err);
    goto cleanup;
  }
  size_t n = json_array_size(lines);
  struct reservation_line *rl = arena_alloc(req->arena, sizeof *rl * n);
  if (rl == NULL) {
    product_reply_json(res, 500, NULL);
    goto cleanup;
  }
  for (size_t i = 0; i < n; i++) {
    const char *pid = NULL, *vid = NULL;
    int64_t qty = 0;
    const struct json_field lf[] = {
        {"product_id", JF_UUID, true, 0, 0, &pid},
        {"quantity", JF_INT, true, 1, RESERVATION_MAX_QUANTITY, &qty},
        {"variant_id", JF_UUID, false, 0, 0, &vid, .nullable = true},
    };
    if (json_read_fields(json_array_get(lines, i), lf, 3, true, req->arena,
                         &err) != KIT_OK) {
      char field[96];
      snprintf(field, sizeof field, "lines[%zu].%.40s", i, err.field);
      http_reply_error(res, req, err.code, err.message, field);
      goto cleanup;
    }
    snprintf(rl[i].product_id, sizeof rl[i].product_id, "%s", pid);
    snprintf(rl[i].variant_id, sizeof rl[i].variant_id, "%s",
             vid != NULL ? vid : "");
    rl[i].quantity = qty;
  }
  bool overflow = false;
  n = product_reservation_lines_normalize(rl, n, &overflow);
  if (overflow) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "quantity of one product or variant must be at most "
                     "10000",
                     "lines");
    goto cleanup;
  }
  struct reserve_tx t = {.arena = req->arena,
                         .order_id = order_id,
                         .ttl = ttl,
                         .lines = rl,
                         .count = n};
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, reserve_body, &t);
  if (rc == OUT_INVALID)
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "unknown products or variants (a product with options "
                     "needs a variant_id)",
                     t.unknown);
  else if (rc == OUT_CONFLICT)
    http_reply_error(res, req, API_CONFLICT,
                     "not enough stock for some lines; nothing was reserved",
                     t.short_ids);
  else if (rc < 0)
    product_reply_db_failure(res, req, rc);
  else
    product_reply_json(res, t.existing ? 200 : 201,
                       render_reservation(&t.row, t.stored, t.stored_count));
cleanup:
  json_doc_free(doc);
}

/* Commit, release and expiry share one shape: lock, decide, move units. */
enum reservation_action { ACT_COMMIT, ACT_RELEASE, ACT_EXPIRE };

enum reservation_answer {
  ANS_DONE = 0, /* the action happened (or had already) */
  ANS_GONE,     /* commit of a released/expired reservation: 409 */
  ANS_SKIPPED,  /* the sweeper found it no longer due */
};

struct settle_tx {
  struct arena *arena;
  const char *order_id;
  enum reservation_action action;
  enum reservation_answer answer;
  char status[12]; /* the stored status afterwards */
};

/* Moves the reservation's units and sets its status, with one
 * inventory.changed per product. */
static int settle(struct db_conn *c, struct settle_tx *t, enum unit_move move,
                  const char *status, const char *reason) {
  int rc = pstore_lock_lines(c, t->order_id);
  if (rc < 0) return rc;
  struct stock_change *ch = NULL;
  int n = pstore_move_units(c, t->arena, t->order_id, move, &ch);
  if (n < 0) return n;
  rc = pstore_reservation_set_status(c, t->order_id, status);
  if (rc < 0) return rc;
  snprintf(t->status, sizeof t->status, "%s", status);
  int stock_sign = move == MOVE_COMMIT ? -1 : move == MOVE_RESTOCK ? 1 : 0;
  int reserved_sign = move == MOVE_RESTOCK ? 0 : -1;
  return emit_changes(c, ch, n, reason, stock_sign, reserved_sign, t->order_id);
}

static int settle_body(struct db_conn *c, void *arg) {
  struct settle_tx *t = arg;
  struct reservation_row r;
  t->answer = ANS_DONE;
  int rc = pstore_reservation_get(c, t->arena, t->order_id, true, &r);
  if (rc <= 0) return rc < 0 ? rc : OUT_NOT_FOUND;
  snprintf(t->status, sizeof t->status, "%s", r.status);
  bool live = strcmp(r.status, "reserved") == 0;
  bool committed = strcmp(r.status, "committed") == 0;

  switch (t->action) {
  case ACT_COMMIT:
    if (committed) return 0;
    if (!live) {
      t->answer = ANS_GONE;
      return 0;
    }
    if (r.past_expiry) {
      /* Too late: expire it now (the units go back) and say so. */
      t->answer = ANS_GONE;
      return settle(c, t, MOVE_RELEASE, "expired", "expired");
    }
    return settle(c, t, MOVE_COMMIT, "committed", "committed");
  case ACT_RELEASE:
    if (live) return settle(c, t, MOVE_RELEASE, "released", "released");
    if (committed) return settle(c, t, MOVE_RESTOCK, "released", "restocked");
    return 0; /* released or expired already: nothing held */
  case ACT_EXPIRE:
    if (!live || !r.past_expiry) {
      t->answer = ANS_SKIPPED;
      return 0;
    }
    return settle(c, t, MOVE_RELEASE, "expired", "expired");
  }
  return DB_HARD_ERROR;
}

static bool order_param(struct http_request *req, struct http_response *res,
                        char out[UUID_STR_LEN]) {
  const char *raw = http_param(req, "order_id");
  if (raw == NULL || !uuid_normalize(raw, out)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such reservation", NULL);
    return false;
  }
  return true;
}

static void settle_request(struct http_request *req, struct http_response *res,
                           enum reservation_action action) {
  char order_id[UUID_STR_LEN];
  if (!order_param(req, res, order_id)) return;
  struct settle_tx t = {
      .arena = req->arena, .order_id = order_id, .action = action};
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, settle_body, &t);
  if (rc == OUT_NOT_FOUND) {
    http_reply_error(res, req, API_NOT_FOUND, "no such reservation", NULL);
  } else if (rc < 0) {
    product_reply_db_failure(res, req, rc);
  } else if (t.answer == ANS_GONE) {
    http_reply_error(res, req, API_CONFLICT,
                     arena_printf(req->arena,
                                  "the reservation is %s and cannot be "
                                  "committed",
                                  t.status),
                     t.status);
  } else {
    const char *status = action == ACT_COMMIT ? "committed" : "released";
    product_reply_json(
        res, 200,
        json_pack("{s:s, s:s}", "order_id", order_id, "status", status));
  }
}

void handle_product_reservation_commit(struct http_request *req,
                                       struct http_response *res) {
  settle_request(req, res, ACT_COMMIT);
}

void handle_product_reservation_release(struct http_request *req,
                                        struct http_response *res) {
  settle_request(req, res, ACT_RELEASE);
}

void handle_product_reservation_get(struct http_request *req,
                                    struct http_response *res) {
  char order_id[UUID_STR_LEN];
  if (!order_param(req, res, order_id)) return;
  struct db_conn *conn = db_acquire(req->svc->db, 3000);
  if (conn == NULL) {
    product_reply_db_failure(res, req, DB_UNAVAILABLE);
    return;
  }
  struct reservation_row r;
  struct reservation_line *lines = NULL;
  int rc = pstore_reservation_get(conn, req->arena, order_id, false, &r);
  int n =
      rc > 0 ? pstore_reservation_lines(conn, req->arena, order_id, &lines) : 0;
  db_release(req->svc->db, conn);
  if (rc < 0 || n < 0) {
    product_reply_db_failure(res, req, rc < 0 ? rc : n);
    return;
  }
  if (rc == 0) {
    http_reply_error(res, req, API_NOT_FOUND, "no such reservation", NULL);
    return;
  }
  product_reply_json(res, 200, render_reservation(&r, lines, n));
}

/* --- the sweeper
 * --------------------------------------------------------------- */

void product_reservation_sweep(void *arg) {
  struct service *svc = arg;
  struct product_state *st = svc->state;
  struct arena a;
  arena_init(&a, 4096);
  struct db_conn *conn = db_acquire(svc->db, 1000);
  if (conn == NULL) goto cleanup;
  char(*ids)[37] = NULL;
  int n = pstore_expired_reservations(conn, &a, 100, &ids);
  db_release(svc->db, conn);
  int expired = 0;
  for (int i = 0; i < n && !worker_stopping(&st->sweeper); i++) {
    struct settle_tx t = {
        .arena = &a, .order_id = ids[i], .action = ACT_EXPIRE};
    int rc = db_transaction(svc->db, DB_READ_COMMITTED, settle_body, &t);
    if (rc < 0)
      log_warn("reservation sweeper: cannot expire %s (status %d)", ids[i], rc);
    else if (t.answer == ANS_DONE)
      expired++;
  }
  if (expired > 0)
    log_info("reservation sweeper: expired %d reservation(s)", expired);
  /* A full batch means more are waiting. */
  if (n == 100) worker_kick(&st->sweeper);
cleanup:
  arena_free(&a);
}
