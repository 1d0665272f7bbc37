/* domain.c - the product service's pure decisions (see domain.h). */
#include "services/product/domain.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/money.h"
#include "kit/uuid.h"

static const char *const sort_names[SORT_COUNT] = {
    [SORT_NEWEST] = "newest",
    [SORT_PRICE_ASC] = "price_asc",
    [SORT_PRICE_DESC] = "price_desc",
    [SORT_NAME] = "name",
};

bool product_sort_parse(const char *s, enum product_sort *out) {
  if (s == NULL) return false;
  for (int i = 0; i < SORT_COUNT; i++) {
    if (strcmp(s, sort_names[i]) == 0) {
      *out = (enum product_sort)i;
      return true;
    }
  }
  return false;
}

const char *product_sort_name(enum product_sort sort) {
  return (unsigned)sort < SORT_COUNT ? sort_names[sort] : "newest";
}

/* --- cursors: base64url of "1|<sort>|<id>|<key>" ------------------------- */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64_value(char c) {
  const char *p = c != '\0' ? strchr(b64, c) : NULL;
  return p != NULL ? (int)(p - b64) : -1;
}

/* Encodes n bytes; false when out (size) is too small. */
static bool b64url_encode(const unsigned char *in, size_t n, char *out,
                          size_t size) {
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16;
    size_t left = n - i;
    if (left > 1) v |= (uint32_t)in[i + 1] << 8;
    if (left > 2) v |= in[i + 2];
    size_t chars = left >= 3 ? 4 : left + 1;
    if (o + chars + 1 > size) return false;
    for (size_t k = 0; k < chars; k++)
      out[o++] = b64[(v >> (18 - 6 * k)) & 63];
  }
  if (o + 1 > size) return false;
  out[o] = '\0';
  return true;
}

/* Decodes unpadded base64url; returns the byte count or -1. */
static long b64url_decode(const char *in, unsigned char *out, size_t size) {
  size_t n = strlen(in), o = 0;
  if (n % 4 == 1) return -1;
  for (size_t i = 0; i < n; i += 4) {
    uint32_t v = 0;
    size_t chars = n - i >= 4 ? 4 : n - i;
    for (size_t k = 0; k < 4; k++) {
      int d = k < chars ? b64_value(in[i + k]) : 0;
      if (d < 0) return -1;
      v |= (uint32_t)d << (18 - 6 * k);
    }
    size_t bytes = chars - 1;
    if (o + bytes > size) return -1;
    for (size_t k = 0; k < bytes; k++)
      out[o++] = (unsigned char)(v >> (16 - 8 * k));
  }
  return (long)o;
}

bool product_cursor_encode(const struct list_cursor *c, char *out,
                           size_t size) {
  char plain[CURSOR_KEY_MAX + 64];
  int n =
      snprintf(plain, sizeof plain, "1|%d|%s|%s", (int)c->sort, c->id, c->key);
  if (n < 0 || (size_t)n >= sizeof plain) return false;
  return b64url_encode((const unsigned char *)plain, (size_t)n, out, size);
}

static bool int_text(const char *s) {
  if (*s == '-') s++;
  if (*s == '\0' || strlen(s) > 18) return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9') return false;
  return true;
}

bool product_cursor_decode(const char *text, struct list_cursor *out) {
  unsigned char plain[CURSOR_KEY_MAX + 64];
  if (text == NULL || strlen(text) > CURSOR_TEXT_MAX) return false;
  long n = b64url_decode(text, plain, sizeof plain - 1);
  if (n < 6) return false;
  plain[n] = '\0';
  if (memchr(plain, '\0', (size_t)n) != NULL) return false;

  char *s = (char *)plain;
  if (strncmp(s, "1|", 2) != 0) return false;
  s += 2;
  if (s[0] < '0' || s[0] >= '0' + SORT_COUNT || s[1] != '|') return false;
  out->sort = (enum product_sort)(s[0] - '0');
  s += 2;
  char *bar = strchr(s, '|');
  if (bar == NULL || bar - s != 36) return false;
  *bar = '\0';
  if (!uuid_normalize(s, out->id)) return false;
  const char *key = bar + 1;
  if (strlen(key) >= sizeof out->key) return false;
  switch (out->sort) {
  case SORT_NEWEST:
    if (*key != '\0') return false;
    break;
  case SORT_PRICE_ASC:
  case SORT_PRICE_DESC:
    if (!int_text(key)) return false;
    break;
  default:
    break;
  }
  snprintf(out->key, sizeof out->key, "%s", key);
  return true;
}

/* --- identifiers ------------------------------------------------------------
 */

bool product_sku_valid(const char *sku) {
  size_t n = sku != NULL ? strlen(sku) : 0;
  if (n == 0 || n > PRODUCT_SKU_MAX) return false;
  for (const char *p = sku; *p; p++) {
    char c = *p;
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool product_status_valid(const char *status) {
  return status != NULL &&
         (strcmp(status, "draft") == 0 || strcmp(status, "active") == 0 ||
          strcmp(status, "archived") == 0);
}

bool product_category_slug_valid(const char *slug) {
  size_t n = slug != NULL ? strlen(slug) : 0;
  if (n == 0 || n > CATEGORY_SLUG_MAX) return false;
  if (slug[0] == '-' || slug[n - 1] == '-') return false;
  for (size_t i = 0; i < n; i++) {
    char c = slug[i];
    if (c == '-') {
      if (slug[i + 1] == '-') return false;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

bool product_category_slugify(const char *name, char *out, size_t size) {
  size_t o = 0;
  bool dash = false;
  if (size == 0) return false;
  for (const char *p = name; p != NULL && *p; p++) {
    char c = *p;
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!keep) {
      dash = o > 0;
      continue;
    }
    if (o + (dash ? 2 : 1) >= size || o + (dash ? 2 : 1) > CATEGORY_SLUG_MAX)
      break;
    if (dash) out[o++] = '-';
    dash = false;
    out[o++] = c;
  }
  out[o] = '\0';
  return o > 0;
}

bool product_category_within(const char *path, const char *ancestor_path) {
  size_t n = strlen(ancestor_path);
  return strncmp(path, ancestor_path, n) == 0 &&
         (path[n] == '\0' || path[n] == '/');
}

bool product_category_path(const char *parent_path, const char *slug, char *out,
                           size_t size) {
  int n = parent_path != NULL && parent_path[0] != '\0'
              ? snprintf(out, size, "%s/%s", parent_path, slug)
              : snprintf(out, size, "%s", slug);
  return n >= 0 && (size_t)n < size;
}

bool product_category_parent_path(const char *path, char *out, size_t size) {
  const char *slash = strrchr(path, '/');
  size_t n = slash != NULL ? (size_t)(slash - path) : 0;
  if (n >= size) return false;
  memcpy(out, path, n);
  out[n] = '\0';
  return true;
}

/* --- prices ------------------------------------------------------------------
 */

enum price_check product_price_parse(const char *price, const char *currency,
                                     int64_t *minor) {
  int exponent = money_currency_exponent(currency);
  if (exponent < 0) return PRICE_BAD_CURRENCY;
  if (price == NULL || *price == '\0') return PRICE_MALFORMED;
  if (*price == '-') return PRICE_NEGATIVE;

  /* Tell the reasons apart before money_parse, which only says no. */
  const char *p = price;
  size_t int_digits = 0, decimals = 0;
  if (*p == '0' && p[1] >= '0' && p[1] <= '9') return PRICE_MALFORMED;
  while (*p >= '0' && *p <= '9')
    p++, int_digits++;
  if (int_digits == 0) return PRICE_MALFORMED;
  if (*p == '.') {
    p++;
    while (*p >= '0' && *p <= '9')
      p++, decimals++;
    if (decimals == 0) return PRICE_MALFORMED;
  }
  if (*p != '\0') return PRICE_MALFORMED;
  if (decimals > (size_t)exponent) return PRICE_TOO_PRECISE;
  if (money_parse(price, currency, minor) != 0) return PRICE_TOO_LARGE;
  return PRICE_OK;
}

const char *product_price_message(enum price_check c) {
  switch (c) {
  case PRICE_OK:
    return "ok";
  case PRICE_BAD_CURRENCY:
    return "currency must be an ISO 4217 code such as \"USD\"";
  case PRICE_NEGATIVE:
    return "price must not be negative";
  case PRICE_MALFORMED:
    return "price must be a non-negative decimal amount such as \"19.99\"";
  case PRICE_TOO_PRECISE:
    return "price has more decimals than its currency allows";
  case PRICE_TOO_LARGE:
    return "price is too large";
  }
  return "price is invalid";
}

/* --- reservations ------------------------------------------------------------
 */

/* Lock order: product rows (no variant) before variant rows, each by id. */
static int by_product(const void *a, const void *b) {
  const struct reservation_line *x = a, *y = b;
  bool xv = x->variant_id[0] != '\0', yv = y->variant_id[0] != '\0';
  if (xv != yv) return xv ? 1 : -1;
  int c = strcmp(x->product_id, y->product_id);
  return c != 0 ? c : strcmp(x->variant_id, y->variant_id);
}

size_t product_reservation_lines_normalize(struct reservation_line *lines,
                                           size_t n, bool *overflow) {
  *overflow = false;
  if (n == 0) return 0;
  qsort(lines, n, sizeof lines[0], by_product);
  size_t out = 0;
  for (size_t i = 0; i < n; i++) {
    if (out > 0 && by_product(&lines[out - 1], &lines[i]) == 0) {
      lines[out - 1].quantity += lines[i].quantity;
      if (lines[out - 1].quantity > RESERVATION_MAX_QUANTITY) *overflow = true;
      continue;
    }
    lines[out++] = lines[i];
  }
  return out;
}

const char *product_reservation_status(const char *stored, bool past_expiry) {
  if (stored != NULL && strcmp(stored, "reserved") == 0 && past_expiry)
    return "expired";
  return stored != NULL ? stored : "";
}

/* --- options, variants, price lists -------------------------------------- */

/* 1..PRODUCT_OPTION_TEXT_MAX bytes, no control characters. */
static bool option_text_ok(const char *s) {
  if (s == NULL) return false;
  size_t n = strlen(s);
  if (n == 0 || n > PRODUCT_OPTION_TEXT_MAX) return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return false;
  return true;
}

enum option_check product_options_check(const struct product_option *opts,
                                        size_t n, size_t *bad) {
  *bad = 0;
  if (n > PRODUCT_OPTIONS_MAX) return OPTION_TOO_MANY;
  for (size_t i = 0; i < n; i++) {
    *bad = i;
    if (!option_text_ok(opts[i].name)) return OPTION_BAD_NAME;
    for (size_t j = 0; j < i; j++)
      if (strcmp(opts[j].name, opts[i].name) == 0) return OPTION_DUPLICATE_NAME;
    if (opts[i].value_count == 0 ||
        opts[i].value_count > PRODUCT_OPTION_VALUES_MAX)
      return OPTION_BAD_VALUES;
    for (size_t v = 0; v < opts[i].value_count; v++) {
      if (!option_text_ok(opts[i].values[v])) return OPTION_BAD_VALUES;
      for (size_t w = 0; w < v; w++)
        if (strcmp(opts[i].values[w], opts[i].values[v]) == 0)
          return OPTION_DUPLICATE_VALUE;
    }
  }
  return OPTION_OK;
}

const char *product_option_message(enum option_check c) {
  switch (c) {
  case OPTION_OK:
    return "ok";
  case OPTION_TOO_MANY:
    return "a product has at most 3 options";
  case OPTION_BAD_NAME:
    return "an option name must be 1-50 characters without control characters";
  case OPTION_DUPLICATE_NAME:
    return "two options have the same name";
  case OPTION_BAD_VALUES:
    return "an option needs 1-30 values of 1-50 characters each";
  case OPTION_DUPLICATE_VALUE:
    return "an option lists the same value twice";
  }
  return "options are invalid";
}

static const struct product_option *
option_named(const struct product_option *opts, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(opts[i].name, name) == 0) return &opts[i];
  return NULL;
}

enum variant_check product_variant_check(const struct product_option *opts,
                                         size_t n,
                                         const struct variant_choice *choice,
                                         size_t m, const char **bad_name) {
  *bad_name = NULL;
  if (n == 0) return VARIANT_NO_OPTIONS;
  for (size_t i = 0; i < m; i++) {
    *bad_name = choice[i].name;
    for (size_t j = 0; j < i; j++)
      if (strcmp(choice[j].name, choice[i].name) == 0)
        return VARIANT_DUPLICATE_OPTION;
    const struct product_option *o = option_named(opts, n, choice[i].name);
    if (o == NULL) return VARIANT_UNKNOWN_OPTION;
    bool known = false;
    for (size_t v = 0; v < o->value_count && !known; v++)
      known = strcmp(o->values[v], choice[i].value) == 0;
    if (!known) return VARIANT_UNKNOWN_VALUE;
  }
  for (size_t i = 0; i < n; i++) {
    bool given = false;
    for (size_t j = 0; j < m && !given; j++)
      given = strcmp(choice[j].name, opts[i].name) == 0;
    if (!given) {
      *bad_name = opts[i].name;
      return VARIANT_MISSING_OPTION;
    }
  }
  *bad_name = NULL;
  return VARIANT_OK;
}

const char *product_variant_message(enum variant_check c) {
  switch (c) {
  case VARIANT_OK:
    return "ok";
  case VARIANT_NO_OPTIONS:
    return "the product has no options: give it options before variants";
  case VARIANT_UNKNOWN_OPTION:
    return "the product has no option of this name";
  case VARIANT_UNKNOWN_VALUE:
    return "the option does not offer this value";
  case VARIANT_MISSING_OPTION:
    return "a variant takes a value for every option of its product";
  case VARIANT_DUPLICATE_OPTION:
    return "an option is named twice";
  }
  return "options are invalid";
}

bool product_variant_same(const struct variant_choice *a, size_t na,
                          const struct variant_choice *b, size_t nb) {
  if (na != nb) return false;
  for (size_t i = 0; i < na; i++) {
    bool match = false;
    for (size_t j = 0; j < nb && !match; j++)
      match = strcmp(a[i].name, b[j].name) == 0 &&
              strcmp(a[i].value, b[j].value) == 0;
    if (!match) return false;
  }
  return true;
}

long product_variants_duplicate(const struct variant_choice *const *combos,
                                const size_t *counts, size_t n) {
  for (size_t i = 1; i < n; i++)
    for (size_t j = 0; j < i; j++)
      if (product_variant_same(combos[i], counts[i], combos[j], counts[j]))
        return (long)i;
  return -1;
}

enum price_list_check product_price_list_check(struct price_entry *list,
                                               size_t n,
                                               const char *own_currency,
                                               size_t *bad,
                                               enum price_check *amount_check) {
  *bad = 0;
  *amount_check = PRICE_OK;
  if (n > PRODUCT_PRICES_MAX) return PRICE_LIST_TOO_MANY;
  for (size_t i = 0; i < n; i++) {
    *bad = i;
    if (list[i].currency == NULL || !money_currency_valid(list[i].currency))
      return PRICE_LIST_BAD_CURRENCY;
    if (own_currency != NULL && strcmp(list[i].currency, own_currency) == 0)
      return PRICE_LIST_OWN_CURRENCY;
    for (size_t j = 0; j < i; j++)
      if (strcmp(list[j].currency, list[i].currency) == 0)
        return PRICE_LIST_DUPLICATE;
    *amount_check =
        product_price_parse(list[i].amount != NULL ? list[i].amount : "",
                            list[i].currency, &list[i].minor);
    if (*amount_check != PRICE_OK) return PRICE_LIST_BAD_AMOUNT;
  }
  return PRICE_LIST_OK;
}

const char *product_currency_choose(const char *param, const char *storefront,
                                    const char *store_default) {
  const char *pick = param != NULL        ? param
                     : storefront != NULL ? storefront
                                          : store_default;
  return pick != NULL && money_currency_valid(pick) ? pick : NULL;
}

int64_t product_weight_grams(double kg) {
  /* 0.1 + 0.2 kg is 300.00000000000006 g: round to the nearest gram. */
  return (int64_t)floor(kg * 1000 + 0.5);
}
