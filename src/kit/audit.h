/* audit.h - the platform-wide audit log: one event per admin or moderator
 * write.
 *
 * Every service that lets an admin or a moderator change something calls
 * audit_record() inside the transaction of that change. It writes an
 * `audit.recorded` event to the caller's outbox (bus_emit), so the record
 * exists if and only if the change commits. The admin service consumes the
 * events into its audit log (GET /api/v1/admin/audit-log; docs/audit.md).
 *
 * Event data (docs/audit.md): {actor: {id, email, role}, action,
 * target: {type, id}, before, after, trace_id, at}. The actor comes from the
 * request's verified access token (auth_principal: `sub`, `email`, `role`),
 * the trace id from the request, `at` is now (RFC 3339 UTC, milliseconds).
 */
#ifndef SHOPSPHERE_KIT_AUDIT_H
#define SHOPSPHERE_KIT_AUDIT_H

#include <stddef.h>

#include "db.h"
#include "http.h"

#define AUDIT_EVENT "audit.recorded"

/* Writes an audit.recorded event for req's caller to conn's outbox, inside
 * the caller's open transaction. action names the write ("product.update",
 * "order.status", ...); target_type and target_id the thing written.
 * before and after are json_t * objects (borrowed) or NULL (JSON null: a
 * creation has no before, a deletion no after). Returns a db_status (>= 0 on
 * success), so it composes with the other statements of the transaction. */
int audit_record(struct db_conn *conn, const struct http_request *req,
                 const char *action, const char *target_type,
                 const char *target_id, const void *before, const void *after);

/* Like audit_record, but before_full and after_full are two renderings of
 * the same object (json_t *, borrowed) and only the members that differ go
 * into the event (in both before and after), leaving out the names in
 * ignore (NULL-terminated; may be NULL), e.g. "updated_at". A member present
 * on one side only appears with null on the other. */
int audit_record_changes(struct db_conn *conn, const struct http_request *req,
                         const char *action, const char *target_type,
                         const char *target_id, const void *before_full,
                         const void *after_full, const char *const *ignore);

/* The members of before_full and after_full that differ, as two new objects
 * (caller decrefs both), skipping the names in ignore. Pure; for tests. */
void audit_diff(const void *before_full, const void *after_full,
                const char *const *ignore, void **before_out, void **after_out);

#endif
