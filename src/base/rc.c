/*
 * rc.c — messages for fg_rc. A table indexed by the code; a code without an entry is a
 * build error in the unit test (test_rc checks every code has both strings).
 */
#include "base/rc.h"

#include <stddef.h>

static const struct {
    const char *name;
    const char *message;
} rc_table[FG_RC_COUNT_] = {
    [FG_OK] = {"FG_OK", "ok"},
    [FG_ERR_NOMEM] = {"FG_ERR_NOMEM", "out of memory"},
    [FG_ERR_INVALID] = {"FG_ERR_INVALID", "invalid argument"},
    [FG_ERR_LIMIT] = {"FG_ERR_LIMIT", "limit exceeded"},
    [FG_ERR_NOT_FOUND] = {"FG_ERR_NOT_FOUND", "not found"},
    [FG_ERR_CONFLICT] = {"FG_ERR_CONFLICT", "conflict"},
    [FG_ERR_IO] = {"FG_ERR_IO", "input/output error"},
    [FG_ERR_STORE] = {"FG_ERR_STORE", "storage error"},
    [FG_ERR_BUSY] = {"FG_ERR_BUSY", "busy, try again later"},
    [FG_ERR_DISK_FULL] = {"FG_ERR_DISK_FULL", "disk full"},
    [FG_ERR_CONFIG] = {"FG_ERR_CONFIG", "invalid configuration"},
    [FG_ERR_SHUTDOWN] = {"FG_ERR_SHUTDOWN", "shutting down"},
    [FG_ERR_PERMISSION] = {"FG_ERR_PERMISSION", "permission denied"},
    [FG_ERR_UNAUTHENTICATED] = {"FG_ERR_UNAUTHENTICATED", "unauthenticated"},
    [FG_ERR_SEALED] = {"FG_ERR_SEALED", "sealed"},
    [FG_ERR_POLICY] = {"FG_ERR_POLICY", "refused by policy"},
    [FG_ERR_LOCKED] = {"FG_ERR_LOCKED", "locked"},
    [FG_ERR_RATE_LIMITED] = {"FG_ERR_RATE_LIMITED", "rate limited"},
    [FG_ERR_CRYPTO] = {"FG_ERR_CRYPTO", "cryptographic failure"},
    [FG_ERR_INTERNAL] = {"FG_ERR_INTERNAL", "internal error"},
    [FG_ERR_TOO_LARGE] = {"FG_ERR_TOO_LARGE", "too large"},
    [FG_ERR_UNSUPPORTED] = {"FG_ERR_UNSUPPORTED", "not supported"},
    [FG_ERR_CORRUPT] = {"FG_ERR_CORRUPT", "integrity check failed"},
    [FG_ERR_TIMEOUT] = {"FG_ERR_TIMEOUT", "timed out"},
};

const char *fg_rc_str(fg_rc rc)
{
    if ((unsigned)rc >= FG_RC_COUNT_ || rc_table[rc].message == NULL)
        return "unknown error";
    return rc_table[rc].message;
}

const char *fg_rc_name(fg_rc rc)
{
    if ((unsigned)rc >= FG_RC_COUNT_ || rc_table[rc].name == NULL)
        return "FG_ERR_UNKNOWN";
    return rc_table[rc].name;
}
