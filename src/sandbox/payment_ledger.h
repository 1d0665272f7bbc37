/* payment_ledger.h - the books of the sandbox card processor, in memory.
 *
 * The sandbox plays an external card processor with a Stripe-like API
 * (docs/payments.md). This module is its state and its decisions: payment
 * intents, refunds, idempotency keys and the queue of webhook events still to
 * deliver, all behind one mutex. It knows nothing of HTTP: the handlers in
 * payment_gateway.c parse, call in here and render. Amounts are int64 minor
 * units, as in Stripe. Nothing is persisted: the sandbox starts empty (DESIGN
 * §1 puts its state in memory), and a restart forgets every intent.
 */
#ifndef SHOPSPHERE_SANDBOX_PAYMENT_LEDGER_H
#define SHOPSPHERE_SANDBOX_PAYMENT_LEDGER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a test token does when an intent is confirmed with it. */
enum sbp_token_kind {
  SBP_TOKEN_APPROVE = 0,
  SBP_TOKEN_DECLINE,
  SBP_TOKEN_TIMEOUT, /* approves, but the answer is held back */
};

struct sbp_card {
  const char *token;
  const char *brand;
  const char *last4;
  enum sbp_token_kind kind;
  const char *decline_code; /* SBP_TOKEN_DECLINE only */
};

/* The card behind a test token; NULL for a token the sandbox does not know. */
const struct sbp_card *sbp_card_lookup(const char *token);

#define SBP_ID_MAX 40
#define SBP_ORDER_MAX 64

/* A payment intent as the API shows it (a copy; the ledger owns the books). */
struct sbp_intent {
  char id[SBP_ID_MAX]; /* pi_<24 hex> */
  int64_t amount;
  char currency[4]; /* lowercase, as Stripe answers */
  char status[32];  /* requires_payment_method |
                       requires_confirmation | requires_capture |
                       succeeded | canceled */
  bool capture_manual;
  char token[SBP_ID_MAX];
  char brand[16];
  char last4[5];
  char order_id[SBP_ORDER_MAX]; /* metadata.order_id, "" when none */
  int64_t amount_capturable;
  int64_t amount_received;
  int64_t amount_refunded;
  char error_code[32]; /* last_payment_error.code, "" when none */
  char decline_code[40];
  int64_t created; /* unix seconds */
};

struct sbp_refund {
  char id[SBP_ID_MAX]; /* re_<24 hex> */
  char payment_intent[SBP_ID_MAX];
  int64_t amount;
  char currency[4];
  int64_t created;
};

enum sbp_outcome {
  SBP_OK = 0,
  SBP_DECLINED,   /* the card was declined (402 card_error) */
  SBP_NOT_FOUND,  /* no such intent (404 resource_missing) */
  SBP_BAD_STATE,  /* not allowed in the intent's status (400) */
  SBP_BAD_AMOUNT, /* amount out of range for this intent (400) */
  SBP_BAD_TOKEN,  /* unknown payment_method (400 resource_missing) */
  SBP_NOMEM,
};

struct sbp_ledger;

/* Creates empty books; NULL when out of memory. */
struct sbp_ledger *sbp_ledger_create(void);
void sbp_ledger_destroy(struct sbp_ledger *l);

/* --- payment intents; each fills *out with the intent after the call --- */

/* A new intent in requires_confirmation (requires_payment_method without a
 * token). currency is a valid ISO 4217 code (any case). */
enum sbp_outcome sbp_intent_create(struct sbp_ledger *l, int64_t amount,
                                   const char *currency, const char *token,
                                   bool capture_manual, const char *order_id,
                                   struct sbp_intent *out);

/* Authorizes (manual capture: requires_capture) or charges (automatic:
 * succeeded) with the intent's token, or with token when not NULL. A decline
 * leaves it in requires_payment_method with the decline code. *hold is set
 * when the token asks the answer to be held back (tok_timeout). */
enum sbp_outcome sbp_intent_confirm(struct sbp_ledger *l, const char *id,
                                    const char *token, struct sbp_intent *out,
                                    bool *hold);

/* Captures amount (< 0: all that is capturable) of a requires_capture intent;
 * the rest of the authorization is released. */
enum sbp_outcome sbp_intent_capture(struct sbp_ledger *l, const char *id,
                                    int64_t amount, struct sbp_intent *out);

/* Cancels an intent that is not yet succeeded or canceled. */
enum sbp_outcome sbp_intent_cancel(struct sbp_ledger *l, const char *id,
                                   struct sbp_intent *out);

enum sbp_outcome sbp_intent_get(struct sbp_ledger *l, const char *id,
                                struct sbp_intent *out);

/* The intents whose metadata.order_id is order_id, oldest first: a malloc'd
 * array in *out (caller frees; NULL when none) and its length in *count. */
enum sbp_outcome sbp_intents_by_order(struct sbp_ledger *l,
                                      const char *order_id,
                                      struct sbp_intent **out, size_t *count);

/* Refunds amount (< 0: all that is left) of a succeeded intent. */
enum sbp_outcome sbp_refund_create(struct sbp_ledger *l, const char *intent_id,
                                   int64_t amount, struct sbp_refund *refund,
                                   struct sbp_intent *out);

/* --- idempotency keys --- */

enum sbp_idem {
  SBP_IDEM_NEW = 0,   /* first use: the caller runs the request, then calls
                         sbp_idem_finish (or sbp_idem_abort) */
  SBP_IDEM_REPLAY,    /* done before with the same request: *status and
                       *body (malloc'd copy, caller frees) are the answer */
  SBP_IDEM_MISMATCH,  /* the key was used with another request */
  SBP_IDEM_IN_FLIGHT, /* the first request with this key is still running */
};

/* fingerprint identifies the request (method, path and body). */
enum sbp_idem sbp_idem_begin(struct sbp_ledger *l, const char *key,
                             const char *fingerprint, unsigned *status,
                             char **body);
/* Stores the answer of the request that began with key. */
void sbp_idem_finish(struct sbp_ledger *l, const char *key, unsigned status,
                     const char *body);
/* Forgets key, so a retry runs again (answers that must not be replayed). */
void sbp_idem_abort(struct sbp_ledger *l, const char *key);

/* --- events (what the webhooks deliver) --- */

/* An event due for delivery: copies, freed with sbp_due_free. */
struct sbp_due {
  char id[SBP_ID_MAX];
  char *payload;
};

/* Up to max events whose next attempt is due at now_ms, into out; returns how
 * many. Their payloads are malloc'd copies (the caller frees each). */
size_t sbp_events_due(struct sbp_ledger *l, int64_t now_ms, struct sbp_due *out,
                      size_t max);

/* Records a delivery attempt: delivered, or retried later with backoff
 * (0.5 s doubling up to 60 s), without end. */
void sbp_event_attempted(struct sbp_ledger *l, const char *event_id,
                         bool delivered, int64_t now_ms);

/* Holds back the undelivered events of an intent until until_ms: the
 * network between processor and shop is down for it (tok_timeout). */
void sbp_events_defer(struct sbp_ledger *l, const char *intent_id,
                      int64_t until_ms);

/* The events of an intent, oldest first, as a JSON array text (malloc'd,
 * caller frees); NULL when the intent is unknown. */
char *sbp_events_of_intent(struct sbp_ledger *l, const char *intent_id);

/* Number of events not yet delivered (for /metrics and tests). */
size_t sbp_events_pending(struct sbp_ledger *l);

/* --- rendering --- */

/* The intent as the API shows it: a json_t * object (new reference). */
void *sbp_intent_json(const struct sbp_intent *pi);
void *sbp_refund_json(const struct sbp_refund *re);

#endif
