/* domain.h - the order service's decisions, free of SQL and HTTP.
 *
 * The state machine (which transitions are legal), the money of an order
 * (tax half-up per line in basis points, totals), how much may still be
 * refunded, and the hash that binds an Idempotency-Key to its request body.
 * Unit-tested in tests/unit/test_order_domain.c.
 */
#ifndef SHOPSPHERE_ORDER_DOMAIN_H
#define SHOPSPHERE_ORDER_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum order_status {
  ORDER_PENDING = 0,
  ORDER_CONFIRMED,
  ORDER_PROCESSING,
  ORDER_SHIPPED,
  ORDER_DELIVERED,
  ORDER_CANCELLED,
  ORDER_REFUNDED,
  ORDER_STATUS_COUNT
};

/* "pending", ...; NULL for an out-of-range value. */
const char *order_status_name(enum order_status s);

/* Parses a status name; false when unknown. */
bool order_status_parse(const char *name, enum order_status *out);

/* true when an order may move from `from` to `to`:
 *   pending    -> confirmed | cancelled          (the saga's outcome)
 *   confirmed  -> processing | shipped | cancelled
 *   processing -> shipped | cancelled
 *   shipped    -> delivered | refunded
 *   delivered  -> refunded
 * cancelled and refunded are final; a status never moves to itself. */
bool order_transition_allowed(enum order_status from, enum order_status to);

/* true while the order may still be cancelled (before shipping, after the
 * saga): confirmed or processing. */
bool order_cancellable(enum order_status s);

/* One priced line. */
struct order_line_money {
  int64_t unit_price; /* in */
  int64_t quantity;   /* in */
  int64_t discount;   /* in: what promotions took from the line (0: none) */
  int64_t subtotal;   /* out: unit_price x quantity */
  int64_t tax;        /* out: (subtotal - discount) x rate, half-up */
  int64_t total;      /* out: subtotal - discount + tax */
};

struct order_totals {
  int64_t subtotal;
  int64_t discount; /* the lines' discounts */
  int64_t tax;
  int64_t shipping;
  int64_t total; /* subtotal - discount + tax + shipping */
};

/* Prices lines[0..n) at tax_rate_bp (tax on the discounted amount, rounded
 * half-up per line; shipping is not taxed) and sums the totals with the
 * shipping amount. false when a value is negative, a discount exceeds its
 * line or a sum would overflow. */
bool order_price(struct order_line_money *lines, size_t n, int64_t tax_rate_bp,
                 int64_t shipping, struct order_totals *out);

enum refund_check {
  REFUND_OK = 0,
  REFUND_NOTHING_CAPTURED, /* nothing was captured (yet) */
  REFUND_BEYOND_CAPTURED,  /* more than captured minus refunded */
  REFUND_INVALID_AMOUNT,   /* zero or negative */
};

/* Decides a refund of `requested` (or, when has_amount is false, of all that
 * is left) against what was captured and refunded already; *amount receives
 * the amount to refund on REFUND_OK. */
enum refund_check order_refund_check(int64_t captured, int64_t refunded,
                                     bool has_amount, int64_t requested,
                                     int64_t *amount);

/* SHA-256 of the canonical request (JSON with sorted keys, no spaces) as 64
 * hex digits: the same body in another key order or spacing hashes alike. */
void order_request_hash(const char *canonical, size_t len, char out[65]);

/* --- returns (docs/returns.md) --- */

enum return_status {
  RETURN_REQUESTED = 0,
  RETURN_APPROVED,
  RETURN_REJECTED,
  RETURN_RECEIVED,
  RETURN_REFUNDED,
  RETURN_STATUS_COUNT
};

/* "requested", ...; NULL for an out-of-range value. */
const char *return_status_name(enum return_status s);
bool return_status_parse(const char *name, enum return_status *out);

/* true when a return may move from `from` to `to`:
 *   requested -> approved | rejected
 *   approved  -> received | rejected
 *   received  -> refunded
 * rejected and refunded are final. */
bool return_transition_allowed(enum return_status from, enum return_status to);

/* true while a line delivered at delivered_at_s (Unix seconds) may still be
 * returned at now_s with a window of window_days days: now is at most
 * window_days x 86400 seconds after the delivery (a clock behind the
 * delivery counts as inside). false for a negative window. */
bool order_return_window_open(int64_t delivered_at_s, int64_t now_s,
                              int64_t window_days);

/* true when `requested` units of a line of `bought` units, of which
 * `returned` are in returns already (not rejected), may be returned:
 * 1 <= requested <= bought - returned. */
bool order_return_quantity_ok(int64_t bought, int64_t returned,
                              int64_t requested);

/* The share of `amount` (minor units, spread over `quantity` units) that
 * `units` more units carry when `done` units were taken before:
 * round(amount x (done + units) / quantity) - round(amount x done /
 * quantity), each rounded half up. Taking all units in any number of steps
 * adds up to `amount` exactly. false on a negative amount, quantity < 1,
 * units < 1, done < 0, done + units > quantity or overflow. */
bool order_prorate(int64_t amount, int64_t quantity, int64_t done,
                   int64_t units, int64_t *out);

/* The refund of `units` returned units of a line (after `done` refunded
 * before): its net price (unit price x quantity) less the line's discount
 * (absent: 0), and its tax, each prorated with order_prorate. The discount
 * is what promotions took from the line, so the customer gets back what
 * was paid for those units, never the list price. false when the discount
 * exceeds the net price or order_prorate refuses. */
bool order_line_refund(int64_t line_net, int64_t line_tax,
                       int64_t line_discount, int64_t quantity, int64_t done,
                       int64_t units, int64_t *out);

/* Picks the tax rate: a region's rule beats the country's; 0 when neither. */
int64_t order_pick_tax_rate(bool has_region_rate, int64_t region_rate,
                            bool has_country_rate, int64_t country_rate);

#endif
