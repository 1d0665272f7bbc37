/* handler.c - shared answers of handlers (see handler.h). */
#include "kit/handler.h"

#include "kit/db.h"
#include "kit/err.h"

void http_reply_json_error(struct http_response *res,
                           const struct http_request *req,
                           const struct json_error *err) {
  http_reply_error(res, req, err->code, err->message,
                   err->field[0] ? err->field : NULL);
}

void http_reply_db_error(struct http_response *res,
                         const struct http_request *req, int db_status) {
  if (db_status == DB_UNAVAILABLE || db_status == DB_SOFT_ERROR)
    http_reply_error(res, req, API_DATABASE_ERROR,
                     "the database is unavailable; retry shortly", NULL);
  else
    http_reply_error(res, req, API_INTERNAL_ERROR, "internal error", NULL);
}

bool http_read_body(struct http_request *req, struct http_response *res,
                    const struct json_field *fields, size_t count,
                    bool reject_unknown, struct json_doc **doc) {
  struct json_error err;
  if (json_parse_body(req->body, req->body_len, fields, count, reject_unknown,
                      req->arena, doc, &err) != KIT_OK) {
    http_reply_json_error(res, req, &err);
    return false;
  }
  return true;
}
