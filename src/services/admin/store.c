/* store.c - the admin service's SQL (store.h). */
#include "services/admin/store.h"

#include <stdio.h>
#include <string.h>

/* RFC 3339 UTC with milliseconds. */
#define TS(col)                                                                \
  "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* The epoch milliseconds of the date_trunc bucket of col, in UTC. */
#define BUCKET(col)                                                            \
  "(extract(epoch FROM date_trunc($4, " col                                    \
  " AT TIME ZONE 'UTC')) * 1000)::bigint"

/* Orders still counted as sales: confirmed and not cancelled since. */
#define SOLD                                                                   \
  "NOT EXISTS (SELECT 1 FROM order_statuses s WHERE s.order_id = o.order_id "  \
  "AND s.status = 'cancelled')"

const struct db_statement admin_statements[ADMIN_STATEMENT_COUNT] = {
    {"sale_insert",
     "INSERT INTO sales_orders (order_id, user_id, currency, total, "
     "confirmed_at) VALUES ($1, $2, $3, $4, $5) "
     "ON CONFLICT (order_id) DO NOTHING"},
    {"sale_line_insert",
     "INSERT INTO sales_lines (order_id, line_no, product_id, name, quantity, "
     "unit_price) VALUES ($1, $2, $3, $4, $5, $6) "
     "ON CONFLICT (order_id, line_no) DO NOTHING"},
    {"refund_insert",
     "INSERT INTO refunds (refund_id, order_id, currency, amount, refunded_at) "
     "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (refund_id) DO NOTHING"},
    {"order_status",
     "INSERT INTO order_statuses (order_id, status, changed_at) "
     "VALUES ($1, $2, $3) ON CONFLICT (order_id) DO UPDATE SET "
     "status = EXCLUDED.status, changed_at = EXCLUDED.changed_at "
     "WHERE order_statuses.changed_at <= EXCLUDED.changed_at"},
    {"product_info",
     "INSERT INTO products AS p (product_id, sku, name, status, stock, "
     "available, info_at, stock_at) VALUES ($1, $2, $3, $4, "
     "COALESCE($5::bigint, 0), "
     "COALESCE($6::bigint, 0), $7::timestamptz, CASE WHEN $5::bigint IS NULL "
     "THEN '-infinity' "
     "ELSE $7::timestamptz END) "
     "ON CONFLICT (product_id) DO UPDATE SET "
     "sku = CASE WHEN p.info_at <= EXCLUDED.info_at THEN EXCLUDED.sku "
     "ELSE p.sku END, "
     "name = CASE WHEN p.info_at <= EXCLUDED.info_at THEN EXCLUDED.name "
     "ELSE p.name END, "
     "status = CASE WHEN p.info_at <= EXCLUDED.info_at THEN EXCLUDED.status "
     "ELSE p.status END, "
     "info_at = GREATEST(p.info_at, EXCLUDED.info_at), "
     "stock = CASE WHEN $5::bigint IS NOT NULL AND p.stock_at <= "
     "EXCLUDED.stock_at THEN EXCLUDED.stock ELSE p.stock END, "
     "available = CASE WHEN $5::bigint IS NOT NULL AND p.stock_at <= "
     "EXCLUDED.stock_at THEN EXCLUDED.available ELSE p.available END, "
     "stock_at = GREATEST(p.stock_at, EXCLUDED.stock_at)"},
    {"product_stock",
     "INSERT INTO products AS p (product_id, sku, stock, available, stock_at) "
     "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (product_id) DO UPDATE SET "
     "stock = EXCLUDED.stock, available = EXCLUDED.available, "
     "stock_at = EXCLUDED.stock_at, sku = COALESCE(p.sku, EXCLUDED.sku) "
     "WHERE p.stock_at <= EXCLUDED.stock_at"},
    {"customer_upsert",
     "INSERT INTO customers (user_id, role, registered_at) VALUES ($1, $2, $3) "
     "ON CONFLICT (user_id) DO NOTHING"},
    {"review_upsert",
     "INSERT INTO reviews (review_id, product_id, status, changed_at) "
     "VALUES ($1, $2, $3, $4) ON CONFLICT (review_id) DO UPDATE SET "
     "status = EXCLUDED.status, changed_at = EXCLUDED.changed_at, "
     "product_id = COALESCE(EXCLUDED.product_id, reviews.product_id) "
     "WHERE reviews.changed_at <= EXCLUDED.changed_at"},
    {"audit_insert",
     "INSERT INTO audit_log (id, actor_id, actor_email, actor_role, action, "
     "target_type, target_id, before, after, trace_id, at) VALUES ($1, $2, "
     "$3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11) "
     "ON CONFLICT (id) DO NOTHING"},
    {"sales",
     "SELECT " BUCKET(
         "o.confirmed_at") ", count(*), "
                           "COALESCE(sum(o.total), 0)::bigint FROM "
                           "sales_orders o "
                           "WHERE o.currency = $1 AND o.confirmed_at >= "
                           "$2::timestamptz "
                           "AND o.confirmed_at < $3::timestamptz AND " SOLD
                           " GROUP BY 1 ORDER BY 1"},
    {"refunds",
     "SELECT " BUCKET(
         "r.refunded_at") ", count(*), "
                          "COALESCE(sum(r.amount), 0)::bigint FROM refunds r "
                          "WHERE r.currency = $1 AND r.refunded_at >= "
                          "$2::timestamptz "
                          "AND r.refunded_at < $3::timestamptz GROUP BY 1 "
                          "ORDER BY 1"},
    {"top_products",
     "SELECT l.product_id, COALESCE(max(p.name), max(l.name), ''), "
     "sum(l.quantity)::bigint, sum(l.quantity * l.unit_price)::bigint "
     "FROM sales_lines l JOIN sales_orders o ON o.order_id = l.order_id "
     "LEFT JOIN products p ON p.product_id = l.product_id "
     "WHERE o.currency = $1 AND o.confirmed_at >= $2::timestamptz "
     "AND o.confirmed_at < $3::timestamptz AND " SOLD " "
     "GROUP BY l.product_id ORDER BY 3 DESC, 4 DESC, 1 LIMIT $4"},
    {"low_stock",
     "SELECT product_id, COALESCE(sku, ''), COALESCE(name, ''), stock, "
     "available FROM products WHERE status = 'active' AND available <= $1 "
     "ORDER BY available, sku, product_id LIMIT $2"},
    {"orders_by_status",
     "SELECT status, count(*) FROM order_statuses GROUP BY status "
     "ORDER BY status"},
    {"new_customers", "SELECT count(*) FROM customers WHERE role = 'customer' "
                      "AND registered_at >= $1::timestamptz"},
    {"pending_reviews",
     "SELECT count(*) FROM reviews WHERE status = 'pending'"},
    {"audit_list",
     "SELECT id, actor_id, actor_email, actor_role, action, target_type, "
     "target_id, before::text, after::text, trace_id, " TS(
         "at") " "
               "FROM audit_log WHERE ($1::text IS NULL OR actor_id = $1 "
               "OR actor_email = lower($1)) AND ($2::text IS NULL OR target_id "
               "= $2) "
               "AND ($3::uuid IS NULL OR (at, id) < (SELECT a.at, a.id FROM "
               "audit_log a "
               "WHERE a.id = $3::uuid)) ORDER BY at DESC, id DESC LIMIT $4"},
};

/* Every slot filled: a statement added without raising the count fails to
 * compile, one too few leaves a NULL name that this catches in tests. */
_Static_assert(sizeof admin_statements / sizeof admin_statements[0] ==
                   ADMIN_STATEMENT_COUNT,
               "ADMIN_STATEMENT_COUNT");

/* --- writes --- */

int astore_sale_insert(struct db_conn *c, const char *order_id,
                       const char *user_id, const char *currency, int64_t total,
                       const char *confirmed_at) {
  char t[24];
  snprintf(t, sizeof t, "%lld", (long long)total);
  const char *p[] = {order_id, user_id, currency, t, confirmed_at};
  return db_exec(c, "sale_insert", 5, p, NULL);
}

int astore_sale_line_insert(struct db_conn *c, const char *order_id,
                            int line_no, const char *product_id,
                            const char *name, int64_t quantity,
                            int64_t unit_price) {
  char n[16], q[24], u[24];
  snprintf(n, sizeof n, "%d", line_no);
  snprintf(q, sizeof q, "%lld", (long long)quantity);
  snprintf(u, sizeof u, "%lld", (long long)unit_price);
  const char *p[] = {order_id, n, product_id, name, q, u};
  return db_exec(c, "sale_line_insert", 6, p, NULL);
}

int astore_refund_insert(struct db_conn *c, const char *refund_id,
                         const char *order_id, const char *currency,
                         int64_t amount, const char *refunded_at) {
  char a[24];
  snprintf(a, sizeof a, "%lld", (long long)amount);
  const char *p[] = {refund_id, order_id, currency, a, refunded_at};
  return db_exec(c, "refund_insert", 5, p, NULL);
}

int astore_order_status(struct db_conn *c, const char *order_id,
                        const char *status, const char *at) {
  const char *p[] = {order_id, status, at};
  return db_exec(c, "order_status", 3, p, NULL);
}

int astore_product_info(struct db_conn *c, const char *product_id,
                        const char *sku, const char *name, const char *status,
                        bool has_stock, int64_t stock, int64_t available,
                        const char *at) {
  char s[24], v[24];
  snprintf(s, sizeof s, "%lld", (long long)stock);
  snprintf(v, sizeof v, "%lld", (long long)available);
  const char *p[] = {
      product_id,           sku, name, status, has_stock ? s : NULL,
      has_stock ? v : NULL, at};
  return db_exec(c, "product_info", 7, p, NULL);
}

int astore_product_stock(struct db_conn *c, const char *product_id,
                         const char *sku, int64_t stock, int64_t available,
                         const char *at) {
  char s[24], v[24];
  snprintf(s, sizeof s, "%lld", (long long)stock);
  snprintf(v, sizeof v, "%lld", (long long)available);
  const char *p[] = {product_id, sku, s, v, at};
  return db_exec(c, "product_stock", 5, p, NULL);
}

int astore_customer(struct db_conn *c, const char *user_id, const char *role,
                    const char *registered_at) {
  const char *p[] = {user_id, role, registered_at};
  return db_exec(c, "customer_upsert", 3, p, NULL);
}

int astore_review(struct db_conn *c, const char *review_id,
                  const char *product_id, const char *status, const char *at) {
  const char *p[] = {review_id, product_id, status, at};
  return db_exec(c, "review_upsert", 4, p, NULL);
}

int astore_audit_insert(struct db_conn *c, const struct audit_row *r) {
  const char *p[] = {r->id,     r->actor_id,    r->actor_email, r->actor_role,
                     r->action, r->target_type, r->target_id,   r->before,
                     r->after,  r->trace_id,    r->at};
  return db_exec(c, "audit_insert", 11, p, NULL);
}

/* --- reads --- */

static const char *dup(struct arena *a, const struct db_result *r, int row,
                       int col) {
  return db_result_is_null(r, row, col)
             ? NULL
             : arena_strdup(a, db_result_text(r, row, col));
}

static int bucket_query(struct db_conn *c, struct arena *a, const char *stmt,
                        const char *currency, const char *from, const char *to,
                        const char *granularity, struct bucket_sum **out) {
  *out = NULL;
  struct db_result *r = NULL;
  const char *p[] = {currency, from, to, granularity};
  int rc = db_exec(c, stmt, 4, p, &r);
  if (rc > 0) {
    struct bucket_sum *b = arena_alloc(a, sizeof *b * (size_t)rc);
    if (b == NULL) {
      rc = DB_HARD_ERROR;
    } else {
      for (int i = 0; i < rc; i++) {
        b[i].start = db_result_int64(r, i, 0);
        b[i].count = db_result_int64(r, i, 1);
        b[i].amount = db_result_int64(r, i, 2);
      }
      *out = b;
    }
  }
  db_result_free(r);
  return rc;
}

int astore_sales(struct db_conn *c, struct arena *a, const char *currency,
                 const char *from, const char *to, const char *granularity,
                 struct bucket_sum **out) {
  return bucket_query(c, a, "sales", currency, from, to, granularity, out);
}

int astore_refunds(struct db_conn *c, struct arena *a, const char *currency,
                   const char *from, const char *to, const char *granularity,
                   struct bucket_sum **out) {
  return bucket_query(c, a, "refunds", currency, from, to, granularity, out);
}

int astore_top_products(struct db_conn *c, struct arena *a,
                        const char *currency, const char *from, const char *to,
                        int limit, struct top_product **out) {
  *out = NULL;
  char l[16];
  snprintf(l, sizeof l, "%d", limit);
  const char *p[] = {currency, from, to, l};
  struct db_result *r = NULL;
  int rc = db_exec(c, "top_products", 4, p, &r);
  if (rc > 0) {
    struct top_product *t = arena_alloc(a, sizeof *t * (size_t)rc);
    if (t == NULL) {
      rc = DB_HARD_ERROR;
    } else {
      for (int i = 0; i < rc; i++) {
        t[i].product_id = dup(a, r, i, 0);
        t[i].name = dup(a, r, i, 1);
        t[i].units = db_result_int64(r, i, 2);
        t[i].revenue = db_result_int64(r, i, 3);
      }
      *out = t;
    }
  }
  db_result_free(r);
  return rc;
}

int astore_low_stock(struct db_conn *c, struct arena *a, int64_t threshold,
                     int limit, struct stock_row **out) {
  *out = NULL;
  char t[24], l[16];
  snprintf(t, sizeof t, "%lld", (long long)threshold);
  snprintf(l, sizeof l, "%d", limit);
  const char *p[] = {t, l};
  struct db_result *r = NULL;
  int rc = db_exec(c, "low_stock", 2, p, &r);
  if (rc > 0) {
    struct stock_row *s = arena_alloc(a, sizeof *s * (size_t)rc);
    if (s == NULL) {
      rc = DB_HARD_ERROR;
    } else {
      for (int i = 0; i < rc; i++) {
        s[i].product_id = dup(a, r, i, 0);
        s[i].sku = dup(a, r, i, 1);
        s[i].name = dup(a, r, i, 2);
        s[i].stock = db_result_int64(r, i, 3);
        s[i].available = db_result_int64(r, i, 4);
      }
      *out = s;
    }
  }
  db_result_free(r);
  return rc;
}

int astore_orders_by_status(struct db_conn *c, struct arena *a,
                            struct status_count **out) {
  *out = NULL;
  struct db_result *r = NULL;
  int rc = db_exec(c, "orders_by_status", 0, NULL, &r);
  if (rc > 0) {
    struct status_count *s = arena_alloc(a, sizeof *s * (size_t)rc);
    if (s == NULL) {
      rc = DB_HARD_ERROR;
    } else {
      for (int i = 0; i < rc; i++) {
        s[i].status = dup(a, r, i, 0);
        s[i].count = db_result_int64(r, i, 1);
      }
      *out = s;
    }
  }
  db_result_free(r);
  return rc;
}

static int count_query(struct db_conn *c, const char *stmt, int n,
                       const char *const *p, int64_t *out) {
  struct db_result *r = NULL;
  int rc = db_exec(c, stmt, n, p, &r);
  *out = rc == 1 ? db_result_int64(r, 0, 0) : 0;
  db_result_free(r);
  return rc;
}

int astore_new_customers(struct db_conn *c, const char *since, int64_t *n) {
  const char *p[] = {since};
  return count_query(c, "new_customers", 1, p, n);
}

int astore_pending_reviews(struct db_conn *c, int64_t *n) {
  return count_query(c, "pending_reviews", 0, NULL, n);
}

int astore_audit_list(struct db_conn *c, struct arena *a, const char *actor,
                      const char *target, const char *after_id, int limit,
                      struct audit_row **out) {
  *out = NULL;
  char l[16];
  snprintf(l, sizeof l, "%d", limit);
  const char *p[] = {actor, target, after_id, l};
  struct db_result *r = NULL;
  int rc = db_exec(c, "audit_list", 4, p, &r);
  if (rc > 0) {
    struct audit_row *e = arena_alloc(a, sizeof *e * (size_t)rc);
    if (e == NULL) {
      rc = DB_HARD_ERROR;
    } else {
      for (int i = 0; i < rc; i++) {
        e[i].id = dup(a, r, i, 0);
        e[i].actor_id = dup(a, r, i, 1);
        e[i].actor_email = dup(a, r, i, 2);
        e[i].actor_role = dup(a, r, i, 3);
        e[i].action = dup(a, r, i, 4);
        e[i].target_type = dup(a, r, i, 5);
        e[i].target_id = dup(a, r, i, 6);
        e[i].before = dup(a, r, i, 7);
        e[i].after = dup(a, r, i, 8);
        e[i].trace_id = dup(a, r, i, 9);
        e[i].at = dup(a, r, i, 10);
      }
      *out = e;
    }
  }
  db_result_free(r);
  return rc;
}
