/* test_product_variants.c - the product service's rules for options,
 * variants, price lists and the currency a read is in (domain.c,
 * variant_input.c). */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kit/err.h"
#include "services/product/domain.h"
#include "services/product/variant_input.h"

static const char *const sizes[] = {"S", "M", "L"};
static const char *const colors[] = {"red", "blue"};
static const struct product_option shirt[] = {
    {"size", sizes, 3},
    {"color", colors, 2},
};

static void test_options_check(void **state) {
  (void)state;
  size_t bad = 99;
  assert_int_equal(product_options_check(shirt, 2, &bad), OPTION_OK);
  assert_int_equal(product_options_check(NULL, 0, &bad), OPTION_OK);

  const struct product_option dup_name[] = {{"size", sizes, 3},
                                            {"size", colors, 2}};
  assert_int_equal(product_options_check(dup_name, 2, &bad),
                   OPTION_DUPLICATE_NAME);
  assert_int_equal(bad, 1);

  const char *const twice[] = {"S", "S"};
  const struct product_option dup_value[] = {{"size", twice, 2}};
  assert_int_equal(product_options_check(dup_value, 1, &bad),
                   OPTION_DUPLICATE_VALUE);

  const struct product_option none[] = {{"size", sizes, 0}};
  assert_int_equal(product_options_check(none, 1, &bad), OPTION_BAD_VALUES);

  const struct product_option empty_name[] = {{"", sizes, 3}};
  assert_int_equal(product_options_check(empty_name, 1, &bad), OPTION_BAD_NAME);

  const char *const ctl[] = {"a\nb"};
  const struct product_option control[] = {{"size", ctl, 1}};
  assert_int_equal(product_options_check(control, 1, &bad), OPTION_BAD_VALUES);

  const struct product_option four[] = {
      {"a", sizes, 1}, {"b", sizes, 1}, {"c", sizes, 1}, {"d", sizes, 1}};
  assert_int_equal(product_options_check(four, 4, &bad), OPTION_TOO_MANY);
}

static void test_variant_check(void **state) {
  (void)state;
  const char *bad = NULL;
  const struct variant_choice ok[] = {{"color", "red"}, {"size", "M"}};
  assert_int_equal(product_variant_check(shirt, 2, ok, 2, &bad), VARIANT_OK);
  assert_null(bad);

  const struct variant_choice unknown_value[] = {{"size", "XL"},
                                                 {"color", "red"}};
  assert_int_equal(product_variant_check(shirt, 2, unknown_value, 2, &bad),
                   VARIANT_UNKNOWN_VALUE);
  assert_string_equal(bad, "size");

  const struct variant_choice unknown_name[] = {
      {"size", "S"}, {"color", "red"}, {"fabric", "wool"}};
  assert_int_equal(product_variant_check(shirt, 2, unknown_name, 3, &bad),
                   VARIANT_UNKNOWN_OPTION);
  assert_string_equal(bad, "fabric");

  const struct variant_choice missing[] = {{"size", "S"}};
  assert_int_equal(product_variant_check(shirt, 2, missing, 1, &bad),
                   VARIANT_MISSING_OPTION);
  assert_string_equal(bad, "color");

  const struct variant_choice twice[] = {{"size", "S"}, {"size", "M"}};
  assert_int_equal(product_variant_check(shirt, 2, twice, 2, &bad),
                   VARIANT_DUPLICATE_OPTION);

  /* A product without options has no variants but its default one. */
  assert_int_equal(product_variant_check(NULL, 0, ok, 2, &bad),
                   VARIANT_NO_OPTIONS);
}

static void test_duplicate_combinations(void **state) {
  (void)state;
  const struct variant_choice a[] = {{"size", "S"}, {"color", "red"}};
  const struct variant_choice b[] = {{"color", "red"}, {"size", "S"}};
  const struct variant_choice c[] = {{"size", "M"}, {"color", "red"}};
  assert_true(product_variant_same(a, 2, b, 2)); /* order does not matter */
  assert_false(product_variant_same(a, 2, c, 2));
  assert_false(product_variant_same(a, 2, a, 1));

  const struct variant_choice *distinct[] = {a, c};
  const size_t counts[] = {2, 2, 2};
  assert_int_equal(product_variants_duplicate(distinct, counts, 2), -1);
  const struct variant_choice *repeated[] = {a, c, b};
  assert_int_equal(product_variants_duplicate(repeated, counts, 3), 2);
}

static void test_price_list(void **state) {
  (void)state;
  size_t bad = 0;
  enum price_check pc;
  struct price_entry ok[] = {{"EUR", "17.99", 0}, {"JPY", "2500", 0}};
  assert_int_equal(product_price_list_check(ok, 2, "USD", &bad, &pc),
                   PRICE_LIST_OK);
  assert_int_equal(ok[0].minor, 1799);
  assert_int_equal(ok[1].minor, 2500);

  struct price_entry dup[] = {{"EUR", "1", 0}, {"EUR", "2", 0}};
  assert_int_equal(product_price_list_check(dup, 2, "USD", &bad, &pc),
                   PRICE_LIST_DUPLICATE);
  assert_int_equal(bad, 1);

  struct price_entry own[] = {{"USD", "1", 0}};
  assert_int_equal(product_price_list_check(own, 1, "USD", &bad, &pc),
                   PRICE_LIST_OWN_CURRENCY);

  struct price_entry cur[] = {{"eur", "1", 0}};
  assert_int_equal(product_price_list_check(cur, 1, "USD", &bad, &pc),
                   PRICE_LIST_BAD_CURRENCY);

  struct price_entry overflow[] = {{"EUR", "99999999999999999999", 0}};
  assert_int_equal(product_price_list_check(overflow, 1, "USD", &bad, &pc),
                   PRICE_LIST_BAD_AMOUNT);
  assert_int_equal(pc, PRICE_TOO_LARGE);

  struct price_entry negative[] = {{"EUR", "-5", 0}};
  assert_int_equal(product_price_list_check(negative, 1, "USD", &bad, &pc),
                   PRICE_LIST_BAD_AMOUNT);
  assert_int_equal(pc, PRICE_NEGATIVE);

  struct price_entry precise[] = {{"JPY", "1.5", 0}};
  assert_int_equal(product_price_list_check(precise, 1, "USD", &bad, &pc),
                   PRICE_LIST_BAD_AMOUNT);
  assert_int_equal(pc, PRICE_TOO_PRECISE);
}

static void test_currency_choose(void **state) {
  (void)state;
  assert_string_equal(product_currency_choose("EUR", "GBP", "USD"), "EUR");
  assert_string_equal(product_currency_choose(NULL, "GBP", "USD"), "GBP");
  assert_string_equal(product_currency_choose(NULL, NULL, "USD"), "USD");
  assert_null(product_currency_choose("euro", "GBP", "USD"));
  assert_null(product_currency_choose(NULL, "x'; --", "USD"));
}

/* The JSON edge: options and a variant's choices as clients send them. */
static void test_input(void **state) {
  (void)state;
  struct arena a;
  arena_init(&a, 4096);
  struct json_error err;
  struct product_option *opts = NULL;
  size_t n = 0;
  const char *text = NULL;

  json_t *options = json_loads("[{\"name\":\"size\",\"values\":[\"S\",\"M\"]},"
                               "{\"name\":\"color\",\"values\":[\"red\"]}]",
                               0, NULL);
  assert_int_equal(variant_options_read(options, &a, &opts, &n, &text, &err),
                   KIT_OK);
  assert_int_equal(n, 2);
  assert_string_equal(opts[1].values[0], "red");
  json_decref(options);

  struct product_option *back = NULL;
  size_t nb = 0;
  assert_true(variant_options_parse(text, &a, &back, &nb));
  assert_int_equal(nb, 2);
  assert_string_equal(back[0].name, "size");

  json_t *bad = json_loads("[{\"name\":\"size\",\"values\":[1]}]", 0, NULL);
  assert_int_equal(variant_options_read(bad, &a, &opts, &n, &text, &err),
                   KIT_INVALID);
  assert_int_equal(err.code, API_VALIDATION_ERROR);
  assert_string_equal(err.field, "options");
  json_decref(bad);

  json_t *extra =
      json_loads("[{\"name\":\"size\",\"values\":[\"S\"],\"x\":1}]", 0, NULL);
  assert_int_equal(variant_options_read(extra, &a, &opts, &n, &text, &err),
                   KIT_INVALID);
  json_decref(extra);

  const char *choice_text = NULL;
  json_t *choice = json_loads("{\"size\":\"M\",\"color\":\"red\"}", 0, NULL);
  assert_int_equal(
      variant_choice_read(choice, back, nb, &a, &choice_text, &err), KIT_OK);
  assert_string_equal(choice_text, "{\"color\":\"red\",\"size\":\"M\"}");
  json_decref(choice);

  json_t *wrong = json_loads("{\"size\":\"XXL\",\"color\":\"red\"}", 0, NULL);
  assert_int_equal(variant_choice_read(wrong, back, nb, &a, &choice_text, &err),
                   KIT_INVALID);
  assert_int_equal(err.code, API_UNPROCESSABLE);
  assert_non_null(strstr(err.message, "size"));
  json_decref(wrong);

  struct price_entry *list = NULL;
  size_t nl = 0;
  json_t *prices =
      json_loads("[{\"currency\":\"EUR\",\"amount\":\"18.50\"}]", 0, NULL);
  assert_int_equal(
      variant_prices_read(prices, "USD", "prices", &a, &list, &nl, &err),
      KIT_OK);
  assert_int_equal(nl, 1);
  assert_int_equal(list[0].minor, 1850);
  json_decref(prices);

  struct variant_draft d;
  json_t *body =
      json_loads("{\"sku\":\"T-1\",\"options\":{},\"stock\":-1}", 0, NULL);
  assert_int_equal(variant_draft_read(body, false, &a, &d, &err), KIT_INVALID);
  assert_string_equal(err.field, "stock");
  json_decref(body);
  arena_free(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_options_check),
      cmocka_unit_test(test_variant_check),
      cmocka_unit_test(test_duplicate_combinations),
      cmocka_unit_test(test_price_list),
      cmocka_unit_test(test_currency_choose),
      cmocka_unit_test(test_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
