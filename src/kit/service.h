/* service.h - a service module and the runtime that serves it.
 *
 * Each service folder exports one struct service_module: its routes, the
 * infrastructure it needs, its SQL statements and start/stop hooks. The
 * runtime opens its pools, adds /healthz, /readyz and /metrics, starts its
 * HTTP server on its port and registers it with the process client, so one
 * process can host one service (a pod) or all of them (a laptop).
 */
#ifndef SHOPSPHERE_KIT_SERVICE_H
#define SHOPSPHERE_KIT_SERVICE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "bus.h"
#include "client.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "kv.h"

enum service_needs {
  NEEDS_DB = 1 << 0,
  NEEDS_REDIS = 1 << 1,
  NEEDS_AMQP = 1 << 2,
};

struct service;

struct service_module {
  enum service_id id;
  const char *summary; /* one line for --help */
  unsigned needs;      /* enum service_needs bits */
  const struct route *routes;
  size_t route_count;
  const struct db_statement *statements;
  size_t statement_count;
  const struct event_handler *events; /* consumed events (bus.h) */
  size_t event_count;
  /* The handlers build a read model that the event log can rebuild
   * (docs/events.md, "Replay"): `shopsphere events replay --to` accepts the
   * service, and `--reset` first runs read_model_reset (SQL emptying exactly
   * the read-model tables, never the service's own records) and empties the
   * inbox in the same transaction, so the replay applies every event again.
   * A handler that writes a table the reset keeps must be keyed by the
   * event (a replay after a reset runs it again). */
  bool read_model_rebuildable;
  const char *read_model_reset;
  /* Events heard by every process of the service (bus.h, bus_listener). */
  const struct bus_listener *listeners;
  size_t listener_count;
  /* Called after pools are open and before the server listens; may set
   * svc->state. Returns KIT_OK or a failure that stops start-up. */
  int (*start)(struct service *svc);
  /* Called after the server stopped; frees svc->state. */
  void (*stop)(struct service *svc);
};

struct service {
  const struct service_module *module;
  const char *name;
  const struct config *cfg;
  struct db_pool *db;    /* NULL unless NEEDS_DB */
  struct kv_pool *kv;    /* NULL unless NEEDS_REDIS */
  struct client *client; /* the process's client (shared) */
  struct router router;
  struct http_server *http;
  void *state;       /* the module's own */
  atomic_bool ready; /* start hook done, stop hook not begun: in-process
                        calls are dispatched only while true */
  time_t started_at;
};

/* Runs the given modules in this process until SIGINT/SIGTERM, then shuts
 * down gracefully (stop accepting, drain within the grace period, close
 * pools). Returns a process exit code. */
int service_run_all(const struct config *cfg,
                    const struct service_module *const *modules, size_t count);

/* The health routes every service has; the runtime adds them. */
extern const struct route service_health_routes[];
extern const size_t service_health_route_count;

#endif
