/* log.h - structured logs, one JSON object per line on stderr.
 *
 * Fields: ts, level, service, trace_id, request_id, msg, plus any extra
 * key/values. service, trace_id and request_id come from the calling thread's
 * log context, which the HTTP middleware and the event consumer set, so a
 * handler's log lines carry the trace of the request it serves.
 */
#ifndef SHOPSPHERE_KIT_LOG_H
#define SHOPSPHERE_KIT_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Process-wide settings, called once at start-up before threads exist.
 * level_name: "debug" | "info" | "warn" | "error"; returns -1 if unknown. */
int log_set_level_name(const char *level_name);
void log_set_level(enum log_level level);
void log_set_process(const char *process_name);

/* The calling thread's context; NULL clears a field. Strings are copied. */
void log_context_set(const char *service, const char *trace_id,
                     const char *request_id);
void log_context_clear(void);
const char *log_context_trace_id(void); /* "" when none */
const char *log_context_service(void);

/* Writes one line. fmt is printf-style for msg. */
void log_write(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes one line with extra fields: json_fields is a pre-rendered,
 * comma-separated list of "key":value pairs without braces (may be NULL). */
void log_write_fields(enum log_level level, const char *json_fields,
                      const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

#endif
