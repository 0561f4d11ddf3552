-- Supervisors' reviews (issue 20). The SQLite migration of the same name explains each part.
ALTER TABLE tokens DROP CONSTRAINT tokens_role_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_role_check
    CHECK (role IN ('admin', 'analyst', 'trainer', 'supervisor', 'device'));

CREATE TABLE reviews (
    document UUID PRIMARY KEY,
    dataset  UUID NOT NULL,
    bytes    BYTEA NOT NULL,
    version  BIGINT NOT NULL
);
CREATE INDEX reviews_by_dataset ON reviews (dataset);

ALTER TABLE responses ADD COLUMN review TEXT NOT NULL DEFAULT 'pending'
    CHECK (review IN ('pending', 'approved', 'flagged'));
CREATE INDEX responses_by_review ON responses (dataset, review);
