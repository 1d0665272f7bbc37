/* fuzz_cursor_product.c - the catalog's opaque keyset cursor (a client
 * hands it back in ?cursor=): decode, and the round trip decode → encode →
 * decode gives the same cursor. Also the ?sort= names. */
#include "fuzz.h"
#include "services/product/domain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_cstr(data, size);
  struct list_cursor c, again;
  memset(&c, 0, sizeof c);
  if (product_cursor_decode(text, &c)) {
    char buf[CURSOR_TEXT_MAX + 1];
    if (product_cursor_encode(&c, buf, sizeof buf)) {
      memset(&again, 0, sizeof again);
      if (!product_cursor_decode(buf, &again) || again.sort != c.sort ||
          strcmp(again.key, c.key) != 0 || strcmp(again.id, c.id) != 0)
        abort();
    }
  }
  enum product_sort sort;
  product_sort_parse(text, &sort);
  free(text);
  return 0;
}
