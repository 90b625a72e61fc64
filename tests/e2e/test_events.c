/*
 * End-to-end: the security events of issue #6 through the real server (REQUIREMENTS MON-1,
 * MON-5, AUTH-7, INC-2, DATA-6; docs/events.md, docs/API.md "Events").
 *
 *   emitted   each event the identity, HTTP, approval, statement and audit paths emit is
 *             driven through the server and read back with GET /v1/events: login.failed for
 *             an unknown user (attrs.target "h:" + 16 nibbles a..p, the typed name nowhere in the
 *             database or the logs), login.failed for a known one (attrs.user), login.succeeded,
 *             auth.bad_signature, auth.replay, session.device_mismatch, access.denied,
 *             user.created + approval.decided (the service user's four-eyes creation),
 *             role.granted, statement.read by staff (and nothing for the customer's own
 *             read), audit.verified ok.
 *   intake    POST /v1/events by the `service` role: 3 good + 2 bad → accepted 3, rejected
 *             2 with index and reason, stored with attrs.origin "external"; 1 001 events →
 *             413; an unknown top-level member → 400; any other role → 403; GET /v1/events
 *             filters (name, user, ip, account, customer, since/until, after, limit) and bad
 *             parameters → 400.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "bank.h"
#include "base/encode.h"
#include "crypto/crypto.h"
#include "iam/replay.h"
#include "server.h"
#include "staff.h"

/* A name nobody has: it must never be stored (people type passwords into the user field). */
#define UNKNOWN_NAME "zq-secret-name-4711"
/* Its target: "h:" + the first 16 nibbles (a..p) of SHA-256("zq-secret-name-4711"), computed below.
 */

struct events_env {
    struct fg_test_server s;
    struct bank_staff b;
    struct person service;
    char service_id[64];
};

/* ---- helpers -------------------------------------------------------------------------------- */

/* GET /v1/events?query as p → the "events" array (caller decrefs). */
static json_t *events(struct person *p, const char *query)
{
    char path[512];
    snprintf(path, sizeof path, "/v1/events%s%s", query[0] ? "?" : "", query);
    struct fg_client_response res;
    if (staff_get(p, path, &res) != 200)
        fail_msg("GET %s: %ld %s", path, res.status, res.body);
    json_t *list = json_incref(json_object_get(res.json, "events"));
    assert_non_null(list);
    fg_client_response_release(&res);
    return list;
}

static const char *attr(const json_t *ev, const char *name)
{
    return json_string_value(json_object_get(json_object_get(ev, "attrs"), name));
}

/* The newest event in list whose attrs.<name> equals value (name NULL: the newest). */
static json_t *newest(json_t *list, const char *name, const char *value)
{
    for (size_t i = json_array_size(list); i-- > 0;) {
        json_t *ev = json_array_get(list, i);
        const char *v = name ? attr(ev, name) : NULL;
        if (name == NULL || (v != NULL && strcmp(v, value) == 0))
            return ev;
    }
    return NULL;
}

static long anon_login(const struct fg_test_server *s, const char *user, const char *pw,
                       const char *device, struct fg_client_response *res)
{
    struct fg_client *c;
    fg_test_server_client(s, &c);
    json_t *j = json_pack("{s:s, s:s, s:s}", "username", user, "password", pw, "device_id", device);
    assert_int_equal(fg_client_post_json(c, "/v1/auth/login", j, res), FG_OK);
    json_decref(j);
    fg_client_free(c);
    return res->status;
}

/* The service user through four eyes (user.created, approval.decided). */
static void make_service(struct events_env *t)
{
    struct person *a = BANK_P(&t->b, BANK_ADMIN), *a2 = BANK_P(&t->b, BANK_ADMIN2);
    struct person *p = &t->service;
    snprintf(p->username, sizeof p->username, "intake1");
    snprintf(p->device, sizeof p->device, "intake1-dev");
    snprintf(p->contact, sizeof p->contact, "intake1@bank.example");
    struct fg_client_response res;
    char body[256], path[128];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"roles\":[\"service\"],\"contact\":\"%s\"}",
             p->username, p->contact);
    if (staff_post(a, "/v1/users", body, &res) != 202)
        fail_msg("request service: %ld %s", res.status, res.body);
    snprintf(path, sizeof path, "/v1/approvals/%s/approve", staff_str(&res, "approval_id"));
    fg_client_response_release(&res);
    if (staff_post(a2, path, "{\"reason\":\"event intake\"}", &res) != 200)
        fail_msg("approve service: %ld %s", res.status, res.body);
    snprintf(t->service_id, sizeof t->service_id, "%s", staff_str(&res, "user_id"));
    fg_client_response_release(&res);
    staff_outbox_password(&t->s, p->contact, p->password);
    staff_onboard(&t->s, p, "Svc-intake-pass-7kQ#v2");
}

static struct events_env *setup(void)
{
    struct events_env *t = calloc(1, sizeof *t);
    assert_non_null(t);
    assert_int_equal(fg_crypto_init(), FG_OK);
    const char *const args[] = {"--set", "outbox.sink=file", "--set", "iam.customer_mfa=optional",
                                NULL};
    fg_test_server_start(&t->s, args);
    bank_staff_setup(&t->s, &t->b, 1, 1);
    make_service(t);
    return t;
}

static void teardown(struct events_env *t)
{
    bank_staff_free(&t->b);
    fg_client_free(t->service.c);
    assert_int_equal(fg_test_server_stop(&t->s), 0);
    fg_test_server_done(&t->s);
    free(t);
}

/* ---- signed requests we control: a bad signature and a replay ----------------------------- */

struct capture {
    struct signer *sg;
    char lines[3][128]; /* the headers of the last signed request */
};

static fg_rc capture_sign(void *ctx, const char *method, const char *path, const void *body,
                          size_t body_len, struct fg_client_headers *add)
{
    struct capture *cp = ctx;
    uint8_t raw[16], sig[32];
    char nonce[32], ts[24], sig_text[64];
    if (fg_random(raw, sizeof raw) != FG_OK ||
        fg_base64url_encode(raw, sizeof raw, nonce, sizeof nonce) != FG_OK)
        return FG_ERR_INTERNAL;
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    if (fg_request_signature(cp->sg->key, sizeof cp->sg->key, method, path, ts, nonce, body,
                             body_len, sig) != FG_OK ||
        fg_base64url_encode(sig, sizeof sig, sig_text, sizeof sig_text) != FG_OK)
        return FG_ERR_INTERNAL;
    snprintf(cp->lines[0], sizeof cp->lines[0], "X-Nonce: %s", nonce);
    snprintf(cp->lines[1], sizeof cp->lines[1], "X-Timestamp: %s", ts);
    snprintf(cp->lines[2], sizeof cp->lines[2], "X-Signature: %s", sig_text);
    fg_rc rc = fg_client_headers_add(add, "X-Nonce", nonce);
    if (rc == FG_OK)
        rc = fg_client_headers_add(add, "X-Timestamp", ts);
    if (rc == FG_OK)
        rc = fg_client_headers_add(add, "X-Signature", sig_text);
    return rc;
}

static long post_raw(struct fg_client *c, const char *path, const char *body,
                     const char *const *headers, struct fg_client_response *res)
{
    struct fg_client_request req = {.method = "POST",
                                    .path = path,
                                    .body = body,
                                    .body_len = strlen(body),
                                    .content_type = "application/json",
                                    .headers = headers};
    assert_int_equal(fg_client_request(c, &req, res), FG_OK);
    return res->status;
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_emitted_events(void **state)
{
    (void)state;
    struct events_env *t = setup();
    struct person *officer = BANK_P(&t->b, BANK_OFFICER);
    struct person *auditor = BANK_P(&t->b, BANK_AUDITOR);
    struct person *teller = BANK_P(&t->b, BANK_TELLER);
    struct fg_client_response res;

    /* user.created + approval.decided of the service user (actor = the approver) */
    json_t *list = events(officer, "name=user.created");
    json_t *ev = newest(list, "user", t->service_id);
    assert_non_null(ev);
    assert_string_equal(attr(ev, "roles"), "service");
    assert_string_equal(attr(ev, "kind"), "staff");
    json_decref(list);
    list = events(officer, "name=approval.decided");
    ev = newest(list, "action", "users.create");
    assert_non_null(ev);
    assert_string_equal(attr(ev, "result"), "approved");
    assert_non_null(attr(ev, "requester"));
    assert_string_not_equal(attr(ev, "requester"),
                            json_string_value(json_object_get(ev, "actor"))); /* four eyes */
    json_decref(list);

    /* login.failed, unknown user: a hash of the name, never the name */
    assert_int_equal(anon_login(&t->s, UNKNOWN_NAME, "Pw-typed-as-name-1", "dev-x", &res), 401);
    fg_client_response_release(&res);
    char target[80];
    {
        uint8_t d[32];
        char hex[65];
        assert_int_equal(fg_hash(FG_HASH_SHA256, UNKNOWN_NAME, strlen(UNKNOWN_NAME), d), FG_OK);
        assert_int_equal(fg_hex_encode(d, 8, hex, sizeof hex), FG_OK);
        for (size_t i = 0; i < 16; i++) /* nibbles as a..p (event.h) */
            hex[i] = (char)('a' + (hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10));
        hex[16] = '\0';
        snprintf(target, sizeof target, "h:%s", hex);
    }
    list = events(officer, "name=login.failed");
    ev = newest(list, "target", target);
    assert_non_null(ev);
    assert_string_equal(attr(ev, "result"), "bad");
    assert_null(attr(ev, "user"));
    assert_string_equal(json_string_value(json_object_get(ev, "device")), "dev-x");
    assert_string_equal(json_string_value(json_object_get(ev, "ip")), "127.0.0.1");
    json_decref(list);

    /* login.failed, known user (wrong password); then login.succeeded */
    assert_int_equal(anon_login(&t->s, t->service.username, "Wrong-password-9!", "dev-y", &res),
                     401);
    fg_client_response_release(&res);
    list = events(officer, "name=login.failed");
    ev = newest(list, "user", t->service_id);
    assert_non_null(ev);
    assert_string_equal(attr(ev, "target"), t->service_id);
    assert_string_equal(attr(ev, "kind"), "staff");
    json_decref(list);
    char q[256];
    snprintf(q, sizeof q, "name=login.succeeded&user=%s", t->service_id);
    list = events(officer, q);
    assert_true(json_array_size(list) >= 1);
    ev = newest(list, NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(ev, "device")), t->service.device);
    assert_true(json_is_boolean(json_object_get(json_object_get(ev, "attrs"), "new_device")));
    json_decref(list);

    /* auth.bad_signature: a state-changing call with a forged signature */
    const char *intake = "{\"events\":[{\"name\":\"app.ping\"}]}";
    const char *const forged[] = {"X-Nonce: bm9uY2Vub25jZW5vbmNl", "X-Timestamp: 1700000000",
                                  "X-Signature: AAAA", NULL};
    fg_client_set_signer(t->service.c, NULL, NULL);
    assert_int_equal(post_raw(t->service.c, "/v1/events", intake, forged, &res), 401);
    fg_client_response_release(&res);
    /* auth.replay: the same signed request twice */
    struct capture cp = {.sg = &t->service.sg};
    fg_client_set_signer(t->service.c, capture_sign, &cp);
    assert_int_equal(post_raw(t->service.c, "/v1/events", intake, NULL, &res), 200);
    fg_client_response_release(&res);
    fg_client_set_signer(t->service.c, NULL, NULL);
    const char *const again[] = {cp.lines[0], cp.lines[1], cp.lines[2], NULL};
    assert_int_equal(post_raw(t->service.c, "/v1/events", intake, again, &res), 401);
    fg_client_response_release(&res);
    fg_client_set_signer(t->service.c, staff_sign, &t->service.sg);
    snprintf(q, sizeof q, "name=auth.bad_signature&user=%s", t->service_id);
    list = events(officer, q);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    snprintf(q, sizeof q, "name=auth.replay&user=%s", t->service_id);
    list = events(officer, q);
    assert_int_equal(json_array_size(list), 1);
    assert_non_null(attr(json_array_get(list, 0), "why"));
    json_decref(list);

    /* session.device_mismatch: the service's token from another device */
    assert_int_equal(anon_login(&t->s, t->service.username, t->service.password, "dev-z", &res),
                     200);
    char token[128];
    snprintf(token, sizeof token, "%s", staff_str(&res, "token"));
    fg_client_response_release(&res);
    struct fg_client *thief;
    fg_test_server_client(&t->s, &thief);
    assert_int_equal(fg_client_set_session(thief, token, "evil-device"), FG_OK);
    assert_int_equal(fg_client_get(thief, "/v1/events", &res), FG_OK);
    assert_int_equal(res.status, 401);
    fg_client_response_release(&res);
    fg_client_free(thief);
    list = events(officer, "name=session.device_mismatch");
    ev = newest(list, "user", t->service_id);
    assert_non_null(ev);
    assert_string_equal(json_string_value(json_object_get(ev, "device")), "evil-device");
    json_decref(list);

    /* access.denied: a teller asks for the audit log */
    assert_int_equal(staff_get(teller, "/v1/audit", &res), 403);
    fg_client_response_release(&res);
    list = events(officer, "name=access.denied");
    ev = newest(list, "permission", "audit.read");
    assert_non_null(ev);
    assert_string_equal(attr(ev, "route"), "/v1/audit");
    json_decref(list);

    /* statement.read: staff read a customer's statement; the customer's own read is silent */
    struct bank_customer *cu = calloc(1, sizeof *cu);
    assert_non_null(cu);
    bank_customer_new(&t->s, &t->b, cu, "Event Carol", 61, 1, 12345);
    snprintf(q, sizeof q, "/v1/accounts/%s/entries", cu->account[0]);
    assert_int_equal(bank_get(teller, q, &res), 200);
    fg_client_response_release(&res);
    assert_int_equal(bank_get(&cu->p, q, &res), 200);
    fg_client_response_release(&res);
    snprintf(q, sizeof q, "name=statement.read&account=%s", cu->account[0]);
    list = events(officer, q);
    assert_int_equal(json_array_size(list), 1); /* the teller's only */
    ev = json_array_get(list, 0);
    assert_string_equal(attr(ev, "customer"), cu->id);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ev, "attrs"), "rows")), 1);
    json_decref(list);
    snprintf(q, sizeof q, "name=statement.read&customer=%s", cu->id);
    list = events(auditor, q); /* the auditor may search too */
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);

    /* role.granted (+ approval.decided): security_officer for the supervisor */
    struct person *sup = BANK_P(&t->b, BANK_SUPERVISOR);
    list = events(officer, "name=login.succeeded&limit=500");
    const char *sup_id = NULL;
    for (size_t i = 0; i < json_array_size(list); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(list, i), "device")),
                   sup->device) == 0)
            sup_id = attr(json_array_get(list, i), "user");
    assert_non_null(sup_id);
    char sup_user[64];
    snprintf(sup_user, sizeof sup_user, "%s", sup_id);
    json_decref(list);
    char path[160];
    snprintf(path, sizeof path, "/v1/users/%s/roles", sup_user);
    if (staff_post(BANK_P(&t->b, BANK_ADMIN), path, "{\"grant\":[\"security_officer\"]}", &res) !=
        202)
        fail_msg("grant: %ld %s", res.status, res.body);
    snprintf(path, sizeof path, "/v1/approvals/%s/approve", staff_str(&res, "approval_id"));
    fg_client_response_release(&res);
    if (staff_post(BANK_P(&t->b, BANK_ADMIN2), path, "{}", &res) != 200)
        fail_msg("approve grant: %ld %s", res.status, res.body);
    fg_client_response_release(&res);
    snprintf(q, sizeof q, "name=role.granted&user=%s", sup_user);
    list = events(officer, q);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(attr(json_array_get(list, 0), "role"), "security_officer");
    json_decref(list);

    /* audit.verified ok */
    assert_int_equal(staff_post(auditor, "/v1/audit/verify", "{}", &res), 200);
    assert_true(json_is_true(json_object_get(res.json, "ok")));
    fg_client_response_release(&res);
    list = events(officer, "name=audit.verified");
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(attr(json_array_get(list, 0), "result"), "ok");
    json_decref(list);

    bank_customer_free(cu);
    free(cu);
    teardown(t);
    /* the typed name never reached the disk, the audit log or the logs */
    /* (checked after stop: the WAL is checkpointed into the file by then) */
}

static void test_unknown_name_never_stored(void **state)
{
    (void)state;
    struct fg_test_server s;
    memset(&s, 0, sizeof s);
    const char *const args[] = {"--set", "outbox.sink=file", NULL};
    fg_test_server_start(&s, args);
    struct bank_staff *b = calloc(1, sizeof *b);
    assert_non_null(b);
    bank_staff_setup(&s, b, 1, 1);
    struct fg_client_response res;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(anon_login(&s, UNKNOWN_NAME, "Pw-typed-as-name-1", "dev-x", &res), 401);
        fg_client_response_release(&res);
    }
    json_t *list = events(BANK_P(b, BANK_OFFICER), "name=login.failed");
    assert_true(json_array_size(list) >= 3);
    json_decref(list);
    bank_staff_free(b);
    free(b);
    assert_int_equal(fg_test_server_stop(&s), 0);
    assert_int_equal(bank_grep_db_and_logs(&s, UNKNOWN_NAME), 0);
    assert_int_equal(bank_grep_db_and_logs(&s, "Pw-typed-as-name-1"), 0);
    fg_test_server_done(&s);
}

/* POST /v1/events: good and bad events judged one by one (MON-5). */
static void test_intake(void **state)
{
    (void)state;
    struct events_env *t = setup();
    struct person *svc = &t->service, *officer = BANK_P(&t->b, BANK_OFFICER);
    struct fg_client_response res;
    char now[32];
    time_t tnow = time(NULL);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tnow));
    char body[2048];
    snprintf(body, sizeof body,
             "{\"events\":["
             "{\"name\":\"login.failed\",\"ip\":\"198.51.100.23\",\"result\":\"bad\","
             "\"time\":\"%s\",\"attrs\":{\"target\":\"root\",\"service\":\"sshd\"}},"
             "{\"name\":\"Bad Name\"},"
             "{\"name\":\"vpn.connected\",\"user\":\"u-ext-1\",\"ip\":\"198.51.100.24\"},"
             "{\"name\":\"x.y\",\"colour\":\"red\"},"
             "{\"name\":\"pay.sent\",\"account\":\"acc-ext-9\",\"amount\":1500,"
             "\"currency\":\"CNY\"}]}",
             now);
    assert_int_equal(staff_post(svc, "/v1/events", body, &res), 200);
    assert_int_equal(json_integer_value(json_object_get(res.json, "accepted")), 3);
    json_t *rej = json_object_get(res.json, "rejected");
    assert_int_equal(json_array_size(rej), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rej, 0), "index")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rej, 1), "index")), 3);
    const char *why = json_string_value(json_object_get(json_array_get(rej, 1), "reason"));
    assert_non_null(why);
    assert_non_null(strstr(why, "colour"));
    assert_null(strstr(why, "red")); /* never the value */
    fg_client_response_release(&res);

    json_t *list = events(officer, "ip=198.51.100.23");
    assert_int_equal(json_array_size(list), 1);
    json_t *ev = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(ev, "name")), "login.failed");
    assert_string_equal(attr(ev, "origin"), "external");
    assert_string_equal(attr(ev, "ingested_by"), t->service_id);
    assert_string_equal(attr(ev, "service"), "sshd");
    json_decref(list);
    list = events(officer, "user=u-ext-1");
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    list = events(officer, "account=acc-ext-9");
    assert_int_equal(json_array_size(list), 1);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_array_get(list, 0), "attrs"), "amount")),
                     1500);
    json_decref(list);

    /* all bad: still 200, accepted 0 */
    assert_int_equal(staff_post(svc, "/v1/events", "{\"events\":[{\"nom\":\"x\"}]}", &res), 200);
    assert_int_equal(json_integer_value(json_object_get(res.json, "accepted")), 0);
    fg_client_response_release(&res);
    /* the shape of the body */
    assert_int_equal(staff_post(svc, "/v1/events", "{\"events\":[],\"more\":1}", &res), 400);
    fg_client_response_release(&res);
    assert_int_equal(staff_post(svc, "/v1/events", "{\"events\":[]}", &res), 400);
    fg_client_response_release(&res);
    assert_int_equal(staff_post(svc, "/v1/events", "{\"events\":{}}", &res), 400);
    fg_client_response_release(&res);
    /* 1 001 events (about 30 KiB: under the body limit, over the batch limit) */
    size_t cap = 1001 * 24 + 64, used = 0;
    char *big = malloc(cap);
    assert_non_null(big);
    used += (size_t)snprintf(big + used, cap - used, "{\"events\":[");
    for (int i = 0; i < 1001; i++)
        used += (size_t)snprintf(big + used, cap - used, "%s{\"name\":\"a.b\"}", i ? "," : "");
    snprintf(big + used, cap - used, "]}");
    assert_int_equal(staff_post(svc, "/v1/events", big, &res), 413);
    fg_client_response_release(&res);
    /* exactly 1 000 pass */
    char *end = strstr(big + 11, "},{") + 2; /* drop the first event */
    char *k = malloc(cap);
    assert_non_null(k);
    snprintf(k, cap, "{\"events\":[%s", end);
    assert_int_equal(staff_post(svc, "/v1/events", k, &res), 200);
    assert_int_equal(json_integer_value(json_object_get(res.json, "accepted")), 1000);
    fg_client_response_release(&res);
    free(k);
    free(big);
    /* another role may not post; the service may not search */
    assert_int_equal(staff_post(officer, "/v1/events", "{\"events\":[{\"name\":\"a.b\"}]}", &res),
                     403);
    staff_expect(&res, 403, "permission_denied");
    assert_int_equal(staff_get(svc, "/v1/events", &res), 403);
    fg_client_response_release(&res);

    /* search parameters */
    struct fg_client_response r2;
    assert_int_equal(staff_get(officer, "/v1/events?name=a.b&limit=2", &r2), 200);
    assert_int_equal(json_array_size(json_object_get(r2.json, "events")), 2);
    json_int_t next = json_integer_value(json_object_get(r2.json, "next_after"));
    assert_true(next > 0);
    fg_client_response_release(&r2);
    char q[128];
    snprintf(q, sizeof q, "/v1/events?name=a.b&limit=500&after=%lld", (long long)next);
    assert_int_equal(staff_get(officer, q, &r2), 200);
    assert_int_equal(json_array_size(json_object_get(r2.json, "events")), 500);
    fg_client_response_release(&r2);
    snprintf(q, sizeof q, "/v1/events?since=%s", now);
    assert_int_equal(staff_get(officer, q, &r2), 200);
    fg_client_response_release(&r2);
    assert_int_equal(staff_get(officer, "/v1/events?until=2000-01-01T00%3A00%3A00Z", &r2), 200);
    assert_int_equal(json_array_size(json_object_get(r2.json, "events")), 0);
    fg_client_response_release(&r2);
    static const char *const bad[] = {"limit=0",         "limit=501", "after=-1",
                                      "since=yesterday", "ip=a%20b",  "name=%zz"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(q, sizeof q, "/v1/events?%s", bad[i]);
        assert_int_equal(staff_get(officer, q, &r2), 400);
        fg_client_response_release(&r2);
    }
    teardown(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emitted_events),
        cmocka_unit_test(test_unknown_name_never_stored),
        cmocka_unit_test(test_intake),
    };
    return cmocka_run_group_tests(tests, NULL, fg_test_server_teardown);
}
