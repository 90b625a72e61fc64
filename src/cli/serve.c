/*
 * serve.c — `finguard serve`: load and validate configuration, open the data directory
 * and the store (migrations run here), start the HTTP server, and wait for SIGTERM or
 * SIGINT. Shutdown order matters: the server first (stop accepting, finish in-flight
 * requests, which may be waiting on the writer), then the audit log's last record and
 * checkpoint, then the store (drain the writer, close the database), then the keys (wiped),
 * so every acknowledged write is durable, audited and anchored, and none is cut off.
 *
 * Signals are blocked in every thread (the mask is set before any thread starts) and
 * taken synchronously with sigwait() in the main thread: no async-signal-safety traps.
 */
#include "cli/common.h"
#include "cli/serve.h"

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/limits.h"
#include "base/log.h"
#include "cli/lock.h"
#include "http/server.h"
#include "ledger/limits.h"
#include "iam/iam.h"
#include "incident/incident.h"
#include "monitor/monitor.h"
#include "ledger/customer.h"
#include "notify/outbox.h"
#include "store/store.h"
#include "sys/sys.h"

#define EXIT_USAGE 2
#define SETS_MAX 64

static const char serve_help[] =
    "usage: finguard serve [--config FILE] [--data-dir DIR] [--set section.name=value]...\n"
    "\n"
    "Run the HTTP API server until SIGTERM or SIGINT (graceful: in-flight requests finish,\n"
    "the writer drains, the database closes).\n"
    "\n"
    "  --config FILE   INI configuration (see etc/finguard.ini); defaults otherwise\n"
    "  --data-dir DIR  data directory (database, TLS certificate, outbox); overrides\n"
    "                  storage.data_dir\n"
    "  --set K=V       override one setting, e.g. --set server.port=9443\n"
    "\n"
    "Environment variables FINGUARD_<SECTION>_<NAME> override the file; --set overrides both.\n";

/* Split "section.name=value" and apply it: -1 malformed, 1 rejected, 0 applied. */
static int apply_set(struct fg_config *cfg, const char *arg, struct fg_buf *errors)
{
    char key[128];
    const char *eq = strchr(arg, '=');
    const char *dot = strchr(arg, '.');
    if (eq == NULL || dot == NULL || dot > eq || (size_t)(eq - arg) >= sizeof key)
        return -1;
    memcpy(key, arg, (size_t)(eq - arg));
    key[eq - arg] = '\0';
    key[dot - arg] = '\0';
    if (fg_config_set(cfg, key, key + (dot - arg) + 1, eq + 1, "--set", errors) != FG_OK)
        return 1;
    return 0;
}

int fg_cli_load_config(struct fg_config *cfg, const char *file, const char *const *sets, int nsets,
                       struct fg_buf *errors)
{
    fg_config_defaults(cfg);
    int bad = 0;
    if (file != NULL && fg_config_load_file(cfg, file, errors) != FG_OK)
        bad = 1;
    if (fg_config_apply_env(cfg, NULL, errors) != FG_OK)
        bad = 1;
    for (int i = 0; i < nsets; i++) {
        int r = apply_set(cfg, sets[i], errors);
        if (r < 0) {
            if (fg_buf_appendf(errors, "--set %s: expected section.name=value\n", sets[i]))
                return 1;
            bad = 1;
        } else if (r > 0) {
            bad = 1;
        }
    }
    if (!bad && fg_config_validate(cfg, errors) != FG_OK)
        bad = 1;
    return bad;
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("finguard serve: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see 'finguard serve --help')\n", stderr);
    return EXIT_USAGE;
}

static int setup_logging(const struct fg_config *cfg)
{
    enum fg_log_level level;
    if (fg_log_level_parse(cfg->log_level, &level) == FG_OK)
        fg_log_set_level(level);
    if (cfg->log_file[0] != '\0' && fg_log_open_file(cfg->log_file) != FG_OK) {
        fprintf(stderr, "finguard serve: cannot open log file %s\n", cfg->log_file);
        return 1;
    }
    return 0;
}

static int run_locked(struct fg_config *cfg, const char *dir);

static int run(struct fg_config *cfg)
{
    const char *dir = cfg->storage_data_dir;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fg_log(FG_LOG_ERROR, "serve.data_dir", FG_LF_STR("dir", dir),
               FG_LF_STR("error", strerror(errno)));
        return 1;
    }
    int lock_fd = -1;
    fg_rc lrc = fg_cli_lock_data_dir(dir, &lock_fd);
    if (lrc) {
        fg_log(FG_LOG_ERROR, "serve.data_dir_locked", FG_LF_STR("dir", dir),
               FG_LF_STR("reason", lrc == FG_ERR_BUSY ? "another finguard process is using it"
                                                      : "cannot create the lock file"));
        return 1;
    }
    int code = run_locked(cfg, dir);
    fg_cli_unlock(lock_fd);
    return code;
}

/* The watch (issue #6): the incident deadline clock and the monitor, wired to the app and
 * woken by every commit. On failure everything it made is undone and logged. */
static int watch_start(const struct fg_config *cfg, struct fg_sys *sys, struct fg_app *app)
{
    struct fg_buf errors = FG_BUF_INIT(64u * 1024u);
    struct fg_incidents *inc = NULL;
    struct fg_monitor *mon = NULL;
    const struct fg_incidents_options io = {.cfg = cfg, .store = app->store};
    fg_rc rc = fg_incidents_new(&io, &inc, &errors);
    if (rc == FG_OK) {
        const struct fg_monitor_options mo = {.cfg = cfg,
                                              .store = app->store,
                                              .iam = app->iam,
                                              .incidents = inc,
                                              .limits = app->limits};
        rc = fg_monitor_new(&mo, &mon, &errors);
    }
    if (rc == FG_OK) {
        fg_sys_set_commit_listener(sys, fg_monitor_commit_listener, mon);
        rc = fg_monitor_start(mon);
    }
    if (rc == FG_OK)
        rc = fg_incidents_start(inc);
    if (rc) {
        /* every rule or policy error, one per line, so an operator can fix them all at once */
        fputs(fg_buf_str(&errors), stderr);
        fg_log(FG_LOG_ERROR, "serve.monitor_failed", FG_LF_STR("rc", fg_rc_name(rc)));
        fg_monitor_stop(mon);
        fg_sys_set_commit_listener(sys, NULL, NULL);
        fg_monitor_free(mon);
        fg_incidents_stop(inc);
        fg_incidents_free(inc);
        fg_buf_release(&errors);
        return 1;
    }
    fg_buf_release(&errors);
    app->monitor = mon;
    app->incidents = inc;
    return 0;
}

/* Stop the threads (before the store drains); watch_free after the store is closed. */
static void watch_stop(struct fg_sys *sys, struct fg_app *app)
{
    fg_incidents_stop(app->incidents);
    fg_monitor_stop(app->monitor);
    fg_sys_set_commit_listener(sys, NULL, NULL);
}

static void watch_free(struct fg_app *app)
{
    fg_monitor_free(app->monitor);
    fg_incidents_free(app->incidents);
    app->monitor = NULL;
    app->incidents = NULL;
}

static int run_locked(struct fg_config *cfg, const char *dir)
{
    char db_path[FG_PATH_MAX];
    if (snprintf(db_path, sizeof db_path, "%s/finguard.db", dir) >= (int)sizeof db_path)
        return 1;

    /* Block the stop signals before any thread exists so only sigwait() sees them. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct fg_store_options sopt = {.path = db_path,
                                    .batch_max = (unsigned)cfg->storage_batch_max,
                                    .read_pool_max = (unsigned)cfg->storage_read_pool};
    fg_store *store = NULL;
    fg_rc rc = fg_store_open(&sopt, &store);
    if (rc) {
        fg_log(FG_LOG_ERROR, "serve.store_open", FG_LF_STR("path", db_path),
               FG_LF_STR("rc", fg_rc_name(rc)));
        return 1;
    }
    struct fg_sys *sys = NULL;
    struct fg_sys_options yopt = {.store = store, .data_dir = dir, .dev_mode = cfg->keys_dev_mode};
    rc = fg_sys_open(&yopt, &sys);
    if (rc) {
        fg_log(FG_LOG_ERROR, "serve.keys_failed", FG_LF_STR("rc", fg_rc_name(rc)));
        fg_store_close(store);
        return 1;
    }
    struct fg_keys_state ks;
    fg_sys_state(sys, &ks);
    fg_log(FG_LOG_INFO, "serve.keys", FG_LF_BOOL("initialized", ks.initialized),
           FG_LF_BOOL("sealed", ks.sealed), FG_LF_INT("threshold", ks.threshold));
    struct fg_iam *iam = NULL;
    struct fg_buf iam_errors = FG_BUF_INIT(16u * 1024u);
    rc = fg_iam_new(cfg, store, fg_sys_keys(sys), &iam, &iam_errors);
    if (rc) {
        fg_log(FG_LOG_ERROR, "serve.iam_failed", FG_LF_STR("rc", fg_rc_name(rc)),
               FG_LF_STR("errors", fg_buf_str(&iam_errors)));
        fg_buf_release(&iam_errors);
        fg_store_close(store);
        fg_sys_close(sys);
        return 1;
    }
    fg_buf_release(&iam_errors);
    struct fg_outbox *outbox = NULL;
    struct fg_outbox_options oopt = {.data_dir = dir, .keys = fg_sys_keys(sys)};
    rc = fg_outbox_sink_parse(cfg->outbox_sink, &oopt.sink);
    if (rc == FG_OK)
        rc = fg_cli_register_columns(); /* outbox, iam, ledger memos, customers and cards */
    if (rc == FG_OK)
        rc = fg_outbox_new(&oopt, &outbox);
    if (rc) {
        fg_log(FG_LOG_ERROR, "serve.outbox_failed", FG_LF_STR("rc", fg_rc_name(rc)));
        fg_iam_free(iam);
        fg_store_close(store);
        fg_sys_close(sys);
        return 1;
    }
    fg_sys_set_outbox(sys, outbox);
    struct fg_app app = {.cfg = cfg, .store = store, .sys = sys, .iam = iam, .outbox = outbox};
    /* tiers and limits (data/limits.yaml, embedded): a broken file is a bug, not a setting */
    struct fg_limits *limits = NULL;
    if (fg_limits_load_default(&limits) != FG_OK) {
        fg_log(FG_LOG_ERROR, "serve.limits_failed");
        fg_sys_shutdown(sys);
        fg_store_close(store);
        fg_outbox_free(outbox);
        fg_iam_free(iam);
        fg_sys_close(sys);
        return 1;
    }
    app.limits = limits;
    /* field classification (data/fields.yaml, embedded); customers need theirs as coded */
    struct fg_fields *fields = NULL;
    const char *unknown_perm_field = NULL;
    if (fg_fields_load_default(&fields) != FG_OK || fg_customer_fields_check(fields, NULL) ||
        fg_cli_fields_check_roles(fields, iam->roles, &unknown_perm_field)) {
        fg_log(FG_LOG_ERROR, "serve.fields_failed",
               FG_LF_STR("unknown_permission_in", unknown_perm_field ? unknown_perm_field : ""));
        fg_fields_free(fields);
        fg_limits_free(limits);
        fg_sys_shutdown(sys);
        fg_store_close(store);
        fg_outbox_free(outbox);
        fg_iam_free(iam);
        fg_sys_close(sys);
        return 1;
    }
    app.fields = fields;
    fg_cli_config_event_start(cfg, sys, store); /* config.changed, now or at the first unseal */
    if (watch_start(cfg, sys, &app) != 0) {
        fg_fields_free(fields);
        fg_limits_free(limits);
        fg_sys_shutdown(sys);
        fg_store_close(store);
        fg_outbox_free(outbox);
        fg_iam_free(iam);
        fg_sys_close(sys);
        return 1;
    }
    struct fg_server_options opt = {.cfg = cfg, .app = &app, .data_dir = dir};
    struct fg_server *srv = NULL;
    rc = fg_server_new(&opt, &srv);
    if (rc == FG_OK)
        rc = fg_server_start(srv);
    if (rc) {
        fg_log(FG_LOG_ERROR, "serve.start_failed", FG_LF_STR("rc", fg_rc_name(rc)));
        fg_server_free(srv);
        watch_stop(sys, &app);
        fg_sys_shutdown(sys);
        fg_store_close(store);
        watch_free(&app);
        fg_outbox_free(outbox);
        fg_iam_free(iam);
        fg_limits_free(limits);
        fg_fields_free(fields);
        fg_sys_close(sys);
        return 1;
    }
    fg_log(FG_LOG_INFO, "serve.ready", FG_LF_STR("version", FG_VERSION), FG_LF_STR("data_dir", dir),
           FG_LF_INT("port", fg_server_port(srv)));

    int sig = 0;
    sigwait(&stop_signals, &sig);
    fg_log(FG_LOG_INFO, "serve.signal", FG_LF_STR("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
    fg_server_stop(srv);
    fg_server_wait(srv);
    fg_server_free(srv);
    watch_stop(sys, &app); /* the monitor finishes what is committed, then stops */
    fg_sys_shutdown(sys);  /* "sys.seal" record + final checkpoint, before the writer drains */
    fg_store_close(store);
    watch_free(&app);       /* after the store: no commit listener runs any more */
    fg_outbox_free(outbox); /* after the store: no hook runs any more */
    fg_iam_free(iam);       /* sessions and their keys wiped */
    fg_limits_free(limits);
    fg_fields_free(fields);
    fg_sys_close(sys); /* wipes the root key and the keyring */
    fg_log(FG_LOG_INFO, "serve.stopped");
    return 0;
}

/* glibc's allocator, tuned for a server that hashes passwords (measured: docs/BENCHMARKS.md,
 * issue #6). Argon2id (libsodium) maps and unmaps its memory (19 MiB at the default cost) for
 * every hash and faults each page in, all under the process's mmap lock; a thread whose
 * malloc grows or trims its arena (mprotect, madvise, munmap) then waits for that lock for
 * milliseconds — perf sched showed the monitor blocked 4–14 ms at a time that way. Slack per
 * arena (grow 16 MiB at a time, give back only past 64 MiB free) takes the other threads off
 * that lock: with the niced hashing pool (base/pool.h), event-commit-to-alert p99 went from
 * 20 to 5 ms. Requests from 1 MiB up still get their own mapping (fresh zero pages cost no
 * memory until touched; a 32 MiB threshold cost 17 MiB of RSS at start). Peak RSS in a 10 s
 * 1 000-client login flood: 68 → 73 MiB (goal 102). */
#define SERVE_MALLOC_TRIM_THRESHOLD (64 << 20)
#define SERVE_MALLOC_TOP_PAD (16 << 20)
#define SERVE_MALLOC_MMAP_THRESHOLD (1 << 20)

static void tune_malloc(void)
{
    (void)mallopt(M_TRIM_THRESHOLD, SERVE_MALLOC_TRIM_THRESHOLD);
    (void)mallopt(M_TOP_PAD, SERVE_MALLOC_TOP_PAD);
    (void)mallopt(M_MMAP_THRESHOLD, SERVE_MALLOC_MMAP_THRESHOLD);
}

int fg_cli_serve(int argc, char **argv)
{
    tune_malloc();
    const char *file = NULL, *data_dir = NULL;
    const char *sets[SETS_MAX] = {0};
    int nsets = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(serve_help, stdout);
            return 0;
        } else if (strcmp(a, "--config") == 0 || strcmp(a, "--data-dir") == 0 ||
                   strcmp(a, "--set") == 0) {
            if (i + 1 >= argc)
                return usage_error("%s needs a value", a);
            const char *v = argv[++i];
            if (strcmp(a, "--config") == 0)
                file = v;
            else if (strcmp(a, "--data-dir") == 0)
                data_dir = v;
            else if (nsets == SETS_MAX)
                return usage_error("too many %s options", a);
            else
                sets[nsets++] = v;
        } else {
            return usage_error("unknown option '%s'", a);
        }
    }
    struct fg_config cfg;
    struct fg_buf errors = FG_BUF_INIT(64u * 1024u);
    int bad = fg_cli_load_config(&cfg, file, sets, nsets, &errors);
    if (!bad && data_dir != NULL &&
        fg_config_set(&cfg, "storage", "data_dir", data_dir, "--data-dir", &errors) != FG_OK)
        bad = 1;
    if (bad) {
        fputs(fg_buf_str(&errors), stderr);
        fputs("finguard serve: configuration is invalid\n", stderr);
        fg_buf_release(&errors);
        return 1;
    }
    fg_buf_release(&errors);
    if (setup_logging(&cfg))
        return 1;
    if (cfg.diag_write_probe)
        fg_log(FG_LOG_WARN, "serve.diag_probe",
               FG_LF_STR("note", "diag.write_probe is on: /v1/diag/write is reachable"));
    int code = run(&cfg);
    fg_log_close();
    return code;
}
