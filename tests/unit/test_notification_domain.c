/* test_notification_domain.c - templates, money, MIME and preferences of the
 * notification service (src/services/notification/domain.c), and the round
 * trip of its messages through the sandbox mail server's parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/mail_parse.h"
#include "services/notification/domain.h"

static void test_money_with_currency(void **state) {
  (void)state;
  char buf[NOTIFY_MONEY_BUF];
  assert_string_equal(notify_format_money(1999, "USD", buf), "$19.99");
  assert_string_equal(notify_format_money(500, "EUR", buf), "\xe2\x82\xac"
                                                            "5.00");
  assert_string_equal(notify_format_money(150, "GBP", buf), "\xc2\xa3"
                                                            "1.50");
  assert_string_equal(notify_format_money(300, "JPY", buf), "\xc2\xa5"
                                                            "300");
  assert_string_equal(notify_format_money(1999, "CHF", buf), "CHF 19.99");
  assert_string_equal(notify_format_money(1234, "KWD", buf), "KWD 1.234");
  assert_string_equal(notify_format_money(0, "USD", buf), "$0.00");
  assert_string_equal(notify_format_money(-100, "USD", buf), "-$1.00");
  assert_string_equal(notify_format_money(100000000000000, "USD", buf),
                      "$1000000000000.00");
}

static const struct notify_line lines[] = {
    {"Lamp <deluxe> & shade", 2, 2681},
    {"Bulb", 1, 550},
};

static void test_order_confirmed_template(void **state) {
  (void)state;
  struct notify_input in = {.name = "Nora",
                            .order_id = "0193-order",
                            .currency = "USD",
                            .total = 3231,
                            .lines = lines,
                            .line_count = 2,
                            .shop_url = "http://localhost:8080"};
  struct notify_message m;
  assert_true(notify_render(NOTIFY_ORDER_CONFIRMED, &in, &m));
  assert_string_equal(m.subject, "Order 0193-order confirmed");
  assert_non_null(strstr(m.text, "Hello Nora,"));
  assert_non_null(strstr(m.text, "  2 x Lamp <deluxe> & shade  $26.81\n"));
  assert_non_null(strstr(m.text, "  1 x Bulb  $5.50\n"));
  assert_non_null(strstr(m.text, "Total: $32.31\n"));
  assert_non_null(strstr(m.text, "http://localhost:8080/orders/0193-order"));
  /* HTML: every value escaped. */
  assert_non_null(strstr(m.html, "Lamp &lt;deluxe&gt; &amp; shade"));
  assert_null(strstr(m.html, "<deluxe>"));
  assert_non_null(strstr(m.html, "$32.31"));
  assert_string_equal(m.brief,
                      "Your order 0193-order is confirmed. Total $32.31.");
  notify_message_free(&m);
}

static void test_every_kind_renders(void **state) {
  (void)state;
  struct notify_input in = {.name = NULL,
                            .email = "a@b.co",
                            .reset_token = "tok123",
                            .reset_expires = "2026-12-03T10:00:00Z",
                            .order_id = "o1",
                            .currency = "EUR",
                            .total = 1000,
                            .lines = lines,
                            .line_count = 1,
                            .amount = 250,
                            .full_refund = false,
                            .reason = "cancelled by the customer"};
  for (int k = 0; k < NOTIFY_KIND_COUNT; k++) {
    struct notify_message m;
    assert_true(notify_render((enum notify_kind)k, &in, &m));
    assert_true(strlen(m.subject) > 0);
    assert_true(strlen(m.text) > 0);
    assert_non_null(strstr(m.html, "<html"));
    assert_true(strlen(m.brief) > 0);
    if (notify_kind_is_order((enum notify_kind)k)) {
      assert_non_null(strstr(m.text, "o1"));
      assert_non_null(strstr(m.text, "\xe2\x82\xac"
                                     "10.00"));
    }
    notify_message_free(&m);
  }
  struct notify_message m;
  assert_true(notify_render(NOTIFY_PASSWORD_RESET, &in, &m));
  assert_non_null(strstr(m.text, "reset_token: tok123\n"));
  assert_null(strstr(m.text, "reset-password")); /* no shop URL, no link */
  notify_message_free(&m);
  in.shop_url = "http://shop.test";
  assert_true(notify_render(NOTIFY_PASSWORD_RESET, &in, &m));
  assert_non_null(
      strstr(m.text, "http://shop.test/reset-password?token=tok123\n\n"));
  assert_non_null(strstr(
      m.html, "<a href=\"http://shop.test/reset-password?token=tok123\">"));
  notify_message_free(&m);
  in.shop_url = NULL;
  assert_true(notify_render(NOTIFY_REFUND_ISSUED, &in, &m));
  assert_string_equal(m.subject, "Refund of \xe2\x82\xac"
                                 "2.50 for order o1");
  notify_message_free(&m);
  assert_true(notify_render(NOTIFY_WELCOME, &in, &m));
  assert_non_null(strstr(m.text, "Hello there,"));
  notify_message_free(&m);
  assert_false(notify_render(NOTIFY_KIND_COUNT, &in, &m));
}

static void test_categories_and_preferences(void **state) {
  (void)state;
  assert_int_equal(notify_kind_category(NOTIFY_PASSWORD_RESET),
                   CATEGORY_SECURITY);
  assert_int_equal(notify_kind_category(NOTIFY_ORDER_SHIPPED),
                   CATEGORY_ORDER_UPDATES);
  struct notify_prefs p;
  notify_prefs_default(&p);
  assert_true(notify_prefs_allow(&p, CHANNEL_EMAIL, CATEGORY_ORDER_UPDATES));
  assert_false(notify_prefs_allow(&p, CHANNEL_EMAIL, CATEGORY_MARKETING));
  char field[64], msg[160];
  json_error_t jerr;
  json_t *body = json_loads("{\"email\": {\"order_updates\": false}, \"push\": "
                            "{\"marketing\": true}}",
                            0, &jerr);
  assert_true(
      notify_prefs_apply(&p, body, field, sizeof field, msg, sizeof msg));
  json_decref(body);
  assert_false(notify_prefs_allow(&p, CHANNEL_EMAIL, CATEGORY_ORDER_UPDATES));
  assert_true(notify_prefs_allow(&p, CHANNEL_SMS, CATEGORY_ORDER_UPDATES));
  assert_true(notify_prefs_allow(&p, CHANNEL_PUSH, CATEGORY_MARKETING));
  /* Security and in-app are never stopped. */
  assert_true(notify_prefs_allow(&p, CHANNEL_EMAIL, CATEGORY_SECURITY));
  assert_true(notify_prefs_allow(&p, CHANNEL_IN_APP, CATEGORY_ORDER_UPDATES));

  static const struct {
    const char *json, *field;
  } bad[] = {
      {"{\"email\": {\"order_updates\": \"no\"}}", "email.order_updates"},
      {"{\"email\": {\"order_updates\": 1}}", "email.order_updates"},
      {"{\"email\": {\"security\": false}}", "email.security"},
      {"{\"fax\": {}}", "fax"},
      {"{\"sms\": []}", "sms"},
      {"{\"sms\": {\"marketing\": true}, \"push\": {\"x\": true}}", "push.x"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct notify_prefs before = p;
    body = json_loads(bad[i].json, 0, &jerr);
    assert_non_null(body);
    assert_false(
        notify_prefs_apply(&p, body, field, sizeof field, msg, sizeof msg));
    assert_string_equal(field, bad[i].field);
    /* A refused body changes nothing, not even its valid parts. */
    assert_memory_equal(&before, &p, sizeof p);
    json_decref(body);
  }
}

static void test_qp_encoding(void **state) {
  (void)state;
  char *q = notify_qp_encode("a=b caf\xc3\xa9 \n.dot\ntrailing \nend");
  assert_string_equal(q, "a=3Db caf=C3=A9=20\r\n=2Edot\r\ntrailing=20\r\nend");
  size_t n = 0;
  char *back = mail_decode_qp(q, strlen(q), &n);
  assert_string_equal(back, "a=b caf\xc3\xa9 \r\n.dot\r\ntrailing \r\nend");
  free(q);
  free(back);
  /* Long lines are broken softly below 77 characters and come back whole. */
  char long_line[301];
  memset(long_line, 'x', 300);
  long_line[300] = '\0';
  q = notify_qp_encode(long_line);
  for (char *line = q; line != NULL && *line;) {
    char *eol = strstr(line, "\r\n");
    size_t len = eol ? (size_t)(eol - line) : strlen(line);
    assert_true(len <= 76);
    line = eol ? eol + 2 : NULL;
  }
  back = mail_decode_qp(q, strlen(q), NULL);
  assert_string_equal(back, long_line);
  free(q);
  free(back);
}

static void test_header_encoding(void **state) {
  (void)state;
  char *h = notify_header_encode("Plain subject");
  assert_string_equal(h, "Plain subject");
  free(h);
  h = notify_header_encode("Refund of \xe2\x82\xac"
                           "2.50");
  assert_non_null(strstr(h, "=?UTF-8?B?"));
  char *back = mail_decode_header(h);
  assert_string_equal(back, "Refund of \xe2\x82\xac"
                            "2.50");
  free(h);
  free(back);
}

/* What the sender builds, read by the sandbox: subject, parts, Message-ID. */
static void test_mime_round_trip(void **state) {
  (void)state;
  const char *text = "Hello N\xc3\xb3ra,\n\n.a line with a dot\nTotal: $5.00\n";
  const char *html = "<p>Hello N\xc3\xb3ra</p><p>x=y</p>";
  char *msg = notify_mime_build("ShopSphere <no-reply@shop.test>", "a@b.co",
                                "Order 1 confirmed \xe2\x9c\x93", "id-1@shop",
                                "Thu, 03 Dec 2026 08:00:00 +0000", text, html);
  assert_non_null(msg);
  assert_non_null(strstr(msg, "Message-ID: <id-1@shop>\r\n"));
  struct mail_message m;
  assert_true(mail_parse(msg, strlen(msg), &m));
  assert_string_equal(m.message_id, "id-1@shop");
  assert_string_equal(m.subject, "Order 1 confirmed \xe2\x9c\x93");
  assert_string_equal(m.from, "ShopSphere <no-reply@shop.test>");
  assert_string_equal(m.to, "a@b.co");
  assert_string_equal(m.text, text);
  assert_string_equal(m.html, html);
  mail_message_free(&m);
  free(msg);
}

static void test_retry_delay_and_sse(void **state) {
  (void)state;
  assert_int_equal(notify_retry_delay_ms(1000, 1), 1000);
  assert_int_equal(notify_retry_delay_ms(1000, 2), 2000);
  assert_int_equal(notify_retry_delay_ms(1000, 4), 8000);
  assert_int_equal(notify_retry_delay_ms(1000, 40), 300000);
  char *f = notify_sse_frame("n1", "notification", "{\"a\":1}");
  assert_string_equal(f, "id: n1\nevent: notification\ndata: {\"a\":1}\n\n");
  free(f);
  f = notify_sse_frame(NULL, NULL, "l1\nl2");
  assert_string_equal(f, "data: l1\ndata: l2\n\n");
  free(f);
  char addr[64];
  notify_address_of("Shop <x@y.z>", addr, sizeof addr);
  assert_string_equal(addr, "x@y.z");
  notify_address_of("x@y.z", addr, sizeof addr);
  assert_string_equal(addr, "x@y.z");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_money_with_currency),
      cmocka_unit_test(test_order_confirmed_template),
      cmocka_unit_test(test_every_kind_renders),
      cmocka_unit_test(test_categories_and_preferences),
      cmocka_unit_test(test_qp_encoding),
      cmocka_unit_test(test_header_encoding),
      cmocka_unit_test(test_mime_round_trip),
      cmocka_unit_test(test_retry_delay_and_sse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
