/* static.c - what the gateway answers itself: the web apps, the API docs,
 * its own probes, and 404 for anything else.
 *
 * Web apps: the storefront at / and the admin dashboard at /admin/, from the
 * build output (SHOPSPHERE_WEB_ROOT, web/dist) or, until it exists, the
 * committed placeholder (web/placeholder). A path that is no file falls back
 * to the app's index.html when the client asks for an HTML page (a browser
 * navigating to a client-side route such as /products/42); API clients get
 * the 404 envelope. Every file carries an ETag (size and modification time)
 * honoured by If-None-Match, and Cache-Control: hashed build assets under
 * /assets/ are immutable for a year, pages must be revalidated.
 *
 * Docs: /docs is Swagger UI (from node_modules/swagger-ui-dist, installed by
 * scripts/web-deps.sh) rendering /docs/openapi.yaml (api/openapi.yaml).
 *
 * The catch-all route of the gateway's table lands here, and it comes before
 * the runtime's /healthz, /readyz and /metrics, so those are handed to the
 * runtime's handlers from here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kit/log.h"
#include "services/gateway/gateway.h"

#define MAX_FILE_BYTES (64L << 20)

static bool starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_regular(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Serves file at fs_path with the given Cache-Control. Answers 304 when the
 * client's If-None-Match names the current ETag. false when the file cannot
 * be read (res untouched). */
/* The web apps' and the docs' pages: scripts, styles and calls from this
 * origin only, never inside another site's frame (clickjacking), no
 * referrer beyond the origin. Styles may be inline (the apps set style
 * attributes); scripts may not. */
static void html_policy_headers(struct http_response *res) {
  http_response_header(
      res, "Content-Security-Policy",
      "default-src 'self'; script-src 'self'; style-src 'self' "
      "'unsafe-inline'; img-src 'self' data: https:; connect-src 'self'; "
      "object-src 'none'; base-uri 'self'; form-action 'self'; "
      "frame-ancestors 'none'");
  http_response_header(res, "X-Frame-Options", "DENY");
  http_response_header(res, "Referrer-Policy",
                       "strict-origin-when-cross-origin");
}

static bool serve_file(struct http_request *req, struct http_response *res,
                       const char *fs_path, const char *cache_control) {
  bool ok = false;
  char *body = NULL;
  int fd = open(fs_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_size > MAX_FILE_BYTES)
    goto cleanup;

  char etag[64];
  snprintf(etag, sizeof etag, "\"%llx-%llx%09lx\"",
           (unsigned long long)st.st_size,
           (unsigned long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
  const char *inm = http_header(req, "If-None-Match");
  if (inm != NULL && (strstr(inm, etag) != NULL || strcmp(inm, "*") == 0)) {
    http_reply(res, 304, "", "", 0);
    http_response_header(res, "ETag", etag);
    http_response_header(res, "Cache-Control", cache_control);
    ok = true;
    goto cleanup;
  }

  size_t size = (size_t)st.st_size;
  body = malloc(size + 1);
  if (body == NULL) goto cleanup;
  size_t got = 0;
  while (got < size) {
    ssize_t n = read(fd, body + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  if (got != size) goto cleanup;
  body[size] = '\0';
  if (http_reply_take(res, 200, policy_mime_type(fs_path), body, size) !=
      KIT_OK)
    goto cleanup;
  body = NULL; /* the response owns it */
  http_response_header(res, "ETag", etag);
  http_response_header(res, "Cache-Control", cache_control);
  http_response_header(res, "X-Content-Type-Options", "nosniff");
  if (strncmp(policy_mime_type(fs_path), "text/html", 9) == 0)
    html_policy_headers(res);
  ok = true;

cleanup:
  free(body);
  close(fd);
  return ok;
}

/* The gateway's own /healthz, /readyz, /metrics (the runtime's handlers). */
static bool serve_probe(struct http_request *req, struct http_response *res) {
  if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
    return false;
  for (size_t i = 0; i < service_health_route_count; i++) {
    if (strcmp(service_health_routes[i].pattern, req->path) == 0) {
      req->route = service_health_routes[i].pattern;
      service_health_routes[i].handler(req, res);
      return true;
    }
  }
  return false;
}

static const char docs_page[] =
    "<!doctype html>\n"
    "<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>ShopSphere API</title>\n"
    "<link rel=\"stylesheet\" href=\"/docs/swagger-ui/swagger-ui.css\">\n"
    "</head>\n<body>\n"
    "<div id=\"swagger-ui\" data-spec=\"/docs/openapi.yaml\"></div>\n"
    "<script src=\"/docs/swagger-ui/swagger-ui-bundle.js\"></script>\n"
    "<script src=\"/docs/init.js\"></script>\n"
    "</body>\n</html>\n";

/* The page's one script of its own, a file so that the content security
 * policy needs no inline script. */
static const char docs_init[] =
    "window.ui = SwaggerUIBundle({url: document.getElementById('swagger-ui')"
    ".dataset.spec, dom_id: '#swagger-ui', deepLinking: true});\n";

static const char docs_missing_page[] =
    "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
    "<title>ShopSphere API</title></head>\n<body>\n"
    "<h1>ShopSphere API</h1>\n"
    "<p>Swagger UI is not installed here (run <code>scripts/web-deps.sh</code>"
    "). The OpenAPI document itself is at "
    "<a href=\"/docs/openapi.yaml\">/docs/openapi.yaml</a>.</p>\n"
    "</body>\n</html>\n";

static void serve_docs(struct http_request *req, struct http_response *res,
                       const char *path) {
  struct gateway *gw = req->svc->state;
  if (strcmp(path, "/docs") == 0 || strcmp(path, "/docs/") == 0 ||
      strcmp(path, "/docs/index.html") == 0) {
    char bundle[1100];
    snprintf(bundle, sizeof bundle, "%s/swagger-ui-bundle.js", gw->swagger_dir);
    const char *page = is_regular(bundle) ? docs_page : docs_missing_page;
    http_reply(res, 200, "text/html; charset=utf-8", page, strlen(page));
    http_response_header(res, "Cache-Control", "no-cache");
    html_policy_headers(res);
    return;
  }
  if (strcmp(path, "/docs/init.js") == 0) {
    http_reply(res, 200, "text/javascript; charset=utf-8", docs_init,
               strlen(docs_init));
    http_response_header(res, "Cache-Control", "no-cache");
    return;
  }
  if (strcmp(path, "/docs/openapi.yaml") == 0) {
    if (!serve_file(req, res, gw->spec_path, "no-cache"))
      http_reply_error(res, req, API_NOT_FOUND, "the API document is missing",
                       NULL);
    return;
  }
  if (starts_with(path, "/docs/swagger-ui/")) {
    const char *name = path + strlen("/docs/swagger-ui/");
    char fs[2200];
    snprintf(fs, sizeof fs, "%s/%s", gw->swagger_dir, name);
    if (strchr(name, '/') == NULL && name[0] != '\0' &&
        serve_file(req, res, fs, "public, max-age=3600"))
      return;
  }
  http_reply_error(res, req, API_NOT_FOUND, "no such document", NULL);
}

/* The directory the web apps come from: the build, or the placeholder. */
static const char *web_root(const struct http_request *req) {
  const struct config *cfg = req->svc->cfg;
  char index[CONFIG_URL_MAX + 16];
  snprintf(index, sizeof index, "%s/index.html", cfg->web_root);
  return is_regular(index) ? cfg->web_root : cfg->web_placeholder;
}

bool static_serve_graphiql(struct http_request *req,
                           struct http_response *res) {
  char fs[CONFIG_URL_MAX + 32];
  snprintf(fs, sizeof fs, "%s/graphiql/index.html", req->svc->cfg->web_root);
  return serve_file(req, res, fs, "no-cache");
}

static void serve_web(struct http_request *req, struct http_response *res,
                      const char *path) {
  const char *root = web_root(req);
  char fs[CONFIG_URL_MAX + 2048];
  int n = snprintf(fs, sizeof fs, "%s%s", root, path);
  if (n < 0 || (size_t)n >= sizeof fs) goto not_found;
  if (is_dir(fs)) {
    /* "/admin" → "/admin/" first, so the app's relative URLs resolve. */
    if (path[strlen(path) - 1] != '/') {
      http_reply(res, 308, "text/plain; charset=utf-8", "", 0);
      const char *loc =
          req->query[0] ? arena_printf(req->arena, "%s/?%s", path, req->query)
                        : arena_printf(req->arena, "%s/", path);
      http_response_header(res, "Location", loc ? loc : "/");
      return;
    }
    snprintf(fs, sizeof fs, "%s%sindex.html", root, path);
  }
  bool immutable =
      starts_with(path, "/assets/") || starts_with(path, "/admin/assets/");
  bool html = strstr(fs, ".html") != NULL;
  const char *cc = immutable ? "public, max-age=31536000, immutable"
                   : html    ? "no-cache"
                             : "public, max-age=300";
  if (serve_file(req, res, fs, cc)) return;

  /* SPA fallback: a browser asking for a page of an app gets the app. */
  if (policy_wants_html(http_header(req, "Accept"))) {
    bool admin = strcmp(path, "/admin") == 0 || starts_with(path, "/admin/");
    snprintf(fs, sizeof fs, "%s/admin/index.html", root);
    if (admin && serve_file(req, res, fs, "no-cache")) return;
    snprintf(fs, sizeof fs, "%s/index.html", root);
    if (serve_file(req, res, fs, "no-cache")) return;
  }
not_found:
  http_reply_error(res, req, API_NOT_FOUND, "no such resource", NULL);
}

void static_handle(struct http_request *req, struct http_response *res) {
  if (serve_probe(req, res)) return;

  bool api = starts_with(req->path, "/api/") ||
             starts_with(req->path, "/internal/") ||
             starts_with(req->path, "/.well-known/");
  bool docs =
      strcmp(req->path, "/docs") == 0 || starts_with(req->path, "/docs/");
  bool read =
      strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
  struct edge_ctx ctx;
  edge_begin(req, &ctx,
             api    ? (read ? RATE_READ : RATE_WRITE)
             : docs ? RATE_DOCS
                    : RATE_STATIC);
  if (!edge_admit(req, res, &ctx)) goto finish;

  if (api) {
    /* A path the table knows with a method it does not: 405, as a service
     * would answer; anything else is unknown. */
    struct gateway *gw = req->svc->state;
    const struct route *route = NULL;
    char allow[128];
    if (router_match(&gw->api_router, req, &route, allow, sizeof allow) ==
        ROUTE_METHOD_NOT_ALLOWED) {
      req->route = "method_not_allowed";
      http_reply_error(res, req, API_METHOD_NOT_ALLOWED,
                       "method not allowed on this resource", allow);
      http_response_header(res, "Allow", allow);
      goto finish;
    }
    req->route = "unmatched";
    http_reply_error(res, req, API_NOT_FOUND, "no such resource", NULL);
    goto finish;
  }
  if (!read) {
    req->route = "method_not_allowed";
    http_reply_error(res, req, API_METHOD_NOT_ALLOWED,
                     "only GET and HEAD are served here", "GET, HEAD");
    http_response_header(res, "Allow", "GET, HEAD");
    goto finish;
  }
  size_t len = strlen(req->path);
  const char *path = http_decode_component(req->arena, req->path, len, 0);
  if (path == NULL || !policy_path_safe(path)) {
    req->route = "unmatched";
    http_reply_error(res, req, API_NOT_FOUND, "no such resource", NULL);
    goto finish;
  }
  req->route = docs ? "/docs" : "/ (web)";
  if (docs)
    serve_docs(req, res, path);
  else
    serve_web(req, res, path);
finish:
  edge_finish(req, res, &ctx);
}
