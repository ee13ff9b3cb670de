"""A fleet of real `newsbot run` processes on one database, one per gateway shard, against the
fake Discord: the harness of the scale-out test and of `benchmarks/bench_scale_out.py`.

`burst(...)` brings the fleet up, makes every server due at once, stops the delivering process
mid-burst (SIGKILL, or SIGSTOP as a machine that froze or lost its network), and waits until
every server has its digest; it yields while the fleet still runs, then stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from bot.store import cluster
from bot.store.db import Store
from bot.store.guilds import to_ts
from tests.e2e.test_delivery_faults import MESSAGES, Installation
from tests.fake_discord import FakeChannel, FakeDiscord, FakeGuild
from tests.fake_discord.plugin import DiscordEndpoints

Stop = Literal["kill", "freeze"]


class Fleet:
    """One `newsbot run` per shard on the same installation."""

    def __init__(self, install: Installation, tmp_path: Path, shard_count: int) -> None:
        self.install = install
        self.tmp_path = tmp_path
        self.shard_count = shard_count
        self.processes: dict[int, asyncio.subprocess.Process] = {}

    async def start(self, shard: int) -> None:
        env = {
            **self.install.env,
            "NEWSBOT_SHARDS": str(shard),
            "NEWSBOT_SHARD_COUNT": str(self.shard_count),
        }
        with (self.tmp_path / f"shard-{shard}.log").open("ab") as log:
            self.processes[shard] = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run",
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )  # fmt: skip

    def shard_of_pid(self, pid: int) -> int:
        return next(shard for shard, p in self.processes.items() if p.pid == pid)

    def logs(self) -> str:
        return "\n".join(
            f"--- shard {shard}\n"
            + (self.tmp_path / f"shard-{shard}.log").read_text(errors="replace")[-3000:]
            for shard in self.processes
        )

    async def stop(self) -> dict[int, int | None]:
        """SIGTERM every live process; their exit statuses."""
        for process in self.processes.values():
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 60)
        return {shard: p.returncode for shard, p in self.processes.items()}

    async def kill_all(self) -> None:
        for process in self.processes.values():
            if process.returncode is None:
                process.kill()
                await process.wait()


def deliverer_pid(database: Path | str) -> int | None:
    """The pid of the process holding the deliverer lease now."""
    with Store.open(database) as store:
        row = cluster.deliverer(store.conn, now_us=cluster.wall_us())
    return None if row is None else row.info.pid


async def wait_for_deliverer(database: Path | str, within: float = 60.0) -> int:
    deadline = time.monotonic() + within
    while (pid := deliverer_pid(database)) is None:
        if time.monotonic() > deadline:
            raise TimeoutError("no process took the deliverer lease")
        await asyncio.sleep(0.2)
    return pid


def make_all_due(database: Path | str, due: datetime) -> None:
    with Store.open(database) as store, store.transaction():
        store.conn.execute("UPDATE guilds SET next_run_at = ?", (to_ts(due),))


@dataclass
class Burst:
    """What happened: the servers, when each post reached Discord, and the handover."""

    fleet: Fleet
    install: Installation
    guilds: list[FakeGuild]
    channels: list[FakeChannel]
    due_at: float = 0.0  # monotonic: when every server became due
    stopped_at: float | None = None  # when the deliverer was killed or frozen
    dead_shard: int | None = None
    first_pid: int | None = None
    successor_pid: int | None = None
    post_times: list[float] = field(default_factory=list)  # accepted message posts

    def handover_seconds(self) -> float | None:
        """From the stop to the first post accepted after it (by the successor)."""
        if self.stopped_at is None:
            return None
        after = [at for at in self.post_times if at > self.stopped_at + 0.5]
        return None if not after else min(after) - self.stopped_at

    def rate_before_stop(self) -> float:
        """Messages per second between the first and the last post before the stop."""
        end = self.stopped_at if self.stopped_at is not None else max(self.post_times)
        before = [at for at in self.post_times if at <= end]
        return (len(before) - 1) / max(max(before) - min(before), 1e-9)


@contextlib.asynccontextmanager
async def burst(
    fake: FakeDiscord,
    endpoints: DiscordEndpoints,
    tmp_path: Path,
    database: Path | str,
    *,
    servers: int,
    shards: int,
    stop: Stop | None,
    stop_after: int,
    within: float = 240.0,
) -> AsyncIterator[Burst]:
    """Run the scenario (see the module docstring); TimeoutError with the logs if it stalls."""
    fake.shards = shards
    guilds = [fake.add_guild(f"Server {n}", channels=("news",)) for n in range(servers)]
    channels = [next(iter(g.channels.values())) for g in guilds]
    install = Installation(tmp_path, endpoints, fake.token, database)
    install.schedule(channels, datetime.now(UTC) + timedelta(days=1))  # set up, not due yet
    fleet = Fleet(install, tmp_path, shards)
    result = Burst(fleet, install, guilds, channels)

    def posted() -> int:
        return sum(1 for c in channels if fake.messages(c))

    async def wait(predicate: object, what: str) -> None:
        try:
            await fake.wait_until(predicate, within=within)  # type: ignore[arg-type]  # a predicate
        except TimeoutError as exc:
            raise TimeoutError(f"{what} ({posted()} posted):\n{fleet.logs()}") from exc

    try:
        for shard in range(shards):
            await fleet.start(shard)
        await wait(lambda: fake.ready, "the fleet did not connect")
        result.first_pid = await wait_for_deliverer(database)
        make_all_due(database, datetime.now(UTC) - timedelta(seconds=1))
        result.due_at = time.monotonic()
        if stop is not None:
            await wait(lambda: posted() >= stop_after, "the burst did not start")
            pid = deliverer_pid(database)
            if pid is None:
                raise TimeoutError(f"posting, yet no process holds the lease:\n{fleet.logs()}")
            result.dead_shard = fleet.shard_of_pid(pid)
            victim = fleet.processes[result.dead_shard]
            victim.send_signal(signal.SIGKILL if stop == "kill" else signal.SIGSTOP)
            result.stopped_at = time.monotonic()
        await wait(lambda: posted() == servers, "servers never got their digest")
        if stop == "freeze" and result.dead_shard is not None:
            fleet.processes[result.dead_shard].kill()  # a machine that never came back
        result.successor_pid = deliverer_pid(database)
        result.post_times = sorted(
            r.at for r in fake.requests_to("POST", MESSAGES) if r.status == 200
        )
        yield result
    finally:
        await fleet.kill_all()
