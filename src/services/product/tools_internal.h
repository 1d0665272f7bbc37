/* tools_internal.h - the batch writer shared by catalog_seed.c and
 * catalog_import.c (see tools.c). */
#ifndef SHOPSPHERE_PRODUCT_TOOLS_INTERNAL_H
#define SHOPSPHERE_PRODUCT_TOOLS_INTERNAL_H

#include <stdio.h>

#include "kit/db.h"
#include "services/product/tools.h"

struct tools_item {
  size_t line; /* for error messages */
  char id[37]; /* minted by catalog_tools_write when empty */
  struct product_draft draft;
  struct tools_extra extra; /* variants and price list */
};

struct tools_batch {
  struct arena *arena;
  struct tools_item *items;
  size_t n;
  bool skip_existing; /* seed: an existing SKU is fine; import: error */
  bool check_only;    /* roll back whatever happens (report errors) */
  FILE *err;          /* where row errors go (NULL: nowhere) */
  const char *path;
  size_t created, existing, errors;
};

/* Reads a row's "variants" array against the draft's options into x. */
int catalog_tools_read_variants(const void *array, struct arena *a,
                                const struct product_draft *d,
                                struct tools_extra *x, struct json_error *err);

/* A one-connection pool on the product schema. */
int catalog_tools_pool_open(const struct config *cfg, struct db_pool **pool);

/* Writes the batch in one transaction: >= 0 committed; OUT_INVALID when rows
 * were refused (nothing written, errors reported); other failures < 0. */
int catalog_tools_write(struct db_pool *pool, struct tools_batch *b);

#endif
