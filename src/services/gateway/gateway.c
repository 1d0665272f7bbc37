/* gateway.c - the edge: routes /api/v1/<resource> to the owning service.
 *
 * Each public resource prefix maps to one upstream; the request's method,
 * path, query and body travel unchanged, hop-by-hop headers are dropped and
 * X-Forwarded-For, X-Request-Id and traceparent are set by the client. The
 * upstream's answer (status, body, headers) comes back as it is; an
 * unreachable upstream is a 503 and a slow one a 504, from the client.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kit/client.h"
#include "kit/log.h"
#include "kit/service.h"

/* Headers that describe one hop, never forwarded (RFC 9110 §7.6.1). */
static bool hop_by_hop(const char *name) {
  static const char *const names[] = {
      "connection", "keep-alive", "proxy-connection", "transfer-encoding",
      "te", "trailer", "upgrade", "proxy-authorization", "host",
      "content-length", "x-forwarded-for"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp(name, names[i]) == 0) return true;
  return false;
}

/* Forwards req to the service in route_data, with upstream_path as the path
 * (the query string is appended). */
static void forward(struct http_request *req, struct http_response *res,
                    enum service_id target, const char *upstream_path) {
  struct http_header headers[HTTP_MAX_HEADERS + 1];
  size_t n = 0;
  const char *content_type = NULL;
  const char *xff = NULL;
  for (size_t i = 0; i < req->header_count && n < HTTP_MAX_HEADERS; i++) {
    const char *name = req->headers[i].name;
    if (strcasecmp(name, "Content-Type") == 0) {
      content_type = req->headers[i].value;
      continue;
    }
    if (strcasecmp(name, "X-Forwarded-For") == 0) xff = req->headers[i].value;
    if (hop_by_hop(name)) continue;
    headers[n++] = req->headers[i];
  }
  const char *forwarded_for =
      xff ? arena_printf(req->arena, "%s, %s", xff, req->client_ip)
          : req->client_ip;
  if (forwarded_for != NULL && forwarded_for[0] != '\0')
    headers[n++] = (struct http_header){"X-Forwarded-For", forwarded_for};

  const char *path =
      req->query[0] ? arena_printf(req->arena, "%s?%s", upstream_path, req->query)
                    : upstream_path;
  bool has_body = req->body_len > 0 || strcmp(req->method, "POST") == 0 ||
                  strcmp(req->method, "PUT") == 0 ||
                  strcmp(req->method, "PATCH") == 0;
  struct client_request call = {
      .method = req->method,
      .path = path,
      .body = has_body ? req->body : NULL,
      .body_len = req->body_len,
      .content_type = content_type,
      .parent = req,
      .headers = headers,
      .header_count = n,
  };
  /* The client fills res whatever happens (503/504 envelopes included). */
  http_response_clear(res);
  client_call(req->svc->client, target, &call, res);
  /* The upstream's own ids are replaced by the gateway's on the way out. */
  for (size_t i = 0; i < res->header_count; i++) {
    if (strcasecmp(res->headers[i].name, "X-Request-Id") == 0 ||
        strcasecmp(res->headers[i].name, "traceparent") == 0) {
      free((char *)res->headers[i].name);
      free((char *)res->headers[i].value);
      res->headers[i] = res->headers[--res->header_count];
      i--;
    }
  }
}

static void handle_api(struct http_request *req, struct http_response *res) {
  const enum service_id *target = req->route_data;
  forward(req, res, *target, req->path);
}

/* GET /api/v1/health/{service}: a service's /healthz through the edge (the
 * benchmark of the gateway's overhead uses it). */
static void handle_service_health(struct http_request *req,
                                  struct http_response *res) {
  const char *name = http_param(req, "service");
  enum service_id target = service_lookup(name);
  if (target == SVC_COUNT || target == SVC_GATEWAY) {
    http_reply_error(res, req, API_NOT_FOUND, "no such service", NULL);
    return;
  }
  forward(req, res, target, "/healthz");
}

static const enum service_id to_user = SVC_USER, to_auth = SVC_AUTH,
                             to_product = SVC_PRODUCT, to_cart = SVC_CART,
                             to_order = SVC_ORDER, to_payment = SVC_PAYMENT,
                             to_shipping = SVC_SHIPPING, to_review = SVC_REVIEW,
                             to_notification = SVC_NOTIFICATION,
                             to_admin = SVC_ADMIN, to_search = SVC_SEARCH,
                             to_recommendation = SVC_RECOMMENDATION;

/* More specific prefixes first: the router takes the first match. */
#define API(pattern, target) {"*", pattern, handle_api, ACCESS_PUBLIC, &target}
static const struct route routes[] = {
    {"GET", "/api/v1/health/{service}", handle_service_health, ACCESS_PUBLIC,
     NULL},
    API("/.well-known/jwks.json", to_auth),
    API("/api/v1/users/me/notification-preferences", to_notification),
    API("/api/v1/users", to_user),
    API("/api/v1/users/{rest*}", to_user),
    API("/api/v1/auth/{rest*}", to_auth),
    API("/api/v1/products/{id}/reviews", to_review),
    API("/api/v1/products", to_product),
    API("/api/v1/products/{rest*}", to_product),
    API("/api/v1/categories", to_product),
    API("/api/v1/categories/{rest*}", to_product),
    API("/api/v1/carts", to_cart),
    API("/api/v1/carts/{rest*}", to_cart),
    API("/api/v1/orders", to_order),
    API("/api/v1/orders/{rest*}", to_order),
    API("/api/v1/payments", to_payment),
    API("/api/v1/payments/{rest*}", to_payment),
    API("/api/v1/shipping/{rest*}", to_shipping),
    API("/api/v1/shipments", to_shipping),
    API("/api/v1/shipments/{rest*}", to_shipping),
    API("/api/v1/search", to_search),
    API("/api/v1/search/{rest*}", to_search),
    API("/api/v1/recommendations/{rest*}", to_recommendation),
    API("/api/v1/notifications", to_notification),
    API("/api/v1/notifications/{rest*}", to_notification),
    API("/api/v1/admin/users", to_user),
    API("/api/v1/admin/users/{rest*}", to_user),
    API("/api/v1/admin/reviews", to_review),
    API("/api/v1/admin/reviews/{rest*}", to_review),
    API("/api/v1/admin/reports/{rest*}", to_admin),
};

const struct service_module gateway_module = {
    .id = SVC_GATEWAY,
    .summary = "the edge: routing to services, later auth, rate limits, CORS",
    .needs = NEEDS_REDIS,
    .routes = routes,
    .route_count = sizeof routes / sizeof routes[0],
};
