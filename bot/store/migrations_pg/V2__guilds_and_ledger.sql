-- PostgreSQL twin of migrations/V2__guilds_and_ledger.sql. Ids (Discord snowflakes) are BIGINT.

CREATE TABLE IF NOT EXISTS guilds (
    guild_id          BIGINT PRIMARY KEY,
    channel_id        BIGINT,
    topics            TEXT,
    time              TEXT,
    timezone          TEXT,
    weekdays          TEXT,
    per_topic         BIGINT,
    min_quality       BIGINT,
    max_per_provider  BIGINT,
    lookback_hours    BIGINT,
    silent            INTEGER,
    paused            INTEGER NOT NULL DEFAULT 0,
    next_run_at       BIGINT,
    last_run_at       BIGINT,
    last_result       TEXT,
    failing_reason    TEXT,
    removed_at        BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

CREATE INDEX IF NOT EXISTS guilds_due ON guilds (next_run_at)
    WHERE next_run_at IS NOT NULL AND removed_at IS NULL AND failing_reason IS NULL AND paused = 0;
CREATE INDEX IF NOT EXISTS guilds_channel ON guilds (channel_id);

CREATE TABLE IF NOT EXISTS digest_runs (
    run_key        TEXT COLLATE "C" PRIMARY KEY,
    guild_id       BIGINT NOT NULL,
    channel_id     BIGINT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('scheduled', 'manual')),
    status         TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    window_start   BIGINT NOT NULL,
    window_end     BIGINT NOT NULL,
    payloads       TEXT NOT NULL DEFAULT '[]',
    messages_sent  BIGINT NOT NULL DEFAULT 0,
    result         TEXT,
    created_at     BIGINT NOT NULL,
    finished_at    BIGINT
);

CREATE INDEX IF NOT EXISTS digest_runs_pending ON digest_runs (status) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS digest_runs_guild ON digest_runs (guild_id, created_at);

CREATE TABLE IF NOT EXISTS delivery_ledger (
    channel_id     BIGINT NOT NULL,
    article_id     TEXT COLLATE "C" NOT NULL,
    run_key        TEXT COLLATE "C" NOT NULL,
    message_index  BIGINT NOT NULL DEFAULT 0,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'sent')),
    message_id     BIGINT,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (channel_id, article_id)
);

CREATE INDEX IF NOT EXISTS delivery_ledger_run ON delivery_ledger (run_key);
CREATE INDEX IF NOT EXISTS delivery_ledger_created ON delivery_ledger (created_at);
CREATE INDEX IF NOT EXISTS delivery_ledger_article ON delivery_ledger (article_id);

CREATE TABLE IF NOT EXISTS bot_meta (
    key    TEXT COLLATE "C" PRIMARY KEY,
    value  TEXT NOT NULL
);
