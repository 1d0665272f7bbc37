/* handlers_redemptions.c - promotions at work: pricing a cart with its
 * promotions (the cart's reads, its discount codes, the checkout saga's
 * pricing call) and the redemptions of the checkout saga.
 *
 * The saga's calls are idempotent on the order id: a reservation takes one
 * use of every promotion of the order with a guarded UPDATE (never beyond
 * the usage limit), all or none; commit marks them final; release gives
 * them back, whatever their state, and repeating it changes nothing.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/handler.h"
#include "kit/json.h"
#include "kit/log.h"
#include "kit/money.h"
#include "kit/service.h"
#include "kit/uuid.h"
#include "services/cart/catalog.h"
#include "services/cart/promo_store.h"
#include "services/cart/promotions.h"

void *cart_discounts_json(const struct cart_discounts *d,
                          const char *currency) {
  json_t *arr = json_array();
  char buf[MONEY_BUF];
  for (size_t i = 0; i < d->count; i++) {
    const struct cart_discount *x = &d->items[i];
    char zero[MONEY_BUF];
    json_array_append_new(
        arr,
        json_pack("{s:o, s:s, s:s, s:s, s:s, s:o}", "code",
                  x->code ? json_string(x->code) : json_null(), "promotion_id",
                  x->promotion_id, "type", promo_type_name(x->type),
                  "description", x->description ? x->description : "", "amount",
                  money_format(x->amount, currency, buf), "shipping_discount",
                  x->type == PROMO_FREE_SHIPPING
                      ? json_null()
                      : json_string(money_format(0, currency, zero))));
  }
  return arr;
}

/* --- pricing a cart --- */

static bool needs_categories(const struct promo_row *rows, int n) {
  for (int i = 0; i < n; i++)
    if (rows[i].category_count > 0) return true;
  return false;
}

enum api_error cart_promotions_price(struct http_request *req,
                                     const struct cart_record *cart,
                                     const char *user_id,
                                     struct price_line *lines, size_t n,
                                     bool strict, struct cart_discounts *out) {
  struct arena *a = req->arena;
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < n; i++)
    lines[i].discount = 0;
  const char *codes[CART_MAX_CODES];
  for (size_t i = 0; i < cart->code_count; i++)
    codes[i] = cart->codes[i];

  struct promo_row *rows = NULL;
  struct db_conn *c = db_acquire(req->svc->db, PROMO_DB_WAIT_MS);
  int count = c == NULL ? DB_UNAVAILABLE
                        : promo_store_for_cart(c, a, codes, cart->code_count,
                                               user_id, &rows);
  if (c != NULL) db_release(req->svc->db, c);
  if (count < 0 && !strict) {
    /* A cart stays readable while PostgreSQL is away (carts live in
     * Redis): shown without promotions; checkout prices them strictly. */
    log_warn("cart %s: promotions unavailable (%d): shown without them",
             cart->id, count);
    return API_OK;
  }
  if (count < 0) return API_DATABASE_ERROR;
  if (count == 0) return API_OK;

  /* Categories, when a promotion targets some and a line has none yet. */
  if (needs_categories(rows, count) && n > 0) {
    const char **ids = arena_alloc(a, sizeof *ids * n);
    struct catalog_item *cat = arena_alloc(a, sizeof *cat * n);
    if (ids == NULL || cat == NULL) return API_INTERNAL_ERROR;
    for (size_t i = 0; i < n; i++)
      ids[i] = lines[i].product_id;
    enum api_error e =
        cart_catalog_lookup(req, ids, NULL, n, cart->currency, cat);
    if (e != API_OK) return e;
    for (size_t i = 0; i < n; i++)
      if (lines[i].category_id == NULL && cat[i].found)
        lines[i].category_id = cat[i].category_id;
  }

  /* Automatic promotions (the store's order), then the cart's codes in
   * the order applied; a code no live promotion has is skipped (or, strict,
   * refused). Codes that cannot be combined: the first one wins. */
  struct promo *promos = arena_alloc(a, sizeof *promos * (size_t)count);
  const struct promo_row **src = arena_alloc(a, sizeof *src * (size_t)count);
  struct promo_result *results =
      arena_alloc(a, sizeof *results * (size_t)count);
  out->items = arena_alloc(a, sizeof *out->items * (size_t)count);
  if (!promos || !src || !results || !out->items) return API_INTERNAL_ERROR;
  size_t m = 0;
  for (int i = 0; i < count; i++)
    if (rows[i].code == NULL) src[m++] = &rows[i];
  const struct promo *on_cart[CART_MAX_CODES];
  size_t n_codes = 0;
  for (size_t k = 0; k < cart->code_count; k++) {
    const struct promo_row *row = NULL;
    for (int i = 0; i < count && row == NULL; i++)
      if (rows[i].code && strcmp(rows[i].code, cart->codes[k]) == 0)
        row = &rows[i];
    if (row == NULL) {
      if (strict && out->bad_code == NULL) {
        out->bad_code = arena_strdup(a, cart->codes[k]);
        out->bad_reason = "is unknown";
      }
      continue;
    }
    struct promo p;
    promo_from_row(row, &p);
    promos[m] = p;
    if (!promo_can_stack(on_cart, n_codes, &promos[m])) {
      if (strict && out->bad_code == NULL) {
        out->bad_code = row->code;
        out->bad_reason = "cannot be combined with the other codes";
      }
      continue;
    }
    on_cart[n_codes++] = &promos[m];
    src[m++] = row;
  }
  for (size_t j = 0; j < m; j++)
    promo_from_row(src[j], &promos[j]);
  int64_t total = 0;
  bool free_shipping = false;
  if (!promo_price(lines, n, cart->currency, promos, m, results, &total,
                   &free_shipping))
    return API_UNPROCESSABLE;
  for (size_t j = 0; j < m; j++) {
    const struct promo_row *row = src[j];
    if (!results[j].applied) {
      if (strict && row->code != NULL && out->bad_code == NULL) {
        out->bad_code = row->code;
        out->bad_reason = promo_check_message(results[j].check);
      }
      continue;
    }
    /* A code shows once applied; an automatic promotion when it gave
     * something. */
    if (row->code == NULL && results[j].amount == 0 &&
        row->type != PROMO_FREE_SHIPPING)
      continue;
    out->items[out->count++] = (struct cart_discount){
        row->code, row->id, results[j].amount, row->type, row->description};
  }
  out->total = total;
  out->free_shipping = free_shipping;
  return API_OK;
}

/* --- internal: the checkout saga --- */

/* POST /internal/carts/{id}/pricing {user_id?, lines: [{product_id,
 * variant_id?, unit_price, quantity}]}: the order service's prices of the
 * cart's lines, with what the cart's promotions take (strict: a code that
 * no longer applies is 422 naming it). */
void cart_handle_internal_pricing(struct http_request *req,
                                  struct http_response *res) {
  const char *id = http_param(req, "id");
  const char *user_id = NULL;
  const void *lines_json = NULL;
  const struct json_field fields[] = {
      {"user_id", JF_UUID, false, 0, 0, &user_id, .nullable = true},
      {"lines", JF_ARRAY, true, 0, CART_MAX_LINES, &lines_json},
  };
  struct json_doc *doc = NULL;
  if (!http_read_body(req, res, fields, 2, true, &doc)) goto cleanup;
  char norm[UUID_STR_LEN];
  struct cart_record cart;
  int rc = id && uuid_normalize(id, norm)
               ? cart_store_load(req->svc->kv, req->arena, norm, &cart)
               : KIT_NOT_FOUND;
  if (rc == KIT_OK && !cart_can_access(cart.user_id, user_id != NULL, user_id))
    rc = KIT_NOT_FOUND;
  if (rc != KIT_OK) {
    http_reply_error(
        res, req, rc == KIT_NOT_FOUND ? API_NOT_FOUND : API_SERVICE_UNAVAILABLE,
        "no such cart", NULL);
    goto cleanup;
  }
  size_t n = json_array_size(lines_json);
  struct price_line *lines = arena_alloc(req->arena, sizeof *lines * (n + 1));
  if (lines == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    goto cleanup;
  }
  for (size_t i = 0; i < n; i++) {
    const char *pid = NULL, *vid = NULL, *price = NULL;
    int64_t qty = 0;
    const struct json_field lf[] = {
        {"product_id", JF_UUID, true, 0, 0, &pid},
        {"variant_id", JF_UUID, false, 0, 0, &vid, .nullable = true},
        {"unit_price", JF_MONEY, true, 0, 0, &price},
        {"quantity", JF_INT, true, 1, CART_MAX_QUANTITY, &qty},
    };
    struct json_error err;
    if (json_read_fields(json_array_get(lines_json, i), lf, 4, true, req->arena,
                         &err) != KIT_OK) {
      http_reply_json_error(res, req, &err);
      goto cleanup;
    }
    lines[i] = (struct price_line){pid, NULL, 0, qty, 0};
    if (money_parse(price, cart.currency, &lines[i].unit_price) != KIT_OK) {
      http_reply_error(res, req, API_UNPROCESSABLE,
                       "unit_price is not an amount in the cart's currency",
                       "lines");
      goto cleanup;
    }
  }
  struct cart_discounts d;
  enum api_error e =
      cart_promotions_price(req, &cart, user_id, lines, n, true, &d);
  if (e != API_OK) {
    http_reply_error(res, req, e, "the cart's promotions cannot be priced",
                     NULL);
    goto cleanup;
  }
  if (d.bad_code != NULL) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     arena_printf(req->arena, "the discount code %s %s",
                                  d.bad_code, d.bad_reason),
                     "discount_codes");
    goto cleanup;
  }
  char buf[MONEY_BUF];
  json_t *out_lines = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(
        out_lines,
        json_pack("{s:s, s:s}", "product_id", lines[i].product_id, "discount",
                  money_format(lines[i].discount, cart.currency, buf)));
  json_t *body =
      json_pack("{s:s, s:s, s:b, s:o, s:o}", "currency", cart.currency,
                "discount_total", money_format(d.total, cart.currency, buf),
                "free_shipping", d.free_shipping, "discounts",
                cart_discounts_json(&d, cart.currency), "lines", out_lines);
  http_reply_json(res, 200, body);
  json_decref(body);
cleanup:
  json_doc_free(doc);
}

struct reserve_tx {
  const char *order_id, *user_id;
  const char **ids, **codes;
  size_t n;
  bool already;
  size_t failed; /* index of the promotion refused */
  enum promo_reserve outcome;
};

static int reserve_tx_fn(struct db_conn *c, void *arg) {
  struct reserve_tx *t = arg;
  int rc = promo_store_redemptions_of(c, t->order_id);
  if (rc < 0) return rc;
  if (rc > 0) {
    t->already = true;
    return 0;
  }
  for (size_t i = 0; i < t->n; i++) {
    rc =
        promo_store_reserve(c, t->ids[i], t->order_id, t->user_id, &t->outcome);
    if (rc < 0) return rc;
    if (t->outcome != PROMO_RESERVED) {
      t->failed = i;
      return DB_HARD_ERROR; /* roll back every use taken so far */
    }
  }
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* POST /internal/promotions/reservations {order_id, user_id, promotions:
 * [{promotion_id, code}]}: one use of each, all or none (201); the same
 * order again is 200; a limit reached is 422 naming the code. */
void promo_handle_reserve(struct http_request *req, struct http_response *res) {
  const char *order_id = NULL, *user_id = NULL;
  const void *list = NULL;
  const struct json_field fields[] = {
      {"order_id", JF_UUID, true, 0, 0, &order_id},
      {"user_id", JF_UUID, true, 0, 0, &user_id},
      {"promotions", JF_ARRAY, true, 0, 20, &list},
  };
  struct json_doc *doc = NULL;
  if (!http_read_body(req, res, fields, 3, true, &doc)) goto cleanup;
  size_t n = json_array_size(list);
  struct reserve_tx t = {order_id, user_id, NULL, NULL,
                         0,        false,   0,    PROMO_RESERVED};
  t.ids = arena_alloc(req->arena, sizeof *t.ids * (n + 1));
  t.codes = arena_alloc(req->arena, sizeof *t.codes * (n + 1));
  if (t.ids == NULL || t.codes == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    goto cleanup;
  }
  for (size_t i = 0; i < n; i++) {
    const char *pid = NULL, *code = NULL;
    const struct json_field pf[] = {
        {"promotion_id", JF_UUID, true, 0, 0, &pid},
        {"code", JF_STRING, false, 0, 64, &code, .nullable = true},
    };
    struct json_error err;
    if (json_read_fields(json_array_get(list, i), pf, 2, true, req->arena,
                         &err) != KIT_OK) {
      http_reply_json_error(res, req, &err);
      goto cleanup;
    }
    /* "id|code" sorted by id: every reservation locks promotions in the
     * same order (no deadlock between two checkouts). */
    t.ids[t.n++] = arena_printf(req->arena, "%s|%s", pid, code ? code : "");
  }
  qsort(t.ids, t.n, sizeof *t.ids, cmp_str);
  for (size_t i = 0; i < t.n; i++) {
    char *bar = strchr(t.ids[i], '|');
    *bar = '\0';
    t.codes[i] = bar[1] ? bar + 1 : NULL;
  }
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, reserve_tx_fn, &t);
  if (rc < 0 && t.outcome != PROMO_RESERVED) {
    const char *what = t.codes[t.failed]
                           ? arena_printf(req->arena, "the discount code %s",
                                          t.codes[t.failed])
                           : "an automatic promotion";
    const char *why = t.outcome == PROMO_RESERVE_LIMIT
                          ? "has reached its usage limit"
                      : t.outcome == PROMO_RESERVE_CUSTOMER
                          ? "was already used as often as allowed per customer"
                          : "is no longer offered";
    http_reply_error(res, req, API_UNPROCESSABLE,
                     arena_printf(req->arena, "%s %s", what, why),
                     "discount_codes");
    goto cleanup;
  }
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    goto cleanup;
  }
  json_t *body =
      json_pack("{s:s, s:s}", "order_id", order_id, "status", "reserved");
  http_reply_json(res, t.already ? 200 : 201, body);
  json_decref(body);
cleanup:
  json_doc_free(doc);
}

/* Commits (commit) or releases the uses of the {order_id} parameter and
 * answers {order_id, status}. */
static void settle(struct http_request *req, struct http_response *res,
                   bool commit) {
  const char *raw = http_param(req, "order_id");
  char order_id[UUID_STR_LEN];
  if (raw == NULL || !uuid_normalize(raw, order_id)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such reservation", NULL);
    return;
  }
  struct db_conn *c = db_acquire(req->svc->db, PROMO_DB_WAIT_MS);
  if (c == NULL) {
    http_reply_db_error(res, req, DB_UNAVAILABLE);
    return;
  }
  int64_t released = 0;
  int rc = commit ? promo_store_commit(c, order_id, &released)
                  : promo_store_release(c, order_id);
  db_release(req->svc->db, c);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  if (commit && released > 0) {
    http_reply_error(res, req, API_CONFLICT,
                     "the order's promotion uses were released", order_id);
    return;
  }
  if (!commit && rc > 0)
    log_info("order %s: %d promotion use(s) given back", order_id, rc);
  json_t *body = json_pack("{s:s, s:s}", "order_id", order_id, "status",
                           commit ? "committed" : "released");
  http_reply_json(res, 200, body);
  json_decref(body);
}

/* POST /internal/promotions/reservations/{order_id}/commit: the order is
 * confirmed; its uses are final. 409 when they were released meanwhile. */
void promo_handle_commit(struct http_request *req, struct http_response *res) {
  settle(req, res, true);
}

/* POST /internal/promotions/reservations/{order_id}/release: the order
 * failed or was cancelled; its uses come back. Repeating is a no-op. */
void promo_handle_release(struct http_request *req, struct http_response *res) {
  settle(req, res, false);
}
