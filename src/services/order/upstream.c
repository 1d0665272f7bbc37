/* upstream.c - typed calls to the services the order service orchestrates. */
#include "services/order/upstream.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kit/client.h"
#include "kit/log.h"
#include "kit/money.h"
#include "kit/service.h"

/* One JSON call. body is borrowed (NULL for none); *answer (when not NULL)
 * receives the parsed answer of a 2xx or 4xx, owned by the caller. */
static enum upstream_outcome call(const struct up_ctx *u,
                                  enum service_id target, const char *method,
                                  const char *path, const json_t *body,
                                  unsigned *status, json_t **answer) {
  if (answer != NULL) *answer = NULL;
  char *text = NULL;
  if (body != NULL) {
    text = json_dumps(body, JSON_COMPACT);
    if (text == NULL) {
      if (status) *status = 500;
      return UP_UNKNOWN;
    }
  }
  struct client_request creq = {
      .method = method,
      .path = path,
      .body = text,
      .body_len = text ? strlen(text) : 0,
      .parent = u->parent,
  };
  struct http_response cres;
  int rc = client_call(u->svc->client, target, &creq, &cres);
  unsigned st = cres.status;
  enum upstream_outcome out;
  if (rc != KIT_OK || st >= 500 || st < 200) {
    out = UP_UNKNOWN;
    log_warn("%s %s %s: %s (%u)", service_name(target), method, path,
             rc == KIT_TIMEOUT ? "timeout" : "no good answer", st);
  } else {
    out = st < 300 ? UP_OK : UP_REFUSED;
    if (answer != NULL && cres.body_len > 0) {
      json_error_t jerr;
      *answer = json_loadb(cres.body, cres.body_len, 0, &jerr);
    }
  }
  if (status) *status = rc == KIT_TIMEOUT ? 504 : st;
  http_response_clear(&cres);
  free(text);
  return out;
}

static json_t *lines_json(const struct up_cart_line *lines, size_t n) {
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(
        arr, json_pack("{s:s, s:o, s:I}", "product_id", lines[i].product_id,
                       "variant_id",
                       lines[i].variant_id[0] ? json_string(lines[i].variant_id)
                                              : json_null(),
                       "quantity", (json_int_t)lines[i].quantity));
  return arr;
}

static const char *arena_json_str(struct arena *a, const json_t *o,
                                  const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? arena_strdup(a, s) : NULL;
}

static int64_t money_field(const json_t *o, const char *key,
                           const char *currency) {
  const char *s = json_string_value(json_object_get(o, key));
  int64_t v = 0;
  if (s == NULL || money_parse(s, currency, &v) != KIT_OK) return 0;
  return v;
}

static void read_payment(struct arena *a, const json_t *p, const char *currency,
                         struct up_payment *out) {
  memset(out, 0, sizeof *out);
  const char *cur = json_string_value(json_object_get(p, "currency"));
  if (cur == NULL) cur = currency;
  out->id = arena_json_str(a, p, "id");
  out->status = arena_json_str(a, p, "status");
  out->decline_code = arena_json_str(a, p, "decline_code");
  out->card_brand = arena_json_str(a, p, "card_brand");
  out->card_last4 = arena_json_str(a, p, "card_last4");
  out->amount = money_field(p, "amount", cur);
  out->captured = money_field(p, "captured_amount", cur);
  out->refunded = money_field(p, "refunded_amount", cur);
}

/* Copies the "details" of an error envelope into the arena. */
static const char *error_details(struct arena *a, const json_t *answer) {
  const json_t *err = json_object_get(answer, "error");
  const char *d = json_string_value(json_object_get(err, "details"));
  return d ? arena_strdup(a, d) : NULL;
}

/* --- cart ------------------------------------------------------------------
 */

enum upstream_outcome up_cart_get(const struct up_ctx *u, const char *cart_id,
                                  const char *user_id,
                                  struct up_cart_line **lines, size_t *n,
                                  char currency[4], unsigned *status) {
  char path[160];
  snprintf(path, sizeof path, "/internal/carts/%s?user_id=%s", cart_id,
           user_id);
  json_t *answer = NULL;
  enum upstream_outcome o =
      call(u, SVC_CART, "GET", path, NULL, status, &answer);
  if (o != UP_OK) goto cleanup;
  const char *cur = json_string_value(json_object_get(answer, "currency"));
  snprintf(currency, 4, "%s", cur != NULL && strlen(cur) == 3 ? cur : "");
  json_t *items = json_object_get(answer, "items");
  size_t count = json_array_size(items);
  *lines = arena_alloc(u->arena, sizeof **lines * (count + 1));
  if (*lines == NULL) {
    o = UP_UNKNOWN;
    goto cleanup;
  }
  *n = 0;
  size_t i;
  json_t *it;
  json_array_foreach(items, i, it) {
    const char *pid = json_string_value(json_object_get(it, "product_id"));
    json_t *q = json_object_get(it, "quantity");
    if (pid == NULL || !json_is_integer(q)) continue;
    const char *vid = json_string_value(json_object_get(it, "variant_id"));
    struct up_cart_line *l = &(*lines)[(*n)++];
    snprintf(l->product_id, sizeof l->product_id, "%s", pid);
    snprintf(l->variant_id, sizeof l->variant_id, "%s", vid ? vid : "");
    l->quantity = json_integer_value(q);
  }
cleanup:
  json_decref(answer);
  return o;
}

enum upstream_outcome up_cart_clear(const struct up_ctx *u, const char *cart_id,
                                    const char *order_id) {
  char path[192];
  snprintf(path, sizeof path, "/internal/carts/%s/clear?order_id=%s", cart_id,
           order_id);
  return call(u, SVC_CART, "POST", path, NULL, NULL, NULL);
}

/* --- product --- */

/* Fills p from the batch item it, or from its variant variant_id. */
static void fill_product(const struct up_ctx *u, const json_t *it,
                         const char *variant_id, struct up_product *p) {
  const json_t *src = it;
  bool has_options = json_is_true(json_object_get(it, "has_options"));
  if (variant_id[0] != '\0') {
    size_t j;
    const json_t *v;
    src = NULL;
    json_array_foreach(json_object_get(it, "variants"), j, v) {
      const char *vid = json_string_value(json_object_get(v, "id"));
      if (vid != NULL && strcasecmp(vid, variant_id) == 0) src = v;
    }
    if (src == NULL) return;
  }
  const char *currency = json_string_value(json_object_get(src, "currency"));
  const char *price = json_string_value(json_object_get(src, "price"));
  if (currency == NULL || price == NULL ||
      money_parse(price, currency, &p->price) != KIT_OK)
    return;
  const char *st = json_string_value(json_object_get(it, "status"));
  const char *vst = json_string_value(json_object_get(src, "status"));
  p->found = true;
  p->active = st != NULL && strcmp(st, "active") == 0 && vst != NULL &&
              strcmp(vst, "active") == 0 &&
              (variant_id[0] != '\0' || !has_options);
  snprintf(p->currency, sizeof p->currency, "%s", currency);
  p->sku = arena_json_str(u->arena, src, "sku");
  p->name = arena_json_str(u->arena, it, "name");
  json_t *av = json_object_get(src, "available");
  p->available = json_is_integer(av) ? json_integer_value(av) : 0;
}

enum upstream_outcome up_products(const struct up_ctx *u,
                                  const struct up_cart_line *lines, size_t n,
                                  const char *currency,
                                  struct up_product *out) {
  memset(out, 0, sizeof *out * n);
  json_t *arr = json_array();
  json_t *varr = json_array();
  for (size_t i = 0; i < n; i++) {
    json_array_append_new(arr, json_string(lines[i].product_id));
    if (lines[i].variant_id[0] != '\0')
      json_array_append_new(varr, json_string(lines[i].variant_id));
  }
  json_t *body = json_pack("{s:o, s:o, s:s}", "ids", arr, "variant_ids", varr,
                           "currency", currency);
  json_t *answer = NULL;
  unsigned status = 0;
  enum upstream_outcome o =
      call(u, SVC_PRODUCT, "POST", "/internal/products/batch", body, &status,
           &answer);
  json_decref(body);
  if (o == UP_REFUSED) o = UP_UNKNOWN; /* our request was well-formed */
  if (o != UP_OK) goto cleanup;
  size_t idx;
  json_t *it;
  json_array_foreach(json_object_get(answer, "items"), idx, it) {
    const char *id = json_string_value(json_object_get(it, "id"));
    if (id == NULL) continue;
    for (size_t i = 0; i < n; i++)
      if (strcasecmp(lines[i].product_id, id) == 0)
        fill_product(u, it, lines[i].variant_id, &out[i]);
  }
cleanup:
  json_decref(answer);
  return o;
}

/* --- shipping --- */

enum upstream_outcome
up_shipping_quote(const struct up_ctx *u, const void *address,
                  const struct up_cart_line *lines, size_t n, int64_t subtotal,
                  const char *currency, const char *method, int64_t *amount,
                  unsigned *status) {
  char sub[MONEY_BUF];
  json_t *body =
      json_pack("{s:O, s:o, s:s, s:s}", "address", (json_t *)address, "items",
                lines_json(lines, n), "subtotal",
                money_format(subtotal, currency, sub), "currency", currency);
  json_t *answer = NULL;
  enum upstream_outcome o =
      call(u, SVC_SHIPPING, "POST", "/internal/shipping/quote", body, status,
           &answer);
  json_decref(body);
  if (o != UP_OK) goto cleanup;
  o = UP_REFUSED;
  *status = 422;
  size_t i;
  json_t *it;
  json_array_foreach(json_object_get(answer, "items"), i, it) {
    const char *m = json_string_value(json_object_get(it, "method"));
    const char *cur = json_string_value(json_object_get(it, "currency"));
    const char *amt = json_string_value(json_object_get(it, "amount"));
    if (m == NULL || amt == NULL || strcmp(m, method) != 0) continue;
    if (cur != NULL && strcmp(cur, currency) != 0) {
      log_error("shipping quoted %s in %s for an order in %s", m, cur,
                currency);
      continue;
    }
    if (money_parse(amt, currency, amount) == KIT_OK) {
      o = UP_OK;
      *status = 200;
    }
    break;
  }
cleanup:
  json_decref(answer);
  return o;
}

/* --- reservations --- */

enum upstream_outcome up_reserve(const struct up_ctx *u, const char *order_id,
                                 const struct up_cart_line *lines, size_t n,
                                 unsigned *status, const char **details) {
  json_t *body = json_pack("{s:s, s:o}", "order_id", order_id, "lines",
                           lines_json(lines, n));
  json_t *answer = NULL;
  enum upstream_outcome o = call(
      u, SVC_PRODUCT, "POST", "/internal/reservations", body, status, &answer);
  json_decref(body);
  if (details)
    *details = o == UP_REFUSED ? error_details(u->arena, answer) : NULL;
  json_decref(answer);
  return o;
}

enum upstream_outcome up_reservation_commit(const struct up_ctx *u,
                                            const char *order_id,
                                            unsigned *status) {
  char path[128];
  snprintf(path, sizeof path, "/internal/reservations/%s/commit", order_id);
  return call(u, SVC_PRODUCT, "POST", path, NULL, status, NULL);
}

enum upstream_outcome up_reservation_release(const struct up_ctx *u,
                                             const char *order_id) {
  char path[128];
  unsigned status = 0;
  snprintf(path, sizeof path, "/internal/reservations/%s/release", order_id);
  enum upstream_outcome o =
      call(u, SVC_PRODUCT, "POST", path, NULL, &status, NULL);
  /* Nothing reserved under that order: nothing to give back. */
  if (o == UP_REFUSED && status == 404) return UP_OK;
  return o;
}

/* --- promotions --- */

static const char *error_message(struct arena *a, const json_t *answer) {
  const json_t *err = json_object_get(answer, "error");
  const char *m = json_string_value(json_object_get(err, "message"));
  return m ? arena_strdup(a, m) : NULL;
}

enum upstream_outcome up_cart_pricing(const struct up_ctx *u,
                                      const char *cart_id, const char *user_id,
                                      const struct up_cart_line *lines,
                                      const int64_t *unit_prices, size_t n,
                                      const char *currency,
                                      struct up_pricing *out, unsigned *status,
                                      const char **message) {
  memset(out, 0, sizeof *out);
  *message = NULL;
  out->line_discount =
      arena_alloc(u->arena, sizeof *out->line_discount * (n + 1));
  if (out->line_discount == NULL) return UP_UNKNOWN;
  json_t *arr = json_array();
  char price[MONEY_BUF];
  for (size_t i = 0; i < n; i++)
    json_array_append_new(
        arr,
        json_pack("{s:s, s:o, s:s, s:I}", "product_id", lines[i].product_id,
                  "variant_id",
                  lines[i].variant_id[0] ? json_string(lines[i].variant_id)
                                         : json_null(),
                  "unit_price", money_format(unit_prices[i], currency, price),
                  "quantity", (json_int_t)lines[i].quantity));
  json_t *body = json_pack("{s:s, s:o}", "user_id", user_id, "lines", arr);
  char path[128];
  snprintf(path, sizeof path, "/internal/carts/%s/pricing", cart_id);
  json_t *answer = NULL;
  enum upstream_outcome o =
      call(u, SVC_CART, "POST", path, body, status, &answer);
  json_decref(body);
  if (o == UP_REFUSED) *message = error_message(u->arena, answer);
  if (o != UP_OK) goto cleanup;
  const json_t *lines_out = json_object_get(answer, "lines");
  const json_t *discounts = json_object_get(answer, "discounts");
  if (json_array_size(lines_out) != n || !json_is_array(discounts)) {
    o = UP_UNKNOWN;
    goto cleanup;
  }
  for (size_t i = 0; i < n; i++)
    out->line_discount[i] =
        money_field(json_array_get(lines_out, i), "discount", currency);
  out->discount_total = money_field(answer, "discount_total", currency);
  out->free_shipping = json_is_true(json_object_get(answer, "free_shipping"));
  out->count = json_array_size(discounts);
  char *text = json_dumps(discounts, JSON_COMPACT);
  out->discounts = text ? arena_strdup(u->arena, text) : NULL;
  free(text);
  if (out->discounts == NULL) o = UP_UNKNOWN;
cleanup:
  json_decref(answer);
  return o;
}

enum upstream_outcome up_promo_reserve(const struct up_ctx *u,
                                       const char *order_id,
                                       const char *user_id,
                                       const char *discounts, unsigned *status,
                                       const char **message) {
  *message = NULL;
  json_error_t jerr;
  json_t *list = json_loads(discounts ? discounts : "[]", 0, &jerr);
  json_t *promos = json_array();
  size_t i;
  json_t *d;
  json_array_foreach(list, i, d) {
    json_array_append_new(promos,
                          json_pack("{s:O, s:O}", "promotion_id",
                                    json_object_get(d, "promotion_id"), "code",
                                    json_object_get(d, "code")));
  }
  json_decref(list);
  json_t *body = json_pack("{s:s, s:s, s:o}", "order_id", order_id, "user_id",
                           user_id, "promotions", promos);
  json_t *answer = NULL;
  enum upstream_outcome o =
      call(u, SVC_CART, "POST", "/internal/promotions/reservations", body,
           status, &answer);
  json_decref(body);
  if (o == UP_REFUSED) *message = error_message(u->arena, answer);
  json_decref(answer);
  return o;
}

enum upstream_outcome up_promo_commit(const struct up_ctx *u,
                                      const char *order_id, unsigned *status) {
  char path[160];
  snprintf(path, sizeof path, "/internal/promotions/reservations/%s/commit",
           order_id);
  return call(u, SVC_CART, "POST", path, NULL, status, NULL);
}

enum upstream_outcome up_promo_release(const struct up_ctx *u,
                                       const char *order_id) {
  char path[160];
  unsigned status = 0;
  snprintf(path, sizeof path, "/internal/promotions/reservations/%s/release",
           order_id);
  return call(u, SVC_CART, "POST", path, NULL, &status, NULL);
}

/* --- payments --- */

enum upstream_outcome up_authorize(const struct up_ctx *u, const char *order_id,
                                   const char *user_id, int64_t amount,
                                   const char *currency, const char *token,
                                   struct up_payment *out, unsigned *status) {
  char amt[MONEY_BUF];
  json_t *body =
      json_pack("{s:s, s:s, s:s, s:s, s:s}", "order_id", order_id, "user_id",
                user_id, "amount", money_format(amount, currency, amt),
                "currency", currency, "token", token);
  json_t *answer = NULL;
  enum upstream_outcome o =
      call(u, SVC_PAYMENT, "POST", "/internal/payments/authorize", body, status,
           &answer);
  json_decref(body);
  memset(out, 0, sizeof *out);
  if (o == UP_OK) read_payment(u->arena, answer, currency, out);
  json_decref(answer);
  return o;
}

enum upstream_outcome up_payment_of_order(const struct up_ctx *u,
                                          const char *order_id,
                                          const char *currency,
                                          struct up_payment *out,
                                          unsigned *status) {
  char path[128];
  snprintf(path, sizeof path, "/internal/payments?order_id=%s", order_id);
  json_t *answer = NULL;
  enum upstream_outcome o =
      call(u, SVC_PAYMENT, "GET", path, NULL, status, &answer);
  if (o != UP_OK) goto cleanup;
  json_t *items = json_object_get(answer, "items");
  size_t n = json_array_size(items);
  if (n == 0) {
    o = UP_REFUSED;
    *status = 404;
    goto cleanup;
  }
  /* The payment is keyed by the order id: there is one; take the last. */
  read_payment(u->arena, json_array_get(items, n - 1), currency, out);
cleanup:
  json_decref(answer);
  return o;
}

enum upstream_outcome up_payment_void(const struct up_ctx *u, const char *id,
                                      unsigned *status) {
  char path[128];
  snprintf(path, sizeof path, "/internal/payments/%s/void", id);
  return call(u, SVC_PAYMENT, "POST", path, NULL, status, NULL);
}

static enum upstream_outcome
money_call(const struct up_ctx *u, const char *id, const char *verb,
           int64_t amount, const char *currency, const char *refund_id,
           struct up_payment *out, unsigned *status) {
  char path[128], amt[MONEY_BUF];
  snprintf(path, sizeof path, "/internal/payments/%s/%s", id, verb);
  json_t *body = amount >= 0 ? json_pack("{s:s}", "amount",
                                         money_format(amount, currency, amt))
                             : json_object();
  if (refund_id != NULL)
    json_object_set_new(body, "refund_id", json_string(refund_id));
  json_t *answer = NULL;
  enum upstream_outcome o =
      call(u, SVC_PAYMENT, "POST", path, body, status, &answer);
  json_decref(body);
  memset(out, 0, sizeof *out);
  if (o == UP_OK) read_payment(u->arena, answer, currency, out);
  json_decref(answer);
  return o;
}

enum upstream_outcome up_payment_capture(const struct up_ctx *u, const char *id,
                                         const char *currency,
                                         struct up_payment *out,
                                         unsigned *status) {
  return money_call(u, id, "capture", -1, currency, NULL, out, status);
}

enum upstream_outcome up_payment_refund(const struct up_ctx *u, const char *id,
                                        int64_t amount, const char *currency,
                                        const char *refund_id,
                                        struct up_payment *out,
                                        unsigned *status) {
  return money_call(u, id, "refund", amount, currency, refund_id, out, status);
}

/* --- shipments --- */

enum upstream_outcome
up_create_shipment(const struct up_ctx *u, const char *order_id,
                   const char *user_id, const void *address, const char *method,
                   const struct up_cart_line *lines, size_t n,
                   const char **shipment_id, unsigned *status) {
  json_t *body = json_pack("{s:s, s:s, s:O, s:s, s:o}", "order_id", order_id,
                           "user_id", user_id, "address", (json_t *)address,
                           "method", method, "items", lines_json(lines, n));
  json_t *answer = NULL;
  enum upstream_outcome o = call(u, SVC_SHIPPING, "POST", "/internal/shipments",
                                 body, status, &answer);
  json_decref(body);
  if (o == UP_OK) *shipment_id = arena_json_str(u->arena, answer, "id");
  json_decref(answer);
  return o;
}
