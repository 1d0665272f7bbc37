/* shipping.c - the shipping service module: rates, shipments, tracking.
 *
 * Routes (docs/shipping.md): public rates; shipments for their owner and
 * admins; courier webhooks; the admin's rate tables; the internal quote and
 * shipment creation the order service calls (docs/internal-api.md). A
 * booking worker retries labels the courier could not book at once.
 */
#include <stdlib.h>

#include "kit/log.h"
#include "kit/service.h"
#include "kit/worker.h"
#include "services/shipping/handlers.h"
#include "services/shipping/store.h"

static const struct route routes[] = {
    {"POST", "/api/v1/shipping/rates", shipping_handle_rates, ACCESS_PUBLIC},
    {"POST", "/api/v1/shipping/webhooks/{carrier}", shipping_handle_webhook,
     ACCESS_PUBLIC},
    {"GET", "/api/v1/shipping/zones", shipping_handle_zones_list, ACCESS_ADMIN},
    {"PUT", "/api/v1/shipping/zones/{code}", shipping_handle_zone_put,
     ACCESS_ADMIN},
    {"PUT", "/api/v1/shipping/zones/{code}/rates",
     shipping_handle_zone_rates_put, ACCESS_ADMIN},
    {"GET", "/api/v1/shipments", shipping_handle_shipments_list,
     ACCESS_SIGNED_IN},
    {"GET", "/api/v1/shipments/{id}", shipping_handle_shipment_get,
     ACCESS_SIGNED_IN},
    {"POST", "/internal/shipping/quote", shipping_handle_quote,
     ACCESS_INTERNAL},
    {"POST", "/internal/shipments", shipping_handle_shipment_create,
     ACCESS_INTERNAL},
};

struct shipping_state {
  struct service *svc;
  struct worker booker;
};

/* Books the labels of pending shipments that are due (courier was down). */
static void booking_run(void *arg) {
  struct shipping_state *st = arg;
  struct arena a;
  arena_init(&a, 4096);
  const char **ids = NULL;
  struct db_conn *conn = db_acquire(st->svc->db, 2000);
  int n = conn ? store_shipments_due(conn, &a, 20, &ids) : DB_UNAVAILABLE;
  if (conn) db_release(st->svc->db, conn);
  for (int i = 0; i < n && !worker_stopping(&st->booker); i++)
    shipping_book(st->svc, NULL, &a, ids[i]);
  arena_free(&a);
}

static int shipping_start(struct service *svc) {
  if (svc->cfg->courier_webhook_secret[0] == '\0')
    log_warn("SHOPSPHERE_COURIER_WEBHOOK_SECRET is unset: every courier "
             "webhook will be refused");
  struct shipping_state *st = calloc(1, sizeof *st);
  if (st == NULL) return KIT_ERROR;
  st->svc = svc;
  if (worker_start(&st->booker, svc->name, "shipping-booker", 5000, booking_run,
                   st) != KIT_OK) {
    free(st);
    return KIT_ERROR;
  }
  svc->state = st;
  return KIT_OK;
}

static void shipping_stop(struct service *svc) {
  struct shipping_state *st = svc->state;
  if (st == NULL) return;
  worker_stop(&st->booker);
  free(st);
  svc->state = NULL;
}

const struct service_module shipping_module = {
    .id = SVC_SHIPPING,
    .summary = "rates, shipments, tracking",
    .needs = NEEDS_DB | NEEDS_AMQP,
    .routes = routes,
    .route_count = sizeof routes / sizeof routes[0],
    .statements = shipping_statements,
    .statement_count = SHIPPING_STATEMENT_COUNT,
    .start = shipping_start,
    .stop = shipping_stop,
};
