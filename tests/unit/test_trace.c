/* test_trace.c - spans and their OTLP/HTTP JSON form (kit/trace.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>
#include <string.h>

#include "kit/trace.h"

static void event_span_ids_are_derived_and_distinct(void **state) {
  (void)state;
  const char *event = "01890a5d-ac96-774b-bcce-b302099a8057";
  char emit[17], publish[17], again[17];
  trace_event_span_id(event, 'e', emit);
  trace_event_span_id(event, 'p', publish);
  trace_event_span_id(event, 'e', again);
  assert_int_equal(strlen(emit), 16);
  assert_int_equal(strspn(emit, "0123456789abcdef"), 16);
  assert_string_equal(emit, again);       /* producer and consumer agree */
  assert_string_not_equal(emit, publish); /* two spans, two ids */
  assert_string_equal(emit + 1, "cceb302099a8057"); /* the random tail */
}

static void spans_are_inert_without_an_endpoint(void **state) {
  (void)state;
  assert_false(trace_enabled());
  struct trace_span s;
  trace_span_begin(&s, "GET /x", TRACE_SERVER, "product", NULL, NULL, NULL);
  assert_false(s.active);
  trace_span_attr(&s, "k", "v");
  assert_int_equal(s.attr_count, 0);
  trace_span_end(&s, false); /* nothing to queue, nothing to crash */
}

static void current_span_is_saved_and_restored(void **state) {
  (void)state;
  struct trace_current outer, inner;
  trace_current_set("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331",
                    &outer);
  trace_current_set("11111111111111111111111111111111", "2222222222222222",
                    &inner);
  assert_string_equal(trace_current()->span_id, "2222222222222222");
  trace_current_restore(&inner);
  assert_string_equal(trace_current()->span_id, "b7ad6b7169203331");
  trace_current_restore(&outer);
  assert_string_equal(trace_current()->trace_id, "");
}

static void renders_otlp_json_grouped_by_service(void **state) {
  (void)state;
  struct trace_span spans[3];
  memset(spans, 0, sizeof spans);
  const char *services[] = {"gateway", "order", "gateway"};
  for (int i = 0; i < 3; i++) {
    snprintf(spans[i].trace_id, sizeof spans[i].trace_id, "%s",
             "0af7651916cd43dd8448eb211c80319c");
    snprintf(spans[i].span_id, sizeof spans[i].span_id, "00000000000000%02d",
             i + 1);
    snprintf(spans[i].service, sizeof spans[i].service, "%s", services[i]);
    snprintf(spans[i].name, sizeof spans[i].name, "span %d", i);
    spans[i].kind = i == 0 ? TRACE_SERVER : TRACE_CLIENT;
    spans[i].start_ns = 1700000000000000000LL + i;
    spans[i].end_ns = 1700000000000000100LL + i;
  }
  snprintf(spans[1].parent_span_id, sizeof spans[1].parent_span_id, "%s",
           "0000000000000001");
  spans[2].error = true;
  spans[2].attr_count = 1;
  snprintf(spans[2].attrs[0].key, sizeof spans[2].attrs[0].key, "peer.service");
  snprintf(spans[2].attrs[0].value, sizeof spans[2].attrs[0].value, "order");

  char *text = trace_render_otlp(spans, 3);
  assert_non_null(text);
  json_error_t err;
  json_t *root = json_loads(text, 0, &err);
  free(text);
  assert_non_null(root);
  json_t *resources = json_object_get(root, "resourceSpans");
  assert_int_equal(json_array_size(resources), 2);
  json_t *gw = json_array_get(resources, 0);
  json_t *attr0 = json_array_get(
      json_object_get(json_object_get(gw, "resource"), "attributes"), 0);
  assert_string_equal(json_string_value(json_object_get(attr0, "key")),
                      "service.name");
  assert_string_equal(json_string_value(json_object_get(
                          json_object_get(attr0, "value"), "stringValue")),
                      "gateway");
  json_t *gw_spans = json_object_get(
      json_array_get(json_object_get(gw, "scopeSpans"), 0), "spans");
  assert_int_equal(json_array_size(gw_spans), 2);
  json_t *root_span = json_array_get(gw_spans, 0);
  assert_null(json_object_get(root_span, "parentSpanId"));
  assert_int_equal(json_integer_value(json_object_get(root_span, "kind")), 2);
  assert_string_equal(
      json_string_value(json_object_get(root_span, "startTimeUnixNano")),
      "1700000000000000000");
  json_t *failed = json_array_get(gw_spans, 1);
  assert_int_equal(json_integer_value(json_object_get(
                       json_object_get(failed, "status"), "code")),
                   2);
  json_t *order_span = json_array_get(
      json_object_get(
          json_array_get(
              json_object_get(json_array_get(resources, 1), "scopeSpans"), 0),
          "spans"),
      0);
  assert_string_equal(
      json_string_value(json_object_get(order_span, "parentSpanId")),
      "0000000000000001");
  json_decref(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(event_span_ids_are_derived_and_distinct),
      cmocka_unit_test(spans_are_inert_without_an_endpoint),
      cmocka_unit_test(current_span_is_saved_and_restored),
      cmocka_unit_test(renders_otlp_json_grouped_by_service),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
