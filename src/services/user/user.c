/* user.c - the user service module: accounts, profiles, addresses, roles.
 *
 * The module descriptor; its domain routes arrive with the issue that builds
 * the service. Until then it serves /healthz, /readyz and /metrics.
 */
#include "kit/service.h"

const struct service_module user_module = {
    .id = SVC_USER,
    .summary = "accounts, profiles, addresses, roles",
    .needs = NEEDS_DB | NEEDS_AMQP,
};
