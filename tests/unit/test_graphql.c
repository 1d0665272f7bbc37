/* test_graphql.c - the GraphQL engine (kit/graphql.h) on a small schema:
 * parsing, validation, limits, variables, fragments, errors, introspection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "kit/graphql.h"

static int resolve_products(struct gql_exec *ex, json_t *parent, json_t *args,
                            json_t **out, char *err, size_t err_size,
                            char *code, size_t code_size) {
  (void)ex, (void)parent, (void)err, (void)err_size, (void)code,
      (void)code_size;
  json_int_t limit = json_integer_value(json_object_get(args, "limit"));
  *out = json_array();
  for (json_int_t i = 0; i < limit && i < 3; i++)
    json_array_append_new(*out, json_pack("{s:s, s:s, s:s, s:[s]}", "id",
                                          i == 0 ? "p1" : "p2", "name", "Lamp",
                                          "price", "12.50", "tags", "home"));
  return 0;
}

static int resolve_hello(struct gql_exec *ex, json_t *parent, json_t *args,
                         json_t **out, char *err, size_t err_size, char *code,
                         size_t code_size) {
  (void)ex, (void)parent, (void)args, (void)err, (void)err_size, (void)code,
      (void)code_size;
  *out = json_string("hi");
  return 0;
}

static int resolve_fail(struct gql_exec *ex, json_t *parent, json_t *args,
                        json_t **out, char *err, size_t err_size, char *code,
                        size_t code_size) {
  (void)ex, (void)parent, (void)args, (void)out;
  snprintf(err, err_size, "the catalog is unavailable");
  snprintf(code, code_size, "SERVICE_UNAVAILABLE");
  return -1;
}

static int resolve_echo(struct gql_exec *ex, json_t *parent, json_t *args,
                        json_t **out, char *err, size_t err_size, char *code,
                        size_t code_size) {
  (void)parent, (void)err, (void)err_size, (void)code, (void)code_size;
  json_t *input = json_object_get(args, "input");
  char text[128];
  snprintf(text, sizeof text, "%s:%s:%lld", gql_operation_kind(ex),
           json_string_value(json_object_get(input, "text")),
           (long long)json_integer_value(json_object_get(input, "times")));
  *out = json_string(text);
  return 0;
}

static const struct gql_arg_def limit_arg[] = {{"limit", "Int", "20", NULL},
                                               {NULL}};
static const struct gql_arg_def id_arg[] = {{"id", "ID!", NULL, NULL}, {NULL}};
static const struct gql_arg_def echo_args[] = {{"input", "EchoInput!", NULL},
                                               {NULL}};
static const struct gql_arg_def sort_arg[] = {{"sort", "Sort", "\"newest\""},
                                              {NULL}};

static const struct gql_field_def query_fields[] = {
    {"hello", "String!", "a greeting", NULL, resolve_hello},
    {"products", "[Product!]!", NULL, limit_arg, resolve_products},
    {"product", "Product", NULL, id_arg, resolve_products},
    {"sorted", "String", NULL, sort_arg, resolve_hello},
    {"fail", "String", NULL, NULL, resolve_fail},
    {"boom", "String!", NULL, NULL, resolve_fail},
    {NULL},
};
static const struct gql_field_def product_fields[] = {
    {"id", "ID!"},
    {"name", "String!"},
    {"price", "String"},
    {"tags", "[String!]"},
    {"related", "[Product!]", NULL, limit_arg, resolve_products},
    {NULL},
};
static const struct gql_field_def mutation_fields[] = {
    {"echo", "String", NULL, echo_args, resolve_echo},
    {NULL},
};
static const struct gql_field_def echo_input_fields[] = {
    {"text", "String!"},
    {"times", "Int"},
    {NULL},
};
static const char *const sorts[] = {"newest", "price_asc", NULL};

static const struct gql_type_def types[] = {
    {"Query", GQL_OBJECT, "the root", query_fields},
    {"Product", GQL_OBJECT, "a product", product_fields},
    {"Mutation", GQL_OBJECT, NULL, mutation_fields},
    {"EchoInput", GQL_INPUT_OBJECT, NULL, echo_input_fields},
    {"Sort", GQL_ENUM, NULL, NULL, sorts},
};

static struct gql_schema *schema;

static int setup(void **state) {
  (void)state;
  struct gql_limits limits = {.max_query_bytes = 8192,
                              .max_depth = 4,
                              .max_cost = 500,
                              .default_list_size = 20};
  char why[200] = "";
  schema = gql_schema_create(types, sizeof types / sizeof types[0], "Query",
                             "Mutation", &limits, why, sizeof why);
  if (schema == NULL) fprintf(stderr, "schema: %s\n", why);
  return schema ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  gql_schema_destroy(schema);
  return 0;
}

/* Runs query with variables (JSON text or NULL); returns the compact JSON
 * answer in a static buffer and the status. */
static const char *run(const char *query, const char *vars, int *status) {
  static char out[65536];
  json_t *v = vars ? json_loads(vars, 0, NULL) : NULL;
  json_t *r = gql_execute(schema, query, strlen(query), v, NULL, NULL,
                          "0af7651916cd43dd8448eb211c80319c", status);
  char *text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
  snprintf(out, sizeof out, "%s", text);
  free(text);
  json_decref(r);
  json_decref(v);
  return out;
}

static void fields_aliases_fragments_and_variables(void **state) {
  (void)state;
  int status;
  const char *r = run(
      "query Q($n: Int = 1, $skip: Boolean!) {\n"
      "  first: products(limit: $n) { ...P tags }\n"
      "  two: products(limit: 2) { id @skip(if: $skip) ... on Product { name } "
      "}\n"
      "  __typename\n"
      "}\n"
      "fragment P on Product { id __typename }",
      "{\"skip\": true}", &status);
  assert_int_equal(status, 200);
  assert_string_equal(
      r, "{\"data\":{\"__typename\":\"Query\",\"first\":[{\"__typename\":"
         "\"Product\",\"id\":\"p1\",\"tags\":[\"home\"]}],\"two\":[{\"name\":"
         "\"Lamp\"},{\"name\":\"Lamp\"}]}}");
}

static void mutations_take_input_objects(void **state) {
  (void)state;
  int status;
  const char *r =
      run("mutation($t: String!) { echo(input: {text: $t, times: 3}) }",
          "{\"t\": \"x\"}", &status);
  assert_int_equal(status, 200);
  assert_string_equal(r, "{\"data\":{\"echo\":\"mutation:x:3\"}}");
  r = run("mutation { echo(input: {text: \"x\", color: \"red\"}) }", NULL,
          &status);
  assert_non_null(strstr(r, "EchoInput has no field 'color'"));
}

static void syntax_errors_name_the_place(void **state) {
  (void)state;
  int status;
  const char *r = run("{\n  products(limit: 1) { id \n", NULL, &status);
  assert_int_equal(status, 400);
  assert_non_null(strstr(r, "\"GRAPHQL_PARSE_FAILED\""));
  assert_non_null(strstr(r, "\"line\":3"));
  assert_null(strstr(r, "\"data\""));
  r = run("{ hello(x: \"\\q\") }", NULL, &status);
  assert_int_equal(status, 400);
  assert_non_null(strstr(r, "invalid escape"));
  r = run("", NULL, &status);
  assert_int_equal(status, 400);
}

static void validation_refuses_unknown_fields_and_arguments(void **state) {
  (void)state;
  int status;
  const char *r = run("{ products { id color } }", NULL, &status);
  assert_int_equal(status, 400);
  assert_non_null(strstr(r, "cannot query field 'color' on type 'Product'"));
  r = run("{ products(size: 2) { id } }", NULL, &status);
  assert_non_null(strstr(r, "unknown argument 'size'"));
  r = run("{ product { id } }", NULL, &status);
  assert_non_null(strstr(r, "needs the argument 'id'"));
  r = run("{ products }", NULL, &status);
  assert_non_null(strstr(r, "needs a selection of subfields"));
  r = run("{ hello { x } }", NULL, &status);
  assert_non_null(strstr(r, "has no subfields"));
  r = run("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
          NULL, &status);
  assert_non_null(strstr(r, "spreads itself"));
  r = run("query($n: Int) { products(limit: $m) { id } }", NULL, &status);
  assert_non_null(strstr(r, "'$m' is not declared"));
  r = run("query($n: Int!) { products(limit: $n) { id } }", "{\"n\": \"two\"}",
          &status);
  assert_int_equal(status, 400);
  assert_non_null(strstr(r, "expected Int"));
  r = run("{ sorted(sort: oldest) }", NULL, &status);
  assert_non_null(strstr(r, "one of the Sort values"));
  r = run("subscription { hello }", NULL, &status);
  assert_non_null(strstr(r, "not supported"));
}

static void depth_and_cost_are_limited(void **state) {
  (void)state;
  int status;
  const char *r = run("{ products { related { related { related { id } } } } }",
                      NULL, &status);
  assert_int_equal(status, 400);
  assert_non_null(strstr(r, "QUERY_TOO_DEEP"));
  /* 20 x 20 related products: past the cost of 500. */
  r = run("{ products { related { id name } } }", NULL, &status);
  assert_int_equal(status, 400);
  assert_non_null(strstr(r, "QUERY_TOO_COSTLY"));
  r = run("{ products(limit: 2) { related(limit: 2) { id } } }", NULL, &status);
  assert_int_equal(status, 200);
}

static void resolver_errors_null_the_field_with_a_path(void **state) {
  (void)state;
  int status;
  const char *r = run("{ hello fail }", NULL, &status);
  assert_int_equal(status, 200);
  assert_non_null(strstr(r, "\"fail\":null"));
  assert_non_null(strstr(r, "\"path\":[\"fail\"]"));
  assert_non_null(strstr(r, "\"code\":\"SERVICE_UNAVAILABLE\""));
  assert_non_null(
      strstr(r, "\"trace_id\":\"0af7651916cd43dd8448eb211c80319c\""));
  /* A non-null field's error nulls its parent: here the whole data. */
  r = run("{ hello boom }", NULL, &status);
  assert_non_null(strstr(r, "\"data\":null"));
  assert_non_null(strstr(r, "the catalog is unavailable"));
}

static void introspection_describes_the_schema(void **state) {
  (void)state;
  int status;
  const char *r = run("{ __schema { queryType { name } mutationType { name } "
                      "directives { name } } __type(name: \"Product\") { kind "
                      "fields { name type { kind ofType { name } } } } }",
                      NULL, &status);
  assert_int_equal(status, 200);
  assert_non_null(strstr(r, "\"queryType\":{\"name\":\"Query\"}"));
  assert_non_null(strstr(r, "\"mutationType\":{\"name\":\"Mutation\"}"));
  assert_non_null(strstr(r, "{\"name\":\"skip\"}"));
  assert_non_null(
      strstr(r, "{\"name\":\"id\",\"type\":{\"kind\":\"NON_NULL\",\"ofType\":{"
                "\"name\":\"ID\"}}}"));
  r = run("{ __type(name: \"__Root\") { name } }", NULL, &status);
  assert_string_equal(r, "{\"data\":{\"__type\":null}}");
  /* The query GraphiQL and code generators send. */
  r = run("query IntrospectionQuery { __schema { queryType { name } "
          "mutationType { name } subscriptionType { name } types { "
          "...FullType } directives { name description locations args { "
          "...InputValue } } } } fragment FullType on __Type { kind name "
          "description fields(includeDeprecated: true) { name description "
          "args { ...InputValue } type { ...TypeRef } isDeprecated "
          "deprecationReason } inputFields { ...InputValue } interfaces { "
          "...TypeRef } enumValues(includeDeprecated: true) { name description "
          "isDeprecated deprecationReason } possibleTypes { ...TypeRef } } "
          "fragment InputValue on __InputValue { name description type { "
          "...TypeRef } defaultValue } fragment TypeRef on __Type { kind name "
          "ofType { kind name ofType { kind name ofType { kind name } } } }",
          NULL, &status);
  assert_int_equal(status, 200);
  assert_null(strstr(r, "\"errors\""));
  assert_non_null(strstr(r, "\"name\":\"EchoInput\""));
  assert_non_null(strstr(r, "\"defaultValue\":\"newest\""));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(fields_aliases_fragments_and_variables),
      cmocka_unit_test(mutations_take_input_objects),
      cmocka_unit_test(syntax_errors_name_the_place),
      cmocka_unit_test(validation_refuses_unknown_fields_and_arguments),
      cmocka_unit_test(depth_and_cost_are_limited),
      cmocka_unit_test(resolver_errors_null_the_field_with_a_path),
      cmocka_unit_test(introspection_describes_the_schema),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
