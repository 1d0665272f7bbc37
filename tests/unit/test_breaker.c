/* test_breaker.c - unit tests for the circuit breaker, backoff and clocks
 * (src/kit/breaker.c). Time is passed in, so every test controls the clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "kit/breaker.h"

#define VOLUME 20
#define PERCENT 50
#define SLEEP_MS 30000

/* Each test gets its own breaker, so none depends on another's leftovers. */
static int setup(void **state) {
  struct breaker *b = malloc(sizeof(*b));
  if (b == NULL)
    return -1;
  breaker_init(b, VOLUME, PERCENT, SLEEP_MS);
  *state = b;
  return 0;
}

static int teardown(void **state) {
  breaker_destroy(*state);
  free(*state);
  return 0;
}

/* Makes n calls at t, the first `failures` of which fail. */
static void calls(struct breaker *b, int64_t t, int n, int failures) {
  for (int i = 0; i < n; i++) {
    assert_true(breaker_allow(b, t));
    breaker_record(b, i >= failures, t);
  }
}

/* Drives a fresh breaker to OPEN at time t. */
static void trip_at(struct breaker *b, int64_t t) {
  calls(b, t, VOLUME, VOLUME / 2);
  assert_int_equal(breaker_state(b, t), BREAKER_OPEN);
}

static void test_starts_closed(void **state) {
  struct breaker *b = *state;
  assert_int_equal(breaker_state(b, 0), BREAKER_CLOSED);
  assert_true(breaker_allow(b, 0));
  assert_string_equal(breaker_state_name(BREAKER_CLOSED), "closed");
  assert_string_equal(breaker_state_name(BREAKER_OPEN), "open");
  assert_string_equal(breaker_state_name(BREAKER_HALF_OPEN), "half_open");
}

static void test_opens_at_volume_with_half_failing(void **state) {
  struct breaker *b = *state;
  /* 19 calls, 10 failing: over 50 % but under the volume. */
  calls(b, 1000, VOLUME - 1, 10);
  assert_int_equal(breaker_state(b, 1000), BREAKER_CLOSED);
  /* The 20th call (a success) reaches the volume at exactly 50 %. */
  assert_true(breaker_allow(b, 1000));
  breaker_record(b, true, 1000);
  assert_int_equal(breaker_state(b, 1000), BREAKER_OPEN);
}

static void test_stays_closed_below_volume(void **state) {
  struct breaker *b = *state;
  /* Every call fails, but there are only 19 of them. */
  calls(b, 0, VOLUME - 1, VOLUME - 1);
  assert_int_equal(breaker_state(b, 0), BREAKER_CLOSED);
  assert_true(breaker_allow(b, 0));
}

static void test_stays_closed_below_percent(void **state) {
  struct breaker *b = *state;
  /* 51 successes, then 49 failures: the share never reaches 50 %. */
  for (int i = 0; i < 100; i++) {
    assert_true(breaker_allow(b, 500));
    breaker_record(b, i < 51, 500);
  }
  assert_int_equal(breaker_state(b, 500), BREAKER_CLOSED);
}

static void test_fails_fast_while_open(void **state) {
  struct breaker *b = *state;
  trip_at(b, 10000);
  for (int64_t t = 10000; t < 10000 + SLEEP_MS; t += 997)
    assert_false(breaker_allow(b, t));
  assert_false(breaker_allow(b, 10000 + SLEEP_MS - 1));
  /* Late answers of calls made before it opened change nothing. */
  breaker_record(b, true, 10001);
  assert_int_equal(breaker_state(b, 10001), BREAKER_OPEN);
  assert_false(breaker_allow(b, 10002));
}

static void test_half_open_allows_exactly_one_trial(void **state) {
  struct breaker *b = *state;
  trip_at(b, 0);
  /* The state reports half-open once the sleep is over... */
  assert_int_equal(breaker_state(b, SLEEP_MS), BREAKER_HALF_OPEN);
  /* ...and exactly one caller gets through. */
  assert_true(breaker_allow(b, SLEEP_MS));
  for (int i = 0; i < 50; i++)
    assert_false(breaker_allow(b, SLEEP_MS + i));
  assert_int_equal(breaker_state(b, SLEEP_MS + 50), BREAKER_HALF_OPEN);
}

static void test_trial_success_closes(void **state) {
  struct breaker *b = *state;
  trip_at(b, 0);
  assert_true(breaker_allow(b, SLEEP_MS));
  breaker_record(b, true, SLEEP_MS + 5);
  assert_int_equal(breaker_state(b, SLEEP_MS + 5), BREAKER_CLOSED);
  for (int i = 0; i < 5; i++)
    assert_true(breaker_allow(b, SLEEP_MS + 6));
  /* Counts started afresh: a few failures do not reopen it. */
  calls(b, SLEEP_MS + 10, VOLUME - 1, VOLUME - 1);
  assert_int_equal(breaker_state(b, SLEEP_MS + 10), BREAKER_CLOSED);
}

static void test_trial_failure_reopens(void **state) {
  struct breaker *b = *state;
  trip_at(b, 0);
  assert_true(breaker_allow(b, SLEEP_MS));
  breaker_record(b, false, SLEEP_MS + 100);
  assert_int_equal(breaker_state(b, SLEEP_MS + 100), BREAKER_OPEN);
  /* The new sleep counts from the failed trial. */
  assert_false(breaker_allow(b, SLEEP_MS + 100 + SLEEP_MS - 1));
  assert_true(breaker_allow(b, SLEEP_MS + 100 + SLEEP_MS));
}

static void test_lost_trial_is_replaced(void **state) {
  struct breaker *b = *state;
  trip_at(b, 0);
  assert_true(breaker_allow(b, SLEEP_MS)); /* its outcome never arrives */
  assert_false(breaker_allow(b, 2 * SLEEP_MS - 1));
  assert_true(breaker_allow(b, 2 * SLEEP_MS));
  assert_false(breaker_allow(b, 2 * SLEEP_MS));
}

static void test_window_rollover_resets_counts(void **state) {
  struct breaker *b = *state;
  /* 19 failures in one window... */
  calls(b, 0, VOLUME - 1, VOLUME - 1);
  /* ...then the window passes: the next failures start from zero. */
  int64_t later = b->window_ms;
  calls(b, later, VOLUME - 1, VOLUME - 1);
  assert_int_equal(breaker_state(b, later), BREAKER_CLOSED);
  /* One more failure in the same (new) window reaches the volume. */
  assert_true(breaker_allow(b, later + 1));
  breaker_record(b, false, later + 1);
  assert_int_equal(breaker_state(b, later + 1), BREAKER_OPEN);
}

static void test_window_spans_less_than_its_length(void **state) {
  struct breaker *b = *state;
  /* Calls spread inside one window all count. */
  for (int i = 0; i < VOLUME; i++) {
    int64_t t = (int64_t)i * (b->window_ms / VOLUME);
    assert_true(breaker_allow(b, t));
    breaker_record(b, false, t);
  }
  assert_int_equal(breaker_state(b, b->window_ms - 1), BREAKER_OPEN);
}

/* --- concurrency --- */

struct race {
  struct breaker *b;
  int allowed;
};

static void *try_trial(void *arg) {
  struct race *r = arg;
  for (int i = 0; i < 1000; i++)
    if (breaker_allow(r->b, SLEEP_MS))
      r->allowed++;
  return NULL;
}

static void test_one_trial_across_threads(void **state) {
  struct breaker *b = *state;
  trip_at(b, 0);
  enum { N = 4 };
  pthread_t t[N];
  struct race r[N];
  for (int i = 0; i < N; i++) {
    r[i].b = b;
    r[i].allowed = 0;
    assert_int_equal(pthread_create(&t[i], NULL, try_trial, &r[i]), 0);
  }
  int total = 0;
  for (int i = 0; i < N; i++) {
    pthread_join(t[i], NULL);
    total += r[i].allowed;
  }
  assert_int_equal(total, 1);
}

/* --- backoff --- */

static void test_backoff_ceiling(void **state) {
  (void)state;
  const double almost_one = 0.9999999999;
  /* Attempt k with r close to 1 reaches the ceiling base·2^(k-1). */
  assert_int_equal(backoff_delay_ms(1, 100, 10000, almost_one), 100);
  assert_int_equal(backoff_delay_ms(2, 100, 10000, almost_one), 200);
  assert_int_equal(backoff_delay_ms(3, 100, 10000, almost_one), 400);
  assert_int_equal(backoff_delay_ms(7, 100, 10000, almost_one), 6400);
  /* Capped at max_ms. */
  assert_int_equal(backoff_delay_ms(8, 100, 10000, almost_one), 10000);
  assert_int_equal(backoff_delay_ms(30, 100, 10000, almost_one), 10000);
  /* r = 0 always means no wait; r = 0.5 about half the ceiling. */
  assert_int_equal(backoff_delay_ms(5, 100, 10000, 0.0), 0);
  assert_int_equal(backoff_delay_ms(3, 100, 10000, 0.5), 200);
}

static void test_backoff_attempt_overflow(void **state) {
  (void)state;
  const int attempts[] = {62, 63, 64, 65, 100, 1000, INT32_MAX};
  for (size_t i = 0; i < sizeof attempts / sizeof attempts[0]; i++) {
    int64_t d = backoff_delay_ms(attempts[i], 100, 10000, 0.9999999999);
    assert_int_equal(d, 10000);
    d = backoff_delay_ms(attempts[i], 100, 10000, 0.25);
    assert_in_range(d, 0, 10000);
  }
  /* Huge max and base must not overflow either. */
  int64_t d = backoff_delay_ms(100, INT64_MAX / 2, INT64_MAX, 0.9999999999);
  assert_true(d > INT64_MAX / 2);
}

static void test_backoff_odd_inputs(void **state) {
  (void)state;
  /* Attempts below 1 behave as the first. */
  assert_int_equal(backoff_delay_ms(0, 100, 10000, 0.9999999999), 100);
  assert_int_equal(backoff_delay_ms(-5, 100, 10000, 0.9999999999), 100);
  /* random01 outside [0,1) is clamped, never trusted. */
  assert_int_equal(backoff_delay_ms(3, 100, 10000, 1.0), 400);
  assert_int_equal(backoff_delay_ms(3, 100, 10000, 7.5), 400);
  assert_int_equal(backoff_delay_ms(3, 100, 10000, -0.5), 0);
  assert_int_equal(backoff_delay_ms(3, 100, 10000, NAN), 0);
  /* Zero or negative limits mean no waiting. */
  assert_int_equal(backoff_delay_ms(3, 0, 10000, 0.9), 0);
  assert_int_equal(backoff_delay_ms(3, 100, 0, 0.9), 0);
  assert_int_equal(backoff_delay_ms(3, -100, -1, 0.9), 0);
}

static void test_backoff_random_bounds(void **state) {
  (void)state;
  /* Many real draws: every delay within [0, min(max, base·2^(k-1))]. */
  for (int attempt = 1; attempt <= 100; attempt++) {
    int64_t ceiling = attempt >= 20 ? 5000 : 50 * ((int64_t)1 << (attempt - 1));
    if (ceiling > 5000)
      ceiling = 5000;
    for (int i = 0; i < 200; i++) {
      double r = backoff_random01();
      assert_true(r >= 0.0 && r < 1.0);
      int64_t d = backoff_delay_ms(attempt, 50, 5000, r);
      assert_in_range(d, 0, ceiling);
    }
  }
}

static void test_backoff_random01_spread(void **state) {
  (void)state;
  /* Not a statistics test, just a sign it is not constant or stuck. */
  int low = 0, high = 0;
  for (int i = 0; i < 1000; i++) {
    double r = backoff_random01();
    if (r < 0.5)
      low++;
    else
      high++;
  }
  assert_true(low > 300 && high > 300);
}

static void test_clocks(void **state) {
  (void)state;
  int64_t m1 = clock_monotonic_ms();
  int64_t m2 = clock_monotonic_ms();
  assert_true(m2 >= m1);
  /* Wall clock: after 2020-01-01 and before 2100-01-01. */
  int64_t w = clock_wall_ms();
  assert_true(w > INT64_C(1577836800000));
  assert_true(w < INT64_C(4102444800000));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_starts_closed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_opens_at_volume_with_half_failing,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_stays_closed_below_volume, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_stays_closed_below_percent, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_fails_fast_while_open, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_half_open_allows_exactly_one_trial,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_trial_success_closes, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_trial_failure_reopens, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_lost_trial_is_replaced, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_window_rollover_resets_counts, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_window_spans_less_than_its_length,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_one_trial_across_threads, setup,
                                      teardown),
      cmocka_unit_test(test_backoff_ceiling),
      cmocka_unit_test(test_backoff_attempt_overflow),
      cmocka_unit_test(test_backoff_odd_inputs),
      cmocka_unit_test(test_backoff_random_bounds),
      cmocka_unit_test(test_backoff_random01_spread),
      cmocka_unit_test(test_clocks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
