/* domain.c - the review service's pure rules (see domain.h). */
#include "services/review/domain.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/uuid.h"

static const char *const status_names[] = {"pending", "approved", "rejected"};

const char *review_status_name(enum review_status s) {
  if ((unsigned)s > REVIEW_REJECTED) return "pending";
  return status_names[s];
}

bool review_status_parse(const char *s, enum review_status *out) {
  for (int i = 0; s != NULL && i <= REVIEW_REJECTED; i++) {
    if (strcmp(s, status_names[i]) == 0) {
      *out = (enum review_status)i;
      return true;
    }
  }
  return false;
}

bool review_transition(enum review_status from, enum review_action action,
                       enum review_status *to) {
  enum review_status next =
      action == REVIEW_APPROVE ? REVIEW_APPROVED : REVIEW_REJECTED;
  if (from == next) return false;
  *to = next;
  return true;
}

int review_aggregate_delta(enum review_status from, enum review_status to) {
  if (from != REVIEW_APPROVED && to == REVIEW_APPROVED) return 1;
  if (from == REVIEW_APPROVED && to != REVIEW_APPROVED) return -1;
  return 0;
}

/* --- flags ------------------------------------------------------------------
 * A short list on purpose: whole words only, so "class" or "Scunthorpe" are
 * not caught; the moderator decides, the flag only points. */
static const char *const profanity[] = {
    "arse",     "arsehole", "asshole",      "bastard", "bitch", "bollocks",
    "bullshit", "crap",     "cunt",         "damn",    "dick",  "fuck",
    "fucked",   "fucking",  "motherfucker", "piss",    "shit",  "shitty",
    "twat",     "wanker",   NULL,
};

const char *review_find_profanity(const char *text) {
  const char *p = text;
  while (p != NULL && *p != '\0') {
    while (*p != '\0' && !isalpha((unsigned char)*p))
      p++;
    const char *start = p;
    while (isalpha((unsigned char)*p))
      p++;
    size_t n = (size_t)(p - start);
    if (n == 0 || n > 16) continue;
    char word[17];
    for (size_t i = 0; i < n; i++)
      word[i] = (char)tolower((unsigned char)start[i]);
    word[n] = '\0';
    for (int i = 0; profanity[i] != NULL; i++)
      if (strcmp(word, profanity[i]) == 0) return profanity[i];
  }
  return NULL;
}

bool review_has_link(const char *text) {
  static const char *const marks[] = {"http://", "https://", "www.", NULL};
  for (const char *p = text; p != NULL && *p != '\0'; p++)
    for (int i = 0; marks[i] != NULL; i++)
      if (strncasecmp(p, marks[i], strlen(marks[i])) == 0) return true;
  return false;
}

static void count_letters(const char *text, long *letters, long *upper) {
  for (const char *p = text; p != NULL && *p != '\0'; p++) {
    if (isalpha((unsigned char)*p)) {
      (*letters)++;
      if (isupper((unsigned char)*p)) (*upper)++;
    }
  }
}

static bool shouting(long letters, long upper, int *percent) {
  int share = letters > 0 ? (int)(upper * 100 / letters) : 0;
  if (percent != NULL) *percent = share;
  return letters >= REVIEW_SHOUT_MIN_LETTERS && share >= REVIEW_SHOUT_PERCENT;
}

bool review_is_shouting(const char *text, int *percent) {
  long letters = 0, upper = 0;
  count_letters(text, &letters, &upper);
  return shouting(letters, upper, percent);
}

void review_normalize(const char *body, char *out) {
  size_t n = 0;
  bool gap = false;
  for (const unsigned char *p = (const unsigned char *)body; *p != '\0'; p++) {
    if (*p < 0x80 && !isalnum(*p)) {
      gap = n > 0;
      continue;
    }
    if (gap) out[n++] = ' ';
    gap = false;
    out[n++] = (char)(*p < 0x80 ? tolower(*p) : *p);
  }
  out[n] = '\0';
}

static void add_flag(struct review_flags *f, const char *code,
                     const char *reason) {
  if (f->count >= REVIEW_MAX_FLAGS) return;
  f->items[f->count].code = code;
  snprintf(f->items[f->count].reason, sizeof f->items[f->count].reason, "%s",
           reason);
  f->count++;
}

void review_flags_compute(const char *title, const char *body, bool duplicate,
                          struct review_flags *out) {
  memset(out, 0, sizeof *out);
  char reason[128];
  const char *word = review_find_profanity(title);
  if (word == NULL) word = review_find_profanity(body);
  if (word != NULL) {
    snprintf(reason, sizeof reason,
             "contains \"%s\", a word on the profanity list", word);
    add_flag(out, "profanity", reason);
  }
  if (review_has_link(title) || review_has_link(body))
    add_flag(out, "link", "contains a link (http://, https:// or www.)");
  /* Title and body together: a capitalised title over a calm body is
   * not shouting, a body in capitals is. */
  long letters = 0, upper = 0;
  count_letters(title, &letters, &upper);
  count_letters(body, &letters, &upper);
  int pct = 0;
  if (shouting(letters, upper, &pct)) {
    snprintf(reason, sizeof reason,
             "written mostly in capital letters (%d%% of its letters)", pct);
    add_flag(out, "shouting", reason);
  }
  if (duplicate)
    add_flag(out, "duplicate",
             "the same text as another review of this product or by this "
             "author");
}

bool review_auto_approve(bool setting_on, bool verified,
                         const struct review_flags *flags) {
  return setting_on && verified && flags->count == 0;
}

/* --- the aggregate -------------------------------------------------------- */

int64_t rating_count(const struct rating_aggregate *agg) {
  int64_t n = 0;
  for (int i = 0; i < 5; i++)
    n += agg->counts[i];
  return n;
}

bool rating_average(const struct rating_aggregate *agg, char out[8]) {
  int64_t n = 0, sum = 0;
  for (int i = 0; i < 5; i++) {
    n += agg->counts[i];
    sum += agg->counts[i] * (i + 1);
  }
  if (n <= 0) {
    out[0] = '\0';
    return false;
  }
  /* tenths = round_half_up(10 * sum / n) = floor((20 * sum + n) / (2 * n)) */
  int64_t tenths = (20 * sum + n) / (2 * n);
  snprintf(out, 8, "%d.%d", (int)(tenths / 10), (int)(tenths % 10));
  return true;
}

/* --- authors -------------------------------------------------------------- */

/* The first UTF-8 character of s into out (at most 4 bytes + NUL). */
static void first_char(const char *s, char out[5]) {
  size_t n = 1;
  unsigned char c = (unsigned char)s[0];
  if (c >= 0xF0)
    n = 4;
  else if (c >= 0xE0)
    n = 3;
  else if (c >= 0xC0)
    n = 2;
  size_t i = 0;
  for (; i < n && s[i] != '\0'; i++)
    out[i] = s[i];
  out[i] = '\0';
  if (i == 1) out[0] = (char)toupper((unsigned char)out[0]);
}

/* Drops an incomplete UTF-8 sequence that truncation left at the end. */
static void utf8_trim_tail(char *s) {
  size_t n = strlen(s);
  size_t i = n;
  while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
    i--;
  if (i == 0) return;
  unsigned char lead = (unsigned char)s[i - 1];
  size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  if (i - 1 + want > n) s[i - 1] = '\0';
}

void review_author_name(const char *first, const char *last,
                        const char *username, char *out, size_t size) {
  if (first != NULL && first[0] != '\0') {
    if (last != NULL && last[0] != '\0') {
      char initial[5];
      first_char(last, initial);
      snprintf(out, size, "%s %s.", first, initial);
    } else {
      snprintf(out, size, "%s", first);
    }
  } else if (username != NULL && username[0] != '\0') {
    snprintf(out, size, "%s", username);
  } else {
    snprintf(out, size, "Customer");
  }
  utf8_trim_tail(out);
}

/* --- sorts and cursors ---------------------------------------------------- */

bool review_sort_parse(const char *s, enum review_sort *out) {
  static const char *const names[] = {"newest", "helpful", "rating_desc",
                                      "rating_asc"};
  for (int i = 0; s != NULL && i < 4; i++) {
    if (strcmp(s, names[i]) == 0) {
      *out = (enum review_sort)i;
      return true;
    }
  }
  return false;
}

void review_cursor_format(int64_t key, const char *id,
                          char out[REVIEW_CURSOR_MAX]) {
  snprintf(out, REVIEW_CURSOR_MAX, "%lld.%s", (long long)key, id);
}

bool review_cursor_parse(const char *s, int64_t *key, char id[37]) {
  if (s == NULL) return false;
  const char *dot = strchr(s, '.');
  if (dot == NULL || dot == s || dot - s > 10) return false;
  int64_t v = 0;
  for (const char *p = s; p < dot; p++) {
    if (!isdigit((unsigned char)*p)) return false;
    v = v * 10 + (*p - '0');
  }
  if (v > INT32_MAX) return false;
  if (!uuid_normalize(dot + 1, id)) return false;
  *key = v;
  return true;
}
