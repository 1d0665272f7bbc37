/* events.c - what the order service learns from others: the courier's
 * progress (shipment.created, shipment.status_changed from the shipping
 * service) moves orders to shipped and delivered. Each handler runs in the
 * consumer's transaction (inbox: once per event) and changes an order only
 * when the move is legal from where it stands, so late or repeated news is
 * a no-op. */
#include <jansson.h>
#include <string.h>

#include "kit/log.h"
#include "kit/uuid.h"
#include "services/order/domain.h"
#include "services/order/internal.h"

/* Moves the order step by step towards `target` (shipped, then delivered),
 * each step a legal transition with its events. */
static int advance(struct db_conn *conn, const char *order_id,
                   enum order_status target, const char *shipment_id,
                   const char *reason) {
  struct arena a;
  arena_init(&a, 8192);
  struct order_record o;
  int rc = store_order_get(conn, &a, order_id, true, &o);
  if (rc <= 0) goto cleanup; /* not one of ours (or gone): nothing to do */
  if (shipment_id != NULL && o.shipment_id == NULL) {
    rc = store_order_set_shipment(conn, order_id, shipment_id, 0);
    if (rc < 0) goto cleanup;
  }
  while (o.status != target) {
    enum order_status next;
    if (o.status == ORDER_CONFIRMED || o.status == ORDER_PROCESSING)
      next = ORDER_SHIPPED;
    else if (o.status == ORDER_SHIPPED && target == ORDER_DELIVERED)
      next = ORDER_DELIVERED;
    else
      break; /* cancelled, refunded, already further: leave it */
    enum order_status from = o.status;
    rc = store_order_transition(conn, order_id, from, next, reason);
    if (rc < 0) goto cleanup;
    rc = store_order_get(conn, &a, order_id, false, &o);
    if (rc != DB_ONE_RESULT) {
      rc = rc < 0 ? rc : DB_HARD_ERROR;
      goto cleanup;
    }
    rc = order_emit_transition(conn, &o, from);
    if (rc < 0) goto cleanup;
    log_info("order %s: %s -> %s (%s)", order_id, order_status_name(from),
             order_status_name(next), reason);
  }
  rc = 0;
cleanup:
  arena_free(&a);
  return rc;
}

static const char *order_of(const struct bus_event *ev) {
  const char *id = json_string_value(json_object_get(ev->data, "order_id"));
  return id != NULL && uuid_valid(id) ? id : NULL;
}

int order_on_shipment_created(struct service *svc, struct db_conn *conn,
                              const struct bus_event *ev) {
  const char *order_id = order_of(ev);
  if (order_id == NULL) return 0;
  const char *shipment_id =
      json_string_value(json_object_get(ev->data, "shipment_id"));
  return advance(conn, order_id, ORDER_SHIPPED, shipment_id,
                 "shipment created");
}

int order_on_shipment_status(struct service *svc, struct db_conn *conn,
                             const struct bus_event *ev) {
  const char *order_id = order_of(ev);
  const char *status = json_string_value(json_object_get(ev->data, "status"));
  if (order_id == NULL || status == NULL) return 0;
  const char *shipment_id =
      json_string_value(json_object_get(ev->data, "shipment_id"));
  if (strcmp(status, "delivered") == 0)
    return advance(conn, order_id, ORDER_DELIVERED, shipment_id,
                   "delivered (courier tracking)");
  if (strcmp(status, "in_transit") == 0 || strcmp(status, "picked_up") == 0 ||
      strcmp(status, "out_for_delivery") == 0)
    return advance(conn, order_id, ORDER_SHIPPED, shipment_id,
                   "in transit (courier tracking)");
  return 0;
}
