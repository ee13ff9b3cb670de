-- PostgreSQL twin of migrations/V3__folder_listings.sql: any write to a folder's `sources` rows
-- forgets its listing digest (one trigger function for insert, update and delete).

CREATE TABLE source_dirs (
    dir     TEXT COLLATE "C" PRIMARY KEY,
    listing TEXT NOT NULL
);

CREATE FUNCTION sources_forget_listing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM source_dirs WHERE dir = OLD.dir;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        DELETE FROM source_dirs WHERE dir = NEW.dir;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER sources_forget_listing AFTER INSERT OR UPDATE OR DELETE ON sources
    FOR EACH ROW EXECUTE FUNCTION sources_forget_listing();

CREATE INDEX sources_rejected ON sources (dir, path) WHERE error IS NOT NULL;
