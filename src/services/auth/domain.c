/* domain.c - the auth service's decisions: password policy and hashing,
 * access-token minting, opaque tokens, login throttling.
 *
 * JWTs are built here by hand with OpenSSL: the header and claims are a fixed
 * shape we control, so the only library work is RSA-SHA256 and base64url.
 */
#include "services/auth/domain.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "kit/err.h"

extern const char *const common_passwords[];
extern const size_t common_password_count;

/* --- passwords ---------------------------------------------------------- */

bool password_is_common(const char *password) {
  char lower[PASSWORD_MAX_CHARS * 4 + 1];
  size_t n = strlen(password);
  if (n >= sizeof lower) return false;
  for (size_t i = 0; i <= n; i++)
    lower[i] = (char)tolower((unsigned char)password[i]);
  size_t lo = 0, hi = common_password_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int cmp = strcmp(lower, common_passwords[mid]);
    if (cmp == 0) return true;
    if (cmp < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return false;
}

/* Code points of a string already known to be valid UTF-8. */
static size_t utf8_chars(const char *s) {
  size_t n = 0;
  for (; *s != '\0'; s++)
    if (((unsigned char)*s & 0xC0) != 0x80) n++;
  return n;
}

bool password_policy_ok(const char *password, const char *email, char *why,
                        size_t why_size) {
  size_t chars = utf8_chars(password);
  if (chars < PASSWORD_MIN_CHARS) {
    snprintf(why, why_size, "password must be at least %d characters",
             PASSWORD_MIN_CHARS);
    return false;
  }
  if (chars > PASSWORD_MAX_CHARS) {
    snprintf(why, why_size, "password must be at most %d characters",
             PASSWORD_MAX_CHARS);
    return false;
  }
  if (password_is_common(password)) {
    snprintf(why, why_size, "password is too common; choose another");
    return false;
  }
  if (email != NULL && email[0] != '\0') {
    const char *at = strchr(email, '@');
    size_t local = at ? (size_t)(at - email) : strlen(email);
    if (strcasecmp(password, email) == 0 ||
        (strlen(password) == local &&
         strncasecmp(password, email, local) == 0)) {
      snprintf(why, why_size, "password must not be your e-mail address");
      return false;
    }
  }
  return true;
}

/* Argon2 is CPU- and memory-bound (19 MiB a hash by default): with many
 * HTTP threads, a burst of sign-ups or logins would run them all at once,
 * each slower than alone and together using threads x memlimit of memory.
 * At most one hash per CPU runs; the others wait their turn. */
static sem_t hash_slots;
static pthread_once_t hash_slots_once = PTHREAD_ONCE_INIT;

static void hash_slots_init(void) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  sem_init(&hash_slots, 0, cpus > 0 && cpus < 256 ? (unsigned)cpus : 2u);
}

static void hash_slot_take(void) {
  pthread_once(&hash_slots_once, hash_slots_init);
  while (sem_wait(&hash_slots) != 0 && errno == EINTR) {
  }
}

int password_hash(const char *password, const struct hash_params *p,
                  char out[crypto_pwhash_STRBYTES]) {
  hash_slot_take();
  int rc =
      crypto_pwhash_str_alg(out, password, strlen(password), p->opslimit,
                            p->memlimit_bytes, crypto_pwhash_ALG_ARGON2ID13);
  sem_post(&hash_slots);
  /* libsodium's only failure here: memory */
  return rc != 0 ? KIT_NOMEM : KIT_OK;
}

bool password_verify(const char *hash, const char *password) {
  hash_slot_take();
  bool ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
  sem_post(&hash_slots);
  return ok;
}

bool password_needs_rehash(const char *hash, const struct hash_params *p) {
  return crypto_pwhash_str_needs_rehash(hash, p->opslimit, p->memlimit_bytes) !=
         0;
}

/* --- tokens ------------------------------------------------------------- */

void b64url_encode(const unsigned char *in, size_t n, char *out,
                   size_t out_size) {
  sodium_bin2base64(out, out_size, in, n,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* base64url of a JSON document, malloc'd. */
static char *b64url_json(json_t *doc) {
  char *text = json_dumps(doc, JSON_COMPACT);
  if (text == NULL) return NULL;
  size_t n = strlen(text);
  size_t size =
      sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  char *out = malloc(size);
  if (out != NULL) b64url_encode((const unsigned char *)text, n, out, size);
  free(text);
  return out;
}

int jwt_sign_rs256(EVP_PKEY *key, const char *kid,
                   const struct access_claims *c, char **out) {
  *out = NULL;
  int rc = KIT_ERROR;
  char *header = NULL, *payload = NULL, *signing_input = NULL, *token = NULL;
  unsigned char *sig = NULL;
  EVP_MD_CTX *ctx = NULL;
  json_t *h =
      json_pack("{s:s, s:s, s:s}", "alg", "RS256", "typ", "JWT", "kid", kid);
  json_t *p = json_pack(
      "{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "iss", c->issuer, "aud",
      c->audience, "sub", c->user_id, "role", c->role, "jti", c->jti, "sid",
      c->session_id, "iat", (json_int_t)c->issued_at, "nbf",
      (json_int_t)c->issued_at, "exp", (json_int_t)(c->issued_at + c->ttl_s));
  if (h == NULL || p == NULL) goto cleanup;
  if (c->email != NULL &&
      json_object_set_new(p, "email", json_string(c->email)) != 0)
    goto cleanup;
  header = b64url_json(h);
  payload = b64url_json(p);
  if (header == NULL || payload == NULL) goto cleanup;
  size_t input_len = strlen(header) + 1 + strlen(payload);
  signing_input = malloc(input_len + 1);
  if (signing_input == NULL) goto cleanup;
  snprintf(signing_input, input_len + 1, "%s.%s", header, payload);

  size_t sig_len = 0;
  ctx = EVP_MD_CTX_new();
  if (ctx == NULL ||
      EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
      EVP_DigestSign(ctx, NULL, &sig_len, (const unsigned char *)signing_input,
                     input_len) != 1)
    goto cleanup;
  sig = malloc(sig_len);
  if (sig == NULL ||
      EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)signing_input,
                     input_len) != 1)
    goto cleanup;
  size_t sig_b64_size = sodium_base64_ENCODED_LEN(
      sig_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  token = malloc(input_len + 1 + sig_b64_size);
  if (token == NULL) goto cleanup;
  memcpy(token, signing_input, input_len);
  token[input_len] = '.';
  b64url_encode(sig, sig_len, token + input_len + 1, sig_b64_size);
  *out = token;
  token = NULL;
  rc = KIT_OK;
cleanup:
  EVP_MD_CTX_free(ctx);
  free(sig);
  free(token);
  free(signing_input);
  free(header);
  free(payload);
  json_decref(h);
  json_decref(p);
  return rc;
}

void opaque_token_new(char out[OPAQUE_TOKEN_LEN]) {
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  b64url_encode(raw, sizeof raw, out, OPAQUE_TOKEN_LEN);
  sodium_memzero(raw, sizeof raw);
}

void opaque_token_hash(const char *token, char out[TOKEN_HASH_LEN]) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, (const unsigned char *)token, strlen(token));
  sodium_bin2hex(out, TOKEN_HASH_LEN, digest, sizeof digest);
}

/* --- throttling ----------------------------------------------------------- */

bool login_throttled(long long account_failures, long long ip_failures,
                     int max_account, int max_ip) {
  return account_failures >= max_account || ip_failures >= max_ip;
}
