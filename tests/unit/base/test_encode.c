/*
 * test_encode.c — hex and base64url: the RFC 4648 §10 vectors (base64 ones in the
 * url-safe alphabet without padding, base16 ones in both cases), every byte value, strict
 * rejection of anything non-canonical, buffer limits, and wiping on failure.
 */
#include "testutil.h"

#include <stdint.h>
#include <string.h>

#include "base/encode.h"

static const struct {
    const char *raw;
    const char *hex;       /* RFC 4648 §10 BASE16, lowercased (our output) */
    const char *hex_upper; /* as printed in the RFC */
    const char *b64url;    /* RFC 4648 §10 BASE64 without the "=" padding */
} rfc4648[] = {
    {"", "", "", ""},
    {"f", "66", "66", "Zg"},
    {"fo", "666f", "666F", "Zm8"},
    {"foo", "666f6f", "666F6F", "Zm9v"},
    {"foob", "666f6f62", "666F6F62", "Zm9vYg"},
    {"fooba", "666f6f6261", "666F6F6261", "Zm9vYmE"},
    {"foobar", "666f6f626172", "666F6F626172", "Zm9vYmFy"},
};

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        const char *raw = rfc4648[i].raw;
        size_t n = strlen(raw);
        char text[32];
        uint8_t bytes[32];
        size_t len = 99;

        assert_int_equal(fg_hex_encode(raw, n, text, sizeof text), FG_OK);
        assert_string_equal(text, rfc4648[i].hex);
        assert_int_equal(strlen(text), FG_HEX_LEN(n));
        assert_int_equal(
            fg_hex_decode(rfc4648[i].hex, strlen(rfc4648[i].hex), bytes, sizeof bytes, &len),
            FG_OK);
        assert_int_equal(len, n);
        assert_memory_equal(bytes, raw, n);
        assert_int_equal(fg_hex_decode(rfc4648[i].hex_upper, strlen(rfc4648[i].hex_upper), bytes,
                                       sizeof bytes, &len),
                         FG_OK);
        assert_int_equal(len, n);
        assert_memory_equal(bytes, raw, n);

        assert_int_equal(fg_base64url_encode(raw, n, text, sizeof text), FG_OK);
        assert_string_equal(text, rfc4648[i].b64url);
        assert_int_equal(strlen(text), FG_BASE64URL_LEN(n));
        assert_int_equal(fg_base64url_decode(rfc4648[i].b64url, strlen(rfc4648[i].b64url), bytes,
                                             sizeof bytes, &len),
                         FG_OK);
        assert_int_equal(len, n);
        assert_int_equal(FG_BASE64URL_DECODED_MAX(strlen(rfc4648[i].b64url)), n);
        assert_memory_equal(bytes, raw, n);
    }
}

/* The two characters that differ from standard base64 ('+' '/' become '-' '_'). */
static void test_url_alphabet(void **state)
{
    (void)state;
    static const uint8_t raw[] = {0xfb, 0xff, 0xbf};
    char text[8];
    assert_int_equal(fg_base64url_encode(raw, sizeof raw, text, sizeof text), FG_OK);
    assert_string_equal(text, "-_-_");
    uint8_t back[3];
    size_t len = 0;
    assert_int_equal(fg_base64url_decode("-_-_", 4, back, sizeof back, &len), FG_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(back, raw, 3);
    assert_int_equal(fg_base64url_decode("+/+/", 4, back, sizeof back, &len), FG_ERR_INVALID);
}

/* Every byte value, at every position of a 3-byte group, round-trips through both. */
static void test_all_bytes_round_trip(void **state)
{
    (void)state;
    uint8_t raw[256 + 2];
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (uint8_t)i;
    for (size_t off = 0; off < 3; off++) {
        size_t n = 256;
        char hex[FG_HEX_LEN(256) + 1], b64[FG_BASE64URL_LEN(256) + 1];
        uint8_t back[256];
        size_t len = 0;
        assert_int_equal(fg_hex_encode(raw + off, n, hex, sizeof hex), FG_OK);
        assert_int_equal(fg_hex_decode(hex, strlen(hex), back, sizeof back, &len), FG_OK);
        assert_int_equal(len, n);
        assert_memory_equal(back, raw + off, n);
        assert_int_equal(fg_base64url_encode(raw + off, n, b64, sizeof b64), FG_OK);
        assert_int_equal(fg_base64url_decode(b64, strlen(b64), back, sizeof back, &len), FG_OK);
        assert_int_equal(len, n);
        assert_memory_equal(back, raw + off, n);
    }
    /* every hex digit pair in both cases */
    for (unsigned v = 0; v < 256; v++) {
        static const char digits_lower[] = "0123456789abcdef";
        static const char digits_upper[] = "0123456789ABCDEF";
        char t[2] = {digits_lower[v >> 4], digits_upper[v & 15]};
        uint8_t b = 0;
        size_t len = 0;
        assert_int_equal(fg_hex_decode(t, 2, &b, 1, &len), FG_OK);
        assert_int_equal(b, v);
    }
}

static void test_hex_rejects(void **state)
{
    (void)state;
    static const char *bad[] = {"0",  "abc", "0g", "g0", "0x00", " 00", "00 ",
                                "0:", "/0",  "@0", "`0", "0G",   "-1"};
    uint8_t out[8];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = 99;
        assert_int_equal(fg_hex_decode(bad[i], strlen(bad[i]), out, sizeof out, &len),
                         FG_ERR_INVALID);
        assert_int_equal(len, 0);
    }
    /* an embedded NUL or a high byte is just an invalid character */
    size_t len = 0;
    assert_int_equal(fg_hex_decode("0\0", 2, out, sizeof out, &len), FG_ERR_INVALID);
    assert_int_equal(fg_hex_decode("\xc3\xa4", 2, out, sizeof out, &len), FG_ERR_INVALID);
}

static void test_base64url_rejects(void **state)
{
    (void)state;
    static const char *bad[] = {
        "Z",        /* 4k+1 characters cannot be */
        "Zm9vY",    /* ditto */
        "Zg==",     /* padding */
        "Zm8=",     /* padding */
        "Zh",       /* non-zero trailing bits: "Zg" is the only spelling of "f" */
        "Zm9",      /* ditto for "fo" ("Zm8") */
        "Zm9v\n",   /* whitespace */
        "Zm 9v",    /* whitespace */
        "Zm9v+g",   /* standard alphabet */
        "Zm9v/g",   /* standard alphabet */
        "Zm9v.g",   /* not in any alphabet */
        "Zm9v\x80g" /* high byte */
    };
    uint8_t out[16];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = 99;
        if (fg_base64url_decode(bad[i], strlen(bad[i]), out, sizeof out, &len) != FG_ERR_INVALID)
            fail_msg("accepted: \"%s\"", bad[i]);
        assert_int_equal(len, 0);
    }
}

static void test_limits(void **state)
{
    (void)state;
    char text[9];
    uint8_t out[6];
    size_t len = 99;
    /* encoders need room for the NUL */
    assert_int_equal(fg_hex_encode("abcd", 4, text, 8), FG_ERR_LIMIT);
    assert_int_equal(fg_hex_encode("abcd", 4, text, 9), FG_OK);
    assert_int_equal(fg_base64url_encode("foobar", 6, text, 8), FG_ERR_LIMIT);
    assert_int_equal(fg_base64url_encode("foobar", 6, text, 9), FG_OK);
    assert_int_equal(fg_hex_encode("", 0, text, 0), FG_ERR_LIMIT);
    assert_int_equal(fg_hex_encode("", 0, text, 1), FG_OK);
    assert_string_equal(text, "");
    /* decoders need room for every byte, and write nothing otherwise */
    memset(out, 0xee, sizeof out);
    assert_int_equal(fg_base64url_decode("Zm9vYmFy", 8, out, 5, &len), FG_ERR_LIMIT);
    assert_int_equal(len, 0);
    assert_int_equal(out[0], 0xee);
    assert_int_equal(fg_hex_decode("666f6f626172", 12, out, 5, &len), FG_ERR_LIMIT);
    assert_int_equal(out[0], 0xee);
    assert_int_equal(fg_base64url_decode("Zm9vYmFy", 8, out, 6, &len), FG_OK);
    assert_int_equal(len, 6);
    /* an empty input needs no buffer at all */
    assert_int_equal(fg_hex_decode("", 0, NULL, 0, &len), FG_OK);
    assert_int_equal(len, 0);
    assert_int_equal(fg_base64url_decode("", 0, NULL, 0, &len), FG_OK);
    /* a length whose encoding would not fit in size_t */
    assert_int_equal(fg_hex_encode("x", SIZE_MAX / 2 + 1, text, sizeof text), FG_ERR_LIMIT);
    assert_int_equal(fg_base64url_encode("x", SIZE_MAX - 2, text, sizeof text), FG_ERR_LIMIT);
}

/* A decode that fails half-way leaves no decoded byte behind (it may have been a key). */
static void test_wiped_on_failure(void **state)
{
    (void)state;
    uint8_t out[12];
    size_t len = 0;
    memset(out, 0xee, sizeof out);
    assert_int_equal(fg_hex_decode("73656372657421!!", 16, out, sizeof out, &len), FG_ERR_INVALID);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(out[i], 0);
    assert_int_equal(out[8], 0xee); /* beyond the decoded length: untouched */
    memset(out, 0xee, sizeof out);
    assert_int_equal(fg_base64url_decode("c2VjcmV0IQ.", 11, out, sizeof out, &len), FG_ERR_INVALID);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(out[i], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_url_alphabet),
        cmocka_unit_test(test_all_bytes_round_trip),
        cmocka_unit_test(test_hex_rejects),
        cmocka_unit_test(test_base64url_rejects),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_wiped_on_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
