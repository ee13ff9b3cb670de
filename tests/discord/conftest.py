"""Fixtures of the bot's tests: a real SQLite store in tmp_path and settings pointing there."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings
from bot.store.guilds import GuildDefaults


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.model_validate(
        {"articles_dir": tmp_path / "articles", "database": tmp_path / "db" / "newsbot.sqlite3"}
    )


@pytest.fixture
def defaults(settings: Settings) -> GuildDefaults:
    return GuildDefaults.from_settings(settings)
