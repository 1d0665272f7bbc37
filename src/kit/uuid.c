/* uuid.c - UUIDv7 generation and UUID text validation (see uuid.h).
 *
 * Layout (RFC 9562 §5.7): 48-bit Unix time in ms, 4-bit version (7), 12-bit
 * rand_a, 2-bit variant (10), 62-bit rand_b. To keep ids strictly increasing
 * inside the process we use the "monotonic random" method of §6.2: rand_a and
 * rand_b together form a 74-bit counter that is seeded at random whenever the
 * millisecond changes, and bumped by a random step for further ids within
 * the same millisecond (or while the wall clock stands still or steps back).
 * The seed has its top bit clear, so at least 2^73 of counter remain for the
 * steps; if it ever ran out, the timestamp is advanced by one millisecond.
 */
#include "uuid.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RAND_A_BITS 12
#define RAND_B_BITS 62
#define RAND_A_MASK ((UINT16_C(1) << RAND_A_BITS) - 1)
#define RAND_B_MASK ((UINT64_C(1) << RAND_B_BITS) - 1)

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;

static void sodium_setup(void) {
  /* Without a working CSPRNG we cannot mint ids or tokens safely; there is no
   * sensible way to continue. */
  if (sodium_init() < 0) {
    fputs("uuid: sodium_init failed\n", stderr);
    abort();
  }
}

/* Random bytes for ids (request, trace, span and row ids) are drawn from a
 * per-thread buffer filled by the CSPRNG 512 bytes at a time: one getrandom
 * call per ~40 ids instead of one per id, which the request path profiled
 * (three ids per request). A child of fork() must never hand out its
 * parent's buffered bytes again, so every fork bumps a generation that
 * empties the buffers. Not for secrets that must not share a buffer with
 * ids (tokens use randombytes_buf directly). */
#define ID_RANDOM_POOL 512
static atomic_uint fork_generation;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static _Thread_local struct {
  uint8_t bytes[ID_RANDOM_POOL];
  size_t used; /* bytes handed out; ID_RANDOM_POOL when empty */
  unsigned generation;
  bool filled;
} id_pool;

static void on_fork_child(void) { atomic_fetch_add(&fork_generation, 1); }
static void atfork_setup(void) {
  pthread_once(&sodium_once, sodium_setup);
  pthread_atfork(NULL, NULL, on_fork_child);
}

static void id_random(void *out, size_t n) {
  pthread_once(&atfork_once, atfork_setup);
  if (n > ID_RANDOM_POOL / 4) {
    randombytes_buf(out, n);
    return;
  }
  unsigned gen = atomic_load(&fork_generation);
  if (!id_pool.filled || id_pool.generation != gen ||
      ID_RANDOM_POOL - id_pool.used < n) {
    randombytes_buf(id_pool.bytes, sizeof id_pool.bytes);
    id_pool.used = 0;
    id_pool.generation = gen;
    id_pool.filled = true;
  }
  memcpy(out, id_pool.bytes + id_pool.used, n);
  /* Handed-out bytes are wiped: nothing in memory repeats an issued id. */
  sodium_memzero(id_pool.bytes + id_pool.used, n);
  id_pool.used += n;
}

/* The generator's memory of the last id. Process-wide by necessity: ids must
 * be ordered across every caller in the process. Guarded by gen_lock. */
static pthread_mutex_t gen_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t gen_ms;
static uint16_t gen_rand_a;
static uint64_t gen_rand_b;

static uint64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void seed_counter(void) {
  uint8_t r[10];
  id_random(r, sizeof r);
  /* 11 random bits for rand_a (top bit clear leaves room to count). */
  gen_rand_a = (uint16_t)(((r[0] << 8) | r[1]) & (RAND_A_MASK >> 1));
  uint64_t b = 0;
  for (int i = 2; i < 10; i++)
    b = (b << 8) | r[i];
  gen_rand_b = b & RAND_B_MASK;
}

/* Adds a random step in [1, 2^32] to the 74-bit counter; false on overflow. */
static bool bump_counter(void) {
  uint32_t step;
  id_random(&step, sizeof step);
  uint64_t b = gen_rand_b + (uint64_t)step + 1;
  uint16_t a = gen_rand_a;
  if (b > RAND_B_MASK) {
    b &= RAND_B_MASK;
    if (++a > RAND_A_MASK) return false;
  }
  gen_rand_a = a;
  gen_rand_b = b;
  return true;
}

void uuid_v7(char out[UUID_STR_LEN]) {
  pthread_once(&sodium_once, sodium_setup);

  uint64_t ms;
  uint16_t rand_a;
  uint64_t rand_b;

  pthread_mutex_lock(&gen_lock);
  uint64_t now = wall_ms() & ((UINT64_C(1) << 48) - 1);
  if (now > gen_ms) {
    gen_ms = now;
    seed_counter();
  } else if (!bump_counter()) {
    /* Counter exhausted within one millisecond: borrow the next one. */
    gen_ms++;
    seed_counter();
  }
  ms = gen_ms;
  rand_a = gen_rand_a;
  rand_b = gen_rand_b;
  pthread_mutex_unlock(&gen_lock);

  uint8_t u[16];
  for (int i = 0; i < 6; i++)
    u[i] = (uint8_t)(ms >> (40 - 8 * i));
  u[6] = (uint8_t)(0x70 | (rand_a >> 8));
  u[7] = (uint8_t)rand_a;
  u[8] = (uint8_t)(0x80 | (rand_b >> 56));
  for (int i = 9; i < 16; i++)
    u[i] = (uint8_t)(rand_b >> (8 * (15 - i)));

  static const char hex[] = "0123456789abcdef";
  char *p = out;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
    *p++ = hex[u[i] >> 4];
    *p++ = hex[u[i] & 0x0f];
  }
  *p = '\0';
}

static bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

bool uuid_valid(const char *s) {
  if (s == NULL) return false;
  for (int i = 0; i < 36; i++) {
    bool dash_pos = (i == 8 || i == 13 || i == 18 || i == 23);
    if (dash_pos ? s[i] != '-' : !is_hex(s[i]))
      return false; /* also stops at a NUL before position 36 */
  }
  return s[36] == '\0';
}

bool uuid_normalize(const char *s, char out[UUID_STR_LEN]) {
  if (!uuid_valid(s)) return false;
  for (int i = 0; i < 36; i++)
    out[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] - 'A' + 'a') : s[i];
  out[36] = '\0';
  return true;
}

static void hex_of(char *out, size_t n_bytes, bool pooled) {
  pthread_once(&sodium_once, sodium_setup);
  static const char hex[] = "0123456789abcdef";

  /* Draw the bytes into the front of out, then expand them in place from the
   * back: byte i moves to 2i and 2i+1, never over a byte not yet read. */
  if (pooled)
    id_random(out, n_bytes);
  else
    randombytes_buf(out, n_bytes);
  for (size_t i = n_bytes; i-- > 0;) {
    unsigned char b = (unsigned char)out[i];
    out[2 * i] = hex[b >> 4];
    out[2 * i + 1] = hex[b & 0x0f];
  }
  out[2 * n_bytes] = '\0';
}

void random_hex(char *out, size_t n_bytes) { hex_of(out, n_bytes, false); }

void id_hex(char *out, size_t n_bytes) { hex_of(out, n_bytes, true); }
