/*
 * test_time.c — clocks, RFC 3339 format/parse round trip, leap years, strict rejection,
 * wall-clock offset injection.
 */
#include "testutil.h"

#include <string.h>

#include "base/time.h"

static int64_t parse_ok(const char *s)
{
    int64_t ms = 0;
    assert_int_equal(fg_time_parse_rfc3339(s, strlen(s), &ms), FG_OK);
    return ms;
}

static void assert_rejected(const char *s)
{
    int64_t ms = 42;
    if (fg_time_parse_rfc3339(s, strlen(s), &ms) != FG_ERR_INVALID)
        fail_msg("accepted: \"%s\"", s);
    assert_int_equal(ms, 42); /* output untouched */
}

static void test_format_known(void **state)
{
    (void)state;
    char out[FG_TIME_RFC3339_LEN];
    fg_time_format_rfc3339(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    fg_time_format_rfc3339(1700000000123, out);
    assert_string_equal(out, "2023-11-14T22:13:20.123Z");
    fg_time_format_rfc3339(-1, out);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    fg_time_format_rfc3339(951782400000, out); /* leap day in a century year */
    assert_string_equal(out, "2000-02-29T00:00:00.000Z");
    /* out of the layout's range: clamped, never garbage */
    fg_time_format_rfc3339(INT64_MAX, out);
    assert_string_equal(out, "9999-12-31T23:59:59.999Z");
    fg_time_format_rfc3339(INT64_MIN, out);
    assert_string_equal(out, "0000-01-01T00:00:00.000Z");
    assert_int_equal(strlen(out), FG_TIME_RFC3339_LEN - 1);
}

static void test_parse_known(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_ok("1970-01-01T00:00:00.000Z"), 0);
    assert_int_equal(parse_ok("2023-11-14T22:13:20.123Z"), 1700000000123);
    assert_int_equal(parse_ok("1969-12-31T23:59:59Z"), -1000);
    assert_int_equal(parse_ok("1969-12-31T23:59:59.999Z"), -1);
    assert_int_equal(parse_ok("0000-01-01T00:00:00.000Z"), -62167219200000LL);
    assert_int_equal(parse_ok("9999-12-31T23:59:59.999Z"), 253402300799999LL);
    /* not NUL-terminated: only n bytes are read */
    int64_t ms = 0;
    const char buf[] = "2023-11-14T22:13:20ZXXXX";
    assert_int_equal(fg_time_parse_rfc3339(buf, 20, &ms), FG_OK);
    assert_int_equal(ms, 1700000000000);
}

static void test_leap_years(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2024-02-29T12:00:00Z") - parse_ok("2024-02-28T12:00:00Z"), 86400000);
    assert_int_equal(parse_ok("2024-03-01T00:00:00Z") - parse_ok("2024-02-29T00:00:00Z"), 86400000);
    parse_ok("2000-02-29T00:00:00Z"); /* divisible by 400 */
    assert_rejected("2023-02-29T00:00:00Z");
    assert_rejected("1900-02-29T00:00:00Z"); /* divisible by 100, not 400 */
    assert_rejected("2100-02-29T00:00:00Z");
    assert_rejected("2024-02-30T00:00:00Z");
    assert_rejected("2024-04-31T00:00:00Z");
    assert_rejected("2024-06-31T00:00:00Z");
    assert_rejected("2024-09-31T00:00:00Z");
    assert_rejected("2024-11-31T00:00:00Z");
    parse_ok("2024-12-31T00:00:00Z");
    parse_ok("2024-01-31T00:00:00Z");
}

static void test_rejects_bad_input(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2024",
        "2024-01-01",
        "2024-01-01T00:00:00",       /* no zone */
        "2024-01-01T00:00:00+00:00", /* offsets other than Z */
        "2024-01-01t00:00:00Z",      /* lower-case t */
        "2024-01-01T00:00:00z",      /* lower-case z */
        "2024-01-01 00:00:00Z",      /* space separator */
        "2024-01-01T00:00:00.1Z",    /* one fraction digit */
        "2024-01-01T00:00:00.12Z",
        "2024-01-01T00:00:00.1234Z",
        "2024-01-01T00:00:00.123456Z",
        "2024-01-01T00:00:00,123Z",
        "2024-01-01T00:00:00.12aZ",
        "2024-13-01T00:00:00Z",
        "2024-00-01T00:00:00Z",
        "2024-01-00T00:00:00Z",
        "2024-01-32T00:00:00Z",
        "2024-01-01T24:00:00Z",
        "2024-01-01T23:60:00Z",
        "2024-01-01T23:59:60Z", /* no leap seconds */
        "2024-1-01T00:00:00Z0",
        "+024-01-01T00:00:00Z",
        "-024-01-01T00:00:00Z",
        "2024-01-01T00:00:00ZZ",
        "2024-01-01T00:00:00Z ",
        " 2024-01-01T00:00:00Z",
        "20240101T000000Z",
        "2024/01/01T00:00:00Z",
        "2024-01-01T00-00-00Z",
        "2024-01-01T00:00:00.000ZZZZ",
        "2024-0x-01T00:00:00Z",
        "2024-01-01T0 :00:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_rejected(bad[i]);
    int64_t ms;
    assert_int_equal(fg_time_parse_rfc3339("2024-01-01T00:00:00\0", 20, &ms), FG_ERR_INVALID);
    assert_int_equal(fg_time_parse_rfc3339(NULL, 0, &ms), FG_ERR_INVALID);
}

static void test_round_trip(void **state)
{
    (void)state;
    /* a deterministic spread over the whole range, including negative times */
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t span = 253402300799999LL + 62167219200000LL + 1;
        int64_t ms = (int64_t)(x % (uint64_t)span) - 62167219200000LL;
        char out[FG_TIME_RFC3339_LEN];
        fg_time_format_rfc3339(ms, out);
        int64_t back = 0;
        assert_int_equal(fg_time_parse_rfc3339(out, strlen(out), &back), FG_OK);
        assert_int_equal(back, ms);
    }
}

static void test_offset_injection(void **state)
{
    (void)state;
    assert_int_equal(fg_time_offset_s(), 0);
    int64_t before_s = fg_time_wall_s();
    int64_t before_ms = fg_time_wall_ms();
    fg_time_set_offset_s(72 * 3600); /* an incident deadline, without sleeping */
    assert_int_equal(fg_time_offset_s(), 72 * 3600);
    int64_t after_s = fg_time_wall_s();
    int64_t after_ms = fg_time_wall_ms();
    assert_in_range(after_s - before_s, 72 * 3600, 72 * 3600 + 5);
    assert_in_range(after_ms - before_ms, 72 * 3600 * 1000LL, 72 * 3600 * 1000LL + 5000);
    fg_time_set_offset_s(-30 * 60);
    assert_in_range(before_s - fg_time_wall_s(), 30 * 60 - 5, 30 * 60);
    fg_time_set_offset_s(0);
    assert_int_equal(fg_time_offset_s(), 0);
    /* wall_ms and wall_s agree */
    int64_t s = fg_time_wall_s();
    int64_t ms = fg_time_wall_ms();
    assert_in_range(ms / 1000 - s, 0, 1);
}

static void test_monotonic(void **state)
{
    (void)state;
    uint64_t prev = fg_time_mono_ns();
    assert_true(prev > 0);
    for (int i = 0; i < 1000; i++) {
        uint64_t now = fg_time_mono_ns();
        assert_true(now >= prev);
        prev = now;
    }
    fg_time_set_offset_s(3600); /* the offset never moves the monotonic clock */
    uint64_t later = fg_time_mono_ns();
    assert_true(later >= prev && later - prev < 1000000000u);
    fg_time_set_offset_s(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_known), cmocka_unit_test(test_parse_known),
        cmocka_unit_test(test_leap_years),   cmocka_unit_test(test_rejects_bad_input),
        cmocka_unit_test(test_round_trip),   cmocka_unit_test(test_offset_injection),
        cmocka_unit_test(test_monotonic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
