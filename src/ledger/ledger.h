/*
 * ledger.h — the double-entry ledger: accounts, balanced journal entries, transfers'
 * bookkeeping, idempotency and the proof of the books (REQUIREMENTS TXN-1, TXN-2, TXN-4,
 * TXN-6, ACC-1; schema migrations/0008_ledger.sql; docs/ledger.md).
 *
 * Money is int64 minor units. One movement moves 1..FG_LEDGER_AMOUNT_MAX (10^15); every sum
 * and balance update is checked (__builtin_add_overflow / _sub_overflow) and an overflow is
 * FG_ERR_LIMIT — nothing is written. Currencies are the ones in data/limits.yaml.
 *
 * Accounts are `customer` (owned by customers(id); no FOREIGN KEY so the two migrations stay
 * independent) or `cash` (one per currency: the bank's vault / clearing; may go negative
 * without bound). Deposits debit the cash account and credit a customer account;
 * withdrawals the reverse; transfers move between two customer accounts.
 *
 *     active ──freeze──▶ frozen ──unfreeze──▶ active
 *        └──── close ──────┴──────────────────▶ closed (final)
 * A frozen account may receive but not send; a closed one does neither.
 *
 * Posting (fg_ledger_post) writes one journal row and exactly two entries (−amount on the
 * debit account, +amount on the credit account, each with balance_after) and updates both
 * balances, all in the caller's intent. It re-validates everything itself (TXN-4): a route
 * that forgot a check still cannot break the books. The invariants fg_ledger_check proves:
 *   (1) each account's balance = the sum of its entries = its last entry's balance_after;
 *   (2) each journal has exactly two entries, −amount and +amount, on its two accounts;
 *   (3) per currency the sum over all accounts is 0, and the customer accounts' total is
 *       deposits − withdrawals;
 *   (4) no customer account is below −overdraft.
 *
 * Ids are "acc_" / "jnl_" / "trf_" + 22 characters of base64url of 16 random bytes.
 *
 * Memos are personal data: sealed with protect/ (purpose pii, AAD ledger_journal/memo/<id>)
 * and only opened for a statement when keys are given. fg_ledger_register_columns()
 * registers the column at start-up.
 *
 * Idempotency (TXN-2): the caller stores only results that committed something (201/202);
 * refusals are not stored, so a retry after the cause is gone (topped up) works.
 *
 * Threads and connections: every function runs on the thread holding `c`. Functions marked
 * "write" need the writer's connection inside an intent (they never commit; return their
 * error from the intent and nothing stays); "read" ones work on a read lease too. Reasons
 * handed back (*why) are static sentences, never caller data.
 */
#ifndef FG_LEDGER_LEDGER_H
#define FG_LEDGER_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "base/rc.h"
#include "keys/keys.h"
#include "ledger/limits.h"
#include "store/store.h"

/* ---- limits -------------------------------------------------------------------------------- */
/* One movement, minor units: 10^15 (ten trillion CNY) — far above any real transfer and
 * 9 000 times below INT64_MAX, so a few sums cannot overflow in practice (and are checked). */
#define FG_LEDGER_AMOUNT_MAX 1000000000000000LL
/* Our ids: a 4-character prefix + 22 characters of base64url (16 random bytes). */
#define FG_LEDGER_ID_RANDOM_BYTES 16u
#define FG_LEDGER_ID_PREFIX_LEN 4u
#define FG_LEDGER_ID_LEN (FG_LEDGER_ID_PREFIX_LEN + 22u)
#define FG_LEDGER_ID_SIZE (FG_LEDGER_ID_LEN + 1u)
/* Foreign ids stored here (customer, actor, device): printable ASCII, 1..64 bytes. */
#define FG_LEDGER_ID_MAX 64u
/* Device ids as the audit log accepts them. */
#define FG_LEDGER_DEVICE_ID_MAX 128u
/* Approval ids (iam/approval.h: 22 characters) with room. */
#define FG_LEDGER_APPROVAL_ID_SIZE 32u
/* A memo: a line of UTF-8 text on a statement, no control characters. */
#define FG_LEDGER_MEMO_MAX 140u
/* Rows of one statement page. */
#define FG_LEDGER_PAGE_MAX 200u
/* kind / status texts ("withdrawal", "pending_approval") with their NUL. */
#define FG_LEDGER_KIND_SIZE 16u
#define FG_LEDGER_STATUS_SIZE 16u
#define FG_LEDGER_TRANSFER_STATUS_SIZE 24u
/* Idempotency: keys printable ASCII 1..128; scope (the caller's user id) 1..64; the stored
 * response is compact JSON without secrets. */
#define FG_LEDGER_IDEM_KEY_MAX 128u
#define FG_LEDGER_IDEM_SCOPE_MAX FG_LEDGER_ID_MAX
#define FG_LEDGER_IDEM_HASH_LEN 32u
#define FG_LEDGER_RESPONSE_MAX 1024u
/* fg_ledger_check_report texts. */
#define FG_LEDGER_PROBLEM_SIZE 256u
#define FG_LEDGER_TOTALS_SIZE 512u

/* ---- ids, currencies, columns ------------------------------------------------------------- */

/* 1 if cur is one of L's currencies. */
int fg_ledger_currency_valid(const struct fg_limits *L, const char *cur);
/* 1 if id has the form prefix ("acc_", "jnl_", "trf_") + 22 base64url characters. */
int fg_ledger_id_valid(const char *id, const char *prefix);
/* Register ledger_journal.memo with protect/ (pii). Idempotent: a second call is FG_OK. */
FG_MUST_CHECK fg_rc fg_ledger_register_columns(void);

/* ---- accounts ------------------------------------------------------------------------------ */

struct fg_ledger_account {
    char id[FG_LEDGER_ID_SIZE];
    char customer_id[FG_LEDGER_ID_MAX + 1]; /* "" for cash accounts */
    char kind[FG_LEDGER_KIND_SIZE];         /* "customer" | "cash" */
    char currency[4];
    char status[FG_LEDGER_STATUS_SIZE]; /* "active" | "frozen" | "closed" */
    int64_t balance, overdraft, per_txn_max, per_day_max, created_ms;
};

/* write. Open an active customer account in currency with the currency's default limits
 * and overdraft 0. FG_ERR_INVALID: unknown currency, empty/bad customer or actor id. */
FG_MUST_CHECK fg_rc fg_ledger_account_open(fg_conn *c, const struct fg_limits *L,
                                           const char *customer_id, const char *currency,
                                           const char *actor_id, int64_t now_ms,
                                           char id_out[FG_LEDGER_ID_SIZE]);
/* read. FG_ERR_NOT_FOUND (also for a malformed id). */
FG_MUST_CHECK fg_rc fg_ledger_account_get(fg_conn *c, const char *id,
                                          struct fg_ledger_account *out);
typedef fg_rc (*fg_ledger_account_fn)(void *ctx, const struct fg_ledger_account *a);
/* read. The customer's accounts, oldest first; fn's error stops and is returned. */
FG_MUST_CHECK fg_rc fg_ledger_accounts_of(fg_conn *c, const char *customer_id,
                                          fg_ledger_account_fn fn, void *ctx);
/* write. The cash account of currency (3 upper-case letters), created on first use. */
FG_MUST_CHECK fg_rc fg_ledger_cash_account(fg_conn *c, const char *currency, int64_t now_ms,
                                           char id_out[FG_LEDGER_ID_SIZE]);
/* write. from_status → to_status (each "active" | "frozen" | "closed"; closed is final):
 * FG_ERR_CONFLICT if the account is not in from_status, FG_ERR_NOT_FOUND, FG_ERR_INVALID
 * (bad status, or leaving "closed"). Closing needs a zero balance (FG_ERR_POLICY). */
FG_MUST_CHECK fg_rc fg_ledger_set_status(fg_conn *c, const char *account_id,
                                         const char *from_status, const char *to_status,
                                         int64_t now_ms);
/* write. 1 ≤ per_txn ≤ per_day ≤ FG_LEDGER_AMOUNT_MAX else FG_ERR_INVALID; NOT_FOUND. */
FG_MUST_CHECK fg_rc fg_ledger_set_limits(fg_conn *c, const char *account_id, int64_t per_txn,
                                         int64_t per_day, int64_t now_ms);

/* ---- posting ------------------------------------------------------------------------------- */

struct fg_ledger_move {
    const char *kind;           /* "deposit" | "withdrawal" | "transfer" */
    const char *debit_account;  /* money leaves (from) */
    const char *credit_account; /* money arrives (to) */
    int64_t amount;
    const char *currency;
    const char *memo; /* may be NULL / 0; ≤ FG_LEDGER_MEMO_MAX bytes UTF-8 */
    size_t memo_len;
    const char *actor_id;
    int64_t now_ms;
};

/* write. Post one balanced journal entry (see the file comment). Refusals, with *why a
 * static sentence and *field the request field it concerns (may be NULL):
 *   FG_ERR_INVALID   bad kind / amount ≤ 0 / currency / memo / ids, same account twice,
 *                    a currency that differs from an account's, a deposit whose debit is
 *                    not the cash account (or withdrawal whose credit is not), a transfer
 *                    touching a cash account
 *   FG_ERR_LIMIT     amount > FG_LEDGER_AMOUNT_MAX, or a balance would overflow
 *   FG_ERR_NOT_FOUND an account does not exist
 *   FG_ERR_POLICY    "the account is frozen" / "the account is closed" (debit),
 *                    "the receiving account is closed", "insufficient funds"
 *   FG_ERR_SEALED    a memo was given and the keys are sealed (k NULL: FG_ERR_SEALED)
 * journal_id_out (may be NULL) receives the journal id. */
FG_MUST_CHECK fg_rc fg_ledger_post(fg_conn *c, fg_keys *k, const struct fg_ledger_move *m,
                                   char journal_id_out[FG_LEDGER_ID_SIZE], const char **why,
                                   const char **field);

/* ---- transfers' bookkeeping (tiers, daily sums, new-payee rule) ---------------------------- */

/* A fresh "trf_" id. */
FG_MUST_CHECK fg_rc fg_ledger_transfer_new_id(char out[FG_LEDGER_ID_SIZE]);
/* write. status "committed" (journal_id required) or "pending_approval" (journal_id NULL;
 * approval_id may be NULL and set later by the caller's own update). device_id may be NULL.
 * FG_ERR_INVALID, FG_ERR_CONFLICT (id exists). */
FG_MUST_CHECK fg_rc fg_ledger_transfer_insert(fg_conn *c, const char *id, const char *customer_id,
                                              const char *from, const char *to,
                                              const char *currency, int64_t amount,
                                              const char *status, const char *journal_id,
                                              const char *approval_id, const char *device_id,
                                              int64_t now_ms);
/* write. pending_approval → committed with journal_id. FG_ERR_NOT_FOUND, FG_ERR_CONFLICT
 * (not pending). */
FG_MUST_CHECK fg_rc fg_ledger_transfer_commit(fg_conn *c, const char *id, const char *journal_id,
                                              int64_t now_ms);
/* write. Set the approval id of a pending transfer (FG_ERR_CONFLICT if not pending). */
/* The memo of a transfer held for approval: sealed into its row (pii, AAD
 * ledger_transfers/memo/<id>) until the approval posts it with the journal entry. set: the
 * transfer must be pending; len 0 is a no-op. memo: "" and *len 0 when there is none;
 * FG_ERR_SEALED without keys, FG_ERR_CRYPTO when it does not open. */
FG_MUST_CHECK fg_rc fg_ledger_transfer_set_memo(fg_conn *c, fg_keys *k, const char *id,
                                                const char *memo, size_t len);
FG_MUST_CHECK fg_rc fg_ledger_transfer_memo(fg_conn *c, fg_keys *k, const char *id,
                                            char out[FG_LEDGER_MEMO_MAX + 1], size_t *len);
FG_MUST_CHECK fg_rc fg_ledger_transfer_set_approval(fg_conn *c, const char *id,
                                                    const char *approval_id);

struct fg_ledger_transfer {
    char id[FG_LEDGER_ID_SIZE];
    char customer_id[FG_LEDGER_ID_MAX + 1];
    char from[FG_LEDGER_ID_SIZE];
    char to[FG_LEDGER_ID_SIZE];
    char currency[4];
    char status[FG_LEDGER_TRANSFER_STATUS_SIZE];  /* "committed" | "pending_approval" */
    char journal_id[FG_LEDGER_ID_SIZE];           /* "" while pending */
    char approval_id[FG_LEDGER_APPROVAL_ID_SIZE]; /* "" if none */
    char device_id[FG_LEDGER_DEVICE_ID_MAX + 1];  /* "" if none */
    int64_t amount, created_ms, committed_ms;     /* committed_ms 0 while pending */
};
/* read. FG_ERR_NOT_FOUND. */
FG_MUST_CHECK fg_rc fg_ledger_transfer_get(fg_conn *c, const char *id,
                                           struct fg_ledger_transfer *out);

/* read. Sum of the customer's committed + pending_approval transfers in currency created at
 * or after since_ms (FG_ERR_LIMIT if it does not fit int64). */
FG_MUST_CHECK fg_rc fg_ledger_customer_out_since(fg_conn *c, const char *customer_id,
                                                 const char *currency, int64_t since_ms,
                                                 int64_t *sum);
/* read. The same per from-account (the account's per-day limit). */
FG_MUST_CHECK fg_rc fg_ledger_account_out_since(fg_conn *c, const char *account_id,
                                                int64_t since_ms, int64_t *sum);
/* read. When the account last moved money: the time of its newest entry, or its opening when
 * it has none (the "dormant account suddenly active" feature, issue #6). NOT_FOUND. */
FG_MUST_CHECK fg_rc fg_ledger_account_last_activity(fg_conn *c, const char *account_id,
                                                    int64_t *at_ms);
/* read. *known = 1 if the customer has a committed transfer to `to` committed before
 * before_ms (callers pass now − new window), else 0. */
FG_MUST_CHECK fg_rc fg_ledger_payee_known(fg_conn *c, const char *customer_id, const char *to,
                                          int64_t before_ms, int *known);
/* read. *has = 1 if the customer has an account with a non-zero balance or a pending
 * transfer (the guard before destroying a customer's data), else 0. */
FG_MUST_CHECK fg_rc fg_ledger_customer_has_money(fg_conn *c, const char *customer_id, int *has);

/* ---- statements ---------------------------------------------------------------------------- */

struct fg_ledger_entry {
    int64_t seq;
    char journal_id[FG_LEDGER_ID_SIZE];
    char kind[FG_LEDGER_KIND_SIZE]; /* the journal's kind */
    int64_t amount;                 /* signed: < 0 money left the account */
    int64_t balance_after, created_ms;
    char counterparty[FG_LEDGER_ID_SIZE]; /* the other account of the journal */
    char memo[FG_LEDGER_MEMO_MAX + 1];    /* "" if none or k == NULL */
    int memo_state; /* 0 none, 1 opened, 2 present but not opened (no keys, sealed,
                     * destroyed key version or tampered) */
};
typedef fg_rc (*fg_ledger_entry_fn)(void *ctx, const struct fg_ledger_entry *e);
/* read. Entries of an account newest first with seq < before_seq (0 = from the newest), at
 * most limit (1..FG_LEDGER_PAGE_MAX, else FG_ERR_INVALID). The memo is decrypted into the
 * row (then wiped) when k != NULL. fn's error stops and is returned. */
FG_MUST_CHECK fg_rc fg_ledger_entries(fg_conn *c, fg_keys *k, const char *account_id,
                                      int64_t before_seq, unsigned limit, fg_ledger_entry_fn fn,
                                      void *ctx);

/* ---- idempotency (TXN-2) ------------------------------------------------------------------ */

/* read or write. FG_ERR_NOT_FOUND: unseen key; FG_OK: same key and same body hash (status
 * and response copied out); FG_ERR_CONFLICT: same key, another body. FG_ERR_INVALID for a
 * bad scope or key. */
FG_MUST_CHECK fg_rc fg_ledger_idem_get(fg_conn *c, const char *scope, const char *key,
                                       const uint8_t hash[FG_LEDGER_IDEM_HASH_LEN], int *status,
                                       char response[FG_LEDGER_RESPONSE_MAX + 1]);
/* write. Insert; FG_ERR_CONFLICT if (scope, key) exists, FG_ERR_TOO_LARGE for a response
 * over FG_LEDGER_RESPONSE_MAX, FG_ERR_INVALID for a bad scope/key/status (100..599). */
FG_MUST_CHECK fg_rc fg_ledger_idem_put(fg_conn *c, const char *scope, const char *key,
                                       const uint8_t hash[FG_LEDGER_IDEM_HASH_LEN], int status,
                                       const char *response, int64_t now_ms);

/* ---- the proof of the books (TXN-6) ------------------------------------------------------- */

struct fg_ledger_check_report {
    int ok;
    uint64_t accounts, journals, entries;
    char problem[FG_LEDGER_PROBLEM_SIZE];        /* the first problem found; "" when ok */
    char currency_totals[FG_LEDGER_TOTALS_SIZE]; /* customer totals: "CNY:12345;USD:0" */
};
/* read. FG_OK also when !ok; FG_ERR_STORE etc. if it could not run. The statements see one
 * snapshot only inside one transaction: the writer's intent, or use fg_ledger_check_store. */
FG_MUST_CHECK fg_rc fg_ledger_check(fg_conn *c, struct fg_ledger_check_report *out);
/* fg_ledger_check on a read lease of s inside one read transaction (BEGIN … COMMIT), so the
 * whole proof sees one snapshot even beside a running writer. Blocking (waits for a lease):
 * call it from a worker thread or the CLI, never from an event loop. */
FG_MUST_CHECK fg_rc fg_ledger_check_store(fg_store *s, struct fg_ledger_check_report *out);

#endif
