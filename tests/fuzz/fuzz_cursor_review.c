/* fuzz_cursor_review.c - the reviews' "<key>.<uuid>" cursor and ?sort=:
 * parse, and what parses formats back to the same text. */
#include "fuzz.h"
#include "services/review/domain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_cstr(data, size);
  int64_t key = -1;
  char id[37];
  if (review_cursor_parse(text, &key, id)) {
    char out[REVIEW_CURSOR_MAX];
    review_cursor_format(key, id, out);
    int64_t key2 = -1;
    char id2[37];
    if (!review_cursor_parse(out, &key2, id2) || key2 != key ||
        strcmp(id, id2) != 0)
      abort();
  }
  enum review_sort sort;
  review_sort_parse(text, &sort);
  free(text);
  return 0;
}
