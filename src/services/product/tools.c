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

int catalog_tools_read(const void *object, struct arena *a,
                       struct product_draft *d, struct tools_extra *x,
                       struct json_error *err) {
  memset(x, 0, sizeof *x);
  json_t *copy = json_copy((json_t *)object);
  if (copy == NULL) {
    err->code = API_INTERNAL_ERROR;
    snprintf(err->field, sizeof err->field, "%s", "");
    snprintf(err->message, sizeof err->message, "out of memory");
    return KIT_NOMEM;
  }
  json_t *variants = json_incref(json_object_get(copy, "variants"));
  json_t *prices = json_incref(json_object_get(copy, "prices"));
  json_object_del(copy, "variants");
  json_object_del(copy, "prices");
  int rc = product_draft_read(copy, false, true, a, d, err);
  if (rc == KIT_OK && prices != NULL) {
    if (!json_is_array(prices)) {
      err->code = API_VALIDATION_ERROR;
      snprintf(err->field, sizeof err->field, "prices");
      snprintf(err->message, sizeof err->message, "prices must be an array");
      rc = KIT_INVALID;
    } else {
      rc = variant_prices_read(prices, d->currency, "prices", a, &x->prices,
                               &x->price_count, err);
    }
  }
  if (rc == KIT_OK && variants != NULL)
    rc = catalog_tools_read_variants(variants, a, d, x, err);
  json_decref(variants);
  json_decref(prices);
  json_decref(copy);
  return rc;
}

static int variant_fail(struct json_error *err, size_t i, const char *msg) {
  char field[64];
  snprintf(field, sizeof field, "variants[%zu]", i);
  err->code = API_UNPROCESSABLE;
  snprintf(err->message, sizeof err->message, "%.180s", msg);
  snprintf(err->field, sizeof err->field, "%s", field);
  return KIT_INVALID;
}

int catalog_tools_read_variants(const void *array, struct arena *a,
                                const struct product_draft *d,
                                struct tools_extra *x, struct json_error *err) {
  size_t n = json_array_size(array);
  if (!json_is_array((const json_t *)array) || n > PRODUCT_VARIANTS_MAX)
    return variant_fail(err, 0, "variants must be an array of at most 200");
  struct product_option *opts = NULL;
  size_t no = 0;
  if (!variant_options_parse(d->options_json, a, &opts, &no))
    return variant_fail(err, 0, "options are unreadable");
  x->variants = arena_alloc(a, sizeof *x->variants * (n + 1));
  const struct variant_choice **combos =
      arena_alloc(a, sizeof *combos * (n + 1));
  size_t *counts = arena_alloc(a, sizeof *counts * (n + 1));
  if (x->variants == NULL || combos == NULL || counts == NULL)
    return variant_fail(err, 0, "out of memory");
  for (size_t i = 0; i < n; i++) {
    struct tools_variant *v = &x->variants[i];
    memset(v, 0, sizeof *v);
    struct json_error inner;
    const json_t *body = json_array_get(array, i);
    if (!json_is_object(body) ||
        variant_draft_read(body, false, a, &v->draft, &inner) != KIT_OK ||
        variant_choice_read(v->draft.options, opts, no, a, &v->options_json,
                            &inner) != KIT_OK)
      return variant_fail(
          err, i, json_is_object(body) ? inner.message : "must be an object");
    if (v->draft.price != NULL) {
      enum price_check pc =
          product_price_parse(v->draft.price, d->currency, &v->price_minor);
      if (pc != PRICE_OK)
        return variant_fail(err, i, product_price_message(pc));
      v->has_price = true;
    }
    if (v->draft.prices != NULL &&
        variant_prices_read(v->draft.prices, d->currency, "prices", a,
                            &v->prices, &v->price_count, &inner) != KIT_OK)
      return variant_fail(err, i, inner.message);
    /* Nothing of the document may be kept: the caller frees it. */
    v->draft.options = NULL;
    v->draft.prices = NULL;
    struct variant_choice *ch = NULL;
    if (!variant_choice_parse(v->options_json, a, &ch, &counts[i]))
      return variant_fail(err, i, "options are unreadable");
    combos[i] = ch;
    for (size_t j = 0; j < i; j++)
      if (strcmp(x->variants[j].draft.sku, v->draft.sku) == 0 ||
          strcmp(v->draft.sku, d->sku) == 0)
        return variant_fail(err, i, "the sku is used twice in this row");
    if (strcmp(v->draft.sku, d->sku) == 0)
      return variant_fail(err, i, "the sku is the product's own");
  }
  long dup = product_variants_duplicate(combos, counts, n);
  if (dup >= 0)
    return variant_fail(err, (size_t)dup,
                        "another variant of this row has the same options");
  x->variant_count = n;
  return KIT_OK;
}

/* Writes the row's options, price list and variants after its product;
 * 0, OUT_INVALID after reporting, or a db failure. */
static int write_extra(struct db_conn *c, struct tools_batch *b,
                       struct tools_item *it);

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
    /* SKUs are unique across products and variants. */
    rc = pstore_sku_taken(c, d->sku, NULL);
    if (rc < 0) return rc;
    rc = rc > 0 ? 0 : pstore_product_insert(c, b->arena, &p, &row);
    if (rc < 0) return rc;
    if (rc == 0) {
      if (b->skip_existing)
        b->existing++;
      else
        item_error(b, it, "sku", "a product with this sku already exists");
      continue;
    }
    b->created++;
    rc = write_extra(c, b, it);
    if (rc == OUT_INVALID) continue;
    if (rc < 0) return rc;
    if (it->draft.options_json != NULL || it->extra.price_count > 0) {
      rc = pstore_product_get(c, b->arena, it->id, false, &row);
      if (rc <= 0) return rc < 0 ? rc : DB_HARD_ERROR;
    }
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

static int write_extra(struct db_conn *c, struct tools_batch *b,
                       struct tools_item *it) {
  const struct tools_extra *x = &it->extra;
  int rc = 0;
  if (it->draft.options_json != NULL &&
      (rc = pstore_product_set_options(c, it->id, it->draft.options_json)) < 0)
    return rc;
  if (x->price_count > 0 &&
      (rc = pstore_product_prices_set(c, b->arena, it->id, x->prices,
                                      x->price_count)) < 0)
    return rc;
  for (size_t i = 0; i < x->variant_count; i++) {
    const struct tools_variant *v = &x->variants[i];
    rc = pstore_sku_taken(c, v->draft.sku, NULL);
    if (rc < 0) return rc;
    if (rc > 0) {
      char field[64];
      snprintf(field, sizeof field, "variants[%zu].sku", i);
      item_error(b, it, field, "a product or variant with this sku exists");
      return OUT_INVALID;
    }
    char id[UUID_STR_LEN];
    uuid_v7(id);
    struct variant_new nv = {.id = id,
                             .product_id = it->id,
                             .sku = v->draft.sku,
                             .options_json = v->options_json,
                             .price_minor = v->price_minor,
                             .has_price = v->has_price,
                             .stock = v->draft.stock,
                             .images_json = v->draft.images_json,
                             .attributes_json = v->draft.attributes_json};
    if ((rc = pstore_variant_insert(c, b->arena, &nv)) < 0) return rc;
    if (v->price_count > 0 &&
        (rc = pstore_variant_prices_set(c, b->arena, id, v->prices,
                                        v->price_count)) < 0)
      return rc;
  }
  return 0;
}
