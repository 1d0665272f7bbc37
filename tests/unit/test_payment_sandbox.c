/* test_payment_sandbox.c - the sandbox card processor's books
 * (src/sandbox/payment_ledger.c): test tokens, the intent life cycle,
 * refunds, idempotency keys and the webhook delivery queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sandbox/payment_ledger.h"

static int setup(void **state) {
  *state = sbp_ledger_create();
  return *state ? 0 : -1;
}

static int teardown(void **state) {
  sbp_ledger_destroy(*state);
  return 0;
}

static void test_tokens(void **state) {
  (void)state;
  assert_int_equal(sbp_card_lookup("tok_visa")->kind, SBP_TOKEN_APPROVE);
  assert_string_equal(sbp_card_lookup("tok_visa")->last4, "4242");
  assert_string_equal(sbp_card_lookup("tok_chargeDeclined")->decline_code,
                      "generic_decline");
  assert_string_equal(sbp_card_lookup("tok_insufficientFunds")->decline_code,
                      "insufficient_funds");
  assert_int_equal(sbp_card_lookup("tok_timeout")->kind, SBP_TOKEN_TIMEOUT);
  assert_null(sbp_card_lookup("tok_nope"));
}

static void test_authorize_capture_refund(void **state) {
  struct sbp_ledger *l = *state;
  struct sbp_intent pi;
  bool hold;
  assert_int_equal(
      sbp_intent_create(l, 1000, "USD", "tok_visa", true, "o-1", &pi), SBP_OK);
  assert_string_equal(pi.status, "requires_confirmation");
  assert_string_equal(pi.currency, "usd");
  char id[SBP_ID_MAX];
  strcpy(id, pi.id);
  assert_int_equal(sbp_intent_confirm(l, id, NULL, &pi, &hold), SBP_OK);
  assert_false(hold);
  assert_string_equal(pi.status, "requires_capture");
  assert_int_equal(pi.amount_capturable, 1000);
  /* Confirming twice is a state error. */
  assert_int_equal(sbp_intent_confirm(l, id, NULL, &pi, &hold), SBP_BAD_STATE);

  assert_int_equal(sbp_intent_capture(l, id, 1001, &pi), SBP_BAD_AMOUNT);
  assert_int_equal(sbp_intent_capture(l, id, 800, &pi), SBP_OK);
  assert_string_equal(pi.status, "succeeded");
  assert_int_equal(pi.amount_received, 800);

  struct sbp_refund re;
  assert_int_equal(sbp_refund_create(l, id, 300, &re, &pi), SBP_OK);
  assert_int_equal(re.amount, 300);
  assert_int_equal(sbp_refund_create(l, id, 501, &re, &pi), SBP_BAD_AMOUNT);
  assert_int_equal(sbp_refund_create(l, id, -1, &re, &pi), SBP_OK);
  assert_int_equal(re.amount, 500);
  assert_int_equal(pi.amount_refunded, 800);
  assert_int_equal(sbp_refund_create(l, id, -1, &re, &pi), SBP_BAD_AMOUNT);
  assert_int_equal(sbp_intent_cancel(l, id, &pi), SBP_BAD_STATE);
}

static void test_decline_and_timeout(void **state) {
  struct sbp_ledger *l = *state;
  struct sbp_intent pi;
  bool hold;
  assert_int_equal(sbp_intent_create(l, 500, "eur", "tok_insufficientFunds",
                                     true, "o-2", &pi),
                   SBP_OK);
  char id[SBP_ID_MAX];
  strcpy(id, pi.id);
  assert_int_equal(sbp_intent_confirm(l, id, NULL, &pi, &hold), SBP_DECLINED);
  assert_string_equal(pi.status, "requires_payment_method");
  assert_string_equal(pi.decline_code, "insufficient_funds");
  assert_string_equal(pi.error_code, "card_declined");

  assert_int_equal(
      sbp_intent_create(l, 500, "usd", "tok_timeout", true, "o-3", &pi),
      SBP_OK);
  strcpy(id, pi.id);
  assert_int_equal(sbp_intent_confirm(l, id, NULL, &pi, &hold), SBP_OK);
  assert_true(hold); /* authorized, answer held back */
  assert_string_equal(pi.status, "requires_capture");

  assert_int_equal(sbp_intent_create(l, 5, "usd", "tok_bogus", true, NULL, &pi),
                   SBP_BAD_TOKEN);
  assert_int_equal(sbp_intent_get(l, "pi_missing", &pi), SBP_NOT_FOUND);

  struct sbp_intent *list = NULL;
  size_t count = 0;
  assert_int_equal(sbp_intents_by_order(l, "o-3", &list, &count), SBP_OK);
  assert_int_equal(count, 1);
  assert_string_equal(list[0].id, id);
  free(list);
  assert_int_equal(sbp_intents_by_order(l, "o-none", &list, &count), SBP_OK);
  assert_int_equal(count, 0);
  assert_null(list);
}

static void test_cancel(void **state) {
  struct sbp_ledger *l = *state;
  struct sbp_intent pi;
  bool hold;
  sbp_intent_create(l, 700, "usd", "tok_visa", true, "o-4", &pi);
  char id[SBP_ID_MAX];
  strcpy(id, pi.id);
  sbp_intent_confirm(l, id, NULL, &pi, &hold);
  assert_int_equal(sbp_intent_cancel(l, id, &pi), SBP_OK);
  assert_string_equal(pi.status, "canceled");
  assert_int_equal(pi.amount_capturable, 0);
  assert_int_equal(sbp_intent_capture(l, id, -1, &pi), SBP_BAD_STATE);
}

static void test_idempotency(void **state) {
  struct sbp_ledger *l = *state;
  unsigned status;
  char *body;
  assert_int_equal(sbp_idem_begin(l, "k1", "POST /a\n{}", &status, &body),
                   SBP_IDEM_NEW);
  assert_int_equal(sbp_idem_begin(l, "k1", "POST /a\n{}", &status, &body),
                   SBP_IDEM_IN_FLIGHT);
  sbp_idem_finish(l, "k1", 200, "{\"id\":\"pi_x\"}");
  assert_int_equal(sbp_idem_begin(l, "k1", "POST /a\n{}", &status, &body),
                   SBP_IDEM_REPLAY);
  assert_int_equal(status, 200);
  assert_string_equal(body, "{\"id\":\"pi_x\"}");
  free(body);
  assert_int_equal(
      sbp_idem_begin(l, "k1", "POST /a\n{\"x\":1}", &status, &body),
      SBP_IDEM_MISMATCH);
  /* An aborted key runs again. */
  assert_int_equal(sbp_idem_begin(l, "k2", "POST /b\n", &status, &body),
                   SBP_IDEM_NEW);
  sbp_idem_abort(l, "k2");
  assert_int_equal(sbp_idem_begin(l, "k2", "POST /b\n", &status, &body),
                   SBP_IDEM_NEW);
  sbp_idem_finish(l, "k2", 402, "{}");
}

static void test_event_queue(void **state) {
  struct sbp_ledger *l = *state;
  struct sbp_intent pi;
  bool hold;
  sbp_intent_create(l, 100, "usd", "tok_visa", true, "o-5", &pi);
  sbp_intent_confirm(l, pi.id, NULL, &pi, &hold);
  sbp_intent_capture(l, pi.id, -1, &pi);
  /* capturable, succeeded; created is listed but not sent */
  assert_int_equal(sbp_events_pending(l), 2);

  struct sbp_due due[8];
  size_t n = sbp_events_due(l, 0, due, 8);
  assert_int_equal(n, 2);
  assert_non_null(
      strstr(due[0].payload, "payment_intent.amount_capturable_updated"));
  assert_non_null(strstr(due[1].payload, "payment_intent.succeeded"));
  /* The first fails: retried later, not now. */
  sbp_event_attempted(l, due[0].id, false, 1000);
  sbp_event_attempted(l, due[1].id, true, 1000);
  assert_int_equal(sbp_events_pending(l), 1);
  for (size_t i = 0; i < n; i++)
    free(due[i].payload);
  assert_int_equal(sbp_events_due(l, 1000, due, 8), 0);
  n = sbp_events_due(l, 1500, due, 8);
  assert_int_equal(n, 1);
  sbp_event_attempted(l, due[0].id, true, 1500);
  free(due[0].payload);
  assert_int_equal(sbp_events_pending(l), 0);

  char *events = sbp_events_of_intent(l, pi.id);
  assert_non_null(events);
  assert_non_null(strstr(events, "\"delivered\":true"));
  assert_non_null(strstr(events, "\"webhook\":false")); /* created */
  free(events);
  assert_null(sbp_events_of_intent(l, "pi_missing"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tokens),
      cmocka_unit_test_setup_teardown(test_authorize_capture_refund, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_decline_and_timeout, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
      cmocka_unit_test_setup_teardown(test_idempotency, setup, teardown),
      cmocka_unit_test_setup_teardown(test_event_queue, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
