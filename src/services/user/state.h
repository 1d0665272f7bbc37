/* state.h - what the user service's files share: the account creation that
 * registration, the internal API, the demo admin and `shopsphere user
 * create` all go through, the renderers and the handlers. */
#ifndef SHOPSPHERE_USER_STATE_H
#define SHOPSPHERE_USER_STATE_H

#include "kit/handler.h"
#include "kit/json.h"
#include "kit/service.h"
#include "kit/worker.h"
#include "services/user/store.h"

struct user_state {
  struct worker demo_admin; /* ensures the demo admin until it exists */
  bool demo_admin_done;
};

struct new_user {
  const char *email; /* lowercased */
  const char *password;
  const char *username; /* NULL: derived from the e-mail */
  const char *first_name, *last_name, *phone; /* NULL: none */
  const char *role;                           /* NULL: customer */
};

enum create_outcome {
  CREATE_OK,
  CREATE_EMAIL_TAKEN,
  CREATE_USERNAME_TAKEN,
  CREATE_REJECTED, /* the auth service refused the credential: relay_* */
  CREATE_FAILED,   /* database or auth service unavailable */
};

struct create_result {
  enum create_outcome outcome;
  struct user user;
  unsigned relay_status; /* CREATE_REJECTED/FAILED: the answer to pass on */
  char *relay_body;      /* malloc'd; free with create_result_clear */
  size_t relay_len;
  int db_rc;
};

/* Creates an account: the users row, its `user.registered` event and its
 * credential in the auth service, all or nothing (docs/identity.md). parent
 * may be NULL (start-up, CLI). */
void user_create(struct service *svc, const struct http_request *parent,
                 const struct new_user *nu, struct create_result *out);
void create_result_clear(struct create_result *r);

/* Renders a user (never a secret) / an address as a json_t *. */
void *user_json(const struct user *u);
void *address_json(const struct address *a);


void user_handle_register(struct http_request *req, struct http_response *res);
void user_handle_me_get(struct http_request *req, struct http_response *res);
void user_handle_me_patch(struct http_request *req, struct http_response *res);
void user_handle_admin_list(struct http_request *req,
                            struct http_response *res);
void user_handle_admin_get(struct http_request *req, struct http_response *res);
void user_handle_admin_patch(struct http_request *req,
                             struct http_response *res);
void user_handle_internal_get(struct http_request *req,
                              struct http_response *res);
void user_handle_internal_create(struct http_request *req,
                                 struct http_response *res);
void user_handle_addresses_list(struct http_request *req,
                                struct http_response *res);
void user_handle_address_create(struct http_request *req,
                                struct http_response *res);
void user_handle_address_patch(struct http_request *req,
                               struct http_response *res);
void user_handle_address_delete(struct http_request *req,
                                struct http_response *res);

/* The demo admin of DESIGN §4 (SHOPSPHERE_ADMIN_EMAIL/PASSWORD): created
 * once, when missing. KIT_OK when it exists now. */
int user_ensure_demo_admin(struct service *svc);

#endif
