-- Several `newsbot run` processes may share one database. Each one registers here and renews
-- its row while it runs (`newsbot status` lists them); one lease row chooses the process that
-- delivers scheduled digests, re-ingests and prunes. Runtime state: `migrate-store` skips both.
CREATE TABLE bot_processes (
    process_id  TEXT PRIMARY KEY,            -- host:pid:random, new at every start
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    shards      TEXT,                        -- the gateway shards it owns ('0-3'), NULL: all
    shard_count INTEGER,                     -- out of how many, NULL: Discord's recommendation
    version     TEXT NOT NULL,
    started_us  INTEGER NOT NULL,
    seen_us     INTEGER NOT NULL,            -- its last heartbeat
    stopped_us  INTEGER                      -- set by a clean stop
) WITHOUT ROWID;

CREATE TABLE leases (
    name        TEXT PRIMARY KEY,            -- 'deliverer'
    holder      TEXT,                        -- a bot_processes.process_id, NULL when released
    epoch       INTEGER NOT NULL DEFAULT 0,  -- +1 at every change of holder
    acquired_us INTEGER,
    expires_us  INTEGER NOT NULL DEFAULT 0   -- the holder must renew before this
) WITHOUT ROWID;
