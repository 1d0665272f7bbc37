/* mail.c - the sandbox mail server (an external system).
 *
 * Simulates the mail relay and the recipients' mailboxes of the outside
 * world, as its own process (DESIGN §1, §5 "Sandbox mail"):
 *   SMTP on port base+18 (SHOPSPHERE_SMTP_PORT): plain SMTP, no TLS or AUTH
 *        (a local test server); messages up to MAX_MESSAGE_BYTES;
 *   HTTP on port base+17 (8097 in dev):
 *     GET /messages?to=&limit=  the inbox of an address (or every inbox),
 *                               newest first: {items: [{id, from, to,
 *                               subject, text, html, received_at}]}
 *     GET /messages/{id}        one message
 *     GET /                     a small inbox page for a person
 *
 * Every recipient of a message gets their own copy (`to` is that one
 * address). A message carrying a Message-ID that the recipient already has is
 * acknowledged and dropped: the notification service derives the Message-ID
 * from its delivery id, so a mail resent after a crash between "sent" and
 * "recorded as sent" does not show twice (a real provider's API does the same
 * with an idempotency key).
 *
 * State lives in memory (a restart empties every inbox) and is bounded: the
 * oldest messages go beyond MAX_MESSAGES. The SMTP side runs one thread per
 * connection (few, short-lived: the notification service's sends); the
 * conversation and MIME parsing are in mail_parse.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kit/handler.h"
#include "kit/log.h"
#include "kit/service.h"
#include "kit/uuid.h"
#include "sandbox/mail_parse.h"

#define MAX_MESSAGES 5000
#define MAX_MESSAGE_BYTES (10u << 20)
#define READ_BUF 65536
#define IDLE_TIMEOUT_MS 60000
#define POLL_MS 200
#define PAGE_MESSAGES 50

struct stored_message {
  char id[40];
  char received_at[32];
  char to[SMTP_ADDR_MAX + 1];
  struct mail_message m; /* message_id, from, subject, text, html */
};

struct mailbox {
  const struct config *cfg;
  pthread_mutex_t lock;
  struct stored_message **messages; /* oldest first */
  size_t count, cap;
  int listen_fd;
  pthread_t listener;
  bool listener_started;
  atomic_bool stopping;
  atomic_int connections; /* SMTP connection threads alive */
  atomic_long received;   /* messages stored (for the log) */
};

struct connection {
  struct mailbox *box;
  int fd;
  char peer[INET6_ADDRSTRLEN];
};

static void now_rfc3339(char out[32]) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char base[24];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 32, "%.19s.%03dZ", base, (int)(ts.tv_nsec / 1000000) % 1000);
}

/* --- the store --------------------------------------------------------- */

static void stored_free(struct stored_message *s) {
  if (s == NULL) return;
  mail_message_free(&s->m);
  free(s);
}

/* Stores a copy of m for one recipient unless that inbox already has its
 * Message-ID. Takes the lock. */
static void store_copy(struct mailbox *box, const struct mail_message *m,
                       const char *envelope_from, const char *to) {
  pthread_mutex_lock(&box->lock);
  if (m->message_id[0] != '\0') {
    for (size_t i = 0; i < box->count; i++) {
      const struct stored_message *s = box->messages[i];
      if (strcasecmp(s->to, to) == 0 &&
          strcmp(s->m.message_id, m->message_id) == 0) {
        pthread_mutex_unlock(&box->lock);
        log_info("sandbox-mail: duplicate Message-ID <%s> for %s dropped",
                 m->message_id, to);
        return;
      }
    }
  }
  struct stored_message *s = calloc(1, sizeof *s);
  if (s == NULL) goto fail;
  uuid_v7(s->id);
  now_rfc3339(s->received_at);
  snprintf(s->to, sizeof s->to, "%s", to);
  s->m.message_id = strdup(m->message_id);
  s->m.from = strdup(m->from[0] ? m->from : envelope_from);
  s->m.to = strdup(m->to);
  s->m.subject = strdup(m->subject);
  s->m.text = strdup(m->text);
  s->m.html = strdup(m->html);
  if (!s->m.message_id || !s->m.from || !s->m.to || !s->m.subject ||
      !s->m.text || !s->m.html)
    goto fail;
  if (box->count == MAX_MESSAGES) {
    stored_free(box->messages[0]);
    memmove(box->messages, box->messages + 1,
            (box->count - 1) * sizeof *box->messages);
    box->count--;
  }
  if (box->count == box->cap) {
    size_t cap = box->cap ? box->cap * 2 : 64;
    struct stored_message **grown = realloc(box->messages, cap * sizeof *grown);
    if (grown == NULL) goto fail;
    box->messages = grown;
    box->cap = cap;
  }
  box->messages[box->count++] = s;
  atomic_fetch_add(&box->received, 1);
  pthread_mutex_unlock(&box->lock);
  log_info("sandbox-mail: message %s '%s' for %s", s->id, s->m.subject, to);
  return;
fail:
  pthread_mutex_unlock(&box->lock);
  stored_free(s);
  log_error("sandbox-mail: out of memory storing a message for %s", to);
}

static void deliver(struct mailbox *box, const struct smtp_session *session,
                    const char *raw, size_t len) {
  struct mail_message m;
  if (!mail_parse(raw, len, &m)) {
    log_error("sandbox-mail: out of memory parsing a message");
    return;
  }
  for (int i = 0; i < session->rcpt_count; i++)
    store_copy(box, &m, session->from, session->rcpts[i]);
  mail_message_free(&m);
}

/* --- SMTP -------------------------------------------------------------- */

static bool send_all(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    s += w;
    n -= (size_t)w;
  }
  return true;
}

static void *connection_main(void *arg) {
  struct connection *c = arg;
  struct mailbox *box = c->box;
  log_set_process("sandbox-mail");
  struct smtp_session s;
  smtp_session_init(&s, MAX_MESSAGE_BYTES);
  char *buf = malloc(READ_BUF);
  size_t have = 0;
  int idle_ms = 0;
  static const char greeting[] = "220 sandbox-mail ESMTP ready\r\n";
  bool open = buf != NULL && send_all(c->fd, greeting, sizeof greeting - 1);
  while (open && !atomic_load(&box->stopping) && idle_ms < IDLE_TIMEOUT_MS) {
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int r = poll(&p, 1, POLL_MS);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    if (r == 0) {
      idle_ms += POLL_MS;
      continue;
    }
    idle_ms = 0;
    ssize_t n = recv(c->fd, buf + have, READ_BUF - have, 0);
    if (n <= 0) break;
    have += (size_t)n;
    size_t start = 0;
    for (size_t i = 0; i < have && open; i++) {
      if (buf[i] != '\n') continue;
      size_t len = i - start;
      if (len > 0 && buf[start + len - 1] == '\r') len--;
      char reply[512];
      enum smtp_action a =
          smtp_session_line(&s, buf + start, len, reply, sizeof reply);
      start = i + 1;
      if (a == SMTP_NO_REPLY) continue;
      if (a == SMTP_MESSAGE) {
        struct smtp_session envelope = s; /* from and rcpts, by value */
        envelope.data = NULL;
        size_t raw_len = 0;
        char *raw = smtp_session_take(&s, &raw_len);
        deliver(box, &envelope, raw, raw_len);
        free(raw);
      }
      open = send_all(c->fd, reply, strlen(reply)) && a != SMTP_REPLY_CLOSE;
    }
    memmove(buf, buf + start, have - start);
    have -= start;
    if (have == READ_BUF) { /* a line longer than the buffer */
      char reply[512];
      enum smtp_action a =
          smtp_session_line(&s, buf, have, reply, sizeof reply);
      have = 0;
      if (a != SMTP_NO_REPLY && a != SMTP_MESSAGE)
        open = send_all(c->fd, reply, strlen(reply)) && a != SMTP_REPLY_CLOSE;
    }
  }
  if (open && idle_ms >= IDLE_TIMEOUT_MS) {
    static const char bye[] = "421 4.4.2 idle too long, closing\r\n";
    send_all(c->fd, bye, sizeof bye - 1);
  }
  smtp_session_free(&s);
  free(buf);
  close(c->fd);
  free(c);
  atomic_fetch_sub(&box->connections, 1);
  return NULL;
}

static void *listener_main(void *arg) {
  struct mailbox *box = arg;
  log_set_process("sandbox-mail");
  while (!atomic_load(&box->stopping)) {
    struct pollfd p = {.fd = box->listen_fd, .events = POLLIN};
    int r = poll(&p, 1, POLL_MS);
    if (r <= 0) continue;
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int fd = accept(box->listen_fd, (struct sockaddr *)&peer, &plen);
    if (fd < 0) continue;
    struct connection *c = calloc(1, sizeof *c);
    if (c == NULL) {
      close(fd);
      continue;
    }
    c->box = box;
    c->fd = fd;
    inet_ntop(AF_INET, &peer.sin_addr, c->peer, sizeof c->peer);
    atomic_fetch_add(&box->connections, 1);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, connection_main, c) != 0) {
      atomic_fetch_sub(&box->connections, 1);
      close(fd);
      free(c);
    }
    pthread_attr_destroy(&attr);
  }
  return NULL;
}

static int listen_smtp(const char *address, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, address, &addr.sin_addr) != 1 ||
      bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
      listen(fd, 128) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* --- HTTP -------------------------------------------------------------- */

static struct mailbox *box_of(const struct http_request *req) {
  return req->svc->state;
}

static json_t *message_json(const struct stored_message *s) {
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", s->id, "from",
                   s->m.from, "to", s->to, "subject", s->m.subject, "text",
                   s->m.text, "html", s->m.html, "received_at", s->received_at);
}

/* Reads ?to= and ?limit=; false when it answered 422. */
static bool read_filter(struct http_request *req, struct http_response *res,
                        const char **to, long *limit) {
  *to = http_query(req, "to");
  if (*to != NULL &&
      (strlen(*to) > SMTP_ADDR_MAX || !json_utf8_valid(*to, strlen(*to)))) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "to must be an e-mail address", "to");
    return false;
  }
  if (*to != NULL && (*to)[0] == '\0') *to = NULL;
  const char *limit_s = http_query(req, "limit");
  if (limit_s != NULL) {
    char *end = NULL;
    *limit = strtol(limit_s, &end, 10);
    if (end == limit_s || *end != '\0' || *limit < 1 || *limit > 1000) {
      http_reply_error(res, req, API_UNPROCESSABLE,
                       "limit must be a whole number from 1 to 1000", "limit");
      return false;
    }
  }
  return true;
}

static void handle_list(struct http_request *req, struct http_response *res) {
  struct mailbox *box = box_of(req);
  const char *to = NULL;
  long limit = 100;
  if (!read_filter(req, res, &to, &limit)) return;
  json_t *items = json_array();
  pthread_mutex_lock(&box->lock);
  for (size_t i = box->count; i > 0 && (long)json_array_size(items) < limit;
       i--) {
    const struct stored_message *s = box->messages[i - 1];
    if (to != NULL && strcasecmp(s->to, to) != 0) continue;
    json_array_append_new(items, message_json(s));
  }
  pthread_mutex_unlock(&box->lock);
  json_t *doc = json_pack("{s:o}", "items", items);
  http_reply_json(res, 200, doc);
  json_decref(doc);
}

static void handle_get(struct http_request *req, struct http_response *res) {
  struct mailbox *box = box_of(req);
  const char *id = http_param(req, "id");
  json_t *doc = NULL;
  pthread_mutex_lock(&box->lock);
  for (size_t i = 0; i < box->count && doc == NULL; i++)
    if (strcmp(box->messages[i]->id, id) == 0)
      doc = message_json(box->messages[i]);
  pthread_mutex_unlock(&box->lock);
  if (doc == NULL) {
    http_reply_error(res, req, API_NOT_FOUND, "no such message", NULL);
    return;
  }
  http_reply_json(res, 200, doc);
  json_decref(doc);
}

/* Appends s HTML-escaped. */
static bool html_add(char **out, size_t *len, size_t *cap, const char *s,
                     bool escape) {
  for (; *s != '\0'; s++) {
    const char *piece = NULL;
    char one[2] = {*s, '\0'};
    if (escape && *s == '<')
      piece = "&lt;";
    else if (escape && *s == '>')
      piece = "&gt;";
    else if (escape && *s == '&')
      piece = "&amp;";
    else if (escape && *s == '"')
      piece = "&quot;";
    else if (escape && *s == '\'')
      piece = "&#39;";
    else
      piece = one;
    size_t n = strlen(piece);
    if (*len + n + 1 > *cap) {
      size_t c = *cap ? *cap * 2 : 8192;
      while (c < *len + n + 1)
        c *= 2;
      char *grown = realloc(*out, c);
      if (grown == NULL) return false;
      *out = grown;
      *cap = c;
    }
    memcpy(*out + *len, piece, n);
    *len += n;
    (*out)[*len] = '\0';
  }
  return true;
}

/* GET /: the newest messages for a person. The HTML of a mail is shown in a
 * sandboxed iframe (srcdoc), so its markup cannot reach this page. */
static void handle_page(struct http_request *req, struct http_response *res) {
  struct mailbox *box = box_of(req);
  const char *to = NULL;
  long limit = PAGE_MESSAGES;
  if (!read_filter(req, res, &to, &limit)) return;
  char *out = NULL;
  size_t len = 0, cap = 0;
  bool ok = html_add(&out, &len, &cap,
                     "<!doctype html><html lang=\"en\"><head><meta "
                     "charset=\"utf-8\"><title>Sandbox mail</title><style>"
                     "body{font-family:sans-serif;margin:2em;max-width:60em}"
                     "article{border:1px solid #ccc;border-radius:6px;"
                     "padding:1em;margin:1em 0}h2{font-size:1.1em;margin:0}"
                     ".meta{color:#555;font-size:.9em}pre{white-space:"
                     "pre-wrap}iframe{width:100%;height:18em;border:1px solid "
                     "#eee}</style></head><body><h1>Sandbox mail</h1><p>Every "
                     "e-mail ShopSphere sends in this environment lands here "
                     "(newest first; kept in memory until the sandbox "
                     "restarts).</p><form method=\"get\" action=\"/\"><label>"
                     "Address <input name=\"to\" type=\"email\" value=\"",
                     false);
  ok = ok && html_add(&out, &len, &cap, to ? to : "", true);
  ok = ok && html_add(&out, &len, &cap,
                      "\"></label> <button type=\"submit\">Show</button>"
                      "</form>",
                      false);
  pthread_mutex_lock(&box->lock);
  long shown = 0;
  for (size_t i = box->count; ok && i > 0 && shown < limit; i--) {
    const struct stored_message *s = box->messages[i - 1];
    if (to != NULL && strcasecmp(s->to, to) != 0) continue;
    shown++;
    ok = html_add(&out, &len, &cap, "<article><h2>", false) &&
         html_add(&out, &len, &cap, s->m.subject, true) &&
         html_add(&out, &len, &cap, "</h2><p class=\"meta\">to ", false) &&
         html_add(&out, &len, &cap, s->to, true) &&
         html_add(&out, &len, &cap, " &middot; from ", false) &&
         html_add(&out, &len, &cap, s->m.from, true) &&
         html_add(&out, &len, &cap, " &middot; ", false) &&
         html_add(&out, &len, &cap, s->received_at, true) &&
         html_add(&out, &len, &cap, "</p>", false);
    if (ok && s->m.html[0] != '\0')
      ok = html_add(&out, &len, &cap,
                    "<iframe sandbox title=\"message\" srcdoc=\"", false) &&
           html_add(&out, &len, &cap, s->m.html, true) &&
           html_add(&out, &len, &cap, "\"></iframe>", false);
    else if (ok)
      ok = html_add(&out, &len, &cap, "<pre>", false) &&
           html_add(&out, &len, &cap, s->m.text, true) &&
           html_add(&out, &len, &cap, "</pre>", false);
    ok = ok && html_add(&out, &len, &cap, "</article>", false);
  }
  pthread_mutex_unlock(&box->lock);
  if (ok && shown == 0)
    ok = html_add(&out, &len, &cap, "<p>No messages yet.</p>", false);
  ok = ok && html_add(&out, &len, &cap, "</body></html>", false);
  if (!ok) {
    free(out);
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    return;
  }
  http_reply_take(res, 200, "text/html; charset=utf-8", out, len);
  http_response_header(res, "Cache-Control", "no-store");
  http_response_header(res, "Content-Security-Policy",
                       "default-src 'none'; style-src 'unsafe-inline'; "
                       "img-src data:; frame-src 'self'");
}

/* --- the module -------------------------------------------------------- */

static const struct route routes[] = {
    {"GET", "/messages", handle_list, ACCESS_PUBLIC, NULL},
    {"GET", "/messages/{id}", handle_get, ACCESS_PUBLIC, NULL},
    {"GET", "/", handle_page, ACCESS_PUBLIC, NULL},
};

static int mail_start(struct service *svc) {
  struct mailbox *box = calloc(1, sizeof *box);
  if (box == NULL) return KIT_NOMEM;
  box->cfg = svc->cfg;
  pthread_mutex_init(&box->lock, NULL);
  atomic_init(&box->stopping, false);
  atomic_init(&box->connections, 0);
  int port =
      svc->cfg->smtp_port > 0 ? svc->cfg->smtp_port : svc->cfg->port_base + 18;
  box->listen_fd = listen_smtp(svc->cfg->bind_address, port);
  if (box->listen_fd < 0) {
    log_error("sandbox-mail: cannot listen for SMTP on %s:%d (port in use?)",
              svc->cfg->bind_address, port);
    pthread_mutex_destroy(&box->lock);
    free(box);
    return KIT_ERROR;
  }
  if (pthread_create(&box->listener, NULL, listener_main, box) != 0) {
    close(box->listen_fd);
    pthread_mutex_destroy(&box->lock);
    free(box);
    return KIT_ERROR;
  }
  box->listener_started = true;
  svc->state = box;
  log_info("sandbox-mail: SMTP on smtp://%s:%d, inbox on http://%s:%d/",
           svc->cfg->bind_address, port, svc->cfg->bind_address,
           svc->cfg->ports[SVC_SANDBOX_MAIL]);
  return KIT_OK;
}

static void mail_stop(struct service *svc) {
  struct mailbox *box = svc->state;
  if (box == NULL) return;
  atomic_store(&box->stopping, true);
  if (box->listener_started) pthread_join(box->listener, NULL);
  close(box->listen_fd);
  /* Connection threads notice `stopping` within one poll interval. */
  for (int i = 0; i < 50 && atomic_load(&box->connections) > 0; i++)
    usleep(POLL_MS * 1000 / 4);
  if (atomic_load(&box->connections) > 0) {
    log_warn("sandbox-mail: SMTP connections still open at stop");
    svc->state = NULL; /* leave the memory to the exiting process */
    return;
  }
  for (size_t i = 0; i < box->count; i++)
    stored_free(box->messages[i]);
  free(box->messages);
  pthread_mutex_destroy(&box->lock);
  free(box);
  svc->state = NULL;
}

const struct service_module sandbox_mail_module = {
    .id = SVC_SANDBOX_MAIL,
    .summary = "simulated SMTP server with an inbox API (external system)",
    .needs = 0,
    .routes = routes,
    .route_count = sizeof routes / sizeof routes[0],
    .start = mail_start,
    .stop = mail_stop,
};
