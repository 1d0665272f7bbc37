/* graphql_schema.c - the storefront's GraphQL schema and its resolvers.
 *
 * Every field maps onto the public REST API through the kit's client, with
 * the caller's request as parent (same token, same trace, same errors), so
 * GraphQL can never do what REST would refuse. Field names are the REST
 * ones (snake_case): one vocabulary for both. GETs are memoized per request
 * (the categories of twenty products are one call), and ratings come with
 * the products themselves, so a list page costs a bounded number of calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kit/client.h"
#include "kit/graphql.h"
#include "kit/http.h"
#include "services/gateway/gateway.h"

/* --- calling the REST API
 * ------------------------------------------------------- */

/* Appends name=value (percent-encoded) to the query string q. */
static void add_param(char *q, size_t size, const char *name,
                      const char *value) {
  size_t len = strlen(q);
  int n = snprintf(q + len, size - len, "%s%s=", len ? "&" : "?", name);
  if (n < 0 || (size_t)n >= size - len) return;
  len += (size_t)n;
  for (const unsigned char *p = (const unsigned char *)value;
       *p && len + 4 < size; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
        (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' ||
        *p == '~') {
      q[len++] = (char)*p;
    } else {
      len += (size_t)snprintf(q + len, size - len, "%%%02X", *p);
    }
  }
  q[len] = '\0';
}

/* Every argument of args, as query parameters. */
static void args_query(json_t *args, char *q, size_t size) {
  q[0] = '\0';
  const char *key;
  json_t *v;
  json_object_foreach(args, key, v) {
    char text[64];
    if (json_is_string(v)) {
      add_param(q, size, key, json_string_value(v));
    } else if (json_is_integer(v)) {
      snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
      add_param(q, size, key, text);
    } else if (json_is_boolean(v)) {
      add_param(q, size, key, json_is_true(v) ? "true" : "false");
    }
  }
}

/* Calls the REST API; on 2xx sets *out (new reference) and returns 0, on
 * 404 for a nullable read sets *out to null, otherwise copies the error
 * envelope's message and code. GETs are memoized for the request. */
static int rest(struct gql_exec *ex, enum service_id target, const char *method,
                const char *path, json_t *body, const char *idempotency_key,
                bool null_on_404, json_t **out, char *err, size_t err_size,
                char *code, size_t code_size) {
  struct graphql_request *gr = gql_context(ex);
  bool get = strcmp(method, "GET") == 0;
  if (get) {
    json_t *memo = gql_memo_get(ex, path);
    if (memo != NULL) {
      *out = json_incref(memo);
      return 0;
    }
  }
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  struct http_header headers[1];
  size_t header_count = 0;
  if (idempotency_key != NULL)
    headers[header_count++] =
        (struct http_header){"Idempotency-Key", idempotency_key};
  struct client_request call = {
      .method = method,
      .path = path,
      .body = text,
      .body_len = text ? strlen(text) : 0,
      .parent = gr->req,
      .headers = headers,
      .header_count = header_count,
  };
  struct http_response res;
  client_call(gr->req->svc->client, target, &call, &res);
  gr->upstream_calls++;
  free(text);
  json_t *answer =
      res.body_len ? json_loadb(res.body, res.body_len, 0, NULL) : NULL;
  unsigned status = res.status;
  http_response_clear(&res);
  if (status >= 200 && status < 300) {
    *out = answer ? answer : json_null();
    if (get) gql_memo_set(ex, path, *out);
    return 0;
  }
  if (status == 404 && null_on_404) {
    json_decref(answer);
    *out = json_null();
    return 0;
  }
  json_t *e = json_object_get(answer, "error");
  const char *msg = json_string_value(json_object_get(e, "message"));
  const char *c = json_string_value(json_object_get(e, "code"));
  const char *details = json_string_value(json_object_get(e, "details"));
  snprintf(err, err_size, "%s%s%s", msg ? msg : "the service did not answer",
           details && *details ? ": " : "", details ? details : "");
  snprintf(code, code_size, "%s", c ? c : "INTERNAL_ERROR");
  json_decref(answer);
  return -1;
}

static const char *parent_id(json_t *parent) {
  return json_string_value(json_object_get(parent, "id"));
}

/* The "items" of a page answer (new reference). */
static json_t *items_of(json_t *page) {
  json_t *items = json_object_get(page, "items");
  return json_incref(items ? items : json_null());
}

#define RESOLVER(name)                                                         \
  static int name(struct gql_exec *ex, json_t *parent, json_t *args,           \
                  json_t **out, char *err, size_t err_size, char *code,        \
                  size_t code_size)
#define REST(target, method, path, body, key, null404)                         \
  rest(ex, target, method, path, body, key, null404, out, err, err_size, code, \
       code_size)

/* --- queries
 * ----------------------------------------------------------------------- */

RESOLVER(q_products) {
  (void)parent;
  char q[1024], path[1200];
  args_query(args, q, sizeof q);
  snprintf(path, sizeof path, "/api/v1/products%s", q);
  return REST(SVC_PRODUCT, "GET", path, NULL, NULL, false);
}

RESOLVER(q_product) {
  (void)parent;
  const char *id = json_string_value(json_object_get(args, "id"));
  json_t *currency = json_object_get(args, "currency");
  char path[512], q[128] = "";
  if (id == NULL || strlen(id) > 64 || strpbrk(id, "/?#%") != NULL) {
    *out = json_null(); /* not an id: nothing to find */
    return 0;
  }
  if (json_is_string(currency))
    add_param(q, sizeof q, "currency", json_string_value(currency));
  snprintf(path, sizeof path, "/api/v1/products/%s%s", id, q);
  return REST(SVC_PRODUCT, "GET", path, NULL, NULL, true);
}

RESOLVER(q_categories) {
  (void)parent, (void)args;
  json_t *page = NULL;
  if (rest(ex, SVC_PRODUCT, "GET", "/api/v1/categories", NULL, NULL, false,
           &page, err, err_size, code, code_size) != 0)
    return -1;
  *out = json_is_array(page) ? json_incref(page) : items_of(page);
  json_decref(page);
  return 0;
}

RESOLVER(q_search) {
  (void)parent;
  char q[1024], path[1200];
  args_query(args, q, sizeof q);
  snprintf(path, sizeof path, "/api/v1/search%s", q);
  return REST(SVC_SEARCH, "GET", path, NULL, NULL, false);
}

/* A path with one id segment; ids with path characters find nothing. */
static bool id_path(char *out, size_t size, const char *fmt, const char *id) {
  if (id == NULL || strpbrk(id, "/?#%") != NULL || strlen(id) > 64)
    return false;
  snprintf(out, size, fmt, id);
  return true;
}

RESOLVER(q_cart) {
  (void)parent;
  char path[256];
  if (!id_path(path, sizeof path, "/api/v1/carts/%s",
               json_string_value(json_object_get(args, "id")))) {
    *out = json_null();
    return 0;
  }
  return REST(SVC_CART, "GET", path, NULL, NULL, true);
}

RESOLVER(q_order) {
  (void)parent;
  char path[256];
  if (!id_path(path, sizeof path, "/api/v1/orders/%s",
               json_string_value(json_object_get(args, "id")))) {
    *out = json_null();
    return 0;
  }
  return REST(SVC_ORDER, "GET", path, NULL, NULL, true);
}

RESOLVER(q_me) {
  (void)parent, (void)args;
  return REST(SVC_USER, "GET", "/api/v1/users/me", NULL, NULL, false);
}

RESOLVER(q_trending) {
  (void)parent;
  char q[128], path[256];
  args_query(args, q, sizeof q);
  snprintf(path, sizeof path, "/api/v1/recommendations/trending%s", q);
  json_t *page = NULL;
  if (rest(ex, SVC_RECOMMENDATION, "GET", path, NULL, NULL, false, &page, err,
           err_size, code, code_size) != 0)
    return -1;
  *out = items_of(page);
  json_decref(page);
  return 0;
}

/* --- product fields
 * ------------------------------------------------------------------ */

RESOLVER(product_category) {
  (void)args;
  const char *want = json_string_value(json_object_get(parent, "category_id"));
  json_t *all = NULL;
  if (want == NULL) {
    *out = json_null();
    return 0;
  }
  if (q_categories(ex, NULL, NULL, &all, err, err_size, code, code_size) != 0)
    return -1;
  *out = json_null();
  size_t i;
  json_t *c;
  json_array_foreach(all, i, c) {
    const char *id = json_string_value(json_object_get(c, "id"));
    if (id && strcmp(id, want) == 0) {
      json_decref(*out);
      *out = json_incref(c);
      break;
    }
  }
  json_decref(all);
  return 0;
}

RESOLVER(product_reviews) {
  char q[256], path[512];
  args_query(args, q, sizeof q);
  const char *id = parent_id(parent);
  if (id == NULL || strlen(id) > 64) {
    *out = json_null();
    return 0;
  }
  snprintf(path, sizeof path, "/api/v1/products/%s/reviews%s", id, q);
  return REST(SVC_REVIEW, "GET", path, NULL, NULL, true);
}

RESOLVER(product_recommendations) {
  char q[256], path[512];
  args_query(args, q, sizeof q);
  const char *id = parent_id(parent);
  if (id == NULL || strlen(id) > 64) {
    *out = json_null();
    return 0;
  }
  snprintf(path, sizeof path, "/api/v1/recommendations/products/%s%s", id, q);
  json_t *page = NULL;
  if (rest(ex, SVC_RECOMMENDATION, "GET", path, NULL, NULL, true, &page, err,
           err_size, code, code_size) != 0)
    return -1;
  *out = json_is_object(page) ? items_of(page) : json_null();
  json_decref(page);
  return 0;
}

/* --- user fields
 * ------------------------------------------------------------------------- */

RESOLVER(user_addresses) {
  (void)parent, (void)args;
  json_t *page = NULL;
  if (rest(ex, SVC_USER, "GET", "/api/v1/users/me/addresses", NULL, NULL, false,
           &page, err, err_size, code, code_size) != 0)
    return -1;
  *out = json_is_array(page) ? json_incref(page) : items_of(page);
  json_decref(page);
  return 0;
}

RESOLVER(user_orders) {
  (void)parent;
  char q[256], path[512];
  args_query(args, q, sizeof q);
  snprintf(path, sizeof path, "/api/v1/orders%s", q);
  return REST(SVC_ORDER, "GET", path, NULL, NULL, false);
}

RESOLVER(order_shipments) {
  (void)args;
  char q[128] = "", path[256];
  const char *id = parent_id(parent);
  if (id == NULL) {
    *out = json_null();
    return 0;
  }
  add_param(q, sizeof q, "order_id", id);
  snprintf(path, sizeof path, "/api/v1/shipments%s", q);
  json_t *page = NULL;
  if (rest(ex, SVC_SHIPPING, "GET", path, NULL, NULL, true, &page, err,
           err_size, code, code_size) != 0)
    return -1;
  *out = json_is_array(page) ? json_incref(page) : items_of(page);
  json_decref(page);
  return 0;
}

/* --- mutations
 * ------------------------------------------------------------------------------
 */

RESOLVER(m_create_cart) {
  (void)parent;
  json_t *body = json_deep_copy(args);
  int rc = REST(SVC_CART, "POST", "/api/v1/carts", body, NULL, false);
  json_decref(body);
  return rc;
}

/* The cart path of args' cart_id, or an error. */
static bool cart_path(json_t *args, const char *suffix, char *path, size_t size,
                      char *err, size_t err_size, char *code,
                      size_t code_size) {
  const char *cart = json_string_value(json_object_get(args, "cart_id"));
  const char *product = json_string_value(json_object_get(args, "product_id"));
  if (cart == NULL || strpbrk(cart, "/?#%") || strlen(cart) > 64 ||
      (suffix &&
       (product == NULL || strpbrk(product, "/?#%") || strlen(product) > 64))) {
    snprintf(err, err_size, "%s", "no such cart or product");
    snprintf(code, code_size, "%s", "NOT_FOUND");
    return false;
  }
  if (suffix)
    snprintf(path, size, "/api/v1/carts/%s/items/%s", cart, product);
  else
    snprintf(path, size, "/api/v1/carts/%s/items", cart);
  return true;
}

RESOLVER(m_add_cart_item) {
  (void)parent;
  char path[256];
  if (!cart_path(args, NULL, path, sizeof path, err, err_size, code, code_size))
    return -1;
  json_t *body = json_deep_copy(args);
  json_object_del(body, "cart_id");
  int rc = REST(SVC_CART, "POST", path, body, NULL, false);
  json_decref(body);
  return rc;
}

RESOLVER(m_update_cart_item) {
  (void)parent;
  char path[256];
  if (!cart_path(args, "", path, sizeof path, err, err_size, code, code_size))
    return -1;
  json_t *body =
      json_pack("{s:O}", "quantity", json_object_get(args, "quantity"));
  int rc = REST(SVC_CART, "PATCH", path, body, NULL, false);
  json_decref(body);
  return rc;
}

RESOLVER(m_remove_cart_item) {
  (void)parent;
  char path[256];
  if (!cart_path(args, "", path, sizeof path, err, err_size, code, code_size))
    return -1;
  return REST(SVC_CART, "DELETE", path, NULL, NULL, false);
}

RESOLVER(m_checkout) {
  (void)parent;
  const char *key = json_string_value(json_object_get(args, "idempotency_key"));
  return REST(SVC_ORDER, "POST", "/api/v1/orders",
              json_object_get(args, "input"), key, false);
}

RESOLVER(m_cancel_order) {
  (void)parent;
  char path[256];
  if (!id_path(path, sizeof path, "/api/v1/orders/%s/cancel",
               json_string_value(json_object_get(args, "id")))) {
    snprintf(err, err_size, "%s", "no such order");
    snprintf(code, code_size, "%s", "NOT_FOUND");
    return -1;
  }
  return REST(SVC_ORDER, "POST", path, NULL, NULL, false);
}

/* --- the schema
 * -------------------------------------------------------------------------------
 */

#define NO_ARGS NULL
static const struct gql_arg_def products_args[] = {
    {"category_id", "ID", NULL, "only this category"},
    {"min_price", "String", NULL, "decimal string"},
    {"max_price", "String", NULL, "decimal string"},
    {"status", "String", NULL, NULL},
    {"sort", "ProductSort", NULL, NULL},
    {"currency", "String", NULL, "a price list's currency (ISO 4217)"},
    {"limit", "Int", "20", "1 to 100"},
    {"cursor", "String", NULL, "next_cursor of the previous page"},
    {NULL}};
static const struct gql_arg_def product_args[] = {
    {"id", "ID!", NULL, NULL}, {"currency", "String", NULL, NULL}, {NULL}};
static const struct gql_arg_def id_args[] = {{"id", "ID!", NULL, NULL}, {NULL}};
static const struct gql_arg_def search_args[] = {
    {"q", "String", NULL, "the words; empty: popular first"},
    {"category_id", "ID"},
    {"brand", "String"},
    {"color", "String"},
    {"size", "String"},
    {"min_price", "String"},
    {"max_price", "String"},
    {"in_stock", "Boolean"},
    {"sort", "SearchSort"},
    {"limit", "Int", "20"},
    {"offset", "Int", "0"},
    {NULL}};
static const struct gql_arg_def limit_args[] = {{"limit", "Int", "10"}, {NULL}};
static const struct gql_arg_def reviews_args[] = {{"sort", "ReviewSort"},
                                                  {"limit", "Int", "10"},
                                                  {"cursor", "String"},
                                                  {NULL}};
static const struct gql_arg_def recommendation_args[] = {
    {"kind", "RecommendationKind", "\"bought_together\""},
    {"limit", "Int", "10"},
    {NULL}};
static const struct gql_arg_def orders_args[] = {
    {"limit", "Int", "20"}, {"cursor", "String"}, {NULL}};
static const struct gql_arg_def create_cart_args[] = {{"currency", "String"},
                                                      {NULL}};
static const struct gql_arg_def add_item_args[] = {{"cart_id", "ID!"},
                                                   {"product_id", "ID!"},
                                                   {"variant_id", "ID"},
                                                   {"quantity", "Int!"},
                                                   {NULL}};
static const struct gql_arg_def update_item_args[] = {
    {"cart_id", "ID!"}, {"product_id", "ID!"}, {"quantity", "Int!"}, {NULL}};
static const struct gql_arg_def remove_item_args[] = {
    {"cart_id", "ID!"}, {"product_id", "ID!"}, {NULL}};
static const struct gql_arg_def checkout_args[] = {
    {"input", "CheckoutInput!"},
    {"idempotency_key", "String!", NULL,
     "one per checkout attempt: a retry with the same key makes one order"},
    {NULL}};

static const struct gql_field_def query_fields[] = {
    {"products", "ProductPage!", "The catalog, filtered and sorted.",
     products_args, q_products, NULL, 5},
    {"product", "Product", "One product (null when there is none).",
     product_args, q_product, NULL, 5},
    {"categories", "[Category!]!", "Every category.", NO_ARGS, q_categories,
     NULL, 5},
    {"search", "SearchResult!", "Full-text search with facets.", search_args,
     q_search, NULL, 5},
    {"cart", "Cart", "A cart (a signed-in user's cart is theirs alone).",
     id_args, q_cart, NULL, 5},
    {"order", "Order", "One of the caller's orders.", id_args, q_order, NULL,
     5},
    {"me", "User", "The signed-in user.", NO_ARGS, q_me, NULL, 5},
    {"trending", "[Product!]", "Trending products.", limit_args, q_trending,
     NULL, 5},
    {NULL}};

static const struct gql_field_def product_fields[] = {
    {"id", "ID!"},
    {"sku", "String!"},
    {"name", "String!"},
    {"description", "String"},
    {"category_id", "ID"},
    {"category", "Category", "Its category.", NO_ARGS, product_category, NULL,
     1},
    {"price", "String!", "Decimal string in `currency`."},
    {"currency", "String!"},
    {"stock", "Int"},
    {"available", "Int", "On hand minus live reservations."},
    {"status", "String!"},
    {"images", "[String!]"},
    {"attributes", "ProductAttributes"},
    {"options", "[ProductOption!]"},
    {"variants", "[Variant!]"},
    {"rating_average", "String", "One decimal place; null without reviews."},
    {"rating_count", "Int"},
    {"score", "Float", "Search and recommendation answers only."},
    {"reason", "String", "Recommendation answers only."},
    {"created_at", "String"},
    {"updated_at", "String"},
    {"reviews", "ReviewPage", "Approved reviews.", reviews_args,
     product_reviews, NULL, 5},
    {"recommendations", "[Product!]", "Bought together or similar.",
     recommendation_args, product_recommendations, NULL, 5},
    {NULL}};

static const struct gql_field_def attributes_fields[] = {
    {"brand", "String"},
    {"color", "String"},
    {"size", "String"},
    {"weight", "Float", "Kilograms."},
    {"dimensions", "Dimensions", "Centimetres."},
    {"custom", "JSON", "Free attributes."},
    {NULL}};

static const struct gql_field_def dimensions_fields[] = {
    {"length", "Float"}, {"width", "Float"}, {"height", "Float"}, {NULL}};

static const struct gql_field_def option_fields[] = {
    {"name", "String!"}, {"values", "[String!]!"}, {NULL}};

static const struct gql_field_def variant_fields[] = {
    {"id", "ID!"},
    {"sku", "String!"},
    {"options", "JSON"},
    {"price", "String"},
    {"currency", "String"},
    {"stock", "Int"},
    {"available", "Int"},
    {"images", "[String!]"},
    {"attributes", "ProductAttributes"},
    {NULL}};

static const struct gql_field_def product_page_fields[] = {
    {"items", "[Product!]!"}, {"next_cursor", "String"}, {NULL}};

static const struct gql_field_def category_fields[] = {
    {"id", "ID!"},
    {"name", "String!"},
    {"slug", "String"},
    {"parent_id", "ID"},
    {"description", "String"},
    {"path", "String"},
    {NULL}};

static const struct gql_field_def review_fields[] = {
    {"id", "ID!"},
    {"product_id", "ID!"},
    {"user_id", "ID"},
    {"author_name", "String"},
    {"rating", "Int!"},
    {"title", "String"},
    {"body", "String"},
    {"status", "String"},
    {"verified_purchase", "Boolean"},
    {"helpful_count", "Int"},
    {"created_at", "String"},
    {"updated_at", "String"},
    {NULL}};

static const struct gql_field_def review_page_fields[] = {
    {"items", "[Review!]!"},
    {"next_cursor", "String"},
    {"rating_average", "String"},
    {"rating_count", "Int"},
    {"rating_histogram", "JSON", "{\"1\": n, ..., \"5\": n}"},
    {NULL}};

static const struct gql_field_def facet_fields[] = {{"value", "String"},
                                                    {"id", "ID"},
                                                    {"name", "String"},
                                                    {"from", "String"},
                                                    {"to", "String"},
                                                    {"count", "Int!"},
                                                    {NULL}};

static const struct gql_field_def facets_fields[] = {
    {"brand", "[Facet!]"},    {"color", "[Facet!]"}, {"size", "[Facet!]"},
    {"category", "[Facet!]"}, {"price", "[Facet!]"}, {NULL}};

static const struct gql_field_def search_result_fields[] = {
    {"items", "[Product!]!"},
    {"total", "Int!"},
    {"facets", "SearchFacets"},
    {"corrected_query", "String"},
    {NULL}};

static const struct gql_field_def cart_item_fields[] = {
    {"product_id", "ID!"},    {"variant_id", "ID"},     {"sku", "String"},
    {"name", "String"},       {"unit_price", "String"}, {"quantity", "Int!"},
    {"line_total", "String"}, {"discount", "String"},   {NULL}};

static const struct gql_field_def cart_fields[] = {{"id", "ID!"},
                                                   {"user_id", "ID"},
                                                   {"items", "[CartItem!]!"},
                                                   {"subtotal", "String"},
                                                   {"discount_total", "String"},
                                                   {"currency", "String"},
                                                   {"item_count", "Int"},
                                                   {NULL}};

static const struct gql_field_def address_fields[] = {{"id", "ID"},
                                                      {"first_name", "String"},
                                                      {"last_name", "String"},
                                                      {"line1", "String"},
                                                      {"line2", "String"},
                                                      {"city", "String"},
                                                      {"state", "String"},
                                                      {"postal_code", "String"},
                                                      {"country", "String"},
                                                      {"phone", "String"},
                                                      {NULL}};

static const struct gql_field_def payment_method_fields[] = {
    {"type", "String"}, {"brand", "String"}, {"last4", "String"}, {NULL}};

static const struct gql_field_def order_item_fields[] = {
    {"product_id", "ID!"},    {"variant_id", "ID"},
    {"sku", "String"},        {"name", "String"},
    {"unit_price", "String"}, {"quantity", "Int!"},
    {"subtotal", "String"},   {"tax", "String"},
    {"line_total", "String"}, {NULL}};

static const struct gql_field_def shipment_fields[] = {
    {"id", "ID!"},
    {"order_id", "ID"},
    {"status", "String"},
    {"carrier", "String"},
    {"tracking_number", "String"},
    {"events", "JSON", "Tracking events, oldest first."},
    {"created_at", "String"},
    {"updated_at", "String"},
    {NULL}};

static const struct gql_field_def order_fields[] = {
    {"id", "ID!"},
    {"user_id", "ID"},
    {"status", "String!"},
    {"currency", "String"},
    {"subtotal", "String"},
    {"tax", "String"},
    {"shipping", "String", "Shipping cost (the seed's name)."},
    {"discount_total", "String"},
    {"total", "String"},
    {"items", "[OrderItem!]!"},
    {"shipping_address", "Address"},
    {"billing_address", "Address"},
    {"shipping_method", "String"},
    {"payment_method", "PaymentMethod"},
    {"created_at", "String"},
    {"updated_at", "String"},
    {"shipments", "[Shipment!]", "Its shipments with tracking.", NO_ARGS,
     order_shipments, NULL, 5},
    {NULL}};

static const struct gql_field_def order_page_fields[] = {
    {"items", "[Order!]!"}, {"next_cursor", "String"}, {NULL}};

static const struct gql_field_def user_fields[] = {
    {"id", "ID!"},
    {"email", "String!"},
    {"username", "String"},
    {"first_name", "String"},
    {"last_name", "String"},
    {"phone", "String"},
    {"role", "String"},
    {"status", "String"},
    {"created_at", "String"},
    {"updated_at", "String"},
    {"addresses", "[Address!]", "Saved addresses.", NO_ARGS, user_addresses,
     NULL, 5},
    {"orders", "OrderPage", "Order history, newest first.", orders_args,
     user_orders, NULL, 5},
    {NULL}};

static const struct gql_field_def mutation_fields[] = {
    {"create_cart", "Cart!", "A new cart (bound to the caller when signed in).",
     create_cart_args, m_create_cart, NULL, 5},
    {"add_cart_item", "Cart!", "Adds a product (or a variant) to a cart.",
     add_item_args, m_add_cart_item, NULL, 5},
    {"update_cart_item", "Cart!", "Sets a line's quantity.", update_item_args,
     m_update_cart_item, NULL, 5},
    {"remove_cart_item", "Cart!", "Removes a line.", remove_item_args,
     m_remove_cart_item, NULL, 5},
    {"checkout", "Order!", "Places the order: the checkout saga of REST.",
     checkout_args, m_checkout, NULL, 20},
    {"cancel_order", "Order!", "Cancels an order before it ships.", id_args,
     m_cancel_order, NULL, 5},
    {NULL}};

static const struct gql_field_def address_input_fields[] = {
    {"first_name", "String"},   {"last_name", "String"},
    {"line1", "String!"},       {"line2", "String"},
    {"city", "String!"},        {"state", "String"},
    {"postal_code", "String!"}, {"country", "String!"},
    {"phone", "String"},        {NULL}};

static const struct gql_field_def payment_input_fields[] = {
    {"type", "String!"}, {"token", "String!"}, {NULL}};

static const struct gql_field_def checkout_input_fields[] = {
    {"cart_id", "ID!"},
    {"shipping_address", "AddressInput!"},
    {"billing_address", "AddressInput"},
    {"shipping_method", "String!"},
    {"payment_method", "PaymentMethodInput!"},
    {NULL}};

static const char *const product_sorts[] = {"newest", "price_asc", "price_desc",
                                            "name", NULL};
static const char *const search_sorts[] = {
    "relevance", "price_asc", "price_desc", "newest", "rating", NULL};
static const char *const review_sorts[] = {"newest", "helpful", "rating_desc",
                                           "rating_asc", NULL};
static const char *const recommendation_kinds[] = {"bought_together", "similar",
                                                   NULL};

static const struct gql_type_def types[] = {
    {"Query", GQL_OBJECT, "Reads.", query_fields},
    {"Mutation", GQL_OBJECT, "Cart and checkout.", mutation_fields},
    {"JSON", GQL_SCALAR, "Any JSON value.", NULL},
    {"Product", GQL_OBJECT, "A product of the catalog.", product_fields},
    {"ProductAttributes", GQL_OBJECT, "The seed's ProductAttributes.",
     attributes_fields},
    {"Dimensions", GQL_OBJECT, "Centimetres.", dimensions_fields},
    {"ProductOption", GQL_OBJECT, "An option (size, colour) and its values.",
     option_fields},
    {"Variant", GQL_OBJECT, "One combination of option values.",
     variant_fields},
    {"ProductPage", GQL_OBJECT, "A page of products.", product_page_fields},
    {"Category", GQL_OBJECT, "A category.", category_fields},
    {"Review", GQL_OBJECT, "An approved review.", review_fields},
    {"ReviewPage", GQL_OBJECT, "Reviews with the rating aggregate.",
     review_page_fields},
    {"Facet", GQL_OBJECT, "One facet value and its count.", facet_fields},
    {"SearchFacets", GQL_OBJECT, "Disjunctive facets.", facets_fields},
    {"SearchResult", GQL_OBJECT, "Search answer.", search_result_fields},
    {"Cart", GQL_OBJECT, "A cart.", cart_fields},
    {"CartItem", GQL_OBJECT, "A cart line.", cart_item_fields},
    {"Address", GQL_OBJECT, "A postal address.", address_fields},
    {"PaymentMethod", GQL_OBJECT, "How an order was paid (never the token).",
     payment_method_fields},
    {"Order", GQL_OBJECT, "An order.", order_fields},
    {"OrderItem", GQL_OBJECT, "An order line.", order_item_fields},
    {"OrderPage", GQL_OBJECT, "A page of orders.", order_page_fields},
    {"Shipment", GQL_OBJECT, "A shipment with tracking.", shipment_fields},
    {"User", GQL_OBJECT, "A user (the seed's User model).", user_fields},
    {"AddressInput", GQL_INPUT_OBJECT, "A postal address.",
     address_input_fields},
    {"PaymentMethodInput", GQL_INPUT_OBJECT,
     "A card by token (sandbox: tok_visa, tok_chargeDeclined).",
     payment_input_fields},
    {"CheckoutInput", GQL_INPUT_OBJECT, "What POST /orders takes.",
     checkout_input_fields},
    {"ProductSort", GQL_ENUM, NULL, NULL, product_sorts},
    {"SearchSort", GQL_ENUM, NULL, NULL, search_sorts},
    {"ReviewSort", GQL_ENUM, NULL, NULL, review_sorts},
    {"RecommendationKind", GQL_ENUM, NULL, NULL, recommendation_kinds},
};

struct gql_schema *graphql_schema_create(char *why, size_t why_size) {
  struct gql_limits limits = {.max_query_bytes = 16384,
                              .max_depth = 8,
                              .max_cost = 2000,
                              .default_list_size = 20};
  return gql_schema_create(types, sizeof types / sizeof types[0], "Query",
                           "Mutation", &limits, why, why_size);
}
