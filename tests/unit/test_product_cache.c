/* test_product_cache.c - unit tests for the product service's cache of
 * rendered JSON (src/services/product/cache.c): hits, misses, expiry,
 * invalidation and the generation guard against stale fills. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kit/http.h"
#include "services/product/cache.h"

static bool hit(struct pcache *c, const char *key, const char *want) {
  struct http_response res;
  http_response_init(&res);
  bool ok = pcache_reply(c, key, &res);
  if (ok) {
    assert_int_equal(res.status, 200);
    assert_int_equal(res.body_len, strlen(want));
    assert_memory_equal(res.body, want, res.body_len);
    assert_string_equal(res.content_type, "application/json");
  }
  http_response_clear(&res);
  return ok;
}

static void test_hit_miss_and_replace(void **state) {
  (void)state;
  struct pcache *c = pcache_create(64, 60000);
  assert_non_null(c);
  assert_false(hit(c, "D|a", ""));
  pcache_put(c, "D|a", "{\"a\":1}", 7, pcache_generation(c));
  assert_true(hit(c, "D|a", "{\"a\":1}"));
  assert_false(hit(c, "D|b", ""));
  pcache_put(c, "D|a", "{\"a\":2}", 7, pcache_generation(c));
  assert_true(hit(c, "D|a", "{\"a\":2}"));
  /* Many keys in few slots: a key is either its own value or a miss. */
  char key[16], body[16];
  for (int i = 0; i < 500; i++) {
    snprintf(key, sizeof key, "k%d", i);
    snprintf(body, sizeof body, "%d", i);
    pcache_put(c, key, body, strlen(body), pcache_generation(c));
  }
  for (int i = 0; i < 500; i++) {
    snprintf(key, sizeof key, "k%d", i);
    snprintf(body, sizeof body, "%d", i);
    (void)hit(c, key, body);
  }
  pcache_destroy(c);
}

static void test_invalidation(void **state) {
  (void)state;
  struct pcache *c = pcache_create(64, 60000);
  unsigned long before = pcache_generation(c);
  pcache_put(c, "L|x", "[]", 2, before);
  assert_true(hit(c, "L|x", "[]"));
  pcache_invalidate(c);
  assert_false(hit(c, "L|x", "[]"));
  /* A rendering loaded before a write must not be stored after it. */
  pcache_put(c, "L|x", "[old]", 5, before);
  assert_false(hit(c, "L|x", "[old]"));
  pcache_put(c, "L|x", "[new]", 5, pcache_generation(c));
  assert_true(hit(c, "L|x", "[new]"));
  pcache_destroy(c);
}

static void test_expiry(void **state) {
  (void)state;
  struct pcache *c = pcache_create(8, 30);
  pcache_put(c, "D|e", "{}", 2, pcache_generation(c));
  assert_true(hit(c, "D|e", "{}"));
  struct timespec ts = {.tv_sec = 0, .tv_nsec = 60 * 1000000L};
  nanosleep(&ts, NULL);
  assert_false(hit(c, "D|e", "{}"));
  pcache_destroy(c);
  pcache_destroy(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hit_miss_and_replace),
      cmocka_unit_test(test_invalidation),
      cmocka_unit_test(test_expiry),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
