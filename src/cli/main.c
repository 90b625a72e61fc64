/*
 * main.c — the `finguard` command: a table of sub-commands, each with its own options and
 * --help. Usage errors (unknown command or option, missing argument) print one line to
 * stderr and exit 2; operational failures exit 1; success exits 0.
 */
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/config.h"
#include "base/log.h"
#include "cli/commands.h"
#include "cli/serve.h"

#define EXIT_USAGE 2

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("finguard: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see 'finguard --help')\n", stderr);
    return EXIT_USAGE;
}

static const char main_help[] =
    "finguard — financial-account security platform\n"
    "\n"
    "usage: finguard <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve          run the HTTP API server\n"
    "  init           initialise a data directory offline; prints the unseal shares once\n"
    "  unseal         unseal a running server with shares read from stdin\n"
    "  audit verify   verify the audit log's MAC chain and signed checkpoints\n"
    "  keys list      list key versions and their states (no key material)\n"
    "  keys rotate    add a new active version of a key purpose (offline)\n"
    "  keys destroy   crypto-shred an unused key version (offline, two custodians)\n"
    "  ledger check   prove the double-entry books balance (read-only, no keys)\n"
    "  routes         every route and the permission it requires\n"
    "  config check   validate a configuration file and print the effective settings\n"
    "  version        print the version\n"
    "\n"
    "Run 'finguard <command> --help' for a command's options. Secrets (unseal shares) are\n"
    "read from stdin, never from the command line. Exit status: 0 success, 1 failure or\n"
    "refusal, 2 usage error. See docs/cli.md.\n";

static const char version_help[] = "usage: finguard version\n\nPrint the version and exit.\n";

static const char config_help[] =
    "usage: finguard config check [FILE] [--set section.name=value]...\n"
    "\n"
    "Load FILE (if given) over the compiled defaults, apply FINGUARD_* environment\n"
    "variables and --set overrides, validate, and print the effective configuration.\n"
    "Sensitive values are shown as [redacted]. Every error is reported with its origin\n"
    "(file:line or environment variable). Exit 0 when valid, 1 when not.\n";

static int cmd_config(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(config_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    if (strcmp(argv[1], "check") != 0)
        return usage_error("config: unknown subcommand '%s'", argv[1]);
    const char *file = NULL;
    const char *sets[64] = {0};
    int nsets = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(config_help, stdout);
            return 0;
        } else if (strcmp(argv[i], "--set") == 0) {
            if (i + 1 >= argc)
                return usage_error("config check: %s needs section.name=value", "--set");
            if (nsets == (int)(sizeof sets / sizeof sets[0]))
                return usage_error("config check: too many %s options", "--set");
            sets[nsets++] = argv[++i];
        } else if (argv[i][0] == '-') {
            return usage_error("config check: unknown option '%s'", argv[i]);
        } else if (file == NULL) {
            file = argv[i];
        } else {
            return usage_error("config check: unexpected argument '%s'", argv[i]);
        }
    }
    struct fg_config cfg;
    struct fg_buf errors = FG_BUF_INIT(64u * 1024u);
    int bad = fg_cli_load_config(&cfg, file, sets, nsets, &errors);
    if (bad) {
        fputs(fg_buf_str(&errors), stderr);
        fprintf(stderr, "finguard: configuration is invalid\n");
        fg_buf_release(&errors);
        return 1;
    }
    fg_buf_release(&errors);
    fg_config_dump(&cfg, stdout);
    fprintf(stderr, "finguard: configuration is valid\n");
    return 0;
}

static int cmd_version(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(version_help, stdout);
            return 0;
        }
        return usage_error("version: unknown option '%s'", argv[i]);
    }
    printf("finguard %s\n", FG_VERSION);
    return 0;
}

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
    {"serve", fg_cli_serve},
    {"init", fg_cli_cmd_init},
    {"unseal", fg_cli_cmd_unseal},
    {"audit", fg_cli_cmd_audit},
    {"keys", fg_cli_cmd_keys},
    {"ledger", fg_cli_cmd_ledger},
    {"routes", fg_cli_cmd_routes},
    {"rules", fg_cli_cmd_rules},
    {"events", fg_cli_cmd_events},
    {"alerts", fg_cli_cmd_alerts},
    {"incidents", fg_cli_cmd_incidents},
    {"config", cmd_config},
    {"version", cmd_version},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_help, stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(main_help, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(1, argv + 1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    return usage_error("unknown command '%s'", argv[1]);
}
