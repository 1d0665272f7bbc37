/* smtp.c - one e-mail by SMTP with libcurl (see smtp.h). */
#include "kit/smtp.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "kit/err.h"

struct upload {
  const char *data;
  size_t len, off;
};

static size_t on_read(char *buf, size_t size, size_t nitems, void *arg) {
  struct upload *u = arg;
  size_t room = size * nitems;
  size_t left = u->len - u->off;
  size_t n = left < room ? left : room;
  memcpy(buf, u->data + u->off, n);
  u->off += n;
  return n;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_global(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

int smtp_send(const char *url, const char *from, const char *to,
              const char *message, size_t len, int timeout_ms, char *why,
              size_t why_size) {
  pthread_once(&curl_once, curl_global);
  why[0] = '\0';
  CURL *h = curl_easy_init();
  if (h == NULL) {
    snprintf(why, why_size, "out of memory");
    return KIT_UNAVAILABLE;
  }
  char from_path[400], rcpt_path[400];
  snprintf(from_path, sizeof from_path, "<%s>", from);
  snprintf(rcpt_path, sizeof rcpt_path, "<%s>", to);
  struct curl_slist *rcpts = curl_slist_append(NULL, rcpt_path);
  struct upload u = {message, len, 0};
  char errbuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, from_path);
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
  curl_easy_setopt(h, CURLOPT_READDATA, &u);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   (long)(timeout_ms < 3000 ? timeout_ms : 3000));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode rc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(rcpts);
  curl_easy_cleanup(h);
  if (rc == CURLE_OK) return KIT_OK;
  snprintf(why, why_size, "%s%s%s (SMTP %ld)", curl_easy_strerror(rc),
           errbuf[0] ? ": " : "", errbuf, code);
  if (rc == CURLE_OPERATION_TIMEDOUT) return KIT_TIMEOUT;
  if (code >= 500 && code < 600) return KIT_INVALID;
  return KIT_UNAVAILABLE;
}
