/* test_shipping_domain.c - the shipping service's pure decisions
 * (src/services/shipping/domain.c): addresses, zones, weight tiers, free
 * shipping, status moves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "services/shipping/domain.h"

#define assert_i64(a, b) assert_true((int64_t)(a) == (int64_t)(b))

static void test_country_codes(void **state) {
  (void)state;
  const char *good[] = {"US", "DE", "GB", "AD", "ZW", "AQ", "JP"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    assert_true(ship_country_valid(good[i]));
  /* XK (Kosovo) is user-assigned, not in ISO 3166-1: refused. */
  assert_false(ship_country_valid("XK"));
  const char *bad[] = {"us", "USA", "U", "", "ZZ", "UK", "EU", "1A", "U S"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_false(ship_country_valid(bad[i]));
  assert_false(ship_country_valid(NULL));
}

static void test_address_problem(void **state) {
  (void)state;
  struct ship_address a = {.line1 = "1 Main St",
                           .city = "Springfield",
                           .postal_code = "12345",
                           .country = "US"};
  assert_null(ship_address_problem(&a));
  struct ship_address b = a;
  b.country = "XX";
  assert_string_equal(ship_address_problem(&b), "country");
  b = a;
  b.line1 = "   ";
  assert_string_equal(ship_address_problem(&b), "line1");
  b = a;
  b.city = NULL;
  assert_string_equal(ship_address_problem(&b), "city");
  b = a;
  b.postal_code = "";
  assert_string_equal(ship_address_problem(&b), "postal_code");
  b = a;
  b.country = NULL;
  b.line1 = NULL;
  assert_string_equal(ship_address_problem(&b), "country");
}

static const struct zone_match_row zone_rows[] = {
    {"US", "", "domestic"},
    {"US", "AK", "remote"},
    {"*", "", "world"},
    {"DE", "", "europe"},
};
#define NZ (sizeof zone_rows / sizeof zone_rows[0])

static void test_zone_pick(void **state) {
  (void)state;
  assert_string_equal(
      zone_rows[ship_zone_pick(zone_rows, NZ, "US", "NY")].zone_code,
      "domestic");
  assert_string_equal(
      zone_rows[ship_zone_pick(zone_rows, NZ, "US", NULL)].zone_code,
      "domestic");
  assert_string_equal(
      zone_rows[ship_zone_pick(zone_rows, NZ, "US", "ak")].zone_code, "remote");
  assert_string_equal(
      zone_rows[ship_zone_pick(zone_rows, NZ, "DE", "BY")].zone_code, "europe");
  assert_string_equal(
      zone_rows[ship_zone_pick(zone_rows, NZ, "JP", NULL)].zone_code, "world");
  /* A region of another country does not match. */
  assert_string_equal(
      zone_rows[ship_zone_pick(zone_rows, NZ, "CA", "AK")].zone_code, "world");
  /* Without a rest-of-world row, an unknown country has no zone. */
  assert_int_equal(ship_zone_pick(zone_rows, 2, "JP", NULL), -1);
  assert_int_equal(ship_zone_pick(zone_rows, 0, "US", NULL), -1);
}

static const struct rate_row rates[] = {
    {SHIP_STANDARD, 5000, 999, 5},   {SHIP_STANDARD, 1000, 599, 5},
    {SHIP_EXPRESS, 1000, 1499, 2},   {SHIP_EXPRESS, 5000, 2499, 2},
    {SHIP_STANDARD, 20000, 1999, 6},
};
#define NR (sizeof rates / sizeof rates[0])

static void test_quote_tiers(void **state) {
  (void)state;
  struct zone_terms terms = {"USD", false, 0};
  struct quote_line out[SHIP_METHOD_COUNT];
  size_t n = ship_quote(rates, NR, &terms, 800, false, 0, NULL, out);
  assert_int_equal(n, 2);
  assert_int_equal(out[0].method, SHIP_STANDARD);
  assert_i64(out[0].amount_minor, 599);
  assert_int_equal(out[0].estimated_days, 5);
  assert_int_equal(out[1].method, SHIP_EXPRESS);
  assert_i64(out[1].amount_minor, 1499);
  /* The boundary belongs to the lighter tier. */
  n = ship_quote(rates, NR, &terms, 1000, false, 0, NULL, out);
  assert_i64(out[0].amount_minor, 599);
  n = ship_quote(rates, NR, &terms, 1001, false, 0, NULL, out);
  assert_i64(out[0].amount_minor, 999);
  assert_i64(out[1].amount_minor, 2499);
  /* Beyond express's heaviest tier only standard is offered. */
  n = ship_quote(rates, NR, &terms, 6000, false, 0, NULL, out);
  assert_int_equal(n, 1);
  assert_int_equal(out[0].method, SHIP_STANDARD);
  assert_i64(out[0].amount_minor, 1999);
  /* Heavier than everything: nothing. */
  assert_int_equal(ship_quote(rates, NR, &terms, 20001, false, 0, NULL, out),
                   0);
  assert_int_equal(ship_quote(rates, 0, &terms, 1, false, 0, NULL, out), 0);
}

static void test_quote_free_threshold(void **state) {
  (void)state;
  struct zone_terms terms = {"USD", true, 5000};
  struct quote_line out[SHIP_METHOD_COUNT];
  size_t n = ship_quote(rates, NR, &terms, 800, true, 4999, "USD", out);
  assert_int_equal(n, 2);
  assert_i64(out[0].amount_minor, 599);
  assert_false(out[0].free);
  n = ship_quote(rates, NR, &terms, 800, true, 5000, "USD", out);
  assert_i64(out[0].amount_minor, 0);
  assert_true(out[0].free);
  /* Express is never free. */
  assert_i64(out[1].amount_minor, 1499);
  assert_false(out[1].free);
  /* Another currency or an unknown subtotal never reaches the threshold. */
  n = ship_quote(rates, NR, &terms, 800, true, 900000, "EUR", out);
  assert_i64(out[0].amount_minor, 599);
  n = ship_quote(rates, NR, &terms, 800, false, 900000, NULL, out);
  assert_i64(out[0].amount_minor, 599);
}

static void test_methods_and_weights(void **state) {
  (void)state;
  assert_int_equal(ship_method_parse("standard"), SHIP_STANDARD);
  assert_int_equal(ship_method_parse("express"), SHIP_EXPRESS);
  assert_int_equal(ship_method_parse("overnight"), SHIP_METHOD_COUNT);
  assert_int_equal(ship_method_parse(NULL), SHIP_METHOD_COUNT);
  assert_string_equal(ship_method_name(SHIP_EXPRESS), "express");
  int64_t total = 0;
  assert_true(ship_add_weight(&total, 250, 4));
  assert_true(ship_add_weight(&total, 0, 10));
  assert_i64(total, 1000);
  assert_false(ship_add_weight(&total, -1, 1));
  assert_false(ship_add_weight(&total, 1, -1));
  assert_false(ship_add_weight(&total, INT64_C(2000000000), 1));
  total = INT64_MAX - 10;
  assert_false(ship_add_weight(&total, 1000, 1));
  assert_i64(total, INT64_MAX - 10);
}

static void test_status_moves(void **state) {
  (void)state;
  for (int i = 0; i < SHIP_STATUS_COUNT; i++)
    assert_int_equal(ship_status_parse(ship_status_name((enum ship_status)i)),
                     i);
  assert_int_equal(ship_status_parse("lost"), SHIP_STATUS_COUNT);
  assert_true(ship_status_advances(SHIP_PENDING, SHIP_LABEL_CREATED));
  assert_true(ship_status_advances(SHIP_LABEL_CREATED, SHIP_IN_TRANSIT));
  assert_true(ship_status_advances(SHIP_IN_TRANSIT, SHIP_OUT_FOR_DELIVERY));
  assert_true(ship_status_advances(SHIP_OUT_FOR_DELIVERY, SHIP_DELIVERED));
  /* Skipping ahead is fine (a missed update), going back is not. */
  assert_true(ship_status_advances(SHIP_LABEL_CREATED, SHIP_DELIVERED));
  assert_false(ship_status_advances(SHIP_OUT_FOR_DELIVERY, SHIP_IN_TRANSIT));
  assert_false(ship_status_advances(SHIP_IN_TRANSIT, SHIP_IN_TRANSIT));
  /* Exception from any open state; final states stay final. */
  assert_true(ship_status_advances(SHIP_IN_TRANSIT, SHIP_EXCEPTION));
  assert_false(ship_status_advances(SHIP_DELIVERED, SHIP_EXCEPTION));
  assert_false(ship_status_advances(SHIP_EXCEPTION, SHIP_DELIVERED));
  assert_false(ship_status_advances(SHIP_DELIVERED, SHIP_DELIVERED));
  assert_false(ship_status_advances(SHIP_STATUS_COUNT, SHIP_DELIVERED));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_country_codes),
      cmocka_unit_test(test_address_problem),
      cmocka_unit_test(test_zone_pick),
      cmocka_unit_test(test_quote_tiers),
      cmocka_unit_test(test_quote_free_threshold),
      cmocka_unit_test(test_methods_and_weights),
      cmocka_unit_test(test_status_moves),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
