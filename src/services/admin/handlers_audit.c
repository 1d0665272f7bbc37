/* handlers_audit.c - GET /api/v1/admin/audit-log: every admin and moderator
 * write of the platform, newest first (docs/audit.md). */
#include <jansson.h>
#include <string.h>

#include "kit/handler.h"
#include "kit/uuid.h"
#include "services/admin/admin.h"
#include "services/admin/store.h"

static json_t *opt(const char *s) { return s ? json_string(s) : json_null(); }

/* Stored JSON text back into a value (null when absent or unreadable). */
static json_t *stored(const char *text) {
  json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
  return v ? v : json_null();
}

void admin_handle_audit_log(struct http_request *req,
                            struct http_response *res) {
  static const char *const allowed[] = {"actor", "target", "limit", "cursor",
                                        NULL};
  int64_t limit;
  if (!admin_query_check(req, res, allowed) ||
      !admin_query_int(req, res, "limit", 1, 100, 20, &limit))
    return;
  const char *actor = http_query(req, "actor");
  const char *target = http_query(req, "target");
  const char *cursor_s = http_query(req, "cursor");
  if (actor != NULL && (actor[0] == '\0' || strlen(actor) > 320)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "actor must be a user id or an e-mail address", "actor");
    return;
  }
  if (target != NULL && (target[0] == '\0' || strlen(target) > 200)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "target must be 1 to 200 characters", "target");
    return;
  }
  char cursor[UUID_STR_LEN];
  if (cursor_s != NULL && !uuid_normalize(cursor_s, cursor)) {
    http_reply_error(res, req, API_UNPROCESSABLE, "malformed cursor", "cursor");
    return;
  }
  char actor_id[UUID_STR_LEN], target_id[UUID_STR_LEN];
  if (actor != NULL && uuid_normalize(actor, actor_id)) actor = actor_id;
  if (target != NULL && uuid_normalize(target, target_id)) target = target_id;

  struct db_conn *c = db_acquire(req->svc->db, ADMIN_DB_WAIT_MS);
  if (c == NULL) {
    http_reply_db_error(res, req, DB_UNAVAILABLE);
    return;
  }
  struct audit_row *rows = NULL;
  /* One more than asked tells whether a next page exists. */
  int n = astore_audit_list(c, req->arena, actor, target,
                            cursor_s ? cursor : NULL, (int)limit + 1, &rows);
  db_release(req->svc->db, c);
  if (n < 0) {
    http_reply_db_error(res, req, n);
    return;
  }
  int shown = n > limit ? (int)limit : n;
  json_t *items = json_array();
  for (int i = 0; i < shown; i++) {
    const struct audit_row *r = &rows[i];
    json_t *e = json_object();
    json_object_set_new(e, "id", json_string(r->id));
    json_object_set_new(e, "actor",
                        json_pack("{s:o, s:o, s:o}", "id", opt(r->actor_id),
                                  "email", opt(r->actor_email), "role",
                                  opt(r->actor_role)));
    json_object_set_new(e, "action", json_string(r->action));
    json_object_set_new(
        e, "target",
        json_pack("{s:s, s:s}", "type", r->target_type, "id", r->target_id));
    json_object_set_new(e, "before", stored(r->before));
    json_object_set_new(e, "after", stored(r->after));
    json_object_set_new(e, "trace_id", opt(r->trace_id));
    json_object_set_new(e, "at", json_string(r->at));
    json_array_append_new(items, e);
  }
  json_t *body =
      json_pack("{s:o, s:o}", "items", items, "next_cursor",
                n > limit ? json_string(rows[shown - 1].id) : json_null());
  http_reply_json(res, 200, body);
  http_response_header(res, "Cache-Control", "no-store");
  json_decref(body);
}
