/* test_sandbox_mail.c - the sandbox mail server's SMTP conversation and MIME
 * reading (src/sandbox/mail_parse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sandbox/mail_parse.h"

/* Feeds one line; returns the action, the reply in reply. */
static enum smtp_action feed(struct smtp_session *s, const char *line,
                             char *reply) {
  return smtp_session_line(s, line, strlen(line), reply, 512);
}

static void test_conversation(void **state) {
  (void)state;
  struct smtp_session s;
  smtp_session_init(&s, 4096);
  char reply[512];
  /* Order matters: no MAIL before EHLO, no RCPT before MAIL, no DATA
   * before RCPT. */
  assert_int_equal(feed(&s, "MAIL FROM:<a@b.co>", reply), SMTP_REPLY);
  assert_memory_equal(reply, "503", 3);
  assert_int_equal(feed(&s, "EHLO client.test", reply), SMTP_REPLY);
  assert_non_null(strstr(reply, "250 SMTPUTF8\r\n"));
  assert_non_null(strstr(reply, "SIZE 4096"));
  assert_int_equal(feed(&s, "RCPT TO:<x@y.z>", reply), SMTP_REPLY);
  assert_memory_equal(reply, "503", 3);
  assert_int_equal(feed(&s, "DATA", reply), SMTP_REPLY);
  assert_memory_equal(reply, "503", 3);
  assert_int_equal(feed(&s, "mail from:<Sender@Shop.Test> SIZE=100", reply),
                   SMTP_REPLY);
  assert_memory_equal(reply, "250", 3);
  assert_string_equal(s.from, "sender@shop.test");
  assert_int_equal(feed(&s, "RCPT TO:<One@Example.com>", reply), SMTP_REPLY);
  assert_int_equal(feed(&s, "RCPT TO:<two@example.com>", reply), SMTP_REPLY);
  assert_int_equal(feed(&s, "RCPT TO:<not an address>", reply), SMTP_REPLY);
  assert_memory_equal(reply, "501", 3);
  assert_int_equal(s.rcpt_count, 2);
  assert_string_equal(s.rcpts[0], "one@example.com");
  assert_int_equal(feed(&s, "NOOP", reply), SMTP_REPLY);
  assert_memory_equal(reply, "250", 3);
  assert_int_equal(feed(&s, "DATA", reply), SMTP_REPLY);
  assert_memory_equal(reply, "354", 3);
  /* Inside DATA nothing is a command, and a doubled leading dot is one. */
  assert_int_equal(feed(&s, "Subject: hi", reply), SMTP_NO_REPLY);
  assert_int_equal(feed(&s, "", reply), SMTP_NO_REPLY);
  assert_int_equal(feed(&s, "QUIT", reply), SMTP_NO_REPLY);
  assert_int_equal(feed(&s, "..leading dot", reply), SMTP_NO_REPLY);
  assert_int_equal(feed(&s, "...", reply), SMTP_NO_REPLY);
  assert_int_equal(feed(&s, ".", reply), SMTP_MESSAGE);
  assert_memory_equal(reply, "250", 3);
  size_t len = 0;
  char *data = smtp_session_take(&s, &len);
  assert_string_equal(data,
                      "Subject: hi\r\n\r\nQUIT\r\n.leading dot\r\n..\r\n");
  assert_int_equal(len, strlen(data));
  free(data);
  /* The transaction is over: a new one needs MAIL FROM again. */
  assert_int_equal(s.rcpt_count, 0);
  assert_int_equal(feed(&s, "RCPT TO:<x@y.z>", reply), SMTP_REPLY);
  assert_memory_equal(reply, "503", 3);
  assert_int_equal(feed(&s, "RSET", reply), SMTP_REPLY);
  assert_int_equal(feed(&s, "FOO", reply), SMTP_REPLY);
  assert_memory_equal(reply, "502", 3);
  assert_int_equal(feed(&s, "QUIT", reply), SMTP_REPLY_CLOSE);
  assert_memory_equal(reply, "221", 3);
  smtp_session_free(&s);
}

static void test_size_limit(void **state) {
  (void)state;
  struct smtp_session s;
  smtp_session_init(&s, 64);
  char reply[512];
  feed(&s, "HELO x", reply);
  feed(&s, "MAIL FROM:<a@b.co> SIZE=65", reply);
  assert_memory_equal(reply, "552", 3); /* refused when announced */
  feed(&s, "MAIL FROM:<a@b.co>", reply);
  feed(&s, "RCPT TO:<c@d.co>", reply);
  feed(&s, "DATA", reply);
  for (int i = 0; i < 10; i++)
    assert_int_equal(feed(&s, "0123456789012345678901234567890", reply),
                     SMTP_NO_REPLY);
  /* Refused at the end, and nothing is kept. */
  assert_int_equal(feed(&s, ".", reply), SMTP_REPLY);
  assert_memory_equal(reply, "552", 3);
  assert_null(s.data);
  char line[1200];
  memset(line, 'a', sizeof line - 1);
  line[sizeof line - 1] = '\0';
  assert_int_equal(feed(&s, line, reply), SMTP_REPLY);
  assert_memory_equal(reply, "500", 3);
  smtp_session_free(&s);
}

static void test_paths(void **state) {
  (void)state;
  char out[SMTP_ADDR_MAX + 1];
  assert_true(smtp_parse_path("<A@B.co>", out, sizeof out));
  assert_string_equal(out, "a@b.co");
  assert_true(smtp_parse_path(" a@b.co SIZE=10", out, sizeof out));
  assert_string_equal(out, "a@b.co");
  assert_true(smtp_parse_path("<>", out, sizeof out));
  assert_string_equal(out, "");
  assert_false(smtp_parse_path("<a@b.co", out, sizeof out));
  assert_false(smtp_parse_path("<a b@c.d>", out, sizeof out));
}

static void test_multipart_base64_and_folding(void **state) {
  (void)state;
  const char *raw = "From: =?UTF-8?Q?Caf=C3=A9?= <cafe@shop.test>\r\n"
                    "To: a@b.co\r\n"
                    "Subject: =?UTF-8?B?SGVsbG8g?=\r\n =?UTF-8?B?d29ybGQ=?=\r\n"
                    "Message-ID: <abc@shop.test>\r\n"
                    "Content-Type: multipart/mixed;\r\n boundary=\"outer\"\r\n"
                    "\r\n"
                    "preamble\r\n"
                    "--outer\r\n"
                    "Content-Type: multipart/alternative; boundary=inner\r\n"
                    "\r\n"
                    "--inner\r\n"
                    "Content-Type: text/plain; charset=UTF-8\r\n"
                    "Content-Transfer-Encoding: base64\r\n"
                    "\r\n"
                    "SGVsbG8sIHdv\r\ncmxkIQ==\r\n"
                    "--inner\r\n"
                    "Content-Type: text/html; charset=UTF-8\r\n"
                    "Content-Transfer-Encoding: quoted-printable\r\n"
                    "\r\n"
                    "<p>a=3Db, soft=\r\n break</p>\r\n"
                    "--inner--\r\n"
                    "--outer\r\n"
                    "Content-Type: application/pdf\r\n"
                    "\r\n"
                    "%PDF\r\n"
                    "--outer--\r\n";
  struct mail_message m;
  assert_true(mail_parse(raw, strlen(raw), &m));
  assert_string_equal(m.message_id, "abc@shop.test");
  assert_string_equal(m.from, "Caf\xc3\xa9 <cafe@shop.test>");
  assert_string_equal(m.subject, "Hello world");
  assert_string_equal(m.text, "Hello, world!");
  assert_string_equal(m.html, "<p>a=b, soft break</p>");
  mail_message_free(&m);
}

static void test_plain_message(void **state) {
  (void)state;
  const char *raw = "Subject: plain\n\nline one\nline two\n";
  struct mail_message m;
  assert_true(mail_parse(raw, strlen(raw), &m));
  assert_string_equal(m.subject, "plain");
  assert_string_equal(m.text, "line one\nline two");
  assert_string_equal(m.html, "");
  assert_string_equal(m.message_id, "");
  mail_message_free(&m);
  /* Garbage is read as far as it goes, never crashes. */
  const char *junk = "Content-Type: multipart/alternative; boundary=\r\n\r\n--";
  assert_true(mail_parse(junk, strlen(junk), &m));
  mail_message_free(&m);
  assert_null(mail_decode_base64("***", 3, NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_conversation),
      cmocka_unit_test(test_size_limit),
      cmocka_unit_test(test_paths),
      cmocka_unit_test(test_multipart_base64_and_folding),
      cmocka_unit_test(test_plain_message),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
