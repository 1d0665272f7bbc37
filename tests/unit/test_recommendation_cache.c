/* test_recommendation_cache.c - the recommendation service's in-memory
 * cache of rendered lists (src/services/recommendation/cache.c): hits,
 * misses, replacement, expiry, and a zero lifetime that disables it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "services/recommendation/recommendation.h"

static void test_hit_miss_replace(void **state) {
  (void)state;
  struct reco_cache *c = reco_cache_create(16, 60000);
  assert_non_null(c);
  struct http_response res;
  http_response_init(&res);
  assert_false(reco_cache_reply(c, "p|a|similar|10", &res));
  reco_cache_put(c, "p|a|similar|10", "{\"items\":[]}", 12);
  assert_true(reco_cache_reply(c, "p|a|similar|10", &res));
  assert_int_equal(res.status, 200);
  assert_int_equal(res.body_len, 12);
  assert_memory_equal(res.body, "{\"items\":[]}", 12);
  http_response_clear(&res);
  http_response_init(&res);
  assert_false(reco_cache_reply(c, "p|b|similar|10", &res));
  reco_cache_put(c, "p|a|similar|10", "{\"items\":[1]}", 13);
  assert_true(reco_cache_reply(c, "p|a|similar|10", &res));
  assert_int_equal(res.body_len, 13);
  http_response_clear(&res);
  /* A key too long to keep is simply not cached. */
  char big[300];
  memset(big, 'k', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  reco_cache_put(c, big, "x", 1);
  http_response_init(&res);
  assert_false(reco_cache_reply(c, big, &res));
  http_response_clear(&res);
  reco_cache_destroy(c);
}

static void test_expiry_and_disabled(void **state) {
  (void)state;
  struct reco_cache *c = reco_cache_create(8, 20);
  struct http_response res;
  http_response_init(&res);
  reco_cache_put(c, "t|10", "{}", 2);
  assert_true(reco_cache_reply(c, "t|10", &res));
  http_response_clear(&res);
  struct timespec pause = {0, 60 * 1000000L};
  nanosleep(&pause, NULL);
  http_response_init(&res);
  assert_false(reco_cache_reply(c, "t|10", &res));
  http_response_clear(&res);
  reco_cache_destroy(c);

  struct reco_cache *off = reco_cache_create(8, 0);
  reco_cache_put(off, "t|10", "{}", 2);
  http_response_init(&res);
  assert_false(reco_cache_reply(off, "t|10", &res));
  http_response_clear(&res);
  reco_cache_destroy(off);
  reco_cache_destroy(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hit_miss_replace),
      cmocka_unit_test(test_expiry_and_disabled),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
