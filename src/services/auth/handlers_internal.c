/* handlers_internal.c - the auth service's internal routes: the credential
 * of an account (kept in step by the user service) and key rotation. */
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

static const char *const roles[] = {"customer", "admin", "moderator", NULL};
static const char *const statuses[] = {"active", "suspended", NULL};

/* --- internal: credentials ------------------------------------------------ */

static json_t *credential_json(const struct credential *c) {
  return json_pack("{s:s, s:s, s:s, s:s}", "user_id", c->user_id, "email",
                   c->email, "role", c->role, "status", c->status);
}

enum put_outcome { PUT_CREATED, PUT_REPLACED, PUT_EMAIL_TAKEN };

struct put_tx {
  struct credential *cred;
  bool replace_orphan;
  enum put_outcome outcome;
  char orphan[40]; /* the credential replaced, "" when none */
};

static int credential_put_body(struct db_conn *conn, void *arg) {
  struct put_tx *t = arg;
  int rc = store_credential_insert(conn, t->cred);
  if (rc < 0) return rc;
  if (rc == 1) {
    t->outcome = PUT_CREATED;
    return rc;
  }
  struct credential existing;
  memset(&existing, 0, sizeof existing);
  rc = store_credential_by_email(conn, t->cred->email, &existing);
  if (rc < 0) return rc;
  if (rc == 1 && strcmp(existing.user_id, t->cred->user_id) != 0) {
    if (!t->replace_orphan) {
      t->outcome = PUT_EMAIL_TAKEN;
      return 0;
    }
    /* The user service vouches that no profile has this e-mail: the
     * credential is what a registration that crashed before its COMMIT
     * left behind (docs/identity.md). It goes, with its sessions. */
    snprintf(t->orphan, sizeof t->orphan, "%s", existing.user_id);
    if ((rc = store_refresh_revoke_user(conn, existing.user_id)) < 0 ||
        (rc = store_credential_delete(conn, existing.user_id)) < 0 ||
        (rc = store_credential_insert(conn, t->cred)) < 0)
      return rc;
    t->outcome = PUT_CREATED;
    return 1;
  }
  /* The same account again (a retried call): PUT replaces. */
  t->outcome = PUT_REPLACED;
  return store_credential_replace(conn, t->cred);
}

void auth_handle_credential_put(struct http_request *req,
                                struct http_response *res) {
  struct service *svc = req->svc;
  struct auth_state *st = svc->state;
  char user_id[UUID_STR_LEN];
  if (!uuid_normalize(http_param(req, "user_id"), user_id)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such credential", NULL);
    return;
  }
  const char *email = NULL, *password = NULL, *role = "customer",
             *status = "active";
  bool replace_orphan = false;
  struct json_field fields[] = {
      {.name = "email", .type = JF_EMAIL, .required = true, .out = &email},
      {.name = "password",
       .type = JF_STRING,
       .required = true,
       .min = 1,
       .max = PASSWORD_MAX_CHARS,
       .out = &password},
      {.name = "role", .type = JF_ENUM, .out = &role, .enum_values = roles},
      {.name = "status",
       .type = JF_ENUM,
       .out = &status,
       .enum_values = statuses},
      {.name = "replace_orphan", .type = JF_BOOL, .out = &replace_orphan},
  };
  struct json_doc *doc = NULL;
  struct credential cred;
  memset(&cred, 0, sizeof cred);
  if (!http_read_body(req, res, fields, sizeof fields / sizeof fields[0], true,
                      &doc))
    goto cleanup;
  char why[128];
  if (!password_policy_ok(password, email, why, sizeof why)) {
    http_reply_error(res, req, API_UNPROCESSABLE, why, "password");
    goto cleanup;
  }
  snprintf(cred.user_id, sizeof cred.user_id, "%s", user_id);
  snprintf(cred.email, sizeof cred.email, "%s", email);
  snprintf(cred.role, sizeof cred.role, "%s", role);
  snprintf(cred.status, sizeof cred.status, "%s", status);
  if (password_hash(password, &st->hash, cred.password_hash) != KIT_OK) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "internal error", NULL);
    goto cleanup;
  }
  struct put_tx t = {.cred = &cred, .replace_orphan = replace_orphan};
  int rc = db_transaction(svc->db, DB_READ_COMMITTED, credential_put_body, &t);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    goto cleanup;
  }
  if (t.orphan[0] != '\0') {
    log_warn("removed orphan credential %s (no profile) for the registration "
             "of %s",
             t.orphan, cred.user_id);
    if (auth_revoke_user_tokens(svc, t.orphan) != KIT_OK)
      log_warn("cannot revoke the access tokens of orphan credential %s",
               t.orphan);
  }
  if (t.outcome == PUT_CREATED) {
    /* Failed logins counted against this e-mail before the account existed
     * (someone polling for it) must not lock the new account out. */
    const char *argv[] = {"DEL",
                          auth_login_failure_key(req->arena, cred.email)};
    struct kv_reply *ignored = NULL;
    if (argv[1] != NULL) kv_command(svc->kv, &ignored, 2, argv, NULL);
    kv_reply_free(ignored);
  }
  if (t.outcome == PUT_EMAIL_TAKEN) {
    http_reply_error(res, req, API_CONFLICT,
                     "an account with this email already exists", "email");
    goto cleanup;
  }
  auth_reply_json_take(res, t.outcome == PUT_CREATED ? 201 : 200,
                       credential_json(&cred));
cleanup:
  sodium_memzero(cred.password_hash, sizeof cred.password_hash);
  json_doc_free(doc);
}

struct patch_tx {
  const char *user_id;
  const char *email, *role, *status;
  struct credential after;
  bool found;
};

static int credential_patch_body(struct db_conn *conn, void *arg) {
  struct patch_tx *t = arg;
  int rc =
      store_credential_update(conn, t->user_id, t->email, t->role, t->status);
  if (rc <= 0) {
    t->found = false;
    return rc;
  }
  t->found = true;
  if (t->role != NULL || t->status != NULL) {
    /* A changed role or a suspension ends every session now. */
    rc = store_refresh_revoke_user(conn, t->user_id);
    if (rc < 0) return rc;
  }
  return store_credential_by_id(conn, t->user_id, &t->after);
}

void auth_handle_credential_patch(struct http_request *req,
                                  struct http_response *res) {
  struct service *svc = req->svc;
  char user_id[UUID_STR_LEN];
  if (!uuid_normalize(http_param(req, "user_id"), user_id)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such credential", NULL);
    return;
  }
  struct patch_tx t = {.user_id = user_id};
  struct json_field fields[] = {
      {.name = "email", .type = JF_EMAIL, .out = &t.email},
      {.name = "role", .type = JF_ENUM, .out = &t.role, .enum_values = roles},
      {.name = "status",
       .type = JF_ENUM,
       .out = &t.status,
       .enum_values = statuses},
  };
  struct json_doc *doc = NULL;
  if (!http_read_body(req, res, fields, 3, true, &doc)) goto cleanup;
  int rc =
      db_transaction(svc->db, DB_READ_COMMITTED, credential_patch_body, &t);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    goto cleanup;
  }
  if (!t.found) {
    http_reply_error(res, req, API_NOT_FOUND, "no such credential", NULL);
    goto cleanup;
  }
  if ((t.role != NULL || t.status != NULL) &&
      auth_revoke_user_tokens(svc, user_id) != KIT_OK) {
    http_reply_error(res, req, API_SERVICE_UNAVAILABLE,
                     "sessions could not be revoked; retry", NULL);
    goto cleanup;
  }
  sodium_memzero(t.after.password_hash, sizeof t.after.password_hash);
  auth_reply_json_take(res, 200, credential_json(&t.after));
cleanup:
  json_doc_free(doc);
}

static int credential_delete_body(struct db_conn *conn, void *arg) {
  const char *user_id = arg;
  int rc = store_refresh_revoke_user(conn, user_id);
  if (rc < 0) return rc;
  return store_credential_delete(conn, user_id);
}

void auth_handle_credential_delete(struct http_request *req,
                                   struct http_response *res) {
  struct service *svc = req->svc;
  char user_id[UUID_STR_LEN];
  if (!uuid_normalize(http_param(req, "user_id"), user_id)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such credential", NULL);
    return;
  }
  int rc = db_transaction(svc->db, DB_READ_COMMITTED, credential_delete_body,
                          user_id);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  if (auth_revoke_user_tokens(svc, user_id) != KIT_OK)
    log_warn("cannot revoke the access tokens of deleted credential %s",
             user_id);
  http_reply(res, 204, "application/json", "", 0);
}

/* --- internal: key rotation ----------------------------------------------- */

/* POST /internal/keys/rotate: a new signing key now (`shopsphere auth
 * rotate-keys`); the previous key stays in the JWKS. */
void auth_handle_rotate_keys(struct http_request *req,
                             struct http_response *res) {
  struct auth_state *st = req->svc->state;
  if (auth_rotate_keys(req->svc) != KIT_OK) {
    http_reply_error(res, req, API_SERVICE_UNAVAILABLE,
                     "the key could not be stored; retry shortly", NULL);
    return;
  }
  char kid[40];
  EVP_PKEY *key = keyring_signer(&st->keyring, kid);
  EVP_PKEY_free(key);
  if (key == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "internal error", NULL);
    return;
  }
  log_info("signing key rotated: %s signs from now on", kid);
  auth_reply_json_take(res, 201, json_pack("{s:s}", "kid", kid));
}
