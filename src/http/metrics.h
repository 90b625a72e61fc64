/*
 * metrics.h — request counters and latency histograms per route and status, rendered
 * with the store's writer statistics and process memory as Prometheus text (GET /metrics).
 *
 * Counters are relaxed atomics in a fixed table sized at start-up (routes × a fixed set
 * of status codes), so recording costs a few nanoseconds and never allocates.
 */
#ifndef FG_HTTP_METRICS_H
#define FG_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/rc.h"
#include "http/router.h"
#include "store/store.h"

struct fg_metrics;

/* Slot for requests that matched no route. */
#define FG_METRICS_ROUTE_NONE ((size_t)-1)

FG_MUST_CHECK fg_rc fg_metrics_new(const struct fg_router *router, struct fg_metrics **out);
void fg_metrics_free(struct fg_metrics *m);
/* route_index: position in the router, or FG_METRICS_ROUTE_NONE. method: "GET" … */
void fg_metrics_record(struct fg_metrics *m, size_t route_index, const char *method, int status,
                       uint64_t duration_ns);
void fg_metrics_inflight_add(struct fg_metrics *m, int delta);
/* Render everything (store may be NULL). */
FG_MUST_CHECK fg_rc fg_metrics_render(struct fg_metrics *m, fg_store *store, struct fg_buf *out);

#endif
