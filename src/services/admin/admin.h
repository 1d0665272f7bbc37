/* admin.h - what the admin service's files share: its state, handlers and
 * event handlers (admin.c lists them). */
#ifndef SHOPSPHERE_ADMIN_ADMIN_H
#define SHOPSPHERE_ADMIN_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "kit/bus.h"
#include "kit/http.h"
#include "kit/service.h"

#define ADMIN_DB_WAIT_MS 2000

/* --- handlers_common.c: query strings --- */

/* Answers 422 naming the first query parameter not in allowed
 * (NULL-terminated) or whose value is not valid percent-encoded UTF-8;
 * returns false then. */
bool admin_query_check(struct http_request *req, struct http_response *res,
                       const char *const *allowed);

/* An integer parameter in [min, max], def when absent; false after a 422. */
bool admin_query_int(struct http_request *req, struct http_response *res,
                     const char *name, int64_t min, int64_t max, int64_t def,
                     int64_t *out);

/* ?currency=: an ISO 4217 code (upper-cased), the configured default when
 * absent; false after a 422. */
bool admin_query_currency(struct http_request *req, struct http_response *res,
                          char out[4]);

/* ?from= and ?to= (dates or RFC 3339 times): to defaults to the start of
 * tomorrow (UTC), from to `to` minus default_span_ms. Answers 422 naming the
 * parameter when malformed, or `to` when not after from. */
bool admin_query_window(struct http_request *req, struct http_response *res,
                        int64_t default_span_ms, int64_t *from, int64_t *to);

/* The current time, epoch ms. */
int64_t admin_now_ms(void);

/* --- handlers_reports.c, handlers_audit.c --- */

void admin_handle_sales(struct http_request *req, struct http_response *res);
void admin_handle_sales_csv(struct http_request *req,
                            struct http_response *res);
void admin_handle_top_products(struct http_request *req,
                               struct http_response *res);
void admin_handle_low_stock(struct http_request *req,
                            struct http_response *res);
void admin_handle_dashboard(struct http_request *req,
                            struct http_response *res);
void admin_handle_audit_log(struct http_request *req,
                            struct http_response *res);

/* --- events.c --- */

int admin_on_order_status(struct service *svc, struct db_conn *conn,
                          const struct bus_event *ev);
int admin_on_order_confirmed(struct service *svc, struct db_conn *conn,
                             const struct bus_event *ev);
int admin_on_order_refunded(struct service *svc, struct db_conn *conn,
                            const struct bus_event *ev);
int admin_on_product(struct service *svc, struct db_conn *conn,
                     const struct bus_event *ev);
int admin_on_inventory(struct service *svc, struct db_conn *conn,
                       const struct bus_event *ev);
int admin_on_user_registered(struct service *svc, struct db_conn *conn,
                             const struct bus_event *ev);
int admin_on_review(struct service *svc, struct db_conn *conn,
                    const struct bus_event *ev);
int admin_on_audit(struct service *svc, struct db_conn *conn,
                   const struct bus_event *ev);

#endif
