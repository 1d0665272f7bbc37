/* booking.c - booking a pending shipment's label with its courier, and the
 * events a shipment emits.
 *
 * A shipment is written `pending` first (with shipment.created), then booked
 * with the courier outside any transaction, then moved to `label_created` in
 * a second transaction. When the courier cannot be reached the shipment
 * stays pending and the booking worker (shipping.c) tries again with growing
 * delay, so an order shipped while the courier is down is not lost. The
 * courier books idempotently on our shipment id, so a retry after a lost
 * answer gets the same tracking number.
 */
#include <jansson.h>
#include <string.h>

#include "kit/bus.h"
#include "kit/log.h"
#include "kit/service.h"
#include "services/shipping/courier.h"
#include "services/shipping/handlers.h"
#include "services/shipping/store.h"

static void set_text_or_null(json_t *o, const char *key, const char *value) {
  json_object_set_new(o, key, value ? json_string(value) : json_null());
}

int shipping_emit_created(struct db_conn *conn, const struct shipment *s) {
  json_t *data = json_pack(
      "{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "shipment_id", s->id, "order_id",
      s->order_id, "user_id", s->user_id, "carrier", s->carrier, "method",
      s->method, "status", s->status, "created_at", s->created_at);
  set_text_or_null(data, "tracking_number", s->tracking_number);
  set_text_or_null(data, "label_url", s->label_url);
  int rc = bus_emit(conn, "shipment.created", s->id, data);
  json_decref(data);
  return rc;
}

int shipping_emit_status_changed(struct db_conn *conn, const struct shipment *s,
                                 const char *from, const char *to,
                                 const char *description, const char *location,
                                 const char *occurred_at) {
  json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                           "shipment_id", s->id, "order_id", s->order_id,
                           "user_id", s->user_id, "carrier", s->carrier,
                           "from_status", from, "status", to, "description",
                           description, "location", location ? location : "");
  set_text_or_null(data, "tracking_number", s->tracking_number);
  set_text_or_null(data, "occurred_at", occurred_at);
  int rc = bus_emit(conn, "shipment.status_changed", s->id, data);
  json_decref(data);
  return rc;
}

/* --- booking ----------------------------------------------------------------
 */

struct label_tx {
  const char *id;
  const struct courier_label *label;
  struct arena *arena;
};

static int label_tx(struct db_conn *c, void *arg) {
  struct label_tx *t = arg;
  int rc = store_shipment_label(c, t->id, t->label->tracking_number,
                                t->label->label_url);
  if (rc <= 0) return rc; /* someone else recorded it first */
  struct shipment s;
  rc = store_shipment_by_id(c, t->arena, t->id, &s);
  if (rc <= 0) return rc < 0 ? rc : DB_HARD_ERROR;
  const char *desc = "Shipping label created";
  rc =
      store_tracking_event_add(c, t->id, "label_created", desc, "", NULL, NULL);
  if (rc >= 0)
    rc = shipping_emit_status_changed(c, &s, "pending", "label_created", desc,
                                      "", s.updated_at);
  return rc;
}

struct failed_tx {
  const char *id;
  int delay_s;
};

static int failed_tx(struct db_conn *c, void *arg) {
  struct failed_tx *t = arg;
  return store_shipment_booking_failed(c, t->id, t->delay_s);
}

int shipping_book(struct service *svc, const struct http_request *parent,
                  struct arena *a, const char *id) {
  struct shipment s;
  struct db_conn *conn = db_acquire(svc->db, 2000);
  if (conn == NULL) return KIT_UNAVAILABLE;
  int rc = store_shipment_by_id(conn, a, id, &s);
  db_release(svc->db, conn);
  if (rc < 0) return KIT_UNAVAILABLE;
  if (rc == 0) return KIT_ERROR;
  if (strcmp(s.status, "pending") != 0) return KIT_OK;

  const struct courier_adapter *courier = shipping_courier_find(s.carrier);
  if (courier == NULL) {
    log_error("shipment %s: no adapter for carrier %s", s.id, s.carrier);
    return KIT_ERROR;
  }
  struct courier_parcel parcel = {s.id, s.order_id, ship_method_parse(s.method),
                                  s.weight_grams, s.address_json};
  struct courier_label label;
  memset(&label, 0, sizeof label);
  rc = courier->book(svc, parent, &parcel, &label);
  if (rc != KIT_OK) {
    /* 5 s, 10 s, 20 s ... at most 5 minutes between attempts. */
    int shift = s.booking_attempts < 6 ? s.booking_attempts : 6;
    struct failed_tx f = {s.id, 5 << shift};
    if (f.delay_s > 300) f.delay_s = 300;
    log_warn("shipment %s: courier %s did not book the label (attempt %d); "
             "retrying in %d s",
             s.id, s.carrier, s.booking_attempts + 1, f.delay_s);
    if (db_transaction(svc->db, DB_READ_COMMITTED, failed_tx, &f) < 0)
      log_warn("shipment %s: cannot record the failed booking", s.id);
    return KIT_UNAVAILABLE;
  }
  struct label_tx t = {s.id, &label, a};
  rc = db_transaction(svc->db, DB_READ_COMMITTED, label_tx, &t);
  if (rc < 0) {
    log_error("shipment %s: booked as %s but cannot record it; the booking "
              "worker will ask the courier again",
              s.id, label.tracking_number);
    return KIT_UNAVAILABLE;
  }
  log_info("shipment %s: label %s booked with %s", s.id, label.tracking_number,
           s.carrier);
  return KIT_OK;
}
