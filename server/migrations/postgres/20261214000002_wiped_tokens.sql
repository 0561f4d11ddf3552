-- Purged datasets (issue 20). Purging a dataset deletes every row of it, its devices and
-- tokens included, yet its phones must still be told to delete what they hold (401 `wiped`,
-- docs/protocol.md) when they next sync. This table keeps only the hashes of those device
-- tokens and the day: nothing names the dataset, its devices or what they collected.
CREATE TABLE wiped_tokens (
    hash     BYTEA PRIMARY KEY,
    wiped_on TEXT NOT NULL
);
