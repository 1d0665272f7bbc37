/* order.c - the order service module: orders, the checkout saga, order history.
 *
 * The module descriptor; its domain routes arrive with the issue that builds
 * the service. Until then it serves /healthz, /readyz and /metrics.
 */
#include "kit/service.h"

const struct service_module order_module = {
    .id = SVC_ORDER,
    .summary = "orders, the checkout saga, order history",
    .needs = NEEDS_DB | NEEDS_AMQP,
};
