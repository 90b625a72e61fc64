/*
 * routes_money_read.c — the money reads (API.md "Customers, cards, accounts, money"; docs/API.md
 * "Money"): GET /v1/accounts/{id}, /v1/accounts/{id}/entries, /v1/customers/{id}/accounts,
 * /v1/transfers/{id} (owner or staff; another customer's id — existing or not — is 403 with
 * an access.denied record naming the object), and GET /v1/ledger/check (the proof of the
 * books, TXN-6). Each read runs on a worker with one read lease inside one snapshot.
 *
 * Staff reading a statement (GET /v1/accounts/{id}/entries) is recorded (AUD-1, DATA-6:
 * bulk statement export is a data-loss signal): after the read, one intent with the
 * "statement.read" record (object account; details rows, customer) and the statement.read
 * event (actor the staff user; attrs account, customer, rows); the page goes out after it
 * commits. A customer reading their own statement writes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/time.h"
#include "event/event.h"
#include "http/call.h"
#include "http/money.h"
#include "iam/approval.h"
#include "ledger/customer.h"
#include "ledger/ledger.h"

#define MONEY_PAGE_DEFAULT 50u

/* ---- reads --------------------------------------------------------------------------------- */

enum read_kind { R_ACCOUNT, R_ENTRIES, R_CUSTOMER_ACCOUNTS, R_TRANSFER, R_CHECK };

struct read_job {
    struct fg_app *app;
    enum read_kind kind;
    struct fg_money_who who;
    char id[FG_LEDGER_ID_MAX + 1];
    int64_t before;
    unsigned limit;
    int denied;                       /* customer asked for someone else's object */
    char owner[FG_LEDGER_ID_MAX + 1]; /* R_ENTRIES: the account's customer */
    size_t rows;                      /* R_ENTRIES: entries on the page */
    struct fg_audit_record record;    /* staff statement reads */
    json_t *out;
};

static fg_rc entry_row(void *ctx, const struct fg_ledger_entry *e)
{
    struct read_job *job = ctx;
    char when[FG_TIME_RFC3339_LEN];
    fg_time_format_rfc3339(e->created_ms, when);
    json_t *o =
        json_pack("{s:I, s:s, s:s, s:I, s:I, s:s, s:s}", "seq", (json_int_t)e->seq, "journal_id",
                  e->journal_id, "kind", e->kind, "amount", (json_int_t)e->amount, "balance_after",
                  (json_int_t)e->balance_after, "counterparty", e->counterparty, "time", when);
    if (o == NULL)
        return FG_ERR_NOMEM;
    if (e->memo_state == 1)
        json_object_set_new(o, "memo", json_string(e->memo));
    job->before = e->seq;
    return json_array_append_new(json_object_get(job->out, "entries"), o) ? FG_ERR_NOMEM : FG_OK;
}

static json_t *account_json(const struct fg_ledger_account *a)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "id", a->id, "customer_id",
                     a->customer_id, "currency", a->currency, "status", a->status, "balance",
                     (json_int_t)a->balance, "per_txn_max", (json_int_t)a->per_txn_max,
                     "per_day_max", (json_int_t)a->per_day_max);
}

static fg_rc account_row(void *ctx, const struct fg_ledger_account *a)
{
    struct read_job *job = ctx;
    return json_array_append_new(json_object_get(job->out, "accounts"), account_json(a))
               ? FG_ERR_NOMEM
               : FG_OK;
}

static fg_rc read_in(fg_conn *conn, struct read_job *job)
{
    fg_rc rc = FG_OK;
    if (!job->who.staff && job->kind != R_CHECK) {
        rc = fg_customer_id_of_user(conn, job->who.user_id, job->who.customer_id);
        if (rc == FG_ERR_NOT_FOUND) {
            job->denied = 1;
            return FG_OK;
        }
        if (rc)
            return rc;
    }
    struct fg_ledger_account a;
    switch (job->kind) {
    case R_ACCOUNT:
    case R_ENTRIES:
        rc = fg_ledger_account_get(conn, job->id, &a);
        if ((rc == FG_ERR_NOT_FOUND && !job->who.staff) ||
            (rc == FG_OK && !fg_money_may_see(&job->who, &a))) {
            job->denied = 1;
            return FG_OK;
        }
        if (rc)
            return rc;
        if (job->kind == R_ACCOUNT) {
            job->out = account_json(&a);
            return job->out ? FG_OK : FG_ERR_NOMEM;
        }
        job->out = json_pack("{s:s, s:[]}", "account_id", a.id, "entries");
        if (job->out == NULL)
            return FG_ERR_NOMEM;
        {
            int64_t first = job->before;
            job->before = 0;
            rc = fg_ledger_entries(conn, fg_money_keys(job->app), a.id, first, job->limit,
                                   entry_row, job);
            size_t n = json_array_size(json_object_get(job->out, "entries"));
            snprintf(job->owner, sizeof job->owner, "%s", a.customer_id);
            job->rows = n;
            char cur[24];
            snprintf(cur, sizeof cur, "%lld", (long long)job->before);
            json_object_set_new(job->out, "next_cursor",
                                n == job->limit ? json_string(cur) : json_null());
        }
        return rc;
    case R_CUSTOMER_ACCOUNTS:
        if (!job->who.staff && strcmp(job->id, job->who.customer_id) != 0) {
            job->denied = 1;
            return FG_OK;
        }
        rc = fg_customer_owner(conn, job->id, NULL, NULL);
        if (rc)
            return rc;
        job->out = json_pack("{s:s, s:[]}", "customer_id", job->id, "accounts");
        return job->out ? fg_ledger_accounts_of(conn, job->id, account_row, job) : FG_ERR_NOMEM;
    case R_TRANSFER: {
        struct fg_ledger_transfer t;
        rc = fg_ledger_transfer_get(conn, job->id, &t);
        if ((rc == FG_ERR_NOT_FOUND && !job->who.staff) ||
            (rc == FG_OK && !job->who.staff && strcmp(t.customer_id, job->who.customer_id) != 0)) {
            job->denied = 1;
            return FG_OK;
        }
        if (rc)
            return rc;
        const char *status = t.status;
        if (strcmp(t.status, "pending_approval") == 0 && t.approval_id[0] != '\0') {
            struct fg_approval ap;
            if (fg_approval_get(conn, t.approval_id, &ap) == FG_OK &&
                ap.state != FG_APPROVAL_PENDING && ap.state != FG_APPROVAL_APPROVED)
                status = fg_approval_state_name(ap.state); /* rejected / expired / failed */
        }
        char when[FG_TIME_RFC3339_LEN];
        fg_time_format_rfc3339(t.created_ms, when);
        job->out = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "id", t.id, "from", t.from,
                             "to", t.to, "amount", (json_int_t)t.amount, "currency", t.currency,
                             "status", status, "created_at", when);
        if (job->out && t.journal_id[0])
            json_object_set_new(job->out, "journal_id", json_string(t.journal_id));
        if (job->out && t.approval_id[0])
            json_object_set_new(job->out, "approval_id", json_string(t.approval_id));
        return job->out ? FG_OK : FG_ERR_NOMEM;
    }
    case R_CHECK: {
        struct fg_ledger_check_report r;
        rc = fg_ledger_check(conn, &r); /* inside read_work's snapshot */
        if (rc)
            return rc;
        job->out = json_pack("{s:b, s:I, s:I, s:I, s:s, s:s}", "ok", r.ok, "accounts",
                             (json_int_t)r.accounts, "journals", (json_int_t)r.journals, "entries",
                             (json_int_t)r.entries, "problem", r.problem, "customer_totals",
                             r.currency_totals);
        return job->out ? FG_OK : FG_ERR_NOMEM;
    }
    }
    return FG_ERR_INTERNAL;
}

static fg_rc read_work(void *arg)
{
    struct read_job *job = arg;
    fg_conn *conn;
    fg_rc rc = fg_store_read_acquire(job->app->store, &conn);
    if (rc)
        return rc;
    /* one snapshot for the whole read: a statement page, or the proof of the books across
     * every table, must not mix states from before and after a concurrent commit */
    rc = fg_conn_exec(conn, "BEGIN", NULL, 0, NULL, NULL, NULL);
    if (rc == FG_OK) {
        rc = read_in(conn, job);
        fg_rc end = fg_conn_exec(conn, "COMMIT", NULL, 0, NULL, NULL, NULL);
        if (rc == FG_OK)
            rc = end;
    }
    fg_store_read_release(job->app->store, conn);
    return rc;
}

/* The statement.read event beside its record (DATA-6, MON-1). */
static fg_rc statement_intent(fg_conn *conn, void *arg)
{
    struct read_job *job = arg;
    struct fg_event e = fg_event_of_record(&job->record, "statement.read", "account", job->id);
    return fg_event_emit_json(conn, &e,
                              json_pack("{s:s, s:s, s:I}", "account", job->id, "customer",
                                        job->owner, "rows", (json_int_t)job->rows),
                              fg_time_wall_ms());
}

static void statement_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct read_job *job = arg;
    if (c != NULL) {
        if (rc) { /* no unrecorded statement leaves (AUD-1) */
            fg_reply_rc(c, rc, NULL);
        } else {
            fg_reply_json(c, 200, job->out);
            job->out = NULL;
        }
    }
    json_decref(job->out);
    free(job);
}

/* Staff read a statement page: record it, answer after commit. 1 if handed off (or
 * answered 503 and freed). */
static int statement_record(struct fg_call *c, struct read_job *job)
{
    struct fg_audit_actor who;
    fg_call_actor(c, &who);
    char details[160];
    int n = snprintf(details, sizeof details, "{\"customer\":\"%s\",\"rows\":%zu}", job->owner,
                     job->rows);
    if (!fg_money_id_loggable(job->id) ||
        fg_audit_record_init(&job->record, &who, "statement.read", "account", job->id) != FG_OK ||
        n <= 0 || (size_t)n >= sizeof details ||
        fg_audit_record_details(&job->record, details, (size_t)n) != FG_OK)
        return 0;
    if (fg_call_write_record(c, statement_intent, job, &job->record, statement_done) != FG_OK) {
        json_decref(job->out);
        free(job);
    }
    return 1;
}

static void read_done(struct fg_call *c, void *arg, fg_rc rc)
{
    struct read_job *job = arg;
    if (c != NULL && rc == FG_OK && !job->denied && job->kind == R_ENTRIES && job->who.staff &&
        statement_record(c, job))
        return;
    if (c != NULL) {
        if (rc == FG_OK && job->denied) {
            static const char *const types[] = {[R_ACCOUNT] = "account",
                                                [R_ENTRIES] = "account",
                                                [R_CUSTOMER_ACCOUNTS] = "customer",
                                                [R_TRANSFER] = "transfer",
                                                [R_CHECK] = "ledger"};
            fg_call_deny(c, 403, "permission_denied", "not your account", FG_ERR_PERMISSION,
                         types[job->kind], fg_money_id_loggable(job->id) ? job->id : NULL);
        } else if (rc == FG_ERR_NOT_FOUND) {
            fg_reply_error(c, 404, "not_found", "no such object", NULL);
        } else if (rc) {
            fg_reply_rc(c, rc, NULL);
        } else {
            fg_reply_json(c, 200, job->out);
            job->out = NULL;
        }
    }
    json_decref(job->out);
    free(job);
}

static void read_route(struct fg_call *c, enum read_kind kind)
{
    struct read_job *job = calloc(1, sizeof *job);
    if (job == NULL) {
        fg_reply_rc(c, FG_ERR_NOMEM, NULL);
        return;
    }
    job->app = fg_call_app(c);
    job->kind = kind;
    fg_money_who_of(c, &job->who);
    const char *id = fg_call_param(c, 0);
    snprintf(job->id, sizeof job->id, "%s", id ? id : "");
    if (kind == R_ENTRIES) {
        const char *l = fg_call_query(c, "limit"), *cur = fg_call_query(c, "cursor");
        int64_t lim = l ? fg_query_uint(l, FG_LEDGER_PAGE_MAX) : MONEY_PAGE_DEFAULT;
        int64_t before = cur ? fg_query_uint(cur, INT64_MAX - 1) : 0;
        if (lim < 1 || before < 0) {
            fg_reply_error(c, 400, "invalid_argument", "limit is 1-200, cursor a next_cursor",
                           lim < 1 ? "limit" : "cursor");
            free(job);
            return;
        }
        job->limit = (unsigned)lim;
        job->before = before;
    }
    if (fg_call_defer(c, read_work, job, read_done) != FG_OK)
        free(job);
}

static void account_route(struct fg_call *c)
{
    read_route(c, R_ACCOUNT);
}
static void entries_route(struct fg_call *c)
{
    read_route(c, R_ENTRIES);
}
static void customer_accounts_route(struct fg_call *c)
{
    read_route(c, R_CUSTOMER_ACCOUNTS);
}
static void transfer_read_route(struct fg_call *c)
{
    read_route(c, R_TRANSFER);
}
static void check_route(struct fg_call *c)
{
    read_route(c, R_CHECK);
}

fg_rc fg_money_read_routes(struct fg_router *r)
{
    static const struct fg_route routes[] = {
        {.method = "GET",
         .pattern = "/v1/accounts/{id}",
         .permission = "accounts.read",
         .fn = account_route},
        {.method = "GET",
         .pattern = "/v1/accounts/{id}/entries",
         .permission = "statements.read",
         .fn = entries_route},
        {.method = "GET",
         .pattern = "/v1/customers/{id}/accounts",
         .permission = "accounts.read",
         .fn = customer_accounts_route},
        {.method = "GET",
         .pattern = "/v1/transfers/{id}",
         .permission = "statements.read",
         .fn = transfer_read_route},
        {.method = "GET",
         .pattern = "/v1/ledger/check",
         .permission = "ledger.check",
         .fn = check_route},
    };
    fg_rc rc = FG_OK;
    for (size_t i = 0; rc == FG_OK && i < sizeof routes / sizeof routes[0]; i++)
        rc = fg_router_add(r, &routes[i]);
    return rc;
}
