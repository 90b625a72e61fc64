/*
 * bench_argon2.c — the ceiling for logins per second: bare Argon2id verifications per second.
 *
 * A login's cost is one fg_password_verify() of a stored hash with the default parameters
 * (crypto.h fg_pwhash_default: Argon2id, 19 MiB, t = 2, p = 1), run on the hashing pool with
 * one worker per core (iam.h). This program does exactly that work and nothing else: one
 * hash is made once with fg_password_hash(), then one thread per online core (the pool's
 * size, sysconf(_SC_NPROCESSORS_ONLN)) verifies the right password against it in a loop
 * until --seconds have passed. Each thread times itself from its own start to its last
 * finished verification, and the rate is the sum of each thread's count over its own time,
 * so a thread that starts late or stops early does not bias the total. scripts/bench.sh
 * divides the server's logins/s at 64 clients by this (issue #4: goal ≥ 0.9).
 *
 * Every verification must answer FG_OK, and a wrong password must answer
 * FG_ERR_UNAUTHENTICATED before the run, so a broken path exits 1 instead of printing a
 * fast number. Nothing is written to DIR (accepted for the common bench interface).
 * Output contract (scripts/bench.sh): stdout holds only "BENCH <name> <value> <unit>";
 * the parameters and per-thread counts go to stderr.
 *
 * Usage: bench_argon2 [--seconds N] [DIR]
 */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "iam/password.h"

#define SECONDS_DEFAULT 5
#define SECONDS_MAX 3600
/* More threads than this would not be a machine we benchmark on; it bounds the array. */
#define THREADS_MAX 256u
/* A password of ordinary length: Argon2 pre-hashes it, so its length barely matters. */
#define PASSWORD "bench-Argon2id-passw0rd"
#define NS_PER_S 1000000000ull

struct worker {
    pthread_t thread;
    const char *stored;
    uint64_t deadline_ns;
    uint64_t ops;
    uint64_t elapsed_ns;
    int failed;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    uint64_t start = fg_time_mono_ns(), now = start;
    while (now < w->deadline_ns) {
        if (fg_password_verify(w->stored, PASSWORD, sizeof PASSWORD - 1) != FG_OK) {
            w->failed = 1;
            break;
        }
        w->ops++;
        now = fg_time_mono_ns();
    }
    w->elapsed_ns = now - start;
    return NULL;
}

static int parse_args(int argc, char **argv, unsigned *seconds)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            char *end = NULL;
            long v = strtol(argv[++i], &end, 10);
            if (end == argv[i] || *end != '\0' || v < 1 || v > SECONDS_MAX)
                return -1;
            *seconds = (unsigned)v;
        } else if (argv[i][0] == '-') {
            return -1;
        } /* else DIR: nothing to write there */
    }
    return 0;
}

/* Runs `threads` verifiers against `stored` for `seconds`; *per_s = Σ ops_i / elapsed_i.
 * 0 on success. */
static int run(const char *stored, unsigned threads, unsigned seconds, double *per_s)
{
    static struct worker workers[THREADS_MAX];
    assert(threads >= 1 && threads <= THREADS_MAX);
    uint64_t deadline = fg_time_mono_ns() + (uint64_t)seconds * NS_PER_S;
    unsigned started = 0;
    for (; started < threads; started++) {
        workers[started] = (struct worker){.stored = stored, .deadline_ns = deadline};
        if (pthread_create(&workers[started].thread, NULL, worker_run, &workers[started]) != 0)
            break;
    }
    int failed = started < threads;
    *per_s = 0;
    for (unsigned i = 0; i < started; i++) {
        pthread_join(workers[i].thread, NULL);
        struct worker *w = &workers[i];
        failed |= w->failed || w->ops == 0;
        if (w->elapsed_ns > 0)
            *per_s += (double)w->ops * (double)NS_PER_S / (double)w->elapsed_ns;
        fprintf(stderr, "bench_argon2: thread %u: %llu verifications in %.2f s\n", i,
                (unsigned long long)w->ops, (double)w->elapsed_ns / (double)NS_PER_S);
    }
    return failed ? -1 : 0;
}

int main(int argc, char **argv)
{
    unsigned seconds = SECONDS_DEFAULT;
    if (parse_args(argc, argv, &seconds) != 0) {
        fprintf(stderr, "usage: bench_argon2 [--seconds N (1..%d)] [DIR]\n", SECONDS_MAX);
        return 2;
    }
    fg_log_set_level(FG_LOG_WARN);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = ncpu > 0 ? (unsigned)ncpu : 1;
    if (threads > THREADS_MAX)
        threads = THREADS_MAX;
    char stored[FG_PWHASH_STR_MAX];
    if (fg_crypto_init() != FG_OK ||
        fg_password_hash(PASSWORD, sizeof PASSWORD - 1, stored) != FG_OK ||
        fg_password_verify(stored, "wrong", 5) != FG_ERR_UNAUTHENTICATED) {
        fprintf(stderr, "bench_argon2: cannot set up (crypto init, hash or a wrong password)\n");
        return 1;
    }
    size_t mem_kib = fg_pwhash_default.mem_bytes / 1024u;
    fprintf(stderr, "bench_argon2: Argon2id m=%zu KiB t=%llu p=1, %u threads, %u s\n", mem_kib,
            (unsigned long long)fg_pwhash_default.ops, threads, seconds);
    double per_s = 0;
    if (run(stored, threads, seconds, &per_s) != 0) {
        fprintf(stderr, "bench_argon2: a verification failed\n");
        return 1;
    }
    printf("BENCH argon2id_verify_per_s %.1f ops/s\n", per_s);
    printf("BENCH argon2id_verify_threads %u threads\n", threads);
    printf("BENCH argon2id_mem %zu KiB\n", mem_kib);
    return 0;
}
