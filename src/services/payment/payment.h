/* payment.h - what the payment service's files share inside the service.
 *
 * The service state (provider adapter, reconciler), the one transaction that
 * moves a payment to match a provider fact (payment_apply) and the JSON shape
 * of a payment. Handlers (handlers.c), the webhook endpoint (webhooks.c) and
 * the reconciler (reconciler.c) all move payments through payment_apply.
 */
#ifndef SHOPSPHERE_PAYMENT_PAYMENT_H
#define SHOPSPHERE_PAYMENT_PAYMENT_H

#include <stdbool.h>

#include "kit/handler.h"
#include "kit/http.h"
#include "kit/metrics.h"
#include "kit/service.h"
#include "kit/worker.h"
#include "services/payment/domain.h"
#include "services/payment/provider.h"

/* Timestamps of a webhook older (or newer) than this are refused. */
#define PAYMENT_WEBHOOK_TOLERANCE_S 300

struct payment_service {
  struct service *svc;
  struct provider *provider;
  int provider_timeout_ms;
  char webhook_secret[128];
  struct worker reconciler;
  struct metric_family *outcomes; /* payment_outcomes_total{path, outcome} */
};

/* Counts one outcome for /metrics: path "authorize", "webhook" or
 * "reconcile"; outcome a short word ("authorized", "declined", ...). */
void payment_count(struct payment_service *ps, const char *path,
                   const char *outcome);

struct payment_service *payment_service_of(const struct http_request *req);

/* In one transaction: locks the payment (by payment_id), moves it to match
 * pi (payment_reconcile), writes it and emits the event the move calls for.
 * *after receives the payment as it now is. Returns a db_status (>= 0 ok;
 * 0 when the payment does not exist). */
int payment_apply(struct db_pool *db, const char *payment_id,
                  const struct provider_intent *pi, struct payment *after);

/* Same, inside an open transaction. */
int payment_apply_locked(struct db_conn *conn, const struct payment *cur,
                         const struct provider_intent *pi,
                         struct payment *after);

/* Emits event e about p inside conn's transaction; refund_amount (minor
 * units) is carried by payment.refunded. Returns a db_status. */
int payment_emit(struct db_conn *conn, enum payment_event e,
                 const struct payment *p, int64_t refund_amount);

/* The API shape of a payment (json_t *, new reference). */
void *payment_to_json(const struct payment *p);


/* Handlers (handlers.c, webhooks.c). */
void payment_authorize_handler(struct http_request *req,
                               struct http_response *res);
void payment_capture_handler(struct http_request *req,
                             struct http_response *res);
void payment_void_handler(struct http_request *req, struct http_response *res);
void payment_refund_handler(struct http_request *req,
                            struct http_response *res);
void payment_get_handler(struct http_request *req, struct http_response *res);
void payment_internal_list_handler(struct http_request *req,
                                   struct http_response *res);
void payment_public_list_handler(struct http_request *req,
                                 struct http_response *res);
void payment_webhook_handler(struct http_request *req,
                             struct http_response *res);

/* Books (succeeded) or releases a pending refund the provider answered, with
 * its payment.refunded event (handlers.c). Returns a db_status; 0 when the
 * refund was settled already. */
int payment_settle_refund(struct db_pool *db, const char *refund_id,
                          bool succeeded, const char *provider_refund_id,
                          int64_t amount);

/* The reconciler's pass (reconciler.c): a worker_fn over the service. */
void payment_reconcile_pass(void *payment_service);

#endif
