/* Unit tests for http/metrics.c: counters by route and status, histogram buckets. */
#include "testutil.h"

#include <string.h>

#include "http/metrics.h"

static void h(struct fg_call *c)
{
    (void)c;
}

static void test_render(void **state)
{
    (void)state;
    struct fg_router *r;
    assert_int_equal(fg_router_new(&r), FG_OK);
    assert_int_equal(
        fg_router_add(r, &(struct fg_route){"GET", "/v1/health", FG_PERM_PUBLIC, 0, h, NULL, 0}),
        FG_OK);
    struct fg_metrics *m;
    assert_int_equal(fg_metrics_new(r, &m), FG_OK);
    fg_metrics_record(m, 0, "GET", 200, 50000);   /* 50 µs */
    fg_metrics_record(m, 0, "GET", 200, 3000000); /* 3 ms */
    fg_metrics_record(m, FG_METRICS_ROUTE_NONE, "GET", 404, 1000);
    fg_metrics_record(m, FG_METRICS_ROUTE_NONE, "BREW", 404, 1000);
    fg_metrics_record(m, 0, "GET", 299, 1000); /* unknown status → other */
    struct fg_buf out = FG_BUF_INIT(1u << 20);
    assert_int_equal(fg_metrics_render(m, NULL, &out), FG_OK);
    const char *s = fg_buf_str(&out);
    assert_non_null(strstr(
        s, "finguard_http_requests_total{route=\"/v1/health\",method=\"GET\",status=\"200\"} 2\n"));
    assert_non_null(strstr(
        s, "finguard_http_requests_total{route=\"none\",method=\"GET\",status=\"404\"} 1\n"));
    assert_non_null(strstr(
        s, "finguard_http_requests_total{route=\"none\",method=\"other\",status=\"404\"} 1\n"));
    assert_non_null(strstr(s, "status=\"other\"} 1\n"));
    assert_non_null(strstr(
        s,
        "finguard_http_request_duration_seconds_bucket{route=\"/v1/health\",le=\"0.0001\"} 2\n"));
    assert_non_null(strstr(
        s,
        "finguard_http_request_duration_seconds_bucket{route=\"/v1/health\",le=\"0.0025\"} 2\n"));
    assert_non_null(strstr(
        s, "finguard_http_request_duration_seconds_bucket{route=\"/v1/health\",le=\"0.005\"} 3\n"));
    assert_non_null(
        strstr(s, "finguard_http_request_duration_seconds_count{route=\"/v1/health\"} 3\n"));
    assert_non_null(strstr(s, "finguard_process_resident_memory_bytes "));
    fg_buf_release(&out);
    fg_metrics_free(m);
    fg_router_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_render)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
