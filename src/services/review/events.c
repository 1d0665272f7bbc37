/* events.c - what the review service tells others and what it learns.
 *
 * Emitted inside the transaction of the change (docs/events.md, "Reviews"):
 * review.submitted, review.approved, review.rejected, review.removed (the
 * last three carry the product's rating aggregate after the change, so a
 * consumer sets it and a redelivery changes nothing), and audit.recorded
 * for every moderator or admin decision.
 *
 * Consumed: order.confirmed (the buyers of each product: the purchases
 * table the buyer rule reads), order.cancelled and a full order.refunded
 * (the purchase no longer counts), user.registered (the author's name). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kit/auth.h"
#include "kit/log.h"
#include "kit/uuid.h"
#include "services/review/handlers.h"

/* --- emitted -------------------------------------------------------------- */

static int emit(struct db_conn *c, const char *type, const char *aggregate,
                json_t *data) {
  if (data == NULL) return DB_HARD_ERROR;
  int rc = bus_emit(c, type, aggregate, data);
  json_decref(data);
  return rc;
}

int review_emit_submitted(struct db_conn *c, const struct review *r) {
  return emit(c, "review.submitted", r->id,
              json_pack("{s:s, s:s, s:s, s:i, s:s}", "review_id", r->id,
                        "product_id", r->product_id, "user_id", r->user_id,
                        "rating", r->rating, "status",
                        review_status_name(r->status)));
}

/* The aggregate events have the product as aggregate: the row lock on its
 * rating row orders them, so consumers see the aggregates in order. */
static int emit_aggregate(struct db_conn *c, const char *type,
                          const struct review *r,
                          const struct rating_aggregate *agg, bool rating) {
  json_t *data = json_pack("{s:s, s:s, s:s}", "review_id", r->id, "product_id",
                           r->product_id, "user_id", r->user_id);
  if (data == NULL) return DB_HARD_ERROR;
  if (rating) json_object_set_new(data, "rating", json_integer(r->rating));
  review_render_aggregate(data, agg);
  return emit(c, type, r->product_id, data);
}

int review_emit_approved(struct db_conn *c, const struct review *r,
                         const struct rating_aggregate *agg) {
  return emit_aggregate(c, "review.approved", r, agg, true);
}

int review_emit_removed(struct db_conn *c, const struct review *r,
                        const struct rating_aggregate *agg) {
  return emit_aggregate(c, "review.removed", r, agg, false);
}

int review_emit_rejected(struct db_conn *c, const struct review *r,
                         const char *reason) {
  return emit(c, "review.rejected", r->id,
              json_pack("{s:s, s:s, s:s, s:s}", "review_id", r->id,
                        "product_id", r->product_id, "user_id", r->user_id,
                        "reason", reason));
}

int review_emit_audit(struct db_conn *c, struct arena *a,
                      const struct http_request *req, const char *action,
                      const char *review_id, json_t *before, json_t *after) {
  const struct principal *p = auth_principal(req);
  const char *name = NULL, *email = NULL;
  int rc = store_author_get(c, a, p->user_id, &name, &email);
  if (rc < 0) {
    json_decref(before);
    json_decref(after);
    return rc;
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char at[80];
  snprintf(at, sizeof at, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
           tm.tm_sec, ts.tv_nsec / 1000000);
  json_t *actor =
      json_pack("{s:s, s:o, s:s}", "id", p->user_id, "email",
                email ? json_string(email) : json_null(), "role", p->role);
  json_t *data = json_pack(
      "{s:o, s:s, s:{s:s, s:s}, s:o, s:o, s:s, s:s}", "actor", actor, "action",
      action, "target", "type", "review", "id", review_id, "before",
      before ? before : json_null(), "after", after ? after : json_null(),
      "trace_id", req->trace_id, "at", at);
  return emit(c, "audit.recorded", review_id, data);
}

/* --- consumed ------------------------------------------------------------- */

static const char *field(const struct bus_event *ev, const char *name) {
  return json_string_value(json_object_get(ev->data, name));
}

/* Applies fn to each line of an order event; 0 when the event is unusable
 * (logged: retrying would not make it better). */
static int each_line(struct db_conn *conn, const struct bus_event *ev,
                     int (*fn)(struct db_conn *, const char *, const char *,
                               const char *)) {
  const char *order_id = field(ev, "order_id");
  const char *user_id = field(ev, "user_id");
  json_t *items = json_object_get(ev->data, "items");
  if (order_id == NULL || user_id == NULL || !uuid_valid(order_id) ||
      !uuid_valid(user_id) || !json_is_array(items)) {
    log_error("%s %s without order_id, user_id or items: skipped",
              ev->event_type, ev->event_id);
    return 0;
  }
  size_t i;
  json_t *item;
  json_array_foreach(items, i, item) {
    const char *product_id =
        json_string_value(json_object_get(item, "product_id"));
    if (product_id == NULL || !uuid_valid(product_id)) continue;
    int rc = fn(conn, order_id, product_id, user_id);
    if (rc < 0) return rc;
  }
  return store_reviews_reverify(conn, order_id);
}

int review_on_order_confirmed(struct service *svc, struct db_conn *conn,
                              const struct bus_event *ev) {
  (void)svc;
  return each_line(conn, ev, store_purchase_confirm);
}

int review_on_order_cancelled(struct service *svc, struct db_conn *conn,
                              const struct bus_event *ev) {
  (void)svc;
  return each_line(conn, ev, store_purchase_cancel);
}

int review_on_order_refunded(struct service *svc, struct db_conn *conn,
                             const struct bus_event *ev) {
  (void)svc;
  const char *order_id = field(ev, "order_id");
  /* A partial refund leaves the purchase standing. */
  if (order_id == NULL || !uuid_valid(order_id) ||
      !json_is_true(json_object_get(ev->data, "full")))
    return 0;
  int rc = store_purchase_refund(conn, order_id);
  if (rc < 0) return rc;
  return store_reviews_reverify(conn, order_id);
}

int review_on_user_registered(struct service *svc, struct db_conn *conn,
                              const struct bus_event *ev) {
  (void)svc;
  const char *user_id = field(ev, "user_id");
  if (user_id == NULL || !uuid_valid(user_id)) {
    log_error("user.registered %s without user_id: skipped", ev->event_id);
    return 0;
  }
  char name[512]; /* 100 characters of first name, the initial */
  review_author_name(field(ev, "first_name"), field(ev, "last_name"),
                     field(ev, "username"), name, sizeof name);
  return store_author_put(conn, user_id, name, field(ev, "email"));
}
