/* product.h - what the product service's files share inside its folder:
 * its state, handlers, rendering and event helpers. Nobody outside
 * src/services/product includes this. */
#ifndef SHOPSPHERE_PRODUCT_PRODUCT_H
#define SHOPSPHERE_PRODUCT_PRODUCT_H

#include <jansson.h>

#include "kit/handler.h"
#include "kit/http.h"
#include "kit/json.h"
#include "kit/service.h"
#include "kit/worker.h"
#include "services/product/cache.h"
#include "services/product/store.h"

/* Reads are cached this long: writes on another replica show within it. */
#define PRODUCT_CACHE_TTL_MS 1000
#define PRODUCT_CACHE_SLOTS 4096
#define RESERVATION_SWEEP_MS 1000

struct product_state {
  struct pcache *cache;
  struct worker sweeper;
  struct service *svc;
};

/* Transaction outcomes that are answers, not failures: a tx body returns
 * >= 0 (commit) or one of these (roll back, then answer). Below DB_*. */
enum product_outcome {
  OUT_NOT_FOUND = -20,
  OUT_CONFLICT = -21,
  OUT_INVALID = -22,
};

static inline struct product_state *product_state(struct http_request *req) {
  return req->svc->state;
}

/* --- handlers --- */
void handle_product_list(struct http_request *req, struct http_response *res);
void handle_product_get(struct http_request *req, struct http_response *res);
void handle_product_create(struct http_request *req, struct http_response *res);
void handle_product_update(struct http_request *req, struct http_response *res);
void handle_product_archive(struct http_request *req,
                            struct http_response *res);
void handle_product_image(struct http_request *req, struct http_response *res);
void handle_product_inventory_adjust(struct http_request *req,
                                     struct http_response *res);
void handle_product_category_list(struct http_request *req,
                                  struct http_response *res);
void handle_product_category_create(struct http_request *req,
                                    struct http_response *res);
void handle_product_category_update(struct http_request *req,
                                    struct http_response *res);
void handle_product_category_delete(struct http_request *req,
                                    struct http_response *res);
void handle_variant_create(struct http_request *req, struct http_response *res);
void handle_variant_update(struct http_request *req, struct http_response *res);
void handle_variant_delete(struct http_request *req, struct http_response *res);
void handle_product_prices_put(struct http_request *req,
                               struct http_response *res);
void handle_product_batch(struct http_request *req, struct http_response *res);
void handle_product_reservation_create(struct http_request *req,
                                       struct http_response *res);
void handle_product_reservation_commit(struct http_request *req,
                                       struct http_response *res);
void handle_product_reservation_release(struct http_request *req,
                                        struct http_response *res);
void handle_product_reservation_get(struct http_request *req,
                                    struct http_response *res);

/* The sweeper's job (worker_fn): expires reservations past their time. */
void product_reservation_sweep(void *svc);

/* --- ratings (ratings.c) --- */
/* Consumer of review.approved / review.removed: stores the product's rating
 * aggregate and drops the read cache. */
int product_on_review_rating(struct service *svc, struct db_conn *conn,
                             const struct bus_event *ev);

/* --- returns (restock.c) --- */
/* Consumer of return.received: the sellable units back on hand. */
int product_on_return_received(struct service *svc, struct db_conn *conn,
                               const struct bus_event *ev);

/* --- rendering (render.c) --- */
/* The public JSON of a product (new reference). */
json_t *product_render(const struct product_row *p);
json_t *product_render_category(const struct category_row *c);
/* A variant's public JSON (new reference). */
json_t *product_render_variant(const struct variant_row *v);
/* Appends to product["variants"] the live variants of v[0..n) that belong
 * to it. */
void product_attach_variants(json_t *product, const struct variant_row *v,
                             int n);

/* A price list as JSON: [{currency, amount}] (new reference). */
json_t *product_render_prices(const struct price_entry *list, int n);

/* Emits product.created/updated/archived with the product as data, its
 * variants (a product with options) and its price list in other currencies
 * (`prices`, for the search index). */
int product_emit(struct db_conn *c, const char *type,
                 const struct product_row *p);
/* Emits inventory.changed for one product. */
int product_emit_inventory(struct db_conn *c, const struct stock_change *ch,
                           const char *reason, int64_t delta_stock,
                           int64_t delta_reserved, const char *order_id);

/* Answers a failed db_status (503 unavailable / 500). */
void product_reply_db_failure(struct http_response *res,
                              const struct http_request *req, int rc);
/* Serializes json and answers status, with Cache-Control for reads. */
void product_reply_json(struct http_response *res, unsigned status,
                        json_t *body);
/* Cache-Control of a public read. An anonymous answer rendered just now
 * (fresh) may be kept one second by shared caches (the gateway's edge
 * cache); one served from our own cache is already up to a second old, so
 * it says max-age=0 and nobody keeps it longer: a write is then visible
 * within one second end to end. A signed-in caller's answer is private. */
void product_cache_headers(struct http_response *res,
                           const struct http_request *req, bool fresh);

#endif
