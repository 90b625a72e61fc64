/*
 * buf.c — the growable buffer (see buf.h).
 *
 * Every append first computes exactly how many bytes it needs, checks that against the
 * buffer's maximum with overflow-safe arithmetic (extra > max - len, never len + extra >
 * max), grows the allocation if needed and only then writes, so a failed append leaves the
 * contents untouched. Growth is geometric (doubling, starting at BUF_CAP_MIN) but never
 * past max + 1 bytes (the +1 is the trailing NUL). Growing does not use realloc(): it
 * allocates the new block, copies, wipes the old block and frees it, so a buffer that
 * holds a secret never leaves stale copies in freed memory; fg_buf_wipe_release() wipes
 * the final block with sodium_memzero(), which the compiler cannot optimise away.
 */
#include "base/buf.h"

#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* The first allocation: small strings are common, and tiny reallocations waste time. */
#define BUF_CAP_MIN 64u

static void buf_check(const struct fg_buf *b)
{
    assert(b != NULL);
    assert(b->len <= b->max);
    assert(b->data == NULL ? (b->len == 0 && b->cap == 0) : b->len < b->cap);
    assert(b->max < SIZE_MAX); /* so max + 1 (room for the NUL) cannot wrap */
    assert(b->cap <= b->max + 1);
}

void fg_buf_init(struct fg_buf *b, size_t max)
{
    assert(b != NULL);
    assert(max < SIZE_MAX);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

/* Make room for `extra` more bytes plus the NUL. Contents are kept; on failure nothing
 * changes. */
static fg_rc buf_reserve(struct fg_buf *b, size_t extra)
{
    buf_check(b);
    if (extra > b->max - b->len)
        return FG_ERR_TOO_LARGE;
    size_t need = b->len + extra + 1; /* cannot overflow: len + extra <= max < SIZE_MAX */
    if (b->data != NULL && need <= b->cap)
        return FG_OK;

    size_t cap = b->cap < BUF_CAP_MIN ? BUF_CAP_MIN : b->cap;
    while (cap < need && cap <= (SIZE_MAX / 2))
        cap *= 2;
    if (cap < need)
        cap = need;
    if (cap > b->max + 1)
        cap = b->max + 1;
    assert(cap >= need);

    char *fresh = malloc(cap);
    if (fresh == NULL)
        return FG_ERR_NOMEM;
    if (b->data != NULL) {
        memcpy(fresh, b->data, b->len + 1);
        sodium_memzero(b->data, b->cap);
        free(b->data);
    } else {
        fresh[0] = '\0';
    }
    b->data = fresh;
    b->cap = cap;
    buf_check(b);
    return FG_OK;
}

fg_rc fg_buf_append(struct fg_buf *b, const void *p, size_t n)
{
    buf_check(b);
    assert(p != NULL || n == 0);
    if (n == 0)
        return FG_OK;
    fg_rc rc = buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return FG_OK;
}

fg_rc fg_buf_append_str(struct fg_buf *b, const char *s)
{
    assert(s != NULL);
    return fg_buf_append(b, s, strlen(s));
}

fg_rc fg_buf_append_char(struct fg_buf *b, char c)
{
    return fg_buf_append(b, &c, 1);
}

fg_rc fg_buf_vappendf(struct fg_buf *b, const char *fmt, va_list ap)
{
    buf_check(b);
    assert(fmt != NULL);

    va_list measure;
    va_copy(measure, ap);
    int n = vsnprintf(NULL, 0, fmt, measure);
    va_end(measure);
    if (n < 0)
        return FG_ERR_INVALID;
    if (n == 0)
        return FG_OK;

    fg_rc rc = buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    int written = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    if (written != n) {
        /* Cannot happen with the same arguments; keep the buffer as it was. */
        b->data[b->len] = '\0';
        return FG_ERR_INTERNAL;
    }
    b->len += (size_t)n;
    assert(b->data[b->len] == '\0');
    return FG_OK;
}

fg_rc fg_buf_appendf(struct fg_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fg_rc rc = fg_buf_vappendf(b, fmt, ap);
    va_end(ap);
    return rc;
}

/* The escape of one byte, or NULL if it is copied as-is. `tmp` holds \u00XX forms. */
static const char *json_escape_of(unsigned char c, char tmp[7])
{
    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\b':
        return "\\b";
    case '\f':
        return "\\f";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    default:
        break;
    }
    if (c < 0x20) {
        static const char hex[] = "0123456789abcdef";
        tmp[0] = '\\';
        tmp[1] = 'u';
        tmp[2] = '0';
        tmp[3] = '0';
        tmp[4] = hex[c >> 4];
        tmp[5] = hex[c & 0xf];
        tmp[6] = '\0';
        return tmp;
    }
    return NULL;
}

fg_rc fg_buf_append_json_escaped(struct fg_buf *b, const char *s, size_t n)
{
    buf_check(b);
    assert(s != NULL || n == 0);

    /* Measure first so the append is all-or-nothing. Each byte grows to at most 6. */
    size_t need = 0;
    char tmp[7];
    for (size_t i = 0; i < n; i++) {
        const char *e = json_escape_of((unsigned char)s[i], tmp);
        need += e ? strlen(e) : 1;
    }
    fg_rc rc = buf_reserve(b, need);
    if (rc)
        return rc;

    char *out = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        const char *e = json_escape_of((unsigned char)s[i], tmp);
        if (e) {
            size_t el = strlen(e);
            memcpy(out, e, el);
            out += el;
        } else {
            *out++ = s[i];
        }
    }
    assert((size_t)(out - (b->data + b->len)) == need);
    b->len += need;
    b->data[b->len] = '\0';
    return FG_OK;
}

fg_rc fg_buf_append_hex(struct fg_buf *b, const void *p, size_t n)
{
    buf_check(b);
    assert(p != NULL || n == 0);
    if (n > SIZE_MAX / 2)
        return FG_ERR_TOO_LARGE;
    fg_rc rc = buf_reserve(b, 2 * n);
    if (rc)
        return rc;
    static const char hex[] = "0123456789abcdef";
    const unsigned char *in = p;
    char *out = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 0xf];
    }
    b->len += 2 * n;
    b->data[b->len] = '\0';
    return FG_OK;
}

void fg_buf_reset(struct fg_buf *b)
{
    buf_check(b);
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

void fg_buf_release(struct fg_buf *b)
{
    buf_check(b);
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void fg_buf_wipe_release(struct fg_buf *b)
{
    buf_check(b);
    if (b->data != NULL)
        sodium_memzero(b->data, b->cap);
    fg_buf_release(b);
}

const char *fg_buf_str(const struct fg_buf *b)
{
    buf_check(b);
    return b->data != NULL ? b->data : "";
}
