/* cache.c - the rendered-JSON cache of the catalog reads (see cache.h). */
#include "services/product/cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kit/breaker.h"

#define STRIPES 64

struct entry {
  char *key;
  char *body;
  size_t len;
  int64_t expires_ms;
  unsigned long generation;
};

struct pcache {
  struct entry *slots;
  size_t count;
  int ttl_ms;
  atomic_ulong generation;
  pthread_mutex_t locks[STRIPES];
};

/* FNV-1a: short keys, good enough spread, no allocation. */
static uint64_t hash(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ULL;
  }
  return h;
}

struct pcache *pcache_create(size_t slots, int ttl_ms) {
  struct pcache *c = calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  c->slots = calloc(slots, sizeof *c->slots);
  if (c->slots == NULL) {
    free(c);
    return NULL;
  }
  c->count = slots;
  c->ttl_ms = ttl_ms;
  atomic_init(&c->generation, 1);
  for (int i = 0; i < STRIPES; i++)
    pthread_mutex_init(&c->locks[i], NULL);
  return c;
}

void pcache_destroy(struct pcache *c) {
  if (c == NULL) return;
  for (size_t i = 0; i < c->count; i++) {
    free(c->slots[i].key);
    free(c->slots[i].body);
  }
  for (int i = 0; i < STRIPES; i++)
    pthread_mutex_destroy(&c->locks[i]);
  free(c->slots);
  free(c);
}

unsigned long pcache_generation(struct pcache *c) {
  return atomic_load(&c->generation);
}

bool pcache_reply(struct pcache *c, const char *key,
                  struct http_response *res) {
  if (c == NULL) return false;
  size_t slot = hash(key) % c->count;
  pthread_mutex_t *lock = &c->locks[slot % STRIPES];
  bool hit = false;
  pthread_mutex_lock(lock);
  struct entry *e = &c->slots[slot];
  if (e->key != NULL && strcmp(e->key, key) == 0 &&
      e->generation == atomic_load(&c->generation) &&
      clock_monotonic_ms() < e->expires_ms) {
    hit = http_reply(res, 200, "application/json", e->body, e->len) == 0;
  }
  pthread_mutex_unlock(lock);
  return hit;
}

void pcache_put(struct pcache *c, const char *key, const char *body, size_t len,
                unsigned long generation) {
  if (c == NULL || generation != atomic_load(&c->generation)) return;
  char *k = strdup(key);
  char *b = malloc(len + 1);
  if (k == NULL || b == NULL) {
    free(k);
    free(b);
    return;
  }
  memcpy(b, body, len);
  b[len] = '\0';
  size_t slot = hash(key) % c->count;
  pthread_mutex_t *lock = &c->locks[slot % STRIPES];
  pthread_mutex_lock(lock);
  struct entry *e = &c->slots[slot];
  free(e->key);
  free(e->body);
  e->key = k;
  e->body = b;
  e->len = len;
  e->generation = generation;
  e->expires_ms = clock_monotonic_ms() + c->ttl_ms;
  pthread_mutex_unlock(lock);
}

void pcache_invalidate(struct pcache *c) {
  if (c != NULL) atomic_fetch_add(&c->generation, 1);
}
