/* pricing.h - what promotions take off a cart, free of SQL and HTTP.
 *
 * A promotion is a percentage or a fixed amount off the order or off
 * selected products / categories, free shipping, or "buy X get Y" (of every
 * X + Y eligible units the Y cheapest are free). It may ask for a minimum
 * subtotal, run between a start and an end, and be limited in total and per
 * customer. Codes are entered by the customer; automatic promotions (no code)
 * apply by themselves. A cart holds one code unless every code on it is
 * stackable; automatic promotions always combine with codes.
 *
 * The arithmetic is exact in minor units: a promotion's discount is computed
 * once on the eligible amount (a percentage rounded half-up) and spread over
 * the eligible lines in proportion to what is left of each line (largest
 * remainder), so the lines' discounts add up to the promotion's amount to the
 * cent and no line goes below zero. Promotions apply one after the other
 * (automatic ones first, then codes in the order applied), each on what the
 * previous ones left. Unit-tested in tests/unit/test_cart_pricing.c.
 */
#ifndef SHOPSPHERE_CART_PRICING_H
#define SHOPSPHERE_CART_PRICING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROMO_CODE_MIN 3
#define PROMO_CODE_MAX 32
#define PROMO_MAX_CODES 5    /* codes one cart may hold */
#define PROMO_MAX_TARGETS 50 /* product_ids, category_ids each */

enum promo_type {
  PROMO_PERCENTAGE = 0,
  PROMO_FIXED,
  PROMO_FREE_SHIPPING,
  PROMO_BUY_X_GET_Y,
  PROMO_TYPE_COUNT
};

/* "percentage", ...; NULL when out of range. */
const char *promo_type_name(enum promo_type t);
bool promo_type_parse(const char *name, enum promo_type *out);

enum promo_window { PROMO_RUNNING = 0, PROMO_NOT_STARTED, PROMO_ENDED };

struct promo {
  const char *id;
  const char *code; /* NULL: automatic */
  enum promo_type type;
  int64_t value;        /* percentage: basis points 1..10000; fixed: minor
                           units; otherwise unused */
  const char *currency; /* "" or NULL: any cart currency (percentage, free
                           shipping, buy X get Y without a minimum) */
  int64_t buy_quantity, get_quantity; /* buy X get Y */
  const char *const *product_ids;     /* both empty: the whole cart */
  size_t product_count;
  const char *const *category_ids;
  size_t category_count;
  int64_t min_subtotal; /* minor units of currency; < 0: none */
  enum promo_window window;
  int64_t usage_limit, used;                 /* limit < 0: none */
  int64_t per_customer_limit, customer_used; /* limit < 0: none */
  bool stackable;
};

struct price_line {
  const char *product_id;
  const char *category_id; /* may be NULL */
  int64_t unit_price;      /* minor units, >= 0 */
  int64_t quantity;        /* >= 1 */
  int64_t discount;        /* out: what every promotion took from the line */
};

enum promo_check {
  PROMO_OK = 0,
  PROMO_CHECK_NOT_STARTED,
  PROMO_CHECK_EXPIRED,
  PROMO_CHECK_WRONG_CURRENCY,
  PROMO_CHECK_MIN_NOT_MET,
  PROMO_CHECK_LIMIT_REACHED,
  PROMO_CHECK_CUSTOMER_LIMIT_REACHED,
  PROMO_CHECK_NOT_APPLICABLE, /* no line of the cart is one it targets */
};

/* The customer's words for c ("has expired", ...): a predicate to put
 * after "the discount code X ". */
const char *promo_check_message(enum promo_check c);

/* Whether p may apply to lines[0..n) in a cart of `currency` whose subtotal
 * is `subtotal`. */
enum promo_check promo_check(const struct promo *p,
                             const struct price_line *lines, size_t n,
                             const char *currency, int64_t subtotal);

/* true when line l is one p targets (every line when p targets none). */
bool promo_targets(const struct promo *p, const struct price_line *l);

/* true when a code `next` may join the codes already[0..n) on a cart: the
 * first code always; another only when it and every code there are
 * stackable. */
bool promo_can_stack(const struct promo *const *already, size_t n,
                     const struct promo *next);

/* Spreads `total` (0 <= total <= sum of base) over base[0..n) in proportion
 * (largest remainder, ties to the earlier index) into out[0..n): out[i] <=
 * base[i] and the outs add up to total exactly. false when the inputs are
 * out of range. */
bool promo_allocate(int64_t total, const int64_t *base, size_t n, int64_t *out);

struct promo_result {
  bool applied;           /* the promotion passed promo_check */
  enum promo_check check; /* why not, when !applied */
  int64_t amount;         /* what it took off the lines */
};

/* Applies promos[0..m) in order to lines[0..n) (discounts written into each
 * line), results[j] for promos[j]. Promotions that fail promo_check take
 * nothing. *discount_total receives the sum of the amounts, *free_shipping
 * whether a free-shipping promotion applied. false when an amount is out of
 * range (a sum would overflow, a negative price). */
bool promo_price(struct price_line *lines, size_t n, const char *currency,
                 const struct promo *promos, size_t m,
                 struct promo_result *results, int64_t *discount_total,
                 bool *free_shipping);

/* Normalizes a customer's code: trimmed of nothing, uppercased; true when it
 * is 3..32 characters of A-Z, 0-9, '-' and '_' (out has room for
 * PROMO_CODE_MAX + 1). */
bool promo_code_normalize(const char *in, char out[PROMO_CODE_MAX + 1]);

/* Parses a percentage ("15", "12.5", "33.33", "100") into basis points;
 * false unless 0 < value <= 100 with at most two decimals. */
bool promo_parse_percent(const char *s, int64_t *bp);

/* Formats basis points as a percentage string ("12.5", "100"); buf >= 32. */
char *promo_format_percent(int64_t bp, char *buf);

#endif
