/* payment_gateway.c - the sandbox card processor (an external system).
 *
 * Simulates the payment provider the seed puts outside the platform, as its
 * own process on port 8095. Its Stripe-like API arrives with the payments
 * issue; until then it serves the health routes.
 */
#include "kit/service.h"

const struct service_module sandbox_payment_module = {
    .id = SVC_SANDBOX_PAYMENT,
    .summary = "simulated card processor (external system)",
    .needs = 0,
};
