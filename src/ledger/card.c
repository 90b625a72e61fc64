/*
 * card.c — the card vault: tokenise, list, display, detokenise (see card.h).
 *
 * The PAN is copied once into locked memory (struct pan_buf) together with the blind-index
 * input customer_id ‖ 0x00 ‖ pan; both are wiped on every path. Only the ciphertext, the
 * index, the token and the first-6/last-4 display data reach the database.
 */
#include "ledger/card.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "protect/protect.h"

#define TABLE "customer_cards"
#define COLUMN "pan"
#define CT_MAX FG_PROTECT_SEALED_MAX(FG_PAN_MAX)

struct pan_buf {
    char pan[FG_PAN_SIZE];
    char index_input[FG_CUSTOMER_ID_SIZE + FG_PAN_SIZE]; /* customer_id ‖ 0x00 ‖ pan */
    size_t index_len;
};

static int actor_ok(const char *s)
{
    size_t n = s != NULL ? strnlen(s, FG_CUSTOMER_ACTOR_MAX + 1) : 0;
    if (n == 0 || n > FG_CUSTOMER_ACTOR_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return 0;
    return 1;
}

/* ---- rows ----------------------------------------------------------------------------------- */

struct card_row {
    int found;
    struct fg_card_view v;
    uint8_t ct[CT_MAX];
    size_t ct_len;
};

static fg_rc text_col(const struct fg_val *v, char *dst, size_t cap)
{
    if (v->type == FG_VAL_NULL) {
        dst[0] = '\0';
        return FG_OK;
    }
    if (v->type != FG_VAL_TEXT || v->n >= cap)
        return FG_ERR_CORRUPT;
    memcpy(dst, v->p, v->n);
    dst[v->n] = '\0';
    return FG_OK;
}

#define CARD_SELECT                                                                                \
    "SELECT id, customer_id, token, masked_wide, last4, status, created_ms, created_by, pan "      \
    "FROM customer_cards "

static fg_rc card_row_fill(struct card_row *r, const struct fg_val *c, int n)
{
    if (n != 9)
        return FG_ERR_CORRUPT;
    char status[16];
    fg_rc rc = text_col(&c[0], r->v.id, sizeof r->v.id);
    if (rc == FG_OK)
        rc = text_col(&c[1], r->v.customer_id, sizeof r->v.customer_id);
    if (rc == FG_OK)
        rc = text_col(&c[2], r->v.token, sizeof r->v.token);
    if (rc == FG_OK)
        rc = text_col(&c[3], r->v.masked_wide, sizeof r->v.masked_wide);
    if (rc == FG_OK)
        rc = text_col(&c[4], r->v.last4, sizeof r->v.last4);
    if (rc == FG_OK)
        rc = text_col(&c[5], status, sizeof status);
    if (rc == FG_OK)
        rc = text_col(&c[7], r->v.created_by, sizeof r->v.created_by);
    if (rc)
        return rc;
    r->v.destroyed = strcmp(status, "destroyed") == 0;
    r->v.created_ms = c[6].i;
    r->ct_len = 0;
    if (c[8].type == FG_VAL_BLOB) {
        if (c[8].n > sizeof r->ct)
            return FG_ERR_CORRUPT;
        memcpy(r->ct, c[8].p, c[8].n);
        r->ct_len = c[8].n;
    }
    r->found = 1;
    return FG_OK;
}

static fg_rc one_cb(void *ctx, const struct fg_val *c, int n)
{
    return card_row_fill(ctx, c, n);
}

struct list_ctx {
    fg_card_fn fn;
    void *ctx;
    struct card_row row;
};

static fg_rc list_cb(void *ctx, const struct fg_val *c, int n)
{
    struct list_ctx *l = ctx;
    memset(&l->row, 0, sizeof l->row);
    fg_rc rc = card_row_fill(&l->row, c, n);
    return rc ? rc : l->fn(l->ctx, &l->row.v);
}

fg_rc fg_card_list(fg_conn *c, const char *customer_id, fg_card_fn fn, void *ctx)
{
    assert(c != NULL && fn != NULL);
    if (!fg_customer_id_valid(customer_id, FG_CUSTOMER_ID_PREFIX))
        return FG_OK;
    struct list_ctx *l = calloc(1, sizeof *l);
    if (l == NULL)
        return FG_ERR_NOMEM;
    l->fn = fn;
    l->ctx = ctx;
    const struct fg_val p[] = {FG_VSTR(customer_id)};
    fg_rc rc = fg_conn_exec(c, CARD_SELECT "WHERE customer_id = ?1 ORDER BY created_ms, id", p, 1,
                            list_cb, l, NULL);
    free(l);
    return rc;
}

fg_rc fg_card_get(fg_conn *c, const char *card_id, struct fg_card_view *out)
{
    assert(c != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    if (!fg_customer_id_valid(card_id, FG_CARD_ID_PREFIX))
        return FG_ERR_NOT_FOUND;
    struct card_row *r = calloc(1, sizeof *r);
    if (r == NULL)
        return FG_ERR_NOMEM;
    const struct fg_val p[] = {FG_VSTR(card_id)};
    fg_rc rc = fg_conn_exec(c, CARD_SELECT "WHERE id = ?1", p, 1, one_cb, r, NULL);
    if (rc == FG_OK && !r->found)
        rc = FG_ERR_NOT_FOUND;
    if (rc == FG_OK)
        *out = r->v;
    free(r);
    return rc;
}

/* ---- display -------------------------------------------------------------------------------- */

fg_rc fg_card_display(const struct fg_fields *f, const struct fg_roles *roles, uint32_t reader_mask,
                      const struct fg_card_view *card, char out[FG_MASK_OUT_MAX])
{
    out[0] = '\0';
    const struct fg_field_spec *s = f != NULL ? fg_fields_get(f, FG_CARD_PAN_FIELD) : NULL;
    if (s == NULL)
        return FG_ERR_CONFIG;
    if (card->destroyed)
        return FG_OK;
    enum fg_mask_rule rule = s->mask;
    if (s->mask_wide != FG_MASK_NONE && s->wide_permission != NULL && roles != NULL &&
        fg_roles_has(roles, reader_mask, s->wide_permission))
        rule = s->mask_wide;
    if (rule != FG_MASK_PAN_LAST4 && rule != FG_MASK_PAN_FIRST6_LAST4 && rule != FG_MASK_ALL)
        return FG_ERR_CONFIG;
    /* the display data with every hidden digit as 0: each of these rules keeps at most the
     * first 6 and the last 4 digits, so the zeros never show */
    size_t n = strlen(card->masked_wide);
    if (n < FG_PAN_MIN || n > FG_PAN_MAX)
        return FG_ERR_CORRUPT;
    char synthetic[FG_PAN_SIZE];
    for (size_t i = 0; i < n; i++)
        synthetic[i] = card->masked_wide[i] == '*' ? '0' : card->masked_wide[i];
    synthetic[n] = '\0';
    fg_rc rc = fg_mask(rule, synthetic, n, out, FG_MASK_OUT_MAX);
    fg_wipe(synthetic, sizeof synthetic);
    return rc;
}

/* ---- add ------------------------------------------------------------------------------------ */

struct found_card {
    int found;
    char id[FG_CARD_ID_SIZE];
};

static fg_rc found_cb(void *ctx, const struct fg_val *c, int n)
{
    struct found_card *fc = ctx;
    if (n != 1)
        return FG_ERR_CORRUPT;
    fc->found = 1;
    return text_col(&c[0], fc->id, sizeof fc->id);
}

static fg_rc exists_cb(void *ctx, const struct fg_val *c, int n)
{
    (void)c;
    (void)n;
    *(int64_t *)ctx += 1;
    return FG_OK;
}

static fg_rc count_cb(void *ctx, const struct fg_val *c, int n)
{
    if (n != 1)
        return FG_ERR_CORRUPT;
    *(int64_t *)ctx = c[0].i;
    return FG_OK;
}

/* A token of len digits no card has yet. */
static fg_rc fresh_token(fg_conn *c, size_t len, char out[FG_PAN_SIZE])
{
    for (unsigned i = 0; i < FG_CARD_TOKEN_TRIES; i++) {
        fg_rc rc = fg_card_token_new(len, out);
        if (rc)
            return rc;
        int64_t taken = 0;
        const struct fg_val p[] = {FG_VSTR(out)};
        rc = fg_conn_exec(c, "SELECT 1 FROM customer_cards WHERE token = ?1", p, 1, exists_cb,
                          &taken, NULL);
        if (rc || taken == 0)
            return rc;
    }
    return FG_ERR_INTERNAL; /* 8 collisions in a row: the token space is exhausted or broken */
}

static fg_rc customer_state(fg_conn *c, const char *customer_id)
{
    int destroyed = 0;
    fg_rc rc = fg_customer_owner(c, customer_id, NULL, &destroyed);
    return rc ? rc : destroyed ? FG_ERR_CONFLICT : FG_OK;
}

/* A new card for pb's PAN: limit, fresh token, seal, display data, insert. */
static fg_rc card_insert(fg_conn *c, fg_keys *k, const char *customer_id, const char *card_id,
                         const struct pan_buf *pb, size_t len, const uint8_t *idx,
                         const char *created_by, int64_t now_ms, const char **why)
{
    int64_t count = 0;
    const struct fg_val q[] = {FG_VSTR(customer_id)};
    fg_rc rc = fg_conn_exec(c, "SELECT count(*) FROM customer_cards WHERE customer_id = ?1", q, 1,
                            count_cb, &count, NULL);
    if (rc == FG_OK && count >= (int64_t)FG_CARD_PER_CUSTOMER_MAX) {
        *why = "the customer has the most cards the vault keeps per customer";
        return FG_ERR_LIMIT;
    }
    char token[FG_PAN_SIZE] = "";
    if (rc == FG_OK)
        rc = fresh_token(c, len, token);
    uint8_t *ct = calloc(1, CT_MAX);
    size_t ct_len = 0;
    if (rc == FG_OK)
        rc = ct != NULL ? fg_protect_seal(k, FG_KEY_PAN, TABLE, COLUMN, card_id, pb->pan, len, ct,
                                          CT_MAX, &ct_len)
                        : FG_ERR_NOMEM;
    /* display data: first 6 and last 4, the middle masked */
    char wide[FG_PAN_SIZE], last4[5];
    for (size_t i = 0; i < len; i++)
        wide[i] = i < 6 || i >= len - 4 ? pb->pan[i] : '*';
    wide[len] = '\0';
    memcpy(last4, pb->pan + len - 4, 4);
    last4[4] = '\0';
    if (rc == FG_OK) {
        const struct fg_val p[] = {FG_VSTR(card_id),
                                   FG_VSTR(customer_id),
                                   FG_VSTR(token),
                                   FG_VBLOB(ct, ct_len),
                                   FG_VBLOB(idx, FG_PROTECT_INDEX_LEN),
                                   FG_VSTR(wide),
                                   FG_VSTR(last4),
                                   FG_VINT(now_ms),
                                   FG_VSTR(created_by)};
        rc = fg_conn_exec(c,
                          "INSERT INTO customer_cards (id, customer_id, token, pan, pan_idx, "
                          "masked_wide, last4, status, created_ms, created_by) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'active', ?8, ?9)",
                          p, 9, NULL, NULL, NULL);
    }
    fg_wipe(wide, sizeof wide);
    fg_wipe(last4, sizeof last4);
    free(ct);
    return rc;
}

fg_rc fg_card_add(fg_conn *c, fg_keys *k, const struct fg_fields *f, const char *customer_id,
                  const char *card_id, const char *pan, size_t len, const char *created_by,
                  int64_t now_ms, struct fg_card_view *out, int *existing, const char **why)
{
    assert(c != NULL && out != NULL && existing != NULL);
    const char *dummy = NULL;
    if (why == NULL)
        why = &dummy;
    *why = NULL;
    *existing = 0;
    memset(out, 0, sizeof *out);
    fg_rc rc = fg_customer_fields_check(f, why);
    if (rc)
        return rc;
    if (pan == NULL || fg_pan_check(pan, len, why) != FG_OK) {
        if (*why == NULL)
            *why = "must be a card number of 13-19 digits with a valid check digit";
        return FG_ERR_INVALID;
    }
    if (!fg_customer_id_valid(card_id, FG_CARD_ID_PREFIX) || !actor_ok(created_by)) {
        *why = "malformed card or operator id";
        return FG_ERR_INVALID;
    }
    rc = customer_state(c, customer_id);
    if (rc) {
        *why = rc == FG_ERR_CONFLICT    ? "the customer's personal data has been destroyed"
               : rc == FG_ERR_NOT_FOUND ? "no such customer"
                                        : NULL;
        return rc;
    }
    struct pan_buf *pb = fg_secure_alloc(sizeof *pb);
    if (pb == NULL)
        return FG_ERR_NOMEM;
    memset(pb, 0, sizeof *pb);
    memcpy(pb->pan, pan, len);
    size_t cid = strlen(customer_id);
    memcpy(pb->index_input, customer_id, cid);
    pb->index_input[cid] = '\0';
    memcpy(pb->index_input + cid + 1, pan, len);
    pb->index_len = cid + 1 + len;
    uint8_t idx[FG_PROTECT_INDEX_LEN];
    rc = fg_protect_index(k, FG_CARD_PAN_FIELD, pb->index_input, pb->index_len, idx);
    struct found_card fc = {0};
    if (rc == FG_OK) {
        const struct fg_val p[] = {FG_VSTR(customer_id), FG_VBLOB(idx, sizeof idx)};
        rc =
            fg_conn_exec(c, "SELECT id FROM customer_cards WHERE customer_id = ?1 AND pan_idx = ?2",
                         p, 2, found_cb, &fc, NULL);
    }
    if (rc == FG_OK && fc.found) { /* the same PAN again: the same token */
        *existing = 1;
        rc = fg_card_get(c, fc.id, out);
    } else if (rc == FG_OK) {
        rc = card_insert(c, k, customer_id, card_id, pb, len, idx, created_by, now_ms, why);
        if (rc == FG_OK)
            rc = fg_card_get(c, card_id, out);
    }
    fg_wipe(idx, sizeof idx);
    fg_secure_free(pb);
    return rc;
}

/* ---- detokenize ----------------------------------------------------------------------------- */

fg_rc fg_card_detokenize(fg_conn *c, fg_keys *k, const struct fg_fields *f, const char *token,
                         size_t len, char pan_out[FG_PAN_SIZE], struct fg_card_view *card)
{
    assert(c != NULL && pan_out != NULL);
    pan_out[0] = '\0';
    if (card != NULL)
        memset(card, 0, sizeof *card);
    fg_rc rc = fg_customer_fields_check(f, NULL);
    if (rc)
        return rc;
    if (token == NULL || !fg_card_token_valid(token, len))
        return FG_ERR_INVALID;
    struct card_row *r = calloc(1, sizeof *r);
    if (r == NULL)
        return FG_ERR_NOMEM;
    const struct fg_val p[] = {FG_VTEXT(token, len)};
    rc = fg_conn_exec(c, CARD_SELECT "WHERE token = ?1", p, 1, one_cb, r, NULL);
    if (rc == FG_OK && !r->found)
        rc = FG_ERR_NOT_FOUND;
    if (rc == FG_OK && (r->v.destroyed || r->ct_len == 0))
        rc = FG_ERR_CONFLICT;
    size_t n = 0;
    if (rc == FG_OK)
        rc = fg_protect_open(k, FG_KEY_PAN, TABLE, COLUMN, r->v.id, r->ct, r->ct_len,
                             (uint8_t *)pan_out, FG_PAN_SIZE - 1, &n);
    pan_out[rc == FG_OK ? n : 0] = '\0';
    if (rc == FG_OK && card != NULL)
        *card = r->v;
    free(r);
    return rc;
}
