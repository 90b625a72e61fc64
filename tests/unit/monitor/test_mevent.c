/*
 * test_mevent.c — the typed event (monitor/mevent.c; MON-1, MON-4, MON-5): the mapping from
 * stored rows (typed attrs, transfer from/to, the object, booleans, order), every refusal of
 * an external JSON event (each reason names the member and never echoes the value), holds
 * that copy themselves, and the way back to a stored row.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "monitor/mevent.h"

static void test_from_stored_row(void **state)
{
    (void)state;
    struct fg_mev_hold h;
    struct fg_event row = {
        .type = "transfer.committed",
        .actor_id = "c1",
        .source_ip = "203.0.113.9",
        .device_id = "dev1",
        .object_type = "customer",
        .object_id = "cust-9",
        .attrs_json = "{\"transfer_id\":\"t1\",\"from\":\"acc-1\",\"to\":\"acc-2\","
                      "\"amount\":500000,\"currency\":\"CNY\",\"new_payee\":true,"
                      "\"tier\":2,\"ratio\":1.5,\"nested\":{\"a\":1}}",
    };
    assert_int_equal(fg_mev_from_event(7, 1234, &row, &h), FG_OK);
    const struct fg_mev *ev = &h.ev;
    assert_int_equal(ev->seq, 7);
    assert_int_equal(ev->time_ms, 1234);
    assert_string_equal(ev->s[FG_MEV_F_NAME], "transfer.committed");
    assert_string_equal(ev->s[FG_MEV_F_ACTOR], "c1");
    assert_string_equal(ev->s[FG_MEV_F_IP], "203.0.113.9");
    assert_string_equal(ev->s[FG_MEV_F_DEVICE], "dev1");
    assert_string_equal(ev->s[FG_MEV_F_ACCOUNT], "acc-1");   /* from */
    assert_string_equal(ev->s[FG_MEV_F_PAYEE], "acc-2");     /* to */
    assert_string_equal(ev->s[FG_MEV_F_CUSTOMER], "cust-9"); /* the object */
    assert_string_equal(ev->s[FG_MEV_F_USER], "");
    assert_string_equal(ev->s[FG_MEV_F_CURRENCY], "CNY");
    assert_true(ev->has_amount);
    assert_int_equal(ev->amount, 500000);
    assert_string_equal(fg_mev_attr(ev, "transfer_id")->str, "t1");
    assert_string_equal(fg_mev_attr(ev, "new_payee")->str, "true");
    assert_int_equal(fg_mev_attr(ev, "tier")->num, 2);
    assert_true(fg_mev_attr(ev, "tier")->is_num);
    assert_string_equal(fg_mev_attr(ev, "tier")->str, "2");
    assert_string_equal(fg_mev_attr(ev, "from")->str, "acc-1");
    assert_null(fg_mev_attr(ev, "ratio"));                 /* reals are no attribute */
    assert_null(fg_mev_attr(ev, "nested"));                /* nor objects */
    assert_null(fg_mev_attr(ev, "amount"));                /* typed */
    assert_string_equal(ev->attrs[0].name, "transfer_id"); /* in order */

    /* an explicit account wins over from; object user fills user */
    struct fg_event row2 = {.type = "login.failed",
                            .object_type = "user",
                            .object_id = "u1",
                            .attrs_json = "{\"account\":\"a9\",\"from\":\"a1\",\"result\":"
                                          "\"bad\"}"};
    assert_int_equal(fg_mev_from_event(8, 1, &row2, &h), FG_OK);
    assert_string_equal(h.ev.s[FG_MEV_F_ACCOUNT], "a9");
    assert_string_equal(h.ev.s[FG_MEV_F_USER], "u1");
    assert_string_equal(h.ev.s[FG_MEV_F_RESULT], "bad");
    assert_string_equal(h.ev.s[FG_MEV_F_ACTOR], "");
    struct fg_event bad = {.type = "x", .attrs_json = "[1]"};
    assert_int_equal(fg_mev_from_event(9, 1, &bad, &h), FG_ERR_INVALID);
    struct fg_event none = {.type = "x"};
    assert_int_equal(fg_mev_from_event(9, 1, &none, &h), FG_OK);
    assert_int_equal(h.ev.nattrs, 0);
}

static fg_rc parse(const char *json, struct fg_mev_hold *h, char *why)
{
    json_error_t err;
    json_t *o = json_loads(json, 0, &err);
    assert_non_null(o);
    fg_rc rc = fg_mev_from_json(o, 99, h, why, 128);
    json_decref(o);
    return rc;
}

static void test_from_json(void **state)
{
    (void)state;
    struct fg_mev_hold h;
    char why[128];
    assert_int_equal(parse("{\"name\":\"login.failed\",\"time\":\"2026-03-02T02:00:00Z\","
                           "\"ip\":\"2001:db8::1\",\"user\":\"u1\",\"result\":\"bad\","
                           "\"amount\":0,\"currency\":\"USD\",\"attrs\":{\"target\":\"u1\","
                           "\"n\":3,\"ok\":false}}",
                           &h, why),
                     FG_OK);
    assert_int_equal(h.ev.time_ms, 1772416800000LL);
    assert_string_equal(h.ev.s[FG_MEV_F_IP], "2001:db8::1");
    assert_int_equal(h.ev.nattrs, 3);
    assert_string_equal(fg_mev_attr(&h.ev, "ok")->str, "false");
    assert_int_equal(fg_mev_attr(&h.ev, "n")->num, 3);
    assert_int_equal(parse("{\"name\":\"a\"}", &h, why), FG_OK);
    assert_int_equal(h.ev.time_ms, 99); /* now */
    assert_int_equal(parse("{\"name\":\"a\",\"time\":5}", &h, why), FG_OK);
    assert_int_equal(h.ev.time_ms, 5);

    char longv[400];
    memset(longv, 'x', sizeof longv);
    longv[sizeof longv - 1] = '\0';
    char j1[600], j2[600];
    snprintf(j1, sizeof j1, "{\"name\":\"a\",\"device\":\"%.200s\"}", longv);
    snprintf(j2, sizeof j2, "{\"name\":\"a\",\"attrs\":{\"v\":\"%s\"}}", longv);
    char many[800] = "{\"name\":\"a\",\"attrs\":{";
    for (int i = 0; i < 17; i++) {
        char one[16];
        snprintf(one, sizeof one, "%s\"a%d\":1", i ? "," : "", i);
        strncat(many, one, sizeof many - strlen(many) - 1);
    }
    strncat(many, "}}", sizeof many - strlen(many) - 1);
    struct {
        const char *json;
        fg_rc rc;
        const char *why;
    } refusals[] = {
        {"[]", FG_ERR_INVALID, "event: must be a JSON object"},
        {"{}", FG_ERR_INVALID, "name: required"},
        {"{\"name\":5}", FG_ERR_INVALID, "name: must be a string"},
        {"{\"name\":\"Login Failed\"}", FG_ERR_INVALID, "name: must match [a-z0-9_.-]{1,48}"},
        {"{\"name\":\"a\",\"colour\":\"crimson\"}", FG_ERR_INVALID, "colour: unknown member"},
        {"{\"name\":\"a\",\"time\":\"yesterday\"}", FG_ERR_INVALID,
         "time: must be an RFC 3339 UTC time or integer Unix ms"},
        {"{\"name\":\"a\",\"time\":true}", FG_ERR_INVALID,
         "time: must be an RFC 3339 UTC time or integer Unix ms"},
        {"{\"name\":\"a\",\"amount\":-1}", FG_ERR_INVALID, "amount: must be an integer >= 0"},
        {"{\"name\":\"a\",\"amount\":\"5\"}", FG_ERR_INVALID, "amount: must be an integer >= 0"},
        {"{\"name\":\"a\",\"user\":7}", FG_ERR_INVALID, "user: must be a string"},
        {"{\"name\":\"a\",\"ip\":\"not-an-ip\"}", FG_ERR_INVALID, "ip: must be an IP address"},
        {"{\"name\":\"a\",\"currency\":\"cny\"}", FG_ERR_INVALID,
         "currency: must be an ISO 4217 code (3 capital letters)"},
        {"{\"name\":\"a\",\"actor\":\"a b\"}", FG_ERR_INVALID,
         "actor: must be printable ASCII without spaces"},
        {"{\"name\":\"a\",\"result\":\"a\\nb\"}", FG_ERR_INVALID,
         "result: must not contain control characters"},
        {j1, FG_ERR_TOO_LARGE, "device: longer than 128 bytes"},
        {"{\"name\":\"a\",\"attrs\":[]}", FG_ERR_INVALID, "attrs: must be an object"},
        {many, FG_ERR_TOO_LARGE, "attrs: more than 16 members"},
        {"{\"name\":\"a\",\"attrs\":{\"Bad\":1}}", FG_ERR_INVALID,
         "attrs.Bad: name must match [a-z0-9_]{1,32}"},
        {"{\"name\":\"a\",\"attrs\":{\"x\":1.5}}", FG_ERR_INVALID,
         "attrs.x: must be a string, integer or boolean"},
        {"{\"name\":\"a\",\"attrs\":{\"x\":\"\\u0001\"}}", FG_ERR_INVALID,
         "attrs.x: must not contain control characters"},
        {j2, FG_ERR_TOO_LARGE, "attrs.v: longer than 256 bytes"},
        {"{\"name\":\"a\",\"attrs\":{\"user\":\"u9\"}}", FG_ERR_INVALID,
         "attrs.user: name is reserved (a typed field or origin)"},
    };
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        fg_rc rc = parse(refusals[i].json, &h, why);
        if (rc != refusals[i].rc || strcmp(why, refusals[i].why) != 0)
            fail_msg("%s: got %d '%s', want '%s'", refusals[i].json, rc, why, refusals[i].why);
        assert_null(strstr(why, "crimson"));
        assert_null(strstr(why, "xxxx"));
    }
}

static void test_hold_copy_and_to_event(void **state)
{
    (void)state;
    struct fg_mev ev;
    memset(&ev, 0, sizeof ev);
    for (int i = 0; i < (int)FG_MEV_F_NSTR; i++)
        ev.s[i] = "";
    char name[] = "login.failed";
    ev.s[FG_MEV_F_NAME] = name;
    ev.s[FG_MEV_F_USER] = "u1";
    ev.s[FG_MEV_F_IP] = "1.2.3.4";
    ev.s[FG_MEV_F_RESULT] = "bad";
    ev.attrs[0] = (struct fg_mev_attr){"target", "u\"1", 0, 0};
    ev.attrs[1] = (struct fg_mev_attr){"n", "5", 5, 1};
    ev.nattrs = 2;
    ev.time_ms = 42;
    struct fg_mev_hold h;
    fg_mev_hold_reset(&h);
    assert_int_equal(fg_mev_hold_copy(&h, &ev), FG_OK);
    name[0] = 'X'; /* the hold has its own copy */
    assert_string_equal(h.ev.s[FG_MEV_F_NAME], "login.failed");
    assert_int_equal(fg_mev_hold_copy(&h, &h.ev), FG_OK); /* onto itself */
    assert_string_equal(h.ev.attrs[0].str, "u\"1");
    assert_int_equal(h.ev.time_ms, 42);
    struct fg_event row;
    char buf[FG_EVENT_ATTRS_MAX + 1];
    assert_int_equal(fg_mev_to_event(&h.ev, "external", &row, buf, sizeof buf), FG_OK);
    assert_string_equal(row.type, "login.failed");
    assert_string_equal(row.source_ip, "1.2.3.4");
    assert_string_equal(row.object_type, "user");
    assert_string_equal(row.object_id, "u1");
    assert_string_equal(row.attrs_json, "{\"user\":\"u1\",\"result\":\"bad\","
                                        "\"target\":\"u\\\"1\",\"n\":5,\"origin\":\"external\"}");
    /* and back again */
    struct fg_mev_hold back;
    assert_int_equal(fg_mev_from_event(1, 42, &row, &back), FG_OK);
    assert_string_equal(back.ev.s[FG_MEV_F_USER], "u1");
    assert_string_equal(fg_mev_attr(&back.ev, "target")->str, "u\"1");
    assert_string_equal(fg_mev_attr(&back.ev, "origin")->str, "external");
    char small[8];
    assert_int_equal(fg_mev_to_event(&h.ev, NULL, &row, small, sizeof small), FG_ERR_TOO_LARGE);
    /* a hold refuses what does not fit */
    static char big[FG_MEV_HOLD_BYTES + 10];
    memset(big, 'a', sizeof big - 1);
    ev.s[FG_MEV_F_DEVICE] = big;
    const char *device_before = h.ev.s[FG_MEV_F_DEVICE];
    char device_text[64];
    snprintf(device_text, sizeof device_text, "%s", device_before);
    assert_int_equal(fg_mev_hold_copy(&h, &ev), FG_ERR_TOO_LARGE);
    assert_ptr_equal(h.ev.s[FG_MEV_F_DEVICE], device_before); /* h unchanged */
    assert_string_equal(h.ev.s[FG_MEV_F_DEVICE], device_text);
    assert_string_equal(fg_mev_field_name(FG_MEV_F_PAYEE), "payee");
    assert_int_equal(fg_mev_field_of("currency"), FG_MEV_F_CURRENCY);
    assert_int_equal(fg_mev_field_of("amount"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_stored_row),
        cmocka_unit_test(test_from_json),
        cmocka_unit_test(test_hold_copy_and_to_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
