/*
 * protect.c — field encryption, blind indexes, the registry of protected columns and the
 * rewrap job (see protect.h for the format).
 *
 * Keys are used in place through fg_keys_use (under the keys' read lock, never copied): the
 * callback builds the header, draws the nonce and runs the AEAD. The AAD is assembled in a
 * fixed stack buffer whose size follows from the named limits, so no input can make it
 * grow. Opening checks every header byte it can before touching a key (format, purpose) and
 * the suite byte against the instance's suite inside the callback; the AEAD then
 * authenticates all of them again through the AAD.
 *
 * The rewrap job walks each registered column with keyset pagination on its id column
 * (`id > last ORDER BY id LIMIT batch`), so every row is visited once even when some cannot
 * be opened, and the job always ends. One page is one write intent: rows are read, opened
 * under their old version into a locked scratch buffer, sealed under the active version and
 * written back, all inside the same transaction, so no service write can interleave. Two
 * fg_keys_use calls per row are made one after the other, never nested (the keys' lock
 * prefers writers; a nested read lock could deadlock against a waiting seal).
 */
#include "protect/protect.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/log.h"

#define AAD_MAX (FG_PROTECT_HEADER_LEN + 2 * (FG_PROTECT_NAME_MAX + 1) + FG_PROTECT_ROW_ID_MAX)
#define SQL_MAX 1024 /* 8 identifiers of FG_PROTECT_NAME_MAX + ~200 bytes of SQL */
#define CIPHERTEXT_MAX FG_PROTECT_SEALED_MAX(FG_PROTECT_PLAINTEXT_MAX)

/* ---- header and AAD ----------------------------------------------------------------------- */

static int aead_purpose(enum fg_key_purpose p)
{
    return p == FG_KEY_PII || p == FG_KEY_PAN || p == FG_KEY_BACKUP;
}

static int name_ok(const char *s, size_t max)
{
    if (s == NULL)
        return 0;
    size_t n = strnlen(s, max + 1);
    return n >= 1 && n <= max;
}

/* A place: where a ciphertext lives. Checked once per call. */
struct place {
    const char *table, *column, *row_id;
};

static int place_ok(const struct place *pl)
{
    return name_ok(pl->table, FG_PROTECT_NAME_MAX) && name_ok(pl->column, FG_PROTECT_NAME_MAX) &&
           name_ok(pl->row_id, FG_PROTECT_ROW_ID_MAX);
}

static void header_write(uint8_t h[FG_PROTECT_HEADER_LEN], enum fg_suite suite,
                         enum fg_key_purpose purpose, uint32_t version)
{
    h[0] = FG_PROTECT_FORMAT_V1;
    h[1] = (uint8_t)suite;
    h[2] = (uint8_t)purpose;
    h[3] = (uint8_t)(version >> 24);
    h[4] = (uint8_t)(version >> 16);
    h[5] = (uint8_t)(version >> 8);
    h[6] = (uint8_t)version;
}

static size_t aad_build(uint8_t aad[AAD_MAX], const uint8_t header[FG_PROTECT_HEADER_LEN],
                        const struct place *pl)
{
    size_t t = strlen(pl->table), c = strlen(pl->column), r = strlen(pl->row_id);
    assert(t <= FG_PROTECT_NAME_MAX && c <= FG_PROTECT_NAME_MAX && r <= FG_PROTECT_ROW_ID_MAX);
    size_t n = 0;
    memcpy(aad + n, header, FG_PROTECT_HEADER_LEN);
    n += FG_PROTECT_HEADER_LEN;
    memcpy(aad + n, pl->table, t + 1); /* with its NUL: the separator */
    n += t + 1;
    memcpy(aad + n, pl->column, c + 1);
    n += c + 1;
    memcpy(aad + n, pl->row_id, r);
    n += r;
    assert(n <= AAD_MAX);
    return n;
}

fg_rc fg_protect_version_of(const uint8_t *ct, size_t ct_len, uint32_t *version)
{
    assert(version != NULL);
    *version = 0;
    if (ct == NULL || ct_len < FG_PROTECT_HEADER_LEN || ct[0] != FG_PROTECT_FORMAT_V1)
        return FG_ERR_CRYPTO;
    *version = (uint32_t)ct[3] << 24 | (uint32_t)ct[4] << 16 | (uint32_t)ct[5] << 8 | ct[6];
    return *version != 0 ? FG_OK : FG_ERR_CRYPTO;
}

/* ---- seal / open ------------------------------------------------------------------------------
 */

struct seal_ctx {
    enum fg_key_purpose purpose;
    const struct place *pl;
    const uint8_t *pt;
    size_t pt_len;
    uint8_t *out;
    size_t out_cap, *out_len;
};

static fg_rc seal_with(void *ctx, const uint8_t key[FG_KEY_LEN], uint32_t version,
                       enum fg_suite suite)
{
    struct seal_ctx *s = ctx;
    size_t nonce_len = fg_aead_nonce_len(suite);
    assert(nonce_len >= 12 && nonce_len <= FG_AEAD_NONCE_MAX);
    size_t total = FG_PROTECT_HEADER_LEN + nonce_len + s->pt_len + FG_AEAD_TAG_LEN;
    if (total > s->out_cap)
        return FG_ERR_LIMIT;
    uint8_t *nonce = s->out + FG_PROTECT_HEADER_LEN, *body = nonce + nonce_len;
    header_write(s->out, suite, s->purpose, version);
    fg_rc rc = fg_random(nonce, nonce_len);
    if (rc != FG_OK)
        return rc;
    uint8_t aad[AAD_MAX];
    size_t aad_len = aad_build(aad, s->out, s->pl);
    rc = fg_aead_seal(suite, key, nonce, aad, aad_len, s->pt, s->pt_len, body, body + s->pt_len);
    if (rc == FG_OK)
        *s->out_len = total;
    return rc;
}

fg_rc fg_protect_seal(fg_keys *k, enum fg_key_purpose purpose, const char *table,
                      const char *column, const char *row_id, const void *pt, size_t pt_len,
                      uint8_t *out, size_t out_cap, size_t *out_len)
{
    assert(k != NULL && out != NULL && out_len != NULL);
    assert(pt != NULL || pt_len == 0);
    *out_len = 0;
    struct place pl = {table, column, row_id};
    if (!aead_purpose(purpose) || !place_ok(&pl))
        return FG_ERR_INVALID;
    if (pt_len > FG_PROTECT_PLAINTEXT_MAX)
        return FG_ERR_TOO_LARGE;
    struct seal_ctx s = {purpose, &pl, pt, pt_len, out, out_cap, out_len};
    return fg_keys_use(k, purpose, 0, seal_with, &s);
}

struct open_ctx {
    const struct place *pl;
    const uint8_t *ct;
    size_t ct_len;
    uint8_t *out;
    size_t out_cap, *out_len;
};

static fg_rc open_with(void *ctx, const uint8_t key[FG_KEY_LEN], uint32_t version,
                       enum fg_suite suite)
{
    struct open_ctx *o = ctx;
    (void)version; /* fg_keys_use found the version the header names */
    size_t nonce_len = fg_aead_nonce_len(suite);
    if (o->ct[1] != (uint8_t)suite ||
        o->ct_len < FG_PROTECT_HEADER_LEN + nonce_len + FG_AEAD_TAG_LEN)
        return FG_ERR_CRYPTO;
    size_t pt_len = o->ct_len - FG_PROTECT_HEADER_LEN - nonce_len - FG_AEAD_TAG_LEN;
    if (pt_len > o->out_cap)
        return FG_ERR_LIMIT;
    const uint8_t *nonce = o->ct + FG_PROTECT_HEADER_LEN, *body = nonce + nonce_len;
    uint8_t aad[AAD_MAX];
    size_t aad_len = aad_build(aad, o->ct, o->pl);
    fg_rc rc = fg_aead_open(suite, key, nonce, aad, aad_len, body, pt_len, body + pt_len, o->out);
    if (rc == FG_OK)
        *o->out_len = pt_len;
    return rc;
}

fg_rc fg_protect_open(fg_keys *k, enum fg_key_purpose purpose, const char *table,
                      const char *column, const char *row_id, const uint8_t *ct, size_t ct_len,
                      uint8_t *out, size_t out_cap, size_t *out_len)
{
    assert(k != NULL && out_len != NULL);
    assert(out != NULL || out_cap == 0);
    *out_len = 0;
    struct place pl = {table, column, row_id};
    if (!aead_purpose(purpose) || !place_ok(&pl))
        return FG_ERR_INVALID;
    uint32_t version = 0;
    fg_rc rc = fg_protect_version_of(ct, ct_len, &version);
    if (rc != FG_OK || ct[2] != (uint8_t)purpose || ct_len > CIPHERTEXT_MAX)
        return FG_ERR_CRYPTO;
    struct open_ctx o = {&pl, ct, ct_len, out, out_cap, out_len};
    rc = fg_keys_use(k, purpose, version, open_with, &o);
    if (rc == FG_ERR_NOT_FOUND && !fg_keys_is_destroyed(k, purpose, version))
        rc = FG_ERR_CRYPTO; /* a version that never existed: forged or corrupt */
    return rc;
}

/* ---- blind index ---------------------------------------------------------------------------- */

struct index_ctx {
    const char *field;
    const void *value;
    size_t len;
    uint8_t *out;
};

static fg_rc index_with(void *ctx, const uint8_t key[FG_KEY_LEN], uint32_t version,
                        enum fg_suite suite)
{
    (void)version;
    const struct index_ctx *x = ctx;
    struct fg_hmac_ctx *h = NULL;
    fg_rc rc = fg_hmac_begin(fg_suite_hash(suite), key, FG_KEY_LEN, &h);
    if (rc != FG_OK)
        return rc;
    rc = fg_hmac_update(h, x->field, strlen(x->field) + 1); /* with its NUL: the separator */
    if (rc == FG_OK)
        rc = fg_hmac_update(h, x->value, x->len);
    if (rc != FG_OK) {
        fg_hmac_abort(h);
        return rc;
    }
    return fg_hmac_end(h, x->out);
}

fg_rc fg_protect_index_version(fg_keys *k, uint32_t version, const char *field, const void *value,
                               size_t len, uint8_t out[FG_PROTECT_INDEX_LEN])
{
    assert(k != NULL && out != NULL);
    assert(value != NULL || len == 0);
    if (!name_ok(field, FG_PROTECT_NAME_MAX))
        return FG_ERR_INVALID;
    if (len > FG_PROTECT_INDEX_VALUE_MAX)
        return FG_ERR_TOO_LARGE;
    struct index_ctx x = {field, value != NULL ? value : "", len, out};
    return fg_keys_use(k, FG_KEY_INDEX, version, index_with, &x);
}

fg_rc fg_protect_index(fg_keys *k, const char *field, const void *value, size_t len,
                       uint8_t out[FG_PROTECT_INDEX_LEN])
{
    return fg_protect_index_version(k, 0, field, value, len, out);
}

/* ---- registry ----------------------------------------------------------------------------------
 */

struct column {
    char table[FG_PROTECT_NAME_MAX + 1];
    char id_column[FG_PROTECT_NAME_MAX + 1];
    char column[FG_PROTECT_NAME_MAX + 1];
    enum fg_key_purpose purpose;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct column registry[FG_PROTECT_COLUMNS_MAX];
static unsigned registry_count;

/* [a-z_][a-z0-9_]*: safe to splice into SQL between double quotes. */
static int identifier_ok(const char *s)
{
    if (!name_ok(s, FG_PROTECT_NAME_MAX) || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (const char *p = s; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

fg_rc fg_protect_register_column(const char *table, const char *id_column, const char *column,
                                 enum fg_key_purpose purpose)
{
    if (!identifier_ok(table) || !identifier_ok(id_column) || !identifier_ok(column) ||
        !aead_purpose(purpose) || strcmp(id_column, column) == 0)
        return FG_ERR_INVALID;
    fg_rc rc = FG_OK;
    pthread_mutex_lock(&registry_lock);
    for (unsigned i = 0; i < registry_count && rc == FG_OK; i++)
        if (strcmp(registry[i].table, table) == 0 && strcmp(registry[i].column, column) == 0)
            rc = FG_ERR_CONFLICT;
    if (rc == FG_OK && registry_count >= FG_PROTECT_COLUMNS_MAX)
        rc = FG_ERR_LIMIT;
    if (rc == FG_OK) {
        struct column *c = &registry[registry_count++];
        memset(c, 0, sizeof *c);
        memcpy(c->table, table, strlen(table));
        memcpy(c->id_column, id_column, strlen(id_column));
        memcpy(c->column, column, strlen(column));
        c->purpose = purpose;
    }
    pthread_mutex_unlock(&registry_lock);
    return rc;
}

void fg_protect_registry_clear(void)
{
    pthread_mutex_lock(&registry_lock);
    memset(registry, 0, sizeof registry);
    registry_count = 0;
    pthread_mutex_unlock(&registry_lock);
}

static unsigned registry_snapshot(struct column out[FG_PROTECT_COLUMNS_MAX])
{
    pthread_mutex_lock(&registry_lock);
    unsigned n = registry_count;
    memcpy(out, registry, sizeof registry[0] * n);
    pthread_mutex_unlock(&registry_lock);
    return n;
}

/* SQL around registered identifiers (validated by identifier_ok, so quoting is enough).
 * SQL_MAX has room for the longest statement with names at FG_PROTECT_NAME_MAX; a
 * statement that does not fit is a bug, reported rather than run truncated. */
static fg_rc sql_printf(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static fg_rc sql_printf(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    assert(n > 0 && (size_t)n < cap);
    return n > 0 && (size_t)n < cap ? FG_OK : FG_ERR_INTERNAL;
}

/* ---- usage -------------------------------------------------------------------------------------
 */

static fg_rc count_row(void *ctx, const struct fg_val *cols, int ncols)
{
    if (ncols != 1 || cols[0].type != FG_VAL_INT || cols[0].i < 0)
        return FG_ERR_CORRUPT;
    *(uint64_t *)ctx += (uint64_t)cols[0].i;
    return FG_OK;
}

static fg_rc count_column(fg_conn *conn, const struct column *c, uint32_t version, uint64_t *count)
{
    char sql[SQL_MAX];
    fg_rc rc = sql_printf(sql, sizeof sql,
                          "SELECT count(*) FROM \"%s\" WHERE substr(\"%s\", 1, 1) = ?1 "
                          "AND substr(\"%s\", 3, 5) = ?2",
                          c->table, c->column, c->column);
    if (rc != FG_OK)
        return rc;
    static const uint8_t format[1] = {FG_PROTECT_FORMAT_V1};
    uint8_t tag[5] = {(uint8_t)c->purpose, (uint8_t)(version >> 24), (uint8_t)(version >> 16),
                      (uint8_t)(version >> 8), (uint8_t)version};
    struct fg_val p[2] = {FG_VBLOB(format, 1), FG_VBLOB(tag, sizeof tag)};
    return fg_conn_exec(conn, sql, p, 2, count_row, count, NULL);
}

fg_rc fg_protect_count_version(fg_conn *conn, enum fg_key_purpose purpose, uint32_t version,
                               uint64_t *count)
{
    assert(conn != NULL && count != NULL);
    *count = 0;
    struct column cols[FG_PROTECT_COLUMNS_MAX];
    unsigned n = registry_snapshot(cols);
    fg_rc rc = FG_OK;
    for (unsigned i = 0; i < n && rc == FG_OK; i++)
        if (cols[i].purpose == purpose)
            rc = count_column(conn, &cols[i], version, count);
    return rc;
}

static fg_rc usage_counter(void *ctx, fg_conn *conn, enum fg_key_purpose purpose, uint32_t version,
                           uint64_t *count)
{
    (void)ctx;
    uint64_t n = 0;
    fg_rc rc = fg_protect_count_version(conn, purpose, version, &n);
    if (rc == FG_OK)
        *count += n;
    return rc;
}

fg_rc fg_protect_attach(fg_keys *k)
{
    assert(k != NULL);
    return fg_keys_add_usage_counter(k, usage_counter, NULL);
}

/* ---- rewrap -------------------------------------------------------------------------------------
 */

struct rewrap_row {
    int id_is_int;
    int64_t id_int;
    char id_text[FG_PROTECT_ROW_ID_MAX + 1]; /* also the AAD row id for integer ids */
    size_t id_len;
    uint8_t *ct; /* NULL: not a BLOB or too large: skip */
    size_t ct_len;
};

struct rewrap_job {
    fg_keys *k;
    const struct column *col;
    unsigned batch;
    struct rewrap_row *rows; /* batch entries */
    unsigned nrows;
    int have_last; /* keyset cursor: the last id of the previous page */
    struct rewrap_row last;
    uint8_t *pt;                 /* locked scratch, FG_PROTECT_PLAINTEXT_MAX */
    uint8_t *ct_out;             /* CIPHERTEXT_MAX */
    uint64_t rewrapped, skipped; /* of the current intent */
};

static void rows_release(struct rewrap_job *j)
{
    for (unsigned i = 0; i < j->nrows; i++) {
        free(j->rows[i].ct);
        j->rows[i].ct = NULL;
    }
    j->nrows = 0;
}

static int row_id_take(struct rewrap_row *r, const struct fg_val *v)
{
    if (v->type == FG_VAL_INT) {
        r->id_is_int = 1;
        r->id_int = v->i;
        int n = snprintf(r->id_text, sizeof r->id_text, "%" PRId64, v->i);
        r->id_len = (size_t)n;
        return n > 0;
    }
    if (v->type != FG_VAL_TEXT || v->n == 0 || v->n > FG_PROTECT_ROW_ID_MAX ||
        memchr(v->p, 0, v->n) != NULL)
        return 0;
    r->id_is_int = 0;
    memcpy(r->id_text, v->p, v->n);
    r->id_text[v->n] = '\0';
    r->id_len = v->n;
    return 1;
}

static fg_rc rewrap_collect(void *ctx, const struct fg_val *cols, int ncols)
{
    struct rewrap_job *j = ctx;
    if (ncols != 2 || j->nrows >= j->batch)
        return FG_ERR_INTERNAL;
    struct rewrap_row *r = &j->rows[j->nrows];
    memset(r, 0, sizeof *r);
    if (!row_id_take(r, &cols[0]))
        return FG_ERR_CORRUPT; /* the cursor could not move past it */
    j->nrows++;
    if (cols[1].type == FG_VAL_BLOB && cols[1].n <= CIPHERTEXT_MAX && cols[1].n > 0) {
        r->ct = malloc(cols[1].n);
        if (r->ct == NULL)
            return FG_ERR_NOMEM;
        memcpy(r->ct, cols[1].p, cols[1].n);
        r->ct_len = cols[1].n;
    }
    return FG_OK;
}

static fg_rc rewrap_select(fg_conn *conn, struct rewrap_job *j, uint32_t active)
{
    const struct column *c = j->col;
    char sql[SQL_MAX];
    fg_rc rc = sql_printf(sql, sizeof sql,
                          "SELECT \"%s\", \"%s\" FROM \"%s\" WHERE substr(\"%s\", 1, 1) = ?1 "
                          "AND substr(\"%s\", 3, 1) = ?2 AND substr(\"%s\", 4, 4) <> ?3 "
                          "%s%s%s ORDER BY \"%s\" LIMIT ?4",
                          c->id_column, c->column, c->table, c->column, c->column, c->column,
                          j->have_last ? "AND \"" : "", j->have_last ? c->id_column : "",
                          j->have_last ? "\" > ?5" : "", c->id_column);
    if (rc != FG_OK)
        return rc;
    static const uint8_t format[1] = {FG_PROTECT_FORMAT_V1};
    uint8_t purpose[1] = {(uint8_t)c->purpose};
    uint8_t ver[4] = {(uint8_t)(active >> 24), (uint8_t)(active >> 16), (uint8_t)(active >> 8),
                      (uint8_t)active};
    struct fg_val p[5] = {
        FG_VBLOB(format, 1), FG_VBLOB(purpose, 1), FG_VBLOB(ver, 4), FG_VINT(j->batch),
        j->last.id_is_int ? FG_VINT(j->last.id_int) : FG_VTEXT(j->last.id_text, j->last.id_len)};
    return fg_conn_exec(conn, sql, p, j->have_last ? 5 : 4, rewrap_collect, j, NULL);
}

/* Open under its own version, seal under the active one, write back. Rows that cannot be
 * opened are counted as skipped; only a sealed keyring (or a store error) stops the job. */
static fg_rc rewrap_one(fg_conn *conn, struct rewrap_job *j, const struct rewrap_row *r)
{
    const struct column *c = j->col;
    size_t pt_len = 0, ct_len = 0;
    fg_rc rc = r->ct == NULL
                   ? FG_ERR_CRYPTO
                   : fg_protect_open(j->k, c->purpose, c->table, c->column, r->id_text, r->ct,
                                     r->ct_len, j->pt, FG_PROTECT_PLAINTEXT_MAX, &pt_len);
    if (rc == FG_OK)
        rc = fg_protect_seal(j->k, c->purpose, c->table, c->column, r->id_text, j->pt, pt_len,
                             j->ct_out, CIPHERTEXT_MAX, &ct_len);
    fg_wipe(j->pt, pt_len);
    if (rc == FG_ERR_CRYPTO || rc == FG_ERR_NOT_FOUND) {
        j->skipped++;
        return FG_OK;
    }
    if (rc != FG_OK)
        return rc;
    char sql[SQL_MAX];
    rc = sql_printf(sql, sizeof sql, "UPDATE \"%s\" SET \"%s\" = ?1 WHERE \"%s\" = ?2", c->table,
                    c->column, c->id_column);
    if (rc != FG_OK)
        return rc;
    struct fg_val p[2] = {FG_VBLOB(j->ct_out, ct_len),
                          r->id_is_int ? FG_VINT(r->id_int) : FG_VTEXT(r->id_text, r->id_len)};
    int64_t changes = 0;
    rc = fg_conn_exec(conn, sql, p, 2, NULL, NULL, &changes);
    if (rc == FG_OK && changes != 1)
        rc = FG_ERR_INTERNAL; /* the row was just read in this same transaction */
    if (rc == FG_OK)
        j->rewrapped++;
    return rc;
}

struct version_probe {
    uint32_t version;
};

static fg_rc probe_version(void *ctx, const uint8_t key[FG_KEY_LEN], uint32_t version,
                           enum fg_suite suite)
{
    (void)key;
    (void)suite;
    ((struct version_probe *)ctx)->version = version;
    return FG_OK;
}

static fg_rc rewrap_intent(fg_conn *conn, void *arg)
{
    struct rewrap_job *j = arg;
    assert(conn != NULL && j != NULL && j->nrows == 0);
    j->rewrapped = j->skipped = 0;
    struct version_probe active = {0};
    fg_rc rc = fg_keys_use(j->k, j->col->purpose, 0, probe_version, &active);
    if (rc == FG_OK)
        rc = rewrap_select(conn, j, active.version);
    for (unsigned i = 0; rc == FG_OK && i < j->nrows; i++)
        rc = rewrap_one(conn, j, &j->rows[i]);
    return rc;
}

/* Pages through one column until a page comes back short. */
static fg_rc rewrap_column(struct rewrap_job *j, fg_store *store,
                           struct fg_protect_rewrap_stats *st)
{
    fg_rc rc;
    for (;;) {
        rc = fg_store_write(store, rewrap_intent, j);
        st->intents++;
        unsigned seen = j->nrows;
        if (rc == FG_OK) {
            st->rewrapped += j->rewrapped;
            st->skipped += j->skipped;
            if (seen > 0) {
                j->last = j->rows[seen - 1];
                j->last.ct = NULL;
                j->have_last = 1;
            }
        }
        rows_release(j);
        if (rc != FG_OK || seen < j->batch)
            break;
    }
    if (rc != FG_OK)
        fg_log(FG_LOG_WARN, "protect.rewrap_stopped", FG_LF_STR("table", j->col->table),
               FG_LF_STR("column", j->col->column), FG_LF_STR("rc", fg_rc_name(rc)));
    return rc;
}

fg_rc fg_protect_rewrap(fg_keys *k, fg_store *store, unsigned batch,
                        struct fg_protect_rewrap_stats *out)
{
    assert(k != NULL && store != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    if (batch == 0)
        batch = FG_PROTECT_REWRAP_BATCH_DEFAULT;
    if (batch > FG_PROTECT_REWRAP_BATCH_MAX)
        return FG_ERR_LIMIT;
    struct column cols[FG_PROTECT_COLUMNS_MAX];
    unsigned n = registry_snapshot(cols);
    struct rewrap_job j = {.k = k, .batch = batch};
    j.rows = calloc(batch, sizeof *j.rows);
    j.ct_out = malloc(CIPHERTEXT_MAX);
    j.pt = fg_secure_alloc(FG_PROTECT_PLAINTEXT_MAX);
    fg_rc rc = j.rows != NULL && j.ct_out != NULL && j.pt != NULL ? FG_OK : FG_ERR_NOMEM;
    for (unsigned i = 0; i < n && rc == FG_OK; i++) {
        j.col = &cols[i];
        j.have_last = 0;
        memset(&j.last, 0, sizeof j.last);
        rc = rewrap_column(&j, store, out);
    }
    free(j.rows);
    free(j.ct_out);
    if (j.pt != NULL) {
        fg_wipe(j.pt, FG_PROTECT_PLAINTEXT_MAX);
        fg_secure_free(j.pt);
    }
    fg_log(FG_LOG_INFO, "protect.rewrap", FG_LF_INT("rewrapped", (int64_t)out->rewrapped),
           FG_LF_INT("skipped", (int64_t)out->skipped), FG_LF_STR("rc", fg_rc_name(rc)));
    return rc;
}
