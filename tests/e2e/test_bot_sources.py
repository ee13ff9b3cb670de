"""The running bot keeps a Git source fresh on its own (its background task, real git, a tmp
repository) and tells admins in `/digest show` when the source goes stale."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.discord.app import NewsBot
from bot.settings import Settings
from bot.store.async_store import AsyncStore
from bot.store.db import Store
from bot.store.guilds import GuildDefaults
from tests.fake_discord import FakeDiscord
from tests.fake_discord.clients import running
from tests.fake_discord.plugin import DiscordEndpoints
from tests.sources.gitrepo import Origin

pytestmark = pytest.mark.e2e


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def active(reader: Store) -> int:
    """Active articles, read on a connection of the test's own (the bot's is in use)."""
    row = reader.conn.execute("SELECT count(*) FROM articles WHERE retired_at_us IS NULL")
    return int(row.fetchone()[0])


def next_refresh(reader: Store) -> int | None:
    """When the source is due next (set once a refresh is recorded, after its ingest)."""
    row = reader.conn.execute("SELECT next_refresh_us FROM source_state WHERE name = 'site'")
    found = row.fetchone()
    return None if found is None else found[0]


def failing(reader: Store) -> bool:
    row = reader.conn.execute("SELECT last_error FROM source_state WHERE name = 'site'")
    found = row.fetchone()
    return found is not None and found[0] is not None


async def test_bot_refreshes_a_git_source_and_reports_it_stale(
    tmp_path: Path,
    database: Path | str,
    fake_discord: FakeDiscord,
    discord_endpoints: DiscordEndpoints,
) -> None:
    origin = Origin(tmp_path / "origin")
    origin.news("alpha")
    origin.news("beta")
    origin.commit("two articles")
    settings = Settings.model_validate(
        {
            "database": database,
            "sources": ({"name": "site", "git": origin.url, "every": "30m"},),
        }
    )
    assert [s.name for s in settings.all_sources] == ["site"]
    guild = fake_discord.add_guild("News Fans", channels=("general",))
    general = next(iter(guild.channels.values()))
    admin = fake_discord.add_admin(guild)
    clock = Clock()
    store = Store.open(settings.database)
    astore = AsyncStore(store, GuildDefaults.from_settings(settings))
    bot = NewsBot(
        settings=settings,
        store=astore,
        index=None,
        clock=clock,
        rescan=False,
        tick_seconds=3600,
        source_poll_seconds=0.05,
        guild_ready_timeout=0.05,
    )
    reader = store.reader()
    try:
        async with running(bot, fake_discord):
            await fake_discord.wait_until(lambda: active(reader) == 2, within=20)
            # the clock moves only once the refresh is recorded (its ingest commits first)
            await fake_discord.wait_until(lambda: next_refresh(reader) is not None, within=20)
            first_due = next_refresh(reader)
            origin.news("gamma")
            origin.commit("a third article")
            clock.now += timedelta(minutes=29)
            await asyncio.sleep(0.3)  # the task polls every 0.05 s: several looks, none due
            assert active(reader) == 2  # not due yet
            clock.now += timedelta(minutes=2)
            await fake_discord.wait_until(lambda: active(reader) == 3, within=20)
            await fake_discord.wait_until(lambda: next_refresh(reader) != first_due, within=20)

            shutil.move(origin.path, tmp_path / "gone")
            clock.now += timedelta(minutes=31)
            await fake_discord.wait_until(lambda: failing(reader), within=20)
            assert active(reader) == 3  # last good articles kept
            handle = await fake_discord.invoke(guild, general, admin, ["digest", "show"], {})
            await handle.response()
            text = handle.text()
            assert "news source site stale since 2026-03-02 12:31 UTC" in text
        assert not [task for task in bot._tasks if not task.done()]  # cancelled on close
    finally:
        reader.close()
        astore.close()
        store.close()
