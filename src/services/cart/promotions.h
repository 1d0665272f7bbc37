/* promotions.h - the cart service's promotions: the admin's CRUD, discount
 * codes on carts, pricing a cart with its promotions, and the redemptions
 * the checkout saga reserves, commits and releases (docs/promotions.md).
 * Routes in cart.c; the pure arithmetic in pricing.c. */
#ifndef SHOPSPHERE_CART_PROMOTIONS_H
#define SHOPSPHERE_CART_PROMOTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kit/http.h"
#include "services/cart/pricing.h"
#include "services/cart/store.h"

#define PROMO_DB_WAIT_MS 2000 /* a pooled connection, at most */

/* One promotion that took something (or, for a code, that applies). */
struct cart_discount {
  const char *code; /* NULL: automatic */
  const char *promotion_id;
  int64_t amount;
  enum promo_type type;
  const char *description; /* "" when none */
};

struct cart_discounts {
  struct cart_discount *items; /* arena */
  size_t count;
  int64_t total;
  bool free_shipping;
  /* strict pricing only: the first code on the cart that cannot apply */
  const char *bad_code;
  const char *bad_reason; /* "has expired", ...; "cannot be combined ..." */
};

/* Prices lines[0..n) (unit prices in cart->currency; discounts written
 * into each line) with the running automatic promotions and the cart's
 * codes, for user_id (NULL or "": a guest). Lines without a category are
 * looked up in the catalog when a promotion targets categories. Not strict:
 * a code that cannot apply takes nothing. Strict (checkout): such a code
 * fills bad_code / bad_reason. Not strict, a database that cannot answer
 * leaves the cart without promotions (logged) rather than unreadable.
 * Returns API_OK or the error to answer. */
enum api_error cart_promotions_price(struct http_request *req,
                                     const struct cart_record *cart,
                                     const char *user_id,
                                     struct price_line *lines, size_t n,
                                     bool strict, struct cart_discounts *out);

/* Renders out->items as [{code, promotion_id, type, description, amount,
 * shipping_discount}] (new reference): shipping_discount is "0.00" but for
 * free shipping, where it is null (the whole shipping, quoted and waived at
 * checkout, which fills it in). */
void *cart_discounts_json(const struct cart_discounts *d, const char *currency);

/* Admin: /api/v1/admin/promotions[/{id}] */
void promo_handle_create(struct http_request *req, struct http_response *res);
void promo_handle_list(struct http_request *req, struct http_response *res);
void promo_handle_get(struct http_request *req, struct http_response *res);
void promo_handle_update(struct http_request *req, struct http_response *res);
void promo_handle_delete(struct http_request *req, struct http_response *res);

/* Carts: POST /api/v1/carts/{id}/discount-codes,
 * DELETE /api/v1/carts/{id}/discount-codes/{code} */
void cart_handle_add_code(struct http_request *req, struct http_response *res);
void cart_handle_remove_code(struct http_request *req,
                             struct http_response *res);

/* Internal (order service, docs/internal-api.md). */
void cart_handle_internal_pricing(struct http_request *req,
                                  struct http_response *res);
void promo_handle_reserve(struct http_request *req, struct http_response *res);
void promo_handle_commit(struct http_request *req, struct http_response *res);
void promo_handle_release(struct http_request *req, struct http_response *res);

#endif
