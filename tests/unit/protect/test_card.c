/*
 * test_card.c — Luhn known answers, the PAN check and payment tokens (DATA-3, JR/T 0149).
 *
 * Known-answer PANs are the card networks' published test numbers (Visa 4111..., Mastercard
 * 5555..., Amex 378282246310005, Discover, JCB) plus UnionPay-shaped numbers whose check
 * digit was computed by hand; 6222021234567890, often quoted as a test number, is NOT
 * Luhn-valid (its check digit would be 4) and is used here as a refusal.
 */
#include "testutil.h"

#include <string.h>

#include "crypto/crypto.h"
#include "protect/card.h"

#define TOKENS 1000

static void test_luhn_known_answers(void **state)
{
    (void)state;
    static const char *const valid[] = {
        "4111111111111111",    /* Visa */
        "4012888888881881",    /* Visa */
        "4222222222222",       /* Visa, 13 digits */
        "5555555555554444",    /* Mastercard */
        "378282246310005",     /* Amex, 15 digits */
        "6011111111111117",    /* Discover */
        "3530111333300000",    /* JCB */
        "6222021234567894",    /* UnionPay-shaped, check digit 4 */
        "6222021234567890128", /* 19 digits */
        "79927398713",         /* the textbook example */
        "00",
    };
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
        assert_int_equal(fg_luhn_valid(valid[i], strlen(valid[i])), 1);
    static const char *const invalid[] = {
        "4111111111111112",
        "5555555555554440",
        "378282246310006",
        "6222021234567890",
        "6222021234567890123",
        "79927398710",
        "4111 1111 1111 1111",
        "411111111111111a",
        "0",
        "",
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        assert_int_equal(fg_luhn_valid(invalid[i], strlen(invalid[i])), 0);
    assert_int_equal(fg_luhn_valid(NULL, 0), 0);
    /* Length is honoured: the first 15 of a valid 16 are not valid. */
    assert_int_equal(fg_luhn_valid("4111111111111111", 15), 0);

    assert_int_equal(fg_luhn_check_digit("622202123456789", 15), '4');
    assert_int_equal(fg_luhn_check_digit("411111111111111", 15), '1');
    assert_int_equal(fg_luhn_check_digit("7992739871", 10), '3');
    assert_int_equal(fg_luhn_check_digit("99000000000", 11) >= '0', 1);
    assert_int_equal(fg_luhn_check_digit("", 0), -1);
    assert_int_equal(fg_luhn_check_digit("12a", 3), -1);
}

static void check_refused(const char *pan, size_t len, const char *why_part)
{
    const char *why = NULL;
    assert_int_equal(fg_pan_check(pan, len, &why), FG_ERR_INVALID);
    assert_non_null(why);
    assert_non_null(strstr(why, why_part));
    /* The sentence never quotes the input. */
    if (len >= 4)
        assert_null(strstr(why, pan + len - 4));
}

static void test_pan_check(void **state)
{
    (void)state;
    const char *why = "x";
    assert_int_equal(fg_pan_check("4111111111111111", 16, &why), FG_OK);
    assert_null(why);
    assert_int_equal(fg_pan_check("4222222222222", 13, NULL), FG_OK);
    assert_int_equal(fg_pan_check("6222021234567890128", 19, NULL), FG_OK);
    assert_int_equal(fg_pan_check("378282246310005", 15, NULL), FG_OK);

    check_refused("411111111117", 12, "at least 13"); /* 12 digits, Luhn-valid */
    assert_int_equal(fg_luhn_valid("411111111117", 12), 1);
    check_refused("41111111111111111115", 20, "at most 19"); /* 20 digits, Luhn-valid */
    assert_int_equal(fg_luhn_valid("41111111111111111115", 20), 1);
    check_refused("4111 1111 1111 1111", 19, "digits only");
    check_refused("4111-1111-1111-1111", 19, "digits only");
    check_refused("411111111111111A", 16, "digits only");
    check_refused("4111111111111112", 16, "check digit");
    check_refused("6222021234567890", 16, "check digit");
    /* Luhn-valid, right length, but the token prefix: a token submitted as a card. */
    assert_int_equal(fg_luhn_valid("9912345678901239", 16), 1);
    check_refused("9912345678901239", 16, "token");
    check_refused("9900000000002", 13, "token");
    /* Embedded NUL and an empty input. */
    check_refused("4111111\0111111111", 16, "digits only");
    assert_int_equal(fg_pan_check("", 0, &why), FG_ERR_INVALID);
    assert_int_equal(fg_pan_check(NULL, 0, &why), FG_ERR_INVALID);
}

static void test_token_new(void **state)
{
    (void)state;
    unsigned long counts[10] = {0};
    unsigned long drawn = 0;
    char first[FG_PAN_SIZE] = "";
    int all_equal = 1;
    for (int i = 0; i < TOKENS; i++) {
        size_t len = FG_PAN_MIN + (size_t)i % (FG_PAN_MAX - FG_PAN_MIN + 1u);
        char tok[FG_PAN_SIZE];
        memset(tok, 'x', sizeof tok);
        assert_int_equal(fg_card_token_new(len, tok), FG_OK);
        assert_int_equal(strlen(tok), len);
        assert_memory_equal(tok, FG_CARD_TOKEN_PREFIX, 2);
        assert_int_equal(fg_luhn_valid(tok, len), 1);
        assert_int_equal(fg_card_token_valid(tok, len), 1);
        /* A token is never accepted as a card number. */
        assert_int_equal(fg_pan_check(tok, len, NULL), FG_ERR_INVALID);
        for (size_t j = 2; j + 1 < len; j++) { /* the random digits */
            assert_true(tok[j] >= '0' && tok[j] <= '9');
            counts[tok[j] - '0']++;
            drawn++;
        }
        if (len == 16) {
            if (first[0] == '\0')
                memcpy(first, tok, len + 1);
            else if (strcmp(first, tok) != 0)
                all_equal = 0;
        }
    }
    assert_false(all_equal);
    /* ~13000 uniform digits: each expected ~1300, sd ~34; 10% off is > 3.5 sd. */
    for (int d = 0; d < 10; d++) {
        assert_true(counts[d] * 10u > drawn * 9u / 10u);
        assert_true(counts[d] * 10u < drawn * 11u / 10u);
    }
}

static void test_token_refusals(void **state)
{
    (void)state;
    char tok[FG_PAN_SIZE + 4];
    memset(tok, 'x', sizeof tok);
    assert_int_equal(fg_card_token_new(12, tok), FG_ERR_INVALID);
    assert_int_equal(fg_card_token_new(20, tok), FG_ERR_INVALID);
    assert_int_equal(fg_card_token_new(0, tok), FG_ERR_INVALID);
    assert_int_equal(tok[0], 'x'); /* untouched */

    assert_int_equal(fg_card_token_valid("9900000000002", 13), 1);
    assert_int_equal(fg_card_token_valid("9900000000003", 13), 0);        /* Luhn */
    assert_int_equal(fg_card_token_valid("4111111111111111", 16), 0);     /* a PAN */
    assert_int_equal(fg_card_token_valid("990000000002", 12), 0);         /* short */
    assert_int_equal(fg_card_token_valid("99000000000000000002", 20), 0); /* long */
    assert_int_equal(fg_card_token_valid("99a0000000002", 13), 0);
    assert_int_equal(fg_card_token_valid(NULL, 0), 0);
}

static int setup(void **state)
{
    (void)state;
    return fg_crypto_init() == FG_OK ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_luhn_known_answers),
        cmocka_unit_test(test_pan_check),
        cmocka_unit_test(test_token_new),
        cmocka_unit_test(test_token_refusals),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
