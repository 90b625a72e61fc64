/*
 * metrics.c — a fixed table of relaxed atomic counters: for each route (plus one slot for
 * "no route") a counter per known status code and a latency histogram. Rendering reads
 * the counters without locks; a scrape may see a request counted in one series and not
 * yet in another, which Prometheus tolerates by design.
 */
#include "http/metrics.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const int status_codes[] = {200, 201, 202, 204, 400, 401, 403, 404, 405, 409,
                                   413, 414, 415, 422, 423, 429, 431, 500, 503, 0 /* other */};
#define NSTATUS (sizeof status_codes / sizeof status_codes[0])

static const double latency_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                        0.01,   0.025,   0.05,   0.1,   0.25,   1.0};
#define NBUCKETS (sizeof latency_bounds / sizeof latency_bounds[0])

struct route_metrics {
    _Atomic uint64_t by_status[NSTATUS];
    _Atomic uint64_t le[NBUCKETS + 1]; /* non-cumulative; +Inf last */
    _Atomic uint64_t duration_ns_sum;
};

/* Requests that matched no route are labelled by their method, from a fixed set so a
 * client cannot create series at will. */
static const char *const methods[] = {"GET",   "HEAD",   "POST",    "PUT",
                                      "PATCH", "DELETE", "OPTIONS", "other"};
#define NMETHODS (sizeof methods / sizeof methods[0])

struct fg_metrics {
    const struct fg_router *router;
    size_t nroutes;
    _Atomic uint64_t none_by_method[NMETHODS][NSTATUS];
    _Atomic int64_t inflight;
    struct route_metrics *routes; /* nroutes + 1 (last = no route) */
};

fg_rc fg_metrics_new(const struct fg_router *router, struct fg_metrics **out)
{
    assert(router != NULL && out != NULL);
    struct fg_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return FG_ERR_NOMEM;
    m->router = router;
    m->nroutes = fg_router_count(router);
    m->routes = calloc(m->nroutes + 1, sizeof *m->routes);
    if (!m->routes) {
        free(m);
        return FG_ERR_NOMEM;
    }
    *out = m;
    return FG_OK;
}

void fg_metrics_free(struct fg_metrics *m)
{
    if (!m)
        return;
    free(m->routes);
    free(m);
}

static size_t status_slot(int status)
{
    for (size_t i = 0; i + 1 < NSTATUS; i++)
        if (status_codes[i] == status)
            return i;
    return NSTATUS - 1;
}

static size_t method_slot(const char *method)
{
    for (size_t i = 0; i + 1 < NMETHODS; i++)
        if (method != NULL && strcmp(methods[i], method) == 0)
            return i;
    return NMETHODS - 1;
}

void fg_metrics_record(struct fg_metrics *m, size_t route_index, const char *method, int status,
                       uint64_t duration_ns)
{
    size_t ri = route_index < m->nroutes ? route_index : m->nroutes;
    struct route_metrics *r = &m->routes[ri];
    if (ri == m->nroutes)
        atomic_fetch_add_explicit(&m->none_by_method[method_slot(method)][status_slot(status)], 1,
                                  memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&r->by_status[status_slot(status)], 1, memory_order_relaxed);
    double s = (double)duration_ns / 1e9;
    size_t b = 0;
    while (b < NBUCKETS && s > latency_bounds[b])
        b++;
    atomic_fetch_add_explicit(&r->le[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->duration_ns_sum, duration_ns, memory_order_relaxed);
}

void fg_metrics_inflight_add(struct fg_metrics *m, int delta)
{
    atomic_fetch_add_explicit(&m->inflight, delta, memory_order_relaxed);
}

static uint64_t load(_Atomic uint64_t *p)
{
    return atomic_load_explicit(p, memory_order_relaxed);
}

static fg_rc render_routes(struct fg_metrics *m, struct fg_buf *out)
{
    fg_rc rc = fg_buf_append_str(out, "# HELP finguard_http_requests_total HTTP requests by route, "
                                      "method and status.\n"
                                      "# TYPE finguard_http_requests_total counter\n");
    for (size_t ri = 0; ri < m->nroutes + NMETHODS && rc == FG_OK; ri++) {
        int none = ri >= m->nroutes;
        const char *route = none ? "none" : fg_router_at(m->router, ri)->name;
        const char *method = none ? methods[ri - m->nroutes] : fg_router_at(m->router, ri)->method;
        for (size_t si = 0; si < NSTATUS && rc == FG_OK; si++) {
            uint64_t v = none ? load(&m->none_by_method[ri - m->nroutes][si])
                              : load(&m->routes[ri].by_status[si]);
            if (v == 0)
                continue;
            if (status_codes[si])
                rc = fg_buf_appendf(out,
                                    "finguard_http_requests_total{route=\"%s\",method=\"%s\","
                                    "status=\"%d\"} %llu\n",
                                    route, method, status_codes[si], (unsigned long long)v);
            else
                rc = fg_buf_appendf(out,
                                    "finguard_http_requests_total{route=\"%s\",method=\"%s\","
                                    "status=\"other\"} %llu\n",
                                    route, method, (unsigned long long)v);
        }
    }
    if (rc == FG_OK)
        rc = fg_buf_append_str(out, "# HELP finguard_http_request_duration_seconds Time from "
                                    "routing to the last response byte queued.\n"
                                    "# TYPE finguard_http_request_duration_seconds histogram\n");
    for (size_t ri = 0; ri <= m->nroutes && rc == FG_OK; ri++) {
        const char *route = ri < m->nroutes ? fg_router_at(m->router, ri)->name : "none";
        uint64_t cum = 0;
        for (size_t b = 0; b <= NBUCKETS && rc == FG_OK; b++) {
            cum += load(&m->routes[ri].le[b]);
            if (b < NBUCKETS)
                rc = fg_buf_appendf(out,
                                    "finguard_http_request_duration_seconds_bucket{route=\"%s\","
                                    "le=\"%g\"} %llu\n",
                                    route, latency_bounds[b], (unsigned long long)cum);
            else
                rc = fg_buf_appendf(out,
                                    "finguard_http_request_duration_seconds_bucket{route=\"%s\","
                                    "le=\"+Inf\"} %llu\n"
                                    "finguard_http_request_duration_seconds_sum{route=\"%s\"} "
                                    "%.6f\n"
                                    "finguard_http_request_duration_seconds_count{route=\"%s\"} "
                                    "%llu\n",
                                    route, (unsigned long long)cum, route,
                                    (double)load(&m->routes[ri].duration_ns_sum) / 1e9, route,
                                    (unsigned long long)cum);
        }
    }
    return rc;
}

static fg_rc render_store(fg_store *store, struct fg_buf *out)
{
    struct fg_store_stats st;
    fg_store_stats(store, &st);
    fg_rc rc =
        fg_buf_appendf(out,
                       "# HELP finguard_store_intents_total Write intents completed, by result.\n"
                       "# TYPE finguard_store_intents_total counter\n"
                       "finguard_store_intents_total{result=\"ok\"} %llu\n"
                       "finguard_store_intents_total{result=\"failed\"} %llu\n"
                       "# HELP finguard_store_commits_failed_total Batches whose commit failed.\n"
                       "# TYPE finguard_store_commits_failed_total counter\n"
                       "finguard_store_commits_failed_total %llu\n"
                       "# HELP finguard_store_queue_depth Intents waiting for the writer.\n"
                       "# TYPE finguard_store_queue_depth gauge\n"
                       "finguard_store_queue_depth %llu\n"
                       "# HELP finguard_store_batch_size Intents per group-commit transaction.\n"
                       "# TYPE finguard_store_batch_size histogram\n",
                       (unsigned long long)st.intents_ok, (unsigned long long)st.intents_failed,
                       (unsigned long long)st.commits_failed, (unsigned long long)st.queue_depth);
    uint64_t cum = 0;
    for (int b = 0; b < FG_STORE_BATCH_BUCKETS && rc == FG_OK; b++) {
        cum += st.batch_size_le[b];
        if (b + 1 < FG_STORE_BATCH_BUCKETS)
            rc = fg_buf_appendf(out, "finguard_store_batch_size_bucket{le=\"%g\"} %llu\n",
                                fg_store_batch_bounds[b], (unsigned long long)cum);
        else
            rc = fg_buf_appendf(out, "finguard_store_batch_size_bucket{le=\"+Inf\"} %llu\n",
                                (unsigned long long)cum);
    }
    if (rc == FG_OK)
        rc = fg_buf_appendf(out,
                            "finguard_store_batch_size_sum %llu\n"
                            "finguard_store_batch_size_count %llu\n"
                            "# HELP finguard_store_commit_duration_seconds Time of one "
                            "group commit (BEGIN to COMMIT, fsync included).\n"
                            "# TYPE finguard_store_commit_duration_seconds histogram\n",
                            (unsigned long long)st.batch_size_sum, (unsigned long long)cum);
    cum = 0;
    for (int b = 0; b < FG_STORE_LATENCY_BUCKETS && rc == FG_OK; b++) {
        cum += st.commit_seconds_le[b];
        if (b + 1 < FG_STORE_LATENCY_BUCKETS)
            rc = fg_buf_appendf(out,
                                "finguard_store_commit_duration_seconds_bucket{le=\"%g\"} %llu\n",
                                fg_store_latency_bounds[b], (unsigned long long)cum);
        else
            rc = fg_buf_appendf(out,
                                "finguard_store_commit_duration_seconds_bucket{le=\"+Inf\"} "
                                "%llu\n",
                                (unsigned long long)cum);
    }
    if (rc == FG_OK)
        rc = fg_buf_appendf(out,
                            "finguard_store_commit_duration_seconds_sum %.6f\n"
                            "finguard_store_commit_duration_seconds_count %llu\n",
                            st.commit_seconds_sum, (unsigned long long)cum);
    return rc;
}

/* Resident set size from /proc/self/statm (pages). 0 if unreadable. */
static uint64_t resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    unsigned long long size = 0, resident = 0;
    int n = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    if (n != 2)
        return 0;
    long page = sysconf(_SC_PAGESIZE);
    return resident * (uint64_t)(page > 0 ? page : 4096);
}

fg_rc fg_metrics_render(struct fg_metrics *m, fg_store *store, struct fg_buf *out)
{
    assert(m != NULL && out != NULL);
    fg_rc rc = render_routes(m, out);
    if (rc == FG_OK)
        rc = fg_buf_appendf(out,
                            "# HELP finguard_http_inflight Requests handed to workers and not "
                            "yet answered.\n"
                            "# TYPE finguard_http_inflight gauge\n"
                            "finguard_http_inflight %lld\n",
                            (long long)atomic_load_explicit(&m->inflight, memory_order_relaxed));
    if (rc == FG_OK && store != NULL)
        rc = render_store(store, out);
    if (rc == FG_OK)
        rc = fg_buf_appendf(out,
                            "# HELP finguard_process_resident_memory_bytes Resident set size.\n"
                            "# TYPE finguard_process_resident_memory_bytes gauge\n"
                            "finguard_process_resident_memory_bytes %llu\n",
                            (unsigned long long)resident_bytes());
    return rc;
}
