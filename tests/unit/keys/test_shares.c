/*
 * test_shares.c — keys/shares.c: the CRC-32 known answer, the share text format against
 * shares made by an independent implementation (the fuzz corpus was written with Python's
 * zlib and base64), every single-character typo refused, and Shamir k-of-n: every subset
 * of k shares reconstructs the secret, k-1 shares do not.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "keys/shares.h"

static int setup(void **state)
{
    (void)state;
    assert_int_equal(fg_crypto_init(), FG_OK);
    return 0;
}

static void random_secret(uint8_t secret[FG_SHARE_LEN])
{
    assert_int_equal(fg_random(secret, FG_SHARE_LEN), FG_OK);
}

static void test_crc32_known_answer(void **state)
{
    (void)state;
    assert_int_equal(fg_share_crc32("123456789", 9), 0xcbf43926u); /* the CRC-32 check value */
    assert_int_equal(fg_share_crc32("", 0), 0u);
}

static char *corpus_file(const char *name, size_t *len)
{
    char path[1024];
    int n = snprintf(path, sizeof path, "%s/fuzz/corpus/share/%s", fg_test_source_dir(), name);
    assert_true(n > 0 && (size_t)n < sizeof path);
    char *text = fg_test_read_file(path, len);
    assert_non_null(text);
    return text;
}

static void expect_parse(const char *name, fg_rc want, const char *problem_part)
{
    size_t len = 0;
    char *text = corpus_file(name, &len);
    struct fg_share s;
    const char *problem = NULL;
    fg_rc rc = fg_share_parse(text, len, &s, &problem);
    if (rc != want)
        fail_msg("%s: got %s, want %s (%s)", name, fg_rc_name(rc), fg_rc_name(want),
                 problem ? problem : "-");
    if (want == FG_OK) {
        assert_null(problem);
        assert_int_not_equal(s.index, 0);
        char again[FG_SHARE_TEXT_MAX];
        assert_int_equal(fg_share_format(&s, again), FG_OK);
        struct fg_share t;
        assert_int_equal(fg_share_parse(again, strlen(again), &t, &problem), FG_OK);
        assert_memory_equal(&s, &t, sizeof s);
    } else {
        assert_non_null(problem);
        if (problem_part != NULL && strstr(problem, problem_part) == NULL)
            fail_msg("%s: problem \"%s\" does not mention \"%s\"", name, problem, problem_part);
    }
    free(text);
}

static void test_corpus_interoperates(void **state)
{
    (void)state;
    expect_parse("valid_doc_example", FG_OK, NULL); /* the example in shares.h, docs/keys.md */
    expect_parse("valid_index1", FG_OK, NULL);
    expect_parse("valid_index255", FG_OK, NULL);
    expect_parse("valid_dash_in_data", FG_OK, NULL);
    expect_parse("valid_whitespace", FG_OK, NULL);
    expect_parse("valid_upper_checksum", FG_OK, NULL);
    expect_parse("bad_checksum_digit", FG_ERR_INVALID, "checksum mismatch");
    expect_parse("bad_data_typo", FG_ERR_INVALID, "checksum mismatch");
    expect_parse("bad_version", FG_ERR_INVALID, "version");
    expect_parse("bad_prefix", FG_ERR_INVALID, "fg1-");
    expect_parse("bad_index_zero", FG_ERR_INVALID, "index");
    expect_parse("bad_index_256", FG_ERR_INVALID, "index");
    expect_parse("bad_index_leading_zero", FG_ERR_INVALID, "index");
    expect_parse("bad_missing_char", FG_ERR_INVALID, "wrong length");
    expect_parse("bad_extra_char", FG_ERR_INVALID, "wrong length");
    expect_parse("bad_base64_char", FG_ERR_INVALID, "base64url");
    expect_parse("bad_trailing_bits", FG_ERR_INVALID, "malformed share");
    expect_parse("bad_no_checksum_dash", FG_ERR_INVALID, "before the checksum");
    expect_parse("bad_checksum_not_hex", FG_ERR_INVALID, "hex");
    expect_parse("bad_too_long", FG_ERR_INVALID, "malformed share");
    expect_parse("bad_nul_inside", FG_ERR_INVALID, "malformed share");
}

/* Every position, every replacement by another character of the share alphabet: never
 * accepted, always a named share problem. */
static void test_every_typo_refused(void **state)
{
    (void)state;
    static const char alphabet[] = "0123456789abcdefABCDEF-_xyzXYZ";
    uint8_t secret[FG_SHARE_LEN];
    random_secret(secret);
    struct fg_share shares[3];
    assert_int_equal(fg_share_split(secret, 3, 2, shares), FG_OK);
    char text[FG_SHARE_TEXT_MAX];
    assert_int_equal(fg_share_format(&shares[1], text), FG_OK);
    size_t len = strlen(text);
    assert_true(len >= 58 && len <= 60);
    for (size_t pos = 0; pos < len; pos++) {
        for (const char *c = alphabet; *c != '\0'; c++) {
            if (*c == text[pos])
                continue;
            char typo[FG_SHARE_TEXT_MAX];
            memcpy(typo, text, sizeof typo);
            typo[pos] = *c;
            struct fg_share s;
            const char *problem = NULL;
            fg_rc rc = fg_share_parse(typo, len, &s, &problem);
            if (rc == FG_OK) {
                /* Case of a checksum hex digit is not a typo. */
                assert_true(pos >= len - 8);
                assert_true((text[pos] | 0x20) == (*c | 0x20));
                continue;
            }
            assert_int_equal(rc, FG_ERR_INVALID);
            assert_non_null(problem);
            assert_true(strstr(problem, "share") != NULL);
        }
    }
}

static unsigned popcount(unsigned v)
{
    unsigned n = 0;
    for (; v != 0; v &= v - 1)
        n++;
    return n;
}

static void combine_mask(const struct fg_share *all, unsigned mask, uint8_t out[FG_SHARE_LEN])
{
    struct fg_share pick[FG_KEYS_SHARES_MAX];
    unsigned m = 0;
    for (unsigned i = 0; i < 16; i++)
        if (mask & (1u << i))
            pick[m++] = all[i];
    assert_int_equal(fg_share_combine(pick, m, out), FG_OK);
}

static void test_k_of_n_every_subset(void **state)
{
    (void)state;
    for (unsigned n = 1; n <= 6; n++) {
        for (unsigned k = 1; k <= n; k++) {
            uint8_t secret[FG_SHARE_LEN], got[FG_SHARE_LEN];
            random_secret(secret);
            struct fg_share shares[FG_KEYS_SHARES_MAX];
            assert_int_equal(fg_share_split(secret, n, k, shares), FG_OK);
            for (unsigned i = 0; i < n; i++) {
                assert_int_not_equal(shares[i].index, 0);
                for (unsigned j = 0; j < i; j++)
                    assert_int_not_equal(shares[i].index, shares[j].index);
            }
            for (unsigned mask = 1; mask < (1u << n); mask++) {
                unsigned size = popcount(mask);
                if (size < k - 1 || size == 0)
                    continue;
                combine_mask(shares, mask, got);
                if (size >= k)
                    assert_memory_equal(got, secret, FG_SHARE_LEN);
                else
                    assert_memory_not_equal(got, secret, FG_SHARE_LEN);
            }
        }
    }
}

static void test_split_sixteen(void **state)
{
    (void)state;
    uint8_t secret[FG_SHARE_LEN], got[FG_SHARE_LEN];
    random_secret(secret);
    struct fg_share shares[FG_KEYS_SHARES_MAX];
    assert_int_equal(fg_share_split(secret, 16, 9, shares), FG_OK);
    combine_mask(shares, 0xff80u, got); /* the last nine */
    assert_memory_equal(got, secret, FG_SHARE_LEN);
    combine_mask(shares, 0x00ffu, got); /* eight are not enough */
    assert_memory_not_equal(got, secret, FG_SHARE_LEN);
}

static void test_combine_refuses_bad_indexes(void **state)
{
    (void)state;
    uint8_t out[FG_SHARE_LEN];
    struct fg_share s[2];
    memset(s, 0, sizeof s);
    s[0].index = 5;
    s[1].index = 5;
    assert_int_equal(fg_share_combine(s, 2, out), FG_ERR_INVALID);
    s[1].index = 0;
    assert_int_equal(fg_share_combine(s, 2, out), FG_ERR_INVALID);
}

static void test_verifier(void **state)
{
    (void)state;
    uint8_t secret[FG_SHARE_LEN], salt[FG_SHARE_SALT_LEN], a[FG_HASH_LEN], b[FG_HASH_LEN];
    random_secret(secret);
    assert_int_equal(fg_random(salt, sizeof salt), FG_OK);
    struct fg_share shares[2];
    assert_int_equal(fg_share_split(secret, 2, 2, shares), FG_OK);
    assert_int_equal(fg_share_verifier(FG_HASH_SHA256, salt, &shares[0], a), FG_OK);
    assert_int_equal(fg_share_verifier(FG_HASH_SHA256, salt, &shares[0], b), FG_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(fg_share_verifier(FG_HASH_SHA256, salt, &shares[1], b), FG_OK);
    assert_memory_not_equal(a, b, sizeof a);
    assert_int_equal(fg_share_verifier(FG_HASH_SM3, salt, &shares[0], b), FG_OK);
    assert_memory_not_equal(a, b, sizeof a);
    salt[0] ^= 1;
    assert_int_equal(fg_share_verifier(FG_HASH_SHA256, salt, &shares[0], b), FG_OK);
    assert_memory_not_equal(a, b, sizeof a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_known_answer),
        cmocka_unit_test(test_corpus_interoperates),
        cmocka_unit_test(test_every_typo_refused),
        cmocka_unit_test(test_k_of_n_every_subset),
        cmocka_unit_test(test_split_sixteen),
        cmocka_unit_test(test_combine_refuses_bad_indexes),
        cmocka_unit_test(test_verifier),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
