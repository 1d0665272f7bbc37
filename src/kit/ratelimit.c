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
 */
#include "kit/ratelimit.h"

#include <math.h>
#include <pthread.h>
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

static const char script[] =
    "local limit = tonumber(ARGV[1])\n"
    "local window = tonumber(ARGV[2])\n"
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
    "  tokens = tokens - 1\n"
    "  allowed = 1\n"
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

struct ratelimit {
  struct kv_pool *kv;
  pthread_mutex_t lock; /* guards sha, local_until_ms and slots */
  char sha[48];         /* "" until loaded */
  int64_t local_until_ms;
  struct local_slot *slots;
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
  if (rl->slots == NULL) {
    free(rl);
    return NULL;
  }
  for (size_t i = 0; i < LOCAL_SLOTS; i++)
    rl->slots[i].bucket.updated_ms = -1;
  pthread_mutex_init(&rl->lock, NULL);
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
  free(rl->slots);
  free(rl);
}

bool ratelimit_local_active(struct ratelimit *rl) {
  if (rl->kv == NULL) return true;
  pthread_mutex_lock(&rl->lock);
  bool active = clock_monotonic_ms() < rl->local_until_ms;
  pthread_mutex_unlock(&rl->lock);
  return active;
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

/* One EVALSHA. KIT_OK with *out filled; KIT_NOT_FOUND on NOSCRIPT; another
 * failure when Redis is away or answered nonsense. */
static int take_redis_once(struct ratelimit *rl, const char *sha,
                           const char *key, long limit, long window_ms,
                           struct ratelimit_decision *out) {
  char limit_s[24], window_s[24];
  snprintf(limit_s, sizeof limit_s, "%ld", limit);
  snprintf(window_s, sizeof window_s, "%ld", window_ms);
  const char *argv[] = {"EVALSHA", sha, "1", key, limit_s, window_s};
  struct kv_reply *r = NULL;
  int rc = kv_command(rl->kv, &r, 6, argv, NULL);
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
  out->allowed = r->elements[0].integer == 1;
  out->limit = limit;
  out->remaining = (long)r->elements[1].integer;
  out->retry_after_s = ceil_div_s((double)r->elements[2].integer);
  if (!out->allowed && out->retry_after_s < 1) out->retry_after_s = 1;
  out->reset_s = ceil_div_s((double)r->elements[3].integer);
  kv_reply_free(r);
  return KIT_OK;
}

static int take_redis(struct ratelimit *rl, const char *key, long limit,
                      long window_ms, struct ratelimit_decision *out) {
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
    int rc = take_redis_once(rl, sha, key, limit, window_ms, out);
    if (rc != KIT_NOT_FOUND) return rc;
    pthread_mutex_lock(&rl->lock); /* Redis forgot it: load it again */
    rl->sha[0] = '\0';
    pthread_mutex_unlock(&rl->lock);
  }
  return KIT_ERROR;
}

void ratelimit_take(struct ratelimit *rl, const char *key, long limit,
                    long window_ms, struct ratelimit_decision *out) {
  if (limit < 1) limit = 1;
  if (window_ms < 1) window_ms = 1;
  bool use_local = ratelimit_local_active(rl);
  if (!use_local) {
    int rc = take_redis(rl, key, limit, window_ms, out);
    if (rc != KIT_OK) {
      pthread_mutex_lock(&rl->lock);
      bool was_local = clock_monotonic_ms() < rl->local_until_ms;
      rl->local_until_ms = clock_monotonic_ms() + REDIS_RETRY_MS;
      pthread_mutex_unlock(&rl->lock);
      if (!was_local)
        log_warn("rate limiter: Redis unreachable; the in-process limiter "
                 "decides for the next %d ms",
                 REDIS_RETRY_MS);
      use_local = true;
    }
  }
  if (use_local) take_local(rl, key, limit, window_ms, out);
  const char *const labels[] = {out->local ? "local" : "redis",
                                out->allowed ? "allowed" : "limited"};
  metric_inc(rl->decisions, labels, 1);
}
