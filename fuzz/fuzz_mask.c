/*
 * fuzz_mask.c — every display masking rule (protect/mask.c) on arbitrary bytes (DATA-3).
 *
 * Invariants, per rule, for the whole input and for a small out buffer: never crashes or
 * reads outside the input; the result is FG_OK, FG_ERR_INVALID or FG_ERR_LIMIT; on an
 * error out is "" and every byte written is wiped (nothing of the input is left); on
 * success the result is NUL-terminated inside out. Only FG_MASK_NONE returns the input as
 * it is; every other rule writes at least one '*' (except all on "") and keeps only what
 * it may: all is only '*', the PAN rules keep exactly their first 6 / last 4, phone and
 * id_number only turn characters into '*', name keeps one code point, email keeps one
 * code point of the local part and the domain.
 */
#include <string.h>

#include "fuzz.h"

#include "protect/mask.h"

#define FUZZ_POISON 0x5a

static size_t count_stars(const char *s, size_t n)
{
    size_t stars = 0;
    for (size_t i = 0; i < n; i++)
        stars += s[i] == '*';
    return stars;
}

/* Bytes of the UTF-8 sequence s starts with (the input was accepted, so it is valid). */
static size_t first_cp_len(const unsigned char *s)
{
    return s[0] < 0x80 ? 1 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
}

static void check_ok(enum fg_mask_rule r, const char *in, size_t len, const char *out)
{
    size_t n = strlen(out);
    if (r == FG_MASK_NONE) {
        FUZZ_CHECK(n == len && memcmp(out, in, len) == 0);
        return;
    }
    /* Every other rule hides something (the output may still equal an input whose hidden
     * part was '*' already: name("A**") is "A**"); the rule checks below say what. */
    FUZZ_CHECK(n == 0 || count_stars(out, n) >= 1);
    switch (r) {
    case FG_MASK_ALL:
        FUZZ_CHECK(count_stars(out, n) == n && n <= len);
        break;
    case FG_MASK_PAN_LAST4:
    case FG_MASK_PAN_FIRST6_LAST4: {
        size_t keep = r == FG_MASK_PAN_LAST4 ? 0 : 6;
        FUZZ_CHECK(n == len && len >= 13 && len <= 19);
        FUZZ_CHECK(memcmp(out, in, keep) == 0 && memcmp(out + n - 4, in + len - 4, 4) == 0);
        FUZZ_CHECK(count_stars(out + keep, n - keep - 4) == n - keep - 4);
        break;
    }
    case FG_MASK_PHONE:
    case FG_MASK_ID_NUMBER:
        FUZZ_CHECK(n == len && count_stars(out, n) >= 1);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(out[i] == in[i] || out[i] == '*');
        break;
    case FG_MASK_NAME: {
        size_t first = first_cp_len((const unsigned char *)in);
        FUZZ_CHECK(strcmp(out, "*") == 0 || (n > first && memcmp(out, in, first) == 0 &&
                                             count_stars(out + first, n - first) == n - first));
        break;
    }
    case FG_MASK_EMAIL: {
        size_t first = first_cp_len((const unsigned char *)in);
        const char *at = memchr(in, '@', len);
        FUZZ_CHECK(at != NULL);
        size_t domain = len - (size_t)(at - in);
        FUZZ_CHECK(n == first + 3 + domain && memcmp(out, in, first) == 0);
        FUZZ_CHECK(memcmp(out + first, "***", 3) == 0 && memcmp(out + first + 3, at, domain) == 0);
        break;
    }
    default:
        FUZZ_CHECK(0 && "unknown rule masked");
    }
}

static void run(enum fg_mask_rule r, const char *in, size_t len, size_t cap)
{
    char out[FG_MASK_OUT_MAX + 1];
    memset(out, FUZZ_POISON, sizeof out);
    fg_rc rc = fg_mask(r, in, len, out, cap);
    FUZZ_CHECK(rc == FG_OK || rc == FG_ERR_INVALID || rc == FG_ERR_LIMIT);
    for (size_t i = cap; i < sizeof out; i++)
        FUZZ_CHECK((unsigned char)out[i] == FUZZ_POISON);
    if (rc != FG_OK) {
        FUZZ_CHECK(cap == 0 || out[0] == '\0');
        for (size_t i = 0; i < cap; i++)
            FUZZ_CHECK(out[i] == '\0' || (unsigned char)out[i] == FUZZ_POISON);
        return;
    }
    FUZZ_CHECK(memchr(out, '\0', cap) != NULL);
    check_ok(r, in, len, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    size_t small = size > 0 ? data[0] % 32u : 0;
    for (int r = 0; r < FG_MASK_RULE_COUNT; r++) {
        run((enum fg_mask_rule)r, in, size, FG_MASK_OUT_MAX);
        run((enum fg_mask_rule)r, in, size, small);
        if (size > 1) /* the same without the first byte: reaches the short-input paths */
            run((enum fg_mask_rule)r, in + 1, size - 1, FG_MASK_OUT_MAX);
    }
    char out[8];
    FUZZ_CHECK(fg_mask((enum fg_mask_rule)FG_MASK_RULE_COUNT, in, size, out, sizeof out) ==
                   FG_ERR_INVALID ||
               size > FG_MASK_IN_MAX);
    return 0;
}
