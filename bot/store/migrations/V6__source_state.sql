-- The state of each configured article source (a local folder or a Git repository), written by
-- whichever process refreshed it, so `newsbot sources` and `/digest show` can tell from any
-- process when its news was last fresh and why it is not.
CREATE TABLE source_state (
    name            TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,           -- 'local' or 'git'
    root            TEXT NOT NULL,           -- the folder its articles are ingested from
    commit_id       TEXT,                    -- Git: the commit of the articles folder in use
    last_success_us INTEGER,                 -- last refresh that brought the store up to date
    last_error      TEXT,                    -- why the last attempt failed (NULL when it did not)
    failing_since_us INTEGER,                -- first failure since the last success
    failures        INTEGER NOT NULL DEFAULT 0,  -- failures in a row (the back-off)
    next_refresh_us INTEGER                  -- when the bot tries next
) WITHOUT ROWID;
