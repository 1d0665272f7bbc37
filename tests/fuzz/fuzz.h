/* fuzz.h - shared by the libFuzzer harnesses (docs/fuzzing.md): each
 * defines LLVMFuzzerTestOneInput; replay_main.c feeds it the corpus files
 * when the build has no libFuzzer (the gcc sanitizer build of make test). */
#ifndef SHOPSPHERE_FUZZ_H
#define SHOPSPHERE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated malloc'd string (embedded NULs kept:
 * parsers given a length see them, C-string parsers stop at the first). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (s == NULL) abort();
  if (size) memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

/* Splits the input at the first byte `sep` into two NUL-terminated
 * malloc'd strings (the second "" when there is no separator). */
static inline void fuzz_split(const uint8_t *data, size_t size, char sep,
                              char **a, size_t *a_len, char **b,
                              size_t *b_len) {
  const uint8_t *cut = memchr(data, sep, size);
  size_t n = cut ? (size_t)(cut - data) : size;
  *a = fuzz_cstr(data, n);
  *a_len = n;
  size_t rest = cut ? size - n - 1 : 0;
  *b = fuzz_cstr(cut ? cut + 1 : data, rest);
  *b_len = rest;
}

#endif
