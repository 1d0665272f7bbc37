/* test_uuid.c - unit tests for UUIDv7 and UUID validation (src/kit/uuid.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kit/uuid.h"

static bool is_lower_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void test_v7_format(void **state) {
  (void)state;
  for (int n = 0; n < 100; n++) {
    char id[UUID_STR_LEN];
    uuid_v7(id);
    assert_int_equal(strlen(id), 36);
    for (int i = 0; i < 36; i++) {
      if (i == 8 || i == 13 || i == 18 || i == 23)
        assert_int_equal(id[i], '-');
      else
        assert_true(is_lower_hex(id[i]));
    }
    assert_int_equal(id[14], '7');           /* version */
    assert_non_null(strchr("89ab", id[19])); /* variant 10xx */
    assert_true(uuid_valid(id));
  }
}

static void test_v7_timestamp(void **state) {
  (void)state;
  uint64_t before = now_ms();
  char id[UUID_STR_LEN];
  uuid_v7(id);
  uint64_t after = now_ms();

  /* The first 48 bits are the Unix time in ms: 8 + 4 hex digits. */
  char hex[13];
  memcpy(hex, id, 8);
  memcpy(hex + 8, id + 9, 4);
  hex[12] = '\0';
  uint64_t ts = strtoull(hex, NULL, 16);
  /* Earlier ids in this process may have pushed the counter's millisecond
   * a little ahead of the clock, never behind it. */
  assert_true(ts >= before);
  assert_true(ts <= after + 1000);
}

static void test_v7_strictly_increasing(void **state) {
  (void)state;
  enum { N = 10000 };
  char(*ids)[UUID_STR_LEN] = malloc(sizeof(*ids) * N);
  assert_non_null(ids);
  for (int i = 0; i < N; i++)
    uuid_v7(ids[i]);
  /* Lowercase hex sorts like the bytes it encodes. */
  for (int i = 1; i < N; i++)
    assert_true(strcmp(ids[i - 1], ids[i]) < 0);
  free(ids);
}

enum { THREADS = 4, PER_THREAD = 2500 };

static void *mint_many(void *arg) {
  char(*ids)[UUID_STR_LEN] = arg;
  for (int i = 0; i < PER_THREAD; i++)
    uuid_v7(ids[i]);
  return NULL;
}

static int cmp_id(const void *a, const void *b) { return strcmp(a, b); }

static void test_v7_threads_unique_and_ordered(void **state) {
  (void)state;
  char(*ids)[UUID_STR_LEN] = malloc(sizeof(*ids) * THREADS * PER_THREAD);
  assert_non_null(ids);
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    assert_int_equal(
        pthread_create(&t[i], NULL, mint_many, ids + i * PER_THREAD), 0);
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);

  /* Each thread's own sequence is increasing... */
  for (int th = 0; th < THREADS; th++)
    for (int i = 1; i < PER_THREAD; i++)
      assert_true(
          strcmp(ids[th * PER_THREAD + i - 1], ids[th * PER_THREAD + i]) < 0);
  /* ...and no id appears twice across threads. */
  qsort(ids, THREADS * PER_THREAD, sizeof(*ids), cmp_id);
  for (int i = 1; i < THREADS * PER_THREAD; i++)
    assert_true(strcmp(ids[i - 1], ids[i]) < 0);
  free(ids);
}

static void test_valid(void **state) {
  (void)state;
  const char *good[] = {
      "0190b5a4-7c3e-7d2a-9f1b-3c4d5e6f7a8b",
      "0190B5A4-7C3E-7D2A-9F1B-3C4D5E6F7A8B",
      "00000000-0000-0000-0000-000000000000",
      "ffffffff-ffff-ffff-ffff-ffffffffffff",
      "550e8400-e29b-41d4-a716-446655440000", /* v4 is fine too */
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    assert_true(uuid_valid(good[i]));

  const char *bad[] = {
      "",
      "0190b5a4-7c3e-7d2a-9f1b-3c4d5e6f7a8",   /* short */
      "0190b5a4-7c3e-7d2a-9f1b-3c4d5e6f7a8bc", /* long */
      "0190b5a47c3e7d2a9f1b3c4d5e6f7a8b",      /* no dashes */
      "0190b5a4-7c3e-7d2a-9f1b-3c4d5e6f7a8g",  /* not hex */
      "0190b5a4-7c3e7-d2a-9f1b-3c4d5e6f7a8b",  /* dash misplaced */
      "{0190b5a4-7c3e-7d2a-9f1b-3c4d5e6f7a8b}",
      " 0190b5a4-7c3e-7d2a-9f1b-3c4d5e6f7a8b",
      "0190b5a4-7c3e-7d2a-9f1b-3c4d5e6f7a8b ",
      "0190b5a4_7c3e_7d2a_9f1b_3c4d5e6f7a8b",
      "urn:uuid:0190b5a4-7c3e-7d2a-9f1b-3c4d",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_false(uuid_valid(bad[i]));
  assert_false(uuid_valid(NULL));
}

static void test_normalize(void **state) {
  (void)state;
  char out[UUID_STR_LEN];
  assert_true(uuid_normalize("0190B5A4-7C3E-7D2A-9F1B-3C4D5E6F7A8B", out));
  assert_string_equal(out, "0190b5a4-7c3e-7d2a-9f1b-3c4d5e6f7a8b");
  assert_true(uuid_normalize("0190b5a4-7c3e-7d2a-9f1b-3c4d5e6f7a8b", out));
  assert_string_equal(out, "0190b5a4-7c3e-7d2a-9f1b-3c4d5e6f7a8b");

  memcpy(out, "untouched", 10);
  assert_false(uuid_normalize("not-a-uuid", out));
  assert_false(uuid_normalize(NULL, out));
  assert_string_equal(out, "untouched");
}

static void test_random_hex(void **state) {
  (void)state;
  char a[65], b[65];
  random_hex(a, 32);
  random_hex(b, 32);
  assert_int_equal(strlen(a), 64);
  for (int i = 0; i < 64; i++)
    assert_true(is_lower_hex(a[i]));
  assert_string_not_equal(a, b);

  char one[3];
  random_hex(one, 1);
  assert_int_equal(strlen(one), 2);

  char empty[1] = {'x'};
  random_hex(empty, 0);
  assert_string_equal(empty, "");
}

/* Ids come from a per-thread buffer: many in a row are all different, and
 * a forked child never repeats the ids its parent will issue next. */
static void test_id_hex_pool(void **state) {
  (void)state;
  enum { N = 200 };
  static char ids[N][33];
  for (int i = 0; i < N; i++) {
    id_hex(ids[i], 16);
    assert_int_equal(strlen(ids[i]), 32);
    for (int j = 0; j < i; j++)
      assert_string_not_equal(ids[i], ids[j]);
  }
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char child[33];
    id_hex(child, 16);
    _exit(write(fds[1], child, 32) == 32 ? 0 : 1);
  }
  char parent[33], child[33] = "";
  id_hex(parent, 16);
  assert_int_equal(read(fds[0], child, 32), 32);
  int status = 0;
  waitpid(pid, &status, 0);
  close(fds[0]);
  close(fds[1]);
  assert_string_not_equal(parent, child);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_v7_format),
      cmocka_unit_test(test_v7_timestamp),
      cmocka_unit_test(test_v7_strictly_increasing),
      cmocka_unit_test(test_v7_threads_unique_and_ordered),
      cmocka_unit_test(test_valid),
      cmocka_unit_test(test_normalize),
      cmocka_unit_test(test_random_hex),
      cmocka_unit_test(test_id_hex_pool),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
