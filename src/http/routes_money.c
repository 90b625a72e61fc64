/*
 * routes_money.c — accounts, cash at the counter, transfers with verification tiers,
 * freezes, limits, statements and the proof of the books (API.md "Customers, cards,
 * accounts, money"; issue #5; REQUIREMENTS TXN-1..7, AUTH-4, AUTH-10; docs/API.md "Money").
 *
 *   POST /v1/accounts                    accounts.create   {"customer_id","currency"}
 *   GET  /v1/accounts/{id}               accounts.read     owner or staff
 *   GET  /v1/accounts/{id}/entries       statements.read   owner or staff; ?limit=&cursor=
 *   GET  /v1/customers/{id}/accounts     accounts.read     owner or staff
 *   POST /v1/deposits, /v1/withdrawals   money.deposit / money.withdraw (Idempotency-Key)
 *   POST /v1/transfers                   transfers.create  owner of `from` (Idempotency-Key)
 *   GET  /v1/transfers/{id}              statements.read   owner or staff
 *   POST /v1/accounts/{id}/freeze        accounts.freeze   at once (TXN-5)
 *   POST /v1/accounts/{id}/unfreeze      accounts.unfreeze four-eyes: approve.unfreeze
 *   POST /v1/accounts/{id}/limits        accounts.limits   lower at once; raise: approve.limits
 *   GET  /v1/ledger/check                ledger.check      proof of the books (TXN-6)
 * The GET routes are in routes_money_read.c; what both files share (the owner rule) is in
 * money.h.
 *
 * Every money movement is ONE write intent on the single writer: idempotency look-up,
 * ownership, limits and tier, the one-time code, the journal entry, the transfer row, the
 * customer's notice (outbox) and the monitor's event, with the audit record attached — all
 * commit together or not at all. Decisions that read state (daily sums, balances) run on
 * the writer too, so two concurrent transfers can never both pass a limit that only one
 * fits. Refusals on the merits (limits, funds, frozen) commit their record, notice and event
 * (TXN-7: refused movements are notified as well) and write nothing else.
 *
 * Ownership (IDOR): a customer may only touch accounts of their own customer record. Any
 * other account id — existing or not — is 403 permission_denied with an `access.denied`
 * record, so walking ids reveals nothing. A payee that does not exist, is closed or holds
 * another currency gets one and the same 422 answer.
 *
 * Idempotency (TXN-2): scope = the caller's user id; the key is the Idempotency-Key header;
 * the body hash covers what the movement is (not the one-time code, so a step-up retry
 * reuses the key). Only outcomes that changed state are remembered (201 committed, 202
 * pending approval): a retry after a refusal is evaluated again (docs/ledger.md).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/log.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "event/event.h"
#include "http/call.h"
#include "http/money.h"
#include "http/server.h"
#include "iam/approval.h"
#include "iam/iam.h"
#include "ledger/customer.h"
#include "ledger/ledger.h"
#include "ledger/limits.h"
#include "notify/otp.h"
#include "monitor/monitor.h"
#include "notify/outbox.h"

/* The features appended to transfer events: customer, idle days, the risk answer. */
#define MONEY_FEATURES_MAX 384
#define MONEY_REASON_CHARS_MAX 256
#define MONEY_TEXT_MAX 512u
/* The binding of a transfer's one-time code: what it authorises (notify/otp.h). */
#define MONEY_OTP_PURPOSE "transfer"

/* ---- who is asking ------------------------------------------------------------------------ */

void fg_money_who_of(struct fg_call *c, struct fg_money_who *w)
{
    const struct fg_session *s = fg_call_session(c);
    memset(w, 0, sizeof *w);
    snprintf(w->user_id, sizeof w->user_id, "%s", s->user_id);
    snprintf(w->device_id, sizeof w->device_id, "%s", s->device_id);
    w->role_mask = s->role_mask;
    w->staff = s->staff;
}

/* Customers: their customer id (a customer login without one may touch nothing). */
fg_rc fg_money_who_resolve(fg_conn *conn, struct fg_money_who *w)
{
    if (w->staff)
        return FG_OK;
    fg_rc rc = fg_customer_id_of_user(conn, w->user_id, w->customer_id);
    return rc == FG_ERR_NOT_FOUND ? FG_ERR_PERMISSION : rc;
}

int fg_money_may_see(const struct fg_money_who *w, const struct fg_ledger_account *a)
{
    return w->staff || (a->customer_id[0] != '\0' && strcmp(a->customer_id, w->customer_id) == 0);
}

/* ---- small helpers ---------------------------------------------------------------------- */

/* An id from a path that may name the object of an audit record: the shape of our ids
 * ([A-Za-z0-9_-], at most 64), and no run of 12 or more digits — whatever a client puts in
 * a path, a card or ID number must never reach the audit log (DATA-4). */
int fg_money_id_loggable(const char *id)
{
    size_t n = strlen(id), digits = 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = id[i];
        int digit = ch >= '0' && ch <= '9';
        if (!digit && !(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') && ch != '_' &&
            ch != '-')
            return 0;
        digits = digit ? digits + 1 : 0;
        if (digits >= 12)
            return 0;
    }
    return 1;
}

fg_keys *fg_money_keys(struct fg_app *app)
{
    return app->iam->keys;
}

/* "12345" minor units → "123.45" */
static void amount_text(int64_t amount, char out[32])
{
    uint64_t a = amount < 0 ? (uint64_t)0 - (uint64_t)amount : (uint64_t)amount;
    snprintf(out, 32, "%s%llu.%02llu", amount < 0 ? "-" : "", (unsigned long long)(a / 100),
             (unsigned long long)(a % 100));
}

/* The last 4 characters of an account id, for notices (never the whole id in an SMS). */
static const char *tail4(const char *id)
{
    size_t n = strlen(id);
    return n > 4 ? id + n - 4 : id;
}

/* A notice to the owner of account a (TXN-7). Customers without a phone (destroyed) get none. */
static fg_rc notify_owner(fg_conn *conn, struct fg_app *app, const char *customer_id,
                          const char *text)
{
    if (app->outbox == NULL || customer_id == NULL || customer_id[0] == '\0')
        return FG_OK;
    char user_id[FG_USER_ID_MAX + 1];
    int destroyed = 0;
    fg_rc rc = fg_customer_owner(conn, customer_id, user_id, &destroyed);
    if (rc == FG_ERR_NOT_FOUND || (rc == FG_OK && destroyed))
        return FG_OK;
    if (rc)
        return rc;
    char phone[FG_CUSTOMER_PHONE_SIZE + 8];
    rc = fg_customer_phone_of_user(conn, fg_money_keys(app), user_id, phone, sizeof phone);
    if (rc == FG_ERR_NOT_FOUND)
        return FG_OK;
    if (rc)
        return rc;
    struct fg_outbox_msg msg = {
        .to = phone, .channel = FG_OUTBOX_SMS, .purpose = "transaction", .text = text};
    rc = fg_outbox_add(app->outbox, conn, &msg);
    fg_wipe(phone, sizeof phone);
    return rc;
}

static fg_rc emit(fg_conn *conn, const struct fg_audit_record *rec, const char *type,
                  const char *object_type, const char *object_id, const char *attrs, int64_t now_ms)
{
    struct fg_event e = {.type = type,
                         .actor_id = rec->actor_id,
                         .source_ip = rec->source_ip,
                         .device_id = rec->device_id,
                         .object_type = object_type,
                         .object_id = object_id,
                         .attrs_json = attrs};
    return fg_event_emit(conn, &e, now_ms);
}

static int idem_key_valid(const char *k)
{
    size_t n = k ? strlen(k) : 0;
    if (n < 1 || n > FG_LEDGER_IDEM_KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e)
            return 0;
    return 1;
}

static int currency_shape(const char *s)
{
    return s != NULL && strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
           s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z';
}

/* ---- one job for every write of this file ------------------------------------------------- */

enum op { OP_OPEN, OP_DEPOSIT, OP_WITHDRAW, OP_TRANSFER, OP_FREEZE, OP_UNFREEZE, OP_LIMITS };

struct job {
    struct fg_app *app;
    enum op op;
    struct fg_money_who who;
    struct fg_audit_record record;
    int64_t now_ms;
    /* request */
    char account[FG_LEDGER_ID_MAX + 1]; /* from / the account acted on */
    char to[FG_LEDGER_ID_MAX + 1];
    char customer_id[FG_LEDGER_ID_MAX + 1];
    char currency[4];
    int64_t amount;
    int64_t per_txn, per_day;
    char memo[FG_LEDGER_MEMO_MAX + 1];
    size_t memo_len;
    char otp[FG_OTP_CODE_SIZE + 8];
    int has_otp;
    char idem_key[FG_LEDGER_IDEM_KEY_MAX + 1];
    uint8_t hash[FG_LEDGER_IDEM_HASH_LEN];
    char reason[MONEY_REASON_CHARS_MAX * 4 + 1];
    /* what the monitor learns with each transfer event (issue #6): ,"customer":…,"risk_…" */
    char features[MONEY_FEATURES_MAX];
    /* outcome */
    int status;                                /* HTTP status of the answer */
    const char *code;                          /* error answers: static */
    const char *message;                       /* static */
    const char *field;                         /* static or NULL */
    int step_up;                               /* 403 step_up_required */
    char response[FG_LEDGER_RESPONSE_MAX + 1]; /* success body (compact JSON) */
};

static struct job *job_new(struct fg_call *c, enum op op, const char *action,
                           const char *object_type)
{
    struct job *job = calloc(1, sizeof *job);
    if (job == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return NULL;
    }
    job->app = fg_call_app(c);
    job->op = op;
    fg_money_who_of(c, &job->who);
    struct fg_audit_actor actor;
    fg_call_actor(c, &actor);
    if (fg_audit_record_init(&job->record, &actor, action, object_type, NULL) != FG_OK) {
        free(job);
        fg_reply_rc(c, FG_ERR_INTERNAL, NULL);
        return NULL;
    }
    return job;
}

static void job_free(struct job *job)
{
    if (job == NULL)
        return;
    fg_wipe(job, sizeof *job);
    free(job);
}

static fg_rc refuse(struct job *job, int status, const char *code, const char *message,
                    const char *field, fg_rc why)
{
    job->status = status;
    job->code = code;
    job->message = message;
    job->field = field;
    fg_audit_record_result(&job->record, FG_AUDIT_RESULT_DENIED, why);
    return FG_OK; /* the record (and any notice/event written before) commits */
}

static fg_rc refuse_rc(struct job *job, fg_rc rc, const char *message, const char *field)
{
    const char *code = NULL;
    int status = fg_http_status_of(rc, &code);
    return refuse(job, status, code, message ? message : fg_rc_str(rc), field, rc);
}

static void set_object(struct job *job, const char *type, const char *id)
{
    snprintf(job->record.object_type, sizeof job->record.object_type, "%s", type);
    snprintf(job->record.object_id, sizeof job->record.object_id, "%s", id);
}

static void set_details(struct job *job, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_details(struct job *job, const char *fmt, ...)
{
    char buf[FG_AUDIT_DETAILS_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof buf &&
        fg_audit_record_details(&job->record, buf, (size_t)n) != FG_OK)
        fg_log(FG_LOG_WARN, "money.details_refused", FG_LF_STR("action", job->record.action));
}

static void write_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct job *job = arg;
    if (c != NULL) {
        if (rc) {
            fg_reply_rc(c, rc, NULL);
        } else if (job->step_up) {
            json_t *body =
                json_pack("{s:{s:s, s:s, s:s}, s:s}", "error", "code", "step_up_required",
                          "message", job->message, "step_up", "otp", "step_up", "otp");
            fg_reply_json(c, 403, body);
        } else if (job->status >= 400) {
            fg_reply_error(c, job->status, job->code, job->message, job->field);
        } else {
            json_t *body = json_loads(job->response, 0, NULL);
            if (body == NULL)
                fg_reply_rc(c, FG_ERR_INTERNAL, NULL);
            else
                fg_reply_json(c, job->status, body);
        }
    }
    job_free(job);
}

static void submit(struct fg_call *c, struct job *job, fg_intent_fn fn)
{
    if (fg_call_write_record(c, fn, job, &job->record, write_done) != FG_OK)
        job_free(job);
}

/* The account acted on, loaded and owner-checked (customers). NOT_FOUND for staff, PERMISSION
 * for a customer (existing or not: ids reveal nothing). */
static fg_rc load_mine(fg_conn *conn, struct job *job, const char *id, struct fg_ledger_account *a)
{
    if (fg_money_id_loggable(id)) /* a refusal's record names the account asked for */
        set_object(job, "account", id);
    fg_rc rc = fg_money_who_resolve(conn, &job->who);
    if (rc)
        return rc;
    rc = fg_ledger_account_get(conn, id, a);
    if (rc == FG_ERR_NOT_FOUND && !job->who.staff)
        return FG_ERR_PERMISSION;
    if (rc)
        return rc;
    return fg_money_may_see(&job->who, a) ? FG_OK : FG_ERR_PERMISSION;
}

static fg_rc refuse_access(struct job *job, fg_rc rc)
{
    if (rc == FG_ERR_PERMISSION)
        return refuse(job, 403, "permission_denied", "not your account", NULL, rc);
    if (rc == FG_ERR_NOT_FOUND)
        return refuse(job, 404, "not_found", "no such account", NULL, rc);
    return rc;
}

/* Read an account again after a change (a copy of its id: the struct is the output). */
static fg_rc reload(fg_conn *conn, struct fg_ledger_account *a)
{
    char id[FG_LEDGER_ID_SIZE];
    snprintf(id, sizeof id, "%s", a->id);
    return fg_ledger_account_get(conn, id, a);
}

static void account_response(struct job *job, int status, const struct fg_ledger_account *a)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "id", a->id, "customer_id",
                          a->customer_id, "currency", a->currency, "status", a->status, "balance",
                          (json_int_t)a->balance, "per_txn_max", (json_int_t)a->per_txn_max,
                          "per_day_max", (json_int_t)a->per_day_max);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    snprintf(job->response, sizeof job->response, "%s", text ? text : "{}");
    free(text);
    job->status = status;
}

/* ---- POST /v1/accounts --------------------------------------------------------------------- */

static fg_rc open_intent(fg_conn *conn, void *arg)
{
    struct job *job = arg;
    int destroyed = 0;
    fg_rc rc = fg_customer_owner(conn, job->customer_id, NULL, &destroyed);
    if (rc == FG_ERR_NOT_FOUND || (rc == FG_OK && destroyed))
        return refuse(job, 404, "not_found", "no such customer", "customer_id", FG_ERR_NOT_FOUND);
    if (rc)
        return rc;
    char id[FG_LEDGER_ID_SIZE];
    rc = fg_ledger_account_open(conn, job->app->limits, job->customer_id, job->currency,
                                job->who.user_id, job->now_ms, id);
    if (rc == FG_ERR_INVALID)
        return refuse(job, 400, "invalid_argument", "unknown currency", "currency", rc);
    if (rc)
        return rc;
    set_object(job, "account", id);
    set_details(job, "{\"customer_id\":\"%s\",\"currency\":\"%s\"}", job->customer_id,
                job->currency);
    struct fg_ledger_account a;
    rc = fg_ledger_account_get(conn, id, &a);
    if (rc == FG_OK)
        account_response(job, 201, &a);
    return rc;
}

static const struct fg_json_field open_fields[] = {
    {"customer_id", FG_JSON_STRING, 1, 1, FG_LEDGER_ID_MAX},
    {"currency", FG_JSON_STRING, 1, 3, 3},
};

static int check_body(struct fg_call *c, const struct fg_json_field *f, size_t n)
{
    struct fg_json_error err;
    if (fg_json_check(fg_call_body(c), f, n, &err) != FG_OK) {
        fg_reply_json_error(c, &err);
        return 0;
    }
    return 1;
}

static const char *body_str(struct fg_call *c, const char *key)
{
    return json_string_value(json_object_get(fg_call_body(c), key));
}

static int currency_known(struct fg_call *c, const char *cur)
{
    if (!currency_shape(cur) || !fg_limits_has_currency(fg_call_app(c)->limits, cur)) {
        fg_reply_error(c, 400, "invalid_argument", "unknown currency", "currency");
        return 0;
    }
    return 1;
}

static void open_route(struct fg_call *c)
{
    if (!check_body(c, open_fields, sizeof open_fields / sizeof open_fields[0]))
        return;
    const char *cur = body_str(c, "currency");
    if (!currency_known(c, cur))
        return;
    struct job *job = job_new(c, OP_OPEN, "accounts.create", "account");
    if (job == NULL)
        return;
    snprintf(job->customer_id, sizeof job->customer_id, "%s", body_str(c, "customer_id"));
    snprintf(job->currency, sizeof job->currency, "%s", cur);
    job->now_ms = fg_time_wall_ms();
    submit(c, job, open_intent);
}

/* ---- deposits and withdrawals (tellers, TXN-1) ------------------------------------------------
 */

static fg_rc idem_check(fg_conn *conn, struct job *job, int *replayed)
{
    int status = 0;
    *replayed = 0;
    fg_rc rc = fg_ledger_idem_get(conn, job->who.user_id, job->idem_key, job->hash, &status,
                                  job->response);
    if (rc == FG_ERR_NOT_FOUND)
        return FG_OK;
    if (rc == FG_ERR_CONFLICT) {
        refuse(job, 409, "conflict", "the idempotency key was used with another request",
               "Idempotency-Key", rc);
        *replayed = 1;
        return FG_OK;
    }
    if (rc)
        return rc;
    job->status = status; /* the first result, again */
    set_details(job, "{\"replay\":true}");
    *replayed = 1;
    return FG_OK;
}

static fg_rc cash_intent(fg_conn *conn, void *arg)
{
    struct job *job = arg;
    int replayed;
    fg_rc rc = idem_check(conn, job, &replayed);
    if (rc || replayed)
        return rc;
    struct fg_ledger_account a;
    rc = fg_ledger_account_get(conn, job->account, &a);
    if (rc == FG_ERR_NOT_FOUND || (rc == FG_OK && strcmp(a.kind, "customer") != 0))
        return refuse(job, 404, "not_found", "no such account", "account_id", FG_ERR_NOT_FOUND);
    if (rc)
        return rc;
    set_object(job, "account", a.id);
    if (strcmp(a.currency, job->currency) != 0)
        return refuse(job, 422, "policy_violation", "the account holds another currency",
                      "currency", FG_ERR_POLICY);
    char cash[FG_LEDGER_ID_SIZE];
    rc = fg_ledger_cash_account(conn, job->currency, job->now_ms, cash);
    if (rc)
        return rc;
    int deposit = job->op == OP_DEPOSIT;
    struct fg_ledger_move m = {.kind = deposit ? "deposit" : "withdrawal",
                               .debit_account = deposit ? cash : a.id,
                               .credit_account = deposit ? a.id : cash,
                               .amount = job->amount,
                               .currency = job->currency,
                               .memo = job->memo_len ? job->memo : NULL,
                               .memo_len = job->memo_len,
                               .actor_id = job->who.user_id,
                               .now_ms = job->now_ms};
    char journal[FG_LEDGER_ID_SIZE];
    const char *why = NULL, *field = NULL;
    char amt[32], text[MONEY_TEXT_MAX];
    amount_text(job->amount, amt);
    rc = fg_ledger_post(conn, fg_money_keys(job->app), &m, journal, &why, &field);
    if (rc == FG_ERR_POLICY || rc == FG_ERR_LIMIT || rc == FG_ERR_INVALID) {
        snprintf(text, sizeof text, "finguard: %s of %s %s on account ...%s was refused.", m.kind,
                 amt, job->currency, tail4(a.id));
        fg_rc nrc = notify_owner(conn, job->app, a.customer_id, text);
        if (nrc == FG_OK) {
            char attrs[256];
            snprintf(attrs, sizeof attrs,
                     "{\"amount\":%lld,\"currency\":\"%s\",\"result\":\"refused\"}",
                     (long long)job->amount, job->currency);
            nrc = emit(conn, &job->record, deposit ? "deposit.refused" : "withdrawal.refused",
                       "account", a.id, attrs, job->now_ms);
        }
        if (nrc)
            return nrc;
        return refuse_rc(job, rc, why, field ? field : "amount");
    }
    if (rc)
        return rc;
    rc = reload(conn, &a);
    if (rc)
        return rc;
    snprintf(job->response, sizeof job->response,
             "{\"id\":\"%s\",\"account_id\":\"%s\",\"amount\":%lld,\"currency\":\"%s\","
             "\"balance\":%lld,\"status\":\"committed\"}",
             journal, a.id, (long long)job->amount, job->currency, (long long)a.balance);
    job->status = 201;
    rc = fg_ledger_idem_put(conn, job->who.user_id, job->idem_key, job->hash, 201, job->response,
                            job->now_ms);
    if (rc)
        return rc;
    set_details(job, "{\"journal_id\":\"%s\",\"amount\":%lld,\"currency\":\"%s\"}", journal,
                (long long)job->amount, job->currency);
    snprintf(text, sizeof text, "finguard: %s of %s %s on account ...%s.", m.kind, amt,
             job->currency, tail4(a.id));
    rc = notify_owner(conn, job->app, a.customer_id, text);
    if (rc == FG_OK) {
        char attrs[256];
        snprintf(attrs, sizeof attrs, "{\"amount\":%lld,\"currency\":\"%s\",\"journal_id\":\"%s\"}",
                 (long long)job->amount, job->currency, journal);
        rc = emit(conn, &job->record, deposit ? "deposit.committed" : "withdrawal.committed",
                  "account", a.id, attrs, job->now_ms);
    }
    return rc;
}

/* Shared parsing of the money bodies: amount, currency, memo, Idempotency-Key, the hash. */
static int money_common(struct fg_call *c, struct job *job, const char *kind, const char *a,
                        const char *b)
{
    json_t *body = fg_call_body(c);
    const char *key = fg_call_header(c, "idempotency-key");
    if (!idem_key_valid(key)) {
        fg_reply_error(c, 400, "invalid_argument",
                       "an Idempotency-Key header of 1-128 printable characters is required",
                       "Idempotency-Key");
        return 0;
    }
    const char *cur = body_str(c, "currency");
    if (!currency_known(c, cur))
        return 0;
    snprintf(job->idem_key, sizeof job->idem_key, "%s", key);
    snprintf(job->currency, sizeof job->currency, "%s", cur);
    job->amount = (int64_t)json_integer_value(json_object_get(body, "amount"));
    const char *memo = body_str(c, "memo");
    if (memo != NULL) {
        size_t n = strlen(memo);
        if (n > FG_LEDGER_MEMO_MAX) {
            fg_reply_error(c, 400, "invalid_argument", "memo is at most 140 bytes", "memo");
            return 0;
        }
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)memo[i] < 0x20 || memo[i] == 0x7f) {
                fg_reply_error(c, 400, "invalid_argument", "memo has a control character", "memo");
                return 0;
            }
        memcpy(job->memo, memo, n);
        job->memo_len = n;
    }
    /* what the movement is: kind, accounts, amount, currency, memo — not the one-time code */
    char head[256];
    int n = snprintf(head, sizeof head, "%s%c%s%c%s%c%lld%c%s%c", kind, 0, a, 0, b ? b : "", 0,
                     (long long)job->amount, 0, job->currency, 0);
    struct {
        char d[256 + FG_LEDGER_MEMO_MAX];
    } all;
    if (n < 0 || (size_t)n >= sizeof head) {
        fg_reply_rc(c, FG_ERR_INTERNAL, NULL);
        return 0;
    }
    memcpy(all.d, head, (size_t)n);
    memcpy(all.d + n, job->memo, job->memo_len);
    if (fg_hash(FG_HASH_SHA256, all.d, (size_t)n + job->memo_len, job->hash) != FG_OK) {
        fg_reply_rc(c, FG_ERR_INTERNAL, NULL);
        return 0;
    }
    return 1;
}

static const struct fg_json_field cash_fields[] = {
    {"account_id", FG_JSON_STRING, 1, 1, FG_LEDGER_ID_MAX},
    {"amount", FG_JSON_INT, 1, 1, FG_LEDGER_AMOUNT_MAX},
    {"currency", FG_JSON_STRING, 1, 3, 3},
    {"memo", FG_JSON_STRING, 0, 0, FG_LEDGER_MEMO_MAX},
};

static void cash_route(struct fg_call *c, enum op op)
{
    if (!check_body(c, cash_fields, sizeof cash_fields / sizeof cash_fields[0]))
        return;
    struct job *job =
        job_new(c, op, op == OP_DEPOSIT ? "money.deposit" : "money.withdraw", "account");
    if (job == NULL)
        return;
    const char *acc = body_str(c, "account_id");
    snprintf(job->account, sizeof job->account, "%s", acc);
    if (!money_common(c, job, op == OP_DEPOSIT ? "deposit" : "withdrawal", acc, NULL)) {
        job_free(job);
        return;
    }
    job->now_ms = fg_time_wall_ms();
    submit(c, job, cash_intent);
}

static void deposit_route(struct fg_call *c)
{
    cash_route(c, OP_DEPOSIT);
}

static void withdraw_route(struct fg_call *c)
{
    cash_route(c, OP_WITHDRAW);
}

/* ---- POST /v1/transfers (AUTH-4, AUTH-10, TXN-1..5, TXN-7) -------------------------------- */

static void transfer_binding(const struct job *job, char out[FG_OTP_BINDING_MAX + 1])
{
    snprintf(out, FG_OTP_BINDING_MAX + 1, "from=%s;to=%s;amount=%lld;currency=%s", job->account,
             job->to, (long long)job->amount, job->currency);
}

/* A refused transfer: notice + event + the refusal answer (all commit). */
static fg_rc transfer_refused(fg_conn *conn, struct job *job, const struct fg_ledger_account *from,
                              int status, const char *code, const char *why, const char *field,
                              fg_rc rc)
{
    char amt[32], text[MONEY_TEXT_MAX], attrs[FG_EVENT_ATTRS_MAX + 1];
    amount_text(job->amount, amt);
    snprintf(text, sizeof text,
             "finguard: a transfer of %s %s from account ...%s to ...%s was refused: %s", amt,
             job->currency, tail4(from->id), tail4(job->to), why);
    fg_rc nrc = notify_owner(conn, job->app, from->customer_id, text);
    if (nrc)
        return nrc;
    snprintf(attrs, sizeof attrs,
             "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":%lld,\"currency\":\"%s\","
             "\"reason\":\"%s\",\"customer\":\"%s\"%s}",
             from->id, job->to, (long long)job->amount, job->currency, why, from->customer_id,
             job->features);
    nrc = emit(conn, &job->record, "transfer.refused", "account", from->id, attrs, job->now_ms);
    if (nrc)
        return nrc;
    set_details(job, "{\"to\":\"%s\",\"amount\":%lld,\"currency\":\"%s\",\"refused\":\"%s\"}",
                job->to, (long long)job->amount, job->currency, why);
    return refuse(job, status, code, why, field, rc);
}

/* Post a transfer now (session or verified tier) or on approval. `tid` is the transfer's id;
 * pending: the row exists already (approval). */
static fg_rc transfer_post(fg_conn *conn, struct fg_app *app, const struct fg_ledger_transfer *t,
                           const char *memo, size_t memo_len, const char *actor_id, int64_t now_ms,
                           char journal[FG_LEDGER_ID_SIZE], const char **why, const char **field)
{
    struct fg_ledger_move m = {.kind = "transfer",
                               .debit_account = t->from,
                               .credit_account = t->to,
                               .amount = t->amount,
                               .currency = t->currency,
                               .memo = memo_len ? memo : NULL,
                               .memo_len = memo_len,
                               .actor_id = actor_id,
                               .now_ms = now_ms};
    return fg_ledger_post(conn, fg_money_keys(app), &m, journal, why, field);
}

static fg_rc transfer_notify_committed(fg_conn *conn, struct fg_app *app,
                                       const struct fg_ledger_transfer *t, const char *from_cust,
                                       const char *to_cust)
{
    char amt[32], text[MONEY_TEXT_MAX];
    amount_text(t->amount, amt);
    snprintf(text, sizeof text,
             "finguard: %s %s transferred from account ...%s to ...%s. Not you? Call the bank.",
             amt, t->currency, tail4(t->from), tail4(t->to));
    fg_rc rc = notify_owner(conn, app, from_cust, text);
    if (rc == FG_OK && to_cust != NULL && to_cust[0] != '\0' && strcmp(to_cust, from_cust) != 0) {
        snprintf(text, sizeof text, "finguard: %s %s received on account ...%s.", amt, t->currency,
                 tail4(t->to));
        rc = notify_owner(conn, app, to_cust, text);
    }
    return rc;
}

/* The features every transfer event carries for the rules (data/rules/money.yaml). */
static void money_features(struct job *job, int64_t idle_days, const struct fg_risk_result *risk)
{
    static const char *const decisions[] = {"allow", "step_up", "deny"};
    size_t len = (size_t)snprintf(job->features, sizeof job->features,
                                  ",\"idle_days\":%lld,\"risk_score\":%d,"
                                  "\"risk_decision\":\"%s\",\"risk_reasons\":\"",
                                  (long long)idle_days, risk->score,
                                  decisions[risk->decision <= FG_RISK_DENY ? risk->decision : 0]);
    for (unsigned i = 0; i < risk->nreasons && len < sizeof job->features; i++)
        len += (size_t)snprintf(job->features + len, sizeof job->features - len, "%s%s",
                                i ? "," : "", risk->reasons[i]);
    if (len + 2 < sizeof job->features) {
        job->features[len] = '"';
        job->features[len + 1] = '\0';
    } else {
        job->features[0] = '\0'; /* never a broken JSON text */
    }
}

static fg_rc transfer_intent(fg_conn *conn, void *arg)
{
    struct job *job = arg;
    struct fg_app *app = job->app;
    int replayed;
    fg_rc rc = idem_check(conn, job, &replayed);
    if (rc || replayed)
        return rc;
    struct fg_ledger_account from, to;
    rc = load_mine(conn, job, job->account, &from);
    if (rc)
        return refuse_access(job, rc);
    set_object(job, "account", from.id);
    if (job->who.staff) /* transfers are the customer's own act (SoD: staff approve them) */
        return refuse(job, 403, "permission_denied", "transfers are made by the account owner",
                      NULL, FG_ERR_PERMISSION);
    /* the payee: one answer for missing, closed and other-currency accounts */
    rc = fg_ledger_account_get(conn, job->to, &to);
    if (rc == FG_ERR_NOT_FOUND || (rc == FG_OK && (strcmp(to.status, "closed") == 0 ||
                                                   strcmp(to.currency, job->currency) != 0 ||
                                                   strcmp(to.kind, "customer") != 0)))
        return transfer_refused(conn, job, &from, 422, "policy_violation",
                                "the payee account cannot receive this transfer", "to",
                                FG_ERR_POLICY);
    if (rc)
        return rc;
    if (strcmp(from.currency, job->currency) != 0)
        return transfer_refused(conn, job, &from, 422, "policy_violation",
                                "the account holds another currency", "currency", FG_ERR_POLICY);
    if (strcmp(from.status, "active") != 0)
        return transfer_refused(conn, job, &from, 422, "policy_violation",
                                strcmp(from.status, "frozen") == 0 ? "the account is frozen"
                                                                   : "the account is closed",
                                "from", FG_ERR_POLICY);
    /* limits and tier (AUTH-4, TXN-3, AUTH-10) */
    const struct fg_limits *L = app->limits;
    int64_t day0 = fg_limits_day_start_ms(L, job->now_ms);
    int64_t window = fg_limits_new_window_ms(L);
    struct fg_limits_input in = {.currency = job->currency,
                                 .amount = job->amount,
                                 .account_per_txn = from.per_txn_max,
                                 .account_per_day = from.per_day_max};
    rc = fg_ledger_customer_out_since(conn, job->who.customer_id, job->currency, day0,
                                      &in.customer_today);
    if (rc == FG_OK)
        rc = fg_ledger_account_out_since(conn, from.id, day0, &in.account_today);
    int known = 1;
    if (rc == FG_OK && strcmp(to.customer_id, from.customer_id) != 0)
        rc = fg_ledger_payee_known(conn, job->who.customer_id, to.id, job->now_ms - window, &known);
    in.new_payee = !known;
    int64_t first_ms = 0;
    int first_device = 0;
    if (rc == FG_OK)
        rc = fg_iam_device_first_seen(conn, job->who.user_id, job->who.device_id, &first_ms,
                                      &first_device);
    if (rc)
        return rc;
    in.new_device = !first_device && (first_ms == 0 || first_ms > job->now_ms - window);
    /* the monitor's inline risk answer (issue #6 §3, MON-1), before the limits so that a
     * takeover is named as such: DENY refuses, STEP_UP makes a session-tier transfer need the
     * one-time code (below) */
    int64_t last_ms = 0;
    rc = fg_ledger_account_last_activity(conn, from.id, &last_ms);
    if (rc)
        return rc;
    int64_t idle_days = job->now_ms > last_ms ? (job->now_ms - last_ms) / 86400000 : 0;
    struct fg_risk_result risk = {.decision = FG_RISK_ALLOW};
    if (app->monitor != NULL) {
        const struct fg_risk_transfer q = {.customer = job->who.customer_id,
                                           .account = from.id,
                                           .payee = to.id,
                                           .user = job->who.user_id,
                                           .ip = job->record.source_ip,
                                           .device = job->who.device_id,
                                           .currency = job->currency,
                                           .amount = job->amount,
                                           .now_ms = job->now_ms,
                                           .new_payee = in.new_payee,
                                           .new_device = in.new_device};
        fg_monitor_assess_transfer(app->monitor, &q, &risk);
    }
    money_features(job, idle_days, &risk);
    int enforce = fg_monitor_enforcing(app->monitor); /* a dry run records, never acts */
    if (enforce && risk.decision == FG_RISK_DENY)
        return transfer_refused(conn, job, &from, 422, "policy_violation",
                                "the transfer was refused by risk controls; call the bank", "from",
                                FG_ERR_POLICY);
    struct fg_limits_decision d;
    rc = fg_limits_decide(L, &in, &d);
    if (rc == FG_ERR_INVALID)
        return refuse(job, 400, "invalid_argument", "amount is out of range", "amount", rc);
    if (rc)
        return rc;
    if (d.refusal)
        return transfer_refused(conn, job, &from, 422, "policy_violation", d.why,
                                d.field ? d.field : "amount", d.refusal);
    if (enforce && risk.decision == FG_RISK_STEP_UP && d.tier == FG_TIER_SESSION)
        d.tier = FG_TIER_OTP;
    const char *tier = d.tier == FG_TIER_SESSION ? "session"
                       : d.tier == FG_TIER_OTP   ? "otp"
                                                 : "approval";
    char binding[FG_OTP_BINDING_MAX + 1];
    transfer_binding(job, binding);
    if (d.tier == FG_TIER_OTP) {
        fg_rc verdict = FG_ERR_NOT_FOUND;
        if (job->has_otp) {
            verdict = fg_otp_verify(conn, fg_money_keys(app), job->who.user_id, MONEY_OTP_PURPOSE,
                                    binding, job->otp);
            if (verdict == FG_ERR_STORE || verdict == FG_ERR_SEALED || verdict == FG_ERR_NOMEM)
                return verdict;
        }
        if (verdict != FG_OK) {
            /* a wrong guess on a live code: no new code (the tries are counted); otherwise a
             * fresh code bound to this amount and payee goes to the reserved phone */
            const char *msg = "this transfer needs a one-time code: it was sent to your phone";
            if (verdict == FG_ERR_UNAUTHENTICATED || verdict == FG_ERR_INVALID) {
                msg = "the one-time code is wrong";
            } else {
                char user_phone[FG_CUSTOMER_PHONE_SIZE + 8];
                rc = fg_customer_phone_of_user(conn, fg_money_keys(app), job->who.user_id,
                                               user_phone, sizeof user_phone);
                if (rc == FG_OK && app->outbox != NULL) {
                    char amt[32], text[MONEY_TEXT_MAX];
                    amount_text(job->amount, amt);
                    snprintf(text, sizeof text,
                             "finguard: your code to transfer %s %s to account ...%s. Never "
                             "share it.",
                             amt, job->currency, tail4(job->to));
                    struct fg_outbox_msg msg_out = {.to = user_phone,
                                                    .channel = FG_OUTBOX_SMS,
                                                    .purpose = MONEY_OTP_PURPOSE,
                                                    .text = text};
                    rc = fg_otp_send(conn, fg_money_keys(app), app->outbox, NULL, job->who.user_id,
                                     MONEY_OTP_PURPOSE, binding, &msg_out, NULL);
                }
                fg_wipe(user_phone, sizeof user_phone);
                if (rc == FG_ERR_RATE_LIMITED)
                    return refuse(job, 429, "rate_limited", "too many one-time codes; try later",
                                  NULL, rc);
                if (rc)
                    return rc;
            }
            set_details(job,
                        "{\"to\":\"%s\",\"amount\":%lld,\"currency\":\"%s\",\"tier\":\"otp\","
                        "\"step_up\":\"%s\"}",
                        job->to, (long long)job->amount, job->currency,
                        job->has_otp ? fg_rc_name(verdict) : "sent");
            job->step_up = 1;
            job->message = msg;
            fg_audit_record_result(&job->record, FG_AUDIT_RESULT_DENIED, FG_ERR_UNAUTHENTICATED);
            return FG_OK;
        }
    }
    char tid[FG_LEDGER_ID_SIZE];
    rc = fg_ledger_transfer_new_id(tid);
    if (rc)
        return rc;
    struct fg_ledger_transfer t = {.amount = job->amount};
    snprintf(t.id, sizeof t.id, "%s", tid);
    snprintf(t.from, sizeof t.from, "%s", from.id);
    snprintf(t.to, sizeof t.to, "%s", to.id);
    snprintf(t.currency, sizeof t.currency, "%s", job->currency);
    if (d.tier == FG_TIER_APPROVAL) {
        /* held for a supervisor (four-eyes, GOV-3): the row, the approval, the answer */
        char approval[FG_APPROVAL_ID_SIZE];
        rc = fg_ledger_transfer_insert(conn, tid, job->who.customer_id, from.id, to.id,
                                       job->currency, job->amount, "pending_approval", NULL, NULL,
                                       job->who.device_id, job->now_ms);
        if (rc)
            return rc;
        char payload[256];
        snprintf(payload, sizeof payload, "{\"transfer_id\":\"%s\"}", tid);
        const char *why = NULL;
        fg_http_action_app_set(app);
        rc = fg_approval_request(conn, "transfers.approve", payload, job->who.user_id, 0, approval,
                                 &job->record, &why);
        fg_http_action_app_set(NULL);
        if (rc)
            return rc;
        rc = fg_ledger_transfer_set_approval(conn, tid, approval);
        if (rc == FG_OK)
            rc = fg_ledger_transfer_set_memo(conn, fg_money_keys(app), tid, job->memo,
                                             job->memo_len);
        if (rc)
            return rc;
        snprintf(job->response, sizeof job->response,
                 "{\"id\":\"%s\",\"status\":\"pending_approval\",\"approval_id\":\"%s\","
                 "\"tier\":\"approval\"}",
                 tid, approval);
        job->status = 202;
        rc = fg_ledger_idem_put(conn, job->who.user_id, job->idem_key, job->hash, 202,
                                job->response, job->now_ms);
        char amt[32], text[MONEY_TEXT_MAX], attrs[FG_EVENT_ATTRS_MAX + 1];
        amount_text(job->amount, amt);
        snprintf(text, sizeof text,
                 "finguard: a transfer of %s %s from account ...%s is held for approval.", amt,
                 job->currency, tail4(from.id));
        if (rc == FG_OK)
            rc = notify_owner(conn, app, from.customer_id, text);
        snprintf(attrs, sizeof attrs,
                 "{\"transfer_id\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"amount\":%lld,"
                 "\"currency\":\"%s\",\"tier\":\"approval\",\"new_payee\":%s,"
                 "\"new_device\":%s,\"customer\":\"%s\"%s}",
                 tid, from.id, to.id, (long long)job->amount, job->currency,
                 in.new_payee ? "true" : "false", in.new_device ? "true" : "false",
                 from.customer_id, job->features);
        if (rc == FG_OK)
            rc = emit(conn, &job->record, "transfer.pending", "transfer", tid, attrs, job->now_ms);
        return rc;
    }
    char journal[FG_LEDGER_ID_SIZE];
    const char *why = NULL, *field = NULL;
    rc = transfer_post(conn, app, &t, job->memo, job->memo_len, job->who.user_id, job->now_ms,
                       journal, &why, &field);
    if (rc == FG_ERR_POLICY || rc == FG_ERR_LIMIT)
        return transfer_refused(conn, job, &from, 422, "policy_violation", why,
                                field ? field : "amount", rc);
    if (rc)
        return rc;
    rc = fg_ledger_transfer_insert(conn, tid, job->who.customer_id, from.id, to.id, job->currency,
                                   job->amount, "committed", journal, NULL, job->who.device_id,
                                   job->now_ms);
    if (rc)
        return rc;
    snprintf(job->response, sizeof job->response,
             "{\"id\":\"%s\",\"status\":\"committed\",\"journal_id\":\"%s\",\"tier\":\"%s\"}", tid,
             journal, tier);
    job->status = 201;
    rc = fg_ledger_idem_put(conn, job->who.user_id, job->idem_key, job->hash, 201, job->response,
                            job->now_ms);
    if (rc == FG_OK)
        rc = transfer_notify_committed(conn, app, &t, from.customer_id, to.customer_id);
    char attrs[FG_EVENT_ATTRS_MAX + 1];
    snprintf(attrs, sizeof attrs,
             "{\"transfer_id\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"amount\":%lld,"
             "\"currency\":\"%s\",\"tier\":\"%s\",\"new_payee\":%s,\"new_device\":%s,"
             "\"customer\":\"%s\"%s}",
             tid, from.id, to.id, (long long)job->amount, job->currency, tier,
             in.new_payee ? "true" : "false", in.new_device ? "true" : "false", from.customer_id,
             job->features);
    if (rc == FG_OK)
        rc = emit(conn, &job->record, "transfer.committed", "transfer", tid, attrs, job->now_ms);
    set_object(job, "transfer", tid);
    set_details(job,
                "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":%lld,\"currency\":\"%s\","
                "\"tier\":\"%s\",\"journal_id\":\"%s\"}",
                from.id, to.id, (long long)job->amount, job->currency, tier, journal);
    return rc;
}

static const struct fg_json_field transfer_fields[] = {
    {"from", FG_JSON_STRING, 1, 1, FG_LEDGER_ID_MAX},
    {"to", FG_JSON_STRING, 1, 1, FG_LEDGER_ID_MAX},
    {"amount", FG_JSON_INT, 1, 1, FG_LEDGER_AMOUNT_MAX},
    {"currency", FG_JSON_STRING, 1, 3, 3},
    {"memo", FG_JSON_STRING, 0, 0, FG_LEDGER_MEMO_MAX},
    {"otp", FG_JSON_STRING, 0, 1, 16},
};

static void transfer_route(struct fg_call *c)
{
    if (!check_body(c, transfer_fields, sizeof transfer_fields / sizeof transfer_fields[0]))
        return;
    const char *from = body_str(c, "from"), *to = body_str(c, "to");
    if (strcmp(from, to) == 0) {
        fg_reply_error(c, 400, "invalid_argument", "from and to are the same account", "to");
        return;
    }
    struct job *job = job_new(c, OP_TRANSFER, "transfers.create", "account");
    if (job == NULL)
        return;
    snprintf(job->account, sizeof job->account, "%s", from);
    snprintf(job->to, sizeof job->to, "%s", to);
    const char *otp = body_str(c, "otp");
    if (otp != NULL) {
        snprintf(job->otp, sizeof job->otp, "%s", otp);
        job->has_otp = 1;
    }
    if (!money_common(c, job, "transfer", from, to)) {
        job_free(job);
        return;
    }
    fg_call_wipe_body(c); /* the one-time code */
    job->now_ms = fg_time_wall_ms();
    submit(c, job, transfer_intent);
}

/* ---- transfers above the approval tier: the four-eyes action ------------------------------ */

static fg_rc payload_id(const char *payload, const char *key, char *out, size_t cap)
{
    json_t *o = json_loads(payload, 0, NULL);
    const char *v = json_string_value(json_object_get(o, key));
    fg_rc rc = v != NULL && strlen(v) < cap ? FG_OK : FG_ERR_INVALID;
    if (rc == FG_OK)
        snprintf(out, cap, "%s", v);
    json_decref(o);
    return rc;
}

static fg_rc transfer_validate(fg_conn *conn, const char *payload, void *ctx, const char **reason)
{
    (void)ctx;
    char id[FG_LEDGER_ID_SIZE];
    struct fg_ledger_transfer t;
    if (payload_id(payload, "transfer_id", id, sizeof id) != FG_OK) {
        *reason = "the payload names no transfer";
        return FG_ERR_INVALID;
    }
    fg_rc rc = fg_ledger_transfer_get(conn, id, &t);
    if (rc == FG_OK && strcmp(t.status, "pending_approval") != 0) {
        *reason = "the transfer is not pending";
        return FG_ERR_CONFLICT;
    }
    if (rc == FG_ERR_NOT_FOUND)
        *reason = "no such transfer";
    return rc;
}

static fg_rc transfer_execute(fg_conn *conn, const char *payload, const struct fg_approval *ap,
                              void *ctx, char *result_json, size_t cap)
{
    struct fg_app *app = fg_http_action_app();
    if (app == NULL)
        return FG_ERR_INTERNAL;
    const char *reason = NULL;
    fg_rc rc = transfer_validate(conn, payload, ctx, &reason);
    if (rc)
        return rc;
    char id[FG_LEDGER_ID_SIZE];
    struct fg_ledger_transfer t;
    rc = payload_id(payload, "transfer_id", id, sizeof id);
    if (rc == FG_OK)
        rc = fg_ledger_transfer_get(conn, id, &t);
    if (rc)
        return rc;
    struct fg_ledger_account from, to;
    rc = fg_ledger_account_get(conn, t.from, &from);
    if (rc == FG_OK)
        rc = fg_ledger_account_get(conn, t.to, &to);
    if (rc)
        return rc;
    int64_t now = fg_time_wall_ms();
    char journal[FG_LEDGER_ID_SIZE];
    const char *why = NULL, *field = NULL;
    char memo[FG_LEDGER_MEMO_MAX + 1];
    size_t memo_len = 0;
    rc = fg_ledger_transfer_memo(conn, fg_money_keys(app), id, memo, &memo_len);
    if (rc)
        return rc == FG_ERR_CRYPTO ? FG_ERR_CORRUPT : rc;
    /* re-validated in full at execution (TXN-4): frozen, funds, payee state */
    rc = transfer_post(conn, app, &t, memo, memo_len, ap->decided_by, now, journal, &why, &field);
    fg_wipe(memo, sizeof memo);
    if (rc)
        return rc == FG_ERR_LIMIT ? FG_ERR_POLICY : rc;
    rc = fg_ledger_transfer_commit(conn, id, journal, now);
    if (rc == FG_OK)
        rc = transfer_notify_committed(conn, app, &t, from.customer_id, to.customer_id);
    if (rc == FG_OK) {
        char attrs[FG_EVENT_ATTRS_MAX + 1];
        snprintf(attrs, sizeof attrs,
                 "{\"transfer_id\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"amount\":%lld,"
                 "\"currency\":\"%s\",\"tier\":\"approval\",\"approval_id\":\"%s\"}",
                 id, t.from, t.to, (long long)t.amount, t.currency, ap->id);
        struct fg_event e = {.type = "transfer.committed",
                             .actor_id = ap->decided_by,
                             .object_type = "transfer",
                             .object_id = id,
                             .attrs_json = attrs};
        rc = fg_event_emit(conn, &e, now);
    }
    if (rc == FG_OK)
        snprintf(result_json, cap,
                 "{\"transfer_id\":\"%s\",\"status\":\"committed\",\"journal_id\":\"%s\"}", id,
                 journal);
    return rc;
}

/* ---- freeze (at once) and unfreeze (four-eyes) -------------------------------------------- */

static fg_rc freeze_intent(fg_conn *conn, void *arg)
{
    struct job *job = arg;
    struct fg_ledger_account a;
    fg_rc rc = load_mine(conn, job, job->account, &a);
    if (rc)
        return refuse_access(job, rc);
    set_object(job, "account", a.id);
    rc = fg_ledger_set_status(conn, a.id, "active", "frozen", job->now_ms);
    if (rc == FG_ERR_CONFLICT)
        return refuse(job, 409, "conflict", "the account is not active", NULL, rc);
    if (rc)
        return rc;
    set_details(job, "{\"before\":\"active\",\"after\":\"frozen\",\"reason\":%s}", job->reason);
    char attrs[256];
    snprintf(attrs, sizeof attrs, "{\"status\":\"frozen\"}");
    rc = emit(conn, &job->record, "account.frozen", "account", a.id, attrs, job->now_ms);
    if (rc == FG_OK)
        rc = notify_owner(conn, job->app, a.customer_id,
                          "finguard: your account has been frozen; no money can leave it. "
                          "Call the bank.");
    if (rc == FG_OK) {
        rc = reload(conn, &a);
        if (rc == FG_OK)
            account_response(job, 200, &a);
    }
    return rc;
}

static fg_rc unfreeze_validate(fg_conn *conn, const char *payload, void *ctx, const char **reason)
{
    (void)ctx;
    char id[FG_LEDGER_ID_SIZE + 8];
    struct fg_ledger_account a;
    if (payload_id(payload, "account_id", id, sizeof id) != FG_OK) {
        *reason = "the payload names no account";
        return FG_ERR_INVALID;
    }
    fg_rc rc = fg_ledger_account_get(conn, id, &a);
    if (rc == FG_ERR_NOT_FOUND)
        *reason = "no such account";
    if (rc == FG_OK && strcmp(a.status, "frozen") != 0) {
        *reason = "the account is not frozen";
        rc = FG_ERR_CONFLICT;
    }
    return rc;
}

static fg_rc unfreeze_execute(fg_conn *conn, const char *payload, const struct fg_approval *ap,
                              void *ctx, char *result_json, size_t cap)
{
    (void)ap;
    const char *reason = NULL;
    fg_rc rc = unfreeze_validate(conn, payload, ctx, &reason);
    char id[FG_LEDGER_ID_SIZE + 8];
    if (rc == FG_OK)
        rc = payload_id(payload, "account_id", id, sizeof id);
    int64_t now = fg_time_wall_ms();
    if (rc == FG_OK)
        rc = fg_ledger_set_status(conn, id, "frozen", "active", now);
    if (rc == FG_OK) {
        struct fg_event e = {.type = "account.unfrozen",
                             .actor_id = ap->decided_by,
                             .object_type = "account",
                             .object_id = id,
                             .attrs_json = "{\"status\":\"active\"}"};
        rc = fg_event_emit(conn, &e, now);
    }
    if (rc == FG_OK)
        snprintf(result_json, cap, "{\"account_id\":\"%s\",\"status\":\"active\"}", id);
    return rc;
}

/* An approval request from this file: the record is the request's. */
static fg_rc request_approval(fg_conn *conn, struct job *job, const char *action,
                              const char *payload)
{
    char approval[FG_APPROVAL_ID_SIZE];
    const char *why = NULL;
    fg_http_action_app_set(job->app);
    fg_rc rc = fg_approval_request(conn, action, payload, job->who.user_id, 0, approval,
                                   &job->record, &why);
    fg_http_action_app_set(NULL);
    if (rc)
        return refuse_rc(job, rc, why, NULL);
    snprintf(job->response, sizeof job->response,
             "{\"approval_id\":\"%s\",\"action\":\"%s\",\"state\":\"pending\"}", approval, action);
    job->status = 202;
    return FG_OK;
}

static fg_rc unfreeze_intent(fg_conn *conn, void *arg)
{
    struct job *job = arg;
    struct fg_ledger_account a;
    fg_rc rc = load_mine(conn, job, job->account, &a);
    if (rc)
        return refuse_access(job, rc);
    if (strcmp(a.status, "frozen") != 0)
        return refuse(job, 409, "conflict", "the account is not frozen", NULL, FG_ERR_CONFLICT);
    char payload[FG_APPROVAL_PAYLOAD_MAX + 1];
    int n = snprintf(payload, sizeof payload, "{\"account_id\":\"%s\",\"reason\":%s}", a.id,
                     job->reason);
    if (n < 0 || (size_t)n >= sizeof payload)
        return refuse(job, 400, "invalid_argument", "the reason is too long", "reason",
                      FG_ERR_TOO_LARGE);
    return request_approval(conn, job, "accounts.unfreeze", payload);
}

static const struct fg_json_field reason_fields[] = {
    {"reason", FG_JSON_STRING, 1, 1, MONEY_REASON_CHARS_MAX},
};

static void status_route(struct fg_call *c, enum op op)
{
    if (!check_body(c, reason_fields, 1))
        return;
    struct job *job =
        job_new(c, op, op == OP_FREEZE ? "accounts.freeze" : "accounts.unfreeze", "account");
    if (job == NULL)
        return;
    snprintf(job->account, sizeof job->account, "%s", fg_call_param(c, 0));
    /* the reason as a JSON string (escaped by jansson) */
    char *r = json_dumps(json_object_get(fg_call_body(c), "reason"), JSON_ENCODE_ANY);
    snprintf(job->reason, sizeof job->reason, "%s", r ? r : "\"\"");
    free(r);
    job->now_ms = fg_time_wall_ms();
    submit(c, job, op == OP_FREEZE ? freeze_intent : unfreeze_intent);
}

static void freeze_route(struct fg_call *c)
{
    status_route(c, OP_FREEZE);
}

static void unfreeze_route(struct fg_call *c)
{
    status_route(c, OP_UNFREEZE);
}

/* ---- limits: lower at once, raise with four-eyes (TXN-3) ---------------------------------- */

static fg_rc limits_parse(const char *payload, char id[FG_LEDGER_ID_SIZE + 8], int64_t *txn,
                          int64_t *day)
{
    json_t *o = json_loads(payload, 0, NULL);
    const char *v = json_string_value(json_object_get(o, "account_id"));
    json_t *t = json_object_get(o, "per_txn_max"), *d = json_object_get(o, "per_day_max");
    fg_rc rc = v && strlen(v) <= FG_LEDGER_ID_SIZE && json_is_integer(t) && json_is_integer(d)
                   ? FG_OK
                   : FG_ERR_INVALID;
    if (rc == FG_OK) {
        snprintf(id, FG_LEDGER_ID_SIZE + 8, "%s", v);
        *txn = (int64_t)json_integer_value(t);
        *day = (int64_t)json_integer_value(d);
        if (*txn < 1 || *day < *txn || *day > FG_LEDGER_AMOUNT_MAX)
            rc = FG_ERR_INVALID;
    }
    json_decref(o);
    return rc;
}

static fg_rc limits_validate(fg_conn *conn, const char *payload, void *ctx, const char **reason)
{
    (void)ctx;
    char id[FG_LEDGER_ID_SIZE + 8];
    int64_t txn, day;
    if (limits_parse(payload, id, &txn, &day) != FG_OK) {
        *reason = "the payload is not a limit change";
        return FG_ERR_INVALID;
    }
    struct fg_ledger_account a;
    fg_rc rc = fg_ledger_account_get(conn, id, &a);
    if (rc == FG_ERR_NOT_FOUND)
        *reason = "no such account";
    return rc;
}

static fg_rc limits_execute(fg_conn *conn, const char *payload, const struct fg_approval *ap,
                            void *ctx, char *result_json, size_t cap)
{
    (void)ctx;
    char id[FG_LEDGER_ID_SIZE + 8];
    int64_t txn, day;
    fg_rc rc = limits_parse(payload, id, &txn, &day);
    int64_t now = fg_time_wall_ms();
    if (rc == FG_OK)
        rc = fg_ledger_set_limits(conn, id, txn, day, now);
    if (rc == FG_OK) {
        char attrs[256];
        snprintf(attrs, sizeof attrs, "{\"per_txn_max\":%lld,\"per_day_max\":%lld}", (long long)txn,
                 (long long)day);
        struct fg_event e = {.type = "account.limits_raised",
                             .actor_id = ap->decided_by,
                             .object_type = "account",
                             .object_id = id,
                             .attrs_json = attrs};
        rc = fg_event_emit(conn, &e, now);
    }
    if (rc == FG_OK)
        snprintf(result_json, cap,
                 "{\"account_id\":\"%s\",\"per_txn_max\":%lld,\"per_day_max\":%lld}", id,
                 (long long)txn, (long long)day);
    return rc;
}

static fg_rc limits_intent(fg_conn *conn, void *arg)
{
    struct job *job = arg;
    struct fg_ledger_account a;
    fg_rc rc = load_mine(conn, job, job->account, &a);
    if (rc)
        return refuse_access(job, rc);
    set_object(job, "account", a.id);
    if (job->per_day < job->per_txn)
        return refuse(job, 400, "invalid_argument", "per_day_max must be at least per_txn_max",
                      "per_day_max", FG_ERR_INVALID);
    if (job->per_txn <= a.per_txn_max && job->per_day <= a.per_day_max) {
        rc = fg_ledger_set_limits(conn, a.id, job->per_txn, job->per_day, job->now_ms);
        if (rc)
            return rc;
        set_details(job,
                    "{\"before\":{\"per_txn_max\":%lld,\"per_day_max\":%lld},"
                    "\"after\":{\"per_txn_max\":%lld,\"per_day_max\":%lld}}",
                    (long long)a.per_txn_max, (long long)a.per_day_max, (long long)job->per_txn,
                    (long long)job->per_day);
        rc = reload(conn, &a);
        if (rc == FG_OK)
            account_response(job, 200, &a);
        return rc;
    }
    char payload[256];
    snprintf(payload, sizeof payload,
             "{\"account_id\":\"%s\",\"per_txn_max\":%lld,\"per_day_max\":%lld}", a.id,
             (long long)job->per_txn, (long long)job->per_day);
    return request_approval(conn, job, "accounts.limits", payload);
}

static const struct fg_json_field limits_fields[] = {
    {"per_txn_max", FG_JSON_INT, 1, 1, FG_LEDGER_AMOUNT_MAX},
    {"per_day_max", FG_JSON_INT, 1, 1, FG_LEDGER_AMOUNT_MAX},
};

static void limits_route(struct fg_call *c)
{
    if (!check_body(c, limits_fields, 2))
        return;
    struct job *job = job_new(c, OP_LIMITS, "accounts.limits", "account");
    if (job == NULL)
        return;
    snprintf(job->account, sizeof job->account, "%s", fg_call_param(c, 0));
    json_t *b = fg_call_body(c);
    job->per_txn = (int64_t)json_integer_value(json_object_get(b, "per_txn_max"));
    job->per_day = (int64_t)json_integer_value(json_object_get(b, "per_day_max"));
    job->now_ms = fg_time_wall_ms();
    submit(c, job, limits_intent);
}

/* ---- registration --------------------------------------------------------------------------- */

static fg_rc register_actions(void)
{
    static const struct fg_approval_action actions[] = {
        {.name = "transfers.approve",
         .action_class = "transfer",
         .validate = transfer_validate,
         .execute = transfer_execute},
        {.name = "accounts.unfreeze",
         .action_class = "unfreeze",
         .validate = unfreeze_validate,
         .execute = unfreeze_execute},
        {.name = "accounts.limits",
         .action_class = "limits",
         .validate = limits_validate,
         .execute = limits_execute},
    };
    return fg_approval_register_all(actions, sizeof actions / sizeof actions[0]);
}

fg_rc fg_routes_money(struct fg_router *r, const struct fg_config *cfg)
{
    (void)cfg;
    fg_rc rc = register_actions();
    if (rc == FG_OK)
        rc = fg_ledger_register_columns();
    if (rc == FG_ERR_CONFLICT)
        rc = FG_OK;
    static const struct fg_route routes[] = {
        {.method = "POST",
         .pattern = "/v1/accounts",
         .permission = "accounts.create",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = open_route},
        {.method = "POST",
         .pattern = "/v1/deposits",
         .permission = "money.deposit",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = deposit_route},
        {.method = "POST",
         .pattern = "/v1/withdrawals",
         .permission = "money.withdraw",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = withdraw_route},
        {.method = "POST",
         .pattern = "/v1/transfers",
         .permission = "transfers.create",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = transfer_route},
        {.method = "POST",
         .pattern = "/v1/accounts/{id}/freeze",
         .permission = "accounts.freeze",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = freeze_route},
        {.method = "POST",
         .pattern = "/v1/accounts/{id}/unfreeze",
         .permission = "accounts.unfreeze",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = unfreeze_route},
        {.method = "POST",
         .pattern = "/v1/accounts/{id}/limits",
         .permission = "accounts.limits",
         .flags = FG_ROUTE_JSON_BODY,
         .fn = limits_route},
    };
    for (size_t i = 0; rc == FG_OK && i < sizeof routes / sizeof routes[0]; i++)
        rc = fg_router_add(r, &routes[i]);
    if (rc == FG_OK)
        rc = fg_money_read_routes(r);
    return rc;
}
