/* client.c - inter-service calls: in-process dispatch or HTTP over libcurl.
 *
 * Remote calls reuse one curl easy handle per thread and upstream, so
 * connections stay alive between calls without a shared pool lock. Each
 * upstream has a circuit breaker; idempotent methods are retried on transport
 * failures and 502/503/504 with exponential backoff and full jitter.
 */
#include "kit/client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "kit/auth.h"
#include "kit/log.h"
#include "kit/metrics.h"
#include "kit/trace.h"
#include "kit/service.h"

struct client {
  const struct config *cfg;
  struct service *local[SVC_COUNT];
  struct breaker breakers[SVC_COUNT];
  pthread_key_t handles_key; /* per-thread CURL *[SVC_COUNT] */
  struct metric_family *calls_total;
  struct metric_family *breaker_gauge;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_global(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static void free_thread_handles(void *p) {
  CURL **handles = p;
  for (int i = 0; i < SVC_COUNT; i++) {
    if (handles[i] != NULL) curl_easy_cleanup(handles[i]);
  }
  free(handles);
}

static double breaker_state_value(void *arg) {
  return (double)breaker_state(arg, clock_monotonic_ms());
}

struct client *client_create(const struct config *cfg) {
  pthread_once(&curl_once, curl_global);
  struct client *c = calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  c->cfg = cfg;
  if (pthread_key_create(&c->handles_key, free_thread_handles) != 0) {
    free(c);
    return NULL;
  }
  static const char *const call_labels[] = {"upstream", "outcome", NULL};
  static const char *const breaker_labels[] = {"upstream", NULL};
  c->calls_total = metric_family("upstream_calls_total",
                                 "Calls to other services by outcome",
                                 METRIC_COUNTER, call_labels, NULL, 0);
  c->breaker_gauge = metric_family(
      "upstream_breaker_state",
      "Circuit breaker per upstream: 0 closed, 1 open, 2 half-open",
      METRIC_GAUGE, breaker_labels, NULL, 0);
  for (int i = 0; i < SVC_COUNT; i++) {
    breaker_init(&c->breakers[i], cfg->breaker_volume,
                 cfg->breaker_error_percent, cfg->breaker_sleep_ms);
    const char *const labels[] = {service_name((enum service_id)i)};
    metric_gauge_callback(c->breaker_gauge, labels, breaker_state_value,
                          &c->breakers[i]);
  }
  return c;
}

void client_destroy(struct client *c) {
  if (c == NULL) return;
  /* The calling thread's handles; other threads free theirs on exit. */
  void *mine = pthread_getspecific(c->handles_key);
  if (mine != NULL) {
    free_thread_handles(mine);
    pthread_setspecific(c->handles_key, NULL);
  }
  pthread_key_delete(c->handles_key);
  for (int i = 0; i < SVC_COUNT; i++) breaker_destroy(&c->breakers[i]);
  free(c);
}

void client_register_local(struct client *c, enum service_id id,
                           struct service *svc) {
  if ((unsigned)id < SVC_COUNT) c->local[id] = svc;
}

bool client_is_local(const struct client *c, enum service_id id) {
  return (unsigned)id < SVC_COUNT && c->local[id] != NULL;
}

enum breaker_state client_breaker_state(struct client *c,
                                        enum service_id target) {
  return breaker_state(&c->breakers[target], clock_monotonic_ms());
}

static bool method_idempotent(const char *m) {
  return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 ||
         strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0 ||
         strcmp(m, "OPTIONS") == 0;
}

/* Headers the client sets itself or that describe one hop only. */
static bool header_is_ours(const char *name) {
  static const char *const names[] = {
      "x-request-id", "traceparent", "host", "content-length", "connection",
      "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
      "proxy-authorization", "proxy-connection", "expect", "content-type",
      "x-internal-token" /* a caller's own never travels on: we set ours */};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp(name, names[i]) == 0) return true;
  return false;
}

static bool has_header(const struct client_request *r, const char *name) {
  for (size_t i = 0; i < r->header_count; i++)
    if (strcasecmp(r->headers[i].name, name) == 0) return true;
  return false;
}

static void count_call(struct client *c, enum service_id target,
                       const char *outcome) {
  const char *const labels[] = {service_name(target), outcome};
  metric_inc(c->calls_total, labels, 1);
}

/* --- in-process ------------------------------------------------------- */

static int call_local(struct client *c, struct service *svc,
                      const struct client_request *r, const char *traceparent,
                      struct http_response *out) {
  struct arena arena;
  arena_init(&arena, 2048);
  struct http_request req;
  memset(&req, 0, sizeof req);
  req.arena = &arena;
  req.svc = svc;
  req.method = r->method;
  req.client_ip = "";
  char *target = arena_strdup(&arena, r->path);
  char *q = target ? strchr(target, '?') : NULL;
  if (q != NULL) *q = '\0';
  req.path = target ? target : "/";
  req.query = q ? q + 1 : "";
  req.body = r->body ? r->body : "";
  req.body_len = r->body ? r->body_len : 0;
  if (r->body != NULL && r->body[r->body_len] != '\0') {
    /* Handlers rely on a NUL-terminated body. */
    req.body = arena_strndup(&arena, r->body, r->body_len);
  }

  for (size_t i = 0; i < r->header_count && req.header_count < HTTP_MAX_HEADERS;
       i++) {
    if (header_is_ours(r->headers[i].name)) continue;
    req.headers[req.header_count++] = r->headers[i];
  }
  const struct http_request *parent = r->parent;
  if (parent != NULL) {
    const char *auth = http_header(parent, "Authorization");
    if (auth != NULL && !has_header(r, "Authorization") &&
        req.header_count < HTTP_MAX_HEADERS)
      req.headers[req.header_count++] =
          (struct http_header){"Authorization", auth};
    if (req.header_count < HTTP_MAX_HEADERS)
      req.headers[req.header_count++] =
          (struct http_header){"X-Request-Id", parent->request_id};
  }
  if (traceparent[0] != '\0' && req.header_count < HTTP_MAX_HEADERS)
    req.headers[req.header_count++] =
        (struct http_header){"traceparent", traceparent};
  if (r->body != NULL && req.header_count < HTTP_MAX_HEADERS)
    req.headers[req.header_count++] = (struct http_header){
        "Content-Type", r->content_type ? r->content_type : "application/json"};

  http_response_init(out);
  http_handle(&svc->router, svc->name, &req, out);
  arena_free(&arena);
  count_call(c, svc->module->id, "local");
  return KIT_OK;
}

/* --- over HTTP -------------------------------------------------------- */

static CURL *thread_handle(struct client *c, enum service_id target) {
  CURL **handles = pthread_getspecific(c->handles_key);
  if (handles == NULL) {
    handles = calloc(SVC_COUNT, sizeof *handles);
    if (handles == NULL) return NULL;
    pthread_setspecific(c->handles_key, handles);
  }
  if (handles[target] == NULL) {
    handles[target] = curl_easy_init();
  } else {
    curl_easy_reset(handles[target]); /* keeps its live connection */
  }
  return handles[target];
}

struct body_buf {
  char *data;
  size_t len, cap;
  int overflow;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata) {
  struct body_buf *b = userdata;
  size_t n = size * nmemb;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1) cap *= 2;
    if (cap > (size_t)64 << 20) { /* an upstream answer of 64 MiB is a bug */
      b->overflow = 1;
      return 0;
    }
    char *grown = realloc(b->data, cap);
    if (grown == NULL) return 0;
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, ptr, n);
  b->len += n;
  b->data[b->len] = '\0';
  return n;
}

static size_t on_header(char *buffer, size_t size, size_t nitems,
                        void *userdata) {
  struct http_response *out = userdata;
  size_t n = size * nitems;
  char line[1024];
  if (n >= sizeof line || n < 3) return n;
  memcpy(line, buffer, n);
  line[n] = '\0';
  if (strncmp(line, "HTTP/", 5) == 0) {
    /* A new response (after a redirect or 100-continue): start over. */
    for (size_t i = 0; i < out->header_count; i++) {
      free((char *)out->headers[i].name);
      free((char *)out->headers[i].value);
    }
    out->header_count = 0;
    return n;
  }
  char *colon = strchr(line, ':');
  if (colon == NULL) return n;
  *colon = '\0';
  char *value = colon + 1;
  while (*value == ' ' || *value == '\t') value++;
  char *end = value + strlen(value);
  while (end > value && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
    *--end = '\0';
  if (strcasecmp(line, "Content-Type") == 0) {
    snprintf(out->content_type, sizeof out->content_type, "%s", value);
    return n;
  }
  if (strcasecmp(line, "Content-Length") == 0 ||
      strcasecmp(line, "Connection") == 0 ||
      strcasecmp(line, "Transfer-Encoding") == 0 ||
      strcasecmp(line, "Keep-Alive") == 0 || strcasecmp(line, "Date") == 0)
    return n;
  http_response_header(out, line, value);
  return n;
}

/* One HTTP attempt. Returns KIT_OK with *out filled, KIT_TIMEOUT or
 * KIT_UNAVAILABLE (out untouched but for headers). */
static int attempt_remote(struct client *c, enum service_id target,
                          const struct client_request *r,
                          const char *traceparent, int timeout_ms,
                          struct http_response *out) {
  CURL *h = thread_handle(c, target);
  if (h == NULL) return KIT_UNAVAILABLE;

  char url[CONFIG_URL_MAX + 2048];
  snprintf(url, sizeof url, "%s%s", c->cfg->urls[target], r->path);

  struct curl_slist *headers = NULL;
  char line[2048];
  for (size_t i = 0; i < r->header_count; i++) {
    if (header_is_ours(r->headers[i].name)) continue;
    snprintf(line, sizeof line, "%s: %s", r->headers[i].name,
             r->headers[i].value);
    headers = curl_slist_append(headers, line);
  }
  if (r->parent != NULL) {
    const char *auth = http_header(r->parent, "Authorization");
    if (auth != NULL && !has_header(r, "Authorization")) {
      snprintf(line, sizeof line, "Authorization: %s", auth);
      headers = curl_slist_append(headers, line);
    }
    snprintf(line, sizeof line, "X-Request-Id: %s", r->parent->request_id);
    headers = curl_slist_append(headers, line);
  }
  if (traceparent[0] != '\0') {
    snprintf(line, sizeof line, "traceparent: %s", traceparent);
    headers = curl_slist_append(headers, line);
  }
  if (r->body != NULL) {
    snprintf(line, sizeof line, "Content-Type: %s",
             r->content_type ? r->content_type : "application/json");
    headers = curl_slist_append(headers, line);
  }
  headers = curl_slist_append(headers, "Expect:");
  /* Proves to ACCESS_INTERNAL routes that the call comes from a service. */
  if (c->cfg->internal_secret[0] != '\0') {
    snprintf(line, sizeof line, "%s: %s", AUTH_INTERNAL_HEADER,
             c->cfg->internal_secret);
    headers = curl_slist_append(headers, line);
  }

  struct body_buf body = {0};
  curl_easy_setopt(h, CURLOPT_URL, url);
  /* Send the path exactly as given: curl would otherwise squash "/../",
   * and a public path like /api/v1/users/../../internal/... forwarded by
   * the gateway would reach an internal route with our internal token. */
  curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
  if (strcmp(r->method, "HEAD") == 0) curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (r->body != NULL) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   (long)(timeout_ms < 2000 ? timeout_ms : 2000));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, out);

  CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    free(body.data);
    log_warn("call to %s %s failed: %s", service_name(target), r->path,
             curl_easy_strerror(rc));
    return rc == CURLE_OPERATION_TIMEDOUT ? KIT_TIMEOUT : KIT_UNAVAILABLE;
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  out->status = (unsigned)status;
  free(out->body);
  out->body = body.data ? body.data : calloc(1, 1);
  out->body_len = body.len;
  return KIT_OK;
}

static void reply_transport_error(struct http_response *out,
                                  const struct client_request *r,
                                  enum service_id target, int rc) {
  http_response_clear(out);
  char msg[128];
  if (rc == KIT_TIMEOUT) {
    snprintf(msg, sizeof msg, "the %s service did not answer in time",
             service_name(target));
    http_reply_error(out, r->parent, API_TIMEOUT_ERROR, msg, NULL);
  } else {
    snprintf(msg, sizeof msg, "the %s service is unavailable",
             service_name(target));
    http_reply_error(out, r->parent, API_SERVICE_UNAVAILABLE, msg, NULL);
  }
}

static int call_remote(struct client *c, enum service_id target,
                       const struct client_request *r, const char *traceparent,
                       struct http_response *out) {
  struct breaker *b = &c->breakers[target];
  int timeout_ms = r->timeout_ms > 0 ? r->timeout_ms : c->cfg->upstream_timeout_ms;
  bool idempotent = method_idempotent(r->method);
  int retries = 0;
  if (idempotent && r->retries >= 0)
    retries = r->retries > 0 ? r->retries : c->cfg->upstream_retries;

  int rc = KIT_UNAVAILABLE;
  for (int attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) {
      int64_t delay = backoff_delay_ms(attempt, 50, 1000, backoff_random01());
      usleep((useconds_t)delay * 1000);
    }
    if (!breaker_allow(b, clock_monotonic_ms())) {
      count_call(c, target, "breaker_open");
      http_response_clear(out);
      char msg[128];
      snprintf(msg, sizeof msg,
               "the %s service is unavailable (circuit open)",
               service_name(target));
      http_reply_error(out, r->parent, API_SERVICE_UNAVAILABLE, msg, NULL);
      return KIT_UNAVAILABLE;
    }
    http_response_clear(out);
    rc = attempt_remote(c, target, r, traceparent, timeout_ms, out);
    bool failed = rc != KIT_OK || out->status >= 500;
    breaker_record(b, !failed, clock_monotonic_ms());
    if (rc == KIT_OK) {
      bool retryable = out->status == 502 || out->status == 503 ||
                       out->status == 504;
      count_call(c, target, failed ? "error_status" : "ok");
      if (!retryable || attempt == retries) return KIT_OK;
    } else {
      count_call(c, target, rc == KIT_TIMEOUT ? "timeout" : "unavailable");
      /* A timeout may have been processed: only idempotent calls retry,
       * which the loop bound already ensures. */
    }
  }
  reply_transport_error(out, r, target, rc);
  return rc;
}

int client_call(struct client *c, enum service_id target,
                const struct client_request *r, struct http_response *out) {
  http_response_init(out);
  if ((unsigned)target >= SVC_COUNT) {
    http_reply_error(out, r->parent, API_INTERNAL_ERROR, "unknown service",
                     NULL);
    return KIT_ERROR;
  }
  /* The call's own span is the parent of the callee's server span. */
  struct trace_span span;
  char name[96];
  snprintf(name, sizeof name, "%s %.*s", r->method,
           (int)strcspn(r->path, "?"), r->path);
  const struct http_request *p = r->parent;
  trace_span_begin(&span, name, TRACE_CLIENT, NULL, p ? p->trace_id : NULL,
                   p ? p->span_id : NULL, NULL);
  trace_span_attr(&span, "peer.service", service_name(target));
  char traceparent[56] = "";
  if (span.active)
    http_format_traceparent(span.trace_id, span.span_id, traceparent);
  else if (p != NULL)
    http_format_traceparent(p->trace_id, p->span_id, traceparent);

  int rc;
  struct service *local = c->local[target];
  if (local != NULL) {
    /* Co-hosted services start one after another; until the target's start
     * hook has run its state does not exist, so answer as a remote service
     * that is not listening yet would. */
    if (!atomic_load(&local->ready)) {
      http_reply_error(out, r->parent, API_SERVICE_UNAVAILABLE,
                       "the service is starting or stopping", NULL);
      rc = KIT_UNAVAILABLE;
    } else {
      rc = call_local(c, local, r, traceparent, out);
    }
  } else {
    rc = call_remote(c, target, r, traceparent, out);
  }
  trace_span_attr_int(&span, "http.response.status_code", (long)out->status);
  trace_span_end(&span, rc != KIT_OK || out->status >= 500);
  return rc;
}
