/* test_product_domain.c - unit tests for the product service's pure rules
 * (src/services/product/domain.c) and its request reading (input.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "kit/err.h"
#include "services/product/domain.h"
#include "services/product/input.h"

#define assert_i64(a, b) assert_true((int64_t)(a) == (int64_t)(b))

static const char *const ID = "018f2b3c-4d5e-7f60-8a9b-0c1d2e3f4a5b";

static void test_sort_names(void **state) {
  (void)state;
  enum product_sort s;
  assert_true(product_sort_parse("newest", &s));
  assert_int_equal(s, SORT_NEWEST);
  assert_true(product_sort_parse("price_asc", &s));
  assert_int_equal(s, SORT_PRICE_ASC);
  assert_true(product_sort_parse("price_desc", &s));
  assert_true(product_sort_parse("name", &s));
  assert_int_equal(s, SORT_NAME);
  assert_false(product_sort_parse("price", &s));
  assert_false(product_sort_parse("", &s));
  assert_false(product_sort_parse(NULL, &s));
  assert_string_equal(product_sort_name(SORT_PRICE_DESC), "price_desc");
}

static void roundtrip(enum product_sort sort, const char *key) {
  struct list_cursor c = {.sort = sort}, back;
  snprintf(c.key, sizeof c.key, "%s", key);
  snprintf(c.id, sizeof c.id, "%s", ID);
  char text[CURSOR_TEXT_MAX + 1];
  assert_true(product_cursor_encode(&c, text, sizeof text));
  /* URL-safe without escaping. */
  for (const char *p = text; *p; p++)
    assert_true(strchr("+/=%&?# ", *p) == NULL);
  assert_true(product_cursor_decode(text, &back));
  assert_int_equal(back.sort, sort);
  assert_string_equal(back.key, key);
  assert_string_equal(back.id, ID);
}

static void test_cursor_roundtrip(void **state) {
  (void)state;
  roundtrip(SORT_NEWEST, "");
  roundtrip(SORT_PRICE_ASC, "1999");
  roundtrip(SORT_PRICE_DESC, "0");
  roundtrip(SORT_NAME, "Aurora Linen Shirt | size M");
  roundtrip(SORT_NAME, "Caf\xc3\xa9 cr\xc3\xa8me");
  roundtrip(SORT_NAME, "x"); /* lengths that hit every base64 tail */
  roundtrip(SORT_NAME, "xy");
  roundtrip(SORT_NAME, "xyz");
}

static void test_cursor_rejects(void **state) {
  (void)state;
  struct list_cursor c;
  assert_false(product_cursor_decode("", &c));
  assert_false(product_cursor_decode("not a cursor!", &c));
  assert_false(product_cursor_decode("AAAA", &c));
  /* Valid base64 of the wrong content. */
  assert_false(product_cursor_decode("MnwwfGFiY3w", &c)); /* "2|0|abc|" */

  struct list_cursor good = {.sort = SORT_PRICE_ASC};
  snprintf(good.key, sizeof good.key, "%s", "abc"); /* price key not a number */
  snprintf(good.id, sizeof good.id, "%s", ID);
  char text[CURSOR_TEXT_MAX + 1];
  assert_true(product_cursor_encode(&good, text, sizeof text));
  assert_false(product_cursor_decode(text, &c));

  snprintf(good.key, sizeof good.key, "%s", "100");
  assert_true(product_cursor_encode(&good, text, sizeof text));
  assert_true(product_cursor_decode(text, &c));
  /* Tampering with any character breaks it (or yields another valid
   * cursor, which the keyset simply resumes from). */
  text[3] = text[3] == 'A' ? 'B' : 'A';
  struct list_cursor other;
  if (product_cursor_decode(text, &other))
    assert_int_not_equal(memcmp(&other, &c, sizeof c), 0);
  /* A cursor of newest carries no key. */
  struct list_cursor newest = {.sort = SORT_NEWEST};
  snprintf(newest.key, sizeof newest.key, "%s", "5");
  snprintf(newest.id, sizeof newest.id, "%s", ID);
  assert_true(product_cursor_encode(&newest, text, sizeof text));
  assert_false(product_cursor_decode(text, &c));
  /* Too small an output buffer is refused, not overrun. */
  char tiny[8];
  assert_false(product_cursor_encode(&good, tiny, sizeof tiny));
}

static void test_sku_and_status(void **state) {
  (void)state;
  assert_true(product_sku_valid("SS-000123"));
  assert_true(product_sku_valid("a.b_c-9"));
  assert_false(product_sku_valid(""));
  assert_false(product_sku_valid("has space"));
  assert_false(product_sku_valid("slash/"));
  char long_sku[70];
  memset(long_sku, 'A', 65);
  long_sku[65] = '\0';
  assert_false(product_sku_valid(long_sku));
  long_sku[64] = '\0';
  assert_true(product_sku_valid(long_sku));
  assert_true(product_status_valid("draft"));
  assert_true(product_status_valid("active"));
  assert_true(product_status_valid("archived"));
  assert_false(product_status_valid("deleted"));
}

static void test_slugs(void **state) {
  (void)state;
  char out[65];
  assert_true(product_category_slugify("Coffee & Tea", out, sizeof out));
  assert_string_equal(out, "coffee-tea");
  assert_true(product_category_slugify("  T-Shirts  ", out, sizeof out));
  assert_string_equal(out, "t-shirts");
  assert_true(product_category_slugify("Men's Jackets 2", out, sizeof out));
  assert_string_equal(out, "men-s-jackets-2");
  assert_false(product_category_slugify("&&&", out, sizeof out));
  assert_true(product_category_slug_valid("home-kitchen"));
  assert_false(product_category_slug_valid("Home"));
  assert_false(product_category_slug_valid("-a"));
  assert_false(product_category_slug_valid("a--b"));
  assert_false(product_category_slug_valid("a-"));
  assert_false(product_category_slug_valid(""));
}

static void test_category_paths(void **state) {
  (void)state;
  char out[32];
  assert_true(product_category_within("a/b/c", "a/b"));
  assert_true(product_category_within("a/b", "a/b"));
  assert_false(product_category_within("a/bc", "a/b"));
  assert_false(product_category_within("a", "a/b"));
  assert_true(product_category_path("a/b", "c", out, sizeof out));
  assert_string_equal(out, "a/b/c");
  assert_true(product_category_path(NULL, "c", out, sizeof out));
  assert_string_equal(out, "c");
  assert_true(product_category_path("", "c", out, sizeof out));
  assert_string_equal(out, "c");
  assert_false(product_category_path("aaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbb", "c",
                                     out, sizeof out));
  assert_true(product_category_parent_path("a/b/c", out, sizeof out));
  assert_string_equal(out, "a/b");
  assert_true(product_category_parent_path("a", out, sizeof out));
  assert_string_equal(out, "");
  assert_false(product_category_parent_path("abcd/e", out, 4));
}

static void test_prices(void **state) {
  (void)state;
  int64_t m = 0;
  assert_int_equal(product_price_parse("19.99", "USD", &m), PRICE_OK);
  assert_i64(m, 1999);
  assert_int_equal(product_price_parse("20", "USD", &m), PRICE_OK);
  assert_i64(m, 2000);
  assert_int_equal(product_price_parse("0", "EUR", &m), PRICE_OK);
  assert_i64(m, 0);
  assert_int_equal(product_price_parse("1500", "JPY", &m), PRICE_OK);
  assert_i64(m, 1500);
  assert_int_equal(product_price_parse("1.5", "JPY", &m), PRICE_TOO_PRECISE);
  assert_int_equal(product_price_parse("1.999", "USD", &m), PRICE_TOO_PRECISE);
  assert_int_equal(product_price_parse("1.999", "KWD", &m), PRICE_OK);
  assert_i64(m, 1999);
  assert_int_equal(product_price_parse("-1.00", "USD", &m), PRICE_NEGATIVE);
  assert_int_equal(product_price_parse("1e3", "USD", &m), PRICE_MALFORMED);
  assert_int_equal(product_price_parse("1.", "USD", &m), PRICE_MALFORMED);
  assert_int_equal(product_price_parse("", "USD", &m), PRICE_MALFORMED);
  assert_int_equal(product_price_parse("01", "USD", &m), PRICE_MALFORMED);
  assert_int_equal(product_price_parse("99999999999999999999", "USD", &m),
                   PRICE_TOO_LARGE);
  assert_int_equal(product_price_parse("10000000000000.01", "USD", &m),
                   PRICE_TOO_LARGE);
  assert_int_equal(product_price_parse("1", "XXX", &m), PRICE_BAD_CURRENCY);
  assert_int_equal(product_price_parse("1", "usd", &m), PRICE_BAD_CURRENCY);
}

static void test_lines_normalize(void **state) {
  (void)state;
  struct reservation_line lines[] = {
      {.product_id = "bbbbbbbb-0000-7000-8000-000000000000", .quantity = 2},
      {.product_id = "aaaaaaaa-0000-7000-8000-000000000000", .quantity = 1},
      {.product_id = "bbbbbbbb-0000-7000-8000-000000000000", .quantity = 3},
  };
  bool overflow = true;
  size_t n = product_reservation_lines_normalize(lines, 3, &overflow);
  assert_false(overflow);
  assert_int_equal(n, 2);
  assert_string_equal(lines[0].product_id,
                      "aaaaaaaa-0000-7000-8000-000000000000");
  assert_i64(lines[0].quantity, 1);
  assert_i64(lines[1].quantity, 5);

  struct reservation_line big[] = {
      {.product_id = "cccccccc-0000-7000-8000-000000000000", .quantity = 6000},
      {.product_id = "cccccccc-0000-7000-8000-000000000000", .quantity = 6000},
  };
  product_reservation_lines_normalize(big, 2, &overflow);
  assert_true(overflow);
  assert_string_equal(product_reservation_status("reserved", true), "expired");
  assert_string_equal(product_reservation_status("reserved", false),
                      "reserved");
  assert_string_equal(product_reservation_status("committed", true),
                      "committed");
}

/* Reads body through input.c; returns the status and fills err. */
static int read_draft(const char *body, bool partial, struct arena *a,
                      struct product_draft *d, struct json_error *err) {
  json_t *obj = json_loads(body, 0, NULL);
  assert_non_null(obj);
  int rc = product_draft_read(obj, partial, false, a, d, err);
  json_decref(obj);
  return rc;
}

static const char *const CAT =
    "\"category_id\":\"018f2b3c-4d5e-7f60-8a9b-0c1d2e3f4a5b\"";

static void expect_invalid(const char *body, enum api_error code,
                           const char *field) {
  struct arena a;
  arena_init(&a, 1024);
  struct product_draft d;
  struct json_error err;
  assert_int_equal(read_draft(body, false, &a, &d, &err), KIT_INVALID);
  if (err.code != code || strcmp(err.field, field) != 0)
    fail_msg("%s: got %d %s (%s), want %d %s", body, err.code, err.field,
             err.message, code, field);
  arena_free(&a);
}

static void test_draft_valid(void **state) {
  (void)state;
  struct arena a;
  arena_init(&a, 1024);
  char body[1024];
  snprintf(body, sizeof body,
           "{\"sku\":\"TS-1\",\"name\":\"Tee\",%s,\"price\":\"19.99\","
           "\"attributes\":{\"brand\":\"Acme\",\"weight\":0.18,"
           "\"dimensions\":{\"length\":30,\"width\":20,\"height\":2.5},"
           "\"custom\":{\"fit\":\"slim\"}},"
           "\"images\":[\"/api/v1/x.svg\"]}",
           CAT);
  struct product_draft d;
  struct json_error err;
  assert_int_equal(read_draft(body, false, &a, &d, &err), KIT_OK);
  assert_string_equal(d.currency, "USD");
  assert_string_equal(d.status, "active");
  assert_true(d.has_price_minor);
  assert_i64(d.price_minor, 1999);
  assert_i64(d.stock, 0);
  assert_i64(d.weight_grams, 180);
  /* Stored in the seed's shape, sorted keys, 15 significant digits. */
  assert_string_equal(d.attributes_json,
                      "{\"brand\":\"Acme\",\"custom\":{\"fit\":\"slim\"},"
                      "\"dimensions\":{\"height\":2.5,\"length\":30,"
                      "\"width\":20},\"weight\":0.18}");
  assert_string_equal(d.images_json, "[\"/api/v1/x.svg\"]");

  /* The previous release's form is read and converted (deprecated). */
  snprintf(body, sizeof body,
           "{\"sku\":\"TS-2\",\"name\":\"Tee\",%s,\"price\":\"1\","
           "\"attributes\":{\"weight_grams\":2500,\"dimensions\":"
           "{\"length\":300,\"width\":10,\"height\":5,\"unit\":\"mm\"}}}",
           CAT);
  assert_int_equal(read_draft(body, false, &a, &d, &err), KIT_OK);
  assert_i64(d.weight_grams, 2500);
  assert_string_equal(d.attributes_json,
                      "{\"dimensions\":{\"height\":0.5,\"length\":30.0,"
                      "\"width\":1.0},\"weight\":2.5}");

  /* A partial draft leaves absent fields alone. */
  struct product_draft p;
  assert_int_equal(read_draft("{\"price\":\"5\"}", true, &a, &p, &err), KIT_OK);
  assert_null(p.sku);
  assert_false(p.has_price_minor); /* no currency yet: resolved later */
  assert_int_equal(product_draft_price(&p, "JPY", &err), KIT_OK);
  assert_i64(p.price_minor, 5);
  arena_free(&a);
}

static void test_draft_invalid(void **state) {
  (void)state;
  char body[1024];
#define CASE(extra, code, field)                                               \
  do {                                                                         \
    snprintf(body, sizeof body,                                                \
             "{\"sku\":\"TS-1\",\"name\":\"Tee\",%s,\"price\":\"1.00\"%s}",    \
             CAT, extra);                                                      \
    expect_invalid(body, code, field);                                         \
  } while (0)
  CASE(",\"currency\":\"XYZ\"", API_UNPROCESSABLE, "currency");
  CASE(",\"stock\":-1", API_UNPROCESSABLE, "stock");
  CASE(",\"stock\":\"3\"", API_VALIDATION_ERROR, "stock");
  CASE(",\"status\":\"gone\"", API_UNPROCESSABLE, "status");
  CASE(",\"colour\":\"red\"", API_UNPROCESSABLE, "colour");
  CASE(",\"images\":[\"javascript:alert(1)\"]", API_UNPROCESSABLE, "images");
  CASE(",\"images\":[1]", API_VALIDATION_ERROR, "images");
  CASE(",\"attributes\":{\"weight_grams\":-5}", API_UNPROCESSABLE,
       "attributes.weight_grams");
  CASE(",\"attributes\":{\"weight\":-0.5}", API_UNPROCESSABLE,
       "attributes.weight");
  CASE(",\"attributes\":{\"weight\":1e300}", API_UNPROCESSABLE,
       "attributes.weight");
  CASE(",\"attributes\":{\"weight\":\"2kg\"}", API_VALIDATION_ERROR,
       "attributes.weight");
  CASE(",\"attributes\":{\"weight\":1,\"weight_grams\":1000}",
       API_UNPROCESSABLE, "attributes.weight_grams");
  CASE(",\"attributes\":{\"custom\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":"
       "{}}}}}}}",
       API_UNPROCESSABLE, "attributes.custom");
  CASE(",\"attributes\":{\"dimensions\":{\"length\":1,\"width\":1}}",
       API_UNPROCESSABLE, "attributes.dimensions");
  CASE(",\"attributes\":{\"dimensions\":{\"length\":1,\"width\":1,"
       "\"height\":1,\"depth\":1}}",
       API_UNPROCESSABLE, "attributes.dimensions");
  CASE(",\"attributes\":{\"flavor\":\"x\"}", API_UNPROCESSABLE,
       "attributes.flavor");
  CASE(",\"attributes\":{\"dimensions\":{\"length\":1,\"width\":1,"
       "\"height\":0,\"unit\":\"cm\"}}",
       API_UNPROCESSABLE, "attributes.dimensions");
  CASE(",\"attributes\":{\"dimensions\":{\"length\":1,\"width\":1,"
       "\"height\":1,\"unit\":\"ft\"}}",
       API_UNPROCESSABLE, "attributes.dimensions");
#undef CASE
  snprintf(body, sizeof body,
           "{\"sku\":\"bad sku\",\"name\":\"Tee\",%s,\"price\":\"1\"}", CAT);
  expect_invalid(body, API_UNPROCESSABLE, "sku");
  snprintf(body, sizeof body,
           "{\"sku\":\"A\",\"name\":\"Tee\",%s,\"price\":\"1.001\"}", CAT);
  expect_invalid(body, API_UNPROCESSABLE, "price");
  snprintf(body, sizeof body,
           "{\"sku\":\"A\",\"name\":\"Tee\",%s,\"price\":\"-1\"}", CAT);
  expect_invalid(body, API_UNPROCESSABLE, "price");
  snprintf(body, sizeof body,
           "{\"sku\":\"A\",\"name\":\"Tee\",%s,\"price\":19.99}", CAT);
  expect_invalid(body, API_VALIDATION_ERROR, "price");
  expect_invalid("{\"sku\":\"A\",\"name\":\"Tee\",\"price\":\"1\"}",
                 API_UNPROCESSABLE, "category_id");
  snprintf(body, sizeof body, "{\"sku\":\"A\",%s,\"price\":\"1\"}", CAT);
  expect_invalid(body, API_UNPROCESSABLE, "name");
}

static void test_weight_grams(void **state) {
  (void)state;
  assert_i64(product_weight_grams(0), 0);
  assert_i64(product_weight_grams(0.24), 240);
  assert_i64(product_weight_grams(0.1 + 0.2), 300);
  assert_i64(product_weight_grams(0.0005), 1); /* half a gram rounds up */
  assert_i64(product_weight_grams(10000), 10000000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sort_names),
      cmocka_unit_test(test_cursor_roundtrip),
      cmocka_unit_test(test_cursor_rejects),
      cmocka_unit_test(test_sku_and_status),
      cmocka_unit_test(test_slugs),
      cmocka_unit_test(test_category_paths),
      cmocka_unit_test(test_prices),
      cmocka_unit_test(test_lines_normalize),
      cmocka_unit_test(test_draft_valid),
      cmocka_unit_test(test_weight_grams),
      cmocka_unit_test(test_draft_invalid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
