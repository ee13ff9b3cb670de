"""`newsbot run` / `sync-commands` paths through the fake Discord, and server lifecycle events."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import discord
import pytest

from bot.cli.sync_commands import sync
from bot.discord.app import main
from bot.settings import Settings
from bot.store.db import Store
from tests.fake_discord import FakeDiscord
from tests.fake_discord.plugin import DiscordEndpoints

pytestmark = pytest.mark.e2e

COMMANDS = "/applications/{application_id}/commands"


@pytest.fixture
def settings(seeds_dir: Path, database: Path | str) -> Settings:
    """The seeds as the articles folder, the store on each engine (`database`)."""
    return Settings.model_validate({"articles_dir": seeds_dir, "database": database})


async def test_rejected_token_raises_login_failure(
    settings: Settings, fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    with pytest.raises(discord.LoginFailure):
        await main(settings, "not-the-token", environ=discord_endpoints.env)


async def test_main_runs_until_sigterm_and_closes_cleanly(
    settings: Settings, fake_discord: FakeDiscord, discord_endpoints: DiscordEndpoints
) -> None:
    guild = fake_discord.add_guild("News Fans", channels=("general",))
    running = asyncio.create_task(
        main(settings, fake_discord.token, environ=discord_endpoints.env, guild_ready_timeout=0.05)
    )
    await fake_discord.wait_ready(within=10)
    await fake_discord.wait_until(
        lambda: bool(fake_discord.requests_to("PUT", COMMANDS)), within=10
    )
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(running, 15)
    assert running.exception() is None
    with Store.open(settings.database) as store:
        assert store.article_count() >= 1  # the articles folder was ingested at start-up
    assert guild.id in fake_discord.guilds


async def test_sync_commands_to_one_guild(
    settings: Settings,
    fake_discord: FakeDiscord,
    discord_endpoints: DiscordEndpoints,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in discord_endpoints.env.items():
        monkeypatch.setenv(key, value)
    guild = fake_discord.add_guild("Test server")
    count = await sync(settings, fake_discord.token, guild.id)
    assert count == 2
    assert {c["name"] for c in fake_discord.commands(guild)} == {"news", "digest"}
    assert fake_discord.identifies == 0  # REST only, no gateway


async def test_cli_run_with_a_rejected_token_exits_with_one_clear_line(
    database: Path | str,
    seeds_dir: Path,
    fake_discord: FakeDiscord,
    discord_endpoints: DiscordEndpoints,
) -> None:
    env = {
        **os.environ,  # with the XDG_DATA_HOME of `database`
        **discord_endpoints.env,
        "DISCORD_TOKEN": "definitely-wrong-token",
        "NEWSBOT_DATABASE": str(database),
        "NEWSBOT_ARTICLES_DIR": str(seeds_dir),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--log-level", "ERROR", "run",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert lines == [
        "newsbot: Discord rejected the bot token (check DISCORD_TOKEN / DISCORD_TOKEN_FILE)"
    ]
    assert b"definitely-wrong-token" not in out + err
