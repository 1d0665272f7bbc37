/* handlers_variants.c - a product's variants and its prices per currency
 * (admin): POST /products/{id}/variants, PATCH|DELETE /variants/{id}, PUT
 * /products/{id}/prices.
 *
 * Every write locks the product row first, so two admins editing variants of
 * one product take turns: the combination and SKU checks then hold until
 * commit (SKUs also take their own lock: they are unique across products).
 * Each answers the product with its variants, emits product.updated in the
 * same transaction, and empties the read cache. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "kit/audit.h"
#include "kit/auth.h"
#include "kit/money.h"
#include "kit/uuid.h"
#include "services/product/domain.h"
#include "services/product/product.h"
#include "services/product/variant_input.h"

/* What a variant write answers: the product after it, with its variants. */
struct variant_tx {
  struct http_request *req; /* the admin's, for the audit log */
  const char *action;       /* its audit action ("variant.create", ...) */
  const void *body;         /* json_t *: the request body, audited as after */
  struct arena *arena;
  const char *product_id, *variant_id, *actor;
  struct variant_draft d;
  bool archive; /* DELETE */
  struct price_entry *prices;
  size_t price_count;
  const void *prices_json; /* PUT /prices body */
  struct product_row out;
  struct variant_row *variants;
  int variant_count;
  struct json_error err; /* OUT_INVALID */
  const char *conflict;  /* OUT_CONFLICT */
};

static int tx_invalid(struct variant_tx *t, const char *field,
                      const char *msg) {
  t->err.code = API_UNPROCESSABLE;
  snprintf(t->err.field, sizeof t->err.field, "%s", field);
  snprintf(t->err.message, sizeof t->err.message, "%s", msg);
  return OUT_INVALID;
}

/* Reloads the product and its variants, then emits product.updated. */
static int reload_and_emit(struct db_conn *c, struct variant_tx *t) {
  int rc = pstore_product_get(c, t->arena, t->product_id, false, &t->out);
  if (rc <= 0) return rc < 0 ? rc : OUT_NOT_FOUND;
  rc = pstore_variants_of(c, t->arena,
                          arena_printf(t->arena, "{%s}", t->product_id), NULL,
                          NULL, &t->variants);
  if (rc < 0) return rc;
  t->variant_count = rc;
  rc = product_emit(c, "product.updated", &t->out);
  if (rc < 0 || t->req == NULL) return rc;
  /* The admin's write, as sent (DELETE: the status it leads to). */
  bool prices = t->variant_id == NULL;
  json_t *after = t->archive ? json_pack("{s:s}", "status", "archived")
                             : json_incref((json_t *)t->body);
  rc = audit_record(c, t->req, t->action, prices ? "product" : "variant",
                    prices ? t->product_id : t->variant_id, NULL, after);
  json_decref(after);
  return rc;
}

/* Checks the SKU is free everywhere (locking it until commit). */
static int sku_free(struct db_conn *c, struct variant_tx *t, const char *sku,
                    const char *except_id) {
  int rc = pstore_sku_taken(c, sku, except_id);
  if (rc < 0) return rc;
  if (rc > 0) {
    t->conflict = "a product or variant with this sku already exists";
    return OUT_CONFLICT;
  }
  return 0;
}

/* The variant's price in the product's currency, and its price list. */
static int read_prices(struct variant_tx *t, const struct product_row *p,
                       int64_t *minor, bool *has_minor) {
  *has_minor = false;
  if (t->d.price != NULL) {
    enum price_check pc = product_price_parse(t->d.price, p->currency, minor);
    if (pc != PRICE_OK)
      return tx_invalid(t, "price", product_price_message(pc));
    *has_minor = true;
  }
  if (t->d.prices != NULL &&
      variant_prices_read(t->d.prices, p->currency, "prices", t->arena,
                          &t->prices, &t->price_count, &t->err) != KIT_OK)
    return OUT_INVALID;
  return 0;
}

static int create_body(struct db_conn *c, void *arg) {
  struct variant_tx *t = arg;
  struct product_row p;
  int rc = pstore_product_get(c, t->arena, t->product_id, true, &p);
  if (rc <= 0) return rc < 0 ? rc : OUT_NOT_FOUND;
  struct product_option *opts = NULL;
  size_t n = 0;
  const char *options_text = NULL;
  if (!variant_options_parse(p.options_json, t->arena, &opts, &n))
    return DB_HARD_ERROR;
  if (variant_choice_read(t->d.options, opts, n, t->arena, &options_text,
                          &t->err) != KIT_OK)
    return OUT_INVALID;
  int64_t minor = 0;
  bool has_minor = false;
  if ((rc = read_prices(t, &p, &minor, &has_minor)) < 0) return rc;
  rc = pstore_variant_combination_taken(c, t->product_id, options_text, NULL);
  if (rc < 0) return rc;
  if (rc > 0) {
    t->conflict = "the product has a variant with these options already";
    return OUT_CONFLICT;
  }
  if ((rc = sku_free(c, t, t->d.sku, NULL)) < 0) return rc;
  char id[UUID_STR_LEN];
  uuid_v7(id);
  struct variant_new v = {.id = id,
                          .product_id = t->product_id,
                          .sku = t->d.sku,
                          .options_json = options_text,
                          .price_minor = minor,
                          .has_price = has_minor,
                          .stock = t->d.stock,
                          .images_json = t->d.images_json,
                          .attributes_json = t->d.attributes_json};
  rc = pstore_variant_insert(c, t->arena, &v);
  if (rc < 0) return rc;
  t->variant_id = arena_strdup(t->arena, id);
  if (t->prices != NULL &&
      (rc = pstore_variant_prices_set(c, t->arena, id, t->prices,
                                      t->price_count)) < 0)
    return rc;
  if (t->d.stock > 0) {
    char adj[UUID_STR_LEN];
    uuid_v7(adj);
    rc = pstore_adjustment_insert_variant(c, adj, t->product_id, id, t->d.stock,
                                          "variant created", t->d.stock,
                                          t->actor, NULL, t->arena);
    if (rc < 0) return rc;
    struct stock_change sc = {.sku = t->d.sku, .stock = t->d.stock};
    snprintf(sc.product_id, sizeof sc.product_id, "%s", t->product_id);
    snprintf(sc.variant_id, sizeof sc.variant_id, "%s", id);
    rc = product_emit_inventory(c, &sc, "adjustment", t->d.stock, 0, NULL);
    if (rc < 0) return rc;
  }
  return reload_and_emit(c, t);
}

static int update_body(struct db_conn *c, void *arg) {
  struct variant_tx *t = arg;
  struct variant_row v;
  int rc = pstore_variant_get_for_update(c, t->arena, t->variant_id, &v);
  if (rc <= 0) return rc < 0 ? rc : OUT_NOT_FOUND;
  t->product_id = arena_strdup(t->arena, v.product_id);
  struct product_row p;
  rc = pstore_product_get(c, t->arena, t->product_id, true, &p);
  if (rc <= 0) return rc < 0 ? rc : OUT_NOT_FOUND;
  if (strcmp(v.status, "archived") == 0) {
    if (t->archive) return reload_and_emit(c, t); /* DELETE again: no-op */
    t->conflict = "the variant was deleted";
    return OUT_CONFLICT;
  }
  struct variant_change ch = {.sku = t->d.sku,
                              .images_json = t->d.images_json,
                              .attributes_json = t->d.attributes_json,
                              .stock = t->d.stock,
                              .has_stock = t->d.has_stock};
  if (t->archive) {
    ch.status = "archived";
  } else {
    if (t->d.options != NULL) {
      struct product_option *opts = NULL;
      size_t n = 0;
      if (!variant_options_parse(p.options_json, t->arena, &opts, &n))
        return DB_HARD_ERROR;
      if (variant_choice_read(t->d.options, opts, n, t->arena, &ch.options_json,
                              &t->err) != KIT_OK)
        return OUT_INVALID;
      rc = pstore_variant_combination_taken(c, t->product_id, ch.options_json,
                                            t->variant_id);
      if (rc < 0) return rc;
      if (rc > 0) {
        t->conflict = "the product has a variant with these options already";
        return OUT_CONFLICT;
      }
    }
    int64_t minor = 0;
    bool has_minor = false;
    if ((rc = read_prices(t, &p, &minor, &has_minor)) < 0) return rc;
    if (has_minor || t->d.clear_price) {
      ch.set_price = true;
      ch.price_minor = has_minor ? minor : -1;
    }
    if (t->d.sku != NULL && strcmp(t->d.sku, v.sku) != 0 &&
        (rc = sku_free(c, t, t->d.sku, t->variant_id)) < 0)
      return rc;
    if (t->d.has_stock && t->d.stock < v.reserved) {
      t->conflict = "stock cannot go below the units reserved by orders";
      return OUT_CONFLICT;
    }
  }
  rc = pstore_variant_update(c, t->arena, t->variant_id, &ch);
  if (rc <= 0) return rc < 0 ? rc : OUT_NOT_FOUND;
  if (t->prices != NULL &&
      (rc = pstore_variant_prices_set(c, t->arena, t->variant_id, t->prices,
                                      t->price_count)) < 0)
    return rc;
  int64_t delta = t->d.has_stock && !t->archive ? t->d.stock - v.stock : 0;
  if (delta != 0) {
    char adj[UUID_STR_LEN];
    uuid_v7(adj);
    rc = pstore_adjustment_insert_variant(c, adj, t->product_id, t->variant_id,
                                          delta, "set by variant update",
                                          t->d.stock, t->actor, NULL, t->arena);
    if (rc < 0) return rc;
    struct stock_change sc = {.sku = t->d.sku ? t->d.sku : v.sku,
                              .stock = t->d.stock,
                              .reserved = v.reserved};
    snprintf(sc.product_id, sizeof sc.product_id, "%s", t->product_id);
    snprintf(sc.variant_id, sizeof sc.variant_id, "%s", t->variant_id);
    rc = product_emit_inventory(c, &sc, "adjustment", delta, 0, NULL);
    if (rc < 0) return rc;
  }
  return reload_and_emit(c, t);
}

static int prices_body(struct db_conn *c, void *arg) {
  struct variant_tx *t = arg;
  struct product_row p;
  int rc = pstore_product_get(c, t->arena, t->product_id, true, &p);
  if (rc <= 0) return rc < 0 ? rc : OUT_NOT_FOUND;
  if (variant_prices_read(t->prices_json, p.currency, "prices", t->arena,
                          &t->prices, &t->price_count, &t->err) != KIT_OK)
    return OUT_INVALID;
  rc = pstore_product_prices_set(c, t->arena, t->product_id, t->prices,
                                 t->price_count);
  if (rc < 0) return rc;
  return reload_and_emit(c, t);
}

/* --- HTTP -------------------------------------------------------------------
 */

static const char *path_uuid(struct http_request *req,
                             struct http_response *res, const char *what) {
  char *id = arena_alloc(req->arena, UUID_STR_LEN);
  const char *raw = http_param(req, "id");
  if (id == NULL || raw == NULL || !uuid_normalize(raw, id)) {
    http_reply_error(res, req, API_NOT_FOUND, what, NULL);
    return NULL;
  }
  return id;
}

/* The answer: the product, its variants and its price list. */
static json_t *render_answer(struct http_request *req, struct variant_tx *t) {
  json_t *body = product_render(&t->out);
  if (body == NULL) return NULL;
  product_attach_variants(body, t->variants, t->variant_count);
  struct db_conn *conn = db_acquire(req->svc->db, 3000);
  struct price_entry *list = NULL;
  int n = conn != NULL
              ? pstore_product_prices(conn, req->arena, t->out.id, &list)
              : 0;
  if (conn != NULL) db_release(req->svc->db, conn);
  json_object_set_new(body, "prices", product_render_prices(list, n));
  if (t->variant_id != NULL)
    json_object_set_new(body, "variant_id", json_string(t->variant_id));
  return body;
}

static void answer(struct http_request *req, struct http_response *res,
                   struct variant_tx *t, int rc, unsigned ok_status,
                   const char *not_found) {
  if (rc == OUT_NOT_FOUND)
    http_reply_error(res, req, API_NOT_FOUND, not_found, NULL);
  else if (rc == OUT_INVALID)
    http_reply_json_error(res, req, &t->err);
  else if (rc == OUT_CONFLICT)
    http_reply_error(res, req, API_CONFLICT, t->conflict, NULL);
  else if (rc < 0)
    product_reply_db_failure(res, req, rc);
  else {
    pcache_invalidate(product_state(req)->cache);
    product_reply_json(res, ok_status, render_answer(req, t));
  }
}

static const char *actor(struct http_request *req) {
  const struct principal *p = auth_principal(req);
  return p->authenticated ? p->user_id : NULL;
}

void handle_variant_create(struct http_request *req,
                           struct http_response *res) {
  struct variant_tx t = {.req = req,
                         .action = "variant.create",
                         .arena = req->arena,
                         .actor = actor(req)};
  t.product_id = path_uuid(req, res, "no such product");
  if (t.product_id == NULL) return;
  struct json_doc *doc = NULL;
  if (json_doc_parse(req->body, req->body_len, &doc, &t.err) != KIT_OK ||
      variant_draft_read(json_doc_root(doc), false, req->arena, &t.d, &t.err) !=
          KIT_OK) {
    http_reply_json_error(res, req, &t.err);
    goto cleanup;
  }
  if (t.d.clear_price) t.d.price = NULL;
  t.body = json_doc_root(doc);
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, create_body, &t);
  if (rc >= 0)
    http_response_header(
        res, "Location",
        arena_printf(req->arena, "/api/v1/variants/%s", t.variant_id));
  answer(req, res, &t, rc, 201, "no such product");
cleanup:
  json_doc_free(doc);
}

void handle_variant_update(struct http_request *req,
                           struct http_response *res) {
  struct variant_tx t = {.req = req,
                         .action = "variant.update",
                         .arena = req->arena,
                         .actor = actor(req)};
  t.variant_id = path_uuid(req, res, "no such variant");
  if (t.variant_id == NULL) return;
  struct json_doc *doc = NULL;
  if (json_doc_parse(req->body, req->body_len, &doc, &t.err) != KIT_OK ||
      variant_draft_read(json_doc_root(doc), true, req->arena, &t.d, &t.err) !=
          KIT_OK) {
    http_reply_json_error(res, req, &t.err);
    goto cleanup;
  }
  t.body = json_doc_root(doc);
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, update_body, &t);
  answer(req, res, &t, rc, 200, "no such variant");
cleanup:
  json_doc_free(doc);
}

void handle_variant_delete(struct http_request *req,
                           struct http_response *res) {
  struct variant_tx t = {.req = req,
                         .action = "variant.delete",
                         .arena = req->arena,
                         .actor = actor(req),
                         .archive = true};
  t.variant_id = path_uuid(req, res, "no such variant");
  if (t.variant_id == NULL) return;
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, update_body, &t);
  answer(req, res, &t, rc, 200, "no such variant");
}

void handle_product_prices_put(struct http_request *req,
                               struct http_response *res) {
  struct variant_tx t = {.req = req,
                         .action = "product.prices",
                         .arena = req->arena,
                         .actor = actor(req)};
  t.product_id = path_uuid(req, res, "no such product");
  if (t.product_id == NULL) return;
  const struct json_field fields[] = {
      {"prices", JF_ARRAY, true, 0, PRODUCT_PRICES_MAX, &t.prices_json},
  };
  struct json_doc *doc = NULL;
  if (!http_read_body(req, res, fields, 1, true, &doc)) goto cleanup;
  t.body = json_doc_root(doc);
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, prices_body, &t);
  answer(req, res, &t, rc, 200, "no such product");
cleanup:
  json_doc_free(doc);
}
