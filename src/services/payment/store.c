/* store.c - the payment service's SQL (see store.h). */
#include "services/payment/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define COLS                                                                   \
  "id, order_id, user_id, status, amount, currency, captured_amount, "         \
  "refunded_amount, refund_pending, coalesce(card_brand, ''), "                \
  "coalesce(card_last4, ''), coalesce(decline_code, ''), provider, "           \
  "coalesce(provider_payment_id, ''), void_requested, "                        \
  "to_char(created_at AT TIME ZONE 'UTC', "                                    \
  "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "                                     \
  "to_char(updated_at AT TIME ZONE 'UTC', "                                    \
  "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

const struct db_statement payment_statements[PAYMENT_STATEMENT_COUNT] = {
    {"payment_insert",
     "INSERT INTO payments (id, order_id, user_id, status, amount, currency, "
     "provider) VALUES ($1, $2, $3, $4, $5, $6, $7) "
     "ON CONFLICT (order_id) DO NOTHING RETURNING " COLS},
    {"payment_get", "SELECT " COLS " FROM payments WHERE id = $1"},
    {"payment_get_lock",
     "SELECT " COLS " FROM payments WHERE id = $1 FOR UPDATE"},
    {"payment_by_order", "SELECT " COLS " FROM payments WHERE order_id = $1"},
    {"payment_by_order_lock",
     "SELECT " COLS " FROM payments WHERE order_id = $1 FOR UPDATE"},
    {"payment_by_provider_id",
     "SELECT " COLS " FROM payments WHERE provider = $1 AND "
     "provider_payment_id = $2 FOR UPDATE"},
    {"payment_update",
     "UPDATE payments SET status = $2, captured_amount = $3, "
     "refunded_amount = $4, card_brand = nullif($5, ''), "
     "card_last4 = nullif($6, ''), decline_code = nullif($7, ''), "
     "provider_payment_id = nullif($8, ''), void_requested = $9, "
     "updated_at = now() WHERE id = $1 RETURNING " COLS},
    {"refund_reserve",
     "UPDATE payments SET refund_pending = refund_pending + $2, "
     "updated_at = now() WHERE id = $1 AND status IN ('captured', "
     "'partially_refunded') AND captured_amount - refunded_amount - "
     "refund_pending >= $2 RETURNING " COLS},
    {"refund_insert",
     "INSERT INTO payment_refunds (id, payment_id, amount, status) "
     "VALUES ($1, $2, $3, 'pending')"},
    {"refund_finish",
     "UPDATE payment_refunds SET status = $2, provider_refund_id = "
     "nullif($3, ''), updated_at = now() WHERE id = $1 AND status = 'pending' "
     "RETURNING payment_id, amount"},
    {"refund_lookup",
     "SELECT payment_id, amount, status FROM payment_refunds WHERE id = $1"},
    {"refund_book",
     "UPDATE payments SET refund_pending = refund_pending - $2, "
     "refunded_amount = refunded_amount + $2, status = CASE WHEN "
     "refunded_amount + $2 >= captured_amount THEN 'refunded' ELSE "
     "'partially_refunded' END, updated_at = now() WHERE id = $1 "
     "RETURNING " COLS},
    {"refund_release",
     "UPDATE payments SET refund_pending = refund_pending - $2, "
     "updated_at = now() WHERE id = $1 RETURNING " COLS},
    {"payments_unsettled",
     "SELECT " COLS " FROM payments WHERE (status = 'unknown' OR "
     "(void_requested AND status = 'authorized')) AND updated_at < now() - "
     "make_interval(secs => $1::float8 / 1000) ORDER BY updated_at LIMIT $2"},
    {"refunds_pending",
     "SELECT r.id, r.payment_id, r.amount, coalesce(p.provider_payment_id, '') "
     "FROM payment_refunds r JOIN payments p ON p.id = r.payment_id WHERE "
     "r.status = 'pending' AND r.created_at < now() - make_interval(secs => "
     "$1::float8 / 1000) ORDER BY r.created_at LIMIT $2"},
    {"webhook_seen",
     "INSERT INTO webhook_events (provider, event_id, event_type) VALUES "
     "($1, $2, $3) ON CONFLICT DO NOTHING"},
};

static void copy(char *dst, size_t size, const char *src) {
  snprintf(dst, size, "%s", src ? src : "");
}

static void read_row(const struct db_result *r, int row, struct payment *p) {
  memset(p, 0, sizeof *p);
  copy(p->id, sizeof p->id, db_result_text(r, row, 0));
  copy(p->order_id, sizeof p->order_id, db_result_text(r, row, 1));
  copy(p->user_id, sizeof p->user_id, db_result_text(r, row, 2));
  if (!payment_status_parse(db_result_text(r, row, 3), &p->status))
    p->status = PAYMENT_UNKNOWN;
  p->amount = db_result_int64(r, row, 4);
  copy(p->currency, sizeof p->currency, db_result_text(r, row, 5));
  p->captured_amount = db_result_int64(r, row, 6);
  p->refunded_amount = db_result_int64(r, row, 7);
  p->refund_pending = db_result_int64(r, row, 8);
  copy(p->card_brand, sizeof p->card_brand, db_result_text(r, row, 9));
  copy(p->card_last4, sizeof p->card_last4, db_result_text(r, row, 10));
  copy(p->decline_code, sizeof p->decline_code, db_result_text(r, row, 11));
  copy(p->provider, sizeof p->provider, db_result_text(r, row, 12));
  copy(p->provider_payment_id, sizeof p->provider_payment_id,
       db_result_text(r, row, 13));
  p->void_requested = db_result_bool(r, row, 14);
  copy(p->created_at, sizeof p->created_at, db_result_text(r, row, 15));
  copy(p->updated_at, sizeof p->updated_at, db_result_text(r, row, 16));
}

/* Runs a statement expected to return at most one payment row. */
static int one_payment(struct db_conn *conn, const char *stmt, int n,
                       const char *const *params, struct payment *out) {
  struct db_result *r = NULL;
  int rc = db_exec(conn, stmt, n, params, &r);
  if (rc > 0 && out != NULL) read_row(r, 0, out);
  db_result_free(r);
  return rc;
}

int store_payment_insert(struct db_conn *conn, const struct payment *p,
                         struct payment *out) {
  char amount[24];
  snprintf(amount, sizeof amount, "%" PRId64, p->amount);
  const char *params[] = {
      p->id,  p->order_id, p->user_id, payment_status_name(p->status),
      amount, p->currency, p->provider};
  return one_payment(conn, "payment_insert", 7, params, out);
}

int store_payment_get(struct db_conn *conn, const char *id, bool lock,
                      struct payment *out) {
  const char *params[] = {id};
  return one_payment(conn, lock ? "payment_get_lock" : "payment_get", 1, params,
                     out);
}

int store_payment_by_order(struct db_conn *conn, const char *order_id,
                           bool lock, struct payment *out) {
  const char *params[] = {order_id};
  return one_payment(conn, lock ? "payment_by_order_lock" : "payment_by_order",
                     1, params, out);
}

int store_payment_by_provider_id(struct db_conn *conn, const char *provider,
                                 const char *provider_payment_id,
                                 struct payment *out) {
  const char *params[] = {provider, provider_payment_id};
  return one_payment(conn, "payment_by_provider_id", 2, params, out);
}

int store_payment_update(struct db_conn *conn, const struct payment *p,
                         struct payment *out) {
  char captured[24], refunded[24];
  snprintf(captured, sizeof captured, "%" PRId64, p->captured_amount);
  snprintf(refunded, sizeof refunded, "%" PRId64, p->refunded_amount);
  const char *params[] = {p->id,
                          payment_status_name(p->status),
                          captured,
                          refunded,
                          p->card_brand,
                          p->card_last4,
                          p->decline_code,
                          p->provider_payment_id,
                          p->void_requested ? "true" : "false"};
  return one_payment(conn, "payment_update", 9, params, out);
}

int store_refund_reserve(struct db_conn *conn, const char *payment_id,
                         const char *refund_id, int64_t amount,
                         struct payment *out) {
  char amt[24];
  snprintf(amt, sizeof amt, "%" PRId64, amount);
  const char *params[] = {payment_id, amt};
  int rc = one_payment(conn, "refund_reserve", 2, params, out);
  if (rc <= 0) return rc;
  const char *ins[] = {refund_id, payment_id, amt};
  int rc2 = db_exec(conn, "refund_insert", 3, ins, NULL);
  return rc2 < 0 ? rc2 : rc;
}

int store_refund_settle(struct db_conn *conn, const char *refund_id,
                        bool succeeded, const char *provider_refund_id,
                        struct payment *out) {
  const char *params[] = {refund_id, succeeded ? "succeeded" : "failed",
                          provider_refund_id ? provider_refund_id : ""};
  struct db_result *r = NULL;
  int rc = db_exec(conn, "refund_finish", 3, params, &r);
  if (rc <= 0) {
    db_result_free(r);
    return rc;
  }
  char payment_id[PAYMENT_ID_LEN], amount[24];
  copy(payment_id, sizeof payment_id, db_result_text(r, 0, 0));
  copy(amount, sizeof amount, db_result_text(r, 0, 1));
  db_result_free(r);
  const char *book[] = {payment_id, amount};
  return one_payment(conn, succeeded ? "refund_book" : "refund_release", 2,
                     book, out);
}

int store_refund_lookup(struct db_conn *conn, const char *refund_id,
                        char payment_id[PAYMENT_ID_LEN], int64_t *amount,
                        char status[16]) {
  const char *params[] = {refund_id};
  struct db_result *r = NULL;
  int rc = db_exec(conn, "refund_lookup", 1, params, &r);
  if (rc == DB_ONE_RESULT) {
    copy(payment_id, PAYMENT_ID_LEN, db_result_text(r, 0, 0));
    *amount = db_result_int64(r, 0, 1);
    copy(status, 16, db_result_text(r, 0, 2));
  }
  db_result_free(r);
  return rc;
}

int store_payments_unsettled(struct db_conn *conn, int older_ms,
                             struct payment *out, int max) {
  char older[16], limit[16];
  snprintf(older, sizeof older, "%d", older_ms);
  snprintf(limit, sizeof limit, "%d", max);
  const char *params[] = {older, limit};
  struct db_result *r = NULL;
  int rc = db_exec(conn, "payments_unsettled", 2, params, &r);
  for (int i = 0; i < rc && i < max; i++)
    read_row(r, i, &out[i]);
  db_result_free(r);
  return rc;
}

int store_refunds_pending(struct db_conn *conn, int older_ms,
                          struct pending_refund *out, int max) {
  char older[16], limit[16];
  snprintf(older, sizeof older, "%d", older_ms);
  snprintf(limit, sizeof limit, "%d", max);
  const char *params[] = {older, limit};
  struct db_result *r = NULL;
  int rc = db_exec(conn, "refunds_pending", 2, params, &r);
  for (int i = 0; i < rc && i < max; i++) {
    copy(out[i].id, sizeof out[i].id, db_result_text(r, i, 0));
    copy(out[i].payment_id, sizeof out[i].payment_id, db_result_text(r, i, 1));
    out[i].amount = db_result_int64(r, i, 2);
    copy(out[i].provider_payment_id, sizeof out[i].provider_payment_id,
         db_result_text(r, i, 3));
  }
  db_result_free(r);
  return rc;
}

int store_webhook_seen(struct db_conn *conn, const char *provider,
                       const char *event_id, const char *event_type) {
  const char *params[] = {provider, event_id, event_type};
  return db_exec(conn, "webhook_seen", 3, params, NULL);
}
