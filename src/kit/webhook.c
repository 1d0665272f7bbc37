/* webhook.c - signing, verifying and sending webhooks (see webhook.h).
 *
 * HMAC-SHA256 and the constant-time comparison come from libsodium; the
 * delivery is one libcurl request with its own handle (webhooks are rare, so
 * no connection reuse is worth a per-thread cache here).
 */
#include "kit/webhook.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit/err.h"
#include "kit/log.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int sodium_ready = -1;

static void init_libs(void) {
  sodium_ready = sodium_init() < 0 ? -1 : 0;
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void mac_raw(const char *secret, int64_t timestamp, const char *payload,
                    size_t payload_len,
                    unsigned char mac[crypto_auth_hmacsha256_BYTES]) {
  char prefix[32];
  int n = snprintf(prefix, sizeof prefix, "%" PRId64 ".", timestamp);
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret,
                              strlen(secret));
  crypto_auth_hmacsha256_update(&st, (const unsigned char *)prefix, (size_t)n);
  crypto_auth_hmacsha256_update(&st, (const unsigned char *)payload,
                                payload_len);
  crypto_auth_hmacsha256_final(&st, mac);
  sodium_memzero(&st, sizeof st);
}

int webhook_sign(const char *secret, int64_t timestamp, const char *payload,
                 size_t payload_len, char out_hex[WEBHOOK_HEX_LEN]) {
  pthread_once(&init_once, init_libs);
  if (secret == NULL || secret[0] == '\0' || sodium_ready != 0)
    return KIT_INVALID;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  mac_raw(secret, timestamp, payload ? payload : "", payload ? payload_len : 0,
          mac);
  sodium_bin2hex(out_hex, WEBHOOK_HEX_LEN, mac, sizeof mac);
  return KIT_OK;
}

int webhook_signature_header(const char *secret, int64_t timestamp,
                             const char *payload, size_t payload_len, char *out,
                             size_t out_size) {
  char hex[WEBHOOK_HEX_LEN];
  int rc = webhook_sign(secret, timestamp, payload, payload_len, hex);
  if (rc != KIT_OK) return rc;
  int n = snprintf(out, out_size, "t=%" PRId64 ",v1=%s", timestamp, hex);
  if (n < 0 || (size_t)n >= out_size) return KIT_INVALID;
  return KIT_OK;
}

/* Parses a decimal unix time of at most 18 digits; false otherwise. */
static bool parse_timestamp(const char *s, size_t n, int64_t *out) {
  if (n == 0 || n > 18) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

enum webhook_verdict webhook_verify(const char *secret,
                                    const char *header_value,
                                    const char *payload, size_t payload_len,
                                    int64_t tolerance_s, int64_t now,
                                    int64_t *timestamp_out) {
  pthread_once(&init_once, init_libs);
  if (header_value == NULL || header_value[0] == '\0') return WEBHOOK_MALFORMED;

  /* Walk the comma-separated items once: one t=, any number of v1=. */
  int64_t ts = 0;
  bool have_ts = false;
  const char *sigs[8];
  size_t sig_count = 0;
  const char *p = header_value;
  while (*p != '\0') {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    while (len > 0 && *p == ' ')
      p++, len--;
    if (len > 2 && strncmp(p, "t=", 2) == 0) {
      if (have_ts || !parse_timestamp(p + 2, len - 2, &ts))
        return WEBHOOK_MALFORMED;
      have_ts = true;
    } else if (len > 3 && strncmp(p, "v1=", 3) == 0) {
      if (len - 3 != WEBHOOK_HEX_LEN - 1) return WEBHOOK_MALFORMED;
      if (sig_count < sizeof sigs / sizeof sigs[0]) sigs[sig_count++] = p + 3;
    }
    /* Unknown schemes (v0=, ...) are ignored, as the scheme allows. */
    if (end == NULL) break;
    p = end + 1;
  }
  if (!have_ts || sig_count == 0) return WEBHOOK_MALFORMED;
  if (timestamp_out != NULL) *timestamp_out = ts;
  int64_t age = now - ts;
  if (age > tolerance_s || age < -tolerance_s) return WEBHOOK_STALE;

  char expected[WEBHOOK_HEX_LEN];
  if (webhook_sign(secret, ts, payload, payload_len, expected) != KIT_OK)
    return WEBHOOK_BAD_SIGNATURE;
  enum webhook_verdict verdict = WEBHOOK_BAD_SIGNATURE;
  for (size_t i = 0; i < sig_count; i++) {
    char given[WEBHOOK_HEX_LEN];
    for (size_t k = 0; k < WEBHOOK_HEX_LEN - 1; k++) {
      char c = sigs[i][k];
      given[k] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
    }
    given[WEBHOOK_HEX_LEN - 1] = '\0';
    if (sodium_memcmp(given, expected, WEBHOOK_HEX_LEN - 1) == 0)
      verdict = WEBHOOK_VALID;
  }
  return verdict;
}

struct answer {
  char *data;
  size_t len;
  bool overflow;
};

/* Keeps at most 1 MiB of an answer: external systems answer small JSON. */
static size_t keep_body(char *ptr, size_t size, size_t nmemb, void *ud) {
  struct answer *a = ud;
  size_t n = size * nmemb;
  if (a == NULL) return n;
  if (a->len + n > ((size_t)1 << 20)) {
    a->overflow = true;
    return 0;
  }
  char *grown = realloc(a->data, a->len + n + 1);
  if (grown == NULL) return 0;
  memcpy(grown + a->len, ptr, n);
  a->data = grown;
  a->len += n;
  a->data[a->len] = '\0';
  return n;
}

/* One POST with the given header lines; the answer's body is kept when
 * answer is not NULL. */
static int post(const char *url, struct curl_slist *headers,
                const char *payload, size_t payload_len, int timeout_ms,
                long *status_out, struct answer *answer) {
  CURL *h = curl_easy_init();
  if (h == NULL) {
    curl_slist_free_all(headers);
    return KIT_UNAVAILABLE;
  }
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)payload_len);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   (long)(timeout_ms < 2000 ? timeout_ms : 2000));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, answer);
  CURLcode cc = curl_easy_perform(h);
  int rc = KIT_OK;
  if (cc != CURLE_OK) {
    log_warn("POST %s failed: %s", url, curl_easy_strerror(cc));
    rc = cc == CURLE_OPERATION_TIMEDOUT ? KIT_TIMEOUT : KIT_UNAVAILABLE;
  } else {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status_out);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
  return rc;
}

int webhook_post(const char *url, const char *header_name, const char *secret,
                 const char *payload, size_t payload_len, int timeout_ms,
                 long *status_out) {
  pthread_once(&init_once, init_libs);
  *status_out = 0;
  char sig[WEBHOOK_HEADER_MAX];
  if (webhook_signature_header(secret, (int64_t)time(NULL), payload,
                               payload_len, sig, sizeof sig) != KIT_OK)
    return KIT_INVALID;
  char line[256];
  snprintf(line, sizeof line, "%s: %s", header_name, sig);
  struct curl_slist *headers = curl_slist_append(NULL, line);
  return post(url, headers, payload, payload_len, timeout_ms, status_out, NULL);
}

int external_post_json(const char *url, const char *const *extra_headers,
                       const char *payload, size_t payload_len, int timeout_ms,
                       long *status_out, char **body_out) {
  pthread_once(&init_once, init_libs);
  *status_out = 0;
  *body_out = NULL;
  struct curl_slist *headers = NULL;
  for (const char *const *hd = extra_headers; hd != NULL && *hd != NULL; hd++)
    headers = curl_slist_append(headers, *hd);
  struct answer answer = {0};
  int rc =
      post(url, headers, payload, payload_len, timeout_ms, status_out, &answer);
  if (rc != KIT_OK || answer.overflow) {
    free(answer.data);
    return rc != KIT_OK ? rc : KIT_UNAVAILABLE;
  }
  *body_out = answer.data ? answer.data : calloc(1, 1);
  return *body_out != NULL ? KIT_OK : KIT_NOMEM;
}
