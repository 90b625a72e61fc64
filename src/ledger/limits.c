/*
 * limits.c — data/limits.yaml and the tier rule (see limits.h).
 *
 * Loading: libyaml events become a small tree (every node keeps its line), bounded in
 * events and depth, with anchors, aliases and tags refused; then one walk checks the shape
 * and the numbers and stops at the first error. Integers are plain (unquoted) decimal
 * scalars only, so `"100"` and `1e5` and `0x10` are errors rather than surprises.
 */
#include "ledger/limits.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/data.h"

#define ORIGIN "limits.yaml"
#define DAY_MS (24LL * 3600 * 1000)

struct currency {
    struct fg_limits_currency c;
    int line;      /* of its limits entry, 0 until seen */
    int list_line; /* of its name in currencies */
};

struct fg_limits {
    size_t count;
    struct currency cur[FG_LIMITS_CURRENCIES_MAX];
    int64_t day_offset_ms;
    int64_t new_window_ms;
};

/* ---- the YAML tree ------------------------------------------------------------------------ */

enum node_kind { N_SCALAR, N_SEQ, N_MAP };

struct node {
    enum node_kind kind;
    int line;
    int key_line; /* for a mapping's value: the line of its key (else 0) */
    size_t nchildren;
    int plain;   /* scalar written without quotes */
    char *value; /* scalar text (NUL-terminated; the file's bytes) */
    size_t len;
    struct node *first, *last, *next; /* children; maps alternate key, value */
    struct node *parent;
};

struct load {
    struct node *nodes; /* every node, FG_LIMITS_YAML_EVENTS_MAX at most */
    size_t used;
    char *err;
    size_t err_cap;
    int failed;
};

static void fail(struct load *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct load *ld, int line, const char *fmt, ...)
{
    if (ld->failed)
        return;
    ld->failed = 1;
    if (ld->err == NULL || ld->err_cap == 0)
        return;
    char msg[FG_LIMITS_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ld->err, ld->err_cap, "%s:%d: %s", ORIGIN, line, msg);
}

static struct node *node_new(struct load *ld, enum node_kind kind, const yaml_mark_t *mark,
                             struct node *parent)
{
    if (ld->used >= FG_LIMITS_YAML_EVENTS_MAX) {
        fail(ld, (int)mark->line + 1, "the file has too many YAML nodes");
        return NULL;
    }
    struct node *n = &ld->nodes[ld->used++];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->line = (int)mark->line + 1;
    n->parent = parent;
    if (parent != NULL) {
        if (parent->kind == N_MAP && parent->nchildren % 2 == 1)
            n->key_line = parent->last->line;
        parent->nchildren++;
        if (parent->last != NULL)
            parent->last->next = n;
        else
            parent->first = n;
        parent->last = n;
    }
    return n;
}

static void nodes_free(struct load *ld)
{
    for (size_t i = 0; i < ld->used; i++)
        free(ld->nodes[i].value);
    free(ld->nodes);
    ld->nodes = NULL;
}

/* Build the tree; returns the root (a document's single node) or NULL after fail(). */
static struct node *tree_build(struct load *ld, const char *text, size_t len)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        fail(ld, 0, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    struct node *root = NULL, *cur = NULL;
    unsigned depth = 0, documents = 0;
    int done = 0;
    while (!done && !ld->failed) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            int line = (int)parser.problem_mark.line + 1;
            fail(ld, line, "YAML syntax error: %s",
                 parser.problem != NULL ? parser.problem : "unknown");
            break;
        }
        const yaml_char_t *anchor = NULL, *tag = NULL;
        enum node_kind kind = N_SCALAR;
        int opens = 0;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1)
                fail(ld, (int)ev.start_mark.line + 1, "only one YAML document is allowed");
            break;
        case YAML_ALIAS_EVENT:
            fail(ld, (int)ev.start_mark.line + 1, "YAML aliases are not allowed");
            break;
        case YAML_SCALAR_EVENT:
            anchor = ev.data.scalar.anchor;
            tag = ev.data.scalar.tag;
            kind = N_SCALAR;
            opens = 1;
            break;
        case YAML_SEQUENCE_START_EVENT:
            anchor = ev.data.sequence_start.anchor;
            tag = ev.data.sequence_start.tag;
            kind = N_SEQ;
            opens = 1;
            break;
        case YAML_MAPPING_START_EVENT:
            anchor = ev.data.mapping_start.anchor;
            tag = ev.data.mapping_start.tag;
            kind = N_MAP;
            opens = 1;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            cur = cur != NULL ? cur->parent : NULL;
            break;
        default:
            break;
        }
        if (opens && !ld->failed) {
            int line = (int)ev.start_mark.line + 1;
            if (anchor != NULL)
                fail(ld, line, "YAML anchors are not allowed");
            else if (tag != NULL)
                fail(ld, line, "YAML tags are not allowed");
            else if (cur == NULL && root != NULL)
                fail(ld, line, "only one YAML document is allowed");
            else if (kind != N_SCALAR && depth + 1 > FG_LIMITS_YAML_DEPTH_MAX)
                fail(ld, line, "nesting is deeper than %u", FG_LIMITS_YAML_DEPTH_MAX);
            else {
                struct node *n = node_new(ld, kind, &ev.start_mark, cur);
                if (n != NULL && root == NULL)
                    root = n;
                if (n != NULL && kind == N_SCALAR) {
                    n->len = ev.data.scalar.length;
                    n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                    n->value = malloc(n->len + 1);
                    if (n->value == NULL)
                        fail(ld, line, "out of memory");
                    else {
                        memcpy(n->value, ev.data.scalar.value, n->len);
                        n->value[n->len] = '\0';
                    }
                } else if (n != NULL) {
                    depth++;
                    cur = n;
                }
            }
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    if (!ld->failed && root == NULL)
        fail(ld, 1, "the file is empty");
    return ld->failed ? NULL : root;
}

/* ---- checking ----------------------------------------------------------------------------- */

static const char *kind_name(enum node_kind k)
{
    return k == N_SCALAR ? "a scalar" : k == N_SEQ ? "a list" : "a mapping";
}

static int expect(struct load *ld, const struct node *n, enum node_kind k, const char *what)
{
    if (n->kind == k)
        return 1;
    fail(ld, n->line, "%s must be %s, not %s", what, kind_name(k), kind_name(n->kind));
    return 0;
}

/* A plain decimal integer in [min, max]. */
static int get_int(struct load *ld, const struct node *n, const char *what, int64_t min,
                   int64_t max, int64_t *out)
{
    if (!expect(ld, n, N_SCALAR, what))
        return 0;
    const char *s = n->value;
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-') {
        neg = 1;
        i = 1;
    }
    int ok = n->plain && s[i] != '\0' && !(s[i] == '0' && s[i + 1] != '\0') && n->len < 20;
    int64_t v = 0;
    for (; ok && s[i] != '\0'; i++) {
        if (s[i] < '0' || s[i] > '9')
            ok = 0;
        else
            v = v * 10 + (s[i] - '0'); /* < 20 characters: no overflow before 10^19 */
    }
    if (ok && neg)
        v = -v;
    if (!ok) {
        fail(ld, n->line, "%s must be a plain decimal integer", what);
        return 0;
    }
    if (v < min || v > max) {
        fail(ld, n->line, "%s must be between %lld and %lld", what, (long long)min, (long long)max);
        return 0;
    }
    *out = v;
    return 1;
}

static int currency_code_valid(const char *s)
{
    return s != NULL && strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
           s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z';
}

/* Walk the pairs of mapping m; each key must be one of names[] (in order of the array),
 * at most once; vals[i] receives the value node (NULL if absent). */
static int map_fields(struct load *ld, const struct node *m, const char *what,
                      const char *const *names, size_t count, const struct node **vals)
{
    if (!expect(ld, m, N_MAP, what))
        return 0;
    for (size_t i = 0; i < count; i++)
        vals[i] = NULL;
    for (const struct node *k = m->first; k != NULL; k = k->next->next) {
        const struct node *v = k->next;
        if (k->kind != N_SCALAR) {
            fail(ld, k->line, "keys of %s must be scalars", what);
            return 0;
        }
        size_t i = 0;
        while (i < count && strcmp(names[i], k->value) != 0)
            i++;
        if (i == count) {
            fail(ld, k->line, "unknown key \"%.40s\" in %s", k->value, what);
            return 0;
        }
        if (vals[i] != NULL) {
            fail(ld, k->line, "duplicate key \"%s\" in %s", names[i], what);
            return 0;
        }
        vals[i] = v;
    }
    for (size_t i = 0; i < count; i++)
        if (vals[i] == NULL) {
            fail(ld, m->key_line > 0 ? m->key_line : m->line, "%s lacks \"%s\"", what, names[i]);
            return 0;
        }
    return 1;
}

static struct currency *find(struct fg_limits *L, const char *code)
{
    for (size_t i = 0; i < L->count; i++)
        if (strcmp(L->cur[i].c.code, code) == 0)
            return &L->cur[i];
    return NULL;
}

static int load_currencies(struct load *ld, struct fg_limits *L, const struct node *seq)
{
    if (!expect(ld, seq, N_SEQ, "currencies"))
        return 0;
    for (const struct node *n = seq->first; n != NULL; n = n->next) {
        if (!expect(ld, n, N_SCALAR, "a currency"))
            return 0;
        if (!currency_code_valid(n->value)) {
            fail(ld, n->line, "a currency is 3 upper-case letters (ISO 4217)");
            return 0;
        }
        if (find(L, n->value) != NULL) {
            fail(ld, n->line, "currency %s is listed twice", n->value);
            return 0;
        }
        if (L->count >= FG_LIMITS_CURRENCIES_MAX) {
            fail(ld, n->line, "more than %u currencies", FG_LIMITS_CURRENCIES_MAX);
            return 0;
        }
        L->cur[L->count].list_line = n->line;
        memcpy(L->cur[L->count++].c.code, n->value, 4);
    }
    if (L->count == 0) {
        fail(ld, seq->line, "currencies must not be empty");
        return 0;
    }
    return 1;
}

static int load_entry(struct load *ld, struct currency *cu, const struct node *m)
{
    static const char *const fields[] = {"tiers", "account", "new_payee_txn_max",
                                         "new_device_txn_max"};
    static const char *const tier_fields[] = {"session_max", "otp_max"};
    static const char *const account_fields[] = {"per_txn_max", "per_day_max"};
    const struct node *v[4], *t[2], *a[2];
    const int64_t max = FG_LIMITS_AMOUNT_MAX;
    struct fg_limits_currency *c = &cu->c;
    if (!map_fields(ld, m, "a currency's limits", fields, 4, v) ||
        !map_fields(ld, v[0], "tiers", tier_fields, 2, t) ||
        !map_fields(ld, v[1], "account", account_fields, 2, a) ||
        !get_int(ld, t[0], "session_max", 1, max, &c->session_max) ||
        !get_int(ld, t[1], "otp_max", 1, max, &c->otp_max) ||
        !get_int(ld, a[0], "per_txn_max", 1, max, &c->per_txn_max) ||
        !get_int(ld, a[1], "per_day_max", 1, max, &c->per_day_max) ||
        !get_int(ld, v[2], "new_payee_txn_max", 1, max, &c->new_payee_txn_max) ||
        !get_int(ld, v[3], "new_device_txn_max", 1, max, &c->new_device_txn_max))
        return 0;
    if (c->session_max > c->otp_max) {
        fail(ld, t[0]->line, "session_max must not be above otp_max");
        return 0;
    }
    if (c->per_txn_max > c->per_day_max) {
        fail(ld, a[0]->line, "per_txn_max must not be above per_day_max");
        return 0;
    }
    return 1;
}

static int load_limits(struct load *ld, struct fg_limits *L, const struct node *m)
{
    if (!expect(ld, m, N_MAP, "limits"))
        return 0;
    for (const struct node *k = m->first; k != NULL; k = k->next->next) {
        if (k->kind != N_SCALAR) {
            fail(ld, k->line, "keys of limits must be currencies");
            return 0;
        }
        struct currency *cu = find(L, k->value);
        if (cu == NULL) {
            fail(ld, k->line, "limits for \"%.8s\", which is not in currencies", k->value);
            return 0;
        }
        if (cu->line != 0) {
            fail(ld, k->line, "limits for %s are given twice", cu->c.code);
            return 0;
        }
        cu->line = k->line;
        if (!load_entry(ld, cu, k->next))
            return 0;
    }
    for (size_t i = 0; i < L->count; i++)
        if (L->cur[i].line == 0) {
            fail(ld, L->cur[i].list_line, "currency %s has no limits", L->cur[i].c.code);
            return 0;
        }
    return 1;
}

static int load_root(struct load *ld, struct fg_limits *L, const struct node *root)
{
    static const char *const fields[] = {"currencies", "day_offset_s", "new_window_s", "limits"};
    const struct node *v[4];
    int64_t off = 0, win = 0;
    if (!map_fields(ld, root, "the file", fields, 4, v) || !load_currencies(ld, L, v[0]) ||
        !get_int(ld, v[1], "day_offset_s", -FG_LIMITS_DAY_OFFSET_S_MAX, FG_LIMITS_DAY_OFFSET_S_MAX,
                 &off) ||
        !get_int(ld, v[2], "new_window_s", FG_LIMITS_NEW_WINDOW_S_MIN, FG_LIMITS_NEW_WINDOW_S_MAX,
                 &win) ||
        !load_limits(ld, L, v[3]))
        return 0;
    L->day_offset_ms = off * 1000;
    L->new_window_ms = win * 1000;
    return 1;
}

fg_rc fg_limits_load(const char *text, size_t len, struct fg_limits **out, char *err,
                     size_t err_cap)
{
    assert(out != NULL);
    *out = NULL;
    if (err != NULL && err_cap > 0)
        err[0] = '\0';
    struct load ld = {.err = err, .err_cap = err_cap};
    if (text == NULL && len > 0)
        return FG_ERR_INVALID;
    if (len > FG_LIMITS_FILE_MAX) {
        fail(&ld, 1, "the file is longer than %u bytes", FG_LIMITS_FILE_MAX);
        return FG_ERR_TOO_LARGE;
    }
    ld.nodes = calloc(FG_LIMITS_YAML_EVENTS_MAX, sizeof *ld.nodes);
    struct fg_limits *L = calloc(1, sizeof *L);
    if (ld.nodes == NULL || L == NULL) {
        free(ld.nodes);
        free(L);
        return FG_ERR_NOMEM;
    }
    const struct node *root = tree_build(&ld, text != NULL ? text : "", len);
    int ok = root != NULL && load_root(&ld, L, root);
    nodes_free(&ld);
    if (!ok) {
        free(L);
        return FG_ERR_CONFIG;
    }
    *out = L;
    return FG_OK;
}

fg_rc fg_limits_load_default(struct fg_limits **out)
{
    assert(out != NULL);
    *out = NULL;
    const struct fg_data_file *f = fg_data_find("limits.yaml");
    if (f == NULL)
        return FG_ERR_NOT_FOUND;
    return fg_limits_load(f->text, f->len, out, NULL, 0);
}

void fg_limits_free(struct fg_limits *L)
{
    free(L);
}

/* ---- queries ------------------------------------------------------------------------------ */

static const struct currency *find_c(const struct fg_limits *L, const char *code)
{
    if (L == NULL || code == NULL)
        return NULL;
    for (size_t i = 0; i < L->count; i++)
        if (strcmp(L->cur[i].c.code, code) == 0)
            return &L->cur[i];
    return NULL;
}

int fg_limits_has_currency(const struct fg_limits *L, const char *cur)
{
    return find_c(L, cur) != NULL;
}

size_t fg_limits_currency_count(const struct fg_limits *L)
{
    return L != NULL ? L->count : 0;
}

const char *fg_limits_currency_at(const struct fg_limits *L, size_t i)
{
    return L != NULL && i < L->count ? L->cur[i].c.code : NULL;
}

fg_rc fg_limits_currency_get(const struct fg_limits *L, const char *cur,
                             struct fg_limits_currency *out)
{
    assert(out != NULL);
    const struct currency *c = find_c(L, cur);
    if (c == NULL) {
        memset(out, 0, sizeof *out);
        return FG_ERR_NOT_FOUND;
    }
    *out = c->c;
    return FG_OK;
}

int64_t fg_limits_day_start_ms(const struct fg_limits *L, int64_t now_ms)
{
    assert(L != NULL);
    int64_t local;
    if (__builtin_add_overflow(now_ms, L->day_offset_ms, &local))
        local = now_ms > 0 ? INT64_MAX : INT64_MIN;
    int64_t day = local / DAY_MS;
    if (local % DAY_MS < 0)
        day--; /* floor for times before 1970 */
    int64_t start;
    if (__builtin_mul_overflow(day, DAY_MS, &start) ||
        __builtin_sub_overflow(start, L->day_offset_ms, &start))
        return now_ms; /* only at the very ends of int64: no day to speak of */
    return start;
}

fg_rc fg_limits_account_defaults(const struct fg_limits *L, const char *currency, int64_t *per_txn,
                                 int64_t *per_day)
{
    assert(per_txn != NULL && per_day != NULL);
    const struct currency *c = find_c(L, currency);
    *per_txn = c != NULL ? c->c.per_txn_max : 0;
    *per_day = c != NULL ? c->c.per_day_max : 0;
    return c != NULL ? FG_OK : FG_ERR_NOT_FOUND;
}

int64_t fg_limits_new_window_ms(const struct fg_limits *L)
{
    assert(L != NULL);
    return L->new_window_ms;
}

fg_rc fg_limits_decide(const struct fg_limits *L, const struct fg_limits_input *in,
                       struct fg_limits_decision *out)
{
    assert(in != NULL && out != NULL);
    out->tier = FG_TIER_APPROVAL;
    out->refusal = FG_ERR_INVALID;
    out->why = "the transfer is malformed";
    out->field = NULL;
    const struct currency *cu = find_c(L, in->currency);
    if (cu == NULL) {
        out->why = "the currency is not supported";
        out->field = "currency";
        return FG_ERR_INVALID;
    }
    if (in->amount <= 0) {
        out->why = "the amount must be positive";
        out->field = "amount";
        return FG_ERR_INVALID;
    }
    if (in->customer_today < 0 || in->account_today < 0 || in->account_per_txn < 0 ||
        in->account_per_day < 0)
        return FG_ERR_INVALID;
    const struct fg_limits_currency *c = &cu->c;
    int64_t per_txn = in->account_per_txn > 0 ? in->account_per_txn : c->per_txn_max;
    int64_t per_day = in->account_per_day > 0 ? in->account_per_day : c->per_day_max;

    /* The tier of the customer's day total, this transfer included (overflow: above all). */
    int64_t total;
    if (__builtin_add_overflow(in->customer_today, in->amount, &total) || total > c->otp_max)
        out->tier = FG_TIER_APPROVAL;
    else if (total > c->session_max)
        out->tier = FG_TIER_OTP;
    else
        out->tier = FG_TIER_SESSION;
    if (in->new_device && out->tier == FG_TIER_SESSION)
        out->tier = FG_TIER_OTP; /* AUTH-10: a new device always steps up */

    out->refusal = FG_ERR_POLICY;
    out->field = "amount";
    int64_t day_total;
    if (in->amount > per_txn)
        out->why = "the amount is above the account's per-transfer limit";
    else if (__builtin_add_overflow(in->account_today, in->amount, &day_total) ||
             day_total > per_day)
        out->why = "the amount would exceed the account's daily limit";
    else if (in->new_payee && in->amount > c->new_payee_txn_max)
        out->why = "the amount is above the limit for a new payee";
    else if (in->new_device && in->amount > c->new_device_txn_max)
        out->why = "the amount is above the limit for a new device";
    else {
        out->refusal = FG_OK;
        out->why = NULL;
        out->field = NULL;
    }
    return FG_OK;
}
