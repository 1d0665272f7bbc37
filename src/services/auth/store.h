/* store.h - the auth service's SQL: one typed function per query. Each
 * returns a db_status (rows >= 0, or DB_* < 0). */
#ifndef SHOPSPHERE_AUTH_STORE_H
#define SHOPSPHERE_AUTH_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "kit/db.h"

#define AUTH_STATEMENT_COUNT 19
extern const struct db_statement auth_statements[AUTH_STATEMENT_COUNT];

struct credential {
  char user_id[40];
  char email[321];
  char password_hash[256];
  char role[16];
  char status[16];
};

int store_credential_by_email(struct db_conn *c, const char *email,
                              struct credential *out);
int store_credential_by_id(struct db_conn *c, const char *user_id,
                           struct credential *out);
/* Inserts unless the user id or the e-mail exists: 1 inserted, 0 not. */
int store_credential_insert(struct db_conn *c, const struct credential *cr);
/* Replaces email, hash, role and status of user_id. */
int store_credential_replace(struct db_conn *c, const struct credential *cr);
int store_credential_set_hash(struct db_conn *c, const char *user_id,
                              const char *hash);
/* NULL arguments keep the stored value. 0 rows when the user is unknown. */
int store_credential_update(struct db_conn *c, const char *user_id,
                            const char *email, const char *role,
                            const char *status);
int store_credential_delete(struct db_conn *c, const char *user_id);

struct refresh_row {
  char family_id[40];
  char user_id[40];
  bool used;
  bool revoked;
  bool expired;
  char role[16];
  char status[16];
  char email[321];
};
int store_refresh_insert(struct db_conn *c, const char *hash,
                         const char *family_id, const char *user_id, int ttl_s);
/* Locks the row (FOR UPDATE). */
int store_refresh_get(struct db_conn *c, const char *hash,
                      struct refresh_row *out);
int store_refresh_mark_used(struct db_conn *c, const char *hash);
int store_refresh_revoke_family(struct db_conn *c, const char *family_id);
int store_refresh_revoke_user(struct db_conn *c, const char *user_id);
int store_refresh_purge(struct db_conn *c);

/* expires_at (RFC 3339) of the new reset token into out (32). */
int store_reset_insert(struct db_conn *c, const char *hash, const char *user_id,
                       char expires_at[32]);
/* Marks a live token used; 1 with user_id (40) when it was live. */
int store_reset_take(struct db_conn *c, const char *hash, char user_id[40]);
int store_reset_invalidate_user(struct db_conn *c, const char *user_id);

struct stored_key {
  char kid[40];
  char *private_pem; /* malloc'd */
  int64_t created;
};
/* The newest `max` keys, newest first; *count set. Free with
 * store_keys_free. */
int store_keys_newest(struct db_conn *c, struct stored_key *out, int max,
                      int *count);
void store_keys_free(struct stored_key *keys, int count);
/* Replaces a key's stored private key (sealing a legacy one, resealing
 * under a new key-encryption key). */
int store_key_set_private(struct db_conn *c, const char *kid,
                          const char *stored);
int store_key_insert(struct db_conn *c, const char *kid,
                     const char *private_pem, const char *public_pem);

#endif
