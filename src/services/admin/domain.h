/* domain.h - the admin service's pure rules: report windows and buckets.
 *
 * Times are Unix epoch milliseconds, always UTC. A report covers [from, to)
 * and is cut into calendar buckets: a UTC day, an ISO week (Monday 00:00 UTC)
 * or a calendar month. No SQL, no HTTP; unit-tested in
 * tests/unit/test_admin_domain.c.
 */
#ifndef SHOPSPHERE_ADMIN_DOMAIN_H
#define SHOPSPHERE_ADMIN_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MS_PER_HOUR INT64_C(3600000)
#define MS_PER_DAY INT64_C(86400000)

/* Earliest and latest instants a report accepts: 1970-01-01 and
 * 9999-12-31T23:59:59.999Z. */
#define ADMIN_TIME_MIN INT64_C(0)
#define ADMIN_TIME_MAX INT64_C(253402300799999)

/* Most buckets one report may have (a day report of ~3 years). */
#define ADMIN_MAX_BUCKETS 1100

enum granularity { GRAN_HOUR = 0, GRAN_DAY, GRAN_WEEK, GRAN_MONTH };

/* "day", "week", "month" (and "hour", used by the dashboard); false when
 * s is none of them. */
bool admin_granularity_parse(const char *s, enum granularity *out);

/* The PostgreSQL date_trunc field of g ("day", ...). */
const char *admin_granularity_name(enum granularity g);

/* Parses a date ("2026-12-03", midnight UTC) or an RFC 3339 time
 * ("2026-12-03T08:15:00Z", "...08:15:00.250+01:00", 'T' or 't' or ' ').
 * Refuses impossible dates (2026-02-30), fields out of range, trailing
 * characters and instants outside [ADMIN_TIME_MIN, ADMIN_TIME_MAX]. *date_only
 * (may be NULL) says whether s was a bare date. */
bool admin_time_parse(const char *s, int64_t *ms, bool *date_only);

/* Formats ms as RFC 3339 UTC with milliseconds ("2026-12-03T08:15:00.000Z")
 * into out (at least 32 bytes). Returns out. */
#define ADMIN_TIME_BUF 32
char *admin_time_format(int64_t ms, char *out);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t admin_days_from_civil(int64_t y, unsigned m, unsigned d);
void admin_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* The start of the bucket that contains ms, and the start of the next. */
int64_t admin_bucket_start(int64_t ms, enum granularity g);
int64_t admin_bucket_next(int64_t start, enum granularity g);

/* The starts of the buckets that meet [from, to): the bucket of from, then
 * each next one while it starts before to. Writes at most max of them to
 * starts and returns how many the window has (more than max: too long).
 * from < to is the caller's check. */
size_t admin_buckets(int64_t from, int64_t to, enum granularity g,
                     int64_t *starts, size_t max);

/* Index of the bucket starting at start in starts[0..n), or -1. */
long admin_bucket_index(const int64_t *starts, size_t n, int64_t start);

/* gross / orders in minor units, rounded half-up (half away from zero);
 * 0 when orders is 0. */
int64_t admin_average(int64_t gross, int64_t orders);

#endif
