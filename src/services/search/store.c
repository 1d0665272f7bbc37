/* store.c - the PostgreSQL search backend (full-text search with weighted
 * tsvectors, GIN indexes, facets in one round trip) and the service's
 * bookkeeping tables. Schema: migrations/001_init.sql; the columns of a
 * document are computed by its SQL function document_row(), so the event
 * path and the reindex build index the same way. */
#include "services/search/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/search/backend.h"

#define TS(col)                                                                \
  "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

const char *const search_price_bounds[SEARCH_PRICE_BUCKETS + 1] = {
    "0", "25", "50", "100", "200", "500", NULL};

/* Every column of documents but the key, from the row being inserted. */
#define DOC_SET                                                                \
  "doc = excluded.doc, name = excluded.name, brand = excluded.brand, "         \
  "color = excluded.color, size = excluded.size, "                             \
  "category_id = excluded.category_id, category_ids = excluded.category_ids, " \
  "category_names = excluded.category_names, price = excluded.price, "         \
  "currency = excluded.currency, stock = excluded.stock, "                     \
  "available = excluded.available, rating_average = excluded.rating_average, " \
  "rating_count = excluded.rating_count, popularity = excluded.popularity, "   \
  "created_at = excluded.created_at, updated_at = excluded.updated_at, "       \
  "tsv = excluded.tsv, words = excluded.words, colors = excluded.colors, "     \
  "sizes = excluded.sizes, prices = coalesce(excluded.prices, "                \
  "documents.prices) "

#define NEWER_TOMBSTONE                                                        \
  "NOT EXISTS (SELECT 1 FROM tombstones t WHERE t.product_id = r.product_id "  \
  "AND t.updated_at > r.updated_at) "

/* --- the query: $1 head, $2 last (tsquery texts), $3 category, $4 brand,
 * $5 color, $6 size, $7/$8 price bounds, $9 in stock, $10 sort, $11 limit,
 * $12 offset, $13 currency. m holds every match of the words and the
 * filters that are not facets, with one flag per facet filter; each facet
 * counts the rows passing every flag but its own (disjunctive facets). */
/* The price in the asked currency ($13): the product's own when it is in
 * that currency (or none was asked), else its price list's, else NULL. */
#define PRICE_IN                                                               \
  "(CASE WHEN $13::text IS NULL OR d.currency = $13::text THEN d.price "       \
  "ELSE (d.prices->>$13::text)::numeric END)"
#define MATCH_COLS                                                             \
  "d.product_id, d.brand, d.colors, d.sizes, d.category_id, " PRICE_IN         \
  " AS price, "                                                                \
  "d.created_at, d.rating_average, "                                           \
  "($3::uuid IS NULL OR d.category_ids @> ARRAY[$3::uuid]) AS f_cat, "         \
  "($4::text IS NULL OR lower(d.brand) = lower($4::text)) AS f_brand, "        \
  "($5::text IS NULL OR lower($5::text) = ANY(SELECT lower(x) FROM "           \
  "unnest(d.colors) x)) AS f_color, "                                          \
  "($6::text IS NULL OR lower($6::text) = ANY(SELECT lower(x) FROM "           \
  "unnest(d.sizes) x)) AS f_size, "                                            \
  "(($7::numeric IS NULL OR " PRICE_IN " >= $7::numeric) AND "                 \
  " ($8::numeric IS NULL OR " PRICE_IN " <= $8::numeric)) AS f_price, "
#define MATCH_WHERE                                                            \
  " ($9::boolean IS NULL OR (d.available > 0) = $9::boolean) "                 \
  "AND ($13::text IS NULL OR d.currency = $13::text OR "                       \
  "d.prices ? $13::text) "
#define ALL_FLAGS "f_cat AND f_brand AND f_color AND f_size AND f_price"
#define ORDER                                                                  \
  "CASE WHEN $10 = 'price_asc' THEN m.price END ASC, "                         \
  "CASE WHEN $10 = 'price_desc' THEN m.price END DESC, "                       \
  "CASE WHEN $10 = 'newest' THEN m.created_at END DESC, "                      \
  "CASE WHEN $10 = 'rating' THEN coalesce(m.rating_average, 0) END DESC, "     \
  "m.score DESC, m.product_id"
#define VALUE_FACET(col, flags)                                                \
  "(SELECT coalesce(json_agg(json_build_object('value', f.v, 'count', f.c) "   \
  "ORDER BY f.c DESC, f.v), '[]')::text FROM (SELECT m." col                   \
  " AS v, count(*) AS c FROM m WHERE m." col " IS NOT NULL AND " flags         \
  " GROUP BY m." col " ORDER BY count(*) DESC, m." col " LIMIT 20) f)"
/* A facet over a list column (a product's colours and sizes, its variants'
 * included): a product counts once under each of its values. */
#define LIST_FACET(col, flags)                                                 \
  "(SELECT coalesce(json_agg(json_build_object('value', f.v, 'count', f.c) "   \
  "ORDER BY f.c DESC, f.v), '[]')::text FROM (SELECT min(x.v) AS v, "          \
  "count(*) AS c FROM m CROSS JOIN LATERAL unnest(m." col                      \
  ") x(v) WHERE " flags                                                        \
  " GROUP BY lower(x.v) ORDER BY count(*) DESC, min(x.v) LIMIT 20) f)"
#define TAIL                                                                                                                                              \
  "SELECT (SELECT count(*) FROM m WHERE " ALL_FLAGS "), "                                                                                                 \
  "(SELECT coalesce(json_agg(d.doc || jsonb_build_object('stock', d.stock, "                                                                              \
  "'available', d.available, 'score', round(p.score::numeric, 6), "                                                                                       \
  "'rating_average', d.rating_average::text, 'rating_count', "                                                                                            \
  "d.rating_count) || CASE WHEN $13::text IS NOT NULL AND d.currency <> "                                                                                 \
  "$13::text THEN jsonb_build_object('price', d.prices->>$13::text, "                                                                                     \
  "'currency', $13::text) ELSE '{}'::jsonb END ORDER BY p.n), '[]')::text "                                                                               \
  "FROM (SELECT m.product_id, "                                                                                                                           \
  "m.score, row_number() OVER (ORDER BY " ORDER                                                                                                           \
  ") AS n FROM m WHERE " ALL_FLAGS " ORDER BY " ORDER                                                                                                     \
  " LIMIT $11 OFFSET $12) p "                                                                                                                             \
  "JOIN documents d ON d.product_id = p.product_id), " VALUE_FACET("brand", "f_cat AND f_color AND f_size AND f_price") ", " LIST_FACET(                  \
      "colors",                                                                                                                                           \
      "f_cat AND f_brand AND f_size AND f_price") ", " LIST_FACET("sizes",                                                                                \
                                                                  "f_cat "                                                                                \
                                                                  "AND "                                                                                  \
                                                                  "f_brand "                                                                              \
                                                                  "AND "                                                                                  \
                                                                  "f_color "                                                                              \
                                                                  "AND "                                                                                  \
                                                                  "f_price") ", "                                                                         \
                                                                             "(SELECT coalesce(json_agg(json_build_object('id', f.v, 'name', "            \
                                                                             "coalesce(c.name, ''), 'count', f.c) ORDER BY f.c DESC, c.name), "           \
                                                                             "'[]')::text FROM (SELECT m.category_id AS v, count(*) AS c FROM m WHERE "   \
                                                                             "f_brand AND f_color AND f_size AND f_price GROUP BY m.category_id "         \
                                                                             "ORDER BY count(*) DESC LIMIT 30) f LEFT JOIN categories c ON c.id = f.v), " \
                                                                             "(SELECT coalesce(array_agg(f.b || ':' || f.c), '{}')::text FROM (SELECT "   \
                                                                             "width_bucket(m.price, '" SEARCH_PRICE_BOUNDS                                \
                                                                             "'::numeric[]) AS b, "                                                       \
                                                                             "count(*) AS c FROM m WHERE f_cat AND f_brand AND f_color AND f_size "       \
                                                                             "GROUP BY 1) f)"

#define BUMP "UPDATE meta SET value = value + 1 WHERE key = 'generation'"

const struct db_statement search_statements[] = {
    /* --- index --- */
    {"doc_put",
     "WITH ins AS (INSERT INTO documents SELECT r.* FROM "
     "document_row($1::jsonb, $2::timestamptz) r WHERE " NEWER_TOMBSTONE
     "ON CONFLICT (product_id) DO UPDATE SET " DOC_SET
     "WHERE documents.updated_at <= excluded.updated_at RETURNING 1), "
     "gone AS (DELETE FROM tombstones t WHERE t.product_id = ($1::jsonb->>'id')"
     "::uuid AND t.updated_at <= ($1::jsonb->>'updated_at')::timestamptz), "
     "bump AS (" BUMP ") SELECT count(*) FROM ins"},
    {"doc_remove",
     "WITH t AS (INSERT INTO tombstones (product_id, updated_at) VALUES "
     "($1::uuid, $2::timestamptz) ON CONFLICT (product_id) DO UPDATE SET "
     "updated_at = greatest(tombstones.updated_at, excluded.updated_at)), "
     "del AS (DELETE FROM documents WHERE product_id = $1::uuid AND "
     "updated_at <= $2::timestamptz RETURNING 1), "
     "bump AS (" BUMP ") SELECT count(*) FROM del"},
    {"doc_stock",
     "WITH s AS (INSERT INTO signals (product_id, stock, available, stock_at) "
     "VALUES ($1::uuid, $2, $3, $4::timestamptz) ON CONFLICT (product_id) DO "
     "UPDATE SET stock = excluded.stock, available = excluded.available, "
     "stock_at = excluded.stock_at WHERE signals.stock_at IS NULL OR "
     "signals.stock_at <= excluded.stock_at RETURNING 1) "
     "UPDATE documents SET stock = $2, available = $3 WHERE product_id = "
     "$1::uuid AND EXISTS (SELECT 1 FROM s)"},
    {"doc_rating",
     "WITH s AS (INSERT INTO signals (product_id, rating_average, "
     "rating_count) VALUES ($1::uuid, $2::numeric, $3) ON CONFLICT "
     "(product_id) DO UPDATE SET rating_average = excluded.rating_average, "
     "rating_count = excluded.rating_count) "
     "UPDATE documents SET rating_average = $2::numeric, rating_count = $3 "
     "WHERE product_id = $1::uuid"},
    {"doc_popularity",
     "WITH s AS (INSERT INTO signals (product_id, popularity) VALUES "
     "($1::uuid, $2) ON CONFLICT (product_id) DO UPDATE SET popularity = "
     "signals.popularity + excluded.popularity) "
     "UPDATE documents SET popularity = popularity + $2 WHERE product_id = "
     "$1::uuid"},
    {"category_put",
     "INSERT INTO categories (id, name, parent_id, path) VALUES ($1::uuid, $2, "
     "$3::uuid, $4) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
     "parent_id = excluded.parent_id, path = excluded.path"},
    {"category_has", "SELECT 1 FROM categories WHERE id = $1::uuid"},
    /* a category renamed or moved: the columns its documents (and its
     * descendants' documents) derive from the tree, recomputed */
    {"category_docs",
     "WITH u AS (UPDATE documents d SET category_ids = r.category_ids, "
     "category_names = r.category_names, tsv = r.tsv, words = r.words FROM "
     "documents o CROSS JOIN LATERAL document_row(o.doc, o.updated_at) r "
     "WHERE d.product_id = o.product_id AND o.category_ids @> "
     "ARRAY[$1::uuid] RETURNING 1), bump AS (" BUMP ") SELECT count(*) FROM u"},
    {"category_remove", "DELETE FROM categories WHERE id = $1::uuid"},
    /* --- rebuild --- */
    {"staging_put",
     "INSERT INTO staging (product_id, doc) SELECT (e->>'id')::uuid, e FROM "
     "jsonb_array_elements($1::jsonb) e WHERE e->>'status' = 'active' "
     "ON CONFLICT (product_id) DO UPDATE SET doc = excluded.doc, "
     "fetched_at = excluded.fetched_at"},
    {"bulk_upsert",
     "INSERT INTO documents SELECT r.* FROM staging st CROSS JOIN LATERAL "
     "document_row(st.doc, st.fetched_at) r WHERE " NEWER_TOMBSTONE
     "ON CONFLICT (product_id) DO UPDATE SET " DOC_SET
     "WHERE documents.updated_at <= excluded.updated_at"},
    {"bulk_prune",
     "DELETE FROM documents d WHERE NOT EXISTS (SELECT 1 FROM staging st "
     "WHERE st.product_id = d.product_id) AND d.updated_at < $1::timestamptz"},
    {"bulk_done", "WITH bump AS (" BUMP ") SELECT count(*) FROM documents"},
    /* --- query --- */
    {"query_words",
     "WITH q AS MATERIALIZED (SELECT (CASE WHEN $1::text = '' THEN "
     "''::tsquery ELSE to_tsquery('shop', $1::text) END) && "
     "(to_tsquery('shop', $2::text) || to_tsquery('shop_simple', $2::text)) "
     "AS tq), m AS MATERIALIZED (SELECT " MATCH_COLS
     "(ts_rank(d.tsv, q.tq) * (1 + ln(1 + d.popularity) / 20))::float8 AS "
     "score FROM q JOIN documents d ON d.tsv @@ q.tq WHERE " MATCH_WHERE
     ") " TAIL},
    {"query_browse",
     "WITH m AS MATERIALIZED (SELECT " MATCH_COLS
     "(ln(2 + d.popularity) + coalesce(d.rating_average, 0) / 10)::float8 "
     "AS score FROM documents d WHERE " MATCH_WHERE
     "AND ($1::text IS NULL OR $2::text IS NULL OR true)) " TAIL},
    /* --- lexicon --- */
    {"lex_words", "SELECT word, ndoc FROM ts_stat('SELECT words FROM "
                  "documents') WHERE length(word) <= 48"},
    {"lex_products",
     "SELECT product_id::text, name, popularity FROM documents"},
    {"lex_brands", "SELECT brand, count(*) FROM documents WHERE brand IS NOT "
                   "NULL GROUP BY brand"},
    {"lex_categories",
     "SELECT c.id::text, c.name, (SELECT count(*) FROM documents d WHERE "
     "d.category_ids @> ARRAY[c.id]) FROM categories c"},
    {"lex_synonyms", "SELECT array_to_json(terms)::text FROM synonym_groups "
                     "ORDER BY position"},
    {"generation", "SELECT value FROM meta WHERE key = 'generation'"},
    /* --- bookkeeping --- */
    {"synonyms_get",
     "SELECT coalesce(json_agg(array_to_json(terms) ORDER BY position), "
     "'[]')::text FROM synonym_groups"},
    {"synonyms_clear", "DELETE FROM synonym_groups"},
    {"synonyms_insert",
     "INSERT INTO synonym_groups (position, terms) SELECT x.n, ARRAY(SELECT "
     "jsonb_array_elements_text(x.g)) FROM jsonb_array_elements($1::jsonb) "
     "WITH ORDINALITY AS x(g, n)"},
    {"bump", BUMP},
    {"queries_add",
     "INSERT INTO query_stats AS s (day, query, searches, zero_results, "
     "last_searched_at) SELECT ((e->>'at')::timestamptz AT TIME ZONE "
     "'UTC')::date, e->>'q', (e->>'n')::bigint, (e->>'z')::bigint, "
     "(e->>'at')::timestamptz FROM jsonb_array_elements($1::jsonb) e "
     "ON CONFLICT (day, query) DO UPDATE SET searches = s.searches + "
     "excluded.searches, zero_results = s.zero_results + "
     "excluded.zero_results, last_searched_at = greatest(s.last_searched_at, "
     "excluded.last_searched_at)"},
    {"queries_report",
     "SELECT coalesce(json_agg(json_build_object('query', r.query, 'count', "
     "r.n, 'last_searched_at', " TS(
         "r.last") ") ORDER BY r.n DESC, "
                   "r.query), '[]')::text FROM (SELECT query, sum(CASE WHEN $1 "
                   "= 'top' "
                   "THEN searches ELSE zero_results END) AS n, "
                   "max(last_searched_at) AS "
                   "last FROM query_stats WHERE day >= $2::date AND day < "
                   "$3::date GROUP "
                   "BY query HAVING sum(CASE WHEN $1 = 'top' THEN searches "
                   "ELSE "
                   "zero_results END) > 0 ORDER BY 2 DESC, query LIMIT $4) r"},
    {"job_create",
     "INSERT INTO reindex_jobs (id, status) VALUES ($1::uuid, 'running')"},
    {"job_progress",
     "UPDATE reindex_jobs SET done = $2, total = $3 WHERE id = $1::uuid"},
    {"job_finish",
     "UPDATE reindex_jobs SET status = $2, error = $3, finished_at = now() "
     "WHERE id = $1::uuid"},
    {"job_get",
     "SELECT json_build_object('id', id, 'status', status, 'total', total, "
     "'done', done, 'error', error, 'started_at', " TS(
         "started_at") ", 'finished_at', " TS("finished_at") ")::text FROM "
                                                             "reindex_jobs "
                                                             "WHERE "
                                                             "id = $1::uuid"},
    {"job_running",
     "SELECT id::text FROM reindex_jobs WHERE status = 'running' AND "
     "started_at > now() - interval '1 hour' ORDER BY started_at DESC "
     "LIMIT 1"},
    {"document_count", "SELECT count(*) FROM documents"},
};
_Static_assert(sizeof search_statements / sizeof search_statements[0] ==
                   SEARCH_STATEMENT_COUNT,
               "SEARCH_STATEMENT_COUNT (store.h) must count the statements");

#define ACQUIRE_MS 3000

/* Runs a statement on a pooled connection; *out as db_exec. */
static int run(struct db_pool *pool, const char *stmt, int n,
               const char *const *p, struct db_result **out) {
  if (out != NULL) *out = NULL;
  struct db_conn *c = db_acquire(pool, ACQUIRE_MS);
  if (c == NULL) return DB_UNAVAILABLE;
  int rc = db_exec(c, stmt, n, p, out);
  db_release(pool, c);
  return rc;
}

/* A single text value (arena copy) of a one-row statement. */
static int run_text(struct db_pool *pool, struct arena *a, const char *stmt,
                    int n, const char *const *p, const char **out) {
  struct db_result *r = NULL;
  int rc = run(pool, stmt, n, p, &r);
  *out = NULL;
  if (rc > 0 && !db_result_is_null(r, 0, 0)) {
    *out = arena_strdup(a, db_result_text(r, 0, 0));
    if (*out == NULL) rc = DB_HARD_ERROR;
  }
  db_result_free(r);
  return rc;
}

/* --- the backend: index ------------------------------------------------- */

static int pg_put(struct db_conn *tx, const char *doc, const char *at) {
  const char *p[] = {doc, at};
  return db_exec(tx, "doc_put", 2, p, NULL);
}

static int pg_remove(struct db_conn *tx, const char *id,
                     const char *updated_at) {
  const char *p[] = {id, updated_at};
  return db_exec(tx, "doc_remove", 2, p, NULL);
}

static int pg_set_stock(struct db_conn *tx, const char *id, int64_t stock,
                        int64_t available, const char *at) {
  char s[24], v[24];
  snprintf(s, sizeof s, "%" PRId64, stock);
  snprintf(v, sizeof v, "%" PRId64, available);
  const char *p[] = {id, s, v, at};
  return db_exec(tx, "doc_stock", 4, p, NULL);
}

static int pg_set_rating(struct db_conn *tx, const char *id,
                         const char *average, int64_t count) {
  char n[24];
  snprintf(n, sizeof n, "%" PRId64, count);
  const char *p[] = {id, average, n};
  return db_exec(tx, "doc_rating", 3, p, NULL);
}

static int pg_add_popularity(struct db_conn *tx, const char *id,
                             int64_t units) {
  char n[24];
  snprintf(n, sizeof n, "%" PRId64, units);
  const char *p[] = {id, n};
  return db_exec(tx, "doc_popularity", 2, p, NULL);
}

static int pg_put_category(struct db_conn *tx, const char *id, const char *name,
                           const char *parent_id, const char *path) {
  const char *p[] = {id, name, parent_id, path};
  return db_exec(tx, "category_put", 4, p, NULL);
}

static int pg_recategorize(struct db_conn *tx, const char *id) {
  const char *p[] = {id};
  return db_exec(tx, "category_docs", 1, p, NULL);
}

static int pg_remove_category(struct db_conn *tx, const char *id) {
  const char *p[] = {id};
  return db_exec(tx, "category_remove", 1, p, NULL);
}

static int pg_has_category(struct db_conn *tx, const char *id) {
  const char *p[] = {id};
  return db_exec(tx, "category_has", 1, p, NULL);
}

/* --- the backend: rebuild ----------------------------------------------- */

static int pg_bulk_begin(struct db_pool *pool) {
  struct db_conn *c = db_acquire(pool, ACQUIRE_MS);
  if (c == NULL) return DB_UNAVAILABLE;
  int rc = db_exec_sql(c, "TRUNCATE staging");
  db_release(pool, c);
  return rc;
}

static int pg_bulk_page(struct db_pool *pool, const char *products) {
  const char *p[] = {products};
  return run(pool, "staging_put", 1, p, NULL);
}

struct commit_arg {
  const char *started_at;
  int64_t count;
};

static int commit_tx(struct db_conn *c, void *arg) {
  struct commit_arg *ca = arg;
  /* Event writes wait while the index is rewritten; reads go on from the
   * rows as they were until COMMIT. */
  int rc = db_exec_sql(c, "LOCK TABLE documents IN EXCLUSIVE MODE");
  if (rc < 0) return rc;
  rc = db_exec(c, "bulk_upsert", 0, NULL, NULL);
  if (rc < 0) return rc;
  const char *p[] = {ca->started_at};
  rc = db_exec(c, "bulk_prune", 1, p, NULL);
  if (rc < 0) return rc;
  struct db_result *r = NULL;
  rc = db_exec(c, "bulk_done", 0, NULL, &r);
  if (rc > 0) ca->count = db_result_int64(r, 0, 0);
  db_result_free(r);
  return rc;
}

static int pg_bulk_commit(struct db_pool *pool, const char *started_at,
                          int64_t *count) {
  struct commit_arg ca = {started_at, 0};
  int rc = db_transaction(pool, DB_READ_COMMITTED, commit_tx, &ca);
  if (rc >= 0) {
    *count = ca.count;
    struct db_conn *c = db_acquire(pool, ACQUIRE_MS);
    if (c != NULL) {
      db_exec_sql(c, "TRUNCATE staging");
      db_release(pool, c);
    }
  }
  return rc;
}

/* --- the backend: query ------------------------------------------------- */

static const char *const sort_names[] = {"relevance", "price_asc", "price_desc",
                                         "newest", "rating"};

static int pg_query(struct db_pool *pool, const struct search_request *r,
                    struct arena *a, struct search_result *out) {
  memset(out, 0, sizeof *out);
  char limit[16], offset[16];
  snprintf(limit, sizeof limit, "%d", r->limit);
  snprintf(offset, sizeof offset, "%d", r->offset);
  const char *p[] = {r->head,
                     r->last,
                     r->category_id,
                     r->brand,
                     r->color,
                     r->size,
                     r->min_price,
                     r->max_price,
                     r->in_stock < 0 ? NULL
                     : r->in_stock   ? "true"
                                     : "false",
                     sort_names[r->sort],
                     limit,
                     offset,
                     r->currency};
  struct db_result *res = NULL;
  int rc =
      run(pool, r->last != NULL ? "query_words" : "query_browse", 13, p, &res);
  if (rc <= 0) {
    db_result_free(res);
    return rc < 0 ? rc : DB_HARD_ERROR;
  }
  out->total = db_result_int64(res, 0, 0);
  out->items = arena_strdup(a, db_result_text(res, 0, 1));
  out->brand = arena_strdup(a, db_result_text(res, 0, 2));
  out->color = arena_strdup(a, db_result_text(res, 0, 3));
  out->size = arena_strdup(a, db_result_text(res, 0, 4));
  out->category = arena_strdup(a, db_result_text(res, 0, 5));
  /* "{1:4,3:2}": bucket number (width_bucket, 0-based) and count */
  const char *s = db_result_text(res, 0, 6);
  while (s != NULL && *s != '\0') {
    while (*s == '{' || *s == ',' || *s == '"')
      s++;
    char *end = NULL;
    long b = strtol(s, &end, 10);
    if (end == s || *end != ':') break;
    s = end + 1;
    long long c = strtoll(s, &end, 10);
    if (end == s) break;
    s = end;
    while (*s == '"')
      s++;
    if (b >= 0 && b < SEARCH_PRICE_BUCKETS) out->price_counts[b] = c;
  }
  db_result_free(res);
  if (out->items == NULL || out->brand == NULL || out->color == NULL ||
      out->size == NULL || out->category == NULL)
    return DB_HARD_ERROR;
  return DB_ONE_RESULT;
}

/* --- the backend: lexicon ----------------------------------------------- */

static int pg_lexicon(struct db_pool *pool,
                      const struct search_lexicon_sink *sink) {
  struct db_conn *c = db_acquire(pool, ACQUIRE_MS);
  if (c == NULL) return DB_UNAVAILABLE;
  struct db_result *r = NULL;
  int rc = db_exec(c, "lex_words", 0, NULL, &r);
  for (int i = 0; rc > 0 && i < db_result_rows(r); i++)
    sink->word(sink->arg, db_result_text(r, i, 0), db_result_int64(r, i, 1));
  db_result_free(r);
  if (rc >= 0) {
    rc = db_exec(c, "lex_products", 0, NULL, &r);
    for (int i = 0; rc > 0 && i < db_result_rows(r); i++)
      sink->entry(sink->arg, "product", db_result_text(r, i, 1),
                  db_result_text(r, i, 0), db_result_int64(r, i, 2));
    db_result_free(r);
  }
  if (rc >= 0) {
    rc = db_exec(c, "lex_brands", 0, NULL, &r);
    for (int i = 0; rc > 0 && i < db_result_rows(r); i++)
      sink->entry(sink->arg, "brand", db_result_text(r, i, 0),
                  db_result_text(r, i, 0), db_result_int64(r, i, 1));
    db_result_free(r);
  }
  if (rc >= 0) {
    rc = db_exec(c, "lex_categories", 0, NULL, &r);
    for (int i = 0; rc > 0 && i < db_result_rows(r); i++)
      if (db_result_int64(r, i, 2) > 0)
        sink->entry(sink->arg, "category", db_result_text(r, i, 1),
                    db_result_text(r, i, 0), db_result_int64(r, i, 2));
    db_result_free(r);
  }
  if (rc >= 0) {
    rc = db_exec(c, "lex_synonyms", 0, NULL, &r);
    for (int i = 0; rc > 0 && i < db_result_rows(r); i++)
      sink->synonyms(sink->arg, db_result_text(r, i, 0));
    db_result_free(r);
  }
  db_release(pool, c);
  return rc < 0 ? rc : 0;
}

static int pg_generation(struct db_pool *pool, int64_t *out) {
  struct db_result *r = NULL;
  int rc = run(pool, "generation", 0, NULL, &r);
  if (rc > 0) *out = db_result_int64(r, 0, 0);
  db_result_free(r);
  return rc;
}

const struct search_backend search_backend_pg = {
    .name = "postgresql",
    .put = pg_put,
    .remove = pg_remove,
    .set_stock = pg_set_stock,
    .set_rating = pg_set_rating,
    .add_popularity = pg_add_popularity,
    .put_category = pg_put_category,
    .has_category = pg_has_category,
    .recategorize = pg_recategorize,
    .remove_category = pg_remove_category,
    .bulk_begin = pg_bulk_begin,
    .bulk_page = pg_bulk_page,
    .bulk_commit = pg_bulk_commit,
    .query = pg_query,
    .lexicon = pg_lexicon,
    .generation = pg_generation,
};

/* --- bookkeeping -------------------------------------------------------- */

int sstore_synonyms_get(struct db_pool *pool, struct arena *a,
                        const char **json) {
  return run_text(pool, a, "synonyms_get", 0, NULL, json);
}

static int synonyms_tx(struct db_conn *c, void *arg) {
  const char *p[] = {arg};
  int rc = db_exec(c, "synonyms_clear", 0, NULL, NULL);
  if (rc >= 0) rc = db_exec(c, "synonyms_insert", 1, p, NULL);
  if (rc >= 0) rc = db_exec(c, "bump", 0, NULL, NULL);
  return rc;
}

int sstore_synonyms_put(struct db_pool *pool, const char *groups) {
  return db_transaction(pool, DB_READ_COMMITTED, synonyms_tx, (void *)groups);
}

int sstore_queries_add(struct db_pool *pool, const char *rows) {
  const char *p[] = {rows};
  return run(pool, "queries_add", 1, p, NULL);
}

int sstore_queries_report(struct db_pool *pool, struct arena *a,
                          const char *kind, const char *from, const char *to,
                          int limit, const char **json) {
  char n[16];
  snprintf(n, sizeof n, "%d", limit);
  const char *p[] = {kind, from, to, n};
  return run_text(pool, a, "queries_report", 4, p, json);
}

int sstore_job_create(struct db_pool *pool, const char *id) {
  const char *p[] = {id};
  return run(pool, "job_create", 1, p, NULL);
}

int sstore_job_progress(struct db_pool *pool, const char *id, int64_t done,
                        int64_t total) {
  char d[24], t[24];
  snprintf(d, sizeof d, "%" PRId64, done);
  snprintf(t, sizeof t, "%" PRId64, total);
  const char *p[] = {id, d, t};
  return run(pool, "job_progress", 3, p, NULL);
}

int sstore_job_finish(struct db_pool *pool, const char *id, bool ok,
                      const char *error) {
  const char *p[] = {id, ok ? "done" : "failed", error};
  return run(pool, "job_finish", 3, p, NULL);
}

int sstore_job_get(struct db_pool *pool, struct arena *a, const char *id,
                   const char **json) {
  const char *p[] = {id};
  return run_text(pool, a, "job_get", 1, p, json);
}

int sstore_job_running(struct db_pool *pool, char id[37]) {
  struct db_result *r = NULL;
  int rc = run(pool, "job_running", 0, NULL, &r);
  if (rc > 0) snprintf(id, 37, "%s", db_result_text(r, 0, 0));
  db_result_free(r);
  return rc;
}

int sstore_document_count(struct db_pool *pool, int64_t *count) {
  struct db_result *r = NULL;
  int rc = run(pool, "document_count", 0, NULL, &r);
  if (rc > 0) *count = db_result_int64(r, 0, 0);
  db_result_free(r);
  return rc;
}
