/* backend.h - the boundary between the search service's HTTP and event
 * code and the engine that holds the index.
 *
 * Three duties: index (documents in, documents out, the signals other
 * services send), query (a plan plus filters in, items + total + facets
 * out as JSON text), and suggest (the lists the in-process suggester and
 * the typo vocabulary are built from). PostgreSQL (store.c) is the embedded
 * default; an OpenSearch/Elasticsearch backend would be another instance of
 * struct search_backend chosen in search.c, and no handler would change.
 *
 * Index calls take the consumer's open transaction (`tx`): the PostgreSQL
 * backend writes in it, so the inbox row and the index change commit
 * together; a remote engine would ignore it and make its write idempotent
 * instead (documents carry the product's updated_at).
 */
#ifndef SHOPSPHERE_SEARCH_BACKEND_H
#define SHOPSPHERE_SEARCH_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "kit/arena.h"
#include "kit/db.h"

struct service;

enum search_sort {
  SORT_RELEVANCE = 0,
  SORT_PRICE_ASC,
  SORT_PRICE_DESC,
  SORT_NEWEST,
  SORT_RATING,
};

/* Price buckets of the price facet, in the currency's units: [0, 25),
 * [25, 50), [50, 100), [100, 200), [200, 500), [500, ...). */
#define SEARCH_PRICE_BOUNDS "{25,50,100,200,500}"
#define SEARCH_PRICE_BUCKETS 6
extern const char *const search_price_bounds[SEARCH_PRICE_BUCKETS + 1];

struct search_request {
  const char *head;        /* tsquery text (domain.h), NULL when browsing */
  const char *last;        /* NULL when browsing */
  const char *category_id; /* canonical UUID or NULL (includes descendants) */
  const char *brand, *color, *size;  /* exact (case-insensitive) or NULL */
  const char *min_price, *max_price; /* decimal strings or NULL */
  const char *currency;              /* only products priced in it, or NULL */
  int in_stock;                      /* -1 either, 0 sold out, 1 available */
  enum search_sort sort;
  int limit, offset;
};

struct search_result {
  int64_t total;
  const char *items; /* JSON array text: products as the catalog renders
                        them plus score, rating_average, rating_count */
  const char *brand, *color, *size, *category; /* JSON arrays of facets */
  int64_t price_counts[SEARCH_PRICE_BUCKETS];
};

/* One entry of the suggestion and vocabulary lists. */
struct search_lexicon_sink {
  void *arg;
  /* a word of the catalog and how many products use it */
  void (*word)(void *arg, const char *word, int64_t count);
  /* type "product" | "brand" | "category"; id: product or category id,
   * the brand itself; weight orders suggestions (higher first) */
  void (*entry)(void *arg, const char *type, const char *text, const char *id,
                int64_t weight);
  /* a synonym group as stored: a JSON array of strings */
  void (*synonyms)(void *arg, const char *terms_json);
};

struct search_backend {
  const char *name;

  /* --- index (inside the consumer's transaction) --- */
  /* doc: the product as the catalog renders it (JSON text); at: when it was
   * read. Only an active product is kept; any other status removes it. A
   * document older (updated_at) than the indexed one changes nothing. */
  int (*put)(struct db_conn *tx, const char *doc, const char *at);
  int (*remove)(struct db_conn *tx, const char *product_id,
                const char *updated_at);
  int (*set_stock)(struct db_conn *tx, const char *product_id, int64_t stock,
                   int64_t available, const char *at);
  int (*set_rating)(struct db_conn *tx, const char *product_id,
                    const char *average /* NULL: none */, int64_t count);
  int (*add_popularity)(struct db_conn *tx, const char *product_id,
                        int64_t units);
  int (*put_category)(struct db_conn *tx, const char *id, const char *name,
                      const char *parent_id, const char *path);
  /* true (1) when the category is known, 0 when not, < 0 on failure */
  int (*has_category)(struct db_conn *tx, const char *id);
  /* Recomputes what the documents of a category and of its descendants
   * take from the tree (category ids, names, text), after a rename or a
   * move stored by put_category. */
  int (*recategorize)(struct db_conn *tx, const char *id);
  /* Forgets a deleted category (it had no products nor subcategories). */
  int (*remove_category)(struct db_conn *tx, const char *id);

  /* --- rebuild: the whole catalog, without a gap in answers --- */
  /* Empties the staging area. */
  int (*bulk_begin)(struct db_pool *pool);
  /* Adds a page of products (JSON array text, as the catalog lists them). */
  int (*bulk_page)(struct db_pool *pool, const char *products);
  /* Makes the staged catalog the index in one step, keeping what events
   * changed since started_at (RFC 3339); *count: documents indexed. */
  int (*bulk_commit)(struct db_pool *pool, const char *started_at,
                     int64_t *count);

  /* --- query --- */
  /* Runs r; strings of out come from a. Returns a db_status (>= 0). */
  int (*query)(struct db_pool *pool, const struct search_request *r,
               struct arena *a, struct search_result *out);

  /* --- suggest: feeds the in-process lists --- */
  int (*lexicon)(struct db_pool *pool, const struct search_lexicon_sink *sink);
  /* A number that moves whenever the index changed (any process). */
  int (*generation)(struct db_pool *pool, int64_t *out);
};

extern const struct search_backend search_backend_pg;

#endif
