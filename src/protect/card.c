/*
 * card.c — Luhn, PAN checks and payment tokens (see card.h).
 */
#include "protect/card.h"

#include <assert.h>
#include <string.h>

#include "crypto/crypto.h"

/* Random bytes drawn per refill while making a token: enough for FG_PAN_MAX digits in the
 * common case (250 of 256 byte values are accepted). */
#define CARD_RANDOM_BATCH 32u
/* Byte values below this map to a digit without bias (25 × 10). */
#define CARD_RANDOM_LIMIT 250u

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Luhn sum of s[0..n), doubling every second digit counted from the right when
 * double_last is set for the rightmost one. */
static unsigned luhn_sum(const char *s, size_t n, int double_last)
{
    unsigned sum = 0;
    int dbl = double_last;
    for (size_t i = n; i-- > 0;) {
        unsigned d = (unsigned)(s[i] - '0');
        if (dbl) {
            d *= 2u;
            if (d > 9u)
                d -= 9u;
        }
        sum += d;
        dbl = !dbl;
    }
    return sum;
}

int fg_luhn_valid(const char *digits, size_t n)
{
    if (digits == NULL || n < 2 || !all_digits(digits, n))
        return 0;
    return luhn_sum(digits, n, 0) % 10u == 0;
}

int fg_luhn_check_digit(const char *payload, size_t n)
{
    if (payload == NULL || n == 0 || !all_digits(payload, n))
        return -1;
    /* The check digit will be the rightmost: the payload's last digit is doubled. */
    unsigned sum = luhn_sum(payload, n, 1);
    return '0' + (int)((10u - sum % 10u) % 10u);
}

static int has_token_prefix(const char *s, size_t n)
{
    return n >= FG_CARD_TOKEN_PREFIX_LEN &&
           memcmp(s, FG_CARD_TOKEN_PREFIX, FG_CARD_TOKEN_PREFIX_LEN) == 0;
}

fg_rc fg_pan_check(const char *in, size_t len, const char **why)
{
    const char *problem = NULL;
    if (in == NULL || len < FG_PAN_MIN)
        problem = "a card number has at least 13 digits";
    else if (len > FG_PAN_MAX)
        problem = "a card number has at most 19 digits";
    else if (!all_digits(in, len))
        problem = "a card number is digits only (no spaces or dashes)";
    else if (!fg_luhn_valid(in, len))
        problem = "the card number's check digit is wrong";
    else if (has_token_prefix(in, len))
        problem = "this is a payment token, not a card number";
    if (why != NULL)
        *why = problem;
    return problem == NULL ? FG_OK : FG_ERR_INVALID;
}

fg_rc fg_card_token_new(size_t len, char *out)
{
    if (out == NULL || len < FG_PAN_MIN || len > FG_PAN_MAX)
        return FG_ERR_INVALID;
    memcpy(out, FG_CARD_TOKEN_PREFIX, FG_CARD_TOKEN_PREFIX_LEN);
    size_t at = FG_CARD_TOKEN_PREFIX_LEN;
    uint8_t pool[CARD_RANDOM_BATCH];
    size_t used = sizeof pool;
    while (at < len - 1u) {
        if (used == sizeof pool) {
            fg_rc rc = fg_random(pool, sizeof pool);
            if (rc != FG_OK) {
                fg_wipe(pool, sizeof pool);
                fg_wipe(out, len + 1u);
                out[0] = '\0';
                return rc;
            }
            used = 0;
        }
        uint8_t b = pool[used++];
        if (b < CARD_RANDOM_LIMIT)
            out[at++] = (char)('0' + b % 10u);
    }
    fg_wipe(pool, sizeof pool);
    int check = fg_luhn_check_digit(out, len - 1u);
    assert(check >= '0' && check <= '9');
    out[len - 1u] = (char)check;
    out[len] = '\0';
    return FG_OK;
}

int fg_card_token_valid(const char *s, size_t len)
{
    return s != NULL && len >= FG_PAN_MIN && len <= FG_PAN_MAX && has_token_prefix(s, len) &&
           fg_luhn_valid(s, len);
}
