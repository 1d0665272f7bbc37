/* graphql_internal.h - the document tree and the compiled schema shared by
 * graphql_parse.c, graphql_exec.c and graphql_introspect.c. */
#ifndef SHOPSPHERE_KIT_GRAPHQL_INTERNAL_H
#define SHOPSPHERE_KIT_GRAPHQL_INTERNAL_H

#include "kit/arena.h"
#include "kit/graphql.h"

/* --- document ----------------------------------------------------------------
 */

enum gql_value_kind {
  GV_VARIABLE,
  GV_INT,
  GV_FLOAT,
  GV_STRING,
  GV_BOOLEAN,
  GV_NULL,
  GV_ENUM,
  GV_LIST,
  GV_OBJECT,
};

struct gql_value {
  enum gql_value_kind kind;
  const char *text; /* variable/enum name, literal text, string */
  bool boolean;
  const char *field_name;  /* as a member of an object value */
  struct gql_value *items; /* list items / object fields */
  struct gql_value *next;
  int line, col;
};

struct gql_argument {
  const char *name;
  struct gql_value *value;
  struct gql_argument *next;
  int line, col;
};

struct gql_directive {
  const char *name;
  struct gql_argument *args;
  struct gql_directive *next;
  int line, col;
};

enum gql_selection_kind { SEL_FIELD, SEL_SPREAD, SEL_INLINE };

struct gql_selection {
  enum gql_selection_kind kind;
  const char *alias;          /* fields: NULL when none */
  const char *name;           /* field name or fragment name */
  const char *type_condition; /* inline fragments: may be NULL */
  struct gql_argument *args;
  struct gql_directive *directives;
  struct gql_selection *children; /* selection set, NULL when none */
  struct gql_selection *next;
  int line, col;
};

struct gql_variable_def {
  const char *name;
  const char *type; /* SDL text, e.g. "[ID!]!" */
  struct gql_value *default_value;
  struct gql_variable_def *next;
  int line, col;
};

struct gql_operation {
  const char *kind; /* "query", "mutation", "subscription" */
  const char *name; /* NULL when anonymous */
  struct gql_variable_def *variables;
  struct gql_directive *directives;
  struct gql_selection *selections;
  struct gql_operation *next;
  int line, col;
};

struct gql_fragment {
  const char *name;
  const char *type_condition;
  struct gql_selection *selections;
  struct gql_fragment *next;
  int line, col;
  int state; /* cycle detection: 0 new, 1 visiting, 2 done */
};

struct gql_document {
  struct gql_operation *operations;
  struct gql_fragment *fragments;
};

/* Parses text into doc (allocated in a). Returns 0, or -1 with a message
 * and the position of the error. */
int gql_parse(struct arena *a, const char *text, size_t len,
              struct gql_document *doc, char *err, size_t err_size, int *line,
              int *col);

/* --- schema
 * -------------------------------------------------------------------- */

enum gql_ref_kind { REF_NAMED, REF_LIST, REF_NON_NULL };

struct gql_type;

struct gql_ref {
  enum gql_ref_kind kind;
  const struct gql_type *named; /* REF_NAMED */
  const struct gql_ref *of;     /* LIST, NON_NULL */
};

struct gql_arg {
  const struct gql_arg_def *def;
  const struct gql_ref *type;
};

struct gql_field {
  const struct gql_field_def *def;
  const struct gql_ref *type;
  struct gql_arg *args;
  size_t arg_count;
};

struct gql_type {
  const struct gql_type_def *def;
  struct gql_field *fields;
  size_t field_count;
};

struct gql_schema {
  struct arena arena;
  struct gql_type *types;
  size_t type_count;
  const struct gql_type *query, *mutation;
  struct gql_limits limits;
  json_t *introspection; /* __schema's answer, built once */
};

const struct gql_type *gql_schema_type(const struct gql_schema *s,
                                       const char *name);
const struct gql_field *gql_type_field(const struct gql_type *t,
                                       const char *name);
/* Parses an SDL type reference against the schema; NULL when malformed or
 * naming an unknown type. */
const struct gql_ref *gql_parse_ref(struct gql_schema *s, const char *sdl);
/* "[Product!]!" back from a reference, into out. */
void gql_ref_text(const struct gql_ref *r, char *out, size_t size);
const struct gql_type *gql_ref_named(const struct gql_ref *r);

/* The introspection types and the __schema answer (graphql_introspect.c). */
extern const struct gql_type_def gql_introspection_types[];
extern const size_t gql_introspection_type_count;
json_t *gql_introspection_build(const struct gql_schema *s);
json_t *gql_introspection_type(const struct gql_schema *s, const char *name);

#endif
