/* ratings.c - the product's rating, learned from the review service.
 *
 * review.approved and review.removed carry the product's aggregate after
 * the change (rating_average as a decimal string or null, rating_count);
 * this consumer sets it on the product, so a redelivered event is harmless,
 * and an event older than the one that set the stored value (a retry that
 * overtook a later one) is ignored. The read cache is dropped so the next
 * read renders the new rating (at most PRODUCT_CACHE_TTL_MS later on a read
 * that raced the commit). */
#include <string.h>

#include "kit/log.h"
#include "kit/uuid.h"
#include "services/product/product.h"

/* "1.0" .. "5.0": one digit, a dot, one digit. */
static bool average_valid(const char *s) {
  return strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' && s[1] == '.' &&
         s[2] >= '0' && s[2] <= '9' && (s[0] != '5' || s[2] == '0');
}

int product_on_review_rating(struct service *svc, struct db_conn *conn,
                             const struct bus_event *ev) {
  const char *id = json_string_value(json_object_get(ev->data, "product_id"));
  json_t *avg = json_object_get(ev->data, "rating_average");
  json_t *count = json_object_get(ev->data, "rating_count");
  const char *average = json_string_value(avg);
  if (id == NULL || !uuid_valid(id) || !json_is_integer(count) ||
      json_integer_value(count) < 0 ||
      (average == NULL && !json_is_null(avg)) ||
      (average != NULL && !average_valid(average)) ||
      ((average == NULL) != (json_integer_value(count) == 0))) {
    log_error("%s %s with an unusable rating: skipped", ev->event_type,
              ev->event_id);
    return 0; /* retrying would not make it better */
  }
  int rc = pstore_rating_set(conn, id, average, json_integer_value(count),
                             ev->timestamp);
  if (rc > 0) {
    struct product_state *st = svc->state;
    if (st != NULL) pcache_invalidate(st->cache);
  }
  return rc;
}
