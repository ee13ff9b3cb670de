-- Per-server digest settings, the delivery ledger and digest runs (bot engineer).
-- Times are whole UTC seconds since the epoch (INTEGER). A NULL setting means "use the config default".

CREATE TABLE IF NOT EXISTS guilds (
    guild_id          INTEGER PRIMARY KEY,
    channel_id        INTEGER,
    topics            TEXT,              -- JSON list of topic names
    time              TEXT,              -- HH:MM, local to `timezone`
    timezone          TEXT,              -- IANA name
    weekdays          TEXT,              -- e.g. "0,1,2,3,4" (0 = Monday)
    per_topic         INTEGER,
    min_quality       INTEGER,
    max_per_provider  INTEGER,
    lookback_hours    INTEGER,
    silent            INTEGER,
    paused            INTEGER NOT NULL DEFAULT 0,
    next_run_at       INTEGER,           -- UTC; NULL when the digest is not active
    last_run_at       INTEGER,           -- end of the window of the last completed digest
    last_result       TEXT,
    failing_reason    TEXT,
    removed_at        INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS guilds_due ON guilds (next_run_at)
    WHERE next_run_at IS NOT NULL AND removed_at IS NULL AND failing_reason IS NULL AND paused = 0;

-- One digest run: scheduled runs are keyed by (guild, channel, local date), manual ones get their own id.
-- `payloads` holds the exact message bodies, so a resumed run re-sends the same messages with the same nonces.
CREATE TABLE IF NOT EXISTS digest_runs (
    run_key        TEXT PRIMARY KEY,
    guild_id       INTEGER NOT NULL,
    channel_id     INTEGER NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('scheduled', 'manual')),
    status         TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    window_start   INTEGER NOT NULL,
    window_end     INTEGER NOT NULL,
    payloads       TEXT NOT NULL DEFAULT '[]',
    messages_sent  INTEGER NOT NULL DEFAULT 0,
    result         TEXT,
    created_at     INTEGER NOT NULL,
    finished_at    INTEGER
);

CREATE INDEX IF NOT EXISTS digest_runs_pending ON digest_runs (status) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS digest_runs_guild ON digest_runs (guild_id, created_at);

-- What was posted where: an article is posted at most once per channel.
CREATE TABLE IF NOT EXISTS delivery_ledger (
    channel_id     INTEGER NOT NULL,
    article_id     TEXT NOT NULL,
    run_key        TEXT NOT NULL,
    message_index  INTEGER NOT NULL DEFAULT 0,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'sent')),
    message_id     INTEGER,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (channel_id, article_id)
);

CREATE INDEX IF NOT EXISTS delivery_ledger_run ON delivery_ledger (run_key);
CREATE INDEX IF NOT EXISTS delivery_ledger_created ON delivery_ledger (created_at);

-- Small key/value facts of the bot (e.g. the hash of the last synced command set).
CREATE TABLE IF NOT EXISTS bot_meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
