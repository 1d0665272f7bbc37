/* store.h - the order service's SQL, one typed function per query.
 *
 * Handlers and the saga never see SQL or a db_result. Every function returns
 * a db_status (db.h): < 0 an error, otherwise rows returned or affected;
 * results come back through out-parameters allocated from the given arena.
 */
#ifndef SHOPSPHERE_ORDER_STORE_H
#define SHOPSPHERE_ORDER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kit/arena.h"
#include "kit/db.h"
#include "services/order/domain.h"

/* The prepared statements (the module descriptor lists them). */
#define ORDER_STATEMENT_COUNT 27
extern const struct db_statement order_statements[ORDER_STATEMENT_COUNT];

struct order_line_record {
  char product_id[40];
  char variant_id[40]; /* "" for a product without options */
  const char *sku;
  const char *name;
  int64_t unit_price;
  int64_t quantity;
  int64_t subtotal;
  int64_t tax;
  int64_t total;
  int64_t discount; /* what promotions took (migration 005) */
};

struct order_transition_record {
  const char *from; /* NULL for the first */
  const char *to;
  const char *reason; /* may be NULL */
  const char *occurred_at;
};

struct order_record {
  char id[40];
  char user_id[40];
  char cart_id[40];
  enum order_status status;
  char currency[4];
  int64_t subtotal, tax, shipping, total;
  int64_t tax_rate_bp;
  const char *shipping_method;
  const char *shipping_address; /* JSON text */
  const char *billing_address;  /* JSON text */
  const char *payment_id;       /* NULL when none */
  int64_t captured, refunded;
  const char *shipment_id;   /* NULL when none */
  const char *cancel_reason; /* NULL when none */
  bool compensation_due;
  const char *created_at, *updated_at;
  /* payment_method {type, brand, last4}: NULL until a payment is
   * authorized (never the token). */
  const char *payment_type, *payment_brand, *payment_last4;
  /* promotions (migration 005): the lines' discounts summed, and
   * [{code, promotion_id, amount}] as JSON text ("[]" when none) */
  int64_t discount_total;
  const char *discounts;
  struct order_line_record *lines;
  size_t line_count;
  struct order_transition_record *transitions;
  size_t transition_count;
};

/* --- checkouts (the saga's idempotency record) --- */

struct checkout_record {
  char request_hash[65];
  char order_id[40];
  char user_id[40];
  char cart_id[40];
  char step[16];
  char owner[40];
  char claim[40];
  int response_status; /* 0 while none */
  const char *response_body;
};

/* Inserts the saga row; DB_ONE_RESULT when this call claimed the key,
 * DB_NO_RESULTS when a row with that key exists already. */
int store_checkout_claim(struct db_conn *c, const char *user_id,
                         const char *key, const char *hash,
                         const char *order_id, const char *cart_id,
                         const char *owner, const char *claim);
int store_checkout_get(struct db_conn *c, struct arena *a, const char *user_id,
                       const char *key, struct checkout_record *out);
/* Moves the saga to `step` if `claim` still holds it (1), else 0. */
int store_checkout_step(struct db_conn *c, const char *order_id,
                        const char *claim, const char *step);
/* Records the final answer (step done) if `claim` still holds the saga. */
int store_checkout_finish(struct db_conn *c, const char *order_id,
                          const char *claim, int status, const char *body);
/* Forgets a saga that made no order (so a retry starts afresh). */
int store_checkout_delete(struct db_conn *c, const char *order_id,
                          const char *claim);
/* Up to max open sagas whose owner stopped beating (or that hang for more
 * than ten minutes), oldest first. */
int store_checkout_stale(struct db_conn *c, struct arena *a,
                         struct checkout_record **out, int max);
/* Hands a saga to `owner` with a new claim if old_claim still holds it. */
int store_checkout_takeover(struct db_conn *c, const char *order_id,
                            const char *old_claim, const char *owner,
                            const char *new_claim);
int store_worker_beat(struct db_conn *c, const char *instance_id);
int store_worker_gone(struct db_conn *c, const char *instance_id);

/* --- tax --- */
/* The rate for a destination: the region's rule, else the country's, else 0. */
int store_tax_rate(struct db_conn *c, const char *country, const char *region,
                   int64_t *rate_bp);

/* --- orders --- */
/* Inserts a pending order with its lines and first transition. */
int store_order_insert(struct db_conn *c, const struct order_record *o);
/* Loads an order with lines and transitions (for_update locks the row). */
int store_order_get(struct db_conn *c, struct arena *a, const char *id,
                    bool for_update, struct order_record *out);
/* Ids of a user's orders (user_id NULL: everyone's), newest first, older
 * than `before` (NULL: from the newest); at most limit. */
int store_order_list(struct db_conn *c, struct arena *a, const char *user_id,
                     const char *before, int limit, char (**ids)[40]);
/* Compare-and-set of the status plus a transition row; 1 when it moved, 0
 * when the order was not in `from`. */
int store_order_transition(struct db_conn *c, const char *id,
                           enum order_status from, enum order_status to,
                           const char *reason);
/* Records the authorized payment and the card it was made with (type
 * "card"; brand and last4 as the provider reported them, NULL if unknown). */
int store_order_set_payment(struct db_conn *c, const char *id,
                            const char *payment_id, const char *brand,
                            const char *last4);
/* Cancels (compare-and-set from `from`) and marks the compensation (stock
 * release, payment void/refund) as due. */
int store_order_cancel(struct db_conn *c, const char *id,
                       enum order_status from, const char *reason);
int store_order_compensated(struct db_conn *c, const char *id);
/* Up to max ids of cancelled orders whose compensation is still due. */
int store_order_compensation_due(struct db_conn *c, struct arena *a,
                                 char (**ids)[40], int max);
int store_order_set_shipment(struct db_conn *c, const char *id,
                             const char *shipment_id, int64_t captured);
int store_order_add_refund(struct db_conn *c, const char *id, int64_t amount);

/* --- refunds --- */
int store_refund_get(struct db_conn *c, struct arena *a, const char *order_id,
                     const char *key, const char **hash, const char **body);
int store_refund_insert(struct db_conn *c, const char *id, const char *order_id,
                        const char *key, const char *hash, int64_t amount,
                        const char *body);

#endif
