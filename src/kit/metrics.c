/* metrics.c - the process-wide Prometheus registry.
 *
 * Every HTTP request bumps a counter and observes a histogram, so the update
 * path takes no lock at all: families and series are append-only and never
 * freed before exit, which lets readers walk them with atomic loads while a
 * writer, holding the family's mutex, links a new node in with a release
 * store. Values are atomics (doubles stored as their bit patterns and updated
 * with compare-and-swap). The mutex is taken only to create a series, to set
 * a callback gauge, and by the renderer to read a callback's (fn, arg) pair.
 *
 * Each family's series hang off a fixed table of SERIES_SLOTS chains. It never
 * grows: growing would move nodes under lock-free readers, and a family's
 * cardinality is bounded by design (route patterns, not raw paths). As a
 * backstop against a label fed with user input, a family stops creating
 * series at MAX_SERIES and says so once in the log.
 */
#include "kit/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/log.h"

#define SERIES_SLOTS 64
#define MAX_SERIES 5000
#define MAX_LABEL_VALUE 128
#define MAX_BUCKETS 64

static const double default_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                         0.05,  0.1,    0.25,  0.5,  1,
                                         2.5,   5,      10};

struct series {
  uint64_t hash;
  char *values[METRIC_MAX_LABELS]; /* owned, truncated copies */
  size_t value_lens[METRIC_MAX_LABELS];
  _Atomic uint64_t value_bits; /* counter/gauge: a double's bits */
  _Atomic uint64_t sum_bits;   /* histogram: sum of observations */
  _Atomic uint64_t *buckets;   /* histogram: per-bucket (not cumulative)
                                  counts, bucket_count + 1 with +Inf last */
  metric_gauge_fn fn;          /* callback gauge; guarded by family lock */
  void *fn_arg;
  _Atomic(struct series *) chain_next; /* same hash slot */
  _Atomic(struct series *) order_next; /* creation order, for rendering */
};

struct metric_family {
  char *name;
  char *help;
  enum metric_type type;
  char *label_names[METRIC_MAX_LABELS];
  size_t label_count;
  double *buckets; /* histograms: ascending upper bounds, no +Inf */
  size_t bucket_count;

  pthread_mutex_t lock; /* serializes series creation and callback fields */
  _Atomic(struct series *) slots[SERIES_SLOTS];
  _Atomic(struct series *) first;
  struct series *last; /* guarded by lock */
  size_t series_count; /* guarded by lock */
  bool overflow_logged;

  _Atomic(struct metric_family *) next;
};

/* The registry is the one process-wide mutable structure the header
 * promises; families are appended under its lock and walked without it. */
static struct {
  pthread_mutex_t lock;
  _Atomic(struct metric_family *) first;
  struct metric_family *last;
} registry = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* --- atomics on doubles ---------------------------------------------------- */

static uint64_t bits_of(double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}

static double double_of(uint64_t u) {
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

static void atomic_add_double(_Atomic uint64_t *cell, double by) {
  uint64_t old = atomic_load_explicit(cell, memory_order_relaxed);
  while (!atomic_compare_exchange_weak_explicit(
      cell, &old, bits_of(double_of(old) + by), memory_order_relaxed,
      memory_order_relaxed)) {
  }
}

/* --- names and labels ------------------------------------------------------ */

static bool valid_name(const char *s, bool allow_colon) {
  if (s == NULL || *s == '\0') return false;
  for (const char *p = s; *p != '\0'; p++) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (p != s && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

/* Length of a label value after truncation to MAX_LABEL_VALUE bytes, backed
 * off to a UTF-8 character boundary so the exposition stays valid UTF-8. */
static size_t label_len(const char *v) {
  size_t n = strnlen(v, MAX_LABEL_VALUE + 1);
  if (n <= MAX_LABEL_VALUE) return n;
  n = MAX_LABEL_VALUE;
  while (n > 0 && ((unsigned char)v[n] & 0xC0) == 0x80) n--;
  return n;
}

struct label_view {
  const char *ptr[METRIC_MAX_LABELS];
  size_t len[METRIC_MAX_LABELS];
  uint64_t hash;
};

/* FNV-1a over the values, with a separator byte no UTF-8 text contains so
 * ("ab","c") and ("a","bc") differ. */
static void view_labels(const struct metric_family *f,
                        const char *const *labels, struct label_view *v) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < f->label_count; i++) {
    const char *s = (labels != NULL && labels[i] != NULL) ? labels[i] : "";
    v->ptr[i] = s;
    v->len[i] = label_len(s);
    for (size_t j = 0; j < v->len[i]; j++) {
      h ^= (unsigned char)s[j];
      h *= 1099511628211ULL;
    }
    h ^= 0xFF;
    h *= 1099511628211ULL;
  }
  v->hash = h;
}

static bool series_matches(const struct metric_family *f,
                           const struct series *s,
                           const struct label_view *v) {
  if (s->hash != v->hash) return false;
  for (size_t i = 0; i < f->label_count; i++) {
    if (s->value_lens[i] != v->len[i] ||
        memcmp(s->values[i], v->ptr[i], v->len[i]) != 0)
      return false;
  }
  return true;
}

static struct series *find_series(struct metric_family *f,
                                  const struct label_view *v) {
  struct series *s = atomic_load_explicit(&f->slots[v->hash % SERIES_SLOTS],
                                          memory_order_acquire);
  for (; s != NULL;
       s = atomic_load_explicit(&s->chain_next, memory_order_acquire)) {
    if (series_matches(f, s, v)) return s;
  }
  return NULL;
}

static void series_free(struct series *s) {
  if (s == NULL) return;
  for (size_t i = 0; i < METRIC_MAX_LABELS; i++) free(s->values[i]);
  free(s->buckets);
  free(s);
}

static struct series *series_new(const struct metric_family *f,
                                 const struct label_view *v) {
  struct series *s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  s->hash = v->hash;
  for (size_t i = 0; i < f->label_count; i++) {
    s->values[i] = strndup(v->ptr[i], v->len[i]);
    if (s->values[i] == NULL) goto fail;
    s->value_lens[i] = v->len[i];
  }
  atomic_init(&s->value_bits, bits_of(0.0));
  atomic_init(&s->sum_bits, bits_of(0.0));
  if (f->type == METRIC_HISTOGRAM) {
    s->buckets = calloc(f->bucket_count + 1, sizeof *s->buckets);
    if (s->buckets == NULL) goto fail;
    for (size_t i = 0; i <= f->bucket_count; i++) atomic_init(&s->buckets[i], 0);
  }
  return s;
fail:
  series_free(s);
  return NULL;
}

/* The series for these labels, created on first use. NULL only when out of
 * memory or past MAX_SERIES; the update is then dropped, since a metric must
 * never fail the request it measures. */
static struct series *get_series(struct metric_family *f,
                                 const char *const *labels) {
  struct label_view v;
  view_labels(f, labels, &v);
  struct series *s = find_series(f, &v);
  if (s != NULL) return s;

  pthread_mutex_lock(&f->lock);
  s = find_series(f, &v); /* another thread may have won the race */
  if (s != NULL) goto unlock;
  if (f->series_count >= MAX_SERIES) {
    if (!f->overflow_logged) {
      f->overflow_logged = true;
      log_warn("metric %s: more than %d label combinations; new ones are "
               "dropped",
               f->name, MAX_SERIES);
    }
    goto unlock;
  }
  s = series_new(f, &v);
  if (s == NULL) goto unlock;
  /* Fully initialized before publication: the release stores below make it
   * visible to lock-free readers only once complete. */
  _Atomic(struct series *) *slot = &f->slots[v.hash % SERIES_SLOTS];
  atomic_store_explicit(&s->chain_next,
                        atomic_load_explicit(slot, memory_order_relaxed),
                        memory_order_relaxed);
  atomic_store_explicit(slot, s, memory_order_release);
  if (f->last == NULL)
    atomic_store_explicit(&f->first, s, memory_order_release);
  else
    atomic_store_explicit(&f->last->order_next, s, memory_order_release);
  f->last = s;
  f->series_count++;
unlock:
  pthread_mutex_unlock(&f->lock);
  return s;
}

/* --- families -------------------------------------------------------------- */

static void family_free(struct metric_family *f) {
  if (f == NULL) return;
  free(f->name);
  free(f->help);
  for (size_t i = 0; i < METRIC_MAX_LABELS; i++) free(f->label_names[i]);
  free(f->buckets);
  pthread_mutex_destroy(&f->lock);
  free(f);
}

static bool same_shape(const struct metric_family *f, enum metric_type type,
                       const char *const *label_names, size_t label_count) {
  if (f->type != type || f->label_count != label_count) return false;
  for (size_t i = 0; i < label_count; i++)
    if (strcmp(f->label_names[i], label_names[i]) != 0) return false;
  return true;
}

static struct metric_family *family_new(const char *name, const char *help,
                                        enum metric_type type,
                                        const char *const *label_names,
                                        size_t label_count,
                                        const double *buckets,
                                        size_t bucket_count) {
  struct metric_family *f = calloc(1, sizeof *f);
  if (f == NULL) return NULL;
  pthread_mutex_init(&f->lock, NULL);
  f->type = type;
  f->name = strdup(name);
  f->help = strdup(help != NULL ? help : "");
  if (f->name == NULL || f->help == NULL) goto fail;
  for (size_t i = 0; i < label_count; i++) {
    f->label_names[i] = strdup(label_names[i]);
    if (f->label_names[i] == NULL) goto fail;
  }
  f->label_count = label_count;
  if (type == METRIC_HISTOGRAM) {
    f->buckets = malloc(bucket_count * sizeof *f->buckets);
    if (f->buckets == NULL) goto fail;
    memcpy(f->buckets, buckets, bucket_count * sizeof *f->buckets);
    f->bucket_count = bucket_count;
  }
  return f;
fail:
  family_free(f);
  return NULL;
}

struct metric_family *metric_family(const char *name, const char *help,
                                    enum metric_type type,
                                    const char *const *label_names,
                                    const double *buckets,
                                    size_t bucket_count) {
  size_t label_count = 0;
  if (!valid_name(name, true)) {
    log_error("metric_family: invalid metric name '%s'", name ? name : "");
    return NULL;
  }
  while (label_names != NULL && label_names[label_count] != NULL) {
    const char *ln = label_names[label_count];
    if (label_count == METRIC_MAX_LABELS || !valid_name(ln, false) ||
        strncmp(ln, "__", 2) == 0 ||
        (type == METRIC_HISTOGRAM && strcmp(ln, "le") == 0)) {
      log_error("metric %s: invalid or too many label names", name);
      return NULL;
    }
    label_count++;
  }
  if (type == METRIC_HISTOGRAM) {
    if (buckets == NULL || bucket_count == 0) {
      buckets = default_buckets;
      bucket_count = sizeof default_buckets / sizeof default_buckets[0];
    }
    /* +Inf is implicit; accept it as the last bound but do not store it. */
    if (isinf(buckets[bucket_count - 1]) && buckets[bucket_count - 1] > 0)
      bucket_count--;
    bool ok = bucket_count > 0 && bucket_count <= MAX_BUCKETS;
    for (size_t i = 0; ok && i < bucket_count; i++)
      ok = isfinite(buckets[i]) && (i == 0 || buckets[i] > buckets[i - 1]);
    if (!ok) {
      log_error("metric %s: buckets must be 1..%d finite ascending bounds",
                name, MAX_BUCKETS);
      return NULL;
    }
  }

  struct metric_family *f = NULL;
  pthread_mutex_lock(&registry.lock);
  for (f = atomic_load(&registry.first); f != NULL; f = atomic_load(&f->next)) {
    if (strcmp(f->name, name) != 0) continue;
    if (!same_shape(f, type, label_names, label_count)) {
      log_error("metric %s: registered again with another type or labels",
                name);
      f = NULL;
    }
    goto unlock;
  }
  f = family_new(name, help, type, label_names, label_count, buckets,
                 bucket_count);
  if (f == NULL) goto unlock;
  if (registry.last == NULL)
    atomic_store_explicit(&registry.first, f, memory_order_release);
  else
    atomic_store_explicit(&registry.last->next, f, memory_order_release);
  registry.last = f;
unlock:
  pthread_mutex_unlock(&registry.lock);
  /* A family without labels has exactly one series: create it now so the
   * metric renders as 0 before its first update, as scrapers expect. */
  if (f != NULL && f->label_count == 0) get_series(f, NULL);
  return f;
}

/* --- updates --------------------------------------------------------------- */

void metric_inc(struct metric_family *f, const char *const *labels,
                double by) {
  if (f == NULL || f->type == METRIC_HISTOGRAM) return;
  /* A counter only goes up; a negative step is a caller bug we refuse. */
  if (f->type == METRIC_COUNTER && !(by >= 0)) return;
  struct series *s = get_series(f, labels);
  if (s != NULL) atomic_add_double(&s->value_bits, by);
}

void metric_set(struct metric_family *f, const char *const *labels,
                double value) {
  if (f == NULL || f->type == METRIC_HISTOGRAM) return;
  struct series *s = get_series(f, labels);
  if (s != NULL)
    atomic_store_explicit(&s->value_bits, bits_of(value),
                          memory_order_relaxed);
}

void metric_observe(struct metric_family *f, const char *const *labels,
                    double value) {
  /* NaN would poison _sum forever; it is not a measurement. */
  if (f == NULL || f->type != METRIC_HISTOGRAM || isnan(value)) return;
  struct series *s = get_series(f, labels);
  if (s == NULL) return;
  /* First bound >= value (le is inclusive); bucket_count means +Inf. */
  size_t lo = 0, hi = f->bucket_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (value <= f->buckets[mid])
      hi = mid;
    else
      lo = mid + 1;
  }
  atomic_fetch_add_explicit(&s->buckets[lo], 1, memory_order_relaxed);
  atomic_add_double(&s->sum_bits, value);
}

void metric_gauge_callback(struct metric_family *f, const char *const *labels,
                           metric_gauge_fn fn, void *arg) {
  if (f == NULL || f->type != METRIC_GAUGE) return;
  struct series *s = get_series(f, labels);
  if (s == NULL) return;
  pthread_mutex_lock(&f->lock);
  s->fn = fn;
  s->fn_arg = arg;
  pthread_mutex_unlock(&f->lock);
}

static uint64_t histogram_count(const struct metric_family *f,
                                const struct series *s) {
  uint64_t n = 0;
  for (size_t i = 0; i <= f->bucket_count; i++)
    n += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
  return n;
}

/* Reads a counter or gauge, calling its callback (outside the lock, so a
 * callback may itself use the metrics API). */
static double scalar_value(struct metric_family *f, struct series *s) {
  pthread_mutex_lock(&f->lock);
  metric_gauge_fn fn = s->fn;
  void *arg = s->fn_arg;
  pthread_mutex_unlock(&f->lock);
  if (fn != NULL) return fn(arg);
  return double_of(atomic_load_explicit(&s->value_bits, memory_order_relaxed));
}

double metric_value(struct metric_family *f, const char *const *labels) {
  if (f == NULL) return 0;
  struct label_view v;
  view_labels(f, labels, &v);
  struct series *s = find_series(f, &v);
  if (s == NULL) return 0;
  if (f->type == METRIC_HISTOGRAM) return (double)histogram_count(f, s);
  return scalar_value(f, s);
}

/* --- rendering ------------------------------------------------------------- */

struct buf {
  char *data;
  size_t len;
  size_t cap;
  bool failed; /* out of memory: render returns NULL */
};

static void buf_reserve(struct buf *b, size_t more) {
  if (b->failed || b->len + more + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + more + 1) cap *= 2;
  char *p = realloc(b->data, cap);
  if (p == NULL) {
    b->failed = true;
    return;
  }
  b->data = p;
  b->cap = cap;
}

static void buf_add(struct buf *b, const char *s, size_t n) {
  buf_reserve(b, n);
  if (b->failed) return;
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

/* Text with exposition escapes: backslash and newline always, the double
 * quote too inside label values (HELP text leaves quotes alone). */
static void buf_escaped(struct buf *b, const char *s, size_t n, bool quote) {
  size_t start = 0;
  for (size_t i = 0; i < n; i++) {
    const char *rep = NULL;
    if (s[i] == '\\')
      rep = "\\\\";
    else if (s[i] == '\n')
      rep = "\\n";
    else if (quote && s[i] == '"')
      rep = "\\\"";
    if (rep == NULL) continue;
    buf_add(b, s + start, i - start);
    buf_str(b, rep);
    start = i + 1;
  }
  buf_add(b, s + start, n - start);
}

/* The shortest decimal that reads back as the same double, so 0.1 prints as
 * 0.1, not 0.10000000000000001. */
static void format_double(double d, char *out, size_t size) {
  if (isnan(d)) {
    snprintf(out, size, "NaN");
    return;
  }
  if (isinf(d)) {
    snprintf(out, size, d > 0 ? "+Inf" : "-Inf");
    return;
  }
  for (int prec = 6; prec <= 17; prec++) {
    snprintf(out, size, "%.*g", prec, d);
    if (strtod(out, NULL) == d) return;
  }
}

static void buf_double(struct buf *b, double d) {
  char tmp[40];
  format_double(d, tmp, sizeof tmp);
  buf_str(b, tmp);
}

/* name{l1="v1",...,le="x"} (no braces when there is nothing to put in them) */
static void buf_sample_name(struct buf *b, const struct metric_family *f,
                            const struct series *s, const char *suffix,
                            const char *le) {
  buf_str(b, f->name);
  buf_str(b, suffix);
  if (f->label_count == 0 && le == NULL) return;
  buf_str(b, "{");
  for (size_t i = 0; i < f->label_count; i++) {
    if (i > 0) buf_str(b, ",");
    buf_str(b, f->label_names[i]);
    buf_str(b, "=\"");
    buf_escaped(b, s->values[i], s->value_lens[i], true);
    buf_str(b, "\"");
  }
  if (le != NULL) {
    if (f->label_count > 0) buf_str(b, ",");
    buf_str(b, "le=\"");
    buf_str(b, le);
    buf_str(b, "\"");
  }
  buf_str(b, "}");
}

static void render_histogram(struct buf *b, const struct metric_family *f,
                             const struct series *s) {
  /* _count is the running total of the buckets rather than a separate
   * counter, so it always equals the +Inf bucket in one scrape. */
  uint64_t cumulative = 0;
  char le[40];
  char num[32];
  for (size_t i = 0; i <= f->bucket_count; i++) {
    cumulative += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
    if (i < f->bucket_count)
      format_double(f->buckets[i], le, sizeof le);
    else
      snprintf(le, sizeof le, "+Inf");
    buf_sample_name(b, f, s, "_bucket", le);
    snprintf(num, sizeof num, " %llu\n", (unsigned long long)cumulative);
    buf_str(b, num);
  }
  buf_sample_name(b, f, s, "_sum", NULL);
  buf_str(b, " ");
  buf_double(b, double_of(atomic_load_explicit(&s->sum_bits,
                                               memory_order_relaxed)));
  buf_str(b, "\n");
  buf_sample_name(b, f, s, "_count", NULL);
  snprintf(num, sizeof num, " %llu\n", (unsigned long long)cumulative);
  buf_str(b, num);
}

static const char *type_name(enum metric_type t) {
  switch (t) {
  case METRIC_COUNTER: return "counter";
  case METRIC_GAUGE: return "gauge";
  case METRIC_HISTOGRAM: return "histogram";
  }
  return "untyped";
}

char *metrics_render(size_t *len) {
  struct buf b = {0};
  buf_reserve(&b, 0);
  for (struct metric_family *f =
           atomic_load_explicit(&registry.first, memory_order_acquire);
       f != NULL; f = atomic_load_explicit(&f->next, memory_order_acquire)) {
    buf_str(&b, "# HELP ");
    buf_str(&b, f->name);
    buf_str(&b, " ");
    buf_escaped(&b, f->help, strlen(f->help), false);
    buf_str(&b, "\n# TYPE ");
    buf_str(&b, f->name);
    buf_str(&b, " ");
    buf_str(&b, type_name(f->type));
    buf_str(&b, "\n");
    for (struct series *s =
             atomic_load_explicit(&f->first, memory_order_acquire);
         s != NULL;
         s = atomic_load_explicit(&s->order_next, memory_order_acquire)) {
      if (f->type == METRIC_HISTOGRAM) {
        render_histogram(&b, f, s);
        continue;
      }
      buf_sample_name(&b, f, s, "", NULL);
      buf_str(&b, " ");
      buf_double(&b, scalar_value(f, s));
      buf_str(&b, "\n");
    }
  }
  if (b.failed) {
    free(b.data);
    if (len != NULL) *len = 0;
    return NULL;
  }
  if (len != NULL) *len = b.len;
  return b.data;
}
