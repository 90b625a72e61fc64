/*
 * End-to-end: the key hierarchy through the real server (issue "Crypto, key hierarchy…",
 * REQUIREMENTS DATA-2, GOV-3). init → shares shown once → restart → sealed (503) → unseal
 * with k shares → serving; k−1 shares keep it sealed; a mistyped share is named; a share
 * of another instance is refused; no share ever reaches a log, the database or a file.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libgfshare.h>
#include <sqlite3.h>

#include "base/encode.h"
#include "crypto/crypto.h"
#include "client/client.h"
#include "server.h"

#define N_SHARES 5
#define THRESHOLD 3

static const char *const probe_args[] = {"--set", "diag.write_probe=true", NULL};

static long post(struct fg_client *c, const char *path, json_t *body,
                 struct fg_client_response *res)
{
    assert_int_equal(fg_client_post_json(c, path, body, res), FG_OK);
    json_decref(body);
    return res->status;
}

static void expect_health(struct fg_client *c, int initialized, int sealed)
{
    struct fg_client_response res;
    assert_int_equal(fg_client_get(c, "/v1/health", &res), FG_OK);
    assert_int_equal(res.status, 200);
    assert_int_equal(json_is_true(json_object_get(res.json, "initialized")), initialized);
    assert_int_equal(json_is_true(json_object_get(res.json, "sealed")), sealed);
    fg_client_response_release(&res);
}

static void expect_probe(struct fg_client *c, long want_status, const char *want_code)
{
    struct fg_client_response res;
    assert_int_equal(post(c, "/v1/diag/write", json_pack("{s:s}", "payload", "x"), &res),
                     want_status);
    if (want_code != NULL)
        assert_string_equal(res.error_code, want_code);
    fg_client_response_release(&res);
}

/* Initialise; shares copied into out. */
static void init_instance(struct fg_client *c, char out[N_SHARES][128])
{
    struct fg_client_response res;
    assert_int_equal(post(c, "/v1/sys/init",
                          json_pack("{s:i, s:i, s:s}", "shares", N_SHARES, "threshold", THRESHOLD,
                                    "suite", "intl"),
                          &res),
                     200);
    json_t *shares = json_object_get(res.json, "shares");
    assert_int_equal(json_array_size(shares), N_SHARES);
    assert_int_equal(json_integer_value(json_object_get(res.json, "threshold")), THRESHOLD);
    for (int i = 0; i < N_SHARES; i++) {
        snprintf(out[i], 128, "%s", json_string_value(json_array_get(shares, (size_t)i)));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(out[i], out[j]);
    }
    fg_client_response_release(&res);
}

static long unseal(struct fg_client *c, const char *share, struct fg_client_response *res)
{
    return post(c, "/v1/sys/unseal", json_pack("{s:s}", "share", share), res);
}

static void expect_progress(struct fg_client *c, const char *share, int sealed, int progress)
{
    struct fg_client_response res;
    assert_int_equal(unseal(c, share, &res), 200);
    assert_int_equal(json_is_true(json_object_get(res.json, "sealed")), sealed);
    if (sealed)
        assert_int_equal(json_integer_value(json_object_get(res.json, "progress")), progress);
    assert_int_equal(json_integer_value(json_object_get(res.json, "threshold")), THRESHOLD);
    fg_client_response_release(&res);
}

/* libgfshare scrubs its buffers with gfshare_fill_rand, which is NULL until set. */
static void test_fill_rand(unsigned char *buf, unsigned int n)
{
    if (fg_random(buf, n) != FG_OK)
        abort();
}

/* Reconstruct the root key from k shares, independently of the server (libgfshare). */
static void root_from_shares(char shares[N_SHARES][128], uint8_t root[32])
{
    assert_int_equal(fg_crypto_init(), FG_OK);
    gfshare_fill_rand = test_fill_rand;
    unsigned char idx[THRESHOLD];
    uint8_t bytes[THRESHOLD][32];
    for (int i = 0; i < THRESHOLD; i++) {
        int n = 0;
        assert_int_equal(sscanf(shares[i], "fg1-%d-", &n), 1);
        idx[i] = (unsigned char)n;
        /* fg1-<index>-<43 base64url chars: '-' is in that alphabet>-<8 hex> */
        const char *body = strchr(shares[i] + 4, '-') + 1;
        size_t got = 0;
        assert_int_equal(fg_base64url_decode(body, 43, bytes[i], 32, &got), FG_OK);
        assert_int_equal(got, 32);
    }
    gfshare_ctx *g = gfshare_ctx_init_dec(idx, THRESHOLD, 32);
    assert_non_null(g);
    for (int i = 0; i < THRESHOLD; i++)
        gfshare_ctx_dec_giveshare(g, (unsigned char)i, bytes[i]); /* position, not index */
    gfshare_ctx_dec_extract(g, root);
    gfshare_ctx_free(g);
}

/* Positive control: the reconstructed root reproduces the verifier the server stored
 * (HMAC-SHA-256(root, "finguard root verifier v1"), suite intl), so the greps below look
 * for the real key. */
static void expect_root_matches_verifier(const struct fg_test_server *s, const uint8_t root[32])
{
    char db[700];
    snprintf(db, sizeof db, "%s/finguard.db", s->dir);
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT root_verifier FROM keys_meta", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_bytes(st, 0), 32);
    static const char label[] = "finguard root verifier v1";
    uint8_t want[FG_HASH_LEN];
    assert_int_equal(fg_hmac(FG_HASH_SHA256, root, 32, label, sizeof label - 1, want), FG_OK);
    assert_memory_equal(sqlite3_column_blob(st, 0), want, 32);
    sqlite3_finalize(st);
    sqlite3_close(h);
}

/* The root key — raw, hex or base64url — is nowhere in the data directory or the logs. */
static void expect_root_nowhere(const struct fg_test_server *s, char shares[N_SHARES][128])
{
    uint8_t root[32];
    root_from_shares(shares, root);
    expect_root_matches_verifier(s, root);
    char hex[65], b64[64];
    assert_int_equal(fg_hex_encode(root, 32, hex, sizeof hex), FG_OK);
    assert_int_equal(fg_base64url_encode(root, 32, b64, sizeof b64), FG_OK);
    assert_int_equal(fg_test_server_grep(s, root, 32), 0);
    assert_int_equal(fg_test_server_grep(s, root, 16), 0);
    assert_int_equal(fg_test_server_grep(s, hex, 64), 0);
    assert_int_equal(fg_test_server_grep(s, b64, strlen(b64)), 0);
}

static void test_init_restart_unseal(void **state)
{
    (void)state;
    struct fg_test_server s;
    fg_test_server_start(&s, probe_args);
    struct fg_client *c;
    fg_test_server_client(&s, &c);

    expect_health(c, 0, 1);
    expect_probe(c, 503, "sealed");
    struct fg_client_response res;
    assert_int_equal(unseal(c, "fg1-1-AAAA-00000000", &res), 409); /* not initialised */
    fg_client_response_release(&res);

    char shares[N_SHARES][128];
    init_instance(c, shares);
    expect_health(c, 1, 0); /* init leaves the instance unsealed */
    expect_probe(c, 201, NULL);
    assert_int_equal(
        post(c, "/v1/sys/init", json_pack("{s:i, s:i}", "shares", 3, "threshold", 2), &res), 409);
    fg_client_response_release(&res);

    /* restart: sealed, everything but health/unseal/init answers 503 sealed */
    fg_client_free(c);
    fg_test_server_restart(&s);
    fg_test_server_client(&s, &c);
    expect_health(c, 1, 1);
    expect_probe(c, 503, "sealed");

    /* k−1 shares keep it sealed; a duplicate does not count */
    expect_progress(c, shares[3], 1, 1);
    expect_progress(c, shares[3], 1, 1);
    expect_progress(c, shares[0], 1, 2);
    expect_probe(c, 503, "sealed");

    /* a mistyped share is named as such, and does not count */
    char typo[128];
    snprintf(typo, sizeof typo, "%s", shares[4]);
    size_t mid = strlen(typo) / 2;
    typo[mid] = typo[mid] == 'A' ? 'B' : 'A';
    assert_int_equal(unseal(c, typo, &res), 400);
    assert_string_equal(res.error_code, "invalid_argument");
    assert_string_equal(res.error_field, "share");
    /* named by the index its text carries: "share <i>: share checksum mismatch …" */
    char want[32];
    int idx = 0;
    assert_int_equal(sscanf(typo, "fg1-%d-", &idx), 1);
    snprintf(want, sizeof want, "share %d: ", idx);
    if (strncmp(res.error_message, want, strlen(want)) != 0 ||
        !strstr(res.error_message, "checksum"))
        fail_msg("refusal does not name the share: %s", res.error_message);
    fg_client_response_release(&res);
    assert_int_equal(unseal(c, "not a share", &res), 400);
    fg_client_response_release(&res);

    expect_progress(c, shares[2], 0, 0); /* the k-th share unseals */
    expect_health(c, 1, 0);
    expect_probe(c, 201, NULL);
    expect_progress(c, shares[1], 0, 0); /* already unsealed: harmless */

    fg_client_free(c);
    assert_int_equal(fg_test_server_stop(&s), 0);
    expect_root_nowhere(&s, shares);
    /* No share — nor its base64 body — in any log, the database, or any file. */
    for (int i = 0; i < N_SHARES; i++) {
        assert_int_equal(fg_test_server_grep(&s, shares[i], strlen(shares[i])), 0);
        const char *body = strchr(shares[i] + 4, '-') + 1; /* fg1-<index>-<body>-<check> */
        assert_int_equal(fg_test_server_grep(&s, body, 20), 0);
    }
    fg_test_server_done(&s);
}

static void test_foreign_share_refused(void **state)
{
    (void)state;
    struct fg_test_server a, b;
    fg_test_server_start(&a, probe_args);
    fg_test_server_start(&b, probe_args);
    struct fg_client *ca, *cb;
    fg_test_server_client(&a, &ca);
    fg_test_server_client(&b, &cb);
    char sa[N_SHARES][128], sb[N_SHARES][128];
    init_instance(ca, sa);
    init_instance(cb, sb);
    fg_client_free(ca);
    fg_test_server_restart(&a);
    fg_test_server_client(&a, &ca);
    struct fg_client_response res;
    assert_int_equal(unseal(ca, sb[0], &res), 400); /* well-formed, another instance */
    assert_string_equal(res.error_field, "share");
    fg_client_response_release(&res);
    expect_health(ca, 1, 1);
    for (int i = 0; i < THRESHOLD; i++)
        expect_progress(ca, sa[i], i + 1 < THRESHOLD, i + 1);
    expect_probe(ca, 201, NULL);
    fg_client_free(ca);
    fg_client_free(cb);
    assert_int_equal(fg_test_server_stop(&a), 0);
    assert_int_equal(fg_test_server_stop(&b), 0);
    fg_test_server_done(&a);
    fg_test_server_done(&b);
}

static void test_init_bad_input(void **state)
{
    (void)state;
    struct fg_test_server s;
    fg_test_server_start(&s, NULL);
    struct fg_client *c;
    fg_test_server_client(&s, &c);
    struct {
        json_t *body;
        const char *field;
    } cases[] = {
        {json_pack("{s:i, s:i}", "shares", 0, "threshold", 1), "shares"},
        {json_pack("{s:i, s:i}", "shares", 17, "threshold", 2), "shares"},
        {json_pack("{s:i, s:i}", "shares", 3, "threshold", 4), "threshold"},
        {json_pack("{s:i, s:i}", "shares", 3, "threshold", 1), "threshold"},
        {json_pack("{s:i, s:i, s:s}", "shares", 3, "threshold", 2, "suite", "rot13"), "suite"},
        {json_pack("{s:s, s:i}", "shares", "3", "threshold", 2), "shares"},
        {json_pack("{s:i, s:i, s:b}", "shares", 3, "threshold", 2, "admin", 1), "admin"},
        {json_pack("{s:i}", "shares", 3), "threshold"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fg_client_response res;
        assert_int_equal(post(c, "/v1/sys/init", cases[i].body, &res), 400);
        assert_string_equal(res.error_code, "invalid_argument");
        assert_string_equal(res.error_field, cases[i].field);
        fg_client_response_release(&res);
    }
    expect_health(c, 0, 1); /* nothing was initialised */
    fg_client_free(c);
    assert_int_equal(fg_test_server_stop(&s), 0);
    fg_test_server_done(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_init_restart_unseal, fg_test_server_teardown),
        cmocka_unit_test_teardown(test_foreign_share_refused, fg_test_server_teardown),
        cmocka_unit_test_teardown(test_init_bad_input, fg_test_server_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
