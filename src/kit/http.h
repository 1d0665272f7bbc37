/* http.h - requests, responses, routes and the HTTP server.
 *
 * A handler sees a parsed struct http_request and fills a struct
 * http_response; it never touches libmicrohttpd. That is what lets the
 * inter-service client dispatch a call in-process (router_dispatch) or over
 * HTTP with the same handler code. The server (libmicrohttpd, epoll, thread
 * pool) does the generic work once per request: body cap (413), request id,
 * W3C traceparent, routing (404/405 in the envelope), access log, metrics.
 */
#ifndef SHOPSPHERE_KIT_HTTP_H
#define SHOPSPHERE_KIT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"

#define HTTP_MAX_PARAMS 8
#define HTTP_MAX_HEADERS 48

struct service; /* service.h */

enum route_access {
  ACCESS_PUBLIC = 0,
  ACCESS_SIGNED_IN,
  ACCESS_ADMIN,
  ACCESS_MODERATOR, /* moderator or admin */
  ACCESS_INTERNAL,  /* service-to-service only; never routed by the gateway */
};

struct http_header {
  const char *name;
  const char *value;
};

struct http_request {
  const char *method;       /* "GET", ... */
  const char *path;         /* without the query string */
  const char *query;        /* raw query string without '?', "" if none */
  const char *body;         /* NUL-terminated; body_len bytes */
  size_t body_len;
  struct http_header headers[HTTP_MAX_HEADERS];
  size_t header_count;
  const char *client_ip;    /* peer address, "" when in-process */

  const char *route;        /* matched route pattern, for logs and metrics */
  const void *route_data;   /* the matched route's data */
  enum route_access access; /* the matched route's access rule */
  const char *param_names[HTTP_MAX_PARAMS];
  const char *param_values[HTTP_MAX_PARAMS]; /* decoded path segments */
  size_t param_count;

  char request_id[40];
  char trace_id[33];        /* 32 lowercase hex */
  char span_id[17];         /* this hop's span: 16 lowercase hex */
  char parent_span_id[17];  /* caller's span from traceparent, "" if none */

  struct service *svc;      /* the service serving the request */
  struct arena *arena;      /* per-request scratch, freed with the request */
  void *user;               /* per-request slot for auth context (identity) */
  const char *log_fields;   /* extra JSON members ("k":v,...) a handler adds
                               to the request's one access-log line */
};

struct http_stream; /* a body produced over time; see "streamed bodies" */

struct http_response {
  unsigned status;
  char *body;               /* malloc'd, owned by the response */
  size_t body_len;
  char content_type[64];
  struct http_header headers[24]; /* name/value malloc'd, owned */
  size_t header_count;
  struct http_stream *stream; /* when set, the body (body is ignored); owned
                                 by the response until the server takes it */
};

/* Case-insensitive header lookup; NULL when absent. */
const char *http_header(const struct http_request *req, const char *name);

/* Path parameter by name ({id} → "id"); NULL when absent. */
const char *http_param(const struct http_request *req, const char *name);

/* Decoded query parameter (first occurrence), allocated from req->arena;
 * NULL when absent. */
const char *http_query(const struct http_request *req, const char *name);

/* Percent-decodes s[0..n) into an arena string ('+' is a space when
 * plus_is_space). NULL on a malformed escape or an encoded NUL byte. */
char *http_decode_component(struct arena *a, const char *s, size_t n,
                            int plus_is_space);

/* --- building responses; each takes ownership of nothing it is given. --- */

void http_response_init(struct http_response *res);
void http_response_clear(struct http_response *res); /* frees body, headers */

/* Sets status and a copy of body with the given content type. */
int http_reply(struct http_response *res, unsigned status,
               const char *content_type, const char *body, size_t len);

/* Sets status and takes ownership of a malloc'd body. */
int http_reply_take(struct http_response *res, unsigned status,
                    const char *content_type, char *body, size_t len);

/* Serializes json (a json_t *, borrowed) as the body. */
int http_reply_json(struct http_response *res, unsigned status,
                    const void *json);

/* Renders the error envelope with req's trace id. details may be NULL.
 * The message must never carry SQL, a stack trace or a secret. */
int http_reply_error(struct http_response *res, const struct http_request *req,
                     enum api_error e, const char *message,
                     const char *details);

/* Adds a response header (copied). */
int http_response_header(struct http_response *res, const char *name,
                         const char *value);

/* Response header lookup, case-insensitive; NULL when absent. */
const char *http_response_get_header(const struct http_response *res,
                                     const char *name);

/* --- streamed bodies ---
 *
 * A handler whose answer is produced over time (server-sent events) sets
 * res->stream instead of a body: the server then sends the status and
 * headers at once and pulls the body with `read` as it comes, chunked, with
 * no size and no timeout while it waits. `read` returns the bytes it wrote
 * into buf (at most max), 0 when nothing is ready yet (the server parks the
 * connection, using no thread, until http_stream_wake), or HTTP_STREAM_END.
 * It runs on a server thread, never twice at once for one stream. `close`
 * runs once when the stream ends (the client went away, `read` ended it,
 * the server stops, or the response was never sent) and frees ctx.
 *
 * http_stream_wake may be called from any thread until `close` has
 * returned: callers serialize wake and close with a lock of their own (wake
 * under the lock; close takes it to forget the stream). */
#define HTTP_STREAM_END (-1L)
typedef long (*http_stream_read_fn)(void *ctx, char *buf, size_t max);
typedef void (*http_stream_close_fn)(void *ctx);

/* A stream over ctx; NULL when memory runs out (close is not called then). */
struct http_stream *http_stream_create(http_stream_read_fn read,
                                       http_stream_close_fn close, void *ctx);

/* Tells the server that `read` has something (or has ended). */
void http_stream_wake(struct http_stream *s);

/* Ends a stream that no server took: calls close, frees s. NULL is fine. */
void http_stream_destroy(struct http_stream *s);

/* --- routes --- */

typedef void (*http_handler_fn)(struct http_request *req,
                                struct http_response *res);

/* A route: "GET", "/api/v1/products/{id}". "*" as method matches any, and a
 * pattern ending in "/{rest*}" matches any remaining path. */
struct route {
  const char *method;
  const char *pattern;
  http_handler_fn handler;
  enum route_access access;
  const void *data; /* handed to the handler as req->route_data */
};

#define ROUTER_MAX_TABLES 8

/* Tables are tried in the order they were added; zero-initialize. */
struct router {
  const struct route *tables[ROUTER_MAX_TABLES];
  size_t table_lens[ROUTER_MAX_TABLES];
  size_t table_count;
};

enum route_match {
  ROUTE_FOUND = 0,
  ROUTE_NOT_FOUND,          /* no pattern matches the path: 404 */
  ROUTE_METHOD_NOT_ALLOWED, /* a pattern matches but not the method: 405 */
};

/* Adds a table of n routes (borrowed; usually static). At most 8 tables. */
int router_add(struct router *r, const struct route *table, size_t n);

/* Finds the route for req->method and req->path; on ROUTE_FOUND fills
 * req->route and req->param_* (values allocated from req->arena). On
 * ROUTE_METHOD_NOT_ALLOWED, allow (if not NULL, size allow_size) receives the
 * comma-separated allowed methods. */
enum route_match router_match(const struct router *r, struct http_request *req,
                              const struct route **out, char *allow,
                              size_t allow_size);

/* Matches and runs the handler, answering 404/405 in the envelope itself. */
void router_dispatch(const struct router *r, struct http_request *req,
                     struct http_response *res);

/* The middleware chain around router_dispatch, used by the server and by
 * in-process client calls alike: assigns request and trace ids, sets the
 * thread's log context (restoring the caller's afterwards), dispatches,
 * adds X-Request-Id and traceparent to the response, counts the request in
 * the metrics and writes the access log line. */
void http_handle(const struct router *r, const char *service_name,
                 struct http_request *req, struct http_response *res);

/* Registers the middleware's metric families; called once before serving. */
void http_middleware_init(void);

/* --- trace context --- */

/* Parses a W3C traceparent ("00-<32hex>-<16hex>-<2hex>"); returns false when
 * malformed or all-zero. */
bool http_parse_traceparent(const char *value, char trace_id[33],
                            char parent_span[17]);

/* Fills req's request_id, trace_id, span_id from its headers or fresh random
 * values, so every request has both. */
void http_assign_ids(struct http_request *req);

/* "00-<trace>-<span>-01" for the next hop, into out (56 bytes). */
void http_format_traceparent(const char *trace_id, const char *span_id,
                             char out[56]);

/* --- the server --- */

struct http_server;

struct http_server_options {
  const char *service_name;     /* for logs and metrics */
  const char *bind_address;
  int port;
  int threads;
  long max_body_bytes;
  long max_header_bytes;
  int connection_timeout_s;
  int max_connections;
};

/* Starts listening; req->svc of each request is svc. Returns NULL with a
 * logged reason (port in use, ...). The router is borrowed for the server's
 * life. */
struct http_server *http_server_start(const struct http_server_options *opt,
                                      const struct router *router,
                                      struct service *svc);

/* Stops accepting new connections (in-flight requests continue). */
void http_server_quiesce(struct http_server *s);

/* Number of requests being handled right now. */
int http_server_inflight(const struct http_server *s);

/* Stops the daemon and frees it: waits at most grace_ms for in-flight
 * requests first. NULL is a no-op. */
void http_server_stop(struct http_server *s, int grace_ms);

#endif
