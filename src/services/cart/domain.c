/* domain.c - the cart's decisions: quantities, repricing, access, ids. */
#include "services/cart/domain.h"

#include <stdio.h>
#include <string.h>

#include "kit/money.h"

enum cart_quantity_check cart_check_quantity(int64_t quantity,
                                             int64_t available) {
  if (quantity < 1 || quantity > CART_MAX_QUANTITY)
    return CART_QTY_OUT_OF_RANGE;
  if (quantity > available) return CART_QTY_NOT_ENOUGH_STOCK;
  return CART_QTY_OK;
}

int64_t cart_quantity_cap(int64_t available) {
  if (available < 0) return 0;
  return available < CART_MAX_QUANTITY ? available : CART_MAX_QUANTITY;
}

bool cart_line_matches(const struct cart_line *l,
                       const struct catalog_item *c) {
  if (c->unpriced) return false;
  return l->variant_id[0] != '\0' ? c->variant_found : !c->has_options;
}

bool cart_reprice(const struct cart_line *lines, const struct catalog_item *cat,
                  size_t n, struct cart_view_line *view,
                  struct cart_totals *totals) {
  memset(totals, 0, sizeof *totals);
  for (size_t i = 0; i < n; i++) {
    const struct cart_line *l = &lines[i];
    const struct catalog_item *c = &cat[i];
    struct cart_view_line *v = &view[i];
    memset(v, 0, sizeof *v);

    /* A product that vanished or changed currency cannot be bought from
     * this line; it keeps showing its snapshot so the customer sees what
     * it was. */
    bool same_currency = c->found && cart_line_matches(l, c) &&
                         strcmp(c->currency, l->currency) == 0;
    v->available = c->found && c->active && same_currency && c->available > 0;
    v->available_quantity = v->available ? c->available : 0;
    v->unit_price = same_currency ? c->price : l->snapshot_price;
    v->price_changed = same_currency && c->price != l->snapshot_price;
    v->insufficient_stock = v->available && c->available < l->quantity;

    if (!money_add(totals->item_count, l->quantity, &totals->item_count))
      return false;
    if (!v->available || v->insufficient_stock || v->price_changed)
      totals->issue_count++;
    if (!v->available) continue;
    if (!money_mul(v->unit_price, l->quantity, &v->line_total)) return false;
    if (!money_add(totals->subtotal, v->line_total, &totals->subtotal))
      return false;
  }
  return true;
}

bool cart_can_access(const char *owner_user_id, bool authenticated,
                     const char *caller_user_id) {
  if (owner_user_id == NULL || owner_user_id[0] == '\0') return true;
  return authenticated && caller_user_id != NULL &&
         strcmp(owner_user_id, caller_user_id) == 0;
}

void cart_format_v4(const unsigned char bytes[16], char out[UUID_STR_LEN]) {
  unsigned char b[16];
  memcpy(b, bytes, sizeof b);
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10 */
  snprintf(out, UUID_STR_LEN,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
           "%02x%02x%02x%02x%02x%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
           b[11], b[12], b[13], b[14], b[15]);
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return 0;
}

void cart_new_id(char out[UUID_STR_LEN]) {
  char hex[33];
  unsigned char bytes[16];
  random_hex(hex, sizeof bytes); /* the OS CSPRNG */
  for (size_t i = 0; i < sizeof bytes; i++)
    bytes[i] =
        (unsigned char)(hex_value(hex[2 * i]) << 4 | hex_value(hex[2 * i + 1]));
  cart_format_v4(bytes, out);
}
