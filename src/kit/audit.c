/* audit.c - audit.recorded events for admin and moderator writes (audit.h).
 */
#include "audit.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "auth.h"
#include "bus.h"

static bool ignored(const char *name, const char *const *ignore) {
  for (size_t i = 0; ignore != NULL && ignore[i] != NULL; i++)
    if (strcmp(ignore[i], name) == 0) return true;
  return false;
}

void audit_diff(const void *before_full, const void *after_full,
                const char *const *ignore, void **before_out,
                void **after_out) {
  const json_t *b = before_full, *a = after_full;
  json_t *bo = json_object(), *ao = json_object();
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)b, key, value) {
    if (ignored(key, ignore)) continue;
    json_t *other = json_object_get(a, key);
    if (other != NULL && json_equal(value, other)) continue;
    json_object_set(bo, key, value);
    json_object_set_new(ao, key, other ? json_incref(other) : json_null());
  }
  json_object_foreach((json_t *)a, key, value) {
    if (ignored(key, ignore) || json_object_get(b, key) != NULL) continue;
    json_object_set_new(bo, key, json_null());
    json_object_set(ao, key, value);
  }
  *before_out = bo;
  *after_out = ao;
}

static json_t *opt_string(const char *s) {
  return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

int audit_record(struct db_conn *conn, const struct http_request *req,
                 const char *action, const char *target_type,
                 const char *target_id, const void *before, const void *after) {
  if (conn == NULL || req == NULL || action == NULL || target_type == NULL ||
      target_id == NULL)
    return DB_HARD_ERROR;
  const struct principal *who = auth_principal(req);
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm tm;
  gmtime_r(&tv.tv_sec, &tm);
  char secs[32], at[48];
  strftime(secs, sizeof secs, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(at, sizeof at, "%s.%03dZ", secs, (int)(tv.tv_usec / 1000));
  json_t *actor = json_object();
  json_object_set_new(
      actor, "id", who->authenticated ? opt_string(who->user_id) : json_null());
  json_object_set_new(actor, "email",
                      who->authenticated ? opt_string(who->email)
                                         : json_null());
  json_object_set_new(actor, "role",
                      who->authenticated ? opt_string(who->role) : json_null());
  json_t *data = json_object();
  json_object_set_new(data, "actor", actor);
  json_object_set_new(data, "action", json_string(action));
  json_object_set_new(
      data, "target",
      json_pack("{s:s, s:s}", "type", target_type, "id", target_id));
  json_object_set_new(data, "before",
                      before ? json_incref((json_t *)before) : json_null());
  json_object_set_new(data, "after",
                      after ? json_incref((json_t *)after) : json_null());
  json_object_set_new(data, "trace_id", opt_string(req->trace_id));
  json_object_set_new(data, "at", json_string(at));
  int rc = bus_emit(conn, AUDIT_EVENT, target_id, data);
  json_decref(data);
  return rc;
}

int audit_record_changes(struct db_conn *conn, const struct http_request *req,
                         const char *action, const char *target_type,
                         const char *target_id, const void *before_full,
                         const void *after_full, const char *const *ignore) {
  void *before = NULL, *after = NULL;
  audit_diff(before_full, after_full, ignore, &before, &after);
  int rc =
      audit_record(conn, req, action, target_type, target_id, before, after);
  json_decref(before);
  json_decref(after);
  return rc;
}
