/* handlers_promotions.c - the admin's promotions: create, read, list,
 * change, end. Every write is audited (audit_record in the write's
 * transaction). Pricing and redemptions: handlers_redemptions.c.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/audit.h"
#include "kit/auth.h"
#include "kit/bus.h"
#include "kit/handler.h"
#include "kit/json.h"
#include "kit/log.h"
#include "kit/money.h"
#include "kit/service.h"
#include "kit/uuid.h"
#include "services/cart/catalog.h"
#include "services/cart/promo_store.h"
#include "services/cart/promotions.h"

#define PROMO_MAX_USES INT64_C(1000000000)

/* --- rendering --- */

static json_t *opt_str(const char *s) {
  return s ? json_string(s) : json_null();
}

static json_t *opt_int(int64_t v, int64_t none) {
  return v == none ? json_null() : json_integer(v);
}

static json_t *id_array(const char *const *ids, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(a, json_string(ids[i]));
  return a;
}

static const char *status_name(enum promo_window w) {
  return w == PROMO_NOT_STARTED ? "scheduled"
         : w == PROMO_ENDED     ? "expired"
                                : "active";
}

static json_t *render_promo(const struct promo_row *p) {
  char buf[MONEY_BUF];
  json_t *value = json_null();
  if (p->type == PROMO_PERCENTAGE)
    value = json_string(promo_format_percent(p->value, buf));
  else if (p->type == PROMO_FIXED)
    value = json_string(money_format(p->value, p->currency, buf));
  json_t *min = json_null();
  if (p->min_subtotal >= 0 && p->currency[0])
    min = json_string(money_format(p->min_subtotal, p->currency, buf));
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(p->id));
  json_object_set_new(o, "code", opt_str(p->code));
  json_object_set_new(o, "description",
                      json_string(p->description ? p->description : ""));
  json_object_set_new(o, "type", json_string(promo_type_name(p->type)));
  json_object_set_new(o, "value", value);
  json_object_set_new(o, "currency",
                      p->currency[0] ? json_string(p->currency) : json_null());
  json_object_set_new(o, "buy_quantity", opt_int(p->buy_quantity, 0));
  json_object_set_new(o, "get_quantity", opt_int(p->get_quantity, 0));
  json_object_set_new(o, "applies_to",
                      json_pack("{s:o, s:o}", "product_ids",
                                id_array(p->product_ids, p->product_count),
                                "category_ids",
                                id_array(p->category_ids, p->category_count)));
  json_object_set_new(o, "min_subtotal", min);
  json_object_set_new(o, "starts_at", opt_str(p->starts_at));
  json_object_set_new(o, "ends_at", opt_str(p->ends_at));
  json_object_set_new(o, "usage_limit", opt_int(p->usage_limit, -1));
  json_object_set_new(o, "per_customer_limit",
                      opt_int(p->per_customer_limit, -1));
  json_object_set_new(o, "used", json_integer(p->used));
  json_object_set_new(o, "stackable", json_boolean(p->stackable));
  json_object_set_new(o, "status", json_string(status_name(p->window)));
  json_object_set_new(o, "created_at", opt_str(p->created_at));
  json_object_set_new(o, "updated_at", opt_str(p->updated_at));
  return o;
}

/* --- admin CRUD --- */

struct promo_input {
  const char *code, *description, *type, *value, *currency, *min_subtotal,
      *starts_at, *ends_at;
  int64_t buy_quantity, get_quantity, usage_limit, per_customer_limit;
  bool stackable;
  const void *applies_to;
  bool has_code, has_description, has_type, has_value, has_currency,
      has_min_subtotal, has_starts_at, has_ends_at, has_buy, has_get,
      has_usage_limit, has_per_customer, has_stackable, has_applies_to;
};

static const char *const type_values[] = {"percentage", "fixed",
                                          "free_shipping", "buy_x_get_y", NULL};

/* Reads the body; null members are noted in *nulls (PATCH clears them). */
static bool read_promo_body(struct http_request *req, struct http_response *res,
                            bool create, struct promo_input *in,
                            struct json_doc **doc) {
  memset(in, 0, sizeof *in);
  const struct json_field fields[] = {
      {"code", JF_STRING, false, 1, 64, &in->code, &in->has_code,
       .nullable = true},
      {"description", JF_STRING, false, 0, 200, &in->description,
       &in->has_description, .nullable = true},
      {"type", JF_ENUM, create, 0, 0, &in->type, &in->has_type,
       .enum_values = type_values},
      {"value", JF_STRING, false, 1, 40, &in->value, &in->has_value,
       .nullable = true},
      {"currency", JF_STRING, false, 3, 3, &in->currency, &in->has_currency,
       .nullable = true},
      {"buy_quantity", JF_INT, false, 1, 100, &in->buy_quantity, &in->has_buy,
       .nullable = true},
      {"get_quantity", JF_INT, false, 1, 100, &in->get_quantity, &in->has_get,
       .nullable = true},
      {"applies_to", JF_OBJECT, false, 0, 0, &in->applies_to,
       &in->has_applies_to, .nullable = true},
      {"min_subtotal", JF_STRING, false, 1, 40, &in->min_subtotal,
       &in->has_min_subtotal, .nullable = true},
      {"starts_at", JF_STRING, false, 1, 64, &in->starts_at, &in->has_starts_at,
       .nullable = true},
      {"ends_at", JF_STRING, false, 1, 64, &in->ends_at, &in->has_ends_at,
       .nullable = true},
      {"usage_limit", JF_INT, false, 1, PROMO_MAX_USES, &in->usage_limit,
       &in->has_usage_limit, .nullable = true},
      {"per_customer_limit", JF_INT, false, 1, PROMO_MAX_USES,
       &in->per_customer_limit, &in->has_per_customer, .nullable = true},
      {"stackable", JF_BOOL, false, 0, 0, &in->stackable, &in->has_stackable},
  };
  return http_read_body(req, res, fields, sizeof fields / sizeof fields[0],
                        true, doc);
}

/* true when the member is present and JSON null (PATCH: clear it). */
static bool is_null_member(struct json_doc *doc, const char *name) {
  json_t *v = json_object_get(json_doc_root(doc), name);
  return v != NULL && json_is_null(v);
}

static bool fail(struct http_response *res, const struct http_request *req,
                 const char *field, const char *message) {
  http_reply_error(res, req, API_UNPROCESSABLE, message, field);
  return false;
}

/* Reads an id list of applies_to into the row (arena copies). */
static bool read_ids(struct http_request *req, struct http_response *res,
                     const json_t *arr, const char *field, const char ***out,
                     size_t *n) {
  *n = 0;
  *out = NULL;
  if (arr == NULL || json_is_null(arr)) return true;
  if (!json_is_array(arr) || json_array_size(arr) > PROMO_MAX_TARGETS)
    return fail(res, req, field,
                arena_printf(req->arena, "%s must be a list of at most %d ids",
                             field, PROMO_MAX_TARGETS));
  size_t count = json_array_size(arr);
  *out = arena_alloc(req->arena, sizeof **out * (count + 1));
  if (*out == NULL) return fail(res, req, field, "out of memory");
  for (size_t i = 0; i < count; i++) {
    const char *s = json_string_value(json_array_get(arr, i));
    char norm[UUID_STR_LEN];
    if (s == NULL || !uuid_normalize(s, norm))
      return fail(res, req, field,
                  arena_printf(req->arena, "%s[%zu] must be a UUID", field, i));
    bool dup = false;
    for (size_t j = 0; j < *n && !dup; j++)
      dup = strcmp((*out)[j], norm) == 0;
    if (!dup) (*out)[(*n)++] = arena_strdup(req->arena, norm);
  }
  return true;
}

/* Applies the input onto row (a fresh row for a creation, the stored one
 * for a change) and checks the result as a whole; answers 422 naming the
 * field and returns false when it does not hold. */
static bool apply_input(struct http_request *req, struct http_response *res,
                        struct json_doc *doc, const struct promo_input *in,
                        struct promo_row *row) {
  struct arena *a = req->arena;
  if (in->has_code) {
    char *code = arena_alloc(a, PROMO_CODE_MAX + 1);
    if (code == NULL || !promo_code_normalize(in->code, code))
      return fail(res, req, "code",
                  "code must be 3 to 32 letters, digits, '-' or '_'");
    row->code = code;
  } else if (is_null_member(doc, "code")) {
    row->code = NULL;
  }
  if (in->has_description) row->description = in->description;
  if (in->has_type && !promo_type_parse(in->type, &row->type))
    return fail(res, req, "type", "unknown type");
  if (in->has_currency) {
    if (!money_currency_valid(in->currency))
      return fail(res, req, "currency",
                  "currency must be an ISO 4217 code such as \"EUR\"");
    snprintf(row->currency, sizeof row->currency, "%s", in->currency);
  } else if (is_null_member(doc, "currency")) {
    row->currency[0] = '\0';
  }
  if (in->has_buy)
    row->buy_quantity = in->buy_quantity;
  else if (is_null_member(doc, "buy_quantity"))
    row->buy_quantity = 0;
  if (in->has_get)
    row->get_quantity = in->get_quantity;
  else if (is_null_member(doc, "get_quantity"))
    row->get_quantity = 0;
  if (in->has_usage_limit)
    row->usage_limit = in->usage_limit;
  else if (is_null_member(doc, "usage_limit"))
    row->usage_limit = -1;
  if (in->has_per_customer)
    row->per_customer_limit = in->per_customer_limit;
  else if (is_null_member(doc, "per_customer_limit"))
    row->per_customer_limit = -1;
  if (in->has_stackable) row->stackable = in->stackable;
  if (in->has_applies_to) {
    static const char *const names[] = {"product_ids", "category_ids"};
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)in->applies_to, key, v) {
      if (strcmp(key, names[0]) != 0 && strcmp(key, names[1]) != 0)
        return fail(res, req, arena_printf(a, "applies_to.%s", key),
                    arena_printf(a, "unknown field applies_to.%s", key));
    }
    if (!read_ids(req, res, json_object_get(in->applies_to, names[0]),
                  "applies_to.product_ids", &row->product_ids,
                  &row->product_count) ||
        !read_ids(req, res, json_object_get(in->applies_to, names[1]),
                  "applies_to.category_ids", &row->category_ids,
                  &row->category_count))
      return false;
  } else if (is_null_member(doc, "applies_to")) {
    row->product_count = row->category_count = 0;
  }
  if (in->has_starts_at && !bus_time_parse(in->starts_at, &row->starts_at_ms))
    return fail(res, req, "starts_at",
                "starts_at must be an RFC 3339 time such as "
                "\"2026-12-01T00:00:00Z\"");
  if (!in->has_starts_at && is_null_member(doc, "starts_at"))
    row->starts_at_ms = -1;
  if (in->has_ends_at && !bus_time_parse(in->ends_at, &row->ends_at_ms))
    return fail(res, req, "ends_at",
                "ends_at must be an RFC 3339 time such as "
                "\"2026-12-31T23:59:59Z\"");
  if (!in->has_ends_at && is_null_member(doc, "ends_at")) row->ends_at_ms = -1;
  if (row->starts_at_ms >= 0 && row->ends_at_ms >= 0 &&
      row->ends_at_ms <= row->starts_at_ms)
    return fail(res, req, "ends_at", "ends_at must be after starts_at");

  /* value: a percentage, or an amount in the promotion's currency. */
  if (row->type == PROMO_FIXED && row->currency[0] == '\0')
    return fail(res, req, "currency",
                "a fixed amount names its currency (currency is required)");
  if (in->has_value) {
    if (row->type == PROMO_PERCENTAGE) {
      if (!promo_parse_percent(in->value, &row->value))
        return fail(res, req, "value",
                    "value must be a percentage above 0 and at most 100, "
                    "with at most two decimals (\"15\", \"12.5\")");
    } else if (row->type == PROMO_FIXED) {
      if (money_parse(in->value, row->currency, &row->value) != KIT_OK ||
          row->value <= 0)
        return fail(res, req, "value",
                    "value must be a positive amount in the promotion's "
                    "currency (\"5.00\")");
    } else {
      return fail(res, req, "value",
                  "value is not used by free_shipping and buy_x_get_y");
    }
  } else if (is_null_member(doc, "value") || in->has_type) {
    if (row->type == PROMO_PERCENTAGE || row->type == PROMO_FIXED)
      return fail(res, req, "value", "value is required for this type");
    row->value = 0;
  }
  if (row->type == PROMO_BUY_X_GET_Y) {
    if (row->buy_quantity < 1)
      return fail(res, req, "buy_quantity",
                  "buy_quantity is required for buy_x_get_y");
    if (row->get_quantity < 1)
      return fail(res, req, "get_quantity",
                  "get_quantity is required for buy_x_get_y");
  } else if (row->buy_quantity != 0 || row->get_quantity != 0) {
    return fail(res, req, row->buy_quantity ? "buy_quantity" : "get_quantity",
                "buy_quantity and get_quantity are for buy_x_get_y only");
  }
  if (in->has_min_subtotal) {
    if (row->currency[0] == '\0')
      return fail(res, req, "currency",
                  "a minimum subtotal names its currency (currency is "
                  "required)");
    if (money_parse(in->min_subtotal, row->currency, &row->min_subtotal) !=
        KIT_OK)
      return fail(res, req, "min_subtotal",
                  "min_subtotal must be an amount in the promotion's "
                  "currency (\"50.00\")");
  } else if (is_null_member(doc, "min_subtotal")) {
    row->min_subtotal = -1;
  }
  if (row->min_subtotal >= 0 && row->currency[0] == '\0')
    return fail(res, req, "currency",
                "a minimum subtotal names its currency (currency is required)");
  if (row->usage_limit >= 0 && row->usage_limit < row->used)
    return fail(res, req, "usage_limit",
                arena_printf(a,
                             "usage_limit cannot go below the %lld uses "
                             "made already",
                             (long long)row->used));
  return true;
}

/* Starts from the stored times: RFC 3339 text back to milliseconds. */
static void times_from_text(struct promo_row *row) {
  row->starts_at_ms = row->ends_at_ms = -1;
  if (row->starts_at) (void)bus_time_parse(row->starts_at, &row->starts_at_ms);
  if (row->ends_at) (void)bus_time_parse(row->ends_at, &row->ends_at_ms);
}

struct promo_tx {
  struct http_request *req;
  const char *id;
  struct promo_row *row; /* create: the row to insert; update: the change */
  const struct promo_input *in;
  struct json_doc *doc;
  struct http_response *res;
  struct promo_row before, after;
  bool missing, duplicate, refused;
};

static int audit_write(struct db_conn *c, struct promo_tx *t,
                       const char *action, bool has_before, bool has_after) {
  json_t *before = has_before ? render_promo(&t->before) : NULL;
  json_t *after = has_after ? render_promo(&t->after) : NULL;
  int rc = audit_record(c, t->req, action, "promotion", t->id, before, after);
  json_decref(before);
  json_decref(after);
  return rc;
}

static int create_tx_fn(struct db_conn *c, void *arg) {
  struct promo_tx *t = arg;
  int rc = promo_store_insert(c, t->row, &t->duplicate);
  if (rc < 0 || t->duplicate) return rc < 0 ? rc : 0;
  rc = promo_store_get(c, t->req->arena, t->id, false, &t->after);
  if (rc != 1) return rc < 0 ? rc : DB_HARD_ERROR;
  return audit_write(c, t, "promotion.create", false, true);
}

static void reply_tx_failure(struct http_response *res,
                             const struct http_request *req, int rc,
                             const struct promo_tx *t) {
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
  } else if (t->missing) {
    http_reply_error(res, req, API_NOT_FOUND, "no such promotion", NULL);
  } else if (t->duplicate) {
    http_reply_error(res, req, API_CONFLICT, "another promotion has this code",
                     "code");
  }
}

/* POST /api/v1/admin/promotions */
void promo_handle_create(struct http_request *req, struct http_response *res) {
  struct promo_input in;
  struct json_doc *doc = NULL;
  if (!read_promo_body(req, res, true, &in, &doc)) goto cleanup;
  struct promo_row row;
  memset(&row, 0, sizeof row);
  row.min_subtotal = row.usage_limit = row.per_customer_limit = -1;
  row.starts_at_ms = row.ends_at_ms = -1;
  row.description = "";
  char id[UUID_STR_LEN];
  uuid_v7(id);
  snprintf(row.id, sizeof row.id, "%s", id);
  if (!apply_input(req, res, doc, &in, &row)) goto cleanup;
  struct promo_tx t = {.req = req, .id = row.id, .row = &row};
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, create_tx_fn, &t);
  if (rc < 0 || t.duplicate) {
    reply_tx_failure(res, req, rc, &t);
    goto cleanup;
  }
  json_t *body = render_promo(&t.after);
  http_reply_json(res, 201, body);
  json_decref(body);
  char location[96];
  snprintf(location, sizeof location, "/api/v1/admin/promotions/%s", row.id);
  http_response_header(res, "Location", location);
cleanup:
  json_doc_free(doc);
}

/* The {id} parameter as a canonical UUID, or 404 answered. */
static const char *path_id(struct http_request *req,
                           struct http_response *res) {
  const char *raw = http_param(req, "id");
  char *norm = arena_alloc(req->arena, UUID_STR_LEN);
  if (raw == NULL || norm == NULL || !uuid_normalize(raw, norm)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such promotion", NULL);
    return NULL;
  }
  return norm;
}

/* GET /api/v1/admin/promotions/{id} */
void promo_handle_get(struct http_request *req, struct http_response *res) {
  const char *id = path_id(req, res);
  if (id == NULL) return;
  struct db_conn *c = db_acquire(req->svc->db, PROMO_DB_WAIT_MS);
  if (c == NULL) {
    http_reply_db_error(res, req, DB_UNAVAILABLE);
    return;
  }
  struct promo_row row;
  int rc = promo_store_get(c, req->arena, id, false, &row);
  db_release(req->svc->db, c);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  if (rc == 0) {
    http_reply_error(res, req, API_NOT_FOUND, "no such promotion", NULL);
    return;
  }
  json_t *body = render_promo(&row);
  http_reply_json(res, 200, body);
  json_decref(body);
}

/* GET /api/v1/admin/promotions?limit=&cursor= (newest first) */
void promo_handle_list(struct http_request *req, struct http_response *res) {
  const char *lim = http_query(req, "limit");
  const char *cursor = http_query(req, "cursor");
  long limit = 20;
  if (lim != NULL) {
    char *end = NULL;
    limit = strtol(lim, &end, 10);
    if (end == lim || *end != '\0' || limit < 1 || limit > 100) {
      http_reply_error(res, req, API_UNPROCESSABLE,
                       "limit must be an integer from 1 to 100", "limit");
      return;
    }
  }
  char before[UUID_STR_LEN];
  if (cursor != NULL && !uuid_normalize(cursor, before)) {
    http_reply_error(res, req, API_UNPROCESSABLE, "cursor is not valid",
                     "cursor");
    return;
  }
  struct db_conn *c = db_acquire(req->svc->db, PROMO_DB_WAIT_MS);
  if (c == NULL) {
    http_reply_db_error(res, req, DB_UNAVAILABLE);
    return;
  }
  struct promo_row *rows = NULL;
  int n = promo_store_list(c, req->arena, cursor ? before : NULL,
                           (int)limit + 1, &rows);
  db_release(req->svc->db, c);
  if (n < 0) {
    http_reply_db_error(res, req, n);
    return;
  }
  json_t *items = json_array();
  int shown = n > limit ? (int)limit : n;
  for (int i = 0; i < shown; i++)
    json_array_append_new(items, render_promo(&rows[i]));
  json_t *body =
      json_pack("{s:o, s:o}", "items", items, "next_cursor",
                n > limit ? json_string(rows[shown - 1].id) : json_null());
  http_reply_json(res, 200, body);
  json_decref(body);
}

/* Loads and locks the promotion into t->before: 1, or 0 with t->missing. */
static int lock_promo(struct db_conn *c, struct promo_tx *t) {
  int rc = promo_store_get(c, t->req->arena, t->id, true, &t->before);
  t->missing = rc == 0;
  return rc;
}

static int update_tx_fn(struct db_conn *c, void *arg) {
  struct promo_tx *t = arg;
  int rc = lock_promo(c, t);
  if (rc <= 0) return rc;
  struct promo_row row = t->before;
  times_from_text(&row);
  if (!apply_input(t->req, t->res, t->doc, t->in, &row)) {
    t->refused = true; /* answered */
    return 0;
  }
  rc = promo_store_update(c, &row, &t->duplicate);
  if (rc < 0 || t->duplicate) return rc < 0 ? rc : 0;
  rc = promo_store_get(c, t->req->arena, t->id, false, &t->after);
  if (rc != 1) return rc < 0 ? rc : DB_HARD_ERROR;
  json_t *before = render_promo(&t->before);
  json_t *after = render_promo(&t->after);
  static const char *const ignore[] = {"updated_at", NULL};
  rc = audit_record_changes(c, t->req, "promotion.update", "promotion", t->id,
                            before, after, ignore);
  json_decref(before);
  json_decref(after);
  return rc;
}

/* PATCH /api/v1/admin/promotions/{id}: the given fields change (null
 * clears an optional one); the whole is checked as on creation. */
void promo_handle_update(struct http_request *req, struct http_response *res) {
  const char *id = path_id(req, res);
  if (id == NULL) return;
  struct promo_input in;
  struct json_doc *doc = NULL;
  if (!read_promo_body(req, res, false, &in, &doc)) goto cleanup;
  struct promo_tx t = {.req = req, .id = id, .in = &in, .doc = doc, .res = res};
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, update_tx_fn, &t);
  if (t.refused) goto cleanup; /* 422 answered */
  if (rc < 0 || t.missing || t.duplicate) {
    reply_tx_failure(res, req, rc, &t);
    goto cleanup;
  }
  json_t *body = render_promo(&t.after);
  http_reply_json(res, 200, body);
  json_decref(body);
cleanup:
  json_doc_free(doc);
}

static int delete_tx_fn(struct db_conn *c, void *arg) {
  struct promo_tx *t = arg;
  int rc = lock_promo(c, t);
  if (rc <= 0) return rc;
  rc = promo_store_delete(c, t->id);
  if (rc < 0) return rc;
  return audit_write(c, t, "promotion.delete", true, false);
}

/* DELETE /api/v1/admin/promotions/{id}: the promotion stops applying at
 * once (codes on carts take nothing; its code is free again); uses already
 * made stay counted for their orders. */
void promo_handle_delete(struct http_request *req, struct http_response *res) {
  const char *id = path_id(req, res);
  if (id == NULL) return;
  struct promo_tx t = {.req = req, .id = id};
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, delete_tx_fn, &t);
  if (rc < 0 || t.missing) {
    reply_tx_failure(res, req, rc, &t);
    return;
  }
  http_reply(res, 204, "application/json", "", 0);
}
