/* bus_admin.c - operator tools of the event bus (bus.h): dead-letter replay
 * and peeking, queue depth, tailing the event exchange, outbox status. Used
 * by `shopsphere events` and by tests; each call opens and closes its own
 * connections.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/breaker.h"
#include "kit/bus_internal.h"
#include "kit/err.h"
#include "kit/log.h"
#include "kit/mq.h"

static int open_conn(struct mq_conn **c, const char *url) {
  char reason[200] = "";
  int rc = mq_open(c, url, BUS_AMQP_TIMEOUT_MS, false, reason, sizeof reason);
  if (rc != KIT_OK) log_error("events: RabbitMQ unavailable: %s", reason);
  return rc;
}

int bus_queue_depth(const char *amqp_url, const char *queue,
                    uint32_t *messages) {
  struct mq_conn *c = NULL;
  *messages = 0;
  int rc = open_conn(&c, amqp_url);
  if (rc != KIT_OK) return rc;
  struct mq_queue_options passive = {.passive = true};
  rc = mq_declare_queue(c, queue, &passive, messages, NULL, 0);
  mq_close(c);
  return rc;
}

int bus_dlq_replay(const char *amqp_url, const char *service, int *replayed) {
  struct mq_conn *c = NULL;
  char dlq[160], queue[160];
  uint32_t depth = 0;
  *replayed = 0;
  bus_dlq_name(service, dlq, sizeof dlq);
  bus_queue_name(service, queue, sizeof queue);
  int rc = open_conn(&c, amqp_url);
  if (rc != KIT_OK) return rc;
  rc = mq_confirm_select(c);
  struct mq_queue_options passive = {.passive = true};
  if (rc == KIT_OK) rc = mq_declare_queue(c, dlq, &passive, &depth, NULL, 0);
  if (rc == KIT_OK) rc = mq_declare_queue(c, queue, &passive, NULL, NULL, 0);
  if (rc == KIT_NOT_FOUND) {
    log_error("events: no queue %s or %s (has the service consumed yet?)",
              queue, dlq);
    goto cleanup;
  }
  /* Only what is there now: a message that fails again while we run comes
   * back to the DLQ later and must not be replayed in a loop. Each is
   * republished to the service's own queue (not the exchange: the other
   * consumers have it already), confirmed, and only then removed. */
  for (uint32_t i = 0; rc == KIT_OK && i < depth; i++) {
    struct mq_message m;
    rc = mq_get(c, dlq, &m);
    if (rc == KIT_NOT_FOUND) {
      rc = KIT_OK;
      break;
    }
    if (rc != KIT_OK) break;
    struct mq_publish pub = {.exchange = "",
                             .routing_key = queue,
                             .body = m.body,
                             .len = m.len,
                             .retries = 0};
    rc = mq_publish(c, &pub);
    if (rc == KIT_OK) rc = mq_wait_confirms(c, BUS_AMQP_TIMEOUT_MS);
    if (rc == KIT_OK) rc = mq_ack(c, m.delivery_tag, false);
    if (rc == KIT_OK) (*replayed)++;
    mq_message_clear(&m);
  }
cleanup:
  if (rc != KIT_OK && rc != KIT_NOT_FOUND)
    log_error("events: replay of %s stopped: %s", dlq, mq_error(c));
  mq_close(c);
  return rc;
}

int bus_dlq_peek(const char *amqp_url, const char *service, int limit,
                 bus_message_fn fn, void *arg, uint32_t *depth) {
  struct mq_conn *c = NULL;
  char dlq[160];
  *depth = 0;
  bus_dlq_name(service, dlq, sizeof dlq);
  int rc = open_conn(&c, amqp_url);
  if (rc != KIT_OK) return rc;
  struct mq_queue_options passive = {.passive = true};
  rc = mq_declare_queue(c, dlq, &passive, depth, NULL, 0);
  /* Fetched without acking: closing the connection puts them all back. */
  for (int i = 0; rc == KIT_OK && i < limit && (uint32_t)i < *depth; i++) {
    struct mq_message m;
    int got = mq_get(c, dlq, &m);
    if (got != KIT_OK) break;
    fn(arg, m.routing_key, m.body, m.error, m.retries);
    mq_message_clear(&m);
  }
  mq_close(c);
  return rc;
}

int bus_tail(const char *amqp_url, const char *pattern, int max_events,
             int timeout_ms, bus_message_fn fn, void *arg, volatile int *stop) {
  struct mq_conn *c = NULL;
  char queue[256] = "";
  int rc = open_conn(&c, amqp_url);
  if (rc != KIT_OK) return rc;
  struct mq_queue_options temp = {.temporary = true};
  rc = mq_declare_exchange(c, BUS_EXCHANGE, "topic");
  if (rc == KIT_OK)
    rc = mq_declare_queue(c, "", &temp, NULL, queue, sizeof queue);
  if (rc == KIT_OK)
    rc = mq_bind(c, queue, BUS_EXCHANGE, pattern ? pattern : "#");
  if (rc == KIT_OK) rc = mq_qos(c, 100);
  if (rc == KIT_OK) rc = mq_consume(c, queue);
  /* From here on every matching event reaches us: say so (on stderr, the
   * log's stream), so a script knows when to act. */
  if (rc == KIT_OK)
    log_info("events: following %s, pattern %s", BUS_EXCHANGE,
             pattern ? pattern : "#");
  int64_t deadline = timeout_ms > 0 ? clock_monotonic_ms() + timeout_ms : 0;
  int seen = 0;
  while (rc == KIT_OK && (stop == NULL || !*stop) &&
         (max_events <= 0 || seen < max_events)) {
    if (deadline && clock_monotonic_ms() >= deadline) break;
    struct mq_message m;
    int got = mq_next(c, 200, &m);
    if (got == KIT_TIMEOUT) continue;
    if (got != KIT_OK) {
      rc = got;
      break;
    }
    fn(arg, m.routing_key, m.body, m.error, m.retries);
    rc = mq_ack(c, m.delivery_tag, false);
    mq_message_clear(&m);
    seen++;
  }
  if (rc != KIT_OK) log_error("events: tail stopped: %s", mq_error(c));
  mq_close(c);
  return rc;
}

/* A libpq session on schema for the operator tools; NULL (logged) when the
 * database cannot be reached. */
static PGconn *tool_session(const char *db_url, const char *schema) {
  char reason[200] = "";
  PGconn *pg = bus_pg_connect(db_url, schema, "shopsphere-events", reason,
                              sizeof reason);
  if (pg == NULL) log_error("events: database unavailable: %s", reason);
  return pg;
}

int bus_outbox_status(const char *db_url, const char *schema,
                      struct bus_outbox_status *out) {
  memset(out, 0, sizeof *out);
  PGconn *pg = tool_session(db_url, schema);
  if (pg == NULL) return KIT_UNAVAILABLE;
  PGresult *res = PQexec(
      pg, "SELECT count(*), coalesce(extract(epoch FROM clock_timestamp() "
          "- min(created_at)), 0) FROM outbox");
  int rc = KIT_OK;
  if (PQresultStatus(res) != PGRES_TUPLES_OK) {
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    rc = (state != NULL && strcmp(state, "42P01") == 0) ? KIT_NOT_FOUND
                                                        : KIT_ERROR;
    if (rc == KIT_ERROR)
      log_error("events: reading the outbox of %s failed (sqlstate %s)", schema,
                state != NULL ? state : "none");
  } else {
    out->unsent = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    out->oldest_unsent_age_s = strtod(PQgetvalue(res, 0, 1), NULL);
  }
  PQclear(res);
  PQfinish(pg);
  return rc;
}

int bus_redeliver(const char *amqp_url, const char *service,
                  const char *envelope) {
  struct bus_event ev;
  void *owner = NULL;
  char reason[160];
  if (bus_envelope_parse(envelope, &ev, &owner, reason, sizeof reason) !=
      KIT_OK) {
    log_error("events: not an event envelope: %s", reason);
    return KIT_INVALID;
  }
  bus_envelope_free(owner);
  struct mq_conn *c = NULL;
  char queue[160];
  bus_queue_name(service, queue, sizeof queue);
  int rc = open_conn(&c, amqp_url);
  if (rc != KIT_OK) return rc;
  rc = mq_confirm_select(c);
  struct mq_queue_options passive = {.passive = true};
  if (rc == KIT_OK) rc = mq_declare_queue(c, queue, &passive, NULL, NULL, 0);
  if (rc == KIT_NOT_FOUND) {
    log_error("events: no queue %s (has the service consumed yet?)", queue);
    mq_close(c);
    return rc;
  }
  struct mq_publish pub = {.exchange = "",
                           .routing_key = queue,
                           .body = envelope,
                           .len = strlen(envelope),
                           .retries = 0};
  if (rc == KIT_OK) rc = mq_publish(c, &pub);
  if (rc == KIT_OK) rc = mq_wait_confirms(c, BUS_AMQP_TIMEOUT_MS);
  if (rc != KIT_OK) log_error("events: redelivery to %s failed", queue);
  mq_close(c);
  return rc;
}

int bus_read_model_reset(const char *db_url, const char *schema,
                         const char *reset_sql, int64_t *inbox_cleared) {
  *inbox_cleared = 0;
  if (reset_sql == NULL || reset_sql[0] == '\0') return KIT_INVALID;
  PGconn *pg = tool_session(db_url, schema);
  if (pg == NULL) return KIT_UNAVAILABLE;
  /* One transaction: the inbox lock first, so that no consumer batch (they
   * insert into the inbox before their handlers write) interleaves with the
   * reset; then the module's statements; then the inbox itself. */
  const char *steps[] = {
      "BEGIN",   "LOCK TABLE inbox IN ACCESS EXCLUSIVE MODE",
      reset_sql, "DELETE FROM inbox",
      "COMMIT",
  };
  int rc = KIT_OK;
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    PGresult *res = PQexec(pg, steps[i]);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
      log_error("events: resetting the read model of %s failed at step %zu "
                "(sqlstate %s): %s",
                schema, i, state != NULL ? state : "none",
                PQresultErrorMessage(res));
      rc = KIT_ERROR;
    } else if (i == 3) {
      *inbox_cleared = strtoll(PQcmdTuples(res), NULL, 10);
    }
    PQclear(res);
    if (rc != KIT_OK) break;
  }
  PQfinish(pg);
  return rc;
}
