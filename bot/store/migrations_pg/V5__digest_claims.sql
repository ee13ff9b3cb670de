-- PostgreSQL twin of migrations/V5__digest_claims.sql.
CREATE TABLE IF NOT EXISTS digest_claims (
    run_key        TEXT COLLATE "C" PRIMARY KEY,
    guild_id       BIGINT NOT NULL,
    channel_id     BIGINT NOT NULL,
    scheduled_for  BIGINT NOT NULL,
    claimed_at     BIGINT NOT NULL
);
