/* handlers.c - the notification service's HTTP API.
 *
 * Public (through the gateway, signed in): the caller's in-app feed, marking
 * one read, the live stream, and the notification preferences. Internal: the
 * delivery log and what the sandbox SMS and push providers received (for
 * operators and tests; messages may carry reset tokens).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/auth.h"
#include "kit/handler.h"
#include "kit/log.h"
#include "kit/uuid.h"
#include "services/notification/notification.h"
#include "services/notification/store.h"

#define DB_WAIT_MS 2000

static struct notification_state *state_of(const struct http_request *req) {
  return req->svc->state;
}

/* ?limit= (default 20, 1..max); false when it answered 422. */
static bool read_limit(struct http_request *req, struct http_response *res,
                       long max, long *limit) {
  const char *s = http_query(req, "limit");
  *limit = 20;
  if (s == NULL) return true;
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < 1 || v > max) {
    char msg[80];
    snprintf(msg, sizeof msg, "limit must be a whole number from 1 to %ld",
             max);
    http_reply_error(res, req, API_UNPROCESSABLE, msg, "limit");
    return false;
  }
  *limit = v;
  return true;
}

/* An optional UUID query parameter; false when it answered 422. */
static bool read_uuid_query(struct http_request *req, struct http_response *res,
                            const char *name, const char **out) {
  const char *s = http_query(req, name);
  *out = NULL;
  if (s == NULL || s[0] == '\0') return true;
  char *norm = arena_alloc(req->arena, UUID_STR_LEN);
  if (norm == NULL || !uuid_normalize(s, norm)) {
    char msg[64];
    snprintf(msg, sizeof msg, "%s must be a UUID", name);
    http_reply_error(res, req, API_UNPROCESSABLE, msg, name);
    return false;
  }
  *out = norm;
  return true;
}

static struct db_conn *acquire(struct http_request *req,
                               struct http_response *res) {
  struct db_conn *c = db_acquire(req->svc->db, DB_WAIT_MS);
  if (c == NULL) http_reply_db_error(res, req, DB_UNAVAILABLE);
  return c;
}

static void reply_take(struct http_response *res, unsigned status,
                       json_t *doc) {
  http_reply_json(res, status, doc);
  json_decref(doc);
}

/* --- GET /api/v1/notifications ------------------------------------------ */

void handle_feed(struct http_request *req, struct http_response *res) {
  const char *user = auth_principal(req)->user_id;
  long limit;
  const char *cursor;
  if (!read_limit(req, res, 100, &limit) ||
      !read_uuid_query(req, res, "cursor", &cursor))
    return;
  struct db_conn *c = acquire(req, res);
  if (c == NULL) return;
  void *items = NULL;
  int64_t unread = 0;
  /* One more than asked tells whether there is a next page. */
  int rc = nstore_feed_list(c, user, cursor, (int)limit + 1, &items);
  if (rc >= 0) {
    int urc = nstore_feed_unread(c, user, &unread);
    if (urc < 0) rc = urc;
  }
  db_release(req->svc->db, c);
  if (rc < 0) {
    json_decref(items);
    http_reply_db_error(res, req, rc);
    return;
  }
  json_t *next = json_null();
  if ((long)json_array_size(items) > limit) {
    json_array_remove(items, (size_t)limit);
    next = json_string(json_string_value(
        json_object_get(json_array_get(items, (size_t)limit - 1), "id")));
  }
  reply_take(res, 200,
             json_pack("{s:o, s:o, s:I}", "items", items, "next_cursor", next,
                       "unread_count", (json_int_t)unread));
}

/* --- POST /api/v1/notifications/{id}/read ------------------------------- */

void handle_read(struct http_request *req, struct http_response *res) {
  char id[UUID_STR_LEN];
  if (!uuid_normalize(http_param(req, "id"), id)) {
    http_reply_error(res, req, API_UNPROCESSABLE, "id must be a UUID", "id");
    return;
  }
  struct db_conn *c = acquire(req, res);
  if (c == NULL) return;
  void *item = NULL;
  int rc = nstore_feed_read(c, id, auth_principal(req)->user_id, &item);
  db_release(req->svc->db, c);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  if (rc == 0) { /* another user's is not found either */
    http_reply_error(res, req, API_NOT_FOUND, "no such notification", NULL);
    return;
  }
  reply_take(res, 200, item);
}

/* --- GET /api/v1/notifications/stream ---------------------------------- */

void handle_stream(struct http_request *req, struct http_response *res) {
  struct notification_state *st = state_of(req);
  sse_hub_attach(st->hub, req, res, auth_principal(req)->user_id);
}

/* --- GET|PUT /api/v1/users/me/notification-preferences ----------------- */

void handle_prefs_get(struct http_request *req, struct http_response *res) {
  struct db_conn *c = acquire(req, res);
  if (c == NULL) return;
  struct notify_prefs p;
  int rc = nstore_prefs_get(c, auth_principal(req)->user_id, &p);
  db_release(req->svc->db, c);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  reply_take(res, 200, notify_prefs_json(&p));
}

struct prefs_tx {
  const char *user_id;
  const json_t *body;
  struct notify_prefs prefs;
  bool invalid;
  char field[64];
  char message[160];
};

static int prefs_body(struct db_conn *conn, void *arg) {
  struct prefs_tx *t = arg;
  int rc = nstore_prefs_get(conn, t->user_id, &t->prefs);
  if (rc < 0) return rc;
  if (!notify_prefs_apply(&t->prefs, t->body, t->field, sizeof t->field,
                          t->message, sizeof t->message)) {
    t->invalid = true;
    return 0;
  }
  return nstore_prefs_put(conn, t->user_id, &t->prefs);
}

void handle_prefs_put(struct http_request *req, struct http_response *res) {
  struct json_doc *doc = NULL;
  struct json_error err;
  if (json_doc_parse(req->body, req->body_len, &doc, &err) != KIT_OK) {
    http_reply_json_error(res, req, &err);
    json_doc_free(doc);
    return;
  }
  struct prefs_tx t = {.user_id = auth_principal(req)->user_id,
                       .body = json_doc_root(doc)};
  /* Read, merge and write in one serializable transaction: two concurrent
   * PUTs of different keys both land. */
  int rc = db_transaction(req->svc->db, DB_SERIALIZABLE, prefs_body, &t);
  json_doc_free(doc);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  if (t.invalid) {
    http_reply_error(res, req, API_UNPROCESSABLE, t.message, t.field);
    return;
  }
  reply_take(res, 200, notify_prefs_json(&t.prefs));
}

/* --- GET /internal/notifications/deliveries ---------------------------- */

void handle_deliveries(struct http_request *req, struct http_response *res) {
  const char *recipient = http_query(req, "recipient");
  const char *user_id, *event_id;
  long limit;
  if (!read_limit(req, res, 500, &limit) ||
      !read_uuid_query(req, res, "user_id", &user_id) ||
      !read_uuid_query(req, res, "event_id", &event_id))
    return;
  if (recipient != NULL && (recipient[0] == '\0' || strlen(recipient) > 320 ||
                            !json_utf8_valid(recipient, strlen(recipient)))) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "recipient must be an address of at most 320 bytes",
                     "recipient");
    return;
  }
  struct db_conn *c = acquire(req, res);
  if (c == NULL) return;
  void *items = NULL;
  int rc =
      nstore_delivery_list(c, recipient, user_id, event_id, (int)limit, &items);
  db_release(req->svc->db, c);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  reply_take(res, 200, json_pack("{s:o, s:n}", "items", items, "next_cursor"));
}

/* --- GET /internal/notifications/sandbox/{channel} --------------------- */

void handle_sandbox_messages(struct http_request *req,
                             struct http_response *res) {
  struct notification_state *st = state_of(req);
  const char *channel = http_param(req, "channel");
  struct sandbox_provider *p = strcmp(channel, "sms") == 0    ? &st->sms
                               : strcmp(channel, "push") == 0 ? &st->push
                                                              : NULL;
  if (p == NULL) {
    http_reply_error(res, req, API_NOT_FOUND, "no such sandbox provider", NULL);
    return;
  }
  long limit;
  if (!read_limit(req, res, 1000, &limit)) return;
  const char *to = http_query(req, "to");
  if (to != NULL && to[0] == '\0') to = NULL;
  reply_take(res, 200,
             json_pack("{s:o}", "items", provider_list(p, to, limit)));
}
