/* domain.h - payments: the state machine and how provider facts move it.
 *
 * Pure functions, unit-tested (tests/unit/test_payment_domain.c). The one
 * rule that keeps money safe: our state only ever moves forward to match what
 * the provider says happened (payment_reconcile). The authorize answer, a
 * webhook and the reconciler all feed the same function, so whichever comes
 * first moves the payment and the others find nothing left to do: an event
 * is emitted once, a charge is never counted twice.
 */
#ifndef SHOPSPHERE_PAYMENT_DOMAIN_H
#define SHOPSPHERE_PAYMENT_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>

enum payment_status {
  PAYMENT_UNKNOWN = 0, /* asked the provider, no answer yet (or a timeout) */
  PAYMENT_AUTHORIZED,
  PAYMENT_CAPTURED,
  PAYMENT_VOIDED,
  PAYMENT_REFUNDED,
  PAYMENT_PARTIALLY_REFUNDED,
  PAYMENT_FAILED,
  PAYMENT_STATUS_COUNT
};

const char *payment_status_name(enum payment_status s);
/* false when name is not a status. */
bool payment_status_parse(const char *name, enum payment_status *out);

#define PAYMENT_ID_LEN 37
#define PROVIDER_ID_MAX 64

struct payment {
  char id[PAYMENT_ID_LEN];
  char order_id[PAYMENT_ID_LEN];
  char user_id[PAYMENT_ID_LEN];
  enum payment_status status;
  int64_t amount; /* authorized amount, minor units */
  char currency[4];
  int64_t captured_amount;
  int64_t refunded_amount;
  int64_t refund_pending; /* refunds asked of the provider, not confirmed */
  char card_brand[16];
  char card_last4[5];
  char decline_code[40];
  char provider[16];
  char provider_payment_id[PROVIDER_ID_MAX];
  bool void_requested; /* void asked while unknown: cancel once settled */
  char created_at[40];
  char updated_at[40];
};

/* The provider's view of one payment (a PaymentIntent), whatever the
 * provider's own words for it. */
enum provider_state {
  PROVIDER_PENDING = 0, /* created, not (yet) confirmed */
  PROVIDER_DECLINED,    /* confirmation refused by the card issuer */
  PROVIDER_AUTHORIZED,  /* funds held, capturable */
  PROVIDER_CAPTURED,    /* money moved (possibly partly refunded since) */
  PROVIDER_CANCELED,
};

struct provider_intent {
  char id[PROVIDER_ID_MAX];
  enum provider_state state;
  int64_t amount;
  int64_t amount_capturable;
  int64_t amount_received;
  int64_t amount_refunded;
  char currency[4]; /* uppercase */
  char brand[16];
  char last4[5];
  char order_id[PAYMENT_ID_LEN]; /* metadata, "" when absent */
  char decline_code[40];
};

/* The event a change emits, if any. */
enum payment_event {
  PAYMENT_EVENT_NONE = 0,
  PAYMENT_EVENT_AUTHORIZED,
  PAYMENT_EVENT_CAPTURED,
  PAYMENT_EVENT_FAILED,
  PAYMENT_EVENT_REFUNDED,
};

/* "payment.authorized", ...; NULL for NONE. */
const char *payment_event_type(enum payment_event e);

/* Moves cur forward to match pi into *next (a copy of cur, changed where the
 * provider knows more) and returns the event to emit, PAYMENT_EVENT_NONE
 * when nothing changed. Never moves backwards and never leaves a terminal
 * state (voided, failed, refunded). Refunds: the provider's amount_refunded
 * counts our refunds still pending too, so those are subtracted first (they
 * are booked when their own answer arrives). *changed tells whether any
 * column changed (card details or provider id may change without an event). */
enum payment_event payment_reconcile(const struct payment *cur,
                                     const struct provider_intent *pi,
                                     struct payment *next, bool *changed);

/* What a request may do in a status. */
enum payment_action {
  ACTION_CAPTURE,
  ACTION_VOID,
  ACTION_REFUND,
};

enum payment_check {
  CHECK_GO = 0,     /* ask the provider */
  CHECK_DONE,       /* already in the asked state: answer as is */
  CHECK_DEFER,      /* unknown yet: record the wish (void) */
  CHECK_CONFLICT,   /* not allowed in this status: 409 */
  CHECK_BAD_AMOUNT, /* amount beyond what the status allows: 409 */
};

/* Decides an action for p; amount (minor units, -1 for the default) is
 * checked for capture (≤ authorized) and refund (≤ captured − refunded −
 * pending); *effective receives the amount to ask for. */
enum payment_check payment_check_action(const struct payment *p,
                                        enum payment_action action,
                                        int64_t amount, int64_t *effective);

/* The status after booking a refund of `amount` on p (refunded or
 * partially_refunded). */
enum payment_status payment_status_after_refund(const struct payment *p,
                                                int64_t amount);

#endif
