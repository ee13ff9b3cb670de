"""Fixtures of the bot's tests: a real store (SQLite in tmp_path, or PostgreSQL) and settings pointing there."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings
from bot.store.guilds import GuildDefaults


@pytest.fixture
def settings(tmp_path: Path, database: Path | str) -> Settings:
    """Settings on the test's store (`database`: each engine in turn)."""
    return Settings.model_validate({"articles_dir": tmp_path / "articles", "database": database})


@pytest.fixture
def defaults(settings: Settings) -> GuildDefaults:
    return GuildDefaults.from_settings(settings)
