/*
 * test_iam.c — iam/iam.c: which second factor a login session owes (REQUIREMENTS AUTH-3,
 * AUTH-4, IAM-3), on a real store with an unsealed keyring.
 *
 *   staff (mfa: required)                 → TOTP ("enroll" first), never a delivered code
 *   customer with TOTP enrolled           → TOTP, whatever iam.customer_mfa says
 *   customer without TOTP, customer_mfa = otp (default)  → a delivered code (mfa_otp)
 *   customer without TOTP, customer_mfa = optional       → nothing
 * and the login code's binding names the session.
 */
#include "iam_fixture.h"

#include "base/config.h"

#define PW "Vq7#rTz9!mKw2Lp"

static int setup(void **state)
{
    *state = iam_env_new("iam", NULL);
    return 0;
}

static int teardown(void **state)
{
    iam_env_free(*state);
    return 0;
}

struct pw_arg {
    const char *id;
    char hash[FG_PWHASH_STR_MAX];
};

static fg_rc pw_intent(fg_conn *conn, void *arg)
{
    struct pw_arg *a = arg;
    return fg_user_set_password(conn, a->id, a->hash, fg_time_wall_ms());
}

/* A user of `role` whose password is PW. */
static void add_with_password(struct iam_env *t, const char *name, const char *role,
                              char id[FG_USER_ID_MAX + 1])
{
    iam_add_user(t, name, role, id);
    struct pw_arg a = {.id = id};
    assert_int_equal(fg_password_hash(PW, strlen(PW), a.hash), FG_OK);
    assert_int_equal(fg_store_write(t->e->store, pw_intent, &a), FG_OK);
}

/* Log in (check + intent) and return the session as it would be published. */
static void login(struct iam_env *t, const char *name, struct fg_session *out)
{
    struct fg_login *l;
    assert_int_equal(fg_login_new(name, PW, strlen(PW), "dev-1", "127.0.0.1", &l), FG_OK);
    assert_int_equal(fg_iam_login_check(t->iam, l), FG_OK);
    assert_int_equal(l->result, FG_LOGIN_OK);
    assert_int_equal(fg_store_write(t->e->store, fg_iam_login_intent, l), FG_OK);
    *out = l->session;
    fg_login_free(l);
}

static void test_second_factor_by_kind(void **state)
{
    struct iam_env *t = *state;
    char staff[FG_USER_ID_MAX + 1], cust[FG_USER_ID_MAX + 1];
    add_with_password(t, "teller.a", "teller", staff);
    add_with_password(t, "cust.a", "customer", cust);
    struct fg_session s;
    /* the default: customers get a delivered code */
    assert_true(t->iam->customer_otp);
    login(t, "teller.a", &s);
    assert_true(s.mfa_required);
    assert_false(s.mfa_otp);
    assert_true(s.staff);
    login(t, "cust.a", &s);
    assert_true(s.mfa_required);
    assert_true(s.mfa_otp);
    assert_false(s.mfa_done);
    /* optional: a customer without TOTP has no second factor; staff keep theirs */
    t->iam->customer_otp = 0;
    login(t, "cust.a", &s);
    assert_false(s.mfa_required);
    assert_false(s.mfa_otp);
    login(t, "teller.a", &s);
    assert_true(s.mfa_required);
    /* a customer who enrolled TOTP uses it, in both modes */
    iam_sql(t, "UPDATE iam_users SET totp_enrolled = 1 WHERE id = ?1", cust);
    login(t, "cust.a", &s);
    assert_true(s.mfa_required);
    assert_false(s.mfa_otp);
    t->iam->customer_otp = 1;
    login(t, "cust.a", &s);
    assert_true(s.mfa_required);
    assert_false(s.mfa_otp);
}

static void test_customer_mfa_setting(void **state)
{
    struct iam_env *t = *state;
    struct fg_config cfg;
    fg_config_defaults(&cfg);
    assert_string_equal(cfg.iam_customer_mfa, "otp");
    struct fg_buf errors = FG_BUF_INIT(4096);
    struct fg_iam *iam = NULL;
    assert_int_equal(fg_iam_new(&cfg, t->e->store, t->e->k, &iam, &errors), FG_OK);
    assert_true(iam->customer_otp);
    fg_iam_free(iam);
    snprintf(cfg.iam_customer_mfa, sizeof cfg.iam_customer_mfa, "optional");
    assert_int_equal(fg_iam_new(&cfg, t->e->store, t->e->k, &iam, &errors), FG_OK);
    assert_false(iam->customer_otp);
    fg_iam_free(iam);
    fg_buf_release(&errors);
}

static void test_login_code_binding(void **state)
{
    (void)state;
    char b[FG_IAM_OTP_BINDING_SIZE];
    fg_iam_login_otp_binding("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", b);
    assert_string_equal(b, "session=0123456789abcdef");
    fg_iam_login_otp_binding("ffff", b); /* never past the end of a short id */
    assert_string_equal(b, "session=ffff");
}

int main(void)
{
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_second_factor_by_kind),
        T(test_customer_mfa_setting),
        cmocka_unit_test(test_login_code_binding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
