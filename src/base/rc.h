/*
 * rc.h — the one error enum of finguard.
 *
 * Every function that can fail returns an fg_rc and hands its results back through
 * out-parameters. The enum only grows: a code, once released, keeps its number and
 * meaning (logs, metrics and tests refer to it). FG_OK is 0 so `if (rc)` reads as
 * "if it failed". fg_rc_str() gives a short, stable, human message that never
 * contains caller data, so it is safe to log and to send to clients.
 *
 * Mapping to HTTP lives in http/ (a service never knows about HTTP).
 */
#ifndef FG_BASE_RC_H
#define FG_BASE_RC_H

#define FG_MUST_CHECK __attribute__((warn_unused_result))

typedef enum fg_rc {
    FG_OK = 0,                 /* success */
    FG_ERR_NOMEM = 1,          /* an allocation failed */
    FG_ERR_INVALID = 2,        /* input is malformed, of the wrong type or out of range */
    FG_ERR_LIMIT = 3,          /* a named limit (limits.h) would be exceeded */
    FG_ERR_NOT_FOUND = 4,      /* the object does not exist (or is not visible) */
    FG_ERR_CONFLICT = 5,       /* state conflict: exists already, reused key, wrong state */
    FG_ERR_IO = 6,             /* a file or socket operation failed */
    FG_ERR_STORE = 7,          /* the database reported an error */
    FG_ERR_BUSY = 8,           /* a bounded queue or pool is full: try again later */
    FG_ERR_DISK_FULL = 9,      /* the database or a file could not grow */
    FG_ERR_CONFIG = 10,        /* configuration is invalid */
    FG_ERR_SHUTDOWN = 11,      /* the component is stopping and takes no new work */
    FG_ERR_PERMISSION = 12,    /* authenticated but not allowed */
    FG_ERR_UNAUTHENTICATED = 13, /* no or invalid credentials */
    FG_ERR_SEALED = 14,        /* keys are sealed */
    FG_ERR_POLICY = 15,        /* refused by policy (limits, password rules, funds) */
    FG_ERR_LOCKED = 16,        /* the user is locked */
    FG_ERR_RATE_LIMITED = 17,  /* too many requests from this source */
    FG_ERR_CRYPTO = 18,        /* a cryptographic operation failed (bad tag, bad key) */
    FG_ERR_INTERNAL = 19,      /* an invariant broke; a bug, logged with context */
    FG_ERR_TOO_LARGE = 20,     /* a body or field is larger than its limit */
    FG_ERR_UNSUPPORTED = 21,   /* method, media type or feature not supported */
    FG_ERR_CORRUPT = 22,       /* stored data failed an integrity check */
    FG_ERR_TIMEOUT = 23,       /* an operation did not finish in its time */
    FG_RC_COUNT_               /* not a code: one past the last */
} fg_rc;

/* A short message for rc; never NULL, never contains caller data. */
const char *fg_rc_str(fg_rc rc);

/* The stable identifier of rc ("FG_ERR_LIMIT"), for logs and metrics. */
const char *fg_rc_name(fg_rc rc);

#endif
