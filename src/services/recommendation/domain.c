/* domain.c - matrices, ALS, item-to-item neighbours and the top-n helpers
 * (see domain.h). The history generator and the evaluation are in
 * evaluate.c. */
#include "services/recommendation/domain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kit/err.h"

/* --- matrices --------------------------------------------------------------
 */

static int triple_cmp(const void *a, const void *b) {
  const struct reco_triple *x = a, *y = b;
  if (x->r != y->r) return x->r < y->r ? -1 : 1;
  if (x->c != y->c) return x->c < y->c ? -1 : 1;
  return 0;
}

int reco_matrix_build(struct reco_matrix *m, int rows, int cols,
                      const struct reco_triple *t, size_t n) {
  memset(m, 0, sizeof *m);
  struct reco_triple *s = malloc((n ? n : 1) * sizeof *s);
  m->ptr = calloc((size_t)rows + 1, sizeof *m->ptr);
  m->idx = malloc((n ? n : 1) * sizeof *m->idx);
  m->val = malloc((n ? n : 1) * sizeof *m->val);
  if (s == NULL || m->ptr == NULL || m->idx == NULL || m->val == NULL) {
    free(s);
    reco_matrix_free(m);
    return KIT_NOMEM;
  }
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (t[i].r < 0 || t[i].r >= rows || t[i].c < 0 || t[i].c >= cols ||
        !(t[i].w > 0))
      continue;
    s[k++] = t[i];
  }
  qsort(s, k, sizeof *s, triple_cmp);
  size_t out = 0;
  for (size_t i = 0; i < k; i++) {
    if (out > 0 && s[i].r == s[out - 1].r && s[i].c == s[out - 1].c) {
      s[out - 1].w += s[i].w;
      continue;
    }
    s[out++] = s[i];
  }
  for (size_t i = 0; i < out; i++) {
    m->ptr[s[i].r + 1]++;
    m->idx[i] = s[i].c;
    m->val[i] = s[i].w;
  }
  for (int r = 0; r < rows; r++)
    m->ptr[r + 1] += m->ptr[r];
  m->rows = rows;
  m->cols = cols;
  free(s);
  return KIT_OK;
}

int reco_matrix_transpose(const struct reco_matrix *m, struct reco_matrix *t) {
  int nnz = m->ptr[m->rows];
  struct reco_triple *tr = malloc((nnz ? (size_t)nnz : 1) * sizeof *tr);
  if (tr == NULL) return KIT_NOMEM;
  for (int r = 0; r < m->rows; r++)
    for (int j = m->ptr[r]; j < m->ptr[r + 1]; j++)
      tr[j] = (struct reco_triple){m->idx[j], r, m->val[j]};
  int rc = reco_matrix_build(t, m->cols, m->rows, tr, (size_t)nnz);
  free(tr);
  return rc;
}

void reco_matrix_free(struct reco_matrix *m) {
  free(m->ptr);
  free(m->idx);
  free(m->val);
  memset(m, 0, sizeof *m);
}

/* --- deterministic randomness ------------------------------------------ */

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static double uniform(uint64_t *s) {
  return (double)(splitmix(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* --- ALS ----------------------------------------------------------------- */

struct als_params als_defaults(void) {
  return (struct als_params){
      .factors = 24, .iterations = 12, .reg = 0.1f, .alpha = 20.0f, .seed = 42};
}

int als_cholesky_solve(float *a, float *b, int k) {
  /* A = L L^T, L stored in the lower triangle of a. */
  for (int j = 0; j < k; j++) {
    double d = a[j * k + j];
    for (int p = 0; p < j; p++)
      d -= (double)a[j * k + p] * a[j * k + p];
    if (!(d > 1e-12)) return 0;
    float ljj = (float)sqrt(d);
    a[j * k + j] = ljj;
    for (int i = j + 1; i < k; i++) {
      double v = a[i * k + j];
      for (int p = 0; p < j; p++)
        v -= (double)a[i * k + p] * a[j * k + p];
      a[i * k + j] = (float)(v / ljj);
    }
  }
  for (int i = 0; i < k; i++) { /* L z = b */
    double v = b[i];
    for (int p = 0; p < i; p++)
      v -= (double)a[i * k + p] * b[p];
    b[i] = (float)(v / a[i * k + i]);
  }
  for (int i = k - 1; i >= 0; i--) { /* L^T x = z */
    double v = b[i];
    for (int p = i + 1; p < k; p++)
      v -= (double)a[p * k + i] * b[p];
    b[i] = (float)(v / a[i * k + i]);
  }
  return 1;
}

/* One half-step: solves every row of `solve` (rows x k) against the fixed
 * factors `fixed` (m->cols x k). Returns the weighted error of the observed
 * entries. */
static double als_half_step(const struct reco_matrix *m, const float *fixed,
                            float *solve, int k, float reg, float alpha,
                            float *gram, float *a, float *b) {
  memset(gram, 0, sizeof(float) * (size_t)k * (size_t)k);
  for (int i = 0; i < m->cols; i++) {
    const float *y = fixed + (size_t)i * (size_t)k;
    for (int p = 0; p < k; p++)
      for (int q = 0; q <= p; q++)
        gram[p * k + q] += y[p] * y[q];
  }
  for (int p = 0; p < k; p++)
    for (int q = 0; q < p; q++)
      gram[q * k + p] = gram[p * k + q];
  double loss = 0;
  for (int r = 0; r < m->rows; r++) {
    float *x = solve + (size_t)r * (size_t)k;
    if (m->ptr[r] == m->ptr[r + 1]) {
      memset(x, 0, sizeof(float) * (size_t)k);
      continue;
    }
    memcpy(a, gram, sizeof(float) * (size_t)k * (size_t)k);
    memset(b, 0, sizeof(float) * (size_t)k);
    for (int p = 0; p < k; p++)
      a[p * k + p] += reg;
    for (int j = m->ptr[r]; j < m->ptr[r + 1]; j++) {
      const float *y = fixed + (size_t)m->idx[j] * (size_t)k;
      float c = 1.0f + alpha * m->val[j];
      for (int p = 0; p < k; p++) {
        b[p] += c * y[p];
        for (int q = 0; q <= p; q++)
          a[p * k + q] += (c - 1.0f) * y[p] * y[q];
      }
    }
    for (int p = 0; p < k; p++)
      for (int q = 0; q < p; q++)
        a[q * k + p] = a[p * k + q];
    if (!als_cholesky_solve(a, b, k)) {
      memset(x, 0, sizeof(float) * (size_t)k);
      continue;
    }
    memcpy(x, b, sizeof(float) * (size_t)k);
    for (int j = m->ptr[r]; j < m->ptr[r + 1]; j++) {
      const float *y = fixed + (size_t)m->idx[j] * (size_t)k;
      double dot = 0;
      for (int p = 0; p < k; p++)
        dot += (double)x[p] * y[p];
      loss += (1.0 + alpha * m->val[j]) * (1.0 - dot) * (1.0 - dot);
    }
  }
  return loss;
}

int als_train(const struct reco_matrix *m, const struct als_params *p,
              struct als_model *out, als_progress_fn progress, void *arg) {
  memset(out, 0, sizeof *out);
  if (p->factors < 1 || p->factors > ALS_MAX_FACTORS || p->iterations < 1 ||
      !(p->reg >= 0) || !(p->alpha >= 0))
    return KIT_INVALID;
  int k = p->factors;
  struct reco_matrix t;
  if (reco_matrix_transpose(m, &t) != KIT_OK) return KIT_NOMEM;
  out->users = m->rows;
  out->items = m->cols;
  out->k = k;
  out->x = calloc((size_t)(m->rows ? m->rows : 1) * (size_t)k, sizeof(float));
  out->y = calloc((size_t)(m->cols ? m->cols : 1) * (size_t)k, sizeof(float));
  float *gram = malloc(sizeof(float) * (size_t)k * (size_t)k);
  float *a = malloc(sizeof(float) * (size_t)k * (size_t)k);
  float *b = malloc(sizeof(float) * (size_t)k);
  int rc = KIT_NOMEM;
  if (out->x == NULL || out->y == NULL || gram == NULL || a == NULL ||
      b == NULL)
    goto cleanup;
  uint64_t s = p->seed;
  for (size_t i = 0; i < (size_t)m->cols * (size_t)k; i++)
    out->y[i] = (float)((uniform(&s) - 0.5) * 0.1);
  for (int it = 0; it < p->iterations; it++) {
    als_half_step(m, out->y, out->x, k, p->reg, p->alpha, gram, a, b);
    double loss =
        als_half_step(&t, out->x, out->y, k, p->reg, p->alpha, gram, a, b);
    if (progress != NULL) progress(arg, it + 1, p->iterations, loss);
  }
  rc = KIT_OK;
cleanup:
  free(gram);
  free(a);
  free(b);
  reco_matrix_free(&t);
  if (rc != KIT_OK) als_model_free(out);
  return rc;
}

void als_model_free(struct als_model *model) {
  free(model->x);
  free(model->y);
  memset(model, 0, sizeof *model);
}

float als_score(const struct als_model *model, int u, int i) {
  const float *x = model->x + (size_t)u * (size_t)model->k;
  const float *y = model->y + (size_t)i * (size_t)model->k;
  float dot = 0;
  for (int p = 0; p < model->k; p++)
    dot += x[p] * y[p];
  return dot;
}

/* Keeps the n best (item, score) pairs in descending order; returns the new
 * count. Ties keep the lower item first, so results are deterministic. */
static int top_insert(int *items, float *scores, int count, int n, int item,
                      float score) {
  if (n <= 0) return count;
  if (count == n && !(score > scores[n - 1])) return count;
  int pos = count < n ? count : n - 1;
  while (pos > 0 && score > scores[pos - 1]) {
    items[pos] = items[pos - 1];
    scores[pos] = scores[pos - 1];
    pos--;
  }
  items[pos] = item;
  scores[pos] = score;
  return count < n ? count + 1 : count;
}

static int in_row(const struct reco_matrix *m, int r, int c) {
  if (m == NULL || r < 0 || r >= m->rows) return 0;
  int lo = m->ptr[r], hi = m->ptr[r + 1];
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (m->idx[mid] == c) return 1;
    if (m->idx[mid] < c)
      lo = mid + 1;
    else
      hi = mid;
  }
  return 0;
}

int als_recommend(const struct als_model *model, const struct reco_matrix *seen,
                  const unsigned char *allowed, int u, int n, int *items,
                  float *scores) {
  int count = 0;
  if (u < 0 || u >= model->users) return 0;
  for (int i = 0; i < model->items; i++) {
    if (allowed != NULL && !allowed[i]) continue;
    if (in_row(seen, u, i)) continue;
    count = top_insert(items, scores, count, n, i, als_score(model, u, i));
  }
  return count;
}

/* --- item-to-item ----------------------------------------------------------
 */

double reco_cosine(double n_ab, double n_a, double n_b) {
  if (!(n_a > 0) || !(n_b > 0)) return 0;
  return n_ab / sqrt(n_a * n_b);
}

int reco_neighbors_build(const struct reco_matrix *m, int width,
                         struct reco_neighbors *out) {
  memset(out, 0, sizeof *out);
  struct reco_matrix t;
  if (reco_matrix_transpose(m, &t) != KIT_OK) return KIT_NOMEM;
  int items = m->cols;
  out->items = items;
  out->width = width;
  out->item = malloc(sizeof(int) * (size_t)(items ? items : 1) * (size_t)width);
  out->score =
      malloc(sizeof(float) * (size_t)(items ? items : 1) * (size_t)width);
  float *co = calloc((size_t)(items ? items : 1), sizeof *co);
  int *touched = malloc(sizeof(int) * (size_t)(items ? items : 1));
  if (out->item == NULL || out->score == NULL || co == NULL ||
      touched == NULL) {
    free(co);
    free(touched);
    reco_matrix_free(&t);
    reco_neighbors_free(out);
    return KIT_NOMEM;
  }
  for (int a = 0; a < items; a++) {
    int nt = 0;
    for (int j = t.ptr[a]; j < t.ptr[a + 1]; j++) {
      int u = t.idx[j];
      for (int q = m->ptr[u]; q < m->ptr[u + 1]; q++) {
        int b = m->idx[q];
        if (b == a) continue;
        if (co[b] == 0) touched[nt++] = b;
        co[b] += 1;
      }
    }
    int *ni = out->item + (size_t)a * (size_t)width;
    float *ns = out->score + (size_t)a * (size_t)width;
    int count = 0;
    double na = t.ptr[a + 1] - t.ptr[a];
    for (int x = 0; x < nt; x++) {
      int b = touched[x];
      double nb = t.ptr[b + 1] - t.ptr[b];
      count = top_insert(ni, ns, count, width, b,
                         (float)reco_cosine(co[b], na, nb));
      co[b] = 0;
    }
    for (int x = count; x < width; x++) {
      ni[x] = -1;
      ns[x] = 0;
    }
  }
  free(co);
  free(touched);
  reco_matrix_free(&t);
  return KIT_OK;
}

void reco_neighbors_free(struct reco_neighbors *nb) {
  free(nb->item);
  free(nb->score);
  memset(nb, 0, sizeof *nb);
}

int reco_neighbors_recommend(const struct reco_neighbors *nb,
                             const struct reco_matrix *m, int u, int n,
                             int *items, float *scores) {
  if (u < 0 || u >= m->rows || nb->items == 0) return 0;
  float *acc = calloc((size_t)nb->items, sizeof *acc);
  if (acc == NULL) return 0;
  for (int j = m->ptr[u]; j < m->ptr[u + 1]; j++) {
    int a = m->idx[j];
    for (int x = 0; x < nb->width; x++) {
      int b = nb->item[(size_t)a * (size_t)nb->width + (size_t)x];
      if (b < 0) break;
      acc[b] += nb->score[(size_t)a * (size_t)nb->width + (size_t)x];
    }
  }
  int count = 0;
  for (int i = 0; i < nb->items; i++)
    if (acc[i] > 0 && !in_row(m, u, i))
      count = top_insert(items, scores, count, n, i, acc[i]);
  free(acc);
  return count;
}

/* --- shared with evaluate.c -------------------------------------------------
 */

uint64_t reco_random_next(uint64_t *state) { return splitmix(state); }
double reco_random_uniform(uint64_t *state) { return uniform(state); }
int reco_top_insert(int *items, float *scores, int count, int n, int item,
                    float score) {
  return top_insert(items, scores, count, n, item, score);
}
