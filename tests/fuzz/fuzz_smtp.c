/* fuzz_smtp.c - the sandbox mail server's parsers (src/sandbox/
 * mail_parse.c): an SMTP conversation fed line by line, every message it
 * accepts parsed as RFC 5322 (headers, encoded words, multiparts, QP and
 * base64), and the decoders on the raw input. */
#include "fuzz.h"
#include "sandbox/mail_parse.h"

static void parse_message(const char *raw, size_t len) {
  struct mail_message m;
  if (mail_parse(raw, len, &m)) mail_message_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct smtp_session s;
  smtp_session_init(&s, 64 * 1024);
  char reply[512];
  size_t start = 0;
  bool closed = false;
  for (size_t i = 0; i <= size && !closed; i++) {
    if (i < size && data[i] != '\n') continue;
    size_t len = i - start;
    if (len > 0 && data[start + len - 1] == '\r') len--;
    char *line = fuzz_cstr(data + start, len);
    enum smtp_action act =
        smtp_session_line(&s, line, len, reply, sizeof reply);
    if (act == SMTP_MESSAGE) {
      size_t mlen = 0;
      char *msg = smtp_session_take(&s, &mlen);
      if (msg != NULL) parse_message(msg, mlen);
      free(msg);
    }
    closed = act == SMTP_REPLY_CLOSE;
    free(line);
    start = i + 1;
  }
  smtp_session_free(&s);
  char *text = fuzz_cstr(data, size);
  parse_message(text, size);
  char path[SMTP_ADDR_MAX + 1];
  smtp_parse_path(text, path, sizeof path);
  free(mail_decode_qp(text, size, NULL));
  free(mail_decode_base64(text, size, NULL));
  free(mail_decode_header(text));
  free(text);
  return 0;
}
