/*
 * fuzz_siem.c — fg_siem_format (incident/siem.c) over arbitrary alert text (MON-1, MON-2).
 *
 * Input: byte 0 picks the level (bits 0-2: low, medium, high, critical, anything else an
 * unknown level) and the format (bit 3); the rest is split at NUL bytes into title, key,
 * tags, rule_id, id, incident_id and the host name (each cut to its field's size).
 *
 * Invariants, for both formats: an unknown level is FG_ERR_INVALID, every known one FG_OK
 * (a stored alert always fits FG_SIEM_LINE_MAX); the line has exactly the reported length,
 * is valid UTF-8 without a single control character (nothing can end the line or hide in
 * a terminal); its structure cannot be forged: RFC 5424 has exactly the six SD-PARAMs in
 * order and one unescaped ']' closing them, CEF exactly seven unescaped '|' and nine
 * unescaped '=' (one per extension key); a field of printable ASCII comes back unchanged
 * once unescaped. With a small buffer the result is FG_OK or FG_ERR_TOO_LARGE ("" then),
 * and nothing is written past cap.
 */
#include <string.h>

#include "fuzz.h"

#include "incident/siem.h"

#define FUZZ_POISON 0x5a

static const char *const levels[] = {"low", "medium", "high", "critical", "severe"};

/* Copy the next NUL-separated piece of [*p, end) into dst[cap] (cut to fit). */
static void take(const char **p, const char *end, char *dst, size_t cap)
{
    const char *s = *p;
    const char *z = s < end ? memchr(s, '\0', (size_t)(end - s)) : NULL;
    size_t n = z != NULL ? (size_t)(z - s) : (size_t)(end > s ? end - s : 0);
    *p = z != NULL ? z + 1 : end;
    if (n > cap - 1)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len = c < 0x80                   ? 1
                 : (c >= 0xc2 && c <= 0xdf) ? 2
                 : (c >= 0xe0 && c <= 0xef) ? 3
                 : (c >= 0xf0 && c <= 0xf4) ? 4
                                            : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

static void check_text(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        FUZZ_CHECK(u[i] >= 0x20 && u[i] != 0x7f);
        size_t l = utf8_len(u + i, n - i);
        FUZZ_CHECK(l != 0);
        if (l == 2) /* no C1 control */
            FUZZ_CHECK(!(u[i] == 0xc2 && u[i + 1] <= 0x9f));
        i += l;
    }
}

static int printable_ascii(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s >= 0x7f)
            return 0;
    return 1;
}

/* Unescape s[0..n) (every "\c" is c) into out; its length. */
static size_t unescape(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n)
            i++;
        out[o++] = s[i];
    }
    return o;
}

static void check_value(const char *v, size_t n, const char *want)
{
    if (!printable_ascii(want))
        return;
    static char un[FG_SIEM_LINE_MAX];
    size_t un_n = unescape(v, n, un);
    FUZZ_CHECK(un_n == strlen(want) && memcmp(un, want, un_n) == 0);
}

static void check_rfc5424(const char *line, size_t n, const struct fg_alert_view *a)
{
    FUZZ_CHECK(n > 7 && line[0] == '<' && memcmp(line + 4, ">1 ", 3) == 0);
    const char *sd = strstr(line, " finguard - ALERT [" FG_SIEM_SD_ID);
    FUZZ_CHECK(sd != NULL);
    const char *p = sd + strlen(" finguard - ALERT [" FG_SIEM_SD_ID);
    const char *end = line + n;
    static const char *const names[] = {"id", "rule", "level", "key", "count", "incident"};
    const char *want[] = {a->id, a->rule_id, a->level, a->key, NULL, a->incident_id};
    for (size_t k = 0; k < 6; k++) {
        size_t nl = strlen(names[k]);
        FUZZ_CHECK(end - p > (ptrdiff_t)(nl + 3) && p[0] == ' ');
        FUZZ_CHECK(memcmp(p + 1, names[k], nl) == 0 && p[1 + nl] == '=' && p[2 + nl] == '"');
        const char *v = p + 3 + nl, *q = v;
        while (q < end && *q != '"') {
            FUZZ_CHECK(*q != ']'); /* only escaped inside a value */
            q += *q == '\\' ? 2 : 1;
        }
        FUZZ_CHECK(q < end);
        if (want[k] != NULL)
            check_value(v, (size_t)(q - v), want[k]);
        p = q + 1;
    }
    FUZZ_CHECK(p < end && *p == ']');
    FUZZ_CHECK(p + 1 == end || p[1] == ' ');
}

static void check_cef(const char *line, size_t n, const struct fg_alert_view *a)
{
    FUZZ_CHECK(n > 6 && memcmp(line, "CEF:0|", 6) == 0);
    size_t pipes = 0, eqs = 0;
    const char *field[8] = {line};
    for (size_t i = 0; i < n; i++) {
        if (line[i] == '\\') {
            FUZZ_CHECK(i + 1 < n);
            i++;
            continue;
        }
        if (pipes < 7 && line[i] == '|') {
            field[++pipes] = line + i + 1;
        } else if (pipes == 7 && line[i] == '=') {
            eqs++;
        }
    }
    FUZZ_CHECK(pipes == 7 && eqs == 9);
    check_value(field[4], (size_t)(field[5] - field[4] - 1), a->rule_id);
    check_value(field[5], (size_t)(field[6] - field[5] - 1), a->title);
    const char *cs3 = strstr(field[7], " cs3Label=tags cs3=");
    FUZZ_CHECK(cs3 != NULL);
    cs3 += strlen(" cs3Label=tags cs3=");
    check_value(cs3, (size_t)(line + n - cs3), a->tags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fg_alert_view a;
    memset(&a, 0, sizeof a);
    unsigned flags = size > 0 ? data[0] : 0;
    const char *p = size > 0 ? (const char *)data + 1 : (const char *)data;
    const char *end = (const char *)data + size;
    char host[FG_SIEM_HOSTNAME_MAX + 16];
    take(&p, end, a.title, sizeof a.title);
    take(&p, end, a.key, sizeof a.key);
    take(&p, end, a.tags, sizeof a.tags);
    take(&p, end, a.rule_id, sizeof a.rule_id);
    take(&p, end, a.id, sizeof a.id);
    take(&p, end, a.incident_id, sizeof a.incident_id);
    take(&p, end, host, sizeof host);
    size_t li = (flags & 7u) < 5 ? (flags & 7u) : 4;
    memcpy(a.level, levels[li], strlen(levels[li]) + 1);
    a.count = (int64_t)size - 3;
    a.last_ms = (int64_t)size * 1000003 - 5000;
    const char *format = (flags & 8u) ? "cef" : "rfc5424";

    static char out[FG_SIEM_LINE_MAX + 1];
    size_t len = 0;
    fg_rc rc = fg_siem_format(format, &a, host, out, sizeof out, &len);
    if (li == 4) {
        FUZZ_CHECK(rc == FG_ERR_INVALID && out[0] == '\0' && len == 0);
        return 0;
    }
    FUZZ_CHECK(rc == FG_OK);
    FUZZ_CHECK(len == strlen(out));
    check_text(out, len);
    if (flags & 8u)
        check_cef(out, len, &a);
    else
        check_rfc5424(out, len, &a);

    /* a small buffer: all or nothing, never past cap */
    char small[64 + 8];
    size_t cap = (flags >> 4) * 4u + 1u;
    memset(small, FUZZ_POISON, sizeof small);
    size_t slen = 99;
    rc = fg_siem_format(format, &a, host, small, cap, &slen);
    FUZZ_CHECK(rc == FG_OK || rc == FG_ERR_TOO_LARGE);
    if (rc == FG_OK)
        FUZZ_CHECK(slen == len && memcmp(small, out, len + 1) == 0);
    else
        FUZZ_CHECK(small[0] == '\0' && slen == 0);
    for (size_t i = cap; i < sizeof small; i++)
        FUZZ_CHECK((unsigned char)small[i] == FUZZ_POISON);
    return 0;
}
