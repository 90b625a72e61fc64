/*
 * test_mask.c — display masking rules (DATA-3, ACC-5): every rule with the examples of
 * protect/mask.h and docs/protect.md, short and long inputs, multi-byte names, invalid
 * UTF-8, control characters, and out buffers that are too small (then out is "" and no byte
 * of the input is left in the buffer).
 */
#include "testutil.h"

#include <string.h>

#include "protect/mask.h"

/* Mask s (NUL-terminated) by r, expecting FG_OK and `want`. */
static void ok(enum fg_mask_rule r, const char *s, const char *want)
{
    char out[FG_MASK_OUT_MAX];
    fg_rc rc = fg_mask(r, s, strlen(s), out, sizeof out);
    if (rc != FG_OK || strcmp(out, want) != 0)
        fail_msg("%s(\"%s\"): rc %d, \"%s\", want \"%s\"", fg_mask_rule_name(r), s, rc, out, want);
}

/* Mask in[0..len) by r, expecting rc and an empty out with nothing of the input in it. */
static void refused(enum fg_mask_rule r, const char *in, size_t len, size_t cap, fg_rc want)
{
    char out[FG_MASK_OUT_MAX];
    assert_true(cap <= sizeof out);
    memset(out, 0x5a, sizeof out);
    fg_rc rc = fg_mask(r, in, len, out, cap);
    if (rc != want)
        fail_msg("%s: rc %d, want %d", fg_mask_rule_name(r), rc, want);
    if (cap > 0)
        assert_int_equal(out[0], '\0');
    /* Every byte written is wiped; nothing beyond cap is touched. */
    for (size_t i = 0; i < cap; i++)
        assert_true(out[i] == '\0' || out[i] == 0x5a);
    for (size_t i = cap; i < sizeof out; i++)
        assert_int_equal(out[i], 0x5a);
}

static void test_rule_names(void **state)
{
    (void)state;
    static const char *const names[] = {"none",  "phone",     "id_number",        "name",
                                        "email", "pan_last4", "pan_first6_last4", "all"};
    for (int i = 0; i < FG_MASK_RULE_COUNT; i++) {
        assert_string_equal(fg_mask_rule_name((enum fg_mask_rule)i), names[i]);
        enum fg_mask_rule r = FG_MASK_ALL;
        assert_int_equal(fg_mask_rule_parse(names[i], &r), FG_OK);
        assert_int_equal(r, i);
    }
    assert_null(fg_mask_rule_name((enum fg_mask_rule)FG_MASK_RULE_COUNT));
    assert_null(fg_mask_rule_name((enum fg_mask_rule) - 1));
    enum fg_mask_rule r = FG_MASK_NONE;
    assert_int_equal(fg_mask_rule_parse("Phone", &r), FG_ERR_INVALID);
    assert_int_equal(fg_mask_rule_parse("pan_last", &r), FG_ERR_INVALID);
    assert_int_equal(fg_mask_rule_parse("", &r), FG_ERR_INVALID);
    assert_int_equal(fg_mask_rule_parse(NULL, &r), FG_ERR_INVALID);
    char out[16];
    refused((enum fg_mask_rule)99, "abc", 3, sizeof out, FG_ERR_INVALID);
}

static void test_phone(void **state)
{
    (void)state;
    ok(FG_MASK_PHONE, "+8613812345678", "+86138****5678");
    ok(FG_MASK_PHONE, "13812345678", "138****5678");
    ok(FG_MASK_PHONE, "12345678", "****5678"); /* exactly 8 */
    ok(FG_MASK_PHONE, "+12345678", "+****5678");
    ok(FG_MASK_PHONE, "1234567", "*****67"); /* fewer than 8: all but last 2 */
    ok(FG_MASK_PHONE, "+1234567", "+*****67");
    ok(FG_MASK_PHONE, "123", "*23");
    ok(FG_MASK_PHONE, "12", "**"); /* never the input itself */
    ok(FG_MASK_PHONE, "+7", "+*");
    ok(FG_MASK_PHONE, "12345678901234567890", "123456789012****7890"); /* 20 digits */
    refused(FG_MASK_PHONE, "", 0, 64, FG_ERR_INVALID);
    refused(FG_MASK_PHONE, "+", 1, 64, FG_ERR_INVALID);
    refused(FG_MASK_PHONE, "123456789012345678901", 21, 64, FG_ERR_INVALID);
    refused(FG_MASK_PHONE, "138 1234 5678", 13, 64, FG_ERR_INVALID);
    refused(FG_MASK_PHONE, "138-1234-5678", 13, 64, FG_ERR_INVALID);
    refused(FG_MASK_PHONE, "++8613812345678", 15, 64, FG_ERR_INVALID);
    refused(FG_MASK_PHONE, "1381234567+", 11, 64, FG_ERR_INVALID);
    refused(FG_MASK_PHONE, "13812\0345678", 11, 64, FG_ERR_INVALID);
}

static void test_id_number(void **state)
{
    (void)state;
    ok(FG_MASK_ID_NUMBER, "110101199003071234", "110101********1234");
    ok(FG_MASK_ID_NUMBER, "11010119900307123X", "110101********123X");
    ok(FG_MASK_ID_NUMBER, "110101900307123", "110101*****7123"); /* 15-digit ID */
    ok(FG_MASK_ID_NUMBER, "E12345678", "*******78");             /* passport, < 11 */
    ok(FG_MASK_ID_NUMBER, "12345678901", "123456*8901");         /* exactly 11 */
    ok(FG_MASK_ID_NUMBER, "123456", "****56");                   /* minimum */
    ok(FG_MASK_ID_NUMBER, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
       "ABCDEF**********************2345"); /* 32 */
    refused(FG_MASK_ID_NUMBER, "12345", 5, 64, FG_ERR_INVALID);
    refused(FG_MASK_ID_NUMBER, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", 33, 64, FG_ERR_INVALID);
    refused(FG_MASK_ID_NUMBER, "110101 199003071234", 19, 64, FG_ERR_INVALID);
    refused(FG_MASK_ID_NUMBER, "110101-19900307", 15, 64, FG_ERR_INVALID);
    refused(FG_MASK_ID_NUMBER, "11010119900307123\xc3\x97", 19, 64, FG_ERR_INVALID);
    refused(FG_MASK_ID_NUMBER, "", 0, 64, FG_ERR_INVALID);
}

static void test_name(void **state)
{
    (void)state;
    ok(FG_MASK_NAME, "张三丰", "张**");
    ok(FG_MASK_NAME, "张三", "张*");
    ok(FG_MASK_NAME, "Alice", "A****");
    ok(FG_MASK_NAME, "Zoë Ça", "Z*****");
    ok(FG_MASK_NAME, "\xf0\x9f\x98\x80x", "\xf0\x9f\x98\x80*"); /* 4-byte first code point */
    ok(FG_MASK_NAME, "欧阳娜娜", "欧***");
    ok(FG_MASK_NAME, "张", "*"); /* one code point: never the input itself */
    ok(FG_MASK_NAME, "A", "*");
    refused(FG_MASK_NAME, "", 0, 64, FG_ERR_INVALID);
    refused(FG_MASK_NAME, "\xe5\xbc", 2, 64, FG_ERR_INVALID);         /* truncated 张 */
    refused(FG_MASK_NAME, "\xe5\xbc\xa0\xe4", 4, 64, FG_ERR_INVALID); /* 张 + truncated */
    refused(FG_MASK_NAME,
            "A\xff"
            "lice",
            6, 64, FG_ERR_INVALID);
    refused(FG_MASK_NAME,
            "\xc0\xa0"
            "bc",
            4, 64, FG_ERR_INVALID); /* overlong space */
    refused(FG_MASK_NAME,
            "\xe0\x80\xaf"
            "b",
            4, 64, FG_ERR_INVALID); /* overlong '/' */
    refused(FG_MASK_NAME,
            "\xed\xa0\x80"
            "b",
            4, 64, FG_ERR_INVALID); /* surrogate */
    refused(FG_MASK_NAME,
            "\xf4\x90\x80\x80"
            "b",
            5, 64, FG_ERR_INVALID); /* > U+10FFFF */
    refused(FG_MASK_NAME,
            "\x80"
            "bc",
            3, 64, FG_ERR_INVALID);                          /* lone continuation */
    refused(FG_MASK_NAME, "\nAlice", 6, 64, FG_ERR_INVALID); /* control first */
    refused(FG_MASK_NAME, "Al\0ice", 6, 64, FG_ERR_INVALID);
    refused(FG_MASK_NAME,
            "\xc2\x85"
            "Alice",
            7, 64, FG_ERR_INVALID); /* C1 control NEL */
}

static void test_email(void **state)
{
    (void)state;
    ok(FG_MASK_EMAIL, "alice@example.com", "a***@example.com");
    ok(FG_MASK_EMAIL, "a@b.cn", "a***@b.cn");
    ok(FG_MASK_EMAIL, "张三@例子.中国", "张***@例子.中国");
    ok(FG_MASK_EMAIL, "first.last+tag@sub.example.org", "f***@sub.example.org");
    refused(FG_MASK_EMAIL, "alice", 5, 64, FG_ERR_INVALID);
    refused(FG_MASK_EMAIL, "@example.com", 12, 64, FG_ERR_INVALID);
    refused(FG_MASK_EMAIL, "alice@", 6, 64, FG_ERR_INVALID);
    refused(FG_MASK_EMAIL, "a@b@c", 5, 64, FG_ERR_INVALID);
    refused(FG_MASK_EMAIL, "alice@exa\nmple.com", 18, 64, FG_ERR_INVALID);
    refused(FG_MASK_EMAIL, "\xe5\xbc@x.cn", 7, 64, FG_ERR_INVALID);
    refused(FG_MASK_EMAIL, "", 0, 64, FG_ERR_INVALID);
}

static void test_pan(void **state)
{
    (void)state;
    ok(FG_MASK_PAN_LAST4, "6222021234567890123", "***************0123");
    ok(FG_MASK_PAN_LAST4, "4111111111111111", "************1111");
    ok(FG_MASK_PAN_LAST4, "4222222222222", "*********2222");
    ok(FG_MASK_PAN_FIRST6_LAST4, "6222021234567890", "622202******7890");
    ok(FG_MASK_PAN_FIRST6_LAST4, "4222222222222", "422222***2222");
    ok(FG_MASK_PAN_FIRST6_LAST4, "6222021234567890123", "622202*********0123");
    static const enum fg_mask_rule pan_rules[] = {FG_MASK_PAN_LAST4, FG_MASK_PAN_FIRST6_LAST4};
    for (size_t i = 0; i < 2; i++) {
        enum fg_mask_rule r = pan_rules[i];
        refused(r, "411111111111", 12, 64, FG_ERR_INVALID);         /* 12 digits */
        refused(r, "41111111111111111111", 20, 64, FG_ERR_INVALID); /* 20 digits */
        refused(r, "4111 1111 1111 1111", 19, 64, FG_ERR_INVALID);
        refused(r, "411111111111111X", 16, 64, FG_ERR_INVALID);
        refused(r, "", 0, 64, FG_ERR_INVALID);
    }
}

static void test_all_and_none(void **state)
{
    (void)state;
    ok(FG_MASK_ALL, "rent for May", "************");
    ok(FG_MASK_ALL, "房租", "**");
    ok(FG_MASK_ALL, "a\nb", "***"); /* controls are masked like anything else */
    ok(FG_MASK_ALL, "", "");
    refused(FG_MASK_ALL, "ab\xff", 3, 64, FG_ERR_INVALID);
    ok(FG_MASK_NONE, "12345.67", "12345.67");
    ok(FG_MASK_NONE, "房租", "房租");
    ok(FG_MASK_NONE, "", "");
    refused(FG_MASK_NONE, "ab\xff", 3, 64, FG_ERR_INVALID);
    refused(FG_MASK_NONE, "a\x1b[31m", 6, 64, FG_ERR_INVALID); /* terminal escape */
    refused(FG_MASK_NONE, "a\0b", 3, 64, FG_ERR_INVALID);
}

/* out exactly large enough works; one byte less is FG_ERR_LIMIT with nothing left. */
static void test_out_too_small(void **state)
{
    (void)state;
    static const struct {
        enum fg_mask_rule r;
        const char *in, *want;
    } cases[] = {
        {FG_MASK_PHONE, "+8613812345678", "+86138****5678"},
        {FG_MASK_ID_NUMBER, "110101199003071234", "110101********1234"},
        {FG_MASK_NAME, "张三丰", "张**"},
        {FG_MASK_EMAIL, "alice@example.com", "a***@example.com"},
        {FG_MASK_PAN_LAST4, "6222021234567890123", "***************0123"},
        {FG_MASK_PAN_FIRST6_LAST4, "6222021234567890", "622202******7890"},
        {FG_MASK_ALL, "房租", "**"},
        {FG_MASK_NONE, "12345.67", "12345.67"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t need = strlen(cases[i].want) + 1u;
        char out[FG_MASK_OUT_MAX];
        assert_int_equal(fg_mask(cases[i].r, cases[i].in, strlen(cases[i].in), out, need), FG_OK);
        assert_string_equal(out, cases[i].want);
        for (size_t cap = 0; cap < need; cap++)
            refused(cases[i].r, cases[i].in, strlen(cases[i].in), cap, FG_ERR_LIMIT);
    }
    /* cap 0 with a NULL buffer is allowed and refused. */
    assert_int_equal(fg_mask(FG_MASK_ALL, "x", 1, NULL, 0), FG_ERR_LIMIT);
}

static void test_input_limit(void **state)
{
    (void)state;
    static char big[FG_MASK_IN_MAX + 2];
    memset(big, 'a', sizeof big - 1u);
    char out[FG_MASK_OUT_MAX];
    /* FG_MASK_IN_MAX bytes are looked at, but the result does not fit FG_MASK_OUT_MAX. */
    assert_int_equal(fg_mask(FG_MASK_ALL, big, FG_MASK_IN_MAX, out, sizeof out), FG_ERR_LIMIT);
    refused(FG_MASK_NAME, big, FG_MASK_IN_MAX + 1u, sizeof out, FG_ERR_LIMIT);
    refused(FG_MASK_NONE, big, FG_MASK_IN_MAX + 1u, sizeof out, FG_ERR_LIMIT);
    /* A name that fits: 255 bytes of output. */
    assert_int_equal(fg_mask(FG_MASK_NAME, big, FG_MASK_OUT_MAX - 1u, out, sizeof out), FG_OK);
    assert_int_equal(strlen(out), FG_MASK_OUT_MAX - 1u);
    assert_int_equal(out[0], 'a');
    assert_int_equal(out[1], '*');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_names),   cmocka_unit_test(test_phone),
        cmocka_unit_test(test_id_number),    cmocka_unit_test(test_name),
        cmocka_unit_test(test_email),        cmocka_unit_test(test_pan),
        cmocka_unit_test(test_all_and_none), cmocka_unit_test(test_out_too_small),
        cmocka_unit_test(test_input_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
