/* domain.c - templates, money, MIME, preferences (see domain.h). */
#include "services/notification/domain.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/money.h"

/* --- names ------------------------------------------------------------- */

static const struct {
  const char *name;
  enum notify_category category;
} kinds[NOTIFY_KIND_COUNT] = {
    [NOTIFY_WELCOME] = {"welcome", CATEGORY_ACCOUNT},
    [NOTIFY_PASSWORD_RESET] = {"password_reset", CATEGORY_SECURITY},
    [NOTIFY_ORDER_CONFIRMED] = {"order_confirmed", CATEGORY_ORDER_UPDATES},
    [NOTIFY_ORDER_SHIPPED] = {"order_shipped", CATEGORY_ORDER_UPDATES},
    [NOTIFY_ORDER_DELIVERED] = {"order_delivered", CATEGORY_ORDER_UPDATES},
    [NOTIFY_ORDER_CANCELLED] = {"order_cancelled", CATEGORY_ORDER_UPDATES},
    [NOTIFY_REFUND_ISSUED] = {"refund_issued", CATEGORY_ORDER_UPDATES},
    [NOTIFY_RETURN_REQUESTED] = {"return_requested", CATEGORY_ORDER_UPDATES},
    [NOTIFY_RETURN_APPROVED] = {"return_approved", CATEGORY_ORDER_UPDATES},
    [NOTIFY_RETURN_REFUNDED] = {"return_refunded", CATEGORY_ORDER_UPDATES},
};

const char *notify_kind_name(enum notify_kind k) {
  return (unsigned)k < NOTIFY_KIND_COUNT ? kinds[k].name : "";
}

enum notify_category notify_kind_category(enum notify_kind k) {
  return (unsigned)k < NOTIFY_KIND_COUNT ? kinds[k].category
                                         : CATEGORY_MARKETING;
}

bool notify_kind_is_order(enum notify_kind k) {
  return k >= NOTIFY_ORDER_CONFIRMED && k < NOTIFY_KIND_COUNT;
}

const char *notify_category_name(enum notify_category c) {
  switch (c) {
  case CATEGORY_SECURITY:
    return "security";
  case CATEGORY_ACCOUNT:
    return "account";
  case CATEGORY_ORDER_UPDATES:
    return "order_updates";
  case CATEGORY_MARKETING:
    return "marketing";
  }
  return "";
}

const char *notify_channel_name(enum notify_channel c) {
  static const char *const names[CHANNEL_COUNT] = {"email", "sms", "push",
                                                   "in_app"};
  return (unsigned)c < CHANNEL_COUNT ? names[c] : "";
}

/* --- preferences ------------------------------------------------------- */

void notify_prefs_default(struct notify_prefs *p) {
  for (int i = 0; i < 3; i++) {
    p->marketing[i] = false;
    p->order_updates[i] = true;
  }
}

bool notify_prefs_allow(const struct notify_prefs *p, enum notify_channel ch,
                        enum notify_category c) {
  if (c == CATEGORY_SECURITY || c == CATEGORY_ACCOUNT) return true;
  if (ch == CHANNEL_IN_APP) return true;
  if ((unsigned)ch > CHANNEL_PUSH) return false;
  return c == CATEGORY_MARKETING ? p->marketing[ch] : p->order_updates[ch];
}

bool notify_prefs_apply(struct notify_prefs *p, const void *body, char *field,
                        size_t field_size, char *message, size_t message_size) {
  const json_t *root = body;
  struct notify_prefs next = *p;
  const char *channel;
  const json_t *value;
  json_object_foreach((json_t *)root, channel, value) {
    int ch = -1;
    for (int i = 0; i < 3; i++)
      if (strcmp(channel, notify_channel_name((enum notify_channel)i)) == 0)
        ch = i;
    if (ch < 0) {
      snprintf(field, field_size, "%.60s", channel);
      snprintf(message, message_size,
               "unknown channel: use email, sms or push");
      return false;
    }
    if (!json_is_object(value)) {
      snprintf(field, field_size, "%s", channel);
      snprintf(message, message_size, "%s must be an object of booleans",
               channel);
      return false;
    }
    const char *key;
    const json_t *flag;
    json_object_foreach((json_t *)value, key, flag) {
      bool *slot = strcmp(key, "marketing") == 0       ? &next.marketing[ch]
                   : strcmp(key, "order_updates") == 0 ? &next.order_updates[ch]
                                                       : NULL;
      snprintf(field, field_size, "%s.%.40s", channel, key);
      if (slot == NULL) {
        snprintf(message, message_size,
                 "unknown preference: use marketing or order_updates");
        return false;
      }
      if (!json_is_boolean(flag)) {
        snprintf(message, message_size, "%s.%s must be true or false", channel,
                 key);
        return false;
      }
      *slot = json_is_true(flag);
    }
  }
  *p = next;
  return true;
}

void *notify_prefs_json(const struct notify_prefs *p) {
  json_t *doc = json_object();
  for (int i = 0; i < 3; i++)
    json_object_set_new(doc, notify_channel_name((enum notify_channel)i),
                        json_pack("{s:b, s:b}", "marketing", p->marketing[i],
                                  "order_updates", p->order_updates[i]));
  return doc;
}

/* --- money ------------------------------------------------------------- */

char *notify_format_money(int64_t minor, const char *currency, char *buf) {
  static const struct {
    const char *code, *symbol;
  } symbols[] = {{"USD", "$"},
                 {"EUR", "\xe2\x82\xac"},
                 {"GBP", "\xc2\xa3"},
                 {"JPY", "\xc2\xa5"}};
  char amount[MONEY_BUF];
  bool negative = minor < 0;
  money_format(negative ? -minor : minor, currency, amount);
  const char *symbol = NULL;
  for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++)
    if (strcmp(currency, symbols[i].code) == 0) symbol = symbols[i].symbol;
  if (symbol != NULL)
    snprintf(buf, NOTIFY_MONEY_BUF, "%s%s%s", negative ? "-" : "", symbol,
             amount);
  else
    snprintf(buf, NOTIFY_MONEY_BUF, "%s%.8s %s", negative ? "-" : "", currency,
             amount);
  return buf;
}

/* --- rendering --------------------------------------------------------- */

/* Writes s escaped for HTML to f. */
static void put_html(FILE *f, const char *s) {
  for (; s != NULL && *s != '\0'; s++) {
    switch (*s) {
    case '<':
      fputs("&lt;", f);
      break;
    case '>':
      fputs("&gt;", f);
      break;
    case '&':
      fputs("&amp;", f);
      break;
    case '"':
      fputs("&quot;", f);
      break;
    case '\'':
      fputs("&#39;", f);
      break;
    default:
      fputc(*s, f);
    }
  }
}

char *notify_html_escape(const char *s) {
  char *out = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&out, &n);
  if (f == NULL) return NULL;
  put_html(f, s);
  if (fclose(f) != 0) {
    free(out);
    return NULL;
  }
  return out;
}

/* Three streams filled side by side. */
struct writers {
  FILE *text, *html, *brief;
  char *text_s, *html_s, *brief_s;
  size_t text_n, html_n, brief_n;
};

static const char *greeting_name(const struct notify_input *in) {
  return in->name != NULL && in->name[0] != '\0' ? in->name : "there";
}

static void html_open(FILE *h, const char *title) {
  fputs("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>",
        h);
  put_html(h, title);
  fputs("</title></head><body style=\"font-family:sans-serif;color:#222\">"
        "<h1 style=\"font-size:20px\">",
        h);
  put_html(h, title);
  fputs("</h1>", h);
}

static void html_close(FILE *h, const struct notify_input *in) {
  fputs("<p style=\"color:#777;font-size:12px\">ShopSphere", h);
  if (in->shop_url != NULL && in->shop_url[0] != '\0') {
    fputs(" &middot; <a href=\"", h);
    put_html(h, in->shop_url);
    fputs("/\">", h);
    put_html(h, in->shop_url);
    fputs("</a>", h);
  }
  fputs("</p></body></html>", h);
}

/* The order's lines and total, in text and HTML. */
static void order_summary(struct writers *w, const struct notify_input *in) {
  char money[NOTIFY_MONEY_BUF];
  fputs("<table style=\"border-collapse:collapse\"><thead><tr>"
        "<th align=\"left\">Item</th><th align=\"right\">Qty</th>"
        "<th align=\"right\">Amount</th></tr></thead><tbody>",
        w->html);
  for (size_t i = 0; i < in->line_count; i++) {
    const struct notify_line *l = &in->lines[i];
    notify_format_money(l->line_total, in->currency, money);
    fprintf(w->text, "  %lld x %s  %s\n", (long long)l->quantity,
            l->name ? l->name : "item", money);
    fputs("<tr><td>", w->html);
    put_html(w->html, l->name ? l->name : "item");
    fprintf(w->html, "</td><td align=\"right\">%lld</td><td align=\"right\">",
            (long long)l->quantity);
    put_html(w->html, money);
    fputs("</td></tr>", w->html);
  }
  notify_format_money(in->total, in->currency, money);
  fprintf(w->text, "Total: %s\n", money);
  fputs("</tbody><tfoot><tr><th align=\"left\" colspan=\"2\">Total</th>"
        "<th align=\"right\">",
        w->html);
  put_html(w->html, money);
  fputs("</th></tr></tfoot></table>", w->html);
}

static void order_link(struct writers *w, const struct notify_input *in) {
  if (in->shop_url == NULL || in->shop_url[0] == '\0') return;
  fprintf(w->text, "\nSee your order: %s/orders/%s\n", in->shop_url,
          in->order_id);
  fputs("<p><a href=\"", w->html);
  put_html(w->html, in->shop_url);
  fputs("/orders/", w->html);
  put_html(w->html, in->order_id);
  fputs("\">See your order</a></p>", w->html);
}

/* The three steps of a return the customer hears of: asked, approved
 * (send the items back), refunded (how much). */
static void render_return(struct writers *w, enum notify_kind kind,
                          const struct notify_input *in, char *subject,
                          size_t subject_size, const char *total) {
  const char *order = in->order_id ? in->order_id : "";
  const char *ret = in->return_id ? in->return_id : "";
  char refund[NOTIFY_MONEY_BUF];
  notify_format_money(in->amount, in->currency ? in->currency : "", refund);
  char says[512];
  if (kind == NOTIFY_RETURN_REQUESTED) {
    snprintf(subject, subject_size, "Return requested for order %s", order);
    snprintf(says, sizeof says,
             "we received your return request %s for order %s. We will "
             "write again once it is approved.",
             ret, order);
  } else if (kind == NOTIFY_RETURN_APPROVED) {
    snprintf(subject, subject_size, "Return approved for order %s", order);
    snprintf(says, sizeof says,
             "your return %s for order %s is approved. Please send the items "
             "back; we refund them once they arrive.",
             ret, order);
  } else {
    snprintf(subject, subject_size, "Refund of %s for your return (order %s)",
             refund, order);
    snprintf(says, sizeof says,
             "we refunded %s for the items of return %s (order %s). It "
             "reaches your card within a few days.",
             refund, ret, order);
  }
  html_open(w->html, subject);
  fprintf(w->text, "Hello %s,\n\n%s\n", greeting_name(in), says);
  fputs("<p>Hello ", w->html);
  put_html(w->html, greeting_name(in));
  fputs(",</p><p>", w->html);
  put_html(w->html, says);
  fputs("</p>", w->html);
  if (kind == NOTIFY_RETURN_REQUESTED && in->reason && in->reason[0]) {
    fprintf(w->text, "Your reason: %s\n", in->reason);
    fputs("<p>Your reason: ", w->html);
    put_html(w->html, in->reason);
    fputs("</p>", w->html);
  }
  fputs("\n", w->text);
  order_summary(w, in);
  order_link(w, in);
  fprintf(w->brief, "%s (order total %s).", subject, total);
}

bool notify_render(enum notify_kind kind, const struct notify_input *in,
                   struct notify_message *out) {
  memset(out, 0, sizeof *out);
  struct writers w = {0};
  w.text = open_memstream(&w.text_s, &w.text_n);
  w.html = open_memstream(&w.html_s, &w.html_n);
  w.brief = open_memstream(&w.brief_s, &w.brief_n);
  char subject[256];
  char money[NOTIFY_MONEY_BUF];
  const char *order = in->order_id ? in->order_id : "";
  if (w.text == NULL || w.html == NULL || w.brief == NULL) goto fail;
  if (notify_kind_is_order(kind) && in->currency != NULL)
    notify_format_money(in->total, in->currency, money);
  else
    money[0] = '\0';

  switch (kind) {
  case NOTIFY_WELCOME:
    snprintf(subject, sizeof subject, "Welcome to ShopSphere");
    html_open(w.html, subject);
    fprintf(w.text,
            "Hello %s,\n\nwelcome to ShopSphere! Your account %s is ready.\n",
            greeting_name(in), in->email ? in->email : "");
    fputs("<p>Hello ", w.html);
    put_html(w.html, greeting_name(in));
    fputs(",</p><p>welcome to ShopSphere! Your account <b>", w.html);
    put_html(w.html, in->email);
    fputs("</b> is ready.</p>", w.html);
    fprintf(w.brief, "Welcome to ShopSphere, %s!", greeting_name(in));
    break;
  case NOTIFY_PASSWORD_RESET:
    snprintf(subject, sizeof subject, "Reset your ShopSphere password");
    html_open(w.html, subject);
    fprintf(w.text,
            "Someone asked to reset the password of your ShopSphere account.\n"
            "If it was you, use this reset token before %s:\n\n"
            "reset_token: %s\n\n",
            in->reset_expires ? in->reset_expires : "it expires",
            in->reset_token ? in->reset_token : "");
    fputs("<p>Someone asked to reset the password of your ShopSphere "
          "account. If it was you, use this reset token before ",
          w.html);
    put_html(w.html, in->reset_expires ? in->reset_expires : "it expires");
    fputs(":</p><p><code>", w.html);
    put_html(w.html, in->reset_token);
    fputs("</code></p>", w.html);
    if (in->shop_url != NULL && in->shop_url[0] != '\0' &&
        in->reset_token != NULL) {
      /* The token is base64url: safe in a query string as it is. */
      fprintf(w.text, "Or open: %s/reset-password?token=%s\n\n", in->shop_url,
              in->reset_token);
      fputs("<p><a href=\"", w.html);
      put_html(w.html, in->shop_url);
      fputs("/reset-password?token=", w.html);
      put_html(w.html, in->reset_token);
      fputs("\">Choose a new password</a></p>", w.html);
    }
    fputs("If it was not you, ignore this e-mail; nothing changes.\n", w.text);
    fputs("<p>If it was not you, ignore this e-mail; nothing changes.</p>",
          w.html);
    fputs("A password reset was requested for your account.", w.brief);
    break;
  case NOTIFY_ORDER_CONFIRMED:
    snprintf(subject, sizeof subject, "Order %s confirmed", order);
    html_open(w.html, subject);
    fprintf(w.text, "Hello %s,\n\nthank you! Your order %s is confirmed.\n\n",
            greeting_name(in), order);
    fputs("<p>Hello ", w.html);
    put_html(w.html, greeting_name(in));
    fputs(",</p><p>thank you! Your order <b>", w.html);
    put_html(w.html, order);
    fputs("</b> is confirmed.</p>", w.html);
    order_summary(&w, in);
    order_link(&w, in);
    fprintf(w.brief, "Your order %s is confirmed. Total %s.", order, money);
    break;
  case NOTIFY_ORDER_SHIPPED:
  case NOTIFY_ORDER_DELIVERED: {
    const char *what =
        kind == NOTIFY_ORDER_SHIPPED ? "is on its way" : "was delivered";
    snprintf(subject, sizeof subject, "Order %s %s", order,
             kind == NOTIFY_ORDER_SHIPPED ? "shipped" : "delivered");
    html_open(w.html, subject);
    fprintf(w.text, "Hello %s,\n\nyour order %s %s.\n\n", greeting_name(in),
            order, what);
    fputs("<p>Hello ", w.html);
    put_html(w.html, greeting_name(in));
    fputs(",</p><p>your order <b>", w.html);
    put_html(w.html, order);
    fprintf(w.html, "</b> %s.</p>", what);
    order_summary(&w, in);
    order_link(&w, in);
    fprintf(w.brief, "Your order %s %s (total %s).", order, what, money);
    break;
  }
  case NOTIFY_ORDER_CANCELLED:
    snprintf(subject, sizeof subject, "Order %s cancelled", order);
    html_open(w.html, subject);
    fprintf(w.text, "Hello %s,\n\nyour order %s was cancelled",
            greeting_name(in), order);
    if (in->reason != NULL && in->reason[0] != '\0')
      fprintf(w.text, " (%s)", in->reason);
    fputs(". Any payment taken is returned to your card.\n\n", w.text);
    fputs("<p>Hello ", w.html);
    put_html(w.html, greeting_name(in));
    fputs(",</p><p>your order <b>", w.html);
    put_html(w.html, order);
    fputs("</b> was cancelled", w.html);
    if (in->reason != NULL && in->reason[0] != '\0') {
      fputs(" (", w.html);
      put_html(w.html, in->reason);
      fputs(")", w.html);
    }
    fputs(". Any payment taken is returned to your card.</p>", w.html);
    order_summary(&w, in);
    order_link(&w, in);
    fprintf(w.brief, "Your order %s (total %s) was cancelled.", order, money);
    break;
  case NOTIFY_REFUND_ISSUED: {
    char refund[NOTIFY_MONEY_BUF];
    notify_format_money(in->amount, in->currency ? in->currency : "", refund);
    snprintf(subject, sizeof subject, "Refund of %s for order %s", refund,
             order);
    html_open(w.html, subject);
    fprintf(w.text,
            "Hello %s,\n\nwe refunded %s for your order %s (order total %s)%s."
            "\nIt reaches your card within a few days.\n\n",
            greeting_name(in), refund, order, money,
            in->full_refund ? "; the order is now fully refunded" : "");
    fputs("<p>Hello ", w.html);
    put_html(w.html, greeting_name(in));
    fputs(",</p><p>we refunded <b>", w.html);
    put_html(w.html, refund);
    fputs("</b> for your order <b>", w.html);
    put_html(w.html, order);
    fputs("</b> (order total ", w.html);
    put_html(w.html, money);
    fputs(")", w.html);
    if (in->full_refund) fputs("; the order is now fully refunded", w.html);
    fputs(". It reaches your card within a few days.</p>", w.html);
    order_summary(&w, in);
    order_link(&w, in);
    fprintf(w.brief, "We refunded %s for your order %s (total %s).", refund,
            order, money);
    break;
  }
  case NOTIFY_RETURN_REQUESTED:
  case NOTIFY_RETURN_APPROVED:
  case NOTIFY_RETURN_REFUNDED:
    render_return(&w, kind, in, subject, sizeof subject, money);
    break;
  default:
    goto fail;
  }
  fputs("\n-- \nShopSphere\n", w.text);
  html_close(w.html, in);
  out->subject = strdup(subject);
  if (fclose(w.text) != 0 || fclose(w.html) != 0 || fclose(w.brief) != 0) {
    w.text = w.html = w.brief = NULL;
    goto fail;
  }
  out->text = w.text_s;
  out->html = w.html_s;
  out->brief = w.brief_s;
  if (out->subject == NULL) {
    notify_message_free(out);
    return false;
  }
  return true;
fail:
  if (w.text) fclose(w.text);
  if (w.html) fclose(w.html);
  if (w.brief) fclose(w.brief);
  free(w.text_s);
  free(w.html_s);
  free(w.brief_s);
  memset(out, 0, sizeof *out);
  return false;
}

void notify_message_free(struct notify_message *m) {
  free(m->subject);
  free(m->text);
  free(m->html);
  free(m->brief);
  memset(m, 0, sizeof *m);
}

/* --- MIME ------------------------------------------------------------ */

char *notify_qp_encode(const char *s) {
  char *out = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&out, &n);
  if (f == NULL) return NULL;
  const unsigned char *p = (const unsigned char *)s;
  while (*p != '\0') {
    const unsigned char *eol =
        (const unsigned char *)strchr((const char *)p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen((const char *)p);
    size_t line_len = len;
    if (line_len > 0 && p[line_len - 1] == '\r') line_len--;
    int col = 0;
    for (size_t i = 0; i < line_len; i++) {
      unsigned char c = p[i];
      bool last = i + 1 == line_len;
      bool encode = c == '=' || c > 126 || (c < 32 && c != '\t') ||
                    ((c == ' ' || c == '\t') && last) ||
                    (c == '.' && col == 0); /* no line may start with a dot */
      int width = encode ? 3 : 1;
      if (col + width > 75) { /* soft break: "=" ends the line */
        fputs("=\r\n", f);
        col = 0;
      }
      if (encode)
        fprintf(f, "=%02X", c);
      else
        fputc(c, f);
      col += width;
    }
    p += len;
    /* A line break of the text; none is added after its last line. */
    if (*p == '\n') {
      fputs("\r\n", f);
      p++;
    }
  }
  if (fclose(f) != 0) {
    free(out);
    return NULL;
  }
  return out;
}

char *notify_header_encode(const char *s) {
  bool plain = true;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 32 || *p > 126) plain = false;
  if (plain) return strdup(s);
  if (sodium_init() < 0) return NULL;
  size_t len = strlen(s);
  /* Encoded words of at most 75 characters: 45 bytes → 60 base64 chars. */
  char *out = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&out, &n);
  if (f == NULL) return NULL;
  size_t i = 0;
  while (i < len) {
    size_t take = len - i < 45 ? len - i : 45;
    /* Do not split a UTF-8 sequence. */
    while (take > 0 && i + take < len &&
           ((unsigned char)s[i + take] & 0xC0) == 0x80)
      take--;
    if (take == 0) take = len - i < 45 ? len - i : 45;
    char b64[sodium_base64_ENCODED_LEN(45, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)s + i, take,
                      sodium_base64_VARIANT_ORIGINAL);
    fprintf(f, "%s=?UTF-8?B?%s?=", i > 0 ? "\r\n " : "", b64);
    i += take;
  }
  if (fclose(f) != 0) {
    free(out);
    return NULL;
  }
  return out;
}

void notify_address_of(const char *s, char *out, size_t size) {
  const char *lt = strrchr(s, '<');
  const char *gt = lt ? strchr(lt, '>') : NULL;
  if (lt != NULL && gt != NULL)
    snprintf(out, size, "%.*s", (int)(gt - lt - 1), lt + 1);
  else
    snprintf(out, size, "%s", s);
}

char *notify_mime_build(const char *from, const char *to, const char *subject,
                        const char *message_id, const char *date,
                        const char *text, const char *html) {
  char *subj = notify_header_encode(subject);
  char *text_qp = notify_qp_encode(text);
  char *html_qp = notify_qp_encode(html);
  char *out = NULL;
  size_t n = 0;
  FILE *f = NULL;
  if (subj == NULL || text_qp == NULL || html_qp == NULL) goto cleanup;
  f = open_memstream(&out, &n);
  if (f == NULL) goto cleanup;
  /* The boundary derives from the Message-ID: stable for one message, and
   * "=_" can never occur in quoted-printable text. */
  fprintf(f,
          "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"
          "Message-ID: <%s>\r\nMIME-Version: 1.0\r\n"
          "Content-Type: multipart/alternative; boundary=\"=_%s\"\r\n\r\n"
          "This is a multi-part message in MIME format.\r\n\r\n"
          "--=_%s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
          "Content-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n"
          "--=_%s\r\nContent-Type: text/html; charset=UTF-8\r\n"
          "Content-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n"
          "--=_%s--\r\n",
          from, to, subj, date, message_id, message_id, message_id, text_qp,
          message_id, html_qp, message_id);
  if (fclose(f) != 0) {
    free(out);
    out = NULL;
  }
cleanup:
  free(subj);
  free(text_qp);
  free(html_qp);
  return out;
}

/* --- delivery ---------------------------------------------------------- */

int64_t notify_retry_delay_ms(int base_ms, int attempts) {
  int64_t delay = base_ms;
  for (int i = 1; i < attempts && delay < 300000; i++)
    delay *= 2;
  return delay > 300000 ? 300000 : delay;
}

char *notify_sse_frame(const char *id, const char *event, const char *data) {
  char *out = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&out, &n);
  if (f == NULL) return NULL;
  if (id != NULL) fprintf(f, "id: %s\n", id);
  if (event != NULL) fprintf(f, "event: %s\n", event);
  /* Each line of data is its own "data:" field (none expected: JSON). */
  const char *p = data;
  do {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    fprintf(f, "data: %.*s\n", (int)len, p);
    p = eol ? eol + 1 : p + len;
  } while (*p != '\0');
  fputc('\n', f);
  if (fclose(f) != 0) {
    free(out);
    return NULL;
  }
  return out;
}
