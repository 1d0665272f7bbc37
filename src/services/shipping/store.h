/* store.h - the shipping service's SQL, one typed function per query.
 *
 * Every function returns a db_status (db.h): negative on failure, otherwise
 * the number of rows. Strings in results are copied into the caller's arena,
 * so they live as long as the request (or the worker run) that asked.
 */
#ifndef SHOPSPHERE_SHIPPING_STORE_H
#define SHOPSPHERE_SHIPPING_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "kit/arena.h"
#include "kit/db.h"
#include "services/shipping/domain.h"

/* The service's prepared statements (the module descriptor lists them). */
#define SHIPPING_STATEMENT_COUNT 27
extern const struct db_statement shipping_statements[SHIPPING_STATEMENT_COUNT];

/* --- rate tables ---------------------------------------------------------- */

struct zone_row {
  const char *code, *name, *currency;
  bool has_threshold;
  int64_t threshold_minor;
};

/* Rows of zone_countries for country or '*', into *rows (arena array). */
int store_zone_candidates(struct db_conn *c, struct arena *a,
                          const char *country, struct zone_match_row **rows);

/* One zone by code; DB_NO_RESULTS when absent. */
int store_zone_get(struct db_conn *c, struct arena *a, const char *code,
                   struct zone_row *out);

/* The rate tiers of a zone, into *rows (arena array). */
int store_zone_rates(struct db_conn *c, struct arena *a, const char *code,
                     struct rate_row **rows);

/* The zone's rates priced in currency (another than the zone's own): the
 * rows when every tier has an amount in it, 0 when not (then the zone does
 * not quote in that currency); *has_threshold / *threshold its free-standard
 * threshold in that currency. */
int store_zone_rates_in(struct db_conn *c, struct arena *a, const char *code,
                        const char *currency, struct rate_row **rows,
                        bool *has_threshold, int64_t *threshold);

/* Every zone, every zone_countries row and every rate (for the admin view). */
int store_zones_all(struct db_conn *c, struct arena *a, struct zone_row **out);
int store_zone_countries_all(struct db_conn *c, struct arena *a,
                             struct zone_match_row **out);
struct rate_table_row {
  const char *zone_code;
  struct rate_row rate;
};
int store_rates_all(struct db_conn *c, struct arena *a,
                    struct rate_table_row **out);

/* Creates or renames a zone (threshold < 0: none). */
int store_zone_upsert(struct db_conn *c, const char *code, const char *name,
                      const char *currency, int64_t threshold_minor);
/* Drops the zone's countries (before store_zone_country_put of the new set). */
int store_zone_countries_clear(struct db_conn *c, const char *code);
/* Maps (country, region) to the zone, moving it from any other zone. */
int store_zone_country_put(struct db_conn *c, const char *country,
                           const char *region, const char *code);
int store_zone_rates_clear(struct db_conn *c, const char *code);
int store_zone_rate_put(struct db_conn *c, const char *code,
                        const struct rate_row *r);

/* --- shipments ------------------------------------------------------------ */

struct shipment {
  const char *id, *order_id, *user_id, *carrier, *method, *status;
  const char *tracking_number; /* NULL until the label exists */
  const char *label_url;       /* NULL until the label exists */
  const char *address_json, *items_json;
  int64_t weight_grams;
  int booking_attempts;
  const char *created_at, *updated_at; /* RFC 3339 UTC */
};

struct tracking_event {
  const char *status, *description, *location, *occurred_at;
};

struct shipment_new {
  const char *id, *order_id, *user_id, *carrier, *method;
  const char *address_json, *items_json;
  int64_t weight_grams;
};

/* Inserts a pending shipment unless the order has one: 1 inserted, 0 not. */
int store_shipment_insert(struct db_conn *c, const struct shipment_new *s);

/* Lookups; DB_NO_RESULTS when absent. The _for_update ones lock the row. */
int store_shipment_by_id(struct db_conn *c, struct arena *a, const char *id,
                         struct shipment *out);
int store_shipment_by_id_for_update(struct db_conn *c, struct arena *a,
                                    const char *id, struct shipment *out);
int store_shipment_by_order(struct db_conn *c, struct arena *a,
                            const char *order_id, struct shipment *out);
int store_shipment_by_tracking_for_update(struct db_conn *c, struct arena *a,
                                          const char *tracking,
                                          struct shipment *out);

/* Shipments of a user (newest first, ids below before_id when given). */
int store_shipments_of_user(struct db_conn *c, struct arena *a,
                            const char *user_id, const char *before_id,
                            int limit, struct shipment **out);

/* The timeline, oldest first. */
int store_tracking_events(struct db_conn *c, struct arena *a,
                          const char *shipment_id, struct tracking_event **out);

/* Appends to the timeline; courier_event_id may be NULL. occurred_at NULL is
 * now(). 1 added, 0 when that courier event is already there. */
int store_tracking_event_add(struct db_conn *c, const char *shipment_id,
                             const char *status, const char *description,
                             const char *location, const char *occurred_at,
                             const char *courier_event_id);

/* pending → label_created with the courier's answer; 1 when it moved. */
int store_shipment_label(struct db_conn *c, const char *id,
                         const char *tracking, const char *label_url);

/* Sets the status (already decided by the domain). */
int store_shipment_set_status(struct db_conn *c, const char *id,
                              const char *status);

/* Counts a failed booking and schedules the next try after delay_s. */
int store_shipment_booking_failed(struct db_conn *c, const char *id,
                                  int delay_s);

/* Ids of pending shipments due for a booking attempt (at most limit). */
int store_shipments_due(struct db_conn *c, struct arena *a, int limit,
                        const char ***ids);

/* Records a webhook delivery: 1 when new, 0 when already applied. */
int store_webhook_delivery_add(struct db_conn *c, const char *carrier,
                               const char *event_id);

#endif
