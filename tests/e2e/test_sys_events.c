/*
 * End-to-end: the lifecycle, key and configuration events of issue #6 through the real
 * server (REQUIREMENTS MON-1, GOV-5, DATA-2; docs/events.md "System and keys").
 *
 * One instance, production-like (shares, no dev mode), read back with GET /v1/events by
 * the auditor (events.read):
 *   init      POST /v1/sys/init → sys.initialized (suite, custodians, threshold); the
 *             server started uninitialised, so no config.changed yet (the baseline waits
 *             for an armed audit log).
 *   seal      POST /v1/sys/seal → sys.sealed (reason command, actor the administrator);
 *             unseal → sys.unsealed (method shares) and the baseline config.changed
 *             (settings "*", baseline true, count = every setting).
 *   config    restart with --set monitor.memory_mb=32, unseal → config.changed naming
 *             exactly monitor.memory_mb (count 1, baseline false, no value anywhere in it);
 *             the seal/unseal cycle before it and the plain restart after it add none.
 *   keys      server stopped, `finguard keys rotate --purpose pii` with the share on stdin →
 *             after a restart: key.rotated (purpose pii, version 2), with the CLI's own
 *             sys.unsealed (method cli_shares) and sys.sealed (reason shutdown).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "bank.h"
#include "crypto/crypto.h"
#include "server.h"
#include "staff.h"

/* Settings in the table today (base/config.c); the baseline must count at least this. */
#define SETTINGS_MIN 30

/* GET /v1/events?name=<name> as p → the "events" array (caller decrefs). */
static json_t *events_named(struct person *p, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/events?name=%s&limit=500", name);
    struct fg_client_response res;
    if (staff_get(p, path, &res) != 200)
        fail_msg("GET %s: %ld %s", path, res.status, res.body);
    json_t *list = json_incref(json_object_get(res.json, "events"));
    assert_non_null(list);
    fg_client_response_release(&res);
    return list;
}

static const json_t *attr(const json_t *ev, const char *name)
{
    return json_object_get(json_object_get(ev, "attrs"), name);
}

static const char *attr_str(const json_t *ev, const char *name)
{
    return json_string_value(attr(ev, name));
}

/* Events named `name` whose attrs.<key> equals value (value NULL: all of them). */
static size_t count_with(json_t *list, const char *key, const char *value)
{
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *v = key != NULL ? attr_str(json_array_get(list, i), key) : NULL;
        n += key == NULL || (v != NULL && strcmp(v, value) == 0);
    }
    return n;
}

/* Add "--set kv" to the server's extra args (used by the next restart). */
static void add_set(struct fg_test_server *s, const char *kv)
{
    assert_true(s->nargs + 2 <= FG_TEST_SERVER_ARGS_MAX);
    snprintf(s->args[s->nargs++], FG_TEST_SERVER_ARG_LEN, "--set");
    snprintf(s->args[s->nargs++], FG_TEST_SERVER_ARG_LEN, "%s", kv);
}

static void test_sys_events(void **state)
{
    (void)state;
    assert_int_equal(fg_crypto_init(), FG_OK);
    struct fg_test_server s;
    struct bank_staff b;
    const char *const args[] = {"--set", "outbox.sink=file", NULL};
    fg_test_server_start(&s, args);
    bank_staff_setup(&s, &b, 1, 1);
    struct person *auditor = BANK_P(&b, BANK_AUDITOR), *admin = BANK_P(&b, BANK_ADMIN);

    /* init: sys.initialized; no baseline yet (started uninitialised: no audit log) */
    json_t *list = events_named(auditor, "sys.initialized");
    assert_int_equal(json_array_size(list), 1);
    json_t *ev = json_array_get(list, 0);
    assert_string_equal(attr_str(ev, "suite"), "intl");
    assert_int_equal(json_integer_value(attr(ev, "threshold")), 1);
    json_decref(list);
    list = events_named(auditor, "config.changed");
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);

    /* seal on command, unseal: sys.sealed, sys.unsealed, the baseline config.changed */
    struct fg_client_response res;
    if (staff_post(admin, "/v1/sys/seal", "{}", &res) != 200)
        fail_msg("seal: %ld %s", res.status, res.body);
    fg_client_response_release(&res);
    bank_unseal(&s, &b);

    /* a changed setting: restart with it, unseal */
    assert_int_equal(fg_test_server_stop(&s), 0);
    add_set(&s, "monitor.memory_mb=32");
    fg_test_server_restart(&s);
    bank_unseal(&s, &b);

    /* offline rotation with the server stopped; then a restart with nothing changed */
    assert_int_equal(fg_test_server_stop(&s), 0);
    char in[BANK_SHARE_TEXT + 2], out[4096];
    snprintf(in, sizeof in, "%s\n", b.shares[0]);
    int code = bank_cli(&s, "keys rotate --purpose pii", in, out, sizeof out);
    if (code != 0)
        fail_msg("keys rotate: exit %d: %s", code, out);
    fg_test_server_restart(&s);
    bank_unseal(&s, &b);
    bank_staff_relogin(&s, &b, BANK_AUDITOR); /* seal and restarts ended every session */

    /* sys.sealed: on command by the administrator, and at every shutdown */
    list = events_named(auditor, "sys.sealed");
    assert_int_equal(count_with(list, "reason", "command"), 1);
    assert_int_equal(count_with(list, "reason", "shutdown"), 3); /* 2 server stops + the CLI */
    for (size_t i = 0; i < json_array_size(list); i++) {         /* a person on command */
        ev = json_array_get(list, i);
        const char *actor = json_string_value(json_object_get(ev, "actor"));
        int command = strcmp(attr_str(ev, "reason"), "command") == 0;
        assert_int_equal(strcmp(actor, "system") != 0, command);
        assert_string_not_equal(actor, "");
    }
    json_decref(list);

    /* sys.unsealed: three by shares over HTTP, one by the CLI */
    list = events_named(auditor, "sys.unsealed");
    assert_int_equal(count_with(list, "method", "shares"), 3);
    assert_int_equal(count_with(list, "method", "cli_shares"), 1);
    json_decref(list);

    /* config.changed: the baseline, then exactly monitor.memory_mb — names, never values */
    list = events_named(auditor, "config.changed");
    assert_int_equal(json_array_size(list), 2);
    ev = json_array_get(list, 0);
    assert_true(json_is_true(attr(ev, "baseline")));
    assert_string_equal(attr_str(ev, "settings"), "*");
    assert_true(json_integer_value(attr(ev, "count")) >= SETTINGS_MIN);
    assert_string_equal(json_string_value(json_object_get(ev, "actor")), "system");
    ev = json_array_get(list, 1);
    assert_true(json_is_false(attr(ev, "baseline")));
    assert_string_equal(attr_str(ev, "settings"), "monitor.memory_mb");
    assert_int_equal(json_integer_value(attr(ev, "count")), 1);
    assert_int_equal(json_object_size(json_object_get(ev, "attrs")), 3); /* no value, no more */
    char *text = json_dumps(json_object_get(ev, "attrs"), JSON_COMPACT);
    assert_non_null(text);
    assert_null(strstr(text, "32"));
    free(text);
    json_decref(list);

    /* the audit record of the change, in the same intent as the event */
    assert_int_equal(bank_audit_count(auditor, "config.changed", "ok", "system", NULL), 2);

    /* key.rotated from the offline CLI */
    list = events_named(auditor, "key.rotated");
    assert_int_equal(json_array_size(list), 1);
    ev = json_array_get(list, 0);
    assert_string_equal(attr_str(ev, "purpose"), "pii");
    assert_int_equal(json_integer_value(attr(ev, "version")), 2);
    json_decref(list);

    bank_staff_free(&b);
    assert_int_equal(fg_test_server_stop(&s), 0);
    fg_test_server_done(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_sys_events, fg_test_server_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, fg_test_server_teardown);
}
