/* courier.c - the sandbox courier (an external system).
 *
 * Simulates a carrier's API as its own process on port base+16 (8096 in
 * dev), so the shipping service talks to it over HTTP as it would to a real
 * one:
 *   POST /v1/quotes                      price a parcel (the carrier's tariff)
 *   POST /v1/shipments                   book a label; idempotent on
 *                                        `reference` (our shipment id)
 *   GET  /v1/shipments/{tracking}        the parcel and its timeline
 *   POST /v1/shipments/{tracking}/speed  {step_ms}: change its pace (tests)
 *   GET  /v1/labels/{tracking}           the printable label
 *   GET|POST /v1/_faults                 {drop_webhooks}: while true, every
 *                                        webhook is lost on the way (not
 *                                        sent; retried later as a lost one
 *                                        is), for the chaos drill
 * After booking, a worker moves each parcel in_transit → out_for_delivery →
 * delivered, one step every step_ms (SHOPSPHERE_COURIER_STEP_MS, 8 s by
 * default: label to delivered in about 24 s; or `step_ms` in the booking),
 * and reports every step as a webhook signed with
 * SHOPSPHERE_COURIER_WEBHOOK_SECRET (kit/webhook.h) to
 * SHOPSPHERE_COURIER_WEBHOOK_URL (default: the shipping service's
 * /api/v1/shipping/webhooks/sandbox). Deliveries are retried with growing
 * delay until the receiver answers 2xx, in order per parcel. A parcel whose
 * address line1 contains "undeliverable" ends in `exception` instead.
 *
 * State lives in memory (DESIGN §1: the sandboxes are external systems with
 * their own store); a restart forgets booked parcels, as a real carrier's
 * test environment may, and finished parcels are forgotten after an hour.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "kit/handler.h"
#include "kit/json.h"
#include "kit/log.h"
#include "kit/money.h"
#include "kit/service.h"
#include "kit/uuid.h"
#include "kit/webhook.h"
#include "kit/worker.h"

#define SIGNATURE_HEADER "Sandbox-Courier-Signature"
#define TICK_MS 100
#define MAX_EVENTS 8
#define MAX_DELIVERY_ATTEMPTS 60
#define STEP_MIN_MS 50
#define STEP_MAX_MS 3600000
/* Finished parcels are forgotten an hour after their last step, so a
 * long-running courier stays small. */
#define RETAIN_MS (3600 * 1000)

enum stage {
  STAGE_LABEL = 0,
  STAGE_IN_TRANSIT,
  STAGE_OUT_FOR_DELIVERY,
  STAGE_DONE
};

struct track_event {
  char status[24];
  char description[96];
  char location[128];
  char occurred_at[32];
};

struct parcel {
  char tracking[24];
  char reference[64];
  char order_id[40];
  char service[16];
  char city[104];
  char country[4];
  int64_t weight_grams;
  bool undeliverable;
  int step_ms;
  enum stage stage;
  int64_t next_at_ms; /* wall-clock ms of the next step */
  int64_t done_at_ms; /* when it reached its final step */
  struct track_event events[MAX_EVENTS];
  int event_count;
};

struct delivery {
  char event_id[40];
  char tracking[24];
  char *payload; /* malloc'd, owned */
  int attempts;
  int64_t next_at_ms;
  bool in_flight;
};

struct courier {
  const struct config *cfg;
  char webhook_url[CONFIG_URL_MAX + 64];
  pthread_mutex_t lock;
  struct parcel *parcels; /* malloc'd array */
  size_t parcel_count, parcel_cap;
  struct delivery *outbox; /* malloc'd array, oldest first */
  size_t outbox_count, outbox_cap;
  struct worker worker;
  int64_t pruned_at_ms;
  atomic_bool drop_webhooks; /* the fault switch (/v1/_faults) */
  atomic_llong dropped;      /* webhooks lost to it so far */
};

/* --- time -------------------------------------------------------------- */

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void format_time(int64_t ms, char out[32]) {
  time_t secs = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char base[24];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 32, "%s.%03dZ", base, (int)(ms % 1000));
}

/* --- state (call with the lock held) ----------------------------------- */

static struct parcel *find_parcel(struct courier *c, const char *tracking,
                                  const char *reference) {
  for (size_t i = 0; i < c->parcel_count; i++) {
    struct parcel *p = &c->parcels[i];
    if (tracking != NULL && strcmp(p->tracking, tracking) == 0) return p;
    if (reference != NULL && strcmp(p->reference, reference) == 0) return p;
  }
  return NULL;
}

static void add_event(struct parcel *p, const char *status,
                      const char *description, const char *location,
                      int64_t at_ms) {
  if (p->event_count >= MAX_EVENTS) return;
  struct track_event *e = &p->events[p->event_count++];
  snprintf(e->status, sizeof e->status, "%s", status);
  snprintf(e->description, sizeof e->description, "%s", description);
  snprintf(e->location, sizeof e->location, "%s", location);
  format_time(at_ms, e->occurred_at);
}

/* Queues the webhook for p's newest event. */
static void queue_webhook(struct courier *c, const struct parcel *p) {
  const struct track_event *e = &p->events[p->event_count - 1];
  char hex[17];
  random_hex(hex, 8);
  char event_id[40];
  snprintf(event_id, sizeof event_id, "evt_%s", hex);
  json_t *body = json_pack(
      "{s:s, s:s, s:I, s:{s:s, s:s, s:s, s:s, s:s, s:s}}", "id", event_id,
      "type", "tracking.updated", "created", (json_int_t)time(NULL), "data",
      "tracking_number", p->tracking, "reference", p->reference, "status",
      e->status, "description", e->description, "location", e->location,
      "occurred_at", e->occurred_at);
  char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (payload == NULL) {
    log_error("courier: cannot render the webhook of %s", p->tracking);
    return;
  }
  if (c->outbox_count == c->outbox_cap) {
    size_t cap = c->outbox_cap ? c->outbox_cap * 2 : 64;
    struct delivery *grown = realloc(c->outbox, cap * sizeof *grown);
    if (grown == NULL) {
      free(payload);
      log_error("courier: out of memory queueing a webhook");
      return;
    }
    c->outbox = grown;
    c->outbox_cap = cap;
  }
  struct delivery *d = &c->outbox[c->outbox_count++];
  memset(d, 0, sizeof *d);
  snprintf(d->event_id, sizeof d->event_id, "%s", event_id);
  snprintf(d->tracking, sizeof d->tracking, "%s", p->tracking);
  d->payload = payload;
  d->next_at_ms = now_ms();
}

/* Moves p one step along and queues its webhook. */
static void advance(struct courier *c, struct parcel *p, int64_t now) {
  switch (p->stage) {
  case STAGE_LABEL:
    add_event(p, "in_transit", "Picked up by the courier",
              "Sandbox Courier hub", now);
    p->stage = STAGE_IN_TRANSIT;
    break;
  case STAGE_IN_TRANSIT:
    add_event(p, "out_for_delivery", "Out for delivery", p->city, now);
    p->stage = STAGE_OUT_FOR_DELIVERY;
    break;
  case STAGE_OUT_FOR_DELIVERY:
    if (p->undeliverable)
      add_event(p, "exception", "Delivery failed: the address was not found",
                p->city, now);
    else
      add_event(p, "delivered", "Delivered", p->city, now);
    p->stage = STAGE_DONE;
    p->done_at_ms = now;
    break;
  case STAGE_DONE:
    return;
  }
  p->next_at_ms = now + p->step_ms;
  queue_webhook(c, p);
}

static void remove_delivery(struct courier *c, size_t i) {
  free(c->outbox[i].payload);
  memmove(&c->outbox[i], &c->outbox[i + 1],
          (c->outbox_count - i - 1) * sizeof c->outbox[0]);
  c->outbox_count--;
}

/* Drops finished parcels older than RETAIN_MS whose webhooks are all
 * delivered; runs at most once a minute. Lock held. */
static void prune(struct courier *c, int64_t now) {
  if (now - c->pruned_at_ms < 60000) return;
  c->pruned_at_ms = now;
  size_t kept = 0;
  for (size_t i = 0; i < c->parcel_count; i++) {
    const struct parcel *p = &c->parcels[i];
    bool pending = false;
    for (size_t k = 0; k < c->outbox_count && !pending; k++)
      pending = strcmp(c->outbox[k].tracking, p->tracking) == 0;
    if (p->stage == STAGE_DONE && now - p->done_at_ms > RETAIN_MS && !pending)
      continue;
    if (kept != i) c->parcels[kept] = *p;
    kept++;
  }
  c->parcel_count = kept;
}

/* --- the worker -------------------------------------------------------- */

#define BATCH 16

struct sending {
  char event_id[40];
  char *payload; /* a copy, owned by the run */
};

static void courier_run(void *arg) {
  struct courier *c = arg;
  struct sending batch[BATCH];
  size_t n = 0;

  pthread_mutex_lock(&c->lock);
  int64_t now = now_ms();
  for (size_t i = 0; i < c->parcel_count; i++) {
    struct parcel *p = &c->parcels[i];
    if (p->stage != STAGE_DONE && p->next_at_ms <= now) advance(c, p, now);
  }
  prune(c, now);
  /* Oldest first, one at a time per parcel: a parcel's next update waits
   * until the previous one was accepted, so the receiver sees them in
   * order. */
  for (size_t i = 0; i < c->outbox_count && n < BATCH; i++) {
    struct delivery *d = &c->outbox[i];
    bool blocked = false;
    for (size_t k = 0; k < i && !blocked; k++)
      blocked = strcmp(c->outbox[k].tracking, d->tracking) == 0;
    if (blocked || d->in_flight || d->next_at_ms > now) continue;
    char *copy = strdup(d->payload);
    if (copy == NULL) break;
    d->in_flight = true;
    snprintf(batch[n].event_id, sizeof batch[n].event_id, "%s", d->event_id);
    batch[n].payload = copy;
    n++;
  }
  pthread_mutex_unlock(&c->lock);

  for (size_t i = 0; i < n; i++) {
    long status = 0;
    int rc = KIT_ERROR;
    if (atomic_load(&c->drop_webhooks))
      atomic_fetch_add(&c->dropped, 1); /* lost on the way */
    else
      rc = webhook_post(c->webhook_url, SIGNATURE_HEADER,
                        c->cfg->courier_webhook_secret, batch[i].payload,
                        strlen(batch[i].payload), 5000, &status);
    bool ok = rc == KIT_OK && status >= 200 && status < 300;
    pthread_mutex_lock(&c->lock);
    for (size_t k = 0; k < c->outbox_count; k++) {
      struct delivery *d = &c->outbox[k];
      if (strcmp(d->event_id, batch[i].event_id) != 0) continue;
      d->in_flight = false;
      if (ok) {
        remove_delivery(c, k);
        break;
      }
      d->attempts++;
      if (d->attempts >= MAX_DELIVERY_ATTEMPTS) {
        log_error("courier: giving up on webhook %s of %s after %d attempts",
                  d->event_id, d->tracking, d->attempts);
        remove_delivery(c, k);
        break;
      }
      /* 250 ms, 500 ms, 1 s ... at most 30 s between attempts. */
      int shift = d->attempts < 7 ? d->attempts : 7;
      int64_t delay = (int64_t)250 << shift;
      d->next_at_ms = now_ms() + (delay > 30000 ? 30000 : delay);
      log_warn("courier: webhook %s answered %ld (attempt %d); retrying",
               d->event_id, status, d->attempts);
      break;
    }
    pthread_mutex_unlock(&c->lock);
    free(batch[i].payload);
  }
}

/* --- HTTP: helpers ---------------------------------------------------- */

static struct courier *courier_of(const struct http_request *req) {
  return req->svc->state;
}

static json_t *parcel_json(const struct courier *c, const struct parcel *p) {
  static const char *const stage_status[] = {"label_created", "in_transit",
                                             "out_for_delivery", NULL};
  const char *status = p->stage == STAGE_DONE
                           ? p->events[p->event_count - 1].status
                           : stage_status[p->stage];
  json_t *events = json_array();
  for (int i = 0; i < p->event_count; i++)
    json_array_append_new(
        events, json_pack("{s:s, s:s, s:s, s:s}", "status", p->events[i].status,
                          "description", p->events[i].description, "location",
                          p->events[i].location, "occurred_at",
                          p->events[i].occurred_at));
  char label[CONFIG_URL_MAX + 64];
  snprintf(label, sizeof label, "%s/v1/labels/%s",
           c->cfg->urls[SVC_SANDBOX_COURIER], p->tracking);
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:i, s:o}",
                   "tracking_number", p->tracking, "reference", p->reference,
                   "service", p->service, "status", status, "label_url", label,
                   "weight_grams", (json_int_t)p->weight_grams, "step_ms",
                   p->step_ms, "events", events);
}

/* --- POST /v1/quotes ------------------------------------------------- */

/* The carrier's own tariff (ours come from the shipping service's tables;
 * this is what a carrier would charge us): a base per service and region
 * plus a price per started kilogram. */
static void handle_quote(struct http_request *req, struct http_response *res) {
  const void *to = NULL;
  int64_t weight = 0;
  const char *service = NULL;
  static const char *const services[] = {"standard", "express", NULL};
  const struct json_field fields[] = {
      {"to", JF_OBJECT, true, 0, 0, &to},
      {"weight_grams", JF_INT, true, 1, 1000000, &weight},
      {"service", JF_ENUM, false, 0, 0, &service, .enum_values = services},
  };
  struct json_doc *doc = NULL;
  struct json_error err;
  if (json_parse_body(req->body, req->body_len, fields, 3, false, req->arena,
                      &doc, &err) != KIT_OK) {
    http_reply_json_error(res, req, &err);
    goto cleanup;
  }
  const char *country = NULL;
  const struct json_field tf[] = {{"country", JF_STRING, true, 2, 2, &country}};
  if (json_read_fields(to, tf, 1, false, req->arena, &err) != KIT_OK) {
    http_reply_json_error(res, req, &err);
    goto cleanup;
  }
  bool domestic = strcasecmp(country, "US") == 0;
  int64_t kilos = (weight + 999) / 1000;
  json_t *items = json_array();
  for (int i = 0; services[i] != NULL; i++) {
    if (service != NULL && strcmp(service, services[i]) != 0) continue;
    bool express = i == 1;
    int64_t base = express ? 1200 : 450, per_kg = express ? 150 : 80;
    if (!domestic) base *= 3, per_kg *= 2;
    char amount[MONEY_BUF];
    money_format(base + per_kg * kilos, "USD", amount);
    int days = (express ? 2 : 5) + (domestic ? 0 : 5);
    json_array_append_new(items,
                          json_pack("{s:s, s:s, s:s, s:i}", "service",
                                    services[i], "amount", amount, "currency",
                                    "USD", "estimated_days", days));
  }
  json_t *body = json_pack("{s:o}", "items", items);
  http_reply_json(res, 200, body);
  json_decref(body);

cleanup:
  json_doc_free(doc);
}

/* --- POST /v1/shipments ---------------------------------------------- */

static void handle_book(struct http_request *req, struct http_response *res) {
  struct courier *c = courier_of(req);
  const char *reference = NULL, *order_id = "", *service = NULL;
  const void *to = NULL;
  int64_t weight = 0, step_ms = 0;
  static const char *const services[] = {"standard", "express", NULL};
  const struct json_field fields[] = {
      {"reference", JF_STRING, true, 1, 63, &reference},
      {"order_id", JF_STRING, false, 0, 39, &order_id, .nullable = true},
      {"service", JF_ENUM, true, 0, 0, &service, .enum_values = services},
      {"weight_grams", JF_INT, true, 0, 100000000, &weight},
      {"to", JF_OBJECT, true, 0, 0, &to},
      {"step_ms", JF_INT, false, STEP_MIN_MS, STEP_MAX_MS, &step_ms},
  };
  struct json_doc *doc = NULL;
  struct json_error err;
  if (json_parse_body(req->body, req->body_len, fields, 6, false, req->arena,
                      &doc, &err) != KIT_OK) {
    http_reply_json_error(res, req, &err);
    goto cleanup;
  }
  const char *line1 = NULL, *city = NULL, *country = NULL;
  const struct json_field tf[] = {
      {"line1", JF_STRING, true, 1, 200, &line1},
      {"city", JF_STRING, true, 1, 100, &city},
      {"country", JF_STRING, true, 2, 2, &country},
  };
  if (json_read_fields(to, tf, 3, false, req->arena, &err) != KIT_OK) {
    char *field = arena_printf(req->arena, "to.%s", err.field);
    http_reply_error(res, req, err.code, err.message, field);
    goto cleanup;
  }

  pthread_mutex_lock(&c->lock);
  unsigned status = 200;
  struct parcel *p = find_parcel(c, NULL, reference);
  if (p == NULL) {
    if (c->parcel_count == c->parcel_cap) {
      size_t cap = c->parcel_cap ? c->parcel_cap * 2 : 64;
      struct parcel *grown = realloc(c->parcels, cap * sizeof *grown);
      if (grown == NULL) {
        pthread_mutex_unlock(&c->lock);
        http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
        goto cleanup;
      }
      c->parcels = grown;
      c->parcel_cap = cap;
    }
    p = &c->parcels[c->parcel_count++];
    memset(p, 0, sizeof *p);
    char hex[13];
    random_hex(hex, 6);
    for (char *h = hex; *h; h++)
      if (*h >= 'a' && *h <= 'f') *h = (char)(*h - 'a' + 'A');
    snprintf(p->tracking, sizeof p->tracking, "SBX%s", hex);
    snprintf(p->reference, sizeof p->reference, "%s", reference);
    snprintf(p->order_id, sizeof p->order_id, "%s", order_id ? order_id : "");
    snprintf(p->service, sizeof p->service, "%s", service);
    snprintf(p->city, sizeof p->city, "%s", city);
    snprintf(p->country, sizeof p->country, "%s", country);
    p->weight_grams = weight;
    p->undeliverable = strcasestr(line1, "undeliverable") != NULL;
    p->step_ms = step_ms > 0 ? (int)step_ms : c->cfg->courier_step_ms;
    p->stage = STAGE_LABEL;
    int64_t now = now_ms();
    p->next_at_ms = now + p->step_ms;
    add_event(p, "label_created", "Shipping label created", "", now);
    status = 201;
    log_info("courier: booked %s for reference %s", p->tracking, reference);
  }
  json_t *body = parcel_json(c, p);
  pthread_mutex_unlock(&c->lock);
  http_reply_json(res, status, body);
  json_decref(body);

cleanup:
  json_doc_free(doc);
}

/* --- GET /v1/shipments/{tracking} ------------------------------------ */

static void handle_get(struct http_request *req, struct http_response *res) {
  struct courier *c = courier_of(req);
  pthread_mutex_lock(&c->lock);
  struct parcel *p = find_parcel(c, http_param(req, "tracking"), NULL);
  json_t *body = p ? parcel_json(c, p) : NULL;
  pthread_mutex_unlock(&c->lock);
  if (body == NULL) {
    http_reply_error(res, req, API_NOT_FOUND, "no such parcel", NULL);
    return;
  }
  http_reply_json(res, 200, body);
  json_decref(body);
}

/* Parses the body into fields (numbers and booleans only: nothing points
 * into the document), unknown members refused. On failure replies with the
 * error envelope and returns false. */
static bool parse_fields(struct http_request *req, struct http_response *res,
                         const struct json_field *fields, size_t n) {
  struct json_doc *doc = NULL;
  struct json_error err;
  bool ok = json_parse_body(req->body, req->body_len, fields, n, true,
                            req->arena, &doc, &err) == KIT_OK;
  if (!ok) http_reply_json_error(res, req, &err);
  json_doc_free(doc);
  return ok;
}

/* --- POST /v1/shipments/{tracking}/speed ----------------------------- */

static void handle_speed(struct http_request *req, struct http_response *res) {
  struct courier *c = courier_of(req);
  int64_t step_ms = 0;
  const struct json_field fields[] = {
      {"step_ms", JF_INT, true, STEP_MIN_MS, STEP_MAX_MS, &step_ms},
  };
  if (!parse_fields(req, res, fields, 1)) return;
  pthread_mutex_lock(&c->lock);
  struct parcel *p = find_parcel(c, http_param(req, "tracking"), NULL);
  json_t *body = NULL;
  if (p != NULL) {
    /* The next step comes one new step from now: faster or slower. */
    p->step_ms = (int)step_ms;
    p->next_at_ms = now_ms() + step_ms;
    body = parcel_json(c, p);
  }
  pthread_mutex_unlock(&c->lock);
  if (body == NULL) {
    http_reply_error(res, req, API_NOT_FOUND, "no such parcel", NULL);
    return;
  }
  worker_kick(&c->worker);
  http_reply_json(res, 200, body);
  json_decref(body);
}

/* --- GET|POST /v1/_faults -------------------------------------------- */

static void reply_faults(struct http_response *res, struct courier *c) {
  pthread_mutex_lock(&c->lock);
  size_t pending = c->outbox_count;
  pthread_mutex_unlock(&c->lock);
  json_t *body = json_pack(
      "{s:b, s:I, s:I}", "drop_webhooks", (int)atomic_load(&c->drop_webhooks),
      "pending_webhooks", (json_int_t)pending, "dropped_webhooks",
      (json_int_t)atomic_load(&c->dropped));
  http_reply_json(res, 200, body);
  json_decref(body);
}

static void handle_get_faults(struct http_request *req,
                              struct http_response *res) {
  reply_faults(res, courier_of(req));
}

static void handle_set_faults(struct http_request *req,
                              struct http_response *res) {
  struct courier *c = courier_of(req);
  bool drop = atomic_load(&c->drop_webhooks);
  const struct json_field fields[] = {
      {"drop_webhooks", JF_BOOL, true, 0, 0, &drop},
  };
  if (!parse_fields(req, res, fields, 1)) return;
  atomic_store(&c->drop_webhooks, drop);
  log_info("courier faults: drop_webhooks=%s", drop ? "true" : "false");
  if (!drop) worker_kick(&c->worker);
  reply_faults(res, c);
}

/* --- GET /v1/labels/{tracking} --------------------------------------- */

static void handle_label(struct http_request *req, struct http_response *res) {
  struct courier *c = courier_of(req);
  pthread_mutex_lock(&c->lock);
  struct parcel *p = find_parcel(c, http_param(req, "tracking"), NULL);
  char *text = NULL;
  if (p != NULL)
    text = arena_printf(req->arena,
                        "SANDBOX COURIER - SHIPPING LABEL\n"
                        "tracking: %s\nservice: %s\nweight: %lld g\n"
                        "to: %s, %s\nreference: %s\n",
                        p->tracking, p->service, (long long)p->weight_grams,
                        p->city, p->country, p->reference);
  pthread_mutex_unlock(&c->lock);
  if (p == NULL || text == NULL) {
    http_reply_error(res, req, API_NOT_FOUND, "no such label", NULL);
    return;
  }
  http_reply(res, 200, "text/plain; charset=utf-8", text, strlen(text));
}

/* --- the module -------------------------------------------------------- */

static const struct route routes[] = {
    {"POST", "/v1/quotes", handle_quote, ACCESS_PUBLIC},
    {"POST", "/v1/shipments", handle_book, ACCESS_PUBLIC},
    {"GET", "/v1/shipments/{tracking}", handle_get, ACCESS_PUBLIC},
    {"POST", "/v1/shipments/{tracking}/speed", handle_speed, ACCESS_PUBLIC},
    {"GET", "/v1/labels/{tracking}", handle_label, ACCESS_PUBLIC},
    {"GET", "/v1/_faults", handle_get_faults, ACCESS_PUBLIC},
    {"POST", "/v1/_faults", handle_set_faults, ACCESS_PUBLIC},
};

static int courier_start(struct service *svc) {
  struct courier *c = calloc(1, sizeof *c);
  if (c == NULL) return KIT_ERROR;
  c->cfg = svc->cfg;
  if (svc->cfg->courier_webhook_url[0] != '\0')
    snprintf(c->webhook_url, sizeof c->webhook_url, "%s",
             svc->cfg->courier_webhook_url);
  else
    snprintf(c->webhook_url, sizeof c->webhook_url,
             "%s/api/v1/shipping/webhooks/sandbox",
             svc->cfg->urls[SVC_SHIPPING]);
  if (svc->cfg->courier_webhook_secret[0] == '\0')
    log_warn("SHOPSPHERE_COURIER_WEBHOOK_SECRET is unset: tracking webhooks "
             "cannot be signed and will not be sent");
  pthread_mutex_init(&c->lock, NULL);
  if (worker_start(&c->worker, svc->name, "courier-progress", TICK_MS,
                   courier_run, c) != KIT_OK) {
    pthread_mutex_destroy(&c->lock);
    free(c);
    return KIT_ERROR;
  }
  svc->state = c;
  log_info("courier: webhooks go to %s, one step every %d ms", c->webhook_url,
           svc->cfg->courier_step_ms);
  return KIT_OK;
}

static void courier_stop(struct service *svc) {
  struct courier *c = svc->state;
  if (c == NULL) return;
  worker_stop(&c->worker);
  for (size_t i = 0; i < c->outbox_count; i++)
    free(c->outbox[i].payload);
  free(c->outbox);
  free(c->parcels);
  pthread_mutex_destroy(&c->lock);
  free(c);
  svc->state = NULL;
}

const struct service_module sandbox_courier_module = {
    .id = SVC_SANDBOX_COURIER,
    .summary = "simulated courier API (external system)",
    .needs = 0,
    .routes = routes,
    .route_count = sizeof routes / sizeof routes[0],
    .start = courier_start,
    .stop = courier_stop,
};
