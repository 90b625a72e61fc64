/*
 * test_store.c — the store: group commit under 64 writer threads, per-intent savepoints,
 * batch-level failures (injected COMMIT failure, simulated full disk, failing hook,
 * failing ROLLBACK), hooks, the bounded queue, draining on close, reads that never wait
 * for the writer, the read pool, migrations, and error mapping through the store.
 *
 * To force intents into one batch deterministically, a "gate" intent is submitted first:
 * it inserts a row and then blocks the writer (inside its transaction) until the test
 * opens the gate. Everything submitted meanwhile queues up and is taken as the next batch.
 */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/limits.h"
#include "base/log.h"
#include "base/time.h"
#include "store/fault.h"
#include "store/migrations.h"
#include "store/store.h"

struct fixture {
    char dir[256];
    char path[512];
    fg_store *st;
};

static fg_store *store_open_with(struct fixture *f, const struct fg_store_ops *ops,
                                 unsigned queue_max, unsigned pool_max)
{
    struct fg_store_options opt = {
        .ops = ops, .path = f->path, .queue_max = queue_max, .read_pool_max = pool_max};
    fg_store *st = NULL;
    assert_int_equal(fg_store_open(&opt, &st), FG_OK);
    assert_non_null(st);
    return st;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    fg_test_tmpdir("store", f->dir, sizeof f->dir);
    snprintf(f->path, sizeof f->path, "%s/finguard.db", f->dir);
    fg_store_fault_clear();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fg_store_fault_clear();
    fg_store_close(f->st);
    fg_test_rmtree(f->dir);
    free(f);
    return 0;
}

/* ---- helpers: rows, completion latch, gate ------------------------------------------ */

static fg_rc insert_row(fg_conn *c, const char *payload)
{
    struct fg_val p[2] = {FG_VSTR(payload), FG_VINT(fg_time_wall_ms())};
    return fg_conn_exec(c, "INSERT INTO diag_write (payload, created_ms) VALUES (?1, ?2)",
                        p, 2, NULL, NULL, NULL);
}

static fg_rc row_int(void *ctx, const struct fg_val *cols, int ncols)
{
    assert_int_equal(ncols, 1);
    assert_int_equal(cols[0].type, FG_VAL_INT);
    *(int64_t *)ctx = cols[0].i;
    return FG_OK;
}

/* One integer through a read lease. */
static int64_t read_int(fg_store *st, const char *sql, const struct fg_val *params, int n)
{
    fg_conn *c;
    assert_int_equal(fg_store_read_acquire(st, &c), FG_OK);
    int64_t v = -1;
    assert_int_equal(fg_conn_exec(c, sql, params, n, row_int, &v, NULL), FG_OK);
    fg_store_read_release(st, c);
    return v;
}

static int64_t count_payload(fg_store *st, const char *payload)
{
    struct fg_val p = FG_VSTR(payload);
    return read_int(st, "SELECT count(*) FROM diag_write WHERE payload = ?1", &p, 1);
}

static int64_t count_rows(fg_store *st, const char *sql)
{
    return read_int(st, sql, NULL, 0);
}

/* Counts completions across threads; waiters block (bounded) until a number is reached. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned done;
} latch = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

static void latch_reset(void)
{
    pthread_mutex_lock(&latch.mu);
    latch.done = 0;
    pthread_mutex_unlock(&latch.mu);
}

static void latch_wait(unsigned n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 60;
    pthread_mutex_lock(&latch.mu);
    int rc = 0;
    while (latch.done < n && rc == 0)
        rc = pthread_cond_timedwait(&latch.cv, &latch.mu, &until);
    unsigned done = latch.done;
    pthread_mutex_unlock(&latch.mu);
    assert_int_equal(done, n);
}

/* A row intent submitted asynchronously. */
struct row_intent {
    struct fg_intent in;
    fg_store *st;
    char payload[64];
    fg_rc result_after_insert; /* returned after a successful insert (FG_OK: keep it) */
    atomic_int done_calls;
};

static fg_rc row_intent_fn(fg_conn *c, void *arg)
{
    struct row_intent *r = arg;
    fg_rc rc = insert_row(c, r->payload);
    return rc != FG_OK ? rc : r->result_after_insert;
}

static void row_intent_done(struct fg_intent *in)
{
    struct row_intent *r = in->done_ctx;
    atomic_fetch_add(&r->done_calls, 1);
    pthread_mutex_lock(&latch.mu);
    latch.done++;
    pthread_cond_broadcast(&latch.cv);
    pthread_mutex_unlock(&latch.mu);
}

static void row_intent_init(struct row_intent *r, fg_store *st, const char *prefix, int k)
{
    memset(r, 0, sizeof *r);
    r->st = st;
    snprintf(r->payload, sizeof r->payload, "%s-%d", prefix, k);
    r->in = (struct fg_intent){
        .fn = row_intent_fn, .arg = r, .done = row_intent_done, .done_ctx = r};
}

/* The gate: an intent that inserts "gate" and then holds the writer until opened. */
struct gate {
    struct row_intent row;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int entered, open;
};

static fg_rc gate_fn(fg_conn *c, void *arg)
{
    struct gate *g = arg;
    fg_rc rc = insert_row(c, g->row.payload);
    pthread_mutex_lock(&g->mu);
    g->entered = 1;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    return rc;
}

/* Submit the gate and wait until the writer is inside it. */
static void gate_close(struct gate *g, fg_store *st)
{
    row_intent_init(&g->row, st, "gate", 0);
    g->row.in.fn = gate_fn;
    g->row.in.arg = g;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->entered = g->open = 0;
    assert_int_equal(fg_store_submit(st, &g->row.in), FG_OK);
    pthread_mutex_lock(&g->mu);
    while (!g->entered)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void gate_destroy(struct gate *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

static uint64_t queue_depth(fg_store *st)
{
    struct fg_store_stats s;
    fg_store_stats(st, &s);
    return s.queue_depth;
}

/* ---- group commit under load -------------------------------------------------------- */

enum { WRITERS = 64, WRITES_EACH = 1000 };

struct writer_arg {
    fg_store *st;
    int id;
    int ok;
};

struct one_row {
    fg_store *st;
    char payload[32];
};

static fg_rc one_row_fn(fg_conn *c, void *arg)
{
    struct one_row *r = arg;
    return insert_row(c, r->payload);
}

static void *writer_thread(void *arg)
{
    struct writer_arg *a = arg;
    struct one_row r = {.st = a->st};
    for (int k = 0; k < WRITES_EACH; k++) {
        snprintf(r.payload, sizeof r.payload, "w%d-%d", a->id, k);
        if (fg_store_write(a->st, one_row_fn, &r) == FG_OK)
            a->ok++;
    }
    return NULL;
}

static void test_many_writers_group_commit(void **state)
{
    struct fixture *f = *state;
    f->st = store_open_with(f, NULL, 0, 0);
    pthread_t th[WRITERS];
    struct writer_arg args[WRITERS];
    for (int t = 0; t < WRITERS; t++) {
        args[t] = (struct writer_arg){.st = f->st, .id = t};
        assert_int_equal(pthread_create(&th[t], NULL, writer_thread, &args[t]), 0);
    }
    for (int t = 0; t < WRITERS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(args[t].ok, WRITES_EACH);
    }
    struct fg_store_stats s;
    fg_store_stats(f->st, &s);
    const uint64_t total = (uint64_t)WRITERS * WRITES_EACH;
    assert_true(s.intents_ok == total && s.intents_failed == 0 && s.commits_failed == 0);
    assert_true(s.batch_size_sum == total);
    assert_true(s.batches < total);                     /* batching happened */
    assert_true(s.batch_size_le[0] < s.batches);        /* some batch had > 1 intent */
    uint64_t in_buckets = 0, timed = 0;
    for (unsigned i = 0; i < FG_STORE_BATCH_BUCKETS; i++)
        in_buckets += s.batch_size_le[i];
    for (unsigned i = 0; i < FG_STORE_LATENCY_BUCKETS; i++)
        timed += s.commit_seconds_le[i];
    assert_true(in_buckets == s.batches && timed == s.batches);
    assert_true(s.commit_seconds_sum > 0);
    print_message("    %llu intents in %llu batches (mean %.1f)\n", (unsigned long long)total,
                  (unsigned long long)s.batches, (double)total / (double)s.batches);

    /* Durable: all rows are there after close and reopen. */
    fg_store_close(f->st);
    f->st = store_open_with(f, NULL, 0, 0);
    assert_int_equal(count_rows(f->st, "SELECT count(*) FROM diag_write"), (int64_t)total);
    assert_int_equal(count_payload(f->st, "w63-999"), 1);
}

/* ---- one batch, per-intent results -------------------------------------------------- */

enum { BATCH_N = 10, FAILING = 4 };

static void test_failing_intent_rolls_back_alone(void **state)
{
    struct fixture *f = *state;
    f->st = store_open_with(f, NULL, 0, 0);
    latch_reset();
    struct gate g;
    gate_close(&g, f->st);
    struct row_intent rows[BATCH_N];
    for (int k = 0; k < BATCH_N; k++) {
        row_intent_init(&rows[k], f->st, "b", k);
        if (k == FAILING)
            rows[k].result_after_insert = FG_ERR_POLICY;
        assert_int_equal(fg_store_submit(f->st, &rows[k].in), FG_OK);
    }
    assert_int_equal(queue_depth(f->st), BATCH_N);
    gate_open(&g);
    latch_wait(BATCH_N + 1);
    assert_int_equal(g.row.in.rc, FG_OK);
    for (int k = 0; k < BATCH_N; k++) {
        assert_int_equal(atomic_load(&rows[k].done_calls), 1);
        assert_int_equal(rows[k].in.rc, k == FAILING ? FG_ERR_POLICY : FG_OK);
        assert_true(rows[k].in.seq == rows[0].in.seq); /* one batch */
        assert_int_equal(count_payload(f->st, rows[k].payload), k == FAILING ? 0 : 1);
    }
    assert_true(rows[0].in.seq == g.row.in.seq + 1);
    struct fg_store_stats s;
    fg_store_stats(f->st, &s);
    assert_true(s.batches == 2 && s.intents_ok == BATCH_N && s.intents_failed == 1);
    /* Per-bucket counts: size 1 → bucket ≤1, size 10 → bucket ≤16. */
    assert_true(s.batch_size_le[0] == 1 && s.batch_size_le[3] == 0 && s.batch_size_le[4] == 1);
    gate_destroy(&g);
}

/* ---- hooks -------------------------------------------------------------------------- */

static struct {
    atomic_int after_intent, before_commit, after_commit, after_rollback;
    fg_rc rcs[64];
    fg_store *st;
    int fail_at;       /* after_intent call number (1-based) that fails; 0 = none */
    fg_rc fail_rc;
} hook_log;

static fg_rc hook_after_intent(void *ctx, fg_conn *c, struct fg_intent *in)
{
    assert_ptr_equal(ctx, &hook_log);
    int n = atomic_fetch_add(&hook_log.after_intent, 1) + 1;
    if (n <= 64)
        hook_log.rcs[n - 1] = in->rc;
    if (n == hook_log.fail_at)
        return hook_log.fail_rc;
    /* An "audit record" in the same transaction, keyed by payload and a unique number. */
    static atomic_int audit_seq;
    const char *payload = "write"; /* fg_store_write() intents carry no row_intent */
    if (in->done == row_intent_done)
        payload = ((const struct row_intent *)in->done_ctx)->payload;
    char key[96];
    snprintf(key, sizeof key, "audit:%s#%d", payload, atomic_fetch_add(&audit_seq, 1));
    struct fg_val p[2] = {FG_VSTR(key), FG_VSTR(fg_rc_name(in->rc))};
    return fg_conn_exec(c, "INSERT INTO meta (key, value) VALUES (?1, ?2)", p, 2,
                        NULL, NULL, NULL);
}

static fg_rc hook_before_commit(void *ctx, fg_conn *c)
{
    atomic_fetch_add(&hook_log.before_commit, 1);
    return FG_OK;
}

static void hook_after_commit(void *ctx)
{
    atomic_fetch_add(&hook_log.after_commit, 1);
}

static void hook_after_rollback(void *ctx)
{
    atomic_fetch_add(&hook_log.after_rollback, 1);
}

static void hooks_install(fg_store *st)
{
    memset(&hook_log, 0, sizeof hook_log);
    hook_log.st = st;
    struct fg_store_hooks h = {.after_intent = hook_after_intent,
                               .before_commit = hook_before_commit,
                               .after_commit = hook_after_commit,
                               .after_rollback = hook_after_rollback,
                               .ctx = &hook_log};
    fg_store_set_hooks(st, &h);
}

static int64_t count_audit(fg_store *st)
{
    return count_rows(st, "SELECT count(*) FROM meta WHERE key LIKE 'audit:%'");
}

/* Gate + BATCH_N row intents (one failing by itself); returns after all completed. */
static void run_gated_batch(fg_store *st, struct gate *g, struct row_intent *rows,
                            const char *prefix)
{
    latch_reset();
    gate_close(g, st);
    for (int k = 0; k < BATCH_N; k++) {
        row_intent_init(&rows[k], st, prefix, k);
        if (k == FAILING)
            rows[k].result_after_insert = FG_ERR_POLICY;
        assert_int_equal(fg_store_submit(st, &rows[k].in), FG_OK);
    }
    gate_open(g);
    latch_wait(BATCH_N + 1);
    gate_destroy(g);
}

static void test_hooks_in_transaction(void **state)
{
    struct fixture *f = *state;
    f->st = store_open_with(f, NULL, 0, 0);
    hooks_install(f->st);
    struct gate g;
    struct row_intent rows[BATCH_N];
    run_gated_batch(f->st, &g, rows, "h");
    /* after_intent once per intent with its own rc, in submission order. */
    assert_int_equal(atomic_load(&hook_log.after_intent), BATCH_N + 1);
    assert_int_equal(hook_log.rcs[0], FG_OK); /* the gate */
    for (int k = 0; k < BATCH_N; k++)
        assert_int_equal(hook_log.rcs[k + 1], k == FAILING ? FG_ERR_POLICY : FG_OK);
    assert_int_equal(atomic_load(&hook_log.before_commit), 2);
    assert_int_equal(atomic_load(&hook_log.after_commit), 2); /* once per committed batch */
    assert_int_equal(atomic_load(&hook_log.after_rollback), 0);
    /* The hook's records committed with the batch — the refused intent's one too. */
    assert_int_equal(count_audit(f->st), BATCH_N + 1);
    struct fg_val k = FG_VSTR("audit:h-4#%");
    assert_int_equal(read_int(f->st, "SELECT count(*) FROM meta WHERE key LIKE ?1 AND "
                                     "value = 'FG_ERR_POLICY'",
                              &k, 1),
                     1);

    /* A failing hook fails the whole batch: every intent gets its error, nothing stays. */
    hooks_install(f->st);
    hook_log.fail_at = 1 + 3; /* the gate's batch passes; the 3rd intent of the next fails */
    hook_log.fail_rc = FG_ERR_CRYPTO;
    run_gated_batch(f->st, &g, rows, "hf");
    assert_int_equal(g.row.in.rc, FG_OK);
    for (int k2 = 0; k2 < BATCH_N; k2++) {
        assert_int_equal(rows[k2].in.rc, FG_ERR_CRYPTO);
        assert_int_equal(atomic_load(&rows[k2].done_calls), 1);
        assert_int_equal(count_payload(f->st, rows[k2].payload), 0);
    }
    assert_int_equal(atomic_load(&hook_log.after_rollback), 1);
    assert_int_equal(atomic_load(&hook_log.after_commit), 1);
    assert_int_equal(count_audit(f->st), BATCH_N + 1 + 1); /* + the gate's record */

    /* Removing the hooks: no more calls. */
    fg_store_set_hooks(f->st, NULL);
    struct one_row r = {.st = f->st, .payload = "nohook"};
    assert_int_equal(fg_store_write(f->st, one_row_fn, &r), FG_OK);
    assert_int_equal(atomic_load(&hook_log.after_commit), 1);
}

/* ---- batch failures under the fault backend ----------------------------------------- */

static void test_commit_failure_fails_whole_batch(void **state)
{
    struct fixture *f = *state;
    f->st = store_open_with(f, fg_store_fault_ops(fg_store_sqlite_ops()), 0, 0);
    hooks_install(f->st);
    struct gate g;
    struct row_intent rows[BATCH_N];
    latch_reset();
    gate_close(&g, f->st);
    for (int k = 0; k < BATCH_N; k++) {
        row_intent_init(&rows[k], f->st, "c", k);
        assert_int_equal(fg_store_submit(f->st, &rows[k].in), FG_OK);
    }
    /* The gate's batch commits (1st COMMIT from now); the batch behind it does not. */
    fg_store_fault_fail_nth(FG_FAULT_COMMIT, 2, FG_ERR_IO);
    gate_open(&g);
    latch_wait(BATCH_N + 1);
    gate_destroy(&g);
    assert_int_equal(g.row.in.rc, FG_OK);
    assert_int_equal(count_payload(f->st, "gate-0"), 1);
    for (int k = 0; k < BATCH_N; k++) {
        assert_int_equal(rows[k].in.rc, FG_ERR_IO);
        assert_int_equal(atomic_load(&rows[k].done_calls), 1);
        assert_int_equal(count_payload(f->st, rows[k].payload), 0);
    }
    /* The hook ran for each intent, but its records went with the rolled-back batch. */
    assert_int_equal(atomic_load(&hook_log.after_intent), BATCH_N + 1);
    assert_int_equal(count_audit(f->st), 1);
    assert_int_equal(atomic_load(&hook_log.after_rollback), 1);
    assert_int_equal(atomic_load(&hook_log.after_commit), 1);
    struct fg_store_stats s;
    fg_store_stats(f->st, &s);
    assert_true(s.commits_failed == 1 && s.intents_failed == BATCH_N && s.intents_ok == 1);

    /* The next batch succeeds. */
    struct one_row r = {.st = f->st, .payload = "after"};
    assert_int_equal(fg_store_write(f->st, one_row_fn, &r), FG_OK);
    assert_int_equal(count_payload(f->st, "after"), 1);
    assert_int_equal(atomic_load(&hook_log.after_commit), 2);
}

static void test_disk_full_then_recovers(void **state)
{
    struct fixture *f = *state;
    f->st = store_open_with(f, fg_store_fault_ops(fg_store_sqlite_ops()), 0, 0);
    int64_t before = count_rows(f->st, "SELECT count(*) FROM diag_write");
    fg_store_fault_disk_full(1);
    struct one_row r = {.st = f->st, .payload = "full"};
    assert_int_equal(fg_store_write(f->st, one_row_fn, &r), FG_ERR_DISK_FULL);
    /* A batch of several: every intent gets DISK_FULL, nothing partial. */
    latch_reset();
    struct row_intent rows[BATCH_N];
    for (int k = 0; k < BATCH_N; k++) {
        row_intent_init(&rows[k], f->st, "full", k);
        assert_int_equal(fg_store_submit(f->st, &rows[k].in), FG_OK);
    }
    latch_wait(BATCH_N);
    for (int k = 0; k < BATCH_N; k++)
        assert_int_equal(rows[k].in.rc, FG_ERR_DISK_FULL);
    assert_int_equal(count_rows(f->st, "SELECT count(*) FROM diag_write"), before);
    /* Space again: the store carries on without a restart. */
    fg_store_fault_disk_full(0);
    assert_int_equal(fg_store_write(f->st, one_row_fn, &r), FG_OK);
    assert_int_equal(count_rows(f->st, "SELECT count(*) FROM diag_write"), before + 1);
}

static fg_rc fail_hook(void *ctx, fg_conn *c, struct fg_intent *in)
{
    return FG_ERR_INTERNAL;
}

static void test_rollback_failure_reopens_writer(void **state)
{
    struct fixture *f = *state;
    f->st = store_open_with(f, fg_store_fault_ops(fg_store_sqlite_ops()), 0, 0);
    struct fg_store_hooks h = {.after_intent = fail_hook};
    fg_store_set_hooks(f->st, &h);
    fg_store_fault_fail_nth(FG_FAULT_ROLLBACK, 1, FG_ERR_IO);
    struct one_row r = {.st = f->st, .payload = "lost"};
    assert_int_equal(fg_store_write(f->st, one_row_fn, &r), FG_ERR_INTERNAL);
    assert_int_equal(fg_store_fault_calls(FG_FAULT_ROLLBACK), 1);
    fg_store_set_hooks(f->st, NULL);
    struct one_row r2 = {.st = f->st, .payload = "kept"};
    assert_int_equal(fg_store_write(f->st, one_row_fn, &r2), FG_OK);
    assert_int_equal(fg_store_fault_calls(FG_FAULT_OPEN), 2); /* the writer reconnected */
    assert_int_equal(count_payload(f->st, "lost"), 0);
    assert_int_equal(count_payload(f->st, "kept"), 1);
}

/* ---- queue bounds and shutdown ------------------------------------------------------ */

enum { QUEUE_MAX = 4 };

static void test_queue_full_is_busy(void **state)
{
    struct fixture *f = *state;
    f->st = store_open_with(f, NULL, QUEUE_MAX, 0);
    latch_reset();
    struct gate g;
    gate_close(&g, f->st);
    struct row_intent rows[QUEUE_MAX + 1];
    for (int k = 0; k < QUEUE_MAX; k++) {
        row_intent_init(&rows[k], f->st, "q", k);
        assert_int_equal(fg_store_submit(f->st, &rows[k].in), FG_OK);
    }
    row_intent_init(&rows[QUEUE_MAX], f->st, "q", QUEUE_MAX);
    uint64_t t0 = fg_time_mono_ns();
    assert_int_equal(fg_store_submit(f->st, &rows[QUEUE_MAX].in), FG_ERR_BUSY);
    struct one_row r = {.st = f->st, .payload = "sync"};
    assert_int_equal(fg_store_write(f->st, one_row_fn, &r), FG_ERR_BUSY);
    assert_true(fg_time_mono_ns() - t0 < 1000000000ull); /* refused at once */
    gate_open(&g);
    latch_wait(QUEUE_MAX + 1);
    gate_destroy(&g);
    assert_int_equal(atomic_load(&rows[QUEUE_MAX].done_calls), 0);
    for (int k = 0; k < QUEUE_MAX; k++)
        assert_int_equal(rows[k].in.rc, FG_OK);
}

struct closer {
    fg_store *st;
    atomic_int finished;
};

static void *close_thread(void *arg)
{
    struct closer *c = arg;
    fg_store_close(c->st);
    atomic_store(&c->finished, 1);
    return NULL;
}

enum { QUEUED = 50, PROBES = 2000 };

static void test_close_drains_and_refuses(void **state)
{
    struct fixture *f = *state;
    f->st = store_open_with(f, NULL, 0, 0);
    latch_reset();
    struct gate g;
    gate_close(&g, f->st);
    static struct row_intent rows[QUEUED], probes[PROBES];
    for (int k = 0; k < QUEUED; k++) {
        row_intent_init(&rows[k], f->st, "d", k);
        assert_int_equal(fg_store_submit(f->st, &rows[k].in), FG_OK);
    }
    struct closer closer = {.st = f->st};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, close_thread, &closer), 0);
    /* Until close has flagged the store, submissions are still accepted (and drained). */
    int accepted = 0, refused = 0;
    for (int k = 0; k < PROBES && !refused; k++) {
        row_intent_init(&probes[k], f->st, "p", k);
        fg_rc rc = fg_store_submit(f->st, &probes[k].in);
        if (rc == FG_ERR_SHUTDOWN)
            refused = 1;
        else {
            assert_int_equal(rc, FG_OK);
            accepted++;
            usleep(1000);
        }
    }
    assert_true(refused);
    assert_int_equal(atomic_load(&closer.finished), 0); /* still draining behind the gate */
    gate_open(&g);
    assert_int_equal(pthread_join(th, NULL), 0);
    f->st = NULL; /* closed by the thread */
    gate_destroy(&g);
    latch_wait(1 + QUEUED + (unsigned)accepted);
    for (int k = 0; k < QUEUED; k++) {
        assert_int_equal(atomic_load(&rows[k].done_calls), 1);
        assert_int_equal(rows[k].in.rc, FG_OK);
    }
    for (int k = 0; k < accepted; k++)
        assert_int_equal(atomic_load(&probes[k].done_calls), 1);
    /* Everything drained was committed. */
    f->st = store_open_with(f, NULL, 0, 0);
    assert_int_equal(count_rows(f->st, "SELECT count(*) FROM diag_write"),
                     1 + QUEUED + accepted);
}

/* ---- reads -------------------------------------------------------------------------- */

static void test_reads_do_not_wait_for_writer(void **state)
{
    struct fixture *f = *state;
    f->st = store_open_with(f, NULL, 0, 0);
    struct one_row r = {.st = f->st, .payload = "committed"};
    assert_int_equal(fg_store_write(f->st, one_row_fn, &r), FG_OK);
    latch_reset();
    struct gate g;
    gate_close(&g, f->st); /* the writer now holds an open write transaction */
    uint64_t t0 = fg_time_mono_ns();
    assert_int_equal(count_rows(f->st, "SELECT count(*) FROM diag_write"), 1);
    assert_int_equal(count_payload(f->st, "gate-0"), 0); /* uncommitted: invisible */
    uint64_t elapsed_ns = fg_time_mono_ns() - t0;
    assert_true(elapsed_ns < 500000000ull);
    gate_open(&g);
    latch_wait(1);
    gate_destroy(&g);
    assert_int_equal(count_payload(f->st, "gate-0"), 1);
}

struct acquirer {
    fg_store *st;
    fg_conn *got;
    atomic_int has;
};

static void *acquire_thread(void *arg)
{
    struct acquirer *a = arg;
    if (fg_store_read_acquire(a->st, &a->got) == FG_OK)
        atomic_store(&a->has, 1);
    return NULL;
}

static void test_read_pool_bounded(void **state)
{
    struct fixture *f = *state;
    f->st = store_open_with(f, NULL, 0, 2);
    fg_conn *a, *b;
    assert_int_equal(fg_store_read_acquire(f->st, &a), FG_OK);
    assert_int_equal(fg_store_read_acquire(f->st, &b), FG_OK);
    assert_ptr_not_equal(a, b);
    struct acquirer third = {.st = f->st};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, acquire_thread, &third), 0);
    usleep(100000);
    assert_int_equal(atomic_load(&third.has), 0); /* both leased: it waits */
    fg_store_read_release(f->st, b);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(atomic_load(&third.has), 1);
    assert_ptr_equal(third.got, b); /* reused, not a third connection */
    /* Leased connections refuse writes. */
    assert_int_not_equal(insert_row(a, "via-reader"), FG_OK);
    fg_store_read_release(f->st, a);
    fg_store_read_release(f->st, third.got);
}

/* ---- migrations --------------------------------------------------------------------- */

static unsigned latest_version(void)
{
    assert_true(fg_migrations_count >= 1);
    return fg_migrations[fg_migrations_count - 1].version;
}

static void test_migrations_fresh_and_reopen(void **state)
{
    struct fixture *f = *state;
    const struct fg_store_ops *fault = fg_store_fault_ops(fg_store_sqlite_ops());
    f->st = store_open_with(f, fault, 0, 0);
    assert_int_equal(count_rows(f->st, "PRAGMA user_version"), latest_version());
    assert_int_equal(fg_store_fault_calls(FG_FAULT_BEGIN), fg_migrations_count);
    assert_int_equal(count_rows(f->st, "SELECT count(*) FROM meta WHERE key = 'created_ms'"),
                     1);
    assert_true(count_rows(f->st, "SELECT CAST(value AS INTEGER) FROM meta "
                                  "WHERE key = 'created_ms'") > 1600000000000ll);
    fg_store_close(f->st);
    f->st = NULL;

    fg_store_fault_clear();
    f->st = store_open_with(f, fault, 0, 0);
    assert_int_equal(fg_store_fault_calls(FG_FAULT_BEGIN), 0); /* nothing applied */
    assert_int_equal(count_rows(f->st, "PRAGMA user_version"), latest_version());
}

static void test_migrations_refuse_newer_database(void **state)
{
    struct fixture *f = *state;
    const struct fg_store_ops *ops = fg_store_sqlite_ops();
    fg_conn *c;
    assert_int_equal(ops->open(ops, f->path, 0, &c), FG_OK);
    assert_int_equal(ops->exec_script(c, "PRAGMA user_version = 999999;"), FG_OK);
    ops->close(c);
    struct fg_store_options opt = {.path = f->path};
    fg_store *st = (fg_store *)f;
    assert_int_equal(fg_store_open(&opt, &st), FG_ERR_CONFLICT);
    assert_null(st);
    opt.readonly = 1;
    assert_int_equal(fg_store_open(&opt, &st), FG_ERR_CONFLICT);
    /* Untouched: no table was created. */
    assert_int_equal(ops->open(ops, f->path, 1, &c), FG_OK);
    int64_t tables = -1;
    assert_int_equal(ops->exec(c, "SELECT count(*) FROM sqlite_schema", NULL, 0, row_int,
                               &tables, NULL),
                     FG_OK);
    assert_int_equal(tables, 0);
    ops->close(c);
}

static void test_migration_failure_rolls_back(void **state)
{
    struct fixture *f = *state;
    const struct fg_store_ops *fault = fg_store_fault_ops(fg_store_sqlite_ops());
    fg_store_fault_fail_nth(FG_FAULT_COMMIT, 1, FG_ERR_IO);
    struct fg_store_options opt = {.ops = fault, .path = f->path};
    fg_store *st = NULL;
    assert_int_equal(fg_store_open(&opt, &st), FG_ERR_IO);
    assert_null(st);
    const struct fg_store_ops *ops = fg_store_sqlite_ops();
    fg_conn *c;
    assert_int_equal(ops->open(ops, f->path, 1, &c), FG_OK);
    int64_t v = -1;
    assert_int_equal(ops->exec(c, "PRAGMA user_version", NULL, 0, row_int, &v, NULL), FG_OK);
    assert_int_equal(v, 0);
    assert_int_equal(ops->exec(c, "SELECT count(*) FROM sqlite_schema", NULL, 0, row_int, &v,
                               NULL),
                     FG_OK);
    assert_int_equal(v, 0);
    ops->close(c);
    /* The next open applies it. */
    f->st = store_open_with(f, fault, 0, 0);
    assert_int_equal(count_rows(f->st, "PRAGMA user_version"), latest_version());
}

/* ---- errors through the store ------------------------------------------------------- */

struct err_case {
    fg_store *st;
    int which;
};

static fg_rc err_fn(fg_conn *c, void *arg)
{
    struct err_case *e = arg;
    static char long_payload[258];
    struct fg_val many[FG_STORE_PARAMS_MAX + 1];
    switch (e->which) {
    case 0:
        return fg_conn_exec(c, "INSERT INTO diag_write VALUS (1)", NULL, 0, NULL, NULL,
                            NULL);
    case 1:
        for (unsigned k = 0; k <= FG_STORE_PARAMS_MAX; k++)
            many[k] = FG_VINT(k);
        return fg_conn_exec(c, "SELECT ?1", many, FG_STORE_PARAMS_MAX + 1, NULL, NULL,
                            NULL);
    case 2:
        return insert_row(c, ""); /* CHECK: payload length 1..256 */
    case 3:
        memset(long_payload, 'x', 257);
        return insert_row(c, long_payload);
    default:
        return insert_row(c, "fine");
    }
}

static void test_errors_through_store(void **state)
{
    struct fixture *f = *state;
    char log_path[600];
    snprintf(log_path, sizeof log_path, "%s/store.log", f->dir);
    assert_int_equal(fg_log_open_file(log_path), FG_OK);
    f->st = store_open_with(f, NULL, 0, 0);
    static const fg_rc expect[5] = {FG_ERR_STORE, FG_ERR_LIMIT, FG_ERR_CONFLICT,
                                    FG_ERR_CONFLICT, FG_OK};
    for (int k = 0; k < 5; k++) {
        struct err_case e = {.st = f->st, .which = k};
        assert_int_equal(fg_store_write(f->st, err_fn, &e), expect[k]);
    }
    fg_log_close();
    assert_int_equal(count_rows(f->st, "SELECT count(*) FROM diag_write"), 1);
    /* The detail of bad SQL is in the log only. */
    assert_true(fg_test_file_count(log_path, "syntax error", 12) >= 1);

    /* Reads map the same way. */
    fg_conn *c;
    assert_int_equal(fg_store_read_acquire(f->st, &c), FG_OK);
    assert_int_equal(fg_conn_exec(c, "SELECT nope FROM diag_write", NULL, 0, NULL, NULL,
                                  NULL),
                     FG_ERR_STORE);
    fg_store_read_release(f->st, c);
}

static void test_readonly_store(void **state)
{
    struct fixture *f = *state;
    struct fg_store_options opt = {.path = f->path, .readonly = 1};
    fg_store *st = NULL;
    assert_int_not_equal(fg_store_open(&opt, &st), FG_OK); /* no database yet */
    assert_null(st);
    f->st = store_open_with(f, NULL, 0, 0);
    struct one_row r = {.st = f->st, .payload = "ro"};
    assert_int_equal(fg_store_write(f->st, one_row_fn, &r), FG_OK);
    assert_int_equal(fg_store_open(&opt, &st), FG_OK);
    assert_int_equal(count_payload(st, "ro"), 1);
    assert_int_equal(fg_store_write(st, one_row_fn, &r), FG_ERR_UNSUPPORTED);
    fg_store_close(st);
}

static void test_options_and_bounds(void **state)
{
    struct fixture *f = *state;
    fg_store *st = NULL;
    struct fg_store_options opt = {.path = NULL};
    assert_int_equal(fg_store_open(&opt, &st), FG_ERR_INVALID);
    opt = (struct fg_store_options){.path = f->path,
                                    .batch_max = FG_WRITER_BATCH_MAX_CEILING + 1};
    assert_int_equal(fg_store_open(&opt, &st), FG_ERR_LIMIT);
    opt = (struct fg_store_options){.path = f->path,
                                    .read_pool_max = FG_READ_POOL_MAX_CEILING + 1};
    assert_int_equal(fg_store_open(&opt, &st), FG_ERR_LIMIT);
    assert_null(st);
    for (unsigned i = 1; i < FG_STORE_BATCH_BUCKETS; i++)
        assert_true(fg_store_batch_bounds[i] > fg_store_batch_bounds[i - 1]);
    for (unsigned i = 1; i < FG_STORE_LATENCY_BUCKETS; i++)
        assert_true(fg_store_latency_bounds[i] > fg_store_latency_bounds[i - 1]);
    assert_true(fg_store_batch_bounds[FG_STORE_BATCH_BUCKETS - 2] == 256.0);
    assert_true(isinf(fg_store_batch_bounds[FG_STORE_BATCH_BUCKETS - 1]));
    assert_true(fg_store_latency_bounds[0] == 0.0001);
    assert_true(isinf(fg_store_latency_bounds[FG_STORE_LATENCY_BUCKETS - 1]));
    /* batch_max = 1: no grouping at all. */
    opt = (struct fg_store_options){.path = f->path, .batch_max = 1};
    assert_int_equal(fg_store_open(&opt, &f->st), FG_OK);
    struct gate g;
    struct row_intent rows[BATCH_N];
    run_gated_batch(f->st, &g, rows, "one");
    struct fg_store_stats s;
    fg_store_stats(f->st, &s);
    assert_true(s.batches == BATCH_N + 1 && s.batch_size_le[0] == s.batches);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_many_writers_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_intent_rolls_back_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hooks_in_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_failure_fails_whole_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_full_then_recovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_failure_reopens_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_full_is_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_drains_and_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_do_not_wait_for_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_pool_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrations_fresh_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrations_refuse_newer_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_failure_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_through_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_options_and_bounds, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
