/* demo.c - the synthetic order history of the demo (`shopsphere seed`):
 * shoppers with planted tastes (evaluate.c's generator) over the demo
 * catalog, written by SKU into demo_orders of the recommendation schema.
 * The service turns them into purchases and co-purchase counts once its
 * snapshot knows the SKUs (model.c), so a fresh `make run` has
 * bought-together and personal lists. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/log.h"
#include "services/recommendation/recommendation.h"
#include "services/recommendation/store.h"

#define DEMO_SHOPPERS 600
#define ROWS_PER_TX 1000

void reco_demo_user_id(int shopper, char out[37]) {
  snprintf(out, 37, "00000000-0000-4000-8000-%012u",
           (unsigned)shopper % 1000000000u);
}

void reco_demo_order_id(int shopper, int order_no, char out[37]) {
  snprintf(out, 37, "00000000-0001-4000-8000-%06u%06u",
           (unsigned)shopper % 1000000u, (unsigned)order_no % 1000000u);
}

struct insert_tx {
  const char *json;
};

static int insert_body(struct db_conn *conn, void *arg) {
  const struct insert_tx *t = arg;
  return rstore_demo_insert(conn, t->json);
}

int reco_demo_seed(const struct config *cfg, const char *const *skus,
                   const int *cluster, int clusters, size_t n, int *orders) {
  *orders = 0;
  char schema[64];
  service_schema_name(SVC_RECOMMENDATION, schema, sizeof schema);
  struct db_pool *pool = NULL;
  struct reco_purchase *h = NULL;
  size_t nh = 0;
  int rc = KIT_UNAVAILABLE;
  if (n == 0) return KIT_OK;
  if (db_pool_open(&pool, cfg->database_url, schema, 1, reco_statements,
                   RECO_STATEMENT_COUNT) != KIT_OK)
    return KIT_ERROR;
  struct db_conn *conn = db_acquire(pool, 5000);
  long long existing = 0;
  int crc = conn != NULL ? rstore_demo_count(conn, &existing) : DB_UNAVAILABLE;
  if (conn != NULL) db_release(pool, conn);
  if (crc < 0) goto cleanup;
  if (existing > 0) {
    rc = KIT_OK;
    goto cleanup;
  }
  struct reco_history_params p = reco_history_defaults();
  p.users = DEMO_SHOPPERS;
  p.items = (int)n;
  p.clusters = clusters;
  p.item_cluster = cluster;
  p.min_orders = 2;
  p.max_orders = 5;
  rc = reco_history_generate(&p, &h, &nh);
  if (rc != KIT_OK) goto cleanup;
  int last_user = -1, last_order = -1;
  for (size_t from = 0; from < nh; from += ROWS_PER_TX) {
    size_t to = from + ROWS_PER_TX < nh ? from + ROWS_PER_TX : nh;
    json_t *arr = json_array();
    for (size_t i = from; arr != NULL && i < to; i++) {
      json_array_append_new(
          arr, json_pack("[i, i, s]", h[i].user, h[i].order, skus[h[i].item]));
      if (h[i].user != last_user || h[i].order != last_order) (*orders)++;
      last_user = h[i].user;
      last_order = h[i].order;
    }
    char *text = arr != NULL ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (text == NULL) {
      rc = KIT_NOMEM;
      goto cleanup;
    }
    struct insert_tx t = {text};
    int drc = db_transaction(pool, DB_READ_COMMITTED, insert_body, &t);
    free(text);
    if (drc < 0) {
      rc = KIT_UNAVAILABLE;
      goto cleanup;
    }
  }
  rc = KIT_OK;
cleanup:
  free(h);
  db_pool_close(pool);
  return rc;
}
