/* db.c - the PostgreSQL pool, prepared statements, transactions, migrations.
 *
 * A pool is a fixed array of slots guarded by one mutex; a condition variable
 * wakes waiters when a slot is handed back. Slots connect lazily, on the
 * acquire that first needs them, so a service starts while the database is
 * down and heals when it returns. Connecting happens outside the lock: a
 * slot being (re)connected is already marked in use, so nobody else touches
 * it, and the other slots stay available meanwhile.
 *
 * Each slot remembers which of the pool's declared statements it has
 * prepared; a reconnect clears that memory, because prepared statements live
 * in the server session and die with it.
 *
 * What leaves this file about a failure: the SQLSTATE, the statement name and
 * schema identifiers (constraint, table, column), never parameter values. The
 * server's message text is logged only for SQL we wrote ourselves (prepare,
 * migrations), because for a query it can quote a parameter ("invalid input
 * syntax for type integer: "...").
 */
#include "kit/db.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit/breaker.h"
#include "kit/err.h"
#include "kit/log.h"
#include "kit/metrics.h"
#include "kit/trace.h"

#define DEFAULT_CONNECT_TIMEOUT_S 3
/* After a failed connect, acquires that would need a new connection fail at
 * once for this long instead of each waiting out connect_timeout: during an
 * outage, one request per pause pays the price, the others get a quick 503. */
#define CONNECT_RETRY_PAUSE_MS 500
/* Backoff between transaction retries: conflicts clear in milliseconds. */
#define TX_BACKOFF_BASE_MS 4
#define TX_BACKOFF_MAX_MS 100

struct db_conn {
  struct db_pool *pool;
  PGconn *pg;              /* NULL until first use and after a loss */
  bool lost;               /* failed; closed and reconnected on next acquire */
  bool in_use;             /* guarded by pool->lock */
  unsigned char *prepared; /* one flag per declared statement */
};

struct db_pool {
  char *url;
  char *schema;
  char app_name[64];
  char connect_timeout_s[16]; /* as libpq wants it: text */
  int connect_timeout_ms;
  const struct db_statement *statements; /* borrowed */
  size_t statement_count;
  struct metric_family *tx_retries;

  pthread_mutex_t lock;
  pthread_cond_t freed; /* a slot came back; uses CLOCK_MONOTONIC */
  struct db_conn *conns;
  int size;
  int in_use;
  int64_t connect_retry_at_ms; /* see CONNECT_RETRY_PAUSE_MS */
};

/* struct db_result is never defined: a db_result pointer is the PGresult
 * itself, so handing a result to the caller costs no allocation. */
static const PGresult *pgres(const struct db_result *r) {
  return (const PGresult *)r;
}

static void set_reason(char *reason, size_t size, const char *fmt,
                       const char *detail) {
  if (reason != NULL && size > 0) snprintf(reason, size, fmt, detail);
}

/* libpq's error messages span lines ("...failed: Connection refused\n\tIs
 * the server running..."); the first line is the useful, loggable part. */
static void first_line(const char *msg, char *out, size_t size) {
  if (size == 0) return;
  size_t n = strcspn(msg != NULL ? msg : "", "\n");
  if (n >= size) n = size - 1;
  memcpy(out, msg != NULL ? msg : "", n);
  out[n] = '\0';
}

/* Appends ,"key":"value" (JSON-escaped) to a log field list; a field that
 * does not fit is left out whole rather than cut into broken JSON. */
static void add_field(char *buf, size_t size, const char *key,
                      const char *value) {
  if (value == NULL) return;
  char field[256];
  size_t len = strlen(buf);
  int n = snprintf(field, sizeof field, "%s\"%s\":\"", len ? "," : "", key);
  if (n < 0 || (size_t)n >= sizeof field) return;
  size_t f = (size_t)n;
  for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
    char esc[8];
    if (*p == '"' || *p == '\\')
      snprintf(esc, sizeof esc, "\\%c", *p);
    else if (*p < 0x20)
      snprintf(esc, sizeof esc, "\\u%04x", *p);
    else
      snprintf(esc, sizeof esc, "%c", *p);
    size_t e = strlen(esc);
    if (f + e + 2 > sizeof field) return;
    memcpy(field + f, esc, e);
    f += e;
  }
  field[f++] = '"';
  if (len + f + 1 > size) return;
  memcpy(buf + len, field, f);
  buf[len + f] = '\0';
}

/* Server notices (e.g. "relation already exists, skipping") would otherwise
 * go to stderr raw; RAISE NOTICE text may carry data, so debug level only. */
static void notice_to_log(void *arg, const char *message) {
  (void)arg;
  char line[256];
  first_line(message, line, sizeof line);
  log_debug("postgres: %s", line);
}

/* --- connections ----------------------------------------------------------- */

/* Opens a session. Our defaults come first in the keyword list and the URL
 * (expanded from dbname) last, so anything the URL says wins. TCP keepalives
 * notice a silently vanished server; tcp_user_timeout bounds a write the
 * peer never acknowledges. */
static PGconn *pg_connect(const char *url, const char *app_name,
                          const char *timeout_s, const char *schema,
                          char *reason, size_t reason_size) {
  const char *keys[] = {"connect_timeout",  "keepalives",
                        "keepalives_idle",  "keepalives_interval",
                        "keepalives_count", "tcp_user_timeout",
                        "application_name", "dbname",
                        NULL};
  const char *values[] = {timeout_s, "1", "30", "10", "3", "30000",
                          app_name,  url, NULL};
  char line[200];
  PGconn *pg = PQconnectdbParams(keys, values, 1);
  if (pg == NULL) {
    set_reason(reason, reason_size, "%s", "out of memory");
    return NULL;
  }
  if (PQstatus(pg) != CONNECTION_OK) {
    first_line(PQerrorMessage(pg), line, sizeof line);
    set_reason(reason, reason_size, "cannot connect: %s", line);
    PQfinish(pg);
    return NULL;
  }
  PQsetNoticeProcessor(pg, notice_to_log, NULL);
  if (schema == NULL) return pg;

  /* The schema is an identifier: quoted by libpq ("order" is reserved). */
  char *ident = PQescapeIdentifier(pg, schema, strlen(schema));
  if (ident == NULL) {
    first_line(PQerrorMessage(pg), line, sizeof line);
    set_reason(reason, reason_size, "bad schema name: %s", line);
    PQfinish(pg);
    return NULL;
  }
  char sql[256];
  snprintf(sql, sizeof sql, "SET search_path TO %s", ident);
  PQfreemem(ident);
  PGresult *res = PQexec(pg, sql);
  bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  if (!ok) {
    first_line(PQerrorMessage(pg), line, sizeof line);
    set_reason(reason, reason_size, "cannot set search_path: %s", line);
  }
  PQclear(res);
  if (!ok) {
    PQfinish(pg);
    return NULL;
  }
  return pg;
}

/* An idle session has nothing to say: if its socket is readable (the server
 * sent a FATAL before closing, or the peer hung up), it is gone. One poll()
 * with zero timeout per acquire catches a restarted server before a request
 * trips over it. */
static bool idle_conn_healthy(PGconn *pg) {
  if (PQstatus(pg) != CONNECTION_OK) return false;
  struct pollfd p = {.fd = PQsocket(pg), .events = POLLIN};
  if (p.fd < 0) return false;
  int n = poll(&p, 1, 0);
  return n == 0 || (n < 0 && errno == EINTR);
}

static void slot_disconnect(struct db_conn *c) {
  if (c->pg != NULL) PQfinish(c->pg);
  c->pg = NULL;
  c->lost = false;
  memset(c->prepared, 0, c->pool->statement_count + 1);
}

/* First a free slot with a live session, else any free slot. Under lock. */
static struct db_conn *pick_free(struct db_pool *pool) {
  struct db_conn *any = NULL;
  for (int i = 0; i < pool->size; i++) {
    struct db_conn *c = &pool->conns[i];
    if (c->in_use) continue;
    if (c->pg != NULL && !c->lost) return c;
    if (any == NULL) any = c;
  }
  return any;
}

static void give_back(struct db_pool *pool, struct db_conn *c) {
  pthread_mutex_lock(&pool->lock);
  c->in_use = false;
  pool->in_use--;
  pthread_cond_signal(&pool->freed);
  pthread_mutex_unlock(&pool->lock);
}

static struct timespec deadline_after(int timeout_ms) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  if (timeout_ms < 0) timeout_ms = 0;
  ts.tv_sec += timeout_ms / 1000;
  ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

static struct db_conn *acquire(struct db_pool *pool, int timeout_ms,
                               char *reason, size_t reason_size) {
  if (pool == NULL) return NULL;
  struct timespec deadline = deadline_after(timeout_ms);
  struct db_conn *c = NULL;

  pthread_mutex_lock(&pool->lock);
  while ((c = pick_free(pool)) == NULL) {
    if (pthread_cond_timedwait(&pool->freed, &pool->lock, &deadline) ==
        ETIMEDOUT) {
      pthread_mutex_unlock(&pool->lock);
      set_reason(reason, reason_size, "%s",
                 "no free database connection in time");
      return NULL;
    }
  }
  c->in_use = true;
  pool->in_use++;
  bool reuse = c->pg != NULL && !c->lost;
  bool paused = !reuse && clock_monotonic_ms() < pool->connect_retry_at_ms;
  pthread_mutex_unlock(&pool->lock);

  if (reuse && idle_conn_healthy(c->pg)) return c;
  if (paused) {
    set_reason(reason, reason_size, "%s",
               "database unreachable (reconnect paused)");
    goto fail;
  }
  slot_disconnect(c);
  c->pg = pg_connect(pool->url, pool->app_name, pool->connect_timeout_s,
                     pool->schema, reason, reason_size);
  if (c->pg == NULL) {
    pthread_mutex_lock(&pool->lock);
    pool->connect_retry_at_ms = clock_monotonic_ms() + CONNECT_RETRY_PAUSE_MS;
    pthread_mutex_unlock(&pool->lock);
    goto fail;
  }
  return c;
fail:
  give_back(pool, c);
  return NULL;
}

struct db_conn *db_acquire(struct db_pool *pool, int timeout_ms) {
  char reason[200] = "";
  struct db_conn *c = acquire(pool, timeout_ms, reason, sizeof reason);
  if (c == NULL && pool != NULL)
    log_warn("db %s: no connection: %s", pool->schema, reason);
  return c;
}

void db_release(struct db_pool *pool, struct db_conn *conn) {
  if (pool == NULL || conn == NULL) return;
  if (conn->pg != NULL && !conn->lost) {
    /* A caller that leaves a transaction open must not hand it to the next
     * borrower; one with a query still in flight cannot be reused at all. */
    PGTransactionStatusType ts = PQtransactionStatus(conn->pg);
    if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
      log_warn("db %s: connection released inside a transaction; rolling back",
               pool->schema);
      PGresult *res = PQexec(conn->pg, "ROLLBACK");
      if (PQresultStatus(res) != PGRES_COMMAND_OK) conn->lost = true;
      PQclear(res);
    } else if (ts != PQTRANS_IDLE) {
      conn->lost = true;
    }
  }
  /* Close a dead session now, outside the lock, so the server frees it. */
  if (conn->lost) slot_disconnect(conn);
  give_back(pool, conn);
}

/* --- pool ------------------------------------------------------------------ */

/* connect_timeout from the URL when it has one, else our default. */
static int url_connect_timeout(const char *url, int *seconds) {
  char *err = NULL;
  PQconninfoOption *opts = PQconninfoParse(url, &err);
  if (opts == NULL) {
    /* err may quote the URL, password and all: not logged. */
    PQfreemem(err);
    return KIT_INVALID;
  }
  *seconds = DEFAULT_CONNECT_TIMEOUT_S;
  for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
    if (strcmp(o->keyword, "connect_timeout") == 0 && o->val != NULL &&
        *o->val != '\0')
      *seconds = atoi(o->val);
  }
  /* libpq treats anything below 2 s as 2 s, and 0 as forever: we need a
   * bound for acquire and ping either way. */
  if (*seconds <= 0) *seconds = DEFAULT_CONNECT_TIMEOUT_S;
  if (*seconds < 2) *seconds = 2;
  PQconninfoFree(opts);
  return KIT_OK;
}

int db_pool_open(struct db_pool **out, const char *url, const char *schema,
                 int size, const struct db_statement *statements,
                 size_t statement_count) {
  int rc = KIT_NOMEM;
  struct db_pool *pool = NULL;
  int timeout_s = DEFAULT_CONNECT_TIMEOUT_S;

  if (out == NULL) return KIT_INVALID;
  *out = NULL;
  if (url == NULL || schema == NULL || *schema == '\0' || size <= 0 ||
      (statements == NULL && statement_count > 0))
    return KIT_INVALID;
  for (size_t i = 0; i < statement_count; i++) {
    for (size_t j = 0; j < i; j++) {
      if (strcmp(statements[i].name, statements[j].name) == 0) {
        log_error("db %s: statement %s declared twice", schema,
                  statements[i].name);
        return KIT_INVALID;
      }
    }
  }
  if (url_connect_timeout(url, &timeout_s) != KIT_OK) {
    log_error("db %s: the database URL is not a valid connection string",
              schema);
    return KIT_INVALID;
  }

  pool = calloc(1, sizeof *pool);
  if (pool == NULL) goto cleanup;
  pool->url = strdup(url);
  pool->schema = strdup(schema);
  pool->conns = calloc((size_t)size, sizeof *pool->conns);
  if (pool->url == NULL || pool->schema == NULL || pool->conns == NULL)
    goto cleanup;
  pool->size = size;
  pool->statements = statements;
  pool->statement_count = statement_count;
  pool->connect_timeout_ms = timeout_s * 1000;
  snprintf(pool->connect_timeout_s, sizeof pool->connect_timeout_s, "%d",
           timeout_s);
  snprintf(pool->app_name, sizeof pool->app_name, "shopsphere-%s", schema);
  for (int i = 0; i < size; i++) {
    pool->conns[i].pool = pool;
    pool->conns[i].prepared = calloc(statement_count + 1, 1);
    if (pool->conns[i].prepared == NULL) goto cleanup;
  }

  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&pool->freed, &attr);
  pthread_condattr_destroy(&attr);
  pthread_mutex_init(&pool->lock, NULL);

  const char *labels[] = {"service", NULL};
  pool->tx_retries = metric_family(
      "db_tx_retries_total",
      "Transactions retried after a serialization failure or deadlock.",
      METRIC_COUNTER, labels, NULL, 0);

  *out = pool;
  pool = NULL;
  rc = KIT_OK;
cleanup:
  if (pool != NULL) {
    for (int i = 0; pool->conns != NULL && i < size; i++)
      free(pool->conns[i].prepared);
    free(pool->conns);
    free(pool->url);
    free(pool->schema);
    free(pool);
  }
  return rc;
}

void db_pool_close(struct db_pool *pool) {
  if (pool == NULL) return;
  if (pool->in_use > 0)
    log_warn("db %s: pool closed with %d connection(s) still in use",
             pool->schema, pool->in_use);
  for (int i = 0; i < pool->size; i++) {
    if (pool->conns[i].pg != NULL) PQfinish(pool->conns[i].pg);
    free(pool->conns[i].prepared);
  }
  pthread_cond_destroy(&pool->freed);
  pthread_mutex_destroy(&pool->lock);
  free(pool->conns);
  free(pool->url);
  free(pool->schema);
  free(pool);
}

int db_pool_size(const struct db_pool *pool) {
  return pool != NULL ? pool->size : 0;
}

int db_pool_in_use(struct db_pool *pool) {
  if (pool == NULL) return 0;
  pthread_mutex_lock(&pool->lock);
  int n = pool->in_use;
  pthread_mutex_unlock(&pool->lock);
  return n;
}

const char *db_pool_schema(const struct db_pool *pool) {
  return pool != NULL ? pool->schema : "";
}

/* --- statements ------------------------------------------------------------ */

static bool is_connection_loss(const char *state) {
  return state != NULL &&
         (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
          strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0);
}

/* Maps a failed result to a status, marks a lost connection, and logs what
 * may be logged (see the file comment). with_message: the SQL is ours and
 * the server's text cannot contain a parameter. */
static int classify_failure(struct db_conn *c, const PGresult *res,
                            const char *what, bool with_message) {
  const char *state =
      res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  const char *schema = c->pool->schema;

  if (PQstatus(c->pg) == CONNECTION_BAD || is_connection_loss(state)) {
    c->lost = true;
    log_warn("db %s: connection lost during %s (sqlstate %s)", schema, what,
             state != NULL ? state : "none");
    return DB_UNAVAILABLE;
  }
  if (state != NULL &&
      (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)) {
    log_debug("db %s: %s: retryable conflict (sqlstate %s)", schema, what,
              state);
    return DB_SOFT_ERROR;
  }

  char fields[512] = "";
  add_field(fields, sizeof fields, "sqlstate", state != NULL ? state : "");
  add_field(fields, sizeof fields, "statement", what);
  add_field(fields, sizeof fields, "schema", schema);
  if (res != NULL) {
    add_field(fields, sizeof fields, "table",
              PQresultErrorField(res, PG_DIAG_TABLE_NAME));
    add_field(fields, sizeof fields, "column",
              PQresultErrorField(res, PG_DIAG_COLUMN_NAME));
    add_field(fields, sizeof fields, "constraint",
              PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME));
  }
  char message[200] = "";
  const char *primary =
      res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  if (with_message)
    first_line(primary != NULL ? primary : PQerrorMessage(c->pg), message,
               sizeof message);
  /* Constraint violations (class 23) are often expected outcomes that the
   * store turns into a 409; they are worth a warning, not an alarm. */
  enum log_level level = (state != NULL && strncmp(state, "23", 2) == 0)
                             ? LOG_WARN
                             : LOG_ERROR;
  log_write_fields(level, fields, "db %s: %s failed%s%s", schema, what,
                   *message ? ": " : "", message);
  return DB_HARD_ERROR;
}

/* Rows returned (SELECT, RETURNING) or affected (INSERT, UPDATE, DELETE). */
static int result_status(struct db_conn *c, const PGresult *res,
                         const char *what, bool with_message) {
  switch (PQresultStatus(res)) {
  case PGRES_TUPLES_OK:
    return PQntuples(res);
  case PGRES_COMMAND_OK: {
    const char *n = PQcmdTuples((PGresult *)res);
    return (n != NULL && *n != '\0') ? (int)strtol(n, NULL, 10) : 0;
  }
  case PGRES_EMPTY_QUERY:
    return 0;
  default:
    return classify_failure(c, res, what, with_message);
  }
}

static const struct db_statement *find_statement(const struct db_pool *pool,
                                                 const char *name,
                                                 size_t *index) {
  for (size_t i = 0; i < pool->statement_count; i++) {
    const char *n = pool->statements[i].name;
    if (n == name || strcmp(n, name) == 0) {
      *index = i;
      return &pool->statements[i];
    }
  }
  return NULL;
}

int db_exec(struct db_conn *conn, const char *statement, int nparams,
            const char *const *params, struct db_result **out) {
  if (out != NULL) *out = NULL;
  if (conn == NULL || statement == NULL || nparams < 0) return DB_HARD_ERROR;
  if (conn->pg == NULL || conn->lost) return DB_UNAVAILABLE;

  size_t index = 0;
  const struct db_statement *st = find_statement(conn->pool, statement, &index);
  if (st == NULL) {
    log_error("db %s: statement %s was never declared", conn->pool->schema,
              statement);
    return DB_HARD_ERROR;
  }
  if (!conn->prepared[index]) {
    PGresult *prep = PQprepare(conn->pg, st->name, st->sql, 0, NULL);
    int prc = result_status(conn, prep, st->name, true);
    PQclear(prep);
    if (prc < 0) return prc;
    conn->prepared[index] = 1;
  }

  PGresult *res =
      PQexecPrepared(conn->pg, st->name, nparams, params, NULL, NULL, 0);
  int rc = result_status(conn, res, st->name, false);
  if (rc >= 0 && out != NULL) {
    *out = (struct db_result *)res;
    res = NULL;
  }
  PQclear(res);
  return rc;
}

int db_exec_sql(struct db_conn *conn, const char *sql) {
  if (conn == NULL || sql == NULL) return DB_HARD_ERROR;
  if (conn->pg == NULL || conn->lost) return DB_UNAVAILABLE;
  PGresult *res = PQexec(conn->pg, sql);
  /* Ad-hoc SQL takes no parameters, so the server's message is safe. */
  int rc = result_status(conn, res, "ad-hoc sql", true);
  PQclear(res);
  return rc;
}

int db_exec_params(struct db_conn *conn, const char *what, const char *sql,
                   int nparams, const char *const *params,
                   struct db_result **out) {
  if (out != NULL) *out = NULL;
  if (conn == NULL || sql == NULL || nparams < 0) return DB_HARD_ERROR;
  if (conn->pg == NULL || conn->lost) return DB_UNAVAILABLE;
  PGresult *res = PQexecParams(conn->pg, sql, nparams, NULL, params, NULL,
                               NULL, 0);
  /* Parameters travel apart from the SQL, but the server's message may
   * quote one: left out, as for declared statements. */
  int rc = result_status(conn, res, what != NULL ? what : "kit sql", false);
  if (rc >= 0 && out != NULL) {
    *out = (struct db_result *)res;
    res = NULL;
  }
  PQclear(res);
  return rc;
}

/* --- results --------------------------------------------------------------- */

static bool in_range(const struct db_result *r, int row, int col) {
  return r != NULL && row >= 0 && col >= 0 && row < PQntuples(pgres(r)) &&
         col < PQnfields(pgres(r));
}

int db_result_rows(const struct db_result *r) {
  return r != NULL ? PQntuples(pgres(r)) : 0;
}

bool db_result_is_null(const struct db_result *r, int row, int col) {
  return !in_range(r, row, col) || PQgetisnull(pgres(r), row, col);
}

/* NULL for SQL NULL and out-of-range cells; the text lives with r. */
const char *db_result_text(const struct db_result *r, int row, int col) {
  if (db_result_is_null(r, row, col)) return NULL;
  return PQgetvalue(pgres(r), row, col);
}

/* 0 for NULL; a value that is not an int64 is a schema/store mismatch. */
int64_t db_result_int64(const struct db_result *r, int row, int col) {
  const char *text = db_result_text(r, row, col);
  if (text == NULL) return 0;
  errno = 0;
  char *end = NULL;
  long long v = strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0') {
    log_error("db: column %d (%s) is not an int64", col,
              PQfname(pgres(r), col));
    return 0;
  }
  return (int64_t)v;
}

bool db_result_bool(const struct db_result *r, int row, int col) {
  const char *text = db_result_text(r, row, col);
  return text != NULL && text[0] == 't';
}

void db_result_free(struct db_result *r) {
  if (r != NULL) PQclear((PGresult *)r);
}

/* --- transactions ---------------------------------------------------------- */

static const char *const begin_sql[] = {
    [DB_READ_COMMITTED] = "BEGIN ISOLATION LEVEL READ COMMITTED",
    [DB_REPEATABLE_READ] = "BEGIN ISOLATION LEVEL REPEATABLE READ",
    [DB_SERIALIZABLE] = "BEGIN ISOLATION LEVEL SERIALIZABLE",
};

static int run_control(struct db_conn *c, const char *sql) {
  PGresult *res = PQexec(c->pg, sql);
  int rc = result_status(c, res, sql, true);
  /* COMMIT of a transaction that already failed "succeeds" as ROLLBACK: the
   * body ignored an error and returned success, and nothing was saved. */
  if (rc >= 0 && strcmp(sql, "COMMIT") == 0 &&
      strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
    log_error("db %s: COMMIT rolled back: an error inside the transaction "
              "was ignored",
              c->pool->schema);
    rc = DB_HARD_ERROR;
  }
  PQclear(res);
  return rc;
}

static int tx_attempt(struct db_pool *pool, enum db_isolation iso,
                      db_tx_fn fn, void *arg) {
  struct db_conn *conn = NULL;
  int rc = DB_UNAVAILABLE;

  for (int tries = 0; tries < 2; tries++) {
    conn = db_acquire(pool, pool->connect_timeout_ms);
    if (conn == NULL) return DB_UNAVAILABLE;
    rc = run_control(conn, begin_sql[iso]);
    if (rc != DB_UNAVAILABLE) break;
    /* The session died while idle in the pool and nothing has run yet, so
     * one more try on a fresh connection is safe. */
    db_release(pool, conn);
    conn = NULL;
  }
  if (rc < 0) goto cleanup;

  rc = fn(conn, arg);
  if (rc < 0) {
    if (!conn->lost) (void)run_control(conn, "ROLLBACK");
    goto cleanup;
  }
  int commit = run_control(conn, "COMMIT");
  if (commit < 0) rc = commit;
cleanup:
  db_release(pool, conn);
  return rc;
}

static void sleep_ms(int64_t ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

int db_transaction(struct db_pool *pool, enum db_isolation iso, db_tx_fn fn,
                   void *arg) {
  if (pool == NULL || fn == NULL || iso < DB_READ_COMMITTED ||
      iso > DB_SERIALIZABLE)
    return DB_HARD_ERROR;
  const char *labels[] = {pool->schema};
  /* A span only inside a traced unit of work (a request, an event): the
   * background loops' transactions would be noise without a parent. */
  struct trace_span span = {0};
  if (trace_current()->trace_id[0] != '\0') {
    char name[96];
    snprintf(name, sizeof name, "tx %s", pool->schema);
    trace_span_begin(&span, name, TRACE_CLIENT, NULL, NULL, NULL, NULL);
    trace_span_attr(&span, "db.system", "postgresql");
    trace_span_attr(&span, "db.namespace", pool->schema);
  }
  for (int attempt = 0;; attempt++) {
    int rc = tx_attempt(pool, iso, fn, arg);
    if (rc != DB_SOFT_ERROR) {
      trace_span_attr_int(&span, "db.retries", attempt);
      trace_span_end(&span, rc < 0);
      return rc;
    }
    if (attempt == DB_TX_MAX_RETRIES) {
      log_warn("db %s: transaction still conflicting after %d retries",
               pool->schema, DB_TX_MAX_RETRIES);
      trace_span_end(&span, true);
      return DB_SOFT_ERROR;
    }
    metric_inc(pool->tx_retries, labels, 1);
    /* Released before sleeping: a waiting connection helps nobody. */
    sleep_ms(backoff_delay_ms(attempt + 1, TX_BACKOFF_BASE_MS,
                              TX_BACKOFF_MAX_MS, backoff_random01()));
  }
}

/* --- ping ------------------------------------------------------------------ */

int db_ping(struct db_pool *pool, char *reason, size_t reason_size) {
  if (pool == NULL) {
    set_reason(reason, reason_size, "%s", "no database pool");
    return KIT_UNAVAILABLE;
  }
  int64_t deadline = clock_monotonic_ms() + pool->connect_timeout_ms;
  struct db_conn *c = acquire(pool, pool->connect_timeout_ms, reason,
                              reason_size);
  if (c == NULL) return KIT_UNAVAILABLE;

  /* Sent asynchronously so the wait for the answer is ours to bound. */
  int rc = KIT_UNAVAILABLE;
  char line[200];
  if (!PQsendQuery(c->pg, "SELECT 1")) {
    first_line(PQerrorMessage(c->pg), line, sizeof line);
    set_reason(reason, reason_size, "query failed: %s", line);
    c->lost = true;
    goto cleanup;
  }
  while (PQisBusy(c->pg)) {
    int64_t left = deadline - clock_monotonic_ms();
    struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};
    int n = left > 0 ? poll(&p, 1, (int)left) : 0;
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      set_reason(reason, reason_size, "%s", "no answer to SELECT 1 in time");
      c->lost = true; /* a query is in flight: the session is unusable */
      goto cleanup;
    }
    if (n < 0 || !PQconsumeInput(c->pg)) {
      first_line(PQerrorMessage(c->pg), line, sizeof line);
      set_reason(reason, reason_size, "connection lost: %s", line);
      c->lost = true;
      goto cleanup;
    }
  }
  rc = KIT_OK;
  PGresult *res;
  while ((res = PQgetResult(c->pg)) != NULL) {
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
      first_line(PQresultErrorMessage(res), line, sizeof line);
      set_reason(reason, reason_size, "SELECT 1 failed: %s", line);
      if (PQstatus(c->pg) == CONNECTION_BAD) c->lost = true;
      rc = KIT_UNAVAILABLE;
    }
    PQclear(res);
  }
cleanup:
  db_release(pool, c);
  return rc;
}

/* --- migrations ------------------------------------------------------------ */

static int by_version(const void *a, const void *b) {
  const struct migration *ma = *(const struct migration *const *)a;
  const struct migration *mb = *(const struct migration *const *)b;
  return (ma->version > mb->version) - (ma->version < mb->version);
}

/* Runs one statement on the migration connection; KIT_OK, KIT_UNAVAILABLE
 * when the connection broke, else KIT_ERROR (logged: the SQL is ours). */
static int migrate_exec(PGconn *pg, const char *schema, const char *what,
                        const char *sql, int nparams,
                        const char *const *params, PGresult **out) {
  PGresult *res = nparams > 0
                      ? PQexecParams(pg, sql, nparams, NULL, params, NULL,
                                     NULL, 0)
                      : PQexec(pg, sql);
  ExecStatusType st = PQresultStatus(res);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ||
      st == PGRES_EMPTY_QUERY) {
    if (out != NULL)
      *out = res;
    else
      PQclear(res);
    return KIT_OK;
  }
  const char *state =
      res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  const char *primary =
      res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  char line[300];
  first_line(primary != NULL ? primary : PQerrorMessage(pg), line,
             sizeof line);
  char fields[256] = "";
  add_field(fields, sizeof fields, "sqlstate", state != NULL ? state : "");
  add_field(fields, sizeof fields, "schema", schema);
  log_write_fields(LOG_ERROR, fields, "migrate %s: %s failed: %s", schema,
                   what, line);
  int rc = (PQstatus(pg) == CONNECTION_BAD || is_connection_loss(state))
               ? KIT_UNAVAILABLE
               : KIT_ERROR;
  PQclear(res); /* state and primary point into res */
  return rc;
}

/* Applies one migration and records it in `table` (schema_migrations, or
 * kit_migrations for the kit's own), atomically. Migrations must not
 * contain transaction control of their own (nor CREATE INDEX CONCURRENTLY). */
static int apply_one(PGconn *pg, const char *schema, const char *table,
                     const struct migration *m) {
  char what[160];
  char version[16];
  char record[128];
  snprintf(what, sizeof what, "migration %s%03d_%s",
           strcmp(table, "kit_migrations") == 0 ? "kit " : "", m->version,
           m->name);
  snprintf(version, sizeof version, "%d", m->version);
  snprintf(record, sizeof record,
           "INSERT INTO %s (version, name) VALUES ($1::integer, $2)", table);
  const char *params[] = {version, m->name};

  int rc = migrate_exec(pg, schema, "BEGIN", "BEGIN", 0, NULL, NULL);
  if (rc != KIT_OK) return rc;
  /* PQexec, the simple protocol: a migration holds several statements. */
  rc = migrate_exec(pg, schema, what, m->sql, 0, NULL, NULL);
  if (rc == KIT_OK) rc = migrate_exec(pg, schema, what, record, 2, params, NULL);
  if (rc == KIT_OK) rc = migrate_exec(pg, schema, what, "COMMIT", 0, NULL, NULL);
  if (rc != KIT_OK && PQstatus(pg) == CONNECTION_OK)
    PQclear(PQexec(pg, "ROLLBACK"));
  return rc;
}

/* Picks the migrations of `service` out of all, sorted by version, into
 * *out (caller frees). KIT_OK, KIT_NOMEM or KIT_ERROR (an invalid or
 * duplicated version, logged). */
static int select_migrations(const struct migration *all, size_t count,
                             const char *service, const char *schema,
                             const struct migration ***out, size_t *n_out) {
  const struct migration **mine = calloc(count + 1, sizeof *mine);
  size_t n = 0;
  *out = NULL;
  *n_out = 0;
  if (mine == NULL) return KIT_NOMEM;
  for (size_t i = 0; i < count; i++)
    if (all[i].service != NULL && strcmp(all[i].service, service) == 0)
      mine[n++] = &all[i];
  qsort(mine, n, sizeof *mine, by_version);
  for (size_t i = 0; i < n; i++) {
    if (mine[i]->version <= 0 || mine[i]->sql == NULL ||
        mine[i]->name == NULL ||
        (i > 0 && mine[i]->version == mine[i - 1]->version)) {
      log_error("migrate %s: %s migration %d is invalid or duplicated", schema,
                service, mine[i]->version);
      free(mine);
      return KIT_ERROR;
    }
  }
  *out = mine;
  *n_out = n;
  return KIT_OK;
}

/* Applies, in order, those of `list` not yet recorded in `table` (created
 * if missing). Both lists are sorted: they are walked together. */
static int apply_missing(PGconn *pg, const char *schema, const char *table,
                         const struct migration *const *list, size_t n,
                         int *applied) {
  char sql[256];
  PGresult *done = NULL;
  snprintf(sql, sizeof sql,
           "CREATE TABLE IF NOT EXISTS %s (version integer PRIMARY KEY, "
           "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT "
           "now())",
           table);
  int rc = migrate_exec(pg, schema, "create migrations table", sql, 0, NULL,
                        NULL);
  if (rc != KIT_OK) return rc;
  snprintf(sql, sizeof sql, "SELECT version FROM %s ORDER BY version", table);
  rc = migrate_exec(pg, schema, "read migrations table", sql, 0, NULL, &done);
  if (rc != KIT_OK) return rc;
  int rows = PQntuples(done);
  int row = 0;
  for (size_t i = 0; i < n; i++) {
    while (row < rows && atoi(PQgetvalue(done, row, 0)) < list[i]->version)
      row++;
    if (row < rows && atoi(PQgetvalue(done, row, 0)) == list[i]->version)
      continue;
    rc = apply_one(pg, schema, table, list[i]);
    if (rc != KIT_OK) break;
    log_info("migrate %s: applied %s%03d_%s", schema,
             strcmp(table, "kit_migrations") == 0 ? "kit " : "",
             list[i]->version, list[i]->name);
    if (applied != NULL) (*applied)++;
  }
  PQclear(done);
  return rc;
}

int db_migrate(const char *url, const char *schema,
               const struct migration *all, size_t count, int *applied) {
  int rc = KIT_ERROR;
  const struct migration **mine = NULL;
  const struct migration **kit = NULL;
  size_t n = 0;
  size_t n_kit = 0;
  PGconn *pg = NULL;
  char *ident = NULL;
  bool locked = false;
  const char *lock_params[] = {schema};

  if (applied != NULL) *applied = 0;
  if (url == NULL || schema == NULL || *schema == '\0' ||
      (all == NULL && count > 0)) {
    log_error("db_migrate: missing URL or schema");
    return KIT_ERROR;
  }

  rc = select_migrations(all, count, schema, schema, &mine, &n);
  if (rc == KIT_OK)
    rc = select_migrations(all, count, DB_KIT_MIGRATIONS, schema, &kit, &n_kit);
  if (rc != KIT_OK) {
    rc = KIT_ERROR;
    goto cleanup;
  }

  /* A dedicated session, not a pool's: the advisory lock is session-scoped
   * and the schema may not exist yet. */
  char reason[200] = "";
  char timeout_s[16];
  int seconds = DEFAULT_CONNECT_TIMEOUT_S;
  if (url_connect_timeout(url, &seconds) != KIT_OK) {
    log_error("migrate %s: the database URL is not a valid connection string",
              schema);
    rc = KIT_ERROR;
    goto cleanup;
  }
  snprintf(timeout_s, sizeof timeout_s, "%d", seconds);
  pg = pg_connect(url, "shopsphere-migrate", timeout_s, NULL, reason,
                  sizeof reason);
  if (pg == NULL) {
    log_warn("migrate %s: %s", schema, reason);
    rc = KIT_UNAVAILABLE;
    goto cleanup;
  }

  /* Lock before CREATE SCHEMA IF NOT EXISTS: run concurrently, that
   * statement can itself fail with a duplicate key. Waits for as long as
   * another migrator takes; migrations may legitimately be slow. */
  rc = migrate_exec(pg, schema, "advisory lock",
                    "SELECT pg_advisory_lock(hashtext('shopsphere.migrate.' "
                    "|| $1))",
                    1, lock_params, NULL);
  if (rc != KIT_OK) goto cleanup;
  locked = true;

  ident = PQescapeIdentifier(pg, schema, strlen(schema));
  if (ident == NULL) {
    log_error("migrate %s: cannot quote the schema name", schema);
    rc = KIT_ERROR;
    goto cleanup;
  }
  char sql[256];
  snprintf(sql, sizeof sql, "CREATE SCHEMA IF NOT EXISTS %s", ident);
  rc = migrate_exec(pg, schema, "create schema", sql, 0, NULL, NULL);
  if (rc != KIT_OK) goto cleanup;
  snprintf(sql, sizeof sql, "SET search_path TO %s", ident);
  rc = migrate_exec(pg, schema, "set search_path", sql, 0, NULL, NULL);
  if (rc != KIT_OK) goto cleanup;

  /* The kit's tables (outbox, inbox) first, so a service's own migrations
   * may refer to them; their versions live in their own table and never
   * clash with the service's numbering. */
  if (n_kit > 0) {
    rc = apply_missing(pg, schema, "kit_migrations", kit, n_kit, applied);
    if (rc != KIT_OK) goto cleanup;
  }
  rc = apply_missing(pg, schema, "schema_migrations", mine, n, applied);

cleanup:
  if (locked && PQstatus(pg) == CONNECTION_OK) {
    /* Closing the session would release it too; this is just prompt. */
    PQclear(PQexecParams(pg,
                         "SELECT pg_advisory_unlock(hashtext("
                         "'shopsphere.migrate.' || $1))",
                         1, NULL, lock_params, NULL, NULL, 0));
  }
  if (ident != NULL) PQfreemem(ident);
  if (pg != NULL) PQfinish(pg);
  free(mine);
  free(kit);
  return rc;
}
