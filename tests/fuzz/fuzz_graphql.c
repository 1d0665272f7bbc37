/* fuzz_graphql.c - the GraphQL engine (src/kit/graphql*.c) on a small
 * schema: parsing, validation, limits, variables, fragments, execution and
 * introspection. Input: "<query>\0<variables JSON>". */
#include <jansson.h>
#include <stdio.h>

#include "fuzz.h"
#include "kit/graphql.h"

static int resolve_list(struct gql_exec *ex, json_t *parent, json_t *args,
                        json_t **out, char *err, size_t err_size, char *code,
                        size_t code_size) {
  (void)ex, (void)parent, (void)err, (void)err_size, (void)code,
      (void)code_size;
  json_int_t limit = json_integer_value(json_object_get(args, "limit"));
  *out = json_array();
  for (json_int_t i = 0; i < limit && i < 3; i++)
    json_array_append_new(*out, json_pack("{s:s, s:s, s:[s]}", "id", "p1",
                                          "name", "Lamp", "tags", "home"));
  return 0;
}

static int resolve_echo(struct gql_exec *ex, json_t *parent, json_t *args,
                        json_t **out, char *err, size_t err_size, char *code,
                        size_t code_size) {
  (void)ex, (void)parent, (void)code, (void)code_size;
  if (json_object_size(args) == 0) {
    snprintf(err, err_size, "nothing to echo");
    return -1;
  }
  char *text = json_dumps(args, JSON_COMPACT);
  *out = json_string(text ? text : "");
  free(text);
  return 0;
}

static const struct gql_arg_def limit_arg[] = {{"limit", "Int", "2", NULL},
                                               {NULL}};
static const struct gql_arg_def echo_args[] = {
    {"input", "EchoInput"}, {"ids", "[ID!]"}, {"sort", "Sort"},
    {"n", "Float"},         {"b", "Boolean"}, {NULL}};
static const struct gql_field_def query_fields[] = {
    {"items", "[Item!]!", NULL, limit_arg, resolve_list},
    {"echo", "String", NULL, echo_args, resolve_echo},
    {NULL},
};
static const struct gql_field_def item_fields[] = {
    {"id", "ID!"},
    {"name", "String!"},
    {"tags", "[String!]"},
    {"more", "[Item!]", NULL, limit_arg, resolve_list},
    {NULL},
};
static const struct gql_field_def input_fields[] = {
    {"text", "String!"}, {"times", "Int"}, {"nested", "EchoInput"}, {NULL}};
static const char *const sorts[] = {"newest", "price_asc", NULL};
static const struct gql_type_def types[] = {
    {"Query", GQL_OBJECT, NULL, query_fields},
    {"Mutation", GQL_OBJECT, NULL, query_fields},
    {"Item", GQL_OBJECT, NULL, item_fields},
    {"EchoInput", GQL_INPUT_OBJECT, NULL, input_fields},
    {"Sort", GQL_ENUM, NULL, NULL, sorts},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct gql_schema *schema;
  if (schema == NULL) {
    struct gql_limits limits = {.max_query_bytes = 16384,
                                .max_depth = 8,
                                .max_cost = 2000,
                                .default_list_size = 20};
    char why[200];
    schema = gql_schema_create(types, sizeof types / sizeof types[0], "Query",
                               "Mutation", &limits, why, sizeof why);
    if (schema == NULL) abort();
  }
  const uint8_t *cut = memchr(data, '\0', size);
  size_t qlen = cut ? (size_t)(cut - data) : size;
  json_t *variables = NULL;
  if (cut != NULL)
    variables = json_loadb((const char *)cut + 1, size - qlen - 1, 0, NULL);
  char *query = fuzz_cstr(data, qlen);
  int status = 0;
  json_t *answer = gql_execute(schema, query, qlen, variables, NULL, NULL,
                               "0123456789abcdef0123456789abcdef", &status);
  if (answer == NULL || (status != 200 && status != 400)) abort();
  json_decref(answer);
  json_decref(variables);
  free(query);
  return 0;
}
