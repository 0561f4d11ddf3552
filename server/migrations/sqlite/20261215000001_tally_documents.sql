-- Tally documents (protocol 3): each device counts into documents of its own, one per site,
-- and the server adds them up, instead of every phone bumping, and downloading, the shared
-- site document. The PostgreSQL migration of the same name has the same tables and columns.
--
-- `documents.kind` gains 'tally'. SQLite cannot change a CHECK constraint, so the table is
-- rebuilt with the same columns and rows. `owner` is now set for tallies as for responses: the
-- device that wrote the first change, the only one that may read or write the document.
CREATE TABLE documents_with_tallies (
    id      BLOB PRIMARY KEY,
    dataset BLOB NOT NULL REFERENCES datasets (id),
    kind    TEXT NOT NULL CHECK (kind IN ('response', 'site', 'form', 'tally')),
    owner   BLOB,
    heads   BLOB NOT NULL,
    bytes   BLOB NOT NULL,
    version INTEGER NOT NULL
);
INSERT INTO documents_with_tallies (id, dataset, kind, owner, heads, bytes, version)
    SELECT id, dataset, kind, owner, heads, bytes, version FROM documents;
DROP INDEX documents_by_dataset_kind;
DROP TABLE documents;
ALTER TABLE documents_with_tallies RENAME TO documents;
CREATE INDEX documents_by_dataset_kind ON documents (dataset, kind, id);

-- The counts of each tally document, rewritten with it. `device` is its owner, `site` the site
-- document it counts for (checked to be a site of the same dataset with these metrics).
CREATE TABLE device_tallies (
    document BLOB NOT NULL,
    dataset  BLOB NOT NULL,
    device   BLOB NOT NULL,
    site     BLOB NOT NULL,
    metric   TEXT NOT NULL,
    total    INTEGER NOT NULL,
    PRIMARY KEY (document, metric)
);
-- What a device's own tally documents count: a protocol 3 reply gives each phone the others'.
CREATE INDEX device_tallies_by_device ON device_tallies (device);

-- Running sums per site and metric, so a reply or an analyst reads a few rows, not one row
-- per device. `devices` is the sum of `device_tallies.total`, moved by each write's difference
-- in the same transaction. `folded` is how much of it the server has added to the shared site
-- document (as a change of its own) for phones of protocols 1 and 2, which read only that
-- document; it is set with the site document's bytes, in the same transaction, guarded by
-- the same version. A site's total is its document's count (`site_tallies.total`) less
-- `folded`, plus `devices`.
CREATE TABLE site_totals (
    site    BLOB NOT NULL,
    dataset BLOB NOT NULL,
    metric  TEXT NOT NULL,
    devices INTEGER NOT NULL DEFAULT 0,
    folded  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site, metric)
);
CREATE INDEX site_totals_by_dataset ON site_totals (dataset);
