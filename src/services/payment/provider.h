/* provider.h - the payment provider adapter interface.
 *
 * The payment service speaks to card processors only through this struct of
 * function pointers; an adapter translates to its provider's API. The only
 * adapter today is the sandbox (provider_sandbox.c), which speaks the
 * sandbox's Stripe-like PaymentIntents API over real HTTP. Every write takes
 * an idempotency key, so any call may be repeated after a timeout without
 * moving money twice. Calls block for at most the adapter's timeout.
 */
#ifndef SHOPSPHERE_PAYMENT_PROVIDER_H
#define SHOPSPHERE_PAYMENT_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "services/payment/domain.h"

enum provider_result {
  PROVIDER_RESULT_OK = 0,
  PROVIDER_RESULT_DECLINED, /* card declined; *out holds the decline */
  PROVIDER_RESULT_REJECTED, /* refused the request (4xx: state, amount,
                               unknown card token) */
  PROVIDER_RESULT_NOT_FOUND,
  PROVIDER_RESULT_TIMEOUT,     /* no answer in time: outcome unknown */
  PROVIDER_RESULT_UNAVAILABLE, /* unreachable or 5xx: may or may not have
                                  happened */
};

struct provider_authorize_request {
  const char *order_id; /* also the root of the idempotency keys */
  int64_t amount;
  const char *currency;
  const char *token;
};

/* A webhook delivery, parsed. */
struct provider_event {
  char id[PROVIDER_ID_MAX];
  char type[64];
  int has_intent; /* the event is about a payment */
  struct provider_intent intent;
};

struct provider {
  const char *name; /* "sandbox": the {provider} of the webhook route */
  const char *signature_header;
  void *impl;

  /* Creates and confirms (authorizes, manual capture) a payment. On
   * TIMEOUT/UNAVAILABLE out->id is set when the create step was answered. */
  enum provider_result (*authorize)(struct provider *p,
                                    const struct provider_authorize_request *r,
                                    struct provider_intent *out);
  /* Confirms a created intent again (same idempotency key as authorize). */
  enum provider_result (*confirm)(struct provider *p, const char *intent_id,
                                  const char *order_id,
                                  struct provider_intent *out);
  enum provider_result (*capture)(struct provider *p, const char *intent_id,
                                  int64_t amount, const char *idempotency_key,
                                  struct provider_intent *out);
  enum provider_result (*cancel)(struct provider *p, const char *intent_id,
                                 const char *idempotency_key,
                                 struct provider_intent *out);
  /* Refunds amount; *refund_id receives the provider's refund id. */
  enum provider_result (*refund)(struct provider *p, const char *intent_id,
                                 int64_t amount, const char *idempotency_key,
                                 char refund_id[PROVIDER_ID_MAX]);
  enum provider_result (*get)(struct provider *p, const char *intent_id,
                              struct provider_intent *out);
  /* The intents carrying order_id in their metadata (at most max, oldest
   * first) into out; *count receives how many there are in all. */
  enum provider_result (*find_by_order)(struct provider *p,
                                        const char *order_id,
                                        struct provider_intent *out, size_t max,
                                        size_t *count);
  /* Parses a webhook body (already verified). 0 on success, -1 when it is
   * not an event this adapter understands. */
  int (*parse_event)(struct provider *p, const char *body, size_t len,
                     struct provider_event *out);
  void (*destroy)(struct provider *p);
};

/* The sandbox adapter: base_url like "http://127.0.0.1:8095", each HTTP call
 * bounded by timeout_ms. NULL when out of memory. */
struct provider *provider_sandbox_create(const char *base_url, int timeout_ms);

/* Parses a sandbox PaymentIntent (a json_t * object) into out; 0 or -1. For
 * unit tests and the adapter. */
int provider_sandbox_parse_intent(const void *json,
                                  struct provider_intent *out);

#endif
