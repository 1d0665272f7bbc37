/* handlers_addresses.c - the caller's addresses: list, add, change, delete.
 * Every query names the owner, so another user's address id is simply not
 * found (404, no existence leak). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/auth.h"
#include "kit/json.h"
#include "kit/uuid.h"
#include "services/user/domain.h"
#include "services/user/state.h"

static json_t *nullable(const char *s) {
  return s[0] ? json_string(s) : json_null();
}

void *address_json(const struct address *a) {
  return json_pack(
      "{s:s, s:o, s:o, s:s, s:o, s:s, s:o, s:s, s:s, s:o, s:s, s:s}", "id",
      a->id, "first_name", nullable(a->first_name), "last_name",
      nullable(a->last_name), "line1", a->line1, "line2", nullable(a->line2),
      "city", a->city, "state", nullable(a->state), "postal_code",
      a->postal_code, "country", a->country, "phone", nullable(a->phone),
      "created_at", a->created_at, "updated_at", a->updated_at);
}

static void reply_take(struct http_response *res, unsigned status,
                       json_t *doc) {
  http_reply_json(res, status, doc);
  json_decref(doc);
}

/* The body's address fields. For a change, present[] tells which were sent
 * (null clears an optional one). */
struct address_input {
  const char *v[9];
  bool present[9];
};
static const char *const address_names[9] = {
    "first_name", "last_name",   "line1",   "line2", "city",
    "state",      "postal_code", "country", "phone"};
static const int address_max[9] = {
    NAME_MAX_CHARS,   NAME_MAX_CHARS,   ADDRESS_TEXT_MAX, ADDRESS_TEXT_MAX,
    ADDRESS_TEXT_MAX, ADDRESS_TEXT_MAX, POSTAL_CODE_MAX,  2,
    PHONE_MAX};

static bool parse_address(struct http_request *req, struct http_response *res,
                          bool creating, struct address_input *in,
                          struct json_doc **doc) {
  memset(in, 0, sizeof *in);
  struct json_field fields[9];
  for (int i = 0; i < 9; i++) {
    /* line1, city, postal_code and country are required and never null;
     * on a change, "" clears an optional field. */
    bool mandatory = i == 2 || i == 4 || i == 6 || i == 7;
    fields[i] = (struct json_field){.name = address_names[i],
                                    .type = JF_STRING,
                                    .required = creating && mandatory,
                                    .min = creating || mandatory ? 1 : 0,
                                    .max = address_max[i],
                                    .out = &in->v[i],
                                    .present = &in->present[i],
                                    .nullable = !mandatory};
  }
  return http_read_body(req, res, fields, 9, true, doc);
}

/* Pointers into a's fields, in address_names order. */
static void address_slots(struct address *a, char *slots[9], size_t sizes[9]) {
  char *s[9] = {a->first_name, a->last_name,   a->line1,   a->line2, a->city,
                a->state,      a->postal_code, a->country, a->phone};
  size_t z[9] = {sizeof a->first_name,  sizeof a->last_name, sizeof a->line1,
                 sizeof a->line2,       sizeof a->city,      sizeof a->state,
                 sizeof a->postal_code, sizeof a->country,   sizeof a->phone};
  memcpy(slots, s, sizeof s);
  memcpy(sizes, z, sizeof z);
}

/* Applies in to a and validates the result; answers 422 itself. */
static bool merge_and_check(struct http_request *req, struct http_response *res,
                            const struct address_input *in, struct address *a) {
  char *slots[9];
  size_t sizes[9];
  address_slots(a, slots, sizes);
  for (int i = 0; i < 9; i++) {
    if (in->present[i])
      snprintf(slots[i], sizes[i], "%s", in->v[i] ? in->v[i] : "");
  }
  struct address_fields f;
  const char **fp[9] = {&f.first_name,  &f.last_name, &f.line1,
                        &f.line2,       &f.city,      &f.state,
                        &f.postal_code, &f.country,   &f.phone};
  for (int i = 0; i < 9; i++)
    *fp[i] = slots[i][0] ? slots[i] : NULL;
  const char *bad = NULL;
  if (address_valid(&f, &bad)) return true;
  char msg[96];
  snprintf(msg, sizeof msg, "%s is missing or not valid%s", bad,
           strcmp(bad, "country") == 0 ? " (ISO 3166-1 alpha-2, e.g. DE)" : "");
  http_reply_error(res, req, API_UNPROCESSABLE, msg, bad);
  return false;
}

void user_handle_addresses_list(struct http_request *req,
                                struct http_response *res) {
  struct address *rows = calloc(ADDRESSES_PER_USER, sizeof *rows);
  if (rows == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "internal error", NULL);
    return;
  }
  struct db_conn *conn = db_acquire(req->svc->db, 2000);
  int rc = conn ? store_address_list(conn, auth_principal(req)->user_id, rows,
                                     ADDRESSES_PER_USER)
                : DB_UNAVAILABLE;
  if (conn != NULL) db_release(req->svc->db, conn);
  if (rc < 0) {
    free(rows);
    http_reply_db_error(res, req, rc);
    return;
  }
  json_t *items = json_array();
  for (int i = 0; i < rc; i++)
    json_array_append_new(items, address_json(&rows[i]));
  free(rows);
  reply_take(res, 200, json_pack("{s:o, s:n}", "items", items, "next_cursor"));
}

void user_handle_address_create(struct http_request *req,
                                struct http_response *res) {
  struct address_input in;
  struct json_doc *doc = NULL;
  struct address a, out;
  memset(&a, 0, sizeof a);
  if (!parse_address(req, res, true, &in, &doc)) goto cleanup;
  if (!merge_and_check(req, res, &in, &a)) goto cleanup;
  uuid_v7(a.id);
  snprintf(a.user_id, sizeof a.user_id, "%s", auth_principal(req)->user_id);
  struct db_conn *conn = db_acquire(req->svc->db, 2000);
  int rc = conn ? store_address_insert(conn, &a, &out) : DB_UNAVAILABLE;
  if (conn != NULL) db_release(req->svc->db, conn);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
  } else if (rc == 0) {
    char msg[64];
    snprintf(msg, sizeof msg, "at most %d addresses per account",
             ADDRESSES_PER_USER);
    http_reply_error(res, req, API_CONFLICT, msg, NULL);
  } else {
    reply_take(res, 201, address_json(&out));
  }
cleanup:
  json_doc_free(doc);
}

struct address_change_tx {
  const char *id;
  const char *user_id;
  const struct address_input *in;
  struct http_request *req;
  struct http_response *res;
  struct address after;
  enum { CHANGE_OK, CHANGE_NOT_FOUND, CHANGE_INVALID } outcome;
};

static int address_change_body(struct db_conn *conn, void *arg) {
  struct address_change_tx *t = arg;
  struct address a;
  int rc = store_address_get(conn, t->id, t->user_id, &a);
  if (rc < 0) return rc;
  if (rc == 0) {
    t->outcome = CHANGE_NOT_FOUND;
    return 0;
  }
  http_response_clear(t->res);
  if (!merge_and_check(t->req, t->res, t->in, &a)) {
    t->outcome = CHANGE_INVALID;
    return 0;
  }
  t->outcome = CHANGE_OK;
  return store_address_replace(conn, &a, &t->after);
}

void user_handle_address_patch(struct http_request *req,
                               struct http_response *res) {
  char id[UUID_STR_LEN];
  if (!uuid_normalize(http_param(req, "id"), id)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such address", NULL);
    return;
  }
  struct address_input in;
  struct json_doc *doc = NULL;
  if (!parse_address(req, res, false, &in, &doc)) goto cleanup;
  struct address_change_tx t = {.id = id,
                                .user_id = auth_principal(req)->user_id,
                                .in = &in,
                                .req = req,
                                .res = res};
  int rc =
      db_transaction(req->svc->db, DB_READ_COMMITTED, address_change_body, &t);
  if (rc < 0) {
    http_response_clear(res);
    http_reply_db_error(res, req, rc);
  } else if (t.outcome == CHANGE_NOT_FOUND) {
    http_reply_error(res, req, API_NOT_FOUND, "no such address", NULL);
  } else if (t.outcome == CHANGE_OK) {
    reply_take(res, 200, address_json(&t.after));
  } /* CHANGE_INVALID: the 422 is already in res */
cleanup:
  json_doc_free(doc);
}

void user_handle_address_delete(struct http_request *req,
                                struct http_response *res) {
  char id[UUID_STR_LEN];
  if (!uuid_normalize(http_param(req, "id"), id)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such address", NULL);
    return;
  }
  struct db_conn *conn = db_acquire(req->svc->db, 2000);
  int rc = conn ? store_address_delete(conn, id, auth_principal(req)->user_id)
                : DB_UNAVAILABLE;
  if (conn != NULL) db_release(req->svc->db, conn);
  if (rc < 0)
    http_reply_db_error(res, req, rc);
  else if (rc == 0)
    http_reply_error(res, req, API_NOT_FOUND, "no such address", NULL);
  else
    http_reply(res, 204, "application/json", "", 0);
}
