/*
 * routes_mfa.c — TOTP enrolment and second-factor checks (API.md "Authentication";
 * REQUIREMENTS AUTH-3, IAM-3):
 *   POST /v1/auth/totp/enroll   self.mfa: a new secret → {"otpauth_uri"} (shown once)
 *   POST /v1/auth/totp/confirm  self.mfa: {"code"} — the first code activates the secret
 *   POST /v1/auth/mfa           self.mfa: {"code"} — completes this session's login
 *
 * The secret is stored only as an fg_protect ciphertext bound to iam_users.totp_secret of
 * its row. A code is accepted for steps T and T−1 only, and only for a step later than the
 * last one accepted: the intent updates totp_last_step on the condition that it is still
 * lower, so the same code can never succeed twice, even raced. A wrong code counts toward
 * the user's lockout like a wrong password.
 *
 * A customer session whose second factor is a delivered code (session.mfa_otp; iam.h) sends
 * that code to /v1/auth/mfa instead: verified on the writer against the code the login sent
 * (purpose "login", bound to this session), single use, 5 minutes, 5 wrong tries kill it;
 * the counted try and the user's failure survive (the intent returns FG_OK, the verdict is in
 * the job). Such a session may not enrol TOTP before the delivered code is done (else the
 * password alone would reach a fully signed-in session through enrol + confirm).
 *
 * Lockout (AUTH-2) also holds here: a locked user gets 423 for any code and the session ends;
 * the failure that locks the user ends the session too (a new login is refused until the
 * lock ends), so a session never gives unlimited guesses.
 *
 * Events (event/event.h, docs/events.md; MON-1): a wrong or refused code is mfa.failed
 * (attrs method totp|otp, result bad|locked), and the failure that locks the user also
 * user.locked — both in the intent of the code's record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/log.h"
#include "base/time.h"
#include "event/event.h"
#include "http/call.h"
#include "http/server.h"
#include "iam/iam.h"
#include "iam/totp.h"
#include "notify/otp.h"
#include "protect/protect.h"

#define TOTP_TABLE "iam_users"
#define TOTP_COLUMN "totp_secret"

/* ---- the delivered code comes first ------------------------------------------------------ */

struct refusal {
    struct fg_audit_record record;
};

static void refused(struct fg_call *c, void *arg, fg_rc rc)
{
    if (rc)
        fg_log(FG_LOG_ERROR, "iam.mfa_refusal_audit_failed", FG_LF_STR("rc", fg_rc_name(rc)));
    if (c != NULL)
        fg_reply_error(c, 403, "mfa_required", "complete the code sent at login first", NULL);
    free(arg);
}

/* 1 if the session still owes its delivered login code: then answered 403 mfa_required
 * (audited under `action`). */
static int otp_pending(struct fg_call *c, const char *action)
{
    const struct fg_session *s = fg_call_session(c);
    if (!(s->mfa_required && s->mfa_otp && !s->mfa_done))
        return 0;
    fg_call_wipe_body(c);
    struct refusal *r = calloc(1, sizeof *r);
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    if (r == NULL || fg_audit_record_init(&r->record, &who, action, "user", s->user_id) != FG_OK) {
        free(r);
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return 1;
    }
    fg_audit_record_result(&r->record, FG_AUDIT_RESULT_DENIED, FG_ERR_PERMISSION);
    if (fg_call_write_record(c, fg_audit_record_only, r, &r->record, refused) != FG_OK)
        free(r);
    return 1;
}

/* ---- enrol -------------------------------------------------------------------------------- */

struct enroll_job {
    struct fg_iam *iam;
    char user_id[FG_USER_ID_MAX + 1];
    char username[FG_USERNAME_MAX + 1];
    char uri[FG_TOTP_URI_SIZE];
    uint8_t sealed[FG_TOTP_SEALED_MAX];
    size_t sealed_len;
    int already;
    struct fg_audit_record record;
};

static void enroll_free(struct enroll_job *job)
{
    fg_wipe(job, sizeof *job);
    free(job);
}

static fg_rc enroll_intent(fg_conn *conn, void *arg)
{
    struct enroll_job *job = arg;
    struct fg_val p[] = {FG_VSTR(job->user_id), FG_VBLOB(job->sealed, job->sealed_len)};
    int64_t changed = 0;
    fg_rc rc = fg_conn_exec(conn,
                            "UPDATE iam_users SET totp_secret = ?2, totp_last_step = 0 "
                            "WHERE id = ?1 AND totp_enrolled = 0",
                            p, 2, NULL, NULL, &changed);
    if (rc == FG_OK && changed == 0)
        rc = FG_ERR_CONFLICT; /* already enrolled: re-enrolment is a reset, not self-service */
    return rc;
}

static void enroll_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct enroll_job *job = arg;
    if (c != NULL) {
        if (rc == FG_ERR_CONFLICT)
            fg_reply_error(c, 409, "conflict", "a second factor is already enrolled", NULL);
        else if (rc)
            fg_reply_rc(c, rc, NULL);
        else
            fg_reply_json(c, 200, json_pack("{s:s}", "otpauth_uri", job->uri));
    }
    enroll_free(job);
}

static void totp_enroll(struct fg_call *c)
{
    if (otp_pending(c, "auth.totp_enroll"))
        return;
    const struct fg_session *s = fg_call_session(c);
    struct fg_iam *iam = fg_call_app(c)->iam;
    struct enroll_job *job = calloc(1, sizeof *job);
    if (job == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    job->iam = iam;
    snprintf(job->user_id, sizeof job->user_id, "%s", s->user_id);
    snprintf(job->username, sizeof job->username, "%s", s->username);
    fg_rc rc =
        fg_totp_enroll_sealed(iam->keys, TOTP_TABLE, TOTP_COLUMN, job->user_id, job->username,
                              job->uri, job->sealed, sizeof job->sealed, &job->sealed_len);
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    if (rc == FG_OK)
        rc = fg_audit_record_init(&job->record, &who, "auth.totp_enroll", "user", job->user_id);
    if (rc) {
        enroll_free(job);
        fg_reply_rc(c, rc, NULL);
        return;
    }
    if (fg_call_write_record(c, enroll_intent, job, &job->record, enroll_done) != FG_OK)
        enroll_free(job);
}

/* ---- confirm / verify a code ------------------------------------------------------------ */

struct code_job {
    struct fg_iam *iam;
    int confirm; /* 1: activate enrolment; 0: second factor of a login */
    int otp;     /* the second factor is the delivered login code (session.mfa_otp) */
    char user_id[FG_USER_ID_MAX + 1];
    char session_id[FG_SESSION_ID_TEXT];
    char code[16];
    int64_t accepted_step;
    fg_rc verdict;  /* FG_OK or why refused */
    int locked_now; /* this failure locked the user */
    struct fg_audit_record record;
};

static void code_free(struct code_job *job)
{
    fg_wipe(job, sizeof *job);
    free(job);
}

struct secret_row {
    uint8_t sealed[FG_TOTP_SEALED_MAX];
    size_t len;
    int64_t last_step;
    int enrolled;
    int found;
};

static fg_rc secret_row(void *ctx, const struct fg_val *c, int n)
{
    struct secret_row *r = ctx;
    if (n != 3)
        return FG_ERR_CORRUPT;
    if (c[0].type == FG_VAL_BLOB && c[0].n <= sizeof r->sealed) {
        memcpy(r->sealed, c[0].p, c[0].n);
        r->len = c[0].n;
    }
    r->last_step = c[1].i;
    r->enrolled = (int)c[2].i;
    r->found = 1;
    return FG_OK;
}

/* Worker: read the sealed secret and check the code (no change yet). */
static fg_rc code_work(void *arg)
{
    struct code_job *job = arg;
    struct fg_iam *iam = job->iam;
    fg_conn *conn;
    fg_rc rc = fg_store_read_acquire(iam->store, &conn);
    if (rc)
        return rc;
    struct secret_row row = {0};
    struct fg_val p[] = {FG_VSTR(job->user_id)};
    rc = fg_conn_exec(conn,
                      "SELECT totp_secret, totp_last_step, totp_enrolled FROM iam_users "
                      "WHERE id = ?1",
                      p, 1, secret_row, &row, NULL);
    fg_store_read_release(iam->store, conn);
    if (rc)
        return rc;
    if (!row.found || row.len == 0 || row.enrolled == job->confirm) {
        job->verdict = FG_ERR_CONFLICT; /* nothing to confirm, or not enrolled yet */
    } else {
        job->verdict = fg_totp_verify_sealed(iam->keys, TOTP_TABLE, TOTP_COLUMN, job->user_id,
                                             row.sealed, row.len, job->code, fg_time_wall_s(),
                                             row.last_step, &job->accepted_step);
        if (job->verdict != FG_OK && job->verdict != FG_ERR_SEALED)
            job->verdict = FG_ERR_UNAUTHENTICATED;
    }
    fg_wipe(&row, sizeof row);
    return FG_OK;
}

static fg_rc locked_row(void *ctx, const struct fg_val *c, int n)
{
    if (n != 1)
        return FG_ERR_CORRUPT;
    *(int64_t *)ctx = c[0].i;
    return FG_OK;
}

/* The delivered login code: its verdict into job->verdict; FG_OK unless the database or the
 * keys failed (a counted try must survive the intent). */
static fg_rc verify_login_code(fg_conn *conn, struct code_job *job)
{
    char binding[FG_IAM_OTP_BINDING_SIZE];
    fg_iam_login_otp_binding(job->session_id, binding);
    fg_rc v =
        fg_otp_verify(conn, job->iam->keys, job->user_id, FG_IAM_OTP_LOGIN, binding, job->code);
    fg_wipe(job->code, sizeof job->code);
    switch (v) {
    case FG_OK:
        job->verdict = FG_OK;
        return FG_OK;
    case FG_ERR_INVALID:         /* not 6 digits */
    case FG_ERR_NOT_FOUND:       /* none sent, or used */
    case FG_ERR_TIMEOUT:         /* expired */
    case FG_ERR_LOCKED:          /* 5 wrong tries killed it */
    case FG_ERR_UNAUTHENTICATED: /* wrong, or for another session */
        job->verdict = FG_ERR_UNAUTHENTICATED;
        return FG_OK;
    default:
        return v;
    }
}

/* The second factor is done: the failure count resets and the session row says when it was
 * verified (AUTH-10: only verified sessions make a device "seen", users.h). */
static fg_rc session_verified(fg_conn *conn, struct code_job *job, int64_t now)
{
    fg_rc rc = fg_user_login_succeeded(conn, job->user_id);
    struct fg_val p[] = {FG_VSTR(job->session_id), FG_VINT(now)};
    if (rc == FG_OK)
        rc = fg_conn_exec(conn,
                          "UPDATE iam_sessions SET verified_ms = ?2 WHERE id = ?1 AND "
                          "verified_ms = 0",
                          p, 2, NULL, NULL, NULL);
    return rc;
}

static fg_rc code_intent_body(fg_conn *conn, struct code_job *job)
{
    int64_t now = fg_time_wall_ms(), locked_until = 0;
    struct fg_val q[] = {FG_VSTR(job->user_id)};
    fg_rc rc = fg_conn_exec(conn, "SELECT locked_until_ms FROM iam_users WHERE id = ?1", q, 1,
                            locked_row, &locked_until, NULL);
    if (rc)
        return rc;
    if (locked_until > now) { /* AUTH-2: no guesses while locked, whatever the session */
        fg_wipe(job->code, sizeof job->code);
        job->verdict = FG_ERR_LOCKED;
        return FG_OK;
    }
    if (job->otp && (rc = verify_login_code(conn, job)) != FG_OK)
        return rc;
    if (job->verdict == FG_ERR_UNAUTHENTICATED)
        return fg_user_login_failed(conn, job->user_id, &job->iam->lockout, now, &job->locked_now);
    if (job->verdict)
        return FG_OK; /* only the denied record */
    if (job->otp)
        return session_verified(conn, job, now);
    struct fg_val p[] = {FG_VSTR(job->user_id), FG_VINT(job->accepted_step)};
    int64_t changed = 0;
    rc = fg_conn_exec(conn,
                      job->confirm ? "UPDATE iam_users SET totp_enrolled = 1, "
                                     "totp_last_step = ?2 WHERE id = ?1 AND "
                                     "totp_last_step < ?2"
                                   : "UPDATE iam_users SET totp_last_step = ?2 "
                                     "WHERE id = ?1 AND totp_last_step < ?2",
                      p, 2, NULL, NULL, &changed);
    if (rc == FG_OK && changed == 0)
        rc = FG_ERR_UNAUTHENTICATED; /* the step was used meanwhile: a replayed code */
    if (rc == FG_OK)
        rc = session_verified(conn, job, now);
    return rc;
}

/* mfa.failed (+ user.locked) for a refused code (MON-1). */
static fg_rc code_events(fg_conn *conn, const struct code_job *job)
{
    int64_t now = fg_time_wall_ms();
    struct fg_event e = fg_event_of_record(&job->record, "mfa.failed", "user", job->user_id);
    fg_rc rc = fg_event_emit_json(conn, &e,
                                  json_pack("{s:s, s:s, s:s}", "user", job->user_id, "method",
                                            job->otp ? "otp" : "totp", "result",
                                            job->verdict == FG_ERR_LOCKED ? "locked" : "bad"),
                                  now);
    if (rc == FG_OK && job->locked_now) {
        e.type = "user.locked";
        rc = fg_event_emit_json(conn, &e, json_pack("{s:s}", "user", job->user_id), now);
    }
    return rc;
}

/* The verdict may be decided here (the delivered code, the lock): the record's result is set
 * before the audit hook appends it after this intent. */
static fg_rc code_intent(fg_conn *conn, void *arg)
{
    struct code_job *job = arg;
    fg_rc rc = code_intent_body(conn, job);
    if (rc == FG_OK && job->verdict != FG_OK)
        fg_audit_record_result(&job->record, FG_AUDIT_RESULT_DENIED, job->verdict);
    if (rc == FG_OK && (job->verdict == FG_ERR_UNAUTHENTICATED || job->verdict == FG_ERR_LOCKED))
        rc = code_events(conn, job);
    return rc;
}

static void code_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct code_job *job = arg;
    int ok = rc == FG_OK && job->verdict == FG_OK;
    if (ok)
        fg_sessions_set_mfa_done(job->iam->sessions, job->session_id);
    else if (rc == FG_OK && (job->verdict == FG_ERR_LOCKED || job->locked_now))
        fg_sessions_end(job->iam->sessions, job->session_id); /* log in again after the lock */
    if (c != NULL) {
        if (ok)
            fg_reply_json(c, 200, json_pack("{s:b}", "mfa_done", 1));
        else if (rc == FG_OK && job->verdict == FG_ERR_LOCKED)
            fg_reply_error(c, 423, "locked", "the account is locked after repeated failures", NULL);
        else if (job->verdict == FG_ERR_CONFLICT)
            fg_reply_error(c, 409, "conflict",
                           job->confirm ? "no pending enrolment to confirm"
                                        : "no second factor enrolled",
                           NULL);
        else if (rc == FG_OK || rc == FG_ERR_UNAUTHENTICATED)
            fg_reply_error(c, 401, "unauthenticated", "invalid or reused code", "code");
        else
            fg_reply_rc(c, rc, NULL);
    }
    code_free(job);
}

static void code_checked(struct fg_call *c, void *arg, fg_rc rc)
{
    struct code_job *job = arg;
    if (c == NULL || rc) {
        if (c != NULL)
            fg_reply_rc(c, rc, NULL);
        code_free(job);
        return;
    }
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    rc = fg_audit_record_init(&job->record, &who, job->confirm ? "auth.totp_confirm" : "auth.mfa",
                              "user", job->user_id);
    if (rc == FG_OK) {
        static const char otp_details[] = "{\"factor\":\"otp\"}";
        static const char totp_details[] = "{\"factor\":\"totp\"}";
        const char *d = job->otp ? otp_details : totp_details;
        rc = fg_audit_record_details(&job->record, d, strlen(d));
    }
    if (rc) {
        fg_reply_rc(c, rc, NULL);
        code_free(job);
        return;
    }
    if (job->verdict)
        fg_audit_record_result(&job->record, FG_AUDIT_RESULT_DENIED, job->verdict);
    if (fg_call_write_record(c, code_intent, job, &job->record, code_done) != FG_OK)
        code_free(job);
}

static const struct fg_json_field code_fields[] = {
    {"code", FG_JSON_STRING, 1, 6, 8},
};

static void submit_code(struct fg_call *c, int confirm)
{
    json_t *body = fg_call_body(c);
    struct fg_json_error err;
    if (fg_json_check(body, code_fields, 1, &err) != FG_OK) {
        fg_call_wipe_body(c);
        fg_reply_json_error(c, &err);
        return;
    }
    if (confirm && otp_pending(c, "auth.totp_confirm"))
        return;
    const struct fg_session *s = fg_call_session(c);
    struct code_job *job = calloc(1, sizeof *job);
    if (job == NULL) {
        fg_call_wipe_body(c);
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    job->iam = fg_call_app(c)->iam;
    job->confirm = confirm;
    job->otp = !confirm && s->mfa_otp;
    snprintf(job->user_id, sizeof job->user_id, "%s", s->user_id);
    snprintf(job->session_id, sizeof job->session_id, "%s", s->id);
    snprintf(job->code, sizeof job->code, "%s", json_string_value(json_object_get(body, "code")));
    fg_call_wipe_body(c);
    if (job->otp) /* nothing to read first: the code is checked on the writer */
        code_checked(c, job, FG_OK);
    else if (fg_call_defer(c, code_work, job, code_checked) != FG_OK)
        code_free(job);
}

static void totp_confirm(struct fg_call *c)
{
    submit_code(c, 1);
}

static void mfa(struct fg_call *c)
{
    submit_code(c, 0);
}

fg_rc fg_routes_mfa(struct fg_router *r, const struct fg_config *cfg)
{
    (void)cfg;
    fg_rc rc = fg_totp_init();
    const struct fg_route routes[] = {
        {.method = "POST",
         .pattern = "/v1/auth/totp/enroll",
         .permission = "self.mfa",
         .fn = totp_enroll},
        {.method = "POST",
         .pattern = "/v1/auth/totp/confirm",
         .permission = "self.mfa",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = totp_confirm},
        {.method = "POST",
         .pattern = "/v1/auth/mfa",
         .permission = "self.mfa",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = mfa},
    };
    for (size_t i = 0; rc == FG_OK && i < sizeof routes / sizeof routes[0]; i++)
        rc = fg_router_add(r, &routes[i]);
    return rc;
}
