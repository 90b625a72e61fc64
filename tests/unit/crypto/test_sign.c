/*
 * test_sign.c — sign.c: Ed25519 and SM2.
 *
 * Vectors:
 *   Ed25519  RFC 8032 §7.1 TEST 1–3: public key from the secret key, signature exact
 *   SM2      GM/T 0003.5-2012 Appendix A (signature example on the recommended curve):
 *            private key d, public key (x, y), message "message digest", ID
 *            "1234567812345678", signature (r, s). SM2 signing is randomised, so the
 *            example checks public-key derivation exactly and verification of the
 *            published (r, s), DER-encoded; that also proves our ID handling matches the
 *            standard (a wrong or empty ID gives a different Z and the check fails).
 */
#include "testutil.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "base/encode.h"
#include "crypto/crypto.h"

#define HEX_MAX 128

static size_t unhex(const char *hex, uint8_t *out, size_t out_size)
{
    size_t len = 0;
    assert_int_equal(fg_hex_decode(hex, strlen(hex), out, out_size, &len), FG_OK);
    return len;
}

static void assert_hex_equal(const uint8_t *got, size_t len, const char *want_hex)
{
    char got_hex[2 * HEX_MAX + 1];
    assert_true(len <= HEX_MAX);
    assert_int_equal(fg_hex_encode(got, len, got_hex, sizeof got_hex), FG_OK);
    assert_string_equal(got_hex, want_hex);
}

static int setup(void **state)
{
    (void)state;
    return fg_crypto_init() == FG_OK ? 0 : -1;
}

static void test_ed25519_rfc8032(void **state)
{
    (void)state;
    static const struct {
        const char *secret, *public, *msg, *sig;
    } vectors[] = {
        {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
         "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
        {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
         "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
        {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
         "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
         "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
         "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
    };
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        uint8_t priv[FG_SIGN_PRIVATE_LEN], msg[8], pub[FG_SIGN_PUBLIC_MAX], sig[FG_SIGN_SIG_MAX];
        assert_int_equal(unhex(vectors[i].secret, priv, sizeof priv), FG_SIGN_PRIVATE_LEN);
        size_t msg_len = unhex(vectors[i].msg, msg, sizeof msg);
        size_t pub_len = 0, sig_len = 0;
        assert_int_equal(fg_sign_public(FG_SUITE_INTL, priv, pub, &pub_len), FG_OK);
        assert_hex_equal(pub, pub_len, vectors[i].public);
        assert_int_equal(fg_sign(FG_SUITE_INTL, priv, msg, msg_len, sig, &sig_len), FG_OK);
        assert_hex_equal(sig, sig_len, vectors[i].sig);
        assert_int_equal(fg_verify(FG_SUITE_INTL, pub, pub_len, msg, msg_len, sig, sig_len), FG_OK);
    }
}

static void sm2_gmt_key(uint8_t priv[FG_SIGN_PRIVATE_LEN])
{
    assert_int_equal(unhex("3945208f7b2144b13f36e38ac6d39f95"
                           "889393692860b51a42fb81ef4df7c5b8",
                           priv, FG_SIGN_PRIVATE_LEN),
                     FG_SIGN_PRIVATE_LEN);
}

static void test_sm2_gmt0003_public_key(void **state)
{
    (void)state;
    uint8_t priv[FG_SIGN_PRIVATE_LEN], pub[FG_SIGN_PUBLIC_MAX];
    sm2_gmt_key(priv);
    size_t pub_len = 0;
    assert_int_equal(fg_sign_public(FG_SUITE_GM, priv, pub, &pub_len), FG_OK);
    assert_int_equal(pub_len, 65);
    assert_hex_equal(pub, pub_len,
                     "04"
                     "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
                     "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13");
}

static void test_sm2_gmt0003_signature(void **state)
{
    (void)state;
    uint8_t priv[FG_SIGN_PRIVATE_LEN], pub[FG_SIGN_PUBLIC_MAX], sig[FG_SIGN_SIG_MAX];
    sm2_gmt_key(priv);
    size_t pub_len = 0;
    assert_int_equal(fg_sign_public(FG_SUITE_GM, priv, pub, &pub_len), FG_OK);
    /* SEQUENCE { INTEGER r, INTEGER s }, each with a 00 because its top bit is set */
    size_t sig_len = unhex("30460221"
                           "00f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
                           "0221"
                           "00b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa",
                           sig, sizeof sig);
    assert_int_equal(sig_len, 72);
    const char *msg = "message digest";
    assert_int_equal(fg_verify(FG_SUITE_GM, pub, pub_len, msg, strlen(msg), sig, sig_len), FG_OK);
    /* one bit anywhere (DER framing, r or s), or in the message, and it fails */
    for (size_t i = 0; i < sig_len; i++) {
        sig[i] ^= 0x01;
        assert_int_equal(fg_verify(FG_SUITE_GM, pub, pub_len, msg, strlen(msg), sig, sig_len),
                         FG_ERR_CRYPTO);
        sig[i] ^= 0x01;
    }
    assert_int_equal(fg_verify(FG_SUITE_GM, pub, pub_len, "message digesT", 14, sig, sig_len),
                     FG_ERR_CRYPTO);
}

/* Sign with a fresh key, verify; flipped message, flipped signature, another key and the
 * other suite all fail. */
static void check_round_trip(enum fg_suite suite, size_t want_pub_len)
{
    uint8_t priv[FG_SIGN_PRIVATE_LEN], other[FG_SIGN_PRIVATE_LEN];
    uint8_t pub[FG_SIGN_PUBLIC_MAX], other_pub[FG_SIGN_PUBLIC_MAX], sig[FG_SIGN_SIG_MAX];
    size_t pub_len = 0, other_pub_len = 0, sig_len = 0;
    assert_int_equal(fg_sign_keygen(suite, priv), FG_OK);
    assert_int_equal(fg_sign_keygen(suite, other), FG_OK);
    assert_memory_not_equal(priv, other, sizeof priv);
    assert_int_equal(fg_sign_public(suite, priv, pub, &pub_len), FG_OK);
    assert_int_equal(pub_len, want_pub_len);
    assert_int_equal(fg_sign_public(suite, other, other_pub, &other_pub_len), FG_OK);

    /* the public key is a function of the private key */
    uint8_t pub2[FG_SIGN_PUBLIC_MAX];
    size_t pub2_len = 0;
    assert_int_equal(fg_sign_public(suite, priv, pub2, &pub2_len), FG_OK);
    assert_int_equal(pub2_len, pub_len);
    assert_memory_equal(pub2, pub, pub_len);

    uint8_t msg[] = "checkpoint 1024: 9f86d081884c7d659a2feaa0c55ad015";
    size_t len = sizeof msg - 1;
    assert_int_equal(fg_sign(suite, priv, msg, len, sig, &sig_len), FG_OK);
    assert_true(sig_len > 0 && sig_len <= FG_SIGN_SIG_MAX);
    assert_int_equal(fg_verify(suite, pub, pub_len, msg, len, sig, sig_len), FG_OK);

    for (size_t bit = 0; bit < len * 8; bit += 5) {
        msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(fg_verify(suite, pub, pub_len, msg, len, sig, sig_len), FG_ERR_CRYPTO);
        msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t bit = 0; bit < sig_len * 8; bit += 3) {
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(fg_verify(suite, pub, pub_len, msg, len, sig, sig_len), FG_ERR_CRYPTO);
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(fg_verify(suite, other_pub, other_pub_len, msg, len, sig, sig_len),
                     FG_ERR_CRYPTO);
    assert_int_equal(fg_verify(suite, pub, pub_len, msg, len, sig, sig_len - 1), FG_ERR_CRYPTO);
    assert_int_equal(fg_verify(suite, pub, pub_len - 1, msg, len, sig, sig_len), FG_ERR_CRYPTO);
    assert_int_equal(fg_verify(suite, pub, pub_len, msg, len, sig, sig_len), FG_OK);

    /* empty messages are signable */
    assert_int_equal(fg_sign(suite, priv, NULL, 0, sig, &sig_len), FG_OK);
    assert_int_equal(fg_verify(suite, pub, pub_len, NULL, 0, sig, sig_len), FG_OK);
    assert_int_equal(fg_verify(suite, pub, pub_len, "", 1, sig, sig_len), FG_ERR_CRYPTO);
}

static void test_ed25519_round_trip(void **state)
{
    (void)state;
    check_round_trip(FG_SUITE_INTL, 32);
}

static void test_sm2_round_trip(void **state)
{
    (void)state;
    check_round_trip(FG_SUITE_GM, 65);
}

static void test_sm2_signatures_randomised(void **state)
{
    (void)state;
    uint8_t priv[FG_SIGN_PRIVATE_LEN], a[FG_SIGN_SIG_MAX], b[FG_SIGN_SIG_MAX];
    size_t a_len = 0, b_len = 0;
    assert_int_equal(fg_sign_keygen(FG_SUITE_GM, priv), FG_OK);
    assert_int_equal(fg_sign(FG_SUITE_GM, priv, "m", 1, a, &a_len), FG_OK);
    assert_int_equal(fg_sign(FG_SUITE_GM, priv, "m", 1, b, &b_len), FG_OK);
    assert_true(a_len != b_len || memcmp(a, b, a_len) != 0);
}

static void test_sm2_private_key_range(void **state)
{
    (void)state;
    uint8_t priv[FG_SIGN_PRIVATE_LEN], pub[FG_SIGN_PUBLIC_MAX], sig[FG_SIGN_SIG_MAX];
    size_t pub_len = 99, sig_len = 99;
    /* 0, n - 1, n and 2^256 - 1 are not SM2 private keys; 1 and n - 2 are */
    static const char *bad[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54122",
        "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unhex(bad[i], priv, sizeof priv);
        assert_int_equal(fg_sign_public(FG_SUITE_GM, priv, pub, &pub_len), FG_ERR_CRYPTO);
        assert_int_equal(pub_len, 0);
        assert_int_equal(fg_sign(FG_SUITE_GM, priv, "m", 1, sig, &sig_len), FG_ERR_CRYPTO);
        assert_int_equal(sig_len, 0);
    }
    static const char *good[] = {
        "0000000000000000000000000000000000000000000000000000000000000001",
        "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54121",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        unhex(good[i], priv, sizeof priv);
        assert_int_equal(fg_sign_public(FG_SUITE_GM, priv, pub, &pub_len), FG_OK);
        assert_int_equal(fg_sign(FG_SUITE_GM, priv, "m", 1, sig, &sig_len), FG_OK);
        assert_int_equal(fg_verify(FG_SUITE_GM, pub, pub_len, "m", 1, sig, sig_len), FG_OK);
    }
    /* d = 1: the public key is the generator G */
    unhex(good[0], priv, sizeof priv);
    assert_int_equal(fg_sign_public(FG_SUITE_GM, priv, pub, &pub_len), FG_OK);
    assert_hex_equal(pub, pub_len,
                     "04"
                     "32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7"
                     "bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0");
}

static void test_sm2_bad_public_keys(void **state)
{
    (void)state;
    uint8_t priv[FG_SIGN_PRIVATE_LEN], pub[FG_SIGN_PUBLIC_MAX], sig[FG_SIGN_SIG_MAX];
    size_t pub_len = 0, sig_len = 0;
    assert_int_equal(fg_sign_keygen(FG_SUITE_GM, priv), FG_OK);
    assert_int_equal(fg_sign_public(FG_SUITE_GM, priv, pub, &pub_len), FG_OK);
    assert_int_equal(fg_sign(FG_SUITE_GM, priv, "m", 1, sig, &sig_len), FG_OK);
    pub[64] ^= 1; /* (x, y') is not on the curve */
    assert_int_equal(fg_verify(FG_SUITE_GM, pub, pub_len, "m", 1, sig, sig_len), FG_ERR_CRYPTO);
    pub[64] ^= 1;
    pub[0] = 0x02; /* compressed form is not what we exchange */
    assert_int_equal(fg_verify(FG_SUITE_GM, pub, pub_len, "m", 1, sig, sig_len), FG_ERR_CRYPTO);
    pub[0] = 0x04;
    uint8_t too_long[FG_SIGN_SIG_MAX + 1] = {0};
    memcpy(too_long, sig, sig_len);
    assert_int_equal(fg_verify(FG_SUITE_GM, pub, pub_len, "m", 1, too_long, sizeof too_long),
                     FG_ERR_CRYPTO);
    assert_int_equal(fg_verify(FG_SUITE_GM, pub, pub_len, "m", 1, sig, sig_len), FG_OK);
}

/* A key or signature of one suite is no good in the other. */
static void test_suites_distinct(void **state)
{
    (void)state;
    uint8_t priv[FG_SIGN_PRIVATE_LEN], pub[FG_SIGN_PUBLIC_MAX], sig[FG_SIGN_SIG_MAX];
    size_t pub_len = 0, sig_len = 0;
    assert_int_equal(fg_sign_keygen(FG_SUITE_GM, priv), FG_OK);
    assert_int_equal(fg_sign_public(FG_SUITE_INTL, priv, pub, &pub_len), FG_OK);
    assert_int_equal(fg_sign(FG_SUITE_GM, priv, "m", 1, sig, &sig_len), FG_OK);
    assert_int_equal(fg_verify(FG_SUITE_INTL, pub, pub_len, "m", 1, sig, sig_len), FG_ERR_CRYPTO);
    assert_int_equal(fg_sign(FG_SUITE_INTL, priv, "m", 1, sig, &sig_len), FG_OK);
    assert_int_equal(fg_sign_public(FG_SUITE_GM, priv, pub, &pub_len), FG_OK);
    assert_int_equal(fg_verify(FG_SUITE_GM, pub, pub_len, "m", 1, sig, sig_len), FG_ERR_CRYPTO);
}

/* Threads share the fetched algorithms and the SM2 group; under ASan this also checks
 * that nothing is freed or reused across calls. */
static void *sign_worker(void *arg)
{
    enum fg_suite suite = *(const enum fg_suite *)arg;
    for (int i = 0; i < 25; i++) {
        uint8_t priv[FG_SIGN_PRIVATE_LEN], pub[FG_SIGN_PUBLIC_MAX], sig[FG_SIGN_SIG_MAX];
        size_t pub_len = 0, sig_len = 0;
        if (fg_sign_keygen(suite, priv) != FG_OK ||
            fg_sign_public(suite, priv, pub, &pub_len) != FG_OK ||
            fg_sign(suite, priv, &i, sizeof i, sig, &sig_len) != FG_OK ||
            fg_verify(suite, pub, pub_len, &i, sizeof i, sig, sig_len) != FG_OK)
            return (void *)1;
        sig[sig_len - 1] ^= 1;
        if (fg_verify(suite, pub, pub_len, &i, sizeof i, sig, sig_len) != FG_ERR_CRYPTO)
            return (void *)1;
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    enum { THREADS = 6 };
    static const enum fg_suite suites[2] = {FG_SUITE_INTL, FG_SUITE_GM};
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, sign_worker, (void *)&suites[i % 2]), 0);
    for (int i = 0; i < THREADS; i++) {
        void *result = (void *)1;
        assert_int_equal(pthread_join(threads[i], &result), 0);
        assert_null(result);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ed25519_rfc8032),
        cmocka_unit_test(test_sm2_gmt0003_public_key),
        cmocka_unit_test(test_sm2_gmt0003_signature),
        cmocka_unit_test(test_ed25519_round_trip),
        cmocka_unit_test(test_sm2_round_trip),
        cmocka_unit_test(test_sm2_signatures_randomised),
        cmocka_unit_test(test_sm2_private_key_range),
        cmocka_unit_test(test_sm2_bad_public_keys),
        cmocka_unit_test(test_suites_distinct),
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
