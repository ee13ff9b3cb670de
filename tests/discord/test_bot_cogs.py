"""Command structure: every extension loads, names match DESIGN.md, nothing collides."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from discord import app_commands

from bot.discord.app import NewsBot, commands_hash
from bot.discord.cogs import match_choices, resolve_topic, suggest
from bot.settings import Settings
from bot.store.async_store import AsyncStore
from bot.store.db import Store
from bot.store.guilds import GuildDefaults

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
async def bot(store: Store, settings: Settings) -> AsyncIterator[NewsBot]:
    astore = AsyncStore(store, GuildDefaults.from_settings(settings))
    news_bot = NewsBot(
        settings=settings,
        store=astore,
        index=None,
        clock=lambda: datetime(2025, 1, 1, tzinfo=UTC),
        auto_sync=False,
    )
    from bot.discord.cogs.digest import DigestCog
    from bot.discord.cogs.news import NewsCog

    await news_bot.add_cog(NewsCog(news_bot.context))
    await news_bot.add_cog(DigestCog(news_bot.context))
    yield news_bot
    astore.close()


def leaves(
    command: app_commands.Command[Any, Any, Any] | app_commands.Group | app_commands.ContextMenu,
    prefix: str = "",
) -> list[str]:
    name = f"{prefix}{command.name}"
    if isinstance(command, app_commands.Group):
        return [leaf for child in command.commands for leaf in leaves(child, name + " ")]
    return [name]


async def test_commands_match_the_design(bot: NewsBot) -> None:
    names = sorted(leaf for c in bot.tree.get_commands() for leaf in leaves(c))
    assert names == sorted(
        [
            "news search", "news top", "news topics", "news help", "news why",
            "digest channel", "digest topics add", "digest topics remove", "digest topics list",
            "digest schedule", "digest settings", "digest pause", "digest resume", "digest now",
            "digest preview", "digest show",
        ]
    )  # fmt: skip
    assert len(names) == len(set(names))
    digest = bot.tree.get_command("digest")
    assert isinstance(digest, app_commands.Group)
    assert digest.default_permissions is not None
    assert digest.default_permissions.manage_guild
    assert digest.guild_only


async def test_command_hash_is_stable(bot: NewsBot) -> None:
    assert commands_hash(bot.tree) == commands_hash(bot.tree)


def test_autocomplete_helpers_limit_and_match() -> None:
    names = [f"Topic {n}" for n in range(60)] + ["AI", "Diablo 4"]
    assert len(match_choices("", names)) == 25
    assert [c.value for c in match_choices("dia", names)] == ["Diablo 4"]
    assert resolve_topic("  diablo 4 ", names) == "Diablo 4"
    assert resolve_topic("Diablo 5", names) is None
    assert "Diablo 4" in suggest("Diablo 5", names)


async def test_readme_documents_every_slash_command_and_option(bot: NewsBot) -> None:
    readme = README.read_text(encoding="utf-8")  # small file, read once
    undocumented = []
    for top in bot.tree.get_commands():
        for leaf in leaves(top):
            if f"`/{leaf}`" not in readme:
                undocumented.append(f"/{leaf}")
            command = bot.tree.get_command(leaf.split()[0])
            for part in leaf.split()[1:]:
                assert isinstance(command, app_commands.Group)
                command = command.get_command(part)
            assert isinstance(command, app_commands.Command)
            undocumented += [
                f"/{leaf} {p.name}" for p in command.parameters if f"`{p.name}`" not in readme
            ]
    assert undocumented == []
