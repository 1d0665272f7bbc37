/* handlers.c - the cart service's HTTP edge: parse, check, store, reply.
 *
 * Public routes (DESIGN §5 Cart) and the two internal routes the order
 * service uses. Every read of a cart re-validates its lines against the
 * catalog (catalog.c) and renders today's prices with flags (domain.c).
 */
#include "services/cart/handlers.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit/auth.h"
#include "kit/handler.h"
#include "kit/json.h"
#include "kit/log.h"
#include "kit/money.h"
#include "kit/service.h"
#include "services/cart/catalog.h"
#include "services/cart/domain.h"
#include "services/cart/pricing.h"
#include "services/cart/promotions.h"
#include "services/cart/store.h"

/* --- helpers ----------------------------------------------------------------
 */

/* Answers a store failure other than KIT_OK; what_missing names the thing
 * for a 404. */
static void reply_store_error(struct http_response *res,
                              const struct http_request *req, int rc,
                              const char *what_missing) {
  switch (rc) {
  case KIT_NOT_FOUND:
    http_reply_error(res, req, API_NOT_FOUND, what_missing, NULL);
    break;
  case KIT_UNAVAILABLE:
    http_reply_error(res, req, API_SERVICE_UNAVAILABLE,
                     "the cart store is unavailable", NULL);
    break;
  case KIT_TIMEOUT:
    http_reply_error(res, req, API_TIMEOUT_ERROR,
                     "the cart store did not answer in time", NULL);
    break;
  default:
    http_reply_error(res, req, API_INTERNAL_ERROR, "cart store failure", NULL);
    break;
  }
}

static const char *caller_id(const struct http_request *req) {
  const struct principal *p = auth_principal(req);
  return p->authenticated ? p->user_id : "";
}

/* Loads the cart named by the {id} parameter if the caller may see it;
 * otherwise answers (404 for a missing cart and for somebody else's) and
 * returns false. */
static bool load_accessible(struct http_request *req, struct http_response *res,
                            struct cart_record *cart) {
  const char *id = http_param(req, "id");
  char norm[UUID_STR_LEN];
  if (id == NULL || !uuid_normalize(id, norm)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such cart", NULL);
    return false;
  }
  int rc = cart_store_load(req->svc->kv, req->arena, norm, cart);
  if (rc != KIT_OK) {
    reply_store_error(res, req, rc, "no such cart");
    return false;
  }
  const struct principal *p = auth_principal(req);
  if (!cart_can_access(cart->user_id, p->authenticated, p->user_id)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such cart", NULL);
    return false;
  }
  return true;
}

static int line_cmp(const void *a, const void *b) {
  const struct cart_line *x = a, *y = b;
  int c = strcmp(x->product_id, y->product_id);
  return c != 0 ? c : strcmp(x->variant_id, y->variant_id);
}

/* Looks up the lines' products and variants in the cart's currency. */
static enum api_error lookup_lines(struct http_request *req,
                                   const struct cart_line *lines, size_t n,
                                   const char *currency,
                                   struct catalog_item *cat) {
  const char **ids = arena_alloc(req->arena, sizeof *ids * (n + 1));
  const char **vids = arena_alloc(req->arena, sizeof *vids * (n + 1));
  if (ids == NULL || vids == NULL) return API_INTERNAL_ERROR;
  for (size_t i = 0; i < n; i++) {
    ids[i] = lines[i].product_id;
    vids[i] = lines[i].variant_id;
  }
  return cart_catalog_lookup(req, ids, vids, n, currency, cat);
}

static void reply_api_error(struct http_response *res,
                            const struct http_request *req, enum api_error e) {
  const char *msg =
      e == API_TIMEOUT_ERROR         ? "the catalog did not answer in time"
      : e == API_SERVICE_UNAVAILABLE ? "the catalog is unavailable"
                                     : "catalog lookup failed";
  http_reply_error(res, req, e, msg, NULL);
}

/* A cart priced today: its lines against the catalog, then its
 * promotions on the lines that can be bought (arena arrays of the cart's
 * line count; pl_of[i] is line i's price line, line_count when none). */
struct priced_cart {
  struct catalog_item *cat;
  struct cart_view_line *view;
  struct cart_totals totals;
  struct price_line *pl;
  size_t np;
  size_t *pl_of;
  struct cart_discounts discounts;
};

/* Prices cart (strict as for cart_promotions_price); answers and returns
 * false when it cannot. */
static bool price_cart(struct http_request *req, struct http_response *res,
                       const struct cart_record *cart, bool strict,
                       struct priced_cart *out) {
  size_t n = cart->line_count;
  out->cat = arena_alloc(req->arena, sizeof *out->cat * (n + 1));
  out->view = arena_alloc(req->arena, sizeof *out->view * (n + 1));
  out->pl = arena_alloc(req->arena, sizeof *out->pl * (n + 1));
  out->pl_of = arena_alloc(req->arena, sizeof *out->pl_of * (n + 1));
  if (!out->cat || !out->view || !out->pl || !out->pl_of) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    return false;
  }
  enum api_error e =
      lookup_lines(req, cart->lines, n, cart->currency, out->cat);
  if (e != API_OK) {
    reply_api_error(res, req, e);
    return false;
  }
  if (!cart_reprice(cart->lines, out->cat, n, out->view, &out->totals)) {
    http_reply_error(res, req, API_UNPROCESSABLE, "cart total out of range",
                     NULL);
    return false;
  }
  out->np = 0;
  for (size_t i = 0; i < n; i++) {
    out->pl_of[i] = n; /* no price line: discount 0 */
    if (!out->view[i].available) continue;
    out->pl_of[i] = out->np;
    out->pl[out->np++] = (struct price_line){
        cart->lines[i].product_id, out->cat[i].category_id,
        out->view[i].unit_price, cart->lines[i].quantity, 0};
  }
  e = cart_promotions_price(req, cart, caller_id(req), out->pl, out->np, strict,
                            &out->discounts);
  if (e != API_OK) {
    http_reply_error(res, req, e,
                     e == API_UNPROCESSABLE ? "cart total out of range"
                                            : "promotions are unavailable",
                     NULL);
    return false;
  }
  return true;
}

/* Renders the cart, repriced against the catalog, with its promotions. */
static void reply_cart(struct http_request *req, struct http_response *res,
                       unsigned status, struct cart_record *cart) {
  size_t n = cart->line_count;
  if (n > 1) qsort(cart->lines, n, sizeof *cart->lines, line_cmp);
  struct priced_cart pc;
  if (!price_cart(req, res, cart, false, &pc)) return;
  const struct catalog_item *cat = pc.cat;
  const struct cart_view_line *view = pc.view;
  const struct cart_totals totals = pc.totals;
  const struct cart_discounts discounts = pc.discounts;
  const char *currency = cart->currency;
  json_t *items = json_array();
  char buf[MONEY_BUF], snap[MONEY_BUF], total[MONEY_BUF], off[MONEY_BUF];
  for (size_t i = 0; i < n; i++) {
    const struct cart_line *l = &cart->lines[i];
    const struct cart_view_line *v = &view[i];
    int64_t line_discount =
        pc.pl_of[i] < pc.np ? pc.pl[pc.pl_of[i]].discount : 0;
    json_t *item;
    json_array_append_new(
        items,
        item = json_pack(
            "{s:s, s:o, s:s, s:s, s:s, s:s, s:I, s:s, s:b, s:s, s:b, "
            "s:b, s:I}",
            "product_id", l->product_id, "variant_id",
            l->variant_id[0] ? json_string(l->variant_id) : json_null(), "sku",
            cat[i].found ? cat[i].sku : l->sku, "name",
            cat[i].found ? cat[i].name : l->name, "unit_price",
            money_format(v->unit_price, l->currency, buf), "currency",
            l->currency, "quantity", (json_int_t)l->quantity, "line_total",
            money_format(v->line_total, l->currency, total), "price_changed",
            v->price_changed, "snapshot_price",
            money_format(l->snapshot_price, l->currency, snap), "available",
            v->available, "insufficient_stock", v->insufficient_stock,
            "available_quantity", (json_int_t)v->available_quantity));
    json_object_set_new(
        item, "discount",
        json_string(money_format(line_discount, l->currency, off)));
  }
  char subtotal[MONEY_BUF];
  json_t *body = json_pack(
      "{s:s, s:o, s:o, s:s, s:s, s:I, s:b, s:s}", "id", cart->id, "user_id",
      cart->user_id[0] ? json_string(cart->user_id) : json_null(), "items",
      items, "subtotal", money_format(totals.subtotal, currency, subtotal),
      "currency", currency, "item_count", (json_int_t)totals.item_count,
      "has_issues", totals.issue_count > 0, "created_at", cart->created_at);
  json_object_set_new(body, "discounts",
                      cart_discounts_json(&discounts, currency));
  json_object_set_new(
      body, "discount_total",
      json_string(money_format(discounts.total, currency, subtotal)));
  json_object_set_new(body, "free_shipping",
                      json_boolean(discounts.free_shipping));
  http_reply_json(res, status, body);
  /* A cart is one customer's: never for a shared cache. */
  http_response_header(res, "Cache-Control", "no-store");
  json_decref(body);
}

/* Reads today's record of one line's product (and variant) in the cart's
 * currency; answers and returns false when it cannot be bought. */
static bool lookup_line(struct http_request *req, struct http_response *res,
                        const struct cart_line *line, const char *currency,
                        struct catalog_item *item) {
  enum api_error e = lookup_lines(req, line, 1, currency, item);
  if (e != API_OK) {
    reply_api_error(res, req, e);
    return false;
  }
  if (!item->found || !item->active) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     line->variant_id[0] && item->found && item->variant_found
                         ? "this variant is not for sale"
                         : "no such product for sale",
                     item->found && item->variant_found ? "variant_id"
                                                        : "product_id");
    return false;
  }
  if (line->variant_id[0] == '\0' && item->has_options) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "variant_id is required: the product has options",
                     "variant_id");
    return false;
  }
  if (line->variant_id[0] != '\0' && !item->variant_found) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     item->has_options
                         ? "variant_id is not a variant of this product"
                         : "the product has no variants",
                     "variant_id");
    return false;
  }
  if (item->unpriced) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     arena_printf(req->arena,
                                  "the product %s has no price in %s, the "
                                  "cart's currency",
                                  line->product_id, currency),
                     "product_id");
    return false;
  }
  return true;
}

/* --- public routes -----------------------------------------------------------
 */

/* POST /api/v1/carts {currency?}: a guest cart, or one bound to the
 * signed-in caller, in the currency the storefront chose (default USD). */
void cart_handle_create(struct http_request *req, struct http_response *res) {
  const char *currency = NULL;
  if (req->body_len > 0) {
    const struct json_field fields[] = {
        {"currency", JF_STRING, false, 3, 3, &currency, .nullable = true},
    };
    struct json_doc *doc = NULL;
    bool body_ok = http_read_body(req, res, fields, 1, true, &doc);
    json_doc_free(doc);
    if (!body_ok) return;
  }
  if (currency == NULL) currency = CART_DEFAULT_CURRENCY;
  if (!money_currency_valid(currency)) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "currency must be an ISO 4217 code such as \"EUR\"",
                     "currency");
    return;
  }
  /* The new cart is empty: rendered from what was written, no reload. */
  struct cart_record cart;
  memset(&cart, 0, sizeof cart);
  cart_new_id(cart.id);
  snprintf(cart.user_id, sizeof cart.user_id, "%s", caller_id(req));
  snprintf(cart.currency, sizeof cart.currency, "%s", currency);
  int rc = cart_store_create(req->svc->kv, cart.id, cart.user_id, cart.currency,
                             cart.created_at);
  if (rc != KIT_OK) {
    reply_store_error(res, req, rc, "no such cart");
    return;
  }
  reply_cart(req, res, 201, &cart);
}

/* GET /api/v1/carts/{id} */
void cart_handle_get(struct http_request *req, struct http_response *res) {
  struct cart_record cart;
  if (!load_accessible(req, res, &cart)) return;
  reply_cart(req, res, 200, &cart);
}

/* The line named by id: its variant id, or its product id when the line
 * has no variant (a product without options). */
static const struct cart_line *find_line(const struct cart_record *cart,
                                         const char *id) {
  for (size_t i = 0; i < cart->line_count; i++) {
    const struct cart_line *l = &cart->lines[i];
    if (strcmp(l->variant_id[0] ? l->variant_id : l->product_id, id) == 0)
      return l;
  }
  return NULL;
}

static void reply_reloaded(struct http_request *req, struct http_response *res,
                           unsigned status, const char *id) {
  struct cart_record cart;
  int rc = cart_store_load(req->svc->kv, req->arena, id, &cart);
  if (rc != KIT_OK) {
    reply_store_error(res, req, rc, "no such cart");
    return;
  }
  reply_cart(req, res, status, &cart);
}

/* POST /api/v1/carts/{id}/items {product_id, variant_id?, quantity}: adds
 * units to a line (creating it), priced in the cart's currency; variant_id
 * is required for a product with options. The line may hold at most 99 and
 * at most what is in stock (of that variant). */
void cart_handle_add_item(struct http_request *req, struct http_response *res) {
  const char *product_id = NULL, *variant_id = NULL;
  int64_t quantity = 0;
  const struct json_field fields[] = {
      {"product_id", JF_UUID, true, 0, 0, &product_id},
      {"quantity", JF_INT, true, 1, CART_MAX_QUANTITY, &quantity},
      {"variant_id", JF_UUID, false, 0, 0, &variant_id, .nullable = true},
  };
  struct json_doc *doc = NULL;
  bool body_ok = http_read_body(req, res, fields, 3, true, &doc);
  json_doc_free(doc);
  if (!body_ok) return;
  struct cart_record cart;
  if (!load_accessible(req, res, &cart)) return;
  struct cart_line snapshot = {.quantity = 0};
  snprintf(snapshot.product_id, sizeof snapshot.product_id, "%s", product_id);
  snprintf(snapshot.variant_id, sizeof snapshot.variant_id, "%s",
           variant_id ? variant_id : "");
  struct catalog_item item;
  if (!lookup_line(req, res, &snapshot, cart.currency, &item)) return;
  snapshot.sku = item.sku;
  snapshot.name = item.name;
  snapshot.snapshot_price = item.price;
  snprintf(snapshot.currency, sizeof snapshot.currency, "%s", cart.currency);

  int64_t cap = cart_quantity_cap(item.available);
  int64_t new_quantity = 0;
  int rc = cart_store_add(req->svc->kv, cart.id, &snapshot, quantity, cap,
                          &new_quantity);
  if (rc == KIT_CONFLICT) {
    char details[96];
    if (new_quantity == 0) {
      http_reply_error(res, req, API_CONFLICT, "the cart has too many lines",
                       NULL);
    } else if (new_quantity > CART_MAX_QUANTITY) {
      snprintf(details, sizeof details, "quantity: at most %d per line",
               CART_MAX_QUANTITY);
      http_reply_error(res, req, API_UNPROCESSABLE,
                       "a line holds at most 99 units", details);
    } else {
      snprintf(details, sizeof details, "available: %lld",
               (long long)(item.available > 0 ? item.available : 0));
      http_reply_error(res, req, API_CONFLICT, "not enough stock", details);
    }
    return;
  }
  if (rc != KIT_OK) {
    reply_store_error(res, req, rc, "no such cart");
    return;
  }
  reply_reloaded(req, res, 201, cart.id);
}

/* PATCH /api/v1/carts/{id}/items/{line} {quantity}: the line is named by
 * its variant id, or its product id when it has no variant. */
void cart_handle_update_item(struct http_request *req,
                             struct http_response *res) {
  int64_t quantity = 0;
  const struct json_field fields[] = {
      {"quantity", JF_INT, true, 1, CART_MAX_QUANTITY, &quantity},
  };
  struct json_doc *doc = NULL;
  bool body_ok = http_read_body(req, res, fields, 1, true, &doc);
  json_doc_free(doc);
  if (!body_ok) return;
  struct cart_record cart;
  if (!load_accessible(req, res, &cart)) return;
  char pid[UUID_STR_LEN];
  const char *raw = http_param(req, "product_id");
  const struct cart_line *line =
      raw && uuid_normalize(raw, pid) ? find_line(&cart, pid) : NULL;
  if (line == NULL) {
    http_reply_error(res, req, API_NOT_FOUND, "no such line in the cart", NULL);
    return;
  }
  struct catalog_item item;
  if (!lookup_line(req, res, line, cart.currency, &item)) return;
  if (cart_check_quantity(quantity, item.available) != CART_QTY_OK) {
    char details[64];
    snprintf(details, sizeof details, "available: %lld",
             (long long)(item.available > 0 ? item.available : 0));
    http_reply_error(res, req, API_CONFLICT, "not enough stock", details);
    return;
  }
  struct cart_line updated = *line;
  updated.quantity = quantity;
  int rc = cart_store_set_line(req->svc->kv, cart.id, &updated);
  if (rc != KIT_OK) {
    reply_store_error(res, req, rc, "no such line in the cart");
    return;
  }
  reply_reloaded(req, res, 200, cart.id);
}

/* DELETE /api/v1/carts/{id}/items/{line} (variant id or product id) */
void cart_handle_remove_item(struct http_request *req,
                             struct http_response *res) {
  struct cart_record cart;
  if (!load_accessible(req, res, &cart)) return;
  char pid[UUID_STR_LEN];
  const char *raw = http_param(req, "product_id");
  if (raw == NULL || !uuid_normalize(raw, pid)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such line in the cart", NULL);
    return;
  }
  int rc = cart_store_remove(req->svc->kv, cart.id, pid);
  if (rc != KIT_OK) {
    reply_store_error(res, req, rc, "no such line in the cart");
    return;
  }
  reply_reloaded(req, res, 200, cart.id);
}

/* POST /api/v1/carts/{id}/merge {source_cart_id}: the signed-in caller's
 * cart {id} absorbs a guest cart (explicit merge on sign-in, docs/checkout.md).
 * Quantities of a product in both add up, capped at 99 and at the stock; the
 * guest cart is deleted. */
void cart_handle_merge(struct http_request *req, struct http_response *res) {
  const char *source_id = NULL;
  const struct json_field fields[] = {
      {"source_cart_id", JF_UUID, true, 0, 0, &source_id},
  };
  struct json_doc *doc = NULL;
  bool body_ok = http_read_body(req, res, fields, 1, true, &doc);
  json_doc_free(doc);
  if (!body_ok) return;
  struct cart_record target;
  if (!load_accessible(req, res, &target)) return;
  const struct principal *p = auth_principal(req);
  if (strcmp(target.user_id, p->user_id) != 0) {
    http_reply_error(res, req, API_CONFLICT,
                     "only a cart bound to you can absorb another", NULL);
    return;
  }
  if (strcmp(source_id, target.id) == 0) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "a cart cannot be merged into itself", "source_cart_id");
    return;
  }
  struct cart_record source;
  int rc = cart_store_load(req->svc->kv, req->arena, source_id, &source);
  if (rc == KIT_OK &&
      !cart_can_access(source.user_id, p->authenticated, p->user_id))
    rc = KIT_NOT_FOUND;
  if (rc != KIT_OK) {
    reply_store_error(res, req, rc, "no such source cart");
    return;
  }

  /* The merged lines: every source line, added to the target's line. */
  size_t n = source.line_count;
  struct cart_line *merged = arena_alloc(req->arena, sizeof *merged * (n + 1));
  struct catalog_item *cat = arena_alloc(req->arena, sizeof *cat * (n + 1));
  if (merged == NULL || cat == NULL) {
    http_reply_error(res, req, API_INTERNAL_ERROR, "out of memory", NULL);
    return;
  }
  enum api_error e = lookup_lines(req, source.lines, n, target.currency, cat);
  if (e != API_OK) {
    reply_api_error(res, req, e);
    return;
  }
  size_t m = 0;
  size_t target_lines = target.line_count;
  for (size_t i = 0; i < n; i++) {
    const struct cart_line *s = &source.lines[i];
    const struct cart_line *t =
        find_line(&target, s->variant_id[0] ? s->variant_id : s->product_id);
    if (t == NULL && target_lines >= CART_MAX_LINES) continue;
    if (strcmp(target.currency, s->currency) != 0)
      continue; /* another currency cannot join this cart */
    struct cart_line l = t ? *t : *s;
    int64_t want = s->quantity + (t ? t->quantity : 0);
    int64_t cap = cat[i].found && cat[i].active
                      ? cart_quantity_cap(cat[i].available)
                      : CART_MAX_QUANTITY;
    l.quantity = want < cap ? want : cap;
    if (l.quantity < 1) continue;
    if (t == NULL) target_lines++;
    merged[m++] = l;
  }
  rc = cart_store_merge(req->svc->kv, target.id, merged, m, source.id);
  if (rc != KIT_OK) {
    reply_store_error(res, req, rc, "no such cart");
    return;
  }
  reply_reloaded(req, res, 200, target.id);
}

/* --- discount codes ---------------------------------------------------------
 */

/* POST /api/v1/carts/{id}/discount-codes {code}: puts a code on the cart
 * when it applies to it now (422 naming `code` otherwise: unknown, not yet
 * valid, expired, limit reached, minimum not met, not for these products,
 * not stackable with the codes there). Answers the cart, repriced. */
void cart_handle_add_code(struct http_request *req, struct http_response *res) {
  const char *raw = NULL;
  const struct json_field fields[] = {
      {"code", JF_STRING, true, 1, 64, &raw},
  };
  struct json_doc *doc = NULL;
  bool body_ok = http_read_body(req, res, fields, 1, true, &doc);
  json_doc_free(doc);
  if (!body_ok) return;
  struct cart_record cart;
  if (!load_accessible(req, res, &cart)) return;
  char code[PROMO_CODE_MAX + 1];
  bool shaped = promo_code_normalize(raw, code);
  bool there = false;
  for (size_t i = 0; shaped && i < cart.code_count; i++)
    there = there || strcmp(cart.codes[i], code) == 0;
  if (shaped && !there) {
    if (cart.code_count >= CART_MAX_CODES) {
      http_reply_error(res, req, API_UNPROCESSABLE,
                       "a cart holds at most 5 discount codes", "code");
      return;
    }
    /* Price the cart as it would be with the code, strictly. */
    struct cart_record with = cart;
    snprintf(with.codes[with.code_count++], sizeof with.codes[0], "%s", code);
    struct priced_cart pc;
    if (!price_cart(req, res, &with, true, &pc)) return;
    if (pc.discounts.bad_code != NULL) {
      http_reply_error(res, req, API_UNPROCESSABLE,
                       arena_printf(req->arena, "the discount code %s %s",
                                    pc.discounts.bad_code,
                                    pc.discounts.bad_reason),
                       "code");
      return;
    }
    int rc = cart_store_add_code(req->svc->kv, cart.id, code);
    if (rc == KIT_CONFLICT) {
      http_reply_error(res, req, API_UNPROCESSABLE,
                       "a cart holds at most 5 discount codes", "code");
      return;
    }
    if (rc != KIT_OK) {
      reply_store_error(res, req, rc, "no such cart");
      return;
    }
  } else if (!shaped) {
    http_reply_error(res, req, API_UNPROCESSABLE,
                     "the discount code is unknown", "code");
    return;
  }
  reply_reloaded(req, res, 200, cart.id);
}

/* DELETE /api/v1/carts/{id}/discount-codes/{code} */
void cart_handle_remove_code(struct http_request *req,
                             struct http_response *res) {
  struct cart_record cart;
  if (!load_accessible(req, res, &cart)) return;
  char code[PROMO_CODE_MAX + 1];
  const char *raw = http_param(req, "code");
  int rc = raw && promo_code_normalize(raw, code)
               ? cart_store_remove_code(req->svc->kv, cart.id, code)
               : KIT_NOT_FOUND;
  if (rc != KIT_OK) {
    reply_store_error(res, req, rc, "no such discount code on the cart");
    return;
  }
  reply_reloaded(req, res, 200, cart.id);
}

/* --- internal routes (order service) --- */

/* GET /internal/carts/{id}?user_id=: the stored lines (snapshots, not
 * repriced: the order service reprices from the catalog itself). A cart
 * bound to another user than user_id is 404. */
void cart_handle_internal_get(struct http_request *req,
                              struct http_response *res) {
  const char *id = http_param(req, "id");
  const char *user_id = http_query(req, "user_id");
  char norm[UUID_STR_LEN];
  if (id == NULL || !uuid_normalize(id, norm)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such cart", NULL);
    return;
  }
  struct cart_record cart;
  int rc = cart_store_load(req->svc->kv, req->arena, norm, &cart);
  if (rc == KIT_OK && !cart_can_access(cart.user_id, user_id != NULL, user_id))
    rc = KIT_NOT_FOUND;
  if (rc != KIT_OK) {
    reply_store_error(res, req, rc, "no such cart");
    return;
  }
  if (cart.line_count > 1)
    qsort(cart.lines, cart.line_count, sizeof *cart.lines, line_cmp);
  json_t *items = json_array();
  char price[MONEY_BUF];
  for (size_t i = 0; i < cart.line_count; i++) {
    const struct cart_line *l = &cart.lines[i];
    json_array_append_new(
        items,
        json_pack("{s:s, s:o, s:s, s:s, s:s, s:s, s:I}", "product_id",
                  l->product_id, "variant_id",
                  l->variant_id[0] ? json_string(l->variant_id) : json_null(),
                  "sku", l->sku, "name", l->name, "unit_price",
                  money_format(l->snapshot_price, l->currency, price),
                  "currency", l->currency, "quantity",
                  (json_int_t)l->quantity));
  }
  json_t *body =
      json_pack("{s:s, s:o, s:o, s:s}", "id", cart.id, "user_id",
                cart.user_id[0] ? json_string(cart.user_id) : json_null(),
                "items", items, "currency", cart.currency);
  http_reply_json(res, 200, body);
  json_decref(body);
}

/* POST /internal/carts/{id}/clear[?order_id=]: empties the cart after a
 * checkout. With order_id (the checkout saga's call) it empties the cart
 * once for that order, as the order.confirmed consumer does (events.c):
 * whichever comes second changes nothing. Repeating it is harmless; a cart
 * that expired meanwhile is 404. */
void cart_handle_internal_clear(struct http_request *req,
                                struct http_response *res) {
  const char *id = http_param(req, "id");
  char norm[UUID_STR_LEN];
  if (id == NULL || !uuid_normalize(id, norm)) {
    http_reply_error(res, req, API_NOT_FOUND, "no such cart", NULL);
    return;
  }
  const char *order_id = http_query(req, "order_id");
  char order[UUID_STR_LEN];
  if (order_id != NULL && !uuid_normalize(order_id, order)) {
    http_reply_error(res, req, API_VALIDATION_ERROR, "order_id must be a UUID",
                     "order_id");
    return;
  }
  int rc = order_id != NULL
               ? cart_store_clear_for_order(req->svc->kv, norm, order, NULL)
               : cart_store_clear(req->svc->kv, norm);
  if (rc != KIT_OK) {
    reply_store_error(res, req, rc, "no such cart");
    return;
  }
  json_t *body = json_pack("{s:s, s:s}", "id", norm, "status", "cleared");
  http_reply_json(res, 200, body);
  json_decref(body);
}
