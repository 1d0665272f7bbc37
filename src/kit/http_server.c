/* http_server.c - the HTTP server on libmicrohttpd.
 *
 * One epoll daemon per service with a pool of threads (handlers may block on
 * PostgreSQL, so more threads than cores). Per request: the raw URI is taken
 * from the URI log callback (libmicrohttpd hands handlers a decoded path
 * without its query), headers are collected, the body is accumulated up to
 * the cap (413 beyond, in our envelope), then http_handle() runs the
 * middleware and the router, and the struct http_response becomes an MHD
 * response. The request context, its arena and body are freed in the
 * completion callback, whatever happened.
 *
 * A streamed body (res->stream, http.h) becomes a callback response: when
 * its producer has nothing yet, the connection is suspended (it leaves the
 * event loop and holds no thread) until http_stream_wake resumes it. The
 * server keeps a list of its live streams so that stopping ends them first:
 * libmicrohttpd must not be stopped with a connection suspended.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kit/breaker.h"
#include "kit/http.h"
#include "kit/log.h"

/* Bodies up to this many times the cap are read and dropped before the 413
 * goes out; larger ones are answered at once and the connection closed. */
#define DISCARD_FACTOR 8

struct http_stream {
  http_stream_read_fn read;
  http_stream_close_fn close;
  void *ctx;
  pthread_mutex_t lock;       /* the fields below */
  struct MHD_Connection *con; /* NULL until a server took the stream */
  struct http_server *server;
  bool suspended;                  /* parked: wake resumes it */
  bool pending;                    /* woken while not parked: read again */
  bool ending;                     /* the server stops: end at the next read */
  struct http_stream *prev, *next; /* the server's list */
};

/* A connection while it reads a request's headers (slowloris bound). */
struct tracked_conn {
  MHD_socket fd;
  int64_t deadline_ms; /* the current request's headers must be in by then */
  bool in_headers;     /* false while a request is handled or answered */
  bool cut;               /* shut down by the watchdog */
  struct tracked_conn *prev, *next;
};

struct http_server {
  struct MHD_Daemon *daemon;
  /* Header deadline: a client must finish a request's headers within
   * header_timeout_ms of its request line, however slowly it trickles bytes
   * (the idle timeout alone resets at every byte); the request line itself
   * within line_timeout_ms of the connection or the previous answer. */
  pthread_mutex_t conns_lock;
  struct tracked_conn *conns;
  int64_t header_timeout_ms, line_timeout_ms;
  pthread_t watchdog;
  bool watchdog_running;
  atomic_bool stopping;
  pthread_mutex_t streams_lock;
  struct http_stream *streams; /* live streamed responses */
  const struct router *router;
  struct service *svc;
  char service_name[48];
  long max_body_bytes;
  atomic_int inflight;
  bool quiesced;
};

/* Everything one request owns. */
struct request_ctx {
  struct arena arena;
  char *uri;           /* raw request target, arena-owned */
  char *body;          /* malloc'd, NUL-terminated */
  size_t body_len;
  size_t body_cap;
  bool too_large;
  size_t received; /* body bytes read, kept or dropped */
  bool started;
  struct http_request req;
};

/* --- the header deadline -------------------------------------------------- */

static struct tracked_conn *tracked(struct MHD_Connection *con) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci ? ci->socket_context : NULL;
}

/* A request begins (in_headers, with timeout_ms to finish what comes
 * next) or its headers are complete (!in_headers). The deadline counts
 * from the request line, which the server reads in the same pass as the
 * headers that have arrived: a busy server never cuts a prompt client. */
static void track_phase(struct http_server *s, struct MHD_Connection *con,
                        bool in_headers, int64_t timeout_ms) {
  struct tracked_conn *tc = tracked(con);
  if (tc == NULL) return;
  pthread_mutex_lock(&s->conns_lock);
  tc->in_headers = in_headers;
  tc->deadline_ms = clock_monotonic_ms() + timeout_ms;
  pthread_mutex_unlock(&s->conns_lock);
}

static void on_connection(void *cls, struct MHD_Connection *con,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
  struct http_server *s = cls;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct tracked_conn *tc = calloc(1, sizeof *tc);
    if (tc == NULL || ci == NULL) {
      free(tc);
      return;
    }
    tc->fd = ci->connect_fd;
    tc->in_headers = true;
    tc->deadline_ms = clock_monotonic_ms() + s->line_timeout_ms;
    pthread_mutex_lock(&s->conns_lock);
    tc->next = s->conns;
    if (s->conns) s->conns->prev = tc;
    s->conns = tc;
    pthread_mutex_unlock(&s->conns_lock);
    *socket_context = tc;
  } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
    struct tracked_conn *tc = *socket_context;
    pthread_mutex_lock(&s->conns_lock);
    if (tc->prev) tc->prev->next = tc->next;
    if (tc->next) tc->next->prev = tc->prev;
    if (s->conns == tc) s->conns = tc->next;
    pthread_mutex_unlock(&s->conns_lock);
    free(tc);
    *socket_context = NULL;
  }
}

/* Every half second: shuts down the sockets of connections still in their
 * header phase past the deadline; MHD then sees the end and closes them.
 * The lock keeps MHD from closing (and the kernel from reusing) a tracked
 * fd meanwhile: MHD notifies the close before it closes the socket. */
static void *header_watchdog(void *arg) {
  struct http_server *s = arg;
  while (!atomic_load(&s->stopping)) {
    usleep(500 * 1000);
    int64_t now = clock_monotonic_ms();
    int cut = 0;
    pthread_mutex_lock(&s->conns_lock);
    for (struct tracked_conn *tc = s->conns; tc; tc = tc->next) {
      if (tc->in_headers && !tc->cut && now > tc->deadline_ms) {
        shutdown(tc->fd, SHUT_RDWR);
        tc->cut = true;
        cut++;
      }
    }
    pthread_mutex_unlock(&s->conns_lock);
    if (cut > 0)
      log_info("%s: closed %d connection(s) too slow to send a request's "
               "headers (%lld ms after its request line)",
               s->service_name, cut, (long long)s->header_timeout_ms);
  }
  return NULL;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con) {
  struct http_server *s = cls;
  struct request_ctx *ctx = calloc(1, sizeof *ctx);
  if (ctx == NULL) return NULL;
  arena_init(&ctx->arena, 4096);
  ctx->uri = arena_strdup(&ctx->arena, uri);
  track_phase(s, con, true, s->header_timeout_ms);
  atomic_fetch_add(&s->inflight, 1);
  return ctx;
}

static void on_completed(void *cls, struct MHD_Connection *con, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  struct http_server *s = cls;
  struct request_ctx *ctx = *con_cls;
  /* The next request's line, if any. */
  track_phase(s, con, true, s->line_timeout_ms);
  if (ctx == NULL) return;
  free(ctx->body);
  arena_free(&ctx->arena);
  free(ctx);
  *con_cls = NULL;
  atomic_fetch_sub(&s->inflight, 1);
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind,
                                      const char *key, const char *value) {
  struct http_request *req = cls;
  if (req->header_count >= HTTP_MAX_HEADERS) return MHD_NO; /* stop */
  req->headers[req->header_count].name = key;
  req->headers[req->header_count].value = value ? value : "";
  req->header_count++;
  return MHD_YES;
}

/* --- streamed bodies --------------------------------------------------- */

struct http_stream *http_stream_create(http_stream_read_fn read,
                                       http_stream_close_fn close, void *ctx) {
  struct http_stream *s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  s->read = read;
  s->close = close;
  s->ctx = ctx;
  pthread_mutex_init(&s->lock, NULL);
  return s;
}

void http_stream_destroy(struct http_stream *s) {
  if (s == NULL) return;
  if (s->close != NULL) s->close(s->ctx);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

void http_stream_wake(struct http_stream *s) {
  if (s == NULL) return;
  pthread_mutex_lock(&s->lock);
  if (s->suspended) {
    s->suspended = false;
    MHD_resume_connection(s->con);
  } else {
    s->pending = true;
  }
  pthread_mutex_unlock(&s->lock);
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max) {
  (void)pos;
  struct http_stream *s = cls;
  for (;;) {
    pthread_mutex_lock(&s->lock);
    bool ending = s->ending;
    s->pending = false;
    pthread_mutex_unlock(&s->lock);
    if (ending) return MHD_CONTENT_READER_END_OF_STREAM;
    /* Not under s->lock: the producer wakes under its own lock, which
     * `read` may take too. */
    long n = s->read(s->ctx, buf, max);
    if (n > 0) return (ssize_t)n;
    if (n < 0) return MHD_CONTENT_READER_END_OF_STREAM;
    pthread_mutex_lock(&s->lock);
    if (s->pending || s->ending) { /* woken meanwhile: read again */
      pthread_mutex_unlock(&s->lock);
      continue;
    }
    s->suspended = true;
    MHD_suspend_connection(s->con);
    pthread_mutex_unlock(&s->lock);
    return 0;
  }
}

static void stream_free(void *cls) {
  struct http_stream *s = cls;
  struct http_server *srv = s->server;
  if (srv != NULL) {
    pthread_mutex_lock(&srv->streams_lock);
    if (s->prev != NULL)
      s->prev->next = s->next;
    else
      srv->streams = s->next;
    if (s->next != NULL) s->next->prev = s->prev;
    pthread_mutex_unlock(&srv->streams_lock);
  }
  http_stream_destroy(s);
}

/* Ends every live stream (at their next read) and resumes the parked ones. */
static void end_streams(struct http_server *srv) {
  pthread_mutex_lock(&srv->streams_lock);
  for (struct http_stream *s = srv->streams; s != NULL; s = s->next) {
    pthread_mutex_lock(&s->lock);
    s->ending = true;
    if (s->suspended) {
      s->suspended = false;
      MHD_resume_connection(s->con);
    }
    pthread_mutex_unlock(&s->lock);
  }
  pthread_mutex_unlock(&srv->streams_lock);
}

/* A callback response pulling from res->stream, which it takes. */
static struct MHD_Response *stream_response(struct http_server *srv,
                                            struct MHD_Connection *con,
                                            struct http_response *res) {
  struct http_stream *s = res->stream;
  struct MHD_Response *mr = MHD_create_response_from_callback(
      MHD_SIZE_UNKNOWN, 4096, stream_reader, s, stream_free);
  if (mr == NULL) return NULL;
  res->stream = NULL; /* MHD owns it now: stream_free ends it */
  s->con = con;
  s->server = srv;
  pthread_mutex_lock(&srv->streams_lock);
  s->next = srv->streams;
  if (s->next != NULL) s->next->prev = s;
  srv->streams = s;
  pthread_mutex_unlock(&srv->streams_lock);
  return mr;
}

/* Turns our response into an MHD one and queues it. */
static enum MHD_Result send_response(struct http_server *srv,
                                     struct MHD_Connection *con,
                                     struct http_response *res,
                                     bool head_request) {
  struct MHD_Response *mr;
  if (res->stream != NULL && !head_request) {
    mr = stream_response(srv, con, res);
  } else if (head_request) {
    mr = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
  } else {
    /* MHD takes the body and frees it with free(). */
    mr = MHD_create_response_from_buffer(res->body_len,
                                         res->body ? res->body : "",
                                         res->body ? MHD_RESPMEM_MUST_FREE
                                                   : MHD_RESPMEM_PERSISTENT);
    if (mr != NULL) res->body = NULL;
  }
  if (mr == NULL) return MHD_NO;
  if (res->content_type[0] != '\0')
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                            res->content_type);
  for (size_t i = 0; i < res->header_count; i++)
    MHD_add_response_header(mr, res->headers[i].name, res->headers[i].value);
  /* Every answer: a browser never guesses a type other than the one we
   * name (a JSON error page is not a script). */
  if (http_response_get_header(res, "X-Content-Type-Options") == NULL)
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
  enum MHD_Result r = MHD_queue_response(con, res->status, mr);
  MHD_destroy_response(mr);
  return r;
}

static void fill_request(struct http_server *s, struct request_ctx *ctx,
                         struct MHD_Connection *con, const char *method) {
  struct http_request *req = &ctx->req;
  req->arena = &ctx->arena;
  req->svc = s->svc;
  req->method = arena_strdup(&ctx->arena, method);
  char *q = ctx->uri ? strchr(ctx->uri, '?') : NULL;
  if (q != NULL) {
    *q = '\0';
    req->query = q + 1;
  } else {
    req->query = "";
  }
  req->path = ctx->uri && ctx->uri[0] == '/' ? ctx->uri : "/";
  MHD_get_connection_values(con, MHD_HEADER_KIND, collect_header, req);

  char ip[INET6_ADDRSTRLEN] = "";
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (ci != NULL && ci->client_addr != NULL) {
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
      inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip,
                sizeof ip);
    else if (sa->sa_family == AF_INET6)
      inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip,
                sizeof ip);
  }
  req->client_ip = arena_strdup(&ctx->arena, ip);
}

/* Answers an error in the envelope before the body was read, and closes
 * the connection (ids assigned so the trace id is right). */
static enum MHD_Result refuse_early(struct http_server *s,
                                    struct request_ctx *ctx,
                                    struct MHD_Connection *con,
                                    enum api_error error, const char *route,
                                    const char *msg, const char *details) {
  struct http_response res;
  http_response_init(&res);
  http_assign_ids(&ctx->req);
  ctx->req.route = route;
  http_reply_error(&res, &ctx->req, error, msg, details);
  http_response_header(&res, "X-Request-Id", ctx->req.request_id);
  http_response_header(&res, "Connection", "close");
  log_context_set(s->service_name, ctx->req.trace_id, ctx->req.request_id);
  log_warn("refused %s %s: %s", ctx->req.method, ctx->req.path, msg);
  log_context_clear();
  enum MHD_Result r = send_response(s, con, &res, false);
  http_response_clear(&res);
  return r;
}

/* Answers 413 in the envelope. */
static enum MHD_Result reply_too_large(struct http_server *s,
                                       struct request_ctx *ctx,
                                       struct MHD_Connection *con) {
  char msg[96];
  snprintf(msg, sizeof msg, "request body exceeds %ld bytes",
           s->max_body_bytes);
  return refuse_early(s, ctx, con, API_PAYLOAD_TOO_LARGE, "too_large", msg,
                      NULL);
}

/* How a request says where its body ends, over every header line (not just
 * the ones collected into the request). */
struct framing {
  const char *length; /* the first Content-Length */
  int lengths, encodings;
  bool ambiguous;
};

static enum MHD_Result scan_framing(void *cls, enum MHD_ValueKind kind,
                                    const char *key, const char *value) {
  (void)kind;
  struct framing *f = cls;
  value = value ? value : "";
  if (strcasecmp(key, "Content-Length") == 0) {
    /* Digits only: no sign, no list, no spaces inside. */
    if (value[0] == '\0' || strspn(value, "0123456789") != strlen(value))
      f->ambiguous = true;
    if (f->lengths++ > 0 && strcmp(f->length, value) != 0) f->ambiguous = true;
    if (f->length == NULL) f->length = value;
  } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
    if (f->encodings++ > 0 || strcasecmp(value, "chunked") != 0)
      f->ambiguous = true;
  }
  return MHD_YES;
}

/* Request smuggling (RFC 9112 §6.3): two different Content-Lengths, one
 * that is not a number, both Content-Length and Transfer-Encoding, or a
 * transfer coding other than chunked would let two parsers on the way
 * disagree on where this request ends and the next begins. Refused. */
static bool framing_ambiguous(struct MHD_Connection *con) {
  struct framing f = {0};
  MHD_get_connection_values(con, MHD_HEADER_KIND, scan_framing, &f);
  return f.ambiguous || (f.lengths > 0 && f.encodings > 0);
}

/* true when s holds an escaped NUL byte ("%00"). */
static bool has_nul_escape(const char *s, size_t n) {
  for (size_t i = 0; i + 2 < n; i++)
    if (s[i] == '%' && s[i + 1] == '0' && s[i + 2] == '0') return true;
  return false;
}

/* A NUL byte in a query value would cut it short where C code reads it
 * ("limit=1%00junk" read as 1): such a value is refused, naming its
 * parameter (into name, size 64; "query" when the name is odd). */
static bool query_has_nul(const char *query, char name[64]) {
  for (const char *seg = query; *seg;) {
    size_t len = strcspn(seg, "&");
    if (has_nul_escape(seg, len)) {
      size_t key = strcspn(seg, "=&");
      bool plain = key > 0 && key < 64;
      for (size_t i = 0; plain && i < key; i++)
        plain = (seg[i] >= 'a' && seg[i] <= 'z') || seg[i] == '_' ||
                (seg[i] >= 'A' && seg[i] <= 'Z') ||
                (seg[i] >= '0' && seg[i] <= '9');
      snprintf(name, 64, "%.*s", plain ? (int)key : 5, plain ? seg : "query");
      return true;
    }
    seg += len;
    if (*seg == '&') seg++;
  }
  return false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
  struct http_server *s = cls;
  struct request_ctx *ctx = *con_cls;
  if (ctx == NULL) return MHD_NO; /* out of memory in on_uri */

  if (!ctx->started) {
    ctx->started = true;
    track_phase(s, con, false, 0);
    fill_request(s, ctx, con, method);
    if (framing_ambiguous(con))
      return refuse_early(s, ctx, con, API_VALIDATION_ERROR, "bad_framing",
                          "ambiguous message framing (Content-Length / "
                          "Transfer-Encoding)",
                          NULL);
    char param[64];
    if (has_nul_escape(ctx->req.path, strlen(ctx->req.path)))
      return refuse_early(s, ctx, con, API_NOT_FOUND, "unmatched",
                          "no such resource", NULL);
    if (query_has_nul(ctx->req.query, param))
      return refuse_early(s, ctx, con, API_UNPROCESSABLE, "bad_query",
                          "a query parameter holds a NUL byte", param);
    const char *cl = http_header(&ctx->req, "Content-Length");
    long long declared = cl != NULL ? strtoll(cl, NULL, 10) : 0;
    if (declared > s->max_body_bytes * DISCARD_FACTOR)
      return reply_too_large(s, ctx, con);
    /* Moderately oversized: read and drop the body, then answer 413. A
     * client still sending when we answer and close would see a reset
     * instead of our error. */
    if (declared > s->max_body_bytes) ctx->too_large = true;
    return MHD_YES;
  }

  if (*upload_data_size > 0) {
    size_t n = *upload_data_size;
    *upload_data_size = 0;
    ctx->received += n;
    if (ctx->too_large) {
      if (ctx->received > (size_t)s->max_body_bytes * DISCARD_FACTOR)
        return reply_too_large(s, ctx, con);
      return MHD_YES;
    }
    if (ctx->body_len + n > (size_t)s->max_body_bytes) {
      ctx->too_large = true; /* chunked upload beyond the cap */
      return MHD_YES;
    }
    if (ctx->body_len + n + 1 > ctx->body_cap) {
      size_t cap = ctx->body_cap ? ctx->body_cap : 1024;
      while (cap < ctx->body_len + n + 1) cap *= 2;
      char *grown = realloc(ctx->body, cap);
      if (grown == NULL) return MHD_NO;
      ctx->body = grown;
      ctx->body_cap = cap;
    }
    memcpy(ctx->body + ctx->body_len, upload_data, n);
    ctx->body_len += n;
    ctx->body[ctx->body_len] = '\0';
    return MHD_YES;
  }

  if (ctx->too_large) return reply_too_large(s, ctx, con);

  struct http_request *req = &ctx->req;
  req->body = ctx->body ? ctx->body : "";
  req->body_len = ctx->body_len;

  struct http_response res;
  http_response_init(&res);
  http_handle(s->router, s->service_name, req, &res);
  enum MHD_Result r = send_response(s, con, &res, strcmp(method, "HEAD") == 0);
  http_response_clear(&res);
  log_context_clear();
  return r;
}

static void on_panic(void *cls, const char *file, unsigned int line,
                     const char *reason) {
  log_error("libmicrohttpd panic at %s:%u: %s", file ? file : "?", line,
            reason ? reason : "?");
  abort();
}

struct http_server *http_server_start(const struct http_server_options *opt,
                                      const struct router *router,
                                      struct service *svc) {
  struct http_server *s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  s->router = router;
  s->svc = svc;
  s->max_body_bytes = opt->max_body_bytes;
  snprintf(s->service_name, sizeof s->service_name, "%s", opt->service_name);
  atomic_init(&s->inflight, 0);
  atomic_init(&s->stopping, false);
  pthread_mutex_init(&s->streams_lock, NULL);
  pthread_mutex_init(&s->conns_lock, NULL);
  s->header_timeout_ms = (int64_t)opt->connection_timeout_s * 1000;
  /* Generous: a connection may wait while the server is busy before its
   * line is read; the idle timeout closes a silent one sooner. */
  s->line_timeout_ms =
      s->header_timeout_ms * 4 > 60000 ? s->header_timeout_ms * 4 : 60000;
  http_middleware_init();

  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)opt->port);
  if (inet_pton(AF_INET, opt->bind_address, &addr.sin_addr) != 1) {
    log_error("bind address %s is not an IPv4 address", opt->bind_address);
    pthread_mutex_destroy(&s->conns_lock);
    pthread_mutex_destroy(&s->streams_lock);
    free(s);
    return NULL;
  }

  MHD_set_panic_func(on_panic, NULL);
  unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_USE_ITC |
                   MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
  s->daemon = MHD_start_daemon(
      flags, (uint16_t)opt->port, NULL, NULL, on_request, s,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned)opt->threads,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)opt->connection_timeout_s,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned)opt->max_connections,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)opt->max_header_bytes,
      MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
      MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
      MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
      MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024,
      MHD_OPTION_END);
  if (s->daemon == NULL) {
    log_error("cannot listen on %s:%d (port in use?)", opt->bind_address,
              opt->port);
    pthread_mutex_destroy(&s->conns_lock);
    pthread_mutex_destroy(&s->streams_lock);
    free(s);
    return NULL;
  }
  s->watchdog_running =
      pthread_create(&s->watchdog, NULL, header_watchdog, s) == 0;
  if (!s->watchdog_running)
    log_warn("no header deadline: the watchdog thread did not start");
  log_info("listening on http://%s:%d with %d threads", opt->bind_address,
           opt->port, opt->threads);
  return s;
}

void http_server_quiesce(struct http_server *s) {
  if (s == NULL || s->quiesced) return;
  MHD_socket fd = MHD_quiesce_daemon(s->daemon);
  if (fd != MHD_INVALID_SOCKET) close(fd);
  s->quiesced = true;
}

int http_server_inflight(const struct http_server *s) {
  return atomic_load(&((struct http_server *)s)->inflight);
}

void http_server_stop(struct http_server *s, int grace_ms) {
  if (s == NULL) return;
  http_server_quiesce(s);
  end_streams(s);
  int64_t deadline = clock_monotonic_ms() + grace_ms;
  while (atomic_load(&s->inflight) > 0 && clock_monotonic_ms() < deadline)
    usleep(10 * 1000);
  if (atomic_load(&s->inflight) > 0)
    log_warn("stopping with %d requests still in flight",
             atomic_load(&s->inflight));
  /* A stream that began after end_streams (a request in flight then). */
  end_streams(s);
  MHD_stop_daemon(s->daemon);
  atomic_store(&s->stopping, true);
  if (s->watchdog_running) pthread_join(s->watchdog, NULL);
  pthread_mutex_destroy(&s->conns_lock);
  pthread_mutex_destroy(&s->streams_lock);
  free(s);
}
