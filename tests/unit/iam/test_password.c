/*
 * test_password.c — password.c: every rule refuses a crafted example with its reason and a
 * strong password passes; personal information; UTF-8 counted in characters; the
 * blocklist; policy and dictionary errors at load; history, "differs", the dummy
 * verification's timing; the checker shared by threads.
 *
 * Hashes use libsodium's cheapest parameters through fg_password_hash_params() so the
 * suite stays fast; the default parameters (19 MiB, t = 2) are exercised once, in the
 * timing test, which needs them anyway.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "iam/password.h"

static const struct fg_pwhash_params cheap = {.ops = 1, .mem_bytes = 8 * 1024};

/* The person of most examples. */
static const struct fg_password_context person = {
    .username = "alice.w",
    .display_name = "Wei Zhang",
    .phone = "+86 138-0013-8000",
};

static struct fg_password_checker *checker; /* default policy, shared by the tests */

static int setup(void **state)
{
    (void)state;
    if (fg_crypto_init() != FG_OK)
        return -1;
    struct fg_password_policy p;
    fg_password_policy_defaults(&p);
    struct fg_buf errors = FG_BUF_INIT(4096);
    fg_rc rc = fg_password_policy_load(&p, &checker, &errors);
    if (rc != FG_OK)
        fprintf(stderr, "load: %s\n%s", fg_rc_name(rc), fg_buf_str(&errors));
    fg_buf_release(&errors);
    return rc == FG_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fg_password_checker_free(checker);
    return 0;
}

/* Checks pw (as a C string) and returns the reason, "" if accepted; asserts the reason
 * never contains the password. */
static const char *reason_for(const struct fg_password_checker *c, const char *pw,
                              const struct fg_password_context *who)
{
    const char *reason = "unset";
    fg_rc rc = fg_password_check(c, pw, strlen(pw), who, &reason);
    if (rc == FG_OK) {
        assert_null(reason);
        return "";
    }
    assert_int_equal(rc, FG_ERR_POLICY);
    assert_non_null(reason);
    assert_true(pw[0] == '\0' || strstr(reason, pw) == NULL);
    return reason;
}

static void expect(const char *pw, const struct fg_password_context *who, const char *want)
{
    const char *got = reason_for(checker, pw, who);
    if (strcmp(got, want) != 0)
        fail_msg("password #%zu chars: want \"%s\", got \"%s\"", strlen(pw), want, got);
}

static void test_defaults(void **state)
{
    (void)state;
    struct fg_password_policy p;
    memset(&p, 0xA5, sizeof p);
    fg_password_policy_defaults(&p);
    assert_int_equal(p.min_chars, 12);
    assert_int_equal(p.max_chars, 128);
    assert_int_equal(p.require_letter, 1);
    assert_int_equal(p.require_digit, 1);
    assert_int_equal(p.history, 4);
    assert_null(p.blocklist_path);
    assert_null(p.dictionary_path);
    const struct fg_password_policy *loaded = fg_password_checker_policy(checker);
    assert_int_equal(loaded->min_chars, 12);
    assert_int_equal(loaded->history, 4);
}

static void test_strong_accepted(void **state)
{
    (void)state;
    static const char *const strong[] = {
        "Rk7#vq2Lp9!xZt",
        "Kx9!pLmN2#qRsV",
        "mK9!abc7#Zq2Lp",              /* "abc" is a run of 3, allowed */
        "tiger7 ocean2 violin8 maple", /* a passphrase of words is fine */
        "ŁódźKrk#7qZv",                /* 12 characters, 16 bytes */
        "密码很长Kx9!pLm2#q",          /* CJK letters count as letters */
    };
    for (size_t i = 0; i < sizeof strong / sizeof strong[0]; i++) {
        expect(strong[i], &person, "");
        expect(strong[i], NULL, "");
    }
}

struct example {
    const char *pw;
    const char *reason;
};

static void test_each_rule(void **state)
{
    (void)state;
    static const struct example examples[] = {
        {"Rk7#vq2Lp9!", "too short: at least 12 characters"},
        {"", "too short: at least 12 characters"},
        {"Rk7#vq2\xffLp9!xZ", "is not valid UTF-8 text"},
        {"Rk7#vq2\xc0\xafLp9!xZ", "is not valid UTF-8 text"},     /* overlong '/' */
        {"Rk7#vq2\xed\xa0\x80Lp9!xZ", "is not valid UTF-8 text"}, /* a surrogate */
        {"Rk7#vq2\tLp9!xZ", "contains a control character"},
        {"Rk7#vq2\xc2\x85Lp9!xZ", "contains a control character"}, /* C1 NEL */
        {"7#9!2$4%8&1*6", "must contain a letter"},
        {"Rk#vqLp!xZtwm", "must contain a digit"},
        {"Xq!7kzALICE9w", "contains the user name"},  /* a part of "alice.w" */
        {"Xq!7kzW.ecila9", "contains the user name"}, /* the whole, backwards */
        {"Rk7#ZHANGLp9!x", "contains part of the name"},
        {"Rk7#013800Lp!xZ", "contains the phone number"},
        {"Rk7#abcdLp9!xZ", "has a sequence or repeated characters"},
        {"Rk7#DCBALp9!xZ", "has a sequence or repeated characters"},
        {"Rk7#9876Lp!xZq", "has a sequence or repeated characters"},
        {"Rk7#7890Lp!xZq", "has a sequence or repeated characters"}, /* keyboard row */
        {"Rk7#QWERLp9!xZ", "has a sequence or repeated characters"},
        {"Rk7#!@#$Lp9xZq", "has a sequence or repeated characters"},
        {"Rk7#zzzzLp9!xQ", "has a sequence or repeated characters"},
        {"Rk7#ZzZzLp9!xQ", "has a sequence or repeated characters"}, /* case-insensitive */
        {"Rk7#ééééLp9!xQ", "has a sequence or repeated characters"},
        {"Rk7#+,-.Lp9!xZ", "has a sequence or repeated characters"},   /* pwquality's */
        {"12ab34cd56ef78gh", "has a sequence or repeated characters"}, /* cracklib's */
        {"Rk7#vqqv#7kR", "is a palindrome"},
        {"ab1ab1ab1ab1", "has too few different characters"},
        {"c0mmunication", "is a dictionary word"},  /* cracklib undoes 0 → o */
        {"Sunshine2024!!", "is a dictionary word"}, /* the core "Sunshine" */
        {"!!Basketball99", "is a dictionary word"},
    };
    for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++)
        expect(examples[i].pw, &person, examples[i].reason);

    /* bytes after a NUL count: the password is (pw, len), not a C string */
    const char *reason;
    assert_int_equal(fg_password_check(checker, "Rk7#vq2Lp9!x\0Zt", 15, NULL, &reason),
                     FG_ERR_POLICY);
    assert_string_equal(reason, "contains a control character");
}

static void test_similarity(void **state)
{
    (void)state;
    struct fg_password_context who = {.username = "bob"};
    /* pwquality ignores user names under 4 characters; we do not */
    expect("Rk7#BOBLp9!xZq", &who, "contains the user name");
    expect("Rk7#boBLp9!xZq", &who, "contains the user name");
    who.username = "ab";
    expect("Rk7#abLp9!xZq2", &who, ""); /* too short to mean anything */

    who = (struct fg_password_context){.display_name = "Li Na"};
    expect("Rk7#LiNaLp9!xZ", &who, ""); /* parts of 2 characters are not refused */
    who.display_name = "Łukasz Wójcik";
    expect("Rk7#łUKASZp9!x", &who, "contains part of the name");
    expect("Rk7#WÓJCIKp9!x", &who, "contains part of the name");
    expect("Rk7#Łukap9!xZq", &who, "");
    who.display_name = "张伟明";
    expect("Rk7#张伟明p9!xZ", &who, "contains part of the name");

    who = (struct fg_password_context){.phone = "(555) 867-5309"};
    expect("Rk7#675309Lp!xZ", &who, "contains the phone number");
    expect("Rk7#55586Lp!xZq", &who, ""); /* 5 digits: allowed */
    expect("Rk7#5558675309xZ", &who, "contains the phone number");
    who.phone = "12-34";
    expect("Rk7#vq2Lp9!xZt", &who, "");

    /* NULL and empty fields are skipped */
    who = (struct fg_password_context){.username = "", .display_name = NULL, .phone = ""};
    expect("Rk7#vq2Lp9!xZt", &who, "");

    /* a field over the limit or not UTF-8 is the caller's error, not a reason */
    char longname[FG_PASSWORD_PERSONAL_BYTES_MAX + 2];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    who = (struct fg_password_context){.display_name = longname};
    const char *reason = "unset";
    assert_int_equal(fg_password_check(checker, "Rk7#vq2Lp9!xZt", 14, &who, &reason),
                     FG_ERR_INVALID);
    assert_null(reason);
    who.display_name = "bad \xff name";
    assert_int_equal(fg_password_check(checker, "Rk7#vq2Lp9!xZt", 14, &who, &reason),
                     FG_ERR_INVALID);
    assert_null(reason);
}

/* A password of n characters, each 2 bytes of UTF-8 or 1, with no runs or repeats. */
static void make_long(char *out, size_t out_size, size_t n)
{
    static const char *const unit[] = {"é", "7", "Ж", "k", "#", "ü", "2", "Ω", "q", "ß", "9",
                                       "R", "ñ", "!", "ø", "5", "x", "Ł", "3", "ç", "m", "%"};
    size_t len = 0, count = sizeof unit / sizeof unit[0];
    for (size_t i = 0; i < n; i++) {
        const char *u = unit[(i * 5) % count];
        size_t l = strlen(u);
        assert_true(len + l < out_size);
        memcpy(out + len, u, l);
        len += l;
    }
    out[len] = '\0';
}

static void test_utf8_counted_as_characters(void **state)
{
    (void)state;
    expect("ŁódźKrk#7qZ", &person, "too short: at least 12 characters"); /* 11 chars, 13 B */
    expect("ŁódźKrk#7qZv", &person, "");
    expect("密码很长Kx9!pLm", &person, "too short: at least 12 characters"); /* 11, 21 B */

    char pw[FG_CRYPTO_PASSWORD_MAX * 2];
    make_long(pw, sizeof pw, 128);
    assert_true(strlen(pw) > 128);
    expect(pw, &person, "");
    make_long(pw, sizeof pw, 129);
    expect(pw, &person, "too long: at most 128 characters");

    /* past the hashing limit in bytes: too long, before anything else is looked at */
    memset(pw, 'a', FG_CRYPTO_PASSWORD_MAX + 1);
    pw[FG_CRYPTO_PASSWORD_MAX + 1] = '\0';
    expect(pw, &person, "too long: at most 128 characters");
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_blocklist(void **state)
{
    (void)state;
    char dir[256], path[512];
    fg_test_tmpdir("password-blocklist", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/blocklist.txt", dir);
    static const char list[] = "Correct-Horse-77\r\n"
                               "\n"
                               "Пароль-Надёжный-1\n"
                               "not \xff utf-8 (skipped)\n"
                               "Tr0ub4dor&3xyz"; /* no final newline */
    write_file(path, list, sizeof list - 1);

    struct fg_password_policy p;
    fg_password_policy_defaults(&p);
    p.blocklist_path = path;
    struct fg_password_checker *c = NULL;
    struct fg_buf errors = FG_BUF_INIT(4096);
    assert_int_equal(fg_password_policy_load(&p, &c, &errors), FG_OK);
    assert_string_equal(fg_buf_str(&errors), "");
    assert_null(fg_password_checker_policy(c)->blocklist_path);

    assert_string_equal(reason_for(c, "Correct-Horse-77", &person), "is on the blocklist");
    assert_string_equal(reason_for(c, "cORRECT-hORSE-77", &person), "is on the blocklist");
    assert_string_equal(reason_for(c, "пАРОЛЬ-нАДЁЖНЫЙ-1", &person), "is on the blocklist");
    assert_string_equal(reason_for(c, "Tr0ub4dor&3xyz", NULL), "is on the blocklist");
    assert_string_equal(reason_for(c, "Correct-Horse-78", &person), ""); /* whole match only */
    assert_string_equal(reason_for(c, "Rk7#vq2Lp9!xZt", &person), "");
    /* the default checker has no blocklist */
    assert_string_equal(reason_for(checker, "Tr0ub4dor&3xyz", NULL), "");
    fg_password_checker_free(c);

    /* a missing file is a clear error naming it; nothing is returned */
    char missing[600];
    snprintf(missing, sizeof missing, "%s/nope.txt", dir);
    p.blocklist_path = missing;
    fg_buf_reset(&errors);
    c = (struct fg_password_checker *)&errors; /* must be overwritten with NULL */
    assert_int_equal(fg_password_policy_load(&p, &c, &errors), FG_ERR_IO);
    assert_null(c);
    assert_non_null(strstr(fg_buf_str(&errors), missing));
    assert_non_null(strstr(fg_buf_str(&errors), "No such file"));

    /* a directory is not a blocklist */
    p.blocklist_path = dir;
    fg_buf_reset(&errors);
    assert_int_equal(fg_password_policy_load(&p, &c, &errors), FG_ERR_IO);

    /* larger than the limit: refused without reading it (a sparse file) */
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), (off_t)FG_PASSWORD_BLOCKLIST_BYTES_MAX + 1), 0);
    assert_int_equal(fclose(f), 0);
    p.blocklist_path = path;
    fg_buf_reset(&errors);
    assert_int_equal(fg_password_policy_load(&p, &c, &errors), FG_ERR_TOO_LARGE);
    assert_non_null(strstr(fg_buf_str(&errors), "larger than"));
    assert_null(c);

    fg_buf_release(&errors);
    fg_test_rmtree(dir);
}

static void expect_load_error(const struct fg_password_policy *p, fg_rc want, const char *msg)
{
    struct fg_password_checker *c = NULL;
    struct fg_buf errors = FG_BUF_INIT(4096);
    assert_int_equal(fg_password_policy_load(p, &c, &errors), want);
    assert_null(c);
    if (strstr(fg_buf_str(&errors), msg) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", fg_buf_str(&errors), msg);
    fg_buf_release(&errors);
}

static void test_policy_load_errors(void **state)
{
    (void)state;
    struct fg_password_policy p;
    fg_password_policy_defaults(&p);
    p.min_chars = FG_PASSWORD_CHARS_FLOOR - 1;
    expect_load_error(&p, FG_ERR_CONFIG, "min_chars is below");
    fg_password_policy_defaults(&p);
    p.max_chars = FG_PASSWORD_CHARS_CEILING + 1;
    expect_load_error(&p, FG_ERR_CONFIG, "max_chars is above");
    fg_password_policy_defaults(&p);
    p.min_chars = 20;
    p.max_chars = 16;
    expect_load_error(&p, FG_ERR_CONFIG, "min_chars is above max_chars");
    fg_password_policy_defaults(&p);
    p.history = FG_PASSWORD_HISTORY_MAX + 1;
    expect_load_error(&p, FG_ERR_CONFIG, "history is above");
    fg_password_policy_defaults(&p);
    p.dictionary_path = "/nonexistent/cracklib_dict";
    expect_load_error(&p, FG_ERR_CONFIG, "cannot load the cracklib dictionary");

    /* other limits show in the reasons; switches turn rules off */
    fg_password_policy_defaults(&p);
    p.min_chars = 16;
    p.max_chars = 20;
    p.require_digit = 0;
    struct fg_password_checker *c = NULL;
    assert_int_equal(fg_password_policy_load(&p, &c, NULL), FG_OK);
    assert_string_equal(reason_for(c, "Rk7#vq2Lp9!xZt", NULL), "too short: at least 16 characters");
    assert_string_equal(reason_for(c, "Rk7#vq2Lp9!xZt.Hw3Yq", NULL), "");
    assert_string_equal(reason_for(c, "Rk7#vq2Lp9!xZt.Hw3Yq+", NULL),
                        "too long: at most 20 characters");
    assert_string_equal(reason_for(c, "Rk#vqLp!xZt.Hw;Yq", NULL), "");
    fg_password_checker_free(c);
    fg_password_checker_free(NULL);
}

/* A password change: refused if pw is among the last `keep` passwords (newest first). */
static int change(char history[][FG_PWHASH_STR_MAX], size_t *n, size_t keep, const char *pw)
{
    const char *h[FG_PASSWORD_HISTORY_MAX];
    for (size_t i = 0; i < *n; i++)
        h[i] = history[i];
    int found = -1;
    assert_int_equal(fg_password_in_history(h, *n, pw, strlen(pw), &found), FG_OK);
    if (found)
        return 0;
    memmove(history[1], history[0], (keep - 1) * FG_PWHASH_STR_MAX);
    assert_int_equal(fg_password_hash_params(&cheap, pw, strlen(pw), history[0]), FG_OK);
    *n = *n < keep ? *n + 1 : keep;
    return 1;
}

static void test_history(void **state)
{
    (void)state;
    static const char *const pw[] = {"Old-One-1xq", "Old-Two-2xq", "Old-Three-3x", "Old-Four-4xq",
                                     "Old-Five-5xq"};
    char history[FG_PASSWORD_HISTORY_DEFAULT][FG_PWHASH_STR_MAX];
    size_t n = 0;
    for (size_t i = 0; i < 4; i++)
        assert_true(change(history, &n, FG_PASSWORD_HISTORY_DEFAULT, pw[i]));
    assert_int_equal(n, 4);
    for (size_t i = 0; i < 4; i++) /* each of the last four is refused */
        assert_false(change(history, &n, FG_PASSWORD_HISTORY_DEFAULT, pw[i]));
    assert_true(change(history, &n, FG_PASSWORD_HISTORY_DEFAULT, pw[4]));
    /* pw[0] is now the 5th newest: allowed again; pw[1] is still within the four */
    assert_false(change(history, &n, FG_PASSWORD_HISTORY_DEFAULT, pw[1]));
    assert_true(change(history, &n, FG_PASSWORD_HISTORY_DEFAULT, pw[0]));

    /* an empty history finds nothing; a broken entry is an error, not "not found" */
    int found = -1;
    assert_int_equal(fg_password_in_history(NULL, 0, "x", 1, &found), FG_OK);
    assert_int_equal(found, 0);
    const char *broken[] = {history[0], "$argon2id$v=19$garbage"};
    found = -1;
    assert_int_equal(fg_password_in_history(broken, 2, pw[0], strlen(pw[0]), &found),
                     FG_ERR_CORRUPT);
    assert_int_equal(found, 0);
    char big[FG_CRYPTO_PASSWORD_MAX + 1];
    memset(big, 'b', sizeof big);
    assert_int_equal(fg_password_in_history(broken, 1, big, sizeof big, &found), FG_ERR_INVALID);
}

static void test_differs(void **state)
{
    (void)state;
    char payment[FG_PWHASH_STR_MAX];
    const char *pay = "Pay-Secret-42x";
    assert_int_equal(fg_password_hash_params(&cheap, pay, strlen(pay), payment), FG_OK);
    int differs = -1;
    assert_int_equal(fg_password_differs(payment, pay, strlen(pay), &differs), FG_OK);
    assert_int_equal(differs, 0);
    assert_int_equal(fg_password_differs(payment, "Login-Secret-7q", 15, &differs), FG_OK);
    assert_int_equal(differs, 1);
    assert_int_equal(fg_password_differs(NULL, pay, strlen(pay), &differs), FG_OK);
    assert_int_equal(differs, 1);
    assert_int_equal(fg_password_differs("not a hash", pay, strlen(pay), &differs), FG_ERR_CORRUPT);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Default parameters, once: hash, verify, rehash decisions, and the dummy's timing. */
static void test_default_params_and_dummy(void **state)
{
    (void)state;
    char stored[FG_PWHASH_STR_MAX], cheap_stored[FG_PWHASH_STR_MAX];
    const char *pw = "Rk7#vq2Lp9!xZt", *wrong = "Rk7#vq2Lp9!xZu";
    assert_int_equal(fg_password_hash(pw, strlen(pw), stored), FG_OK);
    assert_true(strncmp(stored, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
    assert_int_equal(fg_password_verify(stored, pw, strlen(pw)), FG_OK);
    assert_int_equal(fg_password_verify(stored, wrong, strlen(wrong)), FG_ERR_UNAUTHENTICATED);
    assert_int_equal(fg_password_needs_rehash(stored), 0);
    assert_int_equal(fg_password_hash_params(&cheap, pw, strlen(pw), cheap_stored), FG_OK);
    assert_int_equal(fg_password_needs_rehash(cheap_stored), 1);
    assert_int_equal(fg_password_verify("garbage", pw, strlen(pw)), FG_ERR_INVALID);

    /* the dummy never succeeds, whatever the password */
    assert_int_equal(fg_password_verify_dummy(pw, strlen(pw)), FG_ERR_UNAUTHENTICATED);
    assert_int_equal(fg_password_verify_dummy("", 0), FG_ERR_UNAUTHENTICATED);

    /* same order of time as a real wrong password: medians of 11 within 50% (a sanity
     * check, not a benchmark; interleaved so drift hits both alike) */
    enum { ROUNDS = 11 };
    uint64_t real[ROUNDS], dummy[ROUNDS];
    for (size_t i = 0; i < ROUNDS; i++) {
        uint64_t t0 = now_ns();
        assert_int_equal(fg_password_verify(stored, wrong, strlen(wrong)), FG_ERR_UNAUTHENTICATED);
        uint64_t t1 = now_ns();
        assert_int_equal(fg_password_verify_dummy(wrong, strlen(wrong)), FG_ERR_UNAUTHENTICATED);
        uint64_t t2 = now_ns();
        real[i] = t1 - t0;
        dummy[i] = t2 - t1;
    }
    qsort(real, ROUNDS, sizeof real[0], compare_u64);
    qsort(dummy, ROUNDS, sizeof dummy[0], compare_u64);
    double r = (double)real[ROUNDS / 2], d = (double)dummy[ROUNDS / 2];
    print_message("verify median %.1f ms, dummy median %.1f ms\n", r / 1e6, d / 1e6);
    assert_true(d >= r * 0.5 && d <= r * 1.5);
}

/* ---- threads: cracklib's static buffers are behind a lock; results stay right --------- */
struct thread_case {
    const char *pw;
    const char *reason;
};

static const struct thread_case thread_cases[] = {
    {"Rk7#vq2Lp9!xZt", ""},
    {"c0mmunication", "is a dictionary word"},
    {"Sunshine2024!!", "is a dictionary word"},
    {"ab1ab1ab1ab1", "has too few different characters"},
    {"12ab34cd56ef78gh", "has a sequence or repeated characters"},
    {"Kx9!pLmN2#qRsV", ""},
    {"!!Basketball99", "is a dictionary word"},
    {"tiger7 ocean2 violin8 maple", ""},
};

static void *thread_run(void *arg)
{
    intptr_t wrong = 0;
    size_t offset = (size_t)(uintptr_t)arg, n = sizeof thread_cases / sizeof thread_cases[0];
    for (size_t i = 0; i < 60; i++) {
        const struct thread_case *tc = &thread_cases[(i + offset) % n];
        const char *reason = NULL;
        fg_rc rc = fg_password_check(checker, tc->pw, strlen(tc->pw), NULL, &reason);
        const char *got = rc == FG_OK ? "" : rc == FG_ERR_POLICY ? reason : "error";
        wrong += strcmp(got, tc->reason) != 0;
    }
    return (void *)wrong;
}

static void test_threads(void **state)
{
    (void)state;
    enum { THREADS = 4 };
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, thread_run, (void *)i), 0);
    for (size_t i = 0; i < THREADS; i++) {
        void *wrong = NULL;
        assert_int_equal(pthread_join(t[i], &wrong), 0);
        assert_int_equal((intptr_t)wrong, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_strong_accepted),
        cmocka_unit_test(test_each_rule),
        cmocka_unit_test(test_similarity),
        cmocka_unit_test(test_utf8_counted_as_characters),
        cmocka_unit_test(test_blocklist),
        cmocka_unit_test(test_policy_load_errors),
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_differs),
        cmocka_unit_test(test_default_params_and_dummy),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
