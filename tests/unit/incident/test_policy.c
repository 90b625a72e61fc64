/*
 * test_policy.c — incident/policy.c (INC-2): data/incidents.yaml is golden (both profiles,
 * exact hours, the embedded copy equals the file, the built-in policy equals it, the default
 * and archive_years come from the configuration, due times are exact hours after
 * discovery); broken texts are refused with FG_ERR_CONFIG and every error is reported as
 * "incidents.yaml:LINE: message" with its line — one error per text, and a text with
 * several errors reports each of them.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/data.h"
#include "incident/incident.h"

#define H_MS (3600LL * 1000LL)
#define T0 1772416800000LL /* 2026-03-02T02:00:00Z */

static void expect_profile(const struct fg_incident_policy *p, size_t i, const char *name,
                           int64_t report_h, int64_t handle_h, int64_t recover_h)
{
    assert_true(i < p->nprofiles);
    assert_string_equal(p->profiles[i].name, name);
    assert_int_equal(p->profiles[i].report_h, report_h);
    assert_int_equal(p->profiles[i].handle_h, handle_h);
    assert_int_equal(p->profiles[i].recover_h, recover_h);
    assert_ptr_equal(fg_incident_profile_find(p, name), &p->profiles[i]);
}

/* The golden numbers of data/incidents.yaml (a change there must change this test). */
static void expect_golden(const struct fg_incident_policy *p)
{
    assert_int_equal(p->nprofiles, 2);
    expect_profile(p, 0, "standard", 24, 48, 72);
    expect_profile(p, 1, "critical_infrastructure", 1, 48, 72);
}

static void test_golden_embedded(void **state)
{
    (void)state;
    struct fg_incident_policy p;
    struct fg_buf errors = FG_BUF_INIT(4096);
    assert_int_equal(fg_incident_policy_load(NULL, &p, &errors), FG_OK);
    assert_int_equal(errors.len, 0);
    expect_golden(&p);
    assert_int_equal(p.default_profile, 0);
    assert_int_equal(p.archive_years, 3);
    assert_null(fg_incident_profile_find(&p, "nope"));
    assert_ptr_equal(fg_incident_profile_find(&p, NULL), &p.profiles[0]);
    assert_ptr_equal(fg_incident_profile_find(&p, ""), &p.profiles[0]);

    /* the built-in policy (used when none is given) says the same */
    const struct fg_incident_policy *b = fg_incident_policy_builtin();
    expect_golden(b);
    assert_int_equal(b->default_profile, 0);
    assert_int_equal(b->archive_years, 3);

    /* the embedded copy is the file in the tree */
    const struct fg_data_file *f = fg_data_find("incidents.yaml");
    assert_non_null(f);
    char path[1024];
    snprintf(path, sizeof path, "%s/data/incidents.yaml", fg_test_source_dir());
    size_t n = 0;
    char *text = fg_test_read_file(path, &n);
    assert_non_null(text);
    assert_int_equal(n, f->len);
    assert_memory_equal(text, f->text, n);
    free(text);
    fg_buf_release(&errors);
}

/* The configuration picks the default profile and archive_years. */
static void test_golden_configured(void **state)
{
    (void)state;
    const struct fg_data_file *f = fg_data_find("incidents.yaml");
    assert_non_null(f);
    struct fg_incident_policy p;
    struct fg_buf errors = FG_BUF_INIT(4096);
    assert_int_equal(
        fg_incident_policy_parse(f->text, f->len, "critical_infrastructure", 7, &p, &errors),
        FG_OK);
    assert_int_equal(errors.len, 0);
    expect_golden(&p);
    assert_int_equal(p.default_profile, 1);
    assert_int_equal(p.archive_years, 7);
    assert_ptr_equal(fg_incident_profile_find(&p, NULL), &p.profiles[1]);

    /* due = discovery + exact hours, per profile */
    int64_t due[FG_INC_DL_COUNT_];
    fg_incident_deadlines(&p.profiles[0], T0, due);
    assert_int_equal(due[FG_INC_DL_REPORT], T0 + 24 * H_MS);
    assert_int_equal(due[FG_INC_DL_HANDLE], T0 + 48 * H_MS);
    assert_int_equal(due[FG_INC_DL_RECOVER], T0 + 72 * H_MS);
    fg_incident_deadlines(&p.profiles[1], T0, due);
    assert_int_equal(due[FG_INC_DL_REPORT], T0 + 1 * H_MS);
    assert_int_equal(due[FG_INC_DL_HANDLE], T0 + 48 * H_MS);
    assert_int_equal(due[FG_INC_DL_RECOVER], T0 + 72 * H_MS);
    fg_buf_release(&errors);
}

/* Parse text; FG_ERR_CONFIG and exactly the expected error lines (NULL-terminated). */
static void expect_errors(const char *text, const char *profile, int64_t archive_years,
                          const char *const *want)
{
    struct fg_incident_policy p;
    struct fg_buf errors = FG_BUF_INIT(64 * 1024);
    fg_rc rc = fg_incident_policy_parse(text, strlen(text), profile, archive_years, &p, &errors);
    struct fg_buf expected = FG_BUF_INIT(64 * 1024);
    for (size_t i = 0; want[i] != NULL; i++)
        assert_int_equal(fg_buf_appendf(&expected, "%s\n", want[i]), FG_OK);
    if (rc != FG_ERR_CONFIG || strcmp(errors.data ? errors.data : "", expected.data) != 0)
        fail_msg("text:\n%s\nrc %s, errors:\n%s\nexpected:\n%s", text, fg_rc_name(rc),
                 errors.data ? errors.data : "(none)", expected.data);
    /* errors may be NULL: the same verdict */
    assert_int_equal(fg_incident_policy_parse(text, strlen(text), profile, archive_years, &p, NULL),
                     FG_ERR_CONFIG);
    fg_buf_release(&errors);
    fg_buf_release(&expected);
}

#define ERRS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const char good_standard[] = "  standard:\n"
                                    "    report_h: 24\n"
                                    "    handle_h: 48\n"
                                    "    recover_h: 72\n";

/* One error per text, each on its line. */
static void test_single_errors(void **state)
{
    (void)state;
    expect_errors("rules:\n  x: 1\n", "standard", 3,
                  ERRS("incidents.yaml:1: unknown or repeated key (expected profiles)"));
    expect_errors("profiles:\n"
                  "  standard:\n"
                  "    report_h: 0\n"
                  "    handle_h: 48\n"
                  "    recover_h: 72\n",
                  "standard", 3, ERRS("incidents.yaml:3: hours must be an integer 1..8784"));
    static const char *const bad_hours[] = {
        "0", "-1", "8785", "24h", "1.5", "\"\"", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_hours / sizeof bad_hours[0]; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "profiles:\n  standard:\n    report_h: 1\n    handle_h: %s\n    recover_h: 72\n",
                 bad_hours[i]);
        expect_errors(text, "standard", 3,
                      ERRS("incidents.yaml:4: hours must be an integer 1..8784"));
    }
    expect_errors("profiles:\n"
                  "  standard:\n"
                  "    report_h: 24\n"
                  "    handle_h: 48\n"
                  "    recover_h: 72\n"
                  "    colour: 5\n",
                  "standard", 3,
                  ERRS("incidents.yaml:6: unknown field (report_h, handle_h, recover_h)"));
    expect_errors("profiles:\n"
                  "  standard:\n"
                  "    report_h: 24\n"
                  "    report_h: 25\n"
                  "    handle_h: 48\n"
                  "    recover_h: 72\n",
                  "standard", 3, ERRS("incidents.yaml:4: repeated field"));
    expect_errors("profiles:\n"
                  "  Standard:\n"
                  "    report_h: 24\n",
                  "standard", 3, ERRS("incidents.yaml:2: a profile name is 1..31 of [a-z0-9_-]"));
    char dup[512];
    snprintf(dup, sizeof dup, "profiles:\n%s%s", good_standard, good_standard);
    expect_errors(dup, "standard", 3, ERRS("incidents.yaml:6: duplicate profile"));
    expect_errors("profiles:\n"
                  "  standard:\n"
                  "    report_h: &a 24\n"
                  "    handle_h: 48\n"
                  "    recover_h: 72\n",
                  "standard", 3, ERRS("incidents.yaml:3: anchors and aliases are not allowed"));
    expect_errors("profiles:\n"
                  "  standard:\n"
                  "    report_h: [24]\n",
                  "standard", 3,
                  ERRS("incidents.yaml:3: unexpected YAML (sequences are not used here)"));
    expect_errors("profiles:\n"
                  "  standard:\n"
                  "    report_h: 24\n"
                  "    handle_h: 4: 8\n",
                  "standard", 3, ERRS("incidents.yaml:4: YAML syntax error"));
    /* whole-policy checks: reported at line 1 */
    expect_errors("profiles:\n"
                  "  standard:\n"
                  "    report_h: 50\n"
                  "    handle_h: 48\n"
                  "    recover_h: 72\n",
                  "standard", 3,
                  ERRS("incidents.yaml:1: a profile needs report_h <= handle_h <= recover_h"));
    char text[512];
    snprintf(text, sizeof text, "profiles:\n%s", good_standard);
    expect_errors(text, "critical_infrastructure", 3,
                  ERRS("incidents.yaml:1: the configured [incident] profile is not defined"));
    expect_errors(text, "standard", 0, ERRS("incidents.yaml:1: archive_years must be >= 1"));
    expect_errors("", "standard", 3, ERRS("incidents.yaml:1: no profiles"));
    expect_errors("profiles: {}\n", "standard", 3, ERRS("incidents.yaml:1: no profiles"));
    /* more than FG_INCIDENT_PROFILES_MAX profiles */
    struct fg_buf many = FG_BUF_INIT(16 * 1024);
    assert_int_equal(fg_buf_append_str(&many, "profiles:\n"), FG_OK);
    for (unsigned i = 0; i <= FG_INCIDENT_PROFILES_MAX; i++)
        assert_int_equal(
            fg_buf_appendf(&many, "  p%u: {report_h: 1, handle_h: 2, recover_h: 3}\n", i), FG_OK);
    char line[64];
    snprintf(line, sizeof line, "incidents.yaml:%u: too many profiles",
             FG_INCIDENT_PROFILES_MAX + 2);
    expect_errors(many.data, "p0", 3, ERRS(line));
    fg_buf_release(&many);
    /* over the size limit */
    char *huge = malloc(FG_INCIDENT_POLICY_BYTES_MAX + 2);
    assert_non_null(huge);
    memset(huge, '#', FG_INCIDENT_POLICY_BYTES_MAX + 1);
    huge[FG_INCIDENT_POLICY_BYTES_MAX + 1] = '\0';
    expect_errors(huge, "standard", 3, ERRS("incidents.yaml:1: file too large"));
    free(huge);
}

/* A text with several errors: every one is reported, each with its own line (incident.h:
 * "Every problem goes to errors with its line"), so an operator fixes the file in one go. */
static void test_every_error_reported(void **state)
{
    (void)state;
    expect_errors("profiles:\n"
                  "  standard:\n"
                  "    report_h: 0\n"
                  "    handle_h: 48\n"
                  "    recover_h: 72\n"
                  "    colour: red\n"
                  "  critical_infrastructure:\n"
                  "    report_h: 1\n"
                  "    handle_h: 48h\n"
                  "    recover_h: 72\n",
                  "standard", 3,
                  ERRS("incidents.yaml:3: hours must be an integer 1..8784",
                       "incidents.yaml:6: unknown field (report_h, handle_h, recover_h)",
                       "incidents.yaml:9: hours must be an integer 1..8784"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_embedded),
        cmocka_unit_test(test_golden_configured),
        cmocka_unit_test(test_single_errors),
        cmocka_unit_test(test_every_error_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
