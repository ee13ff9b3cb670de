"""Several processes on one store: the registry, one deliverer at a time, fenced claims."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.store import journal
from bot.store.cluster import (
    ProcessInfo,
    acquire,
    backlog,
    deliverer,
    forget_processes,
    get_lease,
    heartbeat,
    holds,
    processes,
    register,
    release,
    status,
    stopped,
)
from bot.store.db import Store
from bot.store.engine import Connection
from bot.store.guilds import GuildDefaults, claim_due, get_guild, transaction, update_settings
from bot.store.ledger import DigestRun

NOW = datetime(2025, 3, 10, 6, 0, tzinfo=UTC)  # a Monday; servers run at 08:00 UTC by default
DUE = NOW + timedelta(hours=3)
T0 = 1_741_586_400_000_000  # wall-clock microseconds of the processes (any value will do)
TTL = 10_000_000  # a 10-second lease
A = ProcessInfo("host-a:100:aaaaaa", "host-a", 100, "0-3", 8, "1.0")
B = ProcessInfo("host-b:200:bbbbbb", "host-b", 200, "4-7", 8, "1.0")


def active(store: Store, defaults: GuildDefaults, *guild_ids: int) -> None:
    """Servers with a channel and a topic: due at 08:00 on NOW's day."""
    for guild_id in guild_ids:
        update_settings(
            store.conn,
            guild_id,
            {"channel_id": guild_id * 10, "topics": ("AI",)},
            defaults,
            now=NOW,
        )


def test_one_holder_at_a_time(store: Store) -> None:
    first = acquire(store.conn, A.process_id, now_us=T0, ttl_us=TTL)
    assert first is not None
    assert first.holder == A.process_id
    assert acquire(store.conn, B.process_id, now_us=T0 + 1_000_000, ttl_us=TTL) is None
    renewed = acquire(store.conn, A.process_id, now_us=T0 + 2_000_000, ttl_us=TTL)
    assert renewed is not None
    assert renewed.epoch == first.epoch  # a renewal is not a change of holder
    assert renewed.expires_us == T0 + 2_000_000 + TTL
    assert renewed.acquired_us == T0
    # A stops renewing: B is still refused until the lease ran out, then takes it
    assert acquire(store.conn, B.process_id, now_us=T0 + 2_000_000 + TTL - 1, ttl_us=TTL) is None
    taken = acquire(store.conn, B.process_id, now_us=T0 + 2_000_000 + TTL, ttl_us=TTL)
    assert taken is not None
    assert taken.holder == B.process_id
    assert taken.epoch == first.epoch + 1
    # A comes back late: refused, B keeps it
    assert acquire(store.conn, A.process_id, now_us=T0 + 2_000_000 + TTL + 1, ttl_us=TTL) is None
    assert get_lease(store.conn) == taken


def test_replacing_takes_a_live_lease_only_from_that_holder(store: Store) -> None:
    gone = "host-a:300:cccccc"
    held = acquire(store.conn, A.process_id, now_us=T0, ttl_us=TTL)
    assert held is not None
    # replacing someone who does not hold it gives nothing
    assert acquire(store.conn, B.process_id, now_us=T0 + 1, ttl_us=TTL, replacing=gone) is None
    assert get_lease(store.conn) == held
    taken = acquire(store.conn, B.process_id, now_us=T0 + 1, ttl_us=TTL, replacing=A.process_id)
    assert taken is not None
    assert taken.holder == B.process_id
    assert taken.epoch == held.epoch + 1
    # the replaced id is no key to the lease of its successor
    assert acquire(store.conn, gone, now_us=T0 + 2, ttl_us=TTL, replacing=A.process_id) is None


def test_a_clean_stop_releases_the_lease_and_marks_the_process(store: Store) -> None:
    register(store.conn, A, now_us=T0)
    register(store.conn, B, now_us=T0 + 1)
    held = acquire(store.conn, A.process_id, now_us=T0, ttl_us=TTL)
    assert held is not None
    stopped(store.conn, A.process_id, now_us=T0 + 5_000_000)
    lease = get_lease(store.conn)
    assert lease is not None
    assert lease.holder is None
    assert not holds(store.conn, A.process_id, now_us=T0 + 5_000_001)
    assert deliverer(store.conn, now_us=T0 + 5_000_001) is None
    rows = {row.info.process_id: row for row in processes(store.conn)}
    assert rows[A.process_id].stopped_us == T0 + 5_000_000
    assert not rows[A.process_id].alive(T0 + 5_000_001, TTL)
    assert rows[B.process_id].stopped_us is None
    # the other process takes over at once, long before the old expiry
    taken = acquire(store.conn, B.process_id, now_us=T0 + 5_000_001, ttl_us=TTL)
    assert taken is not None
    assert taken.epoch == held.epoch + 1


def test_release_frees_the_lease_only_for_its_holder(store: Store) -> None:
    held = acquire(store.conn, A.process_id, now_us=T0, ttl_us=TTL)
    assert held is not None
    release(store.conn, B.process_id)
    assert holds(store.conn, A.process_id, now_us=T0 + 1)
    release(store.conn, A.process_id)
    assert not holds(store.conn, A.process_id, now_us=T0 + 1)
    assert acquire(store.conn, B.process_id, now_us=T0 + 2, ttl_us=TTL) is not None


def test_holds_is_false_once_the_lease_expired(store: Store) -> None:
    register(store.conn, A, now_us=T0)
    assert acquire(store.conn, A.process_id, now_us=T0, ttl_us=TTL) is not None
    assert holds(store.conn, A.process_id, now_us=T0 + TTL - 1)
    assert not holds(store.conn, B.process_id, now_us=T0 + 1)
    assert not holds(store.conn, A.process_id, now_us=T0 + TTL)
    found = deliverer(store.conn, now_us=T0 + 1)
    assert found is not None
    assert found.info == A
    assert deliverer(store.conn, now_us=T0 + TTL) is None


def test_registry_lists_processes_newest_first_with_their_heartbeat(store: Store) -> None:
    register(store.conn, A, now_us=T0)
    register(store.conn, B, now_us=T0 + 1_000_000)
    heartbeat(store.conn, A.process_id, now_us=T0 + 3_000_000)
    rows = processes(store.conn)
    assert [row.info for row in rows] == [B, A]
    assert rows[1].started_us == T0
    assert rows[1].seen_us == T0 + 3_000_000
    assert rows[1].alive(T0 + 3_000_000 + TTL, TTL)
    assert not rows[1].alive(T0 + 3_000_001 + TTL, TTL)  # not heard from within the lease: gone


def test_forget_processes_drops_only_those_not_heard_from(store: Store) -> None:
    register(store.conn, A, now_us=T0)
    register(store.conn, B, now_us=T0)
    heartbeat(store.conn, B.process_id, now_us=T0 + 3_600_000_000)
    assert forget_processes(store.conn, before_us=T0 + 1_000_000) == 1
    assert [row.info for row in processes(store.conn)] == [B]


def test_a_fence_that_says_no_claims_nothing_and_moves_nothing(
    store: Store, defaults: GuildDefaults
) -> None:
    active(store, defaults, 1, 2)
    before = [get_guild(store.conn, g, defaults).next_run_at for g in (1, 2)]
    assert before[0] is not None
    assert before[0] <= DUE
    asked: list[bool] = []

    def lost(conn: Connection) -> bool:
        asked.append(conn.in_transaction)
        return holds(conn, A.process_id, now_us=T0)  # A holds nothing

    assert claim_due(store.conn, defaults, now=DUE, fence=lost) == []
    assert asked == [True]  # checked inside the claim's transaction
    assert [get_guild(store.conn, g, defaults).next_run_at for g in (1, 2)] == before
    assert backlog(store.conn, now=DUE).due == 2

    assert acquire(store.conn, A.process_id, now_us=T0, ttl_us=TTL) is not None
    fenced = journal.claim(
        store.conn, defaults, now=DUE, fence=lambda c: holds(c, A.process_id, now_us=T0 + 1)
    )
    assert sorted(c.state.settings.guild_id for c in fenced) == [1, 2]


def test_status_counts_due_claimed_and_pending(store: Store, defaults: GuildDefaults) -> None:
    assert backlog(store.conn, now=DUE) == backlog(store.conn, now=NOW)
    empty = status(store.conn, now=DUE)
    assert (empty.processes, empty.lease) == ((), None)
    assert (empty.backlog.due, empty.backlog.claimed, empty.backlog.pending) == (0, 0, 0)

    active(store, defaults, 1, 2, 3)
    update_settings(store.conn, 4, {"channel_id": 40, "paused": True}, defaults, now=NOW)
    assert backlog(store.conn, now=NOW).due == 0  # not due yet
    assert backlog(store.conn, now=DUE).due == 3  # the paused server is not waiting
    claims = claim_due(store.conn, defaults, now=DUE, limit=2)
    assert len(claims) == 2
    first = claims[0]
    run = DigestRun(
        first.run_key, first.state.settings.guild_id, first.channel_id, "scheduled", "pending",
        NOW, DUE, ({"content": "x"},), 0, None, DUE,
    )  # fmt: skip
    journal.begin(store.conn, run, {}, now=DUE)  # the run started: its claim becomes the run
    register(store.conn, A, now_us=T0)
    acquire(store.conn, A.process_id, now_us=T0, ttl_us=TTL)
    found = status(store.conn, now=DUE)
    assert (found.backlog.due, found.backlog.claimed, found.backlog.pending) == (1, 1, 1)
    assert [row.info for row in found.processes] == [A]
    assert found.lease is not None
    assert found.lease.holder == A.process_id


@pytest.fixture
def two_connections(pg_database: str) -> Iterator[tuple[Store, Store]]:
    with Store.open(pg_database) as first, Store.open(pg_database) as second:
        yield first, second


def test_postgresql_leaves_rows_being_claimed_to_their_claimer_without_waiting(
    two_connections: tuple[Store, Store], tmp_path: Path
) -> None:
    """Two deliverers for a moment (one paused past its lease): the second skips the rows the
    first is claiming in its open transaction, instead of waiting for them or claiming them too."""
    first, second = two_connections
    defaults = GuildDefaults.from_settings(
        Settings.model_validate({"articles_dir": tmp_path, "database": tmp_path / "unused"})
    )
    active(first, defaults, *range(1, 6))
    second.conn.execute("SET lock_timeout = '2s'")  # a regression fails fast, never hangs
    with transaction(first.conn):
        taken = claim_due(first.conn, defaults, now=DUE, limit=3)
        assert len(taken) == 3
        others = claim_due(second.conn, defaults, now=DUE)
        assert {c.state.settings.guild_id for c in taken}.isdisjoint(
            c.state.settings.guild_id for c in others
        )
        assert len(others) == 2
    assert backlog(first.conn, now=DUE).claimed == 5
