/*
 * fuzz_encode.c — hex and base64url decoders on arbitrary bytes, and both encoders.
 *
 * Invariants: a decoder reads only [data, data + size) and writes only the bytes it
 * reports; an accepted input is canonical, so encoding the result gives the input back
 * (exactly for base64url, lowercased for hex); a rejected input leaves the output zeroed;
 * a buffer one byte short gives FG_ERR_LIMIT. For the input taken as raw bytes:
 * decode(encode(x)) == x for both codecs, with the lengths the macros promise.
 */
#include <string.h>

#include "fuzz.h"

#include "base/encode.h"

typedef fg_rc (*decode_fn)(const char *in, size_t n, void *out, size_t out_size, size_t *out_len);
typedef fg_rc (*encode_fn)(const void *in, size_t n, char *out, size_t out_size);

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Decodes data as text; if accepted, re-encodes and compares with the input. */
static void check_decode(const uint8_t *data, size_t size, decode_fn decode, encode_fn encode,
                         size_t max, int lowercase)
{
    uint8_t *out = malloc(max + 1);
    FUZZ_CHECK(out != NULL);
    memset(out, 0xa5, max + 1);
    size_t len = 99;
    fg_rc rc = decode((const char *)data, size, out, max, &len);
    FUZZ_CHECK(rc == FG_OK || rc == FG_ERR_INVALID);
    FUZZ_CHECK(out[max] == 0xa5); /* nothing past the buffer */
    if (rc != FG_OK) {
        FUZZ_CHECK(len == 0);
        for (size_t i = 0; i < max; i++) /* wiped, or never written (invalid length) */
            FUZZ_CHECK(out[i] == 0 || out[i] == 0xa5);
        free(out);
        return;
    }
    FUZZ_CHECK(len == max);
    if (len > 0) {
        size_t short_len = 99;
        FUZZ_CHECK(decode((const char *)data, size, out, len - 1, &short_len) == FG_ERR_LIMIT);
        FUZZ_CHECK(short_len == 0);
    }
    char *text = malloc(size + 1);
    FUZZ_CHECK(text != NULL);
    FUZZ_CHECK(encode(out, len, text, size + 1) == FG_OK);
    FUZZ_CHECK(strlen(text) == size);
    for (size_t i = 0; i < size; i++)
        FUZZ_CHECK(text[i] == (lowercase ? lower((char)data[i]) : (char)data[i]));
    free(text);
    free(out);
}

/* Encodes data as bytes, checks the length, decodes back. */
static void check_round_trip(const uint8_t *data, size_t size, decode_fn decode, encode_fn encode,
                             size_t text_len)
{
    char *text = malloc(text_len + 1);
    uint8_t *back = malloc(size + 1);
    FUZZ_CHECK(text != NULL && back != NULL);
    FUZZ_CHECK(encode(data, size, text, text_len) == FG_ERR_LIMIT); /* no room for NUL */
    FUZZ_CHECK(encode(data, size, text, text_len + 1) == FG_OK);
    FUZZ_CHECK(strlen(text) == text_len);
    size_t len = 99;
    FUZZ_CHECK(decode(text, text_len, back, size, &len) == FG_OK);
    FUZZ_CHECK(len == size);
    FUZZ_CHECK(size == 0 || memcmp(back, data, size) == 0);
    free(back);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_decode(data, size, fg_hex_decode, fg_hex_encode, FG_HEX_DECODED_MAX(size), 1);
    check_decode(data, size, fg_base64url_decode, fg_base64url_encode,
                 FG_BASE64URL_DECODED_MAX(size), 0);
    check_round_trip(data, size, fg_hex_decode, fg_hex_encode, FG_HEX_LEN(size));
    check_round_trip(data, size, fg_base64url_decode, fg_base64url_encode, FG_BASE64URL_LEN(size));
    return 0;
}
