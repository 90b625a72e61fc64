/*
 * End-to-end: the read-only CLI over alerts and incidents (issue #6; MON-1, INC-1, INC-3;
 * docs/cli.md "finguard alerts", "finguard incidents").
 *
 * A server runs; the security officer opens two incidents by hand over HTTP — one on time
 * (with a note and a transition to investigating), one discovered two hours ago under the
 * 1-hour profile, whose missed report deadline the deadline clock turns into an alert
 * "incident.deadline.report". Beside the running server (read-only, no lock) and again
 * after it stopped, `finguard incidents list` prints both as JSON lines (filters work),
 * `incidents export ID --format md|json` prints the report, `alerts list` prints the breach
 * alert (filters work); unknown ids fail with 1, usage errors with 2; nothing is written
 * (the audit count of incident.export is unchanged by CLI exports).
 */
#include "incident_e2e.h"

#define M_REPORT "finguard_incident_deadline_breaches_total{deadline=\"report\"}"
#define CLI_OUT_MAX (256u * 1024u)

/* Run the CLI; its stdout in a static buffer (valid until the next call). */
static int cli(struct inc_t *t, const char *args, char **out)
{
    static char buf[CLI_OUT_MAX];
    buf[0] = '\0';
    int code = bank_cli(&t->s, args, NULL, buf, sizeof buf);
    *out = buf;
    return code;
}

/* Parse JSON lines; the number of lines, each an object. objs (may be NULL) gets them
 * (caller decrefs). */
static size_t json_lines(const char *text, json_t **objs, size_t max)
{
    size_t n = 0;
    for (const char *p = text; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl); /* every line ends with "\n" */
        json_error_t err;
        json_t *o = json_loadb(p, (size_t)(nl - p), 0, &err);
        if (o == NULL)
            fail_msg("not a JSON line: %.*s (%s)", (int)(nl - p), p, err.text);
        assert_true(json_is_object(o));
        if (objs != NULL && n < max)
            objs[n] = o;
        else
            json_decref(o);
        n++;
        p = nl + 1;
    }
    return n;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    assert_non_null(v);
    return v;
}

static void check_cli(struct inc_t *t, const char *on_time, const char *late)
{
    char *out, args[256];
    json_t *o[4];

    /* incidents list: newest first, both */
    assert_int_equal(cli(t, "incidents list", &out), 0);
    assert_int_equal(json_lines(out, o, 4), 2);
    assert_string_equal(jstr(o[0], "id"), late);
    assert_string_equal(jstr(o[0], "state"), "reported");
    assert_string_equal(jstr(o[0], "profile"), "critical_infrastructure");
    assert_string_equal(jstr(o[1], "id"), on_time);
    assert_string_equal(jstr(o[1], "state"), "investigating");
    assert_string_equal(jstr(o[1], "title"), "Takeover of u1");
    json_decref(o[0]);
    json_decref(o[1]);
    assert_int_equal(cli(t, "incidents list --state investigating", &out), 0);
    assert_int_equal(json_lines(out, o, 4), 1);
    assert_string_equal(jstr(o[0], "id"), on_time);
    json_decref(o[0]);
    assert_int_equal(cli(t, "incidents list --state open --severity critical", &out), 0);
    assert_int_equal(json_lines(out, NULL, 0), 0);
    assert_int_equal(cli(t, "incidents list --limit 1", &out), 0);
    assert_int_equal(json_lines(out, NULL, 0), 1);

    /* export md: the report, with the note and the transition in the timeline */
    snprintf(args, sizeof args, "incidents export %s --format md", on_time);
    assert_int_equal(cli(t, args, &out), 0);
    assert_memory_equal(out, "# Incident report: Takeover of u1\n", 34);
    assert_non_null(strstr(out, "| State | investigating |"));
    assert_non_null(strstr(out, "| Profile | standard |"));
    assert_non_null(strstr(out, "## Deadlines"));
    assert_non_null(strstr(out, "## Timeline"));
    assert_non_null(strstr(out, "attacker used a stolen password"));
    assert_non_null(strstr(out, "investigating"));
    /* md is the default format */
    snprintf(args, sizeof args, "incidents export %s", on_time);
    assert_int_equal(cli(t, args, &out), 0);
    assert_memory_equal(out, "# Incident report: ", 19);
    /* export json: one object */
    snprintf(args, sizeof args, "incidents export --format json %s", late);
    assert_int_equal(cli(t, args, &out), 0);
    json_error_t err;
    json_t *inc = json_loads(out, 0, &err);
    assert_non_null(inc);
    assert_string_equal(jstr(inc, "id"), late);
    json_t *report = json_object_get(json_object_get(inc, "deadlines"), "report");
    assert_true(json_is_true(json_object_get(report, "breached")));
    json_decref(inc);

    /* alerts list: the one breach alert (key = the late incident); the monitor's rules may
     * have raised others while the staff was set up (priv.*), so filter by rule */
    assert_int_equal(cli(t, "alerts list --rule incident.deadline.report", &out), 0);
    assert_int_equal(json_lines(out, o, 4), 1);
    assert_string_equal(jstr(o[0], "rule"), "incident.deadline.report");
    assert_string_equal(jstr(o[0], "key"), late);
    assert_string_equal(jstr(o[0], "level"), "high");
    assert_string_equal(jstr(o[0], "state"), "open");
    assert_string_equal(jstr(o[0], "incident_id"), late);
    json_decref(o[0]);
    assert_int_equal(cli(t, "alerts list", &out), 0);
    size_t all = json_lines(out, NULL, 0);
    assert_true(all >= 1);
    assert_non_null(strstr(out, "\"rule\":\"incident.deadline.report\""));
    assert_int_equal(cli(t, "alerts list --limit 1", &out), 0);
    assert_int_equal(json_lines(out, NULL, 0), 1);
    assert_int_equal(
        cli(t, "alerts list --state open --level high --rule incident.deadline.report", &out), 0);
    assert_int_equal(json_lines(out, NULL, 0), 1);
    assert_int_equal(cli(t, "alerts list --rule incident.deadline.report --level critical", &out),
                     0);
    assert_int_equal(json_lines(out, NULL, 0), 0);
    assert_int_equal(cli(t, "alerts list --rule incident.deadline.handle", &out), 0);
    assert_int_equal(json_lines(out, NULL, 0), 0);
    assert_int_equal(cli(t, "alerts list --state resolved", &out), 0);
    assert_int_equal(json_lines(out, NULL, 0), 0);

    /* refusals: unknown incident 1; usage 2 (and nothing on stdout) */
    assert_int_equal(cli(t, "incidents export inc_AAAAAAAAAAAAAAAAAAAAAA --format md", &out), 1);
    assert_string_equal(out, "");
    assert_int_equal(cli(t, "incidents export not-an-id", &out), 1);
    assert_int_equal(cli(t, "incidents export", &out), 2);
    snprintf(args, sizeof args, "incidents export %s --format pdf", on_time);
    assert_int_equal(cli(t, args, &out), 2);
    assert_int_equal(cli(t, "incidents list --state lost", &out), 2);
    assert_int_equal(cli(t, "incidents list --limit 0", &out), 2);
    assert_int_equal(cli(t, "incidents purge", &out), 2);
    assert_int_equal(cli(t, "alerts list --state gone", &out), 2);
    assert_int_equal(cli(t, "alerts list --level severe", &out), 2);
    assert_int_equal(cli(t, "alerts list --limit", &out), 2);
    assert_int_equal(cli(t, "alerts ack", &out), 2);
    assert_int_equal(cli(t, "alerts --help", &out), 0);
    assert_non_null(strstr(out, "usage: finguard alerts list"));
    assert_int_equal(cli(t, "incidents --help", &out), 0);
    assert_non_null(strstr(out, "finguard incidents export ID"));
}

static void test_incident_cli(void **state)
{
    (void)state;
    struct inc_t *t = inc_start();
    struct fg_client_response res;
    char on_time[32], late[32], path[128];

    open_incident(t, NULL, "high", on_time);
    snprintf(path, sizeof path, "/v1/incidents/%s/notes", on_time);
    assert_int_equal(
        staff_post(officer(t), path, "{\"text\":\"attacker used a stolen password\"}", &res), 201);
    fg_client_response_release(&res);
    snprintf(path, sizeof path, "/v1/incidents/%s/transition", on_time);
    assert_int_equal(
        staff_post(officer(t), path, "{\"to\":\"investigating\",\"reason\":\"triage\"}", &res),
        200);
    fg_client_response_release(&res);

    char disc[32];
    time_t then = time(NULL) - 2 * 3600;
    strftime(disc, sizeof disc, "%Y-%m-%dT%H:%M:%SZ", gmtime(&then));
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"data_breach\",\"severity\":\"high\",\"title\":\"Leak found late\","
             "\"discovered_at\":\"%s\",\"profile\":\"critical_infrastructure\"}",
             disc);
    sleep_ms(5); /* newest first by opening time: keep the two apart */
    assert_int_equal(staff_post(officer(t), "/v1/incidents", body, &res), 201);
    snprintf(late, sizeof late, "%s", staff_str(&res, "id"));
    fg_client_response_release(&res);
    assert_int_equal(metric_wait(t, M_REPORT, 1), 1); /* the clock raised the alert */

    /* beside the running server: read-only, no lock */
    int exports = audit_count(t, "incident.export", NULL);
    check_cli(t, on_time, late);
    assert_int_equal(audit_count(t, "incident.export", NULL), exports); /* CLI writes nothing */

    /* and on the stopped instance */
    assert_int_equal(fg_test_server_stop(&t->s), 0);
    check_cli(t, on_time, late);
    inc_stop(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incident_cli),
    };
    return cmocka_run_group_tests(tests, NULL, fg_test_server_teardown);
}
