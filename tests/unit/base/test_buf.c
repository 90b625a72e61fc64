/*
 * test_buf.c — fg_buf: maximum enforced, failed appends change nothing, always
 * NUL-terminated, growth bounded by max + 1, escaping and hex.
 */
#include "testutil.h"

#include <stdint.h>
#include <string.h>

#include "base/buf.h"

static void test_empty_and_append(void **state)
{
    (void)state;
    struct fg_buf b;
    fg_buf_init(&b, 100);
    assert_null(b.data);
    assert_string_equal(fg_buf_str(&b), "");
    assert_int_equal(fg_buf_append(&b, NULL, 0), FG_OK);
    assert_null(b.data);
    assert_int_equal(fg_buf_append_str(&b, "hello"), FG_OK);
    assert_int_equal(fg_buf_append_char(&b, ' '), FG_OK);
    assert_int_equal(fg_buf_append(&b, "world!!", 5), FG_OK);
    assert_string_equal(fg_buf_str(&b), "hello world");
    assert_int_equal(b.len, 11);
    assert_int_equal(b.data[b.len], '\0');
    fg_buf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 100);
    /* usable again after release */
    assert_int_equal(fg_buf_append_str(&b, "again"), FG_OK);
    assert_string_equal(fg_buf_str(&b), "again");
    fg_buf_release(&b);
}

static void test_static_init(void **state)
{
    (void)state;
    struct fg_buf b = FG_BUF_INIT(8);
    assert_int_equal(fg_buf_append_str(&b, "12345678"), FG_OK);
    assert_int_equal(fg_buf_append_char(&b, '9'), FG_ERR_TOO_LARGE);
    assert_string_equal(fg_buf_str(&b), "12345678");
    fg_buf_release(&b);
}

static void test_max_and_unchanged_on_failure(void **state)
{
    (void)state;
    struct fg_buf b;
    fg_buf_init(&b, 10);
    assert_int_equal(fg_buf_append_str(&b, "abcdef"), FG_OK);
    assert_int_equal(fg_buf_append_str(&b, "ghijk"), FG_ERR_TOO_LARGE);
    assert_string_equal(fg_buf_str(&b), "abcdef");
    assert_int_equal(b.len, 6);
    assert_int_equal(fg_buf_appendf(&b, "%d-%s", 12345, "x"), FG_ERR_TOO_LARGE);
    assert_string_equal(fg_buf_str(&b), "abcdef");
    assert_int_equal(fg_buf_append_json_escaped(&b, "\"\"\"", 3), FG_ERR_TOO_LARGE);
    assert_string_equal(fg_buf_str(&b), "abcdef");
    assert_int_equal(fg_buf_append_hex(&b, "abc", 3), FG_ERR_TOO_LARGE);
    assert_string_equal(fg_buf_str(&b), "abcdef");
    assert_int_equal(fg_buf_append_str(&b, "ghij"), FG_OK); /* exactly max */
    assert_string_equal(fg_buf_str(&b), "abcdefghij");
    assert_true(b.cap <= b.max + 1);
    assert_int_equal(fg_buf_append_char(&b, 'k'), FG_ERR_TOO_LARGE);
    fg_buf_release(&b);
}

static void test_overflowing_sizes(void **state)
{
    (void)state;
    struct fg_buf b;
    fg_buf_init(&b, SIZE_MAX - 1);
    assert_int_equal(fg_buf_append_str(&b, "x"), FG_OK);
    /* len + n would wrap; must be refused, not wrap around to a small allocation */
    assert_int_equal(fg_buf_append(&b, "y", SIZE_MAX), FG_ERR_TOO_LARGE);
    assert_int_equal(fg_buf_append_hex(&b, "y", SIZE_MAX / 2 + 1), FG_ERR_TOO_LARGE);
    assert_string_equal(fg_buf_str(&b), "x");
    fg_buf_release(&b);
}

static void test_growth_bounded(void **state)
{
    (void)state;
    struct fg_buf b;
    fg_buf_init(&b, 1000);
    size_t last_cap = 0;
    int grows = 0;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(fg_buf_append_char(&b, (char)('a' + i % 26)), FG_OK);
        assert_true(b.cap <= b.max + 1);
        assert_true(b.len < b.cap);
        if (b.cap != last_cap) {
            grows++;
            last_cap = b.cap;
        }
    }
    assert_int_equal(b.len, 1000);
    assert_true(grows <= 6); /* geometric: 64, 128, ..., 1001 */
    assert_int_equal(fg_buf_append_char(&b, 'z'), FG_ERR_TOO_LARGE);
    assert_int_equal(strlen(fg_buf_str(&b)), 1000);
    fg_buf_release(&b);
}

static void test_appendf(void **state)
{
    (void)state;
    struct fg_buf b;
    fg_buf_init(&b, 4096);
    assert_int_equal(fg_buf_appendf(&b, "%s=%d", "a", 1), FG_OK);
    assert_int_equal(fg_buf_appendf(&b, "%s", ""), FG_OK);
    char big[300];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(fg_buf_appendf(&b, ";%s;%05.1f", big, 2.25), FG_OK);
    assert_int_equal(b.len, 3 + 1 + 299 + 1 + 5);
    assert_true(strncmp(fg_buf_str(&b), "a=1;qqq", 7) == 0);
    assert_string_equal(fg_buf_str(&b) + b.len - 6, ";002.2");
    fg_buf_release(&b);
}

static void test_json_escaped(void **state)
{
    (void)state;
    struct fg_buf b;
    fg_buf_init(&b, 1024);
    const char in[] = "a\"b\\c\n\r\t\b\f\x01\x1f\x7f caf\xc3\xa9";
    assert_int_equal(fg_buf_append_json_escaped(&b, in, sizeof in - 1), FG_OK);
    assert_string_equal(fg_buf_str(&b), "a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\x7f caf\xc3\xa9");
    fg_buf_reset(&b);
    /* embedded NUL is escaped, not a terminator */
    assert_int_equal(fg_buf_append_json_escaped(&b, "x\0y", 3), FG_OK);
    assert_string_equal(fg_buf_str(&b), "x\\u0000y");
    fg_buf_release(&b);
}

static void test_hex(void **state)
{
    (void)state;
    struct fg_buf b;
    fg_buf_init(&b, 64);
    const unsigned char bytes[] = {0x00, 0x01, 0xab, 0xff, 0x10};
    assert_int_equal(fg_buf_append_hex(&b, bytes, sizeof bytes), FG_OK);
    assert_string_equal(fg_buf_str(&b), "0001abff10");
    assert_int_equal(fg_buf_append_hex(&b, NULL, 0), FG_OK);
    assert_string_equal(fg_buf_str(&b), "0001abff10");
    fg_buf_release(&b);
}

static void test_reset_keeps_memory(void **state)
{
    (void)state;
    struct fg_buf b;
    fg_buf_init(&b, 64);
    assert_int_equal(fg_buf_append_str(&b, "something"), FG_OK);
    char *data = b.data;
    size_t cap = b.cap;
    fg_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(fg_buf_str(&b), "");
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.cap, cap);
    fg_buf_release(&b);
    fg_buf_reset(&b); /* reset of an empty buffer is fine */
    assert_string_equal(fg_buf_str(&b), "");
}

static void test_wipe_release(void **state)
{
    (void)state;
    struct fg_buf b;
    fg_buf_init(&b, 4096);
    for (int i = 0; i < 20; i++) /* several growths: old blocks are wiped too */
        assert_int_equal(fg_buf_append_str(&b, "s3cr3t-s3cr3t-s3cr3t-"), FG_OK);
    fg_buf_wipe_release(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.max, 4096);
    fg_buf_wipe_release(&b); /* of an empty buffer */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_append),
        cmocka_unit_test(test_static_init),
        cmocka_unit_test(test_max_and_unchanged_on_failure),
        cmocka_unit_test(test_overflowing_sizes),
        cmocka_unit_test(test_growth_bounded),
        cmocka_unit_test(test_appendf),
        cmocka_unit_test(test_json_escaped),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_reset_keeps_memory),
        cmocka_unit_test(test_wipe_release),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
