/*
 * routes_alerts.c — alerts of the monitor and of the incident deadline clock (API.md
 * "Alerts"; REQUIREMENTS MON-1, MON-2; incident/alert.h):
 *   GET  /v1/alerts?state=&level=&rule=&since=&cursor=&limit=   alerts.read, newest first
 *   GET  /v1/alerts/{id}                                        alerts.read
 *   POST /v1/alerts/{id}/ack                                    alerts.ack   open → acked
 *   POST /v1/alerts/{id}/resolve                                alerts.ack   → resolved
 *
 * Reads run on a worker with a read lease. Ack and resolve commit in one transaction with
 * their audit record ("alert.ack" / "alert.resolve", object alert/<id>); a refusal (404 not
 * found, 409 already acked / resolved) is recorded too (the intent fails, the record says
 * error with the reason's code).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/time.h"
#include "http/call.h"
#include "http/server.h"
#include "iam/session.h"
#include "incident/alert.h"

#define ALERT_ANSWER_MAX (2u * 1024u * 1024u) /* one page of alerts as JSON */
#define ALERT_QUERY_MAX 64u                   /* a filter value from the query string */

struct read_job {
    fg_store *store;
    char id[FG_ALERT_ID_SIZE + 1];
    int one; /* GET /v1/alerts/{id} */
    char state[ALERT_QUERY_MAX + 1], level[ALERT_QUERY_MAX + 1], rule[ALERT_QUERY_MAX + 1];
    char cursor[FG_ALERT_CURSOR_SIZE + 1];
    struct fg_alert_filter f;
    struct fg_buf out;
    char next[FG_ALERT_CURSOR_SIZE];
    unsigned n;
};

static fg_rc list_one(void *ctx, const struct fg_alert_view *a)
{
    struct read_job *job = ctx;
    fg_rc rc = job->n++ ? fg_buf_append_char(&job->out, ',') : FG_OK;
    return rc ? rc : fg_alert_json(a, &job->out);
}

static fg_rc read_work(void *arg)
{
    struct read_job *job = arg;
    fg_conn *conn;
    fg_rc rc = fg_store_read_acquire(job->store, &conn);
    if (rc)
        return rc;
    if (job->one) {
        struct fg_alert_view *a = malloc(sizeof *a);
        rc = a ? fg_alert_get(conn, job->id, a) : FG_ERR_NOMEM;
        if (!rc)
            rc = fg_alert_json(a, &job->out);
        free(a);
    } else {
        rc = fg_buf_append_str(&job->out, "{\"alerts\":[");
        if (!rc)
            rc = fg_alert_list(conn, &job->f, list_one, job, job->next);
        if (!rc)
            rc = fg_buf_append_str(&job->out, "],\"next_cursor\":");
        if (!rc)
            rc = job->next[0] ? fg_buf_appendf(&job->out, "\"%s\"}", job->next)
                              : fg_buf_append_str(&job->out, "null}");
    }
    fg_store_read_release(job->store, conn);
    return rc;
}

static void read_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct read_job *job = arg;
    if (c != NULL) {
        if (rc == FG_ERR_INVALID)
            fg_reply_error(c, 400, "invalid_argument",
                           "filters: state open|acked|resolved, level low|medium|high|critical, "
                           "rule a rule id, since RFC 3339, cursor from next_cursor, limit 1-200",
                           NULL);
        else if (rc)
            fg_reply_rc(c, rc, NULL);
        else
            fg_reply_text(c, 200, "application/json", fg_buf_str(&job->out), job->out.len);
    }
    fg_buf_release(&job->out);
    free(job);
}

/* Copy a query value (≤ ALERT_QUERY_MAX) into dst; 0 if too long. NULL stays unset. */
static int query_copy(struct fg_call *c, const char *name, char *dst, size_t cap, const char **set)
{
    const char *v = fg_call_query(c, name);
    *set = NULL;
    if (v == NULL)
        return 1;
    if (strlen(v) >= cap)
        return 0;
    memcpy(dst, v, strlen(v) + 1);
    *set = dst;
    return 1;
}

static struct read_job *read_job_new(struct fg_call *c)
{
    struct read_job *job = calloc(1, sizeof *job);
    if (job == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return NULL;
    }
    job->store = fg_call_app(c)->store;
    fg_buf_init(&job->out, ALERT_ANSWER_MAX);
    return job;
}

static void list_route(struct fg_call *c)
{
    struct read_job *job = read_job_new(c);
    if (job == NULL)
        return;
    const char *cursor = NULL;
    int ok = query_copy(c, "state", job->state, sizeof job->state, &job->f.state) &&
             query_copy(c, "level", job->level, sizeof job->level, &job->f.level) &&
             query_copy(c, "rule", job->rule, sizeof job->rule, &job->f.rule) &&
             query_copy(c, "cursor", job->cursor, sizeof job->cursor, &cursor);
    job->f.cursor = cursor;
    const char *limit = fg_call_query(c, "limit");
    int64_t l = limit ? fg_query_uint(limit, FG_ALERT_LIST_MAX) : FG_ALERT_LIST_DEFAULT;
    const char *since = fg_call_query(c, "since");
    const char *field = !ok ? "query" : NULL;
    if (ok && l < 1) {
        ok = 0;
        field = "limit";
    }
    job->f.limit = (unsigned)(l > 0 ? l : 0);
    if (ok && since != NULL && fg_time_parse_rfc3339(since, strlen(since), &job->f.since_ms)) {
        ok = 0;
        field = "since";
    }
    if (!ok) {
        fg_reply_error(c, 400, "invalid_argument", "a query parameter is malformed", field);
        free(job);
        return;
    }
    if (fg_call_defer(c, read_work, job, read_done) != FG_OK)
        free(job);
}

static void get_route(struct fg_call *c)
{
    const char *id = fg_call_param(c, 0);
    if (id == NULL || !fg_alert_id_ok(id)) {
        fg_reply_error(c, 404, "not_found", "no such alert", NULL);
        return;
    }
    struct read_job *job = read_job_new(c);
    if (job == NULL)
        return;
    job->one = 1;
    memcpy(job->id, id, FG_ALERT_ID_SIZE);
    if (fg_call_defer(c, read_work, job, read_done) != FG_OK)
        free(job);
}

/* ---- ack / resolve ------------------------------------------------------------------------ */

struct change_job {
    int resolve;
    char id[FG_ALERT_ID_SIZE];
    char actor[FG_ALERT_ACTOR_MAX + 1];
    struct fg_alert_view view;
    char state_before[FG_ALERT_STATE_MAX + 1];
    struct fg_audit_record record;
};

static fg_rc change_intent(fg_conn *conn, void *arg)
{
    struct change_job *job = arg;
    int64_t now = fg_time_wall_ms();
    struct fg_alert_view before;
    fg_rc rc = fg_alert_get(conn, job->id, &before);
    if (rc)
        return rc;
    memcpy(job->state_before, before.state, sizeof job->state_before);
    rc = job->resolve ? fg_alert_resolve(conn, job->id, job->actor, now, &job->view)
                      : fg_alert_ack(conn, job->id, job->actor, now, &job->view);
    char details[256];
    snprintf(details, sizeof details, "{\"rule\":\"%s\",\"from\":\"%s\",\"to\":\"%s\"}",
             before.rule_id, before.state, job->resolve ? "resolved" : "acked");
    fg_rc drc = fg_audit_record_details(&job->record, details, strlen(details));
    return rc ? rc : drc;
}

static void change_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct change_job *job = arg;
    if (c != NULL) {
        if (rc == FG_ERR_CONFLICT) {
            char msg[96];
            snprintf(msg, sizeof msg, "the alert is %s", job->state_before);
            fg_reply_error(c, 409, "conflict", msg, "state");
        } else if (rc == FG_ERR_NOT_FOUND) {
            fg_reply_error(c, 404, "not_found", "no such alert", NULL);
        } else if (rc) {
            fg_reply_rc(c, rc, NULL);
        } else {
            struct fg_buf out = FG_BUF_INIT(64u * 1024u);
            if (fg_alert_json(&job->view, &out) == FG_OK)
                fg_reply_text(c, 200, "application/json", fg_buf_str(&out), out.len);
            else
                fg_reply_rc(c, FG_ERR_NOMEM, NULL);
            fg_buf_release(&out);
        }
    }
    free(job);
}

static void change_route(struct fg_call *c, int resolve)
{
    const char *id = fg_call_param(c, 0);
    const struct fg_session *s = fg_call_session(c);
    if (id == NULL || !fg_alert_id_ok(id)) {
        fg_reply_error(c, 404, "not_found", "no such alert", NULL);
        return;
    }
    struct change_job *job = calloc(1, sizeof *job);
    if (job == NULL || s == NULL) {
        free(job);
        fg_reply_rc(c, s == NULL ? FG_ERR_INTERNAL : FG_ERR_NOMEM, NULL);
        return;
    }
    job->resolve = resolve;
    memcpy(job->id, id, FG_ALERT_ID_SIZE);
    snprintf(job->actor, sizeof job->actor, "%s", s->user_id);
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    fg_rc rc = fg_audit_record_init(&job->record, &who, resolve ? "alert.resolve" : "alert.ack",
                                    "alert", id);
    if (rc) {
        fg_reply_rc(c, rc, NULL);
        free(job);
        return;
    }
    if (fg_call_write_record(c, change_intent, job, &job->record, change_done) != FG_OK)
        free(job);
}

static void ack_route(struct fg_call *c)
{
    change_route(c, 0);
}

static void resolve_route(struct fg_call *c)
{
    change_route(c, 1);
}

fg_rc fg_routes_alerts(struct fg_router *r, const struct fg_config *cfg)
{
    (void)cfg;
    const struct fg_route routes[] = {
        {.method = "GET", .pattern = "/v1/alerts", .permission = "alerts.read", .fn = list_route},
        {.method = "GET",
         .pattern = "/v1/alerts/{id}",
         .permission = "alerts.read",
         .fn = get_route},
        {.method = "POST",
         .pattern = "/v1/alerts/{id}/ack",
         .permission = "alerts.ack",
         .fn = ack_route},
        {.method = "POST",
         .pattern = "/v1/alerts/{id}/resolve",
         .permission = "alerts.ack",
         .fn = resolve_route},
    };
    fg_rc rc = FG_OK;
    for (size_t i = 0; rc == FG_OK && i < sizeof routes / sizeof routes[0]; i++)
        rc = fg_router_add(r, &routes[i]);
    return rc;
}
