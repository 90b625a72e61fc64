/* Unit tests for http/json.c: body limits and field validation. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "http/json.h"

static fg_rc parse(const char *text, json_t **out, struct fg_json_error *err)
{
    return fg_json_parse_body(text, strlen(text), out, err);
}

static void test_accepts_object(void **state)
{
    (void)state;
    json_t *doc;
    struct fg_json_error err;
    assert_int_equal(parse("{\"a\":1,\"b\":\"x\",\"c\":[1,{\"d\":null}]}", &doc, &err), FG_OK);
    assert_true(json_is_object(doc));
    json_decref(doc);
}

static void test_rejects_malformed(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "{",
        "{\"a\":}",
        "{\"a\":1}x",
        "{\"a\":1}{}",
        "[1,2]",
        "\"str\"",
        "42",
        "null",
        "true",
        "{\"a\":1,\"a\":2}",        /* duplicate key */
        "{\"a\":\"\\u0000\"}",      /* NUL */
        "{\"a\":\"\xff\"}",         /* invalid UTF-8 */
        "{\"a\":\"\xc0\xaf\"}",     /* overlong encoding of '/' */
        "{\"a\":\"\xed\xa0\x80\"}", /* UTF-16 surrogate in UTF-8 */
        "{'a':1}",
        "{a:1}",
        "{\"a\":01}",
        "{\"a\":1,}",
        "{\"a\":NaN}",
        "{\"a\":99999999999999999999999}", /* integer overflow */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *doc = NULL;
        struct fg_json_error err;
        assert_int_equal(parse(bad[i], &doc, &err), FG_ERR_INVALID);
        assert_null(doc);
        assert_true(strlen(err.message) > 0);
    }
}

static char *nested(unsigned depth)
{
    char *s = malloc(depth * 7 + 8);
    size_t n = 0;
    for (unsigned i = 0; i < depth; i++) {
        memcpy(s + n, "{\"a\":", 5);
        n += 5;
    }
    s[n++] = '1';
    for (unsigned i = 0; i < depth; i++)
        s[n++] = '}';
    s[n] = '\0';
    return s;
}

static void test_depth_limit(void **state)
{
    (void)state;
    json_t *doc;
    struct fg_json_error err;
    char *ok = nested(FG_JSON_DEPTH_MAX);
    assert_int_equal(parse(ok, &doc, &err), FG_OK);
    json_decref(doc);
    free(ok);
    unsigned depths[] = {FG_JSON_DEPTH_MAX + 1, 10000, 200000};
    for (size_t i = 0; i < 3; i++) {
        char *deep = nested(depths[i]);
        assert_int_equal(parse(deep, &doc, &err), FG_ERR_INVALID);
        assert_non_null(strstr(err.message, "deep"));
        free(deep);
    }
    /* brackets inside strings do not count */
    assert_int_equal(fg_json_scan_depth("{\"a\":\"[[[[{{{{\\\"[[\"}", 20, 32), 1);
}

static void test_string_and_member_limits(void **state)
{
    (void)state;
    size_t n = FG_JSON_STRING_MAX + 1;
    char *s = malloc(n + 16);
    memcpy(s, "{\"a\":\"", 6);
    memset(s + 6, 'x', n);
    memcpy(s + 6 + n, "\"}", 3);
    json_t *doc;
    struct fg_json_error err;
    assert_int_equal(parse(s, &doc, &err), FG_ERR_INVALID);
    free(s);
    /* too many array items */
    size_t items = FG_JSON_MEMBERS_MAX + 1;
    char *arr = malloc(items * 2 + 16);
    size_t k = 0;
    memcpy(arr, "{\"a\":[", 6);
    k = 6;
    for (size_t i = 0; i < items; i++) {
        arr[k++] = '1';
        arr[k++] = i + 1 < items ? ',' : ']';
    }
    arr[k++] = '}';
    arr[k] = '\0';
    assert_int_equal(parse(arr, &doc, &err), FG_ERR_INVALID);
    free(arr);
}

static const struct fg_json_field fields[] = {
    {"name", FG_JSON_STRING, 1, 1, 5},
    {"amount", FG_JSON_INT, 1, 1, 1000},
    {"flag", FG_JSON_BOOL, 0, 0, 0},
    {"tags", FG_JSON_ARRAY, 0, 0, 2},
};

static fg_rc check(const char *text, struct fg_json_error *err)
{
    json_t *doc;
    assert_int_equal(parse(text, &doc, err), FG_OK);
    fg_rc rc = fg_json_check(doc, fields, 4, err);
    json_decref(doc);
    return rc;
}

static void test_field_check(void **state)
{
    (void)state;
    struct fg_json_error err;
    assert_int_equal(check("{\"name\":\"ab\",\"amount\":5}", &err), FG_OK);
    assert_int_equal(
        check("{\"name\":\"\xe4\xb8\xad\xe6\x96\x87\xe5\x90\x8d\xe5\xad\x97\xe5\x95\x8a\","
              "\"amount\":5}",
              &err),
        FG_OK); /* 5 chars, 15 bytes */
    struct {
        const char *text;
        const char *field;
    } cases[] = {
        {"{\"amount\":5}", "name"},
        {"{\"name\":\"ab\"}", "amount"},
        {"{\"name\":1,\"amount\":5}", "name"},
        {"{\"name\":\"\",\"amount\":5}", "name"},
        {"{\"name\":\"abcdef\",\"amount\":5}", "name"},
        {"{\"name\":\"ab\",\"amount\":0}", "amount"},
        {"{\"name\":\"ab\",\"amount\":-5}", "amount"},
        {"{\"name\":\"ab\",\"amount\":1001}", "amount"},
        {"{\"name\":\"ab\",\"amount\":1.5}", "amount"},
        {"{\"name\":\"ab\",\"amount\":\"5\"}", "amount"},
        {"{\"name\":\"ab\",\"amount\":5,\"flag\":1}", "flag"},
        {"{\"name\":\"ab\",\"amount\":5,\"tags\":[1,2,3]}", "tags"},
        {"{\"name\":\"ab\",\"amount\":5,\"extra\":1}", "extra"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *doc;
        assert_int_equal(parse(cases[i].text, &doc, &err), FG_OK);
        assert_int_equal(fg_json_check(doc, fields, 4, &err), FG_ERR_INVALID);
        assert_non_null(err.field);
        assert_string_equal(err.field, cases[i].field);
        json_decref(doc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_object), cmocka_unit_test(test_rejects_malformed),
        cmocka_unit_test(test_depth_limit),    cmocka_unit_test(test_string_and_member_limits),
        cmocka_unit_test(test_field_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
