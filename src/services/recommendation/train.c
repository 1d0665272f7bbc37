/* train.c - ALS on the recommendation schema: reads purchases (one per
 * order line) and signed-in clicks (add to cart 0.5, view 0.1) of the last
 * 90 days, trains (domain.c), and writes each user's top RECO_LIST_WIDTH
 * active products they have not interacted with into user_lists. Used by
 * the service's trainer and by `shopsphere recommend train`. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "kit/log.h"
#include "services/recommendation/recommendation.h"
#include "services/recommendation/store.h"

#define USERS_PER_TX 500

static int str_cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Index of s in the sorted array v[n], or -1. */
static int find(const char **v, int n, const char *s) {
  const char **hit = bsearch(&s, v, (size_t)n, sizeof *v, str_cmp);
  return hit ? (int)(hit - v) : -1;
}

struct lists_tx {
  const char *json;
};

static int lists_body(struct db_conn *conn, void *arg) {
  const struct lists_tx *t = arg;
  return rstore_user_lists_put(conn, t->json);
}

/* Writes the lists of users [from, to) in one transaction. */
static int write_lists(struct db_pool *pool, const struct als_model *model,
                       const struct reco_matrix *m, const char **users,
                       const char **items, int from, int to, int *written) {
  json_t *obj = json_object();
  int *top = malloc(sizeof(int) * RECO_LIST_WIDTH);
  float *score = malloc(sizeof(float) * RECO_LIST_WIDTH);
  int rc = KIT_ERROR;
  if (obj == NULL || top == NULL || score == NULL) goto cleanup;
  for (int u = from; u < to; u++) {
    int n = als_recommend(model, m, NULL, u, RECO_LIST_WIDTH, top, score);
    json_t *arr = json_array();
    for (int i = 0; arr != NULL && i < n && score[i] > 0; i++)
      json_array_append_new(
          arr, json_pack("{s:s, s:f}", "id", items[top[i]], "score",
                         (double)((int)(score[i] * 10000)) / 10000.0));
    if (arr == NULL || json_object_set_new(obj, users[u], arr) != 0)
      goto cleanup;
    (*written)++;
  }
  char *text = json_dumps(obj, JSON_COMPACT);
  if (text == NULL) goto cleanup;
  struct lists_tx t = {text};
  int drc = db_transaction(pool, DB_READ_COMMITTED, lists_body, &t);
  free(text);
  rc = drc >= 0 ? KIT_OK : KIT_UNAVAILABLE;
cleanup:
  json_decref(obj);
  free(top);
  free(score);
  return rc;
}

int reco_train(struct db_pool *pool, const struct als_params *p,
               als_progress_fn progress, void *arg,
               struct reco_train_report *out) {
  memset(out, 0, sizeof *out);
  struct arena a;
  arena_init(&a, 1 << 20);
  struct reco_interaction *rows = NULL;
  const char **items = NULL, **users = NULL;
  struct reco_triple *t = NULL;
  struct reco_matrix m = {0};
  struct als_model model = {0};
  int rc = KIT_UNAVAILABLE;

  struct db_conn *conn = db_acquire(pool, 5000);
  if (conn == NULL) goto cleanup;
  int n = rstore_interactions(conn, &a, &rows);
  int nitems = n >= 0 ? rstore_active_ids(conn, &a, &items) : n;
  db_release(pool, conn);
  if (n < 0 || nitems < 0) goto cleanup;

  rc = KIT_ERROR;
  users = malloc(sizeof *users * (size_t)(n ? n : 1));
  t = malloc(sizeof *t * (size_t)(n ? n : 1));
  if (users == NULL || t == NULL) goto cleanup;
  for (int i = 0; i < n; i++)
    users[i] = rows[i].user_id;
  qsort(users, (size_t)n, sizeof *users, str_cmp);
  int nusers = 0;
  for (int i = 0; i < n; i++)
    if (nusers == 0 || strcmp(users[nusers - 1], users[i]) != 0)
      users[nusers++] = users[i];
  /* active_ids comes sorted by id: the text order of canonical UUIDs. */
  qsort(items, (size_t)nitems, sizeof *items, str_cmp);
  size_t nt = 0;
  for (int i = 0; i < n; i++) {
    int u = find(users, nusers, rows[i].user_id);
    int it = find(items, nitems, rows[i].product_id);
    if (u >= 0 && it >= 0)
      t[nt++] = (struct reco_triple){u, it, (float)rows[i].weight};
  }
  out->users = nusers;
  out->items = nitems;
  out->interactions = (int)nt;
  if (nusers == 0 || nitems == 0) {
    rc = KIT_OK;
    goto cleanup;
  }
  if (reco_matrix_build(&m, nusers, nitems, t, nt) != KIT_OK) goto cleanup;
  if (als_train(&m, p, &model, progress, arg) != KIT_OK) goto cleanup;
  for (int from = 0; from < nusers; from += USERS_PER_TX) {
    int to = from + USERS_PER_TX < nusers ? from + USERS_PER_TX : nusers;
    int wrc =
        write_lists(pool, &model, &m, users, items, from, to, &out->lists);
    if (wrc != KIT_OK) {
      rc = wrc;
      goto cleanup;
    }
  }
  conn = db_acquire(pool, 5000);
  if (conn != NULL) {
    rstore_model_run_put(conn, nusers, nitems, (int)nt);
    db_release(pool, conn);
  }
  rc = KIT_OK;
cleanup:
  als_model_free(&model);
  reco_matrix_free(&m);
  free(users);
  free(t);
  arena_free(&a);
  return rc;
}
