/* payment_ledger.c - the sandbox card processor's books (see payment_ledger.h).
 *
 * Intents, idempotency keys and orders are found through small string hash
 * maps (chained, fixed bucket count: the sandbox holds at most a few hundred
 * thousand intents in a benchmark). Every state change appends an event to
 * its intent and to the delivery queue, with the payload rendered at that
 * moment, as a processor snapshots the object into the event it sends.
 */
#include "sandbox/payment_ledger.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit/uuid.h"

static const struct sbp_card cards[] = {
    {"tok_visa", "visa", "4242", SBP_TOKEN_APPROVE, NULL},
    {"tok_mastercard", "mastercard", "4444", SBP_TOKEN_APPROVE, NULL},
    {"tok_amex", "amex", "8431", SBP_TOKEN_APPROVE, NULL},
    {"tok_chargeDeclined", "visa", "0002", SBP_TOKEN_DECLINE,
     "generic_decline"},
    {"tok_insufficientFunds", "visa", "9995", SBP_TOKEN_DECLINE,
     "insufficient_funds"},
    {"tok_timeout", "visa", "0341", SBP_TOKEN_TIMEOUT, NULL},
};

const struct sbp_card *sbp_card_lookup(const char *token) {
  if (token == NULL) return NULL;
  for (size_t i = 0; i < sizeof cards / sizeof cards[0]; i++) {
    if (strcmp(cards[i].token, token) == 0) return &cards[i];
  }
  return NULL;
}

/* --- a string-keyed hash map (keys copied, values borrowed) --- */

#define MAP_BUCKETS 16384

struct map_entry {
  char *key;
  void *value;
  struct map_entry *next;
};

struct map {
  struct map_entry *buckets[MAP_BUCKETS];
};

static size_t map_hash(const char *s) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *s != '\0'; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return (size_t)(h % MAP_BUCKETS);
}

static void *map_get(const struct map *m, const char *key) {
  for (struct map_entry *e = m->buckets[map_hash(key)]; e; e = e->next) {
    if (strcmp(e->key, key) == 0) return e->value;
  }
  return NULL;
}

static int map_put(struct map *m, const char *key, void *value) {
  struct map_entry *e = calloc(1, sizeof *e);
  if (e == NULL) return -1;
  e->key = strdup(key);
  if (e->key == NULL) {
    free(e);
    return -1;
  }
  size_t b = map_hash(key);
  e->value = value;
  e->next = m->buckets[b];
  m->buckets[b] = e;
  return 0;
}

/* Unlinks key and returns its value (NULL when absent). */
static void *map_remove(struct map *m, const char *key) {
  struct map_entry **pp = &m->buckets[map_hash(key)];
  for (; *pp; pp = &(*pp)->next) {
    if (strcmp((*pp)->key, key) == 0) {
      struct map_entry *e = *pp;
      void *v = e->value;
      *pp = e->next;
      free(e->key);
      free(e);
      return v;
    }
  }
  return NULL;
}

/* Frees the entries; free_value (may be NULL) frees each value. */
static void map_clear(struct map *m, void (*free_value)(void *)) {
  for (size_t b = 0; b < MAP_BUCKETS; b++) {
    struct map_entry *e = m->buckets[b];
    while (e) {
      struct map_entry *next = e->next;
      if (free_value) free_value(e->value);
      free(e->key);
      free(e);
      e = next;
    }
    m->buckets[b] = NULL;
  }
}

/* --- the books --- */

struct event_rec {
  char id[SBP_ID_MAX];
  char *payload; /* the whole event, JSON */
  int attempts;
  int64_t next_at_ms;
  bool delivered;
  bool sent;              /* false: the endpoint is not subscribed to it */
  struct event_rec *next; /* the intent's next event */
};

struct intent_rec {
  struct sbp_intent pi;
  struct event_rec *events, *events_tail;
  struct intent_rec *next_same_order;
};

struct idem_rec {
  char *fingerprint;
  unsigned status;
  char *body;
  bool in_flight;
};

struct sbp_ledger {
  pthread_mutex_t lock;
  struct map intents;         /* id → intent_rec (owned) */
  struct map orders;          /* order_id → first intent_rec of the order */
  struct map idem;            /* key → idem_rec (owned) */
  struct event_rec **pending; /* not yet delivered, in creation order */
  size_t pending_count, pending_cap;
};

static void free_intent(void *p) {
  struct intent_rec *r = p;
  struct event_rec *e = r->events;
  while (e) {
    struct event_rec *next = e->next;
    free(e->payload);
    free(e);
    e = next;
  }
  free(r);
}

static void free_idem(void *p) {
  struct idem_rec *r = p;
  free(r->fingerprint);
  free(r->body);
  free(r);
}

struct sbp_ledger *sbp_ledger_create(void) {
  struct sbp_ledger *l = calloc(1, sizeof *l);
  if (l == NULL) return NULL;
  pthread_mutex_init(&l->lock, NULL);
  return l;
}

void sbp_ledger_destroy(struct sbp_ledger *l) {
  if (l == NULL) return;
  map_clear(&l->orders, NULL);
  map_clear(&l->intents, free_intent);
  map_clear(&l->idem, free_idem);
  free(l->pending);
  pthread_mutex_destroy(&l->lock);
  free(l);
}

static int64_t now_s(void) { return (int64_t)time(NULL); }

static void new_id(const char *prefix, char out[SBP_ID_MAX]) {
  char hex[25];
  random_hex(hex, 12);
  snprintf(out, SBP_ID_MAX, "%s_%s", prefix, hex);
}

void *sbp_intent_json(const struct sbp_intent *pi) {
  json_t *o = json_object();
  if (o == NULL) return NULL;
  json_object_set_new(o, "id", json_string(pi->id));
  json_object_set_new(o, "object", json_string("payment_intent"));
  json_object_set_new(o, "amount", json_integer(pi->amount));
  json_object_set_new(o, "amount_capturable",
                      json_integer(pi->amount_capturable));
  json_object_set_new(o, "amount_received", json_integer(pi->amount_received));
  json_object_set_new(o, "amount_refunded", json_integer(pi->amount_refunded));
  json_object_set_new(o, "currency", json_string(pi->currency));
  json_object_set_new(o, "status", json_string(pi->status));
  json_object_set_new(o, "capture_method",
                      json_string(pi->capture_manual ? "manual" : "automatic"));
  json_object_set_new(o, "created", json_integer(pi->created));
  json_object_set_new(o, "livemode", json_false());
  json_t *meta = json_object();
  if (pi->order_id[0] != '\0')
    json_object_set_new(meta, "order_id", json_string(pi->order_id));
  json_object_set_new(o, "metadata", meta);
  if (pi->brand[0] != '\0') {
    json_t *card = json_object();
    json_object_set_new(card, "brand", json_string(pi->brand));
    json_object_set_new(card, "last4", json_string(pi->last4));
    json_object_set_new(o, "card", card);
  } else {
    json_object_set_new(o, "card", json_null());
  }
  if (pi->error_code[0] != '\0') {
    json_t *err = json_object();
    json_object_set_new(err, "type", json_string("card_error"));
    json_object_set_new(err, "code", json_string(pi->error_code));
    json_object_set_new(err, "decline_code", json_string(pi->decline_code));
    json_object_set_new(err, "message", json_string("Your card was declined."));
    json_object_set_new(o, "last_payment_error", err);
  } else {
    json_object_set_new(o, "last_payment_error", json_null());
  }
  return o;
}

void *sbp_refund_json(const struct sbp_refund *re) {
  json_t *o = json_object();
  if (o == NULL) return NULL;
  json_object_set_new(o, "id", json_string(re->id));
  json_object_set_new(o, "object", json_string("refund"));
  json_object_set_new(o, "amount", json_integer(re->amount));
  json_object_set_new(o, "currency", json_string(re->currency));
  json_object_set_new(o, "payment_intent", json_string(re->payment_intent));
  json_object_set_new(o, "status", json_string("succeeded"));
  json_object_set_new(o, "created", json_integer(re->created));
  return o;
}

/* The charge of an intent, as charge.* events carry it. */
static json_t *charge_json(const struct sbp_intent *pi) {
  json_t *o = json_object();
  if (o == NULL) return NULL;
  char id[SBP_ID_MAX];
  snprintf(id, sizeof id, "ch_%s", pi->id + 3);
  json_object_set_new(o, "id", json_string(id));
  json_object_set_new(o, "object", json_string("charge"));
  json_object_set_new(o, "payment_intent", json_string(pi->id));
  json_object_set_new(o, "amount", json_integer(pi->amount));
  json_object_set_new(o, "amount_captured", json_integer(pi->amount_received));
  json_object_set_new(o, "amount_refunded", json_integer(pi->amount_refunded));
  json_object_set_new(o, "refunded",
                      json_boolean(pi->amount_received > 0 &&
                                   pi->amount_refunded >= pi->amount_received));
  json_object_set_new(o, "currency", json_string(pi->currency));
  json_t *meta = json_object();
  if (pi->order_id[0] != '\0')
    json_object_set_new(meta, "order_id", json_string(pi->order_id));
  json_object_set_new(o, "metadata", meta);
  return o;
}

/* Appends an event about r (lock held). Out of memory loses the event, which
 * a real processor would never do; the reconciler of the payment service
 * still finds the state by asking. */
static void add_event(struct sbp_ledger *l, struct intent_rec *r,
                      const char *type) {
  struct event_rec *e = calloc(1, sizeof *e);
  if (e == NULL) return;
  new_id("evt", e->id);
  json_t *object = strncmp(type, "charge.", 7) == 0 ? charge_json(&r->pi)
                                                    : sbp_intent_json(&r->pi);
  json_t *data = json_object();
  json_object_set_new(data, "object", object);
  json_t *ev = json_object();
  json_object_set_new(ev, "id", json_string(e->id));
  json_object_set_new(ev, "object", json_string("event"));
  json_object_set_new(ev, "type", json_string(type));
  json_object_set_new(ev, "created", json_integer(now_s()));
  json_object_set_new(ev, "livemode", json_false());
  json_object_set_new(ev, "data", data);
  e->payload = json_dumps(ev, JSON_COMPACT);
  json_decref(ev);
  if (e->payload == NULL) {
    free(e);
    return;
  }
  /* Like a Stripe endpoint configured with its enabled events, the shop's
   * endpoint is not subscribed to payment_intent.created (it wrote the
   * payment before asking): listed, never sent. */
  bool send = strcmp(type, "payment_intent.created") != 0;
  if (send && l->pending_count == l->pending_cap) {
    size_t cap = l->pending_cap ? l->pending_cap * 2 : 64;
    struct event_rec **p = realloc(l->pending, cap * sizeof *p);
    if (p == NULL) {
      free(e->payload);
      free(e);
      return;
    }
    l->pending = p;
    l->pending_cap = cap;
  }
  if (send) l->pending[l->pending_count++] = e;
  e->sent = send;
  if (r->events_tail)
    r->events_tail->next = e;
  else
    r->events = e;
  r->events_tail = e;
}

enum sbp_outcome sbp_intent_create(struct sbp_ledger *l, int64_t amount,
                                   const char *currency, const char *token,
                                   bool capture_manual, const char *order_id,
                                   struct sbp_intent *out) {
  const struct sbp_card *card = NULL;
  if (token != NULL) {
    card = sbp_card_lookup(token);
    if (card == NULL) return SBP_BAD_TOKEN;
  }
  struct intent_rec *r = calloc(1, sizeof *r);
  if (r == NULL) return SBP_NOMEM;
  new_id("pi", r->pi.id);
  r->pi.amount = amount;
  for (int i = 0; i < 3 && currency[i]; i++)
    r->pi.currency[i] = (char)tolower((unsigned char)currency[i]);
  snprintf(r->pi.status, sizeof r->pi.status, "%s",
           card ? "requires_confirmation" : "requires_payment_method");
  r->pi.capture_manual = capture_manual;
  if (card) {
    snprintf(r->pi.token, sizeof r->pi.token, "%s", card->token);
    snprintf(r->pi.brand, sizeof r->pi.brand, "%s", card->brand);
    snprintf(r->pi.last4, sizeof r->pi.last4, "%s", card->last4);
  }
  if (order_id) snprintf(r->pi.order_id, sizeof r->pi.order_id, "%s", order_id);
  r->pi.created = now_s();

  pthread_mutex_lock(&l->lock);
  enum sbp_outcome rc = SBP_OK;
  if (map_put(&l->intents, r->pi.id, r) != 0) {
    pthread_mutex_unlock(&l->lock);
    free(r);
    return SBP_NOMEM;
  }
  if (r->pi.order_id[0] != '\0') {
    struct intent_rec *first = map_get(&l->orders, r->pi.order_id);
    if (first == NULL) {
      if (map_put(&l->orders, r->pi.order_id, r) != 0) rc = SBP_NOMEM;
    } else {
      while (first->next_same_order)
        first = first->next_same_order;
      first->next_same_order = r;
    }
  }
  add_event(l, r, "payment_intent.created");
  *out = r->pi;
  pthread_mutex_unlock(&l->lock);
  return rc;
}

enum sbp_outcome sbp_intent_confirm(struct sbp_ledger *l, const char *id,
                                    const char *token, struct sbp_intent *out,
                                    bool *hold) {
  *hold = false;
  const struct sbp_card *card = NULL;
  if (token != NULL) {
    card = sbp_card_lookup(token);
    if (card == NULL) return SBP_BAD_TOKEN;
  }
  enum sbp_outcome rc = SBP_OK;
  pthread_mutex_lock(&l->lock);
  struct intent_rec *r = map_get(&l->intents, id);
  if (r == NULL) {
    rc = SBP_NOT_FOUND;
    goto done;
  }
  struct sbp_intent *pi = &r->pi;
  if (strcmp(pi->status, "requires_confirmation") != 0 &&
      strcmp(pi->status, "requires_payment_method") != 0) {
    rc = SBP_BAD_STATE;
    goto done;
  }
  if (card == NULL) card = sbp_card_lookup(pi->token);
  if (card == NULL) { /* no payment method attached yet */
    rc = SBP_BAD_STATE;
    goto done;
  }
  snprintf(pi->token, sizeof pi->token, "%s", card->token);
  snprintf(pi->brand, sizeof pi->brand, "%s", card->brand);
  snprintf(pi->last4, sizeof pi->last4, "%s", card->last4);
  if (card->kind == SBP_TOKEN_DECLINE) {
    snprintf(pi->status, sizeof pi->status, "requires_payment_method");
    snprintf(pi->error_code, sizeof pi->error_code, "card_declined");
    snprintf(pi->decline_code, sizeof pi->decline_code, "%s",
             card->decline_code);
    add_event(l, r, "payment_intent.payment_failed");
    rc = SBP_DECLINED;
    goto done;
  }
  pi->error_code[0] = pi->decline_code[0] = '\0';
  if (pi->capture_manual) {
    snprintf(pi->status, sizeof pi->status, "requires_capture");
    pi->amount_capturable = pi->amount;
    add_event(l, r, "payment_intent.amount_capturable_updated");
  } else {
    snprintf(pi->status, sizeof pi->status, "succeeded");
    pi->amount_received = pi->amount;
    add_event(l, r, "payment_intent.succeeded");
  }
  *hold = card->kind == SBP_TOKEN_TIMEOUT;
done:
  if (r != NULL) *out = r->pi;
  pthread_mutex_unlock(&l->lock);
  return rc;
}

enum sbp_outcome sbp_intent_capture(struct sbp_ledger *l, const char *id,
                                    int64_t amount, struct sbp_intent *out) {
  enum sbp_outcome rc = SBP_OK;
  pthread_mutex_lock(&l->lock);
  struct intent_rec *r = map_get(&l->intents, id);
  if (r == NULL) {
    rc = SBP_NOT_FOUND;
    goto done;
  }
  struct sbp_intent *pi = &r->pi;
  if (strcmp(pi->status, "requires_capture") != 0) {
    rc = SBP_BAD_STATE;
    goto done;
  }
  if (amount < 0) amount = pi->amount_capturable;
  if (amount == 0 || amount > pi->amount_capturable) {
    rc = SBP_BAD_AMOUNT;
    goto done;
  }
  pi->amount_received = amount;
  pi->amount_capturable = 0;
  snprintf(pi->status, sizeof pi->status, "succeeded");
  add_event(l, r, "payment_intent.succeeded");
done:
  if (r != NULL) *out = r->pi;
  pthread_mutex_unlock(&l->lock);
  return rc;
}

enum sbp_outcome sbp_intent_cancel(struct sbp_ledger *l, const char *id,
                                   struct sbp_intent *out) {
  enum sbp_outcome rc = SBP_OK;
  pthread_mutex_lock(&l->lock);
  struct intent_rec *r = map_get(&l->intents, id);
  if (r == NULL) {
    rc = SBP_NOT_FOUND;
    goto done;
  }
  struct sbp_intent *pi = &r->pi;
  if (strcmp(pi->status, "succeeded") == 0 ||
      strcmp(pi->status, "canceled") == 0) {
    rc = SBP_BAD_STATE;
    goto done;
  }
  pi->amount_capturable = 0;
  snprintf(pi->status, sizeof pi->status, "canceled");
  add_event(l, r, "payment_intent.canceled");
done:
  if (r != NULL) *out = r->pi;
  pthread_mutex_unlock(&l->lock);
  return rc;
}

enum sbp_outcome sbp_intent_get(struct sbp_ledger *l, const char *id,
                                struct sbp_intent *out) {
  pthread_mutex_lock(&l->lock);
  struct intent_rec *r = map_get(&l->intents, id);
  if (r != NULL) *out = r->pi;
  pthread_mutex_unlock(&l->lock);
  return r ? SBP_OK : SBP_NOT_FOUND;
}

enum sbp_outcome sbp_intents_by_order(struct sbp_ledger *l,
                                      const char *order_id,
                                      struct sbp_intent **out, size_t *count) {
  *out = NULL;
  *count = 0;
  enum sbp_outcome rc = SBP_OK;
  pthread_mutex_lock(&l->lock);
  size_t n = 0;
  struct intent_rec *first = map_get(&l->orders, order_id);
  for (struct intent_rec *r = first; r; r = r->next_same_order)
    n++;
  if (n > 0) {
    *out = calloc(n, sizeof **out);
    if (*out == NULL) {
      rc = SBP_NOMEM;
    } else {
      size_t i = 0;
      for (struct intent_rec *r = first; r; r = r->next_same_order)
        (*out)[i++] = r->pi;
      *count = n;
    }
  }
  pthread_mutex_unlock(&l->lock);
  return rc;
}

enum sbp_outcome sbp_refund_create(struct sbp_ledger *l, const char *intent_id,
                                   int64_t amount, struct sbp_refund *refund,
                                   struct sbp_intent *out) {
  enum sbp_outcome rc = SBP_OK;
  pthread_mutex_lock(&l->lock);
  struct intent_rec *r = map_get(&l->intents, intent_id);
  if (r == NULL) {
    rc = SBP_NOT_FOUND;
    goto done;
  }
  struct sbp_intent *pi = &r->pi;
  if (strcmp(pi->status, "succeeded") != 0) {
    rc = SBP_BAD_STATE;
    goto done;
  }
  int64_t left = pi->amount_received - pi->amount_refunded;
  if (amount < 0) amount = left;
  if (amount <= 0 || amount > left) {
    rc = SBP_BAD_AMOUNT;
    goto done;
  }
  pi->amount_refunded += amount;
  memset(refund, 0, sizeof *refund);
  new_id("re", refund->id);
  snprintf(refund->payment_intent, sizeof refund->payment_intent, "%s", pi->id);
  refund->amount = amount;
  memcpy(refund->currency, pi->currency, sizeof refund->currency);
  refund->created = now_s();
  add_event(l, r, "charge.refunded");
done:
  if (r != NULL) *out = r->pi;
  pthread_mutex_unlock(&l->lock);
  return rc;
}

/* --- idempotency --- */

enum sbp_idem sbp_idem_begin(struct sbp_ledger *l, const char *key,
                             const char *fingerprint, unsigned *status,
                             char **body) {
  *body = NULL;
  *status = 0;
  enum sbp_idem rc = SBP_IDEM_NEW;
  pthread_mutex_lock(&l->lock);
  struct idem_rec *r = map_get(&l->idem, key);
  if (r != NULL) {
    if (strcmp(r->fingerprint, fingerprint) != 0) {
      rc = SBP_IDEM_MISMATCH;
    } else if (r->in_flight) {
      rc = SBP_IDEM_IN_FLIGHT;
    } else {
      *status = r->status;
      *body = strdup(r->body ? r->body : "");
      rc = SBP_IDEM_REPLAY;
    }
    goto done;
  }
  r = calloc(1, sizeof *r);
  if (r != NULL) r->fingerprint = strdup(fingerprint);
  if (r == NULL || r->fingerprint == NULL || map_put(&l->idem, key, r) != 0) {
    /* Without a record the request still runs, only unprotected. */
    if (r) free(r->fingerprint);
    free(r);
    goto done;
  }
  r->in_flight = true;
done:
  pthread_mutex_unlock(&l->lock);
  return rc;
}

void sbp_idem_finish(struct sbp_ledger *l, const char *key, unsigned status,
                     const char *body) {
  pthread_mutex_lock(&l->lock);
  struct idem_rec *r = map_get(&l->idem, key);
  if (r != NULL && r->in_flight) {
    r->status = status;
    r->body = body ? strdup(body) : NULL;
    r->in_flight = false;
  }
  pthread_mutex_unlock(&l->lock);
}

void sbp_idem_abort(struct sbp_ledger *l, const char *key) {
  pthread_mutex_lock(&l->lock);
  struct idem_rec *r = map_get(&l->idem, key);
  if (r != NULL && r->in_flight) free_idem(map_remove(&l->idem, key));
  pthread_mutex_unlock(&l->lock);
}

/* --- events --- */

size_t sbp_events_due(struct sbp_ledger *l, int64_t now_ms, struct sbp_due *out,
                      size_t max) {
  size_t n = 0;
  pthread_mutex_lock(&l->lock);
  for (size_t i = 0; i < l->pending_count && n < max; i++) {
    struct event_rec *e = l->pending[i];
    if (e->next_at_ms > now_ms) continue;
    char *copy = strdup(e->payload);
    if (copy == NULL) break;
    memcpy(out[n].id, e->id, sizeof out[n].id);
    out[n].payload = copy;
    n++;
  }
  pthread_mutex_unlock(&l->lock);
  return n;
}

void sbp_event_attempted(struct sbp_ledger *l, const char *event_id,
                         bool delivered, int64_t now_ms) {
  pthread_mutex_lock(&l->lock);
  for (size_t i = 0; i < l->pending_count; i++) {
    struct event_rec *e = l->pending[i];
    if (strcmp(e->id, event_id) != 0) continue;
    e->attempts++;
    if (delivered) {
      e->delivered = true;
      /* Keep the queue in creation order: shift the rest down. */
      memmove(&l->pending[i], &l->pending[i + 1],
              (l->pending_count - i - 1) * sizeof l->pending[0]);
      l->pending_count--;
    } else {
      int shift = e->attempts < 8 ? e->attempts - 1 : 7;
      int64_t delay = (int64_t)500 << shift; /* 0.5 s … 64 s */
      if (delay > 60000) delay = 60000;
      e->next_at_ms = now_ms + delay;
    }
    break;
  }
  pthread_mutex_unlock(&l->lock);
}

void sbp_events_defer(struct sbp_ledger *l, const char *intent_id,
                      int64_t until_ms) {
  pthread_mutex_lock(&l->lock);
  struct intent_rec *r = map_get(&l->intents, intent_id);
  for (struct event_rec *e = r ? r->events : NULL; e; e = e->next) {
    if (!e->delivered && e->next_at_ms < until_ms) e->next_at_ms = until_ms;
  }
  pthread_mutex_unlock(&l->lock);
}

char *sbp_events_of_intent(struct sbp_ledger *l, const char *intent_id) {
  char *out = NULL;
  pthread_mutex_lock(&l->lock);
  struct intent_rec *r = map_get(&l->intents, intent_id);
  if (r != NULL) {
    json_t *arr = json_array();
    for (struct event_rec *e = r->events; e; e = e->next) {
      json_t *ev = json_loads(e->payload, 0, NULL);
      if (ev == NULL) continue;
      json_object_set_new(ev, "webhook", json_boolean(e->sent));
      json_object_set_new(ev, "delivered", json_boolean(e->delivered));
      json_object_set_new(ev, "delivery_attempts", json_integer(e->attempts));
      json_array_append_new(arr, ev);
    }
    out = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
  }
  pthread_mutex_unlock(&l->lock);
  return out;
}

size_t sbp_events_pending(struct sbp_ledger *l) {
  pthread_mutex_lock(&l->lock);
  size_t n = l->pending_count;
  pthread_mutex_unlock(&l->lock);
  return n;
}
