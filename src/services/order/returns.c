/* returns.c - returns as JSON for the API and for their events
 * (docs/returns.md, docs/events.md). */
#include <jansson.h>

#include "kit/bus.h"
#include "kit/money.h"
#include "services/order/internal.h"

static json_t *opt_string(const char *s) {
  return s ? json_string(s) : json_null();
}

static json_t *opt_money(bool has, int64_t minor, const char *currency) {
  char buf[MONEY_BUF];
  return has ? json_string(money_format(minor, currency, buf)) : json_null();
}

/* The items: the event's fields, and for the API also sku, name and the
 * refund share. */
static json_t *items_json(const struct return_record *r, bool for_api) {
  json_t *items = json_array();
  for (size_t i = 0; i < r->item_count; i++) {
    const struct return_item_record *it = &r->items[i];
    json_t *item =
        json_pack("{s:s, s:s, s:o, s:I, s:o}", "order_item_id",
                  it->order_item_id, "product_id", it->product_id, "variant_id",
                  it->variant_id[0] ? json_string(it->variant_id) : json_null(),
                  "quantity", (json_int_t)it->quantity, "condition",
                  opt_string(it->condition));
    if (for_api) {
      json_object_set_new(item, "sku", opt_string(it->sku));
      json_object_set_new(item, "name", opt_string(it->name));
      json_object_set_new(item, "refund_amount",
                          opt_money(it->has_refund, it->refund, r->currency));
    }
    json_array_append_new(items, item);
  }
  return items;
}

void *order_return_render(const struct return_record *r) {
  json_t *items = items_json(r, true);
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o}",
                   "id", r->id, "order_id", r->order_id, "user_id", r->user_id,
                   "status", return_status_name(r->status), "reason",
                   r->reason ? r->reason : "", "rejection_reason",
                   opt_string(r->rejection_reason), "currency", r->currency,
                   "refund_amount",
                   opt_money(r->has_refund && r->status == RETURN_REFUNDED,
                             r->refund, r->currency),
                   "items", items, "created_at", opt_string(r->created_at),
                   "updated_at", opt_string(r->updated_at));
}

int order_return_emit(struct db_conn *c, const struct return_record *r,
                      const char *type) {
  json_t *items = items_json(r, false);
  json_t *data =
      json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s}", "return_id", r->id,
                "order_id", r->order_id, "user_id", r->user_id, "status",
                return_status_name(r->status), "items", items, "refund_amount",
                opt_money(r->has_refund && r->status == RETURN_REFUNDED,
                          r->refund, r->currency),
                "currency", r->currency, "reason", r->reason ? r->reason : "");
  if (data == NULL) return DB_HARD_ERROR;
  if (r->status == RETURN_REJECTED)
    json_object_set_new(data, "rejection_reason",
                        opt_string(r->rejection_reason));
  int rc = bus_emit(c, type, r->order_id, data);
  json_decref(data);
  return rc;
}
