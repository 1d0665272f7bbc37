/* handlers_common.c - what the shipping handlers share: reading addresses
 * and item lists at the edge, the product batch call, error replies and the
 * quote from the rate tables. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/client.h"
#include "kit/db.h"
#include "kit/handler.h"
#include "kit/log.h"
#include "kit/money.h"
#include "kit/service.h"
#include "services/shipping/handlers.h"
#include "services/shipping/store.h"

void shipping_reply_json_error(struct http_request *req,
                               struct http_response *res,
                               const struct json_error *err,
                               const char *prefix) {
  if (prefix == NULL || prefix[0] == '\0' || err->field[0] == '\0') {
    http_reply_json_error(res, req, err);
    return;
  }
  char *field = arena_printf(req->arena, "%s%s", prefix, err->field);
  char *message = arena_printf(req->arena, "%s%s", prefix, err->message);
  http_reply_error(res, req, err->code, message ? message : err->message,
                   field ? field : err->field);
}

void shipping_reply_db_error(struct http_request *req,
                             struct http_response *res, int rc) {
  if (rc == DB_UNAVAILABLE || rc == DB_SOFT_ERROR)
    http_reply_error(res, req, API_DATABASE_ERROR,
                     "the shipping database is unavailable", NULL);
  else
    http_reply_error(res, req, API_INTERNAL_ERROR,
                     "the shipping service failed", NULL);
}

/* --- addresses ------------------------------------------------------------ */

bool shipping_read_address(struct http_request *req, struct http_response *res,
                           const void *object, const char *field_name,
                           struct ship_address *out) {
  memset(out, 0, sizeof *out);
  const struct json_field fields[] = {
      {"first_name", JF_STRING, false, 0, 100, &out->first_name,
       .nullable = true},
      {"last_name", JF_STRING, false, 0, 100, &out->last_name,
       .nullable = true},
      {"line1", JF_STRING, true, 1, 200, &out->line1},
      {"line2", JF_STRING, false, 0, 200, &out->line2, .nullable = true},
      {"city", JF_STRING, true, 1, 100, &out->city},
      {"state", JF_STRING, false, 0, 100, &out->state, .nullable = true},
      {"postal_code", JF_STRING, true, 1, 20, &out->postal_code},
      {"country", JF_STRING, true, 2, 2, &out->country},
      {"phone", JF_STRING, false, 0, 32, &out->phone, .nullable = true},
  };
  char *prefix = arena_printf(req->arena, "%s.", field_name);
  struct json_error err;
  if (json_read_fields(object, fields, sizeof fields / sizeof fields[0], false,
                       req->arena, &err) != KIT_OK) {
    shipping_reply_json_error(req, res, &err, prefix);
    return false;
  }
  /* Country codes are uppercase in ISO 3166-1; accept "us" as "US". */
  char *country = arena_strdup(req->arena, out->country);
  if (country == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    return false;
  }
  for (char *p = country; *p; p++)
    if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
  out->country = country;

  const char *bad = ship_address_problem(out);
  if (bad != NULL) {
    char *field = arena_printf(req->arena, "%s.%s", field_name, bad);
    char *message =
        strcmp(bad, "country") == 0
            ? arena_printf(req->arena,
                           "%s must be an ISO 3166-1 alpha-2 country code",
                           field)
            : arena_printf(req->arena, "%s is required", field);
    http_reply_error(res, req, API_UNPROCESSABLE,
                     message ? message : "invalid address", field);
    return false;
  }
  return true;
}

char *shipping_address_json(struct arena *a, const struct ship_address *addr) {
  json_t *o = json_object();
  const struct {
    const char *name, *value;
  } parts[] = {{"first_name", addr->first_name},
               {"last_name", addr->last_name},
               {"line1", addr->line1},
               {"line2", addr->line2},
               {"city", addr->city},
               {"state", addr->state},
               {"postal_code", addr->postal_code},
               {"country", addr->country},
               {"phone", addr->phone}};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
    json_object_set_new(o, parts[i].name,
                        parts[i].value ? json_string(parts[i].value)
                                       : json_null());
  char *text = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  char *copy = text ? arena_strdup(a, text) : NULL;
  free(text);
  return copy;
}

/* --- items ---------------------------------------------------------------- */

bool shipping_read_items(struct http_request *req, struct http_response *res,
                         const void *array, struct ship_item *items,
                         size_t *count) {
  const json_t *arr = array;
  size_t n = json_array_size(arr);
  *count = 0;
  for (size_t i = 0; i < n; i++) {
    const json_t *el = json_array_get(arr, i);
    char *prefix = arena_printf(req->arena, "items[%zu].", i);
    if (!json_is_object(el)) {
      char *field = arena_printf(req->arena, "items[%zu]", i);
      http_reply_error(res, req, API_VALIDATION_ERROR,
                       "each item must be an object", field);
      return false;
    }
    const char *product_id = NULL;
    int64_t quantity = 0;
    const struct json_field fields[] = {
        {"product_id", JF_UUID, true, 0, 0, &product_id},
        {"quantity", JF_INT, true, 1, 1000, &quantity},
    };
    struct json_error err;
    if (json_read_fields(el, fields, 2, false, req->arena, &err) != KIT_OK) {
      shipping_reply_json_error(req, res, &err, prefix);
      return false;
    }
    size_t k = 0;
    while (k < *count && strcmp(items[k].product_id, product_id) != 0)
      k++;
    if (k < *count) {
      items[k].quantity += quantity;
    } else {
      items[k].product_id = product_id;
      items[k].quantity = quantity;
      (*count)++;
    }
  }
  return true;
}

/* --- products ------------------------------------------------------------- */

bool shipping_fetch_products(struct http_request *req,
                             struct http_response *res,
                             const struct ship_item *items, size_t count,
                             struct ship_product *products) {
  bool ok = false;
  char *body = NULL;
  json_t *answer = NULL;
  struct http_response up;
  http_response_init(&up);

  json_t *ids = json_array();
  for (size_t i = 0; i < count; i++) {
    json_array_append_new(ids, json_string(items[i].product_id));
    products[i] = (struct ship_product){.id = items[i].product_id};
  }
  json_t *q = json_pack("{s:o}", "ids", ids);
  body = json_dumps(q, JSON_COMPACT);
  json_decref(q);
  if (body == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    goto cleanup;
  }
  struct client_request cr = {.method = "POST",
                              .path = "/internal/products/batch",
                              .body = body,
                              .body_len = strlen(body),
                              .parent = req};
  client_call(req->svc->client, SVC_PRODUCT, &cr, &up);
  if (up.status != 200) {
    log_warn("product batch answered %u", up.status);
    enum api_error e =
        up.status == 504 ? API_TIMEOUT_ERROR : API_SERVICE_UNAVAILABLE;
    http_reply_error(res, req, e, "cannot read the products' weights now",
                     NULL);
    goto cleanup;
  }
  answer = json_loadb(up.body ? up.body : "", up.body_len, 0, NULL);
  json_t *list = json_object_get(answer, "items");
  if (!json_is_array(list)) {
    http_reply_error(res, req, API_INTERNAL_ERROR,
                     "the product service answered something unexpected", NULL);
    goto cleanup;
  }
  size_t idx;
  json_t *p;
  json_array_foreach(list, idx, p) {
    const char *id = json_string_value(json_object_get(p, "id"));
    if (id == NULL) continue;
    for (size_t i = 0; i < count; i++) {
      if (strcmp(products[i].id, id) != 0) continue;
      products[i].found = true;
      json_t *w = json_object_get(p, "weight_grams");
      products[i].weight_grams =
          json_is_integer(w) && json_integer_value(w) >= 0
              ? json_integer_value(w)
              : SHIP_DEFAULT_ITEM_WEIGHT_GRAMS;
      const char *price = json_string_value(json_object_get(p, "price"));
      const char *cur = json_string_value(json_object_get(p, "currency"));
      if (price != NULL && cur != NULL && strlen(cur) == 3 &&
          money_parse(price, cur, &products[i].price_minor) == KIT_OK) {
        products[i].priced = true;
        memcpy(products[i].currency, cur, 4);
      }
    }
  }
  for (size_t i = 0; i < count; i++) {
    if (products[i].found) continue;
    char *field = arena_printf(req->arena, "items[%zu].product_id", i);
    char *msg = arena_printf(req->arena, "%s: no such product", field);
    http_reply_error(res, req, API_UNPROCESSABLE, msg ? msg : "no such product",
                     field);
    goto cleanup;
  }
  ok = true;

cleanup:
  json_decref(answer);
  http_response_clear(&up);
  free(body);
  return ok;
}

bool shipping_total_weight(struct http_request *req, struct http_response *res,
                           const struct ship_item *items,
                           const struct ship_product *products, size_t count,
                           int64_t *weight) {
  *weight = 0;
  for (size_t i = 0; i < count; i++) {
    if (!ship_add_weight(weight, products[i].weight_grams, items[i].quantity)) {
      http_reply_error(res, req, API_UNPROCESSABLE,
                       "the parcel is too heavy to ship", "items");
      return false;
    }
  }
  return true;
}

/* --- the quote ------------------------------------------------------------ */

void shipping_reply_quote(struct http_request *req, struct http_response *res,
                          const struct ship_address *addr, int64_t weight_grams,
                          int64_t subtotal_minor,
                          const char *subtotal_currency) {
  struct db_conn *conn = db_acquire(req->svc->db, 2000);
  if (conn == NULL) {
    shipping_reply_db_error(req, res, DB_UNAVAILABLE);
    return;
  }
  struct zone_match_row *cands = NULL;
  struct rate_row *rates = NULL;
  struct zone_row zone;
  int rc = store_zone_candidates(conn, req->arena, addr->country, &cands);
  int pick = rc >= 0
                 ? ship_zone_pick(cands, (size_t)rc, addr->country, addr->state)
                 : -1;
  int zrc = 0, rrc = 0;
  /* An order in another currency than the zone's is quoted from the zone's
   * rates in that currency, when it has them all. */
  const char *quote_currency = NULL;
  bool other_threshold = false;
  int64_t other_threshold_minor = 0;
  if (pick >= 0) {
    zrc = store_zone_get(conn, req->arena, cands[pick].zone_code, &zone);
    if (zrc > 0 && subtotal_currency != NULL &&
        strcmp(subtotal_currency, zone.currency) != 0) {
      rrc = store_zone_rates_in(conn, req->arena, cands[pick].zone_code,
                                subtotal_currency, &rates, &other_threshold,
                                &other_threshold_minor);
      if (rrc > 0) quote_currency = subtotal_currency;
    }
    if (zrc > 0 && rrc == 0)
      rrc = store_zone_rates(conn, req->arena, cands[pick].zone_code, &rates);
  }
  db_release(req->svc->db, conn);
  if (rc < 0 || zrc < 0 || rrc < 0) {
    shipping_reply_db_error(req, res, rc < 0 ? rc : zrc < 0 ? zrc : rrc);
    return;
  }
  if (pick < 0 || zrc == 0) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "we do not ship to this country", "address.country");
    return;
  }

  if (quote_currency != NULL) {
    zone.currency = quote_currency;
    zone.has_threshold = other_threshold;
    zone.threshold_minor = other_threshold_minor;
  }
  struct zone_terms terms = {zone.currency, zone.has_threshold,
                             zone.threshold_minor};
  struct quote_line lines[SHIP_METHOD_COUNT];
  size_t n = ship_quote(rates, (size_t)rrc, &terms, weight_grams,
                        subtotal_currency != NULL, subtotal_minor,
                        subtotal_currency, lines);
  if (n == 0) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "the parcel is too heavy for every shipping method",
                     "items");
    return;
  }
  json_t *items = json_array();
  for (size_t i = 0; i < n; i++) {
    char amount[MONEY_BUF];
    money_format(lines[i].amount_minor, zone.currency, amount);
    json_array_append_new(items,
                          json_pack("{s:s, s:s, s:s, s:i, s:b}", "method",
                                    ship_method_name(lines[i].method), "amount",
                                    amount, "currency", zone.currency,
                                    "estimated_days", lines[i].estimated_days,
                                    "free_shipping", lines[i].free));
  }
  json_t *body = json_pack("{s:o, s:s, s:I}", "items", items, "zone", zone.code,
                           "weight_grams", (json_int_t)weight_grams);
  if (zone.has_threshold) {
    char threshold[MONEY_BUF];
    money_format(zone.threshold_minor, zone.currency, threshold);
    json_object_set_new(body, "free_standard_threshold",
                        json_string(threshold));
  } else {
    json_object_set_new(body, "free_standard_threshold", json_null());
  }
  http_reply_json(res, 200, body);
  json_decref(body);
}
