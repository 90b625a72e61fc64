/*
 * lock.c — flock(LOCK_EX | LOCK_NB) on DATA_DIR/finguard.lock (see lock.h).
 */
#include "cli/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/limits.h"

fg_rc fg_cli_lock_data_dir(const char *data_dir, int *fd_out)
{
    char path[FG_PATH_MAX];
    if (snprintf(path, sizeof path, "%s/finguard.lock", data_dir) >= (int)sizeof path)
        return FG_ERR_LIMIT;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return FG_ERR_IO;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        close(fd);
        return busy ? FG_ERR_BUSY : FG_ERR_IO;
    }
    *fd_out = fd;
    return FG_OK;
}

void fg_cli_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}
