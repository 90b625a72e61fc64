/*
 * walk.c — the chain walker that verification and retention share: audit_log in seq order,
 * every record's MAC recomputed, the first bad record found exactly.
 *
 * Checking record n needs only its own row and the STORED MAC of record n-1:
 * HMAC(key, canonical(n) ‖ stored_{n-1}) must equal stored_n. If every record passes, the
 * stored MACs are the chain (by induction from the start, whose previous MAC is the signed
 * retention cut or zeros); if one fails, the lowest failing seq is where the chain breaks
 * — the same answer a sequential recomputation gives. So the walk is a pipeline: the
 * reader (the SELECT's row callback, on the caller's thread) does everything that must be
 * sequential — the seq must be exactly the next one (a gap is a deleted record, a seq below
 * the start an inserted one), the row must decode strictly, its key version must be known —
 * and encodes the canonical bytes into a batch with the previous stored MAC; a worker thread
 * MACs full batches while the reader fills the next. Reading and decoding then overlap with
 * MAC'ing instead of adding to it (bench/bench_audit.c measures the two against a bare
 * HMAC). Batches are fixed in number and size (FG_AUDIT_VERIFY_*), so memory is constant
 * whatever the length of the log; they are handed over in order under one mutex. The
 * reader stops early once the worker has found a bad MAC below the row it is on. A walk
 * that fits in one batch never starts the worker; if the worker cannot be started the
 * reader MACs each batch itself.
 */
#include "audit/internal.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct mac_job {
    int64_t seq;
    const struct fg_audit_mac_key *key;
    uint32_t off, len; /* the canonical bytes within the batch */
    uint8_t prev[FG_HASH_LEN];
    uint8_t stored[FG_HASH_LEN];
};

struct batch {
    struct mac_job *jobs;
    uint8_t *bytes;
    size_t njobs, nbytes;
    int busy; /* handed to the worker and not finished */
};

struct walk {
    const struct fg_audit_keys *keys;
    enum fg_hash_alg alg;
    int64_t start, expected, last_read;
    uint8_t prev[FG_HASH_LEN]; /* stored MAC of the last row read (or of the start) */
    /* The reader's own finding. */
    int stopped;
    enum fg_audit_problem problem;
    int64_t problem_seq;
    /* The pipeline; fields below `mu` are guarded by it. */
    struct batch b[FG_AUDIT_VERIFY_BATCHES];
    unsigned fill; /* the batch the reader fills (reader only) */
    pthread_t worker;
    int threaded, thread_failed;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned work; /* the batch the worker takes next */
    uint64_t submitted, processed;
    int closing;
    int64_t bad_mac;          /* lowest seq whose MAC does not match; INT64_MAX if none */
    uint64_t ok_bytes;        /* canonical bytes of records whose MAC matched */
    fg_rc mac_rc;             /* a MAC that could not be computed (not a finding) */
    _Atomic int64_t bad_hint; /* bad_mac, readable without the lock */
};

/* MAC every job of a batch; the first mismatch ends it (later ones cannot be lower). */
static void batch_check(struct walk *w, struct batch *b)
{
    int64_t bad = INT64_MAX;
    uint64_t bytes = 0;
    fg_rc rc = FG_OK;
    for (size_t i = 0; i < b->njobs && rc == FG_OK; i++) {
        const struct mac_job *j = &b->jobs[i];
        uint8_t mac[FG_HASH_LEN];
        rc = audit_chain_mac(w->alg, j->key, b->bytes + j->off, j->len, j->prev, mac);
        if (rc == FG_OK && !fg_ct_equal(mac, j->stored, FG_HASH_LEN)) {
            bad = j->seq;
            break;
        }
        bytes += j->len;
    }
    pthread_mutex_lock(&w->mu);
    if (bad < w->bad_mac) {
        w->bad_mac = bad;
        atomic_store_explicit(&w->bad_hint, bad, memory_order_relaxed);
    }
    w->ok_bytes += bytes;
    if (rc != FG_OK && w->mac_rc == FG_OK)
        w->mac_rc = rc;
    pthread_mutex_unlock(&w->mu);
}

static void *worker_main(void *arg)
{
    struct walk *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->processed == w->submitted && !w->closing)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->processed == w->submitted)
            break; /* closing and drained */
        struct batch *b = &w->b[w->work];
        assert(b->busy);
        pthread_mutex_unlock(&w->mu);
        batch_check(w, b);
        pthread_mutex_lock(&w->mu);
        b->njobs = b->nbytes = 0;
        b->busy = 0;
        w->work = (w->work + 1) % FG_AUDIT_VERIFY_BATCHES;
        w->processed++;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static fg_rc batch_alloc(struct batch *b)
{
    if (b->jobs != NULL)
        return FG_OK;
    b->jobs = malloc(FG_AUDIT_VERIFY_BATCH_RECORDS * sizeof *b->jobs);
    b->bytes = malloc(FG_AUDIT_VERIFY_BATCH_BYTES);
    return b->jobs && b->bytes ? FG_OK : FG_ERR_NOMEM;
}

/* Hand the reader's batch over and move to the next free one. The worker and the other
 * batches come into being with the first full batch, so a short walk costs neither. With
 * `last` (nothing more to read) or without a worker, the reader checks the batch itself. */
static void batch_submit(struct walk *w, int last)
{
    struct batch *b = &w->b[w->fill];
    if (b->njobs == 0)
        return;
    if (!w->threaded && !last && !w->thread_failed) {
        int ok = 1;
        for (unsigned i = 0; i < FG_AUDIT_VERIFY_BATCHES && ok; i++)
            ok = batch_alloc(&w->b[i]) == FG_OK;
        w->threaded = ok && pthread_create(&w->worker, NULL, worker_main, w) == 0;
        w->thread_failed = !w->threaded;
    }
    if (!w->threaded) {
        batch_check(w, b);
        b->njobs = b->nbytes = 0;
        return;
    }
    pthread_mutex_lock(&w->mu);
    b->busy = 1;
    w->submitted++;
    pthread_cond_broadcast(&w->cv);
    w->fill = (w->fill + 1) % FG_AUDIT_VERIFY_BATCHES;
    while (w->b[w->fill].busy)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

static fg_rc reader_stop(struct walk *w, enum fg_audit_problem problem, int64_t seq)
{
    w->stopped = 1;
    w->problem = problem;
    w->problem_seq = seq;
    return FG_ERR_CORRUPT; /* stops the SELECT */
}

static fg_rc walk_row(void *ctx, const struct fg_val *cols, int ncols)
{
    struct walk *w = ctx;
    if (ncols < 1 || cols[0].type != FG_VAL_INT)
        return reader_stop(w, FG_AUDIT_MALFORMED, w->expected);
    int64_t seq = cols[0].i;
    if (atomic_load_explicit(&w->bad_hint, memory_order_relaxed) < seq) {
        w->stopped = 1; /* a lower record is already bad: nothing here can matter */
        return FG_ERR_CORRUPT;
    }
    if (seq < w->start)
        return reader_stop(w, FG_AUDIT_UNEXPECTED, seq);
    if (seq != w->expected) {
        assert(seq > w->expected); /* ascending and unique */
        return reader_stop(w, FG_AUDIT_GAP, w->expected);
    }
    struct audit_fields f;
    uint8_t stored[FG_HASH_LEN];
    if (audit_row_decode(cols, ncols, &f, stored) != FG_OK)
        return reader_stop(w, FG_AUDIT_MALFORMED, seq);
    const struct fg_audit_mac_key *key = audit_mac_key_find(w->keys, f.key_version);
    if (key == NULL)
        return reader_stop(w, FG_AUDIT_UNKNOWN_KEY, seq);
    struct batch *b = &w->b[w->fill];
    if (b->njobs == FG_AUDIT_VERIFY_BATCH_RECORDS ||
        b->nbytes + FG_AUDIT_CANONICAL_MAX > FG_AUDIT_VERIFY_BATCH_BYTES) {
        batch_submit(w, 0);
        b = &w->b[w->fill];
    }
    size_t len = 0;
    if (audit_canonical(&f, b->bytes + b->nbytes, FG_AUDIT_CANONICAL_MAX, &len) != FG_OK)
        return reader_stop(w, FG_AUDIT_MALFORMED, seq);
    struct mac_job *j = &b->jobs[b->njobs++];
    *j = (struct mac_job){.seq = seq, .key = key, .off = (uint32_t)b->nbytes, .len = (uint32_t)len};
    memcpy(j->prev, w->prev, FG_HASH_LEN);
    memcpy(j->stored, stored, FG_HASH_LEN);
    b->nbytes += len;
    memcpy(w->prev, stored, FG_HASH_LEN);
    w->expected = seq + 1;
    w->last_read = seq;
    return FG_OK;
}

static fg_rc walk_setup(struct walk *w)
{
    static_assert(FG_AUDIT_VERIFY_BATCH_BYTES >= 2 * FG_AUDIT_CANONICAL_MAX,
                  "a batch holds at least two records");
    static_assert(FG_AUDIT_VERIFY_BATCH_BYTES <= UINT32_MAX, "offsets are 32-bit");
    static_assert(FG_AUDIT_VERIFY_BATCHES >= 2, "the reader fills one while one is MAC'd");
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    return batch_alloc(&w->b[0]);
}

/* Drain the pipeline, stop the worker, free the batches. */
static void walk_teardown(struct walk *w)
{
    if (w->threaded) {
        pthread_mutex_lock(&w->mu);
        while (w->processed < w->submitted)
            pthread_cond_wait(&w->cv, &w->mu);
        w->closing = 1;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        int jrc = pthread_join(w->worker, NULL);
        assert(jrc == 0);
        (void)jrc;
    }
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    for (unsigned i = 0; i < FG_AUDIT_VERIFY_BATCHES; i++) {
        free(w->b[i].jobs);
        free(w->b[i].bytes);
    }
}

/* The lower of the reader's finding and the worker's into the report. */
static void walk_report(const struct walk *w, struct fg_audit_report *rep)
{
    int64_t reader = w->stopped && w->problem != FG_AUDIT_INTACT ? w->problem_seq : INT64_MAX;
    if (w->bad_mac < reader) {
        rep->problem = FG_AUDIT_BAD_MAC;
        rep->first_bad_seq = w->bad_mac;
    } else if (reader != INT64_MAX) {
        rep->problem = w->problem;
        rep->first_bad_seq = reader;
    }
    int64_t last = w->last_read;
    if (rep->problem != FG_AUDIT_INTACT && rep->first_bad_seq - 1 < last)
        last = rep->first_bad_seq - 1;
    rep->last_seq = last < w->start - 1 ? w->start - 1 : last;
    rep->records = (uint64_t)(rep->last_seq - w->start + 1);
    rep->canonical_bytes = w->ok_bytes;
}

fg_rc audit_walk(fg_conn *conn, const struct fg_audit_keys *keys, int64_t start_seq,
                 const uint8_t prev[FG_HASH_LEN], int64_t upto, struct fg_audit_report *report,
                 uint8_t last_mac[FG_HASH_LEN])
{
    assert(conn != NULL && keys != NULL && prev != NULL && report != NULL);
    assert(start_seq >= 1 && last_mac != NULL);
    struct walk *w = calloc(1, sizeof *w);
    if (w == NULL)
        return FG_ERR_NOMEM;
    *w = (struct walk){.keys = keys,
                       .alg = fg_suite_hash(keys->suite),
                       .start = start_seq,
                       .expected = start_seq,
                       .last_read = start_seq - 1,
                       .bad_mac = INT64_MAX};
    atomic_init(&w->bad_hint, INT64_MAX);
    memcpy(w->prev, prev, FG_HASH_LEN);
    fg_rc rc = walk_setup(w);
    if (rc == FG_OK) {
        struct fg_val p = FG_VINT(upto);
        rc = fg_conn_exec(conn,
                          "SELECT " AUDIT_ROW_COLUMNS " FROM audit_log WHERE seq <= ?1 "
                          "ORDER BY seq",
                          &p, 1, walk_row, w, NULL);
        if (w->stopped)
            rc = FG_OK;
        if (rc == FG_OK)
            batch_submit(w, 1);
    }
    walk_teardown(w);
    if (rc == FG_OK)
        rc = w->mac_rc;
    report->start_seq = start_seq;
    report->problem = FG_AUDIT_INTACT;
    report->first_bad_seq = 0;
    if (rc == FG_OK)
        walk_report(w, report);
    memcpy(last_mac, w->prev, FG_HASH_LEN); /* meaningful when intact */
    free(w);
    return rc;
}
