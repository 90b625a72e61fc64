/*
 * cmd_incidents.c — `finguard incidents list` and `finguard incidents export ID` (INC-1..5;
 * issue #6; docs/cli.md). Like `finguard ledger check` they take no lock, open the database
 * read-only and read in one transaction (one snapshot), so they work on a stopped instance
 * and beside a running server, and need no keys (incident texts are not encrypted).
 *
 * list prints one JSON object per incident (the list shape of GET /v1/incidents,
 * fg_incident_summary_json), newest first. export prints the report of GET
 * /v1/incidents/{id}/export: Markdown (fg_incident_markdown) or JSON (fg_incident_json).
 * Unlike the route, a CLI export is not audited: the command writes nothing (an auditor's
 * read must not change what it reads), and whoever runs it can read the database file
 * anyway — the file permissions are the control here.
 */
#include <stdio.h>
#include <string.h>

#include "base/time.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "incident/incident.h"

#define INC_CLI_LIMIT_MAX 100000ul     /* list --limit: rows printed at most */
#define INC_CLI_LINE_MAX (16u * 1024u) /* one incident summary as JSON */

static const char incidents_help[] =
    "usage: finguard incidents list [--state S] [--severity L] [--limit N]\n"
    "                               [--data-dir DIR] [--config FILE] [--set K=V]...\n"
    "       finguard incidents export ID [--format md|json]\n"
    "                               [--data-dir DIR] [--config FILE] [--set K=V]...\n"
    "\n"
    "list    the incidents of DIR newest first, one JSON object per line (the shape of\n"
    "        GET /v1/incidents).\n"
    "        --state S     reported | investigating | contained | recovered | closed, or\n"
    "                      open (every state but closed)\n"
    "        --severity L  low | medium | high | critical (exactly)\n"
    "        --limit N     at most N incidents (1..100000; default 50)\n"
    "export  the report of incident ID on stdout (as GET /v1/incidents/{id}/export):\n"
    "        --format md   Markdown: header, deadlines met/breached, timeline, evidence,\n"
    "                      review (the default)\n"
    "        --format json the full incident as one JSON object\n"
    "\n"
    "Read-only: works on a stopped instance and beside a running server (no lock; one\n"
    "snapshot); writes nothing, so an export made here is not in the audit log. Needs no\n"
    "keys.\n"
    "\n"
    "  --data-dir DIR  data directory (overrides storage.data_dir)\n"
    "  --config FILE   INI configuration\n"
    "  --set K=V       override one setting\n"
    "\n"
    "Exit status: 0 done, 1 no such incident or the database cannot be read, 2 usage\n"
    "error.\n";

enum inc_sub { INC_LIST, INC_EXPORT };

struct inc_args {
    struct fg_cli_opts common;
    enum inc_sub sub;
    const char *cmd; /* "incidents list" | "incidents export" */
    const char *state, *severity;
    unsigned long limit;
    const char *id;
    int markdown;
};

/* The value of option argv[*i]; NULL after a usage error. */
static const char *value_of(const char *cmd, int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        (void)fg_cli_usage(cmd, "%s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

static int parse_list_option(struct inc_args *a, int argc, char **argv, int *i)
{
    const char *opt = argv[*i];
    int is_state = strcmp(opt, "--state") == 0, is_sev = strcmp(opt, "--severity") == 0;
    if (!is_state && !is_sev && strcmp(opt, "--limit") != 0)
        return fg_cli_usage(a->cmd, "unknown option '%s'", opt);
    const char *v = value_of(a->cmd, argc, argv, i);
    if (v == NULL)
        return FG_CLI_EXIT_USAGE;
    enum fg_incident_state st;
    if (is_state) {
        if (strcmp(v, "open") != 0 && fg_incident_state_parse(v, &st) != FG_OK)
            return fg_cli_usage(a->cmd, "--state must be reported, investigating, contained, "
                                        "recovered, closed or open");
        a->state = v;
    } else if (is_sev) {
        if (!fg_incident_severity_ok(v))
            return fg_cli_usage(a->cmd, "--severity must be low, medium, high or critical");
        a->severity = v;
    } else if (fg_cli_parse_uint(v, 1, INC_CLI_LIMIT_MAX, &a->limit) != FG_OK) {
        return fg_cli_usage(a->cmd, "--limit must be a number in 1..%lu", INC_CLI_LIMIT_MAX);
    }
    return 0;
}

static int parse_export_option(struct inc_args *a, int argc, char **argv, int *i)
{
    const char *opt = argv[*i];
    if (strcmp(opt, "--format") == 0) {
        const char *v = value_of(a->cmd, argc, argv, i);
        if (v == NULL)
            return FG_CLI_EXIT_USAGE;
        if (strcmp(v, "md") != 0 && strcmp(v, "json") != 0)
            return fg_cli_usage(a->cmd, "--format must be md or json");
        a->markdown = strcmp(v, "md") == 0;
        return 0;
    }
    if (opt[0] == '-' || a->id != NULL)
        return fg_cli_usage(a->cmd, "unknown option '%s'", opt);
    a->id = opt;
    return 0;
}

static int parse(int argc, char **argv, struct inc_args *a)
{
    if (argc < 2)
        return fg_cli_usage("incidents", "missing subcommand (list or export)");
    if (strcmp(argv[1], "list") == 0) {
        a->sub = INC_LIST;
        a->cmd = "incidents list";
    } else if (strcmp(argv[1], "export") == 0) {
        a->sub = INC_EXPORT;
        a->cmd = "incidents export";
    } else {
        return fg_cli_usage("incidents", "unknown subcommand '%s'", argv[1]);
    }
    a->limit = FG_INCIDENT_LIST_DEFAULT;
    a->markdown = 1;
    for (int i = 2; i < argc; i++) {
        int taken = fg_cli_common_option(a->cmd, argc, argv, &i, &a->common);
        if (taken < 0)
            return FG_CLI_EXIT_USAGE;
        if (taken)
            continue;
        int code = a->sub == INC_LIST ? parse_list_option(a, argc, argv, &i)
                                      : parse_export_option(a, argc, argv, &i);
        if (code)
            return code;
    }
    if (a->sub == INC_EXPORT && a->id == NULL)
        return fg_cli_usage(a->cmd, "missing incident id");
    return 0;
}

/* ---- list ------------------------------------------------------------------------------- */

struct printer {
    unsigned long left;
};

static fg_rc print_incident(void *ctx, const struct fg_incident_view *v)
{
    struct printer *p = ctx;
    if (p->left == 0)
        return FG_OK;
    struct fg_buf b = FG_BUF_INIT(INC_CLI_LINE_MAX);
    fg_rc rc = fg_incident_summary_json(v, &b);
    if (rc == FG_OK)
        rc = fg_buf_append_char(&b, '\n');
    if (rc == FG_OK && fwrite(b.data, 1, b.len, stdout) != b.len)
        rc = FG_ERR_IO;
    fg_buf_release(&b);
    if (rc == FG_OK)
        p->left--;
    return rc;
}

static fg_rc list_all(fg_conn *c, const struct inc_args *a)
{
    struct printer p = {.left = a->limit};
    char cursor[FG_INCIDENT_CURSOR_SIZE] = "";
    do {
        unsigned page = p.left < FG_INCIDENT_LIST_MAX ? (unsigned)p.left : FG_INCIDENT_LIST_MAX;
        struct fg_incident_filter f = {.state = a->state,
                                       .severity = a->severity,
                                       .cursor = cursor[0] != '\0' ? cursor : NULL,
                                       .limit = page};
        char next[FG_INCIDENT_CURSOR_SIZE] = "";
        fg_rc rc = fg_incident_list(c, &f, print_incident, &p, next);
        if (rc)
            return rc;
        memcpy(cursor, next, sizeof cursor);
    } while (cursor[0] != '\0' && p.left > 0);
    return FG_OK;
}

/* ---- export ----------------------------------------------------------------------------- */

static fg_rc export_one(fg_conn *c, const struct inc_args *a)
{
    struct fg_buf b = FG_BUF_INIT(FG_INCIDENT_EXPORT_MAX);
    fg_rc rc = a->markdown ? fg_incident_markdown(c, a->id, fg_time_wall_ms(), &b)
                           : fg_incident_json(c, a->id, &b);
    if (rc == FG_OK && (b.len == 0 || b.data[b.len - 1] != '\n'))
        rc = fg_buf_append_char(&b, '\n');
    if (rc == FG_OK && fwrite(b.data, 1, b.len, stdout) != b.len)
        rc = FG_ERR_IO;
    fg_buf_release(&b);
    return rc;
}

/* ---- run -------------------------------------------------------------------------------- */

static int run(const struct inc_args *a, const struct fg_config *cfg)
{
    if (a->sub == INC_EXPORT && !fg_incident_id_ok(a->id))
        return fg_cli_fail(a->cmd, "not an incident id (inc_ and 22 characters)");
    fg_store *store = NULL;
    if (fg_cli_store_open(a->cmd, cfg->storage_data_dir, 1, 1, &store) != FG_OK)
        return FG_CLI_EXIT_FAIL;
    fg_conn *c = NULL;
    fg_rc rc = fg_store_read_acquire(store, &c);
    if (rc == FG_OK) {
        rc = fg_conn_exec(c, "BEGIN", NULL, 0, NULL, NULL, NULL);
        if (rc == FG_OK) {
            rc = a->sub == INC_LIST ? list_all(c, a) : export_one(c, a);
            if (fg_conn_exec(c, "ROLLBACK", NULL, 0, NULL, NULL, NULL) != FG_OK && rc == FG_OK)
                rc = FG_ERR_STORE;
        }
        fg_store_read_release(store, c);
    }
    fg_store_close(store);
    if (fflush(stdout) != 0 && rc == FG_OK)
        rc = FG_ERR_IO;
    if (rc == FG_ERR_NOT_FOUND && a->sub == INC_EXPORT)
        return fg_cli_fail(a->cmd, "no incident '%s'", a->id);
    if (rc == FG_ERR_INVALID)
        return fg_cli_usage(a->cmd, "a filter value is not valid");
    if (rc)
        return fg_cli_fail(a->cmd, "cannot read the incidents: %s", fg_rc_str(rc));
    return FG_CLI_EXIT_OK;
}

int fg_cli_cmd_incidents(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (fg_cli_is_help(argv[i])) {
            fputs(incidents_help, stdout);
            return FG_CLI_EXIT_OK;
        }
    struct inc_args a = {0};
    int code = parse(argc, argv, &a);
    if (code)
        return code;
    struct fg_config cfg;
    code = fg_cli_setup(a.cmd, &a.common, &cfg);
    if (code)
        return code;
    code = run(&a, &cfg);
    fg_cli_teardown();
    return code;
}
