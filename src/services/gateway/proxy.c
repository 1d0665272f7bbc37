/* proxy.c - forwards one request to the service that owns it.
 *
 * The request's method, path, query and body travel unchanged; hop-by-hop
 * headers are dropped and X-Forwarded-For is extended with the peer; the kit
 * client sets X-Request-Id and traceparent, dispatches in-process when the
 * service lives in this process and over kept-alive HTTP otherwise (with the
 * upstream's breaker, its timeout and retries for idempotent methods only).
 * The upstream's answer (status, body, headers) comes back as it is, minus
 * its own request ids, which the gateway's replace on the way out; an
 * unreachable upstream or an open breaker is a 503 and a slow one a 504,
 * both rendered by the client in the envelope.
 *
 * A request that accepts text/event-stream (a browser's EventSource) is
 * forwarded as a stream: the upstream's body passes on as it arrives, never
 * buffered or cached, and no timeout ends it once its headers came (the
 * upstream's heartbeats keep it alive; the client ends it).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kit/client.h"
#include "services/gateway/gateway.h"

/* Headers that describe one hop or that only the edge may set, never
 * forwarded (RFC 9110 §7.6.1). */
static bool hop_by_hop(const char *name) {
  static const char *const names[] = {
      "connection", "keep-alive",     "proxy-connection", "transfer-encoding",
      "te",         "trailer",        "upgrade",          "proxy-authorization",
      "host",       "content-length", "x-forwarded-for",  "x-internal-token"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp(name, names[i]) == 0) return true;
  return false;
}

void proxy_forward(struct http_request *req, struct http_response *res,
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

  const char *path = req->query[0] ? arena_printf(req->arena, "%s?%s",
                                                  upstream_path, req->query)
                                   : upstream_path;
  bool has_body = req->body_len > 0 || strcmp(req->method, "POST") == 0 ||
                  strcmp(req->method, "PUT") == 0 ||
                  strcmp(req->method, "PATCH") == 0;
  const char *accept = http_header(req, "Accept");
  struct client_request call = {
      .stream = accept != NULL && strstr(accept, "text/event-stream") != NULL,
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
