/* mq.c - RabbitMQ over librabbitmq: a reachability check, and the one
 * connection wrapper the event bus and `shopsphere events` use (mq.h).
 *
 * mq_ping walks the whole handshake a real client makes (TCP, AMQP login,
 * channel open) so /readyz fails for a wrong password or vhost too, not just
 * for a closed port. librabbitmq blocks by default; every step here gets the
 * time left until one deadline: the socket open through
 * amqp_socket_open_noblock, the login through the handshake timeout, the
 * channel and close methods through the RPC timeout.
 */
#include "kit/mq.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "kit/breaker.h"
#include "kit/err.h"
#include "kit/log.h"

static void set_reason(char *reason, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_reason(char *reason, size_t size, const char *fmt, ...) {
  if (reason == NULL || size == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, size, fmt, ap);
  va_end(ap);
}

/* Time left until deadline_ms, at least 1 ms so a spent budget still means
 * "do not wait" rather than librabbitmq's "wait forever" (NULL). */
static struct timeval time_left(int64_t deadline_ms) {
  int64_t left = deadline_ms - clock_monotonic_ms();
  if (left < 1) left = 1;
  struct timeval tv = {.tv_sec = (time_t)(left / 1000),
                       .tv_usec = (suseconds_t)(left % 1000) * 1000};
  return tv;
}

/* Describes a failed RPC. Server exceptions carry the broker's reply text
 * ("ACCESS_REFUSED - Login was refused ..."), which names the user at most,
 * never the password. */
static void describe_reply(amqp_rpc_reply_t reply, const char *step,
                           char *reason, size_t size) {
  switch (reply.reply_type) {
  case AMQP_RESPONSE_NONE:
    set_reason(reason, size, "%s: no reply", step);
    return;
  case AMQP_RESPONSE_LIBRARY_EXCEPTION:
    set_reason(reason, size, "%s: %s", step,
               amqp_error_string2(reply.library_error));
    return;
  case AMQP_RESPONSE_SERVER_EXCEPTION:
    if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
      const amqp_connection_close_t *m = reply.reply.decoded;
      set_reason(reason, size, "%s: server closed the connection: %u %.*s",
                 step, m->reply_code, (int)m->reply_text.len,
                 (const char *)m->reply_text.bytes);
    } else if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
      const amqp_channel_close_t *m = reply.reply.decoded;
      set_reason(reason, size, "%s: server closed the channel: %u %.*s", step,
                 m->reply_code, (int)m->reply_text.len,
                 (const char *)m->reply_text.bytes);
    } else {
      set_reason(reason, size, "%s: server exception (method 0x%08x)", step,
                 (unsigned)reply.reply.id);
    }
    return;
  case AMQP_RESPONSE_NORMAL:
    break;
  }
  set_reason(reason, size, "%s: failed", step);
}

int mq_ping(const char *url, int timeout_ms, char *reason, size_t reason_size) {
  int rc = KIT_UNAVAILABLE;
  char *copy = NULL;
  amqp_connection_state_t conn = NULL;
  amqp_rpc_reply_t reply;
  struct amqp_connection_info info;
  struct timeval tv;
  bool logged_in = false;

  if (url == NULL) {
    set_reason(reason, reason_size, "no AMQP URL");
    return KIT_UNAVAILABLE;
  }
  if (timeout_ms <= 0) timeout_ms = 1000;
  int64_t deadline = clock_monotonic_ms() + timeout_ms;

  /* amqp_parse_url cuts the string in place and points info into it. */
  copy = strdup(url);
  if (copy == NULL) {
    set_reason(reason, reason_size, "out of memory");
    goto cleanup;
  }
  amqp_default_connection_info(&info);
  if (amqp_parse_url(copy, &info) != AMQP_STATUS_OK) {
    /* The URL is not echoed: it may hold the password. */
    set_reason(reason, reason_size,
               "invalid AMQP URL (want amqp://user:pass@host:port/vhost)");
    goto cleanup;
  }
  if (info.ssl) {
    set_reason(reason, reason_size, "amqps:// is not supported");
    goto cleanup;
  }
  /* "amqp://host:5672/" parses to the empty vhost, which no broker has;
   * everyone who writes it means the default vhost. */
  const char *vhost = (info.vhost != NULL && *info.vhost) ? info.vhost : "/";

  conn = amqp_new_connection();
  amqp_socket_t *sock = conn != NULL ? amqp_tcp_socket_new(conn) : NULL;
  if (sock == NULL) {
    set_reason(reason, reason_size, "out of memory");
    goto cleanup;
  }
  tv = time_left(deadline);
  int status = amqp_socket_open_noblock(sock, info.host, info.port, &tv);
  if (status != AMQP_STATUS_OK) {
    set_reason(reason, reason_size, "cannot connect to %s:%d: %s", info.host,
               info.port, amqp_error_string2(status));
    goto cleanup;
  }

  tv = time_left(deadline);
  amqp_set_handshake_timeout(conn, &tv);
  amqp_set_rpc_timeout(conn, &tv);
  reply = amqp_login(conn, vhost, 0, AMQP_DEFAULT_FRAME_SIZE, 0,
                     AMQP_SASL_METHOD_PLAIN, info.user, info.password);
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
    describe_reply(reply, "login", reason, reason_size);
    goto cleanup;
  }
  logged_in = true;

  tv = time_left(deadline);
  amqp_set_rpc_timeout(conn, &tv);
  amqp_channel_open(conn, 1);
  reply = amqp_get_rpc_reply(conn);
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
    describe_reply(reply, "channel open", reason, reason_size);
    /* A refused channel closes only the channel; the connection close
     * below still applies. A broken connection does not need it. */
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) logged_in = false;
    goto cleanup;
  }
  tv = time_left(deadline);
  amqp_set_rpc_timeout(conn, &tv);
  reply = amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
    describe_reply(reply, "channel close", reason, reason_size);
    goto cleanup;
  }
  rc = KIT_OK;

cleanup:
  if (conn != NULL) {
    if (logged_in) {
      tv = time_left(deadline);
      amqp_set_rpc_timeout(conn, &tv);
      (void)amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    }
    amqp_destroy_connection(conn);
  }
  free(copy);
  return rc;
}

/* --- connections -----------------------------------------------------------
 */

#define MQ_CHANNEL 1

struct mq_conn {
  amqp_connection_state_t conn;
  bool broken;
  bool logged_in;
  bool confirms;
  int timeout_ms;
  char error[200];
  /* Publisher confirms of the current window: seq numbers base+1 ..
   * base+published, acked[i] for base+1+i. */
  uint64_t base;
  size_t published;
  size_t confirmed;
  unsigned char *acked;
  size_t acked_cap;
};

bool mq_ok(const struct mq_conn *c) { return c != NULL && !c->broken; }

const char *mq_error(const struct mq_conn *c) {
  return c != NULL ? c->error : "no connection";
}

static struct timeval ms_tv(int ms) {
  if (ms < 1) ms = 1;
  struct timeval tv = {.tv_sec = ms / 1000,
                       .tv_usec = (suseconds_t)(ms % 1000) * 1000};
  return tv;
}

/* Checks an RPC reply; on failure records why and marks the connection
 * broken (a server exception closes the channel or the connection; either
 * way we start over). */
static int check_reply(struct mq_conn *c, amqp_rpc_reply_t reply,
                       const char *step) {
  if (reply.reply_type == AMQP_RESPONSE_NORMAL) return KIT_OK;
  describe_reply(reply, step, c->error, sizeof c->error);
  c->broken = true;
  if (reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
      reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
    const amqp_channel_close_t *m = reply.reply.decoded;
    /* The server closed the channel; acknowledge it so the connection
     * closes cleanly later. */
    amqp_channel_close_ok_t ok = {0};
    (void)amqp_send_method(c->conn, MQ_CHANNEL, AMQP_CHANNEL_CLOSE_OK_METHOD,
                           &ok);
    if (m->reply_code == AMQP_NOT_FOUND) return KIT_NOT_FOUND;
  }
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) c->logged_in = false;
  return KIT_UNAVAILABLE;
}

static int check_status(struct mq_conn *c, int status, const char *step) {
  if (status == AMQP_STATUS_OK) return KIT_OK;
  snprintf(c->error, sizeof c->error, "%s: %s", step,
           amqp_error_string2(status));
  c->broken = true;
  c->logged_in = false;
  return KIT_UNAVAILABLE;
}

int mq_open(struct mq_conn **out, const char *url, int timeout_ms,
            bool heartbeats, char *reason, size_t reason_size) {
  int rc = KIT_UNAVAILABLE;
  char *copy = NULL;
  struct mq_conn *c = NULL;
  struct amqp_connection_info info;
  struct timeval tv;

  if (out == NULL) return KIT_INVALID;
  *out = NULL;
  if (url == NULL) {
    set_reason(reason, reason_size, "no AMQP URL");
    return KIT_UNAVAILABLE;
  }
  if (timeout_ms <= 0) timeout_ms = 2000;
  int64_t deadline = clock_monotonic_ms() + timeout_ms;
  c = calloc(1, sizeof *c);
  copy = strdup(url);
  if (c == NULL || copy == NULL) {
    set_reason(reason, reason_size, "out of memory");
    rc = KIT_NOMEM;
    goto cleanup;
  }
  c->timeout_ms = timeout_ms;
  amqp_default_connection_info(&info);
  if (amqp_parse_url(copy, &info) != AMQP_STATUS_OK || info.ssl) {
    set_reason(reason, reason_size,
               "invalid AMQP URL (want amqp://user:pass@host:port/vhost)");
    goto cleanup;
  }
  const char *vhost = (info.vhost != NULL && *info.vhost) ? info.vhost : "/";
  c->conn = amqp_new_connection();
  amqp_socket_t *sock = c->conn != NULL ? amqp_tcp_socket_new(c->conn) : NULL;
  if (sock == NULL) {
    set_reason(reason, reason_size, "out of memory");
    goto cleanup;
  }
  tv = time_left(deadline);
  int status = amqp_socket_open_noblock(sock, info.host, info.port, &tv);
  if (status != AMQP_STATUS_OK) {
    set_reason(reason, reason_size, "cannot connect to %s:%d: %s", info.host,
               info.port, amqp_error_string2(status));
    goto cleanup;
  }
  tv = time_left(deadline);
  amqp_set_handshake_timeout(c->conn, &tv);
  amqp_set_rpc_timeout(c->conn, &tv);
  /* Heartbeats only for a connection whose owner reads it all the time (a
   * consumer): librabbitmq sends them only from inside its calls, so an
   * idle publisher would be dropped by the broker as dead. */
  amqp_rpc_reply_t reply = amqp_login(
      c->conn, vhost, 0, AMQP_DEFAULT_FRAME_SIZE, heartbeats ? 10 : 0,
      AMQP_SASL_METHOD_PLAIN, info.user, info.password);
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
    describe_reply(reply, "login", reason, reason_size);
    goto cleanup;
  }
  c->logged_in = true;
  amqp_channel_open(c->conn, MQ_CHANNEL);
  if (check_reply(c, amqp_get_rpc_reply(c->conn), "channel open") != KIT_OK) {
    set_reason(reason, reason_size, "%s", c->error);
    goto cleanup;
  }
  tv = ms_tv(timeout_ms);
  amqp_set_rpc_timeout(c->conn, &tv);
  *out = c;
  c = NULL;
  rc = KIT_OK;
cleanup:
  mq_close(c);
  free(copy);
  return rc;
}

void mq_close(struct mq_conn *c) {
  if (c == NULL) return;
  if (c->conn != NULL) {
    if (c->logged_in) {
      struct timeval tv = ms_tv(c->timeout_ms < 1000 ? c->timeout_ms : 1000);
      amqp_set_rpc_timeout(c->conn, &tv);
      (void)amqp_connection_close(c->conn, AMQP_REPLY_SUCCESS);
    }
    amqp_destroy_connection(c->conn);
  }
  free(c->acked);
  free(c);
}

int mq_confirm_select(struct mq_conn *c) {
  if (!mq_ok(c)) return KIT_UNAVAILABLE;
  amqp_confirm_select(c->conn, MQ_CHANNEL);
  int rc = check_reply(c, amqp_get_rpc_reply(c->conn), "confirm.select");
  if (rc == KIT_OK) c->confirms = true;
  return rc;
}

int mq_declare_exchange(struct mq_conn *c, const char *name, const char *type) {
  if (!mq_ok(c)) return KIT_UNAVAILABLE;
  amqp_exchange_declare(c->conn, MQ_CHANNEL, amqp_cstring_bytes(name),
                        amqp_cstring_bytes(type), 0, 1, 0, 0, amqp_empty_table);
  return check_reply(c, amqp_get_rpc_reply(c->conn), "exchange.declare");
}

int mq_declare_queue(struct mq_conn *c, const char *name,
                     const struct mq_queue_options *opt, uint32_t *messages,
                     char *name_out, size_t name_out_size) {
  if (messages != NULL) *messages = 0;
  if (!mq_ok(c)) return KIT_UNAVAILABLE;
  struct mq_queue_options none = {0};
  if (opt == NULL) opt = &none;
  amqp_table_entry_t entries[7];
  int n = 0;
  if (opt->stream) {
    entries[n].key = amqp_cstring_bytes("x-queue-type");
    entries[n].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[n].value.value.bytes = amqp_cstring_bytes("stream");
    n++;
  }
  if (opt->max_age != NULL) {
    entries[n].key = amqp_cstring_bytes("x-max-age");
    entries[n].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[n].value.value.bytes = amqp_cstring_bytes(opt->max_age);
    n++;
  }
  if (opt->max_length_bytes > 0) {
    entries[n].key = amqp_cstring_bytes("x-max-length-bytes");
    entries[n].value.kind = AMQP_FIELD_KIND_I64;
    entries[n].value.value.i64 = opt->max_length_bytes;
    n++;
  }
  if (opt->max_segment_bytes > 0) {
    entries[n].key = amqp_cstring_bytes("x-stream-max-segment-size-bytes");
    entries[n].value.kind = AMQP_FIELD_KIND_I64;
    entries[n].value.value.i64 = opt->max_segment_bytes;
    n++;
  }
  if (opt->message_ttl_ms > 0) {
    entries[n].key = amqp_cstring_bytes("x-message-ttl");
    entries[n].value.kind = AMQP_FIELD_KIND_I32;
    entries[n].value.value.i32 = opt->message_ttl_ms;
    n++;
  }
  if (opt->dead_letter_exchange != NULL) {
    entries[n].key = amqp_cstring_bytes("x-dead-letter-exchange");
    entries[n].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[n].value.value.bytes =
        amqp_cstring_bytes(opt->dead_letter_exchange);
    n++;
  }
  if (opt->dead_letter_routing_key != NULL) {
    entries[n].key = amqp_cstring_bytes("x-dead-letter-routing-key");
    entries[n].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[n].value.value.bytes =
        amqp_cstring_bytes(opt->dead_letter_routing_key);
    n++;
  }
  amqp_table_t args = {.num_entries = n, .entries = entries};
  amqp_queue_declare_ok_t *ok = amqp_queue_declare(
      c->conn, MQ_CHANNEL, amqp_cstring_bytes(name), opt->passive,
      !opt->temporary, opt->temporary, opt->temporary, args);
  int rc = check_reply(c, amqp_get_rpc_reply(c->conn), "queue.declare");
  if (rc != KIT_OK || ok == NULL) return rc != KIT_OK ? rc : KIT_UNAVAILABLE;
  if (messages != NULL) *messages = ok->message_count;
  if (name_out != NULL && name_out_size > ok->queue.len) {
    memcpy(name_out, ok->queue.bytes, ok->queue.len);
    name_out[ok->queue.len] = '\0';
  }
  return KIT_OK;
}

int mq_delete_queue(struct mq_conn *c, const char *name) {
  if (!mq_ok(c)) return KIT_UNAVAILABLE;
  amqp_queue_delete(c->conn, MQ_CHANNEL, amqp_cstring_bytes(name), 0, 0);
  return check_reply(c, amqp_get_rpc_reply(c->conn), "queue.delete");
}

int mq_bind(struct mq_conn *c, const char *queue, const char *exchange,
            const char *routing_key) {
  if (!mq_ok(c)) return KIT_UNAVAILABLE;
  amqp_queue_bind(c->conn, MQ_CHANNEL, amqp_cstring_bytes(queue),
                  amqp_cstring_bytes(exchange), amqp_cstring_bytes(routing_key),
                  amqp_empty_table);
  return check_reply(c, amqp_get_rpc_reply(c->conn), "queue.bind");
}

int mq_qos(struct mq_conn *c, int prefetch) {
  if (!mq_ok(c)) return KIT_UNAVAILABLE;
  if (prefetch < 1) prefetch = 1;
  if (prefetch > 65535) prefetch = 65535;
  amqp_basic_qos(c->conn, MQ_CHANNEL, 0, (uint16_t)prefetch, 0);
  return check_reply(c, amqp_get_rpc_reply(c->conn), "basic.qos");
}

/* --- publishing ------------------------------------------------------------
 */

int mq_publish(struct mq_conn *c, const struct mq_publish *p) {
  if (!mq_ok(c)) return KIT_UNAVAILABLE;
  amqp_basic_properties_t props = {0};
  amqp_table_entry_t headers[3];
  int nh = 0;
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
  props.content_type = amqp_cstring_bytes("application/json");
  props.delivery_mode = 2; /* persistent */
  if (p->message_id != NULL) {
    props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
    props.message_id = amqp_cstring_bytes(p->message_id);
  }
  if (p->type != NULL) {
    props._flags |= AMQP_BASIC_TYPE_FLAG;
    props.type = amqp_cstring_bytes(p->type);
  }
  if (p->timestamp_s > 0) {
    props._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
    props.timestamp = (uint64_t)p->timestamp_s;
  }
  if (p->retries >= 0) {
    headers[nh].key = amqp_cstring_bytes("x-retries");
    headers[nh].value.kind = AMQP_FIELD_KIND_I32;
    headers[nh].value.value.i32 = p->retries;
    nh++;
  }
  if (p->error != NULL) {
    headers[nh].key = amqp_cstring_bytes("x-error");
    headers[nh].value.kind = AMQP_FIELD_KIND_UTF8;
    headers[nh].value.value.bytes = amqp_cstring_bytes(p->error);
    nh++;
  }
  if (p->replay) {
    headers[nh].key = amqp_cstring_bytes("x-replay");
    headers[nh].value.kind = AMQP_FIELD_KIND_BOOLEAN;
    headers[nh].value.value.boolean = 1;
    nh++;
  }
  if (nh > 0) {
    props._flags |= AMQP_BASIC_HEADERS_FLAG;
    props.headers.num_entries = nh;
    props.headers.entries = headers;
  }
  amqp_bytes_t body = {.len = p->len, .bytes = (void *)p->body};
  if (c->confirms && c->published == c->acked_cap) {
    size_t cap = c->acked_cap ? c->acked_cap * 2 : 256;
    unsigned char *grown = realloc(c->acked, cap);
    if (grown == NULL) return KIT_NOMEM;
    c->acked = grown;
    c->acked_cap = cap;
  }
  int status = amqp_basic_publish(
      c->conn, MQ_CHANNEL, amqp_cstring_bytes(p->exchange),
      amqp_cstring_bytes(p->routing_key), 0, 0, &props, body);
  if (check_status(c, status, "basic.publish") != KIT_OK)
    return KIT_UNAVAILABLE;
  if (c->confirms) c->acked[c->published++] = 0;
  return KIT_OK;
}

/* Marks tag (and, with multiple, every earlier one) of the window: 1 acked,
 * 2 nacked. */
static void mark_confirmed(struct mq_conn *c, uint64_t tag, bool multiple,
                           bool nack) {
  if (tag <= c->base) return;
  size_t last = (size_t)(tag - c->base);
  if (last > c->published) last = c->published;
  size_t first = multiple ? 1 : last;
  for (size_t i = first; i <= last; i++) {
    if (!c->acked[i - 1]) {
      c->acked[i - 1] = nack ? 2 : 1;
      c->confirmed++;
    }
  }
}

static bool first_confirmed(const struct mq_conn *c, size_t k) {
  for (size_t i = 0; i < k; i++)
    if (!c->acked[i]) return false;
  return true;
}

size_t mq_unconfirmed(const struct mq_conn *c) {
  return c != NULL ? c->published : 0;
}

int mq_wait_confirms_first(struct mq_conn *c, size_t k, int timeout_ms) {
  if (!mq_ok(c)) return KIT_UNAVAILABLE;
  if (k > c->published) k = c->published;
  int64_t deadline = clock_monotonic_ms() + timeout_ms;
  while (!first_confirmed(c, k)) {
    amqp_frame_t frame;
    struct timeval tv = time_left(deadline);
    int status = amqp_simple_wait_frame_noblock(c->conn, &frame, &tv);
    if (status == AMQP_STATUS_TIMEOUT) {
      snprintf(c->error, sizeof c->error, "publisher confirms timed out");
      return KIT_TIMEOUT;
    }
    if (check_status(c, status, "waiting for confirms") != KIT_OK)
      return KIT_UNAVAILABLE;
    if (frame.frame_type != AMQP_FRAME_METHOD) continue;
    switch (frame.payload.method.id) {
    case AMQP_BASIC_ACK_METHOD: {
      const amqp_basic_ack_t *a = frame.payload.method.decoded;
      mark_confirmed(c, a->delivery_tag, a->multiple, false);
      break;
    }
    case AMQP_BASIC_NACK_METHOD: {
      const amqp_basic_nack_t *a = frame.payload.method.decoded;
      mark_confirmed(c, a->delivery_tag, a->multiple, true);
      break;
    }
    case AMQP_CHANNEL_CLOSE_METHOD:
    case AMQP_CONNECTION_CLOSE_METHOD:
      snprintf(c->error, sizeof c->error,
               "the broker closed the %s while publishing",
               frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD
                   ? "channel"
                   : "connection");
      c->broken = true;
      return KIT_UNAVAILABLE;
    default:
      break;
    }
  }
  /* The first k leave the window; the rest move to its front. */
  bool nacked = false;
  for (size_t i = 0; i < k; i++)
    if (c->acked[i] == 2) nacked = true;
  memmove(c->acked, c->acked + k, c->published - k);
  c->base += k;
  c->published -= k;
  c->confirmed -= k;
  if (nacked) {
    snprintf(c->error, sizeof c->error, "the broker refused a message");
    return KIT_ERROR;
  }
  return KIT_OK;
}

int mq_wait_confirms(struct mq_conn *c, int timeout_ms) {
  return mq_wait_confirms_first(c, c != NULL ? c->published : 0, timeout_ms);
}

/* --- consuming -------------------------------------------------------------
 */

void mq_message_clear(struct mq_message *m) {
  if (m == NULL) return;
  free(m->routing_key);
  free(m->body);
  free(m->error);
  memset(m, 0, sizeof *m);
}

static char *bytes_dup(amqp_bytes_t b) {
  char *s = malloc(b.len + 1);
  if (s == NULL) return NULL;
  if (b.len > 0) memcpy(s, b.bytes, b.len);
  s[b.len] = '\0';
  return s;
}

static int field_int(const amqp_field_value_t *v) {
  switch (v->kind) {
  case AMQP_FIELD_KIND_I8:
    return v->value.i8;
  case AMQP_FIELD_KIND_U8:
    return v->value.u8;
  case AMQP_FIELD_KIND_I16:
    return v->value.i16;
  case AMQP_FIELD_KIND_U16:
    return v->value.u16;
  case AMQP_FIELD_KIND_I32:
    return v->value.i32;
  case AMQP_FIELD_KIND_U32:
    return (int)v->value.u32;
  case AMQP_FIELD_KIND_I64:
    return (int)v->value.i64;
  case AMQP_FIELD_KIND_U64:
    return (int)v->value.u64;
  default:
    return 0;
  }
}

static int fill_message(struct mq_message *m, uint64_t tag, bool redelivered,
                        amqp_bytes_t routing_key,
                        const amqp_basic_properties_t *props,
                        amqp_bytes_t body) {
  memset(m, 0, sizeof *m);
  m->delivery_tag = tag;
  m->redelivered = redelivered;
  m->routing_key = bytes_dup(routing_key);
  m->body = bytes_dup(body);
  m->len = body.len;
  if (props != NULL && (props->_flags & AMQP_BASIC_HEADERS_FLAG)) {
    for (int i = 0; i < props->headers.num_entries; i++) {
      const amqp_table_entry_t *e = &props->headers.entries[i];
      if (e->key.len == 9 && memcmp(e->key.bytes, "x-retries", 9) == 0) {
        m->retries = field_int(&e->value);
      } else if (e->key.len == 7 && memcmp(e->key.bytes, "x-error", 7) == 0 &&
                 e->value.kind == AMQP_FIELD_KIND_UTF8 && m->error == NULL) {
        m->error = bytes_dup(e->value.value.bytes);
      } else if (e->key.len == 8 && memcmp(e->key.bytes, "x-replay", 8) == 0 &&
                 e->value.kind == AMQP_FIELD_KIND_BOOLEAN) {
        m->replay = e->value.value.boolean != 0;
      }
    }
  }
  if (props != NULL && (props->_flags & AMQP_BASIC_TIMESTAMP_FLAG))
    m->timestamp_s = (int64_t)props->timestamp;
  if (m->routing_key == NULL || m->body == NULL) {
    mq_message_clear(m);
    return KIT_NOMEM;
  }
  return KIT_OK;
}

int mq_consume(struct mq_conn *c, const char *queue) {
  if (!mq_ok(c)) return KIT_UNAVAILABLE;
  amqp_basic_consume(c->conn, MQ_CHANNEL, amqp_cstring_bytes(queue),
                     amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
  return check_reply(c, amqp_get_rpc_reply(c->conn), "basic.consume");
}

int mq_consume_stream(struct mq_conn *c, const char *queue, int64_t since_s) {
  if (!mq_ok(c)) return KIT_UNAVAILABLE;
  amqp_table_entry_t offset = {.key = amqp_cstring_bytes("x-stream-offset")};
  if (since_s < 0) {
    offset.value.kind = AMQP_FIELD_KIND_UTF8;
    offset.value.value.bytes = amqp_cstring_bytes("first");
  } else {
    offset.value.kind = AMQP_FIELD_KIND_TIMESTAMP;
    offset.value.value.u64 = (uint64_t)since_s;
  }
  amqp_table_t args = {.num_entries = 1, .entries = &offset};
  amqp_basic_consume(c->conn, MQ_CHANNEL, amqp_cstring_bytes(queue),
                     amqp_empty_bytes, 0, 0, 0, args);
  return check_reply(c, amqp_get_rpc_reply(c->conn), "basic.consume");
}

int mq_next(struct mq_conn *c, int timeout_ms, struct mq_message *m) {
  memset(m, 0, sizeof *m);
  if (!mq_ok(c)) return KIT_UNAVAILABLE;
  amqp_envelope_t env;
  struct timeval tv = {.tv_sec = timeout_ms / 1000,
                       .tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000};
  amqp_maybe_release_buffers(c->conn);
  amqp_rpc_reply_t reply = amqp_consume_message(c->conn, &env, &tv, 0);
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
      reply.library_error == AMQP_STATUS_TIMEOUT)
    return KIT_TIMEOUT;
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
      reply.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
    /* Something other than a delivery: a close means start over, anything
     * else (a late confirm, a heartbeat) is nothing to us. */
    amqp_frame_t frame;
    struct timeval zero = {0, 0};
    int status = amqp_simple_wait_frame_noblock(c->conn, &frame, &zero);
    if (status == AMQP_STATUS_TIMEOUT) return KIT_TIMEOUT;
    if (check_status(c, status, "reading a frame") != KIT_OK)
      return KIT_UNAVAILABLE;
    if (frame.frame_type == AMQP_FRAME_METHOD &&
        (frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
         frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD)) {
      snprintf(c->error, sizeof c->error, "the broker closed the %s",
               frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD
                   ? "channel"
                   : "connection");
      c->broken = true;
      return KIT_UNAVAILABLE;
    }
    return KIT_TIMEOUT;
  }
  if (check_reply(c, reply, "consume") != KIT_OK) return KIT_UNAVAILABLE;
  int rc = fill_message(m, env.delivery_tag, env.redelivered, env.routing_key,
                        &env.message.properties, env.message.body);
  amqp_destroy_envelope(&env);
  return rc;
}

int mq_get(struct mq_conn *c, const char *queue, struct mq_message *m) {
  memset(m, 0, sizeof *m);
  if (!mq_ok(c)) return KIT_UNAVAILABLE;
  amqp_maybe_release_buffers(c->conn);
  amqp_rpc_reply_t reply =
      amqp_basic_get(c->conn, MQ_CHANNEL, amqp_cstring_bytes(queue), 0);
  int rc = check_reply(c, reply, "basic.get");
  if (rc != KIT_OK) return rc;
  if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) return KIT_NOT_FOUND;
  const amqp_basic_get_ok_t *ok = reply.reply.decoded;
  uint64_t tag = ok->delivery_tag;
  bool redelivered = ok->redelivered;
  char *routing_key = bytes_dup(ok->routing_key);
  if (routing_key == NULL) return KIT_NOMEM;
  amqp_message_t msg;
  reply = amqp_read_message(c->conn, MQ_CHANNEL, &msg, 0);
  rc = check_reply(c, reply, "basic.get (body)");
  if (rc == KIT_OK) {
    amqp_bytes_t key = {.len = strlen(routing_key), .bytes = routing_key};
    rc = fill_message(m, tag, redelivered, key, &msg.properties, msg.body);
    amqp_destroy_message(&msg);
  }
  free(routing_key);
  return rc;
}

int mq_ack(struct mq_conn *c, uint64_t delivery_tag, bool multiple) {
  if (!mq_ok(c)) return KIT_UNAVAILABLE;
  return check_status(
      c, amqp_basic_ack(c->conn, MQ_CHANNEL, delivery_tag, multiple),
      "basic.ack");
}

int mq_nack(struct mq_conn *c, uint64_t delivery_tag, bool requeue) {
  if (!mq_ok(c)) return KIT_UNAVAILABLE;
  return check_status(
      c, amqp_basic_nack(c->conn, MQ_CHANNEL, delivery_tag, 0, requeue),
      "basic.nack");
}
