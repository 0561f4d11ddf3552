-- Supervisors' reviews (issue 20). The PostgreSQL migration of the same name makes the same
-- tables and columns.
--
-- tokens: a `supervisor` role, which reviews responses and reads nothing else. SQLite cannot
-- change a column's CHECK, so the table is rebuilt as the previous migration made it.
CREATE TABLE tokens_with_supervisors (
    hash         BLOB PRIMARY KEY,
    id           BLOB NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'trainer', 'supervisor', 'device')),
    dataset      BLOB REFERENCES datasets (id),
    device       BLOB REFERENCES devices (id),
    name         TEXT NOT NULL,
    created_on   TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_on   TEXT,
    last_used_on TEXT
);
INSERT INTO tokens_with_supervisors
    (hash, id, role, dataset, device, name, created_on, expires_at, revoked_on, last_used_on)
SELECT hash, id, role, dataset, device, name, created_on, expires_at, revoked_on, last_used_on
FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_with_supervisors RENAME TO tokens;
CREATE INDEX tokens_by_device ON tokens (device);

-- reviews: one Automerge review document per reviewed response (`sync_core::review`), held by
-- the server alone and never sent to a phone. `version` guards writes like `documents.version`:
-- a review stored meanwhile is merged with, not overwritten.
CREATE TABLE reviews (
    document BLOB PRIMARY KEY,
    dataset  BLOB NOT NULL,
    bytes    BLOB NOT NULL,
    version  INTEGER NOT NULL
);
CREATE INDEX reviews_by_dataset ON reviews (dataset);

-- responses.review: where the response's review stands, for aggregates restricted to approved
-- responses and for the list of responses awaiting review. Every rewrite of a response's row
-- (a phone's edit reached the server) puts it back to 'pending': the review did not see it.
ALTER TABLE responses ADD COLUMN review TEXT NOT NULL DEFAULT 'pending'
    CHECK (review IN ('pending', 'approved', 'flagged'));
CREATE INDEX responses_by_review ON responses (dataset, review);
