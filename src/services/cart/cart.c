/* cart.c - the cart service module: carts, guest and signed-in, in Redis,
 * and promotions (discount codes, automatic ones) in PostgreSQL.
 *
 * Routes: the public cart API of DESIGN §5 plus an explicit merge of a guest
 * cart into the signed-in user's cart, and the internal routes the checkout
 * saga uses (docs/internal-api.md, docs/checkout.md). Consumes
 * order.confirmed: the checkout's cart is emptied (events.c).
 */
#include "kit/service.h"
#include "services/cart/events.h"
#include "services/cart/handlers.h"
#include "services/cart/promo_store.h"
#include "services/cart/promotions.h"

static const struct route cart_routes[] = {
    {"POST", "/api/v1/carts", cart_handle_create, ACCESS_PUBLIC},
    {"GET", "/api/v1/carts/{id}", cart_handle_get, ACCESS_PUBLIC},
    {"POST", "/api/v1/carts/{id}/items", cart_handle_add_item, ACCESS_PUBLIC},
    {"PATCH", "/api/v1/carts/{id}/items/{product_id}", cart_handle_update_item,
     ACCESS_PUBLIC},
    {"DELETE", "/api/v1/carts/{id}/items/{product_id}", cart_handle_remove_item,
     ACCESS_PUBLIC},
    {"POST", "/api/v1/carts/{id}/merge", cart_handle_merge, ACCESS_SIGNED_IN},
    {"POST", "/api/v1/carts/{id}/discount-codes", cart_handle_add_code,
     ACCESS_PUBLIC},
    {"DELETE", "/api/v1/carts/{id}/discount-codes/{code}",
     cart_handle_remove_code, ACCESS_PUBLIC},
    {"POST", "/api/v1/admin/promotions", promo_handle_create, ACCESS_ADMIN},
    {"GET", "/api/v1/admin/promotions", promo_handle_list, ACCESS_ADMIN},
    {"GET", "/api/v1/admin/promotions/{id}", promo_handle_get, ACCESS_ADMIN},
    {"PATCH", "/api/v1/admin/promotions/{id}", promo_handle_update,
     ACCESS_ADMIN},
    {"DELETE", "/api/v1/admin/promotions/{id}", promo_handle_delete,
     ACCESS_ADMIN},
    {"GET", "/internal/carts/{id}", cart_handle_internal_get, ACCESS_INTERNAL},
    {"POST", "/internal/carts/{id}/clear", cart_handle_internal_clear,
     ACCESS_INTERNAL},
    {"POST", "/internal/carts/{id}/pricing", cart_handle_internal_pricing,
     ACCESS_INTERNAL},
    {"POST", "/internal/promotions/reservations", promo_handle_reserve,
     ACCESS_INTERNAL},
    {"POST", "/internal/promotions/reservations/{order_id}/commit",
     promo_handle_commit, ACCESS_INTERNAL},
    {"POST", "/internal/promotions/reservations/{order_id}/release",
     promo_handle_release, ACCESS_INTERNAL},
};

/* The cart a checkout came from is emptied on its order's confirmation. */
static const struct event_handler cart_events[] = {
    {"order.confirmed", cart_on_order_confirmed},
};

const struct service_module cart_module = {
    .id = SVC_CART,
    .summary = "carts, guest and signed-in",
    .needs = NEEDS_DB | NEEDS_REDIS | NEEDS_AMQP,
    .routes = cart_routes,
    .route_count = sizeof cart_routes / sizeof cart_routes[0],
    .statements = promo_statements,
    .statement_count = PROMO_STATEMENT_COUNT,
    .events = cart_events,
    .event_count = sizeof cart_events / sizeof cart_events[0],
};
