/* auth.c - who is calling: RS256 access-token verification for every service.
 *
 * Tokens are checked with OpenSSL's EVP interface directly (no JWT library):
 * the format we accept is narrow on purpose - a compact JWS of three
 * base64url parts whose header says exactly {"alg":"RS256","kid":...}. That
 * pins the algorithm before any key is touched, so `alg: none` and HS256
 * signed with the public key are refused by construction.
 *
 * Public keys come from the auth service's JWKS (GET /.well-known/jwks.json)
 * through the process client: in-process when the auth service is co-hosted,
 * HTTP otherwise. auth_init runs before any server listens, so the first
 * fetch happens lazily on the first verification; an unknown `kid` triggers a
 * refetch (at most one every JWKS_MIN_REFETCH_MS), and the set is refreshed
 * when older than JWKS_MAX_AGE_MS so retired keys stop verifying.
 *
 * Revocation lives in Redis (AUTH_DENY_PREFIX, AUTH_REVOKED_PREFIX in
 * auth.h); the verifier has its own small pool from cfg->redis_url. When
 * Redis is unreachable a token cannot be cleared, so it is refused with 503
 * (fail closed) rather than accepted.
 */
#include "kit/auth.h"

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "kit/client.h"
#include "kit/config.h"
#include "kit/kv.h"
#include "kit/log.h"
#include "kit/uuid.h"

#define JWKS_MAX_KEYS 8
#define JWKS_MIN_REFETCH_MS 2000
#define JWKS_MAX_AGE_MS (10 * 60 * 1000)
#define TOKEN_MAX_LEN 8192

struct cached_key {
  char kid[64];
  EVP_PKEY *pkey;
};

/* The process-wide verifier. Configuration is written once by auth_init;
 * the key set is guarded by `lock`, fetching by `fetch_lock` (never held
 * while `lock` is taken the other way round). */
static struct {
  bool ready;
  const struct config *cfg;
  struct client *client;
  struct kv_pool *kv;
  pthread_mutex_t lock;
  struct cached_key keys[JWKS_MAX_KEYS];
  size_t key_count;
  int64_t fetched_at_ms; /* last successful fetch, 0 = never */
  pthread_mutex_t fetch_lock;
  int64_t attempted_at_ms; /* last attempt, success or not */
} verifier = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .fetch_lock = PTHREAD_MUTEX_INITIALIZER,
};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_why(char *why, size_t why_size, const char *reason) {
  if (why_size > 0) snprintf(why, why_size, "%s", reason);
}

/* --- decoding --------------------------------------------------------- */

/* Decodes base64url without padding into a malloc'd buffer (NUL-terminated
 * for convenience); NULL when malformed. */
static unsigned char *b64url_decode(const char *s, size_t n, size_t *out_len) {
  size_t cap = n * 3 / 4 + 2;
  unsigned char *buf = malloc(cap);
  if (buf == NULL) return NULL;
  size_t len = 0;
  const char *end = NULL;
  if (sodium_base642bin(buf, cap - 1, s, n, NULL, &len, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != s + n) {
    free(buf);
    return NULL;
  }
  buf[len] = '\0';
  *out_len = len;
  return buf;
}

static json_t *b64url_json(const char *s, size_t n) {
  size_t len = 0;
  unsigned char *raw = b64url_decode(s, n, &len);
  if (raw == NULL) return NULL;
  json_t *doc =
      json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, NULL);
  free(raw);
  if (doc != NULL && !json_is_object(doc)) {
    json_decref(doc);
    return NULL;
  }
  return doc;
}

struct jws_parts {
  const char *header;
  size_t header_len;
  const char *payload;
  size_t payload_len;
  const char *sig;
  size_t sig_len;
  size_t signed_len; /* header '.' payload */
};

static bool split_token(const char *token, struct jws_parts *p) {
  size_t len = strnlen(token, TOKEN_MAX_LEN + 1);
  if (len == 0 || len > TOKEN_MAX_LEN) return false;
  const char *dot1 = memchr(token, '.', len);
  if (dot1 == NULL) return false;
  const char *dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
  if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
    return false;
  p->header = token;
  p->header_len = (size_t)(dot1 - token);
  p->payload = dot1 + 1;
  p->payload_len = (size_t)(dot2 - dot1 - 1);
  p->sig = dot2 + 1;
  p->sig_len = len - (size_t)(dot2 + 1 - token);
  p->signed_len = (size_t)(dot2 - token);
  return p->header_len > 0 && p->payload_len > 0 && p->sig_len > 0;
}

/* The header must be exactly RS256 with a kid; anything the verifier would
 * have to understand (crit, jku, x5u, jwk) is refused rather than ignored. */
static int read_header(const struct jws_parts *p, char kid[64], char *why,
                       size_t why_size) {
  json_t *h = b64url_json(p->header, p->header_len);
  if (h == NULL) {
    set_why(why, why_size, "malformed header");
    return KIT_INVALID;
  }
  int rc = KIT_INVALID;
  const char *alg = json_string_value(json_object_get(h, "alg"));
  const char *k = json_string_value(json_object_get(h, "kid"));
  json_t *typ = json_object_get(h, "typ");
  if (alg == NULL || strcmp(alg, "RS256") != 0) {
    set_why(why, why_size, "algorithm is not RS256");
  } else if (k == NULL || k[0] == '\0' || strlen(k) >= 64) {
    set_why(why, why_size, "missing kid");
  } else if (typ != NULL && (!json_is_string(typ) ||
                             strcasecmp(json_string_value(typ), "JWT") != 0)) {
    set_why(why, why_size, "unexpected typ");
  } else if (json_object_get(h, "crit") || json_object_get(h, "jku") ||
             json_object_get(h, "x5u") || json_object_get(h, "jwk")) {
    set_why(why, why_size, "unsupported header parameter");
  } else {
    snprintf(kid, 64, "%s", k);
    rc = KIT_OK;
  }
  json_decref(h);
  return rc;
}

static bool signature_ok(EVP_PKEY *key, const struct jws_parts *p) {
  size_t sig_len = 0;
  unsigned char *sig = b64url_decode(p->sig, p->sig_len, &sig_len);
  if (sig == NULL) return false;
  bool ok = false;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (ctx != NULL &&
      EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
      EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)p->header,
                       p->signed_len) == 1)
    ok = true;
  EVP_MD_CTX_free(ctx);
  free(sig);
  return ok;
}

static bool aud_matches(json_t *aud, const char *want) {
  if (json_is_string(aud)) return strcmp(json_string_value(aud), want) == 0;
  if (!json_is_array(aud)) return false;
  size_t i;
  json_t *v;
  json_array_foreach(aud, i, v) {
    if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
      return true;
  }
  return false;
}

static bool role_known(const char *role) {
  return strcmp(role, "customer") == 0 || strcmp(role, "admin") == 0 ||
         strcmp(role, "moderator") == 0;
}

static int check_claims(const struct jws_parts *p,
                        const struct auth_claims_rules *rules,
                        struct principal *out, char *why, size_t why_size) {
  json_t *c = b64url_json(p->payload, p->payload_len);
  if (c == NULL) {
    set_why(why, why_size, "malformed payload");
    return KIT_INVALID;
  }
  int rc = KIT_INVALID;
  const char *iss = json_string_value(json_object_get(c, "iss"));
  const char *sub = json_string_value(json_object_get(c, "sub"));
  const char *role = json_string_value(json_object_get(c, "role"));
  const char *jti = json_string_value(json_object_get(c, "jti"));
  const char *sid = json_string_value(json_object_get(c, "sid"));
  const char *email = json_string_value(json_object_get(c, "email"));
  json_t *exp = json_object_get(c, "exp");
  json_t *nbf = json_object_get(c, "nbf");
  json_t *iat = json_object_get(c, "iat");

  if (iss == NULL || strcmp(iss, rules->issuer) != 0) {
    set_why(why, why_size, "wrong issuer");
  } else if (!aud_matches(json_object_get(c, "aud"), rules->audience)) {
    set_why(why, why_size, "wrong audience");
  } else if (!json_is_integer(exp) ||
             json_integer_value(exp) < rules->now - AUTH_CLOCK_SKEW_S) {
    set_why(why, why_size, "expired");
  } else if (nbf != NULL &&
             (!json_is_integer(nbf) ||
              json_integer_value(nbf) > rules->now + AUTH_CLOCK_SKEW_S)) {
    set_why(why, why_size, "not yet valid");
  } else if (!json_is_integer(iat) ||
             json_integer_value(iat) > rules->now + AUTH_CLOCK_SKEW_S) {
    set_why(why, why_size, "bad iat");
  } else if (sub == NULL || !uuid_valid(sub) ||
             strlen(sub) >= sizeof out->user_id) {
    set_why(why, why_size, "bad sub");
  } else if (role == NULL || !role_known(role)) {
    set_why(why, why_size, "bad role");
  } else if (jti == NULL || jti[0] == '\0' || strlen(jti) >= sizeof out->jti) {
    set_why(why, why_size, "bad jti");
  } else if (sid != NULL && strlen(sid) >= sizeof out->session_id) {
    set_why(why, why_size, "bad sid");
  } else {
    memset(out, 0, sizeof *out);
    out->authenticated = true;
    snprintf(out->user_id, sizeof out->user_id, "%s", sub);
    snprintf(out->role, sizeof out->role, "%s", role);
    snprintf(out->jti, sizeof out->jti, "%s", jti);
    snprintf(out->session_id, sizeof out->session_id, "%s", sid ? sid : "");
    if (email != NULL && strlen(email) < sizeof out->email)
      snprintf(out->email, sizeof out->email, "%s", email);
    out->exp = json_integer_value(exp);
    out->iat = json_integer_value(iat);
    rc = KIT_OK;
  }
  json_decref(c);
  return rc;
}

int64_t auth_uuid7_ms(const char *s) {
  if (s == NULL || !uuid_valid(s) || s[14] != '7') return -1;
  int64_t ms = 0;
  int digits = 0;
  for (const char *p = s; *p != '\0' && digits < 12; p++) {
    if (*p == '-') continue;
    int v = *p >= '0' && *p <= '9'   ? *p - '0'
            : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
            : *p >= 'A' && *p <= 'F' ? *p - 'A' + 10
                                     : -1;
    if (v < 0) return -1;
    ms = ms * 16 + v;
    digits++;
  }
  return ms;
}

int auth_verify_with_key(const char *token, const char *kid,
                         const char *public_pem,
                         const struct auth_claims_rules *rules,
                         struct principal *out, char *why, size_t why_size) {
  memset(out, 0, sizeof *out);
  set_why(why, why_size, "");
  if (sodium_init() < 0) return KIT_ERROR;
  struct jws_parts parts;
  char header_kid[64];
  if (token == NULL || !split_token(token, &parts)) {
    set_why(why, why_size, "not a compact JWS");
    return KIT_INVALID;
  }
  if (read_header(&parts, header_kid, why, why_size) != KIT_OK)
    return KIT_INVALID;
  if (strcmp(header_kid, kid) != 0) {
    set_why(why, why_size, "unknown kid");
    return KIT_INVALID;
  }
  BIO *bio = BIO_new_mem_buf(public_pem, -1);
  EVP_PKEY *key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
  BIO_free(bio);
  if (key == NULL) {
    set_why(why, why_size, "bad public key");
    return KIT_ERROR;
  }
  int rc = KIT_INVALID;
  if (!signature_ok(key, &parts))
    set_why(why, why_size, "bad signature");
  else
    rc = check_claims(&parts, rules, out, why, why_size);
  EVP_PKEY_free(key);
  return rc;
}

/* --- the JWKS cache --------------------------------------------------- */

static BIGNUM *b64url_bn(const char *s) {
  if (s == NULL) return NULL;
  size_t len = 0;
  unsigned char *raw = b64url_decode(s, strlen(s), &len);
  if (raw == NULL) return NULL;
  BIGNUM *bn = len > 0 ? BN_bin2bn(raw, (int)len, NULL) : NULL;
  free(raw);
  return bn;
}

static EVP_PKEY *rsa_from_jwk(const char *n_b64, const char *e_b64) {
  EVP_PKEY *pkey = NULL;
  BIGNUM *n = b64url_bn(n_b64), *e = b64url_bn(e_b64);
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *ctx = NULL;
  if (n == NULL || e == NULL || bld == NULL) goto cleanup;
  if (BN_num_bits(n) < 2048) goto cleanup; /* weak keys are not keys */
  if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
      !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
    goto cleanup;
  params = OSSL_PARAM_BLD_to_param(bld);
  ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
  if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
      EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    pkey = NULL;
cleanup:
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(n);
  BN_free(e);
  return pkey;
}

/* Parses a JWKS document into keys (up to JWKS_MAX_KEYS RSA signing keys);
 * returns how many. */
static size_t parse_jwks(const char *body, size_t len,
                         struct cached_key keys[JWKS_MAX_KEYS]) {
  json_t *doc = json_loadb(body, len, 0, NULL);
  json_t *arr = doc ? json_object_get(doc, "keys") : NULL;
  size_t count = 0, i;
  json_t *k;
  if (json_is_array(arr)) {
    json_array_foreach(arr, i, k) {
      if (count == JWKS_MAX_KEYS) break;
      const char *kty = json_string_value(json_object_get(k, "kty"));
      const char *alg = json_string_value(json_object_get(k, "alg"));
      const char *use = json_string_value(json_object_get(k, "use"));
      const char *kid = json_string_value(json_object_get(k, "kid"));
      if (kty == NULL || strcmp(kty, "RSA") != 0 || kid == NULL ||
          strlen(kid) >= sizeof keys[0].kid)
        continue;
      if ((alg != NULL && strcmp(alg, "RS256") != 0) ||
          (use != NULL && strcmp(use, "sig") != 0))
        continue;
      EVP_PKEY *pkey = rsa_from_jwk(json_string_value(json_object_get(k, "n")),
                                    json_string_value(json_object_get(k, "e")));
      if (pkey == NULL) continue;
      snprintf(keys[count].kid, sizeof keys[count].kid, "%s", kid);
      keys[count].pkey = pkey;
      count++;
    }
  }
  json_decref(doc);
  return count;
}

size_t auth_jwks_usable_keys(const char *body, size_t len) {
  struct cached_key keys[JWKS_MAX_KEYS];
  size_t count = parse_jwks(body, len, keys);
  for (size_t i = 0; i < count; i++)
    EVP_PKEY_free(keys[i].pkey);
  return count;
}

/* Fetches the JWKS and replaces the cache. Called with fetch_lock held. */
static int fetch_jwks(void) {
  verifier.attempted_at_ms = now_ms();
  struct client_request req = {.method = "GET",
                               .path = "/.well-known/jwks.json",
                               .retries = -1,
                               .timeout_ms = 2000};
  struct http_response res;
  int rc = client_call(verifier.client, SVC_AUTH, &req, &res);
  if (rc != KIT_OK || res.status != 200) {
    log_warn("cannot fetch the JWKS from the auth service (status %u)",
             res.status);
    http_response_clear(&res);
    return KIT_UNAVAILABLE;
  }
  struct cached_key fresh[JWKS_MAX_KEYS];
  memset(fresh, 0, sizeof fresh);
  size_t count = parse_jwks(res.body, res.body_len, fresh);
  http_response_clear(&res);
  if (count == 0) {
    log_warn("the JWKS from the auth service holds no usable key");
    return KIT_UNAVAILABLE;
  }
  struct cached_key old[JWKS_MAX_KEYS];
  pthread_mutex_lock(&verifier.lock);
  size_t old_count = verifier.key_count;
  memcpy(old, verifier.keys, sizeof old);
  memcpy(verifier.keys, fresh, sizeof fresh);
  verifier.key_count = count;
  verifier.fetched_at_ms = now_ms();
  pthread_mutex_unlock(&verifier.lock);
  for (size_t i = 0; i < old_count; i++)
    EVP_PKEY_free(old[i].pkey);
  log_info("JWKS loaded: %zu key(s)", count);
  return KIT_OK;
}

/* A reference to the key named kid (caller frees with EVP_PKEY_free), or
 * NULL; *stale tells whether the set is due for a refresh. */
static EVP_PKEY *cached_key(const char *kid, bool *stale) {
  EVP_PKEY *found = NULL;
  pthread_mutex_lock(&verifier.lock);
  for (size_t i = 0; i < verifier.key_count; i++) {
    if (strcmp(verifier.keys[i].kid, kid) == 0) {
      if (EVP_PKEY_up_ref(verifier.keys[i].pkey) == 1)
        found = verifier.keys[i].pkey;
      break;
    }
  }
  *stale = verifier.fetched_at_ms == 0 ||
           now_ms() - verifier.fetched_at_ms > JWKS_MAX_AGE_MS;
  pthread_mutex_unlock(&verifier.lock);
  return found;
}

/* The key for kid, fetching the JWKS when it is unknown or the set is old
 * (rate-limited). NULL with *unavailable set when no JWKS could be had. */
static EVP_PKEY *key_for(const char *kid, bool *unavailable) {
  bool stale = false;
  *unavailable = false;
  EVP_PKEY *key = cached_key(kid, &stale);
  if (key != NULL && !stale) return key;
  pthread_mutex_lock(&verifier.fetch_lock);
  int64_t since = now_ms() - verifier.attempted_at_ms;
  if (verifier.attempted_at_ms == 0 || since >= JWKS_MIN_REFETCH_MS) {
    bool had_any = verifier.fetched_at_ms != 0;
    if (fetch_jwks() != KIT_OK && !had_any) *unavailable = true;
  } else if (verifier.fetched_at_ms == 0) {
    *unavailable = true;
  }
  pthread_mutex_unlock(&verifier.fetch_lock);
  if (key != NULL) return key; /* a stale set still knows this key */
  return cached_key(kid, &stale);
}

/* --- revocation ------------------------------------------------------- */

static int check_revocation(const struct principal *p, char *why,
                            size_t why_size) {
  char deny_key[96], revoked_key[96], session_key[96];
  snprintf(deny_key, sizeof deny_key, "%s%s", AUTH_DENY_PREFIX, p->jti);
  snprintf(revoked_key, sizeof revoked_key, "%s%s", AUTH_REVOKED_PREFIX,
           p->user_id);
  snprintf(session_key, sizeof session_key, "%s%s", AUTH_SESSION_DENY_PREFIX,
           p->session_id[0] ? p->session_id : "-");
  const char *exists_argv[] = {"EXISTS", deny_key, session_key};
  const char *get_argv[] = {"GET", revoked_key};
  const char *const *argvs[] = {exists_argv, get_argv};
  const int argcs[] = {3, 2};
  struct kv_reply *replies[2] = {NULL, NULL};
  int rc = kv_pipeline(verifier.kv, 2, argcs, argvs, replies);
  if (rc != KIT_OK) {
    set_why(why, why_size, "revocation list unreachable");
    return KIT_UNAVAILABLE;
  }
  rc = KIT_OK;
  if (replies[0] == NULL || replies[0]->type == KV_ERROR ||
      replies[1] == NULL || replies[1]->type == KV_ERROR) {
    set_why(why, why_size, "revocation list error");
    rc = KIT_UNAVAILABLE;
  } else if (replies[0]->type == KV_INTEGER && replies[0]->integer > 0) {
    set_why(why, why_size, "token or session revoked");
    rc = KIT_INVALID;
  } else if (replies[1]->type == KV_STRING) {
    /* Tokens minted at or before the marker are revoked; the jti is a
     * UUIDv7, so its timestamp says when (to the millisecond). */
    long long before = strtoll(replies[1]->str, NULL, 10);
    int64_t minted = auth_uuid7_ms(p->jti);
    if (minted < 0) minted = p->iat * 1000;
    if (minted <= before) {
      set_why(why, why_size, "sessions of this user revoked");
      rc = KIT_INVALID;
    }
  }
  kv_reply_free(replies[0]);
  kv_reply_free(replies[1]);
  return rc;
}

/* --- the public interface --------------------------------------------- */

int auth_init(const struct config *cfg, struct client *client) {
  if (sodium_init() < 0) {
    log_error("libsodium failed to initialise");
    return KIT_ERROR;
  }
  verifier.cfg = cfg;
  verifier.client = client;
  if (kv_pool_open(&verifier.kv, cfg->redis_url, 4, 1000) != KIT_OK) {
    log_error("auth: cannot create the Redis pool of the token verifier");
    return KIT_ERROR;
  }
  if (cfg->internal_secret[0] == '\0')
    log_warn("SHOPSPHERE_INTERNAL_SECRET is unset: internal routes refuse "
             "callers over the network (in-process calls still work)");
  verifier.ready = true;
  return KIT_OK;
}

void auth_shutdown(void) {
  if (!verifier.ready) return;
  pthread_mutex_lock(&verifier.lock);
  for (size_t i = 0; i < verifier.key_count; i++)
    EVP_PKEY_free(verifier.keys[i].pkey);
  verifier.key_count = 0;
  verifier.fetched_at_ms = 0;
  verifier.attempted_at_ms = 0;
  pthread_mutex_unlock(&verifier.lock);
  kv_pool_close(verifier.kv);
  verifier.kv = NULL;
  verifier.ready = false;
}

int auth_verify_token(const char *token, struct principal *out, char *why,
                      size_t why_size) {
  memset(out, 0, sizeof *out);
  set_why(why, why_size, "");
  if (!verifier.ready) {
    set_why(why, why_size, "verifier not initialised");
    return KIT_UNAVAILABLE;
  }
  struct jws_parts parts;
  char kid[64];
  if (token == NULL || !split_token(token, &parts)) {
    set_why(why, why_size, "not a compact JWS");
    return KIT_INVALID;
  }
  if (read_header(&parts, kid, why, why_size) != KIT_OK) return KIT_INVALID;
  bool unavailable = false;
  EVP_PKEY *key = key_for(kid, &unavailable);
  if (key == NULL) {
    set_why(why, why_size, unavailable ? "JWKS unavailable" : "unknown kid");
    return unavailable ? KIT_UNAVAILABLE : KIT_INVALID;
  }
  bool good = signature_ok(key, &parts);
  EVP_PKEY_free(key);
  if (!good) {
    set_why(why, why_size, "bad signature");
    return KIT_INVALID;
  }
  struct auth_claims_rules rules = {.issuer = verifier.cfg->jwt_issuer,
                                    .audience = verifier.cfg->jwt_audience,
                                    .now = (int64_t)time(NULL)};
  int rc = check_claims(&parts, &rules, out, why, why_size);
  if (rc == KIT_OK) rc = check_revocation(out, why, why_size);
  if (rc != KIT_OK) memset(out, 0, sizeof *out);
  return rc;
}

static const struct principal anonymous;

/* A network caller of an internal route must present the shared secret;
 * in-process calls (no peer address) come from our own code. */
static bool internal_caller_ok(const struct http_request *req) {
  if (req->client_ip == NULL || req->client_ip[0] == '\0') return true;
  const char *secret = verifier.ready ? verifier.cfg->internal_secret : "";
  const char *given = http_header(req, AUTH_INTERNAL_HEADER);
  if (secret[0] == '\0') {
    log_warn("SHOPSPHERE_INTERNAL_SECRET is unset: refusing internal call");
    return false;
  }
  if (given == NULL) return false;
  size_t n = strlen(secret);
  return strlen(given) == n && sodium_memcmp(given, secret, n) == 0;
}

/* The token of an "Authorization: Bearer <token>" header, or NULL. */
static const char *bearer_token(const char *header) {
  if (strncasecmp(header, "Bearer ", 7) != 0) return NULL;
  header += 7;
  while (*header == ' ')
    header++;
  return *header != '\0' ? header : NULL;
}

enum api_error auth_authorize(struct http_request *req) {
  req->user = NULL;
  const char *header = http_header(req, "Authorization");
  if (req->access == ACCESS_INTERNAL) {
    if (!internal_caller_ok(req)) return API_AUTHORIZATION_ERROR;
    /* The user on whose behalf the call is made, when the caller forwarded
     * a valid token; internal routes never depend on one. */
    const char *token = header ? bearer_token(header) : NULL;
    struct principal *p = token ? arena_alloc(req->arena, sizeof *p) : NULL;
    char why[64];
    if (p != NULL && auth_verify_token(token, p, why, sizeof why) == KIT_OK)
      req->user = p;
    return API_OK;
  }
  if (header == NULL)
    return req->access == ACCESS_PUBLIC ? API_OK : API_AUTHENTICATION_ERROR;
  const char *token = bearer_token(header);
  if (token == NULL) return API_AUTHENTICATION_ERROR;
  struct principal *p = arena_alloc(req->arena, sizeof *p);
  if (p == NULL) return API_INTERNAL_ERROR;
  char why[64];
  int rc = auth_verify_token(token, p, why, sizeof why);
  if (rc == KIT_UNAVAILABLE) {
    log_warn("cannot verify an access token: %s", why);
    return API_SERVICE_UNAVAILABLE;
  }
  if (rc != KIT_OK) {
    log_info("access token refused: %s", why);
    return API_AUTHENTICATION_ERROR;
  }
  req->user = p;
  return auth_role_allows(p->role, req->access) ? API_OK
                                                : API_AUTHORIZATION_ERROR;
}

const struct principal *auth_principal(const struct http_request *req) {
  return req->user != NULL ? req->user : &anonymous;
}

bool auth_role_allows(const char *role, enum route_access access) {
  if (role == NULL) return access == ACCESS_PUBLIC;
  switch (access) {
  case ACCESS_PUBLIC:
    return true;
  case ACCESS_SIGNED_IN:
    return role_known(role);
  case ACCESS_ADMIN:
    return strcmp(role, "admin") == 0;
  case ACCESS_MODERATOR:
    return strcmp(role, "moderator") == 0 || strcmp(role, "admin") == 0;
  case ACCESS_INTERNAL:
    return false;
  }
  return false;
}

bool auth_is_admin(const struct http_request *req) {
  return strcmp(auth_principal(req)->role, "admin") == 0;
}
