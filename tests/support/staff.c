/*
 * staff.c — see staff.h.
 */
#include "staff.h"

#include "testutil.h"

#include <liboath/oath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/encode.h"
#include "crypto/crypto.h"
#include "iam/replay.h"

fg_rc staff_sign(void *ctx, const char *method, const char *path, const void *body, size_t body_len,
                 struct fg_client_headers *add)
{
    struct signer *s = ctx;
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return FG_OK;
    uint8_t raw[16], sig[32];
    char nonce[32], ts[24], sig_text[64];
    if (fg_random(raw, sizeof raw) != FG_OK ||
        fg_base64url_encode(raw, sizeof raw, nonce, sizeof nonce) != FG_OK)
        return FG_ERR_INTERNAL;
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    if (fg_request_signature(s->key, sizeof s->key, method, path, ts, nonce, body, body_len, sig) !=
            FG_OK ||
        fg_base64url_encode(sig, sizeof sig, sig_text, sizeof sig_text) != FG_OK)
        return FG_ERR_INTERNAL;
    fg_rc rc = fg_client_headers_add(add, "X-Nonce", nonce);
    if (rc == FG_OK)
        rc = fg_client_headers_add(add, "X-Timestamp", ts);
    if (rc == FG_OK)
        rc = fg_client_headers_add(add, "X-Signature", sig_text);
    return rc;
}

void staff_expect(struct fg_client_response *res, long status, const char *code)
{
    if (res->status != status || (code && (!res->error_code || strcmp(res->error_code, code))))
        fail_msg("expected %ld %s, got %ld %s: %s", status, code ? code : "", res->status,
                 res->error_code ? res->error_code : "", res->body);
    fg_client_response_release(res);
}

long staff_post(struct person *p, const char *path, const char *json_text,
                struct fg_client_response *res)
{
    json_error_t jerr;
    json_t *body = json_loads(json_text, 0, &jerr);
    if (body == NULL)
        fail_msg("bad test JSON %s: %s", json_text, jerr.text);
    assert_int_equal(fg_client_post_json(p->c, path, body, res), FG_OK);
    json_decref(body);
    return res->status;
}

long staff_get(struct person *p, const char *path, struct fg_client_response *res)
{
    assert_int_equal(fg_client_get(p->c, path, res), FG_OK);
    return res->status;
}

const char *staff_str(const struct fg_client_response *res, const char *key)
{
    const char *v = json_string_value(json_object_get(res->json, key));
    if (v == NULL)
        fail_msg("no \"%s\" in %s", key, res->body);
    return v ? v : ""; /* fail_msg does not return, but is not declared noreturn */
}

void staff_login(const struct fg_test_server *s, struct person *p, int must_change)
{
    if (p->c == NULL)
        fg_test_server_client(s, &p->c);
    assert_int_equal(fg_client_set_session(p->c, NULL, NULL), FG_OK);
    fg_client_set_signer(p->c, NULL, NULL);
    char body[256];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\",\"device_id\":\"%s\"}",
             p->username, p->password, p->device);
    struct fg_client_response res;
    if (staff_post(p, "/v1/auth/login", body, &res) != 200)
        fail_msg("login %s: %ld %s", p->username, res.status, res.body);
    assert_int_equal(json_is_true(json_object_get(res.json, "must_change_password")), must_change);
    const char *key = staff_str(&res, "session_key");
    size_t n = 0;
    assert_int_equal(fg_base64url_decode(key, strlen(key), p->sg.key, sizeof p->sg.key, &n), FG_OK);
    assert_int_equal(n, 32);
    if (p->user_id[0] == '\0' && json_object_get(res.json, "user_id") != NULL)
        snprintf(p->user_id, sizeof p->user_id, "%s", staff_str(&res, "user_id"));
    assert_int_equal(fg_client_set_session(p->c, staff_str(&res, "token"), p->device), FG_OK);
    fg_client_set_signer(p->c, staff_sign, &p->sg);
    fg_client_response_release(&res);
}

void staff_change_password(struct person *p, const char *new_pw)
{
    char body[256];
    snprintf(body, sizeof body, "{\"old_password\":\"%s\",\"new_password\":\"%s\"}", p->password,
             new_pw);
    struct fg_client_response res;
    staff_post(p, "/v1/auth/password", body, &res);
    staff_expect(&res, 200, NULL);
    snprintf(p->password, sizeof p->password, "%s", new_pw);
}

void staff_totp_code(const struct person *p, time_t at, char code[8])
{
    assert_int_equal(oath_totp_generate((const char *)p->totp, p->totp_len, at, 30, 0, 6, code),
                     OATH_OK);
}

void staff_enrol_totp(struct person *p)
{
    struct fg_client_response res;
    assert_int_equal(staff_post(p, "/v1/auth/totp/enroll", "{}", &res), 200);
    const char *uri = staff_str(&res, "otpauth_uri");
    const char *sec = strstr(uri, "secret=");
    assert_non_null(sec);
    sec += 7;
    size_t len = strcspn(sec, "&");
    char *raw = NULL;
    size_t raw_len = 0;
    assert_int_equal(oath_base32_decode(sec, len, &raw, &raw_len), OATH_OK);
    assert_true(raw_len <= sizeof p->totp);
    memcpy(p->totp, raw, raw_len);
    p->totp_len = raw_len;
    free(raw);
    fg_client_response_release(&res);
    char code[8], body[64];
    staff_totp_code(p, time(NULL), code);
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    staff_post(p, "/v1/auth/totp/confirm", body, &res);
    staff_expect(&res, 200, NULL);
}

void staff_onboard(const struct fg_test_server *s, struct person *p, const char *new_pw)
{
    staff_login(s, p, 1);
    struct fg_client_response res;
    staff_get(p, "/v1/approvals", &res);
    staff_expect(&res, 403, "password_change_required");
    staff_change_password(p, new_pw);
    staff_enrol_totp(p);
}

void staff_outbox_password(const struct fg_test_server *s, const char *to, char out[64])
{
    char path[700];
    snprintf(path, sizeof path, "%s/outbox.jsonl", s->dir);
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
            strcmp(json_string_value(json_object_get(m, "purpose")), "staff_password") == 0) {
            assert_non_null(code);
            assert_null(strstr(json_string_value(json_object_get(m, "text")), code));
            snprintf(out, 64, "%s", code);
        }
        json_decref(m);
    }
    free(text);
    if (out[0] == '\0')
        fail_msg("no staff_password for %s in the outbox", to);
    assert_int_equal(strlen(out), 20);
}
