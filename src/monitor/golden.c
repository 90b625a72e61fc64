/*
 * golden.c — golden cases (golden.h).
 */
#include "monitor/golden.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/time.h"
#include "monitor/ytree.h"

#define GOLDEN_ARENA_MAX ((size_t)64u << 20)
#define GOLDEN_DIR_FILES_MAX 256u
#define GOLDEN_FIRINGS_MAX 4096u

struct gload {
    struct fg_buf *errors;
    const char *file;
    size_t nerrors;
    int nomem;
    struct fg_golden_set *s;
    size_t cap;
};

static void gerr(struct gload *g, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void gerr(struct gload *g, int line, const char *fmt, ...)
{
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    for (char *c = text; *c != '\0'; c++)
        if ((unsigned char)*c < 0x20)
            *c = '?';
    g->nerrors++;
    if (g->errors != NULL &&
        fg_buf_appendf(g->errors, "%s:%d: %s\n", g->file, line, text) == FG_ERR_NOMEM)
        g->nomem = 1;
}

static int parse_int(const char *s, int64_t *out)
{
    char *end = NULL;
    if (*s == '\0')
        return 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0')
        return 0;
    *out = v;
    return 1;
}

/* Seconds ("120", "1.5") → ms. */
static int parse_seconds(const struct fg_yt *n, int64_t *ms)
{
    if (n->kind != FG_YT_SCALAR || n->len == 0 || n->len > 15)
        return 0;
    int64_t whole = 0, frac = 0;
    int digits = 0;
    const char *p = n->text;
    if (*p < '0' || *p > '9')
        return 0;
    for (; *p >= '0' && *p <= '9'; p++)
        whole = whole * 10 + (*p - '0');
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
            frac = frac * 10 + (*p - '0');
        while (digits > 0 && digits < 3)
            frac *= 10, digits++;
    }
    if (*p != '\0')
        return 0;
    *ms = whole * 1000 + frac;
    return 1;
}

/* A YAML node as JSON: plain true/false → boolean, plain integers → integer. */
static json_t *to_json(const struct fg_yt *n)
{
    if (n->kind == FG_YT_SCALAR) {
        int64_t v;
        if (n->plain && (strcmp(n->text, "true") == 0 || strcmp(n->text, "false") == 0))
            return json_boolean(n->text[0] == 't');
        if (n->plain && (n->len == 0 || strcmp(n->text, "null") == 0 || strcmp(n->text, "~") == 0))
            return json_null();
        if (n->plain && parse_int(n->text, &v))
            return json_integer(v);
        return json_stringn(n->text, n->len);
    }
    json_t *o = n->kind == FG_YT_SEQ ? json_array() : json_object();
    if (o == NULL)
        return NULL;
    if (n->kind == FG_YT_SEQ) {
        for (size_t i = 0; i < n->count; i++)
            if (json_array_append_new(o, to_json(n->items[i])) != 0) {
                json_decref(o);
                return NULL;
            }
    } else {
        for (size_t i = 0; i + 1 < n->count; i += 2) {
            const struct fg_yt *k = n->items[i];
            if (k->kind != FG_YT_SCALAR ||
                json_object_set_new(o, k->text, to_json(n->items[i + 1])) != 0) {
                json_decref(o);
                return NULL;
            }
        }
    }
    return o;
}

static void set_text(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static void free_case(struct fg_golden_case *c)
{
    json_decref(c->events);
    free(c->expect);
}

static void parse_case(struct gload *g, const struct fg_yt *n)
{
    if (n->kind != FG_YT_MAP) {
        gerr(g, n->line, "a case is a mapping (rule, case, start, events, expect)");
        return;
    }
    if (g->s->n >= FG_GOLDEN_CASES_MAX) {
        gerr(g, n->line, "more than %u cases (FG_GOLDEN_CASES_MAX)", FG_GOLDEN_CASES_MAX);
        return;
    }
    if (g->s->n == g->cap) {
        size_t cap = g->cap == 0 ? 64u : g->cap * 2u;
        struct fg_golden_case *p = realloc(g->s->cases, cap * sizeof *p);
        if (p == NULL) {
            g->nomem = 1;
            return;
        }
        g->s->cases = p;
        g->cap = cap;
    }
    struct fg_golden_case *c = &g->s->cases[g->s->n++];
    memset(c, 0, sizeof *c);
    set_text(c->file, sizeof c->file, g->file);
    c->line = (unsigned)n->line;
    c->start_ms = FG_GOLDEN_DEFAULT_START_MS;
    c->events = json_array();
    if (c->events == NULL) {
        g->nomem = 1;
        return;
    }
    const struct fg_yt *events = NULL, *expect = NULL;
    for (size_t i = 0; i + 1 < n->count; i += 2) {
        const struct fg_yt *k = n->items[i], *v = n->items[i + 1];
        if (fg_yt_is(k, "rule")) {
            if (v->kind != FG_YT_SCALAR || v->len == 0 || v->len > FG_RULE_ID_MAX)
                gerr(g, v->line, "rule: expected a rule id");
            else
                set_text(c->rule, sizeof c->rule, v->text);
        } else if (fg_yt_is(k, "case")) {
            if (v->kind != FG_YT_SCALAR)
                gerr(g, v->line, "case: expected text");
            else
                set_text(c->name, sizeof c->name, v->text);
        } else if (fg_yt_is(k, "start")) {
            if (v->kind != FG_YT_SCALAR ||
                fg_time_parse_rfc3339(v->text, v->len, &c->start_ms) != FG_OK)
                gerr(g, v->line, "start: expected an RFC 3339 UTC time");
        } else if (fg_yt_is(k, "events")) {
            events = v;
        } else if (fg_yt_is(k, "expect")) {
            expect = v;
        } else {
            gerr(g, k->line, "unknown key '%.40s' (rule, case, start, events, expect)",
                 k->kind == FG_YT_SCALAR ? k->text : "?");
        }
    }
    if (c->rule[0] == '\0')
        gerr(g, n->line, "case: missing 'rule'");
    if (events == NULL || events->kind != FG_YT_SEQ) {
        gerr(g, events != NULL ? events->line : n->line, "events: expected a list of events");
    } else if (events->count > FG_GOLDEN_EVENTS_MAX) {
        gerr(g, events->line, "events: more than %u", FG_GOLDEN_EVENTS_MAX);
    } else {
        for (size_t i = 0; i < events->count; i++) {
            const struct fg_yt *e = events->items[i];
            const struct fg_yt *t = fg_yt_get(e, "t");
            int64_t ms = 0;
            if (e->kind != FG_YT_MAP) {
                gerr(g, e->line, "event: expected a mapping");
                continue;
            }
            if (t == NULL || !parse_seconds(t, &ms)) {
                gerr(g, e->line, "event: 't' must be seconds after start (a number >= 0)");
                continue;
            }
            json_t *o = to_json(e);
            if (o == NULL) {
                g->nomem = 1;
                return;
            }
            json_object_del(o, "t");
            if (json_object_get(o, "time") != NULL) {
                gerr(g, e->line, "event: use 't', not 'time'");
                json_decref(o);
                continue;
            }
            json_object_set_new(o, "time", json_integer(c->start_ms + ms));
            struct fg_mev_hold *h = malloc(sizeof *h);
            char why[160];
            if (h == NULL) {
                json_decref(o);
                g->nomem = 1;
                return;
            }
            if (fg_mev_from_json(o, 0, h, why, sizeof why) != FG_OK)
                gerr(g, e->line, "event: %s", why);
            free(h);
            if (json_array_append_new(c->events, o) != 0)
                g->nomem = 1;
        }
        c->nevents = json_array_size(c->events);
    }
    if (expect == NULL || expect->kind != FG_YT_SEQ) {
        if (expect != NULL && expect->kind == FG_YT_SCALAR && expect->len == 0)
            return; /* "expect:" with nothing = [] */
        gerr(g, expect != NULL ? expect->line : n->line,
             "expect: expected a list of firings ([] = must not fire)");
        return;
    }
    if (expect->count > FG_GOLDEN_EXPECT_MAX) {
        gerr(g, expect->line, "expect: more than %u", FG_GOLDEN_EXPECT_MAX);
        return;
    }
    c->expect = calloc(expect->count + 1, sizeof *c->expect);
    if (c->expect == NULL) {
        g->nomem = 1;
        return;
    }
    for (size_t i = 0; i < expect->count; i++) {
        const struct fg_yt *x = expect->items[i];
        struct fg_golden_expect *w = &c->expect[c->nexpect];
        int have_at = 0, bad = 0;
        if (x->kind != FG_YT_MAP) {
            gerr(g, x->line, "expect: each firing is {key, at, value}");
            continue;
        }
        for (size_t j = 0; j + 1 < x->count; j += 2) {
            const struct fg_yt *k = x->items[j], *v = x->items[j + 1];
            if (fg_yt_is(k, "key") && v->kind == FG_YT_SCALAR && v->len <= FG_RULE_KEY_MAX) {
                set_text(w->key, sizeof w->key, v->text);
            } else if (fg_yt_is(k, "at") && parse_seconds(v, &w->at_ms)) {
                have_at = 1;
            } else if (fg_yt_is(k, "value") && v->kind == FG_YT_SCALAR &&
                       parse_int(v->text, &w->value)) {
                w->has_value = 1;
            } else {
                gerr(g, k->line, "expect: bad or unknown member '%.40s' (key, at, value)",
                     k->kind == FG_YT_SCALAR ? k->text : "?");
                bad = 1;
            }
        }
        if (!have_at && !bad) {
            gerr(g, x->line, "expect: missing 'at'");
            bad = 1;
        }
        if (!bad)
            c->nexpect++;
    }
}

static void load_one(struct gload *g, const char *name, const char *text, size_t len)
{
    g->file = name;
    if (len > FG_RULE_FILE_BYTES_MAX) {
        gerr(g, 1, "larger than %u bytes", FG_RULE_FILE_BYTES_MAX);
        return;
    }
    struct fg_arena a;
    fg_arena_init(&a, GOLDEN_ARENA_MAX);
    struct fg_yt *root = NULL;
    char msg[FG_YT_MESSAGE_MAX];
    int line = 0;
    if (fg_yt_parse(&a, text, len, &root, msg, &line) != 0)
        gerr(g, line, "%s", msg);
    else if (root != NULL && root->kind == FG_YT_SEQ)
        for (size_t i = 0; i < root->count && !g->nomem; i++)
            parse_case(g, root->items[i]);
    else if (root != NULL && !(root->kind == FG_YT_SCALAR && root->len == 0))
        gerr(g, root->line, "a case file is a list of cases");
    fg_arena_release(&a);
}

void fg_golden_free(struct fg_golden_set *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        free_case(&s->cases[i]);
    free(s->cases);
    free(s);
}

fg_rc fg_golden_load_texts(const char *const *names, const char *const *texts, const size_t *lens,
                           size_t n, struct fg_golden_set **out, struct fg_buf *errors)
{
    *out = NULL;
    struct fg_golden_set *s = calloc(1, sizeof *s);
    if (s == NULL)
        return FG_ERR_NOMEM;
    struct gload g = {.errors = errors, .s = s};
    for (size_t i = 0; i < n && !g.nomem; i++)
        load_one(&g, names[i], texts[i], lens[i]);
    if (g.nomem || g.nerrors > 0) {
        fg_golden_free(s);
        return g.nomem ? FG_ERR_NOMEM : FG_ERR_INVALID;
    }
    *out = s;
    return FG_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

fg_rc fg_golden_load_dir(const char *dir, struct fg_golden_set **out, struct fg_buf *errors)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (d == NULL)
        return FG_ERR_IO;
    char *paths[GOLDEN_DIR_FILES_MAX] = {0}, *texts[GOLDEN_DIR_FILES_MAX] = {0};
    size_t lens[GOLDEN_DIR_FILES_MAX] = {0}, n = 0;
    fg_rc rc = FG_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && rc == FG_OK) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0)
            continue;
        if (n == GOLDEN_DIR_FILES_MAX) {
            rc = FG_ERR_LIMIT;
            break;
        }
        size_t plen = strlen(dir) + len + 2;
        if ((paths[n] = malloc(plen)) == NULL) {
            rc = FG_ERR_NOMEM;
            break;
        }
        snprintf(paths[n], plen, "%s/%s", dir, de->d_name);
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(paths, n, sizeof paths[0], cmp_str);
    size_t nread = 0;
    for (; rc == FG_OK && nread < n; nread++) {
        FILE *f = fopen(paths[nread], "rb");
        texts[nread] = f != NULL ? malloc(FG_RULE_FILE_BYTES_MAX + 2) : NULL;
        if (texts[nread] == NULL) {
            if (f != NULL)
                fclose(f);
            rc = f == NULL ? FG_ERR_IO : FG_ERR_NOMEM;
            break;
        }
        lens[nread] = fread(texts[nread], 1, FG_RULE_FILE_BYTES_MAX + 1, f);
        texts[nread][lens[nread]] = '\0';
        if (ferror(f))
            rc = FG_ERR_IO;
        fclose(f);
    }
    if (rc == FG_OK)
        rc = fg_golden_load_texts((const char *const *)paths, (const char *const *)texts, lens, n,
                                  out, errors);
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    for (size_t i = 0; i < nread; i++)
        free(texts[i]);
    return rc;
}

/* ---- running ----------------------------------------------------------------------------- */

struct got {
    char key[FG_RULE_KEY_MAX + 1];
    int64_t at_ms, value;
};

struct run {
    const char *rule;
    int64_t start_ms;
    size_t n;
    struct got *g;
    int overflow;
};

static void collect(void *ctx, const struct fg_firing *f)
{
    struct run *r = ctx;
    if (strcmp(f->rule->id, r->rule) != 0)
        return;
    if (r->n == GOLDEN_FIRINGS_MAX) {
        r->overflow = 1;
        return;
    }
    struct got *g = &r->g[r->n++];
    set_text(g->key, sizeof g->key, f->key);
    g->at_ms = f->time_ms - r->start_ms;
    g->value = f->value;
}

static void describe(struct fg_buf *b, const char *key, int64_t at_ms, int64_t value, int hv)
{
    fg_rc rc = fg_buf_appendf(b, " {key: \"%s\", at: %lld", key, (long long)(at_ms / 1000));
    if (rc == FG_OK && at_ms % 1000 != 0)
        rc = fg_buf_appendf(b, ".%03lld", (long long)(at_ms % 1000));
    if (rc == FG_OK && hv)
        rc = fg_buf_appendf(b, ", value: %lld", (long long)value);
    if (rc == FG_OK)
        rc = fg_buf_append_str(b, "}");
    (void)rc; /* a cut description is still a description */
}

static void run_case(const struct fg_rules *rules, const struct fg_golden_case *c, int tz,
                     struct fg_golden_result *res, struct got *buf)
{
    res->c = c;
    res->ok = 0;
    res->diff[0] = '\0';
    if (fg_rules_find(rules, c->rule) == NULL) {
        snprintf(res->diff, sizeof res->diff, "unknown rule '%s'", c->rule);
        return;
    }
    struct fg_engine_options opt = {0, tz};
    struct fg_engine *e = NULL;
    if (fg_engine_new(rules, &opt, &e) != FG_OK) {
        snprintf(res->diff, sizeof res->diff, "out of memory");
        return;
    }
    struct run r = {c->rule, c->start_ms, 0, buf, 0};
    struct fg_mev_hold *h = malloc(sizeof *h);
    if (h == NULL) {
        fg_engine_free(e);
        snprintf(res->diff, sizeof res->diff, "out of memory");
        return;
    }
    for (size_t i = 0; i < c->nevents; i++) {
        char why[160];
        why[0] = '\0';
        if (fg_mev_from_json(json_array_get(c->events, i), 0, h, why, sizeof why) != FG_OK ||
            (h->ev.seq = (int64_t)i + 1, fg_engine_feed(e, &h->ev, collect, &r)) != FG_OK) {
            snprintf(res->diff, sizeof res->diff, "event %zu: %s", i + 1, why);
            free(h);
            fg_engine_free(e);
            return;
        }
    }
    free(h);
    fg_engine_free(e);
    int same = r.n == c->nexpect && !r.overflow;
    for (size_t i = 0; same && i < r.n; i++) {
        const struct fg_golden_expect *x = &c->expect[i];
        same = strcmp(x->key, r.g[i].key) == 0 && x->at_ms == r.g[i].at_ms &&
               (!x->has_value || x->value == r.g[i].value);
    }
    if (same) {
        res->ok = 1;
        return;
    }
    struct fg_buf b = FG_BUF_INIT(FG_GOLDEN_DIFF_MAX - 1);
    fg_rc rc = fg_buf_append_str(&b, "expected [");
    for (size_t i = 0; i < c->nexpect; i++)
        describe(&b, c->expect[i].key, c->expect[i].at_ms, c->expect[i].value,
                 c->expect[i].has_value);
    if (rc == FG_OK)
        rc = fg_buf_append_str(&b, " ] got [");
    for (size_t i = 0; i < r.n; i++)
        describe(&b, r.g[i].key, r.g[i].at_ms, r.g[i].value, 1);
    if (rc == FG_OK)
        rc = fg_buf_append_str(&b, " ]");
    (void)rc;
    set_text(res->diff, sizeof res->diff, fg_buf_str(&b));
    fg_buf_release(&b);
}

fg_rc fg_golden_run(const struct fg_rules *rules, const struct fg_golden_set *set, int tz,
                    fg_golden_fn fn, void *ctx, size_t *failed)
{
    *failed = 0;
    struct got *buf = calloc(GOLDEN_FIRINGS_MAX, sizeof *buf);
    struct fg_golden_result *res = malloc(sizeof *res);
    if (buf == NULL || res == NULL) {
        free(buf);
        free(res);
        return FG_ERR_NOMEM;
    }
    for (size_t i = 0; i < set->n; i++) {
        run_case(rules, &set->cases[i], tz, res, buf);
        if (!res->ok)
            (*failed)++;
        if (fn != NULL)
            fn(ctx, res);
    }
    free(buf);
    free(res);
    return FG_OK;
}

void fg_golden_coverage(const struct fg_rules *rules, const struct fg_golden_set *set,
                        struct fg_golden_cover *out)
{
    size_t n = fg_rules_count(rules);
    memset(out, 0, n * sizeof *out);
    for (size_t c = 0; set != NULL && c < set->n; c++)
        for (size_t i = 0; i < n; i++)
            if (strcmp(fg_rules_info(rules, i)->id, set->cases[c].rule) == 0) {
                if (set->cases[c].nexpect > 0)
                    out[i].positive++;
                else
                    out[i].negative++;
            }
}
