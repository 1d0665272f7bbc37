/* courier_sandbox.c - the adapter for the sandbox courier (src/sandbox/).
 *
 * Booking is `POST /v1/shipments` on the courier (its URL is
 * SHOPSPHERE_SANDBOX_COURIER_URL), idempotent on our shipment id as
 * `reference`, over plain HTTP (external_post_json, not client_call, so no
 * internal token leaves the platform). Tracking arrives as webhooks signed with
 * SHOPSPHERE_COURIER_WEBHOOK_SECRET in the `Sandbox-Courier-Signature`
 * header (kit/webhook.h). Neither the caller's token nor our trace context
 * travels to a carrier: it is a third party.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit/json.h"
#include "kit/log.h"
#include "kit/service.h"
#include "kit/webhook.h"
#include "services/shipping/courier.h"

#define SIGNATURE_HEADER "Sandbox-Courier-Signature"

static int sandbox_book(struct service *svc, const struct http_request *parent,
                        const struct courier_parcel *parcel,
                        struct courier_label *out) {
  (void)parent;
  int rc = KIT_UNAVAILABLE;
  char *body = NULL;
  json_t *answer = NULL;

  json_t *to = json_loads(parcel->address_json, 0, NULL);
  json_t *q = json_pack("{s:s, s:s, s:s, s:I, s:o}", "reference",
                        parcel->reference, "order_id", parcel->order_id,
                        "service", ship_method_name(parcel->method),
                        "weight_grams", (json_int_t)parcel->weight_grams, "to",
                        to ? to : json_object());
  body = q ? json_dumps(q, JSON_COMPACT) : NULL;
  json_decref(q);
  if (body == NULL) {
    rc = KIT_ERROR;
    goto cleanup;
  }
  char url[CONFIG_URL_MAX + 32];
  snprintf(url, sizeof url, "%s/v1/shipments",
           svc->cfg->urls[SVC_SANDBOX_COURIER]);
  long status = 0;
  char *text = NULL;
  int prc = external_post_json(url, NULL, body, strlen(body),
                               svc->cfg->upstream_timeout_ms, &status, &text);
  if (prc != KIT_OK || (status != 200 && status != 201)) {
    log_warn("sandbox courier answered %ld to a booking", status);
    rc = prc == KIT_OK && status >= 400 && status < 500 ? KIT_INVALID
                                                        : KIT_UNAVAILABLE;
    free(text);
    goto cleanup;
  }
  answer = json_loads(text, 0, NULL);
  free(text);
  const char *tracking =
      json_string_value(json_object_get(answer, "tracking_number"));
  const char *label = json_string_value(json_object_get(answer, "label_url"));
  if (tracking == NULL || label == NULL || tracking[0] == '\0' ||
      strlen(tracking) >= sizeof out->tracking_number ||
      strlen(label) >= sizeof out->label_url) {
    log_warn("sandbox courier answered a booking without a usable label");
    rc = KIT_UNAVAILABLE;
    goto cleanup;
  }
  snprintf(out->tracking_number, sizeof out->tracking_number, "%s", tracking);
  snprintf(out->label_url, sizeof out->label_url, "%s", label);
  rc = KIT_OK;

cleanup:
  json_decref(answer);
  free(body);
  return rc;
}

/* A plausible RFC 3339 UTC time: "YYYY-MM-DDTHH:MM:SS[.fff]Z". PostgreSQL
 * parses it; this only keeps garbage out of the SQL. */
static bool rfc3339_shaped(const char *s) {
  static const char shape[] = "dddd-dd-ddTdd:dd:dd";
  size_t n = strlen(s);
  if (n < sizeof shape || n > 40 || s[n - 1] != 'Z') return false;
  for (size_t i = 0; i + 1 < sizeof shape; i++) {
    if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
      return false;
  }
  for (size_t i = sizeof shape - 1; i + 1 < n; i++)
    if (!(s[i] == '.' || (s[i] >= '0' && s[i] <= '9'))) return false;
  return true;
}

static enum courier_webhook_result
sandbox_read_webhook(struct service *svc, struct http_request *req,
                     struct courier_update *out, char *why, size_t why_size) {
  enum courier_webhook_result result = COURIER_WEBHOOK_MALFORMED;
  struct json_doc *doc = NULL;
  memset(out, 0, sizeof *out);

  enum webhook_verdict v = webhook_verify(
      svc->cfg->courier_webhook_secret, http_header(req, SIGNATURE_HEADER),
      req->body, req->body_len, SHIPPING_WEBHOOK_TOLERANCE_S,
      (int64_t)time(NULL), NULL);
  if (v != WEBHOOK_VALID) {
    snprintf(why, why_size, "%s",
             v == WEBHOOK_MALFORMED ? "missing or malformed " SIGNATURE_HEADER
             : v == WEBHOOK_STALE   ? "the signature's timestamp is too old"
                                    : "the signature does not match");
    /* Without a valid signature nothing else is read: always 401. */
    return COURIER_WEBHOOK_UNAUTHORIZED;
  }

  const char *type = NULL;
  const void *data = NULL;
  int64_t created = 0;
  const struct json_field fields[] = {
      {"id", JF_STRING, true, 1, 100, &out->event_id},
      {"type", JF_STRING, true, 1, 64, &type},
      {"created", JF_INT, false, 0, 0, &created},
      {"data", JF_OBJECT, true, 0, 0, &data},
  };
  struct json_error err;
  if (json_parse_body(req->body, req->body_len, fields, 4, false, req->arena,
                      &doc, &err) != KIT_OK) {
    snprintf(why, why_size, "%s", err.message);
    goto cleanup;
  }
  if (strcmp(type, "tracking.updated") != 0) {
    snprintf(why, why_size, "unknown event type");
    goto cleanup;
  }
  const char *status = NULL;
  out->location = "";
  const struct json_field dfields[] = {
      {"tracking_number", JF_STRING, true, 1, 63, &out->tracking_number},
      {"status", JF_STRING, true, 1, 32, &status},
      {"description", JF_STRING, true, 1, 300, &out->description},
      {"location", JF_STRING, false, 0, 200, &out->location, .nullable = true},
      {"occurred_at", JF_STRING, true, 1, 40, &out->occurred_at},
  };
  if (json_read_fields(data, dfields, 5, false, req->arena, &err) != KIT_OK) {
    snprintf(why, why_size, "data.%s", err.message);
    goto cleanup;
  }
  out->status = ship_status_parse(status);
  if (out->status == SHIP_STATUS_COUNT || out->status == SHIP_PENDING) {
    snprintf(why, why_size, "data.status is not a tracking status");
    goto cleanup;
  }
  if (!rfc3339_shaped(out->occurred_at)) {
    snprintf(why, why_size, "data.occurred_at must be an RFC 3339 UTC time");
    goto cleanup;
  }
  result = COURIER_WEBHOOK_OK;

cleanup:
  json_doc_free(doc);
  return result;
}

static const struct courier_adapter sandbox_adapter = {
    .name = "sandbox",
    .book = sandbox_book,
    .read_webhook = sandbox_read_webhook,
};

const struct courier_adapter *shipping_courier_find(const char *name) {
  if (name != NULL && strcmp(name, sandbox_adapter.name) == 0)
    return &sandbox_adapter;
  return NULL;
}
