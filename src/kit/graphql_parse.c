/* graphql_parse.c - lexer and recursive-descent parser of GraphQL
 * executable documents (spec §2), into a tree allocated in an arena.
 * Nesting is bounded so a hostile document cannot exhaust the stack. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "kit/graphql_internal.h"

#define MAX_NESTING 64

enum token_kind {
  T_EOF,
  T_PUNCT, /* one of ! $ & ( ) ... : = @ [ ] { | } */
  T_NAME,
  T_INT,
  T_FLOAT,
  T_STRING,
};

struct parser {
  struct arena *a;
  const char *src, *end, *p;
  int line;
  const char *line_start;
  /* the current token */
  enum token_kind kind;
  const char *tok;
  size_t tok_len;
  char *str; /* T_STRING: the decoded value */
  int tok_line, tok_col;
  int nesting;
  char *err;
  size_t err_size;
  int err_line, err_col;
  bool failed;
};

static void fail(struct parser *ps, const char *fmt, const char *what) {
  if (ps->failed) return;
  ps->failed = true;
  snprintf(ps->err, ps->err_size, fmt, what);
  ps->err_line = ps->tok_line;
  ps->err_col = ps->tok_col;
}

static void skip_ignored(struct parser *ps) {
  while (ps->p < ps->end) {
    unsigned char c = (unsigned char)*ps->p;
    if (c == '\n') {
      ps->p++;
      ps->line++;
      ps->line_start = ps->p;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == ',') {
      ps->p++;
    } else if (c == 0xEF && ps->end - ps->p >= 3 &&
               (unsigned char)ps->p[1] == 0xBB &&
               (unsigned char)ps->p[2] == 0xBF) {
      ps->p += 3; /* byte order mark */
    } else if (c == '#') {
      while (ps->p < ps->end && *ps->p != '\n')
        ps->p++;
    } else {
      break;
    }
  }
}

/* Appends the UTF-8 form of code point cp to out at *o. */
static void put_utf8(char *out, size_t *o, unsigned cp) {
  if (cp < 0x80) {
    out[(*o)++] = (char)cp;
  } else if (cp < 0x800) {
    out[(*o)++] = (char)(0xC0 | (cp >> 6));
    out[(*o)++] = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out[(*o)++] = (char)(0xE0 | (cp >> 12));
    out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[(*o)++] = (char)(0x80 | (cp & 0x3F));
  } else {
    out[(*o)++] = (char)(0xF0 | (cp >> 18));
    out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[(*o)++] = (char)(0x80 | (cp & 0x3F));
  }
}

static int hex4(const char *p, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return -1;
  }
  *out = v;
  return 0;
}

static void lex_string(struct parser *ps) {
  bool block = ps->end - ps->p >= 3 && strncmp(ps->p, "\"\"\"", 3) == 0;
  const char *start = ps->p + (block ? 3 : 1);
  /* The decoded string is never longer than its source. */
  char *out = arena_alloc(ps->a, (size_t)(ps->end - start) + 1);
  if (out == NULL) {
    fail(ps, "%s", "out of memory");
    return;
  }
  size_t o = 0;
  const char *p = start;
  for (;;) {
    if (p >= ps->end) {
      fail(ps, "%s", "unterminated string");
      return;
    }
    if (block) {
      if (ps->end - p >= 3 && strncmp(p, "\"\"\"", 3) == 0) {
        p += 3;
        break;
      }
      if (ps->end - p >= 4 && strncmp(p, "\\\"\"\"", 4) == 0) {
        memcpy(out + o, "\"\"\"", 3);
        o += 3;
        p += 4;
        continue;
      }
      if (*p == '\n') {
        ps->line++;
        ps->line_start = p + 1;
      }
      out[o++] = *p++;
      continue;
    }
    char c = *p;
    if (c == '"') {
      p++;
      break;
    }
    if (c == '\n' || c == '\r') {
      fail(ps, "%s", "unterminated string");
      return;
    }
    if (c != '\\') {
      out[o++] = c;
      p++;
      continue;
    }
    if (p + 1 >= ps->end) {
      fail(ps, "%s", "unterminated string");
      return;
    }
    char e = p[1];
    p += 2;
    switch (e) {
    case '"':
      out[o++] = '"';
      break;
    case '\\':
      out[o++] = '\\';
      break;
    case '/':
      out[o++] = '/';
      break;
    case 'b':
      out[o++] = '\b';
      break;
    case 'f':
      out[o++] = '\f';
      break;
    case 'n':
      out[o++] = '\n';
      break;
    case 'r':
      out[o++] = '\r';
      break;
    case 't':
      out[o++] = '\t';
      break;
    case 'u': {
      unsigned cp;
      if (ps->end - p < 4 || hex4(p, &cp) != 0 || cp == 0) {
        fail(ps, "%s", "invalid \\u escape in a string");
        return;
      }
      p += 4;
      if (cp >= 0xD800 && cp <= 0xDBFF) { /* a surrogate pair */
        unsigned lo;
        if (ps->end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
            hex4(p + 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF) {
          fail(ps, "%s", "invalid surrogate pair in a string");
          return;
        }
        p += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        fail(ps, "%s", "invalid surrogate in a string");
        return;
      }
      put_utf8(out, &o, cp);
      break;
    }
    default:
      fail(ps, "%s", "invalid escape in a string");
      return;
    }
  }
  out[o] = '\0';
  ps->kind = T_STRING;
  ps->str = out;
  ps->tok_len = (size_t)(p - ps->tok);
  ps->p = p;
}

/* Reads the next token into ps. */
static void next(struct parser *ps) {
  if (ps->failed) return;
  skip_ignored(ps);
  ps->tok = ps->p;
  ps->tok_line = ps->line;
  ps->tok_col = (int)(ps->p - ps->line_start) + 1;
  /* Until a token is read: a lexing failure below must not leave the
   * previous token's kind and length over the new position (a stale name
   * of 5 bytes read at the last byte of the text: found by fuzzing). */
  ps->kind = T_EOF;
  ps->tok_len = 0;
  if (ps->p >= ps->end) {
    ps->kind = T_EOF;
    ps->tok_len = 0;
    return;
  }
  char c = *ps->p;
  if (strchr("!$&():=@[]{}|", c) != NULL) {
    ps->kind = T_PUNCT;
    ps->tok_len = 1;
    ps->p++;
    return;
  }
  if (c == '.') {
    if (ps->end - ps->p >= 3 && strncmp(ps->p, "...", 3) == 0) {
      ps->kind = T_PUNCT;
      ps->tok_len = 3;
      ps->p += 3;
      return;
    }
    fail(ps, "%s", "unexpected '.'");
    return;
  }
  if (c == '_' || isalpha((unsigned char)c)) {
    const char *p = ps->p;
    while (p < ps->end && (*p == '_' || isalnum((unsigned char)*p)))
      p++;
    ps->kind = T_NAME;
    ps->tok_len = (size_t)(p - ps->p);
    ps->p = p;
    return;
  }
  if (c == '-' || isdigit((unsigned char)c)) {
    const char *p = ps->p;
    bool is_float = false;
    if (*p == '-') p++;
    if (p >= ps->end || !isdigit((unsigned char)*p)) {
      fail(ps, "%s", "invalid number");
      return;
    }
    if (*p == '0' && p + 1 < ps->end && isdigit((unsigned char)p[1])) {
      fail(ps, "%s", "invalid number: leading zero");
      return;
    }
    while (p < ps->end && isdigit((unsigned char)*p))
      p++;
    if (p < ps->end && *p == '.') {
      is_float = true;
      p++;
      if (p >= ps->end || !isdigit((unsigned char)*p)) {
        fail(ps, "%s", "invalid number");
        return;
      }
      while (p < ps->end && isdigit((unsigned char)*p))
        p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
      is_float = true;
      p++;
      if (p < ps->end && (*p == '+' || *p == '-')) p++;
      if (p >= ps->end || !isdigit((unsigned char)*p)) {
        fail(ps, "%s", "invalid number");
        return;
      }
      while (p < ps->end && isdigit((unsigned char)*p))
        p++;
    }
    if (p < ps->end && (*p == '_' || *p == '.' || isalpha((unsigned char)*p))) {
      fail(ps, "%s", "invalid number");
      return;
    }
    ps->kind = is_float ? T_FLOAT : T_INT;
    ps->tok_len = (size_t)(p - ps->p);
    ps->p = p;
    return;
  }
  if (c == '"') {
    lex_string(ps);
    return;
  }
  char what[8];
  if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
    snprintf(what, sizeof what, "0x%02x", (unsigned char)c);
  else
    snprintf(what, sizeof what, "'%c'", c);
  fail(ps, "unexpected character %s", what);
}

static bool is_punct(struct parser *ps, const char *p) {
  return ps->kind == T_PUNCT && ps->tok_len == strlen(p) &&
         strncmp(ps->tok, p, ps->tok_len) == 0;
}

static bool is_name(struct parser *ps, const char *name) {
  return ps->kind == T_NAME && ps->tok_len == strlen(name) &&
         strncmp(ps->tok, name, ps->tok_len) == 0;
}

static bool expect(struct parser *ps, const char *p) {
  if (!is_punct(ps, p)) {
    fail(ps, "expected '%s'", p);
    return false;
  }
  next(ps);
  return true;
}

static const char *take_name(struct parser *ps) {
  if (ps->kind != T_NAME) {
    fail(ps, "%s", "expected a name");
    return NULL;
  }
  const char *n = arena_strndup(ps->a, ps->tok, ps->tok_len);
  next(ps);
  return n;
}

static bool enter(struct parser *ps) {
  if (++ps->nesting > MAX_NESTING) {
    fail(ps, "%s", "the document is nested too deeply");
    return false;
  }
  return true;
}

static struct gql_value *parse_value(struct parser *ps, bool is_const);

static struct gql_value *new_value(struct parser *ps, enum gql_value_kind k) {
  struct gql_value *v = arena_alloc(ps->a, sizeof *v);
  if (v == NULL) {
    fail(ps, "%s", "out of memory");
    return NULL;
  }
  memset(v, 0, sizeof *v);
  v->kind = k;
  v->line = ps->tok_line;
  v->col = ps->tok_col;
  return v;
}

static struct gql_value *parse_value(struct parser *ps, bool is_const) {
  if (ps->failed || !enter(ps)) return NULL;
  struct gql_value *v = NULL;
  if (is_punct(ps, "$")) {
    if (is_const) {
      fail(ps, "%s", "a variable is not allowed here");
      return NULL;
    }
    v = new_value(ps, GV_VARIABLE);
    next(ps);
    if (v) v->text = take_name(ps);
  } else if (ps->kind == T_INT || ps->kind == T_FLOAT) {
    v = new_value(ps, ps->kind == T_INT ? GV_INT : GV_FLOAT);
    if (v) v->text = arena_strndup(ps->a, ps->tok, ps->tok_len);
    next(ps);
  } else if (ps->kind == T_STRING) {
    v = new_value(ps, GV_STRING);
    if (v) v->text = ps->str;
    next(ps);
  } else if (ps->kind == T_NAME) {
    if (is_name(ps, "true") || is_name(ps, "false")) {
      v = new_value(ps, GV_BOOLEAN);
      if (v) v->boolean = is_name(ps, "true");
    } else if (is_name(ps, "null")) {
      v = new_value(ps, GV_NULL);
    } else {
      v = new_value(ps, GV_ENUM);
      if (v) v->text = arena_strndup(ps->a, ps->tok, ps->tok_len);
    }
    next(ps);
  } else if (is_punct(ps, "[")) {
    v = new_value(ps, GV_LIST);
    next(ps);
    struct gql_value **tail = v ? &v->items : NULL;
    while (!ps->failed && !is_punct(ps, "]")) {
      if (ps->kind == T_EOF) {
        fail(ps, "%s", "unterminated list");
        break;
      }
      struct gql_value *item = parse_value(ps, is_const);
      if (item == NULL || tail == NULL) break;
      *tail = item;
      tail = &item->next;
    }
    expect(ps, "]");
  } else if (is_punct(ps, "{")) {
    v = new_value(ps, GV_OBJECT);
    next(ps);
    struct gql_value **tail = v ? &v->items : NULL;
    while (!ps->failed && !is_punct(ps, "}")) {
      const char *name = take_name(ps);
      if (name == NULL || !expect(ps, ":")) break;
      struct gql_value *member = parse_value(ps, is_const);
      if (member == NULL || tail == NULL) break;
      member->field_name = name;
      *tail = member;
      tail = &member->next;
    }
    expect(ps, "}");
  } else {
    fail(ps, "%s", "expected a value");
  }
  ps->nesting--;
  return ps->failed ? NULL : v;
}

static struct gql_argument *parse_arguments(struct parser *ps, bool is_const) {
  if (!is_punct(ps, "(")) return NULL;
  next(ps);
  struct gql_argument *head = NULL, **tail = &head;
  do {
    struct gql_argument *arg = arena_alloc(ps->a, sizeof *arg);
    if (arg == NULL) {
      fail(ps, "%s", "out of memory");
      return NULL;
    }
    memset(arg, 0, sizeof *arg);
    arg->line = ps->tok_line;
    arg->col = ps->tok_col;
    arg->name = take_name(ps);
    if (!expect(ps, ":")) return NULL;
    arg->value = parse_value(ps, is_const);
    if (ps->failed) return NULL;
    *tail = arg;
    tail = &arg->next;
  } while (!ps->failed && !is_punct(ps, ")"));
  expect(ps, ")");
  return head;
}

static struct gql_directive *parse_directives(struct parser *ps,
                                              bool is_const) {
  struct gql_directive *head = NULL, **tail = &head;
  while (!ps->failed && is_punct(ps, "@")) {
    struct gql_directive *d = arena_alloc(ps->a, sizeof *d);
    if (d == NULL) {
      fail(ps, "%s", "out of memory");
      return NULL;
    }
    memset(d, 0, sizeof *d);
    d->line = ps->tok_line;
    d->col = ps->tok_col;
    next(ps);
    d->name = take_name(ps);
    d->args = parse_arguments(ps, is_const);
    *tail = d;
    tail = &d->next;
  }
  return head;
}

static struct gql_selection *parse_selection_set(struct parser *ps);

static struct gql_selection *parse_selection(struct parser *ps) {
  struct gql_selection *s = arena_alloc(ps->a, sizeof *s);
  if (s == NULL) {
    fail(ps, "%s", "out of memory");
    return NULL;
  }
  memset(s, 0, sizeof *s);
  s->line = ps->tok_line;
  s->col = ps->tok_col;
  if (is_punct(ps, "...")) {
    next(ps);
    if (ps->kind == T_NAME && !is_name(ps, "on")) {
      s->kind = SEL_SPREAD;
      s->name = take_name(ps);
      s->directives = parse_directives(ps, false);
      return s;
    }
    s->kind = SEL_INLINE;
    if (is_name(ps, "on")) {
      next(ps);
      s->type_condition = take_name(ps);
    }
    s->directives = parse_directives(ps, false);
    s->children = parse_selection_set(ps);
    if (s->children == NULL) fail(ps, "%s", "expected a selection set");
    return s;
  }
  s->kind = SEL_FIELD;
  const char *first = take_name(ps);
  if (is_punct(ps, ":")) {
    next(ps);
    s->alias = first;
    s->name = take_name(ps);
  } else {
    s->name = first;
  }
  s->args = parse_arguments(ps, false);
  s->directives = parse_directives(ps, false);
  if (is_punct(ps, "{")) s->children = parse_selection_set(ps);
  return s;
}

static struct gql_selection *parse_selection_set(struct parser *ps) {
  if (!is_punct(ps, "{")) return NULL;
  if (!enter(ps)) return NULL;
  next(ps);
  struct gql_selection *head = NULL, **tail = &head;
  while (!ps->failed && !is_punct(ps, "}")) {
    if (ps->kind == T_EOF) {
      fail(ps, "%s", "unterminated selection set");
      break;
    }
    struct gql_selection *s = parse_selection(ps);
    if (s == NULL) break;
    *tail = s;
    tail = &s->next;
  }
  if (!ps->failed && head == NULL) fail(ps, "%s", "an empty selection set");
  expect(ps, "}");
  ps->nesting--;
  return ps->failed ? NULL : head;
}

/* A type reference as SDL text: Name, [Type], Type!. */
static const char *parse_type(struct parser *ps) {
  if (!enter(ps)) return NULL;
  const char *text = NULL;
  if (is_punct(ps, "[")) {
    next(ps);
    const char *inner = parse_type(ps);
    if (inner == NULL || !expect(ps, "]")) return NULL;
    text = arena_printf(ps->a, "[%s]", inner);
  } else {
    text = take_name(ps);
  }
  if (text != NULL && is_punct(ps, "!")) {
    next(ps);
    text = arena_printf(ps->a, "%s!", text);
  }
  ps->nesting--;
  return ps->failed ? NULL : text;
}

static struct gql_variable_def *parse_variable_defs(struct parser *ps) {
  if (!is_punct(ps, "(")) return NULL;
  next(ps);
  struct gql_variable_def *head = NULL, **tail = &head;
  do {
    struct gql_variable_def *v = arena_alloc(ps->a, sizeof *v);
    if (v == NULL) {
      fail(ps, "%s", "out of memory");
      return NULL;
    }
    memset(v, 0, sizeof *v);
    v->line = ps->tok_line;
    v->col = ps->tok_col;
    if (!expect(ps, "$")) return NULL;
    v->name = take_name(ps);
    if (!expect(ps, ":")) return NULL;
    v->type = parse_type(ps);
    if (is_punct(ps, "=")) {
      next(ps);
      v->default_value = parse_value(ps, true);
    }
    parse_directives(ps, true);
    if (ps->failed) return NULL;
    *tail = v;
    tail = &v->next;
  } while (!ps->failed && !is_punct(ps, ")"));
  expect(ps, ")");
  return head;
}

int gql_parse(struct arena *a, const char *text, size_t len,
              struct gql_document *doc, char *err, size_t err_size, int *line,
              int *col) {
  struct parser ps = {.a = a,
                      .src = text,
                      .end = text + len,
                      .p = text,
                      .line = 1,
                      .line_start = text,
                      .err = err,
                      .err_size = err_size};
  memset(doc, 0, sizeof *doc);
  struct gql_operation **op_tail = &doc->operations;
  struct gql_fragment **frag_tail = &doc->fragments;
  next(&ps);
  if (ps.kind == T_EOF) fail(&ps, "%s", "the document is empty");
  while (!ps.failed && ps.kind != T_EOF) {
    if (is_name(&ps, "fragment")) {
      struct gql_fragment *f = arena_alloc(a, sizeof *f);
      if (f == NULL) {
        fail(&ps, "%s", "out of memory");
        break;
      }
      memset(f, 0, sizeof *f);
      f->line = ps.tok_line;
      f->col = ps.tok_col;
      next(&ps);
      if (is_name(&ps, "on")) {
        fail(&ps, "%s", "a fragment cannot be named 'on'");
        break;
      }
      f->name = take_name(&ps);
      if (!is_name(&ps, "on")) {
        fail(&ps, "%s", "expected 'on' and a type condition");
        break;
      }
      next(&ps);
      f->type_condition = take_name(&ps);
      parse_directives(&ps, false);
      f->selections = parse_selection_set(&ps);
      if (f->selections == NULL) fail(&ps, "%s", "expected a selection set");
      *frag_tail = f;
      frag_tail = &f->next;
      continue;
    }
    struct gql_operation *op = arena_alloc(a, sizeof *op);
    if (op == NULL) {
      fail(&ps, "%s", "out of memory");
      break;
    }
    memset(op, 0, sizeof *op);
    op->line = ps.tok_line;
    op->col = ps.tok_col;
    if (is_punct(&ps, "{")) {
      op->kind = "query";
    } else if (is_name(&ps, "query") || is_name(&ps, "mutation") ||
               is_name(&ps, "subscription")) {
      op->kind = is_name(&ps, "query")      ? "query"
                 : is_name(&ps, "mutation") ? "mutation"
                                            : "subscription";
      next(&ps);
      if (ps.kind == T_NAME) op->name = take_name(&ps);
      op->variables = parse_variable_defs(&ps);
      op->directives = parse_directives(&ps, false);
    } else {
      fail(&ps, "%s", "expected an operation or a fragment");
      break;
    }
    op->selections = parse_selection_set(&ps);
    if (op->selections == NULL) fail(&ps, "%s", "expected a selection set");
    *op_tail = op;
    op_tail = &op->next;
  }
  if (ps.failed) {
    *line = ps.err_line;
    *col = ps.err_col;
    return -1;
  }
  return 0;
}
