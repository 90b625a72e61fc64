/*
 * keyring.c — rows of migration 0003 and key wrapping (see keyring.h).
 *
 * Every statement is a constant string with bound parameters. Rows read back are decoded
 * strictly (types, lengths, the state/wrapped consistency the schema also checks), and
 * anything unexpected is FG_ERR_CORRUPT rather than a guess: the database is not trusted
 * further than its integrity checks. The wrapped key's AAD names purpose and version, so a
 * row edited to claim another purpose or version fails to unwrap instead of handing the
 * wrong key to a caller.
 */
#include "keys/keyring.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define ROW_COLUMNS                                                                                \
    "purpose, version, state, nonce, wrapped, public_key, created_ms, state_ms, destroyed_ms"
#define ROW_NCOLUMNS 9
#define WRAP_AAD_MAX 48 /* "keyring|backup|4294967295" fits comfortably */

static const char root_label[] = "finguard root verifier v1";

/* ---- decoding helpers --------------------------------------------------------------------- */

static int text_is(const struct fg_val *v, const char *s)
{
    size_t n = strlen(s);
    return v->type == FG_VAL_TEXT && v->n == n && memcmp(v->p, s, n) == 0;
}

static enum fg_key_purpose purpose_of(const struct fg_val *v)
{
    for (int p = 1; p <= FG_KEY_PURPOSE_COUNT; p++)
        if (text_is(v, fg_key_purpose_name((enum fg_key_purpose)p)))
            return (enum fg_key_purpose)p;
    return 0;
}

static enum fg_key_state state_of(const struct fg_val *v)
{
    for (int s = FG_KEY_ACTIVE; s <= FG_KEY_DESTROYED; s++)
        if (text_is(v, fg_key_state_name((enum fg_key_state)s)))
            return (enum fg_key_state)s;
    return 0;
}

static int blob_len_in(const struct fg_val *v, size_t min, size_t max)
{
    return v->type == FG_VAL_BLOB && v->n >= min && v->n <= max;
}

static fg_rc row_decode(const struct fg_val *c, int n, struct fg_keyring_row *r)
{
    assert(r != NULL);
    memset(r, 0, sizeof *r);
    if (n != ROW_NCOLUMNS)
        return FG_ERR_CORRUPT;
    r->purpose = purpose_of(&c[0]);
    r->state = state_of(&c[2]);
    if (r->purpose == 0 || r->state == 0 || c[1].type != FG_VAL_INT || c[1].i < 1 ||
        c[1].i > (int64_t)UINT32_MAX || c[6].type != FG_VAL_INT || c[7].type != FG_VAL_INT)
        return FG_ERR_CORRUPT;
    r->version = (uint32_t)c[1].i;
    r->created_ms = c[6].i;
    r->state_ms = c[7].i;
    int destroyed = r->state == FG_KEY_DESTROYED;
    if (destroyed) {
        if (c[3].type != FG_VAL_NULL || c[4].type != FG_VAL_NULL || c[8].type != FG_VAL_INT)
            return FG_ERR_CORRUPT;
        r->destroyed_ms = c[8].i;
    } else {
        if (!blob_len_in(&c[3], 12, FG_AEAD_NONCE_MAX) ||
            !blob_len_in(&c[4], FG_KEYRING_WRAPPED_LEN, FG_KEYRING_WRAPPED_LEN) ||
            c[8].type != FG_VAL_NULL)
            return FG_ERR_CORRUPT;
        r->nonce_len = c[3].n;
        memcpy(r->nonce, c[3].p, c[3].n);
        memcpy(r->wrapped, c[4].p, FG_KEYRING_WRAPPED_LEN);
    }
    if (r->purpose == FG_KEY_SIGN) {
        if (!blob_len_in(&c[5], 32, FG_SIGN_PUBLIC_MAX))
            return FG_ERR_CORRUPT;
        r->public_len = c[5].n;
        memcpy(r->public_key, c[5].p, c[5].n);
    } else if (c[5].type != FG_VAL_NULL) {
        return FG_ERR_CORRUPT;
    }
    return FG_OK;
}

/* ---- meta --------------------------------------------------------------------------------- */

static fg_rc meta_row(void *ctx, const struct fg_val *c, int n)
{
    struct fg_keyring_meta *m = ctx;
    if (n != 5 || c[1].type != FG_VAL_INT || c[2].type != FG_VAL_INT ||
        !blob_len_in(&c[3], FG_HASH_LEN, FG_HASH_LEN) || c[4].type != FG_VAL_INT)
        return FG_ERR_CORRUPT;
    if (text_is(&c[0], "intl"))
        m->suite = FG_SUITE_INTL;
    else if (text_is(&c[0], "gm"))
        m->suite = FG_SUITE_GM;
    else
        return FG_ERR_CORRUPT;
    if (c[2].i < 1 || c[2].i > (int64_t)FG_KEYS_SHARES_MAX || c[1].i < 1 || c[1].i > c[2].i)
        return FG_ERR_CORRUPT;
    m->threshold = (unsigned)c[1].i;
    m->shares = (unsigned)c[2].i;
    memcpy(m->root_verifier, c[3].p, FG_HASH_LEN);
    m->created_ms = c[4].i;
    return FG_OK;
}

static fg_rc verifier_row(void *ctx, const struct fg_val *c, int n)
{
    struct fg_keyring_meta *m = ctx;
    if (m->verifier_count >= FG_KEYS_SHARES_MAX)
        return FG_ERR_CORRUPT;
    if (n != 3 || c[0].type != FG_VAL_INT || c[0].i < 1 || c[0].i > 255 ||
        !blob_len_in(&c[1], FG_SHARE_SALT_LEN, FG_SHARE_SALT_LEN) ||
        !blob_len_in(&c[2], FG_HASH_LEN, FG_HASH_LEN))
        return FG_ERR_CORRUPT;
    struct fg_keyring_verifier *v = &m->verifiers[m->verifier_count++];
    v->index = (uint8_t)c[0].i;
    memcpy(v->salt, c[1].p, FG_SHARE_SALT_LEN);
    memcpy(v->verifier, c[2].p, FG_HASH_LEN);
    return FG_OK;
}

fg_rc fg_keyring_load_meta(fg_conn *conn, struct fg_keyring_meta *meta, int *found)
{
    assert(conn != NULL && meta != NULL && found != NULL);
    struct fg_keyring_meta m;
    memset(&m, 0, sizeof m);
    *found = 0;
    fg_rc rc = fg_conn_exec(conn,
                            "SELECT suite, threshold, shares, root_verifier, created_ms "
                            "FROM keys_meta WHERE id = 1",
                            NULL, 0, meta_row, &m, NULL);
    if (rc != FG_OK || m.suite == 0)
        return rc;
    rc = fg_conn_exec(conn,
                      "SELECT share_index, salt, verifier FROM keys_share_verifier "
                      "ORDER BY share_index",
                      NULL, 0, verifier_row, &m, NULL);
    if (rc != FG_OK)
        return rc;
    if (m.verifier_count != m.shares)
        return FG_ERR_CORRUPT;
    *meta = m;
    *found = 1;
    return FG_OK;
}

fg_rc fg_keyring_insert_meta(fg_conn *conn, const struct fg_keyring_meta *meta)
{
    assert(conn != NULL && meta != NULL);
    assert(meta->verifier_count == meta->shares && meta->shares <= FG_KEYS_SHARES_MAX);
    struct fg_val p[5] = {FG_VSTR(fg_suite_name(meta->suite)), FG_VINT(meta->threshold),
                          FG_VINT(meta->shares), FG_VBLOB(meta->root_verifier, FG_HASH_LEN),
                          FG_VINT(meta->created_ms)};
    fg_rc rc = fg_conn_exec(conn,
                            "INSERT INTO keys_meta (id, suite, threshold, shares, root_verifier, "
                            "created_ms) VALUES (1, ?1, ?2, ?3, ?4, ?5)",
                            p, 5, NULL, NULL, NULL);
    for (unsigned i = 0; rc == FG_OK && i < meta->verifier_count; i++) {
        const struct fg_keyring_verifier *v = &meta->verifiers[i];
        struct fg_val q[3] = {FG_VINT(v->index), FG_VBLOB(v->salt, FG_SHARE_SALT_LEN),
                              FG_VBLOB(v->verifier, FG_HASH_LEN)};
        rc = fg_conn_exec(conn,
                          "INSERT INTO keys_share_verifier (share_index, salt, verifier) "
                          "VALUES (?1, ?2, ?3)",
                          q, 3, NULL, NULL, NULL);
    }
    return rc;
}

/* ---- keyring rows ------------------------------------------------------------------------- */

fg_rc fg_keyring_insert(fg_conn *conn, const struct fg_keyring_row *r)
{
    assert(conn != NULL && r != NULL);
    assert(r->state == FG_KEY_ACTIVE && r->nonce_len > 0 && r->version >= 1);
    struct fg_val p[8] = {
        FG_VSTR(fg_key_purpose_name(r->purpose)),
        FG_VINT(r->version),
        FG_VSTR(fg_key_state_name(r->state)),
        FG_VBLOB(r->nonce, r->nonce_len),
        FG_VBLOB(r->wrapped, FG_KEYRING_WRAPPED_LEN),
        r->public_len > 0 ? FG_VBLOB(r->public_key, r->public_len) : FG_VNULL,
        FG_VINT(r->created_ms),
        FG_VINT(r->state_ms),
    };
    return fg_conn_exec(conn,
                        "INSERT INTO keys_keyring (" ROW_COLUMNS ") "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL)",
                        p, 8, NULL, NULL, NULL);
}

struct each_ctx {
    fg_keyring_row_fn fn;
    void *ctx;
};

static fg_rc each_row(void *ctx, const struct fg_val *c, int n)
{
    struct each_ctx *e = ctx;
    struct fg_keyring_row r;
    fg_rc rc = row_decode(c, n, &r);
    if (rc == FG_OK)
        rc = e->fn(e->ctx, &r);
    return rc;
}

fg_rc fg_keyring_each(fg_conn *conn, int live_only, fg_keyring_row_fn fn, void *ctx)
{
    assert(conn != NULL && fn != NULL);
    struct each_ctx e = {fn, ctx};
    if (live_only)
        return fg_conn_exec(conn,
                            "SELECT " ROW_COLUMNS " FROM keys_keyring "
                            "WHERE state <> 'destroyed' ORDER BY purpose, version",
                            NULL, 0, each_row, &e, NULL);
    return fg_conn_exec(conn, "SELECT " ROW_COLUMNS " FROM keys_keyring ORDER BY purpose, version",
                        NULL, 0, each_row, &e, NULL);
}

struct get_ctx {
    struct fg_keyring_row *row;
    int found;
};

static fg_rc get_row(void *ctx, const struct fg_val *c, int n)
{
    struct get_ctx *g = ctx;
    if (g->found)
        return FG_ERR_CORRUPT; /* two active versions: the unique index forbids it */
    g->found = 1;
    return row_decode(c, n, g->row);
}

fg_rc fg_keyring_get(fg_conn *conn, enum fg_key_purpose purpose, uint32_t version,
                     struct fg_keyring_row *row, int *found)
{
    assert(conn != NULL && row != NULL && found != NULL);
    assert(fg_key_purpose_name(purpose) != NULL);
    struct get_ctx g = {row, 0};
    fg_rc rc;
    if (version == 0) {
        struct fg_val p[1] = {FG_VSTR(fg_key_purpose_name(purpose))};
        rc = fg_conn_exec(conn,
                          "SELECT " ROW_COLUMNS " FROM keys_keyring "
                          "WHERE purpose = ?1 AND state = 'active'",
                          p, 1, get_row, &g, NULL);
    } else {
        struct fg_val p[2] = {FG_VSTR(fg_key_purpose_name(purpose)), FG_VINT(version)};
        rc = fg_conn_exec(conn,
                          "SELECT " ROW_COLUMNS " FROM keys_keyring "
                          "WHERE purpose = ?1 AND version = ?2",
                          p, 2, get_row, &g, NULL);
    }
    *found = rc == FG_OK && g.found;
    return rc;
}

struct versions_ctx {
    uint32_t max;
    unsigned live;
};

static fg_rc versions_row(void *ctx, const struct fg_val *c, int n)
{
    struct versions_ctx *v = ctx;
    if (n != 2 || c[0].type != FG_VAL_INT || c[1].type != FG_VAL_INT || c[0].i < 0 ||
        c[0].i > (int64_t)UINT32_MAX || c[1].i < 0 || c[1].i > c[0].i)
        return FG_ERR_CORRUPT;
    v->max = (uint32_t)c[0].i;
    v->live = (unsigned)c[1].i;
    return FG_OK;
}

fg_rc fg_keyring_versions(fg_conn *conn, enum fg_key_purpose purpose, uint32_t *max_version,
                          unsigned *live)
{
    assert(conn != NULL && max_version != NULL && live != NULL);
    assert(fg_key_purpose_name(purpose) != NULL);
    struct versions_ctx v = {0, 0};
    struct fg_val p[1] = {FG_VSTR(fg_key_purpose_name(purpose))};
    fg_rc rc = fg_conn_exec(conn,
                            "SELECT coalesce(max(version), 0), "
                            "coalesce(sum(state <> 'destroyed'), 0) "
                            "FROM keys_keyring WHERE purpose = ?1",
                            p, 1, versions_row, &v, NULL);
    *max_version = v.max;
    *live = v.live;
    return rc;
}

static fg_rc update_one(fg_conn *conn, const char *sql, enum fg_key_purpose purpose,
                        uint32_t version, int64_t now_ms)
{
    assert(fg_key_purpose_name(purpose) != NULL && version >= 1);
    struct fg_val p[3] = {FG_VSTR(fg_key_purpose_name(purpose)), FG_VINT(version), FG_VINT(now_ms)};
    int64_t changes = 0;
    fg_rc rc = fg_conn_exec(conn, sql, p, 3, NULL, NULL, &changes);
    if (rc == FG_OK && changes != 1)
        rc = FG_ERR_CONFLICT;
    return rc;
}

fg_rc fg_keyring_demote(fg_conn *conn, enum fg_key_purpose purpose, uint32_t version,
                        int64_t now_ms)
{
    return update_one(conn,
                      "UPDATE keys_keyring SET state = 'decrypt-only', state_ms = ?3 "
                      "WHERE purpose = ?1 AND version = ?2 AND state = 'active'",
                      purpose, version, now_ms);
}

fg_rc fg_keyring_shred(fg_conn *conn, enum fg_key_purpose purpose, uint32_t version, int64_t now_ms)
{
    return update_one(conn,
                      "UPDATE keys_keyring SET state = 'destroyed', nonce = NULL, wrapped = NULL, "
                      "state_ms = ?3, destroyed_ms = ?3 "
                      "WHERE purpose = ?1 AND version = ?2 AND state = 'decrypt-only'",
                      purpose, version, now_ms);
}

/* ---- wrapping ------------------------------------------------------------------------------ */

static size_t wrap_aad(const struct fg_keyring_row *r, char aad[WRAP_AAD_MAX])
{
    const char *name = fg_key_purpose_name(r->purpose);
    assert(name != NULL);
    int n = snprintf(aad, WRAP_AAD_MAX, "keyring|%s|%u", name, (unsigned)r->version);
    assert(n > 0 && n < WRAP_AAD_MAX);
    return (size_t)n;
}

fg_rc fg_keyring_wrap(enum fg_suite suite, const uint8_t root[FG_KEY_LEN],
                      const uint8_t key[FG_KEY_LEN], struct fg_keyring_row *row)
{
    assert(root != NULL && key != NULL && row != NULL);
    assert(row->version >= 1);
    char aad[WRAP_AAD_MAX];
    size_t aad_len = wrap_aad(row, aad);
    row->nonce_len = fg_aead_nonce_len(suite);
    assert(row->nonce_len >= 12 && row->nonce_len <= FG_AEAD_NONCE_MAX);
    fg_rc rc = fg_random(row->nonce, row->nonce_len);
    if (rc != FG_OK)
        return rc;
    return fg_aead_seal(suite, root, row->nonce, aad, aad_len, key, FG_KEY_LEN, row->wrapped,
                        row->wrapped + FG_KEY_LEN);
}

fg_rc fg_keyring_unwrap(enum fg_suite suite, const uint8_t root[FG_KEY_LEN],
                        const struct fg_keyring_row *row, uint8_t key[FG_KEY_LEN])
{
    assert(root != NULL && key != NULL && row != NULL);
    if (row->state == FG_KEY_DESTROYED || row->nonce_len != fg_aead_nonce_len(suite))
        return FG_ERR_CRYPTO;
    char aad[WRAP_AAD_MAX];
    size_t aad_len = wrap_aad(row, aad);
    return fg_aead_open(suite, root, row->nonce, aad, aad_len, row->wrapped, FG_KEY_LEN,
                        row->wrapped + FG_KEY_LEN, key);
}

fg_rc fg_keyring_root_verifier(enum fg_suite suite, const uint8_t root[FG_KEY_LEN],
                               uint8_t out[FG_HASH_LEN])
{
    assert(root != NULL && out != NULL);
    return fg_hmac(fg_suite_hash(suite), root, FG_KEY_LEN, root_label, sizeof root_label - 1, out);
}
