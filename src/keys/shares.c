/*
 * shares.c — Shamir shares of the root key and their text form (see shares.h).
 *
 * Splitting and combining are libgfshare's (GF(256), one polynomial per secret byte). The
 * library draws its polynomial coefficients through the process-wide hook
 * gfshare_fill_rand, which is NULL until someone sets it; we install fg_random behind it
 * once (pthread_once) and record a failure of the random source in a thread-local flag,
 * because the hook cannot return an error: a split whose coefficients could not be drawn
 * is refused instead of handing out shares that would each equal the secret. The library
 * keeps its working copy (coefficients, shares) in malloc'd memory and overwrites it
 * through the same hook before freeing it; that copy is short-lived but not mlock'd — a
 * limitation documented in docs/keys.md.
 *
 * The parser works on (pointer, length) without ever reading past it (the fuzz target
 * fuzz/fuzz_share.c checks this under ASan). Because base64url's alphabet contains '-',
 * fields are found by their fixed lengths, not by splitting on '-': once the index is read
 * from the front, the whole length is known, which also lets a dropped or doubled
 * character be reported as exactly that.
 */
#include "keys/shares.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libgfshare.h>

#include "base/encode.h"
#include "base/limits.h"

#define SHARE_PREFIX "fg1-"
#define SHARE_PREFIX_LEN 4u
#define SHARE_DATA_CHARS FG_BASE64URL_LEN(FG_SHARE_LEN) /* 43 */
#define SHARE_CHECKSUM_BYTES 4u
#define SHARE_CHECKSUM_CHARS FG_HEX_LEN(SHARE_CHECKSUM_BYTES) /* 8 */
#define SHARE_INDEX_DIGITS_MAX 3u
/* Random bytes drawn per round when picking distinct nonzero indexes; rounds are bounded
 * (a healthy source needs one round for 16 indexes out of 255 with overwhelming odds). */
#define SHARE_INDEX_POOL 64u
#define SHARE_INDEX_ROUNDS 8u

static const char verifier_label[] = "finguard share verifier v1"; /* sizeof includes the NUL */

/* ---- the random hook for libgfshare --------------------------------------------------- */

static _Thread_local int rand_failed;
static pthread_once_t rand_once = PTHREAD_ONCE_INIT;

static void share_fill_rand(unsigned char *buf, unsigned int n)
{
    if (fg_random(buf, n) != FG_OK) {
        fg_wipe(buf, n);
        rand_failed = 1;
    }
}

static void rand_install(void)
{
    gfshare_fill_rand = share_fill_rand;
}

static void rand_ensure(void)
{
    int rc = pthread_once(&rand_once, rand_install);
    assert(rc == 0);
    (void)rc;
    assert(gfshare_fill_rand == share_fill_rand);
}

/* ---- CRC-32 ---------------------------------------------------------------------------- */

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
    assert(p != NULL || n == 0);
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u))); /* no branch on data */
    }
    return crc;
}

uint32_t fg_share_crc32(const void *data, size_t len)
{
    return ~crc32_update(0xffffffffu, data, len);
}

static void share_checksum(const struct fg_share *s, uint8_t out[SHARE_CHECKSUM_BYTES])
{
    uint32_t crc = crc32_update(0xffffffffu, &s->index, 1);
    crc = ~crc32_update(crc, s->bytes, FG_SHARE_LEN);
    out[0] = (uint8_t)(crc >> 24);
    out[1] = (uint8_t)(crc >> 16);
    out[2] = (uint8_t)(crc >> 8);
    out[3] = (uint8_t)crc;
}

/* ---- text form ---------------------------------------------------------------------------- */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static fg_rc parse_fail(struct fg_share *out, const char **problem, const char *why)
{
    fg_wipe(out, sizeof *out);
    *problem = why;
    return FG_ERR_INVALID;
}

/* Reads the index at p[0..n) up to its '-'; *used is the count of digits. */
static int parse_index(const char *p, size_t n, unsigned *index, size_t *used)
{
    size_t i = 0;
    unsigned v = 0;
    while (i < n && i <= SHARE_INDEX_DIGITS_MAX && p[i] >= '0' && p[i] <= '9') {
        v = v * 10u + (unsigned)(p[i] - '0');
        i++;
    }
    if (i == 0 || i > SHARE_INDEX_DIGITS_MAX || (i > 1 && p[0] == '0') || v == 0 || v > 255)
        return 0;
    if (i >= n || p[i] != '-')
        return 0;
    *index = v;
    *used = i;
    return 1;
}

fg_rc fg_share_parse(const char *text, size_t len, struct fg_share *out, const char **problem)
{
    assert(out != NULL && problem != NULL);
    assert(text != NULL || len == 0);
    *problem = NULL;
    fg_wipe(out, sizeof *out);
    if (len > FG_KEYS_SHARE_INPUT_MAX)
        return parse_fail(out, problem, "malformed share: far too long to be a share");
    size_t b = 0, e = len;
    while (b < e && is_space(text[b]))
        b++;
    while (e > b && is_space(text[e - 1]))
        e--;
    const char *p = text + b;
    size_t n = e - b;
    if (n == 0)
        return parse_fail(out, problem, "malformed share: empty");
    if (n < SHARE_PREFIX_LEN || memcmp(p, SHARE_PREFIX, SHARE_PREFIX_LEN) != 0) {
        if (n >= 3 && p[0] == 'f' && p[1] == 'g' && p[2] >= '2' && p[2] <= '9')
            return parse_fail(out, problem, "malformed share: unsupported format version");
        return parse_fail(out, problem, "malformed share: does not start with fg1-");
    }
    unsigned index = 0;
    size_t digits = 0;
    if (!parse_index(p + SHARE_PREFIX_LEN, n - SHARE_PREFIX_LEN, &index, &digits))
        return parse_fail(out, problem, "malformed share: index must be 1..255 followed by -");
    size_t data_at = SHARE_PREFIX_LEN + digits + 1;
    size_t sum_at = data_at + SHARE_DATA_CHARS + 1;
    if (n != sum_at + SHARE_CHECKSUM_CHARS)
        return parse_fail(out, problem,
                          "malformed share: wrong length (a character missing or extra?)");
    if (p[sum_at - 1] != '-')
        return parse_fail(out, problem, "malformed share: expected - before the checksum");
    size_t got = 0;
    if (fg_base64url_decode(p + data_at, SHARE_DATA_CHARS, out->bytes, FG_SHARE_LEN, &got) !=
            FG_OK ||
        got != FG_SHARE_LEN)
        return parse_fail(out, problem, "malformed share: share data is not valid base64url");
    uint8_t want[SHARE_CHECKSUM_BYTES], have[SHARE_CHECKSUM_BYTES];
    if (fg_hex_decode(p + sum_at, SHARE_CHECKSUM_CHARS, want, sizeof want, &got) != FG_OK ||
        got != sizeof want)
        return parse_fail(out, problem, "malformed share: checksum is not 8 hex digits");
    out->index = (uint8_t)index;
    share_checksum(out, have);
    int match = fg_ct_equal(want, have, sizeof want);
    fg_wipe(want, sizeof want); /* derived from the share: no copies left behind */
    fg_wipe(have, sizeof have);
    if (!match)
        return parse_fail(out, problem, "share checksum mismatch (mistyped share?)");
    return FG_OK;
}

fg_rc fg_share_format(const struct fg_share *s, char out[FG_SHARE_TEXT_MAX])
{
    assert(s != NULL && out != NULL);
    assert(s->index != 0);
    int n = snprintf(out, FG_SHARE_TEXT_MAX, SHARE_PREFIX "%u-", (unsigned)s->index);
    assert(n > 0 && (size_t)n + SHARE_DATA_CHARS + 1 + SHARE_CHECKSUM_CHARS < FG_SHARE_TEXT_MAX);
    size_t at = (size_t)n;
    fg_rc rc = fg_base64url_encode(s->bytes, FG_SHARE_LEN, out + at, FG_SHARE_TEXT_MAX - at);
    if (rc != FG_OK) {
        fg_wipe(out, FG_SHARE_TEXT_MAX);
        return rc;
    }
    at += SHARE_DATA_CHARS;
    out[at++] = '-';
    uint8_t sum[SHARE_CHECKSUM_BYTES];
    share_checksum(s, sum);
    rc = fg_hex_encode(sum, sizeof sum, out + at, FG_SHARE_TEXT_MAX - at);
    if (rc != FG_OK)
        fg_wipe(out, FG_SHARE_TEXT_MAX);
    return rc;
}

/* ---- splitting and combining -------------------------------------------------------------- */

static fg_rc pick_indexes(uint8_t *idx, unsigned count)
{
    assert(count >= 1 && count <= FG_KEYS_SHARES_MAX);
    uint8_t pool[SHARE_INDEX_POOL];
    unsigned have = 0;
    for (unsigned round = 0; round < SHARE_INDEX_ROUNDS && have < count; round++) {
        if (fg_random(pool, sizeof pool) != FG_OK)
            return FG_ERR_CRYPTO;
        for (size_t i = 0; i < sizeof pool && have < count; i++) {
            int dup = pool[i] == 0;
            for (unsigned j = 0; j < have && !dup; j++)
                dup = idx[j] == pool[i];
            if (!dup)
                idx[have++] = pool[i];
        }
    }
    fg_wipe(pool, sizeof pool);
    return have == count ? FG_OK : FG_ERR_CRYPTO;
}

fg_rc fg_share_split(const uint8_t secret[FG_SHARE_LEN], unsigned count, unsigned threshold,
                     struct fg_share *out)
{
    assert(secret != NULL && out != NULL);
    assert(threshold >= 1 && threshold <= count && count <= FG_KEYS_SHARES_MAX);
    rand_ensure();
    uint8_t idx[FG_KEYS_SHARES_MAX];
    fg_rc rc = pick_indexes(idx, count);
    if (rc != FG_OK)
        return rc;
    rand_failed = 0;
    gfshare_ctx *g = gfshare_ctx_init_enc(idx, count, (unsigned char)threshold, FG_SHARE_LEN);
    if (g == NULL)
        return FG_ERR_NOMEM;
    /* The library copies the secret (its API is not const-correct). */
    gfshare_ctx_enc_setsecret(g, (unsigned char *)(uintptr_t)secret);
    if (!rand_failed) {
        for (unsigned i = 0; i < count; i++) {
            out[i].index = idx[i];
            gfshare_ctx_enc_getshare(g, (unsigned char)i, out[i].bytes);
        }
    }
    gfshare_ctx_free(g); /* overwrites its buffers through the hook, then frees */
    if (rand_failed) {
        fg_wipe(out, sizeof *out * count);
        rand_failed = 0;
        return FG_ERR_CRYPTO;
    }
    return FG_OK;
}

fg_rc fg_share_combine(const struct fg_share *shares, unsigned count, uint8_t secret[FG_SHARE_LEN])
{
    assert(shares != NULL && secret != NULL);
    assert(count >= 1 && count <= FG_KEYS_SHARES_MAX);
    rand_ensure();
    uint8_t idx[FG_KEYS_SHARES_MAX];
    for (unsigned i = 0; i < count; i++) {
        if (shares[i].index == 0)
            return FG_ERR_INVALID;
        for (unsigned j = 0; j < i; j++)
            if (shares[j].index == shares[i].index)
                return FG_ERR_INVALID;
        idx[i] = shares[i].index;
    }
    gfshare_ctx *g = gfshare_ctx_init_dec(idx, count, FG_SHARE_LEN);
    if (g == NULL)
        return FG_ERR_NOMEM;
    for (unsigned i = 0; i < count; i++)
        gfshare_ctx_dec_giveshare(g, (unsigned char)i, (unsigned char *)(uintptr_t)shares[i].bytes);
    gfshare_ctx_dec_extract(g, secret);
    gfshare_ctx_free(g);
    rand_failed = 0; /* a failed overwrite falls back to zeroing: nothing to report */
    return FG_OK;
}

fg_rc fg_share_verifier(enum fg_hash_alg alg, const uint8_t salt[FG_SHARE_SALT_LEN],
                        const struct fg_share *s, uint8_t out[FG_HASH_LEN])
{
    assert(salt != NULL && s != NULL && out != NULL);
    assert(s->index != 0);
    struct fg_hmac_ctx *h = NULL;
    fg_rc rc = fg_hmac_begin(alg, salt, FG_SHARE_SALT_LEN, &h);
    if (rc != FG_OK)
        return rc;
    rc = fg_hmac_update(h, verifier_label, sizeof verifier_label);
    if (rc == FG_OK)
        rc = fg_hmac_update(h, &s->index, 1);
    if (rc == FG_OK)
        rc = fg_hmac_update(h, s->bytes, FG_SHARE_LEN);
    if (rc != FG_OK) {
        fg_hmac_abort(h);
        return rc;
    }
    return fg_hmac_end(h, out);
}
