/*
 * ledger.c — the double-entry ledger (see ledger.h; schema migrations/0008_ledger.sql).
 *
 * Every write re-reads what it depends on through the writer's connection (inside the
 * intent's savepoint nothing can change under it) and updates balances with a conditional
 * UPDATE (`WHERE balance = <what we read>`), so even a second writer — which the store does
 * not have — could not lose an update. Arithmetic on money is checked with the compiler's
 * overflow builtins; SQL never sums money (SQLite's SUM raises on overflow, which would make
 * a hostile balance a denial of service): rows are streamed and added up here.
 */
#include "ledger/ledger.h"
#include "base/time.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/encode.h"
#include "base/limits.h"
#include "crypto/crypto.h"
#include "protect/protect.h"

#define ACC_PREFIX "acc_"
#define JNL_PREFIX "jnl_"
#define TRF_PREFIX "trf_"
#define MEMO_TABLE "ledger_journal"
#define MEMO_COLUMN "memo"
/* the memo of a transfer held for approval, until it is posted */
#define HELD_MEMO_TABLE "ledger_transfers"
#define SYSTEM_ACTOR "system"
/* Currencies one check keeps totals for (the limits file has at most this many). */
#define CHECK_CURRENCIES_MAX FG_LIMITS_CURRENCIES_MAX

_Static_assert(FG_LEDGER_ID_LEN ==
                   FG_LEDGER_ID_PREFIX_LEN + FG_BASE64URL_LEN(FG_LEDGER_ID_RANDOM_BYTES),
               "id length");
_Static_assert(FG_LEDGER_AMOUNT_MAX == FG_LIMITS_AMOUNT_MAX, "one amount maximum");
_Static_assert(FG_LEDGER_MEMO_MAX <= FG_PROTECT_PLAINTEXT_MAX, "memo fits protect");

/* ---- small checks ------------------------------------------------------------------------- */

/* Printable ASCII without spaces, 1..max bytes. */
static int token_valid(const char *s, size_t max)
{
    if (s == NULL || s[0] == '\0')
        return 0;
    for (size_t n = 0; s[n] != '\0'; n++)
        if (n >= max || (unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e)
            return 0;
    return 1;
}

static int currency_format_valid(const char *s)
{
    return s != NULL && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] >= 'A' &&
           s[2] <= 'Z' && s[3] == '\0';
}

int fg_ledger_currency_valid(const struct fg_limits *L, const char *cur)
{
    return currency_format_valid(cur) && fg_limits_has_currency(L, cur);
}

int fg_ledger_id_valid(const char *id, const char *prefix)
{
    if (id == NULL || prefix == NULL || strlen(prefix) != FG_LEDGER_ID_PREFIX_LEN ||
        strncmp(id, prefix, FG_LEDGER_ID_PREFIX_LEN) != 0 || strlen(id) != FG_LEDGER_ID_LEN)
        return 0;
    for (size_t i = FG_LEDGER_ID_PREFIX_LEN; i < FG_LEDGER_ID_LEN; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* Ids are time-ordered: 8 characters of the creation time in milliseconds (48 bits, six per
 * character, in the base64url characters' ASCII order, so ids sort by time as text), then
 * 14 random base64url characters (84 bits). New rows append at the right edge of the primary
 * key's B-tree instead of dirtying a random page each (the writer's page writes dominate a
 * transfer's cost, docs/BENCHMARKS.md). The random part keeps ids unguessable; nothing may
 * rely on ids for authorization anyway (owner checks, IDOR). */
static const char sorted64[] = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

static fg_rc new_id(const char *prefix, char out[FG_LEDGER_ID_SIZE])
{
    uint8_t raw[FG_LEDGER_ID_RANDOM_BYTES];
    char rnd[FG_LEDGER_ID_SIZE];
    memcpy(out, prefix, FG_LEDGER_ID_PREFIX_LEN);
    uint64_t ms = (uint64_t)fg_time_wall_ms();
    for (int i = 7; i >= 0; i--) {
        out[FG_LEDGER_ID_PREFIX_LEN + (size_t)i] = sorted64[ms & 63u];
        ms >>= 6;
    }
    fg_rc rc = fg_random(raw, sizeof raw);
    if (rc == FG_OK)
        rc = fg_base64url_encode(raw, sizeof raw, rnd, sizeof rnd);
    if (rc == FG_OK) {
        memcpy(out + FG_LEDGER_ID_PREFIX_LEN + 8, rnd,
               FG_LEDGER_ID_LEN - FG_LEDGER_ID_PREFIX_LEN - 8);
        out[FG_LEDGER_ID_LEN] = '\0';
    }
    fg_wipe(raw, sizeof raw);
    if (rc != FG_OK)
        out[0] = '\0';
    return rc;
}

/* A memo: valid UTF-8 (no overlongs, surrogates or code points above U+10FFFF) without
 * control characters, at most FG_LEDGER_MEMO_MAX bytes. */
static int memo_valid(const char *s, size_t n)
{
    if (n > FG_LEDGER_MEMO_MAX || (n > 0 && s == NULL))
        return 0;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return 0;
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
            (cp >= 0x80 && cp <= 0x9f))
            return 0;
        i += len;
    }
    return 1;
}

/* Copy a TEXT/NULL column into dst[cap]; FG_ERR_CORRUPT if it does not fit. */
static fg_rc col_text(const struct fg_val *v, char *dst, size_t cap)
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

static fg_rc col_int(const struct fg_val *v, int64_t *out)
{
    if (v->type != FG_VAL_INT)
        return FG_ERR_CORRUPT;
    *out = v->i;
    return FG_OK;
}

static fg_rc row_exists(void *ctx, const struct fg_val *cols, int ncols)
{
    (void)cols;
    (void)ncols;
    *(int *)ctx = 1;
    return FG_OK;
}

/* Adds the first column of each row to a checked sum. */
static fg_rc row_sum(void *ctx, const struct fg_val *cols, int ncols)
{
    int64_t v;
    fg_rc rc = ncols >= 1 ? col_int(&cols[0], &v) : FG_ERR_INTERNAL;
    if (rc == FG_OK && __builtin_add_overflow(*(int64_t *)ctx, v, (int64_t *)ctx))
        rc = FG_ERR_LIMIT;
    return rc;
}

fg_rc fg_ledger_register_columns(void)
{
    fg_rc rc = fg_protect_register_column(MEMO_TABLE, "id", MEMO_COLUMN, FG_KEY_PII);
    if (rc == FG_OK || rc == FG_ERR_CONFLICT)
        rc = fg_protect_register_column(HELD_MEMO_TABLE, "id", MEMO_COLUMN, FG_KEY_PII);
    return rc == FG_ERR_CONFLICT ? FG_OK : rc;
}

/* ---- accounts ----------------------------------------------------------------------------- */

#define ACCOUNT_COLUMNS                                                                            \
    "id, customer_id, kind, currency, status, balance, overdraft, per_txn_max, per_day_max, "      \
    "created_ms"
#define ACCOUNT_NCOLUMNS 10

static fg_rc account_from_row(const struct fg_val *cols, int ncols, struct fg_ledger_account *a)
{
    if (ncols != ACCOUNT_NCOLUMNS)
        return FG_ERR_INTERNAL;
    memset(a, 0, sizeof *a);
    fg_rc rc = col_text(&cols[0], a->id, sizeof a->id);
    if (rc == FG_OK)
        rc = col_text(&cols[1], a->customer_id, sizeof a->customer_id);
    if (rc == FG_OK)
        rc = col_text(&cols[2], a->kind, sizeof a->kind);
    if (rc == FG_OK)
        rc = col_text(&cols[3], a->currency, sizeof a->currency);
    if (rc == FG_OK)
        rc = col_text(&cols[4], a->status, sizeof a->status);
    if (rc == FG_OK)
        rc = col_int(&cols[5], &a->balance);
    if (rc == FG_OK)
        rc = col_int(&cols[6], &a->overdraft);
    if (rc == FG_OK)
        rc = col_int(&cols[7], &a->per_txn_max);
    if (rc == FG_OK)
        rc = col_int(&cols[8], &a->per_day_max);
    if (rc == FG_OK)
        rc = col_int(&cols[9], &a->created_ms);
    return rc;
}

struct account_one {
    struct fg_ledger_account *a;
    int found;
};

static fg_rc row_account_one(void *ctx, const struct fg_val *cols, int ncols)
{
    struct account_one *o = ctx;
    o->found = 1;
    return account_from_row(cols, ncols, o->a);
}

fg_rc fg_ledger_account_get(fg_conn *c, const char *id, struct fg_ledger_account *out)
{
    assert(c != NULL && out != NULL);
    /* a copy first: `id` may point into *out (reading an account again after a change) */
    char key[FG_LEDGER_ID_SIZE];
    int valid = fg_ledger_id_valid(id, ACC_PREFIX);
    if (valid)
        memcpy(key, id, FG_LEDGER_ID_SIZE);
    memset(out, 0, sizeof *out);
    if (!valid)
        return FG_ERR_NOT_FOUND;
    struct account_one o = {.a = out};
    struct fg_val p[] = {FG_VSTR(key)};
    fg_rc rc = fg_conn_exec(c, "SELECT " ACCOUNT_COLUMNS " FROM ledger_accounts WHERE id = ?", p, 1,
                            row_account_one, &o, NULL);
    if (rc == FG_OK && !o.found)
        rc = FG_ERR_NOT_FOUND;
    if (rc != FG_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

fg_rc fg_ledger_account_open(fg_conn *c, const struct fg_limits *L, const char *customer_id,
                             const char *currency, const char *actor_id, int64_t now_ms,
                             char id_out[FG_LEDGER_ID_SIZE])
{
    assert(c != NULL && L != NULL && id_out != NULL);
    id_out[0] = '\0';
    if (!token_valid(customer_id, FG_LEDGER_ID_MAX) || !token_valid(actor_id, FG_LEDGER_ID_MAX) ||
        !fg_ledger_currency_valid(L, currency))
        return FG_ERR_INVALID;
    int64_t per_txn, per_day;
    fg_rc rc = fg_limits_account_defaults(L, currency, &per_txn, &per_day);
    char id[FG_LEDGER_ID_SIZE];
    if (rc == FG_OK)
        rc = new_id(ACC_PREFIX, id);
    if (rc != FG_OK)
        return rc;
    struct fg_val p[] = {FG_VSTR(id),      FG_VSTR(customer_id), FG_VSTR(currency),
                         FG_VINT(per_txn), FG_VINT(per_day),     FG_VINT(now_ms),
                         FG_VSTR(actor_id)};
    rc = fg_conn_exec(c,
                      "INSERT INTO ledger_accounts (id, customer_id, kind, currency, status, "
                      "balance, overdraft, per_txn_max, per_day_max, created_ms, created_by, "
                      "updated_ms) VALUES (?1, ?2, 'customer', ?3, 'active', 0, 0, ?4, ?5, ?6, "
                      "?7, ?6)",
                      p, 7, NULL, NULL, NULL);
    if (rc == FG_OK)
        memcpy(id_out, id, sizeof id);
    return rc;
}

struct accounts_each {
    fg_ledger_account_fn fn;
    void *ctx;
};

static fg_rc row_account_each(void *ctx, const struct fg_val *cols, int ncols)
{
    struct accounts_each *e = ctx;
    struct fg_ledger_account a;
    fg_rc rc = account_from_row(cols, ncols, &a);
    return rc == FG_OK ? e->fn(e->ctx, &a) : rc;
}

fg_rc fg_ledger_accounts_of(fg_conn *c, const char *customer_id, fg_ledger_account_fn fn, void *ctx)
{
    assert(c != NULL && fn != NULL);
    if (!token_valid(customer_id, FG_LEDGER_ID_MAX))
        return FG_ERR_INVALID;
    struct accounts_each e = {fn, ctx};
    struct fg_val p[] = {FG_VSTR(customer_id)};
    return fg_conn_exec(c,
                        "SELECT " ACCOUNT_COLUMNS " FROM ledger_accounts WHERE customer_id = ? "
                        "ORDER BY created_ms, id",
                        p, 1, row_account_each, &e, NULL);
}

static fg_rc row_text_id(void *ctx, const struct fg_val *cols, int ncols)
{
    return ncols >= 1 ? col_text(&cols[0], ctx, FG_LEDGER_ID_SIZE) : FG_ERR_INTERNAL;
}

fg_rc fg_ledger_cash_account(fg_conn *c, const char *currency, int64_t now_ms,
                             char id_out[FG_LEDGER_ID_SIZE])
{
    assert(c != NULL && id_out != NULL);
    id_out[0] = '\0';
    if (!currency_format_valid(currency))
        return FG_ERR_INVALID;
    struct fg_val q[] = {FG_VSTR(currency)};
    fg_rc rc =
        fg_conn_exec(c, "SELECT id FROM ledger_accounts WHERE kind = 'cash' AND currency = ?", q, 1,
                     row_text_id, id_out, NULL);
    if (rc != FG_OK || id_out[0] != '\0')
        return rc;
    char id[FG_LEDGER_ID_SIZE];
    rc = new_id(ACC_PREFIX, id);
    if (rc != FG_OK)
        return rc;
    struct fg_val p[] = {FG_VSTR(id), FG_VSTR(currency), FG_VINT(FG_LEDGER_AMOUNT_MAX),
                         FG_VINT(now_ms)};
    rc = fg_conn_exec(c,
                      "INSERT INTO ledger_accounts (id, customer_id, kind, currency, status, "
                      "balance, overdraft, per_txn_max, per_day_max, created_ms, created_by, "
                      "updated_ms) VALUES (?1, NULL, 'cash', ?2, 'active', 0, 0, ?3, ?3, ?4, "
                      "'" SYSTEM_ACTOR "', ?4)",
                      p, 4, NULL, NULL, NULL);
    if (rc == FG_OK)
        memcpy(id_out, id, sizeof id);
    return rc;
}

static int status_valid(const char *s)
{
    return s != NULL &&
           (strcmp(s, "active") == 0 || strcmp(s, "frozen") == 0 || strcmp(s, "closed") == 0);
}

fg_rc fg_ledger_set_status(fg_conn *c, const char *account_id, const char *from_status,
                           const char *to_status, int64_t now_ms)
{
    assert(c != NULL);
    if (!status_valid(from_status) || !status_valid(to_status) ||
        strcmp(from_status, to_status) == 0 || strcmp(from_status, "closed") == 0)
        return FG_ERR_INVALID;
    struct fg_ledger_account a;
    fg_rc rc = fg_ledger_account_get(c, account_id, &a);
    if (rc != FG_OK)
        return rc;
    if (strcmp(a.kind, "cash") == 0)
        return FG_ERR_INVALID; /* the bank's own vault is not frozen or closed */
    if (strcmp(a.status, from_status) != 0)
        return FG_ERR_CONFLICT;
    if (strcmp(to_status, "closed") == 0 && a.balance != 0)
        return FG_ERR_POLICY;
    struct fg_val p[] = {FG_VSTR(to_status), FG_VINT(now_ms), FG_VSTR(account_id),
                         FG_VSTR(from_status)};
    int64_t changes = 0;
    rc = fg_conn_exec(c,
                      "UPDATE ledger_accounts SET status = ?1, updated_ms = ?2 "
                      "WHERE id = ?3 AND status = ?4",
                      p, 4, NULL, NULL, &changes);
    if (rc == FG_OK && changes != 1)
        rc = FG_ERR_CONFLICT;
    return rc;
}

fg_rc fg_ledger_set_limits(fg_conn *c, const char *account_id, int64_t per_txn, int64_t per_day,
                           int64_t now_ms)
{
    assert(c != NULL);
    if (per_txn < 1 || per_txn > per_day || per_day > FG_LEDGER_AMOUNT_MAX)
        return FG_ERR_INVALID;
    struct fg_ledger_account a;
    fg_rc rc = fg_ledger_account_get(c, account_id, &a);
    if (rc != FG_OK)
        return rc;
    if (strcmp(a.status, "closed") == 0)
        return FG_ERR_CONFLICT;
    struct fg_val p[] = {FG_VINT(per_txn), FG_VINT(per_day), FG_VINT(now_ms), FG_VSTR(account_id)};
    return fg_conn_exec(c,
                        "UPDATE ledger_accounts SET per_txn_max = ?1, per_day_max = ?2, "
                        "updated_ms = ?3 WHERE id = ?4",
                        p, 4, NULL, NULL, NULL);
}

/* ---- posting ------------------------------------------------------------------------------ */

static fg_rc refuse(fg_rc rc, const char *why, const char *field, const char **why_out,
                    const char **field_out)
{
    *why_out = why;
    *field_out = field;
    return rc;
}

/* Write one entry and move the account's balance from `before` to `after`. */
static fg_rc entry_write(fg_conn *c, const char *journal_id, const char *account_id, int64_t amount,
                         int64_t before, int64_t after, int64_t now_ms)
{
    struct fg_val e[] = {FG_VSTR(journal_id), FG_VSTR(account_id), FG_VINT(amount), FG_VINT(after),
                         FG_VINT(now_ms)};
    fg_rc rc = fg_conn_exec(c,
                            "INSERT INTO ledger_entries (journal_id, account_id, amount, "
                            "balance_after, created_ms) VALUES (?, ?, ?, ?, ?)",
                            e, 5, NULL, NULL, NULL);
    if (rc != FG_OK)
        return rc;
    struct fg_val u[] = {FG_VINT(after), FG_VINT(now_ms), FG_VSTR(account_id), FG_VINT(before)};
    int64_t changes = 0;
    rc = fg_conn_exec(c,
                      "UPDATE ledger_accounts SET balance = ?1, updated_ms = ?2 "
                      "WHERE id = ?3 AND balance = ?4",
                      u, 4, NULL, NULL, &changes);
    if (rc == FG_OK && changes != 1)
        rc = FG_ERR_INTERNAL; /* the balance changed under the writer: cannot happen */
    return rc;
}

static fg_rc post_check_shape(const struct fg_ledger_move *m, const char **why, const char **field)
{
    if (m->kind == NULL || (strcmp(m->kind, "deposit") != 0 && strcmp(m->kind, "withdrawal") != 0 &&
                            strcmp(m->kind, "transfer") != 0))
        return refuse(FG_ERR_INVALID, "the kind of movement is unknown", "kind", why, field);
    if (m->amount <= 0)
        return refuse(FG_ERR_INVALID, "the amount must be positive", "amount", why, field);
    if (m->amount > FG_LEDGER_AMOUNT_MAX)
        return refuse(FG_ERR_LIMIT, "the amount is above the maximum of one movement", "amount",
                      why, field);
    if (!currency_format_valid(m->currency))
        return refuse(FG_ERR_INVALID, "the currency is malformed", "currency", why, field);
    if (!memo_valid(m->memo, m->memo_len))
        return refuse(m->memo_len > FG_LEDGER_MEMO_MAX ? FG_ERR_TOO_LARGE : FG_ERR_INVALID,
                      "the memo must be at most 140 bytes of text", "memo", why, field);
    if (!token_valid(m->actor_id, FG_LEDGER_ID_MAX))
        return refuse(FG_ERR_INVALID, "the actor is malformed", NULL, why, field);
    if (!fg_ledger_id_valid(m->debit_account, ACC_PREFIX))
        return refuse(FG_ERR_NOT_FOUND, "the account does not exist", "from", why, field);
    if (!fg_ledger_id_valid(m->credit_account, ACC_PREFIX))
        return refuse(FG_ERR_NOT_FOUND, "the receiving account does not exist", "to", why, field);
    if (strcmp(m->debit_account, m->credit_account) == 0)
        return refuse(FG_ERR_INVALID, "the two accounts must differ", "to", why, field);
    return FG_OK;
}

static fg_rc post_check_accounts(const struct fg_ledger_move *m, const struct fg_ledger_account *d,
                                 const struct fg_ledger_account *cr, int64_t *d_after,
                                 int64_t *c_after, const char **why, const char **field)
{
    if (strcmp(d->currency, m->currency) != 0)
        return refuse(FG_ERR_INVALID, "the currency does not match the account", "currency", why,
                      field);
    if (strcmp(cr->currency, m->currency) != 0)
        return refuse(FG_ERR_INVALID, "the currency does not match the receiving account",
                      "currency", why, field);
    int d_cash = strcmp(d->kind, "cash") == 0, c_cash = strcmp(cr->kind, "cash") == 0;
    int fits = strcmp(m->kind, "deposit") == 0      ? (d_cash && !c_cash)
               : strcmp(m->kind, "withdrawal") == 0 ? (!d_cash && c_cash)
                                                    : (!d_cash && !c_cash);
    if (!fits)
        return refuse(FG_ERR_INVALID, "the accounts do not fit the kind of movement", "kind", why,
                      field);
    if (strcmp(d->status, "frozen") == 0)
        return refuse(FG_ERR_POLICY, "the account is frozen", "from", why, field);
    if (strcmp(d->status, "active") != 0)
        return refuse(FG_ERR_POLICY, "the account is closed", "from", why, field);
    if (strcmp(cr->status, "closed") == 0)
        return refuse(FG_ERR_POLICY, "the receiving account is closed", "to", why, field);
    if (__builtin_sub_overflow(d->balance, m->amount, d_after))
        return refuse(FG_ERR_LIMIT, "the balance would overflow", "amount", why, field);
    if (!d_cash && *d_after < -d->overdraft)
        return refuse(FG_ERR_POLICY, "insufficient funds", "amount", why, field);
    if (__builtin_add_overflow(cr->balance, m->amount, c_after))
        return refuse(FG_ERR_LIMIT, "the receiving balance would overflow", "amount", why, field);
    return FG_OK;
}

fg_rc fg_ledger_post(fg_conn *c, fg_keys *k, const struct fg_ledger_move *m,
                     char journal_id_out[FG_LEDGER_ID_SIZE], const char **why, const char **field)
{
    assert(c != NULL && m != NULL);
    const char *why_l = NULL, *field_l = NULL;
    if (why == NULL)
        why = &why_l;
    if (field == NULL)
        field = &field_l;
    *why = NULL;
    *field = NULL;
    if (journal_id_out != NULL)
        journal_id_out[0] = '\0';

    fg_rc rc = post_check_shape(m, why, field);
    if (rc != FG_OK)
        return rc;
    struct fg_ledger_account d, cr;
    rc = fg_ledger_account_get(c, m->debit_account, &d);
    if (rc == FG_ERR_NOT_FOUND)
        return refuse(rc, "the account does not exist", "from", why, field);
    if (rc == FG_OK) {
        rc = fg_ledger_account_get(c, m->credit_account, &cr);
        if (rc == FG_ERR_NOT_FOUND)
            return refuse(rc, "the receiving account does not exist", "to", why, field);
    }
    if (rc != FG_OK)
        return rc;
    int64_t d_after, c_after;
    rc = post_check_accounts(m, &d, &cr, &d_after, &c_after, why, field);
    if (rc != FG_OK)
        return rc;

    char jid[FG_LEDGER_ID_SIZE];
    rc = new_id(JNL_PREFIX, jid);
    if (rc != FG_OK)
        return rc;
    uint8_t sealed[FG_PROTECT_SEALED_MAX(FG_LEDGER_MEMO_MAX)];
    size_t sealed_len = 0;
    if (m->memo_len > 0) {
        if (k == NULL)
            return refuse(FG_ERR_SEALED, "the keys are sealed", NULL, why, field);
        rc = fg_protect_seal(k, FG_KEY_PII, MEMO_TABLE, MEMO_COLUMN, jid, m->memo, m->memo_len,
                             sealed, sizeof sealed, &sealed_len);
        if (rc != FG_OK)
            return refuse(rc, "the memo could not be protected", "memo", why, field);
    }
    struct fg_val j[] = {FG_VSTR(jid),
                         FG_VSTR(m->kind),
                         FG_VSTR(m->currency),
                         FG_VINT(m->amount),
                         FG_VSTR(m->debit_account),
                         FG_VSTR(m->credit_account),
                         sealed_len > 0 ? FG_VBLOB(sealed, sealed_len) : FG_VNULL,
                         FG_VSTR(m->actor_id),
                         FG_VINT(m->now_ms)};
    rc = fg_conn_exec(c,
                      "INSERT INTO ledger_journal (id, kind, currency, amount, debit_account, "
                      "credit_account, memo, actor_id, created_ms) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      j, 9, NULL, NULL, NULL);
    if (rc == FG_OK)
        rc = entry_write(c, jid, m->debit_account, -m->amount, d.balance, d_after, m->now_ms);
    if (rc == FG_OK)
        rc = entry_write(c, jid, m->credit_account, m->amount, cr.balance, c_after, m->now_ms);
    if (rc == FG_OK && journal_id_out != NULL)
        memcpy(journal_id_out, jid, sizeof jid);
    return rc;
}

/* ---- transfers' bookkeeping --------------------------------------------------------------- */

fg_rc fg_ledger_transfer_new_id(char out[FG_LEDGER_ID_SIZE])
{
    assert(out != NULL);
    return new_id(TRF_PREFIX, out);
}

/* ---- running totals of money leaving (ledger_out_buckets, migration 0008) ----------------- */

#define BUCKET_MS 900000 /* 15 minutes */
#define BUCKET_SCOPE_MAX 80u

static fg_rc bucket_add(fg_conn *c, const char *scope, int64_t now_ms, int64_t amount)
{
    struct fg_val p[] = {FG_VSTR(scope), FG_VINT(now_ms < 0 ? 0 : now_ms / BUCKET_MS),
                         FG_VINT(amount)};
    return fg_conn_exec(c,
                        "INSERT INTO ledger_out_buckets (scope, bucket, total) VALUES (?1, ?2, ?3) "
                        "ON CONFLICT (scope, bucket) DO UPDATE SET total = total + ?3",
                        p, 3, NULL, NULL, NULL);
}

/* The first committed transfer of a customer to a payee (ledger_payees). */
static fg_rc payee_add(fg_conn *c, const char *transfer_id, int64_t now_ms)
{
    struct fg_val p[] = {FG_VSTR(transfer_id), FG_VINT(now_ms)};
    return fg_conn_exec(c,
                        "INSERT OR IGNORE INTO ledger_payees (customer_id, to_account, first_ms) "
                        "SELECT customer_id, to_account, ?2 FROM ledger_transfers WHERE id = ?1",
                        p, 2, NULL, NULL, NULL);
}

/* The total since since_ms, rounded down to its bucket: a limit check errs on the safe side
 * (a bank's day starts on a bucket boundary, so day sums are exact). */
static fg_rc bucket_sum(fg_conn *c, const char *scope, int64_t since_ms, int64_t *sum)
{
    struct fg_val p[] = {FG_VSTR(scope), FG_VINT(since_ms < 0 ? 0 : since_ms / BUCKET_MS)};
    fg_rc rc = fg_conn_exec(c,
                            "SELECT total FROM ledger_out_buckets WHERE scope = ?1 AND "
                            "bucket >= ?2",
                            p, 2, row_sum, sum, NULL);
    if (rc != FG_OK)
        *sum = 0;
    return rc;
}

fg_rc fg_ledger_transfer_insert(fg_conn *c, const char *id, const char *customer_id,
                                const char *from, const char *to, const char *currency,
                                int64_t amount, const char *status, const char *journal_id,
                                const char *approval_id, const char *device_id, int64_t now_ms)
{
    assert(c != NULL);
    int committed = status != NULL && strcmp(status, "committed") == 0;
    int pending = status != NULL && strcmp(status, "pending_approval") == 0;
    if (!fg_ledger_id_valid(id, TRF_PREFIX) || !token_valid(customer_id, FG_LEDGER_ID_MAX) ||
        !fg_ledger_id_valid(from, ACC_PREFIX) || !fg_ledger_id_valid(to, ACC_PREFIX) ||
        strcmp(from, to) == 0 || !currency_format_valid(currency) || amount < 1 ||
        amount > FG_LEDGER_AMOUNT_MAX || !(committed || pending) ||
        (committed && !fg_ledger_id_valid(journal_id, JNL_PREFIX)) ||
        (pending && journal_id != NULL) ||
        (approval_id != NULL && !token_valid(approval_id, FG_LEDGER_APPROVAL_ID_SIZE - 1)) ||
        (device_id != NULL && !token_valid(device_id, FG_LEDGER_DEVICE_ID_MAX)))
        return FG_ERR_INVALID;
    struct fg_val p[] = {FG_VSTR(id),
                         FG_VSTR(customer_id),
                         FG_VSTR(from),
                         FG_VSTR(to),
                         FG_VSTR(currency),
                         FG_VINT(amount),
                         FG_VSTR(status),
                         committed ? FG_VSTR(journal_id) : FG_VNULL,
                         approval_id != NULL ? FG_VSTR(approval_id) : FG_VNULL,
                         device_id != NULL ? FG_VSTR(device_id) : FG_VNULL,
                         FG_VINT(now_ms),
                         committed ? FG_VINT(now_ms) : FG_VNULL};
    fg_rc rc = fg_conn_exec(c,
                            "INSERT INTO ledger_transfers (id, customer_id, from_account, "
                            "to_account, currency, amount, status, journal_id, approval_id, "
                            "device_id, created_ms, committed_ms) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            p, 12, NULL, NULL, NULL);
    if (rc == FG_OK && committed)
        rc = payee_add(c, id, now_ms);
    char scope[BUCKET_SCOPE_MAX + 1];
    if (rc == FG_OK) {
        snprintf(scope, sizeof scope, "c:%s:%s", customer_id, currency);
        rc = bucket_add(c, scope, now_ms, amount);
    }
    if (rc == FG_OK) {
        snprintf(scope, sizeof scope, "a:%s", from);
        rc = bucket_add(c, scope, now_ms, amount);
    }
    return rc;
}

/* FG_OK if the transfer exists and is pending; NOT_FOUND; CONFLICT. */
static fg_rc transfer_pending(fg_conn *c, const char *id)
{
    struct fg_ledger_transfer t;
    fg_rc rc = fg_ledger_transfer_get(c, id, &t);
    if (rc == FG_OK && strcmp(t.status, "pending_approval") != 0)
        rc = FG_ERR_CONFLICT;
    return rc;
}

fg_rc fg_ledger_transfer_commit(fg_conn *c, const char *id, const char *journal_id, int64_t now_ms)
{
    assert(c != NULL);
    if (!fg_ledger_id_valid(journal_id, JNL_PREFIX))
        return FG_ERR_INVALID;
    fg_rc rc = transfer_pending(c, id);
    if (rc != FG_OK)
        return rc;
    struct fg_val p[] = {FG_VSTR(journal_id), FG_VINT(now_ms), FG_VSTR(id)};
    int64_t changes = 0;
    rc = fg_conn_exec(
        c,
        "UPDATE ledger_transfers SET status = 'committed', memo = NULL, journal_id = ?1, "
        "committed_ms = ?2 WHERE id = ?3 AND status = 'pending_approval'",
        p, 3, NULL, NULL, &changes);
    if (rc == FG_OK && changes != 1)
        rc = FG_ERR_CONFLICT;
    if (rc == FG_OK)
        rc = payee_add(c, id, now_ms);
    return rc;
}

fg_rc fg_ledger_transfer_set_approval(fg_conn *c, const char *id, const char *approval_id)
{
    assert(c != NULL);
    if (!token_valid(approval_id, FG_LEDGER_APPROVAL_ID_SIZE - 1))
        return FG_ERR_INVALID;
    fg_rc rc = transfer_pending(c, id);
    if (rc != FG_OK)
        return rc;
    struct fg_val p[] = {FG_VSTR(approval_id), FG_VSTR(id)};
    return fg_conn_exec(c,
                        "UPDATE ledger_transfers SET approval_id = ?1 "
                        "WHERE id = ?2 AND status = 'pending_approval'",
                        p, 2, NULL, NULL, NULL);
}

fg_rc fg_ledger_transfer_set_memo(fg_conn *c, fg_keys *k, const char *id, const char *memo,
                                  size_t len)
{
    assert(c != NULL && id != NULL);
    if (len == 0)
        return FG_OK;
    if (memo == NULL || len > FG_LEDGER_MEMO_MAX)
        return FG_ERR_INVALID;
    if (k == NULL)
        return FG_ERR_SEALED;
    fg_rc rc = transfer_pending(c, id);
    if (rc != FG_OK)
        return rc;
    uint8_t sealed[FG_PROTECT_SEALED_MAX(FG_LEDGER_MEMO_MAX)];
    size_t sealed_len = 0;
    rc = fg_protect_seal(k, FG_KEY_PII, HELD_MEMO_TABLE, MEMO_COLUMN, id, memo, len, sealed,
                         sizeof sealed, &sealed_len);
    if (rc != FG_OK)
        return rc;
    struct fg_val p[] = {FG_VBLOB(sealed, sealed_len), FG_VSTR(id)};
    return fg_conn_exec(c, "UPDATE ledger_transfers SET memo = ?1 WHERE id = ?2", p, 2, NULL, NULL,
                        NULL);
}

struct held_memo {
    uint8_t sealed[FG_PROTECT_SEALED_MAX(FG_LEDGER_MEMO_MAX)];
    size_t len;
    int found;
};

static fg_rc row_held_memo(void *ctx, const struct fg_val *cols, int ncols)
{
    struct held_memo *h = ctx;
    if (ncols != 1)
        return FG_ERR_INTERNAL;
    h->found = 1;
    if (cols[0].type == FG_VAL_BLOB && cols[0].n <= sizeof h->sealed) {
        memcpy(h->sealed, cols[0].p, cols[0].n);
        h->len = cols[0].n;
    } else if (cols[0].type != FG_VAL_NULL) {
        return FG_ERR_CORRUPT;
    }
    return FG_OK;
}

fg_rc fg_ledger_transfer_memo(fg_conn *c, fg_keys *k, const char *id,
                              char out[FG_LEDGER_MEMO_MAX + 1], size_t *len)
{
    assert(c != NULL && id != NULL && out != NULL && len != NULL);
    out[0] = '\0';
    *len = 0;
    struct held_memo h = {.found = 0};
    struct fg_val p[] = {FG_VSTR(id)};
    fg_rc rc = fg_conn_exec(c, "SELECT memo FROM ledger_transfers WHERE id = ?1", p, 1,
                            row_held_memo, &h, NULL);
    if (rc == FG_OK && !h.found)
        rc = FG_ERR_NOT_FOUND;
    if (rc != FG_OK || h.len == 0)
        return rc;
    if (k == NULL)
        return FG_ERR_SEALED;
    rc = fg_protect_open(k, FG_KEY_PII, HELD_MEMO_TABLE, MEMO_COLUMN, id, h.sealed, h.len,
                         (uint8_t *)out, FG_LEDGER_MEMO_MAX, len);
    if (rc == FG_OK)
        out[*len] = '\0';
    return rc;
}

struct transfer_one {
    struct fg_ledger_transfer *t;
    int found;
};

static fg_rc row_transfer(void *ctx, const struct fg_val *cols, int ncols)
{
    struct transfer_one *o = ctx;
    struct fg_ledger_transfer *t = o->t;
    if (ncols != 12)
        return FG_ERR_INTERNAL;
    o->found = 1;
    fg_rc rc = col_text(&cols[0], t->id, sizeof t->id);
    if (rc == FG_OK)
        rc = col_text(&cols[1], t->customer_id, sizeof t->customer_id);
    if (rc == FG_OK)
        rc = col_text(&cols[2], t->from, sizeof t->from);
    if (rc == FG_OK)
        rc = col_text(&cols[3], t->to, sizeof t->to);
    if (rc == FG_OK)
        rc = col_text(&cols[4], t->currency, sizeof t->currency);
    if (rc == FG_OK)
        rc = col_int(&cols[5], &t->amount);
    if (rc == FG_OK)
        rc = col_text(&cols[6], t->status, sizeof t->status);
    if (rc == FG_OK)
        rc = col_text(&cols[7], t->journal_id, sizeof t->journal_id);
    if (rc == FG_OK)
        rc = col_text(&cols[8], t->approval_id, sizeof t->approval_id);
    if (rc == FG_OK)
        rc = col_text(&cols[9], t->device_id, sizeof t->device_id);
    if (rc == FG_OK)
        rc = col_int(&cols[10], &t->created_ms);
    if (rc == FG_OK && cols[11].type != FG_VAL_NULL)
        rc = col_int(&cols[11], &t->committed_ms);
    return rc;
}

fg_rc fg_ledger_transfer_get(fg_conn *c, const char *id, struct fg_ledger_transfer *out)
{
    assert(c != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    if (!fg_ledger_id_valid(id, TRF_PREFIX))
        return FG_ERR_NOT_FOUND;
    struct transfer_one o = {.t = out};
    struct fg_val p[] = {FG_VSTR(id)};
    fg_rc rc = fg_conn_exec(c,
                            "SELECT id, customer_id, from_account, to_account, currency, amount, "
                            "status, journal_id, approval_id, device_id, created_ms, committed_ms "
                            "FROM ledger_transfers WHERE id = ?",
                            p, 1, row_transfer, &o, NULL);
    if (rc == FG_OK && !o.found)
        rc = FG_ERR_NOT_FOUND;
    if (rc != FG_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

fg_rc fg_ledger_customer_out_since(fg_conn *c, const char *customer_id, const char *currency,
                                   int64_t since_ms, int64_t *sum)
{
    assert(c != NULL && sum != NULL);
    *sum = 0;
    if (!token_valid(customer_id, FG_LEDGER_ID_MAX) || !currency_format_valid(currency))
        return FG_ERR_INVALID;
    char scope[BUCKET_SCOPE_MAX + 1];
    snprintf(scope, sizeof scope, "c:%s:%s", customer_id, currency);
    return bucket_sum(c, scope, since_ms, sum);
}

fg_rc fg_ledger_account_out_since(fg_conn *c, const char *account_id, int64_t since_ms,
                                  int64_t *sum)
{
    assert(c != NULL && sum != NULL);
    *sum = 0;
    if (!fg_ledger_id_valid(account_id, ACC_PREFIX))
        return FG_ERR_INVALID;
    char scope[BUCKET_SCOPE_MAX + 1];
    snprintf(scope, sizeof scope, "a:%s", account_id);
    return bucket_sum(c, scope, since_ms, sum);
}

static fg_rc read_first_int(void *ctx, const struct fg_val *cols, int ncols)
{
    if (ncols > 0 && cols[0].type == FG_VAL_INT)
        *(int64_t *)ctx = cols[0].i;
    return FG_OK;
}

fg_rc fg_ledger_account_last_activity(fg_conn *c, const char *account_id, int64_t *at_ms)
{
    assert(c != NULL && at_ms != NULL);
    *at_ms = -1;
    if (!fg_ledger_id_valid(account_id, ACC_PREFIX))
        return FG_ERR_INVALID;
    struct fg_val p[] = {FG_VSTR(account_id)};
    fg_rc rc = fg_conn_exec(c,
                            "SELECT created_ms FROM ledger_entries WHERE account_id = ?1 "
                            "ORDER BY seq DESC LIMIT 1",
                            p, 1, read_first_int, at_ms, NULL);
    if (rc == FG_OK && *at_ms < 0)
        rc = fg_conn_exec(c, "SELECT created_ms FROM ledger_accounts WHERE id = ?1", p, 1,
                          read_first_int, at_ms, NULL);
    if (rc == FG_OK && *at_ms < 0)
        rc = FG_ERR_NOT_FOUND;
    return rc;
}

fg_rc fg_ledger_payee_known(fg_conn *c, const char *customer_id, const char *to, int64_t before_ms,
                            int *known)
{
    assert(c != NULL && known != NULL);
    *known = 0;
    if (!token_valid(customer_id, FG_LEDGER_ID_MAX) || !fg_ledger_id_valid(to, ACC_PREFIX))
        return FG_ERR_INVALID;
    struct fg_val p[] = {FG_VSTR(customer_id), FG_VSTR(to), FG_VINT(before_ms)};
    return fg_conn_exec(c,
                        "SELECT 1 FROM ledger_payees WHERE customer_id = ? AND to_account = ? "
                        "AND first_ms < ?",
                        p, 3, row_exists, known, NULL);
}

fg_rc fg_ledger_customer_has_money(fg_conn *c, const char *customer_id, int *has)
{
    assert(c != NULL && has != NULL);
    *has = 0;
    if (!token_valid(customer_id, FG_LEDGER_ID_MAX))
        return FG_ERR_INVALID;
    struct fg_val p[] = {FG_VSTR(customer_id)};
    fg_rc rc = fg_conn_exec(c,
                            "SELECT 1 FROM ledger_accounts WHERE customer_id = ? AND balance <> 0 "
                            "LIMIT 1",
                            p, 1, row_exists, has, NULL);
    if (rc == FG_OK && !*has)
        rc = fg_conn_exec(c,
                          "SELECT 1 FROM ledger_transfers WHERE customer_id = ? "
                          "AND status = 'pending_approval' LIMIT 1",
                          p, 1, row_exists, has, NULL);
    return rc;
}

/* ---- statements --------------------------------------------------------------------------- */

struct entries_each {
    fg_keys *k;
    fg_ledger_entry_fn fn;
    void *ctx;
};

static fg_rc row_entry(void *ctx, const struct fg_val *cols, int ncols)
{
    struct entries_each *st = ctx;
    if (ncols != 8)
        return FG_ERR_INTERNAL;
    struct fg_ledger_entry e;
    memset(&e, 0, sizeof e);
    fg_rc rc = col_int(&cols[0], &e.seq);
    if (rc == FG_OK)
        rc = col_text(&cols[1], e.journal_id, sizeof e.journal_id);
    if (rc == FG_OK)
        rc = col_text(&cols[2], e.kind, sizeof e.kind);
    if (rc == FG_OK)
        rc = col_int(&cols[3], &e.amount);
    if (rc == FG_OK)
        rc = col_int(&cols[4], &e.balance_after);
    if (rc == FG_OK)
        rc = col_int(&cols[5], &e.created_ms);
    if (rc == FG_OK)
        rc = col_text(&cols[6], e.counterparty, sizeof e.counterparty);
    if (rc != FG_OK)
        return rc;
    if (cols[7].type == FG_VAL_BLOB) {
        e.memo_state = 2;
        size_t n = 0;
        if (st->k != NULL &&
            fg_protect_open(st->k, FG_KEY_PII, MEMO_TABLE, MEMO_COLUMN, e.journal_id, cols[7].p,
                            cols[7].n, (uint8_t *)e.memo, FG_LEDGER_MEMO_MAX, &n) == FG_OK) {
            e.memo[n] = '\0';
            e.memo_state = 1;
        }
    }
    rc = st->fn(st->ctx, &e);
    fg_wipe(e.memo, sizeof e.memo);
    return rc;
}

fg_rc fg_ledger_entries(fg_conn *c, fg_keys *k, const char *account_id, int64_t before_seq,
                        unsigned limit, fg_ledger_entry_fn fn, void *ctx)
{
    assert(c != NULL && fn != NULL);
    if (limit < 1 || limit > FG_LEDGER_PAGE_MAX || before_seq < 0)
        return FG_ERR_INVALID;
    if (!fg_ledger_id_valid(account_id, ACC_PREFIX))
        return FG_ERR_NOT_FOUND;
    struct entries_each st = {k, fn, ctx};
    struct fg_val p[] = {FG_VSTR(account_id), FG_VINT(before_seq > 0 ? before_seq : INT64_MAX),
                         FG_VINT(limit)};
    return fg_conn_exec(c,
                        "SELECT e.seq, e.journal_id, j.kind, e.amount, e.balance_after, "
                        "e.created_ms, CASE WHEN j.debit_account = e.account_id "
                        "THEN j.credit_account ELSE j.debit_account END, j.memo "
                        "FROM ledger_entries e JOIN ledger_journal j ON j.id = e.journal_id "
                        "WHERE e.account_id = ?1 AND e.seq < ?2 ORDER BY e.seq DESC LIMIT ?3",
                        p, 3, row_entry, &st, NULL);
}

/* ---- idempotency -------------------------------------------------------------------------- */

static int idem_args_valid(const char *scope, const char *key)
{
    return token_valid(scope, FG_LEDGER_IDEM_SCOPE_MAX) && token_valid(key, FG_LEDGER_IDEM_KEY_MAX);
}

struct idem_row {
    const uint8_t *hash;
    int *status;
    char *response;
    int found, same;
};

static fg_rc row_idem(void *ctx, const struct fg_val *cols, int ncols)
{
    struct idem_row *r = ctx;
    if (ncols != 3 || cols[0].type != FG_VAL_BLOB || cols[1].type != FG_VAL_INT)
        return FG_ERR_CORRUPT;
    r->found = 1;
    r->same = cols[0].n == FG_LEDGER_IDEM_HASH_LEN &&
              fg_ct_equal(cols[0].p, r->hash, FG_LEDGER_IDEM_HASH_LEN);
    if (!r->same)
        return FG_OK;
    *r->status = (int)cols[1].i;
    return col_text(&cols[2], r->response, FG_LEDGER_RESPONSE_MAX + 1);
}

fg_rc fg_ledger_idem_get(fg_conn *c, const char *scope, const char *key,
                         const uint8_t hash[FG_LEDGER_IDEM_HASH_LEN], int *status,
                         char response[FG_LEDGER_RESPONSE_MAX + 1])
{
    assert(c != NULL && hash != NULL && status != NULL && response != NULL);
    *status = 0;
    response[0] = '\0';
    if (!idem_args_valid(scope, key))
        return FG_ERR_INVALID;
    struct idem_row r = {.hash = hash, .status = status, .response = response};
    struct fg_val p[] = {FG_VSTR(scope), FG_VSTR(key)};
    fg_rc rc = fg_conn_exec(c,
                            "SELECT body_hash, status, response FROM ledger_idempotency "
                            "WHERE scope = ? AND key = ?",
                            p, 2, row_idem, &r, NULL);
    if (rc == FG_OK)
        rc = !r.found ? FG_ERR_NOT_FOUND : r.same ? FG_OK : FG_ERR_CONFLICT;
    if (rc != FG_OK) {
        *status = 0;
        response[0] = '\0';
    }
    return rc;
}

fg_rc fg_ledger_idem_put(fg_conn *c, const char *scope, const char *key,
                         const uint8_t hash[FG_LEDGER_IDEM_HASH_LEN], int status,
                         const char *response, int64_t now_ms)
{
    assert(c != NULL && hash != NULL);
    if (!idem_args_valid(scope, key) || status < 100 || status > 599 || response == NULL)
        return FG_ERR_INVALID;
    if (strlen(response) > FG_LEDGER_RESPONSE_MAX)
        return FG_ERR_TOO_LARGE;
    struct fg_val p[] = {
        FG_VSTR(scope),  FG_VSTR(key),      FG_VBLOB(hash, FG_LEDGER_IDEM_HASH_LEN),
        FG_VINT(status), FG_VSTR(response), FG_VINT(now_ms)};
    return fg_conn_exec(c,
                        "INSERT INTO ledger_idempotency (scope, key, body_hash, status, response, "
                        "created_ms) VALUES (?, ?, ?, ?, ?, ?)",
                        p, 6, NULL, NULL, NULL);
}

/* ---- the proof of the books --------------------------------------------------------------- */

struct cur_total {
    char code[4];
    int64_t all;      /* every account's balance */
    int64_t customer; /* customer accounts' balances */
    int64_t net;      /* deposits − withdrawals, from the journal */
};

struct check {
    struct fg_ledger_check_report *r;
    struct cur_total cur[CHECK_CURRENCIES_MAX];
    size_t ncur;
    /* the entries stream, one account at a time */
    char account[FG_LEDGER_ID_SIZE];
    int64_t running, balance;
    int have_account, account_known;
};

static void problem(struct check *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct check *k, const char *fmt, ...)
{
    if (!k->r->ok)
        return; /* keep the first */
    k->r->ok = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->r->problem, sizeof k->r->problem, fmt, ap);
    va_end(ap);
}

static struct cur_total *cur_get(struct check *k, const char *code)
{
    for (size_t i = 0; i < k->ncur; i++)
        if (strcmp(k->cur[i].code, code) == 0)
            return &k->cur[i];
    if (k->ncur >= CHECK_CURRENCIES_MAX || !currency_format_valid(code))
        return NULL;
    struct cur_total *t = &k->cur[k->ncur++];
    memset(t, 0, sizeof *t);
    memcpy(t->code, code, 4);
    return t;
}

/* Accounts: totals per currency and (4). Columns: id, kind, currency, balance, overdraft. */
static fg_rc row_check_account(void *ctx, const struct fg_val *cols, int ncols)
{
    struct check *k = ctx;
    char id[FG_LEDGER_ID_SIZE], kind[FG_LEDGER_KIND_SIZE], cur[4];
    int64_t balance, overdraft;
    if (ncols != 5 || col_text(&cols[0], id, sizeof id) != FG_OK ||
        col_text(&cols[1], kind, sizeof kind) != FG_OK ||
        col_text(&cols[2], cur, sizeof cur) != FG_OK || col_int(&cols[3], &balance) != FG_OK ||
        col_int(&cols[4], &overdraft) != FG_OK) {
        problem(k, "an account row is malformed");
        return FG_OK;
    }
    k->r->accounts++;
    struct cur_total *t = cur_get(k, cur);
    int customer = strcmp(kind, "customer") == 0;
    if (t == NULL)
        problem(k, "account %s: currency %s cannot be totalled", id, cur);
    else if (__builtin_add_overflow(t->all, balance, &t->all) ||
             (customer && __builtin_add_overflow(t->customer, balance, &t->customer)))
        problem(k, "currency %s: the total of the balances overflows", cur);
    if (customer && (overdraft < 0 || balance < -overdraft))
        problem(k, "account %s: balance %" PRId64 " is below the overdraft %" PRId64, id, balance,
                overdraft);
    return FG_OK;
}

/* End of one account's run of entries. */
static void account_close_run(struct check *k)
{
    if (!k->have_account)
        return;
    if (!k->account_known)
        problem(k, "entries of account %s, which does not exist", k->account);
    else if (k->running != k->balance)
        problem(k, "account %s: balance %" PRId64 " but its entries sum to %" PRId64, k->account,
                k->balance, k->running);
    k->have_account = 0;
}

/* Entries by account, seq. Columns: account_id, seq, amount, balance_after, a.balance. */
static fg_rc row_check_entry(void *ctx, const struct fg_val *cols, int ncols)
{
    struct check *k = ctx;
    char id[FG_LEDGER_ID_SIZE];
    int64_t seq, amount, after;
    if (ncols != 5 || col_text(&cols[0], id, sizeof id) != FG_OK ||
        col_int(&cols[1], &seq) != FG_OK || col_int(&cols[2], &amount) != FG_OK ||
        col_int(&cols[3], &after) != FG_OK) {
        problem(k, "an entry row is malformed");
        return FG_OK;
    }
    k->r->entries++;
    if (!k->have_account || strcmp(id, k->account) != 0) {
        account_close_run(k);
        memcpy(k->account, id, sizeof id);
        k->have_account = 1;
        k->running = 0;
        k->account_known = cols[4].type == FG_VAL_INT;
        k->balance = k->account_known ? cols[4].i : 0;
    }
    if (__builtin_add_overflow(k->running, amount, &k->running))
        problem(k, "account %s: the sum of its entries overflows", id);
    else if (after != k->running)
        problem(k,
                "account %s: entry %" PRId64 " says balance %" PRId64
                " but the entries sum to %" PRId64,
                id, seq, after, k->running);
    return FG_OK;
}

/* Accounts without entries must have a zero balance. Columns: id, balance. */
static fg_rc row_check_no_entries(void *ctx, const struct fg_val *cols, int ncols)
{
    struct check *k = ctx;
    char id[FG_LEDGER_ID_SIZE] = "?";
    if (ncols == 2)
        (void)col_text(&cols[0], id, sizeof id);
    problem(k, "account %s: balance %" PRId64 " but it has no entries", id,
            ncols == 2 ? cols[1].i : 0);
    return FG_OK;
}

/* Journals. Columns: id, kind, currency, amount, debit, credit, n entries, debit entry
 * amount, credit entry amount, debit account currency, credit account currency. */
static fg_rc row_check_journal(void *ctx, const struct fg_val *cols, int ncols)
{
    struct check *k = ctx;
    char id[FG_LEDGER_ID_SIZE], kind[FG_LEDGER_KIND_SIZE], cur[4], dcur[4], ccur[4];
    int64_t amount, n;
    if (ncols != 11 || col_text(&cols[0], id, sizeof id) != FG_OK ||
        col_text(&cols[1], kind, sizeof kind) != FG_OK ||
        col_text(&cols[2], cur, sizeof cur) != FG_OK || col_int(&cols[3], &amount) != FG_OK ||
        col_int(&cols[6], &n) != FG_OK || col_text(&cols[9], dcur, sizeof dcur) != FG_OK ||
        col_text(&cols[10], ccur, sizeof ccur) != FG_OK) {
        problem(k, "a journal row is malformed");
        return FG_OK;
    }
    k->r->journals++;
    if (n != 2)
        problem(k, "journal %s has %" PRId64 " entries, not 2", id, n);
    else if (cols[7].type != FG_VAL_INT || cols[7].i != -amount)
        problem(k, "journal %s: the debit entry does not match its amount %" PRId64, id, amount);
    else if (cols[8].type != FG_VAL_INT || cols[8].i != amount)
        problem(k, "journal %s: the credit entry does not match its amount %" PRId64, id, amount);
    else if (strcmp(dcur, cur) != 0 || strcmp(ccur, cur) != 0)
        problem(k, "journal %s: its accounts are not in its currency", id);
    struct cur_total *t = cur_get(k, cur);
    int64_t sign = strcmp(kind, "deposit") == 0 ? 1 : strcmp(kind, "withdrawal") == 0 ? -1 : 0;
    if (t == NULL)
        problem(k, "journal %s: currency %s cannot be totalled", id, cur);
    else if (sign != 0 && __builtin_add_overflow(t->net, sign * amount, &t->net))
        problem(k, "currency %s: deposits minus withdrawals overflow", cur);
    return FG_OK;
}

static fg_rc row_check_orphan(void *ctx, const struct fg_val *cols, int ncols)
{
    struct check *k = ctx;
    char jid[FG_LEDGER_ID_SIZE] = "?";
    if (ncols >= 1)
        (void)col_text(&cols[0], jid, sizeof jid);
    problem(k, "entries of journal %s, which does not exist", jid);
    return FG_OK;
}

static int cur_cmp(const void *a, const void *b)
{
    return strcmp(((const struct cur_total *)a)->code, ((const struct cur_total *)b)->code);
}

fg_rc fg_ledger_check(fg_conn *c, struct fg_ledger_check_report *out)
{
    assert(c != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    out->ok = 1;
    struct check k;
    memset(&k, 0, sizeof k);
    k.r = out;
    /* (4) and the totals per currency */
    fg_rc rc = fg_conn_exec(c,
                            "SELECT id, kind, currency, balance, overdraft FROM ledger_accounts "
                            "ORDER BY id",
                            NULL, 0, row_check_account, &k, NULL);
    /* (1) balance = sum of entries = each balance_after in turn */
    if (rc == FG_OK)
        rc = fg_conn_exec(c,
                          "SELECT e.account_id, e.seq, e.amount, e.balance_after, a.balance "
                          "FROM ledger_entries e LEFT JOIN ledger_accounts a "
                          "ON a.id = e.account_id ORDER BY e.account_id, e.seq",
                          NULL, 0, row_check_entry, &k, NULL);
    if (rc == FG_OK) {
        account_close_run(&k);
        rc = fg_conn_exec(c,
                          "SELECT a.id, a.balance FROM ledger_accounts a WHERE a.balance <> 0 "
                          "AND NOT EXISTS (SELECT 1 FROM ledger_entries e "
                          "WHERE e.account_id = a.id) LIMIT 1",
                          NULL, 0, row_check_no_entries, &k, NULL);
    }
    /* (2) two entries per journal, −amount and +amount on its accounts; no orphans */
    if (rc == FG_OK)
        rc = fg_conn_exec(
            c,
            "SELECT j.id, j.kind, j.currency, j.amount, j.debit_account, j.credit_account, "
            "(SELECT count(*) FROM ledger_entries e WHERE e.journal_id = j.id), "
            "(SELECT e.amount FROM ledger_entries e WHERE e.journal_id = j.id "
            " AND e.account_id = j.debit_account LIMIT 1), "
            "(SELECT e.amount FROM ledger_entries e WHERE e.journal_id = j.id "
            " AND e.account_id = j.credit_account LIMIT 1), "
            "(SELECT a.currency FROM ledger_accounts a WHERE a.id = j.debit_account), "
            "(SELECT a.currency FROM ledger_accounts a WHERE a.id = j.credit_account) "
            "FROM ledger_journal j ORDER BY j.id",
            NULL, 0, row_check_journal, &k, NULL);
    if (rc == FG_OK)
        rc = fg_conn_exec(c,
                          "SELECT e.journal_id FROM ledger_entries e WHERE NOT EXISTS "
                          "(SELECT 1 FROM ledger_journal j WHERE j.id = e.journal_id) LIMIT 1",
                          NULL, 0, row_check_orphan, &k, NULL);
    /* (5) the running totals of the limits equal the transfers they count (either way) */
    int bucket_bad = 0;
    if (rc == FG_OK)
        rc = fg_conn_exec(
            c,
            "WITH t(scope, bucket, total) AS ("
            " SELECT 'c:' || customer_id || ':' || currency, created_ms / 900000, sum(amount)"
            " FROM ledger_transfers GROUP BY 1, 2"
            " UNION ALL"
            " SELECT 'a:' || from_account, created_ms / 900000, sum(amount)"
            " FROM ledger_transfers GROUP BY 1, 2) "
            "SELECT 1 FROM t LEFT JOIN ledger_out_buckets b"
            " ON b.scope = t.scope AND b.bucket = t.bucket WHERE b.total IS NOT t.total "
            "UNION ALL "
            "SELECT 1 FROM ledger_out_buckets b WHERE NOT EXISTS (SELECT 1 FROM t"
            " WHERE t.scope = b.scope AND t.bucket = b.bucket) LIMIT 1",
            NULL, 0, row_exists, &bucket_bad, NULL);
    if (rc != FG_OK) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    if (bucket_bad)
        problem(&k, "the running totals of the daily limits differ from the transfers");
    /* (6) the known payees are exactly the pairs with a committed transfer */
    int payee_bad = 0;
    rc = fg_conn_exec(c,
                      "WITH t(customer_id, to_account) AS (SELECT DISTINCT customer_id, "
                      " to_account FROM ledger_transfers WHERE status = 'committed') "
                      "SELECT 1 FROM t WHERE NOT EXISTS (SELECT 1 FROM ledger_payees p WHERE "
                      " p.customer_id = t.customer_id AND p.to_account = t.to_account) "
                      "UNION ALL SELECT 1 FROM ledger_payees p WHERE NOT EXISTS (SELECT 1 FROM t "
                      " WHERE p.customer_id = t.customer_id AND p.to_account = t.to_account) "
                      "LIMIT 1",
                      NULL, 0, row_exists, &payee_bad, NULL);
    if (rc != FG_OK) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    if (payee_bad)
        problem(&k, "the known payees differ from the committed transfers");
    /* (3) per currency: all accounts sum to zero; customers hold deposits − withdrawals */
    qsort(k.cur, k.ncur, sizeof k.cur[0], cur_cmp);
    size_t used = 0;
    for (size_t i = 0; i < k.ncur; i++) {
        const struct cur_total *t = &k.cur[i];
        if (t->all != 0)
            problem(&k, "currency %s: the accounts sum to %" PRId64 ", not 0", t->code, t->all);
        else if (t->customer != t->net)
            problem(&k,
                    "currency %s: customer accounts hold %" PRId64
                    " but deposits minus withdrawals are %" PRId64,
                    t->code, t->customer, t->net);
        int n = snprintf(out->currency_totals + used, sizeof out->currency_totals - used,
                         "%s%s:%" PRId64, i > 0 ? ";" : "", t->code, t->customer);
        if (n < 0 || (size_t)n >= sizeof out->currency_totals - used)
            break; /* cut; the report says enough */
        used += (size_t)n;
    }
    return FG_OK;
}

fg_rc fg_ledger_check_store(fg_store *s, struct fg_ledger_check_report *out)
{
    assert(s != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    fg_conn *c = NULL;
    fg_rc rc = fg_store_read_acquire(s, &c);
    if (rc != FG_OK)
        return rc;
    rc = fg_conn_exec(c, "BEGIN", NULL, 0, NULL, NULL, NULL);
    if (rc == FG_OK) {
        rc = fg_ledger_check(c, out);
        fg_rc end = fg_conn_exec(c, "COMMIT", NULL, 0, NULL, NULL, NULL);
        if (end != FG_OK && fg_conn_exec(c, "ROLLBACK", NULL, 0, NULL, NULL, NULL) != FG_OK)
            end = FG_ERR_STORE; /* the lease would go back inside a transaction */
        if (rc == FG_OK)
            rc = end;
    }
    fg_store_read_release(s, c);
    if (rc != FG_OK)
        memset(out, 0, sizeof *out);
    return rc;
}
