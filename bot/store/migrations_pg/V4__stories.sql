-- PostgreSQL twin of migrations/V4__stories.sql (same-story grouping).
ALTER TABLE articles ADD COLUMN story_id TEXT COLLATE "C";
ALTER TABLE articles ADD COLUMN coverage TEXT;

CREATE INDEX articles_story ON articles (story_id) WHERE story_id IS NOT NULL;
CREATE INDEX articles_ungrouped ON articles (published_us)
    WHERE story_id IS NULL AND retired_at_us IS NULL;

INSERT INTO store_meta (key, value) VALUES ('story_rule', '0');
