/* user.c - the user service module: accounts, profiles, addresses, roles.
 *
 * Owns the profile of every account (e-mail, username, names, phone, role,
 * status) and its addresses. Secrets live in the auth service; creating an
 * account stores both in one step (create.c, docs/identity.md). On start a
 * background job creates the demo admin of DESIGN §4 once the auth service
 * answers.
 */
#include <stdlib.h>

#include "kit/log.h"
#include "services/user/state.h"

static const struct route routes[] = {
    {"POST", "/api/v1/users", user_handle_register, ACCESS_PUBLIC, NULL},
    {"GET", "/api/v1/users/me", user_handle_me_get, ACCESS_SIGNED_IN, NULL},
    {"PATCH", "/api/v1/users/me", user_handle_me_patch, ACCESS_SIGNED_IN, NULL},
    {"GET", "/api/v1/users/me/addresses", user_handle_addresses_list,
     ACCESS_SIGNED_IN, NULL},
    {"POST", "/api/v1/users/me/addresses", user_handle_address_create,
     ACCESS_SIGNED_IN, NULL},
    {"PATCH", "/api/v1/users/me/addresses/{id}", user_handle_address_patch,
     ACCESS_SIGNED_IN, NULL},
    {"DELETE", "/api/v1/users/me/addresses/{id}", user_handle_address_delete,
     ACCESS_SIGNED_IN, NULL},
    {"GET", "/api/v1/admin/users", user_handle_admin_list, ACCESS_ADMIN, NULL},
    {"GET", "/api/v1/admin/users/{id}", user_handle_admin_get, ACCESS_ADMIN,
     NULL},
    {"PATCH", "/api/v1/admin/users/{id}", user_handle_admin_patch, ACCESS_ADMIN,
     NULL},
    {"GET", "/internal/users/{id}", user_handle_internal_get, ACCESS_INTERNAL,
     NULL},
    {"POST", "/internal/users", user_handle_internal_create, ACCESS_INTERNAL,
     NULL},
};

static void demo_admin_job(void *arg) {
  struct service *svc = arg;
  struct user_state *st = svc->state;
  if (st->demo_admin_done) return;
  int rc = user_ensure_demo_admin(svc);
  if (rc == KIT_OK || rc == KIT_INVALID) st->demo_admin_done = true;
}

static int user_start(struct service *svc) {
  struct user_state *st = calloc(1, sizeof *st);
  if (st == NULL) return KIT_NOMEM;
  svc->state = st;
  /* The auth service may not listen yet (another process under `up`):
   * try now and then every few seconds until the admin exists. */
  if (worker_start(&st->demo_admin, svc->name, "demo-admin", 3000,
                   demo_admin_job, svc) != KIT_OK) {
    free(st);
    svc->state = NULL;
    return KIT_ERROR;
  }
  worker_kick(&st->demo_admin);
  return KIT_OK;
}

static void user_stop(struct service *svc) {
  struct user_state *st = svc->state;
  if (st == NULL) return;
  worker_stop(&st->demo_admin);
  free(st);
  svc->state = NULL;
}

const struct service_module user_module = {
    .id = SVC_USER,
    .summary = "accounts, profiles, addresses, roles",
    .needs = NEEDS_DB | NEEDS_AMQP,
    .routes = routes,
    .route_count = sizeof routes / sizeof routes[0],
    .statements = user_statements,
    .statement_count = USER_STATEMENT_COUNT,
    .start = user_start,
    .stop = user_stop,
};
