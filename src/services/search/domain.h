/* domain.h - the search service's pure logic: how a shopper's query becomes
 * words, how a word is corrected against the catalog's vocabulary, how
 * synonyms widen it, and the PostgreSQL tsquery text it turns into. No I/O:
 * the vocabulary and the synonym groups are handed in (lexicon.c owns them),
 * so cmocka tests drive all of it (tests/unit/test_search_domain.c). */
#ifndef SHOPSPHERE_SEARCH_DOMAIN_H
#define SHOPSPHERE_SEARCH_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kit/arena.h"

#define SEARCH_MAX_TOKENS 12 /* words of a query kept (the rest ignored) */
#define SEARCH_MAX_TOKEN 48  /* bytes of one word kept */
#define SEARCH_MAX_QUERY 200 /* code points of q */
#define SEARCH_MAX_SYN_GROUPS 200
#define SEARCH_MAX_SYN_TERMS 10 /* terms of one group */
#define SEARCH_MAX_SYN_TERM 60  /* code points of one term */
#define SEARCH_MAX_TERM_WORDS 3 /* words of one synonym term */

struct search_tokens {
  size_t count;
  char words[SEARCH_MAX_TOKENS][SEARCH_MAX_TOKEN + 1];
};

/* Splits q into lowercase words: ASCII letters and digits, and any byte of a
 * multi-byte UTF-8 character (so "café" stays one word); everything else
 * separates. Words beyond SEARCH_MAX_TOKENS are dropped, long ones cut (at a
 * character boundary). q must be valid UTF-8. */
void search_tokenize(const char *q, struct search_tokens *out);

/* The normalized form of a query for the query log: its words joined by one
 * space (arena string; "" when it has none). */
char *search_normalize(struct arena *a, const struct search_tokens *t);

/* Optimal string alignment distance (insert, delete, substitute, swap two
 * neighbours) between a and b, or max + 1 as soon as it must exceed max. */
int search_edit_distance(const char *a, size_t an, const char *b, size_t bn,
                         int max);

/* How many typos a word of n bytes may carry: 0 below 5, 1 from 5, 2 from
 * 9 (DESIGN: "shrit" finds shirts). */
int search_typo_budget(size_t n);

/* The catalog's vocabulary as the domain sees it: words sorted bytewise,
 * with how many products use each. */
struct search_vocab {
  const char *const *words;
  const int64_t *counts;
  size_t count;
};

bool search_vocab_has(const struct search_vocab *v, const char *w);
/* true when some word of v starts with prefix (and is longer or equal). */
bool search_vocab_has_prefix(const struct search_vocab *v, const char *prefix);
/* The word of v closest to w within its typo budget (ties: the more common
 * word, then the first); NULL when none. Only plain ASCII words are
 * corrected. The pointer is borrowed from v. */
const char *search_vocab_correct(const struct search_vocab *v, const char *w);

/* One synonym group: its terms, each split into words. */
struct search_syn_group {
  size_t term_count;
  struct search_tokens terms[SEARCH_MAX_SYN_TERMS];
};

struct search_synonyms {
  const struct search_syn_group *groups;
  size_t count;
};

/* The query, ready for the backend. */
struct search_plan {
  bool empty;             /* no words: browse (popular first) */
  const char *head;       /* tsquery text of all words but the last ("" if
                             one word): stemmed, AND-ed */
  const char *last;       /* tsquery text of the last word: a prefix */
  const char *corrected;  /* the query with its typos fixed, or NULL */
  const char *normalized; /* words joined by a space (query log) */
};

/* Builds the plan of q: corrects each word not in vocab (a prefix of a
 * known word is left alone for the last one), widens words and phrases
 * found in a synonym group to the whole group, and writes the tsquery texts
 * (every operand quoted; words carry no quote or operator characters by
 * construction). vocab and syn may be empty. Strings come from a. Returns
 * false only when the arena runs out. */
bool search_plan_build(struct arena *a, const char *q,
                       const struct search_vocab *vocab,
                       const struct search_synonyms *syn,
                       struct search_plan *out);

/* Validates a synonym group as given by an admin: 2 to SEARCH_MAX_SYN_TERMS
 * terms, each 1 to SEARCH_MAX_SYN_TERM code points with at least one word
 * and at most SEARCH_MAX_TERM_WORDS words. On failure writes why (a
 * sentence) into why and returns false. */
bool search_syn_group_parse(const char *const *terms, size_t n,
                            struct search_syn_group *out, char *why,
                            size_t why_size);

#endif
