/*
 * test_protect.c — protect/protect.c: the ciphertext format and round trip in both suites;
 * a ciphertext moved to another row, column, table or purpose, truncated, or with any bit
 * flipped does not open; blind indexes; the registry; and the whole key lifecycle over
 * stored ciphertexts: rotate → destroy refused while used (and with one or two equal
 * shares) → rewrap in bounded batches → destroy works → a ciphertext under the destroyed
 * version gives "key version destroyed" (FG_ERR_NOT_FOUND), never garbage; restart keeps
 * old ciphertexts readable after unseal.
 */
#include "testutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "crypto/crypto.h"
#include "keys/keys.h"
#include "protect/protect.h"
#include "store/store.h"

#define ROWS 23 /* not a multiple of the batch, so the last page is short */
#define BATCH 5

struct fixture {
    char dir[256];
    char path[512];
    fg_store *store;
    fg_keys *k;
    char shares[FG_KEYS_SHARES_MAX][FG_KEYS_SHARE_TEXT_MAX];
};

static void open_all(struct fixture *f)
{
    struct fg_store_options opt = {.path = f->path};
    assert_int_equal(fg_store_open(&opt, &f->store), FG_OK);
    assert_int_equal(fg_keys_new(f->store, &f->k), FG_OK);
}

static void close_all(struct fixture *f)
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
    fg_protect_registry_clear();
    fg_test_tmpdir("protect", f->dir, sizeof f->dir);
    snprintf(f->path, sizeof f->path, "%s/finguard.db", f->dir);
    open_all(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    close_all(f);
    fg_protect_registry_clear();
    fg_test_rmtree(f->dir);
    fg_wipe(f->shares, sizeof f->shares);
    free(f);
    return 0;
}

static void init_keys(struct fixture *f, enum fg_suite suite)
{
    const char *problem = NULL;
    assert_int_equal(fg_keys_init(f->k, suite, 3, 2, f->shares, &problem), FG_OK);
}

static void unseal(struct fixture *f)
{
    const char *problem = NULL;
    struct fg_keys_state st;
    assert_int_equal(fg_keys_unseal_submit(f->k, f->shares[2], &st, &problem), FG_OK);
    assert_int_equal(fg_keys_unseal_submit(f->k, f->shares[0], &st, &problem), FG_OK);
    assert_int_equal(st.sealed, 0);
}

static uint32_t header_version(const uint8_t *ct)
{
    return (uint32_t)ct[3] << 24 | (uint32_t)ct[4] << 16 | (uint32_t)ct[5] << 8 | ct[6];
}

/* ---- format and round trip ------------------------------------------------------------------ */

static void roundtrip(struct fixture *f, enum fg_suite suite)
{
    init_keys(f, suite);
    static const char pt[] = "Zhang San, 110101199003077777";
    uint8_t ct[FG_PROTECT_SEALED_MAX(sizeof pt)], out[sizeof pt];
    size_t ct_len = 0, out_len = 0;
    assert_int_equal(fg_protect_seal(f->k, FG_KEY_PII, "customer", "name", "42", pt, sizeof pt, ct,
                                     sizeof ct, &ct_len),
                     FG_OK);
    size_t nonce_len = fg_aead_nonce_len(suite);
    assert_int_equal(ct_len, FG_PROTECT_HEADER_LEN + nonce_len + sizeof pt + FG_AEAD_TAG_LEN);
    assert_int_equal(ct[0], 1);
    assert_int_equal(ct[1], suite);
    assert_int_equal(ct[2], FG_KEY_PII);
    assert_int_equal(header_version(ct), 1);
    assert_null(memmem(ct, ct_len, "Zhang", 5));
    assert_int_equal(fg_protect_open(f->k, FG_KEY_PII, "customer", "name", "42", ct, ct_len, out,
                                     sizeof out, &out_len),
                     FG_OK);
    assert_int_equal(out_len, sizeof pt);
    assert_memory_equal(out, pt, sizeof pt);
    /* Two seals of the same value differ (random nonce). */
    uint8_t ct2[sizeof ct];
    size_t ct2_len = 0;
    assert_int_equal(fg_protect_seal(f->k, FG_KEY_PII, "customer", "name", "42", pt, sizeof pt, ct2,
                                     sizeof ct2, &ct2_len),
                     FG_OK);
    assert_memory_not_equal(ct, ct2, ct_len);
    /* Empty plaintext works too. */
    assert_int_equal(
        fg_protect_seal(f->k, FG_KEY_PAN, "card", "pan", "7", "", 0, ct2, sizeof ct2, &ct2_len),
        FG_OK);
    assert_int_equal(
        fg_protect_open(f->k, FG_KEY_PAN, "card", "pan", "7", ct2, ct2_len, out, 0, &out_len),
        FG_OK);
    assert_int_equal(out_len, 0);
}

static void test_roundtrip_intl(void **state)
{
    roundtrip(*state, FG_SUITE_INTL);
}

static void test_roundtrip_gm(void **state)
{
    roundtrip(*state, FG_SUITE_GM);
}

static fg_rc open_at(struct fixture *f, enum fg_key_purpose p, const char *table,
                     const char *column, const char *row, const uint8_t *ct, size_t len)
{
    uint8_t out[256] = {0};
    size_t out_len = 0;
    fg_rc rc = fg_protect_open(f->k, p, table, column, row, ct, len, out, sizeof out, &out_len);
    if (rc != FG_OK) {
        static const uint8_t zero[sizeof out];
        assert_memory_equal(out, zero, sizeof out); /* nothing of the plaintext leaks */
    }
    return rc;
}

static void moved(struct fixture *f, enum fg_suite suite)
{
    init_keys(f, suite);
    static const char pt[] = "6222021234567890123";
    uint8_t ct[FG_PROTECT_SEALED_MAX(sizeof pt)];
    size_t len = 0;
    assert_int_equal(
        fg_protect_seal(f->k, FG_KEY_PAN, "card", "pan", "100", pt, sizeof pt, ct, sizeof ct, &len),
        FG_OK);
    assert_int_equal(open_at(f, FG_KEY_PAN, "card", "pan", "100", ct, len), FG_OK);
    assert_int_equal(open_at(f, FG_KEY_PAN, "card", "pan", "101", ct, len), FG_ERR_CRYPTO);
    assert_int_equal(open_at(f, FG_KEY_PAN, "card", "pan", "1000", ct, len), FG_ERR_CRYPTO);
    assert_int_equal(open_at(f, FG_KEY_PAN, "card", "pan_old", "100", ct, len), FG_ERR_CRYPTO);
    assert_int_equal(open_at(f, FG_KEY_PAN, "cards", "pan", "100", ct, len), FG_ERR_CRYPTO);
    /* "card" ‖ 0 ‖ "pan" must differ from "car" ‖ 0 ‖ "dpan": the separator is in the AAD. */
    assert_int_equal(open_at(f, FG_KEY_PAN, "car", "dpan", "100", ct, len), FG_ERR_CRYPTO);
    assert_int_equal(open_at(f, FG_KEY_PII, "card", "pan", "100", ct, len), FG_ERR_CRYPTO);
    assert_int_equal(open_at(f, FG_KEY_BACKUP, "card", "pan", "100", ct, len), FG_ERR_CRYPTO);
    /* Relabelled purpose byte (so the purpose check passes): the AAD still refuses. */
    uint8_t relabelled[sizeof ct];
    memcpy(relabelled, ct, len);
    relabelled[2] = FG_KEY_PII;
    assert_int_equal(open_at(f, FG_KEY_PII, "card", "pan", "100", relabelled, len), FG_ERR_CRYPTO);
    /* Every single bit flipped. */
    for (size_t i = 0; i < len * 8; i++) {
        uint8_t flipped[sizeof ct];
        memcpy(flipped, ct, len);
        flipped[i / 8] ^= (uint8_t)(1u << (i % 8));
        fg_rc rc = open_at(f, FG_KEY_PAN, "card", "pan", "100", flipped, len);
        if (rc != FG_ERR_CRYPTO)
            fail_msg("bit %zu flipped: %s", i, fg_rc_name(rc));
    }
    /* Truncated and extended. */
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(open_at(f, FG_KEY_PAN, "card", "pan", "100", ct, cut), FG_ERR_CRYPTO);
    uint8_t longer[sizeof ct + 1];
    memcpy(longer, ct, len);
    longer[len] = 0;
    assert_int_equal(open_at(f, FG_KEY_PAN, "card", "pan", "100", longer, len + 1), FG_ERR_CRYPTO);
}

static void test_moved_and_flipped_intl(void **state)
{
    moved(*state, FG_SUITE_INTL);
}

static void test_moved_and_flipped_gm(void **state)
{
    moved(*state, FG_SUITE_GM);
}

static void test_arguments(void **state)
{
    struct fixture *f = *state;
    uint8_t ct[128], out[8];
    size_t len = 0, out_len = 0;
    assert_int_equal(fg_protect_seal(f->k, FG_KEY_PII, "t", "c", "1", "x", 1, ct, sizeof ct, &len),
                     FG_ERR_SEALED); /* not initialised = sealed */
    init_keys(f, FG_SUITE_INTL);
    assert_int_equal(
        fg_protect_seal(f->k, FG_KEY_INDEX, "t", "c", "1", "x", 1, ct, sizeof ct, &len),
        FG_ERR_INVALID);
    assert_int_equal(fg_protect_seal(f->k, FG_KEY_PII, "", "c", "1", "x", 1, ct, sizeof ct, &len),
                     FG_ERR_INVALID);
    assert_int_equal(fg_protect_seal(f->k, FG_KEY_PII, "t", "c", "", "x", 1, ct, sizeof ct, &len),
                     FG_ERR_INVALID);
    char long_id[FG_PROTECT_ROW_ID_MAX + 2];
    memset(long_id, '9', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_int_equal(
        fg_protect_seal(f->k, FG_KEY_PII, "t", "c", long_id, "x", 1, ct, sizeof ct, &len),
        FG_ERR_INVALID);
    long_id[FG_PROTECT_ROW_ID_MAX] = '\0';
    assert_int_equal(
        fg_protect_seal(f->k, FG_KEY_PII, "t", "c", long_id, "x", 1, ct, sizeof ct, &len), FG_OK);
    assert_int_equal(fg_protect_seal(f->k, FG_KEY_PII, "t", "c", "1", "x", 1, ct, 20, &len),
                     FG_ERR_LIMIT);
    assert_int_equal(
        fg_protect_seal(f->k, FG_KEY_PII, "t", "c", "1", "0123456789", 10, ct, sizeof ct, &len),
        FG_OK);
    assert_int_equal(
        fg_protect_open(f->k, FG_KEY_PII, "t", "c", "1", ct, len, out, sizeof out, &out_len),
        FG_ERR_LIMIT);
    uint32_t version = 0;
    assert_int_equal(fg_protect_version_of(ct, len, &version), FG_OK);
    assert_int_equal(version, 1);
    uint8_t *big = malloc(FG_PROTECT_PLAINTEXT_MAX + 1);
    assert_non_null(big);
    assert_int_equal(fg_protect_seal(f->k, FG_KEY_PII, "t", "c", "1", big,
                                     FG_PROTECT_PLAINTEXT_MAX + 1, ct, sizeof ct, &len),
                     FG_ERR_TOO_LARGE);
    free(big);
}

static void test_blind_index(void **state)
{
    struct fixture *f = *state;
    uint8_t a[FG_PROTECT_INDEX_LEN], b[FG_PROTECT_INDEX_LEN];
    assert_int_equal(fg_protect_index(f->k, "phone", "13800138000", 11, a), FG_ERR_SEALED);
    init_keys(f, FG_SUITE_INTL);
    assert_int_equal(fg_protect_index(f->k, "phone", "13800138000", 11, a), FG_OK);
    assert_int_equal(fg_protect_index(f->k, "phone", "13800138000", 11, b), FG_OK);
    assert_memory_equal(a, b, sizeof a);
    /* Same bytes split differently between field and value: different index. */
    assert_int_equal(fg_protect_index(f->k, "phone1", "3800138000", 10, b), FG_OK);
    assert_memory_not_equal(a, b, sizeof a);
    assert_int_equal(fg_protect_index(f->k, "email", "13800138000", 11, b), FG_OK);
    assert_memory_not_equal(a, b, sizeof a);
    assert_int_equal(fg_protect_index(f->k, "phone", "13800138001", 11, b), FG_OK);
    assert_memory_not_equal(a, b, sizeof a);
    /* Stable across seal/unseal; versioned after rotation. */
    fg_keys_seal(f->k);
    unseal(f);
    assert_int_equal(fg_protect_index(f->k, "phone", "13800138000", 11, b), FG_OK);
    assert_memory_equal(a, b, sizeof a);
    const char *problem = NULL;
    assert_int_equal(fg_keys_rotate(f->k, FG_KEY_INDEX, NULL, &problem), FG_OK);
    assert_int_equal(fg_protect_index(f->k, "phone", "13800138000", 11, b), FG_OK);
    assert_memory_not_equal(a, b, sizeof a);
    assert_int_equal(fg_protect_index_version(f->k, 1, "phone", "13800138000", 11, b), FG_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(fg_protect_index(f->k, "", "x", 1, b), FG_ERR_INVALID);
}

static void test_registry(void **state)
{
    (void)state;
    assert_int_equal(fg_protect_register_column("customer", "id", "name", FG_KEY_PII), FG_OK);
    assert_int_equal(fg_protect_register_column("customer", "id", "name", FG_KEY_PII),
                     FG_ERR_CONFLICT);
    assert_int_equal(fg_protect_register_column("customer", "id", "id", FG_KEY_PII),
                     FG_ERR_INVALID);
    assert_int_equal(fg_protect_register_column("Customer", "id", "x", FG_KEY_PII), FG_ERR_INVALID);
    assert_int_equal(fg_protect_register_column("c\"; DROP TABLE x; --", "id", "x", FG_KEY_PII),
                     FG_ERR_INVALID);
    assert_int_equal(fg_protect_register_column("1abc", "id", "x", FG_KEY_PII), FG_ERR_INVALID);
    assert_int_equal(fg_protect_register_column("t", "id", "x", FG_KEY_SIGN), FG_ERR_INVALID);
    assert_int_equal(fg_protect_register_column("", "id", "x", FG_KEY_PII), FG_ERR_INVALID);
    char name[80];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    assert_int_equal(fg_protect_register_column(name, "id", "x", FG_KEY_PII), FG_ERR_INVALID);
    for (unsigned i = 1; i < FG_PROTECT_COLUMNS_MAX; i++) {
        char col[32];
        snprintf(col, sizeof col, "c%u", i);
        assert_int_equal(fg_protect_register_column("t", "id", col, FG_KEY_PAN), FG_OK);
    }
    assert_int_equal(fg_protect_register_column("t", "id", "one_more", FG_KEY_PAN), FG_ERR_LIMIT);
}

/* ---- the lifecycle over stored ciphertexts -----------------------------------------------------
 */

struct sql_arg {
    const char *sql;
    const struct fg_val *p;
    int n;
    fg_row_fn row;
    void *ctx;
};

static fg_rc sql_intent(fg_conn *conn, void *arg)
{
    const struct sql_arg *a = arg;
    return fg_conn_exec(conn, a->sql, a->p, a->n, a->row, a->ctx, NULL);
}

static void sql_write(fg_store *s, const char *sql, const struct fg_val *p, int n)
{
    struct sql_arg a = {sql, p, n, NULL, NULL};
    assert_int_equal(fg_store_write(s, sql_intent, &a), FG_OK);
}

static void plaintext_of(int i, char *out, size_t cap)
{
    snprintf(out, cap, "customer number %d, born 1990-03-%02d", i, i % 28 + 1);
}

/* Customers with INTEGER ids (pii) and cards with TEXT ids (pan). */
static void populate(struct fixture *f)
{
    sql_write(f->store, "CREATE TABLE customer (id INTEGER PRIMARY KEY, name BLOB)", NULL, 0);
    sql_write(f->store, "CREATE TABLE card (card_id TEXT PRIMARY KEY, pan BLOB)", NULL, 0);
    for (int i = 1; i <= ROWS; i++) {
        char pt[64], row[32];
        plaintext_of(i, pt, sizeof pt);
        snprintf(row, sizeof row, "%d", i);
        uint8_t ct[FG_PROTECT_SEALED_MAX(64)];
        size_t len = 0;
        assert_int_equal(fg_protect_seal(f->k, FG_KEY_PII, "customer", "name", row, pt, strlen(pt),
                                         ct, sizeof ct, &len),
                         FG_OK);
        struct fg_val p[2] = {FG_VINT(i), FG_VBLOB(ct, len)};
        sql_write(f->store, "INSERT INTO customer (id, name) VALUES (?1, ?2)", p, 2);
        if (i % 3 == 0) {
            char id[32];
            snprintf(id, sizeof id, "card-%04d", i);
            assert_int_equal(fg_protect_seal(f->k, FG_KEY_PAN, "card", "pan", id, pt, strlen(pt),
                                             ct, sizeof ct, &len),
                             FG_OK);
            struct fg_val q[2] = {FG_VSTR(id), FG_VBLOB(ct, len)};
            sql_write(f->store, "INSERT INTO card (card_id, pan) VALUES (?1, ?2)", q, 2);
        }
    }
    /* A NULL field is simply not protected data. */
    struct fg_val p[1] = {FG_VINT(ROWS + 1)};
    sql_write(f->store, "INSERT INTO customer (id, name) VALUES (?1, NULL)", p, 1);
    assert_int_equal(fg_protect_register_column("customer", "id", "name", FG_KEY_PII), FG_OK);
    assert_int_equal(fg_protect_register_column("card", "card_id", "pan", FG_KEY_PAN), FG_OK);
}

struct check_ctx {
    fg_keys *k;
    uint32_t want_version;
    int rows;
};

static fg_rc check_customer(void *ctx, const struct fg_val *cols, int ncols)
{
    struct check_ctx *c = ctx;
    assert_int_equal(ncols, 2);
    if (cols[1].type == FG_VAL_NULL)
        return FG_OK;
    char row[32], want[64];
    snprintf(row, sizeof row, "%" PRId64, cols[0].i);
    plaintext_of((int)cols[0].i, want, sizeof want);
    uint8_t out[64];
    size_t len = 0;
    assert_int_equal(fg_protect_open(c->k, FG_KEY_PII, "customer", "name", row, cols[1].p,
                                     cols[1].n, out, sizeof out, &len),
                     FG_OK);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(out, want, len);
    assert_int_equal(header_version(cols[1].p), c->want_version);
    c->rows++;
    return FG_OK;
}

static void check_customers(struct fixture *f, uint32_t want_version)
{
    struct check_ctx c = {f->k, want_version, 0};
    fg_conn *conn = NULL;
    assert_int_equal(fg_store_read_acquire(f->store, &conn), FG_OK);
    assert_int_equal(fg_conn_exec(conn, "SELECT id, name FROM customer ORDER BY id", NULL, 0,
                                  check_customer, &c, NULL),
                     FG_OK);
    fg_store_read_release(f->store, conn);
    assert_int_equal(c.rows, ROWS);
}

static fg_rc int_row(void *ctx, const struct fg_val *cols, int ncols)
{
    assert_int_equal(ncols, 1);
    assert_int_equal(cols[0].type, FG_VAL_INT);
    *(int64_t *)ctx = cols[0].i;
    return FG_OK;
}

static uint64_t count_version(struct fixture *f, enum fg_key_purpose p, uint32_t v)
{
    uint64_t n = 0;
    fg_conn *conn = NULL;
    assert_int_equal(fg_store_read_acquire(f->store, &conn), FG_OK);
    assert_int_equal(fg_protect_count_version(conn, p, v, &n), FG_OK);
    fg_store_read_release(f->store, conn);
    return n;
}

static void test_rotate_rewrap_destroy(void **state)
{
    struct fixture *f = *state;
    init_keys(f, FG_SUITE_INTL);
    assert_int_equal(fg_protect_attach(f->k), FG_OK);
    populate(f);
    check_customers(f, 1);
    assert_int_equal(count_version(f, FG_KEY_PII, 1), ROWS);
    assert_int_equal(count_version(f, FG_KEY_PAN, 1), ROWS / 3);

    /* Keep one ciphertext under v1 aside, as a backup would. */
    static const char kept_pt[] = "an old ciphertext kept elsewhere";
    uint8_t kept[FG_PROTECT_SEALED_MAX(sizeof kept_pt)];
    size_t kept_len = 0;
    assert_int_equal(fg_protect_seal(f->k, FG_KEY_PII, "customer", "name", "999", kept_pt,
                                     sizeof kept_pt, kept, sizeof kept, &kept_len),
                     FG_OK);

    const char *problem = NULL;
    uint32_t v = 0;
    assert_int_equal(fg_keys_rotate(f->k, FG_KEY_PII, &v, &problem), FG_OK);
    assert_int_equal(v, 2);
    check_customers(f, 1); /* old rows still open under the decrypt-only version */

    /* Destroy refused while ciphertexts use v1, with one share, with two equal shares. */
    assert_int_equal(fg_keys_destroy(f->k, FG_KEY_PII, 1, f->shares[0], f->shares[1], &problem),
                     FG_ERR_CONFLICT);
    assert_non_null(strstr(problem, "still used"));
    assert_int_equal(fg_keys_destroy(f->k, FG_KEY_PII, 1, NULL, f->shares[1], &problem),
                     FG_ERR_PERMISSION);
    assert_int_equal(fg_keys_destroy(f->k, FG_KEY_PII, 1, f->shares[2], f->shares[2], &problem),
                     FG_ERR_PERMISSION);

    /* Rewrap in batches of BATCH rows per intent. */
    struct fg_protect_rewrap_stats st;
    assert_int_equal(fg_protect_rewrap(f->k, f->store, BATCH, &st), FG_OK);
    assert_int_equal(st.rewrapped, ROWS); /* pan was not rotated: untouched */
    assert_int_equal(st.skipped, 0);
    assert_true(st.intents >= (ROWS + BATCH - 1) / BATCH);
    check_customers(f, 2);
    assert_int_equal(count_version(f, FG_KEY_PII, 1), 0);
    assert_int_equal(count_version(f, FG_KEY_PII, 2), ROWS);
    assert_int_equal(fg_protect_rewrap(f->k, f->store, BATCH, &st), FG_OK); /* idempotent */
    assert_int_equal(st.rewrapped, 0);

    /* Now v1 can be destroyed, by two custodians. */
    assert_int_equal(fg_keys_destroy(f->k, FG_KEY_PII, 1, f->shares[2], f->shares[1], &problem),
                     FG_OK);
    uint8_t out[sizeof kept_pt];
    size_t out_len = 0;
    assert_int_equal(fg_protect_open(f->k, FG_KEY_PII, "customer", "name", "999", kept, kept_len,
                                     out, sizeof out, &out_len),
                     FG_ERR_NOT_FOUND); /* "key version destroyed" */
    assert_int_equal(out_len, 0);
    check_customers(f, 2);

    /* Crypto-shredded: no wrapped key left in the database. */
    fg_conn *conn = NULL;
    int64_t shredded = -1;
    assert_int_equal(fg_store_read_acquire(f->store, &conn), FG_OK);
    assert_int_equal(fg_conn_exec(conn,
                                  "SELECT count(*) FROM keys_keyring WHERE purpose = 'pii' "
                                  "AND version = 1 AND wrapped IS NULL AND nonce IS NULL "
                                  "AND state = 'destroyed' AND destroyed_ms > 0",
                                  NULL, 0, int_row, &shredded, NULL),
                     FG_OK);
    fg_store_read_release(f->store, conn);
    assert_int_equal(shredded, 1);

    /* After a restart the destroyed version stays destroyed. */
    close_all(f);
    open_all(f);
    assert_int_equal(fg_protect_attach(f->k), FG_OK);
    assert_int_equal(fg_protect_open(f->k, FG_KEY_PII, "customer", "name", "999", kept, kept_len,
                                     out, sizeof out, &out_len),
                     FG_ERR_SEALED);
    unseal(f);
    assert_int_equal(fg_protect_open(f->k, FG_KEY_PII, "customer", "name", "999", kept, kept_len,
                                     out, sizeof out, &out_len),
                     FG_ERR_NOT_FOUND);
    check_customers(f, 2);
}

/* A row whose ciphertext cannot be opened (destroyed version or tampered) is skipped by the
 * rewrap, which still finishes. */
static void test_rewrap_skips_unopenable(void **state)
{
    struct fixture *f = *state;
    init_keys(f, FG_SUITE_GM);
    assert_int_equal(fg_protect_attach(f->k), FG_OK);
    populate(f);
    const char *problem = NULL;
    assert_int_equal(fg_keys_rotate(f->k, FG_KEY_PII, NULL, &problem), FG_OK);
    /* Move row 2's ciphertext into row 3: it no longer opens there. */
    sql_write(f->store,
              "UPDATE customer SET name = (SELECT name FROM customer WHERE id = 2) "
              "WHERE id = 3",
              NULL, 0);
    struct fg_protect_rewrap_stats st;
    assert_int_equal(fg_protect_rewrap(f->k, f->store, 4, &st), FG_OK);
    assert_int_equal(st.rewrapped, ROWS - 1);
    assert_int_equal(st.skipped, 1);
    assert_int_equal(count_version(f, FG_KEY_PII, 1), 1);
    assert_int_equal(fg_keys_destroy(f->k, FG_KEY_PII, 1, f->shares[0], f->shares[1], &problem),
                     FG_ERR_CONFLICT);
    /* Sealed: the job stops with FG_ERR_SEALED. */
    fg_keys_seal(f->k);
    assert_int_equal(fg_protect_rewrap(f->k, f->store, 4, &st), FG_ERR_SEALED);
    assert_int_equal(fg_protect_rewrap(f->k, f->store, FG_PROTECT_REWRAP_BATCH_MAX + 1, &st),
                     FG_ERR_LIMIT);
}

static void test_restart_opens_old_ciphertexts(void **state)
{
    struct fixture *f = *state;
    init_keys(f, FG_SUITE_GM);
    populate(f);
    close_all(f);
    open_all(f);
    uint8_t out[64];
    size_t len = 0;
    static const uint8_t junk[40] = {1, 2, FG_KEY_PII, 0, 0, 0, 1};
    assert_int_equal(fg_protect_open(f->k, FG_KEY_PII, "customer", "name", "1", junk, sizeof junk,
                                     out, sizeof out, &len),
                     FG_ERR_SEALED);
    unseal(f);
    check_customers(f, 1);
}

/* Names at FG_PROTECT_NAME_MAX: the longest SQL the registry builds still fits. */
static void test_longest_names(void **state)
{
    struct fixture *f = *state;
    init_keys(f, FG_SUITE_INTL);
    assert_int_equal(fg_protect_attach(f->k), FG_OK);
    char table[FG_PROTECT_NAME_MAX + 1], id[FG_PROTECT_NAME_MAX + 1], col[FG_PROTECT_NAME_MAX + 1];
    memset(table, 't', FG_PROTECT_NAME_MAX);
    memset(id, 'i', FG_PROTECT_NAME_MAX);
    memset(col, 'c', FG_PROTECT_NAME_MAX);
    table[FG_PROTECT_NAME_MAX] = id[FG_PROTECT_NAME_MAX] = col[FG_PROTECT_NAME_MAX] = '\0';
    char sql[512];
    snprintf(sql, sizeof sql, "CREATE TABLE %s (%s INTEGER PRIMARY KEY, %s BLOB)", table, id, col);
    sql_write(f->store, sql, NULL, 0);
    uint8_t ct[FG_PROTECT_SEALED_MAX(4)];
    size_t len = 0;
    assert_int_equal(
        fg_protect_seal(f->k, FG_KEY_PII, table, col, "1", "data", 4, ct, sizeof ct, &len), FG_OK);
    snprintf(sql, sizeof sql, "INSERT INTO %s (%s, %s) VALUES (1, ?1)", table, id, col);
    struct fg_val p[1] = {FG_VBLOB(ct, len)};
    sql_write(f->store, sql, p, 1);
    assert_int_equal(fg_protect_register_column(table, id, col, FG_KEY_PII), FG_OK);
    assert_int_equal(count_version(f, FG_KEY_PII, 1), 1);
    const char *problem = NULL;
    assert_int_equal(fg_keys_rotate(f->k, FG_KEY_PII, NULL, &problem), FG_OK);
    struct fg_protect_rewrap_stats st;
    assert_int_equal(fg_protect_rewrap(f->k, f->store, 1, &st), FG_OK);
    assert_int_equal(st.rewrapped, 1);
    assert_int_equal(count_version(f, FG_KEY_PII, 2), 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_roundtrip_intl),
        T(test_roundtrip_gm),
        T(test_moved_and_flipped_intl),
        T(test_moved_and_flipped_gm),
        T(test_arguments),
        T(test_blind_index),
        T(test_registry),
        T(test_rotate_rewrap_destroy),
        T(test_rewrap_skips_unopenable),
        T(test_restart_opens_old_ciphertexts),
        T(test_longest_names),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
