/*
 * Unit tests for iam/approval.c: four-eyes approvals on a real store with the audit log
 * attached (test keys), so every step's record is checked in the same run.
 *
 * Test actions: "users.create" (class staff, bootstrap allowed) inserts a row into the
 * test table `things` and, when the payload says "approver":true, one into `approvers`
 * (which count_approvers counts); "limits.raise" (class limits) inserts a row and then
 * returns whatever `exec_fail` says, to test failed and retryable executions.
 */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "iam/approval.h"
#include "store/fault.h"
#include "store/store.h"

#define DAY_S (24 * 3600)

/* ---- the environment --------------------------------------------------------------------- */

struct env {
    char dir[256];
    char db[512];
    uint8_t mac[32];
    uint8_t priv[FG_SIGN_PRIVATE_LEN];
    uint8_t pub[FG_SIGN_PUBLIC_MAX];
    size_t pub_len;
    fg_store *st;
    fg_audit_log *log;
};

static int exec_count;  /* execute() calls that returned FG_OK */
static fg_rc exec_fail; /* what limits.raise's execute returns */

/* (person, class) pairs that hold approve.<class>. */
static const char *const grants[][2] = {
    {"admin", "staff"}, {"bob", "staff"},  {"carol", "staff"},  {"alice", "staff"},
    {"dave", "limits"}, {"bob", "limits"}, {"alice", "limits"},
};

static int can_approve(void *ctx, fg_conn *conn, const char *who, const char *action_class)
{
    (void)ctx;
    (void)conn;
    for (size_t i = 0; i < sizeof grants / sizeof grants[0]; i++)
        if (strcmp(grants[i][0], who) == 0 && strcmp(grants[i][1], action_class) == 0)
            return 1;
    return 0;
}

static fg_rc count_one(void *ctx, const struct fg_val *c, int n)
{
    assert_int_equal(n, 1);
    *(int64_t *)ctx = c[0].i;
    return FG_OK;
}

static fg_rc count_approvers(void *ctx, fg_conn *conn, unsigned *n)
{
    (void)ctx;
    int64_t v = 0;
    fg_rc rc = fg_conn_exec(conn, "SELECT count(*) FROM approvers", NULL, 0, count_one, &v, NULL);
    *n = (unsigned)v;
    return rc;
}

static const struct fg_approval_policy policy = {
    .can_approve = can_approve, .count_approvers = count_approvers, .ctx = NULL};

static fg_rc users_validate(fg_conn *conn, const char *payload, void *ctx, const char **reason)
{
    (void)conn;
    (void)ctx;
    json_t *o = json_loads(payload, 0, NULL);
    int ok = o != NULL && json_is_string(json_object_get(o, "username"));
    json_decref(o);
    if (!ok)
        *reason = "username is required";
    return ok ? FG_OK : FG_ERR_INVALID;
}

static fg_rc users_execute(fg_conn *conn, const char *payload, const struct fg_approval *ap,
                           void *ctx, char *result, size_t cap)
{
    (void)ctx;
    assert_non_null(ap);
    assert_string_equal(ap->payload, payload);
    json_t *o = json_loads(payload, 0, NULL);
    assert_non_null(o);
    const char *name = json_string_value(json_object_get(o, "username"));
    int approver = json_is_true(json_object_get(o, "approver"));
    const struct fg_val p[] = {FG_VSTR(name)};
    fg_rc rc = fg_conn_exec(conn, "INSERT INTO things (name) VALUES (?1)", p, 1, NULL, NULL, NULL);
    if (rc == FG_OK && approver)
        rc = fg_conn_exec(conn, "INSERT INTO approvers (name) VALUES (?1)", p, 1, NULL, NULL, NULL);
    if (rc == FG_OK) {
        snprintf(result, cap, "{\"user_id\":\"u_%s\"}", name);
        exec_count++;
    }
    json_decref(o);
    return rc;
}

static fg_rc limits_execute(fg_conn *conn, const char *payload, const struct fg_approval *ap,
                            void *ctx, char *result, size_t cap)
{
    (void)payload;
    (void)ap;
    (void)ctx;
    (void)result;
    (void)cap;
    const struct fg_val p[] = {FG_VSTR("limit-raised")};
    fg_rc rc = fg_conn_exec(conn, "INSERT INTO things (name) VALUES (?1)", p, 1, NULL, NULL, NULL);
    if (rc == FG_OK && exec_fail == FG_OK)
        exec_count++;
    return rc != FG_OK ? rc : exec_fail; /* changed something, then maybe refuses */
}

static fg_rc setup_tables(fg_conn *conn, void *arg)
{
    (void)arg;
    fg_rc rc = fg_conn_exec(conn, "CREATE TABLE things (name TEXT PRIMARY KEY)", NULL, 0, NULL,
                            NULL, NULL);
    if (rc == FG_OK)
        rc = fg_conn_exec(conn, "CREATE TABLE approvers (name TEXT PRIMARY KEY)", NULL, 0, NULL,
                          NULL, NULL);
    if (rc == FG_OK)
        rc = fg_conn_exec(conn, "INSERT INTO approvers (name) VALUES ('admin')", NULL, 0, NULL,
                          NULL, NULL);
    return rc;
}

static int group_setup(void **state)
{
    (void)state;
    assert_int_equal(fg_crypto_init(), FG_OK);
    const struct fg_approval_action users = {.name = "users.create",
                                             .action_class = "staff",
                                             .validate = users_validate,
                                             .execute = users_execute,
                                             .bootstrap = 1};
    const struct fg_approval_action limits = {
        .name = "limits.raise", .action_class = "limits", .execute = limits_execute};
    assert_int_equal(fg_approval_register(&users), FG_OK);
    assert_int_equal(fg_approval_register(&limits), FG_OK);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    fg_approval_unregister_all();
    return 0;
}

static int setup_with(void **state, const struct fg_store_ops *ops)
{
    static struct env e;
    memset(&e, 0, sizeof e);
    fg_test_tmpdir("approval", e.dir, sizeof e.dir);
    snprintf(e.db, sizeof e.db, "%s/finguard.db", e.dir);
    assert_int_equal(fg_random(e.mac, sizeof e.mac), FG_OK);
    assert_int_equal(fg_sign_keygen(FG_SUITE_INTL, e.priv), FG_OK);
    assert_int_equal(fg_sign_public(FG_SUITE_INTL, e.priv, e.pub, &e.pub_len), FG_OK);
    const struct fg_audit_mac_key mk = {.version = 1, .key = e.mac, .len = sizeof e.mac};
    const struct fg_audit_public_key pk = {.version = 1, .key = e.pub, .len = e.pub_len};
    const struct fg_audit_options ao = {.keys = {.suite = FG_SUITE_INTL,
                                                 .mac_keys = &mk,
                                                 .mac_key_count = 1,
                                                 .sign_private = e.priv,
                                                 .sign_version = 1,
                                                 .public_keys = &pk,
                                                 .public_key_count = 1}};
    const struct fg_store_options so = {.ops = ops, .path = e.db};
    assert_int_equal(fg_store_open(&so, &e.st), FG_OK);
    assert_int_equal(fg_audit_open(&ao, &e.log), FG_OK);
    fg_audit_attach(e.st, e.log);
    assert_int_equal(fg_store_write(e.st, setup_tables, NULL), FG_OK);
    exec_count = 0;
    exec_fail = FG_OK;
    fg_time_set_offset_s(0);
    *state = &e;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, NULL);
}

static int setup_fault(void **state)
{
    fg_store_fault_clear();
    return setup_with(state, fg_store_fault_ops(fg_store_sqlite_ops()));
}

static int teardown(void **state)
{
    struct env *e = *state;
    fg_time_set_offset_s(0);
    fg_store_close(e->st);
    fg_audit_close(e->log);
    fg_test_rmtree(e->dir);
    return 0;
}

/* ---- helpers ----------------------------------------------------------------------------- */

struct request_call {
    const char *action, *payload, *requester;
    int64_t ttl_ms;
    struct fg_audit_record *rec;
    char id[FG_APPROVAL_ID_SIZE];
    const char *why;
};

static fg_rc request_fn(fg_conn *conn, void *arg)
{
    struct request_call *r = arg;
    return fg_approval_request(conn, r->action, r->payload, r->requester, r->ttl_ms, r->id, r->rec,
                               &r->why);
}

static struct fg_audit_record last_rec; /* the record of the last request/decide helper */

static fg_rc request(struct env *e, const char *action, const char *payload, const char *who,
                     char id[FG_APPROVAL_ID_SIZE])
{
    const struct fg_audit_actor actor = {.actor_id = who, .request_id = "req-1"};
    assert_int_equal(fg_audit_record_init(&last_rec, &actor, "approval.request", NULL, NULL),
                     FG_OK);
    struct request_call r = {
        .action = action, .payload = payload, .requester = who, .rec = &last_rec};
    fg_rc rc = fg_audit_write(e->st, request_fn, &r, &last_rec);
    if (rc == FG_OK)
        assert_int_equal(strlen(r.id), FG_APPROVAL_ID_LEN);
    else
        assert_non_null(r.why);
    if (id != NULL)
        memcpy(id, r.id, FG_APPROVAL_ID_SIZE);
    return rc;
}

static fg_rc decide(struct env *e, const char *id, const char *who, enum fg_approval_verdict v,
                    const char *reason, struct fg_approval_decision *out)
{
    const struct fg_audit_actor actor = {.actor_id = who, .request_id = "req-2"};
    const char *name = v == FG_APPROVAL_REJECT ? "approval.reject" : "approval.approve";
    assert_int_equal(fg_audit_record_init(&last_rec, &actor, name, NULL, NULL), FG_OK);
    struct fg_approval_decide_call call = {
        .args = {.id = id, .approver_id = who, .verdict = v, .reason = reason, .policy = &policy},
        .rec = &last_rec};
    fg_rc irc = fg_audit_write(e->st, fg_approval_decide_intent, &call, &last_rec);
    assert_int_equal(irc, call.out.commit ? FG_OK : call.rc);
    assert_true(last_rec.seq > 0); /* audited whatever happened */
    if (call.rc != FG_OK)
        assert_non_null(call.out.reason);
    if (out != NULL)
        *out = call.out;
    return call.rc;
}

static void get(struct env *e, const char *id, struct fg_approval *ap)
{
    fg_conn *c = NULL;
    assert_int_equal(fg_store_read_acquire(e->st, &c), FG_OK);
    assert_int_equal(fg_approval_get(c, id, ap), FG_OK);
    fg_store_read_release(e->st, c);
}

static int64_t count(struct env *e, const char *sql)
{
    fg_conn *c = NULL;
    int64_t n = -1;
    assert_int_equal(fg_store_read_acquire(e->st, &c), FG_OK);
    assert_int_equal(fg_conn_exec(c, sql, NULL, 0, count_one, &n, NULL), FG_OK);
    fg_store_read_release(e->st, c);
    return n;
}

static fg_rc exec_sql(fg_conn *conn, void *arg)
{
    return fg_conn_exec(conn, arg, NULL, 0, NULL, NULL, NULL);
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_approve_executes_once(void **state)
{
    struct env *e = *state;
    char id[FG_APPROVAL_ID_SIZE];
    assert_int_equal(request(e, "users.create", "{ \"username\" : \"zoe\" }", "alice", id), FG_OK);
    assert_int_equal(strlen(id), FG_APPROVAL_ID_LEN);
    assert_string_equal(last_rec.object_type, "approval");
    assert_string_equal(last_rec.object_id, id);
    assert_int_equal(last_rec.result, FG_AUDIT_RESULT_OK);
    assert_non_null(strstr(last_rec.details, "\"payload\":{\"username\":\"zoe\"}"));

    struct fg_approval ap;
    get(e, id, &ap);
    assert_int_equal(ap.state, FG_APPROVAL_PENDING);
    assert_string_equal(ap.payload, "{\"username\":\"zoe\"}"); /* stored compact */
    assert_string_equal(ap.action_class, "staff");
    assert_int_equal(ap.expires_ms - ap.created_ms, FG_APPROVAL_TTL_MS_DEFAULT);
    assert_int_equal(count(e, "SELECT count(*) FROM things"), 0); /* nothing happened yet */

    struct fg_approval_decision d;
    assert_int_equal(decide(e, id, "bob", FG_APPROVAL_APPROVE, "checked with HR", &d), FG_OK);
    assert_true(d.commit && d.executed);
    assert_int_equal(d.state, FG_APPROVAL_APPROVED);
    assert_string_equal(d.result, "{\"user_id\":\"u_zoe\"}");
    assert_int_equal(exec_count, 1);
    assert_int_equal(count(e, "SELECT count(*) FROM things WHERE name = 'zoe'"), 1);
    assert_int_equal(last_rec.result, FG_AUDIT_RESULT_OK);
    assert_non_null(strstr(last_rec.details, "\"decided_by\":\"bob\""));
    assert_non_null(strstr(last_rec.details, "\"result\":{\"user_id\":\"u_zoe\"}"));

    get(e, id, &ap);
    assert_int_equal(ap.state, FG_APPROVAL_APPROVED);
    assert_string_equal(ap.decided_by, "bob");
    assert_string_equal(ap.reason, "checked with HR");
    assert_string_equal(ap.result, "{\"user_id\":\"u_zoe\"}");
    assert_true(ap.decided_ms > 0);

    /* never twice: not by another approver, not by the same, not as a rejection */
    assert_int_equal(decide(e, id, "carol", FG_APPROVAL_APPROVE, NULL, &d), FG_ERR_CONFLICT);
    assert_int_equal(d.state, FG_APPROVAL_APPROVED);
    assert_false(d.commit);
    assert_int_equal(decide(e, id, "bob", FG_APPROVAL_APPROVE, NULL, NULL), FG_ERR_CONFLICT);
    assert_int_equal(decide(e, id, "carol", FG_APPROVAL_REJECT, "late", NULL), FG_ERR_CONFLICT);
    assert_int_equal(last_rec.result, FG_AUDIT_RESULT_DENIED);
    assert_string_equal(last_rec.error_code, "FG_ERR_CONFLICT");
    assert_int_equal(exec_count, 1);

    /* the schema refuses it too, whatever code tries */
    assert_int_equal(fg_store_write(e->st, exec_sql,
                                    "UPDATE approvals SET state = 'pending', decided_ms = NULL, "
                                    "decided_by = NULL, result = NULL"),
                     FG_ERR_CONFLICT);
    assert_int_equal(fg_store_write(e->st, exec_sql, "DELETE FROM approvals"), FG_ERR_CONFLICT);
}

static void test_requester_cannot_approve(void **state)
{
    struct env *e = *state;
    char id[FG_APPROVAL_ID_SIZE];
    assert_int_equal(request(e, "users.create", "{\"username\":\"yan\"}", "alice", id), FG_OK);
    struct fg_approval_decision d;
    assert_int_equal(decide(e, id, "alice", FG_APPROVAL_APPROVE, NULL, &d), FG_ERR_PERMISSION);
    assert_string_equal(d.reason, "the requester cannot approve");
    assert_false(d.commit);
    assert_int_equal(last_rec.result, FG_AUDIT_RESULT_DENIED);
    assert_string_equal(last_rec.error_code, "FG_ERR_PERMISSION");
    assert_string_equal(last_rec.object_id, id);
    assert_int_equal(decide(e, id, "alice", FG_APPROVAL_REJECT, "oops", NULL), FG_ERR_PERMISSION);
    struct fg_approval ap;
    get(e, id, &ap);
    assert_int_equal(ap.state, FG_APPROVAL_PENDING);
    assert_int_equal(exec_count, 0);

    /* nor can the schema be made to record it */
    assert_int_equal(fg_store_write(e->st, exec_sql,
                                    "UPDATE approvals SET state = 'rejected', decided_ms = 1, "
                                    "decided_by = requester_id"),
                     FG_ERR_CONFLICT);
}

static void test_approver_needs_class(void **state)
{
    struct env *e = *state;
    char id[FG_APPROVAL_ID_SIZE];
    assert_int_equal(request(e, "users.create", "{\"username\":\"xia\"}", "alice", id), FG_OK);
    struct fg_approval_decision d;
    /* dave approves limits, not staff; mallory approves nothing */
    assert_int_equal(decide(e, id, "dave", FG_APPROVAL_APPROVE, NULL, &d), FG_ERR_PERMISSION);
    assert_string_equal(d.reason, "the approver may not approve this class");
    assert_int_equal(decide(e, id, "mallory", FG_APPROVAL_REJECT, "no", &d), FG_ERR_PERMISSION);
    assert_int_equal(exec_count, 0);
    struct fg_approval ap;
    get(e, id, &ap);
    assert_int_equal(ap.state, FG_APPROVAL_PENDING);

    /* and dave can approve his class */
    assert_int_equal(
        request(e, "limits.raise", "{\"account_id\":\"a1\",\"to_minor\":5}", "bob", id), FG_OK);
    assert_int_equal(decide(e, id, "dave", FG_APPROVAL_APPROVE, NULL, &d), FG_OK);
    assert_int_equal(exec_count, 1);
}

static void test_expired(void **state)
{
    struct env *e = *state;
    char id[FG_APPROVAL_ID_SIZE];
    assert_int_equal(request(e, "users.create", "{\"username\":\"wu\"}", "alice", id), FG_OK);
    fg_time_set_offset_s(DAY_S + 1);
    struct fg_approval ap;
    get(e, id, &ap);
    assert_int_equal(ap.state, FG_APPROVAL_EXPIRED); /* effective before anyone marks it */

    struct fg_approval_decision d;
    assert_int_equal(decide(e, id, "bob", FG_APPROVAL_APPROVE, NULL, &d), FG_ERR_CONFLICT);
    assert_string_equal(d.reason, "the approval has expired");
    assert_true(d.commit);
    assert_false(d.executed);
    assert_int_equal(exec_count, 0);
    assert_int_equal(count(e, "SELECT count(*) FROM things"), 0);
    assert_int_equal(count(e, "SELECT count(*) FROM approvals WHERE state = 'expired' "
                              "AND decided_by IS NULL AND error_code = 'FG_ERR_CONFLICT'"),
                     1);
    assert_int_equal(last_rec.result, FG_AUDIT_RESULT_DENIED);
    /* marked for good: even with the clock back it stays expired */
    fg_time_set_offset_s(0);
    assert_int_equal(decide(e, id, "bob", FG_APPROVAL_APPROVE, NULL, &d), FG_ERR_CONFLICT);
    assert_string_equal(d.reason, "the approval is not pending");
    assert_int_equal(d.state, FG_APPROVAL_EXPIRED);
    assert_int_equal(exec_count, 0);
}

struct expire_call {
    int64_t marked;
    unsigned max;
};

static fg_rc expire_fn(fg_conn *conn, void *arg)
{
    struct expire_call *x = arg;
    return fg_approval_expire_due(conn, fg_time_wall_ms(), x->max, &x->marked);
}

static void test_expire_due(void **state)
{
    struct env *e = *state;
    char id[FG_APPROVAL_ID_SIZE];
    for (int i = 0; i < 3; i++) {
        struct request_call r = {.action = "limits.raise",
                                 .payload = "{\"n\":1}",
                                 .requester = "bob",
                                 .ttl_ms = FG_APPROVAL_TTL_MS_MIN};
        assert_int_equal(fg_store_write(e->st, request_fn, &r), FG_OK);
    }
    assert_int_equal(request(e, "users.create", "{\"username\":\"long\"}", "alice", id), FG_OK);
    struct request_call bad = {
        .action = "limits.raise", .payload = "{}", .requester = "bob", .ttl_ms = 1000};
    assert_int_equal(fg_store_write(e->st, request_fn, &bad), FG_ERR_INVALID);

    struct expire_call x = {.max = 2};
    assert_int_equal(fg_store_write(e->st, expire_fn, &x), FG_OK);
    assert_int_equal(x.marked, 0); /* nothing due yet */
    fg_time_set_offset_s(61);
    assert_int_equal(fg_store_write(e->st, expire_fn, &x), FG_OK);
    assert_int_equal(x.marked, 2); /* a bounded batch */
    assert_int_equal(fg_store_write(e->st, expire_fn, &x), FG_OK);
    assert_int_equal(x.marked, 1);
    assert_int_equal(fg_store_write(e->st, expire_fn, &x), FG_OK);
    assert_int_equal(x.marked, 0);
    assert_int_equal(count(e, "SELECT count(*) FROM approvals WHERE state = 'expired'"), 3);
    struct fg_approval ap;
    get(e, id, &ap);
    assert_int_equal(ap.state, FG_APPROVAL_PENDING); /* 24 h one untouched */
}

static void test_reject(void **state)
{
    struct env *e = *state;
    char id[FG_APPROVAL_ID_SIZE];
    assert_int_equal(request(e, "users.create", "{\"username\":\"vic\"}", "alice", id), FG_OK);
    struct fg_approval_decision d;
    assert_int_equal(decide(e, id, "bob", FG_APPROVAL_REJECT, NULL, &d), FG_ERR_INVALID);
    assert_string_equal(d.reason, "a rejection needs a reason");
    assert_int_equal(decide(e, id, "bob", FG_APPROVAL_REJECT, "bad\nreason", &d), FG_ERR_INVALID);
    assert_int_equal(decide(e, id, "bob", FG_APPROVAL_REJECT, "not a real hire", &d), FG_OK);
    assert_int_equal(d.state, FG_APPROVAL_REJECTED);
    assert_false(d.executed);
    assert_int_equal(last_rec.result, FG_AUDIT_RESULT_OK);
    assert_non_null(strstr(last_rec.details, "\"reason\":\"not a real hire\""));
    struct fg_approval ap;
    get(e, id, &ap);
    assert_int_equal(ap.state, FG_APPROVAL_REJECTED);
    assert_string_equal(ap.decided_by, "bob");
    assert_string_equal(ap.reason, "not a real hire");
    assert_int_equal(decide(e, id, "carol", FG_APPROVAL_APPROVE, NULL, &d), FG_ERR_CONFLICT);
    assert_int_equal(exec_count, 0);
    assert_int_equal(count(e, "SELECT count(*) FROM things"), 0);
}

static void test_execute_failure(void **state)
{
    struct env *e = *state;
    char id[FG_APPROVAL_ID_SIZE];
    struct fg_approval_decision d;
    struct fg_approval ap;

    /* a machine error: everything rolls back, still pending, can be approved later */
    assert_int_equal(request(e, "limits.raise", "{\"to_minor\":900}", "alice", id), FG_OK);
    exec_fail = FG_ERR_STORE;
    assert_int_equal(decide(e, id, "bob", FG_APPROVAL_APPROVE, NULL, &d), FG_ERR_STORE);
    assert_false(d.commit);
    assert_int_equal(last_rec.result, FG_AUDIT_RESULT_ERROR);
    assert_int_equal(count(e, "SELECT count(*) FROM things"), 0);
    get(e, id, &ap);
    assert_int_equal(ap.state, FG_APPROVAL_PENDING);
    exec_fail = FG_OK;
    assert_int_equal(decide(e, id, "bob", FG_APPROVAL_APPROVE, NULL, &d), FG_OK);
    assert_int_equal(count(e, "SELECT count(*) FROM things"), 1);
    assert_int_equal(exec_count, 1);

    /* a verdict: the change vanishes, the failure commits with its record */
    assert_int_equal(fg_store_write(e->st, exec_sql, "DELETE FROM things"), FG_OK);
    assert_int_equal(request(e, "limits.raise", "{\"to_minor\":9000}", "alice", id), FG_OK);
    exec_fail = FG_ERR_POLICY;
    assert_int_equal(decide(e, id, "bob", FG_APPROVAL_APPROVE, "ok by me", &d), FG_ERR_POLICY);
    assert_true(d.commit);
    assert_false(d.executed);
    assert_int_equal(d.state, FG_APPROVAL_FAILED);
    assert_int_equal(last_rec.result, FG_AUDIT_RESULT_ERROR);
    assert_string_equal(last_rec.error_code, "FG_ERR_POLICY");
    assert_int_equal(count(e, "SELECT count(*) FROM things"), 0); /* nothing of the change */
    get(e, id, &ap);
    assert_int_equal(ap.state, FG_APPROVAL_FAILED);
    assert_string_equal(ap.error_code, "FG_ERR_POLICY");
    assert_string_equal(ap.failure, fg_rc_str(FG_ERR_POLICY));
    assert_string_equal(ap.decided_by, "bob");
    assert_string_equal(ap.result, "");
    exec_fail = FG_OK;
    assert_int_equal(decide(e, id, "dave", FG_APPROVAL_APPROVE, NULL, &d), FG_ERR_CONFLICT);
    assert_int_equal(exec_count, 1);
}

struct seen {
    char ids[16][FG_APPROVAL_ID_SIZE];
    int n;
};

static fg_rc collect(void *ctx, const struct fg_approval *ap)
{
    struct seen *s = ctx;
    assert_true(s->n < 16);
    memcpy(s->ids[s->n++], ap->id, FG_APPROVAL_ID_SIZE);
    return FG_OK;
}

static int list_all(struct env *e, enum fg_approval_state st, unsigned limit, struct seen *s)
{
    fg_conn *c = NULL;
    assert_int_equal(fg_store_read_acquire(e->st, &c), FG_OK);
    struct fg_approval_cursor cur = {0}, next;
    int more = 1, pages = 0;
    memset(s, 0, sizeof *s);
    while (more) {
        int before = s->n;
        char text[FG_APPROVAL_CURSOR_TEXT_SIZE];
        fg_approval_cursor_format(&cur, text);
        if (pages > 0) /* the API's next= round trip */
            assert_int_equal(fg_approval_cursor_parse(text, &cur), FG_OK);
        assert_int_equal(
            fg_approval_list(c, st, limit, pages ? &cur : NULL, collect, s, &next, &more), FG_OK);
        assert_true(s->n - before <= (int)limit);
        assert_true(!more || s->n - before == (int)limit);
        cur = next;
        pages++;
    }
    fg_store_read_release(e->st, c);
    return pages;
}

static void test_list_pagination(void **state)
{
    struct env *e = *state;
    char ids[7][FG_APPROVAL_ID_SIZE];
    for (int i = 0; i < 7; i++) {
        fg_time_set_offset_s(i / 2); /* some share a millisecond: (created_ms, id) orders */
        char payload[64];
        snprintf(payload, sizeof payload, "{\"username\":\"p%d\"}", i);
        assert_int_equal(request(e, "users.create", payload, "alice", ids[i]), FG_OK);
    }
    fg_time_set_offset_s(4);
    struct seen s;
    assert_int_equal(list_all(e, FG_APPROVAL_ANY, 3, &s), 3);
    assert_int_equal(s.n, 7);
    for (int i = 0; i < 7; i++) {
        int found = 0;
        for (int j = 0; j < 7; j++)
            found += strcmp(s.ids[j], ids[i]) == 0;
        assert_int_equal(found, 1); /* every one exactly once */
    }
    assert_int_equal(decide(e, ids[1], "bob", FG_APPROVAL_APPROVE, NULL, NULL), FG_OK);
    assert_int_equal(decide(e, ids[5], "bob", FG_APPROVAL_REJECT, "no", NULL), FG_OK);
    list_all(e, FG_APPROVAL_PENDING, 2, &s);
    assert_int_equal(s.n, 5);
    list_all(e, FG_APPROVAL_APPROVED, 10, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.ids[0], ids[1]);
    list_all(e, FG_APPROVAL_REJECTED, 10, &s);
    assert_int_equal(s.n, 1);
    fg_time_set_offset_s(DAY_S + 10); /* all pending ones are now effectively expired */
    list_all(e, FG_APPROVAL_PENDING, 10, &s);
    assert_int_equal(s.n, 0);
    list_all(e, FG_APPROVAL_EXPIRED, 10, &s);
    assert_int_equal(s.n, 5);

    fg_conn *c = NULL;
    struct fg_approval_cursor next, cur;
    int more;
    assert_int_equal(fg_store_read_acquire(e->st, &c), FG_OK);
    assert_int_equal(fg_approval_list(c, FG_APPROVAL_ANY, 0, NULL, collect, &s, &next, &more),
                     FG_ERR_INVALID);
    assert_int_equal(fg_approval_list(c, FG_APPROVAL_ANY, FG_APPROVAL_LIST_MAX + 1, NULL, collect,
                                      &s, &next, &more),
                     FG_ERR_INVALID);
    fg_store_read_release(e->st, c);
    const char *bad[] = {"",
                         "x.abc",
                         "12",
                         "12.",
                         "-1.AAAAAAAAAAAAAAAAAAAAAA",
                         "99999999999999999999.AAAAAAAAAAAAAAAAAAAAAA",
                         "1.AAAA"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fg_approval_cursor_parse(bad[i], &cur), FG_ERR_INVALID);
}

static void test_request_refusals(void **state)
{
    struct env *e = *state;
    char id[FG_APPROVAL_ID_SIZE];
    assert_int_equal(request(e, "nope.nothing", "{}", "alice", id), FG_ERR_NOT_FOUND);
    assert_string_equal(id, "");
    assert_int_equal(last_rec.result, FG_AUDIT_RESULT_DENIED);
    assert_int_equal(request(e, "users.create", "not json", "alice", id), FG_ERR_INVALID);
    assert_int_equal(request(e, "users.create", "[1]", "alice", id), FG_ERR_INVALID);
    assert_int_equal(
        request(e, "users.create", "{\"username\":\"a\",\"username\":\"b\"}", "alice", id),
        FG_ERR_INVALID);
    /* secrets never go into a payload */
    assert_int_equal(
        request(e, "users.create", "{\"username\":\"s\",\"password\":\"hunter2\"}", "alice", id),
        FG_ERR_INVALID);
    assert_int_equal(request(e, "users.create",
                             "{\"username\":\"s\",\"card\":\"4111111111111111\"}", "alice", id),
                     FG_ERR_INVALID);
    assert_null(strstr(last_rec.details, "hunter2"));
    char big[FG_APPROVAL_PAYLOAD_MAX + 64];
    int n = snprintf(big, sizeof big, "{\"username\":\"");
    memset(big + n, 'x', FG_APPROVAL_PAYLOAD_MAX);
    memcpy(big + n + FG_APPROVAL_PAYLOAD_MAX, "\"}", 3);
    assert_int_equal(request(e, "users.create", big, "alice", id), FG_ERR_TOO_LARGE);
    /* the action's own validation, with its reason */
    struct request_call r = {
        .action = "users.create", .payload = "{\"name\":\"x\"}", .requester = "alice"};
    assert_int_equal(fg_store_write(e->st, request_fn, &r), FG_ERR_INVALID);
    assert_string_equal(r.why, "username is required");
    r = (struct request_call){
        .action = "users.create", .payload = "{\"username\":\"x\"}", .requester = "has space"};
    assert_int_equal(fg_store_write(e->st, request_fn, &r), FG_ERR_INVALID);
    assert_int_equal(count(e, "SELECT count(*) FROM approvals"), 0);

    struct fg_approval_decision d;
    assert_int_equal(decide(e, "AAAAAAAAAAAAAAAAAAAAAA", "bob", FG_APPROVAL_APPROVE, NULL, &d),
                     FG_ERR_NOT_FOUND);
    assert_int_equal(decide(e, "../etc", "bob", FG_APPROVAL_APPROVE, NULL, &d), FG_ERR_NOT_FOUND);

    /* the registry refuses nonsense */
    struct fg_approval_action a = {
        .name = "users.create", .action_class = "staff", .execute = limits_execute};
    assert_int_equal(fg_approval_register(&a), FG_ERR_CONFLICT);
    a.name = "Bad Name";
    assert_int_equal(fg_approval_register(&a), FG_ERR_INVALID);
    a.name = "x.y";
    a.execute = NULL;
    assert_int_equal(fg_approval_register(&a), FG_ERR_INVALID);
    struct fg_approval_action got;
    assert_int_equal(fg_approval_lookup("limits.raise", &got), FG_OK);
    assert_string_equal(got.action_class, "limits");
    assert_int_equal(fg_approval_lookup("x.y", &got), FG_ERR_NOT_FOUND);
}

static int bootstrap_closed(struct env *e)
{
    return (int)count(e, "SELECT count(*) FROM approvals_bootstrap");
}

static void test_bootstrap(void **state)
{
    struct env *e = *state;
    char id[FG_APPROVAL_ID_SIZE];
    struct fg_approval_decision d;
    /* only "admin" can approve: the admin may create the second approver alone */
    assert_int_equal(
        request(e, "users.create", "{\"username\":\"bob\",\"approver\":true}", "admin", id), FG_OK);
    assert_int_equal(decide(e, id, "admin", FG_APPROVAL_APPROVE, NULL, &d), FG_ERR_PERMISSION);
    assert_int_equal(decide(e, id, "bob", FG_APPROVAL_BOOTSTRAP, NULL, &d), FG_ERR_INVALID);
    assert_int_equal(decide(e, id, "admin", FG_APPROVAL_BOOTSTRAP, "first approver", &d), FG_OK);
    assert_true(d.executed);
    assert_true(d.bootstrap_closed); /* the second approver exists: closed in this transaction */
    assert_int_equal(exec_count, 1);
    assert_int_equal(bootstrap_closed(e), 1);
    assert_int_equal(last_rec.result, FG_AUDIT_RESULT_OK);
    assert_non_null(strstr(last_rec.details, "\"bootstrap\":true"));
    assert_non_null(strstr(last_rec.details, "\"bootstrap_closed\":true"));
    struct fg_approval ap;
    get(e, id, &ap);
    assert_int_equal(ap.bootstrap, 1);
    assert_string_equal(ap.decided_by, "admin");

    /* approvers leave; the exception does not come back */
    assert_int_equal(fg_store_write(e->st, exec_sql, "DELETE FROM approvers WHERE name <> 'admin'"),
                     FG_OK);
    assert_int_equal(
        request(e, "users.create", "{\"username\":\"eve\",\"approver\":true}", "admin", id), FG_OK);
    assert_int_equal(decide(e, id, "admin", FG_APPROVAL_BOOTSTRAP, NULL, &d), FG_ERR_PERMISSION);
    assert_string_equal(d.reason, "the bootstrap exception is closed");
    assert_int_equal(exec_count, 1);
    assert_int_equal(fg_store_write(e->st, exec_sql, "DELETE FROM approvals_bootstrap"),
                     FG_ERR_CONFLICT);
    assert_int_equal(fg_store_write(e->st, exec_sql, "UPDATE approvals_bootstrap SET id = 1"),
                     FG_ERR_CONFLICT);
    assert_int_equal(fg_store_write(e->st, exec_sql,
                                    "UPDATE approvals SET state = 'approved', decided_ms = 1, "
                                    "decided_by = requester_id, bootstrap = 1 "
                                    "WHERE state = 'pending'"),
                     FG_ERR_CONFLICT);
    assert_int_equal(bootstrap_closed(e), 1);
    /* the pair statistics ignore bootstrap decisions */
    fg_conn *c = NULL;
    int64_t n = -1;
    assert_int_equal(fg_store_read_acquire(e->st, &c), FG_OK);
    assert_int_equal(fg_approval_pair_count(c, "admin", "admin", 0, &n), FG_OK);
    assert_int_equal(n, 0);
    fg_store_read_release(e->st, c);
}

static void test_bootstrap_closes_when_two_exist(void **state)
{
    struct env *e = *state;
    char id[FG_APPROVAL_ID_SIZE];
    struct fg_approval_decision d;
    /* an action without the exception never gets it */
    assert_int_equal(request(e, "limits.raise", "{\"to_minor\":1}", "alice", id), FG_OK);
    assert_int_equal(decide(e, id, "alice", FG_APPROVAL_BOOTSTRAP, NULL, &d), FG_ERR_PERMISSION);
    assert_string_equal(d.reason, "this action has no bootstrap exception");
    /* two approvers already: the attempt is refused and closes the exception for good */
    assert_int_equal(fg_store_write(e->st, exec_sql, "INSERT INTO approvers VALUES ('carol')"),
                     FG_OK);
    assert_int_equal(request(e, "users.create", "{\"username\":\"fay\"}", "admin", id), FG_OK);
    assert_int_equal(bootstrap_closed(e), 0);
    assert_int_equal(decide(e, id, "admin", FG_APPROVAL_BOOTSTRAP, NULL, &d), FG_ERR_PERMISSION);
    assert_true(d.commit && d.bootstrap_closed);
    assert_int_equal(bootstrap_closed(e), 1);
    assert_int_equal(exec_count, 0);
    struct fg_approval ap;
    get(e, id, &ap);
    assert_int_equal(ap.state, FG_APPROVAL_PENDING);
    assert_int_equal(decide(e, id, "carol", FG_APPROVAL_APPROVE, NULL, &d), FG_OK);
    assert_int_equal(exec_count, 1);
}

static void test_pair_count(void **state)
{
    struct env *e = *state;
    char id[FG_APPROVAL_ID_SIZE];
    for (int i = 0; i < 2; i++) {
        char payload[64];
        snprintf(payload, sizeof payload, "{\"username\":\"q%d\"}", i);
        assert_int_equal(request(e, "users.create", payload, "alice", id), FG_OK);
        assert_int_equal(decide(e, id, "bob", FG_APPROVAL_APPROVE, NULL, NULL), FG_OK);
    }
    assert_int_equal(request(e, "users.create", "{\"username\":\"q9\"}", "bob", id), FG_OK);
    assert_int_equal(decide(e, id, "alice", FG_APPROVAL_APPROVE, NULL, NULL), FG_OK);
    assert_int_equal(request(e, "users.create", "{\"username\":\"q8\"}", "bob", id), FG_OK);
    assert_int_equal(decide(e, id, "carol", FG_APPROVAL_REJECT, "no", NULL), FG_OK);
    assert_int_equal(request(e, "users.create", "{\"username\":\"q7\"}", "bob", id), FG_OK);
    assert_int_equal(decide(e, id, "alice", FG_APPROVAL_REJECT, "no", NULL), FG_OK);

    fg_conn *c = NULL;
    int64_t n = -1;
    assert_int_equal(fg_store_read_acquire(e->st, &c), FG_OK);
    assert_int_equal(fg_approval_pair_count(c, "alice", "bob", 0, &n), FG_OK);
    assert_int_equal(n, 3); /* both directions, approvals only */
    assert_int_equal(fg_approval_pair_count(c, "bob", "alice", 0, &n), FG_OK);
    assert_int_equal(n, 3);
    assert_int_equal(fg_approval_pair_count(c, "bob", "carol", 0, &n), FG_OK);
    assert_int_equal(n, 0);
    assert_int_equal(fg_approval_pair_count(c, "alice", "bob", fg_time_wall_ms() + 1000, &n),
                     FG_OK);
    assert_int_equal(n, 0);
    assert_int_equal(fg_approval_pair_count(c, "", "bob", 0, &n), FG_ERR_INVALID);
    fg_store_read_release(e->st, c);
}

struct scan {
    int requests, approves, rejects, denied, errors;
};

static fg_rc scan_fn(void *ctx, const struct fg_audit_record *rec, uint32_t kv,
                     const uint8_t mac[FG_HASH_LEN])
{
    (void)kv;
    (void)mac;
    struct scan *s = ctx;
    s->requests += strcmp(rec->action, "approval.request") == 0;
    s->approves += strcmp(rec->action, "approval.approve") == 0;
    s->rejects += strcmp(rec->action, "approval.reject") == 0;
    s->denied += rec->result == FG_AUDIT_RESULT_DENIED;
    s->errors += rec->result == FG_AUDIT_RESULT_ERROR;
    return FG_OK;
}

static void test_audit_trail(void **state)
{
    struct env *e = *state;
    char id[FG_APPROVAL_ID_SIZE];
    assert_int_equal(request(e, "users.create", "{\"username\":\"tom\"}", "alice", id), FG_OK);
    assert_int_equal(decide(e, id, "alice", FG_APPROVAL_APPROVE, NULL, NULL), FG_ERR_PERMISSION);
    assert_int_equal(decide(e, id, "bob", FG_APPROVAL_APPROVE, "fine", NULL), FG_OK);
    assert_int_equal(request(e, "limits.raise", "{\"to_minor\":2}", "alice", id), FG_OK);
    exec_fail = FG_ERR_CONFLICT;
    assert_int_equal(decide(e, id, "bob", FG_APPROVAL_APPROVE, NULL, NULL), FG_ERR_CONFLICT);
    assert_int_equal(request(e, "limits.raise", "{\"to_minor\":3}", "alice", id), FG_OK);
    assert_int_equal(decide(e, id, "dave", FG_APPROVAL_REJECT, "too much", NULL), FG_OK);

    fg_conn *c = NULL;
    struct scan s = {0};
    assert_int_equal(fg_store_read_acquire(e->st, &c), FG_OK);
    assert_int_equal(fg_audit_scan(c, 1, 1000, scan_fn, &s), FG_OK);
    fg_store_read_release(e->st, c);
    assert_int_equal(s.requests, 3);
    assert_int_equal(s.approves, 3);
    assert_int_equal(s.rejects, 1);
    assert_int_equal(s.denied, 1); /* the requester's own attempt */
    assert_int_equal(s.errors, 1); /* the failed execution */
}

/* Fail each database call of an approving decision in turn: whatever fails, the outcome is
 * all or nothing — approved with the change, or still pending without it. */
static void test_fault_each_exec(void **state)
{
    struct env *e = *state;
    unsigned long nth = 1;
    for (;; nth++) {
        char id[FG_APPROVAL_ID_SIZE], payload[64], sql[128];
        snprintf(payload, sizeof payload, "{\"username\":\"f%lu\"}", nth);
        assert_int_equal(request(e, "users.create", payload, "alice", id), FG_OK);
        struct fg_audit_record rec;
        const struct fg_audit_actor actor = {.actor_id = "bob"};
        assert_int_equal(fg_audit_record_init(&rec, &actor, "approval.approve", NULL, NULL), FG_OK);
        struct fg_approval_decide_call call = {.args = {.id = id,
                                                        .approver_id = "bob",
                                                        .verdict = FG_APPROVAL_APPROVE,
                                                        .policy = &policy},
                                               .rec = &rec};
        fg_store_fault_clear();
        fg_store_fault_fail_nth(FG_FAULT_EXEC, nth, FG_ERR_STORE);
        fg_rc rc = fg_audit_write(e->st, fg_approval_decide_intent, &call, &rec);
        int injected = fg_store_fault_calls(FG_FAULT_EXEC) >= nth;
        fg_store_fault_clear();
        struct fg_approval ap;
        get(e, id, &ap);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM things WHERE name = 'f%lu'", nth);
        if (rc == FG_OK) {
            assert_int_equal(ap.state, FG_APPROVAL_APPROVED);
            assert_int_equal(count(e, sql), 1);
        } else {
            assert_int_equal(ap.state, FG_APPROVAL_PENDING);
            assert_int_equal(count(e, sql), 0);
        }
        if (!injected)
            break;
        assert_true(nth < 200);
    }
    assert_true(nth > 5); /* the decision really went through several statements */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_approve_executes_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_requester_cannot_approve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approver_needs_class, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expire_due, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reject, setup, teardown),
        cmocka_unit_test_setup_teardown(test_execute_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_pagination, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bootstrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bootstrap_closes_when_two_exist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pair_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_trail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_each_exec, setup_fault, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
