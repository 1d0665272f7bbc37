/* sweeper.c - the order service's background recovery (kit/worker.h).
 *
 * Every second: beat this process's heartbeat (order_workers), finish or
 * compensate sagas whose owner stopped beating (a crashed or killed process,
 * or a request that handed its saga over), settle cancelled orders whose
 * stock release or payment void is still owed, and drive refunds left
 * pending (a crash after the intent's commit, or no answer from the payment
 * service: refunds.c) with their own id, so none is made twice.
 */
#include <stdio.h>
#include <string.h>

#include "kit/log.h"
#include "services/order/internal.h"

#define SWEEP_INTERVAL_MS 1000
#define SWEEP_BATCH 10
/* A refund intent younger than this is still being driven by its request. */
#define REFUND_STALE_S 5

/* A request-shaped context for the saga code: ids for logs and traces, an
 * arena, the service. */
static void fake_request(struct http_request *req, struct service *svc,
                         struct arena *arena) {
  memset(req, 0, sizeof *req);
  req->method = "POST";
  req->path = "/internal/sweeper";
  req->query = "";
  req->body = "";
  req->client_ip = "";
  req->svc = svc;
  req->arena = arena;
  http_assign_ids(req);
}

static void compensate(struct http_request *req, const char *id) {
  (void)order_compensate(req, id);
}

static void drive_refund(struct http_request *req, const char *id) {
  (void)order_refund_drive(req, id);
}

/* Runs fn for each of ids[0..n), each with a request of its own. */
static void for_each_id(struct order_state *st, char (*ids)[40], int n,
                        void (*fn)(struct http_request *, const char *)) {
  for (int i = 0; i < n && !worker_stopping(&st->sweeper); i++) {
    struct arena scratch;
    arena_init(&scratch, 16384);
    struct http_request req;
    fake_request(&req, st->svc, &scratch);
    fn(&req, ids[i]);
    arena_free(&scratch);
  }
}

void order_handover_owed(struct order_state *st, const char *order_id,
                         const char *claim) {
  pthread_mutex_lock(&st->handover_lock);
  if (st->handover_count < ORDER_HANDOVERS_MAX) {
    struct order_handover *h = &st->handovers[st->handover_count++];
    snprintf(h->order_id, sizeof h->order_id, "%s", order_id);
    snprintf(h->claim, sizeof h->claim, "%s", claim);
  } else {
    /* Past the bound, the 10-minute hang rule still recovers it. */
    log_error("checkout %s: too many hand-overs owed", order_id);
  }
  pthread_mutex_unlock(&st->handover_lock);
}

/* Stores the hand-overs owed (owner '' for the same claim: the sweeper's
 * query then finds them). One that fails stays for the next pass; one
 * whose claim changed meanwhile was taken over already. */
static void store_handovers(struct order_state *st, struct db_conn *c) {
  pthread_mutex_lock(&st->handover_lock);
  int kept = 0;
  for (int i = 0; i < st->handover_count; i++) {
    struct order_handover *h = &st->handovers[i];
    if (store_checkout_takeover(c, h->order_id, h->claim, "", h->claim) < 0)
      st->handovers[kept++] = *h;
    else
      log_info("checkout %s: handed over to the sweeper", h->order_id);
  }
  st->handover_count = kept;
  pthread_mutex_unlock(&st->handover_lock);
}

static void sweep(void *arg) {
  struct order_state *st = arg;
  struct service *svc = st->svc;
  struct arena arena;
  arena_init(&arena, 16384);

  struct db_conn *c = db_acquire(svc->db, ORDER_DB_WAIT_MS);
  if (c == NULL) goto cleanup; /* the database is away: next time */
  (void)store_worker_beat(c, st->instance_id);
  store_handovers(st, c);
  struct checkout_record *stale = NULL;
  int n = store_checkout_stale(c, &arena, &stale, SWEEP_BATCH);
  char(*due)[40] = NULL;
  int m = store_order_compensation_due(c, &arena, &due, SWEEP_BATCH);
  char(*refunds)[40] = NULL;
  int k = store_refunds_stale(c, &arena, REFUND_STALE_S, &refunds, SWEEP_BATCH);
  db_release(svc->db, c);

  for (int i = 0; i < n && !worker_stopping(&st->sweeper); i++) {
    struct arena scratch;
    arena_init(&scratch, 16384);
    struct http_request req;
    fake_request(&req, svc, &scratch);
    order_recover_checkout(&req, &stale[i]);
    arena_free(&scratch);
  }
  for_each_id(st, due, m, compensate);
  for_each_id(st, refunds, k, drive_refund);
cleanup:
  arena_free(&arena);
}

int order_sweeper_start(struct service *svc) {
  struct order_state *st = svc->state;
  /* Beat once before serving, so our own sagas never look orphaned. */
  struct db_conn *c = db_acquire(svc->db, ORDER_DB_WAIT_MS);
  if (c != NULL) {
    (void)store_worker_beat(c, st->instance_id);
    db_release(svc->db, c);
  }
  return worker_start(&st->sweeper, svc->name, "order-sweeper",
                      SWEEP_INTERVAL_MS, sweep, st);
}

void order_sweeper_stop(struct service *svc) {
  struct order_state *st = svc->state;
  worker_stop(&st->sweeper);
  /* A clean stop hands our open sagas over at once. */
  struct db_conn *c = db_acquire(svc->db, ORDER_DB_WAIT_MS);
  if (c != NULL) {
    (void)store_worker_gone(c, st->instance_id);
    db_release(svc->db, c);
  }
}
