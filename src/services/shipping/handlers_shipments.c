/* handlers_shipments.c - shipments: created by the order service when an
 * order ships (internal, idempotent on order_id), read by their owner and by
 * admins, and moved along by the courier's signed tracking webhooks. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "kit/auth.h"
#include "kit/db.h"
#include "kit/log.h"
#include "kit/service.h"
#include "kit/uuid.h"
#include "services/shipping/courier.h"
#include "services/shipping/handlers.h"
#include "services/shipping/store.h"

/* --- rendering ------------------------------------------------------------ */

static json_t *shipment_json(const struct shipment *s,
                             const struct tracking_event *events, int nevents) {
  json_t *evs = json_array();
  for (int i = 0; i < nevents; i++)
    json_array_append_new(evs, json_pack("{s:s, s:s, s:s, s:s}", "status",
                                         events[i].status, "description",
                                         events[i].description, "location",
                                         events[i].location, "occurred_at",
                                         events[i].occurred_at));
  json_t *address = json_loads(s->address_json, 0, NULL);
  json_t *items = json_loads(s->items_json, 0, NULL);
  json_t *o = json_pack(
      "{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:o, s:s, s:s}", "id",
      s->id, "order_id", s->order_id, "user_id", s->user_id, "carrier",
      s->carrier, "method", s->method, "status", s->status, "address",
      address ? address : json_null(), "items", items ? items : json_array(),
      "weight_grams", (json_int_t)s->weight_grams, "events", evs, "created_at",
      s->created_at, "updated_at", s->updated_at);
  json_object_set_new(o, "tracking_number",
                      s->tracking_number ? json_string(s->tracking_number)
                                         : json_null());
  json_object_set_new(o, "label_url",
                      s->label_url ? json_string(s->label_url) : json_null());
  return o;
}

/* Loads shipment `id` with its timeline into *out (NULL when absent).
 * Returns a db_status. */
static int load_shipment_json(struct service *svc, struct arena *a,
                              const char *id, struct shipment *s,
                              json_t **out) {
  *out = NULL;
  struct db_conn *conn = db_acquire(svc->db, 2000);
  if (conn == NULL) return DB_UNAVAILABLE;
  struct tracking_event *events = NULL;
  int rc = store_shipment_by_id(conn, a, id, s);
  int nev = rc > 0 ? store_tracking_events(conn, a, id, &events) : 0;
  db_release(svc->db, conn);
  if (rc < 0 || nev < 0) return rc < 0 ? rc : nev;
  if (rc > 0) *out = shipment_json(s, events, nev);
  return rc;
}

static bool may_see(const struct http_request *req, const struct shipment *s) {
  if (auth_is_admin(req)) return true;
  const struct principal *p = auth_principal(req);
  return p->authenticated && strcmp(p->user_id, s->user_id) == 0;
}

/* --- POST /internal/shipments --------------------------------------------- */

struct create_tx {
  struct shipment_new n;
  struct arena *arena;
  bool inserted;
  const char *id; /* the order's shipment, new or old */
};

static int create_tx(struct db_conn *c, void *arg) {
  struct create_tx *t = arg;
  int rc = store_shipment_insert(c, &t->n);
  if (rc < 0) return rc;
  t->inserted = rc == 1;
  struct shipment s;
  rc = store_shipment_by_order(c, t->arena, t->n.order_id, &s);
  if (rc <= 0) return rc < 0 ? rc : DB_HARD_ERROR;
  t->id = s.id;
  if (!t->inserted) return 0;
  rc = store_tracking_event_add(c, s.id, "pending",
                                "Shipment created; waiting for the label", "",
                                NULL, NULL);
  if (rc >= 0) rc = shipping_emit_created(c, &s);
  return rc;
}

/* Books a pending shipment (best effort: a failure leaves it to the booking
 * worker) and replies it. */
static void book_and_reply(struct http_request *req, struct http_response *res,
                           const char *id, unsigned status) {
  struct shipment s;
  json_t *body = NULL;
  int rc = load_shipment_json(req->svc, req->arena, id, &s, &body);
  if (rc > 0 && strcmp(s.status, "pending") == 0) {
    json_decref(body);
    body = NULL;
    shipping_book(req->svc, req, req->arena, id);
    rc = load_shipment_json(req->svc, req->arena, id, &s, &body);
  }
  if (rc <= 0) {
    shipping_reply_db_error(req, res, rc < 0 ? rc : DB_HARD_ERROR);
    return;
  }
  http_reply_json(res, status, body);
  json_decref(body);
}

void shipping_handle_shipment_create(struct http_request *req,
                                     struct http_response *res) {
  static const char *const methods[] = {"standard", "express", NULL};
  const void *address = NULL, *items_arr = NULL;
  struct create_tx t = {.arena = req->arena};
  const char *carrier = SHIPPING_DEFAULT_CARRIER;
  const struct json_field fields[] = {
      {"order_id", JF_UUID, true, 0, 0, &t.n.order_id},
      {"user_id", JF_UUID, true, 0, 0, &t.n.user_id},
      {"address", JF_OBJECT, true, 0, 0, &address},
      {"method", JF_ENUM, true, 0, 0, &t.n.method, .enum_values = methods},
      {"items", JF_ARRAY, true, 1, SHIPPING_MAX_ITEMS, &items_arr},
      {"carrier", JF_STRING, false, 1, 40, &carrier, .nullable = true},
  };
  struct json_doc *doc = NULL;
  struct json_error err;
  if (json_parse_body(req->body, req->body_len, fields, 6, false, req->arena,
                      &doc, &err) != KIT_OK) {
    shipping_reply_json_error(req, res, &err, NULL);
    goto cleanup;
  }
  if (shipping_courier_find(carrier) == NULL) {
    http_reply_error(res, req, API_UNPROCESSABLE, "carrier is not one we use",
                     "carrier");
    goto cleanup;
  }
  t.n.carrier = carrier;
  struct ship_address addr;
  if (!shipping_read_address(req, res, address, "address", &addr)) goto cleanup;
  struct ship_item items[SHIPPING_MAX_ITEMS];
  size_t count = 0;
  if (!shipping_read_items(req, res, items_arr, items, &count)) goto cleanup;

  /* The same order again: answer its shipment (idempotent on order_id)
   * without asking the product service. */
  struct shipment existing;
  struct db_conn *conn = db_acquire(req->svc->db, 2000);
  int rc =
      conn ? store_shipment_by_order(conn, req->arena, t.n.order_id, &existing)
           : DB_UNAVAILABLE;
  if (conn) db_release(req->svc->db, conn);
  if (rc < 0) {
    shipping_reply_db_error(req, res, rc);
    goto cleanup;
  }
  if (rc > 0) {
    book_and_reply(req, res, existing.id, 200);
    goto cleanup;
  }

  struct ship_product products[SHIPPING_MAX_ITEMS];
  if (!shipping_fetch_products(req, res, items, count, products)) goto cleanup;
  if (!shipping_total_weight(req, res, items, products, count,
                             &t.n.weight_grams))
    goto cleanup;
  json_t *list = json_array();
  for (size_t i = 0; i < count; i++)
    json_array_append_new(list, json_pack("{s:s, s:I}", "product_id",
                                          items[i].product_id, "quantity",
                                          (json_int_t)items[i].quantity));
  char *items_text = json_dumps(list, JSON_COMPACT);
  json_decref(list);
  t.n.items_json = items_text ? arena_strdup(req->arena, items_text) : NULL;
  free(items_text);
  t.n.address_json = shipping_address_json(req->arena, &addr);
  char id[UUID_STR_LEN];
  uuid_v7(id);
  t.n.id = id;
  if (t.n.items_json == NULL || t.n.address_json == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    goto cleanup;
  }
  rc = db_transaction(req->svc->db, DB_READ_COMMITTED, create_tx, &t);
  if (rc < 0) {
    shipping_reply_db_error(req, res, rc);
    goto cleanup;
  }
  if (t.inserted)
    log_info("shipment %s created for order %s", t.id, t.n.order_id);
  book_and_reply(req, res, t.id, t.inserted ? 201 : 200);

cleanup:
  json_doc_free(doc);
}

/* --- GET /api/v1/shipments/{id} ------------------------------------------- */

void shipping_handle_shipment_get(struct http_request *req,
                                  struct http_response *res) {
  const char *raw = http_param(req, "id");
  char id[UUID_STR_LEN];
  if (raw == NULL || !uuid_normalize(raw, id)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such shipment", NULL);
    return;
  }
  struct shipment s;
  json_t *body = NULL;
  int rc = load_shipment_json(req->svc, req->arena, id, &s, &body);
  if (rc < 0) {
    shipping_reply_db_error(req, res, rc);
    return;
  }
  /* Another customer's shipment is as absent as an unknown one. */
  if (rc == 0 || !may_see(req, &s)) {
    json_decref(body);
    http_reply_error(res, req, API_NOT_FOUND, "no such shipment", NULL);
    return;
  }
  http_reply_json(res, 200, body);
  json_decref(body);
}

/* --- GET /api/v1/shipments?order_id=&limit=&cursor= ------------------------
 */

static bool read_limit(struct http_request *req, struct http_response *res,
                       int *limit) {
  const char *s = http_query(req, "limit");
  *limit = 20;
  if (s == NULL) return true;
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < 1 || v > 100) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "limit must be a whole number from 1 to 100", "limit");
    return false;
  }
  *limit = (int)v;
  return true;
}

void shipping_handle_shipments_list(struct http_request *req,
                                    struct http_response *res) {
  const char *order_raw = http_query(req, "order_id");
  const char *cursor_raw = http_query(req, "cursor");
  char order_id[UUID_STR_LEN], cursor[UUID_STR_LEN];
  int limit = 20;
  if (order_raw != NULL && !uuid_normalize(order_raw, order_id)) {
    http_reply_error(res, req, API_UNPROCESSABLE, "order_id must be a UUID",
                     "order_id");
    return;
  }
  if (cursor_raw != NULL && !uuid_normalize(cursor_raw, cursor)) {
    http_reply_error(res, req, API_UNPROCESSABLE, "cursor is not one we gave",
                     "cursor");
    return;
  }
  if (!read_limit(req, res, &limit)) return;

  struct db_conn *conn = db_acquire(req->svc->db, 2000);
  if (conn == NULL) {
    shipping_reply_db_error(req, res, DB_UNAVAILABLE);
    return;
  }
  struct shipment *rows = NULL;
  struct shipment one;
  int n = 0;
  if (order_raw != NULL) {
    n = store_shipment_by_order(conn, req->arena, order_id, &one);
    if (n > 0 && !may_see(req, &one)) n = 0;
    rows = &one;
  } else {
    n = store_shipments_of_user(conn, req->arena, auth_principal(req)->user_id,
                                cursor_raw ? cursor : NULL, limit, &rows);
  }
  json_t *items = json_array();
  for (int i = 0; n > 0 && i < n; i++) {
    struct tracking_event *events = NULL;
    int nev = store_tracking_events(conn, req->arena, rows[i].id, &events);
    if (nev < 0) {
      n = nev;
      break;
    }
    json_array_append_new(items, shipment_json(&rows[i], events, nev));
  }
  db_release(req->svc->db, conn);
  if (n < 0) {
    json_decref(items);
    shipping_reply_db_error(req, res, n);
    return;
  }
  json_t *next = order_raw == NULL && n == limit ? json_string(rows[n - 1].id)
                                                 : json_null();
  json_t *body = json_pack("{s:o, s:o}", "items", items, "next_cursor", next);
  http_reply_json(res, 200, body);
  json_decref(body);
}

/* --- POST /api/v1/shipping/webhooks/{carrier} ----------------------------- */

enum webhook_outcome {
  HOOK_APPLIED,
  HOOK_TIMELINE_ONLY,
  HOOK_DUPLICATE,
  HOOK_UNKNOWN_SHIPMENT
};

struct webhook_tx {
  const char *carrier;
  const struct courier_update *u;
  struct arena *arena;
  enum webhook_outcome outcome;
  const char *shipment_id;
  const char *status; /* the shipment's status afterwards */
};

static int webhook_tx(struct db_conn *c, void *arg) {
  struct webhook_tx *t = arg;
  struct shipment s;
  int rc = store_shipment_by_tracking_for_update(c, t->arena,
                                                 t->u->tracking_number, &s);
  if (rc < 0) return rc;
  if (rc == 0) {
    t->outcome = HOOK_UNKNOWN_SHIPMENT;
    return 0;
  }
  t->shipment_id = s.id;
  t->status = s.status;
  rc = store_webhook_delivery_add(c, t->carrier, t->u->event_id);
  if (rc < 0) return rc;
  if (rc == 0) {
    t->outcome = HOOK_DUPLICATE;
    return 0;
  }
  const char *to = ship_status_name(t->u->status);
  rc = store_tracking_event_add(c, s.id, to, t->u->description, t->u->location,
                                t->u->occurred_at, t->u->event_id);
  if (rc < 0) return rc;
  enum ship_status from = ship_status_parse(s.status);
  if (!ship_status_advances(from, t->u->status)) {
    t->outcome = HOOK_TIMELINE_ONLY;
    return 0;
  }
  rc = store_shipment_set_status(c, s.id, to);
  if (rc >= 0)
    rc = shipping_emit_status_changed(c, &s, s.status, to, t->u->description,
                                      t->u->location, t->u->occurred_at);
  t->outcome = HOOK_APPLIED;
  t->status = to;
  return rc;
}

void shipping_handle_webhook(struct http_request *req,
                             struct http_response *res) {
  const char *carrier = http_param(req, "carrier");
  const struct courier_adapter *courier = shipping_courier_find(carrier);
  if (courier == NULL) {
    http_reply_error(res, req, API_NOT_FOUND, "no such carrier", NULL);
    return;
  }
  struct courier_update u;
  char why[192] = "";
  enum courier_webhook_result r =
      courier->read_webhook(req->svc, req, &u, why, sizeof why);
  if (r != COURIER_WEBHOOK_OK) {
    log_warn("refused a %s webhook: %s", carrier, why);
    if (r == COURIER_WEBHOOK_UNAUTHORIZED)
      http_reply_error(res, req, API_AUTHENTICATION_ERROR,
                       "the webhook signature is not valid", why);
    else
      http_reply_error(res, req, API_VALIDATION_ERROR,
                       "the webhook body is not a tracking update", why);
    return;
  }
  struct webhook_tx t = {carrier, &u, req->arena, HOOK_APPLIED, NULL, NULL};
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, webhook_tx, &t);
  if (rc < 0) {
    shipping_reply_db_error(req, res, rc);
    return;
  }
  if (t.outcome == HOOK_UNKNOWN_SHIPMENT) {
    /* Possibly a shipment whose label we are still recording: a 404 makes
     * the courier deliver again later. */
    http_reply_error(res, req, API_NOT_FOUND,
                     "no shipment with that tracking "
                     "number",
                     NULL);
    return;
  }
  static const char *const outcome_names[] = {"applied", "timeline_only",
                                              "duplicate", "unknown"};
  json_t *body = json_pack("{s:b, s:s, s:s, s:s}", "received", 1, "outcome",
                           outcome_names[t.outcome], "shipment_id",
                           t.shipment_id, "status", t.status);
  http_reply_json(res, 200, body);
  json_decref(body);
}
