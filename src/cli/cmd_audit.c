/*
 * cmd_audit.c — `finguard audit verify`: verify the audit chain of a data directory,
 * offline or beside a running server (it takes no lock and opens the database read-only,
 * so a live database is seen as one snapshot).
 *
 * The chain's MAC keys exist only unsealed, so the command unseals a private, read-only
 * keyring of its own: from shares on stdin (fg_keys_unseal_submit), or in development mode
 * from DATA_DIR/dev-root.key. It then borrows the audit MAC keys and the signing PUBLIC
 * keys (fg_sys_keyset_load without the private key: verifying never needs the power to
 * sign), wipes the keyring, and runs fg_audit_verify_file over the database and the anchor
 * file. Nothing is written: the unseal is not audited, because an auditor's read must not
 * change what it reads.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "keys/keys.h"
#include "sys/sys.h"

#define CMD "audit verify"

static const char audit_help[] =
    "usage: finguard audit verify [--data-dir DIR] [--config FILE] [--set K=V]...\n"
    "                             [--dev] [--json]\n"
    "\n"
    "Verify the tamper-evident audit log of DIR: recompute the MAC chain over every record,\n"
    "check every signed checkpoint in the database and in DIR/audit-anchor.jsonl, and\n"
    "report the first record at which anything is wrong. Works on a stopped instance and\n"
    "beside a running server (read-only; no lock).\n"
    "\n"
    "The chain's keys are unsealed for this command alone: K unseal shares are read from\n"
    "stdin, one per line (blank lines ignored; hidden on a terminal). In development mode\n"
    "(--dev, or keys.dev_mode=true in the configuration) DIR/dev-root.key is used instead.\n"
    "Only the MAC keys and the signing public keys are used; the signing private key is not.\n"
    "\n"
    "  --data-dir DIR  data directory (overrides storage.data_dir)\n"
    "  --config FILE   INI configuration\n"
    "  --set K=V       override one setting\n"
    "  --dev           unseal from DIR/dev-root.key (development instances only)\n"
    "  --json          print the result as one JSON object (as POST /v1/audit/verify):\n"
    "                  {\"ok\",\"records\",\"first_bad_seq\",\"problem\",\"checkpoints\",\n"
    "                   \"anchor_lines\",\"start_seq\",\"last_seq\"}\n"
    "\n"
    "Exit status: 0 intact, 1 not intact or verification could not run, 2 usage error.\n";

struct audit_args {
    struct fg_cli_opts common;
    int dev;
    int json;
};

static int parse(int argc, char **argv, struct audit_args *a)
{
    if (argc < 2)
        return fg_cli_usage("audit", "missing subcommand (verify)");
    if (strcmp(argv[1], "verify") != 0)
        return fg_cli_usage("audit", "unknown subcommand '%s'", argv[1]);
    for (int i = 2; i < argc; i++) {
        int taken = fg_cli_common_option(CMD, argc, argv, &i, &a->common);
        if (taken < 0)
            return FG_CLI_EXIT_USAGE;
        if (taken)
            continue;
        if (strcmp(argv[i], "--dev") == 0)
            a->dev = 1;
        else if (strcmp(argv[i], "--json") == 0)
            a->json = 1;
        else
            return fg_cli_usage(CMD, "unknown option '%s'", argv[i]);
    }
    return 0;
}

static fg_rc submit_share(void *ctx, const char *share, struct fg_keys_state *st,
                          const char **problem)
{
    return fg_keys_unseal_submit(ctx, share, st, problem);
}

/* Unseal k (shares or dev key). 0, or an exit code after printing why. */
static int unseal(fg_keys *k, const char *dir, int dev)
{
    struct fg_keys_state st;
    fg_keys_state(k, &st);
    if (!st.initialized)
        return fg_cli_fail(CMD, "%s is not initialised: there is no audit log to verify", dir);
    if (dev) {
        const char *problem = NULL;
        fg_rc rc = fg_keys_dev_unseal(k, dir, &problem);
        if (rc == FG_ERR_NOT_FOUND)
            return fg_cli_fail(CMD, "no %s/%s: not a development-mode instance (give the "
                                    "unseal shares on stdin instead)",
                               dir, FG_KEYS_DEV_FILE);
        if (rc)
            return fg_cli_fail(CMD, "cannot unseal from %s/%s: %s", dir, FG_KEYS_DEV_FILE,
                               problem != NULL ? problem : fg_rc_str(rc));
        return 0;
    }
    struct fg_cli_shares *r = NULL;
    if (fg_cli_shares_open(&r) != FG_OK)
        return fg_cli_fail(CMD, "cannot allocate locked memory for the shares");
    struct fg_cli_unseal u = {
        .submit = submit_share, .ctx = k, .sealed = 1, .threshold = st.threshold};
    int code = fg_cli_unseal_stdin(CMD, r, &u);
    fg_cli_shares_close(r);
    return code;
}

/* The audit keys (no private key) of the instance in dir, or an exit code. */
static int load_keys(const struct audit_args *a, const struct fg_config *cfg,
                     struct fg_sys_keyset **ks)
{
    const char *dir = cfg->storage_data_dir;
    fg_store *store = NULL;
    if (fg_cli_store_open(CMD, dir, 1, 1, &store) != FG_OK)
        return FG_CLI_EXIT_FAIL;
    fg_keys *k = NULL;
    fg_rc rc = fg_keys_new(store, &k);
    int code = rc ? fg_cli_fail(CMD, "cannot read the key state: %s", fg_rc_str(rc))
                  : unseal(k, dir, a->dev || cfg->keys_dev_mode);
    if (code == 0) {
        rc = fg_sys_keyset_load(k, 0, ks);
        if (rc)
            code = fg_cli_fail(CMD, "cannot load the audit keys: %s", fg_rc_str(rc));
    }
    fg_keys_free(k); /* seals: the root and the keyring are wiped */
    fg_store_close(store);
    return code;
}

static const char *problem_sentence(enum fg_audit_problem p)
{
    switch (p) {
    case FG_AUDIT_INTACT:
        return "intact";
    case FG_AUDIT_GAP:
        return "the record is missing (deleted)";
    case FG_AUDIT_UNEXPECTED:
        return "a record exists before the chain's start";
    case FG_AUDIT_MALFORMED:
        return "a record field has a wrong type, length or value";
    case FG_AUDIT_BAD_MAC:
        return "the record's MAC does not continue the chain: modified, inserted, swapped or "
               "forged";
    case FG_AUDIT_UNKNOWN_KEY:
        return "the record names a MAC key version this instance does not have";
    case FG_AUDIT_CHECKPOINT_MALFORMED:
        return "a checkpoint row cannot be read";
    case FG_AUDIT_CHECKPOINT_SIGNATURE:
        return "a checkpoint's signature does not verify";
    case FG_AUDIT_CHECKPOINT_MISMATCH:
        return "a validly signed checkpoint disagrees with the chain";
    case FG_AUDIT_TRUNCATED:
        return "records a signed checkpoint covers are missing at the tail";
    case FG_AUDIT_ANCHOR_MALFORMED:
        return "a line of the anchor file cannot be read";
    }
    return "unknown problem";
}

static void print_json(const struct fg_audit_report *rep, int ok)
{
    json_t *o = json_pack("{s:b, s:I, s:o, s:s, s:I, s:I, s:I, s:I}", "ok", ok, "records",
                          (json_int_t)rep->records, "first_bad_seq",
                          rep->first_bad_seq > 0 ? json_integer(rep->first_bad_seq) : json_null(),
                          "problem", fg_audit_problem_name(rep->problem), "checkpoints",
                          (json_int_t)rep->checkpoints, "anchor_lines",
                          (json_int_t)rep->anchor_lines, "start_seq", (json_int_t)rep->start_seq,
                          "last_seq", (json_int_t)rep->last_seq);
    if (o != NULL && rep->anchor_line_bad > 0)
        json_object_set_new(o, "anchor_line_bad", json_integer(rep->anchor_line_bad));
    if (o == NULL || json_dumpf(o, stdout, JSON_COMPACT) != 0)
        fputs("{\"ok\":false}", stdout); /* out of memory: never claim success */
    fputc('\n', stdout);
    json_decref(o);
}

static void print_text(const struct fg_audit_report *rep, int ok)
{
    if (ok) {
        printf("audit log intact: %llu records (seq %lld..%lld), %llu checkpoints and %llu anchor "
               "lines verified\n",
               (unsigned long long)rep->records, (long long)rep->start_seq,
               (long long)rep->last_seq, (unsigned long long)rep->checkpoints,
               (unsigned long long)rep->anchor_lines);
    } else if (rep->problem == FG_AUDIT_ANCHOR_MALFORMED) {
        printf("audit log NOT intact: anchor_malformed at line %lld of the anchor file: %s\n",
               (long long)rep->anchor_line_bad, problem_sentence(rep->problem));
    } else {
        printf("audit log NOT intact: %s at seq %lld: %s\n", fg_audit_problem_name(rep->problem),
               (long long)rep->first_bad_seq, problem_sentence(rep->problem));
    }
    if (rep->anchor_partial)
        printf("note: the anchor file's last line was incomplete and was ignored\n");
}

static int run(const struct audit_args *a, const struct fg_config *cfg)
{
    const char *dir = cfg->storage_data_dir;
    char db[FG_PATH_MAX], anchor[FG_PATH_MAX];
    if (fg_cli_path(dir, FG_CLI_DB_FILE, db) != FG_OK ||
        fg_cli_path(dir, FG_CLI_ANCHOR_FILE, anchor) != FG_OK)
        return fg_cli_fail(CMD, "data directory path is too long");
    struct fg_sys_keyset *ks = NULL;
    int code = load_keys(a, cfg, &ks);
    if (code)
        return code;
    struct fg_audit_report rep;
    fg_rc rc = fg_audit_verify_file(db, fg_sys_keyset_keys(ks), anchor, &rep);
    fg_sys_keyset_free(ks); /* wipes the MAC keys */
    if (rc != FG_OK && rc != FG_ERR_CORRUPT)
        return fg_cli_fail(CMD, "verification could not run: %s", fg_rc_str(rc));
    int ok = rc == FG_OK;
    if (a->json)
        print_json(&rep, ok);
    else
        print_text(&rep, ok);
    fflush(stdout);
    return ok ? FG_CLI_EXIT_OK : FG_CLI_EXIT_FAIL;
}

int fg_cli_cmd_audit(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (fg_cli_is_help(argv[i])) {
            fputs(audit_help, stdout);
            return FG_CLI_EXIT_OK;
        }
    struct audit_args a = {0};
    int code = parse(argc, argv, &a);
    if (code)
        return code;
    struct fg_config cfg;
    code = fg_cli_setup(CMD, &a.common, &cfg);
    if (code)
        return code;
    code = run(&a, &cfg);
    fg_cli_teardown();
    return code;
}
