/* handlers.c - the auth service's public token handlers: JWKS, login,
 * refresh, logout; and the helpers every handler file shares (state.h).
 * Password reset is in handlers_reset.c, the internal routes in
 * handlers_internal.c. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit/auth.h"
#include "kit/bus.h"
#include "kit/json.h"
#include "kit/kv.h"
#include "kit/log.h"
#include "kit/uuid.h"
#include "services/auth/state.h"
#include "services/auth/store.h"

#define EMAIL_MAX 320
#define LOGIN_PASSWORD_MAX 1024 /* longer is not a password we issued */

/* --- small helpers ------------------------------------------------------ */

void auth_reply_json_take(struct http_response *res, unsigned status,
                          json_t *doc) {
  http_reply_json(res, status, doc);
  json_decref(doc);
}

static void lowercase(char *s) {
  for (; *s; s++)
    if (*s >= 'A' && *s <= 'Z') *s = (char)(*s - 'A' + 'a');
}

/* The client's address: the gateway appends the peer it saw to
 * X-Forwarded-For, so the last entry is the one a client cannot forge. */
static const char *client_address(struct http_request *req) {
  const char *xff = http_header(req, "X-Forwarded-For");
  if (xff != NULL && xff[0] != '\0') {
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ')
      last++;
    if (*last != '\0') return last;
  }
  return req->client_ip && req->client_ip[0] ? req->client_ip : "local";
}

const char *auth_login_failure_key(struct arena *arena, const char *email) {
  return arena_printf(arena, "auth:login-failures:account:%s", email);
}

int auth_kv_set_ex(struct kv_pool *kv, const char *key, const char *value,
                   int ttl_s) {
  char ttl[16];
  snprintf(ttl, sizeof ttl, "%d", ttl_s > 0 ? ttl_s : 1);
  const char *argv[] = {"SET", key, value, "EX", ttl};
  struct kv_reply *r = NULL;
  int rc = kv_command(kv, &r, 5, argv, NULL);
  if (rc == KIT_OK && r != NULL && r->type == KV_ERROR) rc = KIT_ERROR;
  kv_reply_free(r);
  return rc;
}

/* Every access token of user minted until now stops working (suspension,
 * role change, password change): the verifier compares the jti's time. */
int auth_revoke_user_tokens(struct service *svc, const char *user_id) {
  char key[96], now[32];
  snprintf(key, sizeof key, "%s%s", AUTH_REVOKED_PREFIX, user_id);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(now, sizeof now, "%lld",
           (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
  return auth_kv_set_ex(svc->kv, key, now,
                        svc->cfg->access_token_ttl_s + 2 * AUTH_CLOCK_SKEW_S);
}

/* The access tokens of one session (refresh family) stop working. */
int auth_revoke_session_tokens(struct service *svc, const char *family_id) {
  char key[96];
  snprintf(key, sizeof key, "%s%s", AUTH_SESSION_DENY_PREFIX, family_id);
  return auth_kv_set_ex(svc->kv, key, "1",
                        svc->cfg->access_token_ttl_s + 2 * AUTH_CLOCK_SKEW_S);
}

/* --- JWKS ----------------------------------------------------------------- */

void auth_handle_jwks(struct http_request *req, struct http_response *res) {
  struct auth_state *st = req->svc->state;
  json_t *doc = keyring_jwks(&st->keyring);
  if (doc == NULL || json_array_size(json_object_get(doc, "keys")) == 0) {
    json_decref(doc);
    http_reply_error(res, req, API_SERVICE_UNAVAILABLE,
                     "signing keys are not loaded yet", NULL);
    return;
  }
  auth_reply_json_take(res, 200, doc);
  http_response_header(res, "Cache-Control", "public, max-age=300");
}

/* --- issuing tokens ------------------------------------------------------- */

/* Mints an access token and a refresh token of family_id for user and
 * answers 200 with them. */
static void reply_tokens(struct http_request *req, struct http_response *res,
                         const char *user_id, const char *email,
                         const char *role, const char *family_id,
                         const char *refresh_token) {
  struct service *svc = req->svc;
  struct auth_state *st = svc->state;
  char kid[40], jti[UUID_STR_LEN];
  EVP_PKEY *key = keyring_signer(&st->keyring, kid);
  if (key == NULL) {
    http_reply_error(res, req, API_SERVICE_UNAVAILABLE,
                     "signing keys are not loaded yet", NULL);
    return;
  }
  uuid_v7(jti);
  struct access_claims claims = {
      .issuer = svc->cfg->jwt_issuer,
      .audience = svc->cfg->jwt_audience,
      .user_id = user_id,
      .role = role,
      .jti = jti,
      .session_id = family_id,
      .email = email,
      .issued_at = (int64_t)time(NULL),
      .ttl_s = svc->cfg->access_token_ttl_s,
  };
  char *access = NULL;
  int rc = jwt_sign_rs256(key, kid, &claims, &access);
  EVP_PKEY_free(key);
  if (rc != KIT_OK) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "internal error", NULL);
    return;
  }
  json_t *doc = json_pack(
      "{s:s, s:s, s:s, s:i, s:i, s:{s:s, s:s}}", "access_token", access,
      "refresh_token", refresh_token, "token_type", "Bearer", "expires_in",
      svc->cfg->access_token_ttl_s, "refresh_expires_in",
      svc->cfg->refresh_token_ttl_s, "user", "id", user_id, "role", role);
  free(access);
  auth_reply_json_take(res, 200, doc);
  http_response_header(res, "Cache-Control", "no-store");
}

/* --- login ---------------------------------------------------------------- */

static int count_failure(struct kv_pool *kv, const char *account_key,
                         const char *ip_key) {
  char window[16];
  snprintf(window, sizeof window, "%d", LOGIN_FAILURE_WINDOW_S);
  const char *a1[] = {"INCR", account_key};
  const char *a2[] = {"EXPIRE", account_key, window};
  const char *a3[] = {"INCR", ip_key};
  const char *a4[] = {"EXPIRE", ip_key, window};
  const char *const *argvs[] = {a1, a2, a3, a4};
  const int argcs[] = {2, 3, 2, 3};
  struct kv_reply *out[4] = {NULL};
  int rc = kv_pipeline(kv, 4, argcs, argvs, out);
  for (int i = 0; i < 4; i++)
    kv_reply_free(out[i]);
  return rc;
}

static long long reply_count(const struct kv_reply *r) {
  if (r == NULL || r->type != KV_STRING) return 0;
  return strtoll(r->str, NULL, 10);
}

void auth_handle_login(struct http_request *req, struct http_response *res) {
  struct service *svc = req->svc;
  struct auth_state *st = svc->state;
  const char *email_in = NULL, *password = NULL;
  struct credential cred;
  memset(&cred, 0, sizeof cred);
  struct json_field fields[] = {
      {.name = "email",
       .type = JF_STRING,
       .required = true,
       .min = 1,
       .max = EMAIL_MAX,
       .out = &email_in},
      {.name = "password",
       .type = JF_STRING,
       .required = true,
       .min = 1,
       .max = LOGIN_PASSWORD_MAX,
       .out = &password},
  };
  struct json_doc *doc = NULL;
  if (!http_read_body(req, res, fields, 2, true, &doc)) goto cleanup;
  char *email = arena_strdup(req->arena, email_in);
  if (email == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "internal error", NULL);
    goto cleanup;
  }
  lowercase(email);

  /* Throttle first: once an account or an address failed too often, no
   * more guesses are checked, right or wrong. */
  const char *account_key = auth_login_failure_key(req->arena, email);
  const char *ip_key = arena_printf(req->arena, "auth:login-failures:ip:%s",
                                    client_address(req));
  if (account_key == NULL || ip_key == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "internal error", NULL);
    goto cleanup;
  }
  const char *mget[] = {"MGET", account_key, ip_key};
  struct kv_reply *counts = NULL;
  if (kv_command(svc->kv, &counts, 3, mget, NULL) != KIT_OK ||
      counts->type != KV_ARRAY || counts->count != 2) {
    kv_reply_free(counts);
    http_reply_error(res, req, API_SERVICE_UNAVAILABLE,
                     "login is unavailable; retry shortly", NULL);
    goto cleanup;
  }
  bool throttled = login_throttled(
      reply_count(&counts->elements[0]), reply_count(&counts->elements[1]),
      svc->cfg->login_max_failures, svc->cfg->login_max_ip_failures);
  kv_reply_free(counts);
  if (throttled) {
    char retry[16];
    snprintf(retry, sizeof retry, "%d", LOGIN_FAILURE_WINDOW_S);
    http_reply_error(res, req, API_RATE_LIMITED,
                     "too many failed logins; try again later", NULL);
    http_response_header(res, "Retry-After", retry);
    goto cleanup;
  }

  struct db_conn *conn = db_acquire(svc->db, 2000);
  if (conn == NULL) {
    http_reply_db_error(res, req, DB_UNAVAILABLE);
    goto cleanup;
  }
  int rc = store_credential_by_email(conn, email, &cred);
  db_release(svc->db, conn);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    goto cleanup;
  }
  /* An unknown e-mail costs one hash too, and gets the same answer. */
  bool ok = password_verify(rc == 1 ? cred.password_hash : st->dummy_hash,
                            password) &&
            rc == 1;
  if (!ok) {
    if (count_failure(svc->kv, account_key, ip_key) != KIT_OK)
      log_warn("cannot count a failed login");
    http_reply_error(res, req, API_AUTHENTICATION_ERROR,
                     "invalid email or password", NULL);
    goto cleanup;
  }
  if (strcmp(cred.status, "active") != 0) {
    http_reply_error(res, req, API_AUTHORIZATION_ERROR,
                     "this account is suspended", NULL);
    goto cleanup;
  }
  const char *del[] = {"DEL", account_key};
  struct kv_reply *ignored = NULL;
  kv_command(svc->kv, &ignored, 2, del, NULL);
  kv_reply_free(ignored);

  conn = db_acquire(svc->db, 2000);
  if (conn == NULL) {
    http_reply_db_error(res, req, DB_UNAVAILABLE);
    goto cleanup;
  }
  if (password_needs_rehash(cred.password_hash, &st->hash)) {
    char fresh[crypto_pwhash_STRBYTES];
    if (password_hash(password, &st->hash, fresh) == KIT_OK &&
        store_credential_set_hash(conn, cred.user_id, fresh) >= 0)
      log_info("password of %s rehashed with the current parameters",
               cred.user_id);
  }
  char family[UUID_STR_LEN], refresh[OPAQUE_TOKEN_LEN],
      refresh_hash[TOKEN_HASH_LEN];
  uuid_v7(family);
  opaque_token_new(refresh);
  opaque_token_hash(refresh, refresh_hash);
  rc = store_refresh_insert(conn, refresh_hash, family, cred.user_id,
                            svc->cfg->refresh_token_ttl_s);
  db_release(svc->db, conn);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    goto cleanup;
  }
  reply_tokens(req, res, cred.user_id, cred.email, cred.role, family, refresh);
cleanup:
  sodium_memzero(cred.password_hash, sizeof cred.password_hash);
  json_doc_free(doc);
}

/* --- refresh -------------------------------------------------------------- */

enum refresh_outcome {
  REFRESH_ROTATED,
  REFRESH_UNKNOWN,
  REFRESH_REUSED, /* an already rotated token: the family is revoked */
  REFRESH_REVOKED,
  REFRESH_EXPIRED,
  REFRESH_INACTIVE, /* the account is suspended */
};

struct refresh_tx {
  const char *hash;
  int ttl_s;
  char new_token[OPAQUE_TOKEN_LEN];
  char new_hash[TOKEN_HASH_LEN];
  struct refresh_row row;
  enum refresh_outcome outcome;
};

static int refresh_body(struct db_conn *conn, void *arg) {
  struct refresh_tx *t = arg;
  memset(&t->row, 0, sizeof t->row);
  int rc = store_refresh_get(conn, t->hash, &t->row);
  if (rc < 0) return rc;
  if (rc == 0) {
    t->outcome = REFRESH_UNKNOWN;
    return 0;
  }
  if (t->row.revoked) {
    t->outcome = REFRESH_REVOKED;
    return 0;
  }
  if (t->row.used || strcmp(t->row.status, "active") != 0) {
    t->outcome = t->row.used ? REFRESH_REUSED : REFRESH_INACTIVE;
    return store_refresh_revoke_family(conn, t->row.family_id);
  }
  if (t->row.expired) {
    t->outcome = REFRESH_EXPIRED;
    return 0;
  }
  rc = store_refresh_mark_used(conn, t->hash);
  if (rc < 0) return rc;
  opaque_token_new(t->new_token);
  opaque_token_hash(t->new_token, t->new_hash);
  rc = store_refresh_insert(conn, t->new_hash, t->row.family_id, t->row.user_id,
                            t->ttl_s);
  if (rc < 0) return rc;
  t->outcome = REFRESH_ROTATED;
  return rc;
}

void auth_handle_refresh(struct http_request *req, struct http_response *res) {
  struct service *svc = req->svc;
  const char *token = NULL;
  struct json_field fields[] = {
      {.name = "refresh_token",
       .type = JF_STRING,
       .required = true,
       .min = 1,
       .max = 256,
       .out = &token},
  };
  struct json_doc *doc = NULL;
  if (!http_read_body(req, res, fields, 1, true, &doc)) goto cleanup;
  char hash[TOKEN_HASH_LEN];
  opaque_token_hash(token, hash);
  struct refresh_tx t = {.hash = hash, .ttl_s = svc->cfg->refresh_token_ttl_s};
  int rc = db_transaction(svc->db, DB_READ_COMMITTED, refresh_body, &t);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    goto cleanup;
  }
  if (t.outcome == REFRESH_REUSED || t.outcome == REFRESH_INACTIVE) {
    if (t.outcome == REFRESH_REUSED)
      log_warn("refresh token reused: session %s of user %s revoked",
               t.row.family_id, t.row.user_id);
    if (auth_revoke_session_tokens(svc, t.row.family_id) != KIT_OK)
      log_error("cannot revoke the access tokens of session %s",
                t.row.family_id);
  }
  if (t.outcome != REFRESH_ROTATED) {
    http_reply_error(res, req, API_AUTHENTICATION_ERROR,
                     "the refresh token is invalid, expired or revoked", NULL);
    goto cleanup;
  }
  reply_tokens(req, res, t.row.user_id, t.row.email, t.row.role,
               t.row.family_id, t.new_token);
cleanup:
  json_doc_free(doc);
}

/* --- logout --------------------------------------------------------------- */

struct logout_tx {
  const char *user_id;      /* "" for a caller without an access token */
  const char *session_id;   /* from the access token, may be "" */
  const char *refresh_hash; /* from the body, may be NULL */
  char other_family[40];    /* family of the given refresh token */
  bool refresh_known;
};

static int logout_body(struct db_conn *conn, void *arg) {
  struct logout_tx *t = arg;
  t->other_family[0] = '\0';
  t->refresh_known = false;
  if (t->session_id[0] != '\0') {
    int rc = store_refresh_revoke_family(conn, t->session_id);
    if (rc < 0) return rc;
  }
  if (t->refresh_hash != NULL) {
    struct refresh_row row;
    memset(&row, 0, sizeof row);
    int rc = store_refresh_get(conn, t->refresh_hash, &row);
    if (rc < 0) return rc;
    /* Holding a refresh token proves the session; with an access token too,
     * only the caller's own sessions are ended. */
    if (rc == 1 &&
        (t->user_id[0] == '\0' || strcmp(row.user_id, t->user_id) == 0)) {
      t->refresh_known = true;
      snprintf(t->other_family, sizeof t->other_family, "%s", row.family_id);
      return store_refresh_revoke_family(conn, row.family_id);
    }
  }
  return 0;
}

/* POST /auth/logout: with an access token, ends its session (the token
 * itself is denylisted at once); with {refresh_token}, ends that token's
 * session. At least one of the two is needed. */
void auth_handle_logout(struct http_request *req, struct http_response *res) {
  struct service *svc = req->svc;
  const struct principal *who = auth_principal(req);
  const char *refresh = NULL;
  struct json_doc *doc = NULL;
  struct json_field fields[] = {
      {.name = "refresh_token",
       .type = JF_STRING,
       .min = 1,
       .max = 256,
       .out = &refresh},
  };
  if (req->body_len > 0 && !http_read_body(req, res, fields, 1, true, &doc))
    goto cleanup;
  if (!who->authenticated && refresh == NULL) {
    http_reply_error(res, req, API_AUTHENTICATION_ERROR,
                     "an access token or a refresh_token is required", NULL);
    goto cleanup;
  }
  char hash[TOKEN_HASH_LEN];
  if (refresh != NULL) opaque_token_hash(refresh, hash);
  struct logout_tx t = {.user_id = who->user_id,
                        .session_id = who->session_id,
                        .refresh_hash = refresh ? hash : NULL};
  int rc = db_transaction(svc->db, DB_READ_COMMITTED, logout_body, &t);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    goto cleanup;
  }
  if (!who->authenticated && !t.refresh_known) {
    http_reply_error(res, req, API_AUTHENTICATION_ERROR,
                     "the refresh token is invalid, expired or revoked", NULL);
    goto cleanup;
  }
  /* The access tokens die now, not in up to 15 minutes. */
  bool recorded = true;
  if (who->authenticated) {
    char key[96];
    snprintf(key, sizeof key, "%s%s", AUTH_DENY_PREFIX, who->jti);
    int ttl = (int)(who->exp - (int64_t)time(NULL)) + AUTH_CLOCK_SKEW_S;
    if (auth_kv_set_ex(svc->kv, key, "1", ttl) != KIT_OK) recorded = false;
    if (who->session_id[0] != '\0' &&
        auth_revoke_session_tokens(svc, who->session_id) != KIT_OK)
      recorded = false;
  }
  if (t.other_family[0] != '\0' &&
      auth_revoke_session_tokens(svc, t.other_family) != KIT_OK)
    recorded = false;
  if (!recorded) {
    http_reply_error(res, req, API_SERVICE_UNAVAILABLE,
                     "logout could not be recorded; retry", NULL);
    goto cleanup;
  }
  http_reply(res, 204, "application/json", "", 0);
cleanup:
  json_doc_free(doc);
}
