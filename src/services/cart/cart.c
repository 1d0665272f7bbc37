/* cart.c - the cart service module: carts, guest and signed-in, in Redis.
 *
 * Routes: the public cart API of DESIGN §5 plus an explicit merge of a guest
 * cart into the signed-in user's cart, and the internal routes the checkout
 * saga uses (docs/internal-api.md, docs/checkout.md).
 */
#include "kit/service.h"
#include "services/cart/handlers.h"

static const struct route cart_routes[] = {
    {"POST", "/api/v1/carts", cart_handle_create, ACCESS_PUBLIC},
    {"GET", "/api/v1/carts/{id}", cart_handle_get, ACCESS_PUBLIC},
    {"POST", "/api/v1/carts/{id}/items", cart_handle_add_item, ACCESS_PUBLIC},
    {"PATCH", "/api/v1/carts/{id}/items/{product_id}", cart_handle_update_item,
     ACCESS_PUBLIC},
    {"DELETE", "/api/v1/carts/{id}/items/{product_id}", cart_handle_remove_item,
     ACCESS_PUBLIC},
    {"POST", "/api/v1/carts/{id}/merge", cart_handle_merge, ACCESS_SIGNED_IN},
    {"GET", "/internal/carts/{id}", cart_handle_internal_get, ACCESS_INTERNAL},
    {"POST", "/internal/carts/{id}/clear", cart_handle_internal_clear,
     ACCESS_INTERNAL},
};

const struct service_module cart_module = {
    .id = SVC_CART,
    .summary = "carts, guest and signed-in",
    .needs = NEEDS_REDIS | NEEDS_AMQP,
    .routes = cart_routes,
    .route_count = sizeof cart_routes / sizeof cart_routes[0],
};
