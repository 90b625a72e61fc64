/*
 * End-to-end: a customer's activation and the customer login's second factor (REQUIREMENTS
 * AUTH-1, AUTH-2, AUTH-3, AUTH-9; API.md "Authentication": POST /v1/auth/activate,
 * POST /v1/auth/mfa with a delivered code; docs/API.md "Identity").
 *
 * The flow: init → two administrators and a teller (four-eyes, TOTP; tests/support/staff.h)
 * → the teller registers two customers (POST /v1/customers: an activation code in the answer
 * and in the outbox) → wrong code, unknown username, staff username: byte-identical 401s →
 * a weak password: 422 → the right code with a reserved phrase: 200, once (the same code
 * again: the same 401) → the customer logs in: mfa_required "otp", the phrase shown back,
 * everything but self.* (and the password change) refused with 403 mfa_required until the
 * code from the outbox (the newest "login" line to the reserved phone) is sent to
 * /v1/auth/mfa; a code sent for another login is wrong → the customer reads their own record
 * → the second customer's code expires after 72 h (the diagnostics clock) with the same 401
 * → restarted with iam.customer_mfa=optional the customer signs in with the password alone.
 * No activation code, login code or password in the server's log; no password anywhere.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/encode.h"
#include "client/client.h"
#include "crypto/crypto.h"
#include "server.h"
#include "staff.h"

#define CUST_PW "Vq7#rTz9!mKw2Lp"
#define PHRASE "red kite over the barley"
#define PHONE_A "+8613957208461"
#define PHONE_B "+8613800138000"

struct customer {
    char id[64];
    char username[32]; /* struct person holds 32 */
    char code[16];     /* activation code */
    const char *phone;
};

struct env {
    struct fg_test_server s;
    struct fg_client *anon;
    struct person admin, admin2, teller;
    char shares[3][160];
    struct customer a, b;
};

/* ---- helpers ------------------------------------------------------------------------------ */

static long anon_post(struct env *t, const char *path, const char *json_text,
                      struct fg_client_response *res)
{
    json_t *body = json_loads(json_text, 0, NULL);
    assert_non_null(body);
    assert_int_equal(fg_client_post_json(t->anon, path, body, res), FG_OK);
    json_decref(body);
    return res->status;
}

static long activate(struct env *t, const char *username, const char *code, const char *pw,
                     const char *phrase, struct fg_client_response *res)
{
    json_t *body = json_pack("{s:s, s:s, s:s}", "username", username, "activation_code", code,
                             "new_password", pw);
    if (phrase != NULL)
        json_object_set_new(body, "reserved_phrase", json_string(phrase));
    assert_int_equal(fg_client_post_json(t->anon, "/v1/auth/activate", body, res), FG_OK);
    json_decref(body);
    return res->status;
}

static void same_body(const struct fg_client_response *x, const struct fg_client_response *y)
{
    if (x->body_len != y->body_len || memcmp(x->body, y->body, x->body_len) != 0)
        fail_msg("answers differ:\n  %s\n  %s", x->body, y->body);
}

/* The newest outbox line to `to` with `purpose`: its code (6 digits), checked not to be in the
 * message text. */
static void outbox_code(const struct env *t, const char *to, const char *purpose, char out[16])
{
    char path[700];
    snprintf(path, sizeof path, "%s/outbox.jsonl", t->s.dir);
    size_t len = 0;
    char *text = fg_test_read_file(path, &len);
    assert_non_null(text);
    out[0] = '\0';
    for (char *line = text, *end; *line != '\0'; line = end + 1) {
        end = strchr(line, '\n');
        assert_non_null(end);
        json_t *m = json_loadb(line, (size_t)(end - line), 0, NULL);
        assert_non_null(m);
        const char *code = json_string_value(json_object_get(m, "code"));
        if (strcmp(json_string_value(json_object_get(m, "to")), to) == 0 &&
            strcmp(json_string_value(json_object_get(m, "purpose")), purpose) == 0) {
            assert_non_null(code);
            assert_string_equal(json_string_value(json_object_get(m, "channel")), "sms");
            assert_null(strstr(json_string_value(json_object_get(m, "text")), code));
            snprintf(out, 16, "%s", code);
        }
        json_decref(m);
    }
    free(text);
    if (out[0] == '\0')
        fail_msg("no %s code for %s in the outbox", purpose, to);
    assert_int_equal(strlen(out), 6);
}

/* Occurrences of a 6-digit code in a file as a number of its own (not inside a longer run of
 * digits, such as a timestamp). */
static long code_in_file(const char *path, const char *code)
{
    size_t len = 0;
    char *text = fg_test_read_file(path, &len);
    if (text == NULL)
        return 0;
    long n = 0;
    size_t k = strlen(code);
    for (size_t i = 0; i + k <= len; i++) {
        if (memcmp(text + i, code, k) != 0)
            continue;
        int digit_before = i > 0 && text[i - 1] >= '0' && text[i - 1] <= '9';
        int digit_after = i + k < len && text[i + k] >= '0' && text[i + k] <= '9';
        n += !digit_before && !digit_after;
    }
    free(text);
    return n;
}

static void no_code_in_logs(const struct env *t, const char *code)
{
    assert_int_equal(code_in_file(t->s.log_file, code), 0);
    assert_int_equal(code_in_file(t->s.stdout_file, code), 0);
}

static void wrong_code(const char *code, char out[16])
{
    snprintf(out, 16, "%s", code);
    out[5] = (char)(code[5] == '9' ? '0' : code[5] + 1);
}

/* Log the customer in; the answer's mfa_required ("otp", "totp" or "false") to mfa. */
static void customer_login(struct env *t, struct person *p, char mfa[16])
{
    if (p->c == NULL)
        fg_test_server_client(&t->s, &p->c);
    assert_int_equal(fg_client_set_session(p->c, NULL, NULL), FG_OK);
    fg_client_set_signer(p->c, NULL, NULL);
    char body[256];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\",\"device_id\":\"%s\"}",
             p->username, p->password, p->device);
    struct fg_client_response res;
    if (anon_post(t, "/v1/auth/login", body, &res) != 200)
        fail_msg("login %s: %ld %s", p->username, res.status, res.body);
    json_t *m = json_object_get(res.json, "mfa_required");
    snprintf(mfa, 16, "%s",
             json_is_string(m)  ? json_string_value(m)
             : json_is_false(m) ? "false"
                                : "?");
    assert_false(json_is_true(json_object_get(res.json, "must_change_password")));
    const char *phrase = json_string_value(json_object_get(res.json, "reserved_phrase"));
    assert_non_null(phrase);
    assert_string_equal(phrase, PHRASE);
    const char *key = staff_str(&res, "session_key");
    size_t n = 0;
    assert_int_equal(fg_base64url_decode(key, strlen(key), p->sg.key, sizeof p->sg.key, &n), FG_OK);
    assert_int_equal(fg_client_set_session(p->c, staff_str(&res, "token"), p->device), FG_OK);
    fg_client_set_signer(p->c, staff_sign, &p->sg);
    fg_client_response_release(&res);
}

/* ---- set-up: staff, then two customers -------------------------------------------------- */

static void staff_setup(struct env *t)
{
    struct fg_client_response res;
    assert_int_equal(anon_post(t, "/v1/sys/init", "{\"shares\":3,\"threshold\":2}", &res), 200);
    json_t *shares = json_object_get(res.json, "shares");
    for (size_t i = 0; i < 3; i++)
        snprintf(t->shares[i], sizeof t->shares[i], "%s",
                 json_string_value(json_array_get(shares, i)));
    json_t *admin = json_object_get(res.json, "admin");
    snprintf(t->admin.username, sizeof t->admin.username, "admin");
    snprintf(t->admin.device, sizeof t->admin.device, "admin-dev");
    snprintf(t->admin.password, sizeof t->admin.password, "%s",
             json_string_value(json_object_get(admin, "password")));
    fg_client_response_release(&res);
    staff_onboard(&t->s, &t->admin, "Adm1n-first-Qx7!vT");
    /* the second approver under the bootstrap exception, then a teller by four eyes */
    staff_post(&t->admin, "/v1/users",
               "{\"username\":\"admin2\",\"roles\":[\"security_admin\"],"
               "\"contact\":\"admin2@bank.example\",\"bootstrap\":true}",
               &res);
    staff_expect(&res, 201, NULL);
    snprintf(t->admin2.username, sizeof t->admin2.username, "admin2");
    snprintf(t->admin2.device, sizeof t->admin2.device, "admin2-dev");
    staff_outbox_password(&t->s, "admin2@bank.example", t->admin2.password);
    staff_post(&t->admin, "/v1/users",
               "{\"username\":\"teller1\",\"roles\":[\"teller\"],"
               "\"contact\":\"teller1@bank.example\"}",
               &res);
    if (res.status != 202)
        fail_msg("request teller: %ld %s", res.status, res.body);
    char path[96];
    snprintf(path, sizeof path, "/v1/approvals/%s/approve", staff_str(&res, "approval_id"));
    fg_client_response_release(&res);
    staff_onboard(&t->s, &t->admin2, "Sec0nd-admin-Wz4#pR");
    staff_post(&t->admin2, path, "{\"reason\":\"new branch teller, HR ticket 42\"}", &res);
    staff_expect(&res, 200, NULL);
    snprintf(t->teller.username, sizeof t->teller.username, "teller1");
    snprintf(t->teller.device, sizeof t->teller.device, "teller-dev");
    staff_outbox_password(&t->s, "teller1@bank.example", t->teller.password);
    staff_onboard(&t->s, &t->teller, "Te11er-one-Kp8$wQ");
}

static void register_customer(struct env *t, struct customer *cu, const char *name,
                              const char *id_number, const char *phone, const char *email)
{
    json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "id_number", id_number, "phone",
                             phone, "email", email);
    struct fg_client_response res;
    assert_int_equal(fg_client_post_json(t->teller.c, "/v1/customers", body, &res), FG_OK);
    json_decref(body);
    if (res.status != 201)
        fail_msg("POST /v1/customers: %ld %s", res.status, res.body);
    snprintf(cu->id, sizeof cu->id, "%s", staff_str(&res, "id"));
    assert_true(strlen(staff_str(&res, "username")) < sizeof cu->username);
    snprintf(cu->username, sizeof cu->username, "%s", staff_str(&res, "username"));
    snprintf(cu->code, sizeof cu->code, "%s", staff_str(&res, "activation_code"));
    cu->phone = phone;
    fg_client_response_release(&res);
    /* the same code went to the reserved phone */
    char sent[16];
    outbox_code(t, phone, "activation", sent);
    assert_string_equal(sent, cu->code);
}

/* ---- the test ------------------------------------------------------------------------------ */

static void activation(struct env *t, struct person *p)
{
    struct customer *a = &t->a;
    struct fg_client_response bad, res;
    char wrong[16];
    /* before activation there is no password to log in with */
    char body[256];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\",\"device_id\":\"x\"}",
             a->username, CUST_PW);
    assert_int_equal(anon_post(t, "/v1/auth/login", body, &res), 401);
    fg_client_response_release(&res);
    /* every wrong is the one answer: a wrong code, an unknown user, a staff user */
    wrong_code(a->code, wrong);
    assert_int_equal(activate(t, a->username, wrong, CUST_PW, NULL, &bad), 401);
    assert_string_equal(bad.error_code, "unauthenticated");
    assert_int_equal(activate(t, "nobody.here", a->code, CUST_PW, NULL, &res), 401);
    same_body(&bad, &res);
    fg_client_response_release(&res);
    assert_int_equal(activate(t, "teller1", a->code, CUST_PW, NULL, &res), 401);
    same_body(&bad, &res);
    fg_client_response_release(&res);
    /* a weak password: 422 naming the field, the code untouched */
    assert_int_equal(activate(t, a->username, a->code, "password12", NULL, &res), 422);
    assert_string_equal(res.error_code, "policy_violation");
    assert_string_equal(res.error_field, "new_password");
    fg_client_response_release(&res);
    /* malformed: a missing field, an unknown one */
    assert_int_equal(anon_post(t, "/v1/auth/activate", "{\"username\":\"x\"}", &res), 400);
    fg_client_response_release(&res);
    /* the right code, with the anti-phishing phrase (AUTH-9) */
    assert_int_equal(activate(t, a->username, a->code, CUST_PW, PHRASE, &res), 200);
    assert_true(json_is_true(json_object_get(res.json, "activated")));
    fg_client_response_release(&res);
    /* single use: the same code again is the same 401 */
    assert_int_equal(activate(t, a->username, a->code, "Other-pass-8#kQz", NULL, &res), 401);
    same_body(&bad, &res);
    fg_client_response_release(&res);
    fg_client_response_release(&bad);
    no_code_in_logs(t, a->code);

    memset(p, 0, sizeof *p);
    snprintf(p->username, sizeof p->username, "%s", a->username);
    snprintf(p->password, sizeof p->password, "%s", CUST_PW);
    snprintf(p->device, sizeof p->device, "cust-phone-1");
}

static void login_with_delivered_code(struct env *t, struct person *p)
{
    char mfa[16], path[128], code[16], wrong[16], body[128];
    struct fg_client_response res;
    customer_login(t, p, mfa);
    assert_string_equal(mfa, "otp");
    /* until the code is done: 403 mfa_required, also for the password change and for TOTP
     * enrolment (the password alone must not reach a full session) */
    snprintf(path, sizeof path, "/v1/customers/%s", t->a.id);
    staff_get(p, path, &res);
    staff_expect(&res, 403, "mfa_required");
    snprintf(body, sizeof body, "{\"old_password\":\"%s\",\"new_password\":\"Nw-pass-5#rTq\"}",
             CUST_PW);
    staff_post(p, "/v1/auth/password", body, &res);
    staff_expect(&res, 403, "mfa_required");
    staff_post(p, "/v1/auth/totp/enroll", "{}", &res);
    staff_expect(&res, 403, "mfa_required");
    staff_post(p, "/v1/auth/phrase", "{\"reserved_phrase\":\"planted by someone\"}", &res);
    staff_expect(&res, 403, "mfa_required");
    /* a wrong code: 401 (counted); then the right one */
    outbox_code(t, PHONE_A, "login", code);
    wrong_code(code, wrong);
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", wrong);
    staff_post(p, "/v1/auth/mfa", body, &res);
    staff_expect(&res, 401, "unauthenticated");
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    staff_post(p, "/v1/auth/mfa", body, &res);
    staff_expect(&res, 200, NULL);
    /* used once, never twice */
    staff_post(p, "/v1/auth/mfa", body, &res);
    staff_expect(&res, 401, "unauthenticated");
    staff_get(p, path, &res);
    if (res.status != 200)
        fail_msg("GET own customer: %ld %s", res.status, res.body);
    assert_null(strstr(res.body, "13957208461")); /* masked */
    fg_client_response_release(&res);
    no_code_in_logs(t, code);

    /* a code belongs to its login: two logins, the second's code does not finish the first */
    struct person q = *p;
    q.c = NULL;
    snprintf(q.device, sizeof q.device, "cust-tablet");
    char code2[16];
    customer_login(t, p, mfa); /* p: a new session on its device */
    customer_login(t, &q, mfa);
    outbox_code(t, PHONE_A, "login", code2); /* the newest: q's */
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code2);
    staff_post(p, "/v1/auth/mfa", body, &res);
    staff_expect(&res, 401, "unauthenticated");
    staff_post(&q, "/v1/auth/mfa", body, &res);
    staff_expect(&res, 200, NULL);
    fg_client_free(q.c);
}

static void activation_code_expires(struct env *t)
{
    struct fg_client_response res, bad;
    char wrong[16];
    wrong_code(t->b.code, wrong);
    assert_int_equal(activate(t, t->b.username, wrong, CUST_PW, NULL, &bad), 401);
    /* 72 h and a bit later the right code is the same 401: "expired" would tell that this
     * username is a customer waiting for activation */
    assert_int_equal(anon_post(t, "/v1/diag/clock", "{\"offset_s\":259260}", &res), 200);
    fg_client_response_release(&res);
    assert_int_equal(activate(t, t->b.username, t->b.code, CUST_PW, NULL, &res), 401);
    same_body(&bad, &res);
    fg_client_response_release(&res);
    fg_client_response_release(&bad);
    assert_int_equal(anon_post(t, "/v1/diag/clock", "{\"offset_s\":0}", &res), 200);
    fg_client_response_release(&res);
    no_code_in_logs(t, t->b.code);
}

static void optional_second_factor(struct env *t, struct person *p)
{
    /* the same instance restarted with iam.customer_mfa=optional */
    assert_true(t->s.nargs + 2 <= FG_TEST_SERVER_ARGS_MAX);
    snprintf(t->s.args[t->s.nargs++], FG_TEST_SERVER_ARG_LEN, "--set");
    snprintf(t->s.args[t->s.nargs++], FG_TEST_SERVER_ARG_LEN, "iam.customer_mfa=optional");
    fg_test_server_restart(&t->s);
    struct fg_client_response res;
    for (int i = 0; i < 2; i++) {
        char ub[256];
        snprintf(ub, sizeof ub, "{\"share\":\"%s\"}", t->shares[i]);
        assert_int_equal(anon_post(t, "/v1/sys/unseal", ub, &res), 200);
        fg_client_response_release(&res);
    }
    char mfa[16], path[128];
    customer_login(t, p, mfa);
    assert_string_equal(mfa, "false");
    snprintf(path, sizeof path, "/v1/customers/%s", t->a.id);
    staff_get(p, path, &res);
    staff_expect(&res, 200, NULL);
}

static void test_activation_and_customer_mfa(void **state)
{
    (void)state;
    struct env *t = calloc(1, sizeof *t);
    assert_non_null(t);
    const char *const args[] = {"--set", "diag.write_probe=true", NULL};
    fg_test_server_start(&t->s, args);
    fg_test_server_client(&t->s, &t->anon);
    staff_setup(t);
    register_customer(t, &t->a, "Zhang Wei", "310115198001011238", PHONE_A, "wei@example.com");
    register_customer(t, &t->b, "Li Na", "440304199003074561", PHONE_B, "na@example.com");

    struct person cust;
    activation(t, &cust);
    login_with_delivered_code(t, &cust);
    activation_code_expires(t);
    optional_second_factor(t, &cust);

    /* no password anywhere on disk (database, logs, outbox) */
    assert_int_equal(fg_test_server_grep(&t->s, CUST_PW, strlen(CUST_PW)), 0);
    assert_int_equal(fg_test_server_grep(&t->s, PHRASE, strlen(PHRASE)), 0);

    fg_client_free(cust.c);
    fg_client_free(t->teller.c);
    fg_client_free(t->admin.c);
    fg_client_free(t->admin2.c);
    fg_client_free(t->anon);
    assert_int_equal(fg_test_server_stop(&t->s), 0);
    fg_test_server_done(&t->s);
    free(t);
}

int main(void)
{
    assert_int_equal(fg_crypto_init(), FG_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activation_and_customer_mfa),
    };
    return cmocka_run_group_tests(tests, NULL, fg_test_server_teardown);
}
