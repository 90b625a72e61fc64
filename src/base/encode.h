/*
 * encode.h — hex and base64url (RFC 4648 §5), both directions, into caller buffers.
 *
 * Encoders write lowercase hex / unpadded base64url followed by a NUL, so out_size must be
 * at least FG_HEX_LEN(n) + 1 or FG_BASE64URL_LEN(n) + 1. Decoders are strict, so every
 * accepted text has exactly one meaning:
 *   hex        an even number of [0-9a-fA-F]; nothing else (no spaces, no "0x");
 *   base64url  [A-Za-z0-9_-] only, no padding, no whitespace; a length of 4k+1 is refused,
 *              and so are unused trailing bits that are not zero ("Zh" — only "Zg" decodes
 *              to "f"), which makes encode(decode(s)) == s for every accepted s.
 * Decoders do not NUL-terminate: they write bytes and their count.
 *
 * Errors: FG_ERR_INVALID for malformed input (checked first for the length, after the
 * buffer size for the characters), FG_ERR_LIMIT when out is too small for the result.
 * On any error *out_len is 0 and every byte the decoder had written is zeroed, so a
 * half-decoded secret never stays behind. Character classification has no branches or
 * table look-ups on the data (decoded text is often a key or a token).
 */
#ifndef FG_BASE_ENCODE_H
#define FG_BASE_ENCODE_H

#include <stddef.h>

#include "base/rc.h"

/* Characters for n bytes, without the NUL. The macros do not check for overflow; the
 * functions do (FG_ERR_LIMIT). */
#define FG_HEX_LEN(n) (2 * (n))
#define FG_BASE64URL_LEN(n) (((n) / 3) * 4 + ((n) % 3 == 0 ? 0 : (n) % 3 + 1))
/* Bytes that n characters decode to at most (exactly, when the input is valid). */
#define FG_HEX_DECODED_MAX(n) ((n) / 2)
#define FG_BASE64URL_DECODED_MAX(n) (((n) / 4) * 3 + ((n) % 4 > 1 ? (n) % 4 - 1 : 0))

FG_MUST_CHECK fg_rc fg_hex_encode(const void *in, size_t n, char *out, size_t out_size);
FG_MUST_CHECK fg_rc fg_hex_decode(const char *in, size_t n, void *out, size_t out_size,
                                  size_t *out_len);

FG_MUST_CHECK fg_rc fg_base64url_encode(const void *in, size_t n, char *out, size_t out_size);
FG_MUST_CHECK fg_rc fg_base64url_decode(const char *in, size_t n, void *out, size_t out_size,
                                        size_t *out_len);

#endif
