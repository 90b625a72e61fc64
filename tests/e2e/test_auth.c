/*
 * End-to-end: authentication through the real server (issue #4; REQUIREMENTS AUTH-1, AUTH-2,
 * AUTH-5, AUTH-6, AUTH-7, WEB-4). The first administrator from init logs in with its one-time
 * password, is held to "change it first", changes it with a signed request; replays, altered
 * bodies and stale timestamps are refused; unknown users and wrong passwords get the same
 * answer; lockout, throttling and per-source limits; logout ends the session at once.
 */
#include "testutil.h"

#include <liboath/oath.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/encode.h"
#include "base/time.h"
#include "client/client.h"
#include "crypto/crypto.h"
#include "iam/replay.h"
#include "server.h"

/* ---- API.md request signing, as a client does it -------------------------------------- */

struct signer {
    uint8_t key[32];
    int64_t ts_shift;  /* seconds added to the timestamp (stale-timestamp tests) */
    char last[3][128]; /* the headers of the last signed request, for replays */
};

static fg_rc sign(void *ctx, const char *method, const char *path, const void *body,
                  size_t body_len, struct fg_client_headers *add)
{
    struct signer *s = ctx;
    if (strcmp(method, "GET") == 0)
        return FG_OK;
    uint8_t raw[16], sig[32];
    char nonce[32], ts[24], sig_text[64];
    if (fg_random(raw, sizeof raw) != FG_OK ||
        fg_base64url_encode(raw, sizeof raw, nonce, sizeof nonce) != FG_OK)
        return FG_ERR_INTERNAL;
    snprintf(ts, sizeof ts, "%lld", (long long)(time(NULL) + s->ts_shift));
    if (fg_request_signature(s->key, sizeof s->key, method, path, ts, nonce, body, body_len, sig) !=
            FG_OK ||
        fg_base64url_encode(sig, sizeof sig, sig_text, sizeof sig_text) != FG_OK)
        return FG_ERR_INTERNAL;
    snprintf(s->last[0], sizeof s->last[0], "X-Nonce: %s", nonce);
    snprintf(s->last[1], sizeof s->last[1], "X-Timestamp: %s", ts);
    snprintf(s->last[2], sizeof s->last[2], "X-Signature: %s", sig_text);
    for (int i = 0; i < 3; i++) {
        char *colon = strchr(s->last[i], ':');
        *colon = '\0';
        fg_rc rc = fg_client_headers_add(add, s->last[i], colon + 2);
        *colon = ':';
        if (rc)
            return rc;
    }
    return FG_OK;
}

/* ---- helpers ---------------------------------------------------------------------------- */

struct admin {
    char username[32];
    char password[64];
    char shares[3][128];
};

static void init_instance(struct fg_client *c, struct admin *a)
{
    json_t *body = json_pack("{s:i, s:i}", "shares", 3, "threshold", 2);
    struct fg_client_response res;
    assert_int_equal(fg_client_post_json(c, "/v1/sys/init", body, &res), FG_OK);
    json_decref(body);
    assert_int_equal(res.status, 200);
    json_t *admin = json_object_get(res.json, "admin");
    assert_non_null(admin);
    snprintf(a->username, sizeof a->username, "%s",
             json_string_value(json_object_get(admin, "username")));
    snprintf(a->password, sizeof a->password, "%s",
             json_string_value(json_object_get(admin, "password")));
    assert_string_equal(a->username, "admin");
    json_t *shares = json_object_get(res.json, "shares");
    for (size_t i = 0; i < 3; i++)
        snprintf(a->shares[i], sizeof a->shares[i], "%s",
                 json_string_value(json_array_get(shares, i)));
    assert_true(strlen(a->password) >= 12);
    fg_client_response_release(&res);
}

static long login(struct fg_client *c, const char *user, const char *pw, const char *device,
                  struct fg_client_response *res)
{
    json_t *body =
        json_pack("{s:s, s:s, s:s}", "username", user, "password", pw, "device_id", device);
    assert_int_equal(fg_client_post_json(c, "/v1/auth/login", body, res), FG_OK);
    json_decref(body);
    return res->status;
}

/* Log in and set up c with the session and a signer; returns the token's copy. */
static void session(struct fg_client *c, struct signer *s, const char *user, const char *pw,
                    const char *device, char token[64])
{
    struct fg_client_response res;
    assert_int_equal(login(c, user, pw, device, &res), 200);
    snprintf(token, 64, "%s", json_string_value(json_object_get(res.json, "token")));
    const char *key = json_string_value(json_object_get(res.json, "session_key"));
    size_t n = 0;
    assert_int_equal(fg_base64url_decode(key, strlen(key), s->key, sizeof s->key, &n), FG_OK);
    assert_int_equal(n, 32);
    fg_client_response_release(&res);
    assert_int_equal(fg_client_set_session(c, token, device), FG_OK);
    fg_client_set_signer(c, sign, s);
}

static long get(struct fg_client *c, const char *path, struct fg_client_response *res)
{
    fg_rc rc = fg_client_get(c, path, res);
    if (rc != FG_OK)
        fail_msg("GET %s: transport error: %s", path, fg_client_last_error(c));
    return res->status;
}

static long post_raw(struct fg_client *c, const char *path, const char *body,
                     const char *const *headers, struct fg_client_response *res)
{
    struct fg_client_request req = {.method = "POST",
                                    .path = path,
                                    .body = body,
                                    .body_len = body ? strlen(body) : 0,
                                    .content_type = "application/json",
                                    .headers = headers};
    fg_rc rc = fg_client_request(c, &req, res);
    if (rc != FG_OK)
        fail_msg("POST %s: transport error: %s", path, fg_client_last_error(c));
    return res->status;
}

static void expect(struct fg_client_response *res, long status, const char *code)
{
    if (res->status != status || (code && (!res->error_code || strcmp(res->error_code, code))))
        fail_msg("expected %ld %s, got %ld %s: %s", status, code ? code : "", res->status,
                 res->error_code ? res->error_code : "", res->body);
    fg_client_response_release(res);
}

static long count_audit(const struct fg_test_server *s, const char *where)
{
    char db[700], sql[256];
    snprintf(db, sizeof db, "%s/finguard.db", s->dir);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM audit_log WHERE %s", where);
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

/* The secret of an otpauth URI (base32 "secret=" parameter), decoded with liboath. */
static void uri_secret(const char *uri, char **secret, size_t *len)
{
    const char *p = strstr(uri, "secret=");
    assert_non_null(p);
    p += 7;
    size_t n = strcspn(p, "&");
    assert_int_equal(oath_base32_decode(p, n, secret, len), OATH_OK);
}

/* The TOTP code for now + shift_steps × 30 s, computed by liboath (independent of the server). */
static void totp_now(const char *secret, size_t len, int shift_steps, char code[7])
{
    assert_int_equal(oath_totp_generate(secret, len, time(NULL) + shift_steps * 30, 30, 0, 6, code),
                     OATH_OK);
}

/* Sleep into the next 30-second TOTP step (a step once accepted never counts again). */
static void next_step(void)
{
    long wait = 30 - (long)(time(NULL) % 30) + 1;
    sleep((unsigned)wait);
}

static long post_code(struct fg_client *c, const char *path, const char *code,
                      struct fg_client_response *res)
{
    char body[64];
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    return post_raw(c, path, body, NULL, res);
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_first_admin_password_change_and_replay(void **state)
{
    (void)state;
    struct fg_test_server s;
    fg_test_server_start(&s, NULL);
    struct fg_client *c, *anon;
    fg_test_server_client(&s, &c);
    fg_test_server_client(&s, &anon);
    struct admin a;
    init_instance(anon, &a);

    /* unknown user and wrong password: byte-identical answers */
    struct fg_client_response r1, r2;
    assert_int_equal(login(anon, "nobody-here", "Whatever-123456", "dev-x", &r1), 401);
    assert_int_equal(login(anon, "admin", "Wrong-password-123", "dev-x", &r2), 401);
    assert_int_equal(r1.body_len, r2.body_len);
    assert_memory_equal(r1.body, r2.body, r1.body_len);
    fg_client_response_release(&r1);
    fg_client_response_release(&r2);

    struct signer sg = {0};
    char token[64];
    struct fg_client_response res;
    assert_int_equal(login(anon, "admin", a.password, "dev-1", &res), 200);
    assert_true(json_is_true(json_object_get(res.json, "must_change_password")));
    assert_string_equal(json_string_value(json_object_get(res.json, "mfa_required")), "enroll");
    assert_int_equal(strlen(json_string_value(json_object_get(res.json, "token"))), 43);
    fg_client_response_release(&res);
    session(c, &sg, "admin", a.password, "dev-1", token);

    /* no session, or the token from another device: 401; held to "change it first": 403 */
    get(anon, "/v1/keys", &res);
    expect(&res, 401, "unauthenticated");
    struct fg_client *other;
    fg_test_server_client(&s, &other);
    assert_int_equal(fg_client_set_session(other, token, "dev-2"), FG_OK);
    get(other, "/v1/keys", &res);
    expect(&res, 401, "unauthenticated");
    fg_client_free(other);
    get(c, "/v1/keys", &res);
    expect(&res, 403, "password_change_required");

    /* unsigned state change: 401; weak new password: 422 naming the field */
    char body[256];
    snprintf(body, sizeof body, "{\"old_password\":\"%s\",\"new_password\":\"password\"}",
             a.password);
    fg_client_set_signer(c, NULL, NULL);
    post_raw(c, "/v1/auth/password", body, NULL, &res);
    expect(&res, 401, "unauthenticated");
    fg_client_set_signer(c, sign, &sg);
    post_raw(c, "/v1/auth/password", body, NULL, &res);
    assert_string_equal(res.error_field, "new_password");
    expect(&res, 422, "policy_violation");

    /* the real change; then its exact replay, a changed body under the old signature, and a
     * timestamp 301 s off are all refused */
    const char *new_pw = "Vq7#rTz9!mKw2Lp";
    snprintf(body, sizeof body, "{\"old_password\":\"%s\",\"new_password\":\"%s\"}", a.password,
             new_pw);
    post_raw(c, "/v1/auth/password", body, NULL, &res);
    expect(&res, 200, NULL);
    char captured[3][128];
    memcpy(captured, sg.last, sizeof captured);
    const char *const replay[] = {captured[0], captured[1], captured[2], NULL};
    fg_client_set_signer(c, NULL, NULL);
    post_raw(c, "/v1/auth/password", body, replay, &res);
    expect(&res, 401, "unauthenticated");
    char altered[256];
    snprintf(altered, sizeof altered, "{\"old_password\":\"%s\",\"new_password\":\"X%s\"}", new_pw,
             new_pw);
    post_raw(c, "/v1/auth/password", altered, replay, &res);
    expect(&res, 401, "unauthenticated");
    fg_client_set_signer(c, sign, &sg);
    sg.ts_shift = 301;
    post_raw(c, "/v1/auth/password", altered, NULL, &res);
    expect(&res, 401, "unauthenticated");
    sg.ts_shift = -301;
    post_raw(c, "/v1/auth/password", altered, NULL, &res);
    expect(&res, 401, "unauthenticated");
    sg.ts_shift = 0;

    /* staff must complete MFA before anything else: enrol TOTP, confirm with a first code */
    get(c, "/v1/keys", &res);
    expect(&res, 403, "mfa_required");
    post_raw(c, "/v1/auth/totp/enroll", NULL, NULL, &res);
    assert_int_equal(res.status, 200);
    char uri[512];
    snprintf(uri, sizeof uri, "%s", json_string_value(json_object_get(res.json, "otpauth_uri")));
    fg_client_response_release(&res);
    assert_non_null(strstr(uri, "otpauth://totp/"));
    char *secret = NULL;
    size_t secret_len = 0;
    uri_secret(uri, &secret, &secret_len);
    assert_int_equal(secret_len, 20); /* 160-bit secret */
    char code[7], wrong[7];
    totp_now(secret, secret_len, 0, code);
    totp_now(secret, secret_len, -2, wrong); /* T−2: outside the accepted window */
    post_code(c, "/v1/auth/totp/confirm", strcmp(wrong, code) ? wrong : "000000", &res);
    expect(&res, 401, "unauthenticated");
    post_code(c, "/v1/auth/totp/confirm", code, &res);
    expect(&res, 200, NULL);
    get(c, "/v1/keys", &res);
    assert_int_equal(res.status, 200);
    assert_int_equal(json_array_size(json_object_get(res.json, "keys")), 7);
    assert_null(strstr(res.body, "key\":\"")); /* purposes and states, never material */
    fg_client_response_release(&res);
    /* a code accepted once is refused the second time */
    post_code(c, "/v1/auth/mfa", code, &res);
    expect(&res, 401, "unauthenticated");
    /* a second login must complete MFA with a fresh code (the next step) */
    struct fg_client *c2;
    struct signer sg2 = {0};
    char token2[64];
    fg_test_server_client(&s, &c2);
    session(c2, &sg2, "admin", new_pw, "dev-4", token2);
    get(c2, "/v1/keys", &res);
    expect(&res, 403, "mfa_required");
    next_step();
    totp_now(secret, secret_len, 0, code);
    post_code(c2, "/v1/auth/mfa", code, &res);
    expect(&res, 200, NULL);
    get(c2, "/v1/keys", &res);
    expect(&res, 200, NULL);
    fg_client_free(c2);
    free(secret);

    /* the anti-phishing phrase (AUTH-9): set once, shown at every later login */
    const char *phrase = "blue heron over the quiet lake";
    char pbody[128];
    snprintf(pbody, sizeof pbody, "{\"reserved_phrase\":\"%s\"}", phrase);
    post_raw(c, "/v1/auth/phrase", pbody, NULL, &res);
    expect(&res, 200, NULL);
    assert_int_equal(login(anon, "admin", new_pw, "dev-5", &res), 200);
    assert_string_equal(json_string_value(json_object_get(res.json, "reserved_phrase")), phrase);
    fg_client_response_release(&res);

    /* the one-time password is gone; the new one works; logout ends the session at once */
    assert_int_equal(login(anon, "admin", a.password, "dev-1", &res), 401);
    fg_client_response_release(&res);
    assert_int_equal(login(anon, "admin", new_pw, "dev-3", &res), 200);
    fg_client_response_release(&res);
    post_raw(c, "/v1/auth/logout", NULL, NULL, &res);
    expect(&res, 200, NULL);
    get(c, "/v1/keys", &res);
    expect(&res, 401, "unauthenticated");

    /* seal on command (security_admin): every route but health/init/unseal answers 503,
     * every session ends, k shares unseal again */
    struct fg_client *c3;
    struct signer sg3 = {0};
    char token3[64];
    fg_test_server_client(&s, &c3);
    session(c3, &sg3, "admin", new_pw, "dev-6", token3);
    next_step(); /* a TOTP step not used before */
    uri_secret(uri, &secret, &secret_len);
    totp_now(secret, secret_len, 0, code);
    free(secret);
    post_code(c3, "/v1/auth/mfa", code, &res);
    expect(&res, 200, NULL);
    post_raw(c3, "/v1/sys/seal", NULL, NULL, &res);
    expect(&res, 200, NULL);
    get(anon, "/v1/health", &res);
    assert_true(json_is_true(json_object_get(res.json, "sealed")));
    fg_client_response_release(&res);
    get(c3, "/v1/keys", &res);
    expect(&res, 503, "sealed");
    assert_int_equal(login(anon, "admin", new_pw, "dev-7", &res), 503);
    fg_client_response_release(&res);
    for (int i = 0; i < 2; i++) {
        char ub[192];
        snprintf(ub, sizeof ub, "{\"share\":\"%s\"}", a.shares[i]);
        post_raw(anon, "/v1/sys/unseal", ub, NULL, &res);
        expect(&res, 200, NULL);
    }
    get(c3, "/v1/keys", &res); /* unsealed, but the session ended with the seal */
    expect(&res, 401, "unauthenticated");
    assert_int_equal(login(anon, "admin", new_pw, "dev-8", &res), 200);
    fg_client_response_release(&res);
    fg_client_free(c3);

    fg_client_free(c);
    fg_client_free(anon);
    assert_int_equal(fg_test_server_stop(&s), 0);
    /* audited, and no password anywhere on disk or in the logs */
    assert_true(count_audit(&s, "action = 'auth.login' AND result = 'ok'") >= 3);
    assert_true(count_audit(&s, "action = 'auth.login' AND result = 'denied'") >= 3);
    assert_true(count_audit(&s, "action = 'access.denied'") >= 4);
    assert_int_equal(count_audit(&s, "action = 'auth.password_change' AND result = 'ok'"), 1);
    assert_int_equal(count_audit(&s, "action = 'sys.seal' AND details LIKE '%command%'"), 1);
    assert_int_equal(count_audit(&s, "action = 'sys.unseal'"), 1);
    assert_int_equal(fg_test_server_grep(&s, a.password, strlen(a.password)), 0);
    assert_int_equal(fg_test_server_grep(&s, new_pw, strlen(new_pw)), 0);
    assert_int_equal(fg_test_server_grep(&s, token, strlen(token)), 0);
    assert_int_equal(fg_test_server_grep(&s, uri, strlen(uri)), 0); /* the TOTP secret */
    assert_int_equal(fg_test_server_grep(&s, "blue heron", 10), 0); /* stored encrypted */
    fg_test_server_done(&s);
}

/* Move the server's wall clock (diagnostics clock, loopback + probe only). */
static void server_clock(struct fg_client *c, int64_t offset_s)
{
    json_t *body = json_pack("{s:I}", "offset_s", (json_int_t)offset_s);
    struct fg_client_response res;
    assert_int_equal(fg_client_post_json(c, "/v1/diag/clock", body, &res), FG_OK);
    json_decref(body);
    assert_int_equal(res.status, 200);
    fg_client_response_release(&res);
}

static void test_lockout_and_throttle(void **state)
{
    (void)state;
    struct fg_test_server s;
    static const char *const probe[] = {"--set", "diag.write_probe=true", NULL};
    fg_test_server_start(&s, probe);
    struct fg_client *c;
    fg_test_server_client(&s, &c);
    struct admin a;
    init_instance(c, &a);
    struct fg_client_response res;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(login(c, "admin", "Wrong-password-1", "dev-l", &res), 401);
        fg_client_response_release(&res);
    }
    /* from the 3rd failure on, the next attempt must wait (1 s, then 2 s …) */
    assert_int_equal(login(c, "admin", a.password, "dev-l", &res), 429);
    assert_true(strlen(res.retry_after) > 0);
    fg_client_response_release(&res);
    usleep(1100 * 1000);
    assert_int_equal(login(c, "admin", "Wrong-password-1", "dev-l", &res), 401);
    fg_client_response_release(&res);
    usleep(2100 * 1000);
    assert_int_equal(login(c, "admin", "Wrong-password-1", "dev-l", &res), 401); /* 5th: locks */
    fg_client_response_release(&res);
    /* locked: even the right password is refused */
    assert_int_equal(login(c, "admin", a.password, "dev-l", &res), 423);
    assert_string_equal(res.error_code, "locked");
    fg_client_response_release(&res);
    /* for 30 minutes (iam.lockout_minutes): still locked at +29 min, free at +31 min */
    server_clock(c, 29 * 60);
    assert_int_equal(login(c, "admin", a.password, "dev-l", &res), 423);
    fg_client_response_release(&res);
    server_clock(c, 31 * 60);
    assert_int_equal(login(c, "admin", a.password, "dev-l", &res), 200);
    fg_client_response_release(&res);
    server_clock(c, 0);
    fg_client_free(c);
    assert_int_equal(fg_test_server_stop(&s), 0);
    fg_test_server_done(&s);
}

static void test_stuffing_from_one_source(void **state)
{
    (void)state;
    struct fg_test_server s;
    fg_test_server_start(&s, NULL);
    struct fg_client *c;
    fg_test_server_client(&s, &c);
    struct admin a;
    init_instance(c, &a);
    struct fg_client_response res;
    int limited = 0, first_limited = -1;
    for (int i = 0; i < 200; i++) { /* 100 usernames, new device each time: the IP is the key */
        char user[32], device[32];
        snprintf(user, sizeof user, "user%03d", i % 100);
        snprintf(device, sizeof device, "stuffer-%d", i);
        long st = login(c, user, "Spring2024!!x", device, &res);
        if (st == 429) {
            limited++;
            if (first_limited < 0)
                first_limited = i;
        } else {
            assert_int_equal(st, 401);
        }
        fg_client_response_release(&res);
    }
    assert_int_equal(first_limited, 20); /* FG_IAM_SOURCE_FAILURES_MAX */
    assert_int_equal(limited, 180);
    /* the source stays refused, whoever it claims to be */
    assert_int_equal(login(c, "admin", a.password, "fresh-device", &res), 429);
    fg_client_response_release(&res);
    /* another source address is unaffected */
    struct fg_client *other;
    struct fg_client_options oo = {
        .base_url = s.base_url, .ca_file = s.ca_file, .source_address = "127.0.0.2"};
    assert_int_equal(fg_client_new(&oo, &other), FG_OK);
    assert_int_equal(login(other, "admin", a.password, "other-device", &res), 200);
    fg_client_response_release(&res);
    fg_client_free(other);
    fg_client_free(c);
    assert_int_equal(fg_test_server_stop(&s), 0);
    /* every refusal is in the audit chain: 20 bad credentials, 181 source-limited */
    assert_int_equal(count_audit(&s, "action = 'auth.login' AND result = 'denied' AND "
                                     "error_code = 'FG_ERR_RATE_LIMITED'"),
                     181);
    assert_int_equal(count_audit(&s, "action = 'auth.login' AND result = 'denied' AND "
                                     "error_code = 'FG_ERR_UNAUTHENTICATED'"),
                     20);
    fg_test_server_done(&s);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Unknown user and wrong password: the same bytes and, over 50 of each, medians within 10 %.
 * The server clock moves 31 min before each pair so no throttle, lock or source limit
 * changes the answer (each would be a different, faster response). A round runs the pairs
 * interleaved; on a machine busy with other tests a burst of load can still skew one round,
 * so up to ROUNDS rounds are measured: a real difference in the server's work shows in every
 * round, and the test fails only if no round is within 10 %. */
static double failure_medians_diff(struct fg_client *c, int round, char first[512])
{
    enum { N = 50 };
    uint64_t unknown_ns[N], wrong_ns[N];
    for (int i = 0; i < N; i++) {
        server_clock(c, (int64_t)(round * N + i + 1) * 31 * 60);
        for (int k = 0; k < 2; k++) {
            int unknown = (i + k) % 2 == 0; /* alternate which goes first */
            struct fg_client_response res;
            uint64_t t0 = fg_time_mono_ns();
            long st =
                login(c, unknown ? "nobody-at-all" : "admin", "Wrong-password-77", "dev-t", &res);
            uint64_t dt = fg_time_mono_ns() - t0;
            assert_int_equal(st, 401);
            if (first[0] == '\0')
                snprintf(first, 512, "%s", res.body);
            assert_string_equal(res.body, first); /* byte-identical, every time */
            (unknown ? unknown_ns : wrong_ns)[i] = dt;
            fg_client_response_release(&res);
        }
    }
    qsort(unknown_ns, N, sizeof unknown_ns[0], cmp_u64);
    qsort(wrong_ns, N, sizeof wrong_ns[0], cmp_u64);
    double mu = (double)unknown_ns[N / 2], mw = (double)wrong_ns[N / 2];
    double diff = mu > mw ? (mu - mw) / mw : (mw - mu) / mu;
    fprintf(stderr, "round %d: median unknown-user %.2f ms, wrong-password %.2f ms (%.1f %%)\n",
            round + 1, mu / 1e6, mw / 1e6, diff * 100);
    return diff;
}

static void test_uniform_failures(void **state)
{
    (void)state;
    enum { ROUNDS = 3 };
    struct fg_test_server s;
    static const char *const probe[] = {"--set", "diag.write_probe=true", NULL};
    fg_test_server_start(&s, probe);
    struct fg_client *c;
    fg_test_server_client(&s, &c);
    struct admin a;
    init_instance(c, &a);
    char first[512] = "";
    double best = 1e9;
    for (int round = 0; round < ROUNDS && best > 0.10; round++) {
        double diff = failure_medians_diff(c, round, first);
        best = diff < best ? diff : best;
    }
    assert_true(best <= 0.10);
    server_clock(c, 0);
    fg_client_free(c);
    assert_int_equal(fg_test_server_stop(&s), 0);
    fg_test_server_done(&s);
}

int main(void)
{
    assert_int_equal(fg_crypto_init(), FG_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_first_admin_password_change_and_replay,
                                  fg_test_server_teardown),
        cmocka_unit_test_teardown(test_lockout_and_throttle, fg_test_server_teardown),
        cmocka_unit_test_teardown(test_stuffing_from_one_source, fg_test_server_teardown),
        cmocka_unit_test_teardown(test_uniform_failures, fg_test_server_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
