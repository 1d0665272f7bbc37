/* variant_input.c - JSON to validated options, variants and price lists
 * (see variant_input.h). */
#include "services/product/variant_input.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/err.h"
#include "kit/money.h"
#include "services/product/input.h"

#define VARIANT_IMAGES_MAX 20
#define VARIANT_ATTRIBUTES_MAX_BYTES 8192

static int fail(struct json_error *err, enum api_error code, const char *field,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct json_error *err, enum api_error code, const char *field,
                const char *fmt, ...) {
  err->code = code;
  snprintf(err->field, sizeof err->field, "%s", field);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return KIT_INVALID;
}

static const char *dump(struct arena *a, const json_t *v, size_t flags) {
  char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | flags);
  if (text == NULL) return NULL;
  const char *copy = arena_strdup(a, text);
  free(text);
  return copy;
}

/* --- options -------------------------------------------------------------- */

int variant_options_read(const void *array, struct arena *a,
                         struct product_option **opts, size_t *n,
                         const char **text, struct json_error *err) {
  size_t count = json_array_size(array);
  if (count > PRODUCT_OPTIONS_MAX)
    return fail(err, API_UNPROCESSABLE, "options", "%s",
                product_option_message(OPTION_TOO_MANY));
  struct product_option *o = arena_alloc(a, sizeof *o * (count + 1));
  if (o == NULL) return fail(err, API_INTERNAL_ERROR, "options", "no memory");
  for (size_t i = 0; i < count; i++) {
    const json_t *item = json_array_get((const json_t *)array, i);
    const char *name = NULL;
    const void *values = NULL;
    const struct json_field fields[] = {
        {"name", JF_STRING, true, 1, PRODUCT_OPTION_TEXT_MAX, &name},
        {"values", JF_ARRAY, true, 1, PRODUCT_OPTION_VALUES_MAX, &values},
    };
    struct json_error inner;
    if (!json_is_object(item))
      return fail(err, API_VALIDATION_ERROR, "options",
                  "options[%zu] must be an object {name, values}", i);
    if (json_read_fields(item, fields, 2, true, a, &inner) != KIT_OK)
      return fail(err, inner.code, "options", "options[%zu]: %.150s", i,
                  inner.message);
    size_t nv = json_array_size(values);
    const char **vals = arena_alloc(a, sizeof *vals * (nv + 1));
    if (vals == NULL)
      return fail(err, API_INTERNAL_ERROR, "options", "no memory");
    for (size_t v = 0; v < nv; v++) {
      const json_t *s = json_array_get(values, v);
      if (!json_is_string(s))
        return fail(err, API_VALIDATION_ERROR, "options",
                    "options[%zu].values must be strings", i);
      vals[v] = arena_strdup(a, json_string_value(s));
    }
    o[i] = (struct product_option){name, vals, nv};
  }
  size_t bad = 0;
  enum option_check c = product_options_check(o, count, &bad);
  if (c != OPTION_OK)
    return fail(err, API_UNPROCESSABLE, "options", "options[%zu]: %s", bad,
                product_option_message(c));
  /* Canonical text: [{"name": ..., "values": [...]}] in the given order. */
  json_t *out = json_array();
  for (size_t i = 0; i < count; i++) {
    json_t *vals = json_array();
    for (size_t v = 0; v < o[i].value_count; v++)
      json_array_append_new(vals, json_string(o[i].values[v]));
    json_array_append_new(
        out, json_pack("{s:s, s:o}", "name", o[i].name, "values", vals));
  }
  *text = dump(a, out, JSON_SORT_KEYS);
  json_decref(out);
  *opts = o;
  *n = count;
  return *text != NULL ? KIT_OK
                       : fail(err, API_INTERNAL_ERROR, "options", "no memory");
}

bool variant_options_parse(const char *text, struct arena *a,
                           struct product_option **opts, size_t *n) {
  json_t *arr = json_loads(text != NULL ? text : "[]", 0, NULL);
  bool ok = json_is_array(arr);
  size_t count = ok ? json_array_size(arr) : 0;
  struct product_option *o = arena_alloc(a, sizeof *o * (count + 1));
  ok = ok && o != NULL;
  for (size_t i = 0; ok && i < count; i++) {
    const json_t *item = json_array_get(arr, i);
    const json_t *values = json_object_get(item, "values");
    const char *name = json_string_value(json_object_get(item, "name"));
    size_t nv = json_array_size(values);
    const char **vals = arena_alloc(a, sizeof *vals * (nv + 1));
    ok = name != NULL && vals != NULL;
    for (size_t v = 0; ok && v < nv; v++) {
      const char *s = json_string_value(json_array_get(values, v));
      ok = s != NULL;
      vals[v] = ok ? arena_strdup(a, s) : NULL;
    }
    if (ok) o[i] = (struct product_option){arena_strdup(a, name), vals, nv};
  }
  json_decref(arr);
  if (!ok) return false;
  *opts = o;
  *n = count;
  return true;
}

/* --- a variant's choices ---------------------------------------------------
 */

static bool choice_from_object(const json_t *obj, struct arena *a,
                               struct variant_choice **choice, size_t *m,
                               const char **bad_key) {
  size_t count = json_object_size(obj);
  struct variant_choice *c = arena_alloc(a, sizeof *c * (count + 1));
  if (c == NULL) return false;
  size_t i = 0;
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)obj, key, v) {
    if (!json_is_string(v)) {
      *bad_key = key;
      return false;
    }
    c[i].name = arena_strdup(a, key);
    c[i].value = arena_strdup(a, json_string_value(v));
    i++;
  }
  *choice = c;
  *m = i;
  return true;
}

int variant_choice_read(const void *object, const struct product_option *opts,
                        size_t n, struct arena *a, const char **text,
                        struct json_error *err) {
  struct variant_choice *choice = NULL;
  size_t m = 0;
  const char *bad_key = NULL;
  if (!json_is_object((const json_t *)object))
    return fail(err, API_VALIDATION_ERROR, "options",
                "options must be an object {name: value}");
  if (!choice_from_object(object, a, &choice, &m, &bad_key))
    return bad_key != NULL
               ? fail(err, API_VALIDATION_ERROR, "options",
                      "options.%.50s must be a string", bad_key)
               : fail(err, API_INTERNAL_ERROR, "options", "no memory");
  const char *bad = NULL;
  enum variant_check c = product_variant_check(opts, n, choice, m, &bad);
  if (c != VARIANT_OK)
    return fail(err, API_UNPROCESSABLE, "options", "%s%s%.50s",
                product_variant_message(c), bad ? ": " : "", bad ? bad : "");
  *text = dump(a, object, JSON_SORT_KEYS);
  return *text != NULL ? KIT_OK
                       : fail(err, API_INTERNAL_ERROR, "options", "no memory");
}

bool variant_choice_parse(const char *text, struct arena *a,
                          struct variant_choice **choice, size_t *m) {
  json_t *obj = json_loads(text != NULL ? text : "{}", 0, NULL);
  const char *bad = NULL;
  bool ok = json_is_object(obj) && choice_from_object(obj, a, choice, m, &bad);
  json_decref(obj);
  return ok;
}

/* --- price lists ------------------------------------------------------------
 */

int variant_prices_read(const void *array, const char *own_currency,
                        const char *field, struct arena *a,
                        struct price_entry **list, size_t *n,
                        struct json_error *err) {
  size_t count = json_array_size(array);
  struct price_entry *l = arena_alloc(a, sizeof *l * (count + 1));
  if (l == NULL) return fail(err, API_INTERNAL_ERROR, field, "no memory");
  if (count > PRODUCT_PRICES_MAX)
    return fail(err, API_UNPROCESSABLE, field, "%s holds at most %d currencies",
                field, PRODUCT_PRICES_MAX);
  for (size_t i = 0; i < count; i++) {
    const json_t *item = json_array_get(array, i);
    const char *currency = NULL, *amount = NULL;
    const struct json_field fields[] = {
        {"currency", JF_STRING, true, 3, 3, &currency},
        {"amount", JF_STRING, true, 1, 40, &amount},
    };
    struct json_error inner;
    if (!json_is_object(item))
      return fail(err, API_VALIDATION_ERROR, field,
                  "%s[%zu] must be an object {currency, amount}", field, i);
    if (json_read_fields(item, fields, 2, true, a, &inner) != KIT_OK)
      return fail(err, inner.code, field, "%s[%zu]: %.150s", field, i,
                  inner.message);
    l[i] = (struct price_entry){currency, amount, 0};
  }
  size_t bad = 0;
  enum price_check pc = PRICE_OK;
  switch (product_price_list_check(l, count, own_currency, &bad, &pc)) {
  case PRICE_LIST_OK:
    *list = l;
    *n = count;
    return KIT_OK;
  case PRICE_LIST_TOO_MANY:
    return fail(err, API_UNPROCESSABLE, field, "%s holds at most %d currencies",
                field, PRODUCT_PRICES_MAX);
  case PRICE_LIST_BAD_CURRENCY:
    return fail(err, API_UNPROCESSABLE, field,
                "%s[%zu].currency must be an ISO 4217 code such as \"EUR\"",
                field, bad);
  case PRICE_LIST_DUPLICATE:
    return fail(err, API_UNPROCESSABLE, field,
                "%s[%zu]: the currency %s is listed twice", field, bad,
                l[bad].currency);
  case PRICE_LIST_OWN_CURRENCY:
    return fail(err, API_UNPROCESSABLE, field,
                "%s[%zu]: %s is the product's own currency: set its price "
                "instead",
                field, bad, l[bad].currency);
  case PRICE_LIST_BAD_AMOUNT:
    break;
  }
  return fail(err, API_UNPROCESSABLE, field, "%s[%zu].amount: %s", field, bad,
              product_price_message(pc));
}

/* --- the variant body
 * ---------------------------------------------------------
 */

static bool image_ok(const json_t *v) {
  if (!json_is_string(v)) return false;
  const char *s = json_string_value(v);
  size_t n = json_string_length(v);
  if (n == 0 || n > 2048) return false;
  if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0 &&
      s[0] != '/')
    return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] <= 0x20 || s[i] == '"' || s[i] == '<' ||
        s[i] == '>')
      return false;
  return true;
}

/* The seed's ProductAttributes, by the product's own rules (input.h). */
static int read_variant_attributes(const json_t *attrs, struct arena *a,
                                   struct variant_draft *out,
                                   struct json_error *err) {
  int64_t grams = -1;
  if (product_attributes_read(attrs, a, &out->attributes_json, &grams, err) !=
      KIT_OK)
    return KIT_INVALID;
  if (strlen(out->attributes_json) > VARIANT_ATTRIBUTES_MAX_BYTES)
    return fail(err, API_UNPROCESSABLE, "attributes",
                "attributes must be at most %d bytes of JSON",
                VARIANT_ATTRIBUTES_MAX_BYTES);
  return KIT_OK;
}

int variant_draft_read(const void *object, bool partial, struct arena *a,
                       struct variant_draft *out, struct json_error *err) {
  const void *images = NULL, *attributes = NULL;
  memset(out, 0, sizeof *out);
  const json_t *price = json_object_get(object, "price");
  out->clear_price = partial && json_is_null(price);
  const struct json_field fields[] = {
      {"sku", JF_STRING, !partial, 1, PRODUCT_SKU_MAX, &out->sku},
      {"options", JF_OBJECT, !partial, 0, 0, &out->options},
      {"price", JF_STRING, false, 1, 40, &out->price, .nullable = true},
      {"stock", JF_INT, false, 0, PRODUCT_STOCK_MAX, &out->stock,
       &out->has_stock},
      {"prices", JF_ARRAY, false, 0, PRODUCT_PRICES_MAX, &out->prices},
      {"images", JF_ARRAY, false, 0, VARIANT_IMAGES_MAX, &images},
      {"attributes", JF_OBJECT, false, 0, 0, &attributes},
  };
  if (json_read_fields(object, fields, sizeof fields / sizeof fields[0], true,
                       a, err) != KIT_OK)
    return KIT_INVALID;
  if (out->sku != NULL && !product_sku_valid(out->sku))
    return fail(err, API_UNPROCESSABLE, "sku",
                "sku must be 1-64 letters, digits, '.', '_' or '-'");
  if (images != NULL) {
    size_t i;
    const json_t *v;
    json_array_foreach((json_t *)images, i, v) {
      if (!image_ok(v))
        return fail(err, API_UNPROCESSABLE, "images",
                    "images[%zu] must be an http(s) URL or a path starting "
                    "with '/'",
                    i);
    }
    out->images_json = dump(a, images, 0);
  } else if (!partial) {
    out->images_json = "[]";
  }
  if (attributes != NULL &&
      read_variant_attributes(attributes, a, out, err) != KIT_OK)
    return KIT_INVALID;
  if (attributes == NULL && !partial) out->attributes_json = "{}";
  if (!partial && !out->has_stock) {
    out->stock = 0;
    out->has_stock = true;
  }
  return KIT_OK;
}
