/* evaluate.c - the synthetic shopper history with planted taste structure
 * and the leave-last-out evaluation of trending, item-to-item and ALS
 * (see domain.h; `shopsphere recommend evaluate` prints it). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kit/err.h"
#include "services/recommendation/domain.h"

#define EVAL_K 10

struct reco_history_params reco_history_defaults(void) {
  return (struct reco_history_params){.seed = 20261203,
                                      .users = 2000,
                                      .items = 600,
                                      .clusters = 30,
                                      .item_cluster = NULL,
                                      .min_orders = 2,
                                      .max_orders = 6,
                                      .max_basket = 3,
                                      .taste_share = 0.8};
}

/* A Zipf-weighted sampler over a list of items (cumulative weights). */
struct sampler {
  int n;
  int *item;
  double *cum;
};

static int sampler_init(struct sampler *s, int n) {
  s->n = 0;
  s->item = malloc(sizeof(int) * (size_t)(n ? n : 1));
  s->cum = malloc(sizeof(double) * (size_t)(n ? n : 1));
  return s->item != NULL && s->cum != NULL ? KIT_OK : KIT_NOMEM;
}

static void sampler_add(struct sampler *s, int item) {
  double w = 1.0 / (double)(s->n + 1); /* Zipf, exponent 1 */
  s->item[s->n] = item;
  s->cum[s->n] = (s->n ? s->cum[s->n - 1] : 0) + w;
  s->n++;
}

static int sampler_pick(const struct sampler *s, uint64_t *rng) {
  if (s->n == 0) return -1;
  double x = reco_random_uniform(rng) * s->cum[s->n - 1];
  int lo = 0, hi = s->n - 1;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (s->cum[mid] < x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return s->item[lo];
}

static void sampler_free(struct sampler *s) {
  free(s->item);
  free(s->cum);
}

static int cluster_of(const struct reco_history_params *p, int item) {
  int c = p->item_cluster ? p->item_cluster[item] : item % p->clusters;
  return c >= 0 && c < p->clusters ? c : 0;
}

int reco_history_generate(const struct reco_history_params *p,
                          struct reco_purchase **out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (p->users < 1 || p->items < 1 || p->clusters < 1 || p->min_orders < 1 ||
      p->max_orders < p->min_orders || p->max_basket < 1)
    return KIT_INVALID;
  int rc = KIT_NOMEM;
  uint64_t rng = p->seed;
  struct sampler *by_cluster = calloc((size_t)p->clusters, sizeof *by_cluster);
  struct sampler global = {0};
  int *perm = malloc(sizeof(int) * (size_t)p->items);
  size_t cap = (size_t)p->users * (size_t)p->max_orders * (size_t)p->max_basket;
  struct reco_purchase *rows = malloc(sizeof *rows * cap);
  int *mine =
      malloc(sizeof(int) * (size_t)p->max_orders * (size_t)p->max_basket);
  if (by_cluster == NULL || perm == NULL || rows == NULL || mine == NULL ||
      sampler_init(&global, p->items) != KIT_OK)
    goto cleanup;
  int *sizes = calloc((size_t)p->clusters, sizeof *sizes);
  if (sizes == NULL) goto cleanup;
  for (int i = 0; i < p->items; i++)
    sizes[cluster_of(p, i)]++;
  for (int c = 0; c < p->clusters; c++)
    if (sampler_init(&by_cluster[c], sizes[c]) != KIT_OK) {
      free(sizes);
      goto cleanup;
    }
  free(sizes);
  /* A shuffled order gives each item its rank: inside its cluster and in
   * the global popularity list. */
  for (int i = 0; i < p->items; i++)
    perm[i] = i;
  for (int i = p->items - 1; i > 0; i--) {
    int j = (int)(reco_random_next(&rng) % (uint64_t)(i + 1));
    int t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  for (int i = 0; i < p->items; i++) {
    sampler_add(&by_cluster[cluster_of(p, perm[i])], perm[i]);
    sampler_add(&global, perm[i]);
  }

  size_t k = 0;
  for (int u = 0; u < p->users; u++) {
    int fav[2];
    fav[0] = (int)(reco_random_next(&rng) % (uint64_t)p->clusters);
    fav[1] = reco_random_uniform(&rng) < 0.5
                 ? (int)(reco_random_next(&rng) % (uint64_t)p->clusters)
                 : fav[0];
    int orders =
        p->min_orders + (int)(reco_random_next(&rng) %
                              (uint64_t)(p->max_orders - p->min_orders + 1));
    int owned = 0;
    for (int o = 0; o < orders; o++) {
      int basket = 1 + (int)(reco_random_next(&rng) % (uint64_t)p->max_basket);
      int taste = reco_random_uniform(&rng) < p->taste_share;
      int c = fav[reco_random_uniform(&rng) < 0.7 ? 0 : 1];
      int placed = 0;
      for (int b = 0; b < basket; b++) {
        for (int attempt = 0; attempt < 8; attempt++) {
          int item = taste ? sampler_pick(&by_cluster[c], &rng)
                           : sampler_pick(&global, &rng);
          if (item < 0) break;
          int dup = 0;
          for (int x = 0; x < owned; x++)
            if (mine[x] == item) dup = 1;
          if (dup) continue;
          mine[owned++] = item;
          rows[k++] = (struct reco_purchase){u, o, item};
          placed++;
          break;
        }
      }
      (void)placed;
    }
  }
  *out = rows;
  *n = k;
  rows = NULL;
  rc = KIT_OK;
cleanup:
  if (by_cluster != NULL)
    for (int c = 0; c < p->clusters; c++)
      sampler_free(&by_cluster[c]);
  free(by_cluster);
  sampler_free(&global);
  free(perm);
  free(rows);
  free(mine);
  return rc;
}

/* --- evaluation ---------------------------------------------------------- */

struct metrics {
  double precision, recall, ndcg;
  int users;
  unsigned char *seen_items; /* coverage */
};

static void score_user(struct metrics *mt, const int *recs, int nrec,
                       const int *test, int ntest) {
  int hits = 0;
  double dcg = 0, idcg = 0;
  for (int r = 0; r < nrec; r++) {
    mt->seen_items[recs[r]] = 1;
    for (int t = 0; t < ntest; t++)
      if (recs[r] == test[t]) {
        hits++;
        dcg += 1.0 / log2((double)r + 2.0);
        break;
      }
  }
  for (int r = 0; r < ntest && r < EVAL_K; r++)
    idcg += 1.0 / log2((double)r + 2.0);
  mt->precision += (double)hits / EVAL_K;
  mt->recall += ntest ? (double)hits / ntest : 0;
  mt->ndcg += idcg > 0 ? dcg / idcg : 0;
  mt->users++;
}

static void finish(struct metrics *mt, struct reco_eval_row *row,
                   const char *name, int items) {
  int covered = 0;
  for (int i = 0; i < items; i++)
    covered += mt->seen_items[i];
  int u = mt->users ? mt->users : 1;
  *row = (struct reco_eval_row){.model = name,
                                .precision = mt->precision / u,
                                .recall = mt->recall / u,
                                .ndcg = mt->ndcg / u,
                                .coverage = items ? (double)covered / items : 0,
                                .users = mt->users};
}

int reco_evaluate(const struct reco_purchase *h, size_t n, int users, int items,
                  const struct als_params *als,
                  struct reco_eval_row rows[RECO_MODEL_COUNT],
                  als_progress_fn progress, void *arg) {
  int rc = KIT_NOMEM;
  int *last = malloc(sizeof(int) * (size_t)(users ? users : 1));
  struct reco_triple *train = malloc(sizeof *train * (n ? n : 1));
  struct reco_triple *test = malloc(sizeof *test * (n ? n : 1));
  int *orders = calloc((size_t)(users ? users : 1), sizeof *orders);
  double *pop = calloc((size_t)(items ? items : 1), sizeof *pop);
  struct metrics mt[RECO_MODEL_COUNT] = {0};
  struct reco_matrix mtrain = {0}, mtest = {0};
  struct reco_neighbors nb = {0};
  struct als_model model = {0};
  int recs[EVAL_K];
  float scores[EVAL_K];
  if (last == NULL || train == NULL || test == NULL || orders == NULL ||
      pop == NULL)
    goto cleanup;
  for (int m = 0; m < RECO_MODEL_COUNT; m++)
    if ((mt[m].seen_items = calloc((size_t)(items ? items : 1), 1)) == NULL)
      goto cleanup;
  for (int u = 0; u < users; u++)
    last[u] = -1;
  for (size_t i = 0; i < n; i++) {
    if (h[i].user < 0 || h[i].user >= users) continue;
    if (h[i].order > last[h[i].user]) last[h[i].user] = h[i].order;
  }
  /* Count each user's distinct orders: a user with one order has no
   * training history and is left out of the test. */
  for (size_t i = 0; i < n; i++) {
    int u = h[i].user;
    if (u >= 0 && u < users && h[i].order != last[u]) orders[u] = 1;
  }
  size_t ntrain = 0, ntest = 0;
  for (size_t i = 0; i < n; i++) {
    int u = h[i].user;
    if (u < 0 || u >= users || h[i].item < 0 || h[i].item >= items) continue;
    if (h[i].order == last[u]) {
      if (orders[u]) test[ntest++] = (struct reco_triple){u, h[i].item, 1};
    } else {
      train[ntrain++] = (struct reco_triple){u, h[i].item, 1};
      pop[h[i].item] += 1;
    }
  }
  if (reco_matrix_build(&mtrain, users, items, train, ntrain) != KIT_OK ||
      reco_matrix_build(&mtest, users, items, test, ntest) != KIT_OK ||
      reco_neighbors_build(&mtrain, 50, &nb) != KIT_OK)
    goto cleanup;
  int arc = als_train(&mtrain, als, &model, progress, arg);
  if (arc != KIT_OK) {
    rc = arc;
    goto cleanup;
  }

  /* Trending: the most bought items of the training period. */
  int top[EVAL_K + 256];
  float tops[EVAL_K + 256];
  int ntop = 0, want = EVAL_K + 256 < items ? EVAL_K + 256 : items;
  for (int i = 0; i < items; i++)
    ntop = reco_top_insert(top, tops, ntop, want, i, (float)pop[i]);

  for (int u = 0; u < users; u++) {
    int nt = mtest.ptr[u + 1] - mtest.ptr[u];
    if (nt == 0) continue;
    const int *truth = mtest.idx + mtest.ptr[u];
    /* trending, skipping what the user already has */
    int nr = 0;
    for (int x = 0; x < ntop && nr < EVAL_K; x++) {
      int it = top[x], have = 0;
      for (int j = mtrain.ptr[u]; j < mtrain.ptr[u + 1]; j++)
        if (mtrain.idx[j] == it) have = 1;
      if (!have) recs[nr++] = it;
    }
    score_user(&mt[RECO_TRENDING], recs, nr, truth, nt);
    nr = reco_neighbors_recommend(&nb, &mtrain, u, EVAL_K, recs, scores);
    score_user(&mt[RECO_ITEM_TO_ITEM], recs, nr, truth, nt);
    nr = als_recommend(&model, &mtrain, NULL, u, EVAL_K, recs, scores);
    score_user(&mt[RECO_ALS], recs, nr, truth, nt);
  }
  finish(&mt[RECO_TRENDING], &rows[RECO_TRENDING], "trending", items);
  finish(&mt[RECO_ITEM_TO_ITEM], &rows[RECO_ITEM_TO_ITEM], "item-to-item",
         items);
  finish(&mt[RECO_ALS], &rows[RECO_ALS], "als", items);
  rc = KIT_OK;
cleanup:
  for (int m = 0; m < RECO_MODEL_COUNT; m++)
    free(mt[m].seen_items);
  free(last);
  free(train);
  free(test);
  free(orders);
  free(pop);
  reco_matrix_free(&mtrain);
  reco_matrix_free(&mtest);
  reco_neighbors_free(&nb);
  als_model_free(&model);
  return rc;
}
