/*
 * Unit tests for http/routes_users.c: the rules of the users.create and users.roles
 * payloads (staff roles only, separation of duties, the expiry rule of IAM-6, contacts) and
 * their validate/execute on a real store with an unsealed keyring and a file-sink outbox
 * (the notify tests' fixture), reached by including the .c (house style).
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/routes_users.c"

#include "../notify/notify_fixture.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "store/store.h"

struct fixture {
    struct notify_env *e;
    fg_store *st;
    struct fg_roles *roles;
    struct fg_iam iam;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->e = notify_env_new("routes-users", FG_OUTBOX_SINK_FILE);
    f->st = f->e->store;
    assert_int_equal(fg_roles_load_default(&f->roles, NULL), FG_OK);
    f->iam.roles = f->roles;
    f->iam.store = f->st;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    current_env = NULL;
    notify_env_free(f->e);
    fg_roles_free(f->roles);
    free(f);
    return 0;
}

static fg_rc parse(struct fixture *f, const char *payload, struct create_req *r, const char **why,
                   const char **field)
{
    struct action_env env = {.iam = &f->iam};
    current_env = &env;
    fg_rc rc = create_parse(f->roles, payload, fg_time_wall_ms(), r, why);
    *field = env.field;
    current_env = NULL;
    return rc;
}

static void in_days(int days, char out[32])
{
    time_t t = time(NULL) + (time_t)days * 86400;
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
}

static void test_create_rules(void **state)
{
    struct fixture *f = *state;
    struct create_req r;
    const char *why = NULL, *field = NULL;
    assert_int_equal(parse(f, "{\"username\":\"t1\",\"roles\":[\"teller\"],\"contact\":\"a@b.c\"}", &r,
                           &why, &field),
                     FG_ERR_INVALID); /* 2 characters */
    assert_string_equal(field, "username");
    assert_int_equal(parse(f, "{\"username\":\"tel1\",\"roles\":[\"teller\"],\"contact\":\"a@b.c\"}", &r,
                           &why, &field),
                     FG_OK);
    assert_int_equal(r.nroles, 1);
    assert_string_equal(r.roles[0], "teller");
    assert_int_equal(r.expires_ms, 0);

    static const struct {
        const char *payload;
        fg_rc rc;
        const char *field;
    } cases[] = {
        {"{\"username\":\"abc\",\"roles\":[\"wizard\"],\"contact\":\"a@b.c\"}", FG_ERR_INVALID, "roles"},
        {"{\"username\":\"abc\",\"roles\":[\"customer\"],\"contact\":\"a@b.c\"}", FG_ERR_POLICY, "roles"},
        {"{\"username\":\"abc\",\"roles\":[\"teller\",\"teller\"],\"contact\":\"a@b.c\"}", FG_ERR_INVALID,
         "roles"},
        {"{\"username\":\"abc\",\"roles\":[],\"contact\":\"a@b.c\"}", FG_ERR_INVALID, "roles"},
        {"{\"username\":\"abc\",\"roles\":[\"teller\",\"supervisor\"],\"contact\":\"a@b.c\"}",
         FG_ERR_POLICY, "roles"},
        {"{\"username\":\"abc\",\"roles\":[\"service\",\"teller\"],\"contact\":\"a@b.c\"}", FG_ERR_POLICY,
         "roles"},
        {"{\"username\":\"abc\",\"roles\":[\"teller\"],\"contact\":\"nobody\"}", FG_ERR_INVALID,
         "contact"},
        {"{\"username\":\"abc\",\"roles\":[\"vendor\"],\"contact\":\"a@b.c\"}", FG_ERR_POLICY,
         "expires_at"},
        {"{\"username\":\"abc\",\"roles\":[\"vendor\"],\"contact\":\"a@b.c\",\"expires_at\":\"2001-01-01T"
         "00:00:00Z\"}",
         FG_ERR_POLICY, "expires_at"},
        {"{\"username\":\"abc\",\"roles\":[\"vendor\"],\"contact\":\"a@b.c\",\"expires_at\":\"tomorrow\"}",
         FG_ERR_INVALID, "expires_at"},
        {"{\"username\":\"abc\",\"roles\":[\"teller\"],\"contact\":\"a@b.c\",\"x\":1}", FG_ERR_INVALID,
         NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        field = NULL;
        fg_rc rc = parse(f, cases[i].payload, &r, &why, &field);
        if (rc != cases[i].rc || (cases[i].field != NULL) != (field != NULL) ||
            (field != NULL && strcmp(field, cases[i].field) != 0))
            fail_msg("case %zu: %s → %s field %s (%s)", i, cases[i].payload, fg_rc_name(rc),
                     field ? field : "-", why ? why : "-");
    }
    /* separation of duties names the pair */
    assert_int_equal(parse(f, "{\"username\":\"abc\",\"roles\":[\"security_admin\",\"auditor\"],"
                              "\"contact\":\"a@b.c\"}",
                           &r, &why, &field),
                     FG_ERR_POLICY);
    assert_non_null(strstr(why, "security_admin+auditor"));
    /* IAM-6: a vendor within a year, not beyond; an optional expiry is allowed for a teller */
    char when[32], body[256];
    in_days(30, when);
    snprintf(body, sizeof body,
             "{\"username\":\"abc\",\"roles\":[\"vendor\"],\"contact\":\"a@b.c\",\"expires_at\":\"%s\"}",
             when);
    assert_int_equal(parse(f, body, &r, &why, &field), FG_OK);
    assert_true(r.expires_ms > fg_time_wall_ms());
    in_days(400, when);
    snprintf(body, sizeof body,
             "{\"username\":\"abc\",\"roles\":[\"vendor\"],\"contact\":\"a@b.c\",\"expires_at\":\"%s\"}",
             when);
    assert_int_equal(parse(f, body, &r, &why, &field), FG_ERR_POLICY);
    in_days(30, when);
    snprintf(body, sizeof body,
             "{\"username\":\"abc\",\"roles\":[\"teller\"],\"contact\":\"a@b.c\",\"expires_at\":\"%s\"}",
             when);
    assert_int_equal(parse(f, body, &r, &why, &field), FG_OK);
}

static void test_contacts(void **state)
{
    (void)state;
    assert_true(contact_valid("ops@bank.example"));
    assert_true(contact_valid("+8613800001111"));
    assert_false(contact_valid("+86 138"));
    assert_false(contact_valid("+12"));
    assert_false(contact_valid("@bank"));
    assert_false(contact_valid("a@"));
    assert_false(contact_valid("a@b@c"));
    assert_false(contact_valid("a b@c.d"));
}

struct run {
    struct action_env env;
    const char *payload;
    struct fg_approval ap;
    char result[FG_APPROVAL_RESULT_MAX + 1];
    const char *why;
    int execute;
};

static fg_rc run_intent(fg_conn *conn, void *arg)
{
    struct run *r = arg;
    current_env = &r->env;
    fg_rc rc;
    if (r->execute)
        rc = strcmp(r->ap.action, "users.roles") == 0
                 ? roles_execute(conn, r->payload, &r->ap, NULL, r->result, sizeof r->result)
                 : create_execute(conn, r->payload, &r->ap, NULL, r->result, sizeof r->result);
    else
        rc = strcmp(r->ap.action, "users.roles") == 0
                 ? roles_validate(conn, r->payload, NULL, &r->why)
                 : create_validate(conn, r->payload, NULL, &r->why);
    current_env = NULL;
    return rc;
}

static fg_rc run(struct fixture *f, const char *action, const char *payload, int execute,
                 struct run *r)
{
    memset(r, 0, sizeof *r);
    r->env.iam = &f->iam;
    r->env.outbox = f->e->ob;
    r->env.password = "Xk7pQ2mW9rTz4vNb8cHd";
    r->env.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA";
    r->payload = payload;
    r->execute = execute;
    snprintf(r->ap.action, sizeof r->ap.action, "%s", action);
    snprintf(r->ap.requester_id, sizeof r->ap.requester_id, "u-requester");
    return fg_store_write(f->st, run_intent, r);
}

static void test_create_and_roles_on_store(void **state)
{
    struct fixture *f = *state;
    struct run r;
    const char *teller = "{\"username\":\"tel1\",\"roles\":[\"teller\"],\"contact\":\"a@b.c\"}";
    /* outside this file's intents (no env) the actions refuse and leave approvals pending */
    current_env = NULL;
    const char *why = NULL;
    assert_int_equal(create_validate(NULL, teller, NULL, &why), FG_ERR_INTERNAL);
    assert_int_equal(run(f, "users.create", teller, 0, &r), FG_OK);
    assert_int_equal(run(f, "users.create", teller, 1, &r), FG_OK);
    assert_true(r.env.created && r.env.delivered);
    assert_non_null(strstr(r.result, r.env.user_id));
    assert_null(strstr(r.result, "Xk7pQ2mW9rTz4vNb8cHd"));
    /* the password went to the outbox, addressed to the contact, and nowhere else */
    char *sink = env_sink(f->e);
    assert_int_equal(env_lines(sink), 1);
    assert_non_null(strstr(sink, "\"to\":\"a@b.c\""));
    assert_non_null(strstr(sink, "\"channel\":\"email\""));
    assert_non_null(strstr(sink, "\"purpose\":\"staff_password\""));
    assert_non_null(strstr(sink, "\"code\":\"Xk7pQ2mW9rTz4vNb8cHd\""));
    free(sink);
    assert_int_equal(env_db_count(f->e, "Xk7pQ2mW9rTz4vNb8cHd"), 0);
    char teller_id[FG_USER_ID_MAX + 1];
    snprintf(teller_id, sizeof teller_id, "%s", r.env.user_id);
    /* the name is taken now, at request and at execution */
    assert_int_equal(run(f, "users.create", teller, 0, &r), FG_ERR_CONFLICT);
    assert_string_equal(r.env.field, "username");
    assert_int_equal(run(f, "users.create", teller, 1, &r), FG_ERR_CONFLICT);
    sink = env_sink(f->e);
    assert_int_equal(env_lines(sink), 1); /* a refused execution sends nothing */
    free(sink);
    fg_conn *conn = NULL;
    struct fg_user u;
    assert_int_equal(fg_store_read_acquire(f->st, &conn), FG_OK);
    assert_int_equal(fg_user_load(conn, f->roles, teller_id, &u), FG_OK);
    fg_store_read_release(f->st, conn);
    assert_true(u.staff && u.active && u.must_change_password);

    /* users.roles: grants and revocations against the stored roles */
    char p[256];
    snprintf(p, sizeof p, "{\"user_id\":\"%s\",\"grant\":[\"teller\"]}", teller_id);
    assert_int_equal(run(f, "users.roles", p, 0, &r), FG_ERR_CONFLICT); /* held already */
    snprintf(p, sizeof p, "{\"user_id\":\"%s\",\"grant\":[\"supervisor\"]}", teller_id);
    assert_int_equal(run(f, "users.roles", p, 0, &r), FG_ERR_POLICY); /* maker and checker */
    snprintf(p, sizeof p, "{\"user_id\":\"%s\",\"revoke\":[\"teller\"]}", teller_id);
    assert_int_equal(run(f, "users.roles", p, 0, &r), FG_ERR_POLICY); /* no roles left */
    snprintf(p, sizeof p, "{\"user_id\":\"%s\",\"grant\":[\"vendor\"]}", teller_id);
    assert_int_equal(run(f, "users.roles", p, 0, &r), FG_ERR_POLICY); /* vendor needs expiry */
    assert_string_equal(r.env.field, "expires_at");
    assert_int_equal(run(f, "users.roles", "{\"user_id\":\"nobody\",\"grant\":[\"auditor\"]}", 0, &r),
                     FG_ERR_NOT_FOUND);
    snprintf(p, sizeof p, "{\"user_id\":\"%s\",\"grant\":[\"security_officer\"],\"revoke\":[\"teller\"]}",
             teller_id);
    assert_int_equal(run(f, "users.roles", p, 0, &r), FG_OK);
    assert_int_equal(run(f, "users.roles", p, 1, &r), FG_OK);
    assert_true(r.env.roles_changed);
    char want[128];
    snprintf(want, sizeof want, "{\"user_id\":\"%s\",\"roles\":[\"security_officer\"]}", teller_id);
    assert_string_equal(r.result, want);
    assert_int_equal(fg_store_read_acquire(f->st, &conn), FG_OK);
    assert_int_equal(fg_user_load(conn, f->roles, teller_id, &u), FG_OK);
    fg_store_read_release(f->st, conn);
    int id = 0;
    assert_int_equal(fg_roles_role_id(f->roles, "security_officer", &id), FG_OK);
    assert_int_equal(u.role_mask, 1u << id);
}

int main(void)
{
    assert_int_equal(fg_crypto_init(), FG_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contacts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_and_roles_on_store, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
