/* kv.c - a pool of blocking hiredis connections with explicit timeouts.
 *
 * The same shape as the database pool: fixed slots, one mutex, a condition
 * variable for waiters, slots connected lazily outside the lock. Every socket
 * operation is bounded: the connect by redisConnectWithTimeout, each command
 * by redisSetTimeout (SO_RCVTIMEO/SO_SNDTIMEO). hiredis leaves a context
 * unusable after any I/O or protocol error, and after a timeout a late reply
 * could be read as the answer to the next command, so a context that
 * reported an error is always thrown away; the slot reconnects on its next
 * use.
 *
 * Replies are deep-copied into struct kv_reply so callers never see hiredis.
 *
 * Note: hiredis writes with plain write(2); the process must ignore SIGPIPE
 * (the HTTP server needs that anyway), or a write to a closed Redis socket
 * kills it.
 */
#include "kit/kv.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit/breaker.h"
#include "kit/err.h"
#include "kit/log.h"

#define DEFAULT_TIMEOUT_MS 2000
#define DEFAULT_PORT 6379
/* As in db.c: after a failed connect, fail fast for a moment. */
#define CONNECT_RETRY_PAUSE_MS 500

struct kv_conn {
  redisContext *ctx; /* NULL until first use and after an error */
  bool in_use;       /* guarded by pool->lock */
};

struct kv_pool {
  char host[256];
  int port;
  char *username; /* NULL unless the URL has one (Redis 6 ACL) */
  char *password; /* NULL when the URL has none */
  int db;
  int timeout_ms;

  pthread_mutex_t lock;
  pthread_cond_t freed; /* CLOCK_MONOTONIC */
  struct kv_conn *conns;
  int size;
  int64_t connect_retry_at_ms;
};

static void set_reason(char *reason, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_reason(char *reason, size_t size, const char *fmt, ...) {
  if (reason == NULL || size == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, size, fmt, ap);
  va_end(ap);
}

/* --- URL ------------------------------------------------------------------- */

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decodes n bytes of s into a new string; NULL when malformed or out
 * of memory. */
static char *decode(const char *s, size_t n) {
  char *out = malloc(n + 1);
  if (out == NULL) return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '%') {
      out[o++] = s[i];
      continue;
    }
    if (i + 2 >= n) { /* fewer than two hex digits follow */
      free(out);
      return NULL;
    }
    int h = hex_digit(s[i + 1]);
    int l = hex_digit(s[i + 2]);
    if (h < 0 || l < 0) {
      free(out);
      return NULL;
    }
    out[o++] = (char)(h * 16 + l);
    i += 2;
  }
  out[o] = '\0';
  return out;
}

/* redis://[[user]:password@]host[:port][/db] into pool's fields. */
static int parse_url(struct kv_pool *pool, const char *url) {
  static const char scheme[] = "redis://";
  if (strncmp(url, scheme, sizeof scheme - 1) != 0) return KIT_INVALID;
  const char *p = url + sizeof scheme - 1;

  /* The last '@' ends the credentials: a password may contain one, the
   * host and db never do. */
  const char *at = strrchr(p, '@');
  if (at != NULL) {
    const char *colon = memchr(p, ':', (size_t)(at - p));
    if (colon != NULL) {
      if (colon > p) {
        pool->username = decode(p, (size_t)(colon - p));
        if (pool->username == NULL) return KIT_INVALID;
      }
      pool->password = decode(colon + 1, (size_t)(at - colon - 1));
      if (pool->password == NULL) return KIT_INVALID;
      if (*pool->password == '\0') {
        free(pool->password);
        pool->password = NULL;
      }
    }
    p = at + 1;
  }

  const char *host_end;
  const char *rest;
  if (*p == '[') { /* [IPv6] */
    host_end = strchr(p, ']');
    if (host_end == NULL) return KIT_INVALID;
    p++;
    rest = host_end + 1;
  } else {
    host_end = p + strcspn(p, ":/");
    rest = host_end;
  }
  size_t host_len = (size_t)(host_end - p);
  if (host_len == 0 || host_len >= sizeof pool->host) return KIT_INVALID;
  memcpy(pool->host, p, host_len);
  pool->host[host_len] = '\0';

  pool->port = DEFAULT_PORT;
  if (*rest == ':') {
    char *end = NULL;
    long port = strtol(rest + 1, &end, 10);
    if (end == rest + 1 || port < 1 || port > 65535) return KIT_INVALID;
    pool->port = (int)port;
    rest = end;
  }
  pool->db = 0;
  if (*rest == '/') {
    rest++;
    if (*rest != '\0') {
      char *end = NULL;
      long db = strtol(rest, &end, 10);
      if (end == rest || db < 0 || db > 1000000) return KIT_INVALID;
      pool->db = (int)db;
      rest = end;
    }
  }
  return *rest == '\0' ? KIT_OK : KIT_INVALID;
}

/* --- replies --------------------------------------------------------------- */

static void reply_clear(struct kv_reply *r) {
  free(r->str);
  for (size_t i = 0; i < r->count; i++) reply_clear(&r->elements[i]);
  free(r->elements);
}

void kv_reply_free(struct kv_reply *r) {
  if (r == NULL) return;
  reply_clear(r);
  free(r);
}

static bool copy_reply(struct kv_reply *dst, const redisReply *src) {
  memset(dst, 0, sizeof *dst);
  switch (src->type) {
  case REDIS_REPLY_INTEGER:
    dst->type = KV_INTEGER;
    dst->integer = src->integer;
    return true;
  case REDIS_REPLY_NIL:
    dst->type = KV_NIL;
    return true;
  case REDIS_REPLY_STRING:
  case REDIS_REPLY_STATUS:
  case REDIS_REPLY_ERROR:
    dst->type = src->type == REDIS_REPLY_STRING   ? KV_STRING
                : src->type == REDIS_REPLY_STATUS ? KV_STATUS
                                                  : KV_ERROR;
    dst->str = malloc(src->len + 1);
    if (dst->str == NULL) return false;
    if (src->len > 0) memcpy(dst->str, src->str, src->len);
    dst->str[src->len] = '\0';
    dst->len = src->len;
    return true;
  case REDIS_REPLY_ARRAY:
    dst->type = KV_ARRAY;
    if (src->elements == 0) return true;
    dst->elements = calloc(src->elements, sizeof *dst->elements);
    if (dst->elements == NULL) return false;
    /* count grows as elements are filled, so a failure frees only those. */
    for (size_t i = 0; i < src->elements; i++) {
      dst->count = i + 1;
      if (!copy_reply(&dst->elements[i], src->element[i])) return false;
    }
    return true;
  default:
    dst->type = KV_NIL;
    return true;
  }
}

/* A caller-owned copy of src, or NULL when out of memory. */
static struct kv_reply *convert(const redisReply *src) {
  struct kv_reply *r = malloc(sizeof *r);
  if (r == NULL) return NULL;
  if (!copy_reply(r, src)) {
    kv_reply_free(r);
    return NULL;
  }
  return r;
}

/* --- connections ----------------------------------------------------------- */

static struct timeval timeval_ms(int ms) {
  struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
  return tv;
}

/* The status for a context that failed: a socket timeout shows up as an I/O
 * error with EAGAIN from the read that SO_RCVTIMEO interrupted. */
static int failure_status(const redisContext *ctx, int saved_errno) {
  if (ctx->err == REDIS_ERR_IO &&
      (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK ||
       saved_errno == ETIMEDOUT))
    return KIT_TIMEOUT;
  return KIT_UNAVAILABLE;
}

/* Sends one small command during connection set-up; KIT_OK when Redis did
 * not answer with an error. what names it for the reason (never the args). */
static int setup_command(redisContext *ctx, int argc, const char **argv,
                         const char *what, char *reason, size_t size) {
  redisReply *r = redisCommandArgv(ctx, argc, argv, NULL);
  if (r == NULL) {
    set_reason(reason, size, "%s: %s", what, ctx->errstr);
    return KIT_UNAVAILABLE;
  }
  int rc = KIT_OK;
  if (r->type == REDIS_REPLY_ERROR) {
    /* Redis's error text names the problem, never the password given. */
    set_reason(reason, size, "%s refused: %.120s", what, r->str);
    rc = KIT_UNAVAILABLE;
  }
  freeReplyObject(r);
  return rc;
}

static int conn_open(struct kv_pool *pool, redisContext **out, char *reason,
                     size_t size) {
  struct timeval tv = timeval_ms(pool->timeout_ms);
  int rc = KIT_UNAVAILABLE;
  redisContext *ctx = redisConnectWithTimeout(pool->host, pool->port, tv);
  if (ctx == NULL) {
    set_reason(reason, size, "out of memory");
    return KIT_NOMEM;
  }
  if (ctx->err) {
    set_reason(reason, size, "cannot connect to %s:%d: %s", pool->host,
               pool->port, ctx->errstr);
    goto cleanup;
  }
  if (redisSetTimeout(ctx, tv) != REDIS_OK ||
      redisEnableKeepAlive(ctx) != REDIS_OK) {
    set_reason(reason, size, "cannot set socket options: %s", ctx->errstr);
    goto cleanup;
  }
  if (pool->password != NULL) {
    const char *argv[] = {"AUTH", pool->username, pool->password};
    if (pool->username != NULL)
      rc = setup_command(ctx, 3, argv, "AUTH", reason, size);
    else {
      argv[1] = pool->password;
      rc = setup_command(ctx, 2, argv, "AUTH", reason, size);
    }
    if (rc != KIT_OK) goto cleanup;
  }
  if (pool->db != 0) {
    char db[16];
    snprintf(db, sizeof db, "%d", pool->db);
    const char *argv[] = {"SELECT", db};
    rc = setup_command(ctx, 2, argv, "SELECT", reason, size);
    if (rc != KIT_OK) goto cleanup;
  }
  *out = ctx;
  ctx = NULL;
  rc = KIT_OK;
cleanup:
  if (ctx != NULL) redisFree(ctx);
  return rc;
}

/* Nothing arrives unasked on an idle RESP2 connection: a readable socket
 * means the server closed it (restart, timeout, CLIENT KILL). */
static bool idle_conn_healthy(const redisContext *ctx) {
  struct pollfd p = {.fd = ctx->fd, .events = POLLIN};
  int n = poll(&p, 1, 0);
  return n == 0 || (n < 0 && errno == EINTR);
}

static struct kv_conn *pick_free(struct kv_pool *pool) {
  struct kv_conn *any = NULL;
  for (int i = 0; i < pool->size; i++) {
    struct kv_conn *c = &pool->conns[i];
    if (c->in_use) continue;
    if (c->ctx != NULL) return c;
    if (any == NULL) any = c;
  }
  return any;
}

static void release(struct kv_pool *pool, struct kv_conn *c) {
  pthread_mutex_lock(&pool->lock);
  c->in_use = false;
  pthread_cond_signal(&pool->freed);
  pthread_mutex_unlock(&pool->lock);
}

/* Discards a context that reported an error (see the file comment). */
static void drop(struct kv_conn *c) {
  if (c->ctx != NULL) redisFree(c->ctx);
  c->ctx = NULL;
}

static int acquire(struct kv_pool *pool, struct kv_conn **out, char *reason,
                   size_t size) {
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += pool->timeout_ms / 1000;
  deadline.tv_nsec += (long)(pool->timeout_ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }

  struct kv_conn *c = NULL;
  pthread_mutex_lock(&pool->lock);
  while ((c = pick_free(pool)) == NULL) {
    if (pthread_cond_timedwait(&pool->freed, &pool->lock, &deadline) ==
        ETIMEDOUT) {
      pthread_mutex_unlock(&pool->lock);
      set_reason(reason, size, "no free redis connection in time");
      return KIT_TIMEOUT;
    }
  }
  c->in_use = true;
  bool paused = c->ctx == NULL && clock_monotonic_ms() < pool->connect_retry_at_ms;
  pthread_mutex_unlock(&pool->lock);

  if (c->ctx != NULL && !idle_conn_healthy(c->ctx)) drop(c);
  if (c->ctx != NULL) {
    *out = c;
    return KIT_OK;
  }
  if (paused) {
    set_reason(reason, size, "redis unreachable (reconnect paused)");
    release(pool, c);
    return KIT_UNAVAILABLE;
  }
  int rc = conn_open(pool, &c->ctx, reason, size);
  if (rc != KIT_OK) {
    pthread_mutex_lock(&pool->lock);
    pool->connect_retry_at_ms = clock_monotonic_ms() + CONNECT_RETRY_PAUSE_MS;
    pthread_mutex_unlock(&pool->lock);
    release(pool, c);
    return rc == KIT_NOMEM ? KIT_NOMEM : KIT_UNAVAILABLE;
  }
  *out = c;
  return KIT_OK;
}

/* --- pool ------------------------------------------------------------------ */

int kv_pool_open(struct kv_pool **out, const char *url, int size,
                 int timeout_ms) {
  int rc = KIT_NOMEM;
  if (out == NULL) return KIT_INVALID;
  *out = NULL;
  if (url == NULL || size <= 0) return KIT_INVALID;

  struct kv_pool *pool = calloc(1, sizeof *pool);
  if (pool == NULL) return KIT_NOMEM;
  if (parse_url(pool, url) != KIT_OK) {
    /* The URL itself is not logged: it may hold the password. */
    log_error("kv: the Redis URL is not redis://[:password@]host[:port][/db]");
    rc = KIT_INVALID;
    goto cleanup;
  }
  pool->timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS;
  pool->size = size;
  pool->conns = calloc((size_t)size, sizeof *pool->conns);
  if (pool->conns == NULL) goto cleanup;

  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&pool->freed, &attr);
  pthread_condattr_destroy(&attr);
  pthread_mutex_init(&pool->lock, NULL);

  *out = pool;
  pool = NULL;
  rc = KIT_OK;
cleanup:
  if (pool != NULL) {
    free(pool->username);
    free(pool->password);
    free(pool->conns);
    free(pool);
  }
  return rc;
}

void kv_pool_close(struct kv_pool *pool) {
  if (pool == NULL) return;
  for (int i = 0; i < pool->size; i++) drop(&pool->conns[i]);
  pthread_cond_destroy(&pool->freed);
  pthread_mutex_destroy(&pool->lock);
  free(pool->conns);
  free(pool->username);
  free(pool->password);
  free(pool);
}

/* --- commands -------------------------------------------------------------- */

int kv_command(struct kv_pool *pool, struct kv_reply **out, int argc,
               const char *const *argv, const size_t *argvlen) {
  if (out != NULL) *out = NULL;
  if (pool == NULL || argc <= 0 || argv == NULL) return KIT_INVALID;

  char reason[200] = "";
  struct kv_conn *c = NULL;
  int rc = acquire(pool, &c, reason, sizeof reason);
  if (rc != KIT_OK) {
    log_warn("kv: %s", reason);
    return rc;
  }
  /* hiredis takes char ** but only reads the arguments. */
  redisReply *r = redisCommandArgv(c->ctx, argc, (const char **)argv, argvlen);
  if (r == NULL) {
    rc = failure_status(c->ctx, errno);
    log_warn("kv: command %s: %s",
             rc == KIT_TIMEOUT ? "timed out" : "failed", c->ctx->errstr);
    drop(c);
    goto cleanup;
  }
  if (out != NULL) {
    *out = convert(r);
    if (*out == NULL) rc = KIT_NOMEM;
  }
  freeReplyObject(r);
cleanup:
  release(pool, c);
  return rc;
}

int kv_pipeline(struct kv_pool *pool, int ncommands, const int *argcs,
                const char *const *const *argvs, struct kv_reply **out) {
  if (out != NULL)
    for (int i = 0; i < ncommands; i++) out[i] = NULL;
  if (pool == NULL || ncommands <= 0 || argcs == NULL || argvs == NULL ||
      out == NULL)
    return KIT_INVALID;
  for (int i = 0; i < ncommands; i++)
    if (argcs[i] <= 0 || argvs[i] == NULL) return KIT_INVALID;

  char reason[200] = "";
  struct kv_conn *c = NULL;
  int rc = acquire(pool, &c, reason, sizeof reason);
  if (rc != KIT_OK) {
    log_warn("kv: %s", reason);
    return rc;
  }
  /* Appending only buffers; the first redisGetReply writes them all, so the
   * whole batch costs one round trip. */
  for (int i = 0; i < ncommands; i++) {
    if (redisAppendCommandArgv(c->ctx, argcs[i], (const char **)argvs[i],
                               NULL) != REDIS_OK) {
      rc = KIT_NOMEM;
      drop(c);
      goto cleanup;
    }
  }
  for (int i = 0; i < ncommands; i++) {
    void *raw = NULL;
    if (redisGetReply(c->ctx, &raw) != REDIS_OK || raw == NULL) {
      rc = failure_status(c->ctx, errno);
      log_warn("kv: pipeline %s: %s",
               rc == KIT_TIMEOUT ? "timed out" : "failed", c->ctx->errstr);
      drop(c);
      goto cleanup;
    }
    out[i] = convert(raw);
    freeReplyObject(raw);
    if (out[i] == NULL) {
      /* Replies still unread would answer the next borrower: drop. */
      rc = KIT_NOMEM;
      drop(c);
      goto cleanup;
    }
  }
cleanup:
  if (rc != KIT_OK) {
    for (int i = 0; i < ncommands; i++) {
      kv_reply_free(out[i]);
      out[i] = NULL;
    }
  }
  release(pool, c);
  return rc;
}

int kv_ping(struct kv_pool *pool, char *reason, size_t reason_size) {
  if (pool == NULL) {
    set_reason(reason, reason_size, "no redis pool");
    return KIT_UNAVAILABLE;
  }
  struct kv_conn *c = NULL;
  if (acquire(pool, &c, reason, reason_size) != KIT_OK)
    return KIT_UNAVAILABLE;
  int rc = KIT_UNAVAILABLE;
  redisReply *r = redisCommand(c->ctx, "PING");
  if (r == NULL) {
    set_reason(reason, reason_size, "PING failed: %s", c->ctx->errstr);
    drop(c);
    goto cleanup;
  }
  if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0)
    rc = KIT_OK;
  else
    set_reason(reason, reason_size, "unexpected answer to PING: %.100s",
               r->str != NULL ? r->str : "(none)");
  freeReplyObject(r);
cleanup:
  release(pool, c);
  return rc;
}

/* --- pub/sub ------------------------------------------------------------ */

struct kv_subscription {
  redisContext *ctx;
};

int kv_psubscribe(struct kv_pool *pool, const char *pattern,
                  struct kv_subscription **out) {
  *out = NULL;
  struct kv_subscription *s = calloc(1, sizeof *s);
  if (s == NULL) return KIT_NOMEM;
  char reason[256];
  int rc = conn_open(pool, &s->ctx, reason, sizeof reason);
  if (rc != KIT_OK) {
    log_warn("redis subscribe: %s", reason);
    free(s);
    return rc;
  }
  /* The confirmation of PSUBSCRIBE is its first reply. */
  redisReply *r = redisCommand(s->ctx, "PSUBSCRIBE %s", pattern);
  if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
    log_warn("redis subscribe: PSUBSCRIBE refused: %s",
             r == NULL ? s->ctx->errstr : "unexpected reply");
    if (r != NULL) freeReplyObject(r);
    redisFree(s->ctx);
    free(s);
    return KIT_UNAVAILABLE;
  }
  freeReplyObject(r);
  *out = s;
  return KIT_OK;
}

int kv_subscription_next(struct kv_subscription *s, int wait_ms, char **channel,
                         char **message) {
  *channel = *message = NULL;
  for (;;) {
    void *reply = NULL;
    if (redisGetReplyFromReader(s->ctx, &reply) != REDIS_OK)
      return KIT_UNAVAILABLE;
    if (reply == NULL) {
      struct pollfd p = {.fd = s->ctx->fd, .events = POLLIN};
      int n = poll(&p, 1, wait_ms);
      if (n < 0 && errno == EINTR) return KIT_TIMEOUT;
      if (n < 0) return KIT_UNAVAILABLE;
      if (n == 0) return KIT_TIMEOUT;
      if (redisBufferRead(s->ctx) != REDIS_OK) return KIT_UNAVAILABLE;
      if (redisGetReplyFromReader(s->ctx, &reply) != REDIS_OK)
        return KIT_UNAVAILABLE;
      if (reply == NULL) return KIT_TIMEOUT; /* part of a reply so far */
    }
    redisReply *r = reply;
    /* ["pmessage", pattern, channel, message] */
    bool ok = r->type == REDIS_REPLY_ARRAY && r->elements == 4 &&
              r->element[0]->type == REDIS_REPLY_STRING &&
              strcmp(r->element[0]->str, "pmessage") == 0 &&
              r->element[2]->type == REDIS_REPLY_STRING &&
              r->element[3]->type == REDIS_REPLY_STRING;
    if (ok) {
      *channel = strndup(r->element[2]->str, r->element[2]->len);
      *message = strndup(r->element[3]->str, r->element[3]->len);
    }
    freeReplyObject(r);
    if (!ok) continue; /* a subscription notice: read on */
    if (*channel == NULL || *message == NULL) {
      free(*channel);
      free(*message);
      *channel = *message = NULL;
      return KIT_NOMEM;
    }
    return KIT_OK;
  }
}

void kv_subscription_close(struct kv_subscription *s) {
  if (s == NULL) return;
  redisFree(s->ctx);
  free(s);
}
