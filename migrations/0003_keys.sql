-- 0003_keys.sql — the key hierarchy (src/keys/, docs/keys.md; REQUIREMENTS ACC-2, ACC-4,
-- DATA-2). What is stored here is useless without the unseal shares: the root key itself is
-- never stored; keyring keys are stored only wrapped (AEAD) under it.

-- One row, written once by initialisation: the suite, k of n, and the root verifier
-- HMAC(root, "finguard root verifier v1") that tells a wrong share set from a right one.
CREATE TABLE keys_meta (
    id            INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    suite         TEXT NOT NULL CHECK (suite IN ('intl', 'gm')),
    threshold     INTEGER NOT NULL,
    shares        INTEGER NOT NULL,
    root_verifier BLOB NOT NULL CHECK (length(root_verifier) = 32),
    created_ms    INTEGER NOT NULL,
    CHECK (shares BETWEEN 1 AND 16),
    CHECK (threshold BETWEEN 1 AND shares),
    CHECK (threshold >= 2 OR shares = 1)
);

-- Per-share verifiers (salted HMAC of index and share bytes) so one share can be checked on
-- its own: a well-formed share of another instance is refused at once.
CREATE TABLE keys_share_verifier (
    share_index INTEGER PRIMARY KEY NOT NULL CHECK (share_index BETWEEN 1 AND 255),
    salt        BLOB NOT NULL CHECK (length(salt) = 16),
    verifier    BLOB NOT NULL CHECK (length(verifier) = 32)
);

-- The keyring: one row per purpose and version. A destroyed version keeps its row (the
-- record of the destruction, ACC-4) but loses its nonce and wrapped key (crypto-shredding);
-- a sign version keeps its public key so old signatures stay verifiable.
CREATE TABLE keys_keyring (
    purpose      TEXT NOT NULL
                 CHECK (purpose IN ('pii', 'pan', 'index', 'token', 'audit', 'sign', 'backup')),
    version      INTEGER NOT NULL CHECK (version BETWEEN 1 AND 4294967295),
    state        TEXT NOT NULL CHECK (state IN ('active', 'decrypt-only', 'destroyed')),
    nonce        BLOB CHECK (nonce IS NULL OR length(nonce) BETWEEN 12 AND 16),
    wrapped      BLOB CHECK (wrapped IS NULL OR length(wrapped) = 48),
    public_key   BLOB CHECK (public_key IS NULL OR length(public_key) BETWEEN 32 AND 65),
    created_ms   INTEGER NOT NULL,
    state_ms     INTEGER NOT NULL,
    destroyed_ms INTEGER,
    PRIMARY KEY (purpose, version),
    CHECK ((state = 'destroyed') = (wrapped IS NULL)),
    CHECK ((wrapped IS NULL) = (nonce IS NULL)),
    CHECK ((state = 'destroyed') = (destroyed_ms IS NOT NULL)),
    CHECK ((purpose = 'sign') = (public_key IS NOT NULL))
) WITHOUT ROWID;

-- At most one active version per purpose.
CREATE UNIQUE INDEX keys_keyring_one_active ON keys_keyring (purpose) WHERE state = 'active';

-- Destroyed stays destroyed, and no version is ever deleted (its row records the
-- destruction). The instance facts are written once.
CREATE TRIGGER keys_keyring_no_resurrect BEFORE UPDATE ON keys_keyring
WHEN OLD.state = 'destroyed'
BEGIN
    SELECT RAISE(ABORT, 'a destroyed key version stays destroyed');
END;

CREATE TRIGGER keys_keyring_no_delete BEFORE DELETE ON keys_keyring
BEGIN
    SELECT RAISE(ABORT, 'key versions are never deleted');
END;

CREATE TRIGGER keys_meta_immutable BEFORE UPDATE ON keys_meta
BEGIN
    SELECT RAISE(ABORT, 'keys_meta is written once');
END;

CREATE TRIGGER keys_meta_no_delete BEFORE DELETE ON keys_meta
BEGIN
    SELECT RAISE(ABORT, 'keys_meta is written once');
END;
