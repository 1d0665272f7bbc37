/* render.c - a review as JSON, the rating aggregate, and the answers every
 * review handler gives the same way. */
#include <stdlib.h>
#include <string.h>

#include "kit/auth.h"
#include "kit/uuid.h"
#include "services/review/handlers.h"

json_t *review_render(const struct review *r) {
  json_t *flags = json_loads(r->flags_json, 0, NULL);
  if (!json_is_array(flags)) {
    json_decref(flags);
    flags = json_array();
  }
  json_t *o = json_pack(
      "{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:b, s:I, s:o, s:s, s:s}", "id",
      r->id, "product_id", r->product_id, "user_id", r->user_id, "author_name",
      r->author_name, "rating", r->rating, "title", r->title, "body", r->body,
      "status", review_status_name(r->status), "verified_purchase",
      r->verified_purchase, "helpful_count", (json_int_t)r->helpful_count,
      "flags", flags, "created_at", r->created_at, "updated_at", r->updated_at);
  if (o != NULL)
    json_object_set_new(o, "reject_reason",
                        r->reject_reason ? json_string(r->reject_reason)
                                         : json_null());
  return o;
}

void review_render_aggregate(json_t *obj, const struct rating_aggregate *agg) {
  char avg[8];
  bool any = rating_average(agg, avg);
  json_object_set_new(obj, "rating_average",
                      any ? json_string(avg) : json_null());
  json_object_set_new(obj, "rating_count", json_integer(rating_count(agg)));
  json_t *hist = json_object();
  for (int i = 0; i < 5; i++) {
    char key[2] = {(char)('1' + i), '\0'};
    json_object_set_new(hist, key, json_integer(agg->counts[i]));
  }
  json_object_set_new(obj, "rating_histogram", hist);
}

const char *review_flags_json(struct arena *a, const struct review_flags *f) {
  json_t *arr = json_array();
  for (int i = 0; i < f->count; i++)
    json_array_append_new(arr, json_pack("{s:s, s:s}", "code", f->items[i].code,
                                         "reason", f->items[i].reason));
  char *text = json_dumps(arr, JSON_COMPACT);
  json_decref(arr);
  const char *out = text ? arena_strdup(a, text) : NULL;
  free(text);
  return out;
}

void review_reply_failure(struct http_request *req, struct http_response *res,
                          int rc, const char *conflict_message) {
  switch (rc) {
  case OUT_NOT_FOUND:
    http_reply_error(res, req, API_NOT_FOUND, "no such review", NULL);
    return;
  case OUT_CONFLICT:
    http_reply_error(res, req, API_CONFLICT, conflict_message, NULL);
    return;
  case OUT_FORBIDDEN:
    http_reply_error(res, req, API_AUTHORIZATION_ERROR,
                     "not allowed for this review", NULL);
    return;
  case DB_UNAVAILABLE:
    http_reply_error(res, req, API_DATABASE_ERROR,
                     "the review database is unavailable; retry shortly", NULL);
    return;
  case DB_SOFT_ERROR:
    http_reply_error(res, req, API_SERVICE_UNAVAILABLE,
                     "too much contention, retry shortly", NULL);
    return;
  default:
    http_reply_error(res, req, API_INTERNAL_ERROR, "internal error", NULL);
  }
}

bool review_read_limit(struct http_request *req, struct http_response *res,
                       int *limit) {
  const char *s = http_query(req, "limit");
  *limit = 20;
  if (s == NULL) return true;
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < 1 || v > 100) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "limit must be a whole number from 1 to 100", "limit");
    return false;
  }
  *limit = (int)v;
  return true;
}

bool review_read_id(struct http_request *req, struct http_response *res,
                    const char *name, char out[37], const char *not_found) {
  const char *raw = http_param(req, name);
  if (raw == NULL || !uuid_normalize(raw, out)) {
    http_reply_error(res, req, API_NOT_FOUND, not_found, NULL);
    return false;
  }
  return true;
}

bool review_is_moderator(const struct http_request *req) {
  const struct principal *p = auth_principal(req);
  return p->authenticated &&
         (strcmp(p->role, "moderator") == 0 || strcmp(p->role, "admin") == 0);
}
