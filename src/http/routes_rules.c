/*
 * routes_rules.c — the detection rules in force (API.md "Monitoring"; REQUIREMENTS MON-2):
 *   GET  /v1/rules          rules.read: every rule with its tags, actions, where it was
 *                           defined, and its firing and eviction counters
 *   POST /v1/rules/reload   rules.reload: load the rules again from monitor.rules_dir (or the
 *                           shipped pack); on any error nothing changes and the answer lists
 *                           every error with its file and line (422)
 *
 * A reload is audited ("rules.reload", ok or denied with the error count) and emits the
 * event rules.reloaded, so a rule change is itself watched (data/rules/ops.yaml).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/time.h"
#include "event/event.h"
#include "http/call.h"
#include "http/server.h"
#include "monitor/monitor.h"

#define RULES_LIST_BYTES_MAX (4u << 20) /* the JSON of every rule */
#define RULES_ERRORS_BYTES_MAX (64u << 10)
#define RULES_ERRORS_SHOWN_MAX 200u /* error lines in one answer */

/* ---- GET /v1/rules ------------------------------------------------------------------------ */

struct list_job {
    struct fg_monitor *monitor;
    struct fg_buf out;
};

static fg_rc list_work(void *arg)
{
    struct list_job *job = arg;
    return fg_monitor_rules_json(job->monitor, &job->out);
}

static void list_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct list_job *job = arg;
    if (c != NULL) {
        json_t *rules = rc == FG_OK ? json_loads(fg_buf_str(&job->out), 0, NULL) : NULL;
        if (rules == NULL)
            fg_reply_rc(c, rc ? rc : FG_ERR_INTERNAL, NULL);
        else
            fg_reply_json(c, 200,
                          json_pack("{s:I, s:o}", "count", (json_int_t)json_array_size(rules),
                                    "rules", rules));
    }
    fg_buf_release(&job->out);
    free(job);
}

static void rules_list(struct fg_call *c)
{
    struct fg_monitor *m = fg_call_app(c)->monitor;
    if (m == NULL) {
        fg_reply_error(c, 503, "unavailable", "the monitor is not running", NULL);
        return;
    }
    struct list_job *job = calloc(1, sizeof *job);
    if (job == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    job->monitor = m;
    fg_buf_init(&job->out, RULES_LIST_BYTES_MAX);
    if (fg_call_defer(c, list_work, job, list_done) != FG_OK) {
        fg_buf_release(&job->out);
        free(job);
    }
}

/* ---- POST /v1/rules/reload ---------------------------------------------------------------- */

struct reload_job {
    struct fg_monitor *monitor;
    fg_store *store;
    struct fg_audit_record record;
    struct fg_buf errors;
    size_t nrules;
    fg_rc verdict; /* of the reload itself */
};

static fg_rc reloaded_event(fg_conn *conn, void *arg)
{
    struct reload_job *job = arg;
    char attrs[64];
    snprintf(attrs, sizeof attrs, "{\"rules\":%zu}", job->nrules);
    struct fg_event e = {.type = "rules.reloaded",
                         .actor_id = job->record.actor_id,
                         .source_ip = job->record.source_ip,
                         .device_id = job->record.device_id,
                         .attrs_json = attrs};
    return fg_event_emit(conn, &e, fg_time_wall_ms());
}

static fg_rc reload_work(void *arg)
{
    struct reload_job *job = arg;
    job->verdict = fg_monitor_reload(job->monitor, &job->errors, &job->nrules);
    char details[96];
    if (job->verdict == FG_OK) {
        snprintf(details, sizeof details, "{\"rules\":%zu}", job->nrules);
        if (fg_audit_record_details(&job->record, details, strlen(details)) != FG_OK)
            fg_log(FG_LOG_WARN, "rules.reload_details_dropped");
        return fg_audit_write(job->store, reloaded_event, job, &job->record);
    }
    size_t lines = 0;
    for (const char *p = fg_buf_str(&job->errors); *p; p++)
        lines += *p == '\n';
    snprintf(details, sizeof details, "{\"errors\":%zu}", lines);
    if (fg_audit_record_details(&job->record, details, strlen(details)) != FG_OK)
        fg_log(FG_LOG_WARN, "rules.reload_details_dropped");
    return fg_audit_write_denied(job->store, &job->record, FG_ERR_INVALID);
}

static void reload_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct reload_job *job = arg;
    if (c != NULL) {
        if (rc) {
            fg_reply_rc(c, rc, NULL);
        } else if (job->verdict == FG_OK) {
            fg_reply_json(c, 200,
                          json_pack("{s:b, s:I}", "reloaded", 1, "rules", (json_int_t)job->nrules));
        } else {
            json_t *list = json_array();
            const char *p = fg_buf_str(&job->errors);
            while (list != NULL && *p != '\0' && json_array_size(list) < RULES_ERRORS_SHOWN_MAX) {
                const char *nl = strchr(p, '\n');
                size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
                json_array_append_new(list, json_stringn(p, n));
                p += n + (nl != NULL);
            }
            fg_reply_json(c, 422,
                          json_pack("{s:{s:s, s:s, s:o}}", "error", "code", "policy_violation",
                                    "message",
                                    "the rules do not load; the rules in force are "
                                    "unchanged",
                                    "errors", list ? list : json_array()));
        }
    }
    fg_buf_release(&job->errors);
    free(job);
}

static void rules_reload(struct fg_call *c)
{
    struct fg_app *app = fg_call_app(c);
    if (app->monitor == NULL) {
        fg_reply_error(c, 503, "unavailable", "the monitor is not running", NULL);
        return;
    }
    struct reload_job *job = calloc(1, sizeof *job);
    if (job == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    job->monitor = app->monitor;
    job->store = app->store;
    fg_buf_init(&job->errors, RULES_ERRORS_BYTES_MAX);
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    if (fg_audit_record_init(&job->record, &who, "rules.reload", "rules", "") != FG_OK) {
        fg_buf_release(&job->errors);
        free(job);
        fg_reply_rc(c, FG_ERR_INTERNAL, NULL);
        return;
    }
    if (fg_call_defer(c, reload_work, job, reload_done) != FG_OK) {
        fg_buf_release(&job->errors);
        free(job);
    }
}

fg_rc fg_routes_rules(struct fg_router *r, const struct fg_config *cfg)
{
    (void)cfg;
    fg_rc rc = fg_router_add(r, &(struct fg_route){.method = "GET",
                                                   .pattern = "/v1/rules",
                                                   .permission = "rules.read",
                                                   .fn = rules_list});
    if (rc == FG_OK)
        rc = fg_router_add(r, &(struct fg_route){.method = "POST",
                                                 .pattern = "/v1/rules/reload",
                                                 .permission = "rules.reload",
                                                 .fn = rules_reload});
    return rc;
}
