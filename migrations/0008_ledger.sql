-- 0008_ledger.sql — the double-entry ledger and the security event log (src/ledger/ledger.h,
-- src/event/event.h, docs/ledger.md; REQUIREMENTS TXN-1, TXN-2, TXN-4, TXN-6, MON-1).
--
-- Money is INTEGER minor units. A movement is one ledger_journal row and exactly two
-- ledger_entries rows (−amount, +amount); each account's balance is the sum of its entries
-- (fg_ledger_check proves it). Customer ids are opaque text without a FOREIGN KEY to
-- customers (0007): the two migrations are built independently, and the ledger must outlive
-- a customer's erased personal data. Ids are "acc_" / "jnl_" / "trf_" + 22 characters.
-- The constraints restate the module's rules so that a bug in finguard's own code cannot
-- post an unbalanced or zero movement, rewrite history or leave a closed account.

CREATE TABLE ledger_accounts (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26 AND substr(id, 1, 4) = 'acc_'),
    customer_id TEXT CHECK (customer_id IS NULL OR length(customer_id) BETWEEN 1 AND 64),
    kind        TEXT NOT NULL CHECK (kind IN ('customer', 'cash')),
    currency    TEXT NOT NULL CHECK (length(currency) = 3 AND currency GLOB '[A-Z][A-Z][A-Z]'),
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'frozen', 'closed')),
    balance     INTEGER NOT NULL DEFAULT 0 CHECK (typeof(balance) = 'integer'),
    -- how far below zero a customer account may go (0: not at all); cash accounts: unbounded
    overdraft   INTEGER NOT NULL DEFAULT 0 CHECK (typeof(overdraft) = 'integer' AND overdraft >= 0),
    per_txn_max INTEGER NOT NULL CHECK (per_txn_max BETWEEN 1 AND 1000000000000000),
    per_day_max INTEGER NOT NULL CHECK (per_day_max BETWEEN per_txn_max AND 1000000000000000),
    created_ms  INTEGER NOT NULL,
    created_by  TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 64),
    updated_ms  INTEGER NOT NULL,
    -- customer accounts belong to a customer; cash accounts (the bank's vault) to nobody
    CHECK ((kind = 'customer') = (customer_id IS NOT NULL)),
    CHECK (kind = 'cash' OR balance >= -overdraft)
) WITHOUT ROWID;

CREATE INDEX ledger_accounts_customer ON ledger_accounts (customer_id, created_ms);
-- One cash account per currency.
CREATE UNIQUE INDEX ledger_accounts_cash ON ledger_accounts (kind, currency) WHERE kind = 'cash';

-- A closed account stays closed; kind, owner, currency and creation never change.
CREATE TRIGGER ledger_accounts_immutable BEFORE UPDATE ON ledger_accounts
WHEN OLD.status = 'closed'
  OR NEW.id IS NOT OLD.id OR NEW.kind IS NOT OLD.kind OR NEW.customer_id IS NOT OLD.customer_id
  OR NEW.currency IS NOT OLD.currency OR NEW.created_ms IS NOT OLD.created_ms
  OR NEW.created_by IS NOT OLD.created_by
BEGIN
    SELECT RAISE(ABORT, 'a closed account never changes, and no account changes owner or currency');
END;

CREATE TRIGGER ledger_accounts_no_delete BEFORE DELETE ON ledger_accounts
BEGIN
    SELECT RAISE(ABORT, 'ledger accounts are never deleted');
END;

CREATE TABLE ledger_journal (
    id             TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26 AND substr(id, 1, 4) = 'jnl_'),
    kind           TEXT NOT NULL CHECK (kind IN ('deposit', 'withdrawal', 'transfer')),
    currency       TEXT NOT NULL CHECK (length(currency) = 3),
    amount         INTEGER NOT NULL
                   CHECK (typeof(amount) = 'integer' AND amount BETWEEN 1 AND 1000000000000000),
    debit_account  TEXT NOT NULL,
    credit_account TEXT NOT NULL,
    -- protect/ ciphertext (pii), AAD ledger_journal/memo/<id>; NULL: no memo
    memo           BLOB CHECK (memo IS NULL OR typeof(memo) = 'blob'),
    actor_id       TEXT NOT NULL CHECK (length(actor_id) BETWEEN 1 AND 64),
    created_ms     INTEGER NOT NULL,
    CHECK (debit_account <> credit_account)
) WITHOUT ROWID;

-- ids are time-ordered (ledger.c new_id): new journal entries append at the B-tree's right edge

CREATE TABLE ledger_entries (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    journal_id    TEXT NOT NULL,
    account_id    TEXT NOT NULL,
    amount        INTEGER NOT NULL CHECK (typeof(amount) = 'integer' AND amount <> 0),
    balance_after INTEGER NOT NULL CHECK (typeof(balance_after) = 'integer'),
    created_ms    INTEGER NOT NULL
);

CREATE INDEX ledger_entries_account ON ledger_entries (account_id, seq);
CREATE INDEX ledger_entries_journal ON ledger_entries (journal_id);

-- Books are append-only: a posted movement is corrected by another movement, never edited.
-- (The memo column is exempt so that protect/ can rewrap it under a new key version.)
CREATE TRIGGER ledger_journal_append_only BEFORE UPDATE ON ledger_journal
WHEN NEW.id IS NOT OLD.id OR NEW.kind IS NOT OLD.kind OR NEW.currency IS NOT OLD.currency
  OR NEW.amount IS NOT OLD.amount OR NEW.debit_account IS NOT OLD.debit_account
  OR NEW.credit_account IS NOT OLD.credit_account OR NEW.actor_id IS NOT OLD.actor_id
  OR NEW.created_ms IS NOT OLD.created_ms
BEGIN
    SELECT RAISE(ABORT, 'posted journal entries never change');
END;

CREATE TRIGGER ledger_journal_no_delete BEFORE DELETE ON ledger_journal
BEGIN
    SELECT RAISE(ABORT, 'posted journal entries are never deleted');
END;

CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger entries never change');
END;

CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are never deleted');
END;

-- Transfers as customers asked for them: the daily sums of the tier rule, the new-payee
-- rule, and the link to the journal (committed) or to the approval (pending_approval).
CREATE TABLE ledger_transfers (
    id           TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26 AND substr(id, 1, 4) = 'trf_'),
    customer_id  TEXT NOT NULL CHECK (length(customer_id) BETWEEN 1 AND 64),
    from_account TEXT NOT NULL,
    to_account   TEXT NOT NULL,
    currency     TEXT NOT NULL CHECK (length(currency) = 3),
    amount       INTEGER NOT NULL
                 CHECK (typeof(amount) = 'integer' AND amount BETWEEN 1 AND 1000000000000000),
    status       TEXT NOT NULL CHECK (status IN ('committed', 'pending_approval')),
    journal_id   TEXT,
    approval_id  TEXT CHECK (approval_id IS NULL OR length(approval_id) BETWEEN 1 AND 31),
    device_id    TEXT CHECK (device_id IS NULL OR length(device_id) BETWEEN 1 AND 128),
    created_ms   INTEGER NOT NULL,
    committed_ms INTEGER,
    memo         BLOB,  -- fg_protect(pii) while held for approval (AAD ledger_transfers/memo/id)
    CHECK (from_account <> to_account),
    CHECK ((status = 'committed') = (journal_id IS NOT NULL)),
    CHECK ((status = 'committed') = (committed_ms IS NOT NULL))
) WITHOUT ROWID;

-- the destroy guard: a customer's transfers still held for approval
CREATE INDEX ledger_transfers_pending ON ledger_transfers (customer_id)
    WHERE status = 'pending_approval';

-- The new-payee rule (TXN-3): when a customer's first transfer to an account committed. One
-- row per pair, written once (INSERT OR IGNORE with the transfer), so a transfer to a known
-- payee dirties no page here. The proof of the books checks it against the transfers.
CREATE TABLE ledger_payees (
    customer_id TEXT NOT NULL CHECK (length(customer_id) BETWEEN 1 AND 64),
    to_account  TEXT NOT NULL,
    first_ms    INTEGER NOT NULL,
    PRIMARY KEY (customer_id, to_account)
) WITHOUT ROWID;

-- Running totals of money leaving, for the daily limits (TXN-3, AUTH-4): one row per scope
-- ("c:<customer>:<currency>" or "a:<account>") and 15-minute bucket (created_ms / 900000;
-- every real UTC offset is a multiple of 15 minutes, so a bank's day is whole buckets). Every
-- transfer row (committed or pending approval) adds its amount in the same transaction, so a
-- limit check reads at most 96 small rows instead of the day's transfers. The proof of the
-- books (fg_ledger_check) checks the buckets against the transfers.
CREATE TABLE ledger_out_buckets (
    scope  TEXT NOT NULL CHECK (length(scope) BETWEEN 3 AND 80),
    bucket INTEGER NOT NULL CHECK (bucket >= 0),
    total  INTEGER NOT NULL CHECK (typeof(total) = 'integer' AND total > 0),
    PRIMARY KEY (scope, bucket)
) WITHOUT ROWID;

-- Committed transfers stay committed with their journal.
CREATE TRIGGER ledger_transfers_committed_final BEFORE UPDATE ON ledger_transfers
WHEN OLD.status = 'committed'
  OR NEW.id IS NOT OLD.id OR NEW.customer_id IS NOT OLD.customer_id
  OR NEW.from_account IS NOT OLD.from_account OR NEW.to_account IS NOT OLD.to_account
  OR NEW.currency IS NOT OLD.currency OR NEW.amount IS NOT OLD.amount
  OR NEW.created_ms IS NOT OLD.created_ms
BEGIN
    SELECT RAISE(ABORT, 'a committed transfer never changes, nor what was asked for');
END;

-- TXN-2: the result of a request with an Idempotency-Key, per caller (scope). Only results
-- that committed something are stored (docs/ledger.md "Idempotency").
CREATE TABLE ledger_idempotency (
    scope      TEXT NOT NULL CHECK (length(scope) BETWEEN 1 AND 64),
    key        TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
    body_hash  BLOB NOT NULL CHECK (typeof(body_hash) = 'blob' AND length(body_hash) = 32),
    status     INTEGER NOT NULL CHECK (status BETWEEN 100 AND 599),
    response   TEXT NOT NULL CHECK (length(CAST(response AS BLOB)) <= 1024),
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;

CREATE INDEX ledger_idempotency_created ON ledger_idempotency (created_ms);

-- The security event log the monitor consumes (issue #6): append-only, in commit order.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ms     INTEGER NOT NULL,
    type        TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 48),
    actor_id    TEXT NOT NULL DEFAULT '' CHECK (length(actor_id) <= 64),
    source_ip   TEXT NOT NULL DEFAULT '' CHECK (length(source_ip) <= 45),
    device_id   TEXT NOT NULL DEFAULT '' CHECK (length(device_id) <= 128),
    object_type TEXT NOT NULL DEFAULT '' CHECK (length(object_type) <= 32),
    object_id   TEXT NOT NULL DEFAULT '' CHECK (length(object_id) <= 128),
    attrs       TEXT NOT NULL DEFAULT '{}' CHECK (length(CAST(attrs AS BLOB)) BETWEEN 2 AND 1024)
);

CREATE INDEX events_type_time ON events (type, time_ms);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events never change');
END;
