/* domain.h - the cart's decisions, free of Redis and HTTP.
 *
 * A cart line keeps the price the customer saw when adding it (the
 * snapshot). Every read re-validates the lines against the catalog: the line
 * is priced at today's price, and flagged when that price differs from the
 * snapshot, when the product is gone or not active, or when fewer units are
 * available than the line asks for. Unit-tested in
 * tests/unit/test_cart_domain.c.
 */
#ifndef SHOPSPHERE_CART_DOMAIN_H
#define SHOPSPHERE_CART_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kit/uuid.h"

#define CART_MAX_QUANTITY 99
#define CART_MAX_LINES 100 /* the catalog batch call takes at most 100 ids */
#define CART_TTL_SECONDS (30 * 24 * 3600)
#define CART_DEFAULT_CURRENCY "USD"

/* A line as stored: the snapshot taken when the product was added. */
struct cart_line {
  char product_id[UUID_STR_LEN];
  char variant_id[UUID_STR_LEN]; /* "" for a product without options */
  const char *sku;               /* borrowed (arena) */
  const char *name;              /* borrowed (arena) */
  int64_t snapshot_price;        /* minor units */
  char currency[4];
  int64_t quantity;
};

/* What the catalog says about a product today. */
struct catalog_item {
  bool found;
  bool active;        /* status "active" (and the variant live) */
  bool has_options;   /* the product sells only its variants */
  bool variant_found; /* the line's variant_id is a variant of the product */
  bool unpriced;      /* no price in the currency asked for */
  const char *sku;    /* borrowed */
  const char *name;   /* borrowed */
  const char *category_id; /* borrowed; NULL when none */
  int64_t price;           /* minor units */
  char currency[4];
  int64_t available; /* on hand minus reservations */
};

/* A line as the customer sees it. */
struct cart_view_line {
  int64_t unit_price;      /* today's price (the snapshot when not found) */
  int64_t line_total;      /* unit_price x quantity; 0 when unavailable */
  bool price_changed;      /* today's price differs from the snapshot */
  bool available;          /* found, active and at least one unit available */
  bool insufficient_stock; /* available but fewer units than quantity */
  int64_t available_quantity;
};

struct cart_totals {
  int64_t subtotal;   /* over lines that can be bought */
  int64_t item_count; /* sum of quantities of every line */
  int issue_count;    /* lines flagged unavailable, short or repriced */
};

enum cart_quantity_check {
  CART_QTY_OK = 0,
  CART_QTY_OUT_OF_RANGE, /* below 1 or above CART_MAX_QUANTITY */
  CART_QTY_NOT_ENOUGH_STOCK,
};

/* Checks that a line may hold `quantity` units when `available` units are
 * in stock. */
enum cart_quantity_check cart_check_quantity(int64_t quantity,
                                             int64_t available);

/* The largest quantity a line may hold given stock: min(99, available),
 * never below 0. */
int64_t cart_quantity_cap(int64_t available);

/* true when cat can price and sell line l: priced in the cart's currency,
 * and a variant line names a variant of the product, while a line without
 * a variant is for a product without options. */
bool cart_line_matches(const struct cart_line *l, const struct catalog_item *c);

/* Prices and flags lines[0..n) against cat[0..n) (cat[i] describes
 * lines[i]) into view[0..n) and sums the totals. Returns false when a sum
 * would overflow (the caller answers 422). */
bool cart_reprice(const struct cart_line *lines, const struct catalog_item *cat,
                  size_t n, struct cart_view_line *view,
                  struct cart_totals *totals);

/* true when the caller may see a cart bound to owner_user_id ("" for a
 * guest cart): guest carts are open to whoever holds their unguessable id;
 * a bound cart only to its user. */
bool cart_can_access(const char *owner_user_id, bool authenticated,
                     const char *caller_user_id);

/* Writes a fresh cart id: 122 random bits in the shape of a UUIDv4 (never
 * v7: a time-ordered id would be partly guessable). */
void cart_new_id(char out[UUID_STR_LEN]);

/* Formats 16 random bytes as a UUIDv4 (version and variant bits set). */
void cart_format_v4(const unsigned char bytes[16], char out[UUID_STR_LEN]);

#endif
