/* test_json.c - unit tests for request-body parsing (src/kit/json.c): every
 * way a body is refused, with its status, field and message, and the happy
 * path filling a struct. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "kit/json.h"

/* --- fixture --- */

/* The request struct a handler would fill. */
struct order_req {
  const char *name;
  int64_t quantity;
  bool gift;
  const char *product_id;
  const char *email;
  const char *price;
  const char *status;
  const void *address;
  const void *items;
  const char *note;
  bool note_present;
  bool gift_present;
};

static const char *const statuses[] = {"pending", "approved", "rejected", NULL};

struct ctx {
  struct arena arena;
  struct json_doc *doc;
  struct json_error err;
  struct order_req r;
  struct json_field fields[10];
};

static int setup(void **state) {
  struct ctx *c = calloc(1, sizeof(*c));
  if (c == NULL)
    return -1;
  arena_init(&c->arena, 512);
  struct order_req *r = &c->r;
  r->quantity = -1;
  r->note = "default note";
  const struct json_field f[10] = {
      {.name = "name",
       .type = JF_STRING,
       .required = true,
       .min = 1,
       .max = 10,
       .out = &r->name},
      {.name = "quantity",
       .type = JF_INT,
       .required = true,
       .min = 1,
       .max = 99,
       .out = &r->quantity},
      {.name = "gift",
       .type = JF_BOOL,
       .out = &r->gift,
       .present = &r->gift_present},
      {.name = "product_id", .type = JF_UUID, .out = &r->product_id},
      {.name = "email", .type = JF_EMAIL, .out = &r->email},
      {.name = "price", .type = JF_MONEY, .out = &r->price},
      {.name = "status",
       .type = JF_ENUM,
       .out = &r->status,
       .enum_values = statuses},
      {.name = "address", .type = JF_OBJECT, .out = &r->address},
      {.name = "items", .type = JF_ARRAY, .min = 1, .max = 3, .out = &r->items},
      {.name = "note",
       .type = JF_STRING,
       .out = &r->note,
       .nullable = true,
       .present = &r->note_present},
  };
  memcpy(c->fields, f, sizeof f);
  *state = c;
  return 0;
}

static int teardown(void **state) {
  struct ctx *c = *state;
  json_doc_free(c->doc);
  arena_free(&c->arena);
  free(c);
  return 0;
}

/* Parses body (n bytes) against the order table. */
static int parse_n(struct ctx *c, const char *body, size_t n, bool strict) {
  json_doc_free(c->doc);
  c->doc = NULL;
  return json_parse_body(body, n, c->fields, 10, strict, &c->arena, &c->doc,
                         &c->err);
}

static int parse(struct ctx *c, const char *body, bool strict) {
  return parse_n(c, body, strlen(body), strict);
}

#define EXPECT_ERR_N(c, body, n, strict, status, fld, msg)                     \
  do {                                                                         \
    assert_int_equal(parse_n((c), (body), (n), (strict)), KIT_INVALID);        \
    assert_int_equal((c)->err.code, (status));                                 \
    assert_string_equal((c)->err.field, (fld));                                \
    assert_string_equal((c)->err.message, (msg));                              \
  } while (0)

#define EXPECT_ERR(c, body, status, fld, msg)                                  \
  EXPECT_ERR_N(c, body, strlen(body), false, status, fld, msg)

/* Body-level failures must leave no document behind. */
#define EXPECT_BODY_ERR(c, body, n, msg)                                       \
  do {                                                                         \
    EXPECT_ERR_N(c, body, n, false, API_VALIDATION_ERROR, "", msg);            \
    assert_null((c)->doc);                                                     \
  } while (0)

#define MINIMAL "\"name\":\"Tee\",\"quantity\":2"

/* --- the body --- */

static void test_empty_body(void **state) {
  struct ctx *c = *state;
  const char *msg = "request body must be a JSON object";
  EXPECT_BODY_ERR(c, "", 0, msg);
  EXPECT_BODY_ERR(c, "  \r\n\t ", 6, msg);
  assert_int_equal(json_parse_body(NULL, 0, c->fields, 10, false, &c->arena,
                                   &c->doc, &c->err),
                   KIT_INVALID);
  assert_string_equal(c->err.message, msg);
  assert_null(c->doc);
}

static void test_malformed(void **state) {
  struct ctx *c = *state;
  const char *bad[] = {
      "{",
      "}",
      "{\"a\":}",
      "{'a':1}",
      "{\"a\":1,}",
      "{\"a\" 1}",
      "{} {}",
      "{} x",
      "{a:1}",
      "nul",
      "{\"a\":tru}",
      "{\"a\":01}",
      "{\"a\":.5}",
      "{\"a\":NaN}",
      "{\"a\":\"\\x\"}",
      "{\"a\":\"\t\"}",
      "{\"a\":\"\\ud800\"}", /* lone surrogate escape */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    EXPECT_BODY_ERR(c, bad[i], strlen(bad[i]),
                    "request body is not valid JSON");
}

static void test_not_an_object(void **state) {
  struct ctx *c = *state;
  const char *bad[] = {"[]", "[1,2]", "\"str\"", "42", "-1.5", "true", "null"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    EXPECT_BODY_ERR(c, bad[i], strlen(bad[i]),
                    "request body must be a JSON object");
}

static void test_invalid_utf8(void **state) {
  struct ctx *c = *state;
  const char *seqs[] = {
      "\xc0\xaf",         /* overlong '/' (2 bytes) */
      "\xc1\xbf",         /* overlong (2 bytes) */
      "\xe0\x80\xaf",     /* overlong (3 bytes) */
      "\xe0\x9f\xbf",     /* overlong just below U+0800 */
      "\xf0\x80\x80\xaf", /* overlong (4 bytes) */
      "\xf0\x8f\xbf\xbf", /* overlong just below U+10000 */
      "\xed\xa0\x80",     /* surrogate U+D800 */
      "\xed\xbf\xbf",     /* surrogate U+DFFF */
      "\xf4\x90\x80\x80", /* above U+10FFFF */
      "\xf5\x80\x80\x80", /* never a lead byte */
      "\xff",
      "\xfe",
      "\x80",         /* stray continuation */
      "\xe2\x82",     /* truncated euro sign */
      "\xf0\x9f\x98", /* truncated emoji */
      "\xc3",         /* truncated two-byte */
      "\xe2\x28\xa1", /* bad continuation */
  };
  char body[64];
  for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
    /* Inside a string value... */
    int n = snprintf(body, sizeof body, "{\"name\":\"%s\"}", seqs[i]);
    EXPECT_BODY_ERR(c, body, (size_t)n, "request body is not valid UTF-8");
    assert_false(json_utf8_valid(seqs[i], strlen(seqs[i])));
    /* ...and truncated at the very end of the body. */
    n = snprintf(body, sizeof body, "{}%s", seqs[i]);
    EXPECT_BODY_ERR(c, body, (size_t)n, "request body is not valid UTF-8");
  }
}

static void test_valid_utf8(void **state) {
  (void)state;
  const char *good[] = {
      "",
      "ascii",
      "\xc3\xa9" /* é */,
      "\xe2\x82\xac" /* € */,
      "\xf0\x9f\x98\x80" /* 😀 */,
      "\xc2\x80" /* U+0080 */,
      "\xe0\xa0\x80" /* U+0800 */,
      "\xed\x9f\xbf" /* U+D7FF */,
      "\xee\x80\x80" /* U+E000 */,
      "\xef\xbf\xbf" /* U+FFFF */,
      "\xf0\x90\x80\x80" /* U+10000 */,
      "\xf4\x8f\xbf\xbf" /* U+10FFFF */,
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    assert_true(json_utf8_valid(good[i], strlen(good[i])));
  /* A NUL byte is refused even though it is valid UTF-8. */
  assert_false(json_utf8_valid("a\0b", 3));
  /* Only n bytes are looked at. */
  assert_true(json_utf8_valid("ab\xff", 2));
}

static void test_nul(void **state) {
  struct ctx *c = *state;
  static const char raw_end[] = "{\"name\":\"x\",\"quantity\":1}";
  EXPECT_BODY_ERR(c, raw_end, sizeof raw_end, /* includes the final NUL */
                  "request body contains a NUL byte");
  static const char raw_mid[] = "{\"name\":\"a\0b\",\"quantity\":1}";
  EXPECT_BODY_ERR(c, raw_mid, sizeof raw_mid - 1,
                  "request body contains a NUL byte");
  EXPECT_BODY_ERR(c, "{\"name\":\"a\\u0000b\"}", 19,
                  "request body contains a NUL character");
}

/* {"a":{"a":...{}...}} with `depth` objects, or arrays inside a root. */
static char *nested(int depth, bool arrays) {
  size_t cap = (size_t)depth * 8 + 16;
  char *s = malloc(cap);
  size_t n = 0;
  if (arrays) {
    n += (size_t)sprintf(s + n, "{\"a\":");
    for (int i = 1; i < depth; i++)
      s[n++] = '[';
    for (int i = 1; i < depth; i++)
      s[n++] = ']';
    s[n++] = '}';
  } else {
    for (int i = 1; i < depth; i++)
      n += (size_t)sprintf(s + n, "{\"a\":");
    s[n++] = '{';
    for (int i = 0; i < depth; i++)
      s[n++] = '}';
  }
  s[n] = '\0';
  return s;
}

static void test_depth(void **state) {
  struct ctx *c = *state;
  for (int arrays = 0; arrays < 2; arrays++) {
    char *ok = nested(JSON_MAX_DEPTH, arrays);
    assert_int_equal(json_doc_parse(ok, strlen(ok), &c->doc, &c->err), KIT_OK);
    json_doc_free(c->doc);
    c->doc = NULL;
    free(ok);

    char *deep = nested(JSON_MAX_DEPTH + 1, arrays);
    EXPECT_BODY_ERR(c, deep, strlen(deep),
                    "request body is nested more than 32 levels deep");
    free(deep);

    char *very = nested(100000, arrays);
    EXPECT_BODY_ERR(c, very, strlen(very),
                    "request body is nested more than 32 levels deep");
    free(very);
  }

  /* Brackets inside strings (and escaped quotes) are not nesting. */
  char body[512];
  int n = snprintf(body, sizeof body,
                   "{\"note\":\"\\\"%s\",\"name\":\"x\",\"quantity\":1}",
                   "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{"
                   "{{{{{{{{{{{{{{{{{{{{{{{{{{{");
  assert_int_equal(parse_n(c, body, (size_t)n, false), KIT_OK);
}

static void test_duplicate_member(void **state) {
  struct ctx *c = *state;
  EXPECT_ERR(c, "{\"quantity\":1,\"name\":\"a\",\"quantity\":2}",
             API_VALIDATION_ERROR, "quantity",
             "quantity is given more than once");
  assert_null(c->doc);
  /* Also inside nested objects. */
  EXPECT_ERR(c, "{\"address\":{\"city\":\"a\", \"city\" :\"b\"}}",
             API_VALIDATION_ERROR, "city", "city is given more than once");
}

static void test_number_beyond_int64(void **state) {
  struct ctx *c = *state;
  EXPECT_ERR(c, "{\"name\":\"x\",\"quantity\": 9223372036854775808}",
             API_VALIDATION_ERROR, "quantity",
             "quantity is a number out of range");
  EXPECT_ERR(c, "{\"quantity\" :\n-99999999999999999999 ,\"name\":\"x\"}",
             API_VALIDATION_ERROR, "quantity",
             "quantity is a number out of range");
  EXPECT_ERR(c, "{\"name\":\"x\",\"quantity\":1e999}", API_VALIDATION_ERROR,
             "quantity", "quantity is a number out of range");
  /* In an array there is no member name to give. */
  EXPECT_ERR(c, "{\"items\":[1, 99999999999999999999]}", API_VALIDATION_ERROR,
             "", "request body has a number out of range");
  assert_null(c->doc);
}

/* --- fields --- */

static void test_wrong_types(void **state) {
  struct ctx *c = *state;
  static const struct {
    const char *body, *field, *message;
  } cases[] = {
      {"{\"name\":5,"
       "\"quantity\":1}",
       "name", "name must be a string"},
      {"{\"name\":null,"
       "\"quantity\":1}",
       "name", "name must be a string"},
      {"{\"name\":[\"x\"],"
       "\"quantity\":1}",
       "name", "name must be a string"},
      {"{\"name\":\"x\",\"quantity\":\"3\"}", "quantity",
       "quantity must be an integer"},
      {"{\"name\":\"x\",\"quantity\":1.0}", "quantity",
       "quantity must be an integer"},
      {"{\"name\":\"x\",\"quantity\":2.5}", "quantity",
       "quantity must be an integer"},
      {"{\"name\":\"x\",\"quantity\":1e2}", "quantity",
       "quantity must be an integer"},
      {"{\"name\":\"x\",\"quantity\":true}", "quantity",
       "quantity must be an integer"},
      {"{\"name\":\"x\",\"quantity\":null}", "quantity",
       "quantity must be an integer"},
      {"{" MINIMAL ",\"gift\":\"yes\"}", "gift", "gift must be true or false"},
      {"{" MINIMAL ",\"gift\":1}", "gift", "gift must be true or false"},
      {"{" MINIMAL ",\"gift\":null}", "gift", "gift must be true or false"},
      {"{" MINIMAL ",\"product_id\":5}", "product_id",
       "product_id must be a string"},
      {"{" MINIMAL ",\"email\":{}}", "email", "email must be a string"},
      {"{" MINIMAL ",\"price\":19.99}", "price", "price must be a string"},
      {"{" MINIMAL ",\"price\":20}", "price", "price must be a string"},
      {"{" MINIMAL ",\"status\":1}", "status", "status must be a string"},
      {"{" MINIMAL ",\"address\":[]}", "address", "address must be an object"},
      {"{" MINIMAL ",\"address\":\"Main St\"}", "address",
       "address must be an object"},
      {"{" MINIMAL ",\"items\":{}}", "items", "items must be an array"},
      {"{" MINIMAL ",\"note\":false}", "note", "note must be a string"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    EXPECT_ERR(c, cases[i].body, API_VALIDATION_ERROR, cases[i].field,
               cases[i].message);
}

static void test_missing_required(void **state) {
  struct ctx *c = *state;
  EXPECT_ERR(c, "{}", API_UNPROCESSABLE, "name", "name is required");
  EXPECT_ERR(c, "{\"name\":\"x\"}", API_UNPROCESSABLE, "quantity",
             "quantity is required");
  EXPECT_ERR(c, "{\"quantity\":1}", API_UNPROCESSABLE, "name",
             "name is required");
}

static void test_int_range(void **state) {
  struct ctx *c = *state;
  const char *bad[] = {"0", "100", "-1", "9223372036854775807",
                       "-9223372036854775808"};
  char body[128];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(body, sizeof body, "{\"name\":\"x\",\"quantity\":%s}", bad[i]);
    EXPECT_ERR(c, body, API_UNPROCESSABLE, "quantity",
               "quantity must be between 1 and 99");
  }
  assert_int_equal(parse(c, "{\"name\":\"x\",\"quantity\":1}", false), KIT_OK);
  assert_int_equal(c->r.quantity, 1);
  assert_int_equal(parse(c, "{\"name\":\"x\",\"quantity\":99}", false), KIT_OK);
  assert_int_equal(c->r.quantity, 99);
}

static void test_int_unbounded_and_negative_range(void **state) {
  struct ctx *c = *state;
  int64_t v = 0;
  const struct json_field any[] = {
      {.name = "v", .type = JF_INT, .required = true, .out = &v}};
  const char *ok[] = {"{\"v\":9223372036854775807}",
                      "{\"v\":-9223372036854775808}", "{\"v\":0}"};
  const int64_t want[] = {INT64_MAX, INT64_MIN, 0};
  for (size_t i = 0; i < 3; i++) {
    json_doc_free(c->doc);
    assert_int_equal(json_parse_body(ok[i], strlen(ok[i]), any, 1, true,
                                     &c->arena, &c->doc, &c->err),
                     KIT_OK);
    assert_true(v == want[i]);
  }

  /* A range ending at zero is a range, not "unbounded". */
  const struct json_field neg[] = {{.name = "delta",
                                    .type = JF_INT,
                                    .required = true,
                                    .min = -50,
                                    .max = 0,
                                    .out = &v}};
  json_doc_free(c->doc);
  assert_int_equal(json_parse_body("{\"delta\":1}", 11, neg, 1, true, &c->arena,
                                   &c->doc, &c->err),
                   KIT_INVALID);
  assert_int_equal(c->err.code, API_UNPROCESSABLE);
  assert_string_equal(c->err.message, "delta must be between -50 and 0");
  json_doc_free(c->doc);
  assert_int_equal(json_parse_body("{\"delta\":-50}", 13, neg, 1, true,
                                   &c->arena, &c->doc, &c->err),
                   KIT_OK);
  assert_true(v == -50);
}

static void test_string_length_in_code_points(void **state) {
  struct ctx *c = *state;
  const char *msg = "name must have between 1 and 10 characters";
  /* 10 × "é" is 20 bytes but 10 characters: fine. */
  assert_int_equal(
      parse(
          c,
          "{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
          "\xc3\xa9\xc3\xa9\xc3\xa9\",\"quantity\":1}",
          false),
      KIT_OK);
  assert_int_equal(strlen(c->r.name), 20);
  /* 10 emoji: 40 bytes, 10 characters. */
  assert_int_equal(
      parse(
          c,
          "{\"name\":\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f"
          "\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f"
          "\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\",\"quantity\":1}",
          false),
      KIT_OK);
  /* Escapes count as the character they stand for. */
  assert_int_equal(
      parse(c,
            "{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
            "\\u00e9\\u00e9\\u00e9\\u00e9\",\"quantity\":1}",
            false),
      KIT_OK);
  /* 11 characters, and the empty string, are refused. */
  EXPECT_ERR(c,
             "{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
             "\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
             "a\",\"quantity\":1}",
             API_UNPROCESSABLE, "name", msg);
  EXPECT_ERR(c, "{\"name\":\"abcdefghijk\",\"quantity\":1}", API_UNPROCESSABLE,
             "name", msg);
  EXPECT_ERR(c, "{\"name\":\"\",\"quantity\":1}", API_UNPROCESSABLE, "name",
             msg);
}

static void test_one_sided_bounds(void **state) {
  struct ctx *c = *state;
  const char *pw = NULL, *bio = NULL;
  const void *tags = NULL;
  const struct json_field f[] = {
      {.name = "password", .type = JF_STRING, .min = 8, .out = &pw},
      {.name = "bio", .type = JF_STRING, .max = 5, .out = &bio},
      {.name = "tags", .type = JF_ARRAY, .max = 2, .out = &tags},
  };
  const struct {
    const char *body, *field, *msg;
  } cases[] = {
      {"{\"password\":\"short\"}", "password",
       "password must have at least 8 characters"},
      {"{\"bio\":\"toolong\"}", "bio", "bio must have at most 5 characters"},
      {"{\"tags\":[1,2,3]}", "tags", "tags must have at most 2 entries"},
  };
  for (size_t i = 0; i < 3; i++) {
    json_doc_free(c->doc);
    assert_int_equal(json_parse_body(cases[i].body, strlen(cases[i].body), f, 3,
                                     true, &c->arena, &c->doc, &c->err),
                     KIT_INVALID);
    assert_int_equal(c->err.code, API_UNPROCESSABLE);
    assert_string_equal(c->err.field, cases[i].field);
    assert_string_equal(c->err.message, cases[i].msg);
  }
  const char *ok = "{\"password\":\"long enough, and then some more\","
                   "\"bio\":\"\",\"tags\":[]}";
  json_doc_free(c->doc);
  assert_int_equal(
      json_parse_body(ok, strlen(ok), f, 3, true, &c->arena, &c->doc, &c->err),
      KIT_OK);
  assert_string_equal(bio, "");
}

static void test_array_count(void **state) {
  struct ctx *c = *state;
  const char *msg = "items must have between 1 and 3 entries";
  EXPECT_ERR(c, "{" MINIMAL ",\"items\":[]}", API_UNPROCESSABLE, "items", msg);
  EXPECT_ERR(c, "{" MINIMAL ",\"items\":[1,2,3,4]}", API_UNPROCESSABLE, "items",
             msg);
  assert_int_equal(parse(c, "{" MINIMAL ",\"items\":[1,{},\"x\"]}", false),
                   KIT_OK);
  assert_int_equal(json_array_size(c->r.items), 3);
}

static void test_enum(void **state) {
  struct ctx *c = *state;
  const char *msg = "status must be one of: pending, approved, rejected";
  EXPECT_ERR(c, "{" MINIMAL ",\"status\":\"shipped\"}", API_UNPROCESSABLE,
             "status", msg);
  EXPECT_ERR(c, "{" MINIMAL ",\"status\":\"Pending\"}", API_UNPROCESSABLE,
             "status", msg);
  EXPECT_ERR(c, "{" MINIMAL ",\"status\":\"\"}", API_UNPROCESSABLE, "status",
             msg);
  assert_int_equal(parse(c, "{" MINIMAL ",\"status\":\"approved\"}", false),
                   KIT_OK);
  assert_string_equal(c->r.status, "approved");
}

static void test_email(void **state) {
  struct ctx *c = *state;
  assert_int_equal(
      parse(c, "{" MINIMAL ",\"email\":\"Alice.Smith+Tag@Example.COM\"}",
            false),
      KIT_OK);
  assert_string_equal(c->r.email, "alice.smith+tag@example.com");

  const char *bad[] = {
      "",
      "plain",
      "a@b",
      "@example.com",
      "a@",
      "a@@example.com",
      "a@b@example.com",
      "a b@example.com",
      "a@exa mple.com",
      " a@example.com",
      "a@.example.com",
      "a@example.com.",
      "a@example..com",
      "<a@example.com>",
      "a\\n@example.com",
      "\\\"a\\\"@example.com",
  };
  char body[400];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(body, sizeof body, "{" MINIMAL ",\"email\":\"%s\"}", bad[i]);
    EXPECT_ERR(c, body, API_UNPROCESSABLE, "email",
               "email must be a valid email address");
  }
}

static void test_email_lengths(void **state) {
  (void)state;
  char addr[300];
  /* Local part: 64 is the limit. */
  memset(addr, 'a', 64);
  strcpy(addr + 64, "@example.com");
  assert_true(json_email_valid(addr));
  memset(addr, 'a', 65);
  strcpy(addr + 65, "@example.com");
  assert_false(json_email_valid(addr));

  /* Whole address: 254 is the limit. 64 + 1 + 189 = 254. */
  memset(addr, 'a', 64);
  addr[64] = '@';
  memset(addr + 65, 'b', 185);
  strcpy(addr + 250, ".com");
  assert_int_equal(strlen(addr), 254);
  assert_true(json_email_valid(addr));
  addr[65] = 'x';
  memmove(addr + 66, addr + 65, strlen(addr + 65) + 1); /* 255 */
  assert_int_equal(strlen(addr), 255);
  assert_false(json_email_valid(addr));

  assert_true(json_email_valid("o'brien@example.co.uk"));
  assert_true(json_email_valid("x@sub-domain.example"));
  assert_false(json_email_valid(NULL));
}

static void test_uuid(void **state) {
  struct ctx *c = *state;
  assert_int_equal(
      parse(c,
            "{" MINIMAL
            ",\"product_id\":\"0190B5A4-7C3E-7D2A-9F1B-3C4D5E6F7A8B\"}",
            false),
      KIT_OK);
  assert_string_equal(c->r.product_id, "0190b5a4-7c3e-7d2a-9f1b-3c4d5e6f7a8b");

  const char *bad[] = {"not-a-uuid", "", "0190b5a47c3e7d2a9f1b3c4d5e6f7a8b",
                       "0190b5a4-7c3e-7d2a-9f1b-3c4d5e6f7a8b ",
                       "0190b5a4-7c3e-7d2a-9f1b-3c4d5e6f7a8z"};
  char body[200];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(body, sizeof body, "{" MINIMAL ",\"product_id\":\"%s\"}", bad[i]);
    EXPECT_ERR(c, body, API_UNPROCESSABLE, "product_id",
               "product_id must be a UUID");
  }
}

static void test_money_shape(void **state) {
  struct ctx *c = *state;
  const char *ok[] = {"19.99", "20", "0.5", "0", "007.000"};
  char body[200];
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    snprintf(body, sizeof body, "{" MINIMAL ",\"price\":\"%s\"}", ok[i]);
    assert_int_equal(parse(c, body, false), KIT_OK);
    assert_string_equal(c->r.price, ok[i]); /* as sent */
  }
  const char *bad[] = {"",    "19.", ".5", "-1",    "+1",  "1e2",
                       "1,5", " 1",  "1 ", "1.2.3", "abc", "\\u0661"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(body, sizeof body, "{" MINIMAL ",\"price\":\"%s\"}", bad[i]);
    EXPECT_ERR(c, body, API_UNPROCESSABLE, "price",
               "price must be a decimal amount such as \"19.99\"");
  }
}

static void test_unknown_member(void **state) {
  struct ctx *c = *state;
  const char *body = "{" MINIMAL ",\"coupon\":\"FREE\"}";
  EXPECT_ERR_N(c, body, strlen(body), true, API_UNPROCESSABLE, "coupon",
               "coupon is not a known field");
  /* Without reject_unknown, extra members are ignored. */
  assert_int_equal(parse(c, body, false), KIT_OK);
}

static void test_long_names_are_clipped_to_valid_utf8(void **state) {
  struct ctx *c = *state;
  /* An unknown key of 100 × "é" (200 bytes) fits neither err.field (64)
   * nor err.message (192). */
  char body[512] = "{" MINIMAL ",\"";
  size_t n = strlen(body);
  for (int i = 0; i < 100; i++) {
    body[n++] = '\xc3';
    body[n++] = '\xa9';
  }
  strcpy(body + n, "\":1}");
  assert_int_equal(parse(c, body, true), KIT_INVALID);
  assert_int_equal(c->err.code, API_UNPROCESSABLE);
  size_t fl = strlen(c->err.field);
  assert_true(fl > 0 && fl < sizeof c->err.field);
  assert_true(json_utf8_valid(c->err.field, fl));
  assert_true(json_utf8_valid(c->err.message, strlen(c->err.message)));

  /* A very long enum list is clipped, never overflowed, and never cut in
   * the middle of a character (every byte here belongs to a 2-byte one). */
  static const char e30[] =
      "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
      "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
      "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9";
  const char *const many[] = {e30, e30, e30, e30, NULL};
  const char *v = NULL;
  const struct json_field f[] = {
      {.name = "kind", .type = JF_ENUM, .out = &v, .enum_values = many}};
  json_doc_free(c->doc);
  assert_int_equal(json_parse_body("{\"kind\":\"x\"}", 12, f, 1, false,
                                   &c->arena, &c->doc, &c->err),
                   KIT_INVALID);
  assert_true(strlen(c->err.message) < sizeof c->err.message);
  assert_true(json_utf8_valid(c->err.message, strlen(c->err.message)));
}

static void test_nullable(void **state) {
  struct ctx *c = *state;
  /* null on a nullable field counts as absent: default kept. */
  assert_int_equal(parse(c, "{" MINIMAL ",\"note\":null}", false), KIT_OK);
  assert_false(c->r.note_present);
  assert_string_equal(c->r.note, "default note");

  assert_int_equal(parse(c, "{" MINIMAL ",\"note\":\"ring twice\"}", false),
                   KIT_OK);
  assert_true(c->r.note_present);
  assert_string_equal(c->r.note, "ring twice");

  /* Required and nullable: null is as good as missing, so refused. */
  const char *s = NULL;
  const struct json_field f[] = {{.name = "line1",
                                  .type = JF_STRING,
                                  .required = true,
                                  .nullable = true,
                                  .out = &s}};
  json_doc_free(c->doc);
  assert_int_equal(json_parse_body("{\"line1\":null}", 14, f, 1, false,
                                   &c->arena, &c->doc, &c->err),
                   KIT_INVALID);
  assert_int_equal(c->err.code, API_UNPROCESSABLE);
  assert_string_equal(c->err.message, "line1 is required");
}

static void test_read_fields_needs_an_object(void **state) {
  struct ctx *c = *state;
  json_t *arr = json_array();
  assert_int_equal(
      json_read_fields(arr, c->fields, 10, false, &c->arena, &c->err),
      KIT_INVALID);
  assert_int_equal(c->err.code, API_VALIDATION_ERROR);
  json_decref(arr);
  assert_int_equal(
      json_read_fields(NULL, c->fields, 10, false, &c->arena, &c->err),
      KIT_INVALID);
  assert_int_equal(c->err.code, API_VALIDATION_ERROR);
}

/* --- the happy path --- */

static void test_happy_path_fills_struct(void **state) {
  struct ctx *c = *state;
  const char *body =
      "{\n"
      "  \"name\": \"T-shirt \\u00e9\",\n"
      "  \"quantity\": 3,\n"
      "  \"gift\": true,\n"
      "  \"product_id\": \"0190B5A4-7C3E-7D2A-9F1B-3C4D5E6F7A8B\",\n"
      "  \"email\": \"Buyer@Example.com\",\n"
      "  \"price\": \"19.99\",\n"
      "  \"status\": \"pending\",\n"
      "  \"address\": {\"line1\": \"1 Main St\", \"city\": \"Springfield\"},\n"
      "  \"items\": [{\"sku\": \"A\"}],\n"
      "  \"note\": \"leave at door\"\n"
      "}";
  assert_int_equal(parse(c, body, true), KIT_OK);
  assert_int_equal(c->err.code, API_OK);
  struct order_req *r = &c->r;
  assert_string_equal(r->name, "T-shirt \xc3\xa9");
  assert_int_equal(r->quantity, 3);
  assert_true(r->gift);
  assert_true(r->gift_present);
  assert_string_equal(r->product_id, "0190b5a4-7c3e-7d2a-9f1b-3c4d5e6f7a8b");
  assert_string_equal(r->email, "buyer@example.com");
  assert_string_equal(r->price, "19.99");
  assert_string_equal(r->status, "pending");
  assert_true(r->note_present);
  assert_string_equal(r->note, "leave at door");

  /* Borrowed objects can be read with their own table. */
  const char *line1 = NULL, *city = NULL, *postal = "none";
  const struct json_field addr[] = {
      {.name = "line1",
       .type = JF_STRING,
       .required = true,
       .max = 100,
       .out = &line1},
      {.name = "city", .type = JF_STRING, .required = true, .out = &city},
      {.name = "postal_code", .type = JF_STRING, .out = &postal},
  };
  assert_int_equal(
      json_read_fields(r->address, addr, 3, true, &c->arena, &c->err), KIT_OK);
  assert_string_equal(line1, "1 Main St");
  assert_string_equal(city, "Springfield");
  assert_string_equal(postal, "none");
  assert_int_equal(json_array_size(r->items), 1);

  /* A nested table names the nested field. */
  const struct json_field addr2[] = {{.name = "postal_code",
                                      .type = JF_STRING,
                                      .required = true,
                                      .out = &postal}};
  assert_int_equal(
      json_read_fields(r->address, addr2, 1, false, &c->arena, &c->err),
      KIT_INVALID);
  assert_string_equal(c->err.field, "postal_code");

  /* Strings are arena copies: they outlive the document. */
  json_doc_free(c->doc);
  c->doc = NULL;
  assert_string_equal(r->name, "T-shirt \xc3\xa9");
  assert_string_equal(line1, "1 Main St");
}

static void test_optional_absent_keeps_defaults(void **state) {
  struct ctx *c = *state;
  c->r.gift = true;
  c->r.price = "unchanged";
  c->r.gift_present = true;
  assert_int_equal(parse(c, "{" MINIMAL "}", true), KIT_OK);
  assert_true(c->r.gift);
  assert_false(c->r.gift_present);
  assert_string_equal(c->r.price, "unchanged");
  assert_null(c->r.product_id);
  assert_non_null(json_doc_root(c->doc));
  assert_null(json_doc_root(NULL));
  json_doc_free(NULL);
}

int main(void) {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_empty_body),
      T(test_malformed),
      T(test_not_an_object),
      T(test_invalid_utf8),
      T(test_valid_utf8),
      T(test_nul),
      T(test_depth),
      T(test_duplicate_member),
      T(test_number_beyond_int64),
      T(test_wrong_types),
      T(test_missing_required),
      T(test_int_range),
      T(test_int_unbounded_and_negative_range),
      T(test_string_length_in_code_points),
      T(test_one_sided_bounds),
      T(test_array_count),
      T(test_enum),
      T(test_email),
      T(test_email_lengths),
      T(test_uuid),
      T(test_money_shape),
      T(test_unknown_member),
      T(test_long_names_are_clipped_to_valid_utf8),
      T(test_nullable),
      T(test_read_fields_needs_an_object),
      T(test_happy_path_fills_struct),
      T(test_optional_absent_keeps_defaults),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
