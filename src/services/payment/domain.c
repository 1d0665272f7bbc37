/* domain.c - the payment state machine (see domain.h). No I/O here. */
#include "services/payment/domain.h"

#include <stdio.h>
#include <string.h>

static const char *const status_names[PAYMENT_STATUS_COUNT] = {
    [PAYMENT_UNKNOWN] = "unknown",
    [PAYMENT_AUTHORIZED] = "authorized",
    [PAYMENT_CAPTURED] = "captured",
    [PAYMENT_VOIDED] = "voided",
    [PAYMENT_REFUNDED] = "refunded",
    [PAYMENT_PARTIALLY_REFUNDED] = "partially_refunded",
    [PAYMENT_FAILED] = "failed",
};

const char *payment_status_name(enum payment_status s) {
  if ((unsigned)s >= PAYMENT_STATUS_COUNT) return "unknown";
  return status_names[s];
}

bool payment_status_parse(const char *name, enum payment_status *out) {
  for (int i = 0; i < PAYMENT_STATUS_COUNT; i++) {
    if (strcmp(status_names[i], name) == 0) {
      *out = (enum payment_status)i;
      return true;
    }
  }
  return false;
}

const char *payment_event_type(enum payment_event e) {
  switch (e) {
  case PAYMENT_EVENT_AUTHORIZED:
    return "payment.authorized";
  case PAYMENT_EVENT_CAPTURED:
    return "payment.captured";
  case PAYMENT_EVENT_FAILED:
    return "payment.failed";
  case PAYMENT_EVENT_REFUNDED:
    return "payment.refunded";
  case PAYMENT_EVENT_NONE:
    break;
  }
  return NULL;
}

static bool terminal(enum payment_status s) {
  return s == PAYMENT_VOIDED || s == PAYMENT_FAILED || s == PAYMENT_REFUNDED;
}

/* Copies what the provider tells about the card and its own id, which we may
 * not have yet when the answer that carried them was lost. */
static void take_identity(struct payment *next,
                          const struct provider_intent *pi) {
  if (next->provider_payment_id[0] == '\0' && pi->id[0] != '\0')
    snprintf(next->provider_payment_id, sizeof next->provider_payment_id, "%s",
             pi->id);
  if (pi->brand[0] != '\0' && next->card_brand[0] == '\0') {
    snprintf(next->card_brand, sizeof next->card_brand, "%s", pi->brand);
    snprintf(next->card_last4, sizeof next->card_last4, "%s", pi->last4);
  }
}

enum payment_event payment_reconcile(const struct payment *cur,
                                     const struct provider_intent *pi,
                                     struct payment *next, bool *changed) {
  *next = *cur;
  enum payment_event ev = PAYMENT_EVENT_NONE;
  if (terminal(cur->status)) goto done;
  take_identity(next, pi);

  switch (pi->state) {
  case PROVIDER_PENDING:
    break; /* nothing happened yet; the reconciler decides what to do */
  case PROVIDER_DECLINED:
    if (cur->status == PAYMENT_UNKNOWN) {
      next->status = PAYMENT_FAILED;
      snprintf(next->decline_code, sizeof next->decline_code, "%s",
               pi->decline_code[0] ? pi->decline_code : "card_declined");
      ev = PAYMENT_EVENT_FAILED;
    }
    break;
  case PROVIDER_AUTHORIZED:
    if (cur->status == PAYMENT_UNKNOWN) {
      next->status = PAYMENT_AUTHORIZED;
      ev = PAYMENT_EVENT_AUTHORIZED;
    }
    break;
  case PROVIDER_CANCELED:
    if (cur->status == PAYMENT_UNKNOWN || cur->status == PAYMENT_AUTHORIZED)
      next->status = PAYMENT_VOIDED; /* no event: none is defined for it */
    break;
  case PROVIDER_CAPTURED:
    if (cur->status == PAYMENT_UNKNOWN || cur->status == PAYMENT_AUTHORIZED) {
      next->status = PAYMENT_CAPTURED;
      next->captured_amount = pi->amount_received;
      ev = PAYMENT_EVENT_CAPTURED;
    }
    /* Refunds made at the provider that we have not booked. */
    int64_t seen = pi->amount_refunded - next->refund_pending;
    if (seen > next->refunded_amount && seen <= next->captured_amount) {
      next->refunded_amount = seen;
      next->status = seen >= next->captured_amount ? PAYMENT_REFUNDED
                                                   : PAYMENT_PARTIALLY_REFUNDED;
      if (ev == PAYMENT_EVENT_NONE) ev = PAYMENT_EVENT_REFUNDED;
    }
    break;
  }
done:
  *changed = memcmp(cur, next, sizeof *cur) != 0;
  return ev;
}

enum payment_check payment_check_action(const struct payment *p,
                                        enum payment_action action,
                                        int64_t amount, int64_t *effective) {
  *effective = 0;
  switch (action) {
  case ACTION_CAPTURE:
    if (p->status == PAYMENT_CAPTURED) return CHECK_DONE;
    if (p->status != PAYMENT_AUTHORIZED) return CHECK_CONFLICT;
    if (amount < 0) amount = p->amount;
    if (amount == 0 || amount > p->amount) return CHECK_BAD_AMOUNT;
    *effective = amount;
    return CHECK_GO;
  case ACTION_VOID:
    if (p->status == PAYMENT_VOIDED) return CHECK_DONE;
    if (p->status == PAYMENT_UNKNOWN) return CHECK_DEFER;
    if (p->status != PAYMENT_AUTHORIZED) return CHECK_CONFLICT;
    return CHECK_GO;
  case ACTION_REFUND: {
    if (p->status != PAYMENT_CAPTURED &&
        p->status != PAYMENT_PARTIALLY_REFUNDED) {
      /* Nothing left to refund is a conflict too, whatever was asked. */
      return CHECK_CONFLICT;
    }
    int64_t left = p->captured_amount - p->refunded_amount - p->refund_pending;
    if (amount < 0) amount = left;
    if (amount <= 0 || amount > left) return CHECK_BAD_AMOUNT;
    *effective = amount;
    return CHECK_GO;
  }
  }
  return CHECK_CONFLICT;
}

enum payment_status payment_status_after_refund(const struct payment *p,
                                                int64_t amount) {
  return p->refunded_amount + amount >= p->captured_amount
             ? PAYMENT_REFUNDED
             : PAYMENT_PARTIALLY_REFUNDED;
}
