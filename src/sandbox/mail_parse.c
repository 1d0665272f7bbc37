/* mail_parse.c - the SMTP conversation and MIME reading of the sandbox mail
 * server (see mail_parse.h for why this is written by hand). */
#include "sandbox/mail_parse.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- the conversation -------------------------------------------------- */

void smtp_session_init(struct smtp_session *s, size_t max_bytes) {
  memset(s, 0, sizeof *s);
  s->max_bytes = max_bytes;
}

static void reset_transaction(struct smtp_session *s) {
  free(s->data);
  s->data = NULL;
  s->data_len = s->data_cap = 0;
  s->has_from = s->in_data = s->too_big = false;
  s->from[0] = '\0';
  s->rcpt_count = 0;
}

void smtp_session_free(struct smtp_session *s) { reset_transaction(s); }

char *smtp_session_take(struct smtp_session *s, size_t *len) {
  char *data = s->data;
  if (len != NULL) *len = s->data_len;
  s->data = NULL;
  reset_transaction(s);
  return data;
}

bool smtp_parse_path(const char *arg, char *out, size_t size) {
  while (*arg == ' ')
    arg++;
  const char *start = arg, *end;
  if (*arg == '<') {
    start = arg + 1;
    end = strchr(start, '>');
    if (end == NULL) return false;
  } else {
    end = start + strcspn(start, " ");
  }
  size_t n = (size_t)(end - start);
  if (n >= size || n > SMTP_ADDR_MAX) return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)start[i];
    if (c <= ' ' || c == '<' || c == '>' || c == 0x7f) return false;
    out[i] = (char)tolower(c);
  }
  out[n] = '\0';
  return true;
}

/* true when line starts with the command word (case-insensitive), followed
 * by the end, a space or (for "MAIL FROM:") nothing more needed. */
static bool command_is(const char *line, size_t len, const char *word) {
  size_t n = strlen(word);
  if (len < n || strncasecmp(line, word, n) != 0) return false;
  return len == n || line[n] == ' ' || word[n - 1] == ':';
}

static bool append_data(struct smtp_session *s, const char *line, size_t len) {
  if (s->too_big || s->data_len + len + 2 > s->max_bytes) {
    s->too_big = true;
    return true;
  }
  if (s->data_len + len + 3 > s->data_cap) {
    size_t cap = s->data_cap ? s->data_cap : 4096;
    while (cap < s->data_len + len + 3)
      cap *= 2;
    char *grown = realloc(s->data, cap);
    if (grown == NULL) return false;
    s->data = grown;
    s->data_cap = cap;
  }
  memcpy(s->data + s->data_len, line, len);
  s->data_len += len;
  s->data[s->data_len++] = '\r';
  s->data[s->data_len++] = '\n';
  s->data[s->data_len] = '\0';
  return true;
}

#define REPLY(text) snprintf(reply, reply_size, "%s\r\n", text)

enum smtp_action smtp_session_line(struct smtp_session *s, const char *line,
                                   size_t len, char *reply, size_t reply_size) {
  if (s->in_data) {
    if (len == 1 && line[0] == '.') {
      s->in_data = false;
      if (s->too_big) {
        reset_transaction(s);
        REPLY("552 5.3.4 message exceeds the size limit");
        return SMTP_REPLY;
      }
      if (s->data == NULL && !append_data(s, "", 0)) {
        REPLY("451 4.3.0 out of memory");
        return SMTP_REPLY;
      }
      REPLY("250 2.0.0 OK: queued");
      return SMTP_MESSAGE;
    }
    /* Dot-stuffing (RFC 5321 §4.5.2): a leading dot was doubled. */
    if (len > 0 && line[0] == '.') {
      line++;
      len--;
    }
    if (!append_data(s, line, len)) {
      s->too_big = true; /* out of memory: refuse the message at its end */
    }
    return SMTP_NO_REPLY;
  }

  if (len >= SMTP_LINE_MAX) {
    REPLY("500 5.5.2 line too long");
    return SMTP_REPLY;
  }
  if (command_is(line, len, "EHLO")) {
    reset_transaction(s);
    s->greeted = true;
    snprintf(reply, reply_size,
             "250-sandbox-mail greets you\r\n250-SIZE %zu\r\n250-8BITMIME\r\n"
             "250 SMTPUTF8\r\n",
             s->max_bytes);
    return SMTP_REPLY;
  }
  if (command_is(line, len, "HELO")) {
    reset_transaction(s);
    s->greeted = true;
    REPLY("250 sandbox-mail");
    return SMTP_REPLY;
  }
  if (command_is(line, len, "QUIT")) {
    REPLY("221 2.0.0 bye");
    return SMTP_REPLY_CLOSE;
  }
  if (command_is(line, len, "NOOP")) {
    REPLY("250 2.0.0 OK");
    return SMTP_REPLY;
  }
  if (command_is(line, len, "RSET")) {
    reset_transaction(s);
    REPLY("250 2.0.0 OK");
    return SMTP_REPLY;
  }
  if (command_is(line, len, "MAIL FROM:")) {
    if (!s->greeted) {
      REPLY("503 5.5.1 say EHLO first");
      return SMTP_REPLY;
    }
    if (s->has_from) {
      REPLY("503 5.5.1 nested MAIL command");
      return SMTP_REPLY;
    }
    char arg[SMTP_LINE_MAX + 1];
    snprintf(arg, sizeof arg, "%.*s", (int)(len - 10), line + 10);
    /* An empty reverse path (<>) is a bounce's, and allowed. */
    if (!smtp_parse_path(arg, s->from, sizeof s->from)) {
      REPLY("501 5.1.7 bad sender address syntax");
      return SMTP_REPLY;
    }
    /* SIZE=n announced by the client: refuse early. */
    const char *size = strcasestr(arg, "SIZE=");
    if (size != NULL && strtoull(size + 5, NULL, 10) > s->max_bytes) {
      REPLY("552 5.3.4 message size exceeds the limit");
      return SMTP_REPLY;
    }
    s->has_from = true;
    REPLY("250 2.1.0 OK");
    return SMTP_REPLY;
  }
  if (command_is(line, len, "RCPT TO:")) {
    if (!s->has_from) {
      REPLY("503 5.5.1 need MAIL FROM first");
      return SMTP_REPLY;
    }
    if (s->rcpt_count >= SMTP_MAX_RCPTS) {
      REPLY("452 4.5.3 too many recipients");
      return SMTP_REPLY;
    }
    char arg[SMTP_LINE_MAX + 1];
    snprintf(arg, sizeof arg, "%.*s", (int)(len - 8), line + 8);
    char *to = s->rcpts[s->rcpt_count];
    if (!smtp_parse_path(arg, to, SMTP_ADDR_MAX + 1) ||
        strchr(to, '@') == NULL) {
      REPLY("501 5.1.3 bad recipient address syntax");
      return SMTP_REPLY;
    }
    s->rcpt_count++;
    REPLY("250 2.1.5 OK");
    return SMTP_REPLY;
  }
  if (command_is(line, len, "DATA")) {
    if (s->rcpt_count == 0) {
      REPLY("503 5.5.1 need RCPT TO first");
      return SMTP_REPLY;
    }
    s->in_data = true;
    s->too_big = false;
    REPLY("354 end data with <CR><LF>.<CR><LF>");
    return SMTP_REPLY;
  }
  if (command_is(line, len, "VRFY")) {
    REPLY("252 2.1.5 cannot verify, but will accept");
    return SMTP_REPLY;
  }
  REPLY("502 5.5.2 command not implemented");
  return SMTP_REPLY;
}

/* --- decoders ---------------------------------------------------------- */

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

char *mail_decode_qp(const char *s, size_t len, size_t *out_len) {
  char *out = malloc(len + 1);
  if (out == NULL) return NULL;
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] != '=') {
      out[o++] = s[i];
      continue;
    }
    /* Soft line break: "=" at the end of a line. */
    if (i + 1 < len && s[i + 1] == '\n') {
      i += 1;
      continue;
    }
    if (i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n') {
      i += 2;
      continue;
    }
    int hi = i + 1 < len ? hexval((unsigned char)s[i + 1]) : -1;
    int lo = i + 2 < len ? hexval((unsigned char)s[i + 2]) : -1;
    if (hi < 0 || lo < 0) { /* not an escape: keep it as it is */
      out[o++] = '=';
      continue;
    }
    out[o++] = (char)(hi * 16 + lo);
    i += 2;
  }
  out[o] = '\0';
  if (out_len != NULL) *out_len = o;
  return out;
}

char *mail_decode_base64(const char *s, size_t len, size_t *out_len) {
  if (sodium_init() < 0) return NULL;
  char *out = malloc(len / 4 * 3 + 4);
  if (out == NULL) return NULL;
  size_t n = 0;
  if (sodium_base642bin((unsigned char *)out, len / 4 * 3 + 3, s, len,
                        " \t\r\n", &n, NULL,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    free(out);
    return NULL;
  }
  out[n] = '\0';
  if (out_len != NULL) *out_len = n;
  return out;
}

/* Appends n bytes to a growing buffer; false when memory runs out. */
struct buf {
  char *p;
  size_t len, cap;
};

static bool buf_add(struct buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 128;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *grown = realloc(b->p, cap);
    if (grown == NULL) return false;
    b->p = grown;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
  return true;
}

char *mail_decode_header(const char *s) {
  struct buf b = {0};
  if (!buf_add(&b, "", 0)) return NULL;
  const char *p = s;
  bool last_was_word = false;
  while (*p != '\0') {
    const char *start = strstr(p, "=?");
    if (start == NULL) {
      if (!buf_add(&b, p, strlen(p))) goto oom;
      break;
    }
    /* =?charset?E?text?= */
    const char *q1 = strchr(start + 2, '?');
    const char *q2 = q1 ? strchr(q1 + 1, '?') : NULL;
    const char *end = q2 ? strstr(q2 + 1, "?=") : NULL;
    if (q1 == NULL || q2 == NULL || end == NULL || q2 != q1 + 2) {
      if (!buf_add(&b, p, (size_t)(start - p) + 2)) goto oom;
      p = start + 2;
      last_was_word = false;
      continue;
    }
    /* Whitespace between two encoded words is dropped (RFC 2047 §6.2). */
    bool blank = true;
    for (const char *c = p; c < start; c++)
      if (*c != ' ' && *c != '\t' && *c != '\r' && *c != '\n') blank = false;
    if (!(blank && last_was_word) && !buf_add(&b, p, (size_t)(start - p)))
      goto oom;
    char enc = (char)toupper((unsigned char)q1[1]);
    const char *text = q2 + 1;
    size_t n = (size_t)(end - text);
    char *decoded = NULL;
    size_t dlen = 0;
    if (enc == 'B') {
      decoded = mail_decode_base64(text, n, &dlen);
    } else if (enc == 'Q') {
      char *tmp = malloc(n + 1);
      if (tmp == NULL) goto oom;
      for (size_t i = 0; i < n; i++)
        tmp[i] = text[i] == '_' ? ' ' : text[i];
      decoded = mail_decode_qp(tmp, n, &dlen);
      free(tmp);
    }
    if (decoded == NULL) {
      if (!buf_add(&b, start, (size_t)(end + 2 - start))) goto oom;
    } else {
      bool ok = buf_add(&b, decoded, dlen);
      free(decoded);
      if (!ok) goto oom;
    }
    p = end + 2;
    last_was_word = true;
  }
  return b.p;
oom:
  free(b.p);
  return NULL;
}

/* --- messages ---------------------------------------------------------- */

/* A header block, unfolded, as "name: value" lines joined by '\n'. */
struct headers {
  char *text;
};

/* Splits raw into its header block (unfolded, LF line ends) and body.
 * *body points into raw. */
static bool split_headers(const char *raw, size_t len, struct headers *h,
                          const char **body, size_t *body_len) {
  struct buf b = {0};
  if (!buf_add(&b, "", 0)) return false;
  size_t i = 0;
  while (i < len) {
    size_t eol = i;
    while (eol < len && raw[eol] != '\n')
      eol++;
    size_t n = eol - i;
    if (n > 0 && raw[i + n - 1] == '\r') n--;
    if (n == 0) { /* the blank line ends the headers */
      i = eol < len ? eol + 1 : len;
      break;
    }
    if (raw[i] == ' ' || raw[i] == '\t') { /* folded: continue the last */
      if (!buf_add(&b, " ", 1)) goto oom;
      size_t k = i;
      while (k < i + n && (raw[k] == ' ' || raw[k] == '\t'))
        k++;
      if (!buf_add(&b, raw + k, i + n - k)) goto oom;
    } else {
      if (b.len > 0 && !buf_add(&b, "\n", 1)) goto oom;
      if (!buf_add(&b, raw + i, n)) goto oom;
    }
    i = eol < len ? eol + 1 : len;
  }
  h->text = b.p;
  *body = raw + i;
  *body_len = len - i;
  return true;
oom:
  free(b.p);
  return false;
}

/* The value of header `name` (malloc'd, trimmed), or NULL. */
static char *header_get(const struct headers *h, const char *name) {
  size_t n = strlen(name);
  const char *line = h->text;
  while (line != NULL && *line != '\0') {
    const char *eol = strchr(line, '\n');
    size_t len = eol ? (size_t)(eol - line) : strlen(line);
    if (len > n && line[n] == ':' && strncasecmp(line, name, n) == 0) {
      const char *v = line + n + 1;
      while (*v == ' ' || *v == '\t')
        v++;
      size_t vlen = (size_t)(line + len - v);
      while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
      char *out = malloc(vlen + 1);
      if (out == NULL) return NULL;
      memcpy(out, v, vlen);
      out[vlen] = '\0';
      return out;
    }
    line = eol ? eol + 1 : NULL;
  }
  return NULL;
}

/* A parameter of a structured header value ("boundary" of
 * "multipart/alternative; boundary="x""), malloc'd, or NULL. */
static char *header_param(const char *value, const char *param) {
  size_t n = strlen(param);
  const char *p = value;
  while ((p = strchr(p, ';')) != NULL) {
    p++;
    while (*p == ' ' || *p == '\t')
      p++;
    if (strncasecmp(p, param, n) == 0 && p[n] == '=') {
      p += n + 1;
      const char *end;
      if (*p == '"') {
        p++;
        end = strchr(p, '"');
        if (end == NULL) end = p + strlen(p);
      } else {
        end = p + strcspn(p, "; \t");
      }
      char *out = malloc((size_t)(end - p) + 1);
      if (out == NULL) return NULL;
      memcpy(out, p, (size_t)(end - p));
      out[end - p] = '\0';
      return out;
    }
  }
  return NULL;
}

/* Decodes a body by its Content-Transfer-Encoding. malloc'd. */
static char *decode_body(const char *body, size_t len, const char *encoding) {
  if (encoding != NULL && strcasecmp(encoding, "quoted-printable") == 0)
    return mail_decode_qp(body, len, NULL);
  if (encoding != NULL && strcasecmp(encoding, "base64") == 0) {
    char *out = mail_decode_base64(body, len, NULL);
    if (out != NULL) return out;
  }
  char *out = malloc(len + 1);
  if (out == NULL) return NULL;
  memcpy(out, body, len);
  out[len] = '\0';
  return out;
}

/* Removes one trailing CRLF (the line end before a boundary belongs to it). */
static void trim_final_newline(char *s) {
  size_t n = strlen(s);
  if (n > 0 && s[n - 1] == '\n') s[--n] = '\0';
  if (n > 0 && s[n - 1] == '\r') s[--n] = '\0';
}

static bool parse_entity(const char *raw, size_t len, struct mail_message *m,
                         int depth);

/* Line ends as the API shows them: LF. */
static void crlf_to_lf(char *s) {
  char *o = s;
  for (char *p = s; *p != '\0'; p++)
    if (!(p[0] == '\r' && p[1] == '\n')) *o++ = *p;
  *o = '\0';
}

/* Walks the parts of a multipart body separated by "--boundary". */
static bool parse_multipart(const char *body, size_t len, const char *boundary,
                            struct mail_message *m, int depth) {
  size_t blen = strlen(boundary);
  char *delim = malloc(blen + 3);
  if (delim == NULL) return false;
  snprintf(delim, blen + 3, "--%s", boundary);
  const char *end = body + len;
  const char *p = body;
  const char *part = NULL;
  bool ok = true;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = eol ? eol : end;
    size_t n = (size_t)(line_end - p);
    if (n > 0 && p[n - 1] == '\r') n--;
    if (n >= blen + 2 && memcmp(p, delim, blen + 2) == 0) {
      bool closing = n >= blen + 4 && p[blen + 2] == '-' && p[blen + 3] == '-';
      if (part != NULL) {
        /* The CRLF before the delimiter belongs to the delimiter. */
        size_t plen = (size_t)(p - part);
        if (plen > 0 && part[plen - 1] == '\n') plen--;
        if (plen > 0 && part[plen - 1] == '\r') plen--;
        ok = parse_entity(part, plen, m, depth + 1);
        if (!ok) break;
      }
      if (closing) break;
      part = eol ? eol + 1 : end;
    }
    p = eol ? eol + 1 : end;
  }
  free(delim);
  return ok;
}

static bool parse_entity(const char *raw, size_t len, struct mail_message *m,
                         int depth) {
  if (depth > 8) return true; /* absurd nesting: ignore the rest */
  struct headers h = {0};
  const char *body;
  size_t body_len;
  if (!split_headers(raw, len, &h, &body, &body_len)) return false;
  bool ok = true;
  char *type = header_get(&h, "Content-Type");
  char *encoding = header_get(&h, "Content-Transfer-Encoding");
  if (type != NULL && strncasecmp(type, "multipart/", 10) == 0) {
    char *boundary = header_param(type, "boundary");
    if (boundary != NULL && boundary[0] != '\0')
      ok = parse_multipart(body, body_len, boundary, m, depth);
    free(boundary);
  } else {
    bool html = type != NULL && strncasecmp(type, "text/html", 9) == 0;
    bool text = type == NULL || strncasecmp(type, "text/plain", 10) == 0;
    char **slot = html ? &m->html : text ? &m->text : NULL;
    if (slot != NULL && (*slot)[0] == '\0') { /* the first of its kind */
      char *decoded = decode_body(body, body_len, encoding);
      if (decoded == NULL) {
        ok = false;
      } else {
        if (depth == 0) trim_final_newline(decoded);
        crlf_to_lf(decoded);
        free(*slot);
        *slot = decoded;
      }
    }
  }
  free(type);
  free(encoding);
  free(h.text);
  return ok;
}

static char *dup_or_empty(char *s) { return s != NULL ? s : strdup(""); }

bool mail_parse(const char *raw, size_t len, struct mail_message *out) {
  memset(out, 0, sizeof *out);
  out->text = strdup("");
  out->html = strdup("");
  struct headers h = {0};
  const char *body;
  size_t body_len;
  if (out->text == NULL || out->html == NULL ||
      !split_headers(raw, len, &h, &body, &body_len))
    goto oom;
  char *id = header_get(&h, "Message-ID");
  if (id != NULL) {
    char *s = id, *e = id + strlen(id);
    if (*s == '<') s++;
    if (e > s && e[-1] == '>') e--;
    memmove(id, s, (size_t)(e - s));
    id[e - s] = '\0';
  }
  out->message_id = dup_or_empty(id);
  char *v = header_get(&h, "From");
  out->from = dup_or_empty(v ? mail_decode_header(v) : NULL);
  free(v);
  v = header_get(&h, "To");
  out->to = dup_or_empty(v ? mail_decode_header(v) : NULL);
  free(v);
  v = header_get(&h, "Subject");
  out->subject = dup_or_empty(v ? mail_decode_header(v) : NULL);
  free(v);
  free(h.text);
  if (out->message_id == NULL || out->from == NULL || out->to == NULL ||
      out->subject == NULL)
    goto oom;
  if (!parse_entity(raw, len, out, 0)) goto oom;
  return true;
oom:
  mail_message_free(out);
  return false;
}

void mail_message_free(struct mail_message *m) {
  free(m->message_id);
  free(m->from);
  free(m->to);
  free(m->subject);
  free(m->text);
  free(m->html);
  memset(m, 0, sizeof *m);
}
