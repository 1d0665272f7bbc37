/* mail_parse.h - the pure part of the sandbox mail server: the SMTP
 * conversation and the parsing of the messages it receives.
 *
 * Written by hand: Debian packages SMTP clients (libcurl) and full mail
 * servers (exim, postfix), but no library that embeds an SMTP *server* in a
 * process. What a local test inbox needs is small: the commands of RFC 5321
 * §4.1 (EHLO/HELO, MAIL FROM, RCPT TO, DATA with dot-stuffing, RSET, NOOP,
 * QUIT), a size limit, and reading back what libcurl sends for the
 * notification service: headers (folded lines, RFC 2047 encoded words in the
 * subject), multipart/alternative bodies (nested multiparts too), and the
 * quoted-printable, base64, 7bit and 8bit transfer encodings.
 *
 * No sockets here (src/sandbox/mail.c owns those), so every rule is a unit
 * test (tests/unit/test_sandbox_mail.c).
 */
#ifndef SHOPSPHERE_SANDBOX_MAIL_PARSE_H
#define SHOPSPHERE_SANDBOX_MAIL_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define SMTP_MAX_RCPTS 32
#define SMTP_ADDR_MAX 320
#define SMTP_LINE_MAX 1000 /* RFC 5321 §4.5.3.1.6, CRLF included */

/* What the caller does after feeding a line. */
enum smtp_action {
  SMTP_REPLY = 0,   /* send the reply, read the next line */
  SMTP_NO_REPLY,    /* inside DATA: read the next line */
  SMTP_MESSAGE,     /* a message is complete: take it, then send the reply */
  SMTP_REPLY_CLOSE, /* send the reply, then close the connection */
};

struct smtp_session {
  bool greeted;  /* HELO/EHLO seen */
  bool has_from; /* MAIL FROM seen in this transaction */
  bool in_data;  /* between DATA and the lone "." */
  bool too_big;  /* the message in DATA passed max_bytes */
  char from[SMTP_ADDR_MAX + 1];
  char rcpts[SMTP_MAX_RCPTS][SMTP_ADDR_MAX + 1];
  int rcpt_count;
  char *data; /* malloc'd message text (CRLF line ends, unstuffed) */
  size_t data_len, data_cap;
  size_t max_bytes;
};

/* Starts a conversation accepting messages of at most max_bytes. */
void smtp_session_init(struct smtp_session *s, size_t max_bytes);

/* Frees the buffered message, if any. */
void smtp_session_free(struct smtp_session *s);

/* Feeds one received line (without its CRLF). Writes the reply (with CRLF)
 * into reply when the action is SMTP_REPLY, SMTP_MESSAGE or
 * SMTP_REPLY_CLOSE. On SMTP_MESSAGE the message is s->data (s->data_len
 * bytes, NUL-terminated) with s->from and s->rcpts: take it with
 * smtp_session_take() before the next call. */
enum smtp_action smtp_session_line(struct smtp_session *s, const char *line,
                                   size_t len, char *reply, size_t reply_size);

/* Takes the completed message (caller frees) and resets the transaction. */
char *smtp_session_take(struct smtp_session *s, size_t *len);

/* The address inside "<a@b>" (or a bare one) of a MAIL FROM / RCPT TO
 * argument, into out (lowercased). false when malformed. */
bool smtp_parse_path(const char *arg, char *out, size_t size);

/* A message read back: each field malloc'd, "" when absent. */
struct mail_message {
  char *message_id; /* without the angle brackets */
  char *from;       /* header value as decoded */
  char *to;         /* header value as decoded */
  char *subject;    /* RFC 2047 words decoded to UTF-8 */
  char *text;       /* the text/plain part, decoded */
  char *html;       /* the text/html part, decoded */
};

/* Parses an RFC 5322 message (CRLF or LF line ends). Returns false only when
 * memory runs out; a message without a part simply has "" for it. */
bool mail_parse(const char *raw, size_t len, struct mail_message *out);
void mail_message_free(struct mail_message *m);

/* Decoders (malloc'd, NUL-terminated results; *out_len may be NULL). NULL
 * when memory runs out or, for base64, the input is not base64. */
char *mail_decode_qp(const char *s, size_t len, size_t *out_len);
char *mail_decode_base64(const char *s, size_t len, size_t *out_len);

/* Decodes RFC 2047 encoded words (=?UTF-8?B?...?= / ?Q?) in a header value;
 * other text is copied. malloc'd. */
char *mail_decode_header(const char *s);

#endif
