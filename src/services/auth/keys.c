/* keys.c - RS256 signing keys with OpenSSL: generate, load from PEM, publish
 * as a JWKS (RFC 7517: kty, use, alg, kid, n, e). */
#include "services/auth/keys.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/err.h"
#include "kit/log.h"
#include "services/auth/domain.h"

void keyring_init(struct keyring *k) {
  memset(k, 0, sizeof *k);
  pthread_rwlock_init(&k->lock, NULL);
}

void keyring_destroy(struct keyring *k) {
  for (size_t i = 0; i < k->count; i++)
    EVP_PKEY_free(k->keys[i].pkey);
  k->count = 0;
  pthread_rwlock_destroy(&k->lock);
}

/* The PEM in a memory BIO as a malloc'd string. */
static char *bio_string(BIO *bio) {
  char *data = NULL;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0) return NULL;
  char *out = malloc((size_t)len + 1);
  if (out == NULL) return NULL;
  memcpy(out, data, (size_t)len);
  out[len] = '\0';
  return out;
}

int key_generate(char **private_pem, char **public_pem) {
  *private_pem = *public_pem = NULL;
  int rc = KIT_ERROR;
  EVP_PKEY *pkey = EVP_RSA_gen(2048);
  BIO *priv = BIO_new(BIO_s_mem()), *pub = BIO_new(BIO_s_mem());
  if (pkey == NULL || priv == NULL || pub == NULL) goto cleanup;
  if (PEM_write_bio_PrivateKey(priv, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
      PEM_write_bio_PUBKEY(pub, pkey) != 1)
    goto cleanup;
  *private_pem = bio_string(priv);
  *public_pem = bio_string(pub);
  if (*private_pem == NULL || *public_pem == NULL) {
    free(*private_pem);
    free(*public_pem);
    *private_pem = *public_pem = NULL;
    goto cleanup;
  }
  rc = KIT_OK;
cleanup:
  BIO_free(priv);
  BIO_free(pub);
  EVP_PKEY_free(pkey);
  return rc;
}

static int bn_b64url(EVP_PKEY *pkey, const char *param, char *out,
                     size_t out_size) {
  BIGNUM *bn = NULL;
  if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1) return KIT_ERROR;
  int len = BN_num_bytes(bn);
  unsigned char buf[512];
  int rc = KIT_ERROR;
  if (len > 0 && (size_t)len <= sizeof buf &&
      sodium_base64_ENCODED_LEN(
          (size_t)len, sodium_base64_VARIANT_URLSAFE_NO_PADDING) <= out_size) {
    BN_bn2bin(bn, buf);
    b64url_encode(buf, (size_t)len, out, out_size);
    rc = KIT_OK;
  }
  BN_free(bn);
  return rc;
}

int key_load(struct signing_key *key, const char *kid, const char *private_pem,
             int64_t created) {
  memset(key, 0, sizeof *key);
  BIO *bio = BIO_new_mem_buf(private_pem, -1);
  EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
  BIO_free(bio);
  if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA ||
      bn_b64url(pkey, OSSL_PKEY_PARAM_RSA_N, key->n, sizeof key->n) != KIT_OK ||
      bn_b64url(pkey, OSSL_PKEY_PARAM_RSA_E, key->e, sizeof key->e) != KIT_OK) {
    EVP_PKEY_free(pkey);
    log_error("signing key %s cannot be loaded", kid);
    return KIT_ERROR;
  }
  snprintf(key->kid, sizeof key->kid, "%s", kid);
  key->pkey = pkey;
  key->created = created;
  return KIT_OK;
}

void keyring_replace(struct keyring *k, struct signing_key *keys,
                     size_t count) {
  struct signing_key old[KEYRING_SIZE];
  if (count > KEYRING_SIZE) count = KEYRING_SIZE;
  pthread_rwlock_wrlock(&k->lock);
  size_t old_count = k->count;
  memcpy(old, k->keys, sizeof old);
  memset(k->keys, 0, sizeof k->keys);
  memcpy(k->keys, keys, count * sizeof keys[0]);
  k->count = count;
  pthread_rwlock_unlock(&k->lock);
  for (size_t i = 0; i < old_count; i++)
    EVP_PKEY_free(old[i].pkey);
}

EVP_PKEY *keyring_signer(struct keyring *k, char kid[40]) {
  EVP_PKEY *pkey = NULL;
  pthread_rwlock_rdlock(&k->lock);
  if (k->count > 0 && EVP_PKEY_up_ref(k->keys[0].pkey) == 1) {
    pkey = k->keys[0].pkey;
    memcpy(kid, k->keys[0].kid, 40);
  }
  pthread_rwlock_unlock(&k->lock);
  return pkey;
}

void *keyring_jwks(struct keyring *k) {
  json_t *keys = json_array();
  pthread_rwlock_rdlock(&k->lock);
  for (size_t i = 0; i < k->count; i++) {
    json_array_append_new(keys, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
                                          "kty", "RSA", "use", "sig", "alg",
                                          "RS256", "kid", k->keys[i].kid, "n",
                                          k->keys[i].n, "e", k->keys[i].e));
  }
  pthread_rwlock_unlock(&k->lock);
  return json_pack("{s:o}", "keys", keys);
}

/* --- encryption at rest ----------------------------------------------------
 */

bool kek_parse(const char *hex, unsigned char kek[KEK_BYTES]) {
  size_t len = 0;
  if (hex == NULL || strlen(hex) != KEK_BYTES * 2) return false;
  return sodium_hex2bin(kek, KEK_BYTES, hex, strlen(hex), NULL, &len, NULL) ==
             0 &&
         len == KEK_BYTES;
}

bool key_is_sealed(const char *stored) {
  return strncmp(stored, SEALED_PREFIX, strlen(SEALED_PREFIX)) == 0;
}

#define GCM_IV 12
#define GCM_TAG 16

/* AES-256-GCM over in (n bytes) with the kid as associated data. */
static bool gcm(bool encrypt, const unsigned char kek[KEK_BYTES],
                const char *kid, const unsigned char iv[GCM_IV],
                unsigned char tag[GCM_TAG], const unsigned char *in, int n,
                unsigned char *out) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int len = 0, fin = 0;
  bool ok =
      ctx != NULL &&
      EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt) ==
          1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GCM_IV, NULL) == 1 &&
      EVP_CipherInit_ex(ctx, NULL, NULL, kek, iv, encrypt) == 1 &&
      EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)kid,
                       (int)strlen(kid)) == 1 &&
      EVP_CipherUpdate(ctx, out, &len, in, n) == 1 &&
      (encrypt ||
       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG, tag) == 1) &&
      EVP_CipherFinal_ex(ctx, out + len, &fin) == 1 &&
      (!encrypt ||
       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG, tag) == 1);
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

char *key_seal(const unsigned char kek[KEK_BYTES], const char *kid,
               const char *pem) {
  size_t n = strlen(pem), raw_len = GCM_IV + GCM_TAG + n;
  unsigned char *raw = malloc(raw_len);
  if (raw == NULL) return NULL;
  randombytes_buf(raw, GCM_IV);
  char *out = NULL;
  if (gcm(true, kek, kid, raw, raw + GCM_IV, (const unsigned char *)pem, (int)n,
          raw + GCM_IV + GCM_TAG)) {
    size_t b64 =
        sodium_base64_ENCODED_LEN(raw_len, sodium_base64_VARIANT_ORIGINAL);
    out = malloc(strlen(SEALED_PREFIX) + b64);
    if (out != NULL) {
      strcpy(out, SEALED_PREFIX);
      sodium_bin2base64(out + strlen(SEALED_PREFIX), b64, raw, raw_len,
                        sodium_base64_VARIANT_ORIGINAL);
    }
  }
  sodium_memzero(raw, raw_len);
  free(raw);
  return out;
}

char *key_unseal(const unsigned char *kek, const char *kid,
                 const char *stored) {
  if (!key_is_sealed(stored)) return strdup(stored); /* legacy plaintext */
  if (kek == NULL) return NULL;
  const char *b64 = stored + strlen(SEALED_PREFIX);
  size_t cap = strlen(b64), raw_len = 0;
  unsigned char *raw = malloc(cap + 1);
  if (raw == NULL) return NULL;
  char *pem = NULL;
  if (sodium_base642bin(raw, cap, b64, strlen(b64), NULL, &raw_len, NULL,
                        sodium_base64_VARIANT_ORIGINAL) == 0 &&
      raw_len > GCM_IV + GCM_TAG) {
    size_t n = raw_len - GCM_IV - GCM_TAG;
    pem = malloc(n + 1);
    if (pem != NULL &&
        gcm(false, kek, kid, raw, raw + GCM_IV, raw + GCM_IV + GCM_TAG, (int)n,
            (unsigned char *)pem)) {
      pem[n] = '\0';
    } else if (pem != NULL) {
      sodium_memzero(pem, n + 1);
      free(pem);
      pem = NULL;
    }
  }
  free(raw);
  return pem;
}
