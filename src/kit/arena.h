/* arena.h - per-request scratch memory.
 *
 * An arena hands out memory that lives exactly as long as the arena: nothing
 * allocated from it is freed on its own, everything goes at arena_free().
 * Each HTTP request owns one, so parsed JSON strings, path parameters and
 * rendered fragments need no individual free. Not thread-safe: one owner.
 */
#ifndef SHOPSPHERE_KIT_ARENA_H
#define SHOPSPHERE_KIT_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
  struct arena_chunk *head; /* newest chunk first */
  size_t chunk_size;        /* default size of a new chunk */
};

/* Prepares an empty arena; allocates nothing until first use. */
void arena_init(struct arena *a, size_t chunk_size);

/* Returns zeroed memory of n bytes aligned for any type, owned by the arena;
 * NULL only when the process is out of memory. */
void *arena_alloc(struct arena *a, size_t n);

/* Copies s (n bytes) into the arena and NUL-terminates it. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);

/* printf into the arena; NULL on out of memory. */
char *arena_printf(struct arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Releases every chunk; the arena may be reused afterwards. */
void arena_free(struct arena *a);

#endif
