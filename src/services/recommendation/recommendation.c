/* recommendation.c - the recommendation service module: bought-together,
 * similar, personal and trending lists (docs/recommendations.md).
 *
 * Files of this room: handlers.c (HTTP), events.c (consumed events),
 * store.c (SQL), domain.c and evaluate.c (ALS, item-to-item, the shopper
 * history and its evaluation: pure), model.c (refresher and trainer
 * workers), train.c (ALS on the schema), demo.c (the demo seed's history),
 * cache.c (rendered lists in memory). */
#include <stdlib.h>

#include "kit/log.h"
#include "services/recommendation/recommendation.h"
#include "services/recommendation/store.h"

#define CACHE_SLOTS 8192

static const struct route routes[] = {
    {"GET", "/api/v1/recommendations/products/{id}", reco_handle_product,
     ACCESS_PUBLIC},
    {"GET", "/api/v1/recommendations/me", reco_handle_me, ACCESS_SIGNED_IN},
    {"GET", "/api/v1/recommendations/trending", reco_handle_trending,
     ACCESS_PUBLIC},
    {"POST", "/api/v1/recommendations/events", reco_handle_event,
     ACCESS_PUBLIC},
};

static const struct event_handler events[] = {
    {"product.created", reco_on_product},
    {"product.updated", reco_on_product},
    {"product.archived", reco_on_product},
    {"inventory.changed", reco_on_inventory},
    {"order.confirmed", reco_on_order_confirmed},
};

static int reco_start(struct service *svc) {
  struct reco_state *st = calloc(1, sizeof *st);
  if (st == NULL) return KIT_NOMEM;
  st->svc = svc;
  st->cache = reco_cache_create(CACHE_SLOTS, svc->cfg->reco_cache_ms);
  if (st->cache == NULL) {
    free(st);
    return KIT_NOMEM;
  }
  svc->state = st;
  /* The trainer runs on its schedule, or only when kicked (interval 0). */
  int train_ms = svc->cfg->reco_train_interval_s > 0
                     ? svc->cfg->reco_train_interval_s * 1000
                     : 3600 * 1000;
  if (worker_start(&st->trainer, svc->name, "reco-trainer", train_ms,
                   reco_train_run, st) != KIT_OK ||
      worker_start(&st->refresher, svc->name, "reco-refresher",
                   svc->cfg->reco_refresh_ms, reco_refresh_run, st) != KIT_OK) {
    log_error("cannot start the recommendation workers");
    worker_stop(&st->trainer);
    reco_cache_destroy(st->cache);
    free(st);
    svc->state = NULL;
    return KIT_ERROR;
  }
  worker_kick(&st->refresher);
  return KIT_OK;
}

static void reco_stop(struct service *svc) {
  struct reco_state *st = svc->state;
  if (st == NULL) return;
  worker_stop(&st->refresher);
  worker_stop(&st->trainer);
  reco_cache_destroy(st->cache);
  free(st);
  svc->state = NULL;
}

const struct service_module recommendation_module = {
    .id = SVC_RECOMMENDATION,
    .summary = "co-purchase and similarity models",
    .needs = NEEDS_DB | NEEDS_AMQP,
    .routes = routes,
    .route_count = sizeof routes / sizeof routes[0],
    .statements = reco_statements,
    .statement_count = RECO_STATEMENT_COUNT,
    .events = events,
    .event_count = sizeof events / sizeof events[0],
    .read_model_rebuildable = true,
    .read_model_reset = reco_read_model_reset,
    .start = reco_start,
    .stop = reco_stop,
};
