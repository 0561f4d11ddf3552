-- Cell-key perturbation (docs/privacy.md, "Aggregates"). The SQLite migration of the same
-- name explains each table and column.
ALTER TABLE responses ADD COLUMN record_key BIGINT;
UPDATE responses SET record_key = floor(random() * 256)::BIGINT;

CREATE TABLE tally_days (
    document   UUID NOT NULL,
    dataset    UUID NOT NULL,
    site       TEXT NOT NULL,
    metric     TEXT NOT NULL,
    day        TEXT NOT NULL,
    amount     BIGINT NOT NULL,
    record_key BIGINT NOT NULL,
    PRIMARY KEY (document, metric, day)
);
CREATE INDEX tally_days_by_dataset ON tally_days (dataset);
INSERT INTO tally_days (document, dataset, site, metric, day, amount, record_key)
    SELECT document, dataset, site, metric, to_char(CURRENT_DATE, 'YYYY-MM-DD'), total,
           floor(random() * 256)::BIGINT
    FROM site_tallies WHERE total <> 0;

CREATE TABLE query_log (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dataset    UUID NOT NULL,
    token_hash BYTEA NOT NULL,
    token_name TEXT NOT NULL,
    role       TEXT NOT NULL,
    route      TEXT NOT NULL,
    query      TEXT NOT NULL,
    day        TEXT NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX query_log_by_token ON query_log (token_hash, day);
CREATE INDEX query_log_by_dataset ON query_log (dataset, id);
