/*
 * store.c — the store: migrations at open, the single writer with group commit, and the
 * read pool (see store.h and ARCHITECTURE.md "The write path").
 *
 * fg_store_open() opens the write connection, brings the schema up to the newest embedded
 * migration (each in its own transaction with its PRAGMA user_version) and starts the
 * writer thread. Submitters append intents to a FIFO guarded by `mu` and signal `work_cv`;
 * the queue is bounded (FG_ERR_BUSY when full) and refuses work once closing
 * (FG_ERR_SHUTDOWN). The writer takes up to batch_max intents at a time — everything that
 * queued while the previous batch was committing — and runs them in one BEGIN IMMEDIATE
 * transaction, each inside SAVEPOINT fg_intent so a failing intent rolls back alone. The
 * hooks (the audit chain) append to the same transaction. One COMMIT, one fsync, then each
 * intent is completed with its own result; if anything at batch level fails (BEGIN, a
 * savepoint, a hook, COMMIT) the whole transaction is rolled back and every intent of the
 * batch completes with that error. Hooks are copied under `mu` when a batch is taken, so
 * fg_store_set_hooks() is safe at any time and applies from the next batch. Closing sets
 * `closing`, and the writer exits only once the queue is empty, so every accepted intent
 * is completed exactly once. If a ROLLBACK itself fails the write connection is closed
 * (which rolls back) and reopened for the next batch, so one bad batch cannot wedge the
 * writer inside a transaction. Read connections are opened lazily up to read_pool_max
 * and leased under `pool_mu`; a caller waits on `pool_cv` only when all are leased, never
 * on the writer (WAL readers see the last committed state).
 */
#include "store/store.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/limits.h"
#include "base/log.h"
#include "base/time.h"
#include "store/migrations.h"

const double fg_store_batch_bounds[FG_STORE_BATCH_BUCKETS] = {1,  2,  4,   8,   16,
                                                              32, 64, 128, 256, INFINITY};
const double fg_store_latency_bounds[FG_STORE_LATENCY_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 1, INFINITY};

struct fg_store {
    const struct fg_store_ops *ops;
    char *path;
    unsigned batch_max, queue_max, read_pool_max;
    int readonly;

    /* The queue, guarded by mu. */
    pthread_mutex_t mu;
    pthread_cond_t work_cv;
    struct fg_intent *head, *tail;
    unsigned depth;
    int closing;
    struct fg_store_hooks hooks;

    /* The writer thread's own state (set up before it starts). */
    fg_conn *wconn;
    pthread_t writer;
    int writer_running;
    int64_t seq;

    /* The checkpointer (SQLite backend only): copies committed WAL frames into the database
     * file on its own connection and thread, so the writer never pays a checkpoint's page
     * writes and fsync inside a batch. Guarded by mu: ckpt_due counts commits since the last
     * checkpoint; ckpt_cv wakes the thread. */
    fg_conn *cconn;
    pthread_t ckpt;
    int ckpt_running;
    unsigned ckpt_due;
    pthread_cond_t ckpt_cv;

    /* Counters, guarded by stats_mu (queue_depth is filled in from the queue). */
    pthread_mutex_t stats_mu;
    struct fg_store_stats stats;

    /* The read pool, guarded by pool_mu: nopen connections exist, nidle are in idle[]. */
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    fg_conn *idle[FG_READ_POOL_MAX_CEILING];
    unsigned nidle, nopen;
};

/* Intents taken from the queue for one transaction, linked through next_. */
struct batch {
    struct fg_intent *head;
    unsigned n;
    int64_t seq;
    struct fg_store_hooks hooks;
};

/* ---- migrations --------------------------------------------------------------------- */

static unsigned migrations_latest(void)
{
    assert(fg_migrations_count <= FG_MIGRATIONS_MAX);
    unsigned latest = 0;
    for (unsigned i = 0; i < fg_migrations_count; i++) {
        assert(fg_migrations[i].version > latest); /* strictly increasing, from 1 */
        assert(fg_migrations[i].sql != NULL && fg_migrations[i].name != NULL);
        latest = fg_migrations[i].version;
    }
    return latest;
}

static fg_rc row_version(void *ctx, const struct fg_val *cols, int ncols)
{
    int64_t *version = ctx;
    if (ncols != 1 || cols[0].type != FG_VAL_INT || cols[0].i < 0)
        return FG_ERR_CORRUPT;
    *version = cols[0].i;
    return FG_OK;
}

static fg_rc user_version(fg_store *s, fg_conn *conn, int64_t *out)
{
    *out = -1;
    fg_rc rc = s->ops->exec(conn, "PRAGMA user_version", NULL, 0, row_version, out, NULL);
    assert(rc != FG_OK || *out >= 0);
    return rc;
}

static fg_rc version_check(fg_store *s, int64_t current, unsigned latest)
{
    if (current <= (int64_t)latest)
        return FG_OK;
    fg_log(FG_LOG_ERROR, "store.database_newer", FG_LF_STR("path", s->path),
           FG_LF_INT("database_version", current), FG_LF_INT("binary_version", latest));
    return FG_ERR_CONFLICT;
}

/* One migration and its version in one transaction. PRAGMA takes no bound parameters,
 * so the statement is formatted — from an unsigned integer of our own, never input. */
static fg_rc migration_apply(fg_store *s, const struct fg_migration *m)
{
    char pragma[64];
    int n = snprintf(pragma, sizeof pragma, "PRAGMA user_version = %u", m->version);
    assert(n > 0 && (size_t)n < sizeof pragma);
    (void)n;
    fg_conn *c = s->wconn;
    const char *stage = "begin";
    fg_rc rc = s->ops->begin(c);
    if (rc == FG_OK) {
        stage = "script";
        rc = s->ops->exec_script(c, m->sql);
    }
    if (rc == FG_OK) {
        stage = "user_version";
        rc = s->ops->exec_script(c, pragma);
    }
    if (rc == FG_OK) {
        stage = "commit";
        rc = s->ops->commit(c);
    }
    if (rc != FG_OK) {
        fg_log(FG_LOG_ERROR, "store.migration_failed", FG_LF_STR("migration", m->name),
               FG_LF_STR("stage", stage), FG_LF_STR("rc", fg_rc_name(rc)),
               FG_LF_STR("error", s->ops->errmsg(c)));
        if (s->ops->rollback(c) != FG_OK)
            fg_log(FG_LOG_ERROR, "store.rollback_failed", FG_LF_STR("error", s->ops->errmsg(c)));
        return rc;
    }
    fg_log(FG_LOG_INFO, "store.migrated", FG_LF_STR("migration", m->name),
           FG_LF_INT("version", m->version));
    return FG_OK;
}

static fg_rc migrate(fg_store *s)
{
    assert(s->wconn != NULL);
    unsigned latest = migrations_latest();
    int64_t current;
    fg_rc rc = user_version(s, s->wconn, &current);
    if (rc == FG_OK)
        rc = version_check(s, current, latest);
    for (unsigned i = 0; rc == FG_OK && i < fg_migrations_count; i++)
        if ((int64_t)fg_migrations[i].version > current)
            rc = migration_apply(s, &fg_migrations[i]);
    return rc;
}

/* ---- the writer --------------------------------------------------------------------- */

static fg_rc batch_run_intents(fg_store *s, struct batch *b, const char **stage)
{
    fg_conn *c = s->wconn;
    for (struct fg_intent *it = b->head; it != NULL; it = it->next_) {
        fg_rc rc = s->ops->savepoint(c);
        if (rc != FG_OK) {
            *stage = "savepoint";
            return rc;
        }
        fg_rc own = it->fn(c, it->arg);
        rc = own == FG_OK ? s->ops->release(c) : s->ops->rollback_to(c);
        if (rc != FG_OK) {
            *stage = own == FG_OK ? "release" : "rollback_to";
            return rc;
        }
        it->rc = own;
        if (b->hooks.after_intent != NULL) {
            rc = b->hooks.after_intent(b->hooks.ctx, c, it);
            if (rc != FG_OK) {
                *stage = "after_intent";
                return rc;
            }
        }
    }
    return FG_OK;
}

static fg_rc batch_transact(fg_store *s, struct batch *b, const char **stage)
{
    *stage = "open";
    if (s->wconn == NULL) {
        fg_rc rc = s->ops->open(s->ops, s->path, 0, &s->wconn);
        if (rc != FG_OK)
            return rc;
    }
    *stage = "begin";
    fg_rc rc = s->ops->begin(s->wconn);
    if (rc == FG_OK)
        rc = batch_run_intents(s, b, stage);
    if (rc == FG_OK && b->hooks.before_commit != NULL) {
        *stage = "before_commit";
        rc = b->hooks.before_commit(b->hooks.ctx, s->wconn);
    }
    if (rc == FG_OK) {
        *stage = "commit";
        rc = s->ops->commit(s->wconn);
    }
    return rc;
}

/* After a failed batch: log it (with the backend's message, logs only) and roll back. */
static void batch_abort(fg_store *s, const struct batch *b, fg_rc rc, const char *stage)
{
    const char *err = "a hook failed";
    if (strcmp(stage, "after_intent") != 0 && strcmp(stage, "before_commit") != 0)
        err = s->wconn ? s->ops->errmsg(s->wconn) : "no write connection";
    fg_log(FG_LOG_ERROR, "store.batch_failed", FG_LF_STR("rc", fg_rc_name(rc)),
           FG_LF_STR("stage", stage), FG_LF_STR("error", err), FG_LF_INT("intents", b->n),
           FG_LF_INT("seq", b->seq));
    if (s->wconn == NULL)
        return;
    fg_rc rrc = s->ops->rollback(s->wconn);
    if (rrc != FG_OK) {
        /* Closing the connection rolls back; the next batch opens a fresh one. */
        fg_log(FG_LOG_ERROR, "store.rollback_failed", FG_LF_STR("rc", fg_rc_name(rrc)),
               FG_LF_STR("error", s->ops->errmsg(s->wconn)));
        s->ops->close(s->wconn);
        s->wconn = NULL;
    }
}

/* The first bucket whose upper bound holds v (the last bound is +Inf). */
static unsigned bucket_of(double v, const double *bounds, unsigned n)
{
    assert(n > 0 && isinf(bounds[n - 1]));
    unsigned i = 0;
    while (v > bounds[i])
        i++;
    assert(i < n);
    return i;
}

static void stats_record(fg_store *s, const struct batch *b, fg_rc rc, double seconds)
{
    uint64_t ok = 0;
    if (rc == FG_OK)
        for (const struct fg_intent *it = b->head; it != NULL; it = it->next_)
            ok += it->rc == FG_OK;
    pthread_mutex_lock(&s->stats_mu);
    struct fg_store_stats *st = &s->stats;
    st->batches++;
    st->batch_size_sum += b->n;
    st->batch_size_le[bucket_of((double)b->n, fg_store_batch_bounds, FG_STORE_BATCH_BUCKETS)]++;
    st->intents_ok += ok;
    st->intents_failed += b->n - ok;
    if (rc != FG_OK) {
        st->commits_failed++;
    } else {
        st->commit_seconds_sum += seconds;
        st->commit_seconds_le[bucket_of(seconds, fg_store_latency_bounds,
                                        FG_STORE_LATENCY_BUCKETS)]++;
    }
    pthread_mutex_unlock(&s->stats_mu);
}

static void batch_complete(struct batch *b, fg_rc batch_rc)
{
    unsigned done = 0;
    struct fg_intent *it = b->head;
    while (it != NULL) {
        struct fg_intent *next = it->next_; /* done() may free the intent */
        it->next_ = NULL;
        if (batch_rc != FG_OK)
            it->rc = batch_rc;
        it->seq = b->seq;
        it->done(it);
        it = next;
        done++;
    }
    assert(done == b->n);
}

static void batch_execute(fg_store *s, struct batch *b)
{
    assert(b->head != NULL && b->n >= 1 && b->n <= s->batch_max);
    b->seq = ++s->seq;
    uint64_t start_ns = fg_time_mono_ns();
    const char *stage = "";
    fg_rc rc = batch_transact(s, b, &stage);
    double seconds = (double)(fg_time_mono_ns() - start_ns) / 1e9;
    if (rc != FG_OK) {
        batch_abort(s, b, rc, stage);
        if (b->hooks.after_rollback != NULL)
            b->hooks.after_rollback(b->hooks.ctx);
    } else {
        if (b->hooks.after_commit != NULL)
            b->hooks.after_commit(b->hooks.ctx);
        if (s->ckpt_running) {
            pthread_mutex_lock(&s->mu);
            if (s->ckpt_due++ == 0)
                pthread_cond_signal(&s->ckpt_cv);
            pthread_mutex_unlock(&s->mu);
        }
    }
    stats_record(s, b, rc, seconds);
    batch_complete(b, rc);
}

/* Wait for work and detach up to batch_max intents; 0 when closing and drained. */
static int batch_take(fg_store *s, struct batch *b)
{
    pthread_mutex_lock(&s->mu);
    while (s->head == NULL && !s->closing)
        pthread_cond_wait(&s->work_cv, &s->mu);
    if (s->head == NULL) {
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    struct fg_intent *last = s->head;
    unsigned n = 1;
    while (n < s->batch_max && last->next_ != NULL) {
        last = last->next_;
        n++;
    }
    *b = (struct batch){.head = s->head, .n = n, .hooks = s->hooks};
    s->head = last->next_;
    if (s->head == NULL)
        s->tail = NULL;
    last->next_ = NULL;
    assert(s->depth >= n);
    s->depth -= n;
    pthread_mutex_unlock(&s->mu);
    return 1;
}

static void *writer_main(void *arg)
{
    fg_store *s = arg;
    struct batch b;
    while (batch_take(s, &b))
        batch_execute(s, &b);
    return NULL;
}

/* The checkpointer: after commits, at most every FG_STORE_CHECKPOINT_MS, a PASSIVE
 * checkpoint (never waits for readers or the writer; what it cannot copy yet waits for the
 * next round). SQLite restarts the WAL from its beginning once everything is copied. A
 * failure is logged and retried next round: the WAL only grows meanwhile. */
static void *checkpointer_main(void *arg)
{
    fg_store *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->ckpt_due == 0 && !s->closing)
            pthread_cond_wait(&s->ckpt_cv, &s->mu);
        if (s->closing)
            break;
        s->ckpt_due = 0;
        pthread_mutex_unlock(&s->mu);
        fg_rc rc = s->ops->exec_script(s->cconn, "PRAGMA wal_checkpoint(PASSIVE)");
        if (rc != FG_OK)
            fg_log(FG_LOG_WARN, "store.checkpoint_failed", FG_LF_STR("rc", fg_rc_name(rc)));
        struct timespec pause = {0, (long)FG_STORE_CHECKPOINT_MS * 1000000L};
        nanosleep(&pause, NULL); /* commits meanwhile are copied by the next round */
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Only for the plain SQLite backend: a wrapper (fault injection) keeps SQLite's own
 * automatic checkpoints inside the writer, so its tests stay deterministic. */
static fg_rc checkpointer_start(fg_store *s)
{
    if (s->ops != fg_store_sqlite_ops())
        return FG_OK;
    fg_rc rc = s->ops->open(s->ops, s->path, 0, &s->cconn);
    if (rc != FG_OK)
        return rc;
    if (pthread_create(&s->ckpt, NULL, checkpointer_main, s) != 0) {
        s->ops->close(s->cconn);
        s->cconn = NULL;
        return FG_ERR_NOMEM;
    }
    /* the writer thread is waiting for work: this connection is not in use yet */
    rc = s->ops->exec_script(s->wconn, "PRAGMA wal_autocheckpoint=0");
    (void)pthread_setname_np(s->ckpt, "fg-checkpoint");
    s->ckpt_running = 1;
    return rc;
}

/* ---- open / close ------------------------------------------------------------------- */

static fg_rc options_resolve(const struct fg_store_options *opt, fg_store *s)
{
    if (opt->path == NULL || opt->path[0] == '\0')
        return FG_ERR_INVALID;
    if (strlen(opt->path) >= FG_PATH_MAX)
        return FG_ERR_LIMIT;
    s->ops = opt->ops ? opt->ops : fg_store_sqlite_ops();
    if (s->ops->version != FG_STORE_OPS_VERSION)
        return FG_ERR_UNSUPPORTED;
    s->batch_max = opt->batch_max ? opt->batch_max : FG_WRITER_BATCH_MAX_DEFAULT;
    s->queue_max = opt->queue_max ? opt->queue_max : FG_WRITER_QUEUE_MAX;
    s->read_pool_max = opt->read_pool_max ? opt->read_pool_max : FG_READ_POOL_MAX_DEFAULT;
    if (s->batch_max > FG_WRITER_BATCH_MAX_CEILING || s->queue_max > FG_WRITER_QUEUE_MAX ||
        s->read_pool_max > FG_READ_POOL_MAX_CEILING)
        return FG_ERR_LIMIT;
    s->readonly = opt->readonly != 0;
    s->path = strdup(opt->path);
    return s->path ? FG_OK : FG_ERR_NOMEM;
}

/* Frees a store whose writer is not running; every read lease must be back. */
static void store_free(fg_store *s)
{
    assert(!s->writer_running);
    assert(s->head == NULL && s->depth == 0);
    assert(!s->ckpt_running);
    if (s->cconn != NULL)
        s->ops->close(s->cconn);
    if (s->wconn != NULL)
        s->ops->close(s->wconn);
    assert(s->nidle == s->nopen); /* a read lease outlived the store: a caller's bug */
    for (unsigned i = 0; i < s->nidle; i++)
        s->ops->close(s->idle[i]);
    pthread_cond_destroy(&s->pool_cv);
    pthread_mutex_destroy(&s->pool_mu);
    pthread_mutex_destroy(&s->stats_mu);
    pthread_cond_destroy(&s->ckpt_cv);
    pthread_cond_destroy(&s->work_cv);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}

static fg_rc writer_start(fg_store *s)
{
    fg_rc rc = s->ops->open(s->ops, s->path, 0, &s->wconn);
    if (rc == FG_OK)
        rc = migrate(s);
    if (rc != FG_OK)
        return rc;
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0)
        return FG_ERR_NOMEM;
    (void)pthread_setname_np(s->writer, "fg-writer");
    s->writer_running = 1;
    fg_rc crc = checkpointer_start(s);
    if (crc != FG_OK) /* SQLite's automatic checkpoints in the writer remain: slower, correct */
        fg_log(FG_LOG_WARN, "store.checkpointer_unavailable", FG_LF_STR("rc", fg_rc_name(crc)));
    return FG_OK;
}

/* A read-only store has no writer: only make sure this binary understands the schema. */
static fg_rc readonly_check(fg_store *s)
{
    fg_conn *c;
    fg_rc rc = fg_store_read_acquire(s, &c);
    if (rc != FG_OK)
        return rc;
    int64_t current;
    rc = user_version(s, c, &current);
    if (rc == FG_OK)
        rc = version_check(s, current, migrations_latest());
    fg_store_read_release(s, c);
    return rc;
}

fg_rc fg_store_open(const struct fg_store_options *opt, fg_store **out)
{
    assert(opt != NULL && out != NULL);
    *out = NULL;
    fg_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return FG_ERR_NOMEM;
    /* Default attributes: glibc's init cannot fail. */
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work_cv, NULL);
    pthread_cond_init(&s->ckpt_cv, NULL);
    pthread_mutex_init(&s->stats_mu, NULL);
    pthread_mutex_init(&s->pool_mu, NULL);
    pthread_cond_init(&s->pool_cv, NULL);
    fg_rc rc = options_resolve(opt, s);
    if (rc == FG_OK)
        rc = s->readonly ? readonly_check(s) : writer_start(s);
    if (rc != FG_OK) {
        fg_log(FG_LOG_ERROR, "store.open_failed", FG_LF_STR("rc", fg_rc_name(rc)),
               FG_LF_STR("path", opt->path ? opt->path : ""));
        store_free(s);
        return rc;
    }
    fg_log(FG_LOG_INFO, "store.open", FG_LF_STR("path", s->path),
           FG_LF_STR("backend", s->ops->name), FG_LF_BOOL("readonly", s->readonly),
           FG_LF_INT("batch_max", s->batch_max), FG_LF_INT("queue_max", s->queue_max));
    *out = s;
    return FG_OK;
}

void fg_store_close(fg_store *s)
{
    if (s == NULL)
        return;
    if (s->writer_running) {
        pthread_mutex_lock(&s->mu);
        s->closing = 1;
        pthread_cond_broadcast(&s->work_cv);
        pthread_cond_broadcast(&s->ckpt_cv);
        pthread_mutex_unlock(&s->mu);
        if (s->ckpt_running) {
            int crc = pthread_join(s->ckpt, NULL);
            assert(crc == 0);
            (void)crc;
            s->ckpt_running = 0;
        }
        int jrc = pthread_join(s->writer, NULL);
        assert(jrc == 0);
        (void)jrc;
        s->writer_running = 0;
    }
    fg_log(FG_LOG_INFO, "store.closed", FG_LF_STR("path", s->path),
           FG_LF_INT("batches", (int64_t)s->stats.batches));
    store_free(s);
}

void fg_store_set_hooks(fg_store *s, const struct fg_store_hooks *hooks)
{
    assert(s != NULL);
    pthread_mutex_lock(&s->mu);
    s->hooks = hooks ? *hooks : (struct fg_store_hooks){0};
    pthread_mutex_unlock(&s->mu);
}

/* ---- submitting --------------------------------------------------------------------- */

fg_rc fg_store_submit(fg_store *s, struct fg_intent *intent)
{
    assert(s != NULL && intent != NULL);
    assert(intent->fn != NULL && intent->done != NULL);
    if (s->readonly)
        return FG_ERR_UNSUPPORTED;
    intent->rc = FG_ERR_INTERNAL; /* overwritten before done() */
    intent->seq = 0;
    intent->next_ = NULL;
    fg_rc rc = FG_OK;
    pthread_mutex_lock(&s->mu);
    if (s->closing) {
        rc = FG_ERR_SHUTDOWN;
    } else if (s->depth >= s->queue_max) {
        rc = FG_ERR_BUSY;
    } else {
        if (s->tail != NULL)
            s->tail->next_ = intent;
        else
            s->head = intent;
        s->tail = intent;
        s->depth++;
        pthread_cond_signal(&s->work_cv);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* fg_store_write() waits on a semaphore: one futex wake per intent from the writer, no
 * mutex hand-off (glibc's sem_post is safe against the waiter destroying it at once). */
static void write_done(struct fg_intent *intent)
{
    sem_t *sem = intent->done_ctx;
    int prc = sem_post(sem);
    assert(prc == 0);
    (void)prc;
}

fg_rc fg_store_write(fg_store *s, fg_intent_fn fn, void *arg)
{
    assert(s != NULL && fn != NULL);
    /* An intent waiting for its own writer would wait forever. */
    assert(!s->writer_running || !pthread_equal(pthread_self(), s->writer));
    sem_t sem;
    int prc = sem_init(&sem, 0, 0);
    assert(prc == 0);
    struct fg_intent intent = {.fn = fn, .arg = arg, .done = write_done, .done_ctx = &sem};
    fg_rc rc = fg_store_submit(s, &intent);
    if (rc == FG_OK) {
        while ((prc = sem_wait(&sem)) != 0)
            assert(errno == EINTR);
        rc = intent.rc;
    }
    sem_destroy(&sem);
    return rc;
}

/* ---- reading ------------------------------------------------------------------------ */

fg_rc fg_store_read_acquire(fg_store *s, fg_conn **out)
{
    assert(s != NULL && out != NULL);
    *out = NULL;
    pthread_mutex_lock(&s->pool_mu);
    while (s->nidle == 0 && s->nopen >= s->read_pool_max)
        pthread_cond_wait(&s->pool_cv, &s->pool_mu);
    if (s->nidle > 0) {
        *out = s->idle[--s->nidle];
        pthread_mutex_unlock(&s->pool_mu);
        return FG_OK;
    }
    s->nopen++; /* reserve the slot, open outside the lock */
    pthread_mutex_unlock(&s->pool_mu);
    fg_rc rc = s->ops->open(s->ops, s->path, 1, out);
    if (rc != FG_OK) {
        pthread_mutex_lock(&s->pool_mu);
        s->nopen--;
        pthread_cond_signal(&s->pool_cv);
        pthread_mutex_unlock(&s->pool_mu);
    }
    assert(rc != FG_OK || *out != NULL);
    return rc;
}

void fg_store_read_release(fg_store *s, fg_conn *conn)
{
    assert(s != NULL && conn != NULL);
    pthread_mutex_lock(&s->pool_mu);
    assert(s->nidle < s->nopen && s->nopen <= s->read_pool_max);
    s->idle[s->nidle++] = conn;
    pthread_cond_signal(&s->pool_cv);
    pthread_mutex_unlock(&s->pool_mu);
}

/* ---- thin wrappers ------------------------------------------------------------------ */

fg_rc fg_conn_exec(fg_conn *conn, const char *sql, const struct fg_val *params, int nparams,
                   fg_row_fn row, void *row_ctx, int64_t *changes)
{
    assert(conn != NULL && conn->ops != NULL && sql != NULL);
    return conn->ops->exec(conn, sql, params, nparams, row, row_ctx, changes);
}

int64_t fg_conn_last_insert_id(fg_conn *conn)
{
    assert(conn != NULL && conn->ops != NULL);
    return conn->ops->last_insert_id(conn);
}

void fg_store_stats(fg_store *s, struct fg_store_stats *out)
{
    assert(s != NULL && out != NULL);
    pthread_mutex_lock(&s->stats_mu);
    *out = s->stats;
    pthread_mutex_unlock(&s->stats_mu);
    pthread_mutex_lock(&s->mu);
    out->queue_depth = s->depth;
    pthread_mutex_unlock(&s->mu);
}
