/* search.c - the search service module: full-text index, facets,
 * suggestions (docs/search.md).
 *
 * Routes: GET /search and /search/suggest (public); synonyms, reindex and
 * query reports (admin). Events consumed: product.created/updated/archived,
 * inventory.changed, review.approved/removed, order.confirmed,
 * category.updated/deleted (events.c).
 * Two workers: the refresher rebuilds the in-memory lexicon when the index
 * moved and flushes the query log; the reindexer runs reindex jobs (and
 * the initial fill of an empty index from the catalog). The index engine
 * sits behind struct search_backend (backend.h); PostgreSQL is the one
 * built in. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "kit/log.h"
#include "kit/uuid.h"
#include "services/search/internal.h"
#include "services/search/store.h"
#include "services/search/tools.h"

#define REFRESH_MS 100   /* how often the refresher looks */
#define DB_CHECK_MS 1000 /* how often it asks the backend's generation */
#define MIN_REBUILD_GAP_MS 250
/* suggestion weights follow sales this late */
#define WEIGHT_REFRESH_MS 10000
#define FLUSH_MS 2000        /* query log to the database */
#define REINDEX_TICK_MS 5000 /* the reindexer's look for work (and retries) */

static const struct route routes[] = {
    {"GET", "/api/v1/search", search_handle_search, ACCESS_PUBLIC},
    {"GET", "/api/v1/search/suggest", search_handle_suggest, ACCESS_PUBLIC},
    {"GET", "/api/v1/admin/search/synonyms", search_handle_synonyms_get,
     ACCESS_ADMIN},
    {"PUT", "/api/v1/admin/search/synonyms", search_handle_synonyms_put,
     ACCESS_ADMIN},
    {"POST", "/api/v1/admin/search/reindex", search_handle_reindex,
     ACCESS_ADMIN},
    {"GET", "/api/v1/admin/search/reindex/{id}", search_handle_reindex_get,
     ACCESS_ADMIN},
    {"GET", "/api/v1/admin/search/queries", search_handle_queries,
     ACCESS_ADMIN},
};

static const struct event_handler events[] = {
    {"product.created", search_on_product},
    {"product.updated", search_on_product},
    {"product.archived", search_on_product},
    {"inventory.changed", search_on_inventory},
    {"review.approved", search_on_review},
    {"review.removed", search_on_review},
    {"order.confirmed", search_on_order_confirmed},
    {"category.updated", search_on_category},
    {"category.deleted", search_on_category},
};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void search_answers_invalidate(struct search_state *st) {
  atomic_fetch_add(&st->answer_generation, 1);
}

/* --- the query log ------------------------------------------------------ */

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

void search_log_query(struct search_state *st, const char *query,
                      bool zero_results) {
  if (query == NULL || query[0] == '\0') return;
  struct timeval tv;
  gettimeofday(&tv, NULL);
  int64_t ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
  pthread_mutex_lock(&st->log_lock);
  size_t i = (size_t)(fnv1a(query) % QUERY_LOG_SLOTS);
  for (size_t probes = 0; probes < QUERY_LOG_SLOTS; probes++) {
    struct query_log_slot *s = &st->log[i];
    if (s->query == NULL) {
      /* full enough: new queries wait for the next flush */
      if (st->log_used >= QUERY_LOG_SLOTS * 3 / 4) break;
      s->query = strdup(query);
      if (s->query == NULL) break;
      st->log_used++;
    }
    if (strcmp(s->query, query) == 0) {
      s->searches++;
      if (zero_results) s->zero_results++;
      s->last_ms = ms;
      break;
    }
    i = (i + 1) % QUERY_LOG_SLOTS;
  }
  pthread_mutex_unlock(&st->log_lock);
}

static void flush_log(struct search_state *st) {
  json_t *rows = json_array();
  pthread_mutex_lock(&st->log_lock);
  for (size_t i = 0; i < QUERY_LOG_SLOTS; i++) {
    struct query_log_slot *s = &st->log[i];
    if (s->query == NULL) continue;
    time_t secs = (time_t)(s->last_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char at[40], base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(at, sizeof at, "%s.%03dZ", base, (int)(s->last_ms % 1000));
    json_array_append_new(rows,
                          json_pack("{s:s, s:I, s:I, s:s}", "q", s->query, "n",
                                    (json_int_t)s->searches, "z",
                                    (json_int_t)s->zero_results, "at", at));
    free(s->query);
    memset(s, 0, sizeof *s);
  }
  st->log_used = 0;
  pthread_mutex_unlock(&st->log_lock);
  if (json_array_size(rows) > 0) {
    char *text = json_dumps(rows, JSON_COMPACT);
    if (text == NULL || sstore_queries_add(st->svc->db, text) < 0)
      log_warn("search: %zu logged queries lost (database unavailable)",
               json_array_size(rows));
    free(text);
  }
  json_decref(rows);
}

/* --- the refresher ------------------------------------------------------ */

static void refresh(void *arg) {
  struct search_state *st = arg;
  int64_t now = now_ms();
  int64_t local = atomic_load(&st->local_generation);
  int64_t weight = atomic_load(&st->weight_generation);
  bool stale = st->lex == NULL || local != st->built_local ||
               (weight != st->built_weight &&
                now - st->last_build_ms >= WEIGHT_REFRESH_MS);
  int64_t db_gen = st->built_db;
  if (stale || now - st->last_db_check_ms >= DB_CHECK_MS) {
    st->last_db_check_ms = now;
    if (st->backend->generation(st->svc->db, &db_gen) > 0 &&
        db_gen != st->built_db) {
      stale = true;
      search_answers_invalidate(st); /* e.g. a reindex by another process */
    }
  }
  int64_t gap = st->build_cost_ms * 3;
  if (gap < MIN_REBUILD_GAP_MS) gap = MIN_REBUILD_GAP_MS;
  if (stale && (st->lex == NULL || now - st->last_build_ms >= gap)) {
    struct lexicon *lx = lexicon_build(st->backend, st->svc->db);
    int64_t done = now_ms();
    st->last_build_ms = done;
    st->build_cost_ms = done - now;
    if (lx != NULL) {
      pthread_rwlock_wrlock(&st->lex_lock);
      struct lexicon *old = st->lex;
      st->lex = lx;
      pthread_rwlock_unlock(&st->lex_lock);
      lexicon_free(old);
      search_answers_invalidate(st);
      st->built_local = local;
      st->built_weight = weight;
      st->built_db = db_gen;
      log_debug("search: lexicon rebuilt in %lld ms (%zu products)",
                (long long)st->build_cost_ms, lexicon_product_count(lx));
    }
  }
  if (now - st->last_flush_ms >= FLUSH_MS) {
    st->last_flush_ms = now;
    flush_log(st);
  }
}

/* --- reindex jobs ------------------------------------------------------- */

bool search_request_reindex(struct search_state *st, char id[37]) {
  id[0] = '\0';
  pthread_mutex_lock(&st->job_lock);
  if (st->job_pending) {
    memcpy(id, st->job_id, 37);
    pthread_mutex_unlock(&st->job_lock);
    return false;
  }
  char fresh[UUID_STR_LEN];
  uuid_v7(fresh);
  snprintf(id, 37, "%s", fresh);
  if (sstore_job_create(st->svc->db, id) < 0) {
    pthread_mutex_unlock(&st->job_lock);
    return false;
  }
  memcpy(st->job_id, id, 37);
  st->job_pending = true;
  pthread_mutex_unlock(&st->job_lock);
  worker_kick(&st->reindexer);
  return true;
}

static void reindex_run(void *arg) {
  struct search_state *st = arg;
  char id[37];
  pthread_mutex_lock(&st->job_lock);
  bool pending = st->job_pending;
  memcpy(id, st->job_id, 37);
  pthread_mutex_unlock(&st->job_lock);
  if (!pending) {
    /* the initial fill: an empty index of a catalog that has products */
    int64_t count = -1;
    if (sstore_document_count(st->svc->db, &count) <= 0 || count != 0) return;
    char probe[37];
    if (sstore_job_running(st->svc->db, probe) != 0) return;
    if (!search_request_reindex(st, id)) return;
    log_info("search: the index is empty: filling it from the catalog");
  }
  int64_t indexed = 0;
  char why[160] = "";
  int rc = search_reindex(st->backend, st->svc->db, st->svc->client, id, NULL,
                          NULL, &indexed, why, sizeof why);
  sstore_job_finish(st->svc->db, id, rc == KIT_OK, rc == KIT_OK ? NULL : why);
  if (rc == KIT_OK) {
    atomic_fetch_add(&st->local_generation, 1);
    search_answers_invalidate(st);
    log_info("search: reindex %s done: %lld products", id, (long long)indexed);
  } else {
    log_warn("search: reindex %s failed: %s", id, why);
  }
  pthread_mutex_lock(&st->job_lock);
  st->job_pending = false;
  pthread_mutex_unlock(&st->job_lock);
}

/* --- start and stop ----------------------------------------------------- */

static void free_state(struct search_state *st) {
  if (st == NULL) return;
  lexicon_free(st->lex);
  for (size_t i = 0; i < QUERY_LOG_SLOTS; i++)
    free(st->log[i].query);
  for (size_t i = 0; i < ANSWER_SLOTS; i++) {
    free(st->answers[i].key);
    free(st->answers[i].body);
    free(st->answers[i].normalized);
  }
  pthread_mutex_destroy(&st->answer_lock);
  pthread_rwlock_destroy(&st->lex_lock);
  pthread_mutex_destroy(&st->job_lock);
  pthread_mutex_destroy(&st->log_lock);
  free(st);
}

static int search_start(struct service *svc) {
  struct search_state *st = calloc(1, sizeof *st);
  if (st == NULL) return KIT_NOMEM;
  st->svc = svc;
  st->backend = &search_backend_pg;
  pthread_rwlock_init(&st->lex_lock, NULL);
  pthread_mutex_init(&st->job_lock, NULL);
  pthread_mutex_init(&st->log_lock, NULL);
  pthread_mutex_init(&st->answer_lock, NULL);
  st->last_flush_ms = now_ms();
  svc->state = st;
  /* a first lexicon before serving, when the database answers */
  refresh(st);
  if (worker_start(&st->refresher, svc->name, "search-refresher", REFRESH_MS,
                   refresh, st) != KIT_OK) {
    svc->state = NULL;
    free_state(st);
    return KIT_ERROR;
  }
  if (worker_start(&st->reindexer, svc->name, "search-reindexer",
                   REINDEX_TICK_MS, reindex_run, st) != KIT_OK) {
    worker_stop(&st->refresher);
    svc->state = NULL;
    free_state(st);
    return KIT_ERROR;
  }
  worker_kick(&st->reindexer); /* the initial fill, if the index is empty */
  return KIT_OK;
}

static void search_stop(struct service *svc) {
  struct search_state *st = svc->state;
  if (st == NULL) return;
  worker_stop(&st->reindexer);
  worker_stop(&st->refresher);
  flush_log(st);
  svc->state = NULL;
  free_state(st);
}

const struct service_module search_module = {
    .id = SVC_SEARCH,
    .summary = "full-text index, facets, suggestions",
    .needs = NEEDS_DB | NEEDS_AMQP,
    .routes = routes,
    .route_count = sizeof routes / sizeof routes[0],
    .statements = search_statements,
    .statement_count = SEARCH_STATEMENT_COUNT,
    .events = events,
    .event_count = sizeof events / sizeof events[0],
    /* The index and what events told us (stock, ratings, popularity,
     * archives); kept: the category tree (read from the catalog), synonyms,
     * the query log and reindex jobs. The generation moves, so every
     * process drops its cached answers and vocabulary. */
    .read_model_rebuildable = true,
    .read_model_reset = "TRUNCATE documents, signals, tombstones; "
                        "UPDATE meta SET value = value + 1 "
                        "WHERE key = 'generation'",
    .start = search_start,
    .stop = search_stop,
};
