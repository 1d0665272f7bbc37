/* webhook.h - signed webhooks between an external system and a service,
 * and plain calls to external systems.
 *
 * The sender signs each delivery with HMAC-SHA256 over "<timestamp>.<payload>"
 * and sends the header value "t=<unix seconds>,v1=<64 hex>" (the scheme of
 * Stripe-Signature). The receiver recomputes the MAC with the shared secret,
 * compares in constant time and refuses a timestamp outside its tolerance, so
 * a captured delivery cannot be replayed later; the receiver still dedupes
 * deliveries by event id, because senders retry until they see a 2xx.
 * Used by the sandbox payment processor and the sandbox courier (senders)
 * and by the payment and shipping services (receivers).
 */
#ifndef SHOPSPHERE_KIT_WEBHOOK_H
#define SHOPSPHERE_KIT_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#define WEBHOOK_HEX_LEN 65     /* 64 hex digits + NUL */
#define WEBHOOK_HEADER_MAX 112 /* "t=<20 digits>,v1=<64 hex>" + NUL */

/* Writes the lowercase hex HMAC-SHA256 of "<timestamp>.<payload>" under
 * secret into out_hex. Returns KIT_OK, or KIT_INVALID for an empty secret. */
int webhook_sign(const char *secret, int64_t timestamp, const char *payload,
                 size_t payload_len, char out_hex[WEBHOOK_HEX_LEN]);

/* Writes the header value "t=<timestamp>,v1=<hex>" into out. Returns KIT_OK,
 * KIT_INVALID for an empty secret or a too small buffer. */
int webhook_signature_header(const char *secret, int64_t timestamp,
                             const char *payload, size_t payload_len, char *out,
                             size_t out_size);

enum webhook_verdict {
  WEBHOOK_VALID = 0,
  WEBHOOK_MALFORMED,     /* header absent or not "t=...,v1=..." (400) */
  WEBHOOK_STALE,         /* timestamp outside the tolerance (401) */
  WEBHOOK_BAD_SIGNATURE, /* no v1 matches, or no secret configured (401) */
};

/* Checks a header value against payload: parses t= and every v1= (a sender
 * rotating secrets may send several), refuses |now - t| > tolerance_s, and
 * accepts when any v1 equals the MAC under secret (constant-time compare).
 * An empty secret never validates. *timestamp_out (may be NULL) receives t
 * when it parsed. */
enum webhook_verdict webhook_verify(const char *secret,
                                    const char *header_value,
                                    const char *payload, size_t payload_len,
                                    int64_t tolerance_s, int64_t now,
                                    int64_t *timestamp_out);

/* One signed delivery: POSTs payload (application/json) to url with the
 * header `header_name: t=<now>,v1=<mac>`, waiting at most timeout_ms.
 * Returns KIT_OK when the receiver answered (its status in *status_out,
 * whatever it is), KIT_TIMEOUT or KIT_UNAVAILABLE when no answer came.
 * Retrying until a 2xx is the caller's job (it knows its schedule). */
int webhook_post(const char *url, const char *header_name, const char *secret,
                 const char *payload, size_t payload_len, int timeout_ms,
                 long *status_out);

/* One plain JSON POST to an external system (a carrier, a processor): no
 * internal token, no user token, no trace headers leave the platform, which
 * is why this is not client_call(). extra_headers are "Name: value" lines
 * (NULL-terminated list, may be NULL). On KIT_OK *status_out is the answer's
 * status and *body_out a malloc'd NUL-terminated body (caller frees);
 * KIT_TIMEOUT or KIT_UNAVAILABLE when no answer came (*body_out NULL). */
int external_post_json(const char *url, const char *const *extra_headers,
                       const char *payload, size_t payload_len, int timeout_ms,
                       long *status_out, char **body_out);

#endif
