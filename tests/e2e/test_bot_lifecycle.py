"""Joining, leaving and losing the digest channel, with the real bot on the fake Discord."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
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

pytestmark = pytest.mark.e2e

NOW = datetime(2025, 3, 10, 6, 0, tzinfo=UTC)


@contextlib.asynccontextmanager
async def started(
    tmp_path: Path, fake: FakeDiscord, database: Path | str
) -> AsyncIterator[NewsBot]:
    settings = Settings.model_validate({"articles_dir": tmp_path, "database": database})
    store = Store.open(settings.database)
    astore = AsyncStore(store, GuildDefaults.from_settings(settings))
    bot = NewsBot(
        settings=settings,
        store=astore,
        index=None,
        clock=lambda: NOW,
        rescan=False,
        tick_seconds=3600,
        guild_ready_timeout=0.05,
    )
    try:
        async with running(bot, fake):
            yield bot
    finally:
        astore.close()
        store.close()


async def test_join_hint_leave_and_channel_deletion(
    tmp_path: Path,
    database: Path | str,
    fake_discord: FakeDiscord,
    discord_endpoints: DiscordEndpoints,
) -> None:
    home = fake_discord.add_guild("Home", channels=("general", "news"))
    general, news = list(home.channels.values())[:2]
    async with started(tmp_path, fake_discord, database) as bot:
        await bot.store.update_guild(home.id, {"channel_id": news.id, "topics": ("AI",)}, now=NOW)
        await fake_discord.delete_channel(news)
        await fake_discord.wait_until(lambda: _failing(bot, home.id), within=5)
        state = await bot.store.guild(home.id)
        assert "deleted" in (state.failing_reason or "")
        assert state.next_run_at is None

        newcomer = fake_discord.add_guild("Newcomer", channels=("welcome",))
        welcome = next(iter(newcomer.channels.values()))
        await fake_discord.join(newcomer)
        await fake_discord.wait_until(lambda: bool(fake_discord.messages(welcome)), within=5)
        hint = fake_discord.messages(welcome)[0]["content"]
        assert "/digest channel" in hint

        await bot.store.update_guild(
            newcomer.id, {"channel_id": welcome.id, "topics": ("AI",)}, now=NOW
        )
        await fake_discord.remove(newcomer)
        await fake_discord.wait_until(lambda: _removed(bot, newcomer.id), within=5)
        gone = await bot.store.guild(newcomer.id)
        assert gone.next_run_at is None
    assert general.id in home.channels


def _failing(bot: NewsBot, guild_id: int) -> bool:
    row = bot.store.conn.execute(
        "SELECT failing_reason FROM guilds WHERE guild_id = ?", (guild_id,)
    ).fetchone()
    return row is not None and row[0] is not None


def _removed(bot: NewsBot, guild_id: int) -> bool:
    row = bot.store.conn.execute(
        "SELECT removed_at FROM guilds WHERE guild_id = ?", (guild_id,)
    ).fetchone()
    return row is not None and row[0] is not None
