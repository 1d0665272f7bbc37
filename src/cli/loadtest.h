/* loadtest.h - the pure parts of `shopsphere loadtest` (src/cli/loadtest.c):
 * stage schedules, latency series and their percentiles, and thresholds.
 * No I/O here, so tests/unit/test_loadtest.c can check every decision the
 * load test's verdict rests on. */
#ifndef SHOPSPHERE_CLI_LOADTEST_H
#define SHOPSPHERE_CLI_LOADTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LT_MAX_STAGES 16

/* One stage of the ramp, as k6 writes it ("30s:100"): over duration_ms the
 * number of virtual users moves linearly from the previous stage's target
 * (0 before the first) to target. */
struct lt_stage {
  int64_t duration_ms;
  int target;
};

/* Parses "500ms", "30s", "2m" (a bare number is seconds) into *ms. Returns
 * false on anything else, negative or above a day. */
bool lt_parse_duration(const char *text, int64_t *ms);

/* Parses "30s:100,1m:100,30s:0" into out[] (at most cap stages). Targets
 * are 0..10000. Returns the number of stages, or -1 with a message in err. */
int lt_parse_stages(const char *text, struct lt_stage *out, int cap, char *err,
                    size_t err_size);

/* Total duration of the stages, in ms. */
int64_t lt_stages_total_ms(const struct lt_stage *stages, int n);

/* The virtual users wanted elapsed_ms after the start, and the index of the
 * stage that time falls in (*stage = n once every stage is over, when the
 * target is 0). */
int lt_target_vus(const struct lt_stage *stages, int n, int64_t elapsed_ms,
                  int *stage);

/* A growable series of latencies in milliseconds with its error counts.
 * Zero-initialise; lt_series_free releases the samples. */
struct lt_series {
  double *v;
  size_t n, cap;
  int64_t errors;     /* transport failures and answers >= 400 */
  int64_t status_5xx; /* answers >= 500 (also counted in errors) */
};

/* Adds one request's latency; failed marks it an error (counted, and its
 * latency kept). Returns false when memory runs out (the sample is lost). */
bool lt_series_add(struct lt_series *s, double ms, int status, bool failed);
void lt_series_free(struct lt_series *s);

/* The p-th percentile (0 < p <= 100) of sorted[0..n) by nearest rank, the
 * definition k6 and the bench's drivers use; 0 for an empty series. */
double lt_percentile(const double *sorted, size_t n, double p);

struct lt_summary {
  int64_t count, errors, status_5xx;
  double p50, p95, p99, max, mean;
  double error_rate; /* errors / count, 0 when empty */
};

/* Summarises s (sorts its samples in place). */
void lt_series_summarize(struct lt_series *s, struct lt_summary *out);

/* What a threshold measures. */
enum lt_metric { LT_P95, LT_P99, LT_ERROR_RATE };

/* One pass/fail bar: metric of step (NULL = every request) below limit
 * (milliseconds, or a fraction for the error rate; LT_ERROR_RATE with
 * limit 0 means no error at all). value/ok are filled by lt_evaluate. */
struct lt_threshold {
  const char *step;
  enum lt_metric metric;
  double limit;
  double value;
  bool ok;
};

#define LT_MAX_THRESHOLDS 24

/* The bars of a run: the global p95/p99/error-rate bars, and with strict
 * DESIGN §8's: p95 < 50 ms, p99 < 100 ms and no error overall, plus the
 * per-route p99 bars (product list 15 ms, product detail 10 ms, search
 * 30 ms, cart create and add 20 ms, checkout 250 ms). Returns how many were
 * written to out (at most LT_MAX_THRESHOLDS). */
int lt_thresholds_build(struct lt_threshold *out, double p95_ms, double p99_ms,
                        double error_rate, bool strict);

/* Fills value/ok of every threshold from total (step NULL) and the named
 * step summaries; a step with no request passes. Returns true when every
 * threshold holds. */
bool lt_evaluate(struct lt_threshold *t, int n, const struct lt_summary *total,
                 const char *const *step_names, const struct lt_summary *steps,
                 int nsteps);

/* "p95", "p99" or "error_rate". */
const char *lt_metric_name(enum lt_metric m);

#endif
