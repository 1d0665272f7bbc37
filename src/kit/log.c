/* log.c - structured JSON log lines on stderr.
 *
 * One line per call, written with a single write(2) so lines from several
 * threads (and processes sharing the supervisor's pipe) never interleave.
 */
#include "kit/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
static char process_name[64] = "shopsphere";

static _Thread_local char ctx_service[48];
static _Thread_local char ctx_trace[33];
static _Thread_local char ctx_request[40];

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_set_level_name(const char *level_name) {
  for (int i = 0; i < 4; i++) {
    if (strcmp(level_name, level_names[i]) == 0) {
      min_level = (enum log_level)i;
      return 0;
    }
  }
  return -1;
}

void log_set_level(enum log_level level) { min_level = level; }

void log_set_process(const char *name) {
  snprintf(process_name, sizeof process_name, "%s", name);
}

static void copy_field(char *dst, size_t size, const char *src) {
  if (src == NULL) {
    dst[0] = '\0';
    return;
  }
  snprintf(dst, size, "%s", src);
}

void log_context_set(const char *service, const char *trace_id,
                     const char *request_id) {
  copy_field(ctx_service, sizeof ctx_service, service);
  copy_field(ctx_trace, sizeof ctx_trace, trace_id);
  copy_field(ctx_request, sizeof ctx_request, request_id);
}

void log_context_clear(void) {
  ctx_service[0] = ctx_trace[0] = ctx_request[0] = '\0';
}

const char *log_context_trace_id(void) { return ctx_trace; }
const char *log_context_service(void) { return ctx_service; }

/* Appends s to buf as the inside of a JSON string, escaping as needed.
 * Returns the new length, never beyond cap - 1. */
static size_t append_escaped(char *buf, size_t len, size_t cap,
                             const char *s) {
  for (; *s != '\0' && len + 7 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      buf[len++] = '\\';
      buf[len++] = (char)c;
    } else if (c == '\n') {
      buf[len++] = '\\';
      buf[len++] = 'n';
    } else if (c < 0x20) {
      len += (size_t)snprintf(buf + len, cap - len, "\\u%04x", c);
    } else {
      buf[len++] = (char)c;
    }
  }
  buf[len] = '\0';
  return len;
}

/* Appends s verbatim, truncating at cap - 1. A copy, not snprintf: every
 * request writes an access line, and the formatter showed in profiles. */
static size_t append_raw(char *buf, size_t len, size_t cap, const char *s) {
  if (len + 1 >= cap) return len;
  size_t n = strlen(s);
  if (n > cap - 1 - len) n = cap - 1 - len;
  memcpy(buf + len, s, n);
  len += n;
  buf[len] = '\0';
  return len;
}

/* "YYYY-MM-DDTHH:MM:SS" of sec, formatted once per second per thread
 * (gmtime_r and strftime per line showed in profiles). */
static size_t format_seconds(time_t sec, char *out, size_t size) {
  static _Thread_local time_t cached_sec = (time_t)-1;
  static _Thread_local char cached[32];
  static _Thread_local size_t cached_len;
  if (sec != cached_sec) {
    struct tm tm;
    gmtime_r(&sec, &tm);
    cached_len = strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_sec = sec;
  }
  if (cached_len >= size) return 0;
  memcpy(out, cached, cached_len + 1);
  return cached_len;
}

static void write_line(enum log_level level, const char *fields,
                       const char *fmt, va_list ap) {
  char msg[2048];
  char line[4096];
  struct timeval tv;
  char ts[40];

  vsnprintf(msg, sizeof msg, fmt, ap);
  gettimeofday(&tv, NULL);
  size_t tl = format_seconds(tv.tv_sec, ts, sizeof ts);
  long ms = (long)(tv.tv_usec / 1000);
  ts[tl++] = '.';
  ts[tl++] = (char)('0' + ms / 100);
  ts[tl++] = (char)('0' + ms / 10 % 10);
  ts[tl++] = (char)('0' + ms % 10);
  ts[tl++] = 'Z';
  ts[tl] = '\0';

  size_t cap = sizeof line - 2; /* room for '}' and '\n' */
  size_t len = 0;
  len = append_raw(line, len, cap, "{\"ts\":\"");
  len = append_raw(line, len, cap, ts);
  len = append_raw(line, len, cap, "\",\"level\":\"");
  len = append_raw(line, len, cap, level_names[level]);
  len = append_raw(line, len, cap, "\",\"service\":\"");
  len = append_escaped(line, len, cap,
                       ctx_service[0] != '\0' ? ctx_service : process_name);
  len = append_raw(line, len, cap, "\"");
  if (ctx_trace[0] != '\0') {
    len = append_raw(line, len, cap, ",\"trace_id\":\"");
    len = append_raw(line, len, cap, ctx_trace);
    len = append_raw(line, len, cap, "\"");
  }
  if (ctx_request[0] != '\0') {
    len = append_raw(line, len, cap, ",\"request_id\":\"");
    len = append_escaped(line, len, cap, ctx_request);
    len = append_raw(line, len, cap, "\"");
  }
  len = append_raw(line, len, cap, ",\"msg\":\"");
  len = append_escaped(line, len, cap, msg);
  len = append_raw(line, len, cap, "\"");
  if (fields != NULL && fields[0] != '\0') {
    len = append_raw(line, len, cap, ",");
    len = append_raw(line, len, cap, fields);
  }
  line[len++] = '}';
  line[len++] = '\n';
  /* One write per line: atomic for pipes up to PIPE_BUF, and never
   * interleaved mid-line by other threads' stdio buffers. */
  ssize_t w = write(STDERR_FILENO, line, len);
  (void)w;
}

void log_write(enum log_level level, const char *fmt, ...) {
  if (level < min_level) return;
  va_list ap;
  va_start(ap, fmt);
  write_line(level, NULL, fmt, ap);
  va_end(ap);
}

void log_write_fields(enum log_level level, const char *json_fields,
                      const char *fmt, ...) {
  if (level < min_level) return;
  va_list ap;
  va_start(ap, fmt);
  write_line(level, json_fields, fmt, ap);
  va_end(ap);
}
