/* tools.h - the catalog's operator tools behind `shopsphere seed` and
 * `shopsphere import products`: a deterministic demo catalog and a CSV /
 * JSON-lines importer. Both validate every product with input.c (the rules
 * of POST /products) and write through store.c in transactions that also
 * emit product.created, so other services learn about the new products. */
#ifndef SHOPSPHERE_PRODUCT_TOOLS_H
#define SHOPSPHERE_PRODUCT_TOOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "kit/arena.h"
#include "kit/config.h"
#include "services/product/input.h"
#include "services/product/variant_input.h"

/* A variant of an imported or seeded product, validated. */
struct tools_variant {
  struct variant_draft draft;
  const char *options_json; /* canonical {name: value} */
  int64_t price_minor;
  bool has_price;
  struct price_entry *prices;
  size_t price_count;
};

/* The variants and price list of a tool row, besides its draft. */
struct tools_extra {
  struct tools_variant *variants;
  size_t variant_count;
  struct price_entry *prices; /* the product's price list */
  size_t price_count;
};

/* Reads a row of the seed or an import file: the product by the rules of
 * POST /products (input.c, with "category" allowed), plus "variants" (an
 * array of POST /products/{id}/variants bodies, checked against the row's
 * options: no duplicate SKU or combination) and "prices" (the body of PUT
 * /products/{id}/prices). Borrows nothing from object after it returns.
 * KIT_OK or KIT_INVALID with err naming the field. */
int catalog_tools_read(const void *object, struct arena *a,
                       struct product_draft *d, struct tools_extra *x,
                       struct json_error *err);

/* --- the demo catalog --- */

/* Called after each batch: done of total products handled. */
typedef void (*seed_progress_fn)(void *arg, size_t done, size_t total);

struct seed_result {
  size_t categories_created;
  size_t products_created;
  size_t products_existing; /* already there (same SKU): left alone */
  bool skipped_not_empty;   /* if_empty and the catalog had products */
};

/* The fixed category tree of the demo: 5 roots, 16 leaves. */
size_t catalog_seed_category_count(void);
/* Category i: slug, display name and the parent's slug (NULL for a root);
 * parents come before their children. */
void catalog_seed_category(size_t i, const char **slug, const char **name,
                           const char **parent_slug);

/* Product number `index` (0-based) of the demo catalog as a JSON object in
 * the shape of POST /products (with "category": a slug), deterministic in
 * index; images point at /api/v1/products/<id>/image.svg. New reference. */
void *catalog_seed_product_json(size_t index, const char *id);

/* Seeds products 0..count-1 (idempotent: existing SKUs are kept). With
 * if_empty, does nothing when any product exists. Returns KIT_OK, or a
 * failure with a message on stderr. */
int catalog_seed(const struct config *cfg, size_t count, bool if_empty,
                 seed_progress_fn progress, void *arg, struct seed_result *out);

/* --- the importer --- */

enum import_format { IMPORT_AUTO = 0, IMPORT_CSV, IMPORT_JSONL };

struct import_result {
  size_t rows;     /* records read */
  size_t imported; /* written (all of them, or none) */
  size_t errors;   /* rows refused */
};

/* Imports every product of the file at path, all or nothing: each row is
 * validated (errors go to `errors` as "path:LINE: field: message"), then all
 * rows are written in one transaction; any error writes nothing. Returns
 * KIT_OK, KIT_INVALID (rows refused), or another failure. */
int catalog_import(const struct config *cfg, const char *path,
                   enum import_format format, FILE *errors,
                   struct import_result *out);

/* Reads and validates text (UTF-8, NUL-terminated at len) as
 * catalog_import does, without the database: rows and refused rows
 * counted in out. KIT_OK, or KIT_INVALID when any row (or the text) is
 * refused. For the fuzzing harness (tests/fuzz/fuzz_import.c). */
int catalog_import_read(const char *text, size_t len, enum import_format format,
                        FILE *errors, struct import_result *out);

/* --- parsing, exposed for the unit tests --- */

/* One CSV record (RFC 4180: quoted fields, "" inside quotes, newlines in
 * quotes). Reads from *pos in text; fields are arena strings. Returns the
 * field count, 0 at the end of the text, -1 on an unterminated quote.
 * *line advances by the newlines consumed. */
int catalog_csv_record(const char *text, size_t len, size_t *pos,
                       struct arena *a, char ***fields, size_t *line);

/* A CSV record under its header as a JSON object in the shape of POST
 * /products (brand, color, size, weight, length/width/height, and the
 * deprecated weight_grams and dimension_unit go into attributes; images
 * split on '|'). NULL with a
 * message in why (size why_size) when a column is unknown. New reference. */
void *catalog_csv_row_json(char **header, char **fields, size_t n, char *why,
                           size_t why_size);

#endif
