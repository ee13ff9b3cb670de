-- PostgreSQL twin of migrations/V6__source_state.sql.
CREATE TABLE source_state (
    name            TEXT COLLATE "C" PRIMARY KEY,
    kind            TEXT NOT NULL,
    root            TEXT COLLATE "C" NOT NULL,
    commit_id       TEXT,
    last_success_us BIGINT,
    last_error      TEXT,
    failing_since_us BIGINT,
    failures        INTEGER NOT NULL DEFAULT 0,
    next_refresh_us BIGINT
);
