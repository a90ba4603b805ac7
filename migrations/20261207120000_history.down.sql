DROP TABLE history;
-- The rows step 2 of the up migration wrote stay: they are true documents of their resources.
