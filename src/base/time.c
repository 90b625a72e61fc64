/*
 * time.c — clocks (see time.h).
 *
 * Monotonic time is CLOCK_MONOTONIC in nanoseconds. Wall time is CLOCK_REALTIME plus a
 * process-wide offset in seconds kept in an _Atomic int64_t, so tests and drills can move
 * "now" forward without sleeping and every thread sees the change at once.
 *
 * RFC 3339 formatting splits the millisecond timestamp with floor division (so times
 * before 1970 work), converts with gmtime_r and writes the digits by hand into the fixed
 * 24-character layout; years outside 0000..9999 cannot be written in that layout and are
 * clamped to its first / last instant. Parsing is strict: exactly
 * "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DDTHH:MM:SS.fffZ" (upper-case T and Z, three
 * fraction digits, no offsets other than Z, no leap second), every field range-checked
 * including the days of the month in leap and common years, then converted with timegm.
 * Every accepted string is canonical, so format(parse(s)) == s for the long form.
 */
#include "base/time.h"

#include <assert.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* Offsets beyond ±10 000 years are a bug, and would overflow the millisecond math. */
#define TIME_OFFSET_S_LIMIT (10000LL * 366 * 24 * 3600)
/* The instants the fixed layout can express: 0000-01-01T00:00:00.000Z and
 * 9999-12-31T23:59:59.999Z. */
#define TIME_RFC3339_MIN_MS (-62167219200000LL)
#define TIME_RFC3339_MAX_MS (253402300799999LL)

static _Atomic int64_t time_offset_s;

uint64_t fg_time_mono_ns(void)
{
    struct timespec ts;
    int rc = clock_gettime(CLOCK_MONOTONIC, &ts);
    assert(rc == 0);
    (void)rc;
    assert(ts.tv_sec >= 0);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t fg_time_wall_ms(void)
{
    struct timespec ts;
    int rc = clock_gettime(CLOCK_REALTIME, &ts);
    assert(rc == 0);
    (void)rc;
    int64_t offset_s = atomic_load(&time_offset_s);
    return ((int64_t)ts.tv_sec + offset_s) * 1000 + (int64_t)(ts.tv_nsec / 1000000);
}

int64_t fg_time_wall_s(void)
{
    struct timespec ts;
    int rc = clock_gettime(CLOCK_REALTIME, &ts);
    assert(rc == 0);
    (void)rc;
    return (int64_t)ts.tv_sec + atomic_load(&time_offset_s);
}

void fg_time_set_offset_s(int64_t offset_s)
{
    assert(offset_s > -TIME_OFFSET_S_LIMIT && offset_s < TIME_OFFSET_S_LIMIT);
    atomic_store(&time_offset_s, offset_s);
}

int64_t fg_time_offset_s(void)
{
    return atomic_load(&time_offset_s);
}

static void put_digits(char *out, int value, int width)
{
    assert(value >= 0);
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + value % 10);
        value /= 10;
    }
    assert(value == 0);
}

void fg_time_format_rfc3339(int64_t unix_ms, char out[FG_TIME_RFC3339_LEN])
{
    assert(out != NULL);
    if (unix_ms < TIME_RFC3339_MIN_MS)
        unix_ms = TIME_RFC3339_MIN_MS;
    if (unix_ms > TIME_RFC3339_MAX_MS)
        unix_ms = TIME_RFC3339_MAX_MS;

    int64_t secs = unix_ms / 1000;
    int64_t ms = unix_ms % 1000;
    if (ms < 0) { /* floor division: -1 ms is 1969-12-31T23:59:59.999Z */
        ms += 1000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    struct tm *ok = gmtime_r(&t, &tm);
    assert(ok != NULL);
    (void)ok;
    assert(tm.tm_year + 1900 >= 0 && tm.tm_year + 1900 <= 9999);

    memcpy(out, "0000-00-00T00:00:00.000Z", FG_TIME_RFC3339_LEN);
    put_digits(out, tm.tm_year + 1900, 4);
    put_digits(out + 5, tm.tm_mon + 1, 2);
    put_digits(out + 8, tm.tm_mday, 2);
    put_digits(out + 11, tm.tm_hour, 2);
    put_digits(out + 14, tm.tm_min, 2);
    put_digits(out + 17, tm.tm_sec, 2);
    put_digits(out + 20, (int)ms, 3);
    assert(out[FG_TIME_RFC3339_LEN - 1] == '\0');
}

/* n decimal digits at s → *value; 0 if any is not a digit. */
static int get_digits(const char *s, int n, int *value)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *value = v;
    return 1;
}

static int is_leap_year(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    assert(month >= 1 && month <= 12);
    return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

fg_rc fg_time_parse_rfc3339(const char *s, size_t n, int64_t *unix_ms)
{
    assert(s != NULL || n == 0);
    assert(unix_ms != NULL);
    /* "YYYY-MM-DDTHH:MM:SSZ" is 20 bytes, with ".fff" 24. */
    if (n != 20 && n != 24)
        return FG_ERR_INVALID;
    if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[n - 1] != 'Z')
        return FG_ERR_INVALID;
    if (n == 24 && s[19] != '.')
        return FG_ERR_INVALID;

    int year, month, day, hour, minute, second, ms = 0;
    if (!get_digits(s, 4, &year) || !get_digits(s + 5, 2, &month) || !get_digits(s + 8, 2, &day) ||
        !get_digits(s + 11, 2, &hour) || !get_digits(s + 14, 2, &minute) ||
        !get_digits(s + 17, 2, &second))
        return FG_ERR_INVALID;
    if (n == 24 && !get_digits(s + 20, 3, &ms))
        return FG_ERR_INVALID;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
        return FG_ERR_INVALID;
    if (hour > 23 || minute > 59 || second > 59)
        return FG_ERR_INVALID;

    struct tm tm = {0};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    time_t t = timegm(&tm);
    /* All fields were in range, so timegm did not normalise anything; -1 is also the
     * legitimate 1969-12-31T23:59:59Z, hence the check on the fields, not on t. */
    if (tm.tm_mday != day || tm.tm_mon != month - 1)
        return FG_ERR_INVALID;
    *unix_ms = (int64_t)t * 1000 + ms;
    assert(*unix_ms >= TIME_RFC3339_MIN_MS && *unix_ms <= TIME_RFC3339_MAX_MS);
    return FG_OK;
}
