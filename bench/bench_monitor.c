/*
 * bench_monitor.c — the monitor's hot paths (issue #6, `make bench`; MON-1, MON-3).
 *
 * (a) Rule engine throughput: events/s through fg_engine_feed on ONE thread with the shipped
 *     pack (fg_rules_load_default(NULL, ...), every rule evaluated as in production; memory
 *     budget FG_BENCH_ENGINE_BUDGET, time zone +08:00). The input is a synthetic but realistic
 *     mix, generated before timing as compact descriptors whose text is laid out one event
 *     after another in an arena, and turned into struct fg_mev in the loop (as the monitor does
 *     from the rows it just read): 40 % login.succeeded and 20 % login.failed over
 *     BENCH_IPS addresses and BENCH_USERS users (plus a few credential-stuffing sources so
 *     aggregate rules fire), 25 % transfer.committed over BENCH_ACCOUNTS accounts, 5 %
 *     pii.revealed, 4 % statement.read, 6 % mfa.failed / access.denied / card.detokenized /
 *     session.device_mismatch. Event time advances 2 ms per event. N = BENCH_ENGINE_EVENTS
 *     (5 M) or fewer when --seconds would be exceeded (the count used is printed).
 *     Goal: ≥ 1 M events/s.
 * (b) fg_risk_assess_transfer latency: a risk state holding BENCH_ACCOUNTS accounts with
 *     BENCH_HISTORY committed transfers each (fed through fg_risk_observe), phone changes of
 *     5 % of the customers, login failures, BENCH_BLOCKS blocked IPs and step-ups; then
 *     BENCH_ASSESS calls on random accounts, each timed alone with the monotonic clock
 *     (fg_time_mono_ns, ~20 ns of the figure); p50 / p99 / p99.9. Goal: p99 ≤ 20 µs.
 * (c) fg_risk_assess_login latency, the same way over random IPs and users.
 * Everything is single-threaded and allocation-free in the timed loops. Narrative (firings,
 * evictions, decisions) on stderr.
 *
 * Output contract (scripts/bench.sh): stdout holds only "BENCH <name> <value> <unit>".
 * Exit 0 ok, 1 when a step fails (rules do not load, an engine error), 2 on a usage error.
 *
 * Usage: bench_monitor [--seconds N] [DIR]   (DIR is unused: nothing touches the disk)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/time.h"
#include "monitor/engine.h"
#include "monitor/mevent.h"
#include "monitor/risk.h"
#include "bench_util.h"

#define SECONDS_DEFAULT 10
#define BENCH_ENGINE_EVENTS 5000000u
#define BENCH_ENGINE_BUDGET ((size_t)256 << 20)
#define BENCH_RISK_BUDGET ((size_t)256 << 20)
#define BENCH_DESC (1u << 20) /* distinct event descriptors, cycled */
#define BENCH_IPS 100000u
#define BENCH_USERS 50000u
#define BENCH_ACCOUNTS 100000u
#define BENCH_DEVICES 50000u
#define BENCH_STAFF 200u
#define BENCH_STUFFERS 50u /* attacking IPs */
#define BENCH_HISTORY 10u  /* committed transfers per account before (b) */
#define BENCH_BLOCKS 1000u
#define BENCH_ASSESS 1000000u
#define BENCH_T0 1772416800000LL /* 2026-03-02T02:00:00Z */
#define ID_LEN 24u
#define CLOCK_EVERY 4096u

/* ---- id pools -------------------------------------------------------------------------------- */

struct pool {
    char *mem;
    unsigned n;
};

enum pool_kind { P_IP, P_STUFFER, P_USER, P_CUSTOMER, P_ACCOUNT, P_DEVICE, P_STAFF };

static void id_of(enum pool_kind k, unsigned i, char *s)
{
    switch (k) {
    case P_IP:
        snprintf(s, ID_LEN, "%u.%u.%u.1", 10 + (i >> 16) % 200, (i >> 8) & 255, i & 255);
        break;
    case P_STUFFER:
        snprintf(s, ID_LEN, "203.0.113.%u", i & 255);
        break;
    case P_USER:
        snprintf(s, ID_LEN, "u-%08x", i);
        break;
    case P_CUSTOMER:
        snprintf(s, ID_LEN, "c-%08x", i);
        break;
    case P_ACCOUNT:
        snprintf(s, ID_LEN, "acc-%08x", i);
        break;
    case P_DEVICE:
        snprintf(s, ID_LEN, "d-%08x", i);
        break;
    case P_STAFF:
        snprintf(s, ID_LEN, "staff-%04x", i);
        break;
    }
}

static int pool_make(struct pool *p, unsigned n, enum pool_kind k)
{
    p->mem = malloc((size_t)n * ID_LEN);
    p->n = n;
    if (p->mem == NULL)
        return -1;
    for (unsigned i = 0; i < n; i++)
        id_of(k, i, p->mem + (size_t)i * ID_LEN);
    return 0;
}

static const char *pool_at(const struct pool *p, unsigned i)
{
    return p->mem + (size_t)(i % p->n) * ID_LEN;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dull;
}

static unsigned rnd_below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

struct pools {
    struct pool ips, stuffers, users, customers, accounts, devices, staff;
};

static int pools_make(struct pools *p)
{
    return pool_make(&p->ips, BENCH_IPS, P_IP) ||
           pool_make(&p->stuffers, BENCH_STUFFERS, P_STUFFER) ||
           pool_make(&p->users, BENCH_USERS, P_USER) ||
           pool_make(&p->customers, BENCH_USERS, P_CUSTOMER) ||
           pool_make(&p->accounts, BENCH_ACCOUNTS, P_ACCOUNT) ||
           pool_make(&p->devices, BENCH_DEVICES, P_DEVICE) ||
           pool_make(&p->staff, BENCH_STAFF, P_STAFF);
}

static void pools_free(struct pools *p)
{
    free(p->ips.mem);
    free(p->stuffers.mem);
    free(p->users.mem);
    free(p->customers.mem);
    free(p->accounts.mem);
    free(p->devices.mem);
    free(p->staff.mem);
}

/* ---- (a) the engine -------------------------------------------------------------------------- */

enum kind {
    K_LOGIN_OK,
    K_LOGIN_FAILED,
    K_STUFFING,
    K_TRANSFER,
    K_REVEAL,
    K_STATEMENT,
    K_MFA_FAILED,
    K_ACCESS_DENIED,
    K_DETOKENIZE,
    K_DEVICE_MISMATCH,
};

struct desc {
    uint8_t kind;
    uint32_t a, b, c;
    uint32_t off; /* its strings in the arena (bench_engine) */
    int64_t amount;
};

static void descs_make(struct desc *d, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned p = rnd_below(1000);
        uint8_t k = p < 400   ? K_LOGIN_OK
                    : p < 590 ? K_LOGIN_FAILED
                    : p < 600 ? K_STUFFING
                    : p < 850 ? K_TRANSFER
                    : p < 900 ? K_REVEAL
                    : p < 940 ? K_STATEMENT
                    : p < 960 ? K_MFA_FAILED
                    : p < 975 ? K_ACCESS_DENIED
                    : p < 990 ? K_DETOKENIZE
                              : K_DEVICE_MISMATCH;
        d[i] = (struct desc){.kind = k,
                             .a = (uint32_t)rnd(),
                             .b = (uint32_t)rnd(),
                             .c = (uint32_t)rnd(),
                             .amount = 100 + (int64_t)rnd_below(2000000)};
    }
}

static void attr_str(struct fg_mev *e, const char *name, const char *v)
{
    e->attrs[e->nattrs++] = (struct fg_mev_attr){.name = name, .str = v};
}

static void attr_num(struct fg_mev *e, const char *name, const char *text, int64_t v)
{
    e->attrs[e->nattrs++] = (struct fg_mev_attr){.name = name, .str = text, .num = v, .is_num = 1};
}

static const char EMPTY[] = "";

/* The event of descriptor d at time t (strings point into the pools). */
static void event_of(const struct pools *P, const struct desc *d, int64_t t, struct fg_mev *e)
{
    for (int i = 0; i < FG_MEV_F_NSTR; i++)
        e->s[i] = EMPTY;
    e->time_ms = t;
    e->seq = 0;
    e->has_amount = 0;
    e->amount = 0;
    e->nattrs = 0;
    const char *user = pool_at(&P->users, d->b);
    switch (d->kind) {
    case K_LOGIN_OK:
        e->s[FG_MEV_F_NAME] = "login.succeeded";
        e->s[FG_MEV_F_USER] = e->s[FG_MEV_F_ACTOR] = user;
        e->s[FG_MEV_F_IP] = pool_at(&P->ips, d->a);
        e->s[FG_MEV_F_DEVICE] = pool_at(&P->devices, d->b);
        e->s[FG_MEV_F_RESULT] = "ok";
        attr_str(e, "target", user);
        attr_str(e, "kind", "customer");
        attr_str(e, "new_device", d->c % 50 == 0 ? "true" : "false");
        break;
    case K_LOGIN_FAILED:
    case K_STUFFING:
        e->s[FG_MEV_F_NAME] = "login.failed";
        e->s[FG_MEV_F_USER] = user;
        e->s[FG_MEV_F_IP] =
            d->kind == K_STUFFING ? pool_at(&P->stuffers, d->a) : pool_at(&P->ips, d->a);
        e->s[FG_MEV_F_DEVICE] = pool_at(&P->devices, d->c);
        e->s[FG_MEV_F_RESULT] = "bad";
        attr_str(e, "target", user);
        attr_str(e, "kind", "customer");
        break;
    case K_TRANSFER:
        e->s[FG_MEV_F_NAME] = "transfer.committed";
        e->s[FG_MEV_F_ACTOR] = user;
        e->s[FG_MEV_F_USER] = user;
        e->s[FG_MEV_F_CUSTOMER] = pool_at(&P->customers, d->b);
        e->s[FG_MEV_F_ACCOUNT] = pool_at(&P->accounts, d->a);
        e->s[FG_MEV_F_PAYEE] = pool_at(&P->accounts, d->c);
        e->s[FG_MEV_F_IP] = pool_at(&P->ips, d->b);
        e->s[FG_MEV_F_DEVICE] = pool_at(&P->devices, d->b);
        e->s[FG_MEV_F_CURRENCY] = "CNY";
        e->s[FG_MEV_F_RESULT] = "ok";
        e->amount = d->amount;
        e->has_amount = 1;
        attr_str(e, "tier", d->amount > 100000 ? "otp" : "session");
        attr_str(e, "new_payee", d->c % 10 == 0 ? "true" : "false");
        attr_str(e, "new_device", d->c % 40 == 0 ? "true" : "false");
        attr_num(e, "idle_days", "0", 0);
        break;
    case K_REVEAL:
        e->s[FG_MEV_F_NAME] = "pii.revealed";
        e->s[FG_MEV_F_ACTOR] = pool_at(&P->staff, d->a);
        e->s[FG_MEV_F_CUSTOMER] = pool_at(&P->customers, d->b);
        attr_str(e, "field", d->c % 2 ? "phone" : "id_number");
        break;
    case K_STATEMENT:
        e->s[FG_MEV_F_NAME] = "statement.read";
        e->s[FG_MEV_F_ACTOR] = pool_at(&P->staff, d->a);
        e->s[FG_MEV_F_ACCOUNT] = pool_at(&P->accounts, d->b);
        e->s[FG_MEV_F_CUSTOMER] = pool_at(&P->customers, d->b);
        attr_num(e, "rows", "50", 50);
        break;
    case K_MFA_FAILED:
        e->s[FG_MEV_F_NAME] = "mfa.failed";
        e->s[FG_MEV_F_USER] = user;
        e->s[FG_MEV_F_IP] = pool_at(&P->ips, d->a);
        attr_str(e, "method", "totp");
        break;
    case K_ACCESS_DENIED:
        e->s[FG_MEV_F_NAME] = "access.denied";
        e->s[FG_MEV_F_USER] = pool_at(&P->staff, d->a);
        e->s[FG_MEV_F_IP] = pool_at(&P->ips, d->a);
        attr_str(e, "permission", "customers.read");
        attr_str(e, "route", "/v1/customers/{id}");
        break;
    case K_DETOKENIZE:
        e->s[FG_MEV_F_NAME] = "card.detokenized";
        e->s[FG_MEV_F_ACTOR] = pool_at(&P->staff, d->a);
        e->s[FG_MEV_F_CUSTOMER] = pool_at(&P->customers, d->b);
        break;
    default:
        e->s[FG_MEV_F_NAME] = "session.device_mismatch";
        e->s[FG_MEV_F_USER] = user;
        e->s[FG_MEV_F_IP] = pool_at(&P->ips, d->a);
        e->s[FG_MEV_F_DEVICE] = pool_at(&P->devices, d->c);
        break;
    }
}

/* The arena: every descriptor's strings (fields, then attribute values), NUL-terminated, one
 * event after another — the way the monitor finds an event's text, freshly decoded from its
 * row, rather than scattered over the id pools (whose cache misses measured the pools, not the
 * engine). Returns NULL when out of memory. */
static char *arena_make(const struct pools *P, struct desc *d, unsigned n)
{
    size_t cap = (size_t)n * 128u, used = 0;
    char *a = malloc(cap);
    for (unsigned i = 0; a != NULL && i < n; i++) {
        struct fg_mev ev;
        event_of(P, &d[i], 0, &ev);
        d[i].off = (uint32_t)used;
        for (unsigned k = 0; k < FG_MEV_F_NSTR + ev.nattrs; k++) {
            const char *v = k < FG_MEV_F_NSTR ? ev.s[k] : ev.attrs[k - FG_MEV_F_NSTR].str;
            if (v == EMPTY)
                continue;
            size_t ln = strlen(v) + 1;
            if (used + ln > cap || used + ln > UINT32_MAX) {
                char *b = used + ln > UINT32_MAX ? NULL : realloc(a, cap * 2);
                if (b == NULL) {
                    free(a);
                    return NULL;
                }
                a = b;
                cap *= 2;
            }
            memcpy(a + used, v, ln);
            used += ln;
        }
    }
    return a;
}

/* event_of with every string taken from the arena (pointer comparisons only on the pools). */
static void event_at(const struct pools *P, const struct desc *d, const char *arena, int64_t t,
                     struct fg_mev *e)
{
    event_of(P, d, t, e);
    const char *cur = arena + d->off;
    for (unsigned k = 0; k < FG_MEV_F_NSTR + e->nattrs; k++) {
        const char **v = k < FG_MEV_F_NSTR ? &e->s[k] : &e->attrs[k - FG_MEV_F_NSTR].str;
        if (*v == EMPTY)
            continue;
        *v = cur;
        cur += strlen(cur) + 1;
    }
}

static void count_firing(void *ctx, const struct fg_firing *f)
{
    (void)f;
    (*(uint64_t *)ctx)++;
}

static int bench_engine(const struct pools *P, double seconds)
{
    struct fg_buf errors;
    fg_buf_init(&errors, 1u << 20);
    struct fg_rules *rules = NULL;
    fg_rc rc = fg_rules_load_default(NULL, &rules, &errors);
    if (rc != FG_OK) {
        fprintf(stderr, "bench_monitor: the shipped pack does not load (%s):\n%.*s\n",
                fg_rc_name(rc), (int)errors.len, errors.data ? errors.data : "");
        fg_buf_release(&errors);
        return -1;
    }
    fg_buf_release(&errors);
    struct fg_engine_options eo = {.memory_budget = BENCH_ENGINE_BUDGET, .tz_offset_minutes = 480};
    struct fg_engine *eng = NULL;
    if (fg_engine_new(rules, &eo, &eng) != FG_OK) {
        fprintf(stderr, "bench_monitor: fg_engine_new failed\n");
        fg_rules_free(rules);
        return -1;
    }
    struct desc *d = malloc(sizeof *d * BENCH_DESC);
    if (d == NULL) {
        fg_engine_free(eng);
        fg_rules_free(rules);
        return -1;
    }
    descs_make(d, BENCH_DESC);
    char *arena = arena_make(P, d, BENCH_DESC);
    if (arena == NULL) {
        free(d);
        fg_engine_free(eng);
        fg_rules_free(rules);
        return -1;
    }
    uint64_t firings = 0, n = 0;
    uint64_t deadline_ns = (uint64_t)(seconds * 1e9);
    int failed = 0;
    uint64_t t0 = fg_time_mono_ns();
    struct fg_mev ev;
    for (; n < BENCH_ENGINE_EVENTS; n++) {
        event_at(P, &d[n & (BENCH_DESC - 1)], arena, BENCH_T0 + (int64_t)n * 2, &ev);
        if (fg_engine_feed(eng, &ev, count_firing, &firings) != FG_OK) {
            failed = 1;
            break;
        }
        if ((n & (CLOCK_EVERY - 1)) == 0 && n > 0 && fg_time_mono_ns() - t0 > deadline_ns)
            break;
    }
    double secs = (double)(fg_time_mono_ns() - t0) / 1e9;
    struct fg_engine_stats st;
    fg_engine_get_stats(eng, &st);
    fprintf(stderr,
            "bench_monitor: engine: %zu rules, %llu events in %.3f s = %.0f events/s; "
            "%llu matches, %llu firings (%llu suppressed), %llu evictions, %zu keys, "
            "%.1f MiB of %.1f MiB\n",
            fg_rules_count(rules), (unsigned long long)n, secs, n / secs,
            (unsigned long long)st.matches, (unsigned long long)firings,
            (unsigned long long)st.suppressed, (unsigned long long)st.evictions, st.keys,
            st.bytes_used / 1048576.0, st.bytes_budget / 1048576.0);
    if (!failed) {
        printf("BENCH monitor_engine_events_per_s %.0f events/s\n", n / secs);
        printf("BENCH monitor_engine_rules %zu rules\n", fg_rules_count(rules));
    } else {
        fprintf(stderr, "bench_monitor: fg_engine_feed failed at event %llu\n",
                (unsigned long long)n);
    }
    free(arena);
    free(d);
    fg_engine_free(eng);
    fg_rules_free(rules);
    return failed ? -1 : 0;
}

/* ---- (b) (c) the risk questions -------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void print_percentiles(const char *name, uint32_t *ns, size_t n)
{
    qsort(ns, n, sizeof *ns, cmp_u32);
    double p50 = ns[n / 2] / 1000.0, p99 = ns[n * 99 / 100] / 1000.0;
    double p999 = ns[n * 999 / 1000] / 1000.0, max = ns[n - 1] / 1000.0;
    fprintf(stderr,
            "bench_monitor: %s: %zu calls, p50 %.3f us, p99 %.3f us, p99.9 %.3f us, "
            "max %.1f us\n",
            name, n, p50, p99, p999, max);
    printf("BENCH %s_p50_us %.3f us\n", name, p50);
    printf("BENCH %s_p99_us %.3f us\n", name, p99);
    printf("BENCH %s_p999_us %.3f us\n", name, p999);
}

static void risk_feed(struct fg_risk *r, const struct pools *P, int64_t now)
{
    struct fg_mev e;
    struct desc d = {0};
    uint64_t t0 = fg_time_mono_ns();
    uint64_t fed = 0;
    for (unsigned h = 0; h < BENCH_HISTORY; h++)
        for (unsigned a = 0; a < BENCH_ACCOUNTS; a++, fed++) {
            d = (struct desc){.kind = K_TRANSFER,
                              .a = a,
                              .b = a / 2,
                              .c = (uint32_t)rnd(),
                              .amount = 100 + (int64_t)rnd_below(200000)};
            int64_t t = now - 30LL * 86400000 + (int64_t)h * 3 * 86400000 + rnd_below(86400000);
            event_of(P, &d, t, &e);
            fg_risk_observe(r, &e);
        }
    for (unsigned c = 0; c < BENCH_USERS; c += 20, fed++) { /* 5 % phone changes */
        memset(&e, 0, sizeof e);
        for (int i = 0; i < FG_MEV_F_NSTR; i++)
            e.s[i] = "";
        e.s[FG_MEV_F_NAME] = "customer.phone_changed";
        e.s[FG_MEV_F_CUSTOMER] = pool_at(&P->customers, c);
        e.time_ms = now - rnd_below(100 * 3600000);
        fg_risk_observe(r, &e);
    }
    for (unsigned i = 0; i < BENCH_IPS; i++, fed++) {
        d = (struct desc){.kind = K_LOGIN_FAILED, .a = i, .b = (uint32_t)rnd(), .c = 0};
        event_of(P, &d, now - rnd_below(1800000), &e);
        fg_risk_observe(r, &e);
    }
    double secs = (double)(fg_time_mono_ns() - t0) / 1e9;
    printf("BENCH risk_observe_per_s %.0f events/s\n", fed / secs);
    for (unsigned i = 0; i < BENCH_BLOCKS; i++) {
        fg_risk_block_ip(r, pool_at(&P->ips, i * 97), now + 900000);
        fg_risk_require_step_up(r, pool_at(&P->customers, i * 31), now + 3600000);
    }
}

/* Like the history (100..200 099 minor units), with 1 % large ones (up to 2 000 000). */
static int64_t amount_of_query(void)
{
    return rnd_below(100) == 0 ? 100 + (int64_t)rnd_below(2000000)
                               : 100 + (int64_t)rnd_below(200000);
}

static int bench_risk(const struct pools *P)
{
    struct fg_risk_options o = {
        .memory_budget = BENCH_RISK_BUDGET, .tz_offset_minutes = 480, .ncurrencies = 1};
    memcpy(o.currencies[0].code, "CNY", 4);
    o.currencies[0].session_max = 100000;
    o.currencies[0].otp_max = 500000;
    o.currencies[0].hour_sum_max = 500000;
    struct fg_risk *r = NULL;
    if (fg_risk_new(&o, &r) != FG_OK)
        return -1;
    uint32_t *ns = malloc(sizeof *ns * BENCH_ASSESS);
    if (ns == NULL) {
        fg_risk_free(r);
        return -1;
    }
    int64_t now = BENCH_T0;
    risk_feed(r, P, now);

    struct fg_risk_result res;
    for (unsigned i = 0; i < BENCH_ASSESS; i++) {
        unsigned a = rnd_below(BENCH_ACCOUNTS);
        struct fg_risk_transfer q = {.customer = pool_at(&P->customers, a / 2),
                                     .account = pool_at(&P->accounts, a),
                                     .payee = pool_at(&P->accounts, a + 1),
                                     .user = pool_at(&P->users, a / 2),
                                     .ip = pool_at(&P->ips, rnd_below(BENCH_IPS)),
                                     .device = pool_at(&P->devices, a),
                                     .currency = "CNY",
                                     .amount = amount_of_query(),
                                     .now_ms = now + i,
                                     .new_payee = rnd_below(10) == 0,
                                     .new_device = rnd_below(20) == 0};
        uint64_t t0 = fg_time_mono_ns();
        fg_risk_assess_transfer(r, &q, &res);
        ns[i] = (uint32_t)(fg_time_mono_ns() - t0);
    }
    print_percentiles("risk_assess_transfer", ns, BENCH_ASSESS);

    for (unsigned i = 0; i < BENCH_ASSESS; i++) {
        struct fg_risk_login q = {.ip = pool_at(&P->ips, rnd_below(BENCH_IPS)),
                                  .user = pool_at(&P->users, rnd_below(BENCH_USERS)),
                                  .device = pool_at(&P->devices, rnd_below(BENCH_DEVICES)),
                                  .now_ms = now + i,
                                  .new_device = rnd_below(20) == 0};
        uint64_t t0 = fg_time_mono_ns();
        fg_risk_assess_login(r, &q, &res);
        ns[i] = (uint32_t)(fg_time_mono_ns() - t0);
    }
    print_percentiles("risk_assess_login", ns, BENCH_ASSESS);

    struct fg_risk_stats st;
    fg_risk_get_stats(r, &st);
    fprintf(stderr,
            "bench_monitor: risk: %zu keys (%zu accounts, %zu subjects, %zu ips), %.1f MiB of "
            "%.1f MiB, %llu evictions, %llu dropped; transfers allow/step_up/deny %llu/%llu/%llu, "
            "logins %llu/%llu/%llu\n",
            st.keys, st.accounts, st.subjects, st.ips, st.bytes / 1048576.0, st.budget / 1048576.0,
            (unsigned long long)st.evictions, (unsigned long long)st.dropped,
            (unsigned long long)st.transfers[0], (unsigned long long)st.transfers[1],
            (unsigned long long)st.transfers[2], (unsigned long long)st.logins[0],
            (unsigned long long)st.logins[1], (unsigned long long)st.logins[2]);
    printf("BENCH risk_state_mib %.1f MiB\n", st.bytes / 1048576.0);
    free(ns);
    fg_risk_free(r);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned seconds = SECONDS_DEFAULT;
    const char *parent = "/tmp";
    if (bench_parse_args(argc, argv, &seconds, &parent) != 0) {
        fprintf(stderr, "usage: bench_monitor [--seconds N (1..%d)] [DIR]\n", BENCH_SECONDS_MAX);
        return 2;
    }
    (void)parent;
    struct pools P;
    memset(&P, 0, sizeof P);
    if (pools_make(&P) != 0) {
        fprintf(stderr, "bench_monitor: out of memory\n");
        pools_free(&P);
        return 1;
    }
    uint64_t t0 = fg_time_mono_ns();
    int bad = bench_risk(&P) != 0;
    double left = seconds - (double)(fg_time_mono_ns() - t0) / 1e9;
    bad |= bench_engine(&P, left > 1 ? left : 1) != 0;
    pools_free(&P);
    if (bad)
        fprintf(stderr, "bench_monitor: failed\n");
    return bad ? 1 : 0;
}
