/* client.h - how one service calls another.
 *
 * One interface, two transports: when the target service runs in this
 * process the call is dispatched in-process through its router (no socket,
 * no copy of the handler code); otherwise it goes over HTTP with libcurl,
 * keeping connections alive per thread. Remote calls have a timeout, a
 * circuit breaker per upstream and, for idempotent methods only, retries with
 * exponential backoff and full jitter. Nothing in a handler knows which
 * transport served it.
 */
#ifndef SHOPSPHERE_KIT_CLIENT_H
#define SHOPSPHERE_KIT_CLIENT_H

#include <stdbool.h>

#include "breaker.h"
#include "config.h"
#include "http.h"

struct service;
struct client;

struct client_request {
  const char *method;            /* "GET" ... */
  const char *path;              /* path and query: "/internal/products?x=1" */
  const char *body;              /* may be NULL */
  size_t body_len;
  const char *content_type;      /* default application/json with a body */
  const struct http_request *parent; /* propagates trace, request id, auth */
  const struct http_header *headers; /* extra headers, copied */
  size_t header_count;
  int timeout_ms;                /* 0: SHOPSPHERE_UPSTREAM_TIMEOUT_MS */
  int retries;                   /* 0: SHOPSPHERE_UPSTREAM_RETRIES, -1: none;
                                    non-idempotent calls never retry */
  bool stream;                   /* answer with out->stream (http.h) passing
                                    the body on as it arrives (server-sent
                                    events): no retries, timeout_ms bounds
                                    only the wait for the headers, then no
                                    limit. In-process calls stream anyway
                                    when the handler does. */
};

/* One per process. cfg is borrowed for the client's life. */
struct client *client_create(const struct config *cfg);
void client_destroy(struct client *c);

/* Declares that `svc` serves `id` in this process: later calls to id are
 * dispatched in-process. Call before any request is served. */
void client_register_local(struct client *c, enum service_id id,
                           struct service *svc);
bool client_is_local(const struct client *c, enum service_id id);

/* Calls target. Always fills *out (initialized by the callee): with the
 * upstream's answer, or with a 503 SERVICE_UNAVAILABLE envelope (breaker open,
 * connection refused) or a 504 TIMEOUT_ERROR envelope. Returns KIT_OK when an
 * answer came from the upstream (whatever its status), KIT_UNAVAILABLE or
 * KIT_TIMEOUT otherwise. The caller clears *out. */
int client_call(struct client *c, enum service_id target,
                const struct client_request *r, struct http_response *out);

/* The breaker of an upstream (for metrics, /readyz and tests). */
enum breaker_state client_breaker_state(struct client *c,
                                        enum service_id target);

#endif
