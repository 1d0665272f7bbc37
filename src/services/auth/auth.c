/* auth.c - the auth service module: credentials, tokens, JWKS, sessions.
 *
 * The module descriptor; its domain routes arrive with the issue that builds
 * the service. Until then it serves /healthz, /readyz and /metrics.
 */
#include "kit/service.h"

const struct service_module auth_module = {
    .id = SVC_AUTH,
    .summary = "credentials, tokens, JWKS, sessions",
    .needs = NEEDS_DB | NEEDS_REDIS | NEEDS_AMQP,
};
