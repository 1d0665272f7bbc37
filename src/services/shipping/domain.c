/* domain.c - the shipping service's pure decisions (see domain.h). */
#include "services/shipping/domain.h"

#include <string.h>
#include <strings.h>

/* --- addresses ------------------------------------------------------------ */

/* Every assigned ISO 3166-1 alpha-2 code, sorted, two letters each (from
 * Debian's iso-codes, 249 codes). */
static const char iso3166_alpha2[] =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBY"
    "BZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFK"
    "FMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIR"
    "ISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMK"
    "MLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPM"
    "PNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTF"
    "TGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

bool ship_country_valid(const char *code) {
  if (code == NULL || strlen(code) != 2) return false;
  if (code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z')
    return false;
  size_t lo = 0, hi = (sizeof iso3166_alpha2 - 1) / 2;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strncmp(iso3166_alpha2 + 2 * mid, code, 2);
    if (c == 0) return true;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return false;
}

static bool blank(const char *s) {
  if (s == NULL) return true;
  for (; *s != '\0'; s++)
    if (*s != ' ' && *s != '\t') return false;
  return true;
}

const char *ship_address_problem(const struct ship_address *a) {
  if (blank(a->country) || !ship_country_valid(a->country)) return "country";
  if (blank(a->line1)) return "line1";
  if (blank(a->city)) return "city";
  if (blank(a->postal_code)) return "postal_code";
  return NULL;
}

/* --- zones and rates ------------------------------------------------------ */

int ship_zone_pick(const struct zone_match_row *rows, size_t n,
                   const char *country, const char *region) {
  int best = -1, best_rank = 0;
  for (size_t i = 0; i < n; i++) {
    const struct zone_match_row *r = &rows[i];
    int rank = 0;
    if (strcmp(r->country, "*") == 0) {
      rank = 1;
    } else if (country != NULL && strcasecmp(r->country, country) == 0) {
      if (r->region[0] == '\0')
        rank = 2;
      else if (region != NULL && strcasecmp(r->region, region) == 0)
        rank = 3;
    }
    if (rank > best_rank) {
      best_rank = rank;
      best = (int)i;
    }
  }
  return best;
}

static const char *const method_names[SHIP_METHOD_COUNT] = {"standard",
                                                            "express"};

const char *ship_method_name(enum ship_method m) {
  return (unsigned)m < SHIP_METHOD_COUNT ? method_names[m] : "unknown";
}

enum ship_method ship_method_parse(const char *s) {
  for (int i = 0; i < SHIP_METHOD_COUNT; i++)
    if (s != NULL && strcmp(s, method_names[i]) == 0)
      return (enum ship_method)i;
  return SHIP_METHOD_COUNT;
}

size_t ship_quote(const struct rate_row *rows, size_t n,
                  const struct zone_terms *terms, int64_t weight_grams,
                  bool subtotal_known, int64_t subtotal_minor,
                  const char *subtotal_currency,
                  struct quote_line out[SHIP_METHOD_COUNT]) {
  size_t count = 0;
  for (int m = 0; m < SHIP_METHOD_COUNT; m++) {
    const struct rate_row *tier = NULL;
    for (size_t i = 0; i < n; i++) {
      const struct rate_row *r = &rows[i];
      if ((int)r->method != m || r->max_weight_grams < weight_grams) continue;
      if (tier == NULL || r->max_weight_grams < tier->max_weight_grams)
        tier = r;
    }
    if (tier == NULL) continue;
    struct quote_line line = {(enum ship_method)m, tier->amount_minor,
                              tier->estimated_days, false};
    /* Only a subtotal in the zone's own currency can reach its threshold:
     * comparing across currencies would need a rate we do not have. */
    if (m == SHIP_STANDARD && terms->has_free_threshold && subtotal_known &&
        subtotal_currency != NULL && terms->currency != NULL &&
        strcmp(subtotal_currency, terms->currency) == 0 &&
        subtotal_minor >= terms->free_threshold_minor) {
      line.amount_minor = 0;
      line.free = true;
    }
    out[count++] = line;
  }
  return count;
}

bool ship_add_weight(int64_t *total, int64_t weight_grams, int64_t quantity) {
  if (weight_grams < 0 || quantity < 0) return false;
  /* A tonne per unit and 10^6 units are far beyond any parcel. */
  if (weight_grams > INT64_C(1000000000) || quantity > INT64_C(1000000))
    return false;
  int64_t add = weight_grams * quantity;
  if (*total > INT64_MAX - add) return false;
  *total += add;
  return true;
}

/* --- shipment status ------------------------------------------------------ */

static const char *const status_names[SHIP_STATUS_COUNT] = {
    "pending",          "label_created", "in_transit",
    "out_for_delivery", "delivered",     "exception"};

const char *ship_status_name(enum ship_status s) {
  return (unsigned)s < SHIP_STATUS_COUNT ? status_names[s] : "unknown";
}

enum ship_status ship_status_parse(const char *s) {
  for (int i = 0; i < SHIP_STATUS_COUNT; i++)
    if (s != NULL && strcmp(s, status_names[i]) == 0)
      return (enum ship_status)i;
  return SHIP_STATUS_COUNT;
}

bool ship_status_advances(enum ship_status from, enum ship_status to) {
  if ((unsigned)from >= SHIP_STATUS_COUNT || (unsigned)to >= SHIP_STATUS_COUNT)
    return false;
  if (from == SHIP_DELIVERED || from == SHIP_EXCEPTION) return false;
  if (to == SHIP_EXCEPTION) return true;
  return to > from;
}
