/* auth.h - who is calling: JWT verification and role checks for every service.
 *
 * Access tokens are RS256 JWTs minted by the auth service. Verification here:
 * the JWKS is fetched from the auth service (in-process when co-hosted) and
 * cached with refresh on an unknown `kid`; the algorithm is pinned to RS256;
 * exp/nbf/iss/aud are checked with a small clock skew; the `jti` denylist in
 * Redis (logout, suspension) is consulted.
 *
 * The middleware (http_handle) calls auth_authorize() for every matched route:
 * ACCESS_PUBLIC routes accept anonymous callers but still verify a token that
 * is sent (a bad one is 401); the others need a valid token (401) and the
 * right role (403). Handlers read the caller with auth_principal().
 */
#ifndef SHOPSPHERE_KIT_AUTH_H
#define SHOPSPHERE_KIT_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "http.h"

struct client;
struct config;

struct principal {
  bool authenticated;
  char user_id[40]; /* `sub`: a UUID */
  char role[16];    /* customer | admin | moderator */
  char jti[40];
  int64_t exp;      /* unix seconds */
  int64_t iat;      /* unix seconds */
  char session_id[40]; /* `sid`: the refresh-token family of this login */
  char email[321];     /* `email`: the account's address; "" when the token
                          has none (tokens minted before the claim existed) */
};

/* The header every service-to-service call carries (the client adds it) with
 * SHOPSPHERE_INTERNAL_SECRET; ACCESS_INTERNAL routes called over the network
 * require it. */
#define AUTH_INTERNAL_HEADER "X-Internal-Token"

/* Redis keys shared by the auth service (writer) and this verifier (reader):
 * AUTH_DENY_PREFIX<jti> exists while a logged-out access token would still be
 * valid; AUTH_REVOKED_PREFIX<user id> holds a unix time: tokens of that user
 * issued at or before it are revoked (suspension, password change);
 * AUTH_SESSION_DENY_PREFIX<sid> exists once a session (refresh family) was
 * revoked (logout, refresh-token reuse). */
#define AUTH_DENY_PREFIX "auth:deny:"
#define AUTH_REVOKED_PREFIX "auth:revoked-before:"
#define AUTH_SESSION_DENY_PREFIX "auth:revoked-session:"

/* Clock skew tolerated on exp/nbf/iat, in seconds. */
#define AUTH_CLOCK_SKEW_S 30

/* Sets up the process-wide verifier (JWKS cache, Redis denylist client).
 * Call once before serving; the client is used to reach the auth service. */
int auth_init(const struct config *cfg, struct client *client);
void auth_shutdown(void);

/* Verifies a bearer token. KIT_OK with *out filled, or KIT_INVALID (bad,
 * expired, revoked) with a short reason for the log (never the token). */
int auth_verify_token(const char *token, struct principal *out, char *why,
                      size_t why_size);

/* Applies req->access to the request: fills the principal (req->user) and
 * returns API_OK, or the API error to answer (401/403). */
enum api_error auth_authorize(struct http_request *req);

/* The caller of req; a zeroed principal (authenticated false) when anonymous. */
const struct principal *auth_principal(const struct http_request *req);

/* true when role may use a route of the given access class. */
bool auth_role_allows(const char *role, enum route_access access);

bool auth_is_admin(const struct http_request *req);

/* The pure part of auth_verify_token, for tests and benchmarks: checks the
 * header (alg pinned to RS256, kid == kid), the signature with public_pem
 * (an RSA public key in PEM) and the claims against rules; no JWKS fetch, no
 * denylist. KIT_OK with *out filled, or KIT_INVALID with why filled. */
struct auth_claims_rules {
  const char *issuer;
  const char *audience;
  int64_t now; /* unix seconds */
};
int auth_verify_with_key(const char *token, const char *kid,
                         const char *public_pem,
                         const struct auth_claims_rules *rules,
                         struct principal *out, char *why, size_t why_size);

/* How many usable RS256 keys a JWKS document holds (what the verifier's
 * cache would take from it); for the fuzzing harness and tests. */
size_t auth_jwks_usable_keys(const char *body, size_t len);

/* Milliseconds since the epoch encoded in a UUIDv7 (the `jti` the auth
 * service mints); -1 when s is not a version-7 UUID. The revocation marker
 * AUTH_REVOKED_PREFIX is compared with it, so a token minted a moment after a
 * password change is not caught by the marker of that change. */
int64_t auth_uuid7_ms(const char *s);

#endif
