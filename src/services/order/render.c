/* render.c - orders as JSON for the API and for events (docs/events.md). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "kit/bus.h"
#include "kit/money.h"
#include "services/order/internal.h"

static json_t *money(int64_t minor, const char *currency) {
  char buf[MONEY_BUF];
  return json_string(money_format(minor, currency, buf));
}

static json_t *opt_string(const char *s) {
  return s ? json_string(s) : json_null();
}

static json_t *address(const char *text) {
  json_error_t jerr;
  json_t *a = text ? json_loads(text, 0, &jerr) : NULL;
  return a ? a : json_null();
}

static json_t *items(const struct order_record *o) {
  json_t *arr = json_array();
  for (size_t i = 0; i < o->line_count; i++) {
    const struct order_line_record *l = &o->lines[i];
    json_t *it = json_object();
    /* null only in order.created, rendered before the row has its id */
    json_object_set_new(it, "id", l->id[0] ? json_string(l->id) : json_null());
    json_object_set_new(it, "product_id", json_string(l->product_id));
    json_object_set_new(it, "variant_id",
                        l->variant_id[0] ? json_string(l->variant_id)
                                         : json_null());
    json_object_set_new(it, "sku", opt_string(l->sku));
    json_object_set_new(it, "name", opt_string(l->name));
    json_object_set_new(it, "unit_price", money(l->unit_price, o->currency));
    json_object_set_new(it, "quantity", json_integer(l->quantity));
    json_object_set_new(it, "subtotal", money(l->subtotal, o->currency));
    json_object_set_new(it, "discount", money(l->discount, o->currency));
    json_object_set_new(it, "tax", money(l->tax, o->currency));
    json_object_set_new(it, "line_total", money(l->total, o->currency));
    /* What returns refunded of the line (docs/returns.md). */
    json_object_set_new(it, "refunded_quantity",
                        json_integer(l->refunded_quantity));
    json_object_set_new(it, "refunded_amount", money(l->refunded, o->currency));
    json_array_append_new(arr, it);
  }
  return arr;
}

/* The seed's PaymentMethod {type, brand, last4}, or null before a payment
 * was authorized. Never the token. */
static json_t *payment_method(const struct order_record *o) {
  if (o->payment_type == NULL) return json_null();
  return json_pack("{s:s, s:o, s:o}", "type", o->payment_type, "brand",
                   opt_string(o->payment_brand), "last4",
                   opt_string(o->payment_last4));
}

/* [{code, promotion_id, type, description, amount, shipping_discount}] as
 * stored at checkout ([] when none). Orders placed before a discount
 * recorded its type, description and shipping share answer null, "" and
 * "0.00" for them. */
static json_t *discounts(const struct order_record *o) {
  json_error_t jerr;
  json_t *d = o->discounts ? json_loads(o->discounts, 0, &jerr) : NULL;
  if (!json_is_array(d)) {
    json_decref(d);
    return json_array();
  }
  size_t i;
  json_t *x;
  json_array_foreach(d, i, x) {
    if (!json_is_object(x)) continue;
    if (json_object_get(x, "type") == NULL)
      json_object_set_new(x, "type", json_null());
    if (!json_is_string(json_object_get(x, "description")))
      json_object_set_new(x, "description", json_string(""));
    if (!json_is_string(json_object_get(x, "shipping_discount")))
      json_object_set_new(x, "shipping_discount", money(0, o->currency));
  }
  return d;
}

const char *order_discounts_with_shipping(struct arena *a,
                                          const char *discounts,
                                          int64_t shipping,
                                          const char *currency) {
  json_error_t jerr;
  json_t *d = json_loads(discounts ? discounts : "[]", 0, &jerr);
  if (!json_is_array(d)) {
    json_decref(d);
    return NULL;
  }
  bool waived = false;
  size_t i;
  json_t *x;
  json_array_foreach(d, i, x) {
    if (!json_is_object(x)) continue;
    const char *type = json_string_value(json_object_get(x, "type"));
    bool free_shipping = type != NULL && strcmp(type, "free_shipping") == 0;
    json_object_set_new(
        x, "shipping_discount",
        money(free_shipping && !waived ? shipping : 0, currency));
    if (free_shipping) waived = true;
  }
  char *text = json_dumps(d, JSON_COMPACT);
  json_decref(d);
  const char *out = text ? arena_strdup(a, text) : NULL;
  free(text);
  return out;
}

void *order_render(const struct order_record *o) {
  json_t *r = json_object();
  json_object_set_new(r, "id", json_string(o->id));
  json_object_set_new(r, "user_id", json_string(o->user_id));
  json_object_set_new(r, "cart_id", json_string(o->cart_id));
  json_object_set_new(r, "status", json_string(order_status_name(o->status)));
  json_object_set_new(r, "currency", json_string(o->currency));
  json_object_set_new(r, "items", items(o));
  json_object_set_new(r, "subtotal", money(o->subtotal, o->currency));
  json_object_set_new(r, "discount_total",
                      money(o->discount_total, o->currency));
  json_object_set_new(r, "discounts", discounts(o));
  json_object_set_new(r, "tax", money(o->tax, o->currency));
  json_object_set_new(r, "tax_rate_bp", json_integer(o->tax_rate_bp));
  json_object_set_new(r, "shipping", money(o->shipping, o->currency));
  /* Deprecated alias of `shipping` (the previous release's name). */
  json_object_set_new(r, "shipping_cost", money(o->shipping, o->currency));
  json_object_set_new(r, "total", money(o->total, o->currency));
  json_object_set_new(r, "shipping_method", opt_string(o->shipping_method));
  json_object_set_new(r, "shipping_address", address(o->shipping_address));
  json_object_set_new(r, "billing_address", address(o->billing_address));
  json_object_set_new(r, "payment_method", payment_method(o));
  json_object_set_new(r, "payment_id", opt_string(o->payment_id));
  json_object_set_new(r, "captured_amount", money(o->captured, o->currency));
  json_object_set_new(r, "refunded_amount", money(o->refunded, o->currency));
  json_object_set_new(r, "shipment_id", opt_string(o->shipment_id));
  json_object_set_new(r, "cancel_reason", opt_string(o->cancel_reason));
  json_t *history = json_array();
  for (size_t i = 0; i < o->transition_count; i++) {
    const struct order_transition_record *t = &o->transitions[i];
    json_array_append_new(
        history, json_pack("{s:o, s:s, s:o, s:s}", "from", opt_string(t->from),
                           "status", t->to, "reason", opt_string(t->reason),
                           "at", t->occurred_at ? t->occurred_at : ""));
  }
  json_object_set_new(r, "status_history", history);
  json_object_set_new(r, "created_at", opt_string(o->created_at));
  json_object_set_new(r, "updated_at", opt_string(o->updated_at));
  return r;
}

void *order_event_payload(const struct order_record *o) {
  json_t *d = json_object();
  json_object_set_new(d, "order_id", json_string(o->id));
  json_object_set_new(d, "user_id", json_string(o->user_id));
  json_object_set_new(d, "status", json_string(order_status_name(o->status)));
  json_object_set_new(d, "currency", json_string(o->currency));
  json_object_set_new(d, "subtotal", money(o->subtotal, o->currency));
  json_object_set_new(d, "discount_total",
                      money(o->discount_total, o->currency));
  json_object_set_new(d, "discounts", discounts(o));
  json_object_set_new(d, "tax", money(o->tax, o->currency));
  json_object_set_new(d, "shipping", money(o->shipping, o->currency));
  json_object_set_new(d, "shipping_cost", money(o->shipping, o->currency));
  json_object_set_new(d, "total", money(o->total, o->currency));
  json_object_set_new(d, "items", items(o));
  json_object_set_new(d, "shipping_address", address(o->shipping_address));
  json_object_set_new(d, "payment_method", payment_method(o));
  return d;
}

int order_emit_transition(struct db_conn *conn, const struct order_record *o,
                          enum order_status from) {
  json_t *changed = json_pack(
      "{s:s, s:s, s:s, s:s}", "order_id", o->id, "user_id", o->user_id, "from",
      order_status_name(from), "to", order_status_name(o->status));
  int rc = bus_emit(conn, "order.status_changed", o->id, changed);
  json_decref(changed);
  if (rc < 0) return rc;
  const char *specific = o->status == ORDER_CONFIRMED   ? "order.confirmed"
                         : o->status == ORDER_CANCELLED ? "order.cancelled"
                                                        : NULL;
  if (specific == NULL) return rc;
  json_t *data = order_event_payload(o);
  json_object_set_new(data, "previous_status",
                      json_string(order_status_name(from)));
  if (o->status == ORDER_CANCELLED)
    json_object_set_new(data, "reason", opt_string(o->cancel_reason));
  if (o->status == ORDER_CONFIRMED) {
    json_object_set_new(data, "payment_id", opt_string(o->payment_id));
    /* The cart the checkout came from: the cart service empties it. */
    json_object_set_new(data, "cart_id",
                        o->cart_id[0] != '\0' ? json_string(o->cart_id)
                                              : json_null());
  }
  rc = bus_emit(conn, specific, o->id, data);
  json_decref(data);
  return rc;
}
