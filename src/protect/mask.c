/*
 * mask.c — display masking (see mask.h).
 *
 * Every rule first checks the whole input (shape, UTF-8), then writes through a small
 * bounded writer; any failure wipes out and leaves it "", so no partial result and no input
 * byte survives an error.
 */
#include "protect/mask.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "protect/card.h"

static const char *const rule_names[FG_MASK_RULE_COUNT] = {
    [FG_MASK_NONE] = "none",
    [FG_MASK_PHONE] = "phone",
    [FG_MASK_ID_NUMBER] = "id_number",
    [FG_MASK_NAME] = "name",
    [FG_MASK_EMAIL] = "email",
    [FG_MASK_PAN_LAST4] = "pan_last4",
    [FG_MASK_PAN_FIRST6_LAST4] = "pan_first6_last4",
    [FG_MASK_ALL] = "all",
};

const char *fg_mask_rule_name(enum fg_mask_rule r)
{
    if ((int)r < 0 || (int)r >= FG_MASK_RULE_COUNT)
        return NULL;
    return rule_names[r];
}

fg_rc fg_mask_rule_parse(const char *name, enum fg_mask_rule *out)
{
    assert(out != NULL);
    for (int i = 0; name != NULL && i < FG_MASK_RULE_COUNT; i++) {
        if (strcmp(name, rule_names[i]) == 0) {
            *out = (enum fg_mask_rule)i;
            return FG_OK;
        }
    }
    return FG_ERR_INVALID;
}

/* ---- UTF-8 ------------------------------------------------------------------------------ */

/* Length (1..4) of the well-formed UTF-8 sequence at s[0..n), with its code point in *cp;
 * 0 if it is not well-formed (truncated, overlong, surrogate, above U+10FFFF). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    assert(n > 0);
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2, v = c & 0x1fu, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, v = c & 0x0fu, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, v = c & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0u) != 0x80u)
            return 0;
        v = (v << 6) | (s[i] & 0x3fu);
    }
    if (v < min || v > 0x10ffffu || (v >= 0xd800u && v <= 0xdfffu))
        return 0;
    *cp = v;
    return len;
}

static int is_control(uint32_t cp)
{
    return cp < 0x20u || (cp >= 0x7fu && cp <= 0x9fu);
}

/* Code points of in[0..len), or -1 if it is not valid UTF-8 or (when no_controls) holds a
 * control character. */
static long utf8_count(const char *in, size_t len, int no_controls)
{
    const unsigned char *s = (const unsigned char *)in;
    long count = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_next(s + i, len - i, &cp);
        if (n == 0 || (no_controls && is_control(cp)))
            return -1;
        i += n;
        count++;
    }
    return count;
}

/* ---- bounded writer --------------------------------------------------------------------- */

struct writer {
    char *out;
    size_t cap;
    size_t n;
    int over;
};

static void put(struct writer *w, const char *p, size_t n)
{
    if (w->over || n >= w->cap - w->n) { /* keep one byte for the NUL */
        w->over = 1;
        return;
    }
    memcpy(w->out + w->n, p, n);
    w->n += n;
}

static void put_stars(struct writer *w, size_t n)
{
    if (w->over || n >= w->cap - w->n) {
        w->over = 1;
        return;
    }
    memset(w->out + w->n, '*', n);
    w->n += n;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* in[0..len) kept except in[from..from+count) which becomes '*'. */
static void put_masked_span(struct writer *w, const char *in, size_t len, size_t from, size_t count)
{
    assert(from + count <= len);
    put(w, in, from);
    put_stars(w, count);
    put(w, in + from + count, len - from - count);
}

/* ---- rules ------------------------------------------------------------------------------ */

static fg_rc mask_phone(struct writer *w, const char *in, size_t len)
{
    size_t plus = len > 0 && in[0] == '+';
    size_t digits = len - plus;
    if (digits == 0 || digits > FG_MASK_PHONE_DIGITS_MAX)
        return FG_ERR_INVALID;
    for (size_t i = plus; i < len; i++)
        if (!is_digit(in[i]))
            return FG_ERR_INVALID;
    if (digits >= 8)
        put_masked_span(w, in, len, len - 8u, 4u);
    else if (digits >= 3)
        put_masked_span(w, in, len, plus, digits - 2u);
    else
        put_masked_span(w, in, len, plus, digits);
    return FG_OK;
}

static fg_rc mask_id_number(struct writer *w, const char *in, size_t len)
{
    if (len < FG_MASK_ID_MIN || len > FG_MASK_ID_MAX)
        return FG_ERR_INVALID;
    for (size_t i = 0; i < len; i++)
        if (!is_alnum(in[i]))
            return FG_ERR_INVALID;
    if (len >= 11)
        put_masked_span(w, in, len, 6u, len - 10u);
    else
        put_masked_span(w, in, len, 0, len - 2u);
    return FG_OK;
}

static fg_rc mask_name(struct writer *w, const char *in, size_t len)
{
    long count = utf8_count(in, len, 1);
    if (count <= 0)
        return FG_ERR_INVALID;
    if (count == 1) {
        put_stars(w, 1);
        return FG_OK;
    }
    uint32_t cp;
    size_t first = utf8_next((const unsigned char *)in, len, &cp);
    put(w, in, first);
    put_stars(w, (size_t)count - 1u);
    return FG_OK;
}

static fg_rc mask_email(struct writer *w, const char *in, size_t len)
{
    if (utf8_count(in, len, 1) < 0)
        return FG_ERR_INVALID;
    const char *at = len > 0 ? memchr(in, '@', len) : NULL;
    if (at == NULL || at == in || at == in + len - 1)
        return FG_ERR_INVALID;
    size_t local = (size_t)(at - in);
    if (memchr(at + 1, '@', len - local - 1u) != NULL)
        return FG_ERR_INVALID;
    uint32_t cp;
    size_t first = utf8_next((const unsigned char *)in, local, &cp);
    if (first == 0) /* the local part ends inside a sequence: cannot be, '@' is ASCII */
        return FG_ERR_INVALID;
    put(w, in, first);
    put(w, "***", 3);
    put(w, at, len - local);
    return FG_OK;
}

static fg_rc mask_pan(struct writer *w, const char *in, size_t len, size_t keep_first)
{
    if (len < FG_PAN_MIN || len > FG_PAN_MAX)
        return FG_ERR_INVALID;
    for (size_t i = 0; i < len; i++)
        if (!is_digit(in[i]))
            return FG_ERR_INVALID;
    put_masked_span(w, in, len, keep_first, len - keep_first - 4u);
    return FG_OK;
}

static fg_rc mask_all(struct writer *w, const char *in, size_t len)
{
    long count = utf8_count(in, len, 0);
    if (count < 0)
        return FG_ERR_INVALID;
    put_stars(w, (size_t)count);
    return FG_OK;
}

static fg_rc mask_none(struct writer *w, const char *in, size_t len)
{
    if (utf8_count(in, len, 1) < 0)
        return FG_ERR_INVALID;
    put(w, in, len);
    return FG_OK;
}

fg_rc fg_mask(enum fg_mask_rule r, const char *in, size_t len, char *out, size_t cap)
{
    assert(out != NULL || cap == 0);
    assert(in != NULL || len == 0);
    if (cap == 0)
        return FG_ERR_LIMIT;
    out[0] = '\0';
    if (len > FG_MASK_IN_MAX)
        return FG_ERR_LIMIT;
    if (in == NULL)
        in = "";
    struct writer w = {out, cap, 0, 0};
    fg_rc rc;
    switch (r) {
    case FG_MASK_NONE:
        rc = mask_none(&w, in, len);
        break;
    case FG_MASK_PHONE:
        rc = mask_phone(&w, in, len);
        break;
    case FG_MASK_ID_NUMBER:
        rc = mask_id_number(&w, in, len);
        break;
    case FG_MASK_NAME:
        rc = mask_name(&w, in, len);
        break;
    case FG_MASK_EMAIL:
        rc = mask_email(&w, in, len);
        break;
    case FG_MASK_PAN_LAST4:
        rc = mask_pan(&w, in, len, 0);
        break;
    case FG_MASK_PAN_FIRST6_LAST4:
        rc = mask_pan(&w, in, len, 6);
        break;
    case FG_MASK_ALL:
        rc = mask_all(&w, in, len);
        break;
    default:
        rc = FG_ERR_INVALID;
        break;
    }
    if (rc == FG_OK && w.over)
        rc = FG_ERR_LIMIT;
    if (rc != FG_OK) {
        memset(out, 0, w.n < cap ? w.n + 1u : cap);
        return rc;
    }
    out[w.n] = '\0';
    return FG_OK;
}
