-- No query reads answers by number (the column store reads a question's answers through
-- answers_by_value's (dataset, form, question) prefix), and every answer written updated this
-- index too: one B-tree fewer per answer row for every sync and reset.
DROP INDEX answers_by_num;
