/* checkout.c - POST /api/v1/orders: the checkout saga of DESIGN §7.
 *
 * 1. The Idempotency-Key row (checkouts) is inserted first; a concurrent or
 *    later request with the same key meets it on the primary key and waits
 *    for the stored answer (another body with that key is 409).
 * 2. started: cart (cart service), repricing (catalog), promotions (the
 *    cart service prices the cart's codes and automatic promotions), tax
 *    (tax_rules, on the discounted amount), shipping (shipping quote; none
 *    with free shipping), then the reservation (product service, all lines
 *    or none) and one use of each promotion (cart service, never beyond a
 *    limit); then, in one transaction, the pending order, its
 *    order.created event and the step order_created.
 * 3. order_created: authorize the payment (order id = provider idempotency
 *    key); a decline cancels the order (stock released) and answers 402.
 * 4. authorized: commit the reservation and the promotion uses; confirm
 *    the order (events) in one transaction with the step confirmed.
 * 5. confirmed: empty the cart, store the answer (step done).
 * Each step is recorded; a saga whose process died is finished or
 * compensated by the sweeper from its step (order_recover_checkout). Every
 * call downstream is idempotent on the order id, so repeating a step is safe.
 * docs/checkout.md tells the whole story.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kit/auth.h"
#include "kit/bus.h"
#include "kit/json.h"
#include "kit/log.h"
#include "kit/money.h"
#include "kit/uuid.h"
#include "services/order/domain.h"
#include "services/order/internal.h"

#define IDEM_KEY_MAX 255
#define WAIT_FOR_ANSWER_MS 20000

struct checkout_input {
  const char *cart_id;
  const json_t *shipping_address;
  const json_t *billing_address;
  const char *shipping_method;
  const char *token;
  const char *country;
  const char *region; /* "" when none */
};

struct saga {
  struct http_request *req;
  struct service *svc;
  struct order_state *st;
  struct up_ctx up;
  char order_id[40], user_id[40], cart_id[40], claim[40];
  const struct checkout_input *in; /* NULL when recovering */
  const char *fault;               /* X-Fault-Inject, when honoured */
  const char *payment_id;          /* once authorized (arena) */
  double t0;                       /* start of the current step */
  int64_t total;                   /* live: the order's total, once priced */
  bool has_discounts; /* live: promotion uses were reserved for the order */
  char currency[4];
  /* the card of the authorized payment (arena), NULL when not reported */
  const char *card_brand, *card_last4;
  struct http_response answer; /* what the client gets */
};

enum saga_outcome {
  SAGA_NEXT = 0, /* the step is done and recorded: go on */
  SAGA_DONE,     /* s->answer holds the answer (stored or not) */
};

/* --- small helpers --- */

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Observes the time since *t0 under `step` and restarts the clock. */
static void step_done(const struct saga *s, const char *step, double *t0) {
  double now = now_s();
  const char *labels[] = {step};
  metric_observe(s->st->step_seconds, labels, now - *t0);
  *t0 = now;
}

static void set_error(struct saga *s, enum api_error e, const char *msg,
                      const char *details) {
  http_response_clear(&s->answer);
  http_response_init(&s->answer);
  http_reply_error(&s->answer, s->req, e, msg, details);
}

/* Test profiles only: ends the process at a named step of a marked request,
 * to prove that the sweeper recovers (tests/system/checkout.test.mjs). */
static void fault_point(const struct saga *s, const char *point) {
  if (s->fault == NULL || strcmp(s->fault, point) != 0) return;
  log_warn("fault injection: the order process exits at %s", point);
  _exit(75);
}

/* Runs one statement-level store call on a pooled connection. */
#define WITH_CONN(svc, rc, call)                                               \
  do {                                                                         \
    struct db_conn *conn_ = db_acquire((svc)->db, ORDER_DB_WAIT_MS);           \
    if (conn_ == NULL) {                                                       \
      (rc) = DB_UNAVAILABLE;                                                   \
    } else {                                                                   \
      struct db_conn *c = conn_;                                               \
      (rc) = (call);                                                           \
      db_release((svc)->db, conn_);                                            \
    }                                                                          \
  } while (0)

/* Stores s->answer as the final answer of the key (step done). */
static enum saga_outcome finish(struct saga *s) {
  const char *body =
      s->answer.body
          ? arena_strndup(s->req->arena, s->answer.body, s->answer.body_len)
          : "";
  int rc;
  WITH_CONN(s->svc, rc,
            store_checkout_finish(c, s->order_id, s->claim,
                                  (int)s->answer.status, body));
  if (rc == 0)
    log_warn("checkout %s: taken over by another worker", s->order_id);
  else if (rc < 0) {
    log_error("checkout %s: cannot store the answer (%d)", s->order_id, rc);
    order_handover_owed(s->st, s->order_id, s->claim);
  }
  return SAGA_DONE;
}

/* Nothing happened downstream that needs undoing: forget the key so that a
 * retry starts afresh, and answer e. */
static enum saga_outcome forget(struct saga *s, enum api_error e,
                                const char *msg) {
  int rc;
  WITH_CONN(s->svc, rc, store_checkout_delete(c, s->order_id, s->claim));
  if (rc < 0) {
    log_error("checkout %s: cannot forget the key (%d)", s->order_id, rc);
    order_handover_owed(s->st, s->order_id, s->claim);
  }
  set_error(s, e, msg, NULL);
  return SAGA_DONE;
}

/* The saga cannot go on now: hand it to the sweeper (no live owner) and
 * tell the client to retry with the same key. */
static enum saga_outcome abandon(struct saga *s, const char *why) {
  int rc;
  WITH_CONN(s->svc, rc,
            store_checkout_takeover(c, s->order_id, s->claim, "", s->claim));
  log_warn("checkout %s: left to the sweeper: %s%s", s->order_id, why,
           rc < 0 ? " (the hand-over is stored when the database is back)"
                  : "");
  if (rc < 0) order_handover_owed(s->st, s->order_id, s->claim);
  set_error(s, API_SERVICE_UNAVAILABLE,
            "the checkout could not finish now; retry with the same "
            "Idempotency-Key to get its outcome",
            NULL);
  return SAGA_DONE;
}

static enum saga_outcome answer_order(struct saga *s, unsigned status) {
  struct order_record o;
  int rc;
  WITH_CONN(s->svc, rc,
            store_order_get(c, s->req->arena, s->order_id, false, &o));
  if (rc != DB_ONE_RESULT) return abandon(s, "cannot read the order back");
  json_t *body = order_render(&o);
  http_response_clear(&s->answer);
  http_response_init(&s->answer);
  http_reply_json(&s->answer, status, body);
  json_decref(body);
  return finish(s);
}

/* --- cancelling a pending order --- */

struct cancel_tx {
  struct saga *s;
  const char *reason;
  bool moved;
};

static int cancel_tx_fn(struct db_conn *c, void *arg) {
  struct cancel_tx *t = arg;
  struct order_record o;
  int rc = store_order_cancel(c, t->s->order_id, ORDER_PENDING, t->reason);
  if (rc < 0) return rc;
  t->moved = rc == 1;
  if (!t->moved) return rc; /* not pending any more: nothing to do */
  rc = store_order_get(c, t->s->req->arena, t->s->order_id, false, &o);
  if (rc != DB_ONE_RESULT) return rc < 0 ? rc : DB_HARD_ERROR;
  return order_emit_transition(c, &o, ORDER_PENDING);
}

/* The saga failed after the order was created: cancel it (events), give the
 * stock back and void whatever was authorized, and answer e. */
static enum saga_outcome cancel_pending(struct saga *s, const char *reason,
                                        enum api_error e, const char *msg,
                                        const char *details) {
  struct cancel_tx t = {s, reason, false};
  int rc = db_transaction(s->svc->db, DB_READ_COMMITTED, cancel_tx_fn, &t);
  if (rc < 0) return abandon(s, "cannot cancel the order");
  /* Compensation failures are retried by the sweeper (compensation_due). */
  (void)order_compensate(s->req, s->order_id);
  set_error(s, e, msg, details);
  return finish(s);
}

/* --- step started (live request) --- */

struct insert_tx {
  struct saga *s;
  const struct order_record *o;
  bool lost;
};

static int insert_tx_fn(struct db_conn *c, void *arg) {
  struct insert_tx *t = arg;
  int rc = store_checkout_step(c, t->s->order_id, t->s->claim, "order_created");
  if (rc < 0) return rc;
  if (rc == 0) {
    t->lost = true;
    return DB_HARD_ERROR; /* roll back: someone else owns the saga */
  }
  rc = store_order_insert(c, t->o);
  if (rc < 0) return rc;
  json_t *data = order_event_payload(t->o);
  rc = bus_emit(c, "order.created", t->o->id, data);
  json_decref(data);
  return rc;
}

/* Joins ids into "a,b,c" in the arena. */
static const char *join_ids(struct arena *a, const char *const *ids, size_t n) {
  size_t len = 1;
  for (size_t i = 0; i < n; i++)
    len += strlen(ids[i]) + 1;
  char *out = arena_alloc(a, len);
  if (out == NULL) return NULL;
  for (size_t i = 0; i < n; i++) {
    if (i) strcat(out, ",");
    strcat(out, ids[i]);
  }
  return out;
}

static enum saga_outcome step_start(struct saga *s) {
  const struct checkout_input *in = s->in;
  struct arena *a = s->req->arena;

  /* 1. The cart, and today's catalog for its lines. */
  struct up_cart_line *lines = NULL;
  size_t n = 0;
  unsigned status = 0;
  char cart_currency[4] = "";
  enum upstream_outcome uo = up_cart_get(&s->up, s->cart_id, s->user_id, &lines,
                                         &n, cart_currency, &status);
  if (uo == UP_UNKNOWN)
    return forget(s, API_SERVICE_UNAVAILABLE,
                  "the cart service is unavailable");
  if (uo == UP_REFUSED) {
    set_error(s, API_NOT_FOUND, "no such cart", NULL);
    return finish(s);
  }
  if (n == 0) {
    set_error(s, API_UNPROCESSABLE, "the cart is empty", "cart_id");
    return finish(s);
  }
  const char **ids = arena_alloc(a, sizeof *ids * n);
  struct up_product *prod = arena_alloc(a, sizeof *prod * n);
  const char **bad = arena_alloc(a, sizeof *bad * n);
  struct order_line_money *money = arena_alloc(a, sizeof *money * n);
  struct order_line_record *rec = arena_alloc(a, sizeof *rec * n);
  if (!ids || !prod || !bad || !money || !rec)
    return forget(s, API_INTERNAL_ERROR, "out of memory");
  for (size_t i = 0; i < n; i++)
    ids[i] = lines[i].variant_id[0] ? lines[i].variant_id : lines[i].product_id;
  /* The cart is in one currency (an older cart: USD); every line is
   * repriced in it from the catalog's price lists. */
  const char *currency = cart_currency[0] ? cart_currency : "USD";
  if (up_products(&s->up, lines, n, currency, prod) != UP_OK)
    return forget(s, API_SERVICE_UNAVAILABLE, "the catalog is unavailable");

  /* 2. Every line must be for sale, in one currency, with enough stock. */
  size_t nbad = 0;
  for (size_t i = 0; i < n; i++)
    if (!prod[i].found || !prod[i].active) bad[nbad++] = ids[i];
  if (nbad > 0) {
    set_error(s, API_CONFLICT, "some products are no longer for sale",
              join_ids(a, bad, nbad));
    return finish(s);
  }
  for (size_t i = 0; i < n; i++) {
    if (strcmp(prod[i].currency, currency) != 0) {
      set_error(s, API_CONFLICT, "the cart mixes currencies", NULL);
      return finish(s);
    }
  }
  for (size_t i = 0; i < n; i++)
    if (prod[i].available < lines[i].quantity) bad[nbad++] = ids[i];
  if (nbad > 0) {
    set_error(s, API_CONFLICT, "not enough stock", join_ids(a, bad, nbad));
    return finish(s);
  }

  /* 3. Promotions: what the cart's codes and the automatic promotions
   * take from these prices (the cart service prices them). */
  int64_t *prices = arena_alloc(a, sizeof *prices * n);
  if (prices == NULL) return forget(s, API_INTERNAL_ERROR, "out of memory");
  for (size_t i = 0; i < n; i++)
    prices[i] = prod[i].price;
  struct up_pricing promo;
  const char *promo_msg = NULL;
  uo = up_cart_pricing(&s->up, s->cart_id, s->user_id, lines, prices, n,
                       currency, &promo, &status, &promo_msg);
  if (uo == UP_UNKNOWN)
    return forget(s, API_SERVICE_UNAVAILABLE, "the promotions are unavailable");
  if (uo == UP_REFUSED) {
    if (status == 404)
      set_error(s, API_NOT_FOUND, "no such cart", NULL);
    else
      set_error(s, API_UNPROCESSABLE,
                promo_msg ? promo_msg
                          : "a discount code on the cart no longer applies",
                "discount_codes");
    return finish(s);
  }

  /* 4. Money: lines at today's prices less their discounts, tax by
   * destination on what is left, shipping (none with free shipping). */
  int64_t rate = 0;
  int rc;
  WITH_CONN(s->svc, rc, store_tax_rate(c, in->country, in->region, &rate));
  if (rc < 0)
    return forget(s, API_DATABASE_ERROR, "the order database is unavailable");
  struct order_totals totals;
  for (size_t i = 0; i < n; i++) {
    money[i].unit_price = prod[i].price;
    money[i].quantity = lines[i].quantity;
    money[i].discount = promo.line_discount[i];
  }
  if (!order_price(money, n, rate, 0, &totals)) {
    set_error(s, API_UNPROCESSABLE, "the order total is out of range", NULL);
    return finish(s);
  }
  int64_t shipping = 0;
  uo = up_shipping_quote(&s->up, in->shipping_address, lines, n,
                         totals.subtotal - totals.discount, currency,
                         in->shipping_method, &shipping, &status);
  if (uo == UP_UNKNOWN)
    return forget(s, API_SERVICE_UNAVAILABLE,
                  "the shipping service is unavailable");
  if (uo == UP_REFUSED) {
    set_error(s, API_UNPROCESSABLE,
              "this shipping method is not offered for this address",
              "shipping_method");
    return finish(s);
  }
  /* What each promotion took from shipping: free shipping waives the
   * quote (shown on its discount line; the order's shipping is 0). */
  if (promo.count > 0) {
    const char *with = order_discounts_with_shipping(
        a, promo.discounts, promo.free_shipping ? shipping : 0, currency);
    if (with == NULL) return forget(s, API_INTERNAL_ERROR, "out of memory");
    promo.discounts = with;
  }
  if (promo.free_shipping) shipping = 0;
  if (!order_price(money, n, rate, shipping, &totals)) {
    set_error(s, API_UNPROCESSABLE, "the order total is out of range", NULL);
    return finish(s);
  }

  step_done(s, "prepare", &s->t0);

  /* 5. Reserve: all lines or none. */
  const char *details = NULL;
  uo = up_reserve(&s->up, s->order_id, lines, n, &status, &details);
  if (uo == UP_REFUSED) { /* refused: nothing was reserved */
    set_error(s, API_CONFLICT,
              status == 409 ? "not enough stock"
                            : "the inventory refused the reservation",
              details);
    return finish(s);
  }
  if (uo != UP_OK) {
    /* Maybe reserved, maybe not: give back whatever is held. */
    if (up_reservation_release(&s->up, s->order_id) != UP_OK)
      return abandon(s, "reservation outcome unknown");
    return forget(s, API_SERVICE_UNAVAILABLE,
                  "the inventory service is unavailable");
  }
  /* 6. One use of each promotion, all or none (a guarded UPDATE in the
   * cart service: never beyond a usage limit); refused, nothing is held. */
  if (promo.count > 0) {
    const char *msg = NULL;
    uo = up_promo_reserve(&s->up, s->order_id, s->user_id, promo.discounts,
                          &status, &msg);
    if (uo != UP_OK) {
      if (uo == UP_UNKNOWN && up_promo_release(&s->up, s->order_id) != UP_OK)
        return abandon(s, "promotion reservation outcome unknown");
      if (up_reservation_release(&s->up, s->order_id) != UP_OK)
        return abandon(s, "reservation still held");
      if (uo == UP_UNKNOWN)
        return forget(s, API_SERVICE_UNAVAILABLE,
                      "the promotions are unavailable");
      set_error(s, API_UNPROCESSABLE,
                msg ? msg : "a discount code has reached its usage limit",
                "discount_codes");
      return finish(s);
    }
    s->has_discounts = true;
  }
  fault_point(s, "after_reserve");

  step_done(s, "reserve", &s->t0);

  /* 7. The pending order, its event and the step, in one transaction. */
  struct order_record o;
  memset(&o, 0, sizeof o);
  snprintf(o.id, sizeof o.id, "%s", s->order_id);
  snprintf(o.user_id, sizeof o.user_id, "%s", s->user_id);
  snprintf(o.cart_id, sizeof o.cart_id, "%s", s->cart_id);
  snprintf(o.currency, sizeof o.currency, "%s", currency);
  o.status = ORDER_PENDING;
  o.subtotal = totals.subtotal;
  o.discount_total = totals.discount;
  o.discounts = promo.discounts;
  o.tax = totals.tax;
  o.shipping = totals.shipping;
  o.total = totals.total;
  o.tax_rate_bp = rate;
  o.shipping_method = in->shipping_method;
  char *ship_text = json_dumps(in->shipping_address, JSON_COMPACT);
  char *bill_text = json_dumps(in->billing_address, JSON_COMPACT);
  o.shipping_address = ship_text ? arena_strdup(a, ship_text) : NULL;
  o.billing_address = bill_text ? arena_strdup(a, bill_text) : NULL;
  free(ship_text);
  free(bill_text);
  for (size_t i = 0; i < n; i++) {
    snprintf(rec[i].product_id, sizeof rec[i].product_id, "%s",
             lines[i].product_id);
    snprintf(rec[i].variant_id, sizeof rec[i].variant_id, "%s",
             lines[i].variant_id);
    rec[i].sku = prod[i].sku ? prod[i].sku : "";
    rec[i].name = prod[i].name ? prod[i].name : "";
    rec[i].unit_price = money[i].unit_price;
    rec[i].quantity = money[i].quantity;
    rec[i].subtotal = money[i].subtotal;
    rec[i].tax = money[i].tax;
    rec[i].total = money[i].total;
    rec[i].discount = money[i].discount;
  }
  o.lines = rec;
  o.line_count = n;
  if (o.shipping_address == NULL || o.billing_address == NULL) {
    (void)up_reservation_release(&s->up, s->order_id);
    if (s->has_discounts) (void)up_promo_release(&s->up, s->order_id);
    return forget(s, API_INTERNAL_ERROR, "out of memory");
  }
  struct insert_tx t = {s, &o, false};
  rc = db_transaction(s->svc->db, DB_READ_COMMITTED, insert_tx_fn, &t);
  if (t.lost) {
    set_error(s, API_CONFLICT,
              "this checkout is being completed elsewhere; retry with the "
              "same Idempotency-Key",
              NULL);
    return SAGA_DONE;
  }
  if (rc < 0) {
    log_error("checkout %s: cannot insert the order (%d)", s->order_id, rc);
    if (up_reservation_release(&s->up, s->order_id) != UP_OK ||
        (s->has_discounts && up_promo_release(&s->up, s->order_id) != UP_OK))
      return abandon(s, "order not stored, reservation still held");
    return forget(s, API_DATABASE_ERROR, "the order could not be stored");
  }
  s->total = o.total;
  snprintf(s->currency, sizeof s->currency, "%s", o.currency);
  step_done(s, "order", &s->t0);
  fault_point(s, "after_order_created");
  return SAGA_NEXT;
}

/* --- step order_created --- */

/* The authorization is not written on its own: the confirming transaction
 * records the payment id. A crash in between leaves the step order_created,
 * from which recovery asks the payment service and finds it authorized. */
static enum saga_outcome record_authorized(struct saga *s,
                                           const struct up_payment *p) {
  s->payment_id = arena_strdup(s->req->arena, p->id);
  s->card_brand = p->card_brand; /* the answer's strings live in the arena */
  s->card_last4 = p->card_last4;
  step_done(s, "authorize", &s->t0);
  fault_point(s, "after_authorize");
  return SAGA_NEXT;
}

static bool payment_is_authorized(const struct up_payment *p) {
  return p->status != NULL && (strcmp(p->status, "authorized") == 0 ||
                               strcmp(p->status, "captured") == 0);
}

static bool payment_is_failed(const struct up_payment *p) {
  return p->status != NULL &&
         (strcmp(p->status, "failed") == 0 || strcmp(p->status, "voided") == 0);
}

/* Live: authorize the card with the token the client sent. */
static enum saga_outcome step_authorize(struct saga *s, int64_t amount,
                                        const char *currency) {
  struct up_payment p;
  unsigned status = 0;
  enum upstream_outcome uo =
      up_authorize(&s->up, s->order_id, s->user_id, amount, currency,
                   s->in->token, &p, &status);
  if (uo == UP_OK && payment_is_authorized(&p) && p.id != NULL)
    return record_authorized(s, &p);
  if (uo == UP_REFUSED)
    return cancel_pending(s, "payment declined", API_PAYMENT_DECLINED,
                          "the card was declined", NULL);
  /* No answer: ask what happened before deciding. */
  uo = up_payment_of_order(&s->up, s->order_id, currency, &p, &status);
  if (uo == UP_OK && payment_is_authorized(&p) && p.id != NULL)
    return record_authorized(s, &p);
  if (uo == UP_OK && payment_is_failed(&p))
    return cancel_pending(s, "payment declined", API_PAYMENT_DECLINED,
                          "the card was declined", NULL);
  return cancel_pending(s, "payment timed out", API_TIMEOUT_ERROR,
                        "the payment provider did not answer in time", NULL);
}

/* Recovery: the token is gone; ask the payment service what happened. */
static enum saga_outcome step_settle_payment(struct saga *s,
                                             const char *currency) {
  struct up_payment p;
  unsigned status = 0;
  enum upstream_outcome uo =
      up_payment_of_order(&s->up, s->order_id, currency, &p, &status);
  if (uo == UP_UNKNOWN) return abandon(s, "payment service unavailable");
  if (uo == UP_OK && payment_is_authorized(&p) && p.id != NULL)
    return record_authorized(s, &p);
  if (uo == UP_OK && payment_is_failed(&p))
    return cancel_pending(s, "payment declined", API_PAYMENT_DECLINED,
                          "the card was declined", NULL);
  /* No payment (the process died before asking) or one still unknown:
   * cancel; the compensation voids an authorization that shows up later. */
  return cancel_pending(s, "checkout interrupted", API_CONFLICT,
                        "the checkout was interrupted and the order cancelled",
                        s->order_id);
}

/* --- step authorized --- */

struct confirm_tx {
  struct saga *s;
  bool lost;
  char *body; /* malloc'd: the order as answered */
};

/* Confirms the order and stores the answer (step done) in one transaction. */
static int confirm_tx_fn(struct db_conn *c, void *arg) {
  struct confirm_tx *t = arg;
  struct saga *s = t->s;
  free(t->body);
  t->body = NULL;
  int rc = store_checkout_step(c, s->order_id, s->claim, "confirmed");
  if (rc < 0) return rc;
  if (rc == 0) {
    t->lost = true;
    return DB_HARD_ERROR;
  }
  if (s->payment_id != NULL) {
    rc = store_order_set_payment(c, s->order_id, s->payment_id, s->card_brand,
                                 s->card_last4);
    if (rc < 0) return rc;
  }
  rc = store_order_transition(c, s->order_id, ORDER_PENDING, ORDER_CONFIRMED,
                              "payment authorized");
  if (rc < 0) return rc;
  if (rc == 0) return DB_HARD_ERROR; /* the order left pending: a bug */
  struct order_record o;
  rc = store_order_get(c, s->req->arena, s->order_id, false, &o);
  if (rc != DB_ONE_RESULT) return rc < 0 ? rc : DB_HARD_ERROR;
  rc = order_emit_transition(c, &o, ORDER_PENDING);
  if (rc < 0) return rc;
  json_t *rendered = order_render(&o);
  t->body = json_dumps(rendered, JSON_COMPACT);
  json_decref(rendered);
  if (t->body == NULL) return DB_HARD_ERROR;
  return store_checkout_finish(c, s->order_id, s->claim, 201, t->body);
}

static enum saga_outcome step_commit(struct saga *s) {
  unsigned status = 0;
  enum upstream_outcome uo =
      up_reservation_commit(&s->up, s->order_id, &status);
  if (uo == UP_UNKNOWN) return abandon(s, "inventory unavailable at commit");
  if (uo == UP_REFUSED)
    return cancel_pending(s, "reservation expired", API_CONFLICT,
                          "the stock reservation expired before payment", NULL);
  /* The promotion uses become final (recovering: whether the order had
   * any is not known here; committing none is harmless). */
  if (s->has_discounts || s->in == NULL) {
    uo = up_promo_commit(&s->up, s->order_id, &status);
    if (uo == UP_UNKNOWN) return abandon(s, "promotions unavailable at commit");
    if (uo == UP_REFUSED)
      return cancel_pending(s, "promotion uses released", API_CONFLICT,
                            "the order's discount could not be kept", NULL);
  }
  struct confirm_tx t = {s, false, NULL};
  int rc = db_transaction(s->svc->db, DB_READ_COMMITTED, confirm_tx_fn, &t);
  if (t.lost || rc < 0) {
    free(t.body);
    if (!t.lost) return abandon(s, "cannot confirm the order");
    set_error(s, API_CONFLICT,
              "this checkout is being completed elsewhere; retry with the "
              "same Idempotency-Key",
              NULL);
    return SAGA_DONE;
  }
  step_done(s, "confirm", &s->t0);
  fault_point(s, "after_confirm");
  /* Confirmed and answered; an uncleared cart is an annoyance, not a
   * failed order. A crash here leaves the cart as it was until the cart
   * service hears order.confirmed (it carries cart_id) and empties it. */
  if (up_cart_clear(&s->up, s->cart_id, s->order_id) != UP_OK)
    log_warn("checkout %s: the cart %s was not emptied", s->order_id,
             s->cart_id);
  http_response_clear(&s->answer);
  http_response_init(&s->answer);
  http_reply_take(&s->answer, 201, "application/json", t.body, strlen(t.body));
  return SAGA_DONE;
}

/* --- step confirmed --- */

static enum saga_outcome step_confirmed(struct saga *s) {
  /* An uncleared cart is an annoyance, not a failed order. */
  if (up_cart_clear(&s->up, s->cart_id, s->order_id) != UP_OK)
    log_warn("checkout %s: the cart %s was not emptied", s->order_id,
             s->cart_id);
  return answer_order(s, 201);
}

/* --- the driver --- */

/* Runs the saga from `step` until it is answered. */
static void saga_drive(struct saga *s, const char *step) {
  char cur[16];
  snprintf(cur, sizeof cur, "%s", step);
  for (;;) {
    enum saga_outcome o;
    const char *next;
    if (strcmp(cur, "started") == 0) {
      if (s->in == NULL) { /* recovering: undo, never redo without a token */
        if (up_reservation_release(&s->up, s->order_id) != UP_OK ||
            up_promo_release(&s->up, s->order_id) != UP_OK) {
          abandon(s, "reservation release failed");
          return;
        }
        forget(s, API_SERVICE_UNAVAILABLE, "the checkout was interrupted");
        return;
      }
      o = step_start(s);
      next = "order_created";
    } else if (strcmp(cur, "order_created") == 0 && s->in != NULL) {
      o = step_authorize(s, s->total, s->currency);
      next = "authorized";
    } else if (strcmp(cur, "order_created") == 0) {
      struct order_record ord;
      int rc;
      WITH_CONN(s->svc, rc,
                store_order_get(c, s->req->arena, s->order_id, false, &ord));
      if (rc != DB_ONE_RESULT) {
        abandon(s, "cannot read the pending order");
        return;
      }
      o = step_settle_payment(s, ord.currency);
      next = "authorized";
    } else if (strcmp(cur, "authorized") == 0) {
      o = step_commit(s);
      next = "confirmed";
    } else if (strcmp(cur, "confirmed") == 0) {
      step_confirmed(s);
      return;
    } else {
      log_error("checkout %s: unknown step '%s'", s->order_id, cur);
      set_error(s, API_INTERNAL_ERROR, "unknown checkout step", NULL);
      return;
    }
    if (o != SAGA_NEXT) return;
    snprintf(cur, sizeof cur, "%s", next);
  }
}

static void saga_init(struct saga *s, struct http_request *req) {
  memset(s, 0, sizeof *s);
  s->req = req;
  s->svc = req->svc;
  s->st = req->svc->state;
  s->up = (struct up_ctx){req->svc, req, req->arena};
  http_response_init(&s->answer);
}

/* --- parsing --- */

static void reply_json_error(struct http_response *res,
                             const struct http_request *req,
                             const struct json_error *err, const char *prefix) {
  char field[128];
  if (err->field[0] && prefix)
    snprintf(field, sizeof field, "%s.%s", prefix, err->field);
  else
    snprintf(field, sizeof field, "%s",
             err->field[0] ? err->field
             : prefix      ? prefix
                           : "");
  http_reply_error(res, req, err->code, err->message, field[0] ? field : NULL);
}

static bool is_upper_alpha2(const char *s) {
  return s && strlen(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
         s[1] <= 'Z';
}

/* Checks an address object (DESIGN §5); answers and returns false when bad. */
static bool check_address(struct http_request *req, struct http_response *res,
                          const json_t *obj, const char *name,
                          const char **country, const char **region) {
  const char *first = NULL, *last = NULL, *line1 = NULL, *line2 = NULL,
             *city = NULL, *state = NULL, *postal = NULL, *ctry = NULL,
             *phone = NULL;
  const struct json_field fields[] = {
      {"first_name", JF_STRING, false, 0, 100, &first, .nullable = true},
      {"last_name", JF_STRING, false, 0, 100, &last, .nullable = true},
      {"line1", JF_STRING, true, 1, 200, &line1},
      {"line2", JF_STRING, false, 0, 200, &line2, .nullable = true},
      {"city", JF_STRING, true, 1, 100, &city},
      {"state", JF_STRING, false, 0, 100, &state, .nullable = true},
      {"postal_code", JF_STRING, true, 1, 20, &postal},
      {"country", JF_STRING, true, 2, 2, &ctry},
      {"phone", JF_STRING, false, 0, 32, &phone, .nullable = true},
  };
  struct json_error err;
  if (json_read_fields(obj, fields, sizeof fields / sizeof fields[0], true,
                       req->arena, &err) != KIT_OK) {
    reply_json_error(res, req, &err, name);
    return false;
  }
  if (!is_upper_alpha2(ctry)) {
    char field[64];
    snprintf(field, sizeof field, "%s.country", name);
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "country must be an ISO 3166-1 alpha-2 code (\"US\")",
                     field);
    return false;
  }
  if (country) *country = ctry;
  if (region) {
    char *r = arena_strdup(req->arena, state ? state : "");
    for (char *p = r; p && *p; p++)
      if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
    *region = r;
  }
  return true;
}

static bool idem_key_ok(const char *k) {
  size_t n = k ? strlen(k) : 0;
  if (n == 0 || n > IDEM_KEY_MAX) return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e) return false;
  return true;
}

/* Replays a stored answer. */
static void replay(struct http_response *res,
                   const struct checkout_record *row) {
  const char *body = row->response_body ? row->response_body : "";
  http_reply(res, (unsigned)row->response_status, "application/json", body,
             strlen(body));
  http_response_header(res, "Idempotent-Replayed", "true");
}

/* --- POST /api/v1/orders --- */

void order_handle_checkout(struct http_request *req,
                           struct http_response *res) {
  struct order_state *st = req->svc->state;
  const struct principal *me = auth_principal(req);
  const char *key = http_header(req, "Idempotency-Key");
  if (key == NULL) {
    http_reply_error(res, req, API_VALIDATION_ERROR,
                     "the Idempotency-Key header is required",
                     "Idempotency-Key");
    return;
  }
  if (!idem_key_ok(key)) {
    http_reply_error(
        res, req, API_UNPROCESSABLE,
        "Idempotency-Key must be 1 to 255 visible ASCII characters",
        "Idempotency-Key");
    return;
  }

  /* Parse → check. */
  struct checkout_input in = {0};
  const void *ship = NULL, *bill = NULL, *pay = NULL;
  const char *type = NULL;
  static const char *const card_only[] = {"card", NULL};
  const struct json_field fields[] = {
      {"cart_id", JF_UUID, true, 0, 0, &in.cart_id},
      {"shipping_address", JF_OBJECT, true, 0, 0, &ship},
      {"billing_address", JF_OBJECT, false, 0, 0, &bill, .nullable = true},
      {"shipping_method", JF_STRING, true, 1, 32, &in.shipping_method},
      {"payment_method", JF_OBJECT, true, 0, 0, &pay},
  };
  const struct json_field pay_fields[] = {
      {"type", JF_ENUM, true, 0, 0, &type, .enum_values = card_only},
      {"token", JF_STRING, true, 1, 128, &in.token},
  };
  struct json_doc *doc = NULL;
  struct json_error err;
  struct saga s;
  saga_init(&s, req);
  if (json_parse_body(req->body, req->body_len, fields,
                      sizeof fields / sizeof fields[0], true, req->arena, &doc,
                      &err) != KIT_OK) {
    reply_json_error(res, req, &err, NULL);
    goto cleanup;
  }
  if (json_read_fields(pay, pay_fields, 2, true, req->arena, &err) != KIT_OK) {
    reply_json_error(res, req, &err, "payment_method");
    goto cleanup;
  }
  in.shipping_address = ship;
  in.billing_address = bill ? bill : ship;
  if (!check_address(req, res, ship, "shipping_address", &in.country,
                     &in.region))
    goto cleanup;
  if (bill && !check_address(req, res, bill, "billing_address", NULL, NULL))
    goto cleanup;

  /* The request's fingerprint: canonical JSON (sorted keys, compact). */
  char hash[65];
  char *canonical =
      json_dumps(json_doc_root(doc), JSON_COMPACT | JSON_SORT_KEYS);
  if (canonical == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    goto cleanup;
  }
  order_request_hash(canonical, strlen(canonical), hash);
  free(canonical);

  snprintf(s.user_id, sizeof s.user_id, "%s", me->user_id);
  snprintf(s.cart_id, sizeof s.cart_id, "%s", in.cart_id);
  s.in = &in;
  if (st->fault_injection) s.fault = http_header(req, "X-Fault-Inject");

  /* Claim the key, or wait for the answer of whoever holds it. */
  int64_t deadline = clock_monotonic_ms() + WAIT_FOR_ANSWER_MS;
  int delay = 20;
  for (;;) {
    uuid_v7(s.order_id);
    random_hex(s.claim, 16);
    int rc;
    WITH_CONN(req->svc, rc,
              store_checkout_claim(c, s.user_id, key, hash, s.order_id,
                                   s.cart_id, st->instance_id, s.claim));
    if (rc < 0) {
      http_reply_db_error(res, req, rc);
      goto cleanup;
    }
    if (rc == 1) break; /* ours: run the saga */

    struct checkout_record row;
    WITH_CONN(req->svc, rc,
              store_checkout_get(c, req->arena, s.user_id, key, &row));
    if (rc < 0) {
      http_reply_db_error(res, req, rc);
      goto cleanup;
    }
    bool gone = rc == 0; /* forgotten meanwhile: claim again */
    if (gone && clock_monotonic_ms() <= deadline) continue;
    if (!gone && strcmp(row.request_hash, hash) != 0) {
      http_reply_error(res, req, API_CONFLICT,
                       "this Idempotency-Key was used with another request",
                       "Idempotency-Key");
      goto cleanup;
    }
    if (!gone && row.response_status != 0) {
      replay(res, &row);
      goto cleanup;
    }
    if (clock_monotonic_ms() > deadline) {
      http_reply_error(res, req, API_CONFLICT,
                       "a request with this Idempotency-Key is still in "
                       "progress; retry later",
                       "Idempotency-Key");
      goto cleanup;
    }
    sleep_ms(delay);
    if (delay < 200) delay *= 2;
  }

  double started = now_s();
  s.t0 = started;
  saga_drive(&s, "started");
  step_done(&s, "total", &started);
  char status[8];
  snprintf(status, sizeof status, "%u", s.answer.status);
  const char *status_labels[] = {status};
  metric_inc(st->checkouts, status_labels, 1);
  /* Hand the answer over. */
  http_response_clear(res);
  *res = s.answer;
  http_response_init(&s.answer);
cleanup:
  http_response_clear(&s.answer);
  json_doc_free(doc);
}

/* --- recovery --- */

void order_recover_checkout(struct http_request *req,
                            const struct checkout_record *row) {
  struct order_state *st = req->svc->state;
  struct saga s;
  saga_init(&s, req);
  snprintf(s.order_id, sizeof s.order_id, "%s", row->order_id);
  snprintf(s.user_id, sizeof s.user_id, "%s", row->user_id);
  snprintf(s.cart_id, sizeof s.cart_id, "%s", row->cart_id);
  random_hex(s.claim, 16);
  int rc;
  WITH_CONN(req->svc, rc,
            store_checkout_takeover(c, row->order_id, row->claim,
                                    st->instance_id, s.claim));
  if (rc == 1) {
    log_info("checkout %s: recovering from step %s", row->order_id, row->step);
    const char *labels[] = {row->step};
    metric_inc(st->recoveries, labels, 1);
    s.t0 = now_s();
    saga_drive(&s, row->step);
    log_info("checkout %s: recovery answered %u", row->order_id,
             s.answer.status);
  }
  http_response_clear(&s.answer);
}
