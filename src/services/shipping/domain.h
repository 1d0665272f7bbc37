/* domain.h - the shipping service's decisions, as pure functions.
 *
 * No I/O here: which zone an address falls in, which weight tier a parcel
 * takes, what each method costs (free standard shipping over the zone's
 * threshold), whether an address is complete, and how a shipment's status may
 * move. The handlers load rows, call these, and store or render the result;
 * tests/unit/test_shipping_domain.c covers them.
 */
#ifndef SHOPSPHERE_SHIPPING_DOMAIN_H
#define SHOPSPHERE_SHIPPING_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- addresses (DESIGN §5) ----------------------------------------------- */

struct ship_address {
  const char *first_name, *last_name, *line1, *line2, *city, *state,
      *postal_code, *country, *phone; /* NULL when absent */
};

/* true when code is an assigned ISO 3166-1 alpha-2 code (uppercase). */
bool ship_country_valid(const char *code);

/* Checks the required fields (country, line1, city, postal_code) and the
 * country code. Returns NULL when the address is complete, or the name of the
 * first offending field ("country", "line1", ...) for the 422. A required
 * field of only spaces counts as missing. */
const char *ship_address_problem(const struct ship_address *a);

/* --- zones and rates ---------------------------------------------------- */

/* A row of zone_countries: country "*" is the rest of the world, region ""
 * the whole country. */
struct zone_match_row {
  const char *country;
  const char *region;
  const char *zone_code;
};

/* The most specific row for (country, region): country and region (compared
 * case-insensitively, region from the address's `state`), then the whole
 * country, then "*". Returns its index, or -1 when no row applies. */
int ship_zone_pick(const struct zone_match_row *rows, size_t n,
                   const char *country, const char *region);

enum ship_method { SHIP_STANDARD = 0, SHIP_EXPRESS, SHIP_METHOD_COUNT };

/* "standard" / "express"; parse returns SHIP_METHOD_COUNT when unknown. */
const char *ship_method_name(enum ship_method m);
enum ship_method ship_method_parse(const char *s);

/* One weight tier of a zone's rate table: up to max_weight_grams
 * (inclusive) the method costs amount_minor. */
struct rate_row {
  enum ship_method method;
  int64_t max_weight_grams;
  int64_t amount_minor;
  int estimated_days;
};

struct zone_terms {
  const char *currency; /* the zone's rate currency */
  bool has_free_threshold;
  int64_t free_threshold_minor; /* standard is free at or above this */
};

struct quote_line {
  enum ship_method method;
  int64_t amount_minor;
  int estimated_days;
  bool free; /* the threshold waived the standard rate */
};

/* Picks, for each method, the lightest tier that holds weight_grams and
 * prices it; standard becomes free when the subtotal (when known, in the
 * zone's currency) reaches the threshold. Writes at most SHIP_METHOD_COUNT
 * lines in method order into out and returns how many (0: too heavy for
 * every tier, or no rates). */
size_t ship_quote(const struct rate_row *rows, size_t n,
                  const struct zone_terms *terms, int64_t weight_grams,
                  bool subtotal_known, int64_t subtotal_minor,
                  const char *subtotal_currency,
                  struct quote_line out[SHIP_METHOD_COUNT]);

/* Products without a recorded weight count as this much each. */
#define SHIP_DEFAULT_ITEM_WEIGHT_GRAMS 500

/* Adds quantity × weight to *total; false on overflow or a negative input. */
bool ship_add_weight(int64_t *total, int64_t weight_grams, int64_t quantity);

/* --- shipment status ---------------------------------------------------- */

enum ship_status {
  SHIP_PENDING = 0,
  SHIP_LABEL_CREATED,
  SHIP_IN_TRANSIT,
  SHIP_OUT_FOR_DELIVERY,
  SHIP_DELIVERED,
  SHIP_EXCEPTION,
  SHIP_STATUS_COUNT
};

const char *ship_status_name(enum ship_status s);
/* SHIP_STATUS_COUNT when unknown. */
enum ship_status ship_status_parse(const char *s);

/* true when a tracking update reporting `to` moves a shipment that is `from`:
 * forward along pending → label_created → in_transit → out_for_delivery →
 * delivered, or to exception from any state that is not final; delivered and
 * exception are final. A stale or repeated update (not forward) is false and
 * only joins the timeline. */
bool ship_status_advances(enum ship_status from, enum ship_status to);

#endif
