/* test_ratelimit.c - unit tests for the token bucket and the in-process
 * fallback of the rate limiter (src/kit/ratelimit.c). The bucket takes the
 * time as an argument, so every test controls the clock; the limiter is
 * created without Redis, so it decides from its local buckets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>

#include "kit/ratelimit.h"

#define MINUTE 60000L

static struct ratelimit_bucket fresh(void) {
  return (struct ratelimit_bucket){0, -1};
}

static void test_new_bucket_is_full(void **state) {
  (void)state;
  struct ratelimit_bucket b = fresh();
  struct ratelimit_decision d;
  ratelimit_bucket_take(&b, 100, MINUTE, 1000, &d);
  assert_true(d.allowed);
  assert_int_equal(d.limit, 100);
  assert_int_equal(d.remaining, 99);
  /* One token used: full again after 0.6 s, reported as a whole second. */
  assert_int_equal(d.reset_s, 1);
  assert_int_equal(d.retry_after_s, 0);
  assert_false(d.local);
}

static void test_burst_then_refused_with_retry_after(void **state) {
  (void)state;
  struct ratelimit_bucket b = fresh();
  struct ratelimit_decision d;
  for (int i = 0; i < 5; i++) {
    ratelimit_bucket_take(&b, 5, MINUTE, 0, &d);
    assert_true(d.allowed);
    assert_int_equal(d.remaining, 4 - i);
  }
  ratelimit_bucket_take(&b, 5, MINUTE, 0, &d);
  assert_false(d.allowed);
  assert_int_equal(d.remaining, 0);
  /* 5 per minute: one token every 12 s. */
  assert_int_equal(d.retry_after_s, 12);
  assert_int_equal(d.reset_s, 60);
}

static void test_refills_at_the_rate(void **state) {
  (void)state;
  struct ratelimit_bucket b = fresh();
  struct ratelimit_decision d;
  for (int i = 0; i < 6; i++)
    ratelimit_bucket_take(&b, 6, MINUTE, 0, &d);
  ratelimit_bucket_take(&b, 6, MINUTE, 9999, &d);
  assert_false(d.allowed); /* 0.9999 tokens after 9.999 s */
  assert_int_equal(d.retry_after_s, 1);
  ratelimit_bucket_take(&b, 6, MINUTE, 10000 + 9999, &d);
  assert_true(d.allowed); /* one full token after 10 s */
  /* Never more than the limit, however long the pause. */
  ratelimit_bucket_take(&b, 6, MINUTE, 10L * MINUTE, &d);
  assert_true(d.allowed);
  assert_int_equal(d.remaining, 5);
}

static void test_clock_going_backwards_grants_nothing(void **state) {
  (void)state;
  struct ratelimit_bucket b = fresh();
  struct ratelimit_decision d;
  ratelimit_bucket_take(&b, 1, MINUTE, 50000, &d);
  assert_true(d.allowed);
  ratelimit_bucket_take(&b, 1, MINUTE, 1000, &d);
  assert_false(d.allowed);
}

static void test_local_limiter_without_redis(void **state) {
  (void)state;
  struct ratelimit *rl = ratelimit_create(NULL);
  assert_non_null(rl);
  assert_true(ratelimit_local_active(rl));
  struct ratelimit_decision d;
  for (int i = 0; i < 3; i++) {
    ratelimit_take(rl, "read:ip:10.0.0.1", 3, MINUTE, &d);
    assert_true(d.allowed);
    assert_true(d.local);
  }
  ratelimit_take(rl, "read:ip:10.0.0.1", 3, MINUTE, &d);
  assert_false(d.allowed);
  assert_true(d.retry_after_s >= 1);
  /* Another client, and the same client in another class, are unaffected. */
  ratelimit_take(rl, "read:ip:10.0.0.2", 3, MINUTE, &d);
  assert_true(d.allowed);
  ratelimit_take(rl, "write:ip:10.0.0.1", 3, MINUTE, &d);
  assert_true(d.allowed);
  ratelimit_destroy(rl);
}

static void test_local_table_survives_many_clients(void **state) {
  (void)state;
  struct ratelimit *rl = ratelimit_create(NULL);
  assert_non_null(rl);
  struct ratelimit_decision d;
  char key[64];
  /* More clients than slots: old ones are taken over, nothing breaks. */
  for (int i = 0; i < 10000; i++) {
    snprintf(key, sizeof key, "read:ip:10.1.%d.%d", i / 256, i % 256);
    ratelimit_take(rl, key, 2, MINUTE, &d);
    assert_true(d.allowed);
  }
  ratelimit_destroy(rl);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_new_bucket_is_full),
      cmocka_unit_test(test_burst_then_refused_with_retry_after),
      cmocka_unit_test(test_refills_at_the_rate),
      cmocka_unit_test(test_clock_going_backwards_grants_nothing),
      cmocka_unit_test(test_local_limiter_without_redis),
      cmocka_unit_test(test_local_table_survives_many_clients),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
