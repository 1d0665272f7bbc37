/* events.h - the events the cart service consumes (events.c). */
#ifndef SHOPSPHERE_CART_EVENTS_H
#define SHOPSPHERE_CART_EVENTS_H

#include "kit/bus.h"
#include "kit/db.h"
#include "kit/service.h"

/* order.confirmed: empties data.cart_id once for data.order_id. */
int cart_on_order_confirmed(struct service *svc, struct db_conn *conn,
                            const struct bus_event *ev);

#endif
