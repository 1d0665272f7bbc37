/* test_identity.c - the user service's validation rules
 * (src/services/user/domain.c): usernames, names, phones, addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "services/user/domain.h"

static void test_usernames(void **state) {
  (void)state;
  const char *good[] = {"ada",    "ada_lovelace",
                        "a.b-c",  "User42",
                        "9lives", "abcdefghijklmnopqrstuvwxyz1234"};
  const char *bad[] = {"",
                       "ab",
                       ".ada",
                       "_ada",
                       "ada..x",
                       "ada._x",
                       "has space",
                       "ümlaut",
                       "semi;colon",
                       "x'--",
                       "abcdefghijklmnopqrstuvwxyz12345"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    assert_true(username_valid(good[i]));
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_false(username_valid(bad[i]));
}

static void test_names(void **state) {
  (void)state;
  assert_true(person_name_valid("Ada"));
  assert_true(person_name_valid("Zoë O'Brien-Łukasz"));
  assert_true(person_name_valid("Robert'); DROP TABLE users;--"));
  assert_false(person_name_valid(""));
  assert_false(person_name_valid("   "));
  assert_false(person_name_valid("a\tb"));
  assert_false(person_name_valid("a\x7f"));
  assert_false(person_name_valid("a\xc2\x85"
                                 "b")); /* U+0085, a C1 control */
  char name[512];
  memset(name, 'x', 100);
  name[100] = '\0';
  assert_true(person_name_valid(name));
  name[100] = 'x';
  name[101] = '\0';
  assert_false(person_name_valid(name));
  /* 100 two-byte characters are 100 characters. */
  for (int i = 0; i < 100; i++)
    memcpy(name + 2 * i, "\xc3\xa9", 2);
  name[200] = '\0';
  assert_true(person_name_valid(name));
}

static void test_phones(void **state) {
  (void)state;
  assert_true(phone_valid("+44 20 7946 0958"));
  assert_true(phone_valid("(030) 1234-567"));
  assert_true(phone_valid("5551234"));
  assert_false(phone_valid("555123"));            /* 6 digits */
  assert_false(phone_valid("+1234567890123456")); /* 16 digits */
  assert_false(phone_valid("12+34567890"));       /* '+' not first */
  assert_false(phone_valid("call me"));
  assert_false(phone_valid(""));
}

static void test_countries_and_postcodes(void **state) {
  (void)state;
  assert_true(country_valid("DE"));
  assert_true(country_valid("GB"));
  assert_true(country_valid("US"));
  assert_true(country_valid("ZW"));
  assert_false(country_valid("UK")); /* reserved, not assigned */
  assert_false(country_valid("XX"));
  assert_false(country_valid("de"));
  assert_false(country_valid("DEU"));
  assert_false(country_valid(""));
  assert_true(postal_code_valid("SW1Y 4JH"));
  assert_true(postal_code_valid("10115"));
  assert_true(postal_code_valid("1234-567"));
  assert_false(postal_code_valid(""));
  assert_false(postal_code_valid("  "));
  assert_false(postal_code_valid("12;34"));
  assert_false(postal_code_valid("123456789012345678901"));
}

static void test_addresses(void **state) {
  (void)state;
  struct address_fields a = {.line1 = "1 Main St",
                             .city = "Springfield",
                             .postal_code = "12345",
                             .country = "US"};
  const char *field = NULL;
  assert_true(address_valid(&a, &field));
  a.country = "USA";
  assert_false(address_valid(&a, &field));
  assert_string_equal(field, "country");
  a.country = "US";
  a.line1 = NULL;
  assert_false(address_valid(&a, &field));
  assert_string_equal(field, "line1");
  a.line1 = "1 Main St";
  a.phone = "nope";
  assert_false(address_valid(&a, &field));
  assert_string_equal(field, "phone");
  a.phone = NULL;
  a.first_name = "";
  assert_false(address_valid(&a, &field));
  assert_string_equal(field, "first_name");
}

static void test_username_from_email(void **state) {
  (void)state;
  char out[32];
  username_from_email("Ada.Lovelace@example.com", "-abc123", out);
  assert_string_equal(out, "adalovelace-abc123");
  assert_true(username_valid(out));
  username_from_email("x@y.z", "-0f0f0f", out);
  assert_string_equal(out, "xuu-0f0f0f");
  assert_true(username_valid(out));
  username_from_email("averyveryveryverylongname@example.com", "-123456", out);
  assert_true(username_valid(out));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_usernames),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_phones),
      cmocka_unit_test(test_countries_and_postcodes),
      cmocka_unit_test(test_addresses),
      cmocka_unit_test(test_username_from_email),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
