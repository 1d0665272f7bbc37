/* fuzz_webhook.c - the signature header of incoming webhooks (payment
 * processor, courier): "t=<unix>,v1=<hex>[,v1=...]" against a payload.
 * Input: "<header>\n<payload>". A header we sign ourselves must verify. */
#include <stdio.h>

#include "fuzz.h"
#include "kit/err.h"
#include "kit/webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *header, *payload;
  size_t hlen, plen;
  fuzz_split(data, size, '\n', &header, &hlen, &payload, &plen);
  const int64_t now = 1700000000;
  int64_t t = 0;
  webhook_verify("whsec_test", header, payload, plen, 300, now, &t);
  webhook_verify("", header, payload, plen, 300, now, NULL);
  char own[WEBHOOK_HEADER_MAX];
  if (webhook_signature_header("whsec_test", now, payload, plen, own,
                               sizeof own) != KIT_OK ||
      webhook_verify("whsec_test", own, payload, plen, 300, now, &t) !=
          WEBHOOK_VALID ||
      t != now)
    abort();
  free(header);
  free(payload);
  return 0;
}
