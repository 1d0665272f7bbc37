/* domain.c - report windows, calendar buckets and averages (domain.h). */
#include "services/admin/domain.h"

#include <stdio.h>
#include <string.h>

static const char *const gran_names[] = {"hour", "day", "week", "month"};

bool admin_granularity_parse(const char *s, enum granularity *out) {
  for (int g = GRAN_HOUR; g <= GRAN_MONTH; g++) {
    if (s != NULL && strcmp(s, gran_names[g]) == 0) {
      *out = (enum granularity)g;
      return true;
    }
  }
  return false;
}

const char *admin_granularity_name(enum granularity g) {
  return g >= GRAN_HOUR && g <= GRAN_MONTH ? gran_names[g] : "day";
}

/* Howard Hinnant's days_from_civil / civil_from_days. */
int64_t admin_days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

void admin_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m) {
  static const unsigned n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : n[m - 1];
}

/* Reads exactly n digits at *p into *v. */
static bool digits(const char **p, int n, int *v) {
  int x = 0;
  for (int i = 0; i < n; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9') return false;
    x = x * 10 + (c - '0');
  }
  *p += n;
  *v = x;
  return true;
}

bool admin_time_parse(const char *s, int64_t *ms, bool *date_only) {
  if (s == NULL) return false;
  const char *p = s;
  int y, mo, d, h = 0, mi = 0, sec = 0, frac_ms = 0, off_min = 0;
  if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
      !digits(&p, 2, &d))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > (int)days_in_month(y, (unsigned)mo))
    return false;
  bool bare = *p == '\0';
  if (!bare) {
    if (*p != 'T' && *p != 't' && *p != ' ') return false;
    p++;
    if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) ||
        *p++ != ':' || !digits(&p, 2, &sec))
      return false;
    if (h > 23 || mi > 59 || sec > 59) return false;
    if (*p == '.') {
      p++;
      int n = 0;
      while (*p >= '0' && *p <= '9') {
        if (n < 3) frac_ms = frac_ms * 10 + (*p - '0');
        n++;
        p++;
      }
      if (n == 0 || n > 9) return false;
      for (int i = n; i < 3; i++)
        frac_ms *= 10;
    }
    if (*p == 'Z' || *p == 'z') {
      p++;
    } else if (*p == '+' || *p == '-') {
      int sign = *p == '-' ? -1 : 1, oh, om;
      p++;
      if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om))
        return false;
      if (oh > 23 || om > 59) return false;
      off_min = sign * (oh * 60 + om);
    } else {
      return false;
    }
    if (*p != '\0') return false;
  }
  int64_t days = admin_days_from_civil(y, (unsigned)mo, (unsigned)d);
  int64_t t = days * MS_PER_DAY + (int64_t)h * MS_PER_HOUR +
              (int64_t)mi * 60000 + (int64_t)sec * 1000 + frac_ms -
              (int64_t)off_min * 60000;
  if (t < ADMIN_TIME_MIN || t > ADMIN_TIME_MAX) return false;
  *ms = t;
  if (date_only != NULL) *date_only = bare;
  return true;
}

char *admin_time_format(int64_t ms, char *out) {
  int64_t days = ms / MS_PER_DAY, rest = ms % MS_PER_DAY;
  if (rest < 0) {
    rest += MS_PER_DAY;
    days--;
  }
  int64_t y;
  unsigned m, d;
  admin_civil_from_days(days, &y, &m, &d);
  snprintf(out, ADMIN_TIME_BUF, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
           (int)(y % 10000), m % 100, d % 100, (int)(rest / MS_PER_HOUR % 24),
           (int)(rest / 60000 % 60), (int)(rest / 1000 % 60),
           (int)(rest % 1000));
  return out;
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return a % b != 0 && (a < 0) != (b < 0) ? q - 1 : q;
}

int64_t admin_bucket_start(int64_t ms, enum granularity g) {
  int64_t days = floor_div(ms, MS_PER_DAY);
  switch (g) {
  case GRAN_HOUR:
    return floor_div(ms, MS_PER_HOUR) * MS_PER_HOUR;
  case GRAN_DAY:
    return days * MS_PER_DAY;
  case GRAN_WEEK: {
    /* 1970-01-01 was a Thursday: Monday-based weekday is (days + 3) mod 7. */
    int64_t dow = ((days + 3) % 7 + 7) % 7;
    return (days - dow) * MS_PER_DAY;
  }
  case GRAN_MONTH: {
    int64_t y;
    unsigned m, d;
    admin_civil_from_days(days, &y, &m, &d);
    return admin_days_from_civil(y, m, 1) * MS_PER_DAY;
  }
  }
  return days * MS_PER_DAY;
}

int64_t admin_bucket_next(int64_t start, enum granularity g) {
  switch (g) {
  case GRAN_HOUR:
    return start + MS_PER_HOUR;
  case GRAN_DAY:
    return start + MS_PER_DAY;
  case GRAN_WEEK:
    return start + 7 * MS_PER_DAY;
  case GRAN_MONTH: {
    int64_t y;
    unsigned m, d;
    admin_civil_from_days(floor_div(start, MS_PER_DAY), &y, &m, &d);
    if (++m > 12) {
      m = 1;
      y++;
    }
    return admin_days_from_civil(y, m, 1) * MS_PER_DAY;
  }
  }
  return start + MS_PER_DAY;
}

size_t admin_buckets(int64_t from, int64_t to, enum granularity g,
                     int64_t *starts, size_t max) {
  size_t n = 0;
  for (int64_t b = admin_bucket_start(from, g); b < to;
       b = admin_bucket_next(b, g)) {
    if (n < max && starts != NULL) starts[n] = b;
    n++;
    if (n > max) break; /* too many: the caller refuses the window */
  }
  return n;
}

long admin_bucket_index(const int64_t *starts, size_t n, int64_t start) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (starts[mid] == start) return (long)mid;
    if (starts[mid] < start)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

int64_t admin_average(int64_t gross, int64_t orders) {
  if (orders <= 0) return 0;
  int64_t q = gross / orders, r = gross % orders;
  if (r < 0) r = -r;
  if (2 * r >= orders) q += gross < 0 ? -1 : 1;
  return q;
}
