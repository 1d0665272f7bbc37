/* store.h - the review service's SQL, one typed function per query.
 *
 * Every function returns a db_status (db.h): negative on failure, otherwise
 * the number of rows. Strings in results are copied into the caller's arena.
 */
#ifndef SHOPSPHERE_REVIEW_STORE_H
#define SHOPSPHERE_REVIEW_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "kit/arena.h"
#include "kit/db.h"
#include "services/review/domain.h"

#define REVIEW_STATEMENT_COUNT 25
extern const struct db_statement review_statements[REVIEW_STATEMENT_COUNT];

struct review {
  char id[37], product_id[37], user_id[37];
  const char *author_name, *title, *body;
  const char *flags_json;    /* JSON array text [{code, reason}] */
  const char *reject_reason; /* NULL unless rejected with a reason */
  int rating;
  enum review_status status;
  bool verified_purchase;
  int64_t helpful_count;
  const char *created_at, *updated_at; /* RFC 3339 UTC */
};

/* --- read models fed by events --- */

/* Records or refreshes an author's display name and e-mail. */
int store_author_put(struct db_conn *c, const char *user_id,
                     const char *display_name, const char *email);
/* An author's display name and e-mail (either may come back NULL);
 * DB_NO_RESULTS when the account is unknown here. */
int store_author_get(struct db_conn *c, struct arena *a, const char *user_id,
                     const char **display_name, const char **email);

/* A confirmed order's line: 1 recorded, 0 already known (or cancelled). */
int store_purchase_confirm(struct db_conn *c, const char *order_id,
                           const char *product_id, const char *user_id);
/* A cancelled order's line: recorded as cancelled whatever came before, so
 * a confirmation that arrives late cannot revive it. */
int store_purchase_cancel(struct db_conn *c, const char *order_id,
                          const char *product_id, const char *user_id);
/* A fully refunded order: its confirmed lines become refunded. */
int store_purchase_refund(struct db_conn *c, const char *order_id);
/* Recomputes verified_purchase of the reviews touched by an order's lines. */
int store_reviews_reverify(struct db_conn *c, const char *order_id);
/* 1 when user_id has a confirmed purchase of product_id, else 0. */
int store_is_buyer(struct db_conn *c, const char *user_id,
                   const char *product_id);

/* --- reviews --- */

struct review_new {
  const char *id, *product_id, *user_id, *author_name, *title, *body;
  const char *body_key, *flags_json;
  int rating;
  enum review_status status;
  bool verified_purchase;
};

/* 1 inserted (out filled), 0 the user has a review of the product. */
int store_review_insert(struct db_conn *c, struct arena *a,
                        const struct review_new *n, struct review *out);
/* DB_NO_RESULTS when absent; for_update locks the row. */
int store_review_get(struct db_conn *c, struct arena *a, const char *id,
                     bool for_update, struct review *out);
/* The author's edit: new text, rating, flags and status. */
int store_review_update(struct db_conn *c, struct arena *a, const char *id,
                        int rating, const char *title, const char *body,
                        const char *body_key, const char *flags_json,
                        enum review_status status, struct review *out);
/* A moderation decision (reason NULL unless rejected). */
int store_review_moderate(struct db_conn *c, struct arena *a, const char *id,
                          enum review_status status, const char *reason,
                          const char *moderator_id, struct review *out);
int store_review_delete(struct db_conn *c, const char *id);
/* 1 when another review (not except_id, may be NULL) of product_id or by
 * user_id has the same normalized body. */
int store_duplicate_exists(struct db_conn *c, const char *body_key,
                           const char *product_id, const char *user_id,
                           const char *except_id);

/* Approved reviews of a product in the sort's order, after the cursor
 * (has_cursor false: from the start). */
int store_reviews_of_product(struct db_conn *c, struct arena *a,
                             const char *product_id, enum review_sort sort,
                             bool has_cursor, int64_t cursor_key,
                             const char *cursor_id, int limit,
                             struct review **out);
/* The moderation queue: reviews in status, pending oldest first, the others
 * newest first; after_id may be NULL. */
int store_reviews_by_status(struct db_conn *c, struct arena *a,
                            enum review_status status, const char *after_id,
                            int limit, struct review **out);

/* 1 the vote counted (helpful_count + 1), 0 the user had voted. */
int store_helpful_vote(struct db_conn *c, const char *review_id,
                       const char *user_id);

/* --- the aggregate --- */

/* Adds delta (+1/-1) to the product's count of `rating` stars in one
 * statement (row lock) and reads the aggregate after it into out. */
int store_rating_add(struct db_conn *c, const char *product_id, int rating,
                     int delta, struct rating_aggregate *out);
/* The aggregate; all zero when the product has no row. */
int store_rating_get(struct db_conn *c, const char *product_id,
                     struct rating_aggregate *out);

#endif
