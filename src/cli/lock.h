/*
 * lock.h — one process at a time changes a data directory.
 *
 * `finguard serve` holds an exclusive flock on DATA_DIR/finguard.lock for its lifetime;
 * offline commands that change the instance (init, keys rotate/destroy) take the same lock
 * and refuse to run while a server holds it — the server keeps keys and the audit chain
 * head in memory and would not see their changes. Read-only commands (audit verify, keys
 * list) need no lock. The kernel drops the lock when the process exits, even on kill -9.
 */
#ifndef FG_CLI_LOCK_H
#define FG_CLI_LOCK_H

#include "base/rc.h"

/* FG_ERR_BUSY if another process holds it; *fd_out is kept open until fg_cli_unlock. */
FG_MUST_CHECK fg_rc fg_cli_lock_data_dir(const char *data_dir, int *fd_out);
void fg_cli_unlock(int fd);

#endif
