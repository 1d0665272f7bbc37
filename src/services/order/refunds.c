/* refunds.c - money back to the customer, with no remote call inside a
 * database transaction.
 *
 * A refund is first recorded as an intent: a `refunds` row, `pending`,
 * written in the order's transaction together with the checks (never more
 * than captured minus refunded minus what is pending already) and the audit
 * record of the operator's decision. After COMMIT the payment service is
 * asked to refund, with the row's id as its idempotency key: it never
 * refunds twice under one id. Its answer is settled in a second
 * transaction: the order's refunded amount, the lines and the return when
 * it is a return's refund, the status `refunded` when everything was
 * refunded, the events. A crash between the two leaves the row pending; the
 * sweeper (sweeper.c) drives it again with the same id, and so does a retry
 * of the request with the same Idempotency-Key. docs/returns.md.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kit/audit.h"
#include "kit/bus.h"
#include "kit/handler.h"
#include "kit/json.h"
#include "kit/log.h"
#include "kit/money.h"
#include "kit/uuid.h"
#include "services/order/domain.h"
#include "services/order/internal.h"

void *order_refunded_payload(const struct order_record *o,
                             const char *refund_id, int64_t amount, bool full,
                             const char *return_id) {
  char amt[MONEY_BUF], total[MONEY_BUF];
  return json_pack(
      "{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o}", "order_id", o->id, "user_id",
      o->user_id, "refund_id", refund_id, "amount",
      money_format(amount, o->currency, amt), "currency", o->currency,
      "refunded_total", money_format(o->refunded, o->currency, total), "full",
      full, "return_id",
      return_id && return_id[0] ? json_string(return_id) : json_null());
}

/* true when every unit of every line was refunded (returns). */
static bool all_lines_refunded(const struct order_record *o) {
  if (o->line_count == 0) return false;
  for (size_t i = 0; i < o->line_count; i++)
    if (o->lines[i].refunded_quantity < o->lines[i].quantity) return false;
  return true;
}

bool order_fault_asked(const struct http_request *req, const char *point) {
  const struct order_state *st = req->svc->state;
  if (st == NULL || !st->fault_injection) return false;
  const char *fault = http_header(req, "X-Fault-Inject");
  return fault != NULL && strcmp(fault, point) == 0;
}

void order_fault_point(const struct http_request *req, const char *point) {
  if (!order_fault_asked(req, point)) return;
  log_warn("fault injection: the order process exits at %s", point);
  _exit(75);
}

/* --- settling an answer ---------------------------------------------------
 */

struct settle_tx {
  struct arena *arena;
  const char *refund_id;
  bool succeeded;
  const char *error; /* refused: why */
};

/* Books a return's refund on its lines and moves it to refunded. */
static int settle_return(struct db_conn *c, struct arena *a,
                         const char *return_id) {
  struct return_record r;
  int rc = store_return_get(c, a, return_id, true, &r);
  if (rc != DB_ONE_RESULT) return rc < 0 ? rc : DB_HARD_ERROR;
  for (size_t i = 0; i < r.item_count; i++) {
    const struct return_item_record *it = &r.items[i];
    rc = store_line_add_refund(c, it->order_item_id, it->quantity, it->refund);
    if (rc < 0) return rc;
    if (rc == 0) return DB_HARD_ERROR; /* checked when the intent was made */
  }
  rc = store_return_set_status(c, return_id, r.status, RETURN_REFUNDED, NULL);
  if (rc < 0) return rc;
  return rc == 1 ? 1 : DB_HARD_ERROR;
}

static int settle_tx_fn(struct db_conn *c, void *arg) {
  struct settle_tx *t = arg;
  struct refund_record rf;
  int rc = store_refund_get(c, t->arena, t->refund_id, false, &rf);
  if (rc != DB_ONE_RESULT) return rc < 0 ? rc : DB_HARD_ERROR;
  /* The order first, then the refund, then the return: the order of the
   * intents' locks, so two settlements never deadlock. */
  struct order_record o;
  rc = store_order_get(c, t->arena, rf.order_id, true, &o);
  if (rc != DB_ONE_RESULT) return rc < 0 ? rc : DB_HARD_ERROR;
  rc = store_refund_get(c, t->arena, t->refund_id, true, &rf);
  if (rc != DB_ONE_RESULT) return rc < 0 ? rc : DB_HARD_ERROR;
  if (rf.state != REFUND_PENDING) return 0; /* settled by another */
  if (!t->succeeded)
    return store_refund_close(c, t->refund_id, false, NULL, t->error);

  rc = store_order_add_refund(c, rf.order_id, rf.amount);
  if (rc < 0) return rc;
  if (rc == 0) return DB_HARD_ERROR; /* checked when the intent was made */
  if (rf.return_id[0]) {
    rc = settle_return(c, t->arena, rf.return_id);
    if (rc < 0) return rc;
  }
  rc = store_order_get(c, t->arena, rf.order_id, false, &o);
  if (rc != DB_ONE_RESULT) return rc < 0 ? rc : DB_HARD_ERROR;
  enum order_status from = o.status;
  bool full = o.refunded >= o.captured || all_lines_refunded(&o);
  bool moves = full && order_transition_allowed(from, ORDER_REFUNDED);
  if (moves) {
    rc = store_order_transition(c, rf.order_id, from, ORDER_REFUNDED,
                                "refunded in full");
    if (rc < 0) return rc;
    rc = store_order_get(c, t->arena, rf.order_id, false, &o);
    if (rc != DB_ONE_RESULT) return rc < 0 ? rc : DB_HARD_ERROR;
  }
  json_t *ev = order_refunded_payload(&o, rf.id, rf.amount, full, rf.return_id);
  rc = bus_emit(c, "order.refunded", o.id, ev);
  json_decref(ev);
  if (rc < 0) return rc;
  if (moves) {
    rc = order_emit_transition(c, &o, from);
    if (rc < 0) return rc;
  }
  char *body = NULL;
  if (rf.return_id[0]) {
    struct return_record r;
    rc = store_return_get(c, t->arena, rf.return_id, false, &r);
    if (rc != DB_ONE_RESULT) return rc < 0 ? rc : DB_HARD_ERROR;
    rc = order_return_emit(c, &r, "return.refunded");
    if (rc < 0) return rc;
  } else {
    /* The answer of the operator's refund, kept for retries of its key. */
    char amt[MONEY_BUF];
    json_t *answer = order_render(&o);
    json_object_set_new(answer, "refund",
                        json_pack("{s:s, s:s, s:s}", "id", rf.id, "amount",
                                  money_format(rf.amount, o.currency, amt),
                                  "currency", o.currency));
    body = json_dumps(answer, JSON_COMPACT);
    json_decref(answer);
    if (body == NULL) return DB_HARD_ERROR;
  }
  rc = store_refund_close(c, t->refund_id, true, body, NULL);
  free(body);
  return rc;
}

/* --- driving an intent ------------------------------------------------------
 */

enum refund_outcome order_refund_drive(struct http_request *req,
                                       const char *refund_id) {
  struct arena *a = req->arena;
  struct db_pool *db = req->svc->db;
  struct refund_record rf;
  struct order_record o;
  struct db_conn *c = db_acquire(db, ORDER_DB_WAIT_MS);
  if (c == NULL) return REFUND_IN_DOUBT;
  int rc = store_refund_get(c, a, refund_id, false, &rf);
  if (rc == DB_ONE_RESULT && rf.state == REFUND_PENDING)
    rc = store_order_get(c, a, rf.order_id, false, &o);
  db_release(db, c);
  if (rc != DB_ONE_RESULT) return REFUND_IN_DOUBT;
  if (rf.state == REFUND_SUCCEEDED) return REFUND_DONE;
  if (rf.state == REFUND_FAILED) return REFUND_REFUSED;

  struct settle_tx t = {a, refund_id, false, NULL};
  if (o.payment_id == NULL) {
    t.error = "the order has no payment";
  } else {
    struct up_ctx u = {req->svc, req, a};
    struct up_payment p;
    unsigned status = 0;
    enum upstream_outcome uo = up_payment_refund(
        &u, o.payment_id, rf.amount, o.currency, refund_id, &p, &status);
    if (uo == UP_UNKNOWN) {
      /* Whether it happened is not known: the same id asks again later. */
      c = db_acquire(db, ORDER_DB_WAIT_MS);
      if (c != NULL) {
        (void)store_refund_attempt(c, refund_id,
                                   "the payment service did not answer");
        db_release(db, c);
      }
      log_warn("refund %s of order %s: no answer from the payment service; "
               "left pending",
               refund_id, o.id);
      return REFUND_IN_DOUBT;
    }
    t.succeeded = uo == UP_OK;
    if (!t.succeeded) t.error = "the payment service refused the refund";
  }
  rc = db_transaction(db, DB_READ_COMMITTED, settle_tx_fn, &t);
  if (rc < 0) return REFUND_IN_DOUBT; /* the sweeper settles it again */
  c = db_acquire(db, ORDER_DB_WAIT_MS);
  if (c == NULL) return REFUND_IN_DOUBT;
  rc = store_refund_get(c, a, refund_id, false, &rf);
  db_release(db, c);
  if (rc != DB_ONE_RESULT) return REFUND_IN_DOUBT;
  log_info("refund %s of order %s: %s", refund_id, rf.order_id,
           rf.state == REFUND_SUCCEEDED ? "refunded" : "refused");
  return rf.state == REFUND_SUCCEEDED ? REFUND_DONE
         : rf.state == REFUND_FAILED  ? REFUND_REFUSED
                                      : REFUND_IN_DOUBT;
}

/* --- POST /api/v1/orders/{id}/refund (admin) --------------------------------
 */

struct intent_tx {
  struct http_request *req;
  const char *order_id;
  const char *key; /* NULL without Idempotency-Key */
  const char *hash;
  bool has_amount;
  int64_t requested;
  /* out */
  enum api_error error;
  const char *message;
  char refund_id[40];
};

/* The operator's decision, audited with the outcome it asks for. */
static int audit_refund(struct db_conn *c, const struct http_request *req,
                        const struct order_record *o, const char *refund_id,
                        int64_t amount) {
  char before_s[MONEY_BUF], after_s[MONEY_BUF], amt[MONEY_BUF];
  bool full = o->refunded + amount >= o->captured;
  json_t *before = json_pack("{s:s, s:s}", "status",
                             order_status_name(o->status), "refunded_amount",
                             money_format(o->refunded, o->currency, before_s));
  json_t *after = json_pack(
      "{s:s, s:s, s:{s:s, s:s, s:s}}", "status",
      order_status_name(full ? ORDER_REFUNDED : o->status), "refunded_amount",
      money_format(o->refunded + amount, o->currency, after_s), "refund", "id",
      refund_id, "amount", money_format(amount, o->currency, amt), "currency",
      o->currency);
  int rc = audit_record(c, req, "order.refund", "order", o->id, before, after);
  json_decref(before);
  json_decref(after);
  return rc;
}

static int intent_tx_fn(struct db_conn *c, void *arg) {
  struct intent_tx *t = arg;
  struct arena *a = t->req->arena;
  t->error = API_OK;
  t->refund_id[0] = '\0';
  struct order_record o;
  /* The row lock serializes refunds of one order (and their retries). */
  int rc = store_order_get(c, a, t->order_id, true, &o);
  if (rc <= 0) {
    t->error = API_NOT_FOUND;
    t->message = "no such order";
    return rc;
  }
  if (t->key != NULL) {
    struct refund_record rf;
    rc = store_refund_by_key(c, a, t->order_id, t->key, &rf);
    if (rc < 0) return rc;
    if (rc == 1) {
      if (rf.request_hash == NULL || strcmp(rf.request_hash, t->hash) != 0) {
        t->error = API_CONFLICT;
        t->message = "this Idempotency-Key was used with another request";
        return 0;
      }
      snprintf(t->refund_id, sizeof t->refund_id, "%s", rf.id);
      return 0; /* the first request's refund, driven again if pending */
    }
  }
  int64_t pending = 0, amount = 0;
  rc = store_refund_pending_sum(c, t->order_id, &pending);
  if (rc < 0) return rc;
  switch (order_refund_check(o.captured, o.refunded + pending, t->has_amount,
                             t->requested, &amount)) {
  case REFUND_OK:
    break;
  case REFUND_NOTHING_CAPTURED:
    t->error = API_CONFLICT;
    t->message = "nothing was captured; cancel the order instead";
    return 0;
  case REFUND_BEYOND_CAPTURED:
    t->error = API_CONFLICT;
    t->message = "the refund exceeds what was captured and not yet refunded";
    return 0;
  case REFUND_INVALID_AMOUNT:
    t->error = API_UNPROCESSABLE;
    t->message = "amount must be positive";
    return 0;
  }
  if (o.status != ORDER_SHIPPED && o.status != ORDER_DELIVERED) {
    t->error = API_CONFLICT;
    t->message = "only a shipped or delivered order can be refunded";
    return 0;
  }
  uuid_v7(t->refund_id);
  rc = store_refund_insert(c, t->refund_id, t->order_id, t->key,
                           t->key ? t->hash : NULL, amount, NULL);
  if (rc < 0) return rc;
  return audit_refund(c, t->req, &o, t->refund_id, amount);
}

/* Answers the outcome of a driven refund of the operator's route. */
static void reply_refund(struct http_request *req, struct http_response *res,
                         const char *refund_id, enum refund_outcome out) {
  if (out == REFUND_IN_DOUBT) {
    http_reply_error(res, req, API_SERVICE_UNAVAILABLE,
                     "the payment service did not answer the refund",
                     "the refund is pending and will be completed");
    return;
  }
  struct refund_record rf;
  struct db_conn *c = db_acquire(req->svc->db, ORDER_DB_WAIT_MS);
  if (c == NULL) {
    http_reply_db_error(res, req, DB_UNAVAILABLE);
    return;
  }
  int rc = store_refund_get(c, req->arena, refund_id, false, &rf);
  db_release(req->svc->db, c);
  if (rc != DB_ONE_RESULT) {
    http_reply_db_error(res, req, rc < 0 ? rc : DB_HARD_ERROR);
  } else if (out == REFUND_REFUSED || rf.body == NULL) {
    http_reply_error(res, req, API_CONFLICT,
                     rf.last_error ? rf.last_error
                                   : "the payment service refused the refund",
                     NULL);
  } else {
    http_reply(res, 200, "application/json", rf.body, strlen(rf.body));
  }
}

void order_handle_refund(struct http_request *req, struct http_response *res) {
  const char *amount_s = NULL;
  bool has_amount = false;
  const struct json_field fields[] = {
      {"amount", JF_MONEY, false, 0, 0, &amount_s, &has_amount,
       .nullable = true},
  };
  struct json_doc *doc = NULL;
  struct json_error err;
  char hash[65] = "";
  if (req->body_len > 0) {
    int rc = json_parse_body(req->body, req->body_len, fields, 1, true,
                             req->arena, &doc, &err);
    if (rc != KIT_OK) {
      json_doc_free(doc);
      http_reply_json_error(res, req, &err);
      return;
    }
    char *canonical =
        json_dumps(json_doc_root(doc), JSON_COMPACT | JSON_SORT_KEYS);
    if (canonical) order_request_hash(canonical, strlen(canonical), hash);
    free(canonical);
  } else {
    order_request_hash("{}", 2, hash);
  }
  json_doc_free(doc);
  has_amount = has_amount && amount_s != NULL;
  struct order_record o;
  if (!order_load_visible(req, res, &o)) return;
  int64_t requested = 0;
  if (has_amount && money_parse(amount_s, o.currency, &requested) != KIT_OK) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "amount is not a valid amount in the order's currency",
                     "amount");
    return;
  }
  const char *key = http_header(req, "Idempotency-Key");
  if (key != NULL && (strlen(key) == 0 || strlen(key) > 255)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "Idempotency-Key must be 1 to 255 characters",
                     "Idempotency-Key");
    return;
  }
  struct intent_tx t = {req, o.id, key, hash, has_amount, requested};
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, intent_tx_fn, &t);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  if (t.error != API_OK) {
    http_reply_error(res, req, t.error, t.message, NULL);
    return;
  }
  /* Committed: the payment service is called outside any transaction. */
  order_fault_point(req, "refund_after_intent");
  reply_refund(req, res, t.refund_id, order_refund_drive(req, t.refund_id));
}
