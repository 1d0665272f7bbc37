/* tools.h - the rebuild of the search index from the catalog, shared by the
 * service's reindex job (POST /admin/search/reindex, the initial fill) and
 * `shopsphere search reindex`. */
#ifndef SHOPSPHERE_SEARCH_TOOLS_H
#define SHOPSPHERE_SEARCH_TOOLS_H

#include <stddef.h>
#include <stdint.h>

#include "kit/client.h"
#include "kit/config.h"
#include "kit/db.h"

struct search_backend;

/* done products read of about total (total grows when it was an estimate). */
typedef void (*search_progress_fn)(void *arg, int64_t done, int64_t total);

/* Reads every category and every active product through the product
 * service's API (pages of 100), stages them, then swaps them in as the
 * index in one step: searches keep being answered from the old index until
 * then, and what events changed meanwhile is kept. job_id (may be NULL)
 * gets progress rows. Returns KIT_OK with *indexed, or a failure with a
 * reason in why. */
int search_reindex(const struct search_backend *b, struct db_pool *pool,
                   struct client *client, const char *job_id,
                   search_progress_fn progress, void *arg, int64_t *indexed,
                   char *why, size_t why_size);

/* `shopsphere search reindex` in another process than the service: opens
 * its own pool on the search schema and a client. */
int search_reindex_tool(const struct config *cfg, search_progress_fn progress,
                        void *arg, int64_t *indexed);

#endif
