/* test_admin_domain.c - the admin service's report rules
 * (src/services/admin/domain.c): parsing dates and RFC 3339 times, UTC
 * calendar buckets (day, ISO week, month), averages rounded half-up; and the
 * kit's audit_diff (src/kit/audit.c), which picks the changed members. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "kit/audit.h"
#include "services/admin/domain.h"

#define assert_i64(a, b) assert_true((int64_t)(a) == (int64_t)(b))

/* 2026-12-03T00:00:00Z */
#define DEC3 INT64_C(1796256000000)

static int64_t parse(const char *s) {
  int64_t ms = -1;
  assert_true(admin_time_parse(s, &ms, NULL));
  return ms;
}

static void test_time_parse(void **state) {
  (void)state;
  bool date_only = false;
  int64_t ms = 0;
  assert_true(admin_time_parse("2026-12-03", &ms, &date_only));
  assert_i64(ms, DEC3);
  assert_true(date_only);
  assert_i64(parse("1970-01-01"), 0);
  assert_i64(parse("2026-12-03T08:15:30Z"),
             DEC3 + 8 * MS_PER_HOUR + 15 * 60000 + 30000);
  assert_true(admin_time_parse("2026-12-03T08:15:30.250Z", &ms, &date_only));
  assert_false(date_only);
  assert_i64(ms, DEC3 + 8 * MS_PER_HOUR + 15 * 60000 + 30250);
  /* Offsets move the instant to UTC; fractions past milliseconds drop. */
  assert_i64(parse("2026-12-03T01:00:00+01:00"), DEC3);
  assert_i64(parse("2026-12-02T23:30:00-00:30"), DEC3);
  assert_i64(parse("2026-12-03t00:00:00.123456789z"), DEC3 + 123);
  assert_i64(parse("2026-12-03 00:00:00.5Z"), DEC3 + 500);
  assert_i64(parse("2024-02-29"), INT64_C(1709164800000));

  const char *bad[] = {"",
                       "2026-12-3",
                       "2026-13-01",
                       "2026-00-10",
                       "2026-02-29",
                       "2026-04-31",
                       "2026-12-03T24:00:00Z",
                       "2026-12-03T08:60:00Z",
                       "2026-12-03T08:00:60Z",
                       "2026-12-03T08:00:00",
                       "2026-12-03T08:00Z",
                       "2026-12-03T08:00:00.Z",
                       "2026-12-03T08:00:00+0100",
                       "2026-12-03T08:00:00Z ",
                       "2026-12-03x",
                       "1969-12-31",
                       "-001-01-01",
                       "12/03/2026",
                       "2026-12-03'; DROP TABLE x;--",
                       "２０２６-12-03",
                       "now"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_false(admin_time_parse(bad[i], &ms, NULL));
  assert_false(admin_time_parse(NULL, &ms, NULL));
}

static void test_time_format(void **state) {
  (void)state;
  char buf[ADMIN_TIME_BUF];
  assert_string_equal(admin_time_format(DEC3, buf), "2026-12-03T00:00:00.000Z");
  assert_string_equal(admin_time_format(DEC3 + 8 * MS_PER_HOUR + 7, buf),
                      "2026-12-03T08:00:00.007Z");
  assert_string_equal(admin_time_format(0, buf), "1970-01-01T00:00:00.000Z");
  assert_string_equal(admin_time_format(ADMIN_TIME_MAX, buf),
                      "9999-12-31T23:59:59.999Z");
  /* Round trip over many days, leap years included. */
  for (int64_t d = 0; d < 200000; d += 37) {
    int64_t t = d * MS_PER_DAY + (d % 86400) * 1000;
    assert_i64(parse(admin_time_format(t, buf)), t);
  }
}

static void test_buckets(void **state) {
  (void)state;
  int64_t t = DEC3 + 13 * MS_PER_HOUR + 12345; /* a Thursday afternoon */
  assert_i64(admin_bucket_start(t, GRAN_HOUR), DEC3 + 13 * MS_PER_HOUR);
  assert_i64(admin_bucket_start(t, GRAN_DAY), DEC3);
  /* ISO week: Monday 2026-11-30. */
  assert_i64(admin_bucket_start(t, GRAN_WEEK), DEC3 - 3 * MS_PER_DAY);
  assert_i64(admin_bucket_start(DEC3 - 3 * MS_PER_DAY, GRAN_WEEK),
             DEC3 - 3 * MS_PER_DAY);
  assert_i64(admin_bucket_start(DEC3 - 3 * MS_PER_DAY - 1, GRAN_WEEK),
             DEC3 - 10 * MS_PER_DAY);
  assert_i64(admin_bucket_start(t, GRAN_MONTH), parse("2026-12-01"));
  assert_i64(admin_bucket_next(parse("2026-12-01"), GRAN_MONTH),
             parse("2027-01-01"));
  assert_i64(admin_bucket_next(parse("2024-02-01"), GRAN_MONTH),
             parse("2024-03-01"));
  assert_i64(admin_bucket_next(DEC3, GRAN_WEEK), DEC3 + 7 * MS_PER_DAY);

  /* [Dec 3 08:00, Dec 5 00:00) by day: Dec 3 and Dec 4. */
  int64_t starts[8];
  size_t n = admin_buckets(DEC3 + 8 * MS_PER_HOUR, DEC3 + 2 * MS_PER_DAY,
                           GRAN_DAY, starts, 8);
  assert_int_equal(n, 2);
  assert_i64(starts[0], DEC3);
  assert_i64(starts[1], DEC3 + MS_PER_DAY);
  assert_int_equal(admin_bucket_index(starts, n, DEC3 + MS_PER_DAY), 1);
  assert_int_equal(admin_bucket_index(starts, n, DEC3 + 2 * MS_PER_DAY), -1);
  /* A whole year by month: 12; by day: 365; too many for a cap of 100. */
  assert_int_equal(admin_buckets(parse("2025-01-01"), parse("2026-01-01"),
                                 GRAN_MONTH, NULL, 1100),
                   12);
  assert_int_equal(admin_buckets(parse("2025-01-01"), parse("2026-01-01"),
                                 GRAN_DAY, NULL, 1100),
                   365);
  assert_true(admin_buckets(parse("2025-01-01"), parse("2026-01-01"), GRAN_DAY,
                            NULL, 100) > 100);
  /* 24 hourly buckets end with the current hour. */
  assert_int_equal(admin_buckets(DEC3 - 23 * MS_PER_HOUR, DEC3 + MS_PER_HOUR,
                                 GRAN_HOUR, NULL, 100),
                   24);
}

static void test_granularity(void **state) {
  (void)state;
  enum granularity g;
  assert_true(admin_granularity_parse("week", &g));
  assert_int_equal(g, GRAN_WEEK);
  assert_string_equal(admin_granularity_name(GRAN_MONTH), "month");
  assert_false(admin_granularity_parse("Week", &g));
  assert_false(admin_granularity_parse("year", &g));
  assert_false(admin_granularity_parse(NULL, &g));
}

static void test_average(void **state) {
  (void)state;
  assert_i64(admin_average(0, 0), 0);
  assert_i64(admin_average(1000, 0), 0);
  assert_i64(admin_average(3000, 3), 1000);
  assert_i64(admin_average(1000, 3), 333); /* 333.33 */
  assert_i64(admin_average(2000, 3), 667); /* 666.67 */
  assert_i64(admin_average(5, 2), 3);      /* 2.5 half-up */
  assert_i64(admin_average(3, 2), 2);      /* 1.5 half-up */
  assert_i64(admin_average(-5, 2), -3);    /* away from zero */
  assert_i64(admin_average(1001, 2), 501); /* 500.5 */
  assert_i64(admin_average(INT64_C(1000000000000000), 7),
             INT64_C(142857142857143));
}

static void test_audit_diff(void **state) {
  (void)state;
  json_t *before = json_pack("{s:s, s:s, s:i, s:s, s:{s:s}}", "name", "Tee",
                             "price", "19.99", "stock", 5, "updated_at", "t1",
                             "attributes", "color", "red");
  json_t *after = json_pack("{s:s, s:s, s:i, s:s, s:{s:s}, s:s}", "name", "Tee",
                            "price", "24.99", "stock", 5, "updated_at", "t2",
                            "attributes", "color", "blue", "extra", "x");
  static const char *const ignore[] = {"updated_at", NULL};
  void *b = NULL, *a = NULL;
  audit_diff(before, after, ignore, &b, &a);
  json_t *want_b = json_pack("{s:s, s:{s:s}, s:n}", "price", "19.99",
                             "attributes", "color", "red", "extra");
  json_t *want_a = json_pack("{s:s, s:{s:s}, s:s}", "price", "24.99",
                             "attributes", "color", "blue", "extra", "x");
  assert_true(json_equal(b, want_b));
  assert_true(json_equal(a, want_a));
  json_decref(b);
  json_decref(a);
  /* Nothing changed: two empty objects. */
  audit_diff(before, before, ignore, &b, &a);
  assert_int_equal(json_object_size(b), 0);
  assert_int_equal(json_object_size(a), 0);
  json_decref(b);
  json_decref(a);
  json_decref(want_b);
  json_decref(want_a);
  json_decref(before);
  json_decref(after);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_time_parse), cmocka_unit_test(test_time_format),
      cmocka_unit_test(test_buckets),    cmocka_unit_test(test_granularity),
      cmocka_unit_test(test_average),    cmocka_unit_test(test_audit_diff),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
