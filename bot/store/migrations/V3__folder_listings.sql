-- What a re-scan of the articles folder needs to skip a whole unchanged folder.
--
-- `source_dirs` holds, per folder, a digest of its article files' names, sizes and mtimes taken
-- when the `sources` rows of that folder matched the files exactly. A re-scan computing the same
-- digest knows that nothing in the folder changed without comparing it file by file. Any write
-- to a folder's `sources` rows (by any process) forgets its digest, so a digest never outlives
-- the rows it vouches for.
CREATE TABLE source_dirs (
    dir     TEXT PRIMARY KEY,
    listing TEXT NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER sources_insert_forgets_listing AFTER INSERT ON sources BEGIN
    DELETE FROM source_dirs WHERE dir = NEW.dir;
END;

CREATE TRIGGER sources_update_forgets_listing AFTER UPDATE ON sources BEGIN
    DELETE FROM source_dirs WHERE dir IN (OLD.dir, NEW.dir);
END;

CREATE TRIGGER sources_delete_forgets_listing AFTER DELETE ON sources BEGIN
    DELETE FROM source_dirs WHERE dir = OLD.dir;
END;

-- The rejected files of a folder, reported again on every scan without being parsed again.
CREATE INDEX sources_rejected ON sources (dir, path) WHERE error IS NOT NULL;
