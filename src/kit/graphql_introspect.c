/* graphql_introspect.c - the introspection system (spec §4): its types,
 * and the __schema answer built once from the compiled schema as JSON, so
 * the executor serves it like any other JSON-backed object. Type references
 * inside it are {kind, name, ofType} stubs: clients look named types up in
 * `types`, which holds each one in full. */
#include <stdio.h>
#include <string.h>

#include "kit/graphql_internal.h"

static const struct gql_arg_def include_deprecated[] = {
    {"includeDeprecated", "Boolean", "false", NULL},
    {NULL},
};

static const struct gql_field_def schema_fields[] = {
    {"description", "String", NULL},
    {"types", "[__Type!]!", NULL},
    {"queryType", "__Type!", NULL},
    {"mutationType", "__Type", NULL},
    {"subscriptionType", "__Type", NULL},
    {"directives", "[__Directive!]!", NULL},
    {NULL},
};

static const struct gql_field_def type_fields[] = {
    {"kind", "__TypeKind!", NULL},
    {"name", "String", NULL},
    {"description", "String", NULL},
    {"specifiedByURL", "String", NULL},
    {"fields", "[__Field!]", NULL, include_deprecated},
    {"interfaces", "[__Type!]", NULL},
    {"possibleTypes", "[__Type!]", NULL},
    {"enumValues", "[__EnumValue!]", NULL, include_deprecated},
    {"inputFields", "[__InputValue!]", NULL, include_deprecated},
    {"ofType", "__Type", NULL},
    {"isOneOf", "Boolean", NULL},
    {NULL},
};

static const struct gql_field_def field_fields[] = {
    {"name", "String!", NULL},
    {"description", "String", NULL},
    {"args", "[__InputValue!]!", NULL, include_deprecated},
    {"type", "__Type!", NULL},
    {"isDeprecated", "Boolean!", NULL},
    {"deprecationReason", "String", NULL},
    {NULL},
};

static const struct gql_field_def input_value_fields[] = {
    {"name", "String!", NULL},
    {"description", "String", NULL},
    {"type", "__Type!", NULL},
    {"defaultValue", "String", NULL},
    {"isDeprecated", "Boolean!", NULL},
    {"deprecationReason", "String", NULL},
    {NULL},
};

static const struct gql_field_def enum_value_fields[] = {
    {"name", "String!", NULL},
    {"description", "String", NULL},
    {"isDeprecated", "Boolean!", NULL},
    {"deprecationReason", "String", NULL},
    {NULL},
};

static const struct gql_field_def directive_fields[] = {
    {"name", "String!", NULL},
    {"description", "String", NULL},
    {"locations", "[__DirectiveLocation!]!", NULL},
    {"args", "[__InputValue!]!", NULL, include_deprecated},
    {"isRepeatable", "Boolean!", NULL},
    {NULL},
};

static const struct gql_arg_def type_by_name[] = {
    {"name", "String!", NULL, "the type's name"},
    {NULL},
};

/* The meta fields of the query root; the executor resolves both. */
static const struct gql_field_def root_fields[] = {
    {"__schema", "__Schema!", "The schema: types, root types, directives."},
    {"__type", "__Type", "One type by name.", type_by_name},
    {NULL},
};

static const char *const type_kinds[] = {"SCALAR", "OBJECT",   "INTERFACE",
                                         "UNION",  "ENUM",     "INPUT_OBJECT",
                                         "LIST",   "NON_NULL", NULL};

static const char *const directive_locations[] = {"QUERY",
                                                  "MUTATION",
                                                  "SUBSCRIPTION",
                                                  "FIELD",
                                                  "FRAGMENT_DEFINITION",
                                                  "FRAGMENT_SPREAD",
                                                  "INLINE_FRAGMENT",
                                                  "VARIABLE_DEFINITION",
                                                  "SCHEMA",
                                                  "SCALAR",
                                                  "OBJECT",
                                                  "FIELD_DEFINITION",
                                                  "ARGUMENT_DEFINITION",
                                                  "INTERFACE",
                                                  "UNION",
                                                  "ENUM",
                                                  "ENUM_VALUE",
                                                  "INPUT_OBJECT",
                                                  "INPUT_FIELD_DEFINITION",
                                                  NULL};

const struct gql_type_def gql_introspection_types[] = {
    {"__Schema", GQL_OBJECT, "The schema, as introspection describes it.",
     schema_fields, NULL},
    {"__Type", GQL_OBJECT, "A type, or a reference to one (LIST, NON_NULL).",
     type_fields, NULL},
    {"__Field", GQL_OBJECT, "A field of an object type.", field_fields, NULL},
    {"__InputValue", GQL_OBJECT, "An argument or an input object's field.",
     input_value_fields, NULL},
    {"__EnumValue", GQL_OBJECT, "A value of an enum.", enum_value_fields, NULL},
    {"__Directive", GQL_OBJECT, "A directive the executor understands.",
     directive_fields, NULL},
    {"__TypeKind", GQL_ENUM, "What kind of type a __Type is.", NULL,
     type_kinds},
    {"__DirectiveLocation", GQL_ENUM, "Where a directive may appear.", NULL,
     directive_locations},
    {"__Root", GQL_OBJECT, "(internal) the query root's meta fields.",
     root_fields, NULL},
};
const size_t gql_introspection_type_count =
    sizeof gql_introspection_types / sizeof gql_introspection_types[0];

static const char *kind_name(enum gql_kind k) {
  switch (k) {
  case GQL_SCALAR:
    return "SCALAR";
  case GQL_OBJECT:
    return "OBJECT";
  case GQL_ENUM:
    return "ENUM";
  case GQL_INPUT_OBJECT:
    return "INPUT_OBJECT";
  }
  return "SCALAR";
}

static json_t *nullable_string(const char *s) {
  return s ? json_string(s) : json_null();
}

/* A reference stub: {kind, name, ofType}. */
static json_t *ref_json(const struct gql_ref *r) {
  if (r->kind == REF_NAMED)
    return json_pack("{s:s, s:s, s:n}", "kind", kind_name(r->named->def->kind),
                     "name", r->named->def->name, "ofType");
  return json_pack("{s:s, s:n, s:o}", "kind",
                   r->kind == REF_LIST ? "LIST" : "NON_NULL", "name", "ofType",
                   ref_json(r->of));
}

static json_t *input_value_json(const char *name, const char *description,
                                const struct gql_ref *type,
                                const char *default_json) {
  json_t *dflt = json_null();
  if (default_json != NULL) {
    /* GraphQL literal text: JSON's, but an enum value without quotes. */
    size_t n = strlen(default_json);
    if (gql_ref_named(type)->def->kind == GQL_ENUM && n >= 2 &&
        default_json[0] == '"')
      dflt = json_stringn(default_json + 1, n - 2);
    else
      dflt = json_string(default_json);
  }
  return json_pack("{s:s, s:o, s:o, s:o, s:b, s:n}", "name", name,
                   "description", nullable_string(description), "type",
                   ref_json(type), "defaultValue", dflt, "isDeprecated", 0,
                   "deprecationReason");
}

static json_t *type_json(const struct gql_type *t) {
  const struct gql_type_def *d = t->def;
  json_t *o =
      json_pack("{s:s, s:s, s:o, s:n, s:n, s:n}", "kind", kind_name(d->kind),
                "name", d->name, "description", nullable_string(d->description),
                "specifiedByURL", "ofType", "isOneOf");
  json_t *fields = json_null(), *inputs = json_null(), *enums = json_null();
  json_t *interfaces = json_null();
  if (d->kind == GQL_OBJECT) {
    fields = json_array();
    interfaces = json_array();
    for (size_t i = 0; i < t->field_count; i++) {
      const struct gql_field *f = &t->fields[i];
      json_t *args = json_array();
      for (size_t k = 0; k < f->arg_count; k++)
        json_array_append_new(
            args,
            input_value_json(f->args[k].def->name, f->args[k].def->description,
                             f->args[k].type, f->args[k].def->default_json));
      json_array_append_new(fields,
                            json_pack("{s:s, s:o, s:o, s:o, s:b, s:n}", "name",
                                      f->def->name, "description",
                                      nullable_string(f->def->description),
                                      "args", args, "type", ref_json(f->type),
                                      "isDeprecated", 0, "deprecationReason"));
    }
  } else if (d->kind == GQL_INPUT_OBJECT) {
    inputs = json_array();
    for (size_t i = 0; i < t->field_count; i++)
      json_array_append_new(inputs,
                            input_value_json(t->fields[i].def->name,
                                             t->fields[i].def->description,
                                             t->fields[i].type, NULL));
  } else if (d->kind == GQL_ENUM) {
    enums = json_array();
    for (const char *const *e = d->enum_values; e && *e; e++)
      json_array_append_new(enums, json_pack("{s:s, s:n, s:b, s:n}", "name", *e,
                                             "description", "isDeprecated", 0,
                                             "deprecationReason"));
  }
  json_object_set_new(o, "fields", fields);
  json_object_set_new(o, "inputFields", inputs);
  json_object_set_new(o, "enumValues", enums);
  json_object_set_new(o, "interfaces", interfaces);
  json_object_set_new(o, "possibleTypes", json_null());
  return o;
}

json_t *gql_introspection_build(const struct gql_schema *s) {
  json_t *types = json_array();
  for (size_t i = 0; i < s->type_count; i++) {
    if (strcmp(s->types[i].def->name, "__Root") == 0) continue;
    json_array_append_new(types, type_json(&s->types[i]));
  }
  const struct gql_type *boolean = gql_schema_type(s, "Boolean");
  struct gql_ref named = {.kind = REF_NAMED, .named = boolean};
  struct gql_ref required = {.kind = REF_NON_NULL, .of = &named};
  json_t *directives = json_array();
  const char *names[] = {"skip", "include"};
  const char *descriptions[] = {"Leaves the field out when 'if' is true.",
                                "Keeps the field only when 'if' is true."};
  for (int i = 0; i < 2; i++)
    json_array_append_new(
        directives,
        json_pack("{s:s, s:s, s:[s,s,s], s:[o], s:b}", "name", names[i],
                  "description", descriptions[i], "locations", "FIELD",
                  "FRAGMENT_SPREAD", "INLINE_FRAGMENT", "args",
                  input_value_json("if", "the condition", &required, NULL),
                  "isRepeatable", 0));
  json_t *mutation = s->mutation ? type_json(s->mutation) : json_null();
  return json_pack("{s:n, s:o, s:o, s:o, s:n, s:o}", "description", "types",
                   types, "queryType", type_json(s->query), "mutationType",
                   mutation, "subscriptionType", "directives", directives);
}

json_t *gql_introspection_type(const struct gql_schema *s, const char *name) {
  if (name == NULL || strcmp(name, "__Root") == 0) return NULL;
  const struct gql_type *t = gql_schema_type(s, name);
  return t ? type_json(t) : NULL;
}
