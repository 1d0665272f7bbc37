/* cache.c - rendered recommendation lists kept in memory for a short time
 * (SHOPSPHERE_RECOMMENDATION_CACHE_MS), so a hot product's list is a hash
 * lookup and a copy. Direct-mapped: a key lives in one slot; a newer key
 * with the same hash replaces it. Slots are guarded by striped locks. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "services/recommendation/recommendation.h"

#define LOCKS 64
#define KEY_MAX 128

struct slot {
  char key[KEY_MAX];
  char *body;
  size_t len;
  int64_t expires_ms;
};

struct reco_cache {
  size_t slots;
  int ttl_ms;
  struct slot *slot;
  pthread_mutex_t lock[LOCKS];
};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t hash(const char *s) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

struct reco_cache *reco_cache_create(size_t slots, int ttl_ms) {
  struct reco_cache *c = calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  c->slot = calloc(slots, sizeof *c->slot);
  if (c->slot == NULL) {
    free(c);
    return NULL;
  }
  c->slots = slots;
  c->ttl_ms = ttl_ms;
  for (int i = 0; i < LOCKS; i++)
    pthread_mutex_init(&c->lock[i], NULL);
  return c;
}

void reco_cache_destroy(struct reco_cache *c) {
  if (c == NULL) return;
  for (size_t i = 0; i < c->slots; i++)
    free(c->slot[i].body);
  for (int i = 0; i < LOCKS; i++)
    pthread_mutex_destroy(&c->lock[i]);
  free(c->slot);
  free(c);
}

bool reco_cache_reply(struct reco_cache *c, const char *key,
                      struct http_response *res) {
  if (c == NULL || c->ttl_ms <= 0 || strlen(key) >= KEY_MAX) return false;
  size_t i = hash(key) % c->slots;
  pthread_mutex_t *m = &c->lock[i % LOCKS];
  bool hit = false;
  pthread_mutex_lock(m);
  struct slot *s = &c->slot[i];
  if (s->body != NULL && s->expires_ms > now_ms() && strcmp(s->key, key) == 0) {
    hit = http_reply(res, 200, "application/json", s->body, s->len) == KIT_OK;
  }
  pthread_mutex_unlock(m);
  return hit;
}

void reco_cache_put(struct reco_cache *c, const char *key, const char *body,
                    size_t len) {
  if (c == NULL || c->ttl_ms <= 0 || strlen(key) >= KEY_MAX) return;
  char *copy = malloc(len + 1);
  if (copy == NULL) return;
  memcpy(copy, body, len);
  copy[len] = '\0';
  size_t i = hash(key) % c->slots;
  pthread_mutex_t *m = &c->lock[i % LOCKS];
  pthread_mutex_lock(m);
  struct slot *s = &c->slot[i];
  free(s->body);
  s->body = copy;
  s->len = len;
  s->expires_ms = now_ms() + c->ttl_ms;
  strcpy(s->key, key);
  pthread_mutex_unlock(m);
}
