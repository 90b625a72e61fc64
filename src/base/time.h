/*
 * time.h — clocks.
 *
 * Monotonic time measures durations (latency, timeouts, windows); wall time stamps
 * records (UTC). Wall time is *injectable*: tests and drills shift it with
 * fg_time_set_offset_s() (lockouts of 30 minutes, incident deadlines of 72 hours) without
 * sleeping. The offset is process-wide and atomic. Production never sets it.
 */
#ifndef FG_BASE_TIME_H
#define FG_BASE_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"

uint64_t fg_time_mono_ns(void);      /* CLOCK_MONOTONIC, nanoseconds */
int64_t fg_time_wall_ms(void);       /* Unix milliseconds, plus the injected offset */
int64_t fg_time_wall_s(void);        /* Unix seconds, plus the injected offset */
void fg_time_set_offset_s(int64_t offset_s);
int64_t fg_time_offset_s(void);

/* RFC 3339 UTC with milliseconds: "2026-11-21T12:34:56.789Z" (24 chars + NUL). */
#define FG_TIME_RFC3339_LEN 25
void fg_time_format_rfc3339(int64_t unix_ms, char out[FG_TIME_RFC3339_LEN]);
/* Parse "YYYY-MM-DDTHH:MM:SS[.fff]Z" (UTC only); FG_ERR_INVALID otherwise. */
FG_MUST_CHECK fg_rc fg_time_parse_rfc3339(const char *s, size_t n, int64_t *unix_ms);

#endif
