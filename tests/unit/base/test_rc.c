/*
 * test_rc.c — every fg_rc has a stable name and a message; unknown codes are safe.
 */
#include "testutil.h"

#include <string.h>

#include "base/rc.h"

static void test_every_code_named(void **state)
{
    (void)state;
    for (int i = 0; i < FG_RC_COUNT_; i++) {
        const char *name = fg_rc_name((fg_rc)i);
        const char *message = fg_rc_str((fg_rc)i);
        assert_non_null(name);
        assert_non_null(message);
        assert_string_not_equal(name, "FG_ERR_UNKNOWN");
        assert_string_not_equal(message, "unknown error");
        assert_true(strncmp(name, "FG_", 3) == 0);
        assert_true(strlen(message) > 0);
        /* Names are unique: logs and metrics key on them. */
        for (int j = 0; j < i; j++)
            assert_string_not_equal(name, fg_rc_name((fg_rc)j));
    }
}

static void test_known_values(void **state)
{
    (void)state;
    assert_int_equal(FG_OK, 0);
    assert_string_equal(fg_rc_name(FG_OK), "FG_OK");
    assert_string_equal(fg_rc_name(FG_ERR_LIMIT), "FG_ERR_LIMIT");
    assert_string_equal(fg_rc_str(FG_ERR_NOMEM), "out of memory");
    /* Numbers are part of the contract (the enum only grows). */
    assert_int_equal(FG_ERR_CONFIG, 10);
    assert_int_equal(FG_ERR_TIMEOUT, 23);
}

static void test_unknown_code_safe(void **state)
{
    (void)state;
    assert_string_equal(fg_rc_str(FG_RC_COUNT_), "unknown error");
    assert_string_equal(fg_rc_name(FG_RC_COUNT_), "FG_ERR_UNKNOWN");
    assert_string_equal(fg_rc_str((fg_rc)9999), "unknown error");
    assert_string_equal(fg_rc_name((fg_rc)-1), "FG_ERR_UNKNOWN");
    assert_string_equal(fg_rc_str((fg_rc)-1), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_named),
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_unknown_code_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
