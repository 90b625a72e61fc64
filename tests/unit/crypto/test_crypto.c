/*
 * test_crypto.c — crypto.c: initialisation, suites, randomness and memory helpers, and
 * known-answer tests for the hashes, HMACs and HKDF of both suites.
 *
 * Every vector below is published, except where a comment says otherwise:
 *   SHA-256      FIPS 180-4 examples ("abc", the 448-bit two-block message)
 *   SM3          GB/T 32905-2016 Appendix A ("abc", "abcd" × 16)
 *   HMAC-SHA-256 RFC 4231 test cases 1–4, 6, 7
 *   HMAC-SM3     GM/T 0042-2015 Appendix D.3, cases 1–4 (also checked with `openssl mac`)
 *   HKDF-SHA-256 RFC 5869 test cases 1–3
 * A swapped algorithm (SHA-256 for SM3, a different HMAC or HKDF digest) fails them.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "base/encode.h"
#include "crypto/crypto.h"

#define HEX_MAX 256

/* Hex string → bytes; returns the length. Test vectors are written in hex. */
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

static void *init_thread(void *arg)
{
    fg_rc *rc = arg;
    *rc = fg_crypto_init();
    return NULL;
}

/* Runs first: concurrent first calls all succeed, later calls too. */
static void test_init_concurrent_idempotent(void **state)
{
    (void)state;
    enum { THREADS = 8 };
    pthread_t threads[THREADS];
    fg_rc rcs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        rcs[i] = FG_ERR_INTERNAL;
        assert_int_equal(pthread_create(&threads[i], NULL, init_thread, &rcs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(rcs[i], FG_OK);
    }
    assert_int_equal(fg_crypto_init(), FG_OK);
    assert_int_equal(fg_crypto_init(), FG_OK);
}

static void test_suites(void **state)
{
    (void)state;
    enum fg_suite s = 0;
    assert_int_equal(fg_suite_parse("intl", &s), FG_OK);
    assert_int_equal(s, FG_SUITE_INTL);
    assert_int_equal(fg_suite_parse("gm", &s), FG_OK);
    assert_int_equal(s, FG_SUITE_GM);
    assert_int_equal(fg_suite_parse("GM", &s), FG_ERR_INVALID);
    assert_int_equal(fg_suite_parse("", &s), FG_ERR_INVALID);
    assert_int_equal(fg_suite_parse("intl ", &s), FG_ERR_INVALID);
    assert_string_equal(fg_suite_name(FG_SUITE_INTL), "intl");
    assert_string_equal(fg_suite_name(FG_SUITE_GM), "gm");
    assert_int_equal(fg_suite_hash(FG_SUITE_INTL), FG_HASH_SHA256);
    assert_int_equal(fg_suite_hash(FG_SUITE_GM), FG_HASH_SM3);
}

static void test_random_wipe_compare(void **state)
{
    (void)state;
    assert_int_equal(fg_crypto_init(), FG_OK);
    uint8_t a[32] = {0};
    uint8_t b[32] = {0};
    assert_int_equal(fg_random(a, sizeof a), FG_OK);
    assert_int_equal(fg_random(b, sizeof b), FG_OK);
    assert_false(fg_ct_equal(a, b, sizeof a)); /* 2^-256 */
    assert_int_equal(fg_random(NULL, 0), FG_OK);

    memcpy(b, a, sizeof a);
    assert_true(fg_ct_equal(a, b, sizeof a));
    for (size_t i = 0; i < sizeof a; i++) { /* a difference anywhere counts */
        b[i] ^= 0x80;
        assert_false(fg_ct_equal(a, b, sizeof a));
        b[i] ^= 0x80;
    }
    assert_true(fg_ct_equal(a, b, 0));

    fg_wipe(a, sizeof a);
    static const uint8_t zero[32];
    assert_memory_equal(a, zero, sizeof a);
    fg_wipe(NULL, 0);
}

static void test_secure_memory(void **state)
{
    (void)state;
    assert_int_equal(fg_crypto_init(), FG_OK);
    uint8_t *p = fg_secure_alloc(FG_AEAD_KEY_LEN);
    assert_non_null(p);
    memset(p, 0xa5, FG_AEAD_KEY_LEN); /* writable up to its size */
    assert_int_equal(p[FG_AEAD_KEY_LEN - 1], 0xa5);
    fg_secure_free(p);
    fg_secure_free(NULL);
}

static void test_sha256_kat(void **state)
{
    (void)state;
    assert_int_equal(fg_crypto_init(), FG_OK);
    uint8_t out[FG_HASH_LEN];
    assert_int_equal(fg_hash(FG_HASH_SHA256, "abc", 3, out), FG_OK);
    assert_hex_equal(out, sizeof out,
                     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_int_equal(strlen(m448), 56);
    assert_int_equal(fg_hash(FG_HASH_SHA256, m448, strlen(m448), out), FG_OK);
    assert_hex_equal(out, sizeof out,
                     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    assert_int_equal(fg_hash(FG_HASH_SHA256, NULL, 0, out), FG_OK);
    assert_hex_equal(out, sizeof out,
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_sm3_kat(void **state)
{
    (void)state;
    assert_int_equal(fg_crypto_init(), FG_OK);
    uint8_t out[FG_HASH_LEN];
    assert_int_equal(fg_hash(FG_HASH_SM3, "abc", 3, out), FG_OK);
    assert_hex_equal(out, sizeof out,
                     "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    char m512[65];
    for (int i = 0; i < 16; i++)
        memcpy(m512 + 4 * i, "abcd", 4);
    assert_int_equal(fg_hash(FG_HASH_SM3, m512, 64, out), FG_OK);
    assert_hex_equal(out, sizeof out,
                     "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
}

struct hmac_vector {
    const char *key_hex;
    const char *data_hex;
    const char *mac_hex;
};

static void check_hmac(enum fg_hash_alg alg, const struct hmac_vector *v)
{
    uint8_t key[HEX_MAX];
    uint8_t data[HEX_MAX];
    uint8_t out[FG_HASH_LEN];
    size_t key_len = unhex(v->key_hex, key, sizeof key);
    size_t data_len = unhex(v->data_hex, data, sizeof data);
    assert_int_equal(fg_hmac(alg, key, key_len, data, data_len, out), FG_OK);
    assert_hex_equal(out, sizeof out, v->mac_hex);

    /* incremental, split at every position, gives the same MAC */
    for (size_t split = 0; split <= data_len; split++) {
        struct fg_hmac_ctx *ctx = NULL;
        assert_int_equal(fg_hmac_begin(alg, key, key_len, &ctx), FG_OK);
        assert_int_equal(fg_hmac_update(ctx, data, split), FG_OK);
        assert_int_equal(fg_hmac_update(ctx, data + split, data_len - split), FG_OK);
        uint8_t inc[FG_HASH_LEN];
        assert_int_equal(fg_hmac_end(ctx, inc), FG_OK);
        assert_memory_equal(inc, out, sizeof out);
    }
}

static void test_hmac_sha256_rfc4231(void **state)
{
    (void)state;
    assert_int_equal(fg_crypto_init(), FG_OK);
    static const struct hmac_vector vectors[] = {
        {/* 1 */ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {/* 2 */ "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {/* 3 */ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
         "dddddddddddddddddd",
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {/* 4 */ "0102030405060708090a0b0c0d0e0f10111213141516171819",
         "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
         "cdcdcdcdcdcdcdcdcd",
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {/* 6: a 131-byte key is hashed first */
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaa", /* 131 bytes */
         "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048"
         "617368204b6579204669727374",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {/* 7: large key and large data */
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaa", /* 131 bytes */
         "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d"
         "73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174"
         "612e20546865206b6579206e6565647320746f20626520686173686564206265666f7265206265696e"
         "6720757365642062792074686520484d414320616c676f726974686d2e",
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
        check_hmac(FG_HASH_SHA256, &vectors[i]);
}

static void test_hmac_sm3_gmt0042(void **state)
{
    (void)state;
    assert_int_equal(fg_crypto_init(), FG_OK);
    static const struct hmac_vector vectors[] = {
        {/* 1: "abcdbcde…nopq" twice, 32-byte key */
         "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
         "6162636462636465636465666465666765666768666768696768696a68696a6b696a6b6c6a6b6c6d"
         "6b6c6d6e6c6d6e6f6d6e6f706e6f70716162636462636465636465666465666765666768666768696768"
         "696a68696a6b696a6b6c6a6b6c6d6b6c6d6e6c6d6e6f6d6e6f706e6f7071",
         "ca05e144ed05d1857840d1f318a4a8669e559fc8391f414485bfdf7bb408963a"},
        {/* 2: 50 × 0xcd, 37-byte key */
         "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425",
         "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
         "cdcdcdcdcdcdcdcdcd",
         "220bf579ded555393f0159f66c99877822a3ecf610d1552154b41d44b94db3ae"},
        {/* 3: "Hi There", 32 × 0x0b */
         "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
         "c0ba18c68b90c88bc07de794bfc7d2c8d19ec31ed8773bc2b390c9604e0be11e"},
        {/* 4: "what do ya want for nothing?", "Jefe" */
         "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
         "2e87f1d16862e6d964b50a5200bf2b10b764faa9680a296a2405f24bec39f882"},
    };
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
        check_hmac(FG_HASH_SM3, &vectors[i]);
}

static void test_hmac_edges(void **state)
{
    (void)state;
    assert_int_equal(fg_crypto_init(), FG_OK);
    uint8_t a[FG_HASH_LEN];
    uint8_t b[FG_HASH_LEN];
    /* an empty key is valid: HMAC pads keys with zeros (RFC 2104), so "" and "\0" agree */
    assert_int_equal(fg_hmac(FG_HASH_SHA256, NULL, 0, "x", 1, a), FG_OK);
    assert_int_equal(fg_hmac(FG_HASH_SHA256, "\0", 1, "x", 1, b), FG_OK);
    assert_memory_equal(a, b, sizeof a);
    /* the suites differ on the same input */
    assert_int_equal(fg_hmac(FG_HASH_SM3, NULL, 0, "x", 1, b), FG_OK);
    assert_memory_not_equal(a, b, sizeof a);
    /* aborting a started MAC frees it (ASan's leak check watches) */
    struct fg_hmac_ctx *ctx = NULL;
    assert_int_equal(fg_hmac_begin(FG_HASH_SM3, "k", 1, &ctx), FG_OK);
    assert_int_equal(fg_hmac_update(ctx, "data", 4), FG_OK);
    fg_hmac_abort(ctx);
    fg_hmac_abort(NULL);
}

struct hkdf_vector {
    const char *ikm_hex;
    const char *salt_hex;
    const char *info_hex;
    const char *okm_hex;
};

static void test_hkdf_sha256_rfc5869(void **state)
{
    (void)state;
    assert_int_equal(fg_crypto_init(), FG_OK);
    static const struct hkdf_vector vectors[] = {
        {/* 1 */ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
         "f0f1f2f3f4f5f6f7f8f9",
         "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
        {/* 2: long inputs */
         "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627"
         "28292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f",
         "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f8081828384858687"
         "88898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
         "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7"
         "d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
         "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac78272"
         "71cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f"
         "1d87"},
        {/* 3: empty salt and info */ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
         "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
    };
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const struct hkdf_vector *v = &vectors[i];
        uint8_t ikm[HEX_MAX], salt[HEX_MAX], info[HEX_MAX], okm[HEX_MAX];
        size_t ikm_len = unhex(v->ikm_hex, ikm, sizeof ikm);
        size_t salt_len = unhex(v->salt_hex, salt, sizeof salt);
        size_t info_len = unhex(v->info_hex, info, sizeof info);
        size_t okm_len = strlen(v->okm_hex) / 2;
        assert_int_equal(
            fg_hkdf(FG_HASH_SHA256, salt, salt_len, ikm, ikm_len, info, info_len, okm, okm_len),
            FG_OK);
        assert_hex_equal(okm, okm_len, v->okm_hex);
    }
}

static void test_hkdf_sm3_and_limits(void **state)
{
    (void)state;
    assert_int_equal(fg_crypto_init(), FG_OK);
    /* SELF-COMPUTED: no published HKDF-SM3 vector was found. RFC 5869 case 1's inputs
     * with SM3, computed once with Python's cryptography (HKDF(SM3())) and with
     * `openssl kdf -kdfopt digest:SM3 ... HKDF`, which agree. It pins HKDF-SM3, which the
     * gm AEAD derives its keys with. */
    uint8_t ikm[22];
    memset(ikm, 0x0b, sizeof ikm);
    uint8_t salt[13];
    for (size_t i = 0; i < sizeof salt; i++)
        salt[i] = (uint8_t)i;
    uint8_t info[10];
    for (size_t i = 0; i < sizeof info; i++)
        info[i] = (uint8_t)(0xf0 + i);
    uint8_t okm[42];
    assert_int_equal(fg_hkdf(FG_HASH_SM3, salt, sizeof salt, ikm, sizeof ikm, info, sizeof info,
                             okm, sizeof okm),
                     FG_OK);
    assert_hex_equal(okm, sizeof okm,
                     "c69fe91b7aaee2dd5718d72dcaee0cce93f1b8e41f792da51261b6a517e68b36"
                     "ed2c595572b01dfa359b");

    uint8_t big[FG_CRYPTO_HKDF_OUT_MAX + 1];
    assert_int_equal(
        fg_hkdf(FG_HASH_SM3, NULL, 0, ikm, sizeof ikm, NULL, 0, big, FG_CRYPTO_HKDF_OUT_MAX),
        FG_OK);
    memset(big, 0x55, sizeof big);
    assert_int_equal(fg_hkdf(FG_HASH_SM3, NULL, 0, ikm, sizeof ikm, NULL, 0, big, sizeof big),
                     FG_ERR_INVALID);
    assert_int_equal(fg_hkdf(FG_HASH_SHA256, NULL, 0, ikm, sizeof ikm, NULL, 0, big, 0),
                     FG_ERR_INVALID);
    static uint8_t long_info[FG_CRYPTO_HKDF_INFO_MAX + 1];
    assert_int_equal(fg_hkdf(FG_HASH_SHA256, NULL, 0, ikm, sizeof ikm, long_info,
                             FG_CRYPTO_HKDF_INFO_MAX, okm, sizeof okm),
                     FG_OK);
    assert_int_equal(fg_hkdf(FG_HASH_SHA256, NULL, 0, ikm, sizeof ikm, long_info, sizeof long_info,
                             okm, sizeof okm),
                     FG_ERR_LIMIT);
}

/* SipHash-2-4 (Aumasson & Bernstein, appendix A; reference vectors.h): key 00..0f. */
static void test_shorthash_siphash24(void **state)
{
    (void)state;
    uint8_t key[FG_SHORTHASH_KEY_LEN], msg[15];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    uint8_t out[8];
    uint64_t h = fg_shorthash(key, msg, 15); /* paper: a129ca6149be45e5 */
    memcpy(out, &h, 8);
    const uint8_t want15[8] = {0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1};
    assert_memory_equal(out, want15, 8);
    h = fg_shorthash(key, msg, 0); /* vectors.h[0] */
    memcpy(out, &h, 8);
    const uint8_t want0[8] = {0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72};
    assert_memory_equal(out, want0, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_concurrent_idempotent),
        cmocka_unit_test(test_suites),
        cmocka_unit_test(test_random_wipe_compare),
        cmocka_unit_test(test_secure_memory),
        cmocka_unit_test(test_sha256_kat),
        cmocka_unit_test(test_sm3_kat),
        cmocka_unit_test(test_hmac_sha256_rfc4231),
        cmocka_unit_test(test_hmac_sm3_gmt0042),
        cmocka_unit_test(test_hmac_edges),
        cmocka_unit_test(test_hkdf_sha256_rfc5869),
        cmocka_unit_test(test_hkdf_sm3_and_limits),
        cmocka_unit_test(test_shorthash_siphash24),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
