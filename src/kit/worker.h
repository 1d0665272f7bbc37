/* worker.h - a background thread that runs a job every interval.
 *
 * Sweepers (expired reservations, interrupted sagas, payment reconciliation,
 * courier progression) all need the same thing: call fn every interval_ms
 * until stopped, wake early on demand, stop promptly at shutdown.
 */
#ifndef SHOPSPHERE_KIT_WORKER_H
#define SHOPSPHERE_KIT_WORKER_H

#include <pthread.h>
#include <stdbool.h>

typedef void (*worker_fn)(void *arg);

struct worker {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  bool running;
  bool stopping;
  bool kicked;
  int interval_ms;
  worker_fn fn;
  void *arg;
  char name[32];
  char service[48]; /* log context of the thread */
};

/* Starts a thread that calls fn(arg) every interval_ms (the first call after
 * one interval). service names the log context. Returns KIT_OK or KIT_ERROR. */
int worker_start(struct worker *w, const char *service, const char *name,
                 int interval_ms, worker_fn fn, void *arg);

/* Makes the next run happen now. */
void worker_kick(struct worker *w);

/* Stops the thread after its current run; a no-op on a worker never started. */
void worker_stop(struct worker *w);

/* true when stop was asked: long runs check it between items. */
bool worker_stopping(struct worker *w);

#endif
