/* input.c - JSON object to a validated product draft (see input.h). */
#include "services/product/input.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kit/err.h"
#include "kit/money.h"
#include "services/product/domain.h"
#include "services/product/variant_input.h"

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

/* Serializes v compactly with sorted keys into the arena. */
static const char *dump(struct arena *a, const json_t *v) {
  char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
  if (text == NULL) return NULL;
  const char *copy = arena_strdup(a, text);
  free(text);
  return copy;
}

static bool image_url_ok(const char *s, size_t n) {
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

static int read_images(const json_t *images, struct arena *a,
                       struct product_draft *out, struct json_error *err) {
  size_t i;
  const json_t *v;
  json_array_foreach(images, i, v) {
    if (!json_is_string(v))
      return fail(err, API_VALIDATION_ERROR, "images",
                  "images must be an array of URL strings");
    if (!image_url_ok(json_string_value(v), json_string_length(v)))
      return fail(err, API_UNPROCESSABLE, "images",
                  "images[%zu] must be an http(s) URL or a path starting "
                  "with '/'",
                  i);
  }
  out->images_json = dump(a, images);
  return out->images_json != NULL
             ? KIT_OK
             : fail(err, API_INTERNAL_ERROR, "images", "out of memory");
}

/* A positive number of at most 1,000,000 (a dimension). */
static bool dimension_ok(const json_t *v) {
  if (!json_is_number(v)) return false;
  double d = json_number_value(v);
  return d > 0 && d <= 1000000;
}

static int read_dimensions(const json_t *dims, struct json_error *err) {
  static const char *const names[] = {"length", "width", "height"};
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)dims, key, v) {
    bool known = strcmp(key, "unit") == 0;
    for (size_t i = 0; i < 3; i++)
      known = known || strcmp(key, names[i]) == 0;
    if (!known)
      return fail(err, API_UNPROCESSABLE, "attributes.dimensions",
                  "attributes.dimensions.%.40s is not a known field", key);
  }
  for (size_t i = 0; i < 3; i++) {
    const json_t *d = json_object_get(dims, names[i]);
    if (d == NULL)
      return fail(err, API_UNPROCESSABLE, "attributes.dimensions",
                  "attributes.dimensions.%s is required", names[i]);
    if (!dimension_ok(d))
      return fail(err, API_UNPROCESSABLE, "attributes.dimensions",
                  "attributes.dimensions.%s must be a number above 0 and at "
                  "most 1000000",
                  names[i]);
  }
  const json_t *unit = json_object_get(dims, "unit");
  const char *u = json_is_string(unit) ? json_string_value(unit) : "";
  if (strcmp(u, "mm") != 0 && strcmp(u, "cm") != 0 && strcmp(u, "m") != 0 &&
      strcmp(u, "in") != 0)
    return fail(err, API_UNPROCESSABLE, "attributes.dimensions",
                "attributes.dimensions.unit must be one of: mm, cm, m, in");
  return KIT_OK;
}

static int read_attributes(const json_t *attrs, struct arena *a,
                           struct product_draft *out, struct json_error *err) {
  const char *brand = NULL, *color = NULL, *size = NULL;
  int64_t weight = -1;
  const void *dims = NULL, *custom = NULL;
  bool has_weight = false;
  const struct json_field fields[] = {
      {"brand", JF_STRING, false, 1, 100, &brand},
      {"color", JF_STRING, false, 1, 50, &color},
      {"size", JF_STRING, false, 1, 50, &size},
      {"weight_grams", JF_INT, false, 0, 10000000, &weight, &has_weight},
      {"dimensions", JF_OBJECT, false, 0, 0, &dims},
      {"custom", JF_OBJECT, false, 0, 0, &custom},
  };
  struct json_error inner;
  if (json_read_fields(attrs, fields, sizeof fields / sizeof fields[0], true, a,
                       &inner) != KIT_OK) {
    /* Name the field as the client wrote it: attributes.color. */
    char field[64];
    snprintf(field, sizeof field, "attributes.%.50s", inner.field);
    return fail(err, inner.code, field, "attributes.%.150s", inner.message);
  }
  if (dims != NULL && read_dimensions(dims, err) != KIT_OK) return KIT_INVALID;
  if (custom != NULL) {
    char *text = json_dumps(custom, JSON_COMPACT);
    size_t n = text != NULL ? strlen(text) : 0;
    free(text);
    if (n > PRODUCT_CUSTOM_MAX_BYTES)
      return fail(err, API_UNPROCESSABLE, "attributes.custom",
                  "attributes.custom must be at most %d bytes of JSON",
                  PRODUCT_CUSTOM_MAX_BYTES);
  }
  out->weight_grams = has_weight ? weight : -1;
  out->attributes_json = dump(a, attrs);
  return out->attributes_json != NULL
             ? KIT_OK
             : fail(err, API_INTERNAL_ERROR, "attributes", "out of memory");
}

int product_draft_price(struct product_draft *d, const char *currency,
                        struct json_error *err) {
  enum price_check c = product_price_parse(d->price, currency, &d->price_minor);
  if (c != PRICE_OK)
    return fail(err, API_UNPROCESSABLE,
                c == PRICE_BAD_CURRENCY ? "currency" : "price", "%s",
                product_price_message(c));
  d->has_price_minor = true;
  return KIT_OK;
}

int product_draft_read(const void *object, bool partial, bool with_slug,
                       struct arena *a, struct product_draft *out,
                       struct json_error *err) {
  static const char *const statuses[] = {"draft", "active", "archived", NULL};
  const void *images = NULL, *attributes = NULL, *options = NULL;
  memset(out, 0, sizeof *out);
  out->weight_grams = -1;

  struct json_field fields[] = {
      {"sku", JF_STRING, !partial, 1, PRODUCT_SKU_MAX, &out->sku},
      {"name", JF_STRING, !partial, 1, PRODUCT_NAME_MAX, &out->name},
      {"description", JF_STRING, false, 0, PRODUCT_DESCRIPTION_MAX,
       &out->description},
      {"category_id", JF_UUID, !partial && !with_slug, 0, 0, &out->category_id},
      {"price", JF_STRING, !partial, 1, 40, &out->price},
      {"currency", JF_STRING, false, 0, 0, &out->currency},
      {"stock", JF_INT, false, 0, PRODUCT_STOCK_MAX, &out->stock,
       &out->has_stock},
      {"status", JF_ENUM, false, 0, 0, &out->status, NULL, statuses},
      {"images", JF_ARRAY, false, 0, PRODUCT_IMAGES_MAX, &images},
      {"attributes", JF_OBJECT, false, 0, 0, &attributes},
      {"options", JF_ARRAY, false, 0, PRODUCT_OPTIONS_MAX, &options},
      {"category", JF_STRING, false, 1, CATEGORY_SLUG_MAX, &out->category_slug},
  };
  size_t count = sizeof fields / sizeof fields[0];
  if (!with_slug) count--; /* "category" is for import files only */
  if (json_read_fields(object, fields, count, true, a, err) != KIT_OK)
    return KIT_INVALID;

  if (out->sku != NULL && !product_sku_valid(out->sku))
    return fail(err, API_UNPROCESSABLE, "sku",
                "sku must be 1-64 letters, digits, '.', '_' or '-'");
  if (with_slug && !partial && out->category_id == NULL &&
      out->category_slug == NULL)
    return fail(err, API_UNPROCESSABLE, "category_id",
                "category_id (or category, a slug) is required");
  if (out->currency != NULL && !money_currency_valid(out->currency))
    return fail(err, API_UNPROCESSABLE, "currency", "%s",
                product_price_message(PRICE_BAD_CURRENCY));
  if (!partial && out->currency == NULL) out->currency = "USD";
  if (!partial && out->status == NULL) out->status = "active";
  if (!partial && !out->has_stock) {
    out->stock = 0;
    out->has_stock = true;
  }
  /* The price needs its currency; a PATCH without one resolves it later
   * against the stored currency. */
  if (out->price != NULL && out->currency != NULL &&
      product_draft_price(out, out->currency, err) != KIT_OK)
    return KIT_INVALID;
  if (images != NULL && read_images(images, a, out, err) != KIT_OK)
    return KIT_INVALID;
  if (!partial && images == NULL) out->images_json = "[]";
  if (attributes != NULL && read_attributes(attributes, a, out, err) != KIT_OK)
    return KIT_INVALID;
  if (!partial && attributes == NULL) out->attributes_json = "{}";
  if (options != NULL) {
    struct product_option *opts = NULL;
    size_t n = 0;
    if (variant_options_read(options, a, &opts, &n, &out->options_json, err) !=
        KIT_OK)
      return KIT_INVALID;
  }
  return KIT_OK;
}
