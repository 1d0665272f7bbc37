/* bus_internal.h - what the parts of the event bus share (bus.c: emit, relay,
 * start/stop; bus_consumer.c: the consumer; bus_admin.c: operator tools).
 * Not for services: they use bus.h.
 */
#ifndef SHOPSPHERE_KIT_BUS_INTERNAL_H
#define SHOPSPHERE_KIT_BUS_INTERNAL_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "kit/bus.h"
#include "kit/metrics.h"

/* Bounds of every broker call (connect, declarations, confirms). */
#define BUS_AMQP_TIMEOUT_MS 5000
/* Reconnect backoff after losing RabbitMQ or PostgreSQL. */
#define BUS_RECONNECT_BASE_MS 200
#define BUS_RECONNECT_MAX_MS 5000

/* One service's bus: its relay and consumer threads. */
struct bus_state {
  struct service *svc;
  char service[64]; /* queue names, log context, metric labels */
  char schema[64];  /* the outbox's schema */
  atomic_bool stopping;
  int wake[2]; /* a pipe: written once at stop, so sleeps end at once */

  bool relay_running;
  pthread_t relay;
  bool consumer_running;
  pthread_t consumer;
  atomic_bool consuming; /* the consumer's queue is bound and consumed */
  bool listener_running;
  pthread_t listener;
  atomic_bool listening; /* the listener's queue is bound and consumed */

  struct bus_state *next; /* the registry of running buses */
};

/* Sleeps up to ms, or until stop was asked. Returns true when stopping. */
bool bus_sleep(struct bus_state *st, int64_t ms);

/* Opens a libpq session with search_path = schema (NULL: none), the
 * database's own connect timeout. NULL with a reason on failure. */
PGconn *bus_pg_connect(const char *url, const char *schema,
                       const char *app_name, char *reason, size_t size);

/* Metric families of the bus (created once). */
struct bus_metrics {
  struct metric_family *outbox_backlog;  /* {service} */
  struct metric_family *outbox_age;      /* {service} */
  struct metric_family *published;       /* {service} */
  struct metric_family *publish_latency; /* {service} */
  struct metric_family *queue_depth;     /* {service} */
  struct metric_family *consumed;        /* {service, outcome} */
  struct metric_family *redeliveries;    /* {service} */
  struct metric_family *dead_letters;    /* {service} */
};
const struct bus_metrics *bus_metrics(void);

void *bus_consumer_main(void *arg);
void *bus_listener_main(void *arg);

/* Declares svc's queues and bindings now (one short-lived connection,
 * BUS_START_DECLARE_MS at most), so that events published once the service
 * answers already reach it. KIT_OK, or a failure the consumer thread makes
 * up for when RabbitMQ comes. */
#define BUS_START_DECLARE_MS 2000
int bus_consumer_declare(struct service *svc);

#endif
