/* domain.h - the product service's decisions, free of I/O: list sorts and
 * their keyset cursors, SKU/slug rules, prices in a currency, status rules,
 * reservation lines. Unit-tested in tests/unit/test_product_domain.c. */
#ifndef SHOPSPHERE_PRODUCT_DOMAIN_H
#define SHOPSPHERE_PRODUCT_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PRODUCT_SKU_MAX 64
#define PRODUCT_NAME_MAX 200
#define PRODUCT_DESCRIPTION_MAX 5000
#define PRODUCT_STOCK_MAX INT64_C(1000000000)
#define PRODUCT_LIST_DEFAULT 20
#define PRODUCT_LIST_MAX 100
#define CATEGORY_SLUG_MAX 64
#define RESERVATION_MAX_LINES 100
#define RESERVATION_MAX_QUANTITY 10000
#define RESERVATION_TTL_DEFAULT 900
#define RESERVATION_TTL_MAX 86400

/* Listing orders. Each is a total order on (key, id): the id breaks ties, so
 * a keyset cursor (the last row's key and id) resumes exactly after it,
 * however many rows were inserted meanwhile. */
enum product_sort {
  SORT_NEWEST = 0, /* id descending: ids are UUIDv7, time-ordered */
  SORT_PRICE_ASC,
  SORT_PRICE_DESC,
  SORT_NAME, /* bytewise name (COLLATE "C"), then id */
  SORT_COUNT
};

/* "newest" | "price_asc" | "price_desc" | "name"; false when unknown. */
bool product_sort_parse(const char *s, enum product_sort *out);
const char *product_sort_name(enum product_sort sort);

#define CURSOR_KEY_MAX 1024
#define CURSOR_TEXT_MAX 1500

/* Where the next page starts: after the row with this key and id. key is the
 * sort key as text: price in minor units, the name, or "" for newest. */
struct list_cursor {
  enum product_sort sort;
  char key[CURSOR_KEY_MAX];
  char id[37];
};

/* Encodes c as opaque URL-safe text (base64url, no padding) into out.
 * Returns false when it does not fit. */
bool product_cursor_encode(const struct list_cursor *c, char *out, size_t size);

/* Decodes text made by product_cursor_encode; false for anything else
 * (tampered, truncated, wrong version, bad id, a price key that is not an
 * integer). */
bool product_cursor_decode(const char *text, struct list_cursor *out);

/* SKU: 1..64 characters of A-Z a-z 0-9 . _ - */
bool product_sku_valid(const char *sku);

/* "draft" | "active" | "archived". */
bool product_status_valid(const char *status);

/* Category slug: 1..64 of a-z 0-9 and single inner '-'. */
bool product_category_slug_valid(const char *slug);

/* Makes a slug from a display name ("Coffee & Tea" -> "coffee-tea") into out
 * (size bytes). false when nothing usable remains (e.g. only symbols). */
bool product_category_slugify(const char *name, char *out, size_t size);

/* The outcome of reading a price in a currency. */
enum price_check {
  PRICE_OK = 0,
  PRICE_BAD_CURRENCY, /* not an ISO 4217 code we know */
  PRICE_NEGATIVE,     /* "-1" */
  PRICE_MALFORMED,    /* not a decimal ("1e3", "", "1.") */
  PRICE_TOO_PRECISE,  /* more decimals than the currency has */
  PRICE_TOO_LARGE,    /* above MONEY_MAX: would overflow sums */
};

/* Parses price (decimal text) in currency into minor units. */
enum price_check product_price_parse(const char *price, const char *currency,
                                     int64_t *minor);

/* A human sentence for a failed check, naming the field. */
const char *product_price_message(enum price_check c);

/* One reservation line. */
struct reservation_line {
  char product_id[37];
  int64_t quantity;
};

/* Merges lines of the same product (summing quantities) and sorts them by
 * product id, the order in which rows are locked so two reservations never
 * wait for each other in a cycle. Returns the new count; false via *overflow
 * when a summed quantity passes RESERVATION_MAX_QUANTITY. */
size_t product_reservation_lines_normalize(struct reservation_line *lines,
                                           size_t n, bool *overflow);

/* The status a reservation shows: a live one past its expiry reads
 * "expired" even before the sweeper returned its units. */
const char *product_reservation_status(const char *stored, bool past_expiry);

#endif
