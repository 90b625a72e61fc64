/*
 * fuzz_otpauth.c — what iam/totp.c makes of untrusted text: a username put into the
 * otpauth URI, and a submitted code.
 *
 * Invariants, with the input (up to its first NUL) as the username: fg_totp_uri accepts it
 * iff it is 1..FG_TOTP_USERNAME_MAX bytes; an accepted URI is exactly prefix ‖ label ‖
 * fixed suffix, the label holds only unreserved characters and %XX escapes, and
 * percent-decoding it gives the username back; a refused one leaves the output wiped. With
 * the same text as a code: fg_totp_verify answers FG_ERR_INVALID unless it is exactly six
 * ASCII digits, and FG_OK exactly when it equals the code of step T or T-1.
 */
#include <string.h>

#include "fuzz.h"

#include "crypto/crypto.h"
#include "iam/totp.h"

static const uint8_t secret[] = "12345678901234567890";
static const char prefix[] = "otpauth://totp/finguard:";
static const char suffix[] = "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                             "&issuer=finguard&algorithm=SHA1&digits=6&period=30";

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void check_uri(const char *name, size_t n)
{
    char uri[FG_TOTP_URI_SIZE];
    memset(uri, 0x5a, sizeof uri);
    fg_rc rc = fg_totp_uri(secret, 20, name, uri, sizeof uri);
    if (n == 0 || n > FG_TOTP_USERNAME_MAX) {
        FUZZ_CHECK(rc == FG_ERR_INVALID);
        return;
    }
    FUZZ_CHECK(rc == FG_OK);
    size_t len = strlen(uri);
    FUZZ_CHECK(len < sizeof uri);
    FUZZ_CHECK(memcmp(uri, prefix, sizeof prefix - 1) == 0);
    FUZZ_CHECK(len >= sizeof prefix - 1 + sizeof suffix - 1);
    FUZZ_CHECK(strcmp(uri + len - (sizeof suffix - 1), suffix) == 0);
    const char *label = uri + sizeof prefix - 1;
    size_t label_len = len - (sizeof prefix - 1) - (sizeof suffix - 1);
    char decoded[FG_TOTP_USERNAME_MAX];
    size_t d = 0;
    for (size_t i = 0; i < label_len; i++) {
        char c = label[i];
        FUZZ_CHECK(d < sizeof decoded);
        if (c == '%') {
            FUZZ_CHECK(i + 2 < label_len);
            int hi = hexval(label[i + 1]), lo = hexval(label[i + 2]);
            FUZZ_CHECK(hi >= 0 && lo >= 0);
            decoded[d++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            FUZZ_CHECK((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.' || c == '_' || c == '~');
            decoded[d++] = c;
        }
    }
    FUZZ_CHECK(d == n && memcmp(decoded, name, n) == 0);
}

static void check_code(const char *code, size_t n)
{
    const int64_t now = 1111111111;
    int digits = n == FG_TOTP_DIGITS;
    for (size_t i = 0; digits && i < n; i++)
        digits = code[i] >= '0' && code[i] <= '9';
    int64_t accepted = -5;
    fg_rc rc = fg_totp_verify(secret, 20, code, now, -1, &accepted);
    if (!digits) {
        FUZZ_CHECK(rc == FG_ERR_INVALID && accepted == -5);
        return;
    }
    char t0[FG_TOTP_CODE_SIZE], t1[FG_TOTP_CODE_SIZE];
    int64_t t = fg_totp_step(now);
    FUZZ_CHECK(fg_totp_code(secret, 20, t, 6, t0, sizeof t0) == FG_OK);
    FUZZ_CHECK(fg_totp_code(secret, 20, t - 1, 6, t1, sizeof t1) == FG_OK);
    int right = strcmp(code, t0) == 0 || strcmp(code, t1) == 0;
    FUZZ_CHECK(right ? rc == FG_OK && (accepted == t || accepted == t - 1)
                     : rc == FG_ERR_UNAUTHENTICATED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FUZZ_CHECK(fg_crypto_init() == FG_OK);
    /* As a C string: the input up to its first NUL (bounded copy, NUL-terminated). */
    size_t n = 0;
    while (n < size && n <= FG_TOTP_USERNAME_MAX && data[n] != 0)
        n++;
    char text[FG_TOTP_USERNAME_MAX + 2];
    memcpy(text, data, n);
    text[n] = '\0';
    check_uri(text, n);
    check_code(text, n);
    return 0;
}
