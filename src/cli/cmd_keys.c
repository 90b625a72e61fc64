/*
 * cmd_keys.c — `finguard keys list | rotate | destroy`: the keyring of a data directory.
 *
 * list reads the keyring table through a read-only store (fg_keys_list works sealed and
 * never touches key material) and needs neither a lock nor shares.
 *
 * rotate and destroy change the instance, so they hold the data-directory lock (a server
 * keeps the keyring and the audit chain head in memory and would not see the change),
 * open the store and the lifecycle service, unseal with k shares from stdin (fg_sys_unseal
 * arms the audit log; the CLI appends the "sys.unseal" record itself, as the HTTP route
 * does), and call fg_sys_keys_rotate / fg_sys_keys_destroy, which write the key change and
 * its "keys.rotate" / "keys.destroy" record in one transaction, with the key.rotated /
 * key.destroyed event (docs/events.md); the unseal and seal records carry sys.unsealed /
 * sys.sealed the same way. fg_sys_shutdown then appends "sys.seal" and a checkpoint. A
 * destroy additionally needs two custodians: the first two share lines are their
 * confirmation and must be distinct shares (the keys module checks the indexes); reading
 * continues until the threshold is reached too.
 * A development-mode instance (keys.dev_mode with DIR/dev-root.key) unseals from its key
 * file, so rotate reads nothing there; destroy still reads the two confirmation lines.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/time.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/lock.h"
#include "crypto/crypto.h"
#include "sys/sys.h"

static const char keys_help[] =
    "usage: finguard keys list    [--data-dir DIR] [--config FILE] [--set K=V]... [--json]\n"
    "       finguard keys rotate  [--data-dir DIR] [--config FILE] [--set K=V]... --purpose P\n"
    "       finguard keys destroy [--data-dir DIR] [--config FILE] [--set K=V]... --purpose P\n"
    "                             --version V\n"
    "\n"
    "The keyring: one key per purpose (pii, pan, index, token, audit, sign, backup), each in\n"
    "versions that are active, decrypt-only or destroyed. No command ever prints key material.\n"
    "\n"
    "  list     purpose, version, state, creation time and age of every version. Needs no\n"
    "           shares and no lock; works beside a running server. --json prints\n"
    "           {\"keys\":[{\"purpose\",\"version\",\"state\",\"created\",\"state_changed\",\n"
    "           \"destroyed\",\"age_s\"}]}.\n"
    "  rotate   add a new active version of purpose P; the old active one becomes\n"
    "           decrypt-only (data encrypted under it stays readable until rewrapped).\n"
    "  destroy  crypto-shred version V of purpose P: its wrapped key is deleted for good.\n"
    "           Refused for the active version and for a version still in use.\n"
    "\n"
    "rotate and destroy run offline (refused while a server uses DIR) and unseal the keys\n"
    "with K shares read from stdin, one per line (blank lines ignored; hidden on a terminal).\n"
    "destroy needs two custodians: the FIRST TWO share lines are their confirmation and must\n"
    "be two different custodians' shares; give further shares after them until K distinct\n"
    "shares were given. Both changes are written with their audit record in one transaction.\n"
    "\n"
    "Exit status: 0 done, 1 refused (the reason is printed) or failed, 2 usage error.\n";

enum keys_action { KEYS_LIST = 1, KEYS_ROTATE, KEYS_DESTROY };

struct keys_args {
    struct fg_cli_opts common;
    enum keys_action action;
    const char *cmd; /* "keys list", ... for messages */
    int json;
    enum fg_key_purpose purpose; /* 0 = not given */
    uint32_t version;            /* 0 = not given */
};

static int parse_option(int argc, char **argv, int *i, struct keys_args *a)
{
    const char *o = argv[*i];
    int taken = fg_cli_common_option(a->cmd, argc, argv, i, &a->common);
    if (taken)
        return taken < 0 ? FG_CLI_EXIT_USAGE : 0;
    if (a->action == KEYS_LIST && strcmp(o, "--json") == 0) {
        a->json = 1;
        return 0;
    }
    int purpose = strcmp(o, "--purpose") == 0 && a->action != KEYS_LIST;
    int version = strcmp(o, "--version") == 0 && a->action == KEYS_DESTROY;
    if (!purpose && !version)
        return fg_cli_usage(a->cmd, "unknown option '%s'", o);
    if (*i + 1 >= argc)
        return fg_cli_usage(a->cmd, "%s needs a value", o);
    const char *v = argv[++*i];
    unsigned long n = 0;
    if (purpose && fg_key_purpose_parse(v, &a->purpose) != FG_OK)
        return fg_cli_usage(a->cmd,
                            "unknown purpose '%s' (pii, pan, index, token, audit, sign, "
                            "backup)",
                            v);
    if (version && fg_cli_parse_uint(v, 1, UINT32_MAX, &n) != FG_OK)
        return fg_cli_usage(a->cmd, "--version must be a positive number, not '%s'", v);
    if (version)
        a->version = (uint32_t)n;
    return 0;
}

static int parse(int argc, char **argv, struct keys_args *a)
{
    if (argc < 2)
        return fg_cli_usage("keys", "missing subcommand (list, rotate or destroy)");
    static const struct {
        const char *name, *cmd;
        enum keys_action action;
    } subs[] = {{"list", "keys list", KEYS_LIST},
                {"rotate", "keys rotate", KEYS_ROTATE},
                {"destroy", "keys destroy", KEYS_DESTROY}};
    for (size_t s = 0; s < sizeof subs / sizeof subs[0]; s++)
        if (strcmp(argv[1], subs[s].name) == 0) {
            a->action = subs[s].action;
            a->cmd = subs[s].cmd;
        }
    if (a->action == 0)
        return fg_cli_usage("keys", "unknown subcommand '%s'", argv[1]);
    for (int i = 2; i < argc; i++) {
        int code = parse_option(argc, argv, &i, a);
        if (code)
            return code;
    }
    if (a->action != KEYS_LIST && a->purpose == 0)
        return fg_cli_usage(a->cmd, "--purpose is required");
    if (a->action == KEYS_DESTROY && a->version == 0)
        return fg_cli_usage(a->cmd, "--version is required");
    return 0;
}

/* ---- list ------------------------------------------------------------------------------ */

struct list_out {
    json_t *keys; /* --json: the array; else NULL and rows are printed */
    unsigned rows;
};

static void format_age(int64_t s, char *out, size_t cap)
{
    if (s < 120)
        snprintf(out, cap, "%llds", (long long)(s < 0 ? 0 : s));
    else if (s < 2 * 3600)
        snprintf(out, cap, "%lldm", (long long)(s / 60));
    else if (s < 2 * 86400)
        snprintf(out, cap, "%lldh", (long long)(s / 3600));
    else
        snprintf(out, cap, "%lldd", (long long)(s / 86400));
}

static fg_rc list_row(void *ctx, const struct fg_key_info *info)
{
    struct list_out *out = ctx;
    char created[FG_TIME_RFC3339_LEN], changed[FG_TIME_RFC3339_LEN], destroyed[FG_TIME_RFC3339_LEN];
    fg_time_format_rfc3339(info->created_ms, created);
    fg_time_format_rfc3339(info->state_ms, changed);
    fg_time_format_rfc3339(info->destroyed_ms, destroyed);
    out->rows++;
    if (out->keys == NULL) {
        char age[32];
        format_age(info->age_s, age, sizeof age);
        printf("%-8s %7u  %-13s %-25s %s\n", fg_key_purpose_name(info->purpose), info->version,
               fg_key_state_name(info->state), created, age);
        return FG_OK;
    }
    json_t *row =
        json_pack("{s:s, s:I, s:s, s:s, s:s, s:o, s:I}", "purpose",
                  fg_key_purpose_name(info->purpose), "version", (json_int_t)info->version, "state",
                  fg_key_state_name(info->state), "created", created, "state_changed", changed,
                  "destroyed", info->destroyed_ms > 0 ? json_string(destroyed) : json_null(),
                  "age_s", (json_int_t)info->age_s);
    if (row == NULL || json_array_append_new(out->keys, row) != 0)
        return FG_ERR_NOMEM;
    return FG_OK;
}

static int keys_list(const struct keys_args *a, const char *dir)
{
    fg_store *store = NULL;
    if (fg_cli_store_open(a->cmd, dir, 1, 1, &store) != FG_OK)
        return FG_CLI_EXIT_FAIL;
    fg_keys *k = NULL;
    fg_rc rc = fg_keys_new(store, &k);
    struct fg_keys_state st = {0};
    if (rc == FG_OK)
        fg_keys_state(k, &st);
    struct list_out out = {.keys = a->json ? json_array() : NULL};
    int code = FG_CLI_EXIT_OK;
    if (rc)
        code = fg_cli_fail(a->cmd, "cannot read the key state: %s", fg_rc_str(rc));
    else if (!st.initialized)
        code = fg_cli_fail(a->cmd, "%s is not initialised", dir);
    else if (a->json && out.keys == NULL)
        code = fg_cli_fail(a->cmd, "%s", fg_rc_str(FG_ERR_NOMEM));
    if (code == FG_CLI_EXIT_OK) {
        if (!a->json)
            printf("%-8s %7s  %-13s %-25s %s\n", "PURPOSE", "VERSION", "STATE", "CREATED", "AGE");
        rc = fg_keys_list(k, list_row, &out);
        if (rc)
            code = fg_cli_fail(a->cmd, "cannot list the keyring: %s", fg_rc_str(rc));
    }
    if (code == FG_CLI_EXIT_OK && a->json) {
        json_t *doc = json_pack("{s:O}", "keys", out.keys);
        if (doc == NULL || json_dumpf(doc, stdout, JSON_COMPACT) != 0)
            code = fg_cli_fail(a->cmd, "%s", fg_rc_str(FG_ERR_NOMEM));
        else
            fputc('\n', stdout);
        json_decref(doc);
    }
    json_decref(out.keys);
    fflush(stdout);
    fg_keys_free(k);
    fg_store_close(store);
    return code;
}

/* ---- rotate and destroy ----------------------------------------------------------------- */

static fg_rc submit_share(void *ctx, const char *share, struct fg_keys_state *st,
                          const char **problem)
{
    int just_unsealed = 0; /* the "sys.unseal" record is written once, after the loop */
    return fg_sys_unseal(ctx, share, st, &just_unsealed, problem);
}

/* Unseal from stdin (and for destroy keep the two confirmations in keep[0..1]); append the
 * "sys.unseal" record when this command unsealed. 0 or an exit code. */
static int unseal(const struct keys_args *a, fg_store *store, struct fg_sys *sys,
                  const struct fg_cli_actor *actor, char (*keep)[FG_KEYS_SHARE_TEXT_MAX])
{
    struct fg_keys_state st;
    fg_sys_state(sys, &st);
    struct fg_cli_shares *r = NULL;
    if (fg_cli_shares_open(&r) != FG_OK)
        return fg_cli_fail(a->cmd, "cannot allocate locked memory for the shares");
    struct fg_cli_unseal u = {.submit = submit_share,
                              .ctx = sys,
                              .sealed = st.sealed,
                              .threshold = st.threshold,
                              .keep = keep,
                              .keep_count = a->action == KEYS_DESTROY ? 2 : 0};
    int code = fg_cli_unseal_stdin(a->cmd, r, &u);
    fg_cli_shares_close(r);
    if (code || !st.sealed)
        return code;
    struct fg_audit_record rec;
    fg_rc rc = fg_sys_unseal_record(sys, &actor->who, "cli_shares", &rec);
    if (rc == FG_OK)
        rc = fg_audit_write(store, fg_sys_record_event_intent, &rec, &rec); /* + sys.unsealed */
    if (rc)
        return fg_cli_fail(a->cmd, "cannot audit the unseal: %s", fg_rc_str(rc));
    return 0;
}

static int change(const struct keys_args *a, fg_store *store, struct fg_sys *sys)
{
    const char *purpose = fg_key_purpose_name(a->purpose);
    struct fg_keys_state st;
    fg_sys_state(sys, &st);
    if (!st.initialized)
        return fg_cli_fail(a->cmd, "%s is not initialised", fg_sys_data_dir(sys));
    char(*keep)[FG_KEYS_SHARE_TEXT_MAX] = fg_secure_alloc(2 * FG_KEYS_SHARE_TEXT_MAX);
    if (keep == NULL)
        return fg_cli_fail(a->cmd, "cannot allocate locked memory for the shares");
    struct fg_cli_actor actor;
    fg_cli_actor_init(&actor);
    if (fg_cli_register_columns() != FG_OK) {
        fg_secure_free(keep);
        return fg_cli_fail(a->cmd, "cannot register the protected columns");
    }
    int code = unseal(a, store, sys, &actor, keep);
    const char *problem = NULL;
    fg_rc rc = FG_OK;
    uint32_t version = 0;
    if (code == 0 && a->action == KEYS_ROTATE) {
        rc = fg_sys_keys_rotate(sys, a->purpose, &actor.who, &version, &problem);
        if (rc == FG_OK)
            printf("rotated %s: version %u is active; the previous version is decrypt-only\n",
                   purpose, version);
    } else if (code == 0) {
        rc = fg_sys_keys_destroy(sys, a->purpose, a->version, keep[0], keep[1], &actor.who,
                                 &problem);
        if (rc == FG_OK)
            printf("destroyed %s version %u (crypto-shredded)\n", purpose, a->version);
    }
    fg_secure_free(keep); /* wipes the confirmations */
    if (code == 0 && rc)
        code = fg_cli_fail(a->cmd, "refused: %s", problem != NULL ? problem : fg_rc_str(rc));
    fflush(stdout);
    return code;
}

static int keys_change(const struct keys_args *a, const struct fg_config *cfg)
{
    const char *dir = cfg->storage_data_dir;
    int lock_fd = -1;
    if (fg_cli_lock(a->cmd, dir, "stop it first (keys are changed offline)", &lock_fd) != FG_OK)
        return FG_CLI_EXIT_FAIL;
    char dev_key[FG_PATH_MAX];
    int dev = cfg->keys_dev_mode && fg_cli_path(dir, FG_KEYS_DEV_FILE, dev_key) == FG_OK &&
              access(dev_key, F_OK) == 0; /* the key file exists only once initialised */
    fg_store *store = NULL;
    int code = FG_CLI_EXIT_FAIL;
    if (fg_cli_store_open(a->cmd, dir, 0, 1, &store) == FG_OK) {
        struct fg_sys *sys = NULL;
        struct fg_sys_options yopt = {.store = store, .data_dir = dir, .dev_mode = dev};
        fg_rc rc = fg_sys_open(&yopt, &sys);
        if (rc)
            fg_cli_fail(a->cmd, "cannot load the key state: %s", fg_rc_str(rc));
        else
            code = change(a, store, sys);
        fg_sys_shutdown(sys); /* "sys.seal" + checkpoint */
        fg_store_close(store);
        fg_sys_close(sys);
    }
    fg_cli_unlock(lock_fd);
    return code;
}

int fg_cli_cmd_keys(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (fg_cli_is_help(argv[i])) {
            fputs(keys_help, stdout);
            return FG_CLI_EXIT_OK;
        }
    struct keys_args a = {0};
    int code = parse(argc, argv, &a);
    if (code)
        return code;
    struct fg_config cfg;
    code = fg_cli_setup(a.cmd, &a.common, &cfg);
    if (code)
        return code;
    if (a.action == KEYS_LIST)
        code = keys_list(&a, cfg.storage_data_dir);
    else
        code = keys_change(&a, &cfg);
    fg_cli_teardown();
    return code;
}
