/* handlers.h - the shipping service's HTTP handlers and what they share.
 *
 * handlers_common.c: reading addresses and item lists at the edge, the
 * product batch call (weights, prices), error replies and the quote.
 * handlers_rates.c: public rates, the internal quote, the admin rate tables.
 * handlers_shipments.c: creating and reading shipments, courier webhooks.
 * booking.c: booking a pending shipment's label with its courier.
 */
#ifndef SHOPSPHERE_SHIPPING_HANDLERS_H
#define SHOPSPHERE_SHIPPING_HANDLERS_H

#include <stdbool.h>
#include <stdint.h>

#include "kit/arena.h"
#include "kit/db.h"
#include "kit/http.h"
#include "kit/json.h"
#include "services/shipping/domain.h"

struct service;

#define SHIPPING_MAX_ITEMS 100

struct ship_item {
  const char *product_id;
  int64_t quantity;
};

/* What the product service told us about one product. */
struct ship_product {
  const char *id;
  bool found;
  int64_t weight_grams; /* SHIP_DEFAULT_ITEM_WEIGHT_GRAMS when unrecorded */
  bool priced;
  int64_t price_minor;
  char currency[4];
};

/* Replies the 400/422 of a failed json_read_fields, the field named with
 * prefix ("address." + "line1"). */
void shipping_reply_json_error(struct http_request *req,
                               struct http_response *res,
                               const struct json_error *err,
                               const char *prefix);

/* Replies the error for a failed db_status (503 unavailable, 500 else). */
void shipping_reply_db_error(struct http_request *req,
                             struct http_response *res, int rc);

/* Reads an address object (a json_t *) into *out (strings in req->arena) and
 * checks it; on failure replies 400/422 naming "<field_name>.<field>" and
 * returns false. */
bool shipping_read_address(struct http_request *req, struct http_response *res,
                           const void *object, const char *field_name,
                           struct ship_address *out);

/* Renders an address as a JSON object text (arena), for storage. */
char *shipping_address_json(struct arena *a, const struct ship_address *addr);

/* Reads items [{product_id, quantity}] (a json_t * array, 1..100 entries);
 * the same product twice is merged. On failure replies and returns false. */
bool shipping_read_items(struct http_request *req, struct http_response *res,
                         const void *array, struct ship_item *items,
                         size_t *count);

/* Asks the product service about the items' products. On success fills
 * products[i] for items[i] and returns true; when the product service fails
 * or a product is unknown, replies (503/504 or 422 naming items[i]) and
 * returns false. */
bool shipping_fetch_products(struct http_request *req,
                             struct http_response *res,
                             const struct ship_item *items, size_t count,
                             struct ship_product *products);

/* Total parcel weight of the items; replies 422 and returns false when it
 * overflows. */
bool shipping_total_weight(struct http_request *req, struct http_response *res,
                           const struct ship_item *items,
                           const struct ship_product *products, size_t count,
                           int64_t *weight);

/* Prices a parcel of weight_grams to addr from the rate tables and replies
 * 200 {items: [{method, amount, currency, estimated_days}], zone,
 * weight_grams}; subtotal_currency NULL means the subtotal is unknown (no
 * free shipping). Replies the error itself on failure. */
void shipping_reply_quote(struct http_request *req, struct http_response *res,
                          const struct ship_address *addr, int64_t weight_grams,
                          int64_t subtotal_minor,
                          const char *subtotal_currency);

/* Books the label of pending shipment `id` with its courier and records the
 * answer (label_created, timeline, shipment.status_changed). A failure is
 * recorded as a later retry. parent may be NULL. Returns KIT_OK (booked, or
 * not pending any more), KIT_UNAVAILABLE (try again later) or KIT_ERROR. */
int shipping_book(struct service *svc, const struct http_request *parent,
                  struct arena *a, const char *id);

/* Emit shipment.created / shipment.status_changed inside the caller's open
 * transaction on conn (docs/events.md). Return a db_status. */
struct shipment;
int shipping_emit_created(struct db_conn *conn, const struct shipment *s);
int shipping_emit_status_changed(struct db_conn *conn, const struct shipment *s,
                                 const char *from, const char *to,
                                 const char *description, const char *location,
                                 const char *occurred_at);

/* handlers_rates.c */
void shipping_handle_rates(struct http_request *req, struct http_response *res);
void shipping_handle_quote(struct http_request *req, struct http_response *res);
void shipping_handle_zones_list(struct http_request *req,
                                struct http_response *res);
void shipping_handle_zone_put(struct http_request *req,
                              struct http_response *res);
void shipping_handle_zone_rates_put(struct http_request *req,
                                    struct http_response *res);

/* handlers_shipments.c */
void shipping_handle_shipment_create(struct http_request *req,
                                     struct http_response *res);
void shipping_handle_shipment_get(struct http_request *req,
                                  struct http_response *res);
void shipping_handle_shipments_list(struct http_request *req,
                                    struct http_response *res);
void shipping_handle_webhook(struct http_request *req,
                             struct http_response *res);

#endif
