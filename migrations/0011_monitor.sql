-- 0011_monitor.sql — the monitor's responses and its place in the event log (issue #6,
-- src/monitor/monitor.h; REQUIREMENTS MON-3, AUTH-7).

-- Active responses that the request path enforces until they expire:
--   ip       every request from `subject` (an address) is refused with 429 until until_ms
--   step_up  transfers of `subject` (a customer or user id) need a one-time code until until_ms
-- One row per (kind, subject); a repeat offender's row is updated: strikes + 1 and a longer
-- block (the rule's escalate factor). Rows are kept after they expire: strikes remember.
CREATE TABLE monitor_blocks (
    kind        TEXT NOT NULL CHECK (kind IN ('ip', 'step_up')),
    subject     TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 128),
    until_ms    INTEGER NOT NULL CHECK (until_ms >= 0),
    strikes     INTEGER NOT NULL DEFAULT 1 CHECK (strikes >= 1),
    rule_id     TEXT NOT NULL CHECK (length(rule_id) BETWEEN 1 AND 64),
    alert_id    TEXT NOT NULL DEFAULT '',
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    lifted_by   TEXT NOT NULL DEFAULT '',  -- a person who ended it early, or ''
    PRIMARY KEY (kind, subject)
) WITHOUT ROWID;

CREATE INDEX monitor_blocks_until ON monitor_blocks (until_ms);

-- Named integers of the monitor: 'cursor' = the last events.seq whose firings are committed.
CREATE TABLE monitor_state (
    name  TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 32),
    value INTEGER NOT NULL
) WITHOUT ROWID;
