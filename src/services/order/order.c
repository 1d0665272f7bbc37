/* order.c - the order service module: orders, the checkout saga, order history.
 *
 * Routes (DESIGN §5 Checkout & orders, returns), prepared statements
 * (store.c), the shipment events it consumes (events.c) and the recovery
 * sweeper (sweeper.c). docs/checkout.md describes the saga and its
 * recovery, docs/returns.md returns and refunds.
 */
#include <stdlib.h>
#include <string.h>

#include "kit/log.h"
#include "kit/uuid.h"
#include "services/order/internal.h"

static const struct route order_routes[] = {
    {"POST", "/api/v1/orders", order_handle_checkout, ACCESS_SIGNED_IN},
    {"GET", "/api/v1/orders", order_handle_list, ACCESS_SIGNED_IN},
    {"GET", "/api/v1/orders/{id}", order_handle_get, ACCESS_SIGNED_IN},
    {"POST", "/api/v1/orders/{id}/cancel", order_handle_cancel,
     ACCESS_SIGNED_IN},
    {"PATCH", "/api/v1/orders/{id}/status", order_handle_status, ACCESS_ADMIN},
    {"POST", "/api/v1/orders/{id}/refund", order_handle_refund, ACCESS_ADMIN},
    {"POST", "/api/v1/orders/{id}/returns", order_handle_return_create,
     ACCESS_SIGNED_IN},
    {"GET", "/api/v1/orders/{id}/returns", order_handle_order_returns,
     ACCESS_SIGNED_IN},
    {"GET", "/api/v1/returns/{id}", order_handle_return_get, ACCESS_SIGNED_IN},
    {"GET", "/api/v1/admin/returns", order_handle_admin_returns, ACCESS_ADMIN},
    {"POST", "/api/v1/admin/returns/{id}/approve", order_handle_return_approve,
     ACCESS_ADMIN},
    {"POST", "/api/v1/admin/returns/{id}/reject", order_handle_return_reject,
     ACCESS_ADMIN},
    {"POST", "/api/v1/admin/returns/{id}/receive", order_handle_return_receive,
     ACCESS_ADMIN},
    {"POST", "/api/v1/admin/returns/{id}/refund", order_handle_return_refund,
     ACCESS_ADMIN},
    {"GET", "/internal/orders/{id}", order_handle_internal_get,
     ACCESS_INTERNAL},
};

static const struct event_handler order_events[] = {
    {"shipment.created", order_on_shipment_created},
    {"shipment.status_changed", order_on_shipment_status},
};

/* Fault injection only where tests run, never in production. */
static bool fault_injection_enabled(const struct config *cfg) {
  if (strcmp(cfg->profile, "prod") == 0) return false;
  if (strcmp(cfg->fault_injection, "on") == 0) return true;
  if (strcmp(cfg->fault_injection, "off") == 0) return false;
  return strcmp(cfg->profile, "test") == 0 ||
         (cfg->profile[0] == 'w' && cfg->profile[1] >= '1' &&
          cfg->profile[1] <= '8' && cfg->profile[2] == '\0');
}

static int order_start(struct service *svc) {
  struct order_state *st = calloc(1, sizeof *st);
  if (st == NULL) return KIT_NOMEM;
  st->svc = svc;
  pthread_mutex_init(&st->handover_lock, NULL);
  uuid_v7(st->instance_id);
  st->fault_injection = fault_injection_enabled(svc->cfg);
  static const char *const step_label[] = {"step", NULL};
  static const char *const status_label[] = {"status", NULL};
  st->step_seconds = metric_family(
      "order_checkout_step_seconds",
      "Duration of each step of the checkout saga (prepare: cart, catalog, "
      "tax, shipping; reserve; order; authorize; confirm; total)",
      METRIC_HISTOGRAM, step_label, NULL, 0);
  st->checkouts =
      metric_family("order_checkouts_total",
                    "Checkout requests answered by the saga, by HTTP status",
                    METRIC_COUNTER, status_label, NULL, 0);
  st->recoveries = metric_family(
      "order_saga_recoveries_total",
      "Interrupted checkout sagas taken over by the sweeper, by step",
      METRIC_COUNTER, step_label, NULL, 0);
  if (st->fault_injection)
    log_warn("fault injection is enabled (X-Fault-Inject; test profile)");
  svc->state = st;
  if (order_sweeper_start(svc) != KIT_OK) {
    svc->state = NULL;
    pthread_mutex_destroy(&st->handover_lock);
    free(st);
    return KIT_ERROR;
  }
  return KIT_OK;
}

static void order_stop(struct service *svc) {
  if (svc->state == NULL) return;
  order_sweeper_stop(svc);
  pthread_mutex_destroy(&((struct order_state *)svc->state)->handover_lock);
  free(svc->state);
  svc->state = NULL;
}

const struct service_module order_module = {
    .id = SVC_ORDER,
    .summary = "orders, the checkout saga, order history",
    .needs = NEEDS_DB | NEEDS_AMQP,
    .routes = order_routes,
    .route_count = sizeof order_routes / sizeof order_routes[0],
    .statements = order_statements,
    .statement_count = ORDER_STATEMENT_COUNT,
    .events = order_events,
    .event_count = sizeof order_events / sizeof order_events[0],
    .start = order_start,
    .stop = order_stop,
};
