/*
 * test_netaddr.c — addresses and CIDR blocks (the monitor allowlist, server.trusted_proxies):
 * IPv4, IPv6, IPv4-mapped, prefixes at their edges, host bits, garbage refused, lists with
 * non-address entries handed to the caller.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "base/netaddr.h"

static int has(const char *list, const char *addr)
{
    struct fg_net_list l;
    assert_int_equal(fg_net_list_parse(list, &l, NULL, NULL), FG_OK);
    return fg_net_list_has(&l, addr);
}

static void test_blocks(void **state)
{
    (void)state;
    assert_true(has("10.0.0.0/8", "10.255.1.2"));
    assert_false(has("10.0.0.0/8", "11.0.0.1"));
    assert_true(has("203.0.113.9", "203.0.113.9"));
    assert_false(has("203.0.113.9", "203.0.113.10"));
    assert_true(has("192.168.1.77/25", "192.168.1.0")); /* host bits cleared */
    assert_true(has("192.168.1.0/25", "192.168.1.127"));
    assert_false(has("192.168.1.0/25", "192.168.1.128"));
    assert_true(has("0.0.0.0/0", "8.8.8.8"));
    assert_false(has("0.0.0.0/0", "2001:db8::1")); /* v4 /0 is not "everything" */
    assert_true(has("2001:db8::/32", "2001:db8:ffff::1"));
    assert_false(has("2001:db8::/32", "2001:db9::1"));
    assert_true(has("127.0.0.1", "::ffff:127.0.0.1")); /* mapped matches v4 */
    assert_true(has("::1", "::1"));
    assert_true(has(" 10.0.0.0/8 , 127.0.0.1 ", "127.0.0.1"));
    assert_false(has("", "127.0.0.1"));
    assert_false(has("10.0.0.0/8", "not-an-ip"));
    assert_false(has("10.0.0.0/8", ""));
}

static void test_refused(void **state)
{
    (void)state;
    struct fg_net_block b;
    const char *bad[] = {"",        "1.2.3",     "1.2.3.4/33", "1.2.3.4/",    "1.2.3.4/x",
                         "::1/129", "300.1.1.1", "1.2.3.4/-1", "2001:db8::g", "1.2.3.4/1234"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fg_net_block_parse(bad[i], strlen(bad[i]), &b), FG_ERR_INVALID);
    struct fg_net_list l;
    assert_int_equal(fg_net_list_parse("10.0.0.0/8,alice", &l, NULL, NULL), FG_ERR_INVALID);
}

static unsigned others;
static fg_rc count_other(void *ctx, const char *entry, size_t len)
{
    (void)ctx;
    assert_true(len == 5 && memcmp(entry, "u-123", 5) == 0);
    others++;
    return FG_OK;
}

static void test_list_with_ids(void **state)
{
    (void)state;
    struct fg_net_list l;
    others = 0;
    assert_int_equal(fg_net_list_parse("10.0.0.0/8, u-123 ,::1", &l, count_other, NULL), FG_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(others, 1);
    char many[FG_NET_LIST_MAX * 12 + 32] = "";
    for (unsigned i = 0; i <= FG_NET_LIST_MAX; i++) {
        char one[16];
        snprintf(one, sizeof one, "10.0.%u.1,", i);
        strncat(many, one, sizeof many - strlen(many) - 1);
    }
    assert_int_equal(fg_net_list_parse(many, &l, NULL, NULL), FG_ERR_LIMIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_list_with_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
