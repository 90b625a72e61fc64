/*
 * cmd_ledger.c — `finguard ledger check`: prove the books of a data directory (TXN-6),
 * offline or beside a running server. It takes no lock and opens the database read-only;
 * the whole proof runs in one read transaction, so a live database is seen as one snapshot.
 * No keys are needed: the proof is over amounts and ids, never over memos.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "ledger/ledger.h"

#define CMD "ledger check"
/* "Could not run" is told apart from "the books are wrong" (docs/cli.md). */
#define EXIT_ERROR 2

static const char ledger_help[] =
    "usage: finguard ledger check [--data-dir DIR] [--config FILE] [--set K=V]... [--json]\n"
    "\n"
    "Prove the double-entry books of DIR (TXN-6): every account's balance equals the sum of\n"
    "its entries and the last balance_after; every journal has exactly two entries, -amount\n"
    "and +amount, on its accounts; per currency all accounts sum to zero and the customer\n"
    "accounts hold deposits minus withdrawals; no customer account is below its overdraft.\n"
    "Reports the counts and the first problem found. Works on a stopped instance and beside\n"
    "a running server (read-only; no lock; one snapshot). Needs no keys.\n"
    "\n"
    "  --data-dir DIR  data directory (overrides storage.data_dir)\n"
    "  --config FILE   INI configuration\n"
    "  --set K=V       override one setting\n"
    "  --json          print the result as one JSON object:\n"
    "                  {\"ok\",\"accounts\",\"journals\",\"entries\",\"problem\",\"totals\"}\n"
    "\n"
    "Exit status: 0 the books balance, 1 they do not, 2 usage error or the check could not\n"
    "run.\n";

struct ledger_args {
    struct fg_cli_opts common;
    int json;
};

static int parse(int argc, char **argv, struct ledger_args *a)
{
    if (argc < 2)
        return fg_cli_usage("ledger", "missing subcommand (check)");
    if (strcmp(argv[1], "check") != 0)
        return fg_cli_usage("ledger", "unknown subcommand '%s'", argv[1]);
    for (int i = 2; i < argc; i++) {
        int taken = fg_cli_common_option(CMD, argc, argv, &i, &a->common);
        if (taken < 0)
            return FG_CLI_EXIT_USAGE;
        if (taken)
            continue;
        if (strcmp(argv[i], "--json") == 0)
            a->json = 1;
        else
            return fg_cli_usage(CMD, "unknown option '%s'", argv[i]);
    }
    return 0;
}

static void print_json(const struct fg_ledger_check_report *r)
{
    json_t *o =
        json_pack("{s:b, s:I, s:I, s:I, s:s, s:s}", "ok", r->ok, "accounts",
                  (json_int_t)r->accounts, "journals", (json_int_t)r->journals, "entries",
                  (json_int_t)r->entries, "problem", r->problem, "totals", r->currency_totals);
    if (o == NULL || json_dumpf(o, stdout, JSON_COMPACT) != 0)
        fputs("{\"ok\":false}", stdout); /* out of memory: never claim success */
    fputc('\n', stdout);
    json_decref(o);
}

static void print_text(const struct fg_ledger_check_report *r)
{
    if (r->ok)
        printf("ledger balanced: %" PRIu64 " accounts, %" PRIu64 " journals, %" PRIu64 " entries\n",
               r->accounts, r->journals, r->entries);
    else
        printf("ledger NOT balanced: %s\n(%" PRIu64 " accounts, %" PRIu64 " journals, %" PRIu64
               " entries)\n",
               r->problem, r->accounts, r->journals, r->entries);
    if (r->currency_totals[0] != '\0')
        printf("customer totals: %s\n", r->currency_totals);
}

static int run(const struct ledger_args *a, const struct fg_config *cfg)
{
    fg_store *store = NULL;
    if (fg_cli_store_open(CMD, cfg->storage_data_dir, 1, 1, &store) != FG_OK)
        return EXIT_ERROR;
    struct fg_ledger_check_report r;
    fg_rc rc = fg_ledger_check_store(store, &r);
    fg_store_close(store);
    if (rc != FG_OK) {
        (void)fg_cli_fail(CMD, "the check could not run: %s", fg_rc_str(rc));
        return EXIT_ERROR;
    }
    if (a->json)
        print_json(&r);
    else
        print_text(&r);
    fflush(stdout);
    return r.ok ? FG_CLI_EXIT_OK : FG_CLI_EXIT_FAIL;
}

int fg_cli_cmd_ledger(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (fg_cli_is_help(argv[i])) {
            fputs(ledger_help, stdout);
            return FG_CLI_EXIT_OK;
        }
    struct ledger_args a = {0};
    int code = parse(argc, argv, &a);
    if (code)
        return code;
    struct fg_config cfg;
    code = fg_cli_setup(CMD, &a.common, &cfg);
    if (code)
        return EXIT_ERROR;
    code = run(&a, &cfg);
    fg_cli_teardown();
    return code;
}
