/* payment.c - the payment service module: payments, refunds, provider
 * adapters, webhooks.
 *
 * The module descriptor and routes, start-up (the provider adapter and the
 * reconciler worker), and the pieces every path shares: moving a payment to
 * match a provider fact in one transaction with its event, and the JSON
 * shape of a payment. The rules live in domain.c, the SQL in store.c, the
 * provider in provider_sandbox.c (docs/payments.md).
 */
#include "services/payment/payment.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/bus.h"
#include "kit/log.h"
#include "kit/money.h"
#include "services/payment/store.h"

struct payment_service *payment_service_of(const struct http_request *req) {
  return req->svc->state;
}

static json_t *money_json(int64_t minor, const char *currency) {
  char buf[MONEY_BUF];
  return json_string(money_format(minor, currency, buf));
}

static json_t *str_or_null(const char *s) {
  return s[0] != '\0' ? json_string(s) : json_null();
}

void *payment_to_json(const struct payment *p) {
  json_t *o = json_object();
  if (o == NULL) return NULL;
  json_object_set_new(o, "id", json_string(p->id));
  json_object_set_new(o, "order_id", json_string(p->order_id));
  json_object_set_new(o, "user_id", json_string(p->user_id));
  json_object_set_new(o, "status", json_string(payment_status_name(p->status)));
  json_object_set_new(o, "amount", money_json(p->amount, p->currency));
  json_object_set_new(o, "currency", json_string(p->currency));
  json_object_set_new(o, "captured_amount",
                      money_json(p->captured_amount, p->currency));
  json_object_set_new(o, "refunded_amount",
                      money_json(p->refunded_amount, p->currency));
  json_object_set_new(o, "card_brand", str_or_null(p->card_brand));
  json_object_set_new(o, "card_last4", str_or_null(p->card_last4));
  json_object_set_new(o, "decline_code", str_or_null(p->decline_code));
  json_object_set_new(o, "provider", json_string(p->provider));
  json_object_set_new(o, "provider_payment_id",
                      str_or_null(p->provider_payment_id));
  json_object_set_new(o, "void_requested", json_boolean(p->void_requested));
  json_object_set_new(o, "created_at", json_string(p->created_at));
  json_object_set_new(o, "updated_at", json_string(p->updated_at));
  return o;
}

int payment_emit(struct db_conn *conn, enum payment_event e,
                 const struct payment *p, int64_t refund_amount) {
  const char *type = payment_event_type(e);
  if (type == NULL) return DB_NO_RESULTS;
  json_t *data = json_object();
  if (data == NULL) return DB_HARD_ERROR;
  json_object_set_new(data, "payment_id", json_string(p->id));
  json_object_set_new(data, "order_id", json_string(p->order_id));
  json_object_set_new(data, "user_id", json_string(p->user_id));
  json_object_set_new(data, "status",
                      json_string(payment_status_name(p->status)));
  json_object_set_new(data, "amount", money_json(p->amount, p->currency));
  json_object_set_new(data, "currency", json_string(p->currency));
  json_object_set_new(data, "provider", json_string(p->provider));
  switch (e) {
  case PAYMENT_EVENT_AUTHORIZED:
    json_object_set_new(data, "card_brand", str_or_null(p->card_brand));
    json_object_set_new(data, "card_last4", str_or_null(p->card_last4));
    break;
  case PAYMENT_EVENT_CAPTURED:
    json_object_set_new(data, "captured_amount",
                        money_json(p->captured_amount, p->currency));
    break;
  case PAYMENT_EVENT_FAILED:
    json_object_set_new(data, "decline_code", str_or_null(p->decline_code));
    break;
  case PAYMENT_EVENT_REFUNDED:
    json_object_set_new(data, "refund_amount",
                        money_json(refund_amount, p->currency));
    json_object_set_new(data, "refunded_amount",
                        money_json(p->refunded_amount, p->currency));
    json_object_set_new(data, "captured_amount",
                        money_json(p->captured_amount, p->currency));
    break;
  case PAYMENT_EVENT_NONE:
    break;
  }
  int rc = bus_emit(conn, type, p->id, data);
  json_decref(data);
  return rc;
}

int payment_apply_locked(struct db_conn *conn, const struct payment *cur,
                         const struct provider_intent *pi,
                         struct payment *after) {
  struct payment next;
  bool changed = false;
  enum payment_event ev = payment_reconcile(cur, pi, &next, &changed);
  if (!changed) {
    *after = *cur;
    return DB_ONE_RESULT;
  }
  int rc = store_payment_update(conn, &next, after);
  if (rc <= 0) return rc < 0 ? rc : DB_HARD_ERROR;
  if (ev != PAYMENT_EVENT_NONE) {
    int64_t refund = after->refunded_amount - cur->refunded_amount;
    int erc = payment_emit(conn, ev, after, refund);
    if (erc < 0) return erc;
  }
  if (cur->status != after->status)
    log_info("payment %s: %s -> %s", after->id,
             payment_status_name(cur->status),
             payment_status_name(after->status));
  return DB_ONE_RESULT;
}

struct apply_arg {
  const char *payment_id;
  const struct provider_intent *pi;
  struct payment *after;
};

static int apply_tx(struct db_conn *conn, void *arg) {
  struct apply_arg *a = arg;
  struct payment cur;
  int rc = store_payment_get(conn, a->payment_id, true, &cur);
  if (rc <= 0) return rc;
  return payment_apply_locked(conn, &cur, a->pi, a->after);
}

int payment_apply(struct db_pool *db, const char *payment_id,
                  const struct provider_intent *pi, struct payment *after) {
  struct apply_arg a = {payment_id, pi, after};
  return db_transaction(db, DB_READ_COMMITTED, apply_tx, &a);
}

void payment_count(struct payment_service *ps, const char *path,
                   const char *outcome) {
  const char *labels[] = {path, outcome};
  metric_inc(ps->outcomes, labels, 1);
}

/* --- start-up --- */

static int payment_start(struct service *svc) {
  const struct config *cfg = svc->cfg;
  struct payment_service *ps = calloc(1, sizeof *ps);
  if (ps == NULL) return KIT_NOMEM;
  ps->svc = svc;
  static const char *const labels[] = {"path", "outcome", NULL};
  ps->outcomes =
      metric_family("payment_outcomes_total",
                    "Payment outcomes by path (authorize, webhook, reconcile)",
                    METRIC_COUNTER, labels, NULL, 0);
  ps->provider_timeout_ms = cfg->payment_provider_timeout_ms;
  snprintf(ps->webhook_secret, sizeof ps->webhook_secret, "%s",
           cfg->payment_webhook_secret);
  if (ps->webhook_secret[0] == '\0')
    log_warn("SHOPSPHERE_PAYMENT_WEBHOOK_SECRET is empty: every provider "
             "webhook will be refused");
  ps->provider = provider_sandbox_create(cfg->urls[SVC_SANDBOX_PAYMENT],
                                         ps->provider_timeout_ms);
  if (ps->provider == NULL) {
    free(ps);
    return KIT_NOMEM;
  }
  svc->state = ps;
  if (worker_start(&ps->reconciler, svc->name, "reconciler",
                   cfg->payment_reconcile_ms, payment_reconcile_pass,
                   ps) != KIT_OK) {
    ps->provider->destroy(ps->provider);
    free(ps);
    svc->state = NULL;
    return KIT_ERROR;
  }
  return KIT_OK;
}

static void payment_stop(struct service *svc) {
  struct payment_service *ps = svc->state;
  if (ps == NULL) return;
  worker_stop(&ps->reconciler);
  ps->provider->destroy(ps->provider);
  free(ps);
  svc->state = NULL;
}

static const struct route routes[] = {
    {"POST", "/internal/payments/authorize", payment_authorize_handler,
     ACCESS_INTERNAL},
    {"GET", "/internal/payments", payment_internal_list_handler,
     ACCESS_INTERNAL},
    {"GET", "/internal/payments/{id}", payment_get_handler, ACCESS_INTERNAL},
    {"POST", "/internal/payments/{id}/capture", payment_capture_handler,
     ACCESS_INTERNAL},
    {"POST", "/internal/payments/{id}/void", payment_void_handler,
     ACCESS_INTERNAL},
    {"POST", "/internal/payments/{id}/refund", payment_refund_handler,
     ACCESS_INTERNAL},
    {"GET", "/api/v1/payments", payment_public_list_handler, ACCESS_SIGNED_IN},
    {"POST", "/api/v1/payments/webhooks/{provider}", payment_webhook_handler,
     ACCESS_PUBLIC},
};

const struct service_module payment_module = {
    .id = SVC_PAYMENT,
    .summary = "payments, refunds, provider adapters, webhooks",
    .needs = NEEDS_DB | NEEDS_AMQP,
    .routes = routes,
    .route_count = sizeof routes / sizeof routes[0],
    .statements = payment_statements,
    .statement_count = PAYMENT_STATEMENT_COUNT,
    .start = payment_start,
    .stop = payment_stop,
};
