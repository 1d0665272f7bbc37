/* stream.c - the live feed: GET /api/v1/notifications/stream.
 *
 * Each open stream is a server-sent events response (http.h streamed body)
 * registered in the hub under its user. One thread per process holds one
 * Redis connection subscribed to "shopsphere:notifications:*" (the sender
 * publishes each new in-app notification there after its transaction
 * committed); a message for a user becomes an SSE frame
 *   id: <notification id>\nevent: notification\ndata: <feed item JSON>\n\n
 * appended to each of that user's streams, which are woken. Every
 * SHOPSPHERE_SSE_HEARTBEAT_S without a frame a stream gets a comment line,
 * which keeps proxies from closing it and lets the server notice a client
 * that left. Several notification processes each deliver to the streams
 * they hold, since every subscriber receives every message.
 *
 * A reconnecting client (EventSource does so by itself, after the `retry`
 * delay) reads GET /notifications for what it missed: pub/sub keeps nothing.
 */
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kit/breaker.h"
#include "kit/log.h"
#include "services/notification/notification.h"

/* A client that does not read this much is dropped (it reconnects). */
#define CLIENT_BUFFER_MAX (256u << 10)
#define POLL_MS 250

struct sse_client {
  struct sse_hub *hub;
  char user_id[40];
  struct http_stream *stream;
  char *buf;
  size_t len, off, cap;
  bool ended;
  int64_t last_ms; /* last frame or heartbeat queued */
  struct sse_client *prev, *next;
};

struct sse_hub {
  struct service *svc;
  pthread_mutex_t lock; /* clients and every client's buffer */
  struct sse_client *clients;
  int client_count;
  bool stopped; /* no new streams; the last one closing frees the hub */
  pthread_t thread;
  atomic_bool stopping;
  int heartbeat_ms;
};

static void hub_free(struct sse_hub *hub) {
  pthread_mutex_destroy(&hub->lock);
  free(hub);
}

/* Queues bytes for a client and wakes its stream. Hub lock held. */
static void client_push(struct sse_client *c, const char *s, size_t n) {
  if (c->ended) return;
  if (c->off > 0 && c->off == c->len) c->off = c->len = 0;
  if (c->len - c->off + n > CLIENT_BUFFER_MAX) {
    log_warn("notification stream of user %s not reading: closed", c->user_id);
    c->ended = true;
  } else {
    if (c->len + n > c->cap && c->off > 0) {
      memmove(c->buf, c->buf + c->off, c->len - c->off);
      c->len -= c->off;
      c->off = 0;
    }
    if (c->len + n > c->cap) {
      size_t cap = c->cap ? c->cap : 1024;
      while (cap < c->len + n)
        cap *= 2;
      char *grown = realloc(c->buf, cap);
      if (grown == NULL) {
        c->ended = true;
        http_stream_wake(c->stream);
        return;
      }
      c->buf = grown;
      c->cap = cap;
    }
    memcpy(c->buf + c->len, s, n);
    c->len += n;
    c->last_ms = clock_monotonic_ms();
  }
  http_stream_wake(c->stream);
}

static long client_read(void *ctx, char *buf, size_t max) {
  struct sse_client *c = ctx;
  struct sse_hub *hub = c->hub;
  pthread_mutex_lock(&hub->lock);
  long n = 0;
  if (c->off < c->len) {
    size_t k = c->len - c->off < max ? c->len - c->off : max;
    memcpy(buf, c->buf + c->off, k);
    c->off += k;
    n = (long)k;
  } else if (c->ended || hub->stopped) {
    n = HTTP_STREAM_END;
  }
  pthread_mutex_unlock(&hub->lock);
  return n;
}

static void client_close(void *ctx) {
  struct sse_client *c = ctx;
  struct sse_hub *hub = c->hub;
  pthread_mutex_lock(&hub->lock);
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    hub->clients = c->next;
  if (c->next != NULL) c->next->prev = c->prev;
  hub->client_count--;
  bool last = hub->stopped && hub->client_count == 0;
  pthread_mutex_unlock(&hub->lock);
  free(c->buf);
  free(c);
  if (last) hub_free(hub);
}

/* One message from Redis: to every stream of its user. */
static void dispatch(struct sse_hub *hub, const char *channel,
                     const char *message) {
  size_t plen = strlen(NOTIFY_CHANNEL_PREFIX);
  if (strncmp(channel, NOTIFY_CHANNEL_PREFIX, plen) != 0) return;
  const char *user = channel + plen;
  json_error_t jerr;
  json_t *doc = json_loads(message, 0, &jerr);
  const char *id = json_string_value(json_object_get(doc, "id"));
  char *frame = doc ? notify_sse_frame(id, "notification", message) : NULL;
  json_decref(doc);
  if (frame == NULL) {
    log_warn("notification stream: unreadable message on %s", channel);
    return;
  }
  size_t n = strlen(frame);
  pthread_mutex_lock(&hub->lock);
  for (struct sse_client *c = hub->clients; c != NULL; c = c->next)
    if (strcmp(c->user_id, user) == 0) client_push(c, frame, n);
  pthread_mutex_unlock(&hub->lock);
  free(frame);
}

static void heartbeat(struct sse_hub *hub) {
  static const char beat[] = ": keep-alive\n\n";
  int64_t now = clock_monotonic_ms();
  pthread_mutex_lock(&hub->lock);
  for (struct sse_client *c = hub->clients; c != NULL; c = c->next)
    if (now - c->last_ms >= hub->heartbeat_ms)
      client_push(c, beat, sizeof beat - 1);
  pthread_mutex_unlock(&hub->lock);
}

static void *hub_main(void *arg) {
  struct sse_hub *hub = arg;
  log_set_process(hub->svc->name);
  struct kv_subscription *sub = NULL;
  int64_t retry_at = 0;
  while (!atomic_load(&hub->stopping)) {
    heartbeat(hub);
    if (sub == NULL) {
      if (clock_monotonic_ms() < retry_at) {
        usleep(POLL_MS * 1000);
        continue;
      }
      if (kv_psubscribe(hub->svc->kv, NOTIFY_CHANNEL_PREFIX "*", &sub) !=
          KIT_OK) {
        sub = NULL;
        retry_at = clock_monotonic_ms() + 1000;
        continue;
      }
      log_info("notification stream: subscribed to %s*", NOTIFY_CHANNEL_PREFIX);
    }
    char *channel = NULL, *message = NULL;
    int rc = kv_subscription_next(sub, POLL_MS, &channel, &message);
    if (rc == KIT_OK) {
      dispatch(hub, channel, message);
    } else if (rc == KIT_UNAVAILABLE) {
      log_warn("notification stream: Redis subscription lost; resubscribing");
      kv_subscription_close(sub);
      sub = NULL;
      retry_at = clock_monotonic_ms() + 500;
    }
    free(channel);
    free(message);
  }
  kv_subscription_close(sub);
  return NULL;
}

struct sse_hub *sse_hub_start(struct service *svc) {
  struct sse_hub *hub = calloc(1, sizeof *hub);
  if (hub == NULL) return NULL;
  hub->svc = svc;
  hub->heartbeat_ms = svc->cfg->sse_heartbeat_s * 1000;
  pthread_mutex_init(&hub->lock, NULL);
  atomic_init(&hub->stopping, false);
  if (pthread_create(&hub->thread, NULL, hub_main, hub) != 0) {
    hub_free(hub);
    return NULL;
  }
  return hub;
}

void sse_hub_stop(struct sse_hub *hub) {
  if (hub == NULL) return;
  atomic_store(&hub->stopping, true);
  pthread_join(hub->thread, NULL);
  pthread_mutex_lock(&hub->lock);
  hub->stopped = true;
  for (struct sse_client *c = hub->clients; c != NULL; c = c->next) {
    c->ended = true;
    http_stream_wake(c->stream);
  }
  bool none = hub->client_count == 0;
  pthread_mutex_unlock(&hub->lock);
  /* Otherwise the last stream to close frees it (a gateway in this process
   * may still be passing one on). */
  if (none) hub_free(hub);
}

void sse_hub_attach(struct sse_hub *hub, struct http_request *req,
                    struct http_response *res, const char *user_id) {
  pthread_mutex_lock(&hub->lock);
  bool stopped = hub->stopped;
  pthread_mutex_unlock(&hub->lock);
  if (stopped) {
    http_reply_error(res, req, API_SERVICE_UNAVAILABLE,
                     "the service is stopping", NULL);
    return;
  }
  struct sse_client *c = calloc(1, sizeof *c);
  struct http_stream *stream =
      c ? http_stream_create(client_read, client_close, c) : NULL;
  if (stream == NULL) {
    free(c);
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    return;
  }
  c->hub = hub;
  c->stream = stream;
  snprintf(c->user_id, sizeof c->user_id, "%s", user_id);
  pthread_mutex_lock(&hub->lock);
  c->next = hub->clients;
  if (c->next != NULL) c->next->prev = c;
  hub->clients = c;
  hub->client_count++;
  /* The reconnection delay for EventSource, and a first line so that the
   * client (and any proxy) sees the stream open at once. */
  static const char hello[] = "retry: 3000\n: connected\n\n";
  client_push(c, hello, sizeof hello - 1);
  pthread_mutex_unlock(&hub->lock);

  http_response_clear(res);
  res->status = 200;
  snprintf(res->content_type, sizeof res->content_type,
           "text/event-stream; charset=utf-8");
  http_response_header(res, "Cache-Control", "no-store");
  http_response_header(res, "X-Accel-Buffering", "no");
  res->stream = stream; /* closing it unregisters c */
}
