/* json.h - read a request body into a typed C struct from a field table.
 *
 * The edge of every handler: the body must be valid UTF-8, a JSON object,
 * and match the table. A failure fills struct json_error naming the field and
 * says whether it is a 400 (malformed: not JSON, not an object, wrong type)
 * or a 422 (well-formed but out of range, too long, bad format, missing).
 * Past this point handlers work with typed values, not json_t.
 */
#ifndef SHOPSPHERE_KIT_JSON_H
#define SHOPSPHERE_KIT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"

enum json_field_type {
  JF_STRING,  /* out: const char ** (arena copy); min/max bound length in
                 code points */
  JF_INT,     /* out: int64_t *; min/max bound the value */
  JF_BOOL,    /* out: bool * */
  JF_UUID,    /* out: const char ** ; canonical lowercase UUID */
  JF_EMAIL,   /* out: const char ** ; lowercased, shape-checked */
  JF_MONEY,   /* out: const char ** ; decimal string as sent ("19.99"), shape
                 checked here; converted with money_parse() by the caller
                 who knows the currency */
  JF_ENUM,    /* out: const char ** ; one of enum_values */
  JF_OBJECT,  /* out: const void ** (json_t *, borrowed from the document) */
  JF_ARRAY,   /* out: const void ** (json_t *, borrowed) ; min/max bound the
                 element count */
};

struct json_field {
  const char *name;
  enum json_field_type type;
  bool required;
  int64_t min; /* see type; 0/0 means unbounded */
  int64_t max;
  void *out;
  bool *present; /* optional: set true when the field was given */
  const char *const *enum_values; /* JF_ENUM: NULL-terminated */
  bool nullable; /* JSON null accepted and treated as absent */
};

struct json_error {
  enum api_error code; /* API_VALIDATION_ERROR (400) or API_UNPROCESSABLE */
  char field[64];      /* offending field, "" for the body itself */
  char message[192];
};

/* Flags (jansson's json_dumps) for JSON text we answer or publish: compact,
 * and numbers with 15 significant digits, so a value such as 0.18 (a
 * weight) reads back as 0.18, not 0.17999999999999999 (jansson's default
 * precision is 17). */
#define KIT_JSON_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* Deepest nesting of objects and arrays a body may have (the root object is
 * level 1). */
#define JSON_MAX_DEPTH 32

struct json_doc; /* the parsed document; borrowed JF_OBJECT/JF_ARRAY values
                    live as long as it */

/* Parses body into doc and checks it is a JSON object of valid UTF-8 and at
 * most JSON_MAX_DEPTH deep. Returns KIT_OK or KIT_INVALID with err filled
 * (KIT_NOMEM with API_INTERNAL_ERROR if memory runs out). The caller frees
 * *doc with json_doc_free (also on failure: NULL is fine). */
int json_doc_parse(const char *body, size_t len, struct json_doc **doc,
                   struct json_error *err);
void json_doc_free(struct json_doc *doc);

/* The root json_t * of doc (borrowed). */
void *json_doc_root(struct json_doc *doc);

/* Fills the outs of fields from object (a json_t * object). With
 * reject_unknown, a member not in the table is a 422. Strings are copied into
 * arena. Returns KIT_OK or KIT_INVALID with err filled (KIT_NOMEM with
 * API_INTERNAL_ERROR if the arena runs out). An absent field leaves its out
 * untouched, so outs may be preset to defaults; *present, when given, is
 * always written. On failure some outs may already be written. */
int json_read_fields(const void *object, const struct json_field *fields,
                     size_t count, bool reject_unknown, struct arena *arena,
                     struct json_error *err);

/* Both steps at once for the common case; *doc as for json_doc_parse. */
int json_parse_body(const char *body, size_t len,
                    const struct json_field *fields, size_t count,
                    bool reject_unknown, struct arena *arena,
                    struct json_doc **doc, struct json_error *err);

/* true when s (n bytes) is well-formed UTF-8 without NUL bytes. */
bool json_utf8_valid(const char *s, size_t n);

/* true for a syntactically plausible e-mail address (local@domain.tld). */
bool json_email_valid(const char *s);

#endif
