/* ratelimit.c - token buckets: one Lua script in Redis, a local table when
 * Redis is away.
 *
 * The script reads the bucket (a hash: tokens, ts), refills it by the time
 * elapsed on Redis's own clock, takes a token when one is there, writes it
 * back with an expiry of one refill window (an idle bucket is simply full),
 * and answers {allowed, remaining, retry_after_ms, reset_ms}. It is loaded
 * once with SCRIPT LOAD and run with EVALSHA; a Redis that restarted and
 * forgot it answers NOSCRIPT, and the script is loaded again.
 *
 * The local table is a fixed array of buckets addressed by a hash of the key
 * with a short linear probe; when the probe finds neither the key nor a free
 * slot, the least recently used slot of the probe is taken over (that client
 * gets a fresh bucket: generous, and only while Redis is down).
 *
 * Leases: a round trip to Redis per request made the limiter the gateway's
 * bottleneck (the HTTP threads sat blocked on it; removing it doubled the
 * edge's req/s). For a hot key (more than HOT_HITS requests in the last
 * LEASE_MS) with a large budget the script takes a small batch of tokens at
 * once (limit / LEASE_DIVISOR, at most LEASE_MAX) and this process spends
 * them locally, one per request, for at most LEASE_MS. The tokens are
 * really taken from the shared bucket, so no replica ever grants more than
 * Redis gave out; a lease's unspent tokens just lapse (the client's budget
 * is then a little smaller, never larger). A cold key, or a budget below
 * LEASE_DIVISOR * 2 (the default 100 per minute, the tests' small classes),
 * costs a Redis call per request, as before: for those a round trip is
 * cheap in aggregate, and Redis sees each request (an outage is noticed on
 * the next one). RateLimit-Remaining is Redis's remaining at the lease plus
 * what is left of the lease: what a per-request call would have said.
 */
#include "kit/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/breaker.h"
#include "kit/err.h"
#include "kit/log.h"
#include "kit/metrics.h"

#define LOCAL_SLOTS 4096
#define LOCAL_PROBE 8
#define LOCAL_KEY_MAX 128
/* After a Redis failure, the local buckets decide for this long before
 * Redis is tried again (each try may cost a connect timeout). */
#define REDIS_RETRY_MS 3000
/* Leases (see the file comment): a batch is this fraction of the budget,
 * at most LEASE_MAX tokens, and lapses after LEASE_MS. */
#define LEASE_DIVISOR 1000
#define LEASE_MAX 256
#define LEASE_MS 1000
#define LEASE_SLOTS 1024
#define HOT_HITS 100

static const char script[] =
    "local limit = tonumber(ARGV[1])\n"
    "local window = tonumber(ARGV[2])\n"
    "local want = tonumber(ARGV[3]) or 1\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local s = redis.call('HMGET', KEYS[1], 'tokens', 'ts')\n"
    "local tokens = tonumber(s[1])\n"
    "local ts = tonumber(s[2])\n"
    "if tokens == nil or ts == nil then tokens = limit; ts = now end\n"
    "local rate = limit / window\n"
    "local elapsed = now - ts\n"
    "if elapsed < 0 then elapsed = 0 end\n"
    "tokens = math.min(limit, tokens + elapsed * rate)\n"
    "local allowed = 0\n"
    "local retry = 0\n"
    "if tokens >= 1 then\n"
    "  allowed = math.min(want, math.floor(tokens))\n"
    "  tokens = tokens - allowed\n"
    "else\n"
    "  retry = math.ceil((1 - tokens) / rate)\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', "
    "tostring(now))\n"
    "redis.call('PEXPIRE', KEYS[1], window)\n"
    "local reset = math.ceil((limit - tokens) / rate)\n"
    "return {allowed, math.floor(tokens), retry, reset}\n";

struct local_slot {
  char key[LOCAL_KEY_MAX];
  struct ratelimit_bucket bucket;
};

/* Tokens taken from Redis in advance for one key (see the file comment). */
struct lease {
  char key[LOCAL_KEY_MAX]; /* "" when free */
  long limit, window_ms;   /* the budget the tokens were taken under */
  long tokens;             /* still to spend */
  long redis_remaining;    /* Redis's whole tokens left after the batch */
  int64_t expires_ms;
  int64_t hits_since_ms; /* requests of key counted from then on ... */
  long hits;             /* ... restarting every LEASE_MS: hot or cold */
};

struct ratelimit {
  struct kv_pool *kv;
  pthread_mutex_t lock; /* guards sha and slots */
  char sha[48];         /* "" until loaded */
  /* Read on every request: an atomic rather than the lock. */
  _Atomic int64_t local_until_ms;
  struct local_slot *slots;
  pthread_mutex_t lease_lock; /* guards leases */
  struct lease *leases;
  struct metric_family *decisions;
};

/* --- the bucket ----------------------------------------------------------- */

static long ceil_div_s(double ms) {
  if (ms <= 0) return 0;
  return (long)ceil(ms / 1000.0);
}

void ratelimit_bucket_take(struct ratelimit_bucket *b, long limit,
                           long window_ms, int64_t now_ms,
                           struct ratelimit_decision *out) {
  double rate = (double)limit / (double)window_ms; /* tokens per ms */
  if (b->updated_ms < 0) {
    b->tokens = (double)limit;
    b->updated_ms = now_ms;
  }
  int64_t elapsed = now_ms - b->updated_ms;
  if (elapsed < 0) elapsed = 0;
  b->tokens = fmin((double)limit, b->tokens + (double)elapsed * rate);
  b->updated_ms = now_ms;

  memset(out, 0, sizeof *out);
  out->limit = limit;
  if (b->tokens >= 1.0) {
    b->tokens -= 1.0;
    out->allowed = true;
  } else {
    out->retry_after_s = ceil_div_s((1.0 - b->tokens) / rate);
    if (out->retry_after_s < 1) out->retry_after_s = 1;
  }
  out->remaining = (long)floor(b->tokens);
  out->reset_s = ceil_div_s(((double)limit - b->tokens) / rate);
}

/* --- life cycle ----------------------------------------------------------- */

static double local_active_value(void *arg) {
  return ratelimit_local_active(arg) ? 1.0 : 0.0;
}

struct ratelimit *ratelimit_create(struct kv_pool *kv) {
  struct ratelimit *rl = calloc(1, sizeof *rl);
  if (rl == NULL) return NULL;
  rl->slots = calloc(LOCAL_SLOTS, sizeof *rl->slots);
  rl->leases = calloc(LEASE_SLOTS, sizeof *rl->leases);
  if (rl->slots == NULL || rl->leases == NULL) {
    free(rl->slots);
    free(rl->leases);
    free(rl);
    return NULL;
  }
  for (size_t i = 0; i < LOCAL_SLOTS; i++)
    rl->slots[i].bucket.updated_ms = -1;
  atomic_init(&rl->local_until_ms, 0);
  pthread_mutex_init(&rl->lock, NULL);
  pthread_mutex_init(&rl->lease_lock, NULL);
  rl->kv = kv;
  static const char *const labels[] = {"backend", "result", NULL};
  rl->decisions = metric_family("ratelimit_decisions_total",
                                "Rate-limit decisions by backend and result",
                                METRIC_COUNTER, labels, NULL, 0);
  metric_gauge_callback(
      metric_family("ratelimit_local_active",
                    "1 while Redis is unreachable and the in-process "
                    "limiter decides",
                    METRIC_GAUGE, (const char *const[]){NULL}, NULL, 0),
      (const char *const[]){NULL}, local_active_value, rl);
  return rl;
}

void ratelimit_destroy(struct ratelimit *rl) {
  if (rl == NULL) return;
  /* Withdraw the gauge before its argument goes. */
  metric_gauge_callback(metric_family("ratelimit_local_active", "",
                                      METRIC_GAUGE, (const char *const[]){NULL},
                                      NULL, 0),
                        (const char *const[]){NULL}, NULL, NULL);
  pthread_mutex_destroy(&rl->lock);
  pthread_mutex_destroy(&rl->lease_lock);
  free(rl->slots);
  free(rl->leases);
  free(rl);
}

bool ratelimit_local_active(struct ratelimit *rl) {
  if (rl->kv == NULL) return true;
  return clock_monotonic_ms() < atomic_load(&rl->local_until_ms);
}

/* --- local buckets
 * ------------------------------------------------------------ */

static uint64_t hash_key(const char *s) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *s != '\0'; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ULL;
  }
  return h;
}

static void take_local(struct ratelimit *rl, const char *key, long limit,
                       long window_ms, struct ratelimit_decision *out) {
  char k[LOCAL_KEY_MAX];
  snprintf(k, sizeof k, "%s", key);
  int64_t now = clock_monotonic_ms();
  size_t start = (size_t)(hash_key(k) % LOCAL_SLOTS);
  pthread_mutex_lock(&rl->lock);
  struct local_slot *slot = NULL, *oldest = NULL;
  for (size_t i = 0; i < LOCAL_PROBE && slot == NULL; i++) {
    struct local_slot *s = &rl->slots[(start + i) % LOCAL_SLOTS];
    if (s->key[0] == '\0' || strcmp(s->key, k) == 0)
      slot = s;
    else if (oldest == NULL || s->bucket.updated_ms < oldest->bucket.updated_ms)
      oldest = s;
  }
  if (slot == NULL) slot = oldest;
  if (strcmp(slot->key, k) != 0) {
    memcpy(slot->key, k, sizeof k);
    slot->bucket.updated_ms = -1;
  }
  ratelimit_bucket_take(&slot->bucket, limit, window_ms, now, out);
  pthread_mutex_unlock(&rl->lock);
  out->local = true;
}

/* --- Redis -------------------------------------------------------------------
 */

/* Loads the script; KIT_OK with rl->sha set. Called with rl->lock not held. */
static int load_script(struct ratelimit *rl) {
  const char *argv[] = {"SCRIPT", "LOAD", script};
  struct kv_reply *r = NULL;
  int rc = kv_command(rl->kv, &r, 3, argv, NULL);
  if (rc != KIT_OK) return rc;
  if (r->type != KV_STRING || r->len == 0 || r->len >= sizeof rl->sha) {
    log_error("rate limiter: SCRIPT LOAD answered %s",
              r->type == KV_ERROR ? r->str : "something unexpected");
    kv_reply_free(r);
    return KIT_ERROR;
  }
  pthread_mutex_lock(&rl->lock);
  memcpy(rl->sha, r->str, r->len + 1);
  pthread_mutex_unlock(&rl->lock);
  kv_reply_free(r);
  return KIT_OK;
}

/* One EVALSHA taking up to want tokens. KIT_OK with *out filled (remaining
 * is what Redis keeps after the batch) and *granted the tokens taken (0 when
 * refused); KIT_NOT_FOUND on NOSCRIPT; another failure when Redis is away or
 * answered nonsense. */
static int take_redis_once(struct ratelimit *rl, const char *sha,
                           const char *key, long limit, long window_ms,
                           long want, long *granted,
                           struct ratelimit_decision *out) {
  char limit_s[24], window_s[24], want_s[24];
  snprintf(limit_s, sizeof limit_s, "%ld", limit);
  snprintf(window_s, sizeof window_s, "%ld", window_ms);
  snprintf(want_s, sizeof want_s, "%ld", want);
  const char *argv[] = {"EVALSHA", sha, "1", key, limit_s, window_s, want_s};
  struct kv_reply *r = NULL;
  int rc = kv_command(rl->kv, &r, 7, argv, NULL);
  if (rc != KIT_OK) return rc;
  if (r->type == KV_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
    kv_reply_free(r);
    return KIT_NOT_FOUND;
  }
  if (r->type != KV_ARRAY || r->count != 4) {
    log_error("rate limiter: the script answered %s",
              r->type == KV_ERROR ? r->str : "something unexpected");
    kv_reply_free(r);
    return KIT_ERROR;
  }
  for (size_t i = 0; i < 4; i++) {
    if (r->elements[i].type != KV_INTEGER) {
      kv_reply_free(r);
      return KIT_ERROR;
    }
  }
  memset(out, 0, sizeof *out);
  *granted = (long)r->elements[0].integer;
  if (*granted < 0 || *granted > want) *granted = 0;
  out->allowed = *granted >= 1;
  out->limit = limit;
  out->remaining = (long)r->elements[1].integer;
  out->retry_after_s = ceil_div_s((double)r->elements[2].integer);
  if (!out->allowed && out->retry_after_s < 1) out->retry_after_s = 1;
  out->reset_s = ceil_div_s((double)r->elements[3].integer);
  kv_reply_free(r);
  return KIT_OK;
}

static int take_redis(struct ratelimit *rl, const char *key, long limit,
                      long window_ms, long want, long *granted,
                      struct ratelimit_decision *out) {
  char sha[48];
  for (int attempt = 0; attempt < 2; attempt++) {
    pthread_mutex_lock(&rl->lock);
    snprintf(sha, sizeof sha, "%s", rl->sha);
    pthread_mutex_unlock(&rl->lock);
    if (sha[0] == '\0') {
      int rc = load_script(rl);
      if (rc != KIT_OK) return rc;
      continue;
    }
    int rc = take_redis_once(rl, sha, key, limit, window_ms, want, granted,
                             out);
    if (rc != KIT_NOT_FOUND) return rc;
    pthread_mutex_lock(&rl->lock); /* Redis forgot it: load it again */
    rl->sha[0] = '\0';
    pthread_mutex_unlock(&rl->lock);
  }
  return KIT_ERROR;
}

/* --- leases ------------------------------------------------------------------
 */

/* Tokens to take from Redis at once for this budget (1: no lease). */
static long lease_size(long limit) {
  long n = limit / LEASE_DIVISOR;
  if (n < 1) return 1;
  return n > LEASE_MAX ? LEASE_MAX : n;
}

/* A slot nobody needs: free, or neither tokens to spend nor requests
 * counted in the current LEASE_MS. */
static bool lease_idle(const struct lease *l, int64_t now) {
  if (l->key[0] == '\0') return true;
  bool spendable = l->tokens > 0 && now < l->expires_ms;
  return !spendable && now - l->hits_since_ms >= LEASE_MS;
}

/* The lease slot of key (*own true), else the slot of the probe to take
 * over: an idle one, or the least busy. Called with lease_lock held. */
static struct lease *lease_slot(struct ratelimit *rl, const char *key,
                                int64_t now, bool *own) {
  size_t start = (size_t)(hash_key(key) % LEASE_SLOTS);
  struct lease *spare = NULL;
  for (size_t i = 0; i < LOCAL_PROBE; i++) {
    struct lease *l = &rl->leases[(start + i) % LEASE_SLOTS];
    if (strcmp(l->key, key) == 0) {
      *own = true;
      return l;
    }
    if (lease_idle(l, now)) {
      if (spare == NULL || !lease_idle(spare, now)) spare = l;
    } else if (spare == NULL ||
               (!lease_idle(spare, now) && l->hits < spare->hits)) {
      spare = l;
    }
  }
  *own = false;
  return spare;
}

/* The decision for a request served from tokens already taken from Redis:
 * remaining counts the lease's tokens, as Redis would if it still held
 * them; reset is when that many would have refilled. */
static void lease_decision(const struct lease *l, struct ratelimit_decision *out) {
  memset(out, 0, sizeof *out);
  out->allowed = true;
  out->limit = l->limit;
  out->remaining = l->redis_remaining + l->tokens;
  if (out->remaining > l->limit) out->remaining = l->limit;
  double rate = (double)l->limit / (double)l->window_ms;
  out->reset_s = ceil_div_s((double)(l->limit - out->remaining) / rate);
}

/* Spends one leased token of key: true with *out filled when there was
 * one. Otherwise counts the request and sets *want, the tokens to ask Redis
 * for: a batch when the key is hot, else 1. */
static bool take_leased(struct ratelimit *rl, const char *key, long limit,
                        long window_ms, long *want,
                        struct ratelimit_decision *out) {
  int64_t now = clock_monotonic_ms();
  bool own = false, taken = false;
  pthread_mutex_lock(&rl->lease_lock);
  struct lease *l = lease_slot(rl, key, now, &own);
  if (!own) {
    memset(l, 0, sizeof *l);
    snprintf(l->key, sizeof l->key, "%s", key);
    l->hits_since_ms = now;
  }
  if (now - l->hits_since_ms >= LEASE_MS) {
    l->hits_since_ms = now;
    l->hits = 0;
  }
  l->hits++;
  if (l->tokens > 0 && now < l->expires_ms && l->limit == limit &&
      l->window_ms == window_ms) {
    l->tokens--;
    lease_decision(l, out);
    taken = true;
  } else {
    *want = l->hits > HOT_HITS ? lease_size(limit) : 1;
  }
  pthread_mutex_unlock(&rl->lease_lock);
  return taken;
}

/* Keeps the tokens of a batch beyond the one this request used (granted - 1)
 * and rewrites *out to count them as remaining. A refusal ends the key's
 * lease: the shared bucket is empty. */
static void keep_lease(struct ratelimit *rl, const char *key, long limit,
                       long window_ms, long granted,
                       struct ratelimit_decision *out) {
  int64_t now = clock_monotonic_ms();
  bool own = false;
  pthread_mutex_lock(&rl->lease_lock);
  struct lease *l = lease_slot(rl, key, now, &own);
  if (!out->allowed) {
    if (own) l->tokens = 0;
    goto unlock;
  }
  if (granted <= 1) goto unlock; /* nothing to keep */
  if (!own) { /* taken over since take_leased: start afresh */
    memset(l, 0, sizeof *l);
    snprintf(l->key, sizeof l->key, "%s", key);
    l->hits_since_ms = now;
  }
  if (now >= l->expires_ms || l->limit != limit || l->window_ms != window_ms) {
    l->limit = limit;
    l->window_ms = window_ms;
    l->tokens = 0;
  }
  /* Several threads may have fetched a batch at once: pool them. */
  l->tokens += granted - 1;
  l->redis_remaining = out->remaining;
  l->expires_ms = now + LEASE_MS;
  lease_decision(l, out);
unlock:
  pthread_mutex_unlock(&rl->lease_lock);
}

void ratelimit_take(struct ratelimit *rl, const char *key, long limit,
                    long window_ms, struct ratelimit_decision *out) {
  if (limit < 1) limit = 1;
  if (window_ms < 1) window_ms = 1;
  bool use_local = ratelimit_local_active(rl);
  if (!use_local) {
    /* A small budget, or a key too long for the table, is never leased. */
    bool leasable = lease_size(limit) > 1 && strlen(key) < LOCAL_KEY_MAX;
    long want = 1, granted = 0;
    if (leasable && take_leased(rl, key, limit, window_ms, &want, out))
      goto count;
    int rc = take_redis(rl, key, limit, window_ms, want, &granted, out);
    if (rc == KIT_OK && want > 1)
      keep_lease(rl, key, limit, window_ms, granted, out);
    if (rc != KIT_OK) {
      int64_t now = clock_monotonic_ms();
      bool was_local =
          now < atomic_exchange(&rl->local_until_ms, now + REDIS_RETRY_MS);
      if (!was_local)
        log_warn("rate limiter: Redis unreachable; the in-process limiter "
                 "decides for the next %d ms",
                 REDIS_RETRY_MS);
      use_local = true;
    }
  }
  if (use_local) take_local(rl, key, limit, window_ms, out);
count:;
  const char *const labels[] = {out->local ? "local" : "redis",
                                out->allowed ? "allowed" : "limited"};
  metric_inc(rl->decisions, labels, 1);
}
