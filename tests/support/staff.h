/*
 * staff.h — end-to-end helpers for tests that drive staff through the real server: a
 * person (credentials, device, TOTP secret, a client whose requests are signed as API.md
 * says), login, password change, TOTP enrolment, the one-time password from the outbox
 * file sink. Shared by tests/e2e/test_staff.c and test_matrix.c (one copy, so the two
 * cannot drift apart). Failures abort the current cmocka test.
 */
#ifndef FG_TESTS_STAFF_H
#define FG_TESTS_STAFF_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "client/client.h"
#include "server.h"

struct signer {
    uint8_t key[32];
};

struct person {
    char username[32];
    char password[64]; /* the current one */
    char device[32];
    char user_id[48];
    char contact[64];
    uint8_t totp[64];
    size_t totp_len;
    struct fg_client *c;
    struct signer sg;
};

fg_rc staff_sign(void *ctx, const char *method, const char *path, const void *body, size_t body_len,
                 struct fg_client_headers *add);
void staff_expect(struct fg_client_response *res, long status, const char *code);
long staff_post(struct person *p, const char *path, const char *json_text,
                struct fg_client_response *res);
long staff_get(struct person *p, const char *path, struct fg_client_response *res);
const char *staff_str(const struct fg_client_response *res, const char *key);
void staff_login(const struct fg_test_server *s, struct person *p, int must_change);
void staff_change_password(struct person *p, const char *new_pw);
void staff_totp_code(const struct person *p, time_t at, char code[8]);
void staff_enrol_totp(struct person *p);
void staff_onboard(const struct fg_test_server *s, struct person *p, const char *new_pw);
void staff_outbox_password(const struct fg_test_server *s, const char *to, char out[64]);

#endif
