/* sender.c - the delivery worker: sends what the consumers queued.
 *
 * Every SHOPSPHERE_NOTIFICATION_POLL_MS (and whenever kicked) it claims due
 * `queued` rows with one UPDATE ... FOR UPDATE SKIP LOCKED that moves them to
 * `sending` and counts the attempt, so two processes never send the same row;
 * then sends each on its channel and records the outcome: `sent`, back to
 * `queued` with a growing delay (SHOPSPHERE_NOTIFICATION_RETRY_BASE_MS ×
 * 2^(attempts-1), at most 5 minutes) and the reason, or `failed` after
 * SHOPSPHERE_NOTIFICATION_MAX_ATTEMPTS or a permanent refusal.
 *
 * At most one delivery per (event, channel): the row is unique per pair and
 * claimed before anything goes out. A process that dies between sending and
 * recording leaves the row `sending`; after STALE_MS it is sent again with
 * the same idempotency key (the e-mail's Message-ID is derived from the
 * delivery id, the SMS and push providers take the delivery id as their
 * key), which the receiving side uses to drop the duplicate. A live in-app
 * event published twice in that case carries the same notification id, and
 * the feed stays one row.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit/log.h"
#include "kit/smtp.h"
#include "services/notification/notification.h"
#include "services/notification/store.h"

#define CLAIM_BATCH 20
#define SMTP_TIMEOUT_MS 10000
/* Longer than any send takes: a row `sending` this long was interrupted. */
#define STALE_MS 60000

enum outcome { SENT, RETRY, GIVE_UP };

static enum outcome send_email(struct notification_state *st,
                               const struct delivery_claim *d, char *why,
                               size_t why_size) {
  char message_id[96], date[64];
  snprintf(message_id, sizeof message_id, "%s@shopsphere.local", d->id);
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  char *message =
      notify_mime_build(st->mail_from, d->recipient, d->subject, message_id,
                        date, d->body_text, d->body_html);
  if (message == NULL) {
    snprintf(why, why_size, "out of memory building the message");
    return RETRY;
  }
  int rc = smtp_send(st->smtp_url, st->mail_from_addr, d->recipient, message,
                     strlen(message), SMTP_TIMEOUT_MS, why, why_size);
  free(message);
  if (rc == KIT_OK) return SENT;
  return rc == KIT_INVALID ? GIVE_UP : RETRY;
}

static enum outcome send_live(struct notification_state *st,
                              const struct delivery_claim *d, char *why,
                              size_t why_size) {
  char channel[128];
  snprintf(channel, sizeof channel, "%s%s", NOTIFY_CHANNEL_PREFIX,
           d->recipient);
  const char *argv[] = {"PUBLISH", channel, d->payload};
  struct kv_reply *r = NULL;
  int rc = kv_command(st->svc->kv, &r, 3, argv, NULL);
  bool ok = rc == KIT_OK && r != NULL && r->type == KV_INTEGER;
  kv_reply_free(r);
  if (ok) return SENT;
  snprintf(why, why_size, "redis publish failed (%s)",
           rc == KIT_TIMEOUT ? "timeout" : "unavailable");
  return RETRY;
}

static enum outcome send_one(struct notification_state *st,
                             const struct delivery_claim *d, char *why,
                             size_t why_size) {
  if (strcmp(d->channel, "email") == 0) return send_email(st, d, why, why_size);
  if (strcmp(d->channel, "in_app") == 0) return send_live(st, d, why, why_size);
  struct sandbox_provider *p = strcmp(d->channel, "sms") == 0    ? &st->sms
                               : strcmp(d->channel, "push") == 0 ? &st->push
                                                                 : NULL;
  if (p == NULL) {
    snprintf(why, why_size, "unknown channel %s", d->channel);
    return GIVE_UP;
  }
  if (provider_send(p, d->id, d->recipient, d->subject, d->body_text) == KIT_OK)
    return SENT;
  snprintf(why, why_size, "the sandbox %s provider is out of memory", p->name);
  return RETRY;
}

void sender_run(void *arg) {
  struct notification_state *st = arg;
  struct service *svc = st->svc;
  const struct config *cfg = svc->cfg;
  for (int round = 0; round < 50 && !worker_stopping(&st->sender); round++) {
    struct db_conn *conn = db_acquire(svc->db, 1000);
    if (conn == NULL) return; /* the database is away: next run */
    if (round == 0) nstore_delivery_requeue_stale(conn, STALE_MS);
    struct delivery_claim *rows = NULL;
    int count = 0;
    int rc = nstore_delivery_claim(conn, CLAIM_BATCH, &rows, &count);
    db_release(svc->db, conn);
    if (rc <= 0) return;
    for (int i = 0; i < count; i++) {
      const struct delivery_claim *d = &rows[i];
      char why[512] = "";
      enum outcome o = send_one(st, d, why, sizeof why);
      if (o == RETRY && d->attempts >= cfg->notification_max_attempts)
        o = GIVE_UP;
      conn = db_acquire(svc->db, 5000);
      if (conn == NULL) {
        /* Left `sending`: requeued after STALE_MS and resent with the same
         * idempotency key. */
        log_error("delivery %s: outcome not recorded (database away)", d->id);
        continue;
      }
      if (o == SENT) {
        nstore_delivery_sent(conn, d->id);
        log_info("%s '%s' delivered to %s (delivery %s, attempt %d)",
                 d->channel, d->kind, d->recipient, d->id, d->attempts);
      } else if (o == RETRY) {
        int64_t delay =
            notify_retry_delay_ms(cfg->notification_retry_base_ms, d->attempts);
        nstore_delivery_retry(conn, d->id, why, delay);
        log_warn("%s delivery %s failed (attempt %d), retry in %lld ms: %s",
                 d->channel, d->id, d->attempts, (long long)delay, why);
      } else {
        nstore_delivery_failed(conn, d->id, why);
        log_error("%s delivery %s failed for good after %d attempts: %s",
                  d->channel, d->id, d->attempts, why);
      }
      db_release(svc->db, conn);
    }
    nstore_delivery_claims_free(rows, count);
    if (count < CLAIM_BATCH) return;
  }
}
