/* Unit tests for cli/serve.c: configuration assembly from file, env and --set. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/serve.h"

static void test_sets_override_defaults(void **state)
{
    (void)state;
    struct fg_config cfg;
    struct fg_buf errors = FG_BUF_INIT(4096);
    const char *sets[] = {"server.port=9443", "log.level=debug", "storage.batch_max=32"};
    assert_int_equal(fg_cli_load_config(&cfg, NULL, sets, 3, &errors), 0);
    assert_int_equal(cfg.server_port, 9443);
    assert_string_equal(cfg.log_level, "debug");
    assert_int_equal(cfg.storage_batch_max, 32);
    fg_buf_release(&errors);
}

static void test_bad_sets_are_all_reported(void **state)
{
    (void)state;
    struct fg_config cfg;
    struct fg_buf errors = FG_BUF_INIT(4096);
    const char *sets[] = {"server.port=70000", "nodot=1", "server.nosuch=1", "log.level=loud"};
    assert_int_equal(fg_cli_load_config(&cfg, NULL, sets, 4, &errors), 1);
    const char *e = fg_buf_str(&errors);
    assert_non_null(strstr(e, "server.port"));
    assert_non_null(strstr(e, "nodot=1"));
    assert_non_null(strstr(e, "nosuch"));
    assert_non_null(strstr(e, "log.level"));
    fg_buf_release(&errors);
}

static void test_plain_http_only_on_loopback(void **state)
{
    (void)state;
    struct fg_config cfg;
    struct fg_buf errors = FG_BUF_INIT(4096);
    const char *ok[] = {"server.tls=false", "server.address=127.0.0.1"};
    assert_int_equal(fg_cli_load_config(&cfg, NULL, ok, 2, &errors), 0);
    const char *bad[] = {"server.tls=false", "server.address=0.0.0.0"};
    assert_int_equal(fg_cli_load_config(&cfg, NULL, bad, 2, &errors), 1);
    const char *probe[] = {"diag.write_probe=true", "server.address=10.1.2.3"};
    assert_int_equal(fg_cli_load_config(&cfg, NULL, probe, 2, &errors), 1);
    fg_buf_release(&errors);
}

static void test_file_then_set(void **state)
{
    (void)state;
    char dir[256], path[512];
    fg_test_tmpdir("cli", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/f.ini", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("[server]\nport = 7000\nthreads = 1\n", f);
    fclose(f);
    struct fg_config cfg;
    struct fg_buf errors = FG_BUF_INIT(4096);
    const char *sets[] = {"server.port=7001"};
    assert_int_equal(fg_cli_load_config(&cfg, path, sets, 1, &errors), 0);
    assert_int_equal(cfg.server_port, 7001);
    assert_int_equal(cfg.server_threads, 1);
    fg_buf_release(&errors);
    fg_test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sets_override_defaults),
        cmocka_unit_test(test_bad_sets_are_all_reported),
        cmocka_unit_test(test_plain_http_only_on_loopback),
        cmocka_unit_test(test_file_then_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
