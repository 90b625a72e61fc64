/*
 * test_fields.c — the field classification (ACC-5, DATA-1, DATA-3): the shipped
 * data/fields.yaml against a golden table (every field with class, encrypt, hashed,
 * arithmetic, index, purpose, masks and permissions, in file order), and broken files — one
 * per loader rule with its exact "fields.yaml:LINE: problem".
 *
 * Changing data/fields.yaml means changing the golden table here, on purpose: a field
 * never loses its encryption or gains a reveal permission without someone writing it
 * down twice.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protect/fields.h"

#define ERR_MAX 4096u

struct golden_field {
    const char *name;
    enum fg_field_class cls;
    int encrypt, hashed, arithmetic, index;
    enum fg_key_purpose purpose;
    enum fg_mask_rule mask, mask_wide;
    const char *wide_permission, *reveal_permission;
};

#define C1 FG_FIELD_C1
#define C2 FG_FIELD_C2
#define C3 FG_FIELD_C3
#define PII FG_KEY_PII
#define PAN FG_KEY_PAN
#define NOKEY ((enum fg_key_purpose)0)

/* The whole shipped file, in file order. */
static const struct golden_field golden[] = {
    {"customer.name", C2, 1, 0, 0, 0, PII, FG_MASK_NAME, FG_MASK_NONE, NULL, "pii.reveal"},
    {"customer.id_number", C2, 1, 0, 0, 1, PII, FG_MASK_ID_NUMBER, FG_MASK_NONE, NULL,
     "pii.reveal"},
    {"customer.phone", C2, 1, 0, 0, 1, PII, FG_MASK_PHONE, FG_MASK_NONE, NULL, "pii.reveal"},
    {"customer.email", C2, 1, 0, 0, 0, PII, FG_MASK_EMAIL, FG_MASK_NONE, NULL, "pii.reveal"},
    {"customer.purpose", C1, 0, 0, 0, 0, NOKEY, FG_MASK_NONE, FG_MASK_NONE, NULL, NULL},
    {"card.pan", C2, 1, 0, 0, 1, PAN, FG_MASK_PAN_LAST4, FG_MASK_PAN_FIRST6_LAST4, "cards.create",
     "cards.detokenize"},
    {"account.balance", C2, 0, 0, 1, 0, NOKEY, FG_MASK_NONE, FG_MASK_NONE, NULL, NULL},
    {"transfer.memo", C2, 1, 0, 0, 0, PII, FG_MASK_ALL, FG_MASK_NONE, NULL, "pii.reveal"},
    {"user.password", C3, 0, 1, 0, 0, NOKEY, FG_MASK_ALL, FG_MASK_NONE, NULL, NULL},
    {"user.totp_secret", C3, 1, 0, 0, 0, PII, FG_MASK_ALL, FG_MASK_NONE, NULL, NULL},
    {"user.reserved_phrase", C3, 1, 0, 0, 0, PII, FG_MASK_ALL, FG_MASK_NONE, NULL, NULL},
};

static void assert_str_or_null(const char *got, const char *want)
{
    if (want == NULL)
        assert_null(got);
    else
        assert_string_equal(got, want);
}

static void test_shipped_golden(void **state)
{
    (void)state;
    struct fg_fields *f = NULL;
    assert_int_equal(fg_fields_load_default(&f), FG_OK);
    size_t n = sizeof golden / sizeof golden[0];
    assert_int_equal(fg_fields_count(f), n);
    for (size_t i = 0; i < n; i++) {
        const struct golden_field *g = &golden[i];
        const struct fg_field_spec *s = fg_fields_at(f, i);
        assert_string_equal(s->name, g->name);
        assert_ptr_equal(fg_fields_get(f, g->name), s);
        assert_int_equal(s->cls, g->cls);
        assert_int_equal(s->encrypt, g->encrypt);
        assert_int_equal(s->hashed, g->hashed);
        assert_int_equal(s->arithmetic, g->arithmetic);
        assert_int_equal(s->index, g->index);
        assert_int_equal(s->purpose, g->purpose);
        assert_int_equal(s->mask, g->mask);
        assert_int_equal(s->mask_wide, g->mask_wide);
        assert_str_or_null(s->wide_permission, g->wide_permission);
        assert_str_or_null(s->reveal_permission, g->reveal_permission);
        assert_true(s->line > 0);
        /* The rules hold for the shipped file, not only for the loader's tests. */
        if (s->cls == FG_FIELD_C3) {
            assert_true(s->encrypt || s->hashed);
            assert_null(s->reveal_permission);
        }
        if (s->cls == FG_FIELD_C2)
            assert_true(s->encrypt || s->arithmetic);
    }
    assert_null(fg_fields_get(f, "customer.nickname"));
    assert_null(fg_fields_get(f, "customer"));
    assert_null(fg_fields_get(f, ""));
    assert_null(fg_fields_get(f, NULL));
    fg_fields_free(f);
    fg_fields_free(NULL);

    assert_string_equal(fg_field_class_name(FG_FIELD_C1), "C1");
    assert_string_equal(fg_field_class_name(FG_FIELD_C3), "C3");
    assert_null(fg_field_class_name((enum fg_field_class)4));
}

/* Load text, expecting FG_ERR_CONFIG and exactly the problem lines `want`. */
static void refused(const char *text, const char *want)
{
    struct fg_fields *f = (struct fg_fields *)&f; /* must be reset to NULL */
    char err[ERR_MAX];
    fg_rc rc = fg_fields_load(text, strlen(text), &f, err, sizeof err);
    if (rc != FG_ERR_CONFIG || strcmp(err, want) != 0)
        fail_msg("rc %d, errors:\n%s\nwant:\n%s", rc, err, want);
    assert_null(f);
}

static void loads(const char *text, struct fg_fields **f)
{
    char err[ERR_MAX];
    fg_rc rc = fg_fields_load(text, strlen(text), f, err, sizeof err);
    if (rc != FG_OK)
        fail_msg("rc %d, errors:\n%s", rc, err);
}

static void test_minimal_and_flow(void **state)
{
    (void)state;
    struct fg_fields *f = NULL;
    loads("fields:\n"
          "  a.b: {class: C3, hashed: true}\n"
          "  a.c: {class: C2, encrypt: true, purpose: pan, mask: all, mask_wide: pan_last4,\n"
          "        wide_permission: x.y.z, reveal: p.q}\n"
          "  a.d:\n"
          "    class: C1\n"
          "    mask: name\n",
          &f);
    assert_int_equal(fg_fields_count(f), 3);
    const struct fg_field_spec *s = fg_fields_get(f, "a.c");
    assert_non_null(s);
    assert_int_equal(s->line, 3);
    assert_int_equal(s->purpose, FG_KEY_PAN);
    assert_int_equal(s->mask_wide, FG_MASK_PAN_LAST4);
    assert_string_equal(s->wide_permission, "x.y.z");
    assert_int_equal(fg_fields_get(f, "a.d")->mask, FG_MASK_NAME);
    assert_int_equal(fg_fields_get(f, "a.b")->mask, FG_MASK_ALL);
    fg_fields_free(f);
    /* An empty field list is allowed (nothing classified yet). */
    loads("fields: {}\n", &f);
    assert_int_equal(fg_fields_count(f), 0);
    fg_fields_free(f);
}

static void test_rules(void **state)
{
    (void)state;
    /* C3 with reveal. */
    refused("fields:\n"
            "  user.secret:\n"
            "    class: C3\n"
            "    encrypt: true\n"
            "    reveal: pii.reveal\n",
            "fields.yaml:5: C3 field 'user.secret' is never revealed: remove reveal\n");
    /* C3 neither encrypted nor hashed. */
    refused("fields:\n"
            "  user.secret:\n"
            "    class: C3\n",
            "fields.yaml:3: C3 field 'user.secret' must be encrypted or hashed\n");
    /* C3 shown or widened. */
    refused("fields:\n"
            "  user.secret: {class: C3, encrypt: true, mask: name}\n"
            "  user.other: {class: C3, encrypt: true, mask_wide: all, wide_permission: a.b}\n",
            "fields.yaml:2: C3 field 'user.secret' is never shown: its mask can only be all\n"
            "fields.yaml:3: C3 field 'user.other' is never shown: remove mask_wide\n");
    /* C2 not encrypted without arithmetic. */
    refused("fields:\n"
            "  customer.name:\n"
            "    class: C2\n"
            "    mask: name\n",
            "fields.yaml:3: C2 field 'customer.name' must be encrypted (or arithmetic: true for "
            "ledger amounts)\n");
    /* C2 without a mask. */
    refused("fields:\n"
            "  customer.name:\n"
            "    class: C2\n"
            "    encrypt: true\n",
            "fields.yaml:2: C2 field 'customer.name' needs a mask\n");
    /* No class. */
    refused("fields:\n"
            "  customer.name:\n"
            "    encrypt: true\n",
            "fields.yaml:2: field 'customer.name' has no class\n");
    /* Contradictions between flags. */
    refused("fields:\n"
            "  a.b:\n"
            "    class: C2\n"
            "    encrypt: true\n"
            "    arithmetic: true\n"
            "    mask: none\n"
            "  a.c:\n"
            "    class: C3\n"
            "    encrypt: true\n"
            "    hashed: true\n"
            "  a.d:\n"
            "    class: C2\n"
            "    arithmetic: true\n"
            "    index: true\n"
            "    purpose: pan\n"
            "    mask: none\n",
            "fields.yaml:5: field 'a.b': an arithmetic field is not encrypted\n"
            "fields.yaml:10: field 'a.c' is either encrypted or hashed, not both\n"
            "fields.yaml:15: field 'a.d': purpose needs encrypt: true\n"
            "fields.yaml:14: field 'a.d': a blind index needs encrypt: true\n");
    /* mask_wide without its permission and the reverse; C1 with reveal. */
    refused("fields:\n"
            "  a.b: {class: C2, encrypt: true, mask: all, mask_wide: none}\n"
            "  a.c: {class: C2, encrypt: true, mask: all, wide_permission: x.y}\n"
            "  a.d: {class: C1, reveal: x.y}\n"
            "  a.e: {class: C1, arithmetic: true}\n",
            "fields.yaml:2: field 'a.b': mask_wide and wide_permission come together\n"
            "fields.yaml:3: field 'a.c': mask_wide and wide_permission come together\n"
            "fields.yaml:4: C1 field 'a.d' hides nothing: remove reveal\n"
            "fields.yaml:5: arithmetic is for C2 fields, not C1 'a.e'\n");
}

static void test_keys_and_values(void **state)
{
    (void)state;
    /* Unknown key. */
    refused("fields:\n"
            "  customer.name:\n"
            "    class: C2\n"
            "    encrypt: true\n"
            "    mask: name\n"
            "    reveals: pii.reveal\n",
            "fields.yaml:6: field 'customer.name': unknown key 'reveals'\n");
    /* Unknown mask, in mask and mask_wide. */
    refused("fields:\n"
            "  customer.name:\n"
            "    class: C2\n"
            "    encrypt: true\n"
            "    mask: initials\n"
            "  card.pan: {class: C2, encrypt: true, mask: all, mask_wide: first6,\n"
            "             wide_permission: cards.create}\n",
            "fields.yaml:5: mask: unknown mask 'initials'\n"
            "fields.yaml:6: mask_wide: unknown mask 'first6'\n");
    /* Duplicate field. */
    refused("fields:\n"
            "  customer.name: {class: C2, encrypt: true, mask: name}\n"
            "  customer.phone: {class: C2, encrypt: true, mask: phone}\n"
            "  customer.name: {class: C2, encrypt: true, mask: all}\n",
            "fields.yaml:4: duplicate field 'customer.name' (first on line 2)\n");
    /* Duplicate key inside a field. */
    refused("fields:\n"
            "  a.b:\n"
            "    class: C2\n"
            "    encrypt: true\n"
            "    mask: all\n"
            "    mask: none\n",
            "fields.yaml:6: field 'a.b': duplicate key 'mask' (first on line 5)\n");
    /* Bad values. */
    refused("fields:\n"
            "  a.b:\n"
            "    class: C4\n"
            "  a.c: {class: C2, encrypt: \"true\", mask: all}\n"
            "  a.d: {class: C2, encrypt: yes, mask: all}\n"
            "  a.e: {class: C2, encrypt: true, purpose: index, mask: all}\n"
            "  a.f: {class: C2, encrypt: true, mask: all, reveal: Pii.Reveal}\n"
            "  a.g: {class: C2, encrypt: true, mask: all, reveal: pii}\n"
            "  a.h: {class: [C2]}\n",
            "fields.yaml:3: class must be C1, C2 or C3, not 'C4'\n"
            "fields.yaml:4: encrypt must be true or false, not 'true'\n"
            "fields.yaml:5: encrypt must be true or false, not 'yes'\n"
            "fields.yaml:6: purpose must be pii or pan, not 'index'\n"
            "fields.yaml:7: reveal: 'Pii.Reveal' is not a permission name (a.b of "
            "[a-z][a-z0-9_]*)\n"
            "fields.yaml:8: reveal: 'pii' is not a permission name (a.b of [a-z][a-z0-9_]*)\n"
            "fields.yaml:9: field 'a.h': class must be a scalar, not a list\n");
    /* Bad field names and shapes. */
    refused("fields:\n"
            "  customer: {class: C1}\n"
            "  a.b.c: {class: C1}\n"
            "  Customer.name: {class: C1}\n"
            "  a.b: C1\n"
            "  a.c:\n"
            "  a.d: [class, C1]\n",
            "fields.yaml:2: 'customer' is not a field name (object.field of [a-z][a-z0-9_]*)\n"
            "fields.yaml:3: 'a.b.c' is not a field name (object.field of [a-z][a-z0-9_]*)\n"
            "fields.yaml:4: 'Customer.name' is not a field name (object.field of "
            "[a-z][a-z0-9_]*)\n"
            "fields.yaml:5: field 'a.b' must be a mapping, not a scalar\n"
            "fields.yaml:6: field 'a.c' must be a mapping, not nothing\n"
            "fields.yaml:7: field 'a.d' must be a mapping, not a list\n");
}

static void test_yaml_level(void **state)
{
    (void)state;
    refused("", "fields.yaml:1: the fields file is empty\n");
    refused("# only a comment\n", "fields.yaml:1: the fields file is empty\n");
    refused("- a\n", "fields.yaml:1: the fields file must be a mapping with a fields: section\n");
    refused("version: 1\n", "fields.yaml:1: unknown key 'version'\n"
                            "fields.yaml:2: the fields file has no fields: section\n");
    refused("fields: []\n",
            "fields.yaml:1: fields must be a mapping of object.field names, not a list\n");
    refused("fields:\n  a.b: {class: C1}\nfields:\n  a.c: {class: C1}\n",
            "fields.yaml:3: duplicate key 'fields' (first on line 1)\n");
    refused("fields:\n  a.b: &x {class: C1}\n  a.c: *x\n",
            "fields.yaml:2: YAML anchors are not allowed in the fields file\n"
            "fields.yaml:3: YAML aliases are not allowed in the fields file\n"
            "fields.yaml:3: field 'a.c' must be a mapping, not nothing\n");
    refused("fields:\n  a.b: !!map {class: C1}\n",
            "fields.yaml:2: YAML tags are not allowed in the fields file\n");
    refused("fields:\n  a.b: {class: C1\n",
            "fields.yaml:3: YAML syntax error: did not find expected ',' or '}' while parsing "
            "a flow mapping\n");
    refused("fields: {}\n---\nfields: {}\n", "fields.yaml:2: only one YAML document is allowed\n");
    refused("fields:\n  a.b: {class: C1}\n  ? [x]\n  : 1\n",
            "fields.yaml:3: a field name must be a scalar, not a list\n");
}

static void test_limits(void **state)
{
    (void)state;
    struct fg_fields *f = NULL;
    char err[ERR_MAX];
    /* Too large. */
    size_t big = FG_FIELDS_FILE_MAX + 1u;
    char *text = malloc(big + 1u);
    assert_non_null(text);
    memset(text, '#', big);
    text[big] = '\0';
    assert_int_equal(fg_fields_load(text, big, &f, err, sizeof err), FG_ERR_TOO_LARGE);
    assert_null(f);
    assert_string_equal(err, "fields.yaml:1: the fields file is larger than 65536 bytes "
                             "(FG_FIELDS_FILE_MAX)\n");
    free(text);
    /* More than FG_FIELDS_MAX fields. */
    size_t cap = 64u * 1024u, used = 0;
    text = malloc(cap);
    assert_non_null(text);
    used += (size_t)snprintf(text, cap, "fields:\n");
    for (unsigned i = 0; i <= FG_FIELDS_MAX; i++)
        used += (size_t)snprintf(text + used, cap - used, "  a.f%u: {class: C1}\n", i);
    assert_true(used < cap);
    assert_int_equal(fg_fields_load(text, used, &f, err, sizeof err), FG_ERR_CONFIG);
    assert_string_equal(err, "fields.yaml:258: more than 256 fields (FG_FIELDS_MAX)\n");
    /* Exactly FG_FIELDS_MAX load. */
    char *last = strstr(text, "  a.f256:");
    assert_non_null(last);
    assert_int_equal(fg_fields_load(text, (size_t)(last - text), &f, err, sizeof err), FG_OK);
    assert_int_equal(fg_fields_count(f), FG_FIELDS_MAX);
    fg_fields_free(f);
    free(text);
    /* Many problems: the first FG_FIELDS_ERRORS_MAX, then a count. */
    text = malloc(cap);
    assert_non_null(text);
    used = (size_t)snprintf(text, cap, "fields:\n");
    for (unsigned i = 0; i < FG_FIELDS_ERRORS_MAX + 5u; i++)
        used += (size_t)snprintf(text + used, cap - used, "  a.f%u: {class: C9}\n", i);
    static char many[64u * 1024u];
    assert_int_equal(fg_fields_load(text, used, &f, many, sizeof many), FG_ERR_CONFIG);
    assert_non_null(strstr(many, "fields.yaml: 5 more problems not shown\n"));
    size_t lines = 0;
    for (const char *c = many; *c != '\0'; c++)
        lines += *c == '\n';
    assert_int_equal(lines, FG_FIELDS_ERRORS_MAX + 1u);
    /* A small err buffer is cut, NUL-terminated; no buffer at all is fine. */
    char small[16];
    assert_int_equal(fg_fields_load(text, used, &f, small, sizeof small), FG_ERR_CONFIG);
    assert_string_equal(small, "fields.yaml:2: ");
    assert_int_equal(fg_fields_load(text, used, &f, NULL, 0), FG_ERR_CONFIG);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_golden), cmocka_unit_test(test_minimal_and_flow),
        cmocka_unit_test(test_rules),          cmocka_unit_test(test_keys_and_values),
        cmocka_unit_test(test_yaml_level),     cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
