/* model.c - the recommendation service's background work.
 *
 * The refresher (every SHOPSPHERE_RECOMMENDATION_REFRESH_MS):
 *   1. fills the catalog snapshot through the product service's API when it
 *      is empty (a service started after the products were created never
 *      saw their events);
 *   2. turns the demo seed's synthetic orders into purchases once the
 *      snapshot knows their SKUs;
 *   3. recomputes the precomputed lists of every product marked dirty by a
 *      signal (orders, clicks, catalog changes).
 * The trainer (every SHOPSPHERE_RECOMMENDATION_TRAIN_INTERVAL_S, and once
 * after the demo history arrived) runs ALS (train.c). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/client.h"
#include "kit/log.h"
#include "services/recommendation/recommendation.h"
#include "services/recommendation/store.h"

#define FILL_PAGE 100
#define DEMO_ORDERS_PER_TX 200
#define DIRTY_BATCH 200
#define DIRTY_PER_RUN 5000

/* --- the catalog fill ------------------------------------------------------
 */

struct page_tx {
  json_t *items;
  int stored;
};

static int page_body(struct db_conn *conn, void *arg) {
  struct page_tx *t = arg;
  size_t i;
  json_t *item;
  t->stored = 0;
  json_array_foreach(t->items, i, item) {
    const char *id = json_string_value(json_object_get(item, "id"));
    if (id == NULL ||
        json_string_value(json_object_get(item, "status")) == NULL)
      continue;
    char *doc = json_dumps(item, JSON_COMPACT);
    if (doc == NULL) return DB_HARD_ERROR;
    int rc = rstore_product_put(conn, id, doc);
    free(doc);
    if (rc < 0) return rc;
    t->stored++;
  }
  return 0;
}

/* Pages through GET /api/v1/products into the snapshot. KIT_OK when every
 * page was stored. */
static int catalog_fill(struct reco_state *st) {
  struct service *svc = st->svc;
  char path[512];
  char cursor[384] = "";
  int total = 0;
  for (;;) {
    snprintf(path, sizeof path, "/api/v1/products?limit=%d%s%s", FILL_PAGE,
             cursor[0] ? "&cursor=" : "", cursor);
    struct client_request r = {
        .method = "GET", .path = path, .timeout_ms = 10000};
    struct http_response out;
    int rc = client_call(svc->client, SVC_PRODUCT, &r, &out);
    json_t *body = rc == KIT_OK && out.status == 200 && out.body != NULL
                       ? json_loadb(out.body, out.body_len, 0, NULL)
                       : NULL;
    unsigned status = out.status;
    http_response_clear(&out);
    if (body == NULL) {
      log_warn("catalog fill: the product service answered %u: retrying "
               "later",
               status);
      return KIT_UNAVAILABLE;
    }
    struct page_tx t = {.items = json_object_get(body, "items")};
    int trc = json_is_array(t.items)
                  ? db_transaction(svc->db, DB_READ_COMMITTED, page_body, &t)
                  : DB_HARD_ERROR;
    const char *next = json_string_value(json_object_get(body, "next_cursor"));
    bool more = trc >= 0 && next != NULL && next[0] != '\0';
    if (more) {
      /* Percent-encode what a query value must not carry. */
      size_t k = 0;
      for (const char *p = next; *p && k + 4 < sizeof cursor; p++) {
        unsigned char ch = (unsigned char)*p;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
            (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' ||
            ch == '~')
          cursor[k++] = (char)ch;
        else
          k += (size_t)snprintf(cursor + k, sizeof cursor - k, "%%%02X", ch);
      }
      cursor[k] = '\0';
    }
    json_decref(body);
    if (trc < 0) return KIT_UNAVAILABLE;
    total += t.stored;
    if (!more) break;
  }
  log_info("catalog fill: %d products from the product service", total);
  return KIT_OK;
}

static void maybe_fill(struct reco_state *st) {
  if (atomic_load(&st->catalog_filled)) return;
  struct db_conn *conn = db_acquire(st->svc->db, 2000);
  if (conn == NULL) return;
  long long count = -1;
  int rc = rstore_product_count(conn, &count);
  db_release(st->svc->db, conn);
  if (rc < 0) return;
  if (count > 0 || catalog_fill(st) == KIT_OK)
    atomic_store(&st->catalog_filled, true);
}

/* --- demo orders ---------------------------------------------------------- */

struct demo_tx {
  struct arena *arena;
  int orders;
};

static int demo_body(struct db_conn *conn, void *arg) {
  struct demo_tx *t = arg;
  struct reco_demo_line *lines = NULL;
  int n = rstore_demo_take(conn, t->arena, DEMO_ORDERS_PER_TX, &lines);
  if (n < 0) return n;
  t->orders = 0;
  for (int i = 0; i < n;) {
    int j = i;
    const char *ids[64];
    int qty[64];
    size_t k = 0;
    while (j < n && lines[j].shopper == lines[i].shopper &&
           lines[j].order_no == lines[i].order_no) {
      if (k < 64) {
        ids[k] = lines[j].product_id;
        qty[k++] = 1;
      }
      j++;
    }
    char user[37], order[37];
    reco_demo_user_id(lines[i].shopper, user);
    reco_demo_order_id(lines[i].shopper, lines[i].order_no, order);
    int rc = rstore_order_apply(conn, order, user, ids, qty, k,
                                RECO_WEIGHT_PURCHASE, NULL);
    if (rc < 0) return rc;
    t->orders++;
    i = j;
  }
  return n;
}

static void demo_orders(struct reco_state *st) {
  int total = 0;
  for (;;) {
    struct arena a;
    arena_init(&a, 64 * 1024);
    struct demo_tx t = {.arena = &a};
    int rc = db_transaction(st->svc->db, DB_READ_COMMITTED, demo_body, &t);
    arena_free(&a);
    if (rc <= 0) break;
    total += t.orders;
    if (worker_stopping(&st->refresher)) break;
  }
  if (total > 0) {
    log_info("demo history: %d synthetic orders applied", total);
    atomic_store(&st->train_wanted, true);
    worker_kick(&st->trainer);
  }
}

/* --- dirty lists ---------------------------------------------------------- */

static int refresh_dirty(struct reco_state *st) {
  int done = 0;
  while (done < DIRTY_PER_RUN && !worker_stopping(&st->refresher)) {
    struct db_conn *conn = db_acquire(st->svc->db, 2000);
    if (conn == NULL) break;
    struct arena a;
    arena_init(&a, 16 * 1024);
    const char **ids = NULL;
    int n = rstore_dirty_take(conn, &a, DIRTY_BATCH, &ids);
    int rc = 0;
    for (int i = 0; i < n && rc >= 0; i++) {
      rc = rstore_refresh_bought(conn, ids[i], RECO_LIST_WIDTH);
      if (rc >= 0) rc = rstore_refresh_similar(conn, ids[i], RECO_LIST_WIDTH);
    }
    db_release(st->svc->db, conn);
    arena_free(&a);
    if (rc < 0) {
      log_warn("list refresh failed (%d): the products stay stale until "
               "their next signal",
               rc);
      break;
    }
    if (n <= 0) break;
    done += n;
  }
  return done;
}

void reco_refresh_run(void *arg) {
  struct reco_state *st = arg;
  maybe_fill(st);
  demo_orders(st);
  refresh_dirty(st);
}

/* --- training ----------------------------------------------------------------
 */

void reco_train_run(void *arg) {
  struct reco_state *st = arg;
  bool wanted = atomic_exchange(&st->train_wanted, false);
  if (!wanted && st->svc->cfg->reco_train_interval_s == 0) return;
  struct reco_train_report rep;
  struct als_params p = als_defaults();
  int rc = reco_train(st->svc->db, &p, NULL, NULL, &rep);
  if (rc != KIT_OK) {
    log_warn("ALS training failed (%d); the next run tries again", rc);
    return;
  }
  log_info("ALS trained: %d users, %d items, %d interactions, %d lists",
           rep.users, rep.items, rep.interactions, rep.lists);
}
