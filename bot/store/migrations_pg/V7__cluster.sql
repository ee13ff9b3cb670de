-- PostgreSQL twin of migrations/V7__cluster.sql.
CREATE TABLE bot_processes (
    process_id  TEXT COLLATE "C" PRIMARY KEY,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    shards      TEXT,
    shard_count INTEGER,
    version     TEXT NOT NULL,
    started_us  BIGINT NOT NULL,
    seen_us     BIGINT NOT NULL,
    stopped_us  BIGINT
);

CREATE TABLE leases (
    name        TEXT COLLATE "C" PRIMARY KEY,
    holder      TEXT COLLATE "C",
    epoch       BIGINT NOT NULL DEFAULT 0,
    acquired_us BIGINT,
    expires_us  BIGINT NOT NULL DEFAULT 0
);
