/* domain.h - the user service's rules: what a valid username, name, phone
 * and address are. Pure functions, unit-tested in tests/unit/test_identity.c.
 */
#ifndef SHOPSPHERE_USER_DOMAIN_H
#define SHOPSPHERE_USER_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>

#define USERNAME_MIN 3
#define USERNAME_MAX 30
#define NAME_MAX_CHARS 100
#define PHONE_MAX 32
#define ADDRESS_TEXT_MAX 100
#define POSTAL_CODE_MAX 20
#define ADDRESSES_PER_USER 20

/* 3-30 of [A-Za-z0-9._-], starting with a letter or digit, no two
 * punctuation marks in a row. */
bool username_valid(const char *s);

/* A person's name: 1-100 code points, no control characters, not only
 * spaces. s is valid UTF-8 (the JSON edge checked it). */
bool person_name_valid(const char *s);

/* A phone number: optional leading '+', then digits, spaces, '-', '(' or
 * ')', with 7 to 15 digits in all (E.164's limit). */
bool phone_valid(const char *s);

/* ISO 3166-1 alpha-2, upper case ("DE"). */
bool country_valid(const char *s);

/* 1-20 of letters, digits, spaces and '-'. */
bool postal_code_valid(const char *s);

/* One free-text address line (line1, city, ...): 1-100 code points, no
 * control characters. */
bool address_text_valid(const char *s);

struct address_fields {
  const char *first_name, *last_name, *line1, *line2, *city, *state,
      *postal_code, *country, *phone; /* NULL = absent */
};

/* Checks a whole address (required: line1, city, postal_code, country).
 * Returns true, or false with the offending field name in *field. */
bool address_valid(const struct address_fields *a, const char **field);

/* A username made from an e-mail's local part (for accounts created without
 * one): its allowed characters, at most 20, padded to USERNAME_MIN, then
 * suffix appended. out must hold 32 bytes. */
void username_from_email(const char *email, const char *suffix, char out[32]);

#endif
