/* arena.c - per-request scratch memory (see arena.h).
 *
 * Memory comes from a list of chunks, newest first. A request bumps a pointer
 * in the head chunk; when the head is full a new chunk is pushed. A request
 * larger than a quarter of the chunk size gets a chunk of its own, placed
 * behind the head, so that one big string does not waste the free space of the
 * head chunk. Chunks come from calloc and each byte is handed out once, so
 * every allocation is already zeroed.
 */
#include "arena.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_DEFAULT_CHUNK 4096

struct arena_chunk {
  struct arena_chunk *next;
  size_t size; /* usable bytes in data */
  size_t used;
  /* max_align_t elements make data suitably aligned for any type. */
  max_align_t data[];
};

void arena_init(struct arena *a, size_t chunk_size) {
  a->head = NULL;
  a->chunk_size = chunk_size ? chunk_size : ARENA_DEFAULT_CHUNK;
}

/* A zeroed chunk with at least size usable bytes; NULL on overflow or OOM. */
static struct arena_chunk *chunk_new(size_t size) {
  if (size > SIZE_MAX - sizeof(struct arena_chunk))
    return NULL;
  struct arena_chunk *c = calloc(1, sizeof(*c) + size);
  if (c == NULL)
    return NULL;
  c->size = size;
  c->used = 0;
  return c;
}

void *arena_alloc(struct arena *a, size_t n) {
  const size_t align = alignof(max_align_t);
  /* Zero-byte requests still get a distinct, valid pointer. */
  if (n == 0)
    n = 1;
  if (n > SIZE_MAX - (align - 1))
    return NULL;
  n = (n + align - 1) & ~(align - 1);

  struct arena_chunk *head = a->head;
  if (head != NULL && head->size - head->used >= n) {
    void *p = (char *)head->data + head->used;
    head->used += n;
    return p;
  }

  if (n > a->chunk_size / 4) {
    /* A big block gets a chunk of exactly its size, kept behind the head so
     * the head's remaining space stays in use. */
    struct arena_chunk *big = chunk_new(n);
    if (big == NULL)
      return NULL;
    big->used = n;
    if (head != NULL) {
      big->next = head->next;
      head->next = big;
    } else {
      big->next = NULL;
      a->head = big;
    }
    return big->data;
  }

  struct arena_chunk *c = chunk_new(a->chunk_size);
  if (c == NULL)
    return NULL;
  c->next = head;
  a->head = c;
  c->used = n;
  return c->data;
}

char *arena_strndup(struct arena *a, const char *s, size_t n) {
  if (n == SIZE_MAX)
    return NULL;
  char *p = arena_alloc(a, n + 1);
  if (p == NULL)
    return NULL;
  if (n > 0)
    memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *arena_strdup(struct arena *a, const char *s) {
  return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...) {
  va_list ap;
  va_list ap2;
  char *p = NULL;

  va_start(ap, fmt);
  va_copy(ap2, ap);
  int len = vsnprintf(NULL, 0, fmt, ap);
  if (len < 0)
    goto cleanup;
  p = arena_alloc(a, (size_t)len + 1);
  if (p == NULL)
    goto cleanup;
  vsnprintf(p, (size_t)len + 1, fmt, ap2);

cleanup:
  va_end(ap2);
  va_end(ap);
  return p;
}

void arena_free(struct arena *a) {
  struct arena_chunk *c = a->head;
  while (c != NULL) {
    struct arena_chunk *next = c->next;
    free(c);
    c = next;
  }
  a->head = NULL;
}
