/* store.c - the user service's SQL (schema user, migrations/001_init.sql). */
#include "services/user/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/user/domain.h"

#define TS(col)                                                                \
  "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define USER_COLS                                                              \
  "id, email, username, first_name, last_name, phone, role, status, " TS(      \
      "created_at") ", " TS("updated_at") ", email_verified"
#define ADDRESS_COLS                                                           \
  "id, user_id, first_name, last_name, line1, line2, city, state, "            \
  "postal_code, country, phone, " TS("created_at") ", " TS("updated_at")

const struct db_statement user_statements[] = {
    {"user_insert",
     "INSERT INTO users (id, email, username, first_name, last_name, phone, "
     "role, status) VALUES ($1, $2, $3, nullif($4, ''), nullif($5, ''), "
     "nullif($6, ''), $7, $8) ON CONFLICT DO NOTHING RETURNING " USER_COLS},
    {"user_conflict",
     "SELECT lower(email) = lower($1) FROM users "
     "WHERE lower(email) = lower($1) OR lower(username) = lower($2) "
     "ORDER BY 1 DESC LIMIT 1"},
    {"user_get", "SELECT " USER_COLS " FROM users WHERE id = $1"},
    {"user_by_email",
     "SELECT " USER_COLS " FROM users WHERE lower(email) = lower($1)"},
    {"username_taken",
     "SELECT 1 FROM users WHERE lower(username) = lower($1) AND id <> $2"},
    {"user_update_profile",
     "UPDATE users SET username = $2, first_name = nullif($3, ''), "
     "last_name = nullif($4, ''), phone = nullif($5, ''), updated_at = now() "
     "WHERE id = $1 RETURNING " USER_COLS},
    {"user_admin_update", "UPDATE users SET role = coalesce($2, role), "
                          "status = coalesce($3, status), updated_at = now() "
                          "WHERE id = $1 RETURNING " USER_COLS},
    {"user_list",
     "SELECT " USER_COLS " FROM users "
     "WHERE ($1::text IS NULL OR strpos(lower(email), lower($1)) > 0 "
     "       OR strpos(lower(username), lower($1)) > 0) "
     "AND ($2::text IS NULL OR role = $2) "
     "AND ($3::text IS NULL OR status = $3) "
     "AND ($4::uuid IS NULL OR id > $4::uuid) "
     "ORDER BY id LIMIT $5::int"},
    {"address_list",
     "SELECT " ADDRESS_COLS " FROM addresses WHERE user_id = $1 "
     "ORDER BY id LIMIT $2::int"},
    {"address_insert",
     "INSERT INTO addresses (id, user_id, first_name, last_name, line1, "
     "line2, city, state, postal_code, country, phone) "
     "SELECT $1, $2, nullif($3, ''), nullif($4, ''), $5, nullif($6, ''), $7, "
     "nullif($8, ''), $9, $10, nullif($11, '') "
     "WHERE (SELECT count(*) FROM addresses WHERE user_id = $2) < $12::int "
     "RETURNING " ADDRESS_COLS},
    {"address_get",
     "SELECT " ADDRESS_COLS " FROM addresses WHERE id = $1 AND user_id = $2 "
     "FOR UPDATE"},
    {"address_replace",
     "UPDATE addresses SET first_name = nullif($3, ''), "
     "last_name = nullif($4, ''), line1 = $5, line2 = nullif($6, ''), "
     "city = $7, state = nullif($8, ''), postal_code = $9, country = $10, "
     "phone = nullif($11, ''), updated_at = now() "
     "WHERE id = $1 AND user_id = $2 RETURNING " ADDRESS_COLS},
    {"address_delete", "DELETE FROM addresses WHERE id = $1 AND user_id = $2"},
    {"user_count", "SELECT count(*) FROM users"},
};
_Static_assert(sizeof user_statements / sizeof user_statements[0] ==
                   USER_STATEMENT_COUNT,
               "USER_STATEMENT_COUNT must match the table");

static void text(char *dst, size_t size, const struct db_result *r, int row,
                 int col) {
  const char *v =
      db_result_is_null(r, row, col) ? "" : db_result_text(r, row, col);
  snprintf(dst, size, "%s", v);
}

static void read_user(const struct db_result *r, int row, struct user *u) {
  text(u->id, sizeof u->id, r, row, 0);
  text(u->email, sizeof u->email, r, row, 1);
  text(u->username, sizeof u->username, r, row, 2);
  text(u->first_name, sizeof u->first_name, r, row, 3);
  text(u->last_name, sizeof u->last_name, r, row, 4);
  text(u->phone, sizeof u->phone, r, row, 5);
  text(u->role, sizeof u->role, r, row, 6);
  text(u->status, sizeof u->status, r, row, 7);
  text(u->created_at, sizeof u->created_at, r, row, 8);
  text(u->updated_at, sizeof u->updated_at, r, row, 9);
  u->email_verified = db_result_bool(r, row, 10);
}

static int one_user(struct db_conn *c, const char *stmt, int n,
                    const char *const *p, struct user *out) {
  struct db_result *r = NULL;
  int rc = db_exec(c, stmt, n, p, &r);
  if (rc >= 1 && out != NULL) read_user(r, 0, out);
  db_result_free(r);
  return rc;
}

int store_user_insert(struct db_conn *c, const struct user *u,
                      struct user *out) {
  const char *p[] = {u->id,        u->email, u->username, u->first_name,
                     u->last_name, u->phone, u->role,     u->status};
  return one_user(c, "user_insert", 8, p, out);
}

int store_user_conflict(struct db_conn *c, const char *email,
                        const char *username, bool *email_taken) {
  struct db_result *r = NULL;
  const char *p[] = {email, username};
  int rc = db_exec(c, "user_conflict", 2, p, &r);
  if (rc == 1) *email_taken = db_result_bool(r, 0, 0);
  db_result_free(r);
  return rc;
}

int store_user_get(struct db_conn *c, const char *id, struct user *out) {
  const char *p[] = {id};
  return one_user(c, "user_get", 1, p, out);
}

int store_user_by_email(struct db_conn *c, const char *email,
                        struct user *out) {
  const char *p[] = {email};
  return one_user(c, "user_by_email", 1, p, out);
}

int store_username_taken(struct db_conn *c, const char *username,
                         const char *except_id) {
  const char *p[] = {username, except_id};
  return db_exec(c, "username_taken", 2, p, NULL);
}

int store_user_update_profile(struct db_conn *c, const struct user *u,
                              struct user *out) {
  const char *p[] = {u->id, u->username, u->first_name, u->last_name, u->phone};
  return one_user(c, "user_update_profile", 5, p, out);
}

int store_user_admin_update(struct db_conn *c, const char *id, const char *role,
                            const char *status, struct user *out) {
  const char *p[] = {id, role, status};
  return one_user(c, "user_admin_update", 3, p, out);
}

int store_user_list(struct db_conn *c, const struct user_filter *f,
                    struct user *out) {
  char limit[16];
  snprintf(limit, sizeof limit, "%d", f->limit);
  const char *p[] = {f->q, f->role, f->status, f->after, limit};
  struct db_result *r = NULL;
  int rc = db_exec(c, "user_list", 5, p, &r);
  for (int i = 0; i < rc && i < f->limit; i++)
    read_user(r, i, &out[i]);
  db_result_free(r);
  return rc;
}

static void read_address(const struct db_result *r, int row,
                         struct address *a) {
  text(a->id, sizeof a->id, r, row, 0);
  text(a->user_id, sizeof a->user_id, r, row, 1);
  text(a->first_name, sizeof a->first_name, r, row, 2);
  text(a->last_name, sizeof a->last_name, r, row, 3);
  text(a->line1, sizeof a->line1, r, row, 4);
  text(a->line2, sizeof a->line2, r, row, 5);
  text(a->city, sizeof a->city, r, row, 6);
  text(a->state, sizeof a->state, r, row, 7);
  text(a->postal_code, sizeof a->postal_code, r, row, 8);
  text(a->country, sizeof a->country, r, row, 9);
  text(a->phone, sizeof a->phone, r, row, 10);
  text(a->created_at, sizeof a->created_at, r, row, 11);
  text(a->updated_at, sizeof a->updated_at, r, row, 12);
}

static int one_address(struct db_conn *c, const char *stmt, int n,
                       const char *const *p, struct address *out) {
  struct db_result *r = NULL;
  int rc = db_exec(c, stmt, n, p, &r);
  if (rc >= 1 && out != NULL) read_address(r, 0, out);
  db_result_free(r);
  return rc;
}

int store_address_list(struct db_conn *c, const char *user_id,
                       struct address *out, int max) {
  char limit[16];
  snprintf(limit, sizeof limit, "%d", max);
  const char *p[] = {user_id, limit};
  struct db_result *r = NULL;
  int rc = db_exec(c, "address_list", 2, p, &r);
  for (int i = 0; i < rc && i < max; i++)
    read_address(r, i, &out[i]);
  db_result_free(r);
  return rc;
}

int store_address_insert(struct db_conn *c, const struct address *a,
                         struct address *out) {
  char cap[16];
  snprintf(cap, sizeof cap, "%d", ADDRESSES_PER_USER);
  const char *p[] = {a->id,          a->user_id, a->first_name, a->last_name,
                     a->line1,       a->line2,   a->city,       a->state,
                     a->postal_code, a->country, a->phone,      cap};
  return one_address(c, "address_insert", 12, p, out);
}

int store_address_get(struct db_conn *c, const char *id, const char *user_id,
                      struct address *out) {
  const char *p[] = {id, user_id};
  return one_address(c, "address_get", 2, p, out);
}

int store_address_replace(struct db_conn *c, const struct address *a,
                          struct address *out) {
  const char *p[] = {a->id,          a->user_id, a->first_name, a->last_name,
                     a->line1,       a->line2,   a->city,       a->state,
                     a->postal_code, a->country, a->phone};
  return one_address(c, "address_replace", 11, p, out);
}

int store_address_delete(struct db_conn *c, const char *id,
                         const char *user_id) {
  const char *p[] = {id, user_id};
  return db_exec(c, "address_delete", 2, p, NULL);
}
