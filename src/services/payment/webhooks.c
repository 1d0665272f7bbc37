/* webhooks.c - POST /api/v1/payments/webhooks/{provider}.
 *
 * A provider tells us what happened to a payment. The delivery must carry a
 * valid signature over its exact bytes with a fresh timestamp (kit/webhook.h):
 * a malformed header is 400, a bad signature or a stale timestamp 401, and
 * nothing changes. A valid event is recorded by its provider event id and
 * applied in the same transaction, so a redelivery (providers retry until
 * they see a 2xx) is answered 200 and changes nothing. Applying is the same
 * forward-only reconciliation as everywhere (payment_apply_locked).
 */
#include <jansson.h>
#include <string.h>
#include <time.h>

#include "kit/log.h"
#include "kit/uuid.h"
#include "kit/webhook.h"
#include "services/payment/payment.h"
#include "services/payment/store.h"

struct webhook_arg {
  const char *provider;
  const struct provider_event *ev;
  bool duplicate;
  bool applied;
};

static int webhook_tx(struct db_conn *conn, void *arg) {
  struct webhook_arg *a = arg;
  int rc = store_webhook_seen(conn, a->provider, a->ev->id, a->ev->type);
  if (rc < 0) return rc;
  if (rc == 0) {
    a->duplicate = true;
    return DB_NO_RESULTS;
  }
  if (!a->ev->has_intent) return DB_ONE_RESULT;
  const struct provider_intent *pi = &a->ev->intent;
  struct payment cur;
  rc = DB_NO_RESULTS;
  if (pi->id[0] != '\0')
    rc = store_payment_by_provider_id(conn, a->provider, pi->id, &cur);
  if (rc == 0 && uuid_valid(pi->order_id))
    rc = store_payment_by_order(conn, pi->order_id, true, &cur);
  if (rc < 0) return rc;
  if (rc == 0) return DB_ONE_RESULT; /* not ours (or not yet): nothing to do */
  if (cur.provider_payment_id[0] != '\0' &&
      strcmp(cur.provider_payment_id, pi->id) != 0)
    return DB_ONE_RESULT; /* another intent of the same order: not this one */
  struct payment after;
  rc = payment_apply_locked(conn, &cur, pi, &after);
  if (rc < 0) return rc;
  a->applied = memcmp(&cur, &after, sizeof cur) != 0;
  return DB_ONE_RESULT;
}

void payment_webhook_handler(struct http_request *req,
                             struct http_response *res) {
  struct payment_service *ps = payment_service_of(req);
  struct provider *prov = ps->provider;
  const char *name = http_param(req, "provider");
  if (name == NULL || strcmp(name, prov->name) != 0) {
    http_reply_error(res, req, API_NOT_FOUND, "no such payment provider", NULL);
    return;
  }
  const char *sig = http_header(req, prov->signature_header);
  const char *body = req->body ? req->body : "";
  switch (webhook_verify(ps->webhook_secret, sig, body, req->body_len,
                         PAYMENT_WEBHOOK_TOLERANCE_S, (int64_t)time(NULL),
                         NULL)) {
  case WEBHOOK_VALID:
    break;
  case WEBHOOK_MALFORMED:
    payment_count(ps, "webhook", "malformed");
    http_reply_error(res, req, API_VALIDATION_ERROR,
                     "missing or malformed signature header",
                     prov->signature_header);
    return;
  case WEBHOOK_STALE:
    payment_count(ps, "webhook", "stale");
    log_warn("webhook refused: timestamp outside the tolerance");
    http_reply_error(res, req, API_AUTHENTICATION_ERROR,
                     "webhook timestamp outside the tolerance", NULL);
    return;
  case WEBHOOK_BAD_SIGNATURE:
    payment_count(ps, "webhook", "bad_signature");
    log_warn("webhook refused: bad signature");
    http_reply_error(res, req, API_AUTHENTICATION_ERROR,
                     "webhook signature does not match", NULL);
    return;
  }
  struct provider_event ev;
  if (prov->parse_event(prov, body, req->body_len, &ev) != 0) {
    http_reply_error(res, req, API_VALIDATION_ERROR,
                     "the body is not an event of this provider", NULL);
    return;
  }
  struct webhook_arg a = {prov->name, &ev, false, false};
  int rc = db_transaction(req->svc->db, DB_READ_COMMITTED, webhook_tx, &a);
  if (rc < 0) {
    /* Not acknowledged: the provider retries later. */
    http_reply_db_error(res, req, rc);
    return;
  }
  payment_count(ps, "webhook",
                a.duplicate ? "duplicate" : (a.applied ? "applied" : "noop"));
  json_t *o = json_object();
  json_object_set_new(o, "received", json_true());
  json_object_set_new(o, "event_id", json_string(ev.id));
  json_object_set_new(o, "duplicate", json_boolean(a.duplicate));
  json_object_set_new(o, "applied", json_boolean(a.applied));
  http_reply_json(res, 200, o);
  json_decref(o);
}
