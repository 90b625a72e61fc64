/*
 * cmd_init.c — `finguard init`: initialise an instance offline. With the data-directory
 * lock held (no server may run on it), it opens the store (migrations run), opens the
 * lifecycle service sealed, and runs fg_sys_init: the keyring, the share verifiers and the
 * "sys.init" audit record (actor: the OS user) commit in one transaction. The shares are
 * then written to stdout from locked memory with write(2) and wiped; fg_sys_shutdown
 * appends "sys.seal" and a checkpoint so the new chain is anchored before the store closes.
 *
 * Development mode is refused: `serve` initialises a development instance by itself and
 * keeps its root key on disk, which is exactly what this command exists to avoid.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/lock.h"
#include "crypto/crypto.h"
#include "sys/sys.h"

#define CMD "init"
#define SHARES_DEFAULT 5u
#define THRESHOLD_DEFAULT 3u

static const char init_help[] =
    "usage: finguard init [--data-dir DIR] [--config FILE] [--set K=V]...\n"
    "                     [--shares N] [--threshold K] [--suite intl|gm]\n"
    "\n"
    "Initialise a new instance offline: create DIR and its database, generate the root key\n"
    "and the keyring, and split the root key into N unseal shares, any K of which unseal\n"
    "the instance. The shares are printed to stdout, one per line, ONCE — they are never\n"
    "stored anywhere. Give each one to a different custodian. The initialisation is\n"
    "audited (\"sys.init\") with the OS user running this command as the actor.\n"
    "\n"
    "  --data-dir DIR  data directory (overrides storage.data_dir)\n"
    "  --config FILE   INI configuration (see etc/finguard.ini)\n"
    "  --set K=V       override one setting, e.g. --set log.level=debug\n"
    "  --shares N      number of shares, 1..16 (default 5)\n"
    "  --threshold K   shares needed to unseal, 2..N; 1 only when N is 1 (default 3, or N\n"
    "                  when N < 3)\n"
    "  --suite S       intl (AES-256-GCM, SHA-256, Ed25519; default) or gm (SM4, SM3, SM2)\n"
    "\n"
    "Refused while a server uses DIR (initialise it with POST /v1/sys/init then), when DIR\n"
    "is initialised already, and in development mode (keys.dev_mode).\n"
    "Exit status: 0 initialised, 1 refused or failed, 2 usage error.\n";

struct init_args {
    struct fg_cli_opts common;
    unsigned shares;
    unsigned threshold; /* 0 = default */
    enum fg_suite suite;
};

static int parse(int argc, char **argv, struct init_args *a)
{
    *a = (struct init_args){.shares = SHARES_DEFAULT, .suite = FG_SUITE_INTL};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        int taken = fg_cli_common_option(CMD, argc, argv, &i, &a->common);
        if (taken < 0)
            return FG_CLI_EXIT_USAGE;
        if (taken)
            continue;
        if (strcmp(o, "--shares") != 0 && strcmp(o, "--threshold") != 0 &&
            strcmp(o, "--suite") != 0)
            return fg_cli_usage(CMD, "unknown option '%s'", o);
        if (i + 1 >= argc)
            return fg_cli_usage(CMD, "%s needs a value", o);
        const char *v = argv[++i];
        unsigned long n = 0;
        if (strcmp(o, "--suite") == 0) {
            if (fg_suite_parse(v, &a->suite) != FG_OK)
                return fg_cli_usage(CMD, "--suite must be intl or gm, not '%s'", v);
        } else if (fg_cli_parse_uint(v, 1, FG_KEYS_SHARES_MAX, &n) != FG_OK) {
            return fg_cli_usage(CMD, "%s must be a number from 1 to %u", o, FG_KEYS_SHARES_MAX);
        } else if (strcmp(o, "--shares") == 0) {
            a->shares = (unsigned)n;
        } else {
            a->threshold = (unsigned)n;
        }
    }
    if (a->threshold == 0)
        a->threshold = a->shares < THRESHOLD_DEFAULT ? a->shares : THRESHOLD_DEFAULT;
    if (a->threshold > a->shares || (a->threshold < 2 && a->shares > 1))
        return fg_cli_usage(CMD, "--threshold must be between 2 and --shares (1 only when "
                                 "--shares is 1)");
    return 0;
}

/* Header on stderr, shares on stdout. FG_ERR_IO if stdout could not take them. */
static fg_rc hand_out(const struct init_args *a, char (*share)[FG_KEYS_SHARE_TEXT_MAX])
{
    fprintf(stderr,
            "finguard init: the %u unseal shares follow on stdout, one per line (any %u of them\n"
            "unseal the instance; suite %s). They are shown ONCE and are not stored: give each\n"
            "share to a different custodian now.\n",
            a->shares, a->threshold, fg_suite_name(a->suite));
    fflush(stderr);
    fg_rc rc = FG_OK;
    for (unsigned i = 0; rc == FG_OK && i < a->shares; i++) {
        size_t n = strlen(share[i]);
        share[i][n] = '\n'; /* the NUL's place; the slot is wiped as a whole below */
        rc = fg_cli_write_stdout(share[i], n + 1);
    }
    return rc;
}

/* With the lock held and the store and the lifecycle service open. */
static int init_store(const struct init_args *a, const char *dir, struct fg_sys *sys)
{
    struct fg_keys_state st;
    fg_sys_state(sys, &st);
    if (st.initialized)
        return fg_cli_fail(CMD, "%s is initialised already", dir);
    char(*share)[FG_KEYS_SHARE_TEXT_MAX] =
        fg_secure_alloc(FG_KEYS_SHARES_MAX * FG_KEYS_SHARE_TEXT_MAX);
    if (share == NULL)
        return fg_cli_fail(CMD, "%s", fg_rc_str(FG_ERR_NOMEM));
    struct fg_cli_actor actor;
    fg_cli_actor_init(&actor);
    const char *problem = NULL;
    fg_rc rc = fg_sys_init(sys, a->suite, a->shares, a->threshold, &actor.who, share, &problem);
    int code = FG_CLI_EXIT_OK;
    if (rc) {
        code = fg_cli_fail(CMD, "initialisation failed: %s",
                           problem != NULL ? problem : fg_rc_str(rc));
    } else if (hand_out(a, share) != FG_OK) {
        code = fg_cli_fail(CMD, "writing the shares to stdout failed: %s is initialised but "
                                "nobody holds its shares; remove the directory and initialise "
                                "again",
                           dir);
    } else {
        fprintf(stderr, "finguard init: %s initialised (%u of %u shares unseal it)\n", dir,
                a->threshold, a->shares);
    }
    fg_secure_free(share); /* wipes */
    return code;
}

static int run(const struct init_args *a, const struct fg_config *cfg)
{
    const char *dir = cfg->storage_data_dir;
    if (cfg->keys_dev_mode)
        return fg_cli_fail(CMD, "keys.dev_mode is on: a development instance initialises "
                                "itself at 'finguard serve'");
    int lock_fd = -1;
    if (fg_cli_lock(CMD, dir, "use POST /v1/sys/init", &lock_fd) != FG_OK)
        return FG_CLI_EXIT_FAIL;
    fg_store *store = NULL;
    int code = FG_CLI_EXIT_FAIL;
    if (fg_cli_store_open(CMD, dir, 0, 0, &store) == FG_OK) {
        struct fg_sys *sys = NULL;
        struct fg_sys_options yopt = {.store = store, .data_dir = dir};
        fg_rc rc = fg_sys_open(&yopt, &sys);
        if (rc)
            fg_cli_fail(CMD, "cannot load the key state: %s", fg_rc_str(rc));
        else
            code = init_store(a, dir, sys);
        fg_sys_shutdown(sys); /* "sys.seal" + checkpoint: the new chain is anchored */
        fg_store_close(store);
        fg_sys_close(sys);
    }
    fg_cli_unlock(lock_fd);
    return code;
}

int fg_cli_cmd_init(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (fg_cli_is_help(argv[i])) {
            fputs(init_help, stdout);
            return FG_CLI_EXIT_OK;
        }
    struct init_args a;
    int code = parse(argc, argv, &a);
    if (code)
        return code;
    struct fg_config cfg;
    code = fg_cli_setup(CMD, &a.common, &cfg);
    if (code)
        return code;
    signal(SIGPIPE, SIG_IGN); /* a closed stdout is reported, not a silent death */
    code = run(&a, &cfg);
    fg_cli_teardown();
    return code;
}
