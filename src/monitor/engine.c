/*
 * engine.c — the rule engine (engine.h; MON-1, MON-2, MON-3, MON-6, AUTH-7, DATA-6).
 *
 * Dispatch: an open-addressing index maps an event name to the rules that can match it
 * (rules naming it, plus "*" rules), merged in rule order, so an event visits only those.
 *
 * State: one open-addressing table per rule maps a key's 64-bit hash (seeded per engine) to
 * an entry; entries of every rule hang on one LRU list, kept as a CLOCK ("second chance"): a
 * hit only sets the entry's ref bit, and the eviction scan moves a referenced tail entry back
 * to the head (clearing the bit) instead of dropping it — LRU order to within one pass, without
 * three scattered pointer writes per event (measured: they were half of the engine's time,
 * docs/BENCHMARKS.md). An entry holds the window of its
 * kind — count: a ring of the last `threshold` (time, seq); distinct: up to `threshold`
 * (value hash, last seen, seq); sum: up to FG_ENGINE_SUM_ITEMS (time, seq, amount), the two
 * oldest folded into one (keeping the later time, so the sum errs towards firing) when a
 * key has more in its window; sequence: next step, time and seq of step A — plus the time of
 * the key's last firing (suppression). Items are in a window when now - t <= window.
 *
 * Memory: every byte malloc'd (tables, entries, the index) counts against the budget, as
 * malloc_usable_size + one header word. A new key that does not fit evicts from the LRU
 * tail; an evicted key whose window and suppression were still open is counted (per rule
 * and in total) and reported as a firing of FG_RULE_EVICTION, once per rule per minute of
 * event time; a stale one is reclaimed silently (nothing was lost).
 *
 * Steady state: no allocation per event except for a new key (one entry, usually replacing
 * the one just evicted).
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "monitor/engine_internal.h"

#define ENGINE_DEFAULT_BUDGET ((size_t)64u << 20)
#define ENGINE_EVICTION_REPORT_MS 60000
#define ENGINE_TABLE_MIN 16u
#define ENGINE_KEYBUF (FG_RULE_BY_MAX * (FG_MEV_ATTR_NAME_MAX + FG_MEV_ATTR_VALUE_MAX + 2u) + 8u)

struct titem {
    int64_t t, seq;
};
struct ditem {
    uint64_t h;
    int64_t t, seq;
};
struct sitem {
    int64_t t, seq, amount;
};

struct kent {
    struct kent *prev, *next; /* LRU: next is older */
    uint64_t hash;
    uint32_t rule;
    uint32_t size; /* bytes counted */
    int64_t last_ms;
    int64_t fired_ms; /* INT64_MIN: never */
    int64_t t0, seq0; /* sequence: step A */
    uint32_t head, n, step;
    uint32_t ref; /* touched since it was (re)pushed to the LRU head */
    union {
        struct titem t[1];
        struct ditem d[1];
        struct sitem s[1];
    } u;
};

#define KENT_HEAD offsetof(struct kent, u)

struct slot {
    uint64_t h;
    struct kent *e;
};

struct rstate {
    struct slot *slots;
    uint32_t cap, n;
    size_t entry_bytes; /* 0: stateless */
    int64_t horizon_ms;
    uint64_t evictions, firings;
    int64_t reported_ms;
    int pending;
};

struct nidx {
    const char *name;
    uint64_t h;
    uint32_t *rules;
    uint32_t n;
};

struct fg_engine {
    const struct fg_rules *rules;
    int tz;
    struct rstate *rs;
    struct nidx *idx;
    uint32_t idx_mask;
    uint32_t *star;
    uint32_t nstar;
    uint32_t *pending;
    uint32_t npending;
    struct kent lru;
    size_t used, budget;
    uint64_t seed;
    struct fg_engine_stats st;
    pcre2_match_data *md;
    pcre2_match_context *mc;
};

/* ---- hashing ----------------------------------------------------------------------------- */

static inline uint64_t rotl(uint64_t v, int r)
{
    return (v << r) | (v >> (64 - r));
}

static inline uint64_t fmix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *s = p;
    uint64_t h = seed ^ ((uint64_t)n * 0x9e3779b97f4a7c15ull);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, s, 8);
        v *= 0x87c37b91114253d5ull;
        v = rotl(v, 31);
        v *= 0x4cf5ad432745937full;
        h ^= v;
        h = rotl(h, 27) * 5u + 0x52dce729u;
        s += 8;
        n -= 8;
    }
    uint64_t v = 0;
    memcpy(&v, s, n);
    v *= 0x87c37b91114253d5ull;
    v = rotl(v, 31);
    v *= 0x4cf5ad432745937full;
    h ^= v;
    return fmix(h);
}

/* ---- field access and conditions --------------------------------------------------------- */

static int64_t local_s(int64_t time_ms, int tz)
{
    int64_t s = time_ms >= 0 ? time_ms / 1000 : -((-time_ms + 999) / 1000);
    return s + (int64_t)tz * 60;
}

static int64_t floor_mod(int64_t a, int64_t m)
{
    int64_t r = a % m;
    return r < 0 ? r + m : r;
}

int fg_fref_num(const struct fg_fref *f, const struct fg_mev *ev, int tz, int64_t *out)
{
    switch (f->kind) {
    case FG_FREF_AMOUNT:
        *out = ev->amount;
        return ev->has_amount;
    case FG_FREF_HOUR:
        *out = floor_mod(local_s(ev->time_ms, tz), 86400) / 3600;
        return 1;
    case FG_FREF_WEEKDAY: {
        int64_t s = local_s(ev->time_ms, tz);
        int64_t days = (s - floor_mod(s, 86400)) / 86400;
        *out = floor_mod(days + 3, 7) + 1; /* 1970-01-01 was a Thursday (4) */
        return 1;
    }
    case FG_FREF_ATTR:
        for (unsigned i = 0; i < ev->nattrs; i++) {
            const struct fg_mev_attr *a = &ev->attrs[i];
            if (strcmp(a->name, f->attr) != 0)
                continue;
            if (a->is_num) {
                *out = a->num;
                return 1;
            }
            const char *p = a->str;
            int neg = *p == '-';
            p += neg;
            if (*p < '0' || *p > '9')
                return 0;
            int64_t v = 0;
            for (; *p >= '0' && *p <= '9'; p++) {
                if (v > (INT64_MAX - 9) / 10)
                    return 0;
                v = v * 10 + (*p - '0');
            }
            if (*p != '\0')
                return 0;
            *out = neg ? -v : v;
            return 1;
        }
        return 0;
    case FG_FREF_STR:
        return 0;
    }
    return 0;
}

static const char *fmt_i64(int64_t v, char tmp[24])
{
    char rev[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        rev[n++] = (char)('0' + u % 10u);
        u /= 10u;
    } while (u != 0);
    int o = 0;
    if (v < 0)
        tmp[o++] = '-';
    while (n > 0)
        tmp[o++] = rev[--n];
    tmp[o] = '\0';
    return tmp;
}

const char *fg_fref_text(const struct fg_fref *f, const struct fg_mev *ev, int tz, char tmp[24])
{
    if (f->kind == FG_FREF_STR) {
        const char *s = ev->s[f->field];
        return s != NULL ? s : "";
    }
    if (f->kind == FG_FREF_ATTR) {
        for (unsigned i = 0; i < ev->nattrs; i++)
            if (strcmp(ev->attrs[i].name, f->attr) == 0)
                return ev->attrs[i].str;
        return "";
    }
    int64_t v;
    if (!fg_fref_num(f, ev, tz, &v))
        return "";
    return fmt_i64(v, tmp);
}

static int is_numeric_kind(const struct fg_fref *f)
{
    return f->kind == FG_FREF_AMOUNT || f->kind == FG_FREF_HOUR || f->kind == FG_FREF_WEEKDAY;
}

static int cond_eval(const struct fg_cond *c, const struct fg_mev *ev, int tz, pcre2_match_data *md,
                     pcre2_match_context *mc, uint64_t *hits)
{
    char tmp[24];
    int64_t v = 0;
    switch (c->op) {
    case FG_OP_EXISTS:
        return (fg_fref_text(&c->f, ev, tz, tmp)[0] != '\0') == (c->a != 0);
    case FG_OP_EQ:
    case FG_OP_NE: {
        int eq;
        if (is_numeric_kind(&c->f)) {
            eq = fg_fref_num(&c->f, ev, tz, &v) && v == c->a;
        } else {
            const char *s = fg_fref_text(&c->f, ev, tz, tmp);
            eq = strcmp(s, c->str) == 0;
        }
        return c->op == FG_OP_EQ ? eq : !eq;
    }
    case FG_OP_IN:
    case FG_OP_NOT_IN: {
        const char *s = fg_fref_text(&c->f, ev, tz, tmp);
        int found = 0;
        if (s[0] != '\0')
            for (unsigned i = 0; i < c->n && !found; i++)
                found = strcmp(s, c->strs[i]) == 0;
        return c->op == FG_OP_IN ? found : !found;
    }
    case FG_OP_LT:
        return fg_fref_num(&c->f, ev, tz, &v) && v < c->a;
    case FG_OP_LTE:
        return fg_fref_num(&c->f, ev, tz, &v) && v <= c->a;
    case FG_OP_GT:
        return fg_fref_num(&c->f, ev, tz, &v) && v > c->a;
    case FG_OP_GTE:
        return fg_fref_num(&c->f, ev, tz, &v) && v >= c->a;
    case FG_OP_BETWEEN:
        return fg_fref_num(&c->f, ev, tz, &v) && v >= c->a && v <= c->b;
    case FG_OP_NOT_BETWEEN:
        return fg_fref_num(&c->f, ev, tz, &v) && (v < c->a || v > c->b);
    case FG_OP_CIDR:
    case FG_OP_NOT_CIDR: {
        const char *s = fg_fref_text(&c->f, ev, tz, tmp);
        uint8_t addr[16];
        if (s[0] == '\0' || fg_net_addr_parse(s, strlen(s), addr) != FG_OK)
            return 0;
        int in = 0;
        for (unsigned i = 0; i < c->n && !in; i++)
            in = fg_net_block_has(&c->blocks[i], addr);
        return c->op == FG_OP_CIDR ? in : !in;
    }
    case FG_OP_REGEX: {
        const char *s = fg_fref_text(&c->f, ev, tz, tmp);
        if (s[0] == '\0' || md == NULL)
            return 0;
        int rc = pcre2_match(c->re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, mc);
        if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
            rc == PCRE2_ERROR_HEAPLIMIT) {
            if (hits != NULL)
                (*hits)++;
            return 0;
        }
        return rc >= 0;
    }
    }
    return 0;
}

static int name_in(const struct fg_cmatch *m, const char *name)
{
    if (m->any)
        return 1;
    for (unsigned i = 0; i < m->nnames; i++)
        if (strcmp(m->names[i], name) == 0)
            return 1;
    return 0;
}

int fg_cmatch_eval(const struct fg_cmatch *m, const struct fg_mev *ev, int check_name, int tz,
                   pcre2_match_data *md, pcre2_match_context *mc, uint64_t *limit_hits)
{
    if (check_name && !name_in(m, ev->s[FG_MEV_F_NAME]))
        return 0;
    for (unsigned i = 0; i < m->nconds; i++)
        if (!cond_eval(&m->conds[i], ev, tz, md, mc, limit_hits))
            return 0;
    return 1;
}

/* ---- memory ------------------------------------------------------------------------------ */

static size_t real_size(void *p)
{
    return p != NULL ? malloc_usable_size(p) + sizeof(size_t) : 0;
}

static void *counted_calloc(struct fg_engine *e, size_t n, size_t size)
{
    void *p = calloc(n, size);
    e->used += real_size(p);
    return p;
}

static void counted_free(struct fg_engine *e, void *p)
{
    e->used -= real_size(p);
    free(p);
}

static void lru_unlink(struct kent *k)
{
    k->prev->next = k->next;
    k->next->prev = k->prev;
}

static void lru_push(struct fg_engine *e, struct kent *k)
{
    k->prev = &e->lru;
    k->next = e->lru.next;
    e->lru.next->prev = k;
    e->lru.next = k;
}

static struct slot *table_find(struct rstate *r, uint64_t h)
{
    if (r->cap == 0)
        return NULL;
    uint32_t mask = r->cap - 1u;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1u) & mask) {
        struct slot *s = &r->slots[i];
        if (s->e == NULL)
            return NULL;
        if (s->h == h)
            return s;
    }
}

static void table_put(struct slot *slots, uint32_t cap, uint64_t h, struct kent *k)
{
    uint32_t mask = cap - 1u;
    uint32_t i = (uint32_t)h & mask;
    while (slots[i].e != NULL)
        i = (i + 1u) & mask;
    slots[i].h = h;
    slots[i].e = k;
}

static void table_delete(struct rstate *r, struct kent *k)
{
    uint32_t mask = r->cap - 1u;
    uint32_t i = (uint32_t)k->hash & mask;
    while (r->slots[i].e != k)
        i = (i + 1u) & mask;
    for (uint32_t j = i;;) {
        j = (j + 1u) & mask;
        if (r->slots[j].e == NULL)
            break;
        uint32_t home = (uint32_t)r->slots[j].h & mask;
        /* move j back to i unless its home lies cyclically in (i, j] */
        int in_range = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) {
            r->slots[i] = r->slots[j];
            i = j;
        }
    }
    r->slots[i].e = NULL;
    r->n--;
}

static void note_eviction(struct fg_engine *e, uint32_t rule)
{
    e->rs[rule].evictions++;
    e->st.evictions++;
    if (!e->rs[rule].pending) {
        e->rs[rule].pending = 1;
        e->pending[e->npending++] = rule;
    }
}

/* Drop the least recently used key of any rule (second chance: a referenced tail goes back
 * to the head unreferenced; every bit is cleared at most once, so this ends). */
static void evict_one(struct fg_engine *e, int64_t now)
{
    struct kent *k = e->lru.prev;
    while (k->ref) {
        k->ref = 0;
        lru_unlink(k);
        lru_push(e, k);
        k = e->lru.prev;
    }
    struct rstate *r = &e->rs[k->rule];
    if (now - k->last_ms <= r->horizon_ms)
        note_eviction(e, k->rule);
    table_delete(r, k);
    lru_unlink(k);
    e->st.keys--;
    counted_free(e, k);
}

/* Make room for need more bytes; 0 when the budget cannot hold them even when empty. */
static int make_room(struct fg_engine *e, size_t need, int64_t now)
{
    while (e->used + need > e->budget && e->lru.prev != &e->lru)
        evict_one(e, now);
    return e->used + need <= e->budget;
}

static int table_grow(struct fg_engine *e, struct rstate *r, int64_t now)
{
    uint32_t cap = r->cap == 0 ? ENGINE_TABLE_MIN : r->cap * 2u;
    size_t need = (size_t)cap * sizeof(struct slot) + 2 * sizeof(size_t);
    if (!make_room(e, need, now))
        return 0;
    if ((r->n + 1u) * 4u <= r->cap * 3u)
        return 1; /* evictions made room in the table itself */
    struct slot *slots = counted_calloc(e, cap, sizeof *slots);
    if (slots == NULL)
        return 0;
    for (uint32_t i = 0; i < r->cap; i++)
        if (r->slots[i].e != NULL)
            table_put(slots, cap, r->slots[i].h, r->slots[i].e);
    counted_free(e, r->slots);
    r->slots = slots;
    r->cap = cap;
    return 1;
}

/* The entry of key hash h of rule ri; created (maybe evicting) when create. NULL when it
 * does not exist and was not created. */
static struct kent *entry_get(struct fg_engine *e, uint32_t ri, uint64_t h, int64_t now, int create)
{
    struct rstate *r = &e->rs[ri];
    struct slot *s = table_find(r, h);
    if (s != NULL) {
        s->e->ref = 1;
        return s->e;
    }
    if (!create)
        return NULL;
    while ((r->n + 1u) * 4u > r->cap * 3u)
        if (!table_grow(e, r, now)) {
            note_eviction(e, ri); /* the budget cannot hold this rule's table */
            return NULL;
        }
    if (!make_room(e, r->entry_bytes + 2 * sizeof(size_t), now)) {
        note_eviction(e, ri);
        return NULL;
    }
    struct kent *k = malloc(r->entry_bytes);
    if (k == NULL)
        return NULL;
    e->used += real_size(k);
    memset(k, 0, KENT_HEAD);
    k->hash = h;
    k->rule = ri;
    k->fired_ms = INT64_MIN;
    /* make_room may have evicted from this table: the slot position is found afresh */
    table_put(r->slots, r->cap, h, k);
    r->n++;
    lru_push(e, k);
    e->st.keys++;
    return k;
}

/* ---- the engine -------------------------------------------------------------------------- */

static size_t entry_bytes(const struct fg_crule *cr)
{
    switch (cr->kind) {
    case FG_RK_MATCH:
        return cr->suppress_ms > 0 ? KENT_HEAD : 0;
    case FG_RK_SEQUENCE:
        return KENT_HEAD;
    case FG_RK_AGGREGATE:
        if (cr->fn == FG_AGG_COUNT)
            return KENT_HEAD + (size_t)cr->threshold * sizeof(struct titem);
        if (cr->fn == FG_AGG_DISTINCT)
            return KENT_HEAD + (size_t)cr->threshold * sizeof(struct ditem);
        return KENT_HEAD + FG_ENGINE_SUM_ITEMS * sizeof(struct sitem);
    }
    return 0;
}

static int idx_add(struct fg_engine *e, const char *name, uint32_t ri)
{
    uint64_t h = hash_bytes(name, strlen(name), e->seed);
    for (uint32_t i = (uint32_t)h & e->idx_mask;; i = (i + 1u) & e->idx_mask) {
        struct nidx *x = &e->idx[i];
        if (x->name == NULL) {
            x->rules = counted_calloc(e, e->rules->n + 1, sizeof *x->rules);
            if (x->rules == NULL)
                return 0;
            x->name = name;
            x->h = h;
        }
        if (x->h == h && strcmp(x->name, name) == 0) {
            if (x->n == 0 || x->rules[x->n - 1] != ri)
                x->rules[x->n++] = ri;
            return 1;
        }
    }
}

static int rule_is_star(const struct fg_crule *cr)
{
    if (cr->kind != FG_RK_SEQUENCE)
        return cr->match.any;
    for (unsigned s = 0; s < cr->nsteps; s++)
        if (cr->steps[s].any)
            return 1;
    return 0;
}

void fg_engine_free(struct fg_engine *e)
{
    if (e == NULL)
        return;
    while (e->lru.next != &e->lru) {
        struct kent *k = e->lru.next;
        lru_unlink(k);
        free(k);
    }
    size_t nrules = e->rules->n;
    for (size_t i = 0; e->rs != NULL && i < nrules; i++)
        free(e->rs[i].slots);
    for (uint32_t i = 0; e->idx != NULL && i <= e->idx_mask; i++)
        free(e->idx[i].rules);
    free(e->idx);
    free(e->rs);
    free(e->star);
    free(e->pending);
    pcre2_match_data_free(e->md);
    pcre2_match_context_free(e->mc);
    free(e);
}

fg_rc fg_engine_new(const struct fg_rules *rules, const struct fg_engine_options *opt,
                    struct fg_engine **out)
{
    *out = NULL;
    if (rules == NULL)
        return FG_ERR_INVALID;
    struct fg_engine *e = calloc(1, sizeof *e);
    if (e == NULL)
        return FG_ERR_NOMEM;
    e->used = real_size(e);
    e->rules = rules;
    e->budget = opt != NULL && opt->memory_budget > 0 ? opt->memory_budget : ENGINE_DEFAULT_BUDGET;
    e->tz = opt != NULL ? opt->tz_offset_minutes : 0;
    e->lru.next = e->lru.prev = &e->lru;
    if (getrandom(&e->seed, sizeof e->seed, GRND_NONBLOCK) != (ssize_t)sizeof e->seed)
        e->seed = 0x243f6a8885a308d3ull;
    size_t n = rules->n;
    size_t nnames = 0;
    for (size_t i = 0; i < n; i++) {
        const struct fg_crule *cr = &rules->rules[i];
        nnames += cr->match.nnames;
        for (unsigned s = 0; s < cr->nsteps; s++)
            nnames += cr->steps[s].nnames;
    }
    uint32_t cap = 16;
    while (cap < 2 * nnames + 2)
        cap *= 2;
    e->idx_mask = cap - 1u;
    e->rs = counted_calloc(e, n + 1, sizeof *e->rs);
    e->idx = counted_calloc(e, cap, sizeof *e->idx);
    e->star = counted_calloc(e, n + 1, sizeof *e->star);
    e->pending = counted_calloc(e, n + 1, sizeof *e->pending);
    e->md = pcre2_match_data_create(1, NULL);
    e->mc = pcre2_match_context_create(NULL);
    if (e->rs == NULL || e->idx == NULL || e->star == NULL || e->pending == NULL || e->md == NULL ||
        e->mc == NULL) {
        fg_engine_free(e);
        return FG_ERR_NOMEM;
    }
    pcre2_set_match_limit(e->mc, FG_RULE_REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(e->mc, FG_RULE_REGEX_MATCH_LIMIT);
    int ok = 1;
    for (uint32_t i = 0; i < (uint32_t)n; i++) {
        const struct fg_crule *cr = &rules->rules[i];
        struct rstate *r = &e->rs[i];
        r->entry_bytes = entry_bytes(cr);
        r->horizon_ms = cr->window_ms > cr->suppress_ms ? cr->window_ms : cr->suppress_ms;
        r->reported_ms = INT64_MIN;
        if (rule_is_star(cr)) {
            e->star[e->nstar++] = i;
            continue;
        }
        if (cr->kind != FG_RK_SEQUENCE) {
            for (unsigned k = 0; k < cr->match.nnames; k++)
                ok &= idx_add(e, cr->match.names[k], i);
        } else {
            for (unsigned s = 0; s < cr->nsteps; s++)
                for (unsigned k = 0; k < cr->steps[s].nnames; k++)
                    ok &= idx_add(e, cr->steps[s].names[k], i);
        }
    }
    if (!ok) {
        fg_engine_free(e);
        return FG_ERR_NOMEM;
    }
    /* Merge the "*" rules into every name's list, keeping rule order. */
    for (uint32_t i = 0; i < cap && e->nstar > 0; i++) {
        struct nidx *x = &e->idx[i];
        if (x->name == NULL)
            continue;
        uint32_t merged[FG_RULES_MAX + 1];
        uint32_t a = 0, b = 0, m = 0;
        while (a < x->n || b < e->nstar) {
            if (b >= e->nstar || (a < x->n && x->rules[a] < e->star[b]))
                merged[m++] = x->rules[a++];
            else
                merged[m++] = e->star[b++];
        }
        memcpy(x->rules, merged, m * sizeof merged[0]);
        x->n = m;
    }
    e->st.bytes_budget = e->budget;
    *out = e;
    return FG_OK;
}

/* The key of cr for ev into buf (all of it) and *len; 0 when a group field is empty. */
static int build_key(const struct fg_engine *e, const struct fg_crule *cr, const struct fg_mev *ev,
                     char *buf, size_t cap, size_t *len)
{
    size_t o = 0;
    for (unsigned i = 0; i < cr->nby; i++) {
        char tmp[24];
        const struct fg_fref *f = &cr->by[i];
        const char *v = fg_fref_text(f, ev, e->tz, tmp);
        if (v[0] == '\0')
            return 0;
        size_t ln = strlen(f->label), vn = strlen(v);
        if (o + ln + vn + 2 >= cap)
            vn = cap > o + ln + 2 ? cap - o - ln - 2 : 0;
        if (i > 0)
            buf[o++] = ',';
        memcpy(buf + o, f->label, ln);
        o += ln;
        buf[o++] = '=';
        memcpy(buf + o, v, vn);
        o += vn;
    }
    buf[o] = '\0';
    *len = o;
    return 1;
}

struct feed {
    struct fg_engine *e;
    const struct fg_mev *ev;
    fg_firing_fn fn;
    void *ctx;
    int64_t now;
};

/* A rule that matched the event, between the two passes of fg_engine_feed. */
struct prep {
    uint32_t ri;
    unsigned steps; /* sequence: bit s set when step s matches */
    uint64_t h;     /* the key's hash */
};

/* How many matched rules one pass prepares before applying them (bounds the stack). */
#define ENGINE_PREP_MAX 16u

static void fire(struct feed *fd, uint32_t ri, struct kent *k, int64_t value, int64_t first_seq)
{
    struct fg_engine *e = fd->e;
    const struct fg_crule *cr = &e->rules->rules[ri];
    if (k != NULL && cr->suppress_ms > 0) {
        if (k->fired_ms != INT64_MIN && fd->now - k->fired_ms < cr->suppress_ms) {
            e->st.suppressed++;
            return;
        }
        k->fired_ms = fd->now;
    }
    /* the key text is built again only here: most matches never fire */
    char key[ENGINE_KEYBUF];
    size_t klen = 0;
    if (!build_key(e, cr, fd->ev, key, sizeof key, &klen))
        return; /* cannot happen: it was built for the hash */
    struct fg_firing f;
    f.rule = &cr->info;
    if (klen > FG_RULE_KEY_MAX)
        klen = FG_RULE_KEY_MAX;
    memcpy(f.key, key, klen);
    f.key[klen] = '\0';
    f.time_ms = fd->now;
    f.value = value;
    f.threshold = cr->threshold;
    f.first_seq = first_seq;
    f.ev = fd->ev;
    e->st.firings++;
    e->rs[ri].firings++;
    if (fd->fn != NULL)
        fd->fn(fd->ctx, &f);
}

static void agg_count(struct kent *k, const struct fg_crule *cr, int64_t now, int64_t seq,
                      int64_t *value, int64_t *first_seq)
{
    uint32_t cap = (uint32_t)cr->threshold;
    struct titem *t = k->u.t;
    while (k->n > 0 && now - t[k->head].t > cr->window_ms) {
        k->head = (k->head + 1u) % cap;
        k->n--;
    }
    if (k->n < cap) {
        t[(k->head + k->n) % cap] = (struct titem){now, seq};
        k->n++;
    } else {
        t[k->head] = (struct titem){now, seq};
        k->head = (k->head + 1u) % cap;
    }
    *value = k->n;
    *first_seq = t[k->head].seq;
}

static void agg_distinct(struct kent *k, const struct fg_crule *cr, int64_t now, int64_t seq,
                         uint64_t vh, int64_t *value, int64_t *first_seq)
{
    struct ditem *d = k->u.d;
    uint32_t cap = (uint32_t)cr->threshold, found = UINT32_MAX, oldest = 0;
    for (uint32_t i = 0; i < k->n;) {
        if (now - d[i].t > cr->window_ms) {
            d[i] = d[--k->n];
            continue;
        }
        if (d[i].h == vh)
            found = i;
        i++;
    }
    if (found != UINT32_MAX) {
        if (now > d[found].t)
            d[found].t = now;
    } else if (k->n < cap) {
        d[k->n++] = (struct ditem){vh, now, seq};
    } else {
        for (uint32_t i = 1; i < k->n; i++)
            if (d[i].t < d[oldest].t)
                oldest = i;
        d[oldest] = (struct ditem){vh, now, seq};
    }
    int64_t fs = INT64_MAX;
    for (uint32_t i = 0; i < k->n; i++)
        if (d[i].seq < fs)
            fs = d[i].seq;
    *value = k->n;
    *first_seq = fs;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

static void agg_sum(struct kent *k, const struct fg_crule *cr, int64_t now, int64_t seq,
                    int64_t amount, int64_t *value, int64_t *first_seq)
{
    const uint32_t cap = FG_ENGINE_SUM_ITEMS;
    struct sitem *s = k->u.s;
    while (k->n > 0 && now - s[k->head].t > cr->window_ms) {
        k->head = (k->head + 1u) % cap;
        k->n--;
    }
    if (k->n == cap) { /* fold the two oldest, keeping the later time */
        uint32_t second = (k->head + 1u) % cap;
        s[second].amount = sat_add(s[second].amount, s[k->head].amount);
        s[second].seq = s[k->head].seq;
        k->head = second;
        k->n--;
    }
    s[(k->head + k->n) % cap] = (struct sitem){now, seq, amount};
    k->n++;
    int64_t total = 0;
    for (uint32_t i = 0; i < k->n; i++)
        total = sat_add(total, s[(k->head + i) % cap].amount);
    *value = total;
    *first_seq = s[k->head].seq;
}

static void eval_sequence(struct feed *fd, const struct prep *p, const struct fg_crule *cr)
{
    struct fg_engine *e = fd->e;
    const struct fg_mev *ev = fd->ev;
    e->st.matches++;
    struct kent *k = entry_get(e, p->ri, p->h, fd->now, p->steps & 1u);
    if (k == NULL)
        return;
    k->last_ms = fd->now;
    if (k->step > 0 && fd->now - k->t0 > cr->window_ms)
        k->step = 0;
    if (k->step > 0 && (p->steps >> k->step) & 1u) {
        k->step++;
        if (k->step == cr->nsteps) {
            k->step = 0;
            fire(fd, p->ri, k, cr->nsteps, k->seq0);
        }
    } else if ((p->steps & 1u) && k->step <= 1) {
        k->step = 1;
        k->t0 = fd->now;
        k->seq0 = ev->seq;
    }
}

/* Pass one: does rule ri match the event, and under which key hash? Reads only the event and
 * the rule; the hash's table slot is prefetched, so that the misses of an event's rules
 * overlap instead of following one another (docs/BENCHMARKS.md). */
static int prepare(struct feed *fd, uint32_t ri, struct prep *p)
{
    struct fg_engine *e = fd->e;
    const struct fg_crule *cr = &e->rules->rules[ri];
    const struct fg_mev *ev = fd->ev;
    unsigned steps = 0;
    if (cr->kind == FG_RK_SEQUENCE) {
        for (unsigned s = 0; s < cr->nsteps; s++)
            if (fg_cmatch_eval(&cr->steps[s], ev, 1, e->tz, e->md, e->mc, &e->st.regex_limit_hits))
                steps |= 1u << s;
        if (steps == 0)
            return 0;
    } else if (!fg_cmatch_eval(&cr->match, ev, 0, e->tz, e->md, e->mc, &e->st.regex_limit_hits)) {
        return 0;
    }
    char key[ENGINE_KEYBUF];
    size_t klen = 0;
    if (!build_key(e, cr, ev, key, sizeof key, &klen))
        return 0;
    p->ri = ri;
    p->steps = steps;
    p->h = hash_bytes(key, klen, e->seed);
    const struct rstate *r = &e->rs[ri];
    if (r->cap > 0 && r->entry_bytes > 0)
        __builtin_prefetch(&r->slots[(uint32_t)p->h & (r->cap - 1u)]);
    return 1;
}

/* Pass two: the rule's state for the key, and maybe a firing. */
static void apply(struct feed *fd, const struct prep *p)
{
    struct fg_engine *e = fd->e;
    const uint32_t ri = p->ri;
    const struct fg_crule *cr = &e->rules->rules[ri];
    const struct fg_mev *ev = fd->ev;
    if (cr->kind == FG_RK_SEQUENCE) {
        eval_sequence(fd, p, cr);
        return;
    }
    e->st.matches++;
    if (cr->kind == FG_RK_MATCH) {
        struct kent *k = NULL;
        if (e->rs[ri].entry_bytes > 0) {
            k = entry_get(e, ri, p->h, fd->now, 1);
            if (k != NULL)
                k->last_ms = fd->now;
        }
        fire(fd, ri, k, 1, ev->seq);
        return;
    }
    char tmp[24];
    int64_t amount = 0;
    const char *dv = NULL;
    if (cr->fn == FG_AGG_SUM && !fg_fref_num(&cr->field, ev, e->tz, &amount))
        return;
    if (cr->fn != FG_AGG_SUM && cr->field.kind != 0) {
        dv = fg_fref_text(&cr->field, ev, e->tz, tmp);
        if (dv[0] == '\0')
            return;
    }
    struct kent *k = entry_get(e, ri, p->h, fd->now, 1);
    if (k == NULL)
        return;
    k->last_ms = fd->now;
    int64_t value = 0, first_seq = 0;
    if (cr->fn == FG_AGG_COUNT)
        agg_count(k, cr, fd->now, ev->seq, &value, &first_seq);
    else if (cr->fn == FG_AGG_DISTINCT)
        agg_distinct(k, cr, fd->now, ev->seq, hash_bytes(dv, strlen(dv), ~e->seed), &value,
                     &first_seq);
    else
        agg_sum(k, cr, fd->now, ev->seq, amount, &value, &first_seq);
    if (value >= cr->threshold)
        fire(fd, ri, k, value, first_seq);
}

static void report_evictions(struct feed *fd)
{
    struct fg_engine *e = fd->e;
    for (uint32_t i = 0; i < e->npending; i++) {
        uint32_t ri = e->pending[i];
        struct rstate *r = &e->rs[ri];
        r->pending = 0;
        if (r->reported_ms != INT64_MIN && fd->now - r->reported_ms < ENGINE_EVICTION_REPORT_MS)
            continue;
        r->reported_ms = fd->now;
        struct fg_firing f;
        memset(&f, 0, sizeof f);
        f.rule = fg_engine_eviction_rule();
        size_t n = strlen(e->rules->rules[ri].info.id);
        memcpy(f.key, e->rules->rules[ri].info.id, n + 1);
        f.time_ms = fd->now;
        f.value = (int64_t)r->evictions;
        f.threshold = 1;
        f.first_seq = fd->ev->seq;
        f.ev = fd->ev;
        e->st.firings++;
        if (fd->fn != NULL)
            fd->fn(fd->ctx, &f);
    }
    e->npending = 0;
}

fg_rc fg_engine_feed(struct fg_engine *e, const struct fg_mev *ev, fg_firing_fn fn, void *ctx)
{
    if (e == NULL || ev == NULL || ev->s[FG_MEV_F_NAME] == NULL)
        return FG_ERR_INVALID;
    for (int i = 0; i < (int)FG_MEV_F_NSTR; i++)
        if (ev->s[i] == NULL)
            return FG_ERR_INVALID;
    e->st.events++;
    struct feed fd = {e, ev, fn, ctx, ev->time_ms};
    const char *name = ev->s[FG_MEV_F_NAME];
    uint64_t h = hash_bytes(name, strlen(name), e->seed);
    const uint32_t *list = e->star;
    uint32_t n = e->nstar;
    for (uint32_t i = (uint32_t)h & e->idx_mask;; i = (i + 1u) & e->idx_mask) {
        const struct nidx *x = &e->idx[i];
        if (x->name == NULL)
            break;
        if (x->h == h && strcmp(x->name, name) == 0) {
            list = x->rules;
            n = x->n;
            break;
        }
    }
    /* In rule order, ENGINE_PREP_MAX matched rules at a time: prepare (match, key hash,
     * prefetch the slot), then apply, prefetching the next rule's entry before each. */
    struct prep p[ENGINE_PREP_MAX];
    for (uint32_t i = 0; i < n;) {
        uint32_t np = 0;
        for (; i < n && np < ENGINE_PREP_MAX; i++)
            np += (uint32_t)prepare(&fd, list[i], &p[np]);
        for (uint32_t j = 0; j < np; j++) {
            if (j + 1 < np) {
                const struct slot *s = table_find(&e->rs[p[j + 1].ri], p[j + 1].h);
                if (s != NULL)
                    __builtin_prefetch(s->e);
            }
            apply(&fd, &p[j]);
            if (e->npending > 0)
                report_evictions(&fd);
        }
    }
    return FG_OK;
}

void fg_engine_get_stats(const struct fg_engine *e, struct fg_engine_stats *out)
{
    *out = e->st;
    out->bytes_used = e->used;
    out->bytes_budget = e->budget;
}

uint64_t fg_engine_rule_evictions(const struct fg_engine *e, size_t i)
{
    return i < e->rules->n ? e->rs[i].evictions : 0;
}

uint64_t fg_engine_rule_firings(const struct fg_engine *e, size_t i)
{
    return i < e->rules->n ? e->rs[i].firings : 0;
}
