/* domain.h - the review service's pure rules: statuses and the moderation
 * state machine, the automatic flags, the rating aggregate's arithmetic, the
 * author's display name, sorts and cursors. No I/O here: cmocka tests
 * (tests/unit/test_review_domain.c) call these directly. */
#ifndef SHOPSPHERE_REVIEW_DOMAIN_H
#define SHOPSPHERE_REVIEW_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REVIEW_TITLE_MAX 120  /* characters */
#define REVIEW_BODY_MAX 5000  /* characters */
#define REVIEW_REASON_MAX 500 /* characters of a rejection reason */
/* A normalized body shorter than this ("Great!") is too common to call a
 * copy: the duplicate flag needs at least this many bytes. */
#define REVIEW_DUPLICATE_MIN 20
/* Shouting: at least this many letters, and this share of them capitals. */
#define REVIEW_SHOUT_MIN_LETTERS 12
#define REVIEW_SHOUT_PERCENT 70

enum review_status {
  REVIEW_PENDING = 0,
  REVIEW_APPROVED,
  REVIEW_REJECTED,
};

/* "pending", "approved", "rejected". */
const char *review_status_name(enum review_status s);
/* false when s is none of them. */
bool review_status_parse(const char *s, enum review_status *out);

enum review_action {
  REVIEW_APPROVE = 0,
  REVIEW_REJECT,
};

/* The moderation state machine: approve takes a pending or rejected review
 * to approved, reject a pending or approved one to rejected. Returns false
 * (and leaves *to) when the review is already where the action leads. */
bool review_transition(enum review_status from, enum review_action action,
                       enum review_status *to);

/* How a status change moves the review's rating in the aggregate: +1 when it
 * enters the approved set, -1 when it leaves it, 0 otherwise. */
int review_aggregate_delta(enum review_status from, enum review_status to);

/* --- automatic flags ------------------------------------------------------ */

#define REVIEW_MAX_FLAGS 4

struct review_flag {
  const char *code; /* "profanity", "link", "shouting", "duplicate" */
  char reason[128]; /* shown to the moderator */
};

struct review_flags {
  struct review_flag items[REVIEW_MAX_FLAGS];
  int count;
};

/* Fills out with the flags of a review's title and body (UTF-8). duplicate
 * is the store's finding (review_normalize equal to another review of the
 * product or by the author). */
void review_flags_compute(const char *title, const char *body, bool duplicate,
                          struct review_flags *out);

/* The single checks, for tests. review_find_profanity returns the listed
 * word found in text (a whole word, any case) or NULL. */
const char *review_find_profanity(const char *text);
bool review_has_link(const char *text);
/* true when text has REVIEW_SHOUT_MIN_LETTERS ASCII letters or more and at
 * least REVIEW_SHOUT_PERCENT % of them are capitals; *percent receives the
 * share (may be NULL). */
bool review_is_shouting(const char *text, int *percent);

/* Writes the body as compared for duplicates into out (at least
 * strlen(body) + 1 bytes): ASCII letters lowercased, every run of ASCII
 * punctuation and white space one space, no space at either end; other
 * bytes (UTF-8 letters) kept. */
void review_normalize(const char *body, char *out);

/* Clean reviews of verified buyers may skip the queue when the setting is
 * on; a flagged one never does. */
bool review_auto_approve(bool setting_on, bool verified,
                         const struct review_flags *flags);

/* --- the rating aggregate ------------------------------------------------- */

struct rating_aggregate {
  int64_t counts[5]; /* counts[0] is the number of 1-star reviews */
};

int64_t rating_count(const struct rating_aggregate *agg);

/* The average with one decimal, rounded half-up ("4.3"), into out; false
 * (and out "") when there is no rating. Exact integer arithmetic. */
bool rating_average(const struct rating_aggregate *agg, char out[8]);

/* --- authors -------------------------------------------------------------- */

/* A public name: "Ada L." from first and last name, else the username,
 * else "Customer". Any argument may be NULL or empty. A name longer than
 * size is cut at a character boundary. */
void review_author_name(const char *first, const char *last,
                        const char *username, char *out, size_t size);

/* --- sorts and cursors ---------------------------------------------------- */

enum review_sort {
  SORT_NEWEST = 0,
  SORT_HELPFUL,
  SORT_RATING_DESC,
  SORT_RATING_ASC,
};

bool review_sort_parse(const char *s, enum review_sort *out);

/* A cursor is the sort key of the last item and its id: "<key>.<uuid>". */
#define REVIEW_CURSOR_MAX 64
void review_cursor_format(int64_t key, const char *id,
                          char out[REVIEW_CURSOR_MAX]);
/* false when s is not a cursor we give (key 0..2^31, canonical UUID). */
bool review_cursor_parse(const char *s, int64_t *key, char id[37]);

#endif
