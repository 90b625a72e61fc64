-- 0004_iam: staff and customer users, their roles, password history and sessions
-- (REQUIREMENTS AUTH-1, AUTH-2, AUTH-5, IAM-1, IAM-2, IAM-6). Roles and permissions
-- themselves are data (data/roles.yaml); only assignments live here. Secrets: passwords
-- as Argon2id strings; TOTP secrets, reserved phrases and session keys as fg_protect
-- ciphertexts bound to their row; session tokens never — only their SHA-256.

CREATE TABLE iam_users (
    id                   TEXT PRIMARY KEY NOT NULL,        -- opaque, random
    username             TEXT NOT NULL UNIQUE COLLATE NOCASE
                         CHECK (length(username) BETWEEN 3 AND 64),
    kind                 TEXT NOT NULL CHECK (kind IN ('staff', 'customer')),
    status               TEXT NOT NULL DEFAULT 'active'
                         CHECK (status IN ('active', 'disabled')),
    password_hash        TEXT,                             -- NULL until a password is set
    must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    failed_count         INTEGER NOT NULL DEFAULT 0 CHECK (failed_count >= 0),
    last_failure_ms      INTEGER NOT NULL DEFAULT 0,
    locked_until_ms      INTEGER NOT NULL DEFAULT 0,
    totp_secret          BLOB,                             -- fg_protect(pii), NULL = none
    totp_enrolled        INTEGER NOT NULL DEFAULT 0 CHECK (totp_enrolled IN (0, 1)),
    totp_last_step       INTEGER NOT NULL DEFAULT 0,
    reserved_phrase      BLOB,                             -- fg_protect(pii), AUTH-9
    contact              TEXT NOT NULL DEFAULT '',
    expires_ms           INTEGER NOT NULL DEFAULT 0,       -- vendors: access ends; 0 = never
    created_ms           INTEGER NOT NULL,
    created_by           TEXT NOT NULL
);

CREATE TABLE iam_user_roles (
    user_id    TEXT NOT NULL REFERENCES iam_users (id),
    role       TEXT NOT NULL CHECK (length(role) BETWEEN 1 AND 32),
    granted_ms INTEGER NOT NULL,
    granted_by TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE iam_password_history (
    user_id    TEXT NOT NULL REFERENCES iam_users (id),
    hash       TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX iam_password_history_user ON iam_password_history (user_id, created_ms);

CREATE TABLE iam_sessions (
    id           TEXT PRIMARY KEY NOT NULL,  -- hex SHA-256 of the bearer token
    user_id      TEXT NOT NULL REFERENCES iam_users (id),
    device_id    TEXT NOT NULL CHECK (length(device_id) BETWEEN 1 AND 128),
    session_key  BLOB NOT NULL,              -- fg_protect(pii) of the 32-byte signing key
    source_ip    TEXT NOT NULL,
    created_ms   INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL,           -- absolute end
    ended_ms     INTEGER NOT NULL DEFAULT 0,
    end_reason   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX iam_sessions_user ON iam_sessions (user_id);
