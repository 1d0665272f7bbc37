/* catalog.h - what the cart asks the product service (POST
 * /internal/products/batch, docs/internal-api.md). */
#ifndef SHOPSPHERE_CART_CATALOG_H
#define SHOPSPHERE_CART_CATALOG_H

#include <stddef.h>

#include "kit/http.h"
#include "services/cart/domain.h"

/* Looks up ids[0..n) (n <= CART_MAX_LINES) with their variants
 * variant_ids[i] ("" or NULL: the product itself) priced in currency, and
 * fills out[i] for line i: a variant line takes the variant's SKU, price,
 * stock and status (found false for an unknown product; variant_found false
 * for a variant that is not the product's). Strings are copied into
 * req->arena. Returns API_OK, or the error to answer (503/504 when the
 * product service could not answer). */
enum api_error cart_catalog_lookup(struct http_request *req,
                                   const char *const *ids,
                                   const char *const *variant_ids, size_t n,
                                   const char *currency,
                                   struct catalog_item *out);

#endif
