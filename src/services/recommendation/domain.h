/* domain.h - the recommendation models as pure functions (no database).
 *
 * - an implicit-feedback matrix (users x items, CSR) built from purchase and
 *   click counts;
 * - ALS for implicit feedback (Hu, Koren, Volinsky 2008): confidence
 *   c = 1 + alpha * r, preference p = [r > 0], each half-step solved exactly
 *   per row with a Cholesky factorization of the k x k normal equations;
 * - item-to-item collaborative filtering (cosine of co-occurrence counts);
 * - a synthetic shopper history with planted taste structure and the
 *   leave-last-out evaluation behind `shopsphere recommend evaluate`.
 *
 * Written by hand: no packaged C library does implicit ALS. Everything here
 * is deterministic for a given seed. Memory: every function that allocates
 * says who frees.
 */
#ifndef SHOPSPHERE_RECOMMENDATION_DOMAIN_H
#define SHOPSPHERE_RECOMMENDATION_DOMAIN_H

#include <stddef.h>
#include <stdint.h>

/* --- the interaction matrix --- */

struct reco_matrix {
  int rows, cols;
  int *ptr;   /* rows + 1 offsets into idx/val */
  int *idx;   /* column of each entry, ascending within a row */
  float *val; /* summed weight of each entry (> 0) */
};

/* One observation: row (user) r saw column (item) c with weight w > 0. */
struct reco_triple {
  int r, c;
  float w;
};

/* Builds a CSR matrix of rows x cols from n triples, summing duplicates and
 * dropping out-of-range or non-positive entries. KIT_OK or KIT_NOMEM; free
 * with reco_matrix_free. */
int reco_matrix_build(struct reco_matrix *m, int rows, int cols,
                      const struct reco_triple *t, size_t n);
/* The transpose (items x users). KIT_OK or KIT_NOMEM. */
int reco_matrix_transpose(const struct reco_matrix *m, struct reco_matrix *t);
void reco_matrix_free(struct reco_matrix *m);

/* --- ALS --- */

#define ALS_MAX_FACTORS 64

struct als_params {
  int factors;    /* k, 1..ALS_MAX_FACTORS (default 24) */
  int iterations; /* alternations (default 12) */
  float reg;      /* lambda (default 0.1) */
  float alpha;    /* confidence slope (default 20) */
  uint64_t seed;  /* initial factors */
};

/* The defaults named above. */
struct als_params als_defaults(void);

struct als_model {
  int users, items, k;
  float *x; /* users x k */
  float *y; /* items x k */
};

/* Called after each alternation with the weighted squared error. */
typedef void (*als_progress_fn)(void *arg, int iteration, int iterations,
                                double loss);

/* Trains on m (users x items). KIT_OK, KIT_INVALID (bad params) or
 * KIT_NOMEM; free the model with als_model_free. */
int als_train(const struct reco_matrix *m, const struct als_params *p,
              struct als_model *out, als_progress_fn progress, void *arg);
void als_model_free(struct als_model *model);

/* The predicted preference of user u for item i. */
float als_score(const struct als_model *model, int u, int i);

/* The n best items for user u by score, skipping the items of row u of
 * seen (may be NULL) and items with allowed[i] == 0 (allowed may be NULL).
 * Writes up to n items and scores, best first; returns how many. */
int als_recommend(const struct als_model *model, const struct reco_matrix *seen,
                  const unsigned char *allowed, int u, int n, int *items,
                  float *scores);

/* Solves A x = b for a symmetric positive definite k x k matrix A (row
 * major, overwritten by its Cholesky factor). false when A is not positive
 * definite. */
int als_cholesky_solve(float *a, float *b, int k);

/* --- item-to-item --- */

/* Cosine of two items' co-occurrence: n_ab / sqrt(n_a * n_b); 0 when either
 * count is 0. */
double reco_cosine(double n_ab, double n_a, double n_b);

struct reco_neighbors {
  int items, width; /* width neighbours per item */
  int *item;        /* items x width, -1 past the end */
  float *score;     /* items x width */
};

/* Item-to-item neighbours from the rows of m (each row one user's items):
 * co-occurrence of two items in a row counts once, scored by reco_cosine;
 * the best `width` per item. KIT_OK or KIT_NOMEM; free with
 * reco_neighbors_free. */
int reco_neighbors_build(const struct reco_matrix *m, int width,
                         struct reco_neighbors *out);
void reco_neighbors_free(struct reco_neighbors *nb);

/* The n best items for a user with history row u of m: the sum over the
 * history of each neighbour's score, skipping the history itself. Returns
 * how many were written. */
int reco_neighbors_recommend(const struct reco_neighbors *nb,
                             const struct reco_matrix *m, int u, int n,
                             int *items, float *scores);

/* --- the shopper history generator --- */

struct reco_history_params {
  uint64_t seed;
  int users, items;
  int clusters;            /* taste clusters */
  const int *item_cluster; /* items entries, or NULL: item % clusters */
  int min_orders, max_orders;
  int max_basket;     /* items per order: 1..max_basket */
  double taste_share; /* probability a pick follows the user's taste */
};

/* Defaults for the evaluation: 2,000 users, 600 items, 30 clusters. */
struct reco_history_params reco_history_defaults(void);

struct reco_purchase {
  int user, order, item; /* order: the user's order number, chronological */
};

/* Generates the history: each user has one or two favourite clusters; each
 * pick is, with probability taste_share, an item of a favourite cluster
 * (Zipf-skewed inside it) and otherwise a globally popular item. Rows are in
 * chronological order per user. KIT_OK or KIT_NOMEM; free(*out). */
int reco_history_generate(const struct reco_history_params *p,
                          struct reco_purchase **out, size_t *n);

/* --- evaluation --- */

enum reco_model_kind { RECO_TRENDING = 0, RECO_ITEM_TO_ITEM, RECO_ALS };
#define RECO_MODEL_COUNT 3

struct reco_eval_row {
  const char *model; /* "trending", "item-to-item", "als" */
  double precision, recall, ndcg, coverage;
  int users; /* users evaluated */
};

/* Leave-last-out on history h (n rows over users x items): each user's last
 * order is held out, the models train on the rest, and each recommends 10
 * items per user (never one from the training history). Fills rows[3] in
 * enum order. KIT_OK or KIT_NOMEM. */
int reco_evaluate(const struct reco_purchase *h, size_t n, int users, int items,
                  const struct als_params *als,
                  struct reco_eval_row rows[RECO_MODEL_COUNT],
                  als_progress_fn progress, void *arg);

/* --- helpers --- */

/* splitmix64: the next value of a deterministic sequence, and one in [0,1). */
uint64_t reco_random_next(uint64_t *state);
double reco_random_uniform(uint64_t *state);

/* Keeps the n best (item, score) pairs of items/scores (count so far) in
 * descending order of score, ties in arrival order; returns the new count. */
int reco_top_insert(int *items, float *scores, int count, int n, int item,
                    float score);

#endif
