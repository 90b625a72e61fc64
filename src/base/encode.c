/*
 * encode.c — hex and base64url (see encode.h).
 *
 * Every function first works out the exact output length with overflow-checked arithmetic
 * and compares it with the caller's buffer, so nothing is written when the buffer is too
 * small. Characters are mapped to values and back with mask arithmetic instead of
 * branches or lookup tables (the approach of libsodium's codecs): mask_lt() turns "a < b"
 * into all-ones or zero, and each character class contributes its value under its mask.
 * A decoder ORs every "not a valid character" mask and the unused trailing bits into one
 * accumulator and looks at it once, after the whole input, so its running time depends on
 * the length only. If the accumulator is non-zero the bytes written so far are wiped.
 */
#include "base/encode.h"

#include <assert.h>
#include <stdint.h>

#include <sodium.h>

/* All-ones when a < b, else zero; a and b are below 2^31 (here: bytes and small sums). */
static unsigned mask_lt(unsigned a, unsigned b)
{
    return 0u - ((a - b) >> 31);
}

static unsigned mask_ge(unsigned a, unsigned b)
{
    return ~mask_lt(a, b);
}

static unsigned mask_eq(unsigned a, unsigned b)
{
    return mask_lt(a ^ b, 1u);
}

/* 0..15 → '0'..'9', 'a'..'f'. */
static char hex_char(unsigned v)
{
    assert(v < 16);
    return (char)(v + '0' + (mask_ge(v, 10) & ('a' - '0' - 10)));
}

/* '0'..'9', 'a'..'f', 'A'..'F' → 0..15; *bad gets non-zero bits for anything else. */
static unsigned hex_value(unsigned char c, unsigned *bad)
{
    unsigned lower = (unsigned)c | 0x20u; /* 'A'..'F' → 'a'..'f'; digits keep their value */
    unsigned is_digit = mask_ge(c, '0') & mask_lt(c, '9' + 1);
    unsigned is_letter = mask_ge(lower, 'a') & mask_lt(lower, 'f' + 1);
    *bad |= ~(is_digit | is_letter);
    return ((is_digit & (c - '0')) | (is_letter & (lower - 'a' + 10))) & 0x0fu;
}

/* 0..63 → the RFC 4648 §5 alphabet. */
static char b64_char(unsigned v)
{
    assert(v < 64);
    unsigned c = (mask_lt(v, 26) & (v + 'A')) | (mask_ge(v, 26) & mask_lt(v, 52) & (v - 26 + 'a')) |
                 (mask_ge(v, 52) & mask_lt(v, 62) & (v - 52 + '0')) | (mask_eq(v, 62) & '-') |
                 (mask_eq(v, 63) & '_');
    return (char)c;
}

static unsigned b64_value(unsigned char c, unsigned *bad)
{
    unsigned is_upper = mask_ge(c, 'A') & mask_lt(c, 'Z' + 1);
    unsigned is_lower = mask_ge(c, 'a') & mask_lt(c, 'z' + 1);
    unsigned is_digit = mask_ge(c, '0') & mask_lt(c, '9' + 1);
    unsigned is_minus = mask_eq(c, '-');
    unsigned is_underscore = mask_eq(c, '_');
    *bad |= ~(is_upper | is_lower | is_digit | is_minus | is_underscore);
    unsigned v = (is_upper & (c - 'A')) | (is_lower & (c - 'a' + 26)) |
                 (is_digit & (c - '0' + 52)) | (is_minus & 62u) | (is_underscore & 63u);
    return v & 0x3fu;
}

fg_rc fg_hex_encode(const void *in, size_t n, char *out, size_t out_size)
{
    assert(in != NULL || n == 0);
    assert(out != NULL || out_size == 0);
    if (n > (SIZE_MAX - 1) / 2 || out_size < FG_HEX_LEN(n) + 1)
        return FG_ERR_LIMIT;
    const unsigned char *p = in;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex_char(p[i] >> 4);
        out[2 * i + 1] = hex_char(p[i] & 0x0fu);
    }
    out[FG_HEX_LEN(n)] = '\0';
    return FG_OK;
}

fg_rc fg_hex_decode(const char *in, size_t n, void *out, size_t out_size, size_t *out_len)
{
    assert(in != NULL || n == 0);
    assert(out != NULL || out_size == 0);
    assert(out_len != NULL);
    *out_len = 0;
    if (n % 2 != 0)
        return FG_ERR_INVALID;
    size_t len = FG_HEX_DECODED_MAX(n);
    if (len > out_size)
        return FG_ERR_LIMIT;
    unsigned char *o = out;
    unsigned bad = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned hi = hex_value((unsigned char)in[2 * i], &bad);
        unsigned lo = hex_value((unsigned char)in[2 * i + 1], &bad);
        o[i] = (unsigned char)((hi << 4) | lo);
    }
    if (bad != 0) {
        sodium_memzero(out, len);
        return FG_ERR_INVALID;
    }
    *out_len = len;
    return FG_OK;
}

fg_rc fg_base64url_encode(const void *in, size_t n, char *out, size_t out_size)
{
    assert(in != NULL || n == 0);
    assert(out != NULL || out_size == 0);
    /* groups * 4 + 3 (tail) + 1 (NUL) must not wrap */
    if (n / 3 > (SIZE_MAX - 4) / 4 || out_size < FG_BASE64URL_LEN(n) + 1)
        return FG_ERR_LIMIT;
    const unsigned char *p = in;
    size_t o = 0;
    size_t i = 0;
    for (; n - i >= 3; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = b64_char(v >> 18);
        out[o++] = b64_char((v >> 12) & 0x3fu);
        out[o++] = b64_char((v >> 6) & 0x3fu);
        out[o++] = b64_char(v & 0x3fu);
    }
    if (n - i == 1) {
        out[o++] = b64_char(p[i] >> 2);
        out[o++] = b64_char((p[i] & 0x03u) << 4);
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 8 | p[i + 1];
        out[o++] = b64_char(v >> 10);
        out[o++] = b64_char((v >> 4) & 0x3fu);
        out[o++] = b64_char((v & 0x0fu) << 2);
    }
    assert(o == FG_BASE64URL_LEN(n));
    out[o] = '\0';
    return FG_OK;
}

fg_rc fg_base64url_decode(const char *in, size_t n, void *out, size_t out_size, size_t *out_len)
{
    assert(in != NULL || n == 0);
    assert(out != NULL || out_size == 0);
    assert(out_len != NULL);
    *out_len = 0;
    if (n % 4 == 1) /* one character carries 6 bits: not even one byte */
        return FG_ERR_INVALID;
    size_t len = FG_BASE64URL_DECODED_MAX(n);
    if (len > out_size)
        return FG_ERR_LIMIT;
    const unsigned char *s = (const unsigned char *)in;
    unsigned char *o = out;
    unsigned bad = 0;
    size_t w = 0;
    size_t i = 0;
    for (; n - i >= 4; i += 4) {
        uint32_t v = b64_value(s[i], &bad) << 18 | b64_value(s[i + 1], &bad) << 12 |
                     b64_value(s[i + 2], &bad) << 6 | b64_value(s[i + 3], &bad);
        o[w++] = (unsigned char)(v >> 16);
        o[w++] = (unsigned char)(v >> 8);
        o[w++] = (unsigned char)v;
    }
    if (n - i == 2) {
        uint32_t v = b64_value(s[i], &bad) << 6 | b64_value(s[i + 1], &bad);
        o[w++] = (unsigned char)(v >> 4);
        bad |= v & 0x0fu; /* the 4 unused bits must be zero (canonical form) */
    } else if (n - i == 3) {
        uint32_t v = b64_value(s[i], &bad) << 12 | b64_value(s[i + 1], &bad) << 6 |
                     b64_value(s[i + 2], &bad);
        o[w++] = (unsigned char)(v >> 10);
        o[w++] = (unsigned char)(v >> 2);
        bad |= v & 0x03u;
    }
    assert(w == len);
    if (bad != 0) {
        sodium_memzero(out, len);
        return FG_ERR_INVALID;
    }
    *out_len = len;
    return FG_OK;
}
