/* gateway.h - the gateway's rooms, shared by the files of this folder only.
 *
 *   gateway.c  module descriptor: the route table (upstream, access rule and
 *              rate class of each public path and method), start/stop
 *   edge.c     the chain every routed request goes through: client identity,
 *              rate limit, CORS, response cache, forward, access log, metrics
 *   proxy.c    forwarding one request to its upstream through the kit client
 *   policy.c   pure decisions (rate classes, client keys, CORS origins,
 *              Cache-Control, MIME types, safe paths): unit-tested
 *   cache.c    the short-lived response cache for anonymous catalog reads
 *   static.c   the web apps at / and /admin/, the API docs at /docs
 */
#ifndef SHOPSPHERE_GATEWAY_H
#define SHOPSPHERE_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kit/http.h"
#include "kit/ratelimit.h"
#include "kit/service.h"

/* Rate-limit classes: each has its own budget per client (docs/gateway.md). */
enum rate_class {
  RATE_READ = 0, /* GET/HEAD of the API */
  RATE_WRITE,    /* other methods of the API */
  RATE_AUTH,     /* credentials: login, refresh, register, password reset */
  RATE_WEBHOOK,  /* provider callbacks */
  RATE_HEALTH,   /* /api/v1/health/{service} */
  RATE_STATIC,   /* the web apps' files */
  RATE_DOCS,     /* /docs and the OpenAPI document */
  RATE_CLASS_COUNT,
  RATE_BY_METHOD = RATE_CLASS_COUNT /* route table: read or write by method */
};

/* What a route of the table forwards to, and how the edge treats it. */
struct edge_route {
  enum service_id upstream;
  enum rate_class rate_class; /* or RATE_BY_METHOD */
  bool cacheable;             /* anonymous GETs may be served from the cache */
};

/* --- policy.c: pure functions ------------------------------------------- */

const char *rate_class_name(enum rate_class c);
enum rate_class rate_class_lookup(const char *name, size_t len);

/* The class of a request on route r (resolves RATE_BY_METHOD). */
enum rate_class edge_rate_class(const struct edge_route *r, const char *method);

/* Parses "auth=20,docs=5" into limits[] (entries not named keep their value).
 * KIT_OK, or KIT_INVALID with a reason naming the bad entry. */
int policy_parse_limits(const char *spec, long limits[RATE_CLASS_COUNT],
                        char *why, size_t why_size);

/* true when origin is one of the comma-separated allowed origins (exact
 * match; "*" allows any). */
bool policy_origin_allowed(const char *allowed, const char *origin);

/* true when ip is in the comma-separated list. */
bool policy_list_contains(const char *list, const char *ip);

/* The client address to rate-limit: the peer, or, when the peer is a trusted
 * proxy, the right-most X-Forwarded-For entry that is not one (a client can
 * prepend anything, but not what our proxies appended). Writes into out. */
void policy_client_ip(const char *peer, const char *xff, const char *trusted,
                      char *out, size_t size);

/* Cache-Control of an upstream answer: the max-age in seconds a shared cache
 * may keep it, or -1 when it must not be stored (no max-age, no-store,
 * no-cache, private, s-maxage=0...). s-maxage wins over max-age. */
long policy_shared_max_age(const char *cache_control);

/* The Content-Type of a file name by its extension. */
const char *policy_mime_type(const char *name);

/* true when a decoded URL path is safe to map onto a directory: starts with
 * '/', no "." or ".." segment, no backslash, no NUL, no control character. */
bool policy_path_safe(const char *path);

/* true when the Accept header asks for an HTML page (a browser navigation). */
bool policy_wants_html(const char *accept);

/* --- cache.c ------------------------------------------------------------- */

struct edge_cache;

struct edge_cache *edge_cache_create(size_t max_entries, size_t max_bytes);
void edge_cache_destroy(struct edge_cache *c);

/* Copies a fresh entry for key into res (status, body, content type,
 * headers) and sets *age_s; false on a miss or an expired entry. */
bool edge_cache_get(struct edge_cache *c, const char *key,
                    struct http_response *res, long *age_s);

/* Stores a copy of res for ttl_s seconds (replacing an older entry), unless
 * the cache was invalidated since `generation` was read (before the
 * upstream was asked): an answer loaded before a change is never kept. */
void edge_cache_put(struct edge_cache *c, const char *key,
                    const struct http_response *res, long ttl_s,
                    unsigned long generation);
unsigned long edge_cache_generation(struct edge_cache *c);

/* Drops every entry at once (the catalog changed: an event said so). */
void edge_cache_invalidate(struct edge_cache *c);

/* --- the edge state (svc->state) ----------------------------------------- */

struct gateway {
  struct ratelimit *limiter;
  struct edge_cache *cache;
  long limits[RATE_CLASS_COUNT]; /* tokens per minute per client */
  /* The API routes alone (no preflight, no catch-all): tells a wrong
   * method (405 with Allow) from an unknown path (404) at the catch-all. */
  struct router api_router;
  char swagger_dir[1024];
  char spec_path[1024];
  struct metric_family *route_requests; /* by route, upstream, status */
  struct metric_family *route_seconds;  /* by route, upstream */
  struct metric_family *limited_total;  /* by class */
  struct metric_family *cache_total;    /* by result */
  struct metric_family *cache_invalidations; /* catalog changes heard */
  struct gql_schema *graphql;           /* graphql_schema.c */
};

/* --- edge.c -------------------------------------------------------------- */

/* What the edge learned about one request, for its headers and log line. */
struct edge_ctx {
  int64_t started_ms;
  enum rate_class rate_class;
  bool rate_checked; /* decision below is set */
  struct ratelimit_decision decision;
  const char *upstream; /* service name, NULL when the gateway answered */
  const char *cache;    /* "hit", "miss" or NULL */
};

/* Starts the edge's bookkeeping of req in class cls. */
void edge_begin(struct http_request *req, struct edge_ctx *ctx,
                enum rate_class cls);

/* Takes a token from the client's bucket of ctx's class; true when the
 * request may go on, false when res holds the 429. */
bool edge_admit(struct http_request *req, struct http_response *res,
                struct edge_ctx *ctx);

/* Adds the rate-limit and CORS headers to res, counts the request in the
 * gateway's metrics and writes its access log line. Once per request. */
void edge_finish(struct http_request *req, struct http_response *res,
                 const struct edge_ctx *ctx);

/* --- graphql.c, graphql_schema.c ----------------------------------------- */

/* What a resolver knows of the request it serves (gql_context). */
struct graphql_request {
  struct http_request *req;
  int upstream_calls;
};

struct gql_schema;
/* The storefront schema; NULL with a reason when it does not compile. */
struct gql_schema *graphql_schema_create(char *why, size_t why_size);
/* POST /graphql (and GET with ?query=): runs GraphQL; GET without a query
 * answers the explorer page. */
void graphql_handle(struct http_request *req, struct http_response *res);

/* The handler of every proxied route: req->route_data is its edge_route. */
void edge_handle_api(struct http_request *req, struct http_response *res);

/* GET /api/v1/health/{service}: a service's /healthz through the edge. */
void edge_handle_service_health(struct http_request *req,
                                struct http_response *res);

/* OPTIONS anything: the CORS preflight. */
void edge_handle_preflight(struct http_request *req, struct http_response *res);

/* --- proxy.c ------------------------------------------------------------- */

/* Forwards req to target with upstream_path (+ the query); fills res. */
void proxy_forward(struct http_request *req, struct http_response *res,
                   enum service_id target, const char *upstream_path);

/* --- static.c ------------------------------------------------------------ */

/* GET/HEAD of anything no API route took: the web apps, /docs, or 404. */
void static_handle(struct http_request *req, struct http_response *res);
/* GraphiQL's page from the web build (web/dist/graphiql/index.html), as
 * served at GET /graphql; false when the build has none (the caller answers
 * its own explorer then). */
bool static_serve_graphiql(struct http_request *req, struct http_response *res);

#endif
