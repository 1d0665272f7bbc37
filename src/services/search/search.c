/* search.c - the search service module: full-text index, facets, suggestions.
 *
 * The module descriptor; its domain routes arrive with the issue that builds
 * the service. Until then it serves /healthz, /readyz and /metrics.
 */
#include "kit/service.h"

const struct service_module search_module = {
    .id = SVC_SEARCH,
    .summary = "full-text index, facets, suggestions",
    .needs = NEEDS_DB | NEEDS_AMQP,
};
