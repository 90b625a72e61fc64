/*
 * fault.h — a fault-injecting store backend for tests (SQLite's test6.c in spirit).
 *
 * fg_store_fault_ops(inner) returns ops that forward every call to `inner`, counting
 * them; a plan makes the N-th call of a kind fail with a chosen error, or makes every
 * write fail with FG_ERR_DISK_FULL as a full disk would. One plan per process (tests are
 * single-plan); set/clear are thread-safe.
 */
#ifndef FG_STORE_FAULT_H
#define FG_STORE_FAULT_H

#include "store/store.h"

enum fg_fault_call {
    FG_FAULT_ANY = 0, /* count every call */
    FG_FAULT_OPEN, FG_FAULT_EXEC, FG_FAULT_BEGIN, FG_FAULT_COMMIT, FG_FAULT_SAVEPOINT,
    FG_FAULT_RELEASE, FG_FAULT_ROLLBACK,
};

const struct fg_store_ops *fg_store_fault_ops(const struct fg_store_ops *inner);

/* Fail the nth (1-based, counted from now) call of `kind` with rc; later calls succeed. */
void fg_store_fault_fail_nth(enum fg_fault_call kind, unsigned long nth, fg_rc rc);
/* While on, every exec that writes and every commit fail with FG_ERR_DISK_FULL. */
void fg_store_fault_disk_full(int on);
/* Forget the plan and reset the counters. */
void fg_store_fault_clear(void);
/* Calls of `kind` seen since the last clear. */
unsigned long fg_store_fault_calls(enum fg_fault_call kind);

#endif
