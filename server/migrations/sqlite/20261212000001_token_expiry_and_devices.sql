-- Lost and seized phones (issue 19): tokens expire and can be revoked, devices can be listed
-- and withdrawn. The PostgreSQL migration of the same name makes the same columns.
--
-- Every time here is a day (UTC 'YYYY-MM-DD') or, for expiry, the start of one: when a token
-- was made or a phone last synced is the kind of detail that tells when a team is out, so no
-- finer time is kept.
--
-- tokens: `id` names a token to list and revoke it by (the hash is a secret's stand-in and is
-- never shown). `expires_at` is unix seconds, always midnight UTC: at or after it the token is
-- refused as `expired`. `revoked_on` is set by `DELETE /v1/tokens/{id}` or `token revoke`.
-- `last_used_on` is written at most once a day per token, in batches (`src/usage.rs`).
-- Tokens made before this migration expire 30 days from it (devices: 180), like new ones.
-- SQLite cannot add a primary-key-like column to a table with rows, so the table is rebuilt.
CREATE TABLE tokens_with_expiry (
    hash         BLOB PRIMARY KEY,
    id           BLOB NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'trainer', 'device')),
    dataset      BLOB REFERENCES datasets (id),
    device       BLOB REFERENCES devices (id),
    name         TEXT NOT NULL,
    created_on   TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_on   TEXT,
    last_used_on TEXT
);
INSERT INTO tokens_with_expiry (hash, id, role, dataset, device, name, created_on, expires_at)
SELECT hash, randomblob(16), role, dataset, device, name, date('now'),
       (CAST(strftime('%s', 'now') AS INTEGER) / 86400
        + CASE role WHEN 'device' THEN 181 ELSE 31 END) * 86400
FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_with_expiry RENAME TO tokens;
CREATE INDEX tokens_by_device ON tokens (device);

-- devices: `enrolled_on` (NULL for phones enrolled before this migration: that day is not
-- known), `last_sync_on`, `revoked_on`; `wipe` (0/1) tells a withdrawn phone to delete every
-- document of its dataset it holds on its next request. Revoking a device stops all its tokens.
ALTER TABLE devices ADD COLUMN enrolled_on TEXT;
ALTER TABLE devices ADD COLUMN last_sync_on TEXT;
ALTER TABLE devices ADD COLUMN revoked_on TEXT;
ALTER TABLE devices ADD COLUMN wipe BOOLEAN NOT NULL DEFAULT FALSE;

-- Devices listed per dataset. What each sent is counted from `documents_by_dataset_kind`'s
-- range of the dataset's responses: an index by owner would cost every sync a write.
CREATE INDEX devices_by_dataset ON devices (dataset);

-- The audit log read newest first (`GET /v1/audit`), per dataset for a limited admin.
CREATE INDEX audit_log_by_dataset ON audit_log (dataset, id);
