/* notification.c - the notification service module: e-mail, SMS and push;
 * preferences; the in-app feed and its live stream. See
 * docs/notifications.md and the map of this folder in notification.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/log.h"
#include "kit/service.h"
#include "services/notification/notification.h"
#include "services/notification/store.h"

static const struct route routes[] = {
    {"GET", "/api/v1/notifications", handle_feed, ACCESS_SIGNED_IN, NULL},
    {"GET", "/api/v1/notifications/stream", handle_stream, ACCESS_SIGNED_IN,
     NULL},
    {"POST", "/api/v1/notifications/{id}/read", handle_read, ACCESS_SIGNED_IN,
     NULL},
    {"GET", "/api/v1/users/me/notification-preferences", handle_prefs_get,
     ACCESS_SIGNED_IN, NULL},
    {"PUT", "/api/v1/users/me/notification-preferences", handle_prefs_put,
     ACCESS_SIGNED_IN, NULL},
    {"GET", "/internal/notifications/deliveries", handle_deliveries,
     ACCESS_INTERNAL, NULL},
    {"GET", "/internal/notifications/sandbox/{channel}",
     handle_sandbox_messages, ACCESS_INTERNAL, NULL},
};

static void free_state(struct notification_state *st) {
  if (st == NULL) return;
  if (st->sender_started) worker_stop(&st->sender);
  sse_hub_stop(st->hub);
  provider_destroy(&st->sms);
  provider_destroy(&st->push);
  free(st);
}

static int notification_start(struct service *svc) {
  const struct config *cfg = svc->cfg;
  struct notification_state *st = calloc(1, sizeof *st);
  if (st == NULL) return KIT_NOMEM;
  st->svc = svc;
  provider_init(&st->sms, "sms");
  provider_init(&st->push, "push");
  if (cfg->smtp_url[0] != '\0')
    snprintf(st->smtp_url, sizeof st->smtp_url, "%s", cfg->smtp_url);
  else /* the sandbox mail server of this port base */
    snprintf(st->smtp_url, sizeof st->smtp_url, "smtp://127.0.0.1:%d",
             cfg->smtp_port > 0 ? cfg->smtp_port : cfg->port_base + 18);
  if (strncmp(st->smtp_url, "smtp://", 7) != 0 &&
      strncmp(st->smtp_url, "smtps://", 8) != 0) {
    log_error("SHOPSPHERE_SMTP_URL: want an smtp:// or smtps:// URL");
    free_state(st);
    return KIT_INVALID;
  }
  snprintf(st->mail_from, sizeof st->mail_from, "%s", cfg->mail_from);
  notify_address_of(cfg->mail_from, st->mail_from_addr,
                    sizeof st->mail_from_addr);
  if (strchr(st->mail_from_addr, '@') == NULL) {
    log_error("SHOPSPHERE_MAIL_FROM: want an address (Name <a@b.c>)");
    free_state(st);
    return KIT_INVALID;
  }
  /* Links in messages point at the storefront: the gateway, at the port
   * base (offset 0). */
  snprintf(st->shop_url, sizeof st->shop_url, "http://localhost:%d",
           cfg->port_base);
  /* Handlers and consumers see the state from here on. */
  svc->state = st;
  st->hub = sse_hub_start(svc);
  if (st->hub == NULL ||
      worker_start(&st->sender, svc->name, "notification-sender",
                   cfg->notification_poll_ms, sender_run, st) != KIT_OK) {
    svc->state = NULL;
    free_state(st);
    return KIT_ERROR;
  }
  st->sender_started = true;
  char redacted[CONFIG_URL_MAX];
  config_redact_url(st->smtp_url, redacted, sizeof redacted);
  log_info("notification: e-mail by %s from %s; sender every %d ms, %d "
           "attempts",
           redacted, st->mail_from_addr, cfg->notification_poll_ms,
           cfg->notification_max_attempts);
  return KIT_OK;
}

static void notification_stop(struct service *svc) {
  free_state(svc->state);
  svc->state = NULL;
}

const struct service_module notification_module = {
    .id = SVC_NOTIFICATION,
    .summary = "email, SMS and push; preferences; in-app feed",
    .needs = NEEDS_DB | NEEDS_REDIS | NEEDS_AMQP,
    .routes = routes,
    .route_count = sizeof routes / sizeof routes[0],
    .statements = notification_statements,
    .statement_count = NOTIFICATION_STATEMENT_COUNT,
    .events = notification_events,
    .event_count = NOTIFICATION_EVENT_COUNT,
    .start = notification_start,
    .stop = notification_stop,
};
