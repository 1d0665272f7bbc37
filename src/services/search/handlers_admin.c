/* handlers_admin.c - the admin's search routes: synonym groups, the
 * reindex job, and the query reports (top and zero-result queries). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit/auth.h"
#include "kit/handler.h"
#include "kit/json.h"
#include "kit/log.h"
#include "kit/uuid.h"
#include "services/search/domain.h"
#include "services/search/internal.h"
#include "services/search/store.h"

/* The service checks the role too (defence in depth). */
static bool admin_only(struct http_request *req, struct http_response *res) {
  if (auth_is_admin(req)) return true;
  http_reply_error(res, req,
                   auth_principal(req)->authenticated
                       ? API_AUTHORIZATION_ERROR
                       : API_AUTHENTICATION_ERROR,
                   "admins only", NULL);
  return false;
}

static void reply_text(struct http_response *res, unsigned status,
                       const char *text) {
  http_reply(res, status, "application/json", text, strlen(text));
}

void search_handle_synonyms_get(struct http_request *req,
                                struct http_response *res) {
  if (!admin_only(req, res)) return;
  const char *groups = NULL;
  int rc = sstore_synonyms_get(req->svc->db, req->arena, &groups);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  const char *body =
      arena_printf(req->arena, "{\"groups\":%s}", groups ? groups : "[]");
  reply_text(res, 200, body ? body : "{\"groups\":[]}");
}

void search_handle_synonyms_put(struct http_request *req,
                                struct http_response *res) {
  if (!admin_only(req, res)) return;
  const void *groups = NULL;
  struct json_field fields[] = {
      {"groups", JF_ARRAY, true, 0, SEARCH_MAX_SYN_GROUPS, &groups},
  };
  struct json_doc *doc = NULL;
  if (!http_read_body(req, res, fields, 1, true, &doc)) {
    json_doc_free(doc);
    return;
  }
  /* every group: 2..10 strings, each a term of 1..3 words */
  json_t *clean = json_array();
  size_t i;
  json_t *g;
  bool ok = clean != NULL;
  json_array_foreach((json_t *)groups, i, g) {
    if (!ok) break;
    char field[48], why[128];
    snprintf(field, sizeof field, "groups[%zu]", i);
    const char *terms[SEARCH_MAX_SYN_TERMS];
    size_t n = 0, j;
    json_t *t;
    bool strings =
        json_is_array(g) && json_array_size(g) <= SEARCH_MAX_SYN_TERMS;
    json_array_foreach(g, j, t) {
      if (!strings) break;
      const char *s = json_string_value(t);
      if (s == NULL || !json_utf8_valid(s, json_string_length(t)) ||
          strlen(s) != json_string_length(t)) {
        strings = false;
        break;
      }
      terms[n++] = s;
    }
    struct search_syn_group parsed;
    if (!strings) {
      snprintf(why, sizeof why, "a group is an array of 2 to %d strings",
               SEARCH_MAX_SYN_TERMS);
      ok = false;
    } else if (!search_syn_group_parse(terms, n, &parsed, why, sizeof why)) {
      ok = false;
    }
    if (!ok) {
      http_reply_error(res, req, API_UNPROCESSABLE, why, field);
      json_decref(clean);
      json_doc_free(doc);
      return;
    }
    json_t *row = json_array();
    for (size_t k = 0; k < n; k++) {
      /* stored as typed, lowercased: matching is case-insensitive */
      char *low = arena_strdup(req->arena, terms[k]);
      for (char *p = low; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
      json_array_append_new(row, json_string(low ? low : terms[k]));
    }
    json_array_append_new(clean, row);
  }
  json_doc_free(doc);
  char *text = clean ? json_dumps(clean, JSON_COMPACT) : NULL;
  json_decref(clean);
  if (text == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    return;
  }
  int rc = sstore_synonyms_put(req->svc->db, text);
  if (rc < 0) {
    free(text);
    http_reply_db_error(res, req, rc);
    return;
  }
  atomic_fetch_add(&search_state_of(req->svc)->local_generation, 1);
  search_answers_invalidate(search_state_of(req->svc));
  const char *body = arena_printf(req->arena, "{\"groups\":%s}", text);
  free(text);
  reply_text(res, 200, body ? body : "{\"groups\":[]}");
}

void search_handle_reindex(struct http_request *req,
                           struct http_response *res) {
  if (!admin_only(req, res)) return;
  if (req->body_len > 0) {
    struct json_doc *doc = NULL;
    bool ok = http_read_body(req, res, NULL, 0, true, &doc);
    json_doc_free(doc);
    if (!ok) return;
  }
  char id[37];
  search_request_reindex(search_state_of(req->svc), id);
  if (id[0] == '\0') {
    http_reply_error(res, req, API_DATABASE_ERROR,
                     "the reindex job could not be recorded", NULL);
    return;
  }
  const char *job = NULL;
  int rc = sstore_job_get(req->svc->db, req->arena, id, &job);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  if (job == NULL) {
    http_reply_error(res, req, API_SERVICE_UNAVAILABLE,
                     "the reindex job could not be recorded", NULL);
    return;
  }
  reply_text(res, 202, job);
}

void search_handle_reindex_get(struct http_request *req,
                               struct http_response *res) {
  if (!admin_only(req, res)) return;
  char id[UUID_STR_LEN];
  const char *raw = http_param(req, "id");
  if (raw == NULL || !uuid_normalize(raw, id)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such reindex job", NULL);
    return;
  }
  const char *job = NULL;
  int rc = sstore_job_get(req->svc->db, req->arena, id, &job);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  if (job == NULL) {
    http_reply_error(res, req, API_NOT_FOUND, "no such reindex job", NULL);
    return;
  }
  reply_text(res, 200, job);
}

/* YYYY-MM-DD naming a real day. */
static bool valid_date(const char *s) {
  if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
  struct tm tm = {0};
  tm.tm_year = atoi(s) - 1900;
  tm.tm_mon = atoi(s + 5) - 1;
  tm.tm_mday = atoi(s + 8);
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1) return false;
  struct tm check = tm;
  time_t t = timegm(&check);
  struct tm back;
  gmtime_r(&t, &back);
  return back.tm_mday == tm.tm_mday && back.tm_mon == tm.tm_mon &&
         tm.tm_year >= 0 && tm.tm_year < 8100;
}

static void day_offset(int days, char out[11]) {
  time_t t = time(NULL) + (time_t)days * 86400;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 11, "%Y-%m-%d", &tm);
}

void search_handle_queries(struct http_request *req,
                           struct http_response *res) {
  if (!admin_only(req, res)) return;
  static const char *const known[] = {"kind", "from", "to", "limit", NULL};
  const char *s = req->query;
  while (s != NULL && *s != '\0') { /* unknown parameters are refused */
    const char *end = strchr(s, '&');
    size_t len = end ? (size_t)(end - s) : strlen(s);
    const char *eq = memchr(s, '=', len);
    size_t nlen = eq ? (size_t)(eq - s) : len;
    bool ok = nlen == 0;
    for (size_t i = 0; known[i] && !ok; i++)
      ok = strlen(known[i]) == nlen && strncmp(known[i], s, nlen) == 0;
    if (!ok) {
      char *name = http_decode_component(req->arena, s, nlen, 1);
      http_reply_error(res, req, API_UNPROCESSABLE, "unknown parameter",
                       name ? name : "parameter");
      return;
    }
    s = end ? end + 1 : NULL;
  }
  const char *kind = http_query(req, "kind");
  if (kind == NULL) kind = "top";
  if (strcmp(kind, "top") != 0 && strcmp(kind, "zero_results") != 0) {
    http_reply_error(res, req, API_UNPROCESSABLE, "must be top or zero_results",
                     "kind");
    return;
  }
  char from_default[11], to_default[11];
  day_offset(-30, from_default);
  day_offset(1, to_default);
  const char *from = http_query(req, "from");
  const char *to = http_query(req, "to");
  if (from != NULL && !valid_date(from)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "must be a date (YYYY-MM-DD, UTC)", "from");
    return;
  }
  if (to != NULL && !valid_date(to)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "must be a date (YYYY-MM-DD, UTC)", "to");
    return;
  }
  if (from == NULL) from = from_default;
  if (to == NULL) to = to_default;
  if (strcmp(from, to) >= 0) {
    http_reply_error(res, req, API_UNPROCESSABLE, "must be after from", "to");
    return;
  }
  int limit = 20;
  const char *l = http_query(req, "limit");
  if (l != NULL) {
    char *end = NULL;
    long v = strtol(l, &end, 10);
    if (*l < '0' || *l > '9' || *end != '\0' || v < 1 || v > 100) {
      http_reply_error(res, req, API_UNPROCESSABLE,
                       "must be an integer from 1 to 100", "limit");
      return;
    }
    limit = (int)v;
  }
  const char *items = NULL;
  int rc = sstore_queries_report(req->svc->db, req->arena, kind, from, to,
                                 limit, &items);
  if (rc < 0) {
    http_reply_db_error(res, req, rc);
    return;
  }
  const char *body =
      arena_printf(req->arena, "{\"items\":%s}", items ? items : "[]");
  reply_text(res, 200, body ? body : "{\"items\":[]}");
}
