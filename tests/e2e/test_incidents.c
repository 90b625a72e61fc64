/*
 * End-to-end: incidents (issue #6; REQUIREMENTS INC-1..5; docs/incidents.md).
 *
 *   lifecycle  the officer opens an incident by hand, walks it reported → investigating →
 *              contained → recovered → closed with notes, evidence and a review; an invalid
 *              transition is 409 naming from and to; closing without a review is 409; a
 *              review before recovery is 409; malformed evidence is 422; the auditor reads
 *              but cannot write; every change is audited (exact counts by action and result);
 *              the export comes as Markdown and as JSON, and is itself audited.
 *   clocks     the injectable clock (POST /v1/diag/clock) is moved past 1 h, 24 h, 48 h and
 *              72 h after discovery: the deadline clock marks EXACTLY one breach per missed
 *              deadline — the 1-hour report deadline of a critical_infrastructure incident,
 *              none for a report that was on time, handle and recover for both — each with
 *              one alert "incident.deadline.<d>" (critical for a critical incident), shown in
 *              /metrics, in the incident's deadlines and timeline, and in the audit log; an
 *              incident contained in time has no handle breach.
 */
#include "incident_e2e.h"

static void test_lifecycle(void **state)
{
    (void)state;
    struct inc_t *t = inc_start();
    struct fg_client_response res;
    char id[32], path[128];
    open_incident(t, NULL, "high", id);

    snprintf(path, sizeof path, "/v1/incidents/%s", id);
    assert_int_equal(staff_get(auditor(t), path, &res), 200);
    assert_string_equal(staff_str(&res, "profile"), "standard");
    json_t *dl = json_object_get(json_object_get(res.json, "deadlines"), "report");
    assert_string_equal(json_string_value(json_object_get(dl, "status")), "met");
    fg_client_response_release(&res);

    /* the auditor reads, never writes */
    snprintf(path, sizeof path, "/v1/incidents/%s/notes", id);
    assert_int_equal(staff_post(auditor(t), path, "{\"text\":\"x\"}", &res), 403);
    fg_client_response_release(&res);

    snprintf(path, sizeof path, "/v1/incidents/%s/transition", id);
    assert_int_equal(staff_post(officer(t), path, "{\"to\":\"contained\"}", &res), 409);
    assert_string_equal(res.error_code, "conflict");
    assert_non_null(strstr(res.error_message, "reported -> contained"));
    fg_client_response_release(&res);
    assert_int_equal(
        staff_post(officer(t), path, "{\"to\":\"investigating\",\"reason\":\"triage\"}", &res),
        200);
    assert_string_equal(staff_str(&res, "state"), "investigating");
    fg_client_response_release(&res);
    assert_int_equal(staff_post(officer(t), path, "{\"to\":\"sideways\"}", &res), 400);
    fg_client_response_release(&res);

    snprintf(path, sizeof path, "/v1/incidents/%s/notes", id);
    assert_int_equal(staff_post(officer(t), path, "{\"text\":\"called the customer\"}", &res), 201);
    fg_client_response_release(&res);
    snprintf(path, sizeof path, "/v1/incidents/%s/evidence", id);
    assert_int_equal(staff_post(officer(t), path,
                                "{\"kind\":\"audit_range\",\"from\":\"1\",\"to\":\"5\","
                                "\"note\":\"the logins\"}",
                                &res),
                     201);
    assert_int_equal(json_array_size(json_object_get(res.json, "evidence")), 1);
    fg_client_response_release(&res);
    assert_int_equal(staff_post(officer(t), path, "{\"kind\":\"photo\",\"from\":\"1\"}", &res),
                     422);
    fg_client_response_release(&res);

    snprintf(path, sizeof path, "/v1/incidents/%s/transition", id);
    assert_int_equal(staff_post(officer(t), path, "{\"to\":\"contained\"}", &res), 200);
    fg_client_response_release(&res);
    static const char review[] =
        "{\"root_cause\":\"reused password\",\"improvements\":[{\"title\":\"Enforce MFA\","
        "\"owner\":\"security\",\"due\":\"2026-06-30\"}]}";
    char rpath[128];
    snprintf(rpath, sizeof rpath, "/v1/incidents/%s/review", id);
    assert_int_equal(staff_post(officer(t), rpath, review, &res), 409); /* not recovered yet */
    fg_client_response_release(&res);
    assert_int_equal(staff_post(officer(t), path, "{\"to\":\"recovered\"}", &res), 200);
    fg_client_response_release(&res);
    assert_int_equal(staff_post(officer(t), path, "{\"to\":\"closed\"}", &res), 409);
    assert_non_null(strstr(res.error_message, "review"));
    fg_client_response_release(&res);
    assert_int_equal(staff_post(officer(t), rpath, review, &res), 200);
    fg_client_response_release(&res);
    assert_int_equal(staff_post(officer(t), path, "{\"to\":\"closed\"}", &res), 200);
    assert_string_equal(staff_str(&res, "state"), "closed");
    assert_true(json_is_string(json_object_get(res.json, "retain_until")));
    fg_client_response_release(&res);

    /* the list, filtered */
    assert_int_equal(staff_get(officer(t), "/v1/incidents?state=closed", &res), 200);
    assert_int_equal(json_array_size(json_object_get(res.json, "incidents")), 1);
    fg_client_response_release(&res);
    assert_int_equal(staff_get(officer(t), "/v1/incidents?state=open", &res), 200);
    assert_int_equal(json_array_size(json_object_get(res.json, "incidents")), 0);
    fg_client_response_release(&res);
    assert_int_equal(staff_get(officer(t), "/v1/incidents?severity=urgent", &res), 400);
    fg_client_response_release(&res);
    assert_int_equal(staff_get(officer(t), "/v1/incidents/inc_AAAAAAAAAAAAAAAAAAAAAA", &res), 404);
    fg_client_response_release(&res);

    /* the report */
    snprintf(path, sizeof path, "/v1/incidents/%s/export?format=md", id);
    assert_int_equal(staff_get(auditor(t), path, &res), 200);
    assert_non_null(strstr(res.body, "# Incident report: Takeover of u1"));
    assert_non_null(strstr(res.body, "| report | "));
    assert_non_null(strstr(res.body, "Root cause: reused password"));
    assert_non_null(strstr(res.body, "| Enforce MFA | security | 2026-06-30 |"));
    fg_client_response_release(&res);
    snprintf(path, sizeof path, "/v1/incidents/%s/export?format=json", id);
    assert_int_equal(staff_get(auditor(t), path, &res), 200);
    assert_string_equal(staff_str(&res, "id"), id);
    assert_true(json_array_size(json_object_get(res.json, "timeline")) >= 7);
    fg_client_response_release(&res);
    snprintf(path, sizeof path, "/v1/incidents/%s/export?format=pdf", id);
    assert_int_equal(staff_get(auditor(t), path, &res), 400);
    fg_client_response_release(&res);

    /* audited: 4 transitions done, 2 refused (a skip, a close without review) */
    assert_int_equal(audit_count(t, "incident.open", "ok"), 1);
    assert_int_equal(audit_count(t, "incident.transition", "ok"), 4);
    assert_int_equal(audit_count(t, "incident.transition", "error"), 2);
    assert_int_equal(audit_count(t, "incident.note", "ok"), 1);
    assert_int_equal(audit_count(t, "incident.evidence", "ok"), 1);
    assert_int_equal(audit_count(t, "incident.evidence", "error"), 1);
    assert_int_equal(audit_count(t, "incident.review", "ok"), 1);
    assert_int_equal(audit_count(t, "incident.review", "error"), 1);
    assert_int_equal(audit_count(t, "incident.export", "ok"), 2);
    inc_stop(t);
}

/* The alerts of one deadline rule for one incident: their count and the first one's level. */
static int deadline_alerts(struct inc_t *t, const char *deadline, const char *id, char *level)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/alerts?rule=incident.deadline.%s&limit=200", deadline);
    struct fg_client_response res;
    assert_int_equal(staff_get(officer(t), path, &res), 200);
    int n = 0;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(res.json, "alerts"), i, a)
    {
        if (strcmp(json_string_value(json_object_get(a, "key")), id) != 0)
            continue;
        n++;
        assert_int_equal(json_integer_value(json_object_get(a, "count")), 1);
        assert_string_equal(json_string_value(json_object_get(a, "incident_id")), id);
        if (level)
            snprintf(level, 16, "%s", json_string_value(json_object_get(a, "level")));
    }
    fg_client_response_release(&res);
    return n;
}

#define M_REPORT "finguard_incident_deadline_breaches_total{deadline=\"report\"}"
#define M_HANDLE "finguard_incident_deadline_breaches_total{deadline=\"handle\"}"
#define M_RECOVER "finguard_incident_deadline_breaches_total{deadline=\"recover\"}"

static void test_clocks(void **state)
{
    (void)state;
    struct inc_t *t = inc_start();
    char std[32], cii[32], fast[32], level[16];
    open_incident(t, NULL, "high", std);                          /* 24 / 48 / 72 h */
    open_incident(t, "critical_infrastructure", "critical", cii); /* 1 / 48 / 72 h */
    open_incident(t, NULL, "medium", fast);                       /* contained in time */
    char path[128];
    struct fg_client_response res;
    snprintf(path, sizeof path, "/v1/incidents/%s/transition", fast);
    assert_int_equal(staff_post(officer(t), path, "{\"to\":\"investigating\"}", &res), 200);
    fg_client_response_release(&res);
    assert_int_equal(staff_post(officer(t), path, "{\"to\":\"contained\"}", &res), 200);
    fg_client_response_release(&res);
    assert_int_equal(metric(t, M_REPORT), 0);

    /* the 1-hour profile: every incident here was reported at once, so no report breach */
    clock_at(t, 1 * HOUR_S + 60);
    sleep_ms(2500);
    assert_int_equal(metric(t, M_REPORT), 0);
    /* 48 h: handle missed by std and cii, not by fast (contained in time) */
    clock_at(t, 48 * HOUR_S + 60);
    assert_int_equal(metric_wait(t, M_HANDLE, 2), 2);
    /* 72 h: recover missed by all three */
    clock_at(t, 72 * HOUR_S + 60);
    assert_int_equal(metric_wait(t, M_RECOVER, 3), 3);
    /* exactly once: more ticks change nothing */
    clock_at(t, 80 * HOUR_S);
    sleep_ms(2500);
    assert_int_equal(metric(t, M_REPORT), 0);
    assert_int_equal(metric(t, M_HANDLE), 2);
    assert_int_equal(metric(t, M_RECOVER), 3);
    assert_true(metric(t, "finguard_incidents{state=\"reported\"}") == 2);
    clock_at(t, 0);

    assert_int_equal(deadline_alerts(t, "handle", std, level), 1);
    assert_string_equal(level, "high");
    assert_int_equal(deadline_alerts(t, "handle", cii, level), 1);
    assert_string_equal(level, "critical");
    assert_int_equal(deadline_alerts(t, "handle", fast, NULL), 0);
    assert_int_equal(deadline_alerts(t, "recover", fast, NULL), 1);
    assert_int_equal(deadline_alerts(t, "report", std, NULL), 0);
    snprintf(path, sizeof path, "/v1/incidents/%s", cii);
    assert_int_equal(staff_get(officer(t), path, &res), 200);
    json_t *d = json_object_get(res.json, "deadlines");
    assert_string_equal(json_string_value(json_object_get(json_object_get(d, "report"), "status")),
                        "met");
    assert_true(json_is_true(json_object_get(json_object_get(d, "handle"), "breached")));
    assert_true(json_is_true(json_object_get(json_object_get(d, "recover"), "breached")));
    int deadline_entries = 0;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(res.json, "timeline"), i, e) deadline_entries +=
        strcmp(json_string_value(json_object_get(e, "kind")), "deadline") == 0;
    assert_int_equal(deadline_entries, 2);
    fg_client_response_release(&res);
    assert_int_equal(audit_count(t, "incident.deadline_breached", "ok"), 5);
    inc_stop(t);
}

/* A hand-opened incident discovered 2 h ago under the 1-hour profile is late at once. */
static void test_late_report(void **state)
{
    (void)state;
    struct inc_t *t = inc_start();
    char disc[32];
    time_t then = time(NULL) - 2 * 3600;
    strftime(disc, sizeof disc, "%Y-%m-%dT%H:%M:%SZ", gmtime(&then));
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"data_breach\",\"severity\":\"high\",\"title\":\"Leak found late\","
             "\"discovered_at\":\"%s\",\"profile\":\"critical_infrastructure\"}",
             disc);
    struct fg_client_response res;
    assert_int_equal(staff_post(officer(t), "/v1/incidents", body, &res), 201);
    char id[32];
    snprintf(id, sizeof id, "%s", staff_str(&res, "id"));
    fg_client_response_release(&res);
    assert_int_equal(metric_wait(t, M_REPORT, 1), 1);
    assert_int_equal(deadline_alerts(t, "report", id, NULL), 1);
    /* the future is refused; an unknown profile too */
    assert_int_equal(staff_post(officer(t), "/v1/incidents",
                                "{\"type\":\"x\",\"severity\":\"low\",\"title\":\"t\","
                                "\"discovered_at\":\"2999-01-01T00:00:00Z\"}",
                                &res),
                     422);
    fg_client_response_release(&res);
    assert_int_equal(staff_post(officer(t), "/v1/incidents",
                                "{\"type\":\"x\",\"severity\":\"low\",\"title\":\"t\","
                                "\"profile\":\"nope\"}",
                                &res),
                     422);
    fg_client_response_release(&res);
    inc_stop(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_clocks),
        cmocka_unit_test(test_late_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
