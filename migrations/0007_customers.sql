-- 0007_customers: customers with protected personal data, their cards (the token vault) and
-- pending changes of the reserved phone (src/ledger/customer.h, src/ledger/card.h;
-- REQUIREMENTS ACC-1..5, DATA-3, DATA-4, AUTH-8; data/fields.yaml classifies every column).
--
-- Personal data and card numbers are never stored in clear: name, id_number, phone, email,
-- pan and new_phone hold fg_protect ciphertexts bound to table/column/row id (purpose pii,
-- pan for cards). Uniqueness and look-up go through blind indexes (HMAC under the `index`
-- key): the same ID number or phone twice is refused by UNIQUE on the index, a card is found
-- again by HMAC(customer_id ‖ 0x00 ‖ pan). Destruction (ACC-4) overwrites every ciphertext
-- and index with NULL (the writer runs with PRAGMA secure_delete=ON) and records who, when,
-- who approved and how; a destroyed row never becomes active again.

CREATE TABLE customers (
    id                  TEXT PRIMARY KEY NOT NULL
                        CHECK (length(id) = 26 AND substr(id, 1, 4) = 'cus_'),
    user_id             TEXT NOT NULL UNIQUE REFERENCES iam_users (id), -- the customer's login
    name                BLOB,              -- fg_protect(pii), AAD customers/name/<id>
    id_number           BLOB,              -- fg_protect(pii), AAD customers/id_number/<id>
    phone               BLOB,              -- fg_protect(pii), AAD customers/phone/<id>
    email               BLOB,              -- fg_protect(pii), NULL = none given
    id_number_idx       BLOB UNIQUE CHECK (id_number_idx IS NULL OR length(id_number_idx) = 32),
    phone_idx           BLOB UNIQUE CHECK (phone_idx IS NULL OR length(phone_idx) = 32),
    purpose             TEXT NOT NULL CHECK (length(purpose) BETWEEN 1 AND 64),  -- ACC-1
    consent             TEXT NOT NULL CHECK (json_valid(consent) AND length(consent) <= 512),
    status              TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'destroyed')),
    created_ms          INTEGER NOT NULL,
    created_by          TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 64),
    destroyed_ms        INTEGER,
    destroyed_by        TEXT CHECK (destroyed_by IS NULL OR length(destroyed_by) <= 64),
    destroy_approved_by TEXT
                        CHECK (destroy_approved_by IS NULL OR length(destroy_approved_by) <= 64),
    destroy_method      TEXT CHECK (destroy_method IS NULL OR length(destroy_method) <= 64),
    -- an active customer has every mandatory field; a destroyed one has none of them, and
    -- the destruction is recorded (ACC-4: time, method, operator, approver)
    CHECK (status <> 'active' OR (name IS NOT NULL AND id_number IS NOT NULL AND
                                  phone IS NOT NULL AND id_number_idx IS NOT NULL AND
                                  phone_idx IS NOT NULL AND destroyed_ms IS NULL)),
    CHECK (status <> 'destroyed' OR (name IS NULL AND id_number IS NULL AND phone IS NULL AND
                                     email IS NULL AND id_number_idx IS NULL AND
                                     phone_idx IS NULL AND destroyed_ms IS NOT NULL AND
                                     destroyed_by IS NOT NULL AND
                                     destroy_approved_by IS NOT NULL AND
                                     destroy_method IS NOT NULL))
);

CREATE TABLE customer_cards (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 26 AND substr(id, 1, 4) = 'crd_'),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    -- the payment token: PAN-shaped, reserved prefix 99, Luhn-valid (protect/card.h)
    token       TEXT NOT NULL UNIQUE
                CHECK (length(token) BETWEEN 13 AND 19 AND substr(token, 1, 2) = '99' AND
                       token NOT GLOB '*[^0-9]*'),
    pan         BLOB,              -- fg_protect(pan), AAD customer_cards/pan/<id>
    pan_idx     BLOB CHECK (pan_idx IS NULL OR length(pan_idx) = 32),
    masked_wide TEXT CHECK (masked_wide IS NULL OR length(masked_wide) BETWEEN 13 AND 19),
    last4       TEXT CHECK (last4 IS NULL OR length(last4) = 4),
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'destroyed')),
    created_ms  INTEGER NOT NULL,
    created_by  TEXT NOT NULL CHECK (length(created_by) BETWEEN 1 AND 64),
    CHECK ((status = 'active') = (pan IS NOT NULL AND pan_idx IS NOT NULL AND
                                  masked_wide IS NOT NULL AND last4 IS NOT NULL)),
    CHECK (status = 'active' OR (pan IS NULL AND pan_idx IS NULL AND masked_wide IS NULL AND
                                 last4 IS NULL)),
    UNIQUE (customer_id, pan_idx)
);
CREATE INDEX customer_cards_customer ON customer_cards (customer_id, created_ms);

-- AUTH-8: a requested change of the reserved phone, waiting for the old phone's one-time
-- code (confirmed) and the four-eyes approval (approvals row approval_id, whose payload names
-- change_id). The new number is sealed; it is cleared once applied or when the customer is
-- destroyed.
CREATE TABLE customer_phone_changes (
    approval_id   TEXT PRIMARY KEY NOT NULL CHECK (length(approval_id) = 22),
    change_id     TEXT NOT NULL UNIQUE
                  CHECK (length(change_id) = 26 AND substr(change_id, 1, 4) = 'chg_'),
    customer_id   TEXT NOT NULL REFERENCES customers (id),
    new_phone     BLOB,            -- fg_protect(pii), AAD customer_phone_changes/new_phone/<id>
    new_phone_idx BLOB CHECK (new_phone_idx IS NULL OR length(new_phone_idx) = 32),
    confirmed     INTEGER NOT NULL DEFAULT 0 CHECK (confirmed IN (0, 1)),
    created_ms    INTEGER NOT NULL,
    applied_ms    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX customer_phone_changes_customer ON customer_phone_changes (customer_id);

-- Destruction is final, and customers are records: never deleted.
CREATE TRIGGER customers_destroyed_final BEFORE UPDATE ON customers
WHEN OLD.status = 'destroyed'
BEGIN
    SELECT RAISE(ABORT, 'a destroyed customer stays destroyed');
END;

CREATE TRIGGER customers_no_delete BEFORE DELETE ON customers
BEGIN
    SELECT RAISE(ABORT, 'customers are destroyed (overwritten), never deleted');
END;

CREATE TRIGGER customer_cards_destroyed_final BEFORE UPDATE ON customer_cards
WHEN OLD.status = 'destroyed'
BEGIN
    SELECT RAISE(ABORT, 'a destroyed card stays destroyed');
END;

CREATE TRIGGER customer_cards_no_delete BEFORE DELETE ON customer_cards
BEGIN
    SELECT RAISE(ABORT, 'cards are destroyed (overwritten), never deleted');
END;
