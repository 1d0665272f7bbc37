/* loadtest_stats.c - stage schedules, percentiles and thresholds of
 * `shopsphere loadtest` (see loadtest.h). Pure functions. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/loadtest.h"

#define DAY_MS (24LL * 3600 * 1000)

bool lt_parse_duration(const char *text, int64_t *ms) {
  if (text == NULL || !isdigit((unsigned char)text[0])) return false;
  char *end = NULL;
  double v = strtod(text, &end);
  if (end == text || v < 0) return false;
  double scale;
  if (*end == '\0' || strcmp(end, "s") == 0)
    scale = 1000;
  else if (strcmp(end, "ms") == 0)
    scale = 1;
  else if (strcmp(end, "m") == 0)
    scale = 60000;
  else
    return false;
  double r = v * scale;
  if (r > (double)DAY_MS) return false;
  *ms = (int64_t)(r + 0.5);
  return true;
}

int lt_parse_stages(const char *text, struct lt_stage *out, int cap, char *err,
                    size_t err_size) {
  if (text == NULL || *text == '\0') {
    snprintf(err, err_size, "no stages");
    return -1;
  }
  int n = 0;
  const char *p = text;
  while (*p) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    char item[64];
    if (len == 0 || len >= sizeof item) {
      snprintf(err, err_size, "stage %d: expected DURATION:TARGET", n + 1);
      return -1;
    }
    memcpy(item, p, len);
    item[len] = '\0';
    char *colon = strchr(item, ':');
    if (colon == NULL) {
      snprintf(err, err_size, "stage %d ('%s'): expected DURATION:TARGET",
               n + 1, item);
      return -1;
    }
    *colon = '\0';
    int64_t ms;
    if (!lt_parse_duration(item, &ms)) {
      snprintf(err, err_size, "stage %d: bad duration '%s'", n + 1, item);
      return -1;
    }
    char *end = NULL;
    const char *t = colon + 1;
    long target = isdigit((unsigned char)*t) ? strtol(t, &end, 10) : -1;
    if (target < 0 || target > 10000 || end == NULL || *end != '\0') {
      snprintf(err, err_size, "stage %d: bad target '%s' (0..10000)", n + 1, t);
      return -1;
    }
    if (n == cap) {
      snprintf(err, err_size, "at most %d stages", cap);
      return -1;
    }
    out[n].duration_ms = ms;
    out[n].target = (int)target;
    n++;
    p += len;
    if (*p == ',') p++;
  }
  return n;
}

int64_t lt_stages_total_ms(const struct lt_stage *stages, int n) {
  int64_t total = 0;
  for (int i = 0; i < n; i++)
    total += stages[i].duration_ms;
  return total;
}

int lt_target_vus(const struct lt_stage *stages, int n, int64_t elapsed_ms,
                  int *stage) {
  int from = 0;
  int64_t at = 0;
  for (int i = 0; i < n; i++) {
    int64_t d = stages[i].duration_ms;
    if (elapsed_ms < at + d) {
      if (stage) *stage = i;
      double f = (double)(elapsed_ms - at) / (double)d;
      return from + (int)((stages[i].target - from) * f);
    }
    at += d;
    from = stages[i].target;
  }
  if (stage) *stage = n;
  return n > 0 ? stages[n - 1].target : 0;
}

bool lt_series_add(struct lt_series *s, double ms, int status, bool failed) {
  if (failed) s->errors++;
  if (status >= 500) s->status_5xx++;
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 1024;
    double *v = realloc(s->v, cap * sizeof *v);
    if (v == NULL) return false;
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n++] = ms;
  return true;
}

void lt_series_free(struct lt_series *s) {
  free(s->v);
  *s = (struct lt_series){0};
}

double lt_percentile(const double *sorted, size_t n, double p) {
  if (n == 0) return 0;
  double rank = p / 100.0 * (double)n;
  size_t r = (size_t)rank;
  if ((double)r < rank) r++; /* ceil */
  if (r < 1) r = 1;
  if (r > n) r = n;
  return sorted[r - 1];
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

void lt_series_summarize(struct lt_series *s, struct lt_summary *out) {
  *out = (struct lt_summary){
      .count = (int64_t)s->n, .errors = s->errors, .status_5xx = s->status_5xx};
  if (s->n == 0) return;
  qsort(s->v, s->n, sizeof s->v[0], cmp_double);
  double sum = 0;
  for (size_t i = 0; i < s->n; i++)
    sum += s->v[i];
  out->mean = sum / (double)s->n;
  out->p50 = lt_percentile(s->v, s->n, 50);
  out->p95 = lt_percentile(s->v, s->n, 95);
  out->p99 = lt_percentile(s->v, s->n, 99);
  out->max = s->v[s->n - 1];
  out->error_rate = (double)s->errors / (double)s->n;
}

int lt_thresholds_build(struct lt_threshold *out, double p95_ms, double p99_ms,
                        double error_rate, bool strict) {
  int n = 0;
  if (strict) {
    /* DESIGN §8: the seed's ramp at p95 < 50 ms, p99 < 100 ms, 0 errors,
     * and each route's own p99 bar. */
    if (p95_ms > 50) p95_ms = 50;
    if (p99_ms > 100) p99_ms = 100;
    error_rate = 0;
  }
  out[n++] = (struct lt_threshold){NULL, LT_P95, p95_ms, 0, false};
  out[n++] = (struct lt_threshold){NULL, LT_P99, p99_ms, 0, false};
  out[n++] = (struct lt_threshold){NULL, LT_ERROR_RATE, error_rate, 0, false};
  if (strict) {
    static const struct {
      const char *step;
      double p99;
    } bars[] = {{"browse", 15},      {"product", 10},  {"search", 30},
                {"cart_create", 20}, {"cart_add", 20}, {"checkout", 250}};
    for (size_t i = 0; i < sizeof bars / sizeof bars[0]; i++)
      out[n++] =
          (struct lt_threshold){bars[i].step, LT_P99, bars[i].p99, 0, false};
  }
  return n;
}

static const struct lt_summary *find_step(const char *name,
                                          const char *const *names,
                                          const struct lt_summary *steps,
                                          int nsteps) {
  for (int i = 0; i < nsteps; i++)
    if (strcmp(names[i], name) == 0) return &steps[i];
  return NULL;
}

bool lt_evaluate(struct lt_threshold *t, int n, const struct lt_summary *total,
                 const char *const *step_names, const struct lt_summary *steps,
                 int nsteps) {
  bool all = true;
  for (int i = 0; i < n; i++) {
    const struct lt_summary *s =
        t[i].step ? find_step(t[i].step, step_names, steps, nsteps) : total;
    if (s == NULL || s->count == 0) {
      t[i].value = 0;
      t[i].ok = true;
      continue;
    }
    switch (t[i].metric) {
    case LT_P95:
      t[i].value = s->p95;
      break;
    case LT_P99:
      t[i].value = s->p99;
      break;
    case LT_ERROR_RATE:
      t[i].value = s->error_rate;
      break;
    }
    if (t[i].metric == LT_ERROR_RATE && t[i].limit <= 0)
      t[i].ok = s->errors == 0;
    else
      t[i].ok = t[i].value < t[i].limit;
    all = all && t[i].ok;
  }
  return all;
}

const char *lt_metric_name(enum lt_metric m) {
  switch (m) {
  case LT_P95:
    return "p95";
  case LT_P99:
    return "p99";
  case LT_ERROR_RATE:
    return "error_rate";
  }
  return "?";
}
