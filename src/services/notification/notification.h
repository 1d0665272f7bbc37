/* notification.h - the notification service's rooms, shared by the files of
 * this folder only.
 *
 *   notification.c  module descriptor: routes, consumed events, start/stop
 *   events.c        consumers: the snapshots and one delivery row per
 *                   (event, channel), plus the in-app notification
 *   sender.c        the delivery worker: claims queued rows and sends them
 *                   (SMTP with libcurl; SMS and push to the sandbox
 *                   providers; in-app to Redis pub/sub)
 *   providers.c     the in-memory sandbox SMS and push providers
 *   stream.c        the live feed: one Redis subscriber, server-sent events
 *   handlers.c      the HTTP API (feed, read, preferences, internal routes)
 *   store.c         SQL
 *   domain.c        templates, money, MIME, preferences (pure)
 */
#ifndef SHOPSPHERE_NOTIFICATION_H
#define SHOPSPHERE_NOTIFICATION_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "kit/service.h"
#include "kit/worker.h"
#include "services/notification/domain.h"

/* Redis channel of a user's live feed: prefix + user id. */
#define NOTIFY_CHANNEL_PREFIX "shopsphere:notifications:"

/* --- providers.c: sandbox SMS and push ----------------------------------- */

struct sandbox_message {
  char id[40];
  char key[40]; /* idempotency key: the delivery id */
  char to[64];
  char title[256];
  char *text; /* malloc'd */
  char sent_at[32];
};

struct sandbox_provider {
  const char *name; /* "sms" or "push" */
  pthread_mutex_t lock;
  struct sandbox_message *items; /* oldest first */
  size_t count, cap;
};

void provider_init(struct sandbox_provider *p, const char *name);
void provider_destroy(struct sandbox_provider *p);
/* Records a message; a key already recorded is acknowledged and not
 * recorded again. KIT_OK or KIT_NOMEM. */
int provider_send(struct sandbox_provider *p, const char *key, const char *to,
                  const char *title, const char *text);
/* The messages sent to `to` (NULL: all), newest first, as a json_t array. */
void *provider_list(struct sandbox_provider *p, const char *to, long limit);

/* --- stream.c ------------------------------------------------------------ */

struct sse_hub;

/* Starts the Redis subscriber thread. NULL when it cannot start. */
struct sse_hub *sse_hub_start(struct service *svc);
/* Ends every stream; frees the hub once the last one closed. */
void sse_hub_stop(struct sse_hub *hub);
/* Answers a request with a live stream of user_id's notifications. */
void sse_hub_attach(struct sse_hub *hub, struct http_request *req,
                    struct http_response *res, const char *user_id);

/* --- the service state ---------------------------------------------------- */

struct notification_state {
  struct service *svc;
  struct worker sender;
  bool sender_started;
  struct sse_hub *hub;
  struct sandbox_provider sms, push;
  char smtp_url[CONFIG_URL_MAX];
  char mail_from[256];      /* header value */
  char mail_from_addr[256]; /* envelope address */
  char shop_url[128];       /* links in messages */
};

/* --- events.c ----------------------------------------------------------- */

#define NOTIFICATION_EVENT_COUNT 10
extern const struct event_handler notification_events[NOTIFICATION_EVENT_COUNT];

/* --- sender.c ----------------------------------------------------------- */

/* One run of the worker: requeue interrupted sends, claim due rows, send. */
void sender_run(void *arg);

/* --- handlers.c --------------------------------------------------------- */

void handle_feed(struct http_request *req, struct http_response *res);
void handle_read(struct http_request *req, struct http_response *res);
void handle_stream(struct http_request *req, struct http_response *res);
void handle_prefs_get(struct http_request *req, struct http_response *res);
void handle_prefs_put(struct http_request *req, struct http_response *res);
void handle_deliveries(struct http_request *req, struct http_response *res);
void handle_sandbox_messages(struct http_request *req,
                             struct http_response *res);

#endif
