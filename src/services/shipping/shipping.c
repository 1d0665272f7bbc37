/* shipping.c - the shipping service module: rates, shipments, tracking.
 *
 * The module descriptor; its domain routes arrive with the issue that builds
 * the service. Until then it serves /healthz, /readyz and /metrics.
 */
#include "kit/service.h"

const struct service_module shipping_module = {
    .id = SVC_SHIPPING,
    .summary = "rates, shipments, tracking",
    .needs = NEEDS_DB | NEEDS_AMQP,
};
