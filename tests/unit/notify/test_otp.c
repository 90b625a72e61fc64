/*
 * test_otp.c — notify/otp.c: the right code works once; a wrong one is counted (and the
 * count survives because the verifying intent commits); five wrong tries kill the code even
 * for the right one; expiry by moving wall time; a code bound to an amount and payee is wrong
 * for any other; a newer code supersedes the older; issue rate per window; the code, the
 * binding and the recipient are never in the database file; codes are 6 digits with every
 * digit in every position; fg_otp_send puts the code only in the sink.
 */
#include "notify_fixture.h"

#include "notify/otp.h"

static int setup(void **state)
{
    *state = notify_env_new("otp", FG_OUTBOX_SINK_FILE);
    return 0;
}

static int teardown(void **state)
{
    notify_env_free(*state);
    return 0;
}

#define SUBJECT "user-6f1c2a"
#define BINDING "amount=500000;currency=CNY;payee=ACC123"

/* ---- intents ------------------------------------------------------------------------------ */

struct issue_job {
    struct notify_env *e;
    const struct fg_otp_policy *policy;
    const char *purpose, *binding;
    char code[FG_OTP_CODE_SIZE];
    int64_t expires_ms;
};

static fg_rc issue_intent(fg_conn *conn, void *arg)
{
    struct issue_job *j = arg;
    return fg_otp_issue(conn, j->e->k, j->policy, SUBJECT, j->purpose, j->binding, j->code,
                        &j->expires_ms);
}

static fg_rc issue(struct notify_env *e, const char *purpose, const char *binding,
                   char code[FG_OTP_CODE_SIZE])
{
    struct issue_job j = {.e = e, .purpose = purpose, .binding = binding};
    fg_rc rc = fg_store_write(e->store, issue_intent, &j);
    memcpy(code, j.code, FG_OTP_CODE_SIZE);
    return rc;
}

/* Verify through fg_otp_verify_intent, as the API layer should: the verdict comes back in
 * the check, the intent commits (and with it a counted try). */
static fg_rc verify(struct notify_env *e, const char *purpose, const char *binding,
                    const char *code)
{
    struct fg_otp_check c = {.k = e->k, .subject = SUBJECT, .purpose = purpose,
                             .binding = binding, .code = code};
    assert_int_equal(fg_store_write(e->store, fg_otp_verify_intent, &c), FG_OK);
    return c.result;
}

static int64_t tries(struct notify_env *e)
{
    return env_count(e, "SELECT tries FROM otp_code WHERE subject = '" SUBJECT "'");
}

/* A code that is not `code` (for wrong guesses). */
static void other_code(const char *code, char out[FG_OTP_CODE_SIZE])
{
    memcpy(out, code, FG_OTP_CODE_SIZE);
    out[0] = (char)('0' + (code[0] - '0' + 1) % 10);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_right_code_once(void **state)
{
    struct notify_env *e = *state;
    char code[FG_OTP_CODE_SIZE];
    int64_t before = fg_time_wall_ms();
    struct issue_job j = {.e = e, .purpose = "login", .binding = ""};
    assert_int_equal(fg_store_write(e->store, issue_intent, &j), FG_OK);
    memcpy(code, j.code, sizeof code);
    assert_true(j.expires_ms >= before + FG_OTP_TTL_MS_DEFAULT &&
                j.expires_ms <= fg_time_wall_ms() + FG_OTP_TTL_MS_DEFAULT);
    assert_int_equal(verify(e, "login", "", code), FG_OK);
    assert_int_equal(verify(e, "login", "", code), FG_ERR_NOT_FOUND); /* single use */
    assert_int_equal(verify(e, "login", NULL, code), FG_ERR_NOT_FOUND); /* NULL binding = "" */
    fg_wipe(code, sizeof code);
}

static void test_unknown_and_malformed(void **state)
{
    struct notify_env *e = *state;
    assert_int_equal(verify(e, "login", "", "123456"), FG_ERR_NOT_FOUND);
    char code[FG_OTP_CODE_SIZE];
    assert_int_equal(issue(e, "login", "", code), FG_OK);
    static const char *const bad[] = {"12345", "1234567", "12345a", " 12345", "", "１２３４５６"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(verify(e, "login", "", bad[i]), FG_ERR_INVALID);
    assert_int_equal(verify(e, "login", "", NULL), FG_ERR_INVALID);
    assert_int_equal(verify(e, "Login", "", code), FG_ERR_INVALID); /* purpose syntax */
    assert_int_equal(tries(e), 0); /* malformed input is not a guess */
    assert_int_equal(verify(e, "transfer", "", code), FG_ERR_NOT_FOUND); /* other purpose */
    assert_int_equal(verify(e, "login", "", code), FG_OK);
}

static void test_wrong_code_counted(void **state)
{
    struct notify_env *e = *state;
    char code[FG_OTP_CODE_SIZE], wrong[FG_OTP_CODE_SIZE];
    assert_int_equal(issue(e, "login", "", code), FG_OK);
    other_code(code, wrong);
    assert_int_equal(verify(e, "login", "", wrong), FG_ERR_UNAUTHENTICATED);
    assert_int_equal(tries(e), 1);
    assert_int_equal(verify(e, "login", "", wrong), FG_ERR_UNAUTHENTICATED);
    assert_int_equal(tries(e), 2);
    assert_int_equal(verify(e, "login", "", code), FG_OK);
}

static void test_five_tries_then_dead(void **state)
{
    struct notify_env *e = *state;
    char code[FG_OTP_CODE_SIZE], wrong[FG_OTP_CODE_SIZE];
    assert_int_equal(issue(e, "login", "", code), FG_OK);
    other_code(code, wrong);
    for (unsigned i = 0; i < FG_OTP_TRIES_MAX_DEFAULT; i++)
        assert_int_equal(verify(e, "login", "", wrong), FG_ERR_UNAUTHENTICATED);
    assert_int_equal(tries(e), FG_OTP_TRIES_MAX_DEFAULT);
    assert_int_equal(verify(e, "login", "", code), FG_ERR_LOCKED); /* right, but dead */
    assert_int_equal(verify(e, "login", "", wrong), FG_ERR_LOCKED);
    assert_int_equal(tries(e), FG_OTP_TRIES_MAX_DEFAULT); /* no more counting once dead */
    /* A new code starts afresh. */
    assert_int_equal(issue(e, "login", "", code), FG_OK);
    assert_int_equal(verify(e, "login", "", code), FG_OK);
}

/* Why fg_otp_verify_intent exists: an intent that returns the verdict loses the count. */
struct raw_verify {
    struct notify_env *e;
    const char *code;
};

static fg_rc raw_verify_intent(fg_conn *conn, void *arg)
{
    struct raw_verify *r = arg;
    return fg_otp_verify(conn, r->e->k, SUBJECT, "login", "", r->code);
}

static void test_returning_the_error_loses_the_count(void **state)
{
    struct notify_env *e = *state;
    char code[FG_OTP_CODE_SIZE], wrong[FG_OTP_CODE_SIZE];
    assert_int_equal(issue(e, "login", "", code), FG_OK);
    other_code(code, wrong);
    struct raw_verify r = {.e = e, .code = wrong};
    assert_int_equal(fg_store_write(e->store, raw_verify_intent, &r), FG_ERR_UNAUTHENTICATED);
    assert_int_equal(tries(e), 0); /* the savepoint rolled back: documented in otp.h */
    assert_int_equal(verify(e, "login", "", wrong), FG_ERR_UNAUTHENTICATED);
    assert_int_equal(tries(e), 1);
}

static void test_expiry(void **state)
{
    struct notify_env *e = *state;
    const int64_t ttl_s = FG_OTP_TTL_MS_DEFAULT / 1000;
    char code[FG_OTP_CODE_SIZE];
    assert_int_equal(issue(e, "login", "", code), FG_OK);
    fg_time_set_offset_s(ttl_s - 2);
    assert_int_equal(verify(e, "login", "", code), FG_OK); /* just inside its 5 minutes */
    assert_int_equal(issue(e, "login", "", code), FG_OK);   /* issued at offset ttl - 2 */
    fg_time_set_offset_s(ttl_s - 2 + ttl_s);
    assert_int_equal(verify(e, "login", "", code), FG_ERR_TIMEOUT);
    assert_int_equal(tries(e), 0);
}

static void test_binding_mismatch(void **state)
{
    struct notify_env *e = *state;
    char code[FG_OTP_CODE_SIZE];
    assert_int_equal(issue(e, "transfer", BINDING, code), FG_OK);
    assert_int_equal(verify(e, "transfer", "amount=900000;currency=CNY;payee=ACC123", code),
                     FG_ERR_UNAUTHENTICATED);
    assert_int_equal(verify(e, "transfer", "amount=500000;currency=CNY;payee=ACC999", code),
                     FG_ERR_UNAUTHENTICATED);
    assert_int_equal(verify(e, "transfer", "", code), FG_ERR_UNAUTHENTICATED);
    assert_int_equal(env_count(e, "SELECT tries FROM otp_code WHERE purpose = 'transfer'"), 3);
    assert_int_equal(verify(e, "transfer", BINDING, code), FG_OK);
}

static void test_superseded(void **state)
{
    struct notify_env *e = *state;
    char first[FG_OTP_CODE_SIZE], second[FG_OTP_CODE_SIZE];
    assert_int_equal(issue(e, "login", "", first), FG_OK);
    do {
        assert_int_equal(issue(e, "login", "", second), FG_OK);
    } while (strcmp(first, second) == 0); /* one in a million: draw again */
    assert_int_equal(verify(e, "login", "", first), FG_ERR_UNAUTHENTICATED);
    assert_int_equal(verify(e, "login", "", second), FG_OK);
    assert_int_equal(env_count(e, "SELECT count(*) FROM otp_code"), 1);
}

static void test_issue_rate(void **state)
{
    struct notify_env *e = *state;
    struct fg_otp_policy p = fg_otp_policy_default;
    p.issues_per_window = 3;
    p.window_ms = 600 * 1000;
    struct issue_job j = {.e = e, .policy = &p, .purpose = "login", .binding = ""};
    for (int i = 0; i < 3; i++)
        assert_int_equal(fg_store_write(e->store, issue_intent, &j), FG_OK);
    char live[FG_OTP_CODE_SIZE];
    memcpy(live, j.code, sizeof live);
    assert_int_equal(fg_store_write(e->store, issue_intent, &j), FG_ERR_RATE_LIMITED);
    assert_int_equal(verify(e, "login", "", live), FG_OK); /* the live code stayed live */
    fg_time_set_offset_s(601);
    assert_int_equal(fg_store_write(e->store, issue_intent, &j), FG_OK);
    /* Other purposes have their own window. */
    j.purpose = "transfer";
    assert_int_equal(fg_store_write(e->store, issue_intent, &j), FG_OK);
    /* Policies out of range are refused. */
    struct fg_otp_policy bad = fg_otp_policy_default;
    bad.ttl_ms = FG_OTP_TTL_MS_MAX + 1;
    j.policy = &bad;
    assert_int_equal(fg_store_write(e->store, issue_intent, &j), FG_ERR_INVALID);
    bad = fg_otp_policy_default;
    bad.tries_max = 0;
    assert_int_equal(fg_store_write(e->store, issue_intent, &j), FG_ERR_INVALID);
}

static void test_custom_ttl_and_tries(void **state)
{
    struct notify_env *e = *state;
    struct fg_otp_policy p = fg_otp_policy_default;
    p.ttl_ms = FG_OTP_TTL_MS_MAX; /* activation codes: 72 h */
    p.tries_max = 2;
    struct issue_job j = {.e = e, .policy = &p, .purpose = "activation", .binding = ""};
    assert_int_equal(fg_store_write(e->store, issue_intent, &j), FG_OK);
    char wrong[FG_OTP_CODE_SIZE];
    other_code(j.code, wrong);
    fg_time_set_offset_s(71 * 3600);
    assert_int_equal(verify(e, "activation", "", wrong), FG_ERR_UNAUTHENTICATED);
    assert_int_equal(verify(e, "activation", "", wrong), FG_ERR_UNAUTHENTICATED);
    assert_int_equal(verify(e, "activation", "", j.code), FG_ERR_LOCKED);
}

static void test_bad_arguments(void **state)
{
    struct notify_env *e = *state;
    char long_binding[FG_OTP_BINDING_MAX + 2];
    memset(long_binding, 'b', sizeof long_binding - 1);
    long_binding[sizeof long_binding - 1] = '\0';
    char code[FG_OTP_CODE_SIZE];
    assert_int_equal(issue(e, "login", long_binding, code), FG_ERR_INVALID);
    assert_int_equal(issue(e, "", "", code), FG_ERR_INVALID);
    assert_int_equal(issue(e, "log in", "", code), FG_ERR_INVALID);
    assert_int_equal(env_count(e, "SELECT count(*) FROM otp_code"), 0);
}

static void test_digits_uniform_enough(void **state)
{
    struct notify_env *e = *state;
    enum { CODES = 300 };
    unsigned seen[FG_OTP_DIGITS][10] = {{0}};
    struct fg_otp_policy p = fg_otp_policy_default;
    p.issues_per_window = FG_OTP_ISSUES_PER_WINDOW_CEILING;
    struct issue_job j = {.e = e, .policy = &p, .purpose = "login", .binding = ""};
    for (int i = 0; i < CODES; i++) {
        if (i % FG_OTP_ISSUES_PER_WINDOW_CEILING == 0)
            fg_time_set_offset_s(i * 3600); /* a fresh window */
        assert_int_equal(fg_store_write(e->store, issue_intent, &j), FG_OK);
        assert_int_equal(strlen(j.code), FG_OTP_DIGITS);
        for (unsigned d = 0; d < FG_OTP_DIGITS; d++) {
            assert_true(j.code[d] >= '0' && j.code[d] <= '9');
            seen[d][j.code[d] - '0']++;
        }
    }
    /* P(a digit never appears in a position in 300 codes) = 0.9^300 ≈ 2e-14 per cell. */
    for (unsigned d = 0; d < FG_OTP_DIGITS; d++)
        for (unsigned v = 0; v < 10; v++)
            assert_true(seen[d][v] > 0);
}

/* ---- send: issue + outbox, and nothing secret in the database ------------------------------- */

struct send_job {
    struct notify_env *e;
    const char *binding;
    const struct fg_outbox_msg *msg;
    int64_t expires_ms;
};

static fg_rc send_intent(fg_conn *conn, void *arg)
{
    struct send_job *s = arg;
    return fg_otp_send(conn, s->e->k, s->e->ob, NULL, SUBJECT, "transfer", s->binding, s->msg,
                       &s->expires_ms);
}

/* The code of the last sink line. */
static void sink_code(struct notify_env *e, char code[FG_OTP_CODE_SIZE])
{
    char *s = env_sink(e);
    const char *at = NULL;
    for (const char *p = s; (p = strstr(p, "\"code\":\"")) != NULL; p++)
        at = p;
    assert_non_null(at);
    memcpy(code, at + 8, FG_OTP_DIGITS);
    code[FG_OTP_DIGITS] = '\0';
    assert_int_equal(at[8 + FG_OTP_DIGITS], '"');
    free(s);
}

static void test_send_and_nothing_in_db(void **state)
{
    struct notify_env *e = *state;
    const struct fg_outbox_msg msg = {.to = "+8613911112222",
                                      .channel = FG_OUTBOX_SMS,
                                      .purpose = "transfer",
                                      .text = "Code for your transfer of 5,000.00 CNY to ACC123"};
    struct send_job s = {.e = e, .binding = BINDING, .msg = &msg};
    enum { SENDS = 5 };
    char codes[SENDS][FG_OTP_CODE_SIZE];
    for (int i = 0; i < SENDS; i++) {
        assert_int_equal(fg_store_write(e->store, send_intent, &s), FG_OK);
        sink_code(e, codes[i]);
    }
    assert_true(s.expires_ms > fg_time_wall_ms());
    /* A message with a code of its own is refused: the code comes from the issuer. */
    struct fg_outbox_msg with_code = msg;
    with_code.code = "000000";
    s.msg = &with_code;
    assert_int_equal(fg_store_write(e->store, send_intent, &s), FG_ERR_INVALID);
    assert_int_equal(verify(e, "transfer", BINDING, codes[SENDS - 1]), FG_OK);
    notify_env_close(e);
    for (int i = 0; i < SENDS; i++)
        assert_int_equal(env_db_count(e, codes[i]), 0);
    assert_int_equal(env_db_count(e, "payee=ACC123"), 0);
    assert_int_equal(env_db_count(e, "+8613911112222"), 0);
    assert_int_equal(env_db_count(e, "transfer of 5,000.00"), 0);
    char *sink = env_sink(e);
    assert_int_equal(env_lines(sink), SENDS);
    free(sink);
    notify_env_open(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_right_code_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_code_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_five_tries_then_dead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_returning_the_error_loses_the_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binding_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_superseded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_issue_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_custom_ttl_and_tries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_digits_uniform_enough, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_and_nothing_in_db, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
