/* domain.c - the order state machine, money and idempotency hashing. */
#include "services/order/domain.h"

#include <sodium.h>
#include <string.h>

#include "kit/money.h"

static const char *const status_names[ORDER_STATUS_COUNT] = {
    "pending",   "confirmed", "processing", "shipped",
    "delivered", "cancelled", "refunded",
};

const char *order_status_name(enum order_status s) {
  if ((unsigned)s >= ORDER_STATUS_COUNT) return NULL;
  return status_names[s];
}

/* The index of name in names[0..count), or -1. */
static int name_index(const char *const *names, int count, const char *name) {
  if (name == NULL) return -1;
  for (int i = 0; i < count; i++)
    if (strcmp(name, names[i]) == 0) return i;
  return -1;
}

bool order_status_parse(const char *name, enum order_status *out) {
  int i = name_index(status_names, ORDER_STATUS_COUNT, name);
  if (i < 0) return false;
  *out = (enum order_status)i;
  return true;
}

/* Row: from; bit per allowed target. */
#define BIT(s) (1u << (s))
static const unsigned allowed[ORDER_STATUS_COUNT] = {
    [ORDER_PENDING] = BIT(ORDER_CONFIRMED) | BIT(ORDER_CANCELLED),
    [ORDER_CONFIRMED] =
        BIT(ORDER_PROCESSING) | BIT(ORDER_SHIPPED) | BIT(ORDER_CANCELLED),
    [ORDER_PROCESSING] = BIT(ORDER_SHIPPED) | BIT(ORDER_CANCELLED),
    [ORDER_SHIPPED] = BIT(ORDER_DELIVERED) | BIT(ORDER_REFUNDED),
    [ORDER_DELIVERED] = BIT(ORDER_REFUNDED),
    [ORDER_CANCELLED] = 0,
    [ORDER_REFUNDED] = 0,
};

bool order_transition_allowed(enum order_status from, enum order_status to) {
  if ((unsigned)from >= ORDER_STATUS_COUNT ||
      (unsigned)to >= ORDER_STATUS_COUNT)
    return false;
  return (allowed[from] & BIT(to)) != 0;
}

bool order_cancellable(enum order_status s) {
  return s == ORDER_CONFIRMED || s == ORDER_PROCESSING;
}

bool order_price(struct order_line_money *lines, size_t n, int64_t tax_rate_bp,
                 int64_t shipping, struct order_totals *out) {
  struct order_totals t = {0, 0, 0, shipping, 0};
  if (shipping < 0 || tax_rate_bp < 0) return false;
  for (size_t i = 0; i < n; i++) {
    struct order_line_money *l = &lines[i];
    if (l->unit_price < 0 || l->quantity < 1 || l->discount < 0) return false;
    if (!money_mul(l->unit_price, l->quantity, &l->subtotal)) return false;
    if (l->discount > l->subtotal) return false;
    int64_t taxable = l->subtotal - l->discount;
    if (!money_apply_bp(taxable, tax_rate_bp, &l->tax)) return false;
    if (!money_add(taxable, l->tax, &l->total)) return false;
    if (!money_add(t.subtotal, l->subtotal, &t.subtotal)) return false;
    if (!money_add(t.discount, l->discount, &t.discount)) return false;
    if (!money_add(t.tax, l->tax, &t.tax)) return false;
  }
  int64_t sum;
  if (!money_sub(t.subtotal, t.discount, &sum)) return false;
  if (!money_add(sum, t.tax, &sum)) return false;
  if (!money_add(sum, t.shipping, &t.total)) return false;
  *out = t;
  return true;
}

enum refund_check order_refund_check(int64_t captured, int64_t refunded,
                                     bool has_amount, int64_t requested,
                                     int64_t *amount) {
  if (captured <= 0) return REFUND_NOTHING_CAPTURED;
  int64_t left = captured - refunded;
  if (!has_amount) {
    if (left <= 0) return REFUND_BEYOND_CAPTURED;
    *amount = left;
    return REFUND_OK;
  }
  if (requested <= 0) return REFUND_INVALID_AMOUNT;
  if (requested > left) return REFUND_BEYOND_CAPTURED;
  *amount = requested;
  return REFUND_OK;
}

void order_request_hash(const char *canonical, size_t len, char out[65]) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, (const unsigned char *)canonical, len);
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < sizeof digest; i++) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 0x0f];
  }
  out[64] = '\0';
}

int64_t order_pick_tax_rate(bool has_region_rate, int64_t region_rate,
                            bool has_country_rate, int64_t country_rate) {
  if (has_region_rate) return region_rate;
  if (has_country_rate) return country_rate;
  return 0;
}

/* --- returns --- */

static const char *const return_names[RETURN_STATUS_COUNT] = {
    "requested", "approved", "rejected", "received", "refunded",
};

const char *return_status_name(enum return_status s) {
  if ((unsigned)s >= RETURN_STATUS_COUNT) return NULL;
  return return_names[s];
}

bool return_status_parse(const char *name, enum return_status *out) {
  int i = name_index(return_names, RETURN_STATUS_COUNT, name);
  if (i < 0) return false;
  *out = (enum return_status)i;
  return true;
}

static const unsigned return_allowed[RETURN_STATUS_COUNT] = {
    [RETURN_REQUESTED] = BIT(RETURN_APPROVED) | BIT(RETURN_REJECTED),
    [RETURN_APPROVED] = BIT(RETURN_RECEIVED) | BIT(RETURN_REJECTED),
    [RETURN_REJECTED] = 0,
    [RETURN_RECEIVED] = BIT(RETURN_REFUNDED),
    [RETURN_REFUNDED] = 0,
};

bool return_transition_allowed(enum return_status from, enum return_status to) {
  if ((unsigned)from >= RETURN_STATUS_COUNT ||
      (unsigned)to >= RETURN_STATUS_COUNT)
    return false;
  return (return_allowed[from] & BIT(to)) != 0;
}

#define SECONDS_PER_DAY INT64_C(86400)
/* More days than any shop keeps a window open; keeps the product small. */
#define WINDOW_DAYS_MAX INT64_C(36500)

bool order_return_window_open(int64_t delivered_at_s, int64_t now_s,
                              int64_t window_days) {
  if (window_days < 0) return false;
  if (window_days > WINDOW_DAYS_MAX) window_days = WINDOW_DAYS_MAX;
  if (now_s <= delivered_at_s) return true;
  /* now_s - delivered_at_s cannot overflow: both are sane epoch seconds,
   * and a difference beyond the window is closed anyway. */
  if (delivered_at_s < 0 && now_s > INT64_MAX + delivered_at_s) return false;
  return now_s - delivered_at_s <= window_days * SECONDS_PER_DAY;
}

bool order_return_quantity_ok(int64_t bought, int64_t returned,
                              int64_t requested) {
  if (bought < 1 || returned < 0 || returned > bought) return false;
  return requested >= 1 && requested <= bought - returned;
}

/* round(amount x units / quantity), half up, for 0 <= units <= quantity. */
static bool share(int64_t amount, int64_t quantity, int64_t units,
                  int64_t *out) {
  int64_t product; /* may pass MONEY_MAX: it is divided right after */
  if (__builtin_mul_overflow(amount, units, &product)) return false;
  *out = product / quantity + (2 * (product % quantity) >= quantity ? 1 : 0);
  return true;
}

bool order_prorate(int64_t amount, int64_t quantity, int64_t done,
                   int64_t units, int64_t *out) {
  if (amount < 0 || quantity < 1 || units < 1 || done < 0 ||
      done > quantity - units)
    return false;
  int64_t upto, before;
  if (!share(amount, quantity, done + units, &upto)) return false;
  if (!share(amount, quantity, done, &before)) return false;
  *out = upto - before;
  return true;
}

bool order_line_refund(int64_t line_net, int64_t line_tax,
                       int64_t line_discount, int64_t quantity, int64_t done,
                       int64_t units, int64_t *out) {
  if (line_net < 0 || line_tax < 0 || line_discount < 0 ||
      line_discount > line_net)
    return false;
  int64_t net, tax;
  if (!order_prorate(line_net - line_discount, quantity, done, units, &net))
    return false;
  if (!order_prorate(line_tax, quantity, done, units, &tax)) return false;
  return money_add(net, tax, out);
}
