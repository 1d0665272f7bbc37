/* mq.h - RabbitMQ (AMQP 0-9-1) connection helpers over librabbitmq.
 *
 * A reachability check for /readyz, and the thin connection wrapper the event
 * bus (bus.h) and `shopsphere events` build on: one connection with one
 * channel, durable declarations, persistent publishes with publisher
 * confirms, consuming with manual acks, basic.get. Callers never see
 * librabbitmq types.
 *
 * Every call on a connection returns KIT_OK or a failure; after a failure
 * other than KIT_TIMEOUT / KIT_NOT_FOUND the connection is broken (mq_ok()
 * says false) and the caller closes it and reconnects. Not thread-safe: one
 * connection belongs to one thread.
 */
#ifndef SHOPSPHERE_KIT_MQ_H
#define SHOPSPHERE_KIT_MQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Opens a connection to url (amqp://user:pass@host:port/vhost), logs in and
 * closes it, all within timeout_ms. KIT_OK, or KIT_UNAVAILABLE with a short
 * reason (never the password). */
int mq_ping(const char *url, int timeout_ms, char *reason, size_t reason_size);

struct mq_conn; /* opaque */

/* Connects, logs in and opens channel 1 within timeout_ms; later RPCs (the
 * declarations, get, confirm waits) are bounded by timeout_ms too. With
 * heartbeats (10 s) a silently vanished broker is noticed, but the owner
 * must then call into the connection at least every few seconds (a
 * consumer's mq_next loop does): an idle connection with heartbeats is
 * closed by the broker. *out is the caller's, closed with mq_close. KIT_OK
 * or KIT_UNAVAILABLE + reason. */
int mq_open(struct mq_conn **out, const char *url, int timeout_ms,
            bool heartbeats, char *reason, size_t reason_size);
void mq_close(struct mq_conn *c);
bool mq_ok(const struct mq_conn *c);
/* Why the last call failed (never a password); "" when it did not. */
const char *mq_error(const struct mq_conn *c);

/* Turns on publisher confirms for the channel (confirm.select). */
int mq_confirm_select(struct mq_conn *c);

/* A durable exchange of type ("topic", "direct", ...). */
int mq_declare_exchange(struct mq_conn *c, const char *name, const char *type);

struct mq_queue_options {
  bool passive;       /* only check it exists (and read its counts) */
  bool temporary;     /* exclusive, auto-delete, not durable (tail) */
  int message_ttl_ms; /* x-message-ttl, 0 = none */
  const char *dead_letter_exchange;    /* x-dead-letter-exchange or NULL */
  const char *dead_letter_routing_key; /* x-dead-letter-routing-key or NULL */
  /* A stream queue (x-queue-type=stream: an append-only log that consumers
   * read from an offset without removing anything), with retention by age
   * (x-max-age, e.g. "168h") and size (x-max-length-bytes, in segments of
   * x-stream-max-segment-size-bytes); 0/NULL leave a limit out. */
  bool stream;
  const char *max_age;
  int64_t max_length_bytes;
  int64_t max_segment_bytes;
};

/* Declares a queue (durable unless temporary; opt may be NULL). name "" asks
 * the server for a name, written to name_out (may be NULL) when it fits.
 * messages: ready messages in it. A passive declare of a missing queue
 * returns KIT_NOT_FOUND and breaks the channel (reopen the connection). */
int mq_declare_queue(struct mq_conn *c, const char *name,
                     const struct mq_queue_options *opt, uint32_t *messages,
                     char *name_out, size_t name_out_size);
int mq_delete_queue(struct mq_conn *c, const char *name);
int mq_bind(struct mq_conn *c, const char *queue, const char *exchange,
            const char *routing_key);

/* At most `prefetch` unacknowledged deliveries on the channel. */
int mq_qos(struct mq_conn *c, int prefetch);

struct mq_publish {
  const char *exchange; /* "" = the default exchange (to a queue) */
  const char *routing_key;
  const char *body;
  size_t len;
  const char *message_id; /* the event id, or NULL */
  const char *type;       /* the event type (AMQP `type`), or NULL */
  int64_t timestamp_s;    /* 0 = none */
  int retries;            /* header x-retries; < 0 leaves it out */
  const char *error;      /* header x-error, or NULL */
  bool replay;            /* header x-replay: true (re-driven from the log) */
};

/* Publishes one persistent JSON message. With confirms on, it counts as
 * unconfirmed until mq_wait_confirms sees the broker's ack. */
int mq_publish(struct mq_conn *c, const struct mq_publish *p);

/* Waits until every message published and not yet waited for is
 * confirmed. KIT_OK; KIT_ERROR when the broker nacked one (the connection
 * stays usable: publish again); KIT_TIMEOUT or KIT_UNAVAILABLE otherwise. */
int mq_wait_confirms(struct mq_conn *c, int timeout_ms);

/* The same for only the k oldest of them (a publisher that pipelines:
 * publish batch n+1, then wait for batch n). */
int mq_wait_confirms_first(struct mq_conn *c, size_t k, int timeout_ms);

/* Published messages not yet waited for. */
size_t mq_unconfirmed(const struct mq_conn *c);

/* A delivered message; the strings are the message's own (mq_message_clear
 * frees them). */
struct mq_message {
  uint64_t delivery_tag;
  bool redelivered;
  char *routing_key;
  char *body; /* NUL-terminated copy of the payload */
  size_t len;
  int retries;         /* header x-retries, 0 when absent */
  char *error;         /* header x-error, or NULL */
  bool replay;         /* header x-replay is true */
  int64_t timestamp_s; /* the `timestamp` property, 0 when absent */
};
void mq_message_clear(struct mq_message *m);

/* Starts consuming queue with manual acks. */
int mq_consume(struct mq_conn *c, const char *queue);

/* Starts reading a stream queue with manual acks (a stream needs them, and
 * a prefetch set with mq_qos first) from the first chunk holding messages
 * of since_s (Unix seconds) on; since_s < 0 reads from the beginning
 * (x-stream-offset "first"). Reading never removes anything. */
int mq_consume_stream(struct mq_conn *c, const char *queue, int64_t since_s);

/* Waits up to timeout_ms (0 = only what has arrived) for the next delivery.
 * KIT_OK (m filled), KIT_TIMEOUT, or KIT_UNAVAILABLE. */
int mq_next(struct mq_conn *c, int timeout_ms, struct mq_message *m);

/* basic.get with manual ack: KIT_OK, KIT_NOT_FOUND when the queue is empty. */
int mq_get(struct mq_conn *c, const char *queue, struct mq_message *m);

int mq_ack(struct mq_conn *c, uint64_t delivery_tag, bool multiple);
/* basic.nack: requeue puts it back, else it is dropped (or dead-lettered). */
int mq_nack(struct mq_conn *c, uint64_t delivery_tag, bool requeue);

#endif
