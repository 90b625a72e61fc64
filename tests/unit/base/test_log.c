/*
 * test_log.c — every line is valid JSON (checked with jansson), levels filter, secrets
 * and sensitive names are redacted, values are escaped, long lines are cut but stay
 * valid JSON, lines from many threads never interleave.
 */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "base/limits.h"
#include "base/log.h"
#include "base/time.h"

struct log_fixture {
    char dir[256];
    char path[512];
};

static int setup(void **state)
{
    struct log_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    fg_test_tmpdir("log", f->dir, sizeof f->dir);
    snprintf(f->path, sizeof f->path, "%s/finguard.log", f->dir);
    assert_int_equal(fg_log_open_file(f->path), FG_OK);
    fg_log_set_level(FG_LOG_DEBUG);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct log_fixture *f = *state;
    fg_log_close();
    fg_log_set_level(FG_LOG_INFO);
    fg_test_rmtree(f->dir);
    free(f);
    return 0;
}

/* Every line of the log parsed; aborts the test on a line that is not a JSON object. */
static size_t read_lines(struct log_fixture *f, json_t **out, size_t max)
{
    size_t len = 0;
    char *text = fg_test_read_file(f->path, &len);
    assert_non_null(text);
    size_t count = 0;
    char *line = text;
    while (*line != '\0') {
        char *nl = strchr(line, '\n');
        assert_non_null(nl); /* every line ends in a newline */
        assert_true((size_t)(nl - line) + 1 <= FG_LOG_LINE_MAX);
        *nl = '\0';
        json_error_t err;
        json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, &err);
        if (j == NULL)
            fail_msg("invalid JSON (%s): %s", err.text, line);
        assert_true(json_is_object(j));
        assert_true(count < max);
        out[count++] = j;
        line = nl + 1;
    }
    free(text);
    return count;
}

static void free_lines(json_t **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(lines[i]);
}

static const char *str_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_non_null(v);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void test_fields_and_header(void **state)
{
    struct log_fixture *f = *state;
    fg_log(FG_LOG_INFO, "http.listen", FG_LF_STR("addr", "127.0.0.1"), FG_LF_INT("port", 8443),
           FG_LF_DBL("ratio", 0.5), FG_LF_BOOL("tls", 1), FG_LF_INT("min", INT64_MIN),
           FG_LF_DBL("nan", NAN), FG_LF_DBL("inf", INFINITY), FG_LF_STR("none", NULL));
    fg_log(FG_LOG_ERROR, "no.fields");
    json_t *lines[4];
    size_t n = read_lines(f, lines, 4);
    assert_int_equal(n, 2);
    json_t *l = lines[0];
    int64_t ms;
    const char *when = str_of(l, "time");
    assert_int_equal(fg_time_parse_rfc3339(when, strlen(when), &ms), FG_OK);
    assert_in_range(ms, fg_time_wall_ms() - 60000, fg_time_wall_ms());
    assert_string_equal(str_of(l, "level"), "info");
    assert_string_equal(str_of(l, "event"), "http.listen");
    assert_string_equal(str_of(l, "addr"), "127.0.0.1");
    assert_int_equal(json_integer_value(json_object_get(l, "port")), 8443);
    assert_true(json_real_value(json_object_get(l, "ratio")) == 0.5);
    assert_true(json_is_true(json_object_get(l, "tls")));
    assert_true(json_integer_value(json_object_get(l, "min")) == INT64_MIN);
    assert_true(json_is_null(json_object_get(l, "nan")));
    assert_true(json_is_null(json_object_get(l, "inf")));
    assert_true(json_is_null(json_object_get(l, "none")));
    assert_null(json_object_get(l, "truncated"));
    assert_string_equal(str_of(lines[1], "level"), "error");
    assert_int_equal(json_object_size(lines[1]), 3);
    free_lines(lines, n);
}

static void test_level_filter(void **state)
{
    struct log_fixture *f = *state;
    fg_log_set_level(FG_LOG_WARN);
    assert_int_equal(fg_log_get_level(), FG_LOG_WARN);
    fg_log(FG_LOG_DEBUG, "dropped.debug");
    fg_log(FG_LOG_INFO, "dropped.info");
    fg_log(FG_LOG_WARN, "kept.warn");
    fg_log(FG_LOG_ERROR, "kept.error");
    json_t *lines[8];
    size_t n = read_lines(f, lines, 8);
    assert_int_equal(n, 2);
    assert_string_equal(str_of(lines[0], "level"), "warn");
    assert_string_equal(str_of(lines[1], "event"), "kept.error");
    free_lines(lines, n);
}

static void test_level_parse(void **state)
{
    (void)state;
    enum fg_log_level level;
    assert_int_equal(fg_log_level_parse("debug", &level), FG_OK);
    assert_int_equal(level, FG_LOG_DEBUG);
    assert_int_equal(fg_log_level_parse("warn", &level), FG_OK);
    assert_int_equal(level, FG_LOG_WARN);
    assert_int_equal(fg_log_level_parse("ERROR", &level), FG_OK);
    assert_int_equal(level, FG_LOG_ERROR);
    assert_int_equal(fg_log_level_parse("warning", &level), FG_ERR_INVALID);
    assert_int_equal(fg_log_level_parse("", &level), FG_ERR_INVALID);
}

static void test_redaction(void **state)
{
    struct log_fixture *f = *state;
    fg_log(FG_LOG_INFO, "user.login", FG_LF_STR("user", "alice"), FG_LF_SECRET("anything"),
           FG_LF_STR("password", "hunter2-PLAIN"), FG_LF_STR("API_Key", "AKIA-PLAIN"),
           FG_LF_STR("session_token", "tok-PLAIN"), FG_LF_INT("otp", 123456),
           FG_LF_STR("card_pan", "4111111111111111"), FG_LF_STR("cookie", "sid=PLAIN"),
           FG_LF_STR("Authorization", "Bearer PLAIN"), FG_LF_BOOL("share_ok", 1));
    json_t *lines[2];
    size_t n = read_lines(f, lines, 2);
    assert_int_equal(n, 1);
    json_t *l = lines[0];
    assert_string_equal(str_of(l, "user"), "alice");
    static const char *const redacted[] = {"anything",      "password",      "API_Key",
                                           "session_token", "otp",           "card_pan",
                                           "cookie",        "Authorization", "share_ok"};
    for (size_t i = 0; i < sizeof redacted / sizeof redacted[0]; i++)
        assert_string_equal(str_of(l, redacted[i]), "[redacted]");
    free_lines(lines, n);
    assert_int_equal(fg_test_file_count(f->path, "PLAIN", 5), 0);
    assert_int_equal(fg_test_file_count(f->path, "123456", 6), 0);
    assert_int_equal(fg_test_file_count(f->path, "4111", 4), 0);
}

static void test_sensitive_names(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "password",      "new_password", "client_secret", "token", "refresh_token",
        "otp",           "KEY",          "api_key",       "pan",   "id_number",
        "share",         "cvv",          "signature",     "nonce", "cookie",
        "authorization", "Set-Cookie",   "monkey" /* documented false positive */};
    static const char *const no[] = {"user", "user_id", "request_id", "amount_minor", "status",
                                     "path", "event",   "addr",       "port",         ""};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!fg_log_name_is_sensitive(yes[i]))
            fail_msg("not sensitive: %s", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (fg_log_name_is_sensitive(no[i]))
            fail_msg("sensitive: %s", no[i]);
    assert_false(fg_log_name_is_sensitive(NULL));
}

static void test_escaping(void **state)
{
    struct log_fixture *f = *state;
    const char *tricky = "q\"uote b\\ack\nnl\rcr\ttab \x01\x1f\x7f caf\xc3\xa9 \xe2\x82\xac "
                         "\xf0\x9f\x98\x80";
    fg_log(FG_LOG_INFO, "ev\"ent\n", FG_LF_STR("v", tricky), FG_LF_STR("k\"ey", "x"),
           FG_LF_STR("bad_utf8", "a\xff"
                                 "b\xc3"
                                 "c\xed\xa0\x80"
                                 "d\xc0\xaf"));
    json_t *lines[2];
    size_t n = read_lines(f, lines, 2);
    assert_int_equal(n, 1);
    assert_string_equal(str_of(lines[0], "event"), "ev\"ent\n");
    assert_string_equal(str_of(lines[0], "v"), tricky);
    assert_string_equal(str_of(lines[0], "k\"ey"), "x");
    /* invalid bytes (stray, truncated, surrogate, overlong) became U+FFFD */
    assert_string_equal(str_of(lines[0], "bad_utf8"), "a\xef\xbf\xbd"
                                                      "b\xef\xbf\xbd"
                                                      "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                                                      "d\xef\xbf\xbd\xef\xbf\xbd");
    free_lines(lines, n);
    /* the raw line has no literal control characters */
    assert_int_equal(fg_test_file_count(f->path, "\t", 1), 0);
    assert_int_equal(fg_test_file_count(f->path, "\x01", 1), 0);
    assert_int_equal(fg_test_file_count(f->path, "\n", 1), 1);
}

static void check_truncated(struct log_fixture *f, const char *key, const char *unit)
{
    json_t *lines[2];
    size_t n = read_lines(f, lines, 2);
    assert_int_equal(n, 1);
    json_t *l = lines[0];
    assert_true(json_is_true(json_object_get(l, "truncated")));
    if (key != NULL) {
        const char *v = str_of(l, key);
        size_t ul = strlen(unit);
        assert_true(strlen(v) > 600);        /* most of the line was used */
        assert_int_equal(strlen(v) % ul, 0); /* cut between characters */
        for (size_t i = 0; v[i] != '\0'; i += ul)
            assert_memory_equal(v + i, unit, ul);
    }
    assert_string_equal(str_of(l, "event"), "big");
    assert_null(json_object_get(l, "after")); /* nothing after the cut */
    free_lines(lines, n);
}

static void log_repeated(const char *unit, size_t count)
{
    size_t ul = strlen(unit);
    char *v = malloc(ul * count + 1);
    assert_non_null(v);
    for (size_t i = 0; i < count; i++)
        memcpy(v + i * ul, unit, ul);
    v[ul * count] = '\0';
    fg_log(FG_LOG_INFO, "big", FG_LF_INT("before", 1), FG_LF_STR("value", v),
           FG_LF_STR("after", "x"));
    free(v);
}

static void test_truncation_ascii(void **state)
{
    struct log_fixture *f = *state;
    log_repeated("a", 10000);
    check_truncated(f, "value", "a");
}

static void test_truncation_escapes(void **state)
{
    struct log_fixture *f = *state;
    log_repeated("\"", 5000); /* two bytes each on the line */
    check_truncated(f, "value", "\"");
}

static void test_truncation_control(void **state)
{
    struct log_fixture *f = *state;
    log_repeated("\x01", 5000); /* six bytes each */
    check_truncated(f, "value", "\x01");
}

static void test_truncation_utf8(void **state)
{
    struct log_fixture *f = *state;
    log_repeated("\xf0\x9f\x98\x80", 3000); /* never cut inside a character */
    check_truncated(f, "value", "\xf0\x9f\x98\x80");
}

static void test_truncation_exact_sizes(void **state)
{
    struct log_fixture *f = *state;
    /* every length around the limit: each line valid, at most FG_LOG_LINE_MAX bytes */
    char *v = malloc(FG_LOG_LINE_MAX + 1);
    assert_non_null(v);
    for (size_t len = FG_LOG_LINE_MAX - 120; len <= FG_LOG_LINE_MAX; len++) {
        memset(v, 'z', len);
        v[len] = '\0';
        fg_log(FG_LOG_INFO, "edge", FG_LF_STR("value", v), FG_LF_INT("n", 7));
    }
    free(v);
    json_t *lines[200];
    size_t n = read_lines(f, lines, 200);
    assert_int_equal(n, 121);
    free_lines(lines, n);
}

static void test_truncation_many_fields(void **state)
{
    struct log_fixture *f = *state;
    char name[4100];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    /* a key that cannot fit is dropped whole (a cut key would leave no value) */
    fg_log(FG_LOG_INFO, "big", FG_LF_INT("before", 1), FG_LF_STR(name, "v"),
           FG_LF_STR("after", "x"));
    check_truncated(f, NULL, NULL);
}

static void test_open_file_errors_and_mode(void **state)
{
    struct log_fixture *f = *state;
    assert_int_equal(fg_log_open_file("/nonexistent-dir/x/y.log"), FG_ERR_IO);
    fg_log(FG_LOG_INFO, "still.here"); /* the previous file stays in use */
    json_t *lines[2];
    size_t n = read_lines(f, lines, 2);
    assert_int_equal(n, 1);
    free_lines(lines, n);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

#define LOG_THREADS 8
#define LOG_PER_THREAD 300

static void *log_worker(void *arg)
{
    long id = (long)(intptr_t)arg;
    char filler[900];
    memset(filler, 'a' + (int)id, sizeof filler - 1);
    filler[sizeof filler - 1] = '\0';
    for (int i = 0; i < LOG_PER_THREAD; i++)
        fg_log(FG_LOG_INFO, "thread.line", FG_LF_INT("thread", id), FG_LF_INT("i", i),
               FG_LF_STR("filler", filler));
    return NULL;
}

static void test_threads_no_interleaving(void **state)
{
    struct log_fixture *f = *state;
    pthread_t t[LOG_THREADS];
    for (long i = 0; i < LOG_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, log_worker, (void *)(intptr_t)i), 0);
    for (int i = 0; i < LOG_THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    static json_t *lines[LOG_THREADS * LOG_PER_THREAD + 1];
    size_t n = read_lines(f, lines, LOG_THREADS * LOG_PER_THREAD + 1);
    assert_int_equal(n, LOG_THREADS * LOG_PER_THREAD);
    int seen[LOG_THREADS] = {0};
    for (size_t i = 0; i < n; i++) {
        json_int_t id = json_integer_value(json_object_get(lines[i], "thread"));
        assert_in_range(id, 0, LOG_THREADS - 1);
        assert_int_equal(json_integer_value(json_object_get(lines[i], "i")), seen[id]++);
    }
    free_lines(lines, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fields_and_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_filter, setup, teardown),
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test_setup_teardown(test_redaction, setup, teardown),
        cmocka_unit_test(test_sensitive_names),
        cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation_ascii, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation_control, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation_exact_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation_many_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_file_errors_and_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_no_interleaving, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
