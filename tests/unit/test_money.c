/* test_money.c - unit tests for minor-unit money (src/kit/money.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "kit/err.h"
#include "kit/money.h"

/* cmocka compares through an unsigned type; compare int64 exactly. */
#define assert_i64(a, b) assert_true((int64_t)(a) == (int64_t)(b))

static void test_currency_table(void **state) {
  (void)state;
  static const struct {
    const char *code;
    int exponent;
  } expected[] = {
      {"USD", 2}, {"EUR", 2}, {"GBP", 2}, {"JPY", 0}, {"KWD", 3}, {"BHD", 3},
      {"CHF", 2}, {"CAD", 2}, {"AUD", 2}, {"SEK", 2}, {"NOK", 2}, {"DKK", 2},
      {"PLN", 2}, {"CZK", 2}, {"HUF", 2}, {"INR", 2}, {"CNY", 2}, {"BRL", 2},
      {"MXN", 2}, {"ZAR", 2}, {"KRW", 0}, {"SGD", 2}, {"HKD", 2}, {"NZD", 2},
      {"TRY", 2}, {"ILS", 2}, {"AED", 2}, {"SAR", 2}, {"THB", 2}, {"IDR", 2},
      {"MYR", 2}, {"PHP", 2}, {"VND", 0}, {"CLP", 0}, {"COP", 2}, {"ISK", 0},
      {"UAH", 2}, {"RON", 2}, {"BGN", 2}, {"OMR", 3}, {"JOD", 3}, {"TND", 3},
  };
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
    assert_int_equal(money_currency_exponent(expected[i].code),
                     expected[i].exponent);
    assert_true(money_currency_valid(expected[i].code));
  }
  const char *bad[] = {"usd", "Usd", "US", "USDD", "", "ABC", "XXX", "U$D"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(money_currency_exponent(bad[i]), -1);
    assert_false(money_currency_valid(bad[i]));
  }
  assert_int_equal(money_currency_exponent(NULL), -1);
  assert_false(money_currency_valid(NULL));
}

static void test_parse_accepts(void **state) {
  (void)state;
  static const struct {
    const char *s, *cur;
    int64_t minor;
  } ok[] = {
      {"19.99", "USD", 1999},
      {"20", "USD", 2000},
      {"0.5", "USD", 50},
      {"0.05", "USD", 5},
      {"0", "USD", 0},
      {"0.00", "USD", 0},
      {"100.1", "EUR", 10010},
      {"1500", "JPY", 1500},
      {"0", "JPY", 0},
      {"1.234", "KWD", 1234},
      {"1.2", "KWD", 1200},
      {"0.001", "BHD", 1},
      {"10000000000000.00", "USD", MONEY_MAX},
      {"1000000000000000", "JPY", MONEY_MAX},
      {"1000000000000.000", "KWD", MONEY_MAX},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    int64_t v = -1;
    assert_int_equal(money_parse(ok[i].s, ok[i].cur, &v), KIT_OK);
    assert_i64(v, ok[i].minor);
    v = -1;
    assert_int_equal(money_parse_signed(ok[i].s, ok[i].cur, &v), KIT_OK);
    assert_i64(v, ok[i].minor);
  }
}

static void test_parse_refuses(void **state) {
  (void)state;
  static const struct {
    const char *s, *cur;
  } bad[] = {
      {"", "USD"},
      {"-1", "USD"},
      {"+1", "USD"},
      {"1e2", "USD"},
      {"1E2", "USD"},
      {" 1", "USD"},
      {"1 ", "USD"},
      {"1 .00", "USD"},
      {"1.", "USD"},
      {".5", "USD"},
      {".", "USD"},
      {"1.999", "USD"},
      {"1.5", "JPY"},
      {"1.", "JPY"},
      {"1.2345", "KWD"},
      {"00", "USD"},
      {"01", "USD"},
      {"00.5", "USD"},
      {"007", "JPY"},
      {"1,00", "USD"},
      {"1.2.3", "USD"},
      {"abc", "USD"},
      {"12a", "USD"},
      {"0x10", "USD"},
      {"1\t", "USD"},
      {"\u00a01", "USD"}, /* no-break space */
      {"10000000000000.01", "USD"},
      {"1000000000000001", "JPY"},
      {"1000000000000.001", "KWD"},
      {"99999999999999999999", "JPY"},
      {"9223372036854775808", "JPY"},
      {"92233720368547758.08", "USD"},
      {"1.00", "ABC"},
      {"1.00", "usd"},
      {"1.00", NULL},
      {"Infinity", "USD"},
      {"NaN", "USD"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int64_t v = 777;
    assert_int_equal(money_parse(bad[i].s, bad[i].cur, &v), KIT_INVALID);
    assert_i64(v, 777); /* untouched on refusal */
  }
  int64_t v = 0;
  assert_int_equal(money_parse(NULL, "USD", &v), KIT_INVALID);
  assert_int_equal(money_parse("1", "USD", NULL), KIT_INVALID);
}

static void test_parse_signed(void **state) {
  (void)state;
  int64_t v = 0;
  assert_int_equal(money_parse_signed("-19.99", "USD", &v), KIT_OK);
  assert_i64(v, -1999);
  assert_int_equal(money_parse_signed("-0.5", "USD", &v), KIT_OK);
  assert_i64(v, -50);
  assert_int_equal(money_parse_signed("-7", "JPY", &v), KIT_OK);
  assert_i64(v, -7);
  assert_int_equal(money_parse_signed("-0.001", "KWD", &v), KIT_OK);
  assert_i64(v, -1);
  assert_int_equal(money_parse_signed("-10000000000000.00", "USD", &v), KIT_OK);
  assert_i64(v, -MONEY_MAX);

  const char *bad[] = {"-",
                       "--1",
                       "+1",
                       "-+1",
                       "- 1",
                       "-.5",
                       "-1.",
                       "-01",
                       "1-",
                       "-1.999",
                       "-1e2",
                       "",
                       "-10000000000000.01"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    v = 777;
    assert_int_equal(money_parse_signed(bad[i], "USD", &v), KIT_INVALID);
    assert_i64(v, 777);
  }
  assert_int_equal(money_parse_signed("1", "XYZ", &v), KIT_INVALID);
  assert_int_equal(money_parse_signed(NULL, "USD", &v), KIT_INVALID);
}

static void test_format(void **state) {
  (void)state;
  static const struct {
    int64_t minor;
    const char *cur, *text;
  } cases[] = {
      {1999, "USD", "19.99"},
      {2000, "USD", "20.00"},
      {5, "USD", "0.05"},
      {50, "USD", "0.50"},
      {0, "USD", "0.00"},
      {-50, "USD", "-0.50"},
      {-1, "USD", "-0.01"},
      {-1999, "EUR", "-19.99"},
      {1500, "JPY", "1500"},
      {0, "JPY", "0"},
      {-7, "JPY", "-7"},
      {1234, "KWD", "1.234"},
      {1, "KWD", "0.001"},
      {-1, "BHD", "-0.001"},
      {-1000, "KWD", "-1.000"},
      {MONEY_MAX, "USD", "10000000000000.00"},
      {INT64_MAX, "USD", "92233720368547758.07"},
      {INT64_MIN, "USD", "-92233720368547758.08"},
      {INT64_MIN, "JPY", "-9223372036854775808"},
      {INT64_MIN, "KWD", "-9223372036854775.808"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char buf[MONEY_BUF];
    char *r = money_format(cases[i].minor, cases[i].cur, buf);
    assert_ptr_equal(r, buf);
    assert_string_equal(buf, cases[i].text);
  }
  /* An unknown code falls back to two decimals rather than failing. */
  char buf[MONEY_BUF];
  assert_string_equal(money_format(1999, "ABC", buf), "19.99");
}

static void test_format_parse_roundtrip(void **state) {
  (void)state;
  const char *curs[] = {"USD", "JPY", "KWD"};
  const int64_t values[] = {
      0, 1, 9, 10, 99, 100, 101, 12345, 999999, MONEY_MAX - 1, MONEY_MAX};
  for (size_t c = 0; c < 3; c++)
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
      char buf[MONEY_BUF];
      int64_t back = -1;
      money_format(values[i], curs[c], buf);
      assert_int_equal(money_parse(buf, curs[c], &back), KIT_OK);
      assert_i64(back, values[i]);
      money_format(-values[i], curs[c], buf);
      assert_int_equal(money_parse_signed(buf, curs[c], &back), KIT_OK);
      assert_i64(back, -values[i]);
    }
}

static void test_add_sub(void **state) {
  (void)state;
  int64_t r = 0;
  assert_true(money_add(1999, 1, &r));
  assert_i64(r, 2000);
  assert_true(money_add(MONEY_MAX - 1, 1, &r));
  assert_i64(r, MONEY_MAX);
  assert_true(money_add(-MONEY_MAX + 1, -1, &r));
  assert_i64(r, -MONEY_MAX);

  r = 42;
  assert_false(money_add(MONEY_MAX, 1, &r));
  assert_false(money_add(-MONEY_MAX, -1, &r));
  assert_false(money_add(INT64_MAX, 1, &r));
  assert_false(money_add(INT64_MIN, -1, &r));
  assert_false(money_add(INT64_MAX, INT64_MAX, &r));
  assert_i64(r, 42); /* unchanged */

  assert_true(money_sub(100, 250, &r));
  assert_i64(r, -150);
  assert_true(money_sub(0, MONEY_MAX, &r));
  assert_i64(r, -MONEY_MAX);
  r = 42;
  assert_false(money_sub(-MONEY_MAX, 1, &r));
  assert_false(money_sub(MONEY_MAX, -1, &r));
  assert_false(money_sub(INT64_MIN, 1, &r));
  assert_false(money_sub(0, INT64_MIN, &r));
  assert_i64(r, 42);
}

static void test_mul(void **state) {
  (void)state;
  int64_t r = 0;
  assert_true(money_mul(1999, 3, &r));
  assert_i64(r, 5997);
  assert_true(money_mul(MONEY_MAX / 2, 2, &r));
  assert_i64(r, MONEY_MAX);
  assert_true(money_mul(-5, 4, &r));
  assert_i64(r, -20);
  assert_true(money_mul(123, 0, &r));
  assert_i64(r, 0);
  r = 42;
  assert_false(money_mul(MONEY_MAX / 2 + 1, 2, &r));
  assert_false(money_mul(MONEY_MAX, -2, &r));
  assert_false(money_mul(INT64_MAX, 2, &r));
  assert_false(money_mul(INT64_MIN, -1, &r));
  assert_false(money_mul(INT64_MAX / 3, 4, &r));
  assert_i64(r, 42);
}

static void test_apply_bp_rounding(void **state) {
  (void)state;
  static const struct {
    int64_t amount, bp, want;
  } cases[] = {
      {1000, 825, 83},   /* 82.5 -> 83 */
      {-1000, 825, -83}, /* -82.5 -> -83, away from zero */
      {1000, -825, -83},
      {-1000, -825, 83},
      {1999, 825, 165}, /* 164.9175 */
      {1, 4999, 0},     /* 0.4999 */
      {1, 5000, 1},     /* 0.5 */
      {-1, 4999, 0},
      {-1, 5000, -1},
      {3, 5000, 2}, /* 1.5 */
      {-3, 5000, -2},
      {14999, 1, 1}, /* 1.4999 */
      {15000, 1, 2}, /* 1.5 */
      {-15000, 1, -2},
      {0, 825, 0},
      {12345, 0, 0},
      {12345, 10000, 12345},
      {12345, 20000, 24690},
      {MONEY_MAX, 10000, MONEY_MAX},
      {-MONEY_MAX, 10000, -MONEY_MAX},
      /* amount × bp would overflow int64 here; the result does not. */
      {INT64_MAX, 1, 922337203685478},  /* 922337203685477.5807 */
      {INT64_MIN, 1, -922337203685478}, /* -922337203685477.5808 */
      {1, INT64_MAX, 922337203685478},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int64_t r = 777;
    assert_true(money_apply_bp(cases[i].amount, cases[i].bp, &r));
    assert_i64(r, cases[i].want);
  }
}

static void test_apply_bp_overflow(void **state) {
  (void)state;
  int64_t r = 777;
  assert_false(money_apply_bp(MONEY_MAX, 10001, &r));
  assert_false(money_apply_bp(-MONEY_MAX, 10001, &r));
  assert_false(money_apply_bp(INT64_MAX, 2, &r));
  assert_false(money_apply_bp(INT64_MAX, INT64_MAX, &r));
  assert_false(money_apply_bp(INT64_MIN, INT64_MIN, &r));
  assert_false(money_apply_bp(INT64_MIN, -10000, &r));
  assert_i64(r, 777);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_currency_table),
      cmocka_unit_test(test_parse_accepts),
      cmocka_unit_test(test_parse_refuses),
      cmocka_unit_test(test_parse_signed),
      cmocka_unit_test(test_format),
      cmocka_unit_test(test_format_parse_roundtrip),
      cmocka_unit_test(test_add_sub),
      cmocka_unit_test(test_mul),
      cmocka_unit_test(test_apply_bp_rounding),
      cmocka_unit_test(test_apply_bp_overflow),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
