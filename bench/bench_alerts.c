/*
 * bench_alerts.c — event-commit-to-alert latency through a real server (issue #6,
 * `make bench`; MON-1, MON-3, AUTH-7). Goal: p99 ≤ 5 ms.
 *
 * What is measured: a real `finguard serve` (the binary beside this program, or
 * $FINGUARD_BIN) on 127.0.0.1, plain HTTP, a fresh data directory, keys.dev_mode=true (an
 * unsealed instance without a first administrator: nothing here needs one),
 * server.trusted_proxies=127.0.0.1 (so X-Forwarded-For names the attacking address), the
 * shipped rule pack and monitor.enforce=true (the default: responses run). --threads
 * (default BENCH_THREADS_DEFAULT) client threads share --addresses distinct addresses
 * (198.18.0.0/16, RFC 2544's benchmark range) round-robin; for each address a thread
 * sends BENCH_FAILURES failed logins (POST /v1/auth/login, X-Forwarded-For: <address>, an
 * unknown username that is new for every attempt, one device id per address), one after the
 * other on one keep-alive connection. Every attempt costs the server one Argon2id
 * verification (unknown users take the same path), so the hashing pool paces the load: it
 * is not a flood. Each username is tried once, so of the shipped pack auth.bruteforce.ip
 * fires (count >= 5 per ip in 600 s): one firing per address, at its 5th failure, which
 * alerts and blocks the address (block_ip). A few others fire once each and are then
 * suppressed (ops.response_storm when the blocks pile up), so firings >= addresses.
 * The identity layer's per-source limit (20 failures / 300 s per source) is never reached.
 *
 * The latency is the server's own: the monitor times each firing from its event's time
 * (stamped in the event's transaction) to the commit of the firing's alert and responses and
 * keeps a histogram, finguard_monitor_alert_latency_ms (cumulative buckets 1, 2, 3, 5, 10,
 * 20, 50, 100, 250, 500, 1000, +Inf ms; _sum and _count), which this program reads from
 * GET /metrics (open on loopback when server.metrics_token is empty) after the load, once
 * the monitor has caught up (the count stops moving, at most BENCH_DRAIN_MS). Quantiles are
 * the upper bound of the bucket that holds them ("inf" for the last bucket) — coarse, but
 * exactly what a Prometheus scrape of the server would show.
 *
 * Proof the firings acted: after the drain, one more login from every address that had its
 * five failures must be refused 429 (blocked by the monitor) — counted and printed.
 *
 * Bounds: at most --addresses (1..BENCH_ADDRESSES_MAX, default BENCH_ADDRESSES_DEFAULT)
 * addresses × BENCH_FAILURES requests, and at most --seconds (default BENCH_SECONDS_DEFAULT)
 * of load: threads stop taking new addresses at the deadline (the addresses done are
 * printed). Any answer but 401 to a failure, or a transport failure, is an error (counted,
 * the first few printed); 429 before an address's 5th failure too.
 *
 * Output contract (scripts/bench.sh): stdout holds only "BENCH <name> <value> <unit>"; the
 * narrative goes to stderr. Exit 0 ok, 1 on errors (the BENCH lines are printed first), 2 on
 * a usage error. The data directory is removed on success and kept (its path printed) on
 * failure or with FG_BENCH_KEEP=1. The server is started with PR_SET_PDEATHSIG, so it never
 * outlives this program; everything binds to 127.0.0.1.
 *
 * Usage: bench_alerts [--seconds N] [--addresses N] [--threads N] [DIR]
 *        (DIR: parent of the data dir)
 * Environment: FINGUARD_BIN (the server binary), FG_BENCH_KEEP=1, FG_BENCH_LOG_LEVEL (server
 * log level, default warn).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "client/client.h"

#define BENCH_SECONDS_DEFAULT 180
#define BENCH_SECONDS_MAX 3600
#define BENCH_ADDRESSES_DEFAULT 2000u
#define BENCH_ADDRESSES_MAX 65536u /* 198.18.0.0/16 */
#define BENCH_FAILURES 5u          /* auth.bruteforce.ip: threshold 5 (data/rules/auth.yaml) */
#define BENCH_THREADS_DEFAULT 4u
#define BENCH_THREADS_MAX 16u
#define BENCH_DIR_MAX 512
#define BENCH_ERRORS_SHOWN 5
#define BENCH_ERROR_TEXT 200
#define BENCH_START_MS 15000 /* the server must answer /v1/health within this */
#define BENCH_DRAIN_MS 10000 /* the monitor must catch up within this after the load */
#define BENCH_DRAIN_STABLE 5 /* ... i.e. this many 100 ms polls without a new firing */
#define BENCH_HIST_BUCKETS 12
#define NS_PER_S 1000000000ull
#define NS_PER_MS 1000000ull

static const char *const bucket_le[BENCH_HIST_BUCKETS] = {
    "1", "2", "3", "5", "10", "20", "50", "100", "250", "500", "1000", "+Inf"};

/* ---- the server --------------------------------------------------------------------------- */

#define BENCH_PROG "bench_alerts"
#include "bench_server.h"

static const char *const server_args[] = {"--set", "server.trusted_proxies=127.0.0.1", "--set",
                                          "keys.dev_mode=true", NULL};

static struct fg_client *client_new(void)
{
    struct fg_client_options opt = {.base_url = srv.base_url, .http2 = 0, .timeout_ms = 30000};
    struct fg_client *c = NULL;
    if (fg_client_new(&opt, &c) != FG_OK)
        return NULL;
    return c;
}

static void wait_healthy(void)
{
    uint64_t until = fg_time_mono_ns() + BENCH_START_MS * NS_PER_MS;
    struct fg_client *c = client_new();
    if (c == NULL)
        die("cannot create a client");
    while (fg_time_mono_ns() < until) {
        if (waitpid(srv.pid, NULL, WNOHANG) == srv.pid) {
            srv.pid = 0;
            die("the server exited at start (see %s/stdout.log)", srv.dir);
        }
        struct fg_client_response res = {0};
        if (fg_client_get(c, "/v1/health", &res) == FG_OK && res.status == 200) {
            fg_client_response_release(&res);
            fg_client_free(c);
            return;
        }
        fg_client_response_release(&res);
        usleep(100000);
    }
    die("the server did not answer /v1/health within %d ms", BENCH_START_MS);
}

/* ---- the attackers ------------------------------------------------------------------------ */

static _Atomic unsigned g_next;  /* the next address to attack */
static unsigned g_addresses;     /* --addresses */
static uint64_t g_deadline_ns;   /* no new address after this */
static _Atomic uint64_t g_sent;  /* login requests answered */
static _Atomic uint64_t g_401;   /* expected failures */
static _Atomic uint64_t g_early; /* 429 before an address's 5th failure */
static _Atomic uint64_t g_other; /* any other status */
static _Atomic uint64_t g_transport;

struct worker {
    pthread_t thread;
    unsigned idx;
    unsigned done; /* addresses with all BENCH_FAILURES failures sent */
    unsigned nerrors_kept;
    char first_error[BENCH_ERRORS_SHOWN][BENCH_ERROR_TEXT];
};

static void address_of(unsigned i, char *out, size_t cap)
{
    snprintf(out, cap, "198.18.%u.%u", i >> 8, i & 255u);
}

/* One failed login from address i: its k-th attempt. The HTTP status, 0 on a transport
 * failure. */
static long attempt(struct fg_client *c, unsigned i, unsigned k, char *err, size_t err_cap)
{
    char ip[32], xff[64], body[160];
    address_of(i, ip, sizeof ip);
    snprintf(xff, sizeof xff, "X-Forwarded-For: %s", ip);
    /* a new unknown username per attempt: only the per-ip rule counts them */
    int n = snprintf(body, sizeof body,
                     "{\"username\":\"bench-%u-%u\",\"password\":\"wrong-password-%u\","
                     "\"device_id\":\"bench-dev-%u\"}",
                     i, k, k, i);
    const char *headers[2] = {xff, NULL};
    struct fg_client_request req = {.method = "POST",
                                    .path = "/v1/auth/login",
                                    .body = body,
                                    .body_len = (size_t)n,
                                    .content_type = "application/json",
                                    .headers = headers};
    struct fg_client_response res;
    memset(&res, 0, sizeof res);
    long st = 0;
    if (fg_client_request(c, &req, &res) == FG_OK)
        st = res.status;
    else
        snprintf(err, err_cap, "%s: attempt %u: transport: %s", ip, k, fg_client_last_error(c));
    if (st != 0)
        snprintf(err, err_cap, "%s: attempt %u: %ld %.120s", ip, k, st, res.body ? res.body : "");
    fg_client_response_release(&res);
    return st;
}

static void keep_error(struct worker *w, const char *text)
{
    if (w->nerrors_kept < BENCH_ERRORS_SHOWN)
        snprintf(w->first_error[w->nerrors_kept++], BENCH_ERROR_TEXT, "%s", text);
}

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct fg_client *c = client_new();
    if (c == NULL) {
        keep_error(w, "cannot create a client");
        atomic_fetch_add(&g_transport, 1);
        return NULL;
    }
    char err[BENCH_ERROR_TEXT];
    for (;;) {
        if (fg_time_mono_ns() >= g_deadline_ns)
            break;
        unsigned i = atomic_fetch_add(&g_next, 1);
        if (i >= g_addresses)
            break;
        unsigned k;
        for (k = 1; k <= BENCH_FAILURES; k++) {
            long st = attempt(c, i, k, err, sizeof err);
            if (st != 0)
                atomic_fetch_add(&g_sent, 1);
            if (st == 401) {
                atomic_fetch_add(&g_401, 1);
                continue;
            }
            if (st == 0)
                atomic_fetch_add(&g_transport, 1);
            else if (st == 429)
                atomic_fetch_add(&g_early, 1);
            else
                atomic_fetch_add(&g_other, 1);
            keep_error(w, err);
            break;
        }
        if (k > BENCH_FAILURES)
            w->done++;
    }
    fg_client_free(c);
    return NULL;
}

/* ---- /metrics ----------------------------------------------------------------------------- */

/* The value of the metric line that starts with `name` followed by a space; -1 if none. */
static double metric(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; p != NULL && *p != '\0';) {
        if (strncmp(p, name, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return -1;
}

struct hist {
    double le[BENCH_HIST_BUCKETS]; /* cumulative counts */
    double sum, count;
    struct hist *detect; /* the detection part (finguard_monitor_detect_latency_ms) or NULL */
    double firings, blocks, failures;
};

/* The histogram called name (…_bucket{le=…}, _sum, _count) from a /metrics page into h. */
static void hist_parse(const char *body, const char *name, struct hist *h)
{
    char key[128];
    for (unsigned b = 0; b < BENCH_HIST_BUCKETS; b++) {
        snprintf(key, sizeof key, "%s_bucket{le=\"%s\"}", name, bucket_le[b]);
        h->le[b] = metric(body, key);
    }
    snprintf(key, sizeof key, "%s_sum", name);
    h->sum = metric(body, key);
    snprintf(key, sizeof key, "%s_count", name);
    h->count = metric(body, key);
}

static int hist_read(struct fg_client *c, struct hist *h)
{
    struct fg_client_response res;
    memset(&res, 0, sizeof res);
    if (fg_client_get(c, "/metrics", &res) != FG_OK || res.status != 200 || res.body == NULL) {
        fprintf(stderr, "bench_alerts: GET /metrics: %ld\n", res.status);
        fg_client_response_release(&res);
        return -1;
    }
    hist_parse(res.body, "finguard_monitor_alert_latency_ms", h);
    if (h->detect != NULL)
        hist_parse(res.body, "finguard_monitor_detect_latency_ms", h->detect);
    h->firings = metric(res.body, "finguard_monitor_firings_total");
    h->blocks = metric(res.body, "finguard_monitor_responses_total{action=\"block_ip\"}");
    h->failures = metric(res.body, "finguard_monitor_response_failures_total");
    fg_client_response_release(&res);
    for (unsigned b = 0; b < BENCH_HIST_BUCKETS; b++)
        if (h->le[b] < 0)
            return -1;
    return h->count < 0 ? -1 : 0;
}

/* The upper bound (ms) of the bucket holding quantile q; INFINITY-like -1 for +Inf, -2 if
 * empty. */
static double hist_quantile(const struct hist *h, double q)
{
    if (h->count <= 0)
        return -2;
    double rank = q * h->count;
    for (unsigned b = 0; b < BENCH_HIST_BUCKETS; b++)
        if (h->le[b] >= rank)
            return b + 1 < BENCH_HIST_BUCKETS ? strtod(bucket_le[b], NULL) : -1;
    return -1;
}

static void print_quantile(const char *name, double v)
{
    if (v == -1)
        printf("BENCH %s inf ms\n", name);
    else if (v >= 0)
        printf("BENCH %s %.0f ms\n", name, v);
}

/* ---- main ------------------------------------------------------------------------------- */

static int parse_args(int argc, char **argv, unsigned *seconds, unsigned *addresses,
                      unsigned *threads, const char **parent)
{
    static const char *const names[3] = {"--seconds", "--addresses", "--threads"};
    const long max[3] = {BENCH_SECONDS_MAX, BENCH_ADDRESSES_MAX, BENCH_THREADS_MAX};
    unsigned *out[3] = {seconds, addresses, threads};
    for (int i = 1; i < argc; i++) {
        int o = 0;
        while (o < 3 && strcmp(argv[i], names[o]) != 0)
            o++;
        if (o < 3 && i + 1 < argc) {
            char *end = NULL;
            long v = strtol(argv[++i], &end, 10);
            if (end == argv[i] || *end != '\0' || v < 1 || v > max[o])
                return -1;
            *out[o] = (unsigned)v;
        } else if (argv[i][0] != '-') {
            *parent = argv[i];
        } else {
            return -1;
        }
    }
    return 0;
}

/* After the load: poll until the histogram's count stops moving (the monitor caught up). */
static void drain(struct fg_client *c, struct hist *h)
{
    uint64_t until = fg_time_mono_ns() + BENCH_DRAIN_MS * NS_PER_MS;
    double last = -1;
    unsigned stable = 0;
    while (fg_time_mono_ns() < until) {
        if (hist_read(c, h) != 0)
            die("no finguard_monitor_alert_latency_ms histogram in /metrics");
        if (h->count == last) {
            if (++stable >= BENCH_DRAIN_STABLE)
                return;
        } else {
            stable = 0;
            last = h->count;
        }
        usleep(100000);
    }
    fprintf(stderr, "bench_alerts: the firing count still moved after %d ms\n", BENCH_DRAIN_MS);
}

/* One more login from each of the first n addresses: how many are refused 429 (blocked). */
static unsigned blocked_count(struct fg_client *c, unsigned n)
{
    unsigned blocked = 0;
    char err[BENCH_ERROR_TEXT];
    for (unsigned i = 0; i < n; i++)
        if (attempt(c, i, BENCH_FAILURES + 1, err, sizeof err) == 429)
            blocked++;
    return blocked;
}

int main(int argc, char **argv)
{
    unsigned seconds = BENCH_SECONDS_DEFAULT, addresses = BENCH_ADDRESSES_DEFAULT;
    unsigned threads = BENCH_THREADS_DEFAULT;
    const char *parent = NULL;
    if (parse_args(argc, argv, &seconds, &addresses, &threads, &parent) != 0) {
        fprintf(stderr,
                "usage: bench_alerts [--seconds N (1..%d)] [--addresses N (1..%u)] "
                "[--threads N (1..%u)] [DIR]\n",
                BENCH_SECONDS_MAX, BENCH_ADDRESSES_MAX, BENCH_THREADS_MAX);
        return 2;
    }
    fg_log_set_level(FG_LOG_WARN);
    find_binary(argv[0]);
    if (access(srv.bin, X_OK) != 0)
        die("no finguard binary at %s (set FINGUARD_BIN)", srv.bin);
    char tmpl[BENCH_DIR_MAX];
    int tn = snprintf(tmpl, sizeof tmpl, "%s/fg-alerts-XXXXXX", parent ? parent : "/tmp");
    if (tn < 0 || (size_t)tn >= sizeof tmpl)
        die("the directory path is longer than %d bytes", BENCH_DIR_MAX - 1);
    if (mkdtemp(tmpl) == NULL)
        die("mkdtemp %s: %s", tmpl, strerror(errno));
    snprintf(srv.dir, sizeof srv.dir, "%s", tmpl);
    server_start(free_port(), 0, server_args);
    wait_healthy();
    struct fg_client *mc = client_new(); /* /metrics and the block check, from 127.0.0.1 */
    if (mc == NULL)
        die("cannot create a client");
    struct hist h0, h1, d0, d1;
    memset(&h0, 0, sizeof h0);
    memset(&h1, 0, sizeof h1);
    memset(&d0, 0, sizeof d0);
    memset(&d1, 0, sizeof d1);
    h0.detect = &d0;
    h1.detect = &d1;
    if (hist_read(mc, &h0) != 0)
        die("no finguard_monitor_alert_latency_ms histogram in /metrics");
    fprintf(stderr,
            "bench_alerts: server %s up (data %s); %u addresses x %u failed logins, "
            "%u threads, at most %u s\n",
            srv.base_url, srv.dir, addresses, BENCH_FAILURES, threads, seconds);

    g_addresses = addresses;
    uint64_t t0 = fg_time_mono_ns();
    g_deadline_ns = t0 + (uint64_t)seconds * NS_PER_S;
    static struct worker w[BENCH_THREADS_MAX];
    for (unsigned t = 0; t < threads; t++) {
        w[t].idx = t;
        if (pthread_create(&w[t].thread, NULL, worker_run, &w[t]) != 0)
            die("pthread_create");
    }
    unsigned done = 0, nerr = 0;
    for (unsigned t = 0; t < threads; t++) {
        pthread_join(w[t].thread, NULL);
        done += w[t].done;
        for (unsigned k = 0; k < w[t].nerrors_kept; k++)
            fprintf(stderr, "bench_alerts: thread %u: %s\n", t, w[t].first_error[k]);
        nerr += w[t].nerrors_kept;
    }
    double load_s = (double)(fg_time_mono_ns() - t0) / 1e9;
    drain(mc, &h1);
    /* only addresses 0..done-1 are certain to be complete when nothing failed */
    unsigned checked = nerr == 0 ? done : 0;
    unsigned blocked = blocked_count(mc, checked);

    double count = h1.count - h0.count;
    for (unsigned b = 0; b < BENCH_HIST_BUCKETS; b++)
        h1.le[b] -= h0.le[b];
    h1.count = count;
    h1.sum -= h0.sum;
    for (unsigned b = 0; b < BENCH_HIST_BUCKETS; b++)
        d1.le[b] -= d0.le[b];
    d1.count -= d0.count;
    d1.sum -= d0.sum;
    uint64_t errors = atomic_load(&g_early) + atomic_load(&g_other) + atomic_load(&g_transport);
    printf("BENCH alert_addresses %u ips\n", done);
    printf("BENCH alert_failed_logins %llu req\n", (unsigned long long)atomic_load(&g_401));
    printf("BENCH alert_login_failures_per_s %.1f req/s\n",
           load_s > 0 ? (double)atomic_load(&g_401) / load_s : 0);
    printf("BENCH alert_firings_timed %.0f count\n", count);
    print_quantile("alert_latency_p50_ms", hist_quantile(&h1, 0.50));
    print_quantile("alert_latency_p99_ms", hist_quantile(&h1, 0.99));
    if (count > 0)
        printf("BENCH alert_latency_mean_ms %.2f ms\n", h1.sum / count);
    if (d1.count > 0) { /* older servers have no detection histogram: then nothing is printed */
        print_quantile("alert_detect_p50_ms", hist_quantile(&d1, 0.50));
        print_quantile("alert_detect_p99_ms", hist_quantile(&d1, 0.99));
    }
    printf("BENCH alert_blocked_after %u ips\n", blocked);
    printf("BENCH alert_errors %llu count\n", (unsigned long long)errors);
    fflush(stdout);

    fprintf(stderr,
            "bench_alerts: %u addresses done in %.1f s, %llu requests (%llu x 401, %llu early "
            "429, %llu other, %llu transport); firings %.0f (block_ip %.0f, response failures "
            "%.0f); %u of %u addresses refused 429 afterwards\n",
            done, load_s, (unsigned long long)atomic_load(&g_sent),
            (unsigned long long)atomic_load(&g_401), (unsigned long long)atomic_load(&g_early),
            (unsigned long long)atomic_load(&g_other),
            (unsigned long long)atomic_load(&g_transport), h1.firings, h1.blocks, h1.failures,
            blocked, checked);
    fprintf(stderr, "bench_alerts: alert latency histogram (ms, per bucket):");
    for (unsigned b = 0; b < BENCH_HIST_BUCKETS; b++)
        fprintf(stderr, " le%s=%.0f", bucket_le[b], h1.le[b] - (b ? h1.le[b - 1] : 0));
    fputc('\n', stderr);
    fprintf(stderr, "bench_alerts: detection part (event to firing found), per bucket:");
    for (unsigned b = 0; b < BENCH_HIST_BUCKETS; b++)
        fprintf(stderr, " le%s=%.0f", bucket_le[b], d1.le[b] - (b ? d1.le[b - 1] : 0));
    fputc('\n', stderr);

    int failed = 0;
    if (errors > 0) {
        fprintf(stderr, "bench_alerts: *** %llu attempts were not answered 401 ***\n",
                (unsigned long long)errors);
        failed = 1;
    }
    if (count < done) {
        fprintf(stderr, "bench_alerts: *** %.0f firings timed for %u addresses ***\n", count, done);
        failed = 1;
    }
    if (blocked < checked) {
        fprintf(stderr, "bench_alerts: *** %u of %u addresses were not blocked ***\n",
                checked - blocked, checked);
        failed = 1;
    }
    fg_client_free(mc);
    int code = server_stop();
    if (code != 0) {
        fprintf(stderr, "bench_alerts: the server exited with %d after SIGTERM\n", code);
        failed = 1;
    }
    const char *keep = getenv("FG_BENCH_KEEP");
    if (failed || (keep != NULL && strcmp(keep, "1") == 0)) {
        fprintf(stderr, "bench_alerts: data directory kept: %s\n", srv.dir);
        return failed;
    }
    nftw(srv.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
