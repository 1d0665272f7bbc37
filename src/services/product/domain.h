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

/* Kilograms (the API's attributes.weight) to whole grams (what shipping
 * prices by), rounded half up. kg must be in 0..PRODUCT_WEIGHT_MAX_KG. */
int64_t product_weight_grams(double kg);

/* "draft" | "active" | "archived". */
bool product_status_valid(const char *status);

/* Category slug: 1..64 of a-z 0-9 and single inner '-'. */
bool product_category_slug_valid(const char *slug);

/* Makes a slug from a display name ("Coffee & Tea" -> "coffee-tea") into out
 * (size bytes). false when nothing usable remains (e.g. only symbols). */
bool product_category_slugify(const char *name, char *out, size_t size);

/* true when the category at path is the one at ancestor_path or lies under
 * it ("a/b/c" is within "a/b", "a/bc" is not): moving a category there
 * would make a cycle. */
bool product_category_within(const char *path, const char *ancestor_path);

/* The path of a category whose parent sits at parent_path (NULL: a root)
 * and whose slug is slug, into out (size bytes). false when it does not
 * fit. */
bool product_category_path(const char *parent_path, const char *slug, char *out,
                           size_t size);

/* The path of the parent of the category at path ("a/b/c" -> "a/b") into
 * out; "" for a root. false when it does not fit. */
bool product_category_parent_path(const char *path, char *out, size_t size);

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

/* One reservation line: a product's own stock (variant_id "") or one of its
 * variants. */
struct reservation_line {
  char product_id[37];
  char variant_id[37]; /* "" for a product without options */
  int64_t quantity;
};

/* Merges lines of the same product and variant (summing quantities) and sorts
 * them in the order rows are locked, so two reservations never wait for each
 * other in a cycle: lines without a variant first (product rows, by product
 * id), then variant lines (variant rows, by product id and variant id) - the
 * same order the commit and release statements lock in. Returns the new
 * count; true via *overflow when a summed quantity passes
 * RESERVATION_MAX_QUANTITY. */
size_t product_reservation_lines_normalize(struct reservation_line *lines,
                                           size_t n, bool *overflow);

/* --- options, variants, price lists --- */

#define PRODUCT_OPTIONS_MAX 3        /* e.g. size, color, material */
#define PRODUCT_OPTION_VALUES_MAX 30 /* values of one option */
#define PRODUCT_OPTION_TEXT_MAX 50   /* an option name or value */
#define PRODUCT_VARIANTS_MAX 200     /* live variants of one product */
#define PRODUCT_PRICES_MAX 20        /* entries of one price list */

/* One option of a product: a name and the values a variant may take. */
struct product_option {
  const char *name;
  const char *const *values;
  size_t value_count;
};

/* One option value a variant takes: {"size": "M"}. */
struct variant_choice {
  const char *name, *value;
};

enum option_check {
  OPTION_OK = 0,
  OPTION_TOO_MANY,        /* more than PRODUCT_OPTIONS_MAX options */
  OPTION_BAD_NAME,        /* empty, too long or with control characters */
  OPTION_DUPLICATE_NAME,  /* two options of one name */
  OPTION_BAD_VALUES,      /* none, too many, empty or too long */
  OPTION_DUPLICATE_VALUE, /* a value twice in one option */
};

/* Checks a product's options; *bad receives the index of the offending
 * option. */
enum option_check product_options_check(const struct product_option *opts,
                                        size_t n, size_t *bad);
const char *product_option_message(enum option_check c);

enum variant_check {
  VARIANT_OK = 0,
  VARIANT_NO_OPTIONS,      /* the product has no options: no variants */
  VARIANT_UNKNOWN_OPTION,  /* a name the product does not have */
  VARIANT_UNKNOWN_VALUE,   /* a value the option does not offer */
  VARIANT_MISSING_OPTION,  /* an option of the product left out */
  VARIANT_DUPLICATE_OPTION /* the same name twice */
};

/* Checks that a variant's choices name every option of the product exactly
 * once, each with one of its values; *bad_name receives the offending option
 * name (borrowed from choice or opts). */
enum variant_check product_variant_check(const struct product_option *opts,
                                         size_t n,
                                         const struct variant_choice *choice,
                                         size_t m, const char **bad_name);
const char *product_variant_message(enum variant_check c);

/* true when two variants take the same values (order of choices aside). */
bool product_variant_same(const struct variant_choice *a, size_t na,
                          const struct variant_choice *b, size_t nb);

/* The index of the first variant whose combination repeats an earlier one,
 * or -1 when all differ. combos[i] has counts[i] choices. */
long product_variants_duplicate(const struct variant_choice *const *combos,
                                const size_t *counts, size_t n);

/* One entry of a price list: an amount (decimal text) in a currency. */
struct price_entry {
  const char *currency, *amount;
  int64_t minor; /* filled by product_price_list_check */
};

enum price_list_check {
  PRICE_LIST_OK = 0,
  PRICE_LIST_TOO_MANY,     /* more than PRODUCT_PRICES_MAX entries */
  PRICE_LIST_BAD_CURRENCY, /* not an ISO 4217 code */
  PRICE_LIST_DUPLICATE,    /* a currency twice */
  PRICE_LIST_OWN_CURRENCY, /* the product's own currency: set `price` */
  PRICE_LIST_BAD_AMOUNT    /* see *amount_check */
};

/* Checks a price list for a product priced in own_currency and converts
 * every amount to minor units; *bad receives the offending index and
 * *amount_check why an amount was refused. */
enum price_list_check product_price_list_check(struct price_entry *list,
                                               size_t n,
                                               const char *own_currency,
                                               size_t *bad,
                                               enum price_check *amount_check);

/* The currency a read or a new cart is in: the request's parameter when
 * given, else the storefront's choice, else the store default. NULL when the
 * parameter (or, without one, the storefront's choice) is not an ISO 4217
 * code: the caller answers 422. */
const char *product_currency_choose(const char *param, const char *storefront,
                                    const char *store_default);

/* The status a reservation shows: a live one past its expiry reads
 * "expired" even before the sweeper returned its units. */
const char *product_reservation_status(const char *stored, bool past_expiry);

#endif
