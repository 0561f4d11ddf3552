-- One covering index for reading answers by question instead of one by value and one by number.
-- The aggregate column store reads every answer to a question (document, value, num); with the
-- two old indexes each answer row cost a lookup into the table besides, and every answer
-- written updated four B-trees instead of three.
DROP INDEX answers_by_value;
DROP INDEX answers_by_num;
CREATE INDEX answers_by_question ON answers (dataset, form, question, document, value, num);
