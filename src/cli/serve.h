/*
 * serve.h — `finguard serve` and the configuration loading every command shares.
 */
#ifndef FG_CLI_SERVE_H
#define FG_CLI_SERVE_H

#include "base/buf.h"
#include "base/config.h"

/* Defaults → file (if not NULL) → FINGUARD_* env → --set overrides → validation.
 * Returns 0 when valid; errors appended (one per line). */
int fg_cli_load_config(struct fg_config *cfg, const char *file, const char *const *sets, int nsets,
                       struct fg_buf *errors);

/* config.changed (cli/config_event.c; docs/events.md): compare the effective configuration
 * with the digests recorded in config_state and, when it differs, record and announce the
 * changed setting names in one audited write. Runs now when the audit log is armed, else at
 * the first unseal. Errors are logged, never fatal. Main thread, at start-up; cfg, sys and
 * store must outlive the server. */
struct fg_sys;
struct fg_store;
void fg_cli_config_event_start(const struct fg_config *cfg, struct fg_sys *sys,
                               struct fg_store *store);

/* argv[0] == "serve". Exit code. */
int fg_cli_serve(int argc, char **argv);

#endif
