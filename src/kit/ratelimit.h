/* ratelimit.h - token buckets per client, in Redis with an in-process fallback.
 *
 * A bucket holds up to `limit` tokens and refills continuously at `limit`
 * tokens per window (a minute at the gateway), so a client may burst its
 * whole budget and then goes at the refill rate. Each request takes one
 * token. The shared buckets live in Redis and are updated by one Lua script
 * (atomic, Redis's clock), so every gateway replica sees the same budget.
 * When Redis cannot be reached the limiter decides from buckets in this
 * process instead (each replica then grants the budget on its own), retries
 * Redis a few seconds later, and says so in the metrics:
 *   ratelimit_local_active            1 while the in-process buckets decide
 *   ratelimit_decisions_total{backend="redis"|"local",result="allowed"|"limited"}
 * Thread-safe.
 */
#ifndef SHOPSPHERE_KIT_RATELIMIT_H
#define SHOPSPHERE_KIT_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "kv.h"

struct ratelimit_decision {
  bool allowed;
  long limit;         /* the budget: tokens per window */
  long remaining;     /* whole tokens left after this request */
  long reset_s;       /* seconds until the bucket is full again */
  long retry_after_s; /* when refused: seconds until a token is back (>= 1) */
  bool local;         /* decided by the in-process fallback */
};

/* The pure bucket, for the fallback and for tests. updated_ms < 0 marks a
 * bucket never used (it starts full). */
struct ratelimit_bucket {
  double tokens;
  int64_t updated_ms;
};

/* Refills b to now_ms, takes one token if there is one, and describes the
 * outcome in *out. limit >= 1, window_ms >= 1. */
void ratelimit_bucket_take(struct ratelimit_bucket *b, long limit,
                           long window_ms, int64_t now_ms,
                           struct ratelimit_decision *out);

struct ratelimit;

/* kv (borrowed, may be NULL: local buckets only). Returns NULL when out of
 * memory. */
struct ratelimit *ratelimit_create(struct kv_pool *kv);
void ratelimit_destroy(struct ratelimit *rl);

/* Takes one token from the bucket named key (the caller composes it, e.g.
 * "read:ip:10.0.0.1"). Always fills *out: Redis decides when reachable, the
 * local buckets otherwise. */
void ratelimit_take(struct ratelimit *rl, const char *key, long limit,
                    long window_ms, struct ratelimit_decision *out);

/* true while the local buckets stand in for Redis. */
bool ratelimit_local_active(struct ratelimit *rl);

#endif
