/*
 * routes_incidents.c — security incidents (API.md "Incidents"; REQUIREMENTS INC-1..5;
 * incident/incident.h; docs/incidents.md):
 *   GET  /v1/incidents?state=&severity=&cursor=&limit=  incidents.read   newest first
 *   POST /v1/incidents                                  incidents.write  open by hand → 201
 *   GET  /v1/incidents/{id}                             incidents.read   deadlines, timeline,
 *                                                                        evidence, review
 *   POST /v1/incidents/{id}/transition {to, reason}     incidents.write  409 naming from/to
 *   POST /v1/incidents/{id}/notes {text}                incidents.write  → 201
 *   POST /v1/incidents/{id}/evidence {kind,from,to,note} incidents.write → 201
 *   POST /v1/incidents/{id}/review {root_cause, improvements:[{title,owner,due}]}
 *                                                       incidents.write  recovered|closed only
 *   GET  /v1/incidents/{id}/export?format=json|md       incidents.read   the report (audited:
 *                                                                        "incident.export")
 *
 * Every change commits in one transaction with its audit record ("incident.open",
 * "incident.transition", "incident.note", "incident.evidence", "incident.review"; object
 * incident/<id>) and the incident.* event; refusals are recorded too (the record says error
 * with the reason's code). The answer is the incident as it is after the change, read in the
 * same transaction. Nothing deletes an incident (INC-4).
 *
 * Deadline policy: the one of the running deadline clock (app->incidents), else the one
 * loaded here from [incident] at registration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/time.h"
#include "http/call.h"
#include "http/server.h"
#include "iam/session.h"
#include "incident/incident.h"

#define INC_ANSWER_MAX FG_INCIDENT_EXPORT_MAX
#define INC_QUERY_MAX 32u

static struct fg_incident_policy route_policy;
static int route_policy_set;

static const struct fg_incident_policy *policy_of(struct fg_call *c)
{
    struct fg_app *app = fg_call_app(c);
    if (app != NULL && app->incidents != NULL)
        return fg_incidents_policy(app->incidents);
    return route_policy_set ? &route_policy : fg_incident_policy_builtin();
}

/* ---- reads -------------------------------------------------------------------------------- */

enum read_kind { READ_LIST, READ_ONE, READ_MD };

struct read_job {
    fg_store *store;
    enum read_kind kind;
    char id[FG_INCIDENT_ID_SIZE];
    char state[INC_QUERY_MAX + 1], severity[INC_QUERY_MAX + 1];
    char cursor[FG_INCIDENT_CURSOR_SIZE + 1];
    struct fg_incident_filter f;
    char next[FG_INCIDENT_CURSOR_SIZE];
    struct fg_buf out;
    unsigned n;
    struct fg_audit_record record;
};

static fg_rc list_one(void *ctx, const struct fg_incident_view *v)
{
    struct read_job *job = ctx;
    fg_rc rc = job->n++ ? fg_buf_append_char(&job->out, ',') : FG_OK;
    return rc ? rc : fg_incident_summary_json(v, &job->out);
}

static fg_rc read_work(void *arg)
{
    struct read_job *job = arg;
    fg_conn *conn;
    fg_rc rc = fg_store_read_acquire(job->store, &conn);
    if (rc)
        return rc;
    if (job->kind == READ_ONE) {
        rc = fg_incident_json(conn, job->id, &job->out);
    } else if (job->kind == READ_MD) {
        rc = fg_incident_markdown(conn, job->id, fg_time_wall_ms(), &job->out);
    } else {
        rc = fg_buf_append_str(&job->out, "{\"incidents\":[");
        if (!rc)
            rc = fg_incident_list(conn, &job->f, list_one, job, job->next);
        if (!rc)
            rc = job->next[0] ? fg_buf_appendf(&job->out, "],\"next_cursor\":\"%s\"}", job->next)
                              : fg_buf_append_str(&job->out, "],\"next_cursor\":null}");
    }
    fg_store_read_release(job->store, conn);
    return rc;
}

static void read_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct read_job *job = arg;
    if (c != NULL) {
        if (rc == FG_ERR_NOT_FOUND)
            fg_reply_error(c, 404, "not_found", "no such incident", NULL);
        else if (rc == FG_ERR_INVALID)
            fg_reply_error(c, 400, "invalid_argument",
                           "filters: state (a state or open), severity low|medium|high|"
                           "critical, cursor from next_cursor, limit 1-200",
                           NULL);
        else if (rc)
            fg_reply_rc(c, rc, NULL);
        else
            fg_reply_text(
                c, 200, job->kind == READ_MD ? "text/markdown; charset=utf-8" : "application/json",
                fg_buf_str(&job->out), job->out.len);
    }
    fg_buf_release(&job->out);
    free(job);
}

static struct read_job *read_job_new(struct fg_call *c, enum read_kind kind)
{
    struct read_job *job = calloc(1, sizeof *job);
    if (job == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return NULL;
    }
    job->store = fg_call_app(c)->store;
    job->kind = kind;
    fg_buf_init(&job->out, INC_ANSWER_MAX);
    return job;
}

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

static void list_route(struct fg_call *c)
{
    struct read_job *job = read_job_new(c, READ_LIST);
    if (job == NULL)
        return;
    const char *cursor = NULL;
    int ok = query_copy(c, "state", job->state, sizeof job->state, &job->f.state) &&
             query_copy(c, "severity", job->severity, sizeof job->severity, &job->f.severity) &&
             query_copy(c, "cursor", job->cursor, sizeof job->cursor, &cursor);
    job->f.cursor = cursor;
    const char *limit = fg_call_query(c, "limit");
    int64_t l = limit ? fg_query_uint(limit, FG_INCIDENT_LIST_MAX) : FG_INCIDENT_LIST_DEFAULT;
    if (!ok || l < 1) {
        fg_reply_error(c, 400, "invalid_argument", "a query parameter is malformed",
                       ok ? "limit" : "query");
        free(job);
        return;
    }
    job->f.limit = (unsigned)l;
    if (fg_call_defer(c, read_work, job, read_done) != FG_OK)
        free(job);
}

static int id_param(struct fg_call *c, char out[FG_INCIDENT_ID_SIZE])
{
    const char *id = fg_call_param(c, 0);
    if (id == NULL || !fg_incident_id_ok(id)) {
        fg_reply_error(c, 404, "not_found", "no such incident", NULL);
        return 0;
    }
    memcpy(out, id, FG_INCIDENT_ID_SIZE);
    return 1;
}

static void get_route(struct fg_call *c)
{
    struct read_job *job = read_job_new(c, READ_ONE);
    if (job == NULL)
        return;
    if (!id_param(c, job->id)) {
        free(job);
        return;
    }
    if (fg_call_defer(c, read_work, job, read_done) != FG_OK)
        free(job);
}

/* Export: the record of who took the report commits first, then the report is built. */
static fg_rc export_intent(fg_conn *conn, void *arg)
{
    struct read_job *job = arg;
    struct fg_incident_view v;
    return fg_incident_get(conn, job->id, &v);
}

static void export_recorded(struct fg_call *c, void *arg, fg_rc rc)
{
    struct read_job *job = arg;
    if (c == NULL || rc != FG_OK) {
        read_done(c, job, rc);
        return;
    }
    if (fg_call_defer(c, read_work, job, read_done) != FG_OK)
        free(job);
}

static void export_route(struct fg_call *c)
{
    const char *format = fg_call_query(c, "format");
    int md = format != NULL && strcmp(format, "md") == 0;
    if (format != NULL && !md && strcmp(format, "json") != 0) {
        fg_reply_error(c, 400, "invalid_argument", "format is json or md", "format");
        return;
    }
    struct read_job *job = read_job_new(c, md ? READ_MD : READ_ONE);
    if (job == NULL)
        return;
    if (!id_param(c, job->id)) {
        free(job);
        return;
    }
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    char details[48];
    snprintf(details, sizeof details, "{\"format\":\"%s\"}", md ? "md" : "json");
    fg_rc rc = fg_audit_record_init(&job->record, &who, "incident.export", "incident", job->id);
    if (!rc)
        rc = fg_audit_record_details(&job->record, details, strlen(details));
    if (rc) {
        fg_reply_rc(c, rc, NULL);
        free(job);
        return;
    }
    if (fg_call_write_record(c, export_intent, job, &job->record, export_recorded) != FG_OK)
        free(job);
}

/* ---- changes ------------------------------------------------------------------------------ */

enum op { OP_OPEN, OP_TRANSITION, OP_NOTE, OP_EVIDENCE, OP_REVIEW };

struct write_job {
    enum op op;
    const struct fg_incident_policy *policy;
    json_t *body; /* a reference held until the job ends */
    char id[FG_INCIDENT_ID_SIZE];
    char actor[FG_INCIDENT_ACTOR_MAX + 1];
    enum fg_incident_state to, from;
    const char *why;
    char *accounts, *users, *improvements; /* JSON text of body arrays */
    int64_t discovered_ms;
    struct fg_buf out;
    struct fg_audit_record record;
};

static void write_job_free(struct write_job *job)
{
    if (job == NULL)
        return;
    json_decref(job->body);
    free(job->accounts);
    free(job->users);
    free(job->improvements);
    fg_buf_release(&job->out);
    free(job);
}

static const char *bstr(const struct write_job *job, const char *name)
{
    return json_string_value(json_object_get(job->body, name));
}

static fg_rc write_intent(fg_conn *conn, void *arg)
{
    struct write_job *job = arg;
    int64_t now = fg_time_wall_ms();
    fg_rc rc = FG_OK;
    char details[160];
    details[0] = '\0';
    switch (job->op) {
    case OP_OPEN: {
        struct fg_incident_new n = {
            .type = bstr(job, "type"),
            .severity = bstr(job, "severity"),
            .title = bstr(job, "title"),
            .discovered_ms = job->discovered_ms,
            .accounts_json = job->accounts,
            .users_json = job->users,
            .features = bstr(job, "features"),
            .scope = bstr(job, "scope"),
            .first_actions = bstr(job, "first_actions"),
            .profile = bstr(job, "profile"),
            .opened_by = job->actor,
        };
        rc = fg_incident_open(conn, job->policy, &n, now, job->id);
        if (!rc) {
            snprintf(details, sizeof details,
                     "{\"type\":\"%s\",\"severity\":\"%s\",\"profile\":\"%s\"}", n.type, n.severity,
                     fg_incident_profile_find(job->policy, n.profile)->name);
            snprintf(job->record.object_id, sizeof job->record.object_id, "%s", job->id);
        }
        break;
    }
    case OP_TRANSITION:
        rc = fg_incident_transition(conn, job->policy, job->id, job->to, bstr(job, "reason"),
                                    job->actor, now, &job->from, &job->why);
        snprintf(details, sizeof details, "{\"from\":\"%s\",\"to\":\"%s\"}",
                 fg_incident_state_name(job->from), fg_incident_state_name(job->to));
        break;
    case OP_NOTE:
        rc = fg_incident_timeline_add(conn, job->id, "note", job->actor, bstr(job, "text"), NULL,
                                      now);
        break;
    case OP_EVIDENCE:
        rc = fg_incident_evidence_add(conn, job->id, bstr(job, "kind"), bstr(job, "from"),
                                      bstr(job, "to"), bstr(job, "note"), job->actor, now);
        snprintf(details, sizeof details, "{\"kind\":\"%.20s\"}",
                 bstr(job, "kind") ? bstr(job, "kind") : "");
        break;
    case OP_REVIEW:
        rc = fg_incident_review(conn, job->id, bstr(job, "root_cause"), job->improvements,
                                job->actor, now);
        if (rc == FG_ERR_CONFLICT)
            job->why = "a review is recorded once the incident is recovered or closed";
        break;
    }
    if (details[0] && fg_audit_record_details(&job->record, details, strlen(details)) != FG_OK)
        rc = rc ? rc : FG_ERR_INTERNAL;
    if (!rc)
        rc = fg_incident_json(conn, job->id, &job->out);
    return rc;
}

static void write_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct write_job *job = arg;
    if (c != NULL) {
        if (rc == FG_ERR_CONFLICT && job->op == OP_TRANSITION) {
            char msg[160];
            snprintf(msg, sizeof msg, "%s: %s -> %s", job->why ? job->why : "not allowed",
                     fg_incident_state_name(job->from), fg_incident_state_name(job->to));
            fg_reply_error(c, 409, "conflict", msg, "to");
        } else if (rc == FG_ERR_CONFLICT) {
            fg_reply_error(c, 409, "conflict", job->why ? job->why : fg_rc_str(rc), NULL);
        } else if (rc == FG_ERR_NOT_FOUND) {
            fg_reply_error(c, 404, "not_found", "no such incident", NULL);
        } else if (rc == FG_ERR_INVALID || rc == FG_ERR_LIMIT) {
            fg_reply_error(c, 422, "invalid_argument",
                           rc == FG_ERR_LIMIT ? "a list is longer than its limit"
                                              : "a field is malformed or out of range",
                           NULL);
        } else if (rc) {
            fg_reply_rc(c, rc, NULL);
        } else {
            int status =
                job->op == OP_OPEN || job->op == OP_NOTE || job->op == OP_EVIDENCE ? 201 : 200;
            fg_reply_text(c, status, "application/json", fg_buf_str(&job->out), job->out.len);
        }
    }
    write_job_free(job);
}

static const char *const action_of[] = {"incident.open", "incident.transition", "incident.note",
                                        "incident.evidence", "incident.review"};

static void submit(struct fg_call *c, struct write_job *job)
{
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    fg_rc rc = fg_audit_record_init(&job->record, &who, action_of[job->op], "incident",
                                    job->op == OP_OPEN ? NULL : job->id);
    if (rc) {
        fg_reply_rc(c, rc, NULL);
        write_job_free(job);
        return;
    }
    if (fg_call_write_record(c, write_intent, job, &job->record, write_done) != FG_OK)
        write_job_free(job);
}

static struct write_job *write_job_new(struct fg_call *c, enum op op, const struct fg_json_field *f,
                                       size_t nf)
{
    json_t *body = fg_call_body(c);
    struct fg_json_error err;
    if (fg_json_check(body, f, nf, &err) != FG_OK) {
        fg_reply_json_error(c, &err);
        return NULL;
    }
    const struct fg_session *s = fg_call_session(c);
    struct write_job *job = s ? calloc(1, sizeof *job) : NULL;
    if (job == NULL) {
        fg_reply_rc(c, s ? FG_ERR_NOMEM : FG_ERR_INTERNAL, NULL);
        return NULL;
    }
    job->op = op;
    job->policy = policy_of(c);
    job->body = json_incref(body);
    snprintf(job->actor, sizeof job->actor, "%s", s->user_id);
    fg_buf_init(&job->out, INC_ANSWER_MAX);
    if (op != OP_OPEN && !id_param(c, job->id)) {
        write_job_free(job);
        return NULL;
    }
    return job;
}

static const struct fg_json_field open_body[] = {
    {"type", FG_JSON_STRING, 1, 1, FG_INCIDENT_TYPE_MAX},
    {"severity", FG_JSON_STRING, 1, 3, 8},
    {"title", FG_JSON_STRING, 1, 1, FG_INCIDENT_TITLE_MAX},
    {"discovered_at", FG_JSON_STRING, 0, 20, 24},
    {"accounts", FG_JSON_ARRAY, 0, 0, FG_INCIDENT_IDS_MAX},
    {"users", FG_JSON_ARRAY, 0, 0, FG_INCIDENT_IDS_MAX},
    {"features", FG_JSON_STRING, 0, 0, FG_INCIDENT_TEXT_MAX},
    {"scope", FG_JSON_STRING, 0, 0, FG_INCIDENT_TEXT_MAX},
    {"first_actions", FG_JSON_STRING, 0, 0, FG_INCIDENT_TEXT_MAX},
    {"profile", FG_JSON_STRING, 0, 1, FG_INCIDENT_PROFILE_MAX},
};

static void open_route(struct fg_call *c)
{
    struct write_job *job =
        write_job_new(c, OP_OPEN, open_body, sizeof open_body / sizeof open_body[0]);
    if (job == NULL)
        return;
    const char *disc = bstr(job, "discovered_at");
    if (disc && fg_time_parse_rfc3339(disc, strlen(disc), &job->discovered_ms) != FG_OK) {
        fg_reply_error(c, 400, "invalid_argument", "discovered_at is RFC 3339 UTC",
                       "discovered_at");
        write_job_free(job);
        return;
    }
    if (disc && job->discovered_ms > fg_time_wall_ms()) {
        fg_reply_error(c, 422, "invalid_argument", "discovered_at is in the future",
                       "discovered_at");
        write_job_free(job);
        return;
    }
    const char *prof = bstr(job, "profile");
    if (prof && fg_incident_profile_find(job->policy, prof) == NULL) {
        fg_reply_error(c, 422, "invalid_argument", "no such deadline profile", "profile");
        write_job_free(job);
        return;
    }
    json_t *a = json_object_get(job->body, "accounts"), *u = json_object_get(job->body, "users");
    job->accounts = a ? json_dumps(a, JSON_COMPACT) : NULL;
    job->users = u ? json_dumps(u, JSON_COMPACT) : NULL;
    if ((a && !job->accounts) || (u && !job->users)) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        write_job_free(job);
        return;
    }
    submit(c, job);
}

static const struct fg_json_field transition_body[] = {
    {"to", FG_JSON_STRING, 1, 1, 16},
    {"reason", FG_JSON_STRING, 0, 0, FG_INCIDENT_TEXT_MAX},
};

static void transition_route(struct fg_call *c)
{
    struct write_job *job = write_job_new(c, OP_TRANSITION, transition_body, 2);
    if (job == NULL)
        return;
    if (fg_incident_state_parse(bstr(job, "to"), &job->to) != FG_OK) {
        fg_reply_error(c, 400, "invalid_argument",
                       "to is reported, investigating, contained, recovered or closed", "to");
        write_job_free(job);
        return;
    }
    submit(c, job);
}

static const struct fg_json_field note_body[] = {
    {"text", FG_JSON_STRING, 1, 1, FG_INCIDENT_TEXT_MAX},
};

static void note_route(struct fg_call *c)
{
    struct write_job *job = write_job_new(c, OP_NOTE, note_body, 1);
    if (job != NULL)
        submit(c, job);
}

static const struct fg_json_field evidence_body[] = {
    {"kind", FG_JSON_STRING, 1, 1, 16},
    {"from", FG_JSON_STRING, 1, 1, FG_INCIDENT_EVIDENCE_REF_MAX},
    {"to", FG_JSON_STRING, 0, 0, FG_INCIDENT_EVIDENCE_REF_MAX},
    {"note", FG_JSON_STRING, 0, 0, FG_INCIDENT_TEXT_MAX},
};

static void evidence_route(struct fg_call *c)
{
    struct write_job *job = write_job_new(c, OP_EVIDENCE, evidence_body, 4);
    if (job != NULL)
        submit(c, job);
}

static const struct fg_json_field review_body[] = {
    {"root_cause", FG_JSON_STRING, 1, 1, FG_INCIDENT_TEXT_MAX},
    {"improvements", FG_JSON_ARRAY, 1, 1, FG_INCIDENT_IMPROVEMENTS_MAX},
};

static void review_route(struct fg_call *c)
{
    struct write_job *job = write_job_new(c, OP_REVIEW, review_body, 2);
    if (job == NULL)
        return;
    job->improvements = json_dumps(json_object_get(job->body, "improvements"), JSON_COMPACT);
    if (job->improvements == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        write_job_free(job);
        return;
    }
    submit(c, job);
}

fg_rc fg_routes_incidents(struct fg_router *r, const struct fg_config *cfg)
{
    if (!route_policy_set && fg_incident_policy_load(cfg, &route_policy, NULL) == FG_OK)
        route_policy_set = 1;
    const struct fg_route routes[] = {
        {.method = "GET",
         .pattern = "/v1/incidents",
         .permission = "incidents.read",
         .fn = list_route},
        {.method = "POST",
         .pattern = "/v1/incidents",
         .permission = "incidents.write",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = open_route},
        {.method = "GET",
         .pattern = "/v1/incidents/{id}",
         .permission = "incidents.read",
         .fn = get_route},
        {.method = "POST",
         .pattern = "/v1/incidents/{id}/transition",
         .permission = "incidents.write",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = transition_route},
        {.method = "POST",
         .pattern = "/v1/incidents/{id}/notes",
         .permission = "incidents.write",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = note_route},
        {.method = "POST",
         .pattern = "/v1/incidents/{id}/evidence",
         .permission = "incidents.write",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = evidence_route},
        {.method = "POST",
         .pattern = "/v1/incidents/{id}/review",
         .permission = "incidents.write",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = review_route},
        {.method = "GET",
         .pattern = "/v1/incidents/{id}/export",
         .permission = "incidents.read",
         .fn = export_route},
    };
    fg_rc rc = FG_OK;
    for (size_t i = 0; rc == FG_OK && i < sizeof routes / sizeof routes[0]; i++)
        rc = fg_router_add(r, &routes[i]);
    return rc;
}
