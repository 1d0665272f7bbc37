/* store.c - the order service's SQL (see store.h). */
#include "services/order/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define TS(col)                                                                \
  "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* The seed's payment_method {type, brand, last4} (migration 003). */
#define PAYMENT_METHOD_COLUMNS "payment_type, payment_brand, payment_last4"

/* What promotions took (migration 005). */
#define DISCOUNT_COLUMNS "discount_minor, discounts::text"

#define ORDER_COLUMNS                                                          \
  "id, user_id, cart_id, status, currency, subtotal_minor, tax_minor, "        \
  "shipping_minor, total_minor, tax_rate_bp, shipping_method, "                \
  "shipping_address::text, billing_address::text, payment_id, "                \
  "captured_minor, refunded_minor, shipment_id, cancel_reason, "               \
  "compensation_due, " TS("created_at") ", " TS(                               \
      "updated_at") ", " PAYMENT_METHOD_COLUMNS ", " DISCOUNT_COLUMNS

#define REFUND_COLUMNS                                                         \
  "id, order_id, coalesce(return_id::text, ''), status, amount_minor, "        \
  "request_hash, response_body, last_error"

#define RETURN_COLUMNS                                                         \
  "id, order_id, user_id, status, reason, rejection_reason, currency, "        \
  "refund_minor, coalesce(refund_id::text, ''), " TS("created_at") ", " TS(    \
      "updated_at")

const struct db_statement order_statements[ORDER_STATEMENT_COUNT] = {
    {"checkout_claim",
     "INSERT INTO checkouts (user_id, idem_key, request_hash, order_id, "
     "cart_id, owner, claim, step) VALUES ($1, $2, $3, $4, $5, $6, $7, "
     "'started') ON CONFLICT (user_id, idem_key) DO NOTHING RETURNING "
     "order_id"},
    {"checkout_get",
     "SELECT request_hash, order_id, user_id, cart_id, step, owner, claim, "
     "response_status, response_body FROM checkouts "
     "WHERE user_id = $1 AND idem_key = $2"},
    {"checkout_step", "UPDATE checkouts SET step = $3, updated_at = now() "
                      "WHERE order_id = $1 AND claim = $2"},
    {"checkout_finish",
     "UPDATE checkouts SET step = 'done', response_status = $3, "
     "response_body = $4, updated_at = now() "
     "WHERE order_id = $1 AND claim = $2"},
    {"checkout_delete",
     "DELETE FROM checkouts WHERE order_id = $1 AND claim = $2"},
    {"checkout_stale",
     "SELECT request_hash, order_id, user_id, cart_id, step, owner, claim, "
     "response_status, response_body FROM checkouts c WHERE step <> 'done' "
     "AND (updated_at < now() - interval '10 minutes' OR NOT EXISTS ("
     "SELECT 1 FROM order_workers w WHERE w.instance_id = c.owner "
     "AND w.heartbeat_at > now() - interval '10 seconds')) "
     "ORDER BY updated_at LIMIT $1"},
    {"checkout_takeover",
     "UPDATE checkouts SET owner = $3, claim = $4, updated_at = now() "
     "WHERE order_id = $1 AND claim = $2 AND step <> 'done'"},
    {"worker_beat",
     "INSERT INTO order_workers (instance_id) VALUES ($1) ON CONFLICT "
     "(instance_id) DO UPDATE SET heartbeat_at = now()"},
    {"worker_gone", "DELETE FROM order_workers WHERE instance_id = $1 "
                    "OR heartbeat_at < now() - interval '1 day'"},
    {"tax_rate",
     "SELECT rate_bp FROM tax_rules WHERE country = $1 AND region IN ($2, '') "
     "ORDER BY region DESC LIMIT 1"},
    {"order_insert",
     "INSERT INTO orders (id, user_id, cart_id, status, currency, "
     "subtotal_minor, tax_minor, shipping_minor, total_minor, tax_rate_bp, "
     "shipping_method, shipping_address, billing_address, discount_minor, "
     "discounts) VALUES ($1, $2, $3, "
     "'pending', $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb, $13, "
     "$14::jsonb)"},
    {"line_insert",
     "INSERT INTO order_lines (order_id, line_no, product_id, sku, name, "
     "unit_price_minor, quantity, subtotal_minor, tax_minor, total_minor, "
     "variant_id, discount_minor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
     "$10, $11, $12)"},
    {"transition_insert",
     "INSERT INTO order_transitions (order_id, from_status, to_status, reason) "
     "VALUES ($1, $2, $3, $4)"},
    {"order_get", "SELECT " ORDER_COLUMNS " FROM orders WHERE id = $1"},
    {"order_get_locked",
     "SELECT " ORDER_COLUMNS " FROM orders WHERE id = $1 FOR UPDATE"},
    {"order_lines", "SELECT product_id, sku, name, unit_price_minor, quantity, "
                    "subtotal_minor, tax_minor, total_minor, "
                    "COALESCE(variant_id::text, ''), discount_minor, id, "
                    "refunded_quantity, refunded_minor FROM order_lines "
                    "WHERE order_id = $1 ORDER BY line_no"},
    {"order_transitions", "SELECT from_status, to_status, reason, " TS(
                              "occurred_at") " FROM order_transitions WHERE "
                                             "order_id = $1 ORDER BY seq"},
    {"order_list",
     "SELECT id FROM orders WHERE ($1::uuid IS NULL OR user_id = $1) AND "
     "($2::uuid IS NULL OR id < $2::uuid) ORDER BY id DESC LIMIT $3"},
    {"order_set_status", "UPDATE orders SET status = $3, updated_at = now() "
                         "WHERE id = $1 AND status = $2"},
    {"order_set_payment",
     "UPDATE orders SET payment_id = $2, payment_type = 'card', "
     "payment_brand = nullif($3, ''), payment_last4 = nullif($4, ''), "
     "updated_at = now() WHERE id = $1"},
    {"order_cancel",
     "UPDATE orders SET status = 'cancelled', cancel_reason = $3, "
     "compensation_due = true, updated_at = now() "
     "WHERE id = $1 AND status = $2"},
    {"order_compensated",
     "UPDATE orders SET compensation_due = false WHERE id = $1"},
    {"order_compensation_due",
     "SELECT id FROM orders WHERE compensation_due ORDER BY id LIMIT $1"},
    {"order_set_shipment",
     "UPDATE orders SET shipment_id = coalesce($2, shipment_id), "
     "captured_minor = GREATEST(captured_minor, $3), updated_at = now() "
     "WHERE id = $1"},
    {"order_add_refund",
     "UPDATE orders SET refunded_minor = refunded_minor + $2, "
     "updated_at = now() WHERE id = $1 AND refunded_minor + $2 <= "
     "captured_minor"},
    {"refund_by_key", "SELECT " REFUND_COLUMNS " FROM refunds "
                      "WHERE order_id = $1 AND idem_key = $2"},
    {"refund_get", "SELECT " REFUND_COLUMNS " FROM refunds WHERE id = $1"},
    {"refund_get_locked",
     "SELECT " REFUND_COLUMNS " FROM refunds WHERE id = $1 FOR UPDATE"},
    {"refund_insert",
     "INSERT INTO refunds (id, order_id, idem_key, request_hash, "
     "amount_minor, return_id, status) VALUES ($1, $2, $3, $4, $5, $6, "
     "'pending')"},
    {"refund_pending_sum", "SELECT coalesce(sum(amount_minor), 0) FROM refunds "
                           "WHERE order_id = $1 AND status = 'pending'"},
    {"refund_settle",
     "UPDATE refunds SET status = $2, response_body = $3, last_error = $4, "
     "updated_at = now() WHERE id = $1 AND status = 'pending'"},
    {"refund_attempt",
     "UPDATE refunds SET attempts = attempts + 1, last_error = $2, "
     "updated_at = now() WHERE id = $1 AND status = 'pending'"},
    {"refunds_stale",
     "SELECT id FROM refunds WHERE status = 'pending' AND updated_at < now() "
     "- make_interval(secs => $1::int) ORDER BY updated_at LIMIT $2"},
    {"return_insert",
     "INSERT INTO returns (id, order_id, user_id, status, reason, currency) "
     "VALUES ($1, $2, $3, 'requested', $4, $5)"},
    {"return_item_insert",
     "INSERT INTO return_items (return_id, order_line_id, quantity) "
     "VALUES ($1, $2, $3)"},
    {"return_get", "SELECT " RETURN_COLUMNS " FROM returns WHERE id = $1"},
    {"return_get_locked",
     "SELECT " RETURN_COLUMNS " FROM returns WHERE id = $1 FOR UPDATE"},
    {"return_items",
     "SELECT i.order_line_id, l.product_id, coalesce(l.variant_id::text, ''), "
     "l.sku, l.name, i.quantity, i.condition, i.refund_minor FROM "
     "return_items i JOIN order_lines l ON l.id = i.order_line_id "
     "WHERE i.return_id = $1 ORDER BY l.line_no"},
    {"return_list",
     "SELECT id FROM returns WHERE ($1::text IS NULL OR status = $1) AND "
     "($2::uuid IS NULL OR order_id = $2::uuid) AND ($3::uuid IS NULL OR "
     "user_id = $3::uuid) AND ($4::uuid IS NULL OR id < $4::uuid) "
     "ORDER BY id DESC LIMIT $5"},
    {"return_units",
     "SELECT i.order_line_id, sum(i.quantity) FROM return_items i JOIN "
     "returns r ON r.id = i.return_id WHERE r.order_id = $1 AND r.status <> "
     "'rejected' GROUP BY i.order_line_id"},
    {"order_delivered_at",
     "SELECT floor(extract(epoch FROM max(occurred_at)))::bigint FROM "
     "order_transitions WHERE order_id = $1 AND to_status = 'delivered' "
     "HAVING count(*) > 0"},
    {"return_set_status",
     "UPDATE returns SET status = $3, rejection_reason = coalesce($4, "
     "rejection_reason), updated_at = now() WHERE id = $1 AND status = $2"},
    {"return_item_condition",
     "UPDATE return_items SET condition = $3 WHERE return_id = $1 AND "
     "order_line_id = $2"},
    {"return_set_refund",
     "UPDATE returns SET refund_id = $2, refund_minor = $3, updated_at = "
     "now() WHERE id = $1"},
    {"return_item_refund",
     "UPDATE return_items SET refund_minor = $3 WHERE return_id = $1 AND "
     "order_line_id = $2"},
    {"line_add_refund",
     "UPDATE order_lines SET refunded_quantity = refunded_quantity + $2, "
     "refunded_minor = refunded_minor + $3 WHERE id = $1 AND "
     "refunded_quantity + $2 <= quantity"},
};
_Static_assert(sizeof order_statements / sizeof order_statements[0] ==
                   ORDER_STATEMENT_COUNT,
               "ORDER_STATEMENT_COUNT must match the table");

/* --- helpers --- */

static const char *dup_or_null(struct arena *a, const struct db_result *r,
                               int row, int col) {
  if (db_result_is_null(r, row, col)) return NULL;
  return arena_strdup(a, db_result_text(r, row, col));
}

static void copy_text(char *dst, size_t size, const struct db_result *r,
                      int row, int col) {
  snprintf(dst, size, "%s",
           db_result_is_null(r, row, col) ? "" : db_result_text(r, row, col));
}

static int exec(struct db_conn *c, const char *stmt, int n,
                const char *const *params) {
  return db_exec(c, stmt, n, params, NULL);
}

/* --- checkouts --- */

int store_checkout_claim(struct db_conn *c, const char *user_id,
                         const char *key, const char *hash,
                         const char *order_id, const char *cart_id,
                         const char *owner, const char *claim) {
  const char *p[] = {user_id, key, hash, order_id, cart_id, owner, claim};
  return exec(c, "checkout_claim", 7, p);
}

static void read_checkout(struct arena *a, const struct db_result *r, int row,
                          struct checkout_record *out) {
  memset(out, 0, sizeof *out);
  copy_text(out->request_hash, sizeof out->request_hash, r, row, 0);
  copy_text(out->order_id, sizeof out->order_id, r, row, 1);
  copy_text(out->user_id, sizeof out->user_id, r, row, 2);
  copy_text(out->cart_id, sizeof out->cart_id, r, row, 3);
  copy_text(out->step, sizeof out->step, r, row, 4);
  copy_text(out->owner, sizeof out->owner, r, row, 5);
  copy_text(out->claim, sizeof out->claim, r, row, 6);
  out->response_status =
      db_result_is_null(r, row, 7) ? 0 : (int)db_result_int64(r, row, 7);
  out->response_body = dup_or_null(a, r, row, 8);
}

int store_checkout_get(struct db_conn *c, struct arena *a, const char *user_id,
                       const char *key, struct checkout_record *out) {
  const char *p[] = {user_id, key};
  struct db_result *r = NULL;
  int rc = db_exec(c, "checkout_get", 2, p, &r);
  if (rc == DB_ONE_RESULT) read_checkout(a, r, 0, out);
  db_result_free(r);
  return rc;
}

int store_checkout_step(struct db_conn *c, const char *order_id,
                        const char *claim, const char *step) {
  const char *p[] = {order_id, claim, step};
  return exec(c, "checkout_step", 3, p);
}

int store_checkout_finish(struct db_conn *c, const char *order_id,
                          const char *claim, int status, const char *body) {
  char st[16];
  snprintf(st, sizeof st, "%d", status);
  const char *p[] = {order_id, claim, st, body};
  return exec(c, "checkout_finish", 4, p);
}

int store_checkout_delete(struct db_conn *c, const char *order_id,
                          const char *claim) {
  const char *p[] = {order_id, claim};
  return exec(c, "checkout_delete", 2, p);
}

int store_checkout_stale(struct db_conn *c, struct arena *a,
                         struct checkout_record **out, int max) {
  char lim[16];
  snprintf(lim, sizeof lim, "%d", max);
  const char *p[] = {lim};
  struct db_result *r = NULL;
  int rc = db_exec(c, "checkout_stale", 1, p, &r);
  if (rc > 0) {
    *out = arena_alloc(a, sizeof **out * (size_t)rc);
    if (*out == NULL) {
      rc = DB_HARD_ERROR;
    } else {
      for (int i = 0; i < rc; i++)
        read_checkout(a, r, i, &(*out)[i]);
    }
  }
  db_result_free(r);
  return rc;
}

int store_checkout_takeover(struct db_conn *c, const char *order_id,
                            const char *old_claim, const char *owner,
                            const char *new_claim) {
  const char *p[] = {order_id, old_claim, owner, new_claim};
  return exec(c, "checkout_takeover", 4, p);
}

int store_worker_beat(struct db_conn *c, const char *instance_id) {
  const char *p[] = {instance_id};
  return exec(c, "worker_beat", 1, p);
}

int store_worker_gone(struct db_conn *c, const char *instance_id) {
  const char *p[] = {instance_id};
  return exec(c, "worker_gone", 1, p);
}

/* --- tax -------------------------------------------------------------------
 */

int store_tax_rate(struct db_conn *c, const char *country, const char *region,
                   int64_t *rate_bp) {
  const char *p[] = {country, region ? region : ""};
  struct db_result *r = NULL;
  int rc = db_exec(c, "tax_rate", 2, p, &r);
  *rate_bp = rc == DB_ONE_RESULT ? db_result_int64(r, 0, 0) : 0;
  db_result_free(r);
  return rc;
}

/* --- orders ------------------------------------------------------------------
 */

#define I64(buf, v) (snprintf(buf, sizeof buf, "%" PRId64, (int64_t)(v)), buf)

int store_order_insert(struct db_conn *c, const struct order_record *o) {
  char sub[24], tax[24], ship[24], tot[24], rate[24], disc[24];
  const char *p[] = {o->id,
                     o->user_id,
                     o->cart_id,
                     o->currency,
                     I64(sub, o->subtotal),
                     I64(tax, o->tax),
                     I64(ship, o->shipping),
                     I64(tot, o->total),
                     I64(rate, o->tax_rate_bp),
                     o->shipping_method,
                     o->shipping_address,
                     o->billing_address,
                     I64(disc, o->discount_total),
                     o->discounts ? o->discounts : "[]"};
  int rc = exec(c, "order_insert", 14, p);
  if (rc < 0) return rc;
  for (size_t i = 0; i < o->line_count; i++) {
    const struct order_line_record *l = &o->lines[i];
    char no[24], up[24], q[24], ls[24], lt[24], ltot[24], ld[24];
    snprintf(no, sizeof no, "%zu", i + 1);
    const char *lp[] = {o->id,
                        no,
                        l->product_id,
                        l->sku,
                        l->name,
                        I64(up, l->unit_price),
                        I64(q, l->quantity),
                        I64(ls, l->subtotal),
                        I64(lt, l->tax),
                        I64(ltot, l->total),
                        l->variant_id[0] ? l->variant_id : NULL,
                        I64(ld, l->discount)};
    rc = exec(c, "line_insert", 12, lp);
    if (rc < 0) return rc;
  }
  const char *tp[] = {o->id, NULL, "pending", "checkout"};
  return exec(c, "transition_insert", 4, tp);
}

int store_order_get(struct db_conn *c, struct arena *a, const char *id,
                    bool for_update, struct order_record *out) {
  const char *p[] = {id};
  struct db_result *r = NULL;
  int rc = db_exec(c, for_update ? "order_get_locked" : "order_get", 1, p, &r);
  if (rc != DB_ONE_RESULT) goto cleanup;
  memset(out, 0, sizeof *out);
  copy_text(out->id, sizeof out->id, r, 0, 0);
  copy_text(out->user_id, sizeof out->user_id, r, 0, 1);
  copy_text(out->cart_id, sizeof out->cart_id, r, 0, 2);
  if (!order_status_parse(db_result_text(r, 0, 3), &out->status)) {
    rc = DB_HARD_ERROR;
    goto cleanup;
  }
  copy_text(out->currency, sizeof out->currency, r, 0, 4);
  out->subtotal = db_result_int64(r, 0, 5);
  out->tax = db_result_int64(r, 0, 6);
  out->shipping = db_result_int64(r, 0, 7);
  out->total = db_result_int64(r, 0, 8);
  out->tax_rate_bp = db_result_int64(r, 0, 9);
  out->shipping_method = dup_or_null(a, r, 0, 10);
  out->shipping_address = dup_or_null(a, r, 0, 11);
  out->billing_address = dup_or_null(a, r, 0, 12);
  out->payment_id = dup_or_null(a, r, 0, 13);
  out->captured = db_result_int64(r, 0, 14);
  out->refunded = db_result_int64(r, 0, 15);
  out->shipment_id = dup_or_null(a, r, 0, 16);
  out->cancel_reason = dup_or_null(a, r, 0, 17);
  out->compensation_due = db_result_bool(r, 0, 18);
  out->created_at = dup_or_null(a, r, 0, 19);
  out->updated_at = dup_or_null(a, r, 0, 20);
  out->payment_type = dup_or_null(a, r, 0, 21);
  out->payment_brand = dup_or_null(a, r, 0, 22);
  out->payment_last4 = dup_or_null(a, r, 0, 23);
  out->discount_total = db_result_int64(r, 0, 24);
  out->discounts = dup_or_null(a, r, 0, 25);
  db_result_free(r);
  r = NULL;

  int n = db_exec(c, "order_lines", 1, p, &r);
  if (n < 0) {
    rc = n;
    goto cleanup;
  }
  out->lines = arena_alloc(a, sizeof *out->lines * (size_t)(n + 1));
  if (out->lines == NULL) {
    rc = DB_HARD_ERROR;
    goto cleanup;
  }
  for (int i = 0; i < n; i++) {
    struct order_line_record *l = &out->lines[i];
    copy_text(l->product_id, sizeof l->product_id, r, i, 0);
    l->sku = dup_or_null(a, r, i, 1);
    l->name = dup_or_null(a, r, i, 2);
    l->unit_price = db_result_int64(r, i, 3);
    l->quantity = db_result_int64(r, i, 4);
    l->subtotal = db_result_int64(r, i, 5);
    l->tax = db_result_int64(r, i, 6);
    l->total = db_result_int64(r, i, 7);
    copy_text(l->variant_id, sizeof l->variant_id, r, i, 8);
    l->discount = db_result_int64(r, i, 9);
    copy_text(l->id, sizeof l->id, r, i, 10);
    l->refunded_quantity = db_result_int64(r, i, 11);
    l->refunded = db_result_int64(r, i, 12);
  }
  out->line_count = (size_t)n;
  db_result_free(r);
  r = NULL;

  n = db_exec(c, "order_transitions", 1, p, &r);
  if (n < 0) {
    rc = n;
    goto cleanup;
  }
  out->transitions = arena_alloc(a, sizeof *out->transitions * (size_t)(n + 1));
  if (out->transitions == NULL) {
    rc = DB_HARD_ERROR;
    goto cleanup;
  }
  for (int i = 0; i < n; i++) {
    struct order_transition_record *t = &out->transitions[i];
    t->from = dup_or_null(a, r, i, 0);
    t->to = dup_or_null(a, r, i, 1);
    t->reason = dup_or_null(a, r, i, 2);
    t->occurred_at = dup_or_null(a, r, i, 3);
  }
  out->transition_count = (size_t)n;
  rc = DB_ONE_RESULT;
cleanup:
  db_result_free(r);
  return rc;
}

/* The first column of every row as ids (arena). */
static int id_rows(struct db_conn *c, struct arena *a, const char *stmt, int n,
                   const char *const *p, char (**ids)[40]) {
  struct db_result *r = NULL;
  int rc = db_exec(c, stmt, n, p, &r);
  if (rc >= 0) {
    *ids = arena_alloc(a, sizeof **ids * (size_t)(rc + 1));
    if (*ids == NULL) {
      rc = DB_HARD_ERROR;
    } else {
      for (int i = 0; i < rc; i++)
        copy_text((*ids)[i], 40, r, i, 0);
    }
  }
  db_result_free(r);
  return rc;
}

int store_order_list(struct db_conn *c, struct arena *a, const char *user_id,
                     const char *before, int limit, char (**ids)[40]) {
  char lim[16];
  snprintf(lim, sizeof lim, "%d", limit);
  const char *p[] = {user_id, before, lim};
  return id_rows(c, a, "order_list", 3, p, ids);
}

int store_order_transition(struct db_conn *c, const char *id,
                           enum order_status from, enum order_status to,
                           const char *reason) {
  const char *p[] = {id, order_status_name(from), order_status_name(to)};
  int rc = exec(c, "order_set_status", 3, p);
  if (rc != 1) return rc;
  const char *tp[] = {id, order_status_name(from), order_status_name(to),
                      reason};
  rc = exec(c, "transition_insert", 4, tp);
  return rc < 0 ? rc : 1;
}

int store_order_set_payment(struct db_conn *c, const char *id,
                            const char *payment_id, const char *brand,
                            const char *last4) {
  const char *p[] = {id, payment_id, brand ? brand : "", last4 ? last4 : ""};
  return exec(c, "order_set_payment", 4, p);
}

int store_order_cancel(struct db_conn *c, const char *id,
                       enum order_status from, const char *reason) {
  const char *p[] = {id, order_status_name(from), reason};
  int rc = exec(c, "order_cancel", 3, p);
  if (rc != 1) return rc;
  const char *tp[] = {id, order_status_name(from), "cancelled", reason};
  rc = exec(c, "transition_insert", 4, tp);
  return rc < 0 ? rc : 1;
}

int store_order_compensated(struct db_conn *c, const char *id) {
  const char *p[] = {id};
  return exec(c, "order_compensated", 1, p);
}

int store_order_compensation_due(struct db_conn *c, struct arena *a,
                                 char (**ids)[40], int max) {
  char lim[16];
  snprintf(lim, sizeof lim, "%d", max);
  const char *p[] = {lim};
  return id_rows(c, a, "order_compensation_due", 1, p, ids);
}

int store_order_set_shipment(struct db_conn *c, const char *id,
                             const char *shipment_id, int64_t captured) {
  char cap[24];
  const char *p[] = {id, shipment_id, I64(cap, captured)};
  return exec(c, "order_set_shipment", 3, p);
}

int store_order_add_refund(struct db_conn *c, const char *id, int64_t amount) {
  char amt[24];
  const char *p[] = {id, I64(amt, amount)};
  return exec(c, "order_add_refund", 2, p);
}

/* --- refunds --- */

static void read_refund(struct arena *a, const struct db_result *r,
                        struct refund_record *out) {
  memset(out, 0, sizeof *out);
  copy_text(out->id, sizeof out->id, r, 0, 0);
  copy_text(out->order_id, sizeof out->order_id, r, 0, 1);
  copy_text(out->return_id, sizeof out->return_id, r, 0, 2);
  const char *st = db_result_text(r, 0, 3);
  out->state = strcmp(st, "succeeded") == 0 ? REFUND_SUCCEEDED
               : strcmp(st, "failed") == 0  ? REFUND_FAILED
                                            : REFUND_PENDING;
  out->amount = db_result_int64(r, 0, 4);
  out->request_hash = dup_or_null(a, r, 0, 5);
  out->body = dup_or_null(a, r, 0, 6);
  out->last_error = dup_or_null(a, r, 0, 7);
}

static int one_refund(struct db_conn *c, struct arena *a, const char *stmt,
                      int n, const char *const *p, struct refund_record *out) {
  struct db_result *r = NULL;
  int rc = db_exec(c, stmt, n, p, &r);
  if (rc == DB_ONE_RESULT) read_refund(a, r, out);
  db_result_free(r);
  return rc;
}

int store_refund_by_key(struct db_conn *c, struct arena *a,
                        const char *order_id, const char *key,
                        struct refund_record *out) {
  const char *p[] = {order_id, key};
  return one_refund(c, a, "refund_by_key", 2, p, out);
}

int store_refund_get(struct db_conn *c, struct arena *a, const char *id,
                     bool for_update, struct refund_record *out) {
  const char *p[] = {id};
  return one_refund(c, a, for_update ? "refund_get_locked" : "refund_get", 1, p,
                    out);
}

int store_refund_insert(struct db_conn *c, const char *id, const char *order_id,
                        const char *key, const char *hash, int64_t amount,
                        const char *return_id) {
  char amt[24];
  const char *p[] = {id, order_id, key, hash, I64(amt, amount), return_id};
  return exec(c, "refund_insert", 6, p);
}

/* One bigint of a one-row answer into *out. */
static int one_int64(struct db_conn *c, const char *stmt, int n,
                     const char *const *p, int64_t *out) {
  struct db_result *r = NULL;
  int rc = db_exec(c, stmt, n, p, &r);
  if (rc == DB_ONE_RESULT) *out = db_result_int64(r, 0, 0);
  db_result_free(r);
  return rc;
}

int store_refund_pending_sum(struct db_conn *c, const char *order_id,
                             int64_t *amount) {
  const char *p[] = {order_id};
  *amount = 0;
  return one_int64(c, "refund_pending_sum", 1, p, amount);
}

int store_refund_close(struct db_conn *c, const char *id, bool succeeded,
                       const char *body, const char *error) {
  const char *p[] = {id, succeeded ? "succeeded" : "failed", body, error};
  return exec(c, "refund_settle", 4, p);
}

int store_refund_attempt(struct db_conn *c, const char *id, const char *error) {
  const char *p[] = {id, error};
  return exec(c, "refund_attempt", 2, p);
}

int store_refunds_stale(struct db_conn *c, struct arena *a, int older_s,
                        char (**ids)[40], int max) {
  char older[16], lim[16];
  snprintf(older, sizeof older, "%d", older_s);
  snprintf(lim, sizeof lim, "%d", max);
  const char *p[] = {older, lim};
  return id_rows(c, a, "refunds_stale", 2, p, ids);
}

/* --- returns --- */

int store_return_insert(struct db_conn *c, const struct return_record *r) {
  const char *p[] = {r->id, r->order_id, r->user_id, r->reason, r->currency};
  int rc = exec(c, "return_insert", 5, p);
  for (size_t i = 0; i < r->item_count && rc >= 0; i++) {
    char q[24];
    const char *ip[] = {r->id, r->items[i].order_item_id,
                        I64(q, r->items[i].quantity)};
    rc = exec(c, "return_item_insert", 3, ip);
  }
  return rc < 0 ? rc : 1;
}

/* Runs stmt (one parameter) and makes room in a for its rows plus one, elem
 * bytes each, at *items. The row count or a db_status < 0; *r holds the
 * result either way (the caller frees it). */
static int rows_into(struct db_conn *c, struct arena *a, const char *stmt,
                     const char *const *p, size_t elem, void **items,
                     struct db_result **r) {
  int n = db_exec(c, stmt, 1, p, r);
  if (n < 0) return n;
  *items = arena_alloc(a, elem * (size_t)(n + 1));
  return *items == NULL ? DB_HARD_ERROR : n;
}

int store_return_get(struct db_conn *c, struct arena *a, const char *id,
                     bool for_update, struct return_record *out) {
  const char *p[] = {id};
  struct db_result *r = NULL;
  int rc =
      db_exec(c, for_update ? "return_get_locked" : "return_get", 1, p, &r);
  if (rc != DB_ONE_RESULT) goto cleanup;
  memset(out, 0, sizeof *out);
  copy_text(out->id, sizeof out->id, r, 0, 0);
  copy_text(out->order_id, sizeof out->order_id, r, 0, 1);
  copy_text(out->user_id, sizeof out->user_id, r, 0, 2);
  if (!return_status_parse(db_result_text(r, 0, 3), &out->status)) {
    rc = DB_HARD_ERROR;
    goto cleanup;
  }
  out->reason = dup_or_null(a, r, 0, 4);
  out->rejection_reason = dup_or_null(a, r, 0, 5);
  copy_text(out->currency, sizeof out->currency, r, 0, 6);
  out->has_refund = !db_result_is_null(r, 0, 7);
  out->refund = out->has_refund ? db_result_int64(r, 0, 7) : 0;
  copy_text(out->refund_id, sizeof out->refund_id, r, 0, 8);
  out->created_at = dup_or_null(a, r, 0, 9);
  out->updated_at = dup_or_null(a, r, 0, 10);
  db_result_free(r);
  r = NULL;

  void *items = NULL;
  int n = rows_into(c, a, "return_items", p, sizeof *out->items, &items, &r);
  if (n < 0) {
    rc = n;
    goto cleanup;
  }
  out->items = items;
  for (int i = 0; i < n; i++) {
    struct return_item_record *it = &out->items[i];
    copy_text(it->order_item_id, sizeof it->order_item_id, r, i, 0);
    copy_text(it->product_id, sizeof it->product_id, r, i, 1);
    copy_text(it->variant_id, sizeof it->variant_id, r, i, 2);
    it->sku = dup_or_null(a, r, i, 3);
    it->name = dup_or_null(a, r, i, 4);
    it->quantity = db_result_int64(r, i, 5);
    it->condition = dup_or_null(a, r, i, 6);
    it->has_refund = !db_result_is_null(r, i, 7);
    it->refund = it->has_refund ? db_result_int64(r, i, 7) : 0;
  }
  out->item_count = (size_t)n;
  rc = DB_ONE_RESULT;
cleanup:
  db_result_free(r);
  return rc;
}

int store_return_list(struct db_conn *c, struct arena *a, const char *status,
                      const char *order_id, const char *user_id,
                      const char *before, int limit, char (**ids)[40]) {
  char lim[16];
  snprintf(lim, sizeof lim, "%d", limit);
  const char *p[] = {status, order_id, user_id, before, lim};
  return id_rows(c, a, "return_list", 5, p, ids);
}

int store_return_units(struct db_conn *c, const struct order_record *o,
                       int64_t *counts) {
  const char *p[] = {o->id};
  struct db_result *r = NULL;
  int rc = db_exec(c, "return_units", 1, p, &r);
  for (size_t i = 0; i < o->line_count; i++)
    counts[i] = 0;
  for (int row = 0; row < rc; row++) {
    const char *line = db_result_text(r, row, 0);
    for (size_t i = 0; i < o->line_count; i++)
      if (strcmp(o->lines[i].id, line) == 0)
        counts[i] = db_result_int64(r, row, 1);
  }
  db_result_free(r);
  return rc;
}

int store_order_delivered_at(struct db_conn *c, const char *order_id,
                             int64_t *at) {
  const char *p[] = {order_id};
  return one_int64(c, "order_delivered_at", 1, p, at);
}

int store_return_set_status(struct db_conn *c, const char *id,
                            enum return_status from, enum return_status to,
                            const char *rejection) {
  const char *p[] = {id, return_status_name(from), return_status_name(to),
                     rejection};
  return exec(c, "return_set_status", 4, p);
}

int store_return_item_condition(struct db_conn *c, const char *return_id,
                                const char *order_item_id,
                                const char *condition) {
  const char *p[] = {return_id, order_item_id, condition};
  return exec(c, "return_item_condition", 3, p);
}

int store_return_set_refund(struct db_conn *c, const char *id,
                            const char *refund_id, int64_t amount) {
  char amt[24];
  const char *p[] = {id, refund_id, I64(amt, amount)};
  return exec(c, "return_set_refund", 3, p);
}

int store_return_item_refund(struct db_conn *c, const char *return_id,
                             const char *order_item_id, int64_t amount) {
  char amt[24];
  const char *p[] = {return_id, order_item_id, I64(amt, amount)};
  return exec(c, "return_item_refund", 3, p);
}

int store_line_add_refund(struct db_conn *c, const char *line_id, int64_t units,
                          int64_t amount) {
  char u[24], amt[24];
  const char *p[] = {line_id, I64(u, units), I64(amt, amount)};
  return exec(c, "line_add_refund", 3, p);
}
