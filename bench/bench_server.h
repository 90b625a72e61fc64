/*
 * bench_server.h — a real `finguard serve` for the benchmarks that drive one over HTTP
 * (bench_alerts, bench_transfers): where the binary is (FINGUARD_BIN, else beside the
 * benchmark), a free loopback port, start with the program's own settings, stop, kill, and
 * die() that keeps the data directory for inspection. Header-only like bench_util.h: each
 * benchmark is one translation unit and has one server, `srv`.
 *
 * The server binds 127.0.0.1, logs to DIR/finguard.log (FG_BENCH_LOG_LEVEL, default warn),
 * writes its stdout/stderr to DIR/stdout.log, sends its outbox to a file, and is started with
 * PR_SET_PDEATHSIG, so it never outlives the benchmark. The including file defines
 * BENCH_PROG ("bench_alerts"), BENCH_DIR_MAX and includes base/time.h first.
 */
#ifndef FG_BENCH_SERVER_H
#define FG_BENCH_SERVER_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BENCH_SERVER_STOP_MS 15000 /* the server must exit after SIGTERM within this */
#define BENCH_SERVER_ARGS_MAX 16   /* the program's own "--set" arguments */

static struct {
    char bin[PATH_MAX + 16];
    char dir[BENCH_DIR_MAX];
    char base_url[64];
    char ca_file[BENCH_DIR_MAX + 32]; /* DIR/tls/cert.pem when started with TLS */
    pid_t pid;
} srv;

static void server_kill(void)
{
    if (srv.pid > 0) {
        kill(srv.pid, SIGKILL);
        waitpid(srv.pid, NULL, 0);
        srv.pid = 0;
    }
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(BENCH_PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    server_kill();
    if (srv.dir[0] != '\0')
        fprintf(stderr, BENCH_PROG ": data directory kept: %s\n", srv.dir);
    exit(1);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        die("no free port: %s", strerror(errno));
    close(fd);
    return ntohs(a.sin_port);
}

/* srv.bin: $FINGUARD_BIN, else `finguard` beside this program. */
static void find_binary(const char *argv0)
{
    const char *env = getenv("FINGUARD_BIN");
    if (env != NULL && *env != '\0') {
        snprintf(srv.bin, sizeof srv.bin, "%s", env);
        return;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        snprintf(self, sizeof self, "%s", argv0);
        n = (ssize_t)strlen(self);
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash != NULL)
        *slash = '\0';
    snprintf(srv.bin, sizeof srv.bin, "%s/finguard", slash ? self : ".");
}

/* Start on port with the data dir srv.dir; tls picks https (the server's default) and
 * srv.ca_file. extra: the program's own arguments ("--set", "k=v", ...), NULL-terminated. */
static void server_start(int port, int tls, const char *const *extra)
{
    char port_arg[48], log_arg[BENCH_DIR_MAX + 32], out[BENCH_DIR_MAX + 32], level_arg[48];
    snprintf(port_arg, sizeof port_arg, "server.port=%d", port);
    snprintf(log_arg, sizeof log_arg, "log.file=%s/finguard.log", srv.dir);
    snprintf(out, sizeof out, "%s/stdout.log", srv.dir);
    /* FG_BENCH_LOG_LEVEL=info|debug: a chattier server log, for diagnosis only */
    const char *lvl = getenv("FG_BENCH_LOG_LEVEL");
    snprintf(level_arg, sizeof level_arg, "log.level=%s", lvl && *lvl ? lvl : "warn");
    char *argv[16 + BENCH_SERVER_ARGS_MAX + 1];
    int n = 0;
    const char *const base[] = {srv.bin,      "serve",
                                "--data-dir", srv.dir,
                                "--set",      "server.address=127.0.0.1",
                                "--set",      port_arg,
                                "--set",      tls ? "server.tls=true" : "server.tls=false",
                                "--set",      log_arg,
                                "--set",      level_arg,
                                "--set",      "outbox.sink=file"};
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        argv[n++] = (char *)base[i];
    for (int i = 0; extra != NULL && extra[i] != NULL; i++) {
        if (i == BENCH_SERVER_ARGS_MAX)
            die("more than %d server arguments", BENCH_SERVER_ARGS_MAX);
        argv[n++] = (char *)extra[i];
    }
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || nul < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || dup2(nul, 0) < 0)
            _exit(126);
        execv(srv.bin, argv);
        _exit(127);
    }
    srv.pid = pid;
    snprintf(srv.base_url, sizeof srv.base_url, "%s://127.0.0.1:%d", tls ? "https" : "http", port);
    snprintf(srv.ca_file, sizeof srv.ca_file, "%s/tls/cert.pem", srv.dir);
}

/* SIGTERM and wait; the exit code, or -1 when it had to be killed. */
static int server_stop(void)
{
    if (srv.pid <= 0)
        return -1;
    kill(srv.pid, SIGTERM);
    uint64_t until = fg_time_mono_ns() + (uint64_t)BENCH_SERVER_STOP_MS * 1000000ull;
    int st = 0;
    while (fg_time_mono_ns() < until) {
        pid_t r = waitpid(srv.pid, &st, WNOHANG);
        if (r == srv.pid) {
            srv.pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        usleep(20000);
    }
    server_kill();
    return -1;
}

/* nftw callback: remove one entry (use with FTW_DEPTH | FTW_PHYS). */
static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

#endif
