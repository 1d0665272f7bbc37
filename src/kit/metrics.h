/* metrics.h - Prometheus counters, gauges and histograms with labels.
 *
 * A family is declared once (name, help, type, label names) and registered
 * with the process registry; series are created on first use of a label
 * combination. Updates are thread-safe. metrics_render() writes the text
 * exposition format (version 0.0.4).
 */
#ifndef SHOPSPHERE_KIT_METRICS_H
#define SHOPSPHERE_KIT_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

#define METRIC_MAX_LABELS 4

struct metric_family; /* opaque */

/* Creates (or returns the existing family of that name) in the process
 * registry. label_names is NULL-terminated (at most 4); buckets (histograms
 * only) are ascending upper bounds in seconds, bucket_count of them; NULL uses
 * the default latency buckets 1 ms … 10 s. Never freed before exit. */
struct metric_family *metric_family(const char *name, const char *help,
                                    enum metric_type type,
                                    const char *const *label_names,
                                    const double *buckets, size_t bucket_count);

/* Label values are given in the order of the family's label names; count must
 * match. Values longer than 128 bytes are truncated. */
void metric_inc(struct metric_family *f, const char *const *labels,
                double by);
void metric_set(struct metric_family *f, const char *const *labels,
                double value);
void metric_observe(struct metric_family *f, const char *const *labels,
                    double value);

/* A gauge whose value is computed at render time. */
typedef double (*metric_gauge_fn)(void *arg);
void metric_gauge_callback(struct metric_family *f, const char *const *labels,
                           metric_gauge_fn fn, void *arg);

/* Renders every family; returns a malloc'd string (caller frees) and its
 * length in *len. */
char *metrics_render(size_t *len);

/* Reads back one series (for tests and /readyz); 0 when absent. For a
 * histogram, the count of observations. */
double metric_value(struct metric_family *f, const char *const *labels);

#endif
