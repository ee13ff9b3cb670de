"""This process among the bot's processes: its heartbeat, and whether it is the deliverer.

Every `newsbot run` registers itself in the store and renews its row every `heartbeat_seconds`;
at the same beat it takes or renews the `deliverer` lease (`bot.store.cluster`). The holder runs
the scheduled digests, re-ingest and pruning; the others answer interactions of their shards and
keep their search index in step with the store. When the deliverer dies, its lease expires after
`lease_seconds` and the next beat of another process takes it over (so a handover takes at most
`lease_seconds + heartbeat_seconds`). A holder on this same machine whose process is gone (a
crash) and that missed two heartbeats is replaced at once. A clean stop releases the lease.

The membership talks to the store on its own connection and thread, so a long write on the
store's writer (a re-ingest) never delays a renewal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from bot.store import cluster
from bot.store.cluster import Lease, ProcessInfo
from bot.store.db import Store
from bot.store.engine import Connection

log = logging.getLogger(__name__)

_T = TypeVar("_T")
Wall = Callable[[], float]
Hook = Callable[[], Awaitable[None]]


def new_process_info(shards: str | None, shard_count: int | None, version: str) -> ProcessInfo:
    """This process: a fresh id (host:pid:random) at every start."""
    host = socket.gethostname() or "localhost"
    pid = os.getpid()
    return ProcessInfo(
        f"{host}:{pid}:{secrets.token_hex(3)}", host, pid, shards, shard_count, version
    )


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


def dead_local_holder(holder: str | None, host: str) -> bool:
    """True when `holder` is a process of this machine that no longer runs (a crash)."""
    if holder is None:
        return False
    parts = holder.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    return pid != os.getpid() and _pid_gone(pid)


class Membership:
    """Registers this process, renews its heartbeat and the deliverer lease, and says so."""

    def __init__(
        self,
        store: Store,
        info: ProcessInfo,
        *,
        lease_seconds: float,
        heartbeat_seconds: float,
        wall: Wall = time.time,
    ) -> None:
        self.store = store
        self.info = info
        self.lease_seconds = lease_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.wall = wall
        self.lease: Lease | None = None
        self._held_until = 0.0  # monotonic: after this, the lease may be someone else's
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsbot-member")
        self._on_gain: list[Hook] = []
        self._on_loss: list[Hook] = []
        self._stopped = False

    @property
    def process_id(self) -> str:
        return self.info.process_id

    def on_change(self, *, gained: Hook, lost: Hook) -> None:
        """Call `gained` when this process becomes the deliverer, `lost` when it stops being it."""
        self._on_gain.append(gained)
        self._on_loss.append(lost)

    def delivers(self) -> bool:
        """This process holds the deliverer lease (by its own clock, with no store round trip)."""
        return self.lease is not None and time.monotonic() < self._held_until

    def fence(self, conn: Connection) -> bool:
        """For a claim's transaction: this process holds the lease according to the store."""
        return cluster.holds(conn, self.process_id, now_us=self._now_us())

    def _has_stopped(self) -> bool:
        return self._stopped  # a call: read anew after an await (no narrowing)

    def _now_us(self) -> int:
        return int(self.wall() * 1_000_000)

    async def _call(self, fn: Callable[..., _T], *args: object, **kwargs: object) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    async def start(self) -> bool:
        """Register, then try for the lease once (a lone process delivers from its first tick).
        Returns whether this process delivers."""
        await self._call(cluster.register, self.store.conn, self.info, now_us=self._now_us())
        await self.beat(register=False)
        return self.delivers()

    async def beat(self, *, register: bool = True) -> None:
        """One heartbeat: renew this process's row and take or renew the lease (nothing once
        stopped: a beat under way when `stop` runs never takes the released lease back)."""
        if self._stopped:
            return
        before = self.delivers()
        started = time.monotonic()
        try:
            if register:
                await self._call(
                    cluster.heartbeat, self.store.conn, self.process_id, now_us=self._now_us()
                )
            lease = await self._call(self._acquire)
        except Exception as exc:  # the database is unreachable: keep what we have until expiry
            log.warning("could not renew this process's lease: %s", exc)
            lease = self.lease if self.delivers() else None
        else:
            if lease is not None:
                self._held_until = started + self.lease_seconds
        if self._has_stopped():  # stopped meanwhile: the lease stays released
            return
        self.lease = lease
        now = self.delivers()
        if now and not before:
            # at start-up (a lone process always delivers) this is no news: `newsbot status`
            # shows it; a takeover later on is
            log.log(
                logging.INFO if register else logging.DEBUG,
                "this process (%s) now delivers the scheduled digests (lease epoch %d)",
                self.process_id,
                lease.epoch if lease else 0,
            )
            for hook in self._on_gain:
                await hook()
        elif before and not now:
            log.warning(
                "this process (%s) no longer delivers: the lease went to another", self.process_id
            )
            for hook in self._on_loss:
                await hook()

    def _acquire(self) -> Lease | None:
        if self._stopped:  # `stop` was called: its release may already have run on this thread
            return None
        now_us = self._now_us()
        ttl_us = int(self.lease_seconds * 1_000_000)
        conn = self.store.conn
        current = cluster.get_lease(conn)
        holder = current.holder if current is not None else None
        replacing = None
        if dead_local_holder(holder, self.info.host) and self._silent(holder, now_us):
            replacing = holder
        if replacing and current is not None and current.expires_us > now_us:
            log.info("the deliverer %s on this machine is gone: taking over at once", replacing)
        return cluster.acquire(
            conn, self.process_id, now_us=now_us, ttl_us=ttl_us, replacing=replacing
        )

    def _silent(self, process_id: str | None, now_us: int) -> bool:
        """No heartbeat from `process_id` for two beats (a live process with the same host name
        in another pid namespace, e.g. a container, keeps beating and is never replaced early)."""
        seen = cluster.last_seen(self.store.conn, process_id) if process_id else None
        return seen is None or now_us - seen > 2 * self.heartbeat_seconds * 1_000_000

    async def run_forever(self) -> None:
        """Beat every `heartbeat_seconds` until cancelled."""
        while not self._stopped:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("heartbeat failed")

    async def stop(self) -> None:
        """A clean stop: marked stopped, the lease released for another process to take now."""
        if self._stopped:
            return
        self._stopped = True
        self.lease = None
        with contextlib.suppress(Exception):
            await self._call(
                cluster.stopped, self.store.conn, self.process_id, now_us=self._now_us()
            )
        self._executor.shutdown(wait=True)
