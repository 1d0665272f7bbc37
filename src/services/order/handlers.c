/* handlers.c - orders after checkout: history, detail, cancel and admin
 * status changes (DESIGN §5 Checkout & orders); refunds are in refunds.c. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/audit.h"
#include "kit/auth.h"
#include "kit/bus.h"
#include "kit/handler.h"
#include "kit/json.h"
#include "kit/log.h"
#include "kit/money.h"
#include "kit/uuid.h"
#include "services/order/domain.h"
#include "services/order/internal.h"

#define LIST_DEFAULT 20
#define LIST_MAX 100

/* The reason of an administrator's cancellation: such a cancel is audited. */
static const char admin_cancel_reason[] = "cancelled by an administrator";

/* Records an admin's move of an order from one status to another. */
static int audit_status(struct db_conn *c, const struct http_request *req,
                        const char *action, const struct order_record *o,
                        enum order_status from) {
  json_t *before = json_pack("{s:s}", "status", order_status_name(from));
  json_t *after = json_pack("{s:s}", "status", order_status_name(o->status));
  if (o->status == ORDER_CANCELLED && o->cancel_reason != NULL)
    json_object_set_new(after, "reason", json_string(o->cancel_reason));
  int rc = audit_record(c, req, action, "order", o->id, before, after);
  json_decref(before);
  json_decref(after);
  return rc;
}

/* --- helpers --- */

static void reply_order(struct http_response *res, unsigned status,
                        const struct order_record *o) {
  json_t *body = order_render(o);
  http_reply_json(res, status, body);
  http_response_header(res, "Cache-Control", "no-store");
  json_decref(body);
}

/* Reads an order by id (pooled connection). */
static int load_order(struct http_request *req, const char *id,
                      struct order_record *o) {
  struct db_conn *c = db_acquire(req->svc->db, ORDER_DB_WAIT_MS);
  if (c == NULL) return DB_UNAVAILABLE;
  int rc = store_order_get(c, req->arena, id, false, o);
  db_release(req->svc->db, c);
  return rc;
}

/* Loads the {id} order if the caller may see it (its owner or an admin);
 * otherwise answers 404 (no existence leak) and returns false. */
static bool load_visible(struct http_request *req, struct http_response *res,
                         struct order_record *o) {
  const char *raw = http_param(req, "id");
  char id[UUID_STR_LEN];
  if (raw == NULL || !uuid_normalize(raw, id)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such order", NULL);
    return false;
  }
  int rc = load_order(req, id, o);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return false;
  }
  const struct principal *me = auth_principal(req);
  if (rc == 0 ||
      (!auth_is_admin(req) && strcmp(o->user_id, me->user_id) != 0)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such order", NULL);
    return false;
  }
  return true;
}

bool order_load_visible(struct http_request *req, struct http_response *res,
                        struct order_record *o) {
  return load_visible(req, res, o);
}

static struct up_cart_line *lines_of(struct arena *a,
                                     const struct order_record *o) {
  struct up_cart_line *l = arena_alloc(a, sizeof *l * (o->line_count + 1));
  if (l == NULL) return NULL;
  for (size_t i = 0; i < o->line_count; i++) {
    snprintf(l[i].product_id, sizeof l[i].product_id, "%s",
             o->lines[i].product_id);
    l[i].quantity = o->lines[i].quantity;
  }
  return l;
}

/* --- GET /api/v1/orders --- */

void order_handle_list(struct http_request *req, struct http_response *res) {
  const struct principal *me = auth_principal(req);
  const char *limit_s = http_query(req, "limit");
  const char *cursor_s = http_query(req, "cursor");
  long limit = LIST_DEFAULT;
  if (limit_s != NULL) {
    char *end = NULL;
    limit = strtol(limit_s, &end, 10);
    if (end == limit_s || *end != '\0' || limit < 1 || limit > LIST_MAX) {
      http_reply_error(res, req, API_UNPROCESSABLE,
                       "limit must be an integer from 1 to 100", "limit");
      return;
    }
  }
  char cursor[UUID_STR_LEN];
  if (cursor_s != NULL && !uuid_normalize(cursor_s, cursor)) {
    http_reply_error(res, req, API_UNPROCESSABLE, "malformed cursor", "cursor");
    return;
  }
  struct db_conn *c = db_acquire(req->svc->db, ORDER_DB_WAIT_MS);
  if (c == NULL) {
    http_reply_db_error(res, req, DB_UNAVAILABLE);
    return;
  }
  char(*ids)[40] = NULL;
  json_t *items = json_array();
  /* One more than asked tells whether a next page exists. */
  /* An admin sees every order (the dashboard's order list); others their own.
   */
  int n =
      store_order_list(c, req->arena, auth_is_admin(req) ? NULL : me->user_id,
                       cursor_s ? cursor : NULL, (int)limit + 1, &ids);
  int rc = n;
  int shown = n > limit ? (int)limit : n;
  for (int i = 0; i < shown && rc >= 0; i++) {
    struct order_record o;
    rc = store_order_get(c, req->arena, ids[i], false, &o);
    if (rc == DB_ONE_RESULT) json_array_append_new(items, order_render(&o));
  }
  db_release(req->svc->db, c);
  if (rc < 0) {
    json_decref(items);
    http_reply_db_error(res, req, rc);
    return;
  }
  json_t *body =
      json_pack("{s:o, s:o}", "items", items, "next_cursor",
                n > limit ? json_string(ids[shown - 1]) : json_null());
  http_reply_json(res, 200, body);
  json_decref(body);
}

/* --- GET /api/v1/orders/{id}, GET /internal/orders/{id} --- */

void order_handle_get(struct http_request *req, struct http_response *res) {
  struct order_record o;
  if (!load_visible(req, res, &o)) return;
  reply_order(res, 200, &o);
}

void order_handle_internal_get(struct http_request *req,
                               struct http_response *res) {
  const char *raw = http_param(req, "id");
  char id[UUID_STR_LEN];
  struct order_record o;
  int rc = raw && uuid_normalize(raw, id) ? load_order(req, id, &o) : 0;
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  if (rc == 0) {
    http_reply_error(res, req, API_NOT_FOUND, "no such order", NULL);
    return;
  }
  reply_order(res, 200, &o);
}

/* --- compensation and cancel --- */

int order_compensate(struct http_request *req, const char *order_id) {
  struct order_record o;
  int rc = load_order(req, order_id, &o);
  if (rc < 0) return KIT_UNAVAILABLE;
  if (rc == 0 || !o.compensation_due) return KIT_OK;
  struct up_ctx u = {req->svc, req, req->arena};

  if (up_reservation_release(&u, order_id) != UP_OK) return KIT_UNAVAILABLE;
  /* The order's promotion uses come back (idempotent on the order id). */
  if (o.discounts != NULL && strcmp(o.discounts, "[]") != 0 &&
      up_promo_release(&u, order_id) != UP_OK)
    return KIT_UNAVAILABLE;
  struct up_payment p;
  unsigned status = 0;
  enum upstream_outcome uo =
      up_payment_of_order(&u, order_id, o.currency, &p, &status);
  if (uo == UP_UNKNOWN) return KIT_UNAVAILABLE;
  if (uo == UP_OK && p.status != NULL && p.id != NULL) {
    /* An unknown outcome is voided too: the payment service accepts the
     * void (202) and applies it once the provider answers. */
    if (strcmp(p.status, "authorized") == 0 ||
        strcmp(p.status, "unknown") == 0) {
      if (up_payment_void(&u, p.id, &status) != UP_OK) return KIT_UNAVAILABLE;
    } else if (strcmp(p.status, "captured") == 0 ||
               strcmp(p.status, "partially_refunded") == 0) {
      struct up_payment after;
      if (up_payment_refund(&u, p.id, -1, o.currency, NULL, &after, &status) !=
          UP_OK)
        return KIT_UNAVAILABLE;
    }
  }
  struct db_conn *c = db_acquire(req->svc->db, ORDER_DB_WAIT_MS);
  if (c == NULL) return KIT_UNAVAILABLE;
  rc = store_order_compensated(c, order_id);
  db_release(req->svc->db, c);
  if (rc < 0) return KIT_UNAVAILABLE;
  log_info("order %s: stock released and payment settled", order_id);
  return KIT_OK;
}

struct cancel_tx {
  struct http_request *req;
  const char *order_id;
  const char *reason;
  bool not_cancellable;
  bool missing;
};

static int cancel_tx_fn(struct db_conn *c, void *arg) {
  struct cancel_tx *t = arg;
  struct order_record o;
  int rc = store_order_get(c, t->req->arena, t->order_id, true, &o);
  if (rc < 0) return rc;
  t->missing = rc == 0;
  t->not_cancellable = rc == 1 && !order_cancellable(o.status);
  if (t->missing || t->not_cancellable) return 0;
  enum order_status from = o.status;
  rc = store_order_cancel(c, t->order_id, from, t->reason);
  if (rc < 0) return rc;
  if (rc == 0) return DB_SOFT_ERROR; /* cannot happen under the lock */
  rc = store_order_get(c, t->req->arena, t->order_id, false, &o);
  if (rc != DB_ONE_RESULT) return rc < 0 ? rc : DB_HARD_ERROR;
  rc = order_emit_transition(c, &o, from);
  if (rc < 0 || strcmp(t->reason, admin_cancel_reason) != 0) return rc;
  return audit_status(c, t->req, "order.cancel", &o, from);
}

enum api_error order_cancel(struct http_request *req, const char *order_id,
                            const char *reason, struct order_record *out) {
  struct cancel_tx t = {req, order_id, reason, false, false};
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, cancel_tx_fn, &t);
  if (rc < 0)
    return rc == DB_UNAVAILABLE ? API_DATABASE_ERROR : API_INTERNAL_ERROR;
  if (t.missing) return API_NOT_FOUND;
  if (t.not_cancellable) return API_CONFLICT;
  /* Undone now if the others answer; the sweeper retries otherwise. */
  if (order_compensate(req, order_id) != KIT_OK)
    log_warn("order %s: compensation left to the sweeper", order_id);
  rc = load_order(req, order_id, out);
  if (rc != DB_ONE_RESULT) return API_INTERNAL_ERROR;
  return API_OK;
}

static void reply_cancel(struct http_request *req, struct http_response *res,
                         const char *order_id, const char *reason) {
  struct order_record o;
  enum api_error e = order_cancel(req, order_id, reason, &o);
  if (e == API_CONFLICT) {
    http_reply_error(res, req, API_CONFLICT,
                     "the order can no longer be cancelled", NULL);
    return;
  }
  if (e != API_OK) {
    http_reply_error(res, req, e, "the order could not be cancelled", NULL);
    return;
  }
  reply_order(res, 200, &o);
}

/* POST /api/v1/orders/{id}/cancel: the owner (or an admin), before shipping. */
void order_handle_cancel(struct http_request *req, struct http_response *res) {
  struct order_record o;
  if (!load_visible(req, res, &o)) return;
  reply_cancel(req, res, o.id,
               auth_is_admin(req) &&
                       strcmp(o.user_id, auth_principal(req)->user_id)
                   ? admin_cancel_reason
                   : "cancelled by the customer");
}

/* --- PATCH /api/v1/orders/{id}/status (admin) --- */

struct status_tx {
  struct http_request *req;
  const char *order_id;
  enum order_status to;
  const char *reason;
  const char *shipment_id; /* shipped only */
  int64_t captured;        /* shipped only */
  bool conflict;
  enum order_status seen; /* the status the admin acted on (audit log) */
};

static int status_tx_fn(struct db_conn *c, void *arg) {
  struct status_tx *t = arg;
  struct order_record o;
  int rc = store_order_get(c, t->req->arena, t->order_id, true, &o);
  if (rc < 0) return rc;
  if (rc == 0) {
    t->conflict = true;
    return 0;
  }
  if (t->to == ORDER_SHIPPED && (t->shipment_id != NULL || t->captured > 0)) {
    rc = store_order_set_shipment(c, t->order_id, t->shipment_id, t->captured);
    if (rc < 0) return rc;
    /* The courier's event may have moved it already: that is the goal,
     * reached by this admin's shipment and capture. */
    if (o.status == ORDER_SHIPPED)
      return audit_status(c, t->req, "order.status", &o, t->seen);
  }
  enum order_status from = o.status;
  if (!order_transition_allowed(from, t->to)) {
    t->conflict = true;
    return 0;
  }
  rc = store_order_transition(c, t->order_id, from, t->to, t->reason);
  if (rc < 0) return rc;
  rc = store_order_get(c, t->req->arena, t->order_id, false, &o);
  if (rc != DB_ONE_RESULT) return rc < 0 ? rc : DB_HARD_ERROR;
  rc = order_emit_transition(c, &o, from);
  if (rc < 0) return rc;
  return audit_status(c, t->req, "order.status", &o, from);
}

/* Creates the shipment and captures the payment before the order ships. */
static bool prepare_shipping(struct http_request *req,
                             struct http_response *res,
                             const struct order_record *o,
                             struct status_tx *t) {
  struct up_ctx u = {req->svc, req, req->arena};
  struct up_cart_line *lines = lines_of(req->arena, o);
  json_error_t jerr;
  json_t *address =
      json_loads(o->shipping_address ? o->shipping_address : "{}", 0, &jerr);
  unsigned status = 0;
  const char *shipment_id = NULL;
  enum upstream_outcome uo =
      lines && address
          ? up_create_shipment(&u, o->id, o->user_id, address,
                               o->shipping_method, lines, o->line_count,
                               &shipment_id, &status)
          : UP_UNKNOWN;
  json_decref(address);
  if (uo != UP_OK) {
    http_reply_error(res, req,
                     uo == UP_REFUSED ? API_CONFLICT : API_SERVICE_UNAVAILABLE,
                     "the shipment could not be created", NULL);
    return false;
  }
  t->shipment_id = shipment_id;

  struct up_payment p;
  uo = up_payment_of_order(&u, o->id, o->currency, &p, &status);
  if (uo == UP_OK && p.id && p.status && strcmp(p.status, "authorized") == 0) {
    struct up_payment after;
    uo = up_payment_capture(&u, p.id, o->currency, &after, &status);
    if (uo != UP_OK) {
      http_reply_error(
          res, req, uo == UP_REFUSED ? API_CONFLICT : API_SERVICE_UNAVAILABLE,
          "the payment could not be captured", NULL);
      return false;
    }
    t->captured = after.captured > 0 ? after.captured : o->total;
    return true;
  }
  if (uo == UP_OK && p.status &&
      (strcmp(p.status, "captured") == 0 ||
       strcmp(p.status, "partially_refunded") == 0 ||
       strcmp(p.status, "refunded") == 0)) {
    t->captured = p.captured;
    return true;
  }
  http_reply_error(res, req,
                   uo == UP_UNKNOWN ? API_SERVICE_UNAVAILABLE : API_CONFLICT,
                   "the order has no payment that can be captured", NULL);
  return false;
}

void order_handle_status(struct http_request *req, struct http_response *res) {
  static const char *const names[] = {"pending",  "confirmed", "processing",
                                      "shipped",  "delivered", "cancelled",
                                      "refunded", NULL};
  const char *status_s = NULL;
  const struct json_field fields[] = {
      {"status", JF_ENUM, true, 0, 0, &status_s, .enum_values = names},
  };
  struct json_doc *doc = NULL;
  bool body_ok = http_read_body(req, res, fields, 1, true, &doc);
  json_doc_free(doc);
  if (!body_ok) return;
  enum order_status to;
  order_status_parse(status_s, &to);
  struct order_record o;
  if (!load_visible(req, res, &o)) return;

  /* pending/confirmed belong to the saga, refunded to the refund route. */
  bool admin_target = to == ORDER_PROCESSING || to == ORDER_SHIPPED ||
                      to == ORDER_DELIVERED || to == ORDER_CANCELLED;
  if (!admin_target || !order_transition_allowed(o.status, to)) {
    char details[96];
    snprintf(details, sizeof details, "%s -> %s", order_status_name(o.status),
             status_s);
    http_reply_error(res, req, API_CONFLICT,
                     to == ORDER_REFUNDED
                         ? "use POST /api/v1/orders/{id}/refund to refund"
                         : "illegal status transition",
                     details);
    return;
  }
  if (to == ORDER_CANCELLED) {
    reply_cancel(req, res, o.id, admin_cancel_reason);
    return;
  }
  struct status_tx t = {req,  o.id, to,   "set by an administrator",
                        NULL, 0,    false};
  t.seen = o.status;
  if (to == ORDER_SHIPPED && !prepare_shipping(req, res, &o, &t)) return;
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, status_tx_fn, &t);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  if (t.conflict) {
    http_reply_error(res, req, API_CONFLICT,
                     "the order changed meanwhile; illegal status transition",
                     NULL);
    return;
  }
  rc = load_order(req, o.id, &o);
  if (rc != DB_ONE_RESULT) {
    http_reply_db_error(res, req, rc < 0 ? rc : DB_HARD_ERROR);
    return;
  }
  reply_order(res, 200, &o);
}
