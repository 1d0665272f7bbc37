/* db.h - PostgreSQL: a connection pool, prepared statements, transactions.
 *
 * A thin wrapper over libpq so that stores never see PGconn or PGresult.
 * Each service has its own pool whose connections have search_path set to the
 * service's schema. Statements are declared once per service (name + SQL),
 * prepared lazily on each connection at first use and again after a
 * reconnect. Parameters and results travel as text.
 *
 * Status of every call (Taler's GNUNET_DB_QueryStatus, in our names):
 *   DB_HARD_ERROR  < 0: a bug or constraint violation; do not retry
 *   DB_SOFT_ERROR  < 0: serialization failure or deadlock; retry the tx
 *   DB_UNAVAILABLE < 0: no connection; answer 503
 *   >= 0: the number of rows returned (SELECT, ... RETURNING) or affected.
 */
#ifndef SHOPSPHERE_KIT_DB_H
#define SHOPSPHERE_KIT_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum db_status {
  DB_UNAVAILABLE = -3,
  DB_HARD_ERROR = -2,
  DB_SOFT_ERROR = -1,
  DB_NO_RESULTS = 0,
  DB_ONE_RESULT = 1,
};

struct db_statement {
  const char *name; /* unique within the service */
  const char *sql;  /* $1..$n parameters */
};

struct db_pool;
struct db_conn;
struct db_result;

/* Opens a pool of `size` connections (connected lazily) to url, with
 * search_path = schema (quoted). statements are borrowed for the pool's life.
 * Returns KIT_OK; the pool is usable even while the server is down (calls
 * return DB_UNAVAILABLE and it reconnects later). */
int db_pool_open(struct db_pool **out, const char *url, const char *schema,
                 int size, const struct db_statement *statements,
                 size_t statement_count);
void db_pool_close(struct db_pool *pool);

/* Takes a connection, waiting up to timeout_ms; NULL when none became free or
 * the server cannot be reached. Reconnects a broken connection first. */
struct db_conn *db_acquire(struct db_pool *pool, int timeout_ms);
void db_release(struct db_pool *pool, struct db_conn *conn);

/* Runs a declared statement with text parameters (NULL = SQL NULL). When out
 * is not NULL and the call succeeds, *out receives the result (free with
 * db_result_free); otherwise *out is NULL. */
int db_exec(struct db_conn *conn, const char *statement, int nparams,
            const char *const *params, struct db_result **out);

/* Runs ad-hoc SQL without parameters (DDL, BEGIN/COMMIT, migrations). */
int db_exec_sql(struct db_conn *conn, const char *sql);

/* Runs the kit's own parameterized SQL (the event bus's outbox and inbox
 * statements, which no service declares) as an unnamed statement; `what`
 * names it in logs. Same statuses and result as db_exec. Services declare
 * their statements and use db_exec. */
int db_exec_params(struct db_conn *conn, const char *what, const char *sql,
                   int nparams, const char *const *params,
                   struct db_result **out);

/* Result access. Row and column indexes are 0-based. */
int db_result_rows(const struct db_result *r);
bool db_result_is_null(const struct db_result *r, int row, int col);
const char *db_result_text(const struct db_result *r, int row, int col);
int64_t db_result_int64(const struct db_result *r, int row, int col);
bool db_result_bool(const struct db_result *r, int row, int col);
void db_result_free(struct db_result *r);

/* A transaction body: returns a db_status. Returning DB_SOFT_ERROR makes the
 * runner roll back and retry; any other negative value rolls back and is
 * returned; >= 0 commits. */
typedef int (*db_tx_fn)(struct db_conn *conn, void *arg);

enum db_isolation {
  DB_READ_COMMITTED = 0,
  DB_REPEATABLE_READ,
  DB_SERIALIZABLE,
};

/* Acquires a connection, BEGINs at the isolation level, runs fn, COMMITs.
 * Serialization failures and deadlocks (in fn or at COMMIT) roll back and
 * retry, at most DB_TX_MAX_RETRIES times with a short jittered pause; each
 * retry counts in the metric db_tx_retries_total{service}. Returns fn's
 * result, DB_SOFT_ERROR when retries ran out, or DB_UNAVAILABLE. */
#define DB_TX_MAX_RETRIES 5
int db_transaction(struct db_pool *pool, enum db_isolation iso, db_tx_fn fn,
                   void *arg);

/* Checks the server answers (SELECT 1) within the pool's connect timeout.
 * KIT_OK, or KIT_UNAVAILABLE with a short reason (never the password). */
int db_ping(struct db_pool *pool, char *reason, size_t reason_size);

/* Pool figures for /metrics. */
int db_pool_size(const struct db_pool *pool);
int db_pool_in_use(struct db_pool *pool);

/* The service's schema name (as given to db_pool_open). */
const char *db_pool_schema(const struct db_pool *pool);

/* --- migrations --- */

struct migration {
  const char *service; /* schema */
  int version;         /* from the file name, NNN_name.sql */
  const char *name;
  const char *sql;
};

/* The `service` of the kit's own migrations (the event bus's outbox and
 * inbox tables, src/kit/migrations/): they apply to every schema. */
#define DB_KIT_MIGRATIONS "_kit"

/* Applies the migrations of `schema` (those in `all` whose service matches),
 * in version order, each in its own transaction, recording applied versions
 * in <schema>.schema_migrations. Before them, the kit's migrations in `all`
 * (service DB_KIT_MIGRATIONS) are applied the same way, recorded in
 * <schema>.kit_migrations. Holds a PostgreSQL advisory lock for the
 * schema so concurrent migrators wait instead of racing. Creates the schema
 * if missing. Returns KIT_OK, KIT_UNAVAILABLE or KIT_ERROR (logged). */
int db_migrate(const char *url, const char *schema,
               const struct migration *all, size_t count, int *applied);

#endif
