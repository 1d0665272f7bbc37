/* handlers_moderation.c - the moderators' queue and their decisions.
 *
 * Moderators and admins (the router checks the role) list reviews by
 * status with their automatic flags, approve them, or reject them with a
 * reason. A decision changes the review, the product's rating aggregate
 * (one row lock) and writes review.* and audit.recorded, all in one
 * transaction. */
#include <string.h>

#include "kit/auth.h"
#include "kit/handler.h"
#include "kit/json.h"
#include "kit/log.h"
#include "kit/service.h"
#include "kit/uuid.h"
#include "services/review/handlers.h"

/* --- GET /api/v1/admin/reviews?status=&limit=&cursor= --------------------- */

void review_handle_queue(struct http_request *req, struct http_response *res) {
  enum review_status status = REVIEW_PENDING;
  const char *status_s = http_query(req, "status");
  if (status_s != NULL && !review_status_parse(status_s, &status)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "status must be pending, approved or rejected", "status");
    return;
  }
  int limit;
  if (!review_read_limit(req, res, &limit)) return;
  const char *cursor_s = http_query(req, "cursor");
  char cursor[UUID_STR_LEN];
  if (cursor_s != NULL && !uuid_normalize(cursor_s, cursor)) {
    http_reply_error(res, req, API_UNPROCESSABLE, "cursor is not one we gave",
                     "cursor");
    return;
  }
  struct db_conn *conn = db_acquire(req->svc->db, 2000);
  if (conn == NULL) {
    review_reply_failure(req, res, DB_UNAVAILABLE, NULL);
    return;
  }
  struct review *rows = NULL;
  int rc = store_reviews_by_status(conn, req->arena, status,
                                   cursor_s ? cursor : NULL, limit + 1, &rows);
  db_release(req->svc->db, conn);
  if (rc < 0) {
    review_reply_failure(req, res, rc, NULL);
    return;
  }
  json_t *items = json_array();
  int shown = rc > limit ? limit : rc;
  for (int i = 0; i < shown; i++)
    json_array_append_new(items, review_render(&rows[i]));
  json_t *body =
      json_pack("{s:o, s:o}", "items", items, "next_cursor",
                rc > limit ? json_string(rows[limit - 1].id) : json_null());
  http_reply_json(res, 200, body);
  json_decref(body);
}

/* --- POST /api/v1/admin/reviews/{id}/approve | reject --------------------- */

struct decide_tx {
  struct arena *arena;
  const struct http_request *req;
  const char *id;
  enum review_action action;
  const char *reason; /* reject only */
  struct review out;
};

static int decide_tx(struct db_conn *c, void *arg) {
  struct decide_tx *t = arg;
  struct review old;
  int rc = store_review_get(c, t->arena, t->id, true, &old);
  if (rc <= 0) return rc < 0 ? rc : OUT_NOT_FOUND;
  enum review_status to;
  if (!review_transition(old.status, t->action, &to)) return OUT_CONFLICT;
  const struct principal *p = auth_principal(t->req);
  rc = store_review_moderate(c, t->arena, old.id, to, t->reason, p->user_id,
                             &t->out);
  if (rc <= 0) return rc < 0 ? rc : OUT_NOT_FOUND;
  int delta = review_aggregate_delta(old.status, to);
  struct rating_aggregate agg;
  rc = delta != 0 ? store_rating_add(c, old.product_id, old.rating, delta, &agg)
                  : store_rating_get(c, old.product_id, &agg);
  if (rc < 0) return rc;
  if (to == REVIEW_APPROVED) {
    rc = review_emit_approved(c, &t->out, &agg);
  } else {
    rc = review_emit_rejected(c, &t->out, t->reason);
    /* A published review taken down: the product's rating changes too. */
    if (rc >= 0 && delta < 0) rc = review_emit_removed(c, &t->out, &agg);
  }
  if (rc < 0) return rc;
  json_t *after = json_pack("{s:s}", "status", review_status_name(to));
  if (t->reason != NULL)
    json_object_set_new(after, "reason", json_string(t->reason));
  return review_emit_audit(
      c, t->arena, t->req,
      t->action == REVIEW_APPROVE ? "review.approve" : "review.reject", old.id,
      json_pack("{s:s, s:s, s:i}", "status", review_status_name(old.status),
                "product_id", old.product_id, "rating", old.rating),
      after);
}

static void decide(struct http_request *req, struct http_response *res,
                   struct decide_tx *t) {
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, decide_tx, t);
  if (rc < 0) {
    review_reply_failure(req, res, rc,
                         t->action == REVIEW_APPROVE
                             ? "the review is already approved"
                             : "the review is already rejected");
    return;
  }
  log_info("review %s %s by %s", t->out.id, review_status_name(t->out.status),
           auth_principal(req)->user_id);
  json_t *body = review_render(&t->out);
  http_reply_json(res, 200, body);
  json_decref(body);
}

void review_handle_approve(struct http_request *req,
                           struct http_response *res) {
  char id[UUID_STR_LEN];
  if (!review_read_id(req, res, "id", id, "no such review")) return;
  if (req->body_len > 0) { /* no body is expected; {} is fine */
    struct json_doc *doc = NULL;
    bool ok = http_read_body(req, res, NULL, 0, true, &doc);
    json_doc_free(doc);
    if (!ok) return;
  }
  struct decide_tx t = {
      .arena = req->arena, .req = req, .id = id, .action = REVIEW_APPROVE};
  decide(req, res, &t);
}

void review_handle_reject(struct http_request *req, struct http_response *res) {
  char id[UUID_STR_LEN];
  if (!review_read_id(req, res, "id", id, "no such review")) return;
  struct decide_tx t = {
      .arena = req->arena, .req = req, .id = id, .action = REVIEW_REJECT};
  const struct json_field fields[] = {
      {"reason", JF_STRING, true, 1, REVIEW_REASON_MAX, &t.reason},
  };
  struct json_doc *doc = NULL;
  if (!http_read_body(req, res, fields, 1, true, &doc)) goto cleanup;
  bool blank = true;
  for (const char *s = t.reason; *s != '\0'; s++)
    if (strchr(" \t\r\n\f\v", *s) == NULL) blank = false;
  if (blank) {
    http_reply_error(res, req, API_UNPROCESSABLE, "reason must not be blank",
                     "reason");
    goto cleanup;
  }
  decide(req, res, &t);
cleanup:
  json_doc_free(doc);
}
