/* bus_consumer.c - a service's event consumer (bus.h).
 *
 * Topology, declared on every (re)connect: the service's durable queue
 * shopsphere.<service> bound to shopsphere.events with each handler's event
 * type; its dead-letter queue shopsphere.dlq.<service>; and, when a retry is
 * needed, a delay queue per delay, shopsphere.retry.<service>.<ms>ms, whose
 * messages expire after that delay and are dead-lettered by the broker back
 * into the service's queue. Delays double per attempt (SHOPSPHERE_BUS_RETRY_
 * BASE_MS, then x2, ...); after SHOPSPHERE_BUS_MAX_ATTEMPTS failed attempts
 * the event is parked in the DLQ with the last error.
 *
 * Deliveries come in batches (what arrived, up to the prefetch). A batch is
 * one database transaction: each event gets a savepoint, its id goes into
 * `inbox` (an id already there is a duplicate: skipped), then its handler
 * runs; a failing handler rolls back to its savepoint only. After COMMIT the
 * applied and duplicate deliveries are acked; failed ones are republished to
 * a delay queue or the DLQ, and acked once the broker confirmed that. One
 * commit per batch instead of one per event is what makes thousands of
 * events per second possible with a durable (fsync'd) database.
 *
 * A delivery with header x-replay comes from `shopsphere events replay`
 * (bus_log_replay, re-driven from the event log). It is an ordinary
 * delivery: the inbox skips an event already applied, so a replay never
 * applies anything twice; a rebuild empties the inbox with the read model
 * first (bus_read_model_reset).
 *
 * Two connections: deliveries arrive on one, retries and DLQ publishes go
 * out on the other, because waiting for publisher confirms reads frames and
 * must not swallow deliveries.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kit/breaker.h"
#include "kit/bus_internal.h"
#include "kit/err.h"
#include "kit/log.h"
#include "kit/mq.h"
#include "kit/service.h"
#include "kit/trace.h"

#define CONSUME_WAIT_MS 500
#define DEPTH_EVERY_MS 2000
#define INBOX_SWEEP_MS (10 * 60 * 1000)
#define MAX_BATCH 256
/* How many retry delays a consumer remembers having declared. */
#define MAX_DECLARED_DELAYS 32
#define STR_(x) #x
#define STR(x) STR_(x)

enum outcome {
  OUT_PENDING = 0,
  OUT_APPLIED,
  OUT_DUPLICATE,
  OUT_UNHANDLED, /* no handler matches (a binding wider than the handlers) */
  OUT_FAILED,    /* the handler failed: retry later */
  OUT_POISON,    /* cannot be handled ever (bad envelope): straight to DLQ */
};

struct item {
  struct mq_message msg;
  void *owner; /* the parsed envelope */
  struct bus_event ev;
  const struct event_handler *handler;
  enum outcome outcome;
  char error[160];
};

struct consumer {
  struct bus_state *st;
  struct service *svc;
  const struct config *cfg;
  struct mq_conn *in;
  struct mq_conn *out;
  char queue[128];
  char dlq[128];
  int64_t declared[MAX_DECLARED_DELAYS];
  int declared_count;
  bool down_logged;
  int failures;
  int64_t depth_at;
  int64_t sweep_at;
};

struct batch {
  struct consumer *c;
  struct item *items;
  int n;
  bool careful; /* one savepoint per event (after a handler failed) */
  bool failed;  /* the fast pass saw a handler fail */
};

static void drop(struct consumer *c) {
  atomic_store(&c->st->consuming, false);
  mq_close(c->in);
  mq_close(c->out);
  c->in = c->out = NULL;
  c->declared_count = 0;
}

/* Declares exchange, queue, dead-letter queue and bindings on o. */
static int declare_topology(struct mq_conn *o, const struct service *svc,
                            const char *queue, const char *dlq) {
  int rc = mq_declare_exchange(o, BUS_EXCHANGE, "topic");
  if (rc == KIT_OK) rc = mq_declare_queue(o, queue, NULL, NULL, NULL, 0);
  if (rc == KIT_OK) rc = mq_declare_queue(o, dlq, NULL, NULL, NULL, 0);
  const struct service_module *mod = svc->module;
  for (size_t i = 0; rc == KIT_OK && i < mod->event_count; i++)
    rc = mq_bind(o, queue, BUS_EXCHANGE, mod->events[i].event_type);
  return rc;
}

int bus_consumer_declare(struct service *svc) {
  char queue[128], dlq[128], reason[200];
  struct mq_conn *o = NULL;
  bus_queue_name(svc->name, queue, sizeof queue);
  bus_dlq_name(svc->name, dlq, sizeof dlq);
  int rc = mq_open(&o, svc->cfg->amqp_url, BUS_START_DECLARE_MS, false, reason,
                   sizeof reason);
  if (rc == KIT_OK) rc = declare_topology(o, svc, queue, dlq);
  mq_close(o);
  return rc;
}

static int connect_broker(struct consumer *c) {
  char reason[200] = "";
  const char *url = c->cfg->amqp_url;
  int rc =
      mq_open(&c->in, url, BUS_AMQP_TIMEOUT_MS, true, reason, sizeof reason);
  if (rc == KIT_OK)
    rc = mq_open(&c->out, url, BUS_AMQP_TIMEOUT_MS, false, reason,
                 sizeof reason);
  if (rc != KIT_OK) goto fail;
  struct mq_conn *o = c->out;
  rc = mq_confirm_select(o);
  if (rc == KIT_OK) rc = declare_topology(o, c->svc, c->queue, c->dlq);
  if (rc == KIT_OK) rc = mq_qos(c->in, c->cfg->bus_prefetch);
  if (rc == KIT_OK) rc = mq_consume(c->in, c->queue);
  if (rc != KIT_OK) {
    snprintf(reason, sizeof reason, "%s",
             !mq_ok(c->out) ? mq_error(c->out) : mq_error(c->in));
    goto fail;
  }
  if (c->down_logged) log_info("consumer: RabbitMQ back, consuming");
  c->down_logged = false;
  atomic_store(&c->st->consuming, true);
  return KIT_OK;
fail:
  drop(c);
  if (!c->down_logged)
    log_warn("consumer: RabbitMQ unavailable: %s (retrying)", reason);
  c->down_logged = true;
  return KIT_UNAVAILABLE;
}

static const struct event_handler *find_handler(const struct service *svc,
                                                const char *type) {
  const struct service_module *mod = svc->module;
  for (size_t i = 0; i < mod->event_count; i++)
    if (bus_topic_matches(mod->events[i].event_type, type))
      return &mod->events[i];
  return NULL;
}

static const char inbox_sql[] =
    "INSERT INTO inbox (event_id, event_type) VALUES ($1::uuid, $2::text) "
    "ON CONFLICT (event_id) DO NOTHING";

/* Runs one event's handler under its trace id; sets its outcome. Returns
 * DB_SOFT_ERROR / DB_UNAVAILABLE to give up on the whole batch, else 0. */
static int run_handler(struct batch *b, struct db_conn *conn, struct item *it) {
  struct consumer *c = b->c;
  if (it->handler == NULL) {
    it->outcome = OUT_UNHANDLED;
    return 0;
  }
  log_context_set(c->st->service, it->ev.trace_id, NULL);
  /* Under the publish span, whose id the event id gives (trace.h). */
  struct trace_span span;
  struct trace_current saved;
  char parent[17], name[96];
  trace_event_span_id(it->ev.event_id, 'p', parent);
  snprintf(name, sizeof name, "consume %s", it->ev.event_type);
  trace_span_begin(&span, name, TRACE_CONSUMER, c->st->service,
                   it->ev.trace_id, parent, NULL);
  trace_span_attr(&span, "messaging.message.id", it->ev.event_id);
  trace_current_set(span.active ? span.trace_id : "", span.span_id, &saved);
  int rc = it->handler->handle(c->svc, conn, &it->ev);
  trace_current_restore(&saved);
  trace_span_end(&span, rc < 0 && rc != DB_UNAVAILABLE && rc != DB_SOFT_ERROR);
  log_context_set(c->st->service, NULL, NULL);
  if (rc == DB_UNAVAILABLE || rc == DB_SOFT_ERROR) return rc;
  if (rc >= 0) {
    it->outcome = OUT_APPLIED;
  } else {
    it->outcome = OUT_FAILED;
    snprintf(it->error, sizeof it->error, "handler for %s returned %d",
             it->ev.event_type, rc);
  }
  return 0;
}

/* Careful pass: per event a savepoint, its inbox row, its handler; a
 * failing handler loses only its own savepoint. */
static int careful_tx(struct db_conn *conn, struct batch *b) {
  for (int i = 0; i < b->n; i++) {
    struct item *it = &b->items[i];
    if (it->outcome == OUT_POISON) continue;
    int rc = db_exec_sql(conn, "SAVEPOINT bus_event");
    if (rc < 0) return rc;
    const char *p[] = {it->ev.event_id, it->ev.event_type};
    rc = db_exec_params(conn, "bus inbox", inbox_sql, 2, p, NULL);
    if (rc == DB_UNAVAILABLE || rc == DB_SOFT_ERROR) return rc;
    if (rc == 0) {
      it->outcome = OUT_DUPLICATE;
    } else if (rc < 0) {
      it->outcome = OUT_FAILED;
      snprintf(it->error, sizeof it->error, "inbox insert failed (%d)", rc);
    } else {
      rc = run_handler(b, conn, it);
      if (rc < 0) return rc;
    }
    rc = db_exec_sql(conn, it->outcome == OUT_FAILED
                               ? "ROLLBACK TO SAVEPOINT bus_event"
                               : "RELEASE SAVEPOINT bus_event");
    if (rc < 0) return rc == DB_UNAVAILABLE ? rc : DB_HARD_ERROR;
  }
  return DB_NO_RESULTS;
}

/* Appends s to a Postgres array literal ("{a,b}"), quoted. */
static bool array_add(char **buf, size_t *len, size_t *cap, const char *s) {
  size_t need = *len + strlen(s) * 2 + 4;
  if (need > *cap) {
    size_t cap2 = need * 2;
    char *grown = realloc(*buf, cap2);
    if (grown == NULL) return false;
    *buf = grown;
    *cap = cap2;
  }
  char *o = *buf + *len;
  if (*len > 1) *o++ = ',';
  *o++ = '"';
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') *o++ = '\\';
    *o++ = *s;
  }
  *o++ = '"';
  *o = '\0';
  *len = (size_t)(o - *buf);
  return true;
}

/* Fast pass: one statement records the whole batch in the inbox and says
 * which ids are new; their handlers run without savepoints. If one fails,
 * the pass gives up (the transaction rolls back) and the batch is run again
 * carefully. Failures are rare, so most batches cost one round trip plus
 * the handlers' own. */
static int fast_tx(struct db_conn *conn, struct batch *b) {
  char *ids = NULL, *types = NULL;
  size_t ids_len = 1, ids_cap = 0, types_len = 1, types_cap = 0;
  struct db_result *r = NULL;
  int rc = DB_HARD_ERROR;
  ids = malloc(ids_cap = 64);
  types = malloc(types_cap = 64);
  if (ids == NULL || types == NULL) goto cleanup;
  strcpy(ids, "{");
  strcpy(types, "{");
  int wanted = 0;
  for (int i = 0; i < b->n; i++) {
    struct item *it = &b->items[i];
    if (it->outcome == OUT_POISON) continue;
    it->outcome = OUT_DUPLICATE; /* unless the insert says it is new */
    if (!array_add(&ids, &ids_len, &ids_cap, it->ev.event_id) ||
        !array_add(&types, &types_len, &types_cap, it->ev.event_type))
      goto cleanup;
    wanted++;
  }
  if (wanted == 0) {
    rc = DB_NO_RESULTS;
    goto cleanup;
  }
  strcat(ids, "}");
  strcat(types, "}");
  const char *p[] = {ids, types};
  rc = db_exec_params(conn, "bus inbox batch",
                      "INSERT INTO inbox (event_id, event_type) "
                      "SELECT * FROM unnest($1::uuid[], $2::text[]) "
                      "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
                      2, p, &r);
  if (rc < 0) goto cleanup;
  /* Each returned id is new, and applies to its first item only (the
   * same event twice in one batch is a duplicate the second time). */
  for (int row = 0; row < db_result_rows(r); row++) {
    const char *id = db_result_text(r, row, 0);
    for (int i = 0; i < b->n; i++) {
      struct item *it = &b->items[i];
      if (it->outcome == OUT_DUPLICATE &&
          strcasecmp(it->ev.event_id, id) == 0) {
        it->outcome = OUT_PENDING;
        break;
      }
    }
  }
  for (int i = 0; i < b->n; i++) {
    struct item *it = &b->items[i];
    if (it->outcome != OUT_PENDING) continue;
    rc = run_handler(b, conn, it);
    if (rc < 0) goto cleanup;
    if (it->outcome == OUT_FAILED) {
      b->failed = true;
      rc = DB_HARD_ERROR;
      goto cleanup;
    }
  }
  rc = DB_NO_RESULTS;
cleanup:
  db_result_free(r);
  free(ids);
  free(types);
  return rc;
}

/* The batch transaction. Outcomes are set afresh on each run (the runner
 * may retry it after a conflict). Returns DB_SOFT_ERROR / DB_UNAVAILABLE to
 * give up on the whole batch; anything decided per event is in outcome. */
static int batch_tx(struct db_conn *conn, void *arg) {
  struct batch *b = arg;
  for (int i = 0; i < b->n; i++) {
    if (b->items[i].outcome == OUT_POISON) continue;
    b->items[i].outcome = OUT_PENDING;
    b->items[i].error[0] = '\0';
  }
  return b->careful ? careful_tx(conn, b) : fast_tx(conn, b);
}

static int ensure_retry_queue(struct consumer *c, int64_t delay_ms, char *name,
                              size_t size) {
  bus_retry_queue_name(c->st->service, delay_ms, name, size);
  for (int i = 0; i < c->declared_count; i++)
    if (c->declared[i] == delay_ms) return KIT_OK;
  struct mq_queue_options opt = {
      .message_ttl_ms = (int)delay_ms,
      .dead_letter_exchange = "",
      .dead_letter_routing_key = c->queue,
  };
  int rc = mq_declare_queue(c->out, name, &opt, NULL, NULL, 0);
  if (rc == KIT_OK && c->declared_count < MAX_DECLARED_DELAYS)
    c->declared[c->declared_count++] = delay_ms;
  return rc;
}

/* Republishes a failed delivery to its delay queue, or to the DLQ when its
 * attempts are spent (or it is poison). Confirm is awaited by the caller. */
static int reroute(struct consumer *c, struct item *it, bool *dead) {
  int attempt = it->msg.retries + 1;
  const char *type = it->ev.event_type ? it->ev.event_type : "(unknown)";
  struct mq_publish pub = {
      .exchange = "",
      .body = it->msg.body,
      .len = it->msg.len,
      .message_id = it->ev.event_id,
      .type = it->ev.event_type,
      .retries = attempt,
      .error = it->error,
  };
  char name[160];
  *dead = it->outcome == OUT_POISON || attempt >= c->cfg->bus_max_attempts;
  if (*dead) {
    pub.routing_key = c->dlq;
    log_error("event %s %s dead-lettered after %d attempt(s): %s", type,
              it->ev.event_id ? it->ev.event_id : "", attempt, it->error);
  } else {
    int64_t delay = bus_retry_delay_ms(c->cfg->bus_retry_base_ms, attempt);
    int rc = ensure_retry_queue(c, delay, name, sizeof name);
    if (rc != KIT_OK) return rc;
    pub.routing_key = name;
    log_warn("event %s %s failed (attempt %d of %d): %s; retry in %lld ms",
             type, it->ev.event_id, attempt, c->cfg->bus_max_attempts,
             it->error, (long long)delay);
  }
  return mq_publish(c->out, &pub);
}

static void count(struct consumer *c, const char *outcome) {
  const char *labels[] = {c->st->service, outcome};
  metric_inc(bus_metrics()->consumed, labels, 1);
}

/* Settles a batch with the broker after the transaction decided it. */
static int settle(struct consumer *c, struct item *items, int n) {
  const char *svc_label[] = {c->st->service};
  int rerouted = 0;
  /* Deliveries are settled in order, so with nothing to reroute one
   * multiple-ack covers the batch (and nothing earlier is pending). */
  bool all_done = true;
  for (int i = 0; i < n; i++)
    if (items[i].outcome == OUT_FAILED || items[i].outcome == OUT_POISON)
      all_done = false;
  if (all_done && mq_ack(c->in, items[n - 1].msg.delivery_tag, true) != KIT_OK)
    return KIT_UNAVAILABLE;
  for (int i = 0; i < n; i++) {
    struct item *it = &items[i];
    if (it->outcome == OUT_FAILED || it->outcome == OUT_POISON) {
      bool dead = false;
      if (reroute(c, it, &dead) != KIT_OK) return KIT_UNAVAILABLE;
      count(c, dead ? "dead_lettered" : "retried");
      if (dead) metric_inc(bus_metrics()->dead_letters, svc_label, 1);
      rerouted++;
      continue;
    }
    if (!all_done && mq_ack(c->in, it->msg.delivery_tag, false) != KIT_OK)
      return KIT_UNAVAILABLE;
    count(c, it->outcome == OUT_APPLIED     ? "applied"
             : it->outcome == OUT_DUPLICATE ? "duplicate"
                                            : "unhandled");
    if (it->outcome == OUT_UNHANDLED)
      log_warn("event %s %s: no handler; acknowledged", it->ev.event_type,
               it->ev.event_id);
  }
  if (rerouted == 0) return KIT_OK;
  /* Only once the copy is safe with the broker may the original go. */
  if (mq_wait_confirms(c->out, BUS_AMQP_TIMEOUT_MS) != KIT_OK)
    return KIT_UNAVAILABLE;
  for (int i = 0; i < n; i++) {
    if (items[i].outcome != OUT_FAILED && items[i].outcome != OUT_POISON)
      continue;
    if (mq_ack(c->in, items[i].msg.delivery_tag, false) != KIT_OK)
      return KIT_UNAVAILABLE;
  }
  return KIT_OK;
}

static void decode(struct consumer *c, struct item *it) {
  const char *svc_label[] = {c->st->service};
  if (it->msg.redelivered || it->msg.retries > 0)
    metric_inc(bus_metrics()->redeliveries, svc_label, 1);
  if (bus_envelope_parse(it->msg.body, &it->ev, &it->owner, it->error,
                         sizeof it->error) != KIT_OK) {
    it->outcome = OUT_POISON;
    return;
  }
  it->handler = find_handler(c->svc, it->ev.event_type);
}

/* Handles one batch: KIT_OK, or KIT_UNAVAILABLE when the broker connection
 * must be rebuilt (unacked deliveries return to the queue by themselves). */
static int handle_batch(struct consumer *c, struct item *items, int n) {
  for (int i = 0; i < n; i++)
    decode(c, &items[i]);
  struct batch b = {.c = c, .items = items, .n = n};
  int failures = 0;
  for (;;) {
    b.failed = false;
    int rc = db_transaction(c->svc->db, DB_READ_COMMITTED, batch_tx, &b);
    if (rc >= 0) break;
    if (b.failed && !b.careful) {
      b.careful = true; /* a handler failed: again, event by event */
      continue;
    }
    if (rc == DB_UNAVAILABLE) {
      /* Nothing was applied; the deliveries wait, unacked, for the
       * database. Stopping now hands them back to the broker. */
      if (bus_sleep(c->st, backoff_delay_ms(++failures, BUS_RECONNECT_BASE_MS,
                                            BUS_RECONNECT_MAX_MS, 1.0)))
        return KIT_UNAVAILABLE;
      continue;
    }
    /* The batch as a whole failed (conflicts that would not clear, a broken
     * savepoint): every event of it is retried later on its own merits. */
    for (int i = 0; i < n; i++) {
      if (items[i].outcome == OUT_POISON) continue;
      items[i].outcome = OUT_FAILED;
      if (items[i].error[0] == '\0')
        snprintf(items[i].error, sizeof items[i].error,
                 "batch transaction failed (%d)", rc);
    }
    break;
  }
  return settle(c, items, n);
}

static void refresh_depth(struct consumer *c) {
  uint32_t depth = 0;
  struct mq_queue_options passive = {.passive = true};
  if (mq_declare_queue(c->out, c->queue, &passive, &depth, NULL, 0) != KIT_OK)
    return;
  const char *labels[] = {c->st->service};
  metric_set(bus_metrics()->queue_depth, labels, depth);
}

static int sweep_inbox(struct db_conn *conn, void *arg) {
  (void)arg;
  return db_exec_params(
      conn, "inbox sweep",
      "DELETE FROM inbox WHERE received_at < now() - "
      "make_interval(days => " STR(BUS_INBOX_RETENTION_DAYS) ")",
      0, NULL, NULL);
}

void *bus_consumer_main(void *arg) {
  struct bus_state *st = arg;
  struct consumer c = {.st = st, .svc = st->svc, .cfg = st->svc->cfg};
  bus_queue_name(st->service, c.queue, sizeof c.queue);
  bus_dlq_name(st->service, c.dlq, sizeof c.dlq);
  log_context_set(st->service, NULL, NULL);
  int max_batch =
      c.cfg->bus_prefetch < MAX_BATCH ? c.cfg->bus_prefetch : MAX_BATCH;
  struct item *items = calloc((size_t)max_batch, sizeof *items);
  if (items == NULL) {
    log_error("consumer: out of memory");
    return NULL;
  }

  while (!atomic_load(&st->stopping)) {
    if (c.in == NULL) {
      if (connect_broker(&c) != KIT_OK) {
        bus_sleep(st, backoff_delay_ms(++c.failures, BUS_RECONNECT_BASE_MS,
                                       BUS_RECONNECT_MAX_MS,
                                       0.5 + backoff_random01() / 2));
        continue;
      }
      c.failures = 0;
    }
    int64_t now = clock_monotonic_ms();
    if (now >= c.depth_at) {
      refresh_depth(&c);
      c.depth_at = now + DEPTH_EVERY_MS;
    }
    if (now >= c.sweep_at) {
      (void)db_transaction(c.svc->db, DB_READ_COMMITTED, sweep_inbox, NULL);
      c.sweep_at = now + INBOX_SWEEP_MS;
    }

    int rc = mq_next(c.in, CONSUME_WAIT_MS, &items[0].msg);
    if (rc == KIT_TIMEOUT) continue;
    if (rc != KIT_OK) {
      log_warn("consumer: connection lost: %s (reconnecting)", mq_error(c.in));
      c.down_logged = true;
      drop(&c);
      continue;
    }
    int n = 1;
    while (n < max_batch && mq_next(c.in, 0, &items[n].msg) == KIT_OK)
      n++;
    rc = handle_batch(&c, items, n);
    for (int i = 0; i < n; i++) {
      mq_message_clear(&items[i].msg);
      bus_envelope_free(items[i].owner);
      memset(&items[i], 0, sizeof items[i]);
    }
    if (rc != KIT_OK) {
      if (!atomic_load(&st->stopping))
        log_warn("consumer: cannot settle deliveries: %s (reconnecting; "
                 "they will be redelivered)",
                 !mq_ok(c.out) ? mq_error(c.out) : mq_error(c.in));
      drop(&c);
    }
  }
  drop(&c);
  free(items);
  log_context_clear();
  return NULL;
}
