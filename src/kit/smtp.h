/* smtp.h - sending one e-mail by SMTP (libcurl), behind a thin wrapper.
 *
 * The caller builds the whole RFC 5322 message (headers and MIME body);
 * libcurl speaks SMTP (EHLO, MAIL FROM, RCPT TO, DATA with dot-stuffing,
 * QUIT) to the server in the URL, with explicit timeouts. smtp:// is plain
 * (a local relay or the sandbox mail server); smtps:// is implicit TLS.
 */
#ifndef SHOPSPHERE_KIT_SMTP_H
#define SHOPSPHERE_KIT_SMTP_H

#include <stddef.h>

/* Sends message (len bytes, CRLF line ends) from `from` (an address, no
 * brackets) to `to`. Returns KIT_OK when the server accepted it;
 * KIT_UNAVAILABLE when it could not be reached or answered 4xx (worth a
 * retry); KIT_TIMEOUT; KIT_INVALID when it refused it for good (5xx). why
 * receives the reason (never a password). */
int smtp_send(const char *url, const char *from, const char *to,
              const char *message, size_t len, int timeout_ms, char *why,
              size_t why_size);

#endif
