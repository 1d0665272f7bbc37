/* bus_listen.c - listeners: events heard by every process of a service.
 *
 * A consumer (bus_consumer.c) shares one durable queue among all replicas of
 * a service, so each event is handled once. A cache is the opposite case:
 * every process holds its own copy and every one must hear of a change. So
 * a listener thread owns an exclusive, auto-deleting queue with a name the
 * broker picks, bound to the module's listener patterns, and calls each
 * matching listener with the parsed event. Nothing is stored: when the
 * connection drops, the queue goes with it, and the events published
 * meanwhile are lost to this process; that is why every listener is told
 * "drop everything" (ev == NULL) whenever a queue is bound anew, including
 * the first time.
 */
#include <stdlib.h>
#include <string.h>

#include "kit/breaker.h"
#include "kit/bus_internal.h"
#include "kit/err.h"
#include "kit/log.h"
#include "kit/mq.h"
#include "kit/service.h"

/* How long one wait for a delivery lasts, so stop is seen promptly and the
 * connection's heartbeats are served. */
#define LISTEN_WAIT_MS 200

static int listen_connect(struct bus_state *st, struct mq_conn **out) {
  const struct service_module *mod = st->svc->module;
  char reason[200] = "";
  struct mq_conn *c = NULL;
  int rc = mq_open(&c, st->svc->cfg->amqp_url, BUS_AMQP_TIMEOUT_MS, true,
                   reason, sizeof reason);
  if (rc != KIT_OK) {
    log_debug("listener: RabbitMQ unavailable: %s", reason);
    return rc;
  }
  char queue[256] = "";
  struct mq_queue_options temp = {.temporary = true};
  rc = mq_declare_exchange(c, BUS_EXCHANGE, "topic");
  if (rc == KIT_OK)
    rc = mq_declare_queue(c, "", &temp, NULL, queue, sizeof queue);
  for (size_t i = 0; rc == KIT_OK && i < mod->listener_count; i++) {
    /* Two listeners may share a pattern: one binding is enough. */
    bool bound = false;
    for (size_t j = 0; j < i; j++)
      bound = bound ||
              strcmp(mod->listeners[j].pattern, mod->listeners[i].pattern) == 0;
    if (!bound) rc = mq_bind(c, queue, BUS_EXCHANGE, mod->listeners[i].pattern);
  }
  if (rc == KIT_OK) rc = mq_qos(c, 256);
  if (rc == KIT_OK) rc = mq_consume(c, queue);
  if (rc != KIT_OK) {
    log_warn("listener: cannot bind its queue: %s", mq_error(c));
    mq_close(c);
    return rc;
  }
  *out = c;
  return KIT_OK;
}

/* Everything the listeners held may be stale: tell each one once. */
static void tell_missed(struct bus_state *st) {
  const struct service_module *mod = st->svc->module;
  for (size_t i = 0; i < mod->listener_count; i++)
    mod->listeners[i].on_event(st->svc, NULL);
}

static void dispatch(struct bus_state *st, const struct mq_message *m) {
  const struct service_module *mod = st->svc->module;
  struct bus_event ev;
  void *owner = NULL;
  char reason[160];
  if (bus_envelope_parse(m->body, &ev, &owner, reason, sizeof reason) !=
      KIT_OK) {
    /* Not ours to judge (the consumers dead-letter it); but we cannot know
     * what it changed, so the caches start over. */
    log_warn("listener: not an event envelope (%s): dropping caches", reason);
    tell_missed(st);
    return;
  }
  for (size_t i = 0; i < mod->listener_count; i++)
    if (bus_topic_matches(mod->listeners[i].pattern, ev.event_type))
      mod->listeners[i].on_event(st->svc, &ev);
  bus_envelope_free(owner);
}

void *bus_listener_main(void *arg) {
  struct bus_state *st = arg;
  log_context_set(st->service, NULL, NULL);
  struct mq_conn *c = NULL;
  int failures = 0;
  while (!atomic_load(&st->stopping)) {
    if (c == NULL) {
      if (listen_connect(st, &c) != KIT_OK) {
        bus_sleep(st, backoff_delay_ms(++failures, BUS_RECONNECT_BASE_MS,
                                       BUS_RECONNECT_MAX_MS,
                                       0.5 + backoff_random01() / 2));
        continue;
      }
      if (failures > 0) log_info("listener: RabbitMQ is back");
      failures = 0;
      tell_missed(st);
      atomic_store(&st->listening, true);
    }
    struct mq_message m;
    int rc = mq_next(c, LISTEN_WAIT_MS, &m);
    if (rc == KIT_TIMEOUT) continue;
    if (rc == KIT_OK) {
      dispatch(st, &m);
      rc = mq_ack(c, m.delivery_tag, false);
      mq_message_clear(&m);
    }
    if (rc != KIT_OK && !atomic_load(&st->stopping)) {
      log_warn("listener: connection lost: %s (reconnecting)", mq_error(c));
      atomic_store(&st->listening, false);
      mq_close(c);
      c = NULL;
      failures = 1;
    }
  }
  if (c != NULL) mq_close(c);
  return NULL;
}
