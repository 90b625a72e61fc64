/* Unit tests for cli/common.c: the stdin share reader, the unseal loop, number parsing. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/common.h"
#include "iam/roles.h"
#include "protect/fields.h"

/* Make `text` the whole of stdin (a pipe; small texts fit its buffer). */
static void feed_stdin(const char *text, size_t len)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], text, len), (ssize_t)len);
    close(p[1]);
    assert_int_equal(dup2(p[0], 0), 0);
    close(p[0]);
}

static void expect_line(struct fg_cli_shares *r, const char *want, unsigned want_no)
{
    const char *line = NULL;
    unsigned no = 0;
    assert_int_equal(fg_cli_shares_next(r, NULL, &line, &no), FG_OK);
    assert_string_equal(line, want);
    assert_int_equal(no, want_no);
}

static void expect_rc(struct fg_cli_shares *r, fg_rc want)
{
    const char *line = NULL;
    unsigned no = 0;
    assert_int_equal(fg_cli_shares_next(r, NULL, &line, &no), want);
}

static void test_lines_trimmed_blank_skipped(void **state)
{
    (void)state;
    static const char text[] = "\n  alpha \r\n\t\n\nbeta\ngamma";
    feed_stdin(text, sizeof text - 1);
    struct fg_cli_shares *r;
    assert_int_equal(fg_cli_shares_open(&r), FG_OK);
    expect_line(r, "alpha", 2);
    expect_line(r, "beta", 5);
    expect_line(r, "gamma", 6); /* the last line needs no newline */
    expect_rc(r, FG_ERR_NOT_FOUND);
    expect_rc(r, FG_ERR_NOT_FOUND);
    fg_cli_shares_close(r);
}

static void test_long_lines_refused(void **state)
{
    (void)state;
    size_t max = FG_KEYS_SHARE_INPUT_MAX;
    char *text = malloc(4 * max + 8);
    assert_non_null(text);
    size_t n = 0;
    memset(text + n, 'x', max + 1); /* one byte too long */
    n += max + 1;
    text[n++] = '\n';
    memset(text + n, 'y', max); /* exactly the limit: accepted */
    n += max;
    text[n++] = '\n';
    memset(text + n, 'z', 2 * max); /* too long, and no newline before the end */
    n += 2 * max;
    feed_stdin(text, n);
    struct fg_cli_shares *r;
    assert_int_equal(fg_cli_shares_open(&r), FG_OK);
    expect_rc(r, FG_ERR_TOO_LARGE);
    const char *line = NULL;
    unsigned no = 0;
    assert_int_equal(fg_cli_shares_next(r, NULL, &line, &no), FG_OK);
    assert_int_equal(strlen(line), max);
    assert_int_equal(no, 2);
    expect_rc(r, FG_ERR_TOO_LARGE);
    expect_rc(r, FG_ERR_NOT_FOUND);
    fg_cli_shares_close(r);
    free(text);
}

/* A fake keyring: unsealed after `need` distinct shares; "bad" is refused. */
struct fake {
    char seen[8][16];
    unsigned nseen, need, calls;
};

static fg_rc fake_submit(void *ctx, const char *share, struct fg_keys_state *st,
                         const char **problem)
{
    struct fake *f = ctx;
    f->calls++;
    if (strcmp(share, "bad") == 0) {
        *problem = "malformed share";
        return FG_ERR_INVALID;
    }
    int dup = 0;
    for (unsigned i = 0; i < f->nseen; i++)
        dup |= strcmp(f->seen[i], share) == 0;
    if (!dup)
        snprintf(f->seen[f->nseen++], sizeof f->seen[0], "%s", share);
    *st = (struct fg_keys_state){
        .initialized = 1, .sealed = f->nseen < f->need, .progress = f->nseen, .threshold = f->need};
    return FG_OK;
}

static void test_unseal_keeps_confirmations_and_stops(void **state)
{
    (void)state;
    static const char text[] = "s1\ns1\n\ns2\nextra\n";
    feed_stdin(text, sizeof text - 1);
    struct fg_cli_shares *r;
    assert_int_equal(fg_cli_shares_open(&r), FG_OK);
    char keep[2][FG_KEYS_SHARE_TEXT_MAX];
    struct fake f = {.need = 2};
    struct fg_cli_unseal u = {.submit = fake_submit,
                              .ctx = &f,
                              .sealed = 1,
                              .threshold = 2,
                              .keep = keep,
                              .keep_count = 2};
    assert_int_equal(fg_cli_unseal_stdin("test", r, &u), 0);
    assert_int_equal(u.sealed, 0);
    assert_int_equal(u.kept, 2);
    assert_string_equal(keep[0], "s1"); /* the first two lines, as given: not deduplicated */
    assert_string_equal(keep[1], "s1");
    assert_int_equal(f.calls, 3);
    expect_line(r, "extra", 5); /* reading stopped once both were done */
    fg_cli_shares_close(r);
}

static void test_unseal_failures(void **state)
{
    (void)state;
    static const char refused[] = "s1\nbad\ns2\n";
    feed_stdin(refused, sizeof refused - 1);
    struct fg_cli_shares *r;
    assert_int_equal(fg_cli_shares_open(&r), FG_OK);
    struct fake f = {.need = 2};
    struct fg_cli_unseal u = {.submit = fake_submit, .ctx = &f, .sealed = 1, .threshold = 2};
    assert_int_equal(fg_cli_unseal_stdin("test", r, &u), FG_CLI_EXIT_FAIL);
    assert_int_equal(u.sealed, 1);
    fg_cli_shares_close(r);

    static const char short_input[] = "s1\n\n";
    feed_stdin(short_input, sizeof short_input - 1);
    assert_int_equal(fg_cli_shares_open(&r), FG_OK);
    f = (struct fake){.need = 2};
    u = (struct fg_cli_unseal){.submit = fake_submit, .ctx = &f, .sealed = 1, .threshold = 2};
    assert_int_equal(fg_cli_unseal_stdin("test", r, &u), FG_CLI_EXIT_FAIL);
    fg_cli_shares_close(r);
}

static void test_parse_uint(void **state)
{
    (void)state;
    unsigned long v = 0;
    assert_int_equal(fg_cli_parse_uint("12", 1, 16, &v), FG_OK);
    assert_int_equal(v, 12);
    const char *bad[] = {"0",  "17", "",   "+3",  "-3",
                         " 3", "3 ", "3x", "0x3", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fg_cli_parse_uint(bad[i], 1, 16, &v), FG_ERR_INVALID);
}

/* The shipped classification names only permissions of the shipped roles; a file naming
 * an unknown one is refused with the field. */
static void test_fields_permissions_exist(void **state)
{
    (void)state;
    struct fg_roles *roles = NULL;
    struct fg_fields *fields = NULL;
    assert_int_equal(fg_roles_load_default(&roles, NULL), FG_OK);
    assert_int_equal(fg_fields_load_default(&fields), FG_OK);
    const char *field = "x";
    assert_int_equal(fg_cli_fields_check_roles(fields, roles, &field), FG_OK);
    assert_null(field);
    fg_fields_free(fields);
    static const char text[] = "fields:\n"
                               "  customer.phone:\n"
                               "    class: C2\n"
                               "    encrypt: true\n"
                               "    mask: phone\n"
                               "    reveal: pii.peek\n";
    char err[256];
    assert_int_equal(fg_fields_load(text, sizeof text - 1, &fields, err, sizeof err), FG_OK);
    assert_int_equal(fg_cli_fields_check_roles(fields, roles, &field), FG_ERR_CONFIG);
    assert_string_equal(field, "customer.phone");
    fg_fields_free(fields);
    fg_roles_free(roles);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_trimmed_blank_skipped),
        cmocka_unit_test(test_long_lines_refused),
        cmocka_unit_test(test_unseal_keeps_confirmations_and_stops),
        cmocka_unit_test(test_unseal_failures),
        cmocka_unit_test(test_parse_uint),
        cmocka_unit_test(test_fields_permissions_exist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
