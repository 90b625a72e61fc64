-- 0005_outbox.sql — messages to people and the one-time codes they carry (docs/mfa.md;
-- REQUIREMENTS AUTH-3, AUTH-4, AUTH-8, TXN-7): the outbox (src/notify/outbox.c) and
-- delivered one-time codes (src/notify/otp.c). TOTP secrets live with the user
-- (iam_users.totp_*, 0004; sealed and checked through src/iam/totp.h).
--
-- Nothing here holds a secret in clear: one-time codes exist only as a keyed MAC, a
-- message's recipient and text only as protect/ ciphertexts (purpose pii, the AAD binds each
-- to its table, column and row id). A code never reaches this database at all: it travels
-- from the issuer to the outbox's sink in memory, after commit.

-- One row per message handed to the outbox, in the order the writer committed them (rowid).
-- It records that a message was sent, to whom and why; the code it carried is not stored.
CREATE TABLE outbox_message (
    id            TEXT NOT NULL UNIQUE CHECK (length(id) = 32), -- random, hex; AAD row id
    created_ms    INTEGER NOT NULL,
    channel       TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    purpose       TEXT NOT NULL CHECK (length(purpose) BETWEEN 1 AND 32),
    recipient_enc BLOB NOT NULL,  -- protect(pii, outbox_message.recipient_enc, id)
    text_enc      BLOB NOT NULL,  -- protect(pii, outbox_message.text_enc, id)
    has_code      INTEGER NOT NULL CHECK (has_code IN (0, 1))
);
CREATE INDEX outbox_message_created ON outbox_message (created_ms);

-- The live delivered code of one subject and purpose ("login", "transfer", "phone_change",
-- ...). Issuing a new one replaces the row, so an older code is dead at once.
--   mac = HMAC(index key `key_version`, "finguard otp v1" ‖ len‖subject ‖ len‖purpose ‖
--         len‖binding ‖ code): the binding (amount, payee, new phone) is never stored.
-- tries counts wrong guesses; at tries_max the code is dead. used_ms marks single use.
-- window_start_ms / window_issues bound how many codes one subject+purpose can be sent per
-- window (each new code would otherwise bring tries_max fresh guesses).
CREATE TABLE otp_code (
    subject         TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 64),
    purpose         TEXT NOT NULL CHECK (length(purpose) BETWEEN 1 AND 32),
    mac             BLOB NOT NULL CHECK (length(mac) = 32),
    key_version     INTEGER NOT NULL CHECK (key_version >= 1),
    created_ms      INTEGER NOT NULL,
    expires_ms      INTEGER NOT NULL,
    tries           INTEGER NOT NULL DEFAULT 0 CHECK (tries >= 0),
    tries_max       INTEGER NOT NULL CHECK (tries_max >= 1),
    used_ms         INTEGER,
    window_start_ms INTEGER NOT NULL,
    window_issues   INTEGER NOT NULL CHECK (window_issues >= 1),
    PRIMARY KEY (subject, purpose),
    CHECK (expires_ms > created_ms)
) WITHOUT ROWID;
