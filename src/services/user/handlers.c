/* handlers.c - the user service's HTTP handlers for accounts: registration,
 * the caller's profile, the admin's list and changes, the internal lookups.
 * Addresses are in handlers_addresses.c. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/audit.h"
#include "kit/auth.h"
#include "kit/client.h"
#include "kit/json.h"
#include "kit/log.h"
#include "kit/uuid.h"
#include "services/user/domain.h"
#include "services/user/state.h"

#define EMAIL_MAX 254
#define PASSWORD_MAX 1024 /* the auth service applies the real policy */

static const char *const roles[] = {"customer", "admin", "moderator", NULL};
static const char *const statuses[] = {"active", "suspended", NULL};

static json_t *nullable(const char *s) {
  return s[0] ? json_string(s) : json_null();
}

void *user_json(const struct user *u) {
  return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:b, s:s, s:s}",
                   "id", u->id, "email", u->email, "username", u->username,
                   "first_name", nullable(u->first_name), "last_name",
                   nullable(u->last_name), "phone", nullable(u->phone), "role",
                   u->role, "status", u->status, "email_verified",
                   u->email_verified, "created_at", u->created_at,
                   "updated_at", u->updated_at);
}

static void reply_take(struct http_response *res, unsigned status,
                       json_t *doc) {
  http_reply_json(res, status, doc);
  json_decref(doc);
}

/* Checks the optional profile fields; answers 422 itself. */
static bool profile_fields_ok(struct http_request *req,
                              struct http_response *res, const char *username,
                              const char *first_name, const char *last_name,
                              const char *phone) {
  const char *field = NULL, *msg = NULL;
  if (username != NULL && !username_valid(username)) {
    field = "username";
    msg = "username must be 3-30 letters, digits, '.', '_' or '-', starting "
          "with a letter or digit";
  } else if (first_name != NULL && first_name[0] &&
             !person_name_valid(first_name)) {
    field = "first_name";
    msg = "first_name must be 1-100 characters without control characters";
  } else if (last_name != NULL && last_name[0] &&
             !person_name_valid(last_name)) {
    field = "last_name";
    msg = "last_name must be 1-100 characters without control characters";
  } else if (phone != NULL && phone[0] && !phone_valid(phone)) {
    field = "phone";
    msg = "phone must be 7-15 digits, optionally with '+', spaces, '-', '(' "
          "and ')'";
  }
  if (field == NULL) return true;
  http_reply_error(res, req, API_UNPROCESSABLE, msg, field);
  return false;
}

/* Answers for a failed user_create. */
static void reply_create_failure(struct http_request *req,
                                 struct http_response *res,
                                 const struct create_result *r) {
  switch (r->outcome) {
  case CREATE_EMAIL_TAKEN:
    http_reply_error(res, req, API_CONFLICT,
                     "an account with this email already exists", "email");
    return;
  case CREATE_USERNAME_TAKEN:
    http_reply_error(res, req, API_CONFLICT, "this username is taken",
                     "username");
    return;
  case CREATE_REJECTED:
    if (r->relay_body != NULL) {
      http_reply(res, r->relay_status, "application/json", r->relay_body,
                 r->relay_len);
      return;
    }
    break;
  case CREATE_FAILED:
    if (r->db_rc == DB_UNAVAILABLE || r->db_rc == DB_SOFT_ERROR) {
      http_reply_db_error(res, req, r->db_rc);
      return;
    }
    if (r->relay_status >= 500) {
      http_reply_error(res, req, API_SERVICE_UNAVAILABLE,
                       "the auth service is unavailable; retry shortly", NULL);
      return;
    }
    break;
  case CREATE_OK:
    break;
  }
  http_reply_error(res, req, API_INTERNAL_ERROR, "internal error", NULL);
}

/* --- registration ------------------------------------------------------- */

static void create_from_body(struct http_request *req,
                             struct http_response *res, bool allow_role) {
  const char *email = NULL, *password = NULL, *username = NULL,
             *first_name = NULL, *last_name = NULL, *phone = NULL, *role = NULL;
  struct json_field fields[] = {
      {.name = "email", .type = JF_EMAIL, .required = true, .out = &email},
      {.name = "password",
       .type = JF_STRING,
       .required = true,
       .min = 1,
       .max = PASSWORD_MAX,
       .out = &password},
      {.name = "username",
       .type = JF_STRING,
       .required = !allow_role,
       .min = 1,
       .max = 64,
       .out = &username},
      {.name = "first_name",
       .type = JF_STRING,
       .min = 1,
       .max = NAME_MAX_CHARS,
       .out = &first_name,
       .nullable = true},
      {.name = "last_name",
       .type = JF_STRING,
       .min = 1,
       .max = NAME_MAX_CHARS,
       .out = &last_name,
       .nullable = true},
      {.name = "phone",
       .type = JF_STRING,
       .min = 1,
       .max = PHONE_MAX,
       .out = &phone,
       .nullable = true},
      {.name = "role", .type = JF_ENUM, .out = &role, .enum_values = roles},
  };
  size_t count = sizeof fields / sizeof fields[0];
  if (!allow_role) count--; /* the public may not choose a role */
  struct json_doc *doc = NULL;
  struct create_result result;
  memset(&result, 0, sizeof result);
  if (!http_read_body(req, res, fields, count, true, &doc)) goto cleanup;
  if (strlen(email) > EMAIL_MAX) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "email must be a valid email address", "email");
    goto cleanup;
  }
  if (!profile_fields_ok(req, res, username, first_name, last_name, phone))
    goto cleanup;
  struct new_user nu = {.email = email,
                        .password = password,
                        .username = username,
                        .first_name = first_name,
                        .last_name = last_name,
                        .phone = phone,
                        .role = role};
  user_create(req->svc, req, &nu, &result);
  if (result.outcome != CREATE_OK) {
    reply_create_failure(req, res, &result);
    goto cleanup;
  }
  reply_take(res, 201, user_json(&result.user));
cleanup:
  create_result_clear(&result);
  json_doc_free(doc);
}

void user_handle_register(struct http_request *req, struct http_response *res) {
  create_from_body(req, res, false);
}

void user_handle_internal_create(struct http_request *req,
                                 struct http_response *res) {
  create_from_body(req, res, true);
}

/* --- the caller's profile ------------------------------------------------ */

static int load_user(struct http_request *req, struct http_response *res,
                     const char *id, struct user *out) {
  struct db_conn *conn = db_acquire(req->svc->db, 2000);
  if (conn == NULL) {
    http_reply_db_error(res, req, DB_UNAVAILABLE);
    return DB_UNAVAILABLE;
  }
  int rc = store_user_get(conn, id, out);
  db_release(req->svc->db, conn);
  if (rc < 0) http_reply_db_error(res, req, rc);
  if (rc == 0) http_reply_error(res, req, API_NOT_FOUND, "no such user", NULL);
  return rc;
}

void user_handle_me_get(struct http_request *req, struct http_response *res) {
  struct user u;
  if (load_user(req, res, auth_principal(req)->user_id, &u) == 1)
    reply_take(res, 200, user_json(&u));
}

struct profile_tx {
  struct user *want;
  struct user after;
  bool username_taken;
};

static int profile_body(struct db_conn *conn, void *arg) {
  struct profile_tx *t = arg;
  int rc = store_username_taken(conn, t->want->username, t->want->id);
  if (rc < 0) return rc;
  if (rc > 0) {
    t->username_taken = true;
    return 0;
  }
  return store_user_update_profile(conn, t->want, &t->after);
}

void user_handle_me_patch(struct http_request *req, struct http_response *res) {
  const char *username = NULL, *first_name = NULL, *last_name = NULL,
             *phone = NULL;
  /* "" clears an optional field; an absent (or null) one is kept. */
  bool has_first = false, has_last = false, has_phone = false;
  struct json_field fields[] = {
      {.name = "username",
       .type = JF_STRING,
       .min = 1,
       .max = 64,
       .out = &username},
      {.name = "first_name",
       .type = JF_STRING,
       .max = NAME_MAX_CHARS,
       .out = &first_name,
       .present = &has_first,
       .nullable = true},
      {.name = "last_name",
       .type = JF_STRING,
       .max = NAME_MAX_CHARS,
       .out = &last_name,
       .present = &has_last,
       .nullable = true},
      {.name = "phone",
       .type = JF_STRING,
       .max = PHONE_MAX,
       .out = &phone,
       .present = &has_phone,
       .nullable = true},
  };
  struct json_doc *doc = NULL;
  if (!http_read_body(req, res, fields, 4, true, &doc)) goto cleanup;
  if (!profile_fields_ok(req, res, username, first_name, last_name, phone))
    goto cleanup;
  struct user current;
  if (load_user(req, res, auth_principal(req)->user_id, &current) != 1)
    goto cleanup;
  if (username != NULL)
    snprintf(current.username, sizeof current.username, "%s", username);
  if (has_first)
    snprintf(current.first_name, sizeof current.first_name, "%s",
             first_name ? first_name : "");
  if (has_last)
    snprintf(current.last_name, sizeof current.last_name, "%s",
             last_name ? last_name : "");
  if (has_phone)
    snprintf(current.phone, sizeof current.phone, "%s", phone ? phone : "");
  struct profile_tx t = {.want = &current};
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, profile_body, &t);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
  } else if (t.username_taken) {
    http_reply_error(res, req, API_CONFLICT, "this username is taken",
                     "username");
  } else if (rc == 0) {
    http_reply_error(res, req, API_NOT_FOUND, "no such user", NULL);
  } else {
    reply_take(res, 200, user_json(&t.after));
  }
cleanup:
  json_doc_free(doc);
}

/* --- admin ---------------------------------------------------------------- */

#define LIST_MAX 100

void user_handle_admin_list(struct http_request *req,
                            struct http_response *res) {
  struct user_filter f = {.limit = 20};
  const char *limit = http_query(req, "limit");
  const char *cursor = http_query(req, "cursor");
  f.q = http_query(req, "q");
  f.role = http_query(req, "role");
  f.status = http_query(req, "status");
  if (f.q != NULL && (f.q[0] == '\0' || strlen(f.q) > 254 ||
                      !json_utf8_valid(f.q, strlen(f.q)))) {
    http_reply_error(res, req, API_UNPROCESSABLE, "q must be 1-254 characters",
                     "q");
    return;
  }
  if (limit != NULL) {
    char *end = NULL;
    long v = strtol(limit, &end, 10);
    if (end == limit || *end != '\0' || v < 1 || v > LIST_MAX) {
      http_reply_error(res, req, API_UNPROCESSABLE,
                       "limit must be a whole number from 1 to 100", "limit");
      return;
    }
    f.limit = (int)v;
  }
  char after[UUID_STR_LEN];
  if (cursor != NULL) {
    if (!uuid_normalize(cursor, after)) {
      http_reply_error(res, req, API_UNPROCESSABLE, "cursor is not valid",
                       "cursor");
      return;
    }
    f.after = after;
  }
  bool role_ok = f.role == NULL, status_ok = f.status == NULL;
  for (size_t i = 0; roles[i] && f.role; i++)
    if (strcmp(roles[i], f.role) == 0) role_ok = true;
  for (size_t i = 0; statuses[i] && f.status; i++)
    if (strcmp(statuses[i], f.status) == 0) status_ok = true;
  if (!role_ok || !status_ok) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     role_ok ? "status must be active or suspended"
                             : "role must be customer, admin or moderator",
                     role_ok ? "status" : "role");
    return;
  }
  struct user *rows = calloc((size_t)f.limit, sizeof *rows);
  if (rows == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "internal error", NULL);
    return;
  }
  struct db_conn *conn = db_acquire(req->svc->db, 2000);
  int rc = conn ? store_user_list(conn, &f, rows) : DB_UNAVAILABLE;
  if (conn != NULL) db_release(req->svc->db, conn);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    free(rows);
    return;
  }
  json_t *items = json_array();
  for (int i = 0; i < rc; i++)
    json_array_append_new(items, user_json(&rows[i]));
  json_t *next = rc == f.limit ? json_string(rows[rc - 1].id) : json_null();
  free(rows);
  reply_take(res, 200,
             json_pack("{s:o, s:o}", "items", items, "next_cursor", next));
}

void user_handle_admin_get(struct http_request *req,
                           struct http_response *res) {
  char id[UUID_STR_LEN];
  if (!uuid_normalize(http_param(req, "id"), id)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such user", NULL);
    return;
  }
  struct user u;
  if (load_user(req, res, id, &u) == 1) reply_take(res, 200, user_json(&u));
}

struct admin_tx {
  struct service *svc;
  const struct http_request *parent;
  const char *id;
  const char *role, *status;
  struct user before, after;
  bool found;
  unsigned auth_status;
};

static int admin_body(struct db_conn *conn, void *arg) {
  struct admin_tx *t = arg;
  int rc = store_user_get(conn, t->id, &t->before);
  if (rc < 0) return rc;
  rc = store_user_admin_update(conn, t->id, t->role, t->status, &t->after);
  t->found = rc == 1;
  if (rc <= 0) return rc;
  /* The auth service holds a copy of role and status for login and ends the
   * user's sessions on a change; refused there, nothing changes here. */
  json_t *body =
      json_pack("{s:s*, s:s*}", "role", t->role, "status", t->status);
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (text == NULL) return DB_HARD_ERROR;
  char path[96];
  snprintf(path, sizeof path, "/internal/credentials/%s", t->id);
  struct client_request call = {.method = "PATCH",
                                .path = path,
                                .body = text,
                                .body_len = strlen(text),
                                .parent = t->parent};
  struct http_response res;
  int call_rc = client_call(t->svc->client, SVC_AUTH, &call, &res);
  free(text);
  t->auth_status = res.status;
  http_response_clear(&res);
  if (call_rc != KIT_OK || t->auth_status != 200) return DB_HARD_ERROR;
  json_t *before = json_pack("{s:s, s:s}", "role", t->before.role, "status",
                             t->before.status);
  json_t *after =
      json_pack("{s:s, s:s}", "role", t->after.role, "status", t->after.status);
  rc = audit_record(conn, t->parent, "user.update", "user", t->id, before,
                    after);
  json_decref(before);
  json_decref(after);
  return rc < 0 ? rc : 1;
}

void user_handle_admin_patch(struct http_request *req,
                             struct http_response *res) {
  char id[UUID_STR_LEN];
  if (!uuid_normalize(http_param(req, "id"), id)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such user", NULL);
    return;
  }
  struct admin_tx t = {.svc = req->svc, .parent = req, .id = id};
  struct json_field fields[] = {
      {.name = "role", .type = JF_ENUM, .out = &t.role, .enum_values = roles},
      {.name = "status",
       .type = JF_ENUM,
       .out = &t.status,
       .enum_values = statuses},
  };
  struct json_doc *doc = NULL;
  if (!http_read_body(req, res, fields, 2, true, &doc)) goto cleanup;
  if (t.role == NULL && t.status == NULL) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "give role or status to change", NULL);
    goto cleanup;
  }
  if (strcmp(id, auth_principal(req)->user_id) == 0) {
    /* An admin who demotes or suspends themselves may lock everyone out. */
    http_reply_error(res, req, API_CONFLICT,
                     "you cannot change your own role or status", NULL);
    goto cleanup;
  }
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, admin_body, &t);
  if (rc >= 0 && !t.found) {
    http_reply_error(res, req, API_NOT_FOUND, "no such user", NULL);
  } else if (rc < 0 && t.found && t.auth_status != 200) {
    log_error("auth refused a role/status change of %s (status %u)", id,
              t.auth_status);
    http_reply_error(res, req, API_SERVICE_UNAVAILABLE,
                     "the auth service is unavailable; retry shortly", NULL);
  } else if (rc < 0) {
    http_reply_db_error(res, req, rc);
  } else {
    log_info("admin %s set role=%s status=%s on user %s",
             auth_principal(req)->user_id, t.after.role, t.after.status, id);
    reply_take(res, 200, user_json(&t.after));
  }
cleanup:
  json_doc_free(doc);
}

/* --- internal ------------------------------------------------------------- */

void user_handle_internal_get(struct http_request *req,
                              struct http_response *res) {
  char id[UUID_STR_LEN];
  if (!uuid_normalize(http_param(req, "id"), id)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such user", NULL);
    return;
  }
  struct user u;
  if (load_user(req, res, id, &u) != 1) return;
  reply_take(res, 200,
             json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s}", "id", u.id,
                       "email", u.email, "username", u.username, "first_name",
                       nullable(u.first_name), "last_name",
                       nullable(u.last_name), "role", u.role, "status",
                       u.status));
}
