-- Cell-key perturbation (docs/privacy.md, "Aggregates").
--
-- `record_key`: a random number in 0..256 given to a response when it is first stored,
-- never changed (a sync that rewrites the row carries the key over), never shown; the key of
-- an aggregate cell is the sum of its records' keys modulo 256, and picks the cell's
-- adjustment from the perturbation table. Responses stored before this migration get theirs
-- here, drawn by the database.
ALTER TABLE responses ADD COLUMN record_key INTEGER;
UPDATE responses SET record_key = abs(random() % 256);

-- What each site's tallies grew by on each day the server stored a change to them, so that
-- analysts can see tallies by week and month: changes carry no time (timestamp 0), so the day
-- a bump counts on is the day the server stored it. `record_key` as above, one per row.
-- Tallies stored before this migration count on the day it ran.
CREATE TABLE tally_days (
    document   BLOB NOT NULL,
    dataset    BLOB NOT NULL,
    site       TEXT NOT NULL,
    metric     TEXT NOT NULL,
    day        TEXT NOT NULL,
    amount     INTEGER NOT NULL,
    record_key INTEGER NOT NULL,
    PRIMARY KEY (document, metric, day)
);
CREATE INDEX tally_days_by_dataset ON tally_days (dataset);
INSERT INTO tally_days (document, dataset, site, metric, day, amount, record_key)
    SELECT document, dataset, site, metric, date('now'), total, abs(random() % 256)
    FROM site_tallies WHERE total <> 0;

-- Every aggregate or tally query answered: by which token (its hash, as `tokens` keeps it, and
-- its name and role), on which dataset, what was asked, and on which day (UTC) and second.
-- Admins read it (GET /v1/datasets/{id}/query-log); the daily budget per token counts it.
CREATE TABLE query_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset    BLOB NOT NULL,
    token_hash BLOB NOT NULL,
    token_name TEXT NOT NULL,
    role       TEXT NOT NULL,
    route      TEXT NOT NULL,
    query      TEXT NOT NULL,
    day        TEXT NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX query_log_by_token ON query_log (token_hash, day);
CREATE INDEX query_log_by_dataset ON query_log (dataset, id);
