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
  char *text =
      json_dumps(v, KIT_JSON_DUMP_FLAGS | JSON_SORT_KEYS | JSON_ENCODE_ANY);
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

/* Centimetres per unit of the deprecated `dimensions.unit`; 0 if unknown. */
static double unit_to_cm(const char *u) {
  if (strcmp(u, "cm") == 0) return 1;
  if (strcmp(u, "mm") == 0) return 0.1;
  if (strcmp(u, "m") == 0) return 100;
  if (strcmp(u, "in") == 0) return 2.54;
  return 0;
}

/* Reads {length, width, height} in centimetres into a new object *out (the
 * seed's Dimensions). A deprecated `unit` (mm, cm, m, in: the format of the
 * previous release) is still accepted and converted to centimetres. */
static int read_dimensions(const json_t *dims, json_t **out,
                           struct json_error *err) {
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
  double factor = 1;
  const json_t *unit = json_object_get(dims, "unit");
  if (unit != NULL) {
    factor = json_is_string(unit) ? unit_to_cm(json_string_value(unit)) : 0;
    if (factor == 0)
      return fail(err, API_UNPROCESSABLE, "attributes.dimensions",
                  "attributes.dimensions are in centimetres (the deprecated "
                  "unit, when given, must be one of: mm, cm, m, in)");
  }
  json_t *cm = json_object();
  for (size_t i = 0; i < 3; i++) {
    const json_t *d = json_object_get(dims, names[i]);
    const char *why = d == NULL ? "is required"
                      : !dimension_ok(d)
                          ? "must be a number of centimetres above 0 and at "
                            "most 1000000"
                          : NULL;
    if (why == NULL && factor != 1 && json_number_value(d) * factor > 1000000)
      why = "must be at most 1000000 centimetres";
    if (why != NULL) {
      json_decref(cm);
      return fail(err, API_UNPROCESSABLE, "attributes.dimensions",
                  "attributes.dimensions.%s %s", names[i], why);
    }
    json_object_set_new(cm, names[i],
                        factor == 1 ? json_deep_copy(d)
                                    : json_real(json_number_value(d) * factor));
  }
  *out = cm;
  return KIT_OK;
}

/* Nesting depth of a JSON value: a scalar is 0, {} or [] is 1. */
static int json_depth(const json_t *v) {
  int deepest = 0;
  if (json_is_object(v)) {
    const char *k;
    const json_t *m;
    json_object_foreach((json_t *)v, k, m) {
      int d = json_depth(m);
      if (d > deepest) deepest = d;
    }
    return deepest + 1;
  }
  if (json_is_array(v)) {
    size_t i;
    const json_t *m;
    json_array_foreach(v, i, m) {
      int d = json_depth(m);
      if (d > deepest) deepest = d;
    }
    return deepest + 1;
  }
  return 0;
}

/* The weight in kilograms (the seed's `weight`), or the deprecated integer
 * `weight_grams`: both become `weight` (kg) in *kg and grams in *grams. */
static int read_weight(const json_t *attrs, json_t **kg, int64_t *grams,
                       struct json_error *err) {
  const json_t *w = json_object_get(attrs, "weight");
  const json_t *g = json_object_get(attrs, "weight_grams");
  *kg = NULL;
  if (w != NULL && g != NULL)
    return fail(err, API_UNPROCESSABLE, "attributes.weight_grams",
                "attributes.weight_grams is deprecated: give only "
                "attributes.weight (kilograms)");
  if (w != NULL) {
    if (!json_is_number(w))
      return fail(err, API_VALIDATION_ERROR, "attributes.weight",
                  "attributes.weight must be a number (kilograms)");
    double v = json_number_value(w);
    if (!(v >= 0 && v <= PRODUCT_WEIGHT_MAX_KG))
      return fail(err, API_UNPROCESSABLE, "attributes.weight",
                  "attributes.weight must be between 0 and %d kilograms",
                  PRODUCT_WEIGHT_MAX_KG);
    *grams = product_weight_grams(v);
    *kg = json_deep_copy(w);
  } else if (g != NULL) {
    if (!json_is_integer(g))
      return fail(err, API_VALIDATION_ERROR, "attributes.weight_grams",
                  "attributes.weight_grams must be an integer");
    json_int_t v = json_integer_value(g);
    if (v < 0 || v > (json_int_t)PRODUCT_WEIGHT_MAX_KG * 1000)
      return fail(err, API_UNPROCESSABLE, "attributes.weight_grams",
                  "attributes.weight_grams must be between 0 and %d",
                  PRODUCT_WEIGHT_MAX_KG * 1000);
    *grams = (int64_t)v;
    *kg = v % 1000 == 0 ? json_integer(v / 1000) : json_real((double)v / 1000);
  }
  return KIT_OK;
}

/* Reads the seed's ProductAttributes {brand, color, size, weight (kg),
 * dimensions {length, width, height} (cm), custom} and stores them in that
 * shape, whatever deprecated form they came in. */
static int read_attributes(const json_t *attrs, struct arena *a,
                           struct product_draft *out, struct json_error *err) {
  const char *brand = NULL, *color = NULL, *size = NULL;
  const void *dims = NULL, *custom = NULL;
  const struct json_field fields[] = {
      {"brand", JF_STRING, false, 1, 100, &brand},
      {"color", JF_STRING, false, 1, 50, &color},
      {"size", JF_STRING, false, 1, 50, &size},
      {"dimensions", JF_OBJECT, false, 0, 0, &dims},
      {"custom", JF_OBJECT, false, 0, 0, &custom},
  };
  /* The weight is a number (no field type for it): checked on its own. */
  json_t *rest = json_copy((json_t *)attrs);
  if (rest == NULL)
    return fail(err, API_INTERNAL_ERROR, "attributes", "out of memory");
  json_object_del(rest, "weight");
  json_object_del(rest, "weight_grams");
  struct json_error inner;
  int rc = json_read_fields(rest, fields, sizeof fields / sizeof fields[0],
                            true, a, &inner);
  json_decref(rest);
  if (rc != KIT_OK) {
    /* Name the field as the client wrote it: attributes.color. */
    char field[64];
    snprintf(field, sizeof field, "attributes.%.50s", inner.field);
    return fail(err, inner.code, field, "attributes.%.150s", inner.message);
  }
  json_t *kg = NULL, *cm = NULL;
  int64_t grams = -1;
  if (read_weight(attrs, &kg, &grams, err) != KIT_OK) return KIT_INVALID;
  if (dims != NULL && read_dimensions(dims, &cm, err) != KIT_OK) {
    json_decref(kg);
    return KIT_INVALID;
  }
  if (custom != NULL) {
    char *text = json_dumps(custom, JSON_COMPACT);
    size_t n = text != NULL ? strlen(text) : 0;
    free(text);
    int bad = n > PRODUCT_CUSTOM_MAX_BYTES                    ? 1
              : json_depth(custom) > PRODUCT_CUSTOM_MAX_DEPTH ? 2
                                                              : 0;
    if (bad != 0) {
      json_decref(kg);
      json_decref(cm);
      return bad == 1
                 ? fail(err, API_UNPROCESSABLE, "attributes.custom",
                        "attributes.custom must be at most %d bytes of JSON",
                        PRODUCT_CUSTOM_MAX_BYTES)
                 : fail(err, API_UNPROCESSABLE, "attributes.custom",
                        "attributes.custom may nest objects and arrays at "
                        "most %d deep",
                        PRODUCT_CUSTOM_MAX_DEPTH);
    }
  }
  json_t *seed = json_object();
  if (brand != NULL) json_object_set_new(seed, "brand", json_string(brand));
  if (color != NULL) json_object_set_new(seed, "color", json_string(color));
  if (size != NULL) json_object_set_new(seed, "size", json_string(size));
  if (kg != NULL) json_object_set_new(seed, "weight", kg);
  if (cm != NULL) json_object_set_new(seed, "dimensions", cm);
  if (custom != NULL)
    json_object_set_new(seed, "custom", json_deep_copy(custom));
  out->weight_grams = grams;
  out->attributes_json = dump(a, seed);
  json_decref(seed);
  return out->attributes_json != NULL
             ? KIT_OK
             : fail(err, API_INTERNAL_ERROR, "attributes", "out of memory");
}

int product_attributes_read(const void *attrs, struct arena *a,
                            const char **json, int64_t *grams,
                            struct json_error *err) {
  struct product_draft d = {.weight_grams = -1};
  if (read_attributes(attrs, a, &d, err) != KIT_OK) return KIT_INVALID;
  *json = d.attributes_json;
  *grams = d.weight_grams;
  return KIT_OK;
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
