/* registry.c - the list of modules linked into the shopsphere binary. */
#include "services/registry.h"

extern const struct service_module gateway_module, user_module, product_module,
    cart_module, order_module, payment_module, shipping_module, review_module,
    notification_module, admin_module, auth_module, search_module,
    recommendation_module, sandbox_payment_module, sandbox_courier_module,
    sandbox_mail_module;

static const struct service_module *const modules[SVC_COUNT] = {
    [SVC_GATEWAY] = &gateway_module,
    [SVC_USER] = &user_module,
    [SVC_PRODUCT] = &product_module,
    [SVC_CART] = &cart_module,
    [SVC_ORDER] = &order_module,
    [SVC_PAYMENT] = &payment_module,
    [SVC_SHIPPING] = &shipping_module,
    [SVC_REVIEW] = &review_module,
    [SVC_NOTIFICATION] = &notification_module,
    [SVC_ADMIN] = &admin_module,
    [SVC_AUTH] = &auth_module,
    [SVC_SEARCH] = &search_module,
    [SVC_RECOMMENDATION] = &recommendation_module,
    [SVC_SANDBOX_PAYMENT] = &sandbox_payment_module,
    [SVC_SANDBOX_COURIER] = &sandbox_courier_module,
    [SVC_SANDBOX_MAIL] = &sandbox_mail_module,
};

const struct service_module *registry_module(enum service_id id) {
  if ((unsigned)id >= SVC_COUNT) return NULL;
  return modules[id];
}
