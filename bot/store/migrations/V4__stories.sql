-- Same-story grouping, computed once at ingest (`bot.stories`, `bot.ingest.grouping`).
--
-- `story_id` names an article's story (the id of the story's first article); NULL until the
-- article is grouped. `coverage` holds, as JSON, the items of its `related` list confirmed to
-- be the same story ([title, url, provider, domain, published_us, quality] each); NULL = none.
-- `store_meta.story_rule` is the rule version the ids were computed with: when the code's rule
-- changes, every id is forgotten and rebuilt from the stored articles.
ALTER TABLE articles ADD COLUMN story_id TEXT;
ALTER TABLE articles ADD COLUMN coverage TEXT;

CREATE INDEX articles_story ON articles (story_id) WHERE story_id IS NOT NULL;
CREATE INDEX articles_ungrouped ON articles (published_us)
    WHERE story_id IS NULL AND retired_at_us IS NULL;

INSERT INTO store_meta (key, value) VALUES ('story_rule', '0');
