/* breaker.h - a circuit breaker per upstream, and retry backoff.
 *
 * The breaker counts outcomes in a rolling window. Closed: calls pass. When
 * at least `volume` calls in the window failed at `error_percent` or more, it
 * opens: calls are refused at once for `sleep_ms`. Then it half-opens: one
 * trial call passes; success closes it, failure opens it again. (Hystrix's
 * model, with the seed's defaults: 5 s timeout, 20 requests, 50 %, 30 s.)
 * Thread-safe. Time is passed in by the caller, so tests control it.
 */
#ifndef SHOPSPHERE_KIT_BREAKER_H
#define SHOPSPHERE_KIT_BREAKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

enum breaker_state { BREAKER_CLOSED = 0, BREAKER_OPEN, BREAKER_HALF_OPEN };

struct breaker {
  pthread_mutex_t lock;
  enum breaker_state state;
  int volume;          /* minimum calls in the window before it may trip */
  int error_percent;   /* failure share that trips it */
  int64_t sleep_ms;    /* time open before a trial */
  int64_t window_ms;   /* rolling window length (10 s) */
  int64_t window_start_ms;
  int calls;           /* in the current window */
  int failures;
  int64_t opened_at_ms;
  bool trial_in_flight;
};

void breaker_init(struct breaker *b, int volume, int error_percent,
                  int64_t sleep_ms);
void breaker_destroy(struct breaker *b);

/* Asks to make a call at now_ms. true: go ahead, then report the outcome with
 * breaker_record(); false: the breaker is open, fail fast (503). */
bool breaker_allow(struct breaker *b, int64_t now_ms);

/* Reports a call's outcome. A failure is a transport error, a timeout or a
 * 5xx; a 4xx is the caller's fault and counts as success. */
void breaker_record(struct breaker *b, bool success, int64_t now_ms);

enum breaker_state breaker_state(struct breaker *b, int64_t now_ms);
const char *breaker_state_name(enum breaker_state s);

/* Delay before retry number `attempt` (1-based): full jitter over an
 * exponential ceiling, base_ms * 2^(attempt-1) capped at max_ms, so the
 * result is in [0, min(max_ms, base_ms * 2^(attempt-1))]. random01 is a
 * uniform value in [0,1) supplied by the caller (tests pass fixed values). */
int64_t backoff_delay_ms(int attempt, int64_t base_ms, int64_t max_ms,
                         double random01);

/* A uniform double in [0,1) from libsodium's CSPRNG. */
double backoff_random01(void);

/* Monotonic clock in milliseconds. */
int64_t clock_monotonic_ms(void);

/* Wall clock in milliseconds since the Unix epoch. */
int64_t clock_wall_ms(void);

#endif
