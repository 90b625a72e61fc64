/*
 * test_totp.c — iam/totp.c: the RFC 6238 Appendix B SHA-1 vectors (8 digits, through liboath
 * directly and through fg_totp_code) and our 6-digit codes as their last six digits; steps T
 * and T-1 accepted, T-2 and T+1 refused; a code never accepted twice (same step, or an older
 * step after a newer one); malformed codes; the otpauth URI exactly, with percent-encoding;
 * sealed secrets: enrol → confirm → check with replay refused as the injectable clock moves,
 * the ciphertext bound to its row and holding no trace of the secret, errors wiping outputs.
 */
#include "testutil.h"

#include <liboath/oath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time.h"
#include "crypto/crypto.h"
#include "iam/totp.h"
#include "keys/keys.h"
#include "protect/protect.h"
#include "store/store.h"

static const uint8_t rfc_secret[] = "12345678901234567890"; /* 20 bytes + NUL */
#define RFC_SECRET_LEN 20u

static const struct {
    int64_t t;
    const char *totp8;
} rfc6238_sha1[] = {
    {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
    {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
};
#define RFC_VECTORS (sizeof rfc6238_sha1 / sizeof rfc6238_sha1[0])

/* ---- vectors ----------------------------------------------------------------------------- */

static void test_rfc6238_vectors_liboath(void **state)
{
    (void)state;
    assert_int_equal(oath_init(), OATH_OK);
    for (size_t i = 0; i < RFC_VECTORS; i++) {
        char out[9];
        assert_int_equal(oath_totp_generate((const char *)rfc_secret, RFC_SECRET_LEN,
                                            (time_t)rfc6238_sha1[i].t, 30, 0, 8, out),
                         OATH_OK);
        assert_string_equal(out, rfc6238_sha1[i].totp8);
    }
}

static void test_rfc6238_vectors_ours(void **state)
{
    (void)state;
    for (size_t i = 0; i < RFC_VECTORS; i++) {
        int64_t step = fg_totp_step(rfc6238_sha1[i].t);
        char out8[9], out6[FG_TOTP_CODE_SIZE];
        assert_int_equal(fg_totp_code(rfc_secret, RFC_SECRET_LEN, step, 8, out8, sizeof out8), FG_OK);
        assert_string_equal(out8, rfc6238_sha1[i].totp8);
        assert_int_equal(fg_totp_code(rfc_secret, RFC_SECRET_LEN, step, 6, out6, sizeof out6), FG_OK);
        assert_string_equal(out6, rfc6238_sha1[i].totp8 + 2); /* the last six digits */
        /* ... and that code verifies at that time. */
        int64_t accepted = 0;
        assert_int_equal(fg_totp_verify(rfc_secret, RFC_SECRET_LEN, out6, rfc6238_sha1[i].t, -1,
                                        &accepted),
                         FG_OK);
        assert_int_equal(accepted, step);
    }
    char small[8];
    assert_int_equal(fg_totp_code(rfc_secret, RFC_SECRET_LEN, 1, 8, small, sizeof small), FG_ERR_LIMIT);
    assert_int_equal(fg_totp_code(rfc_secret, RFC_SECRET_LEN, 1, 5, small, sizeof small),
                     FG_ERR_INVALID);
    assert_int_equal(fg_totp_code(rfc_secret, RFC_SECRET_LEN, -1, 6, small, sizeof small),
                     FG_ERR_INVALID);
    assert_int_equal(fg_totp_code(rfc_secret, 0, 1, 6, small, sizeof small), FG_ERR_INVALID);
}

static void test_step(void **state)
{
    (void)state;
    assert_int_equal(fg_totp_step(0), 0);
    assert_int_equal(fg_totp_step(29), 0);
    assert_int_equal(fg_totp_step(30), 1);
    assert_int_equal(fg_totp_step(59), 1);
    assert_int_equal(fg_totp_step(-1), -1);
    assert_int_equal(fg_totp_step(-30), -1);
    assert_int_equal(fg_totp_step(-31), -2);
}

/* ---- the acceptance window and replay ---------------------------------------------------- */

static void code_at(int64_t step, char out[FG_TOTP_CODE_SIZE])
{
    assert_int_equal(fg_totp_code(rfc_secret, RFC_SECRET_LEN, step, 6, out, FG_TOTP_CODE_SIZE),
                     FG_OK);
}

static fg_rc verify_at(int64_t step_of_code, int64_t now_s, int64_t last, int64_t *accepted)
{
    char code[FG_TOTP_CODE_SIZE];
    code_at(step_of_code, code);
    return fg_totp_verify(rfc_secret, RFC_SECRET_LEN, code, now_s, last, accepted);
}

static void test_window(void **state)
{
    (void)state;
    const int64_t now = 1111111111; /* step 37037037, 1 s into it */
    const int64_t t = fg_totp_step(now);
    int64_t accepted = 0;
    assert_int_equal(verify_at(t, now, -1, &accepted), FG_OK);
    assert_int_equal(accepted, t);
    assert_int_equal(verify_at(t - 1, now, -1, &accepted), FG_OK);
    assert_int_equal(accepted, t - 1);
    assert_int_equal(verify_at(t - 2, now, -1, &accepted), FG_ERR_UNAUTHENTICATED);
    assert_int_equal(verify_at(t + 1, now, -1, &accepted), FG_ERR_UNAUTHENTICATED);
    /* At the last second of step t the same holds. */
    int64_t end = (t + 1) * FG_TOTP_STEP_S - 1;
    assert_int_equal(verify_at(t - 1, end, -1, &accepted), FG_OK);
    assert_int_equal(verify_at(t + 1, end, -1, &accepted), FG_ERR_UNAUTHENTICATED);
    /* Near the epoch there is no step -1. */
    assert_int_equal(verify_at(0, 5, -1, &accepted), FG_OK);
    assert_int_equal(accepted, 0);
}

static void test_replay_refused(void **state)
{
    (void)state;
    const int64_t now = 1234567890;
    const int64_t t = fg_totp_step(now);
    int64_t accepted = 0;
    /* The same code twice: the second time last_step = t. */
    assert_int_equal(verify_at(t, now, -1, &accepted), FG_OK);
    assert_int_equal(verify_at(t, now, accepted, &accepted), FG_ERR_UNAUTHENTICATED);
    assert_int_equal(verify_at(t, now + 29, t, &accepted), FG_ERR_UNAUTHENTICATED);
    /* After step t was used, the still-valid code of t-1 is refused too. */
    assert_int_equal(verify_at(t - 1, now, t, &accepted), FG_ERR_UNAUTHENTICATED);
    /* t-1 used first: t is still fine, then neither. */
    assert_int_equal(verify_at(t - 1, now, t - 2, &accepted), FG_OK);
    assert_int_equal(accepted, t - 1);
    assert_int_equal(verify_at(t - 1, now, accepted, &accepted), FG_ERR_UNAUTHENTICATED);
    assert_int_equal(verify_at(t, now, t - 1, &accepted), FG_OK);
    assert_int_equal(accepted, t);
    /* The next step's code works in the next step. */
    assert_int_equal(verify_at(t + 1, now + 30, t, &accepted), FG_OK);
    assert_int_equal(accepted, t + 1);
}

static void test_malformed_codes(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "12345", "1234567", "12345a", "-12345", " 123456",
                                      "123456 ", "12 456", "０１２３４５", "0x1234"};
    int64_t accepted = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fg_totp_verify(rfc_secret, RFC_SECRET_LEN, bad[i], 59, -1, &accepted),
                         FG_ERR_INVALID);
    assert_int_equal(fg_totp_verify(rfc_secret, RFC_SECRET_LEN, NULL, 59, -1, &accepted),
                     FG_ERR_INVALID);
    /* The 8-digit vector itself is not a 6-digit code. */
    assert_int_equal(fg_totp_verify(rfc_secret, RFC_SECRET_LEN, "94287082", 59, -1, &accepted),
                     FG_ERR_INVALID);
}

/* ---- the URI ----------------------------------------------------------------------------- */

static void test_uri(void **state)
{
    (void)state;
    char uri[FG_TOTP_URI_SIZE];
    assert_int_equal(fg_totp_uri(rfc_secret, RFC_SECRET_LEN, "alice", uri, sizeof uri), FG_OK);
    assert_string_equal(uri, "otpauth://totp/finguard:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                             "&issuer=finguard&algorithm=SHA1&digits=6&period=30");
    assert_int_equal(fg_totp_uri(rfc_secret, RFC_SECRET_LEN, "a b/c@d:e?&=%~._-\xc3\xa9", uri,
                                 sizeof uri),
                     FG_OK);
    assert_non_null(strstr(uri, "finguard:a%20b%2Fc%40d%3Ae%3F%26%3D%25~._-%C3%A9?secret="));
    /* The longest username, every byte escaped, fits FG_TOTP_URI_SIZE. */
    char name[FG_TOTP_USERNAME_MAX + 2];
    memset(name, '/', FG_TOTP_USERNAME_MAX);
    name[FG_TOTP_USERNAME_MAX] = '\0';
    assert_int_equal(fg_totp_uri(rfc_secret, RFC_SECRET_LEN, name, uri, sizeof uri), FG_OK);
    name[FG_TOTP_USERNAME_MAX] = 'x';
    name[FG_TOTP_USERNAME_MAX + 1] = '\0';
    assert_int_equal(fg_totp_uri(rfc_secret, RFC_SECRET_LEN, name, uri, sizeof uri), FG_ERR_INVALID);
    assert_int_equal(fg_totp_uri(rfc_secret, RFC_SECRET_LEN, "", uri, sizeof uri), FG_ERR_INVALID);
    assert_int_equal(fg_totp_uri(rfc_secret, RFC_SECRET_LEN, NULL, uri, sizeof uri), FG_ERR_INVALID);
    char small[60];
    assert_int_equal(fg_totp_uri(rfc_secret, RFC_SECRET_LEN, "alice", small, sizeof small),
                     FG_ERR_LIMIT);
    /* A fresh secret: 160 random bits, 32 base32 characters, different each time. */
    uint8_t s1[FG_TOTP_SECRET_LEN], s2[FG_TOTP_SECRET_LEN];
    assert_int_equal(fg_totp_secret_new(s1), FG_OK);
    assert_int_equal(fg_totp_secret_new(s2), FG_OK);
    assert_memory_not_equal(s1, s2, sizeof s1);
    assert_int_equal(fg_totp_uri(s1, sizeof s1, "bob", uri, sizeof uri), FG_OK);
    const char *sec = strstr(uri, "secret=") + 7;
    assert_int_equal(strchr(sec, '&') - sec, 32);
    fg_wipe(s1, sizeof s1);
    fg_wipe(s2, sizeof s2);
    fg_wipe(uri, sizeof uri);
}

/* ---- stored credentials ------------------------------------------------------------------ */

struct fixture {
    char dir[256];
    char db[512];
    fg_store *store;
    fg_keys *k;
    char shares[1][FG_KEYS_SHARE_TEXT_MAX];
    int64_t base_s; /* clock offset putting "now" 5 s into a step: no step ends mid-test */
};

static void at(struct fixture *f, int64_t offset_s)
{
    fg_time_set_offset_s(f->base_s + offset_s);
}

static int setup_store(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(fg_crypto_init(), FG_OK);
    fg_time_set_offset_s(0);
    f->base_s = ((5 - fg_time_wall_s() % FG_TOTP_STEP_S) + FG_TOTP_STEP_S) % FG_TOTP_STEP_S;
    fg_time_set_offset_s(f->base_s);
    fg_test_tmpdir("totp", f->dir, sizeof f->dir);
    snprintf(f->db, sizeof f->db, "%s/finguard.db", f->dir);
    struct fg_store_options so = {.path = f->db};
    assert_int_equal(fg_store_open(&so, &f->store), FG_OK);
    assert_int_equal(fg_keys_new(f->store, &f->k), FG_OK);
    const char *problem = NULL;
    assert_int_equal(fg_keys_init(f->k, FG_SUITE_INTL, 1, 1, f->shares, &problem), FG_OK);
    *state = f;
    return 0;
}

static void fixture_close(struct fixture *f)
{
    fg_keys_free(f->k);
    fg_store_close(f->store);
    f->k = NULL;
    f->store = NULL;
}

static int teardown_store(void **state)
{
    struct fixture *f = *state;
    fixture_close(f);
    fg_time_set_offset_s(0);
    fg_wipe(f->shares, sizeof f->shares);
    fg_test_rmtree(f->dir);
    free(f);
    return 0;
}

#define PLACE "iam_users", "totp_secret"

static void enroll(struct fixture *f, const char *row_id, char uri[FG_TOTP_URI_SIZE],
                   uint8_t sealed[FG_TOTP_SEALED_MAX], size_t *sealed_len)
{
    assert_int_equal(fg_totp_enroll_sealed(f->k, PLACE, row_id, "alice", uri, sealed,
                                           FG_TOTP_SEALED_MAX, sealed_len),
                     FG_OK);
}

/* The secret of an otpauth URI (base32 → bytes) and its base32 text. */
static void uri_secret(const char *uri, uint8_t secret[FG_TOTP_SECRET_LEN], char b32[33])
{
    const char *s = strstr(uri, "secret=");
    assert_non_null(s);
    s += 7;
    size_t n = (size_t)(strchr(s, '&') - s);
    assert_int_equal(n, 32);
    memcpy(b32, s, n);
    b32[n] = '\0';
    char *out = NULL;
    size_t out_len = 0;
    assert_int_equal(oath_base32_decode(b32, n, &out, &out_len), OATH_OK);
    assert_int_equal(out_len, FG_TOTP_SECRET_LEN);
    memcpy(secret, out, out_len);
    fg_wipe(out, out_len);
    free(out);
}

static void now_code(const uint8_t secret[FG_TOTP_SECRET_LEN], int64_t step_delta,
                     char code[FG_TOTP_CODE_SIZE])
{
    int64_t step = fg_totp_step(fg_time_wall_s()) + step_delta;
    assert_int_equal(fg_totp_code(secret, FG_TOTP_SECRET_LEN, step, 6, code, FG_TOTP_CODE_SIZE),
                     FG_OK);
}

static fg_rc check(struct fixture *f, const char *row_id, const uint8_t *sealed, size_t len,
                   const char *code, int64_t *last_step)
{
    int64_t accepted = -7;
    fg_rc rc = fg_totp_verify_sealed(f->k, PLACE, row_id, sealed, len, code, fg_time_wall_s(),
                                     *last_step, &accepted);
    if (rc == FG_OK) {
        assert_true(accepted > *last_step);
        *last_step = accepted;
    } else {
        assert_int_equal(accepted, -7);
    }
    return rc;
}

static void test_sealed_lifecycle(void **state)
{
    struct fixture *f = *state;
    char uri[FG_TOTP_URI_SIZE], b32[33], code[FG_TOTP_CODE_SIZE];
    uint8_t secret[FG_TOTP_SECRET_LEN], sealed[FG_TOTP_SEALED_MAX];
    size_t len = 0;
    int64_t last = 0; /* iam_users.totp_last_step starts at 0 */
    enroll(f, "u-1", uri, sealed, &len);
    assert_memory_equal(uri, "otpauth://totp/finguard:alice?secret=", 37);
    assert_true(len > FG_TOTP_SECRET_LEN && len <= FG_TOTP_SEALED_MAX);
    uri_secret(uri, secret, b32);
    /* The ciphertext holds neither the secret nor its base32. */
    assert_null(memmem(sealed, len, secret, sizeof secret));
    assert_null(memmem(sealed, len, b32, strlen(b32)));
    /* Confirm with the previous step's code (still valid): step t-1 is then used. */
    now_code(secret, -1, code);
    assert_int_equal(check(f, "u-1", sealed, len, code, &last), FG_OK);
    assert_int_equal(last, fg_totp_step(fg_time_wall_s()) - 1);
    assert_int_equal(check(f, "u-1", sealed, len, code, &last), FG_ERR_UNAUTHENTICATED);
    now_code(secret, 0, code);
    assert_int_equal(check(f, "u-1", sealed, len, code, &last), FG_OK);
    assert_int_equal(check(f, "u-1", sealed, len, code, &last), FG_ERR_UNAUTHENTICATED); /* replay */
    char wrong[FG_TOTP_CODE_SIZE];
    memcpy(wrong, code, sizeof wrong);
    wrong[5] = (char)('0' + (wrong[5] - '0' + 1) % 10);
    at(f, FG_TOTP_STEP_S);
    assert_int_equal(check(f, "u-1", sealed, len, wrong, &last), FG_ERR_UNAUTHENTICATED);
    /* 30 s later the next code works once. */
    now_code(secret, 0, code);
    assert_int_equal(check(f, "u-1", sealed, len, code, &last), FG_OK);
    assert_int_equal(check(f, "u-1", sealed, len, code, &last), FG_ERR_UNAUTHENTICATED);
    /* Two steps later a code is too old, whatever last_step says. */
    int64_t fresh = -1;
    at(f, FG_TOTP_STEP_S * 3);
    assert_int_equal(check(f, "u-1", sealed, len, code, &fresh), FG_ERR_UNAUTHENTICATED);
    /* Malformed codes are refused before anything is opened, even garbage. */
    uint8_t garbage[8] = {0};
    assert_int_equal(check(f, "u-1", garbage, sizeof garbage, "12345", &fresh), FG_ERR_INVALID);
    assert_int_equal(check(f, "u-1", garbage, sizeof garbage, "123456", &fresh), FG_ERR_CRYPTO);
    /* The ciphertext is bound to its row: another user's row does not open it. */
    now_code(secret, 0, code);
    assert_int_equal(check(f, "u-2", sealed, len, code, &fresh), FG_ERR_CRYPTO);
    assert_int_equal(fg_totp_verify_sealed(f->k, "iam_users", "reserved_phrase", "u-1", sealed,
                                           len, code, fg_time_wall_s(), -1, &fresh),
                     FG_ERR_CRYPTO);
    /* Two enrolments never share a secret. */
    char uri2[FG_TOTP_URI_SIZE], b32_2[33];
    uint8_t secret2[FG_TOTP_SECRET_LEN], sealed2[FG_TOTP_SEALED_MAX];
    size_t len2 = 0;
    enroll(f, "u-1", uri2, sealed2, &len2);
    uri_secret(uri2, secret2, b32_2);
    assert_memory_not_equal(secret, secret2, sizeof secret);
    fg_wipe(secret, sizeof secret);
    fg_wipe(secret2, sizeof secret2);
    fg_wipe(uri, sizeof uri);
    fg_wipe(uri2, sizeof uri2);
}

static void test_sealed_errors(void **state)
{
    struct fixture *f = *state;
    char uri[FG_TOTP_URI_SIZE];
    uint8_t sealed[FG_TOTP_SEALED_MAX];
    size_t len = 99;
    assert_int_equal(fg_totp_enroll_sealed(f->k, PLACE, "u-1", "alice", uri, sealed,
                                           FG_TOTP_SEALED_MAX - 1, &len),
                     FG_ERR_LIMIT);
    assert_int_equal(len, 0);
    assert_int_equal(fg_totp_enroll_sealed(f->k, PLACE, "u-1", "", uri, sealed, sizeof sealed,
                                           &len),
                     FG_ERR_INVALID);
    assert_int_equal(fg_totp_enroll_sealed(f->k, PLACE, "", "alice", uri, sealed, sizeof sealed,
                                           &len),
                     FG_ERR_INVALID); /* no row id */
    /* Whatever failed, nothing of the secret is left in the outputs. */
    for (size_t i = 0; i < sizeof uri; i++)
        assert_int_equal(uri[i], 0);
    enroll(f, "u-1", uri, sealed, &len);
    fg_keys_seal(f->k);
    int64_t step = 0;
    assert_int_equal(fg_totp_verify_sealed(f->k, PLACE, "u-1", sealed, len, "123456",
                                           fg_time_wall_s(), -1, &step),
                     FG_ERR_SEALED);
    assert_int_equal(fg_totp_enroll_sealed(f->k, PLACE, "u-1", "alice", uri, sealed, sizeof sealed,
                                           &len),
                     FG_ERR_SEALED);
    assert_int_equal(len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6238_vectors_liboath),
        cmocka_unit_test(test_rfc6238_vectors_ours),
        cmocka_unit_test(test_step),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_replay_refused),
        cmocka_unit_test(test_malformed_codes),
        cmocka_unit_test(test_uri),
        cmocka_unit_test_setup_teardown(test_sealed_lifecycle, setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_sealed_errors, setup_store, teardown_store),
    };
    assert_int_equal(fg_crypto_init(), FG_OK);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
