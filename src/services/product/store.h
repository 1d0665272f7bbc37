/* store.h - the product service's SQL: one typed function per query.
 *
 * Every function runs on a connection inside the caller's transaction (or
 * alone) and returns a db_status: < 0 a failure, >= 0 the rows found or
 * changed. Strings that come back are copied into the caller's arena. */
#ifndef SHOPSPHERE_PRODUCT_STORE_H
#define SHOPSPHERE_PRODUCT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kit/arena.h"
#include "kit/db.h"
#include "services/product/domain.h"

/* The declared statements; the count is checked against the table. */
#define PRODUCT_STATEMENT_COUNT 57
extern const struct db_statement product_statements[PRODUCT_STATEMENT_COUNT];

struct product_row {
  char id[37];
  const char *sku, *name, *description;
  char category_id[37];
  int64_t price_minor;
  char currency[4];
  int64_t stock, reserved;
  char status[12];
  const char *images_json, *attributes_json;
  int64_t weight_grams;                /* -1 when the product has none */
  const char *created_at, *updated_at; /* RFC 3339 UTC */
  /* [{name, values}] as JSON text; a product with options sells only its
   * variants, and stock/reserved are then the sums over them. */
  const char *options_json;
  bool has_options;
  bool has_price; /* false: a listing's currency the product has no price in */
  const char *rating_average; /* "4.3", NULL when no approved review */
  int64_t rating_count;
};

/* A variant as read, its price in the currency asked for. */
struct variant_row {
  char id[37], product_id[37];
  const char *sku, *options_json; /* options: {"size": "M"} */
  int64_t price_minor;            /* the product's when it has none */
  bool has_price;                 /* false: no price in that currency */
  bool own_price;                 /* a price of its own (product currency) */
  char currency[4];
  int64_t stock, reserved;
  char status[12];
  const char *images_json, *attributes_json;
  int64_t weight_grams; /* -1 when none */
  const char *created_at, *updated_at;
};

struct variant_new {
  const char *id, *product_id, *sku, *options_json;
  int64_t price_minor;
  bool has_price; /* false: the product's price */
  int64_t stock;
  const char *images_json, *attributes_json;
};

/* NULL / false leaves a column as it is; set_price with price_minor < 0
 * clears the variant's own price (it takes the product's). */
struct variant_change {
  const char *sku, *options_json, *images_json, *attributes_json, *status;
  int64_t price_minor, stock;
  bool set_price, has_stock;
};

/* A product to insert; every field set (defaults applied by the caller). */
struct product_new {
  const char *id, *sku, *name, *description, *category_id;
  int64_t price_minor;
  const char *currency, *status;
  int64_t stock;
  const char *images_json, *attributes_json;
};

/* A product update: NULL / has_* false leaves the column as it is.
 * attributes_json is merged into the stored object (top-level keys). */
struct product_change {
  const char *sku, *name, *description, *category_id, *currency, *status;
  const char *images_json, *attributes_json;
  int64_t price_minor, stock;
  bool has_price, has_stock;
};

struct list_filter {
  const char *status;      /* NULL: every status */
  const char *category_id; /* NULL: all; else it and its descendants */
  const char *currency;    /* NULL unless a price bound is given */
  int64_t min_price, max_price;
  bool has_min, has_max;
  const struct list_cursor *after; /* NULL: first page */
  int limit; /* rows to fetch (the caller asks one extra) */
};

struct category_row {
  char id[37];
  const char *slug, *name, *path;
  char parent_id[37]; /* "" for a root */
};

struct reservation_row {
  char order_id[37];
  char status[12];
  const char *expires_at;
  bool past_expiry;
};

/* What moved on one product: for inventory.changed. */
struct stock_change {
  char product_id[37];
  char variant_id[37]; /* "" for the product's own stock */
  const char *sku;
  int64_t stock, reserved;
  int64_t quantity; /* units of the line that moved */
};

/* --- products --- */
int pstore_product_insert(struct db_conn *c, struct arena *a,
                          const struct product_new *p, struct product_row *out);
int pstore_product_get(struct db_conn *c, struct arena *a, const char *id,
                       bool for_update, struct product_row *out);
int pstore_product_update(struct db_conn *c, struct arena *a, const char *id,
                          const struct product_change *ch,
                          struct product_row *out);
/* Locks the SKU for the transaction, then answers > 0 when a product or a
 * variant other than except_id (may be NULL) has it. */
int pstore_sku_taken(struct db_conn *c, const char *sku, const char *except_id);
int pstore_product_count(struct db_conn *c, int64_t *count);
int pstore_product_list(struct db_conn *c, struct arena *a,
                        enum product_sort sort, const struct list_filter *f,
                        struct product_row **rows);
/* ids_array: a PostgreSQL array literal "{uuid,uuid}". */
int pstore_products_batch(struct db_conn *c, struct arena *a,
                          const char *ids_array, struct product_row **rows);

/* --- inventory --- */
/* Adds delta to on-hand stock unless that would go below zero or below the
 * reserved units: 1 applied (out filled), 0 refused or unknown product. */
int pstore_stock_adjust(struct db_conn *c, struct arena *a, const char *id,
                        int64_t delta, struct product_row *out);
int pstore_adjustment_insert(struct db_conn *c, const char *id,
                             const char *product_id, int64_t delta,
                             const char *reason, int64_t stock_after,
                             const char *actor_id, const char **created_at,
                             struct arena *a);
int pstore_adjustment_insert_variant(struct db_conn *c, const char *id,
                                     const char *product_id,
                                     const char *variant_id, int64_t delta,
                                     const char *reason, int64_t stock_after,
                                     const char *actor_id,
                                     const char **created_at, struct arena *a);
/* Adds delta to a variant's stock (same rule as pstore_stock_adjust): 1
 * applied (out filled), 0 refused or no such variant of the product. */
int pstore_variant_stock_adjust(struct db_conn *c, struct arena *a,
                                const char *variant_id, const char *product_id,
                                int64_t delta, struct stock_change *out);

/* --- categories --- */
int pstore_category_get(struct db_conn *c, struct arena *a, const char *id,
                        struct category_row *out);
int pstore_category_by_slug(struct db_conn *c, struct arena *a,
                            const char *slug, struct category_row *out);
/* 1 inserted, 0 the slug or path is taken. */
int pstore_category_insert(struct db_conn *c, struct arena *a, const char *id,
                           const char *slug, const char *name,
                           const char *parent_id, const char *path,
                           struct category_row *out);
int pstore_category_list(struct db_conn *c, struct arena *a,
                         struct category_row **rows);
/* Reads and row-locks one category (until the transaction ends): 1, or 0
 * when there is none. */
int pstore_category_lock(struct db_conn *c, struct arena *a, const char *id,
                         struct category_row *out);
/* Writes slug, name, parent_id ("" for a root) and path of in->id: 1 with
 * the row as stored in *out, 0 when there is none. */
int pstore_category_update(struct db_conn *c, struct arena *a,
                           const struct category_row *in,
                           struct category_row *out);
/* Moves the descendants of a category from old_path to new_path; returns
 * how many (their rows in *rows, from the arena). */
int pstore_category_repath(struct db_conn *c, struct arena *a,
                           const char *old_path, const char *new_path,
                           struct category_row **rows);
/* Counts the direct subcategories and the products (any status) of a
 * category. */
int pstore_category_usage(struct db_conn *c, const char *id, int64_t *children,
                          int64_t *products);
/* Deletes a category (the caller checked it is unused): 1, or 0 if none. */
int pstore_category_delete(struct db_conn *c, const char *id);

/* --- reservations --- */
/* 1 created, 0 one exists for this order already. */
int pstore_reservation_insert(struct db_conn *c, const char *order_id,
                              int64_t ttl_seconds);
int pstore_reservation_get(struct db_conn *c, struct arena *a,
                           const char *order_id, bool for_update,
                           struct reservation_row *out);
int pstore_reservation_lines(struct db_conn *c, struct arena *a,
                             const char *order_id,
                             struct reservation_line **lines);
/* Takes quantity units of an active product without options, or of one live
 * variant (variant_id not NULL/""), if available: one conditional UPDATE.
 * 1 taken (change filled), 0 not enough (or not active / unknown / a
 * product with options without variant). Adds the line. */
int pstore_reserve_line(struct db_conn *c, struct arena *a,
                        const char *order_id, const char *product_id,
                        const char *variant_id, int64_t quantity,
                        struct stock_change *change);
/* 1 when the product exists, *has_options telling whether it has options. */
int pstore_product_kind(struct db_conn *c, const char *product_id,
                        bool *has_options);
/* 1 when the variant exists and belongs to the product (any status). */
int pstore_variant_exists(struct db_conn *c, const char *variant_id,
                          const char *product_id);
/* 1 when the product exists (any status): tells "unknown" from "short". */
int pstore_product_exists(struct db_conn *c, const char *product_id);
/* Locks the reservation's products in id order (before moving units). */
int pstore_lock_lines(struct db_conn *c, const char *order_id);
/* Units of the reservation: reserved -> gone (commit), reserved -> back
 * (release), committed -> back on hand (restock). Rows: one per product. */
enum unit_move { MOVE_COMMIT, MOVE_RELEASE, MOVE_RESTOCK };
int pstore_move_units(struct db_conn *c, struct arena *a, const char *order_id,
                      enum unit_move move, struct stock_change **changes);
int pstore_reservation_set_status(struct db_conn *c, const char *order_id,
                                  const char *status);
/* --- options, variants, prices --- */
int pstore_product_set_options(struct db_conn *c, const char *id,
                               const char *options_json);
/* 1 with *minor when the product's price list has the currency, else 0. */
int pstore_product_price_in(struct db_conn *c, const char *id,
                            const char *currency, int64_t *minor);
/* Replaces the price list (entries already checked, minor filled). */
int pstore_product_prices_set(struct db_conn *c, struct arena *a,
                              const char *id, const struct price_entry *list,
                              size_t n);
int pstore_variant_prices_set(struct db_conn *c, struct arena *a,
                              const char *variant_id,
                              const struct price_entry *list, size_t n);
/* The product's price list, by currency (amount NULL, minor set). */
int pstore_product_prices(struct db_conn *c, struct arena *a, const char *id,
                          struct price_entry **list);
/* The live variants of the products (a "{uuid,...}" array literal) and the
 * variants named in variant_ids_array (any status; may be NULL), priced in
 * currency (NULL: each product's own), by product then id. */
int pstore_variants_of(struct db_conn *c, struct arena *a,
                       const char *product_ids_array, const char *currency,
                       const char *variant_ids_array,
                       struct variant_row **rows);
/* Locks one variant (id, product_id, sku, options, price_minor (-1: none of
 * its own), stock, reserved, status filled). */
int pstore_variant_get_for_update(struct db_conn *c, struct arena *a,
                                  const char *id, struct variant_row *out);
int pstore_variant_insert(struct db_conn *c, struct arena *a,
                          const struct variant_new *v);
int pstore_variant_update(struct db_conn *c, struct arena *a, const char *id,
                          const struct variant_change *ch);
/* > 0 when another live variant of the product has these options. */
int pstore_variant_combination_taken(struct db_conn *c, const char *product_id,
                                     const char *options_json,
                                     const char *except_id);
/* The options (JSON text) of the product's live variants. */
int pstore_variant_live_options(struct db_conn *c, struct arena *a,
                                const char *product_id,
                                const char ***options_json);

/* Order ids of live reservations past expiry (at most limit). */
int pstore_expired_reservations(struct db_conn *c, struct arena *a, int limit,
                                char (**ids)[37]);

/* --- ratings (the review service's aggregate) --- */
/* Sets the rating (average NULL: none) unless a newer event already did:
 * 1 applied, 0 not (unknown product or an older event). */
int pstore_rating_set(struct db_conn *c, const char *id, const char *average,
                      int64_t count, const char *event_at);

#endif
