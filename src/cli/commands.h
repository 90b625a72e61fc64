/*
 * commands.h — the entry points of finguard's sub-commands other than `serve` (serve.h).
 * Each takes its argv with argv[0] == the command's name, handles --help, and returns the
 * process exit code (common.h: 0 ok, 1 failure or refusal, 2 usage error). docs/cli.md
 * documents them for operators.
 *
 *   init          (cmd_init.c)    offline: initialise DATA_DIR, print the unseal shares once
 *   unseal        (cmd_unseal.c)  online: shares from stdin to a running server
 *   audit verify  (cmd_audit.c)   offline or beside a server: verify the audit chain
 *   keys list | rotate | destroy (cmd_keys.c)  offline key management
 */
#ifndef FG_CLI_COMMANDS_H
#define FG_CLI_COMMANDS_H

int fg_cli_cmd_init(int argc, char **argv);
int fg_cli_cmd_unseal(int argc, char **argv);
int fg_cli_cmd_audit(int argc, char **argv);
int fg_cli_cmd_keys(int argc, char **argv);
int fg_cli_cmd_ledger(int argc, char **argv); /* ledger check (cmd_ledger.c): prove the books */
/* finguard routes: the route table and each route's permission. */
int fg_cli_cmd_routes(int argc, char **argv);
/* issue #6 */
int fg_cli_cmd_rules(int argc, char **argv);     /* rules check | test | list (cmd_rules.c) */
int fg_cli_cmd_events(int argc, char **argv);    /* events replay (cmd_events.c) */
int fg_cli_cmd_alerts(int argc, char **argv);    /* alerts list (cmd_alerts.c) */
int fg_cli_cmd_incidents(int argc, char **argv); /* incidents list | export (cmd_incidents.c) */

#endif
