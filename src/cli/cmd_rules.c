/*
 * cmd_rules.c — issue #6 (placeholder until its owner fills it).
 */
#include <stdio.h>

#include "cli/commands.h"

int fg_cli_cmd_rules(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("finguard rules: not built yet\n", stderr);
    return 2;
}
