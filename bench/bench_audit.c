/*
 * bench_audit.c — what the audit log costs on the write path and how fast it verifies.
 *
 * (a) Append: 64 submitter threads call fg_audit_write() with a one-row INSERT intent and a
 *     record each, as fast as they can for --seconds (or until RECORDS_MAX): records per
 *     second through group commit (each record MAC'd and inserted in its change's
 *     transaction, checkpoints every 1000), and the mean batch size.
 * (b) Verify: fg_audit_verify_file() over the resulting database and anchor file (offline,
 *     public key only): records/s and MB/s of canonical bytes.
 * (c) Raw: fg_hmac (HMAC-SHA-256) on one thread over exactly the bytes verification MACs —
 *     each record's canonical encoding followed by the previous MAC — held in memory, one
 *     call per record; and the ratio (b)/(c) in MB/s (goal ≥ 0.5: verification should be
 *     bounded by the MAC, not by reading and decoding). (b) and (c) alternate in rounds
 *     until each has run VERIFY_MIN_S, so both see the same machine load.
 * Suite intl. Runs in a temporary directory under DIR (default /tmp), removed afterwards.
 * Output contract (scripts/bench.sh): stdout holds only "BENCH <name> <value> <unit>".
 *
 * Usage: bench_audit [--seconds N] [DIR]
 */
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/log.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "store/store.h"
#include "bench_util.h"

#define SUBMITTERS 64
#define RECORDS_MAX 2000000L
#define SECONDS_DEFAULT 5
#define VERIFY_MIN_S 1.0
/* Canonical bytes kept in memory for the raw HMAC run (the first records if more). */
#define RAW_BYTES_MAX (256u * 1024u * 1024u)

struct keys {
    uint8_t mac[32], priv[FG_SIGN_PRIVATE_LEN], pub[FG_SIGN_PUBLIC_MAX];
    size_t pub_len;
    struct fg_audit_mac_key mk;
    struct fg_audit_public_key pk;
    struct fg_audit_keys all;
};

static int keys_make(struct keys *k)
{
    if (fg_crypto_init() != FG_OK || fg_random(k->mac, sizeof k->mac) != FG_OK ||
        fg_sign_keygen(FG_SUITE_INTL, k->priv) != FG_OK ||
        fg_sign_public(FG_SUITE_INTL, k->priv, k->pub, &k->pub_len) != FG_OK)
        return -1;
    k->mk = (struct fg_audit_mac_key){.version = 1, .key = k->mac, .len = sizeof k->mac};
    k->pk = (struct fg_audit_public_key){.version = 1, .key = k->pub, .len = k->pub_len};
    k->all = (struct fg_audit_keys){.suite = FG_SUITE_INTL,
                                    .mac_keys = &k->mk,
                                    .mac_key_count = 1,
                                    .sign_private = k->priv,
                                    .sign_version = 1,
                                    .public_keys = &k->pk,
                                    .public_key_count = 1};
    return 0;
}

/* ---- (a) append -------------------------------------------------------------------------- */

static fg_rc insert_fn(fg_conn *conn, void *arg)
{
    struct fg_val p[2] = {FG_VSTR((const char *)arg), FG_VINT(fg_time_wall_ms())};
    return fg_conn_exec(conn, "INSERT INTO diag_write (payload, created_ms) VALUES (?1, ?2)", p, 2,
                        NULL, NULL, NULL);
}

struct run {
    fg_store *store;
    uint64_t deadline_ns;
    atomic_long issued, ok, failed;
    atomic_int next_id;
};

static void *submitter(void *arg)
{
    struct run *r = arg;
    int id = atomic_fetch_add(&r->next_id, 1);
    char actor[32], ip[32], details[96];
    snprintf(actor, sizeof actor, "user-%d", id);
    snprintf(ip, sizeof ip, "10.0.0.%d", id);
    struct fg_audit_actor who = {.request_id = "bench-request-0001",
                                 .actor_id = actor,
                                 .actor_role = "operator",
                                 .source_ip = ip,
                                 .device_id = "bench-device"};
    char payload[] = "bench-audit-payload";
    long i = 0;
    while (fg_time_mono_ns() < r->deadline_ns) {
        if (atomic_fetch_add(&r->issued, 1) >= RECORDS_MAX)
            break;
        struct fg_audit_record rec;
        int n = snprintf(details, sizeof details, "{\"payload\":\"%s\",\"n\":%ld}", payload, i++);
        if (fg_audit_record_init(&rec, &who, "diag.write", "diag_write", actor) != FG_OK ||
            fg_audit_record_details(&rec, details, (size_t)n) != FG_OK ||
            fg_audit_write(r->store, insert_fn, payload, &rec) != FG_OK)
            atomic_fetch_add(&r->failed, 1);
        else
            atomic_fetch_add(&r->ok, 1);
    }
    return NULL;
}

static int bench_append(const char *db, const char *anchor, struct keys *k, unsigned seconds,
                        double *per_s, double *mean_batch, long *records)
{
    struct fg_store_options so = {.path = db};
    struct fg_audit_options ao = {.keys = k->all, .anchor_path = anchor};
    struct run r = {.store = NULL};
    fg_audit_log *log = NULL;
    if (fg_store_open(&so, &r.store) != FG_OK) {
        fprintf(stderr, "bench_audit: cannot open the store at %s\n", db);
        return -1;
    }
    if (fg_audit_open(&ao, &log) != FG_OK) {
        fprintf(stderr, "bench_audit: cannot open the audit log\n");
        fg_store_close(r.store);
        return -1;
    }
    fg_audit_attach(r.store, log);
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
    fg_rc cp = fg_audit_checkpoint_now(r.store, log); /* anchor the tail for verification */
    struct fg_store_stats st;
    fg_store_stats(r.store, &st);
    fg_store_close(r.store);
    fg_audit_close(log);
    long ok = atomic_load(&r.ok), failed = atomic_load(&r.failed);
    fprintf(stderr, "append: %d threads, %ld records ok, %ld failed, %llu batches in %.2f s\n",
            started, ok, failed, (unsigned long long)st.batches, elapsed_s);
    if (started != SUBMITTERS || failed != 0 || ok == 0 || cp != FG_OK)
        return -1;
    *per_s = (double)ok / elapsed_s;
    *mean_batch = (double)st.batch_size_sum / (double)st.batches;
    *records = ok;
    return 0;
}

/* ---- (b) verify and (c) raw, interleaved ------------------------------------------------- */

struct raw {
    uint8_t *buf; /* per record: canonical ‖ previous MAC */
    size_t len, cap;
    size_t *ends; /* end offset of each record's message */
    size_t n, n_cap;
    uint64_t canonical_bytes;
    uint8_t prev[FG_HASH_LEN];
};

static fg_rc raw_collect(void *ctx, const struct fg_audit_record *rec, uint32_t key_version,
                         const uint8_t mac[FG_HASH_LEN])
{
    struct raw *r = ctx;
    if (r->len + FG_AUDIT_CANONICAL_MAX + FG_HASH_LEN > r->cap || r->n == r->n_cap)
        return FG_ERR_LIMIT; /* enough bytes: stop the scan */
    size_t len = 0;
    fg_rc rc = fg_audit_canonical(rec, key_version, r->buf + r->len, FG_AUDIT_CANONICAL_MAX, &len);
    if (rc != FG_OK)
        return rc;
    memcpy(r->buf + r->len + len, r->prev, FG_HASH_LEN);
    memcpy(r->prev, mac, FG_HASH_LEN);
    r->len += len + FG_HASH_LEN;
    r->canonical_bytes += len;
    r->ends[r->n++] = r->len;
    return FG_OK;
}

static int raw_load(const char *db, long records, struct raw *r)
{
    r->cap = RAW_BYTES_MAX;
    r->n_cap = (size_t)records;
    r->buf = malloc(r->cap);
    r->ends = malloc(r->n_cap * sizeof *r->ends);
    if (r->buf == NULL || r->ends == NULL)
        return -1;
    struct fg_store_options so = {.path = db, .readonly = 1, .read_pool_max = 1};
    fg_store *st = NULL;
    fg_conn *c = NULL;
    if (fg_store_open(&so, &st) != FG_OK)
        return -1;
    fg_rc rc = fg_store_read_acquire(st, &c);
    if (rc == FG_OK) {
        rc = fg_audit_scan(c, 1, records, raw_collect, r);
        fg_store_read_release(st, c);
    }
    fg_store_close(st);
    return (rc == FG_OK || rc == FG_ERR_LIMIT) && r->n > 0 ? 0 : -1;
}

/* One pass of fg_hmac over every record's message; seconds taken, or < 0 on failure. */
static double raw_pass(const struct raw *r, const struct keys *k)
{
    uint64_t start_ns = fg_time_mono_ns();
    size_t from = 0;
    for (size_t i = 0; i < r->n; i++) {
        uint8_t out[FG_HASH_LEN];
        if (fg_hmac(FG_HASH_SHA256, k->mac, sizeof k->mac, r->buf + from, r->ends[i] - from, out) !=
            FG_OK)
            return -1;
        from = r->ends[i];
    }
    return (double)(fg_time_mono_ns() - start_ns) / 1e9;
}

/* One verification; seconds taken, or < 0 on failure. */
static double verify_pass(const char *db, const char *anchor, const struct fg_audit_keys *vk,
                          long records, uint64_t *bytes)
{
    uint64_t start_ns = fg_time_mono_ns();
    struct fg_audit_report rep;
    fg_rc rc = fg_audit_verify_file(db, vk, anchor, &rep);
    double s = (double)(fg_time_mono_ns() - start_ns) / 1e9;
    if (rc != FG_OK || (long)rep.records != records) {
        fprintf(stderr, "bench_audit: verify %s (%s at %lld, %llu records)\n", fg_rc_name(rc),
                fg_audit_problem_name(rep.problem), (long long)rep.first_bad_seq,
                (unsigned long long)rep.records);
        return -1;
    }
    *bytes = rep.canonical_bytes;
    return s;
}

/* Rounds of (verify once, raw once) until each has run VERIFY_MIN_S: interleaving keeps
 * both under the same machine load, so the ratio holds even on a busy box. */
static int bench_verify_raw(const char *db, const char *anchor, const struct keys *k, long records,
                            double out[3])
{
    struct raw r = {0};
    struct fg_audit_keys vk = k->all;
    vk.sign_private = NULL; /* an auditor's keys */
    double verify_s = 0, raw_s = 0;
    uint64_t verify_bytes = 0, raw_bytes = 0, verify_records = 0;
    int rounds = 0, failed = raw_load(db, records, &r);
    while (!failed && (verify_s < VERIFY_MIN_S || raw_s < VERIFY_MIN_S)) {
        uint64_t bytes = 0;
        double v = verify_pass(db, anchor, &vk, records, &bytes);
        double w = raw_pass(&r, k);
        failed = v < 0 || w < 0;
        verify_s += v;
        verify_bytes += bytes;
        verify_records += (uint64_t)records;
        raw_s += w;
        raw_bytes += r.canonical_bytes;
        rounds++;
    }
    if (!failed)
        fprintf(stderr,
                "verify: %d rounds over %ld records (%.1f MB canonical): verify %.2f s, "
                "raw HMAC over %zu records %.2f s\n",
                rounds, records, (double)r.canonical_bytes / 1e6, verify_s, r.n, raw_s);
    free(r.buf);
    free(r.ends);
    if (failed)
        return -1;
    out[0] = (double)verify_records / verify_s;
    out[1] = (double)verify_bytes / verify_s / 1e6;
    out[2] = (double)raw_bytes / raw_s / 1e6;
    return 0;
}

/* ---- main -------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    unsigned seconds = SECONDS_DEFAULT;
    const char *parent = "/tmp";
    if (bench_parse_args(argc, argv, &seconds, &parent) != 0) {
        fprintf(stderr, "usage: bench_audit [--seconds N (1..%d)] [DIR]\n", BENCH_SECONDS_MAX);
        return 2;
    }
    fg_log_set_level(FG_LOG_WARN);
    struct keys k;
    char dir[PATH_MAX], db[PATH_MAX + 32], anchor[PATH_MAX + 32];
    int n = snprintf(dir, sizeof dir, "%s/fg-bench-audit-XXXXXX", parent);
    if (keys_make(&k) != 0 || n <= 0 || (size_t)n >= sizeof dir || mkdtemp(dir) == NULL) {
        fprintf(stderr, "bench_audit: cannot set up (keys or a directory under %s)\n", parent);
        return 1;
    }
    snprintf(db, sizeof db, "%s/audit.db", dir);
    snprintf(anchor, sizeof anchor, "%s/audit-anchor.jsonl", dir);
    double append_per_s = 0, mean_batch = 0, v[3] = {0};
    long records = 0;
    int failed = bench_append(db, anchor, &k, seconds, &append_per_s, &mean_batch, &records) != 0 ||
                 bench_verify_raw(db, anchor, &k, records, v) != 0;
    bench_remove_dir(dir);
    fg_wipe(&k, sizeof k);
    if (failed) {
        fprintf(stderr, "bench_audit: failed\n");
        return 1;
    }
    printf("BENCH audit_append_records_per_s %.0f records/s\n", append_per_s);
    printf("BENCH audit_append_mean_batch %.1f records\n", mean_batch);
    printf("BENCH audit_verify_records_per_s %.0f records/s\n", v[0]);
    printf("BENCH audit_verify_mb_per_s %.1f MB/s\n", v[1]);
    printf("BENCH audit_hmac_sha256_raw_mb_per_s %.1f MB/s\n", v[2]);
    printf("BENCH audit_verify_vs_raw_ratio %.2f ratio\n", v[1] / v[2]);
    return 0;
}
