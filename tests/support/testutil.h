/*
 * testutil.h — helpers shared by unit and end-to-end tests.
 *
 * Every test gets a fresh temporary directory under $TMPDIR (default /tmp) named after
 * the test; it is removed when the test passes and kept (path printed) when it fails,
 * so a failure can be inspected.
 */
#ifndef FG_TESTS_TESTUTIL_H
#define FG_TESTS_TESTUTIL_H

#include <stddef.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* mkdtemp under $TMPDIR; path written to out (size ≥ 256). Aborts the test on failure. */
void fg_test_tmpdir(const char *prefix, char *out, size_t out_size);
/* rm -rf path (refuses anything not under the temp root). */
void fg_test_rmtree(const char *path);
/* Read a whole file (NUL-terminated, caller frees); NULL if missing. */
char *fg_test_read_file(const char *path, size_t *len_out);
/* Count of occurrences of needle (binary-safe) in the file; -1 if unreadable. */
long fg_test_file_count(const char *path, const void *needle, size_t needle_len);
/* Source tree root (FINGUARD_SOURCE_DIR, set by ctest). */
const char *fg_test_source_dir(void);

#endif
