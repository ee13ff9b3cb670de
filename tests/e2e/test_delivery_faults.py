"""Delivery under faults, end to end on the fake Discord: a kill mid-burst, a post that hangs.

The kill test runs the real `newsbot run` in a child process (SIGKILL, then a restart on the same
SQLite file); the hang tests run the bot in this process with a fixed clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.discord.app import NewsBot
from bot.settings import Settings
from bot.store.async_store import AsyncStore
from bot.store.db import Store
from bot.store.guilds import GuildDefaults, to_ts, update_settings
from bot.store.ingest import ingest_folders
from tests.fake_discord import FakeChannel, FakeDiscord
from tests.fake_discord.clients import running
from tests.fake_discord.plugin import DiscordEndpoints

pytestmark = pytest.mark.e2e

MESSAGES = "/channels/{channel_id}/messages"
TOPIC = "AI"

ARTICLE = """---
category: news
title: "{title}"
excerpt: "What happened in story {n}, in a sentence."
publishedDateTime: {published}
originalUrl: "https://news{n}.example.com/story/{n}/"
webUrl: "https://news{n}.example.com/story/{n}/"
type: article
quality: {quality}
heat: {heat}
published: true

provider:
  name: Outlet {n}
  domain: news{n}.example.com

topics:
  - {topic}
---
"""


def write_articles(folder: Path, now: datetime, count: int = 3) -> None:
    """`count` distinct articles on TOPIC, published in the hours before `now`."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        published = (now - timedelta(hours=1 + n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = ARTICLE.format(
            n=n,
            title=f"Distinct headline number {n} about {TOPIC} and story {n * 7919}",
            published=published,
            quality=120 - n,
            heat=500 + n,
            topic=TOPIC,
        )
        (folder / f"story-{n}.md").write_text(text, encoding="utf-8")


def embed_urls(messages: list[dict[str, Any]]) -> list[str]:
    return [e["url"] for m in messages for e in m.get("embeds") or [] if e.get("url")]


def assert_each_got_one_digest(fake: FakeDiscord, channels: list[FakeChannel]) -> None:
    """Every channel has the digest, the same one everywhere, and no article twice."""
    missing = [c.name for c in channels if not fake.messages(c)]
    assert missing == [], f"{len(missing)} server(s) never got their digest"
    digests = set()
    for channel in channels:
        posted = fake.messages(channel)
        urls = embed_urls(posted)
        assert urls, channel.name
        assert len(urls) == len(set(urls)), f"an article was posted twice in {channel.name}"
        digests.add((len(posted), tuple(sorted(urls))))
    assert len(digests) == 1, "servers got different digests (a message missing or doubled)"


# -- a kill mid-burst, with the real `newsbot run` ------------------------------------------


SERVERS = 120
KILL_AFTER = 40


class Installation:
    """A config, an articles folder and a database under tmp_path, for `newsbot run`."""

    def __init__(
        self,
        tmp_path: Path,
        endpoints: DiscordEndpoints,
        token: str,
        database: Path | str | None = None,
    ) -> None:
        self.tmp_path = tmp_path
        self.database = database or tmp_path / "data" / "newsbot.sqlite3"
        articles = tmp_path / "articles"
        write_articles(articles, datetime.now(UTC))
        self.config = tmp_path / "newsbot.yaml"
        self.config.write_text(
            f"articles_dir: {articles}\ndatabase: {json.dumps(str(self.database))}\n",
            encoding="utf-8",
        )
        self.env = {
            **os.environ,
            **endpoints.env,
            "DISCORD_TOKEN": token,
            "NEWSBOT_CONFIG": str(self.config),
            "XDG_DATA_HOME": str(tmp_path / "data-home"),  # PostgreSQL: the index goes there
        }
        for name in ("NEWSBOT_DATABASE", "NEWSBOT_ARTICLES_DIR", "DISCORD_TOKEN_FILE"):
            self.env.pop(name, None)
        self.lives = 0

    def schedule(self, channels: list[FakeChannel], due: datetime) -> None:
        """Every server follows TOPIC in its channel, and its digest is due at `due`."""
        settings = Settings.model_validate({"database": self.database})
        with Store.open(self.database) as store:
            defaults = GuildDefaults.from_settings(settings)
            for channel in channels:
                changes = {"channel_id": channel.id, "topics": (TOPIC,)}
                update_settings(store.conn, channel.guild_id, changes, defaults, now=due)
            with store.transaction():
                store.conn.execute("UPDATE guilds SET next_run_at = ?", (to_ts(due),))

    async def start(self) -> asyncio.subprocess.Process:
        self.lives += 1
        log = (self.tmp_path / f"life-{self.lives}.log").open("wb")
        with log:
            return await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run",
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )  # fmt: skip

    def logs(self) -> str:
        return "\n".join(
            (self.tmp_path / f"life-{n}.log").read_text(encoding="utf-8", errors="replace")[-3000:]
            for n in range(1, self.lives + 1)
        )

    def left_over(self) -> tuple[int, int]:
        """(pending runs, open claims) in the database."""
        with Store.open(self.database) as store:
            pending = store.conn.execute(
                "SELECT count(*) FROM digest_runs WHERE status = 'pending'"
            )
            claims = store.conn.execute("SELECT count(*) FROM digest_claims")
            return int(pending.fetchone()[0]), int(claims.fetchone()[0])


@contextlib.contextmanager
def killed_on_exit(process: asyncio.subprocess.Process) -> Iterator[None]:
    try:
        yield
    finally:
        if process.returncode is None:
            process.kill()


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "term"])
async def test_a_kill_mid_burst_loses_no_digest_and_posts_none_twice(
    stop: signal.Signals,
    tmp_path: Path,
    database: Path | str,
    fake_discord: FakeDiscord,
    discord_endpoints: DiscordEndpoints,
) -> None:
    """Issue 11: 120 servers due in the same minute, SIGKILL after ~40 digests, restart. With
    SIGTERM, the shutdown's drain time runs out (the posts hang) and the process exits."""
    guilds = [fake_discord.add_guild(f"Server {n}", channels=("news",)) for n in range(SERVERS)]
    channels = [next(iter(g.channels.values())) for g in guilds]
    install = Installation(tmp_path, discord_endpoints, fake_discord.token, database)
    install.schedule(channels, datetime.now(UTC) - timedelta(seconds=10))

    def posted() -> int:
        return sum(1 for c in channels if fake_discord.messages(c))

    first = await install.start()
    with killed_on_exit(first):
        try:
            await fake_discord.wait_until(lambda: posted() >= KILL_AFTER, within=120)
        except TimeoutError:
            pytest.fail(f"the first life posted {posted()} digests:\n{install.logs()}")
        # from now on Discord takes each post but its answer never comes back: the kill lands
        # while posts are in flight, some of which Discord has already accepted
        lost = fake_discord.fail("POST", MESSAGES, status=None, hang="answer", times=10**6)
        await fake_discord.wait_until(lambda: lost.held > 0, within=30)
        first.send_signal(stop)
        await asyncio.wait_for(first.wait(), 60)
    if stop == signal.SIGTERM:  # a clean exit, though the drain ran out with posts in flight
        assert first.returncode == 0, install.logs()
        assert "Traceback" not in install.logs()
    assert posted() < SERVERS  # the kill came mid-burst
    fake_discord.clear_faults()
    fake_discord.release_hung()

    second = await install.start()
    with killed_on_exit(second):
        try:
            await fake_discord.wait_until(lambda: posted() == SERVERS, within=120)
        except TimeoutError:
            pytest.fail(f"{SERVERS - posted()} servers never got their digest:\n{install.logs()}")
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 60) == 0, install.logs()
    assert_each_got_one_digest(fake_discord, channels)
    assert install.left_over() == (0, 0)


# -- a post that hangs, with the bot in this process ----------------------------------------


NOW = datetime(2025, 3, 10, 7, 0, tzinfo=UTC)
DUE = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@contextlib.asynccontextmanager
async def bot_with_servers(
    tmp_path: Path,
    fake: FakeDiscord,
    channels: list[FakeChannel],
    *,
    post_timeout: float,
    database: Path | str,
) -> AsyncIterator[tuple[NewsBot, Clock]]:
    """A started bot whose servers all follow TOPIC, due at DUE; the clock still at NOW."""
    articles = tmp_path / "articles"
    write_articles(articles, NOW)
    settings = Settings.model_validate(
        {
            "articles_dir": articles,
            "database": database,
            "delivery": {"request_timeout_seconds": post_timeout},
        }
    )
    clock = Clock(NOW)
    store = Store.open(settings.database)
    ingest_folders(store, None, [articles], max_file_bytes=1_048_576, now=NOW)
    astore = AsyncStore(store, GuildDefaults.from_settings(settings))
    bot = NewsBot(
        settings=settings,
        store=astore,
        index=None,
        clock=clock,
        rescan=False,
        tick_seconds=3600,
        retry_base_seconds=0.0,
        guild_ready_timeout=0.05,
    )
    try:
        async with running(bot, fake):
            for channel in channels:
                changes = {"channel_id": channel.id, "topics": (TOPIC,), "time": DUE.time()}
                await astore.update_guild(channel.guild_id, changes, now=NOW)
            yield bot, clock
    finally:
        astore.close()
        store.close()


def servers(fake: FakeDiscord, count: int) -> list[FakeChannel]:
    guilds = [fake.add_guild(f"Server {n}", channels=("news",)) for n in range(count)]
    return [next(iter(g.channels.values())) for g in guilds]


async def test_a_post_whose_answer_never_comes_is_retried_with_the_same_nonce(
    tmp_path: Path,
    database: Path | str,
    fake_discord: FakeDiscord,
    discord_endpoints: DiscordEndpoints,
) -> None:
    channels = servers(fake_discord, 3)
    stuck = channels[1]
    async with bot_with_servers(
        tmp_path, fake_discord, channels, post_timeout=0.5, database=database
    ) as (bot, clock):
        # Discord takes the post, then the connection hangs: no answer, ever
        hung = fake_discord.fail(
            "POST", f"/channels/{stuck.id}/messages", status=None, hang="answer"
        )
        clock.now = DUE
        report = await asyncio.wait_for(bot.scheduler.tick(), 60)  # not aiohttp's 300 s
        assert sorted(o.outcome for o in report.outcomes) == ["sent"] * 3
        assert hung.held == 1  # the first attempt is still hanging; the bot moved on
        assert bot.deliverer.stats.timeouts == 1
    # the hung first attempt created the message; the answered retry carried the same nonce
    path = f"/channels/{stuck.id}/messages"
    answered = [r for r in fake_discord.requests_to("POST", MESSAGES) if r.path == path]
    assert [r.body["nonce"] for r in answered] == [m["nonce"] for m in fake_discord.messages(stuck)]
    assert_each_got_one_digest(fake_discord, channels)  # and did not post a second copy


async def test_a_hanging_post_does_not_hold_up_other_servers(
    tmp_path: Path,
    database: Path | str,
    fake_discord: FakeDiscord,
    discord_endpoints: DiscordEndpoints,
) -> None:
    channels = servers(fake_discord, 4)
    stuck = channels[0]
    async with bot_with_servers(
        tmp_path, fake_discord, channels, post_timeout=120, database=database
    ) as (bot, clock):
        hung = fake_discord.fail(
            "POST", f"/channels/{stuck.id}/messages", status=None, hang="request"
        )
        clock.now = DUE
        tick = asyncio.create_task(bot.scheduler.tick())
        others = channels[1:]
        await fake_discord.wait_until(lambda: all(fake_discord.messages(c) for c in others))
        assert hung.held == 1
        assert fake_discord.messages(stuck) == []
        assert not tick.done()
        fake_discord.release_hung()  # Discord answers at last
        report = await asyncio.wait_for(tick, 60)
        assert sorted(o.outcome for o in report.outcomes) == ["sent"] * 4
    assert_each_got_one_digest(fake_discord, channels)


async def test_429_and_503_are_retried_after_retry_after_with_the_same_nonce(
    tmp_path: Path,
    database: Path | str,
    fake_discord: FakeDiscord,
    discord_endpoints: DiscordEndpoints,
) -> None:
    channels = servers(fake_discord, 2)
    limited, unavailable = (f"/channels/{c.id}/messages" for c in channels)
    async with bot_with_servers(
        tmp_path, fake_discord, channels, post_timeout=15, database=database
    ) as (bot, clock):
        # a 429 discord.py does not retry by itself (no Via header), and a 503 it does not retry
        fake_discord.fail("POST", limited, status=429, via=False, retry_after=0.4)
        fake_discord.fail("POST", unavailable, status=503)
        clock.now = DUE
        report = await asyncio.wait_for(bot.scheduler.tick(), 60)
        assert sorted(o.outcome for o in report.outcomes) == ["sent"] * 2
        assert bot.deliverer.stats.retries == 2
    assert_each_got_one_digest(fake_discord, channels)
    posts = fake_discord.requests_to("POST", MESSAGES)
    refused, retried = [r for r in posts if r.path == limited][:2]
    assert (refused.status, retried.status) == (429, 200)
    assert retried.body["nonce"] == refused.body["nonce"]
    assert retried.at - refused.at >= 0.4  # not before the retry_after Discord asked for
    failed, again = [r for r in posts if r.path == unavailable][:2]
    assert (failed.status, again.status) == (503, 200)
    assert again.body["nonce"] == failed.body["nonce"]
