"""Shared helpers of the bot-side benchmarks (delivery, interactions, memory).

- stores of synthetic articles (the Zipf articles of `bench_search`), with a search index, built
  once per process in a temporary folder and copied for each use;
- per-server digest settings written through the bot's own `update_settings`;
- Discord's OpenAPI validators for the fake Discord of `tests/fake_discord`;
- a real `NewsBot` in a child process (`BotProcess`), so that its timing and its memory are its
  own, driven over stdin/stdout with one JSON line per event.

Everything generated lives under a temporary folder, never in the repository.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from benchmarks.bench_search import NOW as SEARCH_NOW
from benchmarks.bench_search import TOPICS, make_articles
from benchmarks.run import figure
from bot.core.models import Article
from bot.settings import Settings
from bot.store.db import Store
from bot.store.guilds import GuildDefaults, transaction, update_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = PROJECT_ROOT.parent / "shared" / "discord-api-spec" / "openapi.json"
#: The business time of the benchmarks (the newest synthetic article is just before it).
BENCH_NOW = SEARCH_NOW
__all__ = [
    "BENCH_NOW",
    "TOPICS",
    "BotProcess",
    "bench_settings",
    "configure_guilds",
    "figure",
    "fill_store",
    "percentile",
    "proc_rss_mb",
    "recent_articles",
    "search_database",
    "spec_validators",
]


# -- figures --------------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; NaN for no samples."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def proc_rss_mb(pid: int | str = "self") -> dict[str, float]:
    """VmRSS (resident now) and VmHWM (peak resident) of a process, in MB (Linux /proc)."""
    values: dict[str, float] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values


# -- data -----------------------------------------------------------------------------------


def recent_articles(
    count: int, *, now: datetime = BENCH_NOW, hours: float = 48.0, seed: int = 5
) -> list[Article]:
    """`count` synthetic articles published in the `hours` before `now` (ids `bench…`)."""
    rng = random.Random(seed)
    return [
        replace(a, published=now - timedelta(seconds=rng.uniform(1, hours * 3600)))
        for a in make_articles(count, seed=seed)
    ]


def fill_store(store: Store, articles: Sequence[Article]) -> None:
    with store.transaction():
        for article in articles:
            store.put_article(article, source_path=None, source_digest=None)


@functools.cache
def _template_folder() -> tempfile.TemporaryDirectory[str]:
    """One temporary folder per process for built databases (kept by the cache, removed at exit)."""
    return tempfile.TemporaryDirectory(prefix="newsbot-bench-fixtures-")


@functools.cache
def _built_search_database(count: int) -> Path:
    """Build once: `count` articles (bench_search's generator) in a store and a synced index."""
    from bot.search.index import SearchIndex

    database = Path(_template_folder().name) / f"articles-{count}" / "newsbot.sqlite3"
    store = Store.open(database)
    try:
        fill_store(store, make_articles(count))
        index = SearchIndex.open(database.with_name(database.name + ".index"))
        index.sync(store)
        index.close()
    finally:
        store.close()
    return database


def search_database(dest: Path, count: int) -> Path:
    """A copy, in folder `dest`, of a database of `count` articles with its search index.

    The first call for a `count` builds it (100k articles: about 40 s); later calls copy it.
    """
    built = _built_search_database(count)
    dest.mkdir(parents=True, exist_ok=True)
    database = dest / built.name
    shutil.copy2(built, database)
    index = built.with_name(built.name + ".index")
    shutil.copytree(index, database.with_name(database.name + ".index"))
    return database


def bench_settings(
    database: Path | str, *, articles_dir: Path | None = None, **overrides: Any
) -> Settings:
    """Default settings with the database (a SQLite file, or a PostgreSQL URL) and the articles
    folder (by default an empty one beside a SQLite file; a URL needs `articles_dir`)."""
    articles = articles_dir
    if articles is None:
        if not isinstance(database, Path):
            raise ValueError("a PostgreSQL database needs an articles_dir")
        articles = database.parent / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    return Settings.model_validate({"articles_dir": articles, "database": database, **overrides})


def configure_guilds(
    store: Store,
    guilds: Sequence[tuple[int, int]],
    settings: Settings,
    *,
    due: datetime,
    configured_at: datetime,
    due_share: float = 1.0,
    seed: int = 3,
) -> int:
    """Give each (guild, channel) an active digest through the bot's own `update_settings`.

    A share `due_share` of them is scheduled at `due` (UTC); the others at other minutes of the
    day. Topics, per-topic counts and quality floors vary per server. Returns how many are due.
    """
    rng = random.Random(seed)
    defaults = GuildDefaults.from_settings(settings)
    at_due = clock_time(due.hour, due.minute)
    due_count = 0
    with transaction(store.conn):
        for guild_id, channel_id in guilds:
            is_due = rng.random() < due_share
            due_count += is_due
            minute = rng.randrange(24 * 60)
            changes: dict[str, Any] = {
                "channel_id": channel_id,
                "topics": tuple(rng.sample(TOPICS, rng.randint(1, 3))),
                "time": at_due if is_due else clock_time(minute // 60, minute % 60),
                "timezone": "UTC",
                "per_topic": rng.choice((3, 3, 5)),
                "min_quality": rng.choice((0, 0, 40)),
            }
            update_settings(store.conn, guild_id, changes, defaults, now=configured_at)
    return due_count


# -- the fake Discord -----------------------------------------------------------------------


def spec_validators() -> Any:
    """Discord's OpenAPI validators for the fake (None when ../shared is absent)."""
    from tests.fake_discord import SpecValidators

    return SpecValidators.from_path(SPEC_PATH) if SPEC_PATH.is_file() else None


# -- a bot in a child process ---------------------------------------------------------------


@dataclass
class BotProcess:
    """A real `NewsBot` in a child process, connected to a fake Discord in this process.

    Start with `await BotProcess.start(...)`; `await bot.command("tick", at=...)` asks the child
    for a scheduler tick at that business time, `await bot.command("rss")` for its memory.
    """

    process: asyncio.subprocess.Process
    ready: dict[str, Any]

    @classmethod
    async def start(
        cls,
        *,
        database: Path | str,
        api_base: str,
        gateway_url: str,
        token: str,
        now: datetime,
        within: float = 180.0,
        pacing: bool = True,
        auto_sync: bool = True,
        articles_dir: Path | None = None,
        data_home: Path | None = None,
    ) -> BotProcess:
        """Start the child; `pacing=False` switches the bot's own pacing off (discord.py alone).

        `database` is a SQLite file or a PostgreSQL URL (which needs `articles_dir`, the folder
        the bot re-scans); `data_home` is the child's XDG_DATA_HOME (where a PostgreSQL
        installation keeps its search index)."""
        env = {**os.environ, "PYTHONPATH": _pythonpath()}
        if data_home is not None:
            env["XDG_DATA_HOME"] = str(data_home)
        config = {
            "database": database if isinstance(database, str) else str(database),
            "url": isinstance(database, str),
            "articles_dir": None if articles_dir is None else str(articles_dir),
            "api_base": api_base,
            "gateway_url": gateway_url,
            "token": token,
            "now": now.isoformat(),
            "pacing": pacing,
            "auto_sync": auto_sync,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks._fixtures",
            json.dumps(config),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=PROJECT_ROOT,
            env=env,
        )
        bot = cls(process, {})
        try:
            bot.ready = await bot._read(within)
        except BaseException:
            await bot.stop()
            raise
        return bot

    @property
    def pid(self) -> int:
        return self.process.pid

    async def _read(self, within: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), within)
        if not line:
            code = await self.process.wait()
            raise RuntimeError(f"the bot process ended (exit {code}); see its stderr above")
        answer: dict[str, Any] = json.loads(line)
        if answer.get("event") == "error":
            raise RuntimeError(f"the bot process failed: {answer.get('error')}")
        return answer

    async def command(self, name: str, *, within: float = 600.0, **args: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps({"command": name, **args}) + "\n").encode())
        await self.process.stdin.drain()
        return await self._read(within)

    async def stop(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(Exception):
                await self.command("quit", within=30.0)
            try:
                await asyncio.wait_for(self.process.wait(), 30.0)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def _pythonpath() -> str:
    """The project first, then whatever PYTHONPATH the caller had."""
    return os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _emit(event: str, **data: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **data}, default=str) + "\n")
    sys.stdout.flush()


async def _serve(config: dict[str, Any]) -> None:
    """Child side of `BotProcess`: the bot as `bot.discord.app.main` builds it, plus a command loop."""
    from bot.discord.app import NewsBot, apply_discord_endpoints
    from bot.discord.pacing import ChannelSpacer, WindowLimiter
    from bot.search.index import SearchIndex
    from bot.store.async_store import AsyncStore

    database: Path | str = config["database"] if config.get("url") else Path(config["database"])
    articles_dir = config.get("articles_dir")
    settings = bench_settings(
        database, articles_dir=None if articles_dir is None else Path(articles_dir)
    )
    clock = _Clock(datetime.fromisoformat(config["now"]))
    gateway = apply_discord_endpoints(
        {"DISCORD_API_BASE": config["api_base"], "DISCORD_GATEWAY_URL": config["gateway_url"]}
    )
    store = Store.open(database)
    index = SearchIndex.open(settings.index_dir)
    astore = AsyncStore(store, GuildDefaults.from_settings(settings))
    bot = NewsBot(
        settings=settings,
        store=astore,
        index=index,
        clock=clock,
        gateway_url=gateway,
        tick_seconds=3600.0,
        rescan=False,
        auto_sync=bool(config.get("auto_sync", True)),
        guild_ready_timeout=0.5,
    )
    if not config.get("pacing", True):  # discord.py alone: no global pacing, no channel spacing
        bot.pacer.global_limit = WindowLimiter(10**9)
        bot.pacer.channels = ChannelSpacer(10**9, 1e-6)

    async def no_identify_delay(shard_id: int | None, *, initial: bool = False) -> None:
        return  # discord.py waits 5 s between shards; a local fake needs no such spacing

    bot.before_identify_hook = no_identify_delay  # type: ignore[method-assign]
    started = time.perf_counter()
    runner = asyncio.create_task(bot.start(config["token"]))
    ready = asyncio.create_task(bot.wait_until_ready())
    try:
        done, _ = await asyncio.wait({runner, ready}, return_when="FIRST_COMPLETED")
        if runner in done:
            runner.result()
            raise RuntimeError("the bot stopped before it became ready")
        _emit(
            "ready",
            seconds=time.perf_counter() - started,
            guilds=len(bot.guilds),
            shards=bot.shard_count,
            articles=store.article_count(),
            **proc_rss_mb(),
        )
        loop = asyncio.get_running_loop()
        rescan: asyncio.Task[None] | None = None
        began = time.perf_counter()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            request = json.loads(line)
            name = request.get("command")
            if name == "quit":
                break
            if name == "tick":
                clock.now = datetime.fromisoformat(request["at"])
                begun = time.perf_counter()
                report = await bot.scheduler.tick()
                outcomes = [o.outcome for o in report.outcomes]
                _emit(
                    "tick",
                    seconds=time.perf_counter() - begun,
                    due=report.due,
                    sent=outcomes.count("sent"),
                    outcomes={o: outcomes.count(o) for o in sorted(set(outcomes))},
                    messages=bot.deliverer.stats.messages_sent,
                    rate_limited=bot.deliverer.stats.rate_limited,
                    **proc_rss_mb(),
                )
            elif name == "rescan":  # the bot's own re-scan of its articles folder, started
                began = time.perf_counter()
                rescan = asyncio.create_task(bot.rescan_articles())
                _emit("rescan")
            elif name == "rescanned":  # ... and awaited: its seconds since "rescan"
                if rescan is not None:
                    await rescan
                    rescan = None
                _emit("rescanned", seconds=time.perf_counter() - began)
            elif name == "compose":
                _emit("compose", seconds=await _compose(bot, request["guilds"], request["at"]))
            else:
                _emit(name or "rss", **proc_rss_mb())
    finally:
        ready.cancel()
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(runner, 10.0)
        astore.close()
        index.close()
        store.close()
        _emit("closed")


async def _compose(bot: Any, guild_ids: Sequence[int], at: str) -> float:
    """Seconds to compose (pool + digest + payloads) the digests of these servers at `at`,
    with the deliverer's own steps (ledger look-ups included), posting nothing."""
    now = datetime.fromisoformat(at)
    states = [await bot.store.guild(guild_id) for guild_id in guild_ids]
    begun = time.perf_counter()
    pool = await bot.deliverer.build_pool(states, now)
    for state in states:
        digest, _, _ = await bot.deliverer.compose(state, pool, now)
        if digest is not None:
            bot.deliverer.render(digest, silent=state.settings.silent)
    return time.perf_counter() - begun


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m benchmarks._fixtures '<json config>'`: run a bot for `BotProcess`."""
    args = sys.argv[1:] if argv is None else list(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # discord.py warns about voice support and about every 429 it retries (counted by the fake)
    logging.getLogger("discord").setLevel(logging.ERROR)
    try:
        asyncio.run(_serve(json.loads(args[0])))
    except Exception as exc:
        _emit("error", error=f"{type(exc).__name__}: {exc}")
        raise
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
