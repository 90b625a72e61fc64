/*
 * test_config.c — the configuration table: defaults, INI loading with every kind of
 * error and its exact "file:line: section.name: message", several errors in one load,
 * environment overrides, cross-field validation, the redacted dump, the shipped
 * etc/finguard.ini.
 */
#include "testutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/limits.h"

#define ERRORS_MAX (64u * 1024u)

/* Load text as "t.ini" into cfg (defaults first); the error text is left in errors. */
static fg_rc load(struct fg_config *cfg, const char *text, struct fg_buf *errors)
{
    fg_config_defaults(cfg);
    fg_buf_reset(errors);
    return fg_config_load_string(cfg, text, strlen(text), "t.ini", errors);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static char *dump_of(const struct fg_config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    fg_config_dump(cfg, f);
    assert_int_equal(fclose(f), 0);
    return text;
}

static void test_defaults(void **state)
{
    (void)state;
    struct fg_config cfg;
    fg_config_defaults(&cfg);
    assert_string_equal(cfg.server_address, "127.0.0.1");
    assert_int_equal(cfg.server_port, 8443);
    assert_int_equal(cfg.server_threads, 0);
    assert_int_equal(cfg.server_tls, 1);
    assert_string_equal(cfg.server_tls_cert, "");
    assert_string_equal(cfg.server_tls_key, "");
    assert_int_equal(cfg.server_body_max_bytes, FG_HTTP_BODY_MAX_DEFAULT);
    assert_int_equal(cfg.server_inflight_max, FG_HTTP_INFLIGHT_MAX);
    assert_int_equal(cfg.server_metrics, 1);
    assert_string_equal(cfg.server_metrics_token, "");
    assert_string_equal(cfg.storage_data_dir, "var");
    assert_int_equal(cfg.storage_batch_max, FG_WRITER_BATCH_MAX_DEFAULT);
    assert_int_equal(cfg.storage_read_pool, FG_READ_POOL_MAX_DEFAULT);
    assert_string_equal(cfg.log_level, "info");
    assert_string_equal(cfg.log_file, "");
    assert_int_equal(cfg.diag_write_probe, 0);
    struct fg_buf errors = FG_BUF_INIT(ERRORS_MAX);
    assert_int_equal(fg_config_validate(&cfg, &errors), FG_OK);
    assert_string_equal(fg_buf_str(&errors), "");
    fg_buf_release(&errors);
}

static void test_table_sane(void **state)
{
    (void)state;
    size_t rows = 0;
    for (const struct fg_config_entry *e = fg_config_table; e->section != NULL; e++, rows++) {
        assert_non_null(e->name);
        assert_non_null(e->def);
        assert_true(e->help != NULL && strlen(e->help) > 10);
        for (const char *p = e->name; *p; p++)
            assert_true(islower((unsigned char)*p) || *p == '_');
        assert_ptr_equal(fg_config_find(e->section, e->name), e);
        assert_true(e->offset + e->size <= sizeof(struct fg_config));
        if (e->type == FG_CFG_STRING)
            assert_true(e->max >= e->min && (size_t)e->max < e->size);
        if (e->type == FG_CFG_ENUM)
            assert_non_null(e->choices);
        assert_int_equal(e->flags & ~(FG_CFG_SENSITIVE | FG_CFG_IMMUTABLE), 0);
    }
    assert_int_equal(rows, 37);
    assert_true(fg_config_find("keys", "dev_mode")->flags & FG_CFG_IMMUTABLE);
    assert_true(fg_config_find("server", "metrics_token")->flags & FG_CFG_SENSITIVE);
    assert_true(fg_config_find("server", "port")->flags & FG_CFG_IMMUTABLE);
    assert_false(fg_config_find("server", "tls_key")->flags & FG_CFG_SENSITIVE);
    assert_int_equal(fg_config_find("server", "threads")->max, FG_HTTP_THREADS_MAX);
    assert_int_equal(fg_config_find("server", "body_max_bytes")->max, FG_HTTP_BODY_MAX_CEILING);
    assert_int_equal(fg_config_find("storage", "batch_max")->max, FG_WRITER_BATCH_MAX_CEILING);
    assert_int_equal(fg_config_find("storage", "read_pool")->max, FG_READ_POOL_MAX_CEILING);
    assert_null(fg_config_find("server", "nope"));
    assert_null(fg_config_find("nope", "port"));
}

static void test_load_valid(void **state)
{
    (void)state;
    struct fg_config cfg;
    struct fg_buf errors = FG_BUF_INIT(ERRORS_MAX);
    const char *text = "\xef\xbb\xbf; finguard test\r\n"
                       "# another comment\n"
                       "\n"
                       "[server]\n"
                       "address = ::1\n"
                       "  port=9000 ; inline comment\n"
                       "threads: 4\n"
                       "tls = Off\n"
                       "tls_cert = /etc/finguard/cert.pem\r\n"
                       "tls_key = /etc/finguard/key.pem\n"
                       "body_max_bytes = 1048576\n"
                       "inflight_max = 16\n"
                       "metrics = no\n"
                       "metrics_token = abc;def\n"
                       "[storage]\n"
                       "data_dir = /var/lib/finguard\n"
                       "batch_max = 4096\n"
                       "read_pool = 1\n"
                       "[log]\n"
                       "level = WARN\n"
                       "file =\n"
                       "[diag]\n"
                       "write_probe = YES";
    assert_int_equal(load(&cfg, text, &errors), FG_OK);
    assert_string_equal(fg_buf_str(&errors), "");
    assert_string_equal(cfg.server_address, "::1");
    assert_int_equal(cfg.server_port, 9000);
    assert_int_equal(cfg.server_threads, 4);
    assert_int_equal(cfg.server_tls, 0);
    assert_string_equal(cfg.server_tls_cert, "/etc/finguard/cert.pem");
    assert_string_equal(cfg.server_tls_key, "/etc/finguard/key.pem");
    assert_int_equal(cfg.server_body_max_bytes, 1048576);
    assert_int_equal(cfg.server_inflight_max, 16);
    assert_int_equal(cfg.server_metrics, 0);
    assert_string_equal(cfg.server_metrics_token, "abc;def");
    assert_string_equal(cfg.storage_data_dir, "/var/lib/finguard");
    assert_int_equal(cfg.storage_batch_max, 4096);
    assert_int_equal(cfg.storage_read_pool, 1);
    assert_string_equal(cfg.log_level, "warn"); /* stored in canonical case */
    assert_string_equal(cfg.log_file, "");
    assert_int_equal(cfg.diag_write_probe, 1);
    assert_int_equal(fg_config_validate(&cfg, &errors), FG_OK);
    fg_buf_release(&errors);
}

static void test_bools(void **state)
{
    (void)state;
    static const char *const yes[] = {"true", "TRUE", "yes", "Yes", "on", "ON", "1"};
    static const char *const no[] = {"false", "False", "no", "NO", "off", "oFF", "0"};
    struct fg_config cfg;
    fg_config_defaults(&cfg);
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        cfg.server_metrics = 0;
        assert_int_equal(fg_config_set(&cfg, "server", "metrics", yes[i], "t", NULL), FG_OK);
        assert_int_equal(cfg.server_metrics, 1);
        assert_int_equal(fg_config_set(&cfg, "server", "metrics", no[i], "t", NULL), FG_OK);
        assert_int_equal(cfg.server_metrics, 0);
    }
    static const char *const bad[] = {"", "2", "y", "n", "tru", "enabled", "true ", "-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fg_config_set(&cfg, "server", "metrics", bad[i], "t", NULL),
                         FG_ERR_CONFIG);
}

static void test_ints(void **state)
{
    (void)state;
    struct fg_config cfg;
    struct fg_buf errors = FG_BUF_INIT(ERRORS_MAX);
    fg_config_defaults(&cfg);
    assert_int_equal(fg_config_set(&cfg, "server", "port", "0", "t", &errors), FG_OK);
    assert_int_equal(cfg.server_port, 0);
    assert_int_equal(fg_config_set(&cfg, "server", "port", "65535", "t", &errors), FG_OK);
    static const char *const bad[] = {"",
                                      " 1",
                                      "+1",
                                      "1 ",
                                      "0x10",
                                      "1e3",
                                      "12abc",
                                      "-",
                                      "--1",
                                      "1.0",
                                      "65536",
                                      "-1",
                                      "99999999999999999999",
                                      "-99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (fg_config_set(&cfg, "server", "port", bad[i], "t", &errors) != FG_ERR_CONFIG)
            fail_msg("accepted port '%s'", bad[i]);
        assert_int_equal(cfg.server_port, 65535); /* unchanged */
    }
    fg_buf_reset(&errors);
    assert_int_equal(
        fg_config_set(&cfg, "server", "port", "99999999999999999999", "--set", &errors),
        FG_ERR_CONFIG);
    assert_int_equal(fg_config_set(&cfg, "server", "port", "-7", "--set", &errors), FG_ERR_CONFIG);
    assert_int_equal(fg_config_set(&cfg, "server", "port", "x", "--set", &errors), FG_ERR_CONFIG);
    assert_string_equal(fg_buf_str(&errors),
                        "--set: server.port: '99999999999999999999' is out of range 0..65535\n"
                        "--set: server.port: -7 is below the minimum 0\n"
                        "--set: server.port: 'x' is not an integer\n");
    fg_buf_release(&errors);
}

/* Every kind of error, several in one file, each with its exact line and message. */
static void test_errors_collected(void **state)
{
    (void)state;
    struct fg_config cfg;
    struct fg_buf errors = FG_BUF_INIT(ERRORS_MAX);
    char long_line[260];
    memset(long_line, 'x', sizeof long_line - 1);
    long_line[sizeof long_line - 1] = '\0';
    char text[4096];
    snprintf(text, sizeof text,
             "port = 1\n"            /* 1: outside a section */
             "[server]\n"            /* 2 */
             "port = 70000\n"        /* 3: above max */
             "threads = -1\n"        /* 4: below min */
             "inflight_max = lots\n" /* 5: not an integer */
             "tls = maybe\n"         /* 6: bad bool */
             "bogus = 1\n"           /* 7: unknown setting */
             "just some words\n"     /* 8: syntax */
             "address = 127.0.0.2\n" /* 9: fine */
             "address = 127.0.0.3\n" /* 10: twice */
             "metrics_token = %s\n"  /* 11: too long (sensitive) */
             "%s = 1\n"              /* 12: line too long */
             "[storage\n"            /* 13: bad header */
             "data_dir = ignored\n"  /* 14: skipped with its header */
             "[nosuch]\n"            /* 15 */
             "x = 1\n"               /* 16: unknown section */
             "[log]\n"               /* 17 */
             "level = verbose\n"     /* 18: bad enum */
             "[storage]\n"           /* 19 */
             "data_dir =\n"          /* 20: empty */
             "read_pool = 2\n"       /* 21: fine */
             "= 5\n"                 /* 22: no name */
             "[]\n",                 /* 23: empty section name */
             "0123456789012345678901234567890123456789012345678901234567890123456789"
             "0123456789012345678901234567890123456789012345678901234567890123456789",
             long_line);
    assert_int_equal(load(&cfg, text, &errors), FG_ERR_CONFIG);
    assert_string_equal(
        fg_buf_str(&errors),
        "t.ini:1: setting outside a [section]: port\n"
        "t.ini:3: server.port: 70000 is above the maximum 65535\n"
        "t.ini:4: server.threads: -1 is below the minimum 0\n"
        "t.ini:5: server.inflight_max: 'lots' is not an integer\n"
        "t.ini:6: server.tls: 'maybe' is not a boolean (true/false, yes/no, on/off, 1/0)\n"
        "t.ini:7: server.bogus: unknown setting\n"
        "t.ini:8: syntax error: expected 'name = value'\n"
        "t.ini:10: server.address: set twice (first on line 9)\n"
        "t.ini:11: server.metrics_token: is 140 bytes long, above the maximum 128\n"
        "t.ini:12: syntax error: the line is longer than 198 bytes\n"
        "t.ini:13: syntax error: expected '[section]'\n"
        "t.ini:16: nosuch.x: unknown section [nosuch]\n"
        "t.ini:18: log.level: 'verbose' is not one of debug, info, warn, error\n"
        "t.ini:20: storage.data_dir: must not be empty\n"
        "t.ini:22: syntax error: missing the setting name before '='\n"
        "t.ini:23: syntax error: expected '[section]'\n");
    /* valid lines took effect; rejected ones left the previous value */
    assert_string_equal(cfg.server_address, "127.0.0.2");
    assert_int_equal(cfg.storage_read_pool, 2);
    assert_int_equal(cfg.server_port, 8443);
    assert_int_equal(cfg.server_tls, 1);
    assert_string_equal(cfg.storage_data_dir, "var");
    assert_string_equal(cfg.server_metrics_token, "");
    fg_buf_release(&errors);
}

static void test_errors_name_the_file(void **state)
{
    (void)state;
    char dir[256], path[512];
    fg_test_tmpdir("config", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/finguard.ini", dir);
    const char *text = "[server]\n\nport = 70000\n";
    write_file(path, text, strlen(text));
    struct fg_config cfg;
    fg_config_defaults(&cfg);
    struct fg_buf errors = FG_BUF_INIT(ERRORS_MAX);
    assert_int_equal(fg_config_load_file(&cfg, path, &errors), FG_ERR_CONFIG);
    char expected[600];
    snprintf(expected, sizeof expected, "%s:3: server.port: 70000 is above the maximum 65535\n",
             path);
    assert_string_equal(fg_buf_str(&errors), expected);
    /* and a file that is fine */
    text = "[server]\nport = 9443\n";
    write_file(path, text, strlen(text));
    fg_buf_reset(&errors);
    assert_int_equal(fg_config_load_file(&cfg, path, &errors), FG_OK);
    assert_int_equal(cfg.server_port, 9443);
    assert_string_equal(fg_buf_str(&errors), "");
    fg_buf_release(&errors);
    fg_test_rmtree(dir);
}

static void test_file_limits(void **state)
{
    (void)state;
    char dir[256], path[512];
    fg_test_tmpdir("config", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/big.ini", dir);
    char *big = malloc(FG_CONFIG_FILE_MAX + 1);
    assert_non_null(big);
    for (size_t i = 0; i < FG_CONFIG_FILE_MAX + 1; i += 64) {
        size_t n = FG_CONFIG_FILE_MAX + 1 - i < 64 ? FG_CONFIG_FILE_MAX + 1 - i : 64;
        memset(big + i, ' ', n);
        big[i] = ';';
        big[i + n - 1] = '\n';
    }
    struct fg_config cfg;
    fg_config_defaults(&cfg);
    struct fg_buf errors = FG_BUF_INIT(ERRORS_MAX);
    write_file(path, big, FG_CONFIG_FILE_MAX); /* exactly at the limit: fine */
    assert_int_equal(fg_config_load_file(&cfg, path, &errors), FG_OK);
    write_file(path, big, FG_CONFIG_FILE_MAX + 1);
    assert_int_equal(fg_config_load_file(&cfg, path, &errors), FG_ERR_TOO_LARGE);
    char expected[600];
    snprintf(expected, sizeof expected, "%s: the file is larger than %u bytes\n", path,
             FG_CONFIG_FILE_MAX);
    assert_string_equal(fg_buf_str(&errors), expected);
    free(big);

    fg_buf_reset(&errors);
    snprintf(path, sizeof path, "%s/missing.ini", dir);
    assert_int_equal(fg_config_load_file(&cfg, path, &errors), FG_ERR_IO);
    assert_true(strncmp(fg_buf_str(&errors), path, strlen(path)) == 0);
    assert_non_null(strstr(fg_buf_str(&errors), ": cannot open: "));
    fg_buf_reset(&errors);
    assert_int_equal(fg_config_load_file(&cfg, dir, &errors), FG_ERR_IO); /* a directory */
    assert_int_equal(fg_config_load_file(&cfg, path, NULL), FG_ERR_IO);   /* errors optional */
    fg_buf_release(&errors);
    fg_test_rmtree(dir);
}

static void test_nul_byte_and_crlf(void **state)
{
    (void)state;
    struct fg_config cfg;
    fg_config_defaults(&cfg);
    struct fg_buf errors = FG_BUF_INIT(ERRORS_MAX);
    const char text[] = "[server]\r\nport = 1\0 23\r\nthreads = 2\r\n";
    assert_int_equal(fg_config_load_string(&cfg, text, sizeof text - 1, "t.ini", &errors),
                     FG_ERR_CONFIG);
    assert_string_equal(fg_buf_str(&errors),
                        "t.ini:2: syntax error: the line contains a NUL byte\n");
    assert_int_equal(cfg.server_port, 8443);
    assert_int_equal(cfg.server_threads, 2);
    /* empty text is a valid (empty) configuration */
    assert_int_equal(fg_config_load_string(&cfg, "", 0, "t.ini", NULL), FG_OK);
    fg_buf_release(&errors);
}

static void test_no_secret_echo(void **state)
{
    (void)state;
    struct fg_config cfg;
    struct fg_buf errors = FG_BUF_INIT(ERRORS_MAX);
    /* a typo in a secret's name must not print the secret; control bytes are masked */
    assert_int_equal(load(&cfg,
                          "[server]\n"
                          "metrics_tokn = hunter2-SECRET\n"
                          "metrics_token = bad\x1b[31mescape\n"
                          "address = evil\x1b[2J\n",
                          &errors),
                     FG_ERR_CONFIG);
    assert_null(strstr(fg_buf_str(&errors), "hunter2"));
    assert_null(strchr(fg_buf_str(&errors), '\x1b'));
    assert_null(strstr(fg_buf_str(&errors), "escape"));
    assert_string_equal(fg_buf_str(&errors),
                        "t.ini:2: server.metrics_tokn: unknown setting\n"
                        "t.ini:3: server.metrics_token: contains a control character\n"
                        "t.ini:4: server.address: contains a control character\n");
    fg_config_defaults(&cfg);
    fg_buf_reset(&errors);
    char *const envp[] = {"FINGUARD_SERVER_PORT=\x1b[2Jhttp", NULL};
    assert_int_equal(fg_config_apply_env(&cfg, envp, &errors), FG_ERR_CONFIG);
    assert_string_equal(fg_buf_str(&errors),
                        "env FINGUARD_SERVER_PORT: server.port: '?[2Jhttp' is not an integer\n");
    fg_buf_release(&errors);
}

static void test_env_override(void **state)
{
    (void)state;
    struct fg_config cfg;
    struct fg_buf errors = FG_BUF_INIT(ERRORS_MAX);
    assert_int_equal(load(&cfg, "[server]\nport = 1000\n[log]\nlevel = error\n", &errors), FG_OK);
    char *const envp[] = {
        "PATH=/usr/bin",
        "FINGUARD_SERVER_PORT=9443",
        "FINGUARD_LOG_LEVEL=debug",
        "FINGUARD_SERVER_TLS_CERT=/c.pem",
        "FINGUARD_SERVER_METRICS_TOKEN=t0k3n",
        "FINGUARD_BIN=/usr/bin/finguard", /* not a setting section: left alone */
        "FINGUARD_SOURCE_DIR=/src",
        "finguard_server_port=1", /* names are upper case */
        "FINGUARD_SERVER_PORTX=1",
        NULL,
    };
    assert_int_equal(fg_config_apply_env(&cfg, envp, &errors), FG_ERR_CONFIG);
    assert_int_equal(cfg.server_port, 9443);
    assert_string_equal(cfg.log_level, "debug");
    assert_string_equal(cfg.server_tls_cert, "/c.pem");
    assert_string_equal(cfg.server_metrics_token, "t0k3n");
    assert_string_equal(fg_buf_str(&errors),
                        "env FINGUARD_SERVER_PORTX: server.portx: unknown setting\n");

    fg_buf_reset(&errors);
    char long_value[FG_CONFIG_VALUE_MAX + 40];
    snprintf(long_value, sizeof long_value, "FINGUARD_LOG_FILE=%0*d", FG_CONFIG_VALUE_MAX + 1, 0);
    char *const bad[] = {
        "FINGUARD_SERVER_PORT=abc",
        "FINGUARD_SERVER_TLS=maybe",
        "FINGUARD_STORAGE_READ_POOL=0",
        "FINGUARD_SERVER_METRICS_TOKEN=0123456789012345678901234567890123456789012345678901234"
        "5678901234567890123456789012345678901234567890123456789012345678901234567890123",
        long_value,
        "FINGUARD_DIAG_=1",
        NULL};
    assert_int_equal(fg_config_apply_env(&cfg, bad, &errors), FG_ERR_CONFIG);
    assert_string_equal(
        fg_buf_str(&errors),
        "env FINGUARD_SERVER_PORT: server.port: 'abc' is not an integer\n"
        "env FINGUARD_SERVER_TLS: server.tls: 'maybe' is not a boolean (true/false, yes/no, "
        "on/off, 1/0)\n"
        "env FINGUARD_STORAGE_READ_POOL: storage.read_pool: 0 is below the minimum 1\n"
        "env FINGUARD_SERVER_METRICS_TOKEN: server.metrics_token: is 134 bytes long, above "
        "the maximum 128\n"
        "env FINGUARD_LOG_FILE: log.file: the value is longer than 1024 bytes\n"
        "env FINGUARD_DIAG_: diag.: unknown setting\n");
    assert_int_equal(cfg.server_port, 9443); /* unchanged by the failures */

    /* envp NULL reads the process environment (ctest also sets FINGUARD_BIN etc.) */
    assert_int_equal(setenv("FINGUARD_STORAGE_READ_POOL", "3", 1), 0);
    fg_buf_reset(&errors);
    assert_int_equal(fg_config_apply_env(&cfg, NULL, &errors), FG_OK);
    assert_int_equal(cfg.storage_read_pool, 3);
    assert_int_equal(unsetenv("FINGUARD_STORAGE_READ_POOL"), 0);
    fg_buf_release(&errors);
}

static void test_validate(void **state)
{
    (void)state;
    struct fg_config cfg;
    struct fg_buf errors = FG_BUF_INIT(ERRORS_MAX);
    static const char *const loopback[] = {"127.0.0.1", "127.1.2.3", "::1",
                                           "localhost", "LocalHost", "::ffff:127.0.0.1"};
    for (size_t i = 0; i < sizeof loopback / sizeof loopback[0]; i++) {
        fg_config_defaults(&cfg);
        assert_int_equal(fg_config_set(&cfg, "server", "address", loopback[i], "t", NULL), FG_OK);
        cfg.server_tls = 0;
        cfg.diag_write_probe = 1;
        assert_int_equal(fg_config_validate(&cfg, &errors), FG_OK);
    }
    assert_string_equal(fg_buf_str(&errors), "");

    fg_config_defaults(&cfg);
    assert_int_equal(fg_config_set(&cfg, "server", "address", "0.0.0.0", "t", NULL), FG_OK);
    assert_int_equal(fg_config_validate(&cfg, &errors), FG_OK); /* TLS on any address */
    cfg.server_tls = 0;
    cfg.diag_write_probe = 1;
    assert_int_equal(fg_config_set(&cfg, "server", "tls_cert", "/c.pem", "t", NULL), FG_OK);
    assert_int_equal(fg_config_validate(&cfg, &errors), FG_ERR_CONFIG);
    assert_string_equal(fg_buf_str(&errors),
                        "server.tls: plain HTTP (tls = false) is allowed only on a loopback "
                        "server.address, not '0.0.0.0'\n"
                        "diag.write_probe: the write probe is allowed only on a loopback "
                        "server.address, not '0.0.0.0'\n"
                        "server.tls_key: server.tls_cert and server.tls_key must be set "
                        "together\n");

    /* fields filled in by code are checked against the table too */
    fg_config_defaults(&cfg);
    cfg.server_port = 70000;
    cfg.server_tls = 2;
    memcpy(cfg.log_level, "loud", 5);
    fg_buf_reset(&errors);
    assert_int_equal(fg_config_validate(&cfg, &errors), FG_ERR_CONFIG);
    assert_string_equal(fg_buf_str(&errors), "server.port: 70000 is outside 0..65535\n"
                                             "server.tls: is neither true nor false\n"
                                             "log.level: is not one of its choices\n");
    fg_buf_release(&errors);
}

static void test_loopback(void **state)
{
    (void)state;
    static const char *const yes[] = {"127.0.0.1", "127.255.255.254", "127.0.0.0",
                                      "::1",       "0:0:0:0:0:0:0:1", "localhost",
                                      "LOCALHOST", "::ffff:127.0.0.1"};
    static const char *const no[] = {
        "0.0.0.0", "128.0.0.1",       "126.255.255.255", "::",         "10.0.0.1",
        "",        "127.0.0.1.",      "127.1",           " 127.0.0.1", "localhost.evil",
        "::2",     "::ffff:10.0.0.1", "example.com",     "1::1"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!fg_addr_is_loopback(yes[i]))
            fail_msg("not loopback: %s", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (fg_addr_is_loopback(no[i]))
            fail_msg("loopback: %s", no[i]);
    assert_false(fg_addr_is_loopback(NULL));
}

static void test_dump(void **state)
{
    (void)state;
    struct fg_config cfg;
    fg_config_defaults(&cfg);
    char *text = dump_of(&cfg);
    assert_true(strncmp(text, "[server]\naddress = 127.0.0.1\nport = 8443\n", 41) == 0);
    assert_non_null(strstr(text, "\nmetrics_token =\n"));
    assert_non_null(strstr(text, "\n\n[storage]\ndata_dir = var\n"));
    assert_non_null(strstr(text, "\n\n[log]\nlevel = info\nfile =\n"));
    assert_non_null(strstr(text, "\n\n[diag]\nwrite_probe = false\n"));
    /* the dump loads back to the same configuration */
    struct fg_config again;
    fg_config_defaults(&again);
    assert_int_equal(fg_config_set(&again, "server", "port", "1", "t", NULL), FG_OK);
    assert_int_equal(fg_config_load_string(&again, text, strlen(text), "dump", NULL), FG_OK);
    char *text2 = dump_of(&again);
    assert_string_equal(text, text2);
    free(text);
    free(text2);

    assert_int_equal(fg_config_set(&cfg, "server", "metrics_token", "supersecret", "t", NULL),
                     FG_OK);
    text = dump_of(&cfg);
    assert_non_null(strstr(text, "\nmetrics_token = [redacted]\n"));
    assert_null(strstr(text, "supersecret"));
    free(text);
}

/* The shipped etc/finguard.ini: valid, mentions every setting, all at their defaults. */
static void test_shipped_ini(void **state)
{
    (void)state;
    char path[FG_PATH_MAX];
    snprintf(path, sizeof path, "%s/etc/finguard.ini", fg_test_source_dir());
    struct fg_config cfg, defaults;
    fg_config_defaults(&defaults);
    fg_config_defaults(&cfg);
    struct fg_buf errors = FG_BUF_INIT(ERRORS_MAX);
    if (fg_config_load_file(&cfg, path, &errors) != FG_OK)
        fail_msg("%s", fg_buf_str(&errors));
    assert_int_equal(fg_config_validate(&cfg, &errors), FG_OK);
    /* the one deliberate difference: `make run` (loopback) writes the outbox file sink */
    assert_string_equal(cfg.outbox_sink, "file");
    assert_string_equal(defaults.outbox_sink, "none");
    snprintf(cfg.outbox_sink, sizeof cfg.outbox_sink, "%s", defaults.outbox_sink);
    /* and the second: `make run` trusts loopback's X-Forwarded-For, so the README's tour can
     * play an attacker from another address (issue #6) */
    assert_string_equal(cfg.server_trusted_proxies, "127.0.0.1");
    assert_string_equal(defaults.server_trusted_proxies, "");
    cfg.server_trusted_proxies[0] = '\0';
    char *a = dump_of(&cfg);
    char *b = dump_of(&defaults);
    assert_string_equal(a, b);
    free(a);
    free(b);
    char *text = fg_test_read_file(path, NULL);
    assert_non_null(text);
    for (const struct fg_config_entry *e = fg_config_table; e->section != NULL; e++) {
        char line[128];
        snprintf(line, sizeof line, "\n%s =", e->name);
        if (strstr(text, line) == NULL)
            fail_msg("etc/finguard.ini does not mention %s.%s", e->section, e->name);
        char header[64];
        snprintf(header, sizeof header, "[%s]\n", e->section);
        assert_non_null(strstr(text, header));
    }
    free(text);
    fg_buf_release(&errors);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_table_sane),
        cmocka_unit_test(test_load_valid),
        cmocka_unit_test(test_bools),
        cmocka_unit_test(test_ints),
        cmocka_unit_test(test_errors_collected),
        cmocka_unit_test(test_errors_name_the_file),
        cmocka_unit_test(test_file_limits),
        cmocka_unit_test(test_nul_byte_and_crlf),
        cmocka_unit_test(test_no_secret_echo),
        cmocka_unit_test(test_env_override),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_dump),
        cmocka_unit_test(test_shipped_ini),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
