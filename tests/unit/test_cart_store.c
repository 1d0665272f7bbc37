/* test_cart_store.c - the cart's Redis store (src/services/cart/store.c)
 * against a real server: layout, expiry refreshed on use, the Lua scripts
 * that add to a line and change a line, clearing (once per order) and
 * merging.
 *
 * Needs SHOPSPHERE_REDIS_URL (the test runner starts Redis and exports it);
 * without it the test fails rather than pretend to pass. Cart ids are fresh
 * random ids; each test deletes the carts it made.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/arena.h"
#include "kit/err.h"
#include "kit/kv.h"
#include "services/cart/domain.h"
#include "services/cart/store.h"

#define assert_i64(a, b) assert_true((int64_t)(a) == (int64_t)(b))

static struct kv_pool *pool;

static int group_setup(void **state) {
  (void)state;
  const char *url = getenv("SHOPSPHERE_REDIS_URL");
  if (url == NULL || url[0] == '\0') {
    fprintf(stderr,
            "SHOPSPHERE_REDIS_URL is not set: run via scripts/test.sh\n");
    return -1;
  }
  return kv_pool_open(&pool, url, 2, 1000) == KIT_OK ? 0 : -1;
}

static int group_teardown(void **state) {
  (void)state;
  kv_pool_close(pool);
  return 0;
}

static void drop(const char *id) {
  char key[64];
  snprintf(key, sizeof key, "cart:%s", id);
  const char *argv[] = {"DEL", key};
  struct kv_reply *r = NULL;
  assert_int_equal(kv_command(pool, &r, 2, argv, NULL), KIT_OK);
  kv_reply_free(r);
}

static long long ttl(const char *id) {
  char key[64];
  snprintf(key, sizeof key, "cart:%s", id);
  const char *argv[] = {"TTL", key};
  struct kv_reply *r = NULL;
  assert_int_equal(kv_command(pool, &r, 2, argv, NULL), KIT_OK);
  long long t = r->integer;
  kv_reply_free(r);
  return t;
}

static void set_ttl(const char *id, const char *seconds) {
  char key[64];
  snprintf(key, sizeof key, "cart:%s", id);
  const char *argv[] = {"EXPIRE", key, seconds};
  struct kv_reply *r = NULL;
  assert_int_equal(kv_command(pool, &r, 3, argv, NULL), KIT_OK);
  kv_reply_free(r);
}

static struct cart_line snapshot(const char *product_id, int64_t price) {
  struct cart_line l;
  memset(&l, 0, sizeof l);
  snprintf(l.product_id, sizeof l.product_id, "%s", product_id);
  snprintf(l.currency, sizeof l.currency, "USD");
  l.sku = "SKU-1";
  l.name = "A \"quoted\" name";
  l.snapshot_price = price;
  return l;
}

static const struct cart_line *line_of(const struct cart_record *c,
                                       const char *product_id) {
  for (size_t i = 0; i < c->line_count; i++)
    if (strcmp(c->lines[i].product_id, product_id) == 0) return &c->lines[i];
  return NULL;
}

static const char P1[] = "0193a1b2-0000-7000-8000-000000000001";
static const char P2[] = "0193a1b2-0000-7000-8000-000000000002";

static void test_create_load_and_expiry(void **state) {
  (void)state;
  char id[UUID_STR_LEN];
  cart_new_id(id);
  struct arena a;
  arena_init(&a, 4096);
  struct cart_record c;
  assert_int_equal(cart_store_load(pool, &a, id, &c), KIT_NOT_FOUND);
  char created[32];
  assert_int_equal(cart_store_create(pool, id, "u-1", "USD", created), KIT_OK);
  assert_true(ttl(id) > CART_TTL_SECONDS - 5);
  set_ttl(id, "100");
  assert_int_equal(cart_store_load(pool, &a, id, &c), KIT_OK);
  assert_string_equal(c.id, id);
  assert_string_equal(c.user_id, "u-1");
  assert_int_equal(c.line_count, 0);
  assert_int_equal(strlen(c.created_at), 20);
  assert_string_equal(c.created_at, created);
  /* A read refreshes the 30-day expiry. */
  assert_true(ttl(id) > CART_TTL_SECONDS - 5);
  drop(id);
  arena_free(&a);
}

static void test_add_caps_and_snapshots(void **state) {
  (void)state;
  char id[UUID_STR_LEN];
  cart_new_id(id);
  struct arena a;
  arena_init(&a, 4096);
  int64_t q = 0;
  struct cart_line s1 = snapshot(P1, 1999);
  assert_int_equal(cart_store_add(pool, id, &s1, 1, 99, &q), KIT_NOT_FOUND);
  assert_int_equal(cart_store_create(pool, id, "", "USD", NULL), KIT_OK);
  assert_int_equal(cart_store_add(pool, id, &s1, 2, 5, &q), KIT_OK);
  assert_i64(q, 2);
  assert_int_equal(cart_store_add(pool, id, &s1, 3, 5, &q), KIT_OK);
  assert_i64(q, 5);
  /* Over the cap: refused, and the line keeps its 5. */
  assert_int_equal(cart_store_add(pool, id, &s1, 1, 5, &q), KIT_CONFLICT);
  assert_i64(q, 6);
  /* Adding again refreshes the snapshot. */
  struct cart_line s1b = snapshot(P1, 2099);
  assert_int_equal(cart_store_add(pool, id, &s1b, 0, 99, &q), KIT_OK);
  struct cart_record c;
  assert_int_equal(cart_store_load(pool, &a, id, &c), KIT_OK);
  assert_int_equal(c.line_count, 1);
  assert_string_equal(c.user_id, "");
  const struct cart_line *l = line_of(&c, P1);
  assert_non_null(l);
  assert_i64(l->quantity, 5);
  assert_i64(l->snapshot_price, 2099);
  assert_string_equal(l->currency, "USD");
  assert_string_equal(l->name, "A \"quoted\" name");
  drop(id);
  arena_free(&a);
}

static void test_set_remove_clear(void **state) {
  (void)state;
  char id[UUID_STR_LEN];
  cart_new_id(id);
  struct arena a;
  arena_init(&a, 4096);
  int64_t q = 0;
  struct cart_line s1 = snapshot(P1, 100), s2 = snapshot(P2, 250);
  assert_int_equal(cart_store_create(pool, id, "", "USD", NULL), KIT_OK);
  assert_int_equal(cart_store_add(pool, id, &s1, 1, 99, &q), KIT_OK);
  /* Changing a line that is not there is refused. */
  s2.quantity = 4;
  assert_int_equal(cart_store_set_line(pool, id, &s2), KIT_NOT_FOUND);
  assert_int_equal(cart_store_add(pool, id, &s2, 1, 99, &q), KIT_OK);
  assert_int_equal(cart_store_set_line(pool, id, &s2), KIT_OK);
  struct cart_record c;
  assert_int_equal(cart_store_load(pool, &a, id, &c), KIT_OK);
  assert_int_equal(c.line_count, 2);
  assert_i64(line_of(&c, P2)->quantity, 4);

  assert_int_equal(cart_store_remove(pool, id, P1), KIT_OK);
  assert_int_equal(cart_store_remove(pool, id, P1), KIT_NOT_FOUND);
  assert_int_equal(cart_store_load(pool, &a, id, &c), KIT_OK);
  assert_int_equal(c.line_count, 1);

  assert_int_equal(cart_store_clear(pool, id), KIT_OK);
  assert_int_equal(cart_store_load(pool, &a, id, &c), KIT_OK);
  assert_int_equal(c.line_count, 0);
  assert_true(ttl(id) > CART_TTL_SECONDS - 5);
  drop(id);
  assert_int_equal(cart_store_clear(pool, id), KIT_NOT_FOUND);
  arena_free(&a);
}

/* Emptied for an order once: the saga's call and the order.confirmed
 * consumer, in either order, or a redelivery, empty it one time only, so
 * a line added after the checkout stays. */
static void test_clear_for_order_once(void **state) {
  (void)state;
  char id[UUID_STR_LEN], other[UUID_STR_LEN];
  cart_new_id(id);
  struct arena a;
  arena_init(&a, 4096);
  int64_t q = 0;
  bool already = true;
  const char *order = "0193a000-0000-7000-8000-000000000001";
  const char *order2 = "0193a000-0000-7000-8000-000000000002";
  struct cart_line s1 = snapshot(P1, 100), s2 = snapshot(P2, 250);
  assert_int_equal(cart_store_create(pool, id, "", "USD", NULL), KIT_OK);
  assert_int_equal(cart_store_add(pool, id, &s1, 2, 99, &q), KIT_OK);
  assert_int_equal(cart_store_add_code(pool, id, "SAVE10"), KIT_OK);
  assert_int_equal(cart_store_clear_for_order(pool, id, order, &already),
                   KIT_OK);
  assert_false(already);
  struct cart_record c;
  assert_int_equal(cart_store_load(pool, &a, id, &c), KIT_OK);
  assert_int_equal(c.line_count, 0);
  assert_int_equal(c.code_count, 0);
  assert_string_equal(c.currency, "USD");
  /* The customer goes on shopping; the late second clear changes nothing. */
  assert_int_equal(cart_store_add(pool, id, &s2, 1, 99, &q), KIT_OK);
  assert_int_equal(cart_store_clear_for_order(pool, id, order, &already),
                   KIT_OK);
  assert_true(already);
  assert_int_equal(cart_store_load(pool, &a, id, &c), KIT_OK);
  assert_int_equal(c.line_count, 1);
  /* The markers take no line's place. */
  assert_int_equal(cart_store_add(pool, id, &s1, 1, 99, &q), KIT_OK);
  assert_int_equal(cart_store_load(pool, &a, id, &c), KIT_OK);
  assert_int_equal(c.line_count, 2);
  /* Another order from the same cart empties it again. */
  assert_int_equal(cart_store_clear_for_order(pool, id, order2, &already),
                   KIT_OK);
  assert_false(already);
  assert_int_equal(cart_store_load(pool, &a, id, &c), KIT_OK);
  assert_int_equal(c.line_count, 0);
  /* No cart: not found, and nothing is created. */
  cart_new_id(other);
  assert_int_equal(cart_store_clear_for_order(pool, other, order, NULL),
                   KIT_NOT_FOUND);
  assert_int_equal(cart_store_load(pool, &a, other, &c), KIT_NOT_FOUND);
  drop(id);
  char key[80];
  snprintf(key, sizeof key, "cart:%s:orders", id);
  const char *argv[] = {"DEL", key};
  struct kv_reply *r = NULL;
  assert_int_equal(kv_command(pool, &r, 2, argv, NULL), KIT_OK);
  assert_int_equal(r->integer, 1);
  kv_reply_free(r);
  arena_free(&a);
}

static void test_merge(void **state) {
  (void)state;
  char target[UUID_STR_LEN], source[UUID_STR_LEN];
  cart_new_id(target);
  cart_new_id(source);
  struct arena a;
  arena_init(&a, 4096);
  int64_t q = 0;
  struct cart_line s1 = snapshot(P1, 100), s2 = snapshot(P2, 250);
  assert_int_equal(cart_store_create(pool, target, "u-2", "USD", NULL), KIT_OK);
  assert_int_equal(cart_store_create(pool, source, "", "USD", NULL), KIT_OK);
  assert_int_equal(cart_store_add(pool, target, &s1, 1, 99, &q), KIT_OK);
  assert_int_equal(cart_store_add(pool, source, &s2, 2, 99, &q), KIT_OK);
  struct cart_line merged[2] = {s1, s2};
  merged[0].quantity = 3;
  merged[1].quantity = 2;
  assert_int_equal(cart_store_merge(pool, target, merged, 2, source), KIT_OK);
  struct cart_record c;
  assert_int_equal(cart_store_load(pool, &a, source, &c), KIT_NOT_FOUND);
  assert_int_equal(cart_store_load(pool, &a, target, &c), KIT_OK);
  assert_int_equal(c.line_count, 2);
  assert_i64(line_of(&c, P1)->quantity, 3);
  assert_i64(line_of(&c, P2)->quantity, 2);
  assert_string_equal(c.user_id, "u-2");
  /* Nothing to write: the source still goes. */
  assert_int_equal(cart_store_create(pool, source, "", "USD", NULL), KIT_OK);
  assert_int_equal(cart_store_merge(pool, target, NULL, 0, source), KIT_OK);
  assert_int_equal(cart_store_load(pool, &a, source, &c), KIT_NOT_FOUND);
  drop(target);
  arena_free(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_load_and_expiry),
      cmocka_unit_test(test_add_caps_and_snapshots),
      cmocka_unit_test(test_set_remove_clear),
      cmocka_unit_test(test_merge),
      cmocka_unit_test(test_clear_for_order_once),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
