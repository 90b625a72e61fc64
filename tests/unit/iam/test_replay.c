/* Unit tests for iam/replay.c: request signatures (API.md) and the nonce memory. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "base/encode.h"
#include "iam/replay.h"

static const char body[] = "{\"amount\":500,\"to\":\"a2\"}";
static const char nonce16[] = "AAAAAAAAAAAAAAAAAAAAAA"; /* 16 zero bytes */

static void key(uint8_t k[32])
{
    for (int i = 0; i < 32; i++)
        k[i] = (uint8_t)(i + 1);
}

/* Vector computed independently (Python hmac/hashlib) from API.md's definition. */
static void test_signature_vector(void **state)
{
    (void)state;
    uint8_t k[32], sig[32];
    key(k);
    assert_int_equal(fg_request_signature(k, 32, "POST", "/v1/transfers?x=1", "1700000000", nonce16,
                                          body, strlen(body), sig),
                     FG_OK);
    char b64[64];
    assert_int_equal(fg_base64url_encode(sig, 32, b64, sizeof b64), FG_OK);
    assert_string_equal(b64, "qRyfEhMS8L9NG_d_b-OOdyr2ohS0BP5lR8zNIQkK9XM");
    assert_int_equal(fg_request_verify(k, 32, "POST", "/v1/transfers?x=1", "1700000000", nonce16,
                                       body, strlen(body), b64),
                     FG_OK);
}

static void test_signature_binds_everything(void **state)
{
    (void)state;
    uint8_t k[32];
    key(k);
    const char *good = "qRyfEhMS8L9NG_d_b-OOdyr2ohS0BP5lR8zNIQkK9XM";
    const char *t = "/v1/transfers?x=1";
    assert_int_equal(
        fg_request_verify(k, 32, "PUT", t, "1700000000", nonce16, body, strlen(body), good),
        FG_ERR_UNAUTHENTICATED);
    assert_int_equal(fg_request_verify(k, 32, "POST", "/v1/transfers?x=2", "1700000000", nonce16,
                                       body, strlen(body), good),
                     FG_ERR_UNAUTHENTICATED);
    assert_int_equal(
        fg_request_verify(k, 32, "POST", t, "1700000001", nonce16, body, strlen(body), good),
        FG_ERR_UNAUTHENTICATED);
    assert_int_equal(fg_request_verify(k, 32, "POST", t, "1700000000", "AAAAAAAAAAAAAAAAAAAAAB",
                                       body, strlen(body), good),
                     FG_ERR_UNAUTHENTICATED);
    assert_int_equal(
        fg_request_verify(k, 32, "POST", t, "1700000000", nonce16, body, strlen(body) - 1, good),
        FG_ERR_UNAUTHENTICATED);
    k[0] ^= 1;
    assert_int_equal(
        fg_request_verify(k, 32, "POST", t, "1700000000", nonce16, body, strlen(body), good),
        FG_ERR_UNAUTHENTICATED);
    k[0] ^= 1;
    const char *bad[] = {"", "!!", "qRyfEhMS8L9NG_d_b-OOdyr2ohS0BP5lR8zNIQkK9X",
                         "qRyfEhMS8L9NG_d_b-OOdyr2ohS0BP5lR8zNIQkK9XMAAAA"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(
            fg_request_verify(k, 32, "POST", t, "1700000000", nonce16, body, strlen(body), bad[i]),
            FG_ERR_UNAUTHENTICATED);
}

static void test_timestamps(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(fg_replay_parse_timestamp("1700000000", &v), FG_OK);
    assert_int_equal(v, 1700000000);
    const char *bad[] = {"", "-1", "+5", "1.5", "12a", " 1", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fg_replay_parse_timestamp(bad[i], &v), FG_ERR_INVALID);
    assert_int_equal(fg_replay_parse_timestamp(NULL, &v), FG_ERR_INVALID);
}

static void nonce_n(unsigned n, char out[64])
{
    uint8_t raw[24] = {0};
    memcpy(raw, &n, sizeof n);
    raw[20] = 0x5a;
    assert_int_equal(fg_base64url_encode(raw, sizeof raw, out, 64), FG_OK);
}

static void test_nonce_memory(void **state)
{
    (void)state;
    const int64_t start = 1700000000, now = start + 1000;
    struct fg_replay *r;
    assert_int_equal(fg_replay_new(0, 300, start, &r), FG_OK);
    const char *why = NULL;
    assert_int_equal(fg_replay_check(r, nonce16, now, now, &why), FG_OK);
    assert_int_equal(fg_replay_check(r, nonce16, now, now, &why), FG_ERR_UNAUTHENTICATED);
    assert_string_equal(why, "nonce reused");
    /* the same nonce with another timestamp is still a replay */
    assert_int_equal(fg_replay_check(r, nonce16, now - 200, now, &why), FG_ERR_UNAUTHENTICATED);
    char n[64];
    nonce_n(1, n);
    assert_int_equal(fg_replay_check(r, n, now - 300, now, &why), FG_OK); /* edge of window */
    nonce_n(2, n);
    assert_int_equal(fg_replay_check(r, n, now + 300, now, &why), FG_OK);
    nonce_n(3, n);
    assert_int_equal(fg_replay_check(r, n, now - 301, now, &why), FG_ERR_UNAUTHENTICATED);
    assert_string_equal(why, "stale timestamp");
    assert_int_equal(fg_replay_check(r, n, now + 301, now, &why), FG_ERR_UNAUTHENTICATED);
    /* stamped before the process started: a restart must not reopen the window */
    assert_int_equal(fg_replay_check(r, n, start - 1, start + 10, &why), FG_ERR_UNAUTHENTICATED);
    assert_string_equal(why, "timestamp before server start");
    const char *malformed[] = {"",
                               "short",
                               "AAAAAAAAAAAAAAAAAAAAA",
                               "AAAAAAAAAAAAAAAAAAAAAAA=",
                               "AAAAAAAAAAAAAAAAAAAAA+AA",
                               "AAAAAAAAAA AAAAAAAAAAAA"};
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
        assert_int_equal(fg_replay_check(r, malformed[i], now, now, &why), FG_ERR_UNAUTHENTICATED);
    assert_int_equal(fg_replay_size(r), 3);
    fg_replay_free(r);
}

static void test_bounded_never_forgets_early(void **state)
{
    (void)state;
    const int64_t now = 1800000000;
    struct fg_replay *r;
    assert_int_equal(fg_replay_new(22 * 8, 300, 0, &r), FG_OK); /* 176 nonces in all */
    char n[64];
    unsigned i = 0;
    fg_rc rc = FG_OK;
    /* spread over the span: every live slice counts against the one capacity */
    for (; i < 400 && rc == FG_OK; i++) {
        nonce_n(100 + i, n);
        rc = fg_replay_check(r, n, now - 300 + (int64_t)(i % 20) * 30, now, NULL);
    }
    assert_int_equal(rc, FG_ERR_BUSY);
    assert_int_equal(i, 22 * 8 + 1);
    assert_int_equal(fg_replay_size(r), 22 * 8);
    /* the remembered ones are still refused as replays, not as "full" */
    nonce_n(100, n);
    assert_int_equal(fg_replay_check(r, n, now, now, NULL), FG_ERR_UNAUTHENTICATED);
    /* once their slices have left the window, memory is reused */
    nonce_n(5000, n);
    assert_int_equal(fg_replay_check(r, n, now + 700, now + 700, NULL), FG_OK);
    fg_replay_free(r);
}

/* Clients stamp "now": one slice must be able to take the whole capacity (the first design
 * gave each slice 1/22 of it and refused a burst of ~1 600 signed requests/s). */
static void test_one_slice_takes_the_capacity(void **state)
{
    (void)state;
    const int64_t now = 1800000000;
    struct fg_replay *r;
    const unsigned cap = 50000;
    assert_int_equal(fg_replay_new(cap, 300, 0, &r), FG_OK);
    char n[64];
    for (unsigned i = 0; i < cap; i++) {
        nonce_n(i, n);
        assert_int_equal(fg_replay_check(r, n, now, now, NULL), FG_OK);
    }
    nonce_n(cap, n);
    const char *why = NULL;
    assert_int_equal(fg_replay_check(r, n, now, now, &why), FG_ERR_BUSY);
    assert_string_equal(why, "nonce memory full");
    for (unsigned i = 0; i < cap; i += 499) { /* every one still remembered after the growth */
        nonce_n(i, n);
        assert_int_equal(fg_replay_check(r, n, now, now, NULL), FG_ERR_UNAUTHENTICATED);
    }
    fg_replay_free(r);
}

static void test_many(void **state)
{
    (void)state;
    const int64_t now = 1900000000;
    struct fg_replay *r;
    assert_int_equal(fg_replay_new(0, 0, 0, &r), FG_OK);
    char n[64];
    for (unsigned i = 0; i < 20000; i++) {
        nonce_n(i, n);
        assert_int_equal(fg_replay_check(r, n, now + (int64_t)(i % 600) - 300, now, NULL), FG_OK);
    }
    for (unsigned i = 0; i < 20000; i += 97) {
        nonce_n(i, n);
        assert_int_equal(fg_replay_check(r, n, now, now, NULL), FG_ERR_UNAUTHENTICATED);
    }
    fg_replay_free(r);
}

int main(void)
{
    assert_int_equal(fg_crypto_init(), FG_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature_vector),
        cmocka_unit_test(test_signature_binds_everything),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_nonce_memory),
        cmocka_unit_test(test_bounded_never_forgets_early),
        cmocka_unit_test(test_one_slice_takes_the_capacity),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
