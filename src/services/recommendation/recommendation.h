/* recommendation.h - what the files of the recommendation service share:
 * its state, the in-process cache of rendered lists, the handlers, the
 * event consumers, the workers and the trainer (also used by
 * `shopsphere recommend train`). Not for other services. */
#ifndef SHOPSPHERE_RECOMMENDATION_H
#define SHOPSPHERE_RECOMMENDATION_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "kit/bus.h"
#include "kit/http.h"
#include "kit/service.h"
#include "kit/worker.h"
#include "services/recommendation/domain.h"

/* Lists are precomputed this long; a request takes at most RECO_LIMIT_MAX. */
#define RECO_LIST_WIDTH 50
#define RECO_LIMIT_DEFAULT 10
#define RECO_LIMIT_MAX 50
/* Trending weight of a unit bought, an add to cart and a view. */
#define RECO_WEIGHT_PURCHASE 5.0
#define RECO_WEIGHT_CART 2.0
#define RECO_WEIGHT_VIEW 1.0

/* --- cache.c: rendered bodies by key, each for a short time --- */

struct reco_cache;
struct reco_cache *reco_cache_create(size_t slots, int ttl_ms);
void reco_cache_destroy(struct reco_cache *c);
/* Answers 200 with the cached body of key; false when absent or stale. */
bool reco_cache_reply(struct reco_cache *c, const char *key,
                      struct http_response *res);
/* Stores a copy of body under key. */
void reco_cache_put(struct reco_cache *c, const char *key, const char *body,
                    size_t len);

/* --- the service --- */

struct reco_state {
  struct service *svc;
  struct reco_cache *cache;
  struct worker refresher; /* dirty lists, demo orders, catalog fill */
  struct worker trainer;   /* ALS on a schedule */
  atomic_bool catalog_filled;
  atomic_bool train_wanted;
};

/* handlers.c */
void reco_handle_product(struct http_request *req, struct http_response *res);
void reco_handle_me(struct http_request *req, struct http_response *res);
void reco_handle_trending(struct http_request *req, struct http_response *res);
void reco_handle_event(struct http_request *req, struct http_response *res);

/* events.c */
int reco_on_product(struct service *svc, struct db_conn *conn,
                    const struct bus_event *ev);
int reco_on_inventory(struct service *svc, struct db_conn *conn,
                      const struct bus_event *ev);
int reco_on_order_confirmed(struct service *svc, struct db_conn *conn,
                            const struct bus_event *ev);

/* model.c: one run of the refresher (catalog fill when empty, demo orders,
 * dirty lists) and of the trainer. */
void reco_refresh_run(void *arg);
void reco_train_run(void *arg);

/* train.c: trains ALS on the schema's purchases and signed-in clicks and
 * writes every user's personal top list. progress may be NULL. Returns
 * KIT_OK, KIT_UNAVAILABLE or KIT_ERROR. */
struct reco_train_report {
  int users, items, interactions, lists;
};
int reco_train(struct db_pool *pool, const struct als_params *p,
               als_progress_fn progress, void *arg,
               struct reco_train_report *out);

/* demo.c: the demo seed's synthetic order history (`shopsphere seed`).
 * skus[i] is catalog product i's SKU and cluster[i] its taste cluster
 * (category and brand); writes the orders into demo_orders of the
 * recommendation schema, once (nothing when a demo history exists).
 * *orders receives the number of orders written. */
int reco_demo_seed(const struct config *cfg, const char *const *skus,
                   const int *cluster, int clusters, size_t n, int *orders);

/* The deterministic user and order ids of demo shopper s and order o. */
void reco_demo_user_id(int shopper, char out[37]);
void reco_demo_order_id(int shopper, int order_no, char out[37]);

#endif
