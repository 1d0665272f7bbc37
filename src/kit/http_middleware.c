/* http_middleware.c - what happens around every handler.
 *
 * Ids and trace context in, log context set, dispatch, ids and trace context
 * out, metrics and one access-log line. The server and in-process client
 * calls both go through http_handle(), so a call looks the same in logs and
 * metrics whichever transport carried it.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kit/auth.h"
#include "kit/http.h"
#include "kit/log.h"
#include "kit/metrics.h"
#include "kit/trace.h"

static struct metric_family *requests_total(void) {
  static const char *const labels[] = {"service", "route", "method", "status",
                                       NULL};
  static struct metric_family *f;
  if (f == NULL)
    f = metric_family("http_requests_total", "HTTP requests served",
                      METRIC_COUNTER, labels, NULL, 0);
  return f;
}

static struct metric_family *request_seconds(void) {
  static const char *const labels[] = {"service", "route", NULL};
  static struct metric_family *f;
  if (f == NULL)
    f = metric_family("http_request_duration_seconds",
                      "Time from request to response", METRIC_HISTOGRAM,
                      labels, NULL, 0);
  return f;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Registers the families once, before threads race to do it. */
void http_middleware_init(void) {
  (void)requests_total();
  (void)request_seconds();
}

/* Writes s as a JSON string body (without quotes) into out, dropping
 * characters that would need escaping: route templates and methods never
 * contain them, and this is a log line, not data. */
static void json_safe(char *out, size_t size, const char *s) {
  size_t o = 0;
  for (; s != NULL && *s != '\0' && o + 1 < size; s++) {
    unsigned char c = (unsigned char)*s;
    if (c >= 0x20 && c != '"' && c != '\\') out[o++] = (char)c;
  }
  out[o] = '\0';
}

void http_handle(const struct router *r, const char *service_name,
                 struct http_request *req, struct http_response *res) {
  /* The caller's log context (an in-process client call runs inside another
   * request) is restored on the way out. */
  char saved_service[48], saved_trace[33];
  snprintf(saved_service, sizeof saved_service, "%s", log_context_service());
  snprintf(saved_trace, sizeof saved_trace, "%s", log_context_trace_id());

  double start = now_seconds();
  http_assign_ids(req);
  log_context_set(service_name, req->trace_id, req->request_id);
  struct trace_span span;
  struct trace_current saved_span;
  trace_span_begin(&span, req->method, TRACE_SERVER, service_name,
                   req->trace_id, req->parent_span_id, req->span_id);
  trace_current_set(req->trace_id, req->span_id, &saved_span);

  router_dispatch(r, req, res);

  char traceparent[56];
  http_format_traceparent(req->trace_id, req->span_id, traceparent);
  http_response_header(res, "X-Request-Id", req->request_id);
  http_response_header(res, "traceparent", traceparent);

  double seconds = now_seconds() - start;
  char status[8];
  snprintf(status, sizeof status, "%u", res->status);
  const char *route = req->route ? req->route : "unmatched";
  const char *const counter_labels[] = {service_name, route, req->method,
                                        status};
  metric_inc(requests_total(), counter_labels, 1);
  const char *const hist_labels[] = {service_name, route};
  metric_observe(request_seconds(), hist_labels, seconds);
  if (span.active) {
    snprintf(span.name, sizeof span.name, "%s %s", req->method, route);
    trace_span_attr(&span, "http.request.method", req->method);
    trace_span_attr(&span, "http.route", route);
    trace_span_attr_int(&span, "http.response.status_code", (long)res->status);
    trace_span_end(&span, res->status >= 500);
  }
  trace_current_restore(&saved_span);

  char method[16], route_safe[160], ip[64];
  json_safe(method, sizeof method, req->method);
  json_safe(route_safe, sizeof route_safe, route);
  json_safe(ip, sizeof ip, req->client_ip);
  /* An in-process call made by the handler restored our context without
   * its request id: set this request's again for its own access line. */
  log_context_set(service_name, req->trace_id, req->request_id);
  const struct principal *caller = auth_principal(req);
  char fields[1024];
  snprintf(fields, sizeof fields,
           "\"method\":\"%s\",\"route\":\"%s\",\"status\":%u,\"bytes\":%zu,"
           "\"latency_ms\":%.3f,\"client_ip\":\"%s\",\"user_id\":%s%s%s%s%s",
           method, route_safe, res->status, res->body_len, seconds * 1000.0,
           ip, caller->authenticated ? "\"" : "",
           caller->authenticated ? caller->user_id : "null",
           caller->authenticated ? "\"" : "", req->log_fields ? "," : "",
           req->log_fields ? req->log_fields : "");
  log_write_fields(res->status >= 500 ? LOG_WARN : LOG_INFO, fields,
                   "request");

  if (saved_service[0] != '\0' || saved_trace[0] != '\0')
    log_context_set(saved_service, saved_trace, NULL);
  else
    log_context_clear();
}
