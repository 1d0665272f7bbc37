/* service.c - the runtime that hosts service modules in one process.
 *
 * For each module: open the pools it needs, build its router (its routes and
 * the health routes), register it with the process client for in-process
 * calls, run its start hook, listen on its port. Then wait for SIGINT or
 * SIGTERM and shut down in reverse: stop accepting, let in-flight requests
 * finish within the grace period, stop hooks, close pools.
 */
#include "kit/service.h"
#include "kit/trace.h"

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kit/auth.h"
#include "kit/breaker.h"
#include "kit/log.h"
#include "kit/metrics.h"
#include "kit/mq.h"

/* --- health routes ------------------------------------------------------ */

static void handle_healthz(struct http_request *req, struct http_response *res) {
  struct service *svc = req->svc;
  json_t *body = json_pack("{s:s, s:s, s:i, s:I}", "status", "ok", "service",
                           svc->name, "pid", (int)getpid(), "uptime_s",
                           (json_int_t)(time(NULL) - svc->started_at));
  http_reply_json(res, 200, body);
  json_decref(body);
}

/* RabbitMQ answers are cached briefly: a login per probe is wasteful and
 * probes come every few seconds from several places. */
static pthread_mutex_t mq_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t mq_checked_at_ms = -1;
static int mq_cached_rc = KIT_UNAVAILABLE;
static char mq_cached_reason[160];

static int check_mq(const struct config *cfg, char *reason, size_t size) {
  pthread_mutex_lock(&mq_cache_lock);
  int64_t now = clock_monotonic_ms();
  if (mq_checked_at_ms < 0 || now - mq_checked_at_ms > 1000) {
    mq_cached_reason[0] = '\0';
    mq_cached_rc = mq_ping(cfg->amqp_url, 2000, mq_cached_reason,
                           sizeof mq_cached_reason);
    mq_checked_at_ms = clock_monotonic_ms();
  }
  int rc = mq_cached_rc;
  snprintf(reason, size, "%s", mq_cached_reason);
  pthread_mutex_unlock(&mq_cache_lock);
  return rc;
}

static void add_check(json_t *checks, const char *name, int rc,
                      const char *reason, char *details, size_t details_size,
                      bool *ready) {
  if (rc == KIT_OK) {
    json_object_set_new(checks, name, json_string("ok"));
    return;
  }
  *ready = false;
  json_object_set_new(checks, name, json_string(reason[0] ? reason : "down"));
  size_t len = strlen(details);
  snprintf(details + len, details_size - len, "%s%s: %s", len ? "; " : "",
           name, reason[0] ? reason : "down");
}

static void handle_readyz(struct http_request *req, struct http_response *res) {
  struct service *svc = req->svc;
  json_t *checks = json_object();
  char details[512] = "";
  char reason[160];
  bool ready = true;

  if (svc->db != NULL) {
    reason[0] = '\0';
    int rc = db_ping(svc->db, reason, sizeof reason);
    add_check(checks, "postgres", rc, reason, details, sizeof details, &ready);
  }
  if (svc->kv != NULL) {
    reason[0] = '\0';
    int rc = kv_ping(svc->kv, reason, sizeof reason);
    add_check(checks, "redis", rc, reason, details, sizeof details, &ready);
  }
  if (svc->module->needs & NEEDS_AMQP) {
    reason[0] = '\0';
    int rc = check_mq(svc->cfg, reason, sizeof reason);
    add_check(checks, "rabbitmq", rc, reason, details, sizeof details, &ready);
  }

  json_t *body;
  if (ready) {
    body = json_pack("{s:s, s:s, s:o}", "status", "ready", "service",
                     svc->name, "checks", checks);
  } else {
    body = json_pack("{s:s, s:s, s:o, s:{s:s, s:s, s:s}, s:s}", "status",
                     "unavailable", "service", svc->name, "checks", checks,
                     "error", "code", api_error_code(API_SERVICE_UNAVAILABLE),
                     "message", "a dependency is unreachable", "details",
                     details, "trace_id", req->trace_id);
  }
  http_reply_json(res, ready ? 200 : 503, body);
  json_decref(body);
}

static void handle_metrics(struct http_request *req, struct http_response *res) {
  size_t len = 0;
  char *text = metrics_render(&len);
  if (text == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "cannot render metrics",
                     NULL);
    return;
  }
  http_reply_take(res, 200, "text/plain; version=0.0.4; charset=utf-8", text,
                  len);
}

const struct route service_health_routes[] = {
    {"GET", "/healthz", handle_healthz, ACCESS_PUBLIC},
    {"GET", "/readyz", handle_readyz, ACCESS_PUBLIC},
    {"GET", "/metrics", handle_metrics, ACCESS_PUBLIC},
};
const size_t service_health_route_count =
    sizeof service_health_routes / sizeof service_health_routes[0];

/* --- pool figures -------------------------------------------------------- */

static double db_in_use_value(void *arg) { return db_pool_in_use(arg); }
static double db_size_value(void *arg) { return db_pool_size(arg); }

/* Registers (pool != NULL) or withdraws (pool == NULL) the pool gauges;
 * withdrawn before the pool closes so a late scrape never reads freed memory. */
static void set_pool_metrics(struct service *svc, struct db_pool *pool) {
  static const char *const labels[] = {"service", NULL};
  const char *const values[] = {svc->name};
  metric_gauge_callback(metric_family("db_pool_connections_in_use",
                                      "Database connections checked out",
                                      METRIC_GAUGE, labels, NULL, 0),
                        values, pool ? db_in_use_value : NULL, pool);
  metric_gauge_callback(metric_family("db_pool_connections",
                                      "Database pool size", METRIC_GAUGE,
                                      labels, NULL, 0),
                        values, pool ? db_size_value : NULL, pool);
}

/* --- life cycle ---------------------------------------------------------- */

static int open_service(struct service *svc, const struct service_module *mod,
                        const struct config *cfg, struct client *client) {
  svc->module = mod;
  svc->name = service_name(mod->id);
  svc->cfg = cfg;
  svc->client = client;
  svc->started_at = time(NULL);

  if (mod->needs & NEEDS_DB) {
    char schema[64];
    service_schema_name(mod->id, schema, sizeof schema);
    if (db_pool_open(&svc->db, cfg->database_url, schema, cfg->db_pool_size,
                     mod->statements, mod->statement_count) != KIT_OK) {
      log_error("%s: cannot create the database pool", svc->name);
      return KIT_ERROR;
    }
  }
  if (mod->needs & NEEDS_REDIS) {
    if (kv_pool_open(&svc->kv, cfg->redis_url, cfg->redis_pool_size, 2000) !=
        KIT_OK) {
      log_error("%s: cannot create the Redis pool", svc->name);
      return KIT_ERROR;
    }
  }
  if (mod->route_count > 0) router_add(&svc->router, mod->routes, mod->route_count);
  router_add(&svc->router, service_health_routes, service_health_route_count);
  if (svc->db != NULL) set_pool_metrics(svc, svc->db);
  client_register_local(client, mod->id, svc);
  return KIT_OK;
}

static void close_service(struct service *svc) {
  if (svc->module == NULL) return;
  if (svc->db != NULL) {
    set_pool_metrics(svc, NULL);
    db_pool_close(svc->db);
  }
  if (svc->kv != NULL) kv_pool_close(svc->kv);
  svc->db = NULL;
  svc->kv = NULL;
}

int service_run_all(const struct config *cfg,
                    const struct service_module *const *modules,
                    size_t count) {
  int exit_code = 1;
  size_t started = 0;
  struct service *svcs = calloc(count, sizeof *svcs);
  struct client *client = client_create(cfg);
  if (svcs == NULL || client == NULL) goto cleanup;
  if (trace_init(cfg) != KIT_OK) goto cleanup;

  /* Signals are taken by sigwait() in this thread only; every thread created
   * from here on inherits the block. */
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
  signal(SIGPIPE, SIG_IGN);

  for (size_t i = 0; i < count; i++) {
    if (open_service(&svcs[i], modules[i], cfg, client) != KIT_OK) goto cleanup;
  }
  if (auth_init(cfg, client) != KIT_OK) goto cleanup;
  for (size_t i = 0; i < count; i++) {
    struct service *svc = &svcs[i];
    log_context_set(svc->name, NULL, NULL);
    if (svc->module->start != NULL && svc->module->start(svc) != KIT_OK) {
      log_error("start-up failed");
      goto cleanup;
    }
    started = i + 1;
    atomic_store(&svc->ready, true);
    if (bus_start(svc) != KIT_OK) {
      log_error("cannot start the event bus");
      goto cleanup;
    }
  }
  for (size_t i = 0; i < count; i++) {
    struct service *svc = &svcs[i];
    log_context_set(svc->name, NULL, NULL);
    struct http_server_options opt = {
        .service_name = svc->name,
        .bind_address = cfg->bind_address,
        .port = cfg->ports[svc->module->id],
        .threads = cfg->http_threads,
        .max_body_bytes = cfg->max_body_bytes,
        .max_header_bytes = cfg->max_header_bytes,
        .connection_timeout_s = cfg->connection_timeout_s,
        .max_connections = cfg->max_connections,
    };
    svc->http = http_server_start(&opt, &svc->router, svc);
    if (svc->http == NULL) goto cleanup;
  }
  log_context_clear();
  log_info("serving %zu service(s); SIGINT or SIGTERM stops", count);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log_info("received %s: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  exit_code = 0;

cleanup:
  log_context_clear();
  if (svcs != NULL) {
    for (size_t i = 0; i < count; i++) http_server_quiesce(svcs[i].http);
    for (size_t i = 0; i < count; i++) {
      http_server_stop(svcs[i].http, cfg->shutdown_grace_ms);
      svcs[i].http = NULL;
    }
    for (size_t i = 0; i < started; i++) atomic_store(&svcs[i].ready, false);
    for (size_t i = started; i-- > 0;) {
      bus_stop(&svcs[i]);
      if (svcs[i].module->stop != NULL) svcs[i].module->stop(&svcs[i]);
    }
    for (size_t i = 0; i < count; i++) close_service(&svcs[i]);
  }
  auth_shutdown();
  trace_shutdown(); /* after the consumers: their last spans go out too */
  client_destroy(client);
  free(svcs);
  if (exit_code == 0) log_info("stopped cleanly");
  return exit_code;
}
