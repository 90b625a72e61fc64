/*
 * risk.c — the risk state and its questions (risk.h; docs/risk.md).
 *
 * How it works. Every tracked thing is one heap entry: a small header (hash chain, LRU links,
 * hash, bytes charged, kind), the state of its kind (account, subject or ip — different sizes,
 * so an ip costs a third of an account) and its key, NUL-terminated. Entries live in
 * FG_RISK_SHARDS shards chosen by the top bits of a 64-bit hash of (kind, key); each shard has
 * a fixed bucket array sized from the budget at creation (no rehashing, so a lookup never
 * allocates), a doubly linked LRU list (head = most recently updated) and its slice of the
 * budget. Writers (observe, block, step-up) take the shard's write lock, update or create the
 * entry and move it to the head; when the slice is full they evict from the tail, skipping
 * (and moving to the head) entries whose block or step-up is still in force. Readers
 * (assessments) take one shard's read lock at a time, copy the few numbers they need into a
 * snapshot and let go; the features are computed afterwards from the snapshots, lock-free.
 * "In force" for eviction is judged against the latest time the module has seen (events and
 * questions), kept as an atomic maximum.
 */
#include "monitor/risk.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/limits.h"

/* What malloc costs beyond the bytes asked for (glibc: 8..16); charged so RSS stays under. */
#define RISK_MALLOC_OVERHEAD 16u
/* Average entry size the bucket arrays are sized for. */
#define RISK_ENTRY_TYPICAL 192u
#define RISK_BUCKETS_MIN 16u
/* Entries looked at (pinned ones skipped) before giving up making room. */
#define RISK_EVICT_SCAN 16u

enum risk_kind { K_ACCOUNT = 1, K_SUBJECT = 2, K_IP = 3 };

struct account_state {
    int64_t transfers, sum, max; /* committed transfers out of the account */
    int64_t last_debit_ms, woke_ms;
    int64_t hour_t[FG_RISK_HOUR_RING], hour_amount[FG_RISK_HOUR_RING];
    int64_t near_t[FG_RISK_STRUCT_RING];
    unsigned hour_next, near_next;
};

struct subject_state {
    int64_t phone_ms, credential_ms, step_up_until_ms;
    int64_t near_t[FG_RISK_STRUCT_RING];
    int64_t fail_t[FG_RISK_FAIL_RING];
    unsigned near_next, fail_next;
};

struct ip_state {
    int64_t blocked_until_ms;
    int64_t fail_t[FG_RISK_FAIL_RING];
    unsigned fail_next;
};

struct ent {
    struct ent *hnext, *prev, *next;
    uint64_t hash;
    uint32_t charge;
    uint16_t klen;
    uint8_t kind;
    /* then the state of kind (8-aligned: sizeof(struct ent) is a multiple of 8), then the key */
};

struct shard {
    pthread_rwlock_t lock;
    struct ent **buckets;
    size_t mask;
    struct ent *head, *tail;
    size_t bytes, budget, n;
    size_t nkind[4];
};

struct fg_risk {
    struct fg_risk_options opt;
    struct shard *shards;
    size_t fixed_bytes; /* bucket arrays and shard headers */
    size_t budget;
    _Atomic int64_t clock_ms;
    _Atomic uint64_t observed, evictions, dropped;
    _Atomic uint64_t logins[FG_RISK_DECISIONS], transfers[FG_RISK_DECISIONS];
};

_Static_assert(sizeof(struct ent) % 8 == 0, "state after the header must be 8-aligned");
_Static_assert(FG_RISK_F_COUNT_ <= 32, "features fit a uint32_t");

/* ---- names and weights ----------------------------------------------------------------------- */

static const struct {
    const char *name;
    int weight;
} features[FG_RISK_F_COUNT_] = {
    [FG_RISK_F_IP_BLOCKED] = {"ip_blocked", 100},
    [FG_RISK_F_STEP_UP_REQUIRED] = {"step_up_required", 40},
    [FG_RISK_F_IP_FAILURES] = {"ip_failures", 40},
    [FG_RISK_F_USER_FAILURES] = {"user_failures", 40},
    [FG_RISK_F_ATO_PATTERN] = {"ato_pattern", 30},
    [FG_RISK_F_RECENT_PHONE_CHANGE] = {"recent_phone_change", 30},
    [FG_RISK_F_RECENT_CREDENTIAL_CHANGE] = {"recent_credential_change", 30},
    [FG_RISK_F_AMOUNT_VS_MEAN] = {"amount_vs_mean", 25},
    [FG_RISK_F_STRUCTURING] = {"structuring", 25},
    [FG_RISK_F_DORMANT] = {"dormant", 25},
    [FG_RISK_F_NEW_PAYEE] = {"new_payee", 20},
    [FG_RISK_F_VELOCITY_COUNT] = {"velocity_count", 20},
    [FG_RISK_F_VELOCITY_SUM] = {"velocity_sum", 20},
    [FG_RISK_F_NEW_DEVICE] = {"new_device", 15},
    [FG_RISK_F_AMOUNT_ABOVE_MAX] = {"amount_above_max", 10},
    [FG_RISK_F_NIGHT] = {"night", 10},
};

const char *fg_risk_feature_name(enum fg_risk_feature f)
{
    return (unsigned)f < FG_RISK_F_COUNT_ ? features[f].name : "?";
}

int fg_risk_feature_weight(enum fg_risk_feature f)
{
    return (unsigned)f < FG_RISK_F_COUNT_ ? features[f].weight : 0;
}

const char *fg_risk_decision_name(enum fg_risk_decision d)
{
    switch (d) {
    case FG_RISK_ALLOW:
        return "allow";
    case FG_RISK_STEP_UP:
        return "step_up";
    case FG_RISK_DENY:
        return "deny";
    }
    return "?";
}

/* ---- entries --------------------------------------------------------------------------------- */

static size_t state_size(uint8_t kind)
{
    switch (kind) {
    case K_ACCOUNT:
        return sizeof(struct account_state);
    case K_SUBJECT:
        return sizeof(struct subject_state);
    default:
        return sizeof(struct ip_state);
    }
}

static void *ent_state(struct ent *e)
{
    return e + 1;
}

static const char *ent_key(const struct ent *e)
{
    return (const char *)(e + 1) + state_size(e->kind);
}

static uint64_t key_hash(uint8_t kind, const char *key, size_t klen)
{
    uint64_t h = 1469598103934665603ull ^ kind;
    for (size_t i = 0; i < klen; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ull;
    }
    h ^= h >> 33; /* fmix64: the shard comes from the top bits, the bucket from the bottom */
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* Usable key length, or 0 for NULL, "" and keys over FG_RISK_KEY_MAX (not tracked). */
static size_t key_len(const char *key)
{
    if (key == NULL || key[0] == '\0')
        return 0;
    size_t n = strnlen(key, FG_RISK_KEY_MAX + 1);
    return n > FG_RISK_KEY_MAX ? 0 : n;
}

static struct shard *shard_of(struct fg_risk *r, uint64_t h)
{
    return &r->shards[h >> 58]; /* 64 shards */
}
_Static_assert(FG_RISK_SHARDS == 64, "shard_of takes 6 bits");

static struct ent *find(struct shard *sh, uint64_t h, uint8_t kind, const char *key, size_t klen)
{
    for (struct ent *e = sh->buckets[h & sh->mask]; e != NULL; e = e->hnext)
        if (e->hash == h && e->kind == kind && e->klen == klen &&
            memcmp(ent_key(e), key, klen) == 0)
            return e;
    return NULL;
}

static void lru_unlink(struct shard *sh, struct ent *e)
{
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        sh->head = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        sh->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_head(struct shard *sh, struct ent *e)
{
    e->prev = NULL;
    e->next = sh->head;
    if (sh->head != NULL)
        sh->head->prev = e;
    sh->head = e;
    if (sh->tail == NULL)
        sh->tail = e;
}

static void touch(struct shard *sh, struct ent *e)
{
    if (sh->head != e) {
        lru_unlink(sh, e);
        lru_push_head(sh, e);
    }
}

static int pinned(const struct ent *e, int64_t now_ms)
{
    const void *st = e + 1;
    if (e->kind == K_IP)
        return ((const struct ip_state *)st)->blocked_until_ms > now_ms;
    if (e->kind == K_SUBJECT)
        return ((const struct subject_state *)st)->step_up_until_ms > now_ms;
    return 0;
}

static void remove_ent(struct shard *sh, struct ent *e)
{
    struct ent **pp = &sh->buckets[e->hash & sh->mask];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(sh, e);
    sh->bytes -= e->charge;
    sh->n--;
    sh->nkind[e->kind]--;
    free(e);
}

/* Evict from the LRU tail until need more bytes fit; 1 if they do. */
static int make_room(struct fg_risk *r, struct shard *sh, size_t need)
{
    int64_t now = atomic_load_explicit(&r->clock_ms, memory_order_relaxed);
    unsigned skipped = 0;
    while (sh->bytes + need > sh->budget && sh->tail != NULL && skipped < RISK_EVICT_SCAN) {
        struct ent *v = sh->tail;
        if (pinned(v, now)) {
            touch(sh, v); /* a block in force is never evicted */
            skipped++;
            continue;
        }
        remove_ent(sh, v);
        atomic_fetch_add_explicit(&r->evictions, 1, memory_order_relaxed);
    }
    return sh->bytes + need <= sh->budget;
}

/* The entry of (kind, key), created if needed; caller holds sh's write lock. force: keep a
 * new entry even over the budget (blocks and step-ups must never be lost). NULL = dropped
 * (counted) or out of memory. */
static struct ent *get_or_create(struct fg_risk *r, struct shard *sh, uint64_t h, uint8_t kind,
                                 const char *key, size_t klen, int force)
{
    struct ent *e = find(sh, h, kind, key, klen);
    if (e != NULL) {
        touch(sh, e);
        return e;
    }
    size_t size = sizeof(struct ent) + state_size(kind) + klen + 1;
    size_t charge = size + RISK_MALLOC_OVERHEAD;
    if (!make_room(r, sh, charge) && !force) {
        atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
        return NULL;
    }
    e = calloc(1, size);
    if (e == NULL) {
        atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
        return NULL;
    }
    e->hash = h;
    e->kind = kind;
    e->klen = (uint16_t)klen;
    e->charge = (uint32_t)charge;
    memcpy((char *)(e + 1) + state_size(kind), key, klen);
    struct ent **b = &sh->buckets[h & sh->mask];
    e->hnext = *b;
    *b = e;
    lru_push_head(sh, e);
    sh->bytes += charge;
    sh->n++;
    sh->nkind[kind]++;
    return e;
}

static void clock_advance(struct fg_risk *r, int64_t t)
{
    int64_t cur = atomic_load_explicit(&r->clock_ms, memory_order_relaxed);
    while (t > cur && !atomic_compare_exchange_weak_explicit(
                          &r->clock_ms, &cur, t, memory_order_relaxed, memory_order_relaxed)) {
    }
}

/* ---- creation -------------------------------------------------------------------------------- */

static int currency_ok(const struct fg_risk_currency *c)
{
    for (int i = 0; i < 3; i++)
        if (c->code[i] < 'A' || c->code[i] > 'Z')
            return 0;
    return c->code[3] == '\0' && c->session_max >= 0 && c->session_max <= FG_RISK_AMOUNT_MAX &&
           c->otp_max >= 0 && c->otp_max <= FG_RISK_AMOUNT_MAX && c->hour_sum_max >= 0 &&
           c->hour_sum_max <= FG_RISK_AMOUNT_MAX;
}

fg_rc fg_risk_options_from_limits(const struct fg_limits *L, struct fg_risk_options *opt)
{
    assert(L != NULL && opt != NULL);
    size_t n = fg_limits_currency_count(L);
    if (n > FG_RISK_CURRENCIES_MAX)
        return FG_ERR_LIMIT;
    opt->ncurrencies = 0;
    for (size_t i = 0; i < n; i++) {
        struct fg_limits_currency lc;
        fg_rc rc = fg_limits_currency_get(L, fg_limits_currency_at(L, i), &lc);
        if (rc != FG_OK)
            return rc;
        struct fg_risk_currency *c = &opt->currencies[opt->ncurrencies++];
        memset(c, 0, sizeof *c);
        memcpy(c->code, lc.code, sizeof c->code);
        c->session_max = lc.session_max;
        c->otp_max = lc.otp_max;
        c->hour_sum_max = lc.otp_max;
    }
    return FG_OK;
}

static size_t pow2_at_least(size_t n)
{
    size_t p = RISK_BUCKETS_MIN;
    while (p < n)
        p <<= 1;
    return p;
}

fg_rc fg_risk_new(const struct fg_risk_options *opt, struct fg_risk **out)
{
    assert(opt != NULL && out != NULL);
    *out = NULL;
    size_t budget = opt->memory_budget ? opt->memory_budget : FG_RISK_MEMORY_DEFAULT;
    if (budget < FG_RISK_MEMORY_MIN || budget > FG_RISK_MEMORY_MAX)
        return FG_ERR_INVALID;
    if (opt->tz_offset_minutes < -FG_RISK_TZ_MINUTES_MAX ||
        opt->tz_offset_minutes > FG_RISK_TZ_MINUTES_MAX)
        return FG_ERR_INVALID;
    if (opt->ncurrencies > FG_RISK_CURRENCIES_MAX)
        return FG_ERR_INVALID;
    for (unsigned i = 0; i < opt->ncurrencies; i++)
        if (!currency_ok(&opt->currencies[i]))
            return FG_ERR_INVALID;

    struct fg_risk *r = calloc(1, sizeof *r);
    if (r == NULL)
        return FG_ERR_NOMEM;
    r->opt = *opt;
    r->budget = budget;
    r->shards = calloc(FG_RISK_SHARDS, sizeof *r->shards);
    if (r->shards == NULL) {
        free(r);
        return FG_ERR_NOMEM;
    }
    size_t nb = pow2_at_least(budget / RISK_ENTRY_TYPICAL / FG_RISK_SHARDS);
    r->fixed_bytes = sizeof *r + FG_RISK_SHARDS * (sizeof(struct shard) + nb * sizeof(void *));
    size_t per_shard = budget > r->fixed_bytes ? (budget - r->fixed_bytes) / FG_RISK_SHARDS : 0;
    unsigned made = 0;
    fg_rc rc = FG_OK;
    for (; made < FG_RISK_SHARDS; made++) {
        struct shard *sh = &r->shards[made];
        sh->buckets = calloc(nb, sizeof *sh->buckets);
        if (sh->buckets == NULL || pthread_rwlock_init(&sh->lock, NULL) != 0) {
            free(sh->buckets);
            rc = FG_ERR_NOMEM;
            break;
        }
        sh->mask = nb - 1;
        sh->budget = per_shard;
    }
    if (rc != FG_OK) {
        for (unsigned i = 0; i < made; i++) {
            pthread_rwlock_destroy(&r->shards[i].lock);
            free(r->shards[i].buckets);
        }
        free(r->shards);
        free(r);
        return rc;
    }
    *out = r;
    return FG_OK;
}

void fg_risk_free(struct fg_risk *r)
{
    if (r == NULL)
        return;
    for (unsigned i = 0; i < FG_RISK_SHARDS; i++) {
        struct shard *sh = &r->shards[i];
        for (struct ent *e = sh->head, *next; e != NULL; e = next) {
            next = e->next;
            free(e);
        }
        pthread_rwlock_destroy(&sh->lock);
        free(sh->buckets);
    }
    free(r->shards);
    free(r);
}

/* ---- observing ------------------------------------------------------------------------------- */

static const struct fg_risk_currency *currency_of(const struct fg_risk *r, const char *code)
{
    if (code == NULL || code[0] == '\0')
        return NULL;
    for (unsigned i = 0; i < r->opt.ncurrencies; i++)
        if (strcmp(r->opt.currencies[i].code, code) == 0)
            return &r->opt.currencies[i];
    return NULL;
}

static int64_t clamp_amount(int64_t a)
{
    return a < 0 ? 0 : a > FG_RISK_AMOUNT_MAX ? FG_RISK_AMOUNT_MAX : a;
}

/* amount in [90 %, 100 %) of a boundary b (b ≤ 10^15, so ×100 cannot overflow). */
static int near_boundary(int64_t amount, int64_t b)
{
    return b > 0 && amount < b && amount * 100 >= b * FG_RISK_STRUCT_LOW_PERCENT;
}

static int is_near(const struct fg_risk *r, const char *currency, int64_t amount)
{
    const struct fg_risk_currency *c = currency_of(r, currency);
    return c != NULL &&
           (near_boundary(amount, c->session_max) || near_boundary(amount, c->otp_max));
}

static int64_t sat_add(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* Run fn on the entry of (kind, key) under its shard's write lock (created if need be). */
typedef void (*update_fn)(void *state, int64_t t, const void *arg);

static int update(struct fg_risk *r, uint8_t kind, const char *key, int force, update_fn fn,
                  int64_t t, const void *arg)
{
    size_t klen = key_len(key);
    if (klen == 0)
        return 0;
    uint64_t h = key_hash(kind, key, klen);
    struct shard *sh = shard_of(r, h);
    pthread_rwlock_wrlock(&sh->lock);
    struct ent *e = get_or_create(r, sh, h, kind, key, klen, force);
    if (e != NULL)
        fn(ent_state(e), t, arg);
    pthread_rwlock_unlock(&sh->lock);
    return e != NULL;
}

struct debit {
    int64_t amount;
    int transfer, near;
};

static void account_debit(void *state, int64_t t, const void *arg)
{
    struct account_state *a = state;
    const struct debit *d = arg;
    if (a->last_debit_ms > 0 && t - a->last_debit_ms >= FG_RISK_DORMANT_MS)
        a->woke_ms = t;
    if (t > a->last_debit_ms)
        a->last_debit_ms = t;
    if (!d->transfer)
        return;
    a->transfers++;
    a->sum = sat_add(a->sum, d->amount);
    if (d->amount > a->max)
        a->max = d->amount;
    a->hour_t[a->hour_next] = t;
    a->hour_amount[a->hour_next] = d->amount;
    a->hour_next = (a->hour_next + 1) % FG_RISK_HOUR_RING;
    if (d->near) {
        a->near_t[a->near_next] = t;
        a->near_next = (a->near_next + 1) % FG_RISK_STRUCT_RING;
    }
}

static void subject_near(void *state, int64_t t, const void *arg)
{
    struct subject_state *s = state;
    s->near_t[s->near_next] = t;
    s->near_next = (s->near_next + 1) % FG_RISK_STRUCT_RING;
}

static void subject_phone(void *state, int64_t t, const void *arg)
{
    struct subject_state *s = state;
    if (t > s->phone_ms)
        s->phone_ms = t;
}

static void subject_credential(void *state, int64_t t, const void *arg)
{
    struct subject_state *s = state;
    if (t > s->credential_ms)
        s->credential_ms = t;
}

static void subject_fail(void *state, int64_t t, const void *arg)
{
    struct subject_state *s = state;
    s->fail_t[s->fail_next] = t;
    s->fail_next = (s->fail_next + 1) % FG_RISK_FAIL_RING;
}

static void ip_fail(void *state, int64_t t, const void *arg)
{
    struct ip_state *s = state;
    s->fail_t[s->fail_next] = t;
    s->fail_next = (s->fail_next + 1) % FG_RISK_FAIL_RING;
}

void fg_risk_observe(struct fg_risk *r, const struct fg_mev *ev)
{
    assert(r != NULL && ev != NULL);
    const char *name = ev->s[FG_MEV_F_NAME];
    if (name == NULL)
        return;
    int64_t t = ev->time_ms;
    int changed = 0;
    if (strcmp(name, "transfer.committed") == 0 || strcmp(name, "withdrawal.committed") == 0) {
        struct debit d = {.amount = ev->has_amount ? clamp_amount(ev->amount) : 0,
                          .transfer = name[0] == 't' && ev->has_amount};
        d.near = d.transfer && is_near(r, ev->s[FG_MEV_F_CURRENCY], d.amount);
        changed |= update(r, K_ACCOUNT, ev->s[FG_MEV_F_ACCOUNT], 0, account_debit, t, &d);
        if (d.near)
            changed |= update(r, K_SUBJECT, ev->s[FG_MEV_F_CUSTOMER], 0, subject_near, t, NULL);
    } else if (strcmp(name, "customer.phone_changed") == 0) {
        changed = update(r, K_SUBJECT, ev->s[FG_MEV_F_CUSTOMER], 0, subject_phone, t, NULL);
    } else if (strcmp(name, "customer.reset") == 0) {
        changed = update(r, K_SUBJECT, ev->s[FG_MEV_F_CUSTOMER], 0, subject_credential, t, NULL);
    } else if (strcmp(name, "password.changed") == 0) {
        changed = update(r, K_SUBJECT, ev->s[FG_MEV_F_USER], 0, subject_credential, t, NULL);
    } else if (strcmp(name, "login.failed") == 0 || strcmp(name, "mfa.failed") == 0) {
        changed |= update(r, K_IP, ev->s[FG_MEV_F_IP], 0, ip_fail, t, NULL);
        changed |= update(r, K_SUBJECT, ev->s[FG_MEV_F_USER], 0, subject_fail, t, NULL);
    } else {
        return;
    }
    clock_advance(r, t);
    if (changed)
        atomic_fetch_add_explicit(&r->observed, 1, memory_order_relaxed);
}

struct seed {
    int64_t transfers, sum, max;
};

static void account_seed(void *state, int64_t t, const void *arg)
{
    struct account_state *a = state;
    const struct seed *s = arg;
    if (t > a->last_debit_ms)
        a->last_debit_ms = t;
    a->transfers = sat_add(a->transfers, s->transfers);
    a->sum = sat_add(a->sum, s->sum);
    if (s->max > a->max)
        a->max = s->max;
}

void fg_risk_seed_account(struct fg_risk *r, const char *account, int64_t last_debit_ms,
                          int64_t transfers, int64_t sum, int64_t max)
{
    assert(r != NULL);
    struct seed s = {.transfers = transfers < 0 ? 0 : transfers,
                     .sum = sum < 0 ? 0 : sum,
                     .max = clamp_amount(max)};
    (void)update(r, K_ACCOUNT, account, 0, account_seed, last_debit_ms, &s);
}

/* ---- response state -------------------------------------------------------------------------- */

static void ip_set_block(void *state, int64_t t, const void *arg)
{
    ((struct ip_state *)state)->blocked_until_ms = t;
}

static void subject_set_step_up(void *state, int64_t t, const void *arg)
{
    ((struct subject_state *)state)->step_up_until_ms = t;
}

void fg_risk_block_ip(struct fg_risk *r, const char *ip, int64_t until_ms)
{
    assert(r != NULL);
    (void)update(r, K_IP, ip, 1, ip_set_block, until_ms, NULL);
}

void fg_risk_unblock_ip(struct fg_risk *r, const char *ip)
{
    assert(r != NULL);
    size_t klen = key_len(ip);
    if (klen == 0)
        return;
    uint64_t h = key_hash(K_IP, ip, klen);
    struct shard *sh = shard_of(r, h);
    pthread_rwlock_wrlock(&sh->lock);
    struct ent *e = find(sh, h, K_IP, ip, klen);
    if (e != NULL)
        ((struct ip_state *)ent_state(e))->blocked_until_ms = 0;
    pthread_rwlock_unlock(&sh->lock);
}

void fg_risk_require_step_up(struct fg_risk *r, const char *subject, int64_t until_ms)
{
    assert(r != NULL);
    (void)update(r, K_SUBJECT, subject, 1, subject_set_step_up, until_ms, NULL);
}

/* ---- snapshots (read lock, one shard at a time) --------------------------------------------- */

static int count_since(const int64_t *ts, unsigned n, int64_t now, int64_t window)
{
    int c = 0;
    for (unsigned i = 0; i < n; i++)
        if (ts[i] != 0 && now - ts[i] < window)
            c++;
    return c;
}

struct account_snap {
    int64_t transfers, sum, max, last_debit_ms, woke_ms;
    int hour_count, near_count;
    int64_t hour_sum;
};

struct subject_snap {
    int64_t phone_ms, credential_ms, step_up_until_ms;
    int near_count, fail_count;
};

struct ip_snap {
    int64_t blocked_until_ms;
    int fail_count;
};

/* Find (kind, key) under a read lock and let fn copy what it needs; 0 if unknown. */
typedef void (*snap_fn)(const void *state, int64_t now, void *snap);

static int snapshot(struct fg_risk *r, uint8_t kind, const char *key, snap_fn fn, int64_t now,
                    void *snap)
{
    size_t klen = key_len(key);
    if (klen == 0)
        return 0;
    uint64_t h = key_hash(kind, key, klen);
    struct shard *sh = shard_of(r, h);
    pthread_rwlock_rdlock(&sh->lock);
    struct ent *e = find(sh, h, kind, key, klen);
    if (e != NULL)
        fn(ent_state(e), now, snap);
    pthread_rwlock_unlock(&sh->lock);
    return e != NULL;
}

static void account_snap(const void *state, int64_t now, void *snap)
{
    const struct account_state *a = state;
    struct account_snap *s = snap;
    s->transfers = a->transfers;
    s->sum = a->sum;
    s->max = a->max;
    s->last_debit_ms = a->last_debit_ms;
    s->woke_ms = a->woke_ms;
    for (unsigned i = 0; i < FG_RISK_HOUR_RING; i++)
        if (a->hour_t[i] != 0 && now - a->hour_t[i] < FG_RISK_VELOCITY_WINDOW_MS) {
            s->hour_count++;
            s->hour_sum = sat_add(s->hour_sum, a->hour_amount[i]);
        }
    s->near_count = count_since(a->near_t, FG_RISK_STRUCT_RING, now, FG_RISK_STRUCT_WINDOW_MS);
}

static void subject_snap(const void *state, int64_t now, void *snap)
{
    const struct subject_state *a = state;
    struct subject_snap *s = snap;
    s->phone_ms = a->phone_ms;
    s->credential_ms = a->credential_ms;
    s->step_up_until_ms = a->step_up_until_ms;
    s->near_count = count_since(a->near_t, FG_RISK_STRUCT_RING, now, FG_RISK_STRUCT_WINDOW_MS);
    s->fail_count = count_since(a->fail_t, FG_RISK_FAIL_RING, now, FG_RISK_FAIL_WINDOW_MS);
}

static void ip_snap(const void *state, int64_t now, void *snap)
{
    const struct ip_state *a = state;
    struct ip_snap *s = snap;
    s->blocked_until_ms = a->blocked_until_ms;
    s->fail_count = count_since(a->fail_t, FG_RISK_FAIL_RING, now, FG_RISK_FAIL_WINDOW_MS);
}

int64_t fg_risk_ip_blocked_until(struct fg_risk *r, const char *ip, int64_t now_ms)
{
    assert(r != NULL);
    struct ip_snap s = {0};
    snapshot(r, K_IP, ip, ip_snap, now_ms, &s);
    return s.blocked_until_ms > now_ms ? s.blocked_until_ms : 0;
}

int64_t fg_risk_step_up_until(struct fg_risk *r, const char *subject, int64_t now_ms)
{
    assert(r != NULL);
    struct subject_snap s = {0};
    snapshot(r, K_SUBJECT, subject, subject_snap, now_ms, &s);
    return s.step_up_until_ms > now_ms ? s.step_up_until_ms : 0;
}

/* ---- assessing ------------------------------------------------------------------------------- */

static int recent(int64_t at_ms, int64_t now, int64_t window)
{
    return at_ms != 0 && now - at_ms < window;
}

static int local_hour(const struct fg_risk *r, int64_t now_ms)
{
    int64_t ms = (now_ms + (int64_t)r->opt.tz_offset_minutes * 60000) % 86400000;
    if (ms < 0)
        ms += 86400000; /* before 1970 */
    return (int)(ms / 3600000);
}

/* Score, decision and reasons from the feature bits. */
static void finish(uint32_t f, struct fg_risk_result *out)
{
    int score = 0;
    out->nreasons = 0;
    for (unsigned i = 0; i < FG_RISK_F_COUNT_; i++) {
        if (!(f & (1u << i)))
            continue;
        score += features[i].weight;
        if (out->nreasons < FG_RISK_REASONS_MAX)
            out->reasons[out->nreasons++] = features[i].name;
    }
    out->score = score > 100 ? 100 : score;
    out->features = f;
    /* a refusal needs a sign of compromise; behaviour alone (amounts, velocity, night) asks
     * for more proof instead: a bank does not refuse a customer's own money on a hunch */
    if ((out->score >= FG_RISK_DENY_AT && (f & FG_RISK_COMPROMISE)) ||
        (f & (1u << FG_RISK_F_IP_BLOCKED)))
        out->decision = FG_RISK_DENY;
    else if (out->score >= FG_RISK_STEP_UP_AT || (f & (1u << FG_RISK_F_STEP_UP_REQUIRED)))
        out->decision = FG_RISK_STEP_UP;
    else
        out->decision = FG_RISK_ALLOW;
}

#define BIT(x) (1u << FG_RISK_F_##x)

void fg_risk_assess_login(struct fg_risk *r, const struct fg_risk_login *q,
                          struct fg_risk_result *out)
{
    assert(r != NULL && q != NULL && out != NULL);
    int64_t now = q->now_ms;
    clock_advance(r, now);
    struct ip_snap ip = {0};
    struct subject_snap user = {0};
    snapshot(r, K_IP, q->ip, ip_snap, now, &ip);
    snapshot(r, K_SUBJECT, q->user, subject_snap, now, &user);
    uint32_t f = 0;
    if (ip.blocked_until_ms > now)
        f |= BIT(IP_BLOCKED);
    if (ip.fail_count >= FG_RISK_FAIL_COUNT)
        f |= BIT(IP_FAILURES);
    if (user.fail_count >= FG_RISK_FAIL_COUNT)
        f |= BIT(USER_FAILURES);
    if (user.step_up_until_ms > now)
        f |= BIT(STEP_UP_REQUIRED);
    if (q->new_device)
        f |= BIT(NEW_DEVICE);
    finish(f, out);
    atomic_fetch_add_explicit(&r->logins[out->decision], 1, memory_order_relaxed);
}

/* History, velocity, structuring and dormancy of the account (and customer). */
static uint32_t account_features(const struct fg_risk *r, const struct fg_risk_transfer *q,
                                 const struct account_snap *a, const struct subject_snap *cust,
                                 int64_t amount)
{
    uint32_t f = 0;
    int64_t now = q->now_ms;
    if (a->transfers >= FG_RISK_HISTORY_MIN) {
        double mean = (double)a->sum / (double)a->transfers;
        if ((double)amount > FG_RISK_MEAN_FACTOR * mean)
            f |= BIT(AMOUNT_VS_MEAN);
        if (amount > a->max)
            f |= BIT(AMOUNT_ABOVE_MAX);
    }
    if (a->hour_count + 1 >= FG_RISK_VELOCITY_COUNT)
        f |= BIT(VELOCITY_COUNT);
    const struct fg_risk_currency *c = currency_of(r, q->currency);
    if (c != NULL && c->hour_sum_max > 0 && sat_add(a->hour_sum, amount) >= c->hour_sum_max)
        f |= BIT(VELOCITY_SUM);
    if (is_near(r, q->currency, amount)) {
        int prior = a->near_count > cust->near_count ? a->near_count : cust->near_count;
        if (prior + 1 >= FG_RISK_STRUCT_COUNT)
            f |= BIT(STRUCTURING);
    }
    if (a->last_debit_ms > 0 &&
        (now - a->last_debit_ms >= FG_RISK_DORMANT_MS || recent(a->woke_ms, now, FG_RISK_WOKE_MS)))
        f |= BIT(DORMANT);
    return f;
}

void fg_risk_assess_transfer(struct fg_risk *r, const struct fg_risk_transfer *q,
                             struct fg_risk_result *out)
{
    assert(r != NULL && q != NULL && out != NULL);
    int64_t now = q->now_ms;
    int64_t amount = clamp_amount(q->amount);
    clock_advance(r, now);
    struct ip_snap ip = {0};
    struct account_snap acct = {0};
    struct subject_snap cust = {0}, user = {0};
    snapshot(r, K_IP, q->ip, ip_snap, now, &ip);
    snapshot(r, K_ACCOUNT, q->account, account_snap, now, &acct);
    snapshot(r, K_SUBJECT, q->customer, subject_snap, now, &cust);
    if (key_len(q->user) > 0 && (q->customer == NULL || strcmp(q->user, q->customer) != 0))
        snapshot(r, K_SUBJECT, q->user, subject_snap, now, &user);

    uint32_t f = account_features(r, q, &acct, &cust, amount);
    if (ip.blocked_until_ms > now)
        f |= BIT(IP_BLOCKED);
    if (cust.step_up_until_ms > now || user.step_up_until_ms > now)
        f |= BIT(STEP_UP_REQUIRED);
    if (recent(cust.phone_ms, now, FG_RISK_CHANGE_WINDOW_MS))
        f |= BIT(RECENT_PHONE_CHANGE);
    if (recent(cust.credential_ms, now, FG_RISK_CHANGE_WINDOW_MS) ||
        recent(user.credential_ms, now, FG_RISK_CHANGE_WINDOW_MS))
        f |= BIT(RECENT_CREDENTIAL_CHANGE);
    if (q->new_payee)
        f |= BIT(NEW_PAYEE);
    if (q->new_device)
        f |= BIT(NEW_DEVICE);
    if ((f & (BIT(RECENT_PHONE_CHANGE) | BIT(RECENT_CREDENTIAL_CHANGE))) && q->new_device &&
        q->new_payee)
        f |= BIT(ATO_PATTERN);
    if (local_hour(r, now) < FG_RISK_NIGHT_END_HOUR)
        f |= BIT(NIGHT);
    finish(f, out);
    atomic_fetch_add_explicit(&r->transfers[out->decision], 1, memory_order_relaxed);
}

/* ---- statistics ------------------------------------------------------------------------------ */

void fg_risk_get_stats(struct fg_risk *r, struct fg_risk_stats *out)
{
    assert(r != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    out->budget = r->budget;
    out->bytes = r->fixed_bytes;
    for (unsigned i = 0; i < FG_RISK_SHARDS; i++) {
        struct shard *sh = &r->shards[i];
        pthread_rwlock_rdlock(&sh->lock);
        out->keys += sh->n;
        out->bytes += sh->bytes;
        out->accounts += sh->nkind[K_ACCOUNT];
        out->subjects += sh->nkind[K_SUBJECT];
        out->ips += sh->nkind[K_IP];
        pthread_rwlock_unlock(&sh->lock);
    }
    out->observed = atomic_load(&r->observed);
    out->evictions = atomic_load(&r->evictions);
    out->dropped = atomic_load(&r->dropped);
    for (int d = 0; d < FG_RISK_DECISIONS; d++) {
        out->logins[d] = atomic_load(&r->logins[d]);
        out->transfers[d] = atomic_load(&r->transfers[d]);
    }
}
