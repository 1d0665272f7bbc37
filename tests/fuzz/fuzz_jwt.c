/* fuzz_jwt.c - access tokens and key sets from outside (kit/auth.c): a raw
 * token against a fixed key; header and claims of the fuzzer's choosing,
 * signed with that key so the claim checks are reached; and a JWKS
 * document. Input: "<token or header JSON>\n<claims JSON>\n<JWKS>". */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>

#include "fuzz.h"
#include "kit/auth.h"

static EVP_PKEY *key;
static char *public_pem;

static void setup(void) {
  if (key != NULL) return;
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
  if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) <= 0 ||
      EVP_PKEY_keygen(ctx, &key) <= 0)
    abort();
  EVP_PKEY_CTX_free(ctx);
  BIO *bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char *p = NULL;
  long n = BIO_get_mem_data(bio, &p);
  public_pem = fuzz_cstr((const uint8_t *)p, (size_t)n);
  BIO_free(bio);
}

static char *b64url(const uint8_t *in, size_t n) {
  static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  char *out = malloc(n / 3 * 4 + 5), *o = out;
  if (out == NULL) abort();
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    *o++ = alphabet[v >> 18 & 63], *o++ = alphabet[v >> 12 & 63];
    *o++ = alphabet[v >> 6 & 63], *o++ = alphabet[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)in[i] << 16;
    *o++ = alphabet[v >> 18 & 63], *o++ = alphabet[v >> 12 & 63];
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
    *o++ = alphabet[v >> 18 & 63], *o++ = alphabet[v >> 12 & 63];
    *o++ = alphabet[v >> 6 & 63];
  }
  *o = '\0';
  return out;
}

static char *signed_token(const char *header, size_t hlen, const char *claims,
                          size_t clen) {
  char *h = b64url((const uint8_t *)header, hlen);
  char *c = b64url((const uint8_t *)claims, clen);
  size_t input_len = strlen(h) + 1 + strlen(c);
  char *input = malloc(input_len + 1);
  if (input == NULL) abort();
  snprintf(input, input_len + 1, "%s.%s", h, c);
  unsigned char sig[512];
  size_t sig_len = sizeof sig;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (md == NULL ||
      EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
      EVP_DigestSign(md, sig, &sig_len, (unsigned char *)input, input_len) != 1)
    abort();
  EVP_MD_CTX_free(md);
  char *s = b64url(sig, sig_len);
  size_t total = input_len + 1 + strlen(s) + 1;
  char *token = malloc(total);
  if (token == NULL) abort();
  snprintf(token, total, "%s.%s", input, s);
  free(h), free(c), free(input), free(s);
  return token;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  char *first, *rest, *claims, *jwks;
  size_t first_len, rest_len, claims_len, jwks_len;
  fuzz_split(data, size, '\n', &first, &first_len, &rest, &rest_len);
  fuzz_split((const uint8_t *)rest, rest_len, '\n', &claims, &claims_len, &jwks,
             &jwks_len);
  struct auth_claims_rules rules = {
      .issuer = "shopsphere-auth", .audience = "shopsphere", .now = 1700000000};
  struct principal p;
  char why[128];
  auth_verify_with_key(first, "k1", public_pem, &rules, &p, why, sizeof why);
  char *token = signed_token(first, first_len, claims, claims_len);
  if (auth_verify_with_key(token, "k1", public_pem, &rules, &p, why,
                           sizeof why) == KIT_OK &&
      (!p.authenticated || p.user_id[0] == '\0'))
    abort(); /* a pass must name a caller */
  free(token);
  auth_jwks_usable_keys(jwks, jwks_len);
  auth_uuid7_ms(first);
  free(first), free(rest), free(claims), free(jwks);
  return 0;
}
