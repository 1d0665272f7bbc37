/* handlers_categories.c - the category tree: GET /categories (cached) and
 * admin POST /categories. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/audit.h"
#include "kit/uuid.h"
#include "services/product/domain.h"
#include "services/product/product.h"

/* Nests rows (ordered by path, so a parent precedes its children) into a
 * tree of {..., children: []}. */
static json_t *category_tree(const struct category_row *rows, int n) {
  json_t *roots = json_array();
  json_t **nodes = calloc((size_t)(n > 0 ? n : 1), sizeof *nodes);
  if (roots == NULL || nodes == NULL) {
    free(nodes);
    json_decref(roots);
    return NULL;
  }
  for (int i = 0; i < n; i++) {
    nodes[i] = product_render_category(&rows[i]);
    json_object_set_new(nodes[i], "children", json_array());
    json_t *parent = NULL;
    for (int j = 0; j < i && rows[i].parent_id[0]; j++)
      if (strcmp(rows[j].id, rows[i].parent_id) == 0) parent = nodes[j];
    json_array_append(parent ? json_object_get(parent, "children") : roots,
                      nodes[i]);
  }
  for (int i = 0; i < n; i++)
    json_decref(nodes[i]);
  free(nodes);
  return roots;
}

void handle_product_category_list(struct http_request *req,
                                  struct http_response *res) {
  struct product_state *st = product_state(req);
  if (pcache_reply(st->cache, "C|tree", res)) {
    product_cache_headers(res, req, false);
    return;
  }
  unsigned long generation = pcache_generation(st->cache);
  struct db_conn *conn = db_acquire(req->svc->db, 3000);
  if (conn == NULL) {
    product_reply_db_failure(res, req, DB_UNAVAILABLE);
    return;
  }
  struct category_row *rows = NULL;
  int n = pstore_category_list(conn, req->arena, &rows);
  db_release(req->svc->db, conn);
  if (n < 0) {
    product_reply_db_failure(res, req, n);
    return;
  }
  json_t *tree = category_tree(rows, n);
  json_t *body = tree ? json_pack("{s:o}", "items", tree) : NULL;
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (text == NULL) {
    product_reply_json(res, 500, NULL);
    return;
  }
  size_t len = strlen(text);
  pcache_put(st->cache, "C|tree", text, len, generation);
  http_reply_take(res, 200, "application/json", text, len);
  product_cache_headers(res, req, true);
}

struct category_tx {
  struct http_request *req;
  struct arena *arena;
  const char *id, *slug, *name, *parent_id;
  struct category_row out;
};

static int category_body(struct db_conn *c, void *arg) {
  struct category_tx *t = arg;
  const char *path = t->slug;
  if (t->parent_id != NULL) {
    struct category_row parent;
    int rc = pstore_category_get(c, t->arena, t->parent_id, &parent);
    if (rc <= 0) return rc < 0 ? rc : OUT_INVALID;
    path = arena_printf(t->arena, "%s/%s", parent.path, t->slug);
    if (path == NULL) return DB_HARD_ERROR;
  }
  int rc = pstore_category_insert(c, t->arena, t->id, t->slug, t->name,
                                  t->parent_id, path, &t->out);
  if (rc <= 0) return rc < 0 ? rc : OUT_CONFLICT;
  json_t *after = product_render_category(&t->out);
  rc = audit_record(c, t->req, "category.create", "category", t->id, NULL,
                    after);
  json_decref(after);
  return rc;
}

void handle_product_category_create(struct http_request *req,
                                    struct http_response *res) {
  const char *name = NULL, *slug = NULL, *parent_id = NULL;
  const struct json_field fields[] = {
      {"name", JF_STRING, true, 1, 100, &name},
      {"slug", JF_STRING, false, 1, CATEGORY_SLUG_MAX, &slug},
      {"parent_id", JF_UUID, false, 0, 0, &parent_id, NULL, NULL, true},
  };
  struct json_doc *doc = NULL;
  struct json_error err;
  if (json_parse_body(req->body, req->body_len, fields,
                      sizeof fields / sizeof fields[0], true, req->arena, &doc,
                      &err) != KIT_OK) {
    http_reply_json_error(res, req, &err);
    goto cleanup;
  }
  char made[CATEGORY_SLUG_MAX + 1];
  if (slug == NULL) {
    if (!product_category_slugify(name, made, sizeof made)) {
      http_reply_error(res, req, API_UNPROCESSABLE,
                       "name gives no usable slug: send one", "slug");
      goto cleanup;
    }
    slug = made;
  } else if (!product_category_slug_valid(slug)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "slug must be lowercase letters and digits joined by "
                     "single '-'",
                     "slug");
    goto cleanup;
  }
  char id[UUID_STR_LEN];
  uuid_v7(id);
  struct category_tx t = {.req = req,
                          .arena = req->arena,
                          .id = id,
                          .slug = slug,
                          .name = name,
                          .parent_id = parent_id};
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, category_body, &t);
  if (rc == OUT_INVALID)
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "parent_id is not a known category", "parent_id");
  else if (rc == OUT_CONFLICT)
    http_reply_error(res, req, API_CONFLICT,
                     "a category with this slug already exists", "slug");
  else if (rc < 0)
    product_reply_db_failure(res, req, rc);
  else {
    pcache_invalidate(product_state(req)->cache);
    product_reply_json(res, 201, product_render_category(&t.out));
  }
cleanup:
  json_doc_free(doc);
}
