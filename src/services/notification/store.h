/* store.h - the notification service's SQL, one typed function per query.
 * Each returns a db_status (db.h); rows come back through out-parameters.
 */
#ifndef SHOPSPHERE_NOTIFICATION_STORE_H
#define SHOPSPHERE_NOTIFICATION_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "kit/db.h"
#include "services/notification/domain.h"

/* The service's prepared statements (the module descriptor lists them). */
#define NOTIFICATION_STATEMENT_COUNT 17
extern const struct db_statement
    notification_statements[NOTIFICATION_STATEMENT_COUNT];

struct user_row {
  char email[321];
  char username[80];
  char first_name[256];
  char phone[64];
};

int nstore_user_upsert(struct db_conn *c, const char *user_id,
                       const char *email, const char *username,
                       const char *first_name, const char *phone);
int nstore_user_get(struct db_conn *c, const char *user_id,
                    struct user_row *out);

/* An order snapshot; lines_json is a JSON array text [{name, quantity,
 * line_total}] with line_total in minor units. */
struct order_row {
  char user_id[40];
  char currency[8];
  int64_t total;
  char *lines_json; /* malloc'd */
};
int nstore_order_upsert(struct db_conn *c, const char *order_id,
                        const char *user_id, const char *currency,
                        int64_t total, const char *lines_json);
int nstore_order_get(struct db_conn *c, const char *order_id,
                     struct order_row *out);

/* No row: the defaults (1 row found, 0 defaults used). */
int nstore_prefs_get(struct db_conn *c, const char *user_id,
                     struct notify_prefs *out);
int nstore_prefs_put(struct db_conn *c, const char *user_id,
                     const struct notify_prefs *p);

struct delivery_new {
  const char *event_id, *event_type, *channel, *kind, *category;
  const char *user_id, *recipient, *subject, *body_text, *body_html;
  const char *payload; /* JSON text or NULL */
  const char *status;  /* "queued" or "skipped" */
  const char *reason;  /* why skipped, or NULL */
};
/* 1 inserted, 0 when (event, channel) has its row already. */
int nstore_delivery_insert(struct db_conn *c, const struct delivery_new *d);

/* Inserts the in-app notification; 1 with *id and created_at (RFC 3339),
 * 0 when the event made one already. */
int nstore_notification_insert(struct db_conn *c, const char *user_id,
                               const char *event_id, const char *kind,
                               const char *title, const char *body,
                               const char *data_json, char id[40],
                               char created_at[40]);

/* A claimed delivery (status sending, attempts counted). */
struct delivery_claim {
  char id[40];
  char channel[16];
  char kind[32];
  char user_id[40];
  char *recipient, *subject, *body_text, *body_html, *payload; /* malloc'd */
  int attempts;
};
/* Claims at most `limit` due rows; *out malloc'd array of *count. */
int nstore_delivery_claim(struct db_conn *c, int limit,
                          struct delivery_claim **out, int *count);
void nstore_delivery_claims_free(struct delivery_claim *rows, int count);
int nstore_delivery_sent(struct db_conn *c, const char *id);
int nstore_delivery_retry(struct db_conn *c, const char *id, const char *error,
                          int64_t delay_ms);
int nstore_delivery_failed(struct db_conn *c, const char *id,
                           const char *error);
/* Back to queued: rows left `sending` longer than stale_ms (a crash). */
int nstore_delivery_requeue_stale(struct db_conn *c, int64_t stale_ms);

/* The delivery log, newest first, as a json_t array (*items). Filters may be
 * NULL. */
int nstore_delivery_list(struct db_conn *c, const char *recipient,
                         const char *user_id, const char *event_id, int limit,
                         void **items);

/* The feed: newest first, ids below `before` (NULL: from the newest). */
int nstore_feed_list(struct db_conn *c, const char *user_id, const char *before,
                     int limit, void **items);
int nstore_feed_unread(struct db_conn *c, const char *user_id, int64_t *count);
/* Marks one read; 1 with *item (json_t), 0 when not the user's. */
int nstore_feed_read(struct db_conn *c, const char *id, const char *user_id,
                     void **item);

#endif
