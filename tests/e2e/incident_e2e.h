/*
 * incident_e2e.h — what test_incidents.c and test_alerts.c share: a server with the
 * diagnostics clock, the staff of tests/support/bank.h, moving the clock, waiting for the
 * deadline clock through /metrics, and counting audit records by action. Header-only.
 */
#ifndef FG_TESTS_INCIDENT_E2E_H
#define FG_TESTS_INCIDENT_E2E_H

#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bank.h"
#include "client/client.h"
#include "crypto/crypto.h"
#include "server.h"
#include "staff.h"

#define HOUR_S 3600LL
#define TICK_WAIT_MS 3000 /* the deadline clock ticks every second */

struct inc_t {
    struct fg_test_server s;
    struct bank_staff b;
    struct fg_client *anon;
};

static inline struct inc_t *inc_start(void)
{
    struct inc_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    assert_int_equal(fg_crypto_init(), FG_OK); /* the request signer draws nonces */
    const char *const args[] = {"--set", "diag.write_probe=true", NULL};
    fg_test_server_start(&t->s, args);
    bank_staff_setup(&t->s, &t->b, 1, 1);
    fg_test_server_client(&t->s, &t->anon);
    return t;
}

static inline void inc_stop(struct inc_t *t)
{
    fg_client_free(t->anon);
    bank_staff_free(&t->b);
    fg_test_server_done(&t->s);
    free(t);
}

static inline struct person *officer(struct inc_t *t)
{
    return BANK_P(&t->b, BANK_OFFICER);
}

static inline struct person *auditor(struct inc_t *t)
{
    return BANK_P(&t->b, BANK_AUDITOR);
}

/* Move the server's wall clock to real time + offset_s. No staff call is made while the
 * clock is ahead (sessions would idle out); tests move it back to 0 before they read. */
static inline void clock_at(struct inc_t *t, long long offset_s)
{
    json_t *body = json_pack("{s:I}", "offset_s", (json_int_t)offset_s);
    struct fg_client_response res;
    assert_int_equal(fg_client_post_json(t->anon, "/v1/diag/clock", body, &res), FG_OK);
    json_decref(body);
    assert_int_equal(res.status, 200);
    fg_client_response_release(&res);
}

/* The value of one sample line of /metrics ("name{labels}"), -1 if absent. */
static inline long long metric(struct inc_t *t, const char *sample)
{
    struct fg_client_response res;
    assert_int_equal(fg_client_get(t->anon, "/metrics", &res), FG_OK);
    assert_int_equal(res.status, 200);
    long long v = -1;
    size_t n = strlen(sample);
    for (const char *p = res.body; (p = strstr(p, sample)) != NULL; p += n)
        if ((p == res.body || p[-1] == '\n') && p[n] == ' ') {
            v = strtoll(p + n + 1, NULL, 10);
            break;
        }
    fg_client_response_release(&res);
    return v;
}

static inline void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait (≤ TICK_WAIT_MS) until the sample equals want; its last value. */
static inline long long metric_wait(struct inc_t *t, const char *sample, long long want)
{
    long long v = -1;
    for (int waited = 0; waited <= TICK_WAIT_MS; waited += 100) {
        v = metric(t, sample);
        if (v == want)
            break;
        sleep_ms(100);
    }
    return v;
}

/* Audit records of this action (and result, NULL = any), over every page. */
static inline int audit_count(struct inc_t *t, const char *action, const char *result)
{
    int n = 0;
    long long after = 0;
    for (;;) {
        char path[96];
        snprintf(path, sizeof path, "/v1/audit?after=%lld&limit=1000", after);
        struct fg_client_response res;
        assert_int_equal(staff_get(auditor(t), path, &res), 200);
        json_t *recs = json_object_get(res.json, "records");
        size_t i;
        json_t *r;
        json_array_foreach(recs, i, r)
        {
            const char *a = json_string_value(json_object_get(r, "action"));
            const char *rs = json_string_value(json_object_get(r, "result"));
            if (a && strcmp(a, action) == 0 && (result == NULL || (rs && strcmp(rs, result) == 0)))
                n++;
        }
        json_t *next = json_object_get(res.json, "next_after");
        int more = json_is_integer(next);
        if (more)
            after = json_integer_value(next);
        fg_client_response_release(&res);
        if (!more)
            break;
    }
    return n;
}

/* POST /v1/incidents by the officer; the new id copied to id (size ≥ 32). */
static inline void open_incident(struct inc_t *t, const char *profile, const char *severity,
                                 char *id)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"account_takeover\",\"severity\":\"%s\",\"title\":\"Takeover of u1\","
             "\"accounts\":[\"acc_1\"],\"users\":[\"u1\"],\"features\":\"new device\","
             "\"scope\":\"one customer\",\"first_actions\":\"sessions revoked\"%s%s%s}",
             severity, profile ? ",\"profile\":\"" : "", profile ? profile : "",
             profile ? "\"" : "");
    struct fg_client_response res;
    assert_int_equal(staff_post(officer(t), "/v1/incidents", body, &res), 201);
    snprintf(id, 32, "%s", staff_str(&res, "id"));
    assert_string_equal(staff_str(&res, "state"), "reported");
    fg_client_response_release(&res);
}

#endif
