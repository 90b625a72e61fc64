/*
 * test_reset.c — the identity-verified reset of a customer's login (REQUIREMENTS AUTH-2),
 * through the real server: a customer locks the login with five wrong passwords; the teller
 * resets it after checking the identity document; the new activation code reaches only the
 * reserved phone (never the teller's answer); the customer activates again with a new
 * password (an old one is refused by the history), logs in; every session of the customer
 * ended at the reset; refusals (bad identity check, unknown or malformed ids, a customer
 * calling it) leave nothing changed and are audited.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <liboath/oath.h>

#include "bank.h"
#include "crypto/crypto.h"
#include "server.h"
#include "staff.h"

static long login_status(const struct fg_test_server *s, const char *username, const char *password)
{
    struct fg_client *c;
    fg_test_server_client(s, &c);
    char body[256];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\",\"device_id\":\"d-1\"}",
             username, password);
    json_t *j = json_loads(body, 0, NULL);
    struct fg_client_response res;
    assert_int_equal(fg_client_send_json(c, "POST", "/v1/auth/login", j, &res), FG_OK);
    json_decref(j);
    long status = res.status;
    fg_client_response_release(&res);
    fg_client_free(c);
    return status;
}

static void test_identity_verified_reset(void **state)
{
    (void)state;
    struct fg_test_server *s = calloc(1, sizeof *s);
    assert_non_null(s);
    const char *const args[] = {"--set", "outbox.sink=file", "--set", "iam.customer_mfa=optional",
                                NULL};
    fg_test_server_start(s, args);
    struct bank_staff *b = calloc(1, sizeof *b);
    struct bank_customer *cu = calloc(1, sizeof *cu), *other = calloc(1, sizeof *other);
    assert_non_null(b);
    assert_non_null(cu);
    assert_non_null(other);
    bank_staff_setup(s, b, 1, 1);
    struct person *teller = BANK_P(b, BANK_TELLER);
    bank_customer_new(s, b, cu, "Reset Alice", 41, 1, 0);
    bank_customer_new(s, b, other, "Reset Bob", 42, 1, 0);

    /* the customer forgets the password: five failures lock the login (AUTH-2); from the
     * third the server throttles (429 + Retry-After 1, 2, 4 s), so the test waits */
    int failures = 0;
    for (int i = 0; i < 12 && failures < 5; i++) {
        long st = login_status(s, cu->p.username, "not-the-password-1");
        if (st == 401 || st == 423)
            failures++;
        else if (st == 429)
            sleep(1u << (failures > 2 ? failures - 2 : 0));
        else
            fail_msg("login: unexpected %ld", st);
    }
    assert_int_equal(login_status(s, cu->p.username, BANK_CUSTOMER_PASSWORD), 423);

    char path[160], body[256];
    struct fg_client_response res;
    snprintf(path, sizeof path, "/v1/customers/%s/reset", cu->id);
    /* refusals first: nothing changes */
    assert_int_equal(bank_post(teller, path, "{\"reason\":\"forgot\"}", NULL, &res), 400);
    bank_expect(&res, 400, "invalid_argument", "identity_check");
    assert_int_equal(bank_post(teller, path,
                               "{\"reason\":\"forgot\",\"identity_check\":\"trust me\"}", NULL,
                               &res),
                     400);
    bank_expect(&res, 400, "invalid_argument", "identity_check");
    assert_int_equal(bank_post(teller, "/v1/customers/cus_AAAAAAAAAAAAAAAAAAAAAA/reset",
                               "{\"reason\":\"x\",\"identity_check\":\"in_branch_id_document\"}",
                               NULL, &res),
                     404);
    bank_expect(&res, 404, "not_found", NULL);
    assert_int_equal(bank_post(teller, "/v1/customers/6222021234567894/reset",
                               "{\"reason\":\"x\",\"identity_check\":\"in_branch_id_document\"}",
                               NULL, &res),
                     404);
    bank_expect(&res, 404, "not_found", NULL);
    /* a customer cannot reset anyone (route permission) */
    assert_int_equal(bank_post(&other->p, path,
                               "{\"reason\":\"x\",\"identity_check\":\"in_branch_id_document\"}",
                               NULL, &res),
                     403);
    bank_expect(&res, 403, "permission_denied", NULL);
    long codes_before = bank_outbox_count(s, cu->phone, "activation");

    /* the reset: 200, the code to the reserved phone only */
    snprintf(
        body, sizeof body,
        "{\"reason\":\"forgot password, locked\",\"identity_check\":\"in_branch_id_document\"}");
    assert_int_equal(bank_post(teller, path, body, NULL, &res), 200);
    assert_string_equal(json_string_value(json_object_get(res.json, "state")), "activation_sent");
    assert_string_equal(json_string_value(json_object_get(res.json, "delivery")), "reserved_phone");
    assert_null(json_object_get(res.json, "activation_code")); /* never to the teller */
    fg_client_response_release(&res);
    assert_int_equal(bank_outbox_count(s, cu->phone, "activation"), codes_before + 1);
    char code[16];
    bank_outbox_code(s, cu->phone, "activation", code);

    /* the old session ended at once; the old password no longer works (no password now) */
    char own[160];
    snprintf(own, sizeof own, "/v1/customers/%s", cu->id);
    assert_int_equal(bank_get(&cu->p, own, &res), 401);
    fg_client_response_release(&res);
    assert_int_equal(login_status(s, cu->p.username, BANK_CUSTOMER_PASSWORD), 401);

    /* activate again: the old password is refused by the history, a new one works */
    struct fg_client *anon;
    fg_test_server_client(s, &anon);
    snprintf(body, sizeof body,
             "{\"username\":\"%s\",\"activation_code\":\"%s\",\"new_password\":\"%s\"}",
             cu->p.username, code, BANK_CUSTOMER_PASSWORD);
    json_t *j = json_loads(body, 0, NULL);
    assert_int_equal(fg_client_send_json(anon, "POST", "/v1/auth/activate", j, &res), FG_OK);
    json_decref(j);
    assert_int_equal(res.status, 422);
    fg_client_response_release(&res);
    snprintf(
        body, sizeof body,
        "{\"username\":\"%s\",\"activation_code\":\"%s\",\"new_password\":\"Zx8$wq4Lm!Tn7Pb\"}",
        cu->p.username, code);
    j = json_loads(body, 0, NULL);
    assert_int_equal(fg_client_send_json(anon, "POST", "/v1/auth/activate", j, &res), FG_OK);
    json_decref(j);
    assert_int_equal(res.status, 200);
    fg_client_response_release(&res);
    fg_client_free(anon);
    assert_int_equal(login_status(s, cu->p.username, "Zx8$wq4Lm!Tn7Pb"), 200);

    /* audited: the reset (ok) and the refused attempts (denied); the code is in no record */
    struct person *au = BANK_P(b, BANK_AUDITOR);
    assert_int_equal(bank_audit_count(au, "customers.reset", "ok", NULL, cu->id), 1);
    assert_int_equal(bank_audit_count(au, "customers.reset", "denied", NULL, NULL), 2);
    assert_int_equal(bank_grep_db_and_logs(s, code), 0); /* the code: only in the sink */
    assert_int_equal(bank_grep_db_and_logs(s, "6222021234567894"), 0); /* a PAN in a path */

    bank_customer_free(cu);
    bank_customer_free(other);
    bank_staff_free(b);
    free(cu);
    free(other);
    free(b);
    assert_int_equal(fg_test_server_stop(s), 0);
    fg_test_server_done(s);
    free(s);
}

int main(void)
{
    assert_int_equal(fg_crypto_init(), FG_OK);
    assert_int_equal(oath_init(), OATH_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_identity_verified_reset, fg_test_server_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    oath_done();
    return rc;
}
