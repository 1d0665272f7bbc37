/* bus.h - domain events: transactional outbox, RabbitMQ relay, consumers.
 *
 * A producer calls bus_emit() inside its own open transaction; the row lands
 * in its schema's `outbox` table and commits (or rolls back) with the change.
 * A relay thread per process publishes unsent rows, in order per aggregate,
 * to the topic exchange `shopsphere.events` (routing key = event type) with
 * publisher confirms, and marks them sent. A consumer per service reads its
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

#include <stdint.h>

#include "db.h"

struct service;

#define BUS_EXCHANGE "shopsphere.events"
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
  const void *data;      /* json_t * object */
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

/* Called by the service runtime: starts the outbox relay of svc's schema (when
 * the module needs DB and AMQP) and its consumer (when it has handlers).
 * Neither waits for RabbitMQ: they connect and reconnect in the background. */
int bus_start(struct service *svc);
void bus_stop(struct service *svc);

#endif
