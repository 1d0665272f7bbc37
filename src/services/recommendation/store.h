/* store.h - the recommendation service's SQL, one function per statement.
 * Every function returns a db_status (rows returned or affected, or a
 * negative failure); strings come back in the caller's arena. */
#ifndef SHOPSPHERE_RECOMMENDATION_STORE_H
#define SHOPSPHERE_RECOMMENDATION_STORE_H

#include <stddef.h>

#include "kit/arena.h"
#include "kit/db.h"

extern const struct db_statement reco_statements[];
#define RECO_STATEMENT_COUNT 24

/* The trending half-life (hours), written into the SQL that decays scores. */
#define RECO_TRENDING_HALF_LIFE_H 72

/* A rendered item: the product's JSON (as the catalog renders it) and a
 * score. */
struct reco_row {
  const char *id;
  const char *doc;
  double score;
};

/* --- the catalog snapshot --- */

/* Inserts or replaces product `id` from its rendered JSON (doc); an older
 * version (by updated_at) does not replace a newer one. Marks it dirty. */
int rstore_product_put(struct db_conn *c, const char *id, const char *doc);
/* Stock and availability from inventory.changed. */
int rstore_product_stock(struct db_conn *c, const char *id, long long stock,
                         long long available);
/* Moves stock and availability by a variant's deltas (inventory.changed of a
 * variant: the product's figures are sums over its variants). */
int rstore_product_stock_delta(struct db_conn *c, const char *id,
                               long long delta_stock,
                               long long delta_available);
/* 1 with *status set (arena) when the product is known, else 0. */
int rstore_product_status(struct db_conn *c, struct arena *a, const char *id,
                          const char **status);
int rstore_product_count(struct db_conn *c, long long *count);
/* 1 with *product_id set (arena) when the snapshot knows a live variant of
 * that id (in its product's document), else 0. */
int rstore_variant_owner(struct db_conn *c, struct arena *a,
                         const char *variant_id, const char **product_id);

/* --- signals --- */

/* Empties what events built (module read_model_reset, docs/events.md):
 * the catalog snapshot, purchases, co-purchase counts, the lists; trending
 * is recomputed from the clickstream (kept, with the co-view counts: clicks
 * are this service's own records), the replayed orders add theirs back. */
extern const char reco_read_model_reset[];

/* An order's lines: purchases, co-purchase pair counts, item counts,
 * trending and dirty marks in one statement. ids/quantities: n entries,
 * distinct ids. at: when it was bought (RFC 3339, the event's timestamp;
 * NULL: now): the purchase's time, and trending's weight decays from it,
 * so an order replayed from the event log counts as it did then. */
int rstore_order_apply(struct db_conn *c, const char *order_id,
                       const char *user_id, const char *const *ids,
                       const int *quantities, size_t n, double weight,
                       const char *at);
/* A click: the co-view pairs with the actor's other products of the last
 * 30 minutes (once per actor and product in that window), trending, dirty
 * marks. actor may be NULL (anonymous: trending only); variant_id (may be
 * NULL) is recorded, the signal counts for product_id. */
int rstore_click_apply(struct db_conn *c, const char *actor,
                       const char *product_id, const char *variant_id,
                       const char *kind, double weight);

/* --- precomputation --- */

/* Takes up to limit dirty product ids (removing them). */
int rstore_dirty_take(struct db_conn *c, struct arena *a, int limit,
                      const char ***ids);
int rstore_dirty_all(struct db_conn *c);
/* Recomputes the top-n lists of product id. */
int rstore_refresh_bought(struct db_conn *c, const char *id, int n);
int rstore_refresh_similar(struct db_conn *c, const char *id, int n);

/* --- reads --- */

/* The list `kind` of product id: active, in stock, never id itself. */
int rstore_list_read(struct db_conn *c, struct arena *a, const char *id,
                     const char *kind, int limit, struct reco_row **rows);
/* The decayed trending top `limit` (active, in stock). */
int rstore_trending(struct db_conn *c, struct arena *a, int limit,
                    struct reco_row **rows);
/* Newest active, in-stock products (the fallback of an empty trending). */
int rstore_newest(struct db_conn *c, struct arena *a, int limit,
                  struct reco_row **rows);
/* Personal candidates of user_id (ALS list and neighbours of the user's
 * purchases and clicks), never a product the user bought. */
int rstore_personal(struct db_conn *c, struct arena *a, const char *user_id,
                    int limit, struct reco_row **rows);
/* The distinct products user_id bought. */
int rstore_bought(struct db_conn *c, struct arena *a, const char *user_id,
                  const char ***ids);

/* --- training --- */

struct reco_interaction {
  const char *user_id, *product_id;
  double weight;
};
int rstore_interactions(struct db_conn *c, struct arena *a,
                        struct reco_interaction **rows);
int rstore_active_ids(struct db_conn *c, struct arena *a, const char ***ids);
/* Writes personal lists: json is {"<user id>": [{id, score}...], ...}. */
int rstore_user_lists_put(struct db_conn *c, const char *json);
int rstore_model_run_put(struct db_conn *c, int users, int items,
                         int interactions);

/* --- the demo history --- */

int rstore_demo_count(struct db_conn *c, long long *count);
/* json: [[shopper, order_no, sku], ...] */
int rstore_demo_insert(struct db_conn *c, const char *json);
struct reco_demo_line {
  int shopper, order_no;
  const char *product_id;
};
/* Takes up to `orders` demo orders whose SKUs the snapshot knows, removing
 * them; lines ordered by shopper and order. */
int rstore_demo_take(struct db_conn *c, struct arena *a, int orders,
                     struct reco_demo_line **lines);

#endif
