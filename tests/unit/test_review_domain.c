/* test_review_domain.c - the review service's pure rules
 * (src/services/review/domain.c): the moderation state machine, the
 * automatic flags, the rating aggregate's average, author names, sorts and
 * cursors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "services/review/domain.h"

static void test_statuses(void **state) {
  (void)state;
  enum review_status s;
  assert_true(review_status_parse("pending", &s));
  assert_int_equal(s, REVIEW_PENDING);
  assert_true(review_status_parse("approved", &s));
  assert_int_equal(s, REVIEW_APPROVED);
  assert_true(review_status_parse("rejected", &s));
  assert_int_equal(s, REVIEW_REJECTED);
  assert_false(review_status_parse("Approved", &s));
  assert_false(review_status_parse("", &s));
  assert_false(review_status_parse(NULL, &s));
  assert_string_equal(review_status_name(REVIEW_REJECTED), "rejected");
}

static void test_transitions(void **state) {
  (void)state;
  enum review_status to = REVIEW_PENDING;
  assert_true(review_transition(REVIEW_PENDING, REVIEW_APPROVE, &to));
  assert_int_equal(to, REVIEW_APPROVED);
  assert_true(review_transition(REVIEW_PENDING, REVIEW_REJECT, &to));
  assert_int_equal(to, REVIEW_REJECTED);
  /* A rejected review may be reconsidered; an approved one taken down. */
  assert_true(review_transition(REVIEW_REJECTED, REVIEW_APPROVE, &to));
  assert_int_equal(to, REVIEW_APPROVED);
  assert_true(review_transition(REVIEW_APPROVED, REVIEW_REJECT, &to));
  assert_int_equal(to, REVIEW_REJECTED);
  /* Twice the same decision is a conflict. */
  assert_false(review_transition(REVIEW_APPROVED, REVIEW_APPROVE, &to));
  assert_false(review_transition(REVIEW_REJECTED, REVIEW_REJECT, &to));

  assert_int_equal(review_aggregate_delta(REVIEW_PENDING, REVIEW_APPROVED), 1);
  assert_int_equal(review_aggregate_delta(REVIEW_REJECTED, REVIEW_APPROVED), 1);
  assert_int_equal(review_aggregate_delta(REVIEW_APPROVED, REVIEW_REJECTED),
                   -1);
  assert_int_equal(review_aggregate_delta(REVIEW_APPROVED, REVIEW_PENDING), -1);
  assert_int_equal(review_aggregate_delta(REVIEW_PENDING, REVIEW_REJECTED), 0);
  assert_int_equal(review_aggregate_delta(REVIEW_APPROVED, REVIEW_APPROVED), 0);
}

static bool has_flag(const struct review_flags *f, const char *code) {
  for (int i = 0; i < f->count; i++)
    if (strcmp(f->items[i].code, code) == 0) return true;
  return false;
}

static void test_flags(void **state) {
  (void)state;
  struct review_flags f;
  review_flags_compute("Lovely kettle", "Boils fast and pours well.", false,
                       &f);
  assert_int_equal(f.count, 0);

  /* Profanity: whole words, any case; not inside other words. */
  assert_string_equal(review_find_profanity("This is SHIT."), "shit");
  assert_null(review_find_profanity("Scunthorpe class assessment"));
  assert_null(review_find_profanity("shitake mushrooms"));
  review_flags_compute("Damn good", "works", false, &f);
  assert_int_equal(f.count, 1);
  assert_true(has_flag(&f, "profanity"));
  assert_non_null(strstr(f.items[0].reason, "damn"));

  /* Links. */
  assert_true(review_has_link("see https://example.com"));
  assert_true(review_has_link("WWW.EXAMPLE.COM"));
  assert_true(review_has_link("http://x"));
  assert_false(review_has_link("www dot nothing"));
  review_flags_compute("ok", "buy at www.cheap.example", false, &f);
  assert_true(has_flag(&f, "link"));

  /* Shouting: mostly capitals above a length. */
  int pct = 0;
  assert_true(review_is_shouting("THIS IS THE WORST KETTLE EVER", &pct));
  assert_true(pct >= 70);
  assert_false(review_is_shouting("OK GOOD", NULL)); /* too short */
  assert_false(review_is_shouting("A Fine Kettle For The Price", NULL));
  review_flags_compute("Terrible", "IT BROKE AFTER TWO DAYS DO NOT BUY", false,
                       &f);
  assert_true(has_flag(&f, "shouting"));
  /* A title in capitals over a calm body is not shouting. */
  review_flags_compute("GREAT", "It boils water quickly and quietly.", false,
                       &f);
  assert_false(has_flag(&f, "shouting"));

  /* Duplicates are the store's finding, reported with a reason. */
  review_flags_compute("Nice", "A perfectly ordinary review text.", true, &f);
  assert_int_equal(f.count, 1);
  assert_true(has_flag(&f, "duplicate"));
  assert_true(strlen(f.items[0].reason) > 0);

  /* Everything at once. */
  review_flags_compute("DAMN", "FUCKING GARBAGE SEE WWW.X.COM NOW", true, &f);
  assert_int_equal(f.count, 4);
}

static void test_normalize(void **state) {
  (void)state;
  char out[128];
  review_normalize("  Great   kettle!!  Boils FAST.  ", out);
  assert_string_equal(out, "great kettle boils fast");
  review_normalize("great kettle, boils fast", out);
  assert_string_equal(out, "great kettle boils fast");
  review_normalize("Très bien", out); /* UTF-8 kept as is */
  assert_string_equal(out, "très bien");
  review_normalize("!!!", out);
  assert_string_equal(out, "");
}

static void test_auto_approve(void **state) {
  (void)state;
  struct review_flags clean = {0}, flagged = {0};
  review_flags_compute("t", "see www.x.com", false, &flagged);
  assert_true(review_auto_approve(true, true, &clean));
  assert_false(review_auto_approve(false, true, &clean)); /* setting off */
  assert_false(review_auto_approve(true, false, &clean)); /* not a buyer */
  assert_false(review_auto_approve(true, true, &flagged));
}

static void test_average(void **state) {
  (void)state;
  char avg[8];
  struct rating_aggregate none = {{0, 0, 0, 0, 0}};
  assert_false(rating_average(&none, avg));
  assert_string_equal(avg, "");
  assert_int_equal(rating_count(&none), 0);

  struct rating_aggregate one_five = {{0, 0, 0, 0, 1}};
  assert_true(rating_average(&one_five, avg));
  assert_string_equal(avg, "5.0");

  /* 4 and 5: 4.5 exactly. */
  struct rating_aggregate half = {{0, 0, 0, 1, 1}};
  rating_average(&half, avg);
  assert_string_equal(avg, "4.5");

  /* 3 + 5 + 5 = 13 / 3 = 4.333 -> 4.3 */
  struct rating_aggregate thirds = {{0, 0, 1, 0, 2}};
  rating_average(&thirds, avg);
  assert_string_equal(avg, "4.3");

  /* 4.25 rounds half-up to 4.3; 4.35 to 4.4; 1.05 to 1.1. */
  struct rating_aggregate q = {{0, 0, 0, 3, 1}}; /* 17 / 4 = 4.25 */
  rating_average(&q, avg);
  assert_string_equal(avg, "4.3");
  struct rating_aggregate r = {{0, 0, 1, 11, 8}}; /* 87 / 20 = 4.35 */
  rating_average(&r, avg);
  assert_string_equal(avg, "4.4");
  struct rating_aggregate s = {{19, 1, 0, 0, 0}}; /* 21 / 20 = 1.05 */
  rating_average(&s, avg);
  assert_string_equal(avg, "1.1");
  /* 2/3 of the way: 1,1,2 = 4/3 = 1.333 -> 1.3; 1,2,2 = 5/3 -> 1.7 */
  struct rating_aggregate t = {{1, 2, 0, 0, 0}};
  rating_average(&t, avg);
  assert_string_equal(avg, "1.7");
  assert_int_equal(rating_count(&t), 3);

  /* Big counts stay exact. */
  struct rating_aggregate big = {{0, 0, 0, 1000000000, 1000000000}};
  rating_average(&big, avg);
  assert_string_equal(avg, "4.5");
}

static void test_author_name(void **state) {
  (void)state;
  char out[64];
  review_author_name("Ada", "Lovelace", "ada", out, sizeof out);
  assert_string_equal(out, "Ada L.");
  review_author_name("Ada", "lovelace", "ada", out, sizeof out);
  assert_string_equal(out, "Ada L.");
  review_author_name("Zoë", "Émile", NULL, out, sizeof out);
  assert_string_equal(out, "Zoë É.");
  review_author_name("Ada", NULL, "ada", out, sizeof out);
  assert_string_equal(out, "Ada");
  review_author_name("", "", "ada99", out, sizeof out);
  assert_string_equal(out, "ada99");
  review_author_name(NULL, NULL, NULL, out, sizeof out);
  assert_string_equal(out, "Customer");
  /* Cut short, never in the middle of a character. */
  char small[6];
  review_author_name("Zoëëë", NULL, NULL, small, sizeof small);
  assert_string_equal(small, "Zoë"); /* "Zoë" + half of "ë" would be 5 */
  review_author_name("ab€", NULL, NULL, small, sizeof small);
  assert_string_equal(small, "ab€");
}

static void test_sorts_and_cursors(void **state) {
  (void)state;
  enum review_sort s;
  assert_true(review_sort_parse("newest", &s));
  assert_int_equal(s, SORT_NEWEST);
  assert_true(review_sort_parse("helpful", &s));
  assert_true(review_sort_parse("rating_desc", &s));
  assert_true(review_sort_parse("rating_asc", &s));
  assert_int_equal(s, SORT_RATING_ASC);
  assert_false(review_sort_parse("oldest", &s));
  assert_false(review_sort_parse("", &s));

  char c[REVIEW_CURSOR_MAX], id[37];
  int64_t key = -1;
  review_cursor_format(42, "0193a4e0-0f4c-7d2a-9b1e-5c3f1a2b4c5d", c);
  assert_string_equal(c, "42.0193a4e0-0f4c-7d2a-9b1e-5c3f1a2b4c5d");
  assert_true(review_cursor_parse(c, &key, id));
  assert_int_equal(key, 42);
  assert_string_equal(id, "0193a4e0-0f4c-7d2a-9b1e-5c3f1a2b4c5d");
  assert_false(
      review_cursor_parse("x.0193a4e0-0f4c-7d2a-9b1e-5c3f1a2b4c5d", &key, id));
  assert_false(
      review_cursor_parse("-1.0193a4e0-0f4c-7d2a-9b1e-5c3f1a2b4c5d", &key, id));
  assert_false(review_cursor_parse(
      "99999999999.0193a4e0-0f4c-7d2a-9b1e-5c3f1a2b4c5d", &key, id));
  assert_false(review_cursor_parse("1.not-a-uuid", &key, id));
  assert_false(review_cursor_parse("1.0193a4e0' OR 1=1 --", &key, id));
  assert_false(review_cursor_parse("", &key, id));
  assert_false(review_cursor_parse(NULL, &key, id));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_statuses),
      cmocka_unit_test(test_transitions),
      cmocka_unit_test(test_flags),
      cmocka_unit_test(test_normalize),
      cmocka_unit_test(test_auto_approve),
      cmocka_unit_test(test_average),
      cmocka_unit_test(test_author_name),
      cmocka_unit_test(test_sorts_and_cursors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
