/* store.h - the admin service's SQL: one typed function per statement.
 *
 * Writes come only from the event handlers (events.c), reads only from the
 * report and audit handlers. Times travel as RFC 3339 text, money as int64
 * minor units. Each function returns a db_status (rows returned or affected
 * when >= 0); results land in out-parameters allocated from the given arena.
 */
#ifndef SHOPSPHERE_ADMIN_STORE_H
#define SHOPSPHERE_ADMIN_STORE_H

#include <stdint.h>

#include "kit/arena.h"
#include "kit/db.h"

#define ADMIN_STATEMENT_COUNT 17
extern const struct db_statement admin_statements[ADMIN_STATEMENT_COUNT];

/* --- writes (event handlers) --- */

/* 1 inserted, 0 when the order was recorded already. */
int astore_sale_insert(struct db_conn *c, const char *order_id,
                       const char *user_id, const char *currency, int64_t total,
                       const char *confirmed_at);
int astore_sale_line_insert(struct db_conn *c, const char *order_id,
                            int line_no, const char *product_id,
                            const char *name, int64_t quantity,
                            int64_t unit_price);
int astore_refund_insert(struct db_conn *c, const char *refund_id,
                         const char *order_id, const char *currency,
                         int64_t amount, const char *refunded_at);
/* Sets the order's status unless a newer one (by at) is recorded. */
int astore_order_status(struct db_conn *c, const char *order_id,
                        const char *status, const char *at);
/* sku, name, status and (when has_stock) stock/available of a product,
 * each half unless newer figures are recorded. */
int astore_product_info(struct db_conn *c, const char *product_id,
                        const char *sku, const char *name, const char *status,
                        bool has_stock, int64_t stock, int64_t available,
                        const char *at);
int astore_product_stock(struct db_conn *c, const char *product_id,
                         const char *sku, int64_t stock, int64_t available,
                         const char *at);
int astore_customer(struct db_conn *c, const char *user_id, const char *role,
                    const char *registered_at);
int astore_review(struct db_conn *c, const char *review_id,
                  const char *product_id, const char *status, const char *at);

struct audit_row {
  const char *id, *actor_id, *actor_email, *actor_role, *action, *target_type,
      *target_id, *before, *after, *trace_id, *at; /* before/after: JSON */
};
/* 1 inserted, 0 when the entry exists. */
int astore_audit_insert(struct db_conn *c, const struct audit_row *r);

/* --- reads (reports) --- */

struct bucket_sum {
  int64_t start; /* bucket start, epoch ms */
  int64_t count;
  int64_t amount; /* minor units */
};
/* Confirmed orders not cancelled, per bucket (granularity names a
 * date_trunc field), in [from, to). */
int astore_sales(struct db_conn *c, struct arena *a, const char *currency,
                 const char *from, const char *to, const char *granularity,
                 struct bucket_sum **out);
/* Refunds per bucket, same window. */
int astore_refunds(struct db_conn *c, struct arena *a, const char *currency,
                   const char *from, const char *to, const char *granularity,
                   struct bucket_sum **out);

struct top_product {
  const char *product_id, *name;
  int64_t units, revenue;
};
int astore_top_products(struct db_conn *c, struct arena *a,
                        const char *currency, const char *from, const char *to,
                        int limit, struct top_product **out);

struct stock_row {
  const char *product_id, *sku, *name;
  int64_t stock, available;
};
int astore_low_stock(struct db_conn *c, struct arena *a, int64_t threshold,
                     int limit, struct stock_row **out);

struct status_count {
  const char *status;
  int64_t count;
};
int astore_orders_by_status(struct db_conn *c, struct arena *a,
                            struct status_count **out);
/* Accounts with role customer registered at or after since. */
int astore_new_customers(struct db_conn *c, const char *since, int64_t *n);
int astore_pending_reviews(struct db_conn *c, int64_t *n);

/* Newest first; actor matches the actor's id or e-mail, target the target's
 * id; after_id (an entry id) continues a page. NULL filters are off. */
int astore_audit_list(struct db_conn *c, struct arena *a, const char *actor,
                      const char *target, const char *after_id, int limit,
                      struct audit_row **out);

#endif
