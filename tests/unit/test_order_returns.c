/* test_order_returns.c - unit tests for the return rules of the order
 * service (src/services/order/domain.c): the return window, the quantities
 * a customer may return, the refund proration (net less discount, and tax,
 * to the cent) and the return state machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kit/money.h"
#include "services/order/domain.h"

#define assert_i64(a, b) assert_true((int64_t)(a) == (int64_t)(b))
#define DAY INT64_C(86400)

static void test_window(void **state) {
  (void)state;
  const int64_t delivered = INT64_C(1764748800); /* 2025-12-03T08:00:00Z */
  assert_true(order_return_window_open(delivered, delivered, 30));
  assert_true(order_return_window_open(delivered, delivered + 30 * DAY, 30));
  assert_false(
      order_return_window_open(delivered, delivered + 30 * DAY + 1, 30));
  assert_false(order_return_window_open(delivered, delivered + 31 * DAY, 30));
  /* A clock behind the delivery is inside the window. */
  assert_true(order_return_window_open(delivered, delivered - 60, 30));
  /* A window of 0 days: the day of delivery only to the second. */
  assert_true(order_return_window_open(delivered, delivered, 0));
  assert_false(order_return_window_open(delivered, delivered + 1, 0));
  assert_false(order_return_window_open(delivered, delivered, -1));
  /* Far-off values neither overflow nor open the window. */
  assert_false(order_return_window_open(delivered, INT64_MAX, 30));
  assert_false(order_return_window_open(INT64_MIN, delivered, 30));
  assert_true(order_return_window_open(delivered, delivered + DAY, INT64_MAX));
}

static void test_quantities(void **state) {
  (void)state;
  assert_true(order_return_quantity_ok(3, 0, 1));
  assert_true(order_return_quantity_ok(3, 0, 3));
  assert_true(order_return_quantity_ok(3, 2, 1));
  assert_false(order_return_quantity_ok(3, 0, 4)); /* more than bought */
  assert_false(order_return_quantity_ok(3, 2, 2)); /* minus returned */
  assert_false(order_return_quantity_ok(3, 3, 1));
  assert_false(order_return_quantity_ok(3, 0, 0));
  assert_false(order_return_quantity_ok(3, 0, -1)); /* negative */
  assert_false(order_return_quantity_ok(3, -1, 1));
  assert_false(order_return_quantity_ok(3, 4, 1));
  assert_false(order_return_quantity_ok(0, 0, 1));
  assert_false(order_return_quantity_ok(3, 0, INT64_MIN));
}

static void test_prorate_sums_exactly(void **state) {
  (void)state;
  int64_t out = 0;
  /* 10.00 over 3 units: 3.33 + 3.34 + 3.33 (each step rounded on the
   * running total), never a lost or extra cent. */
  assert_true(order_prorate(1000, 3, 0, 1, &out));
  assert_i64(out, 333);
  assert_true(order_prorate(1000, 3, 1, 1, &out));
  assert_i64(out, 334);
  assert_true(order_prorate(1000, 3, 2, 1, &out));
  assert_i64(out, 333);
  assert_true(order_prorate(1000, 3, 0, 3, &out));
  assert_i64(out, 1000);
  /* Any split of any amount adds up to the amount. */
  for (int64_t amount = 0; amount < 400; amount += 7) {
    for (int64_t q = 1; q <= 7; q++) {
      int64_t sum = 0, done = 0;
      for (int64_t step = 1; done < q; step = step % 3 + 1) {
        int64_t units = done + step > q ? q - done : step;
        assert_true(order_prorate(amount, q, done, units, &out));
        assert_true(out >= 0);
        sum += out;
        done += units;
      }
      assert_i64(sum, amount);
    }
  }
}

static void test_prorate_refuses(void **state) {
  (void)state;
  int64_t out = 42;
  assert_false(order_prorate(-1, 3, 0, 1, &out));
  assert_false(order_prorate(100, 0, 0, 1, &out));
  assert_false(order_prorate(100, 3, 0, 0, &out));
  assert_false(order_prorate(100, 3, 0, -1, &out));
  assert_false(order_prorate(100, 3, -1, 1, &out));
  assert_false(order_prorate(100, 3, 2, 2, &out)); /* beyond the line */
  assert_false(order_prorate(100, 3, INT64_MAX, 1, &out));
  assert_false(order_prorate(INT64_MAX, 99, 0, 50, &out)); /* overflow */
  assert_i64(out, 42);
  assert_true(order_prorate(MONEY_MAX, 99, 0, 99, &out));
  assert_i64(out, MONEY_MAX);
}

static void test_line_refund_with_discount(void **state) {
  (void)state;
  int64_t out = 0;
  /* 3 x 19.99 = 59.97, no discount (absent = 0), tax 4.35 (7.25 %): one
   * unit gives back 19.99 + 1.45. */
  assert_true(order_line_refund(5997, 435, 0, 3, 0, 1, &out));
  assert_i64(out, 1999 + 145);
  /* The same line with 6.00 taken by a promotion: the customer gets back
   * what was paid, 53.97 / 3 per unit, never the list price. */
  assert_true(order_line_refund(5997, 391, 600, 3, 0, 1, &out));
  assert_i64(out, 1799 + 130);
  int64_t sum = out;
  assert_true(order_line_refund(5997, 391, 600, 3, 1, 2, &out));
  sum += out;
  assert_i64(sum, 5997 - 600 + 391); /* all units: all that was paid */
  /* A line wholly discounted refunds its tax only (here none). */
  assert_true(order_line_refund(1000, 0, 1000, 2, 0, 2, &out));
  assert_i64(out, 0);
  /* A discount beyond the line, negative values: refused. */
  assert_false(order_line_refund(1000, 0, 1001, 2, 0, 1, &out));
  assert_false(order_line_refund(1000, 0, -1, 2, 0, 1, &out));
  assert_false(order_line_refund(-1000, 0, 0, 2, 0, 1, &out));
  assert_false(order_line_refund(1000, -5, 0, 2, 0, 1, &out));
  assert_false(order_line_refund(1000, 0, 0, 2, 0, 3, &out));
}

static void test_return_states(void **state) {
  (void)state;
  enum return_status s;
  for (int i = 0; i < RETURN_STATUS_COUNT; i++) {
    assert_true(return_status_parse(return_status_name(i), &s));
    assert_int_equal(s, i);
  }
  assert_false(return_status_parse("lost", &s));
  assert_false(return_status_parse(NULL, &s));
  assert_null(return_status_name(RETURN_STATUS_COUNT));
  assert_true(return_transition_allowed(RETURN_REQUESTED, RETURN_APPROVED));
  assert_true(return_transition_allowed(RETURN_REQUESTED, RETURN_REJECTED));
  assert_true(return_transition_allowed(RETURN_APPROVED, RETURN_RECEIVED));
  assert_true(return_transition_allowed(RETURN_APPROVED, RETURN_REJECTED));
  assert_true(return_transition_allowed(RETURN_RECEIVED, RETURN_REFUNDED));
  assert_false(return_transition_allowed(RETURN_REQUESTED, RETURN_RECEIVED));
  assert_false(return_transition_allowed(RETURN_REQUESTED, RETURN_REFUNDED));
  assert_false(return_transition_allowed(RETURN_APPROVED, RETURN_REFUNDED));
  assert_false(return_transition_allowed(RETURN_RECEIVED, RETURN_REJECTED));
  assert_false(return_transition_allowed(RETURN_REFUNDED, RETURN_REFUNDED));
  assert_false(return_transition_allowed(RETURN_REJECTED, RETURN_APPROVED));
  assert_false(return_transition_allowed(RETURN_STATUS_COUNT, RETURN_APPROVED));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_window),
      cmocka_unit_test(test_quantities),
      cmocka_unit_test(test_prorate_sums_exactly),
      cmocka_unit_test(test_prorate_refuses),
      cmocka_unit_test(test_line_refund_with_discount),
      cmocka_unit_test(test_return_states),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
