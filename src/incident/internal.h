/*
 * internal.h — helpers shared by the incident module's files (not a public API): ids, text
 * checks and copying result columns.
 */
#ifndef FG_INCIDENT_INTERNAL_H
#define FG_INCIDENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/rc.h"
#include "store/store.h"

/* A new id: prefix (4 characters, "alr_" / "inc_") + 22 base64url characters, without a
 * digit run long enough for the event redactor to take it for a card number. out holds
 * 27 bytes. */
FG_MUST_CHECK fg_rc fg_inc_new_id(const char *prefix, char out[27]);
/* prefix + 22 base64url characters. */
int fg_inc_id_ok(const char *prefix, const char *s);
/* NULL → "" ; 1 if s is at most max bytes of valid UTF-8 without control characters other
 * than \n and \t (multi_line) — 0 otherwise. */
int fg_inc_text_ok(const char *s, size_t max, int multi_line);
/* 1 if s is 1..max of [a-z0-9_.-]. */
int fg_inc_name_ok(const char *s, size_t max);
/* Printable ASCII without spaces, 1..max. */
int fg_inc_token_ok(const char *s, size_t max);
/* Copy a TEXT column into out[cap] (NUL-terminated, truncated to fit); NULL → "". */
void fg_inc_col_text(const struct fg_val *v, char *out, size_t cap);
/* An INTEGER column, NULL → 0. */
int64_t fg_inc_col_int(const struct fg_val *v);
/* Append s[0..n) as a quoted JSON string. */
FG_MUST_CHECK fg_rc fg_inc_json_str(struct fg_buf *b, const char *s, size_t n);
/* Append ,"name":"RFC3339" or ,"name":null for 0. */
FG_MUST_CHECK fg_rc fg_inc_json_time(struct fg_buf *b, const char *name, int64_t ms);
/* Row callback storing the first column of the first row as an int64 (ctx: int64_t *,
 * preset by the caller). */
fg_rc fg_inc_row_int(void *ctx, const struct fg_val *cols, int ncols);

#endif
