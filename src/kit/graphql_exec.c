/* graphql_exec.c - the compiled schema, request validation (fields,
 * arguments, fragments, depth and cost limits), variable coercion and
 * execution (spec §5, §6) over JSON values. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/graphql_internal.h"

#define MAX_MERGED 8 /* selection sets merged under one response key */

static const struct gql_type_def builtin_scalars[] = {
    {"Int", GQL_SCALAR, "A signed 32-bit integer.", NULL, NULL},
    {"Float", GQL_SCALAR, "A double-precision number.", NULL, NULL},
    {"String", GQL_SCALAR, "UTF-8 text.", NULL, NULL},
    {"Boolean", GQL_SCALAR, "true or false.", NULL, NULL},
    {"ID", GQL_SCALAR, "An opaque identifier (UUID strings here).", NULL, NULL},
};

/* --- schema
 * -------------------------------------------------------------------- */

const struct gql_type *gql_schema_type(const struct gql_schema *s,
                                       const char *name) {
  for (size_t i = 0; i < s->type_count; i++)
    if (strcmp(s->types[i].def->name, name) == 0) return &s->types[i];
  return NULL;
}

const struct gql_field *gql_type_field(const struct gql_type *t,
                                       const char *name) {
  for (size_t i = 0; i < t->field_count; i++)
    if (strcmp(t->fields[i].def->name, name) == 0) return &t->fields[i];
  return NULL;
}

static const struct gql_ref *parse_ref_at(struct gql_schema *s,
                                          const char **p) {
  struct gql_ref *r = arena_alloc(&s->arena, sizeof *r);
  if (r == NULL) return NULL;
  memset(r, 0, sizeof *r);
  if (**p == '[') {
    (*p)++;
    r->kind = REF_LIST;
    r->of = parse_ref_at(s, p);
    if (r->of == NULL || **p != ']') return NULL;
    (*p)++;
  } else {
    const char *start = *p;
    while (**p == '_' || (**p >= 'a' && **p <= 'z') ||
           (**p >= 'A' && **p <= 'Z') || (**p >= '0' && **p <= '9'))
      (*p)++;
    char name[64];
    size_t n = (size_t)(*p - start);
    if (n == 0 || n >= sizeof name) return NULL;
    memcpy(name, start, n);
    name[n] = '\0';
    r->kind = REF_NAMED;
    r->named = gql_schema_type(s, name);
    if (r->named == NULL) return NULL;
  }
  if (**p == '!') {
    (*p)++;
    struct gql_ref *nn = arena_alloc(&s->arena, sizeof *nn);
    if (nn == NULL) return NULL;
    memset(nn, 0, sizeof *nn);
    nn->kind = REF_NON_NULL;
    nn->of = r;
    return nn;
  }
  return r;
}

const struct gql_ref *gql_parse_ref(struct gql_schema *s, const char *sdl) {
  if (sdl == NULL) return NULL;
  const char *p = sdl;
  const struct gql_ref *r = parse_ref_at(s, &p);
  return r != NULL && *p == '\0' ? r : NULL;
}

void gql_ref_text(const struct gql_ref *r, char *out, size_t size) {
  switch (r->kind) {
  case REF_NAMED:
    snprintf(out, size, "%s", r->named->def->name);
    return;
  case REF_LIST: {
    char inner[128];
    gql_ref_text(r->of, inner, sizeof inner);
    snprintf(out, size, "[%s]", inner);
    return;
  }
  case REF_NON_NULL: {
    char inner[128];
    gql_ref_text(r->of, inner, sizeof inner);
    snprintf(out, size, "%s!", inner);
    return;
  }
  }
}

const struct gql_type *gql_ref_named(const struct gql_ref *r) {
  while (r->kind != REF_NAMED)
    r = r->of;
  return r->named;
}

static bool ref_is_list(const struct gql_ref *r) {
  if (r->kind == REF_NON_NULL) r = r->of;
  return r->kind == REF_LIST;
}

struct gql_schema *gql_schema_create(const struct gql_type_def *types,
                                     size_t count, const char *query_type,
                                     const char *mutation_type,
                                     const struct gql_limits *limits, char *why,
                                     size_t why_size) {
  struct gql_schema *s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  arena_init(&s->arena, 16384);
  size_t builtins = sizeof builtin_scalars / sizeof builtin_scalars[0];
  size_t total = builtins + gql_introspection_type_count + count;
  s->types = arena_alloc(&s->arena, total * sizeof *s->types);
  if (s->types == NULL) goto fail;
  memset(s->types, 0, total * sizeof *s->types);
  for (size_t i = 0; i < builtins; i++)
    s->types[s->type_count++].def = &builtin_scalars[i];
  for (size_t i = 0; i < gql_introspection_type_count; i++)
    s->types[s->type_count++].def = &gql_introspection_types[i];
  for (size_t i = 0; i < count; i++)
    s->types[s->type_count++].def = &types[i];
  /* Fields and arguments, now that every name is known. */
  for (size_t i = 0; i < s->type_count; i++) {
    struct gql_type *t = &s->types[i];
    const struct gql_field_def *f = t->def->fields;
    size_t n = 0;
    while (f != NULL && f[n].name != NULL)
      n++;
    t->field_count = n;
    t->fields = n ? arena_alloc(&s->arena, n * sizeof *t->fields) : NULL;
    if (n && t->fields == NULL) goto fail;
    for (size_t k = 0; k < n; k++) {
      struct gql_field *field = &t->fields[k];
      memset(field, 0, sizeof *field);
      field->def = &f[k];
      field->type = gql_parse_ref(s, f[k].type);
      if (field->type == NULL) {
        snprintf(why, why_size, "%s.%s: bad type '%s'", t->def->name, f[k].name,
                 f[k].type ? f[k].type : "");
        goto fail;
      }
      const struct gql_arg_def *a = f[k].args;
      size_t m = 0;
      while (a != NULL && a[m].name != NULL)
        m++;
      field->arg_count = m;
      field->args = m ? arena_alloc(&s->arena, m * sizeof *field->args) : NULL;
      if (m && field->args == NULL) goto fail;
      for (size_t j = 0; j < m; j++) {
        field->args[j].def = &a[j];
        field->args[j].type = gql_parse_ref(s, a[j].type);
        if (field->args[j].type == NULL) {
          snprintf(why, why_size, "%s.%s(%s): bad type '%s'", t->def->name,
                   f[k].name, a[j].name, a[j].type ? a[j].type : "");
          goto fail;
        }
      }
    }
  }
  s->query = gql_schema_type(s, query_type);
  s->mutation = mutation_type ? gql_schema_type(s, mutation_type) : NULL;
  if (s->query == NULL || (mutation_type && s->mutation == NULL)) {
    snprintf(why, why_size, "%s", "unknown root type");
    goto fail;
  }
  s->limits = *limits;
  s->introspection = gql_introspection_build(s);
  if (s->introspection == NULL) {
    snprintf(why, why_size, "%s", "cannot build the introspection answer");
    goto fail;
  }
  return s;
fail:
  gql_schema_destroy(s);
  return NULL;
}

void gql_schema_destroy(struct gql_schema *s) {
  if (s == NULL) return;
  json_decref(s->introspection);
  arena_free(&s->arena);
  free(s);
}

/* --- a request
 * ------------------------------------------------------------------ */

struct gql_exec {
  const struct gql_schema *s;
  struct arena arena;
  struct gql_document doc;
  const struct gql_operation *op;
  json_t *variables; /* coerced */
  json_t *errors;
  json_t *path; /* the current response path */
  json_t *memo;
  void *context;
  const char *trace_id;
  int depth;
};

void *gql_context(struct gql_exec *ex) { return ex->context; }
json_t *gql_memo_get(struct gql_exec *ex, const char *key) {
  return json_object_get(ex->memo, key);
}
void gql_memo_set(struct gql_exec *ex, const char *key, json_t *value) {
  json_object_set(ex->memo, key, value);
}
const char *gql_operation_kind(struct gql_exec *ex) {
  return ex->op ? ex->op->kind : "query";
}

/* Adds an error; line 0: no location; with_path: the current path. */
static void add_error(struct gql_exec *ex, const char *code, int line, int col,
                      bool with_path, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void add_error(struct gql_exec *ex, const char *code, int line, int col,
                      bool with_path, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  json_t *e = json_pack("{s:s}", "message", msg);
  if (e == NULL) return;
  if (line > 0)
    json_object_set_new(e, "locations",
                        json_pack("[{s:i, s:i}]", "line", line, "column", col));
  if (with_path) json_object_set_new(e, "path", json_deep_copy(ex->path));
  json_object_set_new(e, "extensions",
                      json_pack("{s:s, s:s}", "code", code, "trace_id",
                                ex->trace_id ? ex->trace_id : ""));
  json_array_append_new(ex->errors, e);
}

/* --- values
 * ---------------------------------------------------------------------- */

/* The JSON of a literal, variables substituted (an unset variable: NULL). */
static json_t *literal_json(struct gql_exec *ex, const struct gql_value *v) {
  switch (v->kind) {
  case GV_VARIABLE: {
    json_t *val = json_object_get(ex->variables, v->text);
    return val ? json_incref(val) : NULL;
  }
  case GV_INT: {
    errno = 0;
    long long n = strtoll(v->text, NULL, 10);
    if (errno == ERANGE) return json_real(strtod(v->text, NULL));
    return json_integer(n);
  }
  case GV_FLOAT:
    return json_real(strtod(v->text, NULL));
  case GV_STRING:
  case GV_ENUM:
    return json_string(v->text);
  case GV_BOOLEAN:
    return json_boolean(v->boolean);
  case GV_NULL:
    return json_null();
  case GV_LIST: {
    json_t *arr = json_array();
    for (const struct gql_value *i = v->items; i != NULL; i = i->next) {
      json_t *item = literal_json(ex, i);
      json_array_append_new(arr, item ? item : json_null());
    }
    return arr;
  }
  case GV_OBJECT: {
    json_t *obj = json_object();
    for (const struct gql_value *i = v->items; i != NULL; i = i->next) {
      json_t *item = literal_json(ex, i);
      if (item != NULL) json_object_set_new(obj, i->field_name, item);
    }
    return obj;
  }
  }
  return NULL;
}

/* Coerces an input value to ref (spec §3.5, §3.9, §3.10). Returns a new
 * reference, or NULL with why set ("expected Int" ...). value NULL: absent. */
static json_t *coerce_input(const struct gql_ref *ref, json_t *value, char *why,
                            size_t why_size, int depth) {
  if (depth > 32) {
    snprintf(why, why_size, "%s", "input nested too deeply");
    return NULL;
  }
  if (ref->kind == REF_NON_NULL) {
    if (value == NULL || json_is_null(value)) {
      char t[128];
      gql_ref_text(ref, t, sizeof t);
      snprintf(why, why_size, "a value of type %s is required", t);
      return NULL;
    }
    return coerce_input(ref->of, value, why, why_size, depth + 1);
  }
  if (value == NULL || json_is_null(value)) return json_null();
  if (ref->kind == REF_LIST) {
    json_t *out = json_array();
    if (!json_is_array(value)) {
      json_t *item = coerce_input(ref->of, value, why, why_size, depth + 1);
      if (item == NULL) {
        json_decref(out);
        return NULL;
      }
      json_array_append_new(out, item);
      return out;
    }
    size_t i;
    json_t *v;
    json_array_foreach(value, i, v) {
      json_t *item = coerce_input(ref->of, v, why, why_size, depth + 1);
      if (item == NULL) {
        json_decref(out);
        return NULL;
      }
      json_array_append_new(out, item);
    }
    return out;
  }
  const struct gql_type_def *t = ref->named->def;
  switch (t->kind) {
  case GQL_SCALAR:
    if (strcmp(t->name, "Int") == 0) {
      if (json_is_integer(value) && json_integer_value(value) >= INT_MIN &&
          json_integer_value(value) <= INT_MAX)
        return json_incref(value);
      snprintf(why, why_size, "%s", "expected Int (a 32-bit integer)");
      return NULL;
    }
    if (strcmp(t->name, "Float") == 0) {
      if (json_is_number(value) && isfinite(json_number_value(value)))
        return json_real(json_number_value(value));
      snprintf(why, why_size, "%s", "expected Float");
      return NULL;
    }
    if (strcmp(t->name, "Boolean") == 0) {
      if (json_is_boolean(value)) return json_incref(value);
      snprintf(why, why_size, "%s", "expected Boolean");
      return NULL;
    }
    if (strcmp(t->name, "ID") == 0 && json_is_integer(value)) {
      char n[32];
      snprintf(n, sizeof n, "%lld", (long long)json_integer_value(value));
      return json_string(n);
    }
    if (json_is_string(value)) return json_incref(value);
    snprintf(why, why_size, "expected %s", t->name);
    return NULL;
  case GQL_ENUM:
    if (json_is_string(value))
      for (const char *const *e = t->enum_values; e && *e; e++)
        if (strcmp(*e, json_string_value(value)) == 0)
          return json_incref(value);
    snprintf(why, why_size, "expected one of the %s values", t->name);
    return NULL;
  case GQL_INPUT_OBJECT: {
    if (!json_is_object(value)) {
      snprintf(why, why_size, "expected an input object %s", t->name);
      return NULL;
    }
    const struct gql_type *type = ref->named;
    const char *key;
    json_t *v;
    json_object_foreach(value, key, v) {
      if (gql_type_field(type, key) == NULL) {
        snprintf(why, why_size, "%s has no field '%.64s'", t->name, key);
        return NULL;
      }
    }
    json_t *out = json_object();
    for (size_t i = 0; i < type->field_count; i++) {
      const struct gql_field *f = &type->fields[i];
      json_t *given = json_object_get(value, f->def->name);
      char inner[400];
      json_t *c = coerce_input(f->type, given, inner, sizeof inner, depth + 1);
      if (c == NULL) {
        /* The inner reason is cut to fit: why is bounded by the caller. */
        snprintf(why, why_size, "%s.%s: %.300s", t->name, f->def->name,
                 inner);
        json_decref(out);
        return NULL;
      }
      if (given != NULL)
        json_object_set_new(out, f->def->name, c);
      else
        json_decref(c);
    }
    return out;
  }
  case GQL_OBJECT:
    break;
  }
  snprintf(why, why_size, "%s is not an input type", t->name);
  return NULL;
}

/* The coerced arguments of a field, or NULL with an error added. */
static json_t *coerce_arguments(struct gql_exec *ex, const struct gql_field *f,
                                const struct gql_selection *sel) {
  json_t *args = json_object();
  for (size_t i = 0; i < f->arg_count; i++) {
    const struct gql_arg *a = &f->args[i];
    json_t *given = NULL;
    for (const struct gql_argument *g = sel->args; g != NULL; g = g->next)
      if (strcmp(g->name, a->def->name) == 0)
        given = literal_json(ex, g->value);
    if (given == NULL && a->def->default_json != NULL)
      given = json_loads(a->def->default_json, JSON_DECODE_ANY, NULL);
    char why[400];
    json_t *c = coerce_input(a->type, given, why, sizeof why, 0);
    bool present = given != NULL;
    json_decref(given);
    if (c == NULL) {
      add_error(ex, "VALIDATION_ERROR", sel->line, sel->col, true,
                "argument '%s' of '%s': %s", a->def->name, f->def->name, why);
      json_decref(args);
      return NULL;
    }
    if (present)
      json_object_set_new(args, a->def->name, c);
    else
      json_decref(c);
  }
  return args;
}

/* --- directives and fragments
 * ------------------------------------------------------- */

/* Whether @skip/@include let the selection through. */
static bool included(struct gql_exec *ex, const struct gql_directive *d) {
  for (; d != NULL; d = d->next) {
    bool skip = strcmp(d->name, "skip") == 0;
    if (!skip && strcmp(d->name, "include") != 0) continue;
    bool cond = false;
    for (const struct gql_argument *a = d->args; a != NULL; a = a->next) {
      if (strcmp(a->name, "if") != 0) continue;
      json_t *v = literal_json(ex, a->value);
      cond = json_is_true(v);
      json_decref(v);
    }
    if (skip ? cond : !cond) return false;
  }
  return true;
}

static const struct gql_fragment *find_fragment(struct gql_exec *ex,
                                                const char *name) {
  for (struct gql_fragment *f = ex->doc.fragments; f != NULL; f = f->next)
    if (strcmp(f->name, name) == 0) return f;
  return NULL;
}

/* --- validation
 * ---------------------------------------------------------------------- */

static bool validate_directives(struct gql_exec *ex,
                                const struct gql_directive *d) {
  for (; d != NULL; d = d->next) {
    if (strcmp(d->name, "skip") != 0 && strcmp(d->name, "include") != 0) {
      add_error(ex, "VALIDATION_ERROR", d->line, d->col, false,
                "unknown directive '@%s'", d->name);
      return false;
    }
    bool has_if = false;
    for (const struct gql_argument *a = d->args; a != NULL; a = a->next) {
      if (strcmp(a->name, "if") != 0) {
        add_error(ex, "VALIDATION_ERROR", a->line, a->col, false,
                  "unknown argument '%s' of '@%s'", a->name, d->name);
        return false;
      }
      has_if = true;
    }
    if (!has_if) {
      add_error(ex, "VALIDATION_ERROR", d->line, d->col, false,
                "'@%s' needs the argument 'if'", d->name);
      return false;
    }
  }
  return true;
}

/* The list size a field multiplies its children's cost by. */
static long list_size(struct gql_exec *ex, const struct gql_field *f,
                      const struct gql_selection *sel) {
  long n = ex->s->limits.default_list_size;
  for (const struct gql_argument *a = sel->args; a != NULL; a = a->next) {
    if (strcmp(a->name, "limit") != 0 && strcmp(a->name, "first") != 0)
      continue;
    json_t *v = literal_json(ex, a->value);
    if (json_is_integer(v) && json_integer_value(v) > 0)
      n = (long)json_integer_value(v);
    json_decref(v);
  }
  (void)f;
  return n;
}

/* Checks a selection set against type; returns its cost, or -1 after
 * adding an error. */
static long validate_set(struct gql_exec *ex, const struct gql_type *type,
                         const struct gql_selection *sel, int depth,
                         bool is_root, bool meta) {
  /* Introspection is answered from memory: its (deep) selections are
   * checked for shape, not counted against depth and cost. */
  if (!meta && depth > ex->s->limits.max_depth) {
    add_error(ex, "QUERY_TOO_DEEP", sel->line, sel->col, false,
              "the query is nested deeper than %d levels",
              ex->s->limits.max_depth);
    return -1;
  }
  long cost = 0;
  for (; sel != NULL; sel = sel->next) {
    if (!validate_directives(ex, sel->directives)) return -1;
    if (sel->kind == SEL_SPREAD || sel->kind == SEL_INLINE) {
      const struct gql_selection *children = sel->children;
      const char *cond = sel->type_condition;
      struct gql_fragment *frag = NULL;
      if (sel->kind == SEL_SPREAD) {
        frag = (struct gql_fragment *)find_fragment(ex, sel->name);
        if (frag == NULL) {
          add_error(ex, "VALIDATION_ERROR", sel->line, sel->col, false,
                    "unknown fragment '%s'", sel->name);
          return -1;
        }
        if (frag->state == 1) {
          add_error(ex, "VALIDATION_ERROR", sel->line, sel->col, false,
                    "fragment '%s' spreads itself", sel->name);
          return -1;
        }
        children = frag->selections;
        cond = frag->type_condition;
      }
      if (cond != NULL && strcmp(cond, type->def->name) != 0) {
        add_error(ex, "VALIDATION_ERROR", sel->line, sel->col, false,
                  "a fragment on '%s' cannot be spread on '%s'", cond,
                  type->def->name);
        return -1;
      }
      if (frag) frag->state = 1;
      long c = validate_set(ex, type, children, depth, is_root, meta);
      if (frag) frag->state = 0;
      if (c < 0) return -1;
      cost += c;
      continue;
    }
    if (strcmp(sel->name, "__typename") == 0) {
      if (sel->children != NULL) {
        add_error(ex, "VALIDATION_ERROR", sel->line, sel->col, false, "%s",
                  "'__typename' has no fields to select");
        return -1;
      }
      continue;
    }
    const struct gql_field *f = gql_type_field(type, sel->name);
    bool meta_field = is_root && type == ex->s->query &&
                      (strcmp(sel->name, "__schema") == 0 ||
                       strcmp(sel->name, "__type") == 0);
    if (f == NULL && meta_field)
      f = gql_type_field(gql_schema_type(ex->s, "__Root"), sel->name);
    if (f == NULL) {
      add_error(ex, "VALIDATION_ERROR", sel->line, sel->col, false,
                "cannot query field '%s' on type '%s'", sel->name,
                type->def->name);
      return -1;
    }
    for (const struct gql_argument *a = sel->args; a != NULL; a = a->next) {
      bool known = false;
      for (size_t i = 0; i < f->arg_count; i++)
        known = known || strcmp(f->args[i].def->name, a->name) == 0;
      if (!known) {
        add_error(ex, "VALIDATION_ERROR", a->line, a->col, false,
                  "unknown argument '%s' on field '%s.%s'", a->name,
                  type->def->name, sel->name);
        return -1;
      }
      if (a->value->kind == GV_VARIABLE) {
        bool declared = false;
        for (const struct gql_variable_def *v = ex->op->variables; v;
             v = v->next)
          declared = declared || strcmp(v->name, a->value->text) == 0;
        if (!declared) {
          add_error(ex, "VALIDATION_ERROR", a->line, a->col, false,
                    "variable '$%s' is not declared", a->value->text);
          return -1;
        }
      }
    }
    for (size_t i = 0; i < f->arg_count; i++) {
      const struct gql_arg *a = &f->args[i];
      if (a->type->kind != REF_NON_NULL || a->def->default_json) continue;
      bool given = false;
      for (const struct gql_argument *g = sel->args; g != NULL; g = g->next)
        given = given || strcmp(g->name, a->def->name) == 0;
      if (!given) {
        add_error(ex, "VALIDATION_ERROR", sel->line, sel->col, false,
                  "field '%s' needs the argument '%s'", sel->name,
                  a->def->name);
        return -1;
      }
    }
    const struct gql_type *named = gql_ref_named(f->type);
    bool composite = named->def->kind == GQL_OBJECT;
    if (composite && sel->children == NULL) {
      add_error(ex, "VALIDATION_ERROR", sel->line, sel->col, false,
                "field '%s' of type '%s' needs a selection of subfields",
                sel->name, named->def->name);
      return -1;
    }
    if (!composite && sel->children != NULL) {
      add_error(ex, "VALIDATION_ERROR", sel->line, sel->col, false,
                "field '%s' is a %s and has no subfields", sel->name,
                named->def->name);
      return -1;
    }
    long c = 1 + f->def->cost;
    if (composite) {
      long inner = validate_set(ex, named, sel->children, depth + 1, false,
                                meta || meta_field);
      if (inner < 0) return -1;
      long times = ref_is_list(f->type) ? list_size(ex, f, sel) : 1;
      c += times > 0 && inner > LONG_MAX / 4 / times ? LONG_MAX / 4
                                                     : inner * times;
    }
    if (meta || meta_field) continue;
    cost += c;
    if (cost > ex->s->limits.max_cost) {
      add_error(ex, "QUERY_TOO_COSTLY", sel->line, sel->col, false,
                "the query costs more than %ld (fields times list sizes)",
                ex->s->limits.max_cost);
      return -1;
    }
  }
  return cost;
}

/* Coerces the operation's variables from the request's. */
static bool coerce_variables(struct gql_exec *ex, json_t *given) {
  ex->variables = json_object();
  for (const struct gql_variable_def *v = ex->op->variables; v; v = v->next) {
    const struct gql_ref *ref =
        gql_parse_ref((struct gql_schema *)ex->s, v->type);
    if (ref == NULL) {
      add_error(ex, "VALIDATION_ERROR", v->line, v->col, false,
                "variable '$%s' has an unknown type '%s'", v->name, v->type);
      return false;
    }
    enum gql_kind k = gql_ref_named(ref)->def->kind;
    if (k == GQL_OBJECT) {
      add_error(ex, "VALIDATION_ERROR", v->line, v->col, false,
                "variable '$%s' cannot be of output type '%s'", v->name,
                v->type);
      return false;
    }
    json_t *value = json_object_get(given, v->name);
    json_t *fallback = NULL;
    if (value == NULL && v->default_value != NULL)
      value = fallback = literal_json(ex, v->default_value);
    char why[400];
    json_t *c = coerce_input(ref, value, why, sizeof why, 0);
    bool present = value != NULL;
    json_decref(fallback);
    if (c == NULL) {
      add_error(ex, "VALIDATION_ERROR", v->line, v->col, false,
                "variable '$%s': %s", v->name, why);
      return false;
    }
    if (present)
      json_object_set_new(ex->variables, v->name, c);
    else
      json_decref(c);
  }
  return true;
}

/* --- execution
 * -------------------------------------------------------------------------- */

struct collected {
  const char *key;
  const struct gql_selection *field; /* the first occurrence */
  const struct gql_selection *sets[MAX_MERGED];
  int set_count;
};

struct collection {
  struct collected *items;
  size_t count, cap;
};

static void collect(struct gql_exec *ex, const struct gql_type *type,
                    const struct gql_selection *sel, struct collection *out) {
  for (; sel != NULL; sel = sel->next) {
    if (!included(ex, sel->directives)) continue;
    if (sel->kind == SEL_SPREAD) {
      const struct gql_fragment *f = find_fragment(ex, sel->name);
      if (f) collect(ex, type, f->selections, out);
      continue;
    }
    if (sel->kind == SEL_INLINE) {
      collect(ex, type, sel->children, out);
      continue;
    }
    const char *key = sel->alias ? sel->alias : sel->name;
    struct collected *c = NULL;
    for (size_t i = 0; i < out->count; i++)
      if (strcmp(out->items[i].key, key) == 0) c = &out->items[i];
    if (c == NULL) {
      if (out->count == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 16;
        struct collected *grown = arena_alloc(&ex->arena, cap * sizeof *grown);
        if (grown == NULL) return;
        if (out->count) memcpy(grown, out->items, out->count * sizeof *grown);
        out->items = grown;
        out->cap = cap;
      }
      c = &out->items[out->count++];
      memset(c, 0, sizeof *c);
      c->key = key;
      c->field = sel;
    }
    if (sel->children && c->set_count < MAX_MERGED)
      c->sets[c->set_count++] = sel->children;
  }
}

static int execute_set(struct gql_exec *ex, const struct gql_type *type,
                       const struct gql_selection *const *sets, int set_count,
                       json_t *parent, json_t **out);

/* Completes value (borrowed) as ref; *out a new reference. Returns -1 when
 * a non-null position got null (the caller propagates). */
static int complete(struct gql_exec *ex, const struct gql_ref *ref,
                    const struct collected *c, json_t *value, json_t **out) {
  const struct gql_selection *sel = c->field;
  if (ref->kind == REF_NON_NULL) {
    json_t *inner = NULL;
    int rc = complete(ex, ref->of, c, value, &inner);
    if (rc == 0 && !json_is_null(inner)) {
      *out = inner;
      return 0;
    }
    json_decref(inner);
    if (rc == 0)
      add_error(ex, "INTERNAL_ERROR", sel->line, sel->col, true,
                "'%s' is null where a value is required", c->key);
    *out = NULL;
    return -1;
  }
  if (value == NULL || json_is_null(value)) {
    *out = json_null();
    return 0;
  }
  if (ref->kind == REF_LIST) {
    if (!json_is_array(value)) {
      add_error(ex, "INTERNAL_ERROR", sel->line, sel->col, true,
                "'%s' is not a list", c->key);
      *out = json_null();
      return 0;
    }
    json_t *arr = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(value, i, item) {
      json_array_append_new(ex->path, json_integer((json_int_t)i));
      json_t *done = NULL;
      int rc = complete(ex, ref->of, c, item, &done);
      json_array_remove(ex->path, json_array_size(ex->path) - 1);
      if (rc != 0) { /* a null where the items are non-null: the list is */
        json_decref(arr);
        *out = json_null();
        return 0;
      }
      json_array_append_new(arr, done);
    }
    *out = arr;
    return 0;
  }
  const struct gql_type_def *t = ref->named->def;
  if (t->kind == GQL_OBJECT) {
    if (!json_is_object(value)) {
      add_error(ex, "INTERNAL_ERROR", sel->line, sel->col, true,
                "'%s' is not an object", c->key);
      *out = json_null();
      return 0;
    }
    json_t *obj = NULL;
    if (execute_set(ex, ref->named, c->sets, c->set_count, value, &obj) != 0) {
      *out = json_null();
      return 0;
    }
    *out = obj;
    return 0;
  }
  /* Leaves: serialize what the service answered. */
  bool ok = false;
  if (strcmp(t->name, "Int") == 0)
    ok = json_is_integer(value);
  else if (strcmp(t->name, "Float") == 0)
    ok = json_is_number(value);
  else if (strcmp(t->name, "Boolean") == 0)
    ok = json_is_boolean(value);
  else if (strcmp(t->name, "ID") == 0 && json_is_integer(value)) {
    char n[32];
    snprintf(n, sizeof n, "%lld", (long long)json_integer_value(value));
    *out = json_string(n);
    return 0;
  } else
    ok = json_is_string(value) || t->kind == GQL_SCALAR;
  if (!ok) {
    add_error(ex, "INTERNAL_ERROR", sel->line, sel->col, true,
              "'%s' is not a valid %s", c->key, t->name);
    *out = json_null();
    return 0;
  }
  *out = json_incref(value);
  return 0;
}

/* Resolves and completes one collected field into *out. */
static int execute_field(struct gql_exec *ex, const struct gql_type *type,
                         const struct collected *c, json_t *parent,
                         json_t **out) {
  const struct gql_selection *sel = c->field;
  if (strcmp(sel->name, "__typename") == 0) {
    *out = json_string(type->def->name);
    return 0;
  }
  const struct gql_field *f = gql_type_field(type, sel->name);
  if (f == NULL && type == ex->s->query)
    f = gql_type_field(gql_schema_type(ex->s, "__Root"), sel->name);
  if (f == NULL) { /* validated before: cannot happen */
    *out = json_null();
    return 0;
  }
  json_t *args = coerce_arguments(ex, f, sel);
  if (args == NULL) return complete(ex, f->type, c, NULL, out);
  json_t *value = NULL;
  if (strcmp(sel->name, "__schema") == 0) {
    value = json_incref(ex->s->introspection);
  } else if (strcmp(sel->name, "__type") == 0) {
    value = gql_introspection_type(
        ex->s, json_string_value(json_object_get(args, "name")));
  } else if (f->def->resolve != NULL) {
    char err[400] = "", code[48] = "";
    if (f->def->resolve(ex, parent, args, &value, err, sizeof err, code,
                        sizeof code) != 0) {
      add_error(ex, code[0] ? code : "INTERNAL_ERROR", sel->line, sel->col,
                true, "%s", err[0] ? err : "the field could not be resolved");
      json_decref(value);
      json_decref(args);
      int rc = complete(ex, f->type, c, NULL, out);
      /* The resolver's error already names the failure. */
      if (rc != 0 && json_array_size(ex->errors) > 1) {
        size_t last = json_array_size(ex->errors) - 1;
        json_array_remove(ex->errors, last);
      }
      return rc;
    }
  } else {
    const char *prop = f->def->source ? f->def->source : f->def->name;
    value = json_incref(json_object_get(parent, prop));
  }
  json_decref(args);
  int rc = complete(ex, f->type, c, value, out);
  json_decref(value);
  return rc;
}

static int execute_set(struct gql_exec *ex, const struct gql_type *type,
                       const struct gql_selection *const *sets, int set_count,
                       json_t *parent, json_t **out) {
  struct collection fields = {0};
  for (int i = 0; i < set_count; i++)
    collect(ex, type, sets[i], &fields);
  json_t *obj = json_object();
  for (size_t i = 0; i < fields.count; i++) {
    json_array_append_new(ex->path, json_string(fields.items[i].key));
    json_t *v = NULL;
    int rc = execute_field(ex, type, &fields.items[i], parent, &v);
    json_array_remove(ex->path, json_array_size(ex->path) - 1);
    if (rc != 0) {
      json_decref(obj);
      *out = NULL;
      return -1;
    }
    json_object_set_new(obj, fields.items[i].key, v);
  }
  *out = obj;
  return 0;
}

json_t *gql_execute(const struct gql_schema *s, const char *query,
                    size_t query_len, json_t *variables,
                    const char *operation_name, void *context,
                    const char *trace_id, int *http_status) {
  struct gql_exec ex = {.s = s, .context = context, .trace_id = trace_id};
  arena_init(&ex.arena, 8192);
  ex.errors = json_array();
  ex.path = json_array();
  ex.memo = json_object();
  json_t *result = json_object();
  *http_status = 400;

  if (query == NULL || query_len == 0) {
    add_error(&ex, "VALIDATION_ERROR", 0, 0, false, "%s",
              "the request has no query");
    goto done;
  }
  if (query_len > s->limits.max_query_bytes) {
    add_error(&ex, "PAYLOAD_TOO_LARGE", 0, 0, false,
              "the query is longer than %zu bytes", s->limits.max_query_bytes);
    goto done;
  }
  if (variables != NULL && !json_is_object(variables) &&
      !json_is_null(variables)) {
    add_error(&ex, "VALIDATION_ERROR", 0, 0, false, "%s",
              "'variables' must be an object");
    goto done;
  }
  char err[256];
  int line = 0, col = 0;
  if (gql_parse(&ex.arena, query, query_len, &ex.doc, err, sizeof err, &line,
                &col) != 0) {
    add_error(&ex, "GRAPHQL_PARSE_FAILED", line, col, false, "syntax error: %s",
              err);
    goto done;
  }
  /* The operation to run. */
  size_t ops = 0;
  for (const struct gql_operation *o = ex.doc.operations; o; o = o->next) {
    ops++;
    if (operation_name != NULL && o->name != NULL &&
        strcmp(o->name, operation_name) == 0)
      ex.op = o;
  }
  if (operation_name == NULL && ops == 1) ex.op = ex.doc.operations;
  if (ex.op == NULL) {
    if (operation_name != NULL)
      add_error(&ex, "VALIDATION_ERROR", 0, 0, false,
                "no operation named '%.100s'", operation_name);
    else
      add_error(&ex, "VALIDATION_ERROR", 0, 0, false, "%s",
                "several operations: name one with 'operationName'");
    goto done;
  }
  for (struct gql_fragment *f = ex.doc.fragments; f; f = f->next)
    for (struct gql_fragment *g = f->next; g; g = g->next)
      if (strcmp(f->name, g->name) == 0) {
        add_error(&ex, "VALIDATION_ERROR", g->line, g->col, false,
                  "fragment '%s' is defined twice", g->name);
        goto done;
      }
  const struct gql_type *root = NULL;
  if (strcmp(ex.op->kind, "query") == 0)
    root = s->query;
  else if (strcmp(ex.op->kind, "mutation") == 0)
    root = s->mutation;
  if (root == NULL) {
    add_error(&ex, "VALIDATION_ERROR", ex.op->line, ex.op->col, false,
              "%s operations are not supported", ex.op->kind);
    goto done;
  }
  if (!coerce_variables(&ex, variables)) goto done;
  if (validate_set(&ex, root, ex.op->selections, 1, true, false) < 0) goto done;

  *http_status = 200;
  json_t *data = NULL;
  const struct gql_selection *sets[1] = {ex.op->selections};
  if (execute_set(&ex, root, sets, 1, NULL, &data) != 0) data = json_null();
  json_object_set_new(result, "data", data);
done:
  if (json_array_size(ex.errors) > 0)
    json_object_set(result, "errors", ex.errors);
  json_decref(ex.errors);
  json_decref(ex.path);
  json_decref(ex.memo);
  json_decref(ex.variables);
  arena_free(&ex.arena);
  return result;
}
