/*
 * test_record.c — the audit record's encodings (src/audit/record.c): the canonical bytes
 * (exact layout, injectivity across field boundaries, every field covered), the chain MAC
 * against a plain HMAC of the documented input, row decoding, the checkpoint message and
 * the anchor line (round trip, and every deviation refused).
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "audit/internal.h"
#include "crypto/crypto.h"

static void record_make(struct fg_audit_record *rec)
{
    struct fg_audit_actor who = {.request_id = "r1",
                                 .actor_id = "u7",
                                 .actor_role = "auditor",
                                 .source_ip = "2001:db8::1",
                                 .device_id = "d9"};
    assert_int_equal(fg_audit_record_init(rec, &who, "keys.rotate", "key", "pii"), FG_OK);
    assert_int_equal(fg_audit_record_details(rec, "{\"v\":2}", 7), FG_OK);
    rec->seq = 0x0102030405060708LL;
    rec->time_ms = 1760000000123LL;
}

static size_t canon(const struct fg_audit_record *rec, uint32_t kv, uint8_t *out)
{
    size_t len = 0;
    assert_int_equal(fg_audit_canonical(rec, kv, out, FG_AUDIT_CANONICAL_MAX, &len), FG_OK);
    return len;
}

static void test_canonical_layout(void **state)
{
    (void)state;
    struct fg_audit_record rec;
    record_make(&rec);
    uint8_t out[FG_AUDIT_CANONICAL_MAX];
    size_t len = canon(&rec, 0xA1B2C3D4u, out);
    static const uint8_t head[] = {
        0x01,                                           /* format */
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* seq */
        0x00, 0x00, 0x01, 0x99, 0xC8, 0x2C, 0xC0, 0x7B, /* time_ms 1760000000123 */
        0xA1, 0xB2, 0xC3, 0xD4,                         /* key_version */
        0x01,                                           /* result ok */
        0x00, 0x00, 0x00, 0x02, 'r',  '1',              /* request_id */
        0x00, 0x00, 0x00, 0x02, 'u',  '7',              /* actor_id */
    };
    assert_true(len > sizeof head);
    assert_memory_equal(out, head, sizeof head);
    static const uint8_t tail[] = {0x00, 0x00, 0x00, 0x00, /* error_code "" */
                                   0x00, 0x00, 0x00, 0x07, '{', '"', 'v', '"', ':', '2', '}'};
    assert_memory_equal(out + len - sizeof tail, tail, sizeof tail);
    size_t expect = 22 + 10 * 4 + strlen("r1u7auditor2001:db8::1d9keys.rotatekeypii{\"v\":2}");
    assert_int_equal(len, expect);
    /* Too small a buffer is refused. */
    size_t n = 0;
    assert_int_equal(fg_audit_canonical(&rec, 1, out, len - 1, &n), FG_ERR_TOO_LARGE);
}

static void test_canonical_injective(void **state)
{
    (void)state;
    struct fg_audit_record a, b;
    uint8_t ea[FG_AUDIT_CANONICAL_MAX], eb[FG_AUDIT_CANONICAL_MAX];
    /* Moving a byte across a field boundary changes the encoding. */
    record_make(&a);
    record_make(&b);
    memcpy(a.actor_id, "ab", 3);
    memcpy(a.actor_role, "", 1);
    memcpy(b.actor_id, "a", 2);
    memcpy(b.actor_role, "b", 2);
    size_t la = canon(&a, 1, ea), lb = canon(&b, 1, eb);
    assert_true(la == lb && memcmp(ea, eb, la) != 0);
    /* Every field is covered: changing any one changes the bytes. */
    record_make(&a);
    size_t base_len = canon(&a, 1, ea);
    for (int field = 0; field < 14; field++) {
        record_make(&b);
        uint32_t kv = 1;
        switch (field) {
        case 0:
            b.seq++;
            break;
        case 1:
            b.time_ms++;
            break;
        case 2:
            kv = 2;
            break;
        case 3:
            fg_audit_record_result(&b, FG_AUDIT_RESULT_DENIED, FG_ERR_PERMISSION);
            break;
        default: {
            char *texts[] = {b.request_id, b.actor_id,    b.actor_role, b.source_ip,  b.device_id,
                             b.action,     b.object_type, b.object_id,  b.error_code, b.details};
            char *t = texts[field - 4];
            size_t n = strlen(t);
            t[n] = 'x'; /* every field has room for one more byte in these records */
            t[n + 1] = '\0';
        }
        }
        size_t lb2 = canon(&b, kv, eb);
        assert_true(lb2 != base_len || memcmp(ea, eb, base_len) != 0);
    }
}

static void test_chain_mac(void **state)
{
    (void)state;
    assert_int_equal(fg_crypto_init(), FG_OK);
    for (int s = 0; s < 2; s++) {
        enum fg_suite suite = s ? FG_SUITE_GM : FG_SUITE_INTL;
        uint8_t keybytes[32];
        for (int i = 0; i < 32; i++)
            keybytes[i] = (uint8_t)(i * 7 + 1);
        struct fg_audit_mac_key key = {.version = 3, .key = keybytes, .len = 32};
        struct fg_audit_record rec;
        record_make(&rec);
        uint8_t c[FG_AUDIT_CANONICAL_MAX + FG_HASH_LEN];
        size_t len = canon(&rec, 3, c);
        uint8_t prev[FG_HASH_LEN] = {0}, mac[FG_HASH_LEN], expect[FG_HASH_LEN];
        assert_int_equal(audit_chain_mac(fg_suite_hash(suite), &key, c, len, prev, mac), FG_OK);
        memset(c + len, 0, FG_HASH_LEN); /* canonical ‖ 32 zero bytes */
        assert_int_equal(fg_hmac(fg_suite_hash(suite), keybytes, 32, c, len + FG_HASH_LEN, expect),
                         FG_OK);
        assert_memory_equal(mac, expect, FG_HASH_LEN);
        /* The next link MACs canonical ‖ the previous MAC. */
        uint8_t mac2[FG_HASH_LEN];
        assert_int_equal(audit_chain_mac(fg_suite_hash(suite), &key, c, len, mac, mac2), FG_OK);
        memcpy(c + len, mac, FG_HASH_LEN);
        assert_int_equal(fg_hmac(fg_suite_hash(suite), keybytes, 32, c, len + FG_HASH_LEN, expect),
                         FG_OK);
        assert_memory_equal(mac2, expect, FG_HASH_LEN);
    }
}

static void test_row_decode(void **state)
{
    (void)state;
    uint8_t mac[FG_HASH_LEN] = {9};
    struct fg_val cols[AUDIT_ROW_NCOLS] = {
        FG_VINT(5),    FG_VINT(1000),     FG_VSTR("r"),
        FG_VSTR("u"),  FG_VSTR("role"),   FG_VSTR("1.2.3.4"),
        FG_VSTR("d"),  FG_VSTR("a.b"),    FG_VSTR("t"),
        FG_VSTR("o"),  FG_VSTR("denied"), FG_VSTR("FG_ERR_PERMISSION"),
        FG_VSTR("{}"), FG_VINT(1),        FG_VBLOB(mac, FG_HASH_LEN)};
    struct audit_fields f;
    uint8_t got[FG_HASH_LEN];
    assert_int_equal(audit_row_decode(cols, AUDIT_ROW_NCOLS, &f, got), FG_OK);
    assert_int_equal(f.seq, 5);
    assert_int_equal(f.result, FG_AUDIT_RESULT_DENIED);
    assert_memory_equal(got, mac, FG_HASH_LEN);
    /* Each deviation is malformed. */
    struct fg_val bad[] = {FG_VSTR("x"), FG_VSTR("x"), FG_VINT(1),       FG_VINT(1),
                           FG_VINT(1),   FG_VINT(1),   FG_VINT(1),       FG_VINT(1),
                           FG_VINT(1),   FG_VINT(1),   FG_VSTR("maybe"), FG_VINT(1),
                           FG_VNULL,     FG_VINT(-1),  FG_VBLOB(mac, 31)};
    for (int i = 0; i < AUDIT_ROW_NCOLS; i++) {
        struct fg_val c2[AUDIT_ROW_NCOLS];
        memcpy(c2, cols, sizeof c2);
        c2[i] = bad[i];
        assert_int_equal(audit_row_decode(c2, AUDIT_ROW_NCOLS, &f, got), FG_ERR_CORRUPT);
    }
    static char long_details[FG_AUDIT_DETAILS_MAX + 2];
    memset(long_details, 'x', FG_AUDIT_DETAILS_MAX + 1);
    cols[12] = FG_VTEXT(long_details, FG_AUDIT_DETAILS_MAX + 1);
    assert_int_equal(audit_row_decode(cols, AUDIT_ROW_NCOLS, &f, got), FG_ERR_CORRUPT);
    assert_int_equal(audit_row_decode(cols, AUDIT_ROW_NCOLS - 1, &f, got), FG_ERR_CORRUPT);
}

static void cp_make(struct audit_checkpoint *cp, enum fg_suite suite, uint8_t *priv)
{
    memset(cp, 0, sizeof *cp);
    cp->kind = AUDIT_CP_CHECKPOINT;
    cp->seq = 1000;
    cp->time_ms = 1760000000000LL;
    cp->sign_version = 4;
    memset(cp->mac, 0xAB, FG_HASH_LEN);
    uint8_t msg[AUDIT_CP_MESSAGE_LEN];
    audit_cp_message(suite, cp, msg);
    assert_int_equal(fg_sign(suite, priv, msg, sizeof msg, cp->sig, &cp->sig_len), FG_OK);
}

static void test_anchor_line(void **state)
{
    (void)state;
    assert_int_equal(fg_crypto_init(), FG_OK);
    for (int s = 0; s < 2; s++) {
        enum fg_suite suite = s ? FG_SUITE_GM : FG_SUITE_INTL;
        uint8_t priv[FG_SIGN_PRIVATE_LEN], pub[FG_SIGN_PUBLIC_MAX];
        size_t pub_len;
        assert_int_equal(fg_sign_keygen(suite, priv), FG_OK);
        assert_int_equal(fg_sign_public(suite, priv, pub, &pub_len), FG_OK);
        struct fg_audit_public_key pk = {.version = 4, .key = pub, .len = pub_len};
        uint8_t mk[32] = {0};
        struct fg_audit_mac_key mac_key = {.version = 1, .key = mk, .len = 32};
        struct fg_audit_keys keys = {.suite = suite,
                                     .mac_keys = &mac_key,
                                     .mac_key_count = 1,
                                     .public_keys = &pk,
                                     .public_key_count = 1};
        struct audit_checkpoint cp, back;
        cp_make(&cp, suite, priv);
        assert_int_equal(audit_cp_verify(&keys, &cp), FG_OK);
        struct fg_buf line = FG_BUF_INIT(4096);
        assert_int_equal(audit_anchor_format(suite, &cp, &line), FG_OK);
        assert_true(line.len < FG_AUDIT_ANCHOR_LINE_MAX);
        assert_int_equal(line.data[line.len - 1], '\n');
        assert_int_equal(audit_anchor_parse(line.data, line.len - 1, suite, &back), FG_OK);
        assert_int_equal(back.seq, cp.seq);
        assert_int_equal(back.time_ms, cp.time_ms);
        assert_int_equal(back.sign_version, cp.sign_version);
        assert_int_equal(back.kind, cp.kind);
        assert_int_equal(back.sig_len, cp.sig_len);
        assert_memory_equal(back.mac, cp.mac, FG_HASH_LEN);
        assert_memory_equal(back.sig, cp.sig, cp.sig_len);
        assert_int_equal(audit_cp_verify(&keys, &back), FG_OK);
        /* The other suite's name is refused; so is the line under the other suite. */
        enum fg_suite other = s ? FG_SUITE_INTL : FG_SUITE_GM;
        assert_int_equal(audit_anchor_parse(line.data, line.len - 1, other, &back), FG_ERR_INVALID);
        /* A signed field changed: parses, but does not verify. */
        back.seq++;
        assert_int_equal(audit_cp_verify(&keys, &back), FG_ERR_CRYPTO);
        back.seq--;
        back.kind = AUDIT_CP_RETENTION;
        assert_int_equal(audit_cp_verify(&keys, &back), FG_ERR_CRYPTO);
        back.kind = AUDIT_CP_CHECKPOINT;
        back.sign_version = 5; /* no such public key */
        assert_int_equal(audit_cp_verify(&keys, &back), FG_ERR_CRYPTO);
        fg_buf_release(&line);
    }
}

static void test_anchor_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "{}",
        "[]",
        "not json",
        /* missing sig */
        "{\"v\":1,\"kind\":\"checkpoint\",\"suite\":\"intl\",\"seq\":1,\"time_ms\":1,"
        "\"sign_key_version\":1,\"mac\":\""
        "0000000000000000000000000000000000000000000000000000000000000000"
        "\"}",
        /* extra member */
        "{\"v\":1,\"kind\":\"checkpoint\",\"suite\":\"intl\",\"seq\":1,\"time_ms\":1,"
        "\"sign_key_version\":1,\"mac\":\""
        "0000000000000000000000000000000000000000000000000000000000000000"
        "\",\"sig\":\"00\",\"x\":1}",
        /* version 2 */
        "{\"v\":2,\"kind\":\"checkpoint\",\"suite\":\"intl\",\"seq\":1,\"time_ms\":1,"
        "\"sign_key_version\":1,\"mac\":\""
        "0000000000000000000000000000000000000000000000000000000000000000"
        "\",\"sig\":\"00\"}",
        /* seq 0 */
        "{\"v\":1,\"kind\":\"checkpoint\",\"suite\":\"intl\",\"seq\":0,\"time_ms\":1,"
        "\"sign_key_version\":1,\"mac\":\""
        "0000000000000000000000000000000000000000000000000000000000000000"
        "\",\"sig\":\"00\"}",
        /* uppercase hex */
        "{\"v\":1,\"kind\":\"checkpoint\",\"suite\":\"intl\",\"seq\":1,\"time_ms\":1,"
        "\"sign_key_version\":1,\"mac\":\""
        "000000000000000000000000000000000000000000000000000000000000000A"
        "\",\"sig\":\"00\"}",
        /* short mac */
        "{\"v\":1,\"kind\":\"checkpoint\",\"suite\":\"intl\",\"seq\":1,\"time_ms\":1,"
        "\"sign_key_version\":1,\"mac\":\"00\",\"sig\":\"00\"}",
        /* unknown kind */
        "{\"v\":1,\"kind\":\"other\",\"suite\":\"intl\",\"seq\":1,\"time_ms\":1,"
        "\"sign_key_version\":1,\"mac\":\""
        "0000000000000000000000000000000000000000000000000000000000000000"
        "\",\"sig\":\"00\"}",
        /* nested */
        "{\"v\":1,\"kind\":\"checkpoint\",\"suite\":\"intl\",\"seq\":{\"a\":1},\"time_ms\":1,"
        "\"sign_key_version\":1,\"mac\":\""
        "0000000000000000000000000000000000000000000000000000000000000000"
        "\",\"sig\":\"00\"}",
        /* duplicate member */
        "{\"v\":1,\"v\":1,\"kind\":\"checkpoint\",\"suite\":\"intl\",\"seq\":1,\"time_ms\":1,"
        "\"sign_key_version\":1,\"mac\":\""
        "0000000000000000000000000000000000000000000000000000000000000000"
        "\"}",
    };
    struct audit_checkpoint cp;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(audit_anchor_parse(bad[i], strlen(bad[i]), FG_SUITE_INTL, &cp),
                         FG_ERR_INVALID);
    const char *good =
        "{\"v\":1,\"kind\":\"retention\",\"suite\":\"intl\",\"seq\":1,\"time_ms\":-1,"
        "\"sign_key_version\":0,\"mac\":\""
        "00000000000000000000000000000000000000000000000000000000000000ff"
        "\",\"sig\":\"00\"}";
    assert_int_equal(audit_anchor_parse(good, strlen(good), FG_SUITE_INTL, &cp), FG_OK);
    assert_int_equal(cp.kind, AUDIT_CP_RETENTION);
    assert_int_equal(cp.mac[31], 0xff);
    static char huge[FG_AUDIT_ANCHOR_LINE_MAX + 2];
    memset(huge, ' ', sizeof huge);
    assert_int_equal(audit_anchor_parse(huge, sizeof huge, FG_SUITE_INTL, &cp), FG_ERR_TOO_LARGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_layout), cmocka_unit_test(test_canonical_injective),
        cmocka_unit_test(test_chain_mac),        cmocka_unit_test(test_row_decode),
        cmocka_unit_test(test_anchor_line),      cmocka_unit_test(test_anchor_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
