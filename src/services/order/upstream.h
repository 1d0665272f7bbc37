/* upstream.h - the order service's calls to cart, product, shipping and
 * payment (docs/internal-api.md), as typed functions.
 *
 * Each returns an enum upstream_outcome: UP_OK (the call did what was asked),
 * UP_REFUSED (the upstream answered a 4xx; *status holds it), UP_UNKNOWN (no
 * answer, a timeout or a 5xx: whether it happened is not known). parent may
 * be NULL (the sweeper); it carries the trace and the caller's token.
 */
#ifndef SHOPSPHERE_ORDER_UPSTREAM_H
#define SHOPSPHERE_ORDER_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kit/arena.h"
#include "kit/http.h"

struct service;

enum upstream_outcome { UP_OK = 0, UP_REFUSED, UP_UNKNOWN };

struct up_ctx {
  struct service *svc;
  const struct http_request *parent; /* may be NULL */
  struct arena *arena;               /* for strings of the answers */
};

struct up_cart_line {
  char product_id[40];
  char variant_id[40]; /* "" for a product without options */
  int64_t quantity;
};

struct up_product {
  bool found;
  bool active;
  const char *sku, *name;
  int64_t price;
  char currency[4];
  int64_t available;
};

struct up_payment {
  const char *id;
  const char *status; /* authorized, captured, voided, refunded,
                         partially_refunded, failed, unknown */
  int64_t amount, captured, refunded;
  const char *decline_code; /* may be NULL */
  const char *card_brand;   /* "visa", ...; NULL when not reported */
  const char *card_last4;   /* four digits; NULL when not reported */
};

/* GET /internal/carts/{id}?user_id= → its lines (arena array) and its
 * currency. */
enum upstream_outcome up_cart_get(const struct up_ctx *u, const char *cart_id,
                                  const char *user_id,
                                  struct up_cart_line **lines, size_t *n,
                                  char currency[4], unsigned *status);
/* POST /internal/carts/{id}/clear?order_id=: empties the cart once for the
 * order (the cart service's order.confirmed consumer does the same). */
enum upstream_outcome up_cart_clear(const struct up_ctx *u, const char *cart_id,
                                    const char *order_id);

/* POST /internal/products/batch in currency: out[i] for lines[i] (its
 * variant when the line has one; found false when the product, or the
 * line's variant, is unknown, or it has no price in currency; active false
 * for a product with options asked without a variant). */
enum upstream_outcome up_products(const struct up_ctx *u,
                                  const struct up_cart_line *lines, size_t n,
                                  const char *currency, struct up_product *out);

/* POST /internal/shipping/quote: the amount of `method` (UP_REFUSED with
 * *status 422 when the method is not offered). address is a json_t *. */
enum upstream_outcome
up_shipping_quote(const struct up_ctx *u, const void *address,
                  const struct up_cart_line *lines, size_t n, int64_t subtotal,
                  const char *currency, const char *method, int64_t *amount,
                  unsigned *status);

/* POST /internal/reservations (all lines or none). On UP_REFUSED 409,
 * *details receives the upstream's details (arena) when given. */
enum upstream_outcome up_reserve(const struct up_ctx *u, const char *order_id,
                                 const struct up_cart_line *lines, size_t n,
                                 unsigned *status, const char **details);
/* POST /internal/reservations/{order_id}/commit | release */
enum upstream_outcome up_reservation_commit(const struct up_ctx *u,
                                            const char *order_id,
                                            unsigned *status);
enum upstream_outcome up_reservation_release(const struct up_ctx *u,
                                             const char *order_id);

/* --- promotions (the cart service, docs/promotions.md) --- */

struct up_pricing {
  int64_t discount_total;
  bool free_shipping;
  int64_t *line_discount; /* arena, one per line */
  const char *discounts;  /* [{code, promotion_id, amount}] JSON text */
  size_t count;           /* entries of discounts */
};

/* POST /internal/carts/{id}/pricing: what the cart's promotions take from
 * lines[i] at unit_prices[i] in currency. UP_REFUSED with 422 when a code
 * on the cart no longer applies (*message names it, arena). */
enum upstream_outcome
up_cart_pricing(const struct up_ctx *u, const char *cart_id,
                const char *user_id, const struct up_cart_line *lines,
                const int64_t *unit_prices, size_t n, const char *currency,
                struct up_pricing *out, unsigned *status, const char **message);
/* POST /internal/promotions/reservations: one use of each promotion of
 * `discounts` (JSON text as up_pricing's) for the order, all or none;
 * UP_REFUSED 422 when a limit is reached (*message says which). */
enum upstream_outcome up_promo_reserve(const struct up_ctx *u,
                                       const char *order_id,
                                       const char *user_id,
                                       const char *discounts, unsigned *status,
                                       const char **message);
/* POST /internal/promotions/reservations/{order_id}/commit | release
 * (release: idempotent, nothing held is UP_OK). */
enum upstream_outcome up_promo_commit(const struct up_ctx *u,
                                      const char *order_id, unsigned *status);
enum upstream_outcome up_promo_release(const struct up_ctx *u,
                                       const char *order_id);

/* POST /internal/payments/authorize. UP_REFUSED with 402 is a decline. */
enum upstream_outcome up_authorize(const struct up_ctx *u, const char *order_id,
                                   const char *user_id, int64_t amount,
                                   const char *currency, const char *token,
                                   struct up_payment *out, unsigned *status);
/* GET /internal/payments?order_id=: the newest payment of the order;
 * UP_REFUSED with 404 when there is none. */
enum upstream_outcome up_payment_of_order(const struct up_ctx *u,
                                          const char *order_id,
                                          const char *currency,
                                          struct up_payment *out,
                                          unsigned *status);
/* POST /internal/payments/{id}/void | capture | refund (amount < 0: all).
 * A refund with a refund_id (may be NULL) is idempotent on it: the payment
 * service answers a refund it made under that id as it stands, and never
 * makes a second one. */
enum upstream_outcome up_payment_void(const struct up_ctx *u, const char *id,
                                      unsigned *status);
enum upstream_outcome up_payment_capture(const struct up_ctx *u, const char *id,
                                         const char *currency,
                                         struct up_payment *out,
                                         unsigned *status);
enum upstream_outcome up_payment_refund(const struct up_ctx *u, const char *id,
                                        int64_t amount, const char *currency,
                                        const char *refund_id,
                                        struct up_payment *out,
                                        unsigned *status);

/* POST /internal/shipments (idempotent on order_id) → the shipment id. */
enum upstream_outcome
up_create_shipment(const struct up_ctx *u, const char *order_id,
                   const char *user_id, const void *address, const char *method,
                   const struct up_cart_line *lines, size_t n,
                   const char **shipment_id, unsigned *status);

#endif
