/* reindex.c - the rebuild of the index from the catalog (see tools.h). The
 * search service never reads the product schema: it pages through the
 * product service's public list (active products, newest first, 100 a
 * page) and its category tree, like any other client, and the products'
 * price lists through the internal batch call. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "kit/log.h"
#include "services/search/backend.h"
#include "services/search/internal.h"
#include "services/search/store.h"
#include "services/search/tools.h"

#define PAGE 100
#define PAGE_TIMEOUT_MS 15000

static void now_rfc3339(char out[40]) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm tm;
  time_t s = tv.tv_sec;
  gmtime_r(&s, &tm);
  char base[32];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 40, "%s.%06ldZ", base, (long)tv.tv_usec);
}

/* Percent-encodes s (a cursor) for a query string. */
static void encode(const char *s, char *out, size_t size) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p && n + 4 < size;
       p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
        (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' ||
        *p == '~') {
      out[n++] = (char)*p;
    } else {
      out[n++] = '%';
      out[n++] = hex[*p >> 4];
      out[n++] = hex[*p & 15];
    }
  }
  out[n] = '\0';
}

/* The catalog's public list does not carry the products' price lists in
 * other currencies (product events do): one internal batch call per page
 * sets each item's `prices`, so a reindex rebuilds every document's
 * per-currency prices, currencies added since it was indexed included. */
static int attach_prices(struct client *client, json_t *items) {
  json_t *ids = json_array();
  size_t i;
  json_t *it;
  json_array_foreach(items, i, it) {
    json_t *id = json_object_get(it, "id");
    if (json_is_string(id)) json_array_append(ids, id);
  }
  json_t *req = json_pack("{s:o, s:b}", "ids", ids, "with_prices", true);
  char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
  json_decref(req);
  if (text == NULL) return KIT_NOMEM;
  struct client_request creq = {.method = "POST",
                                .path = "/internal/products/batch",
                                .body = text,
                                .body_len = strlen(text),
                                .timeout_ms = PAGE_TIMEOUT_MS,
                                .retries = 2};
  struct http_response cres;
  int rc = client_call(client, SVC_PRODUCT, &creq, &cres);
  free(text);
  json_t *body = NULL;
  if (rc == KIT_OK && cres.status == 200)
    body = json_loadb(cres.body, cres.body_len, 0, NULL);
  http_response_clear(&cres);
  json_t *found = json_object_get(body, "items");
  if (!json_is_array(found)) {
    json_decref(body);
    return KIT_UNAVAILABLE;
  }
  json_array_foreach(items, i, it) {
    const char *id = json_string_value(json_object_get(it, "id"));
    size_t j;
    json_t *f;
    json_array_foreach(found, j, f) {
      const char *fid = json_string_value(json_object_get(f, "id"));
      json_t *prices = json_object_get(f, "prices");
      if (id != NULL && fid != NULL && strcmp(id, fid) == 0 &&
          json_is_array(prices)) {
        json_object_set(it, "prices", prices);
        break;
      }
    }
  }
  json_decref(body);
  return KIT_OK;
}

struct categories_arg {
  const struct search_backend *b;
  struct client *client;
};

static int categories_tx(struct db_conn *c, void *arg) {
  struct categories_arg *ca = arg;
  return search_load_categories(ca->b, c, ca->client);
}

int search_reindex(const struct search_backend *b, struct db_pool *pool,
                   struct client *client, const char *job_id,
                   search_progress_fn progress, void *arg, int64_t *indexed,
                   char *why, size_t why_size) {
  char started[40];
  now_rfc3339(started);
  *indexed = 0;
  int64_t total = 0;
  sstore_document_count(pool, &total); /* an estimate until the end */

  struct categories_arg ca = {b, client};
  if (db_transaction(pool, DB_READ_COMMITTED, categories_tx, &ca) < 0) {
    snprintf(why, why_size, "could not read the catalog's categories");
    return KIT_UNAVAILABLE;
  }
  if (b->bulk_begin(pool) < 0) {
    snprintf(why, why_size, "could not prepare the staging area");
    return KIT_UNAVAILABLE;
  }
  char cursor[512] = "";
  int64_t done = 0;
  for (;;) {
    char path[700], enc[600];
    encode(cursor, enc, sizeof enc);
    snprintf(path, sizeof path, "/api/v1/products?limit=%d&sort=newest%s%s",
             PAGE, cursor[0] ? "&cursor=" : "", enc);
    struct client_request creq = {
        .method = "GET", .path = path, .timeout_ms = PAGE_TIMEOUT_MS};
    struct http_response cres;
    int rc = client_call(client, SVC_PRODUCT, &creq, &cres);
    json_t *body = NULL;
    if (rc == KIT_OK && cres.status == 200)
      body = json_loadb(cres.body, cres.body_len, 0, NULL);
    unsigned status = cres.status;
    http_response_clear(&cres);
    json_t *items = json_object_get(body, "items");
    if (!json_is_array(items)) {
      json_decref(body);
      snprintf(why, why_size,
               "the product service did not list products "
               "(HTTP %u)",
               status);
      return KIT_UNAVAILABLE;
    }
    size_t n = json_array_size(items);
    if (n > 0 && attach_prices(client, items) != KIT_OK) {
      json_decref(body);
      snprintf(why, why_size,
               "the product service did not answer the price lists");
      return KIT_UNAVAILABLE;
    }
    if (n > 0) {
      char *text = json_dumps(items, JSON_COMPACT);
      int prc = text ? b->bulk_page(pool, text) : DB_HARD_ERROR;
      free(text);
      if (prc < 0) {
        json_decref(body);
        snprintf(why, why_size, "could not stage a page of products");
        return KIT_UNAVAILABLE;
      }
    }
    done += (int64_t)n;
    if (done > total) total = done;
    const char *next = json_string_value(json_object_get(body, "next_cursor"));
    bool more = next != NULL && n > 0 && strlen(next) < sizeof cursor;
    if (more) snprintf(cursor, sizeof cursor, "%s", next);
    json_decref(body);
    if (!more) total = done;
    if (job_id != NULL) sstore_job_progress(pool, job_id, done, total);
    if (progress != NULL) progress(arg, done, total);
    if (!more) break;
  }
  if (b->bulk_commit(pool, started, indexed) < 0) {
    snprintf(why, why_size, "could not swap the new index in");
    return KIT_UNAVAILABLE;
  }
  return KIT_OK;
}

int search_reindex_tool(const struct config *cfg, search_progress_fn progress,
                        void *arg, int64_t *indexed) {
  char schema[64];
  service_schema_name(SVC_SEARCH, schema, sizeof schema);
  struct db_pool *pool = NULL;
  if (db_pool_open(&pool, cfg->database_url, schema, 2, search_statements,
                   SEARCH_STATEMENT_COUNT) != KIT_OK) {
    fprintf(stderr, "search reindex: cannot open the database pool\n");
    return KIT_UNAVAILABLE;
  }
  struct client *client = client_create(cfg);
  if (client == NULL) {
    db_pool_close(pool);
    return KIT_NOMEM;
  }
  char why[160] = "";
  int rc = search_reindex(&search_backend_pg, pool, client, NULL, progress, arg,
                          indexed, why, sizeof why);
  if (rc != KIT_OK) fprintf(stderr, "search reindex: %s\n", why);
  client_destroy(client);
  db_pool_close(pool);
  return rc;
}
