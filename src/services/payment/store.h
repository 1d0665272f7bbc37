/* store.h - the payment service's SQL, one typed function per query.
 *
 * Every function runs one prepared statement on conn (usually inside a
 * db_transaction) and returns a db_status: < 0 an error, otherwise the number
 * of rows. Results come back through out-parameters.
 */
#ifndef SHOPSPHERE_PAYMENT_STORE_H
#define SHOPSPHERE_PAYMENT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "kit/db.h"
#include "services/payment/domain.h"

/* The service's prepared statements (for the module descriptor). */
#define PAYMENT_STATEMENT_COUNT 16
extern const struct db_statement payment_statements[PAYMENT_STATEMENT_COUNT];

/* Inserts p (status, amounts, ids as given); 0 rows when the order already
 * has a payment. *out receives the stored row. */
int store_payment_insert(struct db_conn *conn, const struct payment *p,
                         struct payment *out);

/* By id / by order id; lock takes the row FOR UPDATE. */
int store_payment_get(struct db_conn *conn, const char *id, bool lock,
                      struct payment *out);
int store_payment_by_order(struct db_conn *conn, const char *order_id,
                           bool lock, struct payment *out);
/* By the provider's id, FOR UPDATE. */
int store_payment_by_provider_id(struct db_conn *conn, const char *provider,
                                 const char *provider_payment_id,
                                 struct payment *out);

/* Writes every mutable column of p (status, amounts, card, decline, provider
 * id, void_requested) and stamps updated_at; *out is the row after. */
int store_payment_update(struct db_conn *conn, const struct payment *p,
                         struct payment *out);

/* Reserves amount for a refund: only when the payment is captured or
 * partially refunded and captured − refunded − pending ≥ amount. 0 rows
 * otherwise. Also inserts the refund row (pending) with refund_id. */
int store_refund_reserve(struct db_conn *conn, const char *payment_id,
                         const char *refund_id, int64_t amount,
                         struct payment *out);

/* Settles a pending refund: succeeded books it (pending → refunded, status
 * refunded / partially_refunded), failed releases the reservation. 0 rows
 * when it was settled already. *out is the payment after. */
int store_refund_settle(struct db_conn *conn, const char *refund_id,
                        bool succeeded, const char *provider_refund_id,
                        struct payment *out);

/* A refund by its id (the caller's idempotency key): its payment, amount
 * and status ("pending", "succeeded", "failed"). DB_NO_RESULTS when none. */
int store_refund_lookup(struct db_conn *conn, const char *refund_id,
                        char payment_id[PAYMENT_ID_LEN], int64_t *amount,
                        char status[16]);

/* Payments whose outcome is to settle (unknown, or authorized with a void
 * asked), untouched for older_ms; at most max into out. */
int store_payments_unsettled(struct db_conn *conn, int older_ms,
                             struct payment *out, int max);

struct pending_refund {
  char id[PAYMENT_ID_LEN];
  char payment_id[PAYMENT_ID_LEN];
  int64_t amount;
  char provider_payment_id[PROVIDER_ID_MAX];
};

/* Refunds pending for more than older_ms, at most max. */
int store_refunds_pending(struct db_conn *conn, int older_ms,
                          struct pending_refund *out, int max);

/* Records a webhook event id: 1 row the first time, 0 for a duplicate. */
int store_webhook_seen(struct db_conn *conn, const char *provider,
                       const char *event_id, const char *event_type);

#endif
