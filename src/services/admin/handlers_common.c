/* handlers_common.c - reading the admin endpoints' query strings: allowed
 * names, integers, the currency and the report window. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "kit/json.h"
#include "kit/money.h"
#include "services/admin/admin.h"
#include "services/admin/domain.h"

int64_t admin_now_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void reply_param(struct http_request *req, struct http_response *res,
                        const char *name, const char *message) {
  http_reply_error(res, req, API_UNPROCESSABLE, message, name);
}

bool admin_query_check(struct http_request *req, struct http_response *res,
                       const char *const *allowed) {
  const char *p = req->query;
  while (p != NULL && *p != '\0') {
    const char *end = strchr(p, '&');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    size_t key_len = eq ? (size_t)(eq - p) : len;
    if (len > 0) {
      char *key = http_decode_component(req->arena, p, key_len, 1);
      char *value =
          eq ? http_decode_component(req->arena, eq + 1, len - key_len - 1, 1)
             : arena_strdup(req->arena, "");
      if (key == NULL || !json_utf8_valid(key, strlen(key))) {
        reply_param(req, res, "query", "malformed query string");
        return false;
      }
      bool known = false;
      for (size_t i = 0; allowed[i] != NULL && !known; i++)
        known = strcmp(allowed[i], key) == 0;
      if (!known) {
        char *msg =
            arena_printf(req->arena, "unknown query parameter %.64s", key);
        http_reply_error(res, req, API_UNPROCESSABLE,
                         msg ? msg : "unknown query parameter",
                         strlen(key) <= 64 ? key : "query");
        return false;
      }
      if (value == NULL || !json_utf8_valid(value, strlen(value))) {
        reply_param(req, res, key, "malformed percent-encoding or UTF-8");
        return false;
      }
    }
    p = end ? end + 1 : NULL;
  }
  return true;
}

bool admin_query_int(struct http_request *req, struct http_response *res,
                     const char *name, int64_t min, int64_t max, int64_t def,
                     int64_t *out) {
  const char *s = http_query(req, name);
  if (s == NULL) {
    *out = def;
    return true;
  }
  char *end = NULL;
  long long v = 0;
  bool ok = s[0] >= '0' && s[0] <= '9' && strlen(s) <= 18;
  if (ok) {
    v = strtoll(s, &end, 10);
    ok = *end == '\0' && v >= min && v <= max;
  }
  if (!ok) {
    char *msg =
        arena_printf(req->arena, "%s must be an integer from %lld to %lld",
                     name, (long long)min, (long long)max);
    reply_param(req, res, name, msg ? msg : "out of range");
    return false;
  }
  *out = v;
  return true;
}

bool admin_query_currency(struct http_request *req, struct http_response *res,
                          char out[4]) {
  const char *s = http_query(req, "currency");
  if (s == NULL) s = req->svc->cfg->default_currency;
  char up[4] = "";
  if (strlen(s) == 3) {
    for (int i = 0; i < 3; i++)
      up[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 'a' + 'A') : s[i];
    up[3] = '\0';
  }
  if (!money_currency_valid(up)) {
    reply_param(req, res, "currency", "currency must be an ISO 4217 code");
    return false;
  }
  memcpy(out, up, 4);
  return true;
}

static bool read_time(struct http_request *req, struct http_response *res,
                      const char *name, int64_t *out, bool *given) {
  const char *s = http_query(req, name);
  *given = s != NULL;
  if (s == NULL) return true;
  if (!admin_time_parse(s, out, NULL)) {
    char *msg = arena_printf(
        req->arena, "%s must be a date (YYYY-MM-DD) or an RFC 3339 time", name);
    reply_param(req, res, name, msg ? msg : "malformed time");
    return false;
  }
  return true;
}

bool admin_query_window(struct http_request *req, struct http_response *res,
                        int64_t default_span_ms, int64_t *from, int64_t *to) {
  bool has_from, has_to;
  int64_t f = 0, t = 0;
  if (!read_time(req, res, "from", &f, &has_from) ||
      !read_time(req, res, "to", &t, &has_to))
    return false;
  if (!has_to) t = admin_bucket_start(admin_now_ms(), GRAN_DAY) + MS_PER_DAY;
  if (!has_from) f = t - default_span_ms > 0 ? t - default_span_ms : 0;
  if (t <= f) {
    reply_param(req, res, "to", "to must be later than from");
    return false;
  }
  *from = f;
  *to = t;
  return true;
}
