/* tools.c - what the seed and the importer share: a pool of their own on the
 * product schema, and the transaction that writes a batch of validated
 * products (category by slug or id, insert, product.created). */
#include "services/product/tools.h"

#include <jansson.h>
#include <string.h>

#include "kit/err.h"
#include "kit/uuid.h"
#include "services/product/product.h"
#include "services/product/tools_internal.h"

int catalog_tools_pool_open(const struct config *cfg, struct db_pool **pool) {
  char schema[64];
  service_schema_name(SVC_PRODUCT, schema, sizeof schema);
  if (db_pool_open(pool, cfg->database_url, schema, 1, product_statements,
                   PRODUCT_STATEMENT_COUNT) != KIT_OK) {
    fprintf(stderr, "cannot open the product database pool\n");
    return KIT_ERROR;
  }
  return KIT_OK;
}

static void item_error(struct tools_batch *b, struct tools_item *it,
                       const char *field, const char *msg) {
  b->errors++;
  if (b->err != NULL)
    fprintf(b->err, "%s:%zu: %s%s%s\n", b->path ? b->path : "row", it->line,
            field ? field : "", field ? ": " : "", msg);
}

int catalog_tools_batch_body(struct db_conn *c, void *arg) {
  struct tools_batch *b = arg;
  b->created = b->existing = b->errors = 0;
  for (size_t i = 0; i < b->n; i++) {
    struct tools_item *it = &b->items[i];
    struct product_draft *d = &it->draft;
    struct category_row cat;
    int rc = d->category_id != NULL
                 ? pstore_category_get(c, b->arena, d->category_id, &cat)
                 : pstore_category_by_slug(c, b->arena, d->category_slug, &cat);
    if (rc < 0) return rc;
    if (rc == 0) {
      item_error(b, it, d->category_id ? "category_id" : "category",
                 d->category_id ? "no category has this id"
                                : "no category has this slug");
      continue;
    }
    struct product_new p = {
        .id = it->id,
        .sku = d->sku,
        .name = d->name,
        .description = d->description ? d->description : "",
        .category_id = cat.id,
        .price_minor = d->price_minor,
        .currency = d->currency,
        .status = d->status,
        .stock = d->stock,
        .images_json = d->images_json,
        .attributes_json = d->attributes_json,
    };
    struct product_row row;
    rc = pstore_product_insert(c, b->arena, &p, &row);
    if (rc < 0) return rc;
    if (rc == 0) {
      if (b->skip_existing)
        b->existing++;
      else
        item_error(b, it, "sku", "a product with this sku already exists");
      continue;
    }
    b->created++;
    rc = product_emit(c, "product.created", &row);
    if (rc < 0) return rc;
  }
  /* All or nothing: one refused row undoes the whole batch. */
  return b->errors > 0 || b->check_only ? OUT_INVALID : 0;
}

int catalog_tools_write(struct db_pool *pool, struct tools_batch *b) {
  for (size_t i = 0; i < b->n; i++)
    if (b->items[i].id[0] == '\0') uuid_v7(b->items[i].id);
  return db_transaction(pool, DB_READ_COMMITTED, catalog_tools_batch_body, b);
}
