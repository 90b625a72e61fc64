/*
 * common.h — what the offline and online sub-commands (init, unseal, audit verify, keys)
 * share: their options, configuration and logging, the data-directory paths, the audited
 * actor, and reading secrets (unseal shares) from stdin.
 *
 * Exit codes (every command): 0 success, 1 operational failure or refusal (the reason is
 * one line on stderr), 2 usage error (one line on stderr naming the command's --help).
 *
 * Options every data-directory command takes:
 *   --config FILE    INI configuration (as `finguard serve`)
 *   --data-dir DIR   overrides storage.data_dir
 *   --set K=V        one setting, repeatable
 * fg_cli_common_option() consumes them while a command walks its argv; fg_cli_setup() then
 * loads the configuration the way `serve` does (defaults → file → FINGUARD_* → --set →
 * validation) and starts logging: to log.file if set, else to stderr at log.level but never
 * below "warn", so a command's own output stays readable.
 *
 * Secrets. Shares are read from stdin, never from argv (visible to every user in ps):
 * fg_cli_shares_* reads with read(2) straight into locked memory (no stdio buffer keeps a
 * copy), hands out one trimmed, non-blank line at a time, and wipes everything on close.
 * When stdin is a terminal, each line is prompted for on stderr with echo off.
 *
 * Ownership: nothing here keeps global state except the terminal mode, restored by
 * fg_cli_shares_close(). Not thread-safe (a command is one thread of control).
 */
#ifndef FG_CLI_COMMON_H
#define FG_CLI_COMMON_H

#include <stddef.h>

#include "audit/audit.h"
#include "base/config.h"
#include "base/limits.h"
#include "base/rc.h"
#include "keys/keys.h"
#include "store/store.h"

#define FG_CLI_EXIT_OK 0
#define FG_CLI_EXIT_FAIL 1
#define FG_CLI_EXIT_USAGE 2

/* --set options of one command line: far more than anyone types. */
#define FG_CLI_SETS_MAX 64

/* Print "finguard CMD: MESSAGE (see 'finguard CMD --help')" to stderr; returns
 * FG_CLI_EXIT_USAGE. */
__attribute__((format(printf, 2, 3))) int fg_cli_usage(const char *cmd, const char *fmt, ...);
/* Print "finguard CMD: MESSAGE" to stderr; returns FG_CLI_EXIT_FAIL. */
__attribute__((format(printf, 2, 3))) int fg_cli_fail(const char *cmd, const char *fmt, ...);

struct fg_cli_opts {
    const char *config_file;           /* --config, or NULL */
    const char *data_dir;              /* --data-dir, or NULL (storage.data_dir) */
    const char *sets[FG_CLI_SETS_MAX]; /* --set values, in order */
    int nsets;
};

/* If argv[*i] is --config, --data-dir or --set: take it and its value (advancing *i) and
 * return 1. Return 0 if it is none of them, or -1 after printing a usage error (missing
 * value, too many --set). */
int fg_cli_common_option(const char *cmd, int argc, char **argv, int *i, struct fg_cli_opts *o);

/* 1 if a is "--help" or "-h". */
int fg_cli_is_help(const char *a);

/* Parse a decimal unsigned integer in [min, max] (whole string, no sign, no blanks). */
FG_MUST_CHECK fg_rc fg_cli_parse_uint(const char *s, unsigned long min, unsigned long max,
                                      unsigned long *out);

/* Load and validate the configuration (o->data_dir overrides storage.data_dir) and set up
 * logging. Returns 0, or FG_CLI_EXIT_FAIL after printing every error. Call
 * fg_cli_teardown() before returning from the command once this succeeded. */
int fg_cli_setup(const char *cmd, const struct fg_cli_opts *o, struct fg_config *cfg);
void fg_cli_teardown(void);

/* DATA_DIR/<name> into out[FG_PATH_MAX]; FG_ERR_LIMIT if it does not fit. */
FG_MUST_CHECK fg_rc fg_cli_path(const char *data_dir, const char *name, char *out);
#define FG_CLI_DB_FILE "finguard.db"
#define FG_CLI_ANCHOR_FILE "audit-anchor.jsonl"

/* Open DATA_DIR/finguard.db. readonly: no writer, no migrations, never creates the file.
 * must_exist: print "no finguard database in DIR" and fail (FG_ERR_NOT_FOUND) rather than
 * create one. Prints the reason on failure. */
FG_MUST_CHECK fg_rc fg_cli_store_open(const char *cmd, const char *data_dir, int readonly,
                                      int must_exist, fg_store **out);

/* Take the data-directory lock (cli/lock.h), creating DATA_DIR (0700) if missing. When a
 * server (or another command) holds it, prints "a finguard server is using DIR; HINT" and
 * returns FG_ERR_BUSY. */
FG_MUST_CHECK fg_rc fg_cli_lock(const char *cmd, const char *data_dir, const char *hint,
                                int *fd_out);

/* Who a command acts as, for audit records: the OS user (getpwuid of the effective uid, or
 * "uid-N"), role "operator", request id "cli-<pid>-<unix ms>". who points into the struct. */
struct fg_cli_actor {
    char user[FG_AUDIT_ACTOR_ID_MAX + 1];
    char request_id[FG_AUDIT_REQUEST_ID_MAX + 1];
    struct fg_audit_actor who;
};
void fg_cli_actor_init(struct fg_cli_actor *a);

/* Write p[0..n) to stdout with write(2) after flushing stdio, so a secret printed once (the
 * shares of init) never sits in stdio's buffer. FG_ERR_IO if it could not all be written. */
FG_MUST_CHECK fg_rc fg_cli_write_stdout(const void *p, size_t n);

/* ---- shares from stdin ------------------------------------------------------------------- */

struct fg_cli_shares;
/* Locked buffers; if stdin is a terminal, echo goes off until close. */
FG_MUST_CHECK fg_rc fg_cli_shares_open(struct fg_cli_shares **out);
/* The next non-blank line with surrounding whitespace removed, NUL-terminated, in locked
 * memory valid until the next call or close; *line_no is its 1-based line number.
 * FG_ERR_NOT_FOUND at end of input; FG_ERR_TOO_LARGE for a line over
 * FG_KEYS_SHARE_INPUT_MAX bytes (not a share; wiped); FG_ERR_IO on a read error. `prompt`
 * (may be NULL) is shown on stderr first when stdin is a terminal. */
FG_MUST_CHECK fg_rc fg_cli_shares_next(struct fg_cli_shares *r, const char *prompt,
                                       const char **line, unsigned *line_no);
/* Wipe and free; restore the terminal. NULL is a no-op. */
void fg_cli_shares_close(struct fg_cli_shares *r);

/* Unsealing from stdin: feed lines to `submit` until it reports unsealed, and keep the
 * first `keep_count` lines (copies in the caller's locked slots) — the custodians'
 * confirmation a key destroy needs. Reading stops as soon as both are done, so input after
 * that is left alone. */
struct fg_cli_unseal {
    fg_rc (*submit)(void *ctx, const char *share, struct fg_keys_state *st, const char **problem);
    void *ctx;
    int sealed;                           /* in: 1 to unseal; out: 0 once unsealed */
    unsigned threshold;                   /* k, for messages */
    char (*keep)[FG_KEYS_SHARE_TEXT_MAX]; /* keep_count locked slots, or NULL */
    unsigned keep_count;
    unsigned kept; /* out */
};
/* 0 when done; otherwise prints why (end of input, a refused share and the keys module's
 * sentence — never the share) and returns FG_CLI_EXIT_FAIL. */
int fg_cli_unseal_stdin(const char *cmd, struct fg_cli_shares *r, struct fg_cli_unseal *u);

/* Register every column that holds fg_protect ciphertexts (outbox, iam, ledger, customers),
 * idempotently. Whatever counts key usage or rewraps (serve, keys destroy/rotate) must call it
 * first: a column missing from the registry would let a destroy shred a key still in use. */
FG_MUST_CHECK fg_rc fg_cli_register_columns(void);

/* Every permission data/fields.yaml names (who sees a wider mask, who may reveal) exists in
 * data/roles.yaml: the two files are loaded apart (protect/ knows no roles), so serve checks
 * them together at start-up. FG_ERR_CONFIG with *field the first field naming an unknown
 * permission. */
struct fg_fields;
struct fg_roles;
FG_MUST_CHECK fg_rc fg_cli_fields_check_roles(const struct fg_fields *fields,
                                              const struct fg_roles *roles, const char **field);

#endif
