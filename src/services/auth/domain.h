/* domain.h - the auth service's decisions: password policy, password hashing,
 * token minting. No SQL, no HTTP; unit-tested in tests/unit/test_auth_*.c. */
#ifndef SHOPSPHERE_AUTH_DOMAIN_H
#define SHOPSPHERE_AUTH_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <sodium.h>

/* --- passwords ---------------------------------------------------------- */

#define PASSWORD_MIN_CHARS 10
#define PASSWORD_MAX_CHARS 128

/* true when password is on the embedded list of common passwords (compared
 * case-insensitively). */
bool password_is_common(const char *password);

/* Checks a new password: PASSWORD_MIN..MAX_CHARS code points, not common,
 * not the e-mail address or its local part (email may be NULL). Returns true,
 * or false with a sentence for the client in why. */
bool password_policy_ok(const char *password, const char *email, char *why,
                        size_t why_size);

/* argon2id parameters (libsodium crypto_pwhash_str_alg). */
struct hash_params {
  unsigned long long opslimit;
  size_t memlimit_bytes;
};

/* Hashes password into out (crypto_pwhash_STRBYTES). KIT_OK or KIT_NOMEM. */
int password_hash(const char *password, const struct hash_params *p,
                  char out[crypto_pwhash_STRBYTES]);

/* true when password matches hash (constant time inside libsodium). */
bool password_verify(const char *hash, const char *password);

/* true when hash was made with other parameters (or another algorithm) than
 * p and should be replaced after a successful login. */
bool password_needs_rehash(const char *hash, const struct hash_params *p);

/* --- tokens ------------------------------------------------------------- */

struct access_claims {
  const char *issuer;
  const char *audience;
  const char *user_id; /* sub */
  const char *role;
  const char *jti;        /* UUIDv7 */
  const char *session_id; /* sid: the refresh-token family */
  const char *email;      /* email (may be NULL: then no claim); the audit
                             log names the actor by it */
  int64_t issued_at;      /* iat = nbf, unix seconds */
  int64_t ttl_s;          /* exp = iat + ttl */
};

/* Mints a compact RS256 JWS with header {"alg":"RS256","typ":"JWT","kid"}.
 * *out is malloc'd (caller frees). KIT_OK or KIT_ERROR. */
int jwt_sign_rs256(EVP_PKEY *key, const char *kid,
                   const struct access_claims *c, char **out);

/* An opaque refresh or reset token: 32 random bytes, base64url (43 chars). */
#define OPAQUE_TOKEN_LEN 44 /* with NUL */
void opaque_token_new(char out[OPAQUE_TOKEN_LEN]);

/* Its SHA-256 as 64 lowercase hex digits: what the database stores. */
#define TOKEN_HASH_LEN 65
void opaque_token_hash(const char *token, char out[TOKEN_HASH_LEN]);

/* base64url without padding of n bytes into out (size >= n*4/3+2). */
void b64url_encode(const unsigned char *in, size_t n, char *out,
                   size_t out_size);

/* --- throttling ----------------------------------------------------------- */

/* Failed logins are counted per account and per client IP over a window;
 * a login is refused (429) once either count reached its limit. */
#define LOGIN_FAILURE_WINDOW_S 900
bool login_throttled(long long account_failures, long long ip_failures,
                     int max_account, int max_ip);

#endif
