/* recommend.c - `shopsphere recommend train|evaluate`: ALS training on the
 * recommendation schema, and the offline evaluation of trending,
 * item-to-item and ALS on a generated shopper history
 * (docs/recommendations.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "kit/err.h"
#include "services/recommendation/recommendation.h"
#include "services/recommendation/store.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: shopsphere recommend train [--factors K] [--iterations N]\n"
          "       shopsphere recommend evaluate [--users N] [--items N] "
          "[--clusters N]\n"
          "                                     [--seed S] [--factors K] "
          "[--iterations N]\n\n"
          "train     trains the implicit-feedback ALS model (Hu, Koren,\n"
          "          Volinsky) on the purchases and signed-in clicks in the\n"
          "          recommendation schema of SHOPSPHERE_DATABASE_URL and\n"
          "          writes every user's personal list (what GET\n"
          "          /recommendations/me serves). The service also trains\n"
          "          every SHOPSPHERE_RECOMMENDATION_TRAIN_INTERVAL_S.\n"
          "evaluate  generates a seeded shopper history with planted tastes\n"
          "          (default 2000 users, 600 items, 30 clusters, seed\n"
          "          20261203), holds out each user's last order, and prints\n"
          "          precision@10, recall@10, nDCG@10 and catalog coverage\n"
          "          of trending, item-to-item and ALS. No database needed.\n\n"
          "  --factors K      ALS factors (1..%d, default 24)\n"
          "  --iterations N   ALS alternations (1..100, default 12)\n"
          "Progress goes to stderr.\n",
          ALS_MAX_FACTORS);
}

/* --name N within [lo, hi] into *out; false (after a message) when bad. */
static bool int_option(int argc, char **argv, const char *name, long lo,
                       long hi, long *out) {
  const char *v = cli_option(argc, argv, name);
  if (v == NULL) return true;
  char *end = NULL;
  long n = strtol(v, &end, 10);
  if (*v == '\0' || *end != '\0' || n < lo || n > hi) {
    fprintf(stderr, "recommend: %s must be a number from %ld to %ld\n", name,
            lo, hi);
    return false;
  }
  *out = n;
  return true;
}

/* Every argument must be a known --option with its value. */
static bool known_args(int argc, char **argv, const char *const *names) {
  for (int i = 2; i < argc; i++) {
    bool ok = false;
    for (const char *const *n = names; *n != NULL && !ok; n++) {
      size_t len = strlen(*n);
      if (strncmp(argv[i], *n, len) == 0 &&
          (argv[i][len] == '=' || argv[i][len] == '\0')) {
        ok = true;
        if (argv[i][len] == '\0') i++; /* its value */
      }
    }
    if (!ok) {
      fprintf(stderr, "recommend: unknown argument '%s' (try --help)\n",
              argv[i]);
      return false;
    }
  }
  return true;
}

static void progress(void *arg, int iteration, int iterations, double loss) {
  const char *what = arg;
  fprintf(stderr, "%s: ALS iteration %d/%d, weighted error %.1f\n", what,
          iteration, iterations, loss);
  fflush(stderr);
}

static bool read_als(int argc, char **argv, struct als_params *p) {
  long factors = p->factors, iterations = p->iterations;
  if (!int_option(argc, argv, "--factors", 1, ALS_MAX_FACTORS, &factors) ||
      !int_option(argc, argv, "--iterations", 1, 100, &iterations))
    return false;
  p->factors = (int)factors;
  p->iterations = (int)iterations;
  return true;
}

static int cmd_train(const struct config *cfg, int argc, char **argv) {
  static const char *const names[] = {"--factors", "--iterations", NULL};
  struct als_params p = als_defaults();
  if (!known_args(argc, argv, names) || !read_als(argc, argv, &p)) return 2;
  char schema[64];
  service_schema_name(SVC_RECOMMENDATION, schema, sizeof schema);
  struct db_pool *pool = NULL;
  if (db_pool_open(&pool, cfg->database_url, schema, 2, reco_statements,
                   RECO_STATEMENT_COUNT) != KIT_OK) {
    fprintf(stderr, "recommend: cannot open the database\n");
    return 1;
  }
  fprintf(stderr, "train: reading purchases and clicks\n");
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  struct reco_train_report rep;
  int rc = reco_train(pool, &p, progress, "train", &rep);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  db_pool_close(pool);
  if (rc != KIT_OK) {
    fprintf(stderr,
            "recommend: training failed (%s); run `shopsphere "
            "migrate` first if the schema is missing\n",
            rc == KIT_UNAVAILABLE ? "database unavailable" : "error");
    return 1;
  }
  printf("train: %d users, %d items, %d interactions; %d personal lists "
         "written in %.2f s (k=%d, %d iterations)\n",
         rep.users, rep.items, rep.interactions, rep.lists,
         (double)(t1.tv_sec - t0.tv_sec) +
             (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
         p.factors, p.iterations);
  return 0;
}

static int cmd_evaluate(int argc, char **argv) {
  static const char *const names[] = {"--users", "--items",   "--clusters",
                                      "--seed",  "--factors", "--iterations",
                                      NULL};
  struct reco_history_params h = reco_history_defaults();
  struct als_params p = als_defaults();
  long users = h.users, items = h.items, clusters = h.clusters,
       seed = (long)h.seed;
  if (!known_args(argc, argv, names) || !read_als(argc, argv, &p) ||
      !int_option(argc, argv, "--users", 10, 1000000, &users) ||
      !int_option(argc, argv, "--items", 20, 1000000, &items) ||
      !int_option(argc, argv, "--clusters", 1, 10000, &clusters) ||
      !int_option(argc, argv, "--seed", 0, 2147483647L, &seed))
    return 2;
  h.users = (int)users;
  h.items = (int)items;
  h.clusters = (int)clusters;
  h.seed = (uint64_t)seed;
  struct reco_purchase *rows = NULL;
  size_t n = 0;
  fprintf(stderr, "evaluate: generating %d shoppers over %d items\n", h.users,
          h.items);
  if (reco_history_generate(&h, &rows, &n) != KIT_OK) {
    fprintf(stderr, "recommend: cannot generate the history\n");
    return 1;
  }
  struct reco_eval_row r[RECO_MODEL_COUNT];
  int rc =
      reco_evaluate(rows, n, h.users, h.items, &p, r, progress, "evaluate");
  free(rows);
  if (rc != KIT_OK) {
    fprintf(stderr, "recommend: the evaluation failed\n");
    return 1;
  }
  printf("history: %d shoppers, %d items, %d taste clusters, %zu purchases, "
         "seed %ld; leave-last-out (each shopper's last order held out), "
         "%d shoppers evaluated\n",
         h.users, h.items, h.clusters, n, seed, r[0].users);
  printf("ALS: k=%d, %d iterations, lambda %.2f, alpha %.0f\n\n", p.factors,
         p.iterations, (double)p.reg, (double)p.alpha);
  printf("%-14s %12s %10s %8s %9s\n", "model", "precision@10", "recall@10",
         "nDCG@10", "coverage");
  for (int m = 0; m < RECO_MODEL_COUNT; m++)
    printf("%-14s %12.4f %10.4f %8.4f %9.4f\n", r[m].model, r[m].precision,
           r[m].recall, r[m].ndcg, r[m].coverage);
  return 0;
}

int cli_recommend(const struct config *cfg, int argc, char **argv) {
  if (argc < 2 || cli_wants_help(argc, argv)) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "train") == 0) return cmd_train(cfg, argc, argv);
  if (strcmp(argv[1], "evaluate") == 0) return cmd_evaluate(argc, argv);
  fprintf(stderr, "recommend: unknown subcommand '%s' (try --help)\n", argv[1]);
  return 2;
}
