/* test_product_tools.c - unit tests for the catalog tools: the CSV reader
 * and row mapping of the importer, and the demo catalog's generator
 * (src/services/product/catalog_import.c, catalog_seed.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "kit/err.h"
#include "services/product/input.h"
#include "services/product/tools.h"

static void test_csv_records(void **state) {
  (void)state;
  const char *text = "sku,name,price\r\n"
                     "A-1,\"Shirt, blue\",1.00\n"
                     "A-2,\"Says \"\"hi\"\"\nover two lines\",2.50\n"
                     "A-3,,3\n";
  size_t len = strlen(text), pos = 0, line = 1;
  struct arena a;
  arena_init(&a, 1024);
  char **f = NULL;
  assert_int_equal(catalog_csv_record(text, len, &pos, &a, &f, &line), 3);
  assert_string_equal(f[1], "name");
  assert_int_equal(line, 2);
  assert_int_equal(catalog_csv_record(text, len, &pos, &a, &f, &line), 3);
  assert_string_equal(f[1], "Shirt, blue");
  assert_int_equal(catalog_csv_record(text, len, &pos, &a, &f, &line), 3);
  assert_string_equal(f[1], "Says \"hi\"\nover two lines");
  assert_int_equal(line, 5); /* the quoted newline counts */
  assert_int_equal(catalog_csv_record(text, len, &pos, &a, &f, &line), 3);
  assert_string_equal(f[1], "");
  assert_string_equal(f[2], "3");
  assert_int_equal(catalog_csv_record(text, len, &pos, &a, &f, &line), 0);

  const char *bad = "a,\"never closed\n";
  pos = 0;
  line = 1;
  assert_int_equal(catalog_csv_record(bad, strlen(bad), &pos, &a, &f, &line),
                   -1);
  arena_free(&a);
}

static void test_csv_row_json(void **state) {
  (void)state;
  char *header[] = {"sku",    "name",       "category",       "price",
                    "stock",  "brand",      "weight",         "length",
                    "width",  "height",     "dimension_unit", "images",
                    "custom", "description"};
  char *row[] = {"A-1",
                 "Tee",
                 "t-shirts",
                 "9.99",
                 "12",
                 "Acme",
                 "0.18",
                 "30",
                 "20",
                 "2.5",
                 "cm",
                 "/a.svg|/b.svg",
                 "{\"fit\":\"slim\"}",
                 ""};
  char why[128] = "";
  json_t *obj = catalog_csv_row_json(header, row, 14, why, sizeof why);
  assert_non_null(obj);
  assert_int_equal(json_integer_value(json_object_get(obj, "stock")), 12);
  assert_null(json_object_get(obj, "description")); /* empty cell: absent */
  json_t *attrs = json_object_get(obj, "attributes");
  assert_string_equal(json_string_value(json_object_get(attrs, "brand")),
                      "Acme");
  assert_true(json_real_value(json_object_get(attrs, "weight")) == 0.18);
  json_t *dims = json_object_get(attrs, "dimensions");
  assert_true(json_real_value(json_object_get(dims, "height")) == 2.5);
  assert_string_equal(json_string_value(json_object_get(dims, "unit")), "cm");
  assert_int_equal(json_array_size(json_object_get(obj, "images")), 2);

  /* The row reads as a valid product by the API's rules. */
  struct arena a;
  arena_init(&a, 1024);
  struct product_draft d;
  struct json_error err;
  assert_int_equal(product_draft_read(obj, false, true, &a, &d, &err), KIT_OK);
  assert_string_equal(d.category_slug, "t-shirts");
  assert_int_equal(d.price_minor, 999);
  assert_int_equal(d.weight_grams, 180);
  assert_non_null(strstr(d.attributes_json, "\"weight\":0.18"));
  json_decref(obj);

  /* "x" as stock stays text, so the rules say it is not an integer. */
  char *row2[] = {"A-2", "Tee", "t-shirts", "1", "x", "", "",
                  "",    "",    "",         "",  "",  "", ""};
  obj = catalog_csv_row_json(header, row2, 14, why, sizeof why);
  assert_int_equal(product_draft_read(obj, false, true, &a, &d, &err),
                   KIT_INVALID);
  assert_string_equal(err.field, "stock");
  json_decref(obj);
  arena_free(&a);

  char *odd[] = {"sku", "flavour"};
  char *vals[] = {"A", "mint"};
  assert_null(catalog_csv_row_json(odd, vals, 2, why, sizeof why));
  assert_non_null(strstr(why, "flavour"));
}

static void test_seed_is_deterministic_and_valid(void **state) {
  (void)state;
  const char *id = "018f2b3c-4d5e-7f60-8a9b-0c1d2e3f4a5b";
  struct arena a;
  arena_init(&a, 4096);
  for (size_t i = 0; i < 400; i++) {
    json_t *one = catalog_seed_product_json(i, id),
           *two = catalog_seed_product_json(i, id);
    assert_true(json_equal(one, two));
    struct product_draft d;
    struct tools_extra x;
    struct json_error err;
    if (catalog_tools_read(one, &a, &d, &x, &err) != KIT_OK)
      fail_msg("seed product %zu: %s %s", i, err.field, err.message);
    /* Apparel comes in sizes and colours; half the catalog has EUR. */
    if (i % 3 == 0 && i % 16 == 0) { /* t-shirts */
      assert_non_null(d.options_json);
      assert_true(x.variant_count >= 4);
    }
    if (i % 2 == 0) {
      assert_int_equal(x.price_count, 1);
      assert_string_equal(x.prices[0].currency, "EUR");
    }
    assert_true(d.weight_grams > 0);
    assert_non_null(strstr(d.images_json, id));
    json_decref(one);
    json_decref(two);
  }
  json_t *p0 = catalog_seed_product_json(0, id);
  assert_string_equal(json_string_value(json_object_get(p0, "sku")),
                      "TSH-00001");
  json_decref(p0);

  /* 21 categories, parents first, 5 roots. */
  assert_int_equal(catalog_seed_category_count(), 21);
  size_t roots = 0;
  for (size_t i = 0; i < catalog_seed_category_count(); i++) {
    const char *slug, *name, *parent;
    catalog_seed_category(i, &slug, &name, &parent);
    if (parent == NULL) {
      roots++;
      continue;
    }
    bool before = false;
    for (size_t j = 0; j < i; j++) {
      const char *s2, *n2, *p2;
      catalog_seed_category(j, &s2, &n2, &p2);
      before = before || strcmp(s2, parent) == 0;
    }
    assert_true(before);
  }
  assert_int_equal(roots, 5);
  arena_free(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_csv_records),
      cmocka_unit_test(test_csv_row_json),
      cmocka_unit_test(test_seed_is_deterministic_and_valid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
