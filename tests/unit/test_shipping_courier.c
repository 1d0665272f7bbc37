/* test_shipping_courier.c - the sandbox courier adapter's webhook reader
 * (src/services/shipping/courier_sandbox.c): signature first, then the body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kit/config.h"
#include "kit/service.h"
#include "kit/webhook.h"
#include "services/shipping/courier.h"

static const char secret[] = "whsec_unit";

struct fixture {
  struct config cfg;
  struct service svc;
  struct arena arena;
  struct http_request req;
  char sig[WEBHOOK_HEADER_MAX];
};

static void prepare(struct fixture *f, const char *body, int64_t signed_at,
                    const char *key) {
  memset(f, 0, sizeof *f);
  snprintf(f->cfg.courier_webhook_secret, sizeof f->cfg.courier_webhook_secret,
           "%s", secret);
  f->svc.cfg = &f->cfg;
  arena_init(&f->arena, 1024);
  f->req.svc = &f->svc;
  f->req.arena = &f->arena;
  f->req.body = body;
  f->req.body_len = strlen(body);
  if (key != NULL) {
    webhook_signature_header(key, signed_at, body, strlen(body), f->sig,
                             sizeof f->sig);
    f->req.headers[0] =
        (struct http_header){"Sandbox-Courier-Signature", f->sig};
    f->req.header_count = 1;
  }
}

static enum courier_webhook_result read_hook(struct fixture *f,
                                             struct courier_update *u) {
  const struct courier_adapter *a = shipping_courier_find("sandbox");
  assert_non_null(a);
  char why[192];
  return a->read_webhook(&f->svc, &f->req, u, why, sizeof why);
}

static const char good[] =
    "{\"id\":\"evt_1\",\"type\":\"tracking.updated\",\"created\":1,"
    "\"data\":{\"tracking_number\":\"SBX1\",\"reference\":\"r\","
    "\"status\":\"out_for_delivery\",\"description\":\"Out for delivery\","
    "\"location\":\"Springfield\",\"occurred_at\":\"2026-11-27T04:00:00.123Z\"}"
    "}";

static void test_valid(void **state) {
  (void)state;
  struct fixture f;
  struct courier_update u;
  prepare(&f, good, (int64_t)time(NULL), secret);
  assert_int_equal(read_hook(&f, &u), COURIER_WEBHOOK_OK);
  assert_string_equal(u.event_id, "evt_1");
  assert_string_equal(u.tracking_number, "SBX1");
  assert_int_equal(u.status, SHIP_OUT_FOR_DELIVERY);
  assert_string_equal(u.location, "Springfield");
  assert_string_equal(u.occurred_at, "2026-11-27T04:00:00.123Z");
  arena_free(&f.arena);
}

static void test_signature_refusals(void **state) {
  (void)state;
  struct fixture f;
  struct courier_update u;
  prepare(&f, good, (int64_t)time(NULL), NULL); /* no header */
  assert_int_equal(read_hook(&f, &u), COURIER_WEBHOOK_UNAUTHORIZED);
  arena_free(&f.arena);
  prepare(&f, good, (int64_t)time(NULL), "another secret");
  assert_int_equal(read_hook(&f, &u), COURIER_WEBHOOK_UNAUTHORIZED);
  arena_free(&f.arena);
  prepare(&f, good, (int64_t)time(NULL) - 3600, secret); /* replayed */
  assert_int_equal(read_hook(&f, &u), COURIER_WEBHOOK_UNAUTHORIZED);
  arena_free(&f.arena);
  /* Unset secret on our side: nothing validates. */
  prepare(&f, good, (int64_t)time(NULL), secret);
  f.cfg.courier_webhook_secret[0] = '\0';
  assert_int_equal(read_hook(&f, &u), COURIER_WEBHOOK_UNAUTHORIZED);
  arena_free(&f.arena);
}

static void test_body_refusals(void **state) {
  (void)state;
  const char *bad[] = {
      "not json",
      "{\"id\":\"e\",\"type\":\"parcel.lost\",\"data\":{}}",
      "{\"id\":\"e\",\"type\":\"tracking.updated\"}",
      "{\"id\":\"e\",\"type\":\"tracking.updated\",\"data\":{\"tracking_"
      "number\":"
      "\"S\",\"status\":\"teleported\",\"description\":\"d\",\"occurred_at\":"
      "\"2026-11-27T04:00:00Z\"}}",
      "{\"id\":\"e\",\"type\":\"tracking.updated\",\"data\":{\"tracking_"
      "number\":"
      "\"S\",\"status\":\"pending\",\"description\":\"d\",\"occurred_at\":"
      "\"2026-11-27T04:00:00Z\"}}",
      "{\"id\":\"e\",\"type\":\"tracking.updated\",\"data\":{\"tracking_"
      "number\":"
      "\"S\",\"status\":\"delivered\",\"description\":\"d\",\"occurred_at\":"
      "\"yesterday\"}}",
      "{\"id\":\"e\",\"type\":\"tracking.updated\",\"data\":{\"status\":"
      "\"delivered\",\"description\":\"d\",\"occurred_at\":"
      "\"2026-11-27T04:00:00Z\"}}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct fixture f;
    struct courier_update u;
    prepare(&f, bad[i], (int64_t)time(NULL), secret);
    assert_int_equal(read_hook(&f, &u), COURIER_WEBHOOK_MALFORMED);
    arena_free(&f.arena);
  }
}

static void test_adapter_lookup(void **state) {
  (void)state;
  assert_non_null(shipping_courier_find(SHIPPING_DEFAULT_CARRIER));
  assert_null(shipping_courier_find("fedex"));
  assert_null(shipping_courier_find(NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid),
      cmocka_unit_test(test_signature_refusals),
      cmocka_unit_test(test_body_refusals),
      cmocka_unit_test(test_adapter_lookup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
