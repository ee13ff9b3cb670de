"""Several bot processes on one database: who is running, and which one delivers.

Each `newsbot run` registers a row in `bot_processes` and renews it (its heartbeat) while it runs.
One lease row, `deliverer`, names the process that delivers scheduled digests, re-ingests and
prunes, so the bot token's global rate limit is paced in one place. A process takes the lease
when it is free or expired, and keeps it by renewing it before it expires; every change of holder
raises the lease's `epoch`. A process that dies stops renewing, and another takes over once the
lease expires. A clean stop releases it at once.

The claim of due servers checks, in its own transaction, that the claiming process still holds
the lease (`holds`), so a process that lost it (paused, cut off from the database) claims nothing.
Times are wall-clock microseconds from the processes (keep the machines' clocks in sync, NTP).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from bot.store.engine import Connection
from bot.store.guilds import to_ts, transaction

DELIVERER = "deliverer"


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """What a running process says of itself."""

    process_id: str
    host: str
    pid: int
    shards: str | None  # e.g. "0-3"; None: every shard
    shard_count: int | None  # None: Discord's recommended count
    version: str


@dataclass(frozen=True, slots=True)
class Lease:
    """A lease as stored: its holder (None when released), epoch and expiry."""

    name: str
    holder: str | None
    epoch: int
    acquired_us: int | None
    expires_us: int

    def held_by(self, process_id: str, now_us: int) -> bool:
        return self.holder == process_id and self.expires_us > now_us


@dataclass(frozen=True, slots=True)
class ProcessRow:
    """A registered process with its last heartbeat."""

    info: ProcessInfo
    started_us: int
    seen_us: int
    stopped_us: int | None

    def alive(self, now_us: int, stale_us: int) -> bool:
        """Running as far as the store knows: not stopped, and heard from within `stale_us`."""
        return self.stopped_us is None and now_us - self.seen_us <= stale_us


@dataclass(frozen=True, slots=True)
class Backlog:
    """Scheduled work not done yet."""

    due: int  # servers whose next run is at or before now, not claimed yet
    claimed: int  # runs claimed but not started (a deliverer stopped between the two)
    pending: int  # runs started, some messages not confirmed yet


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    """The processes (newest first), the delivering lease, and the backlog."""

    processes: tuple[ProcessRow, ...]
    lease: Lease | None
    backlog: Backlog


def register(conn: Connection, info: ProcessInfo, *, now_us: int) -> None:
    """Record a starting process (a restart gets a new id: its old row ages out)."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO bot_processes (process_id, host, pid, shards, shard_count, version, "
            "started_us, seen_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (process_id) DO UPDATE SET seen_us = excluded.seen_us, stopped_us = NULL",
            (
                info.process_id,
                info.host,
                info.pid,
                info.shards,
                info.shard_count,
                info.version,
                now_us,
                now_us,
            ),
        )


def heartbeat(conn: Connection, process_id: str, *, now_us: int) -> None:
    with transaction(conn):
        conn.execute(
            "UPDATE bot_processes SET seen_us = ? WHERE process_id = ?", (now_us, process_id)
        )


def stopped(conn: Connection, process_id: str, *, now_us: int) -> None:
    """A clean stop: the process is marked stopped and every lease it holds is released."""
    with transaction(conn):
        conn.execute(
            "UPDATE bot_processes SET stopped_us = ?, seen_us = ? WHERE process_id = ?",
            (now_us, now_us, process_id),
        )
        conn.execute(
            "UPDATE leases SET holder = NULL, expires_us = 0 WHERE holder = ?", (process_id,)
        )


def forget_processes(conn: Connection, *, before_us: int) -> int:
    """Drop the rows of processes not heard from since `before_us` (stopped or dead long ago)."""
    with transaction(conn):
        return conn.execute("DELETE FROM bot_processes WHERE seen_us < ?", (before_us,)).rowcount


def last_seen(conn: Connection, process_id: str) -> int | None:
    """When `process_id` last renewed its heartbeat (None: unknown process)."""
    row = conn.execute(
        "SELECT seen_us FROM bot_processes WHERE process_id = ?", (process_id,)
    ).fetchone()
    return None if row is None else int(row[0])


def get_lease(conn: Connection, name: str = DELIVERER) -> Lease | None:
    row = conn.execute(
        "SELECT name, holder, epoch, acquired_us, expires_us FROM leases WHERE name = ?", (name,)
    ).fetchone()
    if row is None:
        return None
    return Lease(str(row[0]), row[1], int(row[2]), row[3], int(row[4]))


def acquire(
    conn: Connection,
    process_id: str,
    *,
    now_us: int,
    ttl_us: int,
    name: str = DELIVERER,
    replacing: str | None = None,
) -> Lease | None:
    """Take or renew the lease: it is granted when free, expired, already ours, or held by
    `replacing` (a holder known to be dead). Returns the lease when held, else None.

    One conditional UPDATE: of two processes racing for an expired lease, the second finds the
    first's fresh expiry (PostgreSQL re-checks the condition on the updated row) and gets nothing.
    """
    with transaction(conn):
        conn.execute(
            "INSERT INTO leases (name, holder, epoch, expires_us) VALUES (?, NULL, 0, 0) "
            "ON CONFLICT (name) DO NOTHING",
            (name,),
        )
        granted = conn.execute(
            "UPDATE leases SET "
            "epoch = CASE WHEN holder = ? THEN epoch ELSE epoch + 1 END, "
            "acquired_us = CASE WHEN holder = ? THEN acquired_us ELSE ? END, "
            "holder = ?, expires_us = ? "
            "WHERE name = ? AND (holder IS NULL OR holder = ? OR expires_us <= ? OR holder = ?)",
            (
                process_id,
                process_id,
                now_us,
                process_id,
                now_us + ttl_us,
                name,
                process_id,
                now_us,
                replacing or process_id,
            ),
        ).rowcount
        return get_lease(conn, name) if granted else None


def release(conn: Connection, process_id: str, *, name: str = DELIVERER) -> None:
    with transaction(conn):
        conn.execute(
            "UPDATE leases SET holder = NULL, expires_us = 0 WHERE name = ? AND holder = ?",
            (name, process_id),
        )


def holds(conn: Connection, process_id: str, *, now_us: int, name: str = DELIVERER) -> bool:
    """True when `process_id` holds the lease now (read inside the caller's transaction)."""
    row = conn.execute(
        "SELECT 1 FROM leases WHERE name = ? AND holder = ? AND expires_us > ?",
        (name, process_id, now_us),
    ).fetchone()
    return row is not None


def _process(row: tuple[object, ...]) -> ProcessRow:
    process_id, host, pid, shards, shard_count, version, started, seen, stop = row
    info = ProcessInfo(
        process_id=str(process_id),
        host=str(host),
        pid=int(str(pid)),
        shards=None if shards is None else str(shards),
        shard_count=None if shard_count is None else int(str(shard_count)),
        version=str(version),
    )
    return ProcessRow(
        info, int(str(started)), int(str(seen)), None if stop is None else int(str(stop))
    )


def processes(conn: Connection) -> list[ProcessRow]:
    """Every registered process, newest start first."""
    rows = conn.execute(
        "SELECT process_id, host, pid, shards, shard_count, version, started_us, seen_us, "
        "stopped_us FROM bot_processes ORDER BY started_us DESC, process_id"
    ).fetchall()
    return [_process(tuple(row)) for row in rows]


def deliverer(conn: Connection, *, now_us: int) -> ProcessRow | None:
    """The process holding the deliverer lease now (None: nobody delivers at the moment)."""
    lease = get_lease(conn)
    if lease is None or lease.holder is None or lease.expires_us <= now_us:
        return None
    return next((row for row in processes(conn) if row.info.process_id == lease.holder), None)


def backlog(conn: Connection, *, now: datetime) -> Backlog:
    """The scheduled work not done yet at `now`."""
    due = conn.execute(
        "SELECT count(*) FROM guilds WHERE next_run_at IS NOT NULL AND next_run_at <= ? "
        "AND removed_at IS NULL AND failing_reason IS NULL AND paused = 0",
        (to_ts(now),),
    ).fetchone()[0]
    claimed = conn.execute("SELECT count(*) FROM digest_claims").fetchone()[0]
    pending = conn.execute("SELECT count(*) FROM digest_runs WHERE status = 'pending'").fetchone()[
        0
    ]
    return Backlog(int(due), int(claimed), int(pending))


def status(conn: Connection, *, now: datetime) -> ClusterStatus:
    """What `newsbot status` and `/digest show` tell about the processes."""
    return ClusterStatus(tuple(processes(conn)), get_lease(conn), backlog(conn, now=now))


def wall_us() -> int:
    """Now on the lease's clock: this machine's wall clock, in epoch microseconds."""
    return int(time.time() * 1_000_000)
