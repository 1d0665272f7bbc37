/* handlers_reviews.c - the public side of reviews: a product's approved
 * reviews with its rating, writing one (buyers only, one per product),
 * reading, editing and deleting one's own, and helpful votes. */
#include <stdlib.h>
#include <string.h>

#include "kit/auth.h"
#include "kit/handler.h"
#include "kit/json.h"
#include "kit/log.h"
#include "kit/service.h"
#include "kit/uuid.h"
#include "services/review/handlers.h"

static bool auto_approve_on(const struct http_request *req) {
  const struct review_state *st = req->svc->state;
  return st != NULL && st->auto_approve;
}

/* true when s holds something besides white space. */
static bool has_text(const char *s) {
  for (; *s != '\0'; s++)
    if (strchr(" \t\r\n\f\v", *s) == NULL) return true;
  return false;
}

/* The normalized body, its flags and the duplicate check, for a new text. */
static int assess(struct db_conn *c, struct arena *a, const char *title,
                  const char *body, const char *product_id, const char *user_id,
                  const char *except_id, const char **body_key,
                  struct review_flags *flags) {
  char *key = arena_alloc(a, strlen(body) + 1);
  if (key == NULL) return DB_HARD_ERROR;
  review_normalize(body, key);
  *body_key = key;
  bool duplicate = false;
  if (strlen(key) >= REVIEW_DUPLICATE_MIN) {
    int rc = store_duplicate_exists(c, key, product_id, user_id, except_id);
    if (rc < 0) return rc;
    duplicate = rc > 0;
  }
  review_flags_compute(title, body, duplicate, flags);
  return 0;
}

/* --- GET /api/v1/products/{id}/reviews ------------------------------------ */

void review_handle_list(struct http_request *req, struct http_response *res) {
  char product_id[UUID_STR_LEN], cursor_id[UUID_STR_LEN] = "";
  if (!review_read_id(req, res, "id", product_id, "no such product")) return;
  enum review_sort sort = SORT_NEWEST;
  const char *sort_s = http_query(req, "sort");
  if (sort_s != NULL && !review_sort_parse(sort_s, &sort)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "sort must be newest, helpful, rating_desc or rating_asc",
                     "sort");
    return;
  }
  int limit;
  if (!review_read_limit(req, res, &limit)) return;
  const char *cursor_s = http_query(req, "cursor");
  int64_t cursor_key = 0;
  if (cursor_s != NULL &&
      !review_cursor_parse(cursor_s, &cursor_key, cursor_id)) {
    http_reply_error(res, req, API_UNPROCESSABLE, "cursor is not one we gave",
                     "cursor");
    return;
  }

  struct db_conn *conn = db_acquire(req->svc->db, 2000);
  if (conn == NULL) {
    review_reply_failure(req, res, DB_UNAVAILABLE, NULL);
    return;
  }
  struct rating_aggregate agg;
  struct review *rows = NULL;
  int rc = store_rating_get(conn, product_id, &agg);
  if (rc >= 0)
    rc = store_reviews_of_product(conn, req->arena, product_id, sort,
                                  cursor_s != NULL, cursor_key, cursor_id,
                                  limit + 1, &rows);
  db_release(req->svc->db, conn);
  if (rc < 0) {
    review_reply_failure(req, res, rc, NULL);
    return;
  }
  json_t *items = json_array();
  int shown = rc > limit ? limit : rc;
  for (int i = 0; i < shown; i++)
    json_array_append_new(items, review_render(&rows[i]));
  json_t *body = json_pack("{s:o}", "items", items);
  if (rc > limit) {
    const struct review *last = &rows[limit - 1];
    int64_t key = sort == SORT_HELPFUL  ? last->helpful_count
                  : sort == SORT_NEWEST ? 0
                                        : last->rating;
    char next[REVIEW_CURSOR_MAX];
    review_cursor_format(key, last->id, next);
    json_object_set_new(body, "next_cursor", json_string(next));
  } else {
    json_object_set_new(body, "next_cursor", json_null());
  }
  review_render_aggregate(body, &agg);
  http_reply_json(res, 200, body);
  json_decref(body);
}

/* --- POST /api/v1/products/{id}/reviews ----------------------------------- */

struct create_tx {
  struct arena *arena;
  struct review_new n;
  bool auto_approve;
  struct review out;
};

static int create_tx(struct db_conn *c, void *arg) {
  struct create_tx *t = arg;
  /* The buyer rule: only the purchases learned from order events. */
  int rc = store_is_buyer(c, t->n.user_id, t->n.product_id);
  if (rc <= 0) return rc < 0 ? rc : OUT_FORBIDDEN;
  t->n.verified_purchase = true;
  const char *name = NULL, *email = NULL;
  rc = store_author_get(c, t->arena, t->n.user_id, &name, &email);
  if (rc < 0) return rc;
  t->n.author_name = name != NULL ? name : "Customer";
  struct review_flags flags;
  rc = assess(c, t->arena, t->n.title, t->n.body, t->n.product_id, t->n.user_id,
              NULL, &t->n.body_key, &flags);
  if (rc < 0) return rc;
  t->n.flags_json = review_flags_json(t->arena, &flags);
  if (t->n.flags_json == NULL) return DB_HARD_ERROR;
  t->n.status =
      review_auto_approve(t->auto_approve, t->n.verified_purchase, &flags)
          ? REVIEW_APPROVED
          : REVIEW_PENDING;
  rc = store_review_insert(c, t->arena, &t->n, &t->out);
  if (rc <= 0) return rc < 0 ? rc : OUT_CONFLICT;
  if (t->out.status == REVIEW_APPROVED) {
    struct rating_aggregate agg;
    rc = store_rating_add(c, t->out.product_id, t->out.rating, 1, &agg);
    if (rc >= 0) rc = review_emit_approved(c, &t->out, &agg);
    if (rc < 0) return rc;
  }
  return review_emit_submitted(c, &t->out);
}

void review_handle_create(struct http_request *req, struct http_response *res) {
  char product_id[UUID_STR_LEN], id[UUID_STR_LEN];
  if (!review_read_id(req, res, "id", product_id, "no such product")) return;
  const struct principal *p = auth_principal(req);
  struct create_tx t = {.arena = req->arena};
  int64_t rating = 0;
  const struct json_field fields[] = {
      {"rating", JF_INT, true, 1, 5, &rating},
      {"title", JF_STRING, true, 1, REVIEW_TITLE_MAX, &t.n.title},
      {"body", JF_STRING, true, 1, REVIEW_BODY_MAX, &t.n.body},
  };
  struct json_doc *doc = NULL;
  if (!http_read_body(req, res, fields, 3, true, &doc)) goto cleanup;
  if (!has_text(t.n.title) || !has_text(t.n.body)) {
    const char *f = has_text(t.n.title) ? "body" : "title";
    http_reply_error(res, req, API_UNPROCESSABLE,
                     has_text(t.n.title) ? "body must not be blank"
                                         : "title must not be blank",
                     f);
    goto cleanup;
  }
  uuid_v7(id);
  t.n.id = id;
  t.n.product_id = product_id;
  t.n.user_id = p->user_id;
  t.n.rating = (int)rating;
  t.auto_approve = auto_approve_on(req);
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, create_tx, &t);
  if (rc == OUT_FORBIDDEN) {
    http_reply_error(res, req, API_AUTHORIZATION_ERROR,
                     "only a customer who bought this product may review it",
                     NULL);
    goto cleanup;
  }
  if (rc < 0) {
    review_reply_failure(req, res, rc,
                         "you have already reviewed this product; edit "
                         "that review instead");
    goto cleanup;
  }
  log_info("review %s of product %s submitted (%s)", t.out.id, t.out.product_id,
           review_status_name(t.out.status));
  json_t *body = review_render(&t.out);
  http_reply_json(res, 201, body);
  json_decref(body);
cleanup:
  json_doc_free(doc);
}

/* --- GET /api/v1/reviews/{id} --------------------------------------------- */

/* Approved reviews are public; the others only for their author and the
 * moderators. */
static bool may_see(const struct http_request *req, const struct review *r) {
  if (r->status == REVIEW_APPROVED || review_is_moderator(req)) return true;
  const struct principal *p = auth_principal(req);
  return p->authenticated && strcmp(p->user_id, r->user_id) == 0;
}

void review_handle_get(struct http_request *req, struct http_response *res) {
  char id[UUID_STR_LEN];
  if (!review_read_id(req, res, "id", id, "no such review")) return;
  struct db_conn *conn = db_acquire(req->svc->db, 2000);
  if (conn == NULL) {
    review_reply_failure(req, res, DB_UNAVAILABLE, NULL);
    return;
  }
  struct review r;
  int rc = store_review_get(conn, req->arena, id, false, &r);
  db_release(req->svc->db, conn);
  if (rc == 0 || (rc > 0 && !may_see(req, &r))) rc = OUT_NOT_FOUND;
  if (rc < 0) {
    review_reply_failure(req, res, rc, NULL);
    return;
  }
  json_t *body = review_render(&r);
  http_reply_json(res, 200, body);
  json_decref(body);
}

/* --- PATCH /api/v1/reviews/{id} ------------------------------------------- */

struct update_tx {
  struct arena *arena;
  const char *id, *user_id;
  bool has_rating, has_title, has_body, auto_approve;
  int64_t rating;
  const char *title, *body;
  struct review out;
};

/* An edit goes back to moderation (or is approved at once when the setting
 * allows): an approved review leaves the aggregate first. */
static int update_tx(struct db_conn *c, void *arg) {
  struct update_tx *t = arg;
  struct review old;
  int rc = store_review_get(c, t->arena, t->id, true, &old);
  if (rc <= 0) return rc < 0 ? rc : OUT_NOT_FOUND;
  if (strcmp(old.user_id, t->user_id) != 0) return OUT_NOT_FOUND;
  int rating = t->has_rating ? (int)t->rating : old.rating;
  const char *title = t->has_title ? t->title : old.title;
  const char *body = t->has_body ? t->body : old.body;
  const char *key = NULL;
  struct review_flags flags;
  rc = assess(c, t->arena, title, body, old.product_id, old.user_id, old.id,
              &key, &flags);
  if (rc < 0) return rc;
  const char *flags_json = review_flags_json(t->arena, &flags);
  if (flags_json == NULL) return DB_HARD_ERROR;
  enum review_status status =
      review_auto_approve(t->auto_approve, old.verified_purchase, &flags)
          ? REVIEW_APPROVED
          : REVIEW_PENDING;
  rc = store_review_update(c, t->arena, old.id, rating, title, body, key,
                           flags_json, status, &t->out);
  if (rc <= 0) return rc < 0 ? rc : OUT_NOT_FOUND;
  struct rating_aggregate agg;
  if (old.status == REVIEW_APPROVED) {
    rc = store_rating_add(c, old.product_id, old.rating, -1, &agg);
    if (rc < 0) return rc;
    if (status != REVIEW_APPROVED) {
      rc = review_emit_removed(c, &t->out, &agg);
      if (rc < 0) return rc;
    }
  }
  if (status == REVIEW_APPROVED) {
    rc = store_rating_add(c, old.product_id, rating, 1, &agg);
    if (rc >= 0) rc = review_emit_approved(c, &t->out, &agg);
    if (rc < 0) return rc;
  }
  return review_emit_submitted(c, &t->out);
}

void review_handle_update(struct http_request *req, struct http_response *res) {
  char id[UUID_STR_LEN];
  if (!review_read_id(req, res, "id", id, "no such review")) return;
  struct update_tx t = {.arena = req->arena, .id = id};
  const struct json_field fields[] = {
      {"rating", JF_INT, false, 1, 5, &t.rating, &t.has_rating},
      {"title", JF_STRING, false, 1, REVIEW_TITLE_MAX, &t.title, &t.has_title},
      {"body", JF_STRING, false, 1, REVIEW_BODY_MAX, &t.body, &t.has_body},
  };
  struct json_doc *doc = NULL;
  if (!http_read_body(req, res, fields, 3, true, &doc)) goto cleanup;
  if (!t.has_rating && !t.has_title && !t.has_body) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "give at least one of rating, title and body", NULL);
    goto cleanup;
  }
  if ((t.has_title && !has_text(t.title)) ||
      (t.has_body && !has_text(t.body))) {
    bool title_bad = t.has_title && !has_text(t.title);
    http_reply_error(res, req, API_UNPROCESSABLE,
                     title_bad ? "title must not be blank"
                               : "body must not be blank",
                     title_bad ? "title" : "body");
    goto cleanup;
  }
  t.user_id = auth_principal(req)->user_id;
  t.auto_approve = auto_approve_on(req);
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, update_tx, &t);
  if (rc < 0) {
    review_reply_failure(req, res, rc, NULL);
    goto cleanup;
  }
  json_t *body = review_render(&t.out);
  http_reply_json(res, 200, body);
  json_decref(body);
cleanup:
  json_doc_free(doc);
}

/* --- DELETE /api/v1/reviews/{id} ------------------------------------------ */

struct delete_tx {
  struct arena *arena;
  const struct http_request *req;
  const char *id;
};

static int delete_tx(struct db_conn *c, void *arg) {
  struct delete_tx *t = arg;
  const struct principal *p = auth_principal(t->req);
  bool admin = strcmp(p->role, "admin") == 0;
  struct review r;
  int rc = store_review_get(c, t->arena, t->id, true, &r);
  if (rc <= 0) return rc < 0 ? rc : OUT_NOT_FOUND;
  bool author = strcmp(r.user_id, p->user_id) == 0;
  if (!author && !admin) return OUT_NOT_FOUND;
  rc = store_review_delete(c, r.id);
  if (rc < 0) return rc;
  if (r.status == REVIEW_APPROVED) {
    struct rating_aggregate agg;
    rc = store_rating_add(c, r.product_id, r.rating, -1, &agg);
    if (rc >= 0) rc = review_emit_removed(c, &r, &agg);
    if (rc < 0) return rc;
  }
  if (!author)
    return review_emit_audit(
        c, t->arena, t->req, "review.delete", r.id,
        json_pack("{s:s, s:s, s:i}", "status", review_status_name(r.status),
                  "product_id", r.product_id, "rating", r.rating),
        NULL);
  return 0;
}

void review_handle_delete(struct http_request *req, struct http_response *res) {
  char id[UUID_STR_LEN];
  if (!review_read_id(req, res, "id", id, "no such review")) return;
  struct delete_tx t = {.arena = req->arena, .req = req, .id = id};
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, delete_tx, &t);
  if (rc < 0) {
    review_reply_failure(req, res, rc, NULL);
    return;
  }
  http_reply(res, 204, "application/json", "", 0);
}

/* --- POST /api/v1/reviews/{id}/helpful ------------------------------------ */

struct helpful_tx {
  struct arena *arena;
  const char *id, *user_id;
  struct review out;
};

static int helpful_tx(struct db_conn *c, void *arg) {
  struct helpful_tx *t = arg;
  struct review r;
  int rc = store_review_get(c, t->arena, t->id, false, &r);
  if (rc <= 0 || r.status != REVIEW_APPROVED)
    return rc < 0 ? rc : OUT_NOT_FOUND;
  if (strcmp(r.user_id, t->user_id) == 0) return OUT_FORBIDDEN;
  rc = store_helpful_vote(c, r.id, t->user_id);
  if (rc <= 0) return rc < 0 ? rc : OUT_CONFLICT;
  rc = store_review_get(c, t->arena, t->id, false, &t->out);
  return rc <= 0 ? (rc < 0 ? rc : OUT_NOT_FOUND) : rc;
}

void review_handle_helpful(struct http_request *req,
                           struct http_response *res) {
  char id[UUID_STR_LEN];
  if (!review_read_id(req, res, "id", id, "no such review")) return;
  if (req->body_len > 0) { /* no body is expected; {} is fine */
    struct json_doc *doc = NULL;
    bool ok = http_read_body(req, res, NULL, 0, true, &doc);
    json_doc_free(doc);
    if (!ok) return;
  }
  struct helpful_tx t = {.arena = req->arena, .id = id};
  t.user_id = auth_principal(req)->user_id;
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, helpful_tx, &t);
  if (rc == OUT_FORBIDDEN) {
    http_reply_error(res, req, API_AUTHORIZATION_ERROR,
                     "you cannot vote for your own review", NULL);
    return;
  }
  if (rc < 0) {
    review_reply_failure(req, res, rc,
                         "you have already voted for this review");
    return;
  }
  json_t *body = review_render(&t.out);
  http_reply_json(res, 200, body);
  json_decref(body);
}
