/* test_router.c - route matching, parameters, 404/405, traceparent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>

#include "kit/http.h"

static void ok_handler(struct http_request *req, struct http_response *res) {
  http_reply(res, 200, "text/plain", req->route, strlen(req->route));
}

static const struct route table[] = {
    {"GET", "/api/v1/products", ok_handler, ACCESS_PUBLIC},
    {"POST", "/api/v1/products", ok_handler, ACCESS_ADMIN},
    {"GET", "/api/v1/products/{id}", ok_handler, ACCESS_PUBLIC},
    {"PATCH", "/api/v1/carts/{cart_id}/items/{product_id}", ok_handler,
     ACCESS_PUBLIC},
    {"*", "/files/{rest*}", ok_handler, ACCESS_PUBLIC},
    {"GET", "/", ok_handler, ACCESS_PUBLIC},
};

struct fixture {
  struct arena arena;
  struct router router;
  struct http_request req;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  arena_init(&f->arena, 1024);
  router_add(&f->router, table, sizeof table / sizeof table[0]);
  f->req.arena = &f->arena;
  f->req.query = "";
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  arena_free(&f->arena);
  free(f);
  return 0;
}

static enum route_match match(struct fixture *f, const char *method,
                              const char *path, char *allow) {
  const struct route *r = NULL;
  f->req.method = method;
  f->req.path = path;
  return router_match(&f->router, &f->req, &r, allow, 128);
}

static void test_literal_and_method(void **state) {
  struct fixture *f = *state;
  assert_int_equal(match(f, "GET", "/api/v1/products", NULL), ROUTE_FOUND);
  assert_string_equal(f->req.route, "/api/v1/products");
  assert_int_equal(f->req.access, ACCESS_PUBLIC);
  assert_int_equal(match(f, "POST", "/api/v1/products", NULL), ROUTE_FOUND);
  assert_int_equal(f->req.access, ACCESS_ADMIN);
  assert_int_equal(match(f, "GET", "/api/v1/products/", NULL), ROUTE_FOUND);
  assert_int_equal(match(f, "HEAD", "/api/v1/products", NULL), ROUTE_FOUND);
  assert_int_equal(match(f, "GET", "/", NULL), ROUTE_FOUND);
}

static void test_params_are_decoded(void **state) {
  struct fixture *f = *state;
  assert_int_equal(match(f, "GET", "/api/v1/products/ab%2Fc%20d", NULL),
                   ROUTE_FOUND);
  assert_string_equal(http_param(&f->req, "id"), "ab/c d");
  assert_int_equal(
      match(f, "PATCH", "/api/v1/carts/c1/items/p2", NULL), ROUTE_FOUND);
  assert_string_equal(http_param(&f->req, "cart_id"), "c1");
  assert_string_equal(http_param(&f->req, "product_id"), "p2");
  assert_null(http_param(&f->req, "id"));
}

static void test_rest_parameter(void **state) {
  struct fixture *f = *state;
  assert_int_equal(match(f, "DELETE", "/files/a/b/c.txt", NULL), ROUTE_FOUND);
  assert_string_equal(http_param(&f->req, "rest"), "a/b/c.txt");
}

static void test_not_found_and_not_allowed(void **state) {
  struct fixture *f = *state;
  char allow[128];
  assert_int_equal(match(f, "GET", "/api/v1/nothing", allow), ROUTE_NOT_FOUND);
  assert_int_equal(match(f, "GET", "/api/v1/products/1/extra", allow),
                   ROUTE_NOT_FOUND);
  assert_int_equal(match(f, "GET", "/api/v1/products//", allow),
                   ROUTE_NOT_FOUND);
  assert_int_equal(match(f, "DELETE", "/api/v1/products", allow),
                   ROUTE_METHOD_NOT_ALLOWED);
  assert_string_equal(allow, "GET, POST");
  /* A malformed or NUL escape never reaches a handler. */
  assert_int_equal(match(f, "GET", "/api/v1/products/%zz", allow),
                   ROUTE_NOT_FOUND);
  assert_int_equal(match(f, "GET", "/api/v1/products/a%00b", allow),
                   ROUTE_NOT_FOUND);
}

static void test_dispatch_renders_envelope(void **state) {
  struct fixture *f = *state;
  struct http_response res;
  http_response_init(&res);
  f->req.method = "PUT";
  f->req.path = "/api/v1/products";
  strcpy(f->req.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  router_dispatch(&f->router, &f->req, &res);
  assert_int_equal(res.status, 405);
  json_error_t jerr;
  json_t *body = json_loadb(res.body, res.body_len, 0, &jerr);
  assert_non_null(body);
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(body, "error"), "code")),
      "VALIDATION_ERROR");
  assert_string_equal(json_string_value(json_object_get(body, "trace_id")),
                      "4bf92f3577b34da6a3ce929d0e0e4736");
  assert_string_equal(http_response_get_header(&res, "Allow"), "GET, POST");
  json_decref(body);
  http_response_clear(&res);

  f->req.method = "GET";
  f->req.path = "/nope";
  router_dispatch(&f->router, &f->req, &res);
  assert_int_equal(res.status, 404);
  assert_non_null(strstr(res.body, "\"NOT_FOUND\""));
  http_response_clear(&res);
}

static void test_query_parameters(void **state) {
  struct fixture *f = *state;
  f->req.query = "q=red+shirt&limit=20&empty=&flag&enc=%C3%A9t%C3%A9";
  assert_string_equal(http_query(&f->req, "q"), "red shirt");
  assert_string_equal(http_query(&f->req, "limit"), "20");
  assert_string_equal(http_query(&f->req, "empty"), "");
  assert_string_equal(http_query(&f->req, "flag"), "");
  assert_string_equal(http_query(&f->req, "enc"), "\xc3\xa9t\xc3\xa9");
  assert_null(http_query(&f->req, "missing"));
  assert_null(http_query(&f->req, "li"));
}

static void test_traceparent(void **state) {
  (void)state;
  char trace[33], span[17];
  assert_true(http_parse_traceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", trace, span));
  assert_string_equal(trace, "4bf92f3577b34da6a3ce929d0e0e4736");
  assert_string_equal(span, "00f067aa0ba902b7");
  assert_true(http_parse_traceparent(
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-00", trace, span));
  assert_string_equal(trace, "4bf92f3577b34da6a3ce929d0e0e4736");
  assert_false(http_parse_traceparent(
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01", trace, span));
  assert_false(http_parse_traceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", trace, span));
  assert_false(http_parse_traceparent(
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", trace, span));
  assert_false(http_parse_traceparent("garbage", trace, span));
  assert_false(http_parse_traceparent(NULL, trace, span));
  assert_false(http_parse_traceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e473x-00f067aa0ba902b7-01", trace, span));

  char out[56];
  http_format_traceparent("4bf92f3577b34da6a3ce929d0e0e4736",
                          "00f067aa0ba902b7", out);
  assert_string_equal(out,
                      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
}

static void test_assign_ids(void **state) {
  struct fixture *f = *state;
  f->req.headers[0] = (struct http_header){
      "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"};
  f->req.headers[1] = (struct http_header){"x-request-id", "abc-123"};
  f->req.header_count = 2;
  http_assign_ids(&f->req);
  assert_string_equal(f->req.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  assert_string_equal(f->req.parent_span_id, "00f067aa0ba902b7");
  assert_string_equal(f->req.request_id, "abc-123");
  assert_int_equal(strlen(f->req.span_id), 16);

  /* A request id that could inject into logs or headers is replaced. */
  f->req.headers[1] = (struct http_header){"X-Request-Id", "a\"b\nc"};
  f->req.header_count = 2;
  http_assign_ids(&f->req);
  assert_int_equal(strlen(f->req.request_id), 36);
  f->req.header_count = 0;
  http_assign_ids(&f->req);
  assert_int_equal(strlen(f->req.trace_id), 32);
  assert_string_equal(f->req.parent_span_id, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_literal_and_method, setup, teardown),
      cmocka_unit_test_setup_teardown(test_params_are_decoded, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rest_parameter, setup, teardown),
      cmocka_unit_test_setup_teardown(test_not_found_and_not_allowed, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_dispatch_renders_envelope, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_query_parameters, setup, teardown),
      cmocka_unit_test_setup_teardown(test_traceparent, setup, teardown),
      cmocka_unit_test_setup_teardown(test_assign_ids, setup, teardown),
  };
  return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
