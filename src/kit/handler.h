/* handler.h - the answers every handler gives the same way.
 *
 * Reading a JSON body into a field table and answering 400/422 when it does
 * not fit; answering a failed database call as 503 (unavailable, or retries
 * ran out) or 500 (a bug), never with SQL text in the message.
 */
#ifndef SHOPSPHERE_KIT_HANDLER_H
#define SHOPSPHERE_KIT_HANDLER_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"
#include "json.h"

/* Answers a JSON validation failure: its code (400/422), its message, and
 * the offending field as details. */
void http_reply_json_error(struct http_response *res,
                           const struct http_request *req,
                           const struct json_error *err);

/* Answers a negative db_status: DB_UNAVAILABLE and DB_SOFT_ERROR are 503
 * DATABASE_ERROR (worth a retry), anything else 500. */
void http_reply_db_error(struct http_response *res,
                         const struct http_request *req, int db_status);

/* Parses req's body against fields (see json_parse_body). On failure answers
 * 400/422 itself and returns false. *doc must be freed with json_doc_free
 * either way. */
bool http_read_body(struct http_request *req, struct http_response *res,
                    const struct json_field *fields, size_t count,
                    bool reject_unknown, struct json_doc **doc);

#endif
