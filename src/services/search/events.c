/* events.c - what keeps the index current: the catalog's product events
 * (the document itself), inventory.changed (stock state), review.approved
 * and review.removed (rating from approved reviews), order.confirmed
 * (popularity: units sold), category.updated/deleted (names and ancestry
 * in the documents). Each handler runs in the consumer's transaction
 * (the inbox makes a redelivery a no-op); documents carry the product's
 * updated_at, so a late or repeated event never puts an older version back.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "kit/log.h"
#include "kit/uuid.h"
#include "services/search/internal.h"

static const char *str(const json_t *o, const char *key) {
  return json_string_value(json_object_get(o, key));
}

static const char *uuid_of(const json_t *o, const char *key) {
  const char *v = str(o, key);
  return v != NULL && uuid_valid(v) ? v : NULL;
}

/* What changed decides what follows: cached answers go on every change;
 * the lexicon (vocabulary, suggestions, brand and category counts) is
 * rebuilt at once when a document's text changed, later when only a
 * suggestion's weight (popularity) did, and not for stock or ratings,
 * which it does not hold. */
enum change { CHANGE_TEXT, CHANGE_WEIGHT, CHANGE_SIGNAL };

static void bump(struct service *svc, enum change what) {
  struct search_state *st = search_state_of(svc);
  if (st == NULL) return;
  if (what == CHANGE_TEXT) atomic_fetch_add(&st->local_generation, 1);
  if (what == CHANGE_WEIGHT) atomic_fetch_add(&st->weight_generation, 1);
  search_answers_invalidate(st);
}

/* Walks the category tree of GET /categories (nodes with children). */
static int put_tree(const struct search_backend *b, struct db_conn *tx,
                    const json_t *nodes, int depth) {
  if (depth > 16) return 0;
  size_t i;
  json_t *n;
  json_array_foreach(nodes, i, n) {
    const char *id = uuid_of(n, "id"), *name = str(n, "name");
    if (id == NULL || name == NULL) continue;
    const char *path = str(n, "path");
    int rc = b->put_category(tx, id, name, uuid_of(n, "parent_id"),
                             path ? path : "");
    if (rc < 0) return rc;
    rc = put_tree(b, tx, json_object_get(n, "children"), depth + 1);
    if (rc < 0) return rc;
  }
  return 0;
}

int search_load_categories(const struct search_backend *b, struct db_conn *tx,
                           struct client *client) {
  struct client_request creq = {.method = "GET", .path = "/api/v1/categories"};
  struct http_response cres;
  int rc = client_call(client, SVC_PRODUCT, &creq, &cres);
  json_t *body = NULL;
  if (rc == KIT_OK && cres.status == 200)
    body = json_loadb(cres.body, cres.body_len, 0, NULL);
  http_response_clear(&cres);
  if (body == NULL) {
    log_warn("search: the product service did not list its categories");
    return DB_UNAVAILABLE;
  }
  rc = put_tree(b, tx, json_object_get(body, "items"), 0);
  json_decref(body);
  return rc;
}

int search_on_product(struct service *svc, struct db_conn *conn,
                      const struct bus_event *ev) {
  const struct search_backend *b = search_state_of(svc)->backend;
  const json_t *p = ev->data;
  const char *id = uuid_of(p, "id"), *status = str(p, "status");
  const char *updated = str(p, "updated_at");
  if (id == NULL || status == NULL || updated == NULL) {
    log_warn("search: %s %s without id, status or updated_at: ignored",
             ev->event_type, ev->event_id);
    return 0;
  }
  int rc;
  if (strcmp(status, "active") != 0) {
    rc = b->remove(conn, id, updated);
  } else {
    const char *category = uuid_of(p, "category_id");
    if (category != NULL && b->has_category(conn, category) == 0) {
      /* a category created after our last look: its name goes into the
       * document, so learn it first (indexed without it if that fails) */
      rc = search_load_categories(b, conn, svc->client);
      if (rc < 0 && rc != DB_UNAVAILABLE) return rc;
    }
    char *doc = json_dumps(p, JSON_COMPACT);
    if (doc == NULL) return DB_HARD_ERROR;
    rc = b->put(conn, doc, ev->timestamp);
    free(doc);
  }
  if (rc >= 0) bump(svc, CHANGE_TEXT);
  return rc < 0 ? rc : 0;
}

int search_on_category(struct service *svc, struct db_conn *conn,
                       const struct bus_event *ev) {
  const struct search_backend *b = search_state_of(svc)->backend;
  const json_t *c = ev->data;
  const char *id = uuid_of(c, "id"), *name = str(c, "name");
  if (id == NULL || name == NULL) {
    log_warn("search: %s %s without id or name: ignored", ev->event_type,
             ev->event_id);
    return 0;
  }
  int rc;
  if (strcmp(ev->event_type, "category.deleted") == 0) {
    rc = b->remove_category(conn, id);
  } else {
    /* events of one category arrive in order (its id is the aggregate) */
    const char *path = str(c, "path");
    rc = b->put_category(conn, id, name, uuid_of(c, "parent_id"),
                         path ? path : "");
    if (rc >= 0) rc = b->recategorize(conn, id);
  }
  if (rc >= 0)
    bump(svc, CHANGE_TEXT); /* category names are words of the lexicon */
  return rc < 0 ? rc : 0;
}

int search_on_inventory(struct service *svc, struct db_conn *conn,
                        const struct bus_event *ev) {
  const struct search_backend *b = search_state_of(svc)->backend;
  const char *id = uuid_of(ev->data, "product_id");
  json_t *stock = json_object_get(ev->data, "stock");
  json_t *available = json_object_get(ev->data, "available");
  if (id == NULL || !json_is_integer(stock)) return 0;
  json_int_t s = json_integer_value(stock);
  json_int_t a = json_is_integer(available) ? json_integer_value(available) : s;
  int rc = b->set_stock(conn, id, s, a, ev->timestamp);
  if (rc >= 0) bump(svc, CHANGE_SIGNAL);
  return rc < 0 ? rc : 0;
}

int search_on_review(struct service *svc, struct db_conn *conn,
                     const struct bus_event *ev) {
  const struct search_backend *b = search_state_of(svc)->backend;
  const char *id = uuid_of(ev->data, "product_id");
  json_t *count = json_object_get(ev->data, "rating_count");
  if (id == NULL || !json_is_integer(count)) return 0;
  /* the aggregate after the change: setting it makes redelivery harmless */
  const char *avg = str(ev->data, "rating_average");
  char buf[32];
  if (avg == NULL &&
      json_is_number(json_object_get(ev->data, "rating_average"))) {
    snprintf(buf, sizeof buf, "%.1f",
             json_number_value(json_object_get(ev->data, "rating_average")));
    avg = buf;
  }
  if (avg != NULL) {
    /* "4.5": digits and one dot only, from 0 to 5 */
    char *end = NULL;
    double v = strtod(avg, &end);
    if (end == avg || *end != '\0' || v < 0 || v > 5) avg = NULL;
  }
  json_int_t n = json_integer_value(count);
  int rc = b->set_rating(conn, id, n > 0 ? avg : NULL, n < 0 ? 0 : n);
  if (rc >= 0) bump(svc, CHANGE_SIGNAL);
  return rc < 0 ? rc : 0;
}

int search_on_order_confirmed(struct service *svc, struct db_conn *conn,
                              const struct bus_event *ev) {
  const struct search_backend *b = search_state_of(svc)->backend;
  size_t i;
  json_t *item;
  int rc = 0;
  json_array_foreach(json_object_get(ev->data, "items"), i, item) {
    const char *id = uuid_of(item, "product_id");
    json_t *q = json_object_get(item, "quantity");
    if (id == NULL || !json_is_integer(q) || json_integer_value(q) <= 0)
      continue;
    rc = b->add_popularity(conn, id, json_integer_value(q));
    if (rc < 0) return rc;
  }
  bump(svc, CHANGE_WEIGHT);
  return 0;
}
