/* test_bus.c - the event bus against a real PostgreSQL and RabbitMQ.
 *
 * Needs SHOPSPHERE_DATABASE_URL and SHOPSPHERE_AMQP_URL (scripts/test.sh
 * exports them); the broker restart test also needs SHOPSPHERE_ROOT and
 * SHOPSPHERE_PROFILE to call scripts/infra.sh. Without them the tests fail
 * rather than pretend to pass.
 *
 * Each test gets a throwaway schema (the kit migrations give it outbox and
 * inbox; the fixture adds an `effects` table the test handler writes to) and
 * a service named after it, so its queues and event types are its own. The
 * handler records one effect row per applied event: "applied once" means
 * exactly one row per event id.
 */
/* cmocka.h needs these first. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kit/breaker.h"
#include "kit/bus.h"
#include "kit/bus_internal.h" /* the bus's metric families */
#include "kit/err.h"
#include "kit/log.h"
#include "kit/metrics.h"
#include "kit/mq.h"
#include "kit/service.h"
#include "kit/uuid.h"

extern const struct migration shopsphere_migrations[];
extern const unsigned long shopsphere_migration_count;

static const char *db_url;
static const char *amqp_url;
static struct config cfg;

/* What the handler is told to do, per process. */
static atomic_int fault; /* poison events fail while set */
static int hang_fd = -1; /* >= 0: "hang" events signal here, then hang */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static char seen_trace[64]; /* the log context trace of the last event */

static const struct db_statement statements[] = {
    {"insert_effect",
     "INSERT INTO effects (event_id, aggregate_id, n) VALUES ($1::uuid, $2, "
     "$3::integer)"},
    {"count_effects", "SELECT count(*), count(DISTINCT event_id) FROM effects"},
    {"count_n", "SELECT count(*) FROM effects WHERE n = $1::integer"},
    {"count_outbox", "SELECT count(*) FROM outbox"},
    {"insert_outbox",
     "INSERT INTO outbox (event_id, event_type, aggregate_id, trace_id, "
     "envelope) VALUES ($1::uuid, $2, $3, $4, $5)"},
    {"count_inbox", "SELECT count(*) FROM inbox"},
    {"delete_effects", "DELETE FROM effects"},
    {"delete_effects_n", "DELETE FROM effects WHERE n = $1::integer"},
    {"delete_inbox_of_n",
     "DELETE FROM inbox WHERE event_id IN (SELECT event_id FROM effects "
     "WHERE n = $1::integer)"},
};
#define STATEMENT_COUNT (sizeof statements / sizeof statements[0])

static void sleep_ms(int ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* --- the test handler ------------------------------------------------------
 */

static int test_handler(struct service *svc, struct db_conn *conn,
                        const struct bus_event *ev) {
  (void)svc;
  const json_t *data = ev->data;
  pthread_mutex_lock(&seen_lock);
  snprintf(seen_trace, sizeof seen_trace, "%s", log_context_trace_id());
  pthread_mutex_unlock(&seen_lock);
  if (json_is_true(json_object_get(data, "poison")) && atomic_load(&fault))
    return DB_HARD_ERROR;
  char n[16];
  snprintf(n, sizeof n, "%d",
           (int)json_integer_value(json_object_get(data, "n")));
  const char *p[] = {ev->event_id, ev->aggregate_id, n};
  int rc = db_exec(conn, "insert_effect", 3, p, NULL);
  if (rc < 0) return rc;
  if (hang_fd >= 0 && json_is_true(json_object_get(data, "hang"))) {
    /* The effect is written but not committed: tell the parent, then wait
     * for its SIGKILL. */
    ssize_t w = write(hang_fd, "h", 1);
    (void)w;
    sleep(60);
  }
  return rc;
}

/* --- fixture ---------------------------------------------------------------
 */

struct fixture {
  char schema[64];
  char pattern[80]; /* "<schema>.#": the handler's binding */
  struct event_handler handlers[1];
  struct service_module mod;
  struct service svc;
  struct db_pool *pool;
  bool started;
};

static void fixture_open(struct fixture *fx) {
  memset(fx, 0, sizeof *fx);
  unsigned char b[5];
  assert_int_equal(getrandom(b, sizeof b, 0), (ssize_t)sizeof b);
  snprintf(fx->schema, sizeof fx->schema, "t_bus_%02x%02x%02x%02x%02x", b[0],
           b[1], b[2], b[3], b[4]);
  snprintf(fx->pattern, sizeof fx->pattern, "%s.#", fx->schema);
  int applied = 0;
  assert_int_equal(db_migrate(db_url, fx->schema, shopsphere_migrations,
                              shopsphere_migration_count, &applied),
                   KIT_OK);
  assert_true(applied >= 2); /* outbox, inbox */
  const struct migration fixture[] = {
      {fx->schema, 1, "effects",
       "CREATE TABLE effects (event_id uuid NOT NULL, aggregate_id text NOT "
       "NULL, n integer NOT NULL)"},
  };
  assert_int_equal(db_migrate(db_url, fx->schema, fixture, 1, &applied),
                   KIT_OK);
  assert_int_equal(applied, 1);
  fx->handlers[0] = (struct event_handler){fx->pattern, test_handler};
  fx->mod = (struct service_module){
      .id = SVC_COUNT,
      .summary = "event bus test",
      .needs = NEEDS_DB | NEEDS_AMQP,
      .statements = statements,
      .statement_count = STATEMENT_COUNT,
      .events = fx->handlers,
      .event_count = 1,
  };
}

static void fixture_pool(struct fixture *fx) {
  assert_int_equal(db_pool_open(&fx->pool, db_url, fx->schema, 4, statements,
                                STATEMENT_COUNT),
                   KIT_OK);
  fx->svc = (struct service){
      .module = &fx->mod, .name = fx->schema, .cfg = &cfg, .db = fx->pool};
}

static void fixture_start(struct fixture *fx) {
  assert_int_equal(bus_start(&fx->svc), KIT_OK);
  fx->started = true;
  /* Events published before the queue is bound would not reach it. */
  assert_int_equal(bus_wait_ready(&fx->svc, 30000), KIT_OK);
}

/* The fixture service's queues go with it (best effort). */
static void delete_queues(const char *service) {
  struct mq_conn *c = NULL;
  char reason[160];
  if (mq_open(&c, amqp_url, 3000, false, reason, sizeof reason) != KIT_OK)
    return;
  char name[160];
  bus_queue_name(service, name, sizeof name);
  (void)mq_delete_queue(c, name);
  bus_dlq_name(service, name, sizeof name);
  (void)mq_delete_queue(c, name);
  for (int attempt = 1; attempt < cfg.bus_max_attempts; attempt++) {
    bus_retry_queue_name(service,
                         bus_retry_delay_ms(cfg.bus_retry_base_ms, attempt),
                         name, sizeof name);
    (void)mq_delete_queue(c, name);
  }
  mq_close(c);
}

static void fixture_close(struct fixture *fx) {
  if (fx->started) bus_stop(&fx->svc);
  fx->started = false;
  char sql[128];
  snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS \"%s\" CASCADE", fx->schema);
  struct db_conn *c = db_acquire(fx->pool, 3000);
  if (c != NULL) {
    (void)db_exec_sql(c, sql);
    db_release(fx->pool, c);
  }
  db_pool_close(fx->pool);
  fx->pool = NULL;
  delete_queues(fx->schema);
}

/* --- helpers ---------------------------------------------------------------
 */

struct emit_job {
  const char *type_suffix;
  const char *schema;
  int first_n;
  int count;
  bool poison;
  bool hang;
  bool roll_back;
};

static int emit_tx(struct db_conn *conn, void *arg) {
  const struct emit_job *job = arg;
  char type[128];
  snprintf(type, sizeof type, "%s.%s", job->schema, job->type_suffix);
  for (int i = 0; i < job->count; i++) {
    char agg[32];
    snprintf(agg, sizeof agg, "agg-%d", (job->first_n + i) % 7);
    json_t *data = json_pack("{s:i, s:b, s:b}", "n", job->first_n + i, "poison",
                             job->poison, "hang", job->hang);
    int rc = bus_emit(conn, type, agg, data);
    json_decref(data);
    if (rc < 0) return rc;
  }
  return job->roll_back ? DB_HARD_ERROR : DB_NO_RESULTS;
}

static int emit(struct fixture *fx, struct emit_job job) {
  job.schema = fx->schema;
  if (job.type_suffix == NULL) job.type_suffix = "happened";
  return db_transaction(fx->pool, DB_READ_COMMITTED, emit_tx, &job);
}

static int64_t query_int(struct fixture *fx, const char *stmt, int col,
                         const char *param) {
  struct db_conn *c = db_acquire(fx->pool, 3000);
  if (c == NULL) return -1;
  struct db_result *r = NULL;
  const char *p[] = {param};
  int rc = db_exec(c, stmt, param ? 1 : 0, p, &r);
  int64_t v = rc >= 1 ? db_result_int64(r, 0, col) : -1;
  db_result_free(r);
  db_release(fx->pool, c);
  return v;
}

/* Runs stmt on its own (autocommit); the rows it affected, or a db_status. */
static int exec_params(struct fixture *fx, const char *stmt, int n,
                       const char *const *params) {
  struct db_conn *c = db_acquire(fx->pool, 3000);
  if (c == NULL) return DB_UNAVAILABLE;
  int rc = db_exec(c, stmt, n, params, NULL);
  db_release(fx->pool, c);
  return rc;
}

/* Polls until stmt's column col equals want, up to timeout_ms. */
static int64_t wait_for(struct fixture *fx, const char *stmt, int col,
                        const char *param, int64_t want, int timeout_ms) {
  int64_t until = clock_monotonic_ms() + timeout_ms;
  int64_t v;
  while ((v = query_int(fx, stmt, col, param)) != want &&
         clock_monotonic_ms() < until)
    sleep_ms(50);
  return v;
}

/* One series of a bus metric for the fixture's service. */
static double bus_metric(struct metric_family *f, const char *service,
                         const char *outcome) {
  const char *labels[] = {service, outcome};
  return metric_value(f, labels);
}

/* Polls a bus metric until it reaches want, up to timeout_ms. */
static double wait_metric(struct metric_family *f, const char *service,
                          double want, int timeout_ms) {
  int64_t until = clock_monotonic_ms() + timeout_ms;
  double v;
  while ((v = bus_metric(f, service, NULL)) < want &&
         clock_monotonic_ms() < until)
    sleep_ms(50);
  return v;
}

static int infra(const char *action) {
  const char *root = getenv("SHOPSPHERE_ROOT");
  const char *profile = getenv("SHOPSPHERE_PROFILE");
  if (root == NULL || profile == NULL) {
    fprintf(stderr, "SHOPSPHERE_ROOT / SHOPSPHERE_PROFILE are not set\n");
    return -1;
  }
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "'%s/scripts/infra.sh' %s rabbitmq --profile '%s' >/dev/null", root,
           action, profile);
  return system(cmd);
}

/* --- pure parts ------------------------------------------------------------
 */

static void test_topic_patterns(void **state) {
  (void)state;
  assert_true(bus_topic_matches("order.created", "order.created"));
  assert_false(bus_topic_matches("order.created", "order.confirmed"));
  assert_true(bus_topic_matches("order.*", "order.created"));
  assert_false(bus_topic_matches("order.*", "order.created.v2"));
  assert_false(bus_topic_matches("order.*", "order"));
  assert_true(bus_topic_matches("#", "payment.captured"));
  assert_true(bus_topic_matches("order.#", "order"));
  assert_true(bus_topic_matches("order.#", "order.status_changed"));
  assert_true(bus_topic_matches("*.created", "product.created"));
  assert_true(bus_topic_matches("#.created", "a.b.created"));
  assert_false(bus_topic_matches("#.created", "a.b.updated"));
  assert_false(bus_topic_matches("payment.*", "order.created"));
}

static void test_retry_delays_grow(void **state) {
  (void)state;
  assert_int_equal(bus_retry_delay_ms(1000, 1), 1000);
  assert_int_equal(bus_retry_delay_ms(1000, 2), 2000);
  assert_int_equal(bus_retry_delay_ms(1000, 4), 8000);
  assert_int_equal(bus_retry_delay_ms(1000, 40), BUS_RETRY_MAX_MS);
  char name[128];
  bus_retry_queue_name("order", 2000, name, sizeof name);
  assert_string_equal(name, "shopsphere.retry.order.2000ms");
  bus_dlq_name("order", name, sizeof name);
  assert_string_equal(name, "shopsphere.dlq.order");
}

static void test_envelope_round_trip(void **state) {
  (void)state;
  json_t *data = json_pack("{s:s, s:i}", "order_id", "o-1", "total", 1999);
  char *text = bus_envelope_render(
      "0190a0b0-0000-7000-8000-000000000001", "order.created", "o-1",
      "0123456789abcdef0123456789abcdef", 1700000000123LL, data);
  assert_non_null(text);
  struct bus_event ev;
  void *owner = NULL;
  char reason[128];
  assert_int_equal(bus_envelope_parse(text, &ev, &owner, reason, sizeof reason),
                   KIT_OK);
  assert_string_equal(ev.event_type, "order.created");
  assert_string_equal(ev.aggregate_id, "o-1");
  assert_int_equal(ev.version, BUS_SCHEMA_VERSION);
  assert_string_equal(ev.timestamp, "2023-11-14T22:13:20.123Z");
  assert_string_equal(ev.trace_id, "0123456789abcdef0123456789abcdef");
  assert_int_equal(json_integer_value(json_object_get(ev.data, "total")), 1999);
  bus_envelope_free(owner);
  free(text);
  json_decref(data);

  assert_int_equal(bus_envelope_parse("{\"event_id\":\"nope\"}", &ev, &owner,
                                      reason, sizeof reason),
                   KIT_INVALID);
  assert_string_equal(reason, "invalid envelope: event_id");
  assert_int_equal(
      bus_envelope_parse("not json", &ev, &owner, reason, sizeof reason),
      KIT_INVALID);
  assert_null(owner);
}

/* --- against the servers ---------------------------------------------------
 */

static void test_rolled_back_emit_is_never_published(void **state) {
  (void)state;
  struct fixture fx;
  fixture_open(&fx);
  fixture_pool(&fx);
  fixture_start(&fx);

  /* Emitted, then the transaction fails: no row, no message. */
  assert_int_equal(
      emit(&fx, (struct emit_job){.first_n = 1, .count = 1, .roll_back = true}),
      DB_HARD_ERROR);
  /* The next one, with a trace id, goes through; it is published after
   * where the first would have been. */
  const char *trace = "feedfacefeedfacefeedfacefeedface";
  log_context_set("test", trace, NULL);
  assert_true(emit(&fx, (struct emit_job){.first_n = 2, .count = 1}) >= 0);
  log_context_clear();
  assert_int_equal(wait_for(&fx, "count_n", 0, "2", 1, 15000), 1);
  sleep_ms(300);
  assert_int_equal(query_int(&fx, "count_n", 0, "1"), 0);
  assert_int_equal(query_int(&fx, "count_inbox", 0, NULL), 1);
  /* Published rows leave the outbox; the rolled-back one never was in it. */
  assert_int_equal(wait_for(&fx, "count_outbox", 0, NULL, 0, 5000), 0);
  /* The consumer handled it under the producer's trace id. */
  pthread_mutex_lock(&seen_lock);
  assert_string_equal(seen_trace, trace);
  pthread_mutex_unlock(&seen_lock);
  fixture_close(&fx);
}

static void test_republished_events_apply_once(void **state) {
  (void)state;
  struct fixture fx;
  fixture_open(&fx);
  fixture_pool(&fx);
  fixture_start(&fx);
  assert_true(emit(&fx, (struct emit_job){.first_n = 0, .count = 5}) >= 0);
  assert_int_equal(wait_for(&fx, "count_effects", 0, NULL, 5, 15000), 5);

  /* As if the relay crashed between the broker's confirm and deleting the
   * rows: one event is published again and again (twice back to back, which
   * may land in one consumer batch, and once more after it was applied). */
  char id[UUID_STR_LEN], type[128];
  uuid_v7(id);
  snprintf(type, sizeof type, "%s.happened", fx.schema);
  json_t *data = json_pack("{s:i}", "n", 42);
  char *envelope =
      bus_envelope_render(id, type, "agg-r", "0123456789abcdef0123456789abcdef",
                          clock_wall_ms(), data);
  json_decref(data);
  assert_non_null(envelope);
  const char *row[] = {id, type, "agg-r", "0123456789abcdef0123456789abcdef",
                       envelope};
  assert_int_equal(exec_params(&fx, "insert_outbox", 5, row), 1);
  assert_int_equal(exec_params(&fx, "insert_outbox", 5, row), 1);
  assert_int_equal(wait_for(&fx, "count_n", 0, "42", 1, 15000), 1);
  assert_int_equal(wait_for(&fx, "count_outbox", 0, NULL, 0, 10000), 0);
  assert_int_equal(exec_params(&fx, "insert_outbox", 5, row), 1);
  assert_int_equal(wait_for(&fx, "count_outbox", 0, NULL, 0, 10000), 0);
  free(envelope);
  /* One more event behind them proves the duplicates were consumed. */
  assert_true(emit(&fx, (struct emit_job){.first_n = 9, .count = 1}) >= 0);
  assert_int_equal(wait_for(&fx, "count_n", 0, "9", 1, 15000), 1);
  sleep_ms(300);
  assert_int_equal(query_int(&fx, "count_n", 0, "42"), 1);
  assert_int_equal(query_int(&fx, "count_effects", 0, NULL), 7);
  assert_int_equal(query_int(&fx, "count_effects", 1, NULL), 7);
  fixture_close(&fx);
}

static void test_rabbitmq_outage_loses_nothing(void **state) {
  (void)state;
  struct fixture fx;
  fixture_open(&fx);
  fixture_pool(&fx);
  fixture_start(&fx);
  /* The queue exists (and is durable) once one event went through. */
  assert_true(emit(&fx, (struct emit_job){.first_n = 0, .count = 1}) >= 0);
  assert_int_equal(wait_for(&fx, "count_effects", 0, NULL, 1, 15000), 1);

  assert_int_equal(infra("stop"), 0);
  /* Writes are still accepted: they wait in the outbox. */
  for (int i = 0; i < 5; i++)
    assert_true(
        emit(&fx, (struct emit_job){.first_n = 1 + 10 * i, .count = 10}) >= 0);
  assert_int_equal(query_int(&fx, "count_outbox", 0, NULL), 50);
  /* The relay reports the backlog (every second) while it cannot publish. */
  assert_true(
      wait_metric(bus_metrics()->outbox_backlog, fx.schema, 50, 10000) == 50);
  int started = infra("start");
  assert_int_equal(started, 0);

  assert_int_equal(wait_for(&fx, "count_effects", 0, NULL, 51, 45000), 51);
  assert_int_equal(query_int(&fx, "count_effects", 1, NULL), 51);
  assert_int_equal(wait_for(&fx, "count_outbox", 0, NULL, 0, 5000), 0);
  fixture_close(&fx);
}

static void test_killed_consumer_gets_the_event_again(void **state) {
  (void)state;
  struct fixture fx;
  fixture_open(&fx);
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  /* Forked before this process has any bus thread or pool connection. */
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    close(fds[0]);
    hang_fd = fds[1];
    fixture_pool(&fx);
    if (bus_start(&fx.svc) != KIT_OK ||
        bus_wait_ready(&fx.svc, 30000) != KIT_OK)
      _exit(3);
    ssize_t w = write(hang_fd, "r", 1); /* consuming */
    (void)w;
    for (;;)
      pause();
  }
  close(fds[1]);
  fixture_pool(&fx);
  struct pollfd p = {.fd = fds[0], .events = POLLIN};
  char byte = 0;
  assert_int_equal(poll(&p, 1, 30000), 1);
  assert_int_equal(read(fds[0], &byte, 1), 1);
  assert_int_equal(byte, 'r');
  assert_true(emit(&fx, (struct emit_job){
                            .first_n = 7, .count = 1, .hang = true}) >= 0);
  /* The child is inside the handler, its effect not committed. */
  assert_int_equal(poll(&p, 1, 30000), 1);
  assert_int_equal(read(fds[0], &byte, 1), 1);
  assert_int_equal(byte, 'h');
  kill(child, SIGKILL);
  int status = 0;
  assert_int_equal(waitpid(child, &status, 0), child);
  close(fds[0]);
  assert_int_equal(query_int(&fx, "count_effects", 0, NULL), 0);

  /* A new consumer (here: this process) gets it again, and applies it. */
  fixture_start(&fx);
  assert_int_equal(wait_for(&fx, "count_effects", 0, NULL, 1, 20000), 1);
  sleep_ms(500);
  assert_int_equal(query_int(&fx, "count_effects", 0, NULL), 1);
  assert_int_equal(query_int(&fx, "count_inbox", 0, NULL), 1);
  /* The broker marked it redelivered. */
  assert_true(bus_metric(bus_metrics()->redeliveries, fx.schema, NULL) >= 1);
  fixture_close(&fx);
}

static void test_poison_event_is_parked_then_replayed(void **state) {
  (void)state;
  struct fixture fx;
  fixture_open(&fx);
  fixture_pool(&fx);
  fixture_start(&fx);
  char dlq[128];
  bus_dlq_name(fx.schema, dlq, sizeof dlq);

  atomic_store(&fault, 1);
  /* The poison event travels with healthy ones: they are applied, once,
   * and only the poison one is retried and parked. */
  assert_true(emit(&fx, (struct emit_job){.first_n = 100, .count = 10}) >= 0);
  assert_true(emit(&fx, (struct emit_job){
                            .first_n = 5, .count = 1, .poison = true}) >= 0);
  assert_true(emit(&fx, (struct emit_job){.first_n = 200, .count = 10}) >= 0);
  /* max attempts 3, delays 100 + 200 ms: parked within seconds. */
  uint32_t depth = 0;
  int64_t until = clock_monotonic_ms() + 20000;
  while (clock_monotonic_ms() < until) {
    if (bus_queue_depth(amqp_url, dlq, &depth) == KIT_OK && depth == 1) break;
    sleep_ms(100);
  }
  assert_int_equal(depth, 1);
  assert_int_equal(wait_for(&fx, "count_effects", 0, NULL, 20, 10000), 20);
  assert_int_equal(query_int(&fx, "count_n", 0, "5"), 0);

  /* The fault is fixed; the replay re-drives it, once. */
  atomic_store(&fault, 0);
  int replayed = -1;
  assert_int_equal(bus_dlq_replay(amqp_url, fx.schema, &replayed), KIT_OK);
  assert_int_equal(replayed, 1);
  assert_int_equal(wait_for(&fx, "count_n", 0, "5", 1, 15000), 1);
  assert_int_equal(query_int(&fx, "count_effects", 1, NULL), 21);
  assert_int_equal(bus_queue_depth(amqp_url, dlq, &depth), KIT_OK);
  assert_int_equal(depth, 0);
  assert_true(bus_metric(bus_metrics()->dead_letters, fx.schema, NULL) == 1);
  assert_true(bus_metric(bus_metrics()->consumed, fx.schema, "retried") == 2);
  /* The two retries came back with x-retries set. */
  assert_true(bus_metric(bus_metrics()->redeliveries, fx.schema, NULL) >= 2);
  fixture_close(&fx);
}

/* The event log (a stream queue bound with '#') keeps what was published;
 * `events replay` re-drives it into a service's queue, and after
 * bus_read_model_reset (read model and inbox emptied) rebuilds from it. */
static void test_replay_from_the_log_rebuilds_a_read_model(void **state) {
  (void)state;
  struct fixture fx;
  fixture_open(&fx);
  fx.mod.read_model_rebuildable = true;
  fixture_pool(&fx);
  fixture_start(&fx);
  /* The log's envelope times have millisecond precision; a second of
   * margin keeps clock granularity out of it. */
  int64_t since = clock_wall_ms() - 1000;
  assert_true(emit(&fx, (struct emit_job){.first_n = 0, .count = 12}) >= 0);
  assert_int_equal(wait_for(&fx, "count_effects", 0, NULL, 12, 15000), 12);
  assert_int_equal(query_int(&fx, "count_inbox", 0, NULL), 12);

  /* A replay without a reset changes nothing: the inbox holds every id, so
   * the events are duplicates (one more event behind them proves they were
   * all consumed). */
  struct bus_replay_result res;
  assert_int_equal(
      bus_log_replay(amqp_url, fx.schema, fx.handlers, 1, since, -1, &res),
      KIT_OK);
  assert_int_equal(res.replayed, 12);
  assert_true(emit(&fx, (struct emit_job){.first_n = 50, .count = 1}) >= 0);
  assert_int_equal(wait_for(&fx, "count_n", 0, "50", 1, 15000), 1);
  sleep_ms(300);
  assert_int_equal(query_int(&fx, "count_effects", 0, NULL), 13);
  assert_int_equal(query_int(&fx, "count_effects", 1, NULL), 13);

  /* The reset empties the read model and the inbox in one transaction;
   * the replay then brings every event back, once. */
  int64_t cleared = -1;
  assert_int_equal(
      bus_read_model_reset(db_url, fx.schema, "DELETE FROM effects", &cleared),
      KIT_OK);
  assert_int_equal(cleared, 13);
  assert_int_equal(query_int(&fx, "count_effects", 0, NULL), 0);
  assert_int_equal(query_int(&fx, "count_inbox", 0, NULL), 0);
  assert_int_equal(
      bus_log_replay(amqp_url, fx.schema, fx.handlers, 1, since, -1, &res),
      KIT_OK);
  /* Only this service's events are re-driven, though the log holds every
   * event of every test and service. */
  assert_int_equal(res.replayed, 13);
  assert_true(res.read >= 13);
  assert_int_equal(wait_for(&fx, "count_effects", 0, NULL, 13, 15000), 13);
  sleep_ms(300);
  assert_int_equal(query_int(&fx, "count_effects", 0, NULL), 13);
  assert_int_equal(query_int(&fx, "count_effects", 1, NULL), 13);
  assert_int_equal(query_int(&fx, "count_inbox", 0, NULL), 13);
  /* A reset without statements is refused. */
  assert_int_equal(bus_read_model_reset(db_url, fx.schema, "", &cleared),
                   KIT_INVALID);

  /* A window after the events holds none of them. */
  assert_int_equal(bus_log_replay(amqp_url, fx.schema, fx.handlers, 1,
                                  clock_wall_ms() + 60000, -1, &res),
                   KIT_OK);
  assert_int_equal(res.replayed, 0);
  fixture_close(&fx);
}

/* A service that does not declare its read model rebuildable gets only the
 * events its inbox never saw: replay fills gaps and duplicates nothing. */
static void
test_replay_to_a_plain_consumer_applies_only_the_missing(void **state) {
  (void)state;
  struct fixture fx;
  fixture_open(&fx);
  fixture_pool(&fx);
  fixture_start(&fx);
  int64_t since = clock_wall_ms() - 1000;
  assert_true(emit(&fx, (struct emit_job){.first_n = 0, .count = 6}) >= 0);
  assert_int_equal(wait_for(&fx, "count_effects", 0, NULL, 6, 15000), 6);
  /* One event's effect and inbox row are gone (as if the consumer had
   * missed it). */
  const char *three[] = {"3"};
  assert_int_equal(exec_params(&fx, "delete_inbox_of_n", 1, three), 1);
  assert_int_equal(exec_params(&fx, "delete_effects_n", 1, three), 1);
  struct bus_replay_result res;
  assert_int_equal(
      bus_log_replay(amqp_url, fx.schema, fx.handlers, 1, since, -1, &res),
      KIT_OK);
  assert_int_equal(res.replayed, 6);
  assert_int_equal(wait_for(&fx, "count_n", 0, "3", 1, 15000), 1);
  /* The five it had are not applied twice (one more event behind the
   * replayed ones proves they were all consumed). */
  assert_true(emit(&fx, (struct emit_job){.first_n = 50, .count = 1}) >= 0);
  assert_int_equal(wait_for(&fx, "count_n", 0, "50", 1, 15000), 1);
  sleep_ms(300);
  assert_int_equal(query_int(&fx, "count_effects", 0, NULL), 7);
  assert_int_equal(query_int(&fx, "count_effects", 1, NULL), 7);
  fixture_close(&fx);
}

static void test_time_parse(void **state) {
  (void)state;
  int64_t ms = 0;
  assert_true(bus_time_parse("1970-01-01T00:00:01Z", &ms));
  assert_int_equal(ms, 1000);
  assert_true(bus_time_parse("2026-12-03T08:00:00.250Z", &ms));
  assert_int_equal(ms, 1796284800250LL);
  assert_true(bus_time_parse("2026-12-03T09:00:00+01:00", &ms));
  assert_int_equal(ms, 1796284800000LL);
  assert_true(bus_time_parse("2026-12-03", &ms));
  assert_int_equal(ms, 1796256000000LL);
  assert_false(bus_time_parse("2026-12-03T08:00:00", &ms)); /* no offset */
  assert_false(bus_time_parse("yesterday", &ms));
  assert_false(bus_time_parse("2026-13-03", &ms));
  assert_false(bus_time_parse("2026-12-03T08:00:00Zjunk", &ms));
  assert_false(bus_time_parse("", &ms));
}

static void test_ten_thousand_events_exactly_once(void **state) {
  (void)state;
  struct fixture fx;
  fixture_open(&fx);
  fixture_pool(&fx);
  fixture_start(&fx);
  int64_t t0 = clock_monotonic_ms();
  for (int i = 0; i < 100; i++)
    assert_true(
        emit(&fx, (struct emit_job){.first_n = i * 100, .count = 100}) >= 0);
  assert_int_equal(wait_for(&fx, "count_effects", 0, NULL, 10000, 50000),
                   10000);
  int64_t elapsed = clock_monotonic_ms() - t0;
  sleep_ms(500);
  assert_int_equal(query_int(&fx, "count_effects", 0, NULL), 10000);
  assert_int_equal(query_int(&fx, "count_effects", 1, NULL), 10000);
  assert_int_equal(query_int(&fx, "count_inbox", 0, NULL), 10000);
  assert_true(bus_metric(bus_metrics()->published, fx.schema, NULL) == 10000);
  assert_true(bus_metric(bus_metrics()->consumed, fx.schema, "applied") ==
              10000);
  fprintf(stderr, "10000 events emitted and applied in %lld ms\n",
          (long long)elapsed);
  fixture_close(&fx);
}

int main(void) {
  db_url = getenv("SHOPSPHERE_DATABASE_URL");
  amqp_url = getenv("SHOPSPHERE_AMQP_URL");
  if (db_url == NULL || amqp_url == NULL) {
    fprintf(stderr, "test_bus: SHOPSPHERE_DATABASE_URL and "
                    "SHOPSPHERE_AMQP_URL must be set (scripts/test.sh)\n");
    return 1;
  }
  /* Only what the bus reads; fast retries so the poison test is quick. */
  snprintf(cfg.database_url, sizeof cfg.database_url, "%s", db_url);
  snprintf(cfg.amqp_url, sizeof cfg.amqp_url, "%s", amqp_url);
  cfg.bus_prefetch = 128;
  cfg.bus_max_attempts = 3;
  cfg.bus_retry_base_ms = 100;
  log_set_level(LOG_WARN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_topic_patterns),
      cmocka_unit_test(test_retry_delays_grow),
      cmocka_unit_test(test_envelope_round_trip),
      cmocka_unit_test(test_rolled_back_emit_is_never_published),
      cmocka_unit_test(test_killed_consumer_gets_the_event_again),
      cmocka_unit_test(test_poison_event_is_parked_then_replayed),
      cmocka_unit_test(test_republished_events_apply_once),
      cmocka_unit_test(test_time_parse),
      cmocka_unit_test(test_replay_from_the_log_rebuilds_a_read_model),
      cmocka_unit_test(
          test_replay_to_a_plain_consumer_applies_only_the_missing),
      cmocka_unit_test(test_ten_thousand_events_exactly_once),
      cmocka_unit_test(test_rabbitmq_outage_loses_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
