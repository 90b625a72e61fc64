/* Unit tests for http/router.c: registration rules, matching, params, 404 vs 405. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "http/router.h"

static void h(struct fg_call *c)
{
    (void)c;
}

static struct fg_router *make(void)
{
    struct fg_router *r;
    assert_int_equal(fg_router_new(&r), FG_OK);
    assert_int_equal(
        fg_router_add(r, &(struct fg_route){"GET", "/v1/health", FG_PERM_PUBLIC, 0, h, NULL, 0}),
        FG_OK);
    assert_int_equal(
        fg_router_add(r, &(struct fg_route){"POST", "/v1/things", "things.create", 0, h, NULL, 0}),
        FG_OK);
    assert_int_equal(
        fg_router_add(r, &(struct fg_route){"GET", "/v1/things/{id}", "things.read", 0, h, NULL, 0}),
        FG_OK);
    assert_int_equal(fg_router_add(r, &(struct fg_route){"POST", "/v1/things/{id}/parts/{part}",
                                                         "things.update", 0, h, NULL, 0}),
                     FG_OK);
    return r;
}

static enum fg_router_result m(struct fg_router *r, const char *method, const char *path,
                               const struct fg_route **route, struct fg_router_params *p,
                               char *allow)
{
    return fg_router_match(r, method, strlen(method), path, strlen(path), route, p, allow, 64);
}

static void test_every_route_declares_permission(void **state)
{
    (void)state;
    struct fg_router *r;
    assert_int_equal(fg_router_new(&r), FG_OK);
    assert_int_equal(fg_router_add(r, &(struct fg_route){"GET", "/v1/x", NULL, 0, h, NULL, 0}),
                     FG_ERR_INVALID);
    assert_int_equal(fg_router_add(r, &(struct fg_route){"GET", "/v1/x", "", 0, h, NULL, 0}),
                     FG_ERR_INVALID);
    assert_int_equal(
        fg_router_add(r, &(struct fg_route){"GET", "/v1/x", FG_PERM_PUBLIC, 0, NULL, NULL, 0}),
        FG_ERR_INVALID);
    assert_int_equal(
        fg_router_add(r, &(struct fg_route){"GET", "/v1/x", FG_PERM_PUBLIC, 0, h, NULL, 0}), FG_OK);
    assert_int_equal(
        fg_router_add(r, &(struct fg_route){"GET", "/v1/x", FG_PERM_PUBLIC, 0, h, NULL, 0}),
        FG_ERR_CONFLICT);
    assert_int_equal(fg_router_count(r), 1);
    fg_router_free(r);
}

static void test_bad_patterns(void **state)
{
    (void)state;
    struct fg_router *r;
    assert_int_equal(fg_router_new(&r), FG_OK);
    const char *bad[] = {"",      "/",      "v1/x",     "/v1/",   "/v1//x",
                         "/v1/{", "/v1/{}", "/v1/a{b}", "/v1/{id"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(
            fg_router_add(r, &(struct fg_route){"GET", bad[i], FG_PERM_PUBLIC, 0, h, NULL, 0}),
            FG_ERR_INVALID);
    fg_router_free(r);
}

static void test_match_and_params(void **state)
{
    (void)state;
    struct fg_router *r = make();
    const struct fg_route *route;
    struct fg_router_params p;
    char allow[64];
    assert_int_equal(m(r, "GET", "/v1/health", &route, &p, allow), FG_ROUTE_FOUND);
    assert_string_equal(route->pattern, "/v1/health");
    assert_int_equal(fg_router_index_of(r, route), 0);
    assert_int_equal(m(r, "HEAD", "/v1/health", &route, &p, allow), FG_ROUTE_FOUND);
    assert_int_equal(m(r, "GET", "/v1/things/abc", &route, &p, allow), FG_ROUTE_FOUND);
    assert_string_equal(route->permission, "things.read");
    assert_int_equal(p.count, 1);
    assert_int_equal(p.v[0].n, 3);
    assert_memory_equal(p.v[0].p, "abc", 3);
    assert_int_equal(m(r, "POST", "/v1/things/7/parts/x9", &route, &p, allow), FG_ROUTE_FOUND);
    assert_int_equal(p.count, 2);
    assert_memory_equal(p.v[1].p, "x9", 2);
    assert_int_equal(fg_router_index_of(r, route), 3);
    fg_router_free(r);
}

static void test_not_found_is_uniform(void **state)
{
    (void)state;
    struct fg_router *r = make();
    const struct fg_route *route;
    struct fg_router_params p;
    char allow[64];
    const char *paths[] = {"/",
                           "",
                           "/v1",
                           "/v1/health/",
                           "/v1//health",
                           "/v1/./health",
                           "/v1/../v1/health",
                           "/v1/%68ealth",
                           "/v1/things/",
                           "/v1/things//parts/x",
                           "/v1/things/a/b",
                           "/V1/HEALTH",
                           "/v1/healthz",
                           "//v1/health"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        assert_int_equal(m(r, "GET", paths[i], &route, &p, allow), FG_ROUTE_NOT_FOUND);
    fg_router_free(r);
}

static void test_bad_method_lists_allow(void **state)
{
    (void)state;
    struct fg_router *r = make();
    const struct fg_route *route;
    struct fg_router_params p;
    char allow[64];
    assert_int_equal(m(r, "DELETE", "/v1/health", &route, &p, allow), FG_ROUTE_BAD_METHOD);
    assert_string_equal(allow, "GET, HEAD");
    assert_int_equal(m(r, "GET", "/v1/things", &route, &p, allow), FG_ROUTE_BAD_METHOD);
    assert_string_equal(allow, "POST");
    assert_int_equal(m(r, "get", "/v1/health", &route, &p, allow), FG_ROUTE_BAD_METHOD);
    fg_router_free(r);
}

static void test_limits(void **state)
{
    (void)state;
    struct fg_router *r;
    assert_int_equal(fg_router_new(&r), FG_OK);
    static char pats[FG_HTTP_ROUTES_MAX][16]; /* patterns must outlive the router */
    for (unsigned i = 0; i < FG_HTTP_ROUTES_MAX; i++) {
        snprintf(pats[i], sizeof pats[i], "/v1/r%u", i);
        assert_int_equal(
            fg_router_add(r, &(struct fg_route){"GET", pats[i], FG_PERM_PUBLIC, 0, h, NULL, 0}),
            FG_OK);
    }
    assert_int_equal(
        fg_router_add(r, &(struct fg_route){"GET", "/v1/one-more", FG_PERM_PUBLIC, 0, h, NULL, 0}),
        FG_ERR_LIMIT);
    /* a path over FG_HTTP_PATH_MAX never matches */
    char longpath[FG_HTTP_PATH_MAX + 16];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    const struct fg_route *route;
    struct fg_router_params p;
    assert_int_equal(fg_router_match(r, "GET", 3, longpath, strlen(longpath), &route, &p, NULL, 0),
                     FG_ROUTE_NOT_FOUND);
    /* too many segments in a pattern */
    char deep[256] = "";
    for (unsigned i = 0; i <= FG_HTTP_SEGMENTS_MAX; i++) {
        size_t used = strlen(deep);
        snprintf(deep + used, sizeof deep - used, "/s");
    }
    fg_router_free(r);
    assert_int_equal(fg_router_new(&r), FG_OK);
    assert_int_equal(fg_router_add(r, &(struct fg_route){"GET", deep, FG_PERM_PUBLIC, 0, h, NULL, 0}),
                     FG_ERR_INVALID);
    fg_router_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_route_declares_permission),
        cmocka_unit_test(test_bad_patterns),
        cmocka_unit_test(test_match_and_params),
        cmocka_unit_test(test_not_found_is_uniform),
        cmocka_unit_test(test_bad_method_lists_allow),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
