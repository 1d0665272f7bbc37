/* router.c - match a method and path against static route tables.
 *
 * Patterns are literal segments, "{name}" (one non-empty segment) and a final
 * "{name*}" (the rest of the path, possibly empty). Matching walks segments
 * of the raw path, so an encoded "/" inside an id stays inside its segment;
 * parameter values are percent-decoded afterwards. Tables are small (tens of
 * routes), so a linear scan beats anything cleverer.
 */
#include <stdio.h>
#include <string.h>

#include "kit/auth.h"
#include "kit/http.h"
#include "kit/log.h"

int router_add(struct router *r, const struct route *table, size_t n) {
  if (r->table_count >= ROUTER_MAX_TABLES) return KIT_ERROR;
  r->tables[r->table_count] = table;
  r->table_lens[r->table_count] = n;
  r->table_count++;
  return KIT_OK;
}

/* Length of the segment starting at s (up to '/' or end). */
static size_t segment_len(const char *s) {
  const char *slash = strchr(s, '/');
  return slash ? (size_t)(slash - s) : strlen(s);
}

/* Tries pattern against path; on success fills the params of req and
 * returns true. Params are decoded into req->arena. */
static bool match_pattern(const char *pattern, const char *path,
                          struct http_request *req) {
  size_t nparams = 0;
  const char *names[HTTP_MAX_PARAMS];
  const char *raw[HTTP_MAX_PARAMS];
  size_t raw_len[HTTP_MAX_PARAMS];

  const char *p = pattern, *s = path;
  /* Both start with '/'; compare segment by segment. */
  while (*p == '/' && *s == '/') {
    p++;
    s++;
    size_t plen = segment_len(p), slen = segment_len(s);
    if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
      bool rest = plen >= 3 && p[plen - 2] == '*';
      if (nparams >= HTTP_MAX_PARAMS) return false;
      names[nparams] = p + 1;
      if (rest) {
        raw[nparams] = s;
        raw_len[nparams] = strlen(s);
        nparams++;
        s += strlen(s);
        p += plen;
        break;
      }
      if (slen == 0) return false;
      raw[nparams] = s;
      raw_len[nparams] = slen;
      nparams++;
    } else if (plen != slen || memcmp(p, s, plen) != 0) {
      return false;
    }
    p += plen;
    s += slen;
  }
  if (*p != '\0' || *s != '\0') return false;

  req->param_count = 0;
  for (size_t i = 0; i < nparams; i++) {
    const char *close = strchr(names[i], '}');
    size_t name_len = (size_t)(close - names[i]);
    if (name_len > 0 && names[i][name_len - 1] == '*') name_len--;
    const char *value = http_decode_component(req->arena, raw[i], raw_len[i], 0);
    if (value == NULL) return false;
    req->param_names[i] = arena_strndup(req->arena, names[i], name_len);
    req->param_values[i] = value;
  }
  req->param_count = nparams;
  return true;
}

static bool method_matches(const char *route_method, const char *method) {
  if (strcmp(route_method, "*") == 0) return true;
  if (strcmp(route_method, method) == 0) return true;
  /* HEAD is served by the GET handler (the server drops the body). */
  return strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0;
}

enum route_match router_match(const struct router *r, struct http_request *req,
                              const struct route **out, char *allow,
                              size_t allow_size) {
  bool path_matched = false;
  size_t allow_len = 0;
  if (allow != NULL && allow_size > 0) allow[0] = '\0';

  /* Ignore one trailing slash: "/products/" is "/products". */
  const char *path = req->path;
  size_t len = strlen(path);
  if (len > 1 && path[len - 1] == '/') {
    path = arena_strndup(req->arena, path, len - 1);
    if (path == NULL) return ROUTE_NOT_FOUND;
  }

  for (size_t t = 0; t < r->table_count; t++) {
    for (size_t i = 0; i < r->table_lens[t]; i++) {
      const struct route *route = &r->tables[t][i];
      if (!match_pattern(route->pattern, path, req)) continue;
      if (method_matches(route->method, req->method)) {
        req->route = route->pattern;
        req->route_data = route->data;
        req->access = route->access;
        *out = route;
        return ROUTE_FOUND;
      }
      path_matched = true;
      if (allow != NULL && allow_len + strlen(route->method) + 3 < allow_size &&
          strstr(allow, route->method) == NULL) {
        allow_len += (size_t)snprintf(allow + allow_len, allow_size - allow_len,
                                      "%s%s", allow_len ? ", " : "",
                                      route->method);
      }
    }
  }
  req->param_count = 0;
  return path_matched ? ROUTE_METHOD_NOT_ALLOWED : ROUTE_NOT_FOUND;
}

void router_dispatch(const struct router *r, struct http_request *req,
                     struct http_response *res) {
  const struct route *route = NULL;
  char allow[128];
  switch (router_match(r, req, &route, allow, sizeof allow)) {
  case ROUTE_FOUND: {
    enum api_error denied = auth_authorize(req);
    if (denied != API_OK) {
      http_reply_error(res, req, denied,
                       denied == API_AUTHORIZATION_ERROR
                           ? "your role may not use this resource"
                           : "a valid access token is required",
                       NULL);
      return;
    }
    route->handler(req, res);
    if (res->status == 0) {
      log_error("handler for %s %s produced no response", req->method,
                route->pattern);
      http_reply_error(res, req, API_INTERNAL_ERROR, "internal error", NULL);
    }
    return;
  }
  case ROUTE_METHOD_NOT_ALLOWED:
    req->route = "method_not_allowed";
    http_reply_error(res, req, API_METHOD_NOT_ALLOWED,
                     "method not allowed on this resource", allow);
    http_response_header(res, "Allow", allow);
    return;
  case ROUTE_NOT_FOUND:
    req->route = "unmatched";
    http_reply_error(res, req, API_NOT_FOUND, "no such resource", NULL);
    return;
  }
}
