/*
 * test_golden.c — the golden-case runner (monitor/golden.c; MON-2): a passing and a failing
 * case with the exact difference, an unknown rule, case-file errors with their lines,
 * coverage counts, and the shipped pack against data/rules/tests (every case passes and
 * every rule has a case that fires and one that does not).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/golden.h"

static const char rules_text[] = "- id: bf\n  title: T\n  level: high\n"
                                 "  match: {name: login.failed, where: {result: bad}}\n"
                                 "  aggregate: {function: count, by: [attrs.target], "
                                 "window_s: 600, threshold: 3}\n"
                                 "  suppress_s: 600\n"
                                 "- {id: quiet, title: T, level: low, match: {name: never}}\n";

static const char cases_text[] =
    "- rule: bf\n"
    "  case: three fire once\n"
    "  events:\n"
    "    - {t: 0, name: login.failed, ip: 203.0.113.9, result: bad, attrs: {target: u1}}\n"
    "    - {t: 30, name: login.failed, result: bad, attrs: {target: u1}}\n"
    "    - {t: 60.5, name: login.failed, result: bad, attrs: {target: u1}}\n"
    "    - {t: 90, name: login.failed, result: bad, attrs: {target: u1}}\n"
    "  expect:\n"
    "    - {key: target=u1, at: 60.5, value: 3}\n"
    "- rule: bf\n"
    "  case: wrong on purpose\n"
    "  start: 2026-03-02T10:00:00Z\n"
    "  events:\n"
    "    - {t: 0, name: login.failed, result: bad, attrs: {target: u1}}\n"
    "    - {t: 1, name: login.failed, result: bad, attrs: {target: u1}}\n"
    "    - {t: 2, name: login.failed, result: bad, attrs: {target: u1}}\n"
    "  expect: []\n"
    "- rule: nosuch\n"
    "  case: unknown rule\n"
    "  events: []\n"
    "  expect: []\n";

static struct fg_rules *rules_load(void)
{
    const char *names[] = {"r.yaml"};
    const char *texts[] = {rules_text};
    size_t lens[] = {strlen(rules_text)};
    struct fg_rules *r = NULL;
    assert_int_equal(fg_rules_load_texts(names, texts, lens, 1, &r, NULL), FG_OK);
    return r;
}

static int nres;
static char res_text[3][FG_GOLDEN_DIFF_MAX];
static int res_ok[3];

static void on_result(void *ctx, const struct fg_golden_result *r)
{
    (void)ctx;
    assert_true(nres < 3);
    res_ok[nres] = r->ok;
    snprintf(res_text[nres], sizeof res_text[nres], "%s", r->diff);
    nres++;
}

static void test_run_and_diff(void **state)
{
    (void)state;
    struct fg_rules *r = rules_load();
    const char *names[] = {"c.yaml"};
    const char *texts[] = {cases_text};
    size_t lens[] = {strlen(cases_text)};
    struct fg_buf errors = FG_BUF_INIT(1u << 16);
    struct fg_golden_set *set = NULL;
    assert_int_equal(fg_golden_load_texts(names, texts, lens, 1, &set, &errors), FG_OK);
    assert_int_equal(set->n, 3);
    assert_int_equal(set->cases[1].start_ms, 1772445600000LL);
    assert_int_equal(set->cases[0].line, 1);
    size_t failed = 0;
    nres = 0;
    assert_int_equal(fg_golden_run(r, set, 480, on_result, NULL, &failed), FG_OK);
    assert_int_equal(failed, 2);
    assert_int_equal(nres, 3);
    assert_true(res_ok[0]);
    assert_false(res_ok[1]);
    assert_string_equal(res_text[1], "expected [ ] got [ {key: \"target=u1\", at: 2, value: 3} ]");
    assert_false(res_ok[2]);
    assert_string_equal(res_text[2], "unknown rule 'nosuch'");
    struct fg_golden_cover cov[2];
    fg_golden_coverage(r, set, cov);
    assert_int_equal(cov[0].positive, 1);
    assert_int_equal(cov[0].negative, 1);
    assert_int_equal(cov[1].positive + cov[1].negative, 0);
    fg_golden_free(set);
    fg_buf_release(&errors);
    fg_rules_free(r);
}

static void test_case_file_errors(void **state)
{
    (void)state;
    const char *text = "- rule: bf\n"                                   /* 1 */
                       "  colour: red\n"                                /* 2 */
                       "  events:\n"                                    /* 3 */
                       "    - {name: login.failed}\n"                   /* 4 */
                       "    - {t: 1, name: login.failed, amount: -5}\n" /* 5 */
                       "  expect:\n"                                    /* 6 */
                       "    - {key: x}\n"                               /* 7 */
                       "- case: no rule\n"                              /* 8 */
                       "  events: []\n"
                       "  expect: []\n";
    const char *names[] = {"c.yaml"};
    size_t lens[] = {strlen(text)};
    struct fg_buf errors = FG_BUF_INIT(1u << 16);
    struct fg_golden_set *set = NULL;
    assert_int_equal(fg_golden_load_texts(names, &text, lens, 1, &set, &errors), FG_ERR_INVALID);
    assert_null(set);
    assert_string_equal(fg_buf_str(&errors),
                        "c.yaml:2: unknown key 'colour' (rule, case, start, events, expect)\n"
                        "c.yaml:4: event: 't' must be seconds after start (a number >= 0)\n"
                        "c.yaml:5: event: amount: must be an integer >= 0\n"
                        "c.yaml:7: expect: missing 'at'\n"
                        "c.yaml:8: case: missing 'rule'\n");
    fg_buf_release(&errors);
}

/* The shipped pack: every golden case passes, every rule is covered both ways. */
static void test_shipped_pack(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/data/rules/tests", fg_test_source_dir());
    struct fg_buf errors = FG_BUF_INIT(1u << 20);
    struct fg_rules *r = NULL;
    assert_int_equal(fg_rules_load_default(NULL, &r, &errors), FG_OK);
    struct fg_golden_set *set = NULL;
    fg_rc rc = fg_golden_load_dir(dir, &set, &errors);
    if (rc != FG_OK)
        fprintf(stderr, "%s", fg_buf_str(&errors));
    assert_int_equal(rc, FG_OK);
    size_t failed = 0;
    assert_int_equal(fg_golden_run(r, set, 480, NULL, NULL, &failed), FG_OK);
    assert_int_equal(failed, 0);
    size_t n = fg_rules_count(r);
    struct fg_golden_cover *cov = calloc(n, sizeof *cov);
    assert_non_null(cov);
    fg_golden_coverage(r, set, cov);
    for (size_t i = 0; i < n; i++)
        if (cov[i].positive == 0 || cov[i].negative == 0)
            fail_msg("rule %s lacks a firing or a quiet golden case", fg_rules_info(r, i)->id);
    free(cov);
    fg_golden_free(set);
    fg_rules_free(r);
    fg_buf_release(&errors);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_and_diff),
        cmocka_unit_test(test_case_file_errors),
        cmocka_unit_test(test_shipped_pack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
