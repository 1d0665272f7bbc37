/* events.c - what the cart service consumes: order.confirmed empties the
 * cart the checkout came from (data.cart_id), once per order.
 *
 * The checkout saga empties the cart itself right after confirming (the
 * fast path, POST /internal/carts/{id}/clear?order_id=); this consumer is
 * the guarantee when the saga's process died between its confirming
 * transaction and that call. The inbox (kit consumer) records the event in
 * the consumer's transaction; the Redis change is made once per order id
 * (cart_store_clear_for_order), so a redelivery, or the saga's call coming
 * second, changes nothing, and what the customer put in the cart after the
 * checkout stays.
 */
#include "services/cart/events.h"

#include <jansson.h>

#include "kit/err.h"
#include "kit/log.h"
#include "kit/uuid.h"
#include "services/cart/store.h"

int cart_on_order_confirmed(struct service *svc, struct db_conn *conn,
                            const struct bus_event *ev) {
  (void)conn;
  const json_t *data = ev->data;
  const char *order_id = json_string_value(json_object_get(data, "order_id"));
  const json_t *cart = json_object_get(data, "cart_id");
  char cart_id[UUID_STR_LEN], order[UUID_STR_LEN];
  if (order_id == NULL || !uuid_normalize(order_id, order)) {
    log_error("order.confirmed %s without a valid order_id: skipped",
              ev->event_id);
    return 0;
  }
  /* An order made before the event carried its cart, or without one. */
  if (cart == NULL || json_is_null(cart)) return 0;
  const char *text = json_string_value(cart);
  if (text == NULL || !uuid_normalize(text, cart_id)) {
    log_error("order.confirmed %s: cart_id is not a UUID: skipped",
              ev->event_id);
    return 0;
  }
  bool already = false;
  int rc = cart_store_clear_for_order(svc->kv, cart_id, order, &already);
  switch (rc) {
  case KIT_OK:
    if (!already)
      log_info("order %s confirmed: cart %s emptied by the event", order,
               cart_id);
    return 0;
  case KIT_NOT_FOUND: /* expired, merged away: nothing to empty */
    return 0;
  case KIT_UNAVAILABLE:
  case KIT_TIMEOUT:
    /* Redis is away: keep the delivery and retry when it answers, as for
     * the database (never dead-lettered for an outage). */
    return DB_UNAVAILABLE;
  default:
    log_error("order.confirmed %s: cart %s not emptied (%d)", ev->event_id,
              cart_id, rc);
    return DB_HARD_ERROR;
  }
}
