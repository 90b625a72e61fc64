/*
 * rules.c — the rule loader and linter (engine.h, docs/rules.md; MON-1, MON-2).
 *
 * Every file is parsed into a line-numbered tree (ytree.h), then every rule is checked and
 * compiled in one walk that reports every problem it finds as "FILE:LINE: message" and keeps
 * going: unknown keys, wrong types, bad levels, regexes (PCRE2's message and offset), CIDR
 * blocks, ranges, unknown fields and actions, duplicate ids (naming both places). One error
 * anywhere refuses the whole set.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/data.h"
#include "monitor/engine_internal.h"
#include "monitor/ytree.h"

#define RULES_MESSAGE_MAX 400u
#define RULES_SHOWN_MAX 64 /* bytes of a value quoted in a message */
#define RULES_ERRORS_BYTES_MAX (1u << 20)
#define RULES_DIR_FILES_MAX 256u
/* The tree of one file and the compiled set: far above what FG_RULE_FILE_BYTES_MAX needs. */
#define RULES_TREE_ARENA_MAX ((size_t)64u << 20)
#define RULES_SET_ARENA_MAX ((size_t)256u << 20)

static const struct fg_rule_info eviction_info = {
    .id = FG_RULE_EVICTION,
    .title = "Monitor state evicted under the memory budget",
    .level = FG_LEVEL_MEDIUM,
    .ntags = 1,
    .tags = {"MON-6"},
    .nactions = 1,
    .actions = {{.kind = FG_ACT_ALERT}},
    .suppress_s = 60,
    .kind = "match",
    .file = "(built-in)",
    .line = 0,
};

const struct fg_rule_info *fg_engine_eviction_rule(void)
{
    return &eviction_info;
}

const char *fg_rule_level_name(enum fg_rule_level l)
{
    switch (l) {
    case FG_LEVEL_LOW:
        return "low";
    case FG_LEVEL_MEDIUM:
        return "medium";
    case FG_LEVEL_HIGH:
        return "high";
    case FG_LEVEL_CRITICAL:
        return "critical";
    }
    return "unknown";
}

static const char *const action_names[] = {
    "",         "alert",           "open_incident",  "lock_user",
    "block_ip", "revoke_sessions", "freeze_account", "require_step_up",
};

const char *fg_action_name(enum fg_action_kind k)
{
    return k >= FG_ACT_ALERT && k <= FG_ACT_REQUIRE_STEP_UP ? action_names[k] : "unknown";
}

/* ---- the load ---------------------------------------------------------------------------- */

struct load_error {
    int line;
    size_t seq;
    char *text;
};

struct load {
    struct fg_buf *errors;
    struct load_error *pend; /* this file's errors, sorted by line when the file is done */
    size_t npend, cappend;
    const char *file;
    size_t nerrors;
    int nomem;
    struct fg_rules *r;
    size_t cap;
};

static void report(struct load *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct load *ld, int line, const char *fmt, ...)
{
    char text[RULES_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    for (char *c = text; *c != '\0'; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    ld->nerrors++;
    if (ld->npend == ld->cappend) {
        size_t cap = ld->cappend == 0 ? 16u : ld->cappend * 2u;
        struct load_error *p = realloc(ld->pend, cap * sizeof *p);
        if (p == NULL) {
            ld->nomem = 1;
            return;
        }
        ld->pend = p;
        ld->cappend = cap;
    }
    char *copy = strdup(text);
    if (copy == NULL) {
        ld->nomem = 1;
        return;
    }
    ld->pend[ld->npend] = (struct load_error){line, ld->npend, copy};
    ld->npend++;
}

static int cmp_error(const void *a, const void *b)
{
    const struct load_error *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The file's errors, by line, into the caller's buffer. */
static void flush_errors(struct load *ld)
{
    if (ld->npend > 1) /* qsort with NULL and 0 is undefined behaviour */
        qsort(ld->pend, ld->npend, sizeof *ld->pend, cmp_error);
    for (size_t i = 0; i < ld->npend; i++) {
        if (ld->errors != NULL &&
            fg_buf_appendf(ld->errors, "%s:%d: %s\n", ld->file, ld->pend[i].line,
                           ld->pend[i].text) == FG_ERR_NOMEM)
            ld->nomem = 1;
        free(ld->pend[i].text);
    }
    ld->npend = 0;
}

static int shown_len(const struct fg_yt *n)
{
    if (n->kind != FG_YT_SCALAR)
        return 5;
    return (int)(n->len < RULES_SHOWN_MAX ? n->len : RULES_SHOWN_MAX);
}

static const char *shown_text(const struct fg_yt *n)
{
    return n->kind == FG_YT_SCALAR ? n->text : n->kind == FG_YT_SEQ ? "[...]" : "{...}";
}

/* printf arguments quoting a node from the file, cut to RULES_SHOWN_MAX bytes. */
#define SHOWN(n) shown_len(n), shown_text(n)

static const char *kind_word(const struct fg_yt *n)
{
    return n->kind == FG_YT_SCALAR ? "a scalar" : n->kind == FG_YT_SEQ ? "a list" : "a mapping";
}

static int want(struct load *ld, const struct fg_yt *n, enum fg_yt_kind kind, const char *what)
{
    if (n->kind == kind)
        return 1;
    report(ld, n->line, "%s: expected %s, got %s", what,
           kind == FG_YT_SCALAR ? "a scalar"
           : kind == FG_YT_SEQ  ? "a list"
                                : "a mapping",
           kind_word(n));
    return 0;
}

static int parse_i64(const char *s, int64_t *out)
{
    const char *p = s;
    int neg = 0;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (*p < '0' || *p > '9')
        return 0;
    uint64_t v = 0;
    for (; *p != '\0'; p++) {
        if (*p == '_')
            continue;
        if (*p < '0' || *p > '9')
            return 0;
        if (v > (UINT64_MAX - 9u) / 10u)
            return 0;
        v = v * 10u + (uint64_t)(*p - '0');
        if (v > (uint64_t)INT64_MAX)
            return 0;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 1;
}

/* An integer scalar in [lo, hi]; reports and returns 0 otherwise. */
static int want_int(struct load *ld, const struct fg_yt *n, const char *what, int64_t lo,
                    int64_t hi, int64_t *out)
{
    if (!want(ld, n, FG_YT_SCALAR, what))
        return 0;
    int64_t v;
    if (!parse_i64(n->text, &v)) {
        report(ld, n->line, "%s: expected an integer, got '%.*s'", what, SHOWN(n));
        return 0;
    }
    if (v < lo || v > hi) {
        report(ld, n->line, "%s: %lld is out of range %lld..%lld", what, (long long)v,
               (long long)lo, (long long)hi);
        return 0;
    }
    *out = v;
    return 1;
}

static int charset_ok(const char *s, size_t n, size_t max, const char *extra)
{
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              (c != '\0' && strchr(extra, c) != NULL)))
            return 0;
    }
    return 1;
}

static char *dup(struct load *ld, const char *s, size_t n)
{
    char *p = fg_arena_strndup(&ld->r->arena, s, n);
    if (p == NULL)
        ld->nomem = 1;
    return p;
}

/* ---- fields and conditions -------------------------------------------------------------- */

static int parse_fref(struct load *ld, const struct fg_yt *n, const char *what, struct fg_fref *f)
{
    memset(f, 0, sizeof *f);
    if (!want(ld, n, FG_YT_SCALAR, what))
        return 0;
    const char *s = n->text;
    int typed = fg_mev_field_of(s);
    if (typed >= 0) {
        f->kind = FG_FREF_STR;
        f->field = typed;
        f->label = fg_mev_field_name((enum fg_mev_field)typed);
        return 1;
    }
    if (strcmp(s, "amount") == 0 || strcmp(s, "hour") == 0 || strcmp(s, "weekday") == 0) {
        f->kind = s[0] == 'a' ? FG_FREF_AMOUNT : s[0] == 'h' ? FG_FREF_HOUR : FG_FREF_WEEKDAY;
        f->label = s[0] == 'a' ? "amount" : s[0] == 'h' ? "hour" : "weekday";
        return 1;
    }
    const char *attr = strncmp(s, "attrs.", 6) == 0 ? s + 6 : s;
    if (!charset_ok(attr, strlen(attr), FG_MEV_ATTR_NAME_MAX, "")) {
        report(ld, n->line,
               "%s: unknown field '%.*s' (a typed field, amount, hour, weekday, or attrs.<name> "
               "with a name of [a-z0-9_]{1,32})",
               what, SHOWN(n));
        return 0;
    }
    f->kind = FG_FREF_ATTR;
    memcpy(f->attr, attr, strlen(attr) + 1);
    f->label = dup(ld, attr, strlen(attr));
    return f->label != NULL;
}

struct opname {
    const char *name;
    enum fg_cond_op op;
};

static const struct opname ops[] = {
    {"equals", FG_OP_EQ},
    {"eq", FG_OP_EQ},
    {"ne", FG_OP_NE},
    {"in", FG_OP_IN},
    {"not_in", FG_OP_NOT_IN},
    {"lt", FG_OP_LT},
    {"lte", FG_OP_LTE},
    {"gt", FG_OP_GT},
    {"gte", FG_OP_GTE},
    {"between", FG_OP_BETWEEN},
    {"not_between", FG_OP_NOT_BETWEEN},
    {"cidr", FG_OP_CIDR},
    {"not_cidr", FG_OP_NOT_CIDR},
    {"regex", FG_OP_REGEX},
    {"exists", FG_OP_EXISTS},
};

static int is_numeric_field(const struct fg_fref *f)
{
    return f->kind == FG_FREF_AMOUNT || f->kind == FG_FREF_HOUR || f->kind == FG_FREF_WEEKDAY;
}

/* The items of a list operand (a scalar counts as a list of one). */
static int list_items(struct load *ld, const struct fg_yt *v, const char *what,
                      const struct fg_yt *const **items, size_t *n, const struct fg_yt **one)
{
    if (v->kind == FG_YT_SCALAR) {
        *one = v;
        *items = one;
        *n = 1;
    } else if (v->kind == FG_YT_SEQ) {
        *items = (const struct fg_yt *const *)v->items;
        *n = v->count;
    } else {
        report(ld, v->line, "%s: expected a list, got a mapping", what);
        return 0;
    }
    if (*n == 0 || *n > FG_RULE_LIST_MAX) {
        report(ld, v->line, "%s: needs 1..%u values", what, FG_RULE_LIST_MAX);
        return 0;
    }
    for (size_t i = 0; i < *n; i++)
        if (!want(ld, (*items)[i], FG_YT_SCALAR, what))
            return 0;
    return 1;
}

static int parse_op(struct load *ld, struct fg_cond *c, const char *fname, const char *opn,
                    const struct fg_yt *v)
{
    char what[96];
    snprintf(what, sizeof what, "%s.%s", fname, opn);
    const struct fg_yt *const *items;
    const struct fg_yt *one;
    size_t n;
    switch (c->op) {
    case FG_OP_EQ:
    case FG_OP_NE:
        if (!want(ld, v, FG_YT_SCALAR, what))
            return 0;
        c->str = dup(ld, v->text, v->len);
        c->num_ok = parse_i64(v->text, &c->a);
        if (is_numeric_field(&c->f) && !c->num_ok) {
            report(ld, v->line, "%s: expected an integer, got '%.*s'", what, SHOWN(v));
            return 0;
        }
        return c->str != NULL;
    case FG_OP_IN:
    case FG_OP_NOT_IN:
        if (!list_items(ld, v, what, &items, &n, &one))
            return 0;
        c->strs = fg_arena_calloc(&ld->r->arena, n, sizeof *c->strs);
        if (c->strs == NULL)
            return ld->nomem = 1, 0;
        for (size_t i = 0; i < n; i++)
            if ((c->strs[i] = dup(ld, items[i]->text, items[i]->len)) == NULL)
                return 0;
        c->n = (unsigned)n;
        return 1;
    case FG_OP_LT:
    case FG_OP_LTE:
    case FG_OP_GT:
    case FG_OP_GTE:
        if (c->f.kind == FG_FREF_STR) {
            report(ld, v->line, "%s: '%s' needs a numeric field (amount, hour, weekday, attrs)",
                   what, opn);
            return 0;
        }
        return want_int(ld, v, what, INT64_MIN, INT64_MAX, &c->a);
    case FG_OP_BETWEEN:
    case FG_OP_NOT_BETWEEN:
        if (c->f.kind == FG_FREF_STR) {
            report(ld, v->line, "%s: '%s' needs a numeric field (amount, hour, weekday, attrs)",
                   what, opn);
            return 0;
        }
        if (v->kind != FG_YT_SEQ || v->count != 2) {
            report(ld, v->line, "%s: expected a list of two integers [low, high]", what);
            return 0;
        }
        if (!want_int(ld, v->items[0], what, INT64_MIN, INT64_MAX, &c->a) ||
            !want_int(ld, v->items[1], what, INT64_MIN, INT64_MAX, &c->b))
            return 0;
        if (c->a > c->b) {
            report(ld, v->line, "%s: low %lld is above high %lld", what, (long long)c->a,
                   (long long)c->b);
            return 0;
        }
        return 1;
    case FG_OP_CIDR:
    case FG_OP_NOT_CIDR:
        if (is_numeric_field(&c->f)) {
            report(ld, v->line, "%s: '%s' needs an address field", what, opn);
            return 0;
        }
        if (!list_items(ld, v, what, &items, &n, &one))
            return 0;
        c->blocks = fg_arena_calloc(&ld->r->arena, n, sizeof *c->blocks);
        if (c->blocks == NULL)
            return ld->nomem = 1, 0;
        for (size_t i = 0; i < n; i++) {
            if (fg_net_block_parse(items[i]->text, items[i]->len, &c->blocks[i]) != FG_OK) {
                report(ld, items[i]->line, "%s: '%.*s' is not an address or CIDR block", what,
                       SHOWN(items[i]));
                return 0;
            }
        }
        c->n = (unsigned)n;
        return 1;
    case FG_OP_REGEX: {
        if (!want(ld, v, FG_YT_SCALAR, what))
            return 0;
        int err = 0;
        PCRE2_SIZE off = 0;
        c->re = pcre2_compile((PCRE2_SPTR)v->text, v->len, 0, &err, &off, NULL);
        if (c->re == NULL) {
            PCRE2_UCHAR msg[160];
            if (pcre2_get_error_message(err, msg, sizeof msg) < 0)
                snprintf((char *)msg, sizeof msg, "error %d", err);
            report(ld, v->line, "%s: bad regex: %s at offset %zu", what, (const char *)msg,
                   (size_t)off);
            return 0;
        }
        return 1;
    }
    case FG_OP_EXISTS:
        if (fg_yt_is(v, "true"))
            c->a = 1;
        else if (fg_yt_is(v, "false"))
            c->a = 0;
        else {
            report(ld, v->line, "%s: expected true or false", what);
            return 0;
        }
        return 1;
    }
    return 0;
}

static int add_cond(struct load *ld, struct fg_cmatch *m, struct fg_cond *tmp, int line)
{
    if (m->nconds >= FG_RULE_CONDS_MAX) {
        report(ld, line, "more than %u conditions (FG_RULE_CONDS_MAX)", FG_RULE_CONDS_MAX);
        return 0;
    }
    m->conds[m->nconds++] = *tmp;
    return 1;
}

static void parse_where(struct load *ld, const struct fg_yt *w, struct fg_cmatch *m)
{
    if (!want(ld, w, FG_YT_MAP, "where"))
        return;
    m->conds = fg_arena_calloc(&ld->r->arena, FG_RULE_CONDS_MAX, sizeof *m->conds);
    if (m->conds == NULL) {
        ld->nomem = 1;
        return;
    }
    for (size_t i = 0; i + 1 < w->count; i += 2) {
        const struct fg_yt *k = w->items[i], *v = w->items[i + 1];
        struct fg_cond c;
        memset(&c, 0, sizeof c);
        if (!parse_fref(ld, k, "where", &c.f))
            continue;
        if (v->kind == FG_YT_SCALAR) {
            c.op = FG_OP_EQ;
            if (parse_op(ld, &c, k->text, "equals", v))
                add_cond(ld, m, &c, k->line);
        } else if (v->kind == FG_YT_MAP) {
            if (v->count == 0)
                report(ld, v->line, "%.*s: no operator", SHOWN(k));
            for (size_t j = 0; j + 1 < v->count; j += 2) {
                const struct fg_yt *on = v->items[j], *ov = v->items[j + 1];
                struct fg_cond oc = c;
                oc.op = 0;
                if (on->kind == FG_YT_SCALAR)
                    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
                        if (strcmp(ops[o].name, on->text) == 0)
                            oc.op = ops[o].op;
                if (oc.op == 0) {
                    report(ld, on->line,
                           "%.*s: unknown operator '%.*s' (equals ne in not_in lt lte gt gte "
                           "between not_between cidr not_cidr regex exists)",
                           SHOWN(k), SHOWN(on));
                    continue;
                }
                if (parse_op(ld, &oc, k->text, on->text, ov))
                    add_cond(ld, m, &oc, on->line);
            }
        } else {
            report(ld, v->line, "%.*s: expected a value or a mapping of operators, got a list",
                   SHOWN(k));
        }
    }
}

static int event_name_ok(const char *s, size_t n)
{
    return charset_ok(s, n, FG_MEV_NAME_MAX, ".-");
}

static void parse_match(struct load *ld, const struct fg_yt *mn, struct fg_cmatch *m,
                        const char *what)
{
    if (!want(ld, mn, FG_YT_MAP, what))
        return;
    const struct fg_yt *names = NULL;
    for (size_t i = 0; i + 1 < mn->count; i += 2) {
        const struct fg_yt *k = mn->items[i], *v = mn->items[i + 1];
        if (fg_yt_is(k, "name"))
            names = v;
        else if (fg_yt_is(k, "where"))
            parse_where(ld, v, m);
        else
            report(ld, k->line, "%s: unknown key '%.*s' (name, where)", what, SHOWN(k));
    }
    if (names == NULL) {
        report(ld, mn->line, "%s: missing 'name'", what);
        return;
    }
    const struct fg_yt *const *items;
    const struct fg_yt *one;
    size_t n;
    if (!list_items(ld, names, "name", &items, &n, &one))
        return;
    m->names = fg_arena_calloc(&ld->r->arena, n, sizeof *m->names);
    if (m->names == NULL) {
        ld->nomem = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct fg_yt *it = items[i];
        if (strcmp(it->text, "*") == 0) {
            m->any = 1;
            continue;
        }
        if (!event_name_ok(it->text, it->len)) {
            report(ld, it->line, "name: '%.*s' is not an event name ([a-z0-9_.-]{1,48} or *)",
                   SHOWN(it));
            continue;
        }
        if ((m->names[m->nnames] = dup(ld, it->text, it->len)) != NULL)
            m->nnames++;
    }
}

static void parse_by(struct load *ld, const struct fg_yt *v, struct fg_crule *cr)
{
    const struct fg_yt *const *items;
    const struct fg_yt *one;
    size_t n;
    if (v->kind == FG_YT_SEQ && v->count == 0)
        return;
    if (!list_items(ld, v, "by", &items, &n, &one))
        return;
    if (n > FG_RULE_BY_MAX) {
        report(ld, v->line, "by: more than %u fields (FG_RULE_BY_MAX)", FG_RULE_BY_MAX);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (parse_fref(ld, items[i], "by", &cr->by[cr->nby]))
            cr->nby++;
}

static void parse_aggregate(struct load *ld, const struct fg_yt *a, struct fg_crule *cr)
{
    if (!want(ld, a, FG_YT_MAP, "aggregate"))
        return;
    const struct fg_yt *field = NULL, *fn = NULL, *win = NULL, *thr = NULL;
    for (size_t i = 0; i + 1 < a->count; i += 2) {
        const struct fg_yt *k = a->items[i], *v = a->items[i + 1];
        if (fg_yt_is(k, "function"))
            fn = v;
        else if (fg_yt_is(k, "field"))
            field = v;
        else if (fg_yt_is(k, "by"))
            parse_by(ld, v, cr);
        else if (fg_yt_is(k, "window_s"))
            win = v;
        else if (fg_yt_is(k, "threshold"))
            thr = v;
        else
            report(ld, k->line,
                   "aggregate: unknown key '%.*s' (function, field, by, window_s, threshold)",
                   SHOWN(k));
    }
    if (fn == NULL)
        report(ld, a->line, "aggregate: missing 'function'");
    else if (want(ld, fn, FG_YT_SCALAR, "aggregate.function")) {
        if (fg_yt_is(fn, "count"))
            cr->fn = FG_AGG_COUNT;
        else if (fg_yt_is(fn, "sum"))
            cr->fn = FG_AGG_SUM;
        else if (fg_yt_is(fn, "distinct"))
            cr->fn = FG_AGG_DISTINCT;
        else
            report(ld, fn->line,
                   "aggregate.function: unknown function '%.*s' (count, sum, distinct)", SHOWN(fn));
    }
    if (field != NULL) {
        if (parse_fref(ld, field, "aggregate.field", &cr->field) && cr->fn == FG_AGG_SUM &&
            cr->field.kind == FG_FREF_STR)
            report(ld, field->line, "aggregate.field: sum needs a numeric field (amount, attrs)");
    } else if (cr->fn == FG_AGG_SUM || cr->fn == FG_AGG_DISTINCT) {
        report(ld, a->line, "aggregate: %s needs 'field'",
               cr->fn == FG_AGG_SUM ? "sum" : "distinct");
    }
    if (win == NULL)
        report(ld, a->line, "aggregate: missing 'window_s'");
    else if (want_int(ld, win, "aggregate.window_s", 1, FG_RULE_WINDOW_S_MAX, &cr->window_ms))
        cr->window_ms *= 1000;
    if (thr == NULL)
        report(ld, a->line, "aggregate: missing 'threshold'");
    else
        (void)want_int(ld, thr, "aggregate.threshold", 1,
                       cr->fn == FG_AGG_SUM ? INT64_MAX : FG_RULE_THRESHOLD_MAX, &cr->threshold);
}

static void parse_sequence(struct load *ld, const struct fg_yt *s, struct fg_crule *cr)
{
    if (!want(ld, s, FG_YT_MAP, "sequence"))
        return;
    const struct fg_yt *steps = NULL, *within = NULL;
    for (size_t i = 0; i + 1 < s->count; i += 2) {
        const struct fg_yt *k = s->items[i], *v = s->items[i + 1];
        if (fg_yt_is(k, "by"))
            parse_by(ld, v, cr);
        else if (fg_yt_is(k, "within_s"))
            within = v;
        else if (fg_yt_is(k, "steps"))
            steps = v;
        else
            report(ld, k->line, "sequence: unknown key '%.*s' (by, within_s, steps)", SHOWN(k));
    }
    if (within == NULL)
        report(ld, s->line, "sequence: missing 'within_s'");
    else if (want_int(ld, within, "sequence.within_s", 1, FG_RULE_WINDOW_S_MAX, &cr->window_ms))
        cr->window_ms *= 1000;
    if (steps == NULL) {
        report(ld, s->line, "sequence: missing 'steps'");
        return;
    }
    if (!want(ld, steps, FG_YT_SEQ, "sequence.steps"))
        return;
    if (steps->count < 2 || steps->count > FG_RULE_STEPS_MAX) {
        report(ld, steps->line, "sequence.steps: needs 2..%u steps, got %zu", FG_RULE_STEPS_MAX,
               steps->count);
        return;
    }
    for (size_t i = 0; i < steps->count; i++)
        parse_match(ld, steps->items[i], &cr->steps[i], "step");
    cr->nsteps = (unsigned)steps->count;
}

static void parse_actions(struct load *ld, const struct fg_yt *a, struct fg_rule_info *info)
{
    if (!want(ld, a, FG_YT_SEQ, "actions"))
        return;
    if (a->count > FG_RULE_ACTIONS_MAX) {
        report(ld, a->line, "actions: more than %u (FG_RULE_ACTIONS_MAX)", FG_RULE_ACTIONS_MAX);
        return;
    }
    for (size_t i = 0; i < a->count; i++) {
        const struct fg_yt *it = a->items[i], *name = it, *params = NULL;
        if (it->kind == FG_YT_MAP) {
            if (it->count != 2) {
                report(ld, it->line, "actions: each action is a name or 'name: {parameters}'");
                continue;
            }
            name = it->items[0];
            params = it->items[1];
        }
        if (!want(ld, name, FG_YT_SCALAR, "actions"))
            continue;
        struct fg_rule_action act;
        memset(&act, 0, sizeof act);
        for (int k = FG_ACT_ALERT; k <= FG_ACT_REQUIRE_STEP_UP; k++)
            if (strcmp(name->text, action_names[k]) == 0)
                act.kind = (enum fg_action_kind)k;
        if (act.kind == 0) {
            report(ld, name->line,
                   "actions: unknown action '%.*s' (alert, open_incident, lock_user, block_ip, "
                   "revoke_sessions, freeze_account, require_step_up)",
                   SHOWN(name));
            continue;
        }
        if (params != NULL && params->kind == FG_YT_SCALAR && params->len == 0)
            params = NULL; /* "alert:" */
        if (params != NULL && want(ld, params, FG_YT_MAP, "actions")) {
            for (size_t j = 0; j + 1 < params->count; j += 2) {
                const struct fg_yt *k = params->items[j], *v = params->items[j + 1];
                int dur = act.kind == FG_ACT_LOCK_USER || act.kind == FG_ACT_BLOCK_IP ||
                          act.kind == FG_ACT_REQUIRE_STEP_UP;
                if (dur && fg_yt_is(k, "duration_s"))
                    (void)want_int(ld, v, "duration_s", 1, FG_RULE_WINDOW_S_MAX, &act.duration_s);
                else if (act.kind == FG_ACT_BLOCK_IP && fg_yt_is(k, "escalate"))
                    (void)want_int(ld, v, "escalate", 0, 100, &act.escalate);
                else if (act.kind == FG_ACT_BLOCK_IP && fg_yt_is(k, "max_s"))
                    (void)want_int(ld, v, "max_s", 1, FG_RULE_WINDOW_S_MAX, &act.max_s);
                else if (act.kind == FG_ACT_OPEN_INCIDENT && fg_yt_is(k, "type")) {
                    if (want(ld, v, FG_YT_SCALAR, "type") &&
                        !charset_ok(v->text, v->len, sizeof act.param - 1, ""))
                        report(ld, v->line, "type: '%.*s' is not [a-z0-9_]{1,63}", SHOWN(v));
                    else if (v->kind == FG_YT_SCALAR)
                        memcpy(act.param, v->text, v->len + 1);
                } else
                    report(ld, k->line, "%s: unknown parameter '%.*s'", name->text, SHOWN(k));
            }
        }
        if (act.kind == FG_ACT_OPEN_INCIDENT && act.param[0] == '\0')
            report(ld, name->line, "open_incident: missing 'type'");
        info->actions[info->nactions++] = act;
    }
}

static void set_text(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static struct fg_crule *rule_new(struct load *ld)
{
    struct fg_rules *r = ld->r;
    if (r->n == ld->cap) {
        size_t cap = ld->cap == 0 ? 32u : ld->cap * 2u;
        struct fg_crule *p = realloc(r->rules, cap * sizeof *p);
        if (p == NULL) {
            ld->nomem = 1;
            return NULL;
        }
        r->rules = p;
        ld->cap = cap;
    }
    struct fg_crule *cr = &r->rules[r->n++];
    memset(cr, 0, sizeof *cr);
    return cr;
}

static void parse_rule(struct load *ld, const struct fg_yt *node)
{
    if (!want(ld, node, FG_YT_MAP, "rule"))
        return;
    if (ld->r->n >= FG_RULES_MAX) {
        if (ld->r->n == FG_RULES_MAX)
            report(ld, node->line, "more than %u rules (FG_RULES_MAX)", FG_RULES_MAX);
        return;
    }
    struct fg_crule *cr = rule_new(ld);
    if (cr == NULL)
        return;
    struct fg_rule_info *info = &cr->info;
    set_text(info->file, sizeof info->file, ld->file);
    info->line = (unsigned)node->line;
    const struct fg_yt *id = NULL, *title = NULL, *level = NULL, *match = NULL, *agg = NULL,
                       *seq = NULL, *by = NULL, *actions = NULL;
    int match_line = 0, agg_line = 0, by_line = 0;
    for (size_t i = 0; i + 1 < node->count; i += 2) {
        const struct fg_yt *k = node->items[i], *v = node->items[i + 1];
        if (fg_yt_is(k, "id"))
            id = v;
        else if (fg_yt_is(k, "title"))
            title = v;
        else if (fg_yt_is(k, "level"))
            level = v;
        else if (fg_yt_is(k, "description"))
            (void)want(ld, v, FG_YT_SCALAR, "description");
        else if (fg_yt_is(k, "tags")) {
            if (!want(ld, v, FG_YT_SEQ, "tags"))
                continue;
            if (v->count > FG_RULE_TAGS_MAX) {
                report(ld, v->line, "tags: more than %u (FG_RULE_TAGS_MAX)", FG_RULE_TAGS_MAX);
                continue;
            }
            for (size_t t = 0; t < v->count; t++) {
                const struct fg_yt *tag = v->items[t];
                if (!want(ld, tag, FG_YT_SCALAR, "tags"))
                    continue;
                if (tag->len == 0 || tag->len > FG_RULE_TAG_MAX)
                    report(ld, tag->line, "tags: a tag is 1..%u bytes", FG_RULE_TAG_MAX);
                else
                    set_text(info->tags[info->ntags++], FG_RULE_TAG_MAX + 1, tag->text);
            }
        } else if (fg_yt_is(k, "match"))
            match = v, match_line = k->line;
        else if (fg_yt_is(k, "aggregate"))
            agg = v, agg_line = k->line;
        else if (fg_yt_is(k, "sequence"))
            seq = v;
        else if (fg_yt_is(k, "by"))
            by = v, by_line = k->line;
        else if (fg_yt_is(k, "suppress_s")) {
            if (want_int(ld, v, "suppress_s", 0, FG_RULE_WINDOW_S_MAX, &info->suppress_s))
                cr->suppress_ms = info->suppress_s * 1000;
        } else if (fg_yt_is(k, "actions"))
            actions = v;
        else
            report(ld, k->line,
                   "unknown key '%.*s' (id, title, level, tags, description, match, aggregate, "
                   "sequence, by, suppress_s, actions)",
                   SHOWN(k));
    }
    if (id == NULL)
        report(ld, node->line, "rule: missing 'id'");
    else if (want(ld, id, FG_YT_SCALAR, "id")) {
        if (!charset_ok(id->text, id->len, FG_RULE_ID_MAX, ".-"))
            report(ld, id->line, "id: '%.*s' is not [a-z0-9_.-]{1,64}", SHOWN(id));
        else if (strcmp(id->text, FG_RULE_EVICTION) == 0)
            report(ld, id->line, "id: '%s' is reserved for the built-in rule", FG_RULE_EVICTION);
        else {
            set_text(info->id, sizeof info->id, id->text);
            for (size_t j = 0; j + 1 < ld->r->n; j++)
                if (strcmp(ld->r->rules[j].info.id, info->id) == 0) {
                    report(ld, id->line, "duplicate id '%s' (first defined at %s:%u)", info->id,
                           ld->r->rules[j].info.file, ld->r->rules[j].info.line);
                    break;
                }
        }
    }
    if (title == NULL)
        report(ld, node->line, "rule: missing 'title'");
    else if (want(ld, title, FG_YT_SCALAR, "title")) {
        if (title->len == 0 || title->len > FG_RULE_TITLE_MAX)
            report(ld, title->line, "title: 1..%u bytes", FG_RULE_TITLE_MAX);
        else
            set_text(info->title, sizeof info->title, title->text);
    }
    if (level == NULL)
        report(ld, node->line, "rule: missing 'level'");
    else if (want(ld, level, FG_YT_SCALAR, "level")) {
        for (int l = FG_LEVEL_LOW; l <= FG_LEVEL_CRITICAL; l++)
            if (strcmp(level->text, fg_rule_level_name((enum fg_rule_level)l)) == 0)
                info->level = (enum fg_rule_level)l;
        if (info->level == 0)
            report(ld, level->line, "level: '%.*s' is not low, medium, high or critical",
                   SHOWN(level));
    }
    if (seq != NULL) {
        cr->kind = FG_RK_SEQUENCE;
        if (match != NULL)
            report(ld, match_line, "a rule has either 'match' or 'sequence', not both");
        if (agg != NULL)
            report(ld, agg_line, "'aggregate' does not go with 'sequence'");
        if (by != NULL)
            report(ld, by_line, "'by' of a sequence goes inside 'sequence'");
        parse_sequence(ld, seq, cr);
        cr->threshold = cr->nsteps;
    } else if (match != NULL) {
        cr->kind = agg != NULL ? FG_RK_AGGREGATE : FG_RK_MATCH;
        parse_match(ld, match, &cr->match, "match");
        if (agg != NULL) {
            if (by != NULL)
                report(ld, by_line, "'by' of an aggregate goes inside 'aggregate'");
            parse_aggregate(ld, agg, cr);
        } else {
            cr->threshold = 1;
            if (by != NULL)
                parse_by(ld, by, cr);
        }
    } else {
        report(ld, node->line, "rule: needs 'match' or 'sequence'");
        if (agg != NULL)
            report(ld, agg_line, "'aggregate' needs 'match'");
    }
    set_text(info->kind, sizeof info->kind,
             cr->kind == FG_RK_SEQUENCE    ? "sequence"
             : cr->kind == FG_RK_AGGREGATE ? "aggregate"
                                           : "match");
    if (actions != NULL)
        parse_actions(ld, actions, info);
    else {
        info->nactions = 1;
        info->actions[0].kind = FG_ACT_ALERT;
    }
}

static void load_text(struct load *ld, const char *name, const char *text, size_t len)
{
    ld->file = name;
    if (len > FG_RULE_FILE_BYTES_MAX) {
        report(ld, 1, "larger than %u bytes (FG_RULE_FILE_BYTES_MAX)", FG_RULE_FILE_BYTES_MAX);
        flush_errors(ld);
        return;
    }
    struct fg_arena tree;
    fg_arena_init(&tree, RULES_TREE_ARENA_MAX);
    struct fg_yt *root = NULL;
    char msg[FG_YT_MESSAGE_MAX];
    int line = 0;
    if (fg_yt_parse(&tree, text, len, &root, msg, &line) != 0) {
        report(ld, line, "%s", msg);
    } else if (root == NULL || (root->kind == FG_YT_SCALAR && root->len == 0)) {
        /* an empty file holds no rules */
    } else if (root->kind == FG_YT_SEQ) {
        for (size_t i = 0; i < root->count; i++)
            parse_rule(ld, root->items[i]);
    } else if (root->kind == FG_YT_MAP) {
        parse_rule(ld, root);
    } else {
        report(ld, root->line, "a rules file is a list of rules or one rule (a mapping)");
    }
    fg_arena_release(&tree);
    flush_errors(ld);
}

static void free_match(struct fg_cmatch *m)
{
    for (unsigned i = 0; m->conds != NULL && i < m->nconds; i++)
        if (m->conds[i].re != NULL)
            pcre2_code_free(m->conds[i].re);
}

void fg_rules_free(struct fg_rules *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free_match(&r->rules[i].match);
        for (unsigned s = 0; s < FG_RULE_STEPS_MAX; s++)
            free_match(&r->rules[i].steps[s]);
    }
    free(r->rules);
    fg_arena_release(&r->arena);
    free(r);
}

fg_rc fg_rules_load_texts(const char *const *names, const char *const *texts, const size_t *lens,
                          size_t n, struct fg_rules **out, struct fg_buf *errors)
{
    *out = NULL;
    struct fg_rules *r = calloc(1, sizeof *r);
    if (r == NULL)
        return FG_ERR_NOMEM;
    fg_arena_init(&r->arena, RULES_SET_ARENA_MAX);
    struct load ld = {.errors = errors, .r = r};
    for (size_t i = 0; i < n && !ld.nomem; i++)
        load_text(&ld, names[i], texts[i], lens[i]);
    flush_errors(&ld);
    free(ld.pend);
    if (ld.nomem || ld.nerrors > 0) {
        fg_rules_free(r);
        return ld.nomem ? FG_ERR_NOMEM : FG_ERR_INVALID;
    }
    *out = r;
    return FG_OK;
}

static fg_rc read_file(const char *path, char **text, size_t *len)
{
    *text = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return FG_ERR_IO;
    size_t cap = FG_RULE_FILE_BYTES_MAX + 2, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        fclose(f);
        return FG_ERR_NOMEM;
    }
    n = fread(buf, 1, cap - 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return FG_ERR_IO;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n; /* over the limit shows as FG_RULE_FILE_BYTES_MAX + 1: reported by the loader */
    return FG_OK;
}

fg_rc fg_rules_load_files(const char *const *paths, size_t npaths, struct fg_rules **out,
                          struct fg_buf *errors)
{
    *out = NULL;
    char **texts = calloc(npaths + 1, sizeof *texts);
    size_t *lens = calloc(npaths + 1, sizeof *lens);
    fg_rc rc = texts == NULL || lens == NULL ? FG_ERR_NOMEM : FG_OK;
    for (size_t i = 0; rc == FG_OK && i < npaths; i++) {
        rc = read_file(paths[i], &texts[i], &lens[i]);
        if (rc == FG_ERR_IO && errors != NULL)
            if (fg_buf_appendf(errors, "%s:0: cannot read: %s\n", paths[i], strerror(errno)))
                rc = FG_ERR_IO; /* the message did not fit: the code still says it */
    }
    if (rc == FG_OK)
        rc = fg_rules_load_texts(paths, (const char *const *)texts, lens, npaths, out, errors);
    for (size_t i = 0; texts != NULL && i < npaths; i++)
        free(texts[i]);
    free(texts);
    free(lens);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

fg_rc fg_rules_load_default(const char *dir, struct fg_rules **out, struct fg_buf *errors)
{
    *out = NULL;
    if (dir == NULL || dir[0] == '\0') {
        const char *names[RULES_DIR_FILES_MAX], *texts[RULES_DIR_FILES_MAX];
        size_t lens[RULES_DIR_FILES_MAX], n = 0;
        for (const struct fg_data_file *f = fg_data_files; f->name != NULL; f++) {
            size_t len = strlen(f->name);
            if (strncmp(f->name, "rules/", 6) != 0 || strchr(f->name + 6, '/') != NULL ||
                len < 11 || strcmp(f->name + len - 5, ".yaml") != 0 || n == RULES_DIR_FILES_MAX)
                continue;
            names[n] = f->name;
            texts[n] = f->text;
            lens[n++] = f->len;
        }
        return fg_rules_load_texts(names, texts, lens, n, out, errors);
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errors != NULL)
            if (fg_buf_appendf(errors, "%s:0: cannot open directory: %s\n", dir, strerror(errno)) !=
                FG_OK)
                return FG_ERR_IO;
        return FG_ERR_IO;
    }
    char *paths[RULES_DIR_FILES_MAX];
    size_t n = 0;
    fg_rc rc = FG_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0)
            continue;
        if (n == RULES_DIR_FILES_MAX) {
            rc = FG_ERR_LIMIT;
            break;
        }
        size_t plen = strlen(dir) + len + 2;
        if ((paths[n] = malloc(plen)) == NULL) {
            rc = FG_ERR_NOMEM;
            break;
        }
        snprintf(paths[n], plen, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(paths[n], &st) != 0 || !S_ISREG(st.st_mode)) {
            free(paths[n]);
            continue;
        }
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(paths, n, sizeof paths[0], cmp_str);
    if (rc == FG_OK)
        rc = fg_rules_load_files((const char *const *)paths, n, out, errors);
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    return rc;
}

size_t fg_rules_count(const struct fg_rules *r)
{
    return r != NULL ? r->n : 0;
}

const struct fg_rule_info *fg_rules_info(const struct fg_rules *r, size_t i)
{
    return r != NULL && i < r->n ? &r->rules[i].info : NULL;
}

const struct fg_rule_info *fg_rules_find(const struct fg_rules *r, const char *id)
{
    if (id == NULL)
        return NULL;
    if (strcmp(id, FG_RULE_EVICTION) == 0)
        return &eviction_info;
    for (size_t i = 0; r != NULL && i < r->n; i++)
        if (strcmp(r->rules[i].info.id, id) == 0)
            return &r->rules[i].info;
    return NULL;
}
