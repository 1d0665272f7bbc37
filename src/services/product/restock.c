/* restock.c - returned units back to stock, learned from the order service.
 *
 * return.received lists a return's lines with their condition: the
 * sellable units go back on hand (the variant's stock for a variant line),
 * with an adjustment row ("return <id>") and inventory.changed, as an
 * operator's adjustment would; damaged units are not restocked (the return
 * records them). The consumer's inbox applies each event once.
 */
#include <stdio.h>
#include <string.h>

#include "kit/log.h"
#include "kit/uuid.h"
#include "services/product/domain.h"
#include "services/product/product.h"

/* Puts `units` of a product (or of its variant) back on hand. 0 when the
 * product or variant is unknown (logged: nothing to restock), else a
 * db_status. */
static int restock(struct db_conn *c, struct arena *a, const char *product_id,
                   const char *variant_id, int64_t units, const char *reason,
                   const char *return_id) {
  struct stock_change sc = {0};
  char adjustment_id[UUID_STR_LEN];
  const char *created_at = NULL;
  uuid_v7(adjustment_id);
  int rc;
  if (variant_id != NULL) {
    rc = pstore_variant_stock_adjust(c, a, variant_id, product_id, units, &sc);
    if (rc <= 0) goto unknown;
    rc = pstore_adjustment_insert_variant(c, adjustment_id, product_id,
                                          variant_id, units, reason, sc.stock,
                                          NULL, &created_at, a);
  } else {
    struct product_row p;
    rc = pstore_stock_adjust(c, a, product_id, units, &p);
    if (rc <= 0) goto unknown;
    sc.sku = p.sku;
    sc.stock = p.stock;
    sc.reserved = p.reserved;
    snprintf(sc.product_id, sizeof sc.product_id, "%s", product_id);
    rc = pstore_adjustment_insert(c, adjustment_id, product_id, units, reason,
                                  p.stock, NULL, &created_at, a);
  }
  if (rc < 0) return rc;
  return product_emit_inventory(c, &sc, "return", units, 0, NULL);
unknown:
  if (rc == 0)
    log_error("return %s: product %s%s%s unknown: not restocked", return_id,
              product_id, variant_id ? " variant " : "",
              variant_id ? variant_id : "");
  return rc;
}

int product_on_return_received(struct service *svc, struct db_conn *conn,
                               const struct bus_event *ev) {
  const char *return_id =
      json_string_value(json_object_get(ev->data, "return_id"));
  json_t *items = json_object_get(ev->data, "items");
  if (return_id == NULL || !uuid_valid(return_id) || !json_is_array(items)) {
    log_error("%s %s without return_id or items: skipped", ev->event_type,
              ev->event_id);
    return 0; /* retrying would not make it better */
  }
  char reason[64];
  snprintf(reason, sizeof reason, "return %s", return_id);
  struct arena a;
  arena_init(&a, 4096);
  int rc = 0, restocked = 0;
  size_t i;
  json_t *it;
  json_array_foreach(items, i, it) {
    const char *condition = json_string_value(json_object_get(it, "condition"));
    const char *product_id =
        json_string_value(json_object_get(it, "product_id"));
    const char *variant_id =
        json_string_value(json_object_get(it, "variant_id"));
    json_t *qty = json_object_get(it, "quantity");
    if (condition == NULL || strcmp(condition, "sellable") != 0) continue;
    if (product_id == NULL || !uuid_valid(product_id) ||
        (variant_id != NULL && !uuid_valid(variant_id)) ||
        !json_is_integer(qty) || json_integer_value(qty) < 1 ||
        json_integer_value(qty) > PRODUCT_STOCK_MAX) {
      log_error("%s %s: an unusable item: skipped", ev->event_type,
                ev->event_id);
      continue;
    }
    rc = restock(conn, &a, product_id, variant_id, json_integer_value(qty),
                 reason, return_id);
    if (rc < 0) break;
    restocked += rc > 0;
  }
  arena_free(&a);
  if (rc < 0) return rc;
  struct product_state *st = svc->state;
  if (restocked > 0 && st != NULL) pcache_invalidate(st->cache);
  return 0;
}
