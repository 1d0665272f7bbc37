/* trace.h - OpenTelemetry spans, exported as OTLP/HTTP JSON.
 *
 * The kit opens a span for every request served (SERVER), every call to
 * another service or external system (CLIENT), every database transaction
 * (CLIENT), every event emitted and published (PRODUCER) and consumed
 * (CONSUMER). Context travels as W3C traceparent on HTTP; an event carries
 * its trace id in the envelope, and the span ids of its emit and publish
 * spans are derived from its event id, so a consumer links to its producer
 * without another field on the wire.
 *
 * Export is off unless SHOPSPHERE_OTLP_ENDPOINT is set. Then ended spans go
 * into a bounded in-memory queue (never blocking the caller: a full queue
 * drops the span and counts it in trace_spans_dropped_total) and one thread
 * per process posts them in batches to <endpoint>/v1/traces. No OpenTelemetry
 * C SDK is packaged for Debian 12, hence this small exporter.
 */
#ifndef SHOPSPHERE_KIT_TRACE_H
#define SHOPSPHERE_KIT_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

enum trace_kind {
  TRACE_INTERNAL = 1,
  TRACE_SERVER = 2,
  TRACE_CLIENT = 3,
  TRACE_PRODUCER = 4,
  TRACE_CONSUMER = 5,
};

#define TRACE_MAX_ATTRS 6

struct trace_attr {
  char key[32];
  char value[96];
};

struct trace_span {
  char trace_id[33];       /* 32 lowercase hex */
  char span_id[17];        /* 16 lowercase hex */
  char parent_span_id[17]; /* "" for a root span */
  char service[32];        /* service.name of the resource */
  char name[96];
  enum trace_kind kind;
  int64_t start_ns, end_ns; /* Unix epoch nanoseconds */
  bool error;
  int attr_count;
  struct trace_attr attrs[TRACE_MAX_ATTRS];
  bool active; /* begun and not ended; false when tracing is off */
};

/* Starts the exporter when cfg->otlp_endpoint is set. Safe to call more than
 * once (later calls do nothing). Returns KIT_OK, or KIT_NOMEM. */
int trace_init(const struct config *cfg);

/* Posts what is queued (bounded by a short timeout) and stops the
 * exporter. */
void trace_shutdown(void);

/* Whether spans are being recorded (an endpoint is configured). */
bool trace_enabled(void);

/* Begins a span in trace_id under parent_span_id (NULL or "" for a root).
 * trace_id NULL or "": the thread's current span's trace and, when
 * parent_span_id is NULL too, that span as the parent; with no current span
 * either, a fresh trace. span_id NULL: a fresh one. service NULL: the
 * thread's log context service. Does nothing when tracing is off. */
void trace_span_begin(struct trace_span *s, const char *name,
                      enum trace_kind kind, const char *service,
                      const char *trace_id, const char *parent_span_id,
                      const char *span_id);

/* Adds a string (or integer) attribute; past TRACE_MAX_ATTRS it is ignored. */
void trace_span_attr(struct trace_span *s, const char *key, const char *value);
void trace_span_attr_int(struct trace_span *s, const char *key, long value);

/* Ends s and queues it for export (or drops it when the queue is full). */
void trace_span_end(struct trace_span *s, bool error);

/* The thread's current span: what child spans (database transactions,
 * events, upstream calls without a parent request) hang under. set returns
 * the previous value into saved (33 + 17 bytes) for restore. */
struct trace_current {
  char trace_id[33];
  char span_id[17];
};
void trace_current_set(const char *trace_id, const char *span_id,
                       struct trace_current *saved);
void trace_current_restore(const struct trace_current *saved);
const struct trace_current *trace_current(void);

/* The span ids an event's emit (which = 'e') and publish ('p') spans get:
 * derived from its event id, so producer and consumers agree on them. */
void trace_event_span_id(const char *event_id, char which, char out[17]);

/* Renders spans as an OTLP/HTTP JSON ExportTraceServiceRequest (caller
 * frees). Exposed for the unit tests. */
char *trace_render_otlp(const struct trace_span *spans, int count);

#endif
