/* store.c - the auth service's SQL (schema auth, migrations/001_init.sql). */
#include "services/auth/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RFC3339(col)                                                           \
  "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

const struct db_statement auth_statements[] = {
    {"cred_by_email",
     "SELECT user_id, email, password_hash, role, status FROM credentials "
     "WHERE lower(email) = lower($1)"},
    {"cred_by_id",
     "SELECT user_id, email, password_hash, role, status FROM credentials "
     "WHERE user_id = $1"},
    {"cred_insert",
     "INSERT INTO credentials (user_id, email, password_hash, role, status) "
     "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"},
    {"cred_replace",
     "UPDATE credentials SET email = $2, password_hash = $3, role = $4, "
     "status = $5, updated_at = now() WHERE user_id = $1"},
    {"cred_set_hash",
     "UPDATE credentials SET password_hash = $2, updated_at = now() "
     "WHERE user_id = $1"},
    {"cred_update", "UPDATE credentials SET email = coalesce($2, email), "
                    "role = coalesce($3, role), status = coalesce($4, status), "
                    "updated_at = now() WHERE user_id = $1"},
    {"cred_delete", "DELETE FROM credentials WHERE user_id = $1"},
    {"refresh_insert",
     "INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at) "
     "VALUES ($1, $2, $3, now() + make_interval(secs => $4::int))"},
    {"refresh_get",
     "SELECT r.family_id, r.user_id, r.used_at IS NOT NULL, "
     "r.revoked_at IS NOT NULL, r.expires_at <= now(), c.role, c.status, "
     "c.email "
     "FROM refresh_tokens r JOIN credentials c ON c.user_id = r.user_id "
     "WHERE r.token_hash = $1 FOR UPDATE OF r"},
    {"refresh_mark_used",
     "UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1"},
    {"refresh_revoke_family", "UPDATE refresh_tokens SET revoked_at = now() "
                              "WHERE family_id = $1 AND revoked_at IS NULL"},
    {"refresh_revoke_user", "UPDATE refresh_tokens SET revoked_at = now() "
                            "WHERE user_id = $1 AND revoked_at IS NULL"},
    {"refresh_purge",
     "DELETE FROM refresh_tokens WHERE expires_at < now() - interval '1 day'"},
    {"reset_insert",
     "INSERT INTO password_resets (token_hash, user_id, expires_at) "
     "VALUES ($1, $2, now() + interval '30 minutes') "
     "RETURNING " RFC3339("expires_at")},
    {"reset_take",
     "UPDATE password_resets SET used_at = now() WHERE token_hash = $1 "
     "AND used_at IS NULL AND expires_at > now() RETURNING user_id"},
    {"reset_invalidate_user", "UPDATE password_resets SET used_at = now() "
                              "WHERE user_id = $1 AND used_at IS NULL"},
    {"keys_newest",
     "SELECT kid, private_pem, extract(epoch FROM created_at)::bigint "
     "FROM signing_keys ORDER BY created_at DESC, kid DESC LIMIT $1"},
    {"key_insert", "INSERT INTO signing_keys (kid, private_pem, public_pem) "
                   "VALUES ($1, $2, $3)"},
    {"key_set_private",
     "UPDATE signing_keys SET private_pem = $2 WHERE kid = $1"},
};
_Static_assert(sizeof auth_statements / sizeof auth_statements[0] ==
                   AUTH_STATEMENT_COUNT,
               "AUTH_STATEMENT_COUNT must match the table");

static void copy_text(char *dst, size_t size, const struct db_result *r,
                      int row, int col) {
  const char *v =
      db_result_is_null(r, row, col) ? "" : db_result_text(r, row, col);
  snprintf(dst, size, "%s", v);
}

static int read_credential(int rc, struct db_result *r,
                           struct credential *out) {
  if (rc == 1) {
    copy_text(out->user_id, sizeof out->user_id, r, 0, 0);
    copy_text(out->email, sizeof out->email, r, 0, 1);
    copy_text(out->password_hash, sizeof out->password_hash, r, 0, 2);
    copy_text(out->role, sizeof out->role, r, 0, 3);
    copy_text(out->status, sizeof out->status, r, 0, 4);
  }
  db_result_free(r);
  return rc;
}

int store_credential_by_email(struct db_conn *c, const char *email,
                              struct credential *out) {
  struct db_result *r = NULL;
  const char *p[] = {email};
  int rc = db_exec(c, "cred_by_email", 1, p, &r);
  return read_credential(rc, r, out);
}

int store_credential_by_id(struct db_conn *c, const char *user_id,
                           struct credential *out) {
  struct db_result *r = NULL;
  const char *p[] = {user_id};
  int rc = db_exec(c, "cred_by_id", 1, p, &r);
  return read_credential(rc, r, out);
}

int store_credential_insert(struct db_conn *c, const struct credential *cr) {
  const char *p[] = {cr->user_id, cr->email, cr->password_hash, cr->role,
                     cr->status};
  return db_exec(c, "cred_insert", 5, p, NULL);
}

int store_credential_replace(struct db_conn *c, const struct credential *cr) {
  const char *p[] = {cr->user_id, cr->email, cr->password_hash, cr->role,
                     cr->status};
  return db_exec(c, "cred_replace", 5, p, NULL);
}

int store_credential_set_hash(struct db_conn *c, const char *user_id,
                              const char *hash) {
  const char *p[] = {user_id, hash};
  return db_exec(c, "cred_set_hash", 2, p, NULL);
}

int store_credential_update(struct db_conn *c, const char *user_id,
                            const char *email, const char *role,
                            const char *status) {
  const char *p[] = {user_id, email, role, status};
  return db_exec(c, "cred_update", 4, p, NULL);
}

int store_credential_delete(struct db_conn *c, const char *user_id) {
  const char *p[] = {user_id};
  return db_exec(c, "cred_delete", 1, p, NULL);
}

int store_refresh_insert(struct db_conn *c, const char *hash,
                         const char *family_id, const char *user_id,
                         int ttl_s) {
  char ttl[16];
  snprintf(ttl, sizeof ttl, "%d", ttl_s);
  const char *p[] = {hash, family_id, user_id, ttl};
  return db_exec(c, "refresh_insert", 4, p, NULL);
}

int store_refresh_get(struct db_conn *c, const char *hash,
                      struct refresh_row *out) {
  struct db_result *r = NULL;
  const char *p[] = {hash};
  int rc = db_exec(c, "refresh_get", 1, p, &r);
  if (rc == 1) {
    copy_text(out->family_id, sizeof out->family_id, r, 0, 0);
    copy_text(out->user_id, sizeof out->user_id, r, 0, 1);
    out->used = db_result_bool(r, 0, 2);
    out->revoked = db_result_bool(r, 0, 3);
    out->expired = db_result_bool(r, 0, 4);
    copy_text(out->role, sizeof out->role, r, 0, 5);
    copy_text(out->status, sizeof out->status, r, 0, 6);
    copy_text(out->email, sizeof out->email, r, 0, 7);
  }
  db_result_free(r);
  return rc;
}

int store_refresh_mark_used(struct db_conn *c, const char *hash) {
  const char *p[] = {hash};
  return db_exec(c, "refresh_mark_used", 1, p, NULL);
}

int store_refresh_revoke_family(struct db_conn *c, const char *family_id) {
  const char *p[] = {family_id};
  return db_exec(c, "refresh_revoke_family", 1, p, NULL);
}

int store_refresh_revoke_user(struct db_conn *c, const char *user_id) {
  const char *p[] = {user_id};
  return db_exec(c, "refresh_revoke_user", 1, p, NULL);
}

int store_refresh_purge(struct db_conn *c) {
  return db_exec(c, "refresh_purge", 0, NULL, NULL);
}

int store_reset_insert(struct db_conn *c, const char *hash, const char *user_id,
                       char expires_at[32]) {
  struct db_result *r = NULL;
  const char *p[] = {hash, user_id};
  int rc = db_exec(c, "reset_insert", 2, p, &r);
  if (rc == 1) copy_text(expires_at, 32, r, 0, 0);
  db_result_free(r);
  return rc;
}

int store_reset_take(struct db_conn *c, const char *hash, char user_id[40]) {
  struct db_result *r = NULL;
  const char *p[] = {hash};
  int rc = db_exec(c, "reset_take", 1, p, &r);
  if (rc == 1) copy_text(user_id, 40, r, 0, 0);
  db_result_free(r);
  return rc;
}

int store_reset_invalidate_user(struct db_conn *c, const char *user_id) {
  const char *p[] = {user_id};
  return db_exec(c, "reset_invalidate_user", 1, p, NULL);
}

int store_keys_newest(struct db_conn *c, struct stored_key *out, int max,
                      int *count) {
  *count = 0;
  char limit[16];
  snprintf(limit, sizeof limit, "%d", max);
  const char *p[] = {limit};
  struct db_result *r = NULL;
  int rc = db_exec(c, "keys_newest", 1, p, &r);
  for (int i = 0; rc > 0 && i < rc && i < max; i++) {
    copy_text(out[i].kid, sizeof out[i].kid, r, i, 0);
    out[i].private_pem = strdup(db_result_text(r, i, 1));
    out[i].created = db_result_int64(r, i, 2);
    if (out[i].private_pem == NULL) {
      store_keys_free(out, i);
      rc = DB_HARD_ERROR;
      break;
    }
    *count = i + 1;
  }
  db_result_free(r);
  return rc;
}

void store_keys_free(struct stored_key *keys, int count) {
  for (int i = 0; i < count; i++) {
    if (keys[i].private_pem != NULL)
      explicit_bzero(keys[i].private_pem, strlen(keys[i].private_pem));
    free(keys[i].private_pem);
    keys[i].private_pem = NULL;
  }
}

int store_key_insert(struct db_conn *c, const char *kid,
                     const char *private_pem, const char *public_pem) {
  const char *p[] = {kid, private_pem, public_pem};
  return db_exec(c, "key_insert", 3, p, NULL);
}

int store_key_set_private(struct db_conn *c, const char *kid,
                          const char *stored) {
  const char *p[] = {kid, stored};
  return db_exec(c, "key_set_private", 2, p, NULL);
}
