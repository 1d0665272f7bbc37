/* bus.h - domain events: transactional outbox, RabbitMQ relay, consumers.
 *
 * A producer calls bus_emit() inside its own open transaction; the row lands
 * in its schema's `outbox` table and commits (or rolls back) with the change.
 * A relay thread per process publishes the rows, in order per aggregate
 * (emit after changing the aggregate: see bus.c), to the topic exchange
 * `shopsphere.events` (routing key = event type) with publisher confirms,
 * and deletes them once confirmed. A consumer per service reads its
 * durable queue `shopsphere.<service>`; each handler runs inside a database
 * transaction that also records the event id in `inbox`, so a redelivered
 * event changes nothing; the message is acked only after COMMIT. Failures are
 * retried with growing delay, then parked in `shopsphere.dlq.<service>`.
 *
 * Envelope (JSON): {event_id, event_type, aggregate_id, version, timestamp,
 * trace_id, data}. See DESIGN §6 and docs/events.md.
 */
#ifndef SHOPSPHERE_KIT_BUS_H
#define SHOPSPHERE_KIT_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct service;
struct config;

#define BUS_EXCHANGE "shopsphere.events"
/* The event log: a RabbitMQ stream queue bound to BUS_EXCHANGE with '#', so
 * every event published is appended to it and kept (by age and size) for
 * replay, beside the per-service work queues. */
#define BUS_LOG_QUEUE "shopsphere.log"
#define BUS_SCHEMA_VERSION 1

/* Writes an event to the outbox of conn's schema, inside the caller's open
 * transaction. data is a json_t * object (borrowed). The trace id is the
 * thread's log context trace id (the request being served), or a fresh one.
 * Returns a db_status (>= 0 on success), so it composes with other statements
 * of a db_transaction body. */
int bus_emit(struct db_conn *conn, const char *event_type,
             const char *aggregate_id, const void *data);

/* An event as a consumer sees it; everything is borrowed for the call. */
struct bus_event {
  const char *event_id;
  const char *event_type;
  const char *aggregate_id;
  int version;
  const char *timestamp; /* RFC 3339 UTC */
  const char *trace_id;
  const void *data; /* json_t * object */
};

/* A consumer's handler: runs inside the consumer's transaction on conn (the
 * inbox row is written in the same transaction). Returns a db_status: >= 0
 * commits and acks; DB_SOFT_ERROR retries the transaction at once; any other
 * negative value rolls back and the event is retried later with backoff, then
 * dead-lettered. The thread's log context carries the event's trace id. */
typedef int (*bus_handler_fn)(struct service *svc, struct db_conn *conn,
                              const struct bus_event *ev);

/* One entry of a module's table of consumed events. event_type may end in
 * ".*" or be "#" (AMQP topic patterns). */
struct event_handler {
  const char *event_type;
  bus_handler_fn handle;
};

/* A listener hears events in every process that runs its service, not in
 * one of them as a consumer does: each process has its own exclusive,
 * auto-deleting queue bound to the listener patterns, read without inbox
 * or transaction. For state held in memory that must follow changes made
 * elsewhere (caches). on_event gets each matching event, and ev == NULL
 * whenever events may have been missed (the queue is new: at start and
 * after a reconnect), which means "drop everything you hold". It runs on
 * the listener's thread and must be quick. pattern is an AMQP topic
 * pattern ("product.*"). */
struct bus_listener {
  const char *pattern;
  void (*on_event)(struct service *svc, const struct bus_event *ev);
};

/* Called by the service runtime: starts the outbox relay of svc's schema (when
 * the module needs DB and AMQP) and its consumer (when it has handlers).
 * Neither waits for RabbitMQ: they connect and reconnect in the background
 * (a consumer's queue and bindings are declared before this returns when
 * the broker answers within 2 s, so the service misses nothing published
 * once it serves). */
int bus_start(struct service *svc);
void bus_stop(struct service *svc);

/* Waits until svc's listener (if it has one) has its queue bound: events
 * published from then on reach it. KIT_OK or KIT_TIMEOUT. */
int bus_wait_listening(struct service *svc, int timeout_ms);

/* Waits until svc's consumer (if it has one) has its queue declared, bound
 * and consumed: events published from then on reach it. (Events published
 * before a consumer's queue first existed are not kept for it: the exchange
 * routes to the queues that exist.) KIT_OK or KIT_TIMEOUT. */
int bus_wait_ready(struct service *svc, int timeout_ms);

/* --- helpers shared by the runtime, `shopsphere events` and tests --------- */

/* Queue names of a consumer service: "shopsphere.<service>",
 * "shopsphere.dlq.<service>", and the delay queue of one retry
 * "shopsphere.retry.<service>.<delay_ms>ms". */
void bus_queue_name(const char *service, char *out, size_t size);
void bus_dlq_name(const char *service, char *out, size_t size);
void bus_retry_queue_name(const char *service, int64_t delay_ms, char *out,
                          size_t size);

/* The delay before retry `attempt` (1-based: after the first failure):
 * base_ms * 2^(attempt-1), at most BUS_RETRY_MAX_MS. */
#define BUS_RETRY_MAX_MS 300000
int64_t bus_retry_delay_ms(int base_ms, int attempt);

/* true when routing key `key` matches AMQP topic pattern `pattern` ('*' one
 * dot-separated word, '#' zero or more words). */
bool bus_topic_matches(const char *pattern, const char *key);

/* Renders an envelope (JSON text, caller frees). data is a json_t * object
 * (borrowed); timestamp_ms is Unix epoch milliseconds. NULL on bad input. */
char *bus_envelope_render(const char *event_id, const char *event_type,
                          const char *aggregate_id, const char *trace_id,
                          int64_t timestamp_ms, const void *data);

/* Parses an envelope. On success *ev points into *owner (a json_t *, free
 * with bus_envelope_free) and KIT_OK is returned; KIT_INVALID names the
 * first bad field in reason. */
int bus_envelope_parse(const char *json, struct bus_event *ev, void **owner,
                       char *reason, size_t reason_size);
void bus_envelope_free(void *owner);

/* Operations on the broker and the outbox for `shopsphere events` and tests.
 * Each opens its own connections and returns KIT_OK or a failure (logged). */

/* Moves every message now in shopsphere.dlq.<service> back to the service's
 * queue with its retry count reset; *replayed counts them. */
int bus_dlq_replay(const char *amqp_url, const char *service, int *replayed);

/* Publishes one envelope (JSON text, checked) straight to
 * shopsphere.<service>, as the broker would redeliver it: for operators
 * re-driving one event to one consumer, and for tests proving that a
 * consumer applies a redelivered event once. KIT_OK, KIT_INVALID (not an
 * envelope), KIT_NOT_FOUND (no such queue) or a broker failure. */
int bus_redeliver(const char *amqp_url, const char *service,
                  const char *envelope);

/* Peeks at up to `limit` dead letters (they stay in the queue): fn gets each
 * body and the error recorded with it. *depth: messages in the queue. */
typedef void (*bus_message_fn)(void *arg, const char *routing_key,
                               const char *body, const char *error,
                               int retries);
int bus_dlq_peek(const char *amqp_url, const char *service, int limit,
                 bus_message_fn fn, void *arg, uint32_t *depth);

/* Messages ready in a queue; KIT_NOT_FOUND when it does not exist. */
int bus_queue_depth(const char *amqp_url, const char *queue,
                    uint32_t *messages);

/* Follows shopsphere.events through a temporary queue bound to `pattern`
 * ("#" = everything), calling fn per event, until `max_events` (0 = no
 * limit) arrived, `timeout_ms` (0 = none) passed, or *stop became true. */
int bus_tail(const char *amqp_url, const char *pattern, int max_events,
             int timeout_ms, bus_message_fn fn, void *arg, volatile int *stop);

/* --- the event log (bus_log.c) ---------------------------------------------
 */

/* Declares the exchange and the event log (stream queue BUS_LOG_QUEUE, bound
 * with '#') with cfg's retention, on a connection of its own. The relay
 * calls it on every connect, before it publishes. KIT_OK, or a failure
 * (logged): a log declared earlier with other retention arguments is kept
 * as it is (KIT_OK after a warning; change retention with a policy or by
 * deleting the queue). */
int bus_log_declare(const struct config *cfg);

/* Parses an RFC 3339 time ("2026-12-03T08:00:00Z", fraction and offset
 * optional, or a date "2026-12-03" meaning its midnight UTC) into Unix epoch
 * milliseconds. false when it is not one. */
bool bus_time_parse(const char *text, int64_t *ms);

/* Reads the event log: fn gets each event whose envelope timestamp is in
 * [since_ms, until_ms] (since_ms < 0: from the start of the log; until_ms
 * < 0: until now), in the order published, with its type and body
 * (borrowed for the call); it returns KIT_OK to go on, BUS_LOG_STOP to
 * stop there, or a failure (< 0) that ends the read with it. Reading removes
 * nothing. *read counts the events given to fn. KIT_OK, KIT_NOT_FOUND when
 * there is no log yet, or a failure (logged). */
#define BUS_LOG_STOP 1
typedef int (*bus_log_fn)(void *arg, const char *event_type, const char *body,
                          size_t len);
int bus_log_read(const char *amqp_url, int64_t since_ms, int64_t until_ms,
                 bus_log_fn fn, void *arg, int64_t *read);

struct bus_replay_result {
  int64_t read;     /* events read from the log in [since, until] */
  int64_t replayed; /* of them, published to the service's queue */
};

/* Re-drives the events of the log whose envelope timestamp is in
 * [since_ms, until_ms] (since_ms < 0: from the start of the log; until_ms
 * < 0: until now) and whose type matches one of the service's `events`
 * patterns: each is published, confirmed, to the service's own queue
 * shopsphere.<service> (not to the exchange: no other consumer sees it
 * again) with header x-replay. Its consumer handles it like any delivery,
 * through the inbox: an event the service already applied is a duplicate
 * and changes nothing, so a replay applies only what the inbox does not
 * hold (everything, after bus_read_model_reset). KIT_OK, KIT_NOT_FOUND when
 * the log or the service's queue does not exist, or a failure (logged). */
int bus_log_replay(const char *amqp_url, const char *service,
                   const struct event_handler *events, size_t event_count,
                   int64_t since_ms, int64_t until_ms,
                   struct bus_replay_result *out);

/* How long a consumer's inbox remembers an applied event id (the sweep
 * deletes older rows). A replay without a reset must stay inside it: an
 * older event is no longer recognised and would apply a second time. */
#define BUS_INBOX_RETENTION_DAYS 7

/* Empties a rebuildable read model before a replay from the start of the
 * log, in one transaction on `schema`: locks the inbox (ACCESS EXCLUSIVE:
 * no consumer batch runs meanwhile, and one under way finishes first), runs
 * reset_sql (the module's read_model_reset), then empties the inbox so
 * that the replay applies every event again. *inbox_cleared counts the ids
 * forgotten. KIT_OK, KIT_INVALID (no reset_sql), or a failure (logged). */
int bus_read_model_reset(const char *db_url, const char *schema,
                         const char *reset_sql, int64_t *inbox_cleared);

struct bus_outbox_status {
  int64_t unsent;
  double oldest_unsent_age_s; /* 0 when nothing waits */
};
/* Reads the outbox of `schema`; KIT_NOT_FOUND when it has no outbox. */
int bus_outbox_status(const char *db_url, const char *schema,
                      struct bus_outbox_status *out);

#endif
