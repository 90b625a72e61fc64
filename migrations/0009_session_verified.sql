-- 0009_session_verified: when a session completed its second factor (AUTH-10).
-- A device counts as "seen" for a user only through sessions that were fully authenticated:
-- a device that got past the password alone (a stolen password, no code) must never become
-- the customer's bound device nor age out of the "new device" window. 0 = not (yet) verified;
-- sessions that owe no second factor are verified when they are created.
ALTER TABLE iam_sessions ADD COLUMN verified_ms INTEGER NOT NULL DEFAULT 0
    CHECK (verified_ms >= 0);
