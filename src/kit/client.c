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
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
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

/* The request headers of a remote call (caller frees with
 * curl_slist_free_all). */
static struct curl_slist *build_headers(struct client *c,
                                        const struct client_request *r,
                                        const char *traceparent) {
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
  return headers;
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
  struct curl_slist *headers = build_headers(c, r, traceparent);

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

/* --- streamed answers (client_request.stream) ------------------------- */

/* Limit of bytes received and not yet read by the downstream: a client
 * that stops reading a stream loses it rather than growing our memory. */
#define STREAM_BUFFER_MAX (1u << 20)

/* One streamed call: a thread runs the transfer; the downstream reads what
 * it buffered through an http_stream. Freed by the last of the two. */
struct remote_stream {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  CURL *h;
  struct curl_slist *headers;
  char *url;
  char *body;
  struct http_response head; /* status line and headers, until headers_done */
  bool headers_done, finished, cancelled;
  CURLcode result;
  char *buf;
  size_t len, cap, off;
  struct http_stream *stream; /* set once handed out; NULL after close */
  int refs;
};

static void remote_stream_unref(struct remote_stream *rs) {
  /* Called with rs->lock held; releases it. */
  bool last = --rs->refs == 0;
  pthread_mutex_unlock(&rs->lock);
  if (!last) return;
  curl_easy_cleanup(rs->h);
  curl_slist_free_all(rs->headers);
  http_response_clear(&rs->head);
  free(rs->url);
  free(rs->body);
  free(rs->buf);
  pthread_cond_destroy(&rs->cond);
  pthread_mutex_destroy(&rs->lock);
  free(rs);
}

static size_t stream_on_header(char *buffer, size_t size, size_t nitems,
                               void *userdata) {
  struct remote_stream *rs = userdata;
  size_t n = size * nitems;
  if (n <= 2 && (n == 0 || buffer[0] == '\r' || buffer[0] == '\n')) {
    long status = 0;
    curl_easy_getinfo(rs->h, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200) { /* not a 1xx interim answer */
      pthread_mutex_lock(&rs->lock);
      rs->head.status = (unsigned)status;
      rs->headers_done = true;
      pthread_cond_broadcast(&rs->cond);
      pthread_mutex_unlock(&rs->lock);
    }
    return n;
  }
  return on_header(buffer, size, nitems, &rs->head);
}

static size_t stream_on_body(char *ptr, size_t size, size_t nmemb,
                             void *userdata) {
  struct remote_stream *rs = userdata;
  size_t n = size * nmemb;
  pthread_mutex_lock(&rs->lock);
  if (rs->cancelled) {
    pthread_mutex_unlock(&rs->lock);
    return 0; /* aborts the transfer */
  }
  if (rs->off > 0 && rs->off == rs->len) rs->off = rs->len = 0;
  if (rs->len + n > rs->cap) {
    size_t need = rs->len - rs->off + n;
    if (need > STREAM_BUFFER_MAX) {
      pthread_mutex_unlock(&rs->lock);
      log_warn("streamed answer from %s: the reader is too slow; ending it",
               rs->url);
      return 0;
    }
    if (rs->off > 0) {
      memmove(rs->buf, rs->buf + rs->off, rs->len - rs->off);
      rs->len -= rs->off;
      rs->off = 0;
    }
    if (rs->len + n > rs->cap) {
      size_t cap = rs->cap ? rs->cap : 4096;
      while (cap < rs->len + n)
        cap *= 2;
      char *grown = realloc(rs->buf, cap);
      if (grown == NULL) {
        pthread_mutex_unlock(&rs->lock);
        return 0;
      }
      rs->buf = grown;
      rs->cap = cap;
    }
  }
  memcpy(rs->buf + rs->len, ptr, n);
  rs->len += n;
  http_stream_wake(rs->stream);
  pthread_mutex_unlock(&rs->lock);
  return n;
}

static int stream_on_progress(void *userdata, curl_off_t dt, curl_off_t dn,
                              curl_off_t ut, curl_off_t un) {
  (void)dt, (void)dn, (void)ut, (void)un;
  struct remote_stream *rs = userdata;
  pthread_mutex_lock(&rs->lock);
  bool cancelled = rs->cancelled;
  pthread_mutex_unlock(&rs->lock);
  return cancelled ? 1 : 0;
}

static void *stream_main(void *arg) {
  struct remote_stream *rs = arg;
  CURLcode rc = curl_easy_perform(rs->h);
  pthread_mutex_lock(&rs->lock);
  rs->finished = true;
  rs->result = rc;
  if (!rs->headers_done && rc == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(rs->h, CURLINFO_RESPONSE_CODE, &status);
    rs->head.status = (unsigned)status;
    rs->headers_done = true;
  }
  pthread_cond_broadcast(&rs->cond);
  http_stream_wake(rs->stream);
  remote_stream_unref(rs);
  return NULL;
}

static long stream_read(void *ctx, char *buf, size_t max) {
  struct remote_stream *rs = ctx;
  pthread_mutex_lock(&rs->lock);
  long n = 0;
  if (rs->off < rs->len) {
    size_t k = rs->len - rs->off < max ? rs->len - rs->off : max;
    memcpy(buf, rs->buf + rs->off, k);
    rs->off += k;
    n = (long)k;
  } else if (rs->finished) {
    n = HTTP_STREAM_END;
  }
  pthread_mutex_unlock(&rs->lock);
  return n;
}

static void stream_close(void *ctx) {
  struct remote_stream *rs = ctx;
  pthread_mutex_lock(&rs->lock);
  rs->cancelled = true;
  rs->stream = NULL;
  remote_stream_unref(rs);
}

/* A streamed call: no retries, no total timeout once the answer began;
 * timeout_ms bounds the wait for the status line and headers. */
static int call_remote_stream(struct client *c, enum service_id target,
                              const struct client_request *r,
                              const char *traceparent,
                              struct http_response *out) {
  struct breaker *b = &c->breakers[target];
  if (!breaker_allow(b, clock_monotonic_ms())) {
    count_call(c, target, "breaker_open");
    reply_transport_error(out, r, target, KIT_UNAVAILABLE);
    return KIT_UNAVAILABLE;
  }
  int timeout_ms =
      r->timeout_ms > 0 ? r->timeout_ms : c->cfg->upstream_timeout_ms;
  struct remote_stream *rs = calloc(1, sizeof *rs);
  if (rs == NULL) {
    reply_transport_error(out, r, target, KIT_UNAVAILABLE);
    return KIT_UNAVAILABLE;
  }
  pthread_mutex_init(&rs->lock, NULL);
  pthread_cond_init(&rs->cond, NULL);
  http_response_init(&rs->head);
  rs->refs = 1; /* the caller's, until the thread or the stream owns it */
  size_t url_len = strlen(c->cfg->urls[target]) + strlen(r->path) + 1;
  rs->url = malloc(url_len);
  rs->h = curl_easy_init();
  if (r->body != NULL) {
    rs->body = malloc(r->body_len + 1);
    if (rs->body != NULL) memcpy(rs->body, r->body, r->body_len);
  }
  if (rs->url == NULL || rs->h == NULL || (r->body != NULL && !rs->body)) {
    pthread_mutex_lock(&rs->lock);
    remote_stream_unref(rs);
    reply_transport_error(out, r, target, KIT_UNAVAILABLE);
    return KIT_UNAVAILABLE;
  }
  snprintf(rs->url, url_len, "%s%s", c->cfg->urls[target], r->path);
  rs->headers = build_headers(c, r, traceparent);
  CURL *h = rs->h;
  curl_easy_setopt(h, CURLOPT_URL, rs->url);
  curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
  if (rs->body != NULL) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, rs->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, rs->headers);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   (long)(timeout_ms < 2000 ? timeout_ms : 2000));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, stream_on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, rs);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, stream_on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, rs);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, stream_on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, rs);

  rs->refs = 2; /* the caller's and the thread's */
  pthread_t thread;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int started = pthread_create(&thread, &attr, stream_main, rs);
  pthread_attr_destroy(&attr);
  pthread_mutex_lock(&rs->lock);
  if (started != 0) {
    rs->refs = 1;
    remote_stream_unref(rs);
    reply_transport_error(out, r, target, KIT_UNAVAILABLE);
    return KIT_UNAVAILABLE;
  }
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += timeout_ms / 1000;
  until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  int wait = 0;
  while (!rs->headers_done && !rs->finished && wait == 0)
    wait = pthread_cond_timedwait(&rs->cond, &rs->lock, &until);
  if (!rs->headers_done) {
    int rc = rs->finished && rs->result != CURLE_OPERATION_TIMEDOUT
                 ? KIT_UNAVAILABLE
                 : KIT_TIMEOUT;
    rs->cancelled = true; /* the thread ends the transfer and frees rs */
    breaker_record(b, false, clock_monotonic_ms());
    count_call(c, target, rc == KIT_TIMEOUT ? "timeout" : "unavailable");
    log_warn("streamed call to %s %s failed", service_name(target), r->path);
    remote_stream_unref(rs);
    reply_transport_error(out, r, target, rc);
    return rc;
  }
  struct http_stream *stream =
      http_stream_create(stream_read, stream_close, rs);
  if (stream == NULL) {
    rs->cancelled = true;
    remote_stream_unref(rs);
    reply_transport_error(out, r, target, KIT_UNAVAILABLE);
    return KIT_UNAVAILABLE;
  }
  /* The answer's head moves to out; the caller's reference to the stream. */
  *out = rs->head;
  http_response_init(&rs->head);
  out->stream = stream;
  rs->stream = stream;
  breaker_record(b, out->status < 500, clock_monotonic_ms());
  count_call(c, target, out->status >= 500 ? "error_status" : "ok");
  pthread_mutex_unlock(&rs->lock);
  return KIT_OK;
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
  } else if (r->stream) {
    rc = call_remote_stream(c, target, r, traceparent, out);
  } else {
    rc = call_remote(c, target, r, traceparent, out);
  }
  trace_span_attr_int(&span, "http.response.status_code", (long)out->status);
  trace_span_end(&span, rc != KIT_OK || out->status >= 500);
  return rc;
}
