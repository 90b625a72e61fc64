/*
 * shares.h — unseal shares: Shamir splitting of the root key (libgfshare, GF(256)) and the
 * text form custodians hold. Internal to keys/ (and its tests and fuzz target); services
 * never see a share.
 *
 * Text form (docs/keys.md), one line of ASCII:
 *
 *     fg1-<index>-<data>-<checksum>
 *     fg1-37-oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8-557f5c3c
 *
 *   fg1       format version 1 (lowercase, literal)
 *   index     the share's x coordinate, decimal 1..255, no leading zeros
 *   data      the 32 share bytes, base64url without padding (exactly 43 characters)
 *   checksum  CRC-32 (IEEE 802.3, as zlib) over index byte ‖ 32 data bytes, as 8 hex digits
 *             (lowercase written, either case read)
 *
 * The checksum catches typing errors (every single-character error, every burst up to 32
 * bits) so a mistyped share is reported as mistyped instead of as "wrong share". It is not
 * a security mechanism: whether a well-formed share belongs to this instance is checked
 * with the per-share verifier (fg_share_verifier, salted HMAC stored at initialisation),
 * and whether a set of shares reconstructs the root with the root verifier (keys.c).
 *
 * A struct fg_share holds secret bytes: keep it in fg_secure_alloc memory and fg_wipe it.
 * Every function is thread-safe and keeps no state.
 */
#ifndef FG_KEYS_SHARES_H
#define FG_KEYS_SHARES_H

#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "base/rc.h"
#include "crypto/crypto.h"

#define FG_SHARE_LEN 32u      /* bytes of one share = bytes of the root key */
#define FG_SHARE_SALT_LEN 16u /* salt of a per-share verifier */
/* "fg1-" + "255" + "-" + 43 + "-" + 8 = 60 characters, plus NUL, rounded up. */
#define FG_SHARE_TEXT_MAX 64u

struct fg_share {
    uint8_t index; /* x coordinate, 1..255 */
    uint8_t bytes[FG_SHARE_LEN];
};

/* Parse one share. Leading and trailing ASCII whitespace is ignored (custodians paste).
 * On failure returns FG_ERR_INVALID, *problem names what is wrong in words safe to show a
 * custodian and to log ("malformed share: ...", "share checksum mismatch (mistyped?)"),
 * and *out is wiped. Reads only text[0..len). */
FG_MUST_CHECK fg_rc fg_share_parse(const char *text, size_t len, struct fg_share *out,
                                   const char **problem);

/* Write the text form of s (NUL-terminated) into out. */
FG_MUST_CHECK fg_rc fg_share_format(const struct fg_share *s, char out[FG_SHARE_TEXT_MAX]);

/* Split secret into `count` shares with distinct random nonzero indexes, any `threshold`
 * of which reconstruct it (1 <= threshold <= count <= FG_KEYS_SHARES_MAX). out has count
 * entries. FG_ERR_CRYPTO if the random source failed (nothing usable is left in out). */
FG_MUST_CHECK fg_rc fg_share_split(const uint8_t secret[FG_SHARE_LEN], unsigned count,
                                   unsigned threshold, struct fg_share *out);

/* Interpolate the secret from `count` shares with distinct indexes. With fewer shares than
 * the threshold, or shares of different splits, the result is a wrong secret: callers
 * check it (the root verifier). */
FG_MUST_CHECK fg_rc fg_share_combine(const struct fg_share *shares, unsigned count,
                                     uint8_t secret[FG_SHARE_LEN]);

/* The per-share verifier: HMAC(alg, key = salt, "finguard share verifier v1" ‖ 0 ‖ index ‖
 * bytes). Shares carry 256 bits of entropy, so a salted MAC cannot be searched. */
FG_MUST_CHECK fg_rc fg_share_verifier(enum fg_hash_alg alg, const uint8_t salt[FG_SHARE_SALT_LEN],
                                      const struct fg_share *s, uint8_t out[FG_HASH_LEN]);

/* CRC-32 (IEEE 802.3 polynomial, reflected, init and final xor 0xffffffff), branch-free
 * on the data. Exposed for the known-answer test. */
uint32_t fg_share_crc32(const void *data, size_t len);

#endif
