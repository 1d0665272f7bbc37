/* review.c - the review service module: reviews, ratings, moderation.
 *
 * Routes (docs/reviews.md): a product's approved reviews with its rating
 * (public); writing one (buyers, learned from order events: no call to the
 * order service), editing and deleting one's own, helpful votes (signed
 * in); the moderation queue and decisions (moderators and admins). Events
 * consumed: order.confirmed, order.cancelled, order.refunded,
 * user.registered (events.c).
 */
#include <stdlib.h>

#include "kit/service.h"
#include "services/review/handlers.h"

static const struct route routes[] = {
    {"GET", "/api/v1/products/{id}/reviews", review_handle_list, ACCESS_PUBLIC},
    {"POST", "/api/v1/products/{id}/reviews", review_handle_create,
     ACCESS_SIGNED_IN},
    {"GET", "/api/v1/reviews/{id}", review_handle_get, ACCESS_PUBLIC},
    {"PATCH", "/api/v1/reviews/{id}", review_handle_update, ACCESS_SIGNED_IN},
    {"DELETE", "/api/v1/reviews/{id}", review_handle_delete, ACCESS_SIGNED_IN},
    {"POST", "/api/v1/reviews/{id}/helpful", review_handle_helpful,
     ACCESS_SIGNED_IN},
    {"GET", "/api/v1/admin/reviews", review_handle_queue, ACCESS_MODERATOR},
    {"POST", "/api/v1/admin/reviews/{id}/approve", review_handle_approve,
     ACCESS_MODERATOR},
    {"POST", "/api/v1/admin/reviews/{id}/reject", review_handle_reject,
     ACCESS_MODERATOR},
};

static const struct event_handler events[] = {
    {"order.confirmed", review_on_order_confirmed},
    {"order.cancelled", review_on_order_cancelled},
    {"order.refunded", review_on_order_refunded},
    {"user.registered", review_on_user_registered},
};

static int review_start(struct service *svc) {
  struct review_state *st = calloc(1, sizeof *st);
  if (st == NULL) return KIT_NOMEM;
  st->auto_approve = svc->cfg->review_auto_approve != 0;
  svc->state = st;
  return KIT_OK;
}

static void review_stop(struct service *svc) {
  free(svc->state);
  svc->state = NULL;
}

const struct service_module review_module = {
    .id = SVC_REVIEW,
    .summary = "reviews, ratings, moderation",
    .needs = NEEDS_DB | NEEDS_AMQP,
    .routes = routes,
    .route_count = sizeof routes / sizeof routes[0],
    .statements = review_statements,
    .statement_count = REVIEW_STATEMENT_COUNT,
    .events = events,
    .event_count = sizeof events / sizeof events[0],
    .start = review_start,
    .stop = review_stop,
};
