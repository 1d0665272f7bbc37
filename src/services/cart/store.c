/* store.c - carts in Redis (see store.h for the layout). */
#include "services/cart/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit/err.h"
#include "kit/log.h"
#include "kit/money.h"

#define TTL_TEXT_SIZE 16

static void cart_key(const char *id, char out[64]) {
  snprintf(out, 64, "cart:%s", id);
}

/* A line's field: its variant id, or its product id when it has none. */
static void line_field(const char *key, char out[64]) {
  snprintf(out, 64, "i:%s", key);
}

static const char *line_key(const struct cart_line *l) {
  return l->variant_id[0] != '\0' ? l->variant_id : l->product_id;
}

static void ttl_text(char out[TTL_TEXT_SIZE]) {
  snprintf(out, TTL_TEXT_SIZE, "%d", CART_TTL_SECONDS);
}

static void now_rfc3339(char out[32]) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Serializes a line (malloc'd string, caller frees; NULL on no memory). */
static char *line_encode(const struct cart_line *l) {
  char price[MONEY_BUF];
  money_format(l->snapshot_price, l->currency, price);
  json_t *o = json_pack(
      "{s:s, s:s, s:s, s:s, s:I, s:s}", "sku", l->sku ? l->sku : "", "name",
      l->name ? l->name : "", "unit_price", price, "currency", l->currency,
      "quantity", (json_int_t)l->quantity, "product_id", l->product_id);
  if (o != NULL && l->variant_id[0] != '\0')
    json_object_set_new(o, "variant_id", json_string(l->variant_id));
  if (o == NULL) return NULL;
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return s;
}

/* Parses a stored line; false when it is not one of ours. key is the
 * field's id: the product id of lines written before variants existed. */
static bool line_decode(struct arena *arena, const char *key, const char *text,
                        size_t len, struct cart_line *out) {
  json_error_t jerr;
  json_t *o = json_loadb(text, len, 0, &jerr);
  if (o == NULL) return false;
  bool ok = false;
  const char *sku = json_string_value(json_object_get(o, "sku"));
  const char *name = json_string_value(json_object_get(o, "name"));
  const char *price = json_string_value(json_object_get(o, "unit_price"));
  const char *currency = json_string_value(json_object_get(o, "currency"));
  json_t *qty = json_object_get(o, "quantity");
  if (sku == NULL || name == NULL || price == NULL || currency == NULL ||
      strlen(currency) != 3 || !json_is_number(qty))
    goto cleanup;
  memset(out, 0, sizeof *out);
  const char *pid = json_string_value(json_object_get(o, "product_id"));
  const char *vid = json_string_value(json_object_get(o, "variant_id"));
  snprintf(out->product_id, sizeof out->product_id, "%s", pid ? pid : key);
  snprintf(out->variant_id, sizeof out->variant_id, "%s", vid ? vid : "");
  snprintf(out->currency, sizeof out->currency, "%s", currency);
  if (money_parse(price, currency, &out->snapshot_price) != KIT_OK)
    goto cleanup;
  /* Lua's cjson writes integers back as numbers that may look like reals. */
  out->quantity = json_is_integer(qty) ? (int64_t)json_integer_value(qty)
                                       : (int64_t)json_real_value(qty);
  out->sku = arena_strdup(arena, sku);
  out->name = arena_strdup(arena, name);
  ok = out->sku != NULL && out->name != NULL;
cleanup:
  json_decref(o);
  return ok;
}

static int reply_status(int rc, const struct kv_reply *r) {
  if (rc != KIT_OK) return rc;
  if (r == NULL || r->type == KV_ERROR) {
    log_error("cart store: redis error: %s", r && r->str ? r->str : "no reply");
    return KIT_ERROR;
  }
  return KIT_OK;
}

int cart_store_create(struct kv_pool *kv, const char *id, const char *user_id,
                      const char *currency, char created_at[32]) {
  char key[64], ttl[TTL_TEXT_SIZE], created[32];
  cart_key(id, key);
  ttl_text(ttl);
  now_rfc3339(created);
  json_t *meta = json_pack("{s:s, s:s, s:s}", "user_id", user_id ? user_id : "",
                           "created_at", created, "currency", currency);
  char *meta_text = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
  json_decref(meta);
  if (meta_text == NULL) return KIT_NOMEM;

  const char *hset[] = {"HSET", key, "_meta", meta_text};
  const char *expire[] = {"EXPIRE", key, ttl};
  const int argcs[] = {4, 3};
  const char *const *argvs[] = {hset, expire};
  struct kv_reply *out[2] = {NULL, NULL};
  int rc = kv_pipeline(kv, 2, argcs, argvs, out);
  if (rc == KIT_OK) rc = reply_status(rc, out[0]);
  if (rc == KIT_OK) rc = reply_status(rc, out[1]);
  kv_reply_free(out[0]);
  kv_reply_free(out[1]);
  free(meta_text);
  if (rc == KIT_OK && created_at != NULL) memcpy(created_at, created, 32);
  return rc;
}

int cart_store_load(struct kv_pool *kv, struct arena *arena, const char *id,
                    struct cart_record *out) {
  char key[64], ttl[TTL_TEXT_SIZE];
  cart_key(id, key);
  ttl_text(ttl);
  const char *hgetall[] = {"HGETALL", key};
  const char *expire[] = {"EXPIRE", key, ttl};
  const int argcs[] = {2, 3};
  const char *const *argvs[] = {hgetall, expire};
  struct kv_reply *rep[2] = {NULL, NULL};
  int rc = kv_pipeline(kv, 2, argcs, argvs, rep);
  if (rc == KIT_OK) rc = reply_status(rc, rep[0]);
  if (rc != KIT_OK) goto cleanup;

  const struct kv_reply *all = rep[0];
  if (all->type != KV_ARRAY || all->count == 0) {
    rc = KIT_NOT_FOUND;
    goto cleanup;
  }
  memset(out, 0, sizeof *out);
  snprintf(out->id, sizeof out->id, "%s", id);
  out->lines = arena_alloc(arena, sizeof *out->lines * (all->count / 2 + 1));
  if (out->lines == NULL) {
    rc = KIT_NOMEM;
    goto cleanup;
  }
  bool have_meta = false;
  long long codes_at[CART_MAX_CODES];
  for (size_t i = 0; i + 1 < all->count; i += 2) {
    const struct kv_reply *f = &all->elements[i];
    const struct kv_reply *v = &all->elements[i + 1];
    if (f->str == NULL || v->str == NULL) continue;
    if (strcmp(f->str, "_meta") == 0) {
      json_error_t jerr;
      json_t *meta = json_loadb(v->str, v->len, 0, &jerr);
      const char *uid = json_string_value(json_object_get(meta, "user_id"));
      const char *created =
          json_string_value(json_object_get(meta, "created_at"));
      const char *cur = json_string_value(json_object_get(meta, "currency"));
      snprintf(out->currency, sizeof out->currency, "%s",
               cur != NULL && strlen(cur) == 3 ? cur : "");
      snprintf(out->user_id, sizeof out->user_id, "%s", uid ? uid : "");
      snprintf(out->created_at, sizeof out->created_at, "%s",
               created ? created : "");
      json_decref(meta);
      have_meta = true;
    } else if (strncmp(f->str, "c:", 2) == 0) {
      if (out->code_count < CART_MAX_CODES) {
        codes_at[out->code_count] = strtoll(v->str, NULL, 10);
        snprintf(out->codes[out->code_count++], sizeof out->codes[0], "%s",
                 f->str + 2);
      }
    } else if (strncmp(f->str, "i:", 2) == 0) {
      if (line_decode(arena, f->str + 2, v->str, v->len,
                      &out->lines[out->line_count]))
        out->line_count++;
      else
        log_warn("cart %s: unreadable line %s skipped", id, f->str);
    }
  }
  /* Codes in the order applied (a handful: insertion sort). */
  for (size_t i = 1; i < out->code_count; i++) {
    for (size_t j = i; j > 0 && codes_at[j] < codes_at[j - 1]; j--) {
      long long t = codes_at[j];
      codes_at[j] = codes_at[j - 1];
      codes_at[j - 1] = t;
      char tmp[40];
      memcpy(tmp, out->codes[j], sizeof tmp);
      memcpy(out->codes[j], out->codes[j - 1], sizeof tmp);
      memcpy(out->codes[j - 1], tmp, sizeof tmp);
    }
  }
  /* A hash without its meta is a cart whose expiry raced a write: treat
   * it as gone. A cart made before carts had a currency is in its lines'. */
  if (!have_meta) rc = KIT_NOT_FOUND;
  if (out->currency[0] == '\0')
    snprintf(out->currency, sizeof out->currency, "%s",
             out->line_count > 0 ? out->lines[0].currency
                                 : CART_DEFAULT_CURRENCY);
cleanup:
  kv_reply_free(rep[0]);
  kv_reply_free(rep[1]);
  return rc;
}

/* Adds to a line: returns {1, q} stored, {0, q} over the cap, {2, 0} too
 * many lines, nil when the cart does not exist. */
static const char ADD_SCRIPT[] =
    "if redis.call('HEXISTS', KEYS[1], '_meta') == 0 then return false end\n"
    "local q = tonumber(ARGV[4])\n"
    "local cur = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "if cur then q = q + tonumber(cjson.decode(cur).quantity)\n"
    "elseif redis.call('HLEN', KEYS[1]) - 1 >= tonumber(ARGV[6]) then\n"
    "  return {2, 0} end\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[5])\n"
    "if q > tonumber(ARGV[2]) then return {0, q} end\n"
    "local line = cjson.decode(ARGV[3])\n"
    "line.quantity = q\n"
    "redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(line))\n"
    "return {1, q}\n";

int cart_store_add(struct kv_pool *kv, const char *id,
                   const struct cart_line *snapshot, int64_t add,
                   int64_t max_quantity, int64_t *new_quantity) {
  char key[64], field[64], ttl[TTL_TEXT_SIZE], max[24], addq[24], lines[24];
  cart_key(id, key);
  line_field(line_key(snapshot), field);
  ttl_text(ttl);
  snprintf(max, sizeof max, "%lld", (long long)max_quantity);
  snprintf(addq, sizeof addq, "%lld", (long long)add);
  snprintf(lines, sizeof lines, "%d", CART_MAX_LINES);
  char *json = line_encode(snapshot);
  if (json == NULL) return KIT_NOMEM;
  const char *argv[] = {"EVAL", ADD_SCRIPT, "1",  key, field,
                        max,    json,       addq, ttl, lines};
  struct kv_reply *r = NULL;
  int rc = kv_command(kv, &r, 10, argv, NULL);
  rc = reply_status(rc, r);
  if (rc != KIT_OK) goto cleanup;
  if (r->type == KV_NIL) {
    rc = KIT_NOT_FOUND;
    goto cleanup;
  }
  if (r->type != KV_ARRAY || r->count != 2) {
    rc = KIT_ERROR;
    goto cleanup;
  }
  *new_quantity = r->elements[1].integer;
  rc = r->elements[0].integer == 1 ? KIT_OK : KIT_CONFLICT;
cleanup:
  kv_reply_free(r);
  free(json);
  return rc;
}

static const char SET_SCRIPT[] =
    "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end\n"
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[3])\n"
    "return 1\n";

int cart_store_set_line(struct kv_pool *kv, const char *id,
                        const struct cart_line *line) {
  char key[64], field[64], ttl[TTL_TEXT_SIZE];
  cart_key(id, key);
  line_field(line_key(line), field);
  ttl_text(ttl);
  char *json = line_encode(line);
  if (json == NULL) return KIT_NOMEM;
  const char *argv[] = {"EVAL", SET_SCRIPT, "1", key, field, json, ttl};
  struct kv_reply *r = NULL;
  int rc = kv_command(kv, &r, 7, argv, NULL);
  rc = reply_status(rc, r);
  if (rc == KIT_OK && r->integer != 1) rc = KIT_NOT_FOUND;
  kv_reply_free(r);
  free(json);
  return rc;
}

int cart_store_remove(struct kv_pool *kv, const char *id, const char *line_id) {
  char key[64], field[64], ttl[TTL_TEXT_SIZE];
  cart_key(id, key);
  line_field(line_id, field);
  ttl_text(ttl);
  const char *hdel[] = {"HDEL", key, field};
  const char *expire[] = {"EXPIRE", key, ttl};
  const int argcs[] = {3, 3};
  const char *const *argvs[] = {hdel, expire};
  struct kv_reply *rep[2] = {NULL, NULL};
  int rc = kv_pipeline(kv, 2, argcs, argvs, rep);
  rc = reply_status(rc, rep[0]);
  if (rc == KIT_OK && rep[0]->integer == 0) rc = KIT_NOT_FOUND;
  kv_reply_free(rep[0]);
  kv_reply_free(rep[1]);
  return rc;
}

static const char CLEAR_SCRIPT[] =
    "local meta = redis.call('HGET', KEYS[1], '_meta')\n"
    "if not meta then return 0 end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('HSET', KEYS[1], '_meta', meta)\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[1])\n"
    "return 1\n";

int cart_store_clear(struct kv_pool *kv, const char *id) {
  char key[64], ttl[TTL_TEXT_SIZE];
  cart_key(id, key);
  ttl_text(ttl);
  const char *argv[] = {"EVAL", CLEAR_SCRIPT, "1", key, ttl};
  struct kv_reply *r = NULL;
  int rc = kv_command(kv, &r, 5, argv, NULL);
  rc = reply_status(rc, r);
  if (rc == KIT_OK && r->integer != 1) rc = KIT_NOT_FOUND;
  kv_reply_free(r);
  return rc;
}

/* Empties the cart once per order: 0 no cart, 1 emptied now, 2 emptied for
 * this order before (nothing changed). */
static const char CLEAR_FOR_ORDER_SCRIPT[] =
    "local meta = redis.call('HGET', KEYS[1], '_meta')\n"
    "if not meta then return 0 end\n"
    "if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 then return 2 end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('HSET', KEYS[1], '_meta', meta)\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[1])\n"
    "redis.call('SADD', KEYS[2], ARGV[2])\n"
    "redis.call('EXPIRE', KEYS[2], ARGV[1])\n"
    "return 1\n";

int cart_store_clear_for_order(struct kv_pool *kv, const char *id,
                               const char *order_id, bool *already) {
  char key[64], orders[80], ttl[TTL_TEXT_SIZE];
  cart_key(id, key);
  snprintf(orders, sizeof orders, "%s:orders", key);
  ttl_text(ttl);
  const char *argv[] = {"EVAL",  CLEAR_FOR_ORDER_SCRIPT, "2", key, orders, ttl,
                        order_id};
  struct kv_reply *r = NULL;
  int rc = kv_command(kv, &r, 7, argv, NULL);
  rc = reply_status(rc, r);
  if (rc == KIT_OK && r->integer == 0) rc = KIT_NOT_FOUND;
  if (rc == KIT_OK && already != NULL) *already = r->integer == 2;
  kv_reply_free(r);
  return rc;
}

int cart_store_merge(struct kv_pool *kv, const char *target_id,
                     const struct cart_line *lines, size_t n,
                     const char *source_id) {
  char target[64], source[64], ttl[TTL_TEXT_SIZE];
  cart_key(target_id, target);
  cart_key(source_id, source);
  ttl_text(ttl);
  int rc = KIT_NOMEM;
  size_t hset_argc = 2 + 2 * n;
  const char **hset = calloc(hset_argc, sizeof *hset);
  char(*fields)[64] = calloc(n + 1, sizeof *fields);
  char **jsons = calloc(n + 1, sizeof *jsons);
  if (hset == NULL || fields == NULL || jsons == NULL) goto cleanup;
  hset[0] = "HSET";
  hset[1] = target;
  for (size_t i = 0; i < n; i++) {
    line_field(line_key(&lines[i]), fields[i]);
    jsons[i] = line_encode(&lines[i]);
    if (jsons[i] == NULL) goto cleanup;
    hset[2 + 2 * i] = fields[i];
    hset[3 + 2 * i] = jsons[i];
  }
  const char *multi[] = {"MULTI"};
  const char *expire[] = {"EXPIRE", target, ttl};
  const char *del[] = {"DEL", source};
  const char *exec[] = {"EXEC"};
  /* With no lines to write, the HSET is skipped (it needs a pair). */
  const int argcs[] = {1, (int)hset_argc, 3, 2, 1};
  const char *const *argvs[] = {multi, hset, expire, del, exec};
  const int argcs0[] = {1, 3, 2, 1};
  const char *const *argvs0[] = {multi, expire, del, exec};
  struct kv_reply *rep[5] = {NULL, NULL, NULL, NULL, NULL};
  int count = n > 0 ? 5 : 4;
  rc = kv_pipeline(kv, count, n > 0 ? argcs : argcs0, n > 0 ? argvs : argvs0,
                   rep);
  if (rc == KIT_OK) rc = reply_status(rc, rep[count - 1]);
  if (rc == KIT_OK && rep[count - 1]->type != KV_ARRAY) rc = KIT_ERROR;
  for (int i = 0; i < count; i++)
    kv_reply_free(rep[i]);
cleanup:
  if (jsons != NULL)
    for (size_t i = 0; i < n; i++)
      free(jsons[i]);
  free(jsons);
  free(fields);
  free(hset);
  return rc;
}

/* Puts a code on the cart: nil when no cart, 0 when it holds the most
 * codes already, 1 when stored (or there already). */
static const char ADD_CODE_SCRIPT[] =
    "if redis.call('HEXISTS', KEYS[1], '_meta') == 0 then return false end\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[4])\n"
    "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 1 end\n"
    "local n = 0\n"
    "for _, k in ipairs(redis.call('HKEYS', KEYS[1])) do\n"
    "  if string.sub(k, 1, 2) == 'c:' then n = n + 1 end\n"
    "end\n"
    "if n >= tonumber(ARGV[3]) then return 0 end\n"
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
    "return 1\n";

int cart_store_add_code(struct kv_pool *kv, const char *id, const char *code) {
  char key[64], field[64], ttl[TTL_TEXT_SIZE], max[16], at[32];
  cart_key(id, key);
  snprintf(field, sizeof field, "c:%s", code);
  ttl_text(ttl);
  snprintf(max, sizeof max, "%d", CART_MAX_CODES);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(at, sizeof at, "%lld",
           (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000);
  const char *argv[] = {"EVAL", ADD_CODE_SCRIPT, "1", key, field, at, max, ttl};
  struct kv_reply *r = NULL;
  int rc = kv_command(kv, &r, 8, argv, NULL);
  rc = reply_status(rc, r);
  if (rc == KIT_OK && r->type == KV_NIL)
    rc = KIT_NOT_FOUND;
  else if (rc == KIT_OK && r->integer != 1)
    rc = KIT_CONFLICT;
  kv_reply_free(r);
  return rc;
}

int cart_store_remove_code(struct kv_pool *kv, const char *id,
                           const char *code) {
  char key[64], field[64];
  cart_key(id, key);
  snprintf(field, sizeof field, "c:%s", code);
  const char *hdel[] = {"HDEL", key, field};
  struct kv_reply *r = NULL;
  int rc = kv_command(kv, &r, 3, hdel, NULL);
  rc = reply_status(rc, r);
  if (rc == KIT_OK && r->integer == 0) rc = KIT_NOT_FOUND;
  kv_reply_free(r);
  return rc;
}
