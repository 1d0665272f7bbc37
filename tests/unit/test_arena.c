/* test_arena.c - unit tests for the per-request arena (src/kit/arena.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdalign.h>
#include <string.h>

#include "kit/arena.h"

static void test_alloc_zeroed_and_aligned(void **state) {
  (void)state;
  struct arena a;
  arena_init(&a, 256);
  for (size_t n = 1; n < 200; n += 7) {
    unsigned char *p = arena_alloc(&a, n);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
    for (size_t i = 0; i < n; i++)
      assert_int_equal(p[i], 0);
    memset(p, 0xAB, n); /* the next block must still come back zeroed */
  }
  arena_free(&a);
}

static void test_blocks_do_not_overlap(void **state) {
  (void)state;
  struct arena a;
  arena_init(&a, 128);
  enum { N = 500 };
  unsigned char *blocks[N];
  for (int i = 0; i < N; i++) {
    size_t n = (size_t)(i % 40) + 1;
    blocks[i] = arena_alloc(&a, n);
    assert_non_null(blocks[i]);
    memset(blocks[i], i & 0xFF, n);
  }
  for (int i = 0; i < N; i++) {
    size_t n = (size_t)(i % 40) + 1;
    for (size_t k = 0; k < n; k++)
      assert_int_equal(blocks[i][k], i & 0xFF);
  }
  arena_free(&a);
}

static void test_large_block_keeps_head_space(void **state) {
  (void)state;
  struct arena a;
  arena_init(&a, 1024);
  char *small1 = arena_alloc(&a, 16);
  char *big = arena_alloc(&a, 100000);
  char *small2 = arena_alloc(&a, 16);
  assert_non_null(small1);
  assert_non_null(big);
  assert_non_null(small2);
  memset(big, 'x', 100000);
  /* The second small block still comes from the first chunk, right after
   * the first one. */
  assert_ptr_equal(small2, small1 + 16);
  arena_free(&a);
}

static void test_large_block_first(void **state) {
  (void)state;
  struct arena a;
  arena_init(&a, 64);
  char *big = arena_alloc(&a, 5000);
  assert_non_null(big);
  memset(big, 1, 5000);
  char *s = arena_alloc(&a, 8);
  assert_non_null(s);
  arena_free(&a);
}

static void test_zero_and_huge(void **state) {
  (void)state;
  struct arena a;
  arena_init(&a, 0); /* default chunk size */
  assert_true(a.chunk_size > 0);
  void *p = arena_alloc(&a, 0);
  void *q = arena_alloc(&a, 0);
  assert_non_null(p);
  assert_non_null(q);
  assert_ptr_not_equal(p, q);
  assert_null(arena_alloc(&a, SIZE_MAX));
  assert_null(arena_alloc(&a, SIZE_MAX - 8));
  assert_null(arena_strndup(&a, "x", SIZE_MAX));
  arena_free(&a);
}

static void test_strings(void **state) {
  (void)state;
  struct arena a;
  arena_init(&a, 64);
  char *s = arena_strdup(&a, "hello");
  assert_string_equal(s, "hello");
  char *t = arena_strndup(&a, "hello world", 5);
  assert_string_equal(t, "hello");
  char *e = arena_strndup(&a, "", 0);
  assert_string_equal(e, "");
  char *f = arena_printf(&a, "%s-%d-%05.1f", "id", 42, 3.5);
  assert_string_equal(f, "id-42-003.5");

  /* Longer than the chunk: goes to its own block. */
  char longs[300];
  memset(longs, 'z', sizeof longs - 1);
  longs[sizeof longs - 1] = '\0';
  char *g = arena_printf(&a, "<%s>", longs);
  assert_int_equal(strlen(g), 301);
  assert_int_equal(g[0], '<');
  assert_int_equal(g[300], '>');
  arena_free(&a);
}

static void test_reuse_after_free(void **state) {
  (void)state;
  struct arena a;
  arena_init(&a, 64);
  arena_free(&a); /* freeing an empty arena is fine */
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 50; i++)
      assert_non_null(arena_printf(&a, "round %d item %d", round, i));
    arena_free(&a);
    assert_null(a.head);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_alloc_zeroed_and_aligned),
      cmocka_unit_test(test_blocks_do_not_overlap),
      cmocka_unit_test(test_large_block_keeps_head_space),
      cmocka_unit_test(test_large_block_first),
      cmocka_unit_test(test_zero_and_huge),
      cmocka_unit_test(test_strings),
      cmocka_unit_test(test_reuse_after_free),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
