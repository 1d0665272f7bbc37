/* test_kv.c - the Redis kit against a real server.
 *
 * Needs SHOPSPHERE_REDIS_URL (the test runner starts Redis and exports it);
 * without it the test fails rather than pretend to pass. Keys carry a random
 * per-run prefix and each test deletes its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "kit/err.h"
#include "kit/kv.h"

static const char *kv_url;
static char prefix[40];
static struct kv_pool *pool;

static const char *key(char *buf, size_t size, const char *name) {
  snprintf(buf, size, "%s:%s", prefix, name);
  return buf;
}

/* Runs a C-string command and returns its reply (asserting KIT_OK). */
static struct kv_reply *run(struct kv_pool *p, int argc, const char **argv) {
  struct kv_reply *r = NULL;
  assert_int_equal(kv_command(p, &r, argc, argv, NULL), KIT_OK);
  assert_non_null(r);
  return r;
}

static void del(const char *k) {
  const char *argv[] = {"DEL", k};
  kv_reply_free(run(pool, 2, argv));
}

/* host:port of the configured server, for URLs with other credentials. */
static void server_address(char *out, size_t size) {
  const char *p = strrchr(kv_url, '@');
  p = p != NULL ? p + 1 : kv_url + strlen("redis://");
  snprintf(out, size, "%.*s", (int)strcspn(p, "/"), p);
}

static int group_setup(void **state) {
  (void)state;
  unsigned char b[6];
  if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) memset(b, 0, sizeof b);
  snprintf(prefix, sizeof prefix, "t_kv:%02x%02x%02x%02x%02x%02x", b[0], b[1],
           b[2], b[3], b[4], b[5]);
  return kv_pool_open(&pool, kv_url, 2, 1000) == KIT_OK ? 0 : -1;
}

static int group_teardown(void **state) {
  (void)state;
  kv_pool_close(pool);
  return 0;
}

/* --- commands -------------------------------------------------------------- */

static void test_set_get_del(void **state) {
  (void)state;
  char k[80];
  key(k, sizeof k, "plain");
  const char *set[] = {"SET", k, "hello"};
  struct kv_reply *r = run(pool, 3, set);
  assert_int_equal(r->type, KV_STATUS);
  assert_string_equal(r->str, "OK");
  kv_reply_free(r);

  const char *get[] = {"GET", k};
  r = run(pool, 2, get);
  assert_int_equal(r->type, KV_STRING);
  assert_int_equal(r->len, 5);
  assert_string_equal(r->str, "hello");
  kv_reply_free(r);

  const char *d[] = {"DEL", k};
  r = run(pool, 2, d);
  assert_int_equal(r->type, KV_INTEGER);
  assert_int_equal(r->integer, 1);
  kv_reply_free(r);

  r = run(pool, 2, get);
  assert_int_equal(r->type, KV_NIL);
  kv_reply_free(r);

  /* out may be NULL when the reply does not matter. */
  assert_int_equal(kv_command(pool, NULL, 3, set, NULL), KIT_OK);
  del(k);
}

static void test_binary_safe(void **state) {
  (void)state;
  char k[80];
  key(k, sizeof k, "bin");
  const char value[] = {'a', '\0', 'b', '\xff', '\r', '\n', '\0'};
  const char *set[] = {"SET", k, value};
  const size_t set_len[] = {3, strlen(k), sizeof value};
  assert_int_equal(kv_command(pool, NULL, 3, set, set_len), KIT_OK);

  const char *get[] = {"GET", k};
  struct kv_reply *r = run(pool, 2, get);
  assert_int_equal(r->type, KV_STRING);
  assert_int_equal(r->len, sizeof value);
  assert_memory_equal(r->str, value, sizeof value);
  assert_int_equal(r->str[r->len], '\0'); /* always terminated */
  kv_reply_free(r);
  del(k);
}

static void test_arrays(void **state) {
  (void)state;
  char k[80];
  key(k, sizeof k, "list");
  const char *push[] = {"RPUSH", k, "x", "", "zz"};
  kv_reply_free(run(pool, 5, push));
  const char *range[] = {"LRANGE", k, "0", "-1"};
  struct kv_reply *r = run(pool, 4, range);
  assert_int_equal(r->type, KV_ARRAY);
  assert_int_equal(r->count, 3);
  assert_string_equal(r->elements[0].str, "x");
  assert_int_equal(r->elements[1].len, 0);
  assert_string_equal(r->elements[1].str, "");
  assert_string_equal(r->elements[2].str, "zz");
  kv_reply_free(r);
  del(k);

  /* An empty array has no elements to free. */
  r = run(pool, 4, range);
  assert_int_equal(r->type, KV_ARRAY);
  assert_int_equal(r->count, 0);
  kv_reply_free(r);
}

static void test_error_reply(void **state) {
  (void)state;
  char k[80];
  key(k, sizeof k, "notnum");
  const char *set[] = {"SET", k, "abc"};
  kv_reply_free(run(pool, 3, set));
  const char *incr[] = {"INCR", k};
  struct kv_reply *r = run(pool, 2, incr); /* a Redis error is still KIT_OK */
  assert_int_equal(r->type, KV_ERROR);
  assert_true(strncmp(r->str, "ERR", 3) == 0);
  kv_reply_free(r);
  const char *bogus[] = {"NOSUCHCOMMAND"};
  r = run(pool, 1, bogus);
  assert_int_equal(r->type, KV_ERROR);
  kv_reply_free(r);
  /* The connection is fine afterwards. */
  const char *get[] = {"GET", k};
  r = run(pool, 2, get);
  assert_string_equal(r->str, "abc");
  kv_reply_free(r);
  del(k);
  assert_int_equal(kv_command(pool, NULL, 0, NULL, NULL), KIT_INVALID);
}

static void test_pipeline(void **state) {
  (void)state;
  char k[80];
  key(k, sizeof k, "counter");
  const char *c0[] = {"SET", k, "10"};
  const char *c1[] = {"INCR", k};
  const char *c2[] = {"INCRBY", k, "5"};
  const char *c3[] = {"GET", k};
  const char *c4[] = {"LPUSH", k, "oops"}; /* wrong type: an error reply */
  const char *c5[] = {"DEL", k};
  const char *const *argvs[] = {c0, c1, c2, c3, c4, c5};
  const int argcs[] = {3, 2, 3, 2, 3, 2};
  struct kv_reply *out[6];
  assert_int_equal(kv_pipeline(pool, 6, argcs, argvs, out), KIT_OK);
  assert_int_equal(out[0]->type, KV_STATUS);
  assert_int_equal(out[1]->integer, 11);
  assert_int_equal(out[2]->integer, 16);
  assert_string_equal(out[3]->str, "16");
  assert_int_equal(out[4]->type, KV_ERROR);
  assert_true(strncmp(out[4]->str, "WRONGTYPE", 9) == 0);
  assert_int_equal(out[5]->integer, 1);
  for (int i = 0; i < 6; i++) kv_reply_free(out[i]);

  /* A second pipeline on the same pool is in step (no stray replies). */
  const char *p0[] = {"PING"};
  const char *const *argvs2[] = {p0};
  const int argcs2[] = {1};
  assert_int_equal(kv_pipeline(pool, 1, argcs2, argvs2, out), KIT_OK);
  assert_string_equal(out[0]->str, "PONG");
  kv_reply_free(out[0]);
}

/* --- failures -------------------------------------------------------------- */

static void test_ping(void **state) {
  (void)state;
  char reason[256] = "";
  assert_int_equal(kv_ping(pool, reason, sizeof reason), KIT_OK);

  /* Nothing listens on port 1. */
  struct kv_pool *down = NULL;
  assert_int_equal(
      kv_pool_open(&down, "redis://:topsecretpw@127.0.0.1:1/0", 1, 300),
      KIT_OK);
  assert_int_equal(kv_ping(down, reason, sizeof reason), KIT_UNAVAILABLE);
  assert_true(strlen(reason) > 0);
  assert_null(strstr(reason, "topsecretpw"));
  const char *get[] = {"GET", "x"};
  struct kv_reply *r = (struct kv_reply *)1;
  assert_int_equal(kv_command(down, &r, 2, get, NULL), KIT_UNAVAILABLE);
  assert_null(r);
  kv_pool_close(down);

  /* A wrong password is unavailable too, and not echoed. */
  char addr[200], url[300];
  server_address(addr, sizeof addr);
  snprintf(url, sizeof url, "redis://:wrong-pw-%s@%s", prefix + 5, addr);
  assert_int_equal(kv_pool_open(&down, url, 1, 1000), KIT_OK);
  if (strchr(kv_url, '@') != NULL) { /* only meaningful with auth on */
    assert_int_equal(kv_ping(down, reason, sizeof reason), KIT_UNAVAILABLE);
    assert_null(strstr(reason, "wrong-pw"));
  }
  kv_pool_close(down);
}

static void test_bad_urls(void **state) {
  (void)state;
  const char *bad[] = {"http://localhost:6379", "redis://", "redis://:pw@",
                       "redis://host:0",        "redis://host:99999",
                       "redis://host/abc",      "redis://host:6379/1?x=y",
                       "redis://:bad%zzpw@host"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct kv_pool *p = (struct kv_pool *)1;
    if (kv_pool_open(&p, bad[i], 1, 100) != KIT_INVALID)
      fail_msg("accepted bad URL %s", bad[i]);
    assert_null(p);
  }
}

static void test_select_db(void **state) {
  (void)state;
  char addr[200], url[400];
  server_address(addr, sizeof addr);
  const char *at = strrchr(kv_url, '@');
  /* Same credentials, database 3. */
  snprintf(url, sizeof url, "%.*s%s/3",
           at != NULL ? (int)(at + 1 - kv_url) : (int)strlen("redis://"),
           kv_url, addr);
  struct kv_pool *db3 = NULL;
  assert_int_equal(kv_pool_open(&db3, url, 1, 1000), KIT_OK);
  char k[80];
  key(k, sizeof k, "in-db3");
  const char *set[] = {"SET", k, "3"};
  kv_reply_free(run(db3, 3, set));
  const char *get[] = {"GET", k};
  struct kv_reply *r = run(pool, 2, get); /* pool uses another db */
  assert_int_equal(r->type, KV_NIL);
  kv_reply_free(r);
  r = run(db3, 2, get);
  assert_string_equal(r->str, "3");
  kv_reply_free(r);
  const char *d[] = {"DEL", k};
  kv_reply_free(run(db3, 2, d));
  kv_pool_close(db3);
}

static void test_timeout_then_recovery(void **state) {
  (void)state;
  struct kv_pool *p = NULL;
  assert_int_equal(kv_pool_open(&p, kv_url, 1, 200), KIT_OK);
  char k[80];
  key(k, sizeof k, "never");
  /* BLPOP would wait 2 s; our 200 ms command timeout cuts it short. */
  const char *blpop[] = {"BLPOP", k, "2"};
  struct kv_reply *r = NULL;
  assert_int_equal(kv_command(p, &r, 3, blpop, NULL), KIT_TIMEOUT);
  assert_null(r);
  /* The late reply must not answer the next command: new connection. */
  const char *echo[] = {"ECHO", "after"};
  r = run(p, 2, echo);
  assert_string_equal(r->str, "after");
  kv_reply_free(r);
  kv_pool_close(p);
}

static void test_reconnect_after_kill(void **state) {
  (void)state;
  struct kv_pool *p = NULL;
  assert_int_equal(kv_pool_open(&p, kv_url, 1, 1000), KIT_OK);
  const char *id_cmd[] = {"CLIENT", "ID"};
  struct kv_reply *r = run(p, 2, id_cmd);
  char id[32];
  snprintf(id, sizeof id, "%lld", r->integer);
  kv_reply_free(r);

  /* Killed while idle in the pool: noticed at acquire, invisible to the
   * caller. */
  const char *kill[] = {"CLIENT", "KILL", "ID", id};
  r = run(pool, 4, kill);
  assert_int_equal(r->integer, 1);
  kv_reply_free(r);
  usleep(50 * 1000);
  r = run(p, 2, id_cmd);
  char id2[32];
  snprintf(id2, sizeof id2, "%lld", r->integer);
  kv_reply_free(r);
  assert_string_not_equal(id, id2);
  kv_pool_close(p);
}

int main(void) {
  kv_url = getenv("SHOPSPHERE_REDIS_URL");
  if (kv_url == NULL || *kv_url == '\0') {
    fprintf(stderr,
            "test_kv: FAIL: SHOPSPHERE_REDIS_URL is not set. This test needs "
            "a real Redis; run it through the test runner, which starts one "
            "and exports the URL.\n");
    return 1;
  }
  /* hiredis writes with write(2): as in the server, SIGPIPE is ignored. */
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_set_get_del),
      cmocka_unit_test(test_binary_safe),
      cmocka_unit_test(test_arrays),
      cmocka_unit_test(test_error_reply),
      cmocka_unit_test(test_pipeline),
      cmocka_unit_test(test_ping),
      cmocka_unit_test(test_bad_urls),
      cmocka_unit_test(test_select_db),
      cmocka_unit_test(test_timeout_then_recovery),
      cmocka_unit_test(test_reconnect_after_kill),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
