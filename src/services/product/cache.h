/* cache.h - an in-process cache of rendered JSON for the catalog's reads.
 *
 * Direct-mapped: a key hashes to one slot, a newer entry replaces the older,
 * so memory is bounded by the slot count. Entries live ttl_ms (at most a
 * second, so another replica's writes show within that) and die at once
 * when this process writes: pcache_invalidate() bumps a generation that every
 * entry must match. Thread-safe (striped mutexes). */
#ifndef SHOPSPHERE_PRODUCT_CACHE_H
#define SHOPSPHERE_PRODUCT_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "kit/http.h"

struct pcache;

/* NULL when out of memory. */
struct pcache *pcache_create(size_t slots, int ttl_ms);
void pcache_destroy(struct pcache *c);

/* On a fresh hit, answers res with 200 and a copy of the cached JSON and
 * returns true; otherwise false and res is untouched. */
bool pcache_reply(struct pcache *c, const char *key, struct http_response *res);

/* Stores a copy of body under key, stamped with the generation read before
 * the data was loaded (pcache_generation), so a write that landed meanwhile
 * is never hidden behind an older rendering. */
void pcache_put(struct pcache *c, const char *key, const char *body, size_t len,
                unsigned long generation);
unsigned long pcache_generation(struct pcache *c);

/* Drops everything (a local write). */
void pcache_invalidate(struct pcache *c);

#endif
