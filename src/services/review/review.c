/* review.c - the review service module: reviews, ratings, moderation.
 *
 * The module descriptor; its domain routes arrive with the issue that builds
 * the service. Until then it serves /healthz, /readyz and /metrics.
 */
#include "kit/service.h"

const struct service_module review_module = {
    .id = SVC_REVIEW,
    .summary = "reviews, ratings, moderation",
    .needs = NEEDS_DB | NEEDS_AMQP,
};
