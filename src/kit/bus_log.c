/* bus_log.c - the event log and its replay (bus.h).
 *
 * The log is a RabbitMQ stream queue, shopsphere.log, bound to the event
 * exchange with '#': the broker appends every published event to it, beside
 * the per-service work queues, and keeps it by age and size (segments older
 * or beyond the limit are dropped whole). Reading a stream removes nothing,
 * so any number of readers can go back to any point of it.
 *
 * A replay reads the log from a time on and republishes the events one
 * service consumes to that service's own queue with header x-replay; the
 * service's ordinary consumer applies them through its inbox, which skips
 * what it already applied (a rebuild empties the inbox with the read model
 * first: bus_read_model_reset; x-replay only marks the delivery). The
 * transport-specific part is only "read the log from a time on" and
 * "publish to a service's queue": a Kafka transport would read its topic
 * from the offset of a timestamp (offsetsForTimes) instead.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit/breaker.h"
#include "kit/bus_internal.h"
#include "kit/config.h"
#include "kit/err.h"
#include "kit/log.h"
#include "kit/mq.h"

/* Retention when the configuration leaves it unset (tests build their own
 * struct config); the same as config.c's defaults, so every declarer asks
 * for the same queue. */
#define LOG_DEFAULT_MAX_AGE_H 168
#define LOG_DEFAULT_MAX_MB 1024
/* Stream segments: retention drops whole segments, so a limit is several. */
#define LOG_SEGMENT_MAX_BYTES (500LL * 1024 * 1024)
/* Stream reads are acked for flow control; this many in flight. */
#define REPLAY_PREFETCH 500
/* The end of the log: no delivery for this long. */
#define REPLAY_IDLE_MS 2000
/* Publishes awaiting confirms at most. */
#define REPLAY_CONFIRM_EVERY 200

static void log_options(const struct config *cfg, char *age, size_t age_size,
                        struct mq_queue_options *opt) {
  int hours = cfg != NULL && cfg->bus_log_max_age_h > 0 ? cfg->bus_log_max_age_h
                                                        : LOG_DEFAULT_MAX_AGE_H;
  int mb = cfg != NULL && cfg->bus_log_max_mb > 0 ? cfg->bus_log_max_mb
                                                  : LOG_DEFAULT_MAX_MB;
  snprintf(age, age_size, "%dh", hours);
  int64_t bytes = (int64_t)mb * 1024 * 1024;
  int64_t segment = bytes / 8;
  if (segment > LOG_SEGMENT_MAX_BYTES) segment = LOG_SEGMENT_MAX_BYTES;
  *opt = (struct mq_queue_options){.stream = true,
                                   .max_age = age,
                                   .max_length_bytes = bytes,
                                   .max_segment_bytes = segment};
}

int bus_log_declare(const struct config *cfg) {
  char reason[200] = "", age[32];
  struct mq_queue_options opt;
  log_options(cfg, age, sizeof age, &opt);
  struct mq_conn *c = NULL;
  int rc = mq_open(&c, cfg->amqp_url, BUS_AMQP_TIMEOUT_MS, false, reason,
                   sizeof reason);
  if (rc != KIT_OK) return rc;
  rc = mq_declare_exchange(c, BUS_EXCHANGE, "topic");
  if (rc == KIT_OK) {
    rc = mq_declare_queue(c, BUS_LOG_QUEUE, &opt, NULL, NULL, 0);
    if (rc != KIT_OK && rc != KIT_UNAVAILABLE) {
      /* Declared before with other arguments (the broker refuses to change
       * them): keep it as it is, if it is there. */
      log_warn("event log %s: %s (kept as declared)", BUS_LOG_QUEUE,
               mq_error(c));
      mq_close(c);
      c = NULL;
      rc = mq_open(&c, cfg->amqp_url, BUS_AMQP_TIMEOUT_MS, false, reason,
                   sizeof reason);
      struct mq_queue_options passive = {.passive = true};
      if (rc == KIT_OK)
        rc = mq_declare_queue(c, BUS_LOG_QUEUE, &passive, NULL, NULL, 0);
    }
  }
  if (rc == KIT_OK) rc = mq_bind(c, BUS_LOG_QUEUE, BUS_EXCHANGE, "#");
  if (rc != KIT_OK && c != NULL)
    log_warn("event log %s: cannot declare it: %s", BUS_LOG_QUEUE, mq_error(c));
  mq_close(c);
  return rc;
}

/* Reads n decimal digits at *p into *out. */
static bool digits(const char **p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    char ch = (*p)[i];
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + (ch - '0');
  }
  *p += n;
  *out = v;
  return true;
}

bool bus_time_parse(const char *text, int64_t *ms) {
  if (text == NULL) return false;
  const char *p = text;
  struct tm tm = {0};
  int year, mon, day, hour = 0, min = 0, sec = 0, frac_ms = 0, off_min = 0;
  if (!digits(&p, 4, &year) || *p++ != '-' || !digits(&p, 2, &mon) ||
      *p++ != '-' || !digits(&p, 2, &day))
    return false;
  if (*p == 'T' || *p == 't') {
    p++;
    if (!digits(&p, 2, &hour) || *p++ != ':' || !digits(&p, 2, &min) ||
        *p++ != ':' || !digits(&p, 2, &sec))
      return false;
    if (*p == '.') {
      p++;
      int scale = 100, n = 0;
      while (*p >= '0' && *p <= '9') {
        frac_ms += (*p - '0') * scale;
        scale /= 10;
        p++;
        n++;
      }
      if (n == 0) return false;
    }
    if (*p == 'Z' || *p == 'z') {
      p++;
    } else if (*p == '+' || *p == '-') {
      int sign = *p++ == '-' ? -1 : 1, oh, om;
      if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) ||
          oh > 23 || om > 59)
        return false;
      off_min = sign * (oh * 60 + om);
    } else {
      return false; /* a time needs its offset */
    }
  }
  if (*p != '\0' || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 ||
      min > 59 || sec > 60 || year < 1970)
    return false;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  time_t t = timegm(&tm);
  if (t == (time_t)-1) return false;
  *ms = ((int64_t)t - (int64_t)off_min * 60) * 1000 + frac_ms;
  return true;
}

static bool wanted(const struct event_handler *events, size_t n,
                   const char *type) {
  for (size_t i = 0; i < n; i++)
    if (bus_topic_matches(events[i].event_type, type)) return true;
  return false;
}

/* The envelope's type and time (ms); false when it cannot be read. */
static bool envelope_facts(const char *body, char *type, size_t type_size,
                           int64_t *ms) {
  struct bus_event ev;
  void *owner = NULL;
  char reason[64];
  bool ok =
      bus_envelope_parse(body, &ev, &owner, reason, sizeof reason) == KIT_OK &&
      bus_time_parse(ev.timestamp, ms);
  if (ok) snprintf(type, type_size, "%s", ev.event_type);
  bus_envelope_free(owner);
  return ok;
}

int bus_log_read(const char *amqp_url, int64_t since_ms, int64_t until_ms,
                 bus_log_fn fn, void *arg, int64_t *read) {
  struct mq_conn *in = NULL;
  char reason[200] = "";
  *read = 0;
  if (until_ms < 0) until_ms = clock_wall_ms();
  int rc =
      mq_open(&in, amqp_url, BUS_AMQP_TIMEOUT_MS, true, reason, sizeof reason);
  if (rc != KIT_OK) {
    log_error("events: RabbitMQ unavailable: %s", reason);
    return rc;
  }
  struct mq_queue_options passive = {.passive = true};
  rc = mq_declare_queue(in, BUS_LOG_QUEUE, &passive, NULL, NULL, 0);
  if (rc == KIT_NOT_FOUND) {
    log_error("events: no event log %s (no relay has run yet)", BUS_LOG_QUEUE);
    goto cleanup;
  }
  if (rc == KIT_OK) rc = mq_qos(in, REPLAY_PREFETCH);
  /* The stream starts at the chunk holding since: a little before it,
   * which the envelope times below leave out. */
  if (rc == KIT_OK)
    rc = mq_consume_stream(in, BUS_LOG_QUEUE,
                           since_ms < 0 ? -1 : since_ms / 1000);
  while (rc == KIT_OK) {
    struct mq_message m;
    rc = mq_next(in, REPLAY_IDLE_MS, &m);
    if (rc == KIT_TIMEOUT) {
      rc = KIT_OK; /* caught up with the log's end */
      break;
    }
    if (rc != KIT_OK) break;
    char type[128];
    int64_t at = 0;
    bool past_end = false;
    if (envelope_facts(m.body, type, sizeof type, &at)) {
      past_end = at > until_ms;
      if (!past_end && (since_ms < 0 || at >= since_ms)) {
        (*read)++;
        rc = fn(arg, type, m.body, m.len);
      }
    }
    /* Acks only pace the stream (nothing is removed from it). */
    if (rc == KIT_OK)
      rc = mq_ack(in, m.delivery_tag, false);
    else if (rc == BUS_LOG_STOP)
      past_end = true;
    mq_message_clear(&m);
    if (past_end) break;
  }
  if (rc == BUS_LOG_STOP) rc = KIT_OK;
  if (rc != KIT_OK && !mq_ok(in))
    log_error("events: reading %s stopped: %s", BUS_LOG_QUEUE, mq_error(in));
cleanup:
  mq_close(in);
  return rc;
}

struct replay {
  struct mq_conn *pub;
  const char *queue;
  const struct event_handler *events;
  size_t event_count;
  int64_t replayed;
};

static int replay_one(void *arg, const char *type, const char *body,
                      size_t len) {
  struct replay *r = arg;
  if (!wanted(r->events, r->event_count, type)) return KIT_OK;
  struct mq_publish p = {.exchange = "",
                         .routing_key = r->queue,
                         .body = body,
                         .len = len,
                         .type = type,
                         .retries = -1,
                         .replay = true};
  int rc = mq_publish(r->pub, &p);
  if (rc == KIT_OK) r->replayed++;
  if (rc == KIT_OK && mq_unconfirmed(r->pub) >= REPLAY_CONFIRM_EVERY)
    rc = mq_wait_confirms(r->pub, BUS_AMQP_TIMEOUT_MS);
  return rc;
}

int bus_log_replay(const char *amqp_url, const char *service,
                   const struct event_handler *events, size_t event_count,
                   int64_t since_ms, int64_t until_ms,
                   struct bus_replay_result *out) {
  char queue[160], reason[200] = "";
  memset(out, 0, sizeof *out);
  bus_queue_name(service, queue, sizeof queue);
  struct replay r = {
      .queue = queue, .events = events, .event_count = event_count};
  int rc = mq_open(&r.pub, amqp_url, BUS_AMQP_TIMEOUT_MS, false, reason,
                   sizeof reason);
  if (rc != KIT_OK) {
    log_error("events: RabbitMQ unavailable: %s", reason);
    return rc;
  }
  struct mq_queue_options passive = {.passive = true};
  rc = mq_confirm_select(r.pub);
  if (rc == KIT_OK)
    rc = mq_declare_queue(r.pub, queue, &passive, NULL, NULL, 0);
  if (rc == KIT_NOT_FOUND)
    log_error("events: no queue %s (has the service consumed yet?)", queue);
  if (rc == KIT_OK)
    rc = bus_log_read(amqp_url, since_ms, until_ms, replay_one, &r, &out->read);
  if (rc == KIT_OK && mq_unconfirmed(r.pub) > 0)
    rc = mq_wait_confirms(r.pub, BUS_AMQP_TIMEOUT_MS);
  if (rc != KIT_OK && rc != KIT_NOT_FOUND && !mq_ok(r.pub))
    log_error("events: replay to %s stopped: %s", queue, mq_error(r.pub));
  out->replayed = r.replayed;
  mq_close(r.pub);
  return rc;
}
