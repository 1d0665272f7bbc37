/* payment_gateway.c - the sandbox card processor (an external system).
 *
 * Simulates the card processor the seed puts outside the platform, as its own
 * process on port base+15 (8095 in dev), with a Stripe-like REST API in JSON
 * (Stripe speaks form encoding; the shapes and rules are Stripe's):
 *
 *   POST /v1/payment_intents              create (amount, currency,
 *                                         payment_method, capture_method,
 *                                         metadata.order_id, confirm)
 *   POST /v1/payment_intents/{id}/confirm authorize (or charge)
 *   POST /v1/payment_intents/{id}/capture {amount_to_capture?}
 *   POST /v1/payment_intents/{id}/cancel
 *   GET  /v1/payment_intents/{id}
 *   GET  /v1/payment_intents?order_id=    the intents of an order
 *   POST /v1/refunds                      {payment_intent, amount?}
 *   GET  /v1/events?payment_intent=       what the webhooks carried
 *   GET|POST /v1/_chaos                   {error_percent, latency_ms}
 *
 * Every write takes an Idempotency-Key: the same key with the same request
 * answers the first answer again; with another request it is a 400
 * idempotency_error; while the first is still running, a 409. Test tokens
 * (payment_ledger.c): tok_visa approves, tok_chargeDeclined and
 * tok_insufficientFunds decline, tok_timeout approves and then holds the
 * answer back for SHOPSPHERE_SANDBOX_PAYMENT_HOLD_MS, as a processor whose
 * answer is lost on the way: the authorization exists, the caller never
 * hears of it. Each state change is an event POSTed, signed (kit/webhook.h,
 * header Sandbox-Signature), to the payment service's webhook endpoint and
 * retried with backoff until it answers 2xx.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit/json.h"
#include "kit/log.h"
#include "kit/money.h"
#include "kit/service.h"
#include "kit/webhook.h"
#include "kit/worker.h"
#include "sandbox/payment_ledger.h"

#define WEBHOOK_PATH "/api/v1/payments/webhooks/sandbox"
#define DELIVERY_BATCH 32
/* How long webhooks about a tok_timeout intent are held back beyond its
 * answer: longer than the payment service's reconciler needs to ask. */
#define WEBHOOK_OUTAGE_MS 60000

struct sandbox {
  struct sbp_ledger *ledger;
  atomic_int error_percent;
  atomic_int latency_ms;
  int hold_ms;
  char webhook_url[CONFIG_URL_MAX + 64];
  char secret[128];
  struct worker delivery;
};

static struct sandbox *sandbox_of(const struct http_request *req) {
  return req->svc->state;
}

static void sleep_ms(int ms) {
  if (ms <= 0) return;
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- answers in Stripe's error shape (not the platform envelope: this is
 *     somebody else's system) --- */

static void reply_json_take(struct http_response *res, unsigned status,
                            json_t *body) {
  http_reply_json(res, status, body);
  json_decref(body);
}

static json_t *stripe_error(const char *type, const char *code,
                            const char *message, const char *param) {
  json_t *err = json_object();
  json_object_set_new(err, "type", json_string(type));
  if (code) json_object_set_new(err, "code", json_string(code));
  json_object_set_new(err, "message", json_string(message));
  if (param) json_object_set_new(err, "param", json_string(param));
  json_t *o = json_object();
  json_object_set_new(o, "error", err);
  return o;
}

static void reply_stripe_error(struct http_response *res, unsigned status,
                               const char *type, const char *code,
                               const char *message, const char *param) {
  reply_json_take(res, status, stripe_error(type, code, message, param));
}

/* Maps a ledger outcome to its answer; the intent (when there is one) rides
 * along as Stripe does for card errors. */
static void reply_outcome(struct http_response *res, enum sbp_outcome o,
                          const struct sbp_intent *pi) {
  switch (o) {
  case SBP_OK:
    reply_json_take(res, 200, sbp_intent_json(pi));
    return;
  case SBP_DECLINED: {
    json_t *body = stripe_error("card_error", pi->error_code,
                                "Your card was declined.", NULL);
    json_t *err = json_object_get(body, "error");
    json_object_set_new(err, "decline_code", json_string(pi->decline_code));
    json_object_set_new(err, "payment_intent", sbp_intent_json(pi));
    reply_json_take(res, 402, body);
    return;
  }
  case SBP_NOT_FOUND:
    reply_stripe_error(res, 404, "invalid_request_error", "resource_missing",
                       "No such payment_intent", "id");
    return;
  case SBP_BAD_STATE: {
    char msg[160];
    snprintf(msg, sizeof msg,
             "This PaymentIntent's status is %s, which does not allow this "
             "action.",
             pi->status);
    reply_stripe_error(res, 400, "invalid_request_error",
                       "payment_intent_unexpected_state", msg, NULL);
    return;
  }
  case SBP_BAD_AMOUNT:
    reply_stripe_error(res, 400, "invalid_request_error", "amount_too_large",
                       "The amount is larger than what is available.",
                       "amount");
    return;
  case SBP_BAD_TOKEN:
    reply_stripe_error(res, 400, "invalid_request_error", "resource_missing",
                       "No such PaymentMethod", "payment_method");
    return;
  case SBP_NOMEM:
    break;
  }
  reply_stripe_error(res, 500, "api_error", NULL, "out of memory", NULL);
}

/* Chaos first: added latency, then a random 500 before anything happens (a
 * failed request changes nothing, so retrying it is always safe). Returns
 * true when the answer was sent. */
static bool chaos_answered(struct http_request *req,
                           struct http_response *res) {
  struct sandbox *sb = sandbox_of(req);
  sleep_ms(atomic_load(&sb->latency_ms));
  int pct = atomic_load(&sb->error_percent);
  if (pct > 0 && (int)randombytes_uniform(100) < pct) {
    reply_stripe_error(res, 500, "api_error", NULL,
                       "sandbox chaos: injected failure", NULL);
    return true;
  }
  return false;
}

/* What a write does once the idempotency key let it run. Fills res; sets
 * *hold to hold the answer back (tok_timeout), naming the intent in
 * held_intent. */
typedef void (*write_fn)(struct http_request *req, struct http_response *res,
                         bool *hold, char held_intent[SBP_ID_MAX]);

/* Runs a write under its Idempotency-Key (optional, as in Stripe). Answers
 * of 5xx are not remembered, so they can be retried with the same key. */
static void run_write(struct http_request *req, struct http_response *res,
                      write_fn fn) {
  if (chaos_answered(req, res)) return;
  struct sandbox *sb = sandbox_of(req);
  const char *key = http_header(req, "Idempotency-Key");
  if (key != NULL && (key[0] == '\0' || strlen(key) > 255)) {
    reply_stripe_error(res, 400, "invalid_request_error", "idempotency_error",
                       "Idempotency-Key must be 1 to 255 characters.", NULL);
    return;
  }
  char *fingerprint = NULL;
  if (key != NULL) {
    fingerprint =
        arena_printf(req->arena, "%s %s\n%.*s", req->method, req->path,
                     (int)req->body_len, req->body ? req->body : "");
    if (fingerprint == NULL) {
      reply_stripe_error(res, 500, "api_error", NULL, "out of memory", NULL);
      return;
    }
    unsigned status = 0;
    char *body = NULL;
    switch (sbp_idem_begin(sb->ledger, key, fingerprint, &status, &body)) {
    case SBP_IDEM_NEW:
      break;
    case SBP_IDEM_REPLAY:
      http_reply_take(res, status, "application/json", body, strlen(body));
      http_response_header(res, "Idempotent-Replayed", "true");
      return;
    case SBP_IDEM_MISMATCH:
      reply_stripe_error(res, 400, "idempotency_error", "idempotency_error",
                         "Keys for idempotent requests can only be used with "
                         "the same parameters they were first used with.",
                         NULL);
      return;
    case SBP_IDEM_IN_FLIGHT:
      reply_stripe_error(res, 409, "idempotency_error",
                         "idempotency_key_in_use",
                         "There is currently another in-progress request "
                         "using this Idempotency-Key.",
                         NULL);
      return;
    }
  }
  bool hold = false;
  char held_intent[SBP_ID_MAX] = "";
  fn(req, res, &hold, held_intent);
  if (key != NULL) {
    if (res->status >= 500) {
      sbp_idem_abort(sb->ledger, key);
    } else {
      char *copy = strndup(res->body ? res->body : "", res->body_len);
      sbp_idem_finish(sb->ledger, key, res->status, copy);
      free(copy);
    }
  }
  /* The books already say "authorized"; only the answer is late, and the
   * webhooks about it wait as long (the line to the shop is down), so the
   * shop learns of it by asking: reconciliation. */
  if (hold) {
    sbp_events_defer(sb->ledger, held_intent,
                     now_ms() + WEBHOOK_OUTAGE_MS + sb->hold_ms);
    sleep_ms(sb->hold_ms);
  }
}

/* Parses a JSON body into fields; answers a Stripe-style 400 and returns
 * false when it does not fit. An empty body counts as {}. */
static bool parse_body(struct http_request *req, struct http_response *res,
                       const struct json_field *fields, size_t count,
                       struct json_doc **doc) {
  struct json_error err;
  const char *body = req->body_len > 0 ? req->body : "{}";
  size_t len = req->body_len > 0 ? req->body_len : 2;
  if (json_parse_body(body, len, fields, count, true, req->arena, doc, &err) !=
      KIT_OK) {
    reply_stripe_error(res, 400, "invalid_request_error", "parameter_invalid",
                       err.message, err.field[0] ? err.field : NULL);
    return false;
  }
  return true;
}

/* --- payment intents --- */

static const char *const capture_methods[] = {"manual", "automatic", NULL};

static void do_create(struct http_request *req, struct http_response *res,
                      bool *hold, char held_intent[SBP_ID_MAX]) {
  struct sandbox *sb = sandbox_of(req);
  int64_t amount = 0;
  const char *currency = NULL, *token = NULL, *capture = "automatic";
  const void *metadata = NULL;
  bool confirm = false;
  const struct json_field fields[] = {
      {"amount", JF_INT, true, 1, MONEY_MAX, &amount},
      {"currency", JF_STRING, true, 3, 3, &currency},
      {"payment_method", JF_STRING, false, 1, 64, &token},
      {"capture_method", JF_ENUM, false, 0, 0, &capture, NULL, capture_methods},
      {"metadata", JF_OBJECT, false, 0, 0, &metadata},
      {"confirm", JF_BOOL, false, 0, 0, &confirm},
  };
  struct json_doc *doc = NULL;
  if (!parse_body(req, res, fields, sizeof fields / sizeof fields[0], &doc))
    goto cleanup;
  char upper[4] = {0};
  for (int i = 0; i < 3; i++)
    upper[i] = (char)(currency[i] >= 'a' && currency[i] <= 'z'
                          ? currency[i] - 'a' + 'A'
                          : currency[i]);
  if (!money_currency_valid(upper)) {
    reply_stripe_error(res, 400, "invalid_request_error", "parameter_invalid",
                       "Invalid currency.", "currency");
    goto cleanup;
  }
  const char *order_id = NULL;
  if (metadata != NULL) {
    json_t *v = json_object_get((const json_t *)metadata, "order_id");
    if (v != NULL &&
        (!json_is_string(v) || strlen(json_string_value(v)) >= SBP_ORDER_MAX)) {
      reply_stripe_error(res, 400, "invalid_request_error", "parameter_invalid",
                         "metadata.order_id must be a short string.",
                         "metadata[order_id]");
      goto cleanup;
    }
    if (v != NULL) order_id = json_string_value(v);
  }
  struct sbp_intent pi;
  enum sbp_outcome o =
      sbp_intent_create(sb->ledger, amount, upper, token,
                        strcmp(capture, "manual") == 0, order_id, &pi);
  if (o == SBP_OK && confirm)
    o = sbp_intent_confirm(sb->ledger, pi.id, NULL, &pi, hold);
  memcpy(held_intent, pi.id, SBP_ID_MAX);
  reply_outcome(res, o, &pi);
cleanup:
  json_doc_free(doc);
}

static void create_intent(struct http_request *req, struct http_response *res) {
  run_write(req, res, do_create);
}

static void do_confirm(struct http_request *req, struct http_response *res,
                       bool *hold, char held_intent[SBP_ID_MAX]) {
  struct sandbox *sb = sandbox_of(req);
  const char *token = NULL;
  const struct json_field fields[] = {
      {"payment_method", JF_STRING, false, 1, 64, &token},
  };
  struct json_doc *doc = NULL;
  if (!parse_body(req, res, fields, 1, &doc)) goto cleanup;
  struct sbp_intent pi = {0};
  enum sbp_outcome o =
      sbp_intent_confirm(sb->ledger, http_param(req, "id"), token, &pi, hold);
  memcpy(held_intent, pi.id, SBP_ID_MAX);
  reply_outcome(res, o, &pi);
cleanup:
  json_doc_free(doc);
}

static void confirm_intent(struct http_request *req,
                           struct http_response *res) {
  run_write(req, res, do_confirm);
}

static void do_capture(struct http_request *req, struct http_response *res,
                       bool *hold, char held_intent[SBP_ID_MAX]) {
  struct sandbox *sb = sandbox_of(req);
  int64_t amount = -1;
  const struct json_field fields[] = {
      {"amount_to_capture", JF_INT, false, 1, MONEY_MAX, &amount},
  };
  struct json_doc *doc = NULL;
  if (!parse_body(req, res, fields, 1, &doc)) goto cleanup;
  struct sbp_intent pi = {0};
  enum sbp_outcome o =
      sbp_intent_capture(sb->ledger, http_param(req, "id"), amount, &pi);
  reply_outcome(res, o, &pi);
cleanup:
  json_doc_free(doc);
}

static void capture_intent(struct http_request *req,
                           struct http_response *res) {
  run_write(req, res, do_capture);
}

static void do_cancel(struct http_request *req, struct http_response *res,
                      bool *hold, char held_intent[SBP_ID_MAX]) {
  struct sandbox *sb = sandbox_of(req);
  const char *reason = NULL;
  const struct json_field fields[] = {
      {"cancellation_reason", JF_STRING, false, 1, 64, &reason},
  };
  struct json_doc *doc = NULL;
  if (!parse_body(req, res, fields, 1, &doc)) goto cleanup;
  struct sbp_intent pi = {0};
  enum sbp_outcome o =
      sbp_intent_cancel(sb->ledger, http_param(req, "id"), &pi);
  reply_outcome(res, o, &pi);
cleanup:
  json_doc_free(doc);
}

static void cancel_intent(struct http_request *req, struct http_response *res) {
  run_write(req, res, do_cancel);
}

static void get_intent(struct http_request *req, struct http_response *res) {
  if (chaos_answered(req, res)) return;
  struct sbp_intent pi = {0};
  enum sbp_outcome o =
      sbp_intent_get(sandbox_of(req)->ledger, http_param(req, "id"), &pi);
  reply_outcome(res, o, &pi);
}

static void list_intents(struct http_request *req, struct http_response *res) {
  if (chaos_answered(req, res)) return;
  const char *order_id = http_query(req, "order_id");
  if (order_id == NULL || order_id[0] == '\0') {
    reply_stripe_error(res, 400, "invalid_request_error", "parameter_missing",
                       "order_id is required.", "order_id");
    return;
  }
  struct sbp_intent *items = NULL;
  size_t count = 0;
  if (sbp_intents_by_order(sandbox_of(req)->ledger, order_id, &items, &count) !=
      SBP_OK) {
    reply_stripe_error(res, 500, "api_error", NULL, "out of memory", NULL);
    return;
  }
  json_t *data = json_array();
  for (size_t i = 0; i < count; i++)
    json_array_append_new(data, sbp_intent_json(&items[i]));
  free(items);
  json_t *list = json_object();
  json_object_set_new(list, "object", json_string("list"));
  json_object_set_new(list, "data", data);
  json_object_set_new(list, "has_more", json_false());
  reply_json_take(res, 200, list);
}

/* --- refunds --- */

static void do_refund(struct http_request *req, struct http_response *res,
                      bool *hold, char held_intent[SBP_ID_MAX]) {
  struct sandbox *sb = sandbox_of(req);
  const char *intent = NULL;
  int64_t amount = -1;
  const struct json_field fields[] = {
      {"payment_intent", JF_STRING, true, 1, SBP_ID_MAX - 1, &intent},
      {"amount", JF_INT, false, 1, MONEY_MAX, &amount},
  };
  struct json_doc *doc = NULL;
  if (!parse_body(req, res, fields, 2, &doc)) goto cleanup;
  struct sbp_refund refund;
  struct sbp_intent pi = {0};
  enum sbp_outcome o =
      sbp_refund_create(sb->ledger, intent, amount, &refund, &pi);
  if (o == SBP_OK)
    reply_json_take(res, 200, sbp_refund_json(&refund));
  else
    reply_outcome(res, o, &pi);
cleanup:
  json_doc_free(doc);
}

static void create_refund(struct http_request *req, struct http_response *res) {
  run_write(req, res, do_refund);
}

/* --- events and chaos (test and operator routes) --- */

static void list_events(struct http_request *req, struct http_response *res) {
  const char *intent = http_query(req, "payment_intent");
  if (intent == NULL || intent[0] == '\0') {
    reply_stripe_error(res, 400, "invalid_request_error", "parameter_missing",
                       "payment_intent is required.", "payment_intent");
    return;
  }
  char *events = sbp_events_of_intent(sandbox_of(req)->ledger, intent);
  if (events == NULL) {
    reply_outcome(res, SBP_NOT_FOUND, NULL);
    return;
  }
  char *body = NULL;
  int n = asprintf(
      &body, "{\"object\":\"list\",\"data\":%s,\"has_more\":false}", events);
  free(events);
  if (n < 0) {
    reply_stripe_error(res, 500, "api_error", NULL, "out of memory", NULL);
    return;
  }
  http_reply_take(res, 200, "application/json", body, (size_t)n);
}

static void reply_chaos(struct http_response *res, struct sandbox *sb) {
  json_t *o = json_object();
  json_object_set_new(o, "error_percent",
                      json_integer(atomic_load(&sb->error_percent)));
  json_object_set_new(o, "latency_ms",
                      json_integer(atomic_load(&sb->latency_ms)));
  json_object_set_new(o, "pending_webhooks",
                      json_integer((json_int_t)sbp_events_pending(sb->ledger)));
  reply_json_take(res, 200, o);
}

static void get_chaos(struct http_request *req, struct http_response *res) {
  reply_chaos(res, sandbox_of(req));
}

static void set_chaos(struct http_request *req, struct http_response *res) {
  struct sandbox *sb = sandbox_of(req);
  int64_t pct = atomic_load(&sb->error_percent);
  int64_t latency = atomic_load(&sb->latency_ms);
  const struct json_field fields[] = {
      {"error_percent", JF_INT, false, 0, 100, &pct},
      {"latency_ms", JF_INT, false, 0, 60000, &latency},
  };
  struct json_doc *doc = NULL;
  if (!parse_body(req, res, fields, 2, &doc)) goto cleanup;
  atomic_store(&sb->error_percent, (int)pct);
  atomic_store(&sb->latency_ms, (int)latency);
  log_info("sandbox chaos: error_percent=%d latency_ms=%d", (int)pct,
           (int)latency);
  reply_chaos(res, sb);
cleanup:
  json_doc_free(doc);
}

/* --- webhook delivery --- */

/* One pass: deliver whatever is due, one by one, until nothing is due. */
static void deliver_due(void *arg) {
  struct sandbox *sb = arg;
  if (sb->secret[0] == '\0') return; /* warned at start */
  struct sbp_due due[DELIVERY_BATCH];
  for (;;) {
    size_t n = sbp_events_due(sb->ledger, now_ms(), due, DELIVERY_BATCH);
    if (n == 0) return;
    for (size_t i = 0; i < n; i++) {
      long status = 0;
      int rc =
          webhook_post(sb->webhook_url, "Sandbox-Signature", sb->secret,
                       due[i].payload, strlen(due[i].payload), 5000, &status);
      bool ok = rc == KIT_OK && status >= 200 && status < 300;
      if (rc == KIT_OK && !ok)
        log_warn("webhook %s refused with HTTP %ld; will retry", due[i].id,
                 status);
      sbp_event_attempted(sb->ledger, due[i].id, ok, now_ms());
      free(due[i].payload);
    }
    if (worker_stopping(&sb->delivery)) {
      return;
    }
  }
}

static int sandbox_start(struct service *svc) {
  struct sandbox *sb = calloc(1, sizeof *sb);
  if (sb == NULL) return KIT_NOMEM;
  sb->ledger = sbp_ledger_create();
  if (sb->ledger == NULL) {
    free(sb);
    return KIT_NOMEM;
  }
  const struct config *cfg = svc->cfg;
  atomic_init(&sb->error_percent, cfg->sandbox_payment_error_percent);
  atomic_init(&sb->latency_ms, cfg->sandbox_payment_latency_ms);
  sb->hold_ms = cfg->sandbox_payment_hold_ms;
  if (cfg->payment_webhook_url[0] != '\0')
    snprintf(sb->webhook_url, sizeof sb->webhook_url, "%s",
             cfg->payment_webhook_url);
  else
    snprintf(sb->webhook_url, sizeof sb->webhook_url, "%s%s",
             cfg->urls[SVC_PAYMENT], WEBHOOK_PATH);
  snprintf(sb->secret, sizeof sb->secret, "%s", cfg->payment_webhook_secret);
  if (sb->secret[0] == '\0')
    log_warn("SHOPSPHERE_PAYMENT_WEBHOOK_SECRET is empty: webhooks are not "
             "sent");
  svc->state = sb;
  if (worker_start(&sb->delivery, svc->name, "webhooks", 200, deliver_due,
                   sb) != KIT_OK) {
    sbp_ledger_destroy(sb->ledger);
    free(sb);
    svc->state = NULL;
    return KIT_ERROR;
  }
  return KIT_OK;
}

static void sandbox_stop(struct service *svc) {
  struct sandbox *sb = svc->state;
  if (sb == NULL) return;
  worker_stop(&sb->delivery);
  sbp_ledger_destroy(sb->ledger);
  free(sb);
  svc->state = NULL;
}

static const struct route routes[] = {
    {"POST", "/v1/payment_intents", create_intent, ACCESS_PUBLIC},
    {"GET", "/v1/payment_intents", list_intents, ACCESS_PUBLIC},
    {"GET", "/v1/payment_intents/{id}", get_intent, ACCESS_PUBLIC},
    {"POST", "/v1/payment_intents/{id}/confirm", confirm_intent, ACCESS_PUBLIC},
    {"POST", "/v1/payment_intents/{id}/capture", capture_intent, ACCESS_PUBLIC},
    {"POST", "/v1/payment_intents/{id}/cancel", cancel_intent, ACCESS_PUBLIC},
    {"POST", "/v1/refunds", create_refund, ACCESS_PUBLIC},
    {"GET", "/v1/events", list_events, ACCESS_PUBLIC},
    {"GET", "/v1/_chaos", get_chaos, ACCESS_PUBLIC},
    {"POST", "/v1/_chaos", set_chaos, ACCESS_PUBLIC},
};

const struct service_module sandbox_payment_module = {
    .id = SVC_SANDBOX_PAYMENT,
    .summary = "simulated card processor (external system)",
    .needs = 0,
    .routes = routes,
    .route_count = sizeof routes / sizeof routes[0],
    .start = sandbox_start,
    .stop = sandbox_stop,
};
