-- Quarantine keeps no personal data. A refusal about what a document says (an undeclared
-- field, a phone number in a notes answer) may be refused for the very personal data the check
-- keeps out, and its message quotes keys and values: such rows keep neither `raw` nor
-- `message`, only what tells repeats apart and sizes them (`size`, `sha256`). Other refusals
-- (forbidden, linked_actor, unknown_form, too_large, malformed) keep both, for an admin to
-- inspect or replay. Every row keeps only the day it came in (`received_on`, UTC
-- 'YYYY-MM-DD'): the second a refused entry arrived could single out the phone that sent it,
-- and the retention purge needs no more.
--
-- The rows quarantined before this migration are dropped, not converted: their code does not
-- tell a refusal about content from another (`invalid` covers both), so any of them may hold
-- the data this table must not (and SQLite, whose migration matches this one, cannot compute
-- their hashes).
DROP INDEX quarantine_by_dataset;
DROP TABLE quarantine;

-- `size`: bytes of the entry's changes. `sha256`: of the entry as received (its CBOR: id, kind,
-- heads, changes). `message` and `raw` are both set or both NULL.
CREATE TABLE quarantine (
    id          UUID PRIMARY KEY,
    dataset     UUID NOT NULL,
    device      UUID NOT NULL,
    document    UUID NOT NULL,
    code        TEXT NOT NULL,
    size        BIGINT NOT NULL,
    sha256      BYTEA NOT NULL,
    message     TEXT,
    raw         BYTEA,
    received_on TEXT NOT NULL,
    CHECK ((message IS NULL) = (raw IS NULL))
);
CREATE INDEX quarantine_by_dataset ON quarantine (dataset, received_on);
-- The retention purge deletes across datasets by day.
CREATE INDEX quarantine_by_day ON quarantine (received_on);
