/* handlers_categories.c - the category tree: GET /categories (cached) and
 * the admin's POST /categories, PATCH /categories/{id} (rename, new slug,
 * move) and DELETE /categories/{id} (only an unused one). Changes emit
 * category.updated / category.deleted (the search index keeps category
 * names in its documents) and audit.recorded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/audit.h"
#include "kit/bus.h"
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

/* audit.recorded for a category written: before and after as rendered
 * (NULL for a creation's before or a deletion's after). */
static int category_audit(struct db_conn *c, const struct http_request *req,
                          const char *action, const struct category_row *before,
                          const struct category_row *after) {
  json_t *b = before ? product_render_category(before) : NULL;
  json_t *a = after ? product_render_category(after) : NULL;
  int rc = audit_record(c, req, action, "category",
                        before ? before->id : after->id, b, a);
  json_decref(b);
  json_decref(a);
  return rc;
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
  return category_audit(c, t->req, "category.create", NULL, &t->out);
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

/* --- PATCH /categories/{id}: rename, new slug, move ----------------------
 */

#define CATEGORY_PATH_MAX 1024

/* category.updated / category.deleted: the category as rendered. */
static int category_emit(struct db_conn *c, const char *type,
                         const struct category_row *row) {
  json_t *data = product_render_category(row);
  if (data == NULL) return DB_HARD_ERROR;
  int rc = bus_emit(c, type, row->id, data);
  json_decref(data);
  return rc;
}

enum category_refusal {
  REFUSE_NONE = 0,
  REFUSE_NO_PARENT,    /* 422 parent_id */
  REFUSE_CYCLE,        /* 422 parent_id */
  REFUSE_TOO_DEEP,     /* 422 parent_id */
  REFUSE_SLUG_TAKEN,   /* 409 slug */
  REFUSE_HAS_CHILDREN, /* 409 */
  REFUSE_HAS_PRODUCTS, /* 409 */
};

struct category_edit_tx {
  struct http_request *req;
  struct arena *arena;
  const char *id;
  const char *name, *slug, *parent_id; /* NULL: keep */
  bool to_root;                        /* parent_id: null */
  struct category_row out;
  enum category_refusal refusal;
  int64_t count; /* children or products, for the 409's message */
};

/* The start of every edit: the category row, locked until the end of the
 * transaction (OUT_NOT_FOUND when there is none). A retried transaction
 * starts without the refusal of its previous attempt. */
static int category_locked(struct db_conn *c, struct category_edit_tx *t,
                           struct category_row *row) {
  t->refusal = REFUSE_NONE;
  int rc = pstore_category_lock(c, t->arena, t->id, row);
  return rc == 0 ? OUT_NOT_FOUND : rc;
}

static int category_edit_body(struct db_conn *c, void *arg) {
  struct category_edit_tx *t = arg;
  struct category_row before;
  int rc = category_locked(c, t, &before);
  if (rc < 0) return rc;

  struct category_row next = before;
  if (t->name != NULL) next.name = t->name;
  if (t->slug != NULL) next.slug = t->slug;
  char parent_path[CATEGORY_PATH_MAX];
  if (!product_category_parent_path(before.path, parent_path,
                                    sizeof parent_path))
    return DB_HARD_ERROR;
  if (t->to_root) {
    next.parent_id[0] = '\0';
    parent_path[0] = '\0';
  } else if (t->parent_id != NULL) {
    struct category_row parent;
    rc = pstore_category_get(c, t->arena, t->parent_id, &parent);
    if (rc < 0) return rc;
    if (rc == 0)
      t->refusal = REFUSE_NO_PARENT;
    else if (product_category_within(parent.path, before.path))
      t->refusal = REFUSE_CYCLE;
    if (t->refusal != REFUSE_NONE) return OUT_INVALID;
    snprintf(next.parent_id, sizeof next.parent_id, "%s", parent.id);
    snprintf(parent_path, sizeof parent_path, "%s", parent.path);
  }
  char path[CATEGORY_PATH_MAX];
  if (!product_category_path(parent_path, next.slug, path, sizeof path)) {
    t->refusal = REFUSE_TOO_DEEP;
    return OUT_INVALID;
  }
  next.path = path;
  if (strcmp(next.slug, before.slug) != 0) {
    struct category_row other;
    rc = pstore_category_by_slug(c, t->arena, next.slug, &other);
    if (rc < 0) return rc;
    if (rc > 0) {
      t->refusal = REFUSE_SLUG_TAKEN;
      return OUT_CONFLICT;
    }
  }
  bool same = strcmp(next.name, before.name) == 0 &&
              strcmp(next.path, before.path) == 0 &&
              strcmp(next.parent_id, before.parent_id) == 0;
  if (same) {
    t->out = before;
    return 0;
  }
  rc = pstore_category_update(c, t->arena, &next, &t->out);
  if (rc <= 0) return rc < 0 ? rc : OUT_NOT_FOUND;
  rc = category_emit(c, "category.updated", &t->out);
  if (rc < 0) return rc;
  if (strcmp(next.path, before.path) != 0) {
    /* every descendant's path moves with it, and says so */
    struct category_row *moved = NULL;
    int n = pstore_category_repath(c, t->arena, before.path, next.path, &moved);
    if (n < 0) return n;
    for (int i = 0; i < n; i++) {
      rc = category_emit(c, "category.updated", &moved[i]);
      if (rc < 0) return rc;
    }
  }
  json_t *b = product_render_category(&before);
  json_t *a = product_render_category(&t->out);
  rc = audit_record_changes(c, t->req, "category.update", "category", t->id, b,
                            a, NULL);
  json_decref(b);
  json_decref(a);
  return rc;
}

static const char *category_path_id(struct http_request *req,
                                    struct http_response *res) {
  char *id = arena_alloc(req->arena, UUID_STR_LEN);
  const char *raw = http_param(req, "id");
  if (id == NULL || raw == NULL || !uuid_normalize(raw, id)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such category", NULL);
    return NULL;
  }
  return id;
}

/* What each refusal answers; %lld is the count of the thing in the way. */
static const struct {
  enum api_error code;
  const char *message, *field;
} refusals[] = {
    [REFUSE_NO_PARENT] = {API_UNPROCESSABLE,
                          "parent_id is not a known category", "parent_id"},
    [REFUSE_CYCLE] = {API_UNPROCESSABLE,
                      "a category cannot move under itself or its own "
                      "subcategories",
                      "parent_id"},
    [REFUSE_TOO_DEEP] = {API_UNPROCESSABLE,
                         "the category's path would be too long", "parent_id"},
    [REFUSE_SLUG_TAKEN] = {API_CONFLICT,
                           "a category with this slug already exists", "slug"},
    [REFUSE_HAS_CHILDREN] = {API_CONFLICT,
                             "the category has %lld subcategories: delete or "
                             "move them first",
                             NULL},
    [REFUSE_HAS_PRODUCTS] = {API_CONFLICT,
                             "the category has %lld products (archived ones "
                             "count): move them first",
                             NULL},
};

static void category_refused(struct http_response *res,
                             struct http_request *req,
                             const struct category_edit_tx *t, int rc) {
  if (t->refusal != REFUSE_NONE) {
    char msg[160];
    /* the format is one of the table's constants */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(msg, sizeof msg, refusals[t->refusal].message,
             (long long)t->count);
#pragma GCC diagnostic pop
    http_reply_error(res, req, refusals[t->refusal].code, msg,
                     refusals[t->refusal].field);
  } else if (rc == OUT_NOT_FOUND) {
    http_reply_error(res, req, API_NOT_FOUND, "no such category", NULL);
  } else {
    product_reply_db_failure(res, req, rc);
  }
}

void handle_product_category_update(struct http_request *req,
                                    struct http_response *res) {
  struct category_edit_tx t = {.req = req, .arena = req->arena};
  bool has_parent = false;
  const struct json_field fields[] = {
      {"name", JF_STRING, false, 1, 100, &t.name},
      {"slug", JF_STRING, false, 1, CATEGORY_SLUG_MAX, &t.slug},
      {"parent_id", JF_UUID, false, 0, 0, &t.parent_id, &has_parent, NULL,
       true},
  };
  struct json_doc *doc = NULL;
  struct json_error err;
  t.id = category_path_id(req, res);
  if (t.id == NULL) goto cleanup;
  if (json_parse_body(req->body, req->body_len, fields,
                      sizeof fields / sizeof fields[0], true, req->arena, &doc,
                      &err) != KIT_OK) {
    http_reply_json_error(res, req, &err);
    goto cleanup;
  }
  /* parent_id: null makes it a root; absent keeps its parent */
  t.to_root = !has_parent &&
              json_is_null(json_object_get(json_doc_root(doc), "parent_id"));
  if (t.slug != NULL && !product_category_slug_valid(t.slug)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "slug must be lowercase letters and digits joined by "
                     "single '-'",
                     "slug");
    goto cleanup;
  }
  int rc =
      db_transaction(req->svc->db, DB_READ_COMMITTED, category_edit_body, &t);
  if (rc < 0) {
    category_refused(res, req, &t, rc);
    goto cleanup;
  }
  pcache_invalidate(product_state(req)->cache);
  product_reply_json(res, 200, product_render_category(&t.out));
cleanup:
  json_doc_free(doc);
}

/* --- DELETE /categories/{id}: only an unused one ------------------------ */

static int category_delete_body(struct db_conn *c, void *arg) {
  struct category_edit_tx *t = arg;
  struct category_row row;
  /* the row lock waits for writers that just referenced it (a product or
   * subcategory inserted meanwhile), so the counts below see them */
  int rc = category_locked(c, t, &row);
  if (rc < 0) return rc;
  int64_t children = 0, products = 0;
  rc = pstore_category_usage(c, t->id, &children, &products);
  if (rc < 0) return rc;
  if (children > 0 || products > 0) {
    t->refusal = children > 0 ? REFUSE_HAS_CHILDREN : REFUSE_HAS_PRODUCTS;
    t->count = children > 0 ? children : products;
    return OUT_CONFLICT;
  }
  rc = pstore_category_delete(c, t->id);
  if (rc <= 0) return rc < 0 ? rc : OUT_NOT_FOUND;
  rc = category_emit(c, "category.deleted", &row);
  if (rc < 0) return rc;
  return category_audit(c, t->req, "category.delete", &row, NULL);
}

void handle_product_category_delete(struct http_request *req,
                                    struct http_response *res) {
  struct category_edit_tx t = {.req = req, .arena = req->arena};
  t.id = category_path_id(req, res);
  if (t.id == NULL) return;
  int rc =
      db_transaction(req->svc->db, DB_READ_COMMITTED, category_delete_body, &t);
  if (rc < 0) {
    category_refused(res, req, &t, rc);
    return;
  }
  pcache_invalidate(product_state(req)->cache);
  http_reply(res, 204, "application/json", "", 0);
}
