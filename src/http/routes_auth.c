/*
 * routes_auth.c — authentication routes (API.md "Authentication"; REQUIREMENTS AUTH-1,
 * AUTH-2, AUTH-3, AUTH-5, AUTH-7, AUTH-9, WEB-4):
 *   POST /v1/auth/login     public: {"username","password","device_id"} → a session
 *   POST /v1/auth/activate  public: {"username","activation_code","new_password",
 *                           "reserved_phrase"?} — a new customer's first password
 *   POST /v1/auth/logout    self.session: ends the session at once
 *   POST /v1/auth/password  self.password: {"old_password","new_password"}
 *   POST /v1/auth/phrase    self.session: {"reserved_phrase"} (after the second factor)
 *
 * Login: per-source limits first (429), then the Argon2id check on the bounded hashing pool
 * (a full pool is 429), then one write intent that carries the "auth.login" record and the
 * lockout bookkeeping or the session row; the answer comes after commit. Unknown user and
 * wrong password take the same path and give the byte-identical answer. A customer whose
 * second factor is a delivered code (session.mfa_otp, iam.h) gets it in the same intent as
 * the session row: the worker reads the reserved phone (ledger/customer.h), the intent issues
 * the code into the outbox (fg_otp_send: the code never passes through this file).
 *
 * Events (event/event.h, docs/events.md; REQUIREMENTS AUTH-7, MON-1), each in the intent
 * of its record: login.succeeded / login.failed (result bad, locked, throttled, expired, and
 * blocked for a source the per-source limit refuses — that refusal already writes its
 * record), user.locked when a failure locks the user, password.changed. A username that
 * matches no user is never stored: the record and the event name it "h:" + 16 letters a..p
 * (the nibbles of its SHA-256, fg_event_login_target) — people type passwords into the user
 * field.
 *
 * Activation (iam/activate.h): the same per-source limits, the policy and Argon2id on the
 * hashing pool, then one intent that verifies the code and sets the password, with the
 * "auth.activate" record. Every wrong — unknown or staff username, customer already active,
 * wrong, expired or dead code — is the one byte-identical 401.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/encode.h"
#include "base/log.h"
#include "base/time.h"
#include "event/event.h"
#include "http/call.h"
#include "http/server.h"
#include "iam/activate.h"
#include "iam/iam.h"
#include "monitor/monitor.h"
#include "ledger/customer.h"
#include "notify/otp.h"
#include "protect/protect.h"

/* ---- login ---------------------------------------------------------------------------- */

struct login_job {
    struct fg_iam *iam;
    fg_outbox *outbox;
    struct fg_monitor *monitor; /* the inline login risk (issue #6), or NULL */
    struct fg_login *login;
    struct fg_audit_record record;
    char source_ip[64];
    char phone[FG_ACTIVATE_PHONE_MAX + 1]; /* where the login code goes (mfa_otp) */
    int no_phone;
    char target[FG_EVENT_TARGET_SIZE]; /* an unknown username as the record and event name it */
};

static void login_job_free(struct login_job *job)
{
    fg_login_free(job->login);
    fg_wipe(job->phone, sizeof job->phone);
    free(job);
}

/* The reserved phone of a customer whose second factor is a delivered code. */
static fg_rc login_phone(struct login_job *job)
{
    struct fg_iam *iam = job->iam;
    fg_conn *conn;
    fg_rc rc = fg_store_read_acquire(iam->store, &conn);
    if (rc)
        return rc;
    rc = fg_customer_phone_of_user(conn, iam->keys, job->login->user.id, job->phone,
                                   sizeof job->phone);
    fg_store_read_release(iam->store, conn);
    if (rc == FG_ERR_NOT_FOUND) {
        job->no_phone = 1;
        rc = FG_OK;
    }
    return rc;
}

static fg_rc login_work(void *arg)
{
    struct login_job *job = arg;
    fg_rc rc = fg_iam_login_check(job->iam, job->login);
    if (rc == FG_OK && job->login->result == FG_LOGIN_OK && job->login->session.mfa_otp)
        rc = login_phone(job);
    return rc;
}

/* AUTH-3: the login code, SMS to the reserved phone, valid 5 minutes, bound to this session;
 * the text never holds the code (the sink line carries it apart). */
static const char login_code_text[] =
    "finguard: use this code to finish signing in to online banking. It is valid for 5 "
    "minutes. Never tell it to anyone, bank staff included.";

static fg_rc send_login_code(fg_conn *conn, struct login_job *job)
{
    struct fg_login *l = job->login;
    if (job->no_phone || job->outbox == NULL || job->phone[0] == '\0') {
        fg_log(FG_LOG_ERROR, "iam.login_code_undeliverable", FG_LF_STR("user", l->user.id));
        return FG_ERR_INTERNAL; /* no session without its second factor */
    }
    char binding[FG_IAM_OTP_BINDING_SIZE];
    fg_iam_login_otp_binding(l->session.id, binding);
    const struct fg_outbox_msg msg = {.to = job->phone,
                                      .channel = FG_OUTBOX_SMS,
                                      .purpose = FG_IAM_OTP_LOGIN,
                                      .text = login_code_text};
    return fg_otp_send(conn, job->iam->keys, job->outbox, NULL, l->user.id, FG_IAM_OTP_LOGIN,
                       binding, &msg, NULL);
}

static fg_rc count_row(void *ctx, const struct fg_val *cols, int ncols)
{
    if (ncols != 1 || cols[0].type != FG_VAL_INT)
        return FG_ERR_CORRUPT;
    *(int64_t *)ctx = cols[0].i;
    return FG_OK;
}

/* 1 if no fully authenticated session of the user came from this device (AUTH-10, 0009). */
static fg_rc login_new_device(fg_conn *conn, const struct fg_login *l, int *out)
{
    int64_t n = 0;
    struct fg_val p[] = {FG_VSTR(l->user.id), FG_VSTR(l->device_id)};
    fg_rc rc = fg_conn_exec(conn,
                            "SELECT count(*) FROM iam_sessions WHERE user_id = ?1 AND "
                            "device_id = ?2 AND verified_ms > 0",
                            p, 2, count_row, &n, NULL);
    *out = n == 0;
    return rc;
}

static const char *login_event_result(enum fg_login_result r)
{
    switch (r) {
    case FG_LOGIN_LOCKED:
        return "locked";
    case FG_LOGIN_THROTTLED:
        return "throttled";
    case FG_LOGIN_EXPIRED:
        return "expired";
    default:
        return "bad";
    }
}

/* login.succeeded / login.failed (+ user.locked) in the login's intent (AUTH-7, MON-1). */
static fg_rc login_events(fg_conn *conn, struct login_job *job, int new_device)
{
    const struct fg_login *l = job->login;
    int64_t now = fg_time_wall_ms();
    int ok = l->result == FG_LOGIN_OK;
    struct fg_event e = fg_event_of_record(&job->record, ok ? "login.succeeded" : "login.failed",
                                           l->known ? "user" : NULL, l->known ? l->user.id : NULL);
    e.device_id = fg_event_token(l->device_id, FG_EVENT_DEVICE_ID_MAX);
    json_t *a = l->known ? json_pack("{s:s, s:s, s:s}", "user", l->user.id, "target", l->user.id,
                                     "kind", l->user.staff ? "staff" : "customer")
                         : json_pack("{s:s}", "target", job->target);
    if (a != NULL && ok) {
        json_object_set_new(a, "new_device", json_boolean(new_device));
        if (job->monitor != NULL) {
            /* the inline login risk (MON-1, AUTH-7): recorded with the login for the rules */
            struct fg_risk_login q = {.ip = job->record.source_ip,
                                      .device = l->device_id,
                                      .user = l->user.id,
                                      .now_ms = now,
                                      .new_device = new_device};
            struct fg_risk_result risk;
            fg_monitor_assess_login(job->monitor, &q, &risk);
            json_object_set_new(a, "risk_score", json_integer(risk.score));
            json_object_set_new(a, "risk_decision",
                                json_string(fg_risk_decision_name(risk.decision)));
        }
    }
    else if (a != NULL)
        json_object_set_new(a, "result", json_string(login_event_result(l->result)));
    if (a == NULL)
        return FG_ERR_NOMEM;
    fg_rc rc = fg_event_emit_json(conn, &e, a, now);
    if (rc == FG_OK && l->known && l->locked_now) {
        e.type = "user.locked";
        rc = fg_event_emit_json(conn, &e, json_pack("{s:s}", "user", l->user.id), now);
    }
    return rc;
}

static fg_rc login_intent(fg_conn *conn, void *arg)
{
    struct login_job *job = arg;
    int new_device = 0;
    fg_rc rc =
        job->login->result == FG_LOGIN_OK ? login_new_device(conn, job->login, &new_device) : FG_OK;
    if (rc == FG_OK)
        rc = fg_iam_login_intent(conn, job->login);
    if (rc == FG_OK && job->login->result == FG_LOGIN_OK && job->login->session.mfa_otp)
        rc = send_login_code(conn, job); /* fails the intent: no session row, no code */
    if (rc == FG_OK)
        rc = login_events(conn, job, new_device);
    return rc;
}

/* The second factor a login answer names: false, "totp", "enroll" (staff without TOTP yet)
 * or "otp" (a customer's delivered code). */
static json_t *mfa_answer(const struct fg_login *l)
{
    if (!l->session.mfa_required)
        return json_false();
    if (l->session.mfa_otp)
        return json_string("otp");
    return json_string(l->user.totp_enrolled ? "totp" : "enroll");
}

static void reply_bad_login(struct fg_call *c)
{
    /* one answer for an unknown user and a wrong password */
    fg_reply_error(c, 401, "unauthenticated", "invalid username or password", NULL);
}

static void login_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct login_job *job = arg;
    struct fg_login *l = job->login;
    int64_t now_s = fg_time_wall_s();
    if (rc == FG_OK && l->result != FG_LOGIN_OK && l->result != FG_LOGIN_THROTTLED) {
        char src[FG_SESSION_DEVICE_MAX + 8];
        snprintf(src, sizeof src, "ip:%s", job->source_ip);
        fg_iam_source_failed(job->iam, src, now_s);
        snprintf(src, sizeof src, "dev:%s", l->device_id);
        fg_iam_source_failed(job->iam, src, now_s);
    }
    if (c == NULL) {
        login_job_free(job);
        return;
    }
    if (rc == FG_ERR_RATE_LIMITED) { /* login codes per hour (otp.h) */
        fg_call_add_header(c, "retry-after", "60");
        fg_reply_error(c, 429, "rate_limited", "too many sign-in codes; wait and retry", NULL);
    } else if (rc) {
        fg_reply_rc(c, rc, NULL);
    } else if (l->result == FG_LOGIN_OK) {
        rc = fg_iam_login_publish(job->iam, l);
        char key_text[64], expires[FG_TIME_RFC3339_LEN];
        if (rc == FG_OK)
            rc = fg_base64url_encode(l->key, FG_SESSION_KEY_BYTES, key_text, sizeof key_text);
        if (rc) {
            fg_reply_rc(c, rc, NULL);
        } else {
            fg_time_format_rfc3339(l->session.expires_ms, expires);
            json_t *mfa = mfa_answer(l);
            json_t *phrase = l->phrase[0] ? json_string(l->phrase) : json_null();
            fg_reply_json(c, 200,
                          json_pack("{s:s, s:s, s:s, s:o, s:b, s:o}", "token", l->token,
                                    "session_key", key_text, "expires_at", expires, "mfa_required",
                                    mfa, "must_change_password", l->session.must_change_password,
                                    "reserved_phrase", phrase));
            fg_wipe(key_text, sizeof key_text);
        }
    } else if (l->result == FG_LOGIN_LOCKED) {
        fg_reply_error(c, 423, "locked", "the account is locked after repeated failures", NULL);
    } else if (l->result == FG_LOGIN_THROTTLED) {
        char retry[24];
        int64_t wait_s = (l->retry_at_ms - fg_time_wall_ms() + 999) / 1000;
        snprintf(retry, sizeof retry, "%lld", (long long)(wait_s > 0 ? wait_s : 1));
        fg_call_add_header(c, "retry-after", retry);
        fg_reply_error(c, 429, "rate_limited", "too many failed attempts; wait and retry", NULL);
    } else {
        reply_bad_login(c);
    }
    login_job_free(job);
}

static const char *login_result_name(enum fg_login_result r)
{
    switch (r) {
    case FG_LOGIN_OK:
        return "ok";
    case FG_LOGIN_LOCKED:
        return "locked";
    case FG_LOGIN_THROTTLED:
        return "throttled";
    case FG_LOGIN_EXPIRED:
        return "expired";
    default:
        return "bad_credentials";
    }
}

static void login_checked(struct fg_call *c, void *arg, fg_rc rc)
{
    struct login_job *job = arg;
    struct fg_login *l = job->login;
    if (c == NULL || rc != FG_OK) {
        if (c != NULL)
            fg_reply_rc(c, rc, NULL);
        login_job_free(job);
        return;
    }
    /* the record: who tried, from where, what happened (never the password) */
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    if (l->known)
        who.actor_id = l->user.id;
    char details[192];
    int n = -1;
    if (!l->known)
        rc = fg_event_login_target(l->username, job->target);
    if (rc == FG_OK) /* an unknown name only as its hash: it may be a mistyped password */
        n = snprintf(details, sizeof details, "{\"%s\":\"%s\",\"result\":\"%s\"}",
                     l->known ? "username" : "target", l->known ? l->username : job->target,
                     login_result_name(l->result));
    if (rc == FG_OK)
        rc = fg_audit_record_init(&job->record, &who, "auth.login", "user",
                                  l->known ? l->user.id : "");
    if (rc == FG_OK && n > 0 && (size_t)n < sizeof details)
        rc = fg_audit_record_details(&job->record, details, (size_t)n);
    if (rc) {
        fg_reply_rc(c, rc, NULL);
        login_job_free(job);
        return;
    }
    static const fg_rc why[] = {[FG_LOGIN_BAD] = FG_ERR_UNAUTHENTICATED,
                                [FG_LOGIN_LOCKED] = FG_ERR_LOCKED,
                                [FG_LOGIN_THROTTLED] = FG_ERR_RATE_LIMITED,
                                [FG_LOGIN_EXPIRED] = FG_ERR_UNAUTHENTICATED};
    if (l->result != FG_LOGIN_OK)
        fg_audit_record_result(&job->record, FG_AUDIT_RESULT_DENIED, why[l->result]);
    if (fg_call_write_record(c, login_intent, job, &job->record, login_done) != FG_OK)
        login_job_free(job);
}

/* A refusal by the per-source limit is audited too ("auth.login", denied, rate limited):
 * the record commits, then the 429 goes out. */
struct limited_job {
    struct fg_audit_record record;
    char retry[24];
    char target[FG_EVENT_TARGET_SIZE]; /* "" for no event (activation) */
    char device[FG_EVENT_DEVICE_ID_MAX + 1];
};

/* A login refused by the per-source limit is login.failed, result "blocked" (AUTH-7). */
static fg_rc limited_intent(fg_conn *conn, void *arg)
{
    struct limited_job *job = arg;
    if (job->target[0] == '\0')
        return FG_OK;
    struct fg_event e = fg_event_of_record(&job->record, "login.failed", NULL, NULL);
    e.device_id = job->device;
    return fg_event_emit_json(conn, &e,
                              json_pack("{s:s, s:s}", "target", job->target, "result", "blocked"),
                              fg_time_wall_ms());
}

static void limited_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct limited_job *job = arg;
    if (rc)
        fg_log(FG_LOG_ERROR, "iam.limited_audit_failed", FG_LF_STR("rc", fg_rc_name(rc)));
    if (c != NULL) {
        fg_call_add_header(c, "retry-after", job->retry);
        fg_reply_error(c, 429, "rate_limited", "too many failed attempts from this source", NULL);
    }
    free(job);
}

static void source_limited(struct fg_call *c, const char *action, const char *username,
                           const char *device, int64_t wait_s)
{
    struct limited_job *job = calloc(1, sizeof *job);
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    char details[160];
    int n = -1;
    if (job != NULL && device != NULL) { /* a login: whether the name exists is not known here */
        if (fg_event_login_target(username != NULL ? username : "", job->target) != FG_OK)
            job->target[0] = '\0';
        snprintf(job->device, sizeof job->device, "%s",
                 fg_event_token(device, FG_EVENT_DEVICE_ID_MAX));
        n = snprintf(details, sizeof details, "{\"target\":\"%s\",\"result\":\"source_limited\"}",
                     job->target);
    } else {
        n = snprintf(details, sizeof details, "{\"username\":\"%s\",\"result\":\"source_limited\"}",
                     username && fg_username_valid(username) ? username : "");
    }
    fg_call_wipe_body(c);
    if (job == NULL || fg_audit_record_init(&job->record, &who, action, "user", "") != FG_OK ||
        n <= 0 || (size_t)n >= sizeof details ||
        fg_audit_record_details(&job->record, details, (size_t)n) != FG_OK) {
        free(job);
        fg_reply_rc(c, FG_ERR_RATE_LIMITED, NULL);
        return;
    }
    fg_audit_record_result(&job->record, FG_AUDIT_RESULT_DENIED, FG_ERR_RATE_LIMITED);
    snprintf(job->retry, sizeof job->retry, "%lld", (long long)wait_s);
    if (fg_call_write_record(c, limited_intent, job, &job->record, limited_done) != FG_OK)
        free(job);
}

static const struct fg_json_field login_fields[] = {
    {"username", FG_JSON_STRING, 1, 1, FG_USERNAME_MAX},
    {"password", FG_JSON_STRING, 1, 1, 1024},
    {"device_id", FG_JSON_STRING, 1, 1, FG_SESSION_DEVICE_MAX},
};

static void login(struct fg_call *c)
{
    struct fg_iam *iam = fg_call_app(c)->iam;
    json_t *body = fg_call_body(c);
    struct fg_json_error err;
    if (fg_json_check(body, login_fields, 3, &err) != FG_OK) {
        fg_call_wipe_body(c);
        fg_reply_json_error(c, &err);
        return;
    }
    const char *device = json_string_value(json_object_get(body, "device_id"));
    const char *peer = fg_call_peer(c);
    int64_t now_s = fg_time_wall_s();
    char src_ip[96], src_dev[FG_SESSION_DEVICE_MAX + 8];
    snprintf(src_ip, sizeof src_ip, "ip:%s", peer);
    snprintf(src_dev, sizeof src_dev, "dev:%s", device);
    int64_t wait_s = fg_iam_source_blocked(iam, src_ip, now_s);
    int64_t wait_dev = fg_iam_source_blocked(iam, src_dev, now_s);
    if (wait_dev > wait_s)
        wait_s = wait_dev;
    if (wait_s > 0) {
        fg_log(FG_LOG_WARN, "iam.source_limited", FG_LF_STR("source_ip", peer),
               FG_LF_INT("retry_after_s", wait_s));
        source_limited(c, "auth.login", json_string_value(json_object_get(body, "username")),
                       device, wait_s);
        return;
    }
    json_t *pw = json_object_get(body, "password");
    struct login_job *job = calloc(1, sizeof *job);
    fg_rc rc =
        job ? fg_login_new(json_string_value(json_object_get(body, "username")),
                           json_string_value(pw), json_string_length(pw), device, peer, &job->login)
            : FG_ERR_NOMEM;
    fg_call_wipe_body(c);
    if (rc) {
        free(job);
        fg_reply_rc(c, rc, NULL);
        return;
    }
    job->iam = iam;
    job->outbox = fg_call_app(c)->outbox;
    job->monitor = fg_call_app(c)->monitor;
    snprintf(job->source_ip, sizeof job->source_ip, "%s", peer);
    if (fg_call_defer_on(c, iam->hash_pool, login_work, job, login_checked) != FG_OK)
        login_job_free(job); /* answered 429 */
}

/* ---- activation (a customer's first password) ------------------------------------------ */

struct activate_job {
    struct fg_iam *iam;
    struct fg_activation *act;
    struct fg_audit_record record;
    char source_ip[64];
};

static void activate_job_free(struct activate_job *job)
{
    fg_activation_free(job->act);
    free(job);
}

static fg_rc activate_work(void *arg)
{
    struct activate_job *job = arg;
    return fg_activation_check(job->iam, job->act);
}

/* The verdict is known only here (the code is checked on the writer): the record gets its
 * details and result now, before the audit hook appends it after this intent. */
static fg_rc activate_intent(fg_conn *conn, void *arg)
{
    struct activate_job *job = arg;
    struct fg_activation *a = job->act;
    fg_rc rc = fg_activation_intent(conn, a);
    char details[160];
    int n = snprintf(details, sizeof details, "{\"username\":\"%s\",\"result\":\"%s\"}",
                     fg_username_valid(a->username) ? a->username : "", a->cause);
    if (n > 0 && (size_t)n < sizeof details &&
        fg_audit_record_details(&job->record, details, (size_t)n) != FG_OK)
        fg_log(FG_LOG_WARN, "iam.activate_details_dropped");
    static const fg_rc why[] = {[FG_ACTIVATE_BAD] = FG_ERR_UNAUTHENTICATED,
                                [FG_ACTIVATE_POLICY] = FG_ERR_POLICY,
                                [FG_ACTIVATE_LOCKED] = FG_ERR_LOCKED,
                                [FG_ACTIVATE_THROTTLED] = FG_ERR_RATE_LIMITED};
    if (a->result != FG_ACTIVATE_OK && rc == FG_OK)
        fg_audit_record_result(&job->record, FG_AUDIT_RESULT_DENIED, why[a->result]);
    else if (rc == FG_ERR_POLICY)
        fg_audit_record_result(&job->record, FG_AUDIT_RESULT_DENIED, FG_ERR_POLICY);
    return rc;
}

static void activate_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct activate_job *job = arg;
    struct fg_activation *a = job->act;
    if ((rc == FG_OK && (a->result == FG_ACTIVATE_BAD || a->result == FG_ACTIVATE_LOCKED))) {
        char src[96];
        snprintf(src, sizeof src, "ip:%s", job->source_ip);
        fg_iam_source_failed(job->iam, src, fg_time_wall_s());
    }
    if (c == NULL) {
        activate_job_free(job);
        return;
    }
    if (rc == FG_ERR_POLICY && a->result == FG_ACTIVATE_POLICY) {
        fg_reply_error(c, 422, "policy_violation", a->reason, "new_password");
    } else if (rc) {
        fg_reply_rc(c, rc, NULL);
    } else if (a->result == FG_ACTIVATE_OK) {
        fg_reply_json(c, 200, json_pack("{s:b}", "activated", 1));
    } else if (a->result == FG_ACTIVATE_POLICY) {
        fg_reply_error(c, 422, "policy_violation", a->reason, "new_password");
    } else if (a->result == FG_ACTIVATE_LOCKED) {
        fg_reply_error(c, 423, "locked", "the account is locked after repeated failures", NULL);
    } else if (a->result == FG_ACTIVATE_THROTTLED) {
        char retry[24];
        int64_t wait_s = (a->retry_at_ms - fg_time_wall_ms() + 999) / 1000;
        snprintf(retry, sizeof retry, "%lld", (long long)(wait_s > 0 ? wait_s : 1));
        fg_call_add_header(c, "retry-after", retry);
        fg_reply_error(c, 429, "rate_limited", "too many failed attempts; wait and retry", NULL);
    } else { /* one answer for every wrong: unknown, staff, active, wrong/expired/dead code */
        fg_reply_error(c, 401, "unauthenticated", "invalid username or activation code", NULL);
    }
    activate_job_free(job);
}

static void activate_checked(struct fg_call *c, void *arg, fg_rc rc)
{
    struct activate_job *job = arg;
    struct fg_activation *a = job->act;
    if (c == NULL || rc != FG_OK) {
        if (c != NULL)
            fg_reply_rc(c, rc, NULL);
        activate_job_free(job);
        return;
    }
    struct fg_audit_actor who; /* never the code, the password or the phrase */
    fg_call_actor(c, &who);
    if (a->known)
        who.actor_id = a->user.id;
    rc = fg_audit_record_init(&job->record, &who, "auth.activate", "user",
                              a->known ? a->user.id : "");
    if (rc) {
        fg_reply_rc(c, rc, NULL);
        activate_job_free(job);
        return;
    }
    if (fg_call_write_record(c, activate_intent, job, &job->record, activate_done) != FG_OK)
        activate_job_free(job);
}

static const struct fg_json_field activate_fields[] = {
    {"username", FG_JSON_STRING, 1, 1, FG_USERNAME_MAX},
    {"activation_code", FG_JSON_STRING, 1, 1, FG_ACTIVATE_CODE_MAX},
    {"new_password", FG_JSON_STRING, 1, 1, 1024},
    {"reserved_phrase", FG_JSON_STRING, 0, FG_IAM_PHRASE_CHARS_MIN, FG_IAM_PHRASE_CHARS_MAX},
};

static void activate(struct fg_call *c)
{
    struct fg_iam *iam = fg_call_app(c)->iam;
    json_t *body = fg_call_body(c);
    struct fg_json_error err;
    if (fg_json_check(body, activate_fields, 4, &err) != FG_OK) {
        fg_call_wipe_body(c);
        fg_reply_json_error(c, &err);
        return;
    }
    const char *username = json_string_value(json_object_get(body, "username"));
    const char *peer = fg_call_peer(c);
    char src_ip[96];
    snprintf(src_ip, sizeof src_ip, "ip:%s", peer);
    int64_t wait_s = fg_iam_source_blocked(iam, src_ip, fg_time_wall_s());
    if (wait_s > 0) { /* the same budget as login: one source, one count of failures */
        fg_log(FG_LOG_WARN, "iam.source_limited", FG_LF_STR("source_ip", peer),
               FG_LF_INT("retry_after_s", wait_s));
        source_limited(c, "auth.activate", username, NULL, wait_s);
        return;
    }
    json_t *pw = json_object_get(body, "new_password");
    json_t *phrase = json_object_get(body, "reserved_phrase");
    struct activate_job *job = calloc(1, sizeof *job);
    fg_rc rc = job ? fg_activation_new(username,
                                       json_string_value(json_object_get(body, "activation_code")),
                                       json_string_value(pw), json_string_length(pw),
                                       phrase ? json_string_value(phrase) : NULL,
                                       phrase ? json_string_length(phrase) : 0,
                                       fg_customer_phone_of_user, &job->act)
                   : FG_ERR_NOMEM;
    fg_call_wipe_body(c);
    if (rc) {
        free(job);
        fg_reply_rc(c, rc, NULL);
        return;
    }
    job->iam = iam;
    snprintf(job->source_ip, sizeof job->source_ip, "%s", peer);
    if (fg_call_defer_on(c, iam->hash_pool, activate_work, job, activate_checked) != FG_OK)
        activate_job_free(job); /* answered 429 */
}

/* ---- logout ---------------------------------------------------------------------------- */

struct logout_job {
    char session_id[FG_SESSION_ID_TEXT];
    struct fg_audit_record record;
};

static fg_rc logout_intent(fg_conn *conn, void *arg)
{
    struct logout_job *job = arg;
    struct fg_val p[] = {FG_VSTR(job->session_id), FG_VINT(fg_time_wall_ms())};
    return fg_conn_exec(conn,
                        "UPDATE iam_sessions SET ended_ms = ?2, end_reason = 'logout' "
                        "WHERE id = ?1 AND ended_ms = 0",
                        p, 2, NULL, NULL, NULL);
}

static void logout_done(struct fg_call *c, void *arg, fg_rc rc)
{
    if (c != NULL) {
        if (rc)
            fg_reply_rc(c, rc, NULL);
        else
            fg_reply_json(c, 200, json_pack("{s:b}", "ended", 1));
    }
    free(arg);
}

static void logout(struct fg_call *c)
{
    const struct fg_session *s = fg_call_session(c);
    struct fg_iam *iam = fg_call_app(c)->iam;
    fg_sessions_end(iam->sessions, s->id); /* at once, before the record commits */
    struct logout_job *job = calloc(1, sizeof *job);
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    if (job == NULL ||
        fg_audit_record_init(&job->record, &who, "auth.logout", "session", "") != FG_OK) {
        free(job);
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    snprintf(job->session_id, sizeof job->session_id, "%s", s->id);
    if (fg_call_write_record(c, logout_intent, job, &job->record, logout_done) != FG_OK)
        free(job);
}

/* ---- password change ------------------------------------------------------------------- */

struct password_job {
    struct fg_iam *iam;
    char user_id[FG_USER_ID_MAX + 1];
    char username[FG_USERNAME_MAX + 1];
    char session_id[FG_SESSION_ID_TEXT];
    char *old_pw, *new_pw; /* locked */
    size_t old_len, new_len;
    const char *reason; /* static, for a refusal */
    fg_rc refusal;
    char new_hash[FG_PWHASH_STR_MAX];
    struct fg_audit_record record;
};

static void password_job_free(struct password_job *job)
{
    fg_secure_free(job->old_pw);
    fg_secure_free(job->new_pw);
    fg_wipe(job, sizeof *job);
    free(job);
}

/* Worker: verify the old password, apply the policy and history, hash the new one. */
static fg_rc password_work(void *arg)
{
    struct password_job *job = arg;
    struct fg_iam *iam = job->iam;
    fg_conn *conn;
    fg_rc rc = fg_store_read_acquire(iam->store, &conn);
    if (rc)
        return rc;
    struct fg_user u;
    char history[FG_PASSWORD_HISTORY_KEEP][FG_PWHASH_STR_MAX];
    size_t nhist = 0;
    rc = fg_user_load(conn, iam->roles, job->user_id, &u);
    if (rc == FG_OK)
        rc = fg_user_password_history(conn, job->user_id, history, &nhist);
    fg_store_read_release(iam->store, conn);
    if (rc)
        return rc;
    if (fg_password_verify(u.password_hash, job->old_pw, job->old_len) != FG_OK) {
        job->refusal = FG_ERR_UNAUTHENTICATED;
        job->reason = "the current password is wrong";
        return FG_OK;
    }
    struct fg_password_context who = {.username = u.username};
    rc = fg_password_check(iam->passwords, job->new_pw, job->new_len, &who, &job->reason);
    if (rc == FG_ERR_POLICY) {
        job->refusal = FG_ERR_POLICY;
        return FG_OK;
    }
    if (rc)
        return rc;
    const char *hashes[FG_PASSWORD_HISTORY_KEEP + 1] = {u.password_hash};
    for (size_t i = 0; i < nhist; i++)
        hashes[i + 1] = history[i];
    int found = 0;
    rc = fg_password_in_history(hashes, nhist + 1, job->new_pw, job->new_len, &found);
    if (rc == FG_OK && found) {
        job->refusal = FG_ERR_POLICY;
        job->reason = "was used recently: choose one not among the last 4";
        return FG_OK;
    }
    if (rc == FG_OK)
        rc = fg_password_hash(job->new_pw, job->new_len, job->new_hash);
    return rc;
}

static fg_rc password_intent(fg_conn *conn, void *arg)
{
    struct password_job *job = arg;
    if (job->refusal)
        return FG_OK; /* only the denied record */
    fg_rc rc = fg_user_set_password(conn, job->user_id, job->new_hash, fg_time_wall_ms());
    struct fg_val p[] = {FG_VSTR(job->user_id), FG_VSTR(job->session_id),
                         FG_VINT(fg_time_wall_ms())};
    if (rc == FG_OK) /* every other session of the user ends */
        rc = fg_conn_exec(conn,
                          "UPDATE iam_sessions SET ended_ms = ?3, end_reason = 'password_change' "
                          "WHERE user_id = ?1 AND id <> ?2 AND ended_ms = 0",
                          p, 3, NULL, NULL, NULL);
    if (rc == FG_OK) {
        struct fg_event e =
            fg_event_of_record(&job->record, "password.changed", "user", job->user_id);
        rc = fg_event_emit_json(conn, &e, json_pack("{s:s}", "user", job->user_id),
                                fg_time_wall_ms());
    }
    return rc;
}

static void password_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct password_job *job = arg;
    if (rc == FG_OK && !job->refusal) {
        fg_sessions_end_user(job->iam->sessions, job->user_id, job->session_id);
        fg_sessions_set_password_changed(job->iam->sessions, job->session_id);
    }
    if (c != NULL) {
        if (rc)
            fg_reply_rc(c, rc, NULL);
        else if (job->refusal == FG_ERR_UNAUTHENTICATED)
            fg_reply_error(c, 401, "unauthenticated", job->reason, "old_password");
        else if (job->refusal)
            fg_reply_error(c, 422, "policy_violation", job->reason, "new_password");
        else
            fg_reply_json(c, 200, json_pack("{s:b}", "changed", 1));
    }
    password_job_free(job);
}

static void password_checked(struct fg_call *c, void *arg, fg_rc rc)
{
    struct password_job *job = arg;
    if (c == NULL || rc != FG_OK) {
        if (c != NULL)
            fg_reply_rc(c, rc, NULL);
        password_job_free(job);
        return;
    }
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    rc = fg_audit_record_init(&job->record, &who, "auth.password_change", "user", job->user_id);
    if (rc) {
        fg_reply_rc(c, rc, NULL);
        password_job_free(job);
        return;
    }
    if (job->refusal)
        fg_audit_record_result(&job->record, FG_AUDIT_RESULT_DENIED, job->refusal);
    if (fg_call_write_record(c, password_intent, job, &job->record, password_done) != FG_OK)
        password_job_free(job);
}

static const struct fg_json_field password_fields[] = {
    {"old_password", FG_JSON_STRING, 1, 1, 1024},
    {"new_password", FG_JSON_STRING, 1, 1, 1024},
};

static char *secure_copy(json_t *s, size_t *len)
{
    *len = json_string_length(s);
    char *p = fg_secure_alloc(*len + 1);
    if (p != NULL) {
        memcpy(p, json_string_value(s), *len);
        p[*len] = '\0';
    }
    return p;
}

static void password_change(struct fg_call *c)
{
    json_t *body = fg_call_body(c);
    struct fg_json_error err;
    if (fg_json_check(body, password_fields, 2, &err) != FG_OK) {
        fg_call_wipe_body(c);
        fg_reply_json_error(c, &err);
        return;
    }
    const struct fg_session *s = fg_call_session(c);
    struct password_job *job = calloc(1, sizeof *job);
    if (job != NULL) {
        job->iam = fg_call_app(c)->iam;
        snprintf(job->user_id, sizeof job->user_id, "%s", s->user_id);
        snprintf(job->session_id, sizeof job->session_id, "%s", s->id);
        job->old_pw = secure_copy(json_object_get(body, "old_password"), &job->old_len);
        job->new_pw = secure_copy(json_object_get(body, "new_password"), &job->new_len);
    }
    fg_call_wipe_body(c);
    if (job == NULL || job->old_pw == NULL || job->new_pw == NULL) {
        if (job)
            password_job_free(job);
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    if (fg_call_defer_on(c, job->iam->hash_pool, password_work, job, password_checked) != FG_OK)
        password_job_free(job);
}

/* ---- reserved phrase (AUTH-9) ------------------------------------------------------------ */

struct phrase_job {
    char user_id[FG_USER_ID_MAX + 1];
    uint8_t sealed[FG_PROTECT_SEALED_MAX(FG_IAM_PHRASE_BYTES_MAX)];
    size_t sealed_len;
    struct fg_audit_record record;
};

static fg_rc phrase_intent(fg_conn *conn, void *arg)
{
    struct phrase_job *job = arg;
    struct fg_val p[] = {FG_VSTR(job->user_id), FG_VBLOB(job->sealed, job->sealed_len)};
    return fg_conn_exec(conn, "UPDATE iam_users SET reserved_phrase = ?2 WHERE id = ?1", p, 2, NULL,
                        NULL, NULL);
}

static void phrase_done(struct fg_call *c, void *arg, fg_rc rc)
{
    if (c != NULL) {
        if (rc)
            fg_reply_rc(c, rc, NULL);
        else
            fg_reply_json(c, 200, json_pack("{s:b}", "saved", 1));
    }
    struct phrase_job *job = arg;
    fg_wipe(job, sizeof *job);
    free(job);
}

static const struct fg_json_field phrase_fields[] = {
    {"reserved_phrase", FG_JSON_STRING, 1, FG_IAM_PHRASE_CHARS_MIN, FG_IAM_PHRASE_CHARS_MAX},
};

static void phrase_refused(struct fg_call *c, void *arg, fg_rc rc)
{
    if (rc)
        fg_log(FG_LOG_ERROR, "iam.phrase_audit_failed", FG_LF_STR("rc", fg_rc_name(rc)));
    if (c != NULL)
        fg_reply_error(c, 403, "mfa_required", "complete multi-factor authentication first", NULL);
    phrase_done(NULL, arg, FG_OK);
}

static void set_phrase(struct fg_call *c)
{
    json_t *body = fg_call_body(c);
    struct fg_json_error err;
    if (fg_json_check(body, phrase_fields, 1, &err) != FG_OK) {
        fg_reply_json_error(c, &err);
        return;
    }
    json_t *phrase = json_object_get(body, "reserved_phrase");
    const struct fg_session *s = fg_call_session(c);
    struct phrase_job *job = calloc(1, sizeof *job);
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    fg_rc rc = job ? FG_OK : FG_ERR_NOMEM;
    if (rc == FG_OK && s->mfa_required && !s->mfa_done) {
        /* the anti-phishing phrase (AUTH-9) is changed by a fully signed-in user only: with
         * the password alone someone could plant a phrase the real customer would not know */
        fg_call_wipe_body(c);
        rc = fg_audit_record_init(&job->record, &who, "auth.reserved_phrase", "user", s->user_id);
        if (rc) {
            free(job);
            fg_reply_rc(c, rc, NULL);
            return;
        }
        fg_audit_record_result(&job->record, FG_AUDIT_RESULT_DENIED, FG_ERR_PERMISSION);
        if (fg_call_write_record(c, fg_audit_record_only, job, &job->record, phrase_refused) !=
            FG_OK)
            free(job);
        return;
    }
    if (rc == FG_OK) {
        snprintf(job->user_id, sizeof job->user_id, "%s", s->user_id);
        rc = fg_iam_phrase_seal(fg_call_app(c)->iam, job->user_id, json_string_value(phrase),
                                json_string_length(phrase), job->sealed, sizeof job->sealed,
                                &job->sealed_len);
    }
    fg_call_wipe_body(c);
    if (rc == FG_OK) /* the phrase itself is never in the record */
        rc = fg_audit_record_init(&job->record, &who, "auth.reserved_phrase", "user", job->user_id);
    if (rc) {
        free(job);
        fg_reply_rc(c, rc, NULL);
        return;
    }
    if (fg_call_write_record(c, phrase_intent, job, &job->record, phrase_done) != FG_OK)
        free(job);
}

fg_rc fg_routes_auth(struct fg_router *r, const struct fg_config *cfg)
{
    (void)cfg;
    const struct fg_route routes[] = {
        {.method = "POST",
         .pattern = "/v1/auth/login",
         .permission = FG_PERM_PUBLIC,
         .flags = FG_ROUTE_JSON_BODY,
         .fn = login},
        {.method = "POST",
         .pattern = "/v1/auth/activate",
         .permission = FG_PERM_PUBLIC,
         .flags = FG_ROUTE_JSON_BODY,
         .fn = activate},
        {.method = "POST",
         .pattern = "/v1/auth/logout",
         .permission = "self.session",
         .fn = logout},
        {.method = "POST",
         .pattern = "/v1/auth/password",
         .permission = "self.password",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = password_change},
        {.method = "POST",
         .pattern = "/v1/auth/phrase",
         .permission = "self.session",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = set_phrase},
    };
    fg_rc rc = FG_OK;
    for (size_t i = 0; rc == FG_OK && i < sizeof routes / sizeof routes[0]; i++)
        rc = fg_router_add(r, &routes[i]);
    return rc;
}
