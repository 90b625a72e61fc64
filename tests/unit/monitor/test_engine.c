/*
 * test_engine.c — the rule engine (monitor/engine.c; MON-1, MON-3, MON-6, AUTH-7): count,
 * sum and distinct windows at their boundaries (events exactly window_s apart count
 * together, one millisecond more does not), keys over several fields, empty group fields,
 * suppression, a sequence that fires for A→B within the window and not outside it nor for
 * B→A, the name index with "*" rules in rule order, and eviction under a tiny budget — counted
 * and reported as FG_RULE_EVICTION at most once per rule per minute — while stale keys are
 * reclaimed silently.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "monitor/engine.h"

#define T0 1772416800000LL /* 2026-03-02T02:00:00Z */
#define REC_MAX 256

struct rec {
    char rule[FG_RULE_ID_MAX + 1];
    char key[FG_RULE_KEY_MAX + 1];
    int64_t at_ms, value, threshold, first_seq;
};

static struct rec recs[REC_MAX];
static int nrecs;

static void record(void *ctx, const struct fg_firing *f)
{
    (void)ctx;
    assert_true(nrecs < REC_MAX);
    struct rec *r = &recs[nrecs++];
    snprintf(r->rule, sizeof r->rule, "%s", f->rule->id);
    snprintf(r->key, sizeof r->key, "%s", f->key);
    r->at_ms = f->time_ms - T0;
    r->value = f->value;
    r->threshold = f->threshold;
    r->first_seq = f->first_seq;
}

static struct fg_rules *load(const char *text)
{
    const char *names[] = {"t.yaml"};
    const char *texts[] = {text};
    size_t lens[] = {strlen(text)};
    struct fg_buf errors = FG_BUF_INIT(1u << 16);
    struct fg_rules *r = NULL;
    fg_rc rc = fg_rules_load_texts(names, texts, lens, 1, &r, &errors);
    if (rc != FG_OK)
        fprintf(stderr, "%s", fg_buf_str(&errors));
    assert_int_equal(rc, FG_OK);
    fg_buf_release(&errors);
    return r;
}

static struct fg_engine *engine(const struct fg_rules *r, size_t budget)
{
    struct fg_engine_options opt = {budget, 480};
    struct fg_engine *e = NULL;
    assert_int_equal(fg_engine_new(r, &opt, &e), FG_OK);
    nrecs = 0;
    return e;
}

static int64_t seq_no;

/* Feed one event: name, ms after T0, ip, target attr (or NULL), amount (< 0: none). */
static void feed(struct fg_engine *e, const char *name, int64_t at_ms, const char *ip,
                 const char *target, int64_t amount)
{
    struct fg_mev ev;
    memset(&ev, 0, sizeof ev);
    for (int i = 0; i < (int)FG_MEV_F_NSTR; i++)
        ev.s[i] = "";
    ev.s[FG_MEV_F_NAME] = name;
    ev.s[FG_MEV_F_IP] = ip != NULL ? ip : "";
    ev.time_ms = T0 + at_ms;
    ev.seq = ++seq_no;
    if (target != NULL) {
        ev.attrs[0] = (struct fg_mev_attr){"target", target, 0, 0};
        ev.nattrs = 1;
    }
    if (amount >= 0) {
        ev.amount = amount;
        ev.has_amount = 1;
    }
    assert_int_equal(fg_engine_feed(e, &ev, record, NULL), FG_OK);
}

static void test_count_window_boundary(void **state)
{
    (void)state;
    struct fg_rules *r = load("- id: c\n  title: T\n  level: low\n"
                              "  match: {name: login.failed}\n"
                              "  aggregate: {function: count, by: [ip], window_s: 10, "
                              "threshold: 3}\n");
    struct fg_engine *e = engine(r, 0);
    feed(e, "login.failed", 0, "1.1.1.1", NULL, -1);
    feed(e, "login.failed", 5000, "1.1.1.1", NULL, -1);
    feed(e, "login.failed", 10000, "1.1.1.1", NULL, -1); /* exactly window_s after the first */
    assert_int_equal(nrecs, 1);
    assert_string_equal(recs[0].key, "ip=1.1.1.1");
    assert_int_equal(recs[0].at_ms, 10000);
    assert_int_equal(recs[0].value, 3);
    assert_int_equal(recs[0].threshold, 3);
    assert_int_equal(recs[0].first_seq, seq_no - 2);
    feed(e, "login.failed", 0, "2.2.2.2", NULL, -1);
    feed(e, "login.failed", 5000, "2.2.2.2", NULL, -1);
    feed(e, "login.failed", 10001, "2.2.2.2", NULL, -1); /* one ms too late */
    assert_int_equal(nrecs, 1);
    feed(e, "login.failed", 10002, "2.2.2.2", NULL, -1); /* 5000, 10001, 10002 */
    assert_int_equal(nrecs, 2);
    assert_string_equal(recs[1].key, "ip=2.2.2.2");
    /* suppress_s 0: fires again on each event while the count stays at the threshold */
    feed(e, "login.failed", 10003, "2.2.2.2", NULL, -1);
    assert_int_equal(nrecs, 3);
    feed(e, "login.succeeded", 10004, "2.2.2.2", NULL, -1); /* another name */
    feed(e, "login.failed", 10005, NULL, NULL, -1);         /* no ip: no key "ip=" */
    assert_int_equal(nrecs, 3);
    struct fg_engine_stats st;
    fg_engine_get_stats(e, &st);
    assert_int_equal(st.events, 10);
    assert_int_equal(st.firings, 3);
    assert_int_equal(st.keys, 2);
    assert_int_equal(fg_engine_rule_firings(e, 0), 3);
    fg_engine_free(e);
    fg_rules_free(r);
}

static void test_sum_window_boundary(void **state)
{
    (void)state;
    struct fg_rules *r = load("- id: s\n  title: T\n  level: low\n"
                              "  match: {name: transfer.committed}\n"
                              "  aggregate: {function: sum, field: amount, by: [ip], "
                              "window_s: 10, threshold: 100}\n");
    struct fg_engine *e = engine(r, 0);
    feed(e, "transfer.committed", 0, "1.1.1.1", NULL, 50);
    feed(e, "transfer.committed", 10000, "1.1.1.1", NULL, 50);
    assert_int_equal(nrecs, 1);
    assert_int_equal(recs[0].value, 100);
    feed(e, "transfer.committed", 0, "2.2.2.2", NULL, 50);
    feed(e, "transfer.committed", 10001, "2.2.2.2", NULL, 50);
    feed(e, "transfer.committed", 10002, "2.2.2.2", NULL, -1); /* no amount: not counted */
    assert_int_equal(nrecs, 1);
    /* more items than FG_ENGINE_SUM_ITEMS in one window: folded, never lost */
    for (int i = 0; i < 200; i++)
        feed(e, "transfer.committed", 20000 + i, "3.3.3.3", NULL, 1);
    assert_int_equal(nrecs, 1 + 101);
    assert_int_equal(recs[nrecs - 1].value, 200);
    fg_engine_free(e);
    fg_rules_free(r);
}

static void test_distinct_window_boundary(void **state)
{
    (void)state;
    struct fg_rules *r = load("- id: d\n  title: T\n  level: low\n"
                              "  match: {name: login.failed}\n"
                              "  aggregate: {function: distinct, field: attrs.target, by: [ip], "
                              "window_s: 10, threshold: 3}\n"
                              "  suppress_s: 60\n");
    struct fg_engine *e = engine(r, 0);
    feed(e, "login.failed", 0, "1.1.1.1", "u1", -1);
    feed(e, "login.failed", 1000, "1.1.1.1", "u1", -1);
    feed(e, "login.failed", 2000, "1.1.1.1", "u2", -1);
    feed(e, "login.failed", 3000, "1.1.1.1", NULL, -1); /* no target: not counted */
    assert_int_equal(nrecs, 0);
    feed(e, "login.failed", 10000, "1.1.1.1", "u3", -1); /* u1 last seen at 1000 */
    assert_int_equal(nrecs, 1);
    assert_int_equal(recs[0].value, 3);
    feed(e, "login.failed", 10500, "1.1.1.1", "u4", -1); /* suppressed for 60 s */
    assert_int_equal(nrecs, 1);
    feed(e, "login.failed", 0, "2.2.2.2", "u1", -1);
    feed(e, "login.failed", 5000, "2.2.2.2", "u2", -1);
    feed(e, "login.failed", 10001, "2.2.2.2", "u3", -1); /* u1 fell out */
    assert_int_equal(nrecs, 1);
    feed(e, "login.failed", 10002, "2.2.2.2", "u1", -1);
    assert_int_equal(nrecs, 2);
    struct fg_engine_stats st;
    fg_engine_get_stats(e, &st);
    assert_int_equal(st.suppressed, 1);
    fg_engine_free(e);
    fg_rules_free(r);
}

static void test_group_by_fields_and_suppress(void **state)
{
    (void)state;
    struct fg_rules *r = load("- id: g\n  title: T\n  level: low\n"
                              "  match: {name: login.failed}\n"
                              "  aggregate: {function: count, by: [ip, attrs.target], "
                              "window_s: 600, threshold: 2}\n"
                              "  suppress_s: 60\n"
                              "- id: m\n  title: T\n  level: low\n"
                              "  match: {name: login.failed}\n"
                              "  by: [target]\n"
                              "  suppress_s: 60\n");
    struct fg_engine *e = engine(r, 0);
    feed(e, "login.failed", 0, "1.1.1.1", "u1", -1);
    feed(e, "login.failed", 1000, "1.1.1.1", "u2", -1);
    /* m fired for u1 and u2; g has one failure per (ip, target) */
    assert_int_equal(nrecs, 2);
    assert_string_equal(recs[0].rule, "m");
    assert_string_equal(recs[0].key, "target=u1");
    assert_string_equal(recs[1].key, "target=u2");
    feed(e, "login.failed", 2000, "1.1.1.1", "u1", -1);
    assert_int_equal(nrecs, 3);
    assert_string_equal(recs[2].rule, "g");
    assert_string_equal(recs[2].key, "ip=1.1.1.1,target=u1");
    feed(e, "login.failed", 59999, "1.1.1.1", "u1", -1); /* both quiet for 60 s */
    assert_int_equal(nrecs, 3);
    feed(e, "login.failed", 60000, "1.1.1.1", "u1", -1); /* m: 60 s after its firing at 0 */
    assert_int_equal(nrecs, 4);
    assert_string_equal(recs[3].rule, "m");
    feed(e, "login.failed", 62000, "1.1.1.1", "u1", -1); /* g: 60 s after 2000 */
    assert_int_equal(nrecs, 5);
    assert_string_equal(recs[4].rule, "g");
    assert_int_equal(recs[4].value, 2); /* a count reports at most its threshold */
    fg_engine_free(e);
    fg_rules_free(r);
}

static const char seq_rule[] = "- id: ato\n  title: T\n  level: critical\n"
                               "  sequence:\n"
                               "    by: [ip]\n"
                               "    within_s: 100\n"
                               "    steps:\n"
                               "      - name: customer.phone_changed\n"
                               "      - name: [transfer.committed, transfer.pending]\n"
                               "        where: {amount: {gte: 500}}\n";

static void test_sequence(void **state)
{
    (void)state;
    struct fg_rules *r = load(seq_rule);
    struct fg_engine *e = engine(r, 0);
    /* A then B within the window: fires once, then restarts */
    feed(e, "customer.phone_changed", 0, "1.1.1.1", NULL, -1);
    int64_t a_seq = seq_no;
    feed(e, "transfer.committed", 50000, "1.1.1.1", NULL, 100); /* B's condition fails */
    assert_int_equal(nrecs, 0);
    feed(e, "transfer.pending", 100000, "1.1.1.1", NULL, 500); /* exactly within_s */
    assert_int_equal(nrecs, 1);
    assert_string_equal(recs[0].key, "ip=1.1.1.1");
    assert_int_equal(recs[0].value, 2);
    assert_int_equal(recs[0].threshold, 2);
    assert_int_equal(recs[0].first_seq, a_seq);
    feed(e, "transfer.committed", 100500, "1.1.1.1", NULL, 900); /* restarted: no A */
    assert_int_equal(nrecs, 1);
    /* A then B outside the window: nothing */
    feed(e, "customer.phone_changed", 0, "2.2.2.2", NULL, -1);
    feed(e, "transfer.committed", 100001, "2.2.2.2", NULL, 900);
    assert_int_equal(nrecs, 1);
    /* B then A: nothing */
    feed(e, "transfer.committed", 0, "3.3.3.3", NULL, 900);
    feed(e, "customer.phone_changed", 1000, "3.3.3.3", NULL, -1);
    assert_int_equal(nrecs, 1);
    /* ... but a B after that A does */
    feed(e, "transfer.committed", 2000, "3.3.3.3", NULL, 900);
    assert_int_equal(nrecs, 2);
    /* A, A again later, then B within the window of the second A */
    feed(e, "customer.phone_changed", 0, "4.4.4.4", NULL, -1);
    feed(e, "customer.phone_changed", 90000, "4.4.4.4", NULL, -1);
    feed(e, "transfer.committed", 150000, "4.4.4.4", NULL, 900);
    assert_int_equal(nrecs, 3);
    assert_string_equal(recs[2].key, "ip=4.4.4.4");
    fg_engine_free(e);
    fg_rules_free(r);
}

static void test_name_index_and_star(void **state)
{
    (void)state;
    struct fg_rules *r = load("- {id: any, title: T, level: low, match: {name: '*'}}\n"
                              "- {id: one, title: T, level: low, match: {name: [a.b, c.d]}}\n"
                              "- {id: two, title: T, level: low, match: {name: c.d}}\n"
                              "- id: anyip\n  title: T\n  level: low\n"
                              "  match: {name: ['*'], where: {ip: {cidr: [10.0.0.0/8]}}}\n");
    struct fg_engine *e = engine(r, 0);
    feed(e, "c.d", 0, "10.1.1.1", NULL, -1);
    assert_int_equal(nrecs, 4);
    assert_string_equal(recs[0].rule, "any");
    assert_string_equal(recs[1].rule, "one");
    assert_string_equal(recs[2].rule, "two");
    assert_string_equal(recs[3].rule, "anyip");
    assert_string_equal(recs[0].key, "");
    feed(e, "zz.unknown", 1, "192.0.2.1", NULL, -1);
    assert_int_equal(nrecs, 5);
    assert_string_equal(recs[4].rule, "any");
    feed(e, "a.b", 2, "192.0.2.1", NULL, -1);
    assert_int_equal(nrecs, 7);
    assert_string_equal(recs[6].rule, "one");
    struct fg_engine_stats st;
    fg_engine_get_stats(e, &st);
    assert_int_equal(st.keys, 0); /* plain matches without suppression keep no state */
    fg_engine_free(e);
    fg_rules_free(r);
}

static void test_eviction_tiny_budget(void **state)
{
    (void)state;
    struct fg_rules *r = load("- id: byip\n  title: T\n  level: low\n"
                              "  match: {name: login.failed}\n"
                              "  aggregate: {function: count, by: [ip], window_s: 600, "
                              "threshold: 5}\n");
    const size_t budget = 16u * 1024u;
    struct fg_engine *e = engine(r, budget);
    char ip[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(ip, sizeof ip, "10.0.%d.%d", i / 256, i % 256);
        feed(e, "login.failed", i, ip, NULL, -1); /* all within one second */
    }
    struct fg_engine_stats st;
    fg_engine_get_stats(e, &st);
    assert_true(st.evictions > 0);
    assert_int_equal(fg_engine_rule_evictions(e, 0), st.evictions);
    assert_true(st.bytes_used <= budget);
    assert_int_equal(st.bytes_budget, budget);
    assert_true(st.keys > 0 && st.keys < 1000);
    /* reported once per rule per minute of event time, never silent */
    assert_int_equal(nrecs, 1);
    assert_string_equal(recs[0].rule, FG_RULE_EVICTION);
    assert_string_equal(recs[0].key, "byip");
    assert_int_equal(recs[0].value, 1);
    for (int i = 0; i < 100; i++) {
        snprintf(ip, sizeof ip, "10.1.%d.%d", i / 256, i % 256);
        feed(e, "login.failed", 60000 + i, ip, NULL, -1);
    }
    assert_int_equal(nrecs, 2);
    assert_string_equal(recs[1].rule, FG_RULE_EVICTION);
    assert_true(recs[1].value > (int64_t)st.evictions);
    fg_engine_free(e);
    fg_rules_free(r);
}

static void test_stale_keys_reclaimed_silently(void **state)
{
    (void)state;
    struct fg_rules *r = load("- id: byip\n  title: T\n  level: low\n"
                              "  match: {name: login.failed}\n"
                              "  aggregate: {function: count, by: [ip], window_s: 1, "
                              "threshold: 5}\n");
    struct fg_engine *e = engine(r, 16u * 1024u);
    char ip[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(ip, sizeof ip, "10.0.%d.%d", i / 256, i % 256);
        feed(e, "login.failed", (int64_t)i * 2000, ip, NULL, -1); /* each window closed */
    }
    struct fg_engine_stats st;
    fg_engine_get_stats(e, &st);
    assert_int_equal(st.evictions, 0);
    assert_int_equal(nrecs, 0);
    assert_true(st.bytes_used <= 16u * 1024u);
    fg_engine_free(e);
    fg_rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_window_boundary),
        cmocka_unit_test(test_sum_window_boundary),
        cmocka_unit_test(test_distinct_window_boundary),
        cmocka_unit_test(test_group_by_fields_and_suppress),
        cmocka_unit_test(test_sequence),
        cmocka_unit_test(test_name_index_and_star),
        cmocka_unit_test(test_eviction_tiny_budget),
        cmocka_unit_test(test_stale_keys_reclaimed_silently),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
