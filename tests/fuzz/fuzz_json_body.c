/* fuzz_json_body.c - a request body into a typed struct (kit/json.h): the
 * UTF-8 and depth checks, then every field type of the table readers. */
#include "fuzz.h"
#include "kit/arena.h"
#include "kit/json.h"

static const char *const colors[] = {"red", "green", "blue", NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *name = NULL, *id = NULL, *email = NULL, *price = NULL,
             *color = NULL;
  int64_t quantity = 0;
  bool flag = false, has_price = false;
  const void *address = NULL, *items = NULL;
  const struct json_field fields[] = {
      {.name = "name",
       .type = JF_STRING,
       .required = true,
       .min = 1,
       .max = 64,
       .out = &name},
      {.name = "quantity",
       .type = JF_INT,
       .min = 1,
       .max = 99,
       .out = &quantity},
      {.name = "flag", .type = JF_BOOL, .out = &flag, .nullable = true},
      {.name = "id", .type = JF_UUID, .out = &id},
      {.name = "email", .type = JF_EMAIL, .out = &email},
      {.name = "price", .type = JF_MONEY, .out = &price, .present = &has_price},
      {.name = "color", .type = JF_ENUM, .out = &color, .enum_values = colors},
      {.name = "address", .type = JF_OBJECT, .out = &address},
      {.name = "items", .type = JF_ARRAY, .min = 0, .max = 10, .out = &items},
  };
  struct arena a;
  arena_init(&a, 1024);
  struct json_doc *doc = NULL;
  struct json_error err;
  char *body = fuzz_cstr(data, size);
  /* Strict (unknown fields refused) and lenient. */
  for (int strict = 0; strict < 2; strict++) {
    doc = NULL;
    if (json_parse_body(body, size, fields, sizeof fields / sizeof fields[0],
                        strict, &a, &doc, &err) == KIT_OK &&
        name != NULL && strlen(name) == 0)
      abort(); /* min length 1 was promised */
    json_doc_free(doc);
  }
  json_utf8_valid(body, size);
  json_email_valid(body);
  free(body);
  arena_free(&a);
  return 0;
}
