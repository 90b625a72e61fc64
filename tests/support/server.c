/*
 * server.c — see server.h.
 *
 * How it works: start() makes a data dir with fg_test_tmpdir(), finds a free loopback
 * port (bind 127.0.0.1:0, getsockname, close — racy against other processes, so a server
 * that exits before becoming healthy is retried on a fresh port, twice), builds the argv
 * before forking (only async-signal-safe calls run between fork and exec: prctl, dup2,
 * sigaction, execv), and polls GET /v1/health every 25 ms through the project's client
 * until 200, the child exits, or FG_TEST_SERVER_START_MS passes. Stopping polls waitpid
 * with WNOHANG under a deadline, so a hung shutdown fails a test instead of hanging it.
 * A small registry (by value: pid and dir, never pointers into a test's stack, which a
 * failed assertion's longjmp abandons) lets the teardown and an atexit hook kill leftover
 * servers and report the kept data dirs.
 */
#include "server.h"

#include "testutil.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- registry of live servers and dirs not yet done ---------------------------------- */

#define REGISTRY_MAX 16

static struct {
    int used;
    pid_t pid;
    char dir[512];
} registry[REGISTRY_MAX];
static int atexit_installed;

static void registry_sweep(void)
{
    for (int i = 0; i < REGISTRY_MAX; i++) {
        if (!registry[i].used)
            continue;
        if (registry[i].pid > 0) {
            kill(registry[i].pid, SIGKILL);
            waitpid(registry[i].pid, NULL, 0);
        }
        fprintf(stderr, "[server] test did not finish cleanly; kept data dir %s\n",
                registry[i].dir);
        registry[i].used = 0;
    }
}

static void registry_set(const char *dir, pid_t pid)
{
    if (!atexit_installed) {
        atexit(registry_sweep);
        atexit_installed = 1;
    }
    int free_slot = -1;
    for (int i = 0; i < REGISTRY_MAX; i++) {
        if (registry[i].used && strcmp(registry[i].dir, dir) == 0) {
            registry[i].pid = pid;
            return;
        }
        if (!registry[i].used && free_slot < 0)
            free_slot = i;
    }
    assert_true(free_slot >= 0);
    registry[free_slot].used = 1;
    registry[free_slot].pid = pid;
    snprintf(registry[free_slot].dir, sizeof registry[free_slot].dir, "%s", dir);
}

static void registry_remove(const char *dir)
{
    for (int i = 0; i < REGISTRY_MAX; i++)
        if (registry[i].used && strcmp(registry[i].dir, dir) == 0)
            registry[i].used = 0;
}

int fg_test_server_teardown(void **state)
{
    (void)state;
    registry_sweep();
    return 0;
}

/* ---- small helpers ------------------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int free_loopback_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static int status_code(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return -1;
}

static void print_tail(const char *label, const char *path, size_t bytes)
{
    size_t len = 0;
    char *data = fg_test_read_file(path, &len);
    if (!data) {
        fprintf(stderr, "[server] %s: (no file %s)\n", label, path);
        return;
    }
    size_t from = len > bytes ? len - bytes : 0;
    fprintf(stderr, "[server] --- last %zu bytes of %s ---\n%s\n[server] --- end ---\n", len - from,
            path, data + from);
    free(data);
}

void fg_test_server_dump_tail(const struct fg_test_server *s, size_t bytes)
{
    assert_non_null(s);
    print_tail("stdout", s->stdout_file, bytes);
    print_tail("log", s->log_file, bytes);
}

/* ---- process control ---------------------------------------------------------------- */

static pid_t spawn(struct fg_test_server *s)
{
    const char *bin = getenv("FINGUARD_BIN");
    if (!bin || !*bin)
        fail_msg("FINGUARD_BIN is not set (run the e2e tests through ctest)");
    char port_arg[64], log_arg[700];
    snprintf(port_arg, sizeof port_arg, "server.port=%d", s->port);
    snprintf(log_arg, sizeof log_arg, "log.file=%s", s->log_file);
    char *argv[24 + FG_TEST_SERVER_ARGS_MAX];
    int n = 0;
    argv[n++] = (char *)bin;
    argv[n++] = "serve";
    argv[n++] = "--data-dir";
    argv[n++] = s->dir;
    argv[n++] = "--set";
    argv[n++] = "server.address=127.0.0.1";
    argv[n++] = "--set";
    argv[n++] = port_arg;
    argv[n++] = "--set";
    argv[n++] = log_arg;
    argv[n++] = "--set"; /* tests read one-time codes from DATA_DIR/outbox.jsonl (API.md) */
    argv[n++] = "outbox.sink=file";
    /* the monitor's "local time" is midday whenever a test runs, so the night-hours risk
     * feature and the working-hours rules never depend on the clock of the CI machine; a
     * test that wants the night sets monitor.tz_offset_minutes itself (later --set wins) */
    char tz_arg[64];
    long utc_hour = (long)((time(NULL) / 3600) % 24);
    snprintf(tz_arg, sizeof tz_arg, "monitor.tz_offset_minutes=%ld", (12 - utc_hour) * 60);
    argv[n++] = "--set";
    argv[n++] = tz_arg;
    /* every test client is on loopback: the monitor never blocks, locks or steps up because
     * of what a test does from there (the monitor tests speak for other addresses through
     * server.trusted_proxies and X-Forwarded-For) */
    argv[n++] = "--set";
    argv[n++] = "monitor.allowlist=127.0.0.1,::1";
    for (int i = 0; i < s->nargs; i++)
        argv[n++] = s->args[i];
    argv[n] = NULL;

    int out_fd = open(s->stdout_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(out_fd >= 0 && null_fd >= 0);
    pid_t parent = getpid();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Child: async-signal-safe calls only until execv. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(126);
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        sigaction(SIGPIPE, &dfl, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
            _exit(126);
        execv(bin, argv);
        _exit(127);
    }
    close(out_fd);
    close(null_fd);
    s->pid = pid;
    registry_set(s->dir, pid);
    return pid;
}

int fg_test_server_running(struct fg_test_server *s)
{
    assert_non_null(s);
    if (s->pid <= 0)
        return 0;
    int ws;
    pid_t r = waitpid(s->pid, &ws, WNOHANG);
    if (r == 0)
        return 1;
    s->last_status = r == s->pid ? status_code(ws) : -1;
    s->pid = 0;
    registry_set(s->dir, 0);
    return 0;
}

int fg_test_server_wait(struct fg_test_server *s, int timeout_ms)
{
    assert_non_null(s);
    int64_t deadline = now_ms() + timeout_ms;
    while (fg_test_server_running(s)) {
        if (now_ms() >= deadline) {
            fprintf(stderr, "[server] pid %d did not exit within %d ms; SIGKILL\n", (int)s->pid,
                    timeout_ms);
            fg_test_server_dump_tail(s, 4096);
            fg_test_server_kill9(s);
            s->last_status = -1;
            return -1;
        }
        sleep_ms(10);
    }
    return s->last_status;
}

void fg_test_server_signal_term(struct fg_test_server *s)
{
    assert_non_null(s);
    assert_true(s->pid > 0);
    assert_int_equal(kill(s->pid, SIGTERM), 0);
}

int fg_test_server_stop(struct fg_test_server *s)
{
    assert_non_null(s);
    if (s->pid <= 0)
        return s->last_status;
    fg_test_server_signal_term(s);
    int st = fg_test_server_wait(s, FG_TEST_SERVER_STOP_MS);
    if (st != 0) {
        fprintf(stderr, "[server] stop: exit status %d\n", st);
        fg_test_server_dump_tail(s, 4096);
    }
    return st;
}

void fg_test_server_kill9(struct fg_test_server *s)
{
    assert_non_null(s);
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGKILL);
    int ws = 0;
    pid_t r;
    while ((r = waitpid(s->pid, &ws, 0)) < 0 && errno == EINTR) {
    }
    s->last_status = r == s->pid ? status_code(ws) : -1;
    s->pid = 0;
    registry_set(s->dir, 0);
}

/* ---- clients and health ------------------------------------------------------------- */

void fg_test_server_client_opts(const struct fg_test_server *s, int http2, long timeout_ms,
                                struct fg_client **out)
{
    assert_non_null(s);
    assert_non_null(out);
    struct fg_client_options opt = {.base_url = s->base_url,
                                    .ca_file = s->tls ? s->ca_file : NULL,
                                    .http2 = http2,
                                    .timeout_ms = timeout_ms};
    assert_int_equal(fg_client_new(&opt, out), FG_OK);
}

void fg_test_server_client(const struct fg_test_server *s, struct fg_client **out)
{
    fg_test_server_client_opts(s, 0, 0, out);
}

/* 1 healthy, 0 exited, -1 timed out. */
static int wait_healthy(struct fg_test_server *s)
{
    int64_t deadline = now_ms() + FG_TEST_SERVER_START_MS;
    struct fg_client *c = NULL;
    int result = -1;
    while (now_ms() < deadline) {
        if (!fg_test_server_running(s)) {
            result = 0;
            break;
        }
        struct stat st;
        if (!c && (!s->tls || stat(s->ca_file, &st) == 0))
            fg_test_server_client_opts(s, 0, 2000, &c);
        if (c) {
            struct fg_client_response res;
            fg_rc rc = fg_client_get(c, "/v1/health", &res);
            int ok = rc == FG_OK && res.status == 200;
            fg_client_response_release(&res);
            if (ok) {
                result = 1;
                break;
            }
            if (rc == FG_OK || fg_client_last_failure(c) != FG_CLIENT_FAIL_CONNECT) {
                /* Answered but not healthy, or a broken certificate file read mid-write:
                 * start over with a fresh client (and a fresh read of the cert). */
                fg_client_free(c);
                c = NULL;
            }
        }
        sleep_ms(25);
    }
    fg_client_free(c);
    return result;
}

/* 1 healthy, 0 exited early, -1 hung (killed). */
static int launch(struct fg_test_server *s)
{
    snprintf(s->base_url, sizeof s->base_url, "%s://127.0.0.1:%d", s->tls ? "https" : "http",
             s->port);
    spawn(s);
    int h = wait_healthy(s);
    if (h == 1)
        return 1;
    fprintf(stderr, "[server] %s on port %d (%s)\n",
            h == 0 ? "exited before becoming healthy" : "not healthy in time", s->port, s->dir);
    if (h == 0)
        fprintf(stderr, "[server] exit status %d\n", s->last_status);
    fg_test_server_dump_tail(s, 4096);
    if (h < 0)
        fg_test_server_kill9(s);
    return h;
}

static int arg_turns_tls_off(const char *a)
{
    return strcmp(a, "server.tls=false") == 0 || strcmp(a, "server.tls=0") == 0 ||
           strcmp(a, "server.tls=no") == 0 || strcmp(a, "server.tls=off") == 0;
}

void fg_test_server_start(struct fg_test_server *s, const char *const *extra_args)
{
    assert_non_null(s);
    memset(s, 0, sizeof *s);
    signal(SIGPIPE, SIG_IGN); /* a peer closing must be an error code, not a dead test */
    fg_test_tmpdir("e2e", s->dir, sizeof s->dir);
    snprintf(s->ca_file, sizeof s->ca_file, "%s/tls/cert.pem", s->dir);
    snprintf(s->log_file, sizeof s->log_file, "%s/finguard.log", s->dir);
    snprintf(s->stdout_file, sizeof s->stdout_file, "%s/stdout.log", s->dir);
    s->tls = 1;
    for (const char *const *a = extra_args; a && *a; a++) {
        assert_true(s->nargs < FG_TEST_SERVER_ARGS_MAX);
        assert_true(strlen(*a) < FG_TEST_SERVER_ARG_LEN);
        snprintf(s->args[s->nargs++], FG_TEST_SERVER_ARG_LEN, "%s", *a);
        if (arg_turns_tls_off(*a))
            s->tls = 0;
    }
    registry_set(s->dir, 0);
    for (int attempt = 0; attempt < 3; attempt++) {
        s->port = free_loopback_port();
        int h = launch(s);
        if (h == 1)
            return;
        if (h < 0 || s->last_status == 126 || s->last_status == 127)
            break; /* hung, or exec failed: another port will not help */
    }
    fail_msg("finguard did not start (data dir kept: %s)", s->dir);
}

void fg_test_server_restart(struct fg_test_server *s)
{
    assert_non_null(s);
    assert_true(s->port > 0);
    if (s->pid > 0) {
        int st = fg_test_server_stop(s);
        if (st != 0)
            fprintf(stderr, "[server] restart: previous run exited with %d\n", st);
    }
    if (launch(s) != 1)
        fail_msg("finguard did not restart on port %d (data dir kept: %s)", s->port, s->dir);
}

/* ---- grep and cleanup --------------------------------------------------------------- */

static long grep_tree(const char *path, const void *needle, size_t len, int depth)
{
    struct stat st;
    if (depth > 8 || lstat(path, &st) != 0)
        return 0;
    if (S_ISREG(st.st_mode)) {
        long n = fg_test_file_count(path, needle, len);
        return n > 0 ? n : 0;
    }
    if (!S_ISDIR(st.st_mode))
        return 0;
    DIR *d = opendir(path);
    if (!d)
        return 0;
    long total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char child[1024];
        int n = snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        if (n > 0 && (size_t)n < sizeof child)
            total += grep_tree(child, needle, len, depth + 1);
    }
    closedir(d);
    return total;
}

long fg_test_server_grep(const struct fg_test_server *s, const void *needle, size_t len)
{
    assert_non_null(s);
    assert_non_null(needle);
    assert_true(len > 0);
    return grep_tree(s->dir, needle, len, 0);
}

void fg_test_server_done(struct fg_test_server *s)
{
    assert_non_null(s);
    if (s->pid > 0)
        (void)fg_test_server_stop(s);
    registry_remove(s->dir);
    fg_test_rmtree(s->dir);
}

/* ---- the write-path probe ------------------------------------------------------------ */

long fg_test_probe_write(struct fg_client *c, const char *payload, char *id, size_t id_size,
                         fg_rc *rc_out)
{
    json_t *body = json_pack("{s:s}", "payload", payload);
    if (!c || !body)
        abort(); /* no cmocka assertion: this runs on worker threads */
    struct fg_client_response res;
    fg_rc rc = fg_client_post_json(c, "/v1/diag/write", body, &res);
    json_decref(body);
    if (rc_out)
        *rc_out = rc;
    if (rc)
        return 0;
    long status = res.status;
    if (status == 201) {
        const char *got_id = json_string_value(json_object_get(res.json, "id"));
        const char *got = json_string_value(json_object_get(res.json, "payload"));
        if (!got_id || !got || strcmp(got, payload) != 0 || strlen(got_id) >= id_size) {
            fprintf(stderr, "[probe] bad 201 body: %s\n", res.body);
            status = -1;
        } else if (id) {
            snprintf(id, id_size, "%s", got_id);
        }
    }
    fg_client_response_release(&res);
    return status;
}

long fg_test_probe_read(struct fg_client *c, const char *id, char *payload_out, size_t payload_size)
{
    char path[256];
    if (!c || !id || (size_t)snprintf(path, sizeof path, "/v1/diag/write/%s", id) >= sizeof path)
        abort(); /* no cmocka assertion: this runs on worker threads */
    struct fg_client_response res;
    if (fg_client_get(c, path, &res) != FG_OK)
        return 0;
    long status = res.status;
    if (status == 200) {
        const char *got_id = json_string_value(json_object_get(res.json, "id"));
        const char *got = json_string_value(json_object_get(res.json, "payload"));
        if (!got_id || !got || strcmp(got_id, id) != 0) {
            fprintf(stderr, "[probe] bad 200 body for id %s: %s\n", id, res.body);
            status = -1;
        } else if (payload_out) {
            snprintf(payload_out, payload_size, "%s", got);
        }
    }
    fg_client_response_release(&res);
    return status;
}

struct verify_job {
    pthread_t thread;
    const struct fg_test_server *s;
    const char *const *ids;
    const char *const *payloads;
    size_t from, to;
    long bad;
};

static void *verify_main(void *arg)
{
    struct verify_job *j = arg;
    struct fg_client_options opt = {.base_url = j->s->base_url,
                                    .ca_file = j->s->tls ? j->s->ca_file : NULL,
                                    .timeout_ms = 10000};
    struct fg_client *c = NULL;
    if (fg_client_new(&opt, &c) != FG_OK)
        abort();
    char *payload = malloc(64 * 1024);
    if (!payload)
        abort();
    for (size_t i = j->from; i < j->to; i++) {
        long st = fg_test_probe_read(c, j->ids[i], payload, 64 * 1024);
        if (st != 200 || strcmp(payload, j->payloads[i]) != 0) {
            if (j->bad++ < 5)
                fprintf(stderr, "[probe] acknowledged write %s (\"%s\") reads back: %ld%s\n",
                        j->ids[i], j->payloads[i], st, st == 200 ? " with another payload" : "");
        }
    }
    free(payload);
    fg_client_free(c);
    return NULL;
}

long fg_test_probe_verify(const struct fg_test_server *s, const char *const *ids,
                          const char *const *payloads, size_t n, int threads)
{
    assert_non_null(s);
    assert_true(threads >= 1 && threads <= 64);
    assert_true(n == 0 || (ids && payloads));
    struct verify_job jobs[64];
    size_t per = (n + (size_t)threads - 1) / (size_t)threads;
    for (int i = 0; i < threads; i++) {
        size_t from = per * (size_t)i, to = from + per;
        jobs[i] = (struct verify_job){.s = s,
                                      .ids = ids,
                                      .payloads = payloads,
                                      .from = from < n ? from : n,
                                      .to = to < n ? to : n};
        assert_int_equal(pthread_create(&jobs[i].thread, NULL, verify_main, &jobs[i]), 0);
    }
    long bad = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(jobs[i].thread, NULL);
        bad += jobs[i].bad;
    }
    return bad;
}
