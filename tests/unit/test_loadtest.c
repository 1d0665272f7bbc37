/* test_loadtest.c - unit tests for the load test's verdict: stages,
 * percentiles and thresholds (src/cli/loadtest_stats.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "cli/loadtest.h"

#define assert_i64(a, b) assert_true((int64_t)(a) == (int64_t)(b))

static void test_durations(void **state) {
  (void)state;
  int64_t ms = -1;
  assert_true(lt_parse_duration("30s", &ms));
  assert_i64(ms, 30000);
  assert_true(lt_parse_duration("1m", &ms));
  assert_i64(ms, 60000);
  assert_true(lt_parse_duration("250ms", &ms));
  assert_i64(ms, 250);
  assert_true(lt_parse_duration("2", &ms));
  assert_i64(ms, 2000);
  assert_true(lt_parse_duration("1.5s", &ms));
  assert_i64(ms, 1500);
  const char *bad[] = {"", "s", "-1s", "10h", "1e9m", "3 s", "x3s", "ms"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_false(lt_parse_duration(bad[i], &ms));
  assert_false(lt_parse_duration(NULL, &ms));
}

static void test_stages_parse(void **state) {
  (void)state;
  struct lt_stage st[LT_MAX_STAGES];
  char err[128];
  int n = lt_parse_stages("30s:100,1m:100,30s:200,1m:200,30s:0", st,
                          LT_MAX_STAGES, err, sizeof err);
  assert_int_equal(n, 5);
  assert_i64(st[1].duration_ms, 60000);
  assert_int_equal(st[3].target, 200);
  assert_int_equal(st[4].target, 0);
  assert_i64(lt_stages_total_ms(st, n), 210000);

  const char *bad[] = {"",       "30s",   "30s:",         ":10",      "30s:-1",
                       "30s:1x", "1h:10", "30s:10,,1s:2", "30s:20000"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    assert_int_equal(
        lt_parse_stages(bad[i], st, LT_MAX_STAGES, err, sizeof err), -1);
    assert_true(err[0] != '\0');
  }
  /* More stages than room. */
  assert_int_equal(lt_parse_stages("1s:1,1s:2,1s:3", st, 2, err, sizeof err),
                   -1);
}

static void test_target_ramp(void **state) {
  (void)state;
  struct lt_stage st[] = {{10000, 100}, {10000, 100}, {10000, 200}, {10000, 0}};
  int stage = -1;
  assert_int_equal(lt_target_vus(st, 4, 0, &stage), 0);
  assert_int_equal(stage, 0);
  assert_int_equal(lt_target_vus(st, 4, 5000, &stage), 50);
  assert_int_equal(lt_target_vus(st, 4, 15000, &stage), 100);
  assert_int_equal(stage, 1);
  assert_int_equal(lt_target_vus(st, 4, 25000, &stage), 150);
  assert_int_equal(stage, 2);
  assert_int_equal(lt_target_vus(st, 4, 35000, &stage), 100);
  assert_int_equal(stage, 3);
  assert_int_equal(lt_target_vus(st, 4, 40000, &stage), 0);
  assert_int_equal(stage, 4);
}

static void test_percentiles(void **state) {
  (void)state;
  /* Nearest rank over 1..100: p50 is 50, p95 is 95, p99 is 99. */
  struct lt_series s = {0};
  for (int i = 100; i >= 1; i--)
    assert_true(lt_series_add(&s, i, 200, false));
  struct lt_summary sum;
  lt_series_summarize(&s, &sum);
  assert_i64(sum.count, 100);
  assert_true(sum.p50 == 50 && sum.p95 == 95 && sum.p99 == 99);
  assert_true(sum.max == 100 && sum.mean == 50.5);
  assert_true(sum.error_rate == 0);
  lt_series_free(&s);

  /* One sample is every percentile; none is 0. */
  double one = 7;
  assert_true(lt_percentile(&one, 1, 50) == 7 &&
              lt_percentile(&one, 1, 99) == 7);
  assert_true(lt_percentile(NULL, 0, 99) == 0);
  /* p99 of ten: the tenth (ceil(9.9)); p50 of ten: the fifth. */
  double ten[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  assert_true(lt_percentile(ten, 10, 99) == 10);
  assert_true(lt_percentile(ten, 10, 50) == 5);
  assert_true(lt_percentile(ten, 10, 100) == 10);
}

static void test_errors_counted(void **state) {
  (void)state;
  struct lt_series s = {0};
  for (int i = 0; i < 997; i++)
    lt_series_add(&s, 1, 200, false);
  lt_series_add(&s, 1, 503, true);
  lt_series_add(&s, 1, 404, true);
  lt_series_add(&s, 30000, 0, true); /* a timeout: no status */
  struct lt_summary sum;
  lt_series_summarize(&s, &sum);
  assert_i64(sum.errors, 3);
  assert_i64(sum.status_5xx, 1);
  assert_true(sum.error_rate == 0.003);
  assert_true(sum.max == 30000);
  lt_series_free(&s);
}

static const char *const names[] = {"browse",      "product",  "search",
                                    "cart_create", "cart_add", "checkout"};

static struct lt_summary summary(double p95, double p99, int64_t count,
                                 int64_t errors) {
  return (struct lt_summary){.count = count,
                             .errors = errors,
                             .p95 = p95,
                             .p99 = p99,
                             .error_rate =
                                 count ? (double)errors / (double)count : 0};
}

static void test_default_thresholds(void **state) {
  (void)state;
  struct lt_threshold t[LT_MAX_THRESHOLDS];
  int n = lt_thresholds_build(t, 500, 1000, 0.001, false);
  assert_int_equal(n, 3);
  struct lt_summary steps[6];
  for (int i = 0; i < 6; i++)
    steps[i] = summary(5, 9, 100, 0);
  /* The seed's bars: p95 < 500, p99 < 1000, errors < 0.1 %. */
  struct lt_summary total = summary(499, 999, 10000, 9);
  assert_true(lt_evaluate(t, n, &total, names, steps, 6));
  total = summary(500, 999, 10000, 0); /* p95 must be below, not equal */
  assert_false(lt_evaluate(t, n, &total, names, steps, 6));
  assert_false(t[0].ok);
  assert_true(t[0].value == 500);
  total = summary(10, 20, 10000, 10); /* exactly 0.1 % fails */
  assert_false(lt_evaluate(t, n, &total, names, steps, 6));
  assert_false(t[2].ok);
  assert_true(t[1].ok);
  /* Per-route slowness does not matter without strict. */
  steps[5] = summary(900, 5000, 10, 0);
  total = summary(10, 20, 10000, 0);
  assert_true(lt_evaluate(t, n, &total, names, steps, 6));
}

static void test_strict_thresholds(void **state) {
  (void)state;
  struct lt_threshold t[LT_MAX_THRESHOLDS];
  int n = lt_thresholds_build(t, 500, 1000, 0.001, true);
  assert_int_equal(n, 9);
  struct lt_summary steps[6];
  for (int i = 0; i < 6; i++)
    steps[i] = summary(5, 9, 100, 0);
  struct lt_summary total = summary(40, 90, 10000, 0);
  assert_true(lt_evaluate(t, n, &total, names, steps, 6));
  /* DESIGN §8: one error fails the strict run. */
  total = summary(40, 90, 10000, 1);
  assert_false(lt_evaluate(t, n, &total, names, steps, 6));
  /* p95 50 ms fails; p99 100 ms fails. */
  total = summary(50, 90, 10000, 0);
  assert_false(lt_evaluate(t, n, &total, names, steps, 6));
  total = summary(40, 100, 10000, 0);
  assert_false(lt_evaluate(t, n, &total, names, steps, 6));
  /* The product detail's own bar: p99 < 10 ms. */
  total = summary(40, 90, 10000, 0);
  steps[1] = summary(5, 10, 100, 0);
  assert_false(lt_evaluate(t, n, &total, names, steps, 6));
  bool seen = false;
  for (int i = 0; i < n; i++)
    if (t[i].step && strcmp(t[i].step, "product") == 0) {
      assert_false(t[i].ok);
      assert_true(t[i].value == 10 && t[i].limit == 10);
      seen = true;
    }
  assert_true(seen);
  /* Checkout's bar is 250 ms; a route without requests passes. */
  steps[1] = summary(5, 9, 100, 0);
  steps[5] = summary(200, 249, 100, 0);
  assert_true(lt_evaluate(t, n, &total, names, steps, 6));
  steps[5] = summary(0, 0, 0, 0);
  assert_true(lt_evaluate(t, n, &total, names, steps, 6));
  /* Looser options never loosen the strict bars. */
  n = lt_thresholds_build(t, 5000, 9000, 0.5, true);
  total = summary(60, 90, 100, 0);
  assert_false(lt_evaluate(t, n, &total, names, steps, 6));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_durations),
      cmocka_unit_test(test_stages_parse),
      cmocka_unit_test(test_target_ramp),
      cmocka_unit_test(test_percentiles),
      cmocka_unit_test(test_errors_counted),
      cmocka_unit_test(test_default_thresholds),
      cmocka_unit_test(test_strict_thresholds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
