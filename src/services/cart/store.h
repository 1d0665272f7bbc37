/* store.h - carts in Redis.
 *
 * One hash per cart, key "cart:<id>": field "_meta" holds {user_id,
 * created_at, currency} as JSON, each line a field "i:<variant_id>" (or
 * "i:<product_id>" for a product without options) holding {product_id,
 * variant_id?, sku, name, unit_price, currency, quantity} as JSON, and each
 * discount code a field "c:<CODE>" holding when it was applied. Every read
 * and write refreshes the 30-day expiry. Writes that depend on what is stored
 * (adding to a line, changing a line that must exist) run as Lua scripts so
 * that two concurrent requests cannot lose an update.
 *
 * Every function returns KIT_OK, KIT_NOT_FOUND (no such cart or line),
 * KIT_CONFLICT (see the function) or KIT_UNAVAILABLE/KIT_TIMEOUT/KIT_ERROR
 * when Redis failed.
 */
#ifndef SHOPSPHERE_CART_STORE_H
#define SHOPSPHERE_CART_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kit/arena.h"
#include "kit/kv.h"
#include "services/cart/domain.h"

#define CART_MAX_CODES 5 /* discount codes one cart holds (PROMO_MAX_CODES) */

struct cart_record {
  char id[UUID_STR_LEN];
  char user_id[40];        /* "" for a guest cart */
  char created_at[32];     /* RFC 3339 */
  char currency[4];        /* every line is priced in it */
  struct cart_line *lines; /* arena array of line_count */
  size_t line_count;
  /* discount codes (uppercase), in the order they were applied */
  char codes[CART_MAX_CODES][40];
  size_t code_count;
};

/* Creates an empty cart in currency bound to user_id ("" for a guest);
 * created_at (may be NULL) receives its creation time. */
int cart_store_create(struct kv_pool *kv, const char *id, const char *user_id,
                      const char *currency, char created_at[32]);

/* Loads a cart (lines allocated from arena) and refreshes its expiry. */
int cart_store_load(struct kv_pool *kv, struct arena *arena, const char *id,
                    struct cart_record *out);

/* Adds `add` units of a product to a cart, creating the line with the given
 * snapshot or raising its quantity (the snapshot is refreshed). KIT_CONFLICT
 * when the line would exceed max_quantity (*new_quantity is what it would
 * have been) or the cart already has CART_MAX_LINES lines (*new_quantity 0). */
int cart_store_add(struct kv_pool *kv, const char *id,
                   const struct cart_line *snapshot, int64_t add,
                   int64_t max_quantity, int64_t *new_quantity);

/* Replaces an existing line (KIT_NOT_FOUND when the line is absent). */
int cart_store_set_line(struct kv_pool *kv, const char *id,
                        const struct cart_line *line);

/* Removes a line, named by its variant id (or its product id when it has
 * no variant); KIT_NOT_FOUND when it was not there. */
int cart_store_remove(struct kv_pool *kv, const char *id, const char *line_id);

/* Removes every line, keeping the cart (KIT_NOT_FOUND when no cart). */
int cart_store_clear(struct kv_pool *kv, const char *id);

/* Empties a cart for an order (every line and code; the cart stays), once
 * per order: the ids of the orders that emptied it are kept in the set
 * "cart:<id>:orders" (with the cart's expiry), and a second call for the
 * same order changes nothing, so what the customer put in the cart after
 * the checkout survives a late or repeated call. KIT_OK (*already, when not
 * NULL: it had been emptied for that order before), KIT_NOT_FOUND when no
 * cart. */
int cart_store_clear_for_order(struct kv_pool *kv, const char *id,
                               const char *order_id, bool *already);

/* Writes lines into target (replacing those lines) and deletes the source
 * cart, atomically (MULTI/EXEC). */
int cart_store_merge(struct kv_pool *kv, const char *target_id,
                     const struct cart_line *lines, size_t n,
                     const char *source_id);

/* Puts a discount code on a cart (field "c:<CODE>", its value the time it
 * was applied, so codes keep their order). KIT_NOT_FOUND when no cart;
 * KIT_CONFLICT when the cart holds CART_MAX_CODES codes already. */
int cart_store_add_code(struct kv_pool *kv, const char *id, const char *code);

/* Takes a code off a cart; KIT_NOT_FOUND when it was not there. */
int cart_store_remove_code(struct kv_pool *kv, const char *id,
                           const char *code);

#endif
