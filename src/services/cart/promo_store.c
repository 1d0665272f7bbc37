/* promo_store.c - promotions and redemptions in SQL (see promo_store.h). */
#include "services/cart/promo_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define TS(col)                                                                \
  "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* 0 running, 1 not started, 2 ended (enum promo_window). */
#define WINDOW                                                                 \
  "CASE WHEN starts_at IS NOT NULL AND starts_at > now() THEN 1 "              \
  "WHEN ends_at IS NOT NULL AND ends_at <= now() THEN 2 ELSE 0 END"

#define PROMO_COLUMNS                                                          \
  "id, code, description, type, value_minor, coalesce(currency, ''), "         \
  "coalesce(buy_quantity, 0), coalesce(get_quantity, 0), "                     \
  "array_to_string(product_ids, ','), array_to_string(category_ids, ','), "    \
  "coalesce(min_subtotal_minor, -1), " TS("starts_at") ", " TS(                \
      "ends_at") ", coalesce(usage_limit, -1), "                               \
                 "coalesce(per_customer_limit, -1), used, stackable, " WINDOW  \
                 ", " TS("created_at") ", " TS("updated_at")

#define CUSTOMER_USED(param)                                                   \
  "(SELECT count(*) FROM promotion_redemptions r WHERE r.promotion_id = "      \
  "p.id AND r.user_id = " param "::uuid AND r.status <> 'released')"

#define TIME_PARAM(n)                                                          \
  "CASE WHEN $" n "::bigint < 0 THEN NULL ELSE to_timestamp($" n               \
  "::bigint / 1000.0) END"

const struct db_statement promo_statements[PROMO_STATEMENT_COUNT] = {
    {"promo_insert",
     "INSERT INTO promotions (id, code, description, type, value_minor, "
     "currency, buy_quantity, get_quantity, product_ids, category_ids, "
     "min_subtotal_minor, starts_at, ends_at, usage_limit, "
     "per_customer_limit, stackable) VALUES ($1, $2, $3, $4, $5, "
     "nullif($6, ''), nullif($7::int, 0), nullif($8::int, 0), $9::uuid[], "
     "$10::uuid[], nullif($11::bigint, -1), " TIME_PARAM("12") ", " TIME_PARAM(
         "13") ", nullif($14::bigint, -1), nullif($15::bigint, -1), "
               "$16::boolean) ON CONFLICT DO NOTHING"},
    {"promo_update",
     "UPDATE promotions SET code = $2, description = $3, type = $4, "
     "value_minor = $5, currency = nullif($6, ''), buy_quantity = "
     "nullif($7::int, 0), get_quantity = nullif($8::int, 0), product_ids = "
     "$9::uuid[], category_ids = $10::uuid[], min_subtotal_minor = "
     "nullif($11::bigint, -1), starts_at = " TIME_PARAM(
         "12") ", ends_at = " TIME_PARAM("13") ", usage_limit = "
                                               "nullif($14::bigint, -1), "
                                               "per_customer_limit = "
                                               "nullif($15::bigint, -1), "
                                               "stackable = $16::boolean, "
                                               "updated_at = now() WHERE id "
                                               "= $1 AND deleted_at IS NULL"},
    {"promo_code_taken",
     "SELECT 1 FROM promotions WHERE code = $1 AND deleted_at IS NULL AND "
     "id <> $2"},
    {"promo_get", "SELECT " PROMO_COLUMNS ", 0 FROM promotions "
                  "WHERE id = $1 AND deleted_at IS NULL"},
    {"promo_get_locked", "SELECT " PROMO_COLUMNS ", 0 FROM promotions "
                         "WHERE id = $1 AND deleted_at IS NULL FOR UPDATE"},
    {"promo_list",
     "SELECT " PROMO_COLUMNS ", 0 FROM promotions WHERE deleted_at IS NULL "
     "AND ($1::uuid IS NULL OR id < $1::uuid) ORDER BY id DESC LIMIT $2"},
    {"promo_delete", "UPDATE promotions SET deleted_at = now(), updated_at = "
                     "now() WHERE id = $1 AND deleted_at IS NULL"},
    {"promo_for_cart",
     "SELECT " PROMO_COLUMNS ", " CUSTOMER_USED(
         "$2") " FROM promotions p WHERE deleted_at IS NULL AND ((code IS "
               "NULL AND (starts_at IS NULL OR starts_at <= now()) AND "
               "(ends_at IS NULL OR ends_at > now())) OR code = "
               "ANY($1::text[])) ORDER BY code IS NOT NULL, created_at, id"},
    {"promo_by_code",
     "SELECT " PROMO_COLUMNS ", " CUSTOMER_USED(
         "$2") " FROM promotions p WHERE deleted_at IS NULL AND code = $1"},
    {"redemptions_of",
     "SELECT count(*) FROM promotion_redemptions WHERE order_id = $1"},
    {"promo_reserve",
     /* The guarded UPDATE takes a use (never beyond the limit) and holds the
      * promotion's row lock, so the customer's count below is serialized
      * with every other reservation of the promotion. */
     "WITH took AS (UPDATE promotions SET used = used + 1, updated_at = now() "
     "WHERE id = $1 AND deleted_at IS NULL AND (usage_limit IS NULL OR used "
     "< usage_limit) RETURNING per_customer_limit) "
     "SELECT (SELECT count(*) FROM took), "
     "(SELECT coalesce(per_customer_limit, -1) FROM took), "
     "(SELECT count(*) FROM promotions WHERE id = $1 AND deleted_at IS NULL)"},
    {"promo_redeem",
     /* Records the reservation unless the customer's limit is reached
      * (counted before this use); 1 row when recorded. */
     "INSERT INTO promotion_redemptions (order_id, promotion_id, user_id, "
     "status) SELECT $2, $1, $3, 'reserved' WHERE $4::bigint < 0 OR (SELECT "
     "count(*) FROM promotion_redemptions WHERE promotion_id = $1 AND "
     "user_id = $3 AND status <> 'released') < $4::bigint"},
    {"promo_commit",
     "WITH done AS (UPDATE promotion_redemptions SET status = 'committed', "
     "updated_at = now() WHERE order_id = $1 AND status = 'reserved' "
     "RETURNING 1) SELECT (SELECT count(*) FROM done), (SELECT count(*) FROM "
     "promotion_redemptions WHERE order_id = $1 AND status = 'released')"},
    {"promo_release",
     "WITH back AS (UPDATE promotion_redemptions SET status = 'released', "
     "updated_at = now() WHERE order_id = $1 AND status <> 'released' "
     "RETURNING promotion_id) UPDATE promotions p SET used = p.used - 1, "
     "updated_at = now() FROM back WHERE p.id = back.promotion_id"},
};
_Static_assert(sizeof promo_statements / sizeof promo_statements[0] ==
                   PROMO_STATEMENT_COUNT,
               "PROMO_STATEMENT_COUNT must match the table");

/* --- helpers --- */

#define I64(buf, v) (snprintf(buf, sizeof buf, "%" PRId64, (int64_t)(v)), buf)

static const char *dup_or_null(struct arena *a, const struct db_result *r,
                               int row, int col) {
  if (db_result_is_null(r, row, col)) return NULL;
  return arena_strdup(a, db_result_text(r, row, col));
}

/* Splits "a,b,c" into an arena array. */
static const char **split_ids(struct arena *a, const char *text, size_t *n) {
  *n = 0;
  if (text == NULL || text[0] == '\0') return NULL;
  size_t count = 1;
  for (const char *p = text; *p; p++)
    if (*p == ',') count++;
  const char **out = arena_alloc(a, sizeof *out * count);
  char *copy = arena_strdup(a, text);
  if (out == NULL || copy == NULL) return NULL;
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok != NULL;
       tok = strtok_r(NULL, ",", &save))
    out[(*n)++] = tok;
  return out;
}

static void read_row(struct arena *a, const struct db_result *r, int i,
                     struct promo_row *out) {
  memset(out, 0, sizeof *out);
  snprintf(out->id, sizeof out->id, "%s", db_result_text(r, i, 0));
  out->code = dup_or_null(a, r, i, 1);
  out->description = dup_or_null(a, r, i, 2);
  if (!promo_type_parse(db_result_text(r, i, 3), &out->type))
    out->type = PROMO_PERCENTAGE;
  out->value = db_result_int64(r, i, 4);
  snprintf(out->currency, sizeof out->currency, "%s", db_result_text(r, i, 5));
  out->buy_quantity = db_result_int64(r, i, 6);
  out->get_quantity = db_result_int64(r, i, 7);
  out->product_ids = split_ids(a, db_result_text(r, i, 8), &out->product_count);
  out->category_ids =
      split_ids(a, db_result_text(r, i, 9), &out->category_count);
  out->min_subtotal = db_result_int64(r, i, 10);
  out->starts_at = dup_or_null(a, r, i, 11);
  out->ends_at = dup_or_null(a, r, i, 12);
  out->starts_at_ms = out->ends_at_ms = -1;
  out->usage_limit = db_result_int64(r, i, 13);
  out->per_customer_limit = db_result_int64(r, i, 14);
  out->used = db_result_int64(r, i, 15);
  out->stackable = db_result_bool(r, i, 16);
  out->window = (enum promo_window)db_result_int64(r, i, 17);
  out->created_at = dup_or_null(a, r, i, 18);
  out->updated_at = dup_or_null(a, r, i, 19);
  out->customer_used = db_result_int64(r, i, 20);
}

static int read_rows(struct db_conn *c, struct arena *a, const char *stmt,
                     int n, const char *const *params, struct promo_row **out) {
  struct db_result *r = NULL;
  int rc = db_exec(c, stmt, n, params, &r);
  if (rc < 0) return rc;
  *out = arena_alloc(a, sizeof **out * (size_t)(rc + 1));
  if (*out == NULL) {
    db_result_free(r);
    return DB_HARD_ERROR;
  }
  for (int i = 0; i < rc; i++)
    read_row(a, r, i, &(*out)[i]);
  db_result_free(r);
  return rc;
}

/* A PostgreSQL array literal of validated ids or codes (nothing to escape:
 * UUIDs and [A-Z0-9_-] only). */
static char *array_literal(struct arena *a, const char *const *items,
                           size_t n) {
  size_t len = 3;
  for (size_t i = 0; i < n; i++)
    len += strlen(items[i]) + 1;
  char *out = arena_alloc(a, len);
  if (out == NULL) return NULL;
  size_t o = 0;
  out[o++] = '{';
  for (size_t i = 0; i < n; i++) {
    if (i) out[o++] = ',';
    size_t l = strlen(items[i]);
    memcpy(out + o, items[i], l);
    o += l;
  }
  out[o++] = '}';
  out[o] = '\0';
  return out;
}

void promo_from_row(const struct promo_row *row, struct promo *out) {
  memset(out, 0, sizeof *out);
  out->id = row->id;
  out->code = row->code;
  out->type = row->type;
  out->value = row->value;
  out->currency = row->currency;
  out->buy_quantity = row->buy_quantity;
  out->get_quantity = row->get_quantity;
  out->product_ids = row->product_ids;
  out->product_count = row->product_count;
  out->category_ids = row->category_ids;
  out->category_count = row->category_count;
  out->min_subtotal = row->min_subtotal;
  out->window = row->window;
  out->usage_limit = row->usage_limit;
  out->used = row->used;
  out->per_customer_limit = row->per_customer_limit;
  out->customer_used = row->customer_used;
  out->stackable = row->stackable;
}

/* --- promotions --- */

static int write_row(struct db_conn *c, const char *stmt,
                     const struct promo_row *row, bool *duplicate) {
  struct arena a;
  arena_init(&a, 1024);
  char value[24], buy[24], get[24], min[24], starts[24], ends[24], limit[24],
      per[24];
  *duplicate = false;
  int rc;
  if (row->code != NULL) {
    const char *p[] = {row->code, row->id};
    rc = db_exec(c, "promo_code_taken", 2, p, NULL);
    if (rc < 0) goto cleanup;
    if (rc > 0) {
      *duplicate = true;
      rc = 0;
      goto cleanup;
    }
  }
  const char *products =
      array_literal(&a, row->product_ids, row->product_count);
  const char *categories =
      array_literal(&a, row->category_ids, row->category_count);
  if (products == NULL || categories == NULL) {
    rc = DB_HARD_ERROR;
    goto cleanup;
  }
  const char *p[] = {row->id,
                     row->code,
                     row->description ? row->description : "",
                     promo_type_name(row->type),
                     I64(value, row->value),
                     row->currency,
                     I64(buy, row->buy_quantity),
                     I64(get, row->get_quantity),
                     products,
                     categories,
                     I64(min, row->min_subtotal),
                     I64(starts, row->starts_at_ms),
                     I64(ends, row->ends_at_ms),
                     I64(limit, row->usage_limit),
                     I64(per, row->per_customer_limit),
                     row->stackable ? "true" : "false"};
  rc = db_exec(c, stmt, 16, p, NULL);
  /* insert: ON CONFLICT DO NOTHING met a code taken meanwhile */
  if (rc == 0 && strcmp(stmt, "promo_insert") == 0) *duplicate = true;
cleanup:
  arena_free(&a);
  return rc;
}

int promo_store_insert(struct db_conn *c, const struct promo_row *row,
                       bool *duplicate) {
  return write_row(c, "promo_insert", row, duplicate);
}

int promo_store_update(struct db_conn *c, const struct promo_row *row,
                       bool *duplicate) {
  return write_row(c, "promo_update", row, duplicate);
}

int promo_store_get(struct db_conn *c, struct arena *a, const char *id,
                    bool for_update, struct promo_row *out) {
  const char *p[] = {id};
  struct promo_row *rows = NULL;
  int rc = read_rows(c, a, for_update ? "promo_get_locked" : "promo_get", 1, p,
                     &rows);
  if (rc == 1) *out = rows[0];
  return rc;
}

int promo_store_list(struct db_conn *c, struct arena *a, const char *before,
                     int limit, struct promo_row **out) {
  char lim[24];
  const char *p[] = {before, I64(lim, limit)};
  return read_rows(c, a, "promo_list", 2, p, out);
}

int promo_store_delete(struct db_conn *c, const char *id) {
  const char *p[] = {id};
  return db_exec(c, "promo_delete", 1, p, NULL);
}

int promo_store_for_cart(struct db_conn *c, struct arena *a,
                         const char *const *codes, size_t n,
                         const char *user_id, struct promo_row **out) {
  const char *array = array_literal(a, codes, n);
  if (array == NULL) return DB_HARD_ERROR;
  const char *p[] = {array, user_id && user_id[0] ? user_id : NULL};
  return read_rows(c, a, "promo_for_cart", 2, p, out);
}

int promo_store_by_code(struct db_conn *c, struct arena *a, const char *code,
                        const char *user_id, struct promo_row *out) {
  const char *p[] = {code, user_id && user_id[0] ? user_id : NULL};
  struct promo_row *rows = NULL;
  int rc = read_rows(c, a, "promo_by_code", 2, p, &rows);
  if (rc == 1) *out = rows[0];
  return rc;
}

/* --- redemptions --- */

int promo_store_redemptions_of(struct db_conn *c, const char *order_id) {
  const char *p[] = {order_id};
  struct db_result *r = NULL;
  int rc = db_exec(c, "redemptions_of", 1, p, &r);
  if (rc == 1) rc = (int)db_result_int64(r, 0, 0);
  db_result_free(r);
  return rc;
}

int promo_store_reserve(struct db_conn *c, const char *promotion_id,
                        const char *order_id, const char *user_id,
                        enum promo_reserve *outcome) {
  const char *p[] = {promotion_id};
  struct db_result *r = NULL;
  int rc = db_exec(c, "promo_reserve", 1, p, &r);
  if (rc != 1) {
    db_result_free(r);
    return rc < 0 ? rc : DB_HARD_ERROR;
  }
  bool took = db_result_int64(r, 0, 0) == 1;
  int64_t per_customer =
      db_result_is_null(r, 0, 1) ? -1 : db_result_int64(r, 0, 1);
  bool exists = db_result_int64(r, 0, 2) == 1;
  db_result_free(r);
  if (!took) {
    *outcome = exists ? PROMO_RESERVE_LIMIT : PROMO_RESERVE_GONE;
    return 0;
  }
  char per[24];
  const char *q[] = {promotion_id, order_id, user_id, I64(per, per_customer)};
  rc = db_exec(c, "promo_redeem", 4, q, NULL);
  if (rc < 0) return rc;
  *outcome = rc == 1 ? PROMO_RESERVED : PROMO_RESERVE_CUSTOMER;
  return 1;
}

int promo_store_commit(struct db_conn *c, const char *order_id,
                       int64_t *released) {
  const char *p[] = {order_id};
  struct db_result *r = NULL;
  int rc = db_exec(c, "promo_commit", 1, p, &r);
  if (rc == 1) {
    rc = (int)db_result_int64(r, 0, 0);
    *released = db_result_int64(r, 0, 1);
  } else if (rc >= 0) {
    rc = DB_HARD_ERROR;
  }
  db_result_free(r);
  return rc;
}

int promo_store_release(struct db_conn *c, const char *order_id) {
  const char *p[] = {order_id};
  return db_exec(c, "promo_release", 1, p, NULL);
}
