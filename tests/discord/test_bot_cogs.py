"""Command structure: every extension loads, names match DESIGN.md, nothing collides."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from discord import app_commands

from bot.core.server_settings import SERVER_SETTINGS
from bot.discord.app import NewsBot, commands_hash
from bot.discord.cogs import match_choices, resolve_topic, suggest
from bot.settings import ConfigError, Settings, load_settings
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


def _options(bot: NewsBot, path: str) -> dict[str, dict[str, Any]]:
    """The options of one `/digest …` command as Discord receives them, by name."""
    (digest,) = [c for c in bot.tree.get_commands() if c.name == "digest"]
    body = digest.to_dict(bot.tree)
    for part in path.split():
        body = next(o for o in body["options"] if o["name"] == part)
    return {o["name"]: o for o in body["options"]}


async def test_digest_options_keep_the_designed_ranges(bot: NewsBot) -> None:
    options = _options(bot, "settings")
    assert list(options) == [
        "per_topic",
        "min_quality",
        "max_per_provider",
        "lookback_hours",
        "silent",
    ]
    assert (options["per_topic"]["min_value"], options["per_topic"]["max_value"]) == (1, 10)
    assert (options["min_quality"]["min_value"], options["min_quality"]["max_value"]) == (0, 189)
    assert not any(o["required"] for o in options.values())
    schedule = _options(bot, "schedule")
    assert [(n, o["required"]) for n, o in schedule.items()] == [
        ("time", True), ("timezone", True), ("weekdays", False),
    ]  # fmt: skip
    assert schedule["timezone"]["autocomplete"]


async def test_each_number_option_accepts_exactly_what_the_config_accepts(
    bot: NewsBot, tmp_path: Path
) -> None:
    """A server can pick any value an operator can make its default, and nothing else."""
    numbers = [o for o in _options(bot, "settings").values() if o["type"] == 4]  # INTEGER
    assert len(numbers) == 4
    for option in numbers:
        key = SERVER_SETTINGS[option["name"]].config
        assert key is not None, option["name"]
        section, _, name = key.partition(".")
        low, high = option["min_value"], option["max_value"]

        def load(value: int, section: str = section, name: str = name) -> Settings:
            path = tmp_path / "newsbot.yaml"
            path.write_text(f"{section}:\n  {name}: {value}\n", encoding="utf-8")
            return load_settings(path, environ={})

        for accepted in (low, high):
            assert getattr(getattr(load(accepted), section), name) == accepted
        for refused, why in (
            (low - 1, f"greater than or equal to {low}"),
            (high + 1, f"less than or equal to {high}"),
        ):
            with pytest.raises(ConfigError, match=f"{key}: Input should be {why}"):
                load(refused)
