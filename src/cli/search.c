/* search.c - `shopsphere search reindex`: rebuilds the search index from
 * the catalog (through the product service's API) with a progress bar on
 * stderr. The running search service keeps answering from the old index
 * until the new one is swapped in, then notices the change by itself.
 * The rebuild is the service's own (src/services/search/reindex.c). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "kit/err.h"
#include "services/search/tools.h"

struct bar {
  bool tty;
  int64_t last_report;
};

static void progress(void *arg, int64_t done, int64_t total) {
  struct bar *b = arg;
  int width = 40;
  int filled = total > 0 ? (int)(done * width / total) : width;
  int percent = total > 0 ? (int)(done * 100 / total) : 100;
  if (b->tty) {
    fprintf(stderr, "\rsearch reindex: [%.*s%*s] %3d%%  %lld/%lld products",
            filled, "########################################", width - filled,
            "", percent, (long long)done, (long long)total);
  } else if (done - b->last_report >= 1000 || done == total) {
    b->last_report = done;
    fprintf(stderr, "search reindex: %lld/%lld products read\n",
            (long long)done, (long long)total);
  }
  fflush(stderr);
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: shopsphere search reindex\n\n"
          "Rebuilds the search index from the catalog: reads every category\n"
          "and every active product through the product service's API (which\n"
          "must be running), stages them, then swaps them in as the index in\n"
          "one transaction. Searches keep being answered from the old index\n"
          "meanwhile; what events changed during the rebuild is kept.\n"
          "Progress on stderr. The same job runs from\n"
          "POST /api/v1/admin/search/reindex.\n");
}

int cli_search(const struct config *cfg, int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    usage(stdout);
    return 0;
  }
  if (argc < 2 || strcmp(argv[1], "reindex") != 0 || argc > 2) {
    if (argc >= 2) fprintf(stderr, "search: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
  }
  struct bar bar = {.tty = isatty(STDERR_FILENO) == 1, .last_report = 0};
  int64_t indexed = 0;
  int rc = search_reindex_tool(cfg, progress, &bar, &indexed);
  if (bar.tty) fputc('\n', stderr);
  if (rc != KIT_OK) {
    fprintf(stderr, "search reindex: failed; the old index is unchanged\n");
    return 1;
  }
  printf("search reindex: %lld products indexed\n", (long long)indexed);
  return 0;
}
