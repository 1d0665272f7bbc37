/* test_metrics.c - the Prometheus registry: exposition format, labels and
 * their escaping, histogram buckets, and exact totals under concurrent
 * updates.
 *
 * The registry is process-wide and never shrinks, so every test registers
 * families under its own names and looks only at its own lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/metrics.h"

/* Renders the registry and asserts `needle` appears in it. */
static void assert_rendered(const char *needle) {
  size_t len = 0;
  char *text = metrics_render(&len);
  assert_non_null(text);
  assert_int_equal(strlen(text), len);
  if (strstr(text, needle) == NULL)
    fail_msg("expected in render: <%s>\n--- render ---\n%s", needle, text);
  free(text);
}

static void assert_not_rendered(const char *needle) {
  char *text = metrics_render(NULL);
  assert_non_null(text);
  if (strstr(text, needle) != NULL)
    fail_msg("unexpected in render: <%s>", needle);
  free(text);
}

static void test_counter_without_labels(void **state) {
  (void)state;
  struct metric_family *f =
      metric_family("t_plain_total", "Plain counter.", METRIC_COUNTER, NULL,
                    NULL, 0);
  assert_non_null(f);
  /* An unlabelled family shows 0 before its first update. */
  assert_rendered("# HELP t_plain_total Plain counter.\n"
                  "# TYPE t_plain_total counter\n"
                  "t_plain_total 0\n");
  metric_inc(f, NULL, 1);
  metric_inc(f, NULL, 2);
  metric_inc(f, NULL, -5); /* counters never go down */
  assert_rendered("\nt_plain_total 3\n");
  assert_true(metric_value(f, NULL) == 3.0);
}

static void test_same_name_same_family(void **state) {
  (void)state;
  const char *labels[] = {"a", NULL};
  struct metric_family *f1 =
      metric_family("t_again_total", "x", METRIC_COUNTER, labels, NULL, 0);
  struct metric_family *f2 =
      metric_family("t_again_total", "x", METRIC_COUNTER, labels, NULL, 0);
  assert_non_null(f1);
  assert_ptr_equal(f1, f2);
  /* Another type or other labels under the same name is a bug: refused. */
  assert_null(metric_family("t_again_total", "x", METRIC_GAUGE, labels, NULL,
                            0));
  assert_null(
      metric_family("t_again_total", "x", METRIC_COUNTER, NULL, NULL, 0));
  /* Names the exposition format cannot carry are refused. */
  assert_null(metric_family("9bad", "x", METRIC_COUNTER, NULL, NULL, 0));
  assert_null(metric_family("t-dash", "x", METRIC_COUNTER, NULL, NULL, 0));
  const char *bad_label[] = {"le", NULL};
  assert_null(metric_family("t_le_hist", "x", METRIC_HISTOGRAM, bad_label,
                            NULL, 0));
  const char *too_many[] = {"a", "b", "c", "d", "e", NULL};
  assert_null(
      metric_family("t_many_total", "x", METRIC_COUNTER, too_many, NULL, 0));
  /* Updates through a refused (NULL) family are harmless no-ops. */
  metric_inc(NULL, NULL, 1);
  metric_observe(NULL, NULL, 1);
  assert_true(metric_value(NULL, NULL) == 0);
}

static void test_labels_and_escaping(void **state) {
  (void)state;
  const char *names[] = {"route", "status", NULL};
  struct metric_family *f = metric_family(
      "t_requests_total", "Requests \"served\"\nby route \\ status.",
      METRIC_COUNTER, names, NULL, 0);
  assert_non_null(f);
  /* HELP escapes backslash and newline but not quotes. */
  assert_rendered("# HELP t_requests_total Requests \"served\"\\nby route "
                  "\\\\ status.\n");

  const char *ok[] = {"/products/{id}", "200"};
  const char *weird[] = {"a\"b\\c\nd", "500"};
  metric_inc(f, ok, 1);
  metric_inc(f, ok, 1);
  metric_inc(f, weird, 1);
  assert_rendered("t_requests_total{route=\"/products/{id}\",status=\"200\"} "
                  "2\n");
  assert_rendered(
      "t_requests_total{route=\"a\\\"b\\\\c\\nd\",status=\"500\"} 1\n");
  assert_true(metric_value(f, ok) == 2.0);

  /* Value boundaries matter: ("ab","c") is not ("a","bc"). */
  const char *ab_c[] = {"ab", "c"};
  const char *a_bc[] = {"a", "bc"};
  metric_inc(f, ab_c, 1);
  assert_true(metric_value(f, ab_c) == 1.0);
  assert_true(metric_value(f, a_bc) == 0.0);

  /* A NULL value counts as the empty string. */
  const char *with_null[] = {NULL, "404"};
  metric_inc(f, with_null, 4);
  assert_rendered("t_requests_total{route=\"\",status=\"404\"} 4\n");
}

static void test_long_label_truncated(void **state) {
  (void)state;
  const char *names[] = {"path", NULL};
  struct metric_family *f =
      metric_family("t_long_total", "x", METRIC_COUNTER, names, NULL, 0);
  char value[201];
  memset(value, 'a', 200);
  value[200] = '\0';
  const char *labels[] = {value};
  metric_inc(f, labels, 1);

  char want[160];
  snprintf(want, sizeof want, "t_long_total{path=\"%.128s\"} 1\n", value);
  assert_rendered(want);
  snprintf(want, sizeof want, "{path=\"%.129s\"}", value);
  assert_not_rendered(want);
  /* Two values equal in their first 128 bytes are the same series. */
  value[150] = 'b';
  metric_inc(f, labels, 1);
  assert_true(metric_value(f, labels) == 2.0);

  /* Truncation never splits a UTF-8 character: 127 ASCII bytes then a
   * two-byte 'é' keeps only the 127. */
  char utf[140];
  memset(utf, 'x', 127);
  memcpy(utf + 127, "\xc3\xa9zz", 5);
  const char *ul[] = {utf};
  metric_inc(f, ul, 1);
  snprintf(want, sizeof want, "t_long_total{path=\"%.127s\"} 1\n", utf);
  assert_rendered(want);
}

static double forty_two(void *arg) { return *(double *)arg; }

static void test_gauges(void **state) {
  (void)state;
  const char *names[] = {"pool", NULL};
  struct metric_family *g =
      metric_family("t_in_use", "Connections in use.", METRIC_GAUGE, names,
                    NULL, 0);
  const char *a[] = {"a"};
  const char *b[] = {"b"};
  metric_set(g, a, 5);
  metric_inc(g, a, -2); /* a gauge may go down */
  metric_set(g, b, 0.25);
  assert_rendered("# TYPE t_in_use gauge\n");
  assert_rendered("t_in_use{pool=\"a\"} 3\n");
  assert_rendered("t_in_use{pool=\"b\"} 0.25\n");

  double value = 42;
  const char *c[] = {"c"};
  metric_gauge_callback(g, c, forty_two, &value);
  assert_rendered("t_in_use{pool=\"c\"} 42\n");
  value = 7.5; /* evaluated at render time, not at registration */
  assert_rendered("t_in_use{pool=\"c\"} 7.5\n");
  assert_true(metric_value(g, c) == 7.5);
  metric_gauge_callback(g, c, NULL, NULL); /* value lives on this stack */
}

static void test_histogram_buckets(void **state) {
  (void)state;
  const char *names[] = {"route", NULL};
  const double bounds[] = {0.1, 0.5, 1};
  struct metric_family *h = metric_family(
      "t_latency_seconds", "Latency.", METRIC_HISTOGRAM, names, bounds, 3);
  assert_non_null(h);
  const char *r[] = {"/x"};
  metric_observe(h, r, 0.05);
  metric_observe(h, r, 0.1); /* le is inclusive */
  metric_observe(h, r, 0.3);
  metric_observe(h, r, 2);
  metric_inc(h, r, 1); /* not a histogram operation: ignored */
  assert_rendered("# TYPE t_latency_seconds histogram\n"
                  "t_latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"
                  "t_latency_seconds_bucket{route=\"/x\",le=\"0.5\"} 3\n"
                  "t_latency_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"
                  "t_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
                  "t_latency_seconds_sum{route=\"/x\"} 2.45\n"
                  "t_latency_seconds_count{route=\"/x\"} 4\n");
  assert_true(metric_value(h, r) == 4.0);
}

static void test_histogram_default_buckets(void **state) {
  (void)state;
  struct metric_family *h = metric_family("t_default_seconds", "d",
                                          METRIC_HISTOGRAM, NULL, NULL, 0);
  assert_non_null(h);
  metric_observe(h, NULL, 0.003);
  assert_rendered("t_default_seconds_bucket{le=\"0.001\"} 0\n"
                  "t_default_seconds_bucket{le=\"0.0025\"} 0\n"
                  "t_default_seconds_bucket{le=\"0.005\"} 1\n");
  assert_rendered("t_default_seconds_bucket{le=\"10\"} 1\n"
                  "t_default_seconds_bucket{le=\"+Inf\"} 1\n"
                  "t_default_seconds_sum 0.003\n"
                  "t_default_seconds_count 1\n");
  /* Bad bounds are refused. */
  const double descending[] = {1, 0.5};
  assert_null(metric_family("t_bad_seconds", "b", METRIC_HISTOGRAM, NULL,
                            descending, 2));
}

/* --- concurrency ----------------------------------------------------------- */

#define THREADS 4
#define ROUNDS 50000
#define SPREAD 40 /* distinct label values, created concurrently */

static struct metric_family *conc_counter;
static struct metric_family *conc_hist;

static void *hammer(void *arg) {
  int id = *(int *)arg;
  char value[16];
  for (int i = 0; i < ROUNDS; i++) {
    snprintf(value, sizeof value, "v%d", (i + id) % SPREAD);
    const char *labels[] = {value};
    metric_inc(conc_counter, labels, 1);
    metric_observe(conc_hist, labels, (i % 2) ? 0.002 : 3.0);
  }
  return NULL;
}

static void test_concurrent_updates(void **state) {
  (void)state;
  const char *names[] = {"v", NULL};
  conc_counter =
      metric_family("t_conc_total", "c", METRIC_COUNTER, names, NULL, 0);
  conc_hist =
      metric_family("t_conc_seconds", "h", METRIC_HISTOGRAM, names, NULL, 0);
  pthread_t threads[THREADS];
  int ids[THREADS];
  for (int i = 0; i < THREADS; i++) {
    ids[i] = i;
    assert_int_equal(pthread_create(&threads[i], NULL, hammer, &ids[i]), 0);
  }
  /* Render while the others write: must neither crash nor race. */
  for (int i = 0; i < 20; i++) free(metrics_render(NULL));
  for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);

  double total = 0, observed = 0;
  for (int v = 0; v < SPREAD; v++) {
    char value[16];
    snprintf(value, sizeof value, "v%d", v);
    const char *labels[] = {value};
    total += metric_value(conc_counter, labels);
    observed += metric_value(conc_hist, labels);
  }
  assert_true(total == (double)THREADS * ROUNDS);
  assert_true(observed == (double)THREADS * ROUNDS);

  /* Each label value appears exactly once: no duplicate series won a race. */
  char *text = metrics_render(NULL);
  assert_non_null(text);
  int lines = 0;
  for (const char *p = text; (p = strstr(p, "\nt_conc_total{")) != NULL; p++)
    lines++;
  assert_int_equal(lines, SPREAD);
  /* THREADS*ROUNDS/2 observations of 3.0 and as many of 0.002. */
  char want[128];
  snprintf(want, sizeof want, "t_conc_seconds_bucket{v=\"v0\",le=\"0.0025\"} %d\n",
           THREADS * ROUNDS / SPREAD / 2);
  if (strstr(text, want) == NULL) fail_msg("missing <%s>", want);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_counter_without_labels),
      cmocka_unit_test(test_same_name_same_family),
      cmocka_unit_test(test_labels_and_escaping),
      cmocka_unit_test(test_long_label_truncated),
      cmocka_unit_test(test_gauges),
      cmocka_unit_test(test_histogram_buckets),
      cmocka_unit_test(test_histogram_default_buckets),
      cmocka_unit_test(test_concurrent_updates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
