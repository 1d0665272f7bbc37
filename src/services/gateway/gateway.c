/* gateway.c - the edge of the platform: the module descriptor and its state.
 *
 * Every public request enters here: the route table (below) names the
 * owning service and the access rule of each path and method, the router
 * authenticates, and the edge chain (edge.c) rate-limits, applies CORS,
 * serves anonymous catalog reads from a short-lived cache and forwards the
 * rest (proxy.c). What no API route takes is a web app's file, the API docs
 * or a 404 (static.c). See docs/gateway.md.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/graphql.h"
#include "kit/log.h"
#include "kit/metrics.h"
#include "services/gateway/gateway.h"

/* Bounds of the response cache: enough for the catalog's hot pages. */
#define CACHE_ENTRIES 2048
#define CACHE_BYTES (32u << 20)
/* Web files and docs come in bursts (a page loads many assets): their
 * budget is this many times the API's unless configured. */
#define STATIC_FACTOR 10

/* --- the route table ----------------------------------------------------
 *
 * Who owns each public path, who may call it, and which rate-limit class it
 * counts against. The router takes the first route whose pattern and method
 * match, then applies its access rule (auth_authorize) before any handler
 * runs: a caller without a valid token on a signed-in route, or with the
 * wrong role on an admin one, is answered 401/403 here and the service never
 * sees the request. The services check again (defence in depth).
 *
 * Each resource lists the endpoints of DESIGN §5 method by method, then a
 * catch-all for its prefix that forwards what the table does not name (a
 * service may offer more than the contract's minimum): reads stay public
 * where the resource's reads are, and writes take the resource's strictest
 * rule, so nothing unlisted is more open at the edge than its neighbours.
 * The last route takes what no API route did: the web apps, the docs and the
 * gateway's own probes (static.c).
 */

/* Upstream + class + cacheability, one of each combination used below. */
#define EDGE(name, svc, cls, cache)                                            \
  static const struct edge_route name = {svc, cls, cache}
EDGE(user_api, SVC_USER, RATE_BY_METHOD, false);
EDGE(user_signup, SVC_USER, RATE_AUTH, false);
EDGE(auth_api, SVC_AUTH, RATE_AUTH, false);
EDGE(auth_keys, SVC_AUTH, RATE_READ, false);
EDGE(catalog, SVC_PRODUCT, RATE_BY_METHOD, true);
EDGE(product_api, SVC_PRODUCT, RATE_BY_METHOD, false);
EDGE(product_images, SVC_PRODUCT, RATE_STATIC, true);
EDGE(cart_api, SVC_CART, RATE_BY_METHOD, false);
EDGE(order_api, SVC_ORDER, RATE_BY_METHOD, false);
EDGE(payment_api, SVC_PAYMENT, RATE_BY_METHOD, false);
EDGE(payment_hooks, SVC_PAYMENT, RATE_WEBHOOK, false);
EDGE(shipping_api, SVC_SHIPPING, RATE_BY_METHOD, false);
EDGE(shipping_hooks, SVC_SHIPPING, RATE_WEBHOOK, false);
EDGE(review_api, SVC_REVIEW, RATE_BY_METHOD, false);
EDGE(notification_api, SVC_NOTIFICATION, RATE_BY_METHOD, false);
EDGE(admin_api, SVC_ADMIN, RATE_BY_METHOD, false);
EDGE(search_api, SVC_SEARCH, RATE_BY_METHOD, false);
EDGE(recommendation_api, SVC_RECOMMENDATION, RATE_BY_METHOD, false);
EDGE(recommendation_lists, SVC_RECOMMENDATION, RATE_BY_METHOD, true);
#undef EDGE

#define PUBLIC ACCESS_PUBLIC
#define SIGNED_IN ACCESS_SIGNED_IN
#define ADMIN ACCESS_ADMIN
#define MODERATOR ACCESS_MODERATOR
#define R(method, pattern, access, edge)                                       \
  { method, pattern, edge_handle_api, access, &edge }

static const struct route routes[] = {
    /* CORS preflights first: they carry no token and must not be refused
     * by a route's access rule. */
    {"OPTIONS", "/{rest*}", edge_handle_preflight, PUBLIC, NULL},
    {"GET", "/api/v1/health/{service}", edge_handle_service_health, PUBLIC,
     NULL},

    /* Identity: accounts (user) and credentials (auth). */
    R("GET", "/.well-known/jwks.json", PUBLIC, auth_keys),
    R("POST", "/api/v1/users", PUBLIC, user_signup),
    R("GET", "/api/v1/users/me/notification-preferences", SIGNED_IN,
      notification_api),
    R("PUT", "/api/v1/users/me/notification-preferences", SIGNED_IN,
      notification_api),
    R("GET", "/api/v1/users/me", SIGNED_IN, user_api),
    R("PATCH", "/api/v1/users/me", SIGNED_IN, user_api),
    R("GET", "/api/v1/users/me/addresses", SIGNED_IN, user_api),
    R("POST", "/api/v1/users/me/addresses", SIGNED_IN, user_api),
    R("PATCH", "/api/v1/users/me/addresses/{id}", SIGNED_IN, user_api),
    R("DELETE", "/api/v1/users/me/addresses/{id}", SIGNED_IN, user_api),
    R("*", "/api/v1/users/me/{rest*}", SIGNED_IN, user_api),
    R("*", "/api/v1/users/{rest*}", SIGNED_IN, user_api),
    R("GET", "/api/v1/admin/users", ADMIN, user_api),
    R("PATCH", "/api/v1/admin/users/{id}", ADMIN, user_api),
    R("*", "/api/v1/admin/users/{rest*}", ADMIN, user_api),
    /* login, refresh, logout (by refresh token), password reset: public,
     * each in the small "auth" budget. */
    R("POST", "/api/v1/auth/login", PUBLIC, auth_api),
    R("POST", "/api/v1/auth/refresh", PUBLIC, auth_api),
    R("POST", "/api/v1/auth/logout", PUBLIC, auth_api),
    R("POST", "/api/v1/auth/password-reset", PUBLIC, auth_api),
    R("POST", "/api/v1/auth/password-reset/confirm", PUBLIC, auth_api),
    R("*", "/api/v1/auth/{rest*}", PUBLIC, auth_api),

    /* Catalog: reads public (and cached for anonymous callers), writes
     * admin. Reviews of a product belong to the review service. */
    R("GET", "/api/v1/products/{id}/reviews", PUBLIC, review_api),
    R("POST", "/api/v1/products/{id}/reviews", SIGNED_IN, review_api),
    R("GET", "/api/v1/products/{id}/reviews/{rest*}", PUBLIC, review_api),
    R("*", "/api/v1/products/{id}/reviews/{rest*}", SIGNED_IN, review_api),
    /* Pictures load like page assets, a list page brings twenty: they
     * count against the static budget, not the API's. */
    R("GET", "/api/v1/products/{id}/image.svg", PUBLIC, product_images),
    R("GET", "/api/v1/products", PUBLIC, catalog),
    R("POST", "/api/v1/products", ADMIN, product_api),
    R("GET", "/api/v1/products/{rest*}", PUBLIC, catalog),
    R("PATCH", "/api/v1/products/{id}", ADMIN, product_api),
    R("DELETE", "/api/v1/products/{id}", ADMIN, product_api),
    R("POST", "/api/v1/products/{id}/inventory-adjustments", ADMIN,
      product_api),
    R("*", "/api/v1/products/{rest*}", ADMIN, product_api),
    R("GET", "/api/v1/categories", PUBLIC, catalog),
    R("POST", "/api/v1/categories", ADMIN, product_api),
    R("GET", "/api/v1/categories/{rest*}", PUBLIC, catalog),
    R("*", "/api/v1/categories/{rest*}", ADMIN, product_api),
    R("*", "/api/v1/variants/{rest*}", ADMIN, product_api),

    /* Carts: guests have carts too; the cart service checks ownership. */
    R("POST", "/api/v1/carts", PUBLIC, cart_api),
    R("GET", "/api/v1/carts/{id}", PUBLIC, cart_api),
    R("POST", "/api/v1/carts/{id}/items", PUBLIC, cart_api),
    R("PATCH", "/api/v1/carts/{id}/items/{product_id}", PUBLIC, cart_api),
    R("DELETE", "/api/v1/carts/{id}/items/{product_id}", PUBLIC, cart_api),
    R("POST", "/api/v1/carts/{id}/merge", SIGNED_IN, cart_api),
    R("POST", "/api/v1/carts/{id}/discount-codes", PUBLIC, cart_api),
    R("DELETE", "/api/v1/carts/{id}/discount-codes/{code}", PUBLIC, cart_api),
    R("*", "/api/v1/carts/{rest*}", PUBLIC, cart_api),
    /* Promotions (docs/promotions.md): admins only, kept by the cart
     * service. */
    R("*", "/api/v1/admin/promotions", ADMIN, cart_api),
    R("*", "/api/v1/admin/promotions/{rest*}", ADMIN, cart_api),

    /* Orders: the buyer's; status changes and refunds are the admin's. */
    R("POST", "/api/v1/orders", SIGNED_IN, order_api),
    R("GET", "/api/v1/orders", SIGNED_IN, order_api),
    R("GET", "/api/v1/orders/{id}", SIGNED_IN, order_api),
    R("POST", "/api/v1/orders/{id}/cancel", SIGNED_IN, order_api),
    R("PATCH", "/api/v1/orders/{id}/status", ADMIN, order_api),
    R("POST", "/api/v1/orders/{id}/refund", ADMIN, order_api),
    R("*", "/api/v1/orders/{rest*}", SIGNED_IN, order_api),
    /* Returns (docs/returns.md): the buyer's, decided by admins. */
    R("GET", "/api/v1/returns/{id}", SIGNED_IN, order_api),
    R("GET", "/api/v1/admin/returns", ADMIN, order_api),
    R("POST", "/api/v1/admin/returns/{id}/{action}", ADMIN, order_api),

    /* Payments: provider webhooks are signed, not authenticated. */
    R("POST", "/api/v1/payments/webhooks/{provider}", PUBLIC, payment_hooks),
    R("GET", "/api/v1/payments", SIGNED_IN, payment_api),
    R("*", "/api/v1/payments/{rest*}", SIGNED_IN, payment_api),

    /* Shipping: rates are quoted to anyone (a guest's cart shows them). */
    R("POST", "/api/v1/shipping/webhooks/{carrier}", PUBLIC, shipping_hooks),
    R("POST", "/api/v1/shipping/rates", PUBLIC, shipping_api),
    R("GET", "/api/v1/shipping/zones", ADMIN, shipping_api),
    R("*", "/api/v1/shipping/zones/{rest*}", ADMIN, shipping_api),
    R("GET", "/api/v1/shipping/{rest*}", PUBLIC, shipping_api),
    R("*", "/api/v1/shipping/{rest*}", ADMIN, shipping_api),
    R("GET", "/api/v1/shipments", SIGNED_IN, shipping_api),
    R("GET", "/api/v1/shipments/{id}", SIGNED_IN, shipping_api),
    R("*", "/api/v1/shipments/{rest*}", SIGNED_IN, shipping_api),

    /* Moderation: moderators and admins. */
    R("GET", "/api/v1/admin/reviews", MODERATOR, review_api),
    R("POST", "/api/v1/admin/reviews/{id}/approve", MODERATOR, review_api),
    R("POST", "/api/v1/admin/reviews/{id}/reject", MODERATOR, review_api),
    R("*", "/api/v1/admin/reviews/{rest*}", MODERATOR, review_api),
    /* One review by id: read by anyone (the service hides what is not
     * approved), edited, deleted and voted on by signed-in users. */
    R("GET", "/api/v1/reviews/{id}", PUBLIC, review_api),
    R("PATCH", "/api/v1/reviews/{id}", SIGNED_IN, review_api),
    R("DELETE", "/api/v1/reviews/{id}", SIGNED_IN, review_api),
    R("POST", "/api/v1/reviews/{id}/helpful", SIGNED_IN, review_api),
    R("GET", "/api/v1/reviews/{rest*}", PUBLIC, review_api),
    R("*", "/api/v1/reviews/{rest*}", SIGNED_IN, review_api),

    /* Search and recommendations: public, but for the personal one. */
    R("GET", "/api/v1/search", PUBLIC, search_api),
    R("GET", "/api/v1/search/suggest", PUBLIC, search_api),
    R("GET", "/api/v1/search/{rest*}", PUBLIC, search_api),
    /* Search administration (synonyms, reindex, query reports). */
    R("*", "/api/v1/admin/search/{rest*}", ADMIN, search_api),
    R("GET", "/api/v1/recommendations/me", SIGNED_IN, recommendation_api),
    R("GET", "/api/v1/recommendations/products/{id}", PUBLIC,
      recommendation_lists),
    R("GET", "/api/v1/recommendations/trending", PUBLIC, recommendation_lists),
    R("GET", "/api/v1/recommendations/{rest*}", PUBLIC, recommendation_api),
    /* The clickstream: guests too; a token, when sent, names the user. */
    R("POST", "/api/v1/recommendations/events", PUBLIC, recommendation_api),

    /* The signed-in user's feed. */
    R("GET", "/api/v1/notifications", SIGNED_IN, notification_api),
    R("*", "/api/v1/notifications/{rest*}", SIGNED_IN, notification_api),

    /* Reports: admins only. */
    R("GET", "/api/v1/admin/reports/{rest*}", ADMIN, admin_api),
    R("*", "/api/v1/admin/reports/{rest*}", ADMIN, admin_api),
    /* The platform-wide audit log (docs/audit.md): admins only. */
    R("GET", "/api/v1/admin/audit-log", ADMIN, admin_api),
    /* Any other admin path: admins only, answered by the admin service. */
    R("*", "/api/v1/admin/{rest*}", ADMIN, admin_api),

    /* GraphQL over the REST API (graphql.c): each field checks access as
     * its REST route does. */
    {"POST", "/graphql", graphql_handle, PUBLIC, NULL},
    {"GET", "/graphql", graphql_handle, PUBLIC, NULL},
    {"POST", "/api/v1/graphql", graphql_handle, PUBLIC, NULL},
    {"GET", "/api/v1/graphql", graphql_handle, PUBLIC, NULL},

    /* Everything else: web apps, docs, the gateway's own probes, or 404. */
    {"*", "/{rest*}", static_handle, PUBLIC, NULL},
};

static void free_state(struct gateway *gw) {
  if (gw == NULL) return;
  gql_schema_destroy(gw->graphql);
  ratelimit_destroy(gw->limiter);
  edge_cache_destroy(gw->cache);
  free(gw);
}

static int gateway_start(struct service *svc) {
  const struct config *cfg = svc->cfg;
  struct gateway *gw = calloc(1, sizeof *gw);
  if (gw == NULL) return KIT_NOMEM;

  long base = cfg->rate_limit_per_minute;
  long burst =
      base > 100000000L / STATIC_FACTOR ? 100000000L : base * STATIC_FACTOR;
  for (int c = 0; c < RATE_CLASS_COUNT; c++)
    gw->limits[c] = base;
  gw->limits[RATE_STATIC] = burst;
  gw->limits[RATE_DOCS] = burst;
  char why[160];
  if (policy_parse_limits(cfg->rate_limits, gw->limits, why, sizeof why) !=
      KIT_OK) {
    log_error("SHOPSPHERE_RATE_LIMITS: %s", why);
    free_state(gw);
    return KIT_INVALID;
  }

  gw->graphql = graphql_schema_create(why, sizeof why);
  if (gw->graphql == NULL) {
    log_error("GraphQL schema: %s", why);
    free_state(gw);
    return KIT_INVALID;
  }
  gw->limiter = ratelimit_create(svc->kv);
  gw->cache = cfg->edge_cache_max_age_s > 0
                  ? edge_cache_create(CACHE_ENTRIES, CACHE_BYTES)
                  : NULL;
  if (gw->limiter == NULL ||
      (cfg->edge_cache_max_age_s > 0 && gw->cache == NULL)) {
    free_state(gw);
    return KIT_NOMEM;
  }
  /* routes[0] is the preflight and the last route the catch-all. */
  router_add(&gw->api_router, routes + 1, sizeof routes / sizeof routes[0] - 2);
  snprintf(gw->swagger_dir, sizeof gw->swagger_dir, "%s", cfg->swagger_ui_dir);
  snprintf(gw->spec_path, sizeof gw->spec_path, "%s", cfg->api_spec);

  static const char *const route_labels[] = {"route", "method", "upstream",
                                             "status", NULL};
  static const char *const seconds_labels[] = {"route", "upstream", NULL};
  static const char *const class_labels[] = {"class", NULL};
  static const char *const cache_labels[] = {"result", NULL};
  gw->route_requests = metric_family(
      "gateway_requests_total", "Requests at the edge by route and upstream",
      METRIC_COUNTER, route_labels, NULL, 0);
  gw->route_seconds =
      metric_family("gateway_request_duration_seconds",
                    "Time at the edge by route and upstream, forward included",
                    METRIC_HISTOGRAM, seconds_labels, NULL, 0);
  gw->limited_total = metric_family("gateway_rate_limited_total",
                                    "Requests refused with 429 by rate class",
                                    METRIC_COUNTER, class_labels, NULL, 0);
  gw->cache_total =
      metric_family("gateway_cache_total", "Response cache lookups by result",
                    METRIC_COUNTER, cache_labels, NULL, 0);
  gw->cache_invalidations = metric_family(
      "gateway_cache_invalidations_total",
      "Catalog changes heard by event that emptied the response cache",
      METRIC_COUNTER, NULL, NULL, 0);

  char limits[256];
  size_t len = 0;
  for (int c = 0; c < RATE_CLASS_COUNT && len < sizeof limits; c++)
    len += (size_t)snprintf(limits + len, sizeof limits - len, "%s%s=%ld",
                            c ? "," : "", rate_class_name((enum rate_class)c),
                            gw->limits[c]);
  log_info("edge: rate limits per client per minute %s; cache %d s; "
           "CORS origins %s",
           limits, cfg->edge_cache_max_age_s, cfg->cors_origins);
  svc->state = gw;
  return KIT_OK;
}

/* The edge cache follows the catalog: a product's change (heard in every
 * gateway process) drops the cached answers at once, so an edit shows
 * through the edge as soon as the product service has it. Stock moved by
 * orders does not: those answers follow within their max-age. */
static void gateway_on_catalog_change(struct service *svc,
                                      const struct bus_event *ev) {
  struct gateway *gw = svc->state;
  if (gw == NULL) return;
  if (ev != NULL && strcmp(ev->event_type, "inventory.changed") == 0) {
    const char *reason = json_string_value(json_object_get(ev->data, "reason"));
    if (reason == NULL || strcmp(reason, "adjustment") != 0) return;
  }
  edge_cache_invalidate(gw->cache);
  metric_inc(gw->cache_invalidations, NULL, 1);
}

static const struct bus_listener listeners[] = {
    {"product.*", gateway_on_catalog_change},
    {"inventory.changed", gateway_on_catalog_change},
    {"category.*", gateway_on_catalog_change},
};

static void gateway_stop(struct service *svc) {
  free_state(svc->state);
  svc->state = NULL;
}

const struct service_module gateway_module = {
    .id = SVC_GATEWAY,
    .summary = "the edge: routing, auth, rate limits, CORS, cache, web files",
    .needs = NEEDS_REDIS,
    .routes = routes,
    .route_count = sizeof routes / sizeof routes[0],
    .listeners = listeners,
    .listener_count = sizeof listeners / sizeof listeners[0],
    .start = gateway_start,
    .stop = gateway_stop,
};
