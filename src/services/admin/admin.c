/* admin.c - the admin service module: reporting read models, dashboards and
 * the platform-wide audit log.
 *
 * Routes (docs/admin.md), all admin-only: sales (JSON and CSV), top
 * products, low stock, the dashboard and the audit log. The read models are
 * fed only by the events below (events.c); the HTTP side only reads them.
 */
#include <string.h>

#include "kit/log.h"
#include "kit/money.h"
#include "services/admin/admin.h"
#include "services/admin/store.h"

static const struct route routes[] = {
    {"GET", "/api/v1/admin/reports/sales", admin_handle_sales, ACCESS_ADMIN},
    {"GET", "/api/v1/admin/reports/sales.csv", admin_handle_sales_csv,
     ACCESS_ADMIN},
    {"GET", "/api/v1/admin/reports/top-products", admin_handle_top_products,
     ACCESS_ADMIN},
    {"GET", "/api/v1/admin/reports/low-stock", admin_handle_low_stock,
     ACCESS_ADMIN},
    {"GET", "/api/v1/admin/reports/dashboard", admin_handle_dashboard,
     ACCESS_ADMIN},
    {"GET", "/api/v1/admin/audit-log", admin_handle_audit_log, ACCESS_ADMIN},
};

static const struct event_handler events[] = {
    {"order.created", admin_on_order_status},
    {"order.confirmed", admin_on_order_confirmed},
    {"order.cancelled", admin_on_order_status},
    {"order.status_changed", admin_on_order_status},
    {"order.refunded", admin_on_order_refunded},
    {"product.created", admin_on_product},
    {"product.updated", admin_on_product},
    {"product.archived", admin_on_product},
    {"inventory.changed", admin_on_inventory},
    {"user.registered", admin_on_user_registered},
    {"review.submitted", admin_on_review},
    {"review.approved", admin_on_review},
    {"review.rejected", admin_on_review},
    {"review.removed", admin_on_review},
    {"audit.recorded", admin_on_audit},
};

static int admin_start(struct service *svc) {
  if (!money_currency_valid(svc->cfg->default_currency)) {
    log_error("SHOPSPHERE_DEFAULT_CURRENCY: not an ISO 4217 code: '%s'",
              svc->cfg->default_currency);
    return KIT_INVALID;
  }
  return KIT_OK;
}

const struct service_module admin_module = {
    .id = SVC_ADMIN,
    .summary = "reporting read models, dashboards and the audit log",
    .needs = NEEDS_DB | NEEDS_AMQP,
    .routes = routes,
    .route_count = sizeof routes / sizeof routes[0],
    .statements = admin_statements,
    .statement_count = ADMIN_STATEMENT_COUNT,
    .events = events,
    .event_count = sizeof events / sizeof events[0],
    /* The reports' tables; the audit log stays (it outlives the event log's
     * retention, and its rows are keyed by the event id, so a replayed
     * audit.recorded adds nothing). */
    .read_model_rebuildable = true,
    .read_model_reset = "TRUNCATE sales_lines, sales_orders, refunds, "
                        "order_statuses, products, customers, reviews",
    .start = admin_start,
};
