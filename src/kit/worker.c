/* worker.c - periodic background jobs (see worker.h). */
#include "kit/worker.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kit/err.h"
#include "kit/log.h"

static void *worker_main(void *arg) {
  struct worker *w = arg;
  log_context_set(w->service, NULL, NULL);
  pthread_mutex_lock(&w->lock);
  while (!w->stopping) {
    if (!w->kicked) {
      struct timespec until;
      clock_gettime(CLOCK_MONOTONIC, &until);
      until.tv_sec += w->interval_ms / 1000;
      until.tv_nsec += (long)(w->interval_ms % 1000) * 1000000L;
      if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
      }
      int rc = 0;
      while (!w->stopping && !w->kicked && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&w->wake, &w->lock, &until);
    }
    if (w->stopping) break;
    w->kicked = false;
    pthread_mutex_unlock(&w->lock);
    w->fn(w->arg);
    pthread_mutex_lock(&w->lock);
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

int worker_start(struct worker *w, const char *service, const char *name,
                 int interval_ms, worker_fn fn, void *arg) {
  memset(w, 0, sizeof *w);
  w->interval_ms = interval_ms > 0 ? interval_ms : 1000;
  w->fn = fn;
  w->arg = arg;
  snprintf(w->name, sizeof w->name, "%s", name);
  snprintf(w->service, sizeof w->service, "%s", service ? service : "");
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&w->wake, &attr);
  pthread_condattr_destroy(&attr);
  pthread_mutex_init(&w->lock, NULL);
  if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
    log_error("cannot start worker %s", w->name);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    return KIT_ERROR;
  }
  w->running = true;
  return KIT_OK;
}

void worker_kick(struct worker *w) {
  if (!w->running) return;
  pthread_mutex_lock(&w->lock);
  w->kicked = true;
  pthread_cond_signal(&w->wake);
  pthread_mutex_unlock(&w->lock);
}

bool worker_stopping(struct worker *w) {
  pthread_mutex_lock(&w->lock);
  bool stopping = w->stopping;
  pthread_mutex_unlock(&w->lock);
  return stopping;
}

void worker_stop(struct worker *w) {
  if (!w->running) return;
  pthread_mutex_lock(&w->lock);
  w->stopping = true;
  pthread_cond_signal(&w->wake);
  pthread_mutex_unlock(&w->lock);
  pthread_join(w->thread, NULL);
  pthread_cond_destroy(&w->wake);
  pthread_mutex_destroy(&w->lock);
  w->running = false;
}
