/*
 * test_activate.c — iam/activate.c, a customer's first password with the activation code
 * (REQUIREMENTS AUTH-1, AUTH-2, AUTH-3, AUTH-9): on a real store with an unsealed keyring.
 *
 * The right code sets the password (Argon2id) and the sealed reserved phrase, once; every
 * wrong — unknown or staff username, an active customer, a wrong, reused, expired or dead
 * code — is the one result BAD (the cause differs for the audit record only); a wrong code
 * counts toward the user's lockout AND is a counted try of the code, and both survive the
 * intent; a locked user is refused even with the right code; the password policy refuses
 * before anything is looked up, except the phone rule, which waits for the right code and
 * then leaves the code unused.
 */
#include "iam_fixture.h"

#include "base/time.h"

#define GOOD_PW "Vq7#rTz9!mKw2Lp"
#define PHONE_PW "Zq!w957208Lk#r" /* 957208: six digits of IAM_FIXTURE_PHONE */
#define PHRASE "red kite over the barley"

static int setup(void **state)
{
    *state = iam_env_new("activate", NULL);
    return 0;
}

static int teardown(void **state)
{
    iam_env_free(*state);
    fg_time_set_offset_s(0);
    return 0;
}

/* Both steps, as the route runs them; returns the intent's rc, the activation in *out
 * (caller frees). */
static fg_rc run(struct iam_env *t, const char *username, const char *code, const char *pw,
                 const char *phrase, struct fg_activation **out)
{
    struct fg_activation *a = NULL;
    assert_int_equal(fg_activation_new(username, code, pw, strlen(pw), phrase,
                                       phrase ? strlen(phrase) : 0, iam_fixture_phone_of, &a),
                     FG_OK);
    assert_int_equal(fg_activation_check(t->iam, a), FG_OK);
    fg_rc rc = fg_store_write(t->e->store, fg_activation_intent, a);
    *out = a;
    return rc;
}

/* The result and cause of one attempt that must give `want`. */
static void expect(struct iam_env *t, const char *username, const char *code, const char *pw,
                   enum fg_activate_result want, const char *cause)
{
    struct fg_activation *a;
    fg_rc rc = run(t, username, code, pw, NULL, &a);
    if (rc != FG_OK || a->result != want || strcmp(a->cause, cause) != 0)
        fail_msg("%s: rc %s result %d cause %s; wanted %d %s", username, fg_rc_name(rc), a->result,
                 a->cause, want, cause);
    fg_activation_free(a);
}

static void wrong_code(const char *code, char out[FG_OTP_CODE_SIZE])
{
    snprintf(out, FG_OTP_CODE_SIZE, "%s", code);
    out[0] = (char)(code[0] == '9' ? '0' : code[0] + 1);
}

static void test_activation_once_with_phrase(void **state)
{
    struct iam_env *t = *state;
    char id[FG_USER_ID_MAX + 1], code[FG_OTP_CODE_SIZE], bad[FG_OTP_CODE_SIZE];
    iam_add_user(t, "cust.one", "customer", id);
    snprintf(iam_fixture_phone_user, sizeof iam_fixture_phone_user, "%s", id);
    iam_issue_activation(t, id, code);

    /* a wrong code: BAD, one failure of the user, one try of the code — both kept */
    wrong_code(code, bad);
    expect(t, "cust.one", bad, GOOD_PW, FG_ACTIVATE_BAD, "bad_code");
    struct fg_user u;
    iam_load(t, id, &u);
    assert_int_equal(u.failed_count, 1);
    assert_string_equal(u.password_hash, "");
    assert_int_equal(env_count(t->e, "SELECT tries FROM otp_code WHERE purpose = 'activation'"), 1);

    /* the right code: the password is set, the phrase sealed, the failures cleared */
    struct fg_activation *a;
    assert_int_equal(run(t, "cust.one", code, GOOD_PW, PHRASE, &a), FG_OK);
    assert_int_equal(a->result, FG_ACTIVATE_OK);
    assert_string_equal(a->cause, "ok");
    fg_activation_free(a);
    iam_load(t, id, &u);
    assert_int_equal(u.failed_count, 0);
    assert_int_equal(u.must_change_password, 0);
    assert_int_equal(fg_password_verify(u.password_hash, GOOD_PW, strlen(GOOD_PW)), FG_OK);
    assert_int_equal(env_db_count(t->e, PHRASE), 0); /* sealed, never in clear */

    /* the login shows the phrase back (AUTH-9) */
    struct fg_login *l;
    assert_int_equal(fg_login_new("cust.one", GOOD_PW, strlen(GOOD_PW), "dev-1", "127.0.0.1", &l),
                     FG_OK);
    assert_int_equal(fg_iam_login_check(t->iam, l), FG_OK);
    assert_int_equal(l->result, FG_LOGIN_OK);
    assert_string_equal(l->phrase, PHRASE);
    fg_login_free(l);

    /* single use: the same code again (and any other) is the same BAD */
    expect(t, "cust.one", code, "Other-pass-8#kQz", FG_ACTIVATE_BAD, "already_active");
    iam_load(t, id, &u);
    assert_int_equal(fg_password_verify(u.password_hash, GOOD_PW, strlen(GOOD_PW)), FG_OK);
}

static void test_every_wrong_is_one_answer(void **state)
{
    struct iam_env *t = *state;
    char cust[FG_USER_ID_MAX + 1], teller[FG_USER_ID_MAX + 1], code[FG_OTP_CODE_SIZE];
    iam_add_user(t, "cust.two", "customer", cust);
    iam_add_user(t, "teller.two", "teller", teller);
    iam_issue_activation(t, cust, code);
    /* unknown: nothing to count */
    expect(t, "nobody.here", code, GOOD_PW, FG_ACTIVATE_BAD, "unknown_user");
    expect(t, "Not A Name!", code, GOOD_PW, FG_ACTIVATE_BAD, "unknown_user");
    /* staff: never activated this way, counted like a wrong password */
    expect(t, "teller.two", code, GOOD_PW, FG_ACTIVATE_BAD, "not_customer");
    struct fg_user u;
    iam_load(t, teller, &u);
    assert_int_equal(u.failed_count, 1);
    assert_string_equal(u.password_hash, "x");
    /* a malformed code is a wrong code (counted), not a different answer */
    expect(t, "cust.two", "12ab", GOOD_PW, FG_ACTIVATE_BAD, "bad_code");
    /* no code issued for this customer */
    char other[FG_USER_ID_MAX + 1];
    iam_add_user(t, "cust.three", "customer", other);
    expect(t, "cust.three", code, GOOD_PW, FG_ACTIVATE_BAD, "no_code");
    /* a disabled customer */
    iam_sql(t, "UPDATE iam_users SET status = 'disabled' WHERE id = ?1", other);
    expect(t, "cust.three", code, GOOD_PW, FG_ACTIVATE_BAD, "disabled");
    /* the right code still works after all that (two failures of cust.two: not throttled) */
    expect(t, "cust.two", code, GOOD_PW, FG_ACTIVATE_OK, "ok");
}

static void test_expired_and_dead_codes(void **state)
{
    struct iam_env *t = *state;
    char id[FG_USER_ID_MAX + 1], code[FG_OTP_CODE_SIZE], bad[FG_OTP_CODE_SIZE];
    iam_add_user(t, "cust.four", "customer", id);
    iam_issue_activation(t, id, code);
    /* valid 72 h: at 72 h + 1 s it is dead, and says nothing more than any wrong code */
    fg_time_set_offset_s(72 * 3600 + 1);
    expect(t, "cust.four", code, GOOD_PW, FG_ACTIVATE_BAD, "expired");
    fg_time_set_offset_s(0);

    /* five wrong tries kill the code — the fifth also locks the user (AUTH-2): afterwards even
     * the right code is refused, as LOCKED */
    iam_issue_activation(t, id, code); /* a new code replaces the expired one */
    wrong_code(code, bad);
    iam_sql(t, "UPDATE iam_users SET failed_count = 0, last_failure_ms = 0 WHERE id = ?1", id);
    for (int i = 0; i < 5; i++) {
        expect(t, "cust.four", bad, GOOD_PW, FG_ACTIVATE_BAD, "bad_code");
        /* keep the throttle out of the way: the delay is not what this test is about */
        iam_sql(t, "UPDATE iam_users SET last_failure_ms = 1 WHERE id = ?1", id);
    }
    struct fg_user u;
    iam_load(t, id, &u);
    assert_true(u.locked_until_ms > fg_time_wall_ms());
    expect(t, "cust.four", code, GOOD_PW, FG_ACTIVATE_LOCKED, "locked");
    /* unlocked (a day later, or by a reset): the code died of its five wrong tries */
    iam_sql(t, "UPDATE iam_users SET locked_until_ms = 0 WHERE id = ?1", id);
    expect(t, "cust.four", code, GOOD_PW, FG_ACTIVATE_BAD, "code_dead");
}

static void test_throttled_after_three_failures(void **state)
{
    struct iam_env *t = *state;
    char id[FG_USER_ID_MAX + 1], code[FG_OTP_CODE_SIZE], bad[FG_OTP_CODE_SIZE];
    iam_add_user(t, "cust.five", "customer", id);
    iam_issue_activation(t, id, code);
    wrong_code(code, bad);
    for (int i = 0; i < 3; i++)
        expect(t, "cust.five", bad, GOOD_PW, FG_ACTIVATE_BAD, "bad_code");
    /* the 4th attempt within a second of the 3rd failure waits, whatever the code */
    struct fg_activation *a;
    assert_int_equal(run(t, "cust.five", code, GOOD_PW, NULL, &a), FG_OK);
    assert_int_equal(a->result, FG_ACTIVATE_THROTTLED);
    assert_true(a->retry_at_ms > 0);
    fg_activation_free(a);
}

static void test_policy(void **state)
{
    struct iam_env *t = *state;
    char id[FG_USER_ID_MAX + 1], code[FG_OTP_CODE_SIZE], bad[FG_OTP_CODE_SIZE];
    iam_add_user(t, "cust.six", "customer", id);
    snprintf(iam_fixture_phone_user, sizeof iam_fixture_phone_user, "%s", id);
    iam_issue_activation(t, id, code);
    /* request-only rules first: the same reason for a customer and for nobody, nothing
     * counted, the code untouched */
    const char *weak[] = {"password", "short1A", "cust.six-Pass-9#x", "Abcd-1234-Wxyz"};
    for (size_t i = 0; i < sizeof weak / sizeof weak[0]; i++) {
        struct fg_activation *a, *b;
        assert_int_equal(run(t, "cust.six", code, weak[i], NULL, &a), FG_OK);
        assert_int_equal(run(t, "nobody.six", code, weak[i], NULL, &b), FG_OK);
        assert_int_equal(a->result, FG_ACTIVATE_POLICY);
        assert_int_equal(b->result, FG_ACTIVATE_POLICY);
        assert_non_null(a->reason);
        if (strstr(weak[i], "cust.six") == NULL) /* the user name is the request's own */
            assert_string_equal(a->reason, b->reason);
        assert_false(a->known);
        fg_activation_free(a);
        fg_activation_free(b);
    }
    struct fg_user u;
    iam_load(t, id, &u);
    assert_int_equal(u.failed_count, 0);
    assert_int_equal(env_count(t->e, "SELECT tries FROM otp_code WHERE purpose = 'activation'"), 0);

    /* the phone rule: with a wrong code it is just a wrong code (no hint about the phone) */
    wrong_code(code, bad);
    expect(t, "cust.six", bad, PHONE_PW, FG_ACTIVATE_BAD, "bad_code");
    /* with the right code: refused by policy, and the code stays usable */
    struct fg_activation *a;
    assert_int_equal(run(t, "cust.six", code, PHONE_PW, NULL, &a), FG_ERR_POLICY);
    assert_int_equal(a->result, FG_ACTIVATE_POLICY);
    assert_string_equal(a->reason, "contains the phone number");
    assert_string_equal(a->cause, "policy_phone");
    fg_activation_free(a);
    iam_load(t, id, &u);
    assert_string_equal(u.password_hash, "");
    assert_int_equal(u.failed_count, 1); /* only the wrong code counted */
    expect(t, "cust.six", code, GOOD_PW, FG_ACTIVATE_OK, "ok");
    /* the same phone password is fine for anybody the phone does not belong to */
    char other[FG_USER_ID_MAX + 1];
    iam_add_user(t, "cust.seven", "customer", other);
    iam_issue_activation(t, other, code);
    expect(t, "cust.seven", code, PHONE_PW, FG_ACTIVATE_OK, "ok");
}

static void test_limits(void **state)
{
    (void)state;
    struct fg_activation *a = NULL;
    char longer[FG_ACTIVATE_CODE_MAX + 2];
    memset(longer, '1', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    assert_int_equal(fg_activation_new("u.one", longer, "x", 1, NULL, 0, NULL, &a), FG_ERR_INVALID);
    char phrase[FG_IAM_PHRASE_BYTES_MAX + 2];
    memset(phrase, 'p', sizeof phrase - 1);
    phrase[sizeof phrase - 1] = '\0';
    assert_int_equal(fg_activation_new("u.one", "123456", "x", 1, phrase, strlen(phrase), NULL, &a),
                     FG_ERR_INVALID);
    assert_int_equal(fg_activation_new("u.one", "123456", "x", 1, "", 0, NULL, &a), FG_ERR_INVALID);
    assert_int_equal(
        fg_activation_new("u.one", "123456", "x", FG_CRYPTO_PASSWORD_MAX + 1, NULL, 0, NULL, &a),
        FG_ERR_INVALID);
    assert_null(a);
}

int main(void)
{
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_activation_once_with_phrase),
        T(test_every_wrong_is_one_answer),
        T(test_expired_and_dead_codes),
        T(test_throttled_after_three_failures),
        T(test_policy),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
