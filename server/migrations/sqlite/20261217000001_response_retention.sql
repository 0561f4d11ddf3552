-- Retention of responses (issue 20). The PostgreSQL migration of the same name makes the same
-- columns.
--
-- datasets.retention_days: whole days a submitted response is kept after the day the server
-- received it submitted; a background task purges it after that, as a withdrawal does (its
-- tombstone in `withdrawn` included). NULL keeps responses until they are withdrawn or the
-- dataset is purged.
ALTER TABLE datasets ADD COLUMN retention_days INTEGER CHECK (retention_days IS NULL OR retention_days >= 1);

-- responses.submitted_on: the day (UTC 'YYYY-MM-DD') the server first stored the response with
-- status `submitted`, carried over when the response is rewritten; NULL while it is a draft.
-- Changes carry no time (timestamp 0) and `collected_on` is what the phone says, so this is the
-- only age the server can vouch for; it is a day, like every other date the server keeps.
-- Responses submitted before this migration count from the day it ran: their day is not known,
-- and counting from later keeps them longer, never shorter, than the setting.
ALTER TABLE responses ADD COLUMN submitted_on TEXT;
UPDATE responses SET submitted_on = date('now') WHERE status = 'submitted';
CREATE INDEX responses_by_submitted_on ON responses (dataset, submitted_on);
