/* test_cart_domain.c - unit tests for the cart's decisions
 * (src/services/cart/domain.c): quantities, repricing and flags, access,
 * ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "kit/uuid.h"
#include "services/cart/domain.h"

#define assert_i64(a, b) assert_true((int64_t)(a) == (int64_t)(b))

static void test_quantity_bounds(void **state) {
  (void)state;
  assert_int_equal(cart_check_quantity(1, 5), CART_QTY_OK);
  assert_int_equal(cart_check_quantity(5, 5), CART_QTY_OK);
  assert_int_equal(cart_check_quantity(6, 5), CART_QTY_NOT_ENOUGH_STOCK);
  assert_int_equal(cart_check_quantity(0, 5), CART_QTY_OUT_OF_RANGE);
  assert_int_equal(cart_check_quantity(-1, 5), CART_QTY_OUT_OF_RANGE);
  assert_int_equal(cart_check_quantity(99, 1000), CART_QTY_OK);
  assert_int_equal(cart_check_quantity(100, 1000), CART_QTY_OUT_OF_RANGE);
  assert_int_equal(cart_check_quantity(1, 0), CART_QTY_NOT_ENOUGH_STOCK);
}

static void test_quantity_cap(void **state) {
  (void)state;
  assert_i64(cart_quantity_cap(3), 3);
  assert_i64(cart_quantity_cap(99), 99);
  assert_i64(cart_quantity_cap(500), 99);
  assert_i64(cart_quantity_cap(0), 0);
  assert_i64(cart_quantity_cap(-4), 0);
}

static struct cart_line line(const char *id, int64_t price, int64_t qty) {
  struct cart_line l;
  memset(&l, 0, sizeof l);
  strcpy(l.product_id, id);
  strcpy(l.currency, "USD");
  l.sku = "SKU";
  l.name = "Name";
  l.snapshot_price = price;
  l.quantity = qty;
  return l;
}

static struct catalog_item item(bool found, bool active, int64_t price,
                                int64_t available) {
  struct catalog_item c;
  memset(&c, 0, sizeof c);
  c.found = found;
  c.active = active;
  c.price = price;
  c.available = available;
  strcpy(c.currency, "USD");
  c.sku = "SKU";
  c.name = "Name";
  return c;
}

static void test_reprice_flags_and_totals(void **state) {
  (void)state;
  struct cart_line lines[5] = {
      line("a", 1000, 2), /* unchanged */
      line("b", 500, 1),  /* price went up */
      line("c", 700, 3),  /* gone */
      line("d", 250, 4),  /* only 2 left */
      line("e", 100, 1),  /* archived */
  };
  struct catalog_item cat[5] = {
      item(true, true, 1000, 10), item(true, true, 650, 10),
      item(false, false, 0, 0),   item(true, true, 250, 2),
      item(true, false, 100, 10),
  };
  struct cart_view_line v[5];
  struct cart_totals t;
  assert_true(cart_reprice(lines, cat, 5, v, &t));
  assert_false(v[0].price_changed);
  assert_true(v[0].available);
  assert_i64(v[0].line_total, 2000);
  assert_true(v[1].price_changed);
  assert_i64(v[1].unit_price, 650);
  assert_i64(v[1].line_total, 650);
  assert_false(v[2].available);
  assert_i64(v[2].unit_price, 700); /* the snapshot is shown */
  assert_i64(v[2].line_total, 0);
  assert_true(v[3].insufficient_stock);
  assert_i64(v[3].available_quantity, 2);
  assert_false(v[4].available);
  /* 2000 + 650 + 1000 (d still counted at its quantity) */
  assert_i64(t.subtotal, 3650);
  assert_i64(t.item_count, 11);
  assert_int_equal(t.issue_count, 4);
}

static void test_reprice_currency_change(void **state) {
  (void)state;
  struct cart_line l = line("a", 1000, 1);
  struct catalog_item c = item(true, true, 900, 10);
  strcpy(c.currency, "EUR");
  struct cart_view_line v;
  struct cart_totals t;
  assert_true(cart_reprice(&l, &c, 1, &v, &t));
  assert_false(v.available);
  assert_false(v.price_changed);
  assert_i64(t.subtotal, 0);
}

/* Variant lines: a product with options sells only through a variant of
 * its own; a line without a price in the cart's currency cannot be bought. */
static void test_variant_lines(void **state) {
  (void)state;
  struct cart_line plain = line("a", 1000, 1);
  struct cart_line variant = line("b", 1000, 1);
  strcpy(variant.variant_id, "0190aaaa-0000-7000-8000-000000000001");
  struct catalog_item c = item(true, true, 1000, 5);
  assert_true(cart_line_matches(&plain, &c));
  assert_false(cart_line_matches(&variant, &c)); /* not a variant of it */
  c.variant_found = true;
  c.has_options = true;
  assert_true(cart_line_matches(&variant, &c));
  assert_false(cart_line_matches(&plain, &c)); /* options: variant needed */
  c.unpriced = true;
  assert_false(cart_line_matches(&variant, &c));

  struct cart_view_line v;
  struct cart_totals t;
  assert_true(cart_reprice(&variant, &c, 1, &v, &t));
  assert_false(v.available);
  assert_i64(t.subtotal, 0);
  c.unpriced = false;
  assert_true(cart_reprice(&variant, &c, 1, &v, &t));
  assert_true(v.available);
  assert_i64(t.subtotal, 1000);
}

static void test_reprice_overflow(void **state) {
  (void)state;
  struct cart_line l = line("a", INT64_C(900000000000000), 99);
  struct catalog_item c = item(true, true, INT64_C(900000000000000), 1000);
  struct cart_view_line v;
  struct cart_totals t;
  assert_false(cart_reprice(&l, &c, 1, &v, &t));
}

static void test_access(void **state) {
  (void)state;
  assert_true(cart_can_access("", false, NULL));
  assert_true(cart_can_access("", true, "u1"));
  assert_true(cart_can_access("u1", true, "u1"));
  assert_false(cart_can_access("u1", true, "u2"));
  assert_false(cart_can_access("u1", false, NULL));
}

static void test_ids_are_v4(void **state) {
  (void)state;
  char a[UUID_STR_LEN], b[UUID_STR_LEN];
  cart_new_id(a);
  cart_new_id(b);
  assert_true(uuid_valid(a));
  assert_string_not_equal(a, b);
  assert_int_equal(a[14], '4');
  assert_true(strchr("89ab", a[19]) != NULL);
  unsigned char zeros[16] = {0};
  char z[UUID_STR_LEN];
  cart_format_v4(zeros, z);
  assert_string_equal(z, "00000000-0000-4000-8000-000000000000");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_quantity_bounds),
      cmocka_unit_test(test_quantity_cap),
      cmocka_unit_test(test_reprice_flags_and_totals),
      cmocka_unit_test(test_reprice_currency_change),
      cmocka_unit_test(test_variant_lines),
      cmocka_unit_test(test_reprice_overflow),
      cmocka_unit_test(test_access),
      cmocka_unit_test(test_ids_are_v4),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
