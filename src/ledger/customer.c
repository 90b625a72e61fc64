/*
 * customer.c — customers with sealed personal data, blind indexes, masking, phone changes
 * and destruction (see customer.h).
 *
 * Clear values live in one locked buffer per call (struct clear, fg_secure_alloc) and are
 * wiped on every path; ciphertexts are copied out of result rows into ordinary memory (they
 * are what the database holds anyway). Column names reach SQL only as literals of this
 * file; every value is a bound parameter.
 */
#include "ledger/customer.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/encode.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "iam/approval.h"
#include "ledger/card.h"
#include "ledger/ledger.h"
#include "protect/protect.h"

#define TABLE "customers"
#define CHANGES_TABLE "customer_phone_changes"
#define CHANGES_COLUMN "new_phone"
#define CARDS_TABLE "customer_cards"
#define CARDS_COLUMN "pan"
/* Ciphertext of any clear customer value. */
#define CT_MAX FG_PROTECT_SEALED_MAX(FG_CUSTOMER_VALUE_SIZE)
/* Attempts at an id without a long digit run. */
#define ID_TRIES 16
/* A digit run this long in an id is redrawn (card-number look-alikes start at 13). */
#define ID_DIGIT_RUN_MAX 5

struct field_def {
    const char *api;  /* API member and column */
    const char *spec; /* data/fields.yaml name */
};

static const struct field_def FIELDS[FG_CUSTOMER_FIELD_COUNT] = {
    [FG_CUSTOMER_NAME] = {"name", "customer.name"},
    [FG_CUSTOMER_ID_NUMBER] = {"id_number", "customer.id_number"},
    [FG_CUSTOMER_PHONE] = {"phone", "customer.phone"},
    [FG_CUSTOMER_EMAIL] = {"email", "customer.email"},
};

const char *fg_customer_field_name(enum fg_customer_field field)
{
    return (unsigned)field < FG_CUSTOMER_FIELD_COUNT ? FIELDS[field].api : NULL;
}

fg_rc fg_customer_field_parse(const char *name, enum fg_customer_field *out)
{
    for (int i = 0; name != NULL && i < FG_CUSTOMER_FIELD_COUNT; i++)
        if (strcmp(name, FIELDS[i].api) == 0) {
            *out = (enum fg_customer_field)i;
            return FG_OK;
        }
    return FG_ERR_INVALID;
}

const struct fg_field_spec *fg_customer_field_spec(const struct fg_fields *f,
                                                   enum fg_customer_field field)
{
    if (f == NULL || (unsigned)field >= FG_CUSTOMER_FIELD_COUNT)
        return NULL;
    return fg_fields_get(f, FIELDS[field].spec);
}

fg_rc fg_customer_fields_check(const struct fg_fields *f, const char **why)
{
    const char *dummy;
    if (why == NULL)
        why = &dummy;
    *why = NULL;
    if (f == NULL) {
        *why = "no field classification (data/fields.yaml) is loaded";
        return FG_ERR_CONFIG;
    }
    for (int i = 0; i < FG_CUSTOMER_FIELD_COUNT; i++) {
        const struct fg_field_spec *s = fg_fields_get(f, FIELDS[i].spec);
        if (s == NULL) {
            *why = "data/fields.yaml does not classify every customer field";
            return FG_ERR_CONFIG;
        }
        if (!s->encrypt || s->purpose != FG_KEY_PII) {
            *why = "customer fields must be encrypted with purpose pii";
            return FG_ERR_CONFIG;
        }
        if ((i == FG_CUSTOMER_ID_NUMBER || i == FG_CUSTOMER_PHONE) && !s->index) {
            *why = "customer.id_number and customer.phone need a blind index";
            return FG_ERR_CONFIG;
        }
    }
    const struct fg_field_spec *pan = fg_fields_get(f, FG_CARD_PAN_FIELD);
    if (pan == NULL || !pan->encrypt || pan->purpose != FG_KEY_PAN || !pan->index) {
        *why = "card.pan must be encrypted with purpose pan and indexed";
        return FG_ERR_CONFIG;
    }
    return FG_OK;
}

fg_rc fg_customer_register_columns(void)
{
    static const struct {
        const char *table, *id_column, *column;
        enum fg_key_purpose purpose;
    } cols[] = {
        {TABLE, "id", "name", FG_KEY_PII},
        {TABLE, "id", "id_number", FG_KEY_PII},
        {TABLE, "id", "phone", FG_KEY_PII},
        {TABLE, "id", "email", FG_KEY_PII},
        {CARDS_TABLE, "id", CARDS_COLUMN, FG_KEY_PAN},
        {CHANGES_TABLE, "approval_id", CHANGES_COLUMN, FG_KEY_PII},
    };
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        fg_rc rc = fg_protect_register_column(cols[i].table, cols[i].id_column, cols[i].column,
                                              cols[i].purpose);
        if (rc != FG_OK && rc != FG_ERR_CONFLICT)
            return rc;
    }
    return FG_OK;
}

/* ---- input rules ----------------------------------------------------------------------------- */

/* One UTF-8 code point at s[0..n): its value and length, or 0 for invalid UTF-8 (overlong,
 * surrogate, above U+10FFFF, truncated). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned char b = s[0];
    size_t len;
    uint32_t v, min;
    if (b < 0x80) {
        *cp = b;
        return 1;
    } else if ((b & 0xe0) == 0xc0) {
        len = 2, v = b & 0x1f, min = 0x80;
    } else if ((b & 0xf0) == 0xe0) {
        len = 3, v = b & 0x0f, min = 0x800;
    } else if ((b & 0xf8) == 0xf0) {
        len = 4, v = b & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* Characters never allowed in a name: controls, bidirectional overrides and isolates (they
 * make a name display as something else). */
static int name_cp_bad(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

fg_rc fg_customer_name_check(const char *s, size_t len)
{
    if (s == NULL || len == 0 || len > FG_CUSTOMER_NAME_BYTES_MAX)
        return FG_ERR_INVALID;
    const unsigned char *p = (const unsigned char *)s;
    size_t chars = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        size_t n = utf8_next(p + i, len - i, &cp);
        if (n == 0 || name_cp_bad(cp))
            return FG_ERR_INVALID;
        i += n;
        chars++;
    }
    if (chars > FG_CUSTOMER_NAME_CHARS_MAX || s[0] == ' ' || s[len - 1] == ' ')
        return FG_ERR_INVALID;
    return FG_OK;
}

int fg_customer_id_number_checksum_ok(const char *s, size_t len)
{
    static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char check[11] = {'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'};
    if (s == NULL || len != 18)
        return 0;
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        sum += (s[i] - '0') * weights[i];
    }
    char want = check[sum % 11];
    char got = s[17] == 'x' ? 'X' : s[17];
    return got == want;
}

fg_rc fg_customer_id_number_check(const char *s, size_t len,
                                  char out[FG_CUSTOMER_ID_NUMBER_MAX + 1])
{
    out[0] = '\0';
    if (s == NULL || (len != 15 && len != 18))
        return FG_ERR_INVALID;
    if (len == 15) {
        for (size_t i = 0; i < len; i++)
            if (s[i] < '0' || s[i] > '9')
                return FG_ERR_INVALID;
    } else if (!fg_customer_id_number_checksum_ok(s, len)) {
        return FG_ERR_INVALID;
    }
    memcpy(out, s, len);
    out[len] = '\0';
    if (len == 18 && out[17] == 'x')
        out[17] = 'X';
    return FG_OK;
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return n > 0;
}

fg_rc fg_customer_phone_normalize(const char *s, size_t len, char out[FG_CUSTOMER_PHONE_SIZE])
{
    out[0] = '\0';
    if (s == NULL)
        return FG_ERR_INVALID;
    if (len == 11 && s[0] == '1' && all_digits(s, len)) {
        snprintf(out, FG_CUSTOMER_PHONE_SIZE, "+86%.*s", (int)len, s);
        return FG_OK;
    }
    if (len < 1 + FG_CUSTOMER_PHONE_DIGITS_MIN || len > FG_CUSTOMER_PHONE_MAX || s[0] != '+' ||
        s[1] == '0' || !all_digits(s + 1, len - 1))
        return FG_ERR_INVALID;
    memcpy(out, s, len);
    out[len] = '\0';
    return FG_OK;
}

static int email_local_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~.-", c) != NULL);
}

static int label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

fg_rc fg_customer_email_check(const char *s, size_t len)
{
    if (s == NULL || len < 3 || len > FG_CUSTOMER_EMAIL_MAX)
        return FG_ERR_INVALID;
    const char *at = memchr(s, '@', len);
    if (at == NULL || memchr(at + 1, '@', len - (size_t)(at - s) - 1) != NULL)
        return FG_ERR_INVALID;
    size_t local = (size_t)(at - s), dom = len - local - 1;
    if (local == 0 || local > FG_CUSTOMER_EMAIL_LOCAL_MAX || dom == 0)
        return FG_ERR_INVALID;
    if (s[0] == '.' || s[local - 1] == '.')
        return FG_ERR_INVALID;
    for (size_t i = 0; i < local; i++)
        if (!email_local_char(s[i]) || (s[i] == '.' && i > 0 && s[i - 1] == '.'))
            return FG_ERR_INVALID;
    const char *d = at + 1;
    size_t labels = 0, start = 0;
    for (size_t i = 0; i <= dom; i++) {
        if (i == dom || d[i] == '.') {
            size_t n = i - start;
            if (n == 0 || n > 63 || d[start] == '-' || d[i - 1] == '-')
                return FG_ERR_INVALID;
            labels++;
            start = i + 1;
        } else if (!label_char(d[i])) {
            return FG_ERR_INVALID;
        }
    }
    return labels >= 2 ? FG_OK : FG_ERR_INVALID;
}

fg_rc fg_customer_purpose_check(const char *s, size_t len)
{
    if (s == NULL || len == 0 || len > FG_CUSTOMER_PURPOSE_MAX)
        return FG_ERR_INVALID;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return FG_ERR_INVALID;
    }
    return FG_OK;
}

static int b64url_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

int fg_customer_id_valid(const char *id, const char *prefix)
{
    if (id == NULL || prefix == NULL || strlen(prefix) != 4)
        return 0;
    size_t n = strnlen(id, FG_CUSTOMER_ID_LEN + 1);
    if (n != FG_CUSTOMER_ID_LEN || memcmp(id, prefix, 4) != 0)
        return 0;
    for (size_t i = 4; i < n; i++)
        if (!b64url_char(id[i]))
            return 0;
    return 1;
}

fg_rc fg_customer_new_id(const char *prefix, char out[FG_CUSTOMER_ID_SIZE])
{
    if (prefix == NULL || strlen(prefix) != 4)
        return FG_ERR_INVALID;
    for (int attempt = 0; attempt < ID_TRIES; attempt++) {
        uint8_t raw[FG_CUSTOMER_ID_RANDOM_BYTES];
        fg_rc rc = fg_random(raw, sizeof raw);
        memcpy(out, prefix, 4);
        if (rc == FG_OK)
            rc = fg_base64url_encode(raw, sizeof raw, out + 4, FG_CUSTOMER_ID_SIZE - 4);
        if (rc)
            return rc;
        int run = 0, worst = 0;
        for (size_t i = 4; out[i] != '\0'; i++) {
            run = out[i] >= '0' && out[i] <= '9' ? run + 1 : 0;
            worst = run > worst ? run : worst;
        }
        if (worst <= ID_DIGIT_RUN_MAX)
            return FG_OK;
    }
    return FG_ERR_INTERNAL; /* 16 draws with long digit runs: the CSPRNG is broken */
}

/* An actor id as stored: 1..FG_CUSTOMER_ACTOR_MAX printable ASCII without quotes or
 * backslashes (it goes into the consent JSON). */
static int actor_ok(const char *s)
{
    size_t n = s != NULL ? strnlen(s, FG_CUSTOMER_ACTOR_MAX + 1) : 0;
    if (n == 0 || n > FG_CUSTOMER_ACTOR_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
            return 0;
    return 1;
}

static int approval_id_ok(const char *s)
{
    size_t n = s != NULL ? strnlen(s, FG_APPROVAL_ID_LEN + 1) : 0;
    if (n != FG_APPROVAL_ID_LEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!b64url_char(s[i]))
            return 0;
    return 1;
}

/* ---- rows ----------------------------------------------------------------------------------- */

struct ct {
    uint8_t b[CT_MAX];
    size_t n;
    int present;
};

struct row {
    int found;
    char id[FG_CUSTOMER_ID_SIZE];
    char user_id[FG_USER_ID_MAX + 1];
    char username[FG_USERNAME_MAX + 1];
    struct ct f[FG_CUSTOMER_FIELD_COUNT];
    uint8_t phone_idx[FG_PROTECT_INDEX_LEN];
    int has_phone_idx;
    char purpose[FG_CUSTOMER_PURPOSE_MAX + 1];
    char consent[FG_CUSTOMER_CONSENT_MAX + 1];
    int destroyed;
    int64_t created_ms, destroyed_ms;
    char created_by[FG_CUSTOMER_ACTOR_MAX + 1];
    char destroyed_by[FG_CUSTOMER_ACTOR_MAX + 1];
    char approved_by[FG_CUSTOMER_ACTOR_MAX + 1];
    char method[FG_CUSTOMER_ACTOR_MAX + 1];
};

/* TEXT (or NULL → "") into dst; FG_ERR_CORRUPT if it does not fit or has the wrong type. */
static fg_rc col_text(const struct fg_val *v, char *dst, size_t cap)
{
    if (v->type == FG_VAL_NULL) {
        dst[0] = '\0';
        return FG_OK;
    }
    if ((v->type != FG_VAL_TEXT && v->type != FG_VAL_BLOB) || v->n >= cap)
        return FG_ERR_CORRUPT;
    memcpy(dst, v->p, v->n);
    dst[v->n] = '\0';
    return FG_OK;
}

static fg_rc col_ct(const struct fg_val *v, struct ct *dst)
{
    dst->present = 0;
    dst->n = 0;
    if (v->type == FG_VAL_NULL)
        return FG_OK;
    if (v->type != FG_VAL_BLOB || v->n > sizeof dst->b)
        return FG_ERR_CORRUPT;
    memcpy(dst->b, v->p, v->n);
    dst->n = v->n;
    dst->present = 1;
    return FG_OK;
}

#define ROW_SELECT                                                                                 \
    "SELECT c.id, c.user_id, u.username, c.name, c.id_number, c.phone, c.email, c.purpose, "       \
    "c.consent, c.status, c.created_ms, c.created_by, c.destroyed_ms, c.destroyed_by, "            \
    "c.destroy_approved_by, c.destroy_method, c.phone_idx FROM customers c "                       \
    "JOIN iam_users u ON u.id = c.user_id "

static fg_rc row_cb(void *ctx, const struct fg_val *c, int n)
{
    struct row *r = ctx;
    if (n != 17)
        return FG_ERR_CORRUPT;
    fg_rc rc = col_text(&c[0], r->id, sizeof r->id);
    if (rc == FG_OK)
        rc = col_text(&c[1], r->user_id, sizeof r->user_id);
    if (rc == FG_OK)
        rc = col_text(&c[2], r->username, sizeof r->username);
    for (int i = 0; rc == FG_OK && i < FG_CUSTOMER_FIELD_COUNT; i++)
        rc = col_ct(&c[3 + i], &r->f[i]);
    if (rc == FG_OK)
        rc = col_text(&c[7], r->purpose, sizeof r->purpose);
    if (rc == FG_OK)
        rc = col_text(&c[8], r->consent, sizeof r->consent);
    char status[16];
    if (rc == FG_OK)
        rc = col_text(&c[9], status, sizeof status);
    if (rc == FG_OK)
        rc = col_text(&c[11], r->created_by, sizeof r->created_by);
    if (rc == FG_OK)
        rc = col_text(&c[13], r->destroyed_by, sizeof r->destroyed_by);
    if (rc == FG_OK)
        rc = col_text(&c[14], r->approved_by, sizeof r->approved_by);
    if (rc == FG_OK)
        rc = col_text(&c[15], r->method, sizeof r->method);
    if (rc)
        return rc;
    r->destroyed = strcmp(status, "destroyed") == 0;
    r->created_ms = c[10].i;
    r->destroyed_ms = c[12].type == FG_VAL_INT ? c[12].i : 0;
    r->has_phone_idx = c[16].type == FG_VAL_BLOB && c[16].n == FG_PROTECT_INDEX_LEN;
    if (r->has_phone_idx)
        memcpy(r->phone_idx, c[16].p, FG_PROTECT_INDEX_LEN);
    r->found = 1;
    return FG_OK;
}

static fg_rc row_load(fg_conn *c, const char *id, struct row *r)
{
    memset(r, 0, sizeof *r);
    if (!fg_customer_id_valid(id, FG_CUSTOMER_ID_PREFIX))
        return FG_ERR_NOT_FOUND;
    const struct fg_val p[] = {FG_VSTR(id)};
    fg_rc rc = fg_conn_exec(c, ROW_SELECT "WHERE c.id = ?1", p, 1, row_cb, r, NULL);
    if (rc == FG_OK && !r->found)
        rc = FG_ERR_NOT_FOUND;
    return rc;
}

/* ---- sealing, opening, masking -------------------------------------------------------------- */

/* Locked scratch for the clear values of one call. */
struct clear {
    char v[FG_CUSTOMER_FIELD_COUNT][FG_CUSTOMER_VALUE_SIZE];
    char extra[FG_CUSTOMER_VALUE_SIZE];
    uint8_t idx[FG_PROTECT_INDEX_LEN];
};

static struct clear *clear_new(void)
{
    struct clear *cl = fg_secure_alloc(sizeof *cl);
    if (cl != NULL)
        memset(cl, 0, sizeof *cl);
    return cl;
}

static void clear_free(struct clear *cl)
{
    fg_secure_free(cl); /* wipes */
}

/* Open ct (of customers/<field>/<id>) into out as a NUL-terminated string. */
static fg_rc open_field(fg_keys *k, enum fg_customer_field field, const char *id,
                        const struct ct *ct, char *out, size_t cap, size_t *len)
{
    size_t n = 0;
    if (cap == 0)
        return FG_ERR_LIMIT;
    fg_rc rc = fg_protect_open(k, FG_KEY_PII, TABLE, FIELDS[field].api, id, ct->b, ct->n,
                               (uint8_t *)out, cap - 1, &n);
    out[rc == FG_OK ? n : 0] = '\0';
    if (rc == FG_OK && memchr(out, '\0', n) != NULL) {
        fg_wipe(out, cap);
        return FG_ERR_CORRUPT;
    }
    if (len != NULL)
        *len = rc == FG_OK ? n : 0;
    return rc;
}

static enum fg_mask_rule rule_for(const struct fg_field_spec *s, const struct fg_roles *roles,
                                  uint32_t reader_mask)
{
    if (s->mask_wide != FG_MASK_NONE && s->wide_permission != NULL && roles != NULL &&
        fg_roles_has(roles, reader_mask, s->wide_permission))
        return s->mask_wide;
    return s->mask;
}

/* Mask value by rule; a value the rule cannot mask shows as all '*' (never in clear). */
static void mask_value(enum fg_mask_rule rule, const char *v, char out[FG_MASK_OUT_MAX])
{
    if (fg_mask(rule, v, strlen(v), out, FG_MASK_OUT_MAX) == FG_OK)
        return;
    if (fg_mask(FG_MASK_ALL, v, strlen(v), out, FG_MASK_OUT_MAX) != FG_OK)
        out[0] = '\0';
}

static fg_rc seal_field(fg_keys *k, enum fg_customer_field field, const char *id, const char *v,
                        struct ct *out)
{
    out->present = 1;
    return fg_protect_seal(k, FG_KEY_PII, TABLE, FIELDS[field].api, id, v, strlen(v), out->b,
                           sizeof out->b, &out->n);
}

static fg_rc index_of(fg_keys *k, enum fg_customer_field field, const char *v,
                      uint8_t out[FG_PROTECT_INDEX_LEN])
{
    return fg_protect_index(k, FIELDS[field].spec, v, strlen(v), out);
}

static fg_rc exists_cb(void *ctx, const struct fg_val *c, int n)
{
    (void)c;
    (void)n;
    *(int *)ctx = 1;
    return FG_OK;
}

/* 1 in *taken if another customer than `self` (NULL: any) has this blind index. */
static fg_rc index_taken(fg_conn *c, enum fg_customer_field field, const uint8_t *idx,
                         const char *self, int *taken)
{
    *taken = 0;
    const struct fg_val p[] = {FG_VBLOB(idx, FG_PROTECT_INDEX_LEN), FG_VSTR(self ? self : "")};
    const char *sql = field == FG_CUSTOMER_ID_NUMBER
                          ? "SELECT 1 FROM customers WHERE id_number_idx = ?1 AND id <> ?2"
                          : "SELECT 1 FROM customers WHERE phone_idx = ?1 AND id <> ?2";
    return fg_conn_exec(c, sql, p, 2, exists_cb, taken, NULL);
}

/* ---- create --------------------------------------------------------------------------------- */

static fg_rc refuse(fg_rc rc, const char *field, const char *why, const char **field_out,
                    const char **why_out)
{
    if (field_out != NULL)
        *field_out = field;
    if (why_out != NULL)
        *why_out = why;
    return rc;
}

struct kind_row {
    int found;
    char kind[16];
};

static fg_rc kind_cb(void *ctx, const struct fg_val *c, int n)
{
    struct kind_row *k = ctx;
    if (n != 1)
        return FG_ERR_CORRUPT;
    k->found = 1;
    return col_text(&c[0], k->kind, sizeof k->kind);
}

/* Validate and normalise the clear fields of `in` into cl (pure). */
static fg_rc create_inputs(const struct fg_customer_new *in, struct clear *cl, const char **field,
                           const char **why)
{
    const char *v = in->name;
    if (v == NULL || fg_customer_name_check(v, strlen(v)) != FG_OK)
        return refuse(FG_ERR_INVALID, "name",
                      "must be 1-64 characters of UTF-8 text without control characters", field,
                      why);
    snprintf(cl->v[FG_CUSTOMER_NAME], sizeof cl->v[0], "%s", v);
    v = in->id_number;
    if (v == NULL || fg_customer_id_number_check(v, strnlen(v, 32), cl->v[FG_CUSTOMER_ID_NUMBER]))
        return refuse(FG_ERR_INVALID, "id_number",
                      "must be a resident ID number: 18 characters with a valid check digit, "
                      "or 15 digits",
                      field, why);
    v = in->phone;
    if (v == NULL || fg_customer_phone_normalize(v, strnlen(v, 32), cl->v[FG_CUSTOMER_PHONE]))
        return refuse(FG_ERR_INVALID, "phone",
                      "must be an E.164 number (+ and 8-15 digits) or an 11-digit mobile "
                      "number starting with 1",
                      field, why);
    v = in->email;
    if (v != NULL) {
        size_t n = strnlen(v, FG_CUSTOMER_EMAIL_MAX + 1);
        if (fg_customer_email_check(v, n) != FG_OK)
            return refuse(FG_ERR_INVALID, "email",
                          "must be an e-mail address of at most 254 "
                          "characters",
                          field, why);
        memcpy(cl->v[FG_CUSTOMER_EMAIL], v, n + 1);
    }
    const char *purpose = in->purpose != NULL ? in->purpose : FG_CUSTOMER_PURPOSE_DEFAULT;
    if (fg_customer_purpose_check(purpose, strnlen(purpose, FG_CUSTOMER_PURPOSE_MAX + 1)))
        return refuse(FG_ERR_INVALID, "purpose", "must be 1-64 characters of a-z, 0-9, '_'", field,
                      why);
    if (!fg_customer_id_valid(in->id, FG_CUSTOMER_ID_PREFIX))
        return refuse(FG_ERR_INVALID, "id", "is not a customer id", field, why);
    if (!actor_ok(in->user_id) || strlen(in->user_id) > FG_USER_ID_MAX)
        return refuse(FG_ERR_INVALID, "user_id", "is not a user id", field, why);
    if (!actor_ok(in->created_by))
        return refuse(FG_ERR_INVALID, "created_by", "is not a user id", field, why);
    return FG_OK;
}

/* The login must be a customer login without a customer yet; the id must be free. */
static fg_rc create_links(fg_conn *c, const struct fg_customer_new *in, const char **field,
                          const char **why)
{
    struct kind_row kr = {0};
    const struct fg_val p[] = {FG_VSTR(in->user_id)};
    fg_rc rc =
        fg_conn_exec(c, "SELECT kind FROM iam_users WHERE id = ?1", p, 1, kind_cb, &kr, NULL);
    if (rc)
        return rc;
    if (!kr.found || strcmp(kr.kind, "customer") != 0)
        return refuse(FG_ERR_INVALID, "user_id", "is not a customer login", field, why);
    int taken = 0;
    rc = fg_conn_exec(c, "SELECT 1 FROM customers WHERE user_id = ?1", p, 1, exists_cb, &taken,
                      NULL);
    if (rc == FG_OK && taken)
        return refuse(FG_ERR_CONFLICT, "user_id", "the login belongs to a customer already", field,
                      why);
    const struct fg_val q[] = {FG_VSTR(in->id)};
    if (rc == FG_OK)
        rc =
            fg_conn_exec(c, "SELECT 1 FROM customers WHERE id = ?1", q, 1, exists_cb, &taken, NULL);
    if (rc == FG_OK && taken)
        return refuse(FG_ERR_CONFLICT, "id", "the customer id exists", field, why);
    return rc;
}

fg_rc fg_customer_create(fg_conn *c, fg_keys *k, const struct fg_fields *f,
                         const struct fg_customer_new *in, int64_t now_ms, const char **field,
                         const char **why)
{
    assert(c != NULL && in != NULL);
    refuse(FG_OK, NULL, NULL, field, why);
    fg_rc rc = fg_customer_fields_check(f, why);
    if (rc)
        return rc;
    struct clear *cl = clear_new();
    struct ct *ct = calloc(FG_CUSTOMER_FIELD_COUNT, sizeof *ct);
    if (cl == NULL || ct == NULL) {
        clear_free(cl);
        free(ct);
        return FG_ERR_NOMEM;
    }
    uint8_t id_idx[FG_PROTECT_INDEX_LEN], phone_idx[FG_PROTECT_INDEX_LEN];
    rc = create_inputs(in, cl, field, why);
    if (rc == FG_OK)
        rc = create_links(c, in, field, why);
    if (rc == FG_OK)
        rc = index_of(k, FG_CUSTOMER_ID_NUMBER, cl->v[FG_CUSTOMER_ID_NUMBER], id_idx);
    if (rc == FG_OK)
        rc = index_of(k, FG_CUSTOMER_PHONE, cl->v[FG_CUSTOMER_PHONE], phone_idx);
    int taken = 0;
    if (rc == FG_OK)
        rc = index_taken(c, FG_CUSTOMER_ID_NUMBER, id_idx, NULL, &taken);
    if (rc == FG_OK && taken)
        rc = refuse(FG_ERR_CONFLICT, "id_number", "the ID number is registered to another customer",
                    field, why);
    if (rc == FG_OK)
        rc = index_taken(c, FG_CUSTOMER_PHONE, phone_idx, NULL, &taken);
    if (rc == FG_OK && taken)
        rc = refuse(FG_ERR_CONFLICT, "phone", "the phone number is registered to another customer",
                    field, why);
    for (int i = 0; rc == FG_OK && i < FG_CUSTOMER_FIELD_COUNT; i++)
        if (cl->v[i][0] != '\0')
            rc = seal_field(k, (enum fg_customer_field)i, in->id, cl->v[i], &ct[i]);
    char consent[FG_CUSTOMER_CONSENT_MAX + 1], when[FG_TIME_RFC3339_LEN];
    fg_time_format_rfc3339(now_ms, when);
    snprintf(consent, sizeof consent,
             "{\"method\":\"%s\",\"version\":\"%s\",\"time\":\"%s\",\"teller\":\"%s\"}",
             FG_CUSTOMER_CONSENT_METHOD, FG_CUSTOMER_CONSENT_VERSION, when, in->created_by);
    const char *purpose = in->purpose != NULL ? in->purpose : FG_CUSTOMER_PURPOSE_DEFAULT;
    if (rc == FG_OK) {
        const struct fg_val p[] = {
            FG_VSTR(in->id),
            FG_VSTR(in->user_id),
            FG_VBLOB(ct[0].b, ct[0].n),
            FG_VBLOB(ct[1].b, ct[1].n),
            FG_VBLOB(ct[2].b, ct[2].n),
            ct[3].present ? FG_VBLOB(ct[3].b, ct[3].n) : FG_VNULL,
            FG_VBLOB(id_idx, sizeof id_idx),
            FG_VBLOB(phone_idx, sizeof phone_idx),
            FG_VSTR(purpose),
            FG_VSTR(consent),
            FG_VINT(now_ms),
            FG_VSTR(in->created_by),
        };
        rc = fg_conn_exec(c,
                          "INSERT INTO customers (id, user_id, name, id_number, phone, email, "
                          "id_number_idx, phone_idx, purpose, consent, status, created_ms, "
                          "created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                          "'active', ?11, ?12)",
                          p, 12, NULL, NULL, NULL);
    }
    clear_free(cl);
    fg_wipe(id_idx, sizeof id_idx);
    fg_wipe(phone_idx, sizeof phone_idx);
    free(ct);
    return rc;
}

/* ---- read ----------------------------------------------------------------------------------- */

struct owner_row {
    int found, destroyed;
    char user_id[FG_USER_ID_MAX + 1];
};

static fg_rc owner_cb(void *ctx, const struct fg_val *c, int n)
{
    struct owner_row *o = ctx;
    char status[16];
    if (n != 2)
        return FG_ERR_CORRUPT;
    fg_rc rc = col_text(&c[0], o->user_id, sizeof o->user_id);
    if (rc == FG_OK)
        rc = col_text(&c[1], status, sizeof status);
    o->destroyed = rc == FG_OK && strcmp(status, "destroyed") == 0;
    o->found = rc == FG_OK;
    return rc;
}

fg_rc fg_customer_owner(fg_conn *c, const char *id, char user_id_out[FG_USER_ID_MAX + 1],
                        int *destroyed)
{
    if (!fg_customer_id_valid(id, FG_CUSTOMER_ID_PREFIX))
        return FG_ERR_NOT_FOUND;
    struct owner_row o = {0};
    const struct fg_val p[] = {FG_VSTR(id)};
    fg_rc rc = fg_conn_exec(c, "SELECT user_id, status FROM customers WHERE id = ?1", p, 1,
                            owner_cb, &o, NULL);
    if (rc == FG_OK && !o.found)
        rc = FG_ERR_NOT_FOUND;
    if (rc)
        return rc;
    if (user_id_out != NULL)
        memcpy(user_id_out, o.user_id, sizeof o.user_id);
    if (destroyed != NULL)
        *destroyed = o.destroyed;
    return FG_OK;
}

fg_rc fg_customer_load_masked(fg_conn *c, fg_keys *k, const struct fg_fields *f,
                              const struct fg_roles *roles, uint32_t reader_mask, const char *id,
                              struct fg_customer_view *out)
{
    assert(c != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    fg_rc rc = fg_customer_fields_check(f, NULL);
    if (rc)
        return rc;
    struct row *r = calloc(1, sizeof *r);
    struct clear *cl = clear_new();
    rc = r != NULL && cl != NULL ? row_load(c, id, r) : FG_ERR_NOMEM;
    for (int i = 0; rc == FG_OK && i < FG_CUSTOMER_FIELD_COUNT; i++) {
        if (!r->f[i].present)
            continue;
        rc = open_field(k, (enum fg_customer_field)i, r->id, &r->f[i], cl->v[i], sizeof cl->v[i],
                        NULL);
        if (rc == FG_OK) {
            const struct fg_field_spec *s = fg_customer_field_spec(f, (enum fg_customer_field)i);
            mask_value(rule_for(s, roles, reader_mask), cl->v[i], out->masked[i]);
            out->present[i] = 1;
        }
    }
    if (rc == FG_OK) {
        memcpy(out->id, r->id, sizeof out->id);
        memcpy(out->user_id, r->user_id, sizeof out->user_id);
        memcpy(out->username, r->username, sizeof out->username);
        out->destroyed = r->destroyed;
        memcpy(out->purpose, r->purpose, sizeof out->purpose);
        memcpy(out->consent, r->consent, sizeof out->consent);
        out->created_ms = r->created_ms;
        memcpy(out->created_by, r->created_by, sizeof out->created_by);
        out->destroyed_ms = r->destroyed_ms;
        memcpy(out->destroyed_by, r->destroyed_by, sizeof out->destroyed_by);
        memcpy(out->destroy_approved_by, r->approved_by, sizeof out->destroy_approved_by);
        memcpy(out->destroy_method, r->method, sizeof out->destroy_method);
    } else {
        memset(out, 0, sizeof *out);
    }
    clear_free(cl);
    free(r);
    return rc;
}

fg_rc fg_customer_reveal(fg_conn *c, fg_keys *k, const struct fg_fields *f, const char *id,
                         enum fg_customer_field field, char *out, size_t cap, size_t *len)
{
    assert(c != NULL && out != NULL);
    if (cap > 0)
        out[0] = '\0';
    if (len != NULL)
        *len = 0;
    if ((unsigned)field >= FG_CUSTOMER_FIELD_COUNT)
        return FG_ERR_INVALID;
    fg_rc rc = fg_customer_fields_check(f, NULL);
    if (rc)
        return rc;
    struct row *r = calloc(1, sizeof *r);
    rc = r != NULL ? row_load(c, id, r) : FG_ERR_NOMEM;
    if (rc == FG_OK && r->destroyed)
        rc = FG_ERR_CONFLICT;
    else if (rc == FG_OK && !r->f[field].present)
        rc = FG_ERR_NOT_FOUND;
    if (rc == FG_OK)
        rc = open_field(k, field, r->id, &r->f[field], out, cap, len);
    free(r);
    return rc;
}

struct user_phone_row {
    int found, destroyed;
    char id[FG_CUSTOMER_ID_SIZE];
    struct ct phone;
};

static fg_rc user_phone_cb(void *ctx, const struct fg_val *c, int n)
{
    struct user_phone_row *u = ctx;
    char status[16];
    if (n != 3)
        return FG_ERR_CORRUPT;
    fg_rc rc = col_text(&c[0], u->id, sizeof u->id);
    if (rc == FG_OK)
        rc = col_ct(&c[1], &u->phone);
    if (rc == FG_OK)
        rc = col_text(&c[2], status, sizeof status);
    u->destroyed = rc == FG_OK && strcmp(status, "destroyed") == 0;
    u->found = rc == FG_OK;
    return rc;
}

fg_rc fg_customer_phone_of_user(fg_conn *conn, fg_keys *keys, const char *user_id, char *out,
                                size_t cap)
{
    assert(conn != NULL && out != NULL);
    if (cap > 0)
        out[0] = '\0';
    if (user_id == NULL || user_id[0] == '\0' || strlen(user_id) > FG_USER_ID_MAX)
        return FG_ERR_NOT_FOUND;
    struct user_phone_row u = {0};
    const struct fg_val p[] = {FG_VSTR(user_id)};
    fg_rc rc = fg_conn_exec(conn, "SELECT id, phone, status FROM customers WHERE user_id = ?1", p,
                            1, user_phone_cb, &u, NULL);
    if (rc == FG_OK && (!u.found || u.destroyed || !u.phone.present))
        rc = FG_ERR_NOT_FOUND;
    if (rc == FG_OK)
        rc = open_field(keys, FG_CUSTOMER_PHONE, u.id, &u.phone, out, cap, NULL);
    return rc;
}

struct id_row {
    int found;
    char id[FG_CUSTOMER_ID_SIZE];
};

static fg_rc id_cb(void *ctx, const struct fg_val *c, int n)
{
    struct id_row *r = ctx;
    if (n != 1)
        return FG_ERR_CORRUPT;
    r->found = 1;
    return col_text(&c[0], r->id, sizeof r->id);
}

fg_rc fg_customer_id_of_user(fg_conn *conn, const char *user_id, char out[FG_CUSTOMER_ID_SIZE])
{
    assert(conn != NULL && out != NULL);
    out[0] = '\0';
    if (user_id == NULL || user_id[0] == '\0' || strlen(user_id) > FG_USER_ID_MAX)
        return FG_ERR_NOT_FOUND;
    struct id_row r = {0};
    const struct fg_val p[] = {FG_VSTR(user_id)};
    fg_rc rc =
        fg_conn_exec(conn, "SELECT id FROM customers WHERE user_id = ?1", p, 1, id_cb, &r, NULL);
    if (rc == FG_OK && !r.found)
        rc = FG_ERR_NOT_FOUND;
    if (rc == FG_OK)
        memcpy(out, r.id, FG_CUSTOMER_ID_SIZE);
    return rc;
}

/* ---- change --------------------------------------------------------------------------------- */

fg_rc fg_customer_update(fg_conn *c, fg_keys *k, const struct fg_fields *f, const char *id,
                         enum fg_customer_field field, const char *value, size_t len,
                         char before_masked[FG_MASK_OUT_MAX], char after_masked[FG_MASK_OUT_MAX],
                         const char **why)
{
    assert(c != NULL);
    before_masked[0] = after_masked[0] = '\0';
    refuse(FG_OK, NULL, NULL, NULL, why);
    fg_rc rc = fg_customer_fields_check(f, why);
    if (rc)
        return rc;
    if (field == FG_CUSTOMER_NAME) {
        if (value == NULL || fg_customer_name_check(value, len) != FG_OK)
            return refuse(FG_ERR_INVALID, NULL,
                          "must be 1-64 characters of UTF-8 text without control characters", NULL,
                          why);
    } else if (field == FG_CUSTOMER_EMAIL) {
        if (value == NULL || fg_customer_email_check(value, len) != FG_OK)
            return refuse(FG_ERR_INVALID, NULL,
                          "must be an e-mail address of at most 254 characters", NULL, why);
    } else {
        return refuse(FG_ERR_INVALID, NULL,
                      "only the name and the e-mail change at once; the phone needs approval, "
                      "the ID number never changes",
                      NULL, why);
    }
    struct row *r = calloc(1, sizeof *r);
    struct clear *cl = clear_new();
    struct ct *fresh = calloc(1, sizeof *fresh);
    rc = r != NULL && cl != NULL && fresh != NULL ? row_load(c, id, r) : FG_ERR_NOMEM;
    if (rc == FG_OK && r->destroyed)
        rc = refuse(FG_ERR_CONFLICT, NULL, "the customer's personal data has been destroyed", NULL,
                    why);
    const struct fg_field_spec *s = fg_customer_field_spec(f, field);
    if (rc == FG_OK && r->f[field].present) {
        rc = open_field(k, field, r->id, &r->f[field], cl->v[0], sizeof cl->v[0], NULL);
        if (rc == FG_OK)
            mask_value(s->mask, cl->v[0], before_masked);
    }
    if (rc == FG_OK) {
        memcpy(cl->v[1], value, len);
        cl->v[1][len] = '\0';
        rc = seal_field(k, field, r->id, cl->v[1], fresh);
    }
    if (rc == FG_OK) {
        const struct fg_val p[] = {FG_VSTR(r->id), FG_VBLOB(fresh->b, fresh->n)};
        int64_t changed = 0;
        rc = fg_conn_exec(c,
                          field == FG_CUSTOMER_NAME
                              ? "UPDATE customers SET name = ?2 WHERE id = ?1 AND status = 'active'"
                              : "UPDATE customers SET email = ?2 WHERE id = ?1 AND "
                                "status = 'active'",
                          p, 2, NULL, NULL, &changed);
        if (rc == FG_OK && changed != 1)
            rc = FG_ERR_INTERNAL;
    }
    /* ACC-3 "verified after change": read the stored ciphertext back and open it */
    size_t n = 0;
    if (rc == FG_OK)
        rc = row_load(c, id, r);
    if (rc == FG_OK)
        rc = open_field(k, field, r->id, &r->f[field], cl->v[2], sizeof cl->v[2], &n);
    if (rc == FG_OK && (n != len || !fg_ct_equal(cl->v[2], value, len)))
        rc = FG_ERR_INTERNAL;
    if (rc == FG_OK)
        mask_value(s->mask, cl->v[1], after_masked);
    clear_free(cl);
    free(fresh);
    free(r);
    return rc;
}

fg_rc fg_customer_phone_change_begin(fg_conn *c, fg_keys *k, const struct fg_fields *f,
                                     const char *customer_id, const char *approval_id,
                                     const char *change_id, const char *new_phone, int64_t now_ms,
                                     const char **why)
{
    assert(c != NULL);
    refuse(FG_OK, NULL, NULL, NULL, why);
    fg_rc rc = fg_customer_fields_check(f, why);
    if (rc)
        return rc;
    char phone[FG_CUSTOMER_PHONE_SIZE];
    if (!approval_id_ok(approval_id) || !fg_customer_id_valid(change_id, FG_CUSTOMER_CHANGE_PREFIX))
        return refuse(FG_ERR_INVALID, NULL, "malformed approval or change id", NULL, why);
    if (new_phone == NULL ||
        fg_customer_phone_normalize(new_phone, strnlen(new_phone, 32), phone) != FG_OK)
        return refuse(FG_ERR_INVALID, NULL,
                      "must be an E.164 number (+ and 8-15 digits) or an 11-digit mobile number "
                      "starting with 1",
                      NULL, why);
    struct row *r = calloc(1, sizeof *r);
    struct ct *ct = calloc(1, sizeof *ct);
    uint8_t idx[FG_PROTECT_INDEX_LEN];
    rc = r != NULL && ct != NULL ? row_load(c, customer_id, r) : FG_ERR_NOMEM;
    if (rc == FG_OK && r->destroyed)
        rc = refuse(FG_ERR_CONFLICT, NULL, "the customer's personal data has been destroyed", NULL,
                    why);
    if (rc == FG_OK)
        rc = index_of(k, FG_CUSTOMER_PHONE, phone, idx);
    int taken = 0;
    if (rc == FG_OK && r->has_phone_idx && fg_ct_equal(idx, r->phone_idx, sizeof idx))
        rc = refuse(FG_ERR_CONFLICT, NULL, "the new phone is the customer's current phone", NULL,
                    why);
    if (rc == FG_OK)
        rc = index_taken(c, FG_CUSTOMER_PHONE, idx, r->id, &taken);
    if (rc == FG_OK && taken)
        rc = refuse(FG_ERR_CONFLICT, NULL, "the phone number is registered to another customer",
                    NULL, why);
    if (rc == FG_OK)
        rc = fg_protect_seal(k, FG_KEY_PII, CHANGES_TABLE, CHANGES_COLUMN, approval_id, phone,
                             strlen(phone), ct->b, sizeof ct->b, &ct->n);
    if (rc == FG_OK) {
        const struct fg_val p[] = {
            FG_VSTR(approval_id),   FG_VSTR(change_id),        FG_VSTR(r->id),
            FG_VBLOB(ct->b, ct->n), FG_VBLOB(idx, sizeof idx), FG_VINT(now_ms)};
        rc = fg_conn_exec(c,
                          "INSERT INTO customer_phone_changes (approval_id, change_id, "
                          "customer_id, new_phone, new_phone_idx, created_ms) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                          p, 6, NULL, NULL, NULL);
    }
    fg_wipe(phone, sizeof phone);
    fg_wipe(idx, sizeof idx);
    free(ct);
    free(r);
    return rc;
}

struct change_row {
    int found;
    struct fg_customer_phone_change ch;
    struct ct phone;
};

static fg_rc change_cb(void *ctx, const struct fg_val *c, int n)
{
    struct change_row *r = ctx;
    if (n != 7)
        return FG_ERR_CORRUPT;
    fg_rc rc = col_text(&c[0], r->ch.approval_id, sizeof r->ch.approval_id);
    if (rc == FG_OK)
        rc = col_text(&c[1], r->ch.change_id, sizeof r->ch.change_id);
    if (rc == FG_OK)
        rc = col_text(&c[2], r->ch.customer_id, sizeof r->ch.customer_id);
    if (rc == FG_OK)
        rc = col_ct(&c[3], &r->phone);
    r->ch.confirmed = c[4].i != 0;
    r->ch.created_ms = c[5].i;
    r->ch.applied = c[6].i != 0;
    r->found = rc == FG_OK;
    return rc;
}

static fg_rc change_load(fg_conn *c, const char *approval_id, struct change_row *r)
{
    memset(r, 0, sizeof *r);
    if (!approval_id_ok(approval_id))
        return FG_ERR_NOT_FOUND;
    const struct fg_val p[] = {FG_VSTR(approval_id)};
    fg_rc rc = fg_conn_exec(c,
                            "SELECT approval_id, change_id, customer_id, new_phone, confirmed, "
                            "created_ms, applied_ms FROM customer_phone_changes "
                            "WHERE approval_id = ?1",
                            p, 1, change_cb, r, NULL);
    if (rc == FG_OK && !r->found)
        rc = FG_ERR_NOT_FOUND;
    return rc;
}

fg_rc fg_customer_phone_change_get(fg_conn *c, const char *approval_id,
                                   struct fg_customer_phone_change *out)
{
    struct change_row *r = calloc(1, sizeof *r);
    fg_rc rc = r != NULL ? change_load(c, approval_id, r) : FG_ERR_NOMEM;
    if (rc == FG_OK)
        *out = r->ch;
    free(r);
    return rc;
}

fg_rc fg_customer_phone_change_confirm(fg_conn *c, const char *customer_id, const char *approval_id)
{
    struct fg_customer_phone_change ch;
    fg_rc rc = fg_customer_phone_change_get(c, approval_id, &ch);
    if (rc)
        return rc;
    if (customer_id == NULL || strcmp(ch.customer_id, customer_id) != 0)
        return FG_ERR_NOT_FOUND;
    if (ch.applied)
        return FG_ERR_CONFLICT;
    const struct fg_val p[] = {FG_VSTR(approval_id)};
    return fg_conn_exec(c,
                        "UPDATE customer_phone_changes SET confirmed = 1 "
                        "WHERE approval_id = ?1 AND applied_ms = 0",
                        p, 1, NULL, NULL, NULL);
}

fg_rc fg_customer_phone_change_apply(fg_conn *c, fg_keys *k, const struct fg_fields *f,
                                     const char *approval_id, const char *change_id, int64_t now_ms,
                                     char old_out[FG_CUSTOMER_PHONE_SIZE],
                                     char new_out[FG_CUSTOMER_PHONE_SIZE], const char **why)
{
    assert(c != NULL);
    old_out[0] = new_out[0] = '\0';
    refuse(FG_OK, NULL, NULL, NULL, why);
    fg_rc rc = fg_customer_fields_check(f, why);
    if (rc)
        return rc;
    struct change_row *ch = calloc(1, sizeof *ch);
    struct row *r = calloc(1, sizeof *r);
    struct ct *ct = calloc(1, sizeof *ct);
    uint8_t idx[FG_PROTECT_INDEX_LEN];
    rc = ch != NULL && r != NULL && ct != NULL ? change_load(c, approval_id, ch) : FG_ERR_NOMEM;
    if (rc == FG_OK && (change_id == NULL || strcmp(change_id, ch->ch.change_id) != 0))
        rc = refuse(FG_ERR_NOT_FOUND, NULL, "the approval names another change", NULL, why);
    if (rc == FG_OK && ch->ch.applied)
        rc = refuse(FG_ERR_CONFLICT, NULL, "the change has been applied already", NULL, why);
    if (rc == FG_OK && !ch->ch.confirmed)
        rc = refuse(FG_ERR_POLICY, NULL, "the old phone has not confirmed the change", NULL, why);
    if (rc == FG_OK)
        rc = row_load(c, ch->ch.customer_id, r);
    if (rc == FG_OK && (r->destroyed || !ch->phone.present))
        rc = refuse(FG_ERR_CONFLICT, NULL, "the customer's personal data has been destroyed", NULL,
                    why);
    size_t n = 0;
    if (rc == FG_OK)
        rc = fg_protect_open(k, FG_KEY_PII, CHANGES_TABLE, CHANGES_COLUMN, ch->ch.approval_id,
                             ch->phone.b, ch->phone.n, (uint8_t *)new_out,
                             FG_CUSTOMER_PHONE_SIZE - 1, &n);
    if (rc == FG_OK)
        new_out[n] = '\0';
    if (rc == FG_OK)
        rc = open_field(k, FG_CUSTOMER_PHONE, r->id, &r->f[FG_CUSTOMER_PHONE], old_out,
                        FG_CUSTOMER_PHONE_SIZE, NULL);
    /* the index under the index key active now (it may have rotated since the request) */
    if (rc == FG_OK)
        rc = index_of(k, FG_CUSTOMER_PHONE, new_out, idx);
    int taken = 0;
    if (rc == FG_OK)
        rc = index_taken(c, FG_CUSTOMER_PHONE, idx, r->id, &taken);
    if (rc == FG_OK && taken)
        rc = refuse(FG_ERR_CONFLICT, NULL, "the phone number is registered to another customer",
                    NULL, why);
    if (rc == FG_OK)
        rc = seal_field(k, FG_CUSTOMER_PHONE, r->id, new_out, ct);
    if (rc == FG_OK) {
        const struct fg_val p[] = {FG_VSTR(r->id), FG_VBLOB(ct->b, ct->n),
                                   FG_VBLOB(idx, sizeof idx)};
        int64_t changed = 0;
        rc = fg_conn_exec(c,
                          "UPDATE customers SET phone = ?2, phone_idx = ?3 "
                          "WHERE id = ?1 AND status = 'active'",
                          p, 3, NULL, NULL, &changed);
        if (rc == FG_OK && changed != 1)
            rc = FG_ERR_INTERNAL;
    }
    if (rc == FG_OK) {
        const struct fg_val p[] = {FG_VSTR(ch->ch.approval_id), FG_VINT(now_ms)};
        rc = fg_conn_exec(c,
                          "UPDATE customer_phone_changes SET new_phone = NULL, "
                          "new_phone_idx = NULL, applied_ms = ?2 WHERE approval_id = ?1",
                          p, 2, NULL, NULL, NULL);
    }
    if (rc) {
        fg_wipe(old_out, FG_CUSTOMER_PHONE_SIZE);
        fg_wipe(new_out, FG_CUSTOMER_PHONE_SIZE);
        old_out[0] = new_out[0] = '\0';
    }
    fg_wipe(idx, sizeof idx);
    free(ct);
    free(r);
    free(ch);
    return rc;
}

/* ---- destroy -------------------------------------------------------------------------------- */

fg_rc fg_customer_destroy(fg_conn *c, const char *customer_id, const char *destroyed_by,
                          const char *approved_by, int64_t now_ms,
                          char user_id_out[FG_USER_ID_MAX + 1], const char **why)
{
    assert(c != NULL);
    refuse(FG_OK, NULL, NULL, NULL, why);
    if (user_id_out != NULL)
        user_id_out[0] = '\0';
    if (!actor_ok(destroyed_by) || !actor_ok(approved_by))
        return refuse(FG_ERR_INVALID, NULL, "malformed operator or approver id", NULL, why);
    char user_id[FG_USER_ID_MAX + 1];
    int destroyed = 0;
    fg_rc rc = fg_customer_owner(c, customer_id, user_id, &destroyed);
    if (rc)
        return refuse(rc, NULL, rc == FG_ERR_NOT_FOUND ? "no such customer" : NULL, NULL, why);
    if (destroyed)
        return refuse(FG_ERR_CONFLICT, NULL, "the customer's personal data has been destroyed",
                      NULL, why);
    int has = 0;
    rc = fg_ledger_customer_has_money(c, customer_id, &has);
    if (rc == FG_OK && has)
        return refuse(FG_ERR_POLICY, NULL,
                      "the customer still has money or a pending transfer: close the accounts "
                      "first",
                      NULL, why);
    const struct fg_val p[] = {FG_VSTR(customer_id),
                               FG_VINT(now_ms),
                               FG_VSTR(destroyed_by),
                               FG_VSTR(approved_by),
                               FG_VSTR(FG_CUSTOMER_DESTROY_METHOD),
                               FG_VSTR(user_id)};
    int64_t changed = 0;
    if (rc == FG_OK)
        rc = fg_conn_exec(c,
                          "UPDATE customers SET name = NULL, id_number = NULL, phone = NULL, "
                          "email = NULL, id_number_idx = NULL, phone_idx = NULL, "
                          "status = 'destroyed', destroyed_ms = ?2, destroyed_by = ?3, "
                          "destroy_approved_by = ?4, destroy_method = ?5 "
                          "WHERE id = ?1 AND status = 'active'",
                          p, 5, NULL, NULL, &changed);
    if (rc == FG_OK && changed != 1)
        rc = FG_ERR_INTERNAL;
    if (rc == FG_OK)
        rc = fg_conn_exec(c,
                          "UPDATE customer_cards SET pan = NULL, pan_idx = NULL, "
                          "masked_wide = NULL, last4 = NULL, status = 'destroyed' "
                          "WHERE customer_id = ?1 AND status = 'active'",
                          p, 1, NULL, NULL, NULL);
    if (rc == FG_OK)
        rc = fg_conn_exec(c,
                          "UPDATE customer_phone_changes SET new_phone = NULL, "
                          "new_phone_idx = NULL WHERE customer_id = ?1",
                          p, 1, NULL, NULL, NULL);
    /* the login ends with the data: disabled, every session ended (rows; the live table is
     * the caller's, after commit) */
    const struct fg_val u[] = {FG_VSTR(user_id), FG_VINT(now_ms)};
    if (rc == FG_OK)
        rc = fg_conn_exec(c, "UPDATE iam_users SET status = 'disabled' WHERE id = ?1", u, 1, NULL,
                          NULL, NULL);
    if (rc == FG_OK)
        rc =
            fg_conn_exec(c,
                         "UPDATE iam_sessions SET ended_ms = ?2, end_reason = 'customer_destroyed' "
                         "WHERE user_id = ?1 AND ended_ms = 0",
                         u, 2, NULL, NULL, NULL);
    if (rc == FG_OK && user_id_out != NULL)
        memcpy(user_id_out, user_id, sizeof user_id);
    return rc;
}
