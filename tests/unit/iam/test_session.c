/* Unit tests for iam/session.c: minting, lookup, device binding, expiry, ending, bounds. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "iam/session.h"

struct minted {
    char token[FG_SESSION_TOKEN_TEXT];
    struct fg_session s;
    uint8_t key[FG_SESSION_KEY_BYTES];
};

static void mint(struct minted *m, const char *user, const char *device)
{
    memset(m, 0, sizeof *m);
    assert_int_equal(fg_session_mint(m->token, m->s.id, m->key), FG_OK);
    snprintf(m->s.user_id, sizeof m->s.user_id, "%s", user);
    snprintf(m->s.device_id, sizeof m->s.device_id, "%s", device);
}

static void test_lookup_and_device_binding(void **state)
{
    (void)state;
    struct fg_sessions *t;
    assert_int_equal(fg_sessions_new(100, 0, 0, &t), FG_OK);
    struct minted m;
    mint(&m, "u1", "dev-a");
    assert_int_equal(strlen(m.token), 43);
    assert_int_equal(fg_sessions_add(t, &m.s, m.key, 1000), FG_OK);
    struct fg_session got;
    uint8_t key[FG_SESSION_KEY_BYTES];
    int mismatch = 0;
    const char *why = NULL;
    assert_int_equal(fg_sessions_lookup(t, m.token, "dev-a", 2000, &got, key, &mismatch, &why),
                     FG_OK);
    assert_string_equal(got.user_id, "u1");
    assert_memory_equal(key, m.key, sizeof key);
    assert_int_equal(fg_sessions_lookup(t, m.token, "dev-b", 2000, &got, NULL, &mismatch, &why),
                     FG_ERR_UNAUTHENTICATED);
    assert_int_equal(mismatch, 1);
    assert_int_equal(fg_sessions_lookup(t, m.token, NULL, 2000, &got, NULL, &mismatch, &why),
                     FG_ERR_UNAUTHENTICATED);
    /* a token that differs in one character is another (unknown) token */
    char other[FG_SESSION_TOKEN_TEXT];
    memcpy(other, m.token, sizeof other);
    other[5] = other[5] == 'A' ? 'B' : 'A';
    assert_int_equal(fg_sessions_lookup(t, other, "dev-a", 2000, &got, NULL, &mismatch, &why),
                     FG_ERR_UNAUTHENTICATED);
    const char *bad[] = {"", "short", "not base64!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(fg_sessions_lookup(t, bad[i], "dev-a", 2000, &got, NULL, NULL, NULL),
                         FG_ERR_UNAUTHENTICATED);
    fg_sessions_free(t);
}

static void test_expiry(void **state)
{
    (void)state;
    struct fg_sessions *t;
    const int64_t idle = 600000, absolute = 43200000;
    assert_int_equal(fg_sessions_new(100, idle, absolute, &t), FG_OK);
    struct minted m;
    mint(&m, "u1", "d");
    assert_int_equal(fg_sessions_add(t, &m.s, m.key, 0), FG_OK);
    struct fg_session got;
    int64_t now = 0;
    /* used every 9 minutes it lives until the absolute end */
    for (now = 540000; now < absolute; now += 540000)
        assert_int_equal(fg_sessions_lookup(t, m.token, "d", now, &got, NULL, NULL, NULL), FG_OK);
    assert_int_equal(fg_sessions_lookup(t, m.token, "d", absolute, &got, NULL, NULL, NULL),
                     FG_ERR_UNAUTHENTICATED);
    /* idle: 10 minutes without use ends it */
    struct minted m2;
    mint(&m2, "u2", "d");
    assert_int_equal(fg_sessions_add(t, &m2.s, m2.key, 0), FG_OK);
    assert_int_equal(fg_sessions_lookup(t, m2.token, "d", idle, &got, NULL, NULL, NULL),
                     FG_ERR_UNAUTHENTICATED);
    /* vendor access end */
    struct minted m3;
    mint(&m3, "vendor", "d");
    m3.s.access_ends_ms = 5000;
    assert_int_equal(fg_sessions_add(t, &m3.s, m3.key, 0), FG_OK);
    assert_int_equal(fg_sessions_lookup(t, m3.token, "d", 4999, &got, NULL, NULL, NULL), FG_OK);
    assert_int_equal(fg_sessions_lookup(t, m3.token, "d", 5000, &got, NULL, NULL, NULL),
                     FG_ERR_UNAUTHENTICATED);
    fg_sessions_free(t);
}

static void test_end_and_end_user(void **state)
{
    (void)state;
    struct fg_sessions *t;
    assert_int_equal(fg_sessions_new(100, 0, 0, &t), FG_OK);
    struct minted a, b, c;
    mint(&a, "u1", "d");
    mint(&b, "u1", "d");
    mint(&c, "u2", "d");
    assert_int_equal(fg_sessions_add(t, &a.s, a.key, 0), FG_OK);
    assert_int_equal(fg_sessions_add(t, &b.s, b.key, 0), FG_OK);
    assert_int_equal(fg_sessions_add(t, &c.s, c.key, 0), FG_OK);
    struct fg_session got;
    /* password change: every other session of the user ends, this one stays */
    assert_int_equal(fg_sessions_end_user(t, "u1", a.s.id), 1);
    assert_int_equal(fg_sessions_lookup(t, a.token, "d", 1, &got, NULL, NULL, NULL), FG_OK);
    assert_int_equal(fg_sessions_lookup(t, b.token, "d", 1, &got, NULL, NULL, NULL),
                     FG_ERR_UNAUTHENTICATED);
    assert_int_equal(fg_sessions_lookup(t, c.token, "d", 1, &got, NULL, NULL, NULL), FG_OK);
    /* logout ends at once */
    assert_int_equal(fg_sessions_end(t, a.s.id), 1);
    assert_int_equal(fg_sessions_lookup(t, a.token, "d", 2, &got, NULL, NULL, NULL),
                     FG_ERR_UNAUTHENTICATED);
    assert_int_equal(fg_sessions_end(t, a.s.id), 0);
    fg_sessions_set_mfa_done(t, c.s.id);
    assert_int_equal(fg_sessions_lookup(t, c.token, "d", 3, &got, NULL, NULL, NULL), FG_OK);
    assert_int_equal(got.mfa_done, 1);
    assert_int_equal(fg_sessions_count(t), 1);
    fg_sessions_free(t);
}

static void test_bounded_and_churn(void **state)
{
    (void)state;
    enum { MAX = 200 };
    struct fg_sessions *t;
    assert_int_equal(fg_sessions_new(MAX, 1000, 0, &t), FG_OK);
    static struct minted m[MAX + 1];
    for (int i = 0; i < MAX; i++) {
        mint(&m[i], "u", "d");
        assert_int_equal(fg_sessions_add(t, &m[i].s, m[i].key, 0), FG_OK);
    }
    mint(&m[MAX], "u", "d");
    assert_int_equal(fg_sessions_add(t, &m[MAX].s, m[MAX].key, 10), FG_ERR_BUSY);
    /* once they are idle-expired, room is reclaimed */
    assert_int_equal(fg_sessions_add(t, &m[MAX].s, m[MAX].key, 5000), FG_OK);
    /* churn: end and add many times; every live one stays findable (tombstone rehash) */
    struct fg_session got;
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < MAX / 2; i++) {
            mint(&m[i], "u", "d");
            assert_int_equal(fg_sessions_add(t, &m[i].s, m[i].key, 6000 + round), FG_OK);
        }
        for (int i = 0; i < MAX / 2; i++) {
            assert_int_equal(
                fg_sessions_lookup(t, m[i].token, "d", 6000 + round, &got, NULL, NULL, NULL),
                FG_OK);
            assert_int_equal(fg_sessions_end(t, m[i].s.id), 1);
        }
    }
    fg_sessions_free(t);
}

int main(void)
{
    assert_int_equal(fg_crypto_init(), FG_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_and_device_binding),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_end_and_end_user),
        cmocka_unit_test(test_bounded_and_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
