/* store.c - the product service's SQL (see store.h). Statements are declared
 * in one table and prepared per connection by the kit. */
#include "services/product/store.h"

#include <stdio.h>
#include <string.h>

#include "kit/log.h"

#define TS(col)                                                                \
  "to_char(" col " AT TIME ZONE 'UTC', "                                       \
  "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

#define PRODUCT_COLS                                                           \
  "p.id::text, p.sku, p.name, p.description, p.category_id::text, "            \
  "p.price_minor, p.currency, p.stock, p.reserved, p.status, "                 \
  "p.images::text, p.attributes::text, "                                       \
  "COALESCE((p.attributes->>'weight_grams')::bigint, -1), " TS(                \
      "p.created_at") ", " TS("p.updated_at")

/* $1 status, $2 category (and its descendants), $3/$4 price bounds, $5
 * currency; $6/$7 the cursor's key and id; $8 the limit. */
#define LIST_WHERE                                                             \
  "FROM products p WHERE ($1::text IS NULL OR p.status = $1) "                 \
  "AND ($2::uuid IS NULL OR p.category_id IN (SELECT c.id FROM categories "    \
  "c JOIN categories r ON c.id = r.id OR c.path LIKE r.path || '/%' "          \
  "WHERE r.id = $2)) "                                                         \
  "AND ($5::text IS NULL OR p.currency = $5) "                                 \
  "AND ($3::bigint IS NULL OR p.price_minor >= $3) "                           \
  "AND ($4::bigint IS NULL OR p.price_minor <= $4) "

#define CATEGORY_COLS                                                          \
  "id::text, slug, name, path, COALESCE(parent_id::text, '')"

#define MOVE(name, set)                                                        \
  {                                                                            \
    name, "UPDATE products p SET " set " FROM reservation_lines l "            \
          "WHERE l.order_id = $1 AND p.id = l.product_id "                     \
          "RETURNING p.id::text, p.sku, p.stock, p.reserved, l.quantity"       \
  }

const struct db_statement product_statements[] = {
    {"product_insert",
     "INSERT INTO products AS p (id, sku, name, description, category_id, "
     "price_minor, currency, stock, status, images, attributes) VALUES ($1, "
     "$2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb) "
     "ON CONFLICT (sku) DO NOTHING RETURNING " PRODUCT_COLS},
    {"product_get", "SELECT " PRODUCT_COLS " FROM products p WHERE p.id = $1"},
    {"product_get_for_update",
     "SELECT " PRODUCT_COLS " FROM products p WHERE p.id = $1 FOR UPDATE"},
    {"product_update",
     "UPDATE products p SET sku = COALESCE($2, sku), "
     "name = COALESCE($3, name), description = COALESCE($4, description), "
     "category_id = COALESCE($5::uuid, category_id), "
     "price_minor = COALESCE($6::bigint, price_minor), "
     "currency = COALESCE($7, currency), stock = COALESCE($8::bigint, stock), "
     "status = COALESCE($9, status), images = COALESCE($10::jsonb, images), "
     "attributes = attributes || COALESCE($11::jsonb, '{}'::jsonb), "
     "updated_at = now() WHERE id = $1 RETURNING " PRODUCT_COLS},
    {"product_sku_taken", "SELECT 1 FROM products WHERE sku = $1 AND ($2::uuid "
                          "IS NULL OR id <> $2)"},
    {"product_exists", "SELECT 1 FROM products WHERE id = $1"},
    {"product_count", "SELECT count(*) FROM products"},
    {"product_list_newest",
     "SELECT " PRODUCT_COLS " " LIST_WHERE
     "AND ($6::text IS NULL OR p.id < $7::uuid) ORDER BY p.id DESC LIMIT $8"},
    {"product_list_price_asc",
     "SELECT " PRODUCT_COLS " " LIST_WHERE
     "AND ($6::bigint IS NULL OR (p.price_minor, p.id) > ($6::bigint, "
     "$7::uuid)) ORDER BY p.price_minor, p.id LIMIT $8"},
    {"product_list_price_desc",
     "SELECT " PRODUCT_COLS " " LIST_WHERE
     "AND ($6::bigint IS NULL OR (p.price_minor, p.id) < ($6::bigint, "
     "$7::uuid)) ORDER BY p.price_minor DESC, p.id DESC LIMIT $8"},
    {"product_list_name",
     "SELECT " PRODUCT_COLS " " LIST_WHERE
     "AND ($6::text IS NULL OR (p.name, p.id) > ($6::text COLLATE \"C\", "
     "$7::uuid)) ORDER BY p.name, p.id LIMIT $8"},
    {"product_batch",
     "SELECT " PRODUCT_COLS " FROM products p WHERE p.id = ANY($1::uuid[])"},
    {"stock_adjust",
     "UPDATE products p SET stock = stock + $2, updated_at = now() "
     "WHERE id = $1 AND stock + $2 >= reserved AND stock + $2 >= 0 "
     "RETURNING " PRODUCT_COLS},
    {"adjustment_insert",
     "INSERT INTO inventory_adjustments (id, product_id, delta, reason, "
     "stock_after, actor_id) VALUES ($1, $2, $3, $4, $5, $6) "
     "RETURNING " TS("created_at")},
    {"category_get", "SELECT " CATEGORY_COLS " FROM categories WHERE id = $1"},
    {"category_by_slug",
     "SELECT " CATEGORY_COLS " FROM categories WHERE slug = $1"},
    {"category_insert",
     "INSERT INTO categories (id, slug, name, parent_id, path) VALUES ($1, "
     "$2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING " CATEGORY_COLS},
    {"category_list", "SELECT " CATEGORY_COLS " FROM categories ORDER BY path"},
    {"reservation_insert",
     "INSERT INTO reservations (order_id, status, expires_at) VALUES ($1, "
     "'reserved', now() + make_interval(secs => $2::integer)) "
     "ON CONFLICT (order_id) DO NOTHING"},
    {"reservation_get",
     "SELECT order_id::text, status, " TS(
         "expires_at") ", expires_at <= now() "
                       "FROM reservations WHERE order_id = $1"},
    {"reservation_get_for_update",
     "SELECT order_id::text, status, " TS(
         "expires_at") ", expires_at <= now() "
                       "FROM reservations WHERE order_id = $1 FOR UPDATE"},
    {"reservation_lines",
     "SELECT product_id::text, quantity FROM reservation_lines "
     "WHERE order_id = $1 ORDER BY product_id"},
    /* One statement decides and takes: the row lock makes concurrent
     * reservers of the last unit queue, and the loser sees 0 rows. */
    {"reserve_line",
     "WITH taken AS (UPDATE products SET reserved = reserved + $3 "
     "WHERE id = $2 AND status = 'active' AND stock - reserved >= $3 "
     "RETURNING id, sku, stock, reserved), "
     "line AS (INSERT INTO reservation_lines (order_id, product_id, quantity) "
     "SELECT $1, id, $3 FROM taken) "
     "SELECT id::text, sku, stock, reserved, $3::bigint FROM taken"},
    {"reservation_lock_lines",
     "SELECT p.id FROM products p JOIN reservation_lines l ON "
     "l.product_id = p.id WHERE l.order_id = $1 ORDER BY p.id FOR UPDATE OF p"},
    MOVE("move_commit",
         "stock = p.stock - l.quantity, reserved = p.reserved - l.quantity"),
    MOVE("move_release", "reserved = p.reserved - l.quantity"),
    MOVE("move_restock", "stock = p.stock + l.quantity"),
    {"reservation_set_status",
     "UPDATE reservations SET status = $2, updated_at = now() "
     "WHERE order_id = $1"},
    {"reservation_expired",
     "SELECT order_id::text FROM reservations WHERE status = 'reserved' AND "
     "expires_at <= now() ORDER BY expires_at LIMIT $1"},
};
_Static_assert(sizeof product_statements / sizeof product_statements[0] ==
                   PRODUCT_STATEMENT_COUNT,
               "PRODUCT_STATEMENT_COUNT must match the table");

/* --- rows -------------------------------------------------------------------
 */

static const char *dup(struct arena *a, const struct db_result *r, int row,
                       int col) {
  const char *t = db_result_text(r, row, col);
  return arena_strdup(a, t != NULL ? t : "");
}

static void copy_fixed(char *out, size_t size, const struct db_result *r,
                       int row, int col) {
  const char *t = db_result_text(r, row, col);
  snprintf(out, size, "%s", t != NULL ? t : "");
}

static void read_product(struct arena *a, const struct db_result *r, int row,
                         struct product_row *p) {
  copy_fixed(p->id, sizeof p->id, r, row, 0);
  p->sku = dup(a, r, row, 1);
  p->name = dup(a, r, row, 2);
  p->description = dup(a, r, row, 3);
  copy_fixed(p->category_id, sizeof p->category_id, r, row, 4);
  p->price_minor = db_result_int64(r, row, 5);
  copy_fixed(p->currency, sizeof p->currency, r, row, 6);
  p->stock = db_result_int64(r, row, 7);
  p->reserved = db_result_int64(r, row, 8);
  copy_fixed(p->status, sizeof p->status, r, row, 9);
  p->images_json = dup(a, r, row, 10);
  p->attributes_json = dup(a, r, row, 11);
  p->weight_grams = db_result_int64(r, row, 12);
  p->created_at = dup(a, r, row, 13);
  p->updated_at = dup(a, r, row, 14);
}

/* Runs stmt and reads at most one product into out. */
static int one_product(struct db_conn *c, struct arena *a, const char *stmt,
                       int n, const char *const *params,
                       struct product_row *out) {
  struct db_result *r = NULL;
  int rc = db_exec(c, stmt, n, params, &r);
  if (rc > 0) read_product(a, r, 0, out);
  db_result_free(r);
  return rc > 1 ? 1 : rc;
}

static int many_products(struct db_conn *c, struct arena *a, const char *stmt,
                         int n, const char *const *params,
                         struct product_row **rows) {
  struct db_result *r = NULL;
  *rows = NULL;
  int rc = db_exec(c, stmt, n, params, &r);
  if (rc > 0) {
    *rows = arena_alloc(a, sizeof **rows * (size_t)rc);
    if (*rows == NULL) {
      rc = DB_HARD_ERROR;
    } else {
      for (int i = 0; i < rc; i++)
        read_product(a, r, i, &(*rows)[i]);
    }
  }
  db_result_free(r);
  return rc;
}

static const char *i64(struct arena *a, int64_t v) {
  return arena_printf(a, "%lld", (long long)v);
}

/* --- products ----------------------------------------------------------------
 */

int pstore_product_insert(struct db_conn *c, struct arena *a,
                          const struct product_new *p,
                          struct product_row *out) {
  const char *params[] = {p->id,
                          p->sku,
                          p->name,
                          p->description,
                          p->category_id,
                          i64(a, p->price_minor),
                          p->currency,
                          i64(a, p->stock),
                          p->status,
                          p->images_json,
                          p->attributes_json};
  return one_product(c, a, "product_insert", 11, params, out);
}

int pstore_product_get(struct db_conn *c, struct arena *a, const char *id,
                       bool for_update, struct product_row *out) {
  const char *params[] = {id};
  return one_product(c, a,
                     for_update ? "product_get_for_update" : "product_get", 1,
                     params, out);
}

int pstore_product_update(struct db_conn *c, struct arena *a, const char *id,
                          const struct product_change *ch,
                          struct product_row *out) {
  const char *params[] = {
      id,
      ch->sku,
      ch->name,
      ch->description,
      ch->category_id,
      ch->has_price ? i64(a, ch->price_minor) : NULL,
      ch->currency,
      ch->has_stock ? i64(a, ch->stock) : NULL,
      ch->status,
      ch->images_json,
      ch->attributes_json,
  };
  return one_product(c, a, "product_update", 11, params, out);
}

int pstore_sku_taken(struct db_conn *c, const char *sku,
                     const char *except_id) {
  const char *params[] = {sku, except_id};
  return db_exec(c, "product_sku_taken", 2, params, NULL);
}

int pstore_product_exists(struct db_conn *c, const char *product_id) {
  const char *params[] = {product_id};
  return db_exec(c, "product_exists", 1, params, NULL);
}

int pstore_product_count(struct db_conn *c, int64_t *count) {
  struct db_result *r = NULL;
  int rc = db_exec(c, "product_count", 0, NULL, &r);
  if (rc > 0) *count = db_result_int64(r, 0, 0);
  db_result_free(r);
  return rc;
}

int pstore_product_list(struct db_conn *c, struct arena *a,
                        enum product_sort sort, const struct list_filter *f,
                        struct product_row **rows) {
  static const char *const stmts[SORT_COUNT] = {
      [SORT_NEWEST] = "product_list_newest",
      [SORT_PRICE_ASC] = "product_list_price_asc",
      [SORT_PRICE_DESC] = "product_list_price_desc",
      [SORT_NAME] = "product_list_name",
  };
  const char *params[] = {
      f->status,
      f->category_id,
      f->has_min ? i64(a, f->min_price) : NULL,
      f->has_max ? i64(a, f->max_price) : NULL,
      f->currency,
      f->after != NULL ? f->after->key : NULL,
      f->after != NULL ? f->after->id : NULL,
      i64(a, f->limit),
  };
  return many_products(c, a, stmts[sort], 8, params, rows);
}

int pstore_products_batch(struct db_conn *c, struct arena *a,
                          const char *ids_array, struct product_row **rows) {
  const char *params[] = {ids_array};
  return many_products(c, a, "product_batch", 1, params, rows);
}

/* --- inventory
 * ---------------------------------------------------------------- */

int pstore_stock_adjust(struct db_conn *c, struct arena *a, const char *id,
                        int64_t delta, struct product_row *out) {
  const char *params[] = {id, i64(a, delta)};
  return one_product(c, a, "stock_adjust", 2, params, out);
}

int pstore_adjustment_insert(struct db_conn *c, const char *id,
                             const char *product_id, int64_t delta,
                             const char *reason, int64_t stock_after,
                             const char *actor_id, const char **created_at,
                             struct arena *a) {
  const char *params[] = {id,     product_id,          i64(a, delta),
                          reason, i64(a, stock_after), actor_id};
  struct db_result *r = NULL;
  int rc = db_exec(c, "adjustment_insert", 6, params, &r);
  if (rc > 0 && created_at != NULL) *created_at = dup(a, r, 0, 0);
  db_result_free(r);
  return rc;
}

/* --- categories
 * ---------------------------------------------------------------- */

static void read_category(struct arena *a, const struct db_result *r, int row,
                          struct category_row *out) {
  copy_fixed(out->id, sizeof out->id, r, row, 0);
  out->slug = dup(a, r, row, 1);
  out->name = dup(a, r, row, 2);
  out->path = dup(a, r, row, 3);
  copy_fixed(out->parent_id, sizeof out->parent_id, r, row, 4);
}

static int one_category(struct db_conn *c, struct arena *a, const char *stmt,
                        int n, const char *const *params,
                        struct category_row *out) {
  struct db_result *r = NULL;
  int rc = db_exec(c, stmt, n, params, &r);
  if (rc > 0) read_category(a, r, 0, out);
  db_result_free(r);
  return rc > 1 ? 1 : rc;
}

int pstore_category_get(struct db_conn *c, struct arena *a, const char *id,
                        struct category_row *out) {
  const char *params[] = {id};
  return one_category(c, a, "category_get", 1, params, out);
}

int pstore_category_by_slug(struct db_conn *c, struct arena *a,
                            const char *slug, struct category_row *out) {
  const char *params[] = {slug};
  return one_category(c, a, "category_by_slug", 1, params, out);
}

int pstore_category_insert(struct db_conn *c, struct arena *a, const char *id,
                           const char *slug, const char *name,
                           const char *parent_id, const char *path,
                           struct category_row *out) {
  const char *params[] = {id, slug, name, parent_id, path};
  return one_category(c, a, "category_insert", 5, params, out);
}

int pstore_category_list(struct db_conn *c, struct arena *a,
                         struct category_row **rows) {
  struct db_result *r = NULL;
  *rows = NULL;
  int rc = db_exec(c, "category_list", 0, NULL, &r);
  if (rc > 0) {
    *rows = arena_alloc(a, sizeof **rows * (size_t)rc);
    if (*rows == NULL)
      rc = DB_HARD_ERROR;
    else
      for (int i = 0; i < rc; i++)
        read_category(a, r, i, &(*rows)[i]);
  }
  db_result_free(r);
  return rc;
}

/* --- reservations
 * ----------------------------------------------------------------- */

int pstore_reservation_insert(struct db_conn *c, const char *order_id,
                              int64_t ttl_seconds) {
  char ttl[24];
  snprintf(ttl, sizeof ttl, "%lld", (long long)ttl_seconds);
  const char *params[] = {order_id, ttl};
  return db_exec(c, "reservation_insert", 2, params, NULL);
}

int pstore_reservation_get(struct db_conn *c, struct arena *a,
                           const char *order_id, bool for_update,
                           struct reservation_row *out) {
  const char *params[] = {order_id};
  struct db_result *r = NULL;
  int rc =
      db_exec(c, for_update ? "reservation_get_for_update" : "reservation_get",
              1, params, &r);
  if (rc > 0) {
    copy_fixed(out->order_id, sizeof out->order_id, r, 0, 0);
    copy_fixed(out->status, sizeof out->status, r, 0, 1);
    out->expires_at = dup(a, r, 0, 2);
    out->past_expiry = db_result_bool(r, 0, 3);
  }
  db_result_free(r);
  return rc;
}

int pstore_reservation_lines(struct db_conn *c, struct arena *a,
                             const char *order_id,
                             struct reservation_line **lines) {
  const char *params[] = {order_id};
  struct db_result *r = NULL;
  *lines = NULL;
  int rc = db_exec(c, "reservation_lines", 1, params, &r);
  if (rc > 0) {
    *lines = arena_alloc(a, sizeof **lines * (size_t)rc);
    if (*lines == NULL) {
      rc = DB_HARD_ERROR;
    } else {
      for (int i = 0; i < rc; i++) {
        copy_fixed((*lines)[i].product_id, sizeof(*lines)[i].product_id, r, i,
                   0);
        (*lines)[i].quantity = db_result_int64(r, i, 1);
      }
    }
  }
  db_result_free(r);
  return rc;
}

static void read_change(struct arena *a, const struct db_result *r, int row,
                        struct stock_change *out) {
  copy_fixed(out->product_id, sizeof out->product_id, r, row, 0);
  out->sku = dup(a, r, row, 1);
  out->stock = db_result_int64(r, row, 2);
  out->reserved = db_result_int64(r, row, 3);
  out->quantity = db_result_int64(r, row, 4);
}

int pstore_reserve_line(struct db_conn *c, struct arena *a,
                        const char *order_id, const char *product_id,
                        int64_t quantity, struct stock_change *change) {
  const char *params[] = {order_id, product_id, i64(a, quantity)};
  struct db_result *r = NULL;
  int rc = db_exec(c, "reserve_line", 3, params, &r);
  if (rc > 0) read_change(a, r, 0, change);
  db_result_free(r);
  return rc;
}

int pstore_lock_lines(struct db_conn *c, const char *order_id) {
  const char *params[] = {order_id};
  return db_exec(c, "reservation_lock_lines", 1, params, NULL);
}

int pstore_move_units(struct db_conn *c, struct arena *a, const char *order_id,
                      enum unit_move move, struct stock_change **changes) {
  static const char *const stmts[] = {
      [MOVE_COMMIT] = "move_commit",
      [MOVE_RELEASE] = "move_release",
      [MOVE_RESTOCK] = "move_restock",
  };
  const char *params[] = {order_id};
  struct db_result *r = NULL;
  *changes = NULL;
  int rc = db_exec(c, stmts[move], 1, params, &r);
  if (rc > 0) {
    *changes = arena_alloc(a, sizeof **changes * (size_t)rc);
    if (*changes == NULL)
      rc = DB_HARD_ERROR;
    else
      for (int i = 0; i < rc; i++)
        read_change(a, r, i, &(*changes)[i]);
  }
  db_result_free(r);
  return rc;
}

int pstore_reservation_set_status(struct db_conn *c, const char *order_id,
                                  const char *status) {
  const char *params[] = {order_id, status};
  return db_exec(c, "reservation_set_status", 2, params, NULL);
}

int pstore_expired_reservations(struct db_conn *c, struct arena *a, int limit,
                                char (**ids)[37]) {
  char lim[16];
  snprintf(lim, sizeof lim, "%d", limit);
  const char *params[] = {lim};
  struct db_result *r = NULL;
  *ids = NULL;
  int rc = db_exec(c, "reservation_expired", 1, params, &r);
  if (rc > 0) {
    *ids = arena_alloc(a, sizeof **ids * (size_t)rc);
    if (*ids == NULL)
      rc = DB_HARD_ERROR;
    else
      for (int i = 0; i < rc; i++)
        copy_fixed((*ids)[i], 37, r, i, 0);
  }
  db_result_free(r);
  return rc;
}
