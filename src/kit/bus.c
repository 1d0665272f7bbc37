/* bus.c - PLACEHOLDER until the event bus lands (issue 3): emitting fails
 * loudly so no caller believes an event was recorded. */
#include "kit/bus.h"

#include "kit/err.h"
#include "kit/log.h"

int bus_emit(struct db_conn *conn, const char *event_type,
             const char *aggregate_id, const void *data) {
  (void)conn, (void)aggregate_id, (void)data;
  log_error("bus_emit(%s): the event bus is not built yet", event_type);
  return DB_HARD_ERROR;
}

int bus_start(struct service *svc) {
  (void)svc;
  return KIT_OK;
}

void bus_stop(struct service *svc) { (void)svc; }
