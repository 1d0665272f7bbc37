/* courier.c - the sandbox courier (an external system).
 *
 * Simulates the carrier API the seed puts outside the platform, as its own
 * process on port 8096. Quotes, shipments and tracking webhooks arrive with
 * the shipping issue; until then it serves the health routes.
 */
#include "kit/service.h"

const struct service_module sandbox_courier_module = {
    .id = SVC_SANDBOX_COURIER,
    .summary = "simulated courier API (external system)",
    .needs = 0,
};
