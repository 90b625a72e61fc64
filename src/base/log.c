/*
 * log.c — JSON-lines logging (see log.h).
 *
 * A line is built in a fixed stack buffer of FG_LOG_LINE_MAX bytes (no allocation, so an
 * out-of-memory path can still log). The builder keeps LOG_TAIL bytes in reserve for
 * `,"truncated":true}` plus the newline: a value that does not fit is cut at a character
 * boundary and its string closed, no further field is written, and the tail is appended,
 * so every line stays valid JSON and at most FG_LOG_LINE_MAX bytes (≤ PIPE_BUF, so a
 * write to a pipe is atomic too). Strings are escaped as JSON and validated as UTF-8; a
 * byte that is not part of a valid sequence becomes U+FFFD, so caller data can never
 * break the line. Redaction happens while building: FG_LF_SECRET fields and any field
 * whose name matches the sensitive-word list (case-insensitive substring) are written as
 * "[redacted]" whatever their type or value.
 *
 * Output: the descriptor (stderr unless fg_log_open_file() chose a file) is guarded by a
 * reader-writer lock — logging threads take it shared and issue one write(2) per line,
 * opening/closing takes it exclusive so a descriptor is never closed under a writer.
 * The level is an atomic, checked before any work.
 */
#include "base/log.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/limits.h"
#include "base/time.h"

#define LOG_TRUNCATED_TAIL ",\"truncated\":true}\n"
#define LOG_TAIL (sizeof(LOG_TRUNCATED_TAIL) - 1u)
#define LOG_REDACTED "\"[redacted]\""

static _Atomic int log_level = FG_LOG_INFO;
static pthread_rwlock_t log_lock = PTHREAD_RWLOCK_INITIALIZER;
static int log_fd = STDERR_FILENO; /* guarded by log_lock */

/* Field names containing any of these (ignoring case) are redacted. Substring matching
 * errs towards redaction: "api_key", "session_token", "otp_code" are caught, and so are
 * innocent names such as "company" (pan) or "monkey" (key) — rename such a field. */
static const char *const log_sensitive_words[] = {
    "password", "secret", "token",     "otp",   "key",    "pan",           "id_number",
    "share",    "cvv",    "signature", "nonce", "cookie", "authorization", NULL,
};

static const char *const log_level_names[] = {"debug", "info", "warn", "error"};

struct log_line {
    char data[FG_LOG_LINE_MAX];
    size_t len;
    size_t limit; /* len may not pass this; the rest is the tail's reserve */
    int truncated;
};

void fg_log_set_level(enum fg_log_level level)
{
    assert(level >= FG_LOG_DEBUG && level <= FG_LOG_ERROR);
    atomic_store(&log_level, (int)level);
}

enum fg_log_level fg_log_get_level(void)
{
    return (enum fg_log_level)atomic_load(&log_level);
}

fg_rc fg_log_level_parse(const char *s, enum fg_log_level *out)
{
    assert(s != NULL);
    assert(out != NULL);
    for (int i = FG_LOG_DEBUG; i <= FG_LOG_ERROR; i++) {
        if (strcasecmp(s, log_level_names[i]) == 0) {
            *out = (enum fg_log_level)i;
            return FG_OK;
        }
    }
    return FG_ERR_INVALID;
}

int fg_log_name_is_sensitive(const char *name)
{
    if (name == NULL)
        return 0;
    for (size_t i = 0; log_sensitive_words[i] != NULL; i++)
        if (strcasestr(name, log_sensitive_words[i]) != NULL)
            return 1;
    return 0;
}

fg_rc fg_log_open_file(const char *path)
{
    assert(path != NULL);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return FG_ERR_IO;
    pthread_rwlock_wrlock(&log_lock);
    int old = log_fd;
    log_fd = fd;
    pthread_rwlock_unlock(&log_lock);
    if (old != STDERR_FILENO)
        close(old);
    return FG_OK;
}

void fg_log_close(void)
{
    pthread_rwlock_wrlock(&log_lock);
    int old = log_fd;
    log_fd = STDERR_FILENO;
    pthread_rwlock_unlock(&log_lock);
    if (old != STDERR_FILENO)
        close(old);
}

/* Append n raw bytes if they fit entirely; otherwise mark the line truncated. */
static int line_raw(struct log_line *l, const char *s, size_t n)
{
    if (l->truncated || n > l->limit - l->len) {
        l->truncated = 1;
        return 0;
    }
    memcpy(l->data + l->len, s, n);
    l->len += n;
    return 1;
}

static void line_str(struct log_line *l, const char *s)
{
    line_raw(l, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if it is not one (overlong forms,
 * surrogates and code points past U+10FFFF are invalid, as in RFC 3629). */
static size_t utf8_sequence_len(const unsigned char *s, size_t n)
{
    assert(n > 0 && s[0] >= 0x80);
    size_t len;
    unsigned min;
    unsigned cp;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2, min = 0x80, cp = s[0] & 0x1fu;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3, min = 0x800, cp = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4, min = 0x10000, cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0u) != 0x80u)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Append s as a JSON string (with quotes). If it does not fit, it is cut at a character
 * boundary and still closed, and the line is marked truncated. Returns 1 if the string
 * was written (perhaps cut), 0 if there was no room even for its quotes. */
static int line_json_string(struct log_line *l, const char *s, size_t n)
{
    if (l->truncated || l->limit - l->len < 2) {
        l->truncated = 1;
        return 0;
    }
    l->data[l->len++] = '"';
    l->limit -= 1; /* keep room for the closing quote whatever happens */
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n && !l->truncated) {
        char esc[8];
        const char *piece = s + i;
        size_t piece_len = 1;
        size_t consumed = 1;
        if (u[i] == '"' || u[i] == '\\') {
            esc[0] = '\\';
            esc[1] = (char)u[i];
            piece = esc;
            piece_len = 2;
        } else if (u[i] < 0x20 || u[i] == 0x7f) {
            int w = snprintf(esc, sizeof esc, "\\u%04x", (unsigned)u[i]);
            assert(w == 6);
            piece = esc;
            piece_len = (size_t)w;
        } else if (u[i] >= 0x80) {
            size_t seq = utf8_sequence_len(u + i, n - i);
            if (seq == 0) {
                piece = "\\ufffd";
                piece_len = 6;
            } else {
                piece_len = seq;
                consumed = seq;
            }
        }
        if (line_raw(l, piece, piece_len))
            i += consumed;
    }
    l->limit += 1;
    assert(l->len < l->limit);
    l->data[l->len++] = '"';
    return 1;
}

/* s as a JSON string, or null; returns what line_json_string returns (0 for null). */
static int line_json_cstr(struct log_line *l, const char *s)
{
    if (s == NULL) {
        line_str(l, "null");
        return 0;
    }
    return line_json_string(l, s, strlen(s));
}

/* The value of field f; returns 1 if it was a string (which may be cut, but is valid). */
static int line_value(struct log_line *l, const struct fg_log_field *f)
{
    char num[40];
    int w;
    if (f->type == FG_LF_SECRET_ || fg_log_name_is_sensitive(f->name)) {
        line_str(l, LOG_REDACTED);
        return 0;
    }
    switch (f->type) {
    case FG_LF_STR_:
        return line_json_cstr(l, f->s);
    case FG_LF_INT_:
        w = snprintf(num, sizeof num, "%" PRId64, f->i);
        assert(w > 0 && (size_t)w < sizeof num);
        line_raw(l, num, (size_t)w);
        return 0;
    case FG_LF_DBL_:
        if (!isfinite(f->d)) {
            line_str(l, "null"); /* JSON has no NaN or infinity */
            return 0;
        }
        w = snprintf(num, sizeof num, "%.17g", f->d);
        assert(w > 0 && (size_t)w < sizeof num);
        line_raw(l, num, (size_t)w);
        return 0;
    case FG_LF_BOOL_:
        line_str(l, f->i ? "true" : "false");
        return 0;
    default:
        assert(0 && "unknown log field type");
        line_str(l, "null");
        return 0;
    }
}

/* ,"name":value — all or nothing, except that a long string value may be cut. */
static void line_field(struct log_line *l, const struct fg_log_field *f)
{
    assert(f->name != NULL);
    size_t mark = l->len;
    line_raw(l, ",", 1);
    line_json_cstr(l, f->name);
    line_raw(l, ":", 1);
    if (l->truncated) {
        l->len = mark; /* a cut name would leave a key without a value */
        return;
    }
    int was_string = line_value(l, f);
    if (l->truncated && !was_string)
        l->len = mark;
}

static void log_write(const char *data, size_t len)
{
    pthread_rwlock_rdlock(&log_lock);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(log_fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* nowhere to report a failing log; drop the line */
        off += (size_t)w;
    }
    pthread_rwlock_unlock(&log_lock);
}

void fg_log_fields(enum fg_log_level level, const char *event, const struct fg_log_field *fields)
{
    assert(level >= FG_LOG_DEBUG && level <= FG_LOG_ERROR);
    assert(event != NULL);
    assert(fields != NULL);
    if ((int)level < atomic_load(&log_level))
        return;

    struct log_line l;
    l.len = 0;
    l.limit = sizeof l.data - LOG_TAIL;
    l.truncated = 0;

    char when[FG_TIME_RFC3339_LEN];
    fg_time_format_rfc3339(fg_time_wall_ms(), when);
    line_str(&l, "{\"time\":\"");
    line_str(&l, when);
    line_str(&l, "\",\"level\":\"");
    line_str(&l, log_level_names[level]);
    line_str(&l, "\",\"event\":");
    line_json_cstr(&l, event);
    for (size_t i = 0; fields[i].type != FG_LF_END_ && !l.truncated; i++)
        line_field(&l, &fields[i]);

    const char *tail = l.truncated ? LOG_TRUNCATED_TAIL : "}\n";
    size_t tail_len = strlen(tail);
    assert(l.len + tail_len <= sizeof l.data);
    memcpy(l.data + l.len, tail, tail_len);
    l.len += tail_len;
    log_write(l.data, l.len);
}
