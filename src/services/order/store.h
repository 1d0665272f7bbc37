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
#define ORDER_STATEMENT_COUNT 46
extern const struct db_statement order_statements[ORDER_STATEMENT_COUNT];

struct order_line_record {
  char id[40]; /* the order_item_id of the API and events */
  char product_id[40];
  char variant_id[40]; /* "" for a product without options */
  const char *sku;
  const char *name;
  int64_t unit_price;
  int64_t quantity;
  int64_t subtotal;
  int64_t tax;
  int64_t total;
  int64_t discount;          /* what promotions took (migration 005) */
  int64_t refunded_quantity; /* units refunded (returns) */
  int64_t refunded;          /* minor units refunded for this line */
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

/* --- refunds: an intent recorded before the payment service is called --- */

enum refund_state { REFUND_PENDING = 0, REFUND_SUCCEEDED, REFUND_FAILED };

struct refund_record {
  char id[40]; /* also the payment service's idempotency key */
  char order_id[40];
  char return_id[40]; /* "" for an operator's refund of an amount */
  enum refund_state state;
  int64_t amount;
  const char *request_hash; /* NULL without Idempotency-Key */
  const char *body;         /* the final answer, NULL until settled */
  const char *last_error;   /* NULL when none */
};

/* The refund an Idempotency-Key made for the order (DB_NO_RESULTS: none). */
int store_refund_by_key(struct db_conn *c, struct arena *a,
                        const char *order_id, const char *key,
                        struct refund_record *out);
/* By id; for_update locks the row. */
int store_refund_get(struct db_conn *c, struct arena *a, const char *id,
                     bool for_update, struct refund_record *out);
/* Inserts a pending refund (key, hash and return_id may be NULL). */
int store_refund_insert(struct db_conn *c, const char *id, const char *order_id,
                        const char *key, const char *hash, int64_t amount,
                        const char *return_id);
/* Sum of the order's pending refunds into *amount. */
int store_refund_pending_sum(struct db_conn *c, const char *order_id,
                             int64_t *amount);
/* Settles a pending refund (succeeded or failed) with its answer (body may
 * be NULL) and error (NULL when none): 1 settled, 0 settled before. */
int store_refund_close(struct db_conn *c, const char *id, bool succeeded,
                       const char *body, const char *error);
/* Counts an attempt that got no answer. */
int store_refund_attempt(struct db_conn *c, const char *id, const char *error);
/* Up to max ids of refunds pending for more than older_s seconds. */
int store_refunds_stale(struct db_conn *c, struct arena *a, int older_s,
                        char (**ids)[40], int max);

/* --- returns --- */

struct return_item_record {
  char order_item_id[40];
  char product_id[40];
  char variant_id[40]; /* "" for a product without options */
  const char *sku, *name;
  int64_t quantity;
  const char *condition; /* "sellable" | "damaged"; NULL until received */
  bool has_refund;
  int64_t refund; /* minor units, when has_refund */
};

struct return_record {
  char id[40];
  char order_id[40];
  char user_id[40];
  enum return_status status;
  const char *reason;
  const char *rejection_reason; /* NULL when none */
  char currency[4];
  bool has_refund;
  int64_t refund;     /* minor units, when has_refund */
  char refund_id[40]; /* "" until a refund was asked */
  const char *created_at, *updated_at;
  struct return_item_record *items;
  size_t item_count;
};

/* Inserts a requested return with its items (order_item_id, quantity). */
int store_return_insert(struct db_conn *c, const struct return_record *r);
/* Loads a return with its items (for_update locks the return row). */
int store_return_get(struct db_conn *c, struct arena *a, const char *id,
                     bool for_update, struct return_record *out);
/* Ids of returns, newest first: of one order (order_id), or filtered by
 * status / user_id (each NULL: any), older than `before` (NULL: from the
 * newest); at most limit. */
int store_return_list(struct db_conn *c, struct arena *a, const char *status,
                      const char *order_id, const char *user_id,
                      const char *before, int limit, char (**ids)[40]);
/* Units of each line of the order in returns that were not rejected:
 * counts[i] for lines[i] of o. */
int store_return_units(struct db_conn *c, const struct order_record *o,
                       int64_t *counts);
/* The last delivery of the order as Unix seconds (DB_NO_RESULTS: never
 * delivered). */
int store_order_delivered_at(struct db_conn *c, const char *order_id,
                             int64_t *at);
/* Compare-and-set of the status; rejection may be NULL. 1 moved, 0 not. */
int store_return_set_status(struct db_conn *c, const char *id,
                            enum return_status from, enum return_status to,
                            const char *rejection);
int store_return_item_condition(struct db_conn *c, const char *return_id,
                                const char *order_item_id,
                                const char *condition);
/* Records the refund asked for a return and each item's share. */
int store_return_set_refund(struct db_conn *c, const char *id,
                            const char *refund_id, int64_t amount);
int store_return_item_refund(struct db_conn *c, const char *return_id,
                             const char *order_item_id, int64_t amount);
/* Adds refunded units and money to a line: 1, or 0 beyond its quantity. */
int store_line_add_refund(struct db_conn *c, const char *line_id, int64_t units,
                          int64_t amount);

#endif
