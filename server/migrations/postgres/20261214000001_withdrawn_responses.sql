-- Withdrawn responses (issue 20). Withdrawing a response deletes its document, actors,
-- materialized rows, conflicts and quarantine records; this tombstone is all that stays, so
-- that the id can never be stored again: a phone that still holds the response (a copy saved
-- to a file, a phone offline when it was withdrawn) is refused with `withdrawn` and drops it.
-- It keeps the day only, like every other date the server holds. The other backend's
-- migration of the same name makes the same table.
CREATE TABLE withdrawn (
    document     UUID PRIMARY KEY,
    dataset      UUID NOT NULL,
    withdrawn_on TEXT NOT NULL
);
CREATE INDEX withdrawn_by_dataset ON withdrawn (dataset);
