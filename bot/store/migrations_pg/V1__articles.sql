-- PostgreSQL twin of migrations/V1__articles.sql: the same tables, columns and meaning.
-- Text that is compared or ordered uses the "C" collation (byte order), as SQLite does.

CREATE TABLE store_meta (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL
);

INSERT INTO store_meta (key, value) VALUES ('article_rev', '0');
INSERT INTO store_meta (key, value) VALUES ('store_id', replace(gen_random_uuid()::text, '-', ''));

CREATE TABLE articles (
    id                TEXT COLLATE "C" PRIMARY KEY,
    title             TEXT NOT NULL,
    excerpt           TEXT NOT NULL,
    url               TEXT COLLATE "C" NOT NULL,
    published_us      BIGINT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('article', 'video')),
    provider_name     TEXT NOT NULL,
    provider_domain   TEXT NOT NULL,
    provider_icon_url TEXT,
    topics            TEXT NOT NULL,
    quality           BIGINT,
    heat              BIGINT,
    trending          INTEGER NOT NULL DEFAULT 0,
    images            TEXT NOT NULL DEFAULT '[]',
    original_url      TEXT COLLATE "C",
    video_url         TEXT COLLATE "C",
    related_count     BIGINT NOT NULL DEFAULT 0,
    related_z         BYTEA,
    source_path       TEXT COLLATE "C",
    source_digest     TEXT,
    retired_at_us     BIGINT,
    rev               BIGINT NOT NULL
);

CREATE INDEX articles_active_published ON articles (published_us) WHERE retired_at_us IS NULL;
CREATE UNIQUE INDEX articles_rev ON articles (rev);
CREATE INDEX articles_url ON articles (url);
CREATE INDEX articles_source_path ON articles (source_path);

CREATE TABLE article_topics (
    topic      TEXT COLLATE "C" NOT NULL,
    article_id TEXT COLLATE "C" NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    PRIMARY KEY (topic, article_id)
);

CREATE INDEX article_topics_article ON article_topics (article_id);

CREATE TABLE sources (
    path       TEXT COLLATE "C" PRIMARY KEY,
    dir        TEXT COLLATE "C" NOT NULL,
    article_id TEXT COLLATE "C",
    mtime_ns   BIGINT NOT NULL,
    size       BIGINT NOT NULL,
    digest     TEXT,
    removed    INTEGER NOT NULL DEFAULT 0,
    error      TEXT
);

CREATE INDEX sources_dir ON sources (dir);
CREATE INDEX sources_article ON sources (article_id) WHERE article_id IS NOT NULL;
