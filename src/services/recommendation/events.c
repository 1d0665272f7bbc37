/* events.c - what the recommendation service learns from others
 * (docs/events.md): the catalog (product.created/updated/archived,
 * inventory.changed) into its snapshot, and confirmed orders into purchases
 * and co-purchase counts. Each handler runs in the consumer's transaction
 * (inbox: once per event); malformed data is logged and skipped. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kit/log.h"
#include "kit/uuid.h"
#include "services/recommendation/recommendation.h"
#include "services/recommendation/store.h"

#define ORDER_LINES_MAX 200

int reco_on_product(struct service *svc, struct db_conn *conn,
                    const struct bus_event *ev) {
  (void)svc;
  const json_t *data = ev->data;
  const char *id = json_string_value(json_object_get(data, "id"));
  const char *cat = json_string_value(json_object_get(data, "category_id"));
  if (id == NULL || !uuid_valid(id) || (cat != NULL && !uuid_valid(cat)) ||
      json_string_value(json_object_get(data, "status")) == NULL) {
    log_warn("%s %s: no product in the data: skipped", ev->event_type,
             ev->event_id);
    return 0;
  }
  char *doc = json_dumps(data, JSON_COMPACT);
  if (doc == NULL) return DB_HARD_ERROR;
  int rc = rstore_product_put(conn, id, doc);
  free(doc);
  return rc;
}

int reco_on_inventory(struct service *svc, struct db_conn *conn,
                      const struct bus_event *ev) {
  (void)svc;
  const json_t *data = ev->data;
  const char *id = json_string_value(json_object_get(data, "product_id"));
  json_t *stock = json_object_get(data, "stock");
  json_t *available = json_object_get(data, "available");
  if (id == NULL || !uuid_valid(id) || !json_is_integer(stock) ||
      !json_is_integer(available))
    return 0;
  /* A variant's units: the product's figures are sums over its variants,
   * so they move by the variant's deltas. */
  if (json_is_string(json_object_get(data, "variant_id"))) {
    json_t *ds = json_object_get(data, "delta_stock");
    json_t *dr = json_object_get(data, "delta_reserved");
    if (!json_is_integer(ds) || !json_is_integer(dr)) return 0;
    return rstore_product_stock_delta(
        conn, id, (long long)json_integer_value(ds),
        (long long)(json_integer_value(ds) - json_integer_value(dr)));
  }
  return rstore_product_stock(conn, id, (long long)json_integer_value(stock),
                              (long long)json_integer_value(available));
}

int reco_on_order_confirmed(struct service *svc, struct db_conn *conn,
                            const struct bus_event *ev) {
  (void)svc;
  const json_t *data = ev->data;
  const char *order_id = json_string_value(json_object_get(data, "order_id"));
  const char *user_id = json_string_value(json_object_get(data, "user_id"));
  json_t *lines = json_object_get(data, "items");
  if (order_id == NULL || !uuid_valid(order_id) || user_id == NULL ||
      !uuid_valid(user_id) || !json_is_array(lines)) {
    log_warn("order.confirmed %s: no order in the data: skipped", ev->event_id);
    return 0;
  }
  const char *ids[ORDER_LINES_MAX];
  int qty[ORDER_LINES_MAX];
  size_t n = 0, i;
  json_t *line;
  json_array_foreach(lines, i, line) {
    const char *pid = json_string_value(json_object_get(line, "product_id"));
    json_t *q = json_object_get(line, "quantity");
    if (pid == NULL || !uuid_valid(pid) || n == ORDER_LINES_MAX) continue;
    int quantity = json_is_integer(q) && json_integer_value(q) > 0 &&
                           json_integer_value(q) < 1000000
                       ? (int)json_integer_value(q)
                       : 1;
    size_t k = 0;
    while (k < n && strcasecmp(ids[k], pid) != 0)
      k++;
    if (k < n) {
      qty[k] += quantity; /* lines of one product (variants) merge */
      continue;
    }
    ids[n] = pid;
    qty[n++] = quantity;
  }
  if (n == 0) return 0;
  return rstore_order_apply(conn, order_id, user_id, ids, qty, n,
                            RECO_WEIGHT_PURCHASE, ev->timestamp);
}
