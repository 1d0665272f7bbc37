/* kv.h - Redis: a small pool of hiredis connections with timeouts.
 *
 * Callers never include hiredis: replies come back as struct kv_reply, owned
 * by the caller. A broken connection is re-established on the next acquire.
 */
#ifndef SHOPSPHERE_KIT_KV_H
#define SHOPSPHERE_KIT_KV_H

#include <stddef.h>

enum kv_reply_type {
  KV_NIL = 0,
  KV_INTEGER,
  KV_STRING,
  KV_STATUS,
  KV_ERROR,
  KV_ARRAY,
};

struct kv_reply {
  enum kv_reply_type type;
  long long integer;
  char *str; /* NUL-terminated; len bytes */
  size_t len;
  struct kv_reply *elements;
  size_t count;
};

struct kv_pool;

/* url: redis://[:password@]host:port[/db]. Connects lazily. */
int kv_pool_open(struct kv_pool **out, const char *url, int size,
                 int timeout_ms);
void kv_pool_close(struct kv_pool *pool);

/* Runs one command given as argv (binary safe; argvlen may be NULL for C
 * strings). On KIT_OK, *out (if not NULL) receives the reply; free it with
 * kv_reply_free. A Redis error reply is KIT_OK with type KV_ERROR. Returns
 * KIT_UNAVAILABLE when Redis cannot be reached, KIT_TIMEOUT on timeout. */
int kv_command(struct kv_pool *pool, struct kv_reply **out, int argc,
               const char *const *argv, const size_t *argvlen);

/* Runs several commands on one connection in one round trip (pipelined);
 * out[i] receives each reply. Same status rules as kv_command. */
int kv_pipeline(struct kv_pool *pool, int ncommands, const int *argcs,
                const char *const *const *argvs, struct kv_reply **out);

void kv_reply_free(struct kv_reply *r);

/* PING within the timeout; KIT_OK or KIT_UNAVAILABLE with a reason. */
int kv_ping(struct kv_pool *pool, char *reason, size_t reason_size);

/* --- pub/sub: a connection of its own per subscription --- */

struct kv_subscription;

/* Opens a connection to pool's server subscribed to a channel pattern
 * (PSUBSCRIBE). KIT_OK, or KIT_UNAVAILABLE (logged). Publish with
 * kv_command(PUBLISH channel message). */
int kv_psubscribe(struct kv_pool *pool, const char *pattern,
                  struct kv_subscription **out);

/* Waits at most wait_ms for the next message: KIT_OK with *channel and
 * *message (malloc'd, the caller frees), KIT_TIMEOUT when none came, or
 * KIT_UNAVAILABLE when the connection broke (close it, subscribe again:
 * messages published meanwhile are lost, as pub/sub goes). */
int kv_subscription_next(struct kv_subscription *s, int wait_ms, char **channel,
                         char **message);

void kv_subscription_close(struct kv_subscription *s);

#endif
