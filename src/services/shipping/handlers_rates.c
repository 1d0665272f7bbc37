/* handlers_rates.c - shipping rates: the public quote, the internal quote the
 * order service calls at checkout, and the admin's rate tables (zones, the
 * countries in them, weight tiers per method). */
#include <jansson.h>
#include <string.h>

#include "kit/audit.h"
#include "kit/db.h"
#include "kit/money.h"
#include "kit/service.h"
#include "services/shipping/handlers.h"
#include "services/shipping/store.h"

/* --- quotes --------------------------------------------------------------- */

/* The part both quotes share: body fields address + items, then weights.
 * Returns false after replying. */
static bool read_parcel(struct http_request *req, struct http_response *res,
                        const void *address_obj, const void *items_arr,
                        struct ship_address *addr, struct ship_item *items,
                        size_t *count, struct ship_product *products,
                        int64_t *weight) {
  if (!shipping_read_address(req, res, address_obj, "address", addr))
    return false;
  if (!shipping_read_items(req, res, items_arr, items, count)) return false;
  if (!shipping_fetch_products(req, res, items, *count, products)) return false;
  return shipping_total_weight(req, res, items, products, *count, weight);
}

void shipping_handle_rates(struct http_request *req,
                           struct http_response *res) {
  const void *address = NULL, *items_arr = NULL;
  const struct json_field fields[] = {
      {"address", JF_OBJECT, true, 0, 0, &address},
      {"items", JF_ARRAY, true, 1, SHIPPING_MAX_ITEMS, &items_arr},
  };
  struct json_doc *doc = NULL;
  struct json_error err;
  if (json_parse_body(req->body, req->body_len, fields, 2, false, req->arena,
                      &doc, &err) != KIT_OK) {
    shipping_reply_json_error(req, res, &err, NULL);
    goto cleanup;
  }
  struct ship_address addr;
  struct ship_item items[SHIPPING_MAX_ITEMS];
  struct ship_product products[SHIPPING_MAX_ITEMS];
  size_t count = 0;
  int64_t weight = 0;
  if (!read_parcel(req, res, address, items_arr, &addr, items, &count, products,
                   &weight))
    goto cleanup;

  /* The subtotal at today's prices, when every product is priced in one
   * currency: that is what the free-shipping threshold compares with. */
  const char *currency = NULL;
  int64_t subtotal = 0;
  for (size_t i = 0; i < count; i++) {
    int64_t line = 0;
    if (!products[i].priced ||
        (currency != NULL && strcmp(currency, products[i].currency) != 0) ||
        !money_mul(products[i].price_minor, items[i].quantity, &line) ||
        !money_add(subtotal, line, &subtotal)) {
      currency = NULL;
      break;
    }
    currency = products[i].currency;
  }
  shipping_reply_quote(req, res, &addr, weight, subtotal, currency);

cleanup:
  json_doc_free(doc);
}

void shipping_handle_quote(struct http_request *req,
                           struct http_response *res) {
  const void *address = NULL, *items_arr = NULL;
  const char *subtotal_text = NULL, *currency = NULL;
  const struct json_field fields[] = {
      {"address", JF_OBJECT, true, 0, 0, &address},
      {"items", JF_ARRAY, true, 1, SHIPPING_MAX_ITEMS, &items_arr},
      {"subtotal", JF_MONEY, false, 0, 0, &subtotal_text, .nullable = true},
      {"currency", JF_STRING, false, 3, 3, &currency, .nullable = true},
  };
  struct json_doc *doc = NULL;
  struct json_error err;
  if (json_parse_body(req->body, req->body_len, fields, 4, false, req->arena,
                      &doc, &err) != KIT_OK) {
    shipping_reply_json_error(req, res, &err, NULL);
    goto cleanup;
  }
  int64_t subtotal = 0;
  if ((subtotal_text == NULL) != (currency == NULL)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "subtotal and currency go together",
                     subtotal_text == NULL ? "subtotal" : "currency");
    goto cleanup;
  }
  if (currency != NULL && !money_currency_valid(currency)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "currency must be an ISO 4217 code", "currency");
    goto cleanup;
  }
  if (subtotal_text != NULL &&
      money_parse(subtotal_text, currency, &subtotal) != KIT_OK) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "subtotal is not an amount of that currency", "subtotal");
    goto cleanup;
  }
  struct ship_address addr;
  struct ship_item items[SHIPPING_MAX_ITEMS];
  struct ship_product products[SHIPPING_MAX_ITEMS];
  size_t count = 0;
  int64_t weight = 0;
  if (!read_parcel(req, res, address, items_arr, &addr, items, &count, products,
                   &weight))
    goto cleanup;
  shipping_reply_quote(req, res, &addr, weight, subtotal, currency);

cleanup:
  json_doc_free(doc);
}

/* --- the admin's rate tables ---------------------------------------------- */

static json_t *rate_json(const struct rate_row *r, const char *currency) {
  char amount[MONEY_BUF];
  money_format(r->amount_minor, currency, amount);
  return json_pack("{s:s, s:I, s:s, s:s, s:i}", "method",
                   ship_method_name(r->method), "max_weight_grams",
                   (json_int_t)r->max_weight_grams, "amount", amount,
                   "currency", currency, "estimated_days", r->estimated_days);
}

static json_t *zone_json(const struct zone_row *z,
                         const struct zone_match_row *countries, int ncountries,
                         const struct rate_table_row *rates, int nrates) {
  json_t *cs = json_array();
  for (int i = 0; i < ncountries; i++)
    if (strcmp(countries[i].zone_code, z->code) == 0)
      json_array_append_new(cs, json_pack("{s:s, s:s}", "country",
                                          countries[i].country, "region",
                                          countries[i].region));
  json_t *rs = json_array();
  for (int i = 0; i < nrates; i++)
    if (strcmp(rates[i].zone_code, z->code) == 0)
      json_array_append_new(rs, rate_json(&rates[i].rate, z->currency));
  json_t *o =
      json_pack("{s:s, s:s, s:s, s:o, s:o}", "code", z->code, "name", z->name,
                "currency", z->currency, "countries", cs, "rates", rs);
  if (z->has_threshold) {
    char t[MONEY_BUF];
    money_format(z->threshold_minor, z->currency, t);
    json_object_set_new(o, "free_standard_threshold", json_string(t));
  } else {
    json_object_set_new(o, "free_standard_threshold", json_null());
  }
  return o;
}

/* Replies the whole table, or one zone when only_code is not NULL. */
static void reply_zones(struct http_request *req, struct http_response *res,
                        const char *only_code) {
  struct db_conn *conn = db_acquire(req->svc->db, 2000);
  if (conn == NULL) {
    shipping_reply_db_error(req, res, DB_UNAVAILABLE);
    return;
  }
  struct zone_row *zones = NULL;
  struct zone_match_row *countries = NULL;
  struct rate_table_row *rates = NULL;
  int nz = store_zones_all(conn, req->arena, &zones);
  int nc = nz >= 0 ? store_zone_countries_all(conn, req->arena, &countries) : 0;
  int nr = nc >= 0 ? store_rates_all(conn, req->arena, &rates) : 0;
  db_release(req->svc->db, conn);
  if (nz < 0 || nc < 0 || nr < 0) {
    shipping_reply_db_error(req, res, nz < 0 ? nz : nc < 0 ? nc : nr);
    return;
  }
  json_t *body = NULL;
  if (only_code != NULL) {
    for (int i = 0; i < nz && body == NULL; i++)
      if (strcmp(zones[i].code, only_code) == 0)
        body = zone_json(&zones[i], countries, nc, rates, nr);
    if (body == NULL) {
      http_reply_error(res, req, API_NOT_FOUND, "no such zone", NULL);
      return;
    }
  } else {
    json_t *items = json_array();
    for (int i = 0; i < nz; i++)
      json_array_append_new(items,
                            zone_json(&zones[i], countries, nc, rates, nr));
    body = json_pack("{s:o}", "items", items);
  }
  http_reply_json(res, 200, body);
  json_decref(body);
}

void shipping_handle_zones_list(struct http_request *req,
                                struct http_response *res) {
  reply_zones(req, res, NULL);
}

static bool zone_code_valid(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 40) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
          *s == '-'))
      return false;
  return true;
}

#define ZONE_MAX_COUNTRIES 300

struct zone_put {
  const char *code, *name, *currency;
  int64_t threshold; /* -1: none */
  const char *countries[ZONE_MAX_COUNTRIES];
  const char *regions[ZONE_MAX_COUNTRIES];
  size_t count;
  const struct http_request *req; /* the admin's, for the audit log */
  const void *body;               /* json_t *: the zone as sent */
};

static int zone_put_tx(struct db_conn *c, void *arg) {
  const struct zone_put *z = arg;
  int rc = store_zone_upsert(c, z->code, z->name, z->currency, z->threshold);
  if (rc >= 0) rc = store_zone_countries_clear(c, z->code);
  for (size_t i = 0; rc >= 0 && i < z->count; i++)
    rc = store_zone_country_put(c, z->countries[i], z->regions[i], z->code);
  if (rc >= 0)
    rc = audit_record(c, z->req, "shipping.zone_put", "shipping_zone", z->code,
                      NULL, z->body);
  return rc;
}

void shipping_handle_zone_put(struct http_request *req,
                              struct http_response *res) {
  struct zone_put *z = arena_alloc(req->arena, sizeof *z);
  if (z == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    return;
  }
  z->code = http_param(req, "code");
  if (z->code == NULL || !zone_code_valid(z->code)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "a zone code is 1-40 of a-z, 0-9, '_' and '-'", "code");
    return;
  }
  const char *threshold = NULL;
  const void *countries = NULL;
  const struct json_field fields[] = {
      {"name", JF_STRING, true, 1, 100, &z->name},
      {"currency", JF_STRING, true, 3, 3, &z->currency},
      {"free_standard_threshold", JF_MONEY, false, 0, 0, &threshold,
       .nullable = true},
      {"countries", JF_ARRAY, true, 1, ZONE_MAX_COUNTRIES, &countries},
  };
  struct json_doc *doc = NULL;
  struct json_error err;
  if (json_parse_body(req->body, req->body_len, fields, 4, true, req->arena,
                      &doc, &err) != KIT_OK) {
    shipping_reply_json_error(req, res, &err, NULL);
    goto cleanup;
  }
  if (!money_currency_valid(z->currency)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "currency must be an ISO 4217 code", "currency");
    goto cleanup;
  }
  z->threshold = -1;
  if (threshold != NULL &&
      money_parse(threshold, z->currency, &z->threshold) != KIT_OK) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "free_standard_threshold is not an amount of currency",
                     "free_standard_threshold");
    goto cleanup;
  }
  size_t idx;
  json_t *el;
  json_array_foreach((json_t *)countries, idx, el) {
    char *prefix = arena_printf(req->arena, "countries[%zu].", idx);
    const char *country = NULL, *region = "";
    const struct json_field cf[] = {
        {"country", JF_STRING, true, 1, 2, &country},
        {"region", JF_STRING, false, 0, 100, &region, .nullable = true},
    };
    if (!json_is_object(el)) {
      http_reply_error(res, req, API_VALIDATION_ERROR,
                       "each country must be an object",
                       arena_printf(req->arena, "countries[%zu]", idx));
      goto cleanup;
    }
    if (json_read_fields(el, cf, 2, true, req->arena, &err) != KIT_OK) {
      shipping_reply_json_error(req, res, &err, prefix);
      goto cleanup;
    }
    if (strcmp(country, "*") != 0 && !ship_country_valid(country)) {
      http_reply_error(res, req, API_UNPROCESSABLE,
                       "country must be an ISO 3166-1 alpha-2 code or \"*\"",
                       arena_printf(req->arena, "countries[%zu].country", idx));
      goto cleanup;
    }
    char *upper_region = arena_strdup(req->arena, region);
    for (char *p = upper_region; p && *p; p++)
      if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
    z->countries[z->count] = country;
    z->regions[z->count] = upper_region ? upper_region : "";
    z->count++;
  }
  z->req = req;
  z->body = json_doc_root(doc);
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, zone_put_tx, z);
  if (rc < 0) {
    shipping_reply_db_error(req, res, rc);
    goto cleanup;
  }
  reply_zones(req, res, z->code);

cleanup:
  json_doc_free(doc);
}

#define ZONE_MAX_RATES 100

struct rates_put {
  const char *code;
  struct rate_row rows[ZONE_MAX_RATES];
  size_t count;
  bool zone_missing;
  const struct http_request *req; /* the admin's, for the audit log */
  const void *body;               /* json_t *: the rates as sent */
};

static int rates_put_tx(struct db_conn *c, void *arg) {
  struct rates_put *r = arg;
  struct arena a;
  arena_init(&a, 512);
  struct zone_row zone;
  int rc = store_zone_get(c, &a, r->code, &zone);
  arena_free(&a);
  if (rc < 0) return rc;
  r->zone_missing = rc == 0;
  if (r->zone_missing) return DB_NO_RESULTS;
  rc = store_zone_rates_clear(c, r->code);
  for (size_t i = 0; rc >= 0 && i < r->count; i++)
    rc = store_zone_rate_put(c, r->code, &r->rows[i]);
  if (rc >= 0)
    rc = audit_record(c, r->req, "shipping.rates_put", "shipping_zone", r->code,
                      NULL, r->body);
  return rc;
}

void shipping_handle_zone_rates_put(struct http_request *req,
                                    struct http_response *res) {
  struct rates_put *r = arena_alloc(req->arena, sizeof *r);
  if (r == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    return;
  }
  r->code = http_param(req, "code");
  if (r->code == NULL || !zone_code_valid(r->code)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such zone", NULL);
    return;
  }
  const void *rates = NULL;
  const char *currency = NULL;
  const struct json_field fields[] = {
      {"rates", JF_ARRAY, true, 1, ZONE_MAX_RATES, &rates},
      {"currency", JF_STRING, false, 3, 3, &currency, .nullable = true},
  };
  struct json_doc *doc = NULL;
  struct json_error err;
  if (json_parse_body(req->body, req->body_len, fields, 2, true, req->arena,
                      &doc, &err) != KIT_OK) {
    shipping_reply_json_error(req, res, &err, NULL);
    goto cleanup;
  }
  /* Amounts are in the zone's currency; read it first for the exponent. */
  struct zone_row zone;
  struct db_conn *conn = db_acquire(req->svc->db, 2000);
  int zrc =
      conn ? store_zone_get(conn, req->arena, r->code, &zone) : DB_UNAVAILABLE;
  if (conn) db_release(req->svc->db, conn);
  if (zrc < 0) {
    shipping_reply_db_error(req, res, zrc);
    goto cleanup;
  }
  if (zrc == 0) {
    http_reply_error(res, req, API_NOT_FOUND, "no such zone", NULL);
    goto cleanup;
  }
  if (currency != NULL && strcmp(currency, zone.currency) != 0) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "rates are in the zone's currency", "currency");
    goto cleanup;
  }
  static const char *const methods[] = {"standard", "express", NULL};
  size_t idx;
  json_t *el;
  json_array_foreach((json_t *)rates, idx, el) {
    char *prefix = arena_printf(req->arena, "rates[%zu].", idx);
    const char *method = NULL, *amount = NULL;
    int64_t max_weight = 0, days = 0;
    const struct json_field rf[] = {
        {"method", JF_ENUM, true, 0, 0, &method, .enum_values = methods},
        {"max_weight_grams", JF_INT, true, 1, 10000000, &max_weight},
        {"amount", JF_MONEY, true, 0, 0, &amount},
        {"estimated_days", JF_INT, true, 0, 365, &days},
        {"currency", JF_STRING, false, 3, 3, NULL},
    };
    if (!json_is_object(el)) {
      http_reply_error(res, req, API_VALIDATION_ERROR,
                       "each rate must be an object",
                       arena_printf(req->arena, "rates[%zu]", idx));
      goto cleanup;
    }
    if (json_read_fields(el, rf, 5, true, req->arena, &err) != KIT_OK) {
      shipping_reply_json_error(req, res, &err, prefix);
      goto cleanup;
    }
    struct rate_row *row = &r->rows[r->count];
    row->method = ship_method_parse(method);
    row->max_weight_grams = max_weight;
    row->estimated_days = (int)days;
    if (money_parse(amount, zone.currency, &row->amount_minor) != KIT_OK) {
      http_reply_error(res, req, API_UNPROCESSABLE,
                       "amount is not an amount of the zone's currency",
                       arena_printf(req->arena, "rates[%zu].amount", idx));
      goto cleanup;
    }
    for (size_t k = 0; k < r->count; k++) {
      if (r->rows[k].method == row->method &&
          r->rows[k].max_weight_grams == row->max_weight_grams) {
        http_reply_error(res, req, API_UNPROCESSABLE,
                         "two tiers of one method with the same weight",
                         arena_printf(req->arena, "rates[%zu]", idx));
        goto cleanup;
      }
    }
    r->count++;
  }
  r->req = req;
  r->body = json_doc_root(doc);
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, rates_put_tx, r);
  if (rc < 0) {
    shipping_reply_db_error(req, res, rc);
    goto cleanup;
  }
  if (r->zone_missing) {
    http_reply_error(res, req, API_NOT_FOUND, "no such zone", NULL);
    goto cleanup;
  }
  reply_zones(req, res, r->code);

cleanup:
  json_doc_free(doc);
}
