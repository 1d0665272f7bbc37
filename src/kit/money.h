/* money.h - amounts as int64 minor units, never floating point.
 *
 * Parsing and formatting between decimal strings ("19.99") and minor units
 * (1999) per ISO 4217 currency exponent, checked arithmetic that refuses to
 * overflow, and half-up rounding for basis-point rates (tax).
 */
#ifndef SHOPSPHERE_KIT_MONEY_H
#define SHOPSPHERE_KIT_MONEY_H

#include <stdbool.h>
#include <stdint.h>

/* Minor-unit exponent of an ISO 4217 code ("USD" 2, "JPY" 0, "KWD" 3);
 * -1 when the code is unknown. */
int money_currency_exponent(const char *code);

/* true for a known ISO 4217 code (uppercase, 3 letters). */
bool money_currency_valid(const char *code);

/* Parses a non-negative decimal string with at most the currency's number of
 * decimals ("19.99", "20", "0.5") into minor units. Refuses signs, exponents,
 * spaces, empty parts ("1.", ".5"), more decimals than allowed, leading zeros
 * beyond one, and values above MONEY_MAX. Returns KIT_OK or KIT_INVALID. */
int money_parse(const char *s, const char *currency, int64_t *minor);

/* Same but allows a leading '-'. */
int money_parse_signed(const char *s, const char *currency, int64_t *minor);

/* Formats minor units with exactly the currency's decimals ("19.99", "-0.50",
 * "100"); buf of at least MONEY_BUF bytes. Returns buf. */
#define MONEY_BUF 32
char *money_format(int64_t minor, const char *currency, char *buf);

/* Largest amount accepted anywhere: 10^15 minor units, far above any order
 * and far below INT64_MAX, so sums of many lines cannot overflow unnoticed. */
#define MONEY_MAX INT64_C(1000000000000000)

/* Checked arithmetic: return false (and leave *out unchanged) when the result
 * would overflow int64 or exceed ±MONEY_MAX. */
bool money_add(int64_t a, int64_t b, int64_t *out);
bool money_sub(int64_t a, int64_t b, int64_t *out);
bool money_mul(int64_t amount, int64_t quantity, int64_t *out);

/* amount × basis_points / 10000, rounded half-up (away from zero on .5);
 * false on overflow. 825 bp = 8.25 %. */
bool money_apply_bp(int64_t amount, int64_t basis_points, int64_t *out);

#endif
