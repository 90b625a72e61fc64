/*
 * test_keys.c — keys/keys.c against a real store: initialisation once per database, unseal
 * with every k-of-n combination for small n (k-1 shares keep it sealed), mistyped shares,
 * shares of another instance, a share set that does not reconstruct the root (forged
 * verifier), seal wiping, restart, rotation and its conflicts, the op flow (prepare /
 * intent / commit / abort), destroy refusals, development mode, listing, signing keys in
 * both suites, and concurrent use while sealing and unsealing.
 *
 * Destroy after rewrap, and everything about ciphertexts, is in tests/unit/protect/.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/limits.h"
#include "crypto/crypto.h"
#include "keys/keys.h"
#include "keys/shares.h"
#include "store/store.h"

struct fixture {
    char dir[256];
    char path[512];
    fg_store *store;
    fg_keys *k;
    unsigned n;
    char shares[FG_KEYS_SHARES_MAX][FG_KEYS_SHARE_TEXT_MAX];
};

static void store_open(struct fixture *f)
{
    struct fg_store_options opt = {.path = f->path};
    assert_int_equal(fg_store_open(&opt, &f->store), FG_OK);
    assert_int_equal(fg_keys_new(f->store, &f->k), FG_OK);
}

static void store_close(struct fixture *f)
{
    fg_keys_free(f->k);
    f->k = NULL;
    fg_store_close(f->store);
    f->store = NULL;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(fg_crypto_init(), FG_OK);
    fg_test_tmpdir("keys", f->dir, sizeof f->dir);
    snprintf(f->path, sizeof f->path, "%s/finguard.db", f->dir);
    store_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f);
    fg_test_rmtree(f->dir);
    fg_wipe(f->shares, sizeof f->shares);
    free(f);
    return 0;
}

static void init_keys(struct fixture *f, enum fg_suite suite, unsigned n, unsigned k)
{
    const char *problem = NULL;
    fg_rc rc = fg_keys_init(f->k, suite, n, k, f->shares, &problem);
    if (rc != FG_OK)
        fail_msg("init: %s (%s)", fg_rc_name(rc), problem ? problem : "-");
    f->n = n;
}

static struct fg_keys_state state_of(fg_keys *k)
{
    struct fg_keys_state st;
    fg_keys_state(k, &st);
    return st;
}

static void submit_ok(fg_keys *k, const char *share, unsigned want_progress, int want_sealed)
{
    struct fg_keys_state st;
    const char *problem = NULL;
    fg_rc rc = fg_keys_unseal_submit(k, share, &st, &problem);
    if (rc != FG_OK)
        fail_msg("unseal: %s (%s)", fg_rc_name(rc), problem ? problem : "-");
    assert_int_equal(st.progress, want_progress);
    assert_int_equal(st.sealed, want_sealed);
}

static void unseal_all(struct fixture *f)
{
    struct fg_keys_state st = state_of(f->k);
    for (unsigned i = 0; i < st.threshold; i++)
        submit_ok(f->k, f->shares[i], i + 1 == st.threshold ? 0 : i + 1, i + 1 < st.threshold);
}

/* Runs one SQL statement in a write intent (tests tamper with the database this way). */
struct sql_arg {
    const char *sql;
    const struct fg_val *params;
    int nparams;
};

static fg_rc sql_intent(fg_conn *conn, void *arg)
{
    const struct sql_arg *a = arg;
    return fg_conn_exec(conn, a->sql, a->params, a->nparams, NULL, NULL, NULL);
}

static fg_rc sql_write(fg_store *store, const char *sql, const struct fg_val *p, int n)
{
    struct sql_arg a = {sql, p, n};
    return fg_store_write(store, sql_intent, &a);
}

/* ---- initialisation and unseal ------------------------------------------------------------ */

static void test_fresh_is_uninitialised(void **state)
{
    struct fixture *f = *state;
    struct fg_keys_state st = state_of(f->k);
    assert_int_equal(st.initialized, 0);
    assert_int_equal(st.sealed, 1);
    const char *problem = NULL;
    assert_int_equal(fg_keys_unseal_submit(f->k, "fg1-1-x-00000000", &st, &problem),
                     FG_ERR_CONFLICT);
    assert_non_null(problem);
    uint8_t key[FG_KEY_LEN];
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_PII, 0, key, NULL), FG_ERR_SEALED);
}

static void test_init_leaves_unsealed(void **state)
{
    struct fixture *f = *state;
    init_keys(f, FG_SUITE_INTL, 3, 2);
    struct fg_keys_state st = state_of(f->k);
    assert_int_equal(st.initialized, 1);
    assert_int_equal(st.sealed, 0);
    assert_int_equal(st.threshold, 2);
    assert_int_equal(st.shares, 3);
    assert_int_equal(st.suite, FG_SUITE_INTL);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(strncmp(f->shares[i], "fg1-", 4), 0);
        for (unsigned j = 0; j < i; j++)
            assert_string_not_equal(f->shares[i], f->shares[j]);
    }
    for (int p = 1; p <= FG_KEY_PURPOSE_COUNT; p++) {
        uint8_t key[FG_KEY_LEN];
        uint32_t version = 0;
        assert_int_equal(fg_keys_borrow(f->k, (enum fg_key_purpose)p, 0, key, &version), FG_OK);
        assert_int_equal(version, 1);
        fg_wipe(key, sizeof key);
    }
}

static void test_init_twice_conflicts(void **state)
{
    struct fixture *f = *state;
    /* A second handle opened before the first init still believes "uninitialised". */
    fg_keys *other = NULL;
    assert_int_equal(fg_keys_new(f->store, &other), FG_OK);
    init_keys(f, FG_SUITE_INTL, 2, 2);
    char shares[FG_KEYS_SHARES_MAX][FG_KEYS_SHARE_TEXT_MAX];
    const char *problem = NULL;
    assert_int_equal(fg_keys_init(f->k, FG_SUITE_INTL, 2, 2, shares, &problem), FG_ERR_CONFLICT);
    assert_non_null(problem);
    problem = NULL;
    assert_int_equal(fg_keys_init(other, FG_SUITE_GM, 3, 2, shares, &problem), FG_ERR_CONFLICT);
    assert_non_null(strstr(problem, "already initialised"));
    assert_int_equal(state_of(other).initialized, 0); /* nothing published */
    fg_keys_free(other);
}

static void test_init_parameters(void **state)
{
    struct fixture *f = *state;
    static const unsigned bad[][2] = {{0, 0}, {17, 2}, {3, 0}, {3, 4}, {2, 1}, {16, 1}};
    char shares[FG_KEYS_SHARES_MAX][FG_KEYS_SHARE_TEXT_MAX];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *problem = NULL;
        assert_int_equal(fg_keys_init(f->k, FG_SUITE_INTL, bad[i][0], bad[i][1], shares, &problem),
                         FG_ERR_INVALID);
        assert_non_null(problem);
    }
    const char *problem = NULL;
    assert_int_equal(fg_keys_init(f->k, (enum fg_suite)9, 3, 2, shares, &problem), FG_ERR_INVALID);
    assert_int_equal(state_of(f->k).initialized, 0);
}

static void unseal_subset(struct fixture *f, unsigned mask, unsigned k,
                          const uint8_t want_pii[FG_KEY_LEN])
{
    fg_keys_seal(f->k);
    unsigned given = 0;
    for (unsigned i = 0; i < f->n; i++) {
        if (!(mask & (1u << i)))
            continue;
        given++;
        submit_ok(f->k, f->shares[i], given == k ? 0 : given, given < k);
    }
    uint8_t key[FG_KEY_LEN];
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_PII, 0, key, NULL), FG_OK);
    assert_memory_equal(key, want_pii, FG_KEY_LEN);
    fg_wipe(key, sizeof key);
}

/* k of n for n = 1..4, every k, every subset of exactly k shares, in both orders. */
static void test_every_k_of_n_combination(void **state)
{
    struct fixture *f = *state;
    static const unsigned cases[][2] = {{1, 1}, {2, 2}, {3, 2}, {3, 3}, {4, 2}, {4, 3}, {4, 4}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        unsigned n = cases[c][0], k = cases[c][1];
        if (c > 0) { /* a fresh database per case */
            store_close(f);
            fg_test_rmtree(f->dir);
            fg_test_tmpdir("keys", f->dir, sizeof f->dir);
            snprintf(f->path, sizeof f->path, "%s/finguard.db", f->dir);
            store_open(f);
        }
        init_keys(f, c % 2 ? FG_SUITE_GM : FG_SUITE_INTL, n, k);
        uint8_t pii[FG_KEY_LEN];
        assert_int_equal(fg_keys_borrow(f->k, FG_KEY_PII, 0, pii, NULL), FG_OK);
        for (unsigned mask = 1; mask < (1u << n); mask++) {
            unsigned size = (unsigned)__builtin_popcount(mask);
            if (size == k) {
                unseal_subset(f, mask, k, pii);
            } else if (size == k - 1) { /* one short: stays sealed */
                fg_keys_seal(f->k);
                unsigned given = 0;
                for (unsigned i = 0; i < n; i++)
                    if (mask & (1u << i))
                        submit_ok(f->k, f->shares[i], ++given, 1);
                uint8_t key[FG_KEY_LEN];
                assert_int_equal(fg_keys_borrow(f->k, FG_KEY_PII, 0, key, NULL), FG_ERR_SEALED);
                fg_keys_unseal_reset(f->k);
                assert_int_equal(state_of(f->k).progress, 0);
            }
        }
        /* reverse order of the last k shares */
        fg_keys_seal(f->k);
        for (unsigned i = 0; i < k; i++)
            submit_ok(f->k, f->shares[n - 1 - i], i + 1 == k ? 0 : i + 1, i + 1 < k);
        fg_wipe(pii, sizeof pii);
    }
}

static void test_mistyped_share(void **state)
{
    struct fixture *f = *state;
    init_keys(f, FG_SUITE_INTL, 3, 2);
    fg_keys_seal(f->k);
    char typo[FG_KEYS_SHARE_TEXT_MAX];
    memcpy(typo, f->shares[0], sizeof typo);
    size_t at = strlen(typo) - 20; /* inside the base64url data */
    typo[at] = typo[at] == 'A' ? 'B' : 'A';
    struct fg_keys_state st;
    const char *problem = NULL;
    assert_int_equal(fg_keys_unseal_submit(f->k, typo, &st, &problem), FG_ERR_INVALID);
    assert_non_null(strstr(problem, "checksum mismatch"));
    assert_int_equal(st.progress, 0);
    problem = NULL;
    assert_int_equal(fg_keys_unseal_submit(f->k, "fg1-3-tooshort-00000000", &st, &problem),
                     FG_ERR_INVALID);
    assert_non_null(strstr(problem, "malformed share"));
    problem = NULL;
    assert_int_equal(fg_keys_unseal_submit(f->k, "", &st, &problem), FG_ERR_INVALID);
    assert_non_null(problem);
    /* Whitespace around a pasted share is fine. */
    char padded[FG_KEYS_SHARE_TEXT_MAX + 8];
    snprintf(padded, sizeof padded, "  %s\n", f->shares[0]);
    submit_ok(f->k, padded, 1, 1);
    submit_ok(f->k, f->shares[2], 0, 0);
}

static void test_share_of_other_instance(void **state)
{
    struct fixture *f = *state;
    init_keys(f, FG_SUITE_INTL, 3, 2);
    fg_keys_seal(f->k);
    /* A second instance in its own database. */
    struct fixture g;
    memset(&g, 0, sizeof g);
    fg_test_tmpdir("keys-other", g.dir, sizeof g.dir);
    snprintf(g.path, sizeof g.path, "%s/finguard.db", g.dir);
    store_open(&g);
    init_keys(&g, FG_SUITE_INTL, 3, 2);

    submit_ok(f->k, f->shares[0], 1, 1);
    for (unsigned i = 0; i < 3; i++) {
        struct fg_keys_state st;
        const char *problem = NULL;
        assert_int_equal(fg_keys_unseal_submit(f->k, g.shares[i], &st, &problem), FG_ERR_CRYPTO);
        assert_non_null(strstr(problem, "does not belong"));
        assert_int_equal(st.progress, 1); /* the good share stays */
        assert_int_equal(st.sealed, 1);
    }
    submit_ok(f->k, f->shares[1], 0, 0);
    store_close(&g);
    fg_test_rmtree(g.dir);
}

/* Per-share verifiers tampered so that a forged share passes on its own: the root verifier
 * still catches the wrong set, progress resets, and a right set still unseals. */
static void test_wrong_set_detected_by_root_verifier(void **state)
{
    struct fixture *f = *state;
    init_keys(f, FG_SUITE_INTL, 3, 2);
    struct fg_share forged;
    const char *problem = NULL;
    assert_int_equal(fg_share_parse(f->shares[0], strlen(f->shares[0]), &forged, &problem), FG_OK);
    assert_int_equal(fg_random(forged.bytes, sizeof forged.bytes), FG_OK);
    uint8_t salt[FG_SHARE_SALT_LEN], verifier[FG_HASH_LEN];
    assert_int_equal(fg_random(salt, sizeof salt), FG_OK);
    assert_int_equal(fg_share_verifier(FG_HASH_SHA256, salt, &forged, verifier), FG_OK);
    struct fg_val p[3] = {FG_VBLOB(salt, sizeof salt), FG_VBLOB(verifier, sizeof verifier),
                          FG_VINT(forged.index)};
    assert_int_equal(sql_write(f->store,
                               "UPDATE keys_share_verifier SET salt = ?1, verifier = ?2 "
                               "WHERE share_index = ?3",
                               p, 3),
                     FG_OK);
    char forged_text[FG_SHARE_TEXT_MAX];
    assert_int_equal(fg_share_format(&forged, forged_text), FG_OK);

    fg_keys_free(f->k); /* restart to pick up the tampered verifiers */
    assert_int_equal(fg_keys_new(f->store, &f->k), FG_OK);
    submit_ok(f->k, forged_text, 1, 1);
    struct fg_keys_state st;
    problem = NULL;
    assert_int_equal(fg_keys_unseal_submit(f->k, f->shares[1], &st, &problem), FG_ERR_CRYPTO);
    assert_non_null(strstr(problem, "do not reconstruct"));
    assert_int_equal(st.progress, 0);
    assert_int_equal(st.sealed, 1);
    submit_ok(f->k, f->shares[2], 1, 1);
    submit_ok(f->k, f->shares[1], 0, 0);
}

static void test_duplicate_share_ignored(void **state)
{
    struct fixture *f = *state;
    init_keys(f, FG_SUITE_GM, 3, 3);
    fg_keys_seal(f->k);
    submit_ok(f->k, f->shares[1], 1, 1);
    submit_ok(f->k, f->shares[1], 1, 1);
    submit_ok(f->k, f->shares[0], 2, 1);
    submit_ok(f->k, f->shares[0], 2, 1);
    submit_ok(f->k, f->shares[2], 0, 0);
    /* Already unsealed: a further share is accepted and changes nothing. */
    submit_ok(f->k, f->shares[2], 0, 0);
}

static void test_seal_wipes(void **state)
{
    struct fixture *f = *state;
    init_keys(f, FG_SUITE_INTL, 2, 2);
    fg_keys_seal(f->k);
    fg_keys_seal(f->k); /* idempotent */
    uint8_t key[FG_KEY_LEN];
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_AUDIT, 0, key, NULL), FG_ERR_SEALED);
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_PII, 1, key, NULL), FG_ERR_SEALED);
    const char *problem = NULL;
    struct fg_keys_op *op = NULL;
    assert_int_equal(fg_keys_rotate_prepare(f->k, FG_KEY_PII, &op, &problem), FG_ERR_SEALED);
    assert_null(op);
    struct fg_keys_state st = state_of(f->k);
    assert_int_equal(st.sealed, 1);
    assert_int_equal(st.initialized, 1);
    /* Progress is wiped by seal too. */
    submit_ok(f->k, f->shares[0], 1, 1);
    fg_keys_seal(f->k);
    assert_int_equal(state_of(f->k).progress, 0);
}

static void test_restart_same_keys(void **state)
{
    struct fixture *f = *state;
    init_keys(f, FG_SUITE_GM, 3, 2);
    uint8_t before[FG_KEY_PURPOSE_COUNT + 1][FG_KEY_LEN], key[FG_KEY_LEN];
    for (int p = 1; p <= FG_KEY_PURPOSE_COUNT; p++)
        assert_int_equal(fg_keys_borrow(f->k, (enum fg_key_purpose)p, 0, before[p], NULL), FG_OK);
    store_close(f);
    store_open(f);
    struct fg_keys_state st = state_of(f->k);
    assert_int_equal(st.initialized, 1);
    assert_int_equal(st.sealed, 1);
    assert_int_equal(st.suite, FG_SUITE_GM);
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_PII, 0, key, NULL), FG_ERR_SEALED);
    submit_ok(f->k, f->shares[2], 1, 1);
    submit_ok(f->k, f->shares[0], 0, 0);
    for (int p = 1; p <= FG_KEY_PURPOSE_COUNT; p++) {
        assert_int_equal(fg_keys_borrow(f->k, (enum fg_key_purpose)p, 0, key, NULL), FG_OK);
        assert_memory_equal(key, before[p], FG_KEY_LEN);
    }
    fg_wipe(before, sizeof before);
    fg_wipe(key, sizeof key);
}

static void test_tampered_keyring_refused(void **state)
{
    struct fixture *f = *state;
    init_keys(f, FG_SUITE_INTL, 2, 2);
    /* Swap the wrapped keys of two purposes: each is bound to its purpose by the AAD. */
    assert_int_equal(
        sql_write(f->store,
                  "UPDATE keys_keyring SET wrapped = (SELECT wrapped FROM keys_keyring "
                  "WHERE purpose = 'pan'), nonce = (SELECT nonce FROM keys_keyring "
                  "WHERE purpose = 'pan') WHERE purpose = 'pii'",
                  NULL, 0),
        FG_OK);
    fg_keys_seal(f->k);
    submit_ok(f->k, f->shares[0], 1, 1);
    struct fg_keys_state st;
    const char *problem = NULL;
    assert_int_equal(fg_keys_unseal_submit(f->k, f->shares[1], &st, &problem), FG_ERR_CORRUPT);
    assert_non_null(problem);
    assert_int_equal(st.sealed, 1);
}

/* ---- rotation and the op flow -------------------------------------------------------------- */

struct list_seen {
    unsigned count;
    struct fg_key_info info[64];
};

static fg_rc list_collect(void *ctx, const struct fg_key_info *info)
{
    struct list_seen *s = ctx;
    assert_true(s->count < 64);
    s->info[s->count++] = *info;
    return FG_OK;
}

static const struct fg_key_info *list_find(const struct list_seen *s, enum fg_key_purpose p,
                                           uint32_t version)
{
    for (unsigned i = 0; i < s->count; i++)
        if (s->info[i].purpose == p && s->info[i].version == version)
            return &s->info[i];
    return NULL;
}

static void test_rotate(void **state)
{
    struct fixture *f = *state;
    init_keys(f, FG_SUITE_INTL, 2, 2);
    uint8_t v1[FG_KEY_LEN], key[FG_KEY_LEN];
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_PII, 0, v1, NULL), FG_OK);
    uint32_t version = 0;
    const char *problem = NULL;
    assert_int_equal(fg_keys_rotate(f->k, FG_KEY_PII, &version, &problem), FG_OK);
    assert_int_equal(version, 2);
    assert_int_equal(fg_keys_rotate(f->k, FG_KEY_PII, &version, &problem), FG_OK);
    assert_int_equal(version, 3);
    uint32_t got = 0;
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_PII, 0, key, &got), FG_OK);
    assert_int_equal(got, 3);
    assert_memory_not_equal(key, v1, FG_KEY_LEN);
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_PII, 1, key, &got), FG_OK);
    assert_memory_equal(key, v1, FG_KEY_LEN);
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_PII, 4, key, NULL), FG_ERR_NOT_FOUND);
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_PAN, 0, key, &got), FG_OK);
    assert_int_equal(got, 1);

    struct list_seen seen = {0};
    assert_int_equal(fg_keys_list(f->k, list_collect, &seen), FG_OK);
    assert_int_equal(seen.count, FG_KEY_PURPOSE_COUNT + 2);
    assert_int_equal(list_find(&seen, FG_KEY_PII, 1)->state, FG_KEY_DECRYPT_ONLY);
    assert_int_equal(list_find(&seen, FG_KEY_PII, 2)->state, FG_KEY_DECRYPT_ONLY);
    assert_int_equal(list_find(&seen, FG_KEY_PII, 3)->state, FG_KEY_ACTIVE);
    assert_true(list_find(&seen, FG_KEY_PII, 3)->created_ms > 0);
    assert_true(list_find(&seen, FG_KEY_PII, 1)->age_s >= 0);

    /* Restart: the rotated keyring is what unseal loads. */
    store_close(f);
    store_open(f);
    seen.count = 0;
    assert_int_equal(fg_keys_list(f->k, list_collect, &seen), FG_OK); /* works sealed */
    assert_int_equal(seen.count, FG_KEY_PURPOSE_COUNT + 2);
    unseal_all(f);
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_PII, 0, key, &got), FG_OK);
    assert_int_equal(got, 3);
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_PII, 1, key, &got), FG_OK);
    assert_memory_equal(key, v1, FG_KEY_LEN);
    fg_wipe(v1, sizeof v1);
    fg_wipe(key, sizeof key);
}

static void test_rotate_race_conflicts(void **state)
{
    struct fixture *f = *state;
    init_keys(f, FG_SUITE_INTL, 2, 2);
    struct fg_keys_op *a = NULL, *b = NULL;
    const char *problem = NULL;
    assert_int_equal(fg_keys_rotate_prepare(f->k, FG_KEY_TOKEN, &a, &problem), FG_OK);
    assert_int_equal(fg_keys_rotate_prepare(f->k, FG_KEY_TOKEN, &b, &problem), FG_OK);
    assert_int_equal(fg_keys_op_version(a), 2);
    assert_int_equal(fg_keys_op_version(b), 2);
    assert_int_equal(fg_keys_op_purpose(a), FG_KEY_TOKEN);
    assert_int_equal(fg_store_write(f->store, fg_keys_op_intent, a), FG_OK);
    assert_int_equal(fg_keys_op_commit(f->k, a), FG_OK);
    assert_int_equal(fg_store_write(f->store, fg_keys_op_intent, b), FG_ERR_CONFLICT);
    assert_non_null(strstr(fg_keys_op_problem(b), "changed"));
    fg_keys_op_free(a);
    fg_keys_op_free(b);
    uint32_t got = 0;
    uint8_t key[FG_KEY_LEN];
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_TOKEN, 0, key, &got), FG_OK);
    assert_int_equal(got, 2);
}

/* Prepared, written, then sealed before commit: commit must not resurrect keys; the next
 * unseal loads the new version from the database. */
static void test_rotate_commit_while_sealed(void **state)
{
    struct fixture *f = *state;
    init_keys(f, FG_SUITE_INTL, 2, 2);
    struct fg_keys_op *op = NULL;
    const char *problem = NULL;
    assert_int_equal(fg_keys_rotate_prepare(f->k, FG_KEY_BACKUP, &op, &problem), FG_OK);
    assert_int_equal(fg_store_write(f->store, fg_keys_op_intent, op), FG_OK);
    fg_keys_seal(f->k);
    assert_int_equal(fg_keys_op_commit(f->k, op), FG_OK);
    fg_keys_op_free(op);
    uint8_t key[FG_KEY_LEN];
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_BACKUP, 0, key, NULL), FG_ERR_SEALED);
    unseal_all(f);
    uint32_t got = 0;
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_BACKUP, 0, key, &got), FG_OK);
    assert_int_equal(got, 2);
}

static void test_init_op_abort_and_pending_key(void **state)
{
    struct fixture *f = *state;
    struct fg_keys_op *op = NULL;
    const char *problem = NULL;
    assert_int_equal(fg_keys_init_prepare(f->k, FG_SUITE_INTL, 3, 2, &op, &problem), FG_OK);
    assert_int_equal(fg_keys_op_share_count(op), 3);
    assert_int_equal(fg_keys_op_version(op), 1);
    uint8_t audit[FG_KEY_LEN], key[FG_KEY_LEN];
    assert_int_equal(fg_keys_op_key(op, FG_KEY_AUDIT, audit), FG_OK);
    fg_keys_op_free(op); /* abort: nothing written, nothing published */
    assert_int_equal(state_of(f->k).initialized, 0);

    assert_int_equal(fg_keys_init_prepare(f->k, FG_SUITE_INTL, 3, 2, &op, &problem), FG_OK);
    assert_int_equal(fg_keys_op_key(op, FG_KEY_AUDIT, audit), FG_OK);
    assert_int_equal(fg_store_write(f->store, fg_keys_op_intent, op), FG_OK);
    assert_int_equal(state_of(f->k).initialized, 0); /* not before commit */
    assert_int_equal(fg_keys_op_commit(f->k, op), FG_OK);
    for (unsigned i = 0; i < 3; i++)
        memcpy(f->shares[i], fg_keys_op_share(op, i), FG_KEYS_SHARE_TEXT_MAX);
    f->n = 3;
    fg_keys_op_free(op);
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_AUDIT, 0, key, NULL), FG_OK);
    assert_memory_equal(key, audit, FG_KEY_LEN); /* the pending key is the real one */
    fg_keys_seal(f->k);
    unseal_all(f);
    fg_wipe(audit, sizeof audit);
    fg_wipe(key, sizeof key);
}

/* ---- destroy refusals (the full flow with ciphertexts is in test_protect.c) ---------------- */

static fg_rc count_nothing(void *ctx, fg_conn *conn, enum fg_key_purpose purpose, uint32_t version,
                           uint64_t *count)
{
    (void)ctx;
    (void)conn;
    (void)purpose;
    (void)version;
    (void)count;
    return FG_OK;
}

static void test_destroy_refusals(void **state)
{
    struct fixture *f = *state;
    init_keys(f, FG_SUITE_INTL, 3, 2);
    const char *problem = NULL;
    uint32_t v = 0;
    assert_int_equal(fg_keys_rotate(f->k, FG_KEY_TOKEN, &v, &problem), FG_OK);
    /* No usage counter: nobody can prove the version unused. */
    assert_int_equal(fg_keys_destroy(f->k, FG_KEY_TOKEN, 1, f->shares[0], f->shares[1], &problem),
                     FG_ERR_CONFLICT);
    assert_non_null(strstr(problem, "usage counter"));
    assert_int_equal(fg_keys_add_usage_counter(f->k, count_nothing, NULL), FG_OK);
    assert_int_equal(fg_keys_add_usage_counter(f->k, count_nothing, NULL), FG_ERR_CONFLICT);
    /* One share, or the same custodian twice. */
    assert_int_equal(fg_keys_destroy(f->k, FG_KEY_TOKEN, 1, f->shares[0], NULL, &problem),
                     FG_ERR_PERMISSION);
    assert_int_equal(fg_keys_destroy(f->k, FG_KEY_TOKEN, 1, f->shares[1], f->shares[1], &problem),
                     FG_ERR_PERMISSION);
    assert_non_null(strstr(problem, "different custodians"));
    /* A mistyped or foreign share. */
    char typo[FG_KEYS_SHARE_TEXT_MAX];
    memcpy(typo, f->shares[1], sizeof typo);
    typo[12] = typo[12] == 'A' ? 'B' : 'A';
    assert_int_equal(fg_keys_destroy(f->k, FG_KEY_TOKEN, 1, f->shares[0], typo, &problem),
                     FG_ERR_INVALID);
    /* The active version; a version that does not exist. */
    assert_int_equal(fg_keys_destroy(f->k, FG_KEY_TOKEN, 2, f->shares[0], f->shares[1], &problem),
                     FG_ERR_CONFLICT);
    assert_non_null(strstr(problem, "active"));
    assert_int_equal(fg_keys_destroy(f->k, FG_KEY_TOKEN, 9, f->shares[0], f->shares[1], &problem),
                     FG_ERR_NOT_FOUND);
    /* Works (sealed, even: destroy needs shares, not the root). */
    fg_keys_seal(f->k);
    assert_int_equal(fg_keys_destroy(f->k, FG_KEY_TOKEN, 1, f->shares[2], f->shares[0], &problem),
                     FG_OK);
    assert_int_equal(fg_keys_destroy(f->k, FG_KEY_TOKEN, 1, f->shares[2], f->shares[0], &problem),
                     FG_ERR_CONFLICT);
    assert_non_null(strstr(problem, "already destroyed"));
    unseal_all(f);
    uint8_t key[FG_KEY_LEN];
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_TOKEN, 1, key, NULL), FG_ERR_NOT_FOUND);
    assert_int_equal(fg_keys_is_destroyed(f->k, FG_KEY_TOKEN, 1), 1);
    assert_int_equal(fg_keys_is_destroyed(f->k, FG_KEY_TOKEN, 2), 0);
    assert_int_equal(fg_keys_is_destroyed(f->k, FG_KEY_TOKEN, 3), 0);
    struct list_seen seen = {0};
    assert_int_equal(fg_keys_list(f->k, list_collect, &seen), FG_OK);
    const struct fg_key_info *info = list_find(&seen, FG_KEY_TOKEN, 1);
    assert_non_null(info);
    assert_int_equal(info->state, FG_KEY_DESTROYED);
    assert_true(info->destroyed_ms > 0);
    /* The database keeps no wrapped key, and refuses to bring the version back. */
    assert_int_equal(sql_write(f->store,
                               "UPDATE keys_keyring SET state = 'decrypt-only' "
                               "WHERE purpose = 'token' AND version = 1",
                               NULL, 0),
                     FG_ERR_CONFLICT);
}

/* ---- development mode ------------------------------------------------------------------------ */

static void test_dev_mode(void **state)
{
    struct fixture *f = *state;
    const char *problem = NULL;
    assert_int_equal(fg_keys_dev_unseal(f->k, f->dir, &problem), FG_ERR_CONFLICT);
    assert_int_equal(fg_keys_dev_enable(f->k, f->dir), FG_OK);
    init_keys(f, FG_SUITE_INTL, 1, 1);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", f->dir, FG_KEYS_DEV_FILE);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, FG_KEY_LEN);
    uint8_t before[FG_KEY_LEN], key[FG_KEY_LEN];
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_PII, 0, before, NULL), FG_OK);

    store_close(f);
    store_open(f);
    assert_int_equal(fg_keys_dev_unseal(f->k, f->dir, &problem), FG_OK);
    assert_int_equal(state_of(f->k).sealed, 0);
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_PII, 0, key, NULL), FG_OK);
    assert_memory_equal(key, before, FG_KEY_LEN);
    assert_int_equal(fg_keys_dev_unseal(f->k, f->dir, &problem), FG_OK); /* already unsealed */

    fg_keys_seal(f->k);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(fg_keys_dev_unseal(f->k, f->dir, &problem), FG_ERR_PERMISSION);
    assert_non_null(strstr(problem, "600"));
    assert_int_equal(chmod(path, 0600), 0);
    /* A key file of another instance. */
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(key, 1, sizeof key, fp), sizeof key); /* the pii key, not the root */
    fclose(fp);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(fg_keys_dev_unseal(f->k, f->dir, &problem), FG_ERR_CRYPTO);
    assert_int_equal(state_of(f->k).sealed, 1);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(fg_keys_dev_unseal(f->k, f->dir, &problem), FG_ERR_NOT_FOUND);
    /* The single share still unseals. */
    submit_ok(f->k, f->shares[0], 0, 0);
    fg_wipe(before, sizeof before);
    fg_wipe(key, sizeof key);
}

/* ---- signing keys ------------------------------------------------------------------------------
 */

static void sign_roundtrip(struct fixture *f, enum fg_suite suite)
{
    init_keys(f, suite, 2, 2);
    uint8_t priv[FG_KEY_LEN], pub[FG_SIGN_PUBLIC_MAX], sig[FG_SIGN_SIG_MAX];
    size_t pub_len = 0, sig_len = 0;
    uint32_t v = 0;
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_SIGN, 0, priv, &v), FG_OK);
    assert_int_equal(fg_sign(suite, priv, "checkpoint", 10, sig, &sig_len), FG_OK);
    fg_keys_seal(f->k); /* the public half is readable sealed */
    assert_int_equal(fg_keys_sign_public(f->k, 0, pub, &pub_len, &v), FG_OK);
    assert_int_equal(v, 1);
    assert_int_equal(fg_verify(suite, pub, pub_len, "checkpoint", 10, sig, sig_len), FG_OK);
    assert_int_equal(fg_keys_sign_public(f->k, 5, pub, &pub_len, &v), FG_ERR_NOT_FOUND);
    fg_wipe(priv, sizeof priv);
}

static void test_sign_intl(void **state)
{
    sign_roundtrip(*state, FG_SUITE_INTL);
}

static void test_sign_gm(void **state)
{
    sign_roundtrip(*state, FG_SUITE_GM);
}

static void test_names(void **state)
{
    (void)state;
    enum fg_key_purpose p;
    for (int i = 1; i <= FG_KEY_PURPOSE_COUNT; i++) {
        const char *name = fg_key_purpose_name((enum fg_key_purpose)i);
        assert_non_null(name);
        assert_int_equal(fg_key_purpose_parse(name, &p), FG_OK);
        assert_int_equal(p, i);
    }
    assert_null(fg_key_purpose_name((enum fg_key_purpose)0));
    assert_null(fg_key_purpose_name((enum fg_key_purpose)8));
    assert_int_equal(fg_key_purpose_parse("root", &p), FG_ERR_INVALID);
    assert_int_equal(fg_key_purpose_parse(NULL, &p), FG_ERR_INVALID);
    assert_string_equal(fg_key_state_name(FG_KEY_DECRYPT_ONLY), "decrypt-only");
}

/* ---- concurrency --------------------------------------------------------------------------------
 */

struct race {
    fg_keys *k;
    atomic_int stop;
    atomic_long used, sealed;
    uint8_t want[FG_KEY_LEN];
};

static fg_rc compare_key(void *ctx, const uint8_t key[FG_KEY_LEN], uint32_t version,
                         enum fg_suite suite)
{
    (void)suite;
    const struct race *r = ctx;
    return version == 1 && memcmp(key, r->want, FG_KEY_LEN) == 0 ? FG_OK : FG_ERR_INTERNAL;
}

static void *race_user(void *arg)
{
    struct race *r = arg;
    while (!atomic_load(&r->stop)) {
        fg_rc rc = fg_keys_use(r->k, FG_KEY_PII, 0, compare_key, r);
        if (rc == FG_OK)
            atomic_fetch_add(&r->used, 1);
        else if (rc == FG_ERR_SEALED)
            atomic_fetch_add(&r->sealed, 1);
        else
            return (void *)1;
        struct fg_keys_state st;
        fg_keys_state(r->k, &st);
    }
    return NULL;
}

static void test_concurrent_use_and_seal(void **state)
{
    struct fixture *f = *state;
    init_keys(f, FG_SUITE_INTL, 2, 2);
    struct race r = {.k = f->k};
    assert_int_equal(fg_keys_borrow(f->k, FG_KEY_PII, 0, r.want, NULL), FG_OK);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, race_user, &r), 0);
    for (int round = 0; round < 20; round++) {
        fg_keys_seal(f->k);
        unseal_all(f);
    }
    /* Unsealed now: on a loaded machine the readers may not have run yet; give them up
     * to 10 s to use the key at least once (the point is that no use ever saw a wrong
     * or wiped key, which compare_key checks on every call). */
    for (int i = 0; i < 1000 && atomic_load(&r.used) == 0; i++)
        usleep(10000);
    atomic_store(&r.stop, 1);
    for (int i = 0; i < 4; i++) {
        void *res = NULL;
        assert_int_equal(pthread_join(t[i], &res), 0);
        assert_null(res);
    }
    assert_true(atomic_load(&r.used) > 0);
    fg_wipe(r.want, sizeof r.want);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_fresh_is_uninitialised),
        T(test_init_leaves_unsealed),
        T(test_init_twice_conflicts),
        T(test_init_parameters),
        T(test_every_k_of_n_combination),
        T(test_mistyped_share),
        T(test_share_of_other_instance),
        T(test_wrong_set_detected_by_root_verifier),
        T(test_duplicate_share_ignored),
        T(test_seal_wipes),
        T(test_restart_same_keys),
        T(test_tampered_keyring_refused),
        T(test_rotate),
        T(test_rotate_race_conflicts),
        T(test_rotate_commit_while_sealed),
        T(test_init_op_abort_and_pending_key),
        T(test_destroy_refusals),
        T(test_dev_mode),
        T(test_sign_intl),
        T(test_sign_gm),
        T(test_names),
        T(test_concurrent_use_and_seal),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
