-- 0012_events.sql — the security event log as an investigation store (issue #6; REQUIREMENTS
-- MON-1, INC-2). Events are kept monitor.events_retention_days (six months by default) and
-- searched by GET /v1/events; retention deletes the oldest rows by time (fg_event_prune), so
-- time gets an index, and so do the two keys an investigator asks for first: the source
-- address and the object (user, account, customer). Deletes are allowed (retention); rows
-- still never change (events_no_update, 0008).

CREATE INDEX events_time ON events (time_ms);
CREATE INDEX events_source_ip ON events (source_ip, seq);
CREATE INDEX events_object ON events (object_id, seq);
