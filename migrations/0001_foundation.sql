-- 0001_foundation.sql — the first schema of finguard.
--
-- How migrations work (store/store.c): each file migrations/NNNN_name.sql is embedded in
-- the binary; fg_store_open() runs those newer than the database's PRAGMA user_version,
-- each inside one transaction that also sets user_version = NNNN. So a file must not
-- contain BEGIN/COMMIT, must never be edited once released (add a new file instead), and
-- every statement runs on a database that already has all earlier migrations.

-- Instance facts that outlive a process: when the database was created, which suite it
-- was initialised with, and so on. Small, text-valued, looked up by key.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- When this database was created (Unix milliseconds, UTC). Written once, here, so it is
-- part of the same transaction as the schema itself.
INSERT INTO meta (key, value)
VALUES ('created_ms', CAST(CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) AS TEXT));

-- The write-path probe: `POST /v1/diag/write` inserts one small row through the writer
-- (intent → batch → commit) so operators and tests can prove the whole write path,
-- durability included, without touching business tables. Bounded payload: it is a probe,
-- not storage.
CREATE TABLE diag_write (
    id         INTEGER PRIMARY KEY,
    payload    TEXT NOT NULL CHECK (length(payload) BETWEEN 1 AND 256),
    created_ms INTEGER NOT NULL
);
