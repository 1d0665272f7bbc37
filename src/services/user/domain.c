/* domain.c - the user service's validation rules (see domain.h). */
#include "services/user/domain.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool is_punct_allowed(char c) {
  return c == '.' || c == '_' || c == '-';
}

bool username_valid(const char *s) {
  size_t n = strlen(s);
  if (n < USERNAME_MIN || n > USERNAME_MAX) return false;
  if (!isalnum((unsigned char)s[0])) return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x80) return false;
    if (isalnum(c)) continue;
    if (!is_punct_allowed((char)c)) return false;
    if (i > 0 && is_punct_allowed(s[i - 1])) return false;
  }
  return true;
}

/* Code points of valid UTF-8, or SIZE_MAX when a control character (C0,
 * DEL, or C1 as U+0080..U+009F) occurs. */
static size_t text_chars(const char *s) {
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p < 0x20 || *p == 0x7F) return (size_t)-1;
    if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) return (size_t)-1;
    if ((*p & 0xC0) != 0x80) n++;
  }
  return n;
}

static bool not_blank(const char *s) {
  for (; *s; s++)
    if (*s != ' ') return true;
  return false;
}

bool person_name_valid(const char *s) {
  size_t n = text_chars(s);
  return n >= 1 && n <= NAME_MAX_CHARS && not_blank(s);
}

bool address_text_valid(const char *s) {
  size_t n = text_chars(s);
  return n >= 1 && n <= ADDRESS_TEXT_MAX && not_blank(s);
}

bool phone_valid(const char *s) {
  size_t n = strlen(s), digits = 0;
  if (n == 0 || n > PHONE_MAX) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c >= '0' && c <= '9')
      digits++;
    else if (c == '+' && i == 0)
      continue;
    else if (c != ' ' && c != '-' && c != '(' && c != ')')
      return false;
  }
  return digits >= 7 && digits <= 15;
}

/* Every officially assigned ISO 3166-1 alpha-2 code, concatenated. */
static const char iso3166[] =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBY"
    "BZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFK"
    "FMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIR"
    "ISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMK"
    "MLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPM"
    "PNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTF"
    "TGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

bool country_valid(const char *s) {
  if (strlen(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z')
    return false;
  for (size_t i = 0; i + 1 < sizeof iso3166; i += 2)
    if (iso3166[i] == s[0] && iso3166[i + 1] == s[1]) return true;
  return false;
}

bool postal_code_valid(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > POSTAL_CODE_MAX || !not_blank(s)) return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!isalnum(c) && c != ' ' && c != '-') return false;
  }
  return true;
}

bool address_valid(const struct address_fields *a, const char **field) {
  struct {
    const char *name;
    const char *value;
    bool required;
    bool (*valid)(const char *);
  } checks[] = {
      {"first_name", a->first_name, false, person_name_valid},
      {"last_name", a->last_name, false, person_name_valid},
      {"line1", a->line1, true, address_text_valid},
      {"line2", a->line2, false, address_text_valid},
      {"city", a->city, true, address_text_valid},
      {"state", a->state, false, address_text_valid},
      {"postal_code", a->postal_code, true, postal_code_valid},
      {"country", a->country, true, country_valid},
      {"phone", a->phone, false, phone_valid},
  };
  for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
    if (checks[i].value == NULL) {
      if (checks[i].required) {
        *field = checks[i].name;
        return false;
      }
      continue;
    }
    if (!checks[i].valid(checks[i].value)) {
      *field = checks[i].name;
      return false;
    }
  }
  return true;
}

void username_from_email(const char *email, const char *suffix, char out[32]) {
  size_t n = 0;
  for (const char *p = email; *p && *p != '@' && n < 20; p++) {
    unsigned char c = (unsigned char)*p;
    if (isalnum(c)) out[n++] = (char)tolower(c);
  }
  while (n < USERNAME_MIN)
    out[n++] = 'u';
  out[n] = '\0';
  snprintf(out + n, 32 - n, "%s", suffix);
}
