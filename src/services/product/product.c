/* product.c - the product service module: catalog, categories, inventory and reservations.
 *
 * The module descriptor; its domain routes arrive with the issue that builds
 * the service. Until then it serves /healthz, /readyz and /metrics.
 */
#include "kit/service.h"

const struct service_module product_module = {
    .id = SVC_PRODUCT,
    .summary = "catalog, categories, inventory and reservations",
    .needs = NEEDS_DB | NEEDS_REDIS | NEEDS_AMQP,
};
