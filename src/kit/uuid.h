/* uuid.h - UUIDv7 identifiers (time-ordered) and UUID validation. */
#ifndef SHOPSPHERE_KIT_UUID_H
#define SHOPSPHERE_KIT_UUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UUID_STR_LEN 37 /* 36 chars + NUL */

/* Writes a fresh UUIDv7 (RFC 9562: 48-bit Unix ms timestamp, version 7,
 * variant 10, random rest; monotonic within a process even for calls in the
 * same millisecond) as lowercase text into out. */
void uuid_v7(char out[UUID_STR_LEN]);

/* true when s is a canonical 8-4-4-4-12 hex UUID (either case). */
bool uuid_valid(const char *s);

/* Lowercases a valid UUID into out; false when s is not valid. */
bool uuid_normalize(const char *s, char out[UUID_STR_LEN]);

/* Random hex of n bytes (2n chars + NUL) from the OS CSPRNG: for secrets. */
void random_hex(char *out, size_t n_bytes);

/* The same from the thread's buffered draw of the CSPRNG (one system call
 * per ~40 ids): for ids that are unique and unguessable but not secret
 * (trace, span and request ids). */
void id_hex(char *out, size_t n_bytes);

#endif
