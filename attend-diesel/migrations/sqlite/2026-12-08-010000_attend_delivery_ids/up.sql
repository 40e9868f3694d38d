-- Delivery ids taken ahead in blocks: a PostgreSQL sequence setting (see the PostgreSQL
-- migration of the same name). SQLite's ids need nothing; this migration only keeps the two
-- folders' versions the same.
SELECT 1;
