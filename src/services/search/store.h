/* store.h - the search service's PostgreSQL: the index backend
 * (search_backend_pg, backend.h) and the service's own bookkeeping, which
 * stays in PostgreSQL whatever engine holds the index: synonym groups, the
 * query log and reindex jobs. Every function returns a db_status. */
#ifndef SHOPSPHERE_SEARCH_STORE_H
#define SHOPSPHERE_SEARCH_STORE_H

#include <stdint.h>

#include "kit/arena.h"
#include "kit/db.h"

#define SEARCH_STATEMENT_COUNT 33
extern const struct db_statement search_statements[];

/* The synonym groups as a JSON array of arrays of strings (arena text). */
int sstore_synonyms_get(struct db_pool *pool, struct arena *a,
                        const char **json);
/* Replaces every group with `groups` (JSON array of arrays of strings,
 * already validated) in one transaction. */
int sstore_synonyms_put(struct db_pool *pool, const char *groups);

/* Adds counts to the query log. rows: JSON array of {q, n, z, at} (query,
 * searches, searches with no result, last time, RFC 3339). */
int sstore_queries_add(struct db_pool *pool, const char *rows);
/* The report: kind "top" or "zero_results", days [from, to) as YYYY-MM-DD,
 * at most limit rows; *json: the items array (arena text). */
int sstore_queries_report(struct db_pool *pool, struct arena *a,
                          const char *kind, const char *from, const char *to,
                          int limit, const char **json);

/* Reindex jobs. A job is running until finished; *json of job_get is
 * {id, status, total, done, error, started_at, finished_at}. */
int sstore_job_create(struct db_pool *pool, const char *id);
int sstore_job_progress(struct db_pool *pool, const char *id, int64_t done,
                        int64_t total);
int sstore_job_finish(struct db_pool *pool, const char *id, bool ok,
                      const char *error);
int sstore_job_get(struct db_pool *pool, struct arena *a, const char *id,
                   const char **json);
/* The id of a job running now (started within the hour), into id[37]. */
int sstore_job_running(struct db_pool *pool, char id[37]);
/* Documents in the index. */
int sstore_document_count(struct db_pool *pool, int64_t *count);

#endif
