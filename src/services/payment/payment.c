/* payment.c - the payment service module: payments, refunds, provider adapters, webhooks.
 *
 * The module descriptor; its domain routes arrive with the issue that builds
 * the service. Until then it serves /healthz, /readyz and /metrics.
 */
#include "kit/service.h"

const struct service_module payment_module = {
    .id = SVC_PAYMENT,
    .summary = "payments, refunds, provider adapters, webhooks",
    .needs = NEEDS_DB | NEEDS_AMQP,
};
