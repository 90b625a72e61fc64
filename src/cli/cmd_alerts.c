/*
 * cmd_alerts.c — `finguard alerts list`: the alerts of a data directory as JSON lines, newest
 * first (MON-1, MON-2; issue #6; docs/cli.md). Like `finguard ledger check` it takes no lock
 * and opens the database read-only, and reads in one transaction (one snapshot), so it works
 * on a stopped instance and beside a running server. It changes nothing (acking and
 * resolving are the API's, audited there) and needs no keys: alerts hold no ciphertexts.
 * Each line is the API shape of GET /v1/alerts/{id} (fg_alert_json).
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "incident/alert.h"

#define CMD "alerts list"
#define ALERTS_CLI_LIMIT_MAX 100000ul     /* --limit: rows printed at most */
#define ALERTS_CLI_LINE_MAX (16u * 1024u) /* one alert as JSON (fields bounded by alert.h) */

static const char alerts_help[] =
    "usage: finguard alerts list [--state S] [--level L] [--rule R] [--limit N]\n"
    "                            [--data-dir DIR] [--config FILE] [--set K=V]...\n"
    "\n"
    "Print the alerts of DIR newest first, one JSON object per line (the shape of\n"
    "GET /v1/alerts/{id}). Read-only: works on a stopped instance and beside a running\n"
    "server (no lock; one snapshot). Needs no keys.\n"
    "\n"
    "  --state S       open | acked | resolved\n"
    "  --level L       low | medium | high | critical: this level and above\n"
    "  --rule R        exactly this rule id\n"
    "  --limit N       at most N alerts (1..100000; default 50)\n"
    "  --data-dir DIR  data directory (overrides storage.data_dir)\n"
    "  --config FILE   INI configuration\n"
    "  --set K=V       override one setting\n"
    "\n"
    "Exit status: 0 listed (also when there is none), 1 the database cannot be read,\n"
    "2 usage error.\n";

struct alerts_args {
    struct fg_cli_opts common;
    const char *state, *level, *rule;
    unsigned long limit;
};

static int parse(int argc, char **argv, struct alerts_args *a)
{
    if (argc < 2)
        return fg_cli_usage("alerts", "missing subcommand (list)");
    if (strcmp(argv[1], "list") != 0)
        return fg_cli_usage("alerts", "unknown subcommand '%s'", argv[1]);
    a->limit = FG_ALERT_LIST_DEFAULT;
    for (int i = 2; i < argc; i++) {
        int taken = fg_cli_common_option(CMD, argc, argv, &i, &a->common);
        if (taken < 0)
            return FG_CLI_EXIT_USAGE;
        if (taken)
            continue;
        const char *opt = argv[i];
        int is_state = strcmp(opt, "--state") == 0, is_level = strcmp(opt, "--level") == 0;
        int is_rule = strcmp(opt, "--rule") == 0, is_limit = strcmp(opt, "--limit") == 0;
        if (!is_state && !is_level && !is_rule && !is_limit)
            return fg_cli_usage(CMD, "unknown option '%s'", opt);
        if (i + 1 >= argc)
            return fg_cli_usage(CMD, "%s needs a value", opt);
        const char *v = argv[++i];
        if (is_state) {
            if (strcmp(v, "open") != 0 && strcmp(v, "acked") != 0 && strcmp(v, "resolved") != 0)
                return fg_cli_usage(CMD, "--state must be open, acked or resolved");
            a->state = v;
        } else if (is_level) {
            if (fg_alert_level_rank(v) == 0)
                return fg_cli_usage(CMD, "--level must be low, medium, high or critical");
            a->level = v;
        } else if (is_rule) {
            if (v[0] == '\0' || strlen(v) > FG_ALERT_RULE_MAX)
                return fg_cli_usage(CMD, "--rule must be a rule id of 1..%u characters",
                                    FG_ALERT_RULE_MAX);
            a->rule = v;
        } else if (fg_cli_parse_uint(v, 1, ALERTS_CLI_LIMIT_MAX, &a->limit) != FG_OK) {
            return fg_cli_usage(CMD, "--limit must be a number in 1..%lu", ALERTS_CLI_LIMIT_MAX);
        }
    }
    return 0;
}

struct printer {
    unsigned long left;
    unsigned long printed;
};

static fg_rc print_alert(void *ctx, const struct fg_alert_view *v)
{
    struct printer *p = ctx;
    if (p->left == 0)
        return FG_OK;
    struct fg_buf b = FG_BUF_INIT(ALERTS_CLI_LINE_MAX);
    fg_rc rc = fg_alert_json(v, &b);
    if (rc == FG_OK)
        rc = fg_buf_append_char(&b, '\n');
    if (rc == FG_OK && fwrite(b.data, 1, b.len, stdout) != b.len)
        rc = FG_ERR_IO;
    fg_buf_release(&b);
    if (rc == FG_OK) {
        p->left--;
        p->printed++;
    }
    return rc;
}

/* Page through the list (cursor) inside one read transaction. */
static fg_rc list_all(fg_conn *c, const struct alerts_args *a, struct printer *p)
{
    char cursor[FG_ALERT_CURSOR_SIZE] = "";
    do {
        unsigned page = p->left < FG_ALERT_LIST_MAX ? (unsigned)p->left : FG_ALERT_LIST_MAX;
        struct fg_alert_filter f = {.state = a->state,
                                    .level = a->level,
                                    .rule = a->rule,
                                    .cursor = cursor[0] != '\0' ? cursor : NULL,
                                    .limit = page};
        char next[FG_ALERT_CURSOR_SIZE] = "";
        fg_rc rc = fg_alert_list(c, &f, print_alert, p, next);
        if (rc)
            return rc;
        memcpy(cursor, next, sizeof cursor);
    } while (cursor[0] != '\0' && p->left > 0);
    return FG_OK;
}

static int run(const struct alerts_args *a, const struct fg_config *cfg)
{
    fg_store *store = NULL;
    if (fg_cli_store_open(CMD, cfg->storage_data_dir, 1, 1, &store) != FG_OK)
        return FG_CLI_EXIT_FAIL;
    fg_conn *c = NULL;
    struct printer p = {.left = a->limit};
    fg_rc rc = fg_store_read_acquire(store, &c);
    if (rc == FG_OK) {
        rc = fg_conn_exec(c, "BEGIN", NULL, 0, NULL, NULL, NULL);
        if (rc == FG_OK) {
            rc = list_all(c, a, &p);
            if (fg_conn_exec(c, "ROLLBACK", NULL, 0, NULL, NULL, NULL) != FG_OK && rc == FG_OK)
                rc = FG_ERR_STORE;
        }
        fg_store_read_release(store, c);
    }
    fg_store_close(store);
    if (fflush(stdout) != 0 && rc == FG_OK)
        rc = FG_ERR_IO;
    if (rc == FG_ERR_INVALID)
        return fg_cli_usage(CMD, "a filter value is not valid");
    if (rc)
        return fg_cli_fail(CMD, "cannot list the alerts: %s", fg_rc_str(rc));
    return FG_CLI_EXIT_OK;
}

int fg_cli_cmd_alerts(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (fg_cli_is_help(argv[i])) {
            fputs(alerts_help, stdout);
            return FG_CLI_EXIT_OK;
        }
    struct alerts_args a = {0};
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
