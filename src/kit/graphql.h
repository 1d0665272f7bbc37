/* graphql.h - a GraphQL parser, validator and executor (no domain
 * knowledge); the gateway holds the schema and its resolvers.
 *
 * No C GraphQL library is packaged for Debian 12, so this is ours: the
 * executable subset of the October 2021 specification that a storefront
 * needs (queries and mutations, variables with defaults, fragments and inline
 * fragments, aliases, @skip/@include, __typename, introspection good enough
 * for GraphiQL and code generators), with limits on document size, nesting,
 * depth and cost checked before anything runs.
 *
 * A schema is static tables (struct gql_type_def); field types are written
 * in SDL ("[Product!]!"). Values are JSON (jansson): a field without a
 * resolver reads the parent object's property of its name (or `source`), so
 * most of the schema maps onto the REST answers with no code.
 */
#ifndef SHOPSPHERE_KIT_GRAPHQL_H
#define SHOPSPHERE_KIT_GRAPHQL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum gql_kind {
  GQL_SCALAR,
  GQL_OBJECT,
  GQL_ENUM,
  GQL_INPUT_OBJECT,
};

struct gql_exec;

/* A resolver: sets *out to a new reference (NULL or json_null() for null)
 * and returns 0, or writes a message into err (and optionally a code such as
 * "NOT_FOUND" into code) and returns -1. args is the coerced argument object
 * (borrowed); parent is the parent object's JSON (borrowed). */
typedef int (*gql_resolver)(struct gql_exec *ex, json_t *parent, json_t *args,
                            json_t **out, char *err, size_t err_size,
                            char *code, size_t code_size);

struct gql_arg_def {
  const char *name;
  const char *type;         /* SDL: "Int", "[ID!]!" */
  const char *default_json; /* JSON text of the default, or NULL */
  const char *description;
};

struct gql_field_def {
  const char *name;
  const char *type; /* SDL type reference */
  const char *description;
  const struct gql_arg_def *args; /* terminated by {NULL}; may be NULL */
  gql_resolver resolve;           /* NULL: the parent's property */
  const char *source;             /* that property when it is not `name` */
  int cost;                       /* extra cost (an upstream call): 0 default */
};

struct gql_type_def {
  const char *name;
  enum gql_kind kind;
  const char *description;
  const struct gql_field_def *fields; /* objects, input objects: {NULL} */
  const char *const *enum_values;     /* enums: NULL-terminated */
};

struct gql_limits {
  size_t max_query_bytes; /* e.g. 16384 */
  int max_depth;          /* e.g. 10 */
  long max_cost;          /* e.g. 5000: fields, times list sizes */
  int default_list_size;  /* list multiplier without a limit argument */
};

struct gql_schema; /* compiled, immutable, shared by threads */

/* Compiles the tables (borrowed for the schema's life; they are static).
 * Returns NULL and a reason when a type reference names an unknown type. */
struct gql_schema *gql_schema_create(const struct gql_type_def *types,
                                     size_t count, const char *query_type,
                                     const char *mutation_type,
                                     const struct gql_limits *limits, char *why,
                                     size_t why_size);
void gql_schema_destroy(struct gql_schema *s);

/* Executes one request. query: the document text; variables: JSON object or
 * NULL (borrowed); operation_name may be NULL. context is handed to
 * resolvers through gql_context(). trace_id goes into each error's
 * extensions. Returns the response object {data?, errors?} (caller decrefs);
 * *http_status is 200 when execution began, 400 when the request was
 * refused before (syntax, validation, limits). */
json_t *gql_execute(const struct gql_schema *s, const char *query,
                    size_t query_len, json_t *variables,
                    const char *operation_name, void *context,
                    const char *trace_id, int *http_status);

/* For resolvers. */
void *gql_context(struct gql_exec *ex);
/* A per-request memo: the value stored under key (borrowed), or NULL. */
json_t *gql_memo_get(struct gql_exec *ex, const char *key);
/* Stores value (reference taken) under key. */
void gql_memo_set(struct gql_exec *ex, const char *key, json_t *value);
/* The operation's kind: "query" or "mutation". */
const char *gql_operation_kind(struct gql_exec *ex);

#endif
