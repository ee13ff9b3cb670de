-- Articles, their topics and the files they came from. Times are UTC microseconds since the epoch.

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- `rev` grows with every change of a row (insert, update, retire, revive): the search index
-- syncs incrementally by asking for rows with a larger rev than the last one it saw.
INSERT INTO store_meta (key, value) VALUES ('article_rev', '0');
INSERT INTO store_meta (key, value) VALUES ('store_id', lower(hex(randomblob(16))));

CREATE TABLE articles (
    id                TEXT PRIMARY KEY,
    title             TEXT NOT NULL,
    excerpt           TEXT NOT NULL,
    url               TEXT NOT NULL,
    published_us      INTEGER NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('article', 'video')),
    provider_name     TEXT NOT NULL,
    provider_domain   TEXT NOT NULL,
    provider_icon_url TEXT,
    topics            TEXT NOT NULL,            -- JSON array, in the article's order
    quality           INTEGER,
    heat              INTEGER,
    trending          INTEGER NOT NULL DEFAULT 0,
    images            TEXT NOT NULL DEFAULT '[]', -- JSON array of [url, width, height]
    original_url      TEXT,
    video_url         TEXT,
    related_count     INTEGER NOT NULL DEFAULT 0,
    related_z         BLOB,                     -- zlib-compressed `related` YAML block
    source_path       TEXT,                     -- the file the current content came from
    source_digest     TEXT,
    retired_at_us     INTEGER,                  -- NULL while the article is active
    rev               INTEGER NOT NULL
);

CREATE INDEX articles_active_published ON articles (published_us) WHERE retired_at_us IS NULL;
CREATE UNIQUE INDEX articles_rev ON articles (rev);

CREATE TABLE article_topics (
    topic      TEXT NOT NULL,
    article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    PRIMARY KEY (topic, article_id)
) WITHOUT ROWID;

CREATE INDEX article_topics_article ON article_topics (article_id);

-- One row per article file seen: lets a re-scan skip unchanged files (same mtime and size) and
-- lets several files (copies in several folders) feed one article. A rejected file keeps its
-- reason in `error` so that it is reported again without being re-parsed.
CREATE TABLE sources (
    path       TEXT PRIMARY KEY,
    dir        TEXT NOT NULL,
    article_id TEXT,
    mtime_ns   INTEGER NOT NULL,
    size       INTEGER NOT NULL,
    digest     TEXT,
    removed    INTEGER NOT NULL DEFAULT 0,
    error      TEXT
);

CREATE INDEX sources_dir ON sources (dir);
CREATE INDEX sources_article ON sources (article_id) WHERE article_id IS NOT NULL;
