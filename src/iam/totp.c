/*
 * totp.c — RFC 6238 codes with liboath, and TOTP credentials stored sealed.
 *
 * liboath computes the codes (oath_totp_generate at the start of a step) and the base32 of
 * the URI; we never use its validate functions, because they compare with strcmp and accept
 * a window we do not want. Instead fg_totp_verify computes the two candidate codes (steps T
 * and T-1), compares each with the submitted text in constant time (always both), and then
 * applies the replay rule (step > last_step) to whichever matched. Secrets live on the stack
 * only for the duration of a call and are wiped on every path: liboath's HMAC copies them
 * into its own unlocked buffers anyway, so locked memory here would not keep them out of
 * swap. The sealed variants only add protect/ around the same calls, so the secret exists
 * in clear for one call.
 */
#include "iam/totp.h"

#include <assert.h>
#include <liboath/oath.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"

_Static_assert(sizeof(time_t) == 8, "liboath takes time_t: steps need 64-bit times");

#define TOTP_CODE_DIGITS_MAX 8u /* RFC 6238 Appendix B lists 8-digit codes */
#define TOTP_URI_PREFIX "otpauth://totp/finguard:"
#define TOTP_URI_SECRET "?secret="
#define TOTP_URI_SUFFIX "&issuer=finguard&algorithm=SHA1&digits=6&period=30"

/* The longest URI: every username byte escaped, the 32 base32 characters of the secret. */
_Static_assert(sizeof TOTP_URI_PREFIX - 1 + 3 * FG_TOTP_USERNAME_MAX + sizeof TOTP_URI_SECRET - 1 +
                       32 + sizeof TOTP_URI_SUFFIX <=
                   FG_TOTP_URI_SIZE,
               "FG_TOTP_URI_SIZE holds the longest URI");

static pthread_once_t totp_once = PTHREAD_ONCE_INIT;
static int totp_oath_rc = OATH_OK;

static void totp_oath_init(void)
{
    totp_oath_rc = oath_init();
}

fg_rc fg_totp_init(void)
{
    pthread_once(&totp_once, totp_oath_init);
    return totp_oath_rc == OATH_OK ? FG_OK : FG_ERR_CRYPTO;
}

fg_rc fg_totp_secret_new(uint8_t secret[FG_TOTP_SECRET_LEN])
{
    assert(secret != NULL);
    return fg_random(secret, FG_TOTP_SECRET_LEN);
}

int64_t fg_totp_step(int64_t now_s)
{
    int64_t q = now_s / FG_TOTP_STEP_S;
    if (now_s % FG_TOTP_STEP_S < 0)
        q--; /* floor, not truncation, before the epoch */
    return q;
}

/* ---- the URI ----------------------------------------------------------------------------- */

static int uri_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* Percent-encode s[0..n) into out at *pos; FG_ERR_LIMIT if it does not fit (NUL included). */
static fg_rc uri_escape(const char *s, size_t n, char *out, size_t out_size, size_t *pos)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t need = uri_unreserved(c) ? 1 : 3;
        if (*pos + need >= out_size)
            return FG_ERR_LIMIT;
        if (need == 1) {
            out[(*pos)++] = (char)c;
        } else {
            out[(*pos)++] = '%';
            out[(*pos)++] = hex[c >> 4];
            out[(*pos)++] = hex[c & 0xf];
        }
    }
    return FG_OK;
}

static fg_rc uri_append(const char *s, char *out, size_t out_size, size_t *pos)
{
    size_t n = strlen(s);
    if (*pos + n >= out_size)
        return FG_ERR_LIMIT;
    memcpy(out + *pos, s, n);
    *pos += n;
    return FG_OK;
}

/* Base32 of the secret, padding stripped (apps expect none), into b32 (wiped by the caller).
 * liboath returns malloc'd text: it is wiped before it is freed. */
static fg_rc uri_base32(const uint8_t *secret, size_t secret_len, char *b32, size_t b32_size)
{
    char *enc = NULL;
    size_t enc_len = 0;
    if (oath_base32_encode((const char *)secret, secret_len, &enc, &enc_len) != OATH_OK)
        return FG_ERR_NOMEM;
    fg_rc rc = FG_OK;
    size_t n = enc_len;
    while (n > 0 && enc[n - 1] == '=')
        n--;
    if (n + 1 > b32_size) {
        rc = FG_ERR_LIMIT;
    } else {
        memcpy(b32, enc, n);
        b32[n] = '\0';
    }
    fg_wipe(enc, enc_len);
    free(enc);
    return rc;
}

fg_rc fg_totp_uri(const uint8_t *secret, size_t secret_len, const char *username, char *out,
                  size_t out_size)
{
    assert(secret != NULL && out != NULL);
    if (secret_len == 0 || secret_len > FG_TOTP_SECRET_MAX)
        return FG_ERR_INVALID;
    size_t ulen = username ? strnlen(username, FG_TOTP_USERNAME_MAX + 1) : 0;
    if (ulen == 0 || ulen > FG_TOTP_USERNAME_MAX)
        return FG_ERR_INVALID;
    fg_rc rc = fg_totp_init();
    if (rc != FG_OK)
        return rc;
    char b32[(FG_TOTP_SECRET_MAX * 8 + 4) / 5 + 8];
    rc = uri_base32(secret, secret_len, b32, sizeof b32);
    size_t pos = 0;
    if (rc == FG_OK)
        rc = uri_append(TOTP_URI_PREFIX, out, out_size, &pos);
    if (rc == FG_OK)
        rc = uri_escape(username, ulen, out, out_size, &pos);
    if (rc == FG_OK)
        rc = uri_append(TOTP_URI_SECRET, out, out_size, &pos);
    if (rc == FG_OK)
        rc = uri_append(b32, out, out_size, &pos);
    if (rc == FG_OK)
        rc = uri_append(TOTP_URI_SUFFIX, out, out_size, &pos);
    fg_wipe(b32, sizeof b32);
    if (rc != FG_OK) {
        fg_wipe(out, out_size);
        return rc;
    }
    assert(pos < out_size);
    out[pos] = '\0';
    return FG_OK;
}

/* ---- codes ------------------------------------------------------------------------------- */

fg_rc fg_totp_code(const uint8_t *secret, size_t secret_len, int64_t step, unsigned digits,
                   char *out, size_t out_size)
{
    assert(secret != NULL && out != NULL);
    if (secret_len == 0 || secret_len > FG_TOTP_SECRET_MAX || step < 0 ||
        step > INT64_MAX / FG_TOTP_STEP_S || digits < FG_TOTP_DIGITS ||
        digits > TOTP_CODE_DIGITS_MAX)
        return FG_ERR_INVALID;
    if (out_size < digits + 1u)
        return FG_ERR_LIMIT;
    fg_rc rc = fg_totp_init();
    if (rc != FG_OK)
        return rc;
    /* The start of the step: liboath divides it again, exactly. */
    time_t at = (time_t)(step * FG_TOTP_STEP_S);
    char code[TOTP_CODE_DIGITS_MAX + 1];
    int orc = oath_totp_generate((const char *)secret, secret_len, at, FG_TOTP_STEP_S,
                                 OATH_TOTP_DEFAULT_START_TIME, digits, code);
    if (orc != OATH_OK) {
        fg_wipe(code, sizeof code);
        return FG_ERR_CRYPTO;
    }
    memcpy(out, code, digits + 1u);
    fg_wipe(code, sizeof code);
    assert(out[digits] == '\0');
    return FG_OK;
}

/* Exactly FG_TOTP_DIGITS ASCII digits and a NUL. Not secret-dependent timing that matters:
 * the format of a submitted code is not the secret. */
static int code_well_formed(const char *code)
{
    if (code == NULL || strnlen(code, FG_TOTP_DIGITS + 1) != FG_TOTP_DIGITS)
        return 0;
    for (unsigned i = 0; i < FG_TOTP_DIGITS; i++)
        if (code[i] < '0' || code[i] > '9')
            return 0;
    return 1;
}

fg_rc fg_totp_verify(const uint8_t *secret, size_t secret_len, const char *code, int64_t now_s,
                     int64_t last_step, int64_t *accepted_step)
{
    assert(secret != NULL && accepted_step != NULL);
    if (!code_well_formed(code))
        return FG_ERR_INVALID;
    int64_t t = fg_totp_step(now_s);
    int match[2] = {0, 0}; /* [0]: step T, [1]: step T-1 */
    char candidate[FG_TOTP_CODE_SIZE];
    fg_rc rc = FG_OK;
    for (int i = 0; i < 2 && rc == FG_OK; i++) {
        if (t - i < 0)
            continue; /* before the epoch: no such step */
        rc = fg_totp_code(secret, secret_len, t - i, FG_TOTP_DIGITS, candidate, sizeof candidate);
        if (rc == FG_OK)
            match[i] = fg_ct_equal(candidate, code, FG_TOTP_DIGITS);
    }
    fg_wipe(candidate, sizeof candidate);
    if (rc != FG_OK)
        return rc;
    /* Prefer the newer step: it also burns the older one for later attempts. */
    if (match[0] && t > last_step) {
        *accepted_step = t;
        return FG_OK;
    }
    if (match[1] && t - 1 > last_step) {
        *accepted_step = t - 1;
        return FG_OK;
    }
    return FG_ERR_UNAUTHENTICATED;
}

/* ---- sealed secrets -------------------------------------------------------------------- */

fg_rc fg_totp_enroll_sealed(fg_keys *k, const char *table, const char *column, const char *row_id,
                            const char *username, char uri_out[FG_TOTP_URI_SIZE],
                            uint8_t *sealed_out, size_t sealed_cap, size_t *sealed_len)
{
    assert(k != NULL && uri_out != NULL && sealed_out != NULL && sealed_len != NULL);
    *sealed_len = 0;
    if (sealed_cap < FG_TOTP_SEALED_MAX)
        return FG_ERR_LIMIT;
    uint8_t secret[FG_TOTP_SECRET_LEN];
    fg_rc rc = fg_totp_secret_new(secret);
    if (rc == FG_OK)
        rc = fg_totp_uri(secret, sizeof secret, username, uri_out, FG_TOTP_URI_SIZE);
    if (rc == FG_OK)
        rc = fg_protect_seal(k, FG_KEY_PII, table, column, row_id, secret, sizeof secret,
                             sealed_out, sealed_cap, sealed_len);
    fg_wipe(secret, sizeof secret);
    if (rc != FG_OK) {
        fg_wipe(uri_out, FG_TOTP_URI_SIZE);
        fg_wipe(sealed_out, sealed_cap);
        *sealed_len = 0;
    }
    return rc;
}

fg_rc fg_totp_verify_sealed(fg_keys *k, const char *table, const char *column, const char *row_id,
                            const uint8_t *sealed, size_t sealed_len, const char *code,
                            int64_t now_s, int64_t last_step, int64_t *accepted_step)
{
    assert(k != NULL && sealed != NULL && accepted_step != NULL);
    if (!code_well_formed(code))
        return FG_ERR_INVALID; /* before opening anything */
    uint8_t secret[FG_TOTP_SECRET_MAX];
    size_t secret_len = 0;
    fg_rc rc = fg_protect_open(k, FG_KEY_PII, table, column, row_id, sealed, sealed_len, secret,
                               sizeof secret, &secret_len);
    if (rc == FG_OK)
        rc = fg_totp_verify(secret, secret_len, code, now_s, last_step, accepted_step);
    fg_wipe(secret, sizeof secret);
    return rc;
}
