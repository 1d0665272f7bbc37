/* seed.c - `shopsphere seed`: the deterministic demo catalog, with a
 * progress bar on stderr. The catalog itself is built by the product
 * service's tools (src/services/product/catalog_seed.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "kit/err.h"
#include "services/product/tools.h"

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

int cli_seed(const struct config *cfg, int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    printf(
        "usage: shopsphere seed [--products N] [--if-empty]\n\n"
        "Writes the demo catalog into the product service's schema of\n"
        "SHOPSPHERE_DATABASE_URL: 21 categories in a two-level tree and N\n"
        "products (default 1000) with brands, colors, sizes, weights,\n"
        "dimensions, prices, stock and placeholder images. Deterministic:\n"
        "product n is always the same, and running it again adds nothing\n"
        "(existing SKUs are kept); a larger N adds the missing ones.\n"
        "Emits product.created for every new product. Progress on stderr.\n\n"
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
    return 0;
  }
  printf("seed: %zu categories and %zu products created, %zu products were "
         "already there\n",
         r.categories_created, r.products_created, r.products_existing);
  return 0;
}
