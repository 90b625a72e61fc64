-- 0013_config_state.sql — the configuration `finguard serve` last ran with, as one digest per
-- setting, never the value (issue #6; REQUIREMENTS MON-1, GOV-5; src/cli/config_event.h).
--
-- At start (once the audit log is armed) the server compares the digest of every effective
-- setting with its row here; when any differs, one audited write intent ("config.changed")
-- rewrites the changed rows and emits the config.changed event naming them. Values are never
-- stored: some settings are secret (server.metrics_token), so a setting marked SENSITIVE
-- gets a keyed digest ("i<version>:" + HMAC-SHA-256 under that version of the `index` key,
-- 64 hex), every other setting the plain SHA-256 of its value as text (64 hex).
CREATE TABLE config_state (
    name       TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 3 AND 64),
    digest     TEXT NOT NULL CHECK (length(digest) = 64 OR
                                    (digest LIKE 'i%:%' AND length(digest) BETWEEN 67 AND 76)),
    updated_ms INTEGER NOT NULL CHECK (updated_ms >= 0)
) WITHOUT ROWID;
