/* trace.c - spans, their bounded queue and the OTLP/HTTP JSON exporter
 * (trace.h). One exporter thread per process; callers only take a mutex
 * long enough to copy a span into the ring. */
#include "kit/trace.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit/err.h"
#include "kit/log.h"
#include "kit/metrics.h"
#include "kit/uuid.h"

#define QUEUE_CAPACITY 4096 /* spans; about 1.5 MiB, only when enabled */
#define BATCH_MAX 512
#define FLUSH_INTERVAL_MS 1000
#define POST_TIMEOUT_MS 2000

struct exporter {
  pthread_mutex_t lock;
  pthread_cond_t wake;
  pthread_t thread;
  atomic_bool running; /* read without the lock by span begin/end */
  bool stopping;
  struct trace_span *ring; /* QUEUE_CAPACITY */
  size_t head, count;      /* oldest at head */
  char url[CONFIG_URL_MAX + 16];
  struct metric_family *dropped, *exported, *failed;
};

static struct exporter exp_state = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
};
static _Thread_local struct trace_current current;

bool trace_enabled(void) { return atomic_load(&exp_state.running); }

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void copy(char *dst, size_t size, const char *src) {
  snprintf(dst, size, "%s", src != NULL ? src : "");
}

/* --- context ----------------------------------------------------------------
 */

void trace_current_set(const char *trace_id, const char *span_id,
                       struct trace_current *saved) {
  if (saved != NULL) *saved = current;
  copy(current.trace_id, sizeof current.trace_id, trace_id);
  copy(current.span_id, sizeof current.span_id, span_id);
}

void trace_current_restore(const struct trace_current *saved) {
  current = *saved;
}

const struct trace_current *trace_current(void) { return &current; }

void trace_event_span_id(const char *event_id, char which, char out[17]) {
  /* The last 16 hex digits of the event id are its random part; the two
   * spans of one event differ in their first digit. */
  char hex[33];
  size_t n = 0;
  for (const char *p = event_id; p != NULL && *p != '\0' && n < 32; p++)
    if (*p != '-') hex[n++] = *p;
  while (n < 32)
    hex[n++] = '0';
  hex[32] = '\0';
  memcpy(out, hex + 16, 16);
  out[16] = '\0';
  static const char digits[] = "0123456789abcdef";
  int first = out[0] >= 'a' ? out[0] - 'a' + 10 : out[0] - '0';
  out[0] = digits[(first ^ (which == 'p' ? 0x8 : 0x4)) & 0xf];
}

/* --- spans -----------------------------------------------------------------
 */

void trace_span_begin(struct trace_span *s, const char *name,
                      enum trace_kind kind, const char *service,
                      const char *trace_id, const char *parent_span_id,
                      const char *span_id) {
  memset(s, 0, sizeof *s);
  if (!atomic_load(&exp_state.running)) return;
  if (trace_id != NULL && *trace_id != '\0') {
    copy(s->trace_id, sizeof s->trace_id, trace_id);
    copy(s->parent_span_id, sizeof s->parent_span_id, parent_span_id);
  } else if (current.trace_id[0] != '\0') {
    copy(s->trace_id, sizeof s->trace_id, current.trace_id);
    copy(s->parent_span_id, sizeof s->parent_span_id,
         parent_span_id != NULL ? parent_span_id : current.span_id);
  } else {
    id_hex(s->trace_id, 16);
    copy(s->parent_span_id, sizeof s->parent_span_id, parent_span_id);
  }
  if (span_id != NULL && *span_id != '\0')
    copy(s->span_id, sizeof s->span_id, span_id);
  else
    id_hex(s->span_id, 8);
  copy(s->service, sizeof s->service,
       service != NULL ? service : log_context_service());
  if (s->service[0] == '\0') copy(s->service, sizeof s->service, "shopsphere");
  copy(s->name, sizeof s->name, name);
  s->kind = kind;
  s->start_ns = now_ns();
  s->active = true;
}

void trace_span_attr(struct trace_span *s, const char *key, const char *value) {
  if (!s->active || s->attr_count >= TRACE_MAX_ATTRS) return;
  struct trace_attr *a = &s->attrs[s->attr_count++];
  copy(a->key, sizeof a->key, key);
  copy(a->value, sizeof a->value, value);
}

void trace_span_attr_int(struct trace_span *s, const char *key, long value) {
  char text[24];
  snprintf(text, sizeof text, "%ld", value);
  trace_span_attr(s, key, text);
}

void trace_span_end(struct trace_span *s, bool error) {
  if (!s->active) return;
  s->active = false;
  s->end_ns = now_ns();
  s->error = error;
  bool dropped = false, wake = false;
  pthread_mutex_lock(&exp_state.lock);
  if (!atomic_load(&exp_state.running) || exp_state.count == QUEUE_CAPACITY) {
    dropped = true;
  } else {
    size_t tail = (exp_state.head + exp_state.count) % QUEUE_CAPACITY;
    exp_state.ring[tail] = *s;
    exp_state.count++;
    wake = exp_state.count >= BATCH_MAX;
  }
  pthread_mutex_unlock(&exp_state.lock);
  if (dropped && exp_state.dropped != NULL)
    metric_inc(exp_state.dropped, NULL, 1);
  if (wake) pthread_cond_signal(&exp_state.wake);
}

/* --- OTLP JSON ---------------------------------------------------------------
 */

static json_t *string_attr(const char *key, const char *value) {
  return json_pack("{s:s, s:{s:s}}", "key", key, "value", "stringValue", value);
}

static json_t *render_span(const struct trace_span *s) {
  char start[24], end[24];
  snprintf(start, sizeof start, "%lld", (long long)s->start_ns);
  snprintf(end, sizeof end, "%lld", (long long)s->end_ns);
  json_t *attrs = json_array();
  for (int i = 0; i < s->attr_count; i++)
    json_array_append_new(attrs,
                          string_attr(s->attrs[i].key, s->attrs[i].value));
  json_t *span =
      json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:o, s:{s:i}}", "traceId",
                s->trace_id, "spanId", s->span_id, "name", s->name, "kind",
                (int)s->kind, "startTimeUnixNano", start, "endTimeUnixNano",
                end, "attributes", attrs, "status", "code", s->error ? 2 : 1);
  if (span != NULL && s->parent_span_id[0] != '\0')
    json_object_set_new(span, "parentSpanId", json_string(s->parent_span_id));
  return span;
}

char *trace_render_otlp(const struct trace_span *spans, int count) {
  /* One resource per service name, in order of first appearance. */
  json_t *resources = json_array();
  json_t *by_service = json_object();
  for (int i = 0; i < count; i++) {
    json_t *list = json_object_get(by_service, spans[i].service);
    if (list == NULL) {
      list = json_array();
      json_t *res = json_pack(
          "{s:{s:[o]}, s:[{s:{s:s, s:s}, s:O}]}", "resource", "attributes",
          string_attr("service.name", spans[i].service), "scopeSpans", "scope",
          "name", "shopsphere", "version", "0.1.0", "spans", list);
      json_array_append_new(resources, res);
      json_object_set_new(by_service, spans[i].service, list);
    }
    json_t *span = render_span(&spans[i]);
    if (span != NULL) json_array_append_new(list, span);
  }
  json_t *root = json_pack("{s:o}", "resourceSpans", resources);
  char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
  json_decref(root);
  json_decref(by_service);
  return text;
}

/* --- exporter
 * ------------------------------------------------------------------ */

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata) {
  (void)ptr;
  (void)userdata;
  return size * nmemb;
}

static void post_batch(CURL *h, const struct trace_span *spans, int count) {
  char *body = trace_render_otlp(spans, count);
  if (body == NULL) return;
  struct curl_slist *headers =
      curl_slist_append(NULL, "Content-Type: application/json");
  curl_easy_reset(h);
  curl_easy_setopt(h, CURLOPT_URL, exp_state.url);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)POST_TIMEOUT_MS);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
  CURLcode cc = curl_easy_perform(h);
  long status = 0;
  if (cc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (cc == CURLE_OK && status >= 200 && status < 300)
    metric_inc(exp_state.exported, NULL, count);
  else
    metric_inc(exp_state.failed, NULL, count);
  curl_slist_free_all(headers);
  free(body);
}

static void *exporter_main(void *arg) {
  (void)arg;
  struct trace_span *batch = malloc(BATCH_MAX * sizeof *batch);
  CURL *h = curl_easy_init();
  if (batch == NULL || h == NULL) goto cleanup;
  pthread_mutex_lock(&exp_state.lock);
  for (;;) {
    if (exp_state.count < BATCH_MAX && !exp_state.stopping) {
      struct timespec until;
      clock_gettime(CLOCK_REALTIME, &until);
      until.tv_nsec += (long)FLUSH_INTERVAL_MS * 1000000L;
      until.tv_sec += until.tv_nsec / 1000000000L;
      until.tv_nsec %= 1000000000L;
      pthread_cond_timedwait(&exp_state.wake, &exp_state.lock, &until);
    }
    int n = 0;
    while (exp_state.count > 0 && n < BATCH_MAX) {
      batch[n++] = exp_state.ring[exp_state.head];
      exp_state.head = (exp_state.head + 1) % QUEUE_CAPACITY;
      exp_state.count--;
    }
    bool stop = exp_state.stopping && exp_state.count == 0;
    pthread_mutex_unlock(&exp_state.lock);
    if (n > 0) post_batch(h, batch, n);
    pthread_mutex_lock(&exp_state.lock);
    if (stop) break;
  }
  pthread_mutex_unlock(&exp_state.lock);
cleanup:
  if (h != NULL) curl_easy_cleanup(h);
  free(batch);
  return NULL;
}

int trace_init(const struct config *cfg) {
  if (atomic_load(&exp_state.running) || cfg->otlp_endpoint[0] == '\0')
    return KIT_OK;
  exp_state.ring = calloc(QUEUE_CAPACITY, sizeof *exp_state.ring);
  if (exp_state.ring == NULL) return KIT_NOMEM;
  const char *base = cfg->otlp_endpoint;
  size_t len = strlen(base);
  while (len > 0 && base[len - 1] == '/')
    len--;
  snprintf(exp_state.url, sizeof exp_state.url, "%.*s/v1/traces", (int)len,
           base);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  exp_state.dropped =
      metric_family("trace_spans_dropped_total",
                    "Spans dropped because the export queue was full",
                    METRIC_COUNTER, NULL, NULL, 0);
  exp_state.exported = metric_family("trace_spans_exported_total",
                                     "Spans accepted by the OTLP endpoint",
                                     METRIC_COUNTER, NULL, NULL, 0);
  exp_state.failed = metric_family(
      "trace_spans_export_failed_total",
      "Spans lost because the OTLP endpoint refused or did not answer",
      METRIC_COUNTER, NULL, NULL, 0);
  exp_state.head = exp_state.count = 0;
  exp_state.stopping = false;
  atomic_store(&exp_state.running, true);
  if (pthread_create(&exp_state.thread, NULL, exporter_main, NULL) != 0) {
    atomic_store(&exp_state.running, false);
    free(exp_state.ring);
    exp_state.ring = NULL;
    return KIT_NOMEM;
  }
  log_info("tracing: exporting spans to %s", exp_state.url);
  return KIT_OK;
}

void trace_shutdown(void) {
  if (!atomic_load(&exp_state.running)) return;
  pthread_mutex_lock(&exp_state.lock);
  exp_state.stopping = true;
  pthread_mutex_unlock(&exp_state.lock);
  pthread_cond_signal(&exp_state.wake);
  pthread_join(exp_state.thread, NULL);
  pthread_mutex_lock(&exp_state.lock);
  atomic_store(&exp_state.running, false);
  pthread_mutex_unlock(&exp_state.lock);
  free(exp_state.ring);
  exp_state.ring = NULL;
}
