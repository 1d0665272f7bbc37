/* recommendation.c - the recommendation service module: co-purchase and
 * similarity models.
 *
 * The module descriptor; its domain routes arrive with the issue that builds
 * the service. Until then it serves /healthz, /readyz and /metrics.
 */
#include "kit/service.h"

const struct service_module recommendation_module = {
    .id = SVC_RECOMMENDATION,
    .summary = "co-purchase and similarity models",
    .needs = NEEDS_DB | NEEDS_AMQP,
};
