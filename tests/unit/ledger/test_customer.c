/*
 * test_customer.c — ledger/customer.c (REQUIREMENTS ACC-1..5, DATA-3, DATA-4, AUTH-8):
 * the input rules with known answers (ISO 7064 check digits, phone normalisation, names,
 * e-mail); the shipped data/fields.yaml classifies the fields the way the service stores
 * them (and a file that does not is refused); creation seals every field and records purpose
 * and consent (ACC-1) with nothing readable in the database file; masked reads per role
 * (ACC-5), reveal in clear; duplicates by blind index name the field; the phone of a login;
 * name/e-mail changes verified after the change (ACC-3); the reserved phone change is applied
 * only once confirmed, and not onto another customer's number (AUTH-8); a ciphertext moved to
 * another row does not open; destruction overwrites everything, records who/when/approver/
 * method, disables the login and is refused while money remains (ACC-4).
 */
#include "customer_fixture.h"

#include "base/time.h"
#include "keys/keys.h"

static int setup(void **state)
{
    *state = cust_env_new("customer");
    return 0;
}

static int teardown(void **state)
{
    cust_env_free(*state);
    return 0;
}

/* Two resident IDs with valid check digits (the first is the well-known sample). */
#define ID_A "11010519491231002X"
#define PHONE_A "13812345678"
#define PHONE_A_E164 "+8613812345678"
#define PHONE_B "+8613987654321"

/* ---- one intent per service call ------------------------------------------------------------- */

enum op { OP_REVEAL = 1, OP_UPDATE, OP_BEGIN, OP_CONFIRM, OP_APPLY, OP_DESTROY, OP_PHONE_OF };

struct job {
    enum op op;
    struct cust_env *e;
    const char *id, *a, *b, *c;
    enum fg_customer_field field;
    char out[FG_CUSTOMER_VALUE_SIZE];
    char before[FG_MASK_OUT_MAX], after[FG_MASK_OUT_MAX];
    char old_phone[FG_CUSTOMER_PHONE_SIZE], new_phone[FG_CUSTOMER_PHONE_SIZE];
    char user_id[FG_USER_ID_MAX + 1];
    const char *why;
};

static fg_rc job_fn(fg_conn *c, void *arg)
{
    struct job *j = arg;
    struct cust_env *e = j->e;
    switch (j->op) {
    case OP_REVEAL:
        return fg_customer_reveal(c, e->k, e->f, j->id, j->field, j->out, sizeof j->out, NULL);
    case OP_UPDATE:
        return fg_customer_update(c, e->k, e->f, j->id, j->field, j->a, strlen(j->a), j->before,
                                  j->after, &j->why);
    case OP_BEGIN: /* a approval id, b change id, c new phone */
        return fg_customer_phone_change_begin(c, e->k, e->f, j->id, j->a, j->b, j->c, 5000,
                                              &j->why);
    case OP_CONFIRM:
        return fg_customer_phone_change_confirm(c, j->id, j->a);
    case OP_APPLY:
        return fg_customer_phone_change_apply(c, e->k, e->f, j->a, j->b, 6000, j->old_phone,
                                              j->new_phone, &j->why);
    case OP_DESTROY:
        return fg_customer_destroy(c, j->id, "uofficer", "usupervisor", 7000, j->user_id, &j->why);
    case OP_PHONE_OF:
        return fg_customer_phone_of_user(c, e->k, j->a, j->out, sizeof j->out);
    }
    return FG_ERR_INTERNAL;
}

static fg_rc run(struct cust_env *e, struct job *j)
{
    j->e = e;
    return fg_store_write(e->store, job_fn, j);
}

static fg_rc reveal(struct cust_env *e, const char *id, enum fg_customer_field f, char *out)
{
    struct job j = {.op = OP_REVEAL, .id = id, .field = f};
    fg_rc rc = run(e, &j);
    snprintf(out, FG_CUSTOMER_VALUE_SIZE, "%s", j.out);
    return rc;
}

static struct fg_customer_view view_as(struct cust_env *e, const char *id, const char *role)
{
    struct fg_customer_view v;
    fg_conn *c = env_read(e->le);
    assert_int_equal(fg_customer_load_masked(c, e->k, e->f, e->roles, cust_role(e, role), id, &v),
                     FG_OK);
    fg_store_read_release(e->store, c);
    return v;
}

/* ---- input rules ------------------------------------------------------------------------------
 */

static void test_id_number_rules(void **state)
{
    (void)state;
    char out[19];
    assert_true(fg_customer_id_number_checksum_ok(ID_A, 18));
    assert_int_equal(fg_customer_id_number_check(ID_A, 18, out), FG_OK);
    assert_string_equal(out, ID_A);
    /* a lower-case x is the same number, stored upper-case */
    assert_int_equal(fg_customer_id_number_check("11010519491231002x", 18, out), FG_OK);
    assert_string_equal(out, ID_A);
    /* every other check character is wrong */
    char bad[19];
    memcpy(bad, ID_A, 19);
    for (const char *ch = "0123456789"; *ch; ch++) {
        bad[17] = *ch;
        assert_int_equal(fg_customer_id_number_check(bad, 18, out), FG_ERR_INVALID);
        assert_string_equal(out, "");
    }
    /* generated ones pass; a changed digit fails */
    char gen[19];
    cust_id_number("44030619900307121", gen);
    assert_int_equal(fg_customer_id_number_check(gen, 18, out), FG_OK);
    gen[3] = gen[3] == '9' ? '0' : (char)(gen[3] + 1);
    assert_int_equal(fg_customer_id_number_check(gen, 18, out), FG_ERR_INVALID);
    /* the old 15-digit form; other lengths and letters */
    assert_int_equal(fg_customer_id_number_check("110105491231002", 15, out), FG_OK);
    assert_int_equal(fg_customer_id_number_check("11010549123100X", 15, out), FG_ERR_INVALID);
    assert_int_equal(fg_customer_id_number_check("1101054912310021", 16, out), FG_ERR_INVALID);
    assert_int_equal(fg_customer_id_number_check("X1010519491231002", 18, out), FG_ERR_INVALID);
    assert_int_equal(fg_customer_id_number_check(NULL, 0, out), FG_ERR_INVALID);
}

static void test_phone_rules(void **state)
{
    (void)state;
    char out[FG_CUSTOMER_PHONE_SIZE];
    assert_int_equal(fg_customer_phone_normalize(PHONE_A, 11, out), FG_OK);
    assert_string_equal(out, PHONE_A_E164);
    assert_int_equal(fg_customer_phone_normalize("+14155550123", 12, out), FG_OK);
    assert_string_equal(out, "+14155550123");
    assert_int_equal(fg_customer_phone_normalize("+12345678", 9, out), FG_OK); /* 8 digits */
    static const char *const bad[] = {
        "23812345678",       /* 11 digits not starting with 1 */
        "1381234567",        /* 10 digits */
        "+1234567",          /* 7 digits */
        "+1234567890123456", /* 16 digits */
        "+0123456789",       /* country code 0 */
        "+86 13812345678",   /* a space */
        "138-1234-5678",     /* dashes */
        "+86138123456a8",    /* a letter */
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(fg_customer_phone_normalize(bad[i], strlen(bad[i]), out), FG_ERR_INVALID);
        assert_string_equal(out, "");
    }
}

static void test_name_email_purpose_rules(void **state)
{
    (void)state;
    static const char *const names_ok[] = {"张三丰", "Alice", "Zoë O'Neil-Smith", "李"};
    for (size_t i = 0; i < sizeof names_ok / sizeof names_ok[0]; i++)
        assert_int_equal(fg_customer_name_check(names_ok[i], strlen(names_ok[i])), FG_OK);
    static const char *const names_bad[] = {
        "",
        " Alice",
        "Alice ",
        "Al\tice",
        "Al\x7fice",
        "Al\xc2\x85",
        "A\xe2\x80\xaeZ",
        /* U+202E override */ "\xc0\xafx", /* overlong */
        "\xed\xa0\x80",                    /* surrogate */
    };
    for (size_t i = 0; i < sizeof names_bad / sizeof names_bad[0]; i++)
        assert_int_equal(fg_customer_name_check(names_bad[i], strlen(names_bad[i])),
                         FG_ERR_INVALID);
    char name[FG_CUSTOMER_NAME_BYTES_MAX + 8];
    size_t n = 0;
    for (unsigned i = 0; i < FG_CUSTOMER_NAME_CHARS_MAX; i++, n += 3)
        memcpy(name + n, "张", 3);
    assert_int_equal(fg_customer_name_check(name, n), FG_OK); /* 64 code points, 192 bytes */
    memcpy(name + n, "x", 1);
    assert_int_equal(fg_customer_name_check(name, n + 1), FG_ERR_INVALID); /* 65 */

    static const char *const mails_ok[] = {"alice@example.com", "a.b+c@mail.example.cn",
                                           "x@a-b.io"};
    for (size_t i = 0; i < sizeof mails_ok / sizeof mails_ok[0]; i++)
        assert_int_equal(fg_customer_email_check(mails_ok[i], strlen(mails_ok[i])), FG_OK);
    static const char *const mails_bad[] = {
        "alice",           "@example.com", "alice@",     "a@@b.com",  "a@b@c.com",
        "alice@localhost", ".a@b.com",     "a..b@c.com", "a b@c.com", "a@-b.com",
        "a@b-.com",        "a@b..com",     "\"a\"@b.com"};
    for (size_t i = 0; i < sizeof mails_bad / sizeof mails_bad[0]; i++)
        assert_int_equal(fg_customer_email_check(mails_bad[i], strlen(mails_bad[i])),
                         FG_ERR_INVALID);
    char mail[300];
    memset(mail, 'a', sizeof mail);
    memcpy(mail + 60, "@", 1);
    memcpy(mail + 251, ".cn", 3); /* 254 bytes: labels of 63 */
    mail[121] = mail[183] = mail[245] = '.';
    assert_int_equal(fg_customer_email_check(mail, 254), FG_OK);
    mail[253] = 'n';
    memcpy(mail + 252, "cnn", 3);
    assert_int_equal(fg_customer_email_check(mail, 255), FG_ERR_INVALID);

    assert_int_equal(fg_customer_purpose_check("account_opening", 15), FG_OK);
    assert_int_equal(fg_customer_purpose_check("Account", 7), FG_ERR_INVALID);
    assert_int_equal(fg_customer_purpose_check("", 0), FG_ERR_INVALID);

    enum fg_customer_field f;
    assert_int_equal(fg_customer_field_parse("phone", &f), FG_OK);
    assert_int_equal(f, FG_CUSTOMER_PHONE);
    assert_int_equal(fg_customer_field_parse("password", &f), FG_ERR_INVALID);
    assert_string_equal(fg_customer_field_name(FG_CUSTOMER_ID_NUMBER), "id_number");
}

static void test_ids(void **state)
{
    (void)state;
    assert_int_equal(fg_crypto_init(), FG_OK);
    for (int i = 0; i < 200; i++) {
        char id[FG_CUSTOMER_ID_SIZE];
        assert_int_equal(fg_customer_new_id(FG_CUSTOMER_ID_PREFIX, id), FG_OK);
        assert_true(fg_customer_id_valid(id, FG_CUSTOMER_ID_PREFIX));
        assert_false(fg_customer_id_valid(id, FG_CUSTOMER_CHANGE_PREFIX));
        int run = 0;
        for (const char *p = id; *p; p++) {
            run = *p >= '0' && *p <= '9' ? run + 1 : 0;
            assert_true(run < 6);
        }
    }
    assert_false(fg_customer_id_valid("cus_short", FG_CUSTOMER_ID_PREFIX));
    assert_false(fg_customer_id_valid("cus_AAAAAAAAAAAAAAAAAAAAA!", FG_CUSTOMER_ID_PREFIX));
}

/* ---- the classification -----------------------------------------------------------------------
 */

static void test_fields_agree(void **state)
{
    struct cust_env *e = *state;
    const char *why = NULL;
    assert_int_equal(fg_customer_fields_check(e->f, &why), FG_OK);
    for (int i = 0; i < FG_CUSTOMER_FIELD_COUNT; i++) {
        const struct fg_field_spec *s = fg_customer_field_spec(e->f, (enum fg_customer_field)i);
        assert_non_null(s);
        assert_int_equal(s->cls, FG_FIELD_C2);
        assert_string_equal(s->reveal_permission, "pii.reveal");
    }
    /* a classification that would store the phone without an index is refused */
    static const char weak[] = "fields:\n"
                               "  customer.name: {class: C2, encrypt: true, mask: name}\n"
                               "  customer.id_number: {class: C2, encrypt: true, index: true, "
                               "mask: id_number}\n"
                               "  customer.phone: {class: C2, encrypt: true, mask: phone}\n"
                               "  customer.email: {class: C2, encrypt: true, mask: email}\n"
                               "  card.pan: {class: C2, encrypt: true, purpose: pan, index: true, "
                               "mask: pan_last4}\n";
    struct fg_fields *f = NULL;
    char err[512];
    assert_int_equal(fg_fields_load(weak, sizeof weak - 1, &f, err, sizeof err), FG_OK);
    assert_int_equal(fg_customer_fields_check(f, &why), FG_ERR_CONFIG);
    assert_non_null(strstr(why, "blind index"));
    fg_fields_free(f);
    assert_int_equal(fg_customer_fields_check(NULL, &why), FG_ERR_CONFIG);
    /* re-registration (a second server in one process) is fine */
    assert_int_equal(fg_customer_register_columns(), FG_OK);
}

/* ---- create, read, reveal ---------------------------------------------------------------------
 */

static void test_create_masked_reveal(void **state)
{
    struct cust_env *e = *state;
    char uid[FG_USER_ID_MAX + 1], id[FG_CUSTOMER_ID_SIZE];
    cust_user(e, "c0000000001", 0, uid);
    assert_int_equal(cust_create(e, uid, "张三丰", ID_A, PHONE_A, "alice@example.com", id, NULL),
                     FG_OK);
    struct fg_customer_view v = view_as(e, id, "teller");
    assert_string_equal(v.id, id);
    assert_string_equal(v.user_id, uid);
    assert_string_equal(v.username, "c0000000001");
    assert_false(v.destroyed);
    assert_string_equal(v.masked[FG_CUSTOMER_NAME], "张**");
    assert_string_equal(v.masked[FG_CUSTOMER_ID_NUMBER], "110105********002X");
    assert_string_equal(v.masked[FG_CUSTOMER_PHONE], "+86138****5678");
    assert_string_equal(v.masked[FG_CUSTOMER_EMAIL], "a***@example.com");
    for (int i = 0; i < FG_CUSTOMER_FIELD_COUNT; i++)
        assert_true(v.present[i]);
    /* ACC-1: purpose and consent recorded */
    assert_string_equal(v.purpose, FG_CUSTOMER_PURPOSE_DEFAULT);
    assert_non_null(strstr(v.consent, "\"method\":\"" FG_CUSTOMER_CONSENT_METHOD "\""));
    assert_non_null(strstr(v.consent, "\"version\":\"" FG_CUSTOMER_CONSENT_VERSION "\""));
    assert_non_null(strstr(v.consent, "\"teller\":\"uteller\""));
    assert_non_null(strstr(v.consent, "\"time\":\"2023-11-14T22:13:20"));
    assert_string_equal(v.created_by, "uteller");
    /* an auditor sees the same masks (no field of a customer has a wider display) */
    struct fg_customer_view w = view_as(e, id, "auditor");
    assert_memory_equal(w.masked, v.masked, sizeof v.masked);

    char out[FG_CUSTOMER_VALUE_SIZE];
    assert_int_equal(reveal(e, id, FG_CUSTOMER_NAME, out), FG_OK);
    assert_string_equal(out, "张三丰");
    assert_int_equal(reveal(e, id, FG_CUSTOMER_ID_NUMBER, out), FG_OK);
    assert_string_equal(out, ID_A);
    assert_int_equal(reveal(e, id, FG_CUSTOMER_PHONE, out), FG_OK);
    assert_string_equal(out, PHONE_A_E164); /* normalised */
    assert_int_equal(reveal(e, id, FG_CUSTOMER_EMAIL, out), FG_OK);
    assert_string_equal(out, "alice@example.com");
    assert_int_equal(reveal(e, "cus_AAAAAAAAAAAAAAAAAAAAAA", FG_CUSTOMER_PHONE, out),
                     FG_ERR_NOT_FOUND);
    assert_int_equal(reveal(e, "nonsense", FG_CUSTOMER_PHONE, out), FG_ERR_NOT_FOUND);

    /* DATA-4 / ACC-2: nothing of it is in the database file in clear */
    assert_int_equal(cust_db_count(e, ID_A), 0);
    assert_int_equal(cust_db_count(e, "13812345678"), 0);
    assert_int_equal(cust_db_count(e, "alice@example.com"), 0);
    assert_int_equal(cust_db_count(e, "张三丰"), 0);
    assert_int_equal(cust_int(e, "SELECT count(*) FROM customers WHERE length(id_number_idx) = 32 "
                                 "AND length(phone_idx) = 32"),
                     1);
    /* every ciphertext is counted under pii version 1 (destroying that version is refused) */
    fg_conn *c = env_read(e->le);
    uint64_t used = 0;
    assert_int_equal(fg_protect_count_version(c, FG_KEY_PII, 1, &used), FG_OK);
    fg_store_read_release(e->store, c);
    assert_true(used >= 4);
}

static void test_email_optional_purpose_given(void **state)
{
    struct cust_env *e = *state;
    char uid[FG_USER_ID_MAX + 1], id[FG_CUSTOMER_ID_SIZE], idn[19];
    cust_user(e, "c0000000002", 0, uid);
    cust_id_number("44030619900307121", idn);
    char fresh[FG_CUSTOMER_ID_SIZE];
    assert_int_equal(fg_customer_new_id(FG_CUSTOMER_ID_PREFIX, fresh), FG_OK);
    struct cust_create_job j = {.e = e,
                                .in = {.id = fresh,
                                       .user_id = uid,
                                       .name = "Bob",
                                       .id_number = idn,
                                       .phone = "+14155550123",
                                       .purpose = "card_issuing",
                                       .created_by = "uteller"}};
    assert_int_equal(fg_store_write(e->store, cust_create_intent, &j), FG_OK);
    memcpy(id, fresh, sizeof id);
    struct fg_customer_view v = view_as(e, id, "teller");
    assert_false(v.present[FG_CUSTOMER_EMAIL]);
    assert_string_equal(v.masked[FG_CUSTOMER_EMAIL], "");
    assert_string_equal(v.purpose, "card_issuing");
    char out[FG_CUSTOMER_VALUE_SIZE];
    assert_int_equal(reveal(e, id, FG_CUSTOMER_EMAIL, out), FG_ERR_NOT_FOUND);
    assert_string_equal(out, "");
}

static void test_refusals_name_the_field(void **state)
{
    struct cust_env *e = *state;
    char uid[FG_USER_ID_MAX + 1], staff[FG_USER_ID_MAX + 1], idn[19];
    cust_user(e, "c0000000003", 0, uid);
    cust_user(e, "teller7", 1, staff);
    cust_id_number("44030619900307121", idn);
    const char *field = NULL;
    assert_int_equal(cust_create(e, uid, "", ID_A, PHONE_A, NULL, NULL, &field), FG_ERR_INVALID);
    assert_string_equal(field, "name");
    assert_int_equal(cust_create(e, uid, "Al", "11010519491231002Y", PHONE_A, NULL, NULL, &field),
                     FG_ERR_INVALID);
    assert_string_equal(field, "id_number");
    assert_int_equal(cust_create(e, uid, "Al", ID_A, "12345", NULL, NULL, &field), FG_ERR_INVALID);
    assert_string_equal(field, "phone");
    assert_int_equal(cust_create(e, uid, "Al", ID_A, PHONE_A, "nope", NULL, &field),
                     FG_ERR_INVALID);
    assert_string_equal(field, "email");
    /* a staff login is not a customer login */
    assert_int_equal(cust_create(e, staff, "Al", ID_A, PHONE_A, NULL, NULL, &field),
                     FG_ERR_INVALID);
    assert_string_equal(field, "user_id");
    /* duplicates by blind index: the same ID number, the same phone in another spelling */
    assert_int_equal(cust_create(e, uid, "Al", ID_A, PHONE_A, NULL, NULL, &field), FG_OK);
    char uid2[FG_USER_ID_MAX + 1];
    cust_user(e, "c0000000004", 0, uid2);
    assert_int_equal(cust_create(e, uid2, "Bo", ID_A, PHONE_B, NULL, NULL, &field),
                     FG_ERR_CONFLICT);
    assert_string_equal(field, "id_number");
    assert_int_equal(cust_create(e, uid2, "Bo", "11010519491231002x", PHONE_B, NULL, NULL, &field),
                     FG_ERR_CONFLICT); /* the lower-case x is the same number */
    assert_string_equal(field, "id_number");
    assert_int_equal(cust_create(e, uid2, "Bo", idn, PHONE_A_E164, NULL, NULL, &field),
                     FG_ERR_CONFLICT);
    assert_string_equal(field, "phone");
    /* one customer per login */
    assert_int_equal(cust_create(e, uid, "Bo", idn, PHONE_B, NULL, NULL, &field), FG_ERR_CONFLICT);
    assert_string_equal(field, "user_id");
    assert_int_equal(cust_int(e, "SELECT count(*) FROM customers"), 1);
    assert_int_equal(cust_create(e, uid2, "Bo", idn, PHONE_B, NULL, NULL, &field), FG_OK);
    assert_int_equal(cust_int(e, "SELECT count(*) FROM customers"), 2);
}

static void test_phone_and_id_of_user(void **state)
{
    struct cust_env *e = *state;
    char id[FG_CUSTOMER_ID_SIZE], uid[FG_USER_ID_MAX + 1], staff[FG_USER_ID_MAX + 1];
    cust_new(e, "c0000000005", ID_A, PHONE_A, id, uid);
    cust_user(e, "teller8", 1, staff);
    struct job j = {.op = OP_PHONE_OF, .a = uid};
    assert_int_equal(run(e, &j), FG_OK);
    assert_string_equal(j.out, PHONE_A_E164);
    j = (struct job){.op = OP_PHONE_OF, .a = staff};
    assert_int_equal(run(e, &j), FG_ERR_NOT_FOUND);
    j = (struct job){.op = OP_PHONE_OF, .a = "unobody"};
    assert_int_equal(run(e, &j), FG_ERR_NOT_FOUND);
    fg_conn *c = env_read(e->le);
    char small[8], cid[FG_CUSTOMER_ID_SIZE];
    assert_int_equal(fg_customer_phone_of_user(c, e->k, uid, small, sizeof small), FG_ERR_LIMIT);
    assert_string_equal(small, "");
    assert_int_equal(fg_customer_id_of_user(c, uid, cid), FG_OK);
    assert_string_equal(cid, id);
    assert_int_equal(fg_customer_id_of_user(c, staff, cid), FG_ERR_NOT_FOUND);
    char owner[FG_USER_ID_MAX + 1];
    int destroyed = 1;
    assert_int_equal(fg_customer_owner(c, id, owner, &destroyed), FG_OK);
    assert_string_equal(owner, uid);
    assert_false(destroyed);
    fg_store_read_release(e->store, c);
    /* destroyed: no phone any more (the login cannot get codes) */
    j = (struct job){.op = OP_DESTROY, .id = id};
    assert_int_equal(run(e, &j), FG_OK);
    j = (struct job){.op = OP_PHONE_OF, .a = uid};
    assert_int_equal(run(e, &j), FG_ERR_NOT_FOUND);
}

/* ---- changes ----------------------------------------------------------------------------------
 */

static void test_update_name_email(void **state)
{
    struct cust_env *e = *state;
    char id[FG_CUSTOMER_ID_SIZE];
    cust_new(e, "c0000000006", ID_A, PHONE_A, id, NULL);
    struct job j = {.op = OP_UPDATE, .id = id, .field = FG_CUSTOMER_EMAIL, .a = "bob@example.org"};
    assert_int_equal(run(e, &j), FG_OK);
    assert_string_equal(j.before, "a***@example.com");
    assert_string_equal(j.after, "b***@example.org");
    j = (struct job){.op = OP_UPDATE, .id = id, .field = FG_CUSTOMER_NAME, .a = "李四"};
    assert_int_equal(run(e, &j), FG_OK);
    assert_string_equal(j.before, "张**");
    assert_string_equal(j.after, "李*");
    char out[FG_CUSTOMER_VALUE_SIZE];
    assert_int_equal(reveal(e, id, FG_CUSTOMER_NAME, out), FG_OK);
    assert_string_equal(out, "李四");
    assert_int_equal(reveal(e, id, FG_CUSTOMER_EMAIL, out), FG_OK);
    assert_string_equal(out, "bob@example.org");
    /* phone and ID number do not change this way; bad values are refused */
    j = (struct job){.op = OP_UPDATE, .id = id, .field = FG_CUSTOMER_PHONE, .a = PHONE_B};
    assert_int_equal(run(e, &j), FG_ERR_INVALID);
    assert_non_null(strstr(j.why, "approval"));
    j = (struct job){.op = OP_UPDATE, .id = id, .field = FG_CUSTOMER_ID_NUMBER, .a = ID_A};
    assert_int_equal(run(e, &j), FG_ERR_INVALID);
    j = (struct job){.op = OP_UPDATE, .id = id, .field = FG_CUSTOMER_EMAIL, .a = "x"};
    assert_int_equal(run(e, &j), FG_ERR_INVALID);
    j = (struct job){.op = OP_UPDATE, .id = id, .field = FG_CUSTOMER_NAME, .a = "\x01"};
    assert_int_equal(run(e, &j), FG_ERR_INVALID);
    j = (struct job){
        .op = OP_UPDATE, .id = "cus_AAAAAAAAAAAAAAAAAAAAAA", .field = FG_CUSTOMER_NAME, .a = "Ann"};
    assert_int_equal(run(e, &j), FG_ERR_NOT_FOUND);
    assert_int_equal(cust_db_count(e, "bob@example.org"), 0);
}

#define APPROVAL_1 "AAAAAAAAAAAAAAAAAAAAAA"
#define APPROVAL_2 "BBBBBBBBBBBBBBBBBBBBBB"

static void test_phone_change(void **state)
{
    struct cust_env *e = *state;
    char id[FG_CUSTOMER_ID_SIZE], other[FG_CUSTOMER_ID_SIZE], idn[19];
    char ch1[FG_CUSTOMER_ID_SIZE], ch2[FG_CUSTOMER_ID_SIZE];
    cust_new(e, "c0000000007", ID_A, PHONE_A, id, NULL);
    cust_id_number("44030619900307121", idn);
    cust_new(e, "c0000000008", idn, "+8613911112222", other, NULL);
    assert_int_equal(fg_customer_new_id(FG_CUSTOMER_CHANGE_PREFIX, ch1), FG_OK);
    assert_int_equal(fg_customer_new_id(FG_CUSTOMER_CHANGE_PREFIX, ch2), FG_OK);
    /* the current number, another customer's number, a malformed number: refused */
    struct job j = {.op = OP_BEGIN, .id = id, .a = APPROVAL_1, .b = ch1, .c = PHONE_A_E164};
    assert_int_equal(run(e, &j), FG_ERR_CONFLICT);
    assert_non_null(strstr(j.why, "current"));
    j = (struct job){.op = OP_BEGIN, .id = id, .a = APPROVAL_1, .b = ch1, .c = "13911112222"};
    assert_int_equal(run(e, &j), FG_ERR_CONFLICT);
    assert_non_null(strstr(j.why, "another customer"));
    j = (struct job){.op = OP_BEGIN, .id = id, .a = APPROVAL_1, .b = ch1, .c = "12"};
    assert_int_equal(run(e, &j), FG_ERR_INVALID);
    /* begin → apply before confirmation: refused (AUTH-8) */
    j = (struct job){.op = OP_BEGIN, .id = id, .a = APPROVAL_1, .b = ch1, .c = PHONE_B};
    assert_int_equal(run(e, &j), FG_OK);
    assert_int_equal(cust_db_count(e, "13987654321"), 0); /* the new number is sealed too */
    struct fg_customer_phone_change pc;
    fg_conn *c = env_read(e->le);
    assert_int_equal(fg_customer_phone_change_get(c, APPROVAL_1, &pc), FG_OK);
    fg_store_read_release(e->store, c);
    assert_string_equal(pc.customer_id, id);
    assert_string_equal(pc.change_id, ch1);
    assert_false(pc.confirmed);
    j = (struct job){.op = OP_APPLY, .a = APPROVAL_1, .b = ch1};
    assert_int_equal(run(e, &j), FG_ERR_POLICY);
    assert_string_equal(j.why, "the old phone has not confirmed the change");
    assert_string_equal(j.new_phone, "");
    /* confirm: only for this customer's change */
    j = (struct job){.op = OP_CONFIRM, .id = other, .a = APPROVAL_1};
    assert_int_equal(run(e, &j), FG_ERR_NOT_FOUND);
    j = (struct job){.op = OP_CONFIRM, .id = id, .a = APPROVAL_2};
    assert_int_equal(run(e, &j), FG_ERR_NOT_FOUND);
    j = (struct job){.op = OP_CONFIRM, .id = id, .a = APPROVAL_1};
    assert_int_equal(run(e, &j), FG_OK);
    /* an approval that names another change does not apply this one */
    j = (struct job){.op = OP_APPLY, .a = APPROVAL_1, .b = ch2};
    assert_int_equal(run(e, &j), FG_ERR_NOT_FOUND);
    j = (struct job){.op = OP_APPLY, .a = APPROVAL_1, .b = ch1};
    assert_int_equal(run(e, &j), FG_OK);
    assert_string_equal(j.old_phone, PHONE_A_E164);
    assert_string_equal(j.new_phone, PHONE_B);
    char out[FG_CUSTOMER_VALUE_SIZE];
    assert_int_equal(reveal(e, id, FG_CUSTOMER_PHONE, out), FG_OK);
    assert_string_equal(out, PHONE_B);
    assert_string_equal(view_as(e, id, "teller").masked[FG_CUSTOMER_PHONE], "+86139****4321");
    assert_int_equal(cust_int(e,
                              "SELECT count(*) FROM customer_phone_changes WHERE "
                              "new_phone IS NULL AND new_phone_idx IS NULL AND applied_ms = 6000"),
                     1);
    j = (struct job){.op = OP_APPLY, .a = APPROVAL_1, .b = ch1};
    assert_int_equal(run(e, &j), FG_ERR_CONFLICT); /* once */
    /* the old number is free again: another customer may take it */
    j = (struct job){.op = OP_BEGIN, .id = other, .a = APPROVAL_2, .b = ch2, .c = PHONE_A};
    assert_int_equal(run(e, &j), FG_OK);
    j = (struct job){.op = OP_CONFIRM, .id = other, .a = APPROVAL_2};
    assert_int_equal(run(e, &j), FG_OK);
    /* … unless it was taken meanwhile: a change back to PHONE_A for `id` first */
    char ch3[FG_CUSTOMER_ID_SIZE];
    assert_int_equal(fg_customer_new_id(FG_CUSTOMER_CHANGE_PREFIX, ch3), FG_OK);
    j = (struct job){
        .op = OP_BEGIN, .id = id, .a = "CCCCCCCCCCCCCCCCCCCCCC", .b = ch3, .c = PHONE_A};
    assert_int_equal(run(e, &j), FG_OK);
    j = (struct job){.op = OP_CONFIRM, .id = id, .a = "CCCCCCCCCCCCCCCCCCCCCC"};
    assert_int_equal(run(e, &j), FG_OK);
    j = (struct job){.op = OP_APPLY, .a = "CCCCCCCCCCCCCCCCCCCCCC", .b = ch3};
    assert_int_equal(run(e, &j), FG_OK);
    j = (struct job){.op = OP_APPLY, .a = APPROVAL_2, .b = ch2};
    assert_int_equal(run(e, &j), FG_ERR_CONFLICT);
    assert_non_null(strstr(j.why, "another customer"));
    assert_int_equal(reveal(e, other, FG_CUSTOMER_PHONE, out), FG_OK);
    assert_string_equal(out, "+8613911112222");
}

/* ---- integrity --------------------------------------------------------------------------------
 */

static void test_moved_ciphertext_does_not_open(void **state)
{
    struct cust_env *e = *state;
    char a[FG_CUSTOMER_ID_SIZE], b[FG_CUSTOMER_ID_SIZE], idn[19], sql[256];
    cust_new(e, "c0000000009", ID_A, PHONE_A, a, NULL);
    cust_id_number("44030619900307121", idn);
    cust_new(e, "c0000000010", idn, PHONE_B, b, NULL);
    /* b's phone ciphertext copied into a's row, and a's name into a's email column */
    snprintf(sql, sizeof sql,
             "UPDATE customers SET phone = (SELECT phone FROM customers WHERE id = '%s'), "
             "email = name WHERE id = '%s'",
             b, a);
    assert_int_equal(cust_sql(e, sql), FG_OK);
    char out[FG_CUSTOMER_VALUE_SIZE];
    assert_int_equal(reveal(e, a, FG_CUSTOMER_PHONE, out), FG_ERR_CRYPTO);
    assert_string_equal(out, "");
    assert_int_equal(reveal(e, a, FG_CUSTOMER_EMAIL, out), FG_ERR_CRYPTO);
    fg_conn *c = env_read(e->le);
    struct fg_customer_view v;
    assert_int_equal(
        fg_customer_load_masked(c, e->k, e->f, e->roles, cust_role(e, "teller"), a, &v),
        FG_ERR_CRYPTO);
    fg_store_read_release(e->store, c);
    assert_string_equal(v.masked[FG_CUSTOMER_NAME], ""); /* nothing half-filled */
}

/* ---- destruction (ACC-4) ----------------------------------------------------------------------
 */

static void test_destroy(void **state)
{
    struct cust_env *e = *state;
    char id[FG_CUSTOMER_ID_SIZE], uid[FG_USER_ID_MAX + 1], ch[FG_CUSTOMER_ID_SIZE];
    cust_new(e, "c0000000011", ID_A, PHONE_A, id, uid);
    assert_int_equal(fg_customer_new_id(FG_CUSTOMER_CHANGE_PREFIX, ch), FG_OK);
    struct job j = {.op = OP_BEGIN, .id = id, .a = APPROVAL_1, .b = ch, .c = PHONE_B};
    assert_int_equal(run(e, &j), FG_OK);
    /* money on an account: refused */
    char acc[FG_LEDGER_ID_SIZE], cash[FG_LEDGER_ID_SIZE];
    assert_int_equal(env_open(e->le, id, "CNY", acc), FG_OK);
    env_cash(e->le, "CNY", cash);
    assert_int_equal(env_move(e->le, "deposit", cash, acc, 500, "CNY"), FG_OK);
    j = (struct job){.op = OP_DESTROY, .id = id};
    assert_int_equal(run(e, &j), FG_ERR_POLICY);
    assert_non_null(strstr(j.why, "money"));
    assert_int_equal(cust_int(e, "SELECT count(*) FROM customers WHERE status = 'active'"), 1);
    /* back to zero: destroyed */
    assert_int_equal(env_move(e->le, "withdrawal", acc, cash, 500, "CNY"), FG_OK);
    j = (struct job){.op = OP_DESTROY, .id = id};
    assert_int_equal(run(e, &j), FG_OK);
    assert_string_equal(j.user_id, uid);
    assert_int_equal(
        cust_int(e, "SELECT count(*) FROM customers WHERE status = 'destroyed' AND name IS NULL "
                    "AND id_number IS NULL AND phone IS NULL AND email IS NULL AND "
                    "id_number_idx IS NULL AND phone_idx IS NULL AND destroyed_ms = 7000 AND "
                    "destroyed_by = 'uofficer' AND destroy_approved_by = 'usupervisor' AND "
                    "destroy_method = 'overwrite+secure_delete'"),
        1);
    assert_int_equal(cust_int(e, "SELECT count(*) FROM customer_phone_changes WHERE "
                                 "new_phone IS NOT NULL OR new_phone_idx IS NOT NULL"),
                     0);
    assert_int_equal(cust_int(e, "SELECT count(*) FROM iam_users WHERE kind = 'customer' AND "
                                 "status = 'disabled'"),
                     1);
    /* reads show the destruction, nothing else */
    struct fg_customer_view v = view_as(e, id, "teller");
    assert_true(v.destroyed);
    for (int i = 0; i < FG_CUSTOMER_FIELD_COUNT; i++) {
        assert_false(v.present[i]);
        assert_string_equal(v.masked[i], "");
    }
    assert_int_equal(v.destroyed_ms, 7000);
    assert_string_equal(v.destroy_method, FG_CUSTOMER_DESTROY_METHOD);
    assert_string_equal(v.destroy_approved_by, "usupervisor");
    char out[FG_CUSTOMER_VALUE_SIZE];
    assert_int_equal(reveal(e, id, FG_CUSTOMER_PHONE, out), FG_ERR_CONFLICT);
    j = (struct job){.op = OP_UPDATE, .id = id, .field = FG_CUSTOMER_NAME, .a = "Ann"};
    assert_int_equal(run(e, &j), FG_ERR_CONFLICT);
    j = (struct job){.op = OP_CONFIRM, .id = id, .a = APPROVAL_1};
    assert_int_equal(run(e, &j), FG_OK);
    j = (struct job){.op = OP_APPLY, .a = APPROVAL_1, .b = ch};
    assert_int_equal(run(e, &j), FG_ERR_CONFLICT);
    j = (struct job){.op = OP_DESTROY, .id = id};
    assert_int_equal(run(e, &j), FG_ERR_CONFLICT); /* once */
    j = (struct job){.op = OP_DESTROY, .id = "cus_AAAAAAAAAAAAAAAAAAAAAA"};
    assert_int_equal(run(e, &j), FG_ERR_NOT_FOUND);
    /* final: the schema refuses to bring it back or delete it */
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE customers SET status = 'active' WHERE id = '%s'", id);
    assert_int_not_equal(cust_sql(e, sql), FG_OK);
    snprintf(sql, sizeof sql, "DELETE FROM customers WHERE id = '%s'", id);
    assert_int_not_equal(cust_sql(e, sql), FG_OK);
    /* the ID number and phone are free again (a person may come back as a new customer) */
    char uid2[FG_USER_ID_MAX + 1];
    cust_user(e, "c0000000012", 0, uid2);
    assert_int_equal(cust_create(e, uid2, "Ann", ID_A, PHONE_A, NULL, NULL, NULL), FG_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_number_rules),
        cmocka_unit_test(test_phone_rules),
        cmocka_unit_test(test_name_email_purpose_rules),
        cmocka_unit_test(test_ids),
        cmocka_unit_test_setup_teardown(test_fields_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_masked_reveal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_email_optional_purpose_given, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_name_the_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_phone_and_id_of_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_name_email, setup, teardown),
        cmocka_unit_test_setup_teardown(test_phone_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_moved_ciphertext_does_not_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
