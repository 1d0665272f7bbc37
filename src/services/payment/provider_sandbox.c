/* provider_sandbox.c - the provider adapter for the sandbox card processor.
 *
 * Speaks the sandbox's Stripe-like API (docs/payments.md) over real HTTP,
 * even when the sandbox runs in the same process: it is an external system,
 * reached by URL (SHOPSPHERE_SANDBOX_PAYMENT_URL). libcurl stays inside this
 * file; one easy handle per thread keeps connections alive. Idempotency keys
 * derive from our own ids ("<order_id>:create", "<order_id>:confirm", the
 * capture/void/refund keys the service passes), so a repeat after a lost
 * answer is answered, not executed again.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit/err.h"
#include "kit/http.h"
#include "kit/log.h"
#include "kit/trace.h"
#include "services/payment/provider.h"

struct sandbox_adapter {
  char base_url[600];
  int timeout_ms;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static pthread_key_t handle_key;

static void free_handle(void *h) { curl_easy_cleanup(h); }

static void curl_setup(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  pthread_key_create(&handle_key, free_handle);
}

static CURL *thread_handle(void) {
  pthread_once(&curl_once, curl_setup);
  CURL *h = pthread_getspecific(handle_key);
  if (h == NULL) {
    h = curl_easy_init();
    if (h != NULL) pthread_setspecific(handle_key, h);
  } else {
    curl_easy_reset(h);
  }
  return h;
}

struct buffer {
  char *data;
  size_t len;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata) {
  struct buffer *b = userdata;
  size_t n = size * nmemb;
  if (b->len + n > 1024 * 1024) return 0; /* a sandbox answer is small */
  char *p = realloc(b->data, b->len + n + 1);
  if (p == NULL) return 0;
  memcpy(p + b->len, ptr, n);
  b->len += n;
  p[b->len] = '\0';
  b->data = p;
  return n;
}

/* One HTTP exchange bounded by timeout_ms. On KIT_OK, *status and *json
 * (parsed body, caller decrefs; NULL when not JSON) hold the answer. */
static int http_call(struct sandbox_adapter *a, int timeout_ms,
                     const char *method, const char *path, json_t *body,
                     const char *idem_key, long *status, json_t **json) {
  *status = 0;
  *json = NULL;
  CURL *h = thread_handle();
  if (h == NULL) return KIT_UNAVAILABLE;
  char url[1200];
  snprintf(url, sizeof url, "%s%s", a->base_url, path);
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  struct curl_slist *headers = NULL;
  struct buffer resp = {0};
  int rc = KIT_UNAVAILABLE;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");
  /* The processor is an external system, but ours speaks W3C trace
   * context, so its spans join the checkout's trace. */
  struct trace_span span;
  char span_name[96];
  snprintf(span_name, sizeof span_name, "%s %s", method, path);
  trace_span_begin(&span, span_name, TRACE_CLIENT, NULL, NULL, NULL, NULL);
  trace_span_attr(&span, "peer.service", "sandbox-payment");
  if (span.active) {
    char tp[56], line[80];
    http_format_traceparent(span.trace_id, span.span_id, tp);
    snprintf(line, sizeof line, "traceparent: %s", tp);
    headers = curl_slist_append(headers, line);
  }
  if (idem_key != NULL) {
    char line[300];
    snprintf(line, sizeof line, "Idempotency-Key: %s", idem_key);
    headers = curl_slist_append(headers, line);
  }
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  if (text != NULL) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text));
  } else if (strcmp(method, "POST") == 0) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   (long)(timeout_ms < 2000 ? timeout_ms : 2000));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
  CURLcode cc = curl_easy_perform(h);
  if (cc != CURLE_OK) {
    log_warn("sandbox provider %s %s: %s", method, path,
             curl_easy_strerror(cc));
    rc = cc == CURLE_OPERATION_TIMEDOUT ? KIT_TIMEOUT : KIT_UNAVAILABLE;
    goto cleanup;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
  if (resp.data != NULL) *json = json_loadb(resp.data, resp.len, 0, NULL);
  rc = KIT_OK;
cleanup:
  trace_span_attr_int(&span, "http.response.status_code", *status);
  trace_span_end(&span, rc != KIT_OK || *status >= 500);
  curl_slist_free_all(headers);
  free(resp.data);
  free(text);
  return rc;
}

static void copy_str(char *dst, size_t size, json_t *v) {
  snprintf(dst, size, "%s", json_is_string(v) ? json_string_value(v) : "");
}

static int64_t get_int(json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

int provider_sandbox_parse_intent(const void *json,
                                  struct provider_intent *out) {
  json_t *o = (json_t *)json;
  memset(out, 0, sizeof *out);
  if (!json_is_object(o)) return -1;
  const char *object = json_string_value(json_object_get(o, "object"));
  bool charge = object != NULL && strcmp(object, "charge") == 0;
  json_t *meta = json_object_get(o, "metadata");
  copy_str(out->order_id, sizeof out->order_id,
           json_object_get(meta, "order_id"));
  const char *cur = json_string_value(json_object_get(o, "currency"));
  for (int i = 0; cur && i < 3 && cur[i]; i++)
    out->currency[i] =
        (char)(cur[i] >= 'a' && cur[i] <= 'z' ? cur[i] - 32 : cur[i]);
  out->amount = get_int(o, "amount");
  out->amount_refunded = get_int(o, "amount_refunded");
  if (charge) {
    /* A charge exists only once money moved. */
    copy_str(out->id, sizeof out->id, json_object_get(o, "payment_intent"));
    out->amount_received = get_int(o, "amount_captured");
    out->state = PROVIDER_CAPTURED;
    return out->id[0] ? 0 : -1;
  }
  if (object == NULL || strcmp(object, "payment_intent") != 0) return -1;
  copy_str(out->id, sizeof out->id, json_object_get(o, "id"));
  out->amount_capturable = get_int(o, "amount_capturable");
  out->amount_received = get_int(o, "amount_received");
  json_t *card = json_object_get(o, "card");
  copy_str(out->brand, sizeof out->brand, json_object_get(card, "brand"));
  copy_str(out->last4, sizeof out->last4, json_object_get(card, "last4"));
  json_t *err = json_object_get(o, "last_payment_error");
  const char *status = json_string_value(json_object_get(o, "status"));
  if (status == NULL || out->id[0] == '\0') return -1;
  if (strcmp(status, "requires_capture") == 0) {
    out->state = PROVIDER_AUTHORIZED;
  } else if (strcmp(status, "succeeded") == 0) {
    out->state = PROVIDER_CAPTURED;
  } else if (strcmp(status, "canceled") == 0) {
    out->state = PROVIDER_CANCELED;
  } else if (strcmp(status, "requires_payment_method") == 0 &&
             json_is_object(err)) {
    out->state = PROVIDER_DECLINED;
    copy_str(out->decline_code, sizeof out->decline_code,
             json_object_get(err, "decline_code"));
  } else {
    out->state = PROVIDER_PENDING;
  }
  return 0;
}

/* Maps an answer to a result; fills out from the intent in the body (or in
 * error.payment_intent for a decline). */
static enum provider_result intent_result(int rc, long status, json_t *body,
                                          struct provider_intent *out) {
  if (rc == KIT_TIMEOUT) return PROVIDER_RESULT_TIMEOUT;
  if (rc != KIT_OK || status >= 500 || status == 0)
    return PROVIDER_RESULT_UNAVAILABLE;
  if (status == 402) {
    json_t *pi =
        json_object_get(json_object_get(body, "error"), "payment_intent");
    if (provider_sandbox_parse_intent(pi, out) != 0)
      return PROVIDER_RESULT_UNAVAILABLE;
    out->state = PROVIDER_DECLINED;
    return PROVIDER_RESULT_DECLINED;
  }
  if (status == 404) return PROVIDER_RESULT_NOT_FOUND;
  if (status == 409) return PROVIDER_RESULT_UNAVAILABLE; /* key in use */
  if (status >= 400) return PROVIDER_RESULT_REJECTED;
  if (provider_sandbox_parse_intent(body, out) != 0)
    return PROVIDER_RESULT_UNAVAILABLE;
  return PROVIDER_RESULT_OK;
}

static enum provider_result
confirm_within(struct sandbox_adapter *a, int timeout_ms, const char *intent_id,
               const char *order_id, struct provider_intent *out) {
  char path[200], key[200];
  snprintf(path, sizeof path, "/v1/payment_intents/%s/confirm", intent_id);
  snprintf(key, sizeof key, "%s:confirm", order_id);
  long status;
  json_t *body;
  int rc = http_call(a, timeout_ms, "POST", path, NULL, key, &status, &body);
  enum provider_result r = intent_result(rc, status, body, out);
  json_decref(body);
  return r;
}

static enum provider_result sb_confirm(struct provider *p,
                                       const char *intent_id,
                                       const char *order_id,
                                       struct provider_intent *out) {
  struct sandbox_adapter *a = p->impl;
  return confirm_within(a, a->timeout_ms, intent_id, order_id, out);
}

static int64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Create and confirm share one budget of timeout_ms, so the caller (the
 * order service, with its own timeout) hears back in time. */
static enum provider_result
sb_authorize(struct provider *p, const struct provider_authorize_request *req,
             struct provider_intent *out) {
  struct sandbox_adapter *a = p->impl;
  memset(out, 0, sizeof *out);
  json_t *meta = json_object();
  json_object_set_new(meta, "order_id", json_string(req->order_id));
  json_t *create = json_object();
  json_object_set_new(create, "amount", json_integer(req->amount));
  json_object_set_new(create, "currency", json_string(req->currency));
  json_object_set_new(create, "payment_method", json_string(req->token));
  json_object_set_new(create, "capture_method", json_string("manual"));
  json_object_set_new(create, "metadata", meta);
  char key[200];
  snprintf(key, sizeof key, "%s:create", req->order_id);
  long status;
  json_t *body;
  int64_t started = monotonic_ms();
  int rc = http_call(a, a->timeout_ms, "POST", "/v1/payment_intents", create,
                     key, &status, &body);
  json_decref(create);
  enum provider_result r = intent_result(rc, status, body, out);
  json_decref(body);
  if (r != PROVIDER_RESULT_OK) return r;
  char id[PROVIDER_ID_MAX];
  memcpy(id, out->id, sizeof id);
  int64_t left = a->timeout_ms - (monotonic_ms() - started);
  r = confirm_within(a, left < 100 ? 100 : (int)left, id, req->order_id, out);
  if (out->id[0] == '\0') memcpy(out->id, id, sizeof id);
  return r;
}

static enum provider_result sb_capture(struct provider *p,
                                       const char *intent_id, int64_t amount,
                                       const char *idempotency_key,
                                       struct provider_intent *out) {
  struct sandbox_adapter *a = p->impl;
  char path[200];
  snprintf(path, sizeof path, "/v1/payment_intents/%s/capture", intent_id);
  json_t *req = json_object();
  json_object_set_new(req, "amount_to_capture", json_integer(amount));
  long status;
  json_t *body;
  int rc = http_call(a, a->timeout_ms, "POST", path, req, idempotency_key,
                     &status, &body);
  json_decref(req);
  enum provider_result r = intent_result(rc, status, body, out);
  json_decref(body);
  return r;
}

static enum provider_result sb_cancel(struct provider *p, const char *intent_id,
                                      const char *idempotency_key,
                                      struct provider_intent *out) {
  struct sandbox_adapter *a = p->impl;
  char path[200];
  snprintf(path, sizeof path, "/v1/payment_intents/%s/cancel", intent_id);
  long status;
  json_t *body;
  int rc = http_call(a, a->timeout_ms, "POST", path, NULL, idempotency_key,
                     &status, &body);
  enum provider_result r = intent_result(rc, status, body, out);
  json_decref(body);
  return r;
}

static enum provider_result sb_refund(struct provider *p, const char *intent_id,
                                      int64_t amount,
                                      const char *idempotency_key,
                                      char refund_id[PROVIDER_ID_MAX]) {
  struct sandbox_adapter *a = p->impl;
  refund_id[0] = '\0';
  json_t *req = json_object();
  json_object_set_new(req, "payment_intent", json_string(intent_id));
  json_object_set_new(req, "amount", json_integer(amount));
  long status;
  json_t *body;
  int rc = http_call(a, a->timeout_ms, "POST", "/v1/refunds", req,
                     idempotency_key, &status, &body);
  json_decref(req);
  enum provider_result r;
  if (rc == KIT_TIMEOUT)
    r = PROVIDER_RESULT_TIMEOUT;
  else if (rc != KIT_OK || status >= 500 || status == 409 || status == 0)
    r = PROVIDER_RESULT_UNAVAILABLE;
  else if (status == 404)
    r = PROVIDER_RESULT_NOT_FOUND;
  else if (status >= 400)
    r = PROVIDER_RESULT_REJECTED;
  else {
    copy_str(refund_id, PROVIDER_ID_MAX, json_object_get(body, "id"));
    r = refund_id[0] ? PROVIDER_RESULT_OK : PROVIDER_RESULT_UNAVAILABLE;
  }
  json_decref(body);
  return r;
}

static enum provider_result sb_get(struct provider *p, const char *intent_id,
                                   struct provider_intent *out) {
  struct sandbox_adapter *a = p->impl;
  char path[200];
  snprintf(path, sizeof path, "/v1/payment_intents/%s", intent_id);
  long status;
  json_t *body;
  int rc = http_call(a, a->timeout_ms, "GET", path, NULL, NULL, &status, &body);
  enum provider_result r = intent_result(rc, status, body, out);
  json_decref(body);
  return r;
}

static enum provider_result sb_find_by_order(struct provider *p,
                                             const char *order_id,
                                             struct provider_intent *out,
                                             size_t max, size_t *count) {
  struct sandbox_adapter *a = p->impl;
  *count = 0;
  char path[200];
  char *escaped = curl_easy_escape(NULL, order_id, 0);
  if (escaped == NULL) return PROVIDER_RESULT_UNAVAILABLE;
  snprintf(path, sizeof path, "/v1/payment_intents?order_id=%s", escaped);
  curl_free(escaped);
  long status;
  json_t *body;
  int rc = http_call(a, a->timeout_ms, "GET", path, NULL, NULL, &status, &body);
  enum provider_result r = PROVIDER_RESULT_OK;
  json_t *data = json_object_get(body, "data");
  if (rc == KIT_TIMEOUT)
    r = PROVIDER_RESULT_TIMEOUT;
  else if (rc != KIT_OK || status != 200 || !json_is_array(data))
    r = PROVIDER_RESULT_UNAVAILABLE;
  else {
    size_t n = json_array_size(data);
    for (size_t i = 0; i < n && i < max; i++) {
      if (provider_sandbox_parse_intent(json_array_get(data, i), &out[i]) !=
          0) {
        r = PROVIDER_RESULT_UNAVAILABLE;
        break;
      }
    }
    *count = n;
  }
  json_decref(body);
  return r;
}

static int sb_parse_event(struct provider *p, const char *text, size_t len,
                          struct provider_event *out) {
  (void)p;
  memset(out, 0, sizeof *out);
  json_t *ev = json_loadb(text, len, 0, NULL);
  int rc = -1;
  if (!json_is_object(ev)) goto cleanup;
  const char *id = json_string_value(json_object_get(ev, "id"));
  const char *type = json_string_value(json_object_get(ev, "type"));
  if (id == NULL || type == NULL || strlen(id) >= sizeof out->id ||
      strlen(type) >= sizeof out->type)
    goto cleanup;
  snprintf(out->id, sizeof out->id, "%s", id);
  snprintf(out->type, sizeof out->type, "%s", type);
  json_t *object = json_object_get(json_object_get(ev, "data"), "object");
  if (strncmp(type, "payment_intent.", 15) == 0 ||
      strncmp(type, "charge.", 7) == 0) {
    if (provider_sandbox_parse_intent(object, &out->intent) != 0) goto cleanup;
    out->has_intent = 1;
  }
  rc = 0;
cleanup:
  json_decref(ev);
  return rc;
}

static void sb_destroy(struct provider *p) {
  if (p == NULL) return;
  free(p->impl);
  free(p);
}

struct provider *provider_sandbox_create(const char *base_url, int timeout_ms) {
  struct provider *p = calloc(1, sizeof *p);
  struct sandbox_adapter *a = calloc(1, sizeof *a);
  if (p == NULL || a == NULL) {
    free(p);
    free(a);
    return NULL;
  }
  snprintf(a->base_url, sizeof a->base_url, "%s", base_url);
  a->timeout_ms = timeout_ms;
  p->name = "sandbox";
  p->signature_header = "Sandbox-Signature";
  p->impl = a;
  p->authorize = sb_authorize;
  p->confirm = sb_confirm;
  p->capture = sb_capture;
  p->cancel = sb_cancel;
  p->refund = sb_refund;
  p->get = sb_get;
  p->find_by_order = sb_find_by_order;
  p->parse_event = sb_parse_event;
  p->destroy = sb_destroy;
  return p;
}
