/* err.c - the registry of API error codes: wire code and HTTP status. */
#include "kit/err.h"

#include <stddef.h>

static const struct {
  const char *code;
  unsigned status;
} registry[API_ERROR_COUNT] = {
    [API_OK] = {"OK", 200},
    [API_VALIDATION_ERROR] = {"VALIDATION_ERROR", 400},
    [API_UNPROCESSABLE] = {"VALIDATION_ERROR", 422},
    [API_AUTHENTICATION_ERROR] = {"AUTHENTICATION_ERROR", 401},
    [API_AUTHORIZATION_ERROR] = {"AUTHORIZATION_ERROR", 403},
    [API_NOT_FOUND] = {"NOT_FOUND", 404},
    [API_METHOD_NOT_ALLOWED] = {"VALIDATION_ERROR", 405},
    [API_CONFLICT] = {"CONFLICT", 409},
    [API_PAYMENT_DECLINED] = {"PAYMENT_DECLINED", 402},
    [API_PAYLOAD_TOO_LARGE] = {"PAYLOAD_TOO_LARGE", 413},
    [API_RATE_LIMITED] = {"RATE_LIMITED", 429},
    [API_INTERNAL_ERROR] = {"INTERNAL_ERROR", 500},
    [API_SERVICE_UNAVAILABLE] = {"SERVICE_UNAVAILABLE", 503},
    [API_TIMEOUT_ERROR] = {"TIMEOUT_ERROR", 504},
    [API_DATABASE_ERROR] = {"DATABASE_ERROR", 503},
};

const char *api_error_code(enum api_error e) {
  if ((unsigned)e >= API_ERROR_COUNT) e = API_INTERNAL_ERROR;
  return registry[e].code;
}

unsigned api_error_status(enum api_error e) {
  if ((unsigned)e >= API_ERROR_COUNT) e = API_INTERNAL_ERROR;
  return registry[e].status;
}

enum api_error api_error_from_status(unsigned status) {
  for (size_t i = 1; i < API_ERROR_COUNT; i++) {
    /* The first entry with that status is the canonical one. */
    if (registry[i].status == status) return (enum api_error)i;
  }
  if (status >= 400 && status < 500) return API_VALIDATION_ERROR;
  return API_INTERNAL_ERROR;
}
