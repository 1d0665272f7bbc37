/* fuzz_import.c - `shopsphere import` files (CSV and JSON lines), read and
 * validated row by row as the importer does, without the database. The
 * first byte picks the format. */
#include <stdio.h>

#include "fuzz.h"
#include "services/product/tools.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  static FILE *sink;
  if (sink == NULL) sink = fopen("/dev/null", "w");
  enum import_format format = data[0] % 3 == 0   ? IMPORT_AUTO
                              : data[0] % 3 == 1 ? IMPORT_CSV
                                                 : IMPORT_JSONL;
  char *text = fuzz_cstr(data + 1, size - 1);
  struct import_result out;
  catalog_import_read(text, size - 1, format, sink, &out);
  if (out.errors > out.rows) abort();
  free(text);
  return 0;
}
