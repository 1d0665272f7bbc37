/* cache.c - a short-lived, in-process cache of anonymous catalog answers.
 *
 * Keys are the request target (path and query); entries hold a copy of the
 * upstream's 200 answer and expire when the upstream's Cache-Control says
 * (capped by SHOPSPHERE_EDGE_CACHE_MAX_AGE_S, decided by the caller). The
 * table is an array with linear probing under one mutex, bounded in entries
 * and bytes: when full, a new entry takes the place of the first expired one
 * its probe meets, or else of the one that expires soonest. Hits copy the
 * entry out, so no reader ever holds a pointer into the table.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kit/breaker.h"
#include "services/gateway/gateway.h"

#define PROBE 8
#define MAX_HEADERS 8

struct entry {
  char *key; /* NULL: free slot */
  unsigned status;
  char content_type[64];
  char *body;
  size_t body_len;
  struct http_header headers[MAX_HEADERS]; /* malloc'd */
  size_t header_count;
  int64_t stored_ms;
  int64_t expires_ms;
  unsigned long generation; /* the cache's generation when loaded */
};

struct edge_cache {
  pthread_mutex_t lock;
  struct entry *slots;
  size_t slot_count;
  size_t max_bytes;
  size_t bytes; /* body bytes held */
  /* Bumped by edge_cache_invalidate: an entry of an older generation is
   * dead, whatever its expiry says. */
  unsigned long generation;
};

/* Upstream headers worth keeping with the body; the rest describe one hop or
 * one request (X-Request-Id, traceparent) and are made fresh per answer. */
static bool keep_header(const char *name) {
  static const char *const names[] = {"cache-control", "etag", "last-modified",
                                      "content-language", "vary"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp(name, names[i]) == 0) return true;
  return false;
}

static void entry_clear(struct edge_cache *c, struct entry *e) {
  if (e->key == NULL) return;
  c->bytes -= e->body_len;
  free(e->key);
  free(e->body);
  for (size_t i = 0; i < e->header_count; i++) {
    free((char *)e->headers[i].name);
    free((char *)e->headers[i].value);
  }
  memset(e, 0, sizeof *e);
}

struct edge_cache *edge_cache_create(size_t max_entries, size_t max_bytes) {
  struct edge_cache *c = calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  c->slots = calloc(max_entries, sizeof *c->slots);
  if (c->slots == NULL) {
    free(c);
    return NULL;
  }
  c->slot_count = max_entries;
  c->max_bytes = max_bytes;
  pthread_mutex_init(&c->lock, NULL);
  return c;
}

void edge_cache_destroy(struct edge_cache *c) {
  if (c == NULL) return;
  for (size_t i = 0; i < c->slot_count; i++)
    entry_clear(c, &c->slots[i]);
  pthread_mutex_destroy(&c->lock);
  free(c->slots);
  free(c);
}

static size_t hash_key(const char *s) {
  size_t h = 5381;
  for (; *s != '\0'; s++)
    h = h * 33 ^ (unsigned char)*s;
  return h;
}

bool edge_cache_get(struct edge_cache *c, const char *key,
                    struct http_response *res, long *age_s) {
  if (c == NULL) return false;
  bool hit = false;
  int64_t now = clock_monotonic_ms();
  size_t start = hash_key(key) % c->slot_count;
  pthread_mutex_lock(&c->lock);
  for (size_t i = 0; i < PROBE && i < c->slot_count; i++) {
    struct entry *e = &c->slots[(start + i) % c->slot_count];
    if (e->key == NULL || strcmp(e->key, key) != 0) continue;
    if (now >= e->expires_ms || e->generation != c->generation) {
      entry_clear(c, e);
      break;
    }
    if (http_reply(res, e->status, e->content_type, e->body, e->body_len) !=
        KIT_OK)
      break;
    for (size_t h = 0; h < e->header_count; h++)
      http_response_header(res, e->headers[h].name, e->headers[h].value);
    *age_s = (long)((now - e->stored_ms) / 1000);
    hit = true;
    break;
  }
  pthread_mutex_unlock(&c->lock);
  return hit;
}

unsigned long edge_cache_generation(struct edge_cache *c) {
  if (c == NULL) return 0;
  pthread_mutex_lock(&c->lock);
  unsigned long g = c->generation;
  pthread_mutex_unlock(&c->lock);
  return g;
}

void edge_cache_invalidate(struct edge_cache *c) {
  if (c == NULL) return;
  pthread_mutex_lock(&c->lock);
  c->generation++;
  pthread_mutex_unlock(&c->lock);
}

void edge_cache_put(struct edge_cache *c, const char *key,
                    const struct http_response *res, long ttl_s,
                    unsigned long generation) {
  if (c == NULL || ttl_s <= 0 || res->body_len > c->max_bytes / 8) return;
  int64_t now = clock_monotonic_ms();
  size_t start = hash_key(key) % c->slot_count;

  /* Build the entry outside the lock. */
  struct entry fresh;
  memset(&fresh, 0, sizeof fresh);
  fresh.key = strdup(key);
  fresh.body = malloc(res->body_len + 1);
  if (fresh.key == NULL || fresh.body == NULL) goto fail;
  memcpy(fresh.body, res->body ? res->body : "", res->body_len);
  fresh.body[res->body_len] = '\0';
  fresh.body_len = res->body_len;
  fresh.status = res->status;
  memcpy(fresh.content_type, res->content_type, sizeof fresh.content_type);
  for (size_t i = 0; i < res->header_count && fresh.header_count < MAX_HEADERS;
       i++) {
    if (!keep_header(res->headers[i].name)) continue;
    char *n = strdup(res->headers[i].name), *v = strdup(res->headers[i].value);
    if (n == NULL || v == NULL) {
      free(n);
      free(v);
      goto fail;
    }
    fresh.headers[fresh.header_count++] = (struct http_header){n, v};
  }
  fresh.stored_ms = now;
  fresh.expires_ms = now + ttl_s * 1000;
  fresh.generation = generation;

  pthread_mutex_lock(&c->lock);
  if (generation != c->generation) {
    /* The upstream answered from data older than a change heard since. */
    pthread_mutex_unlock(&c->lock);
    goto fail;
  }
  struct entry *slot = NULL, *soonest = NULL;
  for (size_t i = 0; i < PROBE && i < c->slot_count; i++) {
    struct entry *e = &c->slots[(start + i) % c->slot_count];
    if (e->key == NULL || strcmp(e->key, key) == 0 || now >= e->expires_ms) {
      slot = e;
      break;
    }
    if (soonest == NULL || e->expires_ms < soonest->expires_ms) soonest = e;
  }
  if (slot == NULL) slot = soonest;
  entry_clear(c, slot);
  /* Over the byte budget: drop expired entries elsewhere first; if that is
   * not enough, do not store (the cache is an optimisation). */
  if (c->bytes + fresh.body_len > c->max_bytes) {
    for (size_t i = 0; i < c->slot_count; i++)
      if (c->slots[i].key != NULL && now >= c->slots[i].expires_ms)
        entry_clear(c, &c->slots[i]);
  }
  if (c->bytes + fresh.body_len > c->max_bytes) {
    pthread_mutex_unlock(&c->lock);
    goto fail;
  }
  *slot = fresh;
  c->bytes += fresh.body_len;
  pthread_mutex_unlock(&c->lock);
  return;

fail:
  free(fresh.key);
  free(fresh.body);
  for (size_t i = 0; i < fresh.header_count; i++) {
    free((char *)fresh.headers[i].name);
    free((char *)fresh.headers[i].value);
  }
}
