/*
 * server.h — the end-to-end harness: a real `finguard serve` on a free loopback port with
 * a fresh data directory, and configured clients for it.
 *
 *   struct fg_test_server s;
 *   const char *const args[] = {"--set", "diag.write_probe=true", NULL};
 *   fg_test_server_start(&s, args);        // fails the test if not healthy within 15 s
 *   struct fg_client *c;
 *   fg_test_server_client(&s, &c);
 *   ... requests ...
 *   assert_int_equal(fg_test_server_stop(&s), 0);  // SIGTERM; clean shutdown exits 0
 *   fg_test_server_done(&s);               // success: the data dir is removed
 *
 * The server runs as
 *   $FINGUARD_BIN serve --data-dir DIR --set server.address=127.0.0.1
 *       --set server.port=PORT --set log.file=DIR/finguard.log [extra args...]
 * with stdin from /dev/null and stdout/stderr appended to DIR/stdout.log. "Healthy" means
 * `GET /v1/health` answered 200 over TLS trusting DIR/tls/cert.pem (the certificate the
 * server creates on first start) — or over plain HTTP when the extra args turn TLS off
 * ("server.tls=false"). A server that exits before it is healthy fails the test at once,
 * with the tail of its output printed.
 *
 * Data dirs: kept when a test fails, removed when it succeeds. A test succeeds by
 * calling fg_test_server_done() at its end; a failing cmocka assertion jumps past it, and
 * the group teardown fg_test_server_teardown() (or, at the latest, process exit) SIGKILLs
 * whatever is still running and prints the kept directories. Independently, the child
 * asks the kernel for SIGKILL when its parent thread dies (PR_SET_PDEATHSIG), so a
 * crashed or killed test never leaves a server behind — which also means start/restart
 * must be called from the thread that lives for the whole test (the main thread).
 *
 * All functions fail the current cmocka test on harness errors (cannot fork, no
 * $FINGUARD_BIN, server never healthy); server *behaviour* is returned for the test to
 * judge (exit status, counts). Not thread-safe: one thread drives a server; any number of
 * threads may use clients made for it.
 */
#ifndef FG_TESTS_SERVER_H
#define FG_TESTS_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include "client/client.h"

#define FG_TEST_SERVER_ARGS_MAX 32
#define FG_TEST_SERVER_ARG_LEN 512
/* How long a start may take to answer health, and a stop to exit. */
#define FG_TEST_SERVER_START_MS 15000
#define FG_TEST_SERVER_STOP_MS 15000

struct fg_test_server {
    char dir[512];         /* the data directory */
    char ca_file[640];     /* DIR/tls/cert.pem */
    char log_file[640];    /* DIR/finguard.log */
    char stdout_file[640]; /* DIR/stdout.log */
    char base_url[80];     /* "https://127.0.0.1:PORT" */
    int port;
    int tls;         /* 0 when the extra args set server.tls=false */
    pid_t pid;       /* 0 when not running */
    int last_status; /* of the last stop/kill9 (see fg_test_server_stop) */
    char args[FG_TEST_SERVER_ARGS_MAX][FG_TEST_SERVER_ARG_LEN]; /* extra args, copied */
    int nargs;
};

/* Fresh data dir, free port, start, wait until healthy. extra_args: NULL-terminated
 * argv strings appended to the command line (copied), or NULL. */
void fg_test_server_start(struct fg_test_server *s, const char *const *extra_args);
/* Start again on the same data dir and port (stopping it first with SIGTERM if it is
 * still running); waits until healthy. */
void fg_test_server_restart(struct fg_test_server *s);
/* SIGTERM and wait (bounded by FG_TEST_SERVER_STOP_MS). Returns the exit code (0..255),
 * 128 + signal number if a signal ended it, or -1 if it did not exit in time (it is then
 * SIGKILLed). */
int fg_test_server_stop(struct fg_test_server *s);
/* SIGTERM without waiting; then fg_test_server_wait() collects the exit status. */
void fg_test_server_signal_term(struct fg_test_server *s);
int fg_test_server_wait(struct fg_test_server *s, int timeout_ms);
/* SIGKILL and reap. */
void fg_test_server_kill9(struct fg_test_server *s);
/* 1 if the process is still running (reaps it if it exited; last_status then set). */
int fg_test_server_running(struct fg_test_server *s);

/* A client for this server: HTTP/1.1, trusting DIR/tls/cert.pem, 30 s timeout. */
void fg_test_server_client(const struct fg_test_server *s, struct fg_client **out);
/* The same with HTTP/2 on or off and a timeout (0 = the default). */
void fg_test_server_client_opts(const struct fg_test_server *s, int http2, long timeout_ms,
                                struct fg_client **out);

/* Occurrences of needle (binary-safe) in every regular file under the data dir
 * (logs, database, outbox). For "no secret in logs" checks. */
long fg_test_server_grep(const struct fg_test_server *s, const void *needle, size_t len);
/* Print the last `bytes` of the server's output and log to stderr (diagnostics). */
void fg_test_server_dump_tail(const struct fg_test_server *s, size_t bytes);

/* The write-path probe (server started with --set diag.write_probe=true). These two are
 * safe on any thread (each with its own client): they use no cmocka assertions.
 * POST /v1/diag/write {"payload":payload}: returns the HTTP status (0 on a transport
 * failure, whose fg_rc is then in *rc_out if not NULL); on 201 the id is copied to id
 * and the echoed payload is checked to equal the one sent (a mismatch returns -1). */
long fg_test_probe_write(struct fg_client *c, const char *payload, char *id, size_t id_size,
                         fg_rc *rc_out);
/* GET /v1/diag/write/{id}: the HTTP status (0 on transport failure); on 200 the payload
 * is copied to payload_out (cut to its size) and the echoed id checked (-1 if wrong). */
long fg_test_probe_read(struct fg_client *c, const char *id, char *payload_out,
                        size_t payload_size);

/* Read back n acknowledged writes (ids[i] must hold payloads[i]) with `threads` parallel
 * clients; prints the first few that are missing or differ and returns how many. */
long fg_test_probe_verify(const struct fg_test_server *s, const char *const *ids,
                          const char *const *payloads, size_t n, int threads);

/* The test succeeded: stop the server if running and remove the data dir. */
void fg_test_server_done(struct fg_test_server *s);
/* cmocka group/test teardown: SIGKILL servers a failed test left running and print the
 * data dirs kept for inspection. Always returns 0. */
int fg_test_server_teardown(void **state);

#endif
