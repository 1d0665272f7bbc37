/* handlers_reports.c - GET /api/v1/admin/reports/...: sales (JSON and CSV),
 * top products, low stock and the dashboard (docs/admin.md). Every figure is
 * read from the read models the events built (events.c); money leaves as
 * decimal strings beside the currency. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/handler.h"
#include "kit/money.h"
#include "services/admin/admin.h"
#include "services/admin/domain.h"
#include "services/admin/store.h"

static json_t *money(int64_t minor, const char *currency) {
  char buf[MONEY_BUF];
  return json_string(money_format(minor, currency, buf));
}

static json_t *when(int64_t ms) {
  char buf[ADMIN_TIME_BUF];
  return json_string(admin_time_format(ms, buf));
}

static void reply_take(struct http_response *res, json_t *body) {
  http_reply_json(res, 200, body);
  http_response_header(res, "Cache-Control", "no-store");
  json_decref(body);
}

/* --- sales --- */

struct sales_report {
  char currency[4];
  enum granularity gran;
  int64_t from, to;
  size_t n;
  int64_t *starts, *orders, *gross, *refunds;
};

/* Default windows: 30 days, 12 weeks, 12 months. */
static int64_t default_span(enum granularity g) {
  return g == GRAN_MONTH  ? 365 * MS_PER_DAY
         : g == GRAN_WEEK ? 84 * MS_PER_DAY
                          : 30 * MS_PER_DAY;
}

/* Adds each bucket_sum to the matching bucket of *into. */
static void spread(const struct sales_report *r, const struct bucket_sum *s,
                   int n, int64_t *counts, int64_t *amounts) {
  for (int i = 0; i < n; i++) {
    long k = admin_bucket_index(r->starts, r->n, s[i].start);
    if (k < 0) continue; /* cannot happen: SQL and C cut alike */
    if (counts != NULL) counts[k] += s[i].count;
    amounts[k] += s[i].amount;
  }
}

/* Parses the request and reads the report; answers the error itself and
 * returns false on failure. */
static bool sales_read(struct http_request *req, struct http_response *res,
                       struct sales_report *r) {
  static const char *const allowed[] = {"from", "to", "granularity", "currency",
                                        NULL};
  if (!admin_query_check(req, res, allowed)) return false;
  const char *g = http_query(req, "granularity");
  r->gran = GRAN_DAY;
  if (g != NULL &&
      (!admin_granularity_parse(g, &r->gran) || r->gran == GRAN_HOUR)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "granularity must be day, week or month", "granularity");
    return false;
  }
  if (!admin_query_currency(req, res, r->currency) ||
      !admin_query_window(req, res, default_span(r->gran), &r->from, &r->to))
    return false;
  size_t n = admin_buckets(r->from, r->to, r->gran, NULL, ADMIN_MAX_BUCKETS);
  if (n > ADMIN_MAX_BUCKETS) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "the window has too many buckets for this granularity "
                     "(at most 1100): narrow from/to or choose a coarser one",
                     "from");
    return false;
  }
  r->n = n;
  size_t bytes = sizeof(int64_t) * (n ? n : 1);
  r->starts = arena_alloc(req->arena, bytes);
  r->orders = arena_alloc(req->arena, bytes);
  r->gross = arena_alloc(req->arena, bytes);
  r->refunds = arena_alloc(req->arena, bytes);
  if (!r->starts || !r->orders || !r->gross || !r->refunds) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    return false;
  }
  admin_buckets(r->from, r->to, r->gran, r->starts, n);

  char from[ADMIN_TIME_BUF], to[ADMIN_TIME_BUF];
  admin_time_format(r->from, from);
  admin_time_format(r->to, to);
  const char *field = admin_granularity_name(r->gran);
  struct db_conn *c = db_acquire(req->svc->db, ADMIN_DB_WAIT_MS);
  if (c == NULL) {
    http_reply_db_error(res, req, DB_UNAVAILABLE);
    return false;
  }
  struct bucket_sum *sales = NULL, *refunds = NULL;
  int ns = astore_sales(c, req->arena, r->currency, from, to, field, &sales);
  int nr = ns < 0 ? ns
                  : astore_refunds(c, req->arena, r->currency, from, to, field,
                                   &refunds);
  db_release(req->svc->db, c);
  if (ns < 0 || nr < 0) {
    http_reply_db_error(res, req, ns < 0 ? ns : nr);
    return false;
  }
  spread(r, sales, ns, r->orders, r->gross);
  spread(r, refunds, nr, NULL, r->refunds);
  return true;
}

static json_t *figures(const char *currency, int64_t orders, int64_t gross,
                       int64_t refunds) {
  json_t *o = json_object();
  json_object_set_new(o, "orders", json_integer(orders));
  json_object_set_new(o, "gross", money(gross, currency));
  json_object_set_new(o, "refunds", money(refunds, currency));
  json_object_set_new(o, "net", money(gross - refunds, currency));
  json_object_set_new(o, "average_order",
                      money(admin_average(gross, orders), currency));
  return o;
}

void admin_handle_sales(struct http_request *req, struct http_response *res) {
  struct sales_report r;
  if (!sales_read(req, res, &r)) return;
  json_t *buckets = json_array();
  int64_t orders = 0, gross = 0, refunds = 0;
  for (size_t i = 0; i < r.n; i++) {
    json_t *b = figures(r.currency, r.orders[i], r.gross[i], r.refunds[i]);
    json_object_set_new(b, "start", when(r.starts[i]));
    json_array_append_new(buckets, b);
    orders += r.orders[i];
    gross += r.gross[i];
    refunds += r.refunds[i];
  }
  json_t *body = json_object();
  json_object_set_new(body, "currency", json_string(r.currency));
  json_object_set_new(body, "granularity",
                      json_string(admin_granularity_name(r.gran)));
  json_object_set_new(body, "from", when(r.from));
  json_object_set_new(body, "to", when(r.to));
  json_object_set_new(body, "buckets", buckets);
  json_object_set_new(body, "totals",
                      figures(r.currency, orders, gross, refunds));
  reply_take(res, body);
}

void admin_handle_sales_csv(struct http_request *req,
                            struct http_response *res) {
  struct sales_report r;
  if (!sales_read(req, res, &r)) return;
  /* Each row: a 24-character time, an integer and four amounts. */
  size_t cap = 64 + r.n * (ADMIN_TIME_BUF + 24 + 4 * MONEY_BUF);
  char *csv = malloc(cap);
  if (csv == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    return;
  }
  size_t len = (size_t)snprintf(
      csv, cap, "start,orders,gross,refunds,net,average_order\r\n");
  for (size_t i = 0; i < r.n && len < cap; i++) {
    char start[ADMIN_TIME_BUF], g[MONEY_BUF], f[MONEY_BUF], n[MONEY_BUF],
        a[MONEY_BUF];
    int w = snprintf(
        csv + len, cap - len, "%s,%lld,%s,%s,%s,%s\r\n",
        admin_time_format(r.starts[i], start), (long long)r.orders[i],
        money_format(r.gross[i], r.currency, g),
        money_format(r.refunds[i], r.currency, f),
        money_format(r.gross[i] - r.refunds[i], r.currency, n),
        money_format(admin_average(r.gross[i], r.orders[i]), r.currency, a));
    if (w < 0) break;
    len += (size_t)w;
  }
  if (len >= cap) len = cap - 1;
  http_reply_take(res, 200, "text/csv; charset=utf-8", csv, len);
  http_response_header(res, "Content-Disposition",
                       "attachment; filename=\"sales.csv\"");
  http_response_header(res, "Cache-Control", "no-store");
}

/* --- top products --- */

void admin_handle_top_products(struct http_request *req,
                               struct http_response *res) {
  static const char *const allowed[] = {"from", "to", "limit", "currency",
                                        NULL};
  char currency[4];
  int64_t from, to, limit;
  if (!admin_query_check(req, res, allowed) ||
      !admin_query_int(req, res, "limit", 1, 100, 10, &limit) ||
      !admin_query_currency(req, res, currency) ||
      !admin_query_window(req, res, 30 * MS_PER_DAY, &from, &to))
    return;
  char f[ADMIN_TIME_BUF], t[ADMIN_TIME_BUF];
  admin_time_format(from, f);
  admin_time_format(to, t);
  struct db_conn *c = db_acquire(req->svc->db, ADMIN_DB_WAIT_MS);
  if (c == NULL) {
    http_reply_db_error(res, req, DB_UNAVAILABLE);
    return;
  }
  struct top_product *top = NULL;
  int n = astore_top_products(c, req->arena, currency, f, t, (int)limit, &top);
  db_release(req->svc->db, c);
  if (n < 0) {
    http_reply_db_error(res, req, n);
    return;
  }
  json_t *items = json_array();
  for (int i = 0; i < n; i++)
    json_array_append_new(items, json_pack("{s:s, s:s, s:I, s:o}", "product_id",
                                           top[i].product_id, "name",
                                           top[i].name, "units",
                                           (json_int_t)top[i].units, "revenue",
                                           money(top[i].revenue, currency)));
  reply_take(res,
             json_pack("{s:s, s:o, s:o, s:o}", "currency", currency, "from",
                       when(from), "to", when(to), "items", items));
}

/* --- low stock --- */

void admin_handle_low_stock(struct http_request *req,
                            struct http_response *res) {
  static const char *const allowed[] = {"threshold", "limit", NULL};
  int64_t threshold, limit;
  if (!admin_query_check(req, res, allowed) ||
      !admin_query_int(req, res, "threshold", 0, 1000000000,
                       req->svc->cfg->low_stock_threshold, &threshold) ||
      !admin_query_int(req, res, "limit", 1, 100, 50, &limit))
    return;
  struct db_conn *c = db_acquire(req->svc->db, ADMIN_DB_WAIT_MS);
  if (c == NULL) {
    http_reply_db_error(res, req, DB_UNAVAILABLE);
    return;
  }
  struct stock_row *rows = NULL;
  int n = astore_low_stock(c, req->arena, threshold, (int)limit, &rows);
  db_release(req->svc->db, c);
  if (n < 0) {
    http_reply_db_error(res, req, n);
    return;
  }
  json_t *items = json_array();
  for (int i = 0; i < n; i++)
    json_array_append_new(
        items, json_pack("{s:s, s:s, s:s, s:I, s:I}", "product_id",
                         rows[i].product_id, "sku", rows[i].sku, "name",
                         rows[i].name, "stock", (json_int_t)rows[i].stock,
                         "available", (json_int_t)rows[i].available));
  reply_take(res, json_pack("{s:I, s:o}", "threshold", (json_int_t)threshold,
                            "items", items));
}

/* --- dashboard --- */

void admin_handle_dashboard(struct http_request *req,
                            struct http_response *res) {
  static const char *const allowed[] = {"currency", NULL};
  char currency[4];
  if (!admin_query_check(req, res, allowed) ||
      !admin_query_currency(req, res, currency))
    return;
  int64_t now = admin_now_ms();
  int64_t today = admin_bucket_start(now, GRAN_DAY);
  int64_t hour_end = admin_bucket_start(now, GRAN_HOUR) + MS_PER_HOUR;
  int64_t hour_from = hour_end - 24 * MS_PER_HOUR;
  char t0[ADMIN_TIME_BUF], t1[ADMIN_TIME_BUF], h0[ADMIN_TIME_BUF],
      h1[ADMIN_TIME_BUF];
  admin_time_format(today, t0);
  admin_time_format(today + MS_PER_DAY, t1);
  admin_time_format(hour_from, h0);
  admin_time_format(hour_end, h1);

  struct db_conn *c = db_acquire(req->svc->db, ADMIN_DB_WAIT_MS);
  if (c == NULL) {
    http_reply_db_error(res, req, DB_UNAVAILABLE);
    return;
  }
  struct bucket_sum *day = NULL, *hours = NULL;
  struct status_count *statuses = NULL;
  int64_t new_customers = 0, pending_reviews = 0;
  int nd = astore_sales(c, req->arena, currency, t0, t1, "day", &day);
  int nh = nd < 0
               ? nd
               : astore_sales(c, req->arena, currency, h0, h1, "hour", &hours);
  int ns = nh < 0 ? nh : astore_orders_by_status(c, req->arena, &statuses);
  int rc = ns < 0 ? ns : astore_new_customers(c, t0, &new_customers);
  if (rc >= 0) rc = astore_pending_reviews(c, &pending_reviews);
  db_release(req->svc->db, c);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  int64_t orders_today = 0, revenue_today = 0;
  for (int i = 0; i < nd; i++) {
    orders_today += day[i].count;
    revenue_today += day[i].amount;
  }
  json_t *by_status = json_object();
  for (int i = 0; i < ns; i++)
    json_object_set_new(by_status, statuses[i].status,
                        json_integer(statuses[i].count));
  json_t *last = json_array();
  for (int k = 0, j = 0; k < 24; k++) {
    int64_t start = hour_from + k * MS_PER_HOUR, count = 0, amount = 0;
    while (j < nh && hours[j].start < start)
      j++;
    if (j < nh && hours[j].start == start) {
      count = hours[j].count;
      amount = hours[j].amount;
    }
    json_array_append_new(
        last, json_pack("{s:o, s:I, s:o}", "hour", when(start), "orders",
                        (json_int_t)count, "revenue", money(amount, currency)));
  }
  json_t *body = json_object();
  json_object_set_new(body, "currency", json_string(currency));
  json_object_set_new(body, "orders_today", json_integer(orders_today));
  json_object_set_new(body, "revenue_today", money(revenue_today, currency));
  json_object_set_new(body, "new_customers_today", json_integer(new_customers));
  json_object_set_new(body, "pending_reviews", json_integer(pending_reviews));
  json_object_set_new(body, "orders_by_status", by_status);
  json_object_set_new(body, "last_24h", last);
  reply_take(res, body);
}
