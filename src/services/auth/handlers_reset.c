/* handlers_reset.c - password reset: request (202 always, token by event)
 * and confirm (single use, 30 minutes, ends every session). */
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

/* --- password reset --------------------------------------------------------
 */

struct reset_request_tx {
  const struct credential *cred;
  char token[OPAQUE_TOKEN_LEN];
  char expires_at[32];
};

static int reset_request_body(struct db_conn *conn, void *arg) {
  struct reset_request_tx *t = arg;
  char hash[TOKEN_HASH_LEN];
  opaque_token_new(t->token);
  opaque_token_hash(t->token, hash);
  int rc = store_reset_insert(conn, hash, t->cred->user_id, t->expires_at);
  if (rc < 0) return rc;
  json_t *data =
      json_pack("{s:s, s:s, s:s, s:s}", "user_id", t->cred->user_id, "email",
                t->cred->email, "token", t->token, "expires_at", t->expires_at);
  if (data == NULL) return DB_HARD_ERROR;
  rc = bus_emit(conn, "user.password_reset_requested", t->cred->user_id, data);
  json_decref(data);
  return rc;
}

void auth_handle_reset_request(struct http_request *req,
                               struct http_response *res) {
  struct service *svc = req->svc;
  const char *email_in = NULL;
  struct json_field fields[] = {
      {.name = "email",
       .type = JF_STRING,
       .required = true,
       .min = 1,
       .max = EMAIL_MAX,
       .out = &email_in},
  };
  struct json_doc *doc = NULL;
  if (!http_read_body(req, res, fields, 1, true, &doc)) goto cleanup;
  struct credential cred;
  memset(&cred, 0, sizeof cred);
  struct db_conn *conn = db_acquire(svc->db, 2000);
  if (conn == NULL) {
    http_reply_db_error(res, req, DB_UNAVAILABLE);
    goto cleanup;
  }
  int rc = store_credential_by_email(conn, email_in, &cred);
  db_release(svc->db, conn);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    goto cleanup;
  }
  if (rc == 1 && strcmp(cred.status, "active") == 0) {
    struct reset_request_tx t = {.cred = &cred};
    rc = db_transaction(svc->db, DB_READ_COMMITTED, reset_request_body, &t);
    sodium_memzero(t.token, sizeof t.token);
    if (rc < 0) log_error("password reset for %s not recorded", cred.user_id);
  }
  sodium_memzero(cred.password_hash, sizeof cred.password_hash);
  /* The same answer whether or not the account exists. */
  json_t *body = json_pack("{s:s}", "status", "accepted");
  auth_reply_json_take(res, 202, body);
cleanup:
  json_doc_free(doc);
}

enum confirm_outcome { CONFIRM_OK, CONFIRM_BAD_TOKEN, CONFIRM_WEAK };

struct reset_confirm_tx {
  const char *hash;
  const char *password;
  const struct hash_params *params;
  char user_id[40];
  enum confirm_outcome outcome;
  char why[128];
};

static int reset_confirm_body(struct db_conn *conn, void *arg) {
  struct reset_confirm_tx *t = arg;
  int rc = store_reset_take(conn, t->hash, t->user_id);
  if (rc < 0) return rc;
  if (rc == 0) {
    t->outcome = CONFIRM_BAD_TOKEN;
    return 0;
  }
  struct credential cred;
  memset(&cred, 0, sizeof cred);
  rc = store_credential_by_id(conn, t->user_id, &cred);
  if (rc < 0) return rc;
  if (rc == 0 || strcmp(cred.status, "active") != 0) {
    t->outcome = CONFIRM_BAD_TOKEN;
    return 0;
  }
  if (!password_policy_ok(t->password, cred.email, t->why, sizeof t->why)) {
    t->outcome = CONFIRM_WEAK;
    return DB_HARD_ERROR; /* roll back: the token stays usable */
  }
  char fresh[crypto_pwhash_STRBYTES];
  if (password_hash(t->password, t->params, fresh) != KIT_OK)
    return DB_HARD_ERROR;
  rc = store_credential_set_hash(conn, t->user_id, fresh);
  if (rc < 0) return rc;
  rc = store_reset_invalidate_user(conn, t->user_id);
  if (rc < 0) return rc;
  rc = store_refresh_revoke_user(conn, t->user_id);
  if (rc < 0) return rc;
  t->outcome = CONFIRM_OK;
  return 1;
}

void auth_handle_reset_confirm(struct http_request *req,
                               struct http_response *res) {
  struct service *svc = req->svc;
  struct auth_state *st = svc->state;
  const char *token = NULL, *password = NULL;
  struct json_field fields[] = {
      {.name = "token",
       .type = JF_STRING,
       .required = true,
       .min = 1,
       .max = 256,
       .out = &token},
      {.name = "new_password",
       .type = JF_STRING,
       .required = true,
       .min = 1,
       .max = PASSWORD_MAX_CHARS,
       .out = &password},
  };
  struct json_doc *doc = NULL;
  if (!http_read_body(req, res, fields, 2, true, &doc)) goto cleanup;
  char why[128];
  if (!password_policy_ok(password, NULL, why, sizeof why)) {
    http_reply_error(res, req, API_UNPROCESSABLE, why, "new_password");
    goto cleanup;
  }
  char hash[TOKEN_HASH_LEN];
  opaque_token_hash(token, hash);
  struct reset_confirm_tx t = {
      .hash = hash, .password = password, .params = &st->hash};
  int rc = db_transaction(svc->db, DB_READ_COMMITTED, reset_confirm_body, &t);
  if (t.outcome == CONFIRM_WEAK) {
    http_reply_error(res, req, API_UNPROCESSABLE, t.why, "new_password");
    goto cleanup;
  }
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    goto cleanup;
  }
  if (t.outcome == CONFIRM_BAD_TOKEN) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "the reset token is invalid, used or expired", "token");
    goto cleanup;
  }
  if (auth_revoke_user_tokens(svc, t.user_id) != KIT_OK)
    log_error("cannot revoke the access tokens of %s after a password reset",
              t.user_id);
  json_t *body = json_pack("{s:s}", "status", "password_changed");
  auth_reply_json_take(res, 200, body);
cleanup:
  json_doc_free(doc);
}
