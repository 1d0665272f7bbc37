/* providers.c - the sandbox SMS and push providers (external systems).
 *
 * Like the sandbox card processor, they stand in for a vendor's API: they
 * accept a message with an idempotency key (the delivery id), keep what they
 * accepted in memory (bounded), and answer a repeated key without a second
 * message. They live inside the notification process (nothing else calls
 * them) and are read back by GET /internal/notifications/sandbox/{channel}.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit/err.h"
#include "kit/uuid.h"
#include "services/notification/notification.h"

#define PROVIDER_MAX 5000

void provider_init(struct sandbox_provider *p, const char *name) {
  memset(p, 0, sizeof *p);
  p->name = name;
  pthread_mutex_init(&p->lock, NULL);
}

void provider_destroy(struct sandbox_provider *p) {
  for (size_t i = 0; i < p->count; i++)
    free(p->items[i].text);
  free(p->items);
  pthread_mutex_destroy(&p->lock);
}

int provider_send(struct sandbox_provider *p, const char *key, const char *to,
                  const char *title, const char *text) {
  pthread_mutex_lock(&p->lock);
  for (size_t i = 0; i < p->count; i++) {
    if (strcmp(p->items[i].key, key) == 0) {
      pthread_mutex_unlock(&p->lock);
      return KIT_OK; /* the same request again: already accepted */
    }
  }
  if (p->count == PROVIDER_MAX) {
    free(p->items[0].text);
    memmove(p->items, p->items + 1, (p->count - 1) * sizeof *p->items);
    p->count--;
  }
  if (p->count == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 64;
    struct sandbox_message *grown = realloc(p->items, cap * sizeof *grown);
    if (grown == NULL) {
      pthread_mutex_unlock(&p->lock);
      return KIT_NOMEM;
    }
    p->items = grown;
    p->cap = cap;
  }
  struct sandbox_message *m = &p->items[p->count];
  memset(m, 0, sizeof *m);
  m->text = strdup(text);
  if (m->text == NULL) {
    pthread_mutex_unlock(&p->lock);
    return KIT_NOMEM;
  }
  uuid_v7(m->id);
  snprintf(m->key, sizeof m->key, "%s", key);
  snprintf(m->to, sizeof m->to, "%s", to);
  snprintf(m->title, sizeof m->title, "%s", title);
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(m->sent_at, sizeof m->sent_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
  p->count++;
  pthread_mutex_unlock(&p->lock);
  return KIT_OK;
}

void *provider_list(struct sandbox_provider *p, const char *to, long limit) {
  json_t *items = json_array();
  pthread_mutex_lock(&p->lock);
  for (size_t i = p->count; i > 0 && (long)json_array_size(items) < limit;
       i--) {
    const struct sandbox_message *m = &p->items[i - 1];
    if (to != NULL && strcmp(m->to, to) != 0) continue;
    json_array_append_new(
        items, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", m->id,
                         "idempotency_key", m->key, "to", m->to, "title",
                         m->title, "text", m->text, "sent_at", m->sent_at));
  }
  pthread_mutex_unlock(&p->lock);
  return items;
}
