/* create.c - account creation across the user and auth services, and the
 * demo admin.
 *
 * The users row, its `user.registered` outbox event and the credential in
 * the auth service must exist together or not at all. One local transaction
 * inserts the row and the event, then (still inside it) stores the
 * credential with an idempotent PUT to the auth service; any refusal rolls
 * the transaction back. If the COMMIT itself fails after the credential was
 * stored, a compensating DELETE removes it. See docs/identity.md.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/bus.h"
#include "kit/client.h"
#include "kit/log.h"
#include "kit/uuid.h"
#include "services/user/domain.h"
#include "services/user/state.h"

struct create_tx {
  struct service *svc;
  const struct http_request *parent;
  const struct new_user *nu;
  struct user row;
  struct create_result *out;
  bool credential_stored;
};

static void relay(struct create_result *out, const struct http_response *r) {
  free(out->relay_body);
  out->relay_body = NULL;
  out->relay_status = r->status;
  out->relay_len = 0;
  if (r->body != NULL) {
    out->relay_body = malloc(r->body_len + 1);
    if (out->relay_body != NULL) {
      memcpy(out->relay_body, r->body, r->body_len);
      out->relay_body[r->body_len] = '\0';
      out->relay_len = r->body_len;
    }
  }
}

/* PUTs the credential; returns a db_status for the transaction. */
static int store_credential(struct create_tx *t) {
  /* Our users row holds the e-mail inside this transaction, so a
   * credential of another id with it can only be an orphan (a registration
   * that crashed before its COMMIT): the auth service replaces it. */
  json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:b}", "email", t->row.email,
                           "password", t->nu->password, "role", t->row.role,
                           "status", "active", "replace_orphan", 1);
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (text == NULL) return DB_HARD_ERROR;
  char path[96];
  snprintf(path, sizeof path, "/internal/credentials/%s", t->row.id);
  struct client_request call = {.method = "PUT",
                                .path = path,
                                .body = text,
                                .body_len = strlen(text),
                                .parent = t->parent};
  struct http_response res;
  int rc = client_call(t->svc->client, SVC_AUTH, &call, &res);
  sodium_memzero(text, strlen(text));
  free(text);
  int status = DB_HARD_ERROR; /* any refusal rolls back */
  if (rc == KIT_OK && (res.status == 200 || res.status == 201)) {
    t->credential_stored = true;
    status = 1;
  } else if (rc == KIT_OK && res.status == 409) {
    t->out->outcome = CREATE_EMAIL_TAKEN;
  } else if (rc == KIT_OK && res.status >= 400 && res.status < 500) {
    t->out->outcome = CREATE_REJECTED;
    relay(t->out, &res);
  } else {
    t->out->outcome = CREATE_FAILED;
    relay(t->out, &res);
  }
  http_response_clear(&res);
  return status;
}

static int create_body(struct db_conn *conn, void *arg) {
  struct create_tx *t = arg;
  int rc = store_user_insert(conn, &t->row, &t->out->user);
  if (rc < 0) return rc;
  if (rc == 0) {
    bool email_taken = false;
    rc = store_user_conflict(conn, t->row.email, t->row.username, &email_taken);
    if (rc < 0) return rc;
    t->out->outcome = email_taken ? CREATE_EMAIL_TAKEN : CREATE_USERNAME_TAKEN;
    return 0;
  }
  json_t *data =
      json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s, s:s}", "user_id",
                t->row.id, "email", t->row.email, "username", t->row.username,
                "first_name", t->row.first_name[0] ? t->row.first_name : NULL,
                "last_name", t->row.last_name[0] ? t->row.last_name : NULL,
                "phone", t->row.phone[0] ? t->row.phone : NULL, "role",
                t->row.role, "registered_at", t->out->user.created_at);
  if (data == NULL) return DB_HARD_ERROR;
  rc = bus_emit(conn, "user.registered", t->row.id, data);
  json_decref(data);
  if (rc < 0) return rc;
  rc = store_credential(t);
  if (rc < 0) return rc;
  t->out->outcome = CREATE_OK;
  return 1;
}

static void compensate(struct create_tx *t) {
  char path[96];
  snprintf(path, sizeof path, "/internal/credentials/%s", t->row.id);
  struct client_request call = {
      .method = "DELETE", .path = path, .parent = t->parent};
  struct http_response res;
  int rc = client_call(t->svc->client, SVC_AUTH, &call, &res);
  if (rc != KIT_OK || (res.status != 204 && res.status != 404))
    log_error("orphan credential %s could not be removed (status %u)",
              t->row.id, res.status);
  http_response_clear(&res);
}

void user_create(struct service *svc, const struct http_request *parent,
                 const struct new_user *nu, struct create_result *out) {
  memset(out, 0, sizeof *out);
  struct create_tx t = {.svc = svc, .parent = parent, .nu = nu, .out = out};
  uuid_v7(t.row.id);
  snprintf(t.row.email, sizeof t.row.email, "%s", nu->email);
  if (nu->username != NULL) {
    snprintf(t.row.username, sizeof t.row.username, "%s", nu->username);
  } else {
    char suffix[8], hex[7];
    random_hex(hex, 3);
    snprintf(suffix, sizeof suffix, "-%s", hex);
    username_from_email(nu->email, suffix, t.row.username);
  }
  snprintf(t.row.first_name, sizeof t.row.first_name, "%s",
           nu->first_name ? nu->first_name : "");
  snprintf(t.row.last_name, sizeof t.row.last_name, "%s",
           nu->last_name ? nu->last_name : "");
  snprintf(t.row.phone, sizeof t.row.phone, "%s", nu->phone ? nu->phone : "");
  snprintf(t.row.role, sizeof t.row.role, "%s",
           nu->role ? nu->role : "customer");
  snprintf(t.row.status, sizeof t.row.status, "active");

  int rc = db_transaction(svc->db, DB_READ_COMMITTED, create_body, &t);
  out->db_rc = rc;
  if (rc < 0 && t.credential_stored) compensate(&t);
  if (rc < 0 && out->outcome == CREATE_OK) out->outcome = CREATE_FAILED;
}

void create_result_clear(struct create_result *r) {
  free(r->relay_body);
  r->relay_body = NULL;
}

/* --- the demo admin --------------------------------------------------- */

int user_ensure_demo_admin(struct service *svc) {
  const struct config *cfg = svc->cfg;
  const char *email =
      cfg->admin_email[0] ? cfg->admin_email : "admin@shopsphere.local";
  struct user existing;
  struct db_conn *conn = db_acquire(svc->db, 2000);
  if (conn == NULL) return KIT_UNAVAILABLE;
  int rc = store_user_by_email(conn, email, &existing);
  db_release(svc->db, conn);
  if (rc < 0) return KIT_UNAVAILABLE;
  if (rc == 1) return KIT_OK;

  /* No fixed default password: one is made up and printed when unset. */
  char generated[33];
  const char *password = cfg->admin_password;
  if (password[0] == '\0') {
    random_hex(generated, 10);
    password = generated;
  }
  char lowered[321];
  snprintf(lowered, sizeof lowered, "%s", email);
  for (char *p = lowered; *p; p++)
    if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
  struct new_user nu = {.email = lowered,
                        .password = password,
                        .username = "admin",
                        .first_name = "Demo",
                        .last_name = "Admin",
                        .role = "admin"};
  struct create_result result;
  user_create(svc, NULL, &nu, &result);
  if (result.outcome == CREATE_USERNAME_TAKEN) {
    nu.username = NULL; /* someone registered "admin": derive another */
    create_result_clear(&result);
    user_create(svc, NULL, &nu, &result);
  }
  int status = KIT_UNAVAILABLE;
  if (result.outcome == CREATE_OK) {
    log_info("demo admin %s created", email);
    if (password == generated)
      fprintf(stderr, "demo admin: %s  password: %s\n", email, generated);
    status = KIT_OK;
  } else if (result.outcome == CREATE_EMAIL_TAKEN) {
    status = KIT_OK; /* created meanwhile by another replica */
  } else if (result.outcome == CREATE_REJECTED) {
    log_error("demo admin refused by the auth service (status %u): check "
              "SHOPSPHERE_ADMIN_EMAIL and SHOPSPHERE_ADMIN_PASSWORD",
              result.relay_status);
    status = KIT_INVALID;
  }
  create_result_clear(&result);
  return status;
}
