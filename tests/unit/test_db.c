/* test_db.c - the PostgreSQL kit against a real server.
 *
 * Needs SHOPSPHERE_DATABASE_URL (the test runner starts PostgreSQL and
 * exports it); without it the test fails rather than pretend to pass. All
 * work happens in throwaway schemas with random names, dropped at the end, so
 * runs never see each other's rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "kit/db.h"
#include "kit/err.h"
#include "kit/metrics.h"

static const char *db_url;
static char schema[64];       /* the main fixture schema */
static struct db_pool *pool;  /* on schema */

static const struct db_statement statements[] = {
    {"insert_item",
     "INSERT INTO items (name, qty, note) VALUES ($1, $2::integer, $3) "
     "RETURNING id"},
    {"get_item", "SELECT id, name, qty, note, active FROM items WHERE name = $1"},
    {"bump_from", "UPDATE items SET qty = qty + 1 WHERE qty >= $1::integer"},
    {"count_items", "SELECT count(*) FROM items"},
    {"read_counter", "SELECT value FROM counters WHERE name = $1"},
    {"write_counter", "UPDATE counters SET value = $2::bigint WHERE name = $1"},
    {"backend_pid", "SELECT pg_backend_pid()"},
    {"terminate", "SELECT pg_terminate_backend($1::integer)"},
    {"broken", "SELEC 1"},
    {"count_migrations", "SELECT count(*) FROM schema_migrations"},
};
#define STATEMENT_COUNT (sizeof statements / sizeof statements[0])

static void random_schema(char *out, size_t size, const char *prefix) {
  unsigned char bytes[6];
  if (getrandom(bytes, sizeof bytes, 0) != (ssize_t)sizeof bytes)
    memset(bytes, 0, sizeof bytes);
  snprintf(out, size, "%s_%02x%02x%02x%02x%02x%02x", prefix, bytes[0],
           bytes[1], bytes[2], bytes[3], bytes[4], bytes[5]);
}

static int drop_schema(struct db_pool *p, const char *name) {
  char sql[128];
  snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS \"%s\" CASCADE", name);
  struct db_conn *c = db_acquire(p, 3000);
  if (c == NULL) return -1;
  int rc = db_exec_sql(c, sql);
  db_release(p, c);
  return rc;
}

/* --- fixture --------------------------------------------------------------- */

static int group_setup(void **state) {
  (void)state;
  random_schema(schema, sizeof schema, "t_db");
  /* Several statements in one migration: it must go through PQexec. */
  const struct migration fixture[] = {
      {schema, 1, "items",
       "CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL "
       "UNIQUE, qty integer NOT NULL DEFAULT 0, note text, active boolean NOT "
       "NULL DEFAULT true);\n"
       "CREATE TABLE counters (name text PRIMARY KEY, value bigint NOT NULL);\n"
       "INSERT INTO counters VALUES ('c', 0);\n"},
  };
  int applied = -1;
  if (db_migrate(db_url, schema, fixture, 1, &applied) != KIT_OK ||
      applied != 1) {
    fprintf(stderr, "fixture migration failed\n");
    return -1;
  }
  return db_pool_open(&pool, db_url, schema, 4, statements, STATEMENT_COUNT);
}

static int group_teardown(void **state) {
  (void)state;
  int rc = drop_schema(pool, schema);
  db_pool_close(pool);
  return rc < 0 ? -1 : 0;
}

/* --- statements ------------------------------------------------------------ */

static void insert_item(struct db_conn *c, const char *name, const char *qty,
                        const char *note) {
  const char *params[] = {name, qty, note};
  struct db_result *r = NULL;
  assert_int_equal(db_exec(c, "insert_item", 3, params, &r), 1);
  assert_non_null(r);
  assert_true(db_result_int64(r, 0, 0) > 0);
  db_result_free(r);
}

static void test_rows_and_nulls(void **state) {
  (void)state;
  struct db_conn *c = db_acquire(pool, 3000);
  assert_non_null(c);
  struct db_result *r = NULL;
  assert_int_equal(db_exec(c, "count_items", 0, NULL, &r), 1);
  int64_t before = db_result_int64(r, 0, 0);
  db_result_free(r);
  insert_item(c, "alpha", "1", NULL);
  insert_item(c, "beta", "5", "second");
  insert_item(c, "gamma", "9", "third");

  const char *name[] = {"alpha"};
  assert_int_equal(db_exec(c, "get_item", 1, name, &r), DB_ONE_RESULT);
  assert_int_equal(db_result_rows(r), 1);
  assert_string_equal(db_result_text(r, 0, 1), "alpha");
  assert_int_equal(db_result_int64(r, 0, 2), 1);
  assert_true(db_result_is_null(r, 0, 3)); /* note NULL */
  assert_null(db_result_text(r, 0, 3));
  assert_true(db_result_bool(r, 0, 4));
  /* Out of range is NULL, not a crash. */
  assert_true(db_result_is_null(r, 1, 0));
  assert_true(db_result_is_null(r, 0, 9));
  db_result_free(r);

  /* No rows is 0 and still hands back an (empty) result. */
  const char *missing[] = {"nope"};
  assert_int_equal(db_exec(c, "get_item", 1, missing, &r), DB_NO_RESULTS);
  assert_int_equal(db_result_rows(r), 0);
  db_result_free(r);

  /* UPDATE reports rows affected; out may be NULL. Only beta and gamma
   * have qty >= 5 (other tests insert qty 1). */
  const char *from[] = {"5"};
  assert_int_equal(db_exec(c, "bump_from", 1, from, NULL), 2);

  assert_int_equal(db_exec(c, "count_items", 0, NULL, &r), 1);
  assert_int_equal(db_result_int64(r, 0, 0), before + 3);
  db_result_free(r);
  db_release(pool, c);
}

static void test_hard_errors(void **state) {
  (void)state;
  struct db_conn *c = db_acquire(pool, 3000);
  assert_non_null(c);
  const char *dup[] = {"dup", "1", NULL};
  assert_int_equal(db_exec(c, "insert_item", 3, dup, NULL), 1);
  struct db_result *r = (struct db_result *)1;
  assert_int_equal(db_exec(c, "insert_item", 3, dup, &r), DB_HARD_ERROR);
  assert_null(r); /* no result on failure */

  const char *bad_int[] = {"x", "not-a-number", NULL};
  assert_int_equal(db_exec(c, "insert_item", 3, bad_int, NULL),
                   DB_HARD_ERROR);
  assert_int_equal(db_exec(c, "undeclared", 0, NULL, NULL), DB_HARD_ERROR);
  assert_int_equal(db_exec(c, "broken", 0, NULL, NULL), DB_HARD_ERROR);
  /* Preparing failed, so it is tried (and fails) again, not assumed. */
  assert_int_equal(db_exec(c, "broken", 0, NULL, NULL), DB_HARD_ERROR);

  /* The connection is still good after all that. */
  assert_int_equal(db_exec(c, "count_items", 0, NULL, NULL), 1);
  db_release(pool, c);
}

/* --- transactions ---------------------------------------------------------- */

static int insert_then_fail(struct db_conn *c, void *arg) {
  const char *params[] = {(const char *)arg, "1", NULL};
  int rc = db_exec(c, "insert_item", 3, params, NULL);
  if (rc < 0) return rc;
  /* A second insert of the same name violates the unique constraint. */
  return db_exec(c, "insert_item", 3, params, NULL);
}

/* A careless body: ignores the failure and claims success. */
static int insert_fail_ignore(struct db_conn *c, void *arg) {
  (void)insert_then_fail(c, arg);
  return 1;
}

static int item_exists(const char *name) {
  struct db_conn *c = db_acquire(pool, 3000);
  assert_non_null(c);
  const char *params[] = {name};
  int rc = db_exec(c, "get_item", 1, params, NULL);
  db_release(pool, c);
  return rc;
}

static void test_transaction_rolls_back(void **state) {
  (void)state;
  assert_int_equal(db_transaction(pool, DB_READ_COMMITTED, insert_then_fail,
                                  "tx-rollback"),
                   DB_HARD_ERROR);
  assert_int_equal(item_exists("tx-rollback"), 0);

  /* COMMIT after an ignored error is really a ROLLBACK: reported, not
   * passed off as success. */
  assert_int_equal(db_transaction(pool, DB_READ_COMMITTED, insert_fail_ignore,
                                  "tx-ignored"),
                   DB_HARD_ERROR);
  assert_int_equal(item_exists("tx-ignored"), 0);
}

static void test_release_inside_transaction(void **state) {
  (void)state;
  struct db_conn *c = db_acquire(pool, 3000);
  assert_non_null(c);
  assert_int_equal(db_exec_sql(c, "BEGIN"), 0);
  const char *params[] = {"left-open", "1", NULL};
  assert_int_equal(db_exec(c, "insert_item", 3, params, NULL), 1);
  db_release(pool, c); /* forgot COMMIT: the pool rolls back */
  assert_int_equal(item_exists("left-open"), 0);
}

#define INCREMENTS 25

struct counter_job {
  int committed;
  int gave_up;
};

/* The first two transactions (one per thread) meet after their reads, so
 * at least one conflict happens however the scheduler runs the threads. */
static pthread_barrier_t meet;
static atomic_int meet_left;

/* Read, pause, write: under SERIALIZABLE two of these overlapping must
 * conflict, and the runner must retry the loser. */
static int increment(struct db_conn *c, void *arg) {
  (void)arg;
  const char *name[] = {"c"};
  struct db_result *r = NULL;
  int rc = db_exec(c, "read_counter", 1, name, &r);
  if (rc < 0) return rc;
  int64_t value = db_result_int64(r, 0, 0);
  db_result_free(r);
  if (atomic_fetch_sub(&meet_left, 1) > 0) pthread_barrier_wait(&meet);
  usleep(2000);
  char next[32];
  snprintf(next, sizeof next, "%lld", (long long)(value + 1));
  const char *params[] = {"c", next};
  return db_exec(c, "write_counter", 2, params, NULL);
}

static void *increment_thread(void *arg) {
  struct counter_job *job = arg;
  while (job->committed < INCREMENTS) {
    int rc = db_transaction(pool, DB_SERIALIZABLE, increment, NULL);
    if (rc == 1)
      job->committed++;
    else if (rc == DB_SOFT_ERROR)
      job->gave_up++; /* retries ran out: nothing committed, try again */
    else
      return NULL;
  }
  return NULL;
}

static void test_serialization_retry(void **state) {
  (void)state;
  struct metric_family *retries = metric_family(
      "db_tx_retries_total",
      "Transactions retried after a serialization failure or deadlock.",
      METRIC_COUNTER, (const char *[]){"service", NULL}, NULL, 0);
  const char *labels[] = {schema};
  double before = metric_value(retries, labels);

  pthread_barrier_init(&meet, NULL, 2);
  atomic_store(&meet_left, 2);
  pthread_t threads[2];
  struct counter_job jobs[2] = {{0, 0}, {0, 0}};
  for (int i = 0; i < 2; i++)
    assert_int_equal(
        pthread_create(&threads[i], NULL, increment_thread, &jobs[i]), 0);
  for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
  pthread_barrier_destroy(&meet);
  assert_int_equal(jobs[0].committed, INCREMENTS);
  assert_int_equal(jobs[1].committed, INCREMENTS);

  struct db_conn *c = db_acquire(pool, 3000);
  assert_non_null(c);
  const char *name[] = {"c"};
  struct db_result *r = NULL;
  assert_int_equal(db_exec(c, "read_counter", 1, name, &r), 1);
  /* Exact: no increment lost, none applied twice. */
  assert_int_equal(db_result_int64(r, 0, 0), 2 * INCREMENTS);
  db_result_free(r);
  db_release(pool, c);

  /* The conflicts happened and were counted. */
  assert_true(metric_value(retries, labels) > before);
}

/* --- connection loss ------------------------------------------------------- */

static int backend_pid(struct db_conn *c) {
  struct db_result *r = NULL;
  if (db_exec(c, "backend_pid", 0, NULL, &r) != 1) return -1;
  int pid = (int)db_result_int64(r, 0, 0);
  db_result_free(r);
  return pid;
}

static void terminate(struct db_conn *by, int pid) {
  char text[16];
  snprintf(text, sizeof text, "%d", pid);
  const char *params[] = {text};
  assert_int_equal(db_exec(by, "terminate", 1, params, NULL), 1);
  usleep(100 * 1000); /* let the backend exit and its FATAL arrive */
}

static void test_connection_loss(void **state) {
  (void)state;
  struct db_pool *p = NULL;
  assert_int_equal(
      db_pool_open(&p, db_url, schema, 2, statements, STATEMENT_COUNT),
      KIT_OK);

  /* Killed while in use: the call says unavailable, the next acquire
   * reconnects and statements are prepared again on the new session. */
  struct db_conn *a = db_acquire(p, 3000);
  struct db_conn *b = db_acquire(p, 3000);
  assert_non_null(a);
  assert_non_null(b);
  int pid_a = backend_pid(a);
  assert_true(pid_a > 0);
  terminate(b, pid_a);
  assert_int_equal(db_exec(a, "count_items", 0, NULL, NULL), DB_UNAVAILABLE);
  assert_int_equal(db_exec(a, "count_items", 0, NULL, NULL), DB_UNAVAILABLE);
  db_release(p, a);
  a = db_acquire(p, 3000);
  assert_non_null(a);
  int pid_new = backend_pid(a);
  assert_true(pid_new > 0);
  assert_int_not_equal(pid_new, pid_a);
  assert_int_equal(db_exec(a, "count_items", 0, NULL, NULL), 1);

  /* Killed while idle in the pool: noticed at acquire, invisible to the
   * caller. */
  int pid_idle = backend_pid(a);
  db_release(p, a);
  terminate(b, pid_idle);
  db_release(p, b);
  a = db_acquire(p, 3000);
  b = db_acquire(p, 3000);
  assert_non_null(a);
  assert_non_null(b);
  assert_int_equal(db_exec(a, "count_items", 0, NULL, NULL), 1);
  assert_int_equal(db_exec(b, "count_items", 0, NULL, NULL), 1);
  assert_int_equal(db_pool_in_use(p), 2);
  db_release(p, a);
  db_release(p, b);
  assert_int_equal(db_pool_in_use(p), 0);
  assert_int_equal(db_pool_size(p), 2);
  db_pool_close(p);
}

static void test_pool_exhaustion(void **state) {
  (void)state;
  struct db_pool *p = NULL;
  assert_int_equal(
      db_pool_open(&p, db_url, schema, 1, statements, STATEMENT_COUNT),
      KIT_OK);
  struct db_conn *a = db_acquire(p, 3000);
  assert_non_null(a);
  assert_null(db_acquire(p, 50)); /* none free within 50 ms */
  db_release(p, a);
  a = db_acquire(p, 50);
  assert_non_null(a);
  db_release(p, a);
  db_pool_close(p);
}

/* --- ping ------------------------------------------------------------------ */

static int never_called(struct db_conn *c, void *arg) {
  (void)c;
  (void)arg;
  fail_msg("the transaction body ran without a connection");
  return 0;
}

static void test_ping(void **state) {
  (void)state;
  char reason[256] = "";
  assert_int_equal(db_ping(pool, reason, sizeof reason), KIT_OK);
  assert_string_equal(db_pool_schema(pool), schema);

  /* Nothing listens on port 1: unavailable, quickly, password unsaid. */
  struct db_pool *down = NULL;
  const char *url =
      "postgresql://shop:hunter2secret@127.0.0.1:1/shop?connect_timeout=2";
  assert_int_equal(db_pool_open(&down, url, "nowhere", 2, NULL, 0), KIT_OK);
  assert_int_equal(db_ping(down, reason, sizeof reason), KIT_UNAVAILABLE);
  assert_true(strlen(reason) > 0);
  assert_null(strstr(reason, "hunter2secret"));
  assert_null(db_acquire(down, 100));
  assert_int_equal(db_transaction(down, DB_READ_COMMITTED, never_called, NULL),
                   DB_UNAVAILABLE);
  db_pool_close(down);

  int applied = -1;
  assert_int_equal(db_migrate(url, "nowhere", NULL, 0, &applied),
                   KIT_UNAVAILABLE);
  assert_int_equal(applied, 0);

  /* A URL libpq cannot parse is refused at open. */
  assert_int_equal(db_pool_open(&down, "postgresql://[broken", "x", 1, NULL, 0),
                   KIT_INVALID);
  assert_null(down);
}

/* --- migrations ------------------------------------------------------------ */

struct migrate_job {
  const char *schema;
  const struct migration *list;
  size_t count;
  int rc;
  int applied;
};

static void *migrate_thread(void *arg) {
  struct migrate_job *job = arg;
  job->rc = db_migrate(db_url, job->schema, job->list, job->count,
                       &job->applied);
  return NULL;
}

static void test_migrations(void **state) {
  (void)state;
  char mschema[64];
  random_schema(mschema, sizeof mschema, "t_mig");
  /* Out of order on purpose, plus another service's migration to skip. */
  const struct migration list[] = {
      {mschema, 2, "add_b",
       "CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a(id));"
       "INSERT INTO a VALUES (1);"},
      {"someone_else", 1, "not_mine", "CREATE TABLE intruder (x int);"},
      {mschema, 1, "add_a", "CREATE TABLE a (id int PRIMARY KEY);"},
      {mschema, 3, "seed_b", "INSERT INTO b VALUES (10, 1);"},
  };
  const size_t count = sizeof list / sizeof list[0];

  /* Two migrators at once: the advisory lock makes one wait, and the
   * second finds everything applied. */
  struct migrate_job jobs[2] = {{mschema, list, count, 0, 0},
                                {mschema, list, count, 0, 0}};
  pthread_t threads[2];
  for (int i = 0; i < 2; i++)
    assert_int_equal(
        pthread_create(&threads[i], NULL, migrate_thread, &jobs[i]), 0);
  for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
  assert_int_equal(jobs[0].rc, KIT_OK);
  assert_int_equal(jobs[1].rc, KIT_OK);
  assert_int_equal(jobs[0].applied + jobs[1].applied, 3);

  /* Idempotent. */
  int applied = -1;
  assert_int_equal(db_migrate(db_url, mschema, list, count, &applied), KIT_OK);
  assert_int_equal(applied, 0);

  /* A failing migration leaves no trace, not even its first statement. */
  const struct migration more[] = {
      {mschema, 4, "half", "CREATE TABLE c (id int); SELECT 1/0;"},
  };
  assert_int_equal(db_migrate(db_url, mschema, more, 1, &applied), KIT_ERROR);
  assert_int_equal(applied, 0);

  struct db_pool *p = NULL;
  assert_int_equal(
      db_pool_open(&p, db_url, mschema, 1, statements, STATEMENT_COUNT),
      KIT_OK);
  struct db_conn *c = db_acquire(p, 3000);
  assert_non_null(c);
  struct db_result *r = NULL;
  assert_int_equal(db_exec(c, "count_migrations", 0, NULL, &r), 1);
  assert_int_equal(db_result_int64(r, 0, 0), 3);
  db_result_free(r);
  assert_int_equal(db_exec_sql(c, "SELECT * FROM b WHERE id = 10"), 1);
  assert_int_equal(db_exec_sql(c, "SELECT * FROM c"), DB_HARD_ERROR);
  assert_int_equal(db_exec_sql(c, "SELECT * FROM intruder"), DB_HARD_ERROR);
  db_release(p, c);
  assert_int_equal(drop_schema(p, mschema), 0);
  db_pool_close(p);
}

int main(void) {
  db_url = getenv("SHOPSPHERE_DATABASE_URL");
  if (db_url == NULL || *db_url == '\0') {
    fprintf(stderr,
            "test_db: FAIL: SHOPSPHERE_DATABASE_URL is not set. This test "
            "needs a real PostgreSQL; run it through the test runner, which "
            "starts one and exports the URL.\n");
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rows_and_nulls),
      cmocka_unit_test(test_hard_errors),
      cmocka_unit_test(test_transaction_rolls_back),
      cmocka_unit_test(test_release_inside_transaction),
      cmocka_unit_test(test_serialization_retry),
      cmocka_unit_test(test_connection_loss),
      cmocka_unit_test(test_pool_exhaustion),
      cmocka_unit_test(test_ping),
      cmocka_unit_test(test_migrations),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
