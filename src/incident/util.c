/*
 * util.c — the incident module's shared helpers (internal.h).
 */
#include <string.h>

#include "base/encode.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "incident/internal.h"

#define ID_RANDOM_BYTES 16u
#define ID_TRIES 16
#define ID_DIGIT_RUN_MAX 8 /* the event redactor looks for runs of 13 and more */

fg_rc fg_inc_new_id(const char *prefix, char out[27])
{
    if (prefix == NULL || strlen(prefix) != 4)
        return FG_ERR_INVALID;
    for (int attempt = 0; attempt < ID_TRIES; attempt++) {
        uint8_t raw[ID_RANDOM_BYTES];
        fg_rc rc = fg_random(raw, sizeof raw);
        memcpy(out, prefix, 4);
        if (rc == FG_OK)
            rc = fg_base64url_encode(raw, sizeof raw, out + 4, 27 - 4);
        if (rc)
            return rc;
        int run = 0, worst = 0;
        for (size_t i = 4; out[i] != '\0'; i++) {
            run = out[i] >= '0' && out[i] <= '9' ? run + 1 : 0;
            worst = run > worst ? run : worst;
        }
        if (worst <= ID_DIGIT_RUN_MAX && strlen(out) == 26)
            return FG_OK;
    }
    return FG_ERR_INTERNAL;
}

int fg_inc_id_ok(const char *prefix, const char *s)
{
    if (s == NULL || strlen(s) != 26 || memcmp(s, prefix, 4) != 0)
        return 0;
    for (size_t i = 4; i < 26; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

int fg_inc_text_ok(const char *s, size_t max, int multi_line)
{
    if (s == NULL)
        return 1;
    size_t n = strlen(s);
    if (n > max)
        return 0;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c < 0x80) {
            if (c == 0x7f || (c < 0x20 && !(multi_line && (c == '\n' || c == '\t'))))
                return 0;
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
            return 0;
        i += len;
    }
    return 1;
}

int fg_inc_name_ok(const char *s, size_t max)
{
    if (s == NULL)
        return 0;
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

int fg_inc_token_ok(const char *s, size_t max)
{
    if (s == NULL)
        return 0;
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return 0;
    return 1;
}

void fg_inc_col_text(const struct fg_val *v, char *out, size_t cap)
{
    if (cap == 0)
        return;
    size_t n = 0;
    if (v->type == FG_VAL_TEXT || v->type == FG_VAL_BLOB) {
        n = v->n < cap - 1 ? v->n : cap - 1;
        if (n)
            memcpy(out, v->p, n);
    }
    out[n] = '\0';
}

int64_t fg_inc_col_int(const struct fg_val *v)
{
    return v->type == FG_VAL_INT ? v->i : 0;
}

fg_rc fg_inc_row_int(void *ctx, const struct fg_val *cols, int ncols)
{
    if (ncols >= 1)
        *(int64_t *)ctx = fg_inc_col_int(&cols[0]);
    return FG_OK;
}

fg_rc fg_inc_json_str(struct fg_buf *b, const char *s, size_t n)
{
    fg_rc rc = fg_buf_append_char(b, '"');
    if (!rc)
        rc = fg_buf_append_json_escaped(b, s, n);
    if (!rc)
        rc = fg_buf_append_char(b, '"');
    return rc;
}

fg_rc fg_inc_json_time(struct fg_buf *b, const char *name, int64_t ms)
{
    if (ms == 0)
        return fg_buf_appendf(b, ",\"%s\":null", name);
    char t[FG_TIME_RFC3339_LEN];
    fg_time_format_rfc3339(ms, t);
    return fg_buf_appendf(b, ",\"%s\":\"%s\"", name, t);
}
