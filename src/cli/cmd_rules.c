/*
 * cmd_rules.c — `finguard rules check | test | list` (MON-2; issue #6; docs/rules.md).
 *
 *   check FILE...  lint rule files: every error as FILE:LINE: message, exit 1 if any
 *   test           run the golden cases against the rule set; list rules without cases
 *   list           the rules of the set: id, level, kind, title
 *
 * Offline: no data directory, no keys, no server. The rule set is the embedded pack unless
 * --rules DIR names a directory of *.yaml files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "monitor/engine.h"
#include "monitor/golden.h"

#define CMD "rules"
#define RULES_ERRORS_MAX (4u << 20)
#define RULES_PATH_MAX 4096
#define RULES_DEFAULT_TZ 480

static const char rules_help[] =
    "usage: finguard rules check FILE...\n"
    "       finguard rules test [--rules DIR] [--cases DIR] [--tz-offset MINUTES]\n"
    "       finguard rules list [--rules DIR]\n"
    "\n"
    "check  lint rule files (docs/rules.md): every error as FILE:LINE: message, not just\n"
    "       the first; exit 1 if there is any, else print \"N rules OK\".\n"
    "test   feed each golden case (data/rules/tests/*.yaml) into a fresh engine running the\n"
    "       whole rule set and compare the case's rule's firings exactly; print one line per\n"
    "       case, then every rule without a case that fires or one that does not. Exit 1 on\n"
    "       any failure or uncovered rule.\n"
    "list   id, level, kind and title of every rule.\n"
    "\n"
    "  --rules DIR        rules from DIR/*.yaml instead of the embedded pack\n"
    "  --cases DIR        golden cases (default: data/rules/tests under the current\n"
    "                     directory, else under $FINGUARD_SOURCE_DIR or $FG_SOURCE_DIR)\n"
    "  --tz-offset MIN    local time of hour/weekday conditions (default 480, +08:00)\n"
    "\n"
    "Exit status: 0 ok, 1 errors or failures, 2 usage error.\n";

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static struct fg_rules *load_set(const char *dir)
{
    struct fg_buf errors = FG_BUF_INIT(RULES_ERRORS_MAX);
    struct fg_rules *r = NULL;
    fg_rc rc = fg_rules_load_default(dir, &r, &errors);
    if (rc != FG_OK) {
        fputs(fg_buf_str(&errors), stdout);
        fprintf(stderr, "finguard rules: the rule set did not load (%s)\n", fg_rc_str(rc));
    }
    fg_buf_release(&errors);
    return r;
}

static int cmd_check(int argc, char **argv)
{
    if (argc < 3)
        return fg_cli_usage(CMD, "check needs at least one FILE");
    struct fg_buf errors = FG_BUF_INIT(RULES_ERRORS_MAX);
    struct fg_rules *r = NULL;
    fg_rc rc = fg_rules_load_files((const char *const *)argv + 2, (size_t)argc - 2, &r, &errors);
    fputs(fg_buf_str(&errors), stdout);
    fg_buf_release(&errors);
    if (rc != FG_OK) {
        fprintf(stderr, "finguard rules check: %s\n",
                rc == FG_ERR_INVALID ? "errors found" : fg_rc_str(rc));
        return FG_CLI_EXIT_FAIL;
    }
    printf("%zu rules OK\n", fg_rules_count(r));
    fg_rules_free(r);
    return FG_CLI_EXIT_OK;
}

static void print_result(void *ctx, const struct fg_golden_result *res)
{
    (void)ctx;
    if (res->ok)
        printf("ok   %s: %s\n", res->c->rule, res->c->name);
    else
        printf("FAIL %s: %s (%s:%u): %s\n", res->c->rule, res->c->name, res->c->file, res->c->line,
               res->diff);
}

static const char *default_cases(char *buf, size_t cap)
{
    if (is_dir("data/rules/tests"))
        return "data/rules/tests";
    const char *envs[] = {"FINGUARD_SOURCE_DIR", "FG_SOURCE_DIR"};
    for (size_t i = 0; i < 2; i++) {
        const char *src = getenv(envs[i]);
        if (src != NULL && src[0] != '\0') {
            snprintf(buf, cap, "%s/data/rules/tests", src);
            if (is_dir(buf))
                return buf;
        }
    }
    return NULL;
}

static int cmd_test(const char *rules_dir, const char *cases_dir, int tz)
{
    char buf[RULES_PATH_MAX];
    if (cases_dir == NULL && (cases_dir = default_cases(buf, sizeof buf)) == NULL)
        return fg_cli_fail(CMD, "no golden cases found: give --cases DIR");
    struct fg_rules *r = load_set(rules_dir);
    if (r == NULL)
        return FG_CLI_EXIT_FAIL;
    struct fg_buf errors = FG_BUF_INIT(RULES_ERRORS_MAX);
    struct fg_golden_set *set = NULL;
    fg_rc rc = fg_golden_load_dir(cases_dir, &set, &errors);
    fputs(fg_buf_str(&errors), stdout);
    fg_buf_release(&errors);
    if (rc != FG_OK) {
        fg_rules_free(r);
        return fg_cli_fail(CMD, "golden cases in %s did not load (%s)", cases_dir, fg_rc_str(rc));
    }
    size_t failed = 0, uncovered = 0, n = fg_rules_count(r);
    rc = fg_golden_run(r, set, tz, print_result, NULL, &failed);
    struct fg_golden_cover *cov = calloc(n + 1, sizeof *cov);
    if (rc == FG_OK && cov != NULL) {
        fg_golden_coverage(r, set, cov);
        for (size_t i = 0; i < n; i++) {
            const char *id = fg_rules_info(r, i)->id;
            if (cov[i].positive == 0 && cov[i].negative == 0)
                printf("no golden case: %s\n", id);
            else if (cov[i].positive == 0)
                printf("no case that fires: %s\n", id);
            else if (cov[i].negative == 0)
                printf("no case that stays quiet: %s\n", id);
            else
                continue;
            uncovered++;
        }
    }
    printf("%zu cases, %zu failed; %zu rules, %zu without full coverage\n", set->n, failed, n,
           uncovered);
    free(cov);
    fg_golden_free(set);
    fg_rules_free(r);
    if (rc != FG_OK)
        return fg_cli_fail(CMD, "%s", fg_rc_str(rc));
    return failed > 0 || uncovered > 0 ? FG_CLI_EXIT_FAIL : FG_CLI_EXIT_OK;
}

static int cmd_list(const char *rules_dir)
{
    struct fg_rules *r = load_set(rules_dir);
    if (r == NULL)
        return FG_CLI_EXIT_FAIL;
    for (size_t i = 0; i < fg_rules_count(r); i++) {
        const struct fg_rule_info *info = fg_rules_info(r, i);
        printf("%-40s %-8s %-9s %s\n", info->id, fg_rule_level_name(info->level), info->kind,
               info->title);
    }
    fg_rules_free(r);
    return FG_CLI_EXIT_OK;
}

int fg_cli_cmd_rules(int argc, char **argv)
{
    if (argc < 2)
        return fg_cli_usage(CMD, "missing subcommand (check, test, list)");
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(rules_help, stdout);
            return FG_CLI_EXIT_OK;
        }
    const char *sub = argv[1];
    if (strcmp(sub, "check") == 0)
        return cmd_check(argc, argv);
    if (strcmp(sub, "test") != 0 && strcmp(sub, "list") != 0)
        return fg_cli_usage(CMD, "unknown subcommand '%s'", sub);
    const char *rules_dir = NULL, *cases_dir = NULL;
    int tz = RULES_DEFAULT_TZ;
    for (int i = 2; i < argc; i++) {
        if (i + 1 >= argc)
            return fg_cli_usage(CMD, "unknown option or missing value '%s'", argv[i]);
        if (strcmp(argv[i], "--rules") == 0)
            rules_dir = argv[++i];
        else if (strcmp(argv[i], "--cases") == 0 && strcmp(sub, "test") == 0)
            cases_dir = argv[++i];
        else if (strcmp(argv[i], "--tz-offset") == 0 && strcmp(sub, "test") == 0) {
            char *end = NULL;
            long v = strtol(argv[++i], &end, 10);
            if (*end != '\0' || v < -1440 || v > 1440)
                return fg_cli_usage(CMD, "--tz-offset: minutes between -1440 and 1440");
            tz = (int)v;
        } else
            return fg_cli_usage(CMD, "unknown option '%s'", argv[i]);
    }
    return strcmp(sub, "test") == 0 ? cmd_test(rules_dir, cases_dir, tz) : cmd_list(rules_dir);
}
