/*
 * decoder.c — log lines → monitor events, driven by decoder YAML files (decoder.h).
 *
 * Loading: the YAML tree (ytree.h) is checked field by field, every problem collected as
 * "ORIGIN:LINE: message"; regexes are compiled once (PCRE2, anchored, JIT when available).
 * Decoding a line: prefilter (the `require` literals), header regex, then the first
 * pattern whose prefix starts the message, whose literal occurs and whose regex matches; captures
 * are copied into a scratch event (sanitised: invalid UTF-8 and control bytes become '?', attribute
 * values cut at FG_MEV_ATTR_VALUE_MAX on a character boundary) and then into the caller's hold.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "monitor/decoder.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/data.h"
#include "base/time.h"
#include "monitor/ytree.h"

#define DEC_ARENA_MAX (4u * 1024u * 1024u)
#define DEC_ERRORS_MAX 200u /* error lines reported for one file */
#define DEC_TS_FORMATS_MAX 2u
#define DEC_CAPTURES_MAX 64u /* capture groups + 1 (the whole match) of one regex */

enum dec_type { DEC_REGEX = 1, DEC_JSON };
enum dec_ts { TS_SYSLOG = 1, TS_ISO8601 };

/* Where a named group or a fixed value goes. */
enum dec_target { T_NAME = -10, T_TS = -11, T_ATTR = -12 }; /* >= 0: enum fg_mev_field */

struct dec_slot {
    int target;     /* enum dec_target or a string field */
    char *attr;     /* T_ATTR: the attribute name */
    char *value;    /* fixed value (set), NUL-terminated */
    uint32_t group; /* capture group number (named groups) */
};

struct dec_re {
    pcre2_code *code;
    struct dec_slot groups[FG_DECODER_GROUPS_MAX];
    unsigned ngroups;
    unsigned npairs; /* ovector pairs a match fills: capture groups + 1 */
    int jit;         /* compiled by the JIT: matched with pcre2_jit_match (no dispatch) */
};

/* A literal searched with memchr on its rarest-looking byte (glibc memmem's set-up costs
 * more than the search on a 100-byte line). */
struct dec_lit {
    const char *s;
    size_t len, anchor;
};

struct dec_pattern {
    char *id;
    struct dec_lit prefix; /* the message starts with it */
    struct dec_lit lit;    /* the message contains it */
    struct dec_re re;
    struct dec_slot sets[FG_DECODER_SET_MAX];
    unsigned nsets;
};

struct fg_decoder {
    char name[FG_DECODER_NAME_MAX + 1];
    enum dec_type type;
    struct fg_arena arena;
    struct dec_lit require[FG_DECODER_REQUIRE_MAX];
    unsigned nrequire;
    int has_header;
    struct dec_re header;
    enum dec_ts ts[DEC_TS_FORMATS_MAX];
    unsigned nts;
    struct dec_slot sets[FG_DECODER_SET_MAX];
    unsigned nsets;
    struct dec_pattern patterns[FG_DECODER_PATTERNS_MAX];
    unsigned npatterns;
    struct fg_decoder_options opt;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    struct fg_decoder_stats stats;
    char why[FG_DECODER_WHY_MAX];
    /* scratch: sanitised captures of one line, NUL-separated */
    char scratch[FG_DECODER_LINE_MAX * 2 + 64];
    size_t scratch_used;
    struct fg_mev ev;
};

/* ---- literals ----------------------------------------------------------------------------- */

static void lit_init(struct dec_lit *l, const char *s)
{
    l->s = s;
    l->len = strlen(s);
    l->anchor = 0;
    for (size_t i = 0; i < l->len; i++) /* an upper-case letter or punctuation, not a blank */
        if ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] > ' ' && s[i] < 'A') || s[i] == '_' ||
            s[i] == '[' || s[i] == '(') {
            l->anchor = i;
            return;
        }
    for (size_t i = 0; i < l->len; i++)
        if (s[i] != ' ') {
            l->anchor = i;
            return;
        }
}

static int lit_in(const struct dec_lit *l, const char *h, size_t n)
{
    if (l->len > n)
        return 0;
    const char *p = h + l->anchor, *end = h + (n - l->len) + l->anchor + 1;
    char c = l->s[l->anchor];
    while (p < end && (p = memchr(p, c, (size_t)(end - p))) != NULL) {
        if (memcmp(p - l->anchor, l->s, l->len) == 0)
            return 1;
        p++;
    }
    return 0;
}

/* ---- loading ------------------------------------------------------------------------------ */

struct loader {
    const char *origin;
    struct fg_buf *errors;
    unsigned nerrors;
    struct fg_decoder *d;
};

/* An error text that does not fit its buffer is cut; the load still fails (the count is
 * what decides), so a full buffer only loses words, never the verdict. */
static void buf_note(struct fg_buf *b, fg_rc rc)
{
    (void)b;
    (void)rc;
}

__attribute__((format(printf, 3, 4))) static void lerr(struct loader *l, int line, const char *fmt,
                                                       ...)
{
    l->nerrors++;
    if (l->errors == NULL || l->nerrors > DEC_ERRORS_MAX)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    buf_note(l->errors, fg_buf_appendf(l->errors, "%s:%d: %s\n", l->origin, line, msg));
}

static int name_ok(const char *s, size_t max, int allow_dot)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              (allow_dot && (c == '.' || c == '-'))))
            return 0;
    }
    return 1;
}

/* Map a field name ("name", "ip", "attrs.x", or a bare attribute name) to a slot target. */
static int slot_target(struct loader *l, const char *f, int line, struct dec_slot *s,
                       int allow_bare_attr)
{
    s->attr = NULL;
    if (strcmp(f, "name") == 0) {
        s->target = T_NAME;
        return 0;
    }
    if (strcmp(f, "ts") == 0) {
        s->target = T_TS;
        return 0;
    }
    int fi = fg_mev_field_of(f);
    if (fi > 0) {
        s->target = fi;
        return 0;
    }
    const char *an = NULL;
    if (strncmp(f, "attrs.", 6) == 0)
        an = f + 6;
    else if (allow_bare_attr)
        an = f;
    if (an == NULL || !name_ok(an, FG_MEV_ATTR_NAME_MAX, 0)) {
        lerr(l, line,
             "'%.64s': not an event field (name, actor, user, customer, account, ip, "
             "device, payee, currency, result, attrs.<name>)",
             f);
        return -1;
    }
    s->target = T_ATTR;
    s->attr = fg_arena_strdup(&l->d->arena, an);
    return s->attr == NULL ? -1 : 0;
}

static void load_sets(struct loader *l, const struct fg_yt *n, struct dec_slot *sets,
                      unsigned *nsets)
{
    if (n == NULL)
        return;
    if (n->kind != FG_YT_MAP) {
        lerr(l, n->line, "set: must be a mapping of field: value");
        return;
    }
    for (size_t i = 0; i + 1 < n->count; i += 2) {
        const struct fg_yt *k = n->items[i], *v = n->items[i + 1];
        if (k->kind != FG_YT_SCALAR || v->kind != FG_YT_SCALAR) {
            lerr(l, k->line, "set: keys and values must be scalars");
            continue;
        }
        if (*nsets == FG_DECODER_SET_MAX) {
            lerr(l, k->line, "set: more than %u fields", FG_DECODER_SET_MAX);
            return;
        }
        struct dec_slot *s = &sets[*nsets];
        if (slot_target(l, k->text, k->line, s, 0) != 0)
            continue;
        if (s->target == T_TS) {
            lerr(l, k->line, "set: ts cannot be fixed");
            continue;
        }
        if (s->target == T_NAME && !name_ok(v->text, FG_MEV_NAME_MAX, 1)) {
            lerr(l, v->line, "set: name: must match [a-z0-9_.-]{1,%u}", FG_MEV_NAME_MAX);
            continue;
        }
        size_t max = s->target == T_ATTR ? FG_MEV_ATTR_VALUE_MAX : FG_MEV_KEY_MAX;
        if (v->len > max) {
            lerr(l, v->line, "set: %s: value longer than %zu bytes", k->text, max);
            continue;
        }
        if ((s->value = fg_arena_strndup(&l->d->arena, v->text, v->len)) == NULL)
            continue;
        (*nsets)++;
    }
}

static int has_name(const struct dec_slot *sets, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (sets[i].target == T_NAME)
            return 1;
    return 0;
}

static void compile_re(struct loader *l, const struct fg_yt *n, struct dec_re *re, const char *what)
{
    if (n == NULL || n->kind != FG_YT_SCALAR || n->len == 0) {
        lerr(l, n != NULL ? n->line : 0, "%s: a regex (string) is required", what);
        return;
    }
    if (n->len > FG_DECODER_REGEX_MAX) {
        lerr(l, n->line, "%s: regex longer than %u bytes", what, FG_DECODER_REGEX_MAX);
        return;
    }
    int err;
    PCRE2_SIZE off;
    re->code = pcre2_compile((PCRE2_SPTR)n->text, n->len, PCRE2_ANCHORED, &err, &off, NULL);
    if (re->code == NULL) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(err, msg, sizeof msg);
        lerr(l, n->line, "%s: regex: %s at offset %zu", what, (const char *)msg, (size_t)off);
        return;
    }
    re->jit = pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0; /* else the interpreter */
    uint32_t count = 0, size = 0, captures = 0;
    PCRE2_SPTR table = NULL;
    pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &captures);
    if (captures + 1 > DEC_CAPTURES_MAX) {
        lerr(l, n->line, "%s: more than %u capture groups", what, DEC_CAPTURES_MAX - 1);
        return;
    }
    re->npairs = captures + 1;
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMEENTRYSIZE, &size);
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMETABLE, &table);
    if (count > FG_DECODER_GROUPS_MAX) {
        lerr(l, n->line, "%s: more than %u named groups", what, FG_DECODER_GROUPS_MAX);
        return;
    }
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *e = table + (size_t)i * size;
        struct dec_slot *s = &re->groups[re->ngroups];
        s->group = ((uint32_t)e[0] << 8) | e[1];
        if (slot_target(l, (const char *)e + 2, n->line, s, 1) != 0)
            continue;
        if (s->target == T_NAME) {
            lerr(l, n->line, "%s: the event name comes from set, not from a group", what);
            continue;
        }
        re->ngroups++;
    }
}

static char *scalar_dup(struct loader *l, const struct fg_yt *n, size_t max, const char *what)
{
    if (n == NULL || n->kind != FG_YT_SCALAR || n->len == 0) {
        lerr(l, n != NULL ? n->line : 0, "%s: a non-empty string is required", what);
        return NULL;
    }
    if (n->len > max) {
        lerr(l, n->line, "%s: longer than %zu bytes", what, max);
        return NULL;
    }
    return fg_arena_strndup(&l->d->arena, n->text, n->len);
}

static const char *const top_keys[] = {"name",      "type", "description", "require", "header",
                                       "timestamp", "set",  "patterns",    NULL};
static const char *const pat_keys[] = {"id",  "prefix",      "literal", "regex",
                                       "set", "description", NULL};

static void check_keys(struct loader *l, const struct fg_yt *map, const char *const *keys,
                       const char *what)
{
    for (size_t i = 0; i + 1 < map->count; i += 2) {
        const struct fg_yt *k = map->items[i];
        int known = 0;
        for (const char *const *p = keys; *p != NULL && !known; p++)
            known = fg_yt_is(k, *p);
        if (!known)
            lerr(l, k->line, "%s: unknown key '%.64s'", what,
                 k->kind == FG_YT_SCALAR ? k->text : "?");
    }
}

static void load_pattern(struct loader *l, const struct fg_yt *n, unsigned idx)
{
    struct fg_decoder *d = l->d;
    if (n->kind != FG_YT_MAP) {
        lerr(l, n->line, "patterns: each entry must be a mapping");
        return;
    }
    check_keys(l, n, pat_keys, "pattern");
    struct dec_pattern *p = &d->patterns[d->npatterns];
    memset(p, 0, sizeof *p);
    const struct fg_yt *id = fg_yt_get(n, "id");
    p->id = scalar_dup(l, id, FG_DECODER_NAME_MAX, "pattern id");
    if (p->id != NULL) {
        for (unsigned i = 0; i < idx; i++)
            if (d->patterns[i].id != NULL && strcmp(d->patterns[i].id, p->id) == 0)
                lerr(l, id->line, "pattern id '%s' is used twice", p->id);
    }
    const struct fg_yt *pre = fg_yt_get(n, "prefix");
    if (pre != NULL) {
        const char *t = scalar_dup(l, pre, FG_DECODER_LITERAL_MAX, "prefix");
        if (t != NULL)
            lit_init(&p->prefix, t);
    }
    const struct fg_yt *lit = fg_yt_get(n, "literal");
    if (lit != NULL) {
        const char *t = scalar_dup(l, lit, FG_DECODER_LITERAL_MAX, "literal");
        if (t != NULL)
            lit_init(&p->lit, t);
    }
    compile_re(l, fg_yt_get(n, "regex"), &p->re, "pattern regex");
    load_sets(l, fg_yt_get(n, "set"), p->sets, &p->nsets);
    if (!has_name(p->sets, p->nsets) && !has_name(d->sets, d->nsets))
        lerr(l, n->line, "pattern '%s': no event name (set: {name: ...})",
             p->id != NULL ? p->id : "?");
    d->npatterns++;
}

static void load_tree(struct loader *l, const struct fg_yt *root)
{
    struct fg_decoder *d = l->d;
    if (root == NULL || root->kind != FG_YT_MAP) {
        lerr(l, root != NULL ? root->line : 1, "a decoder is a mapping (name, type, ...)");
        return;
    }
    check_keys(l, root, top_keys, "decoder");
    const struct fg_yt *name = fg_yt_get(root, "name");
    if (name == NULL || name->kind != FG_YT_SCALAR || !name_ok(name->text, FG_DECODER_NAME_MAX, 0))
        lerr(l, name != NULL ? name->line : root->line, "name: must match [a-z0-9_]{1,%u}",
             FG_DECODER_NAME_MAX);
    else
        snprintf(d->name, sizeof d->name, "%s", name->text);
    const struct fg_yt *type = fg_yt_get(root, "type");
    if (fg_yt_is(type, "json"))
        d->type = DEC_JSON;
    else if (fg_yt_is(type, "regex"))
        d->type = DEC_REGEX;
    else {
        lerr(l, type != NULL ? type->line : root->line, "type: must be regex or json");
        return;
    }
    const struct fg_yt *req = fg_yt_get(root, "require");
    if (req != NULL) {
        if (req->kind != FG_YT_SEQ || req->count == 0 || req->count > FG_DECODER_REQUIRE_MAX)
            lerr(l, req->line, "require: a list of 1..%u literals", FG_DECODER_REQUIRE_MAX);
        else
            for (size_t i = 0; i < req->count; i++) {
                char *s = scalar_dup(l, req->items[i], FG_DECODER_LITERAL_MAX, "require");
                if (s != NULL)
                    lit_init(&d->require[d->nrequire++], s);
            }
    }
    const struct fg_yt *ts = fg_yt_get(root, "timestamp");
    if (ts != NULL) {
        const struct fg_yt *const *items =
            ts->kind == FG_YT_SEQ ? (const struct fg_yt *const *)ts->items : &ts;
        size_t count = ts->kind == FG_YT_SEQ ? ts->count : 1;
        if (count == 0 || count > DEC_TS_FORMATS_MAX)
            lerr(l, ts->line, "timestamp: 1..%u formats", DEC_TS_FORMATS_MAX);
        for (size_t i = 0; i < count && i < DEC_TS_FORMATS_MAX; i++) {
            if (fg_yt_is(items[i], "syslog"))
                d->ts[d->nts++] = TS_SYSLOG;
            else if (fg_yt_is(items[i], "iso8601"))
                d->ts[d->nts++] = TS_ISO8601;
            else
                lerr(l, items[i]->line, "timestamp: formats are syslog and iso8601");
        }
    }
    load_sets(l, fg_yt_get(root, "set"), d->sets, &d->nsets);
    const struct fg_yt *header = fg_yt_get(root, "header");
    const struct fg_yt *pats = fg_yt_get(root, "patterns");
    if (d->type == DEC_JSON) {
        if (header != NULL || pats != NULL || d->nsets > 0 || d->nrequire > 0)
            lerr(l, root->line, "a json decoder takes no require, header, set or patterns");
        return;
    }
    if (header != NULL) {
        d->has_header = 1;
        compile_re(l, header, &d->header, "header");
    }
    if (pats == NULL || pats->kind != FG_YT_SEQ || pats->count == 0) {
        lerr(l, pats != NULL ? pats->line : root->line, "patterns: a non-empty list is required");
        return;
    }
    if (pats->count > FG_DECODER_PATTERNS_MAX) {
        lerr(l, pats->line, "patterns: more than %u", FG_DECODER_PATTERNS_MAX);
        return;
    }
    for (size_t i = 0; i < pats->count; i++)
        load_pattern(l, pats->items[i], (unsigned)i);
    int has_ts = 0;
    for (unsigned g = 0; d->has_header && g < d->header.ngroups; g++)
        has_ts |= d->header.groups[g].target == T_TS;
    for (unsigned p = 0; p < d->npatterns; p++)
        for (unsigned g = 0; g < d->patterns[p].re.ngroups; g++)
            has_ts |= d->patterns[p].re.groups[g].target == T_TS;
    if (has_ts && d->nts == 0)
        lerr(l, root->line, "a ts group needs timestamp: [syslog | iso8601]");
}

static void decoder_free_codes(struct fg_decoder *d)
{
    pcre2_code_free(d->header.code);
    for (unsigned i = 0; i < d->npatterns; i++)
        pcre2_code_free(d->patterns[i].re.code);
    pcre2_match_data_free(d->md);
    pcre2_match_context_free(d->mctx);
}

void fg_decoder_free(struct fg_decoder *d)
{
    if (d == NULL)
        return;
    decoder_free_codes(d);
    fg_arena_release(&d->arena);
    free(d);
}

fg_rc fg_decoder_load_text(const char *origin, const char *text, size_t len,
                           const struct fg_decoder_options *opt, struct fg_decoder **out,
                           struct fg_buf *errors)
{
    *out = NULL;
    if (len > FG_DECODER_FILE_BYTES_MAX) {
        if (errors != NULL)
            buf_note(errors, fg_buf_appendf(errors, "%s:1: larger than %u bytes\n", origin,
                                            FG_DECODER_FILE_BYTES_MAX));
        return FG_ERR_TOO_LARGE;
    }
    struct fg_decoder *d = calloc(1, sizeof *d);
    if (d == NULL)
        return FG_ERR_NOMEM;
    fg_arena_init(&d->arena, DEC_ARENA_MAX);
    if (opt != NULL)
        d->opt = *opt;
    if (d->opt.now_ms == 0)
        d->opt.now_ms = fg_time_wall_ms();
    if (d->opt.year == 0) {
        time_t now = (time_t)(d->opt.now_ms / 1000);
        struct tm tm;
        gmtime_r(&now, &tm);
        d->opt.year = tm.tm_year + 1900;
    }
    struct loader l = {origin, errors, 0, d};
    if (d->opt.tz_offset_minutes < -1440 || d->opt.tz_offset_minutes > 1440 || d->opt.year < 1970 ||
        d->opt.year > 9999)
        lerr(&l, 0, "options: year or time-zone offset out of range");
    struct fg_yt *root = NULL;
    char msg[FG_YT_MESSAGE_MAX];
    int line = 0;
    if (fg_yt_parse(&d->arena, text, len, &root, msg, &line) != 0)
        lerr(&l, line, "%s", msg);
    else
        load_tree(&l, root);
    if (l.nerrors == 0) {
        d->md = pcre2_match_data_create(DEC_CAPTURES_MAX, NULL);
        d->mctx = pcre2_match_context_create(NULL);
        if (d->md == NULL || d->mctx == NULL) {
            fg_decoder_free(d);
            return FG_ERR_NOMEM;
        }
        pcre2_set_match_limit(d->mctx, FG_DECODER_MATCH_LIMIT);
    }
    if (l.nerrors > 0) {
        if (l.nerrors > DEC_ERRORS_MAX && errors != NULL)
            buf_note(errors, fg_buf_appendf(errors, "%s: %u more errors not shown\n", origin,
                                            l.nerrors - DEC_ERRORS_MAX));
        fg_decoder_free(d);
        return FG_ERR_INVALID;
    }
    *out = d;
    return FG_OK;
}

fg_rc fg_decoder_load(const char *spec, const struct fg_decoder_options *opt,
                      struct fg_decoder **out, struct fg_buf *errors)
{
    *out = NULL;
    size_t n = strlen(spec);
    int is_file = strchr(spec, '/') != NULL || (n > 5 && strcmp(spec + n - 5, ".yaml") == 0);
    if (!is_file) {
        char name[FG_DECODER_NAME_MAX + 32];
        if (n > FG_DECODER_NAME_MAX)
            return FG_ERR_NOT_FOUND;
        snprintf(name, sizeof name, "decoders/%s.yaml", spec);
        const struct fg_data_file *f = fg_data_find(name);
        if (f == NULL)
            return FG_ERR_NOT_FOUND;
        return fg_decoder_load_text(name, f->text, f->len, opt, out, errors);
    }
    FILE *fp = fopen(spec, "rb");
    if (fp == NULL)
        return FG_ERR_IO;
    char *buf = malloc(FG_DECODER_FILE_BYTES_MAX + 1);
    if (buf == NULL) {
        fclose(fp);
        return FG_ERR_NOMEM;
    }
    size_t got = fread(buf, 1, FG_DECODER_FILE_BYTES_MAX + 1, fp);
    int bad = ferror(fp);
    fclose(fp);
    fg_rc rc;
    if (bad)
        rc = FG_ERR_IO;
    else if (got > FG_DECODER_FILE_BYTES_MAX)
        rc = FG_ERR_TOO_LARGE;
    else
        rc = fg_decoder_load_text(spec, buf, got, opt, out, errors);
    free(buf);
    return rc;
}

const char *fg_decoder_name(const struct fg_decoder *d)
{
    return d->name;
}

const char *fg_decoder_last_error(const struct fg_decoder *d)
{
    return d->why;
}

void fg_decoder_get_stats(const struct fg_decoder *d, struct fg_decoder_stats *out)
{
    *out = d->stats;
}

/* ---- timestamps --------------------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned dd)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + dd - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

static int valid_date(unsigned y, unsigned m, unsigned dd, unsigned h, unsigned mi, unsigned s)
{
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || dd < 1 || dd > mdays[m - 1] || h > 23 || mi > 59 || s > 60)
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && dd == 29 && !leap);
}

/* "Mar  2 10:00:00" (15 bytes) in year/tz. */
static int ts_syslog(const struct fg_decoder *d, const char *s, size_t n, int64_t *ms)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (n != 15 || s[3] != ' ' || s[6] != ' ' || s[9] != ':' || s[12] != ':')
        return -1;
    unsigned m = 0;
    for (unsigned i = 0; i < 12 && m == 0; i++)
        if (memcmp(months + 3 * i, s, 3) == 0)
            m = i + 1;
    unsigned dd, h, mi, sec;
    char day[2] = {s[4] == ' ' ? '0' : s[4], s[5]};
    if (m == 0 || digits(day, 2, &dd) || digits(s + 7, 2, &h) || digits(s + 10, 2, &mi) ||
        digits(s + 13, 2, &sec) || !valid_date((unsigned)d->opt.year, m, dd, h, mi, sec))
        return -1;
    int64_t t = days_from_civil(d->opt.year, m, dd) * 86400 + h * 3600 + mi * 60 + sec;
    *ms = (t - (int64_t)d->opt.tz_offset_minutes * 60) * 1000;
    return 0;
}

/* "2026-03-02T10:00:00[.ffffff](Z|+HH:MM|-HH:MM|+HHMM)". */
static int ts_iso(const char *s, size_t n, int64_t *ms)
{
    unsigned y, m, dd, h, mi, sec, frac_ms = 0;
    if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' ||
        s[16] != ':' || digits(s, 4, &y) || digits(s + 5, 2, &m) || digits(s + 8, 2, &dd) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec) || y < 1970 ||
        !valid_date(y, m, dd, h, mi, sec))
        return -1;
    size_t i = 19;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 9)
            i++;
        if (i == start)
            return -1;
        unsigned scale = 100;
        for (size_t k = start; k < i && k < start + 3; k++, scale /= 10)
            frac_ms += (unsigned)(s[k] - '0') * scale;
    }
    int64_t off_min = 0;
    if (i < n && s[i] == 'Z' && i + 1 == n) {
        off_min = 0;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        unsigned oh, om;
        const char *z = s + i + 1;
        size_t rest = n - i - 1;
        if (rest == 5 && z[2] == ':' && !digits(z, 2, &oh) && !digits(z + 3, 2, &om)) {
        } else if (rest == 4 && !digits(z, 2, &oh) && !digits(z + 2, 2, &om)) {
        } else
            return -1;
        if (oh > 23 || om > 59)
            return -1;
        off_min = (int64_t)(oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    } else
        return -1;
    int64_t t = days_from_civil(y, m, dd) * 86400 + h * 3600 + mi * 60 + sec - off_min * 60;
    *ms = t * 1000 + frac_ms;
    return 0;
}

/* ---- decoding ----------------------------------------------------------------------------- */

static enum fg_decode_result invalid(struct fg_decoder *d, const char *why)
{
    snprintf(d->why, sizeof d->why, "%s", why);
    d->stats.invalid++;
    return FG_DECODE_INVALID;
}

static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    if (len == 0 || len > n || c >= 0xf5)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (len == 3 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0)))
        return 0;
    if (len == 4 && ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90)))
        return 0;
    return len;
}

/* Copy s[0..n) sanitised into scratch, at most max bytes (cut on a character boundary). */
static const char *scratch_put(struct fg_decoder *d, const char *s, size_t n, size_t max)
{
    char *out = d->scratch + d->scratch_used;
    size_t room = sizeof d->scratch - d->scratch_used - 1, o = 0;
    if (max > room)
        max = room;
    for (size_t i = 0; i < n && o < max;) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f) {
            out[o++] = (char)c;
            i++;
            continue;
        }
        size_t k = c >= 0x80 ? utf8_seq((const unsigned char *)s + i, n - i) : 0;
        if (k == 0) {
            out[o++] = '?';
            i++;
        } else if (o + k > max) {
            break;
        } else {
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
        }
    }
    out[o] = '\0';
    d->scratch_used += o + 1;
    return out;
}

static void ev_attr(struct fg_decoder *d, const char *name, const char *v)
{
    struct fg_mev *ev = &d->ev;
    for (unsigned i = 0; i < ev->nattrs; i++)
        if (strcmp(ev->attrs[i].name, name) == 0) {
            ev->attrs[i].str = v;
            return;
        }
    if (ev->nattrs < FG_MEV_ATTRS_MAX) {
        struct fg_mev_attr *a = &ev->attrs[ev->nattrs++];
        a->name = name;
        a->str = v;
        a->is_num = 0;
        a->num = 0;
    }
}

static void apply_sets(struct fg_decoder *d, const struct dec_slot *sets, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        const struct dec_slot *s = &sets[i];
        if (s->target == T_NAME)
            d->ev.s[FG_MEV_F_NAME] = s->value;
        else if (s->target == T_ATTR)
            ev_attr(d, s->attr, s->value);
        else if (s->target >= 0)
            d->ev.s[s->target] = s->value;
    }
}

/* An address in its canonical text (RFC 5952 for IPv6: "2001:db8:0::1" → "2001:db8::1"),
 * so the same address is the same rule key whatever the log wrote; NULL if it is none. */
static const char *canonical_ip(struct fg_decoder *d, const char *c)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, c, a) == 1)
        return c;
    char text[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET6, c, a) != 1 || inet_ntop(AF_INET6, a, text, sizeof text) == NULL)
        return NULL;
    if (strcmp(text, c) == 0)
        return c;
    return scratch_put(d, text, strlen(text), FG_MEV_KEY_MAX);
}

/* Apply the named groups of the last match over subject; NULL or the reason it is invalid. */
static const char *apply_groups(struct fg_decoder *d, const struct dec_re *re, const PCRE2_SIZE *ov,
                                const char *subj, int64_t *ts)
{
    for (unsigned i = 0; i < re->ngroups; i++) {
        const struct dec_slot *s = &re->groups[i];
        PCRE2_SIZE a = ov[2 * s->group], b = ov[2 * s->group + 1];
        if (a == PCRE2_UNSET || b < a)
            continue;
        const char *v = subj + a;
        size_t n = b - a;
        if (s->target == T_TS) {
            int ok = -1;
            for (unsigned k = 0; k < d->nts && ok != 0; k++)
                ok = d->ts[k] == TS_SYSLOG ? ts_syslog(d, v, n, ts) : ts_iso(v, n, ts);
            if (ok != 0)
                return "ts: not a timestamp in the declared formats";
        } else if (s->target == T_ATTR) {
            if (n > 0)
                ev_attr(d, s->attr, scratch_put(d, v, n, FG_MEV_ATTR_VALUE_MAX));
        } else {
            if (n > FG_MEV_KEY_MAX)
                return s->target == FG_MEV_F_IP ? "ip: too long" : "field: value too long";
            const char *c = scratch_put(d, v, n, FG_MEV_KEY_MAX);
            if (s->target == FG_MEV_F_IP && (c = canonical_ip(d, c)) == NULL)
                return "ip: not an IPv4 or IPv6 address";
            d->ev.s[s->target] = c;
        }
    }
    return NULL;
}

static int run(struct fg_decoder *d, const struct dec_re *re, const char *s, size_t n)
{
    /* the same limits apply to both (the match context); jit_match skips pcre2_match's
     * checks and dispatch, ~8 % of a replay */
    int rc = re->jit ? pcre2_jit_match(re->code, (PCRE2_SPTR)s, n, 0, 0, d->md, d->mctx)
                     : pcre2_match(re->code, (PCRE2_SPTR)s, n, 0, 0, d->md, d->mctx);
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT)
        d->stats.regex_limit_hits++;
    return rc > 0;
}

static enum fg_decode_result decode_json(struct fg_decoder *d, const char *line, size_t len,
                                         struct fg_mev_hold *out)
{
    json_error_t jerr;
    json_t *obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (obj == NULL)
        return invalid(d, "not a JSON text");
    if (!json_is_object(obj)) {
        json_decref(obj);
        return invalid(d, "not a JSON object");
    }
    char why[FG_DECODER_WHY_MAX];
    fg_rc rc = fg_mev_from_json(obj, d->opt.now_ms, out, why, sizeof why);
    json_decref(obj);
    if (rc != FG_OK)
        return invalid(d, why);
    d->stats.decoded++;
    return FG_DECODE_EVENT;
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    return 1;
}

enum fg_decode_result fg_decoder_line(struct fg_decoder *d, const char *line, size_t len,
                                      struct fg_mev_hold *out)
{
    d->stats.lines++;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len > FG_DECODER_LINE_MAX)
        return invalid(d, "line longer than FG_DECODER_LINE_MAX");
    if (d->type == DEC_JSON) {
        if (blank(line, len)) {
            d->stats.unmatched++;
            return FG_DECODE_UNMATCHED;
        }
        return decode_json(d, line, len, out);
    }
    if (d->nrequire > 0) {
        int found = 0;
        for (unsigned i = 0; i < d->nrequire && !found; i++)
            found = lit_in(&d->require[i], line, len);
        if (!found) {
            d->stats.unmatched++;
            d->stats.prefiltered++;
            return FG_DECODE_UNMATCHED;
        }
    }
    size_t off = 0;
    PCRE2_SIZE hov[2 * DEC_CAPTURES_MAX];
    if (d->has_header) {
        if (!run(d, &d->header, line, len)) {
            d->stats.unmatched++;
            return FG_DECODE_UNMATCHED;
        }
        /* only the pairs the header has (a full copy was 1 KiB a line: 15 % of the replay) */
        memcpy(hov, pcre2_get_ovector_pointer(d->md), 2 * d->header.npairs * sizeof hov[0]);
        off = hov[1];
    }
    const char *msg = line + off;
    size_t mlen = len - off;
    const struct dec_pattern *hit = NULL;
    for (unsigned i = 0; i < d->npatterns && hit == NULL; i++) {
        const struct dec_pattern *p = &d->patterns[i];
        if (p->prefix.len > 0 && (p->prefix.len > mlen || msg[0] != p->prefix.s[0] ||
                                  memcmp(msg, p->prefix.s, p->prefix.len) != 0))
            continue;
        if (p->lit.len > 0 && !lit_in(&p->lit, msg, mlen))
            continue;
        if (run(d, &p->re, msg, mlen))
            hit = p;
    }
    if (hit == NULL) {
        d->stats.unmatched++;
        return FG_DECODE_UNMATCHED;
    }
    /* Build the event: decoder sets, pattern sets, header groups, pattern groups. */
    d->ev.time_ms = 0;
    d->ev.seq = 0;
    d->ev.amount = 0;
    d->ev.has_amount = 0;
    d->ev.nattrs = 0; /* attrs[] past nattrs are never read */
    for (int i = 0; i < (int)FG_MEV_F_NSTR; i++)
        d->ev.s[i] = "";
    d->scratch_used = 0;
    int64_t ts = d->opt.now_ms;
    apply_sets(d, d->sets, d->nsets);
    apply_sets(d, hit->sets, hit->nsets);
    const char *why = apply_groups(d, &hit->re, pcre2_get_ovector_pointer(d->md), msg, &ts);
    if (why == NULL && d->has_header)
        why = apply_groups(d, &d->header, hov, line, &ts);
    if (why != NULL)
        return invalid(d, why);
    d->ev.time_ms = ts;
    fg_mev_hold_reset(out);
    if (fg_mev_hold_copy(out, &d->ev) != FG_OK)
        return invalid(d, "event larger than a hold");
    d->stats.decoded++;
    return FG_DECODE_EVENT;
}
