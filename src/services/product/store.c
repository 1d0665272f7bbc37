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
  "COALESCE(round((p.attributes->>'weight')::numeric * 1000)::bigint, "        \
  "-1), " TS("p.created_at") ", " TS("p.updated_at") ", " VARIANT_TOTALS       \
                                                     ", " RATING_COLS

/* The review service's aggregate (ratings.c). */
#define RATING_COLS "p.rating_average::text, p.rating_count"

/* A product with options sells its variants: its stock and reserved units
 * read as the sums over its live variants. Also its options. */
#define VARIANT_TOTALS                                                         \
  "p.options::text, CASE WHEN p.options = '[]'::jsonb THEN p.stock ELSE "      \
  "(SELECT COALESCE(sum(v.stock), 0)::bigint FROM variants v WHERE "           \
  "v.product_id = p.id AND v.status = 'active') END, CASE WHEN p.options = "   \
  "'[]'::jsonb THEN p.reserved ELSE (SELECT COALESCE(sum(v.reserved), "        \
  "0)::bigint FROM variants v WHERE v.product_id = p.id AND v.status = "       \
  "'active') END"

/* The price a listing shows: in the requested currency $5 (the product's own
 * price when that is its currency, else its price-list entry), or the
 * product's own price when no currency was asked for. */
#define EFF_PRICE                                                              \
  "COALESCE(CASE WHEN $5::text IS NULL OR p.currency = $5::text THEN "         \
  "p.price_minor END, pp.amount_minor)"

/* PRODUCT_COLS with the price (and currency) of the listing's currency. */
#define LIST_COLS                                                              \
  "p.id::text, p.sku, p.name, p.description, p.category_id::text, " EFF_PRICE  \
  ", COALESCE($5::text, p.currency), p.stock, p.reserved, p.status, "          \
  "p.images::text, p.attributes::text, "                                       \
  "COALESCE(round((p.attributes->>'weight')::numeric * 1000)::bigint, "        \
  "-1), " TS("p.created_at") ", " TS("p.updated_at") ", " VARIANT_TOTALS       \
                                                     ", " RATING_COLS

/* $1 status, $2 category (and its descendants), $3/$4 price bounds, $5
 * currency; $6/$7 the cursor's key and id; $8 the limit. */
#define LIST_WHERE                                                             \
  "FROM products p LEFT JOIN product_prices pp ON pp.product_id = p.id AND "   \
  "pp.currency = $5::text WHERE ($1::text IS NULL OR p.status = $1) "          \
  "AND ($2::uuid IS NULL OR p.category_id IN (SELECT c.id FROM categories "    \
  "c JOIN categories r ON c.id = r.id OR c.path LIKE r.path || '/%' "          \
  "WHERE r.id = $2)) "                                                         \
  "AND ($5::text IS NULL OR " EFF_PRICE " IS NOT NULL) "                       \
  "AND ($3::bigint IS NULL OR " EFF_PRICE " >= $3) "                           \
  "AND ($4::bigint IS NULL OR " EFF_PRICE " <= $4) "

#define CATEGORY_COLS                                                          \
  "id::text, slug, name, path, COALESCE(parent_id::text, '')"

#define MOVE(name, set)                                                        \
  {                                                                            \
    name, "UPDATE products p SET " set " FROM reservation_lines l "            \
          "WHERE l.order_id = $1 AND p.id = l.product_id AND l.variant_id IS " \
          "NULL RETURNING p.id::text, p.sku, p.stock, p.reserved, "            \
          "l.quantity, ''"                                                     \
  }
/* The same moves on variant lines. */
#define MOVE_V(name, set)                                                      \
  {                                                                            \
    name, "UPDATE variants p SET " set " FROM reservation_lines l "            \
          "WHERE l.order_id = $1 AND p.id = l.variant_id "                     \
          "RETURNING p.product_id::text, p.sku, p.stock, p.reserved, "         \
          "l.quantity, p.id::text"                                             \
  }

/* A variant with its price in the currency $2 (NULL: the product's own):
 * its own price or its product's in the product's currency, else its
 * price-list entry or its product's. */
#define VARIANT_COLS                                                           \
  "v.id::text, v.product_id::text, v.sku, v.options::text, CASE WHEN "         \
  "$2::text IS NULL OR p.currency = $2::text THEN COALESCE(v.price_minor, "    \
  "p.price_minor) ELSE COALESCE(vp.amount_minor, pp.amount_minor) END, "       \
  "COALESCE($2::text, p.currency), v.stock, v.reserved, v.status, "            \
  "v.images::text, v.attributes::text, "                                       \
  "COALESCE(round((v.attributes->>'weight')::numeric * 1000)::bigint, "        \
  "-1), " TS("v.created_at") ", " TS(                                          \
      "v.updated_at") ", v.price_minor IS NOT NULL"

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
    /* SKUs are unique across products and variants: a writer takes the
     * SKU's lock, then looks in both tables (a separate statement, so its
     * snapshot sees whatever the previous holder committed). */
    {"sku_lock", "SELECT pg_advisory_xact_lock(hashtext('sku:' || $1))"},
    {"product_sku_taken",
     "SELECT 1 FROM products WHERE sku = $1 AND ($2::uuid IS NULL OR id <> "
     "$2) UNION ALL SELECT 1 FROM variants WHERE sku = $1 AND ($2::uuid IS "
     "NULL OR id <> $2)"},
    {"product_exists", "SELECT 1 FROM products WHERE id = $1"},
    {"product_count", "SELECT count(*) FROM products"},
    {"product_list_newest",
     "SELECT " LIST_COLS " " LIST_WHERE
     "AND ($6::text IS NULL OR p.id < $7::uuid) ORDER BY p.id DESC LIMIT $8"},
    {"product_list_price_asc",
     "SELECT " LIST_COLS " " LIST_WHERE "AND ($6::bigint IS NULL OR (" EFF_PRICE
     ", p.id) > ($6::bigint, $7::uuid)) ORDER BY " EFF_PRICE ", p.id LIMIT $8"},
    {"product_list_price_desc",
     "SELECT " LIST_COLS " " LIST_WHERE "AND ($6::bigint IS NULL OR (" EFF_PRICE
     ", p.id) < ($6::bigint, $7::uuid)) ORDER BY " EFF_PRICE
     " DESC, p.id DESC LIMIT $8"},
    {"product_list_name",
     "SELECT " LIST_COLS " " LIST_WHERE
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
     "stock_after, actor_id, variant_id) VALUES ($1, $2, $3, $4, $5, $6, $7) "
     "RETURNING " TS("created_at")},
    {"category_get", "SELECT " CATEGORY_COLS " FROM categories WHERE id = $1"},
    {"category_by_slug",
     "SELECT " CATEGORY_COLS " FROM categories WHERE slug = $1"},
    {"category_insert",
     "INSERT INTO categories (id, slug, name, parent_id, path) VALUES ($1, "
     "$2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING " CATEGORY_COLS},
    {"category_list", "SELECT " CATEGORY_COLS " FROM categories ORDER BY path"},
    {"category_lock",
     "SELECT " CATEGORY_COLS " FROM categories WHERE id = $1 FOR UPDATE"},
    {"category_update",
     "UPDATE categories SET slug = $2, name = $3, parent_id = $4, path = $5 "
     "WHERE id = $1 RETURNING " CATEGORY_COLS},
    /* the descendants of a category whose path went from $1 to $2 (slugs
     * are [a-z0-9-], so the prefix test needs no LIKE escaping) */
    {"category_repath",
     "UPDATE categories SET path = $2 || substr(path, length($1) + 1) WHERE "
     "left(path, length($1) + 1) = $1 || '/' RETURNING " CATEGORY_COLS},
    {"category_usage",
     "SELECT (SELECT count(*) FROM categories WHERE parent_id = $1), "
     "(SELECT count(*) FROM products WHERE category_id = $1)"},
    {"category_delete", "DELETE FROM categories WHERE id = $1"},
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
     "SELECT product_id::text, quantity, COALESCE(variant_id::text, '') FROM "
     "reservation_lines WHERE order_id = $1 ORDER BY product_id, variant_id "
     "NULLS FIRST"},
    /* One statement decides and takes: the row lock makes concurrent
     * reservers of the last unit queue, and the loser sees 0 rows. */
    {"reserve_line",
     "WITH taken AS (UPDATE products SET reserved = reserved + $3 "
     "WHERE id = $2 AND status = 'active' AND options = '[]'::jsonb "
     "AND stock - reserved >= $3 RETURNING id, sku, stock, reserved), "
     "line AS (INSERT INTO reservation_lines (order_id, product_id, quantity) "
     "SELECT $1, id, $3 FROM taken) "
     "SELECT id::text, sku, stock, reserved, $3::bigint, '' FROM taken"},
    /* The same for one variant ($4) of the product: only its own row. */
    {"reserve_variant_line",
     "WITH taken AS (UPDATE variants v SET reserved = v.reserved + $3 "
     "FROM products p WHERE v.id = $4 AND v.product_id = $2 AND p.id = "
     "v.product_id AND p.status = 'active' AND v.status = 'active' AND "
     "v.stock - v.reserved >= $3 RETURNING v.id, v.product_id, v.sku, "
     "v.stock, v.reserved), "
     "line AS (INSERT INTO reservation_lines (order_id, product_id, "
     "variant_id, quantity) SELECT $1, product_id, id, $3 FROM taken) "
     "SELECT product_id::text, sku, stock, reserved, $3::bigint, id::text "
     "FROM taken"},
    {"product_kind",
     "SELECT jsonb_array_length(options) FROM products WHERE id = $1"},
    {"variant_exists",
     "SELECT 1 FROM variants WHERE id = $1 AND product_id = $2"},
    {"reservation_lock_lines",
     "SELECT p.id FROM products p JOIN reservation_lines l ON "
     "l.product_id = p.id WHERE l.order_id = $1 AND l.variant_id IS NULL "
     "ORDER BY p.id FOR UPDATE OF p"},
    {"reservation_lock_variants",
     "SELECT v.id FROM variants v JOIN reservation_lines l ON "
     "l.variant_id = v.id WHERE l.order_id = $1 ORDER BY v.product_id, v.id "
     "FOR UPDATE OF v"},
    MOVE("move_commit",
         "stock = p.stock - l.quantity, reserved = p.reserved - l.quantity"),
    MOVE("move_release", "reserved = p.reserved - l.quantity"),
    MOVE("move_restock", "stock = p.stock + l.quantity"),
    MOVE_V("move_commit_v",
           "stock = p.stock - l.quantity, reserved = p.reserved - l.quantity"),
    MOVE_V("move_release_v", "reserved = p.reserved - l.quantity"),
    MOVE_V("move_restock_v", "stock = p.stock + l.quantity"),
    /* --- options, variants, prices --- */
    {"product_set_options",
     "UPDATE products SET options = $2::jsonb, updated_at = now() WHERE id = "
     "$1"},
    {"product_price_in",
     "SELECT amount_minor FROM product_prices WHERE product_id = $1 AND "
     "currency = $2"},
    {"product_prices_clear",
     "DELETE FROM product_prices WHERE product_id = $1"},
    {"product_price_insert",
     "INSERT INTO product_prices (product_id, currency, amount_minor) VALUES "
     "($1, $2, $3)"},
    {"product_prices_list",
     "SELECT currency, amount_minor FROM product_prices WHERE product_id = $1 "
     "ORDER BY currency"},
    {"variants_of",
     "SELECT " VARIANT_COLS " FROM variants v JOIN products p ON p.id = "
     "v.product_id LEFT JOIN variant_prices vp ON vp.variant_id = v.id AND "
     "vp.currency = $2::text LEFT JOIN product_prices pp ON pp.product_id = "
     "v.product_id AND pp.currency = $2::text WHERE (v.product_id = "
     "ANY($1::uuid[]) AND v.status = 'active') OR v.id = ANY($3::uuid[]) "
     "ORDER BY v.product_id, v.id"},
    {"variant_get_for_update",
     "SELECT v.id::text, v.product_id::text, v.sku, v.options::text, "
     "COALESCE(v.price_minor, -1), v.stock, v.reserved, v.status FROM "
     "variants v WHERE v.id = $1 FOR UPDATE"},
    {"variant_insert",
     "INSERT INTO variants (id, product_id, sku, options, price_minor, stock, "
     "images, attributes) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7::jsonb, "
     "$8::jsonb)"},
    {"variant_update",
     "UPDATE variants SET sku = COALESCE($2, sku), options = "
     "COALESCE($3::jsonb, options), price_minor = CASE WHEN $4::boolean THEN "
     "$5::bigint ELSE price_minor END, stock = COALESCE($6::bigint, stock), "
     "images = COALESCE($7::jsonb, images), attributes = COALESCE($8::jsonb, "
     "attributes), status = COALESCE($9, status), updated_at = now() WHERE "
     "id = $1"},
    {"variant_combination_taken",
     "SELECT 1 FROM variants WHERE product_id = $1 AND options = $2::jsonb "
     "AND status = 'active' AND ($3::uuid IS NULL OR id <> $3)"},
    {"variant_live_options",
     "SELECT id::text, options::text FROM variants WHERE product_id = $1 AND "
     "status = 'active'"},
    {"variant_stock_adjust",
     "UPDATE variants SET stock = stock + $2, updated_at = now() WHERE id = "
     "$1 AND product_id = $3 AND stock + $2 >= reserved AND stock + $2 >= 0 "
     "RETURNING sku, stock, reserved"},
    {"variant_prices_clear",
     "DELETE FROM variant_prices WHERE variant_id = $1"},
    {"variant_price_insert",
     "INSERT INTO variant_prices (variant_id, currency, amount_minor) VALUES "
     "($1, $2, $3)"},
    {"reservation_set_status",
     "UPDATE reservations SET status = $2, updated_at = now() "
     "WHERE order_id = $1"},
    {"reservation_expired",
     "SELECT order_id::text FROM reservations WHERE status = 'reserved' AND "
     "expires_at <= now() ORDER BY expires_at LIMIT $1"},
    /* The review service's aggregate (review.approved / review.removed):
     * only an event newer than the one that set it applies. */
    {"product_rating_set",
     "UPDATE products SET rating_average = $2::numeric, rating_count = $3, "
     "rating_event_at = $4::timestamptz WHERE id = $1 AND (rating_event_at "
     "IS NULL OR rating_event_at <= $4::timestamptz)"},
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
  p->options_json = dup(a, r, row, 15);
  p->has_options = strcmp(p->options_json, "[]") != 0;
  p->stock = db_result_int64(r, row, 16);
  p->reserved = db_result_int64(r, row, 17);
  p->has_price = !db_result_is_null(r, row, 5);
  p->rating_average = db_result_is_null(r, row, 18) ? NULL : dup(a, r, row, 18);
  p->rating_count = db_result_int64(r, row, 19);
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
  const char *lock[] = {sku};
  int rc = db_exec(c, "sku_lock", 1, lock, NULL);
  if (rc < 0) return rc;
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
  return pstore_adjustment_insert_variant(c, id, product_id, NULL, delta,
                                          reason, stock_after, actor_id,
                                          created_at, a);
}

int pstore_adjustment_insert_variant(struct db_conn *c, const char *id,
                                     const char *product_id,
                                     const char *variant_id, int64_t delta,
                                     const char *reason, int64_t stock_after,
                                     const char *actor_id,
                                     const char **created_at, struct arena *a) {
  const char *params[] = {id,        product_id,          i64(a, delta),
                          reason,    i64(a, stock_after), actor_id,
                          variant_id};
  struct db_result *r = NULL;
  int rc = db_exec(c, "adjustment_insert", 7, params, &r);
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

/* Every row of a statement answering categories, into *rows (arena). */
static int many_categories(struct db_conn *c, struct arena *a, const char *stmt,
                           int n, const char *const *params,
                           struct category_row **rows) {
  struct db_result *r = NULL;
  *rows = NULL;
  int rc = db_exec(c, stmt, n, params, &r);
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

int pstore_category_list(struct db_conn *c, struct arena *a,
                         struct category_row **rows) {
  return many_categories(c, a, "category_list", 0, NULL, rows);
}

int pstore_category_lock(struct db_conn *c, struct arena *a, const char *id,
                         struct category_row *out) {
  const char *params[] = {id};
  return one_category(c, a, "category_lock", 1, params, out);
}

int pstore_category_update(struct db_conn *c, struct arena *a,
                           const struct category_row *in,
                           struct category_row *out) {
  const char *params[] = {in->id, in->slug, in->name,
                          in->parent_id[0] ? in->parent_id : NULL, in->path};
  return one_category(c, a, "category_update", 5, params, out);
}

int pstore_category_repath(struct db_conn *c, struct arena *a,
                           const char *old_path, const char *new_path,
                           struct category_row **rows) {
  const char *params[] = {old_path, new_path};
  return many_categories(c, a, "category_repath", 2, params, rows);
}

int pstore_category_usage(struct db_conn *c, const char *id, int64_t *children,
                          int64_t *products) {
  const char *params[] = {id};
  struct db_result *r = NULL;
  int rc = db_exec(c, "category_usage", 1, params, &r);
  if (rc > 0) {
    *children = db_result_int64(r, 0, 0);
    *products = db_result_int64(r, 0, 1);
  }
  db_result_free(r);
  return rc;
}

int pstore_category_delete(struct db_conn *c, const char *id) {
  const char *params[] = {id};
  return db_exec(c, "category_delete", 1, params, NULL);
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
        copy_fixed((*lines)[i].variant_id, sizeof(*lines)[i].variant_id, r, i,
                   2);
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
  copy_fixed(out->variant_id, sizeof out->variant_id, r, row, 5);
}

int pstore_reserve_line(struct db_conn *c, struct arena *a,
                        const char *order_id, const char *product_id,
                        const char *variant_id, int64_t quantity,
                        struct stock_change *change) {
  bool variant = variant_id != NULL && variant_id[0] != '\0';
  const char *params[] = {order_id, product_id, i64(a, quantity), variant_id};
  struct db_result *r = NULL;
  int rc = db_exec(c, variant ? "reserve_variant_line" : "reserve_line",
                   variant ? 4 : 3, params, &r);
  if (rc > 0) read_change(a, r, 0, change);
  db_result_free(r);
  return rc;
}

int pstore_lock_lines(struct db_conn *c, const char *order_id) {
  const char *params[] = {order_id};
  int rc = db_exec(c, "reservation_lock_lines", 1, params, NULL);
  if (rc < 0) return rc;
  return db_exec(c, "reservation_lock_variants", 1, params, NULL);
}

int pstore_product_kind(struct db_conn *c, const char *product_id,
                        bool *has_options) {
  const char *params[] = {product_id};
  struct db_result *r = NULL;
  int rc = db_exec(c, "product_kind", 1, params, &r);
  if (rc > 0) *has_options = db_result_int64(r, 0, 0) > 0;
  db_result_free(r);
  return rc;
}

int pstore_variant_exists(struct db_conn *c, const char *variant_id,
                          const char *product_id) {
  const char *params[] = {variant_id, product_id};
  return db_exec(c, "variant_exists", 2, params, NULL);
}

int pstore_move_units(struct db_conn *c, struct arena *a, const char *order_id,
                      enum unit_move move, struct stock_change **changes) {
  static const char *const stmts[][2] = {
      [MOVE_COMMIT] = {"move_commit", "move_commit_v"},
      [MOVE_RELEASE] = {"move_release", "move_release_v"},
      [MOVE_RESTOCK] = {"move_restock", "move_restock_v"},
  };
  const char *params[] = {order_id};
  struct db_result *r[2] = {NULL, NULL};
  *changes = NULL;
  int rc = db_exec(c, stmts[move][0], 1, params, &r[0]);
  int rv = rc >= 0 ? db_exec(c, stmts[move][1], 1, params, &r[1]) : 0;
  if (rc >= 0 && rv < 0) rc = rv;
  if (rc >= 0 && rc + rv > 0) {
    *changes = arena_alloc(a, sizeof **changes * (size_t)(rc + rv));
    if (*changes == NULL) {
      rc = DB_HARD_ERROR;
    } else {
      for (int i = 0; i < rc; i++)
        read_change(a, r[0], i, &(*changes)[i]);
      for (int i = 0; i < rv; i++)
        read_change(a, r[1], i, &(*changes)[rc + i]);
      rc += rv;
    }
  }
  db_result_free(r[0]);
  db_result_free(r[1]);
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

/* --- options, variants, prices ------------------------------------------ */

int pstore_product_set_options(struct db_conn *c, const char *id,
                               const char *options_json) {
  const char *params[] = {id, options_json};
  return db_exec(c, "product_set_options", 2, params, NULL);
}

int pstore_product_price_in(struct db_conn *c, const char *id,
                            const char *currency, int64_t *minor) {
  const char *params[] = {id, currency};
  struct db_result *r = NULL;
  int rc = db_exec(c, "product_price_in", 2, params, &r);
  if (rc > 0) *minor = db_result_int64(r, 0, 0);
  db_result_free(r);
  return rc;
}

static int set_prices(struct db_conn *c, struct arena *a, const char *clear,
                      const char *insert, const char *owner_id,
                      const struct price_entry *list, size_t n) {
  const char *params[] = {owner_id, NULL, NULL};
  int rc = db_exec(c, clear, 1, params, NULL);
  for (size_t i = 0; rc >= 0 && i < n; i++) {
    params[1] = list[i].currency;
    params[2] = i64(a, list[i].minor);
    rc = db_exec(c, insert, 3, params, NULL);
  }
  return rc < 0 ? rc : 0;
}

int pstore_product_prices_set(struct db_conn *c, struct arena *a,
                              const char *id, const struct price_entry *list,
                              size_t n) {
  return set_prices(c, a, "product_prices_clear", "product_price_insert", id,
                    list, n);
}

int pstore_variant_prices_set(struct db_conn *c, struct arena *a,
                              const char *variant_id,
                              const struct price_entry *list, size_t n) {
  return set_prices(c, a, "variant_prices_clear", "variant_price_insert",
                    variant_id, list, n);
}

int pstore_product_prices(struct db_conn *c, struct arena *a, const char *id,
                          struct price_entry **list) {
  const char *params[] = {id};
  struct db_result *r = NULL;
  *list = NULL;
  int rc = db_exec(c, "product_prices_list", 1, params, &r);
  if (rc > 0) {
    *list = arena_alloc(a, sizeof **list * (size_t)rc);
    if (*list == NULL) {
      rc = DB_HARD_ERROR;
    } else {
      for (int i = 0; i < rc; i++) {
        (*list)[i].currency = dup(a, r, i, 0);
        (*list)[i].minor = db_result_int64(r, i, 1);
        (*list)[i].amount = NULL;
      }
    }
  }
  db_result_free(r);
  return rc;
}

static void read_variant(struct arena *a, const struct db_result *r, int row,
                         struct variant_row *v) {
  copy_fixed(v->id, sizeof v->id, r, row, 0);
  copy_fixed(v->product_id, sizeof v->product_id, r, row, 1);
  v->sku = dup(a, r, row, 2);
  v->options_json = dup(a, r, row, 3);
  v->has_price = !db_result_is_null(r, row, 4);
  v->price_minor = v->has_price ? db_result_int64(r, row, 4) : 0;
  copy_fixed(v->currency, sizeof v->currency, r, row, 5);
  v->stock = db_result_int64(r, row, 6);
  v->reserved = db_result_int64(r, row, 7);
  copy_fixed(v->status, sizeof v->status, r, row, 8);
  v->images_json = dup(a, r, row, 9);
  v->attributes_json = dup(a, r, row, 10);
  v->weight_grams = db_result_int64(r, row, 11);
  v->created_at = dup(a, r, row, 12);
  v->updated_at = dup(a, r, row, 13);
  v->own_price = db_result_bool(r, row, 14);
}

int pstore_variants_of(struct db_conn *c, struct arena *a,
                       const char *product_ids_array, const char *currency,
                       const char *variant_ids_array,
                       struct variant_row **rows) {
  const char *params[] = {product_ids_array, currency,
                          variant_ids_array ? variant_ids_array : "{}"};
  struct db_result *r = NULL;
  *rows = NULL;
  int rc = db_exec(c, "variants_of", 3, params, &r);
  if (rc > 0) {
    *rows = arena_alloc(a, sizeof **rows * (size_t)rc);
    if (*rows == NULL)
      rc = DB_HARD_ERROR;
    else
      for (int i = 0; i < rc; i++)
        read_variant(a, r, i, &(*rows)[i]);
  }
  db_result_free(r);
  return rc;
}

int pstore_variant_get_for_update(struct db_conn *c, struct arena *a,
                                  const char *id, struct variant_row *out) {
  const char *params[] = {id};
  struct db_result *r = NULL;
  int rc = db_exec(c, "variant_get_for_update", 1, params, &r);
  if (rc > 0) {
    memset(out, 0, sizeof *out);
    copy_fixed(out->id, sizeof out->id, r, 0, 0);
    copy_fixed(out->product_id, sizeof out->product_id, r, 0, 1);
    out->sku = dup(a, r, 0, 2);
    out->options_json = dup(a, r, 0, 3);
    out->price_minor = db_result_int64(r, 0, 4);
    out->own_price = out->price_minor >= 0;
    out->stock = db_result_int64(r, 0, 5);
    out->reserved = db_result_int64(r, 0, 6);
    copy_fixed(out->status, sizeof out->status, r, 0, 7);
  }
  db_result_free(r);
  return rc > 1 ? 1 : rc;
}

int pstore_variant_insert(struct db_conn *c, struct arena *a,
                          const struct variant_new *v) {
  const char *params[] = {v->id,
                          v->product_id,
                          v->sku,
                          v->options_json,
                          v->has_price ? i64(a, v->price_minor) : NULL,
                          i64(a, v->stock),
                          v->images_json,
                          v->attributes_json};
  return db_exec(c, "variant_insert", 8, params, NULL);
}

int pstore_variant_update(struct db_conn *c, struct arena *a, const char *id,
                          const struct variant_change *ch) {
  const char *params[] = {
      id,
      ch->sku,
      ch->options_json,
      ch->set_price ? "true" : "false",
      ch->set_price && ch->price_minor >= 0 ? i64(a, ch->price_minor) : NULL,
      ch->has_stock ? i64(a, ch->stock) : NULL,
      ch->images_json,
      ch->attributes_json,
      ch->status};
  return db_exec(c, "variant_update", 9, params, NULL);
}

int pstore_variant_combination_taken(struct db_conn *c, const char *product_id,
                                     const char *options_json,
                                     const char *except_id) {
  const char *params[] = {product_id, options_json, except_id};
  return db_exec(c, "variant_combination_taken", 3, params, NULL);
}

int pstore_variant_live_options(struct db_conn *c, struct arena *a,
                                const char *product_id,
                                const char ***options_json) {
  const char *params[] = {product_id};
  struct db_result *r = NULL;
  *options_json = NULL;
  int rc = db_exec(c, "variant_live_options", 1, params, &r);
  if (rc > 0) {
    *options_json = arena_alloc(a, sizeof **options_json * (size_t)rc);
    if (*options_json == NULL)
      rc = DB_HARD_ERROR;
    else
      for (int i = 0; i < rc; i++)
        (*options_json)[i] = dup(a, r, i, 1);
  }
  db_result_free(r);
  return rc;
}

int pstore_variant_stock_adjust(struct db_conn *c, struct arena *a,
                                const char *variant_id, const char *product_id,
                                int64_t delta, struct stock_change *out) {
  const char *params[] = {variant_id, i64(a, delta), product_id};
  struct db_result *r = NULL;
  int rc = db_exec(c, "variant_stock_adjust", 3, params, &r);
  if (rc > 0) {
    memset(out, 0, sizeof *out);
    snprintf(out->product_id, sizeof out->product_id, "%s", product_id);
    snprintf(out->variant_id, sizeof out->variant_id, "%s", variant_id);
    out->sku = dup(a, r, 0, 0);
    out->stock = db_result_int64(r, 0, 1);
    out->reserved = db_result_int64(r, 0, 2);
  }
  db_result_free(r);
  return rc;
}

int pstore_rating_set(struct db_conn *c, const char *id, const char *average,
                      int64_t count, const char *event_at) {
  char n[24];
  snprintf(n, sizeof n, "%lld", (long long)count);
  const char *p[] = {id, average, n, event_at};
  return db_exec(c, "product_rating_set", 4, p, NULL);
}
