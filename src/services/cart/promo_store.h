/* promo_store.h - promotions and their redemptions in PostgreSQL (the cart
 * service's schema, migrations/001_promotions.sql), one typed function per
 * query.
 *
 * Every function returns a db_status (kit/db.h): < 0 an error, otherwise the
 * rows returned or affected; results come back through out-parameters
 * allocated from the given arena.
 */
#ifndef SHOPSPHERE_CART_PROMO_STORE_H
#define SHOPSPHERE_CART_PROMO_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kit/arena.h"
#include "kit/db.h"
#include "services/cart/pricing.h"

#define PROMO_STATEMENT_COUNT 14
extern const struct db_statement promo_statements[PROMO_STATEMENT_COUNT];

/* A promotion as stored. */
struct promo_row {
  char id[37];
  const char *code; /* NULL: automatic */
  const char *description;
  enum promo_type type;
  int64_t value;    /* basis points (percentage) or minor units (fixed) */
  char currency[4]; /* "" when none */
  int64_t buy_quantity, get_quantity; /* 0 when none */
  const char **product_ids;
  size_t product_count;
  const char **category_ids;
  size_t category_count;
  int64_t min_subtotal;            /* -1 when none */
  int64_t starts_at_ms;            /* -1 when none (epoch milliseconds) */
  int64_t ends_at_ms;              /* -1 when none */
  const char *starts_at, *ends_at; /* RFC 3339 or NULL (read back) */
  int64_t usage_limit;             /* -1 when none */
  int64_t per_customer_limit;      /* -1 when none */
  int64_t used, customer_used;
  bool stackable;
  enum promo_window window;
  const char *created_at, *updated_at;
};

/* Fills a pricing promo from a row (strings borrowed from row). */
void promo_from_row(const struct promo_row *row, struct promo *out);

/* Inserts row (its id set by the caller). DB_HARD_ERROR on a duplicate
 * live code is reported as *duplicate = true with status 0. */
int promo_store_insert(struct db_conn *c, const struct promo_row *row,
                       bool *duplicate);
/* Replaces the editable fields of a live promotion (1) or finds none (0);
 * *duplicate as for insert. */
int promo_store_update(struct db_conn *c, const struct promo_row *row,
                       bool *duplicate);
/* A live promotion by id (for_update locks it). */
int promo_store_get(struct db_conn *c, struct arena *a, const char *id,
                    bool for_update, struct promo_row *out);
/* Live promotions, newest first, ids below `before` (NULL: from the top),
 * at most limit. */
int promo_store_list(struct db_conn *c, struct arena *a, const char *before,
                     int limit, struct promo_row **out);
/* Soft-deletes a live promotion (1) or finds none (0). */
int promo_store_delete(struct db_conn *c, const char *id);
/* The promotions that may price a cart: every automatic one that is
 * running, and the live ones with the given codes (codes[0..n), any window),
 * with how often user_id (NULL: a guest) used each. Automatic ones first
 * (oldest first), then codes. */
int promo_store_for_cart(struct db_conn *c, struct arena *a,
                         const char *const *codes, size_t n,
                         const char *user_id, struct promo_row **out);
/* A live promotion by code (any window), with user_id's uses. */
int promo_store_by_code(struct db_conn *c, struct arena *a, const char *code,
                        const char *user_id, struct promo_row *out);

enum promo_reserve {
  PROMO_RESERVED = 0,
  PROMO_RESERVE_LIMIT,    /* the usage limit is reached */
  PROMO_RESERVE_CUSTOMER, /* the customer's limit is reached */
  PROMO_RESERVE_GONE,     /* no such live promotion */
};

/* How many redemptions order_id holds already (any status). */
int promo_store_redemptions_of(struct db_conn *c, const char *order_id);
/* Inside a transaction: reserves one use of promotion_id for order_id by
 * user_id with a guarded UPDATE (never beyond usage_limit), then checks the
 * customer's limit under the promotion's row lock. *outcome tells which;
 * anything but PROMO_RESERVED means the caller rolls back. */
int promo_store_reserve(struct db_conn *c, const char *promotion_id,
                        const char *order_id, const char *user_id,
                        enum promo_reserve *outcome);
/* Marks the reserved uses of order_id committed; returns rows changed.
 * *released receives how many of its uses were released already. */
int promo_store_commit(struct db_conn *c, const char *order_id,
                       int64_t *released);
/* Gives back the uses of order_id (reserved or committed): rows changed;
 * 0 when there was nothing to give back (repeating is a no-op). */
int promo_store_release(struct db_conn *c, const char *order_id);

#endif
