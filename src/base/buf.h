/*
 * buf.h — the one growable buffer (curl's dynbuf): it takes its maximum at creation and
 * refuses to grow past it (FG_ERR_TOO_LARGE), so no string in finguard grows unbounded.
 *
 * The data is always NUL-terminated (len excludes the NUL) so it can be handed to C APIs.
 * A failed append leaves the buffer as it was. fg_buf_release() frees and resets; the
 * buffer can be reused after it. fg_buf_wipe_release() zeroes the memory first (secrets).
 */
#ifndef FG_BASE_BUF_H
#define FG_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "base/rc.h"

struct fg_buf {
    char *data;  /* NULL until the first append */
    size_t len;  /* bytes used, excluding the trailing NUL */
    size_t cap;  /* bytes allocated */
    size_t max;  /* most bytes (excluding NUL) this buffer may ever hold */
};

#define FG_BUF_INIT(max_) {NULL, 0, 0, (max_)}

void fg_buf_init(struct fg_buf *b, size_t max);
FG_MUST_CHECK fg_rc fg_buf_append(struct fg_buf *b, const void *p, size_t n);
FG_MUST_CHECK fg_rc fg_buf_append_str(struct fg_buf *b, const char *s);
FG_MUST_CHECK fg_rc fg_buf_append_char(struct fg_buf *b, char c);
FG_MUST_CHECK fg_rc fg_buf_appendf(struct fg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
FG_MUST_CHECK fg_rc fg_buf_vappendf(struct fg_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Append s as the inside of a JSON string (quotes not included): escapes ", \, control
 * characters; bytes ≥ 0x80 are copied as-is (the caller guarantees valid UTF-8). */
FG_MUST_CHECK fg_rc fg_buf_append_json_escaped(struct fg_buf *b, const char *s, size_t n);
/* Lowercase hex of p[0..n). */
FG_MUST_CHECK fg_rc fg_buf_append_hex(struct fg_buf *b, const void *p, size_t n);
/* Forget the contents, keep the memory. */
void fg_buf_reset(struct fg_buf *b);
void fg_buf_release(struct fg_buf *b);
void fg_buf_wipe_release(struct fg_buf *b);
/* The contents ("" when empty; never NULL). */
const char *fg_buf_str(const struct fg_buf *b);

#endif
