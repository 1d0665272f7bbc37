/* product.c - the product service module: catalog, categories, inventory and
 * reservations. Routes (public, admin and internal), the SQL it declares,
 * and its start/stop: the read cache and the reservation sweeper.
 *
 * Files of this room: handlers_products.c, handlers_categories.c,
 * handlers_inventory.c (HTTP), input.c (JSON into a product draft), domain.c
 * (pure rules), store.c (SQL), cache.c (rendered JSON), render.c (JSON out,
 * events), catalog_seed.c, catalog_import.c and tools.c (`shopsphere seed`
 * and `shopsphere import products`). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "kit/log.h"
#include "services/product/product.h"

static const struct route routes[] = {
    {"GET", "/api/v1/products", handle_product_list, ACCESS_PUBLIC},
    {"POST", "/api/v1/products", handle_product_create, ACCESS_ADMIN},
    {"GET", "/api/v1/products/{id}", handle_product_get, ACCESS_PUBLIC},
    {"PATCH", "/api/v1/products/{id}", handle_product_update, ACCESS_ADMIN},
    {"DELETE", "/api/v1/products/{id}", handle_product_archive, ACCESS_ADMIN},
    {"GET", "/api/v1/products/{id}/image.svg", handle_product_image,
     ACCESS_PUBLIC},
    {"POST", "/api/v1/products/{id}/inventory-adjustments",
     handle_product_inventory_adjust, ACCESS_ADMIN},
    {"POST", "/api/v1/products/{id}/variants", handle_variant_create,
     ACCESS_ADMIN},
    {"PUT", "/api/v1/products/{id}/prices", handle_product_prices_put,
     ACCESS_ADMIN},
    {"PATCH", "/api/v1/variants/{id}", handle_variant_update, ACCESS_ADMIN},
    {"DELETE", "/api/v1/variants/{id}", handle_variant_delete, ACCESS_ADMIN},
    {"GET", "/api/v1/categories", handle_product_category_list, ACCESS_PUBLIC},
    {"POST", "/api/v1/categories", handle_product_category_create,
     ACCESS_ADMIN},
    {"PATCH", "/api/v1/categories/{id}", handle_product_category_update,
     ACCESS_ADMIN},
    {"DELETE", "/api/v1/categories/{id}", handle_product_category_delete,
     ACCESS_ADMIN},
    {"POST", "/internal/products/batch", handle_product_batch, ACCESS_INTERNAL},
    {"POST", "/internal/reservations", handle_product_reservation_create,
     ACCESS_INTERNAL},
    {"GET", "/internal/reservations/{order_id}", handle_product_reservation_get,
     ACCESS_INTERNAL},
    {"POST", "/internal/reservations/{order_id}/commit",
     handle_product_reservation_commit, ACCESS_INTERNAL},
    {"POST", "/internal/reservations/{order_id}/release",
     handle_product_reservation_release, ACCESS_INTERNAL},
};

static const struct event_handler events[] = {
    {"review.approved", product_on_review_rating},
    {"review.removed", product_on_review_rating},
    {"return.received", product_on_return_received},
};

/* Every process's read cache follows the catalog's own changes made in any
 * process: an edit shows at once everywhere, while reads stay cached. Stock
 * moved by orders (reservations) changes too often to drop the cache for;
 * those reads follow within the cache's lifetime. */
static void product_on_catalog_change(struct service *svc,
                                      const struct bus_event *ev) {
  struct product_state *st = svc->state;
  if (st == NULL) return;
  if (ev != NULL && strcmp(ev->event_type, "inventory.changed") == 0) {
    const char *reason = json_string_value(json_object_get(ev->data, "reason"));
    if (reason == NULL || strcmp(reason, "adjustment") != 0) return;
  }
  pcache_invalidate(st->cache);
}

static const struct bus_listener listeners[] = {
    {"product.*", product_on_catalog_change},
    {"inventory.changed", product_on_catalog_change},
    {"category.*", product_on_catalog_change},
};

static int product_start(struct service *svc) {
  struct product_state *st = calloc(1, sizeof *st);
  if (st == NULL) return KIT_NOMEM;
  st->svc = svc;
  st->cache = pcache_create(PRODUCT_CACHE_SLOTS, PRODUCT_CACHE_TTL_MS);
  if (st->cache == NULL) {
    free(st);
    return KIT_NOMEM;
  }
  svc->state = st;
  if (worker_start(&st->sweeper, svc->name, "reservation-sweeper",
                   RESERVATION_SWEEP_MS, product_reservation_sweep,
                   svc) != KIT_OK) {
    log_error("cannot start the reservation sweeper");
    pcache_destroy(st->cache);
    free(st);
    svc->state = NULL;
    return KIT_ERROR;
  }
  return KIT_OK;
}

static void product_stop(struct service *svc) {
  struct product_state *st = svc->state;
  if (st == NULL) return;
  worker_stop(&st->sweeper);
  pcache_destroy(st->cache);
  free(st);
  svc->state = NULL;
}

const struct service_module product_module = {
    .id = SVC_PRODUCT,
    .summary = "catalog, categories, inventory and reservations",
    .needs = NEEDS_DB | NEEDS_REDIS | NEEDS_AMQP,
    .routes = routes,
    .route_count = sizeof routes / sizeof routes[0],
    .statements = product_statements,
    .statement_count = PRODUCT_STATEMENT_COUNT,
    .events = events,
    .event_count = sizeof events / sizeof events[0],
    .listeners = listeners,
    .listener_count = sizeof listeners / sizeof listeners[0],
    .start = product_start,
    .stop = product_stop,
};
