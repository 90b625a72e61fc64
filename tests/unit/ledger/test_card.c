/*
 * test_card.c — ledger/card.c, the card vault (REQUIREMENTS DATA-3, DATA-4, ACC-5; JR/T 0149):
 * a PAN becomes a Luhn-valid token with the reserved prefix 99 and the PAN's length; the same
 * PAN for the same customer gives the same token (blind index), for another customer another
 * one; invalid PANs (Luhn, length, letters, a token submitted as a card) are refused with
 * nothing written; display follows data/fields.yaml (last 4 by default, first 6 + last 4 for
 * holders of cards.create); detokenisation returns the PAN; the PAN is never in the database
 * file; a per-customer limit; destruction of the customer removes PAN, index and display data.
 */
#include "customer_fixture.h"

static int setup(void **state)
{
    *state = cust_env_new("card");
    return 0;
}

static int teardown(void **state)
{
    cust_env_free(*state);
    return 0;
}

#define ID_A "11010519491231002X"

struct add_job {
    struct cust_env *e;
    const char *customer_id, *pan;
    char card_id[FG_CARD_ID_SIZE];
    struct fg_card_view out;
    int existing;
    const char *why;
    int destroy;
};

static fg_rc add_intent(fg_conn *c, void *arg)
{
    struct add_job *j = arg;
    if (j->destroy)
        return fg_customer_destroy(c, j->customer_id, "uofficer", "usupervisor", 9000, NULL,
                                   &j->why);
    return fg_card_add(c, j->e->k, j->e->f, j->customer_id, j->card_id, j->pan, strlen(j->pan),
                       "uteller", 8000, &j->out, &j->existing, &j->why);
}

static fg_rc add(struct cust_env *e, const char *customer_id, const char *pan, struct add_job *j)
{
    memset(j, 0, sizeof *j);
    j->e = e;
    j->customer_id = customer_id;
    j->pan = pan;
    assert_int_equal(fg_customer_new_id(FG_CARD_ID_PREFIX, j->card_id), FG_OK);
    return fg_store_write(e->store, add_intent, j);
}

static fg_rc detokenize(struct cust_env *e, const char *token, char pan[FG_PAN_SIZE],
                        struct fg_card_view *card)
{
    fg_conn *c = env_read(e->le);
    fg_rc rc = fg_card_detokenize(c, e->k, e->f, token, strlen(token), pan, card);
    fg_store_read_release(e->store, c);
    return rc;
}

static void display(struct cust_env *e, const char *role, const struct fg_card_view *v,
                    char out[FG_MASK_OUT_MAX])
{
    assert_int_equal(fg_card_display(e->f, e->roles, cust_role(e, role), v, out), FG_OK);
}

struct list_ctx {
    int n;
    struct fg_card_view v[4];
};

static fg_rc list_cb(void *ctx, const struct fg_card_view *card)
{
    struct list_ctx *l = ctx;
    if (l->n < 4)
        l->v[l->n] = *card;
    l->n++;
    return FG_OK;
}

static struct list_ctx list(struct cust_env *e, const char *customer_id)
{
    struct list_ctx l = {0};
    fg_conn *c = env_read(e->le);
    assert_int_equal(fg_card_list(c, customer_id, list_cb, &l), FG_OK);
    fg_store_read_release(e->store, c);
    return l;
}

static void test_tokenise_display_detokenise(void **state)
{
    struct cust_env *e = *state;
    char cus[FG_CUSTOMER_ID_SIZE], pan[FG_PAN_SIZE];
    cust_new(e, "c0000000001", ID_A, "13812345678", cus, NULL);
    cust_pan("622202123456789012", pan); /* 19 digits */
    struct add_job j;
    assert_int_equal(add(e, cus, pan, &j), FG_OK);
    assert_false(j.existing);
    const struct fg_card_view v = j.out;
    assert_string_equal(v.id, j.card_id);
    assert_string_equal(v.customer_id, cus);
    /* the token: PAN-shaped, prefix 99, Luhn-valid, not the PAN */
    assert_int_equal(strlen(v.token), strlen(pan));
    assert_memory_equal(v.token, FG_CARD_TOKEN_PREFIX, 2);
    assert_true(fg_luhn_valid(v.token, strlen(v.token)));
    assert_true(fg_card_token_valid(v.token, strlen(v.token)));
    assert_string_not_equal(v.token, pan);
    assert_string_equal(v.last4, pan + strlen(pan) - 4);
    /* display per role (data/fields.yaml card.pan) */
    char shown[FG_MASK_OUT_MAX], want[FG_PAN_SIZE];
    display(e, "teller", &v, shown); /* holds cards.create: first 6 + last 4 */
    snprintf(want, sizeof want, "622202*********%s", pan + 15);
    assert_string_equal(shown, want);
    display(e, "auditor", &v, shown); /* last 4 */
    snprintf(want, sizeof want, "***************%s", pan + 15);
    assert_string_equal(shown, want);
    display(e, "customer", &v, shown);
    assert_string_equal(shown, want);
    /* the same PAN again: the same card and token */
    struct add_job again;
    assert_int_equal(add(e, cus, pan, &again), FG_OK);
    assert_true(again.existing);
    assert_string_equal(again.out.token, v.token);
    assert_string_equal(again.out.id, v.id);
    assert_int_equal(cust_int(e, "SELECT count(*) FROM customer_cards"), 1);
    /* detokenise */
    char clear[FG_PAN_SIZE];
    struct fg_card_view card;
    assert_int_equal(detokenize(e, v.token, clear, &card), FG_OK);
    assert_string_equal(clear, pan);
    assert_string_equal(card.id, v.id);
    char unknown[FG_PAN_SIZE];
    cust_pan("990000000000000000", unknown);
    assert_int_equal(detokenize(e, unknown, clear, NULL), FG_ERR_NOT_FOUND);
    assert_string_equal(clear, "");
    assert_int_equal(detokenize(e, pan, clear, NULL), FG_ERR_INVALID); /* a PAN is no token */
    assert_int_equal(detokenize(e, "99abc", clear, NULL), FG_ERR_INVALID);
    /* DATA-4: the PAN is nowhere in the file (the display data are first 6 / last 4) */
    assert_int_equal(cust_db_count(e, pan), 0);
    assert_int_equal(cust_db_count(e, pan + 3), 0);
    /* listed */
    struct list_ctx l = list(e, cus);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].token, v.token);
    l = list(e, "cus_AAAAAAAAAAAAAAAAAAAAAA");
    assert_int_equal(l.n, 0);
}

static void test_same_pan_other_customer(void **state)
{
    struct cust_env *e = *state;
    char a[FG_CUSTOMER_ID_SIZE], b[FG_CUSTOMER_ID_SIZE], pan[FG_PAN_SIZE], idn[19];
    cust_new(e, "c0000000002", ID_A, "13812345678", a, NULL);
    cust_id_number("44030619900307121", idn);
    cust_new(e, "c0000000003", idn, "13900001111", b, NULL);
    cust_pan("411111111111111", pan); /* 16 digits */
    struct add_job ja, jb;
    assert_int_equal(add(e, a, pan, &ja), FG_OK);
    assert_int_equal(add(e, b, pan, &jb), FG_OK);
    assert_false(jb.existing);
    assert_string_not_equal(ja.out.token, jb.out.token);
    assert_int_equal(cust_int(e, "SELECT count(DISTINCT pan_idx) FROM customer_cards"), 2);
}

static void test_refusals(void **state)
{
    struct cust_env *e = *state;
    char cus[FG_CUSTOMER_ID_SIZE], pan[FG_PAN_SIZE], token_like[FG_PAN_SIZE];
    cust_new(e, "c0000000004", ID_A, "13812345678", cus, NULL);
    cust_pan("411111111111111", pan);
    char bad_luhn[FG_PAN_SIZE];
    memcpy(bad_luhn, pan, sizeof pan);
    bad_luhn[15] = bad_luhn[15] == '9' ? '0' : (char)(bad_luhn[15] + 1);
    cust_pan("991111111111111", token_like);
    const char *bad[] = {bad_luhn,
                         "4111 1111 1111 1111",
                         "41111111111",
                         "41111111111111111111",
                         "4111abcd11111111",
                         token_like,
                         ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct add_job j;
        assert_int_equal(add(e, cus, bad[i], &j), FG_ERR_INVALID);
        assert_non_null(j.why);
        assert_null(strstr(j.why, "4111")); /* the reason never echoes the value */
    }
    struct add_job j;
    assert_int_equal(add(e, "cus_AAAAAAAAAAAAAAAAAAAAAA", pan, &j), FG_ERR_NOT_FOUND);
    assert_int_equal(cust_int(e, "SELECT count(*) FROM customer_cards"), 0);
}

static void test_limit(void **state)
{
    struct cust_env *e = *state;
    char cus[FG_CUSTOMER_ID_SIZE];
    cust_new(e, "c0000000005", ID_A, "13812345678", cus, NULL);
    for (unsigned i = 0; i <= FG_CARD_PER_CUSTOMER_MAX; i++) {
        char payload[32], pan[FG_PAN_SIZE];
        snprintf(payload, sizeof payload, "6222020000%05u", i);
        cust_pan(payload, pan);
        struct add_job j;
        assert_int_equal(add(e, cus, pan, &j), i < FG_CARD_PER_CUSTOMER_MAX ? FG_OK : FG_ERR_LIMIT);
    }
    assert_int_equal(cust_int(e, "SELECT count(*) FROM customer_cards"), FG_CARD_PER_CUSTOMER_MAX);
}

static void test_destroyed_customer(void **state)
{
    struct cust_env *e = *state;
    char cus[FG_CUSTOMER_ID_SIZE], pan[FG_PAN_SIZE], other[FG_PAN_SIZE];
    cust_new(e, "c0000000006", ID_A, "13812345678", cus, NULL);
    cust_pan("622202123456789", pan);
    cust_pan("622202123456788", other);
    struct add_job j;
    assert_int_equal(add(e, cus, pan, &j), FG_OK);
    struct fg_card_view v = j.out;
    struct add_job d = {.e = e, .customer_id = cus, .destroy = 1};
    assert_int_equal(fg_store_write(e->store, add_intent, &d), FG_OK);
    assert_int_equal(cust_int(e, "SELECT count(*) FROM customer_cards WHERE status = 'destroyed' "
                                 "AND pan IS NULL AND pan_idx IS NULL AND masked_wide IS NULL "
                                 "AND last4 IS NULL"),
                     1);
    char clear[FG_PAN_SIZE];
    assert_int_equal(detokenize(e, v.token, clear, NULL), FG_ERR_CONFLICT);
    assert_string_equal(clear, "");
    assert_int_equal(add(e, cus, other, &j), FG_ERR_CONFLICT);
    struct list_ctx l = list(e, cus);
    assert_int_equal(l.n, 1);
    assert_true(l.v[0].destroyed);
    char shown[FG_MASK_OUT_MAX];
    display(e, "teller", &l.v[0], shown);
    assert_string_equal(shown, "");
}

static void test_display_needs_a_safe_rule(void **state)
{
    struct cust_env *e = *state;
    static const char open_pan[] = "fields:\n"
                                   "  card.pan: {class: C2, encrypt: true, purpose: pan, "
                                   "index: true, mask: none}\n";
    struct fg_fields *f = NULL;
    char err[256];
    assert_int_equal(fg_fields_load(open_pan, sizeof open_pan - 1, &f, err, sizeof err), FG_OK);
    struct fg_card_view v = {.masked_wide = "622202*****7890", .last4 = "7890"};
    char shown[FG_MASK_OUT_MAX];
    assert_int_equal(fg_card_display(f, e->roles, cust_role(e, "teller"), &v, shown),
                     FG_ERR_CONFIG);
    assert_string_equal(shown, "");
    fg_fields_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tokenise_display_detokenise, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_pan_other_customer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroyed_customer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_display_needs_a_safe_rule, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
