/* events.c - what the notification service does with each event.
 *
 * Each handler runs in the consumer's transaction (the event id goes into
 * `inbox` in the same one), keeps the snapshots it needs (users from
 * user.registered, orders from order.created/confirmed/cancelled), renders
 * the messages and writes one `deliveries` row per (event, channel): queued,
 * or skipped when the user's preferences stop it. An order event also
 * inserts its in-app notification. Nothing leaves the process here: the
 * sender (sender.c) sends committed rows, so a rolled-back or redelivered
 * event never sends anything twice.
 *
 * An order event for an order or user without a snapshot (the service was
 * not consuming yet when it was created) asks the order or user service by
 * its internal API; if that fails the event is retried with the bus's
 * backoff.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/log.h"
#include "kit/money.h"
#include "services/notification/notification.h"
#include "services/notification/store.h"

static const char *field(const struct bus_event *ev, const char *name) {
  return json_string_value(json_object_get(ev->data, name));
}

/* --- snapshots ------------------------------------------------------------ */

/* Order lines of an event or an order document → snapshot JSON text
 * [{name, quantity, line_total (minor units)}] (malloc'd), NULL when
 * malformed. */
static char *lines_snapshot(const json_t *items, const char *currency) {
  if (!json_is_array(items)) return NULL;
  json_t *out = json_array();
  size_t i;
  const json_t *it;
  json_array_foreach(items, i, it) {
    const char *name = json_string_value(json_object_get(it, "name"));
    json_int_t qty = json_integer_value(json_object_get(it, "quantity"));
    const char *total = json_string_value(json_object_get(it, "line_total"));
    int64_t minor = 0;
    if (total == NULL || money_parse(total, currency, &minor) != KIT_OK) {
      json_decref(out);
      return NULL;
    }
    json_array_append_new(out, json_pack("{s:s, s:I, s:I}", "name",
                                         name ? name : "item", "quantity",
                                         (json_int_t)qty, "line_total",
                                         (json_int_t)minor));
  }
  char *text = json_dumps(out, JSON_COMPACT);
  json_decref(out);
  return text;
}

/* Stores the order of an order.* event (or an order document): its user,
 * currency, total and lines. A db_status; 0 for a malformed one. */
static int keep_order(struct db_conn *conn, const json_t *doc,
                      const char *order_id) {
  const char *user_id = json_string_value(json_object_get(doc, "user_id"));
  const char *currency = json_string_value(json_object_get(doc, "currency"));
  const char *total_s = json_string_value(json_object_get(doc, "total"));
  int64_t total = 0;
  if (user_id == NULL || currency == NULL || total_s == NULL ||
      money_parse(total_s, currency, &total) != KIT_OK)
    return 0;
  char *lines = lines_snapshot(json_object_get(doc, "items"), currency);
  if (lines == NULL) return 0;
  int rc = nstore_order_upsert(conn, order_id, user_id, currency, total, lines);
  free(lines);
  return rc;
}

/* GET an internal resource of another service as a json_t (new reference);
 * NULL when it is not there or the call failed (*missing tells which). */
static json_t *fetch(struct service *svc, enum service_id target,
                     const char *path, bool *missing) {
  struct client_request call = {.method = "GET", .path = path};
  struct http_response res;
  client_call(svc->client, target, &call, &res);
  *missing = res.status == 404;
  json_t *doc = NULL;
  if (res.status == 200 && res.body != NULL) {
    json_error_t jerr;
    doc = json_loadb(res.body, res.body_len, 0, &jerr);
  }
  http_response_clear(&res);
  return doc;
}

/* The user's snapshot, asking the user service when there is none.
 * 1 found, 0 no such user, < 0 retry later. */
static int load_user(struct service *svc, struct db_conn *conn,
                     const char *user_id, struct user_row *u) {
  int rc = nstore_user_get(conn, user_id, u);
  if (rc != 0) return rc;
  char path[96];
  snprintf(path, sizeof path, "/internal/users/%s", user_id);
  bool missing = false;
  json_t *doc = fetch(svc, SVC_USER, path, &missing);
  if (doc == NULL) return missing ? 0 : DB_HARD_ERROR;
  const char *email = json_string_value(json_object_get(doc, "email"));
  if (email == NULL) {
    json_decref(doc);
    return 0;
  }
  rc = nstore_user_upsert(
      conn, user_id, email, json_string_value(json_object_get(doc, "username")),
      json_string_value(json_object_get(doc, "first_name")), NULL);
  json_decref(doc);
  if (rc < 0) return rc;
  return nstore_user_get(conn, user_id, u);
}

/* The order's snapshot, asking the order service when there is none. */
static int load_order(struct service *svc, struct db_conn *conn,
                      const char *order_id, struct order_row *o) {
  int rc = nstore_order_get(conn, order_id, o);
  if (rc != 0) return rc;
  char path[96];
  snprintf(path, sizeof path, "/internal/orders/%s", order_id);
  bool missing = false;
  json_t *doc = fetch(svc, SVC_ORDER, path, &missing);
  if (doc == NULL) return missing ? 0 : DB_HARD_ERROR;
  rc = keep_order(conn, doc, order_id);
  json_decref(doc);
  if (rc <= 0) return rc;
  return nstore_order_get(conn, order_id, o);
}

/* --- deliveries ----------------------------------------------------------- */

struct outgoing {
  const struct bus_event *ev;
  enum notify_kind kind;
  const char *user_id;
  const struct notify_message *msg;
};

/* Queues (or records as skipped) one channel's delivery. */
static int queue(struct db_conn *conn, const struct outgoing *o,
                 enum notify_channel ch, const char *recipient, bool allowed,
                 const char *skip_reason, const char *payload) {
  enum notify_category cat = notify_kind_category(o->kind);
  bool email = ch == CHANNEL_EMAIL;
  struct delivery_new d = {
      .event_id = o->ev->event_id,
      .event_type = o->ev->event_type,
      .channel = notify_channel_name(ch),
      .kind = notify_kind_name(o->kind),
      .category = notify_category_name(cat),
      .user_id = o->user_id,
      .recipient = recipient && recipient[0] ? recipient : "-",
      .subject = o->msg->subject,
      .body_text = email ? o->msg->text : o->msg->brief,
      .body_html = email ? o->msg->html : NULL,
      .payload = payload,
      .status = allowed ? "queued" : "skipped",
      .reason = allowed ? NULL : skip_reason,
  };
  int rc = nstore_delivery_insert(conn, &d);
  if (rc == 0)
    log_info("%s delivery of event %s exists already", d.channel,
             o->ev->event_id);
  return rc;
}

/* The shop's address for links in messages. */
static const char *shop_url(struct service *svc) {
  struct notification_state *st = svc->state;
  return st ? st->shop_url : "";
}

/* --- identity ---------------------------------------------------------- */

static int on_user_registered(struct service *svc, struct db_conn *conn,
                              const struct bus_event *ev) {
  const char *user_id = field(ev, "user_id");
  const char *email = field(ev, "email");
  const char *first = field(ev, "first_name");
  const char *username = field(ev, "username");
  if (user_id == NULL || email == NULL) {
    log_error("user.registered %s without user_id or email: skipped",
              ev->event_id);
    return 0; /* nothing to retry: the event is malformed */
  }
  int rc = nstore_user_upsert(conn, user_id, email, username, first,
                              field(ev, "phone"));
  if (rc < 0) return rc;
  struct notify_input in = {.name = first ? first : username,
                            .email = email,
                            .shop_url = shop_url(svc)};
  struct notify_message msg;
  if (!notify_render(NOTIFY_WELCOME, &in, &msg)) return DB_HARD_ERROR;
  struct outgoing o = {ev, NOTIFY_WELCOME, user_id, &msg};
  rc = queue(conn, &o, CHANNEL_EMAIL, email, true, NULL, NULL);
  notify_message_free(&msg);
  return rc;
}

static int on_password_reset(struct service *svc, struct db_conn *conn,
                             const struct bus_event *ev) {
  const char *email = field(ev, "email");
  const char *token = field(ev, "token");
  const char *user_id = field(ev, "user_id");
  if (email == NULL || token == NULL) {
    log_error("user.password_reset_requested %s incomplete: skipped",
              ev->event_id);
    return 0;
  }
  struct user_row u = {0};
  if (user_id != NULL && nstore_user_get(conn, user_id, &u) < 0)
    u.first_name[0] = '\0';
  struct notify_input in = {.name = u.first_name[0] ? u.first_name : NULL,
                            .email = email,
                            .reset_token = token,
                            .reset_expires = field(ev, "expires_at"),
                            .shop_url = shop_url(svc)};
  struct notify_message msg;
  if (!notify_render(NOTIFY_PASSWORD_RESET, &in, &msg)) return DB_HARD_ERROR;
  /* Security mail: always sent, whatever the preferences say. */
  struct outgoing o = {ev, NOTIFY_PASSWORD_RESET, user_id, &msg};
  int rc = queue(conn, &o, CHANNEL_EMAIL, email, true, NULL, NULL);
  notify_message_free(&msg);
  return rc;
}

/* --- orders --------------------------------------------------------------- */

struct order_facts {
  const char *return_id;
  const char *reason;
  int64_t amount;
  bool full_refund;
};

/* Renders an order notification and queues it on every channel, with the
 * in-app notification. */
static int notify_order(struct service *svc, struct db_conn *conn,
                        const struct bus_event *ev, enum notify_kind kind,
                        const char *order_id, const struct order_facts *f) {
  struct order_row order = {0};
  int rc = load_order(svc, conn, order_id, &order);
  if (rc <= 0) {
    if (rc == 0)
      log_error("%s %s: order %s is unknown: skipped", ev->event_type,
                ev->event_id, order_id);
    return rc;
  }
  struct user_row user = {0};
  struct notify_line *lines = NULL;
  json_t *arr = NULL;
  struct notify_message msg = {0};
  char *payload = NULL;
  rc = load_user(svc, conn, order.user_id, &user);
  if (rc <= 0) {
    if (rc == 0)
      log_error("%s %s: user %s is unknown: skipped", ev->event_type,
                ev->event_id, order.user_id);
    goto cleanup;
  }
  struct notify_prefs prefs;
  rc = nstore_prefs_get(conn, order.user_id, &prefs);
  if (rc < 0) goto cleanup;

  json_error_t jerr;
  arr = json_loads(order.lines_json, 0, &jerr);
  size_t n = json_array_size(arr);
  lines = calloc(n ? n : 1, sizeof *lines);
  if (lines == NULL) {
    rc = DB_HARD_ERROR;
    goto cleanup;
  }
  for (size_t i = 0; i < n; i++) {
    const json_t *l = json_array_get(arr, i);
    lines[i].name = json_string_value(json_object_get(l, "name"));
    lines[i].quantity = json_integer_value(json_object_get(l, "quantity"));
    lines[i].line_total = json_integer_value(json_object_get(l, "line_total"));
  }
  struct notify_input in = {
      .name = user.first_name[0] ? user.first_name : user.username,
      .email = user.email,
      .order_id = order_id,
      .currency = order.currency,
      .total = order.total,
      .lines = lines,
      .line_count = n,
      .amount = f ? f->amount : 0,
      .full_refund = f ? f->full_refund : false,
      .reason = f ? f->reason : NULL,
      .return_id = f ? f->return_id : NULL,
      .shop_url = shop_url(svc),
  };
  if (!notify_render(kind, &in, &msg)) {
    rc = DB_HARD_ERROR;
    goto cleanup;
  }
  struct outgoing o = {ev, kind, order.user_id, &msg};
  enum notify_category cat = notify_kind_category(kind);

  rc = queue(conn, &o, CHANNEL_EMAIL, user.email,
             notify_prefs_allow(&prefs, CHANNEL_EMAIL, cat),
             "opted out of order updates by e-mail", NULL);
  if (rc < 0) goto cleanup;
  bool sms_ok = notify_prefs_allow(&prefs, CHANNEL_SMS, cat);
  rc = queue(conn, &o, CHANNEL_SMS, user.phone, sms_ok && user.phone[0],
             sms_ok ? "no phone number on the account"
                    : "opted out of order updates by SMS",
             NULL);
  if (rc < 0) goto cleanup;
  rc = queue(conn, &o, CHANNEL_PUSH, order.user_id,
             notify_prefs_allow(&prefs, CHANNEL_PUSH, cat),
             "opted out of order updates by push", NULL);
  if (rc < 0) goto cleanup;

  /* The in-app notification, and its live delivery (Redis, by the sender
   * after COMMIT) carrying the feed item. */
  char id[40], created_at[40];
  json_t *data = json_pack("{s:s}", "order_id", order_id);
  char *data_text = json_dumps(data, JSON_COMPACT);
  rc = nstore_notification_insert(conn, order.user_id, ev->event_id,
                                  notify_kind_name(kind), msg.subject,
                                  msg.brief, data_text, id, created_at);
  free(data_text);
  if (rc == 1) {
    json_t *item = json_pack("{s:s, s:s, s:s, s:s, s:O, s:b, s:n, s:s}", "id",
                             id, "kind", notify_kind_name(kind), "title",
                             msg.subject, "body", msg.brief, "data", data,
                             "read", 0, "read_at", "created_at", created_at);
    payload = json_dumps(item, JSON_COMPACT);
    json_decref(item);
    rc = queue(conn, &o, CHANNEL_IN_APP, order.user_id, true, NULL, payload);
  }
  json_decref(data);

cleanup:
  free(payload);
  notify_message_free(&msg);
  json_decref(arr);
  free(lines);
  free(order.lines_json);
  return rc;
}

static int on_order_created(struct service *svc, struct db_conn *conn,
                            const struct bus_event *ev) {
  (void)svc;
  const char *order_id = field(ev, "order_id");
  return order_id ? keep_order(conn, ev->data, order_id) : 0;
}

static int on_order_confirmed(struct service *svc, struct db_conn *conn,
                              const struct bus_event *ev) {
  const char *order_id = field(ev, "order_id");
  if (order_id == NULL) return 0;
  int rc = keep_order(conn, ev->data, order_id);
  if (rc < 0) return rc;
  return notify_order(svc, conn, ev, NOTIFY_ORDER_CONFIRMED, order_id, NULL);
}

static int on_order_cancelled(struct service *svc, struct db_conn *conn,
                              const struct bus_event *ev) {
  const char *order_id = field(ev, "order_id");
  if (order_id == NULL) return 0;
  int rc = keep_order(conn, ev->data, order_id);
  if (rc < 0) return rc;
  /* A checkout that failed (declined card: pending → cancelled) was
   * answered at once with its reason; only a placed order's cancellation
   * is news to the customer. */
  const char *previous = field(ev, "previous_status");
  if (previous != NULL && strcmp(previous, "pending") == 0) return rc;
  struct order_facts f = {.reason = field(ev, "reason")};
  return notify_order(svc, conn, ev, NOTIFY_ORDER_CANCELLED, order_id, &f);
}

static int on_order_status_changed(struct service *svc, struct db_conn *conn,
                                   const struct bus_event *ev) {
  const char *order_id = field(ev, "order_id");
  const char *to = field(ev, "to");
  if (order_id == NULL || to == NULL) return 0;
  if (strcmp(to, "shipped") == 0)
    return notify_order(svc, conn, ev, NOTIFY_ORDER_SHIPPED, order_id, NULL);
  if (strcmp(to, "delivered") == 0)
    return notify_order(svc, conn, ev, NOTIFY_ORDER_DELIVERED, order_id, NULL);
  return 0; /* confirmed and cancelled have their own events */
}

static int on_order_refunded(struct service *svc, struct db_conn *conn,
                             const struct bus_event *ev) {
  const char *order_id = field(ev, "order_id");
  const char *amount = field(ev, "amount");
  const char *currency = field(ev, "currency");
  struct order_facts f = {0};
  if (order_id == NULL || amount == NULL || currency == NULL ||
      money_parse(amount, currency, &f.amount) != KIT_OK) {
    log_error("order.refunded %s incomplete: skipped", ev->event_id);
    return 0;
  }
  /* A return's refund is told by its return.refunded mail. */
  if (field(ev, "return_id") != NULL) return 0;
  f.full_refund = json_is_true(json_object_get(ev->data, "full"));
  return notify_order(svc, conn, ev, NOTIFY_REFUND_ISSUED, order_id, &f);
}

/* --- returns (the order service's return.*) --------------------------------
 */

static int on_return(struct service *svc, struct db_conn *conn,
                     const struct bus_event *ev, enum notify_kind kind) {
  const char *order_id = field(ev, "order_id");
  const char *currency = field(ev, "currency");
  struct order_facts f = {.return_id = field(ev, "return_id"),
                          .reason = field(ev, "reason")};
  const char *amount = field(ev, "refund_amount");
  if (order_id == NULL || f.return_id == NULL || currency == NULL ||
      (kind == NOTIFY_RETURN_REFUNDED &&
       (amount == NULL ||
        money_parse(amount, currency, &f.amount) != KIT_OK))) {
    log_error("%s %s incomplete: skipped", ev->event_type, ev->event_id);
    return 0;
  }
  return notify_order(svc, conn, ev, kind, order_id, &f);
}

static int on_return_requested(struct service *svc, struct db_conn *conn,
                               const struct bus_event *ev) {
  return on_return(svc, conn, ev, NOTIFY_RETURN_REQUESTED);
}

static int on_return_approved(struct service *svc, struct db_conn *conn,
                              const struct bus_event *ev) {
  return on_return(svc, conn, ev, NOTIFY_RETURN_APPROVED);
}

static int on_return_refunded(struct service *svc, struct db_conn *conn,
                              const struct bus_event *ev) {
  return on_return(svc, conn, ev, NOTIFY_RETURN_REFUNDED);
}

const struct event_handler notification_events[NOTIFICATION_EVENT_COUNT] = {
    {"user.registered", on_user_registered},
    {"user.password_reset_requested", on_password_reset},
    {"order.created", on_order_created},
    {"order.confirmed", on_order_confirmed},
    {"order.cancelled", on_order_cancelled},
    {"order.status_changed", on_order_status_changed},
    {"order.refunded", on_order_refunded},
    {"return.requested", on_return_requested},
    {"return.approved", on_return_approved},
    {"return.refunded", on_return_refunded},
};
