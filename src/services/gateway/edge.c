/* edge.c - the chain a routed request goes through at the gateway.
 *
 * The seed's Kong chain, in order: authentication (done by the router before
 * any handler here runs: a refused request never reaches a service),
 * rate limiting (a token bucket per client and route class), CORS, the
 * response cache for anonymous catalog reads, the forward (with the kit
 * client's circuit breaker, timeout and idempotent-only retries), then the
 * access log line and the gateway's metrics by route and upstream.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kit/auth.h"
#include "kit/breaker.h"
#include "kit/log.h"
#include "kit/metrics.h"
#include "services/gateway/gateway.h"

#define WINDOW_MS 60000L

/* Headers a browser script may read on a cross-origin answer. */
#define EXPOSED_HEADERS                                                        \
  "X-Request-Id, traceparent, RateLimit-Limit, RateLimit-Remaining, "          \
  "RateLimit-Reset, Retry-After, X-Cache, Age, Location, ETag"
/* Request headers a cross-origin script may send. */
#define ALLOWED_HEADERS                                                        \
  "Authorization, Content-Type, Idempotency-Key, X-Request-Id, traceparent, "  \
  "If-None-Match"
#define ALLOWED_METHODS "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"

static struct gateway *state_of(const struct http_request *req) {
  return req->svc->state;
}

void edge_begin(struct http_request *req, struct edge_ctx *ctx,
                enum rate_class cls) {
  (void)req;
  memset(ctx, 0, sizeof *ctx);
  ctx->started_ms = clock_monotonic_ms();
  ctx->rate_class = cls;
}

/* "user:<id>" when signed in, else "ip:<address>". */
static void client_key(const struct http_request *req, char *out, size_t size) {
  const struct principal *p = auth_principal(req);
  if (p->authenticated && p->user_id[0] != '\0') {
    snprintf(out, size, "user:%s", p->user_id);
    return;
  }
  char ip[64];
  policy_client_ip(req->client_ip, http_header(req, "X-Forwarded-For"),
                   req->svc->cfg->trusted_proxies, ip, sizeof ip);
  snprintf(out, size, "ip:%s", ip);
}

bool edge_admit(struct http_request *req, struct http_response *res,
                struct edge_ctx *ctx) {
  struct gateway *gw = state_of(req);
  char client[96], key[128];
  client_key(req, client, sizeof client);
  snprintf(key, sizeof key, "rl:%s:%s", rate_class_name(ctx->rate_class),
           client);
  ratelimit_take(gw->limiter, key, gw->limits[ctx->rate_class], WINDOW_MS,
                 &ctx->decision);
  ctx->rate_checked = true;
  if (ctx->decision.allowed) return true;

  const char *const labels[] = {rate_class_name(ctx->rate_class)};
  metric_inc(gw->limited_total, labels, 1);
  char details[96];
  snprintf(details, sizeof details, "%ld requests per minute in class %s",
           ctx->decision.limit, rate_class_name(ctx->rate_class));
  http_response_clear(res);
  http_reply_error(res, req, API_RATE_LIMITED,
                   "too many requests: slow down and retry later", details);
  char retry[24];
  snprintf(retry, sizeof retry, "%ld", ctx->decision.retry_after_s);
  http_response_header(res, "Retry-After", retry);
  return false;
}

/* The CORS headers of an answer to a request from an allowed origin. */
static void add_cors(const struct http_request *req,
                     struct http_response *res) {
  const char *origin = http_header(req, "Origin");
  if (origin == NULL) return;
  http_response_header(res, "Vary", "Origin");
  if (!policy_origin_allowed(req->svc->cfg->cors_origins, origin)) return;
  http_response_header(res, "Access-Control-Allow-Origin", origin);
  http_response_header(res, "Access-Control-Expose-Headers", EXPOSED_HEADERS);
}

void edge_finish(struct http_request *req, struct http_response *res,
                 const struct edge_ctx *ctx) {
  struct gateway *gw = state_of(req);
  if (ctx->rate_checked) {
    char v[24];
    snprintf(v, sizeof v, "%ld", ctx->decision.limit);
    http_response_header(res, "RateLimit-Limit", v);
    snprintf(v, sizeof v, "%ld", ctx->decision.remaining);
    http_response_header(res, "RateLimit-Remaining", v);
    snprintf(v, sizeof v, "%ld", ctx->decision.reset_s);
    http_response_header(res, "RateLimit-Reset", v);
  }
  add_cors(req, res);

  int64_t elapsed_ms = clock_monotonic_ms() - ctx->started_ms;
  const char *route = req->route ? req->route : "unmatched";
  const char *upstream = ctx->upstream ? ctx->upstream : "gateway";
  char status[8];
  snprintf(status, sizeof status, "%u", res->status);
  const char *const counter_labels[] = {route, req->method, upstream, status};
  metric_inc(gw->route_requests, counter_labels, 1);
  const char *const hist_labels[] = {route, upstream};
  metric_observe(gw->route_seconds, hist_labels, (double)elapsed_ms / 1000.0);

  /* What only the edge knows joins the kit's one access-log line. */
  char fields[320];
  int n = snprintf(fields, sizeof fields,
                   "\"upstream\":\"%s\",\"rate_class\":\"%s\"", upstream,
                   rate_class_name(ctx->rate_class));
  if (ctx->rate_checked && n > 0 && (size_t)n < sizeof fields)
    n += snprintf(fields + n, sizeof fields - (size_t)n,
                  ",\"rate_remaining\":%ld,\"rate_backend\":\"%s\"",
                  ctx->decision.remaining,
                  ctx->decision.local ? "local" : "redis");
  if (ctx->cache != NULL && n > 0 && (size_t)n < sizeof fields)
    snprintf(fields + n, sizeof fields - (size_t)n, ",\"cache\":\"%s\"",
             ctx->cache);
  req->log_fields = arena_strdup(req->arena, fields);
}

/* --- the handlers ------------------------------------------------------------
 */

static bool anonymous(const struct http_request *req) {
  return !auth_principal(req)->authenticated &&
         http_header(req, "Authorization") == NULL &&
         http_header(req, "Cookie") == NULL;
}

void edge_handle_api(struct http_request *req, struct http_response *res) {
  const struct edge_route *r = req->route_data;
  struct gateway *gw = state_of(req);
  struct edge_ctx ctx;
  edge_begin(req, &ctx, edge_rate_class(r, req->method));
  if (!edge_admit(req, res, &ctx)) goto finish;
  /* The path travels unchanged, and whatever resolves "." and ".."
   * segments on the way (a proxy, a URL library) would turn
   * "/api/v1/carts/../../internal/x" into an internal route. No public
   * path has such a segment, encoded or not: refuse them here. */
  const char *decoded =
      http_decode_component(req->arena, req->path, strlen(req->path), 0);
  if (decoded == NULL || !policy_path_safe(decoded)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such resource", NULL);
    goto finish;
  }
  ctx.upstream = service_name(r->upstream);

  bool is_get = strcmp(req->method, "GET") == 0;
  bool cacheable = r->cacheable && gw->cache != NULL && anonymous(req) &&
                   (is_get || strcmp(req->method, "HEAD") == 0);
  const char *key = NULL;
  if (cacheable) {
    key = req->query[0]
              ? arena_printf(req->arena, "%s?%s", req->path, req->query)
              : req->path;
    long age = 0;
    if (key != NULL && edge_cache_get(gw->cache, key, res, &age)) {
      ctx.cache = "hit";
      char v[24];
      snprintf(v, sizeof v, "%ld", age);
      http_response_header(res, "Age", v);
      http_response_header(res, "X-Cache", "HIT");
      const char *const labels[] = {"hit"};
      metric_inc(gw->cache_total, labels, 1);
      goto finish;
    }
  }

  unsigned long generation = cacheable ? edge_cache_generation(gw->cache) : 0;
  proxy_forward(req, res, r->upstream, req->path);

  if (cacheable && key != NULL) {
    ctx.cache = "miss";
    http_response_header(res, "X-Cache", "MISS");
    const char *const labels[] = {"miss"};
    metric_inc(gw->cache_total, labels, 1);
    /* HEAD answers have no body to keep; only a GET fills the cache. */
    long ttl =
        policy_shared_max_age(http_response_get_header(res, "Cache-Control"));
    if (ttl > req->svc->cfg->edge_cache_max_age_s)
      ttl = req->svc->cfg->edge_cache_max_age_s;
    if (is_get && res->status == 200 && ttl > 0)
      edge_cache_put(gw->cache, key, res, ttl, generation);
  }

finish:
  edge_finish(req, res, &ctx);
}

void edge_handle_service_health(struct http_request *req,
                                struct http_response *res) {
  struct edge_ctx ctx;
  edge_begin(req, &ctx, RATE_HEALTH);
  if (!edge_admit(req, res, &ctx)) goto finish;
  const char *name = http_param(req, "service");
  enum service_id target = service_lookup(name ? name : "");
  if (target == SVC_COUNT || target == SVC_GATEWAY) {
    http_reply_error(res, req, API_NOT_FOUND, "no such service", NULL);
    goto finish;
  }
  ctx.upstream = service_name(target);
  proxy_forward(req, res, target, "/healthz");
finish:
  edge_finish(req, res, &ctx);
}

void edge_handle_preflight(struct http_request *req,
                           struct http_response *res) {
  /* Preflights cost nothing upstream and are not counted against a budget:
   * a browser sends one before each non-simple call. */
  struct edge_ctx ctx;
  edge_begin(req, &ctx, RATE_READ);
  const char *origin = http_header(req, "Origin");
  const char *method = http_header(req, "Access-Control-Request-Method");
  if (origin == NULL || method == NULL) {
    /* A plain OPTIONS: say what the edge accepts. */
    http_reply(res, 204, "", "", 0);
    http_response_header(res, "Allow", ALLOWED_METHODS);
    goto finish;
  }
  if (!policy_origin_allowed(req->svc->cfg->cors_origins, origin)) {
    http_reply_error(res, req, API_AUTHORIZATION_ERROR,
                     "this origin may not call the API", NULL);
    goto finish;
  }
  http_reply(res, 204, "", "", 0);
  http_response_header(res, "Access-Control-Allow-Methods", ALLOWED_METHODS);
  http_response_header(res, "Access-Control-Allow-Headers", ALLOWED_HEADERS);
  http_response_header(res, "Access-Control-Max-Age", "600");
finish:
  edge_finish(req, res, &ctx);
}
