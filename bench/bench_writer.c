/*
 * bench_writer.c — what group commit buys: the store's writer against plain SQLite.
 *
 * (a) 64 submitter threads call fg_store_write() with a one-row INSERT intent as fast as
 *     they can for --seconds (or until 2 000 000 intents): acknowledged intents per second,
 *     and the mean batch size from the store's stats.
 * (b) The baseline: one thread, one row per transaction (BEGIN IMMEDIATE; INSERT; COMMIT)
 *     through the same SQLite backend (WAL, synchronous=FULL) for the same time.
 * (c) The ratio (a)/(b).
 * Both run on a fresh database in a temporary directory (under argv's directory if one is
 * given, else /tmp) that is removed afterwards. Output contract (scripts/bench.sh):
 * stdout holds only "BENCH <name> <value> <unit>" lines; everything else goes to stderr.
 *
 * Usage: bench_writer [--seconds N] [DIR]
 */
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "store/store.h"
#include "bench_util.h"

#define SUBMITTERS 64
#define INTENTS_MAX 2000000L
#define SECONDS_DEFAULT 5

static const char *const insert_sql =
    "INSERT INTO diag_write (payload, created_ms) VALUES (?1, ?2)";

static fg_rc insert_fn(fg_conn *conn, void *arg)
{
    struct fg_val p[2] = {FG_VSTR((const char *)arg), FG_VINT(fg_time_wall_ms())};
    return fg_conn_exec(conn, insert_sql, p, 2, NULL, NULL, NULL);
}

struct run {
    fg_store *store;
    uint64_t deadline_ns;
    atomic_long issued; /* intents claimed (bounded by INTENTS_MAX) */
    atomic_long ok;     /* intents acknowledged FG_OK */
    atomic_long failed;
};

static void *submitter(void *arg)
{
    struct run *r = arg;
    char payload[] = "bench-writer-payload";
    while (fg_time_mono_ns() < r->deadline_ns) {
        if (atomic_fetch_add(&r->issued, 1) >= INTENTS_MAX)
            break;
        if (fg_store_write(r->store, insert_fn, payload) == FG_OK)
            atomic_fetch_add(&r->ok, 1);
        else
            atomic_fetch_add(&r->failed, 1);
    }
    return NULL;
}

static int bench_store(const char *db, unsigned seconds, double *per_s, double *mean_batch)
{
    struct fg_store_options opt = {.path = db};
    struct run r = {.store = NULL};
    if (fg_store_open(&opt, &r.store) != FG_OK) {
        fprintf(stderr, "bench_writer: cannot open the store at %s\n", db);
        return -1;
    }
    pthread_t th[SUBMITTERS];
    uint64_t start_ns = fg_time_mono_ns();
    r.deadline_ns = start_ns + (uint64_t)seconds * 1000000000ull;
    int started = 0;
    for (; started < SUBMITTERS; started++)
        if (pthread_create(&th[started], NULL, submitter, &r) != 0)
            break;
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    double elapsed_s = (double)(fg_time_mono_ns() - start_ns) / 1e9;
    struct fg_store_stats st;
    fg_store_stats(r.store, &st);
    fg_store_close(r.store);
    long ok = atomic_load(&r.ok), failed = atomic_load(&r.failed);
    fprintf(stderr, "writer: %d threads, %ld intents ok, %ld failed, %llu batches in %.2f s\n",
            started, ok, failed, (unsigned long long)st.batches, elapsed_s);
    if (started != SUBMITTERS || failed != 0 || st.batches == 0)
        return -1;
    *per_s = (double)ok / elapsed_s;
    *mean_batch = (double)st.batch_size_sum / (double)st.batches;
    return 0;
}

/* ---- asynchronous submitters: how the server drives the writer ------------------------
 * Two "loop" threads own 32 logical submitters each, as the HTTP event loops do: intents go
 * in with fg_store_submit(); the writer's completion pushes the intent onto its loop's list
 * and signals only when the list was empty (as h2o's multithread queue writes its eventfd
 * only for the first message); the loop takes the whole list at once and resubmits. */
#define LOOPS 2

struct aslot {
    struct fg_intent intent;
    struct aslot *next;
    struct aloop *loop;
};

struct aloop {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct aslot *done; /* completed, not yet collected */
    fg_store *store;
    uint64_t deadline_ns;
    long ok, failed, inflight;
    struct aslot slots[SUBMITTERS / LOOPS];
};

static void async_done(struct fg_intent *intent)
{
    struct aslot *sl = intent->done_ctx;
    struct aloop *l = sl->loop;
    pthread_mutex_lock(&l->mu);
    int was_empty = l->done == NULL;
    sl->next = l->done;
    l->done = sl;
    if (was_empty)
        pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

static int async_submit(struct aloop *l, struct aslot *sl)
{
    static char payload[] = "bench-writer-payload";
    sl->intent =
        (struct fg_intent){.fn = insert_fn, .arg = payload, .done = async_done, .done_ctx = sl};
    if (fg_store_submit(l->store, &sl->intent) != FG_OK)
        return -1;
    l->inflight++;
    return 0;
}

static void *async_loop(void *arg)
{
    struct aloop *l = arg;
    for (size_t i = 0; i < SUBMITTERS / LOOPS; i++) {
        l->slots[i].loop = l;
        if (async_submit(l, &l->slots[i]) != 0)
            l->failed++;
    }
    while (l->inflight > 0) {
        pthread_mutex_lock(&l->mu);
        while (l->done == NULL)
            pthread_cond_wait(&l->cv, &l->mu);
        struct aslot *list = l->done;
        l->done = NULL;
        pthread_mutex_unlock(&l->mu);
        int more = fg_time_mono_ns() < l->deadline_ns;
        while (list != NULL) {
            struct aslot *sl = list;
            list = list->next;
            l->inflight--;
            if (sl->intent.rc == FG_OK)
                l->ok++;
            else
                l->failed++;
            if (more && async_submit(l, sl) != 0)
                l->failed++;
        }
    }
    return NULL;
}

static int bench_store_async(const char *db, unsigned seconds, double *per_s, double *mean_batch)
{
    struct fg_store_options opt = {.path = db};
    fg_store *store = NULL;
    if (fg_store_open(&opt, &store) != FG_OK)
        return -1;
    static struct aloop loops[LOOPS];
    pthread_t th[LOOPS];
    uint64_t start_ns = fg_time_mono_ns();
    for (int i = 0; i < LOOPS; i++) {
        memset(&loops[i], 0, sizeof loops[i]);
        pthread_mutex_init(&loops[i].mu, NULL);
        pthread_cond_init(&loops[i].cv, NULL);
        loops[i].store = store;
        loops[i].deadline_ns = start_ns + (uint64_t)seconds * 1000000000ull;
        if (pthread_create(&th[i], NULL, async_loop, &loops[i]) != 0)
            return -1;
    }
    long ok = 0, failed = 0;
    for (int i = 0; i < LOOPS; i++) {
        pthread_join(th[i], NULL);
        ok += loops[i].ok;
        failed += loops[i].failed;
    }
    double elapsed_s = (double)(fg_time_mono_ns() - start_ns) / 1e9;
    struct fg_store_stats st;
    fg_store_stats(store, &st);
    fg_store_close(store);
    fprintf(stderr, "writer async: %d loops x %d submitters, %ld ok, %ld failed, %.2f s\n", LOOPS,
            SUBMITTERS / LOOPS, ok, failed, elapsed_s);
    if (failed != 0 || st.batches == 0)
        return -1;
    *per_s = (double)ok / elapsed_s;
    *mean_batch = (double)st.batch_size_sum / (double)st.batches;
    return 0;
}

static fg_rc one_row_tx(const struct fg_store_ops *ops, fg_conn *c)
{
    static const char payload[] = "bench-sqlite-payload";
    struct fg_val p[2] = {FG_VSTR(payload), FG_VINT(fg_time_wall_ms())};
    fg_rc rc = ops->begin(c);
    if (rc == FG_OK)
        rc = ops->exec(c, insert_sql, p, 2, NULL, NULL, NULL);
    if (rc == FG_OK)
        rc = ops->commit(c);
    else
        (void)ops->rollback(c);
    return rc;
}

static int bench_sqlite(const char *db, unsigned seconds, double *per_s)
{
    const struct fg_store_ops *ops = fg_store_sqlite_ops();
    fg_conn *c;
    if (ops->open(ops, db, 0, &c) != FG_OK ||
        ops->exec_script(c, "CREATE TABLE diag_write (id INTEGER PRIMARY KEY, payload TEXT "
                            "NOT NULL, created_ms INTEGER NOT NULL);") != FG_OK) {
        fprintf(stderr, "bench_writer: cannot set up the SQLite baseline at %s\n", db);
        return -1;
    }
    uint64_t start_ns = fg_time_mono_ns();
    uint64_t deadline_ns = start_ns + (uint64_t)seconds * 1000000000ull;
    long rows = 0;
    fg_rc rc = FG_OK;
    while (rc == FG_OK && rows < INTENTS_MAX && fg_time_mono_ns() < deadline_ns) {
        rc = one_row_tx(ops, c);
        rows += rc == FG_OK;
    }
    double elapsed_s = (double)(fg_time_mono_ns() - start_ns) / 1e9;
    ops->close(c);
    fprintf(stderr, "sqlite: %ld one-row transactions in %.2f s (%s)\n", rows, elapsed_s,
            fg_rc_name(rc));
    if (rc != FG_OK || rows == 0)
        return -1;
    *per_s = (double)rows / elapsed_s;
    return 0;
}

/* Remove the files of our temporary directory (flat: a database and its WAL/SHM). */

int main(int argc, char **argv)
{
    unsigned seconds = SECONDS_DEFAULT;
    const char *parent = "/tmp";
    if (bench_parse_args(argc, argv, &seconds, &parent) != 0) {
        fprintf(stderr, "usage: bench_writer [--seconds N (1..%d)] [DIR]\n", BENCH_SECONDS_MAX);
        return 2;
    }
    fg_log_set_level(FG_LOG_WARN);
    char dir[PATH_MAX], db_store[PATH_MAX + 32], db_sqlite[PATH_MAX + 32];
    int n = snprintf(dir, sizeof dir, "%s/fg-bench-writer-XXXXXX", parent);
    if (n <= 0 || (size_t)n >= sizeof dir || mkdtemp(dir) == NULL) {
        fprintf(stderr, "bench_writer: cannot create a directory under %s\n", parent);
        return 1;
    }
    snprintf(db_store, sizeof db_store, "%s/store.db", dir);
    snprintf(db_sqlite, sizeof db_sqlite, "%s/sqlite.db", dir);
    char db_async[PATH_MAX + 32];
    snprintf(db_async, sizeof db_async, "%s/async.db", dir);
    double writer_per_s = 0, mean_batch = 0, sqlite_per_s = 0, async_per_s = 0, async_batch = 0;
    int failed = bench_store(db_store, seconds, &writer_per_s, &mean_batch) != 0 ||
                 bench_store_async(db_async, seconds, &async_per_s, &async_batch) != 0 ||
                 bench_sqlite(db_sqlite, seconds, &sqlite_per_s) != 0;
    bench_remove_dir(dir);
    if (failed) {
        fprintf(stderr, "bench_writer: failed\n");
        return 1;
    }
    printf("BENCH writer_intents_per_s %.0f ops/s\n", writer_per_s);
    printf("BENCH writer_mean_batch %.1f intents\n", mean_batch);
    printf("BENCH sqlite_one_row_tx_per_s %.0f ops/s\n", sqlite_per_s);
    printf("BENCH writer_vs_sqlite_ratio %.1f x\n", writer_per_s / sqlite_per_s);
    printf("BENCH writer_async_intents_per_s %.0f ops/s\n", async_per_s);
    printf("BENCH writer_async_mean_batch %.1f intents\n", async_batch);
    printf("BENCH writer_async_vs_sqlite_ratio %.1f x\n", async_per_s / sqlite_per_s);
    return 0;
}
