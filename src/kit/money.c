/* money.c - decimal strings to int64 minor units and back, checked
 * arithmetic and basis-point rounding (see money.h).
 *
 * Integer arithmetic only: every amount is a count of the currency's minor
 * unit, and every step that could overflow is checked, because a silently
 * wrapped total is far worse than a refused order.
 */
#include "money.h"

#include <string.h>

#include "err.h"

struct currency {
  char code[4];
  int exponent;
};

/* ISO 4217 minor-unit exponents, alphabetical. Exponents follow the ISO list
 * even where everyday practice differs (HUF, IDR and COP have 2 there). */
static const struct currency currencies[] = {
    {"AED", 2}, {"ARS", 2}, {"AUD", 2}, {"BDT", 2}, {"BGN", 2}, {"BHD", 3},
    {"BIF", 0}, {"BRL", 2}, {"CAD", 2}, {"CHF", 2}, {"CLP", 0}, {"CNY", 2},
    {"COP", 2}, {"CZK", 2}, {"DJF", 0}, {"DKK", 2}, {"EGP", 2}, {"EUR", 2},
    {"GBP", 2}, {"GEL", 2}, {"GNF", 0}, {"HKD", 2}, {"HUF", 2}, {"IDR", 2},
    {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"ISK", 0}, {"JOD", 3}, {"JPY", 0},
    {"KES", 2}, {"KMF", 0}, {"KRW", 0}, {"KWD", 3}, {"KZT", 2}, {"LKR", 2},
    {"LYD", 3}, {"MAD", 2}, {"MXN", 2}, {"MYR", 2}, {"NGN", 2}, {"NOK", 2},
    {"NZD", 2}, {"OMR", 3}, {"PEN", 2}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2},
    {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"RUB", 2}, {"RWF", 0},
    {"SAR", 2}, {"SEK", 2}, {"SGD", 2}, {"THB", 2}, {"TND", 3}, {"TRY", 2},
    {"TWD", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"UYU", 2}, {"VND", 0},
    {"VUV", 0}, {"XAF", 0}, {"XOF", 0}, {"XPF", 0}, {"ZAR", 2},
};

#define CURRENCY_COUNT (sizeof(currencies) / sizeof(currencies[0]))

int money_currency_exponent(const char *code) {
  if (code == NULL || strlen(code) != 3)
    return -1;
  for (size_t i = 0; i < CURRENCY_COUNT; i++)
    if (memcmp(currencies[i].code, code, 3) == 0)
      return currencies[i].exponent;
  return -1;
}

bool money_currency_valid(const char *code) {
  return money_currency_exponent(code) >= 0;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Parses the unsigned grammar  int ( '.' frac )?  where int is "0" or starts
 * with 1-9, and frac has 1..exponent digits. The value is accumulated in
 * minor units and refused as soon as it passes MONEY_MAX, which keeps every
 * intermediate far from int64 overflow. */
static int parse_unsigned(const char *s, int exponent, int64_t *minor) {
  int64_t v = 0;
  const char *p = s;

  if (!is_digit(*p))
    return KIT_INVALID; /* empty, sign, space, ".5" */
  if (p[0] == '0' && is_digit(p[1]))
    return KIT_INVALID; /* leading zeros beyond one */
  for (; is_digit(*p); p++) {
    v = v * 10 + (*p - '0');
    if (v > MONEY_MAX)
      return KIT_INVALID;
  }

  int decimals = 0;
  if (*p == '.') {
    p++;
    if (!is_digit(*p))
      return KIT_INVALID; /* "1." */
    for (; is_digit(*p); p++) {
      if (++decimals > exponent)
        return KIT_INVALID; /* too precise for this currency */
      v = v * 10 + (*p - '0');
      if (v > MONEY_MAX)
        return KIT_INVALID;
    }
  }
  if (*p != '\0')
    return KIT_INVALID; /* exponent, trailing junk or space */

  /* Scale the missing decimals: "0.5" in USD is 50. */
  for (; decimals < exponent; decimals++) {
    v *= 10;
    if (v > MONEY_MAX)
      return KIT_INVALID;
  }
  *minor = v;
  return KIT_OK;
}

int money_parse(const char *s, const char *currency, int64_t *minor) {
  int exponent = money_currency_exponent(currency);
  if (s == NULL || minor == NULL || exponent < 0)
    return KIT_INVALID;
  return parse_unsigned(s, exponent, minor);
}

int money_parse_signed(const char *s, const char *currency, int64_t *minor) {
  int exponent = money_currency_exponent(currency);
  if (s == NULL || minor == NULL || exponent < 0)
    return KIT_INVALID;
  bool negative = (*s == '-');
  int64_t v;
  if (parse_unsigned(negative ? s + 1 : s, exponent, &v) != KIT_OK)
    return KIT_INVALID;
  *minor = negative ? -v : v;
  return KIT_OK;
}

char *money_format(int64_t minor, const char *currency, char *buf) {
  int exponent = money_currency_exponent(currency);
  /* An unknown code cannot come from a validated record; two decimals is the
   * least surprising rendering if one slips through. */
  if (exponent < 0)
    exponent = 2;

  /* Digits are written backwards into a scratch buffer, from the magnitude
   * in uint64 so INT64_MIN needs no special case. 20 digits, a point, a
   * sign and the NUL fit well within MONEY_BUF. */
  uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
  char tmp[MONEY_BUF];
  char *p = tmp + sizeof tmp;
  *--p = '\0';
  for (int i = 0; i < exponent; i++) {
    *--p = (char)('0' + mag % 10);
    mag /= 10;
  }
  if (exponent > 0)
    *--p = '.';
  do {
    *--p = (char)('0' + mag % 10);
    mag /= 10;
  } while (mag > 0);
  if (minor < 0)
    *--p = '-';
  memcpy(buf, p, (size_t)(tmp + sizeof tmp - p));
  return buf;
}

static bool within_max(int64_t v) { return v <= MONEY_MAX && v >= -MONEY_MAX; }

bool money_add(int64_t a, int64_t b, int64_t *out) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r) || !within_max(r))
    return false;
  *out = r;
  return true;
}

bool money_sub(int64_t a, int64_t b, int64_t *out) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r) || !within_max(r))
    return false;
  *out = r;
  return true;
}

bool money_mul(int64_t amount, int64_t quantity, int64_t *out) {
  int64_t r;
  if (__builtin_mul_overflow(amount, quantity, &r) || !within_max(r))
    return false;
  *out = r;
  return true;
}

/* amount × bp / 10000 without a wider integer type. With amount = qa·10⁴ + ra
 * and bp = qb·10⁴ + rb (C division truncates, so each remainder has the sign
 * of its quotient), the product over 10⁴ is
 *     qa·qb·10⁴ + qa·rb + ra·qb + ra·rb/10⁴.
 * Every term has the sign of amount × bp, so if any term overflows the result
 * does too, and only the last term has a fractional part to round. */
bool money_apply_bp(int64_t amount, int64_t basis_points, int64_t *out) {
  const int64_t D = 10000;
  int64_t qa = amount / D, ra = amount % D;
  int64_t qb = basis_points / D, rb = basis_points % D;
  int64_t t1, t2, t3, sum;

  if (__builtin_mul_overflow(qa, qb, &t1) ||
      __builtin_mul_overflow(t1, D, &t1) ||
      __builtin_mul_overflow(qa, rb, &t2) ||
      __builtin_mul_overflow(ra, qb, &t3))
    return false;

  /* |ra·rb| < 10⁸: no overflow. Round half away from zero. */
  int64_t frac = ra * rb;
  int64_t t4 = frac / D;
  int64_t rem = frac % D;
  if (rem >= D / 2)
    t4++;
  else if (rem <= -D / 2)
    t4--;

  if (__builtin_add_overflow(t1, t2, &sum) ||
      __builtin_add_overflow(sum, t3, &sum) ||
      __builtin_add_overflow(sum, t4, &sum) || !within_max(sum))
    return false;
  *out = sum;
  return true;
}
