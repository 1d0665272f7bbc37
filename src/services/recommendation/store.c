/* store.c - the recommendation service's SQL (see store.h). */
#include "services/recommendation/store.h"

#include "services/recommendation/recommendation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)
/* exp(-ln 2 / half-life * age): a score's decay factor since `col`. */
#define DECAY(col)                                                             \
  "exp(-0.6931471805599453 / (" STR(                                           \
      RECO_TRENDING_HALF_LIFE_H) " * 3600.0) * "                               \
                                 "extract(epoch FROM (now() - " col ")))"

/* Co-occurrence cosine of pairs p against item_counts ca (a) and cb (b). */
#define PAIR_COSINE(kind)                                                      \
  "SELECT p.b AS id, p.n AS n, p.n / sqrt(ca.n * cb.n) AS s FROM pairs p "     \
  "JOIN item_counts ca ON ca.kind = '" kind "' AND ca.product_id = p.a "       \
  "JOIN item_counts cb ON cb.kind = '" kind "' AND cb.product_id = p.b "       \
  "WHERE p.kind = '" kind "' AND p.a = $1::uuid"

#define TRENDING_BUMP(ids, weight)                                             \
  "INSERT INTO trending (product_id, score, updated_at) SELECT x, " weight     \
  ", now() FROM " ids " ON CONFLICT (product_id) DO UPDATE SET score = "       \
  "trending.score * " DECAY("trending.updated_at") " + EXCLUDED.score, "       \
                                                   "updated_at = now() "       \
                                                   "RETURNING 1"

#define LIVE "p.status = 'active' AND p.available > 0"

/* A click's weight in trending, by its kind. */
#define CLICK_WEIGHT                                                           \
  "CASE kind WHEN 'add_to_cart' THEN " STR(RECO_WEIGHT_CART) " ELSE " STR(     \
      RECO_WEIGHT_VIEW) " END"

const char reco_read_model_reset[] =
    "TRUNCATE products, purchases, lists, dirty; "
    "DELETE FROM pairs WHERE kind = 'p'; "
    "DELETE FROM item_counts WHERE kind = 'p'; "
    "DELETE FROM trending; "
    "INSERT INTO trending (product_id, score, updated_at) "
    "SELECT product_id, sum(" CLICK_WEIGHT
    " * " DECAY("at") "), now() FROM clicks GROUP BY product_id";

const struct db_statement reco_statements[] = {
    {"product_put",
     "WITH s AS (SELECT $2::jsonb AS d), "
     "old AS (SELECT category_id, brand, colors, sizes, price_minor, status "
     "FROM products WHERE id = $1::uuid), "
     "up AS (INSERT INTO products (id, sku, category_id, brand, color, size, "
     "colors, sizes, price_minor, status, available, doc) SELECT $1::uuid, "
     "coalesce(d->>'sku', ''), (d->>'category_id')::uuid, "
     "coalesce(d->'attributes'->>'brand', ''), "
     "coalesce(d->'attributes'->>'color', ''), "
     "coalesce(d->'attributes'->>'size', ''), "
     "variant_values(d, '{color,colour}'), variant_values(d, '{size}'), "
     "round(coalesce((d->>'price')::numeric, 0) * 100)::bigint, "
     "coalesce(d->>'status', 'active'), "
     "coalesce((d->>'available')::bigint, (d->>'stock')::bigint, 0), "
     "d - 'weight_grams' - 'prices' FROM s "
     "ON CONFLICT (id) DO UPDATE SET sku = EXCLUDED.sku, category_id = "
     "EXCLUDED.category_id, brand = EXCLUDED.brand, color = EXCLUDED.color, "
     "size = EXCLUDED.size, colors = EXCLUDED.colors, sizes = EXCLUDED.sizes, "
     "price_minor = EXCLUDED.price_minor, status = "
     "EXCLUDED.status, available = EXCLUDED.available, doc = EXCLUDED.doc, "
     "updated_at = now() WHERE coalesce(products.doc->>'updated_at', '') <= "
     "coalesce(EXCLUDED.doc->>'updated_at', '') RETURNING id, category_id, "
     "brand, colors, sizes, price_minor, status), "
     /* Its neighbours' content similarity moves with its features: their
      * lists are recomputed too when those changed (or it is new). */
     "nb AS (SELECT p.id FROM products p, up WHERE p.category_id = "
     "up.category_id AND p.id <> up.id AND p.status = 'active' AND NOT EXISTS "
     "(SELECT 1 FROM old WHERE (old.category_id, old.brand, old.colors, "
     "old.sizes, old.price_minor, old.status) IS NOT DISTINCT FROM "
     "(up.category_id, up.brand, up.colors, up.sizes, up.price_minor, "
     "up.status)) LIMIT 200), "
     "d AS (INSERT INTO dirty SELECT id FROM up UNION SELECT id FROM nb "
     "ON CONFLICT DO NOTHING) "
     "SELECT count(*) FROM up"},
    {"product_stock",
     "UPDATE products SET available = $3, doc = jsonb_set(jsonb_set(doc, "
     "'{stock}', to_jsonb($2::bigint)), '{available}', to_jsonb($3::bigint)) "
     "WHERE id = $1::uuid"},
    {"product_stock_delta",
     "UPDATE products SET available = greatest(available + $3, 0), doc = "
     "jsonb_set(jsonb_set(doc, '{stock}', to_jsonb(greatest(coalesce((doc->>"
     "'stock')::bigint, 0) + $2::bigint, 0))), '{available}', "
     "to_jsonb(greatest(available + $3::bigint, 0))) WHERE id = $1::uuid"},
    {"product_status", "SELECT status FROM products WHERE id = $1::uuid"},
    {"variant_owner",
     "SELECT id::text FROM products WHERE doc->'variants' @> "
     "jsonb_build_array(jsonb_build_object('id', $1::text)) LIMIT 1"},
    {"product_count", "SELECT count(*) FROM products"},
    {"order_apply",
     "WITH ids AS (SELECT DISTINCT x FROM unnest($3::uuid[]) x), "
     "bought AS (SELECT least(coalesce($6::timestamptz, now()), now()) AS ts), "
     "buy AS (INSERT INTO purchases (order_id, product_id, user_id, quantity, "
     "purchased_at) SELECT $1::uuid, p, $2::uuid, q, bought.ts FROM bought, "
     "unnest($3::uuid[], $4::int[]) AS t(p, q) ON CONFLICT DO NOTHING "
     "RETURNING 1), "
     "pr AS (INSERT INTO pairs (kind, a, b, n) SELECT 'p', i.x, j.x, 1 "
     "FROM ids i, ids j WHERE i.x <> j.x ON CONFLICT (kind, a, b) DO UPDATE "
     "SET n = pairs.n + 1 RETURNING 1), "
     "ic AS (INSERT INTO item_counts (kind, product_id, n) SELECT 'p', x, 1 "
     "FROM ids ON CONFLICT (kind, product_id) DO UPDATE SET n = "
     "item_counts.n + 1 RETURNING 1), "
     "tr AS (" TRENDING_BUMP(
         "ids", "$5::float8 * (SELECT " DECAY(
                    "ts") " FROM bought)") "), "
                                           "d AS (INSERT INTO dirty SELECT x "
                                           "FROM ids ON CONFLICT DO NOTHING "
                                           "RETURNING 1) "
                                           "SELECT (SELECT count(*) FROM buy)"},
    {"click_apply",
     "WITH fresh AS (SELECT NOT EXISTS (SELECT 1 FROM clicks WHERE actor = $1 "
     "AND product_id = $2::uuid AND at > now() - interval '30 minutes') "
     "AND $1::text IS NOT NULL AS yes), "
     "recent AS (SELECT DISTINCT r.product_id AS x FROM (SELECT product_id "
     "FROM clicks WHERE actor = $1 AND at > now() - interval '30 minutes' "
     "ORDER BY at DESC LIMIT 20) r, fresh WHERE fresh.yes AND r.product_id "
     "<> $2::uuid), "
     "ins AS (INSERT INTO clicks (actor, product_id, kind, variant_id) SELECT "
     "$1, $2::uuid, $3, $5::uuid WHERE $1::text IS NOT NULL RETURNING 1), "
     "pr AS (INSERT INTO pairs (kind, a, b, n) SELECT 'v', a, b, 1 FROM "
     "(SELECT $2::uuid AS a, x AS b FROM recent UNION ALL SELECT x, $2::uuid "
     "FROM recent) q ON CONFLICT (kind, a, b) DO UPDATE SET n = pairs.n + 1 "
     "RETURNING 1), "
     "ic AS (INSERT INTO item_counts (kind, product_id, n) SELECT 'v', "
     "$2::uuid, 1 FROM fresh WHERE fresh.yes ON CONFLICT (kind, product_id) "
     "DO UPDATE SET n = item_counts.n + 1 RETURNING 1), "
     "tr AS (" TRENDING_BUMP("(SELECT $2::uuid AS x) one",
                             "$4::float8") "), "
                                           "d AS (INSERT INTO dirty SELECT x "
                                           "FROM recent UNION SELECT $2::uuid "
                                           "FROM fresh WHERE fresh.yes ON "
                                           "CONFLICT DO NOTHING RETURNING 1) "
                                           "SELECT 1"},
    {"dirty_take",
     "DELETE FROM dirty WHERE product_id IN (SELECT product_id FROM dirty "
     "LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING product_id::text"},
    {"dirty_all",
     "INSERT INTO dirty SELECT id FROM products ON CONFLICT DO NOTHING"},
    {"refresh_bought",
     "INSERT INTO lists (product_id, kind, items, updated_at) "
     "SELECT $1::uuid, 'bought_together', coalesce(jsonb_agg("
     "jsonb_build_object('id', id, 'score', round(s::numeric, 4)) "
     "ORDER BY s DESC, n DESC, id), '[]'::jsonb), now() FROM (" PAIR_COSINE(
         "p") " ORDER BY s DESC, p.n DESC, p.b LIMIT $2) t "
              "ON CONFLICT (product_id, kind) DO UPDATE SET items = "
              "EXCLUDED.items, updated_at = now()"},
    {"refresh_similar",
     "WITH me AS (SELECT id, category_id, brand, colors, sizes, price_minor "
     "FROM products WHERE id = $1::uuid), "
     "content AS (SELECT p.id, (0.5 + CASE WHEN p.brand <> '' AND p.brand = "
     "me.brand THEN 0.25 ELSE 0 END + CASE WHEN abs(ln(greatest("
     "p.price_minor, 1)::float8) - ln(greatest(me.price_minor, 1)::float8)) "
     "< 0.35 THEN 0.15 ELSE 0 END + 0.05 * overlap(p.colors, me.colors) + "
     "0.05 * overlap(p.sizes, me.sizes)) AS s FROM products p, me WHERE "
     "p.category_id = me.category_id AND p.id <> me.id AND p.status = "
     "'active' ORDER BY s DESC, p.id LIMIT 200), "
     "coview AS (" PAIR_COSINE(
         "v") " ORDER BY s DESC, p.b LIMIT 200), "
              "merged AS (SELECT id, sum(s) AS s FROM (SELECT id, 0.5 * s AS s "
              "FROM content UNION ALL SELECT id, 0.5 * s FROM coview) u "
              "GROUP BY id ORDER BY s DESC, id LIMIT $2) "
              "INSERT INTO lists (product_id, kind, items, updated_at) "
              "SELECT $1::uuid, 'similar', coalesce(jsonb_agg("
              "jsonb_build_object('id', id, 'score', round(s::numeric, 4)) "
              "ORDER BY s DESC, id), '[]'::jsonb), now() FROM merged "
              "ON CONFLICT (product_id, kind) DO UPDATE SET items = "
              "EXCLUDED.items, updated_at = now()"},
    {"list_read",
     "SELECT p.id::text, p.doc::text, x.score FROM lists l CROSS JOIN LATERAL "
     "jsonb_to_recordset(l.items) AS x(id uuid, score float8) JOIN products p "
     "ON p.id = x.id WHERE l.product_id = $1::uuid AND l.kind = $2 AND p.id "
     "<> $1::uuid AND " LIVE " ORDER BY x.score DESC, p.id LIMIT $3"},
    {"trending",
     "SELECT p.id::text, p.doc::text, t.score * " DECAY(
         "t.updated_at") " AS s FROM trending t JOIN products p ON p.id = "
                         "t.product_id WHERE " LIVE
                         " ORDER BY s DESC, p.id LIMIT $1"},
    {"newest",
     "SELECT p.id::text, p.doc::text, 0::float8 FROM products p WHERE " LIVE
     " ORDER BY p.updated_at DESC, p.id LIMIT $1"},
    {"personal",
     "WITH hist AS (SELECT product_id, 1.0 AS w FROM (SELECT product_id FROM "
     "purchases WHERE user_id = $1::uuid ORDER BY purchased_at DESC LIMIT 20) "
     "a UNION ALL SELECT product_id, 0.5 FROM (SELECT product_id FROM clicks "
     "WHERE actor = 'u:' || $1 ORDER BY at DESC LIMIT 20) b), "
     "cand AS (SELECT x.id, x.score AS s FROM user_lists u CROSS JOIN LATERAL "
     "jsonb_to_recordset(u.items) AS x(id uuid, score float8) WHERE "
     "u.user_id = $1::uuid UNION ALL SELECT x.id, x.score * h.w * CASE l.kind "
     "WHEN 'bought_together' THEN 1.0 ELSE 0.6 END FROM hist h JOIN lists l "
     "ON l.product_id = h.product_id CROSS JOIN LATERAL "
     "jsonb_to_recordset(l.items) AS x(id uuid, score float8)), "
     "best AS (SELECT id, sum(s) AS s FROM cand WHERE id NOT IN (SELECT "
     "product_id FROM purchases WHERE user_id = $1::uuid) GROUP BY id) "
     "SELECT p.id::text, p.doc::text, round(b.s::numeric, 4)::float8 FROM "
     "best b JOIN products p ON p.id = b.id WHERE " LIVE
     " ORDER BY b.s DESC, p.id LIMIT $2"},
    {"bought",
     "SELECT DISTINCT product_id::text FROM purchases WHERE user_id = "
     "$1::uuid"},
    {"interactions",
     "SELECT user_id::text, product_id::text, count(*)::float8 FROM purchases "
     "GROUP BY user_id, product_id UNION ALL SELECT substr(actor, 3), "
     "product_id::text, sum(CASE kind WHEN 'add_to_cart' THEN 0.5 ELSE 0.1 "
     "END)::float8 FROM clicks WHERE actor LIKE 'u:%' AND at > now() - "
     "interval '90 days' GROUP BY actor, product_id"},
    {"active_ids",
     "SELECT id::text FROM products WHERE status = 'active' ORDER BY id"},
    {"user_lists_put",
     "INSERT INTO user_lists (user_id, items, trained_at) SELECT key::uuid, "
     "value, now() FROM jsonb_each($1::jsonb) ON CONFLICT (user_id) DO UPDATE "
     "SET items = EXCLUDED.items, trained_at = now()"},
    {"model_run_put",
     "UPDATE model_runs SET trained_at = now(), users = $1, items = $2, "
     "interactions = $3 WHERE id = 1"},
    {"demo_count",
     "SELECT (SELECT count(*) FROM demo_orders) + (SELECT count(*) FROM "
     "purchases WHERE user_id::text LIKE '00000000-0000-4000-8000-%')"},
    {"demo_insert",
     "INSERT INTO demo_orders (shopper, order_no, sku) SELECT (e->>0)::int, "
     "(e->>1)::int, e->>2 FROM jsonb_array_elements($1::jsonb) e "
     "ON CONFLICT DO NOTHING"},
    {"demo_take",
     "WITH o AS (SELECT DISTINCT d.shopper, d.order_no FROM demo_orders d "
     "JOIN products p ON p.sku = d.sku ORDER BY 1, 2 LIMIT $1), "
     "taken AS (DELETE FROM demo_orders d USING o WHERE d.shopper = o.shopper "
     "AND d.order_no = o.order_no RETURNING d.shopper, d.order_no, d.sku) "
     "SELECT DISTINCT t.shopper, t.order_no, p.id::text FROM taken t JOIN "
     "products p ON p.sku = t.sku ORDER BY 1, 2, 3"},
};
_Static_assert(sizeof reco_statements / sizeof reco_statements[0] ==
                   RECO_STATEMENT_COUNT,
               "RECO_STATEMENT_COUNT is the number of statements");

/* --- helpers ----------------------------------------------------------------
 */

static int count_query(struct db_conn *c, const char *name, long long *out) {
  struct db_result *r = NULL;
  int rc = db_exec(c, name, 0, NULL, &r);
  if (rc > 0) *out = (long long)db_result_int64(r, 0, 0);
  db_result_free(r);
  return rc;
}

/* A PostgreSQL array literal of uuids or integers: {a,b,c}. */
static char *array_literal(struct arena *a, const char *const *s,
                           const int *ints, size_t n) {
  size_t cap = 3 + n * 40;
  char *out = arena_alloc(a, cap);
  if (out == NULL) return NULL;
  size_t len = 0;
  out[len++] = '{';
  for (size_t i = 0; i < n; i++) {
    if (i) out[len++] = ',';
    int w = s != NULL ? snprintf(out + len, cap - len, "%s", s[i])
                      : snprintf(out + len, cap - len, "%d", ints[i]);
    if (w < 0 || (size_t)w >= cap - len) return NULL;
    len += (size_t)w;
  }
  out[len++] = '}';
  out[len] = '\0';
  return out;
}

static int read_rows(struct arena *a, struct db_result *r,
                     struct reco_row **rows) {
  int n = db_result_rows(r);
  struct reco_row *out = arena_alloc(a, sizeof *out * (size_t)(n ? n : 1));
  if (out == NULL) return DB_HARD_ERROR;
  for (int i = 0; i < n; i++) {
    out[i].id = arena_strdup(a, db_result_text(r, i, 0));
    out[i].doc = arena_strdup(a, db_result_text(r, i, 1));
    out[i].score = strtod(db_result_text(r, i, 2), NULL);
    if (out[i].id == NULL || out[i].doc == NULL) return DB_HARD_ERROR;
  }
  *rows = out;
  return n;
}

static int rows_query(struct db_conn *c, struct arena *a, const char *name,
                      int nparams, const char *const *p,
                      struct reco_row **rows) {
  struct db_result *r = NULL;
  int rc = db_exec(c, name, nparams, p, &r);
  if (rc >= 0) rc = read_rows(a, r, rows);
  db_result_free(r);
  return rc;
}

static int ids_query(struct db_conn *c, struct arena *a, const char *name,
                     int nparams, const char *const *p, const char ***ids) {
  struct db_result *r = NULL;
  int rc = db_exec(c, name, nparams, p, &r);
  if (rc >= 0) {
    int n = db_result_rows(r);
    const char **out = arena_alloc(a, sizeof *out * (size_t)(n ? n : 1));
    if (out == NULL) rc = DB_HARD_ERROR;
    for (int i = 0; out != NULL && i < n; i++)
      if ((out[i] = arena_strdup(a, db_result_text(r, i, 0))) == NULL)
        rc = DB_HARD_ERROR;
    if (rc >= 0) *ids = out;
  }
  db_result_free(r);
  return rc;
}

/* --- the snapshot ----------------------------------------------------------
 */

int rstore_product_put(struct db_conn *c, const char *id, const char *doc) {
  const char *p[] = {id, doc};
  return db_exec(c, "product_put", 2, p, NULL);
}

int rstore_product_stock(struct db_conn *c, const char *id, long long stock,
                         long long available) {
  char s[24], v[24];
  snprintf(s, sizeof s, "%lld", stock);
  snprintf(v, sizeof v, "%lld", available);
  const char *p[] = {id, s, v};
  return db_exec(c, "product_stock", 3, p, NULL);
}

int rstore_product_stock_delta(struct db_conn *c, const char *id,
                               long long delta_stock,
                               long long delta_available) {
  char s[24], v[24];
  snprintf(s, sizeof s, "%lld", delta_stock);
  snprintf(v, sizeof v, "%lld", delta_available);
  const char *p[] = {id, s, v};
  return db_exec(c, "product_stock_delta", 3, p, NULL);
}

/* The first column of the first row of a one-parameter query (arena), if
 * any: 1 with *out set, 0 without a row. */
static int text_query(struct db_conn *c, struct arena *a, const char *name,
                      const char *param, const char **out) {
  const char *p[] = {param};
  struct db_result *r = NULL;
  int rc = db_exec(c, name, 1, p, &r);
  if (rc > 0) {
    *out = arena_strdup(a, db_result_text(r, 0, 0));
    if (*out == NULL) rc = DB_HARD_ERROR;
  }
  db_result_free(r);
  return rc;
}

int rstore_product_status(struct db_conn *c, struct arena *a, const char *id,
                          const char **status) {
  return text_query(c, a, "product_status", id, status);
}

int rstore_variant_owner(struct db_conn *c, struct arena *a,
                         const char *variant_id, const char **product_id) {
  return text_query(c, a, "variant_owner", variant_id, product_id);
}

int rstore_product_count(struct db_conn *c, long long *count) {
  return count_query(c, "product_count", count);
}

/* --- signals
 * ------------------------------------------------------------------ */

int rstore_order_apply(struct db_conn *c, const char *order_id,
                       const char *user_id, const char *const *ids,
                       const int *quantities, size_t n, double weight,
                       const char *at) {
  struct arena a;
  arena_init(&a, 4096);
  char w[32];
  snprintf(w, sizeof w, "%.6f", weight);
  const char *p[] = {order_id,
                     user_id,
                     array_literal(&a, ids, NULL, n),
                     array_literal(&a, NULL, quantities, n),
                     w,
                     at};
  int rc = p[2] != NULL && p[3] != NULL ? db_exec(c, "order_apply", 6, p, NULL)
                                        : DB_HARD_ERROR;
  arena_free(&a);
  return rc;
}

int rstore_click_apply(struct db_conn *c, const char *actor,
                       const char *product_id, const char *variant_id,
                       const char *kind, double weight) {
  char w[32];
  snprintf(w, sizeof w, "%.6f", weight);
  const char *p[] = {actor, product_id, kind, w, variant_id};
  return db_exec(c, "click_apply", 5, p, NULL);
}

/* --- precomputation ---------------------------------------------------------
 */

int rstore_dirty_take(struct db_conn *c, struct arena *a, int limit,
                      const char ***ids) {
  char l[16];
  snprintf(l, sizeof l, "%d", limit);
  const char *p[] = {l};
  return ids_query(c, a, "dirty_take", 1, p, ids);
}

int rstore_dirty_all(struct db_conn *c) {
  return db_exec(c, "dirty_all", 0, NULL, NULL);
}

int rstore_refresh_bought(struct db_conn *c, const char *id, int n) {
  char l[16];
  snprintf(l, sizeof l, "%d", n);
  const char *p[] = {id, l};
  return db_exec(c, "refresh_bought", 2, p, NULL);
}

int rstore_refresh_similar(struct db_conn *c, const char *id, int n) {
  char l[16];
  snprintf(l, sizeof l, "%d", n);
  const char *p[] = {id, l};
  return db_exec(c, "refresh_similar", 2, p, NULL);
}

/* --- reads -------------------------------------------------------------------
 */

int rstore_list_read(struct db_conn *c, struct arena *a, const char *id,
                     const char *kind, int limit, struct reco_row **rows) {
  char l[16];
  snprintf(l, sizeof l, "%d", limit);
  const char *p[] = {id, kind, l};
  return rows_query(c, a, "list_read", 3, p, rows);
}

int rstore_trending(struct db_conn *c, struct arena *a, int limit,
                    struct reco_row **rows) {
  char l[16];
  snprintf(l, sizeof l, "%d", limit);
  const char *p[] = {l};
  return rows_query(c, a, "trending", 1, p, rows);
}

int rstore_newest(struct db_conn *c, struct arena *a, int limit,
                  struct reco_row **rows) {
  char l[16];
  snprintf(l, sizeof l, "%d", limit);
  const char *p[] = {l};
  return rows_query(c, a, "newest", 1, p, rows);
}

int rstore_personal(struct db_conn *c, struct arena *a, const char *user_id,
                    int limit, struct reco_row **rows) {
  char l[16];
  snprintf(l, sizeof l, "%d", limit);
  const char *p[] = {user_id, l};
  return rows_query(c, a, "personal", 2, p, rows);
}

int rstore_bought(struct db_conn *c, struct arena *a, const char *user_id,
                  const char ***ids) {
  const char *p[] = {user_id};
  return ids_query(c, a, "bought", 1, p, ids);
}

/* --- training ---------------------------------------------------------------
 */

int rstore_interactions(struct db_conn *c, struct arena *a,
                        struct reco_interaction **rows) {
  struct db_result *r = NULL;
  int rc = db_exec(c, "interactions", 0, NULL, &r);
  if (rc >= 0) {
    int n = db_result_rows(r);
    struct reco_interaction *out =
        arena_alloc(a, sizeof *out * (size_t)(n ? n : 1));
    if (out == NULL) rc = DB_HARD_ERROR;
    for (int i = 0; out != NULL && i < n; i++) {
      out[i].user_id = arena_strdup(a, db_result_text(r, i, 0));
      out[i].product_id = arena_strdup(a, db_result_text(r, i, 1));
      out[i].weight = strtod(db_result_text(r, i, 2), NULL);
      if (out[i].user_id == NULL || out[i].product_id == NULL)
        rc = DB_HARD_ERROR;
    }
    if (rc >= 0) *rows = out;
  }
  db_result_free(r);
  return rc;
}

int rstore_active_ids(struct db_conn *c, struct arena *a, const char ***ids) {
  return ids_query(c, a, "active_ids", 0, NULL, ids);
}

int rstore_user_lists_put(struct db_conn *c, const char *json) {
  const char *p[] = {json};
  return db_exec(c, "user_lists_put", 1, p, NULL);
}

int rstore_model_run_put(struct db_conn *c, int users, int items,
                         int interactions) {
  char u[16], i[16], n[16];
  snprintf(u, sizeof u, "%d", users);
  snprintf(i, sizeof i, "%d", items);
  snprintf(n, sizeof n, "%d", interactions);
  const char *p[] = {u, i, n};
  return db_exec(c, "model_run_put", 3, p, NULL);
}

/* --- the demo history ---------------------------------------------------- */

int rstore_demo_count(struct db_conn *c, long long *count) {
  return count_query(c, "demo_count", count);
}

int rstore_demo_insert(struct db_conn *c, const char *json) {
  const char *p[] = {json};
  return db_exec(c, "demo_insert", 1, p, NULL);
}

int rstore_demo_take(struct db_conn *c, struct arena *a, int orders,
                     struct reco_demo_line **lines) {
  char l[16];
  snprintf(l, sizeof l, "%d", orders);
  const char *p[] = {l};
  struct db_result *r = NULL;
  int rc = db_exec(c, "demo_take", 1, p, &r);
  if (rc >= 0) {
    int n = db_result_rows(r);
    struct reco_demo_line *out =
        arena_alloc(a, sizeof *out * (size_t)(n ? n : 1));
    if (out == NULL) rc = DB_HARD_ERROR;
    for (int i = 0; out != NULL && i < n; i++) {
      out[i].shopper = (int)db_result_int64(r, i, 0);
      out[i].order_no = (int)db_result_int64(r, i, 1);
      out[i].product_id = arena_strdup(a, db_result_text(r, i, 2));
      if (out[i].product_id == NULL) rc = DB_HARD_ERROR;
    }
    if (rc >= 0) *lines = out;
  }
  db_result_free(r);
  return rc;
}
