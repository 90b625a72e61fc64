/*
 * End-to-end: alerts (issue #6; REQUIREMENTS MON-1, MON-2; API.md "Alerts").
 *
 * Alerts here come from the incident deadline clock (the rule-driven ones are the monitor
 * runtime's, tested with it): two incidents opened by hand under the 1-hour profile with a
 * discovery 2 h ago miss their report deadline at once, one alert each. Then: the list
 * (filters state / level / rule / since, paging with next_cursor, malformed filters 400),
 * one alert, ack (open → acked; twice → 409), resolve (→ resolved; twice → 409; ack after
 * resolve → 409), unknown ids 404, the auditor reads but cannot ack (403), and each change is
 * audited (exact counts of alert.ack / alert.resolve by result). /metrics counts the
 * unresolved alerts by level.
 */
#include "incident_e2e.h"

static void open_late(struct inc_t *t, const char *severity, char *id)
{
    char disc[32], body[512];
    time_t then = time(NULL) - 2 * 3600;
    strftime(disc, sizeof disc, "%Y-%m-%dT%H:%M:%SZ", gmtime(&then));
    snprintf(body, sizeof body,
             "{\"type\":\"fraud\",\"severity\":\"%s\",\"title\":\"Found late\","
             "\"discovered_at\":\"%s\",\"profile\":\"critical_infrastructure\"}",
             severity, disc);
    struct fg_client_response res;
    assert_int_equal(staff_post(officer(t), "/v1/incidents", body, &res), 201);
    snprintf(id, 32, "%s", staff_str(&res, "id"));
    fg_client_response_release(&res);
}

/* The alerts of a list answer: count, and the id of the one whose key is `key`. */
static size_t list(struct inc_t *t, const char *query, const char *key, char *id_out,
                   char *next_out)
{
    /* the monitor's rules alert on the staff set-up too (priv.admin_created,
     * priv.mutual_approval): this test counts the deadline clock's alerts only */
    char path[320];
    if (strstr(query, "rule=") != NULL)
        snprintf(path, sizeof path, "/v1/alerts%s", query);
    else
        snprintf(path, sizeof path, "/v1/alerts%s%srule=incident.deadline.report", query,
                 query[0] ? "&" : "?");
    struct fg_client_response res;
    assert_int_equal(staff_get(officer(t), path, &res), 200);
    json_t *arr = json_object_get(res.json, "alerts");
    size_t i;
    json_t *a;
    json_array_foreach(arr, i, a)
    {
        if (key && id_out && strcmp(json_string_value(json_object_get(a, "key")), key) == 0)
            snprintf(id_out, 32, "%s", json_string_value(json_object_get(a, "id")));
    }
    if (next_out) {
        const char *n = json_string_value(json_object_get(res.json, "next_cursor"));
        snprintf(next_out, 64, "%s", n ? n : "");
    }
    size_t n = json_array_size(arr);
    fg_client_response_release(&res);
    return n;
}

static void test_alerts(void **state)
{
    (void)state;
    struct inc_t *t = inc_start();
    char inc_hi[32], inc_crit[32];
    open_late(t, "high", inc_hi);
    open_late(t, "critical", inc_crit);
    assert_int_equal(
        metric_wait(t, "finguard_incident_deadline_breaches_total{deadline=\"report\"}", 2), 2);
    assert_int_equal(metric_wait(t, "finguard_alerts_unresolved{level=\"critical\"}", 1), 1);
    assert_int_equal(metric(t, "finguard_alerts_unresolved{level=\"high\"}"), 1);

    char a_hi[32] = "", a_crit[32] = "", next[64];
    assert_int_equal(list(t, "", inc_hi, a_hi, next), 2);
    assert_string_equal(next, "");
    assert_int_equal(list(t, "", inc_crit, a_crit, NULL), 2);
    assert_true(a_hi[0] && a_crit[0]);
    assert_int_equal(list(t, "?level=critical", NULL, NULL, NULL), 1);
    assert_int_equal(list(t, "?level=high", NULL, NULL, NULL), 2); /* high and above */
    assert_int_equal(list(t, "?rule=incident.deadline.report", NULL, NULL, NULL), 2);
    assert_int_equal(list(t, "?rule=incident.deadline.handle", NULL, NULL, NULL), 0);
    assert_int_equal(list(t, "?state=open", NULL, NULL, NULL), 2);
    assert_int_equal(list(t, "?since=2999-01-01T00:00:00Z", NULL, NULL, NULL), 0);
    /* paging: one per page */
    assert_int_equal(list(t, "?limit=1", NULL, NULL, next), 1);
    assert_true(next[0] != '\0');
    char q[128];
    snprintf(q, sizeof q, "?limit=1&cursor=%s", next);
    assert_int_equal(list(t, q, NULL, NULL, next), 1);
    struct fg_client_response res;
    static const char *const bad[] = {"/v1/alerts?state=closed",    "/v1/alerts?level=severe",
                                      "/v1/alerts?limit=0",         "/v1/alerts?limit=201",
                                      "/v1/alerts?since=yesterday", "/v1/alerts?cursor=x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(staff_get(officer(t), bad[i], &res), 400);
        fg_client_response_release(&res);
    }

    /* one alert */
    char path[128];
    snprintf(path, sizeof path, "/v1/alerts/%s", a_crit);
    assert_int_equal(staff_get(auditor(t), path, &res), 200);
    assert_string_equal(staff_str(&res, "rule"), "incident.deadline.report");
    assert_string_equal(staff_str(&res, "level"), "critical");
    assert_string_equal(staff_str(&res, "key"), inc_crit);
    assert_string_equal(staff_str(&res, "incident_id"), inc_crit);
    assert_string_equal(staff_str(&res, "state"), "open");
    assert_int_equal(json_integer_value(json_object_get(res.json, "count")), 1);
    fg_client_response_release(&res);
    assert_int_equal(staff_get(officer(t), "/v1/alerts/alr_AAAAAAAAAAAAAAAAAAAAAA", &res), 404);
    fg_client_response_release(&res);

    /* ack / resolve */
    snprintf(path, sizeof path, "/v1/alerts/%s/ack", a_crit);
    assert_int_equal(staff_post(auditor(t), path, "{}", &res), 403);
    fg_client_response_release(&res);
    assert_int_equal(staff_post(officer(t), path, "{}", &res), 200);
    assert_string_equal(staff_str(&res, "state"), "acked");
    assert_true(strlen(staff_str(&res, "acked_by")) > 0);
    fg_client_response_release(&res);
    assert_int_equal(staff_post(officer(t), path, "{}", &res), 409);
    assert_string_equal(res.error_code, "conflict");
    fg_client_response_release(&res);
    assert_int_equal(list(t, "?state=acked", NULL, NULL, NULL), 1);
    snprintf(path, sizeof path, "/v1/alerts/%s/resolve", a_crit);
    assert_int_equal(staff_post(officer(t), path, "{}", &res), 200);
    assert_string_equal(staff_str(&res, "state"), "resolved");
    fg_client_response_release(&res);
    assert_int_equal(staff_post(officer(t), path, "{}", &res), 409);
    fg_client_response_release(&res);
    snprintf(path, sizeof path, "/v1/alerts/%s/ack", a_crit);
    assert_int_equal(staff_post(officer(t), path, "{}", &res), 409);
    fg_client_response_release(&res);
    /* open → resolved directly */
    snprintf(path, sizeof path, "/v1/alerts/%s/resolve", a_hi);
    assert_int_equal(staff_post(officer(t), path, "{}", &res), 200);
    fg_client_response_release(&res);
    assert_int_equal(
        staff_post(officer(t), "/v1/alerts/alr_AAAAAAAAAAAAAAAAAAAAAA/ack", "{}", &res), 404);
    fg_client_response_release(&res);
    assert_int_equal(list(t, "?state=resolved", NULL, NULL, NULL), 2);
    assert_int_equal(metric_wait(t, "finguard_alerts_unresolved{level=\"critical\"}", 0), 0);

    /* audited, refusals included (the 404 of a well-formed unknown id too) */
    assert_int_equal(audit_count(t, "alert.ack", "ok"), 1);
    assert_int_equal(audit_count(t, "alert.ack", "error"), 3);
    assert_int_equal(audit_count(t, "alert.resolve", "ok"), 2);
    assert_int_equal(audit_count(t, "alert.resolve", "error"), 1);
    inc_stop(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alerts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
