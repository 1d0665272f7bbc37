/* keys.h - the auth service's RS256 signing keys: generation, the in-memory
 * keyring (newest signs, the previous one stays published) and the JWKS. */
#ifndef SHOPSPHERE_AUTH_KEYS_H
#define SHOPSPHERE_AUTH_KEYS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>

#define KEYRING_SIZE 2

struct signing_key {
  char kid[40];
  EVP_PKEY *pkey;  /* private (and public) key; owned */
  int64_t created; /* unix seconds */
  char n[400];     /* base64url modulus (2048-bit: 342 chars) */
  char e[16];      /* base64url exponent */
};

struct keyring {
  pthread_rwlock_t lock;
  struct signing_key keys[KEYRING_SIZE]; /* newest first */
  size_t count;
};

void keyring_init(struct keyring *k);
void keyring_destroy(struct keyring *k);

/* A fresh RSA-2048 key as PKCS#8 private PEM and SubjectPublicKeyInfo PEM,
 * both malloc'd (caller frees). KIT_OK or KIT_ERROR. */
int key_generate(char **private_pem, char **public_pem);

/* Fills key from a stored private PEM. KIT_OK or KIT_ERROR. */
int key_load(struct signing_key *key, const char *kid, const char *private_pem,
             int64_t created);

/* Replaces the keyring's keys with `count` loaded keys (taking ownership of
 * their pkeys), newest first. */
void keyring_replace(struct keyring *k, struct signing_key *keys, size_t count);

/* A reference to the newest key (caller frees with EVP_PKEY_free) and its
 * kid, or NULL when the keyring is empty. */
EVP_PKEY *keyring_signer(struct keyring *k, char kid[40]);

/* The JWKS document {keys: [...]} as a json_t * (caller decrefs). */
void *keyring_jwks(struct keyring *k);

/* --- encryption at rest (docs/identity.md) ---
 * A stored private key is "kek1:" + base64(iv 12 | GCM tag 16 | ciphertext):
 * the PEM under AES-256-GCM with the key-encryption key (SHOPSPHERE_KEK),
 * the kid as associated data (a sealed key cannot be moved to another
 * row). Keys stored before encryption existed are plaintext PEM. */
#define KEK_BYTES 32
#define SEALED_PREFIX "kek1:"

/* 64 hex digits into kek; false when empty or malformed. */
bool kek_parse(const char *hex, unsigned char kek[KEK_BYTES]);

/* true when stored is sealed (else it is a legacy plaintext PEM). */
bool key_is_sealed(const char *stored);

/* pem sealed under kek for kid; malloc'd, NULL on failure. */
char *key_seal(const unsigned char kek[KEK_BYTES], const char *kid,
               const char *pem);

/* The PEM of a stored key (malloc'd; zero it before freeing): a sealed one
 * opened with kek (NULL: none), a plaintext one copied. NULL when it cannot
 * be opened with kek. */
char *key_unseal(const unsigned char *kek, const char *kid, const char *stored);

#endif
