/* events.c - the admin service's read models, fed by domain events.
 *
 * Each handler runs in the bus consumer's transaction, after the event id
 * went into the inbox, so it is applied once. Rows that late (retried)
 * events could overwrite carry the event's timestamp and the SQL keeps the
 * newest (store.c). An event whose data cannot be read is refused with
 * DB_HARD_ERROR: the bus retries it and parks it in the dead-letter queue,
 * where `shopsphere events dlq list` shows it. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "kit/log.h"
#include "kit/money.h"
#include "kit/uuid.h"
#include "services/admin/admin.h"
#include "services/admin/store.h"

static const char *str(const struct bus_event *ev, const char *name) {
  return json_string_value(json_object_get(ev->data, name));
}

static const char *uuid_field(const struct bus_event *ev, const char *name) {
  const char *s = str(ev, name);
  return s != NULL && uuid_valid(s) ? s : NULL;
}

static int refuse(const struct bus_event *ev, const char *why) {
  log_warn("%s %s refused: %s", ev->event_type, ev->event_id, why);
  return DB_HARD_ERROR;
}

/* --- orders --- */

/* order.created, order.cancelled, order.status_changed: the order's status
 * as of the event. */
int admin_on_order_status(struct service *svc, struct db_conn *conn,
                          const struct bus_event *ev) {
  (void)svc;
  const char *order_id = uuid_field(ev, "order_id");
  const char *status = strcmp(ev->event_type, "order.status_changed") == 0
                           ? str(ev, "to")
                           : str(ev, "status");
  if (order_id == NULL || status == NULL || status[0] == '\0' ||
      strlen(status) > 32)
    return refuse(ev, "order_id or status missing");
  return astore_order_status(conn, order_id, status, ev->timestamp);
}

/* order.confirmed: a sale at the time of the event, with its lines. */
int admin_on_order_confirmed(struct service *svc, struct db_conn *conn,
                             const struct bus_event *ev) {
  (void)svc;
  const char *order_id = uuid_field(ev, "order_id");
  const char *user_id = uuid_field(ev, "user_id");
  const char *currency = str(ev, "currency");
  const char *total_s = str(ev, "total");
  int64_t total = 0;
  if (order_id == NULL || currency == NULL || !money_currency_valid(currency))
    return refuse(ev, "order_id or currency missing");
  if (total_s == NULL || money_parse(total_s, currency, &total) != KIT_OK)
    return refuse(ev, "total is not an amount");
  int rc = astore_order_status(conn, order_id, "confirmed", ev->timestamp);
  if (rc < 0) return rc;
  rc = astore_sale_insert(conn, order_id, user_id, currency, total,
                          ev->timestamp);
  if (rc <= 0) return rc; /* recorded already: the lines are there too */
  json_t *items = json_object_get(ev->data, "items");
  size_t i;
  json_t *it;
  json_array_foreach(items, i, it) {
    const char *product_id =
        json_string_value(json_object_get(it, "product_id"));
    const char *name = json_string_value(json_object_get(it, "name"));
    const char *price_s = json_string_value(json_object_get(it, "unit_price"));
    json_t *qty = json_object_get(it, "quantity");
    int64_t price = 0;
    if (product_id == NULL || !uuid_valid(product_id) ||
        !json_is_integer(qty) || json_integer_value(qty) <= 0 ||
        price_s == NULL || money_parse(price_s, currency, &price) != KIT_OK)
      return refuse(ev, "an item lacks product_id, quantity or unit_price");
    rc = astore_sale_line_insert(conn, order_id, (int)i, product_id, name,
                                 json_integer_value(qty), price);
    if (rc < 0) return rc;
  }
  return 1;
}

/* order.refunded: money returned at the time of the event. */
int admin_on_order_refunded(struct service *svc, struct db_conn *conn,
                            const struct bus_event *ev) {
  (void)svc;
  const char *order_id = uuid_field(ev, "order_id");
  const char *refund_id = uuid_field(ev, "refund_id");
  const char *currency = str(ev, "currency");
  const char *amount_s = str(ev, "amount");
  int64_t amount = 0;
  if (order_id == NULL || currency == NULL || !money_currency_valid(currency))
    return refuse(ev, "order_id or currency missing");
  if (amount_s == NULL || money_parse(amount_s, currency, &amount) != KIT_OK)
    return refuse(ev, "amount is not an amount");
  /* Older producers had no refund id: the event id names the refund then. */
  return astore_refund_insert(conn, refund_id ? refund_id : ev->event_id,
                              order_id, currency, amount, ev->timestamp);
}

/* --- catalog --- */

/* product.created, product.updated, product.archived. */
int admin_on_product(struct service *svc, struct db_conn *conn,
                     const struct bus_event *ev) {
  (void)svc;
  const char *id = uuid_field(ev, "id");
  const char *status = str(ev, "status");
  if (id == NULL || status == NULL) return refuse(ev, "id or status missing");
  json_t *stock = json_object_get(ev->data, "stock");
  json_t *available = json_object_get(ev->data, "available");
  bool has_stock = json_is_integer(stock) && json_is_integer(available);
  return astore_product_info(
      conn, id, str(ev, "sku"), str(ev, "name"), status, has_stock,
      has_stock ? json_integer_value(stock) : 0,
      has_stock ? json_integer_value(available) : 0, ev->timestamp);
}

int admin_on_inventory(struct service *svc, struct db_conn *conn,
                       const struct bus_event *ev) {
  (void)svc;
  const char *id = uuid_field(ev, "product_id");
  json_t *stock = json_object_get(ev->data, "stock");
  json_t *available = json_object_get(ev->data, "available");
  if (id == NULL || !json_is_integer(stock) || !json_is_integer(available))
    return refuse(ev, "product_id, stock or available missing");
  return astore_product_stock(conn, id, str(ev, "sku"),
                              json_integer_value(stock),
                              json_integer_value(available), ev->timestamp);
}

/* --- accounts and reviews --- */

int admin_on_user_registered(struct service *svc, struct db_conn *conn,
                             const struct bus_event *ev) {
  (void)svc;
  const char *id = uuid_field(ev, "user_id");
  const char *role = str(ev, "role");
  const char *at = str(ev, "registered_at");
  if (id == NULL) return refuse(ev, "user_id missing");
  return astore_customer(conn, id, role ? role : "customer",
                         at ? at : ev->timestamp);
}

/* review.submitted (its status, pending unless auto-approved),
 * review.approved, review.rejected, review.removed. */
int admin_on_review(struct service *svc, struct db_conn *conn,
                    const struct bus_event *ev) {
  (void)svc;
  const char *id = uuid_field(ev, "review_id");
  if (id == NULL) return refuse(ev, "review_id missing");
  const char *status = strchr(ev->event_type, '.') + 1;
  if (strcmp(status, "submitted") == 0) {
    status = str(ev, "status");
    if (status == NULL || status[0] == '\0' || strlen(status) > 32)
      status = "pending";
  }
  return astore_review(conn, id, uuid_field(ev, "product_id"), status,
                       ev->timestamp);
}

/* --- audit --- */

static char *json_text(const json_t *v) {
  return v == NULL || json_is_null(v)
             ? NULL
             : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

int admin_on_audit(struct service *svc, struct db_conn *conn,
                   const struct bus_event *ev) {
  (void)svc;
  json_t *actor = json_object_get(ev->data, "actor");
  json_t *target = json_object_get(ev->data, "target");
  struct audit_row r = {
      .id = ev->event_id,
      .actor_id = json_string_value(json_object_get(actor, "id")),
      .actor_email = json_string_value(json_object_get(actor, "email")),
      .actor_role = json_string_value(json_object_get(actor, "role")),
      .action = str(ev, "action"),
      .target_type = json_string_value(json_object_get(target, "type")),
      .target_id = json_string_value(json_object_get(target, "id")),
      .trace_id = str(ev, "trace_id"),
      .at = str(ev, "at"),
  };
  if (r.action == NULL || r.target_type == NULL || r.target_id == NULL)
    return refuse(ev, "action or target missing");
  if (r.trace_id == NULL) r.trace_id = ev->trace_id;
  if (r.at == NULL) r.at = ev->timestamp;
  char *before = json_text(json_object_get(ev->data, "before"));
  char *after = json_text(json_object_get(ev->data, "after"));
  r.before = before;
  r.after = after;
  int rc = astore_audit_insert(conn, &r);
  free(before);
  free(after);
  return rc;
}
