/* http_message.c - request accessors, response building, trace context.
 *
 * Everything here works on plain structs, so it serves the libmicrohttpd
 * server and in-process client calls alike.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kit/http.h"
#include "kit/json.h"
#include "kit/uuid.h"

const char *http_header(const struct http_request *req, const char *name) {
  for (size_t i = 0; i < req->header_count; i++) {
    if (strcasecmp(req->headers[i].name, name) == 0)
      return req->headers[i].value;
  }
  return NULL;
}

const char *http_param(const struct http_request *req, const char *name) {
  for (size_t i = 0; i < req->param_count; i++) {
    if (strcmp(req->param_names[i], name) == 0) return req->param_values[i];
  }
  return NULL;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decodes s[0..n) into a new arena string; '+' becomes a space when
 * plus_is_space. NULL on a malformed escape or an encoded NUL. */
char *http_decode_component(struct arena *a, const char *s, size_t n,
                            int plus_is_space) {
  char *out = arena_alloc(a, n + 1);
  if (out == NULL) return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      if (i + 2 >= n) return NULL; /* needs two hex digits after '%' */
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return NULL;
      out[o++] = (char)(hi * 16 + lo);
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out[o++] = ' ';
    } else {
      out[o++] = s[i];
    }
  }
  out[o] = '\0';
  return out;
}

const char *http_query(const struct http_request *req, const char *name) {
  const char *p = req->query;
  size_t name_len = strlen(name);
  while (p != NULL && *p != '\0') {
    const char *end = strchr(p, '&');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    size_t key_len = eq ? (size_t)(eq - p) : len;
    if (key_len == name_len && memcmp(p, name, name_len) == 0) {
      if (eq == NULL) return "";
      return http_decode_component(req->arena, eq + 1,
                                   len - key_len - 1, 1);
    }
    p = end ? end + 1 : NULL;
  }
  return NULL;
}

void http_response_init(struct http_response *res) {
  memset(res, 0, sizeof *res);
}

void http_response_clear(struct http_response *res) {
  free(res->body);
  http_stream_destroy(res->stream);
  for (size_t i = 0; i < res->header_count; i++) {
    free((char *)res->headers[i].name);
    free((char *)res->headers[i].value);
  }
  http_response_init(res);
}

int http_reply_take(struct http_response *res, unsigned status,
                    const char *content_type, char *body, size_t len) {
  free(res->body);
  res->status = status;
  res->body = body;
  res->body_len = len;
  snprintf(res->content_type, sizeof res->content_type, "%s",
           content_type ? content_type : "application/json");
  return KIT_OK;
}

int http_reply(struct http_response *res, unsigned status,
               const char *content_type, const char *body, size_t len) {
  char *copy = malloc(len + 1);
  if (copy == NULL) return KIT_NOMEM;
  if (len > 0) memcpy(copy, body, len);
  copy[len] = '\0';
  return http_reply_take(res, status, content_type, copy, len);
}

int http_reply_json(struct http_response *res, unsigned status,
                    const void *json) {
  char *text = json_dumps((const json_t *)json, KIT_JSON_DUMP_FLAGS);
  if (text == NULL) return KIT_NOMEM;
  return http_reply_take(res, status, "application/json", text, strlen(text));
}

int http_reply_error(struct http_response *res, const struct http_request *req,
                     enum api_error e, const char *message,
                     const char *details) {
  json_t *body = json_pack(
      "{s:{s:s, s:s, s:s?}, s:s?}", "error", "code", api_error_code(e),
      "message", message ? message : api_error_code(e), "details", details,
      "trace_id", req && req->trace_id[0] ? req->trace_id : NULL);
  if (body == NULL) return KIT_NOMEM;
  /* s:s? leaves a NULL out entirely; the contract wants the keys present. */
  json_t *err = json_object_get(body, "error");
  if (details == NULL) json_object_set_new(err, "details", json_null());
  if (json_object_get(body, "trace_id") == NULL)
    json_object_set_new(body, "trace_id", json_null());
  int rc = http_reply_json(res, api_error_status(e), body);
  json_decref(body);
  return rc;
}

int http_response_header(struct http_response *res, const char *name,
                         const char *value) {
  if (res->header_count >= sizeof res->headers / sizeof res->headers[0])
    return KIT_ERROR;
  char *n = strdup(name), *v = strdup(value);
  if (n == NULL || v == NULL) {
    free(n);
    free(v);
    return KIT_NOMEM;
  }
  res->headers[res->header_count].name = n;
  res->headers[res->header_count].value = v;
  res->header_count++;
  return KIT_OK;
}

const char *http_response_get_header(const struct http_response *res,
                                     const char *name) {
  for (size_t i = 0; i < res->header_count; i++) {
    if (strcasecmp(res->headers[i].name, name) == 0)
      return res->headers[i].value;
  }
  return NULL;
}

static bool all_hex(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!isxdigit((unsigned char)s[i])) return false;
  }
  return true;
}

static bool all_zero(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '0') return false;
  }
  return true;
}

bool http_parse_traceparent(const char *v, char trace_id[33],
                            char parent_span[17]) {
  /* version(2) - trace-id(32) - parent-id(16) - flags(2) */
  if (v == NULL || strlen(v) < 55) return false;
  if (!all_hex(v, 2) || v[2] != '-' || !all_hex(v + 3, 32) || v[35] != '-' ||
      !all_hex(v + 36, 16) || v[52] != '-' || !all_hex(v + 53, 2))
    return false;
  if (strncasecmp(v, "ff", 2) == 0) return false; /* invalid version */
  if (v[55] != '\0' && (strncmp(v, "00", 2) == 0 || v[55] != '-'))
    return false; /* version 00 has exactly four fields */
  if (all_zero(v + 3, 32) || all_zero(v + 36, 16)) return false;
  for (int i = 0; i < 32; i++) trace_id[i] = (char)tolower((unsigned char)v[3 + i]);
  trace_id[32] = '\0';
  for (int i = 0; i < 16; i++)
    parent_span[i] = (char)tolower((unsigned char)v[36 + i]);
  parent_span[16] = '\0';
  return true;
}

static bool request_id_acceptable(const char *v) {
  size_t n = strlen(v);
  if (n == 0 || n > 39) return false;
  for (size_t i = 0; i < n; i++) {
    char c = v[i];
    if (!isalnum((unsigned char)c) && c != '-' && c != '_' && c != '.')
      return false;
  }
  return true;
}

void http_assign_ids(struct http_request *req) {
  const char *rid = http_header(req, "X-Request-Id");
  if (rid != NULL && request_id_acceptable(rid)) {
    snprintf(req->request_id, sizeof req->request_id, "%s", rid);
  } else {
    uuid_v7(req->request_id);
  }
  if (!http_parse_traceparent(http_header(req, "traceparent"), req->trace_id,
                              req->parent_span_id)) {
    id_hex(req->trace_id, 16);
    req->parent_span_id[0] = '\0';
  }
  id_hex(req->span_id, 8);
}

void http_format_traceparent(const char *trace_id, const char *span_id,
                             char out[56]) {
  snprintf(out, 56, "00-%.32s-%.16s-01", trace_id, span_id);
}
