"""Per-server digest settings and schedule state, on the store's connection (either engine).

Every per-server setting, its bounds, how it is stored (a column named after it) and where its
default comes from is declared once, in `bot.core.server_settings`; an unknown key or a value out
of bounds is an error. Unset values read as the defaults (`GuildDefaults`, from the config).
A settings change recomputes the server's next run at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.models import GuildSettings
from bot.core.schedule import next_run_after
from bot.core.server_settings import (
    SERVER_SETTINGS,
    build_settings,
    check_changes,
    decode,
    encode,
)
from bot.settings import Settings, server_defaults
from bot.store.engine import Connection, PgConnection, begin


@dataclass(frozen=True, slots=True)
class GuildDefaults:
    """What a server has for every setting it has not set: the config's defaults where it sets
    them (`schedule.*`, `digest.*`), the declared ones elsewhere (no channel, no topics)."""

    settings: GuildSettings  # of no server (guild_id 0)

    @classmethod
    def from_settings(cls, settings: Settings) -> GuildDefaults:
        return cls.of(**server_defaults(settings))

    @classmethod
    def of(cls, **values: Any) -> GuildDefaults:
        """The declared defaults with `values` instead (unknown or out of bounds: ValueError)."""
        return cls(build_settings(0, values))


@dataclass(frozen=True, slots=True)
class GuildState:
    """A server's settings (defaults filled in) plus its schedule and health."""

    settings: GuildSettings
    next_run_at: datetime | None = None
    last_run_at: datetime | None = None
    last_result: str | None = None
    failing_reason: str | None = None
    removed_at: datetime | None = None

    @property
    def scheduled(self) -> bool:
        """True when the digest will run by itself (active, not failing, bot still in the server)."""
        return self.settings.active and self.failing_reason is None and self.removed_at is None


def to_ts(value: datetime) -> int:
    """An aware datetime as whole UTC epoch seconds (rounded down)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: times must be timezone-aware")
    return int(value.timestamp() // 1)


def from_ts(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


@contextmanager
def transaction(conn: Connection) -> Iterator[None]:
    """One write transaction (nested calls join the outer one)."""
    if conn.in_transaction:
        yield
        return
    begin(conn)
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


_COLUMN_NAMES = (
    "guild_id",
    *SERVER_SETTINGS,  # a column per setting, named after it
    "next_run_at",
    "last_run_at",
    "last_result",
    "failing_reason",
    "removed_at",
)
_COLUMNS = ", ".join(_COLUMN_NAMES)


def _state(row: Sequence[Any], defaults: GuildDefaults) -> GuildState:
    values = dict(zip(_COLUMN_NAMES, row, strict=True))
    settings = replace(defaults.settings, guild_id=int(values["guild_id"]), **decode(values))
    return GuildState(
        settings=settings,
        next_run_at=from_ts(values["next_run_at"]),
        last_run_at=from_ts(values["last_run_at"]),
        last_result=values["last_result"],
        failing_reason=values["failing_reason"],
        removed_at=from_ts(values["removed_at"]),
    )


def default_state(guild_id: int, defaults: GuildDefaults) -> GuildState:
    """What a server that never configured anything looks like."""
    return GuildState(settings=replace(defaults.settings, guild_id=guild_id))


def get_guild(conn: Connection, guild_id: int, defaults: GuildDefaults) -> GuildState:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM guilds WHERE guild_id = ?",  # noqa: S608 - constant column list
        (guild_id,),
    ).fetchone()
    return default_state(guild_id, defaults) if row is None else _state(row, defaults)


def update_settings(
    conn: Connection,
    guild_id: int,
    changes: Mapping[str, Any],
    defaults: GuildDefaults,
    *,
    now: datetime,
) -> GuildState:
    """Store changed settings (an unknown key or a value out of bounds: ValueError, nothing
    changes; None unsets one), clear a failure, recompute the next run."""
    check_changes(changes)
    stamp = to_ts(now)
    with transaction(conn):
        conn.execute(
            "INSERT INTO guilds (guild_id, created_at, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id) DO NOTHING",
            (guild_id, stamp, stamp),
        )
        if changes:
            assignments = ", ".join(f"{name} = ?" for name in changes)
            values = [encode(name, value) for name, value in changes.items()]
            conn.execute(
                f"UPDATE guilds SET {assignments}, failing_reason = NULL, updated_at = ? "  # noqa: S608 - names are declared settings
                "WHERE guild_id = ?",
                (*values, stamp, guild_id),
            )
        return _reschedule(conn, guild_id, defaults, now)


def _reschedule(
    conn: Connection, guild_id: int, defaults: GuildDefaults, now: datetime
) -> GuildState:
    state = get_guild(conn, guild_id, defaults)
    upcoming = next_run_after(state.settings, now) if state.scheduled else None
    conn.execute(
        "UPDATE guilds SET next_run_at = ? WHERE guild_id = ?",
        (None if upcoming is None else to_ts(upcoming), guild_id),
    )
    return replace(state, next_run_at=upcoming)


def scheduled_run_key(guild_id: int, channel_id: int, scheduled_for: datetime, tz: str) -> str:
    """The identity of a scheduled run: (guild, channel, local date of the scheduled time)."""
    local_date = scheduled_for.astimezone(ZoneInfo(tz)).date().isoformat()
    return f"s:{guild_id}:{channel_id}:{local_date}"


def manual_run_key(guild_id: int, channel_id: int) -> str:
    """A `/digest now` run gets its own identity."""
    return f"m:{guild_id}:{channel_id}:{uuid.uuid4().hex}"


def is_manual(run_key: str) -> bool:
    """True for the key of a `/digest now` run (`manual_run_key`)."""
    return run_key.startswith("m:")


@dataclass(frozen=True, slots=True)
class Claim:
    """A scheduled run the ticker took: to be delivered, or skipped with a reason."""

    run_key: str
    state: GuildState  # the server as it is now (its next run already moved on)
    channel_id: int  # the channel the run was claimed for
    scheduled_for: datetime


def claim_due(
    conn: Connection,
    defaults: GuildDefaults,
    *,
    now: datetime,
    limit: int = 10_000,
    fence: Callable[[Connection], bool] | None = None,
) -> list[Claim]:
    """Claim the servers whose run is due, each with the time it was scheduled for.

    In one transaction, each server's next run is moved on and a claim row is written. The claim
    stays until the run is recorded (`journal.begin` / `journal.empty` delete it in their own
    transaction), so a crash never runs the same occurrence twice, never loses the next one, and
    never loses this one: `open_claims` finds what a crash left behind.

    With several processes, `fence` (e.g. "this process still holds the deliverer lease") is
    checked in the same transaction, and on PostgreSQL the due rows are taken with
    `FOR UPDATE SKIP LOCKED`: rows another transaction is claiming are left to it.
    """
    claimed: list[Claim] = []
    stamp = to_ts(now)
    lock = " FOR UPDATE SKIP LOCKED" if isinstance(conn, PgConnection) else ""
    with transaction(conn):
        if fence is not None and not fence(conn):
            return []
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM guilds WHERE next_run_at IS NOT NULL AND next_run_at <= ? "  # noqa: S608 - constant column list and lock clause
            "AND removed_at IS NULL AND failing_reason IS NULL AND paused = 0 "
            f"ORDER BY next_run_at, guild_id LIMIT ?{lock}",
            (stamp, limit),
        ).fetchall()
        for row in rows:
            state = _state(row, defaults)
            scheduled_for = state.next_run_at or now  # never None: selected on NOT NULL
            upcoming = next_run_after(state.settings, now) if state.settings.active else None
            conn.execute(
                "UPDATE guilds SET next_run_at = ? WHERE guild_id = ?",
                (None if upcoming is None else to_ts(upcoming), state.settings.guild_id),
            )
            channel_id = state.settings.channel_id
            if channel_id is None:  # not active: nothing to deliver (next_run_at is now NULL)
                continue
            key = scheduled_run_key(
                state.settings.guild_id, channel_id, scheduled_for, state.settings.timezone
            )
            conn.execute(
                "INSERT INTO digest_claims (run_key, guild_id, channel_id, scheduled_for, "
                "claimed_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_key) DO NOTHING",
                (key, state.settings.guild_id, channel_id, to_ts(scheduled_for), stamp),
            )
            claimed.append(
                Claim(key, replace(state, next_run_at=upcoming), channel_id, scheduled_for)
            )
    return claimed


def open_claims(conn: Connection, defaults: GuildDefaults) -> list[Claim]:
    """Claims never recorded as a run (the process died or stopped first), oldest first."""
    rows = conn.execute(
        "SELECT run_key, guild_id, channel_id, scheduled_for FROM digest_claims "
        "ORDER BY scheduled_for, run_key"
    ).fetchall()
    return [
        Claim(
            run_key=str(key),
            state=get_guild(conn, int(guild_id), defaults),
            channel_id=int(channel_id),
            scheduled_for=from_ts(scheduled) or datetime.min.replace(tzinfo=UTC),
        )
        for key, guild_id, channel_id, scheduled in rows
    ]


def record_result(
    conn: Connection,
    guild_id: int,
    result: str,
    *,
    last_run_at: datetime | None = None,
) -> None:
    """Remember the outcome of a run; `last_run_at` (the end of its window) when it completed.
    (Delivery records it through `bot.store.journal`, in the transaction of the run's change.)"""
    with transaction(conn):
        if last_run_at is None:
            conn.execute("UPDATE guilds SET last_result = ? WHERE guild_id = ?", (result, guild_id))
        else:
            conn.execute(
                "UPDATE guilds SET last_result = ?, last_run_at = ? WHERE guild_id = ?",
                (result, to_ts(last_run_at), guild_id),
            )


def mark_failing(conn: Connection, guild_id: int, reason: str, *, now: datetime) -> bool:
    """Stop a server's digest with a reason an admin can act on. True if it was not failing yet."""
    with transaction(conn):
        row = conn.execute(
            "SELECT failing_reason FROM guilds WHERE guild_id = ?", (guild_id,)
        ).fetchone()
        if row is None:
            return False
        conn.execute(
            "UPDATE guilds SET failing_reason = ?, next_run_at = NULL, last_result = ?, "
            "updated_at = ? WHERE guild_id = ?",
            (reason, f"failed: {reason}", to_ts(now), guild_id),
        )
        return row[0] is None


def set_removed(
    conn: Connection,
    guild_id: int,
    removed: bool,
    defaults: GuildDefaults,
    *,
    now: datetime,
) -> None:
    """The bot left (schedule stops at once) or came back (schedule resumes) to a server."""
    with transaction(conn):
        conn.execute(
            "UPDATE guilds SET removed_at = ?, updated_at = ? WHERE guild_id = ?",
            (to_ts(now) if removed else None, to_ts(now), guild_id),
        )
        _reschedule(conn, guild_id, defaults, now)


def guilds_using_channel(conn: Connection, channel_id: int) -> list[int]:
    rows = conn.execute(
        "SELECT guild_id FROM guilds WHERE channel_id = ? AND removed_at IS NULL", (channel_id,)
    ).fetchall()
    return [int(row[0]) for row in rows]


def purge_removed(conn: Connection, *, now: datetime, grace_days: int) -> int:
    """Forget the settings of servers the bot left more than `grace_days` ago; returns how many."""
    cutoff = to_ts(now - timedelta(days=grace_days))
    with transaction(conn):
        cursor = conn.execute(
            "DELETE FROM guilds WHERE removed_at IS NOT NULL AND removed_at < ?", (cutoff,)
        )
        return cursor.rowcount


def get_meta(conn: Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM bot_meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: Connection, key: str, value: str) -> None:
    with transaction(conn):
        conn.execute(
            "INSERT INTO bot_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
