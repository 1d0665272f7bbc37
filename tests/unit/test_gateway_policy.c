/* test_gateway_policy.c - unit tests for the gateway's pure decisions
 * (src/services/gateway/policy.c) and its response cache (cache.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "kit/err.h"
#include "services/gateway/gateway.h"

static void test_rate_classes_by_route_and_method(void **state) {
  (void)state;
  struct edge_route api = {SVC_PRODUCT, RATE_BY_METHOD, true};
  struct edge_route login = {SVC_AUTH, RATE_AUTH, false};
  assert_int_equal(edge_rate_class(&api, "GET"), RATE_READ);
  assert_int_equal(edge_rate_class(&api, "HEAD"), RATE_READ);
  assert_int_equal(edge_rate_class(&api, "POST"), RATE_WRITE);
  assert_int_equal(edge_rate_class(&api, "DELETE"), RATE_WRITE);
  assert_int_equal(edge_rate_class(&login, "POST"), RATE_AUTH);
  assert_string_equal(rate_class_name(RATE_DOCS), "docs");
  assert_int_equal(rate_class_lookup("webhook", 7), RATE_WEBHOOK);
  assert_int_equal(rate_class_lookup("nope", 4), RATE_CLASS_COUNT);
}

static void test_parse_limits(void **state) {
  (void)state;
  long limits[RATE_CLASS_COUNT];
  for (int i = 0; i < RATE_CLASS_COUNT; i++)
    limits[i] = 100;
  char why[128];
  assert_int_equal(
      policy_parse_limits(" auth = 20, docs=5 ,", limits, why, sizeof why),
      KIT_OK);
  assert_int_equal(limits[RATE_AUTH], 20);
  assert_int_equal(limits[RATE_DOCS], 5);
  assert_int_equal(limits[RATE_READ], 100);
  assert_int_equal(policy_parse_limits("", limits, why, sizeof why), KIT_OK);
  assert_int_equal(policy_parse_limits("reads=5", limits, why, sizeof why),
                   KIT_INVALID);
  assert_non_null(strstr(why, "reads"));
  assert_int_equal(policy_parse_limits("auth", limits, why, sizeof why),
                   KIT_INVALID);
  assert_int_equal(policy_parse_limits("auth=0", limits, why, sizeof why),
                   KIT_INVALID);
  assert_int_equal(policy_parse_limits("auth=12x", limits, why, sizeof why),
                   KIT_INVALID);
  assert_int_equal(policy_parse_limits("auth=", limits, why, sizeof why),
                   KIT_INVALID);
  assert_int_equal(limits[RATE_AUTH], 20); /* refused entries change nothing */
}

static void test_origins(void **state) {
  (void)state;
  const char *allowed = "http://localhost:8080, https://shop.example";
  assert_true(policy_origin_allowed(allowed, "http://localhost:8080"));
  assert_true(policy_origin_allowed(allowed, "https://shop.example"));
  assert_false(policy_origin_allowed(allowed, "https://shop.example.evil"));
  assert_false(policy_origin_allowed(allowed, "http://localhost"));
  assert_false(policy_origin_allowed(allowed, ""));
  assert_false(policy_origin_allowed("", "http://localhost:8080"));
  assert_true(policy_origin_allowed("*", "https://anything.example"));
}

static void test_client_ip(void **state) {
  (void)state;
  char ip[64];
  /* No trusted proxies: the peer, whatever X-Forwarded-For claims. */
  policy_client_ip("192.0.2.1", "203.0.113.9", "", ip, sizeof ip);
  assert_string_equal(ip, "192.0.2.1");
  /* An untrusted peer cannot choose its identity. */
  policy_client_ip("192.0.2.1", "203.0.113.9", "10.0.0.1", ip, sizeof ip);
  assert_string_equal(ip, "192.0.2.1");
  /* Behind our proxy: the right-most address it did not add itself. */
  policy_client_ip("10.0.0.1", "1.1.1.1, 203.0.113.9", "10.0.0.1", ip,
                   sizeof ip);
  assert_string_equal(ip, "203.0.113.9");
  policy_client_ip("10.0.0.1", "203.0.113.9, 10.0.0.2", "10.0.0.1,10.0.0.2", ip,
                   sizeof ip);
  assert_string_equal(ip, "203.0.113.9");
  /* Trusted peer without the header: the peer. */
  policy_client_ip("10.0.0.1", NULL, "10.0.0.1", ip, sizeof ip);
  assert_string_equal(ip, "10.0.0.1");
}

static void test_shared_max_age(void **state) {
  (void)state;
  assert_int_equal(policy_shared_max_age("public, max-age=30"), 30);
  assert_int_equal(policy_shared_max_age("max-age=60, s-maxage=5"), 5);
  assert_int_equal(policy_shared_max_age("max-age=\"7\""), 7);
  assert_int_equal(policy_shared_max_age("MAX-AGE=9"), 9);
  assert_int_equal(policy_shared_max_age("max-age=0"), -1);
  assert_int_equal(policy_shared_max_age("private, max-age=30"), -1);
  assert_int_equal(policy_shared_max_age("no-store"), -1);
  assert_int_equal(policy_shared_max_age("max-age=30, no-cache"), -1);
  assert_int_equal(policy_shared_max_age("max-age=abc"), -1);
  assert_int_equal(policy_shared_max_age("public"), -1);
  assert_int_equal(policy_shared_max_age(NULL), -1);
}

static void test_static_paths(void **state) {
  (void)state;
  assert_true(policy_path_safe("/"));
  assert_true(policy_path_safe("/assets/app.1234.js"));
  assert_true(policy_path_safe("/admin/"));
  assert_true(policy_path_safe("/.well/x")); /* dots inside names are fine */
  assert_false(policy_path_safe("/../etc/passwd"));
  assert_false(policy_path_safe("/assets/../../secret"));
  assert_false(policy_path_safe("/assets/./x"));
  assert_false(policy_path_safe("/a\\b"));
  assert_false(policy_path_safe("relative"));
  assert_false(policy_path_safe("/a\nb"));
  assert_string_equal(policy_mime_type("/index.html"),
                      "text/html; charset=utf-8");
  assert_string_equal(policy_mime_type("/x/app.JS"),
                      "text/javascript; charset=utf-8");
  assert_string_equal(policy_mime_type("/img.svg"), "image/svg+xml");
  assert_string_equal(policy_mime_type("/v1.2/file"),
                      "application/octet-stream");
  assert_true(policy_wants_html("text/html,application/xhtml+xml,*/*;q=0.8"));
  assert_false(policy_wants_html("*/*"));
  assert_false(policy_wants_html(NULL));
}

static void test_cache_round_trip(void **state) {
  (void)state;
  struct edge_cache *c = edge_cache_create(4, 1 << 20);
  assert_non_null(c);
  struct http_response res;
  http_response_init(&res);
  http_reply(&res, 200, "application/json", "{\"items\":[]}", 12);
  http_response_header(&res, "Cache-Control", "public, max-age=5");
  http_response_header(&res, "X-Request-Id", "not-kept");
  edge_cache_put(c, "/api/v1/products?limit=2", &res, 5,
                 edge_cache_generation(c));
  http_response_clear(&res);

  struct http_response hit;
  http_response_init(&hit);
  long age = -1;
  assert_true(edge_cache_get(c, "/api/v1/products?limit=2", &hit, &age));
  assert_int_equal(hit.status, 200);
  assert_int_equal(hit.body_len, 12);
  assert_memory_equal(hit.body, "{\"items\":[]}", 12);
  assert_string_equal(hit.content_type, "application/json");
  assert_string_equal(http_response_get_header(&hit, "Cache-Control"),
                      "public, max-age=5");
  assert_null(http_response_get_header(&hit, "X-Request-Id"));
  assert_int_equal(age, 0);
  http_response_clear(&hit);

  http_response_init(&hit);
  assert_false(edge_cache_get(c, "/api/v1/products?limit=3", &hit, &age));
  http_response_clear(&hit);

  /* More keys than slots: the cache keeps working and stays bounded. */
  for (int i = 0; i < 50; i++) {
    char key[32];
    snprintf(key, sizeof key, "/k%d", i);
    http_response_init(&res);
    http_reply(&res, 200, "text/plain", "x", 1);
    edge_cache_put(c, key, &res, 5, edge_cache_generation(c));
    http_response_clear(&res);
  }
  http_response_init(&hit);
  assert_true(edge_cache_get(c, "/k49", &hit, &age));
  http_response_clear(&hit);
  edge_cache_destroy(c);
}

/* A change heard by event drops every entry at once, and an answer loaded
 * before the change (generation read before the upstream was asked) is not
 * kept after it. */
static void test_cache_invalidation(void **state) {
  (void)state;
  struct edge_cache *c = edge_cache_create(16, 1 << 20);
  assert_non_null(c);
  struct http_response res, hit;
  long age = -1;
  http_response_init(&res);
  http_reply(&res, 200, "application/json", "{\"price\":\"1.00\"}", 16);
  edge_cache_put(c, "/p/1", &res, 60, edge_cache_generation(c));
  unsigned long before_change = edge_cache_generation(c);
  edge_cache_invalidate(c);
  http_response_init(&hit);
  assert_false(edge_cache_get(c, "/p/1", &hit, &age));
  http_response_clear(&hit);

  edge_cache_put(c, "/p/1", &res, 60, before_change);
  http_response_init(&hit);
  assert_false(edge_cache_get(c, "/p/1", &hit, &age));
  http_response_clear(&hit);

  edge_cache_put(c, "/p/1", &res, 60, edge_cache_generation(c));
  http_response_init(&hit);
  assert_true(edge_cache_get(c, "/p/1", &hit, &age));
  http_response_clear(&hit);
  http_response_clear(&res);
  edge_cache_destroy(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rate_classes_by_route_and_method),
      cmocka_unit_test(test_parse_limits),
      cmocka_unit_test(test_origins),
      cmocka_unit_test(test_client_ip),
      cmocka_unit_test(test_shared_max_age),
      cmocka_unit_test(test_static_paths),
      cmocka_unit_test(test_cache_round_trip),
      cmocka_unit_test(test_cache_invalidation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
