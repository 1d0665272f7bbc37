/* internal.h - what the search service's files share: its state, the
 * handlers and event consumers the module descriptor lists, the reindex
 * job and the query log. */
#ifndef SHOPSPHERE_SEARCH_INTERNAL_H
#define SHOPSPHERE_SEARCH_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "kit/bus.h"
#include "kit/client.h"
#include "kit/http.h"
#include "kit/service.h"
#include "kit/worker.h"
#include "services/search/backend.h"
#include "services/search/lexicon.h"

/* Queries remembered between two flushes of the query log. */
#define QUERY_LOG_SLOTS 2048

struct query_log_slot {
  char *query; /* malloc'd; NULL: free slot */
  int64_t searches;
  int64_t zero_results;
  int64_t last_ms;
};

/* Answers of /search kept for identical query strings until the index or
 * the lexicon changes (answer_generation), at most ANSWER_TTL_MS. When only
 * the TTL ran out (same generation: the answer is still right), one request
 * recomputes it and the others keep getting the kept answer meanwhile, for
 * up to ANSWER_REFRESH_MS: without that, every connection asking a popular
 * query missed at once, and on a 100,000-product catalog each of them ran
 * the SQL (p99 of the cached row = the SQL's latency). */
#define ANSWER_SLOTS 512
#define ANSWER_TTL_MS 10000
#define ANSWER_REFRESH_MS 5000

struct answer_slot {
  char *key;  /* the raw query string; malloc'd, NULL: empty slot */
  char *body; /* the JSON answer; malloc'd */
  size_t len;
  char *normalized; /* for the query log on a hit; NULL: nothing to log */
  bool zero;
  int64_t generation;
  int64_t at_ms;
  int64_t refreshing_ms; /* when a request began recomputing it; 0: none */
};

struct search_state {
  struct service *svc;
  const struct search_backend *backend;

  pthread_rwlock_t lex_lock; /* guards lex (the pointer, not the snapshot) */
  struct lexicon *lex;       /* NULL until the first build */
  atomic_llong local_generation; /* bumped by this process's text changes */
  int64_t built_local;           /* local_generation the lexicon was built at */
  /* Bumped when only a suggestion's weight moved (units sold): the
   * lexicon follows within WEIGHT_REFRESH_MS rather than at once, since
   * rebuilding it reads the whole index and checkouts move weights all the
   * time. */
  atomic_llong weight_generation;
  int64_t built_weight; /* weight_generation the lexicon was built at */
  int64_t built_db;     /* the backend's generation it was built at */
  int64_t last_db_check_ms;
  int64_t last_build_ms;
  int64_t build_cost_ms; /* how long the last build took */
  int64_t last_flush_ms;
  struct worker refresher; /* lexicon rebuilds and query log flushes */

  pthread_mutex_t job_lock;
  char job_id[37]; /* the job the reindexer runs next or now */
  bool job_pending;
  struct worker reindexer;

  atomic_llong answer_generation; /* bumped by every index or lexicon change */
  pthread_mutex_t answer_lock;
  struct answer_slot answers[ANSWER_SLOTS];

  pthread_mutex_t log_lock;
  struct query_log_slot log[QUERY_LOG_SLOTS];
  size_t log_used;
};

static inline struct search_state *search_state_of(struct service *svc) {
  return (struct search_state *)svc->state;
}

/* handlers_search.c */
void search_handle_search(struct http_request *req, struct http_response *res);
void search_handle_suggest(struct http_request *req, struct http_response *res);

/* handlers_admin.c */
void search_handle_synonyms_get(struct http_request *req,
                                struct http_response *res);
void search_handle_synonyms_put(struct http_request *req,
                                struct http_response *res);
void search_handle_reindex(struct http_request *req, struct http_response *res);
void search_handle_reindex_get(struct http_request *req,
                               struct http_response *res);
void search_handle_queries(struct http_request *req, struct http_response *res);

/* events.c */
int search_on_product(struct service *svc, struct db_conn *conn,
                      const struct bus_event *ev);
int search_on_inventory(struct service *svc, struct db_conn *conn,
                        const struct bus_event *ev);
int search_on_review(struct service *svc, struct db_conn *conn,
                     const struct bus_event *ev);
int search_on_order_confirmed(struct service *svc, struct db_conn *conn,
                              const struct bus_event *ev);
/* category.updated (a rename or move: its documents are recomputed) and
 * category.deleted. */
int search_on_category(struct service *svc, struct db_conn *conn,
                       const struct bus_event *ev);
/* Reads the catalog's categories (GET /categories of the product service)
 * into the index inside the open transaction tx. Returns a db_status;
 * DB_UNAVAILABLE when the product service did not answer. */
int search_load_categories(const struct search_backend *b, struct db_conn *tx,
                           struct client *client);

/* search.c */
/* Forgets every cached answer (the index or the lexicon changed). */
void search_answers_invalidate(struct search_state *st);
/* Asks the reindexer for a job (its id into id[37]); when one is already
 * running, id is that job's and false is returned; when the job could not
 * be recorded, id is "" and false is returned. */
bool search_request_reindex(struct search_state *st, char id[37]);
/* Counts one search of the normalized query (not "") in the query log. */
void search_log_query(struct search_state *st, const char *query,
                      bool zero_results);

#endif
