/* breaker.c - circuit breaker per upstream, retry backoff and clocks (see
 * breaker.h).
 *
 * The window is a tumbling one: counts start at the first call after the
 * previous window ended and are dropped when window_ms has passed. That is
 * coarser than Hystrix's ten one-second buckets, but it needs no per-bucket
 * state and still forgets old failures within one window length.
 */
#include "breaker.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BREAKER_WINDOW_MS 10000
#define WINDOW_NONE INT64_MIN /* no call counted yet */

void breaker_init(struct breaker *b, int volume, int error_percent,
                  int64_t sleep_ms) {
  pthread_mutex_init(&b->lock, NULL);
  b->state = BREAKER_CLOSED;
  b->volume = volume > 0 ? volume : 1;
  b->error_percent = error_percent;
  b->sleep_ms = sleep_ms > 0 ? sleep_ms : 0;
  b->window_ms = BREAKER_WINDOW_MS;
  b->window_start_ms = WINDOW_NONE;
  b->calls = 0;
  b->failures = 0;
  b->opened_at_ms = 0;
  b->trial_in_flight = false;
}

void breaker_destroy(struct breaker *b) { pthread_mutex_destroy(&b->lock); }

/* Starts a fresh window at now_ms. Caller holds the lock. */
static void window_reset(struct breaker *b, int64_t now_ms) {
  b->window_start_ms = now_ms;
  b->calls = 0;
  b->failures = 0;
}

/* Drops the counts once the window has passed. Caller holds the lock. */
static void window_roll(struct breaker *b, int64_t now_ms) {
  if (b->window_start_ms == WINDOW_NONE ||
      now_ms - b->window_start_ms >= b->window_ms)
    window_reset(b, now_ms);
}

static void trip(struct breaker *b, int64_t now_ms) {
  b->state = BREAKER_OPEN;
  b->opened_at_ms = now_ms;
  b->trial_in_flight = false;
  window_reset(b, now_ms);
}

bool breaker_allow(struct breaker *b, int64_t now_ms) {
  bool allowed = false;
  pthread_mutex_lock(&b->lock);
  switch (b->state) {
  case BREAKER_CLOSED:
    window_roll(b, now_ms);
    allowed = true;
    break;
  case BREAKER_OPEN:
    if (now_ms - b->opened_at_ms >= b->sleep_ms) {
      /* opened_at_ms now marks the start of the trial. */
      b->state = BREAKER_HALF_OPEN;
      b->trial_in_flight = true;
      b->opened_at_ms = now_ms;
      allowed = true;
    }
    break;
  case BREAKER_HALF_OPEN:
    /* One trial at a time. A trial whose outcome never came back (its caller
     * died) must not keep the breaker shut forever: after another sleep_ms
     * it is presumed lost and a new trial may go. */
    if (!b->trial_in_flight || now_ms - b->opened_at_ms >= b->sleep_ms) {
      b->trial_in_flight = true;
      b->opened_at_ms = now_ms;
      allowed = true;
    }
    break;
  }
  pthread_mutex_unlock(&b->lock);
  return allowed;
}

void breaker_record(struct breaker *b, bool success, int64_t now_ms) {
  pthread_mutex_lock(&b->lock);
  switch (b->state) {
  case BREAKER_CLOSED:
    window_roll(b, now_ms);
    b->calls++;
    if (!success)
      b->failures++;
    if (b->calls >= b->volume &&
        (int64_t)b->failures * 100 >= (int64_t)b->error_percent * b->calls)
      trip(b, now_ms);
    break;
  case BREAKER_OPEN:
    /* A late answer to a call made before the breaker opened: no news. */
    break;
  case BREAKER_HALF_OPEN:
    if (success) {
      b->state = BREAKER_CLOSED;
      b->trial_in_flight = false;
      window_reset(b, now_ms);
    } else {
      trip(b, now_ms);
    }
    break;
  }
  pthread_mutex_unlock(&b->lock);
}

enum breaker_state breaker_state(struct breaker *b, int64_t now_ms) {
  pthread_mutex_lock(&b->lock);
  enum breaker_state s = b->state;
  /* Report what the next caller would see, without changing anything. */
  if (s == BREAKER_OPEN && now_ms - b->opened_at_ms >= b->sleep_ms)
    s = BREAKER_HALF_OPEN;
  pthread_mutex_unlock(&b->lock);
  return s;
}

const char *breaker_state_name(enum breaker_state s) {
  switch (s) {
  case BREAKER_CLOSED:
    return "closed";
  case BREAKER_OPEN:
    return "open";
  case BREAKER_HALF_OPEN:
    return "half_open";
  }
  return "unknown";
}

int64_t backoff_delay_ms(int attempt, int64_t base_ms, int64_t max_ms,
                         double random01) {
  if (base_ms < 0)
    base_ms = 0;
  if (max_ms < 0)
    max_ms = 0;
  if (attempt < 1)
    attempt = 1;

  /* ceiling = min(max_ms, base_ms * 2^(attempt-1)), without shifting past
   * 62 bits or overflowing on large attempts. */
  int shift = attempt - 1;
  int64_t ceiling;
  if (shift >= 62 || base_ms > (max_ms >> shift))
    ceiling = max_ms;
  else
    ceiling = base_ms << shift;
  if (ceiling > max_ms)
    ceiling = max_ms;

  /* Full jitter: floor(r * (ceiling + 1)) lies in [0, ceiling]. Anything out
   * of [0,1) (including NaN) is clamped rather than trusted. */
  if (!(random01 > 0.0))
    return 0;
  double d = random01 * ((double)ceiling + 1.0);
  if (!(d < (double)ceiling))
    return ceiling;
  return (int64_t)d;
}

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;

static void sodium_setup(void) {
  if (sodium_init() < 0) {
    fputs("breaker: sodium_init failed\n", stderr);
    abort();
  }
}

double backoff_random01(void) {
  pthread_once(&sodium_once, sodium_setup);
  uint64_t r;
  randombytes_buf(&r, sizeof r);
  /* The top 53 bits fill a double's mantissa exactly: uniform in [0,1). */
  return (double)(r >> 11) * (1.0 / 9007199254740992.0);
}

int64_t clock_monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
