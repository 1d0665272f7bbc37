/* store.c - the shipping service's SQL (see store.h). */
#include "services/shipping/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 3339 UTC with milliseconds. */
#define TS(col)                                                                \
  "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

#define SHIPMENT_COLUMNS                                                       \
  "id, order_id, user_id, carrier, method, status, tracking_number, "          \
  "label_url, address::text, items::text, weight_grams, "                      \
  "booking_attempts, " TS("created_at") ", " TS("updated_at")

const struct db_statement shipping_statements[] = {
    {"zone_candidates", "SELECT country, region, zone_code FROM zone_countries "
                        "WHERE country = $1 OR country = '*'"},
    {"zone_get",
     "SELECT code, name, currency, free_standard_threshold FROM zones "
     "WHERE code = $1"},
    {"zone_rates",
     "SELECT method, max_weight_grams, amount, estimated_days FROM rates "
     "WHERE zone_code = $1 ORDER BY method, max_weight_grams"},
    {"zone_rates_in",
     "SELECT r.method, r.max_weight_grams, p.amount, r.estimated_days FROM "
     "rates r JOIN rate_prices p USING (zone_code, method, max_weight_grams) "
     "WHERE r.zone_code = $1 AND p.currency = $2 ORDER BY r.method, "
     "r.max_weight_grams"},
    {"zone_rates_count", "SELECT count(*) FROM rates WHERE zone_code = $1"},
    {"zone_threshold_in",
     "SELECT threshold FROM zone_thresholds WHERE zone_code = $1 AND currency "
     "= $2"},
    {"zones_all",
     "SELECT code, name, currency, free_standard_threshold FROM zones "
     "ORDER BY code"},
    {"zone_countries_all",
     "SELECT country, region, zone_code FROM zone_countries "
     "ORDER BY zone_code, country, region"},
    {"rates_all",
     "SELECT zone_code, method, max_weight_grams, amount, estimated_days "
     "FROM rates ORDER BY zone_code, method, max_weight_grams"},
    {"zone_upsert",
     "INSERT INTO zones (code, name, currency, free_standard_threshold) "
     "VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO UPDATE SET "
     "name = EXCLUDED.name, currency = EXCLUDED.currency, "
     "free_standard_threshold = EXCLUDED.free_standard_threshold, "
     "updated_at = now()"},
    {"zone_countries_clear", "DELETE FROM zone_countries WHERE zone_code = $1"},
    {"zone_country_put",
     "INSERT INTO zone_countries (country, region, zone_code) "
     "VALUES ($1, $2, $3) ON CONFLICT (country, region) DO UPDATE SET "
     "zone_code = EXCLUDED.zone_code"},
    {"zone_rates_clear", "DELETE FROM rates WHERE zone_code = $1"},
    {"zone_rate_put",
     "INSERT INTO rates (zone_code, method, max_weight_grams, amount, "
     "estimated_days) VALUES ($1, $2, $3, $4, $5)"},
    {"shipment_insert",
     "INSERT INTO shipments (id, order_id, user_id, carrier, method, status, "
     "address, items, weight_grams) VALUES ($1, $2, $3, $4, $5, 'pending', "
     "$6::jsonb, $7::jsonb, $8) ON CONFLICT (order_id) DO NOTHING"},
    {"shipment_by_id",
     "SELECT " SHIPMENT_COLUMNS " FROM shipments WHERE id = $1"},
    {"shipment_by_id_for_update",
     "SELECT " SHIPMENT_COLUMNS " FROM shipments WHERE id = $1 FOR UPDATE"},
    {"shipment_by_order",
     "SELECT " SHIPMENT_COLUMNS " FROM shipments WHERE order_id = $1"},
    {"shipment_by_tracking_for_update",
     "SELECT " SHIPMENT_COLUMNS
     " FROM shipments WHERE tracking_number = $1 FOR UPDATE"},
    {"shipments_of_user",
     "SELECT " SHIPMENT_COLUMNS " FROM shipments WHERE user_id = $1 "
     "AND ($2::uuid IS NULL OR id < $2::uuid) ORDER BY id DESC LIMIT $3"},
    {"tracking_events",
     "SELECT status, description, location, " TS(
         "occurred_at") " FROM tracking_events WHERE shipment_id = $1 ORDER BY "
                        "occurred_at, id"},
    {"tracking_event_add",
     "INSERT INTO tracking_events (shipment_id, status, description, location, "
     "occurred_at, courier_event_id) VALUES ($1, $2, $3, $4, "
     "COALESCE($5::timestamptz, now()), $6) "
     "ON CONFLICT (courier_event_id) DO NOTHING"},
    {"shipment_label",
     "UPDATE shipments SET status = 'label_created', tracking_number = $2, "
     "label_url = $3, updated_at = now() WHERE id = $1 AND status = 'pending'"},
    {"shipment_set_status",
     "UPDATE shipments SET status = $2, updated_at = now() WHERE id = $1"},
    {"shipment_booking_failed",
     "UPDATE shipments SET booking_attempts = booking_attempts + 1, "
     "next_booking_at = now() + make_interval(secs => $2::int) "
     "WHERE id = $1 AND status = 'pending'"},
    {"shipments_due",
     "SELECT id FROM shipments WHERE status = 'pending' AND "
     "next_booking_at <= now() ORDER BY next_booking_at LIMIT $1"},
    {"webhook_delivery_add",
     "INSERT INTO webhook_deliveries (carrier, event_id) VALUES ($1, $2) "
     "ON CONFLICT DO NOTHING"},
};
_Static_assert(sizeof shipping_statements / sizeof shipping_statements[0] ==
                   SHIPPING_STATEMENT_COUNT,
               "SHIPPING_STATEMENT_COUNT is the number of statements");

/* --- helpers ----------------------------------------------------------------
 */

static const char *text_or_null(struct arena *a, const struct db_result *r,
                                int row, int col) {
  if (db_result_is_null(r, row, col)) return NULL;
  return arena_strdup(a, db_result_text(r, row, col));
}

static const char *text(struct arena *a, const struct db_result *r, int row,
                        int col) {
  const char *s = text_or_null(a, r, row, col);
  return s != NULL ? s : "";
}

/* Allocates an array of n elements of size sz from the arena (n may be 0). */
static void *array_of(struct arena *a, int n, size_t sz) {
  return arena_alloc(a, (size_t)(n > 0 ? n : 1) * sz);
}

/* --- rate tables ---------------------------------------------------------- */

static int read_match_rows(struct arena *a, struct db_result *res,
                           struct zone_match_row **rows) {
  int n = db_result_rows(res);
  struct zone_match_row *out = array_of(a, n, sizeof *out);
  if (out == NULL) return DB_HARD_ERROR;
  for (int i = 0; i < n; i++) {
    out[i].country = text(a, res, i, 0);
    out[i].region = text(a, res, i, 1);
    out[i].zone_code = text(a, res, i, 2);
  }
  *rows = out;
  return n;
}

int store_zone_candidates(struct db_conn *c, struct arena *a,
                          const char *country, struct zone_match_row **rows) {
  const char *p[] = {country};
  struct db_result *res = NULL;
  int rc = db_exec(c, "zone_candidates", 1, p, &res);
  if (rc >= 0) rc = read_match_rows(a, res, rows);
  db_result_free(res);
  return rc;
}

static void read_zone(struct arena *a, struct db_result *res, int row,
                      struct zone_row *z) {
  z->code = text(a, res, row, 0);
  z->name = text(a, res, row, 1);
  z->currency = text(a, res, row, 2);
  z->has_threshold = !db_result_is_null(res, row, 3);
  z->threshold_minor = z->has_threshold ? db_result_int64(res, row, 3) : 0;
}

int store_zone_get(struct db_conn *c, struct arena *a, const char *code,
                   struct zone_row *out) {
  const char *p[] = {code};
  struct db_result *res = NULL;
  int rc = db_exec(c, "zone_get", 1, p, &res);
  if (rc > 0) read_zone(a, res, 0, out);
  db_result_free(res);
  return rc;
}

static void read_rate(struct db_result *res, int row, int col,
                      struct rate_row *r) {
  r->method = ship_method_parse(db_result_text(res, row, col));
  r->max_weight_grams = db_result_int64(res, row, col + 1);
  r->amount_minor = db_result_int64(res, row, col + 2);
  r->estimated_days = (int)db_result_int64(res, row, col + 3);
}

int store_zone_rates(struct db_conn *c, struct arena *a, const char *code,
                     struct rate_row **rows) {
  const char *p[] = {code};
  struct db_result *res = NULL;
  int rc = db_exec(c, "zone_rates", 1, p, &res);
  if (rc >= 0) {
    struct rate_row *out = array_of(a, rc, sizeof *out);
    if (out == NULL) {
      rc = DB_HARD_ERROR;
    } else {
      for (int i = 0; i < rc; i++)
        read_rate(res, i, 0, &out[i]);
      *rows = out;
    }
  }
  db_result_free(res);
  return rc;
}

int store_zone_rates_in(struct db_conn *c, struct arena *a, const char *code,
                        const char *currency, struct rate_row **rows,
                        bool *has_threshold, int64_t *threshold) {
  const char *p[] = {code, currency};
  struct db_result *res = NULL;
  int total = -1;
  int rc = db_exec(c, "zone_rates_count", 1, p, &res);
  if (rc > 0) total = (int)db_result_int64(res, 0, 0);
  db_result_free(res);
  res = NULL;
  if (rc < 0) return rc;
  rc = db_exec(c, "zone_rates_in", 2, p, &res);
  if (rc >= 0 && rc != total) rc = 0; /* not every tier is priced: none */
  if (rc > 0) {
    struct rate_row *out = array_of(a, rc, sizeof *out);
    if (out == NULL) {
      rc = DB_HARD_ERROR;
    } else {
      for (int i = 0; i < rc; i++)
        read_rate(res, i, 0, &out[i]);
      *rows = out;
    }
  }
  db_result_free(res);
  if (rc <= 0) return rc;
  res = NULL;
  int t = db_exec(c, "zone_threshold_in", 2, p, &res);
  *has_threshold = t > 0;
  if (t > 0) *threshold = db_result_int64(res, 0, 0);
  db_result_free(res);
  return t < 0 ? t : rc;
}

int store_zones_all(struct db_conn *c, struct arena *a, struct zone_row **out) {
  struct db_result *res = NULL;
  int rc = db_exec(c, "zones_all", 0, NULL, &res);
  if (rc >= 0) {
    struct zone_row *z = array_of(a, rc, sizeof *z);
    if (z == NULL) {
      rc = DB_HARD_ERROR;
    } else {
      for (int i = 0; i < rc; i++)
        read_zone(a, res, i, &z[i]);
      *out = z;
    }
  }
  db_result_free(res);
  return rc;
}

int store_zone_countries_all(struct db_conn *c, struct arena *a,
                             struct zone_match_row **out) {
  struct db_result *res = NULL;
  int rc = db_exec(c, "zone_countries_all", 0, NULL, &res);
  if (rc >= 0) rc = read_match_rows(a, res, out);
  db_result_free(res);
  return rc;
}

int store_rates_all(struct db_conn *c, struct arena *a,
                    struct rate_table_row **out) {
  struct db_result *res = NULL;
  int rc = db_exec(c, "rates_all", 0, NULL, &res);
  if (rc >= 0) {
    struct rate_table_row *r = array_of(a, rc, sizeof *r);
    if (r == NULL) {
      rc = DB_HARD_ERROR;
    } else {
      for (int i = 0; i < rc; i++) {
        r[i].zone_code = text(a, res, i, 0);
        read_rate(res, i, 1, &r[i].rate);
      }
      *out = r;
    }
  }
  db_result_free(res);
  return rc;
}

int store_zone_upsert(struct db_conn *c, const char *code, const char *name,
                      const char *currency, int64_t threshold_minor) {
  char threshold[24];
  snprintf(threshold, sizeof threshold, "%lld", (long long)threshold_minor);
  const char *p[] = {code, name, currency,
                     threshold_minor >= 0 ? threshold : NULL};
  return db_exec(c, "zone_upsert", 4, p, NULL);
}

int store_zone_countries_clear(struct db_conn *c, const char *code) {
  const char *p[] = {code};
  return db_exec(c, "zone_countries_clear", 1, p, NULL);
}

int store_zone_country_put(struct db_conn *c, const char *country,
                           const char *region, const char *code) {
  const char *p[] = {country, region, code};
  return db_exec(c, "zone_country_put", 3, p, NULL);
}

int store_zone_rates_clear(struct db_conn *c, const char *code) {
  const char *p[] = {code};
  return db_exec(c, "zone_rates_clear", 1, p, NULL);
}

int store_zone_rate_put(struct db_conn *c, const char *code,
                        const struct rate_row *r) {
  char weight[24], amount[24], days[16];
  snprintf(weight, sizeof weight, "%lld", (long long)r->max_weight_grams);
  snprintf(amount, sizeof amount, "%lld", (long long)r->amount_minor);
  snprintf(days, sizeof days, "%d", r->estimated_days);
  const char *p[] = {code, ship_method_name(r->method), weight, amount, days};
  return db_exec(c, "zone_rate_put", 5, p, NULL);
}

/* --- shipments ------------------------------------------------------------ */

int store_shipment_insert(struct db_conn *c, const struct shipment_new *s) {
  char weight[24];
  snprintf(weight, sizeof weight, "%lld", (long long)s->weight_grams);
  const char *p[] = {s->id,     s->order_id,     s->user_id,    s->carrier,
                     s->method, s->address_json, s->items_json, weight};
  return db_exec(c, "shipment_insert", 8, p, NULL);
}

static void read_shipment(struct arena *a, struct db_result *res, int row,
                          struct shipment *s) {
  s->id = text(a, res, row, 0);
  s->order_id = text(a, res, row, 1);
  s->user_id = text(a, res, row, 2);
  s->carrier = text(a, res, row, 3);
  s->method = text(a, res, row, 4);
  s->status = text(a, res, row, 5);
  s->tracking_number = text_or_null(a, res, row, 6);
  s->label_url = text_or_null(a, res, row, 7);
  s->address_json = text(a, res, row, 8);
  s->items_json = text(a, res, row, 9);
  s->weight_grams = db_result_int64(res, row, 10);
  s->booking_attempts = (int)db_result_int64(res, row, 11);
  s->created_at = text(a, res, row, 12);
  s->updated_at = text(a, res, row, 13);
}

static int one_shipment(struct db_conn *c, struct arena *a, const char *stmt,
                        const char *key, struct shipment *out) {
  const char *p[] = {key};
  struct db_result *res = NULL;
  int rc = db_exec(c, stmt, 1, p, &res);
  if (rc > 0) read_shipment(a, res, 0, out);
  db_result_free(res);
  return rc;
}

int store_shipment_by_id(struct db_conn *c, struct arena *a, const char *id,
                         struct shipment *out) {
  return one_shipment(c, a, "shipment_by_id", id, out);
}

int store_shipment_by_id_for_update(struct db_conn *c, struct arena *a,
                                    const char *id, struct shipment *out) {
  return one_shipment(c, a, "shipment_by_id_for_update", id, out);
}

int store_shipment_by_order(struct db_conn *c, struct arena *a,
                            const char *order_id, struct shipment *out) {
  return one_shipment(c, a, "shipment_by_order", order_id, out);
}

int store_shipment_by_tracking_for_update(struct db_conn *c, struct arena *a,
                                          const char *tracking,
                                          struct shipment *out) {
  return one_shipment(c, a, "shipment_by_tracking_for_update", tracking, out);
}

int store_shipments_of_user(struct db_conn *c, struct arena *a,
                            const char *user_id, const char *before_id,
                            int limit, struct shipment **out) {
  char lim[16];
  snprintf(lim, sizeof lim, "%d", limit);
  const char *p[] = {user_id, before_id, lim};
  struct db_result *res = NULL;
  int rc = db_exec(c, "shipments_of_user", 3, p, &res);
  if (rc >= 0) {
    struct shipment *s = array_of(a, rc, sizeof *s);
    if (s == NULL) {
      rc = DB_HARD_ERROR;
    } else {
      for (int i = 0; i < rc; i++)
        read_shipment(a, res, i, &s[i]);
      *out = s;
    }
  }
  db_result_free(res);
  return rc;
}

int store_tracking_events(struct db_conn *c, struct arena *a,
                          const char *shipment_id,
                          struct tracking_event **out) {
  const char *p[] = {shipment_id};
  struct db_result *res = NULL;
  int rc = db_exec(c, "tracking_events", 1, p, &res);
  if (rc >= 0) {
    struct tracking_event *e = array_of(a, rc, sizeof *e);
    if (e == NULL) {
      rc = DB_HARD_ERROR;
    } else {
      for (int i = 0; i < rc; i++) {
        e[i].status = text(a, res, i, 0);
        e[i].description = text(a, res, i, 1);
        e[i].location = text(a, res, i, 2);
        e[i].occurred_at = text(a, res, i, 3);
      }
      *out = e;
    }
  }
  db_result_free(res);
  return rc;
}

int store_tracking_event_add(struct db_conn *c, const char *shipment_id,
                             const char *status, const char *description,
                             const char *location, const char *occurred_at,
                             const char *courier_event_id) {
  const char *p[] = {shipment_id, status,
                     description, location ? location : "",
                     occurred_at, courier_event_id};
  return db_exec(c, "tracking_event_add", 6, p, NULL);
}

int store_shipment_label(struct db_conn *c, const char *id,
                         const char *tracking, const char *label_url) {
  const char *p[] = {id, tracking, label_url};
  return db_exec(c, "shipment_label", 3, p, NULL);
}

int store_shipment_set_status(struct db_conn *c, const char *id,
                              const char *status) {
  const char *p[] = {id, status};
  return db_exec(c, "shipment_set_status", 2, p, NULL);
}

int store_shipment_booking_failed(struct db_conn *c, const char *id,
                                  int delay_s) {
  char delay[16];
  snprintf(delay, sizeof delay, "%d", delay_s);
  const char *p[] = {id, delay};
  return db_exec(c, "shipment_booking_failed", 2, p, NULL);
}

int store_shipments_due(struct db_conn *c, struct arena *a, int limit,
                        const char ***ids) {
  char lim[16];
  snprintf(lim, sizeof lim, "%d", limit);
  const char *p[] = {lim};
  struct db_result *res = NULL;
  int rc = db_exec(c, "shipments_due", 1, p, &res);
  if (rc >= 0) {
    const char **out = array_of(a, rc, sizeof *out);
    if (out == NULL) {
      rc = DB_HARD_ERROR;
    } else {
      for (int i = 0; i < rc; i++)
        out[i] = text(a, res, i, 0);
      *ids = out;
    }
  }
  db_result_free(res);
  return rc;
}

int store_webhook_delivery_add(struct db_conn *c, const char *carrier,
                               const char *event_id) {
  const char *p[] = {carrier, event_id};
  return db_exec(c, "webhook_delivery_add", 2, p, NULL);
}
