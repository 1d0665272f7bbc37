/* domain.h - the notification service's pure logic: what each notification
 * kind says (subject, plain text, HTML, a short line for SMS, push and the
 * in-app feed), money with its currency, the MIME message that goes out by
 * SMTP, preferences, retry delays and server-sent event frames.
 *
 * No I/O here: tests/unit/test_notification_domain.c covers it.
 */
#ifndef SHOPSPHERE_NOTIFICATION_DOMAIN_H
#define SHOPSPHERE_NOTIFICATION_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum notify_kind {
  NOTIFY_WELCOME = 0,
  NOTIFY_PASSWORD_RESET,
  NOTIFY_ORDER_CONFIRMED,
  NOTIFY_ORDER_SHIPPED,
  NOTIFY_ORDER_DELIVERED,
  NOTIFY_ORDER_CANCELLED,
  NOTIFY_REFUND_ISSUED,
  NOTIFY_RETURN_REQUESTED, /* return.* of the order service */
  NOTIFY_RETURN_APPROVED,
  NOTIFY_RETURN_REFUNDED,
  NOTIFY_KIND_COUNT
};

/* Why a message is sent, which decides whether preferences may stop it. */
enum notify_category {
  CATEGORY_SECURITY = 0, /* password reset: always sent */
  CATEGORY_ACCOUNT,      /* welcome: always sent (once, at sign-up) */
  CATEGORY_ORDER_UPDATES,
  CATEGORY_MARKETING,
};

enum notify_channel {
  CHANNEL_EMAIL = 0,
  CHANNEL_SMS,
  CHANNEL_PUSH,
  CHANNEL_IN_APP,
  CHANNEL_COUNT
};

/* "welcome", "password_reset", "order_confirmed", ...; "" when unknown. */
const char *notify_kind_name(enum notify_kind k);
enum notify_category notify_kind_category(enum notify_kind k);
/* true for the order kinds (SMS, push and in-app besides the e-mail). */
bool notify_kind_is_order(enum notify_kind k);
const char *notify_category_name(enum notify_category c);
/* "email", "sms", "push", "in_app". */
const char *notify_channel_name(enum notify_channel c);

/* --- preferences ------------------------------------------------------- */

/* Per channel (e-mail, SMS, push) and category. Defaults: everything on but
 * marketing. */
struct notify_prefs {
  bool marketing[3];
  bool order_updates[3];
};

void notify_prefs_default(struct notify_prefs *p);

/* Whether a message of category c may go on channel ch: security and
 * account messages always, in-app always, others by the preference. */
bool notify_prefs_allow(const struct notify_prefs *p, enum notify_channel ch,
                        enum notify_category c);

/* Applies a PUT body (a json_t * object) onto p. Every member must be a
 * known channel holding an object of known keys with boolean values.
 * Returns true, or false with the offending field ("sms",
 * "email.marketing", ...) in field and a reason in message. */
bool notify_prefs_apply(struct notify_prefs *p, const void *body, char *field,
                        size_t field_size, char *message, size_t message_size);

/* The preferences as the API shows them (json_t *, new reference). */
void *notify_prefs_json(const struct notify_prefs *p);

/* --- money ------------------------------------------------------------- */

/* "$19.99", "€5.00", "£1.50", "¥300" for USD, EUR, GBP, JPY; "CHF 19.99"
 * for other codes; "-$1.00" for negatives. buf of NOTIFY_MONEY_BUF bytes.
 * Returns buf. */
#define NOTIFY_MONEY_BUF 48
char *notify_format_money(int64_t minor, const char *currency, char *buf);

/* --- rendering --------------------------------------------------------- */

struct notify_line {
  const char *name;
  int64_t quantity;
  int64_t line_total; /* minor units of the order's currency */
};

/* What a template needs; unused fields may be NULL/0. */
struct notify_input {
  const char *name;          /* whom to greet (first name, else username) */
  const char *email;         /* the account's address */
  const char *reset_token;   /* password reset */
  const char *reset_expires; /* RFC 3339 */
  const char *order_id;
  const char *currency;
  int64_t total; /* the order's total */
  const struct notify_line *lines;
  size_t line_count;
  int64_t amount; /* refund: refunded now */
  bool full_refund;
  const char *reason;    /* cancellation reason; a return's reason */
  const char *return_id; /* returns */
  const char *shop_url;  /* "http://localhost:8080": links */
};

/* Everything one notification says, each malloc'd. */
struct notify_message {
  char *subject; /* e-mail subject, also the in-app title */
  char *text;    /* e-mail plain text */
  char *html;    /* e-mail HTML (every value escaped) */
  char *brief;   /* one or two sentences: SMS, push, in-app body */
};

/* Renders kind with in. Returns true, or false when memory runs out. */
bool notify_render(enum notify_kind kind, const struct notify_input *in,
                   struct notify_message *out);
void notify_message_free(struct notify_message *m);

/* Escapes s for HTML text and attribute values (malloc'd). */
char *notify_html_escape(const char *s);

/* --- the e-mail on the wire ------------------------------------------ */

/* Quoted-printable (RFC 2045 §6.7) of UTF-8 text: CRLF line ends, lines of
 * at most 76 characters, '=' and non-ASCII bytes escaped, trailing blanks
 * escaped. malloc'd. */
char *notify_qp_encode(const char *s);

/* A header value: as it is when printable ASCII, else an RFC 2047 encoded
 * word (=?UTF-8?B?...?=). malloc'd. */
char *notify_header_encode(const char *s);

/* The message as sent by SMTP (RFC 5322 + MIME multipart/alternative with
 * quoted-printable text and HTML parts), CRLF line ends. from and to are
 * header values ("ShopSphere <no-reply@x>", "a@b.c"); message_id without
 * brackets; date RFC 5322 ("Thu, 03 Dec 2026 08:00:00 +0000"). malloc'd. */
char *notify_mime_build(const char *from, const char *to, const char *subject,
                        const char *message_id, const char *date,
                        const char *text, const char *html);

/* The address inside "Name <addr>" (or s itself) into out. */
void notify_address_of(const char *s, char *out, size_t size);

/* --- delivery ---------------------------------------------------------- */

/* The wait before attempt n+1 after n failed ones: base × 2^(n-1), at most
 * 5 minutes. */
int64_t notify_retry_delay_ms(int base_ms, int attempts);

/* One server-sent event frame ("id: ..\nevent: ..\ndata: ..\n\n"); data is
 * one line of JSON. malloc'd. */
char *notify_sse_frame(const char *id, const char *event, const char *data);

#endif
