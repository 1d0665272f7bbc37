/* events.c - `shopsphere events`: look into the event bus and repair it.
 *
 *   events tail          print events as they cross shopsphere.events
 *   events dlq list      dead letters per consuming service
 *   events dlq replay    move dead letters back to their service's queue
 *   events log           print events kept in the event log
 *   events replay        re-drive events from the event log into a service
 *   events outbox status unpublished events per service schema
 *   events bench         (hidden) end-to-end throughput for `make bench`
 *
 * The work is done by the kit (bus.h: bus_tail, bus_dlq_*, bus_outbox_status)
 * so tests drive the same code.
 */
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "kit/breaker.h"
#include "kit/bus.h"
#include "kit/err.h"
#include "kit/log.h"
#include "kit/mq.h"
#include "services/registry.h"

extern const struct migration shopsphere_migrations[];
extern const unsigned long shopsphere_migration_count;

static void usage(FILE *out) {
  fprintf(out,
          "usage: shopsphere events COMMAND [OPTIONS]\n\n"
          "Looks into the event bus (docs/events.md).\n\n"
          "  tail [--type PATTERN] [--count N] [--timeout SECONDS]\n"
          "        print each event published to %s from now on,\n"
          "        one JSON envelope per line (PATTERN: an AMQP topic\n"
          "        pattern, default '#'); stops after N events, SECONDS,\n"
          "        or Ctrl-C\n"
          "  dlq list [--service S] [--limit N]\n"
          "        dead letters per consuming service: how many, and the\n"
          "        first N (default 10) with the error that parked them;\n"
          "        they stay in the queue\n"
          "  dlq replay [--service S]\n"
          "        move every dead letter back to its service's queue for\n"
          "        another try (after the fault is fixed)\n"
          "  log [--since TIME] [--until TIME] [--type PATTERN] [--count N]\n"
          "        print the events kept in the event log, oldest first, one\n"
          "        JSON envelope per line (at most N)\n"
          "  replay --to SERVICE [--since TIME] [--until TIME] | --reset\n"
          "        re-drive the events SERVICE (admin, search or\n"
          "        recommendation: a read model) consumes from the event log\n"
          "        (%s, kept %s) into its queue;\n"
          "        its inbox skips those it already applied (TIME: RFC 3339\n"
          "        or a date; default the last 7 days, the inbox's memory,\n"
          "        until now). --reset first empties SERVICE's read model\n"
          "        and inbox in one transaction, then replays the whole log:\n"
          "        the read model is rebuilt from the events\n"
          "  outbox status [--service S]\n"
          "        per service schema: events not yet published and the\n"
          "        age of the oldest\n"
          "  redeliver --service S < ENVELOPE\n"
          "        publish one event envelope (JSON on stdin, as `tail`\n"
          "        prints it) straight to S's queue, as a broker redelivery\n"
          "        would: S applies it once (its inbox knows the event id)\n\n"
          "Without --service, every service with a database and a broker.\n",
          BUS_EXCHANGE, BUS_LOG_QUEUE,
          "by SHOPSPHERE_BUS_LOG_MAX_AGE_HOURS and SHOPSPHERE_BUS_LOG_MAX_MB");
}

/* A service name as queues spell it: letters, digits, '_' and '-'. */
static bool valid_service(const char *s) {
  if (s == NULL || *s == '\0' || strlen(s) > 48) return false;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
          *p == '-'))
      return false;
  return true;
}

/* The services a command covers: --service S, else every module with a
 * database and a broker (those have an outbox, and may consume). */
static int pick_services(int argc, char **argv, const char **names,
                         int *count) {
  const char *one = cli_option(argc, argv, "--service");
  *count = 0;
  if (one != NULL) {
    if (!valid_service(one)) {
      fprintf(stderr, "events: --service: not a service name: '%s'\n", one);
      return 2;
    }
    names[(*count)++] = one;
    return 0;
  }
  for (int i = 0; i < SVC_COUNT; i++) {
    const struct service_module *m = registry_module((enum service_id)i);
    if (m != NULL && (m->needs & NEEDS_DB) && (m->needs & NEEDS_AMQP))
      names[(*count)++] = service_name(m->id);
  }
  return 0;
}

static int int_option(int argc, char **argv, const char *name, int def, int lo,
                      int hi, int *out) {
  const char *v = cli_option(argc, argv, name);
  *out = def;
  if (v == NULL) return 0;
  char *end = NULL;
  long n = strtol(v, &end, 10);
  if (end == v || *end != '\0' || n < lo || n > hi) {
    fprintf(stderr, "events: %s: want a whole number from %d to %d\n", name, lo,
            hi);
    return 2;
  }
  *out = (int)n;
  return 0;
}

/* --- tail ------------------------------------------------------------------
 */

static volatile int tail_stop;
static void on_tail_signal(int sig) {
  (void)sig;
  tail_stop = 1;
}

static void print_event(void *arg, const char *routing_key, const char *body,
                        const char *error, int retries) {
  (void)arg, (void)routing_key, (void)error, (void)retries;
  printf("%s\n", body);
  fflush(stdout);
}

static int cmd_tail(const struct config *cfg, int argc, char **argv) {
  int count = 0, timeout_s = 0;
  if (int_option(argc, argv, "--count", 0, 0, 100000000, &count) ||
      int_option(argc, argv, "--timeout", 0, 0, 86400, &timeout_s))
    return 2;
  const char *pattern = cli_option(argc, argv, "--type");
  struct sigaction sa = {.sa_handler = on_tail_signal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  int rc = bus_tail(cfg->amqp_url, pattern ? pattern : "#", count,
                    timeout_s * 1000, print_event, NULL, &tail_stop);
  return rc == KIT_OK ? 0 : 1;
}

/* --- dlq -------------------------------------------------------------------
 */

static void print_dead_letter(void *arg, const char *routing_key,
                              const char *body, const char *error,
                              int retries) {
  (void)arg, (void)routing_key;
  printf("  attempts %d, error: %s\n    %s\n", retries,
         error ? error : "(none recorded)", body);
}

static int cmd_dlq_list(const struct config *cfg, int argc, char **argv) {
  const char *names[SVC_COUNT];
  int n = 0, limit = 10;
  int rc = pick_services(argc, argv, names, &n);
  if (rc == 0) rc = int_option(argc, argv, "--limit", 10, 0, 10000, &limit);
  if (rc != 0) return rc;
  int failures = 0;
  for (int i = 0; i < n; i++) {
    char dlq[128];
    bus_dlq_name(names[i], dlq, sizeof dlq);
    uint32_t depth = 0;
    int q = bus_queue_depth(cfg->amqp_url, dlq, &depth);
    if (q == KIT_NOT_FOUND) {
      printf("%-16s no dead-letter queue (consumes no events yet)\n", names[i]);
      continue;
    }
    if (q != KIT_OK) {
      failures++;
      continue;
    }
    printf("%-16s %u dead letter(s) in %s\n", names[i], depth, dlq);
    if (depth > 0 && limit > 0 &&
        bus_dlq_peek(cfg->amqp_url, names[i], limit, print_dead_letter, NULL,
                     &depth) != KIT_OK)
      failures++;
  }
  return failures ? 1 : 0;
}

static int cmd_dlq_replay(const struct config *cfg, int argc, char **argv) {
  const char *names[SVC_COUNT];
  int n = 0;
  int rc = pick_services(argc, argv, names, &n);
  if (rc != 0) return rc;
  int failures = 0;
  for (int i = 0; i < n; i++) {
    char dlq[128];
    bus_dlq_name(names[i], dlq, sizeof dlq);
    uint32_t depth = 0;
    int q = bus_queue_depth(cfg->amqp_url, dlq, &depth);
    if (q == KIT_NOT_FOUND) continue; /* this one consumes nothing */
    int replayed = 0;
    if (q != KIT_OK ||
        bus_dlq_replay(cfg->amqp_url, names[i], &replayed) != KIT_OK) {
      fprintf(stderr, "events: %s: replay failed (see the log)\n", names[i]);
      failures++;
      continue;
    }
    printf("%-16s %d dead letter(s) replayed to shopsphere.%s\n", names[i],
           replayed, names[i]);
  }
  return failures ? 1 : 0;
}

static int cmd_redeliver(const struct config *cfg, int argc, char **argv) {
  const char *service = cli_option(argc, argv, "--service");
  if (!valid_service(service)) {
    fprintf(stderr, "events: redeliver needs --service NAME\n");
    return 2;
  }
  size_t cap = 1 << 16, len = 0;
  char *body = malloc(cap);
  if (body == NULL) return 1;
  size_t n;
  while ((n = fread(body + len, 1, cap - len - 1, stdin)) > 0) {
    len += n;
    if (len + 1 == cap) {
      if (cap >= (size_t)16 << 20) {
        fprintf(stderr, "events: the envelope is larger than 16 MiB\n");
        free(body);
        return 2;
      }
      char *grown = realloc(body, cap * 2);
      if (grown == NULL) {
        free(body);
        return 1;
      }
      body = grown;
      cap *= 2;
    }
  }
  body[len] = '\0';
  while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r'))
    body[--len] = '\0';
  int rc = bus_redeliver(cfg->amqp_url, service, body);
  free(body);
  if (rc == KIT_INVALID) return 2;
  if (rc != KIT_OK) {
    fprintf(stderr, "events: redelivery failed (see the log)\n");
    return 1;
  }
  printf("redelivered 1 event to shopsphere.%s\n", service);
  return 0;
}

/* --- replay from the event log ---------------------------------------------
 */

static int time_option(int argc, char **argv, const char *name, int64_t *out) {
  const char *v = cli_option(argc, argv, name);
  *out = -1;
  if (v == NULL) return 0;
  if (!bus_time_parse(v, out)) {
    fprintf(stderr,
            "events: %s: want an RFC 3339 time (2026-12-03T08:00:00Z) or a "
            "date (2026-12-03)\n",
            name);
    return 2;
  }
  return 0;
}

struct log_print {
  const char *pattern;
  int max, printed;
};

static int print_logged(void *arg, const char *type, const char *body,
                        size_t len) {
  struct log_print *lp = arg;
  (void)len;
  if (!bus_topic_matches(lp->pattern, type)) return KIT_OK;
  printf("%s\n", body);
  lp->printed++;
  return lp->max > 0 && lp->printed >= lp->max ? BUS_LOG_STOP : KIT_OK;
}

static int cmd_log(const struct config *cfg, int argc, char **argv) {
  struct log_print lp = {.pattern = cli_option(argc, argv, "--type")};
  if (lp.pattern == NULL) lp.pattern = "#";
  int64_t since = -1, until = -1, read = 0;
  int rc = time_option(argc, argv, "--since", &since);
  if (rc == 0) rc = time_option(argc, argv, "--until", &until);
  if (rc == 0) rc = int_option(argc, argv, "--count", 0, 0, 1000000, &lp.max);
  if (rc != 0) return rc;
  rc = bus_log_read(cfg->amqp_url, since, until, print_logged, &lp, &read);
  fflush(stdout);
  if (rc != KIT_OK) {
    fprintf(stderr, "events log: failed (see the log)\n");
    return 1;
  }
  return 0;
}

static bool has_flag(int argc, char **argv, const char *name) {
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], name) == 0) return true;
  return false;
}

/* Only a service whose read model the log can rebuild is replayed to: the
 * others act on the outside world (e-mails, payments) or keep records of
 * their own, where "the same event again" is never what an operator wants.
 * Without --reset the inbox skips every event the service applied, so the
 * replay changes nothing that is already right; it stays inside the inbox's
 * memory (BUS_INBOX_RETENTION_DAYS), beyond which an event would apply a
 * second time. With --reset the read model and the inbox are emptied first
 * (one transaction), then the whole log is replayed. */
static int cmd_replay(const struct config *cfg, int argc, char **argv) {
  const char *to = cli_option(argc, argv, "--to");
  const struct service_module *mod = NULL;
  for (int i = 0; to != NULL && i < SVC_COUNT; i++) {
    const struct service_module *m = registry_module((enum service_id)i);
    if (m != NULL && strcmp(service_name(m->id), to) == 0) mod = m;
  }
  if (mod == NULL || mod->event_count == 0) {
    fprintf(stderr,
            "events replay: --to: want a service that consumes events%s%s\n",
            to ? ", not " : " (e.g. --to admin)", to ? to : "");
    return 2;
  }
  if (!mod->read_model_rebuildable) {
    fprintf(stderr,
            "events replay: --to: %s has no read model that the event log "
            "rebuilds (its handlers act on the outside world or on records "
            "of its own), so nothing is replayed to it; replay to admin, "
            "search or recommendation. To retry its failed events: "
            "shopsphere events dlq replay --service %s\n",
            to, to);
    return 2;
  }
  bool reset = has_flag(argc, argv, "--reset");
  int64_t since = -1, until = -1;
  int rc = time_option(argc, argv, "--since", &since);
  if (rc == 0) rc = time_option(argc, argv, "--until", &until);
  if (rc != 0) return rc;
  if (reset && (since >= 0 || until >= 0)) {
    fprintf(stderr, "events replay: --reset rebuilds from the whole log: "
                    "--since and --until would leave events out\n");
    return 2;
  }
  int64_t oldest = clock_wall_ms() -
                   ((int64_t)BUS_INBOX_RETENTION_DAYS * 24 - 1) * 3600 * 1000;
  if (!reset && since < oldest) {
    if (since >= 0)
      fprintf(stderr,
              "events replay: --since moved to %d days ago less an hour: "
              "the inbox forgets older events, which would apply twice (use "
              "--reset to rebuild from the whole log)\n",
              BUS_INBOX_RETENTION_DAYS);
    since = oldest;
  }
  if (reset) {
    char schema[64];
    snprintf(schema, sizeof schema, "%s", to);
    for (char *p = schema; *p; p++)
      if (*p == '-') *p = '_';
    int64_t cleared = 0;
    if (bus_read_model_reset(cfg->database_url, schema, mod->read_model_reset,
                             &cleared) != KIT_OK) {
      fprintf(stderr, "events replay: --reset failed (see the log); nothing "
                      "was replayed\n");
      return 1;
    }
    printf("%s: read model emptied, %lld inbox id(s) forgotten\n", to,
           (long long)cleared);
    fflush(stdout);
  }
  struct bus_replay_result res;
  rc = bus_log_replay(cfg->amqp_url, to, mod->events, mod->event_count, since,
                      until, &res);
  if (rc != KIT_OK) {
    fprintf(stderr, "events replay: failed (see the log)\n");
    return 1;
  }
  printf("%lld event(s) read from %s, %lld replayed to shopsphere.%s (%s)\n",
         (long long)res.read, BUS_LOG_QUEUE, (long long)res.replayed, to,
         reset ? "read model rebuilt from the log"
               : "its inbox skips those it already applied");
  return 0;
}

/* --- outbox ----------------------------------------------------------------
 */

static int cmd_outbox_status(const struct config *cfg, int argc, char **argv) {
  const char *names[SVC_COUNT];
  int n = 0;
  int rc = pick_services(argc, argv, names, &n);
  if (rc != 0) return rc;
  int failures = 0;
  printf("%-16s %10s %12s\n", "service", "unsent", "oldest (s)");
  for (int i = 0; i < n; i++) {
    char schema[64];
    snprintf(schema, sizeof schema, "%s", names[i]);
    for (char *p = schema; *p; p++)
      if (*p == '-') *p = '_';
    struct bus_outbox_status s;
    int q = bus_outbox_status(cfg->database_url, schema, &s);
    if (q == KIT_NOT_FOUND) {
      printf("%-16s no outbox (run shopsphere migrate)\n", names[i]);
      failures++;
      continue;
    }
    if (q != KIT_OK) {
      failures++;
      continue;
    }
    printf("%-16s %10lld %12.1f\n", names[i], (long long)s.unsent,
           s.oldest_unsent_age_s);
  }
  return failures ? 1 : 0;
}

/* --- bench (hidden) --------------------------------------------------------
 */

/* End to end: events emitted by this process go through the outbox, the
 * relay, RabbitMQ and the consumer of a throwaway service whose handler only
 * records the delay; the consumer's transaction (inbox insert + handler)
 * commits per batch. Throughput counts until the last inbox row is
 * committed; the delay is from emit to the handler. */

struct bench {
  int events;
  int64_t *delays_us; /* per event index */
  char type[96];
};
static struct bench bench_state;

static int64_t wall_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int bench_handler(struct service *svc, struct db_conn *conn,
                         const struct bus_event *ev) {
  (void)svc, (void)conn;
  json_t *data = (json_t *)ev->data;
  json_int_t i = json_integer_value(json_object_get(data, "i"));
  json_int_t t = json_integer_value(json_object_get(data, "t_us"));
  if (i >= 0 && i < bench_state.events)
    bench_state.delays_us[i] = wall_us() - (int64_t)t;
  return DB_NO_RESULTS;
}

#define MAX_EMITTERS 16

/* One emitting thread: batches number first, first + step, ... */
struct emitter {
  pthread_t thread;
  bool started;
  struct db_pool *pool;
  int first, step, events, batch;
  int rate;         /* events/s over all emitters; 0 = as fast as possible */
  int64_t start_us; /* wall clock of the first batch when paced */
  int next;         /* the batch being emitted */
  int rc;
};

static int bench_emit_tx(struct db_conn *conn, void *arg) {
  const struct emitter *e = arg;
  int from = e->next * e->batch;
  int to = from + e->batch < e->events ? from + e->batch : e->events;
  for (int i = from; i < to; i++) {
    char agg[16];
    snprintf(agg, sizeof agg, "a%d", i % 64);
    json_t *data =
        json_pack("{s:i, s:I}", "i", i, "t_us", (json_int_t)wall_us());
    int rc = bus_emit(conn, bench_state.type, agg, data);
    json_decref(data);
    if (rc < 0) return rc;
  }
  return DB_NO_RESULTS;
}

static void *emitter_main(void *arg) {
  struct emitter *e = arg;
  int batches = (e->events + e->batch - 1) / e->batch;
  e->rc = 0;
  for (e->next = e->first; e->next < batches && e->rc >= 0;
       e->next += e->step) {
    if (e->rate > 0) {
      /* Batch b is due at start + b * batch / rate. */
      int64_t due =
          e->start_us + (int64_t)e->next * e->batch * 1000000 / e->rate;
      int64_t wait = due - wall_us();
      if (wait > 0) usleep((useconds_t)wait);
    }
    e->rc = db_transaction(e->pool, DB_READ_COMMITTED, bench_emit_tx, e);
  }
  return NULL;
}

static int64_t inbox_count(struct db_pool *pool) {
  struct db_conn *c = db_acquire(pool, 3000);
  if (c == NULL) return -1;
  struct db_result *r = NULL;
  int rc = db_exec_params(c, "bench count", "SELECT count(*) FROM inbox", 0,
                          NULL, &r);
  int64_t n = rc == 1 ? db_result_int64(r, 0, 0) : -1;
  db_result_free(r);
  db_release(pool, c);
  return n;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static void drop_bench(struct db_pool *pool, const char *schema,
                       const struct config *cfg) {
  char sql[128];
  snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS \"%s\" CASCADE", schema);
  struct db_conn *c = db_acquire(pool, 3000);
  if (c != NULL) {
    (void)db_exec_sql(c, sql);
    db_release(pool, c);
  }
  struct mq_conn *mq = NULL;
  char reason[160], name[160];
  if (mq_open(&mq, cfg->amqp_url, 3000, false, reason, sizeof reason) != KIT_OK)
    return;
  bus_queue_name(schema, name, sizeof name);
  (void)mq_delete_queue(mq, name);
  bus_dlq_name(schema, name, sizeof name);
  (void)mq_delete_queue(mq, name);
  mq_close(mq);
}

static int cmd_bench(const struct config *cfg, int argc, char **argv) {
  int events = 0, batch = 0, emitters = 0, rate = 0;
  if (int_option(argc, argv, "--events", 20000, 1, 10000000, &events) ||
      int_option(argc, argv, "--batch", 50, 1, 10000, &batch) ||
      int_option(argc, argv, "--emitters", 4, 1, MAX_EMITTERS, &emitters) ||
      int_option(argc, argv, "--rate", 0, 0, 10000000, &rate))
    return 2;
  unsigned char rnd[4];
  if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) return 1;
  char schema[64];
  snprintf(schema, sizeof schema, "bench_events_%02x%02x%02x%02x", rnd[0],
           rnd[1], rnd[2], rnd[3]);
  char pattern[96];
  snprintf(pattern, sizeof pattern, "%s.#", schema);
  snprintf(bench_state.type, sizeof bench_state.type, "%s.happened", schema);
  bench_state.events = events;
  bench_state.delays_us = calloc((size_t)events, sizeof(int64_t));
  if (bench_state.delays_us == NULL) return 1;

  int exit_code = 1;
  struct db_pool *pool = NULL;
  struct service svc = {0};
  bool started = false;
  int applied = 0;
  if (db_migrate(cfg->database_url, schema, shopsphere_migrations,
                 shopsphere_migration_count, &applied) != KIT_OK)
    goto cleanup;
  if (db_pool_open(&pool, cfg->database_url, schema, emitters + 4, NULL, 0) !=
      KIT_OK)
    goto cleanup;
  struct event_handler handlers[] = {{pattern, bench_handler}};
  struct service_module mod = {.id = SVC_COUNT,
                               .summary = "event bus bench",
                               .needs = NEEDS_DB | NEEDS_AMQP,
                               .events = handlers,
                               .event_count = 1};
  svc =
      (struct service){.module = &mod, .name = schema, .cfg = cfg, .db = pool};
  if (bus_start(&svc) != KIT_OK) goto cleanup;
  started = true;
  /* Events published before the queue is bound would not reach it. */
  if (bus_wait_ready(&svc, 30000) != KIT_OK) goto cleanup;

  int64_t t0 = clock_monotonic_ms();
  int64_t start_us = wall_us();
  /* Several emitters, as a service's request threads would be. */
  struct emitter workers[MAX_EMITTERS];
  for (int w = 0; w < emitters; w++) {
    workers[w] = (struct emitter){.pool = pool,
                                  .first = w,
                                  .step = emitters,
                                  .events = events,
                                  .rate = rate,
                                  .start_us = start_us,
                                  .batch = batch};
    workers[w].started = pthread_create(&workers[w].thread, NULL, emitter_main,
                                        &workers[w]) == 0;
  }
  bool emit_failed = false;
  for (int w = 0; w < emitters; w++) {
    if (!workers[w].started) {
      emit_failed = true;
      continue;
    }
    pthread_join(workers[w].thread, NULL);
    if (workers[w].rc < 0) emit_failed = true;
  }
  if (emit_failed) {
    fprintf(stderr, "events bench: emit failed\n");
    goto cleanup;
  }
  int64_t emitted_ms = clock_monotonic_ms() - t0;
  int64_t until = clock_monotonic_ms() + 120000;
  int64_t n;
  while ((n = inbox_count(pool)) < events) {
    if (clock_monotonic_ms() > until) {
      fprintf(stderr, "events bench: only %lld of %d events arrived\n",
              (long long)n, events);
      goto cleanup;
    }
    usleep(5000);
  }
  int64_t total_ms = clock_monotonic_ms() - t0;
  qsort(bench_state.delays_us, (size_t)events, sizeof(int64_t), cmp_i64);
  double p50 = bench_state.delays_us[events / 2] / 1000.0;
  double p99 = bench_state.delays_us[(size_t)((events - 1) * 0.99)] / 1000.0;
  double eps = total_ms > 0 ? events * 1000.0 / (double)total_ms : 0;
  printf("BENCH_EVENTS events=%d seconds=%.3f eps=%.0f p50_ms=%.1f "
         "p99_ms=%.1f emit_seconds=%.3f\n",
         events, total_ms / 1000.0, eps, p50, p99, emitted_ms / 1000.0);
  exit_code = 0;
cleanup:
  if (started) bus_stop(&svc);
  if (pool != NULL) {
    drop_bench(pool, schema, cfg);
    db_pool_close(pool);
  }
  free(bench_state.delays_us);
  bench_state.delays_us = NULL;
  return exit_code;
}

int cli_events(const struct config *cfg, int argc, char **argv) {
  const char *a = argc > 1 ? argv[1] : NULL;
  const char *b = argc > 2 ? argv[2] : NULL;
  if (a == NULL || cli_wants_help(argc, argv)) {
    usage(a == NULL ? stderr : stdout);
    return a == NULL ? 2 : 0;
  }
  if (strcmp(a, "tail") == 0) return cmd_tail(cfg, argc - 1, argv + 1);
  if (strcmp(a, "bench") == 0) return cmd_bench(cfg, argc - 1, argv + 1);
  if (strcmp(a, "dlq") == 0 && b != NULL && strcmp(b, "list") == 0)
    return cmd_dlq_list(cfg, argc - 2, argv + 2);
  if (strcmp(a, "dlq") == 0 && b != NULL && strcmp(b, "replay") == 0)
    return cmd_dlq_replay(cfg, argc - 2, argv + 2);
  if (strcmp(a, "replay") == 0) return cmd_replay(cfg, argc - 1, argv + 1);
  if (strcmp(a, "log") == 0) return cmd_log(cfg, argc - 1, argv + 1);
  if (strcmp(a, "outbox") == 0 && b != NULL && strcmp(b, "status") == 0)
    return cmd_outbox_status(cfg, argc - 2, argv + 2);
  if (strcmp(a, "redeliver") == 0)
    return cmd_redeliver(cfg, argc - 1, argv + 1);
  fprintf(stderr, "events: unknown command '%s%s%s'\n\n", a, b ? " " : "",
          b ? b : "");
  usage(stderr);
  return 2;
}
