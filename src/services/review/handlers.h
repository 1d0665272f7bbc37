/* handlers.h - the review service's HTTP handlers and what they share.
 *
 * handlers_reviews.c: the public side (a product's reviews, writing,
 * editing, deleting, helpful votes). handlers_moderation.c: the queue and
 * the decisions of moderators and admins. events.c: the events the service
 * emits (review.*, audit.recorded) and consumes (order.*, user.registered).
 * render.c: a review as JSON and the answers every handler gives.
 */
#ifndef SHOPSPHERE_REVIEW_HANDLERS_H
#define SHOPSPHERE_REVIEW_HANDLERS_H

#include <jansson.h>
#include <stdbool.h>

#include "kit/bus.h"
#include "kit/http.h"
#include "services/review/store.h"

struct service;

/* Transaction outcomes that are answers, not failures: a tx body returns
 * >= 0 (commit) or one of these (roll back, then answer). Below DB_*. */
enum review_outcome {
  OUT_NOT_FOUND = -20,
  OUT_CONFLICT = -21,
  OUT_FORBIDDEN = -22,
};

/* The review service's settings, read from the configuration at start. */
struct review_state {
  bool auto_approve; /* SHOPSPHERE_REVIEW_AUTO_APPROVE */
};

/* --- render.c --- */

/* A review as the API shows it (new reference). */
json_t *review_render(const struct review *r);
/* {rating_average, rating_count, rating_histogram} members set on obj. */
void review_render_aggregate(json_t *obj, const struct rating_aggregate *agg);
/* The flags as a JSON array text [{code, reason}] (arena). */
const char *review_flags_json(struct arena *a, const struct review_flags *f);
/* Answers a failed db_status or one of enum review_outcome. what names the
 * thing for 404/409 messages. */
void review_reply_failure(struct http_request *req, struct http_response *res,
                          int rc, const char *conflict_message);
/* Reads ?limit= (1..100, default 20); answers 422 and returns false when
 * malformed. */
bool review_read_limit(struct http_request *req, struct http_response *res,
                       int *limit);
/* Reads path parameter `name` as a UUID into out; answers 404 with
 * not_found and returns false when it is not one. */
bool review_read_id(struct http_request *req, struct http_response *res,
                    const char *name, char out[37], const char *not_found);
/* true when the caller is a moderator or an admin. */
bool review_is_moderator(const struct http_request *req);

/* --- events.c --- */

/* review.submitted, review.approved, review.rejected, review.removed with
 * the payloads of docs/events.md; inside the caller's transaction. */
int review_emit_submitted(struct db_conn *c, const struct review *r);
int review_emit_approved(struct db_conn *c, const struct review *r,
                         const struct rating_aggregate *agg);
int review_emit_rejected(struct db_conn *c, const struct review *r,
                         const char *reason);
int review_emit_removed(struct db_conn *c, const struct review *r,
                        const struct rating_aggregate *agg);
/* audit.recorded for a moderator's or admin's decision on review r; before
 * and after are json_t * objects (stolen, may be NULL). */
int review_emit_audit(struct db_conn *c, struct arena *a,
                      const struct http_request *req, const char *action,
                      const char *review_id, json_t *before, json_t *after);

int review_on_order_confirmed(struct service *svc, struct db_conn *conn,
                              const struct bus_event *ev);
int review_on_order_cancelled(struct service *svc, struct db_conn *conn,
                              const struct bus_event *ev);
int review_on_order_refunded(struct service *svc, struct db_conn *conn,
                             const struct bus_event *ev);
int review_on_user_registered(struct service *svc, struct db_conn *conn,
                              const struct bus_event *ev);

/* --- handlers_reviews.c --- */
void review_handle_list(struct http_request *req, struct http_response *res);
void review_handle_create(struct http_request *req, struct http_response *res);
void review_handle_get(struct http_request *req, struct http_response *res);
void review_handle_update(struct http_request *req, struct http_response *res);
void review_handle_delete(struct http_request *req, struct http_response *res);
void review_handle_helpful(struct http_request *req, struct http_response *res);

/* --- handlers_moderation.c --- */
void review_handle_queue(struct http_request *req, struct http_response *res);
void review_handle_approve(struct http_request *req, struct http_response *res);
void review_handle_reject(struct http_request *req, struct http_response *res);

#endif
