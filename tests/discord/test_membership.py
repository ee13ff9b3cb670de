"""Two bot processes on one store: exactly one delivers, and the other takes over when it stops.

Each `Membership` has its own store connection and a fake wall clock (the lease's time); the
leases last long enough on the local monotonic clock that no test depends on how fast it runs.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.discord.membership import Membership, dead_local_holder, new_process_info
from bot.store import cluster
from bot.store.db import Store

LEASE = 60.0  # long on the monotonic clock: a slow machine never lets it lapse mid-test
BEAT = 2.0


class Wall:
    """The wall clock the processes share, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_741_586_400.0

    def __call__(self) -> float:
        return self.now


class Member:
    """A process's membership with a record of its gained/lost hooks."""

    def __init__(self, database: Path | str, wall: Wall, name: str) -> None:
        self.store = Store.open(database)
        info = new_process_info("0-3", 8, "test")
        self.membership = Membership(
            self.store,
            replace(info, process_id=f"{info.process_id}-{name}"),
            lease_seconds=LEASE,
            heartbeat_seconds=BEAT,
            wall=wall,
        )
        self.events: list[str] = []

        async def gained() -> None:
            self.events.append("gained")

        async def lost() -> None:
            self.events.append("lost")

        self.membership.on_change(gained=gained, lost=lost)

    async def close(self) -> None:
        await self.membership.stop()
        self.store.close()


class Fleet:
    """The processes of one test, on one store and one wall clock."""

    def __init__(self, database: Path | str) -> None:
        self.database = database
        self.wall = Wall()
        self.members: list[Member] = []

    def join(self, name: str) -> Member:
        member = Member(self.database, self.wall, name)
        self.members.append(member)
        return member


@pytest.fixture
async def fleet(database: Path | str) -> AsyncIterator[Fleet]:
    made = Fleet(database)
    yield made
    for member in made.members:
        await member.close()


async def test_exactly_one_of_two_processes_delivers(fleet: Fleet) -> None:
    a, b = fleet.join("a"), fleet.join("b")
    assert await a.membership.start()
    assert not await b.membership.start()
    for _ in range(3):
        await a.membership.beat()
        await b.membership.beat()
    assert a.membership.delivers()
    assert not b.membership.delivers()
    assert (a.events, b.events) == (["gained"], [])
    with a.store.transaction():
        assert a.membership.fence(a.store.conn)
    with b.store.transaction():
        assert not b.membership.fence(b.store.conn)


async def test_a_clean_stop_hands_over_at_the_next_beat(fleet: Fleet) -> None:
    a, b = fleet.join("a"), fleet.join("b")
    await a.membership.start()
    await b.membership.start()
    await a.membership.stop()
    assert not a.membership.delivers()
    await b.membership.beat()  # same wall time: no waiting for the old lease to expire
    assert b.membership.delivers()
    assert b.events == ["gained"]
    lease = cluster.get_lease(b.store.conn)
    assert lease is not None
    assert lease.holder == b.membership.process_id
    stopped = {row.info.process_id: row.stopped_us for row in cluster.processes(b.store.conn)}
    assert stopped[a.membership.process_id] is not None


async def test_a_clean_stop_during_a_heartbeat_still_frees_the_lease(fleet: Fleet) -> None:
    """The bot stops while its heartbeat is talking to the store: the beat must not take the
    lease back after the stop released it (the other process would wait out a whole lease)."""
    a, b = fleet.join("a"), fleet.join("b")
    await a.membership.start()
    await b.membership.start()
    beating = asyncio.create_task(a.membership.beat())
    await asyncio.sleep(0)  # the beat is under way: its heartbeat is with the store
    await a.membership.stop()
    await beating
    assert not a.membership.delivers()
    await b.membership.beat()
    assert b.membership.delivers()


async def test_a_silent_holder_is_replaced_only_after_its_lease_expired(
    fleet: Fleet,
) -> None:
    a, b = fleet.join("a"), fleet.join("b")
    wall = fleet.wall
    await a.membership.start()
    await b.membership.start()
    # a stops beating (frozen, cut off): b keeps asking, and waits out the lease
    wall.now += LEASE - BEAT
    await b.membership.beat()
    assert not b.membership.delivers()
    assert b.events == []
    wall.now += BEAT
    await b.membership.beat()
    assert b.membership.delivers()
    assert b.events == ["gained"]
    # a wakes up: its next beat finds the lease gone, and it stops delivering
    await a.membership.beat()
    assert not a.membership.delivers()
    assert a.events == ["gained", "lost"]
    with a.store.transaction():
        assert not a.membership.fence(a.store.conn)


async def test_a_crashed_holder_on_this_machine_is_replaced_at_once(
    fleet: Fleet, dead_pid: int
) -> None:
    b = fleet.join("b")
    crashed = f"{b.membership.info.host}:{dead_pid}:abcdef"
    now_us = int(fleet.wall() * 1_000_000)
    assert cluster.acquire(b.store.conn, crashed, now_us=now_us, ttl_us=int(LEASE * 1e6))
    assert await b.membership.start()  # the lease still runs, but its holder is gone
    assert b.events == ["gained"]


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process of this machine that has exited."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(child.stdout)


def test_dead_local_holder(dead_pid: int) -> None:
    here = socket.gethostname() or "localhost"
    own = new_process_info(None, None, "test")
    assert dead_local_holder(f"{here}:{dead_pid}:abcdef", here)
    assert not dead_local_holder(own.process_id, here)  # this very process
    assert not dead_local_holder(f"elsewhere:{dead_pid}:abcdef", here)  # can't tell: not ours
    assert not dead_local_holder(f"{here}:{dead_pid}:abcdef", "elsewhere")
    assert not dead_local_holder(None, here)
    assert not dead_local_holder("not-an-id", here)
