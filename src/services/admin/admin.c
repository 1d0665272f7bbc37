/* admin.c - the admin service module: reporting read models and dashboards.
 *
 * The module descriptor; its domain routes arrive with the issue that builds
 * the service. Until then it serves /healthz, /readyz and /metrics.
 */
#include "kit/service.h"

const struct service_module admin_module = {
    .id = SVC_ADMIN,
    .summary = "reporting read models and dashboards",
    .needs = NEEDS_DB | NEEDS_AMQP,
};
