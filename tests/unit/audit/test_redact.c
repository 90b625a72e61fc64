/*
 * test_redact.c — the redaction rule of audit details (audit.h): every sensitive key at any
 * depth, card numbers and PRC ID numbers in values, limits, malformed input, and that a
 * secret never survives into a record.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "audit/audit.h"

static void redact_expect(const char *in, const char *expected)
{
    char out[FG_AUDIT_DETAILS_MAX + 1];
    size_t n = 99;
    fg_rc rc = fg_audit_redact(in, strlen(in), out, sizeof out, &n);
    if (rc != FG_OK || strcmp(out, expected) != 0)
        fprintf(stderr, "in:  %s\nout: %s (%s)\nexp: %s\n", in, out, fg_rc_name(rc), expected);
    assert_int_equal(rc, FG_OK);
    assert_string_equal(out, expected);
    assert_int_equal(n, strlen(expected));
}

static void redact_fails(const char *in, size_t len, fg_rc expected)
{
    char out[FG_AUDIT_DETAILS_MAX + 1];
    size_t n = 99;
    assert_int_equal(fg_audit_redact(in, len, out, sizeof out, &n), expected);
    assert_int_equal(n, 0);
    assert_string_equal(out, "");
}

static void test_sensitive_keys(void **state)
{
    (void)state;
    static const char *const sensitive[] = {
        "password", "Password",      "user_PASSWORD", "api_key",        "sessionToken",
        "otp_code", "pan",           "card_pan",      "id_number",      "share_1",
        "cvv2",     "signature",     "nonce",         "client_secret",  "KEY",
        "cookie",   "Authorization", "new_pin_otp",   "secretQuestion", "tokens",
    };
    for (size_t i = 0; i < sizeof sensitive / sizeof sensitive[0]; i++)
        assert_true(fg_audit_key_is_sensitive(sensitive[i], strlen(sensitive[i])));
    static const char *const plain[] = {"user", "amount_minor", "reason",     "role",   "ip",
                                        "ok",   "device",       "account_id", "before", "after"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        assert_false(fg_audit_key_is_sensitive(plain[i], strlen(plain[i])));
}

static void test_flat_and_nested(void **state)
{
    (void)state;
    redact_expect("{\"user\":\"alice\",\"password\":\"hunter2\"}",
                  "{\"user\":\"alice\",\"password\":\"[redacted]\"}");
    redact_expect("{ \"a\" : { \"b\" : { \"Session_Token\" : \"abc\", \"n\": 1 } } }",
                  "{\"a\":{\"b\":{\"Session_Token\":\"[redacted]\",\"n\":1}}}");
    /* A sensitive key's whole subtree goes, whatever its type. */
    redact_expect("{\"key\":{\"id\":\"k1\",\"bytes\":\"00ff\"},\"otp\":123456,\"cvv\":[1,2,3]}",
                  "{\"key\":\"[redacted]\",\"otp\":\"[redacted]\",\"cvv\":\"[redacted]\"}");
    /* Objects inside arrays too. */
    redact_expect("{\"items\":[{\"share\":\"s1\"},{\"name\":\"x\"},[{\"nonce\":\"n\"}]]}",
                  "{\"items\":[{\"share\":\"[redacted]\"},{\"name\":\"x\"},"
                  "[{\"nonce\":\"[redacted]\"}]]}");
    /* Order is kept; values of other types untouched. */
    redact_expect("{\"z\":true,\"a\":null,\"m\":-5,\"b\":\"x\"}",
                  "{\"z\":true,\"a\":null,\"m\":-5,\"b\":\"x\"}");
    redact_expect("{}", "{}");
}

static void test_values(void **state)
{
    (void)state;
    /* Luhn-valid card numbers, with and without separators, alone or inside text. */
    redact_expect("{\"note\":\"4111111111111111\"}", "{\"note\":\"[redacted]\"}");
    redact_expect("{\"note\":\"card 4111 1111 1111 1111 used\"}", "{\"note\":\"[redacted]\"}");
    redact_expect("{\"l\":[\"5500-0000-0000-0004\"]}", "{\"l\":[\"[redacted]\"]}");
    /* Not Luhn-valid, too short, or a timestamp: kept. */
    redact_expect("{\"note\":\"4111111111111112\"}", "{\"note\":\"4111111111111112\"}");
    redact_expect("{\"note\":\"order 123456\"}", "{\"note\":\"order 123456\"}");
    redact_expect("{\"at\":\"2026-11-21T12:34:56.789Z\"}", "{\"at\":\"2026-11-21T12:34:56.789Z\"}");
    /* PRC resident ID numbers (valid check character). */
    redact_expect("{\"who\":\"11010519491231002X\"}", "{\"who\":\"[redacted]\"}");
    redact_expect("{\"who\":\"id 110105194912310021 ok\"}",
                  "{\"who\":\"id 110105194912310021 ok\"}");
    /* Numbers are not strings: an integer timestamp stays. */
    redact_expect("{\"t\":4111111111111111}", "{\"t\":4111111111111111}");
}

static void test_limits_and_malformed(void **state)
{
    (void)state;
    redact_fails("", 0, FG_ERR_INVALID);
    redact_fails("[1,2]", 5, FG_ERR_INVALID);
    redact_fails("\"s\"", 3, FG_ERR_INVALID);
    redact_fails("{\"a\":", 5, FG_ERR_INVALID);
    redact_fails("{\"a\":1,\"a\":2}", 13, FG_ERR_INVALID); /* duplicates could hide a secret */
    redact_fails("{\"a\":\"\\u0000\"}", 14, FG_ERR_INVALID);
    redact_fails("{\"a\":\"\xff\"}", 8, FG_ERR_INVALID);
    /* 8 levels pass, 9 do not. */
    redact_expect("{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":1}}}}}}}}",
                  "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":1}}}}}}}}");
    const char *deep = "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":[1]}}}}}}}}";
    redact_fails(deep, strlen(deep), FG_ERR_LIMIT);
    /* Braces inside strings do not count. */
    redact_expect("{\"s\":\"{{{{{{{{{{[[[[[\"}", "{\"s\":\"{{{{{{{{{{[[[[[\"}");
    /* Size: the input bound, and an output that would grow past the bound. */
    static char big[FG_AUDIT_DETAILS_MAX + 64];
    int n = snprintf(big, sizeof big, "{\"s\":\"%0*d\"}", (int)FG_AUDIT_DETAILS_MAX, 0);
    redact_fails(big, (size_t)n, FG_ERR_TOO_LARGE);
    struct {
        char buf[FG_AUDIT_DETAILS_MAX + 1];
    } grow;
    size_t len = 0;
    len += (size_t)snprintf(grow.buf, sizeof grow.buf, "{");
    for (int i = 0; len + 16 < FG_AUDIT_DETAILS_MAX; i++)
        len += (size_t)snprintf(grow.buf + len, sizeof grow.buf - len, "%s\"key%03d\":1",
                                i ? "," : "", i);
    len += (size_t)snprintf(grow.buf + len, sizeof grow.buf - len, "}");
    redact_fails(grow.buf, len, FG_ERR_TOO_LARGE); /* every "k..":1 → "[redacted]" */
    /* A small output buffer is refused, not overrun. */
    char small[8];
    size_t sn = 0;
    assert_int_equal(fg_audit_redact("{\"abc\":\"defgh\"}", 15, small, sizeof small, &sn),
                     FG_ERR_TOO_LARGE);
}

static void test_record_details(void **state)
{
    (void)state;
    struct fg_audit_record rec;
    struct fg_audit_actor who = {
        .actor_id = "u1", .actor_role = "operator", .source_ip = "192.0.2.1"};
    assert_int_equal(fg_audit_record_init(&rec, &who, "auth.password_change", "user", "u1"), FG_OK);
    assert_string_equal(rec.details, "{}");
    assert_int_equal(rec.result, FG_AUDIT_RESULT_OK);
    const char *d = "{\"old_password\":\"Tr0ub4dor&3\",\"new_password\":\"correct horse\","
                    "\"otp\":\"314159\",\"pan\":\"6222020200000000001\",\"reason\":\"rotation\"}";
    assert_int_equal(fg_audit_record_details(&rec, d, strlen(d)), FG_OK);
    assert_null(strstr(rec.details, "Tr0ub4dor"));
    assert_null(strstr(rec.details, "correct horse"));
    assert_null(strstr(rec.details, "314159"));
    assert_null(strstr(rec.details, "6222020200000000001"));
    assert_non_null(strstr(rec.details, "rotation"));
    /* A failed redaction leaves the details as they were. */
    assert_int_equal(fg_audit_record_details(&rec, "{bad", 4), FG_ERR_INVALID);
    assert_non_null(strstr(rec.details, "rotation"));
}

static void test_record_limits(void **state)
{
    (void)state;
    struct fg_audit_record rec;
    char long_id[FG_AUDIT_ACTOR_ID_MAX + 2];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    struct fg_audit_actor who = {.actor_id = long_id};
    assert_int_equal(fg_audit_record_init(&rec, &who, "sys.init", NULL, NULL), FG_ERR_TOO_LARGE);
    long_id[FG_AUDIT_ACTOR_ID_MAX] = '\0'; /* exactly at the limit */
    assert_int_equal(fg_audit_record_init(&rec, &who, "sys.init", NULL, NULL), FG_OK);
    assert_int_equal(strlen(rec.actor_id), FG_AUDIT_ACTOR_ID_MAX);
    assert_int_equal(fg_audit_record_init(&rec, NULL, "", NULL, NULL), FG_ERR_INVALID);
    assert_int_equal(fg_audit_record_init(&rec, NULL, "Sys Init", NULL, NULL), FG_ERR_INVALID);
    assert_int_equal(fg_audit_record_init(&rec, NULL, NULL, NULL, NULL), FG_ERR_INVALID);
    assert_int_equal(fg_audit_record_init(&rec, NULL, "keys.rotate", NULL, NULL), FG_OK);
    assert_string_equal(rec.actor_id, "");
    fg_audit_record_result(&rec, FG_AUDIT_RESULT_DENIED, FG_ERR_PERMISSION);
    assert_string_equal(rec.error_code, "FG_ERR_PERMISSION");
    fg_audit_record_result(&rec, FG_AUDIT_RESULT_OK, FG_ERR_PERMISSION);
    assert_string_equal(rec.error_code, "");
    assert_string_equal(fg_audit_result_name(FG_AUDIT_RESULT_DENIED), "denied");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sensitive_keys), cmocka_unit_test(test_flat_and_nested),
        cmocka_unit_test(test_values),         cmocka_unit_test(test_limits_and_malformed),
        cmocka_unit_test(test_record_details), cmocka_unit_test(test_record_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
