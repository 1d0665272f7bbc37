/* test_cart_pricing.c - unit tests for what promotions take off a cart
 * (src/services/cart/pricing.c): rounding, percentages of odd amounts,
 * fixed amounts, buy X get Y, targets, stacking, checks and parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "services/cart/pricing.h"

#define assert_i64(a, b) assert_true((int64_t)(a) == (int64_t)(b))

static struct promo promo(enum promo_type type, int64_t value) {
  struct promo p;
  memset(&p, 0, sizeof p);
  p.id = "p";
  p.type = type;
  p.value = value;
  p.min_subtotal = -1;
  p.usage_limit = -1;
  p.per_customer_limit = -1;
  p.window = PROMO_RUNNING;
  return p;
}

static struct price_line pl(const char *id, const char *cat, int64_t price,
                            int64_t qty) {
  struct price_line l = {id, cat, price, qty, 0};
  return l;
}

static int64_t sum_discounts(const struct price_line *l, size_t n) {
  int64_t s = 0;
  for (size_t i = 0; i < n; i++)
    s += l[i].discount;
  return s;
}

static void test_percentage_of_odd_amounts(void **state) {
  (void)state;
  /* 15 % of 33.33 = 4.9995 -> 5.00 (half-up on the eligible total). */
  struct price_line lines[] = {pl("a", NULL, 1111, 3)};
  struct promo p = promo(PROMO_PERCENTAGE, 1500);
  struct promo_result r;
  int64_t total;
  bool ship;
  assert_true(promo_price(lines, 1, "USD", &p, 1, &r, &total, &ship));
  assert_true(r.applied);
  assert_i64(total, 500);
  assert_i64(lines[0].discount, 500);
  assert_false(ship);

  /* 10 % of three lines of 0.05: 0.015 -> 0.02 in all, never 0.03 (which
   * per-line rounding would give); the lines add up to it. */
  struct price_line three[] = {pl("a", NULL, 5, 1), pl("b", NULL, 5, 1),
                               pl("c", NULL, 5, 1)};
  struct promo ten = promo(PROMO_PERCENTAGE, 1000);
  assert_true(promo_price(three, 3, "USD", &ten, 1, &r, &total, &ship));
  assert_i64(total, 2);
  assert_i64(sum_discounts(three, 3), 2);
  /* the first lines get the extra cents on a tie */
  assert_i64(three[0].discount, 1);
  assert_i64(three[1].discount, 1);
  assert_i64(three[2].discount, 0);

  /* 33.33 % of 10.00 -> 3.333 -> 3.33; 12.5 % of 0.99 -> 0.12375 -> 0.12 */
  struct price_line one[] = {pl("a", NULL, 1000, 1)};
  struct promo third = promo(PROMO_PERCENTAGE, 3333);
  assert_true(promo_price(one, 1, "USD", &third, 1, &r, &total, &ship));
  assert_i64(total, 333);
  struct price_line cheap[] = {pl("a", NULL, 99, 1)};
  struct promo eighth = promo(PROMO_PERCENTAGE, 1250);
  assert_true(promo_price(cheap, 1, "USD", &eighth, 1, &r, &total, &ship));
  assert_i64(total, 12);
  /* 100 % takes everything, never more. */
  struct promo all = promo(PROMO_PERCENTAGE, 10000);
  assert_true(promo_price(cheap, 1, "USD", &all, 1, &r, &total, &ship));
  assert_i64(total, 99);
}

static void test_allocate_largest_remainder(void **state) {
  (void)state;
  int64_t base[] = {100, 200, 300};
  int64_t out[3];
  assert_true(promo_allocate(100, base, 3, out));
  assert_i64(out[0] + out[1] + out[2], 100);
  assert_i64(out[0], 17); /* 16.67 */
  assert_i64(out[1], 33); /* 33.33 */
  assert_i64(out[2], 50);
  /* never more than a line's base, and exact at the top */
  assert_true(promo_allocate(600, base, 3, out));
  assert_i64(out[0], 100);
  assert_i64(out[2], 300);
  assert_false(promo_allocate(601, base, 3, out));
  assert_false(promo_allocate(-1, base, 3, out));
  int64_t zero[] = {0, 0};
  assert_true(promo_allocate(0, zero, 2, out));
  assert_false(promo_allocate(1, zero, 2, out));
  /* huge amounts do not overflow */
  int64_t big[] = {INT64_C(900000000000000), INT64_C(100000000000000)};
  assert_true(promo_allocate(INT64_C(999999999999999), big, 2, out));
  assert_i64(out[0] + out[1], INT64_C(999999999999999));
}

static void test_fixed_amount(void **state) {
  (void)state;
  struct price_line lines[] = {pl("a", NULL, 1000, 1), pl("b", NULL, 500, 1)};
  struct promo p = promo(PROMO_FIXED, 1000);
  struct promo_result r;
  int64_t total;
  bool ship;
  assert_true(promo_price(lines, 2, "USD", &p, 1, &r, &total, &ship));
  assert_i64(total, 1000);
  assert_i64(lines[0].discount, 667);
  assert_i64(lines[1].discount, 333);
  /* never more than the cart */
  struct price_line small[] = {pl("a", NULL, 300, 1)};
  assert_true(promo_price(small, 1, "USD", &p, 1, &r, &total, &ship));
  assert_i64(total, 300);
  /* a fixed amount names its currency: another cart's is refused */
  p.currency = "EUR";
  assert_true(promo_price(small, 1, "USD", &p, 1, &r, &total, &ship));
  assert_false(r.applied);
  assert_int_equal(r.check, PROMO_CHECK_WRONG_CURRENCY);
  assert_i64(total, 0);
}

static void test_targets_products_and_categories(void **state) {
  (void)state;
  const char *products[] = {"b"};
  const char *cats[] = {"shoes"};
  struct price_line lines[] = {pl("a", "hats", 1000, 1),
                               pl("b", "hats", 2000, 1),
                               pl("c", "shoes", 3000, 1)};
  struct promo p = promo(PROMO_PERCENTAGE, 5000);
  p.product_ids = products;
  p.product_count = 1;
  p.category_ids = cats;
  p.category_count = 1;
  struct promo_result r;
  int64_t total;
  bool ship;
  assert_true(promo_price(lines, 3, "USD", &p, 1, &r, &total, &ship));
  assert_i64(lines[0].discount, 0);
  assert_i64(lines[1].discount, 1000);
  assert_i64(lines[2].discount, 1500);
  assert_i64(total, 2500);
  struct price_line none[] = {pl("z", "hats", 1000, 1)};
  assert_int_equal(promo_check(&p, none, 1, "USD", 1000),
                   PROMO_CHECK_NOT_APPLICABLE);
}

static void test_buy_x_get_y(void **state) {
  (void)state;
  /* buy 2 get 1: 5 units -> one group of 3 -> the cheapest unit is free */
  struct price_line lines[] = {pl("a", NULL, 1000, 3), pl("b", NULL, 400, 2)};
  struct promo p = promo(PROMO_BUY_X_GET_Y, 0);
  p.buy_quantity = 2;
  p.get_quantity = 1;
  struct promo_result r;
  int64_t total;
  bool ship;
  assert_true(promo_price(lines, 2, "USD", &p, 1, &r, &total, &ship));
  assert_i64(total, 400);
  assert_i64(lines[1].discount, 400);
  assert_i64(lines[0].discount, 0);
  /* 6 units -> two groups -> the two cheapest units */
  lines[0].quantity = 4;
  assert_true(promo_price(lines, 2, "USD", &p, 1, &r, &total, &ship));
  assert_i64(total, 800);
  /* buy 1 get 1 on 3 units of one line: 1 free */
  struct price_line one[] = {pl("a", NULL, 999, 3)};
  p.buy_quantity = 1;
  assert_true(promo_price(one, 1, "USD", &p, 1, &r, &total, &ship));
  assert_i64(total, 999);
  /* too few units: applies, takes nothing */
  one[0].quantity = 1;
  assert_true(promo_price(one, 1, "USD", &p, 1, &r, &total, &ship));
  assert_true(r.applied);
  assert_i64(total, 0);
}

static void test_stacking_and_order(void **state) {
  (void)state;
  /* 10 % then 5.00 off: the fixed amount applies to what is left */
  struct price_line lines[] = {pl("a", NULL, 10000, 1)};
  struct promo ps[2] = {promo(PROMO_PERCENTAGE, 1000), promo(PROMO_FIXED, 500)};
  struct promo_result r[2];
  int64_t total;
  bool ship;
  assert_true(promo_price(lines, 1, "USD", ps, 2, r, &total, &ship));
  assert_i64(r[0].amount, 1000);
  assert_i64(r[1].amount, 500);
  assert_i64(total, 1500);
  assert_i64(lines[0].discount, 1500);
  /* two promotions never take more than the cart */
  ps[1].value = 100000;
  assert_true(promo_price(lines, 1, "USD", ps, 2, r, &total, &ship));
  assert_i64(total, 10000);
  assert_i64(r[1].amount, 9000);

  struct promo a = promo(PROMO_PERCENTAGE, 1000);
  struct promo b = promo(PROMO_FIXED, 100);
  const struct promo *on_cart[] = {&a};
  assert_true(promo_can_stack(on_cart, 0, &b));
  assert_false(promo_can_stack(on_cart, 1, &b));
  b.stackable = true;
  assert_false(promo_can_stack(on_cart, 1, &b)); /* a is not stackable */
  a.stackable = true;
  assert_true(promo_can_stack(on_cart, 1, &b));
}

static void test_free_shipping_and_checks(void **state) {
  (void)state;
  struct price_line lines[] = {pl("a", NULL, 2500, 2)};
  struct promo p = promo(PROMO_FREE_SHIPPING, 0);
  p.min_subtotal = 5000;
  p.currency = "USD";
  struct promo_result r;
  int64_t total;
  bool ship;
  assert_true(promo_price(lines, 1, "USD", &p, 1, &r, &total, &ship));
  assert_true(ship);
  assert_i64(total, 0);
  p.min_subtotal = 5001;
  assert_true(promo_price(lines, 1, "USD", &p, 1, &r, &total, &ship));
  assert_false(ship);
  assert_int_equal(r.check, PROMO_CHECK_MIN_NOT_MET);

  struct promo q = promo(PROMO_PERCENTAGE, 1000);
  q.window = PROMO_ENDED;
  assert_int_equal(promo_check(&q, lines, 1, "USD", 5000), PROMO_CHECK_EXPIRED);
  q.window = PROMO_NOT_STARTED;
  assert_int_equal(promo_check(&q, lines, 1, "USD", 5000),
                   PROMO_CHECK_NOT_STARTED);
  q.window = PROMO_RUNNING;
  q.usage_limit = 10;
  q.used = 10;
  assert_int_equal(promo_check(&q, lines, 1, "USD", 5000),
                   PROMO_CHECK_LIMIT_REACHED);
  q.used = 9;
  q.per_customer_limit = 1;
  q.customer_used = 1;
  assert_int_equal(promo_check(&q, lines, 1, "USD", 5000),
                   PROMO_CHECK_CUSTOMER_LIMIT_REACHED);
  q.customer_used = 0;
  assert_int_equal(promo_check(&q, lines, 1, "USD", 5000), PROMO_OK);
}

static void test_overflow_refused(void **state) {
  (void)state;
  struct price_line lines[] = {pl("a", NULL, INT64_C(1000000000000000), 99)};
  struct promo p = promo(PROMO_PERCENTAGE, 1000);
  struct promo_result r;
  int64_t total;
  bool ship;
  assert_false(promo_price(lines, 1, "USD", &p, 1, &r, &total, &ship));
  struct price_line neg[] = {pl("a", NULL, -1, 1)};
  assert_false(promo_price(neg, 1, "USD", &p, 1, &r, &total, &ship));
}

static void test_parsing(void **state) {
  (void)state;
  char code[PROMO_CODE_MAX + 1];
  assert_true(promo_code_normalize("save-10_x", code));
  assert_string_equal(code, "SAVE-10_X");
  assert_false(promo_code_normalize("AB", code));
  assert_false(promo_code_normalize("X'; DROP TABLE promotions;--", code));
  assert_false(promo_code_normalize("SAVE 10", code));
  assert_false(promo_code_normalize("ÄBCD", code));
  assert_false(promo_code_normalize(NULL, code));

  int64_t bp;
  assert_true(promo_parse_percent("15", &bp));
  assert_i64(bp, 1500);
  assert_true(promo_parse_percent("12.5", &bp));
  assert_i64(bp, 1250);
  assert_true(promo_parse_percent("100", &bp));
  assert_false(promo_parse_percent("100.01", &bp));
  assert_false(promo_parse_percent("0", &bp));
  assert_false(promo_parse_percent("-5", &bp));
  assert_false(promo_parse_percent("1.234", &bp));
  assert_false(promo_parse_percent("1e2", &bp));
  char buf[32];
  assert_string_equal(promo_format_percent(1250, buf), "12.5");
  assert_string_equal(promo_format_percent(3333, buf), "33.33");
  assert_string_equal(promo_format_percent(10000, buf), "100");
  assert_string_equal(promo_format_percent(5, buf), "0.05");

  enum promo_type t;
  assert_true(promo_type_parse("buy_x_get_y", &t));
  assert_int_equal(t, PROMO_BUY_X_GET_Y);
  assert_false(promo_type_parse("bogus", &t));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_percentage_of_odd_amounts),
      cmocka_unit_test(test_allocate_largest_remainder),
      cmocka_unit_test(test_fixed_amount),
      cmocka_unit_test(test_targets_products_and_categories),
      cmocka_unit_test(test_buy_x_get_y),
      cmocka_unit_test(test_stacking_and_order),
      cmocka_unit_test(test_free_shipping_and_checks),
      cmocka_unit_test(test_overflow_refused),
      cmocka_unit_test(test_parsing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
