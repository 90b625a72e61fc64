/*
 * routes_reset.c — the identity-verified reset of a customer's login (REQUIREMENTS AUTH-2:
 * "unlock next day, or by identity-verified reset"; docs/API.md "Identity-verified reset"):
 *
 *   POST /v1/customers/{id}/reset   customers.update   {"reason","identity_check"}
 *
 * A customer who forgot the password, lost the phone with the authenticator, or is locked out
 * comes to the branch; the teller checks the identity document in person and resets the
 * login. One write intent: the login loses its password, lock, failure count and TOTP secret
 * (iam/users.h fg_user_reset_customer; the password history stays), a new activation code
 * (72 h, single use) goes to the customer's RESERVED PHONE through the outbox, and the
 * "customers.reset" audit record and a "customer.reset" event commit with it. After commit
 * every session of the customer ends.
 *
 * The code is deliberately NOT in the answer (unlike registration, where the contract hands
 * it to the teller): a teller alone must not be able to take over an existing customer's
 * login. The phone itself changes only under four-eyes with a code to the old number
 * (AUTH-8), so the reset cannot be redirected either.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/log.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "event/event.h"
#include "http/call.h"
#include "http/server.h"
#include "iam/iam.h"
#include "ledger/customer.h"
#include "notify/otp.h"
#include "notify/outbox.h"

#define RESET_REASON_CHARS_MAX 256
/* How the identity was checked: a short word from the branch's procedure, recorded. */
static const char *const identity_checks[] = {"in_branch_id_document", "video_kyc", NULL};

/* Activation codes: 72 h (API.md /v1/auth/activate), 5 tries, 10 per hour. */
static const struct fg_otp_policy reset_policy = {
    .ttl_ms = FG_OTP_TTL_MS_MAX, .tries_max = 5, .issues_per_window = 10, .window_ms = 3600000};

struct reset_job {
    struct fg_app *app;
    char customer_id[FG_CUSTOMER_ID_SIZE + 8];
    char user_id[FG_USER_ID_MAX + 1];
    char reason[RESET_REASON_CHARS_MAX * 4 + 1];
    char identity_check[32];
    int64_t expires_ms;
    int status;          /* refusal status, 0 = done */
    const char *message; /* static */
    struct fg_audit_record record;
};

static fg_rc refuse(struct reset_job *job, int status, const char *message, fg_rc why)
{
    job->status = status;
    job->message = message;
    fg_audit_record_result(&job->record, FG_AUDIT_RESULT_DENIED, why);
    return FG_OK; /* the refusal's record commits */
}

static fg_rc reset_intent(fg_conn *conn, void *arg)
{
    struct reset_job *job = arg;
    struct fg_app *app = job->app;
    int destroyed = 0;
    fg_rc rc = fg_customer_owner(conn, job->customer_id, job->user_id, &destroyed);
    if (rc == FG_ERR_NOT_FOUND || (rc == FG_OK && destroyed))
        return refuse(job, 404, "no such customer", FG_ERR_NOT_FOUND);
    if (rc)
        return rc;
    char phone[FG_CUSTOMER_PHONE_SIZE + 8];
    rc = fg_customer_phone_of_user(conn, app->iam->keys, job->user_id, phone, sizeof phone);
    if (rc == FG_ERR_NOT_FOUND)
        return refuse(job, 409, "the customer has no reserved phone", FG_ERR_CONFLICT);
    if (rc == FG_OK)
        rc = fg_user_reset_customer(conn, job->user_id, fg_time_wall_ms());
    if (rc == FG_ERR_NOT_FOUND) {
        fg_wipe(phone, sizeof phone);
        return refuse(job, 409, "the customer's login is disabled", FG_ERR_CONFLICT);
    }
    if (rc == FG_OK && app->outbox == NULL)
        rc = FG_ERR_UNSUPPORTED; /* the code must reach the phone; no outbox, no reset */
    if (rc == FG_OK) {
        const struct fg_outbox_msg msg = {
            .to = phone,
            .channel = FG_OUTBOX_SMS,
            .purpose = "activation",
            .text = "finguard: your online banking login was reset at the branch. Activate it "
                    "again within 72 hours with the code of this message. Not you? Call the "
                    "bank now."};
        rc = fg_otp_send(conn, app->iam->keys, app->outbox, &reset_policy, job->user_id,
                         "activation", "", &msg, &job->expires_ms);
    }
    fg_wipe(phone, sizeof phone);
    if (rc)
        return rc; /* rolled back: no reset without its code (429 when codes ran out) */
    json_t *d = json_pack("{s:s, s:s, s:s}", "user_id", job->user_id, "identity_check",
                          job->identity_check, "reason", job->reason);
    char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    if (text == NULL)
        return FG_ERR_NOMEM;
    if (fg_audit_record_details(&job->record, text, strlen(text)) != FG_OK)
        fg_log(FG_LOG_WARN, "customers.reset_details_dropped");
    struct fg_event e = {.type = "customer.reset",
                         .actor_id = job->record.actor_id,
                         .source_ip = job->record.source_ip,
                         .device_id = job->record.device_id,
                         .object_type = "customer",
                         .object_id = job->customer_id,
                         .attrs_json = "{\"credentials\":\"reset\"}"};
    free(text);
    return fg_event_emit(conn, &e, fg_time_wall_ms());
}

static void reset_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct reset_job *job = arg;
    if (rc == FG_OK && job->status == 0)
        fg_sessions_end_user(job->app->iam->sessions, job->user_id, NULL); /* all, at once */
    if (c != NULL) {
        if (rc) {
            fg_reply_rc(c, rc, NULL);
        } else if (job->status) {
            const char *code = NULL;
            (void)fg_http_status_of(job->status == 404 ? FG_ERR_NOT_FOUND : FG_ERR_CONFLICT, &code);
            fg_reply_error(c, job->status, code, job->message, NULL);
        } else {
            char when[FG_TIME_RFC3339_LEN];
            fg_time_format_rfc3339(job->expires_ms, when);
            fg_reply_json(c, 200,
                          json_pack("{s:s, s:s, s:s, s:s}", "customer_id", job->customer_id,
                                    "state", "activation_sent", "delivery", "reserved_phone",
                                    "activation_expires_at", when));
        }
    }
    fg_wipe(job, sizeof *job);
    free(job);
}

static const struct fg_json_field reset_fields[] = {
    {"reason", FG_JSON_STRING, 1, 1, RESET_REASON_CHARS_MAX},
    {"identity_check", FG_JSON_STRING, 1, 1, 31},
};

static void reset_route(struct fg_call *c)
{
    struct fg_json_error err;
    json_t *body = fg_call_body(c);
    if (fg_json_check(body, reset_fields, 2, &err) != FG_OK) {
        fg_reply_json_error(c, &err);
        return;
    }
    const char *check = json_string_value(json_object_get(body, "identity_check"));
    int known = 0;
    for (size_t i = 0; identity_checks[i] != NULL; i++)
        known |= strcmp(check, identity_checks[i]) == 0;
    if (!known) {
        fg_reply_error(c, 400, "invalid_argument",
                       "identity_check is in_branch_id_document or video_kyc", "identity_check");
        return;
    }
    const char *id = fg_call_param(c, 0);
    struct reset_job *job = calloc(1, sizeof *job);
    if (job == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    job->app = fg_call_app(c);
    snprintf(job->customer_id, sizeof job->customer_id, "%s", id ? id : "");
    snprintf(job->reason, sizeof job->reason, "%s",
             json_string_value(json_object_get(body, "reason")));
    snprintf(job->identity_check, sizeof job->identity_check, "%s", check);
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    int loggable = fg_customer_id_valid(job->customer_id, FG_CUSTOMER_ID_PREFIX);
    if (fg_audit_record_init(&job->record, &who, "customers.reset", "customer",
                             loggable ? job->customer_id : "") != FG_OK) {
        free(job);
        fg_reply_rc(c, FG_ERR_INTERNAL, NULL);
        return;
    }
    if (!loggable) { /* not one of our ids: nothing to reset, nothing of it in the log */
        job->status = 404;
        job->message = "no such customer";
        fg_audit_record_result(&job->record, FG_AUDIT_RESULT_DENIED, FG_ERR_NOT_FOUND);
        if (fg_call_write_record(c, fg_audit_record_only, job, &job->record, reset_done) != FG_OK)
            free(job);
        return;
    }
    if (fg_call_write_record(c, reset_intent, job, &job->record, reset_done) != FG_OK)
        free(job);
}

fg_rc fg_routes_reset(struct fg_router *r, const struct fg_config *cfg)
{
    (void)cfg;
    static const struct fg_route route = {.method = "POST",
                                          .pattern = "/v1/customers/{id}/reset",
                                          .permission = "customers.update",
                                          .flags = FG_ROUTE_JSON_BODY,
                                          .fn = reset_route};
    return fg_router_add(r, &route);
}
