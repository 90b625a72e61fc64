/*
 * notify_fixture.h — what the outbox and one-time code tests share: a fresh data directory
 * with a store, an initialised (unsealed) keyring and an outbox attached to the store around
 * inner hooks that stand in for the audit log (a test may make the batch fail in their
 * before_commit), plus small helpers to run a function as a write intent,
 * count rows, and read the sink. Header-only (static inline) so each test stays one file.
 */
#ifndef FG_TESTS_NOTIFY_FIXTURE_H
#define FG_TESTS_NOTIFY_FIXTURE_H

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time.h"
#include "crypto/crypto.h"
#include "keys/keys.h"
#include "notify/outbox.h"
#include "protect/protect.h"
#include "store/store.h"

struct notify_env {
    char dir[256];
    char db[512];
    char sink[512];
    fg_store *store;
    fg_keys *k;
    fg_outbox *ob;
    enum fg_outbox_sink sink_kind;
    int fail_batch; /* before_commit fails while set: the whole batch rolls back */
    unsigned inner_intents, inner_commits, inner_rollbacks; /* writer thread only */
    char shares[1][FG_KEYS_SHARE_TEXT_MAX];
};

/* The inner hooks of the chain, standing in for the audit log: a before_commit that can fail
 * on demand, and counters showing the inner hooks run at every point. */
static inline fg_rc env_after_intent(void *ctx, fg_conn *conn, struct fg_intent *it)
{
    (void)conn;
    (void)it;
    ((struct notify_env *)ctx)->inner_intents++;
    return FG_OK;
}

static inline fg_rc env_before_commit(void *ctx, fg_conn *conn)
{
    (void)conn;
    return ((struct notify_env *)ctx)->fail_batch ? FG_ERR_INTERNAL : FG_OK;
}

static inline void env_after_commit(void *ctx)
{
    ((struct notify_env *)ctx)->inner_commits++;
}

static inline void env_after_rollback(void *ctx)
{
    ((struct notify_env *)ctx)->inner_rollbacks++;
}

static inline void notify_env_open(struct notify_env *e)
{
    struct fg_store_options so = {.path = e->db};
    assert_int_equal(fg_store_open(&so, &e->store), FG_OK);
    assert_int_equal(fg_keys_new(e->store, &e->k), FG_OK);
    struct fg_outbox_options oo = {.data_dir = e->dir, .sink = e->sink_kind, .keys = e->k};
    assert_int_equal(fg_outbox_new(&oo, &e->ob), FG_OK);
    struct fg_store_hooks h = {
        .after_intent = env_after_intent,
        .before_commit = env_before_commit,
        .after_commit = env_after_commit,
        .after_rollback = env_after_rollback,
        .ctx = e,
    };
    fg_outbox_attach(e->store, e->ob, &h);
}

static inline void notify_env_close(struct notify_env *e)
{
    fg_store_close(e->store); /* no hook runs after this */
    fg_outbox_free(e->ob);
    fg_keys_free(e->k);
    e->store = NULL;
    e->ob = NULL;
    e->k = NULL;
}

static inline struct notify_env *notify_env_new(const char *name, enum fg_outbox_sink sink)
{
    struct notify_env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    assert_int_equal(fg_crypto_init(), FG_OK);
    fg_time_set_offset_s(0);
    fg_test_tmpdir(name, e->dir, sizeof e->dir);
    snprintf(e->db, sizeof e->db, "%s/finguard.db", e->dir);
    snprintf(e->sink, sizeof e->sink, "%s/%s", e->dir, FG_OUTBOX_FILE);
    e->sink_kind = sink;
    notify_env_open(e);
    const char *problem = NULL;
    assert_int_equal(fg_keys_init(e->k, FG_SUITE_INTL, 1, 1, e->shares, &problem), FG_OK);
    return e;
}

static inline void notify_env_free(struct notify_env *e)
{
    notify_env_close(e);
    fg_time_set_offset_s(0);
    fg_wipe(e->shares, sizeof e->shares);
    fg_test_rmtree(e->dir);
    free(e);
}

/* ---- running things as write intents ----------------------------------------------------- */

static inline fg_rc env_count_row(void *ctx, const struct fg_val *cols, int ncols)
{
    assert_int_equal(ncols, 1);
    *(int64_t *)ctx = cols[0].i;
    return FG_OK;
}

/* SELECT count(*) ... through a read lease. */
static inline int64_t env_count(struct notify_env *e, const char *sql)
{
    fg_conn *c = NULL;
    assert_int_equal(fg_store_read_acquire(e->store, &c), FG_OK);
    int64_t n = -1;
    assert_int_equal(fg_conn_exec(c, sql, NULL, 0, env_count_row, &n, NULL), FG_OK);
    fg_store_read_release(e->store, c);
    return n;
}

/* Occurrences of s in the database file and its WAL (a missing WAL counts 0). */
static inline long env_db_count(struct notify_env *e, const char *s)
{
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", e->db);
    long a = fg_test_file_count(e->db, s, strlen(s));
    long b = fg_test_file_count(wal, s, strlen(s));
    assert_true(a >= 0);
    return a + (b > 0 ? b : 0);
}

/* The sink's contents ("" if it does not exist); caller frees. */
static inline char *env_sink(struct notify_env *e)
{
    size_t len = 0;
    char *s = fg_test_read_file(e->sink, &len);
    if (s == NULL) {
        s = calloc(1, 1);
        assert_non_null(s);
    }
    return s;
}

static inline size_t env_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

#endif
