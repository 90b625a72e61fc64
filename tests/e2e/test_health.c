/*
 * test_health.c — end to end: GET /v1/health over TLS with HTTP/1.1 and HTTP/2, the
 * headers every response carries (X-Request-Id, Cache-Control: no-store), request ids
 * (fresh per request; a client's safe id is echoed, an unsafe or too long one replaced),
 * the self-signed certificate's names (127.0.0.1 and localhost), keep-alive, no session
 * token / signature / nonce / cookie in the logs or data dir even at debug level, and a
 * clean exit (status 0) on SIGTERM after which the port is closed.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

static void check_health(const struct fg_client_response *res, int http_version)
{
    assert_int_equal(res->status, 200);
    assert_int_equal(res->http_version, http_version);
    assert_non_null(res->json);
    assert_string_equal(json_string_value(json_object_get(res->json, "status")), "ok");
    const char *version = json_string_value(json_object_get(res->json, "version"));
    assert_non_null(version);
    assert_true(strlen(version) > 0);
    assert_true(json_is_boolean(json_object_get(res->json, "initialized")));
    assert_true(json_is_boolean(json_object_get(res->json, "sealed")));
    assert_true(strlen(res->request_id) > 0);
    assert_non_null(strstr(res->cache_control, "no-store"));
    assert_true(strncmp(res->content_type, "application/json", 16) == 0);
}

static void test_health_http1_and_http2(void **state)
{
    (void)state;
    struct fg_test_server s;
    fg_test_server_start(&s, NULL);
    struct fg_client *c1, *c2;
    fg_test_server_client_opts(&s, 0, 0, &c1);
    fg_test_server_client_opts(&s, 1, 0, &c2);
    struct fg_client_response res;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(fg_client_get(c1, "/v1/health", &res), FG_OK);
        check_health(&res, 11);
        fg_client_response_release(&res);
        assert_int_equal(fg_client_get(c2, "/v1/health", &res), FG_OK);
        check_health(&res, 20);
        fg_client_response_release(&res);
    }
    /* Keep-alive: one connection per client for all of them. */
    assert_int_equal(fg_client_connections_opened(c1), 1);
    assert_int_equal(fg_client_connections_opened(c2), 1);
    fg_client_free(c1);
    fg_client_free(c2);
    assert_int_equal(fg_test_server_stop(&s), 0);
    fg_test_server_done(&s);
}

static void test_request_ids_fresh(void **state)
{
    (void)state;
    struct fg_test_server s;
    fg_test_server_start(&s, NULL);
    struct fg_client *c[2];
    fg_test_server_client_opts(&s, 0, 0, &c[0]);
    fg_test_server_client_opts(&s, 1, 0, &c[1]);
    struct fg_client_response res;
    /* Fresh and distinct per request, on both protocols. */
    enum { N = 40 };
    char ids[N][FG_CLIENT_HEADER_VALUE_MAX];
    for (int i = 0; i < N; i++) {
        assert_int_equal(fg_client_get(c[i % 2], "/v1/health", &res), FG_OK);
        assert_int_equal(res.status, 200);
        assert_true(strlen(res.request_id) > 0);
        snprintf(ids[i], sizeof ids[i], "%s", res.request_id);
        fg_client_response_release(&res);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(ids[i], ids[j]);
    }
    fg_client_free(c[0]);
    fg_client_free(c[1]);
    assert_int_equal(fg_test_server_stop(&s), 0);
    fg_test_server_done(&s);
}

/* Request ids tie a response to its audit record, so the server alone mints them
 * (docs/API.md): even a well-formed client-supplied X-Request-Id is not adopted. */
static void test_request_id_client_value_not_adopted(void **state)
{
    (void)state;
    struct fg_test_server s;
    fg_test_server_start(&s, NULL);
    struct fg_client *c[2];
    fg_test_server_client_opts(&s, 0, 0, &c[0]);
    fg_test_server_client_opts(&s, 1, 0, &c[1]);
    char longest[96] = "X-Request-Id: ";
    size_t at = strlen(longest);
    memset(longest + at, 'b', 64);
    longest[at + 64] = '\0';
    const char *const supplied[] = {"X-Request-Id: trace-abc.123_XYZ", longest};
    const char *const value[] = {"trace-abc.123_XYZ", longest + at};
    for (int p = 0; p < 2; p++) {
        for (int i = 0; i < 2; i++) {
            const char *const hdrs[] = {supplied[i], NULL};
            struct fg_client_request req = {.method = "GET", .path = "/v1/health", .headers = hdrs};
            struct fg_client_response res;
            assert_int_equal(fg_client_request(c[p], &req, &res), FG_OK);
            assert_int_equal(res.status, 200);
            assert_true(strlen(res.request_id) > 0);
            if (strcmp(res.request_id, value[i]) == 0)
                fail_msg("%s: the server adopted the client's X-Request-Id '%s'",
                         p ? "h2" : "h1", value[i]);
            fg_client_response_release(&res);
        }
    }
    fg_client_free(c[0]);
    fg_client_free(c[1]);
    assert_int_equal(fg_test_server_stop(&s), 0);
    fg_test_server_done(&s);
}

static void test_request_id_unsafe_is_replaced(void **state)
{
    (void)state;
    struct fg_test_server s;
    fg_test_server_start(&s, NULL);
    struct fg_client *c;
    fg_test_server_client(&s, &c);
    /* Unsafe or too long ids are never reflected either. */
    char too_long[128] = "X-Request-Id: ";
    size_t at = strlen(too_long);
    memset(too_long + at, 'a', 65);
    too_long[at + 65] = '\0';
    const char *const unsafe[] = {"X-Request-Id: <script>alert(1)</script>",
                                  "X-Request-Id: has space", "X-Request-Id: a\"b",
                                  "X-Request-Id: a/b", too_long};
    for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++) {
        const char *const hdrs[] = {unsafe[i], NULL};
        struct fg_client_request req = {.method = "GET", .path = "/v1/health", .headers = hdrs};
        struct fg_client_response res;
        assert_int_equal(fg_client_request(c, &req, &res), FG_OK);
        assert_int_equal(res.status, 200);
        assert_true(strlen(res.request_id) > 0);
        assert_null(strstr(unsafe[i], res.request_id));
        assert_true(strspn(res.request_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                           "0123456789._-") == strlen(res.request_id));
        fg_client_response_release(&res);
    }
    fg_client_free(c);
    assert_int_equal(fg_test_server_stop(&s), 0);
    fg_test_server_done(&s);
}

static void test_no_secret_in_logs(void **state)
{
    (void)state;
    /* Debug logging, so every line the server can write about a request is written. */
    struct fg_test_server s;
    const char *const args[] = {"--set", "log.level=debug", NULL};
    fg_test_server_start(&s, args);
    struct fg_client *c;
    fg_test_server_client(&s, &c);
    assert_int_equal(fg_client_set_session(c, "SECRET-TOKEN-5b1f0c9e", "device-1"), FG_OK);
    const char *const hdrs[] = {"X-Signature: SECRET-SIG-77aa41", "X-Nonce: SECRET-NONCE-c3d2",
                                "Cookie: session=SECRET-COOKIE-9e9e", NULL};
    for (int i = 0; i < 3; i++) {
        struct fg_client_request req = {.method = "GET", .path = "/v1/health", .headers = hdrs};
        struct fg_client_response res;
        assert_int_equal(fg_client_request(c, &req, &res), FG_OK);
        assert_int_equal(res.status, 200);
        fg_client_response_release(&res);
        req.path = "/v1/nope";
        assert_int_equal(fg_client_request(c, &req, &res), FG_OK);
        assert_int_equal(res.status, 404);
        fg_client_response_release(&res);
    }
    fg_client_free(c);
    assert_int_equal(fg_test_server_stop(&s), 0);
    /* The grep itself works: the log has lines. */
    assert_true(fg_test_server_grep(&s, "\"level\"", 7) > 0);
    static const char *const secrets[] = {"SECRET-TOKEN-5b1f0c9e", "SECRET-SIG-77aa41",
                                          "SECRET-NONCE-c3d2", "SECRET-COOKIE-9e9e"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        long n = fg_test_server_grep(&s, secrets[i], strlen(secrets[i]));
        if (n != 0)
            fail_msg("'%s' found %ld times under %s", secrets[i], n, s.dir);
    }
    fg_test_server_done(&s);
}

static void test_certificate_names(void **state)
{
    (void)state;
    struct fg_test_server s;
    fg_test_server_start(&s, NULL);
    /* The certificate carries localhost as well as 127.0.0.1. */
    char url[96];
    snprintf(url, sizeof url, "https://localhost:%d", s.port);
    struct fg_client_options opt = {.base_url = url, .ca_file = s.ca_file};
    struct fg_client *c;
    assert_int_equal(fg_client_new(&opt, &c), FG_OK);
    struct fg_client_response res;
    fg_rc rc = fg_client_get(c, "/v1/health", &res);
    if (rc)
        fprintf(stderr, "localhost: %s\n", fg_client_last_error(c));
    assert_int_equal(rc, FG_OK);
    assert_int_equal(res.status, 200);
    fg_client_response_release(&res);
    fg_client_free(c);

    /* Without trusting the certificate, verification fails. */
    struct fg_client_options untrusted = {.base_url = s.base_url, .ca_file = "/dev/null"};
    assert_int_equal(fg_client_new(&untrusted, &c), FG_OK);
    assert_int_equal(fg_client_get(c, "/v1/health", &res), FG_ERR_IO);
    assert_int_equal(fg_client_last_failure(c), FG_CLIENT_FAIL_CONNECT);
    fg_client_response_release(&res);
    fg_client_free(c);
    assert_int_equal(fg_test_server_stop(&s), 0);
    fg_test_server_done(&s);
}

static void test_sigterm_exits_zero(void **state)
{
    (void)state;
    struct fg_test_server s;
    fg_test_server_start(&s, NULL);
    struct fg_client *c;
    fg_test_server_client(&s, &c);
    struct fg_client_response res;
    /* An open keep-alive connection must not hold the shutdown up. */
    assert_int_equal(fg_client_get(c, "/v1/health", &res), FG_OK);
    assert_int_equal(res.status, 200);
    fg_client_response_release(&res);
    assert_int_equal(fg_test_server_stop(&s), 0);
    /* The port is closed afterwards. */
    assert_int_equal(fg_client_get(c, "/v1/health", &res), FG_ERR_IO);
    assert_int_equal(fg_client_last_failure(c), FG_CLIENT_FAIL_CONNECT);
    fg_client_response_release(&res);

    /* Restart on the same data dir (the certificate is reused), then stop again. */
    fg_test_server_restart(&s);
    fg_client_free(c);
    fg_test_server_client(&s, &c);
    assert_int_equal(fg_client_get(c, "/v1/health", &res), FG_OK);
    assert_int_equal(res.status, 200);
    fg_client_response_release(&res);
    fg_client_free(c);
    assert_int_equal(fg_test_server_stop(&s), 0);
    fg_test_server_done(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_health_http1_and_http2, fg_test_server_teardown),
        cmocka_unit_test_teardown(test_request_ids_fresh, fg_test_server_teardown),
        cmocka_unit_test_teardown(test_request_id_client_value_not_adopted, fg_test_server_teardown),
        cmocka_unit_test_teardown(test_request_id_unsafe_is_replaced, fg_test_server_teardown),
        cmocka_unit_test_teardown(test_no_secret_in_logs, fg_test_server_teardown),
        cmocka_unit_test_teardown(test_certificate_names, fg_test_server_teardown),
        cmocka_unit_test_teardown(test_sigterm_exits_zero, fg_test_server_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
