-- 0006_approvals.sql — four-eyes approvals (src/iam/approval.h, docs/approvals.md;
-- REQUIREMENTS GOV-2, GOV-3, IAM-2, ACC-3).
--
-- One row per requested sensitive change. It is created pending and decided exactly once
-- (approved, rejected, failed) or expires; the decision commits in the same transaction as
-- the change it executes and as its audit record. Ids of people are opaque text (no
-- foreign key: approvals outlive users, and this table must not depend on who owns them).
-- The constraints and triggers restate the module's rules so that a bug in finguard's own
-- code cannot approve twice, approve its own request or reopen the bootstrap exception.
CREATE TABLE approvals (
    id           TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 22),
    action       TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 63),
    class        TEXT NOT NULL CHECK (length(class) BETWEEN 1 AND 31),
    payload      TEXT NOT NULL CHECK (length(CAST(payload AS BLOB)) BETWEEN 2 AND 1024),
    requester_id TEXT NOT NULL CHECK (length(requester_id) BETWEEN 1 AND 64),
    state        TEXT NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'approved', 'rejected', 'expired', 'failed')),
    created_ms   INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL CHECK (expires_ms > created_ms),
    decided_by   TEXT CHECK (decided_by IS NULL OR length(decided_by) BETWEEN 1 AND 64),
    decided_ms   INTEGER,
    -- the decider's own words (free text), for approved, rejected and failed
    reason       TEXT CHECK (reason IS NULL OR length(CAST(reason AS BLOB)) <= 256),
    -- what execute() handed back (compact JSON), for approved only
    result       TEXT CHECK (result IS NULL OR length(CAST(result AS BLOB)) <= 256),
    -- why it did not happen (a static sentence and an fg_rc name), for failed and expired
    failure      TEXT CHECK (failure IS NULL OR length(failure) <= 128),
    error_code   TEXT CHECK (error_code IS NULL OR length(error_code) <= 32),
    bootstrap    INTEGER NOT NULL DEFAULT 0 CHECK (bootstrap IN (0, 1)),
    -- pending: undecided; expired: no person decided; the others: a person did.
    CHECK ((state = 'pending') = (decided_ms IS NULL)),
    CHECK ((state IN ('approved', 'rejected', 'failed')) = (decided_by IS NOT NULL)),
    CHECK (result IS NULL OR state = 'approved'),
    CHECK ((state IN ('failed', 'expired')) = (failure IS NOT NULL AND error_code IS NOT NULL)),
    -- GOV-2: nobody decides their own request, except under the bootstrap exception.
    CHECK (decided_by IS NULL OR decided_by <> requester_id OR bootstrap = 1),
    CHECK (bootstrap = 0 OR (state IN ('approved', 'failed') AND decided_by = requester_id))
) WITHOUT ROWID;

-- Lists by state, oldest first (API pages), and the expiry sweep.
CREATE INDEX approvals_state_created ON approvals (state, created_ms, id);
CREATE INDEX approvals_created ON approvals (created_ms, id);
CREATE INDEX approvals_state_expires ON approvals (state, expires_ms);
-- The monitor's pair statistics: who approved whose requests, when.
CREATE INDEX approvals_pair ON approvals (requester_id, decided_by, decided_ms);

-- The bootstrap exception's "closed" marker: at most one row, written once, never removed.
CREATE TABLE approvals_bootstrap (
    id        INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    closed_ms INTEGER NOT NULL
);

-- A decided row is final: only pending rows change, only into a decision, and what was
-- requested (action, class, payload, requester, times) never changes.
CREATE TRIGGER approvals_decided_once BEFORE UPDATE ON approvals
WHEN OLD.state <> 'pending'
  OR NEW.state = 'pending'
  OR NEW.id IS NOT OLD.id OR NEW.action IS NOT OLD.action OR NEW.class IS NOT OLD.class
  OR NEW.payload IS NOT OLD.payload OR NEW.requester_id IS NOT OLD.requester_id
  OR NEW.created_ms IS NOT OLD.created_ms OR NEW.expires_ms IS NOT OLD.expires_ms
BEGIN
    SELECT RAISE(ABORT, 'an approval is decided once and its request never changes');
END;

CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals
BEGIN
    SELECT RAISE(ABORT, 'approvals are records of decisions and are never deleted');
END;

-- New rows start pending and undecided.
CREATE TRIGGER approvals_insert_pending BEFORE INSERT ON approvals
WHEN NEW.state <> 'pending' OR NEW.bootstrap <> 0
BEGIN
    SELECT RAISE(ABORT, 'an approval is created pending');
END;

-- Once closed, the bootstrap exception stays closed.
CREATE TRIGGER approvals_bootstrap_only_open BEFORE UPDATE ON approvals
WHEN NEW.bootstrap = 1 AND EXISTS (SELECT 1 FROM approvals_bootstrap)
BEGIN
    SELECT RAISE(ABORT, 'the bootstrap exception is closed');
END;

CREATE TRIGGER approvals_bootstrap_no_update BEFORE UPDATE ON approvals_bootstrap
BEGIN
    SELECT RAISE(ABORT, 'the bootstrap exception stays closed');
END;

CREATE TRIGGER approvals_bootstrap_no_delete BEFORE DELETE ON approvals_bootstrap
BEGIN
    SELECT RAISE(ABORT, 'the bootstrap exception stays closed');
END;
