/* state.h - what the auth service keeps between requests (svc->state). */
#ifndef SHOPSPHERE_AUTH_STATE_H
#define SHOPSPHERE_AUTH_STATE_H

#include <jansson.h>

#include "kit/handler.h"
#include "kit/json.h"
#include "kit/service.h"
#include "kit/worker.h"
#include "services/auth/domain.h"
#include "services/auth/keys.h"

struct auth_state {
  struct keyring keyring;
  struct hash_params hash;
  /* A hash of a random password with the current parameters: an unknown
   * e-mail is checked against it, so it costs what a known one costs. */
  char dummy_hash[crypto_pwhash_STRBYTES];
  struct worker keys_worker;
};

/* Loads the signing keys, generating the first one and rotating by age.
 * KIT_OK, or KIT_UNAVAILABLE when the database cannot be reached. */
int auth_keys_refresh(struct service *svc);

/* Makes a new signing key now (the previous one stays published) and
 * reloads the keyring. KIT_OK or KIT_UNAVAILABLE. */
int auth_rotate_keys(struct service *svc);

/* Helpers shared by the handler files (handlers.c). */
void auth_reply_json_take(struct http_response *res, unsigned status,
                          json_t *doc);
/* The Redis key counting failed logins of a (lowercased) e-mail. */
const char *auth_login_failure_key(struct arena *arena, const char *email);
/* SET key value EX ttl_s (at least 1). */
int auth_kv_set_ex(struct kv_pool *kv, const char *key, const char *value,
                   int ttl_s);
/* Every access token of user minted until now stops working. */
int auth_revoke_user_tokens(struct service *svc, const char *user_id);
/* The access tokens of one session (refresh family) stop working. */
int auth_revoke_session_tokens(struct service *svc, const char *family_id);

/* Route handlers (handlers.c, handlers_reset.c, handlers_internal.c). */
void auth_handle_jwks(struct http_request *req, struct http_response *res);
void auth_handle_login(struct http_request *req, struct http_response *res);
void auth_handle_refresh(struct http_request *req, struct http_response *res);
void auth_handle_logout(struct http_request *req, struct http_response *res);
void auth_handle_reset_request(struct http_request *req,
                               struct http_response *res);
void auth_handle_reset_confirm(struct http_request *req,
                               struct http_response *res);
void auth_handle_credential_put(struct http_request *req,
                                struct http_response *res);
void auth_handle_credential_patch(struct http_request *req,
                                  struct http_response *res);
void auth_handle_credential_delete(struct http_request *req,
                                   struct http_response *res);
void auth_handle_rotate_keys(struct http_request *req,
                             struct http_response *res);

#endif
