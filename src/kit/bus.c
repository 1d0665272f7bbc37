/* bus.c - the event bus: emitting into the outbox, the relay that publishes
 * it, starting and stopping a service's bus (bus.h; the consumer is in
 * bus_consumer.c, operator tools in bus_admin.c).
 *
 * Emit. One INSERT into the outbox of the connection's schema, in the
 * caller's transaction; the outbox's trigger queues a NOTIFY, delivered only
 * at COMMIT, that wakes the relay. A rolled-back transaction leaves neither
 * row nor notification.
 *
 * Order per aggregate. The relay publishes in outbox id order. Producers
 * change (and so row-lock) the aggregate before emitting for it, so a second
 * transaction on the same aggregate waits for the first to end before its
 * outbox row is numbered: id order is commit order per aggregate. (A lock
 * taken by bus_emit itself would give the same without that rule, but two
 * transactions emitting for several aggregates in different orders would
 * then deadlock each other.)
 *
 * Relay. One thread per service schema, with its own libpq session (it
 * LISTENs) and its own RabbitMQ connection with publisher confirms. Of all
 * processes serving a schema only one relays at a time: it holds a session
 * advisory lock, and the others wait to take over if it dies. It reads up to
 * RELAY_BATCH unsent rows in id order, publishes them (persistent, routing
 * key = event type), waits for the broker's confirms, then deletes them. A
 * crash between confirm and delete publishes those rows again: consumers
 * dedupe by event id (the inbox), so delivery is at-least-once and effects
 * are exactly-once. With RabbitMQ down it reconnects with backoff while the
 * outbox keeps accepting rows.
 */
#include "kit/bus.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kit/breaker.h"
#include "kit/bus_internal.h"
#include "kit/err.h"
#include "kit/json.h"
#include "kit/log.h"
#include "kit/mq.h"
#include "kit/service.h"
#include "kit/trace.h"
#include "kit/uuid.h"

#define RELAY_BATCH 500
/* Polling fallback: a lost notification (or a LISTEN session that died
 * quietly) delays an event by at most this. */
#define RELAY_POLL_MS 1000
/* A relay on standby checks this often whether the active one is gone. */
#define RELAY_STANDBY_MS 3000
#define RELAY_STATS_MS 1000
#define CONFIRM_TIMEOUT_MS 15000
/* Advisory lock class (pg_advisory_lock(int4, int4)) of the active relay,
 * keyed by schema. */
#define LOCK_CLASS_RELAY 21298

/* The outbox's statement trigger queues the NOTIFY that wakes the relay
 * (src/kit/migrations/001_outbox.sql); it is delivered only at COMMIT. */
static const char emit_sql[] =
    "INSERT INTO outbox (event_id, event_type, aggregate_id, trace_id, "
    "envelope) VALUES ($1::uuid, $2, $3, $4, $5)";

/* --- names and small pure helpers ----------------------------------------- */

void bus_queue_name(const char *service, char *out, size_t size) {
  snprintf(out, size, "shopsphere.%s", service);
}

void bus_dlq_name(const char *service, char *out, size_t size) {
  snprintf(out, size, "shopsphere.dlq.%s", service);
}

void bus_retry_queue_name(const char *service, int64_t delay_ms, char *out,
                          size_t size) {
  snprintf(out, size, "shopsphere.retry.%s.%lldms", service,
           (long long)delay_ms);
}

int64_t bus_retry_delay_ms(int base_ms, int attempt) {
  if (base_ms < 1) base_ms = 1;
  if (attempt < 1) attempt = 1;
  int64_t d = base_ms;
  for (int i = 1; i < attempt && d < BUS_RETRY_MAX_MS; i++)
    d *= 2;
  return d < BUS_RETRY_MAX_MS ? d : BUS_RETRY_MAX_MS;
}

static size_t word_len(const char *s) { return strcspn(s, "."); }

/* The start of the word after the one at s ("" at the end). */
static const char *next_word(const char *s, size_t len) {
  return s[len] == '.' ? s + len + 1 : s + len;
}

/* Matches the words of key against those of pattern; '#' tries eating zero
 * words, then one more at a time. */
static bool topic_match(const char *p, const char *k) {
  if (*p == '\0') return *k == '\0';
  size_t plen = word_len(p);
  const char *pn = next_word(p, plen);
  if (plen == 1 && *p == '#') {
    if (topic_match(pn, k)) return true;
    if (*k == '\0') return false;
    return topic_match(p, next_word(k, word_len(k)));
  }
  if (*k == '\0') return false;
  size_t klen = word_len(k);
  if (!(plen == 1 && *p == '*') && (plen != klen || memcmp(p, k, plen) != 0))
    return false;
  return topic_match(pn, next_word(k, klen));
}

bool bus_topic_matches(const char *pattern, const char *key) {
  if (pattern == NULL || key == NULL) return false;
  return topic_match(pattern, key);
}

static void format_timestamp(int64_t ms, char *out, size_t size) {
  time_t secs = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char base[32];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, size, "%s.%03dZ", base, (int)(ms % 1000));
}

char *bus_envelope_render(const char *event_id, const char *event_type,
                          const char *aggregate_id, const char *trace_id,
                          int64_t timestamp_ms, const void *data) {
  if (event_id == NULL || event_type == NULL || aggregate_id == NULL ||
      trace_id == NULL || !json_is_object((const json_t *)data))
    return NULL;
  char ts[40];
  format_timestamp(timestamp_ms, ts, sizeof ts);
  json_t *env = json_pack(
      "{s:s, s:s, s:s, s:i, s:s, s:s, s:O}", "event_id", event_id, "event_type",
      event_type, "aggregate_id", aggregate_id, "version", BUS_SCHEMA_VERSION,
      "timestamp", ts, "trace_id", trace_id, "data", (json_t *)data);
  if (env == NULL) return NULL;
  char *text = json_dumps(env, KIT_JSON_DUMP_FLAGS | JSON_PRESERVE_ORDER);
  json_decref(env);
  return text;
}

static const char *string_field(json_t *root, const char *name) {
  json_t *v = json_object_get(root, name);
  return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v)
                                                        : NULL;
}

int bus_envelope_parse(const char *json, struct bus_event *ev, void **owner,
                       char *reason, size_t reason_size) {
  memset(ev, 0, sizeof *ev);
  *owner = NULL;
  json_error_t jerr;
  json_t *root = json != NULL ? json_loads(json, 0, &jerr) : NULL;
  const char *bad = NULL;
  if (!json_is_object(root)) {
    bad = "body (not a JSON object)";
    goto fail;
  }
  ev->event_id = string_field(root, "event_id");
  ev->event_type = string_field(root, "event_type");
  ev->aggregate_id = string_field(root, "aggregate_id");
  ev->timestamp = string_field(root, "timestamp");
  ev->trace_id = string_field(root, "trace_id");
  json_t *version = json_object_get(root, "version");
  ev->data = json_object_get(root, "data");
  if (ev->event_id == NULL || !uuid_valid(ev->event_id))
    bad = "event_id";
  else if (ev->event_type == NULL)
    bad = "event_type";
  else if (ev->aggregate_id == NULL)
    bad = "aggregate_id";
  else if (!json_is_integer(version) || json_integer_value(version) < 1 ||
           json_integer_value(version) > 1000)
    bad = "version";
  else if (ev->timestamp == NULL)
    bad = "timestamp";
  else if (ev->trace_id == NULL)
    bad = "trace_id";
  else if (!json_is_object((json_t *)ev->data))
    bad = "data";
  if (bad != NULL) goto fail;
  ev->version = (int)json_integer_value(version);
  *owner = root;
  return KIT_OK;
fail:
  if (reason != NULL && reason_size > 0)
    snprintf(reason, reason_size, "invalid envelope: %s", bad);
  json_decref(root);
  memset(ev, 0, sizeof *ev);
  return KIT_INVALID;
}

void bus_envelope_free(void *owner) { json_decref(owner); }

/* --- emit ------------------------------------------------------------------
 */

int bus_emit(struct db_conn *conn, const char *event_type,
             const char *aggregate_id, const void *data) {
  if (conn == NULL || event_type == NULL || *event_type == '\0' ||
      aggregate_id == NULL || *aggregate_id == '\0' ||
      !json_is_object((const json_t *)data)) {
    log_error("bus_emit(%s): needs a connection, an event type, an aggregate "
              "id and a JSON object",
              event_type != NULL ? event_type : "(null)");
    return DB_HARD_ERROR;
  }
  char event_id[UUID_STR_LEN];
  uuid_v7(event_id);
  char fresh[33];
  const char *trace = log_context_trace_id();
  if (trace == NULL || *trace == '\0') {
    id_hex(fresh, 16);
    trace = fresh;
  }
  char *envelope = bus_envelope_render(event_id, event_type, aggregate_id,
                                       trace, clock_wall_ms(), data);
  if (envelope == NULL) {
    log_error("bus_emit(%s): cannot render the envelope", event_type);
    return DB_HARD_ERROR;
  }
  const char *params[] = {event_id, event_type, aggregate_id, trace, envelope};
  int rc = db_exec_params(conn, "bus_emit", emit_sql, 5, params, NULL);
  free(envelope);
  if (rc >= 0 && trace_enabled()) {
    /* The emit span's id is derived from the event id: the relay's publish
     * span names it as its parent without it being stored. */
    char span_id[17], name[96];
    trace_event_span_id(event_id, 'e', span_id);
    snprintf(name, sizeof name, "emit %s", event_type);
    const struct trace_current *cur = trace_current();
    bool same = strcmp(cur->trace_id, trace) == 0;
    struct trace_span span;
    trace_span_begin(&span, name, TRACE_PRODUCER, NULL, trace,
                     same ? cur->span_id : NULL, span_id);
    trace_span_attr(&span, "messaging.message.id", event_id);
    trace_span_end(&span, false);
  }
  if (rc >= 0)
    log_debug("emitted %s %s (aggregate %s)", event_type, event_id,
              aggregate_id);
  return rc;
}

/* --- shared plumbing -------------------------------------------------------
 */

static pthread_once_t metrics_once = PTHREAD_ONCE_INIT;
static struct bus_metrics metrics;

static void metrics_init(void) {
  const char *svc[] = {"service", NULL};
  const char *svc_outcome[] = {"service", "outcome", NULL};
  metrics.outbox_backlog =
      metric_family("bus_outbox_backlog", "Outbox rows not yet published",
                    METRIC_GAUGE, svc, NULL, 0);
  metrics.outbox_age =
      metric_family("bus_outbox_oldest_age_seconds",
                    "Age of the oldest unpublished outbox row (0 when none)",
                    METRIC_GAUGE, svc, NULL, 0);
  metrics.published =
      metric_family("bus_events_published_total",
                    "Events published and confirmed by the broker",
                    METRIC_COUNTER, svc, NULL, 0);
  metrics.publish_latency =
      metric_family("bus_publish_latency_seconds",
                    "From outbox insert to the broker's confirm",
                    METRIC_HISTOGRAM, svc, NULL, 0);
  metrics.queue_depth = metric_family(
      "bus_consumer_queue_depth", "Messages ready in the service's event queue",
      METRIC_GAUGE, svc, NULL, 0);
  metrics.consumed = metric_family(
      "bus_events_consumed_total",
      "Deliveries handled, by outcome (applied, duplicate, unhandled, "
      "retried, dead_lettered)",
      METRIC_COUNTER, svc_outcome, NULL, 0);
  metrics.redeliveries = metric_family(
      "bus_redeliveries_total",
      "Deliveries that were redelivered by the broker or are retries",
      METRIC_COUNTER, svc, NULL, 0);
  metrics.dead_letters =
      metric_family("bus_dead_letters_total",
                    "Events parked in the service's dead-letter queue",
                    METRIC_COUNTER, svc, NULL, 0);
}

const struct bus_metrics *bus_metrics(void) {
  pthread_once(&metrics_once, metrics_init);
  return &metrics;
}

bool bus_sleep(struct bus_state *st, int64_t ms) {
  if (atomic_load(&st->stopping)) return true;
  struct pollfd p = {.fd = st->wake[0], .events = POLLIN};
  int64_t until = clock_monotonic_ms() + ms;
  for (;;) {
    int64_t left = until - clock_monotonic_ms();
    if (left <= 0) break;
    int n = poll(&p, 1, (int)left);
    if (n > 0 || atomic_load(&st->stopping)) break;
    if (n < 0 && errno != EINTR) break;
  }
  return atomic_load(&st->stopping);
}

PGconn *bus_pg_connect(const char *url, const char *schema,
                       const char *app_name, char *reason, size_t size) {
  const char *keys[] = {"connect_timeout",  "keepalives",
                        "keepalives_idle",  "keepalives_interval",
                        "keepalives_count", "application_name",
                        "dbname",           NULL};
  const char *values[] = {"3", "1", "30", "10", "3", app_name, url, NULL};
  PGconn *pg = PQconnectdbParams(keys, values, 1);
  if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
    const char *msg = pg != NULL ? PQerrorMessage(pg) : "out of memory";
    snprintf(reason, size, "%.*s", (int)strcspn(msg, "\n"), msg);
    PQfinish(pg);
    return NULL;
  }
  if (schema == NULL) return pg;
  char *ident = PQescapeIdentifier(pg, schema, strlen(schema));
  char sql[200];
  snprintf(sql, sizeof sql, "SET search_path TO %s", ident ? ident : "\"\"");
  PQfreemem(ident);
  PGresult *res = PQexec(pg, sql);
  bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  PQclear(res);
  if (!ok) {
    snprintf(reason, size, "cannot set search_path");
    PQfinish(pg);
    return NULL;
  }
  return pg;
}

/* --- relay -----------------------------------------------------------------
 */

struct relay {
  struct bus_state *st;
  PGconn *pg;
  struct mq_conn *mq;
  PGresult *inflight; /* a full batch published, its confirms pending */
  bool leader;
  bool mq_down_logged;
  bool pg_down_logged;
  bool table_missing_logged;
  int mq_failures;
  int pg_failures;
  int64_t stats_at;
};

static void relay_drop_pg(struct relay *r) {
  if (r->pg != NULL) PQfinish(r->pg);
  r->pg = NULL;
  r->leader = false;
}

static void relay_drop_mq(struct relay *r) {
  mq_close(r->mq);
  r->mq = NULL;
}

/* Runs SQL with text params on the relay's session; NULL (logged) on
 * failure, with a lost session dropped. */
static PGresult *relay_query(struct relay *r, const char *what, const char *sql,
                             int n, const char *const *p) {
  PGresult *res = PQexecParams(r->pg, sql, n, NULL, p, NULL, NULL, 0);
  ExecStatusType s = PQresultStatus(res);
  if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) return res;
  const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  if (PQstatus(r->pg) == CONNECTION_BAD) {
    log_warn("relay %s: database connection lost during %s", r->st->schema,
             what);
    relay_drop_pg(r);
  } else if (state != NULL && strcmp(state, "42P01") == 0) {
    /* No outbox yet: `shopsphere migrate` has not run. Said once. */
    if (!r->table_missing_logged)
      log_warn("relay %s: no outbox table (run shopsphere migrate); "
               "waiting",
               r->st->schema);
    r->table_missing_logged = true;
  } else {
    log_error("relay %s: %s failed (sqlstate %s)", r->st->schema, what,
              state != NULL ? state : "none");
  }
  PQclear(res);
  return NULL;
}

static bool relay_connect_pg(struct relay *r) {
  char reason[200] = "";
  char app[96];
  snprintf(app, sizeof app, "shopsphere-relay-%s", r->st->schema);
  r->pg = bus_pg_connect(r->st->svc->cfg->database_url, r->st->schema, app,
                         reason, sizeof reason);
  if (r->pg == NULL) {
    if (!r->pg_down_logged)
      log_warn("relay %s: cannot reach the database: %s (retrying)",
               r->st->schema, reason);
    r->pg_down_logged = true;
    return false;
  }
  if (r->pg_down_logged) log_info("relay %s: database back", r->st->schema);
  r->pg_down_logged = false;
  char channel[128];
  snprintf(channel, sizeof channel, "shopsphere_outbox_%s", r->st->schema);
  char *ident = PQescapeIdentifier(r->pg, channel, strlen(channel));
  char sql[200];
  snprintf(sql, sizeof sql, "LISTEN %s", ident ? ident : "\"\"");
  PQfreemem(ident);
  PGresult *res = relay_query(r, "LISTEN", sql, 0, NULL);
  bool ok = res != NULL;
  PQclear(res);
  /* The relay's own writes (deleting published rows) need not wait for the
   * disk: if a crash loses one, those rows are published again and the
   * consumers' inboxes absorb the copies. It takes an fsync off the path
   * of every batch. */
  res = ok ? relay_query(r, "session setup", "SET synchronous_commit TO off", 0,
                         NULL)
           : NULL;
  ok = res != NULL;
  PQclear(res);
  return ok;
}

static bool relay_take_lead(struct relay *r) {
  char cls[16];
  snprintf(cls, sizeof cls, "%d", LOCK_CLASS_RELAY);
  const char *p[] = {cls, r->st->schema};
  PGresult *res = relay_query(
      r, "relay lock",
      "SELECT pg_try_advisory_lock($1::integer, hashtext($2::text))", 2, p);
  if (res == NULL) return false;
  r->leader = PQgetvalue(res, 0, 0)[0] == 't';
  PQclear(res);
  if (r->leader) log_debug("relay %s: active", r->st->schema);
  return r->leader;
}

static bool relay_connect_mq(struct relay *r) {
  char reason[200] = "";
  int rc = mq_open(&r->mq, r->st->svc->cfg->amqp_url, BUS_AMQP_TIMEOUT_MS,
                   false, reason, sizeof reason);
  if (rc == KIT_OK) rc = mq_confirm_select(r->mq);
  if (rc == KIT_OK) rc = mq_declare_exchange(r->mq, BUS_EXCHANGE, "topic");
  /* The event log first, so that it holds everything published from now
   * on (its own connection: a refused declaration must not break ours). */
  if (rc == KIT_OK) (void)bus_log_declare(r->st->svc->cfg);
  if (rc != KIT_OK) {
    if (r->mq != NULL) snprintf(reason, sizeof reason, "%s", mq_error(r->mq));
    relay_drop_mq(r);
    if (!r->mq_down_logged)
      log_warn("relay %s: RabbitMQ unavailable: %s (events wait in the "
               "outbox; retrying)",
               r->st->schema, reason);
    r->mq_down_logged = true;
    return false;
  }
  if (r->mq_down_logged)
    log_info("relay %s: RabbitMQ back, publishing", r->st->schema);
  r->mq_down_logged = false;
  return true;
}

static void relay_stats(struct relay *r) {
  PGresult *res = relay_query(
      r, "outbox stats",
      "SELECT count(*), coalesce(extract(epoch FROM clock_timestamp() - "
      "min(created_at)), 0) FROM outbox",
      0, NULL);
  if (res == NULL) return;
  const char *labels[] = {r->st->service};
  metric_set(bus_metrics()->outbox_backlog, labels,
             strtod(PQgetvalue(res, 0, 0), NULL));
  metric_set(bus_metrics()->outbox_age, labels,
             strtod(PQgetvalue(res, 0, 1), NULL));
  PQclear(res);
}

/* Deletes the rows of a confirmed batch: the outbox holds only what is not
 * yet published. false (logged) when that failed: they will be published
 * again, which consumers absorb. */
static bool relay_done(struct relay *r, PGresult *rows) {
  int n = PQntuples(rows);
  /* "{1,2,3}": every id of the batch, one array parameter. */
  size_t cap = (size_t)n * 21 + 3, len = 0;
  char *ids = malloc(cap);
  if (ids == NULL) return false;
  ids[len++] = '{';
  for (int i = 0; i < n; i++)
    len += (size_t)snprintf(ids + len, cap - len, "%s%s", i ? "," : "",
                            PQgetvalue(rows, i, 0));
  snprintf(ids + len, cap - len, "}");
  const char *up[] = {ids};
  PGresult *done = relay_query(r, "delete published",
                               "DELETE FROM outbox "
                               "WHERE id = ANY($1::bigint[])",
                               1, up);
  free(ids);
  if (done == NULL) return false;
  PQclear(done);

  const char *labels[] = {r->st->service};
  int64_t now = clock_wall_ms();
  metric_inc(bus_metrics()->published, labels, n);
  for (int i = 0; i < n; i++) {
    int64_t created = strtoll(PQgetvalue(rows, i, 4), NULL, 10);
    double secs = (double)(now - created) / 1000.0;
    metric_observe(bus_metrics()->publish_latency, labels, secs > 0 ? secs : 0);
  }
  log_debug("relay %s: published %d event(s)", r->st->schema, n);
  return true;
}

/* Gives up on what is in flight: unconfirmed rows stay unsent and are
 * published again from a fresh connection (the confirm window starts
 * afresh with it). */
static void relay_abort(struct relay *r) {
  PQclear(r->inflight);
  r->inflight = NULL;
  relay_drop_mq(r);
}

/* Publishes one batch. Full batches are pipelined: batch n+1 is read and
 * published while the broker confirms batch n, which is deleted after
 * that; a partial batch is confirmed and deleted at once, so nothing waits
 * in flight while the relay sleeps. Returns the rows published (0: none
 * waiting), or -1 after a failure. */
static int relay_batch(struct relay *r) {
  char limit[16], after[24] = "0";
  snprintf(limit, sizeof limit, "%d", RELAY_BATCH);
  if (r->inflight != NULL)
    snprintf(after, sizeof after, "%s",
             PQgetvalue(r->inflight, PQntuples(r->inflight) - 1, 0));
  const char *p[] = {limit, after};
  PGresult *rows =
      relay_query(r, "read outbox",
                  "SELECT id, event_id, event_type, envelope, "
                  "(extract(epoch FROM created_at) * 1000)::bigint, trace_id "
                  "FROM outbox "
                  "WHERE id > $2::bigint ORDER BY id "
                  "LIMIT $1::integer",
                  2, p);
  if (rows == NULL) {
    /* With nothing in flight the broker connection is still clean. */
    if (r->inflight != NULL) relay_abort(r);
    return -1;
  }
  r->table_missing_logged = false;
  int n = PQntuples(rows);
  for (int i = 0; i < n; i++) {
    struct mq_publish pub = {
        .exchange = BUS_EXCHANGE,
        .routing_key = PQgetvalue(rows, i, 2),
        .body = PQgetvalue(rows, i, 3),
        .len = (size_t)PQgetlength(rows, i, 3),
        .message_id = PQgetvalue(rows, i, 1),
        .type = PQgetvalue(rows, i, 2),
        .timestamp_s = strtoll(PQgetvalue(rows, i, 4), NULL, 10) / 1000,
        .retries = -1,
    };
    struct trace_span span;
    if (trace_enabled()) {
      char span_id[17], parent[17], name[96];
      trace_event_span_id(pub.message_id, 'p', span_id);
      trace_event_span_id(pub.message_id, 'e', parent);
      snprintf(name, sizeof name, "publish %s", pub.routing_key);
      trace_span_begin(&span, name, TRACE_PRODUCER, r->st->service,
                       PQgetvalue(rows, i, 5), parent, span_id);
      trace_span_attr(&span, "messaging.system", "rabbitmq");
      trace_span_attr(&span, "messaging.destination.name", BUS_EXCHANGE);
    } else {
      span.active = false;
    }
    int published = mq_publish(r->mq, &pub);
    trace_span_end(&span, published != KIT_OK);
    if (published != KIT_OK) goto mq_failed;
  }
  if (r->inflight != NULL) {
    size_t k = (size_t)PQntuples(r->inflight);
    if (mq_wait_confirms_first(r->mq, k, CONFIRM_TIMEOUT_MS) != KIT_OK)
      goto mq_failed;
    bool marked = relay_done(r, r->inflight);
    PQclear(r->inflight);
    r->inflight = NULL;
    if (!marked) goto failed;
  }
  if (n == RELAY_BATCH) {
    r->inflight = rows; /* confirmed on the next round */
    return n;
  }
  if (n > 0) {
    if (mq_wait_confirms(r->mq, CONFIRM_TIMEOUT_MS) != KIT_OK) goto mq_failed;
    if (!relay_done(r, rows)) goto failed;
  }
  PQclear(rows);
  return n;

mq_failed:
  log_warn("relay %s: publishing failed: %s (will retry)", r->st->schema,
           mq_error(r->mq));
  r->mq_down_logged = true;
failed:
  PQclear(rows);
  relay_abort(r);
  return -1;
}

/* Drains notifications libpq already holds; true when there were any. */
static bool relay_drain(struct relay *r) {
  bool any = false;
  PGnotify *note;
  while ((note = PQnotifies(r->pg)) != NULL) {
    PQfreemem(note);
    any = true;
  }
  return any;
}

/* Waits for a notification, the poll interval, or stop. A notification that
 * arrived while a query ran is already read into libpq: no waiting then. */
static void relay_wait(struct relay *r, int ms) {
  if (relay_drain(r)) return;
  struct pollfd p[2] = {{.fd = r->st->wake[0], .events = POLLIN},
                        {.fd = PQsocket(r->pg), .events = POLLIN}};
  int n = poll(p, 2, ms);
  if (n <= 0 || !(p[1].revents & (POLLIN | POLLHUP | POLLERR))) return;
  if (!PQconsumeInput(r->pg)) {
    log_warn("relay %s: database connection lost", r->st->schema);
    relay_drop_pg(r);
    return;
  }
  (void)relay_drain(r);
}

static int64_t reconnect_delay(int failures) {
  return backoff_delay_ms(failures, BUS_RECONNECT_BASE_MS, BUS_RECONNECT_MAX_MS,
                          0.5 + backoff_random01() / 2);
}

static void *relay_main(void *arg) {
  struct relay r = {.st = arg};
  log_context_set(r.st->service, NULL, NULL);
  while (!atomic_load(&r.st->stopping)) {
    if (r.pg == NULL && !relay_connect_pg(&r)) {
      relay_drop_pg(&r);
      bus_sleep(r.st, reconnect_delay(++r.pg_failures));
      continue;
    }
    r.pg_failures = 0;
    if (!r.leader && !relay_take_lead(&r)) {
      relay_abort(&r); /* a standby holds nothing in flight */
      bus_sleep(r.st, RELAY_STANDBY_MS);
      continue;
    }
    int64_t now = clock_monotonic_ms();
    if (now >= r.stats_at) {
      relay_stats(&r);
      r.stats_at = now + RELAY_STATS_MS;
    }
    if (r.pg == NULL) continue;
    if (r.mq == NULL && !relay_connect_mq(&r)) {
      bus_sleep(r.st, reconnect_delay(++r.mq_failures));
      continue;
    }
    r.mq_failures = 0;
    int n = relay_batch(&r);
    if (n == RELAY_BATCH) continue; /* more waiting */
    if (n < 0) {
      if (r.table_missing_logged)
        bus_sleep(r.st, RELAY_STANDBY_MS);
      else
        bus_sleep(r.st, reconnect_delay(1));
      continue;
    }
    if (r.pg != NULL) relay_wait(&r, RELAY_POLL_MS);
  }
  relay_abort(&r);
  relay_drop_pg(&r);
  log_context_clear();
  return NULL;
}

/* --- start / stop ----------------------------------------------------------
 */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bus_state *registry;

int bus_start(struct service *svc) {
  if (svc == NULL || svc->module == NULL) return KIT_INVALID;
  const struct service_module *mod = svc->module;
  bool relay = svc->db != NULL && (mod->needs & NEEDS_AMQP);
  bool consumer = mod->event_count > 0;
  bool listener = mod->listener_count > 0;
  if (!relay && !consumer && !listener) return KIT_OK;
  if (consumer && (svc->db == NULL || !(mod->needs & NEEDS_AMQP))) {
    log_error("%s consumes events but lacks NEEDS_DB | NEEDS_AMQP", svc->name);
    return KIT_ERROR;
  }
  for (size_t i = 0; i < mod->event_count; i++) {
    if (mod->events[i].event_type == NULL || mod->events[i].handle == NULL) {
      log_error("%s: event handler %zu is incomplete", svc->name, i);
      return KIT_ERROR;
    }
  }
  for (size_t i = 0; i < mod->listener_count; i++) {
    if (mod->listeners[i].pattern == NULL ||
        mod->listeners[i].on_event == NULL) {
      log_error("%s: event listener %zu is incomplete", svc->name, i);
      return KIT_ERROR;
    }
  }
  (void)bus_metrics();

  struct bus_state *st = calloc(1, sizeof *st);
  if (st == NULL) return KIT_NOMEM;
  st->svc = svc;
  snprintf(st->service, sizeof st->service, "%s", svc->name);
  snprintf(st->schema, sizeof st->schema, "%s", db_pool_schema(svc->db));
  atomic_init(&st->stopping, false);
  atomic_init(&st->consuming, false);
  atomic_init(&st->listening, false);
  if (pipe2(st->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    free(st);
    return KIT_ERROR;
  }
  if (relay) {
    if (pthread_create(&st->relay, NULL, relay_main, st) != 0) goto fail;
    st->relay_running = true;
  }
  if (consumer) {
    /* Before the service answers, when RabbitMQ is there: nothing published
     * from then on misses this service's queue. */
    if (bus_consumer_declare(svc) != KIT_OK)
      log_debug("consumer: queues not declared yet (RabbitMQ unavailable)");
    if (pthread_create(&st->consumer, NULL, bus_consumer_main, st) != 0)
      goto fail;
    st->consumer_running = true;
  }
  if (listener) {
    if (pthread_create(&st->listener, NULL, bus_listener_main, st) != 0)
      goto fail;
    st->listener_running = true;
  }
  pthread_mutex_lock(&registry_lock);
  st->next = registry;
  registry = st;
  pthread_mutex_unlock(&registry_lock);
  log_info("event bus started (%s%s%s%s)", relay ? "relay" : "",
           relay && consumer ? ", " : "", consumer ? "consumer" : "",
           !listener           ? ""
           : relay || consumer ? ", listener"
                               : "listener");
  return KIT_OK;
fail:
  log_error("%s: cannot start the event bus threads", svc->name);
  atomic_store(&st->stopping, true);
  ssize_t w = write(st->wake[1], "x", 1);
  (void)w;
  if (st->relay_running) pthread_join(st->relay, NULL);
  if (st->consumer_running) pthread_join(st->consumer, NULL);
  close(st->wake[0]);
  close(st->wake[1]);
  free(st);
  return KIT_ERROR;
}

void bus_stop(struct service *svc) {
  pthread_mutex_lock(&registry_lock);
  struct bus_state **pp = &registry;
  while (*pp != NULL && (*pp)->svc != svc)
    pp = &(*pp)->next;
  struct bus_state *st = *pp;
  if (st != NULL) *pp = st->next;
  pthread_mutex_unlock(&registry_lock);
  if (st == NULL) return;

  atomic_store(&st->stopping, true);
  ssize_t w = write(st->wake[1], "x", 1);
  (void)w;
  if (st->relay_running) pthread_join(st->relay, NULL);
  if (st->consumer_running) pthread_join(st->consumer, NULL);
  if (st->listener_running) pthread_join(st->listener, NULL);
  close(st->wake[0]);
  close(st->wake[1]);
  free(st);
}

static int wait_bus(struct service *svc, int timeout_ms, bool listener) {
  int64_t until = clock_monotonic_ms() + timeout_ms;
  for (;;) {
    pthread_mutex_lock(&registry_lock);
    struct bus_state *st = registry;
    while (st != NULL && st->svc != svc)
      st = st->next;
    bool ready =
        st == NULL ||
        (listener ? !st->listener_running || atomic_load(&st->listening)
                  : !st->consumer_running || atomic_load(&st->consuming));
    pthread_mutex_unlock(&registry_lock);
    if (ready) return KIT_OK;
    if (clock_monotonic_ms() >= until) return KIT_TIMEOUT;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000000L};
    nanosleep(&ts, NULL);
  }
}

int bus_wait_ready(struct service *svc, int timeout_ms) {
  return wait_bus(svc, timeout_ms, false);
}

int bus_wait_listening(struct service *svc, int timeout_ms) {
  return wait_bus(svc, timeout_ms, true);
}
