/* test_search_domain.c - the search service's query logic
 * (src/services/search/domain.c): words, edit distance, typo budgets,
 * corrections against a vocabulary, synonym widening and tsquery text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "services/search/domain.h"

static const char *const words[] = {"blue",  "headphones", "jacket",
                                    "shirt", "shirts",     "skillet",
                                    "sofa",  "waterproof", "wireless"};
static const int64_t counts[] = {5, 3, 4, 9, 2, 1, 2, 1, 3};
static const struct search_vocab vocab = {words, counts, 9};

static void test_tokenize(void **state) {
  (void)state;
  struct search_tokens t;
  search_tokenize("  Wireless-HEADPHONES, café!! 42 ", &t);
  assert_int_equal(t.count, 4);
  assert_string_equal(t.words[0], "wireless");
  assert_string_equal(t.words[1], "headphones");
  assert_string_equal(t.words[2], "caf\xc3\xa9");
  assert_string_equal(t.words[3], "42");
  search_tokenize("' OR 1=1 -- & | ! ( ) :* <->", &t);
  assert_int_equal(t.count, 3); /* OR 1 1: operators never survive */
  for (size_t i = 0; i < t.count; i++)
    assert_null(strpbrk(t.words[i], "'&|!():*<>-\\"));
  search_tokenize("", &t);
  assert_int_equal(t.count, 0);
  search_tokenize("a b c d e f g h i j k l m n o", &t);
  assert_int_equal(t.count, SEARCH_MAX_TOKENS);
  char long_word[200];
  memset(long_word, 'x', sizeof long_word - 1);
  long_word[sizeof long_word - 1] = '\0';
  search_tokenize(long_word, &t);
  assert_int_equal(strlen(t.words[0]), SEARCH_MAX_TOKEN);
}

static void test_edit_distance(void **state) {
  (void)state;
  assert_int_equal(search_edit_distance("shirt", 5, "shirt", 5, 2), 0);
  assert_int_equal(search_edit_distance("shrit", 5, "shirt", 5, 2),
                   1); /* swap */
  assert_int_equal(search_edit_distance("shirt", 5, "shirts", 6, 2), 1);
  assert_int_equal(search_edit_distance("skilet", 6, "skillet", 7, 2), 1);
  assert_int_equal(search_edit_distance("kitten", 6, "sitting", 7, 5), 3);
  assert_int_equal(search_edit_distance("kitten", 6, "sitting", 7, 1), 2);
  assert_int_equal(search_edit_distance("", 0, "abc", 3, 5), 3);
  assert_int_equal(search_edit_distance("abcdef", 6, "a", 1, 2), 3);
}

static void test_typo_budget(void **state) {
  (void)state;
  assert_int_equal(search_typo_budget(4), 0);
  assert_int_equal(search_typo_budget(5), 1);
  assert_int_equal(search_typo_budget(8), 1);
  assert_int_equal(search_typo_budget(9), 2);
}

static void test_vocab(void **state) {
  (void)state;
  assert_true(search_vocab_has(&vocab, "shirt"));
  assert_false(search_vocab_has(&vocab, "shir"));
  assert_true(search_vocab_has_prefix(&vocab, "head"));
  assert_false(search_vocab_has_prefix(&vocab, "zzz"));
  assert_string_equal(search_vocab_correct(&vocab, "shrit"), "shirt");
  /* ties go to the more common word: "shirts" is one from both */
  assert_string_equal(search_vocab_correct(&vocab, "shirtz"), "shirt");
  assert_string_equal(search_vocab_correct(&vocab, "hedphones"), "headphones");
  assert_string_equal(search_vocab_correct(&vocab, "watrproof"), "waterproof");
  assert_null(search_vocab_correct(&vocab, "blu"));    /* too short */
  assert_null(search_vocab_correct(&vocab, "jckt"));   /* too short */
  assert_null(search_vocab_correct(&vocab, "jxxkxt")); /* too far */
  assert_null(search_vocab_correct(&vocab, "caf\xc3\xa9s"));
}

static void test_plan(void **state) {
  (void)state;
  struct arena a;
  arena_init(&a, 4096);
  struct search_synonyms none = {NULL, 0};
  struct search_plan p;
  assert_true(search_plan_build(&a, "  !! ", &vocab, &none, &p));
  assert_true(p.empty);
  assert_true(search_plan_build(&a, "Blue shrit", &vocab, &none, &p));
  assert_false(p.empty);
  assert_string_equal(p.head, "'blue'");
  assert_string_equal(p.last, "'shirt':*");
  assert_string_equal(p.corrected, "blue shirt");
  assert_string_equal(p.normalized, "blue shrit");
  /* a prefix of a known word is left alone */
  assert_true(search_plan_build(&a, "wireless headph", &vocab, &none, &p));
  assert_null(p.corrected);
  assert_string_equal(p.last, "'headph':*");

  const char *g1[] = {"tee", "T-Shirt"};
  const char *g2[] = {"couch", "sofa"};
  struct search_syn_group groups[2];
  char why[128];
  assert_true(search_syn_group_parse(g1, 2, &groups[0], why, sizeof why));
  assert_true(search_syn_group_parse(g2, 2, &groups[1], why, sizeof why));
  struct search_synonyms syn = {groups, 2};
  assert_true(search_plan_build(&a, "couch blue", &vocab, &syn, &p));
  assert_string_equal(p.head, "('couch' | 'sofa')");
  assert_string_equal(p.last, "'blue':*");
  assert_true(search_plan_build(&a, "blue t-shirt", &vocab, &syn, &p));
  assert_string_equal(p.head, "'blue'");
  assert_string_equal(p.last,
                      "('tee' | ('t' <-> 'shirt') | ('t' <-> 'shirt':*))");
  arena_free(&a);
}

static void test_synonym_groups(void **state) {
  (void)state;
  struct search_syn_group g;
  char why[128];
  const char *one[] = {"solo"};
  assert_false(search_syn_group_parse(one, 1, &g, why, sizeof why));
  const char *empty[] = {"a", ""};
  assert_false(search_syn_group_parse(empty, 2, &g, why, sizeof why));
  const char *punct[] = {"a", "!!"};
  assert_false(search_syn_group_parse(punct, 2, &g, why, sizeof why));
  const char *four[] = {"a", "b c d e"};
  assert_false(search_syn_group_parse(four, 2, &g, why, sizeof why));
  const char *ok[] = {"laptop", "notebook computer"};
  assert_true(search_syn_group_parse(ok, 2, &g, why, sizeof why));
  assert_int_equal(g.terms[1].count, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tokenize),    cmocka_unit_test(test_edit_distance),
      cmocka_unit_test(test_typo_budget), cmocka_unit_test(test_vocab),
      cmocka_unit_test(test_plan),        cmocka_unit_test(test_synonym_groups),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
