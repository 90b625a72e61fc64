/*
 * routes_sys.c — system routes (API.md "System and keys"):
 *   GET  /v1/health       public, answers while sealed
 *   POST /v1/sys/init     public, once: creates the key hierarchy, returns the shares once
 *   POST /v1/sys/unseal   public: one share per request until the threshold is reached
 *   GET  /metrics         Prometheus text (open, or behind server.metrics_token)
 *
 * Init and unseal have no session yet (API.md): they are protected by TLS and by being
 * useful only to holders of shares. Init's audit record commits in the same transaction as
 * the keys; a completed unseal is audited once the audit log is armed (records cannot be
 * MAC'd while sealed, so failed attempts are counted into that record and logged).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "http/call.h"
#include "incident/incident.h"
#include "monitor/monitor.h"
#include "http/metrics.h"
#include "http/server.h"
#include "iam/iam.h"
#include "sys/sys.h"

#define SHARES_MAX 16
#define SHARE_TEXT_MAX 128

static void health(struct fg_call *c)
{
    struct fg_keys_state st;
    fg_sys_state(fg_call_app(c)->sys, &st);
    json_t *body = json_pack("{s:s, s:b, s:b, s:s}", "status", "ok", "initialized", st.initialized,
                             "sealed", st.sealed, "version", FG_VERSION);
    fg_reply_json(c, 200, body);
}

/* /metrics renders on a worker: the incident gauges read the database (MON-6). */
struct metrics_job {
    struct fg_app *app;
    struct fg_buf out;
};

static fg_rc metrics_work(void *arg)
{
    struct metrics_job *job = arg;
    fg_rc rc = fg_metrics_render(job->app->metrics, job->app->store, &job->out);
    if (rc == FG_OK && job->app->monitor != NULL)
        fg_monitor_metrics(job->app->monitor, &job->out);
    if (rc == FG_OK && job->app->incidents != NULL)
        fg_incidents_metrics(job->app->incidents, &job->out);
    return rc;
}

static void metrics_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct metrics_job *job = arg;
    if (c != NULL) {
        if (rc)
            fg_reply_rc(c, rc, NULL);
        else
            fg_reply_text(c, 200, "text/plain; version=0.0.4", fg_buf_str(&job->out), job->out.len);
    }
    fg_buf_release(&job->out);
    free(job);
}

static void metrics(struct fg_call *c)
{
    struct metrics_job *job = calloc(1, sizeof *job);
    if (job == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    job->app = fg_call_app(c);
    fg_buf_init(&job->out, 4u * 1024u * 1024u);
    if (fg_call_defer(c, metrics_work, job, metrics_done) != FG_OK) {
        fg_buf_release(&job->out);
        free(job);
    }
}

/* ---- init -------------------------------------------------------------------------- */

struct init_job {
    struct fg_sys *sys;
    struct fg_iam *iam;
    struct fg_sys_init *init;
    unsigned shares, threshold;
    enum fg_suite suite;
    char *admin_password; /* locked; shown once in the answer */
    char admin_hash[FG_PWHASH_STR_MAX];
    char admin_id[FG_USER_ID_MAX + 1];
};

static void init_job_free(struct init_job *job)
{
    fg_secure_free(job->admin_password);
    fg_wipe(job, sizeof *job);
    free(job);
}

/* The intent and its completion share one argument: the job. */
static fg_rc init_intent(fg_conn *conn, void *arg)
{
    struct init_job *job = arg;
    fg_rc rc = fg_sys_init_intent(conn, job->init); /* keyring + sys.initialized event */
    if (rc == FG_OK && job->iam != NULL) /* the instance never exists without its admin */
        rc = fg_iam_first_admin_insert(conn, job->admin_hash, job->admin_id);
    return rc;
}

static void init_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct init_job *job = arg;
    const char *problem = NULL;
    rc = fg_sys_init_finish(job->sys, job->init, rc, &problem);
    if (c != NULL) {
        if (rc == FG_OK) {
            json_t *shares = json_array();
            for (unsigned i = 0; i < fg_sys_init_share_count(job->init); i++)
                json_array_append_new(shares, json_string(fg_sys_init_share(job->init, i)));
            json_t *body =
                json_pack("{s:o, s:I, s:s}", "shares", shares, "threshold",
                          (json_int_t)job->threshold, "suite", fg_suite_name(job->suite));
            if (job->iam != NULL)
                json_object_set_new(body, "admin",
                                    json_pack("{s:s, s:s, s:s}", "username", FG_IAM_FIRST_ADMIN,
                                              "password", job->admin_password, "id",
                                              job->admin_id));
            fg_reply_json(c, 200, body);
        } else if (rc == FG_ERR_CONFLICT) {
            fg_reply_error(c, 409, "conflict", "the instance is already initialised", NULL);
        } else {
            fg_reply_rc(c, rc, NULL);
        }
    }
    if (rc == FG_OK)
        fg_log(FG_LOG_INFO, "sys.initialized", FG_LF_STR("suite", fg_suite_name(job->suite)),
               FG_LF_INT("threshold", job->threshold));
    fg_sys_init_free(job->init);
    init_job_free(job);
}

/* Worker: the first administrator's one-time password and its Argon2id hash. */
static fg_rc init_admin_work(void *arg)
{
    struct init_job *job = arg;
    fg_rc rc = fg_iam_otp_password(job->iam, FG_IAM_FIRST_ADMIN, job->admin_password);
    if (rc == FG_OK)
        rc = fg_password_hash(job->admin_password, FG_IAM_OTP_PASSWORD_LEN, job->admin_hash);
    return rc;
}

/* Loop: keys prepared (fast), then one intent: keyring + first admin + "sys.init" record. */
static void init_hashed(struct fg_call *c, void *arg, fg_rc rc)
{
    struct init_job *job = arg;
    if (c == NULL || rc != FG_OK) {
        if (c != NULL)
            fg_reply_rc(c, rc, NULL);
        init_job_free(job);
        return;
    }
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    const char *problem = NULL;
    rc = fg_sys_init_prepare(job->sys, job->suite, job->shares, job->threshold, &who, &job->init,
                             &problem);
    if (rc) {
        init_job_free(job);
        if (rc == FG_ERR_CONFLICT)
            fg_reply_error(c, 409, "conflict", "the instance is already initialised", NULL);
        else if (rc == FG_ERR_INVALID)
            fg_reply_error(c, 400, "invalid_argument", problem ? problem : "invalid", NULL);
        else
            fg_reply_rc(c, rc, NULL);
        return;
    }
    if (fg_call_write_record(c, init_intent, job, fg_sys_init_record(job->init), init_done) !=
        FG_OK) {
        rc = fg_sys_init_finish(job->sys, job->init, FG_ERR_BUSY, NULL);
        (void)rc;
        fg_sys_init_free(job->init);
        init_job_free(job);
    }
}

static const struct fg_json_field init_fields[] = {
    {"shares", FG_JSON_INT, 1, 1, SHARES_MAX},
    {"threshold", FG_JSON_INT, 1, 1, SHARES_MAX},
    {"suite", FG_JSON_STRING, 0, 1, 8},
};

static void sys_init(struct fg_call *c)
{
    json_t *body = fg_call_body(c);
    struct fg_json_error err;
    if (fg_json_check(body, init_fields, 3, &err) != FG_OK) {
        fg_reply_json_error(c, &err);
        return;
    }
    unsigned shares = (unsigned)json_integer_value(json_object_get(body, "shares"));
    unsigned threshold = (unsigned)json_integer_value(json_object_get(body, "threshold"));
    json_t *suite_v = json_object_get(body, "suite");
    enum fg_suite suite = FG_SUITE_INTL;
    if (suite_v != NULL && fg_suite_parse(json_string_value(suite_v), &suite) != FG_OK) {
        fg_reply_error(c, 400, "invalid_argument", "suite must be \"intl\" or \"gm\"", "suite");
        return;
    }
    if (threshold > shares || (threshold < 2 && shares > 1)) {
        fg_reply_error(c, 400, "invalid_argument",
                       "threshold must be between 2 and shares (1 only when shares is 1)",
                       "threshold");
        return;
    }
    struct fg_app *app = fg_call_app(c);
    struct init_job *job = calloc(1, sizeof *job);
    if (job == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    *job = (struct init_job){
        .sys = app->sys, .iam = app->iam, .shares = shares, .threshold = threshold, .suite = suite};
    struct fg_keys_state st;
    fg_sys_state(app->sys, &st);
    if (st.initialized) {
        init_job_free(job);
        fg_reply_error(c, 409, "conflict", "the instance is already initialised", NULL);
        return;
    }
    if (job->iam == NULL) {
        init_hashed(c, job, FG_OK);
        return;
    }
    job->admin_password = fg_secure_alloc(FG_IAM_OTP_PASSWORD_LEN + 1);
    if (job->admin_password == NULL ||
        fg_call_defer_on(c, job->iam->hash_pool, init_admin_work, job, init_hashed) != FG_OK) {
        if (job->admin_password == NULL)
            fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        init_job_free(job);
    }
}

/* ---- unseal ------------------------------------------------------------------------ */

struct unseal_job {
    struct fg_sys *sys;
    fg_store *store;
    int index; /* the share's index as written in its text ("fg1-<index>-…"), 0 if unreadable */
    char share[SHARE_TEXT_MAX + 1];
    struct fg_keys_state st;
    int just_unsealed;
    const char *problem;
    /* who sent it, copied from the call: the unseal is recorded on the worker, even when the
     * client has gone by then (the call and its memory may be gone) */
    char request_id[FG_AUDIT_REQUEST_ID_MAX + 1];
    char actor_id[FG_AUDIT_ACTOR_ID_MAX + 1];
    char actor_role[FG_AUDIT_ACTOR_ROLE_MAX + 1];
    char source_ip[FG_AUDIT_SOURCE_IP_MAX + 1];
    char device_id[FG_AUDIT_DEVICE_ID_MAX + 1];
    struct fg_audit_record record;
};

/* The index a share text claims (not secret: it is the Shamir x-coordinate), so a refusal
 * can name which custodian's share was mistyped. 0 if the prefix is unreadable. */
static int share_index(const char *text)
{
    if (strncmp(text, "fg1-", 4) != 0)
        return 0;
    int index = 0;
    const char *p = text + 4;
    for (int digits = 0; *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits == 3)
            return 0;
        index = index * 10 + (*p - '0');
    }
    return *p == '-' ? index : 0;
}

/* The "sys.unseal" record's intent: its sys.unsealed event (docs/events.md). */
static fg_rc unseal_intent(fg_conn *conn, void *arg)
{
    return fg_sys_record_event(conn, &((struct unseal_job *)arg)->record);
}

/* On a worker: the share, and when it was the last one, the "sys.unseal" record — written here
 * (a worker may wait for the writer) so that it exists even if the client hung up meanwhile.
 * A failed record is logged; the instance is unsealed either way. */
static fg_rc unseal_work(void *arg)
{
    struct unseal_job *job = arg;
    fg_rc rc = fg_sys_unseal(job->sys, job->share, &job->st, &job->just_unsealed, &job->problem);
    fg_wipe(job->share, sizeof job->share);
    if (rc != FG_OK || !job->just_unsealed)
        return rc;
    fg_log(FG_LOG_INFO, "sys.unsealed");
    struct fg_audit_actor who = {.request_id = job->request_id,
                                 .actor_id = job->actor_id,
                                 .actor_role = job->actor_role,
                                 .source_ip = job->source_ip,
                                 .device_id = job->device_id};
    fg_rc wrc = fg_sys_unseal_record(job->sys, &who, "shares", &job->record);
    if (wrc == FG_OK)
        wrc = fg_audit_write(job->store, unseal_intent, job, &job->record);
    if (wrc != FG_OK)
        fg_log(FG_LOG_ERROR, "sys.unseal_audit_failed", FG_LF_STR("rc", fg_rc_name(wrc)));
    return FG_OK;
}

static void unseal_free(struct unseal_job *job)
{
    fg_wipe(job, sizeof *job);
    free(job);
}

static void reply_progress(struct fg_call *c, const struct fg_keys_state *st)
{
    fg_reply_json(c, 200,
                  json_pack("{s:b, s:I, s:I}", "sealed", st->sealed, "progress",
                            (json_int_t)st->progress, "threshold", (json_int_t)st->threshold));
}

static void unseal_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct unseal_job *job = arg;
    if (rc != FG_OK) {
        fg_log(FG_LOG_WARN, "sys.unseal_refused", FG_LF_STR("rc", fg_rc_name(rc)),
               FG_LF_STR("problem", job->problem ? job->problem : ""),
               FG_LF_INT("share_index", job->index), FG_LF_STR("source_ip", job->source_ip));
        if (c != NULL) {
            if (rc == FG_ERR_INVALID || rc == FG_ERR_CRYPTO) {
                char msg[192];
                const char *why = job->problem ? job->problem : "the share was not accepted";
                if (job->index > 0)
                    snprintf(msg, sizeof msg, "share %d: %s", job->index, why);
                else
                    snprintf(msg, sizeof msg, "%s", why);
                fg_reply_error(c, 400, "invalid_argument", msg, "share");
            } else if (rc == FG_ERR_CONFLICT)
                fg_reply_error(c, 409, "conflict", "the instance is not initialised", NULL);
            else
                fg_reply_rc(c, rc, NULL);
        }
        unseal_free(job);
        return;
    }
    if (c != NULL)
        reply_progress(c, &job->st); /* unsealed or not, the state as it is now */
    unseal_free(job);
}

static const struct fg_json_field unseal_fields[] = {
    {"share", FG_JSON_STRING, 1, 1, SHARE_TEXT_MAX},
};

static void sys_unseal(struct fg_call *c)
{
    json_t *body = fg_call_body(c);
    struct fg_json_error err;
    if (fg_json_check(body, unseal_fields, 1, &err) != FG_OK) {
        fg_reply_json_error(c, &err);
        return;
    }
    struct unseal_job *job = calloc(1, sizeof *job);
    if (job == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    job->sys = fg_call_app(c)->sys;
    job->store = fg_call_app(c)->store;
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    snprintf(job->request_id, sizeof job->request_id, "%s", who.request_id ? who.request_id : "");
    snprintf(job->actor_id, sizeof job->actor_id, "%s", who.actor_id ? who.actor_id : "");
    snprintf(job->actor_role, sizeof job->actor_role, "%s", who.actor_role ? who.actor_role : "");
    snprintf(job->source_ip, sizeof job->source_ip, "%s", who.source_ip ? who.source_ip : "");
    snprintf(job->device_id, sizeof job->device_id, "%s", who.device_id ? who.device_id : "");
    json_t *share = json_object_get(body, "share");
    memcpy(job->share, json_string_value(share), json_string_length(share));
    job->index = share_index(job->share);
    fg_call_wipe_body(c);
    if (fg_call_defer(c, unseal_work, job, unseal_done) != FG_OK)
        unseal_free(job);
}

/* ---- POST /v1/sys/seal ------------------------------------------------------------------- */

/* Seal on command (issue #3, DATA-2: a compromised key is revoked at once). The "sys.seal"
 * record commits first; then the gate closes (every new request 503, no audited write may
 * start), hand-offs already in flight drain (bounded wait), a final checkpoint anchors the
 * tail, the audit log is detached, the keys are wiped and every session ends. */
#define SEAL_DRAIN_MS 10000

struct seal_job {
    struct fg_sys *sys;
    struct fg_iam *iam;
    const _Atomic size_t *inflight;
    size_t own; /* hand-offs that are this seal's own (1 on a worker, 0 detached) */
    struct fg_audit_record record;
};

/* The "sys.seal" record's intent: its sys.sealed event (docs/events.md). */
static fg_rc seal_intent(fg_conn *conn, void *arg)
{
    return fg_sys_record_event(conn, &((struct seal_job *)arg)->record);
}

static fg_rc seal_work(void *arg)
{
    struct seal_job *job = arg;
    for (int waited = 0; atomic_load(job->inflight) > job->own && waited < SEAL_DRAIN_MS; waited++)
        usleep(1000);
    if (atomic_load(job->inflight) > job->own)
        fg_log(FG_LOG_WARN, "sys.seal_drain_timeout",
               FG_LF_INT("inflight", (int64_t)atomic_load(job->inflight)));
    fg_rc rc = fg_sys_seal_finish(job->sys);
    if (job->iam != NULL)
        fg_log(FG_LOG_INFO, "sys.sessions_ended",
               FG_LF_INT("count", (int64_t)fg_sessions_end_all(job->iam->sessions)));
    return rc;
}

static void *seal_thread(void *arg) /* the client left: finish the seal anyway */
{
    struct seal_job *job = arg;
    fg_rc rc = seal_work(job);
    (void)rc;
    free(job);
    return NULL;
}

static void seal_done(struct fg_call *c, void *arg, fg_rc rc)
{
    if (c != NULL) {
        if (rc)
            fg_reply_rc(c, rc, NULL);
        else
            fg_reply_json(c, 200, json_pack("{s:b}", "sealed", 1));
    }
    free(arg);
}

static void seal_recorded(struct fg_call *c, void *arg, fg_rc rc)
{
    struct seal_job *job = arg;
    if (rc) {
        if (c != NULL)
            fg_reply_rc(c, rc, NULL);
        free(job);
        return;
    }
    fg_sys_seal_begin(job->sys); /* the gate closes now */
    if (c == NULL) {
        pthread_t t;
        job->own = 0;
        if (pthread_create(&t, NULL, seal_thread, job) == 0)
            pthread_detach(t);
        else
            fg_log(FG_LOG_ERROR, "sys.seal_thread_failed"); /* gate stays closed */
        return;
    }
    job->own = 1;
    if (fg_call_defer(c, seal_work, job, seal_done) != FG_OK)
        free(job); /* answered 503; the gate stays closed, the next seal finishes it */
}

static void sys_seal(struct fg_call *c)
{
    struct seal_job *job = calloc(1, sizeof *job);
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    static const char details[] = "{\"reason\":\"command\"}";
    if (job == NULL ||
        fg_audit_record_init(&job->record, &who, "sys.seal", "instance", NULL) != FG_OK ||
        fg_audit_record_details(&job->record, details, sizeof details - 1) != FG_OK) {
        free(job);
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    job->sys = fg_call_app(c)->sys;
    job->iam = fg_call_app(c)->iam;
    job->inflight = fg_call_inflight_counter(c);
    if (fg_call_write_record(c, seal_intent, job, &job->record, seal_recorded) != FG_OK)
        free(job);
}

/* ---- GET /v1/keys --------------------------------------------------------------------- */

static fg_rc key_info_json(void *ctx, const struct fg_key_info *info)
{
    json_t *list = ctx;
    char created[FG_TIME_RFC3339_LEN];
    fg_time_format_rfc3339(info->created_ms, created);
    json_t *item =
        json_pack("{s:s, s:I, s:s, s:s, s:I}", "purpose", fg_key_purpose_name(info->purpose),
                  "version", (json_int_t)info->version, "state", fg_key_state_name(info->state),
                  "created_at", created, "age_s", (json_int_t)info->age_s);
    return item != NULL && json_array_append_new(list, item) == 0 ? FG_OK : FG_ERR_NOMEM;
}

/* Purposes, versions, states and ages — never key material (API.md). */
static void keys_list(struct fg_call *c)
{
    json_t *list = json_array();
    fg_rc rc = fg_keys_list(fg_sys_keys(fg_call_app(c)->sys), key_info_json, list);
    if (rc) {
        json_decref(list);
        fg_reply_rc(c, rc, NULL);
        return;
    }
    fg_reply_json(c, 200, json_pack("{s:o}", "keys", list));
}

fg_rc fg_routes_sys(struct fg_router *r, const struct fg_config *cfg)
{
    const struct fg_route routes[] = {
        {.method = "GET",
         .pattern = "/v1/health",
         .permission = FG_PERM_PUBLIC,
         .flags = FG_ROUTE_UNSEALED,
         .fn = health},
        {.method = "POST",
         .pattern = "/v1/sys/init",
         .permission = FG_PERM_PUBLIC,
         .flags = FG_ROUTE_UNSEALED | FG_ROUTE_JSON_BODY,
         .fn = sys_init},
        {.method = "POST",
         .pattern = "/v1/sys/unseal",
         .permission = FG_PERM_PUBLIC,
         .flags = FG_ROUTE_UNSEALED | FG_ROUTE_JSON_BODY,
         .fn = sys_unseal},
        {.method = "GET", .pattern = "/v1/keys", .permission = "keys.read", .fn = keys_list},
        {.method = "POST", .pattern = "/v1/sys/seal", .permission = "sys.seal", .fn = sys_seal},
    };
    fg_rc rc = FG_OK;
    for (size_t i = 0; rc == FG_OK && i < sizeof routes / sizeof routes[0]; i++)
        rc = fg_router_add(r, &routes[i]);
    if (rc == FG_OK && cfg->server_metrics)
        rc = fg_router_add(r, &(struct fg_route){.method = "GET",
                                                 .pattern = "/metrics",
                                                 .permission = "metrics",
                                                 .flags = FG_ROUTE_UNSEALED,
                                                 .fn = metrics});
    return rc;
}
