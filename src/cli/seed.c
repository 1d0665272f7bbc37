/* seed.c - `shopsphere seed`: the deterministic demo catalog, with a
 * progress bar on stderr. The catalog itself is built by the product
 * service's tools (src/services/product/catalog_seed.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include <jansson.h>

#include "kit/err.h"
#include "services/product/tools.h"
#include "services/recommendation/recommendation.h"

#define SEED_MAX_PRODUCTS 1000000

struct bar {
  bool tty;
  int last_decile;
};

/* Redrawn in place on a terminal; one line per 10 % in a log. */
static void progress(void *arg, size_t done, size_t total) {
  struct bar *b = arg;
  int width = 40;
  int filled = total ? (int)(done * (size_t)width / total) : width;
  int percent = total ? (int)(done * 100 / total) : 100;
  if (b->tty) {
    fprintf(stderr, "\rseed: [%.*s%*s] %3d%%  %zu/%zu products", filled,
            "########################################", width - filled, "",
            percent, done, total);
    if (done == total) fputc('\n', stderr);
  } else if (percent / 10 != b->last_decile || done == total) {
    b->last_decile = percent / 10;
    fprintf(stderr, "seed: %3d%%  %zu/%zu products\n", percent, done, total);
  }
  fflush(stderr);
}

/* The demo's synthetic order history for the recommendation service: the
 * products' SKUs and their taste clusters (leaf category and brand) from
 * the catalog generator, the orders from the recommendation service's own
 * code. Written once. */
static int seed_recommendations(const struct config *cfg, size_t count) {
  const char **skus = calloc(count, sizeof *skus);
  int *cluster = calloc(count, sizeof *cluster);
  char **keys = calloc(count, sizeof *keys);
  int clusters = 0, rc = 1;
  if (skus == NULL || cluster == NULL || keys == NULL) goto cleanup;
  for (size_t i = 0; i < count; i++) {
    json_t *p =
        catalog_seed_product_json(i, "00000000-0000-0000-0000-000000000000");
    const char *sku = json_string_value(json_object_get(p, "sku"));
    const char *cat = json_string_value(json_object_get(p, "category"));
    const char *brand = json_string_value(
        json_object_get(json_object_get(p, "attributes"), "brand"));
    char key[160];
    snprintf(key, sizeof key, "%s|%s", cat ? cat : "", brand ? brand : "");
    skus[i] = sku != NULL ? strdup(sku) : NULL;
    json_decref(p);
    if (skus[i] == NULL) goto cleanup;
    int c = 0;
    while (c < clusters && strcmp(keys[c], key) != 0)
      c++;
    if (c == clusters && (keys[clusters++] = strdup(key)) == NULL) goto cleanup;
    cluster[i] = c;
  }
  int orders = 0;
  if (reco_demo_seed(cfg, skus, cluster, clusters, count, &orders) != KIT_OK) {
    fprintf(stderr, "seed: cannot write the recommendation history (has "
                    "`shopsphere migrate` run?)\n");
    goto cleanup;
  }
  if (orders > 0)
    printf("seed: %d synthetic orders for the recommendations\n", orders);
  rc = 0;
cleanup:
  for (size_t i = 0; skus != NULL && i < count; i++)
    free((char *)skus[i]);
  for (int c = 0; keys != NULL && c < clusters; c++)
    free(keys[c]);
  free(skus);
  free(cluster);
  free(keys);
  return rc;
}

int cli_seed(const struct config *cfg, int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    printf("usage: shopsphere seed [--products N] [--if-empty]\n\n"
           "Writes the demo catalog into the product service's schema of\n"
           "SHOPSPHERE_DATABASE_URL: 21 categories in a two-level tree and N\n"
           "products (default 1000) with brands, colors, sizes, weights,\n"
           "dimensions, prices, stock and placeholder images. Deterministic:\n"
           "product n is always the same, and running it again adds nothing\n"
           "(existing SKUs are kept); a larger N adds the missing ones.\n"
           "Emits product.created for every new product. Progress on stderr.\n"
           "Also writes a synthetic order history over those products into\n"
           "the recommendation schema (once), so bought-together and personal\n"
           "recommendations are not empty on a fresh start.\n\n"
           "  --products N   how many products (1..%d, default 1000)\n"
           "  --if-empty     do nothing when the catalog has any product\n"
           "                 (what `make run` uses)\n"
           "Run `shopsphere migrate` first.\n",
           SEED_MAX_PRODUCTS);
    return 0;
  }
  long count = 1000;
  const char *n = cli_option(argc, argv, "--products");
  if (n != NULL) {
    char *end = NULL;
    count = strtol(n, &end, 10);
    if (*n == '\0' || *end != '\0' || count < 1 || count > SEED_MAX_PRODUCTS) {
      fprintf(stderr, "seed: --products must be a number from 1 to %d\n",
              SEED_MAX_PRODUCTS);
      return 2;
    }
  }
  bool if_empty = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--if-empty") == 0) {
      if_empty = true;
    } else if (strncmp(argv[i], "--products", 10) == 0) {
      if (argv[i][10] == '\0') i++; /* its value */
    } else {
      fprintf(stderr, "seed: unknown argument '%s' (try --help)\n", argv[i]);
      return 2;
    }
  }

  struct bar bar = {.tty = isatty(STDERR_FILENO) == 1, .last_decile = -1};
  struct seed_result r;
  if (catalog_seed(cfg, (size_t)count, if_empty, progress, &bar, &r) !=
      KIT_OK) {
    fprintf(stderr, "seed: failed; nothing of the unfinished batch was "
                    "written (see the messages above)\n");
    return 1;
  }
  if (r.skipped_not_empty) {
    printf("seed: the catalog already has products: nothing to do\n");
  } else {
    printf("seed: %zu categories and %zu products created, %zu products "
           "were already there\n",
           r.categories_created, r.products_created, r.products_existing);
  }
  return seed_recommendations(cfg, (size_t)count);
}
