/* store.c - the review service's SQL (see store.h). */
#include "services/review/store.h"

#include <stdio.h>
#include <string.h>

/* RFC 3339 UTC with milliseconds. */
#define TS(col)                                                                \
  "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

#define REVIEW_COLS                                                            \
  "id::text, product_id::text, user_id::text, author_name, rating, title, "    \
  "body, status, verified_purchase, helpful_count, flags::text, "              \
  "reject_reason, " TS("created_at") ", " TS("updated_at")

#define APPROVED_OF                                                            \
  "FROM reviews WHERE product_id = $1 AND status = 'approved' "

/* Adds the delta $3 to the column of $2 stars. */
#define ADD(n)                                                                 \
  "count_" #n " = count_" #n " + CASE WHEN $2::int = " #n                      \
  " THEN $3::bigint ELSE 0 END"

const struct db_statement review_statements[] = {
    {"author_put",
     "INSERT INTO authors (user_id, display_name, email) VALUES ($1, $2, $3) "
     "ON CONFLICT (user_id) DO UPDATE SET display_name = "
     "EXCLUDED.display_name, "
     "email = EXCLUDED.email, updated_at = now()"},
    {"author_get",
     "SELECT display_name, email FROM authors WHERE user_id = $1"},
    {"purchase_confirm",
     "INSERT INTO purchases (order_id, product_id, user_id, status) "
     "VALUES ($1, $2, $3, 'confirmed') ON CONFLICT DO NOTHING"},
    {"purchase_cancel",
     "INSERT INTO purchases (order_id, product_id, user_id, status) "
     "VALUES ($1, $2, $3, 'cancelled') ON CONFLICT (order_id, product_id) "
     "DO UPDATE SET status = 'cancelled', updated_at = now()"},
    {"purchase_refund",
     "UPDATE purchases SET status = 'refunded', updated_at = now() "
     "WHERE order_id = $1 AND status = 'confirmed'"},
    {"reviews_reverify",
     "UPDATE reviews r SET verified_purchase = EXISTS (SELECT 1 FROM "
     "purchases p WHERE p.user_id = r.user_id AND p.product_id = r.product_id "
     "AND p.status = 'confirmed') WHERE (r.user_id, r.product_id) IN (SELECT "
     "user_id, product_id FROM purchases WHERE order_id = $1)"},
    {"is_buyer", "SELECT 1 FROM purchases WHERE user_id = $1 AND "
                 "product_id = $2 AND status = 'confirmed' LIMIT 1"},
    {"review_insert",
     "INSERT INTO reviews (id, product_id, user_id, author_name, rating, "
     "title, body, body_key, status, verified_purchase, flags) VALUES ($1, $2, "
     "$3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb) ON CONFLICT (user_id, "
     "product_id) DO NOTHING RETURNING " REVIEW_COLS},
    {"review_get", "SELECT " REVIEW_COLS " FROM reviews WHERE id = $1"},
    {"review_get_for_update",
     "SELECT " REVIEW_COLS " FROM reviews WHERE id = $1 FOR UPDATE"},
    {"review_update",
     "UPDATE reviews SET rating = $2, title = $3, body = $4, body_key = $5, "
     "flags = $6::jsonb, status = $7, reject_reason = NULL, moderated_by = "
     "NULL, moderated_at = NULL, updated_at = now() WHERE id = $1 "
     "RETURNING " REVIEW_COLS},
    {"review_moderate",
     "UPDATE reviews SET status = $2, reject_reason = $3, moderated_by = $4, "
     "moderated_at = now(), updated_at = now() WHERE id = $1 "
     "RETURNING " REVIEW_COLS},
    {"review_delete", "DELETE FROM reviews WHERE id = $1"},
    {"duplicate_exists",
     "SELECT 1 FROM reviews WHERE md5(body_key) = md5($1) AND body_key = $1 "
     "AND (product_id = $2 OR user_id = $3) AND ($4::uuid IS NULL OR "
     "id <> $4::uuid) LIMIT 1"},
    {"list_newest", "SELECT " REVIEW_COLS " " APPROVED_OF
                    "AND ($2::uuid IS NULL OR id < $2::uuid) "
                    "ORDER BY id DESC LIMIT $3"},
    {"list_helpful",
     "SELECT " REVIEW_COLS " " APPROVED_OF
     "AND ($2::uuid IS NULL OR (helpful_count, id) < ($3::int, $2::uuid)) "
     "ORDER BY helpful_count DESC, id DESC LIMIT $4"},
    {"list_rating_desc",
     "SELECT " REVIEW_COLS " " APPROVED_OF
     "AND ($2::uuid IS NULL OR (rating, id) < ($3::int, $2::uuid)) "
     "ORDER BY rating DESC, id DESC LIMIT $4"},
    {"list_rating_asc",
     "SELECT " REVIEW_COLS " " APPROVED_OF
     "AND ($2::uuid IS NULL OR rating > $3::int OR (rating = $3::int AND "
     "id < $2::uuid)) ORDER BY rating ASC, id DESC LIMIT $4"},
    {"queue_oldest", "SELECT " REVIEW_COLS " FROM reviews WHERE status = $1 "
                     "AND ($2::uuid IS NULL OR id > $2::uuid) "
                     "ORDER BY id LIMIT $3"},
    {"queue_newest", "SELECT " REVIEW_COLS " FROM reviews WHERE status = $1 "
                     "AND ($2::uuid IS NULL OR id < $2::uuid) "
                     "ORDER BY id DESC LIMIT $3"},
    {"helpful_insert",
     "INSERT INTO helpful_votes (review_id, user_id) VALUES ($1, $2) "
     "ON CONFLICT DO NOTHING"},
    {"helpful_bump",
     "UPDATE reviews SET helpful_count = helpful_count + 1 WHERE id = $1"},
    /* The row first (a new product's), then the change as one UPDATE:
     * its row lock serializes concurrent decisions on the product. */
    {"rating_row", "INSERT INTO product_ratings (product_id) VALUES ($1) "
                   "ON CONFLICT DO NOTHING"},
    {"rating_add",
     "UPDATE product_ratings SET " ADD(1) ", " ADD(2) ", " ADD(3) ", " ADD(
         4) ", " ADD(5) ", updated_at = now() "
                        "WHERE product_id = $1 RETURNING count_1, count_2, "
                        "count_3, count_4, count_5"},
    {"rating_get", "SELECT count_1, count_2, count_3, count_4, count_5 FROM "
                   "product_ratings WHERE product_id = $1"},
};
_Static_assert(sizeof review_statements / sizeof review_statements[0] ==
                   REVIEW_STATEMENT_COUNT,
               "REVIEW_STATEMENT_COUNT is the number of statements");

/* --- helpers -------------------------------------------------------------- */

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

static void fixed(char *out, size_t size, const struct db_result *r, int row,
                  int col) {
  const char *t = db_result_text(r, row, col);
  snprintf(out, size, "%s", t != NULL ? t : "");
}

static void read_review(struct arena *a, const struct db_result *r, int row,
                        struct review *v) {
  fixed(v->id, sizeof v->id, r, row, 0);
  fixed(v->product_id, sizeof v->product_id, r, row, 1);
  fixed(v->user_id, sizeof v->user_id, r, row, 2);
  v->author_name = text(a, r, row, 3);
  v->rating = (int)db_result_int64(r, row, 4);
  v->title = text(a, r, row, 5);
  v->body = text(a, r, row, 6);
  if (!review_status_parse(db_result_text(r, row, 7), &v->status))
    v->status = REVIEW_PENDING;
  v->verified_purchase = db_result_bool(r, row, 8);
  v->helpful_count = db_result_int64(r, row, 9);
  v->flags_json = text(a, r, row, 10);
  v->reject_reason = text_or_null(a, r, row, 11);
  v->created_at = text(a, r, row, 12);
  v->updated_at = text(a, r, row, 13);
}

static int one_review(struct db_conn *c, struct arena *a, const char *stmt,
                      int n, const char *const *p, struct review *out) {
  struct db_result *r = NULL;
  int rc = db_exec(c, stmt, n, p, &r);
  if (rc > 0) read_review(a, r, 0, out);
  db_result_free(r);
  return rc > 1 ? 1 : rc;
}

static int many_reviews(struct db_conn *c, struct arena *a, const char *stmt,
                        int n, const char *const *p, struct review **out) {
  struct db_result *r = NULL;
  *out = NULL;
  int rc = db_exec(c, stmt, n, p, &r);
  if (rc > 0) {
    *out = arena_alloc(a, sizeof **out * (size_t)rc);
    if (*out == NULL)
      rc = DB_HARD_ERROR;
    else
      for (int i = 0; i < rc; i++)
        read_review(a, r, i, &(*out)[i]);
  }
  db_result_free(r);
  return rc;
}

static int read_aggregate(int rc, const struct db_result *r,
                          struct rating_aggregate *out) {
  memset(out, 0, sizeof *out);
  if (rc > 0)
    for (int i = 0; i < 5; i++)
      out->counts[i] = db_result_int64(r, 0, i);
  return rc;
}

/* --- read models ---------------------------------------------------------- */

int store_author_put(struct db_conn *c, const char *user_id,
                     const char *display_name, const char *email) {
  const char *p[] = {user_id, display_name, email};
  return db_exec(c, "author_put", 3, p, NULL);
}

int store_author_get(struct db_conn *c, struct arena *a, const char *user_id,
                     const char **display_name, const char **email) {
  const char *p[] = {user_id};
  struct db_result *r = NULL;
  int rc = db_exec(c, "author_get", 1, p, &r);
  *display_name = *email = NULL;
  if (rc > 0) {
    *display_name = text_or_null(a, r, 0, 0);
    *email = text_or_null(a, r, 0, 1);
  }
  db_result_free(r);
  return rc;
}

int store_purchase_confirm(struct db_conn *c, const char *order_id,
                           const char *product_id, const char *user_id) {
  const char *p[] = {order_id, product_id, user_id};
  return db_exec(c, "purchase_confirm", 3, p, NULL);
}

int store_purchase_cancel(struct db_conn *c, const char *order_id,
                          const char *product_id, const char *user_id) {
  const char *p[] = {order_id, product_id, user_id};
  return db_exec(c, "purchase_cancel", 3, p, NULL);
}

int store_purchase_refund(struct db_conn *c, const char *order_id) {
  const char *p[] = {order_id};
  return db_exec(c, "purchase_refund", 1, p, NULL);
}

int store_reviews_reverify(struct db_conn *c, const char *order_id) {
  const char *p[] = {order_id};
  return db_exec(c, "reviews_reverify", 1, p, NULL);
}

int store_is_buyer(struct db_conn *c, const char *user_id,
                   const char *product_id) {
  const char *p[] = {user_id, product_id};
  int rc = db_exec(c, "is_buyer", 2, p, NULL);
  return rc > 1 ? 1 : rc;
}

/* --- reviews -------------------------------------------------------------- */

int store_review_insert(struct db_conn *c, struct arena *a,
                        const struct review_new *n, struct review *out) {
  char rating[4];
  snprintf(rating, sizeof rating, "%d", n->rating);
  const char *p[] = {n->id,
                     n->product_id,
                     n->user_id,
                     n->author_name,
                     rating,
                     n->title,
                     n->body,
                     n->body_key,
                     review_status_name(n->status),
                     n->verified_purchase ? "true" : "false",
                     n->flags_json};
  return one_review(c, a, "review_insert", 11, p, out);
}

int store_review_get(struct db_conn *c, struct arena *a, const char *id,
                     bool for_update, struct review *out) {
  const char *p[] = {id};
  return one_review(c, a, for_update ? "review_get_for_update" : "review_get",
                    1, p, out);
}

int store_review_update(struct db_conn *c, struct arena *a, const char *id,
                        int rating, const char *title, const char *body,
                        const char *body_key, const char *flags_json,
                        enum review_status status, struct review *out) {
  char stars[4];
  snprintf(stars, sizeof stars, "%d", rating);
  const char *p[] = {
      id, stars, title, body, body_key, flags_json, review_status_name(status)};
  return one_review(c, a, "review_update", 7, p, out);
}

int store_review_moderate(struct db_conn *c, struct arena *a, const char *id,
                          enum review_status status, const char *reason,
                          const char *moderator_id, struct review *out) {
  const char *p[] = {id, review_status_name(status), reason, moderator_id};
  return one_review(c, a, "review_moderate", 4, p, out);
}

int store_review_delete(struct db_conn *c, const char *id) {
  const char *p[] = {id};
  return db_exec(c, "review_delete", 1, p, NULL);
}

int store_duplicate_exists(struct db_conn *c, const char *body_key,
                           const char *product_id, const char *user_id,
                           const char *except_id) {
  const char *p[] = {body_key, product_id, user_id, except_id};
  int rc = db_exec(c, "duplicate_exists", 4, p, NULL);
  return rc > 1 ? 1 : rc;
}

int store_reviews_of_product(struct db_conn *c, struct arena *a,
                             const char *product_id, enum review_sort sort,
                             bool has_cursor, int64_t cursor_key,
                             const char *cursor_id, int limit,
                             struct review **out) {
  static const char *const stmts[] = {"list_newest", "list_helpful",
                                      "list_rating_desc", "list_rating_asc"};
  char key[24], lim[16];
  snprintf(key, sizeof key, "%lld", (long long)cursor_key);
  snprintf(lim, sizeof lim, "%d", limit);
  const char *p[] = {product_id, has_cursor ? cursor_id : NULL,
                     has_cursor ? key : NULL, lim};
  if (sort == SORT_NEWEST) { /* no key: $3 is the limit */
    const char *q[] = {product_id, p[1], lim};
    return many_reviews(c, a, stmts[sort], 3, q, out);
  }
  return many_reviews(c, a, stmts[sort], 4, p, out);
}

int store_reviews_by_status(struct db_conn *c, struct arena *a,
                            enum review_status status, const char *after_id,
                            int limit, struct review **out) {
  char lim[16];
  snprintf(lim, sizeof lim, "%d", limit);
  const char *p[] = {review_status_name(status), after_id, lim};
  return many_reviews(
      c, a, status == REVIEW_PENDING ? "queue_oldest" : "queue_newest", 3, p,
      out);
}

int store_helpful_vote(struct db_conn *c, const char *review_id,
                       const char *user_id) {
  const char *p[] = {review_id, user_id};
  int rc = db_exec(c, "helpful_insert", 2, p, NULL);
  if (rc <= 0) return rc;
  rc = db_exec(c, "helpful_bump", 1, p, NULL);
  return rc < 0 ? rc : 1;
}

/* --- the aggregate -------------------------------------------------------- */

int store_rating_add(struct db_conn *c, const char *product_id, int rating,
                     int delta, struct rating_aggregate *out) {
  char stars[4], d[4];
  snprintf(stars, sizeof stars, "%d", rating);
  snprintf(d, sizeof d, "%d", delta);
  const char *p[] = {product_id, stars, d};
  struct db_result *r = NULL;
  int rc = db_exec(c, "rating_row", 1, p, NULL);
  if (rc >= 0) rc = db_exec(c, "rating_add", 3, p, &r);
  read_aggregate(rc, r, out);
  db_result_free(r);
  return rc;
}

int store_rating_get(struct db_conn *c, const char *product_id,
                     struct rating_aggregate *out) {
  const char *p[] = {product_id};
  struct db_result *r = NULL;
  int rc = db_exec(c, "rating_get", 1, p, &r);
  read_aggregate(rc, r, out);
  db_result_free(r);
  return rc;
}
