/*
 * log.h — structured logging: one JSON object per line.
 *
 *   fg_log(FG_LOG_INFO, "http.listen", FG_LF_STR("addr", addr), FG_LF_INT("port", port));
 *   → {"time":"2026-11-21T12:00:00.000Z","level":"info","event":"http.listen",
 *      "addr":"127.0.0.1","port":8443}
 *
 * Redaction rule (STYLE.md "Secrets"): a field declared with FG_LF_SECRET is written as
 * "[redacted]" whatever its value; and any field whose *name* contains one of the
 * sensitive words (password, secret, token, otp, key, pan, id_number, share, cvv,
 * signature, nonce, cookie, authorization) is redacted too, so a careless call cannot leak.
 * The name test is a case-insensitive substring match, deliberately broad: "monkey" and
 * "company" are redacted too — a false positive costs a log detail, a false negative a secret.
 * Values are JSON-escaped; a line longer than FG_LOG_LINE_MAX is cut ("truncated":true).
 *
 * Output goes to stderr unless fg_log_open_file() chose a file; each line is written with
 * one write(2), so lines from threads never interleave. Thread-safe.
 */
#ifndef FG_BASE_LOG_H
#define FG_BASE_LOG_H

#include <stdint.h>

#include "base/rc.h"

enum fg_log_level { FG_LOG_DEBUG = 0, FG_LOG_INFO, FG_LOG_WARN, FG_LOG_ERROR };

enum fg_log_field_type { FG_LF_END_ = 0, FG_LF_STR_, FG_LF_INT_, FG_LF_DBL_, FG_LF_BOOL_, FG_LF_SECRET_ };

struct fg_log_field {
    enum fg_log_field_type type;
    const char *name;
    const char *s;
    int64_t i;
    double d;
};

#define FG_LF_STR(n, v) ((struct fg_log_field){.type = FG_LF_STR_, .name = (n), .s = (v)})
#define FG_LF_INT(n, v) ((struct fg_log_field){.type = FG_LF_INT_, .name = (n), .i = (int64_t)(v)})
#define FG_LF_DBL(n, v) ((struct fg_log_field){.type = FG_LF_DBL_, .name = (n), .d = (double)(v)})
#define FG_LF_BOOL(n, v) ((struct fg_log_field){.type = FG_LF_BOOL_, .name = (n), .i = !!(v)})
#define FG_LF_SECRET(n) ((struct fg_log_field){.type = FG_LF_SECRET_, .name = (n)})
#define FG_LF_END_MARK ((struct fg_log_field){.type = FG_LF_END_})

/* The fields list ends implicitly (the macro appends the end marker). */
#define fg_log(level, event, ...) \
    fg_log_fields((level), (event), (const struct fg_log_field[]){__VA_ARGS__ __VA_OPT__(,) FG_LF_END_MARK})

void fg_log_fields(enum fg_log_level level, const char *event, const struct fg_log_field *fields);

void fg_log_set_level(enum fg_log_level level);
enum fg_log_level fg_log_get_level(void);
/* "debug" | "info" | "warn" | "error" → level; FG_ERR_INVALID otherwise. */
FG_MUST_CHECK fg_rc fg_log_level_parse(const char *s, enum fg_log_level *out);
/* Append to a file instead of stderr (opened O_APPEND|O_CLOEXEC, mode 0600). */
FG_MUST_CHECK fg_rc fg_log_open_file(const char *path);
void fg_log_close(void);
/* 1 if a field with this name is redacted by the name rule. */
int fg_log_name_is_sensitive(const char *name);

#endif
