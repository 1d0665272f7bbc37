/* pricing.c - what promotions take off a cart (see pricing.h). */
#include "services/cart/pricing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/err.h"
#include "kit/money.h"

static const char *const type_names[PROMO_TYPE_COUNT] = {
    "percentage", "fixed", "free_shipping", "buy_x_get_y"};

const char *promo_type_name(enum promo_type t) {
  return (unsigned)t < PROMO_TYPE_COUNT ? type_names[t] : NULL;
}

bool promo_type_parse(const char *name, enum promo_type *out) {
  for (int i = 0; name != NULL && i < PROMO_TYPE_COUNT; i++) {
    if (strcmp(name, type_names[i]) == 0) {
      *out = (enum promo_type)i;
      return true;
    }
  }
  return false;
}

const char *promo_check_message(enum promo_check c) {
  switch (c) {
  case PROMO_OK:
    return "applies";
  case PROMO_CHECK_NOT_STARTED:
    return "is not valid yet";
  case PROMO_CHECK_EXPIRED:
    return "has expired";
  case PROMO_CHECK_WRONG_CURRENCY:
    return "is not valid in the cart's currency";
  case PROMO_CHECK_MIN_NOT_MET:
    return "needs a higher subtotal (minimum not met)";
  case PROMO_CHECK_LIMIT_REACHED:
    return "has reached its usage limit";
  case PROMO_CHECK_CUSTOMER_LIMIT_REACHED:
    return "was already used as often as allowed per customer";
  case PROMO_CHECK_NOT_APPLICABLE:
    return "does not apply to any product in the cart";
  }
  return "cannot be applied";
}

static bool in_list(const char *const *list, size_t n, const char *s) {
  if (s == NULL || s[0] == '\0') return false;
  for (size_t i = 0; i < n; i++)
    if (list[i] != NULL && strcmp(list[i], s) == 0) return true;
  return false;
}

bool promo_targets(const struct promo *p, const struct price_line *l) {
  if (p->product_count == 0 && p->category_count == 0) return true;
  return in_list(p->product_ids, p->product_count, l->product_id) ||
         in_list(p->category_ids, p->category_count, l->category_id);
}

enum promo_check promo_check(const struct promo *p,
                             const struct price_line *lines, size_t n,
                             const char *currency, int64_t subtotal) {
  if (p->window == PROMO_NOT_STARTED) return PROMO_CHECK_NOT_STARTED;
  if (p->window == PROMO_ENDED) return PROMO_CHECK_EXPIRED;
  if (p->currency != NULL && p->currency[0] != '\0' &&
      (currency == NULL || strcmp(p->currency, currency) != 0))
    return PROMO_CHECK_WRONG_CURRENCY;
  if (p->usage_limit >= 0 && p->used >= p->usage_limit)
    return PROMO_CHECK_LIMIT_REACHED;
  if (p->per_customer_limit >= 0 && p->customer_used >= p->per_customer_limit)
    return PROMO_CHECK_CUSTOMER_LIMIT_REACHED;
  if (p->min_subtotal >= 0 && subtotal < p->min_subtotal)
    return PROMO_CHECK_MIN_NOT_MET;
  if (p->product_count > 0 || p->category_count > 0) {
    bool any = false;
    for (size_t i = 0; i < n && !any; i++)
      any = promo_targets(p, &lines[i]);
    if (!any) return PROMO_CHECK_NOT_APPLICABLE;
  }
  return PROMO_OK;
}

bool promo_can_stack(const struct promo *const *already, size_t n,
                     const struct promo *next) {
  if (n == 0) return true;
  if (!next->stackable) return false;
  for (size_t i = 0; i < n; i++)
    if (!already[i]->stackable) return false;
  return true;
}

bool promo_allocate(int64_t total, const int64_t *base, size_t n,
                    int64_t *out) {
  __int128 sum = 0;
  for (size_t i = 0; i < n; i++) {
    if (base[i] < 0) return false;
    sum += base[i];
  }
  if (total < 0 || (__int128)total > sum) return false;
  for (size_t i = 0; i < n; i++)
    out[i] = 0;
  if (total == 0) return true;
  /* Floors first, then one more unit to the largest remainders. */
  int64_t given = 0;
  __int128 *rem = calloc(n, sizeof *rem);
  if (rem == NULL) return false;
  for (size_t i = 0; i < n; i++) {
    __int128 share = (__int128)total * base[i];
    out[i] = (int64_t)(share / sum);
    rem[i] = share % sum;
    given += out[i];
  }
  int64_t left = total - given; /* < n */
  while (left > 0) {
    size_t best = n;
    for (size_t i = 0; i < n; i++) {
      if (out[i] >= base[i]) continue;
      if (best == n || rem[i] > rem[best]) best = i;
    }
    if (best == n) break; /* cannot happen: total <= sum */
    out[best]++;
    rem[best] = -1; /* each line gets at most one extra unit */
    left--;
  }
  free(rem);
  return left == 0;
}

/* The units of the eligible lines, cheapest first: of every X + Y units the
 * Y cheapest are free. `left[i]` is what line i still has to give. */
static bool buy_x_get_y(const struct promo *p, const struct price_line *lines,
                        size_t n, const int64_t *left, int64_t *take) {
  int64_t units = 0;
  for (size_t i = 0; i < n; i++) {
    take[i] = 0;
    if (promo_targets(p, &lines[i])) units += lines[i].quantity;
  }
  int64_t group = p->buy_quantity + p->get_quantity;
  if (p->buy_quantity < 1 || p->get_quantity < 1 || group > 1000) return true;
  int64_t free_units = units / group * p->get_quantity;
  /* Walk the eligible lines from the cheapest unit price (ties: the earlier
   * line), taking free units from each. */
  bool *done = calloc(n + 1, sizeof *done);
  if (done == NULL) return false;
  while (free_units > 0) {
    size_t best = n;
    for (size_t i = 0; i < n; i++) {
      if (done[i] || !promo_targets(p, &lines[i])) continue;
      if (best == n || lines[i].unit_price < lines[best].unit_price) best = i;
    }
    if (best == n) break;
    done[best] = true;
    int64_t k =
        lines[best].quantity < free_units ? lines[best].quantity : free_units;
    int64_t amount;
    if (!money_mul(lines[best].unit_price, k, &amount)) {
      free(done);
      return false;
    }
    take[best] = amount < left[best] ? amount : left[best];
    free_units -= k;
  }
  free(done);
  return true;
}

bool promo_price(struct price_line *lines, size_t n, const char *currency,
                 const struct promo *promos, size_t m,
                 struct promo_result *results, int64_t *discount_total,
                 bool *free_shipping) {
  bool ok = false;
  int64_t subtotal = 0, total = 0;
  int64_t *left = calloc(n + 1, sizeof *left);
  int64_t *base = calloc(n + 1, sizeof *base);
  int64_t *take = calloc(n + 1, sizeof *take);
  *discount_total = 0;
  *free_shipping = false;
  if (left == NULL || base == NULL || take == NULL) goto cleanup;
  for (size_t i = 0; i < n; i++) {
    lines[i].discount = 0;
    if (lines[i].unit_price < 0 || lines[i].quantity < 1) goto cleanup;
    if (!money_mul(lines[i].unit_price, lines[i].quantity, &left[i]))
      goto cleanup;
    if (!money_add(subtotal, left[i], &subtotal)) goto cleanup;
  }
  for (size_t j = 0; j < m; j++) {
    const struct promo *p = &promos[j];
    struct promo_result *r = &results[j];
    memset(r, 0, sizeof *r);
    r->check = promo_check(p, lines, n, currency, subtotal);
    if (r->check != PROMO_OK) continue;
    r->applied = true;
    int64_t eligible = 0;
    for (size_t i = 0; i < n; i++) {
      base[i] = promo_targets(p, &lines[i]) ? left[i] : 0;
      take[i] = 0;
      if (!money_add(eligible, base[i], &eligible)) goto cleanup;
    }
    int64_t amount = 0;
    switch (p->type) {
    case PROMO_PERCENTAGE:
      if (p->value < 0 || p->value > 10000) goto cleanup;
      if (!money_apply_bp(eligible, p->value, &amount)) goto cleanup;
      if (amount > eligible) amount = eligible;
      if (!promo_allocate(amount, base, n, take)) goto cleanup;
      break;
    case PROMO_FIXED:
      if (p->value < 0) goto cleanup;
      amount = p->value < eligible ? p->value : eligible;
      if (!promo_allocate(amount, base, n, take)) goto cleanup;
      break;
    case PROMO_FREE_SHIPPING:
      *free_shipping = true;
      break;
    case PROMO_BUY_X_GET_Y:
      if (!buy_x_get_y(p, lines, n, left, take)) goto cleanup;
      break;
    default:
      goto cleanup;
    }
    amount = 0;
    for (size_t i = 0; i < n; i++) {
      left[i] -= take[i];
      lines[i].discount += take[i];
      amount += take[i];
    }
    r->amount = amount;
    total += amount;
  }
  *discount_total = total;
  ok = true;
cleanup:
  free(left);
  free(base);
  free(take);
  return ok;
}

bool promo_code_normalize(const char *in, char out[PROMO_CODE_MAX + 1]) {
  size_t n = in ? strlen(in) : 0;
  if (n < PROMO_CODE_MIN || n > PROMO_CODE_MAX) return false;
  for (size_t i = 0; i < n; i++) {
    char c = in[i];
    if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_'))
      return false;
    out[i] = c;
  }
  out[n] = '\0';
  return true;
}

bool promo_parse_percent(const char *s, int64_t *bp) {
  /* A percentage is an amount with two decimals: reuse the money parser
   * (refuses signs, exponents, spaces and overlong values). */
  int64_t v = 0;
  if (s == NULL || money_parse(s, "USD", &v) != KIT_OK) return false;
  if (v <= 0 || v > 10000) return false;
  *bp = v;
  return true;
}

char *promo_format_percent(int64_t bp, char *buf) {
  if (bp % 100 == 0)
    snprintf(buf, 32, "%lld", (long long)(bp / 100));
  else if (bp % 10 == 0)
    snprintf(buf, 32, "%lld.%lld", (long long)(bp / 100),
             (long long)(bp % 100 / 10));
  else
    snprintf(buf, 32, "%lld.%02lld", (long long)(bp / 100),
             (long long)(bp % 100));
  return buf;
}
