/*
 * test_pwhash.c — pwhash.c: Argon2id strings, verification, rehash decisions, limits.
 *
 * Known answer: the Argon2 reference implementation's test suite (P-H-C/phc-winner-argon2,
 * src/test.c, Argon2id v1.3, t=2, m=2^8 KiB, p=1, password "password", salt "somesalt")
 * gives the encoded hash below; verifying it proves the algorithm is Argon2id v1.3 with
 * the reference's encoding, not just that hash and verify agree with each other.
 * Round trips use libsodium's minimum cost so the suite stays fast.
 */
#include "testutil.h"

#include <stdint.h>
#include <string.h>

#include "crypto/crypto.h"

static const char reference_hash[] =
    "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";

/* The cheapest parameters libsodium accepts: 1 pass, 8 KiB. */
static const struct fg_pwhash_params cheap = {.ops = 1, .mem_bytes = 8 * 1024};

static int setup(void **state)
{
    (void)state;
    return fg_crypto_init() == FG_OK ? 0 : -1;
}

static void test_reference_vector(void **state)
{
    (void)state;
    assert_int_equal(fg_pwhash_verify(reference_hash, "password", 8), FG_OK);
    assert_int_equal(fg_pwhash_verify(reference_hash, "passwore", 8), FG_ERR_UNAUTHENTICATED);
    assert_int_equal(fg_pwhash_verify(reference_hash, "password", 7), FG_ERR_UNAUTHENTICATED);
    /* the same string with one hash character changed */
    char changed[sizeof reference_hash];
    memcpy(changed, reference_hash, sizeof changed);
    changed[sizeof changed - 2] = changed[sizeof changed - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(fg_pwhash_verify(changed, "password", 8), FG_ERR_UNAUTHENTICATED);
}

static void test_round_trip(void **state)
{
    (void)state;
    char stored[FG_PWHASH_STR_MAX];
    const char *pw = "correct horse battery staple";
    assert_int_equal(fg_pwhash(&cheap, pw, strlen(pw), stored), FG_OK);
    assert_true(strncmp(stored, "$argon2id$v=19$m=8,t=1,p=1$", 27) == 0);
    assert_int_equal(fg_pwhash_verify(stored, pw, strlen(pw)), FG_OK);
    assert_int_equal(fg_pwhash_verify(stored, "correct horse battery stapler", 29),
                     FG_ERR_UNAUTHENTICATED);
    assert_int_equal(fg_pwhash_verify(stored, "", 0), FG_ERR_UNAUTHENTICATED);

    /* the salt is fresh each time */
    char again[FG_PWHASH_STR_MAX];
    assert_int_equal(fg_pwhash(&cheap, pw, strlen(pw), again), FG_OK);
    assert_string_not_equal(stored, again);
    assert_int_equal(fg_pwhash_verify(again, pw, strlen(pw)), FG_OK);

    /* the password is bytes, not a C string: an embedded NUL counts */
    assert_int_equal(fg_pwhash(&cheap, "a\0b", 3, stored), FG_OK);
    assert_int_equal(fg_pwhash_verify(stored, "a\0b", 3), FG_OK);
    assert_int_equal(fg_pwhash_verify(stored, "a\0c", 3), FG_ERR_UNAUTHENTICATED);
    assert_int_equal(fg_pwhash_verify(stored, "a", 1), FG_ERR_UNAUTHENTICATED);
}

static void test_default_params(void **state)
{
    (void)state;
    assert_int_equal(fg_pwhash_default.ops, 2);
    assert_int_equal(fg_pwhash_default.mem_bytes, 19 * 1024 * 1024);
    char stored[FG_PWHASH_STR_MAX];
    assert_int_equal(fg_pwhash(&fg_pwhash_default, "pw", 2, stored), FG_OK);
    assert_true(strncmp(stored, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
    assert_int_equal(fg_pwhash_verify(stored, "pw", 2), FG_OK);
    assert_int_equal(fg_pwhash_needs_rehash(&fg_pwhash_default, stored), 0);
}

static void test_needs_rehash(void **state)
{
    (void)state;
    char stored[FG_PWHASH_STR_MAX];
    assert_int_equal(fg_pwhash(&cheap, "pw", 2, stored), FG_OK);
    assert_int_equal(fg_pwhash_needs_rehash(&cheap, stored), 0);
    assert_int_equal(fg_pwhash_needs_rehash(&fg_pwhash_default, stored), 1);
    struct fg_pwhash_params more_ops = {.ops = 2, .mem_bytes = cheap.mem_bytes};
    struct fg_pwhash_params more_mem = {.ops = 1, .mem_bytes = 16 * 1024};
    assert_int_equal(fg_pwhash_needs_rehash(&more_ops, stored), 1);
    assert_int_equal(fg_pwhash_needs_rehash(&more_mem, stored), 1);
    /* the reference hash: m=256 KiB, t=2 */
    struct fg_pwhash_params ref = {.ops = 2, .mem_bytes = 256 * 1024};
    assert_int_equal(fg_pwhash_needs_rehash(&ref, reference_hash), 0);
    /* two lanes with the same t and m: still not what we make */
    assert_int_equal(fg_pwhash_needs_rehash(&ref, "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$"
                                                  "bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"),
                     1);
    /* other algorithms and garbage always need a new hash */
    assert_int_equal(fg_pwhash_needs_rehash(&ref, "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$"
                                                  "iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8"),
                     1);
    assert_int_equal(fg_pwhash_needs_rehash(&ref, ""), 1);
    assert_int_equal(fg_pwhash_needs_rehash(&ref, "plaintext"), 1);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "password",
        "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8",
        "$argon2id$v=16$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$",
        "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ",
        "$argon2id$v=19$m=256,t=2,p=1$$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4$",
        "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4 ",
        "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1b*CHGi/4",
        "$argon2id$v=19$m=0256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=256,t=0,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=256,t=2,p=0$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=256,t=-2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=4,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$t=2,m=256,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        /* over the ceilings: refused before libsodium would allocate 4 TiB or spin */
        "$argon2id$v=19$m=4294967295,t=2,p=1"
        "$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=1048577,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=256,t=17,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=256,t=99999999999,p=1"
        "$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=256,t=2,p=17$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (fg_pwhash_verify(bad[i], "password", 8) != FG_ERR_INVALID)
            fail_msg("accepted as well-formed: %s", bad[i]);
    }
    /* longer than any valid string (no NUL within FG_PWHASH_STR_MAX) */
    char long_str[2 * FG_PWHASH_STR_MAX];
    memset(long_str, 'A', sizeof long_str - 1);
    long_str[sizeof long_str - 1] = '\0';
    memcpy(long_str, reference_hash, sizeof reference_hash - 1);
    assert_int_equal(fg_pwhash_verify(long_str, "password", 8), FG_ERR_INVALID);
}

static void test_limits(void **state)
{
    (void)state;
    char stored[FG_PWHASH_STR_MAX];
    static char pw[FG_CRYPTO_PASSWORD_MAX + 1];
    memset(pw, 'p', sizeof pw);
    assert_int_equal(fg_pwhash(&cheap, pw, FG_CRYPTO_PASSWORD_MAX, stored), FG_OK);
    assert_int_equal(fg_pwhash_verify(stored, pw, FG_CRYPTO_PASSWORD_MAX), FG_OK);
    assert_int_equal(fg_pwhash(&cheap, pw, sizeof pw, stored), FG_ERR_INVALID);
    assert_string_equal(stored, "");
    assert_int_equal(fg_pwhash_verify(reference_hash, pw, sizeof pw), FG_ERR_INVALID);

    static const struct fg_pwhash_params bad[] = {
        {.ops = 0, .mem_bytes = 8 * 1024},
        {.ops = FG_PWHASH_OPS_MAX + 1, .mem_bytes = 8 * 1024},
        {.ops = 1, .mem_bytes = 8 * 1024 - 1},
        {.ops = 1, .mem_bytes = (size_t)FG_PWHASH_MEM_BYTES_MAX + 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fg_pwhash(&bad[i], "pw", 2, stored), FG_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_vector),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_default_params),
        cmocka_unit_test(test_needs_rehash),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
