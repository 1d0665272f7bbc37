/* catalog.h - what the cart asks the product service (POST
 * /internal/products/batch, docs/internal-api.md). */
#ifndef SHOPSPHERE_CART_CATALOG_H
#define SHOPSPHERE_CART_CATALOG_H

#include <stddef.h>

#include "kit/http.h"
#include "services/cart/domain.h"

/* Looks up ids[0..n) (n <= CART_MAX_LINES) and fills out[i] for ids[i]
 * (found false for unknown ids); strings are copied into req->arena.
 * Returns API_OK, or the error to answer (503/504 when the product service
 * could not answer). */
enum api_error cart_catalog_lookup(struct http_request *req,
                                   const char *const *ids, size_t n,
                                   struct catalog_item *out);

#endif
