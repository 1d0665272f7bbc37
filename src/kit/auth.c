/* auth.c - PLACEHOLDER until identity lands (issue 4): anonymous callers
 * only; every protected route answers 401. */
#include "kit/auth.h"

#include <string.h>

int auth_init(const struct config *cfg, struct client *client) {
  (void)cfg, (void)client;
  return KIT_OK;
}

void auth_shutdown(void) {}

int auth_verify_token(const char *token, struct principal *out, char *why,
                      size_t why_size) {
  (void)token;
  memset(out, 0, sizeof *out);
  if (why_size > 0) why[0] = '\0';
  return KIT_INVALID;
}

static const struct principal anonymous;

enum api_error auth_authorize(struct http_request *req) {
  req->user = NULL;
  if (req->access == ACCESS_PUBLIC || req->access == ACCESS_INTERNAL)
    return API_OK;
  return API_AUTHENTICATION_ERROR;
}

const struct principal *auth_principal(const struct http_request *req) {
  return req->user != NULL ? req->user : &anonymous;
}

bool auth_role_allows(const char *role, enum route_access access) {
  (void)role, (void)access;
  return false;
}

bool auth_is_admin(const struct http_request *req) {
  return strcmp(auth_principal(req)->role, "admin") == 0;
}
