/* handlers.h - the cart service's HTTP handlers (routes in cart.c). */
#ifndef SHOPSPHERE_CART_HANDLERS_H
#define SHOPSPHERE_CART_HANDLERS_H

#include "kit/http.h"

void cart_handle_create(struct http_request *req, struct http_response *res);
void cart_handle_get(struct http_request *req, struct http_response *res);
void cart_handle_add_item(struct http_request *req, struct http_response *res);
void cart_handle_update_item(struct http_request *req,
                             struct http_response *res);
void cart_handle_remove_item(struct http_request *req,
                             struct http_response *res);
void cart_handle_merge(struct http_request *req, struct http_response *res);
void cart_handle_internal_get(struct http_request *req,
                              struct http_response *res);
void cart_handle_internal_clear(struct http_request *req,
                                struct http_response *res);

#endif
