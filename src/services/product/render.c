/* render.c - products and categories as JSON, their events, and the few
 * answer helpers every handler of the service uses. */
#include <string.h>

#include "kit/bus.h"
#include "kit/log.h"
#include "kit/money.h"
#include "services/product/product.h"

/* Stored JSON text (validated when written) back into a value; an empty
 * value of the right kind if the text were ever unreadable. */
static json_t *stored_json(const char *text, bool array) {
  json_t *v = text != NULL ? json_loads(text, 0, NULL) : NULL;
  if (v == NULL) v = array ? json_array() : json_object();
  return v;
}

json_t *product_render(const struct product_row *p) {
  char price[MONEY_BUF];
  money_format(p->price_minor, p->currency, price);
  json_t *o = json_pack(
      "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:o, s:o, s:s, "
      "s:s, s:o, s:[]}",
      "id", p->id, "sku", p->sku, "name", p->name, "description",
      p->description, "category_id", p->category_id, "price", price, "currency",
      p->currency, "stock", (json_int_t)p->stock, "available",
      (json_int_t)(p->stock - p->reserved), "status", p->status, "images",
      stored_json(p->images_json, true), "attributes",
      stored_json(p->attributes_json, false), "created_at", p->created_at,
      "updated_at", p->updated_at, "options",
      stored_json(p->options_json != NULL ? p->options_json : "[]", true),
      "variants");
  /* The review service's aggregate (ratings.c). */
  if (o != NULL) {
    json_object_set_new(o, "rating_average",
                        p->rating_average ? json_string(p->rating_average)
                                          : json_null());
    json_object_set_new(o, "rating_count", json_integer(p->rating_count));
  }
  return o;
}

json_t *product_render_variant(const struct variant_row *v) {
  char price[MONEY_BUF];
  if (v->has_price) money_format(v->price_minor, v->currency, price);
  return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:I, s:I, s:s, s:o, s:o}",
                   "id", v->id, "product_id", v->product_id, "sku", v->sku,
                   "options", stored_json(v->options_json, false), "price",
                   v->has_price ? json_string(price) : json_null(), "currency",
                   v->currency, "stock", (json_int_t)v->stock, "available",
                   (json_int_t)(v->stock - v->reserved), "status", v->status,
                   "images", stored_json(v->images_json, true), "attributes",
                   stored_json(v->attributes_json, false));
}

void product_attach_variants(json_t *product, const struct variant_row *v,
                             int n) {
  json_t *arr = json_object_get(product, "variants");
  const char *id = json_string_value(json_object_get(product, "id"));
  if (arr == NULL || id == NULL) return;
  for (int i = 0; i < n; i++)
    if (strcmp(v[i].product_id, id) == 0 && strcmp(v[i].status, "active") == 0)
      json_array_append_new(arr, product_render_variant(&v[i]));
}

json_t *product_render_category(const struct category_row *c) {
  return json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", c->id, "slug", c->slug,
                   "name", c->name, "path", c->path, "parent_id",
                   c->parent_id[0] ? json_string(c->parent_id) : json_null());
}

json_t *product_render_prices(const struct price_entry *list, int n) {
  json_t *prices = json_array();
  for (int i = 0; prices != NULL && i < n; i++) {
    char amount[MONEY_BUF];
    json_array_append_new(
        prices,
        json_pack("{s:s, s:s}", "currency", list[i].currency, "amount",
                  money_format(list[i].minor, list[i].currency, amount)));
  }
  return prices;
}

int product_emit(struct db_conn *c, const char *type,
                 const struct product_row *p) {
  json_t *data = product_render(p);
  if (data == NULL) return DB_HARD_ERROR;
  struct arena a;
  arena_init(&a, 4096);
  int rc = 0;
  if (p->has_options) {
    /* Consumers (search, recommendations) index the variants too. */
    struct variant_row *vs = NULL;
    rc = pstore_variants_of(c, &a, arena_printf(&a, "{%s}", p->id), NULL, NULL,
                            &vs);
    if (rc > 0) product_attach_variants(data, vs, rc);
    if (rc < 0) goto cleanup;
  }
  /* The search index answers in the shopper's currency from this list. */
  struct price_entry *list = NULL;
  rc = pstore_product_prices(c, &a, p->id, &list);
  if (rc < 0) goto cleanup;
  json_object_set_new(data, "prices", product_render_prices(list, rc));
  if (p->weight_grams >= 0)
    json_object_set_new(data, "weight_grams", json_integer(p->weight_grams));
  rc = bus_emit(c, type, p->id, data);
cleanup:
  arena_free(&a);
  json_decref(data);
  return rc;
}

int product_emit_inventory(struct db_conn *c, const struct stock_change *ch,
                           const char *reason, int64_t delta_stock,
                           int64_t delta_reserved, const char *order_id) {
  json_t *data =
      json_pack("{s:s, s:o, s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:o}",
                "product_id", ch->product_id, "variant_id",
                ch->variant_id[0] ? json_string(ch->variant_id) : json_null(),
                "sku", ch->sku, "stock", (json_int_t)ch->stock, "reserved",
                (json_int_t)ch->reserved, "available",
                (json_int_t)(ch->stock - ch->reserved), "delta_stock",
                (json_int_t)delta_stock, "delta_reserved",
                (json_int_t)delta_reserved, "reason", reason, "order_id",
                order_id != NULL ? json_string(order_id) : json_null());
  if (data == NULL) return DB_HARD_ERROR;
  int rc = bus_emit(c, "inventory.changed", ch->product_id, data);
  json_decref(data);
  return rc;
}

void product_reply_db_failure(struct http_response *res,
                              const struct http_request *req, int rc) {
  if (rc == DB_UNAVAILABLE)
    http_reply_error(res, req, API_DATABASE_ERROR,
                     "the catalog database is unavailable", NULL);
  else if (rc == DB_SOFT_ERROR)
    http_reply_error(res, req, API_SERVICE_UNAVAILABLE,
                     "too much contention, retry shortly", NULL);
  else
    http_reply_error(res, req, API_INTERNAL_ERROR, "internal error", NULL);
}

void product_reply_json(struct http_response *res, unsigned status,
                        json_t *body) {
  if (body == NULL) {
    http_reply(res, 500, "application/json",
               "{\"error\":{\"code\":\"INTERNAL_ERROR\",\"message\":\"out of "
               "memory\",\"details\":null}}",
               strlen("{\"error\":{\"code\":\"INTERNAL_ERROR\",\"message\":"
                      "\"out of memory\",\"details\":null}}"));
    return;
  }
  http_reply_json(res, status, body);
  json_decref(body);
}

void product_cache_headers(struct http_response *res,
                           const struct http_request *req, bool fresh) {
  const char *value = "private, no-store";
  if (http_header(req, "Authorization") == NULL)
    value = fresh ? "public, max-age=1" : "public, max-age=0";
  http_response_header(res, "Cache-Control", value);
}
