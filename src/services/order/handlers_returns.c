/* handlers_returns.c - returns of delivered lines (docs/returns.md).
 *
 * The customer asks (POST /orders/{id}/returns) for delivered lines within
 * the return window, never more units than bought minus those in returns
 * already; an operator approves or rejects, receives (each line sellable or
 * damaged: return.received restocks the sellable units in the product
 * service) and refunds through refunds.c (an intent, then the payment
 * service after COMMIT). Each step is one transaction with its event and,
 * for an operator, its audit record.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit/audit.h"
#include "kit/auth.h"
#include "kit/handler.h"
#include "kit/json.h"
#include "kit/log.h"
#include "kit/money.h"
#include "kit/uuid.h"
#include "services/order/domain.h"
#include "services/order/internal.h"

#define RETURN_ITEMS_MAX 50
#define RETURN_LIST_DEFAULT 20
#define RETURN_LIST_MAX 100

/* What a step found wrong, answered after the transaction. */
struct step_error {
  enum api_error code; /* API_OK when none */
  const char *message;
  char field[64]; /* "" when none */
};

static int refuse(struct step_error *e, enum api_error code,
                  const char *message, const char *field) {
  e->code = code;
  e->message = message;
  snprintf(e->field, sizeof e->field, "%s", field ? field : "");
  return 0;
}

static void reply_step_error(struct http_response *res,
                             const struct http_request *req,
                             const struct step_error *e) {
  http_reply_error(res, req, e->code, e->message,
                   e->field[0] ? e->field : NULL);
}

/* Names the field of a failed item i as items[i].field. */
static void name_item_field(struct json_error *je, size_t i) {
  char field[96];
  snprintf(field, sizeof field, "items[%zu]%s%.60s", i, je->field[0] ? "." : "",
           je->field);
  snprintf(je->field, sizeof je->field, "%.63s", field);
}

static void reply_return(struct http_response *res, unsigned status,
                         const struct return_record *r) {
  json_t *body = order_return_render(r);
  http_reply_json(res, status, body);
  http_response_header(res, "Cache-Control", "no-store");
  json_decref(body);
}

struct load_tx {
  struct arena *arena;
  const char *id;
  struct return_record *out;
};

static int load_tx_fn(struct db_conn *c, void *arg) {
  struct load_tx *t = arg;
  return store_return_get(c, t->arena, t->id, false, t->out);
}

/* Reads a return with its items (one snapshot); a db_status. */
static int load_return(struct http_request *req, const char *id,
                       struct return_record *r) {
  struct load_tx t = {req->arena, id, r};
  return db_transaction(req->svc->db, DB_REPEATABLE_READ, load_tx_fn, &t);
}

/* Loads the {id} return: the owner's or, for an admin, anyone's; 404
 * otherwise (no existence leak). */
static bool load_visible_return(struct http_request *req,
                                struct http_response *res,
                                struct return_record *r) {
  const char *raw = http_param(req, "id");
  char id[UUID_STR_LEN];
  int rc = raw && uuid_normalize(raw, id) ? load_return(req, id, r) : 0;
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return false;
  }
  if (rc == 0 || (!auth_is_admin(req) &&
                  strcmp(r->user_id, auth_principal(req)->user_id) != 0)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such return", NULL);
    return false;
  }
  return true;
}

/* Answers {items: [returns of ids], next_cursor} and releases c. */
static void reply_list(struct http_request *req, struct http_response *res,
                       struct db_conn *c, char (*ids)[40], int n, int limit) {
  int shown = n > limit ? limit : n;
  json_t *body =
      json_pack("{s:[], s:o}", "items", "next_cursor",
                n > limit ? json_string(ids[shown - 1]) : json_null());
  json_t *items = json_object_get(body, "items");
  int rc = 0;
  for (int i = 0; i < shown && rc >= 0; i++) {
    struct return_record r;
    rc = store_return_get(c, req->arena, ids[i], false, &r);
    if (rc == DB_ONE_RESULT)
      json_array_append_new(items, order_return_render(&r));
  }
  db_release(req->svc->db, c);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
  } else {
    http_reply_json(res, 200, body);
    http_response_header(res, "Cache-Control", "no-store");
  }
  json_decref(body);
}

/* Answers a page of the returns that match (each filter NULL: any). */
static void list_returns(struct http_request *req, struct http_response *res,
                         const char *status, const char *order_id,
                         const char *user_id, const char *cursor, int limit) {
  char(*ids)[40] = NULL;
  struct db_conn *c = db_acquire(req->svc->db, ORDER_DB_WAIT_MS);
  /* One more than asked tells whether a next page exists. */
  int n = c ? store_return_list(c, req->arena, status, order_id, user_id,
                                cursor, limit + 1, &ids)
            : DB_UNAVAILABLE;
  if (n >= 0) {
    reply_list(req, res, c, ids, n, limit);
    return;
  }
  if (c != NULL) db_release(req->svc->db, c);
  http_reply_db_error(res, req, n);
}

/* --- POST /api/v1/orders/{id}/returns (the order's owner) ----------------- */

struct wanted {
  size_t line; /* index into the order's lines */
  int64_t quantity;
};

struct create_tx {
  struct http_request *req;
  const char *order_id;
  const char *reason;
  const void *items; /* json_t * array, borrowed */
  int64_t now_s;
  int64_t window_days;
  /* out */
  struct step_error err;
  struct return_record created;
};

/* Finds the line an item names: by order_item_id, or by product_id (and
 * variant_id when the product was bought in several variants). */
static bool find_line(const struct order_record *o, const char *item_id,
                      const char *product_id, const char *variant_id,
                      size_t *line) {
  size_t found = 0, at = 0;
  for (size_t i = 0; i < o->line_count; i++) {
    const struct order_line_record *l = &o->lines[i];
    bool match = item_id ? strcmp(l->id, item_id) == 0
                         : strcmp(l->product_id, product_id) == 0 &&
                               (variant_id == NULL ||
                                strcmp(l->variant_id, variant_id) == 0);
    if (match) {
      found++;
      at = i;
    }
  }
  *line = at;
  return found == 1;
}

/* Reads the items into want[] (one per line at most). false with t->err. */
static bool read_items(struct create_tx *t, const struct order_record *o,
                       struct wanted *want, size_t *count) {
  size_t n = json_array_size(t->items);
  for (size_t i = 0; i < n; i++) {
    const char *item_id = NULL, *product_id = NULL, *variant_id = NULL;
    int64_t quantity = 0;
    const struct json_field fields[] = {
        {"order_item_id", JF_UUID, false, 0, 0, &item_id, .nullable = true},
        {"product_id", JF_UUID, false, 0, 0, &product_id, .nullable = true},
        {"variant_id", JF_UUID, false, 0, 0, &variant_id, .nullable = true},
        {"quantity", JF_INT, true, 1, 99, &quantity},
    };
    struct json_error je;
    char field[64];
    if (json_read_fields(json_array_get(t->items, i), fields,
                         sizeof fields / sizeof fields[0], true, t->req->arena,
                         &je) != KIT_OK) {
      name_item_field(&je, i);
      t->err.code = je.code;
      t->err.message = arena_strdup(t->req->arena, je.message);
      snprintf(t->err.field, sizeof t->err.field, "%s", je.field);
      return false;
    }
    snprintf(field, sizeof field, "items[%zu]", i);
    if (item_id == NULL && product_id == NULL)
      return refuse(&t->err, API_UNPROCESSABLE,
                    "an item names its order_item_id or product_id", field);
    size_t line;
    if (!find_line(o, item_id, product_id, variant_id, &line))
      return refuse(&t->err, API_UNPROCESSABLE,
                    "the item names no single line of this order", field);
    for (size_t k = 0; k < *count; k++)
      if (want[k].line == line)
        return refuse(&t->err, API_UNPROCESSABLE,
                      "the same line is named twice", field);
    want[*count].line = line;
    want[*count].quantity = quantity;
    (*count)++;
  }
  return true;
}

static int create_tx_fn(struct db_conn *c, void *arg) {
  struct create_tx *t = arg;
  struct arena *a = t->req->arena;
  t->err.code = API_OK;
  struct order_record o;
  /* The order's lock serializes its returns: two requests cannot together
   * return more than was bought. */
  int rc = store_order_get(c, a, t->order_id, true, &o);
  if (rc <= 0)
    return rc < 0 ? rc : refuse(&t->err, API_NOT_FOUND, "no such order", NULL);
  if (o.status != ORDER_DELIVERED)
    return refuse(&t->err, API_CONFLICT,
                  "only the lines of a delivered order can be returned", NULL);
  int64_t delivered_at = 0;
  rc = store_order_delivered_at(c, o.id, &delivered_at);
  if (rc < 0) return rc;
  if (rc == 0 ||
      !order_return_window_open(delivered_at, t->now_s, t->window_days))
    return refuse(&t->err, API_CONFLICT,
                  "the return window of this order has closed", NULL);
  struct wanted *want = arena_alloc(a, sizeof *want * (o.line_count + 1));
  int64_t *returned = arena_alloc(a, sizeof *returned * (o.line_count + 1));
  if (want == NULL || returned == NULL) return DB_HARD_ERROR;
  size_t count = 0;
  if (!read_items(t, &o, want, &count)) return 0;
  rc = store_return_units(c, &o, returned);
  if (rc < 0) return rc;

  struct return_record *r = &t->created;
  memset(r, 0, sizeof *r);
  uuid_v7(r->id);
  snprintf(r->order_id, sizeof r->order_id, "%s", o.id);
  snprintf(r->user_id, sizeof r->user_id, "%s", o.user_id);
  snprintf(r->currency, sizeof r->currency, "%s", o.currency);
  r->reason = t->reason;
  r->items = arena_alloc(a, sizeof *r->items * (count + 1));
  if (r->items == NULL) return DB_HARD_ERROR;
  for (size_t i = 0; i < count; i++) {
    const struct order_line_record *l = &o.lines[want[i].line];
    if (!order_return_quantity_ok(l->quantity, returned[want[i].line],
                                  want[i].quantity)) {
      char field[64];
      snprintf(field, sizeof field, "items[%zu].quantity", i);
      return refuse(&t->err, API_UNPROCESSABLE,
                    "more units than were bought and not yet returned", field);
    }
    snprintf(r->items[i].order_item_id, sizeof r->items[i].order_item_id, "%s",
             l->id);
    r->items[i].quantity = want[i].quantity;
  }
  r->item_count = count;
  rc = store_return_insert(c, r);
  if (rc < 0) return rc;
  rc = store_return_get(c, a, r->id, false, r);
  if (rc != DB_ONE_RESULT) return rc < 0 ? rc : DB_HARD_ERROR;
  rc = order_return_emit(c, r, "return.requested");
  return rc < 0 ? rc : 1;
}

void order_handle_return_create(struct http_request *req,
                                struct http_response *res) {
  const void *items = NULL;
  const char *reason = NULL;
  const struct json_field fields[] = {
      {"items", JF_ARRAY, true, 1, RETURN_ITEMS_MAX, &items},
      {"reason", JF_STRING, true, 1, 500, &reason},
  };
  struct json_doc *doc = NULL;
  if (!http_read_body(req, res, fields, sizeof fields / sizeof fields[0], true,
                      &doc))
    goto cleanup;
  struct order_record o;
  if (!order_load_visible(req, res, &o)) goto cleanup;
  /* A return is the buyer's request: an admin sees the order, not asks. */
  if (strcmp(o.user_id, auth_principal(req)->user_id) != 0) {
    http_reply_error(res, req, API_NOT_FOUND, "no such order", NULL);
    goto cleanup;
  }
  struct create_tx t = {
      .req = req, .order_id = o.id, .reason = reason, .items = items};
  t.now_s = (int64_t)time(NULL);
  t.window_days = req->svc->cfg->return_window_days;
  /* Test profiles only: ask as if the window had passed a day ago. */
  if (order_fault_asked(req, "return_window_elapsed"))
    t.now_s += (t.window_days + 1) * 86400;
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, create_tx_fn, &t);
  if (rc < 0)
    http_reply_db_error(res, req, rc);
  else if (t.err.code != API_OK)
    reply_step_error(res, req, &t.err);
  else
    reply_return(res, 201, &t.created);
cleanup:
  json_doc_free(doc);
}

/* --- reads ------------------------------------------------------------------
 */

/* GET /api/v1/orders/{id}/returns: the owner or an admin. */
void order_handle_order_returns(struct http_request *req,
                                struct http_response *res) {
  struct order_record o;
  if (!order_load_visible(req, res, &o)) return;
  list_returns(req, res, NULL, o.id, NULL, NULL, RETURN_LIST_MAX);
}

/* GET /api/v1/returns/{id}: the owner or an admin. */
void order_handle_return_get(struct http_request *req,
                             struct http_response *res) {
  struct return_record r;
  if (!load_visible_return(req, res, &r)) return;
  reply_return(res, 200, &r);
}

/* Reads an optional UUID query parameter; false after answering 422. */
static bool query_uuid(struct http_request *req, struct http_response *res,
                       const char *name, char out[UUID_STR_LEN],
                       const char **value) {
  const char *raw = http_query(req, name);
  *value = NULL;
  if (raw == NULL) return true;
  if (!uuid_normalize(raw, out)) {
    char msg[64];
    snprintf(msg, sizeof msg, "%s must be a UUID", name);
    http_reply_error(res, req, API_UNPROCESSABLE, msg, name);
    return false;
  }
  *value = out;
  return true;
}

/* GET /api/v1/admin/returns?status=&order_id=&user_id=&limit=&cursor= */
void order_handle_admin_returns(struct http_request *req,
                                struct http_response *res) {
  const char *status = http_query(req, "status");
  enum return_status st;
  if (status != NULL && !return_status_parse(status, &st)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "status must be requested, approved, rejected, received "
                     "or refunded",
                     "status");
    return;
  }
  char *end = NULL;
  const char *limit_s = http_query(req, "limit");
  long limit = limit_s ? strtol(limit_s, &end, 10) : RETURN_LIST_DEFAULT;
  if (limit_s &&
      (end == limit_s || *end || limit < 1 || limit > RETURN_LIST_MAX)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "limit must be an integer from 1 to 100", "limit");
    return;
  }
  char order_buf[UUID_STR_LEN], user_buf[UUID_STR_LEN],
      cursor_buf[UUID_STR_LEN];
  const char *order_id, *user_id, *cursor;
  if (!query_uuid(req, res, "order_id", order_buf, &order_id) ||
      !query_uuid(req, res, "user_id", user_buf, &user_id) ||
      !query_uuid(req, res, "cursor", cursor_buf, &cursor))
    return;
  list_returns(req, res, status, order_id, user_id, cursor, (int)limit);
}

/* --- operator decisions: approve, reject, receive --------------------------
 */

struct condition_of {
  const char *order_item_id;
  const char *condition;
};

struct decide_tx {
  struct http_request *req;
  const char *return_id;
  enum return_status to;
  const char *rejection;            /* reject */
  const struct condition_of *conds; /* receive */
  size_t cond_count;
  /* out */
  struct step_error err;
  struct return_record after;
};

static const char *const event_of[RETURN_STATUS_COUNT] = {
    [RETURN_APPROVED] = "return.approved",
    [RETURN_REJECTED] = "return.rejected",
    [RETURN_RECEIVED] = "return.received",
};

static const char *const action_of[RETURN_STATUS_COUNT] = {
    [RETURN_APPROVED] = "return.approve",
    [RETURN_REJECTED] = "return.reject",
    [RETURN_RECEIVED] = "return.receive",
};

/* The conditions to record: each item named in conds, sellable otherwise.
 * false with t->err when conds names an item the return does not hold. */
static int record_conditions(struct db_conn *c, struct decide_tx *t,
                             const struct return_record *r) {
  for (size_t k = 0; k < t->cond_count; k++) {
    bool known = false;
    for (size_t i = 0; i < r->item_count; i++)
      known |=
          strcmp(r->items[i].order_item_id, t->conds[k].order_item_id) == 0;
    if (!known) {
      char field[64];
      snprintf(field, sizeof field, "items[%zu].order_item_id", k);
      refuse(&t->err, API_UNPROCESSABLE, "not an item of this return", field);
      return 0;
    }
  }
  for (size_t i = 0; i < r->item_count; i++) {
    const char *condition = "sellable";
    for (size_t k = 0; k < t->cond_count; k++)
      if (strcmp(r->items[i].order_item_id, t->conds[k].order_item_id) == 0)
        condition = t->conds[k].condition;
    int rc = store_return_item_condition(c, r->id, r->items[i].order_item_id,
                                         condition);
    if (rc < 0) return rc;
  }
  return 1;
}

static json_t *audit_view(const struct return_record *r) {
  json_t *v = json_pack("{s:s}", "status", return_status_name(r->status));
  if (r->rejection_reason)
    json_object_set_new(v, "rejection_reason",
                        json_string(r->rejection_reason));
  if (r->status == RETURN_RECEIVED) {
    json_t *conds = json_object();
    for (size_t i = 0; i < r->item_count; i++)
      json_object_set_new(
          conds, r->items[i].order_item_id,
          json_string(r->items[i].condition ? r->items[i].condition : ""));
    json_object_set_new(v, "conditions", conds);
  }
  return v;
}

static int decide_tx_fn(struct db_conn *c, void *arg) {
  struct decide_tx *t = arg;
  struct arena *a = t->req->arena;
  t->err.code = API_OK;
  struct return_record r;
  int rc = store_return_get(c, a, t->return_id, true, &r);
  if (rc <= 0)
    return rc < 0 ? rc : refuse(&t->err, API_NOT_FOUND, "no such return", NULL);
  if (!return_transition_allowed(r.status, t->to)) {
    char msg[96];
    snprintf(msg, sizeof msg, "a %s return cannot become %s",
             return_status_name(r.status), return_status_name(t->to));
    return refuse(&t->err, API_CONFLICT, arena_strdup(a, msg), NULL);
  }
  if (t->to == RETURN_RECEIVED) {
    rc = record_conditions(c, t, &r);
    if (rc <= 0) return rc;
  }
  rc = store_return_set_status(c, r.id, r.status, t->to, t->rejection);
  if (rc != 1) return rc < 0 ? rc : DB_HARD_ERROR; /* under the lock */
  rc = store_return_get(c, a, r.id, false, &t->after);
  if (rc != DB_ONE_RESULT) return rc < 0 ? rc : DB_HARD_ERROR;
  rc = order_return_emit(c, &t->after, event_of[t->to]);
  if (rc < 0) return rc;
  json_t *before = audit_view(&r);
  json_t *after = audit_view(&t->after);
  rc = audit_record(c, t->req, action_of[t->to], "return", r.id, before, after);
  json_decref(before);
  json_decref(after);
  return rc < 0 ? rc : 1;
}

static void decide(struct http_request *req, struct http_response *res,
                   struct decide_tx *t) {
  const char *raw = http_param(req, "id");
  char id[UUID_STR_LEN];
  if (raw == NULL || !uuid_normalize(raw, id)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such return", NULL);
    return;
  }
  t->req = req;
  t->return_id = id;
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, decide_tx_fn, t);
  if (rc < 0)
    http_reply_db_error(res, req, rc);
  else if (t->err.code != API_OK)
    reply_step_error(res, req, &t->err);
  else
    reply_return(res, 200, &t->after);
}

/* Reads a body of no fields (absent or {}); false after answering. */
static bool empty_body(struct http_request *req, struct http_response *res) {
  if (req->body_len == 0) return true;
  struct json_doc *doc = NULL;
  bool ok = http_read_body(req, res, NULL, 0, true, &doc);
  json_doc_free(doc);
  return ok;
}

void order_handle_return_approve(struct http_request *req,
                                 struct http_response *res) {
  if (!empty_body(req, res)) return;
  struct decide_tx t = {.to = RETURN_APPROVED};
  decide(req, res, &t);
}

void order_handle_return_reject(struct http_request *req,
                                struct http_response *res) {
  struct decide_tx t = {.to = RETURN_REJECTED};
  const struct json_field fields[] = {
      {"reason", JF_STRING, true, 1, 500, &t.rejection},
  };
  struct json_doc *doc = NULL;
  if (http_read_body(req, res, fields, 1, true, &doc)) decide(req, res, &t);
  json_doc_free(doc);
}

void order_handle_return_receive(struct http_request *req,
                                 struct http_response *res) {
  static const char *const conditions[] = {"sellable", "damaged", NULL};
  struct decide_tx t = {.to = RETURN_RECEIVED};
  const void *items = NULL;
  const struct json_field fields[] = {
      {"items", JF_ARRAY, false, 0, RETURN_ITEMS_MAX, &items, .nullable = true},
  };
  struct json_doc *doc = NULL;
  if (req->body_len > 0 && !http_read_body(req, res, fields, 1, true, &doc))
    goto cleanup;
  size_t n = json_array_size(items);
  struct condition_of *conds = arena_alloc(req->arena, sizeof *conds * (n + 1));
  if (conds == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    goto cleanup;
  }
  for (size_t i = 0; i < n; i++) {
    const struct json_field item_fields[] = {
        {"order_item_id", JF_UUID, true, 0, 0, &conds[i].order_item_id},
        {"condition", JF_ENUM, true, 0, 0, &conds[i].condition,
         .enum_values = conditions},
    };
    struct json_error je;
    if (json_read_fields(json_array_get(items, i), item_fields, 2, true,
                         req->arena, &je) != KIT_OK) {
      name_item_field(&je, i);
      http_reply_json_error(res, req, &je);
      goto cleanup;
    }
  }
  t.conds = conds;
  t.cond_count = n;
  decide(req, res, &t);
cleanup:
  json_doc_free(doc);
}

/* --- POST /api/v1/admin/returns/{id}/refund ---------------------------------
 */

struct refund_tx {
  struct http_request *req;
  const char *return_id;
  /* out */
  struct step_error err;
  bool refunded_already;
  char refund_id[40]; /* the intent to drive */
};

/* The share of each item (prorated from its line) into items' refunds, and
 * their sum into *total. false when a line is unknown or a sum overflows. */
static bool price_items(const struct order_record *o, struct return_record *r,
                        int64_t *total) {
  *total = 0;
  for (size_t i = 0; i < r->item_count; i++) {
    struct return_item_record *it = &r->items[i];
    const struct order_line_record *l = NULL;
    for (size_t k = 0; k < o->line_count; k++)
      if (strcmp(o->lines[k].id, it->order_item_id) == 0) l = &o->lines[k];
    if (l == NULL ||
        !order_line_refund(l->subtotal, l->tax, l->discount, l->quantity,
                           l->refunded_quantity, it->quantity, &it->refund) ||
        !money_add(*total, it->refund, total))
      return false;
  }
  return true;
}

static int refund_intent(struct db_conn *c, struct refund_tx *t,
                         const struct order_record *o,
                         struct return_record *r) {
  int64_t pending = 0, total = 0, amount = 0;
  int rc = store_refund_pending_sum(c, o->id, &pending);
  if (rc < 0) return rc;
  if (pending > 0)
    return refuse(&t->err, API_CONFLICT,
                  "another refund of this order is in progress; try again",
                  NULL);
  if (!price_items(o, r, &total)) return DB_HARD_ERROR;
  switch (order_refund_check(o->captured, o->refunded, true, total, &amount)) {
  case REFUND_OK:
    break;
  case REFUND_NOTHING_CAPTURED:
    return refuse(&t->err, API_CONFLICT, "nothing of the order was captured",
                  NULL);
  case REFUND_BEYOND_CAPTURED:
    return refuse(&t->err, API_CONFLICT,
                  "the refund exceeds what was captured and not yet refunded",
                  NULL);
  case REFUND_INVALID_AMOUNT:
    return refuse(&t->err, API_CONFLICT, "the returned units cost nothing",
                  NULL);
  }
  uuid_v7(t->refund_id);
  for (size_t i = 0; i < r->item_count && rc >= 0; i++)
    rc = store_return_item_refund(c, r->id, r->items[i].order_item_id,
                                  r->items[i].refund);
  if (rc < 0) return rc;
  rc = store_return_set_refund(c, r->id, t->refund_id, amount);
  if (rc < 0) return rc;
  rc = store_refund_insert(c, t->refund_id, o->id, NULL, NULL, amount, r->id);
  if (rc < 0) return rc;
  char amt[MONEY_BUF];
  json_t *before = json_pack("{s:s}", "status", return_status_name(r->status));
  json_t *after = json_pack("{s:s, s:s, s:s, s:s}", "status", "refunded",
                            "refund_id", t->refund_id, "refund_amount",
                            money_format(amount, o->currency, amt), "currency",
                            o->currency);
  rc = audit_record(c, t->req, "return.refund", "return", r->id, before, after);
  json_decref(before);
  json_decref(after);
  return rc < 0 ? rc : 1;
}

static int refund_tx_fn(struct db_conn *c, void *arg) {
  struct refund_tx *t = arg;
  struct arena *a = t->req->arena;
  t->err.code = API_OK;
  t->refunded_already = false;
  t->refund_id[0] = '\0';
  struct return_record r;
  int rc = store_return_get(c, a, t->return_id, false, &r);
  if (rc <= 0)
    return rc < 0 ? rc : refuse(&t->err, API_NOT_FOUND, "no such return", NULL);
  /* The order, then the return: the lock order of the settlement. */
  struct order_record o;
  rc = store_order_get(c, a, r.order_id, true, &o);
  if (rc != DB_ONE_RESULT) return rc < 0 ? rc : DB_HARD_ERROR;
  rc = store_return_get(c, a, t->return_id, true, &r);
  if (rc != DB_ONE_RESULT) return rc < 0 ? rc : DB_HARD_ERROR;
  if (r.status == RETURN_REFUNDED) {
    t->refunded_already = true; /* a repeated refund refunds nothing */
    return 0;
  }
  if (r.status != RETURN_RECEIVED)
    return refuse(&t->err, API_CONFLICT,
                  "only a received return can be refunded", NULL);
  if (r.refund_id[0]) {
    struct refund_record rf;
    rc = store_refund_get(c, a, r.refund_id, false, &rf);
    if (rc < 0) return rc;
    if (rc == 1 && rf.state != REFUND_FAILED) {
      /* Asked before and not refused: drive that one, never a second. */
      snprintf(t->refund_id, sizeof t->refund_id, "%s", rf.id);
      return 0;
    }
  }
  return refund_intent(c, t, &o, &r);
}

void order_handle_return_refund(struct http_request *req,
                                struct http_response *res) {
  if (!empty_body(req, res)) return;
  const char *raw = http_param(req, "id");
  char id[UUID_STR_LEN];
  if (raw == NULL || !uuid_normalize(raw, id)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such return", NULL);
    return;
  }
  struct refund_tx t = {.req = req, .return_id = id};
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, refund_tx_fn, &t);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  if (t.err.code != API_OK) {
    reply_step_error(res, req, &t.err);
    return;
  }
  enum refund_outcome out = REFUND_DONE;
  if (!t.refunded_already) {
    /* Committed: the payment service is called outside any transaction. */
    order_fault_point(req, "refund_after_intent");
    out = order_refund_drive(req, t.refund_id);
  }
  if (out == REFUND_IN_DOUBT) {
    http_reply_error(res, req, API_SERVICE_UNAVAILABLE,
                     "the payment service did not answer the refund",
                     "the refund is pending and will be completed");
    return;
  }
  if (out == REFUND_REFUSED) {
    http_reply_error(res, req, API_CONFLICT,
                     "the payment service refused the refund", NULL);
    return;
  }
  struct return_record r;
  rc = load_return(req, id, &r);
  if (rc != DB_ONE_RESULT) {
    http_reply_db_error(res, req, rc < 0 ? rc : DB_HARD_ERROR);
    return;
  }
  reply_return(res, 200, &r);
}
