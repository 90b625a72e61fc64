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

/* argv[0] == "serve". Exit code. */
int fg_cli_serve(int argc, char **argv);

#endif
