/* notification.c - the notification service module: email, SMS and push;
 * preferences; in-app feed.
 *
 * Identity's part (issue 4): the welcome e-mail on `user.registered` and the
 * password-reset e-mail on `user.password_reset_requested`. "Sending" is
 * recording the message in sent_emails; the internal route lists them so an
 * operator (or a system test holding the internal secret) can read what went
 * out.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/json.h"
#include "kit/log.h"
#include "kit/service.h"
#include "kit/uuid.h"

#define TS(col)                                                                \
  "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static const struct db_statement statements[] = {
    {"email_insert",
     "INSERT INTO sent_emails (id, event_id, template, to_address, subject, "
     "body) VALUES ($1, $2, $3, $4, $5, $6) "
     "ON CONFLICT (event_id, template) DO NOTHING"},
    {"email_list",
     "SELECT id, template, to_address, subject, body, " TS(
         "created_at") " FROM sent_emails WHERE lower(to_address) = lower($1) "
                       "ORDER BY created_at DESC, id DESC LIMIT $2::int"},
};

/* Records one e-mail; a db_status. */
static int send_email(struct db_conn *conn, const struct bus_event *ev,
                      const char *template, const char *to, const char *subject,
                      const char *body) {
  char id[UUID_STR_LEN];
  uuid_v7(id);
  const char *p[] = {id, ev->event_id, template, to, subject, body};
  int rc = db_exec(conn, "email_insert", 6, p, NULL);
  if (rc >= 0)
    log_info("e-mail '%s' sent for event %s", template, ev->event_id);
  return rc;
}

static const char *field(const struct bus_event *ev, const char *name) {
  return json_string_value(json_object_get(ev->data, name));
}

static int on_user_registered(struct service *svc, struct db_conn *conn,
                              const struct bus_event *ev) {
  (void)svc;
  const char *email = field(ev, "email");
  const char *name = field(ev, "first_name");
  if (name == NULL) name = field(ev, "username");
  if (email == NULL) {
    log_error("user.registered %s without email: skipped", ev->event_id);
    return 0; /* nothing to retry: the event is malformed */
  }
  char body[1024];
  snprintf(body, sizeof body,
           "Hello %s,\n\nwelcome to ShopSphere! Your account %s is ready.\n",
           name ? name : "there", email);
  return send_email(conn, ev, "welcome", email, "Welcome to ShopSphere", body);
}

static int on_password_reset(struct service *svc, struct db_conn *conn,
                             const struct bus_event *ev) {
  (void)svc;
  const char *email = field(ev, "email");
  const char *token = field(ev, "token");
  const char *expires = field(ev, "expires_at");
  if (email == NULL || token == NULL) {
    log_error("user.password_reset_requested %s incomplete: skipped",
              ev->event_id);
    return 0;
  }
  char body[1024];
  snprintf(body, sizeof body,
           "Someone asked to reset the password of your ShopSphere account.\n"
           "If it was you, use this reset token before %s:\n\n"
           "reset_token: %s\n\n"
           "If it was not you, ignore this e-mail; nothing changes.\n",
           expires ? expires : "it expires", token);
  return send_email(conn, ev, "password_reset", email,
                    "Reset your ShopSphere password", body);
}

static const struct event_handler events[] = {
    {"user.registered", on_user_registered},
    {"user.password_reset_requested", on_password_reset},
};

/* GET /internal/notifications/emails?to=&limit=: what was sent to an
 * address, newest first. Internal: e-mails carry reset tokens. */
static void handle_emails(struct http_request *req, struct http_response *res) {
  const char *to = http_query(req, "to");
  const char *limit_s = http_query(req, "limit");
  if (to == NULL || to[0] == '\0' || strlen(to) > 320 ||
      !json_utf8_valid(to, strlen(to))) {
    http_reply_error(res, req, API_UNPROCESSABLE, "to is required", "to");
    return;
  }
  long limit = 20;
  if (limit_s != NULL) {
    char *end = NULL;
    limit = strtol(limit_s, &end, 10);
    if (end == limit_s || *end != '\0' || limit < 1 || limit > 100) {
      http_reply_error(res, req, API_UNPROCESSABLE,
                       "limit must be a whole number from 1 to 100", "limit");
      return;
    }
  }
  char limit_text[16];
  snprintf(limit_text, sizeof limit_text, "%ld", limit);
  const char *p[] = {to, limit_text};
  struct db_conn *conn = db_acquire(req->svc->db, 2000);
  if (conn == NULL) {
    http_reply_error(res, req, API_DATABASE_ERROR,
                     "the database is unavailable; retry shortly", NULL);
    return;
  }
  struct db_result *r = NULL;
  int rc = db_exec(conn, "email_list", 2, p, &r);
  db_release(req->svc->db, conn);
  if (rc < 0) {
    http_reply_error(res, req, API_DATABASE_ERROR,
                     "the database is unavailable; retry shortly", NULL);
    return;
  }
  json_t *items = json_array();
  for (int i = 0; i < rc; i++) {
    json_array_append_new(
        items,
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id",
                  db_result_text(r, i, 0), "template", db_result_text(r, i, 1),
                  "to", db_result_text(r, i, 2), "subject",
                  db_result_text(r, i, 3), "body", db_result_text(r, i, 4),
                  "created_at", db_result_text(r, i, 5)));
  }
  db_result_free(r);
  json_t *doc = json_pack("{s:o, s:n}", "items", items, "next_cursor");
  http_reply_json(res, 200, doc);
  json_decref(doc);
}

static const struct route routes[] = {
    {"GET", "/internal/notifications/emails", handle_emails, ACCESS_INTERNAL,
     NULL},
};

const struct service_module notification_module = {
    .id = SVC_NOTIFICATION,
    .summary = "email, SMS and push; preferences; in-app feed",
    .needs = NEEDS_DB | NEEDS_AMQP,
    .routes = routes,
    .route_count = sizeof routes / sizeof routes[0],
    .statements = statements,
    .statement_count = sizeof statements / sizeof statements[0],
    .events = events,
    .event_count = sizeof events / sizeof events[0],
};
