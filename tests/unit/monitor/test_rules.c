/*
 * test_rules.c — the rule loader and linter (monitor/rules.c; MON-1, MON-2): a broken file
 * reports every error with its line (exact text), duplicates across files name both places,
 * every condition operator evaluates as docs/rules.md says, actions and defaults parse, the
 * embedded pack and a directory load.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/engine.h"

static struct fg_rules *load1(const char *text, struct fg_buf *errors, fg_rc *rc)
{
    const char *names[] = {"t.yaml"};
    const char *texts[] = {text};
    size_t lens[] = {strlen(text)};
    struct fg_rules *r = NULL;
    *rc = fg_rules_load_texts(names, texts, lens, 1, &r, errors);
    return r;
}

static struct fg_rules *must_load(const char *text)
{
    struct fg_buf errors = FG_BUF_INIT(1u << 16);
    fg_rc rc;
    struct fg_rules *r = load1(text, &errors, &rc);
    if (rc != FG_OK)
        fprintf(stderr, "errors:\n%s", fg_buf_str(&errors));
    assert_int_equal(rc, FG_OK);
    fg_buf_release(&errors);
    return r;
}

/* MON-2: every error of a broken file, with its line, in one run. */
static void test_broken_file_reports_everything(void **state)
{
    (void)state;
    const char *text = "- id: Bad Id\n"                        /* 1 */
                       "  title: t\n"                          /* 2 */
                       "  level: severe\n"                     /* 3 */
                       "  colour: red\n"                       /* 4 */
                       "  match:\n"                            /* 5 */
                       "    name: login.failed\n"              /* 6 */
                       "    where:\n"                          /* 7 */
                       "      device: {regex: '(unclosed'}\n"  /* 8 */
                       "      ip: {cidr: [10.0.0.0/33]}\n"     /* 9 */
                       "      Bad-Field: x\n"                  /* 10 */
                       "      amount: {gte: lots}\n"           /* 11 */
                       "  aggregate:\n"                        /* 12 */
                       "    function: count\n"                 /* 13 */
                       "    by: [ip]\n"                        /* 14 */
                       "    window_s: 0\n"                     /* 15 */
                       "    threshold: 0\n"                    /* 16 */
                       "  actions: [alert, launch_missiles]\n" /* 17 */
                       "- id: seq.short\n"                     /* 18 */
                       "  title: short sequence\n"             /* 19 */
                       "  level: low\n"                        /* 20 */
                       "  match: {name: a.b}\n"                /* 21 */
                       "  sequence:\n"                         /* 22 */
                       "    within_s: 60\n"                    /* 23 */
                       "    steps:\n"                          /* 24 */
                       "      - name: a.b\n"                   /* 25 */
                       "- id: seq.short\n"                     /* 26 */
                       "  title: twice\n"                      /* 27 */
                       "  level: low\n"                        /* 28 */
                       "  match: {name: x}\n";                 /* 29 */
    struct fg_buf errors = FG_BUF_INIT(1u << 16);
    fg_rc rc;
    struct fg_rules *r = load1(text, &errors, &rc);
    assert_int_equal(rc, FG_ERR_INVALID);
    assert_null(r);
    const char *want =
        "t.yaml:1: id: 'Bad Id' is not [a-z0-9_.-]{1,64}\n"
        "t.yaml:3: level: 'severe' is not low, medium, high or critical\n"
        "t.yaml:4: unknown key 'colour' (id, title, level, tags, description, match, "
        "aggregate, sequence, by, suppress_s, actions)\n"
        "t.yaml:8: device.regex: bad regex: missing closing parenthesis at offset 9\n"
        "t.yaml:9: ip.cidr: '10.0.0.0/33' is not an address or CIDR block\n"
        "t.yaml:10: where: unknown field 'Bad-Field' (a typed field, amount, hour, weekday, "
        "or attrs.<name> with a name of [a-z0-9_]{1,32})\n"
        "t.yaml:11: amount.gte: expected an integer, got 'lots'\n"
        "t.yaml:15: aggregate.window_s: 0 is out of range 1..2678400\n"
        "t.yaml:16: aggregate.threshold: 0 is out of range 1..10000\n"
        "t.yaml:17: actions: unknown action 'launch_missiles' (alert, open_incident, "
        "lock_user, block_ip, revoke_sessions, freeze_account, require_step_up)\n"
        "t.yaml:21: a rule has either 'match' or 'sequence', not both\n"
        "t.yaml:25: sequence.steps: needs 2..4 steps, got 1\n"
        "t.yaml:26: duplicate id 'seq.short' (first defined at t.yaml:18)\n";
    assert_string_equal(fg_buf_str(&errors), want);
    fg_buf_release(&errors);
}

static void test_duplicate_across_files_and_syntax(void **state)
{
    (void)state;
    const char *names[] = {"a.yaml", "b.yaml", "c.yaml"};
    const char *texts[] = {"- {id: x.one, title: T, level: low, match: {name: a}}\n",
                           "\n- {id: x.one, title: T, level: low, match: {name: a}}\n",
                           "- id: [unclosed\n"};
    size_t lens[] = {strlen(texts[0]), strlen(texts[1]), strlen(texts[2])};
    struct fg_buf errors = FG_BUF_INIT(1u << 16);
    struct fg_rules *r = NULL;
    assert_int_equal(fg_rules_load_texts(names, texts, lens, 3, &r, &errors), FG_ERR_INVALID);
    assert_null(r);
    const char *e = fg_buf_str(&errors);
    assert_non_null(strstr(e, "b.yaml:2: duplicate id 'x.one' (first defined at a.yaml:1)\n"));
    assert_non_null(strstr(e, "c.yaml:2: YAML syntax error: "));
    fg_buf_release(&errors);
}

static void test_more_errors(void **state)
{
    (void)state;
    const char *text = "- title: no id\n" /* 1 */
                       "  level: low\n"   /* 2 */
                       "  match: {name: a, where: {hour: {between: [9, 5]}, ip: {gte: 1}}}\n"
                       "- id: agg.x\n"                                              /* 4 */
                       "  title: T\n"                                               /* 5 */
                       "  level: low\n"                                             /* 6 */
                       "  match: {name: 'Bad Name', where: {x: {frobnicate: 1}}}\n" /* 7 */
                       "  aggregate: {function: median, window_s: 10, threshold: 1}\n"
                       "  actions:\n"                                  /* 9 */
                       "    - open_incident\n"                         /* 10 */
                       "    - block_ip: {duration_s: 60, colour: 1}\n" /* 11 */
                       "- id: monitor.eviction\n"                      /* 12 */
                       "  title: T\n"
                       "  level: low\n"
                       "  sequence: {within_s: 10, steps: [{name: a}, {name: b}]}\n";
    struct fg_buf errors = FG_BUF_INIT(1u << 16);
    fg_rc rc;
    struct fg_rules *r = load1(text, &errors, &rc);
    assert_int_equal(rc, FG_ERR_INVALID);
    assert_null(r);
    const char *want =
        "t.yaml:1: rule: missing 'id'\n"
        "t.yaml:3: hour.between: low 9 is above high 5\n"
        "t.yaml:3: ip.gte: 'gte' needs a numeric field (amount, hour, weekday, attrs)\n"
        "t.yaml:7: x: unknown operator 'frobnicate' (equals ne in not_in lt lte gt gte "
        "between not_between cidr not_cidr regex exists)\n"
        "t.yaml:7: name: 'Bad Name' is not an event name ([a-z0-9_.-]{1,48} or *)\n"
        "t.yaml:8: aggregate.function: unknown function 'median' (count, sum, distinct)\n"
        "t.yaml:10: open_incident: missing 'type'\n"
        "t.yaml:11: block_ip: unknown parameter 'colour'\n"
        "t.yaml:12: id: 'monitor.eviction' is reserved for the built-in rule\n";
    assert_string_equal(fg_buf_str(&errors), want);
    fg_buf_release(&errors);
}

static void test_info_and_actions(void **state)
{
    (void)state;
    struct fg_rules *r = must_load("- id: a.one\n"
                                   "  title: One\n"
                                   "  level: critical\n"
                                   "  tags: [MON-1, attack.t1110]\n"
                                   "  description: free text\n"
                                   "  match: {name: [login.failed, login.succeeded]}\n"
                                   "  by: [user]\n"
                                   "  suppress_s: 30\n"
                                   "  actions:\n"
                                   "    - alert\n"
                                   "    - lock_user: {duration_s: 1800}\n"
                                   "    - block_ip: {duration_s: 900, escalate: 2, max_s: 86400}\n"
                                   "    - revoke_sessions\n"
                                   "    - freeze_account\n"
                                   "    - require_step_up: {duration_s: 3600}\n"
                                   "    - open_incident: {type: account_takeover}\n"
                                   "- id: a.two\n"
                                   "  title: Two\n"
                                   "  level: low\n"
                                   "  match: {name: '*'}\n");
    assert_int_equal(fg_rules_count(r), 2);
    const struct fg_rule_info *i = fg_rules_info(r, 0);
    assert_string_equal(i->id, "a.one");
    assert_int_equal(i->level, FG_LEVEL_CRITICAL);
    assert_string_equal(fg_rule_level_name(i->level), "critical");
    assert_int_equal(i->ntags, 2);
    assert_string_equal(i->tags[1], "attack.t1110");
    assert_int_equal(i->suppress_s, 30);
    assert_string_equal(i->kind, "match");
    assert_string_equal(i->file, "t.yaml");
    assert_int_equal(i->line, 1);
    assert_int_equal(i->nactions, 7);
    assert_int_equal(i->actions[2].kind, FG_ACT_BLOCK_IP);
    assert_int_equal(i->actions[2].escalate, 2);
    assert_int_equal(i->actions[2].max_s, 86400);
    assert_string_equal(fg_action_name(i->actions[5].kind), "require_step_up");
    assert_string_equal(i->actions[6].param, "account_takeover");
    const struct fg_rule_info *two = fg_rules_find(r, "a.two");
    assert_non_null(two);
    assert_int_equal(two->nactions, 1); /* default [alert] */
    assert_int_equal(two->actions[0].kind, FG_ACT_ALERT);
    assert_null(fg_rules_find(r, "nope"));
    const struct fg_rule_info *ev = fg_rules_find(r, FG_RULE_EVICTION);
    assert_ptr_equal(ev, fg_engine_eviction_rule());
    assert_int_equal(ev->level, FG_LEVEL_MEDIUM);
    assert_string_equal(ev->tags[0], "MON-6");
    fg_rules_free(r);
}

/* ---- operators ---------------------------------------------------------------------- */

static int fired;
static void count_fn(void *ctx, const struct fg_firing *f)
{
    (void)ctx;
    (void)f;
    fired++;
}

static struct fg_mev base_ev(void)
{
    struct fg_mev ev;
    memset(&ev, 0, sizeof ev);
    for (int i = 0; i < (int)FG_MEV_F_NSTR; i++)
        ev.s[i] = "";
    ev.s[FG_MEV_F_NAME] = "x.y";
    ev.time_ms = 1772416800000; /* 2026-03-02T02:00:00Z = 10:00 Monday at +08:00 */
    ev.s[FG_MEV_F_IP] = "203.0.113.9";
    ev.s[FG_MEV_F_USER] = "u1";
    ev.s[FG_MEV_F_CURRENCY] = "CNY";
    ev.s[FG_MEV_F_DEVICE] = "deadbeef";
    ev.amount = 500000;
    ev.has_amount = 1;
    ev.attrs[0] = (struct fg_mev_attr){"target", "u1", 0, 0};
    ev.attrs[1] = (struct fg_mev_attr){"rows", "42", 42, 1};
    ev.attrs[2] = (struct fg_mev_attr){"new_payee", "true", 0, 0};
    ev.nattrs = 3;
    return ev;
}

/* Does `where` (a flow mapping) match the base event? */
static int where_matches(const char *where, const struct fg_mev *ev)
{
    char text[1024];
    snprintf(text, sizeof text, "- {id: op, title: T, level: low, match: {name: x.y, where: %s}}\n",
             where);
    struct fg_rules *r = must_load(text);
    struct fg_engine *e = NULL;
    struct fg_engine_options opt = {0, 480};
    assert_int_equal(fg_engine_new(r, &opt, &e), FG_OK);
    fired = 0;
    assert_int_equal(fg_engine_feed(e, ev, count_fn, NULL), FG_OK);
    fg_engine_free(e);
    fg_rules_free(r);
    return fired;
}

static void test_every_operator(void **state)
{
    (void)state;
    struct fg_mev ev = base_ev();
    struct {
        const char *where;
        int want;
    } cases[] = {
        {"{user: u1}", 1},
        {"{user: u2}", 0},
        {"{user: {equals: u1}}", 1},
        {"{user: {eq: u1}}", 1},
        {"{user: {ne: u1}}", 0},
        {"{user: {ne: u2}}", 1},
        {"{payee: {ne: x}}", 1}, /* absent: not equal */
        {"{currency: {in: [CNY, USD]}}", 1},
        {"{currency: {in: [EUR]}}", 0},
        {"{currency: {not_in: [EUR]}}", 1},
        {"{currency: {not_in: [CNY]}}", 0},
        {"{payee: {in: ['']}}", 0},
        {"{payee: {not_in: [p1]}}", 1},
        {"{amount: 500000}", 1},
        {"{amount: {lt: 500000}}", 0},
        {"{amount: {lte: 500000}}", 1},
        {"{amount: {gt: 499999}}", 1},
        {"{amount: {gt: 500000}}", 0},
        {"{amount: {gte: 500000}}", 1},
        {"{amount: {between: [1, 500000]}}", 1},
        {"{amount: {between: [500001, 600000]}}", 0},
        {"{amount: {not_between: [1, 10]}}", 1},
        {"{amount: {not_between: [1, 500000]}}", 0},
        {"{amount: {gte: 1, lt: 600000}}", 1},
        {"{rows: {gte: 42}}", 1},
        {"{attrs.rows: {gt: 42}}", 0},
        {"{target: {gte: 1}}", 0}, /* not numeric */
        {"{missing: {lt: 1}}", 0},
        {"{hour: 10}", 1},
        {"{hour: {not_between: [8, 19]}}", 0},
        {"{weekday: 1}", 1},
        {"{weekday: {gte: 6}}", 0},
        {"{ip: {cidr: [203.0.113.0/24]}}", 1},
        {"{ip: {cidr: 10.0.0.0/8}}", 0},
        {"{ip: {not_cidr: [10.0.0.0/8, 127.0.0.0/8]}}", 1},
        {"{ip: {not_cidr: ['::/0', 203.0.113.9]}}", 0},
        {"{ip: {cidr: ['2001:db8::/32']}}", 0},
        {"{device: {cidr: [10.0.0.0/8]}}", 0},     /* not an address */
        {"{device: {not_cidr: [10.0.0.0/8]}}", 0}, /* not an address: no match either */
        {"{device: {regex: '^[a-f0-9]{8}$'}}", 1},
        {"{device: {regex: '^[0-9]+$'}}", 0},
        {"{payee: {regex: '.*'}}", 0}, /* absent */
        {"{target: {exists: true}}", 1},
        {"{attrs.nope: {exists: true}}", 0},
        {"{attrs.nope: {exists: false}}", 1},
        {"{new_payee: true}", 1},
        {"{attrs.new_payee: 'false'}", 0},
        {"{name: x.y, user: u1, target: u1}", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = where_matches(cases[i].where, &ev);
        if (got != cases[i].want)
            fail_msg("where %s: got %d, want %d", cases[i].where, got, cases[i].want);
    }
}

static void test_regex_match_limit(void **state)
{
    (void)state;
    struct fg_mev ev = base_ev();
    ev.s[FG_MEV_F_DEVICE] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab";
    struct fg_rules *r = must_load("- {id: re, title: T, level: low, match: {name: x.y, where: "
                                   "{device: {regex: '^(a|a?)+$'}}}}\n");
    struct fg_engine *e = NULL;
    assert_int_equal(fg_engine_new(r, NULL, &e), FG_OK);
    fired = 0;
    assert_int_equal(fg_engine_feed(e, &ev, count_fn, NULL), FG_OK);
    assert_int_equal(fired, 0);
    struct fg_engine_stats st;
    fg_engine_get_stats(e, &st);
    assert_int_equal(st.regex_limit_hits, 1);
    fg_engine_free(e);
    fg_rules_free(r);
}

static void test_embedded_and_dir(void **state)
{
    (void)state;
    struct fg_buf errors = FG_BUF_INIT(1u << 20);
    struct fg_rules *r = NULL;
    fg_rc rc = fg_rules_load_default(NULL, &r, &errors);
    if (rc != FG_OK)
        fprintf(stderr, "embedded pack:\n%s", fg_buf_str(&errors));
    assert_int_equal(rc, FG_OK); /* the shipped pack always lints clean */
    fg_rules_free(r);
    fg_buf_reset(&errors);
    char dir[256], path[512];
    fg_test_tmpdir("rules", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/b.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("- {id: b.one, title: T, level: low, match: {name: a}}\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/a.yaml", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("id: a.one\ntitle: T\nlevel: low\nmatch: {name: a}\n", f); /* one mapping */
    fclose(f);
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("not yaml: [", f);
    fclose(f);
    assert_int_equal(fg_rules_load_default(dir, &r, &errors), FG_OK);
    assert_int_equal(fg_rules_count(r), 2);
    assert_string_equal(fg_rules_info(r, 0)->id, "a.one"); /* sorted by file name */
    fg_rules_free(r);
    const char *missing[] = {"/nonexistent/x.yaml"};
    assert_int_equal(fg_rules_load_files(missing, 1, &r, &errors), FG_ERR_IO);
    assert_null(r);
    fg_buf_release(&errors);
    fg_test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broken_file_reports_everything),
        cmocka_unit_test(test_duplicate_across_files_and_syntax),
        cmocka_unit_test(test_more_errors),
        cmocka_unit_test(test_info_and_actions),
        cmocka_unit_test(test_every_operator),
        cmocka_unit_test(test_regex_match_limit),
        cmocka_unit_test(test_embedded_and_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
