/*
 * routes_audit.c — the audit role's routes (API.md "Security operations"; REQUIREMENTS
 * AUD-2, AUD-4, IAM-7):
 *   GET  /v1/audit?after=SEQ&limit=N   audit.read: records in sequence order
 *   POST /v1/audit/verify              audit.verify: the whole chain, checkpoints, anchor
 *
 * The auditor never handles a key: verification runs in the server with the MAC keys it
 * borrows from the keyring for the call (locked memory, wiped after), and only the report
 * leaves. Both run on a worker: a chain of millions of records takes seconds to verify.
 *
 * A verification is itself recorded (AUD-1; MON-1: a failed verification is an alert of the
 * shipped rule pack): after the check, one intent with the "audit.verify" record (details
 * ok, records, first_bad_seq) and the audit.verified event (result ok|failed; attrs records,
 * first_bad_seq when failed); the report goes out after it commits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/time.h"
#include "event/event.h"
#include "http/call.h"
#include "http/server.h"
#include "sys/sys.h"

#define AUDIT_PAGE_DEFAULT 100
#define AUDIT_PAGE_MAX 1000 /* records in one answer */

/* ---- GET /v1/audit ------------------------------------------------------------------------ */

struct read_job {
    fg_store *store;
    int64_t after;
    int64_t limit;
    int64_t last_seq;
    json_t *list;
};

static fg_rc record_json(void *ctx, const struct fg_audit_record *r, uint32_t key_version,
                         const uint8_t mac[FG_HASH_LEN])
{
    (void)mac;
    struct read_job *job = ctx;
    char when[FG_TIME_RFC3339_LEN];
    fg_time_format_rfc3339(r->time_ms, when);
    json_t *o =
        json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "seq",
                  (json_int_t)r->seq, "time", when, "request_id", r->request_id, "actor_id",
                  r->actor_id, "actor_role", r->actor_role, "source_ip", r->source_ip, "device_id",
                  r->device_id, "action", r->action, "object_type", r->object_type, "object_id",
                  r->object_id, "result", fg_audit_result_name(r->result), "error_code",
                  r->error_code, "key_version", (json_int_t)key_version);
    if (o == NULL)
        return FG_ERR_NOMEM;
    /* details are redacted JSON by construction; kept as an object */
    json_object_set_new(o, "details", json_loads(r->details, 0, NULL));
    job->last_seq = r->seq;
    return json_array_append_new(job->list, o) == 0 ? FG_OK : FG_ERR_NOMEM;
}

static fg_rc read_work(void *arg)
{
    struct read_job *job = arg;
    fg_conn *conn;
    fg_rc rc = fg_store_read_acquire(job->store, &conn);
    if (rc)
        return rc;
    rc = fg_audit_scan(conn, job->after + 1, job->limit, record_json, job);
    fg_store_read_release(job->store, conn);
    return rc;
}

static void read_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct read_job *job = arg;
    if (c != NULL) {
        if (rc) {
            fg_reply_rc(c, rc, NULL);
        } else {
            size_t n = json_array_size(job->list);
            json_t *body =
                json_pack("{s:O, s:o}", "records", job->list, "next_after",
                          n == (size_t)job->limit ? json_integer(job->last_seq) : json_null());
            fg_reply_json(c, 200, body);
        }
    }
    json_decref(job->list);
    free(job);
}

static void audit_read(struct fg_call *c)
{
    const char *after = fg_call_query(c, "after");
    const char *limit = fg_call_query(c, "limit");
    int64_t a = after ? fg_query_uint(after, INT64_MAX - 1) : 0;
    int64_t l = limit ? fg_query_uint(limit, AUDIT_PAGE_MAX) : AUDIT_PAGE_DEFAULT;
    if (a < 0 || l < 1) {
        fg_reply_error(c, 400, "invalid_argument",
                       "after is a record sequence number, limit 1-1000",
                       a < 0 ? "after" : "limit");
        return;
    }
    struct read_job *job = calloc(1, sizeof *job);
    if (job == NULL || (job->list = json_array()) == NULL) {
        free(job);
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    job->store = fg_call_app(c)->store;
    job->after = a;
    job->limit = l;
    if (fg_call_defer(c, read_work, job, read_done) != FG_OK) {
        json_decref(job->list);
        free(job);
    }
}

/* ---- POST /v1/audit/verify ------------------------------------------------------------- */

struct verify_job {
    struct fg_sys *sys;
    fg_store *store;
    struct fg_audit_report report;
    fg_rc verdict; /* FG_OK intact, FG_ERR_CORRUPT not */
    struct fg_audit_record record;
};

static fg_rc verify_work(void *arg)
{
    struct verify_job *job = arg;
    struct fg_sys_keyset *ks;
    fg_rc rc = fg_sys_keyset_load(fg_sys_keys(job->sys), 0, &ks);
    if (rc)
        return rc;
    fg_conn *conn;
    rc = fg_store_read_acquire(job->store, &conn);
    if (rc == FG_OK) {
        job->verdict = fg_audit_verify(conn, fg_sys_keyset_keys(ks), fg_sys_anchor_path(job->sys),
                                       &job->report);
        fg_store_read_release(job->store, conn);
        if (job->verdict != FG_OK && job->verdict != FG_ERR_CORRUPT)
            rc = job->verdict; /* could not run */
    }
    fg_sys_keyset_free(ks);
    return rc;
}

static void verify_answer(struct fg_call *c, void *arg, fg_rc rc);

static fg_rc verify_intent(fg_conn *conn, void *arg)
{
    struct verify_job *job = arg;
    int ok = job->verdict == FG_OK;
    json_t *a = json_pack("{s:s, s:I}", "result", ok ? "ok" : "failed", "records",
                          (json_int_t)job->report.records);
    if (a != NULL && !ok)
        json_object_set_new(a, "first_bad_seq", json_integer(job->report.first_bad_seq));
    struct fg_event e = fg_event_of_record(&job->record, "audit.verified", NULL, NULL);
    return fg_event_emit_json(conn, &e, a, fg_time_wall_ms());
}

/* The verification ran: record it with its event, answer after commit. */
static void verify_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct verify_job *job = arg;
    if (c == NULL || rc != FG_OK) {
        verify_answer(c, job, rc);
        return;
    }
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    int ok = job->verdict == FG_OK;
    char details[128];
    int n = snprintf(details, sizeof details, "{\"ok\":%s,\"records\":%lld,\"first_bad_seq\":%lld}",
                     ok ? "true" : "false", (long long)job->report.records,
                     ok ? 0LL : (long long)job->report.first_bad_seq);
    rc = fg_audit_record_init(&job->record, &who, "audit.verify", "audit", NULL);
    if (rc == FG_OK && n > 0 && (size_t)n < sizeof details)
        rc = fg_audit_record_details(&job->record, details, (size_t)n);
    if (rc) {
        verify_answer(c, job, rc);
        return;
    }
    if (fg_call_write_record(c, verify_intent, job, &job->record, verify_answer) != FG_OK)
        free(job);
}

static void verify_answer(struct fg_call *c, void *arg, fg_rc rc)
{
    struct verify_job *job = arg;
    if (c != NULL) {
        if (rc) {
            fg_reply_rc(c, rc, NULL);
        } else {
            const struct fg_audit_report *r = &job->report;
            int ok = job->verdict == FG_OK;
            fg_reply_json(c, 200,
                          json_pack("{s:b, s:I, s:o, s:s, s:I, s:I, s:I, s:I}", "ok", ok, "records",
                                    (json_int_t)r->records, "first_bad_seq",
                                    ok || r->first_bad_seq == 0 ? json_null()
                                                                : json_integer(r->first_bad_seq),
                                    "problem", fg_audit_problem_name(r->problem), "checkpoints",
                                    (json_int_t)r->checkpoints, "anchor_lines",
                                    (json_int_t)r->anchor_lines, "start_seq",
                                    (json_int_t)r->start_seq, "last_seq", (json_int_t)r->last_seq));
        }
    }
    free(job);
}

static void audit_verify(struct fg_call *c)
{
    struct verify_job *job = calloc(1, sizeof *job);
    if (job == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    job->sys = fg_call_app(c)->sys;
    job->store = fg_call_app(c)->store;
    if (fg_call_defer(c, verify_work, job, verify_done) != FG_OK)
        free(job);
}

fg_rc fg_routes_audit(struct fg_router *r, const struct fg_config *cfg)
{
    (void)cfg;
    fg_rc rc = fg_router_add(r, &(struct fg_route){.method = "GET",
                                                   .pattern = "/v1/audit",
                                                   .permission = "audit.read",
                                                   .fn = audit_read});
    if (rc == FG_OK)
        rc = fg_router_add(r, &(struct fg_route){.method = "POST",
                                                 .pattern = "/v1/audit/verify",
                                                 .permission = "audit.verify",
                                                 .fn = audit_verify});
    return rc;
}
