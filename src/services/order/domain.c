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

bool order_status_parse(const char *name, enum order_status *out) {
  if (name == NULL) return false;
  for (int i = 0; i < ORDER_STATUS_COUNT; i++) {
    if (strcmp(name, status_names[i]) == 0) {
      *out = (enum order_status)i;
      return true;
    }
  }
  return false;
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
