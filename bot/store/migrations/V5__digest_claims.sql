-- Scheduled runs the ticker has claimed but not yet recorded as a digest run (issue 11).
--
-- A claim is written in the same transaction that moves the server's next run on, and deleted in
-- the one that records the run (a pending run with its ledger rows, or an empty run). So after a
-- crash or a shutdown cut short, every claimed server is either here or in `digest_runs`, and the
-- next tick delivers what is left here (within `schedule.catch_up_minutes` of its scheduled time).
CREATE TABLE IF NOT EXISTS digest_claims (
    run_key        TEXT PRIMARY KEY,      -- the run's identity: s:<guild>:<channel>:<local date>
    guild_id       INTEGER NOT NULL,
    channel_id     INTEGER NOT NULL,
    scheduled_for  INTEGER NOT NULL,      -- UTC seconds: the occurrence that was claimed
    claimed_at     INTEGER NOT NULL
);
