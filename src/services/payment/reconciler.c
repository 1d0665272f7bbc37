/* reconciler.c - settles payments whose outcome we do not know.
 *
 * A worker (kit/worker.h, every SHOPSPHERE_PAYMENT_RECONCILE_MS) looks for
 * payments left `unknown` (the provider timed out, was unreachable, or this
 * process died mid-call) for longer than any call could still be running,
 * and asks the provider what really happened, by the intent id when we have
 * it, else by the order id in the intent's metadata:
 *   - an intent that was authorized, captured, declined or canceled: applied
 *     as the provider says (payment_apply), exactly like a webhook;
 *   - an intent never confirmed, or none at all: nothing was charged. An
 *     unconfirmed intent is canceled first, so a confirmation still on the
 *     way cannot authorize it later; then the payment is failed.
 * Nothing here ever creates or confirms a charge: retries reuse idempotency
 * keys, so there is never a second authorization. It also cancels
 * authorizations whose void was asked while unknown, and repeats refunds
 * left pending by a lost answer (same key: the provider answers the first).
 */
#include <stdio.h>
#include <string.h>

#include "kit/log.h"
#include "services/payment/payment.h"
#include "services/payment/store.h"

#define BATCH 20

/* The outcome when nothing was charged. */
static void nothing_charged(struct provider_intent *pi) {
  memset(pi, 0, sizeof *pi);
  pi->state = PROVIDER_DECLINED;
  snprintf(pi->decline_code, sizeof pi->decline_code, "processing_error");
}

static void cancel_requested(struct payment_service *ps,
                             const struct payment *p);

static void settle_unknown(struct payment_service *ps,
                           const struct payment *p) {
  struct provider *prov = ps->provider;
  struct provider_intent pi;
  enum provider_result pr;
  if (p->provider_payment_id[0] != '\0') {
    pr = prov->get(prov, p->provider_payment_id, &pi);
    if (pr == PROVIDER_RESULT_NOT_FOUND) {
      nothing_charged(&pi);
      pr = PROVIDER_RESULT_OK;
    }
  } else {
    struct provider_intent found[4];
    size_t count = 0;
    pr = prov->find_by_order(prov, p->order_id, found, 4, &count);
    if (pr == PROVIDER_RESULT_OK) {
      if (count == 0)
        nothing_charged(&pi);
      else
        pi = found[0];
      if (count > 1)
        log_error("payment %s: the provider holds %zu intents for order %s",
                  p->id, count, p->order_id);
    }
  }
  if (pr != PROVIDER_RESULT_OK) return; /* ask again next pass */

  if (pi.state == PROVIDER_PENDING) {
    /* Never confirmed: make sure it never will be, then it failed. */
    char key[80];
    snprintf(key, sizeof key, "reconcile-cancel:%.36s", p->id);
    struct provider_intent canceled;
    pr = prov->cancel(prov, pi.id, key, &canceled);
    if (pr != PROVIDER_RESULT_OK) return;
    if (canceled.state == PROVIDER_CANCELED) {
      char id[PROVIDER_ID_MAX];
      memcpy(id, pi.id, sizeof id);
      nothing_charged(&pi);
      memcpy(pi.id, id, sizeof id);
    } else {
      pi = canceled;
    }
  }
  if (pi.state == PROVIDER_AUTHORIZED && p->void_requested) {
    /* The order gave up on it: release the hold before anybody acts on an
     * authorization (no payment.authorized for a voided payment). */
    char key[80];
    snprintf(key, sizeof key, "void:%.36s", p->id);
    struct provider_intent canceled;
    if (prov->cancel(prov, pi.id, key, &canceled) == PROVIDER_RESULT_OK)
      pi = canceled;
  }
  struct payment after;
  int rc = payment_apply(ps->svc->db, p->id, &pi, &after);
  if (rc <= 0) return;
  payment_count(ps, "reconcile", payment_status_name(after.status));
  log_info("reconciled payment %s of order %s: %s", p->id, p->order_id,
           payment_status_name(after.status));
  if (after.void_requested && after.status == PAYMENT_AUTHORIZED)
    cancel_requested(ps, &after);
}

static void cancel_requested(struct payment_service *ps,
                             const struct payment *p) {
  struct provider *prov = ps->provider;
  char key[80];
  snprintf(key, sizeof key, "void:%.36s", p->id);
  struct provider_intent pi;
  enum provider_result pr =
      prov->cancel(prov, p->provider_payment_id, key, &pi);
  if (pr == PROVIDER_RESULT_REJECTED)
    pr = prov->get(prov, p->provider_payment_id, &pi);
  if (pr != PROVIDER_RESULT_OK) return;
  struct payment after;
  if (payment_apply(ps->svc->db, p->id, &pi, &after) > 0)
    log_info("payment %s: void asked while unknown, now %s", p->id,
             payment_status_name(after.status));
}

static void retry_refunds(struct payment_service *ps, int older_ms) {
  struct pending_refund refunds[BATCH];
  struct db_conn *conn = db_acquire(ps->svc->db, 1000);
  if (conn == NULL) return;
  int n = store_refunds_pending(conn, older_ms, refunds, BATCH);
  db_release(ps->svc->db, conn);
  for (int i = 0; i < n && !worker_stopping(&ps->reconciler); i++) {
    char provider_refund[PROVIDER_ID_MAX];
    enum provider_result pr =
        ps->provider->refund(ps->provider, refunds[i].provider_payment_id,
                             refunds[i].amount, refunds[i].id, provider_refund);
    if (pr == PROVIDER_RESULT_TIMEOUT || pr == PROVIDER_RESULT_UNAVAILABLE)
      continue;
    bool ok = pr == PROVIDER_RESULT_OK;
    if (payment_settle_refund(ps->svc->db, refunds[i].id, ok, provider_refund,
                              refunds[i].amount) > 0)
      log_info("pending refund %s of payment %s: %s", refunds[i].id,
               refunds[i].payment_id, ok ? "succeeded" : "failed");
  }
}

void payment_reconcile_pass(void *arg) {
  struct payment_service *ps = arg;
  /* An authorize's provider calls share one timeout; a row younger than
   * twice that (plus a second) may still have its call in flight. */
  int older_ms = 2 * ps->provider_timeout_ms + 1000;
  struct payment batch[BATCH];
  struct db_conn *conn = db_acquire(ps->svc->db, 1000);
  if (conn == NULL) return;
  int n = store_payments_unsettled(conn, older_ms, batch, BATCH);
  db_release(ps->svc->db, conn);
  for (int i = 0; i < n && !worker_stopping(&ps->reconciler); i++) {
    if (batch[i].status == PAYMENT_UNKNOWN)
      settle_unknown(ps, &batch[i]);
    else if (batch[i].void_requested && batch[i].status == PAYMENT_AUTHORIZED)
      cancel_requested(ps, &batch[i]);
  }
  retry_refunds(ps, older_ms);
}
