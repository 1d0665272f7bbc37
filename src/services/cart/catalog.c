/* catalog.c - the cart's one question to the catalog: these products, today. */
#include "services/cart/catalog.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kit/client.h"
#include "kit/log.h"
#include "kit/money.h"
#include "kit/service.h"

/* Fills c from one product (it) of the batch answer, or from one of its
 * variants when variant_id is given. */
static void fill_item(struct http_request *req, const json_t *it,
                      const char *variant_id, struct catalog_item *c) {
  const char *price = json_string_value(json_object_get(it, "price"));
  const char *currency = json_string_value(json_object_get(it, "currency"));
  const char *status = json_string_value(json_object_get(it, "status"));
  const char *sku = json_string_value(json_object_get(it, "sku"));
  const char *name = json_string_value(json_object_get(it, "name"));
  json_t *avail = json_object_get(it, "available");
  c->found = true;
  c->has_options = json_is_true(json_object_get(it, "has_options"));
  c->active = status != NULL && strcmp(status, "active") == 0;
  c->name = arena_strdup(req->arena, name ? name : "");
  const char *category = json_string_value(json_object_get(it, "category_id"));
  c->category_id = category ? arena_strdup(req->arena, category) : NULL;
  if (variant_id != NULL && variant_id[0] != '\0') {
    size_t j;
    const json_t *v, *match = NULL;
    json_array_foreach(json_object_get(it, "variants"), j, v) {
      const char *vid = json_string_value(json_object_get(v, "id"));
      if (vid != NULL && strcasecmp(vid, variant_id) == 0) match = v;
    }
    if (match == NULL) return;
    c->variant_found = true;
    price = json_string_value(json_object_get(match, "price"));
    currency = json_string_value(json_object_get(match, "currency"));
    status = json_string_value(json_object_get(match, "status"));
    sku = json_string_value(json_object_get(match, "sku"));
    avail = json_object_get(match, "available");
    c->active = c->active && status != NULL && strcmp(status, "active") == 0;
  }
  c->sku = arena_strdup(req->arena, sku ? sku : "");
  c->available = json_is_integer(avail) ? json_integer_value(avail) : 0;
  if (currency != NULL)
    snprintf(c->currency, sizeof c->currency, "%s", currency);
  c->unpriced = price == NULL || currency == NULL ||
                money_parse(price, currency, &c->price) != KIT_OK;
}

enum api_error cart_catalog_lookup(struct http_request *req,
                                   const char *const *ids,
                                   const char *const *variant_ids, size_t n,
                                   const char *currency,
                                   struct catalog_item *out) {
  memset(out, 0, sizeof *out * n);
  if (n == 0) return API_OK;
  enum api_error result = API_INTERNAL_ERROR;
  json_t *body = json_object();
  json_t *arr = json_array();
  json_t *varr = json_array();
  for (size_t i = 0; i < n; i++) {
    json_array_append_new(arr, json_string(ids[i]));
    if (variant_ids != NULL && variant_ids[i] != NULL && variant_ids[i][0])
      json_array_append_new(varr, json_string(variant_ids[i]));
  }
  json_object_set_new(body, "ids", arr);
  json_object_set_new(body, "variant_ids", varr);
  if (currency != NULL)
    json_object_set_new(body, "currency", json_string(currency));
  char *text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  if (text == NULL) return API_INTERNAL_ERROR;

  struct client_request creq = {
      .method = "POST",
      .path = "/internal/products/batch",
      .body = text,
      .body_len = strlen(text),
      .parent = req,
  };
  struct http_response cres;
  json_t *answer = NULL;
  int rc = client_call(req->svc->client, SVC_PRODUCT, &creq, &cres);
  if (rc == KIT_TIMEOUT) {
    result = API_TIMEOUT_ERROR;
    goto cleanup;
  }
  if (rc != KIT_OK || cres.status >= 500) {
    result = API_SERVICE_UNAVAILABLE;
    goto cleanup;
  }
  if (cres.status != 200) {
    log_error("catalog batch answered %u", cres.status);
    goto cleanup;
  }
  json_error_t jerr;
  answer = json_loadb(cres.body, cres.body_len, 0, &jerr);
  json_t *items = json_object_get(answer, "items");
  if (!json_is_array(items)) {
    log_error("catalog batch: no items in the answer");
    goto cleanup;
  }
  size_t idx;
  json_t *it;
  json_array_foreach(items, idx, it) {
    const char *id = json_string_value(json_object_get(it, "id"));
    if (id == NULL) continue;
    for (size_t i = 0; i < n; i++)
      if (strcasecmp(ids[i], id) == 0)
        fill_item(req, it, variant_ids ? variant_ids[i] : NULL, &out[i]);
  }
  result = API_OK;
cleanup:
  json_decref(answer);
  http_response_clear(&cres);
  free(text);
  return result;
}
