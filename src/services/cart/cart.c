/* cart.c - the cart service module: carts, guest and signed-in.
 *
 * The module descriptor; its domain routes arrive with the issue that builds
 * the service. Until then it serves /healthz, /readyz and /metrics.
 */
#include "kit/service.h"

const struct service_module cart_module = {
    .id = SVC_CART,
    .summary = "carts, guest and signed-in",
    .needs = NEEDS_REDIS | NEEDS_AMQP,
};
