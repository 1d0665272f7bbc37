/* test_recommendation_domain.c - the recommendation models
 * (src/services/recommendation/domain.c, evaluate.c): the Cholesky solve,
 * the interaction matrix, ALS and item-to-item on planted blocks, the
 * deterministic shopper history, and the evaluation: both models must beat
 * trending on recall@10. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kit/err.h"
#include "services/recommendation/domain.h"

static void test_cholesky(void **state) {
  (void)state;
  /* [4 2; 2 3] x = [2; 5]  ->  x = [-0.5, 2] */
  float a[4] = {4, 2, 2, 3};
  float b[2] = {2, 5};
  assert_true(als_cholesky_solve(a, b, 2));
  assert_true(fabsf(b[0] + 0.5f) < 1e-5f);
  assert_true(fabsf(b[1] - 2.0f) < 1e-5f);
  float bad[4] = {0, 1, 1, 0};
  float v[2] = {1, 1};
  assert_false(als_cholesky_solve(bad, v, 2));
}

static void test_matrix_sums_duplicates(void **state) {
  (void)state;
  struct reco_triple t[] = {{1, 2, 1}, {0, 1, 2},  {1, 2, 3},
                            {5, 0, 1}, {0, 0, -1}, {0, 3, 1}};
  struct reco_matrix m;
  assert_int_equal(reco_matrix_build(&m, 2, 4, t, 6), KIT_OK);
  assert_int_equal(m.ptr[2], 3); /* (0,1) (0,3) (1,2); bad rows dropped */
  assert_int_equal(m.idx[0], 1);
  assert_int_equal(m.idx[1], 3);
  assert_int_equal(m.idx[2], 2);
  assert_true(m.val[2] == 4.0f);
  struct reco_matrix tr;
  assert_int_equal(reco_matrix_transpose(&m, &tr), KIT_OK);
  assert_int_equal(tr.rows, 4);
  assert_int_equal(tr.ptr[3] - tr.ptr[2], 1);
  reco_matrix_free(&tr);
  reco_matrix_free(&m);
}

/* Two blocks: users 0-9 buy items 0-4, users 10-19 items 5-9; user 0 never
 * bought item 4 and user 10 never bought item 9. */
static int blocks(struct reco_matrix *m) {
  struct reco_triple t[100];
  size_t n = 0;
  for (int u = 0; u < 20; u++)
    for (int i = 0; i < 5; i++) {
      int item = u < 10 ? i : 5 + i;
      if ((u == 0 && item == 4) || (u == 10 && item == 9)) continue;
      t[n++] = (struct reco_triple){u, item, 1};
    }
  return reco_matrix_build(m, 20, 10, t, n);
}

static void test_als_finds_the_block(void **state) {
  (void)state;
  struct reco_matrix m;
  assert_int_equal(blocks(&m), KIT_OK);
  struct als_params p = als_defaults();
  p.factors = 4;
  p.iterations = 10;
  struct als_model model;
  assert_int_equal(als_train(&m, &p, &model, NULL, NULL), KIT_OK);
  int items[10];
  float scores[10];
  assert_int_equal(als_recommend(&model, &m, NULL, 0, 3, items, scores), 3);
  assert_int_equal(items[0], 4); /* the block's missing item, not 5-9 */
  assert_true(scores[0] > scores[1]);
  assert_int_equal(als_recommend(&model, &m, NULL, 10, 1, items, scores), 1);
  assert_int_equal(items[0], 9);
  /* Never an item the user has, nor one not allowed. */
  unsigned char allowed[10] = {1, 1, 1, 1, 0, 1, 1, 1, 1, 1};
  int n = als_recommend(&model, &m, allowed, 0, 10, items, scores);
  assert_int_equal(n, 5);
  for (int i = 0; i < n; i++)
    assert_true(items[i] >= 5);
  struct als_params bad = p;
  bad.factors = 0;
  struct als_model none;
  assert_int_equal(als_train(&m, &bad, &none, NULL, NULL), KIT_INVALID);
  als_model_free(&model);
  reco_matrix_free(&m);
}

static void test_neighbors(void **state) {
  (void)state;
  struct reco_matrix m;
  assert_int_equal(blocks(&m), KIT_OK);
  struct reco_neighbors nb;
  assert_int_equal(reco_neighbors_build(&m, 4, &nb), KIT_OK);
  for (int x = 0; x < 4; x++) {
    int b = nb.item[0 * 4 + x];
    assert_true(b >= 1 && b <= 4); /* item 0's neighbours: its block */
  }
  int items[2];
  float scores[2];
  assert_int_equal(reco_neighbors_recommend(&nb, &m, 0, 2, items, scores), 1);
  assert_int_equal(items[0], 4);
  assert_true(fabs(reco_cosine(2, 4, 1) - 1.0) < 1e-9);
  assert_true(reco_cosine(1, 0, 3) == 0);
  reco_neighbors_free(&nb);
  reco_matrix_free(&m);
}

static void test_history_is_deterministic(void **state) {
  (void)state;
  struct reco_history_params p = reco_history_defaults();
  p.users = 50;
  struct reco_purchase *a = NULL, *b = NULL;
  size_t na = 0, nb = 0;
  assert_int_equal(reco_history_generate(&p, &a, &na), KIT_OK);
  assert_int_equal(reco_history_generate(&p, &b, &nb), KIT_OK);
  assert_true(na > 50 && na == nb);
  assert_memory_equal(a, b, na * sizeof *a);
  for (size_t i = 0; i < na; i++) {
    assert_true(a[i].user >= 0 && a[i].user < 50);
    assert_true(a[i].item >= 0 && a[i].item < p.items);
  }
  free(a);
  free(b);
  p.users = 0;
  assert_int_equal(reco_history_generate(&p, &a, &na), KIT_INVALID);
}

static void test_models_beat_trending(void **state) {
  (void)state;
  struct reco_history_params p = reco_history_defaults();
  p.users = 1000;
  p.items = 300;
  p.clusters = 15;
  struct reco_purchase *h = NULL;
  size_t n = 0;
  assert_int_equal(reco_history_generate(&p, &h, &n), KIT_OK);
  struct als_params als = als_defaults();
  als.iterations = 8;
  als.factors = 16;
  struct reco_eval_row rows[RECO_MODEL_COUNT];
  assert_int_equal(
      reco_evaluate(h, n, p.users, p.items, &als, rows, NULL, NULL), KIT_OK);
  assert_string_equal(rows[RECO_TRENDING].model, "trending");
  assert_true(rows[RECO_TRENDING].users > 500);
  assert_true(rows[RECO_ITEM_TO_ITEM].recall > rows[RECO_TRENDING].recall);
  assert_true(rows[RECO_ALS].recall > rows[RECO_TRENDING].recall);
  /* and they spread over more of the catalog */
  assert_true(rows[RECO_ALS].coverage > rows[RECO_TRENDING].coverage);
  for (int m = 0; m < RECO_MODEL_COUNT; m++) {
    assert_true(rows[m].precision >= 0 && rows[m].precision <= 1);
    assert_true(rows[m].ndcg >= 0 && rows[m].ndcg <= 1);
  }
  free(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cholesky),
      cmocka_unit_test(test_matrix_sums_duplicates),
      cmocka_unit_test(test_als_finds_the_block),
      cmocka_unit_test(test_neighbors),
      cmocka_unit_test(test_history_is_deterministic),
      cmocka_unit_test(test_models_beat_trending),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
