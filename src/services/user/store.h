/* store.h - the user service's SQL: one typed function per query. Each
 * returns a db_status (rows >= 0, or DB_* < 0). Text columns that are NULL
 * come back as "" (the renderer writes JSON null). */
#ifndef SHOPSPHERE_USER_STORE_H
#define SHOPSPHERE_USER_STORE_H

#include <stdbool.h>

#include "kit/db.h"

#define USER_STATEMENT_COUNT 14
extern const struct db_statement user_statements[USER_STATEMENT_COUNT];

struct user {
  char id[40];
  char email[321];
  char username[64];
  char first_name[404];
  char last_name[404];
  char phone[40];
  char role[16];
  char status[16];
  char created_at[32];
  char updated_at[32];
  bool email_verified; /* false until the address is confirmed */
};

/* 1 inserted (out filled), 0 when the e-mail or username exists. */
int store_user_insert(struct db_conn *c, const struct user *u,
                      struct user *out);
/* After a failed insert: 1 with *email_taken telling which. */
int store_user_conflict(struct db_conn *c, const char *email,
                        const char *username, bool *email_taken);
int store_user_get(struct db_conn *c, const char *id, struct user *out);
int store_user_by_email(struct db_conn *c, const char *email, struct user *out);
/* 1 when another account has the username. */
int store_username_taken(struct db_conn *c, const char *username,
                         const char *except_id);
/* Writes username, names and phone of u (by u->id); "" stores NULL. */
int store_user_update_profile(struct db_conn *c, const struct user *u,
                              struct user *out);
/* NULL keeps the value. */
int store_user_admin_update(struct db_conn *c, const char *id, const char *role,
                            const char *status, struct user *out);

struct user_filter {
  const char *q;      /* substring of email or username, or NULL */
  const char *role;   /* or NULL */
  const char *status; /* or NULL */
  const char *after;  /* cursor: id, or NULL */
  int limit;
};
/* Up to f->limit users into out (caller's array of f->limit); rows. */
int store_user_list(struct db_conn *c, const struct user_filter *f,
                    struct user *out);

struct address {
  char id[40];
  char user_id[40];
  char first_name[404];
  char last_name[404];
  char line1[404];
  char line2[404];
  char city[404];
  char state[404];
  char postal_code[24];
  char country[3];
  char phone[40];
  char created_at[32];
  char updated_at[32];
};

/* Up to `max` addresses of user_id, oldest first; rows. */
int store_address_list(struct db_conn *c, const char *user_id,
                       struct address *out, int max);
/* 1 inserted; 0 when the user already has ADDRESSES_PER_USER. */
int store_address_insert(struct db_conn *c, const struct address *a,
                         struct address *out);
/* Only the owner's: 0 rows for another user's id. FOR UPDATE. */
int store_address_get(struct db_conn *c, const char *id, const char *user_id,
                      struct address *out);
int store_address_replace(struct db_conn *c, const struct address *a,
                          struct address *out);
int store_address_delete(struct db_conn *c, const char *id,
                         const char *user_id);

#endif
