-- Initial schema (SQLite). Never edit after it lands: add a new migration instead.
-- The PostgreSQL migration of the same name has the same tables and columns.
--
-- Ids are uuids (16-byte BLOBs here, UUID in PostgreSQL); times are unix seconds; secrets are
-- kept only as SHA-256 hashes. No table holds an IP address, and no materialized table holds
-- free text: free-text answers live only inside the Automerge bytes of their document.

-- A survey (`live`) or a training sandbox (`demo`). `k` is the disclosure threshold of its
-- aggregates (never below 5). `epoch` is bumped by a demo reset: a device syncing with an older
-- epoch is told to drop its documents, so stale training data never comes back.
CREATE TABLE datasets (
    id         BLOB PRIMARY KEY,
    name       TEXT NOT NULL,
    mode       TEXT NOT NULL CHECK (mode IN ('live', 'demo')),
    k          INTEGER NOT NULL DEFAULT 11 CHECK (k >= 5),
    epoch      INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

-- Every published form version, with its definition as published (JSON text) and the id of the
-- form document that carries it to devices. Versions only grow.
CREATE TABLE forms (
    dataset    BLOB NOT NULL REFERENCES datasets (id),
    form       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    definition TEXT NOT NULL,
    document   BLOB NOT NULL,
    PRIMARY KEY (dataset, form, version)
);

-- Enrolled devices. `label` is the admin's name for the phone, never a person's name.
CREATE TABLE devices (
    id      BLOB PRIMARY KEY,
    dataset BLOB NOT NULL REFERENCES datasets (id),
    label   TEXT NOT NULL,
    epoch   INTEGER NOT NULL
);

-- Bearer tokens by hash. `dataset` scopes a token to one dataset (always set for devices);
-- `device` is set for device tokens only.
CREATE TABLE tokens (
    hash    BLOB PRIMARY KEY,
    role    TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'trainer', 'device')),
    dataset BLOB REFERENCES datasets (id),
    device  BLOB REFERENCES devices (id),
    name    TEXT NOT NULL
);

-- One-time enrollment codes by hash, each good for `uses_left` devices until `expires_at`.
CREATE TABLE enrollments (
    code_hash  BLOB PRIMARY KEY,
    dataset    BLOB NOT NULL REFERENCES datasets (id),
    label      TEXT NOT NULL,
    uses_left  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

-- Every Automerge document (kind response, site or form). `owner` is the device that first
-- wrote a response (NULL for sites and forms). `heads` are the sorted 32-byte change hashes,
-- concatenated. `version` grows by one on every write: writers update
-- `WHERE version = <the version they merged onto>` and merge again when it moved.
CREATE TABLE documents (
    id      BLOB PRIMARY KEY,
    dataset BLOB NOT NULL REFERENCES datasets (id),
    kind    TEXT NOT NULL CHECK (kind IN ('response', 'site', 'form')),
    owner   BLOB,
    heads   BLOB NOT NULL,
    bytes   BLOB NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX documents_by_dataset_kind ON documents (dataset, kind, id);

-- Which document each Automerge actor wrote. An actor may write one document only, so two
-- documents from one phone cannot be linked by their actor id.
CREATE TABLE doc_actors (
    actor    BLOB PRIMARY KEY,
    document BLOB NOT NULL
);
CREATE INDEX doc_actors_by_document ON doc_actors (document);

-- One row per valid response document, rewritten with the document's bytes in one
-- transaction. `week` is ISO 'YYYY-Www', `month` 'YYYY-MM', both from `collected_on`.
CREATE TABLE responses (
    document     BLOB PRIMARY KEY,
    dataset      BLOB NOT NULL,
    device       BLOB NOT NULL,
    form         TEXT NOT NULL,
    form_version INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('draft', 'submitted')),
    collected_on TEXT NOT NULL,
    area         TEXT NOT NULL,
    week         TEXT NOT NULL,
    month        TEXT NOT NULL
);
CREATE INDEX responses_by_form ON responses (dataset, form, status);

-- Answers for aggregation: `value` holds option ids (one row per selected option of a multi
-- question) and dates ('YYYY-MM-DD'); `num` holds likert and integer answers. Free-text
-- answers are never materialized.
CREATE TABLE answers (
    document BLOB NOT NULL,
    dataset  BLOB NOT NULL,
    form     TEXT NOT NULL,
    question TEXT NOT NULL,
    value    TEXT,
    num      INTEGER
);
CREATE INDEX answers_by_value ON answers (dataset, form, question, value);
CREATE INDEX answers_by_num ON answers (dataset, form, question, num);
CREATE INDEX answers_by_document ON answers (document);

-- Current tally totals of each site document.
CREATE TABLE site_tallies (
    document BLOB NOT NULL,
    dataset  BLOB NOT NULL,
    site     TEXT NOT NULL,
    metric   TEXT NOT NULL,
    total    INTEGER NOT NULL,
    PRIMARY KEY (document, metric)
);
CREATE INDEX site_tallies_by_dataset ON site_tallies (dataset, site, metric);

-- Fields of a document holding concurrent values, for a reviewer. `candidates` is a JSON
-- array of the values (free text in it is scrubbed), the winner first.
CREATE TABLE conflicts (
    document   BLOB NOT NULL,
    path       TEXT NOT NULL,
    candidates TEXT NOT NULL,
    PRIMARY KEY (document, path)
);

-- Refused documents: nothing of them was applied; `raw` is the CBOR of the refused entry
-- (id, kind, heads, changes) so an admin can inspect or replay it.
CREATE TABLE quarantine (
    id          BLOB PRIMARY KEY,
    dataset     BLOB NOT NULL,
    device      BLOB NOT NULL,
    document    BLOB NOT NULL,
    code        TEXT NOT NULL,
    message     TEXT NOT NULL,
    raw         BLOB NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX quarantine_by_dataset ON quarantine (dataset, received_at);

-- Admin and trainer actions: who (token name and role), what, on which dataset, when.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_name TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    action     TEXT NOT NULL,
    dataset    BLOB,
    at         INTEGER NOT NULL
);
