/* courier.h - how the shipping service talks to a carrier.
 *
 * A carrier is an adapter with two jobs: book a parcel (the answer is a
 * tracking number and a label URL) and read the carrier's tracking webhooks
 * (check the signature, then hand back one tracking update). The service
 * knows nothing else about a carrier, so a real one joins by adding an
 * adapter here; today there is the sandbox courier (src/sandbox/courier.c),
 * reached over HTTP at SHOPSPHERE_SANDBOX_COURIER_URL.
 */
#ifndef SHOPSPHERE_SHIPPING_COURIER_H
#define SHOPSPHERE_SHIPPING_COURIER_H

#include <stddef.h>
#include <stdint.h>

#include "kit/http.h"
#include "services/shipping/domain.h"

struct service;

/* What the carrier needs to book a label; everything borrowed. */
struct courier_parcel {
  const char *reference; /* our shipment id: the carrier's idempotency key */
  const char *order_id;
  enum ship_method method;
  int64_t weight_grams;
  const char *address_json; /* the destination address object, as stored */
};

struct courier_label {
  char tracking_number[64];
  char label_url[512];
};

/* One tracking update read from a webhook; strings in the request's arena. */
struct courier_update {
  const char *event_id; /* the carrier's id of this delivery */
  const char *tracking_number;
  enum ship_status status;
  const char *description;
  const char *location;
  const char *occurred_at; /* RFC 3339 */
};

enum courier_webhook_result {
  COURIER_WEBHOOK_OK = 0,
  COURIER_WEBHOOK_MALFORMED,    /* 400: not a webhook we can read */
  COURIER_WEBHOOK_UNAUTHORIZED, /* 401: signature missing, stale or wrong */
};

struct courier_adapter {
  const char
      *name; /* the {carrier} of the webhook URL, the shipment's carrier */
  /* Books parcel; KIT_OK with *out filled, KIT_UNAVAILABLE or KIT_TIMEOUT
   * when the carrier could not be reached (try again later), KIT_INVALID when
   * it refused the parcel. parent may be NULL (background retries). */
  int (*book)(struct service *svc, const struct http_request *parent,
              const struct courier_parcel *parcel, struct courier_label *out);
  /* Verifies and reads one webhook request. why receives a short reason for
   * the log and the error details on failure. */
  enum courier_webhook_result (*read_webhook)(struct service *svc,
                                              struct http_request *req,
                                              struct courier_update *out,
                                              char *why, size_t why_size);
};

/* The adapter named name, or NULL. */
const struct courier_adapter *shipping_courier_find(const char *name);

/* The carrier new shipments use. */
#define SHIPPING_DEFAULT_CARRIER "sandbox"

/* How far a webhook's timestamp may be from our clock. */
#define SHIPPING_WEBHOOK_TOLERANCE_S 300

#endif
