/* test_shipping_webhook.c - signed webhooks (src/kit/webhook.c) as the
 * shipping service and the sandbox courier use them: signing, verifying,
 * tampering, stale timestamps, malformed headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "kit/err.h"
#include "kit/webhook.h"

static const char secret[] = "whsec_test_0123456789";
static const char payload[] =
    "{\"id\":\"evt_1\",\"type\":\"tracking.updated\"}";

static void test_known_vector(void **state) {
  (void)state;
  /* HMAC-SHA256 over "<t>.<payload>", checked against Python's hmac:
   * hmac.new(b"key", b"0.The quick brown fox jumps over the lazy dog",
   *          hashlib.sha256).hexdigest() */
  const char *msg = "The quick brown fox jumps over the lazy dog";
  char hex[WEBHOOK_HEX_LEN];
  assert_int_equal(webhook_sign("key", 0, msg, strlen(msg), hex), KIT_OK);
  assert_string_equal(
      hex, "8511f28f7a1949f0c42772b447d68b2daf760f5f0439a20a17e3b4e7cd395763");
  char other[WEBHOOK_HEX_LEN];
  assert_int_equal(webhook_sign("key", 1, msg, strlen(msg), other), KIT_OK);
  assert_string_not_equal(hex, other);
  assert_int_equal(webhook_sign("", 0, msg, strlen(msg), hex), KIT_INVALID);
}

static void test_roundtrip(void **state) {
  (void)state;
  char header[WEBHOOK_HEADER_MAX];
  int64_t t = 1700000000;
  assert_int_equal(webhook_signature_header(secret, t, payload, strlen(payload),
                                            header, sizeof header),
                   KIT_OK);
  assert_true(strncmp(header, "t=1700000000,v1=", 16) == 0);
  int64_t seen = 0;
  assert_int_equal(webhook_verify(secret, header, payload, strlen(payload), 300,
                                  t + 10, &seen),
                   WEBHOOK_VALID);
  assert_true(seen == t);
  /* Uppercase hex and spaces after commas are still the same signature. */
  char upper[WEBHOOK_HEADER_MAX + 8];
  size_t len = (size_t)snprintf(upper, sizeof upper, "t=%lld, v1=", (long long)t);
  for (const char *p = header + 16; *p && len + 1 < sizeof upper; p++)
    upper[len++] = *p >= 'a' && *p <= 'f' ? (char)(*p - 'a' + 'A') : *p;
  upper[len] = '\0';
  assert_int_equal(
      webhook_verify(secret, upper, payload, strlen(payload), 300, t, NULL),
      WEBHOOK_VALID);
}

static void test_refusals(void **state) {
  (void)state;
  char header[WEBHOOK_HEADER_MAX];
  int64_t t = 1700000000;
  webhook_signature_header(secret, t, payload, strlen(payload), header,
                           sizeof header);
  /* Another secret, a changed body, an old or future timestamp. */
  assert_int_equal(
      webhook_verify("other", header, payload, strlen(payload), 300, t, NULL),
      WEBHOOK_BAD_SIGNATURE);
  assert_int_equal(webhook_verify(secret, header, payload, strlen(payload) - 1,
                                  300, t, NULL),
                   WEBHOOK_BAD_SIGNATURE);
  assert_int_equal(webhook_verify(secret, header, payload, strlen(payload), 300,
                                  t + 301, NULL),
                   WEBHOOK_STALE);
  assert_int_equal(webhook_verify(secret, header, payload, strlen(payload), 300,
                                  t - 301, NULL),
                   WEBHOOK_STALE);
  /* No secret configured never validates. */
  assert_int_equal(
      webhook_verify("", header, payload, strlen(payload), 300, t, NULL),
      WEBHOOK_BAD_SIGNATURE);
  /* A timestamp moved into the header breaks the MAC. */
  char moved[WEBHOOK_HEADER_MAX];
  snprintf(moved, sizeof moved, "t=%lld%s", (long long)(t + 1),
           strchr(header, ','));
  assert_int_equal(
      webhook_verify(secret, moved, payload, strlen(payload), 300, t, NULL),
      WEBHOOK_BAD_SIGNATURE);
  /* A second, valid v1 among wrong ones is accepted (secret rotation). */
  char two[2 * WEBHOOK_HEADER_MAX];
  snprintf(two, sizeof two, "t=%lld,v1=%064d,%s", (long long)t, 0,
           strchr(header, ',') + 1);
  assert_int_equal(
      webhook_verify(secret, two, payload, strlen(payload), 300, t, NULL),
      WEBHOOK_VALID);
}

static void test_malformed(void **state) {
  (void)state;
  const char *bad[] = {
      NULL,
      "",
      "garbage",
      "t=,v1=abc",
      "t=123",
      "v1=0000000000000000000000000000000000000000000000000000000000000000",
      "t=12x,v1="
      "0000000000000000000000000000000000000000000000000000000000000000",
      "t=1,v1=short",
      "t=1,t=2,v1="
      "0000000000000000000000000000000000000000000000000000000000000000"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(
        webhook_verify(secret, bad[i], payload, strlen(payload), 300, 1, NULL),
        WEBHOOK_MALFORMED);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_vector),
      cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_malformed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
