/* test_auth_keys_at_rest.c - signing keys encrypted with the key-encryption
 * key (src/services/auth/keys.c): seal and open, bound to the kid, a wrong
 * KEK or a tampered text refused, legacy plaintext passed through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "services/auth/keys.h"

#define HEX_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX_B "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define PEM                                                                    \
  "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg==\n-----END PRIVATE KEY-----\n"

static void test_kek_parse(void **state) {
  (void)state;
  unsigned char kek[KEK_BYTES];
  assert_true(kek_parse(HEX_A, kek));
  assert_int_equal(kek[31], 0x1f);
  assert_false(kek_parse("", kek));
  assert_false(kek_parse("0011", kek));
  assert_false(kek_parse(HEX_A "00", kek));
  char bad[] = HEX_A;
  bad[10] = 'x';
  assert_false(kek_parse(bad, kek));
}

static void test_seal_open(void **state) {
  (void)state;
  unsigned char a[KEK_BYTES], b[KEK_BYTES];
  assert_true(kek_parse(HEX_A, a));
  assert_true(kek_parse(HEX_B, b));
  char *sealed = key_seal(a, "kid-1", PEM);
  assert_non_null(sealed);
  assert_true(key_is_sealed(sealed));
  assert_null(strstr(sealed, "PRIVATE KEY"));
  char *again = key_seal(a, "kid-1", PEM);
  assert_string_not_equal(sealed, again); /* a fresh IV each time */
  free(again);

  char *pem = key_unseal(a, "kid-1", sealed);
  assert_non_null(pem);
  assert_string_equal(pem, PEM);
  free(pem);
  assert_null(key_unseal(b, "kid-1", sealed));    /* another KEK */
  assert_null(key_unseal(a, "kid-2", sealed));    /* moved to another row */
  assert_null(key_unseal(NULL, "kid-1", sealed)); /* no KEK configured */
  size_t n = strlen(sealed);
  sealed[n - 3] = sealed[n - 3] == 'A' ? 'B' : 'A'; /* tampered */
  assert_null(key_unseal(a, "kid-1", sealed));
  assert_null(key_unseal(a, "kid-1", "kek1:not base64!"));
  assert_null(key_unseal(a, "kid-1", "kek1:"));
  free(sealed);
}

static void test_legacy_plaintext(void **state) {
  (void)state;
  unsigned char a[KEK_BYTES];
  assert_true(kek_parse(HEX_A, a));
  assert_false(key_is_sealed(PEM));
  char *pem = key_unseal(a, "kid-1", PEM);
  assert_string_equal(pem, PEM);
  free(pem);
  pem = key_unseal(NULL, "kid-1", PEM);
  assert_string_equal(pem, PEM);
  free(pem);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kek_parse),
      cmocka_unit_test(test_seal_open),
      cmocka_unit_test(test_legacy_plaintext),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
