/* import.c - `shopsphere import products FILE`: products from CSV or JSON
 * lines, all or nothing (src/services/product/catalog_import.c). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "kit/err.h"
#include "services/product/tools.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: shopsphere import products FILE [--format csv|jsonl]\n\n"
          "Imports products into the catalog. Every row is checked by the\n"
          "rules of POST /api/v1/products; every refused row is reported as\n"
          "FILE:LINE: field: message, and then nothing is written. A file\n"
          "without errors is written in one transaction (product.created for\n"
          "each row). An existing SKU is an error.\n\n"
          "JSON lines: one object per line, as the body of POST /products;\n"
          "  the category is category_id (a UUID) or category (a slug).\n"
          "CSV: a header row, then one product per record (RFC 4180 quoting).\n"
          "  Columns: sku, name, description, category or category_id, price,\n"
          "  currency (default USD), stock, status (default active), brand,\n"
          "  color, size, weight (kilograms), length, width, height\n"
          "  (centimetres), images (URLs separated by |), custom (a JSON\n"
          "  object). Empty cells are absent fields. Deprecated, still read\n"
          "  for one release: weight_grams, dimension_unit (mm, cm, m, in).\n\n"
          "  --format F   csv or jsonl; default: from the file name (.csv,\n"
          "               .jsonl, .ndjson, .json) or its first character\n"
          "Exit status: 0 imported, 1 rows refused or a failure, 2 usage.\n");
}

int cli_import(const struct config *cfg, int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    usage(stdout);
    return 0;
  }
  enum import_format format = IMPORT_AUTO;
  const char *kind = NULL, *path = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--format") == 0 ||
        strncmp(argv[i], "--format=", 9) == 0) {
      const char *f =
          argv[i][8] == '=' ? argv[i] + 9 : (i + 1 < argc ? argv[++i] : "");
      if (strcmp(f, "csv") == 0) {
        format = IMPORT_CSV;
      } else if (strcmp(f, "jsonl") == 0) {
        format = IMPORT_JSONL;
      } else {
        fprintf(stderr, "import: --format must be csv or jsonl\n");
        return 2;
      }
    } else if (kind == NULL) {
      kind = argv[i];
    } else if (path == NULL) {
      path = argv[i];
    } else {
      fprintf(stderr, "import: unexpected argument '%s'\n\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  if (kind == NULL || strcmp(kind, "products") != 0 || path == NULL) {
    usage(stderr);
    return 2;
  }
  struct import_result r;
  int rc = catalog_import(cfg, path, format, stderr, &r);
  if (rc == KIT_INVALID) {
    fprintf(stderr, "import: %zu of %zu row(s) refused; nothing was imported\n",
            r.errors, r.rows);
    return 1;
  }
  if (rc != KIT_OK) return 1;
  printf("import: %zu product(s) imported from %s\n", r.imported, path);
  return 0;
}
