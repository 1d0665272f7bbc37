/* catalog_import.c - `shopsphere import products FILE`: CSV or JSON lines.
 *
 * Every row becomes a JSON object in the shape of POST /products and is read
 * by the same rules (input.c); every refused row is reported with its line,
 * and only a file without a single error is written, in one transaction. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "kit/err.h"
#include "services/product/product.h"
#include "services/product/tools.h"
#include "services/product/tools_internal.h"

#define IMPORT_MAX_BYTES (64L * 1024 * 1024)

/* --- CSV ----------------------------------------------------------------- */

int catalog_csv_record(const char *text, size_t len, size_t *pos,
                       struct arena *a, char ***fields, size_t *line) {
  size_t p = *pos;
  if (p >= len) return 0;
  size_t cap = 16, n = 0;
  char **out = arena_alloc(a, sizeof *out * cap);
  /* Scratch for one field: never longer than the rest of the text. */
  char *buf = malloc(len - p + 1);
  int rc = -1;
  if (out == NULL || buf == NULL) goto cleanup;
  for (;;) {
    size_t b = 0;
    if (p < len && text[p] == '"') {
      p++;
      for (;;) {
        if (p >= len) goto cleanup; /* unterminated quote */
        if (text[p] == '"') {
          if (p + 1 < len && text[p + 1] == '"') {
            buf[b++] = '"';
            p += 2;
            continue;
          }
          p++;
          break;
        }
        if (text[p] == '\n') (*line)++;
        buf[b++] = text[p++];
      }
    }
    while (p < len && text[p] != ',' && text[p] != '\n' && text[p] != '\r')
      buf[b++] = text[p++];
    if (n == cap) {
      char **bigger = arena_alloc(a, sizeof *out * cap * 2);
      if (bigger == NULL) goto cleanup;
      memcpy(bigger, out, sizeof *out * cap);
      out = bigger;
      cap *= 2;
    }
    out[n++] = arena_strndup(a, buf, b);
    if (p < len && text[p] == ',') {
      p++;
      continue;
    }
    if (p < len && text[p] == '\r') p++;
    if (p < len && text[p] == '\n') {
      p++;
      (*line)++;
    }
    break;
  }
  *pos = p;
  *fields = out;
  rc = (int)n;
cleanup:
  free(buf);
  return rc;
}

/* "12" -> 12 as a JSON integer; anything else stays a string, so the field
 * table reports "must be an integer" for it. */
static json_t *int_or_string(const char *s) {
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (*s != '\0' && *end == '\0' && errno == 0) return json_integer(v);
  return json_string(s);
}

/* "12" -> 12, "0.25" -> 0.25; anything else stays a string. */
static json_t *number_or_string(const char *s) {
  char *end = NULL;
  errno = 0;
  long long i = strtoll(s, &end, 10);
  if (*s != '\0' && *end == '\0' && errno == 0) return json_integer(i);
  double v = strtod(s, &end);
  if (*s != '\0' && *end == '\0') return json_real(v);
  return json_string(s);
}

void *catalog_csv_row_json(char **header, char **fields, size_t n, char *why,
                           size_t why_size) {
  static const char *const top[] = {"sku",      "name",        "description",
                                    "category", "category_id", "price",
                                    "currency", "status",      NULL};
  static const char *const attr_text[] = {"brand", "color", "size", NULL};
  json_t *obj = json_object(), *attrs = json_object(), *dims = json_object();
  for (size_t i = 0; i < n; i++) {
    const char *h = header[i], *v = fields[i];
    if (v[0] == '\0') continue; /* an empty cell is an absent field */
    bool done = false;
    for (size_t k = 0; top[k] && !done; k++)
      if (strcmp(h, top[k]) == 0) {
        json_object_set_new(obj, h, json_string(v));
        done = true;
      }
    for (size_t k = 0; attr_text[k] && !done; k++)
      if (strcmp(h, attr_text[k]) == 0) {
        json_object_set_new(attrs, h, json_string(v));
        done = true;
      }
    if (done) continue;
    if (strcmp(h, "stock") == 0) {
      json_object_set_new(obj, h, int_or_string(v));
    } else if (strcmp(h, "weight") == 0) {
      json_object_set_new(attrs, h, number_or_string(v));
    } else if (strcmp(h, "weight_grams") == 0) { /* deprecated: weight */
      json_object_set_new(attrs, h, int_or_string(v));
    } else if (strcmp(h, "length") == 0 || strcmp(h, "width") == 0 ||
               strcmp(h, "height") == 0) {
      json_object_set_new(dims, h, number_or_string(v));
    } else if (strcmp(h, "dimension_unit") == 0) { /* deprecated: cm */
      json_object_set_new(dims, "unit", json_string(v));
    } else if (strcmp(h, "images") == 0) {
      json_t *images = json_array();
      char *copy = strdup(v), *save = NULL;
      for (char *u = strtok_r(copy, "|", &save); u;
           u = strtok_r(NULL, "|", &save))
        json_array_append_new(images, json_string(u));
      free(copy);
      json_object_set_new(obj, "images", images);
    } else if (strcmp(h, "custom") == 0) {
      json_t *custom = json_loads(v, 0, NULL);
      json_object_set_new(attrs, "custom",
                          custom != NULL ? custom : json_string(v));
    } else {
      snprintf(why, why_size, "unknown column '%.60s'", h);
      json_decref(obj);
      json_decref(attrs);
      json_decref(dims);
      return NULL;
    }
  }
  if (json_object_size(dims) > 0) json_object_set(attrs, "dimensions", dims);
  if (json_object_size(attrs) > 0) json_object_set(obj, "attributes", attrs);
  json_decref(dims);
  json_decref(attrs);
  return obj;
}

/* --- reading the file into items -------------------------------------------
 */

struct reader {
  const char *path;
  FILE *err;
  struct arena *arena;
  struct tools_item *items;
  json_t **objs;
  size_t n, cap, errors;
};

static void row_error(struct reader *r, size_t line, const char *field,
                      const char *msg) {
  r->errors++;
  fprintf(r->err, "%s:%zu: %s%s%s\n", r->path, line, field ? field : "",
          field && *field ? ": " : "", msg);
}

/* Validates obj (taken) as the product of `line` and keeps it. */
static void add_row(struct reader *r, size_t line, json_t *obj) {
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 64;
    struct tools_item *items = realloc(r->items, sizeof *items * cap);
    if (items != NULL) r->items = items;
    json_t **objs = realloc(r->objs, sizeof *objs * cap);
    if (objs != NULL) r->objs = objs;
    if (items == NULL || objs == NULL) {
      row_error(r, line, "", "out of memory");
      json_decref(obj);
      return;
    }
    r->cap = cap;
  }
  struct tools_item *it = &r->items[r->n];
  memset(it, 0, sizeof *it);
  it->line = line;
  struct json_error err;
  if (catalog_tools_read(obj, r->arena, &it->draft, &it->extra, &err) !=
      KIT_OK) {
    row_error(r, line, err.field, err.message);
    json_decref(obj);
    return;
  }
  /* Two rows of one file with the same SKU: the second is an error. */
  for (size_t i = 0; i < r->n; i++) {
    if (strcmp(r->items[i].draft.sku, it->draft.sku) == 0) {
      char msg[160];
      snprintf(msg, sizeof msg, "sku %.64s already appears on line %zu",
               it->draft.sku, r->items[i].line);
      row_error(r, line, "sku", msg);
      json_decref(obj);
      return;
    }
  }
  r->objs[r->n++] = obj; /* the row borrows nothing from it, kept tidy */
}

static void read_csv(struct reader *r, const char *text, size_t len) {
  size_t pos = 0, line = 1;
  char **header = NULL;
  int nh = catalog_csv_record(text, len, &pos, r->arena, &header, &line);
  if (nh <= 0) {
    row_error(r, 1, "", nh < 0 ? "unterminated quote" : "no header row");
    return;
  }
  for (;;) {
    size_t start = line;
    char **fields = NULL;
    int nf = catalog_csv_record(text, len, &pos, r->arena, &fields, &line);
    if (nf == 0) break;
    if (nf < 0) {
      row_error(r, start, "", "unterminated quote");
      break;
    }
    if (nf == 1 && fields[0][0] == '\0') continue; /* blank line */
    if (nf != nh) {
      char msg[96];
      snprintf(msg, sizeof msg, "has %d fields, the header has %d", nf, nh);
      row_error(r, start, "", msg);
      continue;
    }
    char why[128];
    json_t *obj =
        catalog_csv_row_json(header, fields, (size_t)nf, why, sizeof why);
    if (obj == NULL) {
      row_error(r, 1, "", why); /* a header problem: every row has it */
      return;
    }
    add_row(r, start, obj);
  }
}

static void read_jsonl(struct reader *r, const char *text, size_t len) {
  size_t line = 0, pos = 0;
  while (pos < len) {
    line++;
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - text) : len;
    size_t n = end - pos;
    const char *s = text + pos;
    pos = end + 1;
    size_t blank = 0;
    while (blank < n &&
           (s[blank] == ' ' || s[blank] == '\t' || s[blank] == '\r'))
      blank++;
    if (blank == n) continue;
    struct json_doc *doc = NULL;
    struct json_error err;
    if (json_doc_parse(s, n, &doc, &err) != KIT_OK) {
      row_error(r, line, err.field, err.message);
      json_doc_free(doc);
      continue;
    }
    json_t *obj = json_incref(json_doc_root(doc));
    json_doc_free(doc);
    add_row(r, line, obj);
  }
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  char *buf = NULL;
  size_t cap = 0, n = 0;
  for (;;) {
    if (n + 65536 + 1 > cap) {
      cap = cap ? cap * 2 : 131072;
      if ((long)cap > IMPORT_MAX_BYTES + 131072) break;
      char *bigger = realloc(buf, cap);
      if (bigger == NULL) break;
      buf = bigger;
    }
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0) break;
  }
  bool ok = !ferror(f) && feof(f);
  fclose(f);
  if (!ok) {
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

static enum import_format guess_format(const char *path, const char *text) {
  const char *dot = strrchr(path, '.');
  if (dot != NULL && strcmp(dot, ".csv") == 0) return IMPORT_CSV;
  if (dot != NULL && (strcmp(dot, ".jsonl") == 0 ||
                      strcmp(dot, ".ndjson") == 0 || strcmp(dot, ".json") == 0))
    return IMPORT_JSONL;
  while (*text == ' ' || *text == '\n' || *text == '\r' || *text == '\t')
    text++;
  return *text == '{' ? IMPORT_JSONL : IMPORT_CSV;
}

/* Reads text (UTF-8 checked by the caller) into r in its format, counting
 * the rows in out. */
static void read_rows(struct reader *r, const char *text, size_t len,
                      enum import_format format, struct import_result *out) {
  if (format == IMPORT_AUTO) format = guess_format(r->path, text);
  if (format == IMPORT_CSV)
    read_csv(r, text, len);
  else
    read_jsonl(r, text, len);
  out->rows = r->n + r->errors;
  out->errors = r->errors;
}

static void reader_free(struct reader *r) {
  for (size_t i = 0; i < r->n; i++)
    json_decref(r->objs[i]);
  free(r->objs);
  free(r->items);
}

int catalog_import_read(const char *text, size_t len, enum import_format format,
                        FILE *errors, struct import_result *out) {
  struct arena a;
  struct reader r = {.path = "", .err = errors, .arena = &a};
  memset(out, 0, sizeof *out);
  if (!json_utf8_valid(text, len)) return KIT_INVALID;
  arena_init(&a, 64 * 1024);
  read_rows(&r, text, len, format, out);
  reader_free(&r);
  arena_free(&a);
  return out->errors > 0 ? KIT_INVALID : KIT_OK;
}

int catalog_import(const struct config *cfg, const char *path,
                   enum import_format format, FILE *errors,
                   struct import_result *out) {
  struct arena a;
  struct reader r = {.path = path, .err = errors, .arena = &a};
  struct db_pool *pool = NULL;
  size_t len = 0;
  int rc = KIT_ERROR;
  memset(out, 0, sizeof *out);
  arena_init(&a, 256 * 1024);
  char *text = slurp(path, &len);
  if (text == NULL) {
    fprintf(errors, "%s: cannot read the file: %s\n", path, strerror(errno));
    goto cleanup;
  }
  if (!json_utf8_valid(text, len)) {
    fprintf(errors, "%s: the file is not UTF-8 text\n", path);
    rc = KIT_INVALID;
    goto cleanup;
  }
  read_rows(&r, text, len, format, out);
  if (r.n == 0) {
    rc = r.errors > 0 ? KIT_INVALID : KIT_OK;
    goto cleanup;
  }
  if (catalog_tools_pool_open(cfg, &pool) != KIT_OK) goto cleanup;
  /* With rows refused already, the valid ones still meet the database (an
   * unknown category, a taken SKU) so one run reports every problem; the
   * transaction is rolled back either way. */
  struct tools_batch b = {.arena = &a,
                          .items = r.items,
                          .n = r.n,
                          .skip_existing = false,
                          .check_only = r.errors > 0,
                          .err = errors,
                          .path = path};
  int wrc = catalog_tools_write(pool, &b);
  if (wrc == OUT_INVALID) {
    out->errors = r.errors + b.errors;
    rc = KIT_INVALID;
  } else if (wrc < 0) {
    fprintf(errors,
            "%s: the database refused the import (see the log); "
            "nothing was written\n",
            path);
  } else {
    out->imported = b.created;
    rc = KIT_OK;
  }
cleanup:
  reader_free(&r);
  free(text);
  db_pool_close(pool);
  arena_free(&a);
  return rc;
}
