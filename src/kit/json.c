/* json.c - request bodies into typed C structs (see json.h).
 *
 * Two steps. json_doc_parse() decides whether the body is a JSON object at
 * all (400 otherwise): UTF-8 and NUL bytes are checked here before jansson
 * sees the text, so the message can say what is wrong, and nesting is
 * measured on the raw text so a hostile body cannot make the parser recurse.
 * json_read_fields() then walks a field table: a wrong JSON type is a 400,
 * a value of the right type that breaks a rule is a 422, and either way the
 * message names the field.
 */
#include "json.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uuid.h"

struct json_doc {
  json_t *root; /* owned */
};

/* --- errors --- */

/* Length of the longest prefix of s[0..n) that does not end inside a UTF-8
 * sequence, so truncated text stays valid UTF-8 when rendered as JSON. */
static size_t utf8_clip(const char *s, size_t n) {
  size_t i = n;
  /* Step back over continuation bytes to the lead byte of the last char. */
  while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
    i--;
  if (i == 0)
    return 0;
  unsigned char lead = (unsigned char)s[i - 1];
  size_t need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
  return (n - (i - 1) >= need) ? n : i - 1;
}

static void copy_clipped(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n >= cap)
    n = utf8_clip(src, cap - 1);
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static int fail(struct json_error *err, enum api_error code, const char *field,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Fills err and returns KIT_INVALID, so callers can `return fail(...)`. */
static int fail(struct json_error *err, enum api_error code, const char *field,
                const char *fmt, ...) {
  err->code = code;
  copy_clipped(err->field, sizeof err->field, field ? field : "");
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  if (n >= (int)sizeof err->message) {
    size_t len = utf8_clip(err->message, sizeof err->message - 1);
    err->message[len] = '\0';
  }
  return KIT_INVALID;
}

static int fail_nomem(struct json_error *err) {
  fail(err, API_INTERNAL_ERROR, "", "out of memory");
  return KIT_NOMEM;
}

static void clear_error(struct json_error *err) {
  err->code = API_OK;
  err->field[0] = '\0';
  err->message[0] = '\0';
}

/* --- UTF-8 and shapes --- */

bool json_utf8_valid(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c == 0)
      return false;
    if (c < 0x80) {
      i++;
      continue;
    }
    /* The second byte's range rules out overlongs (E0, F0), surrogates (ED)
     * and code points past U+10FFFF (F4); C0, C1 and F5+ never start one. */
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0)
        lo = 0xA0;
      else if (c == 0xED)
        hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0)
        lo = 0x90;
      else if (c == 0xF4)
        hi = 0x8F;
    } else {
      return false;
    }
    if (n - i < len)
      return false; /* truncated at the end */
    if (p[i + 1] < lo || p[i + 1] > hi)
      return false;
    for (size_t k = 2; k < len; k++)
      if ((p[i + k] & 0xC0) != 0x80)
        return false;
    i += len;
  }
  return true;
}

/* Code points in valid UTF-8: every byte that is not a continuation byte. */
static size_t utf8_count(const char *s, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < n; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80)
      count++;
  return count;
}

#define EMAIL_MAX 254
#define EMAIL_LOCAL_MAX 64

/* Bytes that never appear unquoted in an address; quoted local parts are
 * legal but not something a shop needs to accept. */
static bool email_char_ok(unsigned char c) {
  if (c <= 0x20 || c == 0x7F)
    return false;
  return strchr("\"(),:;<>[\\]", c) == NULL;
}

bool json_email_valid(const char *s) {
  if (s == NULL)
    return false;
  size_t n = strlen(s);
  if (n == 0 || n > EMAIL_MAX)
    return false;
  const char *at = strchr(s, '@');
  if (at == NULL || strchr(at + 1, '@') != NULL)
    return false;
  size_t local = (size_t)(at - s);
  if (local == 0 || local > EMAIL_LOCAL_MAX)
    return false;
  for (const char *p = s; *p; p++)
    if (*p != '@' && !email_char_ok((unsigned char)*p))
      return false;

  /* Domain: at least two labels, none empty ("a@b", "a@.b", "a@b..c",
   * "a@b." are all refused). */
  const char *d = at + 1;
  if (*d == '\0' || strchr(d, '.') == NULL)
    return false;
  if (d[0] == '.' || d[strlen(d) - 1] == '.' || strstr(d, "..") != NULL)
    return false;
  return true;
}

/* ^[0-9]+(\.[0-9]+)?$ : the shape money_parse() will look at. */
static bool money_shape_ok(const char *s) {
  const char *p = s;
  if (!(*p >= '0' && *p <= '9'))
    return false;
  while (*p >= '0' && *p <= '9')
    p++;
  if (*p == '.') {
    p++;
    if (!(*p >= '0' && *p <= '9'))
      return false;
    while (*p >= '0' && *p <= '9')
      p++;
  }
  return *p == '\0';
}

/* --- the document --- */

/* Deepest [ / { nesting in text, ignoring brackets inside strings. Runs
 * before the parser so depth is bounded before any recursion happens; on
 * malformed text the count may be off, but jansson refuses such text anyway. */
static bool depth_ok(const char *s, size_t n, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (in_string) {
      if (c == '\\')
        i++; /* skip the escaped character */
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth)
        return false;
    } else if (c == '}' || c == ']') {
      depth--;
    }
  }
  return true;
}

static bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* After jansson refuses a duplicate key or an oversized number, its error
 * position is the byte just past the offending token. Recovers the member
 * name there, so the message can name the field: the token is the key itself
 * (want_colon false) or a number after "key": (want_colon true). Gives up,
 * leaving out empty, on anything unexpected, including escaped keys. */
static void key_before(const char *s, size_t n, size_t pos, bool want_colon,
                       char *out, size_t cap) {
  out[0] = '\0';
  if (pos == 0 || pos > n)
    return;
  size_t i = pos; /* s[i-1] is the last byte still to look at */
  if (want_colon) {
    while (i > 0 && strchr("0123456789+-.eE", s[i - 1]) != NULL)
      i--;
    while (i > 0 && is_json_space(s[i - 1]))
      i--;
    if (i == 0 || s[i - 1] != ':')
      return;
    i--;
    while (i > 0 && is_json_space(s[i - 1]))
      i--;
  }
  if (i == 0 || s[i - 1] != '"')
    return;
  size_t end = i - 1; /* closing quote */
  size_t start = end;
  while (start > 0 && s[start - 1] != '"') {
    if (s[start - 1] == '\\')
      return;
    start--;
  }
  if (start == 0)
    return;
  size_t len = end - start;
  if (len >= cap)
    len = utf8_clip(s + start, cap - 1);
  memcpy(out, s + start, len);
  out[len] = '\0';
}

static bool all_whitespace(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!is_json_space(s[i]))
      return false;
  return true;
}

int json_doc_parse(const char *body, size_t len, struct json_doc **doc,
                   struct json_error *err) {
  json_t *root = NULL;
  json_error_t jerr;
  int rc = KIT_INVALID;

  *doc = NULL;
  clear_error(err);

  if (body == NULL || all_whitespace(body, len)) {
    fail(err, API_VALIDATION_ERROR, "", "request body must be a JSON object");
    goto cleanup;
  }
  if (memchr(body, '\0', len) != NULL) {
    fail(err, API_VALIDATION_ERROR, "", "request body contains a NUL byte");
    goto cleanup;
  }
  if (!json_utf8_valid(body, len)) {
    fail(err, API_VALIDATION_ERROR, "", "request body is not valid UTF-8");
    goto cleanup;
  }
  if (!depth_ok(body, len, JSON_MAX_DEPTH)) {
    fail(err, API_VALIDATION_ERROR, "",
         "request body is nested more than %d levels deep", JSON_MAX_DEPTH);
    goto cleanup;
  }

  /* DECODE_ANY lets a bare scalar parse so we can say "must be an object"
   * instead of "not JSON"; NUL inside strings stays refused (no ALLOW_NUL). */
  root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
  if (root == NULL) {
    char key[sizeof err->field];
    size_t pos = jerr.position > 0 ? (size_t)jerr.position : 0;
    switch (json_error_code(&jerr)) {
    case json_error_out_of_memory:
      rc = fail_nomem(err);
      break;
    case json_error_duplicate_key:
      key_before(body, len, pos, false, key, sizeof key);
      if (key[0] != '\0')
        fail(err, API_VALIDATION_ERROR, key, "%s is given more than once", key);
      else
        fail(err, API_VALIDATION_ERROR, "",
             "request body has a duplicate member");
      break;
    case json_error_null_character:
      fail(err, API_VALIDATION_ERROR, "",
           "request body contains a NUL character");
      break;
    case json_error_numeric_overflow:
      /* Integers past int64 (and reals past double) never reach the field
       * table; name the member here when we can. */
      key_before(body, len, pos, true, key, sizeof key);
      if (key[0] != '\0')
        fail(err, API_VALIDATION_ERROR, key, "%s is a number out of range",
             key);
      else
        fail(err, API_VALIDATION_ERROR, "",
             "request body has a number out of range");
      break;
    default:
      fail(err, API_VALIDATION_ERROR, "", "request body is not valid JSON");
      break;
    }
    goto cleanup;
  }
  if (!json_is_object(root)) {
    fail(err, API_VALIDATION_ERROR, "", "request body must be a JSON object");
    goto cleanup;
  }

  struct json_doc *d = malloc(sizeof(*d));
  if (d == NULL) {
    rc = fail_nomem(err);
    goto cleanup;
  }
  d->root = root;
  root = NULL; /* now owned by d */
  *doc = d;
  rc = KIT_OK;

cleanup:
  json_decref(root);
  return rc;
}

void json_doc_free(struct json_doc *doc) {
  if (doc == NULL)
    return;
  json_decref(doc->root);
  free(doc);
}

void *json_doc_root(struct json_doc *doc) { return doc ? doc->root : NULL; }

/* --- fields --- */

static const char *type_noun(enum json_field_type t) {
  switch (t) {
  case JF_INT:
    return "an integer";
  case JF_BOOL:
    return "true or false";
  case JF_OBJECT:
    return "an object";
  case JF_ARRAY:
    return "an array";
  default:
    return "a string";
  }
}

/* Length and count bounds: min 0 means no lower bound, max 0 no upper one
 * (a zero maximum would make the field useless, so it cannot mean "empty"). */
static int check_count(const struct json_field *f, size_t n, const char *unit,
                       struct json_error *err) {
  uint64_t v = n;
  bool low = f->min > 0 && v < (uint64_t)f->min;
  bool high = f->max > 0 && v > (uint64_t)f->max;
  if (!low && !high)
    return KIT_OK;
  if (f->min > 0 && f->max > 0)
    return fail(err, API_UNPROCESSABLE, f->name,
                "%s must have between %" PRId64 " and %" PRId64 " %s", f->name,
                f->min, f->max, unit);
  if (low)
    return fail(err, API_UNPROCESSABLE, f->name,
                "%s must have at least %" PRId64 " %s", f->name, f->min, unit);
  return fail(err, API_UNPROCESSABLE, f->name,
              "%s must have at most %" PRId64 " %s", f->name, f->max, unit);
}

static int read_enum(const struct json_field *f, const char *s,
                     struct json_error *err) {
  if (f->enum_values != NULL)
    for (const char *const *v = f->enum_values; *v; v++)
      if (strcmp(*v, s) == 0)
        return KIT_OK;

  /* "status must be one of: pending, approved, rejected" */
  char list[160] = "";
  size_t used = 0;
  if (f->enum_values != NULL)
    for (const char *const *v = f->enum_values; *v && used < sizeof list; v++) {
      int w = snprintf(list + used, sizeof list - used, "%s%s",
                       v == f->enum_values ? "" : ", ", *v);
      if (w < 0)
        break;
      used += (size_t)w;
    }
  /* snprintf may have cut the last value inside a character. */
  list[utf8_clip(list, strlen(list))] = '\0';
  return fail(err, API_UNPROCESSABLE, f->name, "%s must be one of: %s", f->name,
              list);
}

/* Checks and stores one string-typed value; s has n bytes (jansson keeps the
 * length, and a hand-built json_t could hold a NUL). */
static int read_string_like(const struct json_field *f, const char *s, size_t n,
                            struct arena *arena, struct json_error *err) {
  const char **out = f->out;
  char *copy = NULL;

  if (memchr(s, '\0', n) != NULL || !json_utf8_valid(s, n))
    return fail(err, API_UNPROCESSABLE, f->name,
                "%s must be text without NUL characters", f->name);

  switch (f->type) {
  case JF_STRING: {
    int rc = check_count(f, utf8_count(s, n), "characters", err);
    if (rc != KIT_OK)
      return rc;
    copy = arena_strndup(arena, s, n);
    break;
  }
  case JF_UUID: {
    char norm[UUID_STR_LEN];
    if (!uuid_normalize(s, norm))
      return fail(err, API_UNPROCESSABLE, f->name, "%s must be a UUID",
                  f->name);
    copy = arena_strndup(arena, norm, UUID_STR_LEN - 1);
    break;
  }
  case JF_EMAIL:
    if (n > EMAIL_MAX)
      return fail(err, API_UNPROCESSABLE, f->name,
                  "%s must be a valid email address", f->name);
    copy = arena_strndup(arena, s, n);
    if (copy == NULL)
      return fail_nomem(err);
    for (char *p = copy; *p; p++)
      if (*p >= 'A' && *p <= 'Z')
        *p = (char)(*p - 'A' + 'a');
    if (!json_email_valid(copy))
      return fail(err, API_UNPROCESSABLE, f->name,
                  "%s must be a valid email address", f->name);
    break;
  case JF_MONEY:
    if (!money_shape_ok(s))
      return fail(err, API_UNPROCESSABLE, f->name,
                  "%s must be a decimal amount such as \"19.99\"", f->name);
    copy = arena_strndup(arena, s, n);
    break;
  case JF_ENUM: {
    int rc = read_enum(f, s, err);
    if (rc != KIT_OK)
      return rc;
    copy = arena_strndup(arena, s, n);
    break;
  }
  default:
    return fail(err, API_INTERNAL_ERROR, f->name, "bad field table");
  }

  if (copy == NULL)
    return fail_nomem(err);
  if (out != NULL)
    *out = copy;
  return KIT_OK;
}

static int read_int(const struct json_field *f, const json_t *v,
                    struct json_error *err) {
  /* jansson keeps integers and reals apart ("1.0" and "1e2" are reals) and
   * refuses integers beyond int64 while parsing. */
  if (!json_is_integer(v))
    return fail(err, API_VALIDATION_ERROR, f->name, "%s must be an integer",
                f->name);
  int64_t x = (int64_t)json_integer_value(v);
  if (!(f->min == 0 && f->max == 0) && (x < f->min || x > f->max))
    return fail(err, API_UNPROCESSABLE, f->name,
                "%s must be between %" PRId64 " and %" PRId64, f->name, f->min,
                f->max);
  if (f->out != NULL)
    *(int64_t *)f->out = x;
  return KIT_OK;
}

/* Type check, then rules, then store, for one present value. */
static int read_value(const struct json_field *f, const json_t *v,
                      struct arena *arena, struct json_error *err) {
  switch (f->type) {
  case JF_STRING:
  case JF_UUID:
  case JF_EMAIL:
  case JF_MONEY:
  case JF_ENUM:
    if (!json_is_string(v))
      break;
    return read_string_like(f, json_string_value(v), json_string_length(v),
                            arena, err);
  case JF_INT:
    return read_int(f, v, err);
  case JF_BOOL:
    if (!json_is_boolean(v))
      break;
    if (f->out != NULL)
      *(bool *)f->out = json_is_true(v);
    return KIT_OK;
  case JF_OBJECT:
    if (!json_is_object(v))
      break;
    if (f->out != NULL)
      *(const void **)f->out = v;
    return KIT_OK;
  case JF_ARRAY: {
    if (!json_is_array(v))
      break;
    int rc = check_count(f, json_array_size(v), "entries", err);
    if (rc != KIT_OK)
      return rc;
    if (f->out != NULL)
      *(const void **)f->out = v;
    return KIT_OK;
  }
  }
  return fail(err, API_VALIDATION_ERROR, f->name, "%s must be %s", f->name,
              type_noun(f->type));
}

int json_read_fields(const void *object, const struct json_field *fields,
                     size_t count, bool reject_unknown, struct arena *arena,
                     struct json_error *err) {
  const json_t *obj = object;
  clear_error(err);

  if (obj == NULL || !json_is_object(obj))
    return fail(err, API_VALIDATION_ERROR, "",
                "request body must be a JSON object");

  for (size_t i = 0; i < count; i++) {
    const struct json_field *f = &fields[i];
    const json_t *v = json_object_get(obj, f->name);
    bool given = v != NULL && !(json_is_null(v) && f->nullable);

    if (f->present != NULL)
      *f->present = given;
    if (!given) {
      if (f->required)
        return fail(err, API_UNPROCESSABLE, f->name, "%s is required", f->name);
      continue; /* the out keeps the caller's default */
    }
    int rc = read_value(f, v, arena, err);
    if (rc != KIT_OK)
      return rc;
  }

  if (reject_unknown) {
    const char *key;
    json_t *value;
    /* json_object_foreach wants a non-const object; it only reads. */
    json_object_foreach((json_t *)obj, key, value) {
      bool known = false;
      for (size_t i = 0; i < count && !known; i++)
        known = strcmp(fields[i].name, key) == 0;
      if (!known)
        return fail(err, API_UNPROCESSABLE, key, "%s is not a known field",
                    key);
    }
  }
  return KIT_OK;
}

int json_parse_body(const char *body, size_t len,
                    const struct json_field *fields, size_t count,
                    bool reject_unknown, struct arena *arena,
                    struct json_doc **doc, struct json_error *err) {
  int rc = json_doc_parse(body, len, doc, err);
  if (rc != KIT_OK)
    return rc;
  return json_read_fields(json_doc_root(*doc), fields, count, reject_unknown,
                          arena, err);
}
