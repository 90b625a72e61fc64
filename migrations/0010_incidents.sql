-- 0010_incidents.sql — alerts and security incidents (src/incident/alert.h, incident.h,
-- docs/incidents.md; REQUIREMENTS MON-1, MON-2, INC-1..5, GOV-5; issue #6).
--
-- alerts: what a rule or a deadline raised, deduplicated by rule + key (at most one alert
-- not resolved per rule + key — the partial unique index below). incidents: the lifecycle
-- reported → investigating → contained → recovered → closed (closed → investigating
-- reopens), with the deadlines of its profile and the breach marks; incident_timeline and
-- incident_evidence grow only. Ids of people are opaque text (no foreign keys to users:
-- records outlive them). Nothing here is ever deleted (triggers): closed incidents are kept
-- at least until retain_until_ms (INC-4), and then still, until an archive tool exists.
CREATE TABLE alerts (
    id              TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26 AND substr(id, 1, 4) = 'alr_'),
    rule_id         TEXT NOT NULL CHECK (length(rule_id) BETWEEN 1 AND 64),
    level           TEXT NOT NULL CHECK (level IN ('low', 'medium', 'high', 'critical')),
    title           TEXT NOT NULL CHECK (length(CAST(title AS BLOB)) BETWEEN 1 AND 160),
    key             TEXT NOT NULL DEFAULT '' CHECK (length(CAST(key AS BLOB)) <= 256),
    state           TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acked', 'resolved')),
    count           INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1),
    first_ms        INTEGER NOT NULL,
    last_ms         INTEGER NOT NULL CHECK (last_ms >= first_ms),
    first_event_seq INTEGER NOT NULL DEFAULT 0 CHECK (first_event_seq >= 0),
    last_event_seq  INTEGER NOT NULL DEFAULT 0 CHECK (last_event_seq >= 0),
    tags            TEXT NOT NULL DEFAULT '' CHECK (length(CAST(tags AS BLOB)) <= 1100),
    details         TEXT NOT NULL DEFAULT '{}' CHECK (length(CAST(details AS BLOB)) <= 2048),
    acked_by        TEXT CHECK (acked_by IS NULL OR length(acked_by) BETWEEN 1 AND 64),
    acked_ms        INTEGER,
    resolved_by     TEXT CHECK (resolved_by IS NULL OR length(resolved_by) BETWEEN 1 AND 64),
    resolved_ms     INTEGER,
    incident_id     TEXT CHECK (incident_id IS NULL OR length(incident_id) = 26),
    CHECK ((acked_ms IS NULL) = (acked_by IS NULL)),
    CHECK ((resolved_ms IS NULL) = (resolved_by IS NULL)),
    CHECK ((state = 'resolved') = (resolved_ms IS NOT NULL)),
    CHECK (state <> 'acked' OR acked_ms IS NOT NULL)
) WITHOUT ROWID;

-- Dedup: one alert not resolved per rule + key.
CREATE UNIQUE INDEX alerts_live_rule_key ON alerts (rule_id, key) WHERE state <> 'resolved';
-- Lists, newest first, optionally by state or rule.
CREATE INDEX alerts_last ON alerts (last_ms, id);
CREATE INDEX alerts_state_last ON alerts (state, last_ms, id);
CREATE INDEX alerts_rule_last ON alerts (rule_id, last_ms, id);

-- What an alert was raised for never changes, and a resolved alert stays resolved.
CREATE TRIGGER alerts_identity_fixed BEFORE UPDATE ON alerts
WHEN NEW.id IS NOT OLD.id OR NEW.rule_id IS NOT OLD.rule_id OR NEW.key IS NOT OLD.key
  OR NEW.first_ms IS NOT OLD.first_ms OR NEW.first_event_seq IS NOT OLD.first_event_seq
  OR (OLD.state = 'resolved' AND (NEW.state <> 'resolved' OR NEW.count <> OLD.count))
  OR NEW.count < OLD.count
BEGIN
    SELECT RAISE(ABORT, 'an alert''s identity is fixed and a resolved alert stays resolved');
END;

CREATE TRIGGER alerts_no_delete BEFORE DELETE ON alerts
BEGIN
    SELECT RAISE(ABORT, 'alerts are records and are never deleted');
END;

CREATE TABLE incidents (
    id               TEXT PRIMARY KEY NOT NULL
                     CHECK (length(id) = 26 AND substr(id, 1, 4) = 'inc_'),
    type             TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 32),
    severity         TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    title            TEXT NOT NULL CHECK (length(CAST(title AS BLOB)) BETWEEN 1 AND 160),
    state            TEXT NOT NULL DEFAULT 'reported'
                     CHECK (state IN ('reported', 'investigating', 'contained', 'recovered',
                                      'closed')),
    profile          TEXT NOT NULL CHECK (length(profile) BETWEEN 1 AND 31),
    discovered_ms    INTEGER NOT NULL,
    reported_ms      INTEGER NOT NULL,
    opened_ms        INTEGER NOT NULL,
    contained_ms     INTEGER,
    recovered_ms     INTEGER,
    closed_ms        INTEGER,
    report_due_ms    INTEGER NOT NULL CHECK (report_due_ms > discovered_ms),
    handle_due_ms    INTEGER NOT NULL CHECK (handle_due_ms > discovered_ms),
    recover_due_ms   INTEGER NOT NULL CHECK (recover_due_ms > discovered_ms),
    report_breached  INTEGER NOT NULL DEFAULT 0 CHECK (report_breached IN (0, 1)),
    handle_breached  INTEGER NOT NULL DEFAULT 0 CHECK (handle_breached IN (0, 1)),
    recover_breached INTEGER NOT NULL DEFAULT 0 CHECK (recover_breached IN (0, 1)),
    opened_by        TEXT NOT NULL CHECK (length(opened_by) BETWEEN 1 AND 70),
    rule_id          TEXT CHECK (rule_id IS NULL OR length(rule_id) BETWEEN 1 AND 64),
    key              TEXT CHECK (key IS NULL OR length(CAST(key AS BLOB)) <= 256),
    accounts         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(accounts)
                                                       AND json_type(accounts) = 'array'),
    users            TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(users)
                                                       AND json_type(users) = 'array'),
    features         TEXT NOT NULL DEFAULT '' CHECK (length(CAST(features AS BLOB)) <= 4096),
    scope            TEXT NOT NULL DEFAULT '' CHECK (length(CAST(scope AS BLOB)) <= 4096),
    first_actions    TEXT NOT NULL DEFAULT '' CHECK (length(CAST(first_actions AS BLOB)) <= 4096),
    root_cause       TEXT CHECK (root_cause IS NULL OR length(CAST(root_cause AS BLOB)) <= 4096),
    improvements     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(improvements)
                                                       AND json_type(improvements) = 'array'),
    retain_until_ms  INTEGER,
    CHECK (discovered_ms <= reported_ms),
    CHECK ((state = 'closed') = (closed_ms IS NOT NULL)),
    CHECK (state = 'closed' OR closed_ms IS NULL),
    CHECK (state NOT IN ('contained', 'recovered', 'closed') OR contained_ms IS NOT NULL),
    CHECK (state NOT IN ('recovered', 'closed') OR recovered_ms IS NOT NULL),
    -- closing needs a review (INC-5) and sets the retention floor (INC-4)
    CHECK (state <> 'closed' OR (root_cause IS NOT NULL AND retain_until_ms IS NOT NULL)),
    CHECK ((rule_id IS NULL) = (key IS NULL))
) WITHOUT ROWID;

CREATE INDEX incidents_opened ON incidents (opened_ms, id);
CREATE INDEX incidents_state_opened ON incidents (state, opened_ms, id);
-- The join of a rule's firings: the incident of rule + key that is not closed.
CREATE INDEX incidents_rule_key ON incidents (rule_id, key, state);
-- The deadline clock: incidents with a deadline not yet marked.
CREATE INDEX incidents_report_due ON incidents (report_due_ms) WHERE report_breached = 0;
CREATE INDEX incidents_handle_due ON incidents (handle_due_ms) WHERE handle_breached = 0;
CREATE INDEX incidents_recover_due ON incidents (recover_due_ms) WHERE recover_breached = 0;

-- A breach mark, the deadlines and the discovery never change once set (INC-2: a missed
-- deadline cannot be made to look met).
CREATE TRIGGER incidents_fixed BEFORE UPDATE ON incidents
WHEN NEW.id IS NOT OLD.id OR NEW.discovered_ms IS NOT OLD.discovered_ms
  OR NEW.reported_ms IS NOT OLD.reported_ms OR NEW.opened_ms IS NOT OLD.opened_ms
  OR NEW.report_due_ms IS NOT OLD.report_due_ms OR NEW.handle_due_ms IS NOT OLD.handle_due_ms
  OR NEW.recover_due_ms IS NOT OLD.recover_due_ms OR NEW.profile IS NOT OLD.profile
  OR NEW.report_breached < OLD.report_breached OR NEW.handle_breached < OLD.handle_breached
  OR NEW.recover_breached < OLD.recover_breached
  OR NEW.rule_id IS NOT OLD.rule_id OR NEW.key IS NOT OLD.key OR NEW.opened_by IS NOT OLD.opened_by
BEGIN
    SELECT RAISE(ABORT, 'an incident''s discovery, deadlines and breaches are fixed');
END;

CREATE TRIGGER incidents_no_delete BEFORE DELETE ON incidents
BEGIN
    SELECT RAISE(ABORT, 'incidents are records and are never deleted (INC-4)');
END;

CREATE TABLE incident_timeline (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    seq         INTEGER NOT NULL CHECK (seq >= 1),
    time_ms     INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('alert', 'response', 'transition', 'note',
                                              'evidence', 'deadline')),
    actor       TEXT NOT NULL CHECK (length(actor) BETWEEN 1 AND 70),
    text        TEXT NOT NULL CHECK (length(CAST(text AS BLOB)) <= 4096),
    ref         TEXT NOT NULL DEFAULT '' CHECK (length(ref) <= 128),
    PRIMARY KEY (incident_id, seq)
) WITHOUT ROWID;

CREATE TRIGGER incident_timeline_append_only BEFORE UPDATE ON incident_timeline
BEGIN
    SELECT RAISE(ABORT, 'timeline entries are never changed');
END;
CREATE TRIGGER incident_timeline_no_delete BEFORE DELETE ON incident_timeline
BEGIN
    SELECT RAISE(ABORT, 'timeline entries are never deleted');
END;

CREATE TABLE incident_evidence (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    seq         INTEGER NOT NULL CHECK (seq >= 1),
    kind        TEXT NOT NULL CHECK (kind IN ('event', 'audit_range', 'alert')),
    from_ref    TEXT NOT NULL CHECK (length(from_ref) BETWEEN 1 AND 128),
    to_ref      TEXT NOT NULL DEFAULT '' CHECK (length(to_ref) <= 128),
    note        TEXT NOT NULL DEFAULT '' CHECK (length(CAST(note AS BLOB)) <= 4096),
    added_by    TEXT NOT NULL CHECK (length(added_by) BETWEEN 1 AND 70),
    added_ms    INTEGER NOT NULL,
    PRIMARY KEY (incident_id, seq)
) WITHOUT ROWID;

CREATE TRIGGER incident_evidence_append_only BEFORE UPDATE ON incident_evidence
BEGIN
    SELECT RAISE(ABORT, 'evidence is never changed');
END;
CREATE TRIGGER incident_evidence_no_delete BEFORE DELETE ON incident_evidence
BEGIN
    SELECT RAISE(ABORT, 'evidence is never deleted');
END;
