/* lexicon.h - what the search service keeps in memory: the catalog's
 * vocabulary (typo correction), the synonym groups, and the suggestion
 * lists (products, brands, categories) behind /search/suggest, which must
 * answer on every keystroke without a database round trip.
 *
 * A lexicon is an immutable snapshot built from the backend; the service
 * rebuilds it when the index generation moves and swaps it in under a
 * read-write lock (search.c), so readers never see a half-built one. */
#ifndef SHOPSPHERE_SEARCH_LEXICON_H
#define SHOPSPHERE_SEARCH_LEXICON_H

#include <stddef.h>
#include <stdint.h>

#include "kit/db.h"
#include "services/search/backend.h"
#include "services/search/domain.h"

struct lexicon;

/* Reads every list from the backend. NULL when it could not (logged).
 * Free with lexicon_free. */
struct lexicon *lexicon_build(const struct search_backend *b,
                              struct db_pool *pool);
void lexicon_free(struct lexicon *lx);

/* Views into lx (borrowed, valid while lx lives). */
void lexicon_vocab(const struct lexicon *lx, struct search_vocab *out);
void lexicon_synonyms(const struct lexicon *lx, struct search_synonyms *out);
size_t lexicon_product_count(const struct lexicon *lx);

struct suggestion {
  const char *text;
  const char *type; /* "product" | "brand" | "category" */
  const char *id;
};

#define SUGGEST_MAX 10

/* Entries one of whose words starts with q (case-insensitive; q's spaces
 * match the text's): up to 3 categories and 3 brands, then products, each
 * kind most popular first. Returns how many were written to out. */
size_t lexicon_suggest(const struct lexicon *lx, const char *q,
                       struct suggestion out[SUGGEST_MAX]);

#endif
