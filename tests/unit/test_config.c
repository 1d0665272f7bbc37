/* test_config.c - environment parsing, validation messages and redaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "kit/config.h"
#include "kit/err.h"

static void test_defaults_and_ports(void **state) {
  (void)state;
  /* The defaults, whatever profile the test runner's environment has. */
  static const char *const overridden[] = {
      "SHOPSPHERE_PORT_BASE", "SHOPSPHERE_PRODUCT_PORT",
      "SHOPSPHERE_MAX_BODY_BYTES", "SHOPSPHERE_RATE_LIMIT_PER_MINUTE"};
  for (size_t i = 0; i < sizeof overridden / sizeof overridden[0]; i++)
    unsetenv(overridden[i]);
  struct config cfg;
  char err[256] = "";
  assert_int_equal(config_load(&cfg, err, sizeof err), KIT_OK);
  assert_int_equal(cfg.ports[SVC_GATEWAY], 8080);
  assert_int_equal(cfg.ports[SVC_PRODUCT], 8082);
  assert_int_equal(cfg.ports[SVC_SEARCH], 8091);
  assert_int_equal(cfg.ports[SVC_SANDBOX_PAYMENT], 8095);
  assert_int_equal(cfg.ports[SVC_SANDBOX_COURIER], 8096);
  assert_int_equal(cfg.max_body_bytes, 1048576);
  assert_int_equal(cfg.rate_limit_per_minute, 100);
  assert_string_equal(cfg.urls[SVC_PRODUCT], "http://127.0.0.1:8082");

  setenv("SHOPSPHERE_PORT_BASE", "18080", 1);
  setenv("SHOPSPHERE_PRODUCT_PORT", "9999", 1);
  assert_int_equal(config_load(&cfg, err, sizeof err), KIT_OK);
  assert_int_equal(cfg.ports[SVC_GATEWAY], 18080);
  assert_int_equal(cfg.ports[SVC_PRODUCT], 9999);
  unsetenv("SHOPSPHERE_PORT_BASE");
  unsetenv("SHOPSPHERE_PRODUCT_PORT");
}

static void test_bad_values_name_the_variable(void **state) {
  (void)state;
  struct config cfg;
  char err[256] = "";
  setenv("SHOPSPHERE_HTTP_THREADS", "lots", 1);
  assert_int_equal(config_load(&cfg, err, sizeof err), KIT_INVALID);
  assert_non_null(strstr(err, "SHOPSPHERE_HTTP_THREADS"));
  unsetenv("SHOPSPHERE_HTTP_THREADS");

  setenv("SHOPSPHERE_CART_PORT", "70000", 1);
  assert_int_equal(config_load(&cfg, err, sizeof err), KIT_INVALID);
  assert_non_null(strstr(err, "SHOPSPHERE_CART_PORT"));
  unsetenv("SHOPSPHERE_CART_PORT");

  setenv("SHOPSPHERE_LOG_LEVEL", "loud", 1);
  assert_int_equal(config_load(&cfg, err, sizeof err), KIT_INVALID);
  assert_non_null(strstr(err, "SHOPSPHERE_LOG_LEVEL"));
  unsetenv("SHOPSPHERE_LOG_LEVEL");

  setenv("SHOPSPHERE_SANDBOX_COURIER_URL", "ftp://x", 1);
  assert_int_equal(config_load(&cfg, err, sizeof err), KIT_INVALID);
  assert_non_null(strstr(err, "SHOPSPHERE_SANDBOX_COURIER_URL"));
  unsetenv("SHOPSPHERE_SANDBOX_COURIER_URL");
}

static void test_redaction(void **state) {
  (void)state;
  char out[256];
  config_redact_url("postgresql://shop:s3cret@db:5432/shop", out, sizeof out);
  assert_string_equal(out, "postgresql://shop:***@db:5432/shop");
  config_redact_url("redis://:pw@127.0.0.1:6379", out, sizeof out);
  assert_string_equal(out, "redis://:***@127.0.0.1:6379");
  config_redact_url("amqp://user@host/", out, sizeof out);
  assert_string_equal(out, "amqp://user@host/");
  config_redact_url("redis://127.0.0.1:6379", out, sizeof out);
  assert_string_equal(out, "redis://127.0.0.1:6379");
}

static void test_print_hides_secrets(void **state) {
  (void)state;
  setenv("SHOPSPHERE_DATABASE_URL", "postgresql://a:topsecret@h/db", 1);
  setenv("SHOPSPHERE_ADMIN_PASSWORD", "hunter2hunter2", 1);
  struct config cfg;
  char err[256];
  assert_int_equal(config_load(&cfg, err, sizeof err), KIT_OK);
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  config_print(&cfg, f);
  fclose(f);
  assert_null(strstr(text, "topsecret"));
  assert_null(strstr(text, "hunter2"));
  assert_non_null(strstr(text, "SHOPSPHERE_ADMIN_PASSWORD=***"));
  free(text);
  unsetenv("SHOPSPHERE_DATABASE_URL");
  unsetenv("SHOPSPHERE_ADMIN_PASSWORD");
}

static void test_service_names(void **state) {
  (void)state;
  assert_int_equal(service_lookup("product"), SVC_PRODUCT);
  assert_int_equal(service_lookup("sandbox-courier"), SVC_SANDBOX_COURIER);
  assert_int_equal(service_lookup("nope"), SVC_COUNT);
  assert_string_equal(service_name(SVC_RECOMMENDATION), "recommendation");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults_and_ports),
      cmocka_unit_test(test_bad_values_name_the_variable),
      cmocka_unit_test(test_redaction),
      cmocka_unit_test(test_print_hides_secrets),
      cmocka_unit_test(test_service_names),
  };
  return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
