/* test_auth_tokens.c - access tokens and passwords: minting and verifying
 * RS256 JWTs (src/services/auth/domain.c, src/kit/auth.c), the claims rules,
 * forged tokens, the password policy and argon2id hashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit/auth.h"
#include "kit/uuid.h"
#include "services/auth/domain.h"
#include "services/auth/keys.h"

#define ISS "shopsphere-auth"
#define AUD "shopsphere"
#define USER "01939a4e-0f4c-7d2a-9b1e-5c3f1a2b4c5d"

struct fixture {
  struct signing_key key;
  char *private_pem, *public_pem;
  struct signing_key other;
  char *other_private, *other_public;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  assert_int_equal(key_generate(&f->private_pem, &f->public_pem), KIT_OK);
  assert_int_equal(key_load(&f->key, "kid-1", f->private_pem, 0), KIT_OK);
  assert_int_equal(key_generate(&f->other_private, &f->other_public), KIT_OK);
  assert_int_equal(key_load(&f->other, "kid-1", f->other_private, 0), KIT_OK);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  EVP_PKEY_free(f->key.pkey);
  EVP_PKEY_free(f->other.pkey);
  free(f->private_pem);
  free(f->public_pem);
  free(f->other_private);
  free(f->other_public);
  free(f);
  return 0;
}

/* Not inlined: gcc -O2 otherwise mistakes the returned heap pointer for one
 * into this frame (-Wdangling-pointer false positive). */
__attribute__((noinline)) static char *mint(EVP_PKEY *key, const char *kid, const char *role, int64_t iat,
                  int64_t ttl, const char *iss, const char *aud) {
  char jti[UUID_STR_LEN];
  uuid_v7(jti);
  struct access_claims c = {.issuer = iss,
                            .audience = aud,
                            .user_id = USER,
                            .role = role,
                            .jti = jti,
                            .session_id = jti,
                            .issued_at = iat,
                            .ttl_s = ttl};
  char *token = NULL;
  assert_int_equal(jwt_sign_rs256(key, kid, &c, &token), KIT_OK);
  return token;
}

static int verify(struct fixture *f, const char *token, int64_t now,
                  struct principal *p) {
  struct auth_claims_rules rules = {.issuer = ISS, .audience = AUD, .now = now};
  char why[64];
  return auth_verify_with_key(token, "kid-1", f->public_pem, &rules, p, why,
                              sizeof why);
}

static void test_valid_token(void **state) {
  struct fixture *f = *state;
  int64_t now = (int64_t)time(NULL);
  char *t = mint(f->key.pkey, "kid-1", "admin", now, 900, ISS, AUD);
  struct principal p;
  assert_int_equal(verify(f, t, now, &p), KIT_OK);
  assert_true(p.authenticated);
  assert_string_equal(p.user_id, USER);
  assert_string_equal(p.role, "admin");
  assert_int_equal(p.exp, now + 900);
  assert_int_equal(p.iat, now);
  assert_true(uuid_valid(p.jti));
  assert_string_equal(p.session_id, p.jti);
  free(t);
}

static void test_time_claims(void **state) {
  struct fixture *f = *state;
  int64_t now = (int64_t)time(NULL);
  struct principal p;
  /* Expired 20 s ago: inside the clock skew, still accepted. */
  char *t = mint(f->key.pkey, "kid-1", "customer", now - 920, 900, ISS, AUD);
  assert_int_equal(verify(f, t, now, &p), KIT_OK);
  free(t);
  /* Expired long ago. */
  t = mint(f->key.pkey, "kid-1", "customer", now - 2000, 900, ISS, AUD);
  assert_int_equal(verify(f, t, now, &p), KIT_INVALID);
  assert_false(p.authenticated);
  free(t);
  /* Not valid before a time beyond the skew. */
  t = mint(f->key.pkey, "kid-1", "customer", now + 120, 900, ISS, AUD);
  assert_int_equal(verify(f, t, now, &p), KIT_INVALID);
  free(t);
  /* A little ahead of our clock is fine. */
  t = mint(f->key.pkey, "kid-1", "customer", now + 10, 900, ISS, AUD);
  assert_int_equal(verify(f, t, now, &p), KIT_OK);
  free(t);
}

static void test_issuer_audience_kid_role(void **state) {
  struct fixture *f = *state;
  int64_t now = (int64_t)time(NULL);
  struct principal p;
  char *t = mint(f->key.pkey, "kid-1", "customer", now, 900, "evil", AUD);
  assert_int_equal(verify(f, t, now, &p), KIT_INVALID);
  free(t);
  t = mint(f->key.pkey, "kid-1", "customer", now, 900, ISS, "other-app");
  assert_int_equal(verify(f, t, now, &p), KIT_INVALID);
  free(t);
  t = mint(f->key.pkey, "kid-2", "customer", now, 900, ISS, AUD);
  assert_int_equal(verify(f, t, now, &p), KIT_INVALID);
  free(t);
  t = mint(f->key.pkey, "kid-1", "root", now, 900, ISS, AUD);
  assert_int_equal(verify(f, t, now, &p), KIT_INVALID);
  free(t);
  /* Signed by another key under our kid. */
  t = mint(f->other.pkey, "kid-1", "customer", now, 900, ISS, AUD);
  assert_int_equal(verify(f, t, now, &p), KIT_INVALID);
  free(t);
}

static char *b64(const char *s, size_t n) {
  size_t size =
      sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  char *out = malloc(size);
  sodium_bin2base64(out, size, (const unsigned char *)s, n,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return out;
}

static void test_forged_tokens(void **state) {
  struct fixture *f = *state;
  int64_t now = (int64_t)time(NULL);
  struct principal p;
  char *good = mint(f->key.pkey, "kid-1", "customer", now, 900, ISS, AUD);
  char *dot1 = strchr(good, '.'), *dot2 = strrchr(good, '.');
  char payload[2048];
  snprintf(payload, sizeof payload, "%.*s", (int)(dot2 - dot1 - 1), dot1 + 1);
  char token[8192];

  /* alg none, with and without a signature part. */
  const char *none_h = "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"kid-1\"}";
  char *h = b64(none_h, strlen(none_h));
  snprintf(token, sizeof token, "%s.%s.", h, payload);
  assert_int_equal(verify(f, token, now, &p), KIT_INVALID);
  snprintf(token, sizeof token, "%s.%s", h, payload);
  assert_int_equal(verify(f, token, now, &p), KIT_INVALID);
  free(h);

  /* HS256 keyed with the public key. */
  const char *hs_h = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"kid-1\"}";
  h = b64(hs_h, strlen(hs_h));
  char input[4096];
  snprintf(input, sizeof input, "%s.%s", h, payload);
  unsigned char mac[32];
  unsigned mac_len = 0;
  HMAC(EVP_sha256(), f->public_pem, (int)strlen(f->public_pem),
       (const unsigned char *)input, strlen(input), mac, &mac_len);
  char *sig = b64((const char *)mac, mac_len);
  snprintf(token, sizeof token, "%s.%s", input, sig);
  assert_int_equal(verify(f, token, now, &p), KIT_INVALID);
  free(sig);
  free(h);

  /* A tampered payload under the real signature. */
  char json[1024];
  snprintf(json, sizeof json,
           "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"%s\",\"role\":\"admin\","
           "\"jti\":\"x\",\"iat\":%lld,\"exp\":%lld}",
           ISS, AUD, USER, (long long)now, (long long)now + 900);
  char *forged = b64(json, strlen(json));
  snprintf(token, sizeof token, "%.*s.%s%s", (int)(dot1 - good), good, forged,
           dot2);
  assert_int_equal(verify(f, token, now, &p), KIT_INVALID);
  free(forged);

  /* Garbage of every shape. */
  const char *garbage[] = {"",   "garbage", "a.b",     "a.b.c",
                           "..", "a..c",    "a.b.c.d", "!!!.???.***"};
  for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
    assert_int_equal(verify(f, garbage[i], now, &p), KIT_INVALID);
  /* One flipped character of the signature. */
  snprintf(token, sizeof token, "%s", good);
  size_t last = strlen(token) - 2;
  token[last] = token[last] == 'A' ? 'B' : 'A';
  assert_int_equal(verify(f, token, now, &p), KIT_INVALID);
  free(good);
}

static void test_uuid7_ms(void **state) {
  (void)state;
  char id[UUID_STR_LEN];
  uuid_v7(id);
  int64_t ms = auth_uuid7_ms(id);
  int64_t now = (int64_t)time(NULL) * 1000;
  assert_true(ms > now - 5000 && ms < now + 5000);
  assert_int_equal(auth_uuid7_ms("01939a4e-0f4c-4d2a-9b1e-5c3f1a2b4c5d"), -1);
  assert_int_equal(auth_uuid7_ms("nope"), -1);
}

static void test_role_rules(void **state) {
  (void)state;
  assert_true(auth_role_allows("customer", ACCESS_SIGNED_IN));
  assert_false(auth_role_allows("customer", ACCESS_ADMIN));
  assert_false(auth_role_allows("customer", ACCESS_MODERATOR));
  assert_true(auth_role_allows("moderator", ACCESS_MODERATOR));
  assert_false(auth_role_allows("moderator", ACCESS_ADMIN));
  assert_true(auth_role_allows("admin", ACCESS_ADMIN));
  assert_true(auth_role_allows("admin", ACCESS_MODERATOR));
  assert_false(auth_role_allows("root", ACCESS_SIGNED_IN));
  assert_true(auth_role_allows("customer", ACCESS_PUBLIC));
}

static void test_password_policy(void **state) {
  (void)state;
  char why[128];
  assert_false(password_policy_ok("short", NULL, why, sizeof why));
  assert_false(password_policy_ok("123456789", NULL, why, sizeof why));
  assert_false(password_policy_ok("1234567890", NULL, why, sizeof why));
  assert_false(password_policy_ok("PassWord123", NULL, why, sizeof why));
  assert_false(password_policy_ok("qwertyuiop", NULL, why, sizeof why));
  assert_non_null(strstr(why, "common"));
  assert_false(password_policy_ok("ada.lovelace@example.com",
                                  "ada.lovelace@example.com", why, sizeof why));
  assert_false(password_policy_ok("Ada.Lovelace", "ada.lovelace@example.com",
                                  why, sizeof why));
  char long_pw[200];
  memset(long_pw, 'x', 129);
  long_pw[129] = '\0';
  assert_false(password_policy_ok(long_pw, NULL, why, sizeof why));
  assert_true(password_policy_ok("Correct-Horse-Battery-42", "a@b.co", why,
                                 sizeof why));
  /* Ten code points, more bytes: counted as characters. */
  assert_true(password_policy_ok("\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f\xc3\xa9"
                                 "abcde",
                                 NULL, why, sizeof why));
  assert_true(password_is_common("iloveyou123"));
  assert_true(password_is_common("ILOVEYOU123"));
  assert_false(password_is_common("Correct-Horse-Battery-42"));
}

static void test_password_hashing(void **state) {
  (void)state;
  struct hash_params p = {.opslimit = 1, .memlimit_bytes = 8192};
  struct hash_params other = {.opslimit = 2, .memlimit_bytes = 8192};
  char hash[crypto_pwhash_STRBYTES];
  assert_int_equal(password_hash("Correct-Horse-Battery-42", &p, hash), KIT_OK);
  assert_non_null(strstr(hash, "$argon2id$"));
  assert_true(password_verify(hash, "Correct-Horse-Battery-42"));
  assert_false(password_verify(hash, "Correct-Horse-Battery-43"));
  assert_false(password_needs_rehash(hash, &p));
  assert_true(password_needs_rehash(hash, &other));
  assert_true(password_needs_rehash("$2y$10$notargon", &p));
}

static void test_opaque_tokens(void **state) {
  (void)state;
  char a[OPAQUE_TOKEN_LEN], b[OPAQUE_TOKEN_LEN];
  opaque_token_new(a);
  opaque_token_new(b);
  assert_int_equal(strlen(a), 43);
  assert_string_not_equal(a, b);
  char ha[TOKEN_HASH_LEN], ha2[TOKEN_HASH_LEN], hb[TOKEN_HASH_LEN];
  opaque_token_hash(a, ha);
  opaque_token_hash(a, ha2);
  opaque_token_hash(b, hb);
  assert_int_equal(strlen(ha), 64);
  assert_string_equal(ha, ha2);
  assert_string_not_equal(ha, hb);
}

static void test_throttle(void **state) {
  (void)state;
  assert_false(login_throttled(9, 0, 10, 100));
  assert_true(login_throttled(10, 0, 10, 100));
  assert_true(login_throttled(0, 100, 10, 100));
  assert_false(login_throttled(0, 99, 10, 100));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_token),
      cmocka_unit_test(test_time_claims),
      cmocka_unit_test(test_issuer_audience_kid_role),
      cmocka_unit_test(test_forged_tokens),
      cmocka_unit_test(test_uuid7_ms),
      cmocka_unit_test(test_role_rules),
      cmocka_unit_test(test_password_policy),
      cmocka_unit_test(test_password_hashing),
      cmocka_unit_test(test_opaque_tokens),
      cmocka_unit_test(test_throttle),
  };
  /* RSA key generation is slow under the sanitizers: one pair per run. */
  return cmocka_run_group_tests(tests, setup, teardown);
}
