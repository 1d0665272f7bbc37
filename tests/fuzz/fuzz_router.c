/* fuzz_router.c - what the HTTP layer takes from a request line and its
 * headers: route matching with parameters, query strings and their
 * percent-decoding, traceparent, the gateway's path and X-Forwarded-For
 * rules. Input: "METHOD\nPATH?QUERY\nTRACEPARENT\nXFF". */
#include "fuzz.h"
#include "kit/arena.h"
#include "kit/http.h"
#include "services/gateway/gateway.h"

static void ok(struct http_request *req, struct http_response *res) {
  (void)req, (void)res;
}

static const struct route table[] = {
    {"GET", "/api/v1/products", ok, ACCESS_PUBLIC},
    {"GET", "/api/v1/products/{id}", ok, ACCESS_PUBLIC},
    {"PATCH", "/api/v1/carts/{id}/items/{product_id}", ok, ACCESS_PUBLIC},
    {"*", "/api/v1/users/me/{rest*}", ok, ACCESS_SIGNED_IN},
    {"POST", "/api/v1/orders/{id}/cancel", ok, ACCESS_SIGNED_IN},
    {"GET", "/", ok, ACCESS_PUBLIC},
};

static char *next_line(char **cursor) {
  char *line = *cursor;
  if (line == NULL) return (char *)"";
  char *nl = strchr(line, '\n');
  if (nl) {
    *nl = '\0';
    *cursor = nl + 1;
  } else {
    *cursor = NULL;
  }
  return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_cstr(data, size), *cursor = text;
  char *method = next_line(&cursor), *target = next_line(&cursor);
  char *traceparent = next_line(&cursor), *xff = next_line(&cursor);
  struct arena a;
  arena_init(&a, 1024);
  struct router r = {0};
  router_add(&r, table, sizeof table / sizeof table[0]);
  struct http_request req = {0};
  req.arena = &a;
  req.method = method;
  char *q = strchr(target, '?');
  req.query = q ? q + 1 : "";
  if (q) *q = '\0';
  req.path = target;
  req.client_ip = "127.0.0.1";
  req.headers[0] = (struct http_header){"traceparent", traceparent};
  req.headers[1] = (struct http_header){"X-Forwarded-For", xff};
  req.header_count = 2;
  const struct route *route = NULL;
  char allow[64];
  router_match(&r, &req, &route, allow, sizeof allow);
  http_query(&req, "limit");
  http_query(&req, "cursor");
  http_query(&req, "");
  http_decode_component(&a, req.path, strlen(req.path), 0);
  http_decode_component(&a, req.query, strlen(req.query), 1);
  char trace[33], span[17];
  http_parse_traceparent(traceparent, trace, span);
  http_assign_ids(&req);
  char ip[64];
  policy_client_ip("10.0.0.1", xff, "10.0.0.1,10.0.0.2", ip, sizeof ip);
  policy_path_safe(req.path);
  policy_wants_html(xff);
  policy_shared_max_age(traceparent);
  arena_free(&a);
  free(text);
  return 0;
}
