-- 0002_audit.sql — the tamper-evident audit log (src/audit/audit.h, docs/audit.md).
--
-- audit_log holds one row per audited request or change, appended only by the store's
-- writer inside the transaction of the change. `mac` chains every row to the one before
-- (MAC_n = HMAC(audit key of key_version, canonical(row_n) ‖ MAC_{n-1})), so a modified,
-- deleted, inserted or reordered row breaks the chain at its seq. The constraints and
-- triggers below stop mistakes by finguard's own code; they do not stop someone with the
-- database file, which is what the MACs and signed checkpoints are for.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY CHECK (seq >= 1),
    time_ms     INTEGER NOT NULL,
    request_id  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_role  TEXT NOT NULL,
    source_ip   TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    result      TEXT NOT NULL CHECK (result IN ('ok', 'denied', 'error')),
    error_code  TEXT NOT NULL,
    details     TEXT NOT NULL,
    key_version INTEGER NOT NULL CHECK (key_version >= 0),
    mac         BLOB NOT NULL CHECK (length(mac) = 32)
);

-- Signed checkpoints. kind 'checkpoint': the chain head (seq, mac) every N records or T
-- seconds; kind 'retention': the seq and MAC of the last record deleted by expiry, from
-- which verification starts. `signature` covers (kind, suite, seq, time_ms,
-- sign_key_version, mac); the same checkpoints are appended to the external anchor file.
CREATE TABLE audit_checkpoint (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('checkpoint', 'retention')),
    seq              INTEGER NOT NULL CHECK (seq >= 1),
    time_ms          INTEGER NOT NULL,
    mac              BLOB NOT NULL CHECK (length(mac) = 32),
    sign_key_version INTEGER NOT NULL CHECK (sign_key_version >= 0),
    signature        BLOB NOT NULL
);
CREATE INDEX audit_checkpoint_kind_seq ON audit_checkpoint (kind, seq);

-- Append-only: no row is ever updated. Rows are deleted only by retention, which first
-- writes the retention checkpoint that covers them (same transaction).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_delete_needs_retention BEFORE DELETE ON audit_log
WHEN NOT EXISTS (SELECT 1 FROM audit_checkpoint WHERE kind = 'retention' AND seq >= OLD.seq)
BEGIN
    SELECT RAISE(ABORT, 'audit_log rows are deleted only behind a retention checkpoint');
END;

CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoint is append-only');
END;

CREATE TRIGGER audit_checkpoint_delete_covered BEFORE DELETE ON audit_checkpoint
WHEN OLD.kind = 'retention'
  OR NOT EXISTS (SELECT 1 FROM audit_checkpoint WHERE kind = 'retention' AND seq >= OLD.seq)
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are deleted only behind a retention checkpoint');
END;
