-- Version 2: windows can cover part of a second by id, remember how deep they were split, and
-- keep their pages durable one by one in a spool file until a Parquet file is committed.

ALTER TABLE windows ADD COLUMN id_start TEXT;             -- inclusive; NULL: from the first id
ALTER TABLE windows ADD COLUMN id_end TEXT;               -- exclusive; NULL: to the last id
ALTER TABLE windows ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;
ALTER TABLE windows ADD COLUMN spool_bytes INTEGER NOT NULL DEFAULT 0;

-- When the delete channel last ran for the object.
ALTER TABLE objects ADD COLUMN deletes_checked_at TEXT;
