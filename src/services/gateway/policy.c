/* policy.c - the gateway's pure decisions: rate classes and their budgets,
 * which address a client is, CORS origins, what Cache-Control allows a
 * shared cache, MIME types and safe static paths. No I/O, no state: the
 * unit tests (tests/unit/test_gateway_policy.c) call these directly.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kit/err.h"
#include "services/gateway/gateway.h"

static const char *const class_names[RATE_CLASS_COUNT] = {
    [RATE_READ] = "read",     [RATE_WRITE] = "write",
    [RATE_AUTH] = "auth",     [RATE_WEBHOOK] = "webhook",
    [RATE_HEALTH] = "health", [RATE_STATIC] = "static",
    [RATE_DOCS] = "docs",
};

const char *rate_class_name(enum rate_class c) {
  return (unsigned)c < RATE_CLASS_COUNT ? class_names[c] : "unknown";
}

enum rate_class rate_class_lookup(const char *name, size_t len) {
  for (int i = 0; i < RATE_CLASS_COUNT; i++) {
    if (strlen(class_names[i]) == len &&
        strncmp(class_names[i], name, len) == 0)
      return (enum rate_class)i;
  }
  return RATE_CLASS_COUNT;
}

enum rate_class edge_rate_class(const struct edge_route *r,
                                const char *method) {
  if (r->rate_class != RATE_BY_METHOD) return r->rate_class;
  bool read = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
  return read ? RATE_READ : RATE_WRITE;
}

/* Trims spaces around s[0..*len) in place of the pointer and length. */
static void trim(const char **s, size_t *len) {
  while (*len > 0 && isspace((unsigned char)**s))
    (*s)++, (*len)--;
  while (*len > 0 && isspace((unsigned char)(*s)[*len - 1]))
    (*len)--;
}

int policy_parse_limits(const char *spec, long limits[RATE_CLASS_COUNT],
                        char *why, size_t why_size) {
  const char *p = spec;
  while (p != NULL && *p != '\0') {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    const char *item = p;
    trim(&item, &len);
    p = comma ? comma + 1 : NULL;
    if (len == 0) continue;
    const char *eq = memchr(item, '=', len);
    if (eq == NULL) {
      snprintf(why, why_size, "'%.*s' is not class=N", (int)len, item);
      return KIT_INVALID;
    }
    const char *name = item;
    size_t raw_name_len = (size_t)(eq - item), name_len = raw_name_len;
    trim(&name, &name_len);
    enum rate_class c = rate_class_lookup(name, name_len);
    if (c == RATE_CLASS_COUNT) {
      snprintf(why, why_size, "unknown rate class '%.*s'", (int)name_len, name);
      return KIT_INVALID;
    }
    char number[32];
    size_t num_len = len - raw_name_len - 1;
    const char *num = eq + 1;
    trim(&num, &num_len);
    if (num_len == 0 || num_len >= sizeof number) {
      snprintf(why, why_size, "class '%s' needs a number", class_names[c]);
      return KIT_INVALID;
    }
    memcpy(number, num, num_len);
    number[num_len] = '\0';
    char *end = NULL;
    errno = 0;
    long v = strtol(number, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1 || v > 100000000) {
      snprintf(why, why_size, "class '%s': want 1 to 100000000, got '%s'",
               class_names[c], number);
      return KIT_INVALID;
    }
    limits[c] = v;
  }
  return KIT_OK;
}

/* true when the comma-separated list has an item equal to s (spaces around
 * items ignored). */
static bool list_has(const char *list, const char *s, bool star_matches) {
  if (list == NULL || s == NULL || *s == '\0') return false;
  size_t slen = strlen(s);
  const char *p = list;
  while (*p != '\0') {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    const char *item = p;
    trim(&item, &len);
    if (star_matches && len == 1 && item[0] == '*') return true;
    if (len == slen && strncmp(item, s, len) == 0) return true;
    if (comma == NULL) break;
    p = comma + 1;
  }
  return false;
}

bool policy_origin_allowed(const char *allowed, const char *origin) {
  return list_has(allowed, origin, true);
}

bool policy_list_contains(const char *list, const char *ip) {
  return list_has(list, ip, false);
}

void policy_client_ip(const char *peer, const char *xff, const char *trusted,
                      char *out, size_t size) {
  snprintf(out, size, "%s", peer ? peer : "");
  if (xff == NULL || trusted == NULL || trusted[0] == '\0' ||
      !policy_list_contains(trusted, peer))
    return;
  /* Walk X-Forwarded-For from the right: each entry was appended by the hop
   * before; stop at the first one that is not our own proxy. */
  size_t end = strlen(xff);
  while (end > 0) {
    size_t start = end;
    while (start > 0 && xff[start - 1] != ',')
      start--;
    const char *item = xff + start;
    size_t len = end - start;
    trim(&item, &len);
    char addr[64];
    if (len > 0 && len < sizeof addr) {
      memcpy(addr, item, len);
      addr[len] = '\0';
      snprintf(out, size, "%s", addr);
      if (!policy_list_contains(trusted, addr)) return;
    }
    end = start > 0 ? start - 1 : 0;
  }
}

/* Reads the number after "name=" (optionally quoted); -1 when malformed. */
static long directive_seconds(const char *value, size_t len) {
  if (len >= 2 && value[0] == '"' && value[len - 1] == '"') value++, len -= 2;
  if (len == 0 || len > 10) return -1;
  long v = 0;
  for (size_t i = 0; i < len; i++) {
    if (!isdigit((unsigned char)value[i])) return -1;
    v = v * 10 + (value[i] - '0');
  }
  return v;
}

long policy_shared_max_age(const char *cc) {
  if (cc == NULL) return -1;
  long max_age = -1, s_maxage = -1;
  const char *p = cc;
  while (*p != '\0') {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    const char *item = p;
    trim(&item, &len);
    const char *eq = memchr(item, '=', len);
    size_t name_len = eq ? (size_t)(eq - item) : len;
    const char *value = eq ? eq + 1 : "";
    size_t value_len = eq ? len - name_len - 1 : 0;
#define IS(name)                                                               \
  (name_len == sizeof name - 1 && strncasecmp(item, name, name_len) == 0)
    if (IS("no-store") || IS("no-cache") || IS("private")) return -1;
    if (IS("max-age")) max_age = directive_seconds(value, value_len);
    if (IS("s-maxage")) s_maxage = directive_seconds(value, value_len);
#undef IS
    if (comma == NULL) break;
    p = comma + 1;
  }
  long age = s_maxage >= 0 ? s_maxage : max_age;
  return age > 0 ? age : -1;
}

const char *policy_mime_type(const char *name) {
  static const struct {
    const char *ext, *type;
  } types[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".yaml", "application/yaml; charset=utf-8"},
      {".yml", "application/yaml; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".webmanifest", "application/manifest+json"},
  };
  const char *slash = strrchr(name, '/');
  const char *dot = strrchr(slash ? slash : name, '.');
  if (dot != NULL) {
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
      if (strcasecmp(dot, types[i].ext) == 0) return types[i].type;
  }
  return "application/octet-stream";
}

bool policy_path_safe(const char *path) {
  if (path == NULL || path[0] != '/') return false;
  for (const char *c = path; *c != '\0'; c++) {
    if (*c == '\\' || (unsigned char)*c < 0x20 || *c == 0x7f) return false;
  }
  const char *seg = path;
  while (*seg == '/') {
    seg++;
    size_t len = strcspn(seg, "/");
    if ((len == 1 && seg[0] == '.') ||
        (len == 2 && seg[0] == '.' && seg[1] == '.'))
      return false;
    seg += len;
  }
  return true;
}

bool policy_wants_html(const char *accept) {
  return accept != NULL && strstr(accept, "text/html") != NULL;
}
