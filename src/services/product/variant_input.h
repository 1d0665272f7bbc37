/* variant_input.h - options, variants and price lists as a client (or the
 * importer, or the seed) writes them: JSON read into typed values, every
 * rule of domain.h checked, and the canonical JSON text stored in the
 * database. Shared by the HTTP handlers and the operator tools. */
#ifndef SHOPSPHERE_PRODUCT_VARIANT_INPUT_H
#define SHOPSPHERE_PRODUCT_VARIANT_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kit/arena.h"
#include "kit/json.h"
#include "services/product/domain.h"

/* Reads a product's `options` (a json_t * array of {name, values}) into
 * *opts / *n (arena) and its canonical JSON text *text. KIT_OK or
 * KIT_INVALID with err naming "options". */
int variant_options_read(const void *array, struct arena *a,
                         struct product_option **opts, size_t *n,
                         const char **text, struct json_error *err);

/* Parses stored options text (validated when written); false if unreadable. */
bool variant_options_parse(const char *text, struct arena *a,
                           struct product_option **opts, size_t *n);

/* Reads a variant's `options` (a json_t * object {name: value}) and checks
 * it against the product's options: *text receives the canonical JSON.
 * KIT_OK or KIT_INVALID with err naming "options" (422). */
int variant_choice_read(const void *object, const struct product_option *opts,
                        size_t n, struct arena *a, const char **text,
                        struct json_error *err);

/* Parses stored variant options text into choices; false if unreadable. */
bool variant_choice_parse(const char *text, struct arena *a,
                          struct variant_choice **choice, size_t *m);

/* Reads a price list (a json_t * array of {currency, amount}) for a product
 * priced in own_currency: entries in *list (arena), minor units filled.
 * KIT_OK or KIT_INVALID with err naming `field` ("prices"). */
int variant_prices_read(const void *array, const char *own_currency,
                        const char *field, struct arena *a,
                        struct price_entry **list, size_t *n,
                        struct json_error *err);

/* A variant body (POST /products/{id}/variants, PATCH /variants/{id}). */
struct variant_draft {
  const char *sku, *price, *images_json, *attributes_json;
  const void *options; /* json_t * object, checked later */
  const void *prices;  /* json_t * array, checked later */
  bool clear_price;    /* "price": null on a PATCH */
  bool has_stock;
  int64_t stock;
};

/* Reads the body object; partial for a PATCH (every field optional, a create
 * needs sku and options). KIT_OK or KIT_INVALID with err filled. */
int variant_draft_read(const void *object, bool partial, struct arena *a,
                       struct variant_draft *out, struct json_error *err);

#endif
