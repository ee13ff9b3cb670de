"""The `source_state` table: each article source's last success, last error and next refresh.

Written after every refresh attempt by the process that made it; read by `newsbot sources` and
`/digest show` from any process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.store.db import from_us, to_us
from bot.store.engine import Connection

_COLUMNS = (
    "name, kind, root, commit_id, last_success_us, last_error, failing_since_us, failures, "
    "next_refresh_us"
)


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the store knows of one source (a fresh source has only a name, kind and root)."""

    name: str
    kind: str
    root: str
    commit_id: str | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    failing_since: datetime | None = None
    failures: int = 0
    next_refresh: datetime | None = None

    @property
    def stale_since(self) -> datetime | None:
        """Since when its news is not fresh: the last success, else the first failure."""
        if self.last_error is None:
            return None
        return self.last_success or self.failing_since


def _us(value: datetime | None) -> int | None:
    return None if value is None else to_us(value)


def _dt(value: object) -> datetime | None:
    return None if value is None else from_us(int(value))  # type: ignore[call-overload]


def _state(row: tuple[object, ...]) -> SourceState:
    name, kind, root, commit_id, success, error, since, failures, next_us = row
    return SourceState(
        name=str(name),
        kind=str(kind),
        root=str(root),
        commit_id=None if commit_id is None else str(commit_id),
        last_success=_dt(success),
        last_error=None if error is None else str(error),
        failing_since=_dt(since),
        failures=int(failures),  # type: ignore[call-overload]
        next_refresh=_dt(next_us),
    )


def get_state(conn: Connection, name: str) -> SourceState | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM source_state WHERE name = ?",  # noqa: S608 - names are constants of this module; values are bound parameters
        (name,),
    ).fetchone()
    return None if row is None else _state(row)


def all_states(conn: Connection) -> dict[str, SourceState]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM source_state ORDER BY name")  # noqa: S608 - names are constants of this module; values are bound parameters
    return {state.name: state for state in map(_state, rows)}


def put_state(conn: Connection, state: SourceState) -> None:
    conn.execute(
        f"INSERT INTO source_state ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "  # noqa: S608 - names are constants of this module; values are bound parameters
        "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, root = excluded.root, "
        "commit_id = excluded.commit_id, last_success_us = excluded.last_success_us, "
        "last_error = excluded.last_error, failing_since_us = excluded.failing_since_us, "
        "failures = excluded.failures, next_refresh_us = excluded.next_refresh_us",
        (
            state.name,
            state.kind,
            state.root,
            state.commit_id,
            _us(state.last_success),
            state.last_error,
            _us(state.failing_since),
            state.failures,
            _us(state.next_refresh),
        ),
    )


def _range(root: str) -> tuple[str, str]:
    prefix = root.rstrip("/") + "/"
    return prefix, prefix[:-1] + "0"


def active_articles_under(conn: Connection, root: str) -> int:
    """Active articles whose content comes from a file under `root`."""
    row = conn.execute(
        "SELECT count(*) FROM articles WHERE retired_at_us IS NULL "
        "AND source_path >= ? AND source_path < ?",
        _range(root),
    ).fetchone()
    return int(row[0])


def files_recorded_under(conn: Connection, root: str) -> int:
    """Article files the store recorded under `root` (what an empty folder would retire)."""
    row = conn.execute(
        "SELECT count(*) FROM sources WHERE dir = ? OR (dir >= ? AND dir < ?)",
        (root.rstrip("/"), *_range(root)),
    ).fetchone()
    return int(row[0])


def stale_sources(conn: Connection) -> list[SourceState]:
    """The sources whose last refresh failed, by name."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM source_state WHERE last_error IS NOT NULL ORDER BY name"  # noqa: S608 - names are constants of this module; values are bound parameters
    )
    return [_state(row) for row in rows]
