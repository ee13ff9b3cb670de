"""Resident memory of a running bot: 100k articles in the store, 10,000 servers.

A real `NewsBot` runs in a child process (so its memory is its own) on a store and tantivy index of
100k synthetic articles, with digest settings for 10,000 servers in the store. The fake Discord
(in this process) announces every one of the 10,000 servers over the gateway (GUILD_CREATE each,
split over shards of 1,000 servers as Discord recommends), so discord.py's guild cache is part of
the figure. After the bot is ready it answers a `/news search`, then runs one scheduler tick in
which a share of the servers are due (their digests composed and posted). VmRSS and VmHWM come
from the child's /proc/<pid>/status.

Baselines, same run: a bare python process that imported discord.py, and the bot with an empty
store connected to a fake with one server.

    python -m benchmarks.bench_memory [--quick]
"""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks._fixtures import (
    BENCH_NOW,
    BotProcess,
    bench_settings,
    configure_guilds,
    figure,
    search_database,
)
from bot.store.db import Store

TARGET_MB = 500.0
GUILDS_PER_SHARD = 1000
DUE_SHARE = 0.02
_BARE = (
    "import discord\n"
    "for line in open('/proc/self/status'):\n"
    "    if line.startswith('VmRSS:'):\n"
    "        print(int(line.split()[1]) / 1024)\n"
)


def _bare_python_mb() -> float:
    """VmRSS of a fresh interpreter that imported discord.py."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and a constant script
        [sys.executable, "-c", _BARE], capture_output=True, text=True, check=True, timeout=120
    )
    return float(done.stdout.strip())


async def _bot_memory(folder: Path, articles: int, guilds: int) -> dict[str, Any]:
    """The bot's memory at ready, after a search and after a tick, with the given sizes."""
    from tests.fake_discord import FakeDiscord

    due = BENCH_NOW.replace(second=0, microsecond=0)
    configured_at = due - timedelta(minutes=2)
    if articles:
        database = search_database(folder, articles)
    else:
        database = folder / "newsbot.sqlite3"
        Store.open(database).close()
    fake = FakeDiscord(None)  # the bot's memory is measured; body validation would only cost time
    fake.shards = max(1, math.ceil(guilds / GUILDS_PER_SHARD))
    servers = [fake.add_guild(f"Guild {n}", channels=("news",)) for n in range(guilds)]
    pairs = [(g.id, next(iter(g.channels))) for g in servers]
    due_count = 0
    if articles:
        store = Store.open(database)
        try:
            due_count = configure_guilds(
                store, pairs, bench_settings(database), due=due, configured_at=configured_at,
                due_share=DUE_SHARE,
            )  # fmt: skip
        finally:
            store.close()
    reader = fake.add_member(servers[0], "reader")
    channel = pairs[0][1]
    await fake.start()
    bot: BotProcess | None = None
    try:
        bot = await BotProcess.start(
            database=database,
            api_base=fake.api_base,
            gateway_url=fake.gateway_url,
            token=fake.token,
            now=configured_at,
            within=600.0,
        )
        result: dict[str, Any] = {"ready": bot.ready, "due": due_count}
        if articles:
            await fake.wait_until(lambda: bool(fake.commands()), within=60)
            handle = await fake.invoke(
                servers[0], channel, reader, ["news", "search"], {"query": "power apps"}
            )
            await handle.followup(within=60)
            result["search"] = await bot.command("rss")
            result["tick"] = await bot.command("tick", at=due.isoformat())
        return result
    finally:
        if bot is not None:
            await bot.stop()
        await fake.stop()


def run(quick: bool) -> list[dict[str, Any]]:
    articles, guilds = (3_000, 200) if quick else (100_000, 10_000)
    bare = _bare_python_mb()
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-memory-") as tmp:
        empty = asyncio.run(_bot_memory(Path(tmp) / "empty", 0, 1))
        full = asyncio.run(_bot_memory(Path(tmp) / "full", articles, guilds))
    empty_mb = empty["ready"]["VmRSS"]
    ready, search, tick = full["ready"], full["search"], full["tick"]
    after = max(search["VmRSS"], tick["VmRSS"])
    sizes = (
        f"{ready['articles']:,} articles, {guilds:,} servers in the store, {ready['guilds']:,} "
        f"announced over {ready['shards']} shard(s)"
    )
    return [
        figure(
            "bot RSS after a search and a tick",
            after,
            "MB",
            baseline="bot, empty store, 1 server",
            baseline_value=empty_mb,
            ratio=after / empty_mb,
            target=f"<= {TARGET_MB:.0f} MB",
            met=after <= TARGET_MB if not quick else None,
            notes=(
                f"{sizes}; after search {search['VmRSS']:.0f} MB, after tick {tick['VmRSS']:.0f} MB "
                f"({tick['due']} due, {tick['sent']} sent in {tick['seconds']:.1f} s)"
            ),
        ),
        figure(
            "bot peak RSS (VmHWM) over the run",
            tick["VmHWM"],
            "MB",
            baseline="python + import discord",
            baseline_value=bare,
            ratio=tick["VmHWM"] / bare,
            target=f"<= {TARGET_MB:.0f} MB",
            met=tick["VmHWM"] <= TARGET_MB if not quick else None,
            notes=f"includes start-up ({ready['guilds']:,} GUILD_CREATEs) and the tick's digests",
        ),
        figure(
            "bot RSS when ready",
            ready["VmRSS"],
            "MB",
            baseline="python + import discord",
            baseline_value=bare,
            ratio=ready["VmRSS"] / bare,
            notes=f"{sizes}; ready in {ready['seconds']:.1f} s",
        ),
        figure(
            "bot RSS, empty store, 1 server",
            empty_mb,
            "MB",
            baseline="python + import discord",
            baseline_value=bare,
            ratio=empty_mb / bare,
        ),
    ]


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(row)
