/* input.h - a product as a client (or an import file) describes it: read from
 * a JSON object through a field table into a typed draft, every rule checked.
 * Shared by the HTTP handlers and `shopsphere import`, so a row is valid in a
 * file exactly when the same body would be accepted by POST /products. */
#ifndef SHOPSPHERE_PRODUCT_INPUT_H
#define SHOPSPHERE_PRODUCT_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "kit/arena.h"
#include "kit/json.h"

#define PRODUCT_IMAGES_MAX 20
#define PRODUCT_CUSTOM_MAX_BYTES 8192
/* attributes.custom: objects and arrays nested at most this deep ({} is 1). */
#define PRODUCT_CUSTOM_MAX_DEPTH 5
/* attributes.weight is in kilograms, 0 to this. */
#define PRODUCT_WEIGHT_MAX_KG 10000

/* attributes_json is always the seed's ProductAttributes shape: brand,
 * color, size, weight (kg), dimensions {length, width, height} (cm), custom.
 * The previous release's weight_grams and dimensions.unit are still read and
 * converted (deprecated, for one release).
 *
 * Fields not given stay NULL / has_* false. Strings live in the arena. */
struct product_draft {
  const char *sku, *name, *description, *category_id, *category_slug;
  const char *price, *currency, *status;
  int64_t stock;
  int64_t price_minor;         /* valid when has_price_minor */
  const char *images_json;     /* canonical JSON array text */
  const char *attributes_json; /* canonical JSON object text */
  int64_t weight_grams;        /* attributes.weight in grams, -1 if none */
  bool has_stock, has_price_minor;
  const char *options_json; /* canonical [{name, values}], NULL: not given */
};

/* Reads object (a json_t * object) into *out. partial: a PATCH, where every
 * field is optional (a create needs sku, name, category_id and price; the
 * currency defaults to USD, stock to 0, status to active). with_slug: the
 * importer also accepts "category" (a slug) instead of category_id. Returns
 * KIT_OK or KIT_INVALID with err naming the field. */
int product_draft_read(const void *object, bool partial, bool with_slug,
                       struct arena *a, struct product_draft *out,
                       struct json_error *err);

/* Reads attributes (a json_t * object) by the rules above into *json
 * (canonical text in the arena, the seed's shape) and *grams (-1 when no
 * weight); variants share it. KIT_OK or KIT_INVALID with err naming the
 * field. */
int product_attributes_read(const void *attrs, struct arena *a,
                            const char **json, int64_t *grams,
                            struct json_error *err);

/* Resolves draft->price in currency into draft->price_minor (PATCH that
 * changes only the price uses the stored currency). KIT_OK or KIT_INVALID. */
int product_draft_price(struct product_draft *d, const char *currency,
                        struct json_error *err);

#endif
