/*
 * password.c — password rules, Argon2id storage, history and the dummy verification.
 *
 * A check decodes the password into code points once (which both validates the UTF-8 and
 * counts characters), folds them to lower case with towlower_l() in a private C.UTF-8
 * locale (so "É" matches "é" whatever the process locale is), and runs the cheap rules of
 * our own on those code points: personal information, runs, the blocklist (a sorted array
 * of folded entries, looked up with bsearch). Only then does it call libpwquality, twice
 * at most: on the password as typed (its own checks plus cracklib's dictionary), and on
 * the "core" of the password without leading and trailing non-letters, because cracklib
 * finds "Welcome" but not "Welcome123!". cracklib's Mangle/Reverse/Lowercase and its
 * dictionary page cache are static buffers (checked in cracklib 2.9 lib/rules.c,
 * lib/packlib.c; libcrack.so has a 16 KiB .bss), so libpwquality calls hold
 * cracklib_lock; libpwquality itself only reads its settings (check.c of 1.4.5), so one
 * settings object serves all threads. Every copy of the password we make is on the stack
 * and wiped before returning; cracklib's static buffers keep fragments of the last
 * password checked, which we cannot reach (docs/passwords.md).
 *
 * The dummy hash for unknown users is made once per process, lazily under dummy_lock (a
 * failure is retried by the next caller), from 32 random bytes that are wiped at once.
 */
#include "iam/password.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wctype.h>

#include <pwquality.h>

/* ---- reasons ------------------------------------------------------------------------------ */
static const char REASON_UTF8[] = "is not valid UTF-8 text";
static const char REASON_CONTROL[] = "contains a control character";
static const char REASON_LETTER[] = "must contain a letter";
static const char REASON_DIGIT[] = "must contain a digit";
static const char REASON_USERNAME[] = "contains the user name";
static const char REASON_NAME[] = "contains part of the name";
static const char REASON_PHONE[] = "contains the phone number";
static const char REASON_RUN[] = "has a sequence or repeated characters";
static const char REASON_BLOCKLIST[] = "is on the blocklist";
static const char REASON_DICTIONARY[] = "is a dictionary word";
static const char REASON_PALINDROME[] = "is a palindrome";
static const char REASON_FEW_DIFFERENT[] = "has too few different characters";
static const char REASON_GUESSABLE[] = "is too easy to guess";

/* cracklib refuses words shorter than this (fascist.c MINLEN) before any dictionary lookup,
 * so a shorter core is not worth a call. */
#define CRACKLIB_WORD_MIN 6
/* Longest reason we format ("too short: at least 256 characters"). */
#define REASON_FORMATTED_MAX 48u
/* Bytes of UTF-8 for the longest password we examine, plus the NUL. */
#define PASSWORD_UTF8_MAX (FG_PASSWORD_CHARS_CEILING * 4u + 1u)
/* Probes of load(): a password no dictionary should know, and the most common one. */
#define PROBE_STRONG "Rk7#vq2Lp9!xZt"
#define PROBE_WORD "password"

static_assert(FG_PASSWORD_CHARS_CEILING * 4u <= FG_CRYPTO_PASSWORD_MAX, "ceiling fits hashing");
static_assert(FG_PASSWORD_RUN_MIN >= 2 && FG_PASSWORD_RUN_MIN <= 8, "run length");

struct fg_password_checker {
    struct fg_password_policy policy; /* paths NULL: not kept */
    pwquality_settings_t *pwq;        /* the password as typed */
    pwquality_settings_t *pwq_word;   /* its core, dictionary only */
    locale_t ctype;                   /* C.UTF-8, for iswalpha_l / towlower_l */
    char reason_short[REASON_FORMATTED_MAX];
    char reason_long[REASON_FORMATTED_MAX];
    struct fg_buf blocklist_data; /* folded entries, each NUL-terminated */
    const char **blocklist;       /* into blocklist_data, sorted by strcmp */
    size_t blocklist_n;
};

static pthread_mutex_t cracklib_lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_mutex_t dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static char dummy_hash[FG_PWHASH_STR_MAX]; /* written once under dummy_lock, then read-only */
static int dummy_ready;

/* Appends one line to the caller's error buffer, if any; a full buffer loses the line
 * (the fg_rc still says what happened). */
__attribute__((format(printf, 2, 3))) static void note(struct fg_buf *errors, const char *fmt, ...)
{
    if (errors == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    fg_rc ignored = fg_buf_vappendf(errors, fmt, ap);
    va_end(ap);
    (void)ignored;
}

/* ---- UTF-8 and text ----------------------------------------------------------------------- */
enum decode_result { DECODE_OK = 0, DECODE_BAD, DECODE_CONTROL, DECODE_FULL };

/* One code point at s[0..n): its length in bytes, or 0 if not well-formed UTF-8 (overlong
 * forms, surrogates and values past U+10FFFF are not). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    assert(n > 0);
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (len == 0 || s[0] > 0xF4 || n < len)
        return 0;
    uint32_t v = s[0] & (0x7Fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if ((len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
        (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

static size_t utf8_put(uint32_t cp, char *out)
{
    assert(cp <= 0x10FFFF);
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Encodes cp[0..n) into out (n * 4 + 1 bytes at least), NUL-terminated; the length. */
static size_t utf8_encode(const uint32_t *cp, size_t n, char *out)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += utf8_put(cp[i], out + len);
    out[len] = '\0';
    return len;
}

static int is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp < 0xA0);
}

/* Decodes s[0..len) into cp[0..cap) (*n code points). DECODE_FULL as soon as there are
 * more than cap; DECODE_CONTROL for C0/C1 controls (NUL included). */
static enum decode_result text_decode(const char *s, size_t len, uint32_t *cp, size_t cap,
                                      size_t *n)
{
    const unsigned char *u = (const unsigned char *)s;
    *n = 0;
    for (size_t i = 0; i < len;) {
        if (*n == cap)
            return DECODE_FULL;
        size_t step = utf8_next(u + i, len - i, &cp[*n]);
        if (step == 0)
            return DECODE_BAD;
        if (is_control(cp[*n]))
            return DECODE_CONTROL;
        (*n)++;
        i += step;
    }
    return DECODE_OK;
}

static void text_fold(uint32_t *cp, size_t n, locale_t loc)
{
    for (size_t i = 0; i < n; i++) {
        wint_t lower = towlower_l((wint_t)cp[i], loc);
        if (lower <= 0x10FFFF && !(lower >= 0xD800 && lower <= 0xDFFF))
            cp[i] = (uint32_t)lower;
    }
}

/* 1 if needle[0..nn) occurs in hay[0..hn), read backwards if reversed. */
static int text_contains(const uint32_t *hay, size_t hn, const uint32_t *needle, size_t nn,
                         int reversed)
{
    assert(nn > 0);
    for (size_t i = 0; nn <= hn && i <= hn - nn; i++) {
        size_t k = 0;
        while (k < nn && hay[i + k] == needle[reversed ? nn - 1 - k : k])
            k++;
        if (k == nn)
            return 1;
    }
    return 0;
}

/* 1 if a run of letters and digits of field, at least FG_PASSWORD_NAME_PART_MIN long,
 * occurs in the password. */
static int text_contains_part(const uint32_t *pw, size_t n, const uint32_t *field, size_t fn,
                              locale_t loc)
{
    size_t start = 0;
    for (size_t i = 0; i <= fn; i++) {
        if (i < fn && iswalnum_l((wint_t)field[i], loc))
            continue;
        if (i - start >= FG_PASSWORD_NAME_PART_MIN &&
            text_contains(pw, n, field + start, i - start, 0))
            return 1;
        start = i + 1;
    }
    return 0;
}

/* ---- personal information ----------------------------------------------------------------- */
/* Decodes and folds a personal field; FG_ERR_INVALID if it is too long or not UTF-8. */
static fg_rc field_decode(const char *s, uint32_t *cp, size_t *n, locale_t loc)
{
    size_t len = strnlen(s, FG_PASSWORD_PERSONAL_BYTES_MAX + 1);
    if (len > FG_PASSWORD_PERSONAL_BYTES_MAX)
        return FG_ERR_INVALID;
    enum decode_result d = text_decode(s, len, cp, FG_PASSWORD_PERSONAL_BYTES_MAX, n);
    if (d != DECODE_OK)
        return FG_ERR_INVALID;
    text_fold(cp, *n, loc);
    return FG_OK;
}

static int phone_found(const uint32_t *pw, size_t n, const char *phone)
{
    uint32_t digits[FG_PASSWORD_PERSONAL_BYTES_MAX];
    size_t nd = 0;
    for (size_t i = 0; phone[i] != '\0' && i < FG_PASSWORD_PERSONAL_BYTES_MAX; i++)
        if (phone[i] >= '0' && phone[i] <= '9')
            digits[nd++] = (uint32_t)phone[i];
    for (size_t i = 0; nd >= FG_PASSWORD_PHONE_DIGITS_MIN && i <= nd - FG_PASSWORD_PHONE_DIGITS_MIN;
         i++)
        if (text_contains(pw, n, digits + i, FG_PASSWORD_PHONE_DIGITS_MIN, 0))
            return 1;
    return 0;
}

/* pw[0..n) is folded. FG_OK with *reason NULL if nothing personal was found. */
static fg_rc check_personal(const struct fg_password_checker *c, const uint32_t *pw, size_t n,
                            const struct fg_password_context *who, const char **reason)
{
    uint32_t field[FG_PASSWORD_PERSONAL_BYTES_MAX];
    size_t fn = 0;
    fg_rc rc;
    if (who->username != NULL && who->username[0] != '\0') {
        if ((rc = field_decode(who->username, field, &fn, c->ctype)) != FG_OK)
            return rc;
        if (fn >= FG_PASSWORD_NAME_PART_MIN &&
            (text_contains(pw, n, field, fn, 0) || text_contains(pw, n, field, fn, 1))) {
            *reason = REASON_USERNAME;
            return FG_OK;
        }
        if (text_contains_part(pw, n, field, fn, c->ctype)) {
            *reason = REASON_USERNAME;
            return FG_OK;
        }
    }
    if (who->display_name != NULL && who->display_name[0] != '\0') {
        if ((rc = field_decode(who->display_name, field, &fn, c->ctype)) != FG_OK)
            return rc;
        if (text_contains_part(pw, n, field, fn, c->ctype)) {
            *reason = REASON_NAME;
            return FG_OK;
        }
    }
    if (who->phone != NULL && who->phone[0] != '\0') {
        if (strnlen(who->phone, FG_PASSWORD_PERSONAL_BYTES_MAX + 1) >
            FG_PASSWORD_PERSONAL_BYTES_MAX)
            return FG_ERR_INVALID;
        if (phone_found(pw, n, who->phone))
            *reason = REASON_PHONE;
    }
    return FG_OK;
}

/* ---- runs --------------------------------------------------------------------------------- */
/* Keyboard rows (US layout, which is also what Chinese users type on), read both ways. */
static const char *const keyboard_rows[] = {
    "qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890", "!@#$%^&*()", "qazwsxedc",
};

static int run_on_row(const uint32_t *w, const char *row)
{
    size_t rn = strlen(row);
    for (size_t j = 0; j < rn; j++) {
        if ((uint32_t)(unsigned char)row[j] != w[0])
            continue;
        size_t fwd = 1, back = 1;
        while (fwd < FG_PASSWORD_RUN_MIN && j + fwd < rn &&
               w[fwd] == (uint32_t)(unsigned char)row[j + fwd])
            fwd++;
        while (back < FG_PASSWORD_RUN_MIN && back <= j &&
               w[back] == (uint32_t)(unsigned char)row[j - back])
            back++;
        if (fwd == FG_PASSWORD_RUN_MIN || back == FG_PASSWORD_RUN_MIN)
            return 1;
    }
    return 0;
}

/* 1 for a-z, 2 for 0-9, 0 for anything else: steps count only inside one class. */
static int step_class(uint32_t c)
{
    return c >= 'a' && c <= 'z' ? 1 : c >= '0' && c <= '9' ? 2 : 0;
}

/* w[0..FG_PASSWORD_RUN_MIN) (folded): one character repeated, a step of +1 or -1 through
 * a-z or 0-9, or a stretch of a keyboard row. */
static int is_run(const uint32_t *w)
{
    int same = 1, up = 1, down = 1, cls = step_class(w[0]);
    for (size_t k = 1; k < FG_PASSWORD_RUN_MIN; k++) {
        same &= w[k] == w[0];
        up &= w[k] == w[k - 1] + 1;
        down &= w[k] + 1 == w[k - 1];
        cls = step_class(w[k]) == cls ? cls : 0;
    }
    if (same || (cls != 0 && (up || down)))
        return 1;
    for (size_t r = 0; r < sizeof keyboard_rows / sizeof keyboard_rows[0]; r++)
        if (run_on_row(w, keyboard_rows[r]))
            return 1;
    return 0;
}

static int has_run(const uint32_t *pw, size_t n)
{
    for (size_t i = 0; n >= FG_PASSWORD_RUN_MIN && i <= n - FG_PASSWORD_RUN_MIN; i++)
        if (is_run(pw + i))
            return 1;
    return 0;
}

/* ---- blocklist ---------------------------------------------------------------------------- */
static int compare_entries(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int blocklisted(const struct fg_password_checker *c, const char *folded)
{
    if (c->blocklist_n == 0)
        return 0;
    return bsearch(&folded, c->blocklist, c->blocklist_n, sizeof c->blocklist[0],
                   compare_entries) != NULL;
}

/* Reads the whole file (≤ FG_PASSWORD_BLOCKLIST_BYTES_MAX) into a new buffer. */
static fg_rc file_read(const char *path, char **out, size_t *len, struct fg_buf *errors)
{
    char msg[128];
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        note(errors, "password blocklist %s: %s\n", path, strerror_r(errno, msg, sizeof msg));
        return FG_ERR_IO;
    }
    struct stat st;
    fg_rc rc = FG_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        note(errors, "password blocklist %s: not a readable regular file\n", path);
        rc = FG_ERR_IO;
    } else if ((uint64_t)st.st_size > FG_PASSWORD_BLOCKLIST_BYTES_MAX) {
        note(errors, "password blocklist %s: larger than %u bytes\n", path,
             FG_PASSWORD_BLOCKLIST_BYTES_MAX);
        rc = FG_ERR_TOO_LARGE;
    }
    char *data = rc == FG_OK ? malloc((size_t)st.st_size + 1) : NULL;
    if (rc == FG_OK && data == NULL)
        rc = FG_ERR_NOMEM;
    size_t size = rc == FG_OK ? (size_t)st.st_size : 0, got = 0;
    while (got < size) {
        ssize_t r = read(fd, data + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            note(errors, "password blocklist %s: %s\n", path, strerror_r(errno, msg, sizeof msg));
            rc = FG_ERR_IO;
        }
        if (r <= 0)
            break; /* an error, or the file shrank while we read: take what there is */
        got += (size_t)r;
    }
    close(fd);
    if (rc != FG_OK) {
        free(data);
        return rc;
    }
    data[got] = '\0';
    *out = data;
    *len = got;
    return FG_OK;
}

/* Folds one line and appends it (NUL-terminated). Lines that no acceptable password can
 * equal (not UTF-8, control characters, longer than the ceiling) are skipped. */
static fg_rc blocklist_add(struct fg_password_checker *c, const char *line, size_t len,
                           uint32_t *cp, char *folded, size_t *count)
{
    size_t n;
    if (len == 0 || len > FG_PASSWORD_BLOCKLIST_LINE_MAX ||
        text_decode(line, len, cp, FG_PASSWORD_CHARS_CEILING, &n) != DECODE_OK)
        return FG_OK;
    text_fold(cp, n, c->ctype);
    size_t flen = utf8_encode(cp, n, folded);
    if (*count == FG_PASSWORD_BLOCKLIST_ENTRIES_MAX)
        return FG_ERR_LIMIT;
    fg_rc rc = fg_buf_append(&c->blocklist_data, folded, flen + 1);
    if (rc == FG_OK)
        (*count)++;
    return rc;
}

static fg_rc blocklist_index(struct fg_password_checker *c, size_t count)
{
    if (count == 0)
        return FG_OK;
    c->blocklist = calloc(count, sizeof c->blocklist[0]);
    if (c->blocklist == NULL)
        return FG_ERR_NOMEM;
    const char *p = c->blocklist_data.data;
    for (size_t i = 0; i < count; i++) {
        c->blocklist[i] = p;
        p += strlen(p) + 1;
    }
    assert(p == c->blocklist_data.data + c->blocklist_data.len);
    qsort(c->blocklist, count, sizeof c->blocklist[0], compare_entries);
    c->blocklist_n = count;
    return FG_OK;
}

static fg_rc blocklist_load(struct fg_password_checker *c, const char *path, struct fg_buf *errors)
{
    char *text;
    size_t len;
    fg_rc rc = file_read(path, &text, &len, errors);
    if (rc != FG_OK)
        return rc;
    uint32_t cp[FG_PASSWORD_CHARS_CEILING];
    char folded[PASSWORD_UTF8_MAX];
    size_t count = 0, line_no = 0;
    for (size_t start = 0; rc == FG_OK && start < len;) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len, line_len = end - start;
        line_no++;
        if (line_len > 0 && text[end - 1] == '\r')
            line_len--;
        rc = blocklist_add(c, text + start, line_len, cp, folded, &count);
        start = end + 1;
    }
    free(text);
    if (rc == FG_OK)
        rc = blocklist_index(c, count);
    if (rc == FG_ERR_LIMIT)
        note(errors, "password blocklist %s:%zu: more than %u entries\n", path, line_no,
             FG_PASSWORD_BLOCKLIST_ENTRIES_MAX);
    return rc;
}

/* ---- libpwquality ------------------------------------------------------------------------- */
/* Runs pwquality_check under cracklib_lock; *cracklib_msg is cracklib's (static) message
 * for PWQ_ERROR_CRACKLIB_CHECK, else NULL. */
static int pwq_run(pwquality_settings_t *s, const char *pw, const char *user,
                   const char **cracklib_msg)
{
    void *aux = NULL;
    pthread_mutex_lock(&cracklib_lock);
    int r = pwquality_check(s, pw, NULL, user, &aux);
    pthread_mutex_unlock(&cracklib_lock);
    /* for every other error aux is an integer in disguise (check.c), nothing to free */
    *cracklib_msg = r == PWQ_ERROR_CRACKLIB_CHECK ? (const char *)aux : NULL;
    return r;
}

/* cracklib's messages are English unless the process set LC_MESSAGES for gettext; an
 * unrecognised one becomes the generic reason (the check still fails closed). */
static fg_rc map_cracklib(const char *msg, const char **reason)
{
    if (msg != NULL && strstr(msg, "error loading dictionary") != NULL)
        return FG_ERR_IO;
    if (msg != NULL && strstr(msg, "not registered in the password file") != NULL)
        return FG_ERR_CONFIG;
    if (msg != NULL && strstr(msg, "dictionary word") != NULL)
        *reason = REASON_DICTIONARY;
    else if (msg != NULL && strstr(msg, "DIFFERENT") != NULL)
        *reason = REASON_FEW_DIFFERENT;
    else if (msg != NULL && strstr(msg, "simplistic") != NULL)
        *reason = REASON_RUN;
    else
        *reason = REASON_GUESSABLE;
    return FG_ERR_POLICY;
}

static fg_rc map_pwquality(const struct fg_password_checker *c, int r, const char *msg,
                           const char **reason)
{
    switch (r) {
    case PWQ_ERROR_CRACKLIB_CHECK:
        return map_cracklib(msg, reason);
    case PWQ_ERROR_MEM_ALLOC:
        return FG_ERR_NOMEM;
    case PWQ_ERROR_USER_CHECK:
        *reason = REASON_USERNAME;
        break;
    case PWQ_ERROR_MAX_CONSECUTIVE:
    case PWQ_ERROR_MAX_SEQUENCE:
    case PWQ_ERROR_MAX_CLASS_REPEAT:
        *reason = REASON_RUN;
        break;
    case PWQ_ERROR_PALINDROME:
        *reason = REASON_PALINDROME;
        break;
    case PWQ_ERROR_MIN_LENGTH:
        *reason = c->reason_short;
        break;
    default:
        *reason = REASON_GUESSABLE;
        break;
    }
    return FG_ERR_POLICY;
}

/* The core of folded pw[0..n): without leading and trailing non-letters. If that is
 * shorter than the password and long enough for cracklib, ask the dictionary about it. */
static fg_rc check_core_word(const struct fg_password_checker *c, const uint32_t *pw, size_t n,
                             char *buf, const char **reason)
{
    size_t a = 0, b = n;
    while (a < b && !iswalpha_l((wint_t)pw[a], c->ctype))
        a++;
    while (b > a && !iswalpha_l((wint_t)pw[b - 1], c->ctype))
        b--;
    if ((a == 0 && b == n) || utf8_encode(pw + a, b - a, buf) < CRACKLIB_WORD_MIN)
        return FG_OK;
    const char *msg;
    int r = pwq_run(c->pwq_word, buf, NULL, &msg);
    if (r != PWQ_ERROR_CRACKLIB_CHECK)
        return FG_OK; /* too short for its taste, a palindrome, ...: not our question here */
    const char *why = NULL;
    fg_rc rc = map_cracklib(msg, &why);
    if (rc == FG_ERR_POLICY && why == REASON_DICTIONARY)
        *reason = REASON_DICTIONARY;
    return rc == FG_ERR_POLICY ? FG_OK : rc;
}

static fg_rc pwq_set(pwquality_settings_t *s, int setting, int value, struct fg_buf *errors)
{
    if (pwquality_set_int_value(s, setting, value) == 0)
        return FG_OK;
    note(errors, "password policy: libpwquality refuses setting %d = %d\n", setting, value);
    return FG_ERR_CONFIG;
}

/* word_only: the settings for the core check (dictionary and nothing else that matters). */
static fg_rc pwq_settings_new(const struct fg_password_policy *p, int word_only,
                              pwquality_settings_t **out, struct fg_buf *errors)
{
    pwquality_settings_t *s = pwquality_default_settings(); /* never reads pwquality.conf */
    if (s == NULL)
        return FG_ERR_NOMEM;
    int run = (int)FG_PASSWORD_RUN_MIN - 1;
    /* Length is ours, in characters (pwquality counts bytes), so its minimum is its floor
     * of 6 (also cracklib's). Credits and classes stay 0: our letter/digit rule replaces
     * them. GECOS_CHECK stays off: it would look the customer's user name up among this
     * machine's accounts. */
    fg_rc rc = pwq_set(s, PWQ_SETTING_MIN_LENGTH, CRACKLIB_WORD_MIN, errors);
    if (rc == FG_OK)
        rc = pwq_set(s, PWQ_SETTING_MAX_REPEAT, word_only ? 0 : run, errors);
    if (rc == FG_OK)
        rc = pwq_set(s, PWQ_SETTING_MAX_SEQUENCE, word_only ? 0 : run, errors);
    if (rc == FG_OK)
        rc = pwq_set(s, PWQ_SETTING_USER_CHECK, word_only ? 0 : 1, errors);
    if (rc == FG_OK)
        rc = pwq_set(s, PWQ_SETTING_GECOS_CHECK, 0, errors);
    if (rc == FG_OK)
        rc = pwq_set(s, PWQ_SETTING_DICT_CHECK, 1, errors);
    if (rc == FG_OK && p->dictionary_path != NULL &&
        pwquality_set_str_value(s, PWQ_SETTING_DICT_PATH, p->dictionary_path) != 0)
        rc = FG_ERR_NOMEM;
    if (rc != FG_OK) {
        pwquality_free_settings(s);
        return rc;
    }
    *out = s;
    return FG_OK;
}

/* Proves at load that cracklib works here: see fg_password_policy_load(). */
static fg_rc pwq_probe(const struct fg_password_checker *c, const char *dict, struct fg_buf *errors)
{
    const char *msg, *reason = NULL;
    int r = pwq_run(c->pwq, PROBE_STRONG, NULL, &msg);
    fg_rc rc = r >= 0 ? FG_OK : map_pwquality(c, r, msg, &reason);
    if (rc == FG_OK) {
        r = pwq_run(c->pwq_word, PROBE_WORD, NULL, &msg);
        rc = r == PWQ_ERROR_CRACKLIB_CHECK ? map_cracklib(msg, &reason) : FG_ERR_POLICY;
        if (rc == FG_ERR_POLICY && reason == REASON_DICTIONARY)
            return FG_OK;
        if (rc == FG_ERR_POLICY)
            reason = NULL; /* "password" was accepted: the dictionary looks empty */
    }
    const char *why = rc == FG_ERR_IO       ? "cannot load the cracklib dictionary (Debian: "
                                              "install cracklib-runtime)"
                      : rc == FG_ERR_CONFIG ? "cracklib needs a passwd entry for this process's "
                                              "user id, and it has none"
                      : reason != NULL      ? "the dictionary check refuses a strong password"
                                            : "the dictionary does not know \"password\"";
    note(errors, "password dictionary %s: %s\n", dict ? dict : "(cracklib default)", why);
    return rc == FG_ERR_NOMEM ? rc : FG_ERR_CONFIG;
}

/* ---- policy ------------------------------------------------------------------------------- */
void fg_password_policy_defaults(struct fg_password_policy *policy)
{
    assert(policy != NULL);
    *policy = (struct fg_password_policy){
        .min_chars = FG_PASSWORD_CHARS_MIN_DEFAULT,
        .max_chars = FG_PASSWORD_CHARS_MAX_DEFAULT,
        .require_letter = 1,
        .require_digit = 1,
        .history = FG_PASSWORD_HISTORY_DEFAULT,
        .blocklist_path = NULL,
        .dictionary_path = NULL,
    };
}

static fg_rc policy_validate(const struct fg_password_policy *p, struct fg_buf *errors)
{
    const char *bad = NULL;
    if (p->min_chars < FG_PASSWORD_CHARS_FLOOR)
        bad = "min_chars is below FG_PASSWORD_CHARS_FLOOR";
    else if (p->max_chars > FG_PASSWORD_CHARS_CEILING)
        bad = "max_chars is above FG_PASSWORD_CHARS_CEILING";
    else if (p->min_chars > p->max_chars)
        bad = "min_chars is above max_chars";
    else if (p->history > FG_PASSWORD_HISTORY_MAX)
        bad = "history is above FG_PASSWORD_HISTORY_MAX";
    if (bad == NULL)
        return FG_OK;
    note(errors,
         "password policy: %s (min_chars %u, max_chars %u, history %u; floor %u, ceiling %u, "
         "history max %u)\n",
         bad, p->min_chars, p->max_chars, p->history, FG_PASSWORD_CHARS_FLOOR,
         FG_PASSWORD_CHARS_CEILING, FG_PASSWORD_HISTORY_MAX);
    return FG_ERR_CONFIG;
}

static fg_rc checker_setup(struct fg_password_checker *c, const struct fg_password_policy *p,
                           struct fg_buf *errors)
{
    c->ctype = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (c->ctype == (locale_t)0) {
        note(errors, "password policy: the C.UTF-8 locale is not available\n");
        return FG_ERR_CONFIG;
    }
    int n1 = snprintf(c->reason_short, sizeof c->reason_short, "too short: at least %u characters",
                      p->min_chars);
    int n2 = snprintf(c->reason_long, sizeof c->reason_long, "too long: at most %u characters",
                      p->max_chars);
    assert(n1 > 0 && (size_t)n1 < sizeof c->reason_short);
    assert(n2 > 0 && (size_t)n2 < sizeof c->reason_long);
    (void)n1; /* only asserted: unused when NDEBUG */
    (void)n2;
    fg_rc rc = pwq_settings_new(p, 0, &c->pwq, errors);
    if (rc == FG_OK)
        rc = pwq_settings_new(p, 1, &c->pwq_word, errors);
    if (rc == FG_OK)
        rc = pwq_probe(c, p->dictionary_path, errors);
    if (rc == FG_OK && p->blocklist_path != NULL)
        rc = blocklist_load(c, p->blocklist_path, errors);
    return rc;
}

fg_rc fg_password_policy_load(const struct fg_password_policy *policy,
                              struct fg_password_checker **out, struct fg_buf *errors)
{
    assert(policy != NULL && out != NULL);
    *out = NULL;
    fg_rc rc = policy_validate(policy, errors);
    if (rc != FG_OK)
        return rc;
    struct fg_password_checker *c = calloc(1, sizeof *c);
    if (c == NULL)
        return FG_ERR_NOMEM;
    c->policy = *policy;
    c->policy.blocklist_path = NULL;
    c->policy.dictionary_path = NULL;
    /* entries plus one NUL each; folding can lengthen a character by half (Ⱥ → ⱥ) */
    fg_buf_init(&c->blocklist_data, FG_PASSWORD_BLOCKLIST_BYTES_MAX * 2u);
    rc = checker_setup(c, policy, errors);
    if (rc == FG_OK)
        rc = fg_password_dummy_prepare();
    if (rc != FG_OK) {
        fg_password_checker_free(c);
        return rc;
    }
    *out = c;
    return FG_OK;
}

void fg_password_checker_free(struct fg_password_checker *c)
{
    if (c == NULL)
        return;
    if (c->pwq != NULL)
        pwquality_free_settings(c->pwq);
    if (c->pwq_word != NULL)
        pwquality_free_settings(c->pwq_word);
    if (c->ctype != (locale_t)0)
        freelocale(c->ctype);
    free(c->blocklist);
    fg_buf_release(&c->blocklist_data);
    free(c);
}

const struct fg_password_policy *fg_password_checker_policy(const struct fg_password_checker *c)
{
    assert(c != NULL);
    return &c->policy;
}

/* ---- the check ---------------------------------------------------------------------------- */
/* Everything derived from the password, in one place so one fg_wipe clears it. */
struct check_scratch {
    uint32_t cp[FG_PASSWORD_CHARS_CEILING + 1]; /* decoded, then folded */
    char folded[PASSWORD_UTF8_MAX];             /* cp as UTF-8 (blocklist, core word) */
    char plain[FG_CRYPTO_PASSWORD_MAX + 1];     /* the password NUL-terminated for pwquality */
};

/* Length, UTF-8, letter and digit: rules that need the code points before folding. */
static const char *check_shape(const struct fg_password_checker *c, const char *pw, size_t len,
                               struct check_scratch *s, size_t *n)
{
    const struct fg_password_policy *p = &c->policy;
    if (len > FG_CRYPTO_PASSWORD_MAX)
        return c->reason_long; /* > 256 characters whatever they are */
    switch (text_decode(pw, len, s->cp, p->max_chars, n)) {
    case DECODE_FULL:
        return c->reason_long;
    case DECODE_BAD:
        return REASON_UTF8;
    case DECODE_CONTROL:
        return REASON_CONTROL;
    case DECODE_OK:
        break;
    }
    if (*n < p->min_chars)
        return c->reason_short;
    int letter = 0, digit = 0;
    for (size_t i = 0; i < *n; i++) {
        letter |= iswalpha_l((wint_t)s->cp[i], c->ctype) != 0;
        digit |= s->cp[i] >= '0' && s->cp[i] <= '9';
    }
    if (p->require_letter && !letter)
        return REASON_LETTER;
    if (p->require_digit && !digit)
        return REASON_DIGIT;
    return NULL;
}

static fg_rc check_rules(const struct fg_password_checker *c, const char *pw, size_t len,
                         const struct fg_password_context *who, struct check_scratch *s,
                         const char **reason)
{
    size_t n = 0;
    if ((*reason = check_shape(c, pw, len, s, &n)) != NULL)
        return FG_ERR_POLICY;
    text_fold(s->cp, n, c->ctype);
    fg_rc rc = check_personal(c, s->cp, n, who, reason);
    if (rc != FG_OK || *reason != NULL)
        return rc != FG_OK ? rc : FG_ERR_POLICY;
    if (has_run(s->cp, n)) {
        *reason = REASON_RUN;
        return FG_ERR_POLICY;
    }
    utf8_encode(s->cp, n, s->folded);
    if (blocklisted(c, s->folded)) {
        *reason = REASON_BLOCKLIST;
        return FG_ERR_POLICY;
    }
    memcpy(s->plain, pw, len);
    s->plain[len] = '\0';
    const char *user = who->username != NULL && who->username[0] != '\0' ? who->username : NULL;
    const char *msg;
    int r = pwq_run(c->pwq, s->plain, user, &msg);
    if (r < 0)
        return map_pwquality(c, r, msg, reason);
    rc = check_core_word(c, s->cp, n, s->folded, reason);
    return rc != FG_OK || *reason != NULL ? (rc != FG_OK ? rc : FG_ERR_POLICY) : FG_OK;
}

fg_rc fg_password_check(const struct fg_password_checker *c, const char *pw, size_t len,
                        const struct fg_password_context *who, const char **reason)
{
    assert(c != NULL && reason != NULL);
    assert(pw != NULL || len == 0);
    static const struct fg_password_context nobody = {NULL, NULL, NULL};
    struct check_scratch s;
    *reason = NULL;
    fg_rc rc = check_rules(c, pw != NULL ? pw : "", len, who != NULL ? who : &nobody, &s, reason);
    fg_wipe(&s, sizeof s);
    if (rc != FG_ERR_POLICY)
        *reason = NULL;
    assert((rc == FG_ERR_POLICY) == (*reason != NULL));
    return rc;
}

/* ---- hashing, verification, history ------------------------------------------------------ */
fg_rc fg_password_hash_params(const struct fg_pwhash_params *p, const char *pw, size_t len,
                              char out[FG_PWHASH_STR_MAX])
{
    assert(pw != NULL || len == 0);
    assert(out != NULL);
    return fg_pwhash(p != NULL ? p : &fg_pwhash_default, pw != NULL ? pw : "", len, out);
}

fg_rc fg_password_hash(const char *pw, size_t len, char out[FG_PWHASH_STR_MAX])
{
    return fg_password_hash_params(&fg_pwhash_default, pw, len, out);
}

fg_rc fg_password_verify(const char *stored, const char *pw, size_t len)
{
    assert(stored != NULL);
    assert(pw != NULL || len == 0);
    return fg_pwhash_verify(stored, pw != NULL ? pw : "", len);
}

int fg_password_needs_rehash(const char *stored)
{
    assert(stored != NULL);
    return fg_pwhash_needs_rehash(&fg_pwhash_default, stored);
}

fg_rc fg_password_dummy_prepare(void)
{
    fg_rc rc = FG_OK;
    pthread_mutex_lock(&dummy_lock);
    if (!dummy_ready) {
        unsigned char secret[32]; /* as strong as any password; known to nobody, then gone */
        rc = fg_random(secret, sizeof secret);
        if (rc == FG_OK)
            rc = fg_pwhash(&fg_pwhash_default, (const char *)secret, sizeof secret, dummy_hash);
        fg_wipe(secret, sizeof secret);
        dummy_ready = rc == FG_OK;
    }
    pthread_mutex_unlock(&dummy_lock);
    return rc;
}

fg_rc fg_password_verify_dummy(const char *pw, size_t len)
{
    assert(pw != NULL || len == 0);
    fg_rc rc = fg_password_dummy_prepare();
    if (rc != FG_OK)
        return rc;
    rc = fg_pwhash_verify(dummy_hash, pw != NULL ? pw : "", len);
    assert(rc != FG_ERR_INVALID || len > FG_CRYPTO_PASSWORD_MAX);
    return rc == FG_OK ? FG_ERR_UNAUTHENTICATED : rc;
}

fg_rc fg_password_in_history(const char *const *hashes, size_t n, const char *pw, size_t len,
                             int *found)
{
    assert(hashes != NULL || n == 0);
    assert(n <= FG_PASSWORD_HISTORY_MAX && found != NULL);
    *found = 0;
    if (len > FG_CRYPTO_PASSWORD_MAX)
        return FG_ERR_INVALID; /* never hashed, so never in a history; not the entries' fault */
    fg_rc first_error = FG_OK;
    int match = 0;
    for (size_t i = 0; i < n; i++) {
        assert(hashes[i] != NULL);
        fg_rc rc = fg_password_verify(hashes[i], pw, len);
        match |= rc == FG_OK; /* no early exit: every entry costs its verification */
        if (rc != FG_OK && rc != FG_ERR_UNAUTHENTICATED && first_error == FG_OK)
            first_error = rc == FG_ERR_INVALID ? FG_ERR_CORRUPT : rc;
    }
    *found = first_error == FG_OK ? match : 0;
    return first_error;
}

fg_rc fg_password_differs(const char *other_stored, const char *pw, size_t len, int *differs)
{
    assert(differs != NULL);
    *differs = 1;
    if (len > FG_CRYPTO_PASSWORD_MAX)
        return FG_ERR_INVALID;
    if (other_stored == NULL)
        return FG_OK;
    fg_rc rc = fg_password_verify(other_stored, pw, len);
    if (rc == FG_OK)
        *differs = 0;
    else if (rc != FG_ERR_UNAUTHENTICATED)
        return rc == FG_ERR_INVALID ? FG_ERR_CORRUPT : rc;
    return FG_OK;
}
