/* test_payment_domain.c - the payment state machine (services/payment/domain.c)
 * and the sandbox adapter's parsing of provider objects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "services/payment/domain.h"
#include "services/payment/provider.h"

static struct payment make_payment(enum payment_status s) {
  struct payment p;
  memset(&p, 0, sizeof p);
  strcpy(p.id, "0190c7a0-0000-7000-8000-000000000001");
  strcpy(p.order_id, "0190c7a0-0000-7000-8000-000000000002");
  p.status = s;
  p.amount = 1000;
  strcpy(p.currency, "USD");
  strcpy(p.provider, "sandbox");
  return p;
}

static struct provider_intent make_intent(enum provider_state st) {
  struct provider_intent pi;
  memset(&pi, 0, sizeof pi);
  strcpy(pi.id, "pi_abc");
  pi.state = st;
  pi.amount = 1000;
  strcpy(pi.currency, "USD");
  strcpy(pi.brand, "visa");
  strcpy(pi.last4, "4242");
  return pi;
}

static void test_status_names(void **state) {
  (void)state;
  for (int i = 0; i < PAYMENT_STATUS_COUNT; i++) {
    enum payment_status s;
    assert_true(
        payment_status_parse(payment_status_name((enum payment_status)i), &s));
    assert_int_equal(s, i);
  }
  enum payment_status s;
  assert_false(payment_status_parse("settled", &s));
  assert_string_equal(payment_event_type(PAYMENT_EVENT_REFUNDED),
                      "payment.refunded");
  assert_null(payment_event_type(PAYMENT_EVENT_NONE));
}

static void test_unknown_to_authorized(void **state) {
  (void)state;
  struct payment cur = make_payment(PAYMENT_UNKNOWN), next;
  struct provider_intent pi = make_intent(PROVIDER_AUTHORIZED);
  bool changed;
  assert_int_equal(payment_reconcile(&cur, &pi, &next, &changed),
                   PAYMENT_EVENT_AUTHORIZED);
  assert_true(changed);
  assert_int_equal(next.status, PAYMENT_AUTHORIZED);
  assert_string_equal(next.provider_payment_id, "pi_abc");
  assert_string_equal(next.card_brand, "visa");
  assert_string_equal(next.card_last4, "4242");
  /* The same fact again changes nothing and emits nothing. */
  struct payment again;
  assert_int_equal(payment_reconcile(&next, &pi, &again, &changed),
                   PAYMENT_EVENT_NONE);
  assert_false(changed);
}

static void test_decline(void **state) {
  (void)state;
  struct payment cur = make_payment(PAYMENT_UNKNOWN), next;
  struct provider_intent pi = make_intent(PROVIDER_DECLINED);
  strcpy(pi.decline_code, "insufficient_funds");
  bool changed;
  assert_int_equal(payment_reconcile(&cur, &pi, &next, &changed),
                   PAYMENT_EVENT_FAILED);
  assert_int_equal(next.status, PAYMENT_FAILED);
  assert_string_equal(next.decline_code, "insufficient_funds");
  /* Failed is terminal: a later authorization fact cannot revive it. */
  struct provider_intent ok = make_intent(PROVIDER_AUTHORIZED);
  struct payment after;
  assert_int_equal(payment_reconcile(&next, &ok, &after, &changed),
                   PAYMENT_EVENT_NONE);
  assert_false(changed);
}

static void test_pending_changes_only_identity(void **state) {
  (void)state;
  struct payment cur = make_payment(PAYMENT_UNKNOWN), next;
  struct provider_intent pi = make_intent(PROVIDER_PENDING);
  bool changed;
  assert_int_equal(payment_reconcile(&cur, &pi, &next, &changed),
                   PAYMENT_EVENT_NONE);
  assert_true(changed); /* learned the provider id */
  assert_int_equal(next.status, PAYMENT_UNKNOWN);
  assert_string_equal(next.provider_payment_id, "pi_abc");
}

static void test_capture_and_external_refund(void **state) {
  (void)state;
  struct payment cur = make_payment(PAYMENT_AUTHORIZED), next;
  strcpy(cur.provider_payment_id, "pi_abc");
  struct provider_intent pi = make_intent(PROVIDER_CAPTURED);
  pi.amount_received = 800;
  bool changed;
  assert_int_equal(payment_reconcile(&cur, &pi, &next, &changed),
                   PAYMENT_EVENT_CAPTURED);
  assert_int_equal(next.status, PAYMENT_CAPTURED);
  assert_int_equal(next.captured_amount, 800);

  /* A refund made at the provider: booked once. */
  pi.amount_refunded = 300;
  struct payment refunded;
  assert_int_equal(payment_reconcile(&next, &pi, &refunded, &changed),
                   PAYMENT_EVENT_REFUNDED);
  assert_int_equal(refunded.status, PAYMENT_PARTIALLY_REFUNDED);
  assert_int_equal(refunded.refunded_amount, 300);
  struct payment again;
  assert_int_equal(payment_reconcile(&refunded, &pi, &again, &changed),
                   PAYMENT_EVENT_NONE);
  assert_int_equal(again.refunded_amount, 300);

  pi.amount_refunded = 800;
  assert_int_equal(payment_reconcile(&refunded, &pi, &again, &changed),
                   PAYMENT_EVENT_REFUNDED);
  assert_int_equal(again.status, PAYMENT_REFUNDED);
}

static void test_pending_refund_not_counted_twice(void **state) {
  (void)state;
  struct payment cur = make_payment(PAYMENT_CAPTURED), next;
  cur.captured_amount = 1000;
  cur.refund_pending = 400; /* ours, in flight */
  struct provider_intent pi = make_intent(PROVIDER_CAPTURED);
  pi.amount_received = 1000;
  pi.amount_refunded = 400; /* the provider already did it */
  bool changed;
  assert_int_equal(payment_reconcile(&cur, &pi, &next, &changed),
                   PAYMENT_EVENT_NONE);
  assert_int_equal(next.refunded_amount, 0);
}

static void test_cancel(void **state) {
  (void)state;
  struct payment cur = make_payment(PAYMENT_AUTHORIZED), next;
  struct provider_intent pi = make_intent(PROVIDER_CANCELED);
  bool changed;
  payment_reconcile(&cur, &pi, &next, &changed);
  assert_int_equal(next.status, PAYMENT_VOIDED);
  /* A captured payment is not voided by a stale cancel. */
  struct payment cap = make_payment(PAYMENT_CAPTURED);
  payment_reconcile(&cap, &pi, &next, &changed);
  assert_int_equal(next.status, PAYMENT_CAPTURED);
}

static void test_check_actions(void **state) {
  (void)state;
  int64_t eff;
  struct payment p = make_payment(PAYMENT_AUTHORIZED);
  assert_int_equal(payment_check_action(&p, ACTION_CAPTURE, -1, &eff),
                   CHECK_GO);
  assert_int_equal(eff, 1000);
  assert_int_equal(payment_check_action(&p, ACTION_CAPTURE, 1001, &eff),
                   CHECK_BAD_AMOUNT);
  assert_int_equal(payment_check_action(&p, ACTION_REFUND, -1, &eff),
                   CHECK_CONFLICT);
  assert_int_equal(payment_check_action(&p, ACTION_VOID, -1, &eff), CHECK_GO);

  p.status = PAYMENT_UNKNOWN;
  assert_int_equal(payment_check_action(&p, ACTION_VOID, -1, &eff),
                   CHECK_DEFER);
  assert_int_equal(payment_check_action(&p, ACTION_CAPTURE, -1, &eff),
                   CHECK_CONFLICT);

  p.status = PAYMENT_PARTIALLY_REFUNDED;
  p.captured_amount = 1000;
  p.refunded_amount = 300;
  p.refund_pending = 200;
  assert_int_equal(payment_check_action(&p, ACTION_REFUND, -1, &eff), CHECK_GO);
  assert_int_equal(eff, 500);
  assert_int_equal(payment_check_action(&p, ACTION_REFUND, 501, &eff),
                   CHECK_BAD_AMOUNT);
  assert_int_equal(payment_check_action(&p, ACTION_REFUND, 500, &eff),
                   CHECK_GO);
  assert_int_equal(payment_status_after_refund(&p, 200),
                   PAYMENT_PARTIALLY_REFUNDED);
  assert_int_equal(payment_status_after_refund(&p, 700), PAYMENT_REFUNDED);

  p.status = PAYMENT_CAPTURED;
  assert_int_equal(payment_check_action(&p, ACTION_CAPTURE, -1, &eff),
                   CHECK_DONE);
  p.status = PAYMENT_VOIDED;
  assert_int_equal(payment_check_action(&p, ACTION_VOID, -1, &eff), CHECK_DONE);
  assert_int_equal(payment_check_action(&p, ACTION_REFUND, 1, &eff),
                   CHECK_CONFLICT);
}

static void test_parse_sandbox_objects(void **state) {
  (void)state;
  json_t *o = json_loads(
      "{\"id\":\"pi_1\",\"object\":\"payment_intent\",\"amount\":1999,"
      "\"amount_capturable\":1999,\"amount_received\":0,\"currency\":\"usd\","
      "\"status\":\"requires_capture\",\"metadata\":{\"order_id\":\"o1\"},"
      "\"card\":{\"brand\":\"visa\",\"last4\":\"4242\"},"
      "\"last_payment_error\":null}",
      0, NULL);
  struct provider_intent pi;
  assert_int_equal(provider_sandbox_parse_intent(o, &pi), 0);
  assert_int_equal(pi.state, PROVIDER_AUTHORIZED);
  assert_string_equal(pi.currency, "USD");
  assert_string_equal(pi.order_id, "o1");
  assert_string_equal(pi.last4, "4242");
  json_decref(o);

  o = json_loads("{\"id\":\"pi_2\",\"object\":\"payment_intent\","
                 "\"status\":\"requires_payment_method\",\"amount\":5,"
                 "\"last_payment_error\":{\"code\":\"card_declined\","
                 "\"decline_code\":\"insufficient_funds\"}}",
                 0, NULL);
  assert_int_equal(provider_sandbox_parse_intent(o, &pi), 0);
  assert_int_equal(pi.state, PROVIDER_DECLINED);
  assert_string_equal(pi.decline_code, "insufficient_funds");
  json_decref(o);

  o = json_loads("{\"id\":\"ch_3\",\"object\":\"charge\",\"payment_intent\":"
                 "\"pi_3\",\"amount\":900,\"amount_captured\":900,"
                 "\"amount_refunded\":100}",
                 0, NULL);
  assert_int_equal(provider_sandbox_parse_intent(o, &pi), 0);
  assert_int_equal(pi.state, PROVIDER_CAPTURED);
  assert_string_equal(pi.id, "pi_3");
  assert_int_equal(pi.amount_refunded, 100);
  json_decref(o);

  o = json_loads("{\"object\":\"refund\"}", 0, NULL);
  assert_int_equal(provider_sandbox_parse_intent(o, &pi), -1);
  json_decref(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_names),
      cmocka_unit_test(test_unknown_to_authorized),
      cmocka_unit_test(test_decline),
      cmocka_unit_test(test_pending_changes_only_identity),
      cmocka_unit_test(test_capture_and_external_refund),
      cmocka_unit_test(test_pending_refund_not_counted_twice),
      cmocka_unit_test(test_cancel),
      cmocka_unit_test(test_check_actions),
      cmocka_unit_test(test_parse_sandbox_objects),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
