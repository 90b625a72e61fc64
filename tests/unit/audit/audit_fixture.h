/*
 * audit_fixture.h — what the audit tests share: key material for a suite, a store with the
 * audit log attached (optionally behind the fault backend), blocking and asynchronous
 * submission of intents carrying records, and raw SQLite access for playing the attacker.
 * Header-only (static inline) so each test_*.c stays one executable.
 */
#ifndef FG_TESTS_AUDIT_FIXTURE_H
#define FG_TESTS_AUDIT_FIXTURE_H

#include "testutil.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/log.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "store/fault.h"
#include "store/store.h"

static const enum fg_suite test_suites[] = {FG_SUITE_INTL, FG_SUITE_GM};
#define TEST_SUITES 2

/* Keys for one suite; the fg_audit_keys view points into the struct (never copy it). */
struct test_keys {
    enum fg_suite suite;
    uint8_t mac[32];
    uint8_t priv[FG_SIGN_PRIVATE_LEN];
    uint8_t pub[FG_SIGN_PUBLIC_MAX];
    size_t pub_len;
    struct fg_audit_mac_key mk;
    struct fg_audit_public_key pk;
    struct fg_audit_keys keys;        /* with the private key: for fg_audit_open */
    struct fg_audit_keys verify_keys; /* MAC + public key only: what an auditor holds */
};

static inline void test_keys_make(struct test_keys *k, enum fg_suite suite)
{
    assert_int_equal(fg_crypto_init(), FG_OK);
    memset(k, 0, sizeof *k);
    k->suite = suite;
    assert_int_equal(fg_random(k->mac, sizeof k->mac), FG_OK);
    assert_int_equal(fg_sign_keygen(suite, k->priv), FG_OK);
    assert_int_equal(fg_sign_public(suite, k->priv, k->pub, &k->pub_len), FG_OK);
    k->mk = (struct fg_audit_mac_key){.version = 1, .key = k->mac, .len = sizeof k->mac};
    k->pk = (struct fg_audit_public_key){.version = 1, .key = k->pub, .len = k->pub_len};
    k->keys = (struct fg_audit_keys){.suite = suite,
                                     .mac_keys = &k->mk,
                                     .mac_key_count = 1,
                                     .sign_private = k->priv,
                                     .sign_version = 1,
                                     .public_keys = &k->pk,
                                     .public_key_count = 1};
    k->verify_keys = k->keys;
    k->verify_keys.sign_private = NULL;
}

struct test_env {
    char dir[256];
    char db[512];
    char anchor[512];
    struct test_keys k;
    const struct fg_store_ops *ops; /* NULL: SQLite */
    uint32_t checkpoint_records;
    int64_t checkpoint_interval_ms;
    fg_store *st;
    fg_audit_log *log;
};

static inline void test_env_start(struct test_env *e)
{
    struct fg_store_options so = {.ops = e->ops, .path = e->db};
    assert_int_equal(fg_store_open(&so, &e->st), FG_OK);
    struct fg_audit_options ao = {.keys = e->k.keys,
                                  .anchor_path = e->anchor,
                                  .checkpoint_records = e->checkpoint_records,
                                  .checkpoint_interval_ms = e->checkpoint_interval_ms};
    assert_int_equal(fg_audit_open(&ao, &e->log), FG_OK);
    fg_audit_attach(e->st, e->log);
}

static inline void test_env_stop(struct test_env *e)
{
    fg_store_close(e->st);
    fg_audit_close(e->log);
    e->st = NULL;
    e->log = NULL;
}

static inline void test_env_init(struct test_env *e, const char *name, enum fg_suite suite,
                                 const struct fg_store_ops *ops, uint32_t cp_records)
{
    memset(e, 0, sizeof *e);
    fg_test_tmpdir(name, e->dir, sizeof e->dir);
    snprintf(e->db, sizeof e->db, "%s/finguard.db", e->dir);
    snprintf(e->anchor, sizeof e->anchor, "%s/audit-anchor.jsonl", e->dir);
    test_keys_make(&e->k, suite);
    e->ops = ops;
    e->checkpoint_records = cp_records;
    test_env_start(e);
}

static inline void test_env_done(struct test_env *e)
{
    if (e->st != NULL || e->log != NULL)
        test_env_stop(e);
    fg_test_rmtree(e->dir);
}

static inline void test_record(struct fg_audit_record *rec, const char *action, int i)
{
    char actor[32], object[32], ip[32];
    snprintf(actor, sizeof actor, "user-%d", i % 7);
    snprintf(object, sizeof object, "obj-%d", i);
    snprintf(ip, sizeof ip, "10.0.%d.%d", i / 250 % 250, i % 250);
    struct fg_audit_actor who = {.request_id = "req-test",
                                 .actor_id = actor,
                                 .actor_role = i % 3 ? "operator" : "security_admin",
                                 .source_ip = ip,
                                 .device_id = "dev-1"};
    assert_int_equal(fg_audit_record_init(rec, &who, action, "diag", object), FG_OK);
    char details[96];
    int n = snprintf(details, sizeof details, "{\"i\":%d,\"note\":\"n%d\"}", i, i);
    assert_int_equal(fg_audit_record_details(rec, details, (size_t)n), FG_OK);
}

/* ---- intents ----------------------------------------------------------------------------- */

static inline fg_rc test_insert_fn(fg_conn *c, void *arg)
{
    const char *payload = arg ? arg : "audit-test";
    struct fg_val p[2] = {FG_VSTR(payload), FG_VINT(fg_time_wall_ms())};
    return fg_conn_exec(c, "INSERT INTO diag_write (payload, created_ms) VALUES (?1, ?2)", p, 2,
                        NULL, NULL, NULL);
}

static inline fg_rc test_fail_fn(fg_conn *c, void *arg)
{
    fg_rc rc = test_insert_fn(c, arg); /* changes something, then fails: rolled back */
    return rc != FG_OK ? rc : FG_ERR_CONFLICT;
}

/* An asynchronous submission; a latch counts completions. */
struct test_latch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned done;
};

struct test_job {
    struct fg_intent in;
    struct fg_audit_record rec;
    struct test_latch *latch;
    fg_rc rc;
    int64_t batch;
};

static inline void test_latch_init(struct test_latch *l)
{
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->done = 0;
}

static inline void test_latch_destroy(struct test_latch *l)
{
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
}

static inline void test_job_done(struct fg_intent *in)
{
    struct test_job *j = in->done_ctx;
    j->rc = in->rc;
    j->batch = in->seq;
    pthread_mutex_lock(&j->latch->mu);
    j->latch->done++;
    pthread_cond_broadcast(&j->latch->cv);
    pthread_mutex_unlock(&j->latch->mu);
}

/* Submit fn(arg) with j->rec attached (or no record if with_record is 0). */
static inline void test_job_submit(fg_store *st, struct test_job *j, struct test_latch *l,
                                   fg_intent_fn fn, void *arg, int with_record)
{
    j->latch = l;
    j->in = (struct fg_intent){.fn = fn,
                               .arg = arg,
                               .done = test_job_done,
                               .done_ctx = j,
                               .record = with_record ? &j->rec : NULL};
    assert_int_equal(fg_store_submit(st, &j->in), FG_OK);
}

static inline void test_latch_wait(struct test_latch *l, unsigned n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 60;
    pthread_mutex_lock(&l->mu);
    int rc = 0;
    while (l->done < n && rc == 0)
        rc = pthread_cond_timedwait(&l->cv, &l->mu, &until);
    unsigned done = l->done;
    pthread_mutex_unlock(&l->mu);
    assert_int_equal(done, n);
}

/* The gate: an intent that holds the writer (inside its batch) until opened, so that
 * everything submitted meanwhile is taken as the next batch. */
struct test_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int inside, open;
    struct test_job job;
    struct test_latch latch;
};

static inline fg_rc test_gate_fn(fg_conn *c, void *arg)
{
    (void)c;
    struct test_gate *g = arg;
    pthread_mutex_lock(&g->mu);
    g->inside = 1;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    return FG_OK;
}

static inline void test_gate_close(struct test_gate *g, fg_store *st)
{
    memset(g, 0, sizeof *g);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    test_latch_init(&g->latch);
    test_job_submit(st, &g->job, &g->latch, test_gate_fn, g, 0);
    pthread_mutex_lock(&g->mu);
    while (!g->inside)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static inline void test_gate_open(struct test_gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    test_latch_wait(&g->latch, 1);
    test_latch_destroy(&g->latch);
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

/* ---- raw SQLite: reading back and playing the attacker ----------------------------------- */

static inline sqlite3 *test_sql_open(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static inline void test_sql_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fprintf(stderr, "sql failed: %s: %s\n", sql, err ? err : "?");
    sqlite3_free(err);
    assert_int_equal(rc, SQLITE_OK);
}

static inline int64_t test_sql_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Text of a one-row, one-column query into out ("" if none). */
static inline void test_sql_text(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    out[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

/* What an attacker with the file does first: the append-only triggers go. */
static inline void test_sql_drop_triggers(sqlite3 *db)
{
    test_sql_exec(db, "DROP TRIGGER IF EXISTS audit_log_no_update;"
                      "DROP TRIGGER IF EXISTS audit_log_delete_needs_retention;"
                      "DROP TRIGGER IF EXISTS audit_checkpoint_no_update;"
                      "DROP TRIGGER IF EXISTS audit_checkpoint_delete_covered;");
}

static inline void test_copy_file(const char *from, const char *to)
{
    size_t len = 0;
    char *data = fg_test_read_file(from, &len);
    assert_non_null(data);
    FILE *f = fopen(to, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(data);
}

static inline void test_verify_ok(struct test_env *e, struct fg_audit_report *rep)
{
    fg_rc rc = fg_audit_verify_file(e->db, &e->k.verify_keys, e->anchor, rep);
    if (rc != FG_OK)
        fprintf(stderr, "verify: rc %s problem %s at %lld\n", fg_rc_name(rc),
                fg_audit_problem_name(rep->problem), (long long)rep->first_bad_seq);
    assert_int_equal(rc, FG_OK);
    assert_int_equal(rep->problem, FG_AUDIT_INTACT);
}

#endif
