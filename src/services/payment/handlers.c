/* handlers.c - the payment service's HTTP API (docs/internal-api.md).
 *
 * Internal, for the order service: authorize, capture, void, refund, look up.
 * Public: GET /api/v1/payments?order_id= for the payment's owner and admins.
 * Each handler parses, checks with domain.c, asks the provider, and moves
 * the payment with payment_apply (payment.c), in that order. A provider
 * call never runs inside a database transaction: the row is written first
 * (unknown / refund pending), the call made, the answer applied after.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "kit/auth.h"
#include "kit/json.h"
#include "kit/log.h"
#include "kit/money.h"
#include "kit/uuid.h"
#include "services/payment/payment.h"
#include "services/payment/store.h"

static void reply_payment(struct http_response *res, unsigned status,
                          const struct payment *p) {
  json_t *o = payment_to_json(p);
  http_reply_json(res, status, o);
  json_decref(o);
}

static void reply_declined(struct http_request *req, struct http_response *res,
                           const struct payment *p) {
  http_reply_error(res, req, API_PAYMENT_DECLINED, "the card was declined",
                   p->decline_code[0] ? p->decline_code : "card_declined");
}

static void reply_unknown(struct http_request *req, struct http_response *res,
                          bool unavailable) {
  http_reply_error(res, req,
                   unavailable ? API_SERVICE_UNAVAILABLE : API_TIMEOUT_ERROR,
                   unavailable ? "the payment provider is unavailable"
                               : "the payment provider did not answer in time",
                   "the payment's outcome is unknown; it is settled by "
                   "reconciliation");
}

/* Answers for an existing payment of the order (a repeated authorize). */
static void reply_existing(struct http_request *req, struct http_response *res,
                           const struct payment *p) {
  if (p->status == PAYMENT_FAILED)
    reply_declined(req, res, p);
  else if (p->status == PAYMENT_UNKNOWN)
    reply_unknown(req, res, false);
  else
    reply_payment(res, 200, p);
}

/* Reads an optional {amount} body in p's currency into *amount (-1 when
 * absent). Answers and returns false on a bad body. */
static bool parse_amount_body(struct http_request *req,
                              struct http_response *res, const char *currency,
                              int64_t *amount, const char **refund_id) {
  *amount = -1;
  if (refund_id != NULL) *refund_id = NULL;
  if (req->body_len == 0) return true;
  const char *text = NULL;
  /* refund_id: refunds only (the caller's idempotency key). */
  const struct json_field fields[] = {
      {"amount", JF_MONEY, false, 0, 0, &text, NULL, NULL, true},
      {"refund_id", JF_UUID, false, 0, 0, refund_id, NULL, NULL, true},
  };
  struct json_doc *doc = NULL;
  struct json_error err;
  bool ok = false;
  if (json_parse_body(req->body, req->body_len, fields, refund_id ? 2 : 1, true,
                      req->arena, &doc, &err) != KIT_OK) {
    http_reply_json_error(res, req, &err);
    goto cleanup;
  }
  if (text != NULL) {
    if (money_parse(text, currency, amount) != KIT_OK || *amount <= 0) {
      http_reply_error(res, req, API_UNPROCESSABLE,
                       "amount must be a positive amount in the payment's "
                       "currency",
                       "amount");
      goto cleanup;
    }
  }
  ok = true;
cleanup:
  json_doc_free(doc);
  return ok;
}

/* Loads the payment of the {id} path parameter; answers 404 / db errors. */
static bool load_payment(struct http_request *req, struct http_response *res,
                         struct payment *p) {
  const char *id = http_param(req, "id");
  char norm[UUID_STR_LEN];
  if (id == NULL || !uuid_normalize(id, norm)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such payment", NULL);
    return false;
  }
  struct db_conn *conn = db_acquire(req->svc->db, 2000);
  if (conn == NULL) {
    http_reply_db_error(res, req, DB_UNAVAILABLE);
    return false;
  }
  int rc = store_payment_get(conn, norm, false, p);
  db_release(req->svc->db, conn);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return false;
  }
  if (rc == 0) {
    http_reply_error(res, req, API_NOT_FOUND, "no such payment", NULL);
    return false;
  }
  return true;
}

/* --- authorize --- */

struct insert_arg {
  const struct payment *p;
  struct payment stored;
  bool existed;
};

static int insert_tx(struct db_conn *conn, void *arg) {
  struct insert_arg *a = arg;
  int rc = store_payment_insert(conn, a->p, &a->stored);
  if (rc != 0) return rc;
  a->existed = true;
  return store_payment_by_order(conn, a->p->order_id, false, &a->stored);
}

static bool token_shape_ok(const char *t) {
  for (; *t; t++) {
    char c = *t;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

void payment_authorize_handler(struct http_request *req,
                               struct http_response *res) {
  struct payment_service *ps = payment_service_of(req);
  const char *order_id = NULL, *user_id = NULL, *amount_text = NULL,
             *currency = NULL, *token = NULL;
  const struct json_field fields[] = {
      {"order_id", JF_UUID, true, 0, 0, &order_id},
      {"user_id", JF_UUID, true, 0, 0, &user_id},
      {"amount", JF_MONEY, true, 0, 0, &amount_text},
      {"currency", JF_STRING, true, 3, 3, &currency},
      {"token", JF_STRING, true, 1, 64, &token},
  };
  struct json_doc *doc = NULL;
  struct json_error err;
  if (json_parse_body(req->body, req->body_len, fields,
                      sizeof fields / sizeof fields[0], true, req->arena, &doc,
                      &err) != KIT_OK) {
    http_reply_json_error(res, req, &err);
    goto cleanup;
  }
  if (!money_currency_valid(currency)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "currency must be an ISO 4217 code", "currency");
    goto cleanup;
  }
  int64_t amount = 0;
  if (money_parse(amount_text, currency, &amount) != KIT_OK || amount <= 0) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "amount must be a positive amount in the currency",
                     "amount");
    goto cleanup;
  }
  if (!token_shape_ok(token)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "token must be a provider card token", "token");
    goto cleanup;
  }

  /* The row first: from here on the payment exists (unknown), so a crash or
   * a lost answer leaves something for the reconciler to settle. */
  struct payment p = {0};
  uuid_v7(p.id);
  snprintf(p.order_id, sizeof p.order_id, "%s", order_id);
  snprintf(p.user_id, sizeof p.user_id, "%s", user_id);
  p.status = PAYMENT_UNKNOWN;
  p.amount = amount;
  snprintf(p.currency, sizeof p.currency, "%s", currency);
  snprintf(p.provider, sizeof p.provider, "%s", ps->provider->name);
  struct insert_arg ins = {.p = &p};
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, insert_tx, &ins);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    goto cleanup;
  }
  if (ins.existed) {
    const struct payment *e = &ins.stored;
    if (strcmp(e->user_id, p.user_id) != 0 || e->amount != p.amount ||
        strcmp(e->currency, p.currency) != 0) {
      http_reply_error(res, req, API_CONFLICT,
                       "the order already has a payment with other details",
                       "order_id");
    } else {
      reply_existing(req, res, e);
    }
    goto cleanup;
  }

  struct provider_authorize_request ar = {p.order_id, amount, currency, token};
  struct provider_intent pi;
  enum provider_result pr = ps->provider->authorize(ps->provider, &ar, &pi);
  if (pr == PROVIDER_RESULT_REJECTED || pr == PROVIDER_RESULT_NOT_FOUND) {
    /* The provider refused the card token itself: nothing was authorized. */
    memset(&pi, 0, sizeof pi);
    pi.state = PROVIDER_DECLINED;
    snprintf(pi.decline_code, sizeof pi.decline_code, "invalid_payment_method");
  }
  struct payment after;
  rc = payment_apply(req->svc->db, p.id, &pi, &after);
  if (rc <= 0) {
    /* The provider may have authorized: the row stays unknown and the
     * reconciler settles it. */
    if (rc == 0) rc = DB_HARD_ERROR;
    http_reply_db_error(res, req, rc);
    goto cleanup;
  }
  if (pr == PROVIDER_RESULT_TIMEOUT || pr == PROVIDER_RESULT_UNAVAILABLE) {
    if (after.status == PAYMENT_UNKNOWN) {
      payment_count(ps, "authorize",
                    pr == PROVIDER_RESULT_TIMEOUT ? "timeout" : "unavailable");
      log_warn("payment %s for order %s: provider %s; left to the reconciler",
               after.id, after.order_id,
               pr == PROVIDER_RESULT_TIMEOUT ? "timed out" : "unavailable");
      reply_unknown(req, res, pr == PROVIDER_RESULT_UNAVAILABLE);
      goto cleanup;
    }
  }
  payment_count(ps, "authorize",
                after.status == PAYMENT_FAILED    ? "declined"
                : after.status == PAYMENT_UNKNOWN ? "unknown"
                                                  : "authorized");
  if (after.status == PAYMENT_FAILED)
    reply_declined(req, res, &after);
  else if (after.status == PAYMENT_UNKNOWN)
    reply_unknown(req, res, false);
  else
    reply_payment(res, 201, &after);
cleanup:
  json_doc_free(doc);
}

/* --- capture, void --- */

/* Answers a capture or void from the provider's result: applies the new
 * state, or on a refusal learns the provider's view first (ours was stale,
 * say voided at the provider) and answers 409; no answer is 504/503. */
static void finish_provider_action(struct http_request *req,
                                   struct http_response *res, struct payment *p,
                                   enum provider_result pr,
                                   struct provider_intent *pi,
                                   const char *verb) {
  struct payment_service *ps = payment_service_of(req);
  char msg[64];
  if (pr == PROVIDER_RESULT_REJECTED) {
    if (ps->provider->get(ps->provider, p->provider_payment_id, pi) ==
        PROVIDER_RESULT_OK)
      (void)payment_apply(req->svc->db, p->id, pi, p);
    snprintf(msg, sizeof msg, "the provider refused the %s", verb);
    http_reply_error(res, req, API_CONFLICT, msg, NULL);
    return;
  }
  if (pr != PROVIDER_RESULT_OK) {
    snprintf(msg, sizeof msg, "the payment provider did not %s; retry", verb);
    http_reply_error(res, req,
                     pr == PROVIDER_RESULT_TIMEOUT ? API_TIMEOUT_ERROR
                                                   : API_SERVICE_UNAVAILABLE,
                     msg, NULL);
    return;
  }
  struct payment after;
  int rc = payment_apply(req->svc->db, p->id, pi, &after);
  if (rc <= 0) {
    http_reply_db_error(res, req, rc == 0 ? DB_HARD_ERROR : rc);
    return;
  }
  reply_payment(res, 200, &after);
}

void payment_capture_handler(struct http_request *req,
                             struct http_response *res) {
  struct payment_service *ps = payment_service_of(req);
  struct payment p;
  if (!load_payment(req, res, &p)) return;
  int64_t amount;
  if (!parse_amount_body(req, res, p.currency, &amount, NULL)) return;
  int64_t effective = 0;
  switch (payment_check_action(&p, ACTION_CAPTURE, amount, &effective)) {
  case CHECK_GO:
    break;
  case CHECK_DONE:
    reply_payment(res, 200, &p);
    return;
  case CHECK_BAD_AMOUNT:
    http_reply_error(res, req, API_CONFLICT,
                     "the capture exceeds the authorized amount", "amount");
    return;
  default: {
    char msg[96];
    snprintf(msg, sizeof msg, "a %s payment cannot be captured",
             payment_status_name(p.status));
    http_reply_error(res, req, API_CONFLICT, msg, NULL);
    return;
  }
  }
  char key[80];
  snprintf(key, sizeof key, "capture:%.36s", p.id);
  struct provider_intent pi;
  enum provider_result pr = ps->provider->capture(
      ps->provider, p.provider_payment_id, effective, key, &pi);
  finish_provider_action(req, res, &p, pr, &pi, "capture");
}

struct void_arg {
  const char *id;
  struct payment after;
};

/* Records a void asked while the outcome is unknown. */
static int void_request_tx(struct db_conn *conn, void *arg) {
  struct void_arg *a = arg;
  struct payment cur;
  int rc = store_payment_get(conn, a->id, true, &cur);
  if (rc <= 0) return rc;
  if (cur.status != PAYMENT_UNKNOWN) {
    a->after = cur;
    return DB_ONE_RESULT;
  }
  cur.void_requested = true;
  return store_payment_update(conn, &cur, &a->after);
}

void payment_void_handler(struct http_request *req, struct http_response *res) {
  struct payment_service *ps = payment_service_of(req);
  struct payment p;
  if (!load_payment(req, res, &p)) return;
  int64_t unused;
  switch (payment_check_action(&p, ACTION_VOID, -1, &unused)) {
  case CHECK_GO:
    break;
  case CHECK_DONE:
    reply_payment(res, 200, &p);
    return;
  case CHECK_DEFER: {
    struct void_arg a = {.id = p.id};
    int rc =
        db_transaction(req->svc->db, DB_READ_COMMITTED, void_request_tx, &a);
    if (rc <= 0) {
      http_reply_db_error(res, req, rc == 0 ? DB_HARD_ERROR : rc);
      return;
    }
    /* Accepted: the reconciler cancels the authorization once it knows. */
    reply_payment(res, 202, &a.after);
    return;
  }
  default: {
    char msg[96];
    snprintf(msg, sizeof msg, "a %s payment cannot be voided",
             payment_status_name(p.status));
    http_reply_error(res, req, API_CONFLICT, msg, NULL);
    return;
  }
  }
  char key[80];
  snprintf(key, sizeof key, "void:%.36s", p.id);
  struct provider_intent pi;
  enum provider_result pr =
      ps->provider->cancel(ps->provider, p.provider_payment_id, key, &pi);
  finish_provider_action(req, res, &p, pr, &pi, "void");
}

/* --- refund --- */

struct reserve_arg {
  const char *payment_id;
  const char *refund_id;
  int64_t amount;
  struct payment after;
};

static int reserve_tx(struct db_conn *conn, void *arg) {
  struct reserve_arg *a = arg;
  return store_refund_reserve(conn, a->payment_id, a->refund_id, a->amount,
                              &a->after);
}

struct settle_arg {
  const char *refund_id;
  bool succeeded;
  const char *provider_refund_id;
  int64_t amount;
  struct payment after;
};

static int settle_tx(struct db_conn *conn, void *arg) {
  struct settle_arg *a = arg;
  int rc = store_refund_settle(conn, a->refund_id, a->succeeded,
                               a->provider_refund_id, &a->after);
  if (rc <= 0 || !a->succeeded) return rc;
  int erc = payment_emit(conn, PAYMENT_EVENT_REFUNDED, &a->after, a->amount);
  return erc < 0 ? erc : rc;
}

/* Books (or releases) a refund the provider answered; shared with the
 * reconciler through the same statements. Returns a db_status. */
static int settle_refund(struct db_pool *db, const char *refund_id,
                         bool succeeded, const char *provider_refund_id,
                         int64_t amount, struct payment *after) {
  struct settle_arg a = {
      refund_id, succeeded, provider_refund_id, amount, {{0}}};
  int rc = db_transaction(db, DB_READ_COMMITTED, settle_tx, &a);
  if (rc > 0) *after = a.after;
  return rc;
}

/* Asks the provider for a reserved (pending) refund under its id and
 * settles the answer. */
static void refund_at_provider(struct http_request *req,
                               struct http_response *res,
                               const struct payment *p, const char *refund_id,
                               int64_t amount) {
  struct payment_service *ps = payment_service_of(req);
  char provider_refund[PROVIDER_ID_MAX];
  enum provider_result pr = ps->provider->refund(
      ps->provider, p->provider_payment_id, amount, refund_id, provider_refund);
  if (pr == PROVIDER_RESULT_TIMEOUT || pr == PROVIDER_RESULT_UNAVAILABLE) {
    /* Stays pending: the reconciler repeats it with the same key. */
    http_reply_error(res, req,
                     pr == PROVIDER_RESULT_TIMEOUT ? API_TIMEOUT_ERROR
                                                   : API_SERVICE_UNAVAILABLE,
                     "the payment provider did not answer the refund",
                     "the refund is pending and will be completed");
    return;
  }
  bool ok = pr == PROVIDER_RESULT_OK;
  struct payment after = *p;
  int rc = settle_refund(req->svc->db, refund_id, ok, provider_refund, amount,
                         &after);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  if (rc == 0) {
    /* Settled meanwhile (the reconciler): answer the payment as it is. */
    struct payment now;
    if (load_payment(req, res, &now)) reply_payment(res, 200, &now);
    return;
  }
  if (!ok) {
    http_reply_error(res, req, API_CONFLICT, "the provider refused the refund",
                     NULL);
    return;
  }
  reply_payment(res, 200, &after);
}

/* A refund asked again under its refund_id: answered as it stands, never
 * made twice. false when there is no refund with that id yet. */
static bool refund_again(struct http_request *req, struct http_response *res,
                         const struct payment *p, const char *refund_id,
                         int64_t amount) {
  char payment_id[PAYMENT_ID_LEN], status[16];
  int64_t booked = 0;
  struct db_conn *conn = db_acquire(req->svc->db, 2000);
  if (conn == NULL) {
    http_reply_db_error(res, req, DB_UNAVAILABLE);
    return true;
  }
  int rc = store_refund_lookup(conn, refund_id, payment_id, &booked, status);
  db_release(req->svc->db, conn);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return true;
  }
  if (rc == 0) return false;
  if (strcmp(payment_id, p->id) != 0 || (amount >= 0 && amount != booked)) {
    http_reply_error(res, req, API_CONFLICT,
                     "this refund_id was used for another refund", "refund_id");
  } else if (strcmp(status, "succeeded") == 0) {
    reply_payment(res, 200, p);
  } else if (strcmp(status, "failed") == 0) {
    http_reply_error(res, req, API_CONFLICT, "the provider refused the refund",
                     NULL);
  } else {
    refund_at_provider(req, res, p, refund_id, booked);
  }
  return true;
}

void payment_refund_handler(struct http_request *req,
                            struct http_response *res) {
  struct payment p;
  if (!load_payment(req, res, &p)) return;
  int64_t amount;
  const char *given_id = NULL;
  if (!parse_amount_body(req, res, p.currency, &amount, &given_id)) return;
  if (given_id != NULL && refund_again(req, res, &p, given_id, amount)) return;
  int64_t effective = 0;
  switch (payment_check_action(&p, ACTION_REFUND, amount, &effective)) {
  case CHECK_GO:
    break;
  case CHECK_BAD_AMOUNT:
    http_reply_error(res, req, API_CONFLICT,
                     "the refund exceeds the captured amount not yet refunded",
                     "amount");
    return;
  default: {
    char msg[96];
    snprintf(msg, sizeof msg, "a %s payment cannot be refunded",
             payment_status_name(p.status));
    http_reply_error(res, req, API_CONFLICT, msg, NULL);
    return;
  }
  }
  /* Reserve first, in one statement: two refunds at once can never together
   * pass what was captured. The caller's refund_id, when given, is the
   * refund's id and the provider's idempotency key. */
  char refund_id[UUID_STR_LEN];
  if (given_id != NULL)
    snprintf(refund_id, sizeof refund_id, "%s", given_id);
  else
    uuid_v7(refund_id);
  struct reserve_arg ra = {p.id, refund_id, effective, {{0}}};
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, reserve_tx, &ra);
  /* The same refund_id reserved at the same moment by a concurrent call:
   * its row exists now, and is answered as it stands. */
  if (rc == DB_HARD_ERROR && given_id != NULL &&
      refund_again(req, res, &p, given_id, amount))
    return;
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  if (rc == 0) {
    http_reply_error(res, req, API_CONFLICT,
                     "the refund exceeds the captured amount not yet refunded",
                     "amount");
    return;
  }
  refund_at_provider(req, res, &ra.after, refund_id, effective);
}

/* --- look-ups --- */

void payment_get_handler(struct http_request *req, struct http_response *res) {
  struct payment p;
  if (!load_payment(req, res, &p)) return;
  reply_payment(res, 200, &p);
}

/* Answers {items: [the order's payment]} (empty when none, or when
 * owner_only is given and the payment is someone else's). */
static void list_for_order(struct http_request *req, struct http_response *res,
                           const char *owner_only) {
  const char *order_id = http_query(req, "order_id");
  char norm[UUID_STR_LEN];
  if (order_id == NULL) {
    http_reply_error(res, req, API_UNPROCESSABLE, "order_id is required",
                     "order_id");
    return;
  }
  if (!uuid_normalize(order_id, norm)) {
    http_reply_error(res, req, API_UNPROCESSABLE, "order_id must be a UUID",
                     "order_id");
    return;
  }
  struct db_conn *conn = db_acquire(req->svc->db, 2000);
  if (conn == NULL) {
    http_reply_db_error(res, req, DB_UNAVAILABLE);
    return;
  }
  struct payment p;
  int rc = store_payment_by_order(conn, norm, false, &p);
  db_release(req->svc->db, conn);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  json_t *items = json_array();
  if (rc > 0 && (owner_only == NULL || strcmp(p.user_id, owner_only) == 0))
    json_array_append_new(items, payment_to_json(&p));
  json_t *o = json_object();
  json_object_set_new(o, "items", items);
  json_object_set_new(o, "next_cursor", json_null());
  http_reply_json(res, 200, o);
  json_decref(o);
}

void payment_internal_list_handler(struct http_request *req,
                                   struct http_response *res) {
  list_for_order(req, res, NULL);
}

void payment_public_list_handler(struct http_request *req,
                                 struct http_response *res) {
  const struct principal *who = auth_principal(req);
  list_for_order(req, res, auth_is_admin(req) ? NULL : who->user_id);
}

/* For the reconciler: settles a pending refund the provider answered. */
int payment_settle_refund(struct db_pool *db, const char *refund_id,
                          bool succeeded, const char *provider_refund_id,
                          int64_t amount) {
  struct payment after;
  return settle_refund(db, refund_id, succeeded, provider_refund_id, amount,
                       &after);
}
