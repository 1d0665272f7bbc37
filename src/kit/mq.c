/* mq.c - RabbitMQ reachability check over librabbitmq.
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

int mq_ping(const char *url, int timeout_ms, char *reason,
            size_t reason_size) {
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
