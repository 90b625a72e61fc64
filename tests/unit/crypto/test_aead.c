/*
 * test_aead.c — aead.c: AES-256-GCM and the gm construction (SM4-CTR + HMAC-SM3).
 *
 * Vectors:
 *   AES-256-GCM  McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13–16
 *                (the 256-bit-key cases with 96-bit IVs; 16 has AAD)
 *   SM4          GB/T 32907-2016 Appendix A example 1, one block, run through the very
 *                SM4-CTR routine the gm AEAD uses (the first CTR keystream block is
 *                E(K, IV), so IV = the example's plaintext and a zero input give E(K, P))
 *   SM4-CTR      draft-ribose-cfrg-sm4-10 A.2.5.1 and A.2.5.2
 *   gm AEAD      SELF-COMPUTED (our construction has no published vectors): computed
 *                once, independently of this code, with Python's cryptography (HKDF(SM3),
 *                SM4 CTR, HMAC(SM3)) from the description in docs/crypto.md. Any change
 *                to the construction (labels, layout, truncation) breaks it.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "base/encode.h"
#include "crypto/crypto.h"
#include "crypto/internal.h"

#define HEX_MAX 256

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

static void assert_all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        assert_int_equal(p[i], 0);
}

/* Seals with the vector's inputs, compares ct ‖ tag, opens again (also in place). */
static void check_vector(enum fg_suite suite, const char *key_hex, const char *nonce_hex,
                         const char *aad_hex, const char *pt_hex, const char *ct_hex,
                         const char *tag_hex)
{
    uint8_t key[FG_AEAD_KEY_LEN], nonce[FG_AEAD_NONCE_MAX], aad[HEX_MAX], pt[HEX_MAX];
    assert_int_equal(unhex(key_hex, key, sizeof key), FG_AEAD_KEY_LEN);
    assert_int_equal(unhex(nonce_hex, nonce, sizeof nonce), fg_aead_nonce_len(suite));
    size_t aad_len = unhex(aad_hex, aad, sizeof aad);
    size_t pt_len = unhex(pt_hex, pt, sizeof pt);

    uint8_t ct[HEX_MAX], tag[FG_AEAD_TAG_LEN];
    assert_int_equal(fg_aead_seal(suite, key, nonce, aad, aad_len, pt, pt_len, ct, tag), FG_OK);
    assert_hex_equal(ct, pt_len, ct_hex);
    assert_hex_equal(tag, sizeof tag, tag_hex);

    uint8_t back[HEX_MAX];
    assert_int_equal(fg_aead_open(suite, key, nonce, aad, aad_len, ct, pt_len, tag, back), FG_OK);
    assert_memory_equal(back, pt, pt_len);
    assert_int_equal(fg_aead_open(suite, key, nonce, aad, aad_len, ct, pt_len, tag, ct), FG_OK);
    assert_memory_equal(ct, pt, pt_len);
}

static void test_gcm_mcgrew_viega(void **state)
{
    (void)state;
    const char *zero_key = "0000000000000000000000000000000000000000000000000000000000000000";
    const char *zero_iv = "000000000000000000000000";
    /* 13: empty plaintext */
    check_vector(FG_SUITE_INTL, zero_key, zero_iv, "", "", "", "530f8afbc74536b9a963b4f1c4cb738b");
    /* 14: one zero block */
    check_vector(FG_SUITE_INTL, zero_key, zero_iv, "", "00000000000000000000000000000000",
                 "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919");
    const char *key = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
    const char *iv = "cafebabefacedbaddecaf888";
    /* 15: four blocks */
    check_vector(FG_SUITE_INTL, key, iv, "",
                 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                 "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
                 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                 "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
                 "b094dac5d93471bdec1a502270e3cc6c");
    /* 16: 60 bytes with 20 bytes of AAD */
    check_vector(FG_SUITE_INTL, key, iv, "feedfacedeadbeeffeedfacedeadbeefabaddad2",
                 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                 "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
                 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                 "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
                 "76fc6ece0f4e1768cddf8853bb2d551b");
}

static void test_sm4_gbt32907(void **state)
{
    (void)state;
    uint8_t key[FG_SM4_KEY_LEN], block[FG_SM4_BLOCK_LEN];
    unhex("0123456789abcdeffedcba9876543210", key, sizeof key);
    unhex("0123456789abcdeffedcba9876543210", block, sizeof block);
    static const uint8_t zero[FG_SM4_BLOCK_LEN];
    uint8_t out[FG_SM4_BLOCK_LEN];
    assert_int_equal(fg_crypto_sm4_ctr(key, block, zero, sizeof zero, out), FG_OK);
    assert_hex_equal(out, sizeof out, "681edf34d206965e86b3e94f536e4246");
}

static void test_sm4_ctr_draft_ribose(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        const char *ct;
    } vectors[] = {
        {"0123456789abcdeffedcba9876543210", /* A.2.5.1 */
         "ac3236cb970cc20791364c395a1342d1a3cbc1878c6f30cd074cce385cdd70c7"
         "f234bc0e24c11980fd1286310ce37b926e02fcd0faa0baf38b2933851d824514"},
        {"fedcba98765432100123456789abcdef", /* A.2.5.2 */
         "5dcccd25b95ab07417a08512ee160e2f8f661521cbbab44cc87138445bc29e5c"
         "0ae0297205d62704173b21239b887f6c8cb5b800917a2488284bde9e16ea2906"},
    };
    uint8_t iv[FG_SM4_BLOCK_LEN], pt[64], out[64];
    unhex("000102030405060708090a0b0c0d0e0f", iv, sizeof iv);
    unhex("aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd"
          "eeeeeeeeeeeeeeeeffffffffffffffffaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb",
          pt, sizeof pt);
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        uint8_t key[FG_SM4_KEY_LEN];
        unhex(vectors[i].key, key, sizeof key);
        assert_int_equal(fg_crypto_sm4_ctr(key, iv, pt, sizeof pt, out), FG_OK);
        assert_hex_equal(out, sizeof out, vectors[i].ct);
        /* CTR is its own inverse, also in place */
        assert_int_equal(fg_crypto_sm4_ctr(key, iv, out, sizeof out, out), FG_OK);
        assert_memory_equal(out, pt, sizeof pt);
    }
}

static void test_gm_fixed_vector(void **state)
{
    (void)state;
    const char *key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const char *nonce = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";
    /* aad "finguard/users/email/42", pt "The quick brown fox jumps over the lazy dog" */
    check_vector(FG_SUITE_GM, key, nonce, "66696e67756172642f75736572732f656d61696c2f3432",
                 "54686520717569636b2062726f776e20666f78206a756d7073206f7665722074"
                 "6865206c617a7920646f67",
                 "17a343f724c485f492006b53be19cc21e2da24dd5d124e3f846d1410a7e6f5b4"
                 "430bc54cfc673c42c61076",
                 "9a7d0cc4d73de175b6ed382486a7698a");
    /* nothing to encrypt: the tag still covers the nonce (and the zero AAD length) */
    check_vector(FG_SUITE_GM, key, nonce, "", "", "", "2d51a2092964204c34c77614b517769e");
}

static void test_nonce_lengths(void **state)
{
    (void)state;
    assert_int_equal(fg_aead_nonce_len(FG_SUITE_INTL), 12);
    assert_int_equal(fg_aead_nonce_len(FG_SUITE_GM), 16);
    assert_true(fg_aead_nonce_len(FG_SUITE_GM) <= FG_AEAD_NONCE_MAX);
}

/* Every single-bit change to tag, ciphertext, AAD, nonce or key is refused, and the
 * output buffer is zeroed each time. */
static void check_tamper(enum fg_suite suite)
{
    uint8_t key[FG_AEAD_KEY_LEN], nonce[FG_AEAD_NONCE_MAX] = {0};
    size_t nonce_len = fg_aead_nonce_len(suite);
    assert_int_equal(fg_random(key, sizeof key), FG_OK);
    assert_int_equal(fg_random(nonce, nonce_len), FG_OK);
    uint8_t aad[] = "table=users;column=email;row=42";
    uint8_t pt[] = "alice@example.com, IBAN DE89 3704 0044 0532 0130 00";
    size_t aad_len = sizeof aad - 1;
    size_t pt_len = sizeof pt - 1;
    uint8_t ct[sizeof pt], tag[FG_AEAD_TAG_LEN], out[sizeof pt];
    assert_int_equal(fg_aead_seal(suite, key, nonce, aad, aad_len, pt, pt_len, ct, tag), FG_OK);
    assert_memory_not_equal(ct, pt, pt_len);

    struct {
        uint8_t *p;
        size_t len;
    } fields[] = {
        {tag, sizeof tag}, {ct, pt_len}, {aad, aad_len}, {nonce, nonce_len}, {key, sizeof key}};
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        for (size_t bit = 0; bit < fields[f].len * 8; bit += 7) {
            fields[f].p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            memset(out, 0xee, sizeof out);
            assert_int_equal(fg_aead_open(suite, key, nonce, aad, aad_len, ct, pt_len, tag, out),
                             FG_ERR_CRYPTO);
            assert_all_zero(out, pt_len);
            fields[f].p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
    }
    /* shorter AAD or ciphertext (truncation) is refused too */
    assert_int_equal(fg_aead_open(suite, key, nonce, aad, aad_len - 1, ct, pt_len, tag, out),
                     FG_ERR_CRYPTO);
    assert_int_equal(fg_aead_open(suite, key, nonce, aad, aad_len, ct, pt_len - 1, tag, out),
                     FG_ERR_CRYPTO);
    /* and the untouched message still opens */
    assert_int_equal(fg_aead_open(suite, key, nonce, aad, aad_len, ct, pt_len, tag, out), FG_OK);
    assert_memory_equal(out, pt, pt_len);
}

static void test_tamper_intl(void **state)
{
    (void)state;
    check_tamper(FG_SUITE_INTL);
}

static void test_tamper_gm(void **state)
{
    (void)state;
    check_tamper(FG_SUITE_GM);
}

/* The AAD length prefix: moving bytes between AAD and ciphertext changes the tag. */
static void test_gm_aad_boundary(void **state)
{
    (void)state;
    uint8_t key[FG_AEAD_KEY_LEN] = {1}, nonce[16] = {2};
    uint8_t msg[8] = "abcdefgh", ct[8], tag1[FG_AEAD_TAG_LEN], tag2[FG_AEAD_TAG_LEN];
    assert_int_equal(fg_aead_seal(FG_SUITE_GM, key, nonce, msg, 4, msg + 4, 4, ct, tag1), FG_OK);
    uint8_t joined[8];
    memcpy(joined, msg, 4);
    memcpy(joined + 4, ct, 4);
    uint8_t pt_out[8];
    /* the same bytes split differently: aad = 3 bytes, "ciphertext" = 5 bytes */
    assert_int_equal(fg_aead_open(FG_SUITE_GM, key, nonce, joined, 3, joined + 3, 5, tag1, pt_out),
                     FG_ERR_CRYPTO);
    assert_int_equal(fg_aead_seal(FG_SUITE_GM, key, nonce, msg, 3, msg + 3, 5, ct, tag2), FG_OK);
    assert_memory_not_equal(tag1, tag2, sizeof tag1);
}

static void test_round_trips(void **state)
{
    (void)state;
    enum fg_suite suites[] = {FG_SUITE_INTL, FG_SUITE_GM};
    static uint8_t pt[1000], ct[1000], back[1000];
    for (size_t i = 0; i < sizeof pt; i++)
        pt[i] = (uint8_t)(i * 7 + 3);
    for (size_t s = 0; s < 2; s++) {
        uint8_t key[FG_AEAD_KEY_LEN], nonce[FG_AEAD_NONCE_MAX], tag[FG_AEAD_TAG_LEN];
        assert_int_equal(fg_random(key, sizeof key), FG_OK);
        assert_int_equal(fg_random(nonce, sizeof nonce), FG_OK);
        /* block edges and odd sizes; in place for half of them */
        static const size_t lens[] = {0, 1, 15, 16, 17, 31, 32, 33, 255, 1000};
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
            size_t n = lens[l];
            assert_int_equal(fg_aead_seal(suites[s], key, nonce, NULL, 0, pt, n, ct, tag), FG_OK);
            if (n > 0)
                assert_memory_not_equal(ct, pt, n);
            assert_int_equal(fg_aead_open(suites[s], key, nonce, NULL, 0, ct, n, tag, back), FG_OK);
            assert_memory_equal(back, pt, n);
            memcpy(back, pt, n);
            assert_int_equal(fg_aead_seal(suites[s], key, nonce, "a", 1, back, n, back, tag),
                             FG_OK);
            assert_int_equal(fg_aead_open(suites[s], key, nonce, "a", 1, back, n, tag, back),
                             FG_OK);
            assert_memory_equal(back, pt, n);
        }
    }
}

/* The suites are not interchangeable: a gm ciphertext does not open as intl. */
static void test_suites_distinct(void **state)
{
    (void)state;
    uint8_t key[FG_AEAD_KEY_LEN] = {9}, nonce[FG_AEAD_NONCE_MAX] = {8};
    uint8_t pt[20] = "twenty bytes of data", ct_gm[20], ct_intl[20], tag[FG_AEAD_TAG_LEN];
    uint8_t tag_intl[FG_AEAD_TAG_LEN], out[20];
    assert_int_equal(fg_aead_seal(FG_SUITE_GM, key, nonce, NULL, 0, pt, 20, ct_gm, tag), FG_OK);
    assert_int_equal(fg_aead_seal(FG_SUITE_INTL, key, nonce, NULL, 0, pt, 20, ct_intl, tag_intl),
                     FG_OK);
    assert_memory_not_equal(ct_gm, ct_intl, 20);
    assert_int_equal(fg_aead_open(FG_SUITE_INTL, key, nonce, NULL, 0, ct_gm, 20, tag, out),
                     FG_ERR_CRYPTO);
    assert_all_zero(out, sizeof out);
}

static void test_limits(void **state)
{
    (void)state;
    uint8_t key[FG_AEAD_KEY_LEN] = {0}, nonce[FG_AEAD_NONCE_MAX] = {0}, tag[FG_AEAD_TAG_LEN];
    uint8_t one[1] = {0};
    /* refused before any byte is touched, so a 1-byte buffer is safe here */
    assert_int_equal(fg_aead_seal(FG_SUITE_GM, key, nonce, NULL, 0, one,
                                  (size_t)FG_AEAD_PLAINTEXT_MAX + 1, one, tag),
                     FG_ERR_LIMIT);
    assert_int_equal(fg_aead_open(FG_SUITE_INTL, key, nonce, NULL, 0, one,
                                  (size_t)FG_AEAD_PLAINTEXT_MAX + 1, tag, one),
                     FG_ERR_LIMIT);
}

static void *aead_worker(void *arg)
{
    enum fg_suite suite = *(const enum fg_suite *)arg;
    uint8_t key[FG_AEAD_KEY_LEN], nonce[FG_AEAD_NONCE_MAX], tag[FG_AEAD_TAG_LEN];
    uint8_t pt[300], ct[300], back[300];
    for (int i = 0; i < 200; i++) {
        size_t n = (size_t)(i * 37) % sizeof pt;
        if (fg_random(key, sizeof key) != FG_OK || fg_random(nonce, sizeof nonce) != FG_OK ||
            fg_random(pt, n) != FG_OK ||
            fg_aead_seal(suite, key, nonce, &i, sizeof i, pt, n, ct, tag) != FG_OK ||
            fg_aead_open(suite, key, nonce, &i, sizeof i, ct, n, tag, back) != FG_OK ||
            memcmp(back, pt, n) != 0)
            return (void *)1;
        tag[i % FG_AEAD_TAG_LEN] ^= 0x10;
        if (fg_aead_open(suite, key, nonce, &i, sizeof i, ct, n, tag, back) != FG_ERR_CRYPTO)
            return (void *)1;
    }
    return NULL;
}

/* The fetched ciphers and MACs are shared by every thread. */
static void test_concurrent(void **state)
{
    (void)state;
    enum { THREADS = 6 };
    static const enum fg_suite suites[2] = {FG_SUITE_INTL, FG_SUITE_GM};
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, aead_worker, (void *)&suites[i % 2]), 0);
    for (int i = 0; i < THREADS; i++) {
        void *result = (void *)1;
        assert_int_equal(pthread_join(threads[i], &result), 0);
        assert_null(result);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcm_mcgrew_viega),
        cmocka_unit_test(test_sm4_gbt32907),
        cmocka_unit_test(test_sm4_ctr_draft_ribose),
        cmocka_unit_test(test_gm_fixed_vector),
        cmocka_unit_test(test_nonce_lengths),
        cmocka_unit_test(test_tamper_intl),
        cmocka_unit_test(test_tamper_gm),
        cmocka_unit_test(test_gm_aad_boundary),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_suites_distinct),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
