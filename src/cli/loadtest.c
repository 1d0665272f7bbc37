/* loadtest.c - `shopsphere loadtest`: the seed's k6 scenario in C.
 *
 * Virtual users (VUs) ramp through stages (default: to 100, hold, to 200,
 * hold, down to 0) and each loops over a shopper's iterations chosen by
 * weight: browse a product page, search, read a product, fill a cart
 * (create + add) or check out (create + add + POST /orders with the
 * sandbox's tok_visa and an Idempotency-Key), with a think time before
 * every request. Optionally an admin ships and refunds a share of the
 * orders (the chaos drill's mix).
 *
 * Every VU is one libcurl easy handle (its own kept-alive connection) in one
 * curl multi event loop: 200 users need no 200 threads. Set-up (an admin
 * creates a category and products with ample stock; customers sign up and
 * sign in, as bench/checkout.mjs does) is not measured.
 *
 * The verdict (loadtest.h): thresholds on p95/p99/error rate, per route with
 * --slo strict; exit 1 when one fails. The pure parts (stages,
 * percentiles, thresholds) are in loadtest_stats.c. */
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/loadtest.h"

#define DEFAULT_STAGES "30s:100,1m:100,30s:200,1m:200,30s:0"
#define MAX_VUS 10000

enum step {
  ST_BROWSE,
  ST_SEARCH,
  ST_PRODUCT,
  ST_CART_CREATE,
  ST_CART_ADD,
  ST_CHECKOUT,
  ST_SHIP,
  ST_REFUND,
  ST_COUNT
};
static const char *const step_names[ST_COUNT] = {
    "browse",   "search",   "product", "cart_create",
    "cart_add", "checkout", "ship",    "refund"};

enum flow { FL_BROWSE, FL_SEARCH, FL_PRODUCT, FL_CART, FL_CHECKOUT, FL_COUNT };
static const char *const flow_names[FL_COUNT] = {"browse", "search", "product",
                                                 "cart", "checkout"};
/* The steps of each flow; ST_COUNT ends it. */
static const enum step flow_steps[FL_COUNT][6] = {
    {ST_BROWSE, ST_COUNT},
    {ST_SEARCH, ST_COUNT},
    {ST_PRODUCT, ST_COUNT},
    {ST_CART_CREATE, ST_CART_ADD, ST_COUNT},
    {ST_CART_CREATE, ST_CART_ADD, ST_CHECKOUT, ST_SHIP, ST_REFUND, ST_COUNT},
};

static const char *const search_words[] = {"load", "product", "shirt", "tee",
                                           "mug",  "bag",     "blue",  "no"};

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

/* --- options ------------------------------------------------------------- */

struct options {
  char base[512];
  struct lt_stage stages[LT_MAX_STAGES];
  int nstages;
  int weights[FL_COUNT];
  int refund_percent;
  int64_t think_min_ms, think_max_ms, timeout_ms;
  int users, products;
  double p95_ms, p99_ms, error_rate;
  bool strict, quiet;
  const char *report;
};

/* --- one HTTP exchange --------------------------------------------------- */

struct xfer {
  CURL *h;
  struct curl_slist *headers;
  FILE *mem; /* the answer's body is written here (open_memstream) */
  char *buf; /* after xfer_done: the body, NUL-terminated */
  size_t len;
  char body[1024];
  long status;
  CURLcode rc;
};

static bool xfer_init(struct xfer *x) {
  *x = (struct xfer){0};
  x->h = curl_easy_init();
  return x->h != NULL;
}

static void xfer_free(struct xfer *x) {
  if (x->h) curl_easy_cleanup(x->h);
  curl_slist_free_all(x->headers);
  if (x->mem) fclose(x->mem);
  free(x->buf);
  *x = (struct xfer){0};
}

static void random_uuid(uint64_t *rng, char out[37]);

/* Sets x up for one request; body (may be NULL) is copied. */
static void xfer_prepare(struct xfer *x, const struct options *o,
                         const char *method, const char *url, const char *token,
                         const char *body, const char *idempotency_key) {
  curl_slist_free_all(x->headers);
  x->headers = NULL;
  if (x->mem) fclose(x->mem);
  free(x->buf);
  x->buf = NULL;
  x->len = 0;
  x->mem = open_memstream(&x->buf, &x->len);
  if (x->mem == NULL) x->mem = fopen("/dev/null", "w"); /* the body is lost */
  x->status = 0;
  x->rc = CURLE_OK;
  curl_easy_setopt(x->h, CURLOPT_URL, url);
  curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x->mem);
  curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
  curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
  x->headers = curl_slist_append(x->headers, "accept: application/json");
  if (token) {
    char auth[4096];
    snprintf(auth, sizeof auth, "authorization: Bearer %s", token);
    x->headers = curl_slist_append(x->headers, auth);
  }
  if (idempotency_key) {
    char idem[128];
    snprintf(idem, sizeof idem, "idempotency-key: %s", idempotency_key);
    x->headers = curl_slist_append(x->headers, idem);
  }
  if (body) {
    snprintf(x->body, sizeof x->body, "%s", body);
    x->headers =
        curl_slist_append(x->headers, "content-type: application/json");
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE, (long)strlen(x->body));
  } else {
    curl_easy_setopt(x->h, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(x->h, CURLOPT_CUSTOMREQUEST,
                   strcmp(method, "GET") == 0 || strcmp(method, "POST") == 0
                       ? NULL
                       : method);
  curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->headers);
}

static void xfer_done(struct xfer *x, CURLcode rc) {
  x->rc = rc;
  if (x->mem) fflush(x->mem); /* buf and len now hold the body */
  curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
}

/* Runs xs[0..n) concurrently to completion (set-up only). */
static void run_batch(CURLM *multi, struct xfer *xs, int n) {
  for (int i = 0; i < n; i++)
    curl_multi_add_handle(multi, xs[i].h);
  int running = n;
  while (running > 0) {
    curl_multi_perform(multi, &running);
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(multi, &left)) != NULL) {
      if (m->msg != CURLMSG_DONE) continue;
      struct xfer *x = NULL;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
      xfer_done(x, m->data.result);
    }
    if (running > 0) curl_multi_poll(multi, NULL, 0, 100, NULL);
  }
  for (int i = 0; i < n; i++)
    curl_multi_remove_handle(multi, xs[i].h);
}

/* The string field name of x's JSON answer into out; false if missing. */
static bool answer_field(const struct xfer *x, const char *name, char *out,
                         size_t size) {
  if (x->buf == NULL) return false;
  json_t *j = json_loads(x->buf, 0, NULL);
  const char *v = j ? json_string_value(json_object_get(j, name)) : NULL;
  bool ok = v != NULL && strlen(v) < size;
  if (ok) snprintf(out, size, "%s", v);
  json_decref(j);
  return ok;
}

/* --- randomness and time ------------------------------------------------- */

static uint64_t rng_next(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *s = x;
  return x;
}

/* splitmix64: seeds of independent streams (xorshift states taken from
 * one xorshift stream would be the same sequence shifted). */
static uint64_t rng_seed(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return z ? z : 1;
}

static int64_t rng_range(uint64_t *s, int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  return lo + (int64_t)(rng_next(s) % (uint64_t)(hi - lo + 1));
}

static void random_uuid(uint64_t *rng, char out[37]) {
  uint64_t a = rng_next(rng), b = rng_next(rng);
  snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
           (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
           (unsigned)((b >> 48) & 0x3fff) | 0x8000,
           (unsigned long long)(b & 0xffffffffffffULL));
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- set-up -------------------------------------------------------------- */

struct fixture {
  char admin_token[4096];
  char category_id[64];
  char (*products)[64];
  int nproducts;
  char (*tokens)[4096];
  int ntokens;
};

static void fixture_free(struct fixture *f) {
  free(f->products);
  free(f->tokens);
}

static bool admin_login(CURLM *multi, const struct options *o,
                        const struct config *cfg, struct fixture *f) {
  if (cfg->admin_email[0] == '\0' || cfg->admin_password[0] == '\0')
    return false;
  struct xfer x;
  if (!xfer_init(&x)) return false;
  json_t *b = json_pack("{s:s, s:s}", "email", cfg->admin_email, "password",
                        cfg->admin_password);
  char *body = json_dumps(b, JSON_COMPACT);
  char url[600];
  snprintf(url, sizeof url, "%s/api/v1/auth/login", o->base);
  /* Retried while the platform finishes starting (the demo admin appears
   * once the user and auth services are up), at most 8 times: 10 failed
   * logins would lock the account a while. */
  bool ok = false;
  for (int attempt = 0; attempt < 8 && !ok && !stop_signal; attempt++) {
    if (attempt > 0) sleep(4);
    xfer_prepare(&x, o, "POST", url, NULL, body, NULL);
    run_batch(multi, &x, 1);
    ok = x.status == 200 && answer_field(&x, "access_token", f->admin_token,
                                         sizeof f->admin_token);
  }
  if (!ok)
    fprintf(stderr, "loadtest: the admin's login answered %ld%s%s\n", x.status,
            x.rc ? ": " : "", x.rc ? curl_easy_strerror(x.rc) : "");
  free(body);
  json_decref(b);
  xfer_free(&x);
  return ok;
}

/* Products: with the admin, a category of the run's own and o->products
 * products with ample stock; without, the catalog's first active ones. */
static bool setup_products(CURLM *multi, const struct options *o,
                           const struct config *cfg, const char *tag,
                           struct fixture *f) {
  char url[600];
  f->products = calloc((size_t)o->products, sizeof *f->products);
  if (f->products == NULL) return false;
  if (!admin_login(multi, o, cfg, f)) {
    fprintf(stderr, "loadtest: no admin (SHOPSPHERE_ADMIN_EMAIL/_PASSWORD): "
                    "using the catalog's products\n");
    struct xfer x;
    if (!xfer_init(&x)) return false;
    snprintf(url, sizeof url, "%s/api/v1/products?limit=%d", o->base,
             o->products > 100 ? 100 : o->products);
    xfer_prepare(&x, o, "GET", url, NULL, NULL, NULL);
    run_batch(multi, &x, 1);
    json_t *j = x.status == 200 ? json_loads(x.buf, 0, NULL) : NULL;
    json_t *items = json_object_get(j, "items");
    if (items == NULL) items = json_object_get(j, "data");
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
      const char *id = json_string_value(json_object_get(it, "id"));
      if (id && f->nproducts < o->products && strlen(id) < 64)
        snprintf(f->products[f->nproducts++], 64, "%s", id);
    }
    json_decref(j);
    xfer_free(&x);
    return f->nproducts > 0;
  }
  struct xfer x;
  if (!xfer_init(&x)) return false;
  char body[512];
  snprintf(body, sizeof body,
           "{\"name\":\"Load test %s\",\"slug\":\"load-test-%s\"}", tag, tag);
  snprintf(url, sizeof url, "%s/api/v1/categories", o->base);
  xfer_prepare(&x, o, "POST", url, f->admin_token, body, NULL);
  run_batch(multi, &x, 1);
  bool ok = x.status == 201 &&
            answer_field(&x, "id", f->category_id, sizeof f->category_id);
  if (!ok) fprintf(stderr, "loadtest: create category: HTTP %ld\n", x.status);
  xfer_free(&x);
  if (!ok) return false;

  struct xfer *xs = calloc((size_t)o->products, sizeof *xs);
  if (xs == NULL) return false;
  snprintf(url, sizeof url, "%s/api/v1/products", o->base);
  for (int i = 0; i < o->products && ok; i++) {
    ok = xfer_init(&xs[i]);
    snprintf(body, sizeof body,
             "{\"sku\":\"LOAD-%s-%d\",\"name\":\"Load product %d\","
             "\"description\":\"load test\",\"category_id\":\"%s\","
             "\"price\":\"%d.99\",\"currency\":\"USD\",\"stock\":1000000,"
             "\"status\":\"active\"}",
             tag, i, i, f->category_id, 10 + i);
    if (ok) xfer_prepare(&xs[i], o, "POST", url, f->admin_token, body, NULL);
  }
  if (ok) run_batch(multi, xs, o->products);
  for (int i = 0; i < o->products; i++) {
    if (ok && !(xs[i].status == 201 &&
                answer_field(&xs[i], "id", f->products[i], 64))) {
      fprintf(stderr, "loadtest: create product: HTTP %ld %s\n", xs[i].status,
              xs[i].buf ? xs[i].buf : "");
      ok = false;
    }
    xfer_free(&xs[i]);
  }
  free(xs);
  if (ok) f->nproducts = o->products;
  return ok;
}

/* Customers: o->users sign-ups and sign-ins, SETUP_BATCH at a time. A
 * busy platform may time out (5xx): those are retried, and a sign-up whose
 * first attempt did land (409, the e-mail is taken) counts as done. */
#define SETUP_BATCH 4
#define SETUP_ATTEMPTS 8

static bool setup_users(CURLM *multi, const struct options *o, const char *tag,
                        struct fixture *f) {
  f->tokens = calloc((size_t)o->users, sizeof *f->tokens);
  if (f->tokens == NULL) return false;
  struct xfer xs[SETUP_BATCH];
  char url[600], body[512];
  for (int base = 0; base < o->users; base += SETUP_BATCH) {
    int n = o->users - base < SETUP_BATCH ? o->users - base : SETUP_BATCH;
    for (int pass = 0; pass < 2; pass++) {
      bool done[SETUP_BATCH] = {false};
      snprintf(url, sizeof url, "%s/api/v1/%s", o->base,
               pass == 0 ? "users" : "auth/login");
      for (int attempt = 0;; attempt++) {
        int todo = 0, idx[SETUP_BATCH];
        for (int i = 0; i < n; i++) {
          if (done[i]) continue;
          int k = base + i;
          if (!xfer_init(&xs[todo])) return false;
          if (pass == 0)
            snprintf(body, sizeof body,
                     "{\"email\":\"load-%s-%d@example.com\",\"password\":"
                     "\"Load-%s-%d-pass!\",\"username\":\"load_%s_%d\","
                     "\"first_name\":\"Load\",\"last_name\":\"Shopper\"}",
                     tag, k, tag, k, tag, k);
          else
            snprintf(body, sizeof body,
                     "{\"email\":\"load-%s-%d@example.com\",\"password\":"
                     "\"Load-%s-%d-pass!\"}",
                     tag, k, tag, k);
          xfer_prepare(&xs[todo], o, "POST", url, NULL, body, NULL);
          idx[todo++] = i;
        }
        if (todo == 0) break;
        run_batch(multi, xs, todo);
        bool retry = true, again = false;
        for (int t = 0; t < todo; t++) {
          struct xfer *x = &xs[t];
          int i = idx[t];
          if (pass == 0 && (x->status == 201 || x->status == 409))
            done[i] = true;
          else if (pass == 1 && x->status == 200)
            done[i] = answer_field(x, "access_token", f->tokens[base + i],
                                   sizeof f->tokens[0]);
          else if ((x->status != 0 && x->status < 500) ||
                   attempt + 1 == SETUP_ATTEMPTS) {
            fprintf(stderr, "loadtest: %s: HTTP %ld %s\n",
                    pass == 0 ? "sign-up" : "sign-in", x->status,
                    x->rc ? curl_easy_strerror(x->rc) : (x->buf ? x->buf : ""));
            retry = false;
          } else {
            again = true;
          }
          xfer_free(x);
        }
        if (!retry) return false;
        if (again) sleep(2);
      }
    }
  }
  f->ntokens = o->users;
  return true;
}

/* --- the run ------------------------------------------------------------- */

struct vu {
  struct xfer x;
  uint64_t rng;
  bool busy, active;
  double wake_at, sent_at;
  int flow, step_idx;
  bool refund; /* this checkout is shipped and refunded by the admin */
  enum step cur;
  const char *token;
  char cart_id[64], order_id[64];
};

struct second {
  int64_t requests, errors, status_5xx;
};

struct run {
  const struct options *o;
  struct fixture *f;
  CURLM *multi;
  struct vu *vus;
  int nvus;
  double t0;
  int64_t t0_wall;
  struct lt_series steps[ST_COUNT];
  struct lt_series total;
  struct lt_series stage[LT_MAX_STAGES];
  int64_t flows[FL_COUNT];
  struct lt_series window; /* the last progress interval */
  struct second *timeline;
  int64_t nseconds;
  int64_t checkouts, refunds;
  int cur_stage, cur_target;
  int64_t statuses[ST_COUNT][600]; /* answers per status (0: no answer) */
  json_t *samples;                 /* the first failures: step, status, body */
};

static int pick_flow(const struct options *o, uint64_t *rng) {
  int sum = 0;
  for (int i = 0; i < FL_COUNT; i++)
    sum += o->weights[i];
  int r = (int)rng_range(rng, 0, sum - 1);
  for (int i = 0; i < FL_COUNT; i++) {
    if (r < o->weights[i]) return i;
    r -= o->weights[i];
  }
  return FL_BROWSE;
}

static void think(struct run *r, struct vu *v, double now) {
  v->wake_at =
      now + (double)rng_range(&v->rng, r->o->think_min_ms, r->o->think_max_ms);
}

static const char address_json[] =
    "{\"first_name\":\"Load\",\"last_name\":\"Test\",\"line1\":\"1 Main St\","
    "\"city\":\"Austin\",\"state\":\"TX\",\"postal_code\":\"73301\","
    "\"country\":\"US\"}";

/* Starts v's next request: the next step of its flow, or a new flow. */
static void vu_start(struct run *r, struct vu *v, double now) {
  const struct options *o = r->o;
  if (v->flow < 0 || flow_steps[v->flow][v->step_idx + 1] == ST_COUNT ||
      ((flow_steps[v->flow][v->step_idx + 1] == ST_SHIP ||
        flow_steps[v->flow][v->step_idx + 1] == ST_REFUND) &&
       !v->refund)) {
    v->flow = pick_flow(o, &v->rng);
    v->step_idx = -1;
    v->refund = v->flow == FL_CHECKOUT &&
                rng_range(&v->rng, 1, 100) <= o->refund_percent;
    r->flows[v->flow]++;
  }
  v->step_idx++;
  v->cur = flow_steps[v->flow][v->step_idx];
  const char *product =
      r->f->products[rng_range(&v->rng, 0, r->f->nproducts - 1)];
  char url[800], body[1024], key[37];
  const char *method = "GET", *token = NULL, *payload = NULL, *idem = NULL;
  switch (v->cur) {
  case ST_BROWSE:
    if (r->f->category_id[0] && rng_range(&v->rng, 0, 1))
      snprintf(url, sizeof url, "%s/api/v1/products?limit=20&category_id=%s",
               o->base, r->f->category_id);
    else
      snprintf(url, sizeof url, "%s/api/v1/products?limit=20", o->base);
    break;
  case ST_SEARCH:
    snprintf(
        url, sizeof url, "%s/api/v1/search?q=%s&limit=20", o->base,
        search_words[rng_range(
            &v->rng, 0, sizeof search_words / sizeof search_words[0] - 1)]);
    break;
  case ST_PRODUCT:
    snprintf(url, sizeof url, "%s/api/v1/products/%s", o->base, product);
    break;
  case ST_CART_CREATE:
    method = "POST";
    token = v->token;
    payload = "{}";
    snprintf(url, sizeof url, "%s/api/v1/carts", o->base);
    break;
  case ST_CART_ADD:
    method = "POST";
    token = v->token;
    snprintf(url, sizeof url, "%s/api/v1/carts/%s/items", o->base, v->cart_id);
    snprintf(body, sizeof body, "{\"product_id\":\"%s\",\"quantity\":1}",
             product);
    payload = body;
    break;
  case ST_CHECKOUT:
    method = "POST";
    token = v->token;
    random_uuid(&v->rng, key);
    idem = key;
    snprintf(url, sizeof url, "%s/api/v1/orders", o->base);
    snprintf(body, sizeof body,
             "{\"cart_id\":\"%s\",\"shipping_address\":%s,"
             "\"shipping_method\":\"standard\",\"payment_method\":"
             "{\"type\":\"card\",\"token\":\"tok_visa\"}}",
             v->cart_id, address_json);
    payload = body;
    break;
  case ST_SHIP:
    method = "PATCH";
    token = r->f->admin_token;
    snprintf(url, sizeof url, "%s/api/v1/orders/%s/status", o->base,
             v->order_id);
    payload = "{\"status\":\"shipped\"}";
    break;
  case ST_REFUND:
    method = "POST";
    token = r->f->admin_token;
    random_uuid(&v->rng, key);
    idem = key;
    snprintf(url, sizeof url, "%s/api/v1/orders/%s/refund", o->base,
             v->order_id);
    payload = "{}";
    break;
  case ST_COUNT:
    return;
  }
  xfer_prepare(&v->x, o, method, url, token, payload, idem);
  v->busy = true;
  v->sent_at = now;
  curl_multi_add_handle(r->multi, v->x.h);
}

static void record(struct run *r, enum step s, double ms, long status,
                   bool failed, double now) {
  lt_series_add(&r->steps[s], ms, (int)status, failed);
  lt_series_add(&r->total, ms, (int)status, failed);
  lt_series_add(&r->window, ms, (int)status, failed);
  if (r->cur_stage < LT_MAX_STAGES)
    lt_series_add(&r->stage[r->cur_stage], ms, (int)status, failed);
  /* The timeline bins a request by the second it was sent: an error is
   * counted when the customer asked, not up to --timeout later, so a fault
   * window and its recovery hold the requests they spoiled (the chaos
   * drill's 5xx check, docs/resilience.md). */
  int64_t sec = (int64_t)((now - ms - r->t0) / 1000.0);
  if (sec < 0) sec = 0;
  if (sec >= r->nseconds) {
    int64_t n = sec + 64;
    struct second *t = realloc(r->timeline, (size_t)n * sizeof *t);
    if (t == NULL) return;
    memset(t + r->nseconds, 0, (size_t)(n - r->nseconds) * sizeof *t);
    r->timeline = t;
    r->nseconds = n;
  }
  r->timeline[sec].requests++;
  if (failed) r->timeline[sec].errors++;
  if (status >= 500) r->timeline[sec].status_5xx++;
}

static void vu_finish(struct run *r, struct vu *v, CURLcode rc, double now) {
  curl_multi_remove_handle(r->multi, v->x.h);
  xfer_done(&v->x, rc);
  v->busy = false;
  long want =
      v->cur == ST_CART_CREATE || v->cur == ST_CART_ADD || v->cur == ST_CHECKOUT
          ? 201
          : 200;
  bool failed = rc != CURLE_OK || v->x.status >= 400 || v->x.status == 0;
  record(r, v->cur, now - v->sent_at, rc == CURLE_OK ? v->x.status : 0, failed,
         now);
  long st = rc == CURLE_OK ? v->x.status : 0;
  if (st >= 0 && st < 600) r->statuses[v->cur][st]++;
  if (failed && json_array_size(r->samples) < 10) {
    char head[240];
    snprintf(head, sizeof head, "%s",
             rc != CURLE_OK ? curl_easy_strerror(rc)
                            : (v->x.buf ? v->x.buf : ""));
    json_array_append_new(r->samples, json_pack("{s:s, s:i, s:s}", "step",
                                                step_names[v->cur], "status",
                                                (int)st, "answer", head));
  }
  bool go_on = !failed && (v->x.status == want || v->cur == ST_REFUND ||
                           v->cur == ST_SHIP || v->x.status / 100 == 2);
  if (go_on && v->cur == ST_CART_CREATE)
    go_on = answer_field(&v->x, "id", v->cart_id, sizeof v->cart_id);
  if (go_on && v->cur == ST_CHECKOUT) {
    r->checkouts++;
    go_on = answer_field(&v->x, "id", v->order_id, sizeof v->order_id);
  }
  if (go_on && v->cur == ST_REFUND) r->refunds++;
  if (!go_on) v->flow = -1; /* a failed step ends the iteration */
  think(r, v, now);
}

static void progress(struct run *r, double now, bool tty, bool final) {
  struct lt_summary s;
  double secs = (now - r->t0) / 1000.0;
  int64_t n = (int64_t)r->window.n;
  lt_series_summarize(&r->window, &s);
  int busy = 0;
  for (int i = 0; i < r->nvus; i++)
    busy += r->vus[i].active;
  char line[256];
  snprintf(
      line, sizeof line,
      "%5.0fs stage %d/%d  users %3d/%-3d  %6.1f req/s  p95 %7.1f ms  "
      "errors %lld (%.2f%%)",
      secs, r->cur_stage < r->o->nstages ? r->cur_stage + 1 : r->o->nstages,
      r->o->nstages, busy, r->cur_target, (double)n / (tty ? 1.0 : 10.0), s.p95,
      (long long)r->total.errors,
      r->total.n ? 100.0 * (double)r->total.errors / (double)r->total.n : 0.0);
  if (tty)
    fprintf(stderr, "\r%s\033[K%s", line, final ? "\n" : "");
  else
    fprintf(stderr, "loadtest: %s\n", line);
  fflush(stderr);
  free(r->window.v);
  r->window = (struct lt_series){0};
}

static int run_stages(struct run *r) {
  const struct options *o = r->o;
  int64_t total_ms = lt_stages_total_ms(o->stages, o->nstages);
  bool tty = isatty(STDERR_FILENO) == 1 && !o->quiet;
  double next_progress = 0;
  r->t0 = now_ms();
  r->t0_wall = wall_ms();
  next_progress = r->t0 + (tty ? 1000 : 10000);
  for (;;) {
    double now = now_ms();
    int64_t elapsed = (int64_t)(now - r->t0);
    if (stop_signal || elapsed >= total_ms) break;
    r->cur_target =
        lt_target_vus(o->stages, o->nstages, elapsed, &r->cur_stage);
    for (int i = 0; i < r->nvus; i++) {
      struct vu *v = &r->vus[i];
      bool want = i < r->cur_target;
      if (want && !v->active) {
        /* A new user arrives within one think time, not all at once. */
        v->active = true;
        v->flow = -1;
        v->wake_at = now + (double)rng_range(&v->rng, 0, o->think_max_ms);
      }
      if (!want && v->active && !v->busy) v->active = false;
      if (v->active && !v->busy && now >= v->wake_at) vu_start(r, v, now);
    }
    int running;
    curl_multi_perform(r->multi, &running);
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(r->multi, &left)) != NULL) {
      if (m->msg != CURLMSG_DONE) continue;
      struct xfer *x = NULL;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
      vu_finish(r, (struct vu *)x, m->data.result, now_ms());
    }
    if (!o->quiet && now >= next_progress) {
      progress(r, now, tty, false);
      next_progress = now + (tty ? 1000 : 10000);
    }
    curl_multi_poll(r->multi, NULL, 0, 10, NULL);
  }
  /* Requests still in flight are abandoned, not counted. */
  for (int i = 0; i < r->nvus; i++)
    if (r->vus[i].busy) curl_multi_remove_handle(r->multi, r->vus[i].x.h);
  if (!o->quiet) progress(r, now_ms(), tty, true);
  return 0;
}

/* --- report -------------------------------------------------------------- */

static json_t *summary_json(const struct lt_summary *s, double seconds) {
  return json_pack("{s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f}",
                   "requests", (json_int_t)s->count, "errors",
                   (json_int_t)s->errors, "status_5xx",
                   (json_int_t)s->status_5xx, "rps",
                   seconds > 0 ? (double)s->count / seconds : 0.0, "p50_ms",
                   s->p50, "p95_ms", s->p95, "p99_ms", s->p99, "max_ms", s->max,
                   "mean_ms", s->mean, "error_rate", s->error_rate);
}

static void print_row(const char *name, const struct lt_summary *s,
                      double seconds) {
  printf("  %-14s %8lld %8.1f %8.1f %8.1f %8.1f %8.1f %7lld\n", name,
         (long long)s->count, seconds > 0 ? (double)s->count / seconds : 0.0,
         s->p50, s->p95, s->p99, s->max, (long long)s->errors);
}

static bool finish(struct run *r, int64_t elapsed_ms) {
  const struct options *o = r->o;
  double seconds = (double)elapsed_ms / 1000.0;
  struct lt_summary steps[ST_COUNT], total, stages[LT_MAX_STAGES];
  for (int i = 0; i < ST_COUNT; i++)
    lt_series_summarize(&r->steps[i], &steps[i]);
  lt_series_summarize(&r->total, &total);
  for (int i = 0; i < o->nstages; i++)
    lt_series_summarize(&r->stage[i], &stages[i]);

  struct lt_threshold t[LT_MAX_THRESHOLDS];
  int nt =
      lt_thresholds_build(t, o->p95_ms, o->p99_ms, o->error_rate, o->strict);
  bool ok = lt_evaluate(t, nt, &total, step_names, steps, ST_COUNT);

  printf("\nloadtest: %s, %.0f s, %lld requests, %lld checkouts%s\n", o->base,
         seconds, (long long)total.count, (long long)r->checkouts,
         stop_signal ? " (stopped early by a signal)" : "");
  printf("  %-14s %8s %8s %8s %8s %8s %8s %7s\n", "step", "requests", "req/s",
         "p50 ms", "p95 ms", "p99 ms", "max ms", "errors");
  for (int i = 0; i < ST_COUNT; i++)
    if (steps[i].count) print_row(step_names[i], &steps[i], seconds);
  print_row("all", &total, seconds);
  printf("\n  %-14s %8s %8s %8s %8s %8s %8s %7s\n", "stage", "requests",
         "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors");
  for (int i = 0; i < o->nstages; i++) {
    char name[32];
    snprintf(name, sizeof name, "%d: %.0fs->%d", i + 1,
             (double)o->stages[i].duration_ms / 1000.0, o->stages[i].target);
    print_row(name, &stages[i], (double)o->stages[i].duration_ms / 1000.0);
  }
  printf("\nthresholds (%s):\n", o->strict ? "strict, DESIGN §8" : "default");
  for (int i = 0; i < nt; i++) {
    bool rate = t[i].metric == LT_ERROR_RATE;
    printf("  %-4s %-12s %-10s %10.3f%s < %.3f%s\n", t[i].ok ? "ok" : "FAIL",
           t[i].step ? t[i].step : "all", lt_metric_name(t[i].metric),
           rate ? t[i].value * 100 : t[i].value, rate ? " %" : " ms",
           rate ? t[i].limit * 100 : t[i].limit, rate ? " %" : " ms");
  }
  printf("loadtest: %s\n", ok ? "PASS" : "FAIL");

  if (o->report) {
    json_t *root = json_object();
    json_object_set_new(root, "base_url", json_string(o->base));
    json_object_set_new(root, "started_at_ms", json_integer(r->t0_wall));
    json_object_set_new(root, "duration_s", json_real(seconds));
    json_object_set_new(root, "slo",
                        json_string(o->strict ? "strict" : "default"));
    json_object_set_new(root, "stopped_early", json_boolean(stop_signal != 0));
    json_object_set_new(root, "passed", json_boolean(ok));
    json_object_set_new(root, "checkouts", json_integer(r->checkouts));
    json_object_set_new(root, "refunds", json_integer(r->refunds));
    json_object_set_new(root, "total", summary_json(&total, seconds));
    json_t *js = json_object();
    for (int i = 0; i < ST_COUNT; i++) {
      if (steps[i].count == 0) continue;
      json_t *sj = summary_json(&steps[i], seconds);
      json_t *codes = json_object();
      for (int c = 0; c < 600; c++) {
        char k[8];
        snprintf(k, sizeof k, "%d", c);
        if (r->statuses[i][c])
          json_object_set_new(codes, k, json_integer(r->statuses[i][c]));
      }
      json_object_set_new(sj, "statuses", codes);
      json_object_set_new(js, step_names[i], sj);
    }
    json_object_set_new(root, "steps", js);
    json_t *jf = json_object();
    for (int i = 0; i < FL_COUNT; i++)
      json_object_set_new(jf, flow_names[i], json_integer(r->flows[i]));
    json_object_set_new(root, "iterations", jf);
    json_t *jst = json_array();
    for (int i = 0; i < o->nstages; i++) {
      json_t *s =
          summary_json(&stages[i], (double)o->stages[i].duration_ms / 1000.0);
      json_object_set_new(s, "duration_s",
                          json_real((double)o->stages[i].duration_ms / 1000.0));
      json_object_set_new(s, "target", json_integer(o->stages[i].target));
      json_array_append_new(jst, s);
    }
    json_object_set_new(root, "stages", jst);
    json_t *jt = json_array();
    for (int i = 0; i < nt; i++)
      json_array_append_new(jt, json_pack("{s:s, s:s, s:f, s:f, s:b}", "step",
                                          t[i].step ? t[i].step : "all",
                                          "metric", lt_metric_name(t[i].metric),
                                          "limit", t[i].limit, "value",
                                          t[i].value, "ok", t[i].ok));
    json_object_set_new(root, "thresholds", jt);
    json_object_set(root, "failures", r->samples);
    /* Per second since the start: for the chaos drill's fault windows. */
    json_t *tl = json_array();
    int64_t last = elapsed_ms / 1000;
    for (int64_t i = 0; i <= last && i < r->nseconds; i++)
      json_array_append_new(
          tl, json_pack("[I, I, I]", (json_int_t)r->timeline[i].requests,
                        (json_int_t)r->timeline[i].errors,
                        (json_int_t)r->timeline[i].status_5xx));
    json_object_set_new(root, "timeline", tl);
    json_object_set_new(
        root, "timeline_fields",
        json_pack("[s, s, s]", "requests", "errors", "status_5xx"));
    if (json_dump_file(root, o->report, JSON_INDENT(2)) != 0) {
      fprintf(stderr, "loadtest: cannot write %s\n", o->report);
      ok = false;
    }
    json_decref(root);
  }
  return ok;
}

/* --- the command --------------------------------------------------------- */

static void usage(FILE *out) {
  fprintf(
      out,
      "usage: shopsphere loadtest [--base URL] [--stages LIST] [--slo strict]\n"
      "                           [--p95 MS] [--p99 MS] [--errors PERCENT]\n"
      "                           [--mix LIST] [--refunds PERCENT]\n"
      "                           [--think MIN-MAX] [--users N] "
      "[--products N]\n"
      "                           [--timeout DURATION] [--report FILE] "
      "[--quiet]\n\n"
      "The seed's load test (its k6 scenario) against a running platform.\n"
      "Virtual users ramp through the stages, each looping over a shopper's\n"
      "iterations with a think time before every request: browse (a product\n"
      "list page), search, product (a product's detail), cart (create + add)\n"
      "and checkout (create + add + POST /orders with the sandbox card\n"
      "tok_visa and an Idempotency-Key). One event loop drives every user.\n"
      "Set-up, not measured: the admin (SHOPSPHERE_ADMIN_EMAIL/_PASSWORD)\n"
      "creates a category and --products products; --users customers sign\n"
      "up and sign in.\n\n"
      "  --base URL        the gateway (default http://127.0.0.1:PORT_BASE)\n"
      "  --stages LIST     DURATION:TARGET,... as k6's stages (default\n"
      "                    " DEFAULT_STAGES ")\n"
      "  --p95 MS, --p99 MS, --errors PERCENT\n"
      "                    thresholds (default 500, 1000, 0.1 as the seed)\n"
      "  --slo strict      DESIGN §8: p95 < 50 ms, p99 < 100 ms, no error,\n"
      "                    and each route's p99 bar (list 15, detail 10,\n"
      "                    search 30, cart 20, checkout 250 ms)\n"
      "  --mix LIST        flow weights (default "
      "browse=30,search=20,product=30,cart=10,checkout=10)\n"
      "  --refunds PERCENT of checkouts the admin ships and refunds (0)\n"
      "  --think MIN-MAX   think time before each request (500ms-1500ms)\n"
      "  --users N         customer accounts shared by the users (20)\n"
      "  --products N      products to buy (16)\n"
      "  --timeout D       one request's limit (30s)\n"
      "  --report FILE     write the results as JSON (summary per step and\n"
      "                    stage, thresholds, requests/errors/5xx per second)\n"
      "  --quiet           no progress line\n\n"
      "Prints a live progress line on a terminal (every 10 s otherwise), a\n"
      "summary per step and per stage with p50/p95/p99, and the verdict.\n"
      "SIGINT/SIGTERM end the run early with its report.\n"
      "Exit status: 0 every threshold holds, 1 one failed, 2 bad usage or\n"
      "failed set-up.\n");
}

static bool parse_mix(const char *text, int weights[FL_COUNT]) {
  int w[FL_COUNT] = {0};
  char buf[256];
  snprintf(buf, sizeof buf, "%s", text);
  char *save = NULL;
  for (char *item = strtok_r(buf, ",", &save); item;
       item = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(item, '=');
    if (eq == NULL) return false;
    *eq = '\0';
    int k = -1;
    for (int i = 0; i < FL_COUNT; i++)
      if (strcmp(item, flow_names[i]) == 0) k = i;
    char *end;
    long v = strtol(eq + 1, &end, 10);
    if (k < 0 || *end || end == eq + 1 || v < 0 || v > 1000) return false;
    w[k] = (int)v;
  }
  int sum = 0;
  for (int i = 0; i < FL_COUNT; i++)
    sum += w[i];
  if (sum == 0) return false;
  memcpy(weights, w, sizeof w);
  return true;
}

static bool parse_number(const char *text, double lo, double hi, double *out) {
  char *end;
  double v = text ? strtod(text, &end) : 0;
  if (text == NULL || end == text || *end || !(v >= lo && v <= hi))
    return false;
  *out = v;
  return true;
}

static int parse_options(const struct config *cfg, int argc, char **argv,
                         struct options *o) {
  *o = (struct options){.weights = {30, 20, 30, 10, 10},
                        .think_min_ms = 500,
                        .think_max_ms = 1500,
                        .timeout_ms = 30000,
                        .users = 20,
                        .products = 16,
                        .p95_ms = 500,
                        .p99_ms = 1000,
                        .error_rate = 0.001};
  snprintf(o->base, sizeof o->base, "http://127.0.0.1:%d", cfg->port_base);
  static const char *const known[] = {
      "--base",     "--stages",  "--slo",     "--p95",   "--p99",
      "--errors",   "--mix",     "--refunds", "--think", "--users",
      "--products", "--timeout", "--report",  "--quiet"};
  for (int i = 1; i < argc; i++) {
    bool found = false;
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
      size_t n = strlen(known[k]);
      if (strncmp(argv[i], known[k], n) == 0 &&
          (argv[i][n] == '\0' || argv[i][n] == '=')) {
        found = true;
        if (argv[i][n] == '\0' && strcmp(known[k], "--quiet") != 0) i++;
        break;
      }
    }
    if (!found) {
      fprintf(stderr, "loadtest: unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  const char *v;
  char err[160];
  if ((v = cli_option(argc, argv, "--base"))) {
    if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) {
      fprintf(stderr, "loadtest: --base must be an http(s) URL\n");
      return 2;
    }
    snprintf(o->base, sizeof o->base, "%s", v);
    size_t n = strlen(o->base);
    while (n > 0 && o->base[n - 1] == '/')
      o->base[--n] = '\0';
  }
  o->nstages = lt_parse_stages(cli_option(argc, argv, "--stages")
                                   ? cli_option(argc, argv, "--stages")
                                   : DEFAULT_STAGES,
                               o->stages, LT_MAX_STAGES, err, sizeof err);
  if (o->nstages < 0) {
    fprintf(stderr, "loadtest: --stages: %s\n", err);
    return 2;
  }
  if ((v = cli_option(argc, argv, "--slo"))) {
    if (strcmp(v, "strict") != 0 && strcmp(v, "default") != 0) {
      fprintf(stderr, "loadtest: --slo takes 'strict' or 'default'\n");
      return 2;
    }
    o->strict = strcmp(v, "strict") == 0;
  }
  double d;
  if ((v = cli_option(argc, argv, "--p95"))) {
    if (!parse_number(v, 0, 1e7, &d)) goto bad_number;
    o->p95_ms = d;
  }
  if ((v = cli_option(argc, argv, "--p99"))) {
    if (!parse_number(v, 0, 1e7, &d)) goto bad_number;
    o->p99_ms = d;
  }
  if ((v = cli_option(argc, argv, "--errors"))) {
    if (!parse_number(v, 0, 100, &d)) goto bad_number;
    o->error_rate = d / 100.0;
  }
  if ((v = cli_option(argc, argv, "--refunds"))) {
    if (!parse_number(v, 0, 100, &d)) goto bad_number;
    o->refund_percent = (int)d;
  }
  if ((v = cli_option(argc, argv, "--users"))) {
    if (!parse_number(v, 1, 5000, &d)) goto bad_number;
    o->users = (int)d;
  }
  if ((v = cli_option(argc, argv, "--products"))) {
    if (!parse_number(v, 1, 1000, &d)) goto bad_number;
    o->products = (int)d;
  }
  if ((v = cli_option(argc, argv, "--mix")) && !parse_mix(v, o->weights)) {
    fprintf(stderr, "loadtest: --mix: expected FLOW=WEIGHT,... with flows "
                    "browse, search, product, cart, checkout\n");
    return 2;
  }
  if ((v = cli_option(argc, argv, "--think"))) {
    char a[32], b[32];
    const char *dash = strchr(v, '-');
    size_t n = dash ? (size_t)(dash - v) : strlen(v);
    if (n >= sizeof a || (dash && strlen(dash + 1) >= sizeof b)) goto bad_think;
    memcpy(a, v, n);
    a[n] = '\0';
    snprintf(b, sizeof b, "%s", dash ? dash + 1 : a);
    if (!lt_parse_duration(a, &o->think_min_ms) ||
        !lt_parse_duration(b, &o->think_max_ms) ||
        o->think_max_ms < o->think_min_ms)
      goto bad_think;
  }
  if ((v = cli_option(argc, argv, "--timeout")) &&
      (!lt_parse_duration(v, &o->timeout_ms) || o->timeout_ms < 1)) {
    fprintf(stderr, "loadtest: --timeout: bad duration '%s'\n", v);
    return 2;
  }
  o->report = cli_option(argc, argv, "--report");
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--quiet") == 0) o->quiet = true;
  return 0;
bad_think:
  fprintf(stderr, "loadtest: --think: expected MIN-MAX durations (500ms-1s)\n");
  return 2;
bad_number:
  fprintf(stderr, "loadtest: bad number '%s'\n", v);
  return 2;
}

int cli_loadtest(const struct config *cfg, int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    usage(stdout);
    return 0;
  }
  struct options o;
  int rc = parse_options(cfg, argc, argv, &o);
  if (rc != 0) {
    usage(stderr);
    return rc;
  }
  int max_vus = 0;
  for (int i = 0; i < o.nstages; i++)
    if (o.stages[i].target > max_vus) max_vus = o.stages[i].target;
  if (max_vus > MAX_VUS) max_vus = MAX_VUS;

  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM *multi = curl_multi_init();
  struct fixture f = {0};
  struct run r = {.o = &o, .f = &f, .multi = multi, .samples = json_array()};
  uint64_t seed = (uint64_t)wall_ms() ^ ((uint64_t)getpid() << 32);
  if (seed == 0) seed = 1;
  char tag[16];
  snprintf(tag, sizeof tag, "%08x", (unsigned)(rng_next(&seed) >> 32));
  rc = 2;
  fprintf(stderr, "loadtest: set-up against %s: %d products, %d customers\n",
          o.base, o.products, o.users);
  if (!setup_products(multi, &o, cfg, tag, &f) ||
      !setup_users(multi, &o, tag, &f)) {
    fprintf(stderr, "loadtest: set-up failed; is the platform at %s?\n",
            o.base);
    goto cleanup;
  }
  if (o.refund_percent > 0 && f.admin_token[0] == '\0') {
    fprintf(stderr, "loadtest: --refunds needs the admin's credentials\n");
    goto cleanup;
  }
  r.vus = calloc((size_t)(max_vus ? max_vus : 1), sizeof *r.vus);
  if (r.vus == NULL) goto cleanup;
  r.nvus = max_vus;
  for (int i = 0; i < max_vus; i++) {
    if (!xfer_init(&r.vus[i].x)) goto cleanup;
    r.vus[i].rng = rng_seed(&seed);
    r.vus[i].token = f.tokens[i % f.ntokens];
    r.vus[i].flow = -1;
  }
  fprintf(stderr, "loadtest: %d stages, up to %d virtual users, %.0f s\n",
          o.nstages, max_vus,
          (double)lt_stages_total_ms(o.stages, o.nstages) / 1000.0);
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int, old_term;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  run_stages(&r);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  rc = finish(&r, (int64_t)(now_ms() - r.t0)) ? 0 : 1;

cleanup:
  for (int i = 0; i < r.nvus; i++)
    xfer_free(&r.vus[i].x);
  free(r.vus);
  for (int i = 0; i < ST_COUNT; i++)
    lt_series_free(&r.steps[i]);
  for (int i = 0; i < LT_MAX_STAGES; i++)
    lt_series_free(&r.stage[i]);
  lt_series_free(&r.total);
  lt_series_free(&r.window);
  free(r.timeline);
  json_decref(r.samples);
  fixture_free(&f);
  curl_multi_cleanup(multi);
  curl_global_cleanup();
  return rc;
}
