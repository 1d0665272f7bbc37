/* store.c - the notification service's SQL (see store.h). */
#include "services/notification/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/uuid.h"

#define TS(col)                                                                \
  "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

#define FEED_COLUMNS                                                           \
  "id, kind, title, body, data::text, " TS("read_at") ", " TS("created_at")

const struct db_statement
    notification_statements[NOTIFICATION_STATEMENT_COUNT] = {
        {"user_upsert",
         "INSERT INTO users (user_id, email, username, first_name, phone) "
         "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET "
         "email = EXCLUDED.email, username = COALESCE(EXCLUDED.username, "
         "users.username), first_name = COALESCE(EXCLUDED.first_name, "
         "users.first_name), phone = COALESCE(EXCLUDED.phone, users.phone), "
         "updated_at = now()"},
        {"user_get",
         "SELECT email, COALESCE(username, ''), COALESCE(first_name, ''), "
         "COALESCE(phone, '') FROM users WHERE user_id = $1"},
        {"order_upsert",
         "INSERT INTO orders (order_id, user_id, currency, total_minor, lines) "
         "VALUES ($1, $2, $3, $4::bigint, $5::jsonb) ON CONFLICT (order_id) DO "
         "UPDATE SET currency = EXCLUDED.currency, total_minor = "
         "EXCLUDED.total_minor, lines = EXCLUDED.lines, updated_at = now()"},
        {"order_get",
         "SELECT user_id, currency, total_minor, lines::text FROM orders "
         "WHERE order_id = $1"},
        {"prefs_get",
         "SELECT email_marketing, email_order_updates, sms_marketing, "
         "sms_order_updates, push_marketing, push_order_updates FROM "
         "preferences "
         "WHERE user_id = $1"},
        {"prefs_put",
         "INSERT INTO preferences (user_id, email_marketing, "
         "email_order_updates, "
         "sms_marketing, sms_order_updates, push_marketing, "
         "push_order_updates) "
         "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id) DO UPDATE "
         "SET "
         "email_marketing = EXCLUDED.email_marketing, email_order_updates = "
         "EXCLUDED.email_order_updates, sms_marketing = "
         "EXCLUDED.sms_marketing, "
         "sms_order_updates = EXCLUDED.sms_order_updates, push_marketing = "
         "EXCLUDED.push_marketing, push_order_updates = "
         "EXCLUDED.push_order_updates, updated_at = now()"},
        {"delivery_insert",
         "INSERT INTO deliveries (id, event_id, event_type, channel, kind, "
         "category, user_id, recipient, subject, body_text, body_html, "
         "payload, "
         "status, last_error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
         "$11, $12::jsonb, $13, $14) ON CONFLICT (event_id, channel) DO "
         "NOTHING"},
        {"notification_insert",
         "INSERT INTO notifications (id, user_id, event_id, kind, title, body, "
         "data) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT "
         "(event_id) "
         "DO NOTHING RETURNING " TS("created_at")},
        {"delivery_claim",
         "WITH due AS (SELECT id FROM deliveries WHERE status = 'queued' AND "
         "next_attempt_at <= now() ORDER BY next_attempt_at LIMIT $1::int FOR "
         "UPDATE SKIP LOCKED) UPDATE deliveries d SET status = 'sending', "
         "attempts = d.attempts + 1, claimed_at = now(), updated_at = now() "
         "FROM "
         "due WHERE d.id = due.id RETURNING d.id, d.channel, d.kind, "
         "COALESCE(d.user_id::text, ''), d.recipient, d.subject, d.body_text, "
         "COALESCE(d.body_html, ''), COALESCE(d.payload::text, ''), "
         "d.attempts"},
        {"delivery_sent",
         "UPDATE deliveries SET status = 'sent', sent_at = now(), last_error = "
         "NULL, updated_at = now() WHERE id = $1 AND status = 'sending'"},
        {"delivery_retry",
         "UPDATE deliveries SET status = 'queued', last_error = $2, "
         "next_attempt_at = now() + $3::bigint * interval '1 millisecond', "
         "updated_at = now() WHERE id = $1 AND status = 'sending'"},
        {"delivery_failed", "UPDATE deliveries SET status = 'failed', "
                            "last_error = $2, updated_at = "
                            "now() WHERE id = $1 AND status = 'sending'"},
        {"delivery_requeue_stale",
         "UPDATE deliveries SET status = 'queued', last_error = 'interrupted "
         "while sending: sent again with the same idempotency key', updated_at "
         "= "
         "now() WHERE status = 'sending' AND claimed_at < now() - $1::bigint * "
         "interval '1 millisecond'"},
        {"delivery_list",
         "SELECT id, event_id, event_type, channel, kind, category, recipient, "
         "subject, status, attempts, last_error, " TS("created_at") ", " TS(
             "sent_at") " FROM deliveries WHERE ($1::text IS NULL OR "
                        "lower(recipient) = lower($1)) AND ($2::uuid IS NULL "
                        "OR "
                        "user_id = $2) AND ($3::uuid IS NULL OR event_id = $3) "
                        "ORDER BY created_at DESC, id DESC LIMIT $4::int"},
        {"feed_list",
         "SELECT " FEED_COLUMNS " FROM notifications WHERE user_id = $1 AND "
         "($2::uuid IS NULL OR id < $2) ORDER BY id DESC LIMIT $3::int"},
        {"feed_unread",
         "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS "
         "NULL"},
        {"feed_read", "UPDATE notifications SET read_at = COALESCE(read_at, "
                      "now()) WHERE id = "
                      "$1 AND user_id = $2 RETURNING " FEED_COLUMNS},
};
_Static_assert(sizeof notification_statements /
                       sizeof notification_statements[0] ==
                   NOTIFICATION_STATEMENT_COUNT,
               "statement count");

static void copy(char *dst, size_t size, const char *src) {
  snprintf(dst, size, "%s", src ? src : "");
}

int nstore_user_upsert(struct db_conn *c, const char *user_id,
                       const char *email, const char *username,
                       const char *first_name, const char *phone) {
  const char *p[] = {user_id, email, username, first_name, phone};
  return db_exec(c, "user_upsert", 5, p, NULL);
}

int nstore_user_get(struct db_conn *c, const char *user_id,
                    struct user_row *out) {
  const char *p[] = {user_id};
  struct db_result *r = NULL;
  int rc = db_exec(c, "user_get", 1, p, &r);
  if (rc == 1) {
    copy(out->email, sizeof out->email, db_result_text(r, 0, 0));
    copy(out->username, sizeof out->username, db_result_text(r, 0, 1));
    copy(out->first_name, sizeof out->first_name, db_result_text(r, 0, 2));
    copy(out->phone, sizeof out->phone, db_result_text(r, 0, 3));
  }
  db_result_free(r);
  return rc;
}

int nstore_order_upsert(struct db_conn *c, const char *order_id,
                        const char *user_id, const char *currency,
                        int64_t total, const char *lines_json) {
  char total_s[24];
  snprintf(total_s, sizeof total_s, "%lld", (long long)total);
  const char *p[] = {order_id, user_id, currency, total_s, lines_json};
  return db_exec(c, "order_upsert", 5, p, NULL);
}

int nstore_order_get(struct db_conn *c, const char *order_id,
                     struct order_row *out) {
  const char *p[] = {order_id};
  struct db_result *r = NULL;
  out->lines_json = NULL;
  int rc = db_exec(c, "order_get", 1, p, &r);
  if (rc == 1) {
    copy(out->user_id, sizeof out->user_id, db_result_text(r, 0, 0));
    copy(out->currency, sizeof out->currency, db_result_text(r, 0, 1));
    out->total = db_result_int64(r, 0, 2);
    out->lines_json = strdup(db_result_text(r, 0, 3));
    if (out->lines_json == NULL) rc = DB_HARD_ERROR;
  }
  db_result_free(r);
  return rc;
}

int nstore_prefs_get(struct db_conn *c, const char *user_id,
                     struct notify_prefs *out) {
  notify_prefs_default(out);
  const char *p[] = {user_id};
  struct db_result *r = NULL;
  int rc = db_exec(c, "prefs_get", 1, p, &r);
  if (rc == 1) {
    for (int ch = 0; ch < 3; ch++) {
      out->marketing[ch] = db_result_bool(r, 0, ch * 2);
      out->order_updates[ch] = db_result_bool(r, 0, ch * 2 + 1);
    }
  }
  db_result_free(r);
  return rc;
}

int nstore_prefs_put(struct db_conn *c, const char *user_id,
                     const struct notify_prefs *pr) {
  const char *b[6];
  for (int ch = 0; ch < 3; ch++) {
    b[ch * 2] = pr->marketing[ch] ? "true" : "false";
    b[ch * 2 + 1] = pr->order_updates[ch] ? "true" : "false";
  }
  const char *p[] = {user_id, b[0], b[1], b[2], b[3], b[4], b[5]};
  return db_exec(c, "prefs_put", 7, p, NULL);
}

int nstore_delivery_insert(struct db_conn *c, const struct delivery_new *d) {
  char id[UUID_STR_LEN];
  uuid_v7(id);
  const char *p[] = {id,         d->event_id,  d->event_type, d->channel,
                     d->kind,    d->category,  d->user_id,    d->recipient,
                     d->subject, d->body_text, d->body_html,  d->payload,
                     d->status,  d->reason};
  return db_exec(c, "delivery_insert", 14, p, NULL);
}

int nstore_notification_insert(struct db_conn *c, const char *user_id,
                               const char *event_id, const char *kind,
                               const char *title, const char *body,
                               const char *data_json, char id[40],
                               char created_at[40]) {
  uuid_v7(id);
  const char *p[] = {id, user_id, event_id, kind, title, body, data_json};
  struct db_result *r = NULL;
  int rc = db_exec(c, "notification_insert", 7, p, &r);
  if (rc == 1) copy(created_at, 40, db_result_text(r, 0, 0));
  db_result_free(r);
  return rc;
}

int nstore_delivery_claim(struct db_conn *c, int limit,
                          struct delivery_claim **out, int *count) {
  *out = NULL;
  *count = 0;
  char limit_s[16];
  snprintf(limit_s, sizeof limit_s, "%d", limit);
  const char *p[] = {limit_s};
  struct db_result *r = NULL;
  int rc = db_exec(c, "delivery_claim", 1, p, &r);
  if (rc <= 0) {
    db_result_free(r);
    return rc;
  }
  struct delivery_claim *rows = calloc((size_t)rc, sizeof *rows);
  if (rows == NULL) {
    db_result_free(r);
    return DB_HARD_ERROR;
  }
  for (int i = 0; i < rc; i++) {
    struct delivery_claim *d = &rows[i];
    copy(d->id, sizeof d->id, db_result_text(r, i, 0));
    copy(d->channel, sizeof d->channel, db_result_text(r, i, 1));
    copy(d->kind, sizeof d->kind, db_result_text(r, i, 2));
    copy(d->user_id, sizeof d->user_id, db_result_text(r, i, 3));
    d->recipient = strdup(db_result_text(r, i, 4));
    d->subject = strdup(db_result_text(r, i, 5));
    d->body_text = strdup(db_result_text(r, i, 6));
    d->body_html = strdup(db_result_text(r, i, 7));
    d->payload = strdup(db_result_text(r, i, 8));
    d->attempts = (int)db_result_int64(r, i, 9);
  }
  db_result_free(r);
  *out = rows;
  *count = rc;
  return rc;
}

void nstore_delivery_claims_free(struct delivery_claim *rows, int count) {
  for (int i = 0; rows != NULL && i < count; i++) {
    free(rows[i].recipient);
    free(rows[i].subject);
    free(rows[i].body_text);
    free(rows[i].body_html);
    free(rows[i].payload);
  }
  free(rows);
}

int nstore_delivery_sent(struct db_conn *c, const char *id) {
  const char *p[] = {id};
  return db_exec(c, "delivery_sent", 1, p, NULL);
}

int nstore_delivery_retry(struct db_conn *c, const char *id, const char *error,
                          int64_t delay_ms) {
  char delay[24];
  snprintf(delay, sizeof delay, "%lld", (long long)delay_ms);
  const char *p[] = {id, error, delay};
  return db_exec(c, "delivery_retry", 3, p, NULL);
}

int nstore_delivery_failed(struct db_conn *c, const char *id,
                           const char *error) {
  const char *p[] = {id, error};
  return db_exec(c, "delivery_failed", 2, p, NULL);
}

int nstore_delivery_requeue_stale(struct db_conn *c, int64_t stale_ms) {
  char ms[24];
  snprintf(ms, sizeof ms, "%lld", (long long)stale_ms);
  const char *p[] = {ms};
  return db_exec(c, "delivery_requeue_stale", 1, p, NULL);
}

static json_t *text_or_null(const struct db_result *r, int row, int col) {
  return db_result_is_null(r, row, col)
             ? json_null()
             : json_string(db_result_text(r, row, col));
}

int nstore_delivery_list(struct db_conn *c, const char *recipient,
                         const char *user_id, const char *event_id, int limit,
                         void **items) {
  char limit_s[16];
  snprintf(limit_s, sizeof limit_s, "%d", limit);
  const char *p[] = {recipient, user_id, event_id, limit_s};
  struct db_result *r = NULL;
  int rc = db_exec(c, "delivery_list", 4, p, &r);
  if (rc < 0) return rc;
  json_t *arr = json_array();
  for (int i = 0; i < rc; i++) {
    json_t *o = json_object();
    static const char *const names[] = {"id",        "event_id", "event_type",
                                        "channel",   "kind",     "category",
                                        "recipient", "subject",  "status"};
    for (int k = 0; k < 9; k++)
      json_object_set_new(o, names[k], json_string(db_result_text(r, i, k)));
    json_object_set_new(o, "attempts", json_integer(db_result_int64(r, i, 9)));
    json_object_set_new(o, "last_error", text_or_null(r, i, 10));
    json_object_set_new(o, "created_at", text_or_null(r, i, 11));
    json_object_set_new(o, "sent_at", text_or_null(r, i, 12));
    json_array_append_new(arr, o);
  }
  db_result_free(r);
  *items = arr;
  return rc;
}

static json_t *feed_item(const struct db_result *r, int i) {
  json_error_t jerr;
  json_t *data = json_loads(db_result_text(r, i, 4), 0, &jerr);
  return json_pack(
      "{s:s, s:s, s:s, s:s, s:o, s:b, s:o, s:s}", "id", db_result_text(r, i, 0),
      "kind", db_result_text(r, i, 1), "title", db_result_text(r, i, 2), "body",
      db_result_text(r, i, 3), "data", data ? data : json_object(), "read",
      !db_result_is_null(r, i, 5), "read_at", text_or_null(r, i, 5),
      "created_at", db_result_text(r, i, 6));
}

int nstore_feed_list(struct db_conn *c, const char *user_id, const char *before,
                     int limit, void **items) {
  char limit_s[16];
  snprintf(limit_s, sizeof limit_s, "%d", limit);
  const char *p[] = {user_id, before, limit_s};
  struct db_result *r = NULL;
  int rc = db_exec(c, "feed_list", 3, p, &r);
  if (rc < 0) return rc;
  json_t *arr = json_array();
  for (int i = 0; i < rc; i++)
    json_array_append_new(arr, feed_item(r, i));
  db_result_free(r);
  *items = arr;
  return rc;
}

int nstore_feed_unread(struct db_conn *c, const char *user_id, int64_t *count) {
  const char *p[] = {user_id};
  struct db_result *r = NULL;
  int rc = db_exec(c, "feed_unread", 1, p, &r);
  if (rc == 1) *count = db_result_int64(r, 0, 0);
  db_result_free(r);
  return rc;
}

int nstore_feed_read(struct db_conn *c, const char *id, const char *user_id,
                     void **item) {
  const char *p[] = {id, user_id};
  struct db_result *r = NULL;
  int rc = db_exec(c, "feed_read", 2, p, &r);
  if (rc == 1) *item = feed_item(r, 0);
  db_result_free(r);
  return rc;
}
