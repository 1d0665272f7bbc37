/* notification.c - the notification service module: email, SMS and push; preferences; in-app feed.
 *
 * The module descriptor; its domain routes arrive with the issue that builds
 * the service. Until then it serves /healthz, /readyz and /metrics.
 */
#include "kit/service.h"

const struct service_module notification_module = {
    .id = SVC_NOTIFICATION,
    .summary = "email, SMS and push; preferences; in-app feed",
    .needs = NEEDS_DB | NEEDS_AMQP,
};
