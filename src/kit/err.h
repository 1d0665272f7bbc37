/* err.h - the one registry of API error codes and their HTTP statuses.
 *
 * Every error a client sees is one of these codes, rendered by
 * http_reply_error() in the envelope of DESIGN §5:
 *   {"error":{"code","message","details"},"trace_id"}
 */
#ifndef SHOPSPHERE_KIT_ERR_H
#define SHOPSPHERE_KIT_ERR_H

enum api_error {
  API_OK = 0,
  API_VALIDATION_ERROR,  /* 400: malformed request (syntax, types) */
  API_UNPROCESSABLE,     /* 422: VALIDATION_ERROR, well-formed but invalid */
  API_AUTHENTICATION_ERROR,
  API_AUTHORIZATION_ERROR,
  API_NOT_FOUND,
  API_METHOD_NOT_ALLOWED, /* 405: code VALIDATION_ERROR */
  API_CONFLICT,
  API_PAYMENT_DECLINED,
  API_PAYLOAD_TOO_LARGE,
  API_RATE_LIMITED,
  API_INTERNAL_ERROR,
  API_SERVICE_UNAVAILABLE,
  API_TIMEOUT_ERROR,
  API_DATABASE_ERROR,
  API_ERROR_COUNT
};

/* The wire code ("VALIDATION_ERROR") of e. */
const char *api_error_code(enum api_error e);

/* The HTTP status of e. */
unsigned api_error_status(enum api_error e);

/* The error a bare HTTP status most likely means (for upstream answers that
 * carry no envelope); API_INTERNAL_ERROR when unknown. */
enum api_error api_error_from_status(unsigned status);

/* Kit-wide status of functions that can fail. Negative is failure. */
enum kit_status {
  KIT_OK = 0,
  KIT_ERROR = -1,       /* hard failure, logged by the callee */
  KIT_UNAVAILABLE = -2, /* a dependency is down: answer 503, retry later */
  KIT_TIMEOUT = -3,
  KIT_INVALID = -4,     /* the input was refused */
  KIT_NOT_FOUND = -5,
  KIT_CONFLICT = -6,
  KIT_NOMEM = -7,
};

#endif
