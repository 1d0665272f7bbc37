/* internal.h - what the files of the order service share (not for other
 * services): its state, rendering, events, the saga and compensation. */
#ifndef SHOPSPHERE_ORDER_INTERNAL_H
#define SHOPSPHERE_ORDER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "kit/handler.h"
#include "kit/http.h"
#include "kit/metrics.h"
#include "kit/service.h"
#include "kit/worker.h"
#include "services/order/store.h"
#include "services/order/upstream.h"

#define ORDER_HANDOVERS_MAX 256

/* svc->state of the order service. */
struct order_state {
  char instance_id[40];  /* this process: owner of the sagas it runs */
  bool fault_injection;  /* test profiles only: X-Fault-Inject honoured */
  struct worker sweeper; /* recovery of sagas, compensation of cancels */
  struct metric_family *step_seconds; /* order_checkout_step_seconds{step} */
  struct metric_family *checkouts;    /* order_checkouts_total{status} */
  struct metric_family *recoveries;   /* order_saga_recoveries_total{step} */
  struct service *svc;
  /* Sagas this process gave up on but could not hand over (the database
   * was away): the sweeper stores each hand-over once it can, so that a
   * live owner never keeps a dead saga (sweeper.c). */
  pthread_mutex_t handover_lock;
  struct order_handover {
    char order_id[40], claim[40];
  } handovers[ORDER_HANDOVERS_MAX];
  int handover_count;
};

#define ORDER_DB_WAIT_MS 2000

/* --- render.c --- */
/* The order as the API shows it (new reference). */
void *order_render(const struct order_record *o);
/* Event payloads (new references). */
void *order_event_payload(const struct order_record *o);
/* The checkout's discounts (JSON text from the cart's pricing) with what
 * free shipping waived: the first free-shipping entry's shipping_discount
 * becomes `shipping` (the quote), any other entry's null one "0.00".
 * Arena text, or NULL when out of memory or not a list. */
const char *order_discounts_with_shipping(struct arena *a,
                                          const char *discounts,
                                          int64_t shipping,
                                          const char *currency);

/* Emits order.status_changed (and, for confirmed/cancelled, order.confirmed
 * / order.cancelled) for o having moved from `from` to o->status. */
int order_emit_transition(struct db_conn *conn, const struct order_record *o,
                          enum order_status from);

/* --- checkout.c --- */
void order_handle_checkout(struct http_request *req, struct http_response *res);
/* Finishes or compensates one interrupted saga (the sweeper). req is a
 * synthetic request of the sweeper (ids, arena, svc). */
void order_recover_checkout(struct http_request *req,
                            const struct checkout_record *row);

/* --- handlers.c --- */
/* Loads the {id} order if the caller may see it (its owner or an admin);
 * otherwise answers 404 (no existence leak) and returns false. */
bool order_load_visible(struct http_request *req, struct http_response *res,
                        struct order_record *o);

void order_handle_list(struct http_request *req, struct http_response *res);
void order_handle_get(struct http_request *req, struct http_response *res);
void order_handle_internal_get(struct http_request *req,
                               struct http_response *res);
void order_handle_cancel(struct http_request *req, struct http_response *res);
void order_handle_status(struct http_request *req, struct http_response *res);

/* Cancels an order in one transaction (compare-and-set from its status,
 * events included) and then compensates it. *out receives the order after
 * the change. Returns an API error (API_CONFLICT when not cancellable). */
enum api_error order_cancel(struct http_request *req, const char *order_id,
                            const char *reason, struct order_record *out);

/* Releases the stock and voids (or refunds) the payment of a cancelled
 * order; clears compensation_due when everything is settled. KIT_OK when
 * done, KIT_UNAVAILABLE to try again later. */
int order_compensate(struct http_request *req, const char *order_id);

/* --- refunds.c --- */
void order_handle_refund(struct http_request *req, struct http_response *res);

/* Test profiles only (X-Fault-Inject, docs/checkout.md): true when req
 * asks for the fault `point`; order_fault_point ends the process there. */
bool order_fault_asked(const struct http_request *req, const char *point);
void order_fault_point(const struct http_request *req, const char *point);

/* How a refund intent ended when driven. */
enum refund_outcome {
  REFUND_DONE = 0, /* the payment service refunded it; settled */
  REFUND_REFUSED,  /* the payment service refused it; settled as failed */
  REFUND_IN_DOUBT, /* no answer: left pending, driven again later */
};

/* Asks the payment service for the pending refund `refund_id` (its id is
 * the payment service's idempotency key) and settles the answer in its own
 * transaction: the order's refunded amount, the lines and the return of a
 * return's refund, the status, the events. Never called inside a
 * transaction. A refund settled already answers its outcome as it is. */
enum refund_outcome order_refund_drive(struct http_request *req,
                                       const char *refund_id);

/* The data of order.refunded for a refund of `amount` (new reference). */
void *order_refunded_payload(const struct order_record *o,
                             const char *refund_id, int64_t amount, bool full,
                             const char *return_id);

/* --- returns.c, handlers_returns.c --- */
/* The return as the API shows it (new reference). */
void *order_return_render(const struct return_record *r);
/* Emits `type` (return.requested, ...) for r as it stands. */
int order_return_emit(struct db_conn *c, const struct return_record *r,
                      const char *type);
void order_handle_return_create(struct http_request *req,
                                struct http_response *res);
void order_handle_order_returns(struct http_request *req,
                                struct http_response *res);
void order_handle_return_get(struct http_request *req,
                             struct http_response *res);
void order_handle_admin_returns(struct http_request *req,
                                struct http_response *res);
void order_handle_return_approve(struct http_request *req,
                                 struct http_response *res);
void order_handle_return_reject(struct http_request *req,
                                struct http_response *res);
void order_handle_return_receive(struct http_request *req,
                                 struct http_response *res);
void order_handle_return_refund(struct http_request *req,
                                struct http_response *res);

/* --- events.c --- */
int order_on_shipment_created(struct service *svc, struct db_conn *conn,
                              const struct bus_event *ev);
int order_on_shipment_status(struct service *svc, struct db_conn *conn,
                             const struct bus_event *ev);

/* --- sweeper.c --- */
int order_sweeper_start(struct service *svc);
/* Remembers that the saga (order_id, claim) is to be handed over to the
 * sweeper: called when storing the hand-over (or the saga's end) failed.
 * The sweeper stores it on its next pass that reaches the database. */
void order_handover_owed(struct order_state *st, const char *order_id,
                         const char *claim);
void order_sweeper_stop(struct service *svc);

#endif
