/* test_order_domain.c - unit tests for the order service's decisions
 * (src/services/order/domain.c): state machine, money, refunds, hashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "services/order/domain.h"

#define assert_i64(a, b) assert_true((int64_t)(a) == (int64_t)(b))

static void test_status_names(void **state) {
  (void)state;
  enum order_status s;
  for (int i = 0; i < ORDER_STATUS_COUNT; i++) {
    assert_true(order_status_parse(order_status_name(i), &s));
    assert_int_equal(s, i);
  }
  assert_false(order_status_parse("lost", &s));
  assert_false(order_status_parse(NULL, &s));
  assert_null(order_status_name(ORDER_STATUS_COUNT));
}

static void test_legal_transitions(void **state) {
  (void)state;
  assert_true(order_transition_allowed(ORDER_PENDING, ORDER_CONFIRMED));
  assert_true(order_transition_allowed(ORDER_PENDING, ORDER_CANCELLED));
  assert_true(order_transition_allowed(ORDER_CONFIRMED, ORDER_PROCESSING));
  assert_true(order_transition_allowed(ORDER_CONFIRMED, ORDER_SHIPPED));
  assert_true(order_transition_allowed(ORDER_CONFIRMED, ORDER_CANCELLED));
  assert_true(order_transition_allowed(ORDER_PROCESSING, ORDER_SHIPPED));
  assert_true(order_transition_allowed(ORDER_PROCESSING, ORDER_CANCELLED));
  assert_true(order_transition_allowed(ORDER_SHIPPED, ORDER_DELIVERED));
  assert_true(order_transition_allowed(ORDER_SHIPPED, ORDER_REFUNDED));
  assert_true(order_transition_allowed(ORDER_DELIVERED, ORDER_REFUNDED));
}

static void test_illegal_transitions(void **state) {
  (void)state;
  /* Every pair not listed as legal is refused, self-loops included. */
  int legal = 0;
  for (int f = 0; f < ORDER_STATUS_COUNT; f++)
    for (int t = 0; t < ORDER_STATUS_COUNT; t++)
      legal += order_transition_allowed(f, t);
  assert_int_equal(legal, 10);
  assert_false(order_transition_allowed(ORDER_PENDING, ORDER_SHIPPED));
  assert_false(order_transition_allowed(ORDER_CONFIRMED, ORDER_DELIVERED));
  assert_false(order_transition_allowed(ORDER_SHIPPED, ORDER_CANCELLED));
  assert_false(order_transition_allowed(ORDER_DELIVERED, ORDER_SHIPPED));
  assert_false(order_transition_allowed(ORDER_CANCELLED, ORDER_CONFIRMED));
  assert_false(order_transition_allowed(ORDER_REFUNDED, ORDER_DELIVERED));
  assert_false(order_transition_allowed(ORDER_CONFIRMED, ORDER_CONFIRMED));
  assert_false(order_transition_allowed(ORDER_STATUS_COUNT, ORDER_PENDING));
}

static void test_cancellable(void **state) {
  (void)state;
  assert_true(order_cancellable(ORDER_CONFIRMED));
  assert_true(order_cancellable(ORDER_PROCESSING));
  assert_false(order_cancellable(ORDER_PENDING));
  assert_false(order_cancellable(ORDER_SHIPPED));
  assert_false(order_cancellable(ORDER_CANCELLED));
}

static void test_tax_half_up_per_line(void **state) {
  (void)state;
  /* 8.25 %: 1.99 x 1 = 0.164175 -> 0.16; 0.10 x 3 = 0.02475 -> 0.02;
   * 10.00 x 2 = 1.65. Per line, not on the sum (0.3 + 0.1 + ...). */
  struct order_line_money l[3] = {{199, 1}, {10, 3}, {1000, 2}};
  struct order_totals t;
  assert_true(order_price(l, 3, 825, 599, &t));
  assert_i64(l[0].subtotal, 199);
  assert_i64(l[0].tax, 16);
  assert_i64(l[1].tax, 2);
  assert_i64(l[2].tax, 165);
  assert_i64(l[2].total, 2165);
  assert_i64(t.subtotal, 2229);
  assert_i64(t.tax, 183);
  assert_i64(t.shipping, 599);
  assert_i64(t.total, 2229 + 183 + 599);
}

static void test_tax_exact_half_rounds_up(void **state) {
  (void)state;
  /* 10 % of 0.05 = 0.005 -> 0.01 (half up); of 0.04 = 0.004 -> 0.00. */
  struct order_line_money a[1] = {{5, 1}};
  struct order_line_money b[1] = {{4, 1}};
  struct order_totals t;
  assert_true(order_price(a, 1, 1000, 0, &t));
  assert_i64(t.tax, 1);
  assert_true(order_price(b, 1, 1000, 0, &t));
  assert_i64(t.tax, 0);
  /* 0 bp: no tax. */
  assert_true(order_price(a, 1, 0, 0, &t));
  assert_i64(t.tax, 0);
  assert_i64(t.total, 5);
}

static void test_price_refuses_bad_values(void **state) {
  (void)state;
  struct order_line_money neg[1] = {{-1, 1}};
  struct order_line_money zero_qty[1] = {{100, 0}};
  struct order_line_money huge[1] = {{INT64_C(999999999999999), 99}};
  struct order_totals t;
  assert_false(order_price(neg, 1, 0, 0, &t));
  assert_false(order_price(zero_qty, 1, 0, 0, &t));
  assert_false(order_price(huge, 1, 0, 0, &t));
  struct order_line_money ok[1] = {{100, 1}};
  assert_false(order_price(ok, 1, 0, -5, &t));
}

static void test_refund_checks(void **state) {
  (void)state;
  int64_t amt = 0;
  assert_int_equal(order_refund_check(0, 0, false, 0, &amt),
                   REFUND_NOTHING_CAPTURED);
  assert_int_equal(order_refund_check(1000, 0, false, 0, &amt), REFUND_OK);
  assert_i64(amt, 1000);
  assert_int_equal(order_refund_check(1000, 300, true, 700, &amt), REFUND_OK);
  assert_i64(amt, 700);
  assert_int_equal(order_refund_check(1000, 300, true, 701, &amt),
                   REFUND_BEYOND_CAPTURED);
  assert_int_equal(order_refund_check(1000, 1000, false, 0, &amt),
                   REFUND_BEYOND_CAPTURED);
  assert_int_equal(order_refund_check(1000, 0, true, 0, &amt),
                   REFUND_INVALID_AMOUNT);
}

static void test_request_hash(void **state) {
  (void)state;
  char a[65], b[65], c[65];
  order_request_hash("{\"a\":1}", 7, a);
  order_request_hash("{\"a\":1}", 7, b);
  order_request_hash("{\"a\":2}", 7, c);
  assert_int_equal(strlen(a), 64);
  assert_string_equal(a, b);
  assert_string_not_equal(a, c);
  /* SHA-256 of the empty string. */
  order_request_hash("", 0, a);
  assert_string_equal(
      a, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_tax_rate_pick(void **state) {
  (void)state;
  assert_i64(order_pick_tax_rate(true, 725, true, 0), 725);
  assert_i64(order_pick_tax_rate(false, 0, true, 1900), 1900);
  assert_i64(order_pick_tax_rate(false, 0, false, 0), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_names),
      cmocka_unit_test(test_legal_transitions),
      cmocka_unit_test(test_illegal_transitions),
      cmocka_unit_test(test_cancellable),
      cmocka_unit_test(test_tax_half_up_per_line),
      cmocka_unit_test(test_tax_exact_half_rounds_up),
      cmocka_unit_test(test_price_refuses_bad_values),
      cmocka_unit_test(test_refund_checks),
      cmocka_unit_test(test_request_hash),
      cmocka_unit_test(test_tax_rate_pick),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
